//! `analyze` stage: sensitive data in one HTTP transaction, found and typed, never leaked.
//!
//! **Input**: the pieces `http` already parsed: header lists, the raw query string, the
//! path, and bodies (de-chunked, decompressed, possibly cut at a cap) with their media type.
//! **Output**: [`Detection`]s (type, location, field, in-memory raw value, test-data flag)
//! appended to the caller's vector, plus [`ScanNotes`] telling which limit cut the work
//! short. [`Detection::to_item`] turns one into the `sensitive[]` item of
//! `docs/EVENTS.md`, redacted by a keyed [`Redactor`]; the raw value is never serialised.
//!
//! **How** (see `scan.rs` for the details): bodies are first parsed (a lenient streaming JSON
//! walk giving `$.json.paths`, form pairs, multipart parts, or plain text; binary bodies are
//! skipped), then each value gets one Aho-Corasick prefilter pass and one digit-run pass,
//! and only the validators of what was hit run (Luhn and issuer tables, SSN ranges, IBAN
//! mod-97, JWT JSON decoding, TLD list…). Field names add context (`password`, `ssn`, `dob`,
//! `phone`, `api_key`…) through one normalised lookup per distinct key.
//!
//! **Guarantees**: no panic and no unbounded work on any input (every limit is a
//! [`SensitiveConfig`] field with a documented default, and hitting one sets a
//! [`ScanNotes`] flag); at most `max_detections_per_tx` detections in `out`; the same
//! (type, location, field, value) is reported once; [`Detector`] is immutable after
//! [`Detector::new`], `Send + Sync`, built once and shared by all workers.
//!
//! **Field names**: header name in lower case; query/form key as decoded; `path[i]` for the
//! i-th path segment (0-based, after the leading `/`); a JSON path `$.user.email`,
//! `$.items[0].card`, `$["odd key"]`, `$` for a top-level scalar; `text` for a text body,
//! or the key of a `key=value` / `"key": "value"` / `<key>value</key>` pair found in it.
//!
//! **Policy decisions**:
//! - Test data: PSP test cards (`4242 4242 4242 4242`…), `sk_test_`/`rk_test_` keys,
//!   `example.com`/`.net`/`.org` addresses, RFC 5737 documentation addresses, the sample
//!   IBANs of the standards, the jwt.io sample token and 555-01xx numbers are reported with
//!   `test_data: true` (they still show where real data would flow); set
//!   `report_test_data = false` to drop them. Documentation placeholders
//!   (`AKIAIOSFODNN7EXAMPLE`, `wJalr…EXAMPLEKEY`, `sk_live_xxxx…`) and famous invalid SSNs
//!   (`078-05-1120`, `123-45-6789`) are not reported at all.
//! - Stripe publishable keys (`pk_live_`, `pk_test_`) are public by design: not reported.
//! - IPv4: reported in bodies and query values only (headers such as `X-Forwarded-For` and
//!   paths are infrastructure, not payload), private and public unicast alike; never
//!   loopback, unspecified, multicast or broadcast, never in a `version` field or after
//!   `version`/`build`, never glued to letters (`v1.2.3.4`) or in longer dotted runs.
//! - SSN redaction shows no digit at all (`***-**-****`); card redaction the last four.
//! - Cards: a bare digit run must be 14-16 digits (12-19 in a card-named field) and not in an
//!   id-like field (`*_id`, `*Number`, `createdAt`…); a JSON *number* is a card only in a
//!   card-named field (numbers are ids); separated forms (`4111 1111 1111 1111`) may be 13-19.
//! - Phones without a field name only in clear formats: `+` E.164, `(415) 555-2671`,
//!   `415-555-2671`; never bare digit runs.
//! - Extra types: `password_hash` (crypt formats) and `secret` (a secret-looking value in a
//!   credential-named field, an opaque `Bearer` token, or an `X-Api-Key`).
//! - `Authorization: Basic` yields a `password` detection for the decoded password.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![forbid(unsafe_code)]

mod config;
mod custom;
mod decode;
mod fields;
mod json;
mod redact;
mod scan;
mod tld;
mod validate;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod candidate_tests {
    use super::*;

    #[test]
    fn digit_candidates() {
        for yes in [
            "536-22-1947",
            "4111 1111 1111 1111",
            "+33 6 12 34 56 78",
            "(415) 555-2671",
            "10.0.0.1",
            "DE89370400440532013000",
            "GB82 WEST 1234 5698 7654 32",
            "x1 536-22-1947",
            "4155552671",
            "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        ] {
            assert!(digit_candidate(yes.as_bytes()), "{yes}");
        }
        for no in [
            "2025-01-01T12:00:00Z",
            "item-123456",
            "19.99",
            "v1.2.3",
            "12345678",
            "2024/01/15",
            "abc",
            "",
        ] {
            assert!(!digit_candidate(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn has_digit_is_exact() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut w = *b"xxxxxxxx";
                w[at] = b;
                assert_eq!(has_digit(&w), b.is_ascii_digit(), "{b} at {at}");
            }
            assert_eq!(has_digit(&[b; 8]), b.is_ascii_digit(), "{b}");
        }
    }

    // Byte classes of the reference scan: digit, chain separator, capital, phone prefix, dot.
    const C_DIGIT: u8 = 1;
    const C_SEP: u8 = 2;
    const C_UPPER: u8 = 4;
    const C_PREFIX: u8 = 8;
    const C_DOT: u8 = 16;

    /// The reference scan's class bits, from the DFA's byte classes.
    fn reference_class(c: u8) -> u8 {
        match dfa_class()[usize::from(c)] {
            K_DIGIT => C_DIGIT,
            K_UPPER => C_UPPER,
            K_SEP => C_SEP,
            K_DOT => C_SEP | C_DOT,
            K_PREFIX => C_PREFIX,
            _ => 0,
        }
    }

    /// The byte-at-a-time form of `digit_candidate` (before it became a DFA), as the
    /// reference the fast form must agree with.
    fn digit_candidate_bytewise(v: &[u8]) -> bool {
        let (mut digits, mut dots, mut in_chain) = (0u32, 0u32, false);
        let mut pending = 0u8;
        let (mut prev, mut prev2) = (0u8, 0u8);
        for &c in v {
            let k = reference_class(c);
            if k & C_DIGIT != 0 {
                if !in_chain {
                    if prev & C_PREFIX != 0 || (prev & C_UPPER != 0 && prev2 & C_UPPER != 0) {
                        return true;
                    }
                    (in_chain, digits, dots) = (true, 0, 0);
                } else if pending & C_DOT != 0 {
                    dots += 1;
                    if dots >= 3 {
                        return true;
                    }
                }
                pending = 0;
                digits += 1;
                if digits >= 9 {
                    return true;
                }
            } else if in_chain && k & C_SEP != 0 && pending == 0 {
                pending = k;
            } else {
                in_chain = false;
                pending = 0;
            }
            (prev2, prev) = (prev, k);
        }
        false
    }

    #[test]
    fn dfa_agrees_with_the_bytewise_scan() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let alphabet = b"0123456789 -./+(ABZabxyz";
        let (mut accepted, mut rejected) = (0, 0);
        for n in 0..200_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let len = (rng % 100) as usize;
            // Half the values mostly letters (whole words without digits), half mostly
            // digits and separators (long chains).
            let letters = if n % 2 == 0 { 11 } else { 1 };
            let mut r = rng;
            let v: Vec<u8> = (0..len)
                .map(|_| {
                    r = r.rotate_left(7).wrapping_mul(0x2545_f491_4f6c_dd1d);
                    if (r >> 60) < letters {
                        b'x' + (r >> 58 & 1) as u8
                    } else {
                        alphabet[(r >> 40) as usize % alphabet.len()]
                    }
                })
                .collect();
            let want = digit_candidate_bytewise(&v);
            let shown = String::from_utf8_lossy(&v);
            assert_eq!(digit_candidate(&v), want, "{shown:?}");
            if want {
                accepted += 1;
            } else {
                rejected += 1;
            }
        }
        assert!(
            accepted > 20_000 && rejected > 20_000,
            "{accepted} / {rejected}"
        );
    }

    /// Property: a value the candidate check rejects gives no digit-based detection.
    #[test]
    fn rejected_values_have_no_digit_detections() {
        let d = Detector::new(&SensitiveConfig::default()).unwrap_or_else(|_| unreachable!());
        let mut rng = 0x1234_5678_9abc_def0u64;
        let alphabet = b"0123456789 -./+()ABZab:x";
        let mut rejected = 0;
        for _ in 0..200_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let len = 4 + (rng % 24) as usize;
            let mut r = rng;
            let v: Vec<u8> = (0..len)
                .map(|_| {
                    r = r.rotate_left(5).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                    alphabet[(r >> 58) as usize % alphabet.len()]
                })
                .collect();
            if digit_candidate(&v) {
                continue;
            }
            rejected += 1;
            let mut body = Vec::new();
            d.scan_body(Location::ResponseBody, Some("text/plain"), &v, &mut body);
            assert!(
                body.is_empty(),
                "{:?} gave {body:?}",
                String::from_utf8_lossy(&v)
            );
        }
        assert!(rejected > 10_000);
    }
}

use std::borrow::Cow;
use std::fmt;
use std::ops::ControlFlow;
use std::sync::Arc;

use serde::Serialize;

pub use config::{
    CustomRule, RuleError, SensitiveConfig, Severity, DEFAULT_DOB_MAX_YEAR, DEFAULT_DOB_MIN_YEAR,
    DEFAULT_MAX_CUSTOM_INPUT_BYTES, DEFAULT_MAX_DETECTIONS_PER_TX, DEFAULT_MAX_JSON_DEPTH,
    DEFAULT_MAX_SCAN_BYTES, DEFAULT_MAX_TOKEN_BYTES, DEFAULT_MAX_VALUES, DEFAULT_MAX_VALUE_BYTES,
};
pub use redact::{mask, mask_for_log, Redactor, TAG_HEX_LEN};

use custom::CustomRules;
use decode::{
    body_kind, cookie_pairs, form_pairs, looks_binary, multipart_parts, path_segments, BodyKind,
};
use fields::{classify, KeyCtx};
use json::{walk, Scalar, Seg, WalkEnd};
use scan::{FieldRef, Mode, Pat, Prefilter, Unit};
use validate::{password_ok, Verdict, B64STD};

/// The type of a detected value; [`DataType::name`] is the EVENTS.md `sensitive[].type`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DataType {
    Email,
    CreditCard,
    UsSsn,
    Phone,
    Iban,
    Jwt,
    AwsAccessKey,
    AwsSecretKey,
    GithubToken,
    SlackToken,
    StripeKey,
    GoogleApiKey,
    PrivateKey,
    Password,
    PasswordHash,
    Ipv4,
    DateOfBirth,
    /// A secret-looking value in a credential-named field (extra type `secret`).
    Secret,
    /// An operator rule.
    Custom(Arc<CustomType>),
}

/// The name and severity of a custom rule's type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CustomType {
    pub name: String,
    pub severity: Severity,
}

impl DataType {
    /// Every built-in type.
    pub const BUILTIN: [DataType; 18] = [
        DataType::Email,
        DataType::CreditCard,
        DataType::UsSsn,
        DataType::Phone,
        DataType::Iban,
        DataType::Jwt,
        DataType::AwsAccessKey,
        DataType::AwsSecretKey,
        DataType::GithubToken,
        DataType::SlackToken,
        DataType::StripeKey,
        DataType::GoogleApiKey,
        DataType::PrivateKey,
        DataType::Password,
        DataType::PasswordHash,
        DataType::Ipv4,
        DataType::DateOfBirth,
        DataType::Secret,
    ];

    /// The `sensitive[].type` name.
    pub fn name(&self) -> &str {
        match self {
            DataType::Email => "email",
            DataType::CreditCard => "credit_card",
            DataType::UsSsn => "us_ssn",
            DataType::Phone => "phone",
            DataType::Iban => "iban",
            DataType::Jwt => "jwt",
            DataType::AwsAccessKey => "aws_access_key",
            DataType::AwsSecretKey => "aws_secret_key",
            DataType::GithubToken => "github_token",
            DataType::SlackToken => "slack_token",
            DataType::StripeKey => "stripe_key",
            DataType::GoogleApiKey => "google_api_key",
            DataType::PrivateKey => "private_key",
            DataType::Password => "password",
            DataType::PasswordHash => "password_hash",
            DataType::Ipv4 => "ipv4",
            DataType::DateOfBirth => "date_of_birth",
            DataType::Secret => "secret",
            DataType::Custom(c) => &c.name,
        }
    }

    /// A built-in type by name.
    pub fn builtin_from_name(name: &str) -> Option<DataType> {
        DataType::BUILTIN.iter().find(|d| d.name() == name).cloned()
    }

    /// The default severity of exposing this type (for `sensitive_data_exposure` findings).
    pub fn severity(&self) -> Severity {
        match self {
            DataType::PrivateKey
            | DataType::AwsSecretKey
            | DataType::StripeKey
            | DataType::GithubToken
            | DataType::SlackToken
            | DataType::Password => Severity::Critical,
            DataType::CreditCard
            | DataType::UsSsn
            | DataType::Iban
            | DataType::PasswordHash
            | DataType::GoogleApiKey
            | DataType::Secret => Severity::High,
            DataType::Jwt
            | DataType::AwsAccessKey
            | DataType::Email
            | DataType::Phone
            | DataType::DateOfBirth => Severity::Medium,
            DataType::Ipv4 => Severity::Low,
            DataType::Custom(c) => c.severity,
        }
    }

    /// Bit for the disabled-types mask (custom types are never disabled this way).
    fn bit(&self) -> u32 {
        DataType::BUILTIN
            .iter()
            .position(|d| d == self)
            .map_or(0, |i| 1u32 << i)
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where in the transaction a value was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Location {
    RequestHeader,
    RequestQuery,
    RequestPath,
    RequestBody,
    ResponseHeader,
    ResponseBody,
}

impl Location {
    /// The `sensitive[].location` name.
    pub fn name(self) -> &'static str {
        match self {
            Location::RequestHeader => "request.header",
            Location::RequestQuery => "request.query",
            Location::RequestPath => "request.path",
            Location::RequestBody => "request.body",
            Location::ResponseHeader => "response.header",
            Location::ResponseBody => "response.body",
        }
    }
}

/// One detected value (or, in the elements of a JSON array, every value of one type in one
/// field: `field` is then written with `[*]` and `raw` is the first value). `raw` stays in
/// memory: it is neither serialised nor shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Detection {
    pub kind: DataType,
    pub location: Location,
    pub field: String,
    pub raw: String,
    pub test_data: bool,
    /// Values folded into this detection: 1, or more for array elements.
    pub count: u32,
}

impl fmt::Debug for Detection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detection")
            .field("kind", &self.kind.name())
            .field("location", &self.location.name())
            .field("field", &self.field)
            .field("raw", &mask_for_log(&self.raw))
            .field("test_data", &self.test_data)
            .field("count", &self.count)
            .finish()
    }
}

/// The `sensitive[]` item of an `http` event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SensitiveItem {
    #[serde(rename = "type")]
    pub kind: String,
    pub location: &'static str,
    pub field: String,
    pub redacted: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub test_data: bool,
    /// How many values the item stands for: 1, or the number found in the elements of a
    /// JSON array (`field` then reads `$.items[*].email`).
    pub count: u32,
    /// The type, with its severity (not serialised: `type` names it).
    #[serde(skip)]
    pub data_type: DataType,
}

impl Detection {
    /// The event item, redacted.
    pub fn to_item(&self, redactor: &Redactor) -> SensitiveItem {
        SensitiveItem {
            kind: self.kind.name().to_owned(),
            location: self.location.name(),
            field: self.field.clone(),
            redacted: redactor.redact(&self.kind, &self.raw),
            test_data: self.test_data,
            count: self.count,
            data_type: self.kind.clone(),
        }
    }
}

/// Which limits cut a scan short (for anomalies and `stats` counters). All false normally.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanNotes {
    /// `max_detections_per_tx` reached: later detections dropped.
    pub detections_capped: bool,
    /// `max_values` reached: later values not examined.
    pub values_capped: bool,
    /// `max_json_depth` reached: deeper containers skipped.
    pub depth_capped: bool,
    /// `max_scan_bytes` or `max_value_bytes` reached: the tail not examined.
    pub bytes_capped: bool,
    /// The JSON body ended inside a value (cut at a cap): what was complete was scanned.
    pub json_truncated: bool,
    /// The JSON body had a syntax error: the rest was scanned as text.
    pub json_invalid: bool,
    /// The body was binary and skipped.
    pub binary_skipped: bool,
}

impl ScanNotes {
    /// Folds another call's notes into these.
    pub fn merge(&mut self, o: ScanNotes) {
        self.detections_capped |= o.detections_capped;
        self.values_capped |= o.values_capped;
        self.depth_capped |= o.depth_capped;
        self.bytes_capped |= o.bytes_capped;
        self.json_truncated |= o.json_truncated;
        self.json_invalid |= o.json_invalid;
        self.binary_skipped |= o.binary_skipped;
    }
}

/// The numeric part of the config, copied in.
#[derive(Clone, Debug)]
struct Limits {
    max_detections_per_tx: usize,
    max_json_depth: usize,
    max_values: usize,
    max_scan_bytes: usize,
    max_value_bytes: usize,
    max_token_bytes: usize,
    ipv4: bool,
    report_test_data: bool,
    dob_min_year: u16,
    dob_max_year: u16,
}

/// Headers never scanned: framing, caching and negotiation carry no payload.
const SKIP_HEADERS: &[&str] = &[
    "content-length",
    "content-type",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "date",
    "expires",
    "last-modified",
    "if-modified-since",
    "if-unmodified-since",
    "etag",
    "if-match",
    "if-none-match",
    "accept",
    "accept-encoding",
    "accept-language",
    "accept-ranges",
    "cache-control",
    "pragma",
    "vary",
    "age",
    "range",
    "content-range",
    "te",
    "trailer",
    "upgrade",
    "via",
    "host",
    "strict-transport-security",
    "x-content-type-options",
    "x-frame-options",
    "x-xss-protection",
    "content-security-policy",
    "referrer-policy",
];

/// The detector: compiled once from [`SensitiveConfig`], then shared (`Send + Sync`).
///
/// Each `scan_*` call appends to `out` and returns what was capped. Pass one `out` vector per
/// transaction: `max_detections_per_tx` bounds `out.len()`.
pub struct Detector {
    enabled: bool,
    limits: Limits,
    pre: Prefilter,
    custom: CustomRules,
    disabled: u32,
}

impl fmt::Debug for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detector")
            .field("limits", &self.limits)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

impl Detector {
    /// Validates the limits, compiles the prefilter and the custom rules.
    pub fn new(cfg: &SensitiveConfig) -> Result<Detector, RuleError> {
        cfg.check_limits()?;
        let mut disabled = 0u32;
        for name in &cfg.disabled_types {
            let d = DataType::builtin_from_name(name)
                .ok_or_else(|| RuleError::UnknownType { name: name.clone() })?;
            disabled |= d.bit();
        }
        let pre = Prefilter::new().map_err(|e| RuleError::Prefilter {
            reason: e.to_string(),
        })?;
        let custom = CustomRules::new(&cfg.custom_rules, cfg.max_custom_input_bytes)?;
        Ok(Detector {
            enabled: cfg.enabled,
            limits: Limits {
                max_detections_per_tx: cfg.max_detections_per_tx,
                max_json_depth: cfg.max_json_depth,
                max_values: cfg.max_values,
                max_scan_bytes: cfg.max_scan_bytes,
                max_value_bytes: cfg.max_value_bytes,
                max_token_bytes: cfg.max_token_bytes,
                ipv4: cfg.ipv4,
                report_test_data: cfg.report_test_data,
                dob_min_year: cfg.dob_min_year,
                dob_max_year: cfg.dob_max_year,
            },
            pre,
            custom,
            disabled,
        })
    }

    /// `[sensitive] enabled`.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    fn disabled(&self, kind: &DataType) -> bool {
        self.disabled & kind.bit() != 0
    }

    /// Scans request or response headers (`name`, raw value bytes). `Authorization` is split
    /// by scheme (`Bearer` tokens checked as secrets and JWTs, `Basic` decoded to a
    /// `password`), cookies are split into named values, the query of `Referer`/`Location`
    /// is decoded, and framing/caching headers are skipped. No IPv4 in headers.
    pub fn scan_headers(
        &self,
        loc: Location,
        headers: &[(&str, &[u8])],
        out: &mut Vec<Detection>,
    ) -> ScanNotes {
        self.scan_header_iter(loc, headers.iter().copied(), out)
    }

    /// [`Detector::scan_headers`] over a parsed message's headers.
    pub fn scan_message_headers(
        &self,
        loc: Location,
        headers: &[crate::http::Header],
        out: &mut Vec<Detection>,
    ) -> ScanNotes {
        let pairs = headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.as_slice()));
        self.scan_header_iter(loc, pairs, out)
    }

    fn scan_header_iter<'h>(
        &self,
        loc: Location,
        headers: impl Iterator<Item = (&'h str, &'h [u8])>,
        out: &mut Vec<Detection>,
    ) -> ScanNotes {
        let mut u = Unit::new(out, loc);
        for (name, value) in headers {
            if u.full || !u.count_value(self.limits.max_values) {
                break;
            }
            let mut low = [0u8; 64];
            let lname = crate::analyze::ascii_lower(name, &mut low);
            let lname: &str = &lname;
            if SKIP_HEADERS.contains(&lname) {
                continue;
            }
            let field = FieldRef::Name(lname);
            match lname {
                "authorization" | "proxy-authorization" => {
                    self.scan_authorization(&mut u, lname, value)
                }
                "cookie" | "set-cookie" => {
                    let pairs = cookie_pairs(value);
                    let take = if lname == "cookie" { usize::MAX } else { 1 };
                    for (k, v) in pairs.take(take) {
                        if u.full || !u.count_value(self.limits.max_values) {
                            break;
                        }
                        self.scan_value(&mut u, &field, classify(k), Some(k), v, Mode::Header);
                    }
                }
                "referer" | "location" | "content-location" => {
                    let (head, query) = match memchr::memchr(b'?', value) {
                        Some(q) => (value.get(..q).unwrap_or_default(), value.get(q + 1..)),
                        None => (value, None),
                    };
                    self.scan_value(
                        &mut u,
                        &field,
                        KeyCtx::NONE,
                        Some(lname.as_bytes()),
                        head,
                        Mode::Header,
                    );
                    if let Some(q) = query {
                        let q = q
                            .get(..memchr::memchr(b'#', q).unwrap_or(q.len()))
                            .unwrap_or_default();
                        for (k, v) in form_pairs(q) {
                            if u.full || !u.count_value(self.limits.max_values) {
                                break;
                            }
                            self.scan_value(
                                &mut u,
                                &field,
                                classify(&k),
                                Some(&k),
                                &v,
                                Mode::Header,
                            );
                        }
                    }
                }
                _ => {
                    let ctx = classify(lname.as_bytes());
                    self.scan_value(
                        &mut u,
                        &field,
                        ctx,
                        Some(lname.as_bytes()),
                        value,
                        Mode::Header,
                    );
                }
            }
        }
        u.finish()
    }

    fn scan_authorization(&self, u: &mut Unit<'_>, lname: &str, value: &[u8]) {
        let field = FieldRef::Name(lname);
        let v = value.trim_ascii();
        let (scheme, cred) = match memchr::memchr(b' ', v) {
            Some(sp) => (
                v.get(..sp).unwrap_or_default(),
                v.get(sp + 1..).unwrap_or_default().trim_ascii(),
            ),
            None => (&b""[..], v),
        };
        let scheme_is = |s: &str| scheme.eq_ignore_ascii_case(s.as_bytes());
        if scheme_is("basic") {
            use base64::Engine as _;
            if let Ok(decoded) = B64STD.decode(cred) {
                if let Some(colon) = memchr::memchr(b':', &decoded) {
                    let user = decoded.get(..colon).unwrap_or_default();
                    let pass = decoded.get(colon + 1..).unwrap_or_default();
                    self.scan_value(u, &field, KeyCtx::NONE, None, user, Mode::Header);
                    if !pass.is_empty() && password_ok(pass) {
                        u.push(self, DataType::Password, &field, pass, Verdict::Real);
                    }
                    return;
                }
            }
            self.scan_value(u, &field, KeyCtx::NONE, None, cred, Mode::Header);
        } else if scheme.is_empty() || scheme_is("bearer") || scheme_is("token") || scheme_is("jwt")
        {
            self.scan_value(
                u,
                &field,
                KeyCtx::SECRET,
                Some(lname.as_bytes()),
                cred,
                Mode::Header,
            );
        } else if scheme_is("digest") || scheme_is("negotiate") || scheme_is("ntlm") {
            // Challenge-response material, not a reusable secret.
        } else {
            self.scan_value(
                u,
                &field,
                KeyCtx::NONE,
                Some(lname.as_bytes()),
                v,
                Mode::Header,
            );
        }
    }

    /// Scans a raw query string (`a=1&b=2`, leading `?` allowed): form-urlencoded pairs,
    /// percent-decoded, `+` as space. `loc` is normally [`Location::RequestQuery`].
    pub fn scan_query(&self, loc: Location, query: &str, out: &mut Vec<Detection>) -> ScanNotes {
        let mut u = Unit::new(out, loc);
        u.allow_ipv4 = true;
        let q = query.strip_prefix('?').unwrap_or(query).as_bytes();
        let q = q
            .get(..memchr::memchr(b'#', q).unwrap_or(q.len()))
            .unwrap_or_default();
        self.scan_pairs(&mut u, q);
        u.finish()
    }

    fn scan_pairs(&self, u: &mut Unit<'_>, data: &[u8]) {
        for (k, v) in form_pairs(data) {
            if u.full || !u.count_value(self.limits.max_values) {
                break;
            }
            let field = FieldRef::Bytes(&k);
            self.scan_value(u, &field, classify(&k), Some(&k), &v, Mode::Value);
        }
    }

    /// Scans the path segments (raw path; a query or fragment is cut off). Fields are
    /// `path[i]`, no field context, no IPv4.
    pub fn scan_path(&self, path: &str, out: &mut Vec<Detection>) -> ScanNotes {
        let mut u = Unit::new(out, Location::RequestPath);
        for (i, seg) in path_segments(path) {
            if u.full || !u.count_value(self.limits.max_values) {
                break;
            }
            self.scan_value(
                &mut u,
                &FieldRef::Path(i),
                KeyCtx::NONE,
                None,
                &seg,
                Mode::Value,
            );
        }
        u.finish()
    }

    /// Scans a body by its media type (parameters ignored; sniffed when absent or unknown):
    /// JSON walked value by value (a truncated body up to the cut, an invalid one as text from
    /// the error on), form bodies as pairs, multipart bodies part by part (the boundary is
    /// read from the body; text file uploads as text, binary ones skipped), text as text,
    /// binary skipped.
    pub fn scan_body(
        &self,
        loc: Location,
        content_type: Option<&str>,
        body: &[u8],
        out: &mut Vec<Detection>,
    ) -> ScanNotes {
        // Most requests (GET, DELETE) and many answers (204, 304) carry no body: nothing to
        // classify, walk or note.
        if body.is_empty() {
            return ScanNotes::default();
        }
        let mut u = Unit::new(out, loc);
        u.allow_ipv4 = true;
        let body = if body.len() > self.limits.max_scan_bytes {
            u.notes.bytes_capped = true;
            body.get(..self.limits.max_scan_bytes).unwrap_or_default()
        } else {
            body
        };
        match body_kind(content_type, body) {
            BodyKind::Json => self.scan_json(&mut u, body),
            BodyKind::Form => self.scan_pairs(&mut u, body),
            BodyKind::Multipart => self.scan_multipart(&mut u, body),
            BodyKind::Text => self.scan_value(
                &mut u,
                &FieldRef::Text,
                KeyCtx::NONE,
                None,
                body,
                Mode::Text,
            ),
            BodyKind::Binary => u.notes.binary_skipped = true,
        }
        u.finish()
    }

    fn scan_multipart(&self, u: &mut Unit<'_>, body: &[u8]) {
        let Some(parts) = multipart_parts(body, self.limits.max_values) else {
            self.scan_value(u, &FieldRef::Text, KeyCtx::NONE, None, body, Mode::Text);
            return;
        };
        for part in parts {
            if u.full || !u.count_value(self.limits.max_values) {
                break;
            }
            let key = part.name.unwrap_or_default();
            let field = if part.name.is_some() {
                FieldRef::Bytes(key)
            } else {
                FieldRef::Text
            };
            if part.file {
                // An uploaded file: text files are scanned as text, binary ones skipped.
                if looks_binary(part.content) {
                    u.notes.binary_skipped = true;
                } else {
                    self.scan_value(u, &field, KeyCtx::NONE, None, part.content, Mode::Text);
                }
            } else {
                self.scan_value(
                    u,
                    &field,
                    classify(key),
                    Some(key),
                    part.content,
                    Mode::Value,
                );
            }
        }
    }

    fn scan_json(&self, u: &mut Unit<'_>, body: &[u8]) {
        let max_values = self.limits.max_values;
        // One prefilter pass over the whole body; each string then only looks at the hits
        // inside it. (No literal contains a quote, so no hit spans two JSON tokens, and the
        // hits inside a string are those a pass over the string alone would find.)
        // The hit list's memory is kept per thread (taken, so a nested scan gets its own).
        let mut hits = HITS.with(|h| std::mem::take(&mut *h.borrow_mut()));
        hits.clear();
        hits.extend(self.prefilter_hits(body));
        let mut next_hit = 0usize;
        let body_start = body.as_ptr() as usize;
        let no_custom = self.custom.is_empty();
        let (end, stats) = walk(
            body,
            self.limits.max_json_depth,
            max_values,
            |path, ctx, scalar| {
                // The nearest key (only needed once a value is looked at).
                let leaf = || -> Option<&[u8]> {
                    path.iter().rev().find_map(|s| match &s.seg {
                        Seg::Key(k) => Some(&k[..]),
                        Seg::Index(_) => None,
                    })
                };
                let field = FieldRef::Json(path);
                match &scalar {
                    Scalar::Str(Cow::Borrowed(s)) => {
                        // A borrowed string is a slice of `body`: its offset locates its hits.
                        let off = (s.as_ptr() as usize).wrapping_sub(body_start);
                        let end = off.saturating_add(s.len());
                        while hits.get(next_hit).is_some_and(|&(p, _)| p < off) {
                            next_hit += 1;
                        }
                        let mut last = next_hit;
                        while hits.get(last).is_some_and(|&(p, _)| p < end) {
                            last += 1;
                        }
                        let inside = hits.get(next_hit..last);
                        // Nothing to look at: no prefilter hit, no digits that could form
                        // a card, SSN, phone, IBAN or address, no telling field name, too
                        // short for `key: value` pairs, no custom rule (values in which
                        // `scan_value` cannot find anything).
                        if last == next_hit
                            && !ctx.wants_value_check()
                            && s.len() < scan::MIN_TEXTY_VALUE
                            && no_custom
                            && !digit_candidate(s)
                        {
                            return ControlFlow::Continue(());
                        }
                        // The most common hit: a value that is one e-mail address and nothing
                        // else. Nothing but the address can be found in it (digits inside it are
                        // skipped, a field-name check needs a value without detections, and it is
                        // too short for `key: value` pairs), so it is filed directly.
                        if let Some(&[(at, Pat::Email)]) = inside {
                            if no_custom
                                && !u.full
                                && s.len() < scan::MIN_TEXTY_VALUE
                                && end <= body.len()
                            {
                                let span = validate::email_at(s, at.wrapping_sub(off));
                                if let Some(span) =
                                    span.filter(|p| p.start == 0 && p.end == s.len())
                                {
                                    u.push(self, DataType::Email, &field, s, span.verdict);
                                    return if u.full {
                                        ControlFlow::Break(())
                                    } else {
                                        ControlFlow::Continue(())
                                    };
                                }
                            }
                        }
                        let pre = inside.filter(|_| end <= body.len()).map(|h| (h, off));
                        match pre {
                            Some(pre) => self.scan_value_pre(
                                u,
                                &field,
                                ctx,
                                leaf(),
                                s,
                                Mode::Value,
                                Some(pre),
                            ),
                            None => self.scan_value(u, &field, ctx, leaf(), s, Mode::Value),
                        }
                    }
                    Scalar::Str(s) => self.scan_value(u, &field, ctx, leaf(), s, Mode::Value),
                    // Numbers shorter than a card matter only through their field name.
                    Scalar::Num(n) if n.len() < 12 && !ctx.wants_value_check() && no_custom => {}
                    Scalar::Num(n) => self.scan_value(u, &field, ctx, leaf(), n, Mode::Number),
                    Scalar::Bool | Scalar::Null => {}
                }
                if u.full {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        );
        if hits.capacity() <= MAX_KEPT_HITS {
            HITS.with(|h| *h.borrow_mut() = hits);
        }
        u.values += stats.scalars;
        if stats.depth_skipped > 0 {
            u.notes.depth_capped = true;
        }
        match end {
            WalkEnd::Complete => {}
            WalkEnd::Truncated => u.notes.json_truncated = true,
            WalkEnd::Stopped => {
                if !u.full {
                    u.notes.values_capped = true;
                }
            }
            WalkEnd::Invalid(off) => {
                u.notes.json_invalid = true;
                let rest = body.get(off..).unwrap_or_default();
                if looks_binary(rest) {
                    u.notes.binary_skipped = true;
                } else {
                    self.scan_value(u, &FieldRef::Text, KeyCtx::NONE, None, rest, Mode::Text);
                }
            }
        }
    }
}

thread_local! {
    /// The prefilter hits of the body being walked (see `scan_json`).
    static HITS: std::cell::RefCell<Vec<(usize, Pat)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A larger hit list is freed after its body rather than kept for the next one.
const MAX_KEPT_HITS: usize = 1 << 16;

/// Whether the digit pass could report anything in `v`: a digit after `+` or `(` (phone),
/// after two capitals (IBAN), or in a chain of digit groups joined by ` `, `-`, `.` or `/`
/// holding at least 9 digits (SSN, phone, card) or 4 dot-separated groups (IPv4). This is
/// a superset of what `digit_pass` classifies (its chains use one separator and must not be
/// glued to letters), so a value failing it cannot yield a digit detection.
fn digit_candidate(v: &[u8]) -> bool {
    let step = |s: u8, c: u8| {
        DIGIT_DFA[usize::from(s) << DFA_STRIDE_BITS | usize::from(DFA_CLASS[usize::from(c)])]
    };
    let mut s = OUT_OTHER;
    let mut words = v.chunks_exact(8);
    for w in &mut words {
        // Outside a chain, a word without a digit only decides which `OUT_*` state
        // follows, from its last two bytes.
        if s < IN_FIRST && !has_digit(w) {
            s = w
                .get(6..)
                .unwrap_or_default()
                .iter()
                .fold(OUT_OTHER, |s, &c| step(s, c));
            continue;
        }
        s = w.iter().fold(s, |s, &c| step(s, c));
        // ACCEPT is absorbing: checking once a word is enough.
        if s == ACCEPT {
            return true;
        }
    }
    words.remainder().iter().fold(s, |s, &c| step(s, c)) == ACCEPT
}

// `digit_candidate` as a DFA over byte classes. Outside a chain the state remembers what
// the last bytes were (a digit after `+`/`(` or after two capitals is a candidate); inside
// one it counts the digits (up to 8), the dot-joined groups (up to 2) and whether one
// separator is pending. Reaching 9 digits or a 4th dotted group accepts.
const K_OTHER: u8 = 0;
const K_DIGIT: u8 = 1;
const K_UPPER: u8 = 2;
const K_SEP: u8 = 3;
const K_DOT: u8 = 4;
const K_PREFIX: u8 = 5;
const DFA_CLASSES: usize = 6;
const OUT_OTHER: u8 = 0;
const OUT_PREFIX: u8 = 1;
const OUT_UPPER1: u8 = 2;
const OUT_UPPER2: u8 = 3;
const IN_FIRST: u8 = 4;
const ACCEPT: u8 = IN_FIRST + 8 * 3 * 3;
const DFA_STATES: usize = ACCEPT as usize + 1;

const fn in_state(digits: u8, dots: u8, pending: u8) -> u8 {
    IN_FIRST + ((digits - 1) * 3 + dots) * 3 + pending
}

const fn dfa_class() -> [u8; 256] {
    let mut t = [K_OTHER; 256];
    let mut c = b'0';
    while c <= b'9' {
        t[c as usize] = K_DIGIT;
        c += 1;
    }
    let mut c = b'A';
    while c <= b'Z' {
        t[c as usize] = K_UPPER;
        c += 1;
    }
    t[b' ' as usize] = K_SEP;
    t[b'-' as usize] = K_SEP;
    t[b'/' as usize] = K_SEP;
    t[b'.' as usize] = K_DOT;
    t[b'+' as usize] = K_PREFIX;
    t[b'(' as usize] = K_PREFIX;
    t
}

/// The state after a chain ends on a byte of class `k` (the byte before it was a digit or
/// a separator, never a capital).
const fn out_after(k: u8) -> u8 {
    match k {
        K_PREFIX => OUT_PREFIX,
        K_UPPER => OUT_UPPER1,
        _ => OUT_OTHER,
    }
}

const fn digit_dfa() -> [u8; DFA_STATES * DFA_CLASSES] {
    let mut t = [0u8; DFA_STATES * DFA_CLASSES];
    let mut k = 0u8;
    while k < DFA_CLASSES as u8 {
        let mut o = 0u8;
        while o < IN_FIRST {
            t[o as usize * DFA_CLASSES + k as usize] = match k {
                K_DIGIT if o == OUT_PREFIX || o == OUT_UPPER2 => ACCEPT,
                K_DIGIT => in_state(1, 0, 0),
                K_UPPER if o == OUT_UPPER1 || o == OUT_UPPER2 => OUT_UPPER2,
                K_UPPER => OUT_UPPER1,
                K_PREFIX => OUT_PREFIX,
                _ => OUT_OTHER,
            };
            o += 1;
        }
        let mut d = 1u8;
        while d <= 8 {
            let mut dots = 0u8;
            while dots <= 2 {
                let mut p = 0u8;
                while p <= 2 {
                    let next = match k {
                        K_DIGIT => {
                            let dots2 = dots + if p == 2 { 1 } else { 0 };
                            if dots2 >= 3 || d + 1 >= 9 {
                                ACCEPT
                            } else {
                                in_state(d + 1, dots2, 0)
                            }
                        }
                        K_SEP if p == 0 => in_state(d, dots, 1),
                        K_DOT if p == 0 => in_state(d, dots, 2),
                        _ => out_after(k),
                    };
                    t[in_state(d, dots, p) as usize * DFA_CLASSES + k as usize] = next;
                    p += 1;
                }
                dots += 1;
            }
            d += 1;
        }
        t[ACCEPT as usize * DFA_CLASSES + k as usize] = ACCEPT;
        k += 1;
    }
    t
}

/// The DFA with each state's row padded to a power of two. Small (77 states x 8 bytes) on
/// purpose: a table indexed by state and byte was 20 KB, most of the L1 cache, and the rest
/// of the pipeline (flow table, reassembly) paid for it in misses.
const DFA_STRIDE_BITS: usize = 3;
const fn digit_dfa_padded() -> [u8; DFA_STATES << DFA_STRIDE_BITS] {
    let by_class = digit_dfa();
    let mut t = [0u8; DFA_STATES << DFA_STRIDE_BITS];
    let mut s = 0usize;
    while s < DFA_STATES {
        let mut k = 0usize;
        while k < DFA_CLASSES {
            t[s << DFA_STRIDE_BITS | k] = by_class[s * DFA_CLASSES + k];
            k += 1;
        }
        s += 1;
    }
    t
}

static DFA_CLASS: [u8; 256] = dfa_class();
const _: () = assert!(DFA_CLASSES <= 1 << DFA_STRIDE_BITS);
static DIGIT_DFA: [u8; DFA_STATES << DFA_STRIDE_BITS] = digit_dfa_padded();

/// Whether eight bytes hold an ASCII digit: `b ^ b'0'` is below 10 exactly for digits, and
/// the word test "some byte below n" has no false negative and none when no byte is.
fn has_digit(w: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut b = [0u8; 8];
    if let Some(s) = w.get(..8) {
        b.copy_from_slice(s);
    }
    let x = u64::from_le_bytes(b) ^ (ONES * u64::from(b'0'));
    x.wrapping_sub(ONES * 10) & !x & HIGH != 0
}

// Compile-time check: the detector is shared between worker threads.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Detector>();
    assert_send_sync::<Redactor>();
};
