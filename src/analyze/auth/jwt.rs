//! JWT decoding (RFC 7519 / RFC 7515 compact form) for posture checks, never for trust.
//!
//! [`decode`] reads the JOSE header (`alg`, `typ`, `kid`) and the registered claims (`exp`,
//! `iat`, `nbf`, `iss`, `sub`, `aud`) of a compact token, with or without base64 padding, and
//! judges expiry against the packet time given by the caller (never the wall clock). It never
//! verifies a signature against a real key and keeps no signature bytes: [`JwtInfo`] holds
//! only whether a signature segment was present. (The weak-secret check of
//! [`crate::analyze::auth::WeakSecretChecker`] re-reads the token it is handed and forgets it.)
//!
//! Guarantees: tokens longer than `max_jwt_bytes` are refused before any decoding; every
//! string copied out is cut to `max_field_chars`; `aud` keeps at most `max_audiences` values;
//! hostile input (bad base64, non-JSON, deep JSON, huge numbers) gives a [`JwtError`] or a
//! partial [`JwtInfo`], never a panic. A JWE (five segments) is recognised from its header and
//! reported with `encrypted: true` and no claims.

use serde::Serialize;
use serde_json::{Map, Value};
use thiserror::Error;

use super::claims::{sensitive_claims, ScanLimits};
use super::config::AuthConfig;
use super::util::{b64url_decode, bounded_str};

/// A segment of a compact JWT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    Header,
    Payload,
    Signature,
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Segment::Header => "header",
            Segment::Payload => "payload",
            Segment::Signature => "signature",
        })
    }
}

/// Why a token that looked like a JWT could not be decoded.
#[non_exhaustive]
#[derive(Clone, Debug, Error, PartialEq, Eq, Serialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum JwtError {
    /// Longer than `max_jwt_bytes`: not decoded at all.
    #[error("jwt: {len} bytes, more than the {max}-byte limit")]
    TooLong { len: usize, max: usize },
    /// Not 3 (JWS) or 5 (JWE) dot-separated segments.
    #[error("jwt: {count} segments, expected 3 (JWS) or 5 (JWE)")]
    Segments { count: usize },
    /// A segment is not base64url.
    #[error("jwt: the {segment} is not base64url")]
    Base64 { segment: Segment },
    /// A segment is not JSON.
    #[error("jwt: the {segment} is not JSON")]
    Json { segment: Segment },
    /// A segment is JSON but not an object.
    #[error("jwt: the {segment} is not a JSON object")]
    NotObject { segment: Segment },
    /// The header has no string `alg`.
    #[error("jwt: the header has no string `alg`")]
    MissingAlg,
}

impl JwtError {
    /// A stable snake_case name (for counters).
    pub fn name(&self) -> &'static str {
        match self {
            JwtError::TooLong { .. } => "too_long",
            JwtError::Segments { .. } => "segments",
            JwtError::Base64 { .. } => "base64",
            JwtError::Json { .. } => "json",
            JwtError::NotObject { .. } => "not_object",
            JwtError::MissingAlg => "missing_alg",
        }
    }
}

/// What apitap keeps of a JWT: header fields, registered claims, and judgements against the
/// packet time. No signature, no raw claims other than `iss`, `sub`, `aud`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct JwtInfo {
    /// Header `alg` as sent (case kept).
    pub alg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// A JWE (five segments): the payload is encrypted and no claim below is known.
    pub encrypted: bool,
    /// The signature segment is non-empty.
    pub signed: bool,
    /// The payload has an `exp` member (whatever its type).
    pub has_exp: bool,
    /// `exp` as a NumericDate (seconds; fractions dropped); `None` when absent or not a number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aud: Vec<String>,
    /// The packet time is at or after `exp` (RFC 7519 §4.1.4; no leeway).
    pub expired: bool,
    /// Seconds since `exp` when expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_for_s: Option<i64>,
    /// The packet time is before `nbf`.
    pub not_yet_valid: bool,
    /// `exp - iat`, when both are numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_s: Option<i64>,
    /// `exp - packet time`, when `exp` is a number (negative once expired).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_s: Option<i64>,
    /// Paths of claims holding personal data or secrets (see `claims`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sensitive_claims: Vec<String>,
    /// The sensitive-claim scan stopped at `max_claim_nodes`, `max_claim_depth` or
    /// `max_sensitive_claims` before seeing the whole payload.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub claims_truncated: bool,
    /// HS256/384/512 signature made with a key from the weak-secret list: `Some(true)`.
    /// `None`: not checked (not HS*, checking off, rate-limited, or plain `classify`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weak_secret: Option<bool>,
}

impl JwtInfo {
    /// `exp - iat`, or without `iat` `exp - packet time`: the lifetime `jwt_long_lived` uses.
    pub fn effective_lifetime_s(&self) -> Option<i64> {
        self.lifetime_s.or(self.remaining_s)
    }
}

/// The signed part and the signature of a compact JWS, as slices of the token.
#[derive(Clone, Copy, Debug)]
pub(crate) struct JwsParts<'a> {
    pub signature: &'a [u8],
    /// `header.payload`: the bytes the signature covers.
    pub signing_input: &'a [u8],
}

/// Splits a compact JWS (exactly two dots).
pub(crate) fn split_jws(token: &[u8]) -> Option<JwsParts<'_>> {
    let mut dots = memchr::memchr_iter(b'.', token);
    dots.next()?;
    let d2 = dots.next()?;
    if dots.next().is_some() {
        return None;
    }
    Some(JwsParts {
        signature: token.get(d2 + 1..)?,
        signing_input: token.get(..d2)?,
    })
}

/// A cheap test: the token starts like a base64url JSON object (`eyJ`, i.e. `{"`) and has
/// two or four dots. `decode` may still fail on it.
pub fn looks_like_jwt(token: &[u8]) -> bool {
    token.starts_with(b"eyJ") && {
        let dots = memchr::memchr_iter(b'.', token).count();
        dots == 2 || dots == 4
    }
}

fn decode_object(seg: &[u8], which: Segment) -> Result<Map<String, Value>, JwtError> {
    let raw = b64url_decode(seg).ok_or(JwtError::Base64 { segment: which })?;
    // serde_json bounds recursion (128 levels): deep input is an error, not a stack overflow.
    match serde_json::from_slice::<Value>(&raw) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(JwtError::NotObject { segment: which }),
        Err(_) => Err(JwtError::Json { segment: which }),
    }
}

/// A NumericDate: an integer, or a finite float in range (fraction dropped).
fn numeric_date(v: Option<&Value>) -> Option<i64> {
    let n = v?.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    // i64::MAX as f64 rounds up to 2^63, which is out of range: use a strict bound.
    if f.is_finite() && f > -9.2e18 && f < 9.2e18 {
        #[allow(clippy::cast_possible_truncation)]
        return Some(f.trunc() as i64);
    }
    None
}

fn string_field(m: &Map<String, Value>, key: &str, max_chars: usize) -> Option<String> {
    m.get(key)?.as_str().map(|s| bounded_str(s, max_chars))
}

/// Decodes `token` (trimmed by the caller) and judges it at `packet_time_s` (seconds since the
/// epoch, from the capture).
pub fn decode(token: &[u8], packet_time_s: i64, cfg: &AuthConfig) -> Result<JwtInfo, JwtError> {
    if token.len() > cfg.max_jwt_bytes {
        return Err(JwtError::TooLong {
            len: token.len(),
            max: cfg.max_jwt_bytes,
        });
    }
    let dots = memchr::memchr_iter(b'.', token).count();
    if dots != 2 && dots != 4 {
        return Err(JwtError::Segments { count: dots + 1 });
    }
    let mut segs = token.split(|&b| b == b'.');
    let header_seg = segs.next().unwrap_or_default();
    let header = decode_object(header_seg, Segment::Header)?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(JwtError::MissingAlg)?;
    let max = cfg.max_field_chars;
    let mut info = JwtInfo {
        alg: bounded_str(alg, max),
        typ: string_field(&header, "typ", max),
        kid: string_field(&header, "kid", max),
        ..Default::default()
    };
    if dots == 4 {
        // JWE: header.encrypted_key.iv.ciphertext.tag — nothing more to read.
        info.encrypted = true;
        info.signed = true;
        return Ok(info);
    }
    let payload_seg = segs.next().unwrap_or_default();
    let signature_seg = segs.next().unwrap_or_default();
    let payload = decode_object(payload_seg, Segment::Payload)?;
    if b64url_decode(signature_seg).is_none() {
        return Err(JwtError::Base64 {
            segment: Segment::Signature,
        });
    }
    info.signed = !signature_seg.is_empty();

    info.has_exp = payload.contains_key("exp");
    info.exp = numeric_date(payload.get("exp"));
    info.iat = numeric_date(payload.get("iat"));
    info.nbf = numeric_date(payload.get("nbf"));
    info.iss = string_field(&payload, "iss", max);
    info.sub = string_field(&payload, "sub", max);
    info.aud = match payload.get("aud") {
        Some(Value::String(s)) => vec![bounded_str(s, max)],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .take(cfg.max_audiences)
            .map(|s| bounded_str(s, max))
            .collect(),
        _ => Vec::new(),
    };
    if let Some(exp) = info.exp {
        info.expired = packet_time_s >= exp;
        info.remaining_s = Some(exp.saturating_sub(packet_time_s));
        if info.expired {
            info.expired_for_s = Some(packet_time_s.saturating_sub(exp));
        }
        info.lifetime_s = info.iat.map(|iat| exp.saturating_sub(iat));
    }
    info.not_yet_valid = info.nbf.is_some_and(|nbf| packet_time_s < nbf);
    (info.sensitive_claims, info.claims_truncated) = sensitive_claims(
        &payload,
        ScanLimits {
            max_nodes: cfg.max_claim_nodes,
            max_depth: cfg.max_claim_depth,
            max_found: cfg.max_sensitive_claims,
            max_chars: max,
        },
    );
    Ok(info)
}

/// Test helpers: build signed tokens with `hmac` + `sha2` (no external tooling).
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod testutil {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    use sha2::{Sha256, Sha384, Sha512};

    pub fn b64(data: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(data)
    }

    /// `header.payload` with the given JSON texts.
    pub fn unsigned(header: &str, payload: &str) -> String {
        format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()))
    }

    /// A compact JWS signed with HMAC (`alg` picks the hash) under `key`.
    pub fn hs(alg: &str, key: &[u8], payload: &str) -> String {
        let input = unsigned(&format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#), payload);
        let sig = match alg {
            "HS384" => {
                let mut m = <Hmac<Sha384> as Mac>::new_from_slice(key).expect("HMAC takes any key");
                m.update(input.as_bytes());
                m.finalize().into_bytes().to_vec()
            }
            "HS512" => {
                let mut m = <Hmac<Sha512> as Mac>::new_from_slice(key).expect("HMAC takes any key");
                m.update(input.as_bytes());
                m.finalize().into_bytes().to_vec()
            }
            _ => {
                let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
                m.update(input.as_bytes());
                m.finalize().into_bytes().to_vec()
            }
        };
        format!("{input}.{}", b64(&sig))
    }

    /// A token with any header and a fake 256-byte signature (RS256, ES256 …).
    pub fn fake_signed(header: &str, payload: &str) -> String {
        format!("{}.{}", unsigned(header, payload), b64(&[0x5a; 256]))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::testutil::*;
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn cfg() -> AuthConfig {
        AuthConfig::default()
    }

    #[test]
    fn jwt_io_example() {
        // The token shown by jwt.io (HS256, "your-256-bit-secret").
        let t = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        assert!(looks_like_jwt(t));
        let j = decode(t, NOW, &cfg()).unwrap();
        assert_eq!(j.alg, "HS256");
        assert_eq!(j.typ.as_deref(), Some("JWT"));
        assert_eq!(j.sub.as_deref(), Some("1234567890"));
        assert_eq!(j.iat, Some(1_516_239_022));
        assert!(!j.has_exp && j.exp.is_none() && !j.expired);
        assert!(j.signed && !j.encrypted);
        assert!(j.sensitive_claims.is_empty());
        assert_eq!(j.weak_secret, None);
    }

    #[test]
    fn expiry_against_packet_time() {
        let t = hs(
            "HS256",
            b"k",
            &format!(r#"{{"exp":{},"iat":{}}}"#, NOW + 600, NOW - 300),
        );
        let j = decode(t.as_bytes(), NOW, &cfg()).unwrap();
        assert!(j.has_exp && !j.expired);
        assert_eq!(j.lifetime_s, Some(900));
        assert_eq!(j.remaining_s, Some(600));
        assert_eq!(j.expired_for_s, None);
        // Later packet: expired. Exactly at exp counts as expired.
        let j = decode(t.as_bytes(), NOW + 600, &cfg()).unwrap();
        assert!(j.expired);
        assert_eq!(j.expired_for_s, Some(0));
        let j = decode(t.as_bytes(), NOW + 4000, &cfg()).unwrap();
        assert_eq!(j.expired_for_s, Some(3400));
        assert_eq!(j.remaining_s, Some(-3400));
        // No iat: effective lifetime from the packet time.
        let t = hs("HS256", b"k", &format!(r#"{{"exp":{}}}"#, NOW + 100));
        let j = decode(t.as_bytes(), NOW, &cfg()).unwrap();
        assert_eq!(j.lifetime_s, None);
        assert_eq!(j.effective_lifetime_s(), Some(100));
    }

    #[test]
    fn numeric_dates_of_every_shape() {
        let t = hs(
            "HS256",
            b"k",
            r#"{"exp":1700000000.9,"iat":"1699999999","nbf":1e300,"aud":["a","b",3],"iss":"https://idp"}"#,
        );
        let j = decode(t.as_bytes(), NOW - 10, &cfg()).unwrap();
        assert_eq!(j.exp, Some(1_700_000_000));
        assert_eq!(j.iat, None, "a string is not a NumericDate");
        assert_eq!(j.nbf, None, "out of range");
        assert_eq!(j.aud, vec!["a", "b"]);
        assert_eq!(j.iss.as_deref(), Some("https://idp"));
        let t = hs(
            "HS256",
            b"k",
            r#"{"exp":"tomorrow","aud":"api","nbf":1800000000}"#,
        );
        let j = decode(t.as_bytes(), NOW, &cfg()).unwrap();
        assert!(j.has_exp);
        assert_eq!(j.exp, None);
        assert!(!j.expired);
        assert!(j.not_yet_valid);
        assert_eq!(j.aud, vec!["api"]);
        // Extreme values saturate instead of overflowing.
        let t = hs(
            "HS256",
            b"k",
            &format!(r#"{{"exp":{},"iat":{}}}"#, i64::MAX, i64::MIN),
        );
        let j = decode(t.as_bytes(), i64::MIN, &cfg()).unwrap();
        assert_eq!(j.lifetime_s, Some(i64::MAX));
        assert_eq!(j.remaining_s, Some(i64::MAX));
    }

    #[test]
    fn alg_none_and_padding() {
        let t = format!("{}.", unsigned(r#"{"alg":"none"}"#, r#"{"sub":"x"}"#));
        let j = decode(t.as_bytes(), NOW, &cfg()).unwrap();
        assert_eq!(j.alg, "none");
        assert!(!j.signed);
        // Padded segments are accepted.
        let t = "eyJhbGciOiJub25lIn0=.eyJzdWIiOiJ4In0=.";
        assert_eq!(
            decode(t.as_bytes(), NOW, &cfg()).unwrap().sub.as_deref(),
            Some("x")
        );
    }

    #[test]
    fn jwe_is_recognised_without_claims() {
        let t = format!(
            "{}.{}.{}.{}.{}",
            b64(br#"{"alg":"RSA-OAEP","enc":"A256GCM","kid":"k1"}"#),
            b64(&[1; 256]),
            b64(&[2; 12]),
            b64(&[3; 40]),
            b64(&[4; 16])
        );
        assert!(looks_like_jwt(t.as_bytes()));
        let j = decode(t.as_bytes(), NOW, &cfg()).unwrap();
        assert!(j.encrypted);
        assert_eq!(j.alg, "RSA-OAEP");
        assert_eq!(j.kid.as_deref(), Some("k1"));
        assert!(!j.has_exp);
    }

    #[test]
    fn malformed_tokens_are_errors() {
        let c = cfg();
        assert_eq!(
            decode(b"abc", NOW, &c),
            Err(JwtError::Segments { count: 1 })
        );
        assert_eq!(
            decode(b"a.b.c.d", NOW, &c),
            Err(JwtError::Segments { count: 4 })
        );
        assert_eq!(
            decode(b"!!.e30.", NOW, &c),
            Err(JwtError::Base64 {
                segment: Segment::Header
            })
        );
        let bad_json = format!("{}.e30.", b64(b"{alg"));
        assert_eq!(
            decode(bad_json.as_bytes(), NOW, &c),
            Err(JwtError::Json {
                segment: Segment::Header
            })
        );
        let arr = format!("{}.e30.", b64(b"[1]"));
        assert_eq!(
            decode(arr.as_bytes(), NOW, &c),
            Err(JwtError::NotObject {
                segment: Segment::Header
            })
        );
        let no_alg = format!("{}.e30.", b64(br#"{"typ":"JWT"}"#));
        assert_eq!(
            decode(no_alg.as_bytes(), NOW, &c),
            Err(JwtError::MissingAlg)
        );
        let num_alg = format!("{}.e30.", b64(br#"{"alg":256}"#));
        assert_eq!(
            decode(num_alg.as_bytes(), NOW, &c),
            Err(JwtError::MissingAlg)
        );
        // Non-JSON payload.
        let t = format!("{}.{}.", b64(br#"{"alg":"HS256"}"#), b64(b"hello world"));
        assert_eq!(
            decode(t.as_bytes(), NOW, &c),
            Err(JwtError::Json {
                segment: Segment::Payload
            })
        );
        let t = format!("{}.{}.", b64(br#"{"alg":"HS256"}"#), b64(b"\"str\""));
        assert_eq!(
            decode(t.as_bytes(), NOW, &c),
            Err(JwtError::NotObject {
                segment: Segment::Payload
            })
        );
        let t = format!("{}.e30.a*b", b64(br#"{"alg":"HS256"}"#));
        assert_eq!(
            decode(t.as_bytes(), NOW, &c),
            Err(JwtError::Base64 {
                segment: Segment::Signature
            })
        );
        // Empty segments.
        assert!(decode(b"..", NOW, &c).is_err());
        assert!(decode(b"....", NOW, &c).is_err());
    }

    #[test]
    fn huge_and_deep_tokens_do_not_panic() {
        let c = cfg();
        let big = format!("{}.{}.sig", b64(br#"{"alg":"HS256"}"#), "A".repeat(20_000));
        assert_eq!(
            decode(big.as_bytes(), NOW, &c),
            Err(JwtError::TooLong {
                len: big.len(),
                max: 16_384
            })
        );
        // 10 000 nested arrays: serde_json's recursion limit turns it into an error.
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let t = format!(
            "{}.{}.",
            b64(br#"{"alg":"HS256"}"#),
            b64(format!(r#"{{"a":{deep}}}"#).as_bytes())
        );
        let c2 = AuthConfig {
            max_jwt_bytes: 1 << 20,
            ..cfg()
        };
        assert_eq!(
            decode(t.as_bytes(), NOW, &c2),
            Err(JwtError::Json {
                segment: Segment::Payload
            })
        );
        // Long strings are cut.
        let t = hs(
            "HS256",
            b"k",
            &format!(r#"{{"sub":"{}"}}"#, "s".repeat(5000)),
        );
        let j = decode(t.as_bytes(), NOW, &c).unwrap();
        assert_eq!(j.sub.unwrap().len(), 256);
        // Many audiences are capped.
        let auds: Vec<String> = (0..100).map(|i| format!("\"a{i}\"")).collect();
        let t = hs("HS256", b"k", &format!(r#"{{"aud":[{}]}}"#, auds.join(",")));
        assert_eq!(decode(t.as_bytes(), NOW, &c).unwrap().aud.len(), 16);
    }

    #[test]
    fn sensitive_claims_are_found() {
        let t = hs(
            "HS256",
            b"k",
            r#"{"sub":"42","email":"alice@example.com","email_verified":true,"profile":{"phone_number":"+33 1 23 45 67 89"}}"#,
        );
        let j = decode(t.as_bytes(), NOW, &cfg()).unwrap();
        assert_eq!(j.sensitive_claims, vec!["email", "profile.phone_number"]);
    }

    #[test]
    fn split_and_looks_like() {
        let p = split_jws(b"aa.bb.cc").unwrap();
        assert_eq!(p.signature, b"cc");
        assert_eq!(p.signing_input, b"aa.bb");
        assert!(split_jws(b"aa.bb").is_none());
        assert!(split_jws(b"a.b.c.d").is_none());
        assert!(!looks_like_jwt(b"eyJabc"));
        assert!(!looks_like_jwt(b"abc.def.ghi"));
        assert!(looks_like_jwt(b"eyJ.x."));
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(
            token in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000),
            now in proptest::prelude::any::<i64>(),
        ) {
            let _ = decode(&token, now, &cfg());
            let _ = looks_like_jwt(&token);
            let _ = split_jws(&token);
        }

        #[test]
        fn decode_never_panics_on_jose_shaped_input(
            header in "[ -~]{0,80}",
            payload in "[ -~]{0,300}",
            sig in "[A-Za-z0-9_=-]{0,90}",
            now in proptest::prelude::any::<i64>(),
        ) {
            let t = format!("{}.{sig}", unsigned(&header, &payload));
            let _ = decode(t.as_bytes(), now, &cfg());
            let t = format!("{}.{}.", b64(br#"{"alg":"HS256"}"#), b64(payload.as_bytes()));
            if let Ok(j) = decode(t.as_bytes(), now, &cfg()) {
                proptest::prop_assert!(j.sensitive_claims.len() <= 32);
                proptest::prop_assert!(j.sub.map_or(0, |s| s.chars().count()) <= 256);
            }
        }
    }

    #[test]
    fn error_display_and_names() {
        assert_eq!(
            JwtError::TooLong {
                len: 20000,
                max: 16384
            }
            .to_string(),
            "jwt: 20000 bytes, more than the 16384-byte limit"
        );
        assert_eq!(
            JwtError::Segments { count: 2 }.to_string(),
            "jwt: 2 segments, expected 3 (JWS) or 5 (JWE)"
        );
        assert_eq!(
            JwtError::Base64 {
                segment: Segment::Payload
            }
            .to_string(),
            "jwt: the payload is not base64url"
        );
        assert_eq!(
            JwtError::Json {
                segment: Segment::Header
            }
            .to_string(),
            "jwt: the header is not JSON"
        );
        assert_eq!(
            JwtError::NotObject {
                segment: Segment::Signature
            }
            .to_string(),
            "jwt: the signature is not a JSON object"
        );
        assert_eq!(
            JwtError::MissingAlg.to_string(),
            "jwt: the header has no string `alg`"
        );
        assert_eq!(JwtError::MissingAlg.name(), "missing_alg");
        assert_eq!(
            serde_json::to_value(JwtError::Segments { count: 2 }).unwrap(),
            serde_json::json!({"error": "segments", "count": 2})
        );
    }
}
