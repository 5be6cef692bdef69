//! Credentials as apitap keeps them: what kind, where it was sent, and a keyed fingerprint.
//! Guarantee: no type here holds credential bytes; [`Fingerprint::of`] hashes them and the
//! caller drops them.

use serde::{Serialize, Serializer};

use super::config::FingerprintKey;

/// `HMAC-SHA256(fingerprint key, credential bytes)`: correlates one credential across requests
/// and hosts without keeping it. `Display`, `Debug` and serde give lower-case hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// Fingerprints `raw` with `key`.
    pub fn of(key: &FingerprintKey, raw: &[u8]) -> Self {
        Fingerprint(key.mac(raw))
    }

    /// 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::with_capacity(64);
        for b in self.0 {
            let _ = write!(s, "{b:02x}");
        }
        s
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fingerprint({})", self.to_hex())
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

/// What the fingerprinted bytes are.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// A JWT (fingerprint of the whole compact token).
    Jwt,
    /// An opaque bearer token or API key.
    Token,
    /// HTTP Basic `user:password` (fingerprint of the base64 text as sent).
    UserPassword,
    /// HTTP Digest: fingerprint of `username`, a NUL byte and `realm` (the response hash
    /// changes with every nonce and is not a stable credential).
    DigestUser,
    /// AWS access key ID from SigV4 (the signature changes with every request).
    AwsAccessKeyId,
    /// A session identifier in a cookie.
    SessionId,
    /// A password sent as a query parameter.
    Password,
    /// The credentials of another `Authorization` scheme.
    Other,
}

impl CredentialKind {
    /// The snake_case name (as serialised).
    pub fn name(self) -> &'static str {
        match self {
            CredentialKind::Jwt => "jwt",
            CredentialKind::Token => "token",
            CredentialKind::UserPassword => "user_password",
            CredentialKind::DigestUser => "digest_user",
            CredentialKind::AwsAccessKeyId => "aws_access_key_id",
            CredentialKind::SessionId => "session_id",
            CredentialKind::Password => "password",
            CredentialKind::Other => "other",
        }
    }
}

/// Where a credential was sent.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialLocation {
    /// A request header (`field` is its lower-cased name).
    Header,
    /// A query parameter (`field` is its lower-cased, `%`-decoded key).
    Query,
    /// A cookie (`field` is its name as sent).
    Cookie,
}

/// One credential seen in a request: never its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Credential {
    pub kind: CredentialKind,
    pub location: CredentialLocation,
    /// Header name, query key or cookie name (bounded by `max_field_chars`).
    pub field: String,
    pub fingerprint: Fingerprint,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_keyed_hex_and_stable() {
        let k1 = FingerprintKey::new(b"k1");
        let k2 = FingerprintKey::new(b"k2");
        let a = Fingerprint::of(&k1, b"token-abc");
        assert_eq!(a, Fingerprint::of(&k1, b"token-abc"));
        assert_ne!(a, Fingerprint::of(&k2, b"token-abc"));
        assert_ne!(a, Fingerprint::of(&k1, b"token-abd"));
        let hex = a.to_hex();
        assert_eq!(hex.len(), 64);
        assert!(hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(a.to_string(), hex);
        assert_eq!(format!("{a:?}"), format!("Fingerprint({hex})"));
        assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{hex}\""));
        // Never the raw value.
        assert!(!hex.contains("token"));
    }

    #[test]
    fn kinds_serialize_by_name() {
        for k in [
            CredentialKind::Jwt,
            CredentialKind::Token,
            CredentialKind::UserPassword,
            CredentialKind::DigestUser,
            CredentialKind::AwsAccessKeyId,
            CredentialKind::SessionId,
            CredentialKind::Password,
            CredentialKind::Other,
        ] {
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.name())
            );
        }
        let c = Credential {
            kind: CredentialKind::Token,
            location: CredentialLocation::Header,
            field: "x-api-key".into(),
            fingerprint: Fingerprint([0; 32]),
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["location"], "header");
        assert_eq!(v["kind"], "token");
        assert_eq!(v["field"], "x-api-key");
    }
}
