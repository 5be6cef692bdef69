//! The auth analyzer's settings: every limit, threshold and extra name list, each with a
//! documented default, validated once by [`AuthConfig::validate`] before any traffic is seen.
//! Also the caller-supplied [`FingerprintKey`], which never appears in `Debug` output.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use thiserror::Error;

/// Why an [`AuthConfig`] (or a [`crate::analyze::auth::ReuseConfig`]) was refused.
#[non_exhaustive]
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum AuthConfigError {
    /// A limit that must be at least `min` was set lower.
    #[error("auth: `{name}` is {value}, it must be at least {min}")]
    LimitTooSmall {
        name: &'static str,
        value: u64,
        min: u64,
    },
    /// A duration that must not be negative.
    #[error("auth: `{name}` is {value} s, it must not be negative")]
    NegativeDuration { name: &'static str, value: i64 },
    /// An entry of a name list that cannot be a header, query key or cookie name.
    #[error("auth: `{list}` holds {name:?}, which is empty or has whitespace, `:`, `=` or `;`")]
    InvalidName { list: &'static str, name: String },
}

/// The HMAC-SHA256 key used to fingerprint credentials ([`crate::analyze::auth::Fingerprint`]).
///
/// Fingerprints are `HMAC-SHA256(key, credential bytes)`: the same credential gives the same
/// fingerprint wherever it is seen by sensors sharing the key, and without the key a
/// fingerprint cannot be checked against guessed credentials. The default key is empty, which
/// makes fingerprints guessable: deployments should set a random key of 32 bytes or more, kept
/// out of the event stream. `Debug` never prints the key.
#[derive(Clone)]
pub struct FingerprintKey {
    /// The keyed state (ipad/opad already absorbed); cloned for each fingerprint.
    mac: Hmac<Sha256>,
}

impl FingerprintKey {
    /// A key from raw bytes (any length; HMAC hashes keys longer than 64 bytes).
    pub fn new(key: &[u8]) -> Self {
        // HMAC accepts keys of every length: the error arm cannot happen; it falls back to the
        // all-zero key rather than panicking.
        let mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
            Ok(mac) => mac,
            Err(_) => <Hmac<Sha256> as KeyInit>::new(&Default::default()),
        };
        Self { mac }
    }

    /// `HMAC-SHA256(key, data)`.
    pub(crate) fn mac(&self, data: &[u8]) -> [u8; 32] {
        let mut m = self.mac.clone();
        m.update(data);
        m.finalize().into_bytes().into()
    }
}

impl Default for FingerprintKey {
    fn default() -> Self {
        Self::new(&[])
    }
}

impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FingerprintKey(<redacted>)")
    }
}

/// Settings of [`crate::analyze::auth::classify`], [`crate::analyze::auth::weaknesses`] and
/// [`crate::analyze::auth::AuthAnalyzer`]. `AuthConfig::default()` gives the documented defaults.
/// Deserialises (an `[auth]` table) with every field optional; the fingerprint key is not read
/// from config text: the caller sets it.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Credential classification on (default). Off: no `auth` object on `http` events and
    /// no credential findings.
    pub enabled: bool,
    /// Key for credential fingerprints. Default: empty (see [`FingerprintKey`]).
    #[serde(skip)]
    pub fingerprint_key: FingerprintKey,
    /// Header names (any case) that carry an API key, on top of the built-in list
    /// ([`crate::analyze::auth::DEFAULT_API_KEY_HEADERS`]). Default: none.
    pub extra_api_key_headers: Vec<String>,
    /// Query keys (any case) that carry a credential, on top of the built-in list
    /// ([`crate::analyze::auth::DEFAULT_QUERY_KEYS`]); any non-empty value counts. Default: none.
    pub extra_query_keys: Vec<String>,
    /// Cookie names (any case) that carry a session or token, on top of the built-in rules
    /// ([`crate::analyze::auth::DEFAULT_SESSION_COOKIES`]). Default: none.
    pub extra_session_cookies: Vec<String>,
    /// Extra HMAC secrets tried against HS256/384/512 JWTs after the bundled list (for example
    /// the defaults of in-house frameworks). Default: none.
    pub extra_weak_secrets: Vec<String>,
    /// Longest token (bytes) decoded as a JWT; longer ones are reported as
    /// [`crate::analyze::auth::JwtError::TooLong`]. Default: 16 384 (16 KiB).
    pub max_jwt_bytes: usize,
    /// JSON nodes of a JWT payload scanned for sensitive claims. Default: 1 024.
    pub max_claim_nodes: usize,
    /// Nesting depth of a JWT payload scanned for sensitive claims. Default: 8.
    pub max_claim_depth: usize,
    /// Sensitive claim names kept per JWT. Default: 32.
    pub max_sensitive_claims: usize,
    /// Characters kept of any string copied from traffic (`iss`, `sub`, `kid`, `aud` items, user
    /// names, header/query/cookie names, claim paths). Default: 256.
    pub max_field_chars: usize,
    /// `aud` values kept per JWT. Default: 16.
    pub max_audiences: usize,
    /// Query parameters inspected per request. Default: 256.
    pub max_query_params: usize,
    /// Cookies inspected per request (over all `Cookie` headers). Default: 64.
    pub max_cookies: usize,
    /// Auth-params parsed from one Digest or AWS SigV4 `Authorization` value. Default: 32.
    pub max_auth_params: usize,
    /// Minimum length of the value of a generic query key (`key`, `token`, `auth`) for it to
    /// count as a credential (it must also look like a key: see
    /// [`crate::analyze::auth::looks_like_key`]). Default: 16.
    pub query_key_min_len: usize,
    /// Basic passwords shorter than this (in characters) are weak. Default: 8.
    pub min_password_len: usize,
    /// A JWT living longer than this (seconds, `exp - iat`, or `exp - packet time` without
    /// `iat`) is `jwt_long_lived`. Default: 86 400 (24 h).
    pub jwt_max_lifetime_s: i64,
    /// A JWT must have expired more than this many seconds before the packet time for its
    /// acceptance to be `jwt_expired` (servers commonly allow some clock skew). The
    /// `expired` flag itself uses no leeway. Default: 60.
    pub expired_leeway_s: i64,
    /// Also report HS256/384/512 as `jwt_weak_algorithm`. Default: false (a shared-secret
    /// algorithm is sound with a strong secret; weak secrets are `jwt_weak_secret`).
    pub hs_is_weak: bool,
    /// Try HS256/384/512 JWT signatures against the weak-secret list. Default: true.
    pub weak_secret_check: bool,
    /// Distinct tokens whose weak-secret result is remembered (LRU; 0 = no cache: every
    /// sighting is checked, subject to the rate limit). Default: 10 000.
    pub weak_secret_cache_entries: usize,
    /// Weak-secret verifications (cache misses) per second of packet time; over it, a token
    /// is left unchecked (`weak_secret: None`) and counted. Bounds the CPU that a stream of
    /// distinct attacker-made tokens can cost. Default: 200.
    pub weak_secret_checks_per_s: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            fingerprint_key: FingerprintKey::default(),
            extra_api_key_headers: Vec::new(),
            extra_query_keys: Vec::new(),
            extra_session_cookies: Vec::new(),
            extra_weak_secrets: Vec::new(),
            max_jwt_bytes: 16 * 1024,
            max_claim_nodes: 1024,
            max_claim_depth: 8,
            max_sensitive_claims: 32,
            max_field_chars: 256,
            max_audiences: 16,
            max_query_params: 256,
            max_cookies: 64,
            max_auth_params: 32,
            query_key_min_len: 16,
            min_password_len: 8,
            jwt_max_lifetime_s: 86_400,
            expired_leeway_s: 60,
            hs_is_weak: false,
            weak_secret_check: true,
            weak_secret_cache_entries: 10_000,
            weak_secret_checks_per_s: 200,
        }
    }
}

fn at_least(name: &'static str, value: usize, min: u64) -> Result<(), AuthConfigError> {
    let value = u64::try_from(value).unwrap_or(u64::MAX);
    if value < min {
        return Err(AuthConfigError::LimitTooSmall { name, value, min });
    }
    Ok(())
}

fn check_names(list: &'static str, names: &[String]) -> Result<(), AuthConfigError> {
    for name in names {
        let bad = name.is_empty()
            || name
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b":=;".contains(&b));
        if bad {
            return Err(AuthConfigError::InvalidName {
                list,
                name: name.clone(),
            });
        }
    }
    Ok(())
}

impl AuthConfig {
    /// Checks limits and names; nothing is looked up or opened.
    pub fn validate(&self) -> Result<(), AuthConfigError> {
        // A JWT is at least "a.b." plus a 2-byte header: below 16 bytes nothing can be decoded.
        at_least("max_jwt_bytes", self.max_jwt_bytes, 16)?;
        at_least("max_claim_nodes", self.max_claim_nodes, 1)?;
        at_least("max_claim_depth", self.max_claim_depth, 1)?;
        at_least("max_field_chars", self.max_field_chars, 8)?;
        at_least("max_query_params", self.max_query_params, 1)?;
        at_least("max_cookies", self.max_cookies, 1)?;
        at_least("max_auth_params", self.max_auth_params, 1)?;
        at_least("query_key_min_len", self.query_key_min_len, 1)?;
        if self.jwt_max_lifetime_s < 0 {
            return Err(AuthConfigError::NegativeDuration {
                name: "jwt_max_lifetime_s",
                value: self.jwt_max_lifetime_s,
            });
        }
        if self.expired_leeway_s < 0 {
            return Err(AuthConfigError::NegativeDuration {
                name: "expired_leeway_s",
                value: self.expired_leeway_s,
            });
        }
        check_names("extra_api_key_headers", &self.extra_api_key_headers)?;
        check_names("extra_query_keys", &self.extra_query_keys)?;
        check_names("extra_session_cookies", &self.extra_session_cookies)?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        assert_eq!(AuthConfig::default().validate(), Ok(()));
        let c = AuthConfig::default();
        assert_eq!(c.max_jwt_bytes, 16384);
        assert_eq!(c.jwt_max_lifetime_s, 86_400);
        assert_eq!(c.weak_secret_cache_entries, 10_000);
        assert!(!c.hs_is_weak);
    }

    #[test]
    fn bad_limits_and_names_are_refused() {
        let c = AuthConfig {
            max_jwt_bytes: 3,
            ..Default::default()
        };
        assert_eq!(
            c.validate(),
            Err(AuthConfigError::LimitTooSmall {
                name: "max_jwt_bytes",
                value: 3,
                min: 16
            })
        );
        let c = AuthConfig {
            expired_leeway_s: -1,
            ..Default::default()
        };
        assert!(matches!(
            c.validate(),
            Err(AuthConfigError::NegativeDuration { value: -1, .. })
        ));
        let c = AuthConfig {
            extra_api_key_headers: vec!["x-ok".into(), "bad name".into()],
            ..Default::default()
        };
        assert_eq!(
            c.validate(),
            Err(AuthConfigError::InvalidName {
                list: "extra_api_key_headers",
                name: "bad name".into()
            })
        );
        let c = AuthConfig {
            extra_session_cookies: vec![String::new()],
            ..Default::default()
        };
        assert!(c.validate().is_err());
    }

    #[test]
    fn deserialises_with_defaults() {
        let c: AuthConfig = serde_json::from_str(
            r#"{"jwt_max_lifetime_s": 3600, "extra_api_key_headers": ["X-Acme-Key"], "hs_is_weak": true}"#,
        )
        .unwrap();
        assert_eq!(c.jwt_max_lifetime_s, 3600);
        assert_eq!(c.extra_api_key_headers, ["X-Acme-Key"]);
        assert!(c.hs_is_weak);
        assert_eq!(c.max_jwt_bytes, 16 * 1024);
        assert!(serde_json::from_str::<AuthConfig>(r#"{"nope": 1}"#).is_err());
        assert!(serde_json::from_str::<AuthConfig>(r#"{"fingerprint_key": "x"}"#).is_err());
    }

    #[test]
    fn error_display() {
        assert_eq!(
            AuthConfigError::LimitTooSmall {
                name: "max_cookies",
                value: 0,
                min: 1
            }
            .to_string(),
            "auth: `max_cookies` is 0, it must be at least 1"
        );
        assert_eq!(
            AuthConfigError::NegativeDuration {
                name: "expired_leeway_s",
                value: -5
            }
            .to_string(),
            "auth: `expired_leeway_s` is -5 s, it must not be negative"
        );
        assert_eq!(
            AuthConfigError::InvalidName {
                list: "extra_query_keys",
                name: "a b".into()
            }
            .to_string(),
            "auth: `extra_query_keys` holds \"a b\", which is empty or has whitespace, `:`, `=` or `;`"
        );
    }

    #[test]
    fn key_is_redacted_and_keyed() {
        let k = FingerprintKey::new(b"super secret key");
        assert_eq!(format!("{k:?}"), "FingerprintKey(<redacted>)");
        assert!(!format!("{:?}", AuthConfig::default()).contains("super secret"));
        // RFC 4231 test case 2.
        let k = FingerprintKey::new(b"Jefe");
        let mac = k.mac(b"what do ya want for nothing?");
        assert_eq!(
            mac[..4],
            [0x5b, 0xdc, 0xc1, 0x46],
            "HMAC-SHA256 RFC 4231 vector"
        );
        assert_ne!(
            FingerprintKey::new(b"a").mac(b"x"),
            FingerprintKey::new(b"b").mac(b"x")
        );
        // Long keys work too.
        let _ = FingerprintKey::new(&[7u8; 200]).mac(b"x");
    }
}
