//! Any sequence of segments (sequence numbers, flags, payloads, ACKs) through one direction's
//! reassembler with small limits: no panic, buffers within their bounds, budget consistent.
#![no_main]
use apitap::tcp::{Budget, Ctx, HalfStream, ReassemblyConfig, StreamSink, TcpCounters};
use libfuzzer_sys::fuzz_target;

#[derive(Default)]
struct Count {
    bytes: u64,
    gaps: u64,
}

impl StreamSink for Count {
    fn data(&mut self, b: &[u8]) {
        self.bytes += b.len() as u64;
    }
    fn gap(&mut self, len: u64) {
        self.gaps += len;
    }
    fn overlap_different(&mut self) {}
    fn closed(&mut self) {}
}

fuzz_target!(|data: &[u8]| {
    let cfg = ReassemblyConfig {
        max_ooo_segments: 8,
        max_ooo_bytes: 512,
        depth: 0,
        memcap: 1024,
        overlap_window: 64,
    };
    let mut budget = Budget { used: 0, limit: 768 };
    let mut c = TcpCounters::default();
    let mut s = HalfStream::new();
    let mut sink = Count::default();
    // Each op: kind, 4-byte seq delta, flags, length; payload bytes follow.
    let base = 0xffff_ff00u32;
    let mut input = data;
    while input.len() >= 7 {
        let kind = input[0];
        let seq = base.wrapping_add(u32::from_le_bytes([input[1], input[2], input[3], input[4]]) % 4096);
        let flags = input[5];
        let len = usize::from(input[6]).min(input.len() - 7);
        let payload = &input[7..7 + len];
        input = &input[7 + len..];
        let mut x = Ctx { cfg: &cfg, budget: &mut budget, c: &mut c };
        if kind % 5 == 0 {
            s.acked(&mut x, seq, &mut sink);
        } else {
            let _ = s.segment(&mut x, seq, flags, payload, &mut sink);
        }
        assert!(s.buffered() <= cfg.max_ooo_bytes + cfg.overlap_window);
        assert!(budget.used <= s.buffered());
    }
    let mut x = Ctx { cfg: &cfg, budget: &mut budget, c: &mut c };
    s.flush(&mut x, &mut sink);
    assert_eq!(budget.used, 0);
    assert_eq!(sink.bytes + sink.gaps, s.next_offset());
});
