//! API discovery end to end: templates in `http` events and the inventory, `api_endpoint`
//! and API `finding` events (shadow, zombie, spec drift, baseline), the persisted inventory
//! across restarts, `apitap inventory show|export|baseline`, and independence from the
//! number of workers.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use common::{bin, capture, replay, Run};

fn spec(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/specs")
        .join(name)
}

fn replay_in(dir: &Path, files: &[PathBuf], extra: &[&str]) -> Run {
    let d = dir.to_str().expect("utf-8 temp path");
    let mut args = vec!["--data-dir", d];
    args.extend_from_slice(extra);
    let run = replay(files, &args);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run
}

fn inventory(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(bin())
        .arg("inventory")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("runs apitap inventory");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Finding kinds of API discovery (the others are posture findings, tested elsewhere).
const INVENTORY_KINDS: &[&str] = &["shadow_api", "zombie_api", "spec_drift"];

fn is_inventory_finding(e: &Value) -> bool {
    INVENTORY_KINDS.contains(&e["finding"]["kind"].as_str().unwrap_or(""))
}

/// `kind host method endpoint` of every inventory finding, sorted.
fn findings(run: &Run) -> Vec<String> {
    let mut v: Vec<String> = run
        .of_type("finding")
        .iter()
        .filter(|e| is_inventory_finding(e))
        .map(|e| {
            let f = &e["finding"];
            format!(
                "{} {} {} {}",
                f["kind"].as_str().unwrap_or(""),
                f["host"].as_str().unwrap_or(""),
                f["method"].as_str().unwrap_or(""),
                f["endpoint"].as_str().unwrap_or("")
            )
        })
        .collect();
    v.sort();
    v
}

fn endpoints(run: &Run) -> Vec<String> {
    let mut v: Vec<String> = run
        .of_type("api_endpoint")
        .iter()
        .map(|e| {
            let a = &e["api"];
            format!(
                "{} {} {} calls={}",
                a["host"].as_str().unwrap_or(""),
                a["method"].as_str().unwrap_or(""),
                a["endpoint"].as_str().unwrap_or(""),
                a["calls"]
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn spec_comparison_raises_shadow_zombie_and_drift() {
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = spec("vlan-api.yaml");
    let run = replay_in(
        dir.path(),
        &[capture("vlan.pcap")],
        &["--spec", spec.to_str().expect("utf-8")],
    );
    assert_eq!(
        findings(&run),
        vec![
            "shadow_api accounts.example.com:8080 DELETE /api/v2/sessions/{sessionId}",
            "shadow_api accounts.example.com:8080 PUT /api/v2/accounts/{accountId}",
            "shadow_api api.example.com GET /api/users/{userId}/orders",
            "spec_drift api.example.com POST /api/orders",
            "zombie_api api.example.com GET /api/users/{id}",
        ]
    );
    let drift = run
        .of_type("finding")
        .into_iter()
        .find(|e| e["finding"]["kind"] == "spec_drift")
        .expect("drift");
    let ev = &drift["finding"]["evidence"];
    assert_eq!(ev["undocumented_status_codes"], serde_json::json!([201]));
    assert!(ev["undocumented_body_fields"]
        .as_array()
        .expect("fields")
        .contains(&Value::from("$.email")));
    // Spec templates take precedence in the http events too.
    let http = run.of_type("http");
    let user = http
        .iter()
        .find(|e| e["http"]["path"] == "/api/users/42")
        .expect("the user call");
    assert_eq!(user["http"]["endpoint"], "/api/users/{id}");
    // Every api_endpoint says whether it is documented.
    for e in run.of_type("api_endpoint") {
        assert!(e["api"]["documented"].is_boolean(), "{e}");
    }
    let doc = run
        .of_type("api_endpoint")
        .into_iter()
        .find(|e| e["api"]["endpoint"] == "/api/orders")
        .expect("orders");
    assert_eq!(doc["api"]["documented"], true);
    // The report: documented operations never seen.
    let export: Value = serde_json::from_str(&inventory(
        dir.path(),
        &["export", "--spec", spec.to_str().expect("utf-8")],
    ))
    .expect("json export");
    let never: Vec<&str> = export["documented_never_seen"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|o| o["endpoint"].as_str())
        .collect();
    assert_eq!(never, vec!["/api/orders/{orderId}"]);
}

#[test]
fn inventory_and_findings_do_not_depend_on_the_number_of_workers() {
    let files = [
        capture("http-messy.pcap"),
        capture("http-keepalive.pcap"),
        capture("mixed.pcap"),
        capture("vlan.pcap"),
    ];
    let spec = spec("vlan-api.yaml");
    let mut runs = Vec::new();
    for workers in ["1", "4"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let run = replay_in(
            dir.path(),
            &files,
            &[
                "--workers",
                workers,
                "--spec",
                spec.to_str().expect("utf-8"),
            ],
        );
        let export = inventory(dir.path(), &["export"]);
        let mut api: Vec<String> = run
            .events
            .iter()
            .filter(|e| e["event_type"] == "api_endpoint" || e["event_type"] == "finding")
            .map(|e| e.to_string())
            .collect();
        api.sort();
        runs.push((api, export, endpoints(&run)));
    }
    assert!(runs[0].2.len() > 20, "{:?}", runs[0].2);
    assert_eq!(runs[0].2, runs[1].2);
    assert_eq!(runs[0].0, runs[1].0);
    assert_eq!(runs[0].1, runs[1].1);
}

#[test]
fn the_inventory_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = replay_in(dir.path(), &[capture("vlan.pcap")], &[]);
    assert_eq!(first.of_type("api_endpoint").len(), 5);
    let second = replay_in(dir.path(), &[capture("vlan.pcap")], &[]);
    assert!(second.of_type("api_endpoint").is_empty(), "announced once");
    let export: Value =
        serde_json::from_str(&inventory(dir.path(), &["export"])).expect("json export");
    for e in export["endpoints"].as_array().expect("endpoints") {
        assert_eq!(e["calls"], 2, "{e}");
    }
    assert!(dir.path().join("inventory.json").is_file());
    let table = inventory(dir.path(), &["show", "--sort", "endpoint"]);
    assert!(table.starts_with("HOST"), "{table}");
    assert!(table.contains("/api/users/{userId}/orders"), "{table}");
    assert!(table.ends_with("5 endpoints\n"), "{table}");
}

#[test]
fn without_a_spec_new_endpoints_since_the_baseline_are_shadow() {
    let dir = tempfile::tempdir().expect("temp dir");
    replay_in(dir.path(), &[capture("vlan.pcap")], &[]);
    let out = Command::new(bin())
        .args(["inventory", "baseline", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("baseline of 5 endpoints"));
    let run = replay_in(
        dir.path(),
        &[capture("vlan.pcap"), capture("http-keepalive.pcap")],
        &[],
    );
    let f = findings(&run);
    assert!(!f.is_empty());
    assert!(f.iter().all(|l| l.starts_with("shadow_api ")), "{f:?}");
    assert!(
        !f.iter()
            .any(|l| l.contains("api.example.com GET /api/users/{userId}/orders")),
        "{f:?}"
    );
}

#[test]
fn exported_openapi_is_valid_and_makes_the_same_traffic_documented() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = [capture("vlan.pcap"), capture("http-messy.pcap")];
    replay_in(dir.path(), &files, &[]);
    let doc = inventory(dir.path(), &["export", "--format", "openapi"]);
    let v: Value = serde_json::from_str(&doc).expect("json");
    assert_eq!(v["openapi"], "3.0.3");
    let file = dir.path().join("export.json");
    std::fs::write(&file, &doc).expect("write export");
    if let Some(validator) = validator() {
        let out = Command::new(validator).arg(&file).output().expect("runs");
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        assert!(
            std::env::var_os("APITAP_REQUIRE_VALIDATOR").is_none(),
            "openapi-spec-validator missing"
        );
    }
    let fresh = tempfile::tempdir().expect("temp dir");
    let run = replay_in(
        fresh.path(),
        &files,
        &["--spec", file.to_str().expect("utf-8")],
    );
    let shadow: Vec<String> = findings(&run)
        .into_iter()
        .filter(|f| f.starts_with("shadow_api"))
        .collect();
    assert!(shadow.is_empty(), "{shadow:?}");
    assert!(run.of_type("api_endpoint").len() > 10);
}

fn validator() -> Option<PathBuf> {
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/openapi-spec-validator");
    if local.is_file() {
        return Some(local);
    }
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("openapi-spec-validator"))
            .find(|p| p.is_file())
    })
}

#[test]
fn a_bad_spec_or_state_file_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "swagger: '1.0'\n").expect("write");
    let run = replay(
        &[capture("vlan.pcap")],
        &["--spec", bad.to_str().expect("utf-8")],
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("bad.yaml"), "{}", run.stderr);
    std::fs::write(dir.path().join("inventory.json"), "{oops").expect("write");
    let run = replay(
        &[capture("vlan.pcap")],
        &["--data-dir", dir.path().to_str().expect("utf-8")],
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("inventory.json"), "{}", run.stderr);
}

#[test]
fn known_templates_are_learned_exactly_for_any_number_of_workers() {
    for workers in ["1", "3"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let run = replay_in(
            dir.path(),
            &[capture("api-discovery.pcap")],
            &["--workers", workers],
        );
        assert!(!run
            .of_type("finding")
            .iter()
            .any(|e| is_inventory_finding(e)));
        let export: Value =
            serde_json::from_str(&inventory(dir.path(), &["export"])).expect("json export");
        let got: Vec<(String, String, String)> = export["endpoints"]
            .as_array()
            .expect("endpoints")
            .iter()
            .map(|e| {
                (
                    e["host"].as_str().unwrap_or("").to_string(),
                    e["method"].as_str().unwrap_or("").to_string(),
                    e["endpoint"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let want: Vec<(String, String, String)> = apitap::synth::API_DISCOVERY_TEMPLATES
            .iter()
            .map(|(h, m, t)| (h.to_string(), m.to_string(), t.to_string()))
            .collect();
        assert_eq!(got, want, "workers {workers}");
        // Every call is folded into its endpoint.
        let calls: u64 = export["endpoints"]
            .as_array()
            .expect("endpoints")
            .iter()
            .map(|e| e["calls"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(calls as usize, run.of_type("http").len());
    }
}

/// A larger replay (generated labelled traffic, several report points) gives the same
/// inventory run after run and for any number of workers: the owner learns from the same
/// calls at each report point, and ticks and reports land at the same point of the capture
/// in every worker, whatever the threads' timing. (Both used to vary from run to run.)
#[test]
fn a_large_replay_learns_the_same_inventory_on_every_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let traffic = dir.path().join("traffic");
    let out = Command::new(bin())
        .args(["synth", "api-traffic", "--calls", "6000", "--output"])
        .arg(&traffic)
        .output()
        .expect("runs apitap synth");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One redaction key for every run: credential fingerprints and tags must match too.
    let key = dir.path().join("redaction.key");
    std::fs::write(&key, [7u8; 32]).expect("key file");
    let config = dir.path().join("apitap.toml");
    std::fs::write(
        &config,
        format!(
            "[redaction]\nkey_file = {:?}\n",
            key.to_str().expect("utf-8")
        ),
    )
    .expect("config file");
    let config = config.to_str().expect("utf-8");
    let pcap = traffic.join("api-traffic.pcap");
    let mut exports = Vec::new();
    for workers in ["1", "3", "3", "3", "2"] {
        let state = tempfile::tempdir().expect("temp dir");
        replay_in(
            state.path(),
            std::slice::from_ref(&pcap),
            &["-c", config, "--workers", workers],
        );
        exports.push((workers, inventory(state.path(), &["export", "-c", config])));
    }
    let first = &exports[0].1;
    assert!(first.len() > 100_000, "{} bytes", first.len());
    for (workers, e) in &exports[1..] {
        assert!(e == first, "--workers {workers} learned another inventory");
    }
}

/// Endpoints of an exported inventory with at least one response body schema.
fn with_response_schemas(dir: &Path) -> usize {
    let doc: Value =
        serde_json::from_str(&inventory(dir, &["export", "--format", "json"])).expect("json");
    doc["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .filter(|e| {
            e["response_schemas"]
                .as_object()
                .is_some_and(|m| !m.is_empty())
        })
        .count()
}

/// A config that reads the shape of every JSON body.
const EVERY_BODY: &str = "[discovery]\nschema_sample_every = 1\nschema_small_every = 1\n";

#[test]
fn body_shape_sampling_rates_are_configurable() {
    let files = [capture("api-discovery.pcap")];
    let default = tempfile::tempdir().expect("temp dir");
    replay_in(default.path(), &files, &[]);
    let every = tempfile::tempdir().expect("temp dir");
    let cfg = every.path().join("apitap.toml");
    std::fs::write(&cfg, EVERY_BODY).expect("write config");
    let state = every.path().join("state");
    replay_in(&state, &files, &["-c", cfg.to_str().expect("utf-8")]);
    // One transaction in 64 by default; every one here: more endpoints get a schema.
    let (sampled, all) = (
        with_response_schemas(default.path()),
        with_response_schemas(&state),
    );
    assert!(
        all > sampled,
        "{all} endpoints with schemas against {sampled}"
    );
    std::fs::write(&cfg, "[discovery]\nschema_small_every = 0\n").expect("write config");
    let run = replay(&files, &["-c", cfg.to_str().expect("utf-8")]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("schema_small_every"), "{}", run.stderr);
}
