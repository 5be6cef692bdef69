//! Any bytes as the two directions of an HTTP flow, cut at arbitrary points, with gaps:
//! the parser never panics, and every transaction it hands over respects the caps.
#![no_main]
use apitap::http::{Chunk, Dir, HttpConfig, HttpFlow};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let cfg = HttpConfig {
        max_header_bytes: 512,
        max_headers: 16,
        body_inspect_bytes: 1024,
        max_tx: 8,
        resync_limit: 2048,
    };
    let mut flow = HttpFlow::new(&cfg, mode & 1 == 1);
    let mut out = Vec::new();
    // Each piece: a control byte (direction, gap or data, close) and a length.
    let mut input = rest;
    let mut ts = 0;
    while input.len() >= 2 {
        let ctl = input[0];
        let len = usize::from(input[1]).min(input.len() - 2);
        let piece = &input[2..2 + len];
        input = &input[2 + len..];
        ts += 10;
        let dir = if ctl & 1 == 0 { Dir::ToServer } else { Dir::ToClient };
        match ctl >> 6 {
            0 | 1 => flow.feed(dir, Chunk::Data(piece), ts),
            2 => flow.feed(dir, Chunk::Gap(len as u64 + 1), ts),
            _ => flow.close(dir, ts),
        }
        flow.drain_ready(&mut out);
        assert!(flow.buffered_bytes() <= 64 * 1024);
    }
    flow.finish(ts, &mut out);
    for tx in &out {
        for b in [tx.request.as_ref().map(|r| &r.body), tx.response.as_ref().map(|r| &r.body)]
            .into_iter()
            .flatten()
        {
            assert!(b.data.len() <= cfg.body_inspect_bytes);
        }
    }
});
