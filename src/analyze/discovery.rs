//! Stage 6 (analyze, across workers): the discovery owner. It runs on the sink thread,
//! receives every worker's [`TxRecord`]s, keeps the [`Inventory`], persists it in the data
//! directory, and at each report point writes the `api_endpoint` events of endpoints seen
//! for the first time and the findings not raised before: the inventory's (`shadow_api`,
//! `zombie_api`, `spec_drift`), the posture findings the workers observed per endpoint (see
//! [`super::posture`]), and `credential_reuse`, which needs every endpoint's credentials.
//! A finding is raised once per endpoint and key, and again when its severity rises.
//!
//! Guarantees: the state file is replaced atomically (written beside, synced, renamed), so a
//! crash leaves the previous or the new state, never a torn one; an unreadable state file is
//! an error at start, not silently discarded; events carry packet time and ids derived from
//! the endpoint, so a replay gives the same ids.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::inventory::{EndpointKey, EndpointView, Inventory, InventoryState, Partial, TxRecord};
use super::posture;
use super::spec::{Operation, SpecSet};
use super::template::{PathTrie, TemplateConfig};
use super::Severity;
use crate::event::{self, EventId, Timestamp};

/// File name of the inventory in the data directory.
pub const STATE_FILE: &str = "inventory.json";
/// File name of the baseline (`apitap inventory baseline`) in the data directory.
pub const BASELINE_FILE: &str = "baseline.json";

/// Errors of the discovery owner.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid apitap state file: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The baseline file: the endpoints known when `apitap inventory baseline` ran.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Baseline {
    pub created: String,
    pub endpoints: BTreeSet<EndpointKey>,
}

/// Reads a JSON file; `Ok(None)` when it does not exist.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, DiscoveryError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(DiscoveryError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| DiscoveryError::Parse {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, fsync, rename, fsync of
/// the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DiscoveryError> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// [`write_atomic`] of what `write` writes (through a buffer: a state file is not first
/// made whole in memory, which for thousands of endpoints was megabytes of fresh pages
/// at every save).
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), DiscoveryError> {
    let err = |source| DiscoveryError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("json.tmp");
    {
        let f = std::fs::File::create(&tmp).map_err(err)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
        write(&mut w).map_err(err)?;
        let f = w.into_inner().map_err(|e| err(e.into_error()))?;
        f.sync_all().map_err(err)?;
    }
    std::fs::rename(&tmp, path).map_err(err)?;
    if let Ok(d) = std::fs::File::open(dir) {
        // Some file systems refuse to sync a directory; the rename is done either way.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Loads the inventory state of `data_dir` (empty when there is none yet).
pub fn load_state(data_dir: &Path) -> Result<InventoryState, DiscoveryError> {
    Ok(
        read_json(&data_dir.join(STATE_FILE))?.unwrap_or(InventoryState {
            version: 1,
            ..InventoryState::default()
        }),
    )
}

/// Counters of the discovery owner, in the `stats` event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DiscoveryCounters {
    /// Calls filed.
    pub records: u64,
    /// Summed entries filed (calls of one key from one worker in one report interval).
    pub partials: u64,
    pub endpoints: u64,
    pub api_endpoint_events: u64,
    pub finding_events: u64,
    pub state_saves: u64,
    pub state_save_errors: u64,
}

/// Inventory findings are high when the internet can reach the endpoint, else medium.
fn exposed_severity(exposure: &str) -> Severity {
    if exposure == "internet" {
        Severity::High
    } else {
        Severity::Medium
    }
}

/// Every finding of an endpoint as it stands: the inventory's (against the specs, else the
/// baseline), the posture observations (unauthenticated access made high when the endpoint
/// is elsewhere called with credentials), and `credential_reuse` from `reused`
/// ([`reused_credentials`] of every endpoint).
pub fn endpoint_findings(
    specs: Option<&SpecSet>,
    baseline: Option<&Baseline>,
    e: &EndpointView<'_>,
    reused: &BTreeMap<u64, BTreeSet<String>>,
) -> Vec<Finding> {
    let mut out = inventory_findings(specs, baseline, e);
    let credentialed: Vec<&String> = e
        .stats
        .auth_schemes
        .iter()
        .filter(|s| *s != "none")
        .collect();
    for (key, o) in &e.stats.findings {
        let mut severity = o.severity;
        let mut evidence = Value::Object(o.evidence.clone());
        if o.kind == "unauthenticated_access" && !credentialed.is_empty() {
            // Other calls of the same endpoint carry credentials: these got through
            // without.
            severity = severity.max(Severity::High);
            evidence["also_called_with"] = json!(credentialed);
        }
        out.push(Finding {
            key: key.clone(),
            kind: o.kind.clone(),
            severity,
            owasp: o.owasp.clone(),
            evidence,
            count: o.count,
            first_seen: o.first_seen,
            first_tx: o.first_tx,
        });
    }
    let mine: Vec<(&u64, &(u64, u64, u64))> = e
        .stats
        .credentials
        .iter()
        .filter(|(fp, _)| reused.contains_key(fp))
        .collect();
    if let Some((fp, _)) = mine.first() {
        let first_tx = mine.iter().map(|(_, t)| **t).min().unwrap_or_default();
        out.push(Finding {
            key: "credential_reuse".into(),
            kind: "credential_reuse".into(),
            severity: Severity::Medium,
            owasp: posture::OWASP_API2.into(),
            evidence: json!({
                "fingerprint": format!("{fp:016x}"),
                "hosts": reused.get(fp),
                "reused_credentials": mine.len(),
            }),
            count: mine.len() as u64,
            first_seen: first_tx.0,
            first_tx,
        });
    }
    out
}

fn inventory_findings(
    specs: Option<&SpecSet>,
    baseline: Option<&Baseline>,
    e: &EndpointView<'_>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let exposure = e.stats.exposure();
    if let Some(specs) = specs {
        match specs.match_template(&e.key.host, &e.key.method, &e.key.template) {
            None => out.push(Finding::inventory(
                e,
                "shadow_api",
                exposed_severity(exposure),
                json!({
                    "reason": if e.from_spec {
                        "the path is documented, this method is not"
                    } else {
                        "no operation in the loaded specs"
                    },
                    "exposure": exposure,
                }),
            )),
            Some(op) => {
                if op.deprecated {
                    out.push(Finding::inventory(
                        e,
                        "zombie_api",
                        exposed_severity(exposure),
                        json!({
                            "reason": "deprecated operation still called",
                            "operation_id": op.operation_id,
                            "spec": op.origin,
                            "exposure": exposure,
                        }),
                    ));
                }
                let query: Vec<&String> = e
                    .stats
                    .query_params
                    .iter()
                    .filter(|q| !op.documents_query(q))
                    .collect();
                let statuses: Vec<u16> = e
                    .stats
                    .status_counts
                    .keys()
                    .copied()
                    .filter(|s| !op.documents_status(*s))
                    .collect();
                let fields: Vec<String> = e
                    .stats
                    .request_schema
                    .as_ref()
                    .map(|sc| {
                        sc.field_paths()
                            .into_iter()
                            .filter(|f| !op.documents_field(f))
                            .take(32)
                            .collect()
                    })
                    .unwrap_or_default();
                if !query.is_empty() || !statuses.is_empty() || !fields.is_empty() {
                    let mut ev = Map::new();
                    if !fields.is_empty() {
                        ev.insert("undocumented_body_fields".into(), json!(fields));
                    }
                    if !query.is_empty() {
                        ev.insert("undocumented_query_params".into(), json!(query));
                    }
                    if !statuses.is_empty() {
                        ev.insert("undocumented_status_codes".into(), json!(statuses));
                    }
                    ev.insert("spec".into(), json!(op.origin));
                    out.push(Finding::inventory(
                        e,
                        "spec_drift",
                        Severity::Low,
                        Value::Object(ev),
                    ));
                }
            }
        }
        return out;
    }
    if let Some(b) = baseline {
        if !e.from_spec && !b.endpoints.contains(&e.key) {
            out.push(Finding::inventory(
                e,
                "shadow_api",
                exposed_severity(exposure),
                json!({
                    "reason": "not in the baseline",
                    "exposure": exposure,
                }),
            ));
        }
    }
    out
}

/// The endpoint's risk score from its findings (see [`crate::analyze::posture::risk`]).
pub fn endpoint_risk(
    specs: Option<&SpecSet>,
    baseline: Option<&Baseline>,
    e: &EndpointView<'_>,
    reused: &BTreeMap<u64, BTreeSet<String>>,
) -> u8 {
    let findings = endpoint_findings(specs, baseline, e, reused);
    posture::risk(
        findings.iter().map(|f| (f.kind.as_str(), f.severity)),
        e.stats.exposure(),
    )
}

/// Every severity, least first.
const SEVERITIES: [Severity; 5] = [
    Severity::Info,
    Severity::Low,
    Severity::Medium,
    Severity::High,
    Severity::Critical,
];

/// The owner (see the module docs).
pub struct Discovery {
    inv: Inventory,
    data_dir: Option<PathBuf>,
    baseline: Option<Baseline>,
    specs: Option<Arc<SpecSet>>,
    sensor: String,
    pub counters: DiscoveryCounters,
    /// The last error writing the state (reported once per change of message).
    pub save_error: Option<String>,
}

/// A finding about one endpoint, before it becomes an event.
pub struct Finding {
    /// What it is raised once for (with the endpoint): the kind, qualified for sensitive
    /// data by type and location.
    pub key: String,
    pub kind: String,
    pub severity: Severity,
    pub owasp: String,
    pub evidence: Value,
    /// Transactions that showed it.
    pub count: u64,
    pub first_seen: u64,
    /// (packet time, flow id, tx id) of the transaction whose evidence is shown.
    pub first_tx: (u64, u64, u64),
}

impl Finding {
    /// An inventory finding: about every call of the endpoint.
    fn inventory(e: &EndpointView<'_>, kind: &str, severity: Severity, evidence: Value) -> Self {
        Finding {
            key: kind.to_string(),
            kind: kind.to_string(),
            severity,
            owasp: "API9:2023 Improper Inventory Management".to_string(),
            evidence,
            count: e.stats.calls,
            first_seen: e.stats.first_seen,
            first_tx: e.stats.first_tx,
        }
    }
}

/// Credentials (fingerprint prefixes) seen on more than one host, with those hosts.
pub fn reused_credentials(endpoints: &[EndpointView<'_>]) -> BTreeMap<u64, BTreeSet<String>> {
    let mut hosts: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    for e in endpoints {
        for fp in e.stats.credentials.keys() {
            let h = hosts.entry(*fp).or_default();
            if h.len() < MAX_REUSE_HOSTS {
                h.insert(e.key.host.clone());
            }
        }
    }
    hosts.retain(|_, h| h.len() > 1);
    hosts
}

/// Hosts listed per reused credential.
const MAX_REUSE_HOSTS: usize = 16;

impl Discovery {
    /// Opens the owner: loads the state and the baseline from `data_dir` (created if
    /// missing); without a data directory nothing is persisted.
    pub fn open(
        cfg: TemplateConfig,
        data_dir: Option<&Path>,
        sensor: &str,
    ) -> Result<Self, DiscoveryError> {
        let (state, baseline) = match data_dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(|source| DiscoveryError::DataDir {
                    path: d.to_path_buf(),
                    source,
                })?;
                (
                    load_state(d)?,
                    read_json::<Baseline>(&d.join(BASELINE_FILE))?,
                )
            }
            None => (
                InventoryState {
                    version: 1,
                    ..InventoryState::default()
                },
                None,
            ),
        };
        let mut inv = Inventory::new(cfg);
        inv.state = state;
        Ok(Discovery {
            inv,
            data_dir: data_dir.map(Path::to_path_buf),
            baseline,
            specs: None,
            sensor: sensor.to_string(),
            counters: DiscoveryCounters::default(),
            save_error: None,
        })
    }

    /// The documented APIs calls are compared with (their templates take precedence).
    pub fn set_specs(&mut self, specs: Option<Arc<SpecSet>>) {
        self.specs = specs;
    }

    pub fn record(&mut self, r: &TxRecord) {
        self.counters.records += 1;
        let t = self
            .specs
            .as_ref()
            .and_then(|s| s.path_template(&r.host, &r.path));
        self.inv.record(r, t);
    }

    /// Files calls summed on a worker.
    pub fn record_partial(&mut self, p: Partial) {
        self.counters.records += p.stats.calls;
        self.counters.partials += 1;
        self.inv.record_partial(p);
    }

    /// The spec operation documenting an endpoint (None without specs or when undocumented).
    fn operation(&self, e: &EndpointView<'_>) -> Option<&Operation> {
        self.specs
            .as_ref()?
            .match_template(&e.key.host, &e.key.method, &e.key.template)
    }

    /// The learned structure, for the workers' templating.
    pub fn shape(&self) -> Arc<PathTrie<()>> {
        Arc::new(self.inv.state.trie.shape())
    }

    pub fn inventory(&self) -> &Inventory {
        &self.inv
    }

    /// Whether `f` was raised for `key` at its severity or above. (State files written
    /// before severities were recorded hold the bare key: raised at any severity.)
    fn already_raised(&self, f: &Finding, key: &EndpointKey) -> bool {
        let raised = &self.inv.state.raised;
        let probe = |k: String| raised.contains(&(k, key.clone()));
        probe(f.key.clone())
            || SEVERITIES
                .iter()
                .filter(|s| **s >= f.severity)
                .any(|s| probe(format!("{}#{}", f.key, s.name())))
    }

    /// Learns templates, then writes the events not raised before as JSON lines onto `out`;
    /// returns the number of events written and whether the learned structure changed.
    pub fn evaluate(&mut self, ts: u64, out: &mut Vec<u8>) -> (u64, bool) {
        let changed = self.inv.learn() > 0;
        let mut written = 0;
        let endpoints = self.inv.endpoints();
        self.counters.endpoints = endpoints.len() as u64;
        let mut announced = Vec::new();
        let mut raised = Vec::new();
        let reused = reused_credentials(&endpoints);
        for e in &endpoints {
            if !self.inv.state.announced.contains(&e.key) {
                let ev = self.api_endpoint_event(ts, e, &reused);
                if event::write_line(out, &ev).is_ok() {
                    written += 1;
                    self.counters.api_endpoint_events += 1;
                }
                announced.push(e.key.clone());
            }
            for f in endpoint_findings(self.specs.as_deref(), self.baseline.as_ref(), e, &reused) {
                if self.already_raised(&f, &e.key) {
                    continue;
                }
                let ev = self.finding_event(ts, e, &f);
                if event::write_line(out, &ev).is_ok() {
                    written += 1;
                    self.counters.finding_events += 1;
                }
                raised.push((format!("{}#{}", f.key, f.severity.name()), e.key.clone()));
            }
        }
        drop(endpoints);
        if !announced.is_empty() || !raised.is_empty() {
            self.inv.dirty = true;
        }
        self.inv.state.announced.extend(announced);
        self.inv.state.raised.extend(raised);
        (written, changed)
    }

    fn api_endpoint_event(
        &self,
        ts: u64,
        e: &EndpointView<'_>,
        reused: &BTreeMap<u64, BTreeSet<String>>,
    ) -> Value {
        let mut api = Value::Object(e.summary());
        api["risk"] = json!(endpoint_risk(
            self.specs.as_deref(),
            self.baseline.as_ref(),
            e,
            reused
        ));
        api["documented"] = Value::Null;
        api["deprecated"] = json!(false);
        api["from_spec"] = json!(e.from_spec);
        if self.specs.is_some() {
            let op = self.operation(e);
            api["documented"] = json!(op.is_some());
            api["deprecated"] = json!(op.is_some_and(|o| o.deprecated));
        }
        if let Some(b) = &self.baseline {
            api["in_baseline"] = json!(b.endpoints.contains(&e.key));
        }
        json!({
            "timestamp": Timestamp(ts),
            "event_type": "api_endpoint",
            "event_id": EventId::derive(&self.sensor, "api_endpoint", &e.key),
            "sensor": self.sensor,
            "api": api,
        })
    }

    fn finding_event(&self, ts: u64, e: &EndpointView<'_>, f: &Finding) -> Value {
        let (_, flow_id, tx_id) = f.first_tx;
        json!({
            "timestamp": Timestamp(ts),
            "event_type": "finding",
            "event_id": EventId::derive(&self.sensor, &f.key, &(&e.key, f.severity)),
            "sensor": self.sensor,
            "flow_id": flow_id,
            "tx_id": tx_id,
            "finding": {
                "kind": f.kind,
                "severity": f.severity,
                "owasp": f.owasp,
                "host": e.key.host,
                "method": e.key.method,
                "endpoint": e.key.template,
                "first_seen": Timestamp(f.first_seen),
                "count": f.count,
                "evidence": f.evidence,
            },
        })
    }

    /// Writes the state file when something changed since the last save.
    pub fn save(&mut self) -> Result<(), DiscoveryError> {
        let Some(dir) = &self.data_dir else {
            return Ok(());
        };
        if !self.inv.dirty {
            return Ok(());
        }
        let state = &self.inv.state;
        let written = write_atomic_with(&dir.join(STATE_FILE), |w| {
            serde_json::to_writer(w, state).map_err(std::io::Error::other)
        });
        match written {
            Ok(()) => {
                self.inv.dirty = false;
                self.counters.state_saves += 1;
                Ok(())
            }
            Err(e) => {
                self.counters.state_save_errors += 1;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rec(path: &str, ts: u64) -> TxRecord<'_> {
        TxRecord {
            ts,
            flow_id: ts,
            host: "api.example".into(),
            method: "GET".into(),
            path: path.into(),
            status: Some(200),
            ..TxRecord::default()
        }
    }

    fn lines(out: &[u8]) -> Vec<Value> {
        String::from_utf8(out.to_vec())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn endpoints_are_announced_once_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = Discovery::open(TemplateConfig::default(), Some(dir.path()), "s").unwrap();
        d.record(&rec("/users/1", 10));
        d.record(&rec("/users/2", 20));
        let mut out = Vec::new();
        assert_eq!(d.evaluate(30, &mut out).0, 1);
        let ev = lines(&out);
        assert_eq!(ev[0]["event_type"], "api_endpoint");
        assert_eq!(ev[0]["api"]["endpoint"], "/users/{userId}");
        assert_eq!(ev[0]["api"]["calls"], 2);
        assert_eq!(ev[0]["api"]["documented"], Value::Null);
        assert_eq!(ev[0]["timestamp"], "1970-01-01T00:00:00.000030Z");
        out.clear();
        assert_eq!(d.evaluate(40, &mut out).0, 0);
        d.save().unwrap();
        // Restart: known endpoints are not announced again; calls accumulate.
        let mut d = Discovery::open(TemplateConfig::default(), Some(dir.path()), "s").unwrap();
        d.record(&rec("/users/3", 50));
        assert_eq!(d.evaluate(60, &mut out).0, 0);
        let eps = d.inventory().endpoints();
        assert_eq!(eps.len(), 1);
        assert_eq!(eps[0].stats.calls, 3);
    }

    #[test]
    fn shadow_against_a_baseline() {
        let dir = tempfile::tempdir().unwrap();
        let base = Baseline {
            created: "t".into(),
            endpoints: [EndpointKey {
                host: "api.example".into(),
                method: "GET".into(),
                template: "/users/{userId}".into(),
            }]
            .into_iter()
            .collect(),
        };
        write_atomic(
            &dir.path().join(BASELINE_FILE),
            &serde_json::to_vec(&base).unwrap(),
        )
        .unwrap();
        let mut d = Discovery::open(TemplateConfig::default(), Some(dir.path()), "s").unwrap();
        d.record(&rec("/users/1", 10));
        d.record(&rec("/admin/debug", 11));
        let mut out = Vec::new();
        d.evaluate(30, &mut out);
        let ev = lines(&out);
        let findings: Vec<&Value> = ev.iter().filter(|e| e["event_type"] == "finding").collect();
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0]["finding"]["kind"], "shadow_api");
        assert_eq!(findings[0]["finding"]["endpoint"], "/admin/debug");
        assert_eq!(findings[0]["flow_id"], 11);
        out.clear();
        d.record(&rec("/admin/debug", 12));
        d.evaluate(40, &mut out);
        assert!(out.is_empty(), "raised once");
    }

    #[test]
    fn a_corrupt_state_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(STATE_FILE), b"{not json").unwrap();
        let e = Discovery::open(TemplateConfig::default(), Some(dir.path()), "s")
            .err()
            .unwrap();
        assert!(
            e.to_string().contains("not a valid apitap state file"),
            "{e}"
        );
    }
}
