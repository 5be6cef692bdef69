//! Detection quality on labelled traffic (`synth::sensitive_traffic`): per-class precision
//! and recall of `sensitive[]` items, and the accuracy of `auth.scheme`; then the same
//! traffic in default mode, where no planted value may reach the output.
//!
//! Scoring: the capture is replayed with `--unredacted`, so each item's `redacted` holds the
//! raw value. An item matches a planted value of the same transaction, type and location
//! when their values are equal after normalisation (alphanumerics, lower case), or, for an
//! item that stands for array elements (`count` > 1, `field` with `[*]`), when the field is
//! the same (up to `count` plants). A match must also agree on `test_data`. Unmatched items
//! are false positives of their type, unmatched plants false negatives. `secret` (opaque
//! credentials, an extra type of apitap's) is neither planted nor scored.
//!
//! `APITAP_EVAL_SEED` and `APITAP_EVAL_CALLS` change the traffic; `APITAP_EVAL_VERBOSE=1`
//! prints every mismatch.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value;

use apitap::synth::sensitive_traffic::{
    write_sensitive_traffic, SensitiveTrafficOptions, LABELS_NAME, PCAP_NAME,
};
use common::replay;

fn norm(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[derive(Default, Debug, Clone, Copy)]
struct Score {
    tp: u64,
    fp: u64,
    fn_: u64,
}

impl Score {
    fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }
    fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        }
    }
}

struct Item {
    kind: String,
    location: String,
    field: String,
    value: String,
    test: bool,
    count: u64,
}

fn options() -> SensitiveTrafficOptions {
    let mut o = SensitiveTrafficOptions::default();
    if let Some(s) = std::env::var("APITAP_EVAL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        o.seed = s;
    }
    if let Some(c) = std::env::var("APITAP_EVAL_CALLS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        o.calls = c;
    }
    o
}

fn labels(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join(LABELS_NAME)).expect("labels");
    let v: Value = serde_json::from_str(&text).expect("labels json");
    v["calls"].as_array().expect("calls").clone()
}

#[test]
fn per_class_precision_and_recall_on_labelled_traffic() {
    let verbose = std::env::var("APITAP_EVAL_VERBOSE").is_ok_and(|v| v == "1");
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = options();
    let info = write_sensitive_traffic(dir.path(), &opts).expect("traffic written");
    let calls = labels(dir.path());
    let run = replay(&[dir.path().join(PCAP_NAME)], &["--unredacted"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut by_tx: HashMap<(String, u64), &Value> = HashMap::new();
    for e in run.of_type("http") {
        let client = format!(
            "{}:{}",
            e["src_ip"].as_str().unwrap_or(""),
            e["src_port"].as_u64().unwrap_or(0)
        );
        by_tx.insert((client, e["tx_id"].as_u64().unwrap_or(0)), e);
    }
    let mut scores: BTreeMap<String, Score> = BTreeMap::new();
    let (mut auth_ok, mut auth_all) = (0u64, 0u64);
    let mut auth_confusion: BTreeMap<(String, String), u64> = BTreeMap::new();
    for call in &calls {
        let key = (
            call["client"].as_str().unwrap_or("").to_string(),
            call["tx_id"].as_u64().unwrap_or(0),
        );
        let Some(ev) = by_tx.get(&key) else {
            panic!("no http event for {key:?}");
        };
        let want_scheme = call["auth_scheme"].as_str().unwrap_or("");
        let got_scheme = ev["auth"]["scheme"].as_str().unwrap_or("");
        auth_all += 1;
        if want_scheme == got_scheme {
            auth_ok += 1;
        } else {
            *auth_confusion
                .entry((want_scheme.to_string(), got_scheme.to_string()))
                .or_default() += 1;
            if verbose {
                eprintln!(
                    "AUTH want {want_scheme} got {got_scheme}: {} {}?{}",
                    ev["http"]["method"], ev["http"]["path"], ev["http"]["query"]
                );
            }
        }
        let plants: Vec<&Value> = call["plants"].as_array().into_iter().flatten().collect();
        let mut matched = vec![false; plants.len()];
        let items: Vec<Item> = ev["sensitive"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| Item {
                kind: s["type"].as_str().unwrap_or("").to_string(),
                location: s["location"].as_str().unwrap_or("").to_string(),
                field: s["field"].as_str().unwrap_or("").to_string(),
                value: s["redacted"].as_str().unwrap_or("").to_string(),
                test: s["test_data"].as_bool().unwrap_or(false),
                count: s["count"].as_u64().unwrap_or(1),
            })
            .collect();
        for it in items.iter().filter(|i| i.kind != "secret") {
            let mut hits = 0u64;
            for (i, p) in plants.iter().enumerate() {
                if matched[i]
                    || p["type"] != it.kind.as_str()
                    || p["location"] != it.location.as_str()
                    || p["test_data"].as_bool() != Some(it.test)
                {
                    continue;
                }
                let same_value = norm(p["value"].as_str().unwrap_or("")) == norm(&it.value);
                let same_array_field = it.field.contains("[*]") && p["field"] == it.field.as_str();
                if same_value || same_array_field {
                    matched[i] = true;
                    hits += 1;
                    if hits >= it.count {
                        break;
                    }
                }
            }
            let s = scores.entry(it.kind.clone()).or_default();
            if hits > 0 {
                s.tp += hits;
            } else {
                s.fp += 1;
                if verbose {
                    eprintln!(
                        "FP {} {} {} {:?} test={} [{}] in {}",
                        it.kind, it.location, it.field, it.value, it.test, call["scenario"], key.0
                    );
                }
            }
        }
        for (i, p) in plants.iter().enumerate() {
            if !matched[i] {
                let kind = p["type"].as_str().unwrap_or("").to_string();
                scores.entry(kind).or_default().fn_ += 1;
                if verbose {
                    eprintln!(
                        "FN {} {} {} {:?} test={} [{}]",
                        p["type"],
                        p["location"],
                        p["field"],
                        p["value"],
                        p["test_data"],
                        call["scenario"]
                    );
                }
            }
        }
    }
    eprintln!(
        "sensitive eval: seed {}, {} calls, {} planted values, {} hard negatives",
        opts.seed, info.calls, info.plants, info.negatives
    );
    eprintln!("| type | planted | precision | recall |");
    eprintln!("|---|---|---|---|");
    let mut worst = (1.0f64, String::new());
    for (k, s) in &scores {
        eprintln!(
            "| `{k}` | {} | {:.3} | {:.3} |",
            s.tp + s.fn_,
            s.precision(),
            s.recall()
        );
        let m = s.precision().min(s.recall());
        if m < worst.0 {
            worst = (m, k.clone());
        }
    }
    let auth = auth_ok as f64 / auth_all.max(1) as f64;
    eprintln!(
        "auth.scheme accuracy: {auth:.4} ({auth_ok}/{auth_all}); confusions: {auth_confusion:?}"
    );
    assert!(
        worst.0 >= 0.95,
        "class {} below 0.95 (precision or recall {:.3})",
        worst.1,
        worst.0
    );
    assert!(auth >= 0.99, "auth scheme accuracy {auth:.4}");
    // Every class of the contract was planted and scored.
    for k in [
        "email",
        "credit_card",
        "us_ssn",
        "phone",
        "iban",
        "jwt",
        "aws_access_key",
        "aws_secret_key",
        "github_token",
        "slack_token",
        "stripe_key",
        "google_api_key",
        "private_key",
        "password",
        "password_hash",
        "ipv4",
        "date_of_birth",
    ] {
        let s = scores.get(k).copied().unwrap_or_default();
        assert!(s.tp + s.fn_ >= 20, "{k}: only {} planted", s.tp + s.fn_);
    }
}

#[test]
fn no_planted_value_reaches_the_output_in_default_mode() {
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = SensitiveTrafficOptions {
        calls: 800,
        ..options()
    };
    write_sensitive_traffic(dir.path(), &opts).expect("traffic written");
    let calls = labels(dir.path());
    let data = tempfile::tempdir().expect("data dir");
    let data_s = data.path().to_str().expect("utf-8").to_string();
    let run = replay(
        &[dir.path().join(PCAP_NAME)],
        &["--data-dir", &data_s, "--stats-interval", "0"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // Also the inventory commands' output.
    let mut texts: Vec<(String, String)> = vec![("stderr".into(), run.stderr.clone())];
    for e in &run.events {
        texts.push(("event".into(), e.to_string()));
    }
    for args in [
        &["show", "--sort", "risk"][..],
        &["export"][..],
        &["export", "--format", "openapi"][..],
    ] {
        let out = std::process::Command::new(common::bin())
            .arg("inventory")
            .args(args)
            .args(["--data-dir", &data_s])
            .output()
            .expect("inventory runs");
        assert!(out.status.success());
        texts.push((
            format!("inventory {args:?}"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ));
    }
    for f in std::fs::read_dir(data.path()).expect("data dir").flatten() {
        if f.file_name() == "redaction.key" {
            continue;
        }
        let bytes = std::fs::read(f.path()).expect("state file");
        texts.push((
            f.path().display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    let mut checked = 0usize;
    for call in &calls {
        let mut values: Vec<String> = call["plants"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["test_data"] != true)
            .filter_map(|p| p["value"].as_str().map(str::to_string))
            .collect();
        values.extend(
            call["hidden"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string)),
        );
        for v in values.iter().filter(|v| v.len() >= 6) {
            let escaped = serde_json::to_string(v).expect("json");
            let escaped = escaped.trim_matches('"');
            for (what, t) in &texts {
                assert!(
                    !t.contains(v.as_str()) && !t.contains(escaped),
                    "a planted value ({} in {}, {}) leaked into {what}",
                    call["scenario"],
                    call["client"],
                    v.chars().take(3).collect::<String>()
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 1000, "only {checked} values checked");
}
