//! Every `tests/transcripts/http/*.t` transcript, turned into a TCP conversation by the
//! capture builder and written as a pcap, through the whole pipeline (capture file reader,
//! decode, shard, TCP reassembly, HTTP): the `http` events must be exactly the transactions
//! of the sibling `.json` file that the in-module runner (`http::transcript`) checks when it
//! feeds the same bytes to the HTTP parser directly.
//!
//! Gap blocks (`><>`, `<><`) become data segments that the capture lost: the segments are
//! written, then removed, and the peer's ACKs still cover them, as with real capture loss.
//!
//! The proptest at the end checks the reassembly promise end to end: any reordering of each
//! flight's segments, with duplicates anywhere after the original, gives the same events.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use serde_json::{json, Value};

use apitap::capture::Reader;
use apitap::config::{Config, Mode, Overrides};
use apitap::http::transcript::{parse_options, parse_transcript, TranscriptBlock};
use apitap::http::Dir;
use apitap::synth::packet::{Frame, TcpFlags};
use apitap::synth::pcap::{PcapWriter, DEFAULT_SNAPLEN, LINKTYPE_ETHERNET};
use apitap::synth::rng::SplitMix64;
use apitap::synth::tcp::{Conversation, FrameStyle, Segment, Side};
use apitap::synth::EPOCH_US;

fn transcript_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/http")
}

/// A `Write` the test keeps a handle on.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs the pipeline in this process on one capture; returns every event.
fn run_pipeline(path: &Path, workers: usize, toml: Option<&str>) -> Vec<Value> {
    let mut cfg = Config::from_parts(
        Mode::Replay,
        Overrides {
            workers: Some(workers),
            stats_interval: Some("0".into()),
            sensor_name: Some("test".into()),
            ..Overrides::default()
        },
        toml.map(|t| ("transcript.toml", t)),
    )
    .expect("valid config");
    // A fixed redaction key, so that redaction tags compare across runs.
    let keys = tempfile::tempdir().expect("temp dir");
    let key = keys.path().join("redaction.key");
    std::fs::write(&key, b"apitap test redaction key 0123456789").expect("key file");
    cfg.redaction.key_file = Some(key);
    let reader = Reader::open_files(&[path.to_path_buf()], None).expect("capture opens");
    let (_keep, shutdown) = crossbeam_channel::bounded::<()>(1);
    let out = Shared::default();
    apitap::pipeline::run(&cfg, reader, shutdown, Box::new(out.clone())).expect("runs");
    let bytes = out.0.lock().expect("not poisoned").clone();
    String::from_utf8(bytes)
        .expect("UTF-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// A conversation's frames in the order they were built (mangled captures keep theirs).
fn write_pcap(conv: &Conversation, path: &Path) {
    write_frames(conv.frames(&FrameStyle::default()).expect("frames"), path);
}

/// Several conversations in one capture, their frames in time order.
fn write_pcap_of(convs: &[&Conversation], path: &Path) {
    let mut frames = Vec::new();
    for c in convs {
        frames.extend(c.frames(&FrameStyle::default()).expect("frames"));
    }
    frames.sort_by_key(|(ts, _)| *ts);
    write_frames(frames, path);
}

fn write_frames(frames: Vec<(u64, Frame)>, path: &Path) {
    let file = std::fs::File::create(path).expect("create pcap");
    let mut pw = PcapWriter::new(
        std::io::BufWriter::new(file),
        LINKTYPE_ETHERNET,
        DEFAULT_SNAPLEN,
    )
    .expect("pcap header");
    for (ts, frame) in frames {
        pw.write_frame(ts, &frame.to_bytes().expect("frame encodes"))
            .expect("write frame");
    }
    pw.into_inner().expect("flush").flush().expect("flush");
}

fn side(dir: Dir) -> Side {
    match dir {
        Dir::ToServer => Side::Client,
        Dir::ToClient => Side::Server,
    }
}

fn addrs() -> (SocketAddr, SocketAddr) {
    (
        "10.1.0.2:40000".parse().expect("addr"),
        "10.1.0.1:8080".parse().expect("addr"),
    )
}

/// The transcript as a conversation: handshake (unless `#! midstream`), each block sent by
/// its side, gap blocks sent and then removed from the capture, FIN exchange (unless
/// `#! no-close`).
fn conversation(text: &[u8]) -> Conversation {
    let blocks = parse_transcript(text).expect("transcript parses");
    let opts = parse_options(text).expect("options parse");
    let (client, server) = addrs();
    let mut conv = Conversation::new(client, server, 0x1000_0000, 0x9000_0000, EPOCH_US);
    if opts.midstream {
        conv.midstream();
    } else {
        conv.handshake();
    }
    let mut lost: Vec<std::ops::Range<usize>> = Vec::new();
    for (dir, block) in &blocks {
        match block {
            TranscriptBlock::Data(d) => {
                conv.send(side(*dir), d, &[]);
            }
            TranscriptBlock::Gap(n) => {
                let start = conv.segments().len();
                conv.send(side(*dir), &vec![b'-'; *n], &[]);
                lost.push(start..conv.segments().len());
            }
        }
    }
    if opts.close {
        conv.fin();
    }
    let mut i = 0;
    conv.segments_mut().retain(|s| {
        let keep = s.payload.is_empty() || !lost.iter().any(|r| r.contains(&i));
        i += 1;
        keep
    });
    conv
}

/// An `http` event in the shape of the transcript runner's summary.
fn summary(e: &Value) -> Value {
    let h = &e["http"];
    let mut m = serde_json::Map::new();
    for k in ["method", "path", "query", "host", "request_body_bytes"] {
        if !h[k].is_null() {
            m.insert(k.into(), h[k].clone());
        }
    }
    for k in ["status", "response_body_bytes"] {
        if !h[k].is_null() {
            m.insert(k.into(), h[k].clone());
        }
    }
    m.insert("complete".into(), h["complete"].clone());
    m.insert(
        "anomalies".into(),
        h.get("anomalies").cloned().unwrap_or_else(|| json!([])),
    );
    Value::Object(m)
}

/// The transcript's `#! config` directive as a TOML `[http]` section.
fn http_toml(text: &[u8]) -> Option<String> {
    let line = String::from_utf8_lossy(text)
        .lines()
        .find_map(|l| l.strip_prefix("#! config").map(str::to_owned))?;
    let cfg: serde_json::Map<String, Value> =
        serde_json::from_str(line.trim()).expect("config directive is a JSON object");
    let mut s = String::from("[http]\n");
    for (k, v) in cfg {
        s.push_str(&format!("{k} = {v}\n"));
    }
    Some(s)
}

#[test]
fn every_transcript_through_the_pipeline() {
    let dir = transcript_dir();
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("transcript dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "t"))
        .collect();
    names.sort();
    assert!(names.len() >= 60, "found only {} transcripts", names.len());
    let mut failures = Vec::new();
    for t in &names {
        let text = std::fs::read(t).expect("read transcript");
        let want: Value = serde_json::from_str(
            &std::fs::read_to_string(t.with_extension("json")).expect("expected json"),
        )
        .expect("expected JSON");
        let pcap = tmp
            .path()
            .join(t.file_name().expect("name"))
            .with_extension("pcap");
        write_pcap(&conversation(&text), &pcap);
        let toml = http_toml(&text);
        let events = run_pipeline(&pcap, 1, toml.as_deref());
        let got: Vec<Value> = events
            .iter()
            .filter(|e| e["event_type"] == "http")
            .map(summary)
            .collect();
        if Value::Array(got.clone()) != want {
            failures.push(format!(
                "{}:\n  want {}\n  got  {}",
                t.display(),
                want,
                Value::Array(got)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} transcripts differ through the pipeline:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------- proptest

/// Transcripts with several flights and bodies of each framing, for the reordering proptest.
const PROP_TRANSCRIPTS: &[&str] = &[
    "002-keepalive-3.t",
    "003-pipelining.t",
    "005-chunked-request.t",
    "006-chunked-response-ext-trailers.t",
    "007-gzip-response.t",
];

/// Sent with a small MSS and ACKs only at the end of each message, so every flight is a run
/// of one side's data segments that may be captured in any order.
fn small_segment_conversation(text: &[u8]) -> Conversation {
    let blocks = parse_transcript(text).expect("transcript parses");
    let (client, server) = addrs();
    let mut conv = Conversation::new(client, server, 0xffff_ff00, 0x7fff_fff0, EPOCH_US)
        .with_mss(7)
        .with_ack_every(usize::MAX);
    conv.handshake();
    for (dir, block) in &blocks {
        if let TranscriptBlock::Data(d) = block {
            conv.send(side(*dir), d, &[]);
        }
    }
    conv.fin();
    conv
}

/// Shuffles the data segments of every flight (maximal run of data segments from one side)
/// and inserts duplicates of some of them anywhere after their original, before the next
/// FIN. Timestamps stay with positions, so the capture stays in time order.
fn mangle(segs: &[Segment], seed: u64, dup_per_mille: u64) -> Vec<Segment> {
    let mut rng = SplitMix64::new(seed);
    let mut out: Vec<Segment> = Vec::with_capacity(segs.len() * 2);
    let mut i = 0;
    while i < segs.len() {
        let from = segs[i].from_client;
        let mut j = i;
        while j < segs.len() && !segs[j].payload.is_empty() && segs[j].from_client == from {
            j += 1;
        }
        if j == i {
            out.push(segs[i].clone());
            i += 1;
            continue;
        }
        let mut flight: Vec<Segment> = segs[i..j].to_vec();
        for k in (1..flight.len()).rev() {
            let r = rng.below(k as u64 + 1) as usize;
            flight.swap(k, r);
        }
        let stamps: Vec<u64> = segs[i..j].iter().map(|s| s.ts_us).collect();
        for (s, ts) in flight.iter_mut().zip(stamps) {
            s.ts_us = ts;
        }
        out.extend(flight);
        i = j;
    }
    // Duplicates: a copy of a data segment later in the capture, before the next FIN/RST.
    let mut k = 0;
    while k < out.len() {
        if !out[k].payload.is_empty() && rng.chance(dup_per_mille, 1000) {
            let limit = out[k + 1..]
                .iter()
                .position(|s| s.flags.contains(TcpFlags::FIN) || s.flags.contains(TcpFlags::RST))
                .map_or(out.len(), |q| k + 1 + q);
            let at = k + 1 + rng.below((limit - k) as u64) as usize;
            let mut copy = out[k].clone();
            copy.ts_us = out[at - 1].ts_us;
            out.insert(at, copy);
        }
        k += 1;
    }
    out
}

/// The events of one `event_type`, in order.
fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event_type"] == kind).collect()
}

/// The `http` events without the fields that depend on packet times.
fn timeless_http(events: &[Value]) -> Vec<Value> {
    events
        .iter()
        .filter(|e| e["event_type"] == "http")
        .map(|e| {
            let mut e = e.clone();
            let o = e.as_object_mut().expect("object");
            o.remove("timestamp");
            o.remove("event_id");
            if let Some(h) = o.get_mut("http").and_then(Value::as_object_mut) {
                h.remove("latency_us");
            }
            e
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any reordering of each flight's segments, plus duplicates, gives the same events as
    /// the capture in order.
    #[test]
    fn reordering_and_duplication_give_the_same_events(
        which in 0..PROP_TRANSCRIPTS.len(),
        seed in any::<u64>(),
        dup_per_mille in 0u64..400,
    ) {
        let text = std::fs::read(transcript_dir().join(PROP_TRANSCRIPTS[which])).expect("read");
        let conv = small_segment_conversation(&text);
        let tmp = tempfile::tempdir().expect("temp dir");
        let plain = tmp.path().join("plain.pcap");
        write_pcap(&conv, &plain);
        let want = timeless_http(&run_pipeline(&plain, 1, None));
        prop_assert!(!want.is_empty());

        let mut mangled = conv.clone();
        let segs = mangle(conv.segments(), seed, dup_per_mille);
        *mangled.segments_mut() = segs;
        let path = tmp.path().join("mangled.pcap");
        write_pcap(&mangled, &path);
        let got = timeless_http(&run_pipeline(&path, 1, None));
        prop_assert_eq!(got, want);
    }
}

// ------------------------------------------------------------------- closed connections

/// A connection closed by FIN both ways is finished at once (its buffers freed rather than
/// kept in the flow table for `tcp_closed_timeout`): its transactions, the one cut by the
/// close included, are written when it closes, and a segment of it seen afterwards (a late
/// retransmission) is counted on the flow without starting a new parse.
#[test]
fn a_closed_connection_is_finished_when_it_closes() {
    let server: SocketAddr = "10.1.0.1:8080".parse().expect("addr");
    let a_client: SocketAddr = "10.1.0.2:40000".parse().expect("addr");
    let b_client: SocketAddr = "10.1.0.3:40001".parse().expect("addr");
    let mut a = Conversation::new(a_client, server, 0x1000_0000, 0x9000_0000, EPOCH_US);
    a.handshake()
        .client(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        .server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        .client(b"GET /a/2 HTTP/1.1\r\nHost: x\r\n")
        .fin();
    // The first request again, 3 s later, after the other connection's traffic (a late
    // retransmission): it must not start a new parse that sees a second `/a`.
    let mut again = a
        .segments()
        .iter()
        .find(|s| s.from_client && !s.payload.is_empty())
        .expect("first request")
        .clone();
    again.ts_us = EPOCH_US + 3_000_000;
    a.segments_mut().push(again);
    let mut b = Conversation::new(
        b_client,
        server,
        0x2000_0000,
        0xa000_0000,
        EPOCH_US + 2_000_000,
    );
    b.handshake()
        .client(b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        .server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let tmp = tempfile::tempdir().expect("temp dir");
    let pcap = tmp.path().join("closed.pcap");
    write_pcap_of(&[&a, &b], &pcap);

    let events = run_pipeline(&pcap, 1, None);
    let http = of_type(&events, "http");
    let paths: Vec<&str> = http
        .iter()
        .filter_map(|e| e["http"]["path"].as_str())
        .collect();
    assert_eq!(
        paths,
        ["/a", "/a/2", "/b"],
        "A's transactions are written when A closes"
    );
    assert_eq!(http[0]["http"]["complete"], true);
    assert!(http[0]["http"].get("anomalies").is_none(), "{}", http[0]);
    // The request cut by the close: written at the close, not 10 s later.
    assert_eq!(http[1]["http"]["complete"], false, "{}", http[1]);
    let flows = of_type(&events, "flow");
    let a_flow = flows
        .iter()
        .find(|e| e["src_port"] == 40000)
        .expect("A's flow event");
    // Handshake 3, request + ACK 2, response + ACK 2, cut request + ACK 2, close 4, the
    // request again 1.
    let pkts = a_flow["flow"]["pkts_toserver"].as_u64().unwrap()
        + a_flow["flow"]["pkts_toclient"].as_u64().unwrap();
    assert_eq!(pkts, 14, "{a_flow}");
    assert_eq!(a_flow["flow"]["state"], "closed");
    let stats = events
        .iter()
        .rev()
        .find(|e| e["event_type"] == "stats")
        .expect("stats event");
    assert_eq!(
        stats["stats"]["http"]["transactions"], 3,
        "{}",
        stats["stats"]["http"]
    );
}

/// A client that reuses its port for a new connection a second after the last one closed
/// (well within `tcp_closed_timeout`): both connections' transactions are written, as two
/// flows.
#[test]
fn a_new_connection_on_reused_ports_is_parsed() {
    let server: SocketAddr = "10.1.0.1:8080".parse().expect("addr");
    let client: SocketAddr = "10.1.0.2:40000".parse().expect("addr");
    let mut a = Conversation::new(client, server, 0x1000_0000, 0x9000_0000, EPOCH_US);
    a.handshake()
        .client(b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n")
        .server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        .fin();
    let mut b = Conversation::new(
        client,
        server,
        0x5000_0000,
        0xd000_0000,
        a.now() + 1_000_000,
    );
    b.handshake()
        .client(b"GET /second HTTP/1.1\r\nHost: x\r\n\r\n")
        .server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        .fin();
    let tmp = tempfile::tempdir().expect("temp dir");
    let pcap = tmp.path().join("reused.pcap");
    write_pcap_of(&[&a, &b], &pcap);

    let events = run_pipeline(&pcap, 1, None);
    let http = of_type(&events, "http");
    let paths: Vec<&str> = http
        .iter()
        .filter_map(|e| e["http"]["path"].as_str())
        .collect();
    assert_eq!(paths, ["/first", "/second"]);
    assert!(
        http.iter().all(|e| e["http"]["complete"] == true),
        "{http:?}"
    );
    assert_ne!(http[0]["flow_id"], http[1]["flow_id"]);
    let flows = of_type(&events, "flow").len();
    assert_eq!(flows, 2);
}
