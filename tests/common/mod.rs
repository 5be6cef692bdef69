//! Helpers shared by the integration tests: run the real binary and parse its JSON lines.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_apitap")
}

pub fn capture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

pub struct Run {
    pub events: Vec<Value>,
    pub stderr: String,
    pub code: Option<i32>,
}

impl Run {
    pub fn of_type(&self, t: &str) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|e| e["event_type"] == t)
            .collect()
    }
    /// The last `stats` event's `stats` object.
    pub fn stats(&self) -> &Value {
        &self
            .events
            .iter()
            .rev()
            .find(|e| e["event_type"] == "stats")
            .expect("a final stats event")["stats"]
    }
    /// Flow events without fields that legitimately vary between runs, sorted.
    pub fn flows_normalised(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .of_type("flow")
            .into_iter()
            .map(|e| serde_json::to_string(e).expect("serialises"))
            .collect();
        v.sort();
        v
    }
}

pub fn parse(out: &Output) -> Run {
    let stdout = String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8");
    let events = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect();
    Run {
        events,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
    }
}

/// The redaction key of test runs (a real sensor makes a random one), so that redaction
/// tags compare across runs.
pub const TEST_REDACTION_KEY: &[u8] = b"apitap test redaction key 0123456789";

/// `apitap replay` with the given extra arguments; stats only at exit, fixed sensor name,
/// the test redaction key in the data directory.
pub fn replay(files: &[PathBuf], extra: &[&str]) -> Run {
    let mut cmd = Command::new(bin());
    cmd.arg("replay");
    if !extra.contains(&"--stats-interval") {
        cmd.args(["--stats-interval", "0"]);
    }
    // A fresh data directory unless the test gives one: runs must not share an inventory.
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = match extra.iter().position(|a| *a == "--data-dir") {
        Some(i) => PathBuf::from(extra.get(i + 1).expect("--data-dir DIR")),
        None => {
            cmd.arg("--data-dir").arg(tmp.path());
            tmp.path().to_path_buf()
        }
    };
    let key = dir.join("redaction.key");
    if !key.exists() {
        std::fs::create_dir_all(&dir).expect("data dir");
        std::fs::write(&key, TEST_REDACTION_KEY).expect("key file");
    }
    let out = cmd
        .args(["--sensor-name", "test"])
        .args(extra)
        .args(files)
        .output()
        .expect("runs apitap");
    parse(&out)
}
