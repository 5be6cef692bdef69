//! Replays every capture in `captures/` through the real binary and asserts the exact flow,
//! packet and anomaly counts (the captures and their contents are described in
//! `captures/README.md`; `captures/manifest.json` has the builder's own tallies).

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::{bin, capture, parse, replay};

struct Expect {
    file: &'static str,
    packets: u64,
    tcp: usize,
    udp: usize,
    /// `decode.stop` as written in the stats event.
    stop: Value,
    ignored: Value,
    reassembled: u64,
    truncated_payloads: u64,
    /// Distinct `vlan` values of the flow events (`null` when untagged).
    vlans: &'static [&'static str],
    /// Distinct `tunnel` values of the flow events.
    tunnels: &'static [&'static str],
}

fn plain(file: &'static str) -> Expect {
    Expect {
        file,
        packets: 42,
        tcp: 3,
        udp: 0,
        stop: json!({}),
        ignored: json!({}),
        reassembled: 0,
        truncated_payloads: 0,
        vlans: &["null"],
        tunnels: &["null"],
    }
}

fn check(e: &Expect) {
    let run = replay(&[capture(e.file)], &["--workers", "2"]);
    assert_eq!(run.code, Some(0), "{}: {}", e.file, run.stderr);
    let flows = run.of_type("flow");
    let tcp = flows.iter().filter(|f| f["proto"] == "tcp").count();
    let udp = flows.iter().filter(|f| f["proto"] == "udp").count();
    let s = run.stats();
    assert_eq!(s["capture"]["packets"], e.packets, "{} packets", e.file);
    assert_eq!((tcp, udp), (e.tcp, e.udp), "{} flows", e.file);
    assert_eq!(s["flows"]["created"], (e.tcp + e.udp) as u64, "{}", e.file);
    assert_eq!(s["decode"]["stop"], e.stop, "{} stops", e.file);
    assert_eq!(s["decode"]["ignored"], e.ignored, "{} ignored", e.file);
    assert_eq!(
        s["ip_frag"]["reassembled"], e.reassembled,
        "{} frags",
        e.file
    );
    assert_eq!(
        s["decode"]["truncated_payloads"], e.truncated_payloads,
        "{} truncated",
        e.file
    );
    assert_eq!(s["pipeline"]["queue_drops"]["packets"], 0);
    let vlans: BTreeSet<String> = flows.iter().map(|f| f["vlan"].to_string()).collect();
    let want: BTreeSet<String> = e.vlans.iter().map(|v| v.to_string()).collect();
    assert_eq!(vlans, want, "{} vlans", e.file);
    let tunnels: BTreeSet<String> = flows.iter().map(|f| f["tunnel"].to_string()).collect();
    let want: BTreeSet<String> = e.tunnels.iter().map(|v| v.to_string()).collect();
    assert_eq!(tunnels, want, "{} tunnels", e.file);
    // Every packet that decoded to TCP/UDP is in exactly one flow.
    let in_flows: u64 = flows
        .iter()
        .map(|f| {
            f["flow"]["pkts_toserver"].as_u64().unwrap()
                + f["flow"]["pkts_toclient"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(s["pipeline"]["worker_packets"], in_flows, "{}", e.file);
}

#[test]
fn ethernet() {
    check(&plain("ethernet.pcap"));
}

#[test]
fn pcapng() {
    check(&plain("pcapng.pcapng"));
}

#[test]
fn ipv6_with_extension_headers() {
    check(&plain("ipv6.pcap"));
}

#[test]
fn vlan() {
    check(&Expect {
        vlans: &["[100]"],
        ..plain("vlan.pcap")
    });
}

#[test]
fn qinq() {
    check(&Expect {
        vlans: &["[200,300]"],
        ..plain("qinq.pcap")
    });
}

#[test]
fn mpls() {
    check(&plain("mpls.pcap"));
}

#[test]
fn pppoe() {
    check(&plain("pppoe.pcap"));
}

#[test]
fn linux_cooked_v1_and_v2() {
    check(&plain("sll.pcap"));
    check(&plain("sll2.pcap"));
}

#[test]
fn raw_ip() {
    check(&plain("raw-ip.pcap"));
}

#[test]
fn null_loopback() {
    check(&Expect {
        packets: 38,
        ..plain("null-loopback.pcap")
    });
}

#[test]
fn vxlan_with_inner_vlan() {
    check(&Expect {
        vlans: &["null", "[7]"],
        tunnels: &[r#"{"type":"vxlan","vni":5001}"#],
        ..plain("vxlan.pcap")
    });
}

#[test]
fn geneve() {
    check(&Expect {
        tunnels: &[r#"{"type":"geneve","vni":6001}"#],
        ..plain("geneve.pcap")
    });
}

#[test]
fn gre() {
    check(&Expect {
        tunnels: &[r#"{"type":"gre","key":4096}"#],
        ..plain("gre.pcap")
    });
}

#[test]
fn erspan_ii_and_iii() {
    check(&Expect {
        tunnels: &[r#"{"type":"erspan","version":2,"session":100}"#],
        ..plain("erspan2.pcap")
    });
    check(&Expect {
        tunnels: &[r#"{"type":"erspan","version":3,"session":200}"#],
        ..plain("erspan3.pcap")
    });
}

#[test]
fn ipv4_fragments() {
    check(&Expect {
        packets: 46,
        reassembled: 2,
        ..plain("ipv4-fragments.pcap")
    });
}

#[test]
fn ipv6_fragments() {
    check(&Expect {
        packets: 44,
        reassembled: 2,
        ..plain("ipv6-fragments.pcap")
    });
}

#[test]
fn truncated_packets() {
    check(&Expect {
        packets: 44,
        stop: json!({"ipv4": {"truncated": 1}, "tcp": {"truncated": 1}}),
        truncated_payloads: 12,
        ..plain("truncated-packets.pcap")
    });
}

#[test]
fn mixed_traffic() {
    check(&Expect {
        packets: 67,
        tcp: 4,
        udp: 1,
        ignored: json!({"arp": 2, "icmp": 2}),
        vlans: &["null", "[10]"],
        tunnels: &["null", r#"{"type":"vxlan","vni":7001}"#],
        ..plain("mixed.pcap")
    });
}

#[test]
fn sequence_wrap_and_midstream() {
    check(&plain("seq-wrap.pcap"));
    check(&Expect {
        packets: 33,
        ..plain("midstream.pcap")
    });
    let run = replay(&[capture("midstream.pcap")], &[]);
    for f in run.of_type("flow") {
        assert_eq!(f["flow"]["midstream"], true);
        // The clients (10.0.0.x) are found from the ports, without a handshake.
        assert!(f["src_ip"].as_str().unwrap().starts_with("10.0.0."), "{f}");
        assert!(f["dest_port"] == 80 || f["dest_port"] == 8080, "{f}");
    }
}

#[test]
fn truncated_file_warns_and_keeps_what_came_before() {
    let run = replay(&[capture("truncated-file.pcap")], &[]);
    assert_eq!(run.code, Some(0));
    assert!(
        run.stderr.contains(
            "truncated-file.pcap: capture stopped: the file ends inside packet 42 (27 of 54 bytes)"
        ),
        "{}",
        run.stderr
    );
    let s = run.stats();
    assert_eq!(s["capture"]["packets"], 41);
    assert_eq!(s["capture"]["truncated_files"], 1);
    assert_eq!(run.of_type("flow").len(), 3);
}

#[test]
fn several_files_in_order_and_stdin() {
    let files = [capture("ethernet.pcap"), capture("vlan.pcap")];
    let run = replay(&files, &[]);
    assert_eq!(run.stats()["capture"]["packets"], 84);
    assert_eq!(run.stats()["capture"]["files"], 2);
    assert_eq!(run.of_type("flow").len(), 6);

    let state = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin())
        .env("STATE_DIRECTORY", state.path())
        .args([
            "replay",
            "--stats-interval",
            "0",
            "--sensor-name",
            "test",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let data = std::fs::read(capture("ethernet.pcap")).unwrap();
    child.stdin.take().unwrap().write_all(&data).unwrap();
    let piped = parse(&child.wait_with_output().unwrap());
    let file = replay(&[capture("ethernet.pcap")], &[]);
    assert_eq!(piped.code, Some(0));
    assert_eq!(piped.flows_normalised(), file.flows_normalised());
}

#[test]
fn same_events_for_one_and_four_workers() {
    for entry in std::fs::read_dir(capture("")).unwrap() {
        let path = entry.unwrap().path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "pcap" && ext != "pcapng" {
            continue;
        }
        let one = replay(std::slice::from_ref(&path), &["--workers", "1"]);
        let four = replay(std::slice::from_ref(&path), &["--workers", "4"]);
        assert!(!one.flows_normalised().is_empty(), "{}", path.display());
        assert_eq!(
            one.flows_normalised(),
            four.flows_normalised(),
            "{}",
            path.display()
        );
        let (s1, s4) = (one.stats(), four.stats());
        for k in ["capture", "decode", "ip_frag", "flows"] {
            assert_eq!(s1[k], s4[k], "{} {k}", path.display());
        }
    }
}

#[test]
fn missing_and_non_capture_files_exit_2_naming_the_file() {
    let run = replay(&[capture("does-not-exist.pcap")], &[]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("does-not-exist.pcap"), "{}", run.stderr);
    assert!(run.events.is_empty());

    let run = replay(&[capture("README.md")], &[]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("README.md"), "{}", run.stderr);

    // A bad file after a good one: nothing is processed.
    let run = replay(&[capture("ethernet.pcap"), capture("nope.pcap")], &[]);
    assert_eq!(run.code, Some(2));
    assert!(run.events.is_empty());
}

#[test]
fn unsupported_link_type_is_counted_with_one_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wifi.pcap");
    let f = std::fs::File::create(&path).unwrap();
    // 105 = IEEE 802.11, which apitap does not decode.
    let mut w = apitap::synth::pcap::PcapWriter::new(f, 105, 65535).unwrap();
    for i in 0..5u64 {
        w.write_packet(i, &[0u8; 40], 40).unwrap();
    }
    w.into_inner().unwrap();
    let run = replay(&[path], &[]);
    assert_eq!(run.code, Some(0));
    assert_eq!(
        run.stderr.matches("link type 105").count(),
        1,
        "{}",
        run.stderr
    );
    let s = run.stats();
    assert_eq!(s["capture"]["unsupported_link_type"], 5);
    assert_eq!(s["decode"]["stop"]["link"]["unsupported_link_type"], 5);
}

#[test]
fn periodic_stats_follow_packet_time() {
    // The ethernet capture spans a few milliseconds of packet time.
    let run = replay(
        &[capture("ethernet.pcap")],
        &["--stats-interval", "1ms", "--workers", "2"],
    );
    let stats = run.of_type("stats");
    assert!(stats.len() >= 2, "{} stats events", stats.len());
    let mut ids = BTreeSet::new();
    for s in &stats {
        assert!(ids.insert(s["event_id"].as_str().unwrap().to_string()));
        assert!(s["timestamp"]
            .as_str()
            .unwrap()
            .starts_with("2026-01-01T00:00:00."));
    }
    // Counters only grow.
    let pk: Vec<u64> = stats
        .iter()
        .map(|s| s["stats"]["capture"]["packets"].as_u64().unwrap())
        .collect();
    assert!(pk.windows(2).all(|w| w[0] <= w[1]), "{pk:?}");
    assert_eq!(*pk.last().unwrap(), 42);
}

#[test]
fn sigint_drains_flushes_and_exits_0() {
    // At 1/10000 of the original speed the 3 ms capture would take about 30 s.
    let state = tempfile::tempdir().unwrap();
    let child = Command::new(bin())
        .env("STATE_DIRECTORY", state.path())
        .args([
            "replay",
            "--speed",
            "0.0001",
            "--stats-interval",
            "0",
            "--sensor-name",
            "t",
        ])
        .arg(capture("ethernet.pcap"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let t0 = Instant::now();
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let run = parse(&child.wait_with_output().unwrap());
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let s = run.stats();
    let packets = s["capture"]["packets"].as_u64().unwrap();
    assert!(packets > 0 && packets < 42, "{packets}");
    assert_eq!(s["flows"]["active"], 0);
    assert!(!run.of_type("flow").is_empty());
}

#[test]
fn output_file_and_event_contract_fields() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events.json");
    let state = tempfile::tempdir().unwrap();
    let status = Command::new(bin())
        .env("STATE_DIRECTORY", state.path())
        .args([
            "replay",
            "--stats-interval",
            "0",
            "--sensor-name",
            "s1",
            "--output",
        ])
        .arg(&out)
        .arg(capture("vlan.pcap"))
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&out).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // 3 flows, 5 HTTP transactions, 5 endpoints, 8 findings (two JWTs without expiry,
    // three endpoints answering without credentials, test e-mail addresses and a test card
    // number), the final stats.
    let count = |t: &str| events.iter().filter(|e| e["event_type"] == t).count();
    assert_eq!(
        (
            count("flow"),
            count("http"),
            count("api_endpoint"),
            count("finding"),
            count("stats")
        ),
        (3, 5, 5, 8, 1)
    );
    assert_eq!(events.len(), 22);
    // The one null of the contract: `api.documented` without a spec.
    let text = text.replace("\"documented\":null", "");
    for e in &events {
        for k in ["event_type", "timestamp", "event_id", "sensor"] {
            assert!(e.get(k).is_some(), "{k} missing in {e}");
        }
        assert_eq!(e["sensor"], "s1");
        let ts = e["timestamp"].as_str().unwrap();
        assert_eq!(ts.len(), "2026-01-01T00:00:00.000000Z".len(), "{ts}");
        assert!(!text.contains("null"));
    }
    let f = events.iter().find(|e| e["event_type"] == "flow").unwrap();
    assert_eq!(f["vlan"], json!([100]));
    assert!(f["flow_id"].as_u64().unwrap() < 1 << 53);
}

#[test]
fn bpf_filter_on_replay() {
    let run = replay(&[capture("ethernet.pcap")], &["--bpf", "tcp port 8080"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let flows = run.of_type("flow");
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0]["dest_port"], 8080);
    // Tunnelled traffic is filtered on its outer headers, as libpcap does.
    let run = replay(&[capture("vxlan.pcap")], &["--bpf", "udp port 4789"]);
    assert_eq!(run.of_type("flow").len(), 3);

    let run = replay(&[capture("ethernet.pcap")], &["--bpf", "tcp port banana"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("invalid BPF filter"), "{}", run.stderr);
}
