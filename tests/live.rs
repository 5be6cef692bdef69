//! Live capture for real: a network namespace holds a veth pair; `tcpreplay` sends a capture
//! into one end while `apitap live` listens on the other, and the flows it reports must be
//! the flows of the same capture replayed from the file. No traffic leaves the namespace.
//! Needs root, `ip netns` and `tcpreplay`; otherwise it is skipped with a printed reason.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{bin, capture, parse, replay};

fn sh(args: &[&str]) -> bool {
    Command::new(args[0])
        .args(&args[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Kills the sensor if the test fails half-way, so it never outlives the test.
struct Sensor(Option<std::process::Child>);

impl Drop for Sensor {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        sh(&["ip", "netns", "del", &self.0]);
    }
}

fn skip(reason: &str) {
    println!("SKIPPED live capture test: {reason}");
}

/// Addresses, ports and counts of each flow, without timestamps and ids (packet times differ
/// between the file and the live capture).
fn flow_shape(v: &serde_json::Value) -> String {
    format!(
        "{} {}:{} -> {}:{} pkts {}/{} bytes {}/{}",
        v["proto"],
        v["src_ip"],
        v["src_port"],
        v["dest_ip"],
        v["dest_port"],
        v["flow"]["pkts_toserver"],
        v["flow"]["pkts_toclient"],
        v["flow"]["bytes_toserver"],
        v["flow"]["bytes_toclient"]
    )
}

#[test]
fn live_capture_on_veth_sees_the_replayed_flows() {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !is_root {
        return skip("not running as root");
    }
    if !sh(&["tcpreplay", "--version"]) {
        return skip("tcpreplay is not installed");
    }
    let ns = Netns(format!("apitap-test-{}", std::process::id()));
    if !sh(&["ip", "netns", "add", &ns.0]) {
        return skip("`ip netns add` failed (no network namespaces here)");
    }
    let ok = sh(&[
        "ip", "-n", &ns.0, "link", "add", "tap0", "type", "veth", "peer", "name", "tap1",
    ]) && sh(&["ip", "-n", &ns.0, "link", "set", "tap0", "up"])
        && sh(&["ip", "-n", &ns.0, "link", "set", "tap1", "up"]);
    if !ok {
        return skip("cannot create a veth pair in the namespace");
    }
    let file = capture("ethernet.pcap");
    let state = tempfile::tempdir().expect("temp dir");
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.0, bin(), "live", "-i", "tap1"])
        .arg("--data-dir")
        .arg(state.path())
        .args([
            "--stats-interval",
            "0",
            "--sensor-name",
            "test",
            "--workers",
            "2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts apitap live");
    let mut sensor = Sensor(Some(child));
    // Wait until apitap says it is capturing.
    let stderr = sensor
        .0
        .as_mut()
        .and_then(|c| c.stderr.take())
        .expect("stderr piped");
    let mut lines = BufReader::new(stderr).lines();
    let started = Instant::now();
    let mut early = Vec::new();
    loop {
        match lines.next() {
            Some(Ok(l)) => {
                let ready = l.contains("capturing on tap1");
                early.push(l);
                if ready {
                    break;
                }
            }
            _ => panic!("apitap live exited early: {early:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "apitap never started"
        );
    }
    let sent = sh(&[
        "ip",
        "netns",
        "exec",
        &ns.0,
        "tcpreplay",
        "-i",
        "tap0",
        file.to_str().unwrap(),
    ]);
    assert!(sent, "tcpreplay failed");
    std::thread::sleep(Duration::from_millis(700));
    let child = sensor.0.take().expect("still running");
    sh(&["kill", "-TERM", &child.id().to_string()]);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().expect("apitap exits");
    assert_eq!(out.status.code(), Some(0), "stderr: {early:?} {rest:?}");
    let live = parse(&out);
    let file_run = replay(&[file], &["--workers", "2"]);
    let mut got: Vec<String> = live.of_type("flow").into_iter().map(flow_shape).collect();
    let mut want: Vec<String> = file_run
        .of_type("flow")
        .into_iter()
        .map(flow_shape)
        .collect();
    got.sort();
    want.sort();
    assert!(!want.is_empty());
    assert_eq!(got, want, "live flows differ from the file's");
    let stats = live.stats();
    assert_eq!(stats["capture"]["kernel_drops"], 0);
    assert_eq!(stats["pipeline"]["queue_drops"]["packets"], 0);
}

#[test]
fn live_capture_without_the_capability_names_it() {
    let setpriv = Command::new("setpriv").arg("--version").output();
    if setpriv.is_err() {
        return skip("setpriv is not installed");
    }
    // As an unprivileged user (nobody), opening a capture must fail with a clear message.
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .args([bin(), "live", "-i", "lo"])
        .output()
        .expect("runs setpriv");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("setpriv:") {
        return skip("setpriv cannot drop privileges here");
    }
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("CAP_NET_RAW"), "{stderr}");
    assert!(stderr.contains("lo"), "{stderr}");
}
