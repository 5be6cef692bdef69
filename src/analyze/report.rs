//! Stage 6 (analyze, offline): what `apitap inventory show|export|baseline` print from the
//! state file in the data directory.
//!
//! Time here is packet time too: an endpoint is dormant when its last call is older than
//! `dormant_after` before the newest call in the inventory (so a replayed capture reports the
//! same whatever the day it is read).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::discovery::{
    endpoint_findings, endpoint_risk, read_json, reused_credentials, write_atomic, Baseline,
    DiscoveryError, BASELINE_FILE,
};
use super::inventory::{EndpointKey, EndpointView, Inventory};
use super::posture;
use super::spec::{export_openapi, ExportEndpoint, Operation, SpecSet};
use crate::event::Timestamp;

/// Orders of `inventory show`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    /// Most called first.
    Calls,
    /// Host, method, template.
    Endpoint,
    /// Most recently called first.
    LastSeen,
    /// Highest risk score first (then most called).
    Risk,
}

fn percentile_ms(e: &EndpointView<'_>, q: f64) -> String {
    e.stats
        .latency_us
        .quantile(q)
        .map_or_else(|| "-".into(), |us| format!("{:.1}", us as f64 / 1000.0))
}

fn newest(inv: &Inventory) -> u64 {
    inv.endpoints()
        .iter()
        .map(|e| e.stats.last_seen)
        .max()
        .unwrap_or(0)
}

fn documented<'a>(specs: Option<&'a SpecSet>, k: &EndpointKey) -> Option<&'a Operation> {
    specs?.match_template(&k.host, &k.method, &k.template)
}

fn status_summary(e: &EndpointView<'_>) -> String {
    let mut classes = [0u64; 6];
    for (s, n) in &e.stats.status_counts {
        classes[usize::from((*s / 100).min(5))] += n;
    }
    let parts: Vec<String> = (1..6)
        .filter(|c| classes[*c] > 0)
        .map(|c| format!("{c}xx:{}", classes[c]))
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(",")
    }
}

/// The inventory as a text table.
pub fn table(
    inv: &Inventory,
    sort: Sort,
    specs: Option<&SpecSet>,
    baseline: Option<&Baseline>,
) -> String {
    let mut eps = inv.endpoints();
    let reused = reused_credentials(&eps);
    let risk = |e: &EndpointView<'_>| endpoint_risk(specs, baseline, e, &reused);
    match sort {
        Sort::Risk => eps.sort_by(|a, b| {
            risk(b)
                .cmp(&risk(a))
                .then(b.stats.calls.cmp(&a.stats.calls))
                .then(a.key.cmp(&b.key))
        }),
        Sort::Calls => {
            eps.sort_by(|a, b| b.stats.calls.cmp(&a.stats.calls).then(a.key.cmp(&b.key)))
        }
        Sort::Endpoint => {}
        Sort::LastSeen => eps.sort_by(|a, b| {
            b.stats
                .last_seen
                .cmp(&a.stats.last_seen)
                .then(a.key.cmp(&b.key))
        }),
    }
    let rows: Vec<[String; 12]> = eps
        .iter()
        .map(|e| {
            let doc = match (specs, documented(specs, &e.key)) {
                (None, _) => "-".to_string(),
                (Some(_), None) => "no".into(),
                (Some(_), Some(op)) if op.deprecated => "deprecated".into(),
                (Some(_), Some(_)) => "yes".into(),
            };
            [
                e.key.host.clone(),
                e.key.method.clone(),
                e.key.template.clone(),
                e.stats.calls.to_string(),
                status_summary(e),
                format!("{}/{}", percentile_ms(e, 0.5), percentile_ms(e, 0.95)),
                e.stats.exposure().to_string(),
                join_or_dash(&e.stats.auth_schemes),
                e.weakest_auth().unwrap_or("-").to_string(),
                join_or_dash(&e.stats.sensitive_types),
                doc,
                risk(e).to_string(),
            ]
        })
        .collect();
    let head = [
        "HOST",
        "METHOD",
        "ENDPOINT",
        "CALLS",
        "STATUS",
        "P50/P95 MS",
        "EXPOSURE",
        "AUTH",
        "WEAKEST",
        "SENSITIVE",
        "DOCUMENTED",
        "RISK",
    ];
    let mut widths: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[&str]| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                let _ = write!(l, "{c:w$}  ");
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut out, &head);
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        line(&mut out, &cells);
    }
    let _ = writeln!(out, "{} endpoints", rows.len());
    out
}

fn join_or_dash(s: &BTreeSet<String>) -> String {
    if s.is_empty() {
        "-".into()
    } else {
        s.iter().cloned().collect::<Vec<_>>().join(",")
    }
}

/// The inventory as JSON: every endpoint with its stats, plus the documented operations
/// never seen and the dormant endpoints.
pub fn export_json(
    inv: &Inventory,
    specs: Option<&SpecSet>,
    baseline: Option<&Baseline>,
    dormant_after_us: u64,
) -> Value {
    let eps = inv.endpoints();
    let reused = reused_credentials(&eps);
    let newest = newest(inv);
    let mut endpoints = Vec::with_capacity(eps.len());
    let mut dormant = Vec::new();
    for e in &eps {
        let s = e.stats;
        let op = documented(specs, &e.key);
        let mut v = Value::Object(e.summary());
        v["latency_ms"] = json!({
            "p50": s.latency_us.quantile(0.5).map(|u| u as f64 / 1000.0),
            "p95": s.latency_us.quantile(0.95).map(|u| u as f64 / 1000.0),
            "p99": s.latency_us.quantile(0.99).map(|u| u as f64 / 1000.0),
        });
        v["request_content_types"] = json!(s.request_content_types);
        v["response_content_types"] = json!(s.response_content_types);
        v["query_params"] = json!(s.query_params);
        v["documented"] = json!(specs.map(|_| op.is_some()));
        v["deprecated"] = json!(op.is_some_and(|o| o.deprecated));
        let all = endpoint_findings(specs, baseline, e, &reused);
        v["risk"] = json!(posture::risk(
            all.iter().map(|f| (f.kind.as_str(), f.severity)),
            s.exposure()
        ));
        let findings: Vec<Value> = all
            .iter()
            .map(|f| {
                json!({
                    "kind": f.kind,
                    "severity": f.severity,
                    "owasp": f.owasp,
                    "count": f.count,
                    "first_seen": Timestamp(f.first_seen),
                    "evidence": f.evidence,
                })
            })
            .collect();
        if !findings.is_empty() {
            v["findings"] = json!(findings);
        }
        if let Some(sc) = &s.request_schema {
            v["request_schema"] = sc.to_openapi();
        }
        if !s.response_schemas.is_empty() {
            let m: Map<String, Value> = s
                .response_schemas
                .iter()
                .map(|(st, sc)| (st.to_string(), sc.to_openapi()))
                .collect();
            v["response_schemas"] = Value::Object(m);
        }
        if newest.saturating_sub(s.last_seen) >= dormant_after_us {
            dormant.push(json!({"host": e.key.host, "method": e.key.method, "endpoint": e.key.template, "last_seen": Timestamp(s.last_seen)}));
        }
        endpoints.push(v);
    }
    let mut never_seen = Vec::new();
    if let Some(specs) = specs {
        let seen: BTreeSet<(String, String, String)> = eps
            .iter()
            .filter_map(|e| documented(Some(specs), &e.key))
            .map(|op| (op.origin.clone(), op.method.clone(), op.template.clone()))
            .collect();
        for op in specs.operations() {
            if !seen.contains(&(op.origin.clone(), op.method.clone(), op.template.clone())) {
                never_seen.push(json!({
                    "hosts": op.hosts,
                    "method": op.method,
                    "endpoint": op.template,
                    "deprecated": op.deprecated,
                    "spec": op.origin,
                }));
            }
        }
    }
    json!({
        "endpoints": endpoints,
        "documented_never_seen": never_seen,
        "dormant": dormant,
        "dormant_after_s": dormant_after_us / 1_000_000,
    })
}

/// The inventory as an OpenAPI 3.0 document.
pub fn export_openapi_doc(inv: &Inventory) -> Value {
    let eps: Vec<ExportEndpoint> = inv
        .endpoints()
        .iter()
        .map(|e| {
            let s = e.stats;
            let mut responses: Vec<(u16, Option<String>, Option<super::spec::Schema>)> = s
                .status_counts
                .keys()
                .map(|st| {
                    let schema = s.response_schemas.get(st).cloned();
                    let ct = schema.as_ref().and_then(|_| {
                        s.response_content_types
                            .iter()
                            .find(|c| c.contains("json"))
                            .cloned()
                    });
                    (*st, ct, schema)
                })
                .collect();
            responses.sort_by_key(|r| r.0);
            ExportEndpoint {
                host: e.key.host.clone(),
                method: e.key.method.clone(),
                template: e.key.template.clone(),
                query_params: s.query_params.iter().cloned().collect(),
                request_content_type: s.request_content_types.iter().next().cloned(),
                request_schema: s.request_schema.clone(),
                responses,
                deprecated: false,
            }
        })
        .collect();
    export_openapi("APIs observed by apitap", &eps)
}

/// Saves every endpoint of the inventory as the baseline; returns how many.
pub fn write_baseline(
    inv: &Inventory,
    data_dir: &Path,
    created: &str,
) -> Result<usize, DiscoveryError> {
    let b = Baseline {
        created: created.to_string(),
        endpoints: inv.endpoints().into_iter().map(|e| e.key).collect(),
    };
    let n = b.endpoints.len();
    let bytes = serde_json::to_vec_pretty(&b).map_err(|e| DiscoveryError::Write {
        path: data_dir.join(BASELINE_FILE),
        source: std::io::Error::other(e),
    })?;
    write_atomic(&data_dir.join(BASELINE_FILE), &bytes)?;
    Ok(n)
}

/// Reads the baseline of `data_dir`, if any.
pub fn read_baseline(data_dir: &Path) -> Result<Option<Baseline>, DiscoveryError> {
    read_json(&data_dir.join(BASELINE_FILE))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analyze::inventory::TxRecord;
    use crate::analyze::template::TemplateConfig;

    fn inv() -> Inventory {
        let mut inv = Inventory::new(TemplateConfig::default());
        for i in 0..5u64 {
            inv.record(
                &TxRecord {
                    ts: 1_000_000 + i,
                    flow_id: i,
                    host: "api.example".into(),
                    method: "GET".into(),
                    path: format!("/users/{i}").into(),
                    status: Some(if i == 4 { 404 } else { 200 }),
                    latency_us: Some(2000),
                    ..TxRecord::default()
                },
                None,
            );
        }
        inv.record(
            &TxRecord {
                ts: 1,
                host: "api.example".into(),
                method: "POST".into(),
                path: "/login".into(),
                status: Some(200),
                ..TxRecord::default()
            },
            None,
        );
        inv
    }

    #[test]
    fn table_lists_every_endpoint() {
        let t = table(&inv(), Sort::Calls, None, None);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("HOST"));
        assert!(lines[1].contains("/users/{userId}") && lines[1].contains("2xx:4,4xx:1"));
        assert!(lines[1].contains("2.0/2.0"));
        assert!(lines[2].contains("/login"));
        assert_eq!(lines[3], "2 endpoints");
    }

    #[test]
    fn json_export_reports_dormant_endpoints_in_packet_time() {
        let v = export_json(&inv(), None, None, 500_000);
        assert_eq!(v["endpoints"].as_array().unwrap().len(), 2);
        let dormant = v["dormant"].as_array().unwrap();
        assert_eq!(dormant.len(), 1);
        assert_eq!(dormant[0]["endpoint"], "/login");
        assert_eq!(v["endpoints"][1]["documented"], Value::Null);
    }

    #[test]
    fn openapi_export_round_trips_through_the_spec_loader() {
        let doc = export_openapi_doc(&inv());
        let text = serde_json::to_string(&doc).unwrap();
        let specs = SpecSet::load(&[("export.json".into(), text)], None).unwrap();
        assert!(specs
            .match_template("api.example", "GET", "/users/{userId}")
            .is_some());
        assert!(specs.match_op("api.example", "POST", "/login").is_some());
    }

    #[test]
    fn baseline_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_baseline(dir.path()).unwrap().is_none());
        assert_eq!(write_baseline(&inv(), dir.path(), "now").unwrap(), 2);
        assert_eq!(
            read_baseline(dir.path()).unwrap().unwrap().endpoints.len(),
            2
        );
    }
}
