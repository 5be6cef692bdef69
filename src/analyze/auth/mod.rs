//! Stage 6 (analyze, per HTTP transaction): what credential a request carried and how weak it
//! is. Input: a parsed [`Request`] and its [`Response`] (if seen) from `http`, the packet time
//! of the request (seconds since the epoch, from the capture: never the wall clock) and
//! whether the connection was TLS. Output: an [`AuthInfo`] (the `auth.scheme` and `auth.jwt`
//! event fields and more) and [`Weakness`]es named after EVENTS.md `finding` kinds.
//!
//! Entry points: [`classify`] (pure, no state: everything except the weak-secret check),
//! [`weaknesses`] (pure, from an `AuthInfo`), and [`AuthAnalyzer`] (one per worker: both,
//! plus the cached, rate-limited weak-secret check). [`ReuseTracker`] decides
//! `credential_reuse` across requests.
//!
//! # Precedence
//!
//! When a request carries several credentials, the first found in this order is *the*
//! credential (`scheme`, `credential`, `jwt`, `basic`, `aws`); the schemes of the others are
//! listed in `also_present`:
//!
//! 1. the first `Authorization` header (see the word table in `scheme.rs`; `Proxy-Authorization`
//!    is ignored: it authenticates to a proxy, not to the API);
//! 2. the first API-key header, in header order ([`DEFAULT_API_KEY_HEADERS`] and
//!    `extra_api_key_headers`); a leading `Bearer ` in its value is dropped;
//! 3. an AWS SigV4 presigned URL (`X-Amz-Algorithm=AWS4-HMAC-SHA256` in the query);
//! 4. the first credential query parameter ([`DEFAULT_QUERY_KEYS`], [`GENERIC_QUERY_KEYS`] with
//!    key-like values, `extra_query_keys`);
//! 5. the first session cookie by name ([`DEFAULT_SESSION_COOKIES`] and the suffix/prefix
//!    rules), else the first cookie whose value is a JWT.
//!
//! `credentials_in_url` lists every credential query key found (whatever the precedence), and
//! `userinfo` when the request target carries `user:password@`; AWS presigned parameters are
//! not listed (they are scoped, expiring signatures by design).
//!
//! Any credential value that looks like a JWT (`eyJ…` with two or four dots) is decoded,
//! whichever header, parameter or cookie carried it.
//!
//! # Guarantees
//!
//! No panic on any input (hostile headers, bytes that are not UTF-8, broken base64 or JSON);
//! no `unwrap`/`expect`/indexing on input-derived data (denied below). Every loop over input is
//! bounded by an [`AuthConfig`] limit, and every string copied out is cut to
//! `max_field_chars`. No raw secret is kept in any returned value: credentials are keyed
//! fingerprints, Basic passwords become a [`WeakReason`], JWT signatures are never stored.
//!
//! # In apitap
//!
//! Copy this folder to `src/analyze/auth/` and point the `use` of `Request`/`Response` below at
//! `crate::http`.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod basic;
mod claims;
mod config;
mod credential;
mod jwt;
mod reuse;
mod scheme;
mod util;
mod weak_secret;
mod weakness;

pub use basic::{decode_basic, is_common_password, password_weakness, BasicCred, WeakReason};
pub use claims::{
    looks_like_card_number, looks_like_email, looks_like_ssn, SENSITIVE_NAMES, SENSITIVE_PARTS,
};
pub use config::{AuthConfig, AuthConfigError, FingerprintKey};
pub use credential::{Credential, CredentialKind, CredentialLocation, Fingerprint};
pub use jwt::{decode as decode_jwt, looks_like_jwt, JwtError, JwtInfo, Segment};
pub use reuse::{ReuseConfig, ReuseStats, ReuseTracker};
pub use scheme::{
    looks_like_key, Scheme, API_KEY_WORDS, AWS_WORDS, BEARER_WORDS, DEFAULT_API_KEY_HEADERS,
    DEFAULT_QUERY_KEYS, DEFAULT_SESSION_COOKIES, GENERIC_QUERY_KEYS, HANDSHAKE_WORDS, OTHER_WORDS,
    PASSWORD_QUERY_KEYS, SESSION_COOKIE_PREFIXES, SESSION_COOKIE_SUFFIXES,
};
pub use weak_secret::{bundled_weak_secrets, WeakSecretChecker, WeakSecretStats};
pub use weakness::{
    weaknesses, Owasp, Severity, Transport, Weakness, WeaknessKind, RECOMMENDED_JWT_ALGS,
};

use crate::http::{Request, Response};

use std::borrow::Cow;

use serde::Serialize;
#[cfg(test)]
use serde_json::{Map, Value};

use util::{
    auth_params, bounded_lossy, bounded_str, percent_decode, query_key, query_pairs, split_scheme,
    starts_with_ignore_case, unquote,
};

/// What an AWS SigV4 credential scope says (`AKID/date/region/service/aws4_request`). The
/// access key ID itself is only fingerprinted; its 4-character prefix tells long-term
/// (`AKIA`) from temporary STS (`ASIA`) keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AwsInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// From a presigned URL rather than an `Authorization` header.
    pub presigned: bool,
    /// `X-Amz-Expires` of a presigned URL (seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_s: Option<u64>,
}

/// How one request authenticated. Holds no secret.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AuthInfo {
    /// `auth.scheme`.
    pub scheme: Scheme,
    /// The `Authorization` scheme word, lower-cased (`bearer`, `token`, `negotiate` …), when
    /// the credential came from that header with one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme_token: Option<String>,
    /// The credential chosen by precedence, fingerprinted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<Credential>,
    /// `auth.jwt`: the credential decoded as a JWT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt: Option<JwtInfo>,
    /// The credential looked like a JWT but did not decode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_error: Option<JwtError>,
    /// HTTP Basic: user name and password verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic: Option<BasicCred>,
    /// AWS SigV4 details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsInfo>,
    /// Query keys (lower-cased, decoded) holding credentials, and `userinfo`; no duplicates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub credentials_in_url: Vec<String>,
    /// Schemes of the other credentials present (precedence order, no duplicates).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_present: Vec<Scheme>,
    /// Status of the response, when one was seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_status: Option<u16>,
    /// Limits that stopped the inspection of this request early (for `stats` counters).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub limits_hit: Vec<AuthLimit>,
}

/// An inspection limit that a request reached: what was past it was not looked at. Each
/// maps to a `stats` counter `auth.limit.<name>`. (An over-long JWT is
/// [`JwtError::TooLong`]; a cut claim scan is [`JwtInfo::claims_truncated`].)
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthLimit {
    /// More than `max_query_params` query parameters.
    QueryParams,
    /// More than `max_cookies` cookies.
    Cookies,
    /// More than `max_auth_params` auth-params in a Digest or SigV4 `Authorization` value.
    AuthParams,
}

impl AuthLimit {
    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            AuthLimit::QueryParams => "query_params",
            AuthLimit::Cookies => "cookies",
            AuthLimit::AuthParams => "auth_params",
        }
    }
}

impl AuthInfo {
    /// `Some(true)` when the response was 2xx, `Some(false)` for any other status, `None`
    /// without a response.
    pub fn accepted(&self) -> Option<bool> {
        self.response_status.map(|s| (200..300).contains(&s))
    }

    /// The EVENTS.md `auth` object: `scheme`, and `jwt` with `alg`, `expired`, `has_exp`,
    /// `iss`, `sub` (absent values left out).
    pub fn event_fields(&self) -> AuthFields<'_> {
        AuthFields {
            scheme: self.scheme.name(),
            jwt: self.jwt.as_ref().map(|j| JwtFields {
                alg: Cow::Borrowed(&j.alg),
                expired: j.expired,
                has_exp: j.has_exp,
                iss: j.iss.as_deref().map(Cow::Borrowed),
                sub: j.sub.as_deref().map(Cow::Borrowed),
            }),
        }
    }

    /// [`AuthInfo::event_fields`], taking the strings instead of copying them.
    pub fn into_event_fields(self) -> AuthFields<'static> {
        AuthFields {
            scheme: self.scheme.name(),
            jwt: self.jwt.map(|j| JwtFields {
                alg: Cow::Owned(j.alg),
                expired: j.expired,
                has_exp: j.has_exp,
                iss: j.iss.map(Cow::Owned),
                sub: j.sub.map(Cow::Owned),
            }),
        }
    }
}

/// The `auth` object of an `http` event, borrowed from its [`AuthInfo`] (serialised
/// directly: no JSON tree is built per transaction).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuthFields<'a> {
    pub scheme: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt: Option<JwtFields<'a>>,
}

/// `auth.jwt`: what the event says about a JWT credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JwtFields<'a> {
    pub alg: Cow<'a, str>,
    pub expired: bool,
    pub has_exp: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<Cow<'a, str>>,
}

/// One credential found in a request, before it is looked at closely.
enum Found<'a> {
    Authorization {
        word: &'a [u8],
        rest: &'a [u8],
        scheme: Scheme,
    },
    ApiKeyHeader {
        name: &'a str,
        value: &'a [u8],
    },
    AwsPresigned {
        credential: Vec<u8>,
        expires_s: Option<u64>,
    },
    Query {
        key: String,
        value: Vec<u8>,
    },
    Cookie {
        name: &'a str,
        value: &'a [u8],
    },
}

impl Found<'_> {
    fn scheme(&self) -> Scheme {
        match self {
            Found::Authorization { scheme, .. } => *scheme,
            Found::ApiKeyHeader { .. } => Scheme::ApiKeyHeader,
            Found::AwsPresigned { .. } => Scheme::AwsSigv4,
            Found::Query { .. } => Scheme::ApiKeyQuery,
            Found::Cookie { .. } => Scheme::Cookie,
        }
    }
}

/// Every credential of `req`, in precedence order, plus `credentials_in_url`.
fn find_all<'a>(
    req: &'a Request,
    cfg: &AuthConfig,
    limits: &mut Vec<AuthLimit>,
) -> (Vec<Found<'a>>, Vec<String>) {
    let mut found = Vec::new();
    let mut in_url: Vec<String> = Vec::new();

    // 1. Authorization.
    if let Some(value) = req.header("authorization") {
        let (word, rest) = split_scheme(value);
        if !word.is_empty() {
            found.push(Found::Authorization {
                word,
                rest,
                scheme: scheme::authorization_scheme(word, rest),
            });
        }
    }

    // 2. API-key headers.
    if let Some(h) = req
        .headers
        .iter()
        .find(|h| scheme::is_api_key_header(&h.name, cfg) && !h.value.trim_ascii().is_empty())
    {
        found.push(Found::ApiKeyHeader {
            name: &h.name,
            value: h.value.trim_ascii(),
        });
    }

    // 3 and 4. The query string.
    let mut query_found: Option<Found<'a>> = None;
    if let Some(q) = &req.query {
        let mut amz_sigv4 = false;
        let mut amz_credential = None;
        let mut amz_expires = None;
        for (n, (raw_key, raw_value)) in
            query_pairs(q, cfg.max_query_params.saturating_add(1)).enumerate()
        {
            if n == cfg.max_query_params {
                limits.push(AuthLimit::QueryParams);
                break;
            }
            let key = query_key(raw_key, cfg.max_field_chars);
            if key.starts_with("x-amz-") {
                match key.as_str() {
                    "x-amz-algorithm" => {
                        let v = percent_decode(raw_value.as_bytes());
                        amz_sigv4 = scheme::AWS_WORDS
                            .iter()
                            .any(|w| v.eq_ignore_ascii_case(w.as_bytes()));
                    }
                    "x-amz-credential" => {
                        amz_credential = Some(percent_decode(raw_value.as_bytes()))
                    }
                    "x-amz-expires" => amz_expires = raw_value.parse::<u64>().ok(),
                    _ => {}
                }
                continue;
            }
            let value = percent_decode(raw_value.as_bytes());
            if scheme::is_credential_query(&key, &value, cfg) {
                if !in_url.contains(&key) {
                    in_url.push(key.clone());
                }
                if query_found.is_none() {
                    query_found = Some(Found::Query { key, value });
                }
            }
        }
        if amz_sigv4 {
            found.push(Found::AwsPresigned {
                credential: amz_credential.unwrap_or_default(),
                expires_s: amz_expires,
            });
        }
    }
    if let Some(q) = query_found {
        found.push(q);
    }

    // Userinfo with a password in an absolute-form target.
    if let Some(authority) = &req.authority {
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if userinfo.contains(':') {
                in_url.push("userinfo".into());
            }
        }
    }

    // 5. Cookies.
    let cookies = req
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("cookie"))
        .flat_map(|h| h.value.split(|&b| b == b';'))
        .enumerate()
        .take(cfg.max_cookies.saturating_add(1))
        .filter_map(|(n, pair)| {
            if n == cfg.max_cookies {
                limits.push(AuthLimit::Cookies);
                return None;
            }
            let pair = pair.trim_ascii();
            let eq = memchr::memchr(b'=', pair)?;
            let name = std::str::from_utf8(pair.get(..eq)?.trim_ascii()).ok()?;
            let value = unquote(pair.get(eq + 1..)?.trim_ascii());
            (!name.is_empty() && !value.is_empty()).then_some((name, value))
        });
    let mut jwt_cookie = None;
    let mut session_cookie = None;
    for (name, value) in cookies {
        if scheme::is_session_cookie(name, cfg) {
            session_cookie = Some((name, value));
            break;
        }
        if jwt_cookie.is_none() && looks_like_jwt(value) {
            jwt_cookie = Some((name, value));
        }
    }
    if let Some((name, value)) = session_cookie.or(jwt_cookie) {
        found.push(Found::Cookie { name, value });
    }

    (found, in_url)
}

/// Fills `info` from a token-like credential: kind (JWT or `default_kind`), fingerprint, and
/// the decoded JWT.
fn take_token(
    info: &mut AuthInfo,
    ctx: &mut Ctx<'_>,
    token: &[u8],
    location: CredentialLocation,
    field: &str,
    default_kind: CredentialKind,
) {
    let token = token.trim_ascii();
    if token.is_empty() {
        return;
    }
    let is_jwt = looks_like_jwt(token);
    info.credential = Some(Credential {
        kind: if is_jwt {
            CredentialKind::Jwt
        } else {
            default_kind
        },
        location,
        field: bounded_str(field, ctx.cfg.max_field_chars),
        fingerprint: Fingerprint::of(&ctx.cfg.fingerprint_key, token),
    });
    if is_jwt {
        match jwt::decode(token, ctx.now, ctx.cfg) {
            Ok(mut j) => {
                if let Some(checker) = ctx.checker.as_deref_mut() {
                    if !j.encrypted {
                        j.weak_secret = checker.check(token, &j.alg, ctx.now);
                    }
                }
                info.jwt = Some(j);
            }
            Err(e) => info.jwt_error = Some(e),
        }
    }
}

fn aws_info(credential: &[u8], presigned: bool, expires_s: Option<u64>, max: usize) -> AwsInfo {
    let mut parts = credential.split(|&b| b == b'/');
    let akid = parts.next().unwrap_or_default();
    let field = |p: Option<&[u8]>| p.filter(|p| !p.is_empty()).map(|p| bounded_lossy(p, max));
    AwsInfo {
        key_prefix: akid
            .get(..4)
            .filter(|p| p.iter().all(u8::is_ascii_alphanumeric))
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        date: field(parts.next()),
        region: field(parts.next()),
        service: field(parts.next()),
        presigned,
        expires_s,
    }
}

/// The access key ID of a credential scope.
fn aws_key_id(credential: &[u8]) -> &[u8] {
    credential.split(|&b| b == b'/').next().unwrap_or_default()
}

struct Ctx<'c> {
    cfg: &'c AuthConfig,
    now: i64,
    checker: Option<&'c mut WeakSecretChecker>,
}

fn take_aws(
    info: &mut AuthInfo,
    ctx: &Ctx<'_>,
    credential: &[u8],
    presigned: bool,
    expires_s: Option<u64>,
    field: &str,
    location: CredentialLocation,
) {
    info.aws = Some(aws_info(
        credential,
        presigned,
        expires_s,
        ctx.cfg.max_field_chars,
    ));
    let akid = aws_key_id(credential);
    if !akid.is_empty() {
        info.credential = Some(Credential {
            kind: CredentialKind::AwsAccessKeyId,
            location,
            field: field.into(),
            fingerprint: Fingerprint::of(&ctx.cfg.fingerprint_key, akid),
        });
    }
}

/// [`auth_params`] that records [`AuthLimit::AuthParams`] when there were more.
fn bounded_auth_params(info: &mut AuthInfo, rest: &[u8], max: usize) -> Vec<(String, Vec<u8>)> {
    let mut params = auth_params(rest, max.saturating_add(1));
    if params.len() > max {
        params.truncate(max);
        info.limits_hit.push(AuthLimit::AuthParams);
    }
    params
}

/// Fills `info` from the chosen credential.
fn take(info: &mut AuthInfo, ctx: &mut Ctx<'_>, found: &Found<'_>) {
    info.scheme = found.scheme();
    let cfg: &AuthConfig = ctx.cfg;
    let max = cfg.max_field_chars;
    let fp_key = &cfg.fingerprint_key;
    match found {
        Found::Authorization { word, rest, scheme } => {
            let header = CredentialLocation::Header;
            // A lone word that is no scheme name is the credential itself.
            let lone = rest.is_empty() && !scheme::is_scheme_word(word);
            let token: &[u8] = if lone { word } else { rest };
            if !lone {
                info.scheme_token = Some(bounded_lossy(word, max).to_ascii_lowercase());
            }
            match scheme {
                Scheme::Bearer | Scheme::ApiKeyHeader => take_token(
                    info,
                    ctx,
                    token,
                    header,
                    "authorization",
                    CredentialKind::Token,
                ),
                Scheme::Basic => {
                    if !rest.is_empty() {
                        info.credential = Some(Credential {
                            kind: CredentialKind::UserPassword,
                            location: header,
                            field: "authorization".into(),
                            fingerprint: Fingerprint::of(fp_key, rest),
                        });
                        info.basic = decode_basic(rest, cfg.min_password_len, max);
                    }
                }
                Scheme::Digest => {
                    let params = bounded_auth_params(info, rest, cfg.max_auth_params);
                    let get = |n: &str| {
                        params
                            .iter()
                            .find(|(k, _)| k == n)
                            .map(|(_, v)| v.as_slice())
                    };
                    if let Some(user) = get("username").filter(|u| !u.is_empty()) {
                        let mut id = user.to_vec();
                        id.push(0);
                        id.extend_from_slice(get("realm").unwrap_or_default());
                        info.credential = Some(Credential {
                            kind: CredentialKind::DigestUser,
                            location: header,
                            field: "authorization".into(),
                            fingerprint: Fingerprint::of(fp_key, &id),
                        });
                    }
                }
                Scheme::AwsSigv4 => {
                    let params = bounded_auth_params(info, rest, cfg.max_auth_params);
                    let cred = params
                        .iter()
                        .find(|(k, _)| k == "credential")
                        .map(|(_, v)| v.as_slice())
                        .unwrap_or_default();
                    take_aws(info, ctx, cred, false, None, "authorization", header);
                }
                Scheme::Other => {
                    if !rest.is_empty() && !scheme::is_handshake_word(word) {
                        info.credential = Some(Credential {
                            kind: CredentialKind::Other,
                            location: header,
                            field: "authorization".into(),
                            fingerprint: Fingerprint::of(fp_key, rest),
                        });
                    }
                }
                Scheme::None | Scheme::ApiKeyQuery | Scheme::Cookie => {}
            }
        }
        Found::ApiKeyHeader { name, value } => {
            let value = if starts_with_ignore_case(value, b"bearer ") {
                value.get(7..).unwrap_or_default()
            } else {
                value
            };
            let field = name.to_ascii_lowercase();
            take_token(
                info,
                ctx,
                value,
                CredentialLocation::Header,
                &field,
                CredentialKind::Token,
            );
        }
        Found::AwsPresigned {
            credential,
            expires_s,
        } => {
            take_aws(
                info,
                ctx,
                credential,
                true,
                *expires_s,
                "x-amz-credential",
                CredentialLocation::Query,
            );
        }
        Found::Query { key, value } => {
            let kind = if scheme::PASSWORD_QUERY_KEYS.contains(&key.as_str()) {
                CredentialKind::Password
            } else {
                CredentialKind::Token
            };
            take_token(info, ctx, value, CredentialLocation::Query, key, kind);
        }
        Found::Cookie { name, value } => {
            take_token(
                info,
                ctx,
                value,
                CredentialLocation::Cookie,
                name,
                CredentialKind::SessionId,
            );
        }
    }
}

fn classify_with(
    req: &Request,
    resp: Option<&Response>,
    cfg: &AuthConfig,
    packet_time_s: i64,
    checker: Option<&mut WeakSecretChecker>,
) -> AuthInfo {
    let mut limits_hit = Vec::new();
    let (found, credentials_in_url) = find_all(req, cfg, &mut limits_hit);
    let mut info = AuthInfo {
        credentials_in_url,
        limits_hit,
        response_status: resp.map(|r| r.status),
        ..Default::default()
    };
    let mut ctx = Ctx {
        cfg,
        now: packet_time_s,
        checker,
    };
    let mut rest = found.iter();
    if let Some(first) = rest.next() {
        take(&mut info, &mut ctx, first);
    }
    for f in rest {
        let s = f.scheme();
        if s != info.scheme && !info.also_present.contains(&s) {
            info.also_present.push(s);
        }
    }
    info
}

/// Classifies the credential of `req` (see the module docs for the rules and precedence).
/// `resp` gives the status (`accepted`); `packet_time_s` is the request's packet time in
/// seconds since the epoch, from the capture. Pure: `jwt.weak_secret` stays `None` (use
/// [`AuthAnalyzer`] for the weak-secret check).
pub fn classify(
    req: &Request,
    resp: Option<&Response>,
    cfg: &AuthConfig,
    packet_time_s: i64,
) -> AuthInfo {
    classify_with(req, resp, cfg, packet_time_s, None)
}

/// The result of [`AuthAnalyzer::analyze`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    pub info: AuthInfo,
    pub weaknesses: Vec<Weakness>,
}

/// Per-worker auth analysis: [`classify`] with the weak-secret check, then [`weaknesses`].
#[derive(Debug)]
pub struct AuthAnalyzer {
    cfg: AuthConfig,
    secrets: WeakSecretChecker,
}

impl AuthAnalyzer {
    /// Validates `cfg` and builds the weak-secret checker.
    pub fn new(cfg: AuthConfig) -> Result<Self, AuthConfigError> {
        cfg.validate()?;
        let secrets = WeakSecretChecker::new(&cfg);
        Ok(Self { cfg, secrets })
    }

    /// The configuration in use.
    pub fn config(&self) -> &AuthConfig {
        &self.cfg
    }

    /// Classifies `req` and lists its weaknesses. `packet_time_s`: the request's packet time
    /// (seconds since the epoch, from the capture); `transport`: whether it came over TLS.
    pub fn analyze(
        &mut self,
        req: &Request,
        resp: Option<&Response>,
        packet_time_s: i64,
        transport: Transport,
    ) -> Analysis {
        let info = classify_with(req, resp, &self.cfg, packet_time_s, Some(&mut self.secrets));
        let weaknesses = weaknesses(&info, &self.cfg, transport);
        Analysis { info, weaknesses }
    }

    /// Weak-secret check counters.
    pub fn weak_secret_stats(&self) -> WeakSecretStats {
        self.secrets.stats()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::jwt::testutil::{b64, fake_signed, hs, unsigned};
    use super::*;
    use crate::http::Header;
    use proptest::prelude::*;

    const NOW: i64 = 1_700_000_000;

    fn cfg() -> AuthConfig {
        AuthConfig {
            fingerprint_key: FingerprintKey::new(b"test fingerprint key"),
            ..Default::default()
        }
    }

    /// A request as `http` would hand it over: `target` split into path and query.
    fn req(method: &str, target: &str, headers: &[(&str, &str)]) -> Request {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (target.to_string(), None),
        };
        Request {
            method: method.into(),
            target: target.into(),
            path,
            query,
            version: "HTTP/1.1".into(),
            headers: headers
                .iter()
                .map(|(n, v)| Header {
                    name: (*n).into(),
                    value: v.as_bytes().to_vec(),
                })
                .collect(),
            ..Default::default()
        }
    }

    fn resp(status: u16) -> Response {
        Response {
            status,
            version: "HTTP/1.1".into(),
            ..Default::default()
        }
    }

    fn fp(raw: &str) -> Fingerprint {
        Fingerprint::of(&cfg().fingerprint_key, raw.as_bytes())
    }

    fn analyze(r: &Request, status: Option<u16>) -> Analysis {
        let mut a = AuthAnalyzer::new(cfg()).unwrap();
        let resp = status.map(resp);
        a.analyze(r, resp.as_ref(), NOW, Transport::Cleartext)
    }

    fn kinds(a: &Analysis) -> Vec<&'static str> {
        a.weaknesses.iter().map(|w| w.kind.name()).collect()
    }

    const CURL: (&str, &str) = ("User-Agent", "curl/8.5.0");
    const HOST: (&str, &str) = ("Host", "api.example.com");

    // ---- schemes -------------------------------------------------------------------------

    #[test]
    fn no_credentials() {
        let r = req(
            "GET",
            "/v1/status?page=2&key=name",
            &[HOST, CURL, ("Accept", "*/*")],
        );
        let a = analyze(&r, Some(200));
        assert_eq!(a.info.scheme, Scheme::None);
        assert_eq!(a.info.credential, None);
        assert!(a.info.credentials_in_url.is_empty());
        assert!(a.weaknesses.is_empty());
        assert_eq!(
            serde_json::to_value(a.info.event_fields()).unwrap(),
            serde_json::json!({"scheme": "none"})
        );
    }

    #[test]
    fn curl_bearer_opaque_token() {
        // curl -H "Authorization: Bearer sk-proj-…" https://api.example.com/v1/models
        let tok = "sk-proj-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c";
        let r = req(
            "GET",
            "/v1/models",
            &[HOST, CURL, ("Authorization", &format!("Bearer {tok}"))],
        );
        let i = classify(&r, Some(&resp(200)), &cfg(), NOW);
        assert_eq!(i.scheme, Scheme::Bearer);
        assert_eq!(i.scheme_token.as_deref(), Some("bearer"));
        let c = i.credential.clone().unwrap();
        assert_eq!(c.kind, CredentialKind::Token);
        assert_eq!(c.location, CredentialLocation::Header);
        assert_eq!(c.field, "authorization");
        assert_eq!(c.fingerprint, fp(tok));
        assert_eq!(i.jwt, None);
        assert_eq!(i.accepted(), Some(true));
    }

    #[test]
    fn bearer_words_in_any_case() {
        for (value, word) in [
            ("bearer abc123", "bearer"),
            ("BEARER abc123", "bearer"),
            ("Token abc123", "token"),
            ("token ghp_16C7e42F292c6912E7710c838347Ae178B4a", "token"),
            ("JWT abc123", "jwt"),
            ("DPoP abc123", "dpop"),
            ("  Bearer    abc123  ", "bearer"),
        ] {
            let i = classify(
                &req("GET", "/", &[("authorization", value)]),
                None,
                &cfg(),
                NOW,
            );
            assert_eq!(i.scheme, Scheme::Bearer, "{value}");
            assert_eq!(i.scheme_token.as_deref(), Some(word));
            assert!(i.credential.is_some());
            assert_eq!(i.accepted(), None);
        }
        // The scheme word alone: bearer, nothing to fingerprint.
        let i = classify(
            &req("GET", "/", &[("Authorization", "Bearer")]),
            None,
            &cfg(),
            NOW,
        );
        assert_eq!(i.scheme, Scheme::Bearer);
        assert_eq!(i.credential, None);
    }

    #[test]
    fn curl_basic_weak_password_over_cleartext() {
        // curl -u alice:password1 http://api.example.com/admin
        let r = req(
            "GET",
            "/admin",
            &[HOST, CURL, ("Authorization", "Basic YWxpY2U6cGFzc3dvcmQx")],
        );
        let a = analyze(&r, Some(200));
        assert_eq!(a.info.scheme, Scheme::Basic);
        assert_eq!(
            a.info.basic,
            Some(BasicCred {
                user: "alice".into(),
                weak_password: Some(WeakReason::CommonPassword)
            })
        );
        let c = a.info.credential.as_ref().unwrap();
        assert_eq!(c.kind, CredentialKind::UserPassword);
        assert_eq!(c.fingerprint, fp("YWxpY2U6cGFzc3dvcmQx"));
        assert_eq!(
            kinds(&a),
            ["basic_auth_cleartext", "basic_auth_weak_password"]
        );
        assert_eq!(a.weaknesses[0].severity(), Severity::High);
        // A strong password over TLS: nothing.
        let mut an = AuthAnalyzer::new(cfg()).unwrap();
        let r = req(
            "GET",
            "/admin",
            &[(
                "Authorization",
                "Basic YWxpY2U6Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5LXN0YXBsZQ==",
            )],
        );
        let a = an.analyze(&r, Some(&resp(200)), NOW, Transport::Tls);
        assert!(a.weaknesses.is_empty());
        assert_eq!(a.info.basic.unwrap().weak_password, None);
        // Same user as password.
        let r = req("GET", "/", &[("Authorization", "basic YWRtaW46YWRtaW4=")]);
        assert_eq!(
            classify(&r, None, &cfg(), NOW).basic.unwrap().weak_password,
            Some(WeakReason::SameAsUser)
        );
    }

    #[test]
    fn basic_with_invalid_base64_is_still_basic() {
        let r = req("GET", "/", &[("Authorization", "Basic !!!not-base64!!!")]);
        let a = analyze(&r, Some(401));
        assert_eq!(a.info.scheme, Scheme::Basic);
        assert_eq!(a.info.basic, None);
        assert!(a.info.credential.is_some(), "still fingerprinted as sent");
        assert_eq!(kinds(&a), ["basic_auth_cleartext"]);
        // Valid base64 without a colon.
        let r = req("GET", "/", &[("Authorization", "Basic dG9rZW5vbmx5")]);
        assert_eq!(classify(&r, None, &cfg(), NOW).basic, None);
        // No token at all.
        let i = classify(
            &req("GET", "/", &[("Authorization", "Basic")]),
            None,
            &cfg(),
            NOW,
        );
        assert_eq!((i.scheme, i.credential), (Scheme::Basic, None));
        assert!(
            analyze(&req("GET", "/", &[("Authorization", "Basic")]), None)
                .weaknesses
                .is_empty()
        );
    }

    #[test]
    fn digest_fingerprints_user_and_realm() {
        // RFC 7616 §3.9.1, as a browser sends it.
        let h = |nonce: &str| {
            format!(
                r#"Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=MD5, nonce="{nonce}", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="8ca523f5e9506fed4657c9700eebdbec", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#
            )
        };
        let a = classify(
            &req(
                "GET",
                "/dir/index.html",
                &[(
                    "Authorization",
                    &h("7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"),
                )],
            ),
            None,
            &cfg(),
            NOW,
        );
        let b = classify(
            &req(
                "GET",
                "/dir/index.html",
                &[("Authorization", &h("other-nonce"))],
            ),
            None,
            &cfg(),
            NOW,
        );
        assert_eq!(a.scheme, Scheme::Digest);
        let ca = a.credential.unwrap();
        assert_eq!(ca.kind, CredentialKind::DigestUser);
        assert_eq!(ca.fingerprint, fp("Mufasa\0http-auth@example.org"));
        assert_eq!(Some(ca), b.credential, "stable across nonces");
        let i = classify(
            &req("GET", "/", &[("Authorization", "Digest realm=\"x\"")]),
            None,
            &cfg(),
            NOW,
        );
        assert_eq!((i.scheme, i.credential), (Scheme::Digest, None));
    }

    #[test]
    fn aws_sdk_sigv4_header() {
        // AWS Signature Version 4 documentation example (GET Object), as sent by the SDKs.
        let r = req(
            "GET",
            "/test.txt",
            &[
                ("Host", "examplebucket.s3.amazonaws.com"),
                ("Range", "bytes=0-9"),
                ("x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                ("x-amz-date", "20130524T000000Z"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
                ("User-Agent", "aws-sdk-go-v2/1.30.0 os/linux lang/go#1.22 md/GOOS#linux api/s3#1.58.0"),
            ],
        );
        let a = analyze(&r, Some(206));
        assert_eq!(a.info.scheme, Scheme::AwsSigv4);
        assert_eq!(a.info.scheme_token.as_deref(), Some("aws4-hmac-sha256"));
        assert_eq!(
            a.info.aws,
            Some(AwsInfo {
                key_prefix: Some("AKIA".into()),
                date: Some("20130524".into()),
                region: Some("us-east-1".into()),
                service: Some("s3".into()),
                presigned: false,
                expires_s: None,
            })
        );
        let c = a.info.credential.as_ref().unwrap();
        assert_eq!(c.kind, CredentialKind::AwsAccessKeyId);
        assert_eq!(c.fingerprint, fp("AKIAIOSFODNN7EXAMPLE"));
        assert!(a.weaknesses.is_empty());
    }

    #[test]
    fn presigned_s3_url() {
        // AWS documentation example of a presigned URL (query-string authentication).
        let target = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
        let r = req(
            "GET",
            target,
            &[
                ("Host", "examplebucket.s3.amazonaws.com"),
                ("User-Agent", "Mozilla/5.0"),
            ],
        );
        let a = analyze(&r, Some(200));
        assert_eq!(a.info.scheme, Scheme::AwsSigv4);
        let aws = a.info.aws.as_ref().unwrap();
        assert!(aws.presigned);
        assert_eq!(aws.expires_s, Some(86_400));
        assert_eq!(aws.key_prefix.as_deref(), Some("ASIA"));
        assert_eq!(aws.service.as_deref(), Some("s3"));
        let c = a.info.credential.as_ref().unwrap();
        assert_eq!(c.location, CredentialLocation::Query);
        assert_eq!(c.fingerprint, fp("ASIAIOSFODNN7EXAMPLE"));
        assert!(a.info.credentials_in_url.is_empty(), "presigned by design");
        assert!(a.weaknesses.is_empty());
        // X-Amz-Credential without the algorithm is not SigV4.
        let r = req("GET", "/x?X-Amz-Credential=AKIA%2Fx", &[]);
        assert_eq!(classify(&r, None, &cfg(), NOW).scheme, Scheme::None);
    }

    #[test]
    fn azure_apim_google_and_functions_keys() {
        for (name, value) in [
            (
                "Ocp-Apim-Subscription-Key",
                "0123456789abcdef0123456789abcdef",
            ),
            ("X-Goog-Api-Key", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"),
            (
                "x-functions-key",
                "Xb1Jm0wq3K7G5k8e9zT2vFhNQy6A4sPdLrU0cW==",
            ),
            ("X-API-Key", "live_4eC39HqLyjWDarjtT1zdp7dc"),
            ("apikey", "abc"),
        ] {
            let r = req(
                "POST",
                "/v1/translate",
                &[HOST, (name, value), ("Content-Type", "application/json")],
            );
            let i = classify(&r, Some(&resp(200)), &cfg(), NOW);
            assert_eq!(i.scheme, Scheme::ApiKeyHeader, "{name}");
            let c = i.credential.unwrap();
            assert_eq!(c.field, name.to_ascii_lowercase());
            assert_eq!(c.kind, CredentialKind::Token);
            assert_eq!(c.fingerprint, fp(value));
        }
        // Empty values do not count.
        let i = classify(&req("GET", "/", &[("X-API-Key", "  ")]), None, &cfg(), NOW);
        assert_eq!(i.scheme, Scheme::None);
        // Configured names.
        let c = AuthConfig {
            extra_api_key_headers: vec!["X-Acme-Token".into()],
            ..cfg()
        };
        let r = req("GET", "/", &[("x-acme-token", "tok_123")]);
        assert_eq!(classify(&r, None, &c, NOW).scheme, Scheme::ApiKeyHeader);
        assert_eq!(classify(&r, None, &cfg(), NOW).scheme, Scheme::None);
    }

    #[test]
    fn api_key_header_with_bearer_prefix_and_jwt() {
        let t = hs(
            "HS256",
            b"secret",
            &format!(r#"{{"sub":"svc","exp":{}}}"#, NOW + 60),
        );
        let r = req("GET", "/", &[("x-access-token", &format!("Bearer {t}"))]);
        let a = analyze(&r, Some(200));
        assert_eq!(a.info.scheme, Scheme::ApiKeyHeader);
        assert_eq!(
            a.info.credential.as_ref().unwrap().kind,
            CredentialKind::Jwt
        );
        assert_eq!(a.info.credential.as_ref().unwrap().fingerprint, fp(&t));
        assert_eq!(a.info.jwt.as_ref().unwrap().weak_secret, Some(true));
        assert_eq!(kinds(&a), ["jwt_weak_secret"]);
    }

    #[test]
    fn query_credentials() {
        let jwt = fake_signed(r#"{"alg":"RS256"}"#, &format!(r#"{{"exp":{}}}"#, NOW + 60));
        let target = format!("/v1/items?page=1&API_KEY=abc123&access_token={jwt}&api_key=dup");
        let a = analyze(&req("GET", &target, &[HOST]), Some(200));
        assert_eq!(a.info.scheme, Scheme::ApiKeyQuery);
        assert_eq!(a.info.credentials_in_url, ["api_key", "access_token"]);
        let c = a.info.credential.as_ref().unwrap();
        assert_eq!(
            (c.location, c.field.as_str()),
            (CredentialLocation::Query, "api_key")
        );
        assert_eq!(c.fingerprint, fp("abc123"));
        assert_eq!(kinds(&a), ["credentials_in_url"]);
        assert_eq!(
            a.weaknesses[0].evidence["keys"],
            serde_json::json!(["api_key", "access_token"])
        );
        // A JWT as the query credential is decoded.
        let a = analyze(
            &req("GET", &format!("/ws?access_token={jwt}"), &[]),
            Some(101),
        );
        assert_eq!(a.info.jwt.as_ref().unwrap().alg, "RS256");
        // %-encoded key, Google key in `key`, password in the URL.
        let i = classify(
            &req(
                "GET",
                "/maps?key=AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
                &[],
            ),
            None,
            &cfg(),
            NOW,
        );
        assert_eq!(
            (i.scheme, i.credentials_in_url.clone()),
            (Scheme::ApiKeyQuery, vec!["key".to_string()])
        );
        let i = classify(
            &req("GET", "/login?user=bob&pass%77d=hunter2", &[]),
            None,
            &cfg(),
            NOW,
        );
        assert_eq!(i.credential.unwrap().kind, CredentialKind::Password);
        assert_eq!(i.credentials_in_url, ["passwd"]);
        // Generic keys with ordinary values are not credentials.
        let i = classify(
            &req("GET", "/s?token=next&auth=true&key=color", &[]),
            None,
            &cfg(),
            NOW,
        );
        assert_eq!(i.scheme, Scheme::None);
        assert!(i.credentials_in_url.is_empty());
    }

    #[test]
    fn userinfo_in_url() {
        let mut r = req("GET", "http://bob:s3cret@api.example.com/x", &[]);
        r.authority = Some("bob:s3cret@api.example.com".into());
        r.path = "/x".into();
        let i = classify(&r, None, &cfg(), NOW);
        assert_eq!(i.credentials_in_url, ["userinfo"]);
        r.authority = Some("bob@api.example.com".into());
        assert!(classify(&r, None, &cfg(), NOW)
            .credentials_in_url
            .is_empty());
    }

    #[test]
    fn browser_session_cookies() {
        for (cookie, name) in [
            (
                "_ga=GA1.2.1234.5678; JSESSIONID=8D9A6C2E1F0B3A4D5E6F7A8B9C0D1E2F; theme=dark",
                "JSESSIONID",
            ),
            ("PHPSESSID=el4ukv0kqbvoirg7nkp4dncpk3", "PHPSESSID"),
            (
                "ASP.NET_SessionId=yk2ba0ld2vy3uqthzpnqv3qd",
                "ASP.NET_SessionId",
            ),
            ("connect.sid=s%3AO3i0Jm1iVnSg.Y2xX4k9sZ9Q", "connect.sid"),
            (
                "XSRF-TOKEN=abc; laravel_session=eyJpdiI6IkV4",
                "laravel_session",
            ),
            (
                "__Secure-next-auth.session-token=abc.def",
                "__Secure-next-auth.session-token",
            ),
            ("_gitlab_session=0123456789abcdef", "_gitlab_session"),
            ("sid=\"quoted-value\"", "sid"),
        ] {
            let r = req(
                "GET",
                "/account",
                &[
                    HOST,
                    (
                        "User-Agent",
                        "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0",
                    ),
                    ("Cookie", cookie),
                ],
            );
            let i = classify(&r, Some(&resp(200)), &cfg(), NOW);
            assert_eq!(i.scheme, Scheme::Cookie, "{cookie}");
            let c = i.credential.unwrap();
            assert_eq!(
                (c.location, c.field.as_str()),
                (CredentialLocation::Cookie, name)
            );
            assert_eq!(c.kind, CredentialKind::SessionId);
        }
        let i = classify(
            &req("GET", "/", &[("Cookie", "sid=\"quoted-value\"")]),
            None,
            &cfg(),
            NOW,
        );
        assert_eq!(i.credential.unwrap().fingerprint, fp("quoted-value"));
        // Analytics and preferences only.
        let r = req(
            "GET",
            "/",
            &[("Cookie", "_ga=GA1.2.3.4; theme=dark; csrftoken=abc")],
        );
        assert_eq!(classify(&r, None, &cfg(), NOW).scheme, Scheme::None);
        // Several Cookie headers (HTTP/2-style split).
        let r = req("GET", "/", &[("cookie", "a=1"), ("cookie", "session=xyz")]);
        assert_eq!(
            classify(&r, None, &cfg(), NOW).credential.unwrap().field,
            "session"
        );
    }

    #[test]
    fn jwt_in_cookie_is_decoded() {
        let t = hs(
            "HS256",
            b"changeme",
            &format!(
                r#"{{"sub":"u1","email":"u1@example.com","exp":{}}}"#,
                NOW - 7200
            ),
        );
        // By name.
        let a = analyze(
            &req("GET", "/me", &[("Cookie", &format!("theme=dark; jwt={t}"))]),
            Some(200),
        );
        assert_eq!(a.info.scheme, Scheme::Cookie);
        assert_eq!(
            a.info.credential.as_ref().unwrap().kind,
            CredentialKind::Jwt
        );
        let j = a.info.jwt.as_ref().unwrap();
        assert!(j.expired);
        assert_eq!(j.sensitive_claims, ["email"]);
        assert_eq!(
            kinds(&a),
            ["jwt_weak_secret", "jwt_expired", "jwt_sensitive_claims"]
        );
        // By value, under a name that is not a session name.
        let a = analyze(
            &req("GET", "/me", &[("Cookie", &format!("prefs=1; ident={t}"))]),
            Some(401),
        );
        assert_eq!(a.info.credential.as_ref().unwrap().field, "ident");
        assert!(a.info.jwt.is_some());
    }

    #[test]
    fn precedence_and_also_present() {
        let r = req(
            "GET",
            "/v1/x?api_key=querykey123",
            &[
                ("Cookie", "session=abc"),
                ("X-API-Key", "headerkey"),
                ("Authorization", "Bearer opaque-token"),
            ],
        );
        let i = classify(&r, None, &cfg(), NOW);
        assert_eq!(i.scheme, Scheme::Bearer);
        assert_eq!(i.credential.unwrap().fingerprint, fp("opaque-token"));
        assert_eq!(
            i.also_present,
            [Scheme::ApiKeyHeader, Scheme::ApiKeyQuery, Scheme::Cookie]
        );
        assert_eq!(i.credentials_in_url, ["api_key"]);

        let presigned = "/o?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAX%2F20240101%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Signature=00&api_key=k";
        let r = req(
            "GET",
            presigned,
            &[("Cookie", "sid=1"), ("x-api-key", "hk")],
        );
        let i = classify(&r, None, &cfg(), NOW);
        assert_eq!(i.scheme, Scheme::ApiKeyHeader);
        assert_eq!(
            i.also_present,
            [Scheme::AwsSigv4, Scheme::ApiKeyQuery, Scheme::Cookie]
        );
        let r = req("GET", presigned, &[("Cookie", "sid=1")]);
        let i = classify(&r, None, &cfg(), NOW);
        assert_eq!(i.scheme, Scheme::AwsSigv4);
        assert_eq!(i.also_present, [Scheme::ApiKeyQuery, Scheme::Cookie]);
        let r = req("GET", "/?api_key=k", &[("Cookie", "sid=1")]);
        assert_eq!(classify(&r, None, &cfg(), NOW).scheme, Scheme::ApiKeyQuery);
        // `Authorization: ApiKey …` and an x-api-key header: one scheme, no duplicate.
        let r = req(
            "GET",
            "/",
            &[("Authorization", "ApiKey abc"), ("x-api-key", "def")],
        );
        let i = classify(&r, None, &cfg(), NOW);
        assert_eq!(i.scheme, Scheme::ApiKeyHeader);
        assert_eq!(i.credential.unwrap().fingerprint, fp("abc"));
        assert!(i.also_present.is_empty());
        // The first Authorization header wins.
        let r = req(
            "GET",
            "/",
            &[
                ("Authorization", "Basic YTpi"),
                ("Authorization", "Bearer x"),
            ],
        );
        assert_eq!(classify(&r, None, &cfg(), NOW).scheme, Scheme::Basic);
        // Proxy-Authorization is not API auth.
        let r = req("GET", "/", &[("Proxy-Authorization", "Basic YTpi")]);
        assert_eq!(classify(&r, None, &cfg(), NOW).scheme, Scheme::None);
    }

    #[test]
    fn other_schemes() {
        for (value, word, has_cred) in [
            ("Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnagMDAuBgkqhkiC9xIBAgIGCSqGSIb3EgECAgYKKwYBBAGCNwICHgYKKwYBBAGCNwICCqKCBkAEggY8", "negotiate", false),
            ("NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==", "ntlm", false),
            ("HOBA result=\"kid.challenge.nonce.sig\"", "hoba", true),
            ("OAuth oauth_consumer_key=\"xvz1evFS4wEEPTGEFPHBog\", oauth_signature=\"tnnArxj06cWHq44gCs1OSKk%2FjLY%3D\"", "oauth", true),
            ("SharedKey myaccount:ctzMq410TV3wS7upTBcunJTDLEJwMAZuFPfr0mrrA08=", "sharedkey", true),
            ("Custom-Scheme abc", "custom-scheme", true),
        ] {
            let i = classify(&req("GET", "/", &[("Authorization", value)]), None, &cfg(), NOW);
            assert_eq!(i.scheme, Scheme::Other, "{value}");
            assert_eq!(i.scheme_token.as_deref(), Some(word));
            assert_eq!(i.credential.is_some(), has_cred, "{value}");
        }
    }

    #[test]
    fn lone_authorization_values() {
        let t = hs("HS256", b"k-not-weak-0192837465", r#"{"exp":1}"#);
        let i = classify(
            &req("GET", "/", &[("Authorization", &t)]),
            None,
            &cfg(),
            NOW,
        );
        assert_eq!(i.scheme, Scheme::Bearer);
        assert_eq!(i.scheme_token, None);
        assert_eq!(i.credential.unwrap().fingerprint, fp(&t));
        assert!(i.jwt.unwrap().expired);
        let i = classify(
            &req(
                "GET",
                "/",
                &[("Authorization", "sk_test_4eC39HqLyjWDarjtT1zdp7dc")],
            ),
            None,
            &cfg(),
            NOW,
        );
        assert_eq!(i.scheme, Scheme::ApiKeyHeader);
        assert_eq!(i.scheme_token, None);
        assert_eq!(i.credential.unwrap().field, "authorization");
        // Empty header: nothing.
        assert_eq!(
            classify(
                &req("GET", "/", &[("Authorization", "  ")]),
                None,
                &cfg(),
                NOW
            )
            .scheme,
            Scheme::None
        );
    }

    // ---- JWTs ---------------------------------------------------------------------------

    fn bearer(token: &str) -> Request {
        req(
            "GET",
            "/api/orders",
            &[HOST, ("Authorization", &format!("Bearer {token}"))],
        )
    }

    #[test]
    fn jwt_alg_none() {
        let t = format!(
            "{}.",
            unsigned(
                r#"{"alg":"none","typ":"JWT"}"#,
                &format!(r#"{{"sub":"admin","exp":{}}}"#, NOW + 60)
            )
        );
        let a = analyze(&bearer(&t), Some(200));
        assert_eq!(kinds(&a), ["jwt_alg_none"]);
        assert_eq!(a.weaknesses[0].severity(), Severity::Critical);
        let t2 = format!(
            "{}.",
            unsigned(r#"{"alg":"NoNe"}"#, &format!(r#"{{"exp":{}}}"#, NOW + 60))
        );
        let a = analyze(&bearer(&t2), Some(401));
        assert_eq!(kinds(&a), ["jwt_alg_none"]);
        assert_eq!(a.weaknesses[0].severity(), Severity::Medium);
        assert_eq!(a.info.jwt.as_ref().unwrap().weak_secret, None);
    }

    #[test]
    fn jwt_weak_secret_found_and_random_key_not() {
        let body = format!(r#"{{"sub":"42","iat":{},"exp":{}}}"#, NOW - 60, NOW + 840);
        let weak = hs("HS256", b"secret", &body);
        let a = analyze(&bearer(&weak), Some(200));
        assert_eq!(kinds(&a), ["jwt_weak_secret"]);
        assert_eq!(a.weaknesses[0].severity(), Severity::Critical);
        assert_eq!(
            a.weaknesses[0].evidence,
            serde_json::from_str::<Map<String, Value>>(r#"{"alg":"HS256"}"#).unwrap()
        );
        let key: [u8; 32] = [
            0x3e, 0x91, 0x0c, 0x7d, 0xa2, 0x58, 0xf4, 0x16, 0xbb, 0x2a, 0x69, 0xd0, 0x05, 0xce,
            0x87, 0x13, 0x4f, 0xe6, 0x31, 0x9a, 0x72, 0x0d, 0xb8, 0x5c, 0xe1, 0x24, 0x96, 0x3b,
            0xfa, 0x40, 0x6f, 0xd7,
        ];
        let strong = hs("HS256", &key, &body);
        let a = analyze(&bearer(&strong), Some(200));
        assert!(a.weaknesses.is_empty(), "{:?}", a.weaknesses);
        assert_eq!(a.info.jwt.unwrap().weak_secret, Some(false));
        // Plain classify does not check.
        assert_eq!(
            classify(&bearer(&weak), None, &cfg(), NOW)
                .jwt
                .unwrap()
                .weak_secret,
            None
        );
        // HS512 with a framework default.
        let a = analyze(
            &bearer(&hs("HS512", b"your-256-bit-secret", &body)),
            Some(200),
        );
        assert_eq!(kinds(&a), ["jwt_weak_secret"]);
    }

    #[test]
    fn jwt_rs256_valid_is_clean() {
        let t = fake_signed(
            r#"{"alg":"RS256","typ":"JWT","kid":"2024-07"}"#,
            &format!(
                r#"{{"iss":"https://login.example.com/","sub":"auth0|42","aud":["https://api.example.com"],"iat":{},"exp":{},"scope":"read:orders"}}"#,
                NOW - 10,
                NOW + 3590
            ),
        );
        let a = analyze(&bearer(&t), Some(200));
        assert!(a.weaknesses.is_empty(), "{:?}", a.weaknesses);
        let j = a.info.jwt.as_ref().unwrap();
        assert_eq!(
            (j.alg.as_str(), j.kid.as_deref()),
            ("RS256", Some("2024-07"))
        );
        assert_eq!(j.aud, ["https://api.example.com"]);
        assert_eq!(j.weak_secret, None, "not HS*");
        assert_eq!(
            serde_json::to_value(a.info.event_fields()).unwrap(),
            serde_json::json!({"scheme": "bearer", "jwt": {"alg": "RS256", "expired": false, "has_exp": true, "iss": "https://login.example.com/", "sub": "auth0|42"}})
        );
    }

    #[test]
    fn jwt_expired_against_packet_time() {
        let t = fake_signed(
            r#"{"alg":"ES256"}"#,
            &format!(r#"{{"iat":{},"exp":{}}}"#, NOW - 4000, NOW - 3600),
        );
        let r = bearer(&t);
        let mut an = AuthAnalyzer::new(cfg()).unwrap();
        // Accepted after expiry.
        let a = an.analyze(&r, Some(&resp(200)), NOW, Transport::Cleartext);
        assert_eq!(kinds(&a), ["jwt_expired"]);
        assert_eq!(a.weaknesses[0].evidence["expired_for_s"], 3600);
        // Rejected: fine.
        let a = an.analyze(&r, Some(&resp(401)), NOW, Transport::Cleartext);
        assert!(a.weaknesses.is_empty());
        assert!(a.info.jwt.unwrap().expired);
        // The same token at an earlier packet time is valid.
        let a = an.analyze(&r, Some(&resp(200)), NOW - 3700, Transport::Cleartext);
        assert!(a.weaknesses.is_empty());
        assert!(!a.info.jwt.unwrap().expired);
    }

    #[test]
    fn jwt_no_expiry_and_long_lived() {
        let t = fake_signed(r#"{"alg":"PS256"}"#, r#"{"sub":"svc"}"#);
        assert_eq!(kinds(&analyze(&bearer(&t), Some(200))), ["jwt_no_expiry"]);
        let t = fake_signed(
            r#"{"alg":"PS256"}"#,
            &format!(r#"{{"iat":{},"exp":{}}}"#, NOW, NOW + 30 * 86_400),
        );
        let a = analyze(&bearer(&t), Some(200));
        assert_eq!(kinds(&a), ["jwt_long_lived"]);
        assert_eq!(a.weaknesses[0].evidence["lifetime_s"], 30 * 86_400);
        // Exactly 24 h is fine.
        let t = fake_signed(
            r#"{"alg":"PS256"}"#,
            &format!(r#"{{"iat":{},"exp":{}}}"#, NOW, NOW + 86_400),
        );
        assert!(analyze(&bearer(&t), Some(200)).weaknesses.is_empty());
    }

    #[test]
    fn jwt_with_email_claim() {
        let t = fake_signed(
            r#"{"alg":"RS256"}"#,
            &format!(
                r#"{{"sub":"42","email":"jane.doe@example.com","email_verified":true,"exp":{}}}"#,
                NOW + 300
            ),
        );
        let a = analyze(&bearer(&t), Some(200));
        assert_eq!(kinds(&a), ["jwt_sensitive_claims"]);
        assert_eq!(
            a.weaknesses[0].evidence["claims"],
            serde_json::json!(["email"])
        );
        assert_eq!(a.weaknesses[0].owasp().id, "API3:2023");
    }

    #[test]
    fn jwt_weak_algorithm() {
        let t = fake_signed(r#"{"alg":"RS1"}"#, &format!(r#"{{"exp":{}}}"#, NOW + 300));
        assert_eq!(
            kinds(&analyze(&bearer(&t), Some(200))),
            ["jwt_weak_algorithm"]
        );
    }

    #[test]
    fn malformed_jwts_never_panic() {
        let header = b64(br#"{"alg":"HS256"}"#);
        for (tok, err) in [
            (format!("{header}.e30"), None), // two segments: not JWT-shaped
            (format!("{header}.e30.x.y"), None),
            (format!("{header}.!!!.sig"), Some("base64")),
            (format!("{header}.{}.sig", b64(b"not json")), Some("json")),
            (
                format!("{header}.{}.sig", b64(b"[1,2]")),
                Some("not_object"),
            ),
            (format!("eyJ{}.e30.sig", "*"), Some("base64")),
            (format!("eyJ{}.e30.sig", "x"), Some("json")),
            (
                format!("{}.e30.sig", b64(br#"{"typ":"JWT"}"#)),
                Some("missing_alg"),
            ),
            (
                format!("{header}.{}.sig", "A".repeat(40_000)),
                Some("too_long"),
            ),
        ] {
            let a = analyze(&bearer(&tok), Some(200));
            assert_eq!(a.info.scheme, Scheme::Bearer);
            assert!(a.info.credential.is_some());
            assert!(a.info.jwt.is_none());
            assert_eq!(
                a.info.jwt_error.as_ref().map(JwtError::name),
                err,
                "{}",
                &tok[..tok.len().min(60)]
            );
            assert!(a.weaknesses.is_empty());
        }
    }

    #[test]
    fn analyzer_checks_each_token_once() {
        let mut an = AuthAnalyzer::new(cfg()).unwrap();
        let t = hs("HS256", b"jwt_secret", r#"{"sub":"1"}"#);
        for _ in 0..3 {
            let a = an.analyze(&bearer(&t), Some(&resp(200)), NOW, Transport::Cleartext);
            assert_eq!(kinds(&a), ["jwt_weak_secret", "jwt_no_expiry"]);
        }
        let s = an.weak_secret_stats();
        assert_eq!((s.verified, s.cache_hits, s.weak_found), (1, 2, 1));
        assert!(AuthAnalyzer::new(AuthConfig {
            max_cookies: 0,
            ..cfg()
        })
        .is_err());
        assert_eq!(an.config().max_jwt_bytes, 16_384);
    }

    #[test]
    fn nothing_secret_is_kept_or_serialised() {
        let t = hs(
            "HS256",
            b"secret",
            &format!(r#"{{"sub":"1","exp":{}}}"#, NOW + 60),
        );
        let sig = t.rsplit('.').next().unwrap().to_string();
        let r = req(
            "GET",
            "/x?api_key=QUERYSECRET123",
            &[
                ("Authorization", &format!("Bearer {t}")),
                ("Cookie", "session=COOKIESECRET"),
                ("X-API-Key", "HEADERSECRET"),
            ],
        );
        let a = analyze(&r, Some(200));
        let json = serde_json::to_string(&a).unwrap();
        let debug = format!("{a:?}");
        for secret in [
            &t[..],
            &sig,
            "QUERYSECRET123",
            "COOKIESECRET",
            "HEADERSECRET",
            "\"secret\"",
        ] {
            assert!(!json.contains(secret), "{secret} in {json}");
            assert!(!debug.contains(secret), "{secret} in debug");
        }
        let r = req(
            "GET",
            "/",
            &[("Authorization", "Basic YWxpY2U6cGFzc3dvcmQx")],
        );
        let json = serde_json::to_string(&analyze(&r, Some(200))).unwrap();
        assert!(!json.contains("password1"));
        assert!(json.contains("common_password"));
    }

    #[test]
    fn fingerprints_correlate_across_hosts() {
        let key = "live_4eC39HqLyjWDarjtT1zdp7dc";
        let mut tracker = ReuseTracker::new(ReuseConfig::default()).unwrap();
        let mut reused = Vec::new();
        for host in ["api.example.com", "api.example.com", "billing.example.com"] {
            let r = req("GET", "/", &[("Host", host), ("X-API-Key", key)]);
            let i = classify(&r, None, &cfg(), NOW);
            let fpr = i.credential.unwrap().fingerprint;
            if tracker.observe(&fpr, &r.host().unwrap()) {
                reused.push(Weakness::credential_reuse(
                    &fpr,
                    tracker.hosts(&fpr).unwrap(),
                ));
            }
        }
        assert_eq!(reused.len(), 1);
        assert_eq!(reused[0].kind.name(), "credential_reuse");
        assert_eq!(
            reused[0].evidence["hosts"],
            serde_json::json!(["api.example.com", "billing.example.com"])
        );
        // Another fingerprint key gives other fingerprints.
        let r = req("GET", "/", &[("X-API-Key", key)]);
        let other = AuthConfig {
            fingerprint_key: FingerprintKey::new(b"another key"),
            ..Default::default()
        };
        assert_ne!(
            classify(&r, None, &other, NOW).credential,
            classify(&r, None, &cfg(), NOW).credential
        );
    }

    #[test]
    fn input_limits_hold() {
        // Cookies past max_cookies are not looked at.
        let mut cookie: Vec<String> = (0..100).map(|i| format!("c{i}=v")).collect();
        cookie.push("session=late".into());
        let r = req("GET", "/", &[("Cookie", &cookie.join("; "))]);
        assert_eq!(classify(&r, None, &cfg(), NOW).scheme, Scheme::None);
        let big = AuthConfig {
            max_cookies: 200,
            ..cfg()
        };
        assert_eq!(classify(&r, None, &big, NOW).scheme, Scheme::Cookie);
        // Query params past max_query_params likewise.
        let mut q: Vec<String> = (0..300).map(|i| format!("p{i}=v")).collect();
        q.push("api_key=late".into());
        let r = req("GET", &format!("/?{}", q.join("&")), &[]);
        assert_eq!(classify(&r, None, &cfg(), NOW).scheme, Scheme::None);
        let r = req(
            "GET",
            &format!("/?{}", q.join("&")),
            &[("Cookie", &cookie.join("; "))],
        );
        assert_eq!(
            classify(&r, None, &cfg(), NOW).limits_hit,
            [AuthLimit::QueryParams, AuthLimit::Cookies]
        );
        assert!(classify(
            &req("GET", "/?a=1", &[("Cookie", "a=1")]),
            None,
            &cfg(),
            NOW
        )
        .limits_hit
        .is_empty());
        let digest = (0..40)
            .map(|i| format!("p{i}=v"))
            .collect::<Vec<_>>()
            .join(", ");
        let r = req(
            "GET",
            "/",
            &[("Authorization", &format!("Digest username=\"u\", {digest}"))],
        );
        let i = classify(&r, None, &cfg(), NOW);
        assert_eq!(i.limits_hit, [AuthLimit::AuthParams]);
        assert!(i.credential.is_some(), "the first params still count");
        assert_eq!(AuthLimit::AuthParams.name(), "auth_params");
        assert_eq!(
            serde_json::to_string(&AuthLimit::QueryParams).unwrap(),
            "\"query_params\""
        );
        // Long names are cut.
        let long = "k".repeat(10_000);
        let c = AuthConfig {
            extra_query_keys: vec![long.clone()],
            ..cfg()
        };
        let i = classify(&req("GET", &format!("/?{long}=v"), &[]), None, &c, NOW);
        assert_eq!(i.scheme, Scheme::None, "the cut key no longer matches");
        let i = classify(
            &req("GET", "/", &[("Authorization", &format!("{long} x"))]),
            None,
            &cfg(),
            NOW,
        );
        assert_eq!(i.scheme_token.unwrap().len(), 256);
    }

    fn header_name() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("Authorization".to_string()),
            Just("authorization".to_string()),
            Just("Cookie".to_string()),
            Just("X-API-Key".to_string()),
            Just("x-access-token".to_string()),
            Just("Host".to_string()),
            "[A-Za-z-]{1,20}",
        ]
    }

    fn header_value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            // Scheme word + arbitrary bytes.
            (
                prop_oneof![
                    Just("Bearer "),
                    Just("Basic "),
                    Just("Digest "),
                    Just("AWS4-HMAC-SHA256 "),
                    Just("Negotiate "),
                    Just("session="),
                    Just("eyJ"),
                ],
                proptest::collection::vec(any::<u8>(), 0..300)
            )
                .prop_map(|(p, rest)| [p.as_bytes(), &rest].concat()),
            // JWT-shaped garbage.
            (
                "eyJ[A-Za-z0-9_=-]{0,40}",
                "[A-Za-z0-9_.=-]{0,80}",
                "[A-Za-z0-9_.=-]{0,40}"
            )
                .prop_map(|(a, b, c)| format!("Bearer {a}.{b}.{c}").into_bytes()),
            // Real-looking JWT with random JSON-ish payload text.
            ("[ -~]{0,60}", "[ -~]{0,120}").prop_map(|(h, p)| format!(
                "Bearer {}.{}.",
                b64(h.as_bytes()),
                b64(p.as_bytes())
            )
            .into_bytes()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn classify_never_panics(
            headers in proptest::collection::vec((header_name(), header_value()), 0..8),
            query in proptest::option::of("[ -~]{0,200}"),
            authority in proptest::option::of("[ -~]{0,40}"),
            status in proptest::option::of(0u16..1000),
            now in any::<i64>(),
        ) {
            let r = Request {
                method: "GET".into(),
                target: "/".into(),
                path: "/".into(),
                query,
                authority,
                headers: headers.into_iter().map(|(name, value)| Header { name, value }).collect(),
                ..Default::default()
            };
            let resp = status.map(resp);
            let i = classify(&r, resp.as_ref(), &cfg(), now);
            prop_assert!(Scheme::ALL.contains(&i.scheme));
            prop_assert!(i.scheme_token.as_ref().is_none_or(|t| t.chars().count() <= 256));
            let mut an = AuthAnalyzer::new(cfg()).unwrap();
            let a = an.analyze(&r, resp.as_ref(), now, Transport::Cleartext);
            prop_assert_eq!(a.info.scheme, i.scheme);
            let _ = serde_json::to_string(&a).unwrap();
            let _ = serde_json::to_string(&a.info.event_fields()).unwrap();
        }
    }
}
