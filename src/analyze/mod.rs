//! Stage 6 (analyze, per transaction and across workers): API discovery, and the sensitive
//! data (`sensitive`) and credential (`auth`) analyzers. The last two are complete and tested
//! on their own; their findings and the `auth`/`sensitive` fields of `http` events are wired
//! into the pipeline with issue 6.
//!
//! Workers map each [`crate::http::Transaction`] to an endpoint template with a
//! [`Templater`] (the spec's template when a loaded spec documents the path, else the latest
//! learned [`template::PathTrie`] shape the discovery owner sent them) and sum each
//! call's [`inventory::TxRecord`] per endpoint key in an [`aggregate::Aggregate`], handed
//! over at report points. One owner, [`discovery::Discovery`] on the sink thread, learns
//! templates from every worker's calls, keeps the inventory and raises API findings. Nothing
//! on the packet path locks: shapes and specs are immutable `Arc`s, swapped by message.

pub mod aggregate;
pub mod auth;
pub mod discovery;
pub mod exposure;
pub mod inspect;
pub mod inventory;
pub mod posture;
pub mod report;
pub mod sensitive;
pub mod severity;
pub mod spec;
pub mod template;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

pub use severity::Severity;
use spec::SpecSet;
use template::{PathTrie, TemplateConfig};

/// `[discovery]` in the config file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscoveryConfig {
    /// API discovery on (default). Off: `http.endpoint` is the raw path and no inventory is
    /// kept (a sensor that only forwards `http` events; also the benchmark's baseline).
    pub enabled: bool,
    /// Where the inventory is kept between runs. The binary's default: `$STATE_DIRECTORY`
    /// (systemd), else `/var/lib/apitap` for root, else `$XDG_STATE_HOME/apitap` or
    /// `~/.local/state/apitap`. Library default: none (nothing persisted).
    pub data_dir: Option<PathBuf>,
    /// Packet-time interval at which templates are learned and `api_endpoint` / API
    /// `finding` events written (default 10s; always at exit).
    #[serde(with = "crate::config::duration")]
    pub interval: Duration,
    /// Interval between writes of the state file (default 60s; always at exit).
    #[serde(with = "crate::config::duration")]
    pub state_interval: Duration,
    /// OpenAPI 3.0/3.1 or Swagger 2.0 files (JSON or YAML) describing the documented APIs.
    pub specs: Vec<PathBuf>,
    /// Host the specs apply to, replacing their `servers` / `host`.
    pub spec_host: Option<String>,
    /// Client addresses counted as internal (default: RFC 1918 and RFC 4193 ranges).
    pub internal_cidrs: Vec<String>,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` headers name the real client
    /// (default: none; headers from anyone else are ignored).
    pub trusted_proxies: Vec<String>,
    /// An endpoint not called for this long is reported dormant (default 7 days).
    #[serde(with = "crate::config::duration")]
    pub dormant_after: Duration,
    /// One transaction in this many has its JSON bodies read for their shape, chosen by a
    /// hash of the transaction so that the inventory does not depend on the number of
    /// workers (default 64; 1 reads every body: schemas complete sooner, at more cost).
    pub schema_sample_every: u64,
    /// Request bodies and error response bodies of at most 2 KiB (cheap, and what drift
    /// findings compare): one transaction in this many (default 8), every one for an
    /// endpoint a spec documents.
    pub schema_small_every: u64,
    /// Path learning thresholds and limits (`[discovery.templates]`).
    pub templates: TemplateConfig,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        DiscoveryConfig {
            enabled: true,
            data_dir: None,
            interval: Duration::from_secs(10),
            state_interval: Duration::from_secs(60),
            specs: Vec::new(),
            spec_host: None,
            internal_cidrs: exposure::DEFAULT_INTERNAL
                .iter()
                .map(|s| s.to_string())
                .collect(),
            trusted_proxies: Vec::new(),
            dormant_after: Duration::from_secs(7 * 24 * 3600),
            schema_sample_every: 64,
            schema_small_every: 8,
            templates: TemplateConfig::default(),
        }
    }
}

/// `s` lower-cased (ASCII) into `buf` when it fits, else into a new string: names and
/// words are looked up lower-cased on the packet path without allocating.
pub(crate) fn ascii_lower<'a>(s: &'a str, buf: &'a mut [u8]) -> std::borrow::Cow<'a, str> {
    match buf.get_mut(..s.len()) {
        Some(dst) => {
            dst.copy_from_slice(s.as_bytes());
            dst.make_ascii_lowercase();
            // Lower-casing ASCII bytes keeps UTF-8 valid.
            std::borrow::Cow::Borrowed(std::str::from_utf8(dst).unwrap_or_default())
        }
        None => std::borrow::Cow::Owned(s.to_ascii_lowercase()),
    }
}

#[cfg(test)]
mod lower_tests {
    #[test]
    fn ascii_lower_on_the_stack_or_allocated() {
        let mut buf = [0u8; 4];
        assert!(matches!(
            super::ascii_lower("AbC", &mut buf),
            std::borrow::Cow::Borrowed("abc")
        ));
        let mut buf = [0u8; 4];
        assert!(
            matches!(super::ascii_lower("LONGER", &mut buf), std::borrow::Cow::Owned(ref o) if o == "longer")
        );
        let mut buf = [0u8; 8];
        assert_eq!(
            super::ascii_lower("Ünï", &mut buf),
            "Ünï".to_ascii_lowercase()
        );
    }
}

/// The trie that has learned nothing: looking a path up in it applies the stateless rules.
fn blank_trie() -> &'static PathTrie<()> {
    static BLANK: std::sync::OnceLock<PathTrie<()>> = std::sync::OnceLock::new();
    BLANK.get_or_init(PathTrie::new)
}

/// Maps a request to its endpoint template on a worker.
#[derive(Clone)]
pub struct Templater {
    pub shape: Arc<PathTrie<()>>,
    pub specs: Option<Arc<SpecSet>>,
    pub cfg: TemplateConfig,
}

impl Templater {
    pub fn new(cfg: TemplateConfig, specs: Option<Arc<SpecSet>>) -> Self {
        Templater {
            shape: Arc::new(PathTrie::new()),
            specs,
            cfg,
        }
    }

    /// The template of `path` on `host` (the spec's when one documents it, else the learned
    /// one), whether it came from a spec, and the key a worker sums the call under for the
    /// discovery owner: the spec's template, else the path with only on-sight identifiers
    /// replaced (the stateless rules of [`template::classify`]). Unlike the event's endpoint
    /// the key does not use the learned shape, which reaches each worker at a moment that
    /// depends on thread timing: so the owner learns from the same evidence, and ends with
    /// the same inventory, whatever the number of workers. The template is `None` when it is
    /// the key: for a spec's template, and while the learned shape is still blank (before
    /// the owner's first report), when both are one lookup.
    pub fn endpoint_source_and_key(
        &self,
        host: &str,
        path: &str,
    ) -> (Option<String>, bool, String) {
        if let Some(t) = self.spec_template(host, path) {
            return (None, true, t.to_string());
        }
        let key = blank_trie().lookup(path, &self.cfg);
        let endpoint = (!self.shape.is_blank()).then(|| self.shape.lookup(path, &self.cfg));
        (endpoint, false, key)
    }

    /// The spec template of `path` on `host`, if a spec documents it.
    pub fn spec_template(&self, host: &str, path: &str) -> Option<&str> {
        self.specs.as_ref()?.path_template(host, path)
    }
}

#[cfg(test)]
mod templater_tests {
    use std::sync::Arc;

    use super::template::{PathTrie, TemplateConfig};
    use super::Templater;

    #[test]
    fn endpoint_and_key_with_a_blank_and_a_learned_shape() {
        let cfg = TemplateConfig::default();
        let mut t = Templater::new(cfg.clone(), None);
        assert!(t.shape.is_blank());
        // Blank: the endpoint is the stateless key.
        let (endpoint, from_spec, key) = t.endpoint_source_and_key("h", "/api/users/42/profile");
        assert!(!from_spec);
        assert_eq!(endpoint, None);
        assert_eq!(key, "/api/users/{userId}/profile");
        // Learned: a slug position turned parameter is in the endpoint, not in the key.
        let mut learned = PathTrie::<()>::new();
        for name in [
            "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
        ] {
            for _ in 0..3 {
                learned.insert(&format!("/api/teams/{name}/members"), &cfg);
            }
        }
        learned.evaluate(&cfg);
        assert!(!learned.is_blank());
        t.shape = Arc::new(learned);
        let (endpoint, _, key) = t.endpoint_source_and_key("h", "/api/teams/zoe/members");
        assert_eq!(endpoint.as_deref(), Some("/api/teams/{teamId}/members"));
        assert_eq!(key, "/api/teams/zoe/members");
    }
}
