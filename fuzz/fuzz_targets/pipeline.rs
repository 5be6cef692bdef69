//! Any bytes as one HTTP/1.x exchange (request bytes, a `0xff` byte, response bytes) in a
//! TCP connection, replayed through the whole pipeline with every analyzer on (discovery,
//! sensitive data, authentication): it never panics, and it ends with one stats event.
#![no_main]
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use apitap::capture::Reader;
use apitap::config::{Config, Mode, Overrides};
use apitap::synth::pcap::{PcapWriter, DEFAULT_SNAPLEN, LINKTYPE_ETHERNET};
use apitap::synth::tcp::{Conversation, FrameStyle, Side};
use apitap::synth::EPOCH_US;
use libfuzzer_sys::fuzz_target;

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let (request, response) = match data.iter().position(|&b| b == 0xff) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let client: SocketAddr = "10.1.0.2:40000".parse().expect("addr");
    let server: SocketAddr = "10.1.0.1:8080".parse().expect("addr");
    let mut conv = Conversation::new(client, server, 0x1000_0000, 0x9000_0000, EPOCH_US);
    conv.handshake();
    conv.send(Side::Client, request, &[]);
    if !response.is_empty() {
        conv.send(Side::Server, response, &[]);
    }
    conv.fin();
    let Ok(frames) = conv.frames(&FrameStyle::default()) else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("x.pcap");
    {
        let file = std::fs::File::create(&pcap).expect("create");
        let mut pw = PcapWriter::new(std::io::BufWriter::new(file), LINKTYPE_ETHERNET, DEFAULT_SNAPLEN)
            .expect("header");
        for (ts, frame) in frames {
            let Ok(bytes) = frame.to_bytes() else { return };
            pw.write_frame(ts, &bytes).expect("frame");
        }
        pw.into_inner().expect("flush").flush().expect("flush");
    }
    let mut cfg = Config::from_parts(
        Mode::Replay,
        Overrides {
            workers: Some(1),
            stats_interval: Some("0".into()),
            sensor_name: Some("fuzz".into()),
            data_dir: Some(dir.path().join("state")),
            ..Overrides::default()
        },
        None,
    )
    .expect("config");
    let key = dir.path().join("redaction.key");
    std::fs::write(&key, b"apitap fuzz redaction key 0123456789").expect("key");
    cfg.redaction.key_file = Some(key);
    let reader = Reader::open_files(&[pcap], None).expect("capture opens");
    let (_keep, shutdown) = crossbeam_channel::bounded::<()>(1);
    let out = Shared::default();
    apitap::pipeline::run(&cfg, reader, shutdown, Box::new(out.clone())).expect("runs");
    let text = String::from_utf8(out.0.lock().expect("lock").clone()).expect("UTF-8 events");
    let stats = text.lines().filter(|l| l.contains("\"event_type\":\"stats\"")).count();
    assert_eq!(stats, 1, "{text}");
});
