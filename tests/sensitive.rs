//! End to end: sensitive values found in traffic never reach the output in default mode.
//!
//! Each shipped capture is replayed twice: with `--unredacted` (whose `sensitive[].redacted`
//! fields then hold the raw values the detector found) and in default mode. No raw value of
//! the first run may appear anywhere in the second run's events, its stderr, or the files of
//! its data directory (inventory state).

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::replay;

fn captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/captures"))
        .expect("captures dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    v.sort();
    v
}

#[test]
fn no_raw_sensitive_value_reaches_the_output() {
    let mut checked = 0usize;
    for cap in captures() {
        let raw_dir = tempfile::tempdir().expect("temp dir");
        let raw_dir_s = raw_dir.path().to_str().expect("utf-8 path").to_string();
        let raw = replay(
            std::slice::from_ref(&cap),
            &["--unredacted", "--data-dir", &raw_dir_s],
        );
        assert!(
            raw.stderr.contains("--unredacted"),
            "raw mode is announced: {}",
            raw.stderr
        );
        let mut values: BTreeSet<String> = BTreeSet::new();
        for e in raw.of_type("http") {
            for s in e["sensitive"].as_array().into_iter().flatten() {
                let v = s["redacted"].as_str().unwrap_or_default();
                // An address also appears, legitimately, as an event's src/dest_ip.
                if s["type"] != "ipv4" && v.len() >= 6 {
                    values.insert(v.to_string());
                }
            }
        }
        if values.is_empty() {
            continue;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let dir_s = dir.path().to_str().expect("utf-8 path").to_string();
        let red = replay(std::slice::from_ref(&cap), &["--data-dir", &dir_s]);
        let mut texts: Vec<(String, String)> = vec![("stderr".into(), red.stderr.clone())];
        for e in &red.events {
            texts.push(("event".into(), e.to_string()));
        }
        for f in std::fs::read_dir(dir.path()).expect("data dir").flatten() {
            if f.file_name() == "redaction.key" {
                continue;
            }
            let bytes = std::fs::read(f.path()).expect("state file");
            texts.push((
                f.path().display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
        for v in &values {
            // Also as the JSON string escape would write it.
            let escaped = serde_json::to_string(v).expect("json");
            let escaped = escaped.trim_matches('"');
            for (what, t) in &texts {
                assert!(
                    !t.contains(v.as_str()) && !t.contains(escaped),
                    "{}: raw value of {} leaked into {what}",
                    cap.display(),
                    v.chars().take(4).collect::<String>()
                );
            }
            checked += 1;
        }
    }
    eprintln!("{checked} raw values checked");
    // The captures do carry sensitive values: the test checked something.
    assert!(checked >= 5, "only {checked} raw values checked");
}
