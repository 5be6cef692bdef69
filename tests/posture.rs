//! Posture findings end to end: `captures/posture.pcap` holds one call per finding kind
//! (see `synth::http_scenarios::posture`); the findings, their severities, counts and the
//! risk order of the inventory are asserted exactly, for 1 and 3 workers, with an operator
//! rule from the config file.

mod common;

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use common::{bin, replay, Run};

fn capture() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/captures/posture.pcap"
    ))
}

/// A config file with one operator rule (employee ids).
fn config(dir: &std::path::Path) -> PathBuf {
    let p = dir.join("apitap.toml");
    std::fs::write(
        &p,
        "[[sensitive.custom_rules]]\nname = \"employee_id\"\nvalue_pattern = \"\\\\bEMP-[0-9]{6}\\\\b\"\nseverity = \"high\"\n",
    )
    .expect("config written");
    p
}

fn run(workers: &str) -> (Run, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = config(dir.path());
    let d = dir.path().to_str().expect("utf-8").to_string();
    let run = replay(
        &[capture()],
        &[
            "--workers",
            workers,
            "--data-dir",
            &d,
            "--config",
            cfg.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    (run, dir)
}

fn findings(run: &Run) -> Vec<String> {
    let mut v: Vec<String> = run
        .of_type("finding")
        .iter()
        .map(|e| {
            let f = &e["finding"];
            let mut s = format!(
                "{} {} {} {}{} x{}",
                f["kind"].as_str().unwrap_or(""),
                f["severity"].as_str().unwrap_or(""),
                f["method"].as_str().unwrap_or(""),
                f["host"].as_str().unwrap_or(""),
                f["endpoint"].as_str().unwrap_or(""),
                f["count"]
            );
            let ev = &f["evidence"];
            if let Some(t) = ev["type"].as_str() {
                s.push_str(&format!(" {t}@{}", ev["location"].as_str().unwrap_or("")));
            }
            s
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_posture_finding_is_raised_once_with_its_severity() {
    let expected = [
        "basic_auth_cleartext high GET api.shop.example/api/v1/admin/stats x1",
        "basic_auth_weak_password high GET api.shop.example/api/v1/admin/stats x1",
        "credential_reuse medium GET api.shop.example/api/v1/customers/{customerId} x1",
        "credential_reuse medium GET api.shop.example/api/v1/lookup x1",
        "credential_reuse medium GET billing.shop.example:8080/v2/balance x1",
        "credentials_in_url medium GET api.shop.example/api/v1/export x1",
        "jwt_alg_none critical GET api.shop.example/api/v1/orders x1",
        "jwt_expired high GET api.shop.example/api/v1/orders/{orderId} x1",
        "jwt_long_lived low GET api.shop.example/api/v1/reports x1",
        "jwt_no_expiry medium GET api.shop.example/api/v1/reports/daily x1",
        "jwt_sensitive_claims medium GET api.shop.example/api/v1/reports x1",
        "jwt_weak_algorithm medium GET api.shop.example/api/v1/invoices x1",
        "jwt_weak_secret critical GET api.shop.example/api/v1/reports x1",
        "sensitive_data_exposure critical POST api.shop.example/api/v1/login x1 password@request.body",
        "sensitive_data_exposure high GET api.shop.example/api/v1/customers/{customerId} x3 us_ssn@response.body",
        "sensitive_data_exposure high GET api.shop.example/api/v1/orders/{orderId} x1 employee_id@response.body",
        "sensitive_data_exposure low POST api.shop.example/api/v1/login x1 email@request.body",
        "sensitive_data_exposure medium GET api.shop.example/api/v1/customers/{customerId} x3 email@response.body",
        "sensitive_data_in_url medium GET api.shop.example/api/v1/lookup x1 us_ssn@request.query",
        "unauthenticated_access high GET api.shop.example/api/v1/customers/{customerId} x1",
    ];
    for workers in ["1", "3"] {
        let (run, dir) = run(workers);
        assert_eq!(findings(&run), expected, "{workers} worker(s)");
        // The unauthenticated call is the first transaction of the first connection, and
        // its evidence says what else called the endpoint.
        let unauth = run
            .of_type("finding")
            .into_iter()
            .find(|e| e["finding"]["kind"] == "unauthenticated_access")
            .expect("unauthenticated_access");
        assert_eq!(unauth["tx_id"], 0);
        assert_eq!(
            unauth["finding"]["owasp"],
            "API2:2023 Broken Authentication"
        );
        let ev = &unauth["finding"]["evidence"];
        assert_eq!(ev["also_called_with"], serde_json::json!(["bearer"]));
        assert_eq!(
            ev["response_sensitive_types"],
            serde_json::json!(["email", "us_ssn"])
        );
        // The operator rule also shows on the transaction.
        let http = run
            .of_type("http")
            .into_iter()
            .find(|e| e["http"]["path"] == "/api/v1/orders/77")
            .expect("orders/77");
        let types: Vec<&str> = http["sensitive"]
            .as_array()
            .expect("sensitive")
            .iter()
            .filter_map(|s| s["type"].as_str())
            .collect();
        assert_eq!(types, ["jwt", "employee_id"]);
        assert!(!http.to_string().contains("EMP-004211"));
        // The inventory orders endpoints by risk.
        let out = Command::new(bin())
            .args(["inventory", "show", "--sort", "risk", "--data-dir"])
            .arg(dir.path())
            .output()
            .expect("inventory show");
        assert!(out.status.success());
        let table = String::from_utf8_lossy(&out.stdout);
        let first: Vec<&str> = table
            .lines()
            .nth(1)
            .unwrap_or("")
            .split_whitespace()
            .collect();
        assert_eq!(
            (first[2], first.last().copied()),
            ("/api/v1/customers/{customerId}", Some("80")),
            "{table}"
        );
        let export: Value = serde_json::from_slice(
            &Command::new(bin())
                .args(["inventory", "export", "--data-dir"])
                .arg(dir.path())
                .output()
                .expect("export")
                .stdout,
        )
        .expect("json");
        let customers = export["endpoints"]
            .as_array()
            .expect("endpoints")
            .iter()
            .find(|e| e["endpoint"] == "/api/v1/customers/{customerId}")
            .expect("customers");
        assert_eq!(customers["risk"], 80);
        assert_eq!(customers["weakest_auth"], "none");
        assert_eq!(
            customers["sensitive_types"],
            serde_json::json!(["email", "us_ssn"])
        );
        assert_eq!(customers["findings"].as_array().map(Vec::len), Some(4));
    }
}

#[test]
fn findings_are_not_raised_again_after_a_restart() {
    let (first, dir) = run("1");
    assert!(!first.of_type("finding").is_empty());
    let d = dir.path().to_str().expect("utf-8").to_string();
    let cfg = config(dir.path());
    let again = replay(
        &[capture()],
        &["--data-dir", &d, "--config", cfg.to_str().expect("utf-8")],
    );
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(
        again.of_type("finding").is_empty(),
        "{:?}",
        findings(&again)
    );
}

#[test]
fn inspection_can_be_switched_off() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = dir.path().join("off.toml");
    std::fs::write(
        &cfg,
        "[sensitive]\nenabled = false\n[auth]\nenabled = false\n",
    )
    .expect("config written");
    let run = replay(&[capture()], &["--config", cfg.to_str().expect("utf-8")]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let http = run.of_type("http");
    assert_eq!(http.len(), 13);
    assert!(http
        .iter()
        .all(|e| e.get("auth").is_none() && e.get("sensitive").is_none()));
    // Without inspection no posture finding is raised (the inventory still is).
    assert!(run.of_type("finding").is_empty(), "{:?}", findings(&run));
    assert_eq!(run.of_type("api_endpoint").len(), 11);
}
