//! `jwt_weak_secret`: does an HS256/HS384/HS512 JWT verify under a well-known secret?
//!
//! The candidate keys are the empty key, the bundled list `weak_jwt_secrets.txt` (a few
//! hundred entries; its header names the sources and their licences), then
//! `AuthConfig::extra_weak_secrets`. Keyed HMAC states for the bundled list are built once per
//! process and shared; each check clones them, so a check costs a few SHA-2 compressions per
//! key.
//!
//! Guarantees: a token is verified at most once while it stays in the LRU cache of
//! `weak_secret_cache_entries` entries, keyed by 128 bits of SHA-256 of the token (the token is
//! not kept); at most `weak_secret_checks_per_s` verifications run per second of packet time,
//! the rest are left unchecked (`None`) and counted; neither the matching secret nor the
//! signature is ever reported or kept.

use std::sync::OnceLock;

use hashlink::LruCache;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::config::AuthConfig;
use super::jwt::split_jws;
use super::util::b64url_decode;

const BUNDLED: &str = include_str!("weak_jwt_secrets.txt");

/// The bundled weak secrets (comment lines skipped; the empty key is tried separately).
pub fn bundled_weak_secrets() -> impl Iterator<Item = &'static str> {
    BUNDLED
        .lines()
        .filter(|l| !l.starts_with("#!") && !l.is_empty())
}

/// The HMAC JWS algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HsAlg {
    Hs256,
    Hs384,
    Hs512,
}

impl HsAlg {
    /// `HS256`, `HS384`, `HS512` exactly (JOSE names are case-sensitive).
    pub(crate) fn from_alg(alg: &str) -> Option<HsAlg> {
        match alg {
            "HS256" => Some(HsAlg::Hs256),
            "HS384" => Some(HsAlg::Hs384),
            "HS512" => Some(HsAlg::Hs512),
            _ => None,
        }
    }

    fn sig_len(self) -> usize {
        match self {
            HsAlg::Hs256 => 32,
            HsAlg::Hs384 => 48,
            HsAlg::Hs512 => 64,
        }
    }
}

fn keyed<'a, M: KeyInit + Clone>(keys: impl Iterator<Item = &'a [u8]>) -> Vec<M> {
    // HMAC accepts keys of every length, so no key is dropped in practice.
    keys.filter_map(|k| <M as KeyInit>::new_from_slice(k).ok())
        .collect()
}

fn bundled_keys() -> impl Iterator<Item = &'static [u8]> {
    std::iter::once(&b""[..]).chain(bundled_weak_secrets().map(str::as_bytes))
}

fn bundled_256() -> &'static [Hmac<Sha256>] {
    static K: OnceLock<Vec<Hmac<Sha256>>> = OnceLock::new();
    K.get_or_init(|| keyed(bundled_keys()))
}

fn bundled_384() -> &'static [Hmac<Sha384>] {
    static K: OnceLock<Vec<Hmac<Sha384>>> = OnceLock::new();
    K.get_or_init(|| keyed(bundled_keys()))
}

fn bundled_512() -> &'static [Hmac<Sha512>] {
    static K: OnceLock<Vec<Hmac<Sha512>>> = OnceLock::new();
    K.get_or_init(|| keyed(bundled_keys()))
}

fn any_verifies<M: Mac + Clone>(states: &[M], input: &[u8], sig: &[u8]) -> bool {
    states.iter().any(|m| {
        let mut m = m.clone();
        Mac::update(&mut m, input);
        m.verify_slice(sig).is_ok()
    })
}

/// Counters of a [`WeakSecretChecker`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WeakSecretStats {
    /// Tokens verified against the whole list (cache misses that ran).
    pub verified: u64,
    /// Checks answered from the cache.
    pub cache_hits: u64,
    /// Cache entries dropped to make room.
    pub cache_evictions: u64,
    /// Checks skipped by `weak_secret_checks_per_s`.
    pub rate_limited: u64,
    /// Verified tokens that matched a weak secret.
    pub weak_found: u64,
}

/// Tries HS* JWT signatures against weak secrets, once per distinct token. One per worker.
pub struct WeakSecretChecker {
    enabled: bool,
    extra_256: Vec<Hmac<Sha256>>,
    extra_384: Vec<Hmac<Sha384>>,
    extra_512: Vec<Hmac<Sha512>>,
    cache: LruCache<[u8; 16], bool>,
    per_s: u32,
    window_s: i64,
    used_in_window: u32,
    stats: WeakSecretStats,
}

impl std::fmt::Debug for WeakSecretChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeakSecretChecker")
            .field("enabled", &self.enabled)
            .field("extra_secrets", &self.extra_256.len())
            .field("cached", &self.cache.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl WeakSecretChecker {
    /// A checker with `cfg`'s switch, cache size, rate and extra secrets.
    pub fn new(cfg: &AuthConfig) -> Self {
        let extra = || cfg.extra_weak_secrets.iter().map(String::as_bytes);
        Self {
            enabled: cfg.weak_secret_check,
            extra_256: keyed(extra()),
            extra_384: keyed(extra()),
            extra_512: keyed(extra()),
            cache: LruCache::new(cfg.weak_secret_cache_entries),
            per_s: cfg.weak_secret_checks_per_s,
            window_s: i64::MIN,
            used_in_window: 0,
            stats: WeakSecretStats::default(),
        }
    }

    /// `Some(true)`: `token` (a compact JWS whose header says `alg`) verifies under a weak
    /// secret; `Some(false)`: under none of them (or its signature cannot be HS* output).
    /// `None`: not checked (checking off, `alg` not HS256/384/512, not a JWS, or over the
    /// rate limit at `packet_time_s`).
    pub fn check(&mut self, token: &[u8], alg: &str, packet_time_s: i64) -> Option<bool> {
        if !self.enabled {
            return None;
        }
        let alg = HsAlg::from_alg(alg)?;
        let parts = split_jws(token)?;
        let digest = Sha256::digest(token);
        let mut key = [0u8; 16];
        key.copy_from_slice(digest.get(..16).unwrap_or(&[0; 16]));
        if let Some(&weak) = self.cache.get(&key) {
            self.stats.cache_hits += 1;
            return Some(weak);
        }
        if packet_time_s != self.window_s {
            self.window_s = packet_time_s;
            self.used_in_window = 0;
        }
        if self.used_in_window >= self.per_s {
            self.stats.rate_limited += 1;
            return None;
        }
        self.used_in_window += 1;
        let weak = match b64url_decode(parts.signature) {
            Some(sig) if sig.len() == alg.sig_len() => {
                let input = parts.signing_input;
                match alg {
                    HsAlg::Hs256 => {
                        any_verifies(bundled_256(), input, &sig)
                            || any_verifies(&self.extra_256, input, &sig)
                    }
                    HsAlg::Hs384 => {
                        any_verifies(bundled_384(), input, &sig)
                            || any_verifies(&self.extra_384, input, &sig)
                    }
                    HsAlg::Hs512 => {
                        any_verifies(bundled_512(), input, &sig)
                            || any_verifies(&self.extra_512, input, &sig)
                    }
                }
            }
            _ => false,
        };
        self.stats.verified += 1;
        if weak {
            self.stats.weak_found += 1;
        }
        if self.cache.capacity() > 0 {
            if self.cache.len() >= self.cache.capacity() {
                self.stats.cache_evictions += 1;
            }
            self.cache.insert(key, weak);
        }
        Some(weak)
    }

    /// The counters so far.
    pub fn stats(&self) -> WeakSecretStats {
        self.stats
    }

    /// Tokens currently remembered.
    pub fn cached(&self) -> usize {
        self.cache.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::super::jwt::testutil::{b64, hs, unsigned};
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn checker() -> WeakSecretChecker {
        WeakSecretChecker::new(&AuthConfig::default())
    }

    #[test]
    fn bundled_list_shape() {
        let all: Vec<&str> = bundled_weak_secrets().collect();
        assert!(all.len() >= 300 && all.len() <= 1000, "{}", all.len());
        for must in [
            "secret",
            "password",
            "changeme",
            "your-256-bit-secret",
            "jwt_secret",
            "123456",
            "shhhhh",
            "keyboard cat",
        ] {
            assert!(all.contains(&must), "{must}");
        }
        let unique: std::collections::HashSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len(), "no duplicates");
        assert!(all.iter().all(|s| !s.starts_with("#!")));
    }

    #[test]
    fn weak_secrets_are_found_for_every_hs_alg() {
        let mut c = checker();
        let t = hs("HS256", b"secret", r#"{"sub":"1"}"#);
        assert_eq!(c.check(t.as_bytes(), "HS256", NOW), Some(true));
        let t = hs("HS384", b"changeme", r#"{"sub":"1"}"#);
        assert_eq!(c.check(t.as_bytes(), "HS384", NOW), Some(true));
        let t = hs("HS512", b"your-256-bit-secret", r#"{"sub":"1"}"#);
        assert_eq!(c.check(t.as_bytes(), "HS512", NOW), Some(true));
        let t = hs("HS256", b"", r#"{"sub":"1"}"#);
        assert_eq!(c.check(t.as_bytes(), "HS256", NOW), Some(true), "empty key");
        // jwt.io's example token.
        let jwtio = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        assert_eq!(c.check(jwtio.as_bytes(), "HS256", NOW), Some(true));
        assert_eq!(c.stats().weak_found, 5);
    }

    #[test]
    fn random_key_is_not_weak() {
        let mut c = checker();
        // A fixed "random" 32-byte key (from /dev/urandom once).
        let key = [
            0x8f, 0x1c, 0x5e, 0x22, 0xa7, 0x90, 0x3b, 0x6d, 0xe4, 0x0a, 0x71, 0xc9, 0x58, 0x2f,
            0xbd, 0x13, 0x96, 0x47, 0xfa, 0x0e, 0x35, 0xd8, 0x6c, 0x81, 0x29, 0xb3, 0x74, 0xee,
            0x0b, 0x5a, 0xc2, 0x67,
        ];
        let t = hs("HS256", &key, r#"{"sub":"1"}"#);
        assert_eq!(c.check(t.as_bytes(), "HS256", NOW), Some(false));
        assert_eq!(c.stats().weak_found, 0);
    }

    #[test]
    fn extra_secrets_are_tried() {
        let cfg = AuthConfig {
            extra_weak_secrets: vec!["acme-internal-default".into()],
            ..Default::default()
        };
        let mut c = WeakSecretChecker::new(&cfg);
        let t = hs("HS384", b"acme-internal-default", "{}");
        assert_eq!(c.check(t.as_bytes(), "HS384", NOW), Some(true));
        assert_eq!(checker().check(t.as_bytes(), "HS384", NOW), Some(false));
    }

    #[test]
    fn non_hs_and_odd_tokens_are_not_checked_or_not_weak() {
        let mut c = checker();
        let t = hs("HS256", b"secret", "{}");
        assert_eq!(c.check(t.as_bytes(), "RS256", NOW), None);
        assert_eq!(
            c.check(t.as_bytes(), "hs256", NOW),
            None,
            "case-sensitive alg"
        );
        assert_eq!(c.check(b"a.b", "HS256", NOW), None);
        // Wrong signature length or bad base64: checked, not weak.
        let short = format!("{}.{}", unsigned(r#"{"alg":"HS256"}"#, "{}"), b64(&[1; 16]));
        assert_eq!(c.check(short.as_bytes(), "HS256", NOW), Some(false));
        let bad = format!("{}.***", unsigned(r#"{"alg":"HS256"}"#, "{}"));
        assert_eq!(c.check(bad.as_bytes(), "HS256", NOW), Some(false));
        // Disabled.
        let mut off = WeakSecretChecker::new(&AuthConfig {
            weak_secret_check: false,
            ..Default::default()
        });
        assert_eq!(off.check(t.as_bytes(), "HS256", NOW), None);
        assert_eq!(off.stats(), WeakSecretStats::default());
    }

    #[test]
    fn each_token_is_verified_once() {
        let mut c = checker();
        let t = hs("HS256", b"secret", r#"{"n":1}"#);
        for _ in 0..5 {
            assert_eq!(c.check(t.as_bytes(), "HS256", NOW), Some(true));
        }
        let s = c.stats();
        assert_eq!(s.verified, 1);
        assert_eq!(s.cache_hits, 4);
        assert_eq!(c.cached(), 1);
    }

    #[test]
    fn cache_is_bounded_lru() {
        let mut c = WeakSecretChecker::new(&AuthConfig {
            weak_secret_cache_entries: 3,
            weak_secret_checks_per_s: 1000,
            ..Default::default()
        });
        let toks: Vec<String> = (0..5)
            .map(|i| hs("HS256", b"not-in-list-xyz", &format!(r#"{{"n":{i}}}"#)))
            .collect();
        for t in &toks {
            assert_eq!(c.check(t.as_bytes(), "HS256", NOW), Some(false));
        }
        assert_eq!(c.cached(), 3);
        assert_eq!(c.stats().cache_evictions, 2);
        // The most recent three are cached; the first was evicted and is verified again.
        c.check(toks[4].as_bytes(), "HS256", NOW);
        assert_eq!(c.stats().verified, 5);
        c.check(toks[0].as_bytes(), "HS256", NOW);
        assert_eq!(c.stats().verified, 6);
        assert_eq!(c.cached(), 3);
        // Capacity 0: no cache, every sighting verified.
        let mut c0 = WeakSecretChecker::new(&AuthConfig {
            weak_secret_cache_entries: 0,
            ..Default::default()
        });
        c0.check(toks[0].as_bytes(), "HS256", NOW);
        c0.check(toks[0].as_bytes(), "HS256", NOW);
        assert_eq!(c0.stats().verified, 2);
        assert_eq!(c0.cached(), 0);
        assert_eq!(c0.stats().cache_evictions, 0);
    }

    proptest::proptest! {
        #[test]
        fn check_never_panics(token in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600), alg in "HS256|HS384|HS512|RS256|[ -~]{0,6}") {
            let mut c = checker();
            let first = c.check(&token, &alg, NOW);
            // Checked tokens are answered the same from the cache.
            proptest::prop_assert_eq!(c.check(&token, &alg, NOW), first);
            proptest::prop_assert!(c.stats().verified <= 1);
        }
    }

    #[test]
    fn rate_limit_per_packet_second() {
        let mut c = WeakSecretChecker::new(&AuthConfig {
            weak_secret_checks_per_s: 2,
            ..Default::default()
        });
        let toks: Vec<String> = (0..4)
            .map(|i| hs("HS256", b"secret", &format!(r#"{{"n":{i}}}"#)))
            .collect();
        assert_eq!(c.check(toks[0].as_bytes(), "HS256", NOW), Some(true));
        assert_eq!(c.check(toks[1].as_bytes(), "HS256", NOW), Some(true));
        let cached_before = c.cached();
        assert_eq!(c.check(toks[2].as_bytes(), "HS256", NOW), None);
        assert_eq!(
            c.cached(),
            cached_before,
            "a rate-limited check changes nothing but a counter"
        );
        // Cached tokens are still answered.
        assert_eq!(c.check(toks[0].as_bytes(), "HS256", NOW), Some(true));
        assert_eq!(c.stats().rate_limited, 1);
        // Next second: budget renewed; the skipped token was not cached, so it runs now.
        assert_eq!(c.check(toks[2].as_bytes(), "HS256", NOW + 1), Some(true));
        assert_eq!(c.stats().verified, 3);
    }
}
