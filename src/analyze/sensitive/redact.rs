//! Redaction: what leaves the sensor instead of a sensitive value.
//!
//! [`Redactor::redact`] returns a type-preserving mask followed by `#` and a keyed tag:
//! `j***@example.com#a1b2c3d4e5f6`. The tag is the first 12 hex digits of
//! HMAC-SHA256(key, type name ‖ 0x00 ‖ raw), so equal values correlate across events and
//! sensors sharing a key, while the value cannot be recovered or confirmed without the key.
//!
//! What each mask keeps (everything else is replaced; nothing of the secret part survives):
//!
//! | type | mask |
//! |---|---|
//! | `email` | first character of the local part, `***@`, the domain |
//! | `credit_card` | `**** **** **** ` and the last four digits |
//! | `us_ssn` | `***-**-****` (no digit: the last four are an authentication factor) |
//! | `phone` | separators and the last two digits |
//! | `iban` | country code, then the last four characters |
//! | `jwt` | the header segment (algorithm, key id), then `.***` |
//! | `aws_access_key` | the four-letter prefix, then 16 `*` |
//! | token types | the public prefix only (`ghp_`, `xoxb-`, `sk_live_`, `AIza`, `https://hooks.slack.com/services/`) |
//! | `private_key` | the `-----BEGIN … PRIVATE KEY-----` line |
//! | `password`, `secret`, `aws_secret_key`, custom | a fixed `********` (length hidden) |
//! | `password_hash` | the algorithm and cost (`$2b$12$`) |
//! | `ipv4` | the first octet (`10.*.*.*`) |
//! | `date_of_birth` | `****-**-**` |

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::validate::{pem_header, pwhash_prefix};
use super::DataType;

type HmacSha256 = Hmac<Sha256>;

/// Hex digits of the tag.
pub const TAG_HEX_LEN: usize = 12;

/// Masks values and tags them with a keyed hash. Immutable; `Send + Sync`.
#[derive(Clone)]
pub struct Redactor {
    mac: HmacSha256,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor { .. }")
    }
}

impl Redactor {
    /// A redactor keyed with `key` (any length; use at least 32 random bytes, shared by the
    /// sensors whose events should correlate).
    pub fn new(key: &[u8]) -> Redactor {
        // HMAC accepts keys of any length, so `new_from_slice` cannot fail; the fallback
        // only keeps this function total.
        let mac = match <HmacSha256 as Mac>::new_from_slice(key) {
            Ok(m) => m,
            Err(_) => <HmacSha256 as Mac>::new(&Default::default()),
        };
        Redactor { mac }
    }

    /// The keyed tag of a value: 12 lower-case hex digits.
    pub fn tag(&self, kind: &DataType, raw: &str) -> String {
        let mut s = String::with_capacity(TAG_HEX_LEN);
        self.push_tag(kind, raw, &mut s);
        s
    }

    fn push_tag(&self, kind: &DataType, raw: &str, s: &mut String) {
        let mut mac = self.mac.clone();
        mac.update(kind.name().as_bytes());
        mac.update(&[0]);
        mac.update(raw.as_bytes());
        let out = mac.finalize().into_bytes();
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for &b in out.iter().take(TAG_HEX_LEN / 2) {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 15)]));
        }
    }

    /// The mask and the tag: `mask#tag`.
    pub fn redact(&self, kind: &DataType, raw: &str) -> String {
        let mut s = mask(kind, raw);
        s.reserve_exact(1 + TAG_HEX_LEN);
        s.push('#');
        self.push_tag(kind, raw, &mut s);
        s
    }
}

/// The type-preserving mask alone (no tag).
pub fn mask(kind: &DataType, raw: &str) -> String {
    match kind {
        DataType::Email => match raw.rsplit_once('@') {
            Some((local, domain)) => {
                let first = local.chars().next().map_or(0, char::len_utf8);
                let first = local.get(..first).unwrap_or_default();
                // Room for the tag `redact` appends.
                let mut m = String::with_capacity(first.len() + 4 + domain.len() + 1 + TAG_HEX_LEN);
                m.push_str(first);
                m.push_str("***@");
                m.push_str(domain);
                m
            }
            None => "***".to_owned(),
        },
        DataType::CreditCard => {
            let digits: Vec<char> = raw.chars().filter(char::is_ascii_digit).collect();
            let last4: String = digits.iter().skip(digits.len().saturating_sub(4)).collect();
            format!("**** **** **** {last4}")
        }
        DataType::UsSsn => "***-**-****".to_owned(),
        DataType::Phone => {
            let total = raw.chars().filter(char::is_ascii_digit).count();
            let mut seen = 0;
            raw.chars()
                .map(|c| {
                    if c.is_ascii_digit() {
                        seen += 1;
                        if seen > total.saturating_sub(2) {
                            c
                        } else {
                            '*'
                        }
                    } else {
                        c
                    }
                })
                .collect()
        }
        DataType::Iban => {
            let compact: Vec<char> = raw.chars().filter(char::is_ascii_alphanumeric).collect();
            let n = compact.len();
            if n < 8 {
                return "****".to_owned();
            }
            let cc: String = compact.iter().take(2).collect();
            let last: String = compact.iter().skip(n - 4).collect();
            format!("{cc}{}{last}", "*".repeat(n - 6))
        }
        DataType::Jwt => match raw.split_once('.') {
            Some((header, _)) => format!("{header}.***"),
            None => "***".to_owned(),
        },
        DataType::AwsAccessKey => {
            let prefix: String = raw.chars().take(4).collect();
            format!("{prefix}{}", "*".repeat(16))
        }
        DataType::GithubToken => {
            let prefix = if raw.starts_with("github_pat_") {
                "github_pat_"
            } else {
                raw.get(..4).unwrap_or("")
            };
            format!("{prefix}****")
        }
        DataType::SlackToken => {
            if let Some(i) = raw.find("/services/").or_else(|| raw.find("/workflows/")) {
                let end = raw
                    .get(i + 1..)
                    .and_then(|r| r.find('/'))
                    .map_or(raw.len(), |j| i + 2 + j);
                format!("{}****", raw.get(..end).unwrap_or(""))
            } else {
                let prefix = raw.find('-').and_then(|i| raw.get(..=i)).unwrap_or("");
                format!("{prefix}****")
            }
        }
        DataType::StripeKey => format!("{}****", raw.get(..8).unwrap_or("")),
        DataType::GoogleApiKey => "AIza****".to_owned(),
        DataType::PrivateKey => format!("{}****", pem_header(raw)),
        DataType::PasswordHash => format!("{}****", pwhash_prefix(raw)),
        DataType::Ipv4 => match raw.split_once('.') {
            Some((first, _)) => format!("{first}.*.*.*"),
            None => "*.*.*.*".to_owned(),
        },
        DataType::DateOfBirth => "****-**-**".to_owned(),
        DataType::Password | DataType::Secret | DataType::AwsSecretKey | DataType::Custom(_) => {
            "********".to_owned()
        }
    }
}

/// A tagless mask for the sensor's own logs: the first and last two characters and the
/// length for values of 16 characters or more, else only the length.
pub fn mask_for_log(raw: &str) -> String {
    let n = raw.chars().count();
    if n >= 16 {
        let head: String = raw.chars().take(2).collect();
        let tail: String = raw.chars().skip(n - 2).collect();
        format!("{head}…{tail} ({n} chars)")
    } else {
        format!("*** ({n} chars)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (type, raw, the part that must never leak).
    fn samples() -> Vec<(DataType, &'static str, String)> {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MTcwMDAwMDAwMH0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx7Qm3b9Zf0pQ\n-----END RSA PRIVATE KEY-----";
        let after = |s: &'static str, skip: usize| s.get(skip..).unwrap_or("").to_owned();
        vec![
            (
                DataType::Email,
                "jonathan.q.public@acme-mail.io",
                "jonathan.q.public".into(),
            ),
            (
                DataType::CreditCard,
                "4539 5787 6362 1486",
                "4539 5787 6362".into(),
            ),
            (
                DataType::CreditCard,
                "4539578763621486",
                "453957876362".into(),
            ),
            (DataType::UsSsn, "536-22-1947", "536-22-1947".into()),
            (DataType::UsSsn, "536221947", "536221947".into()),
            (
                DataType::Phone,
                "+1 (415) 555-2671",
                "+1 (415) 555-26".into(),
            ),
            (DataType::Phone, "+14155552671", "+141555526".into()),
            (
                DataType::Iban,
                "DE44500105175407324931",
                "4450010517540732".into(),
            ),
            (
                DataType::Iban,
                "DE44 5001 0517 5407 3249 31",
                "44 5001 0517 5407 32".into(),
            ),
            (DataType::Jwt, jwt, after(jwt, 21)),
            (
                DataType::AwsAccessKey,
                "AKIAZ7VQ2XK4M3NPLR5T",
                "Z7VQ2XK4M3NPLR5T".into(),
            ),
            (
                DataType::AwsSecretKey,
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8vLmN2pK",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8vLmN2pK".into(),
            ),
            (
                DataType::GithubToken,
                "ghp_R2v7Kq9LmN4pX8sT1wY6zB3cD5fG0hJ2kQ9a",
                "R2v7Kq9LmN4pX8sT1wY6zB3cD5fG0hJ2kQ9a".into(),
            ),
            (
                DataType::SlackToken,
                "xoxb-2048518293-3981725648271-Qw8eRt7yUi6oP5aS4dF3gH2j",
                "2048518293-3981725648271-Qw8eRt7yUi6oP5aS4dF3gH2j".into(),
            ),
            (
                DataType::SlackToken,
                "https://hooks.slack.com/services/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",
                "T024BE7LD/B01ABCD2EFG/Xk3P9qRr7sTt2uVv8wWx1yZz".into(),
            ),
            (
                DataType::StripeKey,
                "sk_live_51HqL8yKz3Bv7Nw2Qx9Rt4Ms6",
                "51HqL8yKz3Bv7Nw2Qx9Rt4Ms6".into(),
            ),
            (
                DataType::GoogleApiKey,
                "AIzaSyD4kX9mQ2vR7tN1pL8sW3yB6cF0hJ5gK2a",
                "SyD4kX9mQ2vR7tN1pL8sW3yB6cF0hJ5gK2a".into(),
            ),
            (
                DataType::PrivateKey,
                pem,
                "MIIEowIBAAKCAQEAx7Qm3b9Zf0pQ".into(),
            ),
            (
                DataType::Password,
                "correct-horse-battery",
                "correct-horse-battery".into(),
            ),
            (
                DataType::PasswordHash,
                "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
                "R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW".into(),
            ),
            (DataType::Ipv4, "172.16.254.201", "16.254.201".into()),
            (DataType::DateOfBirth, "1987-11-23", "1987-11-23".into()),
            (
                DataType::Secret,
                "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
                "9f8e7d6c5b4a39281706f5e4d3c2b1a0".into(),
            ),
        ]
    }

    #[test]
    fn no_class_leaks_its_secret_part() {
        let r = Redactor::new(b"0123456789abcdef0123456789abcdef");
        for (kind, raw, secret) in samples() {
            let red = r.redact(&kind, raw);
            assert!(!red.contains(raw), "{}: {red}", kind.name());
            let sb = secret.as_bytes();
            for w in sb.windows(6) {
                let w = std::str::from_utf8(w).unwrap();
                assert!(!red.contains(w), "{}: {red} leaks {w:?}", kind.name());
            }
            let (_, tag) = red.rsplit_once('#').unwrap();
            assert_eq!(tag.len(), TAG_HEX_LEN);
            assert!(tag.bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }

    #[test]
    fn masks_keep_the_documented_parts() {
        let r = Redactor::new(b"k");
        let red = r.redact(&DataType::Email, "jane@example.com");
        assert!(red.starts_with("j***@example.com#"), "{red}");
        assert!(r
            .redact(&DataType::CreditCard, "4242 4242 4242 4242")
            .starts_with("**** **** **** 4242#"));
        assert!(r
            .redact(&DataType::UsSsn, "536-22-1947")
            .starts_with("***-**-****#"));
        assert_eq!(
            mask(&DataType::Phone, "+1 (415) 555-2671"),
            "+* (***) ***-**71"
        );
        assert_eq!(
            mask(&DataType::Iban, "DE44500105175407324931"),
            "DE****************4931"
        );
        assert_eq!(
            mask(&DataType::Jwt, "eyJhbGciOiJub25lIn0.eyJ9.x"),
            "eyJhbGciOiJub25lIn0.***"
        );
        assert_eq!(
            mask(&DataType::AwsAccessKey, "AKIAZ7VQ2XK4M3NPLR5T"),
            "AKIA****************"
        );
        assert_eq!(
            mask(&DataType::StripeKey, "sk_live_51HqL8yKz3Bv7Nw2Qx9Rt4Ms6"),
            "sk_live_****"
        );
        assert_eq!(mask(&DataType::SlackToken, "xoxb-1-2-abc"), "xoxb-****");
        assert_eq!(
            mask(
                &DataType::SlackToken,
                "https://hooks.slack.com/services/T0/B0/xyz"
            ),
            "https://hooks.slack.com/services/****"
        );
        assert_eq!(
            mask(&DataType::GithubToken, "github_pat_11AB"),
            "github_pat_****"
        );
        assert_eq!(
            mask(&DataType::PasswordHash, "$argon2id$v=19$m=1,t=1,p=1$x$y"),
            "$argon2id$****"
        );
        assert_eq!(mask(&DataType::Ipv4, "10.1.2.3"), "10.*.*.*");
        assert_eq!(mask(&DataType::Password, "a"), "********");
    }

    #[test]
    fn tags_are_keyed_and_typed() {
        let a = Redactor::new(b"key-a");
        let b = Redactor::new(b"key-b");
        let v = "jane@acme.io";
        assert_eq!(a.tag(&DataType::Email, v), a.tag(&DataType::Email, v));
        assert_ne!(a.tag(&DataType::Email, v), b.tag(&DataType::Email, v));
        assert_ne!(a.tag(&DataType::Email, v), a.tag(&DataType::Password, v));
        // HMAC-SHA256 known answer: key "key", message "email\0x".
        let k = Redactor::new(b"key");
        assert_eq!(k.tag(&DataType::Email, "x"), "4c5e57cc1feb");
        let long_key = vec![7u8; 200];
        assert_eq!(
            Redactor::new(&long_key).tag(&DataType::Email, "x").len(),
            12
        );
        assert_eq!(Redactor::new(b"").tag(&DataType::Email, "x").len(), 12);
    }

    #[test]
    fn log_masks() {
        assert_eq!(mask_for_log("short"), "*** (5 chars)");
        assert_eq!(mask_for_log("ghp_R2v7Kq9LmN4pX8sT"), "gh…sT (20 chars)");
        assert_eq!(mask_for_log("ééééééééééééééééé"), "éé…éé (17 chars)");
        assert_eq!(mask_for_log(""), "*** (0 chars)");
    }
}
