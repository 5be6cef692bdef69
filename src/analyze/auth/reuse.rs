//! `credential_reuse`: the same credential (by [`Fingerprint`]) presented to more than one
//! host. It cannot be decided per request, so [`ReuseTracker`] remembers, per fingerprint, the
//! hosts it was sent to.
//!
//! Guarantees: at most `max_credentials` fingerprints and `max_hosts_per_credential` hosts
//! each (host names cut to `max_host_chars`); a call that would go past a cap changes nothing
//! but a counter; [`ReuseTracker::observe`] returns `true` exactly once per fingerprint, when
//! its second distinct host appears. No eviction: call [`ReuseTracker::clear`] to start over
//! (for example per inventory snapshot).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::config::AuthConfigError;
use super::credential::Fingerprint;
use super::util::bounded_str;

/// Limits of a [`ReuseTracker`] (deserialises with every field optional).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReuseConfig {
    /// Distinct fingerprints remembered. Default: 50 000.
    pub max_credentials: usize,
    /// Distinct hosts remembered per fingerprint (at least 2). Default: 8.
    pub max_hosts_per_credential: usize,
    /// Characters kept of a host name. Default: 255.
    pub max_host_chars: usize,
}

impl Default for ReuseConfig {
    fn default() -> Self {
        Self {
            max_credentials: 50_000,
            max_hosts_per_credential: 8,
            max_host_chars: 255,
        }
    }
}

/// Counters of a [`ReuseTracker`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReuseStats {
    /// Fingerprints not remembered because `max_credentials` was reached.
    pub credentials_dropped: u64,
    /// Hosts not remembered because `max_hosts_per_credential` was reached.
    pub hosts_dropped: u64,
    /// Fingerprints that reached a second host.
    pub reused: u64,
}

/// Fingerprint → hosts, bounded. One per sensor (or per worker, when flows are sharded by
/// client: reuse across workers is then not seen).
#[derive(Debug)]
pub struct ReuseTracker {
    cfg: ReuseConfig,
    hosts: HashMap<Fingerprint, Vec<String>>,
    stats: ReuseStats,
}

impl ReuseTracker {
    /// An empty tracker; refuses caps that make reuse undetectable.
    pub fn new(cfg: ReuseConfig) -> Result<Self, AuthConfigError> {
        let check = |name: &'static str, value: usize, min: u64| {
            let value = u64::try_from(value).unwrap_or(u64::MAX);
            if value < min {
                Err(AuthConfigError::LimitTooSmall { name, value, min })
            } else {
                Ok(())
            }
        };
        check("max_credentials", cfg.max_credentials, 1)?;
        check("max_hosts_per_credential", cfg.max_hosts_per_credential, 2)?;
        check("max_host_chars", cfg.max_host_chars, 1)?;
        Ok(Self {
            cfg,
            hosts: HashMap::new(),
            stats: ReuseStats::default(),
        })
    }

    /// Records that `fingerprint` was sent to `host` (trimmed, ASCII lower-cased). `true` when
    /// this makes it seen on more than one host for the first time. An empty host is ignored.
    pub fn observe(&mut self, fingerprint: &Fingerprint, host: &str) -> bool {
        let host = bounded_str(host.trim(), self.cfg.max_host_chars).to_ascii_lowercase();
        if host.is_empty() {
            return false;
        }
        match self.hosts.get_mut(fingerprint) {
            Some(list) => {
                if list.contains(&host) {
                    return false;
                }
                if list.len() >= self.cfg.max_hosts_per_credential {
                    self.stats.hosts_dropped += 1;
                    return false;
                }
                list.push(host);
                if list.len() == 2 {
                    self.stats.reused += 1;
                    return true;
                }
                false
            }
            None => {
                if self.hosts.len() >= self.cfg.max_credentials {
                    self.stats.credentials_dropped += 1;
                    return false;
                }
                self.hosts.insert(*fingerprint, vec![host]);
                false
            }
        }
    }

    /// The hosts remembered for `fingerprint`, in order of first sight.
    pub fn hosts(&self, fingerprint: &Fingerprint) -> Option<&[String]> {
        self.hosts.get(fingerprint).map(Vec::as_slice)
    }

    /// Fingerprints remembered.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// The counters so far (not reset by `clear`).
    pub fn stats(&self) -> ReuseStats {
        self.stats
    }

    /// Forgets every fingerprint.
    pub fn clear(&mut self) {
        self.hosts.clear();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{HashMap, HashSet};

    fn fp(n: u8) -> Fingerprint {
        Fingerprint([n; 32])
    }

    #[test]
    fn reuse_is_reported_once() {
        let mut t = ReuseTracker::new(ReuseConfig::default()).unwrap();
        assert!(!t.observe(&fp(1), "api.example.com"));
        assert!(
            !t.observe(&fp(1), "API.example.com "),
            "same host, other case"
        );
        assert!(t.observe(&fp(1), "billing.example.com"));
        assert!(!t.observe(&fp(1), "third.example.com"), "already reported");
        assert!(!t.observe(&fp(2), "api.example.com"));
        assert!(!t.observe(&fp(1), ""));
        assert_eq!(
            t.hosts(&fp(1)).unwrap(),
            [
                "api.example.com",
                "billing.example.com",
                "third.example.com"
            ]
        );
        assert_eq!(t.len(), 2);
        assert_eq!(t.stats().reused, 1);
        t.clear();
        assert!(t.is_empty());
        assert_eq!(t.hosts(&fp(1)), None);
    }

    #[test]
    fn caps_leave_state_unchanged_and_count() {
        let cfg = ReuseConfig {
            max_credentials: 2,
            max_hosts_per_credential: 2,
            max_host_chars: 5,
        };
        let mut t = ReuseTracker::new(cfg).unwrap();
        t.observe(&fp(1), "a");
        t.observe(&fp(2), "a");
        let before: Vec<_> = [fp(1), fp(2)]
            .iter()
            .map(|f| t.hosts(f).map(<[String]>::to_vec))
            .collect();
        assert!(!t.observe(&fp(3), "a"));
        assert_eq!(t.stats().credentials_dropped, 1);
        assert_eq!(t.len(), 2);
        assert_eq!(t.hosts(&fp(3)), None);
        let after: Vec<_> = [fp(1), fp(2)]
            .iter()
            .map(|f| t.hosts(f).map(<[String]>::to_vec))
            .collect();
        assert_eq!(before, after);
        assert!(t.observe(&fp(1), "b"));
        assert!(!t.observe(&fp(1), "c"));
        assert_eq!(t.stats().hosts_dropped, 1);
        assert_eq!(t.hosts(&fp(1)).unwrap(), ["a", "b"]);
        // Host names are cut.
        t.observe(&fp(2), "verylonghost");
        assert_eq!(t.hosts(&fp(2)).unwrap(), ["a", "veryl"]);
    }

    #[test]
    fn bad_caps_are_refused() {
        let e = ReuseTracker::new(ReuseConfig {
            max_hosts_per_credential: 1,
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "auth: `max_hosts_per_credential` is 1, it must be at least 2"
        );
        assert!(ReuseTracker::new(ReuseConfig {
            max_credentials: 0,
            ..Default::default()
        })
        .is_err());
    }

    proptest! {
        /// Against a plainly correct model: a HashMap of insertion-ordered host sets with the
        /// same caps.
        #[test]
        fn matches_model(ops in proptest::collection::vec((0u8..6, 0u8..5), 0..200)) {
            let cfg = ReuseConfig { max_credentials: 4, max_hosts_per_credential: 3, max_host_chars: 50 };
            let mut t = ReuseTracker::new(cfg).unwrap();
            let mut model: HashMap<u8, Vec<String>> = HashMap::new();
            let mut reported: HashSet<u8> = HashSet::new();
            for (f, h) in ops {
                let host = format!("h{h}");
                let full = model.len() >= 4;
                let expect = match model.get_mut(&f) {
                    Some(list) if list.contains(&host) => false,
                    Some(list) if list.len() >= 3 => false,
                    Some(list) => {
                        list.push(host.clone());
                        list.len() == 2 && reported.insert(f)
                    }
                    None if full => false,
                    None => {
                        model.insert(f, vec![host.clone()]);
                        false
                    }
                };
                prop_assert_eq!(t.observe(&fp(f), &host), expect);
                prop_assert!(t.len() <= 4);
            }
            for (f, hosts) in &model {
                prop_assert_eq!(t.hosts(&fp(*f)).unwrap(), hosts.as_slice());
            }
            prop_assert_eq!(t.len(), model.len());
        }
    }
}
