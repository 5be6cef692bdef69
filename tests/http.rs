//! Replays every capture whose builder recorded the HTTP transactions it wrote
//! (`captures/manifest.json`, `expected.http`) and asserts that apitap's `http` events are
//! exactly those transactions: method, host, path, query, status, body sizes, completeness
//! and anomalies (compared on the anomaly names the builder knows how to provoke).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use apitap::synth::scenario::{scenario_file_name, HTTP_ANOMALIES};
use common::{capture, replay, Run};

fn manifest() -> Vec<Value> {
    let text = std::fs::read_to_string(capture("manifest.json")).expect("manifest");
    serde_json::from_str(&text).expect("manifest is JSON")
}

/// The comparable projection of one transaction: an event's `http` object and a builder's
/// expected transaction use the same field names.
fn project(t: &Value) -> String {
    let mut an: Vec<&str> = t["anomalies"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    an.retain(|a| HTTP_ANOMALIES.contains(a));
    an.sort_unstable();
    let (method, status) = (&t["method"], &t["status"]);
    json!({
        "method": method, "host": t["host"], "path": t["path"], "query": t["query"],
        "status": status,
        // A transaction without its request has no request body to speak of.
        "request_body_bytes": if method.is_null() { Value::Null } else { t["request_body_bytes"].clone() },
        "response_body_bytes": if status.is_null() { Value::Null } else { t["response_body_bytes"].clone() },
        "complete": t.get("complete").cloned().unwrap_or(Value::Bool(true)),
        "anomalies": an,
    })
    .to_string()
}

fn got(run: &Run) -> Vec<String> {
    let mut v: Vec<String> = run
        .of_type("http")
        .iter()
        .map(|e| project(&e["http"]))
        .collect();
    v.sort();
    v
}

fn want(expected: &Value) -> Vec<String> {
    let mut v: Vec<String> = expected["http"]
        .as_array()
        .expect("http list")
        .iter()
        .map(project)
        .collect();
    v.sort();
    v
}

/// Every flow's transactions are numbered 0, 1, 2... and written in that order.
fn check_tx_order(run: &Run, name: &str) {
    let mut next: BTreeMap<u64, u64> = BTreeMap::new();
    for e in run.of_type("http") {
        let flow = e["flow_id"].as_u64().unwrap();
        let tx = e["tx_id"].as_u64().unwrap();
        let n = next.entry(flow).or_default();
        assert_eq!(tx, *n, "{name}: flow {flow} tx order");
        *n += 1;
    }
}

fn check_scenario(s: &Value, workers: &str) {
    let name = s["name"].as_str().unwrap();
    // Raw paths and queries (the builder's expectations are the bytes it sent; redaction
    // is tested in tests/sensitive.rs and tests/sensitive_eval.rs).
    let run = replay(
        &[capture(&scenario_file_name(name))],
        &[
            "--workers",
            workers,
            "--flow-events",
            "false",
            "--unredacted",
        ],
    );
    assert_eq!(run.code, Some(0), "{name}: {}", run.stderr);
    let (g, w) = (got(&run), want(&s["expected"]));
    if g != w {
        let gs: BTreeSet<_> = g.iter().collect();
        let ws: BTreeSet<_> = w.iter().collect();
        panic!(
            "{name} ({workers} workers): {} expected, {} written\nmissing: {:#?}\nunexpected: {:#?}",
            w.len(),
            g.len(),
            ws.difference(&gs).collect::<Vec<_>>(),
            gs.difference(&ws).collect::<Vec<_>>()
        );
    }
    check_tx_order(&run, name);
    assert_eq!(
        run.stats()["http"]["transactions"],
        w.len() as u64,
        "{name}: stats count"
    );
}

fn exact_http_scenarios() -> Vec<Value> {
    manifest()
        .into_iter()
        .filter(|s| {
            s["expected"]["http"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
                && s["expected"]["http_exact"] != false
        })
        .collect()
}

#[test]
fn every_capture_gives_exactly_its_transactions() {
    let all = exact_http_scenarios();
    assert!(all.len() >= 35, "{} scenarios", all.len());
    for s in &all {
        check_scenario(s, "2");
    }
}

#[test]
fn worker_count_does_not_change_transactions() {
    for s in exact_http_scenarios() {
        let name = s["name"].as_str().unwrap();
        if !name.starts_with("http-") {
            continue;
        }
        let file = capture(&scenario_file_name(name));
        let one = replay(std::slice::from_ref(&file), &["--workers", "1"]);
        let three = replay(std::slice::from_ref(&file), &["--workers", "3"]);
        let norm = |r: &Run| {
            let mut v: Vec<String> = r
                .events
                .iter()
                .filter(|e| e["event_type"] != "stats")
                .map(|e| e.to_string())
                .collect();
            v.sort();
            v
        };
        assert_eq!(norm(&one), norm(&three), "{name}");
    }
}

fn scenario(name: &str) -> Value {
    manifest()
        .into_iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no scenario {name}"))
}

fn http_events(name: &str) -> Run {
    replay(
        &[capture(&scenario_file_name(name))],
        &["--flow-events", "false"],
    )
}

#[test]
fn keepalive_and_pipelining() {
    check_scenario(&scenario("http-keepalive"), "1");
    check_scenario(&scenario("http-pipelining"), "1");
}

#[test]
fn chunked_and_compressed_bodies() {
    check_scenario(&scenario("http-chunked"), "1");
    check_scenario(&scenario("http-gzip"), "1");
}

#[test]
fn close_delimited_head_1xx_204_304() {
    check_scenario(&scenario("http-close-delimited"), "1");
    check_scenario(&scenario("http-head-1xx-204-304"), "1");
    let run = http_events("http-head-1xx-204-304");
    assert!(run
        .of_type("http")
        .iter()
        .any(|e| e["http"]["informational"] == json!([100])));
}

#[test]
fn connect_and_upgrades_stop_http_parsing() {
    check_scenario(&scenario("http-connect-upgrade"), "1");
    let run = http_events("http-connect-upgrade");
    let ups: BTreeSet<String> = run
        .of_type("http")
        .iter()
        .filter_map(|e| e["http"]["upgrade"].as_str().map(String::from))
        .collect();
    assert_eq!(
        ups,
        ["connect", "h2c", "websocket"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
}

#[test]
fn tolerance_and_smuggling_signals() {
    check_scenario(&scenario("http-tolerance"), "1");
    check_scenario(&scenario("http-smuggling"), "1");
}

#[test]
fn any_port_and_not_http() {
    check_scenario(&scenario("http-odd-ports"), "1");
}

#[test]
fn reordering_overlap_loss_and_midstream() {
    for name in [
        "http-reordered",
        "http-overlap-evasion",
        "http-loss",
        "http-midstream",
        "http-ipv6-vlan",
    ] {
        check_scenario(&scenario(name), "1");
    }
    let run = http_events("http-overlap-evasion");
    assert!(
        run.stats()["tcp"]["overlap_different_data"]
            .as_u64()
            .unwrap()
            >= 2
    );
}

#[test]
fn http_event_contract_fields() {
    let run = http_events("http-keepalive");
    let e = run.of_type("http")[0];
    for k in [
        "timestamp",
        "event_id",
        "sensor",
        "flow_id",
        "tx_id",
        "src_ip",
        "src_port",
        "dest_ip",
        "dest_port",
    ] {
        assert!(e.get(k).is_some(), "{k} missing: {e}");
    }
    let h = &e["http"];
    for k in [
        "method",
        "host",
        "path",
        "endpoint",
        "status",
        "version",
        "latency_us",
        "complete",
        "request_body_bytes",
        "response_body_bytes",
    ] {
        assert!(h.get(k).is_some(), "http.{k} missing: {e}");
    }
    // The endpoint is the path with some segments templated.
    let path: Vec<&str> = h["path"].as_str().unwrap().split('/').collect();
    let endpoint: Vec<&str> = h["endpoint"].as_str().unwrap().split('/').collect();
    assert_eq!(path.len(), endpoint.len(), "{e}");
    for (p, t) in path.iter().zip(&endpoint) {
        assert!(p == t || (t.starts_with('{') && t.ends_with('}')), "{e}");
    }
    assert!(!e.to_string().contains("null"));
}
