//! Quality of API discovery on the project's own labelled traffic
//! (`synth::api_traffic`: seven APIs in the path styles of GitHub, Stripe, Spotify,
//! Kubernetes, petstore, an internal e-commerce API on two hosts and Slack, with Zipf-skewed
//! calls and hard cases), measured end to end: the capture is replayed by the binary with
//! the organisation's specs, and the inventory and findings are compared with the labels.
//!
//! - Templating: the learned endpoint set (host, method, template up to placeholder names)
//!   against the labelled endpoint set, *without* specs (specs would hand the templates
//!   over): precision, recall, F1. Acceptance: F1 >= 0.95.
//! - Shadow and zombie APIs, *with* the specs: `shadow_api` / `zombie_api` findings against
//!   the labelled undocumented / deprecated endpoints. A finding counts for a labelled
//!   endpoint when it is about calls of that endpoint (same host and method, each segment
//!   equal or a parameter of the label), so that detection is measured apart from
//!   templating. Acceptance: recall 1.0, no false positives.
//!
//! The numbers are printed (`cargo test --release --test discovery_eval -- --nocapture`)
//! and recorded in `benches/README.md`.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use apitap::synth::api_traffic::{write_api_traffic, ApiTrafficOptions};
use common::{bin, replay};

/// `host METHOD /a/{}/b`: placeholder names blanked.
fn key(host: &str, method: &str, template: &str) -> String {
    let t: Vec<String> = template
        .split('/')
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                "{}".to_string()
            } else {
                s.to_string()
            }
        })
        .collect();
    format!("{host} {method} {}", t.join("/"))
}

fn labelled(labels: &Value, filter: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    labels["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .filter(|e| filter(e))
        .map(|e| {
            key(
                e["host"].as_str().expect("host"),
                e["method"].as_str().expect("method"),
                e["template"].as_str().expect("template"),
            )
        })
        .collect()
}

fn export(dir: &Path) -> Value {
    let out = Command::new(bin())
        .args(["inventory", "export", "--data-dir"])
        .arg(dir)
        .output()
        .expect("runs");
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).expect("json")
}

struct Score {
    precision: f64,
    recall: f64,
    f1: f64,
    fp: Vec<String>,
    fn_: Vec<String>,
}

fn f1(precision: f64, recall: f64) -> f64 {
    if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    }
}

fn score(got: &BTreeSet<String>, want: &BTreeSet<String>) -> Score {
    let tp = got.intersection(want).count() as f64;
    let precision = if got.is_empty() {
        1.0
    } else {
        tp / got.len() as f64
    };
    let recall = if want.is_empty() {
        1.0
    } else {
        tp / want.len() as f64
    };
    Score {
        precision,
        recall,
        f1: f1(precision, recall),
        fp: got.difference(want).cloned().collect(),
        fn_: want.difference(got).cloned().collect(),
    }
}

/// A finding's endpoint `got` is about the labelled endpoint `want` when host and method
/// are equal and each segment is equal or a parameter in the label (a finding raised under
/// a path the templating could not generalise, such as `/v1/views/home-shortcuts` called
/// once, still found the right endpoint).
fn about(got: &str, want: &str) -> bool {
    let (g, w): (Vec<&str>, Vec<&str>) = (got.split(' ').collect(), want.split(' ').collect());
    if g.len() != 3 || w.len() != 3 || g[0] != w[0] || g[1] != w[1] {
        return false;
    }
    let (gs, ws): (Vec<&str>, Vec<&str>) = (g[2].split('/').collect(), w[2].split('/').collect());
    gs.len() == ws.len() && gs.iter().zip(&ws).all(|(a, b)| a == b || *b == "{}")
}

/// Detection quality: recall over the labelled endpoints (each found by at least one
/// finding about it), precision over the findings (each about a labelled endpoint).
fn detection(got: &BTreeSet<String>, want: &BTreeSet<String>) -> Score {
    let fn_: Vec<String> = want
        .iter()
        .filter(|w| !got.iter().any(|g| about(g, w)))
        .cloned()
        .collect();
    let fp: Vec<String> = got
        .iter()
        .filter(|g| !want.iter().any(|w| about(g, w)))
        .cloned()
        .collect();
    let recall = if want.is_empty() {
        1.0
    } else {
        (want.len() - fn_.len()) as f64 / want.len() as f64
    };
    let precision = if got.is_empty() {
        1.0
    } else {
        (got.len() - fp.len()) as f64 / got.len() as f64
    };
    Score {
        precision,
        recall,
        f1: f1(precision, recall),
        fp,
        fn_,
    }
}

fn report(name: &str, s: &Score) {
    println!(
        "{name}: precision {:.3}, recall {:.3}, F1 {:.3}",
        s.precision, s.recall, s.f1
    );
    for fp in &s.fp {
        println!("  false positive: {fp}");
    }
    for f in &s.fn_ {
        println!("  missed:         {f}");
    }
}

#[test]
fn templating_shadow_and_zombie_quality_on_labelled_traffic() {
    let gen = tempfile::tempdir().expect("temp dir");
    // APITAP_EVAL_SEED / APITAP_EVAL_CALLS measure other traffic than the default.
    let mut opts = ApiTrafficOptions::default();
    if let Some(seed) = std::env::var("APITAP_EVAL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        opts.seed = seed;
    }
    if let Some(calls) = std::env::var("APITAP_EVAL_CALLS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        opts.calls = calls;
    }
    let info = write_api_traffic(gen.path(), &opts).expect("generated");
    let labels: Value =
        serde_json::from_str(&std::fs::read_to_string(&info.labels).expect("labels"))
            .expect("labels json");

    // Templating, learned only.
    let state = tempfile::tempdir().expect("temp dir");
    let d = state.path().to_str().expect("utf-8");
    let run = replay(
        std::slice::from_ref(&info.pcap),
        &["--data-dir", d, "--workers", "2"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let inv = export(state.path());
    let got: BTreeSet<String> = inv["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .map(|e| {
            key(
                e["host"].as_str().expect("host"),
                e["method"].as_str().expect("method"),
                e["endpoint"].as_str().expect("endpoint"),
            )
        })
        .collect();
    let want = labelled(&labels, |_| true);
    let t = score(&got, &want);
    println!(
        "labelled traffic: {} calls, {} endpoints, {} shadow, {} zombie",
        info.calls, info.endpoints, info.shadow_endpoints, info.zombie_endpoints
    );
    report("templating (no spec)", &t);

    // Shadow and zombie, with the specs.
    let state = tempfile::tempdir().expect("temp dir");
    let d = state.path().to_str().expect("utf-8");
    let mut args = vec!["--data-dir", d, "--workers", "2"];
    let specs: Vec<String> = info
        .specs
        .iter()
        .map(|p| p.to_str().expect("utf-8").to_string())
        .collect();
    for s in &specs {
        args.push("--spec");
        args.push(s);
    }
    let run = replay(std::slice::from_ref(&info.pcap), &args);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let found = |kind: &str| -> BTreeSet<String> {
        run.of_type("finding")
            .iter()
            .filter(|e| e["finding"]["kind"] == kind)
            .map(|e| {
                let f = &e["finding"];
                key(
                    f["host"].as_str().expect("host"),
                    f["method"].as_str().expect("method"),
                    f["endpoint"].as_str().expect("endpoint"),
                )
            })
            .collect()
    };
    let shadow = detection(
        &found("shadow_api"),
        &labelled(&labels, |e| e["documented"] == false),
    );
    let zombie = detection(
        &found("zombie_api"),
        &labelled(&labels, |e| e["deprecated"] == true),
    );
    report("shadow_api", &shadow);
    report("zombie_api", &zombie);

    assert!(t.f1 >= 0.95, "templating F1 {:.3}", t.f1);
    assert_eq!(shadow.recall, 1.0, "shadow recall");
    assert!(shadow.fp.is_empty(), "shadow false positives");
    assert_eq!(zombie.recall, 1.0, "zombie recall");
    assert!(zombie.fp.is_empty(), "zombie false positives");
}
