//! Cross-cutting correctness tests through the public API: per class positives, hard
//! negatives and validator edge cases; bodies of each kind; limits; a proptest that no input
//! panics or exceeds the cap; and an ignored throughput check.

use super::*;

const JWT: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1c2VyLTgyOSIsImlzcyI6Imh0dHBzOi8vYXV0aC5hY21lLmlvIiwiZXhwIjoxODkzNDU2MDAwLCJlbWFpbCI6ImFubkBhY21lLmlvIn0.Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG8";
const JWT_IO_SAMPLE: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
const AWS_ID: &str = "AKIAZ7VQ2XK4M3NPLR5T";
const AWS_SECRET: &str = "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";
const GH: &str = "ghp_R2v7Kq9LmN4pX8sT1wY6zB3cD5fG0hJ2kQ9a";
const SLACK: &str = "xoxb-2048518293-3981725648271-Qw8eRt7yUi6oP5aS4dF3gH2j";
const HOOK: &str =
    "https://hooks.slack.com/services/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";
const STRIPE: &str = "sk_live_51HqL8yKz3Bv7Nw2Qx9Rt4Ms6";
const GOOGLE: &str = "AIzaSyD4kX9mQ2vR7tN1pL8sW3yB6cF0hJ5gK2a";
const BCRYPT: &str = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW";

fn det() -> Detector {
    Detector::new(&SensitiveConfig::default()).unwrap()
}

fn det_with(f: impl FnOnce(&mut SensitiveConfig)) -> Detector {
    let mut c = SensitiveConfig::default();
    f(&mut c);
    Detector::new(&c).unwrap()
}

fn text(d: &Detector, t: &str) -> Vec<Detection> {
    let mut out = Vec::new();
    d.scan_body(
        Location::ResponseBody,
        Some("text/plain"),
        t.as_bytes(),
        &mut out,
    );
    out
}

fn json(d: &Detector, t: &str) -> Vec<Detection> {
    let mut out = Vec::new();
    d.scan_body(
        Location::RequestBody,
        Some("application/json"),
        t.as_bytes(),
        &mut out,
    );
    out
}

/// (type, field, raw) triples.
fn triples(v: &[Detection]) -> Vec<(String, String, String)> {
    v.iter()
        .map(|d| (d.kind.name().to_owned(), d.field.clone(), d.raw.clone()))
        .collect()
}

fn has(v: &[Detection], kind: &str, raw: &str) -> bool {
    v.iter().any(|d| d.kind.name() == kind && d.raw == raw)
}

fn kinds(v: &[Detection]) -> Vec<&str> {
    v.iter().map(|d| d.kind.name()).collect()
}

/// Each sample found alone, as text and inside a sentence, with exactly `raw`.
fn assert_found(kind: &str, samples: &[&str]) {
    let d = det();
    for s in samples {
        for t in [
            s.to_string(),
            format!("see: {s}, thanks"),
            format!("\"{s}\""),
        ] {
            let got = text(&d, &t);
            assert!(
                has(&got, kind, s),
                "{kind} not found in {t:?}: {:?}",
                triples(&got)
            );
        }
    }
}

/// None of the samples yields `kind`.
fn assert_not_found(kind: &str, samples: &[&str]) {
    let d = det();
    for s in samples {
        let got = text(&d, s);
        assert!(
            !got.iter().any(|x| x.kind.name() == kind),
            "{kind} wrongly found in {s:?}: {:?}",
            triples(&got)
        );
    }
}

// ------------------------------------------------------------------ e-mail

#[test]
fn email_positives() {
    assert_found(
        "email",
        &[
            "john.doe@acme.io",
            "Jane+tag@mail.acme.co.uk",
            "x_y-z@sub.domain.de",
            "12345@qq.com",
            "ops@acme.dev",
        ],
    );
}

#[test]
fn email_negatives() {
    assert_not_found(
        "email",
        &[
            "user@localhost",
            "a@b.c1",
            "logo@2x.png and icon@3x.jpg",
            "git@github.com:org/repo.git",
            "follow @acme",
            "npm i lodash@4.17.21",
            "https://bob:pw@host.acme.io/",
            "root@server.internal",
            "x@y.local",
        ],
    );
}

#[test]
fn example_domains_are_test_data() {
    let got = text(&det(), "contact jane@example.com or ops@mail.example.org");
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|d| d.test_data));
}

// ------------------------------------------------------------------ cards

#[test]
fn card_positives() {
    assert_found(
        "credit_card",
        &[
            "4526018159083012",
            "4661 3186 0913 3",
            "4909 9603 0824 6281 946",
            "5382199351819096",
            "2221378657975438",
            "2720231948757493",
            "341186252760181",
            "379555979711476",
            "6011104974650750",
            "6529170342366713",
            "3530276842684655",
            "36632122330796",
            "6224402685995289",
            "6759907866661768",
            "2200031372159011",
            "4526 0181 5908 3012",
            "4526-0181-5908-3012",
            "3411 862527 60181",
        ],
    );
}

#[test]
fn test_cards_are_flagged() {
    let d = det();
    for c in [
        "4111111111111111",
        "4242 4242 4242 4242",
        "5555555555554444",
        "378282246310005",
    ] {
        let got = text(&d, c);
        assert_eq!(got.len(), 1, "{c}");
        assert_eq!(got[0].kind, DataType::CreditCard);
        assert!(got[0].test_data, "{c}");
    }
    let d = det_with(|c| c.report_test_data = false);
    assert!(text(&d, "4111111111111111").is_empty());
    assert_eq!(text(&d, "4526018159083012").len(), 1);
}

#[test]
fn card_negatives() {
    assert_not_found(
        "credit_card",
        &[
            "4526018159083013",                         // Luhn
            "1700000000000",                            // ms timestamp
            "17000000000000000",                        // 17 digits
            "45260181590830121",                        // longer run around a valid one
            "945260181590830120",                       // prefix digit
            "123e4567-e89b-12d3-a456-426614174000",     // UUID
            "da39a3ee5e6b4b0d3255bfef95601890afd80709", // sha1
            "id4526018159083012",                       // glued to letters
            "4526018159083012abc",
            "4526 0181 5908 30121", // inconsistent last group
            "4526-0181 5908-3012",  // mixed separators
            "45 2601 8159 0830 12", // bad grouping
            "9999999999999995",     // no issuer
            "589309281592",         // 12-digit Maestro without context
            "4661318609133",        // bare 13 digits: ids, not cards
            "4909960308246281946",  // bare 19 digits: int64 ids
            "3.14159265358979",
            "4526018159083012.5",
        ],
    );
    // Bare digit runs in id-like fields are not cards; in card fields they are.
    let d = det();
    assert!(json(
        &d,
        r#"{"order_id": 4526018159083012, "ts": "4526018159083012"}"#
    )
    .is_empty());
    let got = json(
        &d,
        r#"{"card_number": "589309281592", "pan": 4909960308246281946}"#,
    );
    assert_eq!(kinds(&got), vec!["credit_card", "credit_card"]);
    // JSON numbers are ids unless the field says card.
    assert!(json(&d, r#"{"value": 4526018159083012}"#).is_empty());
    // A field named just `number` is not id-like (card objects use it): a string there is
    // checked like text, so a valid card is found and an invalid one is not; compound
    // `*_number` names stay id-like.
    let got = json(&d, r#"{"number": "4836366393134892"}"#);
    assert_eq!(kinds(&got), vec!["credit_card"]);
    assert!(json(&d, r#"{"number": "4836366393134893"}"#).is_empty());
    assert!(json(&d, r#"{"number": 4836366393134892}"#).is_empty());
    assert!(json(&d, r#"{"order_number": "4836366393134892"}"#).is_empty());
}

#[test]
fn card_in_longer_space_run() {
    let got = text(&det(), "card 4526 0181 5908 3012 2 items");
    assert!(
        has(&got, "credit_card", "4526 0181 5908 3012"),
        "{:?}",
        triples(&got)
    );
    let got = text(&det(), "qty 12 4526 0181 5908 3012");
    assert!(
        has(&got, "credit_card", "4526 0181 5908 3012"),
        "{:?}",
        triples(&got)
    );
}

// ------------------------------------------------------------------ SSN

#[test]
fn ssn_positives() {
    assert_found("us_ssn", &["536-22-1947", "219-45-6712"]);
    let d = det();
    for body in [
        r#"{"ssn": "536221947"}"#,
        r#"{"ssn": 536221947}"#,
        r#"{"social_security_number": "536 22 1947"}"#,
        r#"{"SSN": "536-22-1947"}"#,
        r#"{"taxpayer_id": "536221947"}"#,
        r#"{"tin": "536-22-1947"}"#,
    ] {
        let got = json(&d, body);
        assert_eq!(kinds(&got), vec!["us_ssn"], "{body}");
    }
}

#[test]
fn ssn_negatives() {
    assert_not_found(
        "us_ssn",
        &[
            "000-12-3456",
            "666-12-3456",
            "900-12-3456",
            "999-12-3456",
            "536-00-1947",
            "536-22-0000",
            "078-05-1120",
            "123-45-6789",
            "536221947", // no dashes, no context
            "536-22-19470",
            "a536-22-1947",
            "2024-01-15",
        ],
    );
    let d = det();
    assert!(json(&d, r#"{"ssn": "078051120"}"#).is_empty());
    assert!(json(&d, r#"{"ssn_last4": "1947"}"#).is_empty());
    assert!(json(&d, r#"{"zip": "536221947"}"#).is_empty());
}

// ------------------------------------------------------------------ phone

#[test]
fn phone_positives() {
    assert_found(
        "phone",
        &[
            "+14155552671",
            "(415) 555-2671",
            "+44 20 7946 0958",
            "415-555-2671",
            "+1 (415) 555-2671",
            "1-415-555-2671",
        ],
    );
    let d = det();
    for body in [
        r#"{"phone": "4155552671"}"#,
        r#"{"mobile": "020 7946 0958"}"#,
        r#"{"phoneNumber": 4155552671}"#,
        r#"{"contact": {"tel": "+33 6 12 34 56 78"}}"#,
        r#"{"phones": ["415.555.2671"]}"#,
    ] {
        let got = json(&d, body);
        assert_eq!(kinds(&got), vec!["phone"], "{body}");
    }
}

#[test]
fn phone_negatives() {
    assert_not_found(
        "phone",
        &[
            "1700000000",       // timestamp
            "order 4155552671", // bare run without context
            "20240115123045",
            "+1700000000",
            "415.555.2671",   // dotted without context
            "115-555-2671",   // invalid area code
            "(415) 155-2671", // invalid exchange
            "v+14155552671",
            "ISBN 978-0-306-40615-7",
        ],
    );
    let d = det();
    assert!(json(
        &d,
        r#"{"count": "4155552671", "phone_verified": true, "phone": "n/a"}"#
    )
    .is_empty());
    assert!(json(&d, r#"{"phone": "12345"}"#).is_empty());
}

#[test]
fn fictional_phone_numbers_are_test_data() {
    let got = text(&det(), "call (415) 555-0123");
    assert_eq!(got.len(), 1);
    assert!(got[0].test_data);
}

// ------------------------------------------------------------------ IBAN

#[test]
fn iban_positives() {
    assert_found(
        "iban",
        &[
            "DE44500105175407324931",
            "FR5630006000014567890123456",
            "GB84BARC20031841234567",
            "NL44RABO0123456789",
            "ES6621000418401234567891",
            "CH5604835012345678009",
            "DE44 5001 0517 5407 3249 31",
        ],
    );
    let got = text(&det(), "IBAN GB82WEST12345698765432");
    assert_eq!(got.len(), 1);
    assert!(got[0].test_data);
}

#[test]
fn iban_negatives() {
    assert_not_found(
        "iban",
        &[
            "DE44500105175407324932",  // checksum
            "DE4450010517540732493",   // length
            "DE445001051754073249311", // length
            "XX44500105175407324931",  // country
            "ADE44500105175407324931", // glued
            "de44500105175407324931",
        ],
    );
}

// ------------------------------------------------------------------ JWT

#[test]
fn jwt_positives() {
    assert_found("jwt", &[JWT, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."]);
    let got = text(&det(), JWT_IO_SAMPLE);
    assert_eq!(kinds(&got), vec!["jwt"]);
    assert!(got[0].test_data);
}

#[test]
fn jwt_negatives() {
    assert_not_found(
        "jwt",
        &[
            "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24gYXQgYWxs.c2ln", // payload not JSON
            "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJhIn0.c2ln",        // header without alg
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0",           // two segments
            "eyJmb28iOiJiYXIifQ==",                           // base64 JSON, not a JWT
            "xeyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.",     // glued
        ],
    );
}

#[test]
fn bearer_jwt_in_authorization_header() {
    let d = det();
    let mut out = Vec::new();
    let auth = format!("Bearer {JWT}");
    d.scan_headers(
        Location::RequestHeader,
        &[
            ("Authorization", auth.as_bytes()),
            ("Content-Type", b"application/json"),
        ],
        &mut out,
    );
    assert_eq!(
        triples(&out),
        vec![("jwt".into(), "authorization".into(), JWT.into())]
    );
    assert_eq!(out[0].location.name(), "request.header");
}

// ------------------------------------------------------------------ cloud keys

#[test]
fn aws_keys() {
    assert_found("aws_access_key", &[AWS_ID, "ASIAY34FZKBOKMUTVV7A"]);
    assert_not_found(
        "aws_access_key",
        &[
            "AKIAIOSFODNN7EXAMPLE",
            "AKIAZ7VQ2XK4M3NPLR5",
            "xAKIAZ7VQ2XK4M3NPLR5T",
        ],
    );
    // The secret is found only near an id or a context name.
    let creds =
        format!("[default]\naws_access_key_id = {AWS_ID}\naws_secret_access_key = {AWS_SECRET}\n");
    let got = text(&det(), &creds);
    assert!(has(&got, "aws_access_key", AWS_ID), "{:?}", triples(&got));
    assert!(
        has(&got, "aws_secret_key", AWS_SECRET),
        "{:?}",
        triples(&got)
    );
    assert_eq!(got.len(), 2, "{:?}", triples(&got));
    let got = text(&det(), &format!("blob {AWS_SECRET} end"));
    assert!(got.is_empty(), "{:?}", triples(&got));
    let got = text(
        &det(),
        "key AKIAIOSFODNN7EXAMPLE secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    );
    assert!(got.is_empty(), "{:?}", triples(&got));
    // Hex hashes of the same length are never secrets.
    let got = text(
        &det(),
        &format!("{AWS_ID} da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    );
    assert_eq!(kinds(&got), vec!["aws_access_key"]);
}

#[test]
fn aws_secret_in_json() {
    let d = det();
    let got = json(
        &d,
        &format!(
            r#"{{"Credentials": {{"AccessKeyId": "{AWS_ID}", "SecretAccessKey": "{AWS_SECRET}"}}}}"#
        ),
    );
    assert!(
        has(&got, "aws_secret_key", AWS_SECRET),
        "{:?}",
        triples(&got)
    );
    // Generic `secret` field: aws_secret_key only when an id is in the same body.
    let got = json(
        &d,
        &format!(r#"{{"secret": "{AWS_SECRET}", "id": "{AWS_ID}"}}"#),
    );
    assert!(
        has(&got, "aws_secret_key", AWS_SECRET),
        "{:?}",
        triples(&got)
    );
    let got = json(&d, &format!(r#"{{"secret": "{AWS_SECRET}"}}"#));
    assert_eq!(kinds(&got), vec!["secret"]);
    // In a field named for it, a key without a digit (one in a thousand) is still one.
    let no_digit = "+SBq+tpxMjToiROUsJvwPfHfIoINXXeXfHoSPzzW";
    let got = json(&d, &format!(r#"{{"secretAccessKey": "{no_digit}"}}"#));
    assert!(has(&got, "aws_secret_key", no_digit), "{:?}", triples(&got));
}

#[test]
fn saas_tokens() {
    assert_found("github_token", &[GH, "github_pat_11ABCDEFG0a1B2c3D4e5F6_Zq8Zq8Zq8Zq8Zq8Zq8Zq8Zq8Zq8Zq8Zq8Zq8Zq8Zq8Zq8Zq8Zq8Zq8Zq8Zq8Zq8"]);
    assert_not_found(
        "github_token",
        &[
            "ghp_short",
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "xghp_R2v7Kq9LmN4pX8sT1wY6zB3cD5fG0hJ2kQ9a",
        ],
    );
    assert_found("slack_token", &[SLACK, HOOK]);
    assert_not_found(
        "slack_token",
        &[
            "xoxb-",
            "xoxb-abcdefghijklmnop",
            "https://hooks.slack.com/services/",
        ],
    );
    assert_found("stripe_key", &[STRIPE, "rk_live_51HqL8yKz3Bv7Nw2Qx9Rt4Ms6"]);
    assert_not_found(
        "stripe_key",
        &[
            "pk_live_51HqL8yKz3Bv7Nw2Qx9Rt4Ms6",
            "pk_test_51HqL8yKz3Bv7Nw2Qx9Rt4Ms6",
            "sk_live_short",
            "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
        ],
    );
    let got = text(&det(), "sk_test_4eC39HqLyjWDarjtT1zdp7dc");
    assert_eq!(kinds(&got), vec!["stripe_key"]);
    assert!(got[0].test_data);
    assert_found("google_api_key", &[GOOGLE]);
    assert_not_found(
        "google_api_key",
        &[
            "AIzaSyD4kX9mQ2vR7tN1pL8sW3yB6cF0hJ5gK2",
            "AIzaSyD4kX9mQ2vR7tN1pL8sW3yB6cF0hJ5gK2ab",
        ],
    );
}

#[test]
fn private_keys() {
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx7Qm3b9Zf0pQ\n-----END RSA PRIVATE KEY-----";
    let got = text(&det(), &format!("key:\n{pem}\n"));
    assert_eq!(
        triples(&got),
        vec![("private_key".into(), "text".into(), pem.into())]
    );
    // Inside a JSON string (escaped newlines), and truncated.
    let body = r#"{"key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU"#;
    let got = json(&det(), body);
    assert_eq!(kinds(&got), vec!["private_key"]);
    assert_eq!(got[0].field, "$.key");
    for label in ["", "EC ", "DSA ", "ENCRYPTED "] {
        let t = format!("-----BEGIN {label}PRIVATE KEY-----\nMIIEowIBAAKCAQEAx7Qm\n-----END {label}PRIVATE KEY-----");
        assert_eq!(kinds(&text(&det(), &t)), vec!["private_key"], "{label}");
    }
    assert_not_found(
        "private_key",
        &[
            "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
            "-----BEGIN CERTIFICATE-----",
            "paste your -----BEGIN RSA PRIVATE KEY----- here",
        ],
    );
}

// ------------------------------------------------------------------ passwords

#[test]
fn passwords_by_field_name() {
    let d = det();
    let got = json(
        &d,
        r#"{"user": {"login": "bob", "password": "hunter2", "newPassword": "c0rrect-Horse"}, "password_confirmation": "c0rrect-Horse"}"#,
    );
    assert_eq!(
        triples(&got),
        vec![
            (
                "password".into(),
                "$.user.password".into(),
                "hunter2".into()
            ),
            (
                "password".into(),
                "$.user.newPassword".into(),
                "c0rrect-Horse".into()
            ),
            (
                "password".into(),
                "$.password_confirmation".into(),
                "c0rrect-Horse".into()
            ),
        ]
    );
    let got = json(
        &d,
        r#"{"password_policy": "min 8 chars", "password_reset_required": true, "forgot_password": "https://acme.io/forgot",
            "password": "", "passwd": null, "pwd": "********", "passwordHint": "pet name", "password": "${DB_PASSWORD}"}"#,
    );
    assert!(got.is_empty(), "{:?}", triples(&got));
}

#[test]
fn password_hashes() {
    assert_found(
        "password_hash",
        &[
            BCRYPT,
            "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        ],
    );
    let got = json(&det(), &format!(r#"{{"password": "{BCRYPT}"}}"#));
    assert_eq!(kinds(&got), vec!["password_hash"]);
    assert_not_found(
        "password_hash",
        &["costs $1$ each", "$2b$12$short", "US$5$ off"],
    );
}

#[test]
fn basic_auth_yields_password() {
    let d = det();
    let mut out = Vec::new();
    // alice@acme.io:S3cure!pass
    d.scan_headers(
        Location::RequestHeader,
        &[(
            "authorization",
            b"Basic YWxpY2VAYWNtZS5pbzpTM2N1cmUhcGFzcw==",
        )],
        &mut out,
    );
    assert!(has(&out, "password", "S3cure!pass"), "{:?}", triples(&out));
    assert!(has(&out, "email", "alice@acme.io"), "{:?}", triples(&out));
}

// ------------------------------------------------------------------ IPv4 and dates

#[test]
fn ipv4_rules() {
    let d = det();
    let got = json(
        &d,
        r#"{"client_ip": "10.20.30.40", "peer": "198.51.100.7", "msg": "from 8.8.4.4:53"}"#,
    );
    assert!(has(&got, "ipv4", "10.20.30.40"));
    assert!(has(&got, "ipv4", "8.8.4.4"));
    assert!(got.iter().any(|x| x.raw == "198.51.100.7" && x.test_data));
    assert_not_found(
        "ipv4",
        &[
            "v1.2.3.4",
            "version 1.2.3.4",
            "1.2.3.4.5",
            "256.1.1.1",
            "01.2.3.4",
            "127.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "Chrome/120.0.6099.109",
            "10.1.2",
            "2.5.4.3",
            "OID 1.2.3.4",
        ],
    );
    assert!(json(&d, r#"{"version": "1.2.3.4", "app_version": "10.0.0.1"}"#).is_empty());
    // Gecko revisions in user agents, in a user-agent field or in any text.
    let ua = "Mozilla/5.0 (X11; Linux x86_64; rv:1.9.6.20) Gecko/20100101 Firefox/3.8";
    assert!(json(&d, &format!(r#"{{"user_agent": "{ua}", "ua": "{ua}"}}"#)).is_empty());
    assert!(json(&d, &format!(r#"{{"client": "{ua}"}}"#)).is_empty());
    assert!(has(
        &json(&d, r#"{"note": "from rv 1.9.6.20"}"#),
        "ipv4",
        "1.9.6.20"
    ));
    let mut out = Vec::new();
    d.scan_headers(
        Location::RequestHeader,
        &[("x-forwarded-for", b"203.0.113.9, 10.0.0.1")],
        &mut out,
    );
    assert!(out.is_empty());
    let d = det_with(|c| c.ipv4 = false);
    assert!(json(&d, r#"{"ip": "10.20.30.40"}"#).is_empty());
}

#[test]
fn dates_of_birth() {
    let d = det();
    for body in [
        r#"{"dob": "1990-01-31"}"#,
        r#"{"date_of_birth": "31.12.1985"}"#,
        r#"{"birthDate": "12/31/1985"}"#,
        r#"{"patient": {"birthdate": "1985-12-31T00:00:00Z"}}"#,
    ] {
        assert_eq!(kinds(&json(&d, body)), vec!["date_of_birth"], "{body}");
    }
    for body in [
        r#"{"created": "1990-01-31"}"#,
        r#"{"dob": "2099-01-01"}"#,
        r#"{"dob": "1990-02-30"}"#,
        r#"{"birthdate": "unknown"}"#,
    ] {
        assert!(json(&d, body).is_empty(), "{body}");
    }
}

// ------------------------------------------------------------------ secrets by name

#[test]
fn secrets_by_field_name() {
    let d = det();
    let mut out = Vec::new();
    d.scan_headers(
        Location::RequestHeader,
        &[
            ("X-Api-Key", b"9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
            ("Authorization", b"Bearer 4f9c1e7a2b8d5f3e6a0c9b7d1e4f2a8c"),
            ("User-Agent", b"curl/8.5.0"),
            ("X-Request-Id", b"7c9e6679-7425-40de-944b-e07fc1f90ae7"),
        ],
        &mut out,
    );
    assert_eq!(
        triples(&out),
        vec![
            (
                "secret".into(),
                "x-api-key".into(),
                "9f8e7d6c5b4a39281706f5e4d3c2b1a0".into()
            ),
            (
                "secret".into(),
                "authorization".into(),
                "4f9c1e7a2b8d5f3e6a0c9b7d1e4f2a8c".into()
            ),
        ]
    );
    let got = json(
        &d,
        r#"{"csrf_token": "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "next_token": "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "token_type": "bearer", "api_key": "your-api-key"}"#,
    );
    assert!(got.is_empty(), "{:?}", triples(&got));
}

#[test]
fn cookies_are_scanned_by_name() {
    let d = det();
    let mut out = Vec::new();
    let cookie =
        format!("theme=dark; session_token=4f9c1e7a2b8d5f3e6a0c9b7d1e4f2a8c; id_token={JWT}");
    d.scan_headers(
        Location::RequestHeader,
        &[("Cookie", cookie.as_bytes())],
        &mut out,
    );
    assert_eq!(kinds(&out), vec!["secret", "jwt"], "{:?}", triples(&out));
    assert!(out.iter().all(|d| d.field == "cookie"));
}

// ------------------------------------------------------------------ bodies, query, path

#[test]
fn nested_json_paths() {
    let body = r#"{
        "user": {"email": "ann@acme.io", "profile": {"phone": "+14155552671", "ssn": "536-22-1947"}},
        "items": [
            {"sku": "A-1", "card": "4526 0181 5908 3012"},
            {"sku": "B-2", "card": {"number": "5382199351819096"}}
        ],
        "notes": ["ping bob@acme.io", 42, null, true],
        "odd key": "carol@acme.io"
    }"#;
    let got = json(&det(), body);
    assert_eq!(
        triples(&got),
        vec![
            ("email".into(), "$.user.email".into(), "ann@acme.io".into()),
            (
                "phone".into(),
                "$.user.profile.phone".into(),
                "+14155552671".into()
            ),
            (
                "us_ssn".into(),
                "$.user.profile.ssn".into(),
                "536-22-1947".into()
            ),
            (
                "credit_card".into(),
                "$.items[*].card".into(),
                "4526 0181 5908 3012".into()
            ),
            (
                "credit_card".into(),
                "$.items[*].card.number".into(),
                "5382199351819096".into()
            ),
            ("email".into(), "$.notes[*]".into(), "bob@acme.io".into()),
            (
                "email".into(),
                "$[\"odd key\"]".into(),
                "carol@acme.io".into()
            ),
        ]
    );
    assert!(got.iter().all(|d| d.location == Location::RequestBody));
}

#[test]
fn truncated_and_invalid_json() {
    let d = det();
    let full =
        r#"{"a": "ann@acme.io", "b": ["bob@acme.io", "carol@acme.io"], "c": "dave@acme.io"}"#;
    let cut = &full[..full.find("carol").unwrap() + 13]; // cut before the third closing quote
    let mut out = Vec::new();
    let notes = d.scan_body(
        Location::ResponseBody,
        Some("application/json"),
        cut.as_bytes(),
        &mut out,
    );
    assert!(notes.json_truncated);
    assert_eq!(
        triples(&out),
        vec![
            ("email".into(), "$.a".into(), "ann@acme.io".into()),
            ("email".into(), "$.b[*]".into(), "bob@acme.io".into()),
        ]
    );
    assert_eq!(out[1].count, 2, "both elements of $.b are counted");
    let mut out = Vec::new();
    let notes = d.scan_body(
        Location::ResponseBody,
        Some("application/json"),
        b"{\"a\": \"ann@acme.io\", oops: 'bob@acme.io'}",
        &mut out,
    );
    assert!(notes.json_invalid);
    assert_eq!(
        triples(&out),
        vec![
            ("email".into(), "$.a".into(), "ann@acme.io".into()),
            ("email".into(), "text".into(), "bob@acme.io".into()),
        ]
    );
}

#[test]
fn form_bodies() {
    let d = det();
    let mut out = Vec::new();
    d.scan_body(
        Location::RequestBody,
        Some("application/x-www-form-urlencoded; charset=UTF-8"),
        b"username=bob&email=bob%40acme.io&password=hunter2%21&remember=on&card=4526+0181+5908+3012",
        &mut out,
    );
    assert_eq!(
        triples(&out),
        vec![
            ("email".into(), "email".into(), "bob@acme.io".into()),
            ("password".into(), "password".into(), "hunter2!".into()),
            (
                "credit_card".into(),
                "card".into(),
                "4526 0181 5908 3012".into()
            ),
        ]
    );
}

#[test]
fn query_strings_with_percent_encoding() {
    let d = det();
    let mut out = Vec::new();
    d.scan_query(
        Location::RequestQuery,
        "?email=ann%40acme.io&api_key=9f8e7d6c5b4a39281706f5e4d3c2b1a0&phone=%2B14155552671&ip=10.1.2.3&page=2#frag",
        &mut out,
    );
    assert_eq!(
        triples(&out),
        vec![
            ("email".into(), "email".into(), "ann@acme.io".into()),
            (
                "secret".into(),
                "api_key".into(),
                "9f8e7d6c5b4a39281706f5e4d3c2b1a0".into()
            ),
            ("phone".into(), "phone".into(), "+14155552671".into()),
            ("ipv4".into(), "ip".into(), "10.1.2.3".into()),
        ]
    );
    assert!(out.iter().all(|d| d.location.name() == "request.query"));
}

#[test]
fn path_segments() {
    let d = det();
    let mut out = Vec::new();
    d.scan_path(
        "/users/ann%40acme.io/cards/4526018159083012/hosts/10.1.2.3?x=1",
        &mut out,
    );
    assert_eq!(
        triples(&out),
        vec![
            ("email".into(), "path[1]".into(), "ann@acme.io".into()),
            (
                "credit_card".into(),
                "path[3]".into(),
                "4526018159083012".into()
            ),
        ]
    );
    assert!(out.iter().all(|d| d.location.name() == "request.path"));
}

#[test]
fn referer_query_is_decoded() {
    let d = det();
    let mut out = Vec::new();
    d.scan_headers(
        Location::RequestHeader,
        &[(
            "Referer",
            b"https://shop.acme.io/checkout?email=ann%40acme.io&step=2",
        )],
        &mut out,
    );
    assert_eq!(
        triples(&out),
        vec![("email".into(), "referer".into(), "ann@acme.io".into())]
    );
}

#[test]
fn xml_and_key_value_text() {
    let d = det();
    let got = text(
        &d,
        "<login><user>bob</user><password>s3cr3t!</password></login>",
    );
    assert_eq!(
        triples(&got),
        vec![("password".into(), "password".into(), "s3cr3t!".into())]
    );
    // Element content is data: passwords that would read as code in free text
    // (`&x`, `U7(`) are passwords in `<password>…</password>`, but not in `password = …`.
    let got = text(
        &d,
        "<r><pwd>&amp;4#xAFCgJC6</pwd><passwd>U7(jp(oP(XiS</passwd></r>",
    );
    assert_eq!(
        kinds(&got),
        vec!["password", "password"],
        "{:?}",
        triples(&got)
    );
    assert!(text(&d, "password = U7(jp(oP(XiS);\npasswd: &buf;").is_empty());
    assert!(text(&d, "<password>U7(jp</pwd>").is_empty());
    let got = text(
        &d,
        "DB_PASSWORD=pa55w0rd\nAPI_TOKEN=4f9c1e7a2b8d5f3e6a0c9b7d1e4f2a8c\n",
    );
    assert_eq!(
        kinds(&got),
        vec!["password", "secret"],
        "{:?}",
        triples(&got)
    );
}

#[test]
fn multipart_form_bodies() {
    let d = det();
    let body = b"--b0undary\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nann@acme.io\r\n\
--b0undary\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nhunter2!\r\n\
--b0undary\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"cv.txt\"\r\nContent-Type: text/plain\r\n\r\nphone: +14155552671\r\n\
--b0undary\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.png\"\r\n\r\n\x89PNG\0\0bob@acme.io\r\n\
--b0undary--\r\n";
    let mut out = Vec::new();
    let notes = d.scan_body(
        Location::RequestBody,
        Some("multipart/form-data; boundary=b0undary"),
        body,
        &mut out,
    );
    assert_eq!(
        triples(&out),
        vec![
            ("email".into(), "email".into(), "ann@acme.io".into()),
            ("password".into(), "password".into(), "hunter2!".into()),
            ("phone".into(), "cv".into(), "+14155552671".into()),
        ]
    );
    assert!(notes.binary_skipped);
}

#[test]
fn graphql_and_urls_inside_json_values() {
    let d = det();
    let got = json(
        &d,
        r#"{"query": "mutation { login(username: \"bob\", password: \"hunter2\") { token } }",
            "callback": "https://app.acme.io/cb?state=1&access_token=4f9c1e7a2b8d5f3e6a0c9b7d1e4f2a8c"}"#,
    );
    assert_eq!(
        triples(&got),
        vec![
            ("password".into(), "$.query".into(), "hunter2".into()),
            (
                "secret".into(),
                "$.callback".into(),
                "4f9c1e7a2b8d5f3e6a0c9b7d1e4f2a8c".into()
            ),
        ]
    );
    // Short values with separators (timestamps) are not read as pairs.
    assert!(json(&d, r#"{"t": "2024-01-15T10:00:00Z", "r": "a=b"}"#).is_empty());
}

#[test]
fn benign_traffic_reports_nothing() {
    let d = det();
    let mut out = Vec::new();
    d.scan_headers(
        Location::RequestHeader,
        &[
            ("User-Agent", b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36"),
            ("Accept", b"application/json"),
            ("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            ("X-Amzn-Trace-Id", b"Root=1-5759e988-bd862e3fe1be46a994272793"),
            ("X-Request-Id", b"4526018159083012"),
            ("If-None-Match", b"\"33a64df551425fcc55e4d42a148795d9f25f89d4\""),
            ("Cookie", b"sessionid=abc; theme=dark; _ga=GA1.2.1234567890.1700000000"),
            ("X-Forwarded-For", b"203.0.113.9, 10.0.0.1"),
            ("Server-Timing", b"db;dur=53, app;dur=47.2"),
        ],
        &mut out,
    );
    assert!(out.is_empty(), "{:?}", triples(&out));
    let got = json(
        &d,
        r#"{"id": 123, "created_at": "2024-01-15T10:00:00Z", "uuid": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
            "sha": "da39a3ee5e6b4b0d3255bfef95601890afd80709", "version": "1.2.3.4", "price": 19.99,
            "count": 4155552671, "ts": 1700000000000, "order_no": "4526018159083013", "tracking": "1Z999AA10123456784",
            "amount": 4526018159083012, "md5": "5f4dcc3b5aa765d61d8327deb882cf99", "status": "password reset email sent",
            "nonce": "n-0S6_WzA2Mj", "etag": "W/\"0815\"", "zip": "94105", "isbn": "978-3-16-148410-0"}"#,
    );
    assert!(got.is_empty(), "{:?}", triples(&got));
}

#[test]
fn binary_bodies_are_skipped() {
    let d = det();
    let mut out = Vec::new();
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(b"ann@acme.io");
    let notes = d.scan_body(Location::ResponseBody, Some("image/png"), &png, &mut out);
    assert!(notes.binary_skipped && out.is_empty());
    let notes = d.scan_body(Location::ResponseBody, None, &png, &mut out);
    assert!(notes.binary_skipped && out.is_empty());
}

#[test]
fn empty_bodies_note_nothing() {
    let d = det();
    let mut out = Vec::new();
    for ct in [
        Some("image/png"),
        Some("application/json"),
        Some("text/plain"),
        None,
    ] {
        let notes = d.scan_body(Location::ResponseBody, ct, b"", &mut out);
        assert_eq!(notes, ScanNotes::default(), "{ct:?}");
    }
    assert!(out.is_empty());
}

/// A large body as it comes out of gzip: many records, mixed types.
fn big_body(records: usize) -> String {
    let mut s = String::from("{\"data\":[");
    for i in 0..records {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            r#"{{"id":{i},"uuid":"7c9e6679-7425-40de-944b-{i:012}","created_at":"2024-01-15T10:{m:02}:00Z","price":{p}.99,"sha":"da39a3ee5e6b4b0d3255bfef95601890afd8{i:04}","tags":["a","b"],"contact":{{"email":"user{i}@acme.io","phone":"+1415555{n:04}"}},"note":"order {o} shipped v1.2.{m}","active":true}}"#,
            m = i % 60,
            p = i % 1000,
            n = 2000 + i % 7000,
            o = 1_000_000_000 + i,
        ));
    }
    s.push_str("]}");
    s
}

#[test]
fn big_body_folds_array_elements_and_counts_every_value() {
    let body = big_body(3000);
    assert!(body.len() > 700_000);
    let d = det();
    let mut out = Vec::new();
    let notes = d.scan_body(
        Location::ResponseBody,
        Some("application/json"),
        body.as_bytes(),
        &mut out,
    );
    assert_eq!(notes, ScanNotes::default());
    let got: Vec<(&str, &str, u32)> = out
        .iter()
        .map(|d| (d.kind.name(), d.field.as_str(), d.count))
        .collect();
    assert_eq!(
        got,
        vec![
            ("email", "$.data[*].contact.email", 3000),
            ("phone", "$.data[*].contact.phone", 3000),
        ]
    );
    // The first value stands for the group.
    assert_eq!(out[0].raw, "user0@acme.io");
}

#[test]
fn detections_are_capped_per_transaction() {
    // Distinct values outside arrays are one detection each: a text body of many addresses.
    let text: String = (0..500)
        .map(|i| format!("mail user{i}@acme.io now. "))
        .collect();
    let d = det();
    let mut out = Vec::new();
    let notes = d.scan_body(
        Location::ResponseBody,
        Some("text/plain"),
        text.as_bytes(),
        &mut out,
    );
    assert_eq!(out.len(), 64);
    assert!(notes.detections_capped);
    let d = det_with(|c| c.max_detections_per_tx = 100_000);
    let mut out = Vec::new();
    let notes = d.scan_body(
        Location::ResponseBody,
        Some("text/plain"),
        text.as_bytes(),
        &mut out,
    );
    assert_eq!(notes, ScanNotes::default());
    assert_eq!(out.len(), 500);
    assert!(out.iter().all(|d| d.count == 1 && d.field == "text"));
}

// ------------------------------------------------------------------ limits and policy

#[test]
fn limits_set_notes() {
    let d = det_with(|c| {
        c.max_values = 3;
        c.max_json_depth = 2;
    });
    let mut out = Vec::new();
    let notes = d.scan_body(
        Location::RequestBody,
        Some("application/json"),
        br#"{"a":{"b":{"c":1}},"d":[1,2,3,4]}"#,
        &mut out,
    );
    assert!(notes.values_capped && notes.depth_capped);
    let d = det_with(|c| c.max_scan_bytes = 8);
    let notes = d.scan_body(
        Location::RequestBody,
        Some("text/plain"),
        b"ann@acme.io",
        &mut out,
    );
    assert!(notes.bytes_capped);
    assert!(out.is_empty());
}

#[test]
fn duplicates_are_reported_once_per_field() {
    let d = det();
    let got = json(
        &d,
        r#"{"a": "ann@acme.io ann@acme.io", "b": "ann@acme.io"}"#,
    );
    assert_eq!(triples(&got).len(), 2);
    let mut out = Vec::new();
    d.scan_body(Location::RequestBody, None, b"ann@acme.io", &mut out);
    d.scan_body(Location::RequestBody, None, b"ann@acme.io", &mut out);
    d.scan_body(Location::ResponseBody, None, b"ann@acme.io", &mut out);
    assert_eq!(out.len(), 2);
}

#[test]
fn disabled_types_and_bad_config() {
    let d = det_with(|c| c.disabled_types = vec!["email".into()]);
    assert!(text(&d, "ann@acme.io").is_empty());
    let c = SensitiveConfig {
        disabled_types: vec!["emails".into()],
        ..SensitiveConfig::default()
    };
    assert!(matches!(
        Detector::new(&c),
        Err(RuleError::UnknownType { .. })
    ));
    let c = SensitiveConfig {
        custom_rules: vec![CustomRule {
            name: "broken".into(),
            field_pattern: None,
            value_pattern: Some("[".into()),
            severity: "low".into(),
        }],
        ..SensitiveConfig::default()
    };
    let err = Detector::new(&c).unwrap_err();
    assert!(err.to_string().contains("\"broken\""), "{err}");
}

#[test]
fn custom_rules_through_the_detector() {
    let d = det_with(|c| {
        c.custom_rules = vec![
            CustomRule {
                name: "employee_id".into(),
                field_pattern: None,
                value_pattern: Some(r"\bEMP-[0-9]{6}\b".into()),
                severity: "high".into(),
            },
            CustomRule {
                name: "internal_note".into(),
                field_pattern: Some("(?i)^(internal_?notes?|x-internal-note)$".into()),
                value_pattern: None,
                severity: "low".into(),
            },
        ]
    });
    let got = json(
        &d,
        r#"{"staff": {"id": "EMP-123456"}, "internal_note": "VIP", "other": "EMP-12345"}"#,
    );
    assert_eq!(
        triples(&got),
        vec![
            (
                "employee_id".into(),
                "$.staff.id".into(),
                "EMP-123456".into()
            ),
            (
                "internal_note".into(),
                "$.internal_note".into(),
                "VIP".into()
            ),
        ]
    );
    assert_eq!(got[0].kind.severity(), Severity::High);
    let mut out = Vec::new();
    d.scan_headers(
        Location::ResponseHeader,
        &[("X-Internal-Note", b"escalated")],
        &mut out,
    );
    assert_eq!(kinds(&out), vec!["internal_note"]);
    assert_eq!(kinds(&text(&d, "ref EMP-654321.")), vec!["employee_id"]);
}

#[test]
fn names_match_the_event_contract() {
    let names: Vec<&str> = DataType::BUILTIN.iter().map(DataType::name).collect();
    for n in [
        "email",
        "credit_card",
        "us_ssn",
        "phone",
        "iban",
        "jwt",
        "aws_access_key",
        "aws_secret_key",
        "github_token",
        "slack_token",
        "stripe_key",
        "google_api_key",
        "private_key",
        "password",
        "ipv4",
        "date_of_birth",
    ] {
        assert!(names.contains(&n), "{n}");
        assert_eq!(
            DataType::builtin_from_name(n).map(|d| d.name().to_owned()),
            Some(n.to_owned())
        );
    }
    let locs = [
        Location::RequestHeader,
        Location::RequestQuery,
        Location::RequestPath,
        Location::RequestBody,
        Location::ResponseHeader,
        Location::ResponseBody,
    ];
    let got: Vec<&str> = locs.iter().map(|l| l.name()).collect();
    assert_eq!(
        got,
        vec![
            "request.header",
            "request.query",
            "request.path",
            "request.body",
            "response.header",
            "response.body"
        ]
    );
}

#[test]
fn event_items_are_redacted_and_raw_is_hidden() {
    let d = det();
    let r = Redactor::new(b"test-key");
    let body = format!(r#"{{"email": "ann@acme.io", "password": "hunter2", "token": "{GH}"}}"#);
    let got = json(&d, &body);
    let items: Vec<SensitiveItem> = got.iter().map(|x| x.to_item(&r)).collect();
    let s = serde_json::to_string(&items).unwrap();
    for raw in ["ann@acme.io", "hunter2", GH] {
        assert!(!s.contains(raw), "{s}");
    }
    assert!(s.contains(r#""type":"email","location":"request.body","field":"$.email","redacted":"a***@acme.io#"#), "{s}");
    assert!(!s.contains("test_data"));
    let dbg = format!("{got:?}");
    assert!(!dbg.contains("hunter2") && !dbg.contains(GH), "{dbg}");
}

// ------------------------------------------------------------------ robustness

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const FRAGMENTS: &[&str] = &[
        "@",
        "acme.io",
        "AKIA",
        "eyJ",
        ".",
        "-",
        " ",
        "\"",
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "=",
        "&",
        "4111",
        "1111",
        "5555",
        "$2b$12$",
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----END ",
        "xoxb-",
        "ghp_",
        "sk_live_",
        "AIza",
        "password",
        "secret",
        "token",
        "ssn",
        "phone",
        "+1",
        "(415) ",
        "555-",
        "DE44",
        "10.0.0.",
        "\\u",
        "\\",
        "\n",
        "%40",
        "é",
        "\u{0}",
        "hooks.slack.com/services/",
    ];

    fn fragmenty() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                prop::sample::select(FRAGMENTS).prop_map(|s| s.as_bytes().to_vec()),
                prop::collection::vec(any::<u8>(), 0..8),
                "[a-zA-Z0-9]{1,12}".prop_map(String::into_bytes),
            ],
            0..60,
        )
        .prop_map(|parts| parts.concat())
    }

    const TYPES: &[Option<&str>] = &[
        None,
        Some("application/json"),
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data"),
        Some("image/png"),
    ];

    proptest! {
        // 512 cases by default; `PROPTEST_CASES=N` for a deeper run.
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(512)
        ))]

        #[test]
        fn scan_body_never_panics_and_respects_the_cap(
            body in prop_oneof![prop::collection::vec(any::<u8>(), 0..2048), fragmenty()],
            ct in prop::sample::select(TYPES),
            cap in 0usize..6,
        ) {
            let d = det_with(|c| { c.max_detections_per_tx = cap; c.max_token_bytes = 256; });
            let mut out = Vec::new();
            let _ = d.scan_body(Location::ResponseBody, ct, &body, &mut out);
            prop_assert!(out.len() <= cap);
            let s = String::from_utf8_lossy(&body);
            let _ = d.scan_query(Location::RequestQuery, &s, &mut out);
            let _ = d.scan_path(&s, &mut out);
            let _ = d.scan_headers(Location::RequestHeader, &[("authorization", &body), ("cookie", &body), ("referer", &body)], &mut out);
            prop_assert!(out.len() <= cap);
            let r = Redactor::new(b"k");
            for x in &out {
                let red = r.redact(&x.kind, &x.raw);
                prop_assert!(!red.contains(&x.raw) || x.raw.len() < 4);
            }
        }
    }
}

#[test]
fn hostile_inputs_finish_quickly() {
    let d = det_with(|c| c.max_detections_per_tx = 1_000_000);
    let n = 1 << 20;
    let cases: Vec<Vec<u8>> = vec![
        b"eyJ-".repeat(n / 4),
        b"eyJ.".repeat(n / 4),
        b"-----BEGIN PRIVATE KEY-----".repeat(n / 27),
        b"a@".repeat(n / 2),
        b"tokentoken".repeat(n / 10),
        b"1 ".repeat(n / 2),
        b"1.".repeat(n / 2),
        "[".repeat(n).into_bytes(),
        b"{\"a\":".repeat(n / 5),
        b"AKIA".repeat(n / 4),
        b"+1 ".repeat(n / 3),
    ];
    for c in cases {
        for ct in [Some("text/plain"), Some("application/json")] {
            let start = std::time::Instant::now();
            let mut out = Vec::new();
            d.scan_body(Location::RequestBody, ct, &c, &mut out);
            let el = start.elapsed();
            assert!(
                el.as_secs_f64() < 5.0,
                "{:?}: {el:?}",
                String::from_utf8_lossy(&c[..16])
            );
        }
    }
}

/// A 1 MiB mixed body: ids, UUIDs, timestamps, prices, hex hashes and prose in every record,
/// plus an e-mail and a phone per record (`dense`) or a card number in one record of 50.
fn mixed_mib(dense: bool) -> Vec<u8> {
    if dense {
        let mut b = big_body(4000).into_bytes();
        b.truncate(1 << 20);
        return b;
    }
    let mut s = String::from("{\"data\":[");
    let mut i = 0usize;
    while s.len() < 1 << 20 {
        let contact = if i % 50 == 0 {
            r#"{"card":"4526 0181 5908 3012"}"#.to_owned()
        } else {
            format!(
                r#"{{"name":"User {i}","city":"Springfield","zip":"{:05}"}}"#,
                i % 99_999
            )
        };
        s.push_str(&format!(
            r#"{{"id":{i},"uuid":"7c9e6679-7425-40de-944b-{i:012}","created_at":"2024-01-15T10:00:00Z","sha":"da39a3ee5e6b4b0d3255bfef95601890afd8{:04}","contact":{contact},"note":"order {} shipped in 3 boxes, tracking v1.2.3","active":true}},"#,
            i % 10_000,
            1_000_000_000 + i
        ));
        i += 1;
    }
    s.push_str("{}]}");
    s.into_bytes()
}

fn mb_per_s(d: &Detector, ct: &str, body: &[u8]) -> (f64, usize) {
    let rounds = 30;
    let mut found = 0;
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        let mut out = Vec::new();
        d.scan_body(Location::ResponseBody, Some(ct), body, &mut out);
        found = out.len();
    }
    let secs = start.elapsed().as_secs_f64();
    ((body.len() * rounds) as f64 / secs / 1_048_576.0, found)
}

/// `cargo test --release -- --ignored --nocapture throughput` (see also
/// `cargo run --release --example throughput`).
#[test]
#[ignore]
fn throughput_1mib_mixed_json() {
    let d = det_with(|c| c.max_detections_per_tx = usize::MAX);
    let dense = mixed_mib(true);
    let sparse = mixed_mib(false);
    let text: Vec<u8> = dense
        .iter()
        .map(|&b| if b == b'{' { b' ' } else { b })
        .collect();
    let (a, na) = mb_per_s(&d, "application/json", &dense);
    let (b, nb) = mb_per_s(&d, "application/json", &sparse);
    let (c, nc) = mb_per_s(&d, "text/plain", &text);
    println!("1 MiB dense JSON: {a:.0} MB/s ({na} detections); sparse JSON: {b:.0} MB/s ({nb}); dense text: {c:.0} MB/s ({nc})");
}
