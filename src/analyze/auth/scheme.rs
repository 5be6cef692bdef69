//! The authentication schemes apitap names (`auth.scheme`) and the rules that recognise each
//! one: `Authorization` scheme words, API-key header names, credential query keys and session
//! cookie names. Pure predicates over names and values; nothing here allocates in proportion
//! to more than one name.
//!
//! `Authorization` scheme word (any case) → scheme:
//!
//! | word | scheme |
//! |---|---|
//! | `Bearer`, `Token` (GitHub, DRF), `JWT` (djangorestframework-jwt), `DPoP` (RFC 9449) | `bearer` |
//! | `Basic` | `basic` |
//! | `Digest` | `digest` |
//! | `AWS4-HMAC-SHA256`, `AWS4-ECDSA-P256-SHA256` (SigV4a) | `aws_sigv4` |
//! | `ApiKey`, `Api-Key`, `Api_Key`, `Key`, `SSWS` (Okta) | `api_key_header` |
//! | anything else (`Negotiate`, `NTLM`, `HOBA`, `Mutual`, `OAuth`, `AWS` v2, `SharedKey` …) | `other` |
//! | a single word that is not a scheme name: a JWT | `bearer` |
//! | a single word that is not a scheme name: anything else (a raw key) | `api_key_header` |

use serde::Serialize;

use super::config::AuthConfig;
use super::jwt::looks_like_jwt;

/// How a request authenticated (`auth.scheme` in EVENTS.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// No credential found.
    #[default]
    None,
    Bearer,
    Basic,
    Digest,
    /// An API key in a request header.
    ApiKeyHeader,
    /// A credential in the query string.
    ApiKeyQuery,
    /// A session or token cookie.
    Cookie,
    /// AWS Signature Version 4 (`Authorization` header or presigned URL).
    AwsSigv4,
    /// Another `Authorization` scheme.
    Other,
}

impl Scheme {
    /// Every variant, in declaration order.
    pub const ALL: &'static [Scheme] = &[
        Scheme::None,
        Scheme::Bearer,
        Scheme::Basic,
        Scheme::Digest,
        Scheme::ApiKeyHeader,
        Scheme::ApiKeyQuery,
        Scheme::Cookie,
        Scheme::AwsSigv4,
        Scheme::Other,
    ];

    /// The `auth.scheme` value.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::None => "none",
            Scheme::Bearer => "bearer",
            Scheme::Basic => "basic",
            Scheme::Digest => "digest",
            Scheme::ApiKeyHeader => "api_key_header",
            Scheme::ApiKeyQuery => "api_key_query",
            Scheme::Cookie => "cookie",
            Scheme::AwsSigv4 => "aws_sigv4",
            Scheme::Other => "other",
        }
    }

    /// The variant with that name.
    pub fn from_name(name: &str) -> Option<Scheme> {
        Scheme::ALL.iter().copied().find(|s| s.name() == name)
    }
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `Authorization` words meaning a bearer-style token.
pub const BEARER_WORDS: &[&str] = &["bearer", "token", "jwt", "dpop"];
/// `Authorization` words meaning an API key.
pub const API_KEY_WORDS: &[&str] = &["apikey", "api-key", "api_key", "key", "ssws"];
/// `Authorization` words of AWS Signature Version 4.
pub const AWS_WORDS: &[&str] = &["aws4-hmac-sha256", "aws4-ecdsa-p256-sha256"];
/// Other registered or common scheme words (IANA HTTP Authentication Scheme Registry and
/// widespread vendor schemes): a value that is only one of these words is that scheme with no
/// credentials, not a raw key.
pub const OTHER_WORDS: &[&str] = &[
    "negotiate",
    "ntlm",
    "kerberos",
    "hoba",
    "mutual",
    "oauth",
    "gnap",
    "concealed",
    "privatetoken",
    "scram-sha-1",
    "scram-sha-256",
    "vapid",
    "aws",
    "hawk",
    "sharedkey",
    "sharedkeylite",
];
/// Schemes whose credentials are one-time handshake blobs: no fingerprint is taken.
pub const HANDSHAKE_WORDS: &[&str] = &["negotiate", "ntlm", "kerberos"];

/// Request headers that carry an API key (compared ignoring case), besides
/// `AuthConfig::extra_api_key_headers`.
pub const DEFAULT_API_KEY_HEADERS: &[&str] = &[
    "x-api-key",
    "api-key",
    "apikey",
    "x-apikey",
    "x-api-token",
    "api-token",
    "x-auth-token",
    "x-access-token",
    "x-token",
    "x-auth-key",
    "x-session-token",
    "x-api-secret",
    "x-client-secret",
    "ocp-apim-subscription-key",
    "x-goog-api-key",
    "x-functions-key",
    "x-rapidapi-key",
    "private-token",
    "x-vault-token",
    "x-consul-token",
    "x-shopify-access-token",
];

/// Query keys that carry a credential whenever their value is non-empty (compared after
/// `%`-decoding, ignoring case), besides `AuthConfig::extra_query_keys`.
pub const DEFAULT_QUERY_KEYS: &[&str] = &[
    "api_key",
    "apikey",
    "api-key",
    "x-api-key",
    "api_token",
    "apitoken",
    "access_token",
    "auth_token",
    "authtoken",
    "id_token",
    "refresh_token",
    "private_token",
    "client_secret",
    "api_secret",
    "subscription-key",
    "jwt",
    "session_id",
    "sessionid",
    "password",
    "passwd",
];

/// Generic query keys that count only when the value looks like a key ([`looks_like_key`]
/// with `AuthConfig::query_key_min_len`), since they often carry other things (`key=name`,
/// `auth=true`, `token=` for pagination). `sig` is deliberately absent (image CDNs, Azure SAS
/// signatures); add it to `extra_query_keys` where it matters.
pub const GENERIC_QUERY_KEYS: &[&str] = &["key", "token", "auth"];

/// Query keys whose credential is a password (fingerprinted as [`super::CredentialKind::Password`]).
pub const PASSWORD_QUERY_KEYS: &[&str] = &["password", "passwd"];

/// Session or token cookie names (compared ignoring case, after dropping a `__Host-` or
/// `__Secure-` prefix), besides `AuthConfig::extra_session_cookies`. Names ending in
/// [`SESSION_COOKIE_SUFFIXES`] or starting with [`SESSION_COOKIE_PREFIXES`] count too, and so
/// does any cookie whose value is a JWT. Names containing `csrf` or `xsrf` never count.
pub const DEFAULT_SESSION_COOKIES: &[&str] = &[
    "session",
    "sessionid",
    "session_id",
    "sid",
    "sessid",
    "connect.sid",
    "jsessionid",
    "phpsessid",
    "asp.net_sessionid",
    ".aspxauth",
    ".aspnetcore.session",
    ".aspnetcore.cookies",
    "_session",
    "_session_id",
    "laravel_session",
    "auth",
    "token",
    "jwt",
    "access_token",
    "id_token",
    "auth_token",
    "authtoken",
];

/// Cookie name endings that mean a session.
pub const SESSION_COOKIE_SUFFIXES: &[&str] = &[
    "_session",
    "-session",
    ".session",
    "_sess",
    "sessionid",
    "session_id",
    "session-id",
    "session_token",
    "session-token",
    "sessiontoken",
    "_sid",
    ".sid",
    "-sid",
];

/// Cookie name beginnings that mean a session.
pub const SESSION_COOKIE_PREFIXES: &[&str] = &["wordpress_logged_in_", "wordpress_sec_"];

fn word_in(word: &[u8], list: &[&str]) -> bool {
    list.iter().any(|w| word.eq_ignore_ascii_case(w.as_bytes()))
}

/// The scheme of an `Authorization` value split into `word` and `rest` (see the module table).
pub(crate) fn authorization_scheme(word: &[u8], rest: &[u8]) -> Scheme {
    if word_in(word, BEARER_WORDS) {
        Scheme::Bearer
    } else if word.eq_ignore_ascii_case(b"basic") {
        Scheme::Basic
    } else if word.eq_ignore_ascii_case(b"digest") {
        Scheme::Digest
    } else if word_in(word, AWS_WORDS) {
        Scheme::AwsSigv4
    } else if word_in(word, API_KEY_WORDS) {
        Scheme::ApiKeyHeader
    } else if !rest.is_empty() || word_in(word, OTHER_WORDS) {
        Scheme::Other
    } else if looks_like_jwt(word) {
        Scheme::Bearer
    } else {
        Scheme::ApiKeyHeader
    }
}

/// True when `word` is a scheme name of any of the lists above.
pub(crate) fn is_scheme_word(word: &[u8]) -> bool {
    word_in(word, BEARER_WORDS)
        || word.eq_ignore_ascii_case(b"basic")
        || word.eq_ignore_ascii_case(b"digest")
        || word_in(word, AWS_WORDS)
        || word_in(word, API_KEY_WORDS)
        || word_in(word, OTHER_WORDS)
}

/// True when the `Authorization` word names a handshake scheme (no stable credential).
pub(crate) fn is_handshake_word(word: &[u8]) -> bool {
    word_in(word, HANDSHAKE_WORDS)
}

/// A value that looks like a generated key or token: `min_len`..=4096 bytes from
/// `A-Z a-z 0-9 - _ . ~ + / = :`, with at least one letter and one digit, or (at 20 bytes
/// or more) both capitals and small letters (`AIzaSyBx…` style keys without a digit).
pub fn looks_like_key(value: &[u8], min_len: usize) -> bool {
    (min_len..=4096).contains(&value.len())
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~+/=:".contains(b))
        && value.iter().any(u8::is_ascii_alphabetic)
        && (value.iter().any(u8::is_ascii_digit)
            || (value.len() >= 20
                && value.iter().any(u8::is_ascii_uppercase)
                && value.iter().any(u8::is_ascii_lowercase)))
}

/// How every name of [`DEFAULT_API_KEY_HEADERS`] ends.
const API_KEY_HEADER_ENDINGS: [&[u8]; 3] = [b"key", b"token", b"secret"];

/// True when the header `name` carries an API key.
pub(crate) fn is_api_key_header(name: &str, cfg: &AuthConfig) -> bool {
    // Every built-in name ends in one of these (a test checks it): most headers of a
    // request (`Host`, `Accept`, `Content-Type`) are not compared with the list at all.
    (API_KEY_HEADER_ENDINGS
        .iter()
        .any(|e| super::util::ends_with_ignore_case(name.as_bytes(), e))
        && DEFAULT_API_KEY_HEADERS
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h)))
        || cfg
            .extra_api_key_headers
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
}

/// True when the query parameter `key` (lower-cased, decoded) with `value` (decoded) is a
/// credential.
pub(crate) fn is_credential_query(key: &str, value: &[u8], cfg: &AuthConfig) -> bool {
    if value.is_empty() {
        return false;
    }
    if DEFAULT_QUERY_KEYS.contains(&key)
        || cfg
            .extra_query_keys
            .iter()
            .any(|k| key.eq_ignore_ascii_case(k))
    {
        return true;
    }
    GENERIC_QUERY_KEYS.contains(&key) && looks_like_key(value, cfg.query_key_min_len)
}

/// True when the cookie `name` is a session or token cookie by name alone.
pub(crate) fn is_session_cookie(name: &str, cfg: &AuthConfig) -> bool {
    let lower = name.to_ascii_lowercase();
    let bare = lower
        .strip_prefix("__host-")
        .or_else(|| lower.strip_prefix("__secure-"))
        .unwrap_or(&lower);
    if bare.contains("csrf") || bare.contains("xsrf") {
        return false;
    }
    DEFAULT_SESSION_COOKIES.contains(&bare)
        || SESSION_COOKIE_SUFFIXES.iter().any(|s| bare.ends_with(s))
        || SESSION_COOKIE_PREFIXES.iter().any(|p| bare.starts_with(p))
        || cfg
            .extra_session_cookies
            .iter()
            .any(|c| name.eq_ignore_ascii_case(c) || bare.eq_ignore_ascii_case(c))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn names_match_events_md_and_serde() {
        let names: Vec<&str> = Scheme::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            [
                "none",
                "bearer",
                "basic",
                "digest",
                "api_key_header",
                "api_key_query",
                "cookie",
                "aws_sigv4",
                "other"
            ]
        );
        for s in Scheme::ALL {
            assert_eq!(
                serde_json::to_string(s).unwrap(),
                format!("\"{}\"", s.name())
            );
            assert_eq!(Scheme::from_name(s.name()), Some(*s));
            assert_eq!(s.to_string(), s.name());
        }
        assert_eq!(Scheme::from_name("nope"), None);
        assert_eq!(Scheme::default(), Scheme::None);
    }

    #[test]
    fn authorization_words() {
        let s = |w: &str, r: &str| authorization_scheme(w.as_bytes(), r.as_bytes());
        assert_eq!(s("Bearer", "x"), Scheme::Bearer);
        assert_eq!(s("BEARER", "x"), Scheme::Bearer);
        assert_eq!(s("bearer", ""), Scheme::Bearer);
        assert_eq!(s("token", "ghp_x"), Scheme::Bearer);
        assert_eq!(s("JWT", "eyJ"), Scheme::Bearer);
        assert_eq!(s("DPoP", "eyJ"), Scheme::Bearer);
        assert_eq!(s("basic", "YTpi"), Scheme::Basic);
        assert_eq!(s("Digest", "username=\"a\""), Scheme::Digest);
        assert_eq!(s("AWS4-HMAC-SHA256", "Credential=x"), Scheme::AwsSigv4);
        assert_eq!(
            s("aws4-ecdsa-p256-sha256", "Credential=x"),
            Scheme::AwsSigv4
        );
        assert_eq!(s("ApiKey", "abc"), Scheme::ApiKeyHeader);
        assert_eq!(s("SSWS", "00abc"), Scheme::ApiKeyHeader);
        assert_eq!(s("Negotiate", "YIIx"), Scheme::Other);
        assert_eq!(s("NTLM", "TlRMTVNTUAAB"), Scheme::Other);
        assert_eq!(s("HOBA", "result=x"), Scheme::Other);
        assert_eq!(s("AWS", "AKID:sig"), Scheme::Other);
        assert_eq!(s("Whatever", "x"), Scheme::Other);
        assert_eq!(s("Negotiate", ""), Scheme::Other);
        // A lone word.
        assert_eq!(s("eyJhbGciOiJIUzI1NiJ9.e30.sig", ""), Scheme::Bearer);
        assert_eq!(
            s("sk_live_4eC39HqLyjWDarjtT1zdp7dc", ""),
            Scheme::ApiKeyHeader
        );
        assert!(is_handshake_word(b"ntlm"));
        assert!(is_scheme_word(b"BASIC") && is_scheme_word(b"hoba") && is_scheme_word(b"Token"));
        assert!(!is_scheme_word(b"eyJhbGciOiJIUzI1NiJ9.e30.sig"));
        assert!(!is_handshake_word(b"bearer"));
    }

    #[test]
    fn key_shapes() {
        assert!(looks_like_key(
            b"AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
            16
        ));
        assert!(looks_like_key(b"0a6b944d-d2fb-46fc-a85e-0295c986cd9f", 16));
        assert!(!looks_like_key(b"short1", 16));
        assert!(!looks_like_key(b"alllettersnodigitsatall", 16));
        assert!(!looks_like_key(b"12345678901234567890", 16));
        assert!(!looks_like_key(b"has space 1234567890abc", 16));
        assert!(looks_like_key(
            b"AIzaeBWJRQhUUAUPNyxvtNnqusPkziIgJnEGoDW",
            16
        ));
        assert!(
            !looks_like_key(b"SearchForSomething", 16),
            "mixed case but short"
        );
        assert!(
            !looks_like_key(b"searchforsomethinglong", 16),
            "one case only"
        );
        assert!(!looks_like_key(&[b'a'; 5000], 16));
    }

    #[test]
    fn header_query_cookie_rules() {
        let cfg = AuthConfig {
            extra_api_key_headers: vec!["X-Acme-Key".into()],
            extra_query_keys: vec!["sig".into()],
            extra_session_cookies: vec!["acme_login".into()],
            ..Default::default()
        };
        for h in DEFAULT_API_KEY_HEADERS {
            assert!(
                API_KEY_HEADER_ENDINGS
                    .iter()
                    .any(|e| h.as_bytes().ends_with(e)),
                "{h} needs its ending in API_KEY_HEADER_ENDINGS"
            );
            assert!(is_api_key_header(
                &h.to_ascii_uppercase(),
                &AuthConfig::default()
            ));
        }
        assert!(!is_api_key_header("x-api-keys", &AuthConfig::default()));
        assert!(!is_api_key_header("key", &AuthConfig::default()));
        assert!(is_api_key_header("X-API-Key", &cfg));
        assert!(is_api_key_header("Ocp-Apim-Subscription-Key", &cfg));
        assert!(is_api_key_header("x-acme-key", &cfg));
        assert!(!is_api_key_header("x-request-id", &cfg));
        assert!(!is_api_key_header("x-acme-key", &AuthConfig::default()));

        assert!(is_credential_query("api_key", b"1", &cfg));
        assert!(!is_credential_query("api_key", b"", &cfg));
        assert!(is_credential_query("access_token", b"abc", &cfg));
        assert!(is_credential_query("sig", b"abc", &cfg));
        assert!(!is_credential_query("sig", b"abc", &AuthConfig::default()));
        assert!(!is_credential_query("key", b"name", &cfg));
        assert!(!is_credential_query("token", b"next-page", &cfg));
        assert!(!is_credential_query("auth", b"true", &cfg));
        assert!(is_credential_query(
            "key",
            b"AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
            &cfg
        ));
        assert!(!is_credential_query(
            "page",
            b"AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
            &cfg
        ));

        for name in [
            "JSESSIONID",
            "PHPSESSID",
            "ASP.NET_SessionId",
            "connect.sid",
            "laravel_session",
            "_gitlab_session",
            "myapp-session",
            "__Host-session",
            "__Secure-next-auth.session-token",
            "wordpress_logged_in_abc123",
            "sid",
            "jwt",
            "acme_login",
        ] {
            assert!(is_session_cookie(name, &cfg), "{name}");
        }
        for name in [
            "_ga",
            "csrftoken",
            "XSRF-TOKEN",
            "theme",
            "csrf_session",
            "lang",
        ] {
            assert!(!is_session_cookie(name, &cfg), "{name}");
        }
    }
}
