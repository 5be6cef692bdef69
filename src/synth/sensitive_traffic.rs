//! Labelled traffic for sensitive data and credential detection: HTTP/1.1 calls to
//! realistic API shapes (sign-ups, profiles, customer lists, payments, bank transfers,
//! logins, lookups by query and by path, leaked configuration, user dumps, HR records, text
//! logs, webhooks, product catalogues, health checks), each carrying planted sensitive
//! values of known type and location, hard negatives that only look sensitive, and one
//! credential scheme.
//!
//! [`write_sensitive_traffic`] writes into a directory:
//! - `sensitive-traffic.pcap`: Ethernet/IPv4 TCP conversations, one to four keep-alive
//!   calls per connection, some response bodies gzip-compressed, some chunked;
//! - `sensitive-traffic.labels.json`: `calls`, one per request, keyed by the client address
//!   (`ip:port`, unique per connection) and `tx_id` (the call's index on its connection),
//!   each with its expected `auth_scheme`, its `plants` (type, location, field, value,
//!   test_data) and its `negatives` (what, location, field, value); plus `hidden`: values
//!   that are not visible as such in the traffic (inside a JWT payload, a Basic credential)
//!   but must never appear in the sensor's output either.
//!
//! Ground truth is written from the formats' own rules, not from the detector: a card
//! number is Luhn-valid with a real issuer prefix and length, an SSN has a valid area,
//! group and serial, an IBAN has its country's length and mod-97 check digits, keys have
//! their vendor's prefix, alphabet and length, e-mail domains end in delegated TLDs.
//! Documented test values (PSP test cards, `sk_test_` keys, example.com addresses,
//! RFC 5737 addresses, 555-01xx numbers, the standards' sample IBAN) are planted with
//! `test_data: true`. Hard negatives are look-alikes: UUIDs, timestamps, order numbers that
//! fail Luhn, version strings, hashes, documentation placeholder keys, invalid SSNs, IBANs
//! with wrong check digits, addresses on non-delegated TLDs, dates outside a birth-date
//! field, image scale suffixes, scp-style git remotes, paging and CSRF tokens.
//!
//! Guarantees: the output is a function of [`SensitiveTrafficOptions`] only (all randomness
//! from [`SplitMix64`], no clock), the first packet is at [`EPOCH_US`], frames carry correct
//! checksums and consistent sequence numbers, and every request gets a complete response.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::pcap::{PcapWriter, DEFAULT_SNAPLEN, LINKTYPE_ETHERNET};
use super::rng::SplitMix64;
use super::tcp::{Conversation, FrameStyle};
use super::{SynthError, EPOCH_SECS, EPOCH_US};

/// Capture file name inside the output directory.
pub const PCAP_NAME: &str = "sensitive-traffic.pcap";
/// Labels file name inside the output directory.
pub const LABELS_NAME: &str = "sensitive-traffic.labels.json";
/// Default number of calls.
pub const DEFAULT_CALLS: usize = 2000;
/// Default seed.
pub const DEFAULT_SEED: u64 = 20_261_205;
/// Largest accepted number of calls.
pub const MAX_CALLS: usize = 200_000;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SensitiveTrafficOptions {
    pub seed: u64,
    pub calls: usize,
}

impl Default for SensitiveTrafficOptions {
    fn default() -> Self {
        SensitiveTrafficOptions {
            seed: DEFAULT_SEED,
            calls: DEFAULT_CALLS,
        }
    }
}

/// What [`write_sensitive_traffic`] wrote.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SensitiveTrafficInfo {
    pub packets: u64,
    pub bytes: u64,
    pub connections: usize,
    pub calls: usize,
    pub plants: usize,
    pub negatives: usize,
}

/// A planted sensitive value.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Plant {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub location: &'static str,
    pub field: String,
    pub value: String,
    pub test_data: bool,
}

/// A look-alike that is not sensitive.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Negative {
    pub what: &'static str,
    pub location: &'static str,
    pub field: String,
    pub value: String,
}

/// One call's ground truth.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CallLabel {
    pub client: String,
    pub tx_id: u64,
    pub scenario: &'static str,
    pub method: &'static str,
    pub auth_scheme: &'static str,
    pub plants: Vec<Plant>,
    pub negatives: Vec<Negative>,
    /// Sensitive values carried inside an encoding (JWT payload, Basic credential) that the
    /// sensor must not write out either.
    pub hidden: Vec<String>,
}

// ------------------------------------------------------------ value generators

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &[u8] = b"0123456789abcdef";

fn chars(rng: &mut SplitMix64, alphabet: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| char::from(alphabet[rng.index(alphabet.len())]))
        .collect()
}

fn digits(rng: &mut SplitMix64, n: usize) -> String {
    chars(rng, b"0123456789", n)
}

fn pick<'a>(rng: &mut SplitMix64, list: &[&'a str]) -> &'a str {
    list[rng.index(list.len())]
}

fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

fn uuid(rng: &mut SplitMix64) -> String {
    let h = chars(rng, HEX, 32);
    format!(
        "{}-{}-4{}-{}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        pick(rng, &["8", "9", "a", "b"]),
        &h[17..20],
        &h[20..32]
    )
}

const FIRST: &[&str] = &[
    "james", "maria", "wei", "fatima", "olivia", "liam", "sofia", "noah", "amara", "lukas",
    "chloe", "mateo", "aiko", "priya", "jonas", "elena", "omar", "hannah", "diego", "yuki",
    "grace", "ivan", "zoe", "felix", "nadia", "arjun", "lea", "samuel", "ines", "kofi",
];
const LAST: &[&str] = &[
    "smith",
    "garcia",
    "chen",
    "okafor",
    "muller",
    "rossi",
    "kowalski",
    "nguyen",
    "haddad",
    "johansson",
    "dubois",
    "silva",
    "tanaka",
    "patel",
    "obrien",
    "novak",
    "fischer",
    "moreau",
    "santos",
    "kim",
    "larsen",
    "petrov",
    "ibrahim",
    "costa",
    "walker",
];
/// Mail domains on delegated TLDs.
const DOMAINS: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "yahoo.co.uk",
    "icloud.com",
    "proton.me",
    "web.de",
    "orange.fr",
    "acme-corp.io",
    "globex.com",
    "initech.co",
    "hooli.dev",
    "mail.umbrella-group.de",
    "cs.uni-heidelberg.de",
    "student.unimelb.edu.au",
    "fastmail.fm",
    "posteo.net",
    "company.com.br",
    "zoho.in",
    "startup.ai",
    "bank-nordic.se",
];

fn name(rng: &mut SplitMix64) -> (String, String) {
    (pick(rng, FIRST).to_string(), pick(rng, LAST).to_string())
}

fn title_case(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

fn email(rng: &mut SplitMix64) -> String {
    let (f, l) = name(rng);
    let local = match rng.below(6) {
        0 => format!("{f}.{l}"),
        1 => format!("{}{l}", &f[..1]),
        2 => format!("{f}_{l}{}", rng.range(1, 99)),
        3 => format!("{f}+{}", pick(rng, &["news", "work", "shop", "git"])),
        4 => format!("{f}.{l}{}", rng.range(1950, 2005)),
        _ => format!("{l}.{f}"),
    };
    let e = format!("{local}@{}", pick(rng, DOMAINS));
    if rng.chance(1, 15) {
        title_case(&e)
    } else {
        e
    }
}

fn test_email(rng: &mut SplitMix64) -> String {
    let (f, _) = name(rng);
    format!(
        "{f}@{}",
        pick(rng, &["example.com", "example.org", "example.net"])
    )
}

fn luhn_check_digit(payload: &[u8]) -> u8 {
    // `payload` excludes the check digit; double every second digit from the right.
    let mut sum = 0u32;
    for (i, d) in payload.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    b'0' + ((10 - sum % 10) % 10) as u8
}

fn luhn_ok(d: &str) -> bool {
    let b = d.as_bytes();
    match b.split_last() {
        Some((last, rest)) => luhn_check_digit(rest) == *last,
        None => false,
    }
}

/// PSP test numbers (Stripe, Adyen, Braintree documentation).
const TEST_CARDS: &[&str] = &[
    "4111111111111111",
    "4242424242424242",
    "4012888888881881",
    "5555555555554444",
    "5105105105105100",
    "378282246310005",
    "371449635398431",
    "6011111111111117",
    "3530111333300000",
    "4000056655665556",
];

/// A Luhn-valid card number with a real issuer prefix and length: (digits, issuer).
fn card_digits(rng: &mut SplitMix64) -> (String, &'static str) {
    loop {
        let (prefix, len, issuer) = match rng.below(8) {
            0 | 1 => ("4".to_string(), 16, "visa"),
            2 => (format!("5{}", rng.range(1, 5)), 16, "mastercard"),
            3 => (format!("{}", rng.range(2221, 2720)), 16, "mastercard"),
            4 => (pick(rng, &["34", "37"]).to_string(), 15, "amex"),
            5 => (
                pick(rng, &["6011", "644", "645", "649", "65"]).to_string(),
                16,
                "discover",
            ),
            6 => (format!("{}", rng.range(3528, 3589)), 16, "jcb"),
            _ => (
                pick(rng, &["36", "300", "301", "305", "38"]).to_string(),
                14,
                "diners",
            ),
        };
        let mut d = prefix;
        let body = len - 1 - d.len();
        d.push_str(&digits(rng, body));
        let check = luhn_check_digit(d.as_bytes());
        d.push(char::from(check));
        if !TEST_CARDS.contains(&d.as_str()) && !d.bytes().all(|b| b == d.as_bytes()[0]) {
            return (d, issuer);
        }
    }
}

/// Groups a card number as printed: 4-6-5 (Amex), 4-6-4 (Diners), else fours.
fn card_grouped(d: &str, sep: char) -> String {
    let lens: Vec<usize> = match d.len() {
        15 => vec![4, 6, 5],
        14 => vec![4, 6, 4],
        n => {
            let mut v = vec![4; n / 4];
            if n % 4 != 0 {
                v.push(n % 4);
            }
            v
        }
    };
    let mut out = String::new();
    let mut i = 0;
    for (k, l) in lens.iter().enumerate() {
        if k > 0 {
            out.push(sep);
        }
        out.push_str(&d[i..i + l]);
        i += l;
    }
    out
}

fn card(rng: &mut SplitMix64) -> String {
    let (d, _) = card_digits(rng);
    match rng.below(4) {
        0 => card_grouped(&d, ' '),
        1 => card_grouped(&d, '-'),
        _ => d,
    }
}

/// A 16-digit number that fails Luhn (an order number, not a card).
fn non_luhn_16(rng: &mut SplitMix64) -> String {
    loop {
        let d = format!("{}{}", rng.range(1, 9), digits(rng, 15));
        if !luhn_ok(&d) {
            return d;
        }
    }
}

/// A valid-looking US SSN: area 001-899 except 666, group 01-99, serial 0001-9999.
fn ssn_parts(rng: &mut SplitMix64) -> (u64, u64, u64) {
    loop {
        let area = rng.range(1, 899);
        let group = rng.range(1, 99);
        let serial = rng.range(1, 9999);
        let famous = matches!(
            (area, group, serial),
            (78, 5, 1120) | (123, 45, 6789) | (219, 9, 9999)
        );
        if area != 666 && !famous {
            return (area, group, serial);
        }
    }
}

fn ssn(rng: &mut SplitMix64) -> String {
    let (a, g, s) = ssn_parts(rng);
    format!("{a:03}-{g:02}-{s:04}")
}

/// A North American number outside the fictional 555-01xx block: (area, exchange, line).
fn nanp(rng: &mut SplitMix64) -> (u64, u64, u64) {
    loop {
        let area = rng.range(201, 989);
        let exchange = rng.range(200, 999);
        let line = rng.range(0, 9999);
        if area % 100 != 11 && exchange % 100 != 11 && !(exchange == 555 && line < 200) {
            return (area, exchange, line);
        }
    }
}

fn phone(rng: &mut SplitMix64) -> String {
    match rng.below(7) {
        0 => {
            let (a, e, l) = nanp(rng);
            format!("+1{a}{e}{l:04}")
        }
        1 => {
            let (a, e, l) = nanp(rng);
            format!("({a}) {e}-{l:04}")
        }
        2 => {
            let (a, e, l) = nanp(rng);
            format!("{a}-{e}-{l:04}")
        }
        3 => {
            let (a, e, l) = nanp(rng);
            format!("+1 {a} {e} {l:04}")
        }
        4 => format!("+44 20 {} {}", rng.range(3000, 8999), digits(rng, 4)),
        5 => format!("+49 30 {}", rng.range(1_000_000, 99_999_999)),
        _ => format!(
            "+33 6 {} {} {} {}",
            digits(rng, 2),
            digits(rng, 2),
            digits(rng, 2),
            digits(rng, 2)
        ),
    }
}

fn test_phone(rng: &mut SplitMix64) -> String {
    format!("{}-555-01{}", rng.range(201, 989), digits(rng, 2))
}

/// IBAN countries: code, length, BBAN layout (n digits, a capitals, c alphanumerics).
const IBAN_LAYOUTS: &[(&str, &str)] = &[
    ("DE", "18n"),
    ("GB", "4a14n"),
    ("FR", "10n11c2n"),
    ("NL", "4a10n"),
    ("ES", "20n"),
    ("IT", "1a10n12c"),
    ("CH", "5n12c"),
    ("BE", "12n"),
    ("AT", "16n"),
    ("PL", "24n"),
    ("SE", "20n"),
    ("IE", "4a14n"),
];

fn bban(rng: &mut SplitMix64, layout: &str) -> String {
    let mut out = String::new();
    let mut n = 0usize;
    for c in layout.chars() {
        if let Some(d) = c.to_digit(10) {
            n = n * 10 + d as usize;
            continue;
        }
        let alphabet: &[u8] = match c {
            'n' => b"0123456789",
            'a' => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            _ => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        };
        out.push_str(&chars(rng, alphabet, n));
        n = 0;
    }
    out
}

/// ISO 13616 check digits of `country` + `bban`.
fn iban_check(country: &str, bban: &str) -> u32 {
    let rearranged = format!("{bban}{country}00");
    let mut rem = 0u32;
    for c in rearranged.chars() {
        let v = if c.is_ascii_digit() {
            c.to_digit(10).unwrap_or(0)
        } else {
            u32::from(c as u8 - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    98 - rem
}

fn iban_compact(rng: &mut SplitMix64) -> String {
    let (cc, layout) = IBAN_LAYOUTS[rng.index(IBAN_LAYOUTS.len())];
    let b = bban(rng, layout);
    format!("{cc}{:02}{b}", iban_check(cc, &b))
}

fn group4(s: &str) -> String {
    s.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn iban(rng: &mut SplitMix64) -> String {
    let i = iban_compact(rng);
    if rng.chance(1, 3) {
        group4(&i)
    } else {
        i
    }
}

/// An IBAN whose check digits are wrong.
fn bad_iban(rng: &mut SplitMix64) -> String {
    let good = iban_compact(rng);
    let check: u32 = good[2..4].parse().unwrap_or(0);
    let wrong = if check >= 97 { 2 } else { check + 1 };
    format!("{}{wrong:02}{}", &good[..2], &good[4..])
}

fn jwt(rng: &mut SplitMix64, sub: &str, now: u64) -> String {
    let alg = pick(rng, &["RS256", "RS256", "ES256", "HS256", "PS256"]);
    let header = json!({"alg": alg, "typ": "JWT", "kid": chars(rng, HEX, 16)});
    let iat = now - rng.range(60, 3000);
    let payload = json!({
        "iss": pick(rng, &["https://auth.acme-corp.io/", "https://login.globex.com", "https://idp.hooli.dev/oauth2"]),
        "sub": sub,
        "aud": pick(rng, &["api", "https://api.acme-corp.io", "orders"]),
        "iat": iat,
        "exp": iat + 3600,
        "scope": pick(rng, &["read:orders write:orders", "profile email", "admin"]),
    });
    let sig_len = if alg == "HS256" { 32 } else { 256 };
    let sig: Vec<u8> = (0..sig_len).map(|_| rng.next_u32() as u8).collect();
    format!(
        "{}.{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(payload.to_string().as_bytes()),
        b64url(&sig)
    )
}

fn aws_key_id(rng: &mut SplitMix64) -> String {
    format!(
        "{}{}",
        pick(rng, &["AKIA", "AKIA", "ASIA"]),
        chars(rng, B32, 16)
    )
}

fn aws_secret(rng: &mut SplitMix64) -> String {
    loop {
        let s = chars(rng, B64, 40);
        // Real secret keys mix cases and digits.
        if s.bytes().any(|b| b.is_ascii_digit())
            && s.bytes().any(|b| b.is_ascii_uppercase())
            && s.bytes().any(|b| b.is_ascii_lowercase())
        {
            return s;
        }
    }
}

fn github_token(rng: &mut SplitMix64) -> String {
    match rng.below(4) {
        0 => format!(
            "github_pat_{}_{}",
            chars(rng, ALNUM, 22),
            chars(rng, ALNUM, 59)
        ),
        k => format!(
            "{}_{}",
            ["ghp", "gho", "ghs"][k as usize - 1],
            chars(rng, ALNUM, 36)
        ),
    }
}

fn slack_token(rng: &mut SplitMix64) -> String {
    match rng.below(3) {
        0 => format!(
            "https://hooks.slack.com/services/T{}/B{}/{}",
            chars(rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 8),
            chars(rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
            chars(rng, ALNUM, 24)
        ),
        k => format!(
            "{}-{}-{}-{}",
            ["xoxb", "xoxp"][k as usize - 1],
            digits(rng, 12),
            digits(rng, 13),
            chars(rng, ALNUM, 24)
        ),
    }
}

fn stripe_key(rng: &mut SplitMix64) -> String {
    let n = if rng.chance(1, 2) { 24 } else { 99 };
    format!("{}_live_{}", pick(rng, &["sk", "rk"]), chars(rng, ALNUM, n))
}

fn google_key(rng: &mut SplitMix64) -> String {
    format!(
        "AIza{}",
        chars(
            rng,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
            35
        )
    )
}

fn private_key(rng: &mut SplitMix64) -> String {
    let kind = pick(rng, &["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY"]);
    let lines = rng.range(4, 12);
    let mut s = format!("-----BEGIN {kind}-----\n");
    for _ in 0..lines {
        s.push_str(&chars(rng, B64, 64));
        s.push('\n');
    }
    s.push_str(&chars(rng, B64, 20));
    s.push_str("==\n");
    s.push_str(&format!("-----END {kind}-----"));
    s
}

fn password(rng: &mut SplitMix64) -> String {
    match rng.below(4) {
        0 => format!(
            "{}{}{}",
            title_case(pick(
                rng,
                &["summer", "winter", "dragon", "sunshine", "falcon"]
            )),
            rng.range(1990, 2026),
            pick(rng, &["!", "#", "?", "$"])
        ),
        1 => chars(
            rng,
            b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!@#$%^&*",
            14,
        ),
        2 => format!(
            "{}-{}-{}-{}",
            pick(rng, &["correct", "horse", "battery", "staple", "orbit"]),
            pick(rng, &["velvet", "canyon", "maple", "ember"]),
            pick(rng, &["quartz", "harbor", "tundra", "lantern"]),
            rng.range(10, 99)
        ),
        _ => format!("{}{}", chars(rng, ALNUM, 10), pick(rng, &["!", "_", "."])),
    }
}

fn password_hash(rng: &mut SplitMix64) -> String {
    const BCRYPT: &[u8] = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    match rng.below(4) {
        0 | 1 => format!(
            "{}{:02}${}",
            pick(rng, &["$2b$", "$2a$", "$2y$"]),
            rng.range(10, 13),
            chars(rng, BCRYPT, 53)
        ),
        2 => format!(
            "$argon2id$v=19$m=65536,t=3,p=4${}${}",
            chars(rng, B64, 22),
            chars(rng, B64, 43)
        ),
        _ => format!(
            "pbkdf2_sha256$600000${}${}=",
            chars(rng, ALNUM, 22),
            chars(rng, B64, 43)
        ),
    }
}

fn ipv4(rng: &mut SplitMix64) -> String {
    loop {
        let a = match rng.below(4) {
            0 => 10,
            1 => 172,
            2 => 192,
            _ => rng.range(11, 223),
        };
        let (b, c, d) = match a {
            172 => (rng.range(16, 31), rng.below(256), rng.range(1, 254)),
            192 => (168, rng.below(256), rng.range(1, 254)),
            _ => (rng.below(256), rng.below(256), rng.range(1, 254)),
        };
        // Skip loopback, documentation and special ranges.
        let doc = matches!((a, b, c), (192, 0, 2) | (198, 51, 100) | (203, 0, 113));
        if a != 127 && a != 100 && a != 169 && !doc {
            return format!("{a}.{b}.{c}.{d}");
        }
    }
}

fn test_ipv4(rng: &mut SplitMix64) -> String {
    let (a, b, c) = [(192, 0, 2), (198, 51, 100), (203, 0, 113)][rng.index(3)];
    format!("{a}.{b}.{c}.{}", rng.range(1, 254))
}

fn dob(rng: &mut SplitMix64) -> String {
    let y = rng.range(1940, 2008);
    let m = rng.range(1, 12);
    let d = rng.range(1, 28);
    match rng.below(4) {
        0 | 1 => format!("{y}-{m:02}-{d:02}"),
        2 => format!("{m:02}/{d:02}/{y}"),
        _ => format!("{d:02}.{m:02}.{y}"),
    }
}

fn iso_time(rng: &mut SplitMix64) -> String {
    let secs = EPOCH_SECS - rng.below(400 * 86_400);
    let days = secs / 86_400;
    let (y, m, d) = civil(days as i64);
    let t = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

// ------------------------------------------------------------ calls

/// What is being built for one call.
struct Call {
    scenario: &'static str,
    method: &'static str,
    /// Path segments, raw.
    path: Vec<String>,
    /// Query pairs, decoded (encoded when written).
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
    status: u16,
    resp_headers: Vec<(String, String)>,
    resp_body: Option<(String, Vec<u8>)>,
    /// Planted values whose field is derived once the bodies are final.
    plants: Vec<Plant>,
    negatives: Vec<Negative>,
    hidden: Vec<String>,
    scheme: &'static str,
}

impl Call {
    fn new(scenario: &'static str, method: &'static str, path: &[&str]) -> Call {
        Call {
            scenario,
            method,
            path: path.iter().map(|s| s.to_string()).collect(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            status: 200,
            resp_headers: Vec::new(),
            resp_body: None,
            plants: Vec::new(),
            negatives: Vec::new(),
            hidden: Vec::new(),
            scheme: "none",
        }
    }

    fn plant(&mut self, kind: &'static str, location: &'static str, field: &str, value: &str) {
        self.plants.push(Plant {
            kind,
            location,
            field: field.to_string(),
            value: value.to_string(),
            test_data: false,
        });
    }

    fn plant_test(&mut self, kind: &'static str, location: &'static str, field: &str, value: &str) {
        self.plant(kind, location, field, value);
        if let Some(p) = self.plants.last_mut() {
            p.test_data = true;
        }
    }

    fn negative(&mut self, what: &'static str, location: &'static str, field: &str, value: &str) {
        self.negatives.push(Negative {
            what,
            location,
            field: field.to_string(),
            value: value.to_string(),
        });
    }

    /// Adds a path segment holding a planted value.
    fn path_plant(&mut self, kind: &'static str, value: &str) {
        let i = self.path.len();
        self.path.push(value.to_string());
        self.plant(kind, "request.path", &format!("path[{i}]"), value);
    }

    fn query_plant(&mut self, kind: &'static str, key: &str, value: &str) {
        self.query.push((key.to_string(), value.to_string()));
        self.plant(kind, "request.query", key, value);
    }

    fn header(&mut self, name: &str, value: &str) {
        self.headers.push((name.to_string(), value.to_string()));
    }

    fn json_body(&mut self, v: &Value) {
        self.body = Some(("application/json".into(), v.to_string().into_bytes()));
    }

    fn json_response(&mut self, status: u16, v: &Value) {
        self.status = status;
        self.resp_body = Some(("application/json".into(), v.to_string().into_bytes()));
    }
}

/// Places planted JSON values: the JSON path of `value` in `doc` (array indices as `[*]`).
fn json_path_of(doc: &Value, value: &str) -> Option<String> {
    fn walk(v: &Value, target: &str, path: &mut String) -> bool {
        match v {
            Value::String(s) => s == target,
            Value::Number(n) => n.to_string() == target,
            Value::Object(m) => {
                for (k, x) in m {
                    let len = path.len();
                    path.push('.');
                    path.push_str(k);
                    if walk(x, target, path) {
                        return true;
                    }
                    path.truncate(len);
                }
                false
            }
            Value::Array(a) => {
                let len = path.len();
                path.push_str("[*]");
                for x in a {
                    if walk(x, target, path) {
                        return true;
                    }
                }
                path.truncate(len);
                false
            }
            _ => false,
        }
    }
    let mut p = String::from("$");
    walk(doc, value, &mut p).then_some(p)
}

/// A JSON object from pairs, planting each `Some(kind)` value in `call` at `location`
/// (fields are filled in once the body is final).
fn planted_obj(
    call: &mut Call,
    location: &'static str,
    pairs: Vec<(&str, Value, Option<&'static str>)>,
) -> Value {
    let mut m = Map::new();
    for (k, v, kind) in pairs {
        if let (Some(kind), Some(s)) = (kind, v.as_str()) {
            call.plant(kind, location, "", s);
        }
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

/// Hard negatives for a JSON body: a few look-alikes in their usual fields.
fn negatives_obj(
    call: &mut Call,
    rng: &mut SplitMix64,
    location: &'static str,
    n: usize,
) -> Map<String, Value> {
    let mut m = Map::new();
    for _ in 0..n {
        let (field, what, v): (&str, &'static str, Value) = match rng.below(22) {
            0 => ("request_id", "uuid", json!(uuid(rng))),
            1 => ("created_at", "timestamp", json!(iso_time(rng))),
            2 => (
                "updated_ms",
                "epoch_ms",
                json!(1_700_000_000_000u64 + rng.below(60_000_000_000)),
            ),
            3 => (
                "order_number",
                "order_number_non_luhn",
                json!(non_luhn_16(rng)),
            ),
            4 => (
                "version",
                "version_string",
                json!(format!(
                    "{}.{}.{}.{}",
                    rng.range(1, 12),
                    rng.below(20),
                    rng.below(50),
                    rng.range(1, 254)
                )),
            ),
            5 => ("commit", "sha1", json!(chars(rng, HEX, 40))),
            6 => ("checksum", "sha256", json!(chars(rng, HEX, 64))),
            7 => (
                "tracking_number",
                "tracking",
                json!(format!(
                    "1Z{}{}",
                    chars(rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 6),
                    digits(rng, 10)
                )),
            ),
            8 => (
                "logo",
                "image_scale",
                json!(format!("logo@{}x.png", rng.range(2, 3))),
            ),
            9 => (
                "repository",
                "scp_remote",
                json!(format!(
                    "git@github.com:{}/{}.git",
                    pick(rng, LAST),
                    pick(rng, &["api", "web", "infra"])
                )),
            ),
            10 => (
                "count",
                "ten_digit_count",
                json!(rng.range(2_000_000_000, 9_999_999_999)),
            ),
            11 => (
                "price",
                "price",
                json!(format!("{}.{:02}", rng.range(1, 999), rng.below(100))),
            ),
            12 => (
                "postal_code",
                "zip",
                json!(format!("{:05}", rng.range(10_000, 99_999))),
            ),
            13 => (
                "isbn",
                "isbn",
                json!(format!(
                    "978-{}-{}-{}-{}",
                    rng.range(0, 9),
                    digits(rng, 2),
                    digits(rng, 6),
                    rng.below(10)
                )),
            ),
            14 => (
                "oid",
                "oid",
                json!(format!(
                    "1.3.6.1.4.1.{}.{}",
                    rng.range(1000, 60000),
                    rng.range(1, 9)
                )),
            ),
            15 => (
                "next_page_token",
                "paging_token",
                json!(chars(rng, ALNUM, 40)),
            ),
            16 => ("csrf_token", "csrf_token", json!(chars(rng, ALNUM, 32))),
            17 => (
                "contact",
                "invalid_tld_email",
                json!(format!(
                    "{}@{}",
                    pick(rng, FIRST),
                    pick(
                        rng,
                        &[
                            "localhost",
                            "intranet.local",
                            "build-host.internal",
                            "corp.lan"
                        ]
                    )
                )),
            ),
            18 => (
                "reference",
                "invalid_ssn",
                json!(format!(
                    "{}-{:02}-{:04}",
                    pick(rng, &["000", "666", "912", "987"]),
                    rng.range(1, 99),
                    rng.range(1, 9999)
                )),
            ),
            19 => ("from_account", "bad_iban", json!(bad_iban(rng))),
            20 => (
                "signup_date",
                "date_not_dob",
                json!(format!(
                    "{}-{:02}-{:02}",
                    rng.range(1990, 2025),
                    rng.range(1, 12),
                    rng.range(1, 28)
                )),
            ),
            _ => ("token_type", "token_type", json!("Bearer")),
        };
        let shown = match &v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        call.negative(what, location, &format!("$.{field}"), &shown);
        m.insert(field.to_string(), v);
    }
    m
}

fn merge(mut a: Value, b: Map<String, Value>) -> Value {
    if let Value::Object(m) = &mut a {
        for (k, v) in b {
            m.entry(k).or_insert(v);
        }
    }
    a
}

fn person(call: &mut Call, rng: &mut SplitMix64, location: &'static str, rich: bool) -> Value {
    let (f, l) = name(rng);
    let test = rng.chance(1, 12);
    let mail = if test { test_email(rng) } else { email(rng) };
    if test {
        call.plant_test("email", location, "", &mail);
    } else {
        call.plant("email", location, "", &mail);
    }
    let mut pairs: Vec<(&str, Value, Option<&'static str>)> = vec![
        ("id", json!(uuid(rng)), None),
        ("first_name", json!(title_case(&f)), None),
        ("last_name", json!(title_case(&l)), None),
        ("email", json!(mail), None),
    ];
    if rich || rng.chance(1, 2) {
        let key = pick(rng, &["phone", "mobile", "phone_number", "telephone"]);
        pairs.push((key, json!(phone(rng)), Some("phone")));
    }
    if rich && rng.chance(1, 2) {
        let key = pick(rng, &["date_of_birth", "dob", "birthDate", "birthday"]);
        pairs.push((key, json!(dob(rng)), Some("date_of_birth")));
    }
    if rich && rng.chance(1, 3) {
        pairs.push(("last_login_ip", json!(ipv4(rng)), Some("ipv4")));
    }
    pairs.push((
        "country",
        json!(pick(rng, &["US", "GB", "DE", "FR", "BR", "JP", "IN"])),
        None,
    ));
    planted_obj(call, location, pairs)
}

// Scenario builders. Each fills `call` and plants what it writes.

fn s_signup(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new("signup", "POST", &["api", "v1", "users"]);
    let mut p = person(&mut c, rng, "request.body", true);
    let pw = password(rng);
    c.plant("password", "request.body", "", &pw);
    if let Value::Object(m) = &mut p {
        m.insert(
            pick(rng, &["password", "passwd", "new_password"]).to_string(),
            json!(pw),
        );
        m.insert("marketing_opt_in".into(), json!(rng.chance(1, 2)));
    }
    c.json_body(&p);
    let mut resp = json!({"id": uuid(rng), "status": "pending_verification"});
    let extra = negatives_obj(&mut c, rng, "response.body", 2);
    resp = merge(resp, extra);
    c.json_response(201, &resp);
    c
}

fn s_profile(rng: &mut SplitMix64) -> Call {
    let id = uuid(rng);
    let mut c = Call::new("profile", "GET", &["api", "v2", "users"]);
    c.path.push(id.clone());
    c.negative("uuid", "request.path", "path[3]", &id);
    let p = person(&mut c, rng, "response.body", true);
    let mut resp = json!({"user": p});
    let extra = negatives_obj(&mut c, rng, "response.body", 3);
    resp = merge(resp, extra);
    c.json_response(200, &resp);
    c
}

fn s_customers(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new("customer_list", "GET", &["api", "v1", "customers"]);
    c.query.push(("page".into(), rng.range(1, 40).to_string()));
    c.query.push(("limit".into(), "25".into()));
    let n = rng.range(2, 6) as usize;
    let mut items = Vec::new();
    for _ in 0..n {
        let mut it = Map::new();
        it.insert("id".into(), json!(rng.range(10_000, 999_999)));
        let mail = email(rng);
        c.plant("email", "response.body", "", &mail);
        it.insert("email".into(), json!(mail));
        it.insert("name".into(), json!(title_case(pick(rng, FIRST))));
        it.insert("created_at".into(), json!(iso_time(rng)));
        items.push(Value::Object(it));
    }
    let resp = json!({"data": items, "has_more": true, "next_page_token": chars(rng, ALNUM, 40)});
    c.json_response(200, &resp);
    c
}

fn s_payment(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new("payment", "POST", &["v1", "payments"]);
    let test = rng.chance(1, 5);
    let number = if test {
        TEST_CARDS[rng.index(TEST_CARDS.len())].to_string()
    } else {
        card(rng)
    };
    if test {
        c.plant_test("credit_card", "request.body", "", &number);
    } else {
        c.plant("credit_card", "request.body", "", &number);
    }
    let key = pick(rng, &["number", "card_number", "pan"]);
    let mut card_obj = Map::new();
    card_obj.insert(key.into(), json!(number));
    card_obj.insert("exp_month".into(), json!(rng.range(1, 12)));
    card_obj.insert("exp_year".into(), json!(rng.range(2026, 2032)));
    card_obj.insert("cvc".into(), json!(digits(rng, 3)));
    let mail = email(rng);
    c.plant("email", "request.body", "", &mail);
    let mut body = json!({
        "amount": rng.range(100, 500_000),
        "currency": pick(rng, &["usd", "eur", "gbp"]),
        "card": card_obj,
        "receipt_email": mail,
    });
    let neg = negatives_obj(&mut c, rng, "request.body", 2);
    body = merge(body, neg);
    c.json_body(&body);
    let last4 = number
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>();
    let last4 = &last4[last4.len() - 4..];
    c.json_response(
        201,
        &json!({"id": format!("pay_{}", chars(rng, ALNUM, 24)), "status": "succeeded", "card": {"brand": "visa", "last4": last4}}),
    );
    c
}

fn s_transfer(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new("transfer", "POST", &["api", "transfers"]);
    let test = rng.chance(1, 10);
    let from = if test {
        "GB82 WEST 1234 5698 7654 32".to_string()
    } else {
        iban(rng)
    };
    let to = iban(rng);
    if test {
        c.plant_test("iban", "request.body", "", &from);
    } else {
        c.plant("iban", "request.body", "", &from);
    }
    c.plant("iban", "request.body", "", &to);
    let amount = format!("{}.{:02}", rng.range(1, 9000), rng.below(100));
    let reference = non_luhn_16(rng);
    if rng.chance(1, 2) {
        let pairs = [
            ("debtor_iban", from.as_str()),
            ("creditor_iban", to.as_str()),
            ("amount", amount.as_str()),
            ("reference", reference.as_str()),
        ];
        c.negative(
            "order_number_non_luhn",
            "request.body",
            "reference",
            &reference,
        );
        let body = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", form_enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        c.body = Some((
            "application/x-www-form-urlencoded".into(),
            body.into_bytes(),
        ));
    } else {
        c.negative(
            "order_number_non_luhn",
            "request.body",
            "$.reference",
            &reference,
        );
        c.json_body(&json!({"from": {"iban": from}, "to": {"iban": to, "name": title_case(pick(rng, LAST))}, "amount": amount, "reference": reference}));
    }
    c.json_response(202, &json!({"transfer_id": uuid(rng), "status": "queued"}));
    c
}

fn s_login(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new("login", "POST", &["auth", "login"]);
    let user = email(rng);
    let pw = password(rng);
    c.plant("email", "request.body", "", &user);
    c.plant("password", "request.body", "", &pw);
    if rng.chance(1, 2) {
        let body = format!("username={}&password={}", form_enc(&user), form_enc(&pw));
        c.body = Some((
            "application/x-www-form-urlencoded".into(),
            body.into_bytes(),
        ));
    } else {
        c.json_body(&json!({"username": user, "password": pw, "remember_me": true}));
    }
    let token = jwt(rng, &user, EPOCH_SECS);
    c.hidden.push(user.clone());
    c.plant("jwt", "response.body", "", &token);
    let refresh = chars(rng, ALNUM, 48);
    c.json_response(
        200,
        &json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600, "refresh_token": refresh}),
    );
    c.negative("token_type", "response.body", "$.token_type", "Bearer");
    c
}

fn s_query_lookup(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new("lookup_query", "GET", &["api", "v1", "search"]);
    match rng.below(6) {
        0 => {
            let v = email(rng);
            c.query_plant("email", "email", &v);
        }
        1 => {
            let v = phone(rng);
            c.query_plant("phone", pick(rng, &["phone", "msisdn"]), &v);
        }
        2 => {
            let v = ssn(rng);
            c.query_plant("us_ssn", pick(rng, &["ssn", "q"]), &v);
        }
        3 => {
            let v = card(rng);
            c.query_plant("credit_card", pick(rng, &["card", "pan", "q"]), &v);
        }
        4 => {
            let v = ipv4(rng);
            c.query_plant("ipv4", pick(rng, &["ip", "client_ip"]), &v);
        }
        _ => {
            let v = dob(rng);
            c.query_plant("date_of_birth", pick(rng, &["dob", "birth_date"]), &v);
        }
    }
    if rng.chance(1, 2) {
        let v = uuid(rng);
        c.query.push(("trace".into(), v.clone()));
        c.negative("uuid", "request.query", "trace", &v);
    }
    c.json_response(200, &json!({"results": [], "total": 0}));
    c
}

fn s_path_lookup(rng: &mut SplitMix64) -> Call {
    match rng.below(4) {
        0 => {
            let mut c = Call::new("lookup_path", "GET", &["api", "v1", "users", "by-email"]);
            let v = email(rng);
            c.path_plant("email", &v);
            c.json_response(200, &json!({"exists": true}));
            c
        }
        1 => {
            let mut c = Call::new("lookup_path", "GET", &["api", "v1", "people"]);
            let v = ssn(rng);
            c.path_plant("us_ssn", &v);
            c.json_response(200, &json!({"verified": true}));
            c
        }
        2 => {
            let mut c = Call::new("lookup_path", "GET", &["api", "v1", "cards"]);
            let (d, _) = card_digits(rng);
            c.path_plant("credit_card", &d);
            c.path.push("balance".into());
            c.json_response(200, &json!({"available": rng.range(0, 5000)}));
            c
        }
        _ => {
            let mut c = Call::new("lookup_path", "GET", &["v1", "lookup"]);
            let (a, e, l) = nanp(rng);
            c.path_plant("phone", &format!("+1{a}{e}{l:04}"));
            c.json_response(200, &json!({"carrier": "mobile"}));
            c
        }
    }
}

fn s_config_leak(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new(
        "config_leak",
        "GET",
        &[pick(rng, &["internal", "actuator", "debug"]), "config"],
    );
    let mut m = Map::new();
    // Two to five different kinds of entry.
    let mut kinds: Vec<u64> = (0..8).collect();
    rng.shuffle(&mut kinds);
    let n = rng.range(2, 5) as usize;
    for &k in &kinds[..n] {
        match k {
            0 => {
                let id = aws_key_id(rng);
                let secret = aws_secret(rng);
                c.plant("aws_access_key", "response.body", "", &id);
                c.plant("aws_secret_key", "response.body", "", &secret);
                m.insert("aws_access_key_id".into(), json!(id));
                m.insert("aws_secret_access_key".into(), json!(secret));
            }
            1 => {
                let t = github_token(rng);
                c.plant("github_token", "response.body", "", &t);
                m.insert("github_token".into(), json!(t));
            }
            2 => {
                let t = slack_token(rng);
                c.plant("slack_token", "response.body", "", &t);
                m.insert("slack_webhook".into(), json!(t));
            }
            3 => {
                let t = stripe_key(rng);
                c.plant("stripe_key", "response.body", "", &t);
                m.insert("stripe_secret".into(), json!(t));
            }
            4 => {
                let t = google_key(rng);
                c.plant("google_api_key", "response.body", "", &t);
                m.insert("maps_api_key".into(), json!(t));
            }
            5 => {
                let k = private_key(rng);
                c.plant("private_key", "response.body", "", &k);
                m.insert("tls_key".into(), json!(k));
            }
            6 => {
                let pw = password(rng);
                c.plant("password", "response.body", "", &pw);
                m.insert("db_password".into(), json!(pw));
                m.insert(
                    "db_host".into(),
                    json!(format!("db-{}.internal", rng.below(9))),
                );
            }
            _ => {
                // Documentation placeholders are not secrets.
                m.insert(
                    "example_access_key_id".into(),
                    json!("AKIAIOSFODNN7EXAMPLE"),
                );
                c.negative(
                    "doc_placeholder",
                    "response.body",
                    "$.example_access_key_id",
                    "AKIAIOSFODNN7EXAMPLE",
                );
                let t = format!("sk_test_{}", chars(rng, ALNUM, 24));
                c.plant_test("stripe_key", "response.body", "", &t);
                m.insert("stripe_test_key".into(), json!(t));
            }
        }
    }
    let extra = negatives_obj(&mut c, rng, "response.body", 2);
    for (k, v) in extra {
        m.entry(k).or_insert(v);
    }
    c.json_response(200, &Value::Object(m));
    c
}

fn s_user_dump(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new("user_dump", "GET", &["admin", "users", "export"]);
    let mut users = Vec::new();
    for _ in 0..rng.range(1, 4) {
        let u = pick(rng, FIRST).to_string();
        let h = password_hash(rng);
        c.plant("password_hash", "response.body", "", &h);
        users.push(json!({"username": format!("{u}{}", rng.range(1, 99)), "password_hash": h, "role": pick(rng, &["admin", "user", "support"])}));
    }
    c.json_response(200, &json!({"users": users}));
    c
}

fn s_hr_record(rng: &mut SplitMix64) -> Call {
    let id = rng.range(1000, 99_999).to_string();
    let mut c = Call::new("hr_record", "GET", &["hr", "v1", "employees"]);
    c.path.push(id);
    let s = ssn(rng);
    let bare = rng.chance(1, 4);
    let shown = if bare { s.replace('-', "") } else { s.clone() };
    let ssn_key = if bare {
        pick(rng, &["ssn", "social_security_number"])
    } else {
        pick(rng, &["ssn", "tax_id", "national_id"])
    };
    let p = person(&mut c, rng, "response.body", true);
    c.plant("us_ssn", "response.body", "", &shown);
    let iban_v = iban(rng);
    c.plant("iban", "response.body", "", &iban_v);
    let mut m = Map::new();
    m.insert("employee".into(), p);
    m.insert(ssn_key.into(), json!(shown));
    m.insert(
        "payroll".into(),
        json!({"iban": iban_v, "salary": rng.range(40_000, 180_000)}),
    );
    let extra = negatives_obj(&mut c, rng, "response.body", 2);
    for (k, v) in extra {
        m.entry(k).or_insert(v);
    }
    c.json_response(200, &Value::Object(m));
    c
}

fn s_text_logs(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new("text_logs", "GET", &["debug", "logs"]);
    let mut text = String::new();
    for _ in 0..rng.range(3, 8) {
        match rng.below(5) {
            0 => {
                let ip = ipv4(rng);
                c.plant("ipv4", "response.body", "text", &ip);
                text.push_str(&format!(
                    "{} INFO request from {ip} took {}ms\n",
                    iso_time(rng),
                    rng.range(1, 900)
                ));
            }
            1 => {
                let e = email(rng);
                c.plant("email", "response.body", "text", &e);
                text.push_str(&format!(
                    "{} WARN password reset sent to {e}\n",
                    iso_time(rng)
                ));
            }
            2 => {
                let v = format!("{}.{}.{}", rng.range(1, 9), rng.below(30), rng.below(99));
                c.negative("version_string", "response.body", "text", &v);
                text.push_str(&format!(
                    "{} INFO service started version {v} build {}\n",
                    iso_time(rng),
                    chars(rng, HEX, 7)
                ));
            }
            3 => {
                let u = uuid(rng);
                c.negative("uuid", "response.body", "text", &u);
                text.push_str(&format!(
                    "{} DEBUG job {u} finished in {} s\n",
                    iso_time(rng),
                    rng.range(1, 99)
                ));
            }
            _ => {
                let ip = test_ipv4(rng);
                c.plant_test("ipv4", "response.body", "text", &ip);
                text.push_str(&format!("{} INFO health probe from {ip}\n", iso_time(rng)));
            }
        }
    }
    c.status = 200;
    c.resp_body = Some(("text/plain".into(), text.into_bytes()));
    c
}

fn s_webhook(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new("webhook", "POST", &["webhooks", "github"]);
    let sha = chars(rng, HEX, 40);
    let sig = format!("sha256={}", chars(rng, HEX, 64));
    c.header("X-GitHub-Event", "push");
    c.header("X-GitHub-Delivery", &uuid(rng));
    c.header("X-Hub-Signature-256", &sig);
    c.negative(
        "hmac_signature",
        "request.header",
        "x-hub-signature-256",
        &sig,
    );
    let e = email(rng);
    c.plant("email", "request.body", "", &e);
    c.negative("sha1", "request.body", "$.after", &sha);
    let body = json!({
        "ref": "refs/heads/main",
        "after": sha,
        "repository": {"full_name": format!("{}/{}", pick(rng, LAST), pick(rng, &["api", "web"])), "ssh_url": format!("git@github.com:{}/api.git", pick(rng, LAST))},
        "head_commit": {"message": "Fix pagination", "author": {"name": title_case(pick(rng, FIRST)), "email": e}},
    });
    c.json_body(&body);
    c.status = 204;
    c
}

fn s_product(rng: &mut SplitMix64) -> Call {
    let sku = rng.range(100_000, 999_999).to_string();
    let mut c = Call::new("product", "GET", &["api", "v1", "products"]);
    c.path.push(sku.clone());
    c.negative("numeric_id", "request.path", "path[3]", &sku);
    let mut m = Map::new();
    m.insert("sku".into(), json!(sku));
    m.insert(
        "name".into(),
        json!(format!(
            "{} {}",
            pick(rng, &["Trail", "Urban", "Classic"]),
            pick(rng, &["Backpack", "Jacket", "Lamp", "Mug"])
        )),
    );
    m.insert(
        "description".into(),
        json!("Durable and lightweight, ships in 2-3 days. Contact support for bulk orders."),
    );
    let neg = negatives_obj(&mut c, rng, "response.body", 5);
    for (k, v) in neg {
        m.entry(k).or_insert(v);
    }
    c.json_response(200, &Value::Object(m));
    c
}

fn s_health(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new("health", "GET", &["health"]);
    let v = format!(
        "{}.{}.{}.{}",
        rng.range(1, 9),
        rng.below(20),
        rng.below(99),
        rng.range(1, 254)
    );
    c.negative("version_string", "response.body", "$.version", &v);
    c.json_response(
        200,
        &json!({"status": "ok", "version": v, "uptime_s": rng.range(1, 9_000_000)}),
    );
    c
}

fn s_test_values(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new("sandbox", "POST", &["sandbox", "v1", "checkout"]);
    let card_v = TEST_CARDS[rng.index(TEST_CARDS.len())];
    let mail = test_email(rng);
    let tel = test_phone(rng);
    let ip = test_ipv4(rng);
    c.plant_test("credit_card", "request.body", "", card_v);
    c.plant_test("email", "request.body", "", &mail);
    c.plant_test("phone", "request.body", "", &tel);
    c.plant_test("ipv4", "request.body", "", &ip);
    c.json_body(&json!({"card_number": card_v, "email": mail, "phone": tel, "client_ip": ip}));
    c.json_response(201, &json!({"id": uuid(rng), "mode": "test"}));
    c
}

fn s_header_pii(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new("header_pii", "GET", &["api", "v1", "me", "preferences"]);
    let e = email(rng);
    let name = pick(rng, &["X-User-Email", "From"]);
    c.header(name, &e);
    c.plant("email", "request.header", &name.to_ascii_lowercase(), &e);
    if rng.chance(1, 2) {
        let ip = ipv4(rng);
        // Addresses in forwarding headers are infrastructure, not payload.
        c.header("X-Forwarded-For", &format!("{ip}, 10.0.0.1"));
        c.negative(
            "forwarding_header_ip",
            "request.header",
            "x-forwarded-for",
            &ip,
        );
    }
    let sub = uuid(rng);
    let token = jwt(rng, &sub, EPOCH_SECS);
    c.resp_headers.push((
        "Set-Cookie".into(),
        format!("access_token={token}; Path=/; HttpOnly; Secure"),
    ));
    c.plant("jwt", "response.header", "set-cookie", &token);
    c.json_response(200, &json!({"theme": "dark", "language": "en"}));
    c
}

/// SOAP/XML: values between tags named after them.
fn s_xml(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new("xml", "POST", &["soap", "CustomerService"]);
    let e = email(rng);
    let tel = phone(rng);
    let num = card(rng);
    let s = ssn(rng);
    c.plant("email", "request.body", "text", &e);
    c.plant("phone", "request.body", "text", &tel);
    c.plant("credit_card", "request.body", "text", &num);
    c.plant("us_ssn", "request.body", "text", &s);
    let u = uuid(rng);
    c.negative("uuid", "request.body", "text", &u);
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><UpdateCustomer><CustomerId>{u}</CustomerId><EmailAddress>{e}</EmailAddress><PhoneNumber>{tel}</PhoneNumber><SSN>{s}</SSN><CardNumber>{num}</CardNumber><Created>{}</Created></UpdateCustomer></soap:Body></soap:Envelope>",
        iso_time(rng)
    );
    c.body = Some(("text/xml; charset=utf-8".into(), xml.into_bytes()));
    c.status = 200;
    c.resp_body = Some((
        "text/xml".into(),
        b"<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><UpdateCustomerResponse><Result>OK</Result></UpdateCustomerResponse></soap:Body></soap:Envelope>".to_vec(),
    ));
    c
}

/// Free text inside a JSON field: a support ticket.
fn s_ticket(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new("ticket", "POST", &["api", "v1", "tickets"]);
    let e = email(rng);
    let tel = phone(rng);
    c.plant("email", "request.body", "$.description", &e);
    c.plant("phone", "request.body", "$.description", &tel);
    let mut text = format!(
        "Customer {} ({e}) called from {tel} about order {}. ",
        title_case(pick(rng, FIRST)),
        rng.range(100_000, 999_999)
    );
    if rng.chance(1, 2) {
        let num = card_grouped(&card_digits(rng).0, ' ');
        c.plant("credit_card", "request.body", "$.description", &num);
        text.push_str(&format!("They read out their card {num} by mistake. "));
    }
    if rng.chance(1, 3) {
        let s = ssn(rng);
        c.plant("us_ssn", "request.body", "$.description", &s);
        text.push_str(&format!("SSN on file: {s}. "));
    }
    let v = format!("{}.{}.{}", rng.range(1, 9), rng.below(20), rng.below(99));
    c.negative("version_string", "request.body", "$.description", &v);
    text.push_str(&format!("App version {v}, reported {}.", iso_time(rng)));
    c.json_body(&json!({"subject": "Refund request", "priority": "high", "description": text}));
    c.json_response(201, &json!({"ticket": rng.range(10_000, 99_999)}));
    c
}

/// GraphQL: arguments inline in the query text, and in variables.
fn s_graphql(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new("graphql", "POST", &["graphql"]);
    let e = email(rng);
    let tel = phone(rng);
    c.plant("email", "request.body", "$.query", &e);
    c.plant("phone", "request.body", "$.variables.input.phone", &tel);
    let d = dob(rng);
    c.plant(
        "date_of_birth",
        "request.body",
        "$.variables.input.dateOfBirth",
        &d,
    );
    let id = uuid(rng);
    c.negative("uuid", "request.body", "$.variables.id", &id);
    let q = format!(
        "mutation UpdateProfile($id: ID!, $input: ProfileInput!) {{ updateProfile(id: $id, email: \"{e}\", input: $input) {{ id updatedAt }} }}"
    );
    c.json_body(&json!({"operationName": "UpdateProfile", "query": q, "variables": {"id": id, "input": {"phone": tel, "dateOfBirth": d}}}));
    c.json_response(
        200,
        &json!({"data": {"updateProfile": {"id": id, "updatedAt": iso_time(rng)}}}),
    );
    c
}

/// A multipart upload: form fields and a CSV file part.
fn s_multipart(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new("multipart", "POST", &["api", "v1", "imports"]);
    let boundary = format!("----WebKitFormBoundary{}", chars(rng, ALNUM, 16));
    let owner = email(rng);
    c.plant("email", "request.body", "owner_email", &owner);
    let mut csv = String::from("name,email,phone\n");
    for _ in 0..rng.range(1, 4) {
        let e = email(rng);
        let tel = phone(rng).replace(',', " ");
        c.plant("email", "request.body", "text", &e);
        c.plant("phone", "request.body", "text", &tel);
        csv.push_str(&format!("{},{e},{tel}\n", title_case(pick(rng, FIRST))));
    }
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"owner_email\"\r\n\r\n{owner}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"contacts.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    c.body = Some((
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    ));
    c.json_response(202, &json!({"import_id": uuid(rng)}));
    c
}

/// Errors that echo what they were given (RFC 9457 problem details).
fn s_problem(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new("problem", "POST", &["api", "v1", "password-reset"]);
    let e = email(rng);
    c.plant("email", "request.body", "$.email", &e);
    c.plant("email", "response.body", "$.detail", &e);
    c.json_body(&json!({"email": e}));
    c.status = 404;
    c.resp_body = Some((
        "application/problem+json".into(),
        json!({"type": "about:blank", "title": "Not Found", "status": 404, "detail": format!("No account for {e}"), "instance": format!("/api/v1/password-reset/{}", uuid(rng))}).to_string().into_bytes(),
    ));
    c
}

/// Differently cased and nested field names.
fn s_crm(rng: &mut SplitMix64) -> Call {
    let mut c = Call::new("crm", "PUT", &["crm", "Contacts"]);
    c.path.push(rng.range(1000, 9999).to_string());
    let e = email(rng);
    let tel = phone(rng);
    let d = dob(rng);
    let s = ssn(rng);
    let spaced = s.replace('-', " ");
    c.plant("email", "request.body", "", &e);
    c.plant("phone", "request.body", "", &tel);
    c.plant("date_of_birth", "request.body", "", &d);
    c.plant("us_ssn", "request.body", "", &spaced);
    c.json_body(&json!({
        "EmailAddress": e,
        "Contact": {"Mobile": {"Number": tel, "Verified": true}},
        "DOB": d,
        "SSN": spaced,
        "LastModified": iso_time(rng),
    }));
    c.json_response(200, &json!({"ok": true}));
    c
}

type Scenario = fn(&mut SplitMix64) -> Call;

const SCENARIOS: &[(Scenario, u64)] = &[
    (s_signup, 8),
    (s_profile, 10),
    (s_customers, 6),
    (s_payment, 8),
    (s_transfer, 6),
    (s_login, 8),
    (s_query_lookup, 8),
    (s_path_lookup, 6),
    (s_config_leak, 6),
    (s_user_dump, 4),
    (s_hr_record, 5),
    (s_text_logs, 4),
    (s_webhook, 4),
    (s_product, 10),
    (s_health, 3),
    (s_test_values, 3),
    (s_header_pii, 4),
    (s_xml, 3),
    (s_ticket, 4),
    (s_graphql, 3),
    (s_multipart, 3),
    (s_problem, 3),
    (s_crm, 4),
];

fn draw_scenario(rng: &mut SplitMix64) -> Scenario {
    let total: u64 = SCENARIOS.iter().map(|s| s.1).sum();
    let mut r = rng.below(total);
    for (f, w) in SCENARIOS {
        if r < *w {
            return *f;
        }
        r -= w;
    }
    s_product
}

/// Adds one credential (or none) to the request; returns the expected `auth.scheme`.
fn add_credential(c: &mut Call, rng: &mut SplitMix64) {
    let r = rng.below(100);
    c.scheme = match r {
        0..=19 => {
            // No credential; an analytics cookie is not one.
            if rng.chance(1, 3) {
                c.header(
                    "Cookie",
                    &format!(
                        "_ga=GA1.2.{}.{}; theme=dark",
                        rng.range(100_000_000, 999_999_999),
                        1_700_000_000 + rng.below(50_000_000)
                    ),
                );
            }
            "none"
        }
        20..=44 => {
            let personal = rng.chance(1, 3);
            let sub = if personal { email(rng) } else { uuid(rng) };
            let t = jwt(rng, &sub, EPOCH_SECS);
            if personal {
                c.hidden.push(sub);
            }
            c.header("Authorization", &format!("Bearer {t}"));
            c.plant("jwt", "request.header", "authorization", &t);
            "bearer"
        }
        45..=52 => {
            if rng.chance(1, 2) {
                let t = github_token(rng);
                c.header(
                    "Authorization",
                    &format!("{} {t}", pick(rng, &["Bearer", "token"])),
                );
                c.plant("github_token", "request.header", "authorization", &t);
            } else {
                c.header(
                    "Authorization",
                    &format!("Bearer {}", chars(rng, ALNUM, 40)),
                );
            }
            "bearer"
        }
        53..=60 => {
            let user = if rng.chance(1, 2) {
                let e = email(rng);
                c.plant("email", "request.header", "authorization", &e);
                e
            } else {
                format!("svc-{}", pick(rng, &["billing", "reports", "etl"]))
            };
            let pw = password(rng);
            c.plant("password", "request.header", "authorization", &pw);
            let cred = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"));
            c.hidden.push(pw);
            c.header("Authorization", &format!("Basic {cred}"));
            "basic"
        }
        61..=62 => {
            // Schemes outside the list: Hawk, Azure Shared Key.
            let v = if rng.chance(1, 2) {
                format!(
                    "Hawk id=\"{}\", ts=\"{}\", nonce=\"{}\", mac=\"{}=\"",
                    chars(rng, ALNUM, 12),
                    EPOCH_SECS,
                    chars(rng, ALNUM, 6),
                    chars(rng, B64, 43)
                )
            } else {
                format!("SharedKey {}:{}=", pick(rng, LAST), chars(rng, B64, 43))
            };
            c.header("Authorization", &v);
            "other"
        }
        63..=64 => {
            c.header(
                "Authorization",
                &format!(
                    "Digest username=\"{}\", realm=\"api\", nonce=\"{}\", uri=\"/{}\", qop=auth, nc=00000001, cnonce=\"{}\", response=\"{}\"",
                    pick(rng, FIRST),
                    chars(rng, HEX, 32),
                    c.path.join("/"),
                    chars(rng, HEX, 16),
                    chars(rng, HEX, 32)
                ),
            );
            "digest"
        }
        65..=76 => {
            let name = pick(rng, &["X-API-Key", "x-api-key", "apikey", "X-Auth-Token"]);
            if rng.chance(1, 4) {
                let k = google_key(rng);
                c.header(name, &k);
                c.plant(
                    "google_api_key",
                    "request.header",
                    &name.to_ascii_lowercase(),
                    &k,
                );
            } else {
                c.header(name, &chars(rng, HEX, 32));
            }
            "api_key_header"
        }
        77..=82 => {
            match rng.below(3) {
                0 => {
                    let k = google_key(rng);
                    c.query_plant("google_api_key", "key", &k);
                }
                1 => {
                    let sub = uuid(rng);
                    let t = jwt(rng, &sub, EPOCH_SECS);
                    c.query_plant("jwt", "access_token", &t);
                }
                _ => c.query.push(("api_key".into(), chars(rng, HEX, 40))),
            }
            "api_key_query"
        }
        83..=93 => {
            if rng.chance(1, 3) {
                let sub = uuid(rng);
                let t = jwt(rng, &sub, EPOCH_SECS);
                c.header("Cookie", &format!("access_token={t}; theme=light"));
                c.plant("jwt", "request.header", "cookie", &t);
            } else {
                let (n, v) = match rng.below(3) {
                    0 => ("session", chars(rng, ALNUM, 32)),
                    1 => ("JSESSIONID", chars(rng, b"0123456789ABCDEF", 32)),
                    _ => (
                        "connect.sid",
                        format!("s%3A{}.{}", chars(rng, ALNUM, 32), chars(rng, ALNUM, 43)),
                    ),
                };
                c.header(
                    "Cookie",
                    &format!("{n}={v}; _ga=GA1.2.{}", rng.range(100_000_000, 999_999_999)),
                );
            }
            "cookie"
        }
        _ => {
            let id = aws_key_id(rng);
            if rng.chance(1, 3) {
                c.query
                    .push(("X-Amz-Algorithm".into(), "AWS4-HMAC-SHA256".into()));
                c.query_plant(
                    "aws_access_key",
                    "X-Amz-Credential",
                    &format!("{id}/20260101/us-east-1/s3/aws4_request"),
                );
                if let Some(p) = c.plants.last_mut() {
                    p.value = id.clone();
                }
                c.query
                    .push(("X-Amz-Date".into(), "20260101T000000Z".into()));
                c.query.push(("X-Amz-Expires".into(), "900".into()));
                c.query.push(("X-Amz-SignedHeaders".into(), "host".into()));
                c.query
                    .push(("X-Amz-Signature".into(), chars(rng, HEX, 64)));
            } else {
                c.header(
                    "Authorization",
                    &format!(
                        "AWS4-HMAC-SHA256 Credential={id}/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature={}",
                        chars(rng, HEX, 64)
                    ),
                );
                c.header("X-Amz-Date", "20260101T000000Z");
                c.plant("aws_access_key", "request.header", "authorization", &id);
            }
            "aws_sigv4"
        }
    };
}

/// Percent-encoding for query values and form bodies (unreserved characters kept).
fn form_enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encoding for path segments (`@`, `+` and `:` kept, as browsers do).
fn path_enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'@' | b'+' | b':')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fn chunked(data: &[u8], rng: &mut SplitMix64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let n = (rng.range(16, 700) as usize).min(data.len() - i);
        out.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        out.extend_from_slice(&data[i..i + n]);
        out.extend_from_slice(b"\r\n");
        i += n;
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

const HOSTS: &[&str] = &[
    "api.acme-corp.io",
    "accounts.globex.com",
    "pay.initech.co",
    "hr.hooli.dev",
    "api.bank-nordic.se",
    "shop.umbrella-group.de",
];

/// Fills in the JSON and form fields of the plants, then writes the request and response.
fn finish(c: &mut Call, host: &str, rng: &mut SplitMix64) -> (Vec<u8>, Vec<u8>) {
    let req_json: Option<Value> = c
        .body
        .as_ref()
        .filter(|(ct, _)| ct.contains("json"))
        .and_then(|(_, b)| serde_json::from_slice(b).ok());
    let req_form: Option<String> = c
        .body
        .as_ref()
        .filter(|(ct, _)| ct.contains("form"))
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned());
    let resp_json: Option<Value> = c
        .resp_body
        .as_ref()
        .filter(|(ct, _)| ct.contains("json"))
        .and_then(|(_, b)| serde_json::from_slice(b).ok());
    for p in c.plants.iter_mut().filter(|p| p.field.is_empty()) {
        let doc = match p.location {
            "request.body" => req_json.as_ref(),
            "response.body" => resp_json.as_ref(),
            _ => None,
        };
        if let Some(path) = doc.and_then(|d| json_path_of(d, &p.value)) {
            p.field = path;
        } else if let Some(form) = req_form.as_ref().filter(|_| p.location == "request.body") {
            let enc = form_enc(&p.value);
            if let Some(pair) = form
                .split('&')
                .find(|kv| kv.split_once('=').is_some_and(|(_, v)| v == enc))
            {
                p.field = pair.split('=').next().unwrap_or_default().to_string();
            }
        }
    }
    let mut target = String::new();
    for s in &c.path {
        target.push('/');
        target.push_str(&path_enc(s));
    }
    if !c.query.is_empty() {
        target.push('?');
        let q: Vec<String> = c
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", form_enc(k), form_enc(v)))
            .collect();
        target.push_str(&q.join("&"));
    }
    let mut req = format!(
        "{} {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {}\r\nAccept: application/json\r\nX-Request-Id: {}\r\n",
        c.method,
        pick(rng, &["okhttp/4.12.0", "python-requests/2.32.3", "Go-http-client/1.1", "axios/1.7.2", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"]),
        uuid(rng)
    );
    for (k, v) in &c.headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let mut req = req.into_bytes();
    match &c.body {
        Some((ct, b)) => {
            req.extend_from_slice(
                format!("Content-Type: {ct}\r\nContent-Length: {}\r\n\r\n", b.len()).as_bytes(),
            );
            req.extend_from_slice(b);
        }
        None => req.extend_from_slice(b"\r\n"),
    }
    let reason = match c.status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        _ => "OK",
    };
    let mut resp = format!(
        "HTTP/1.1 {} {reason}\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\nServer: {}\r\n",
        c.status,
        pick(rng, &["nginx", "envoy", "gunicorn", "Kestrel"])
    );
    for (k, v) in &c.resp_headers {
        resp.push_str(&format!("{k}: {v}\r\n"));
    }
    let mut resp = resp.into_bytes();
    match &c.resp_body {
        Some((ct, b)) if c.status != 204 => {
            let gz = b.len() > 200 && rng.chance(1, 4);
            let data = if gz { gzip(b) } else { b.clone() };
            resp.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
            if gz {
                resp.extend_from_slice(b"Content-Encoding: gzip\r\n");
            }
            if rng.chance(1, 4) {
                resp.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                resp.extend_from_slice(&chunked(&data, rng));
            } else {
                resp.extend_from_slice(
                    format!("Content-Length: {}\r\n\r\n", data.len()).as_bytes(),
                );
                resp.extend_from_slice(&data);
            }
        }
        _ => resp.extend_from_slice(b"\r\n"),
    }
    (req, resp)
}

/// Everything generated, in memory.
pub struct Generated {
    pub packets: Vec<(u64, Vec<u8>)>,
    pub calls: Vec<CallLabel>,
    pub connections: usize,
}

/// Generates the traffic (see the module docs).
pub fn generate(opts: &SensitiveTrafficOptions) -> Result<Generated, SynthError> {
    if opts.calls == 0 || opts.calls > MAX_CALLS {
        return Err(SynthError::arg(format!(
            "calls must be within 1..={MAX_CALLS}"
        )));
    }
    let mut root = SplitMix64::new(opts.seed);
    let mut net = root.fork();
    let mut content = root.fork();
    let style = FrameStyle {
        pad_ethernet: true,
        ..FrameStyle::default()
    };
    let mut packets = Vec::new();
    let mut calls = Vec::with_capacity(opts.calls);
    let mut start = EPOCH_US;
    let mut connections = 0usize;
    while calls.len() < opts.calls {
        connections += 1;
        start += 1 + net.below(4_000);
        let client_ip = Ipv4Addr::new(
            10,
            20,
            (connections / 250) as u8,
            (connections % 250) as u8 + 1,
        );
        let server_ip = Ipv4Addr::new(10, 30, 0, 1 + net.below(6) as u8);
        let host = HOSTS[usize::from(server_ip.octets()[3] - 1) % HOSTS.len()];
        let csa = SocketAddr::new(
            IpAddr::V4(client_ip),
            20_000 + (connections % 40_000) as u16,
        );
        let ssa = SocketAddr::new(
            IpAddr::V4(server_ip),
            if net.chance(1, 2) { 80 } else { 8080 },
        );
        let mut conv = Conversation::new(csa, ssa, net.next_u32(), net.next_u32(), start)
            .with_step_us(20 + net.below(200));
        conv.handshake();
        let n = (1 + net.below(4) as usize).min(opts.calls - calls.len());
        for k in 0..n {
            let mut c = draw_scenario(&mut content)(&mut content);
            add_credential(&mut c, &mut content);
            let (req, resp) = finish(&mut c, host, &mut content);
            conv.client(&req)
                .pause(500 + net.below(40_000))
                .server(&resp);
            if k + 1 < n {
                conv.pause(1_000 + net.below(200_000));
            }
            calls.push(CallLabel {
                client: csa.to_string(),
                tx_id: k as u64,
                scenario: c.scenario,
                method: c.method,
                auth_scheme: c.scheme,
                plants: c.plants,
                negatives: c.negatives,
                hidden: c.hidden,
            });
        }
        conv.fin();
        for (ts, f) in conv.frames(&style)? {
            packets.push((ts, f.to_bytes()?));
        }
    }
    packets.sort_by_key(|p| p.0);
    Ok(Generated {
        packets,
        calls,
        connections,
    })
}

/// Writes the capture and the labels into `dir` (created if missing).
pub fn write_sensitive_traffic(
    dir: &Path,
    opts: &SensitiveTrafficOptions,
) -> Result<SensitiveTrafficInfo, SynthError> {
    let g = generate(opts)?;
    fs::create_dir_all(dir)?;
    let file = BufWriter::new(File::create(dir.join(PCAP_NAME))?);
    let mut w = PcapWriter::new(file, LINKTYPE_ETHERNET, DEFAULT_SNAPLEN)?;
    let mut bytes = 24u64;
    for (ts, data) in &g.packets {
        w.write_frame(*ts, data)?;
        bytes += 16 + data.len() as u64;
    }
    w.into_inner()?.flush()?;
    let labels = json!({
        "seed": opts.seed,
        "calls": g.calls,
    });
    let text = serde_json::to_string(&labels).map_err(|e| SynthError::arg(e.to_string()))?;
    fs::write(dir.join(LABELS_NAME), text)?;
    Ok(SensitiveTrafficInfo {
        packets: g.packets.len() as u64,
        bytes,
        connections: g.connections,
        calls: g.calls.len(),
        plants: g.calls.iter().map(|c| c.plants.len()).sum(),
        negatives: g.calls.iter().map(|c| c.negatives.len()).sum(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn generators_follow_the_formats() {
        let mut rng = SplitMix64::new(7);
        for _ in 0..500 {
            let (d, _) = card_digits(&mut rng);
            assert!(luhn_ok(&d) && (14..=16).contains(&d.len()), "{d}");
            assert!(!luhn_ok(&non_luhn_16(&mut rng)));
            let i = iban_compact(&mut rng);
            assert_eq!(iban_mod97(&i), 1, "{i}");
            assert_ne!(iban_mod97(&bad_iban(&mut rng)), 1);
            let s = ssn(&mut rng);
            let area: u32 = s[..3].parse().unwrap();
            assert!(area > 0 && area < 900 && area != 666, "{s}");
            assert!(!s.ends_with("-0000") && !s[4..6].eq("00"));
            assert_eq!(aws_key_id(&mut rng).len(), 20);
            assert_eq!(google_key(&mut rng).len(), 39);
        }
        // The standards' sample IBAN is valid (it is planted as test data).
        assert_eq!(iban_mod97("GB82WEST12345698765432"), 1);
        assert!(TEST_CARDS.iter().all(|c| luhn_ok(c)));
    }

    fn iban_mod97(s: &str) -> u32 {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let r = format!("{}{}", &s[4..], &s[..4]);
        let mut rem = 0u32;
        for c in r.chars() {
            let v = c.to_digit(36).unwrap();
            rem = if v >= 10 {
                (rem * 100 + v) % 97
            } else {
                (rem * 10 + v) % 97
            };
        }
        rem
    }

    #[test]
    fn generation_is_deterministic_and_labelled() {
        let opts = SensitiveTrafficOptions {
            seed: 3,
            calls: 300,
        };
        let a = generate(&opts).unwrap();
        let b = generate(&opts).unwrap();
        assert_eq!(a.packets, b.packets);
        assert_eq!(a.calls.len(), 300);
        // Every JSON and form plant found its field.
        for c in &a.calls {
            for p in &c.plants {
                assert!(!p.field.is_empty(), "{} {p:?}", c.scenario);
            }
        }
        let schemes: std::collections::BTreeSet<&str> =
            a.calls.iter().map(|c| c.auth_scheme).collect();
        assert_eq!(schemes.len(), 9, "{schemes:?}");
    }
}
