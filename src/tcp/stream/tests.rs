use super::*;
use crate::decode::tcp_flags::ACK;
use proptest::prelude::*;

#[derive(Debug, Default, PartialEq, Eq, Clone)]
struct Collect {
    /// Data and gaps, with adjacent data merged.
    out: Vec<Piece>,
    overlaps: usize,
    closed: usize,
}

#[derive(Debug, PartialEq, Eq, Clone)]
enum Piece {
    Data(Vec<u8>),
    Gap(u64),
}

impl StreamSink for Collect {
    fn data(&mut self, bytes: &[u8]) {
        if let Some(Piece::Data(d)) = self.out.last_mut() {
            d.extend_from_slice(bytes);
        } else {
            self.out.push(Piece::Data(bytes.to_vec()));
        }
    }
    fn gap(&mut self, len: u64) {
        if let Some(Piece::Gap(g)) = self.out.last_mut() {
            *g += len;
        } else {
            self.out.push(Piece::Gap(len));
        }
    }
    fn overlap_different(&mut self) {
        self.overlaps += 1;
    }
    fn closed(&mut self) {
        self.closed += 1;
    }
}

struct Rig {
    cfg: ReassemblyConfig,
    s: HalfStream,
    b: Budget,
    c: TcpCounters,
    k: Collect,
}

impl Rig {
    fn new() -> Self {
        Self::with(ReassemblyConfig::default())
    }
    fn with(cfg: ReassemblyConfig) -> Self {
        Self {
            cfg,
            s: HalfStream::new(),
            b: Budget {
                used: 0,
                limit: usize::MAX,
            },
            c: TcpCounters::default(),
            k: Collect::default(),
        }
    }
    fn ctx(&mut self) -> (Ctx<'_>, &mut HalfStream, &mut Collect) {
        (
            Ctx {
                cfg: &self.cfg,
                budget: &mut self.b,
                c: &mut self.c,
            },
            &mut self.s,
            &mut self.k,
        )
    }
    fn seg(&mut self, seq: u32, flags: u8, data: &[u8]) -> Result<(), Refused> {
        let (mut x, s, k) = self.ctx();
        s.segment(&mut x, seq, flags, data, k)
    }
    fn ack(&mut self, ack: u32) {
        let (mut x, s, k) = self.ctx();
        s.acked(&mut x, ack, k);
    }
    fn flush(&mut self) {
        let (mut x, s, k) = self.ctx();
        s.flush(&mut x, k);
    }
    fn data(&self) -> Vec<u8> {
        let mut v = Vec::new();
        for p in &self.k.out {
            if let Piece::Data(d) = p {
                v.extend_from_slice(d);
            }
        }
        v
    }
}

const ISN: u32 = 1000;

#[test]
fn in_order_with_handshake() {
    let mut r = Rig::new();
    r.seg(ISN, SYN, b"").unwrap();
    r.seg(ISN + 1, ACK, b"hello ").unwrap();
    r.seg(ISN + 7, ACK | FIN, b"world").unwrap();
    assert_eq!(r.k.out, vec![Piece::Data(b"hello world".to_vec())]);
    assert_eq!(r.k.closed, 1);
    assert!(r.s.is_closed());
}

#[test]
fn out_of_order_is_held_then_delivered() {
    let mut r = Rig::new();
    r.seg(ISN, SYN, b"").unwrap();
    r.seg(ISN + 6, ACK, b"world").unwrap();
    assert!(r.k.out.is_empty());
    assert_eq!(r.s.ooo_bytes, 5);
    assert_eq!(r.b.used, 5);
    r.seg(ISN + 1, ACK, b"hello").unwrap();
    assert_eq!(r.data(), b"helloworld");
    assert_eq!(r.s.ooo_bytes, 0);
    assert_eq!(r.b.used, 0);
}

#[test]
fn retransmission_is_counted_not_delivered_twice() {
    let mut r = Rig::new();
    r.seg(ISN, SYN, b"").unwrap();
    r.seg(ISN + 1, ACK, b"abc").unwrap();
    r.seg(ISN + 1, ACK, b"abc").unwrap();
    r.seg(ISN + 2, ACK, b"bcdef").unwrap();
    assert_eq!(r.data(), b"abcdef");
    assert_eq!(r.c.retransmitted_bytes, 3 + 2);
    assert_eq!(r.k.overlaps, 0);
}

#[test]
fn overlap_with_different_bytes_first_wins_and_is_reported() {
    let mut r = Rig::new();
    r.seg(ISN, SYN, b"").unwrap();
    r.seg(ISN + 4, ACK, b"DEF").unwrap(); // held out of order
    r.seg(ISN + 1, ACK, b"abcXYZg").unwrap(); // overlaps DEF with XYZ
    assert_eq!(r.data(), b"abcDEFg");
    assert_eq!(r.k.overlaps, 1);
    assert_eq!(r.c.overlap_different, 1);
}

#[test]
fn overlap_between_held_segments() {
    let mut r = Rig::new();
    r.seg(ISN, SYN, b"").unwrap();
    r.seg(ISN + 5, ACK, b"efgh").unwrap();
    r.seg(ISN + 3, ACK, b"cdEFgh").unwrap(); // different bytes over "ef"
    assert_eq!(r.k.overlaps, 1);
    r.seg(ISN + 1, ACK, b"ab").unwrap();
    assert_eq!(r.data(), b"abcdefgh");
}

#[test]
fn sequence_wraps_around() {
    let mut r = Rig::new();
    let isn = u32::MAX - 3;
    r.seg(isn, SYN, b"").unwrap();
    r.seg(isn.wrapping_add(1), ACK, b"abc").unwrap();
    r.seg(isn.wrapping_add(4), ACK, b"def").unwrap(); // crosses 2^32
    r.seg(isn.wrapping_add(7), ACK, b"ghi").unwrap();
    assert_eq!(r.data(), b"abcdefghi");
}

#[test]
fn midstream_starts_at_first_data() {
    let mut r = Rig::new();
    r.seg(5_000_000, ACK, b"middle").unwrap();
    r.seg(5_000_006, ACK, b" end").unwrap();
    assert_eq!(r.data(), b"middle end");
}

#[test]
fn ack_past_a_hole_declares_a_gap() {
    let mut r = Rig::new();
    r.seg(ISN, SYN, b"").unwrap();
    r.seg(ISN + 1, ACK, b"abc").unwrap();
    // "def" lost by the capture; "ghi" arrives; the receiver acks all of it.
    r.seg(ISN + 7, ACK, b"ghi").unwrap();
    r.ack(ISN + 10);
    assert_eq!(
        r.k.out,
        vec![
            Piece::Data(b"abc".to_vec()),
            Piece::Gap(3),
            Piece::Data(b"ghi".to_vec())
        ]
    );
    assert_eq!(r.c.gaps, 1);
    assert_eq!(r.c.gap_bytes, 3);
}

#[test]
fn ack_without_evidence_of_loss_waits() {
    // Capture order can put an ACK before the data it acknowledges.
    let mut r = Rig::new();
    r.seg(ISN, SYN, b"").unwrap();
    r.ack(ISN + 4);
    r.seg(ISN + 1, ACK, b"abc").unwrap();
    assert_eq!(r.k.out, vec![Piece::Data(b"abc".to_vec())]);
}

#[test]
fn flush_turns_holes_into_gaps() {
    let mut r = Rig::new();
    r.seg(ISN, SYN, b"").unwrap();
    r.seg(ISN + 1, ACK, b"ab").unwrap();
    r.seg(ISN + 5, ACK, b"ef").unwrap();
    r.seg(ISN + 9, ACK | FIN, b"ij").unwrap();
    r.flush();
    assert_eq!(
        r.k.out,
        vec![
            Piece::Data(b"ab".to_vec()),
            Piece::Gap(2),
            Piece::Data(b"ef".to_vec()),
            Piece::Gap(2),
            Piece::Data(b"ij".to_vec())
        ]
    );
    assert!(r.s.is_closed());
    assert_eq!(r.b.used, 0);
}

#[test]
fn refused_segment_leaves_state_unchanged() {
    let cfg = ReassemblyConfig {
        max_ooo_segments: 2,
        max_ooo_bytes: 100,
        ..ReassemblyConfig::default()
    };
    let mut r = Rig::with(cfg);
    r.seg(ISN, SYN, b"").unwrap();
    r.seg(ISN + 11, ACK, b"k").unwrap();
    r.seg(ISN + 21, ACK, b"u").unwrap();
    let before = (r.s.ooo.clone(), r.s.ooo_bytes, r.s.next, r.b);
    assert_eq!(r.seg(ISN + 31, ACK, b"E"), Err(Refused::TooManySegments));
    assert_eq!((r.s.ooo.clone(), r.s.ooo_bytes, r.s.next, r.b), before);
    assert_eq!(r.c.refused_segments, 1);
    // The in-order segment is always accepted, even with every buffer full.
    r.seg(ISN + 1, ACK, b"0123456789").unwrap();
    assert_eq!(r.data(), b"0123456789k");

    // Bytes limit and the worker budget, each leaving the state as it was.
    let cfg = ReassemblyConfig {
        max_ooo_bytes: 100,
        ..ReassemblyConfig::default()
    };
    let mut r = Rig::with(cfg);
    r.seg(ISN, SYN, b"").unwrap();
    r.seg(ISN + 11, ACK, b"k").unwrap();
    let before = (r.s.ooo.clone(), r.s.ooo_bytes, r.s.next, r.b);
    assert_eq!(r.seg(ISN + 40, ACK, &[0; 200]), Err(Refused::TooManyBytes));
    assert_eq!((r.s.ooo.clone(), r.s.ooo_bytes, r.s.next, r.b), before);
    r.b.limit = 2;
    assert_eq!(r.seg(ISN + 40, ACK, b"xy"), Err(Refused::Memcap));
    assert_eq!(r.s.ooo, before.0);
    assert_eq!(r.c.refused_bytes, 1);
    assert_eq!(r.c.refused_memcap, 1);
}

#[test]
fn refusal_then_ack_declares_the_loss() {
    let cfg = ReassemblyConfig {
        max_ooo_segments: 0,
        ..ReassemblyConfig::default()
    };
    let mut r = Rig::with(cfg);
    r.seg(ISN, SYN, b"").unwrap();
    r.seg(ISN + 1, ACK, b"ab").unwrap();
    assert!(r.seg(ISN + 5, ACK, b"ef").is_err());
    r.ack(ISN + 7);
    assert_eq!(r.k.out, vec![Piece::Data(b"ab".to_vec()), Piece::Gap(4)]);
}

#[test]
fn depth_limits_delivery_and_counts_once() {
    let cfg = ReassemblyConfig {
        depth: 5,
        ..ReassemblyConfig::default()
    };
    let mut r = Rig::with(cfg);
    r.seg(ISN, SYN, b"").unwrap();
    r.seg(ISN + 1, ACK, b"abc").unwrap();
    r.seg(ISN + 4, ACK, b"defg").unwrap();
    r.seg(ISN + 8, ACK, b"hij").unwrap();
    assert_eq!(r.data(), b"abcde");
    assert_eq!(r.c.depth_reached, 1);
}

#[test]
fn out_of_window_and_data_after_close() {
    let mut r = Rig::new();
    r.seg(ISN, SYN, b"").unwrap();
    r.seg(ISN.wrapping_add(0x7000_0000), ACK, b"far").unwrap();
    assert_eq!(r.c.out_of_window, 1);
    r.seg(ISN + 1, ACK | FIN, b"x").unwrap();
    r.seg(ISN + 2, ACK, b"late").unwrap();
    assert_eq!(r.c.data_after_close, 1);
    assert_eq!(r.data(), b"x");
}

#[test]
fn data_on_syn_is_delivered() {
    let mut r = Rig::new();
    r.seg(ISN, SYN, b"tfo").unwrap();
    r.seg(ISN + 4, ACK, b"!").unwrap();
    assert_eq!(r.data(), b"tfo!");
}

#[test]
fn segment_starting_before_the_stream_is_trimmed() {
    let mut r = Rig::new();
    r.seg(ISN, SYN, b"").unwrap();
    // Starts one byte before offset 0 (e.g. a bogus retransmission covering the SYN).
    r.seg(ISN, ACK, b"Xabc").unwrap();
    assert_eq!(r.data(), b"abc");
}

fn split(data: &[u8], cuts: &[usize]) -> Vec<(u32, Vec<u8>)> {
    let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    bounds.push(0);
    bounds.push(data.len());
    bounds.sort_unstable();
    bounds.dedup();
    bounds
        .windows(2)
        .map(|w| {
            (
                (ISN + 1).wrapping_add(w[0] as u32),
                data[w[0]..w[1]].to_vec(),
            )
        })
        .collect()
}

proptest! {
    /// Any reordering and duplication of the segments gives the same stream.
    #[test]
    fn reorder_and_duplicate_give_the_same_stream(
        data in proptest::collection::vec(any::<u8>(), 1..400),
        cuts in proptest::collection::vec(any::<usize>(), 0..30),
        order in proptest::collection::vec(any::<usize>(), 0..80),
        isn in any::<u32>(),
    ) {
        let segs = split(&data, &cuts);
        let mut r = Rig::new();
        r.seg(isn, SYN, b"").unwrap();
        let shift = isn.wrapping_sub(ISN);
        // Random order with duplicates, then every segment once more so none is missing.
        let mut plan: Vec<usize> = order.iter().map(|o| o % segs.len()).collect();
        plan.extend(0..segs.len());
        for i in plan {
            let (seq, bytes) = &segs[i];
            r.seg(seq.wrapping_add(shift), ACK, bytes).unwrap();
        }
        prop_assert_eq!(r.data(), data);
        prop_assert_eq!(r.k.overlaps, 0);
        prop_assert_eq!(r.s.ooo_bytes, 0);
        prop_assert_eq!(r.b.used, 0);
    }

    /// Against a plainly correct model: with segments dropped and the rest in any order,
    /// the flushed stream is the received bytes in place with gaps for the holes.
    #[test]
    fn drops_become_gaps_like_a_bitmap_model(
        data in proptest::collection::vec(any::<u8>(), 1..300),
        cuts in proptest::collection::vec(any::<usize>(), 1..20),
        drop_mask in any::<u32>(),
        order in proptest::collection::vec(any::<usize>(), 0..40),
    ) {
        let segs = split(&data, &cuts);
        let mut r = Rig::new();
        r.seg(ISN, SYN, b"").unwrap();
        let mut have = vec![false; data.len()];
        let kept: Vec<usize> = (0..segs.len()).filter(|i| drop_mask & (1 << (i % 32)) == 0).collect();
        let mut plan: Vec<usize> = order.iter().filter_map(|o| kept.get(o % kept.len().max(1)).copied()).collect();
        plan.extend(kept.iter().copied());
        for i in plan {
            let (seq, bytes) = &segs[i];
            r.seg(*seq, ACK, bytes).unwrap();
            let start = seq.wrapping_sub(ISN + 1) as usize;
            for h in have.iter_mut().skip(start).take(bytes.len()) {
                *h = true;
            }
        }
        r.flush();
        // The model: runs of received bytes and holes, up to the last received byte.
        let last = have.iter().rposition(|h| *h).map_or(0, |p| p + 1);
        let mut want: Vec<Piece> = Vec::new();
        for (i, h) in have.iter().take(last).enumerate() {
            match (h, want.last_mut()) {
                (true, Some(Piece::Data(d))) => d.push(data[i]),
                (true, _) => want.push(Piece::Data(vec![data[i]])),
                (false, Some(Piece::Gap(g))) => *g += 1,
                (false, _) => want.push(Piece::Gap(1)),
            }
        }
        prop_assert_eq!(r.k.out, want);
        prop_assert_eq!(r.b.used, 0);
    }
}

#[test]
fn retransmission_with_different_bytes_over_delivered_data_is_reported() {
    let mut r = Rig::new();
    r.seg(ISN, SYN, b"").unwrap();
    r.seg(ISN + 1, ACK, b"GET /a HTTP/1.1\r\n").unwrap();
    // Same bytes again: a plain retransmission.
    r.seg(ISN + 1, ACK, b"GET /a").unwrap();
    assert_eq!(r.k.overlaps, 0);
    // Different bytes over delivered data, plus new data: first wins, reported.
    r.seg(ISN + 5, ACK, b"/b HTTP/1.1\r\nHost: x\r\n").unwrap();
    assert_eq!(r.k.overlaps, 1);
    assert_eq!(r.data(), b"GET /a HTTP/1.1\r\nHost: x\r\n");
}

#[test]
fn the_window_wraps_and_forgets_old_bytes() {
    let cfg = ReassemblyConfig {
        overlap_window: 8,
        ..ReassemblyConfig::default()
    };
    let mut r = Rig::with(cfg);
    r.seg(ISN, SYN, b"").unwrap();
    r.seg(ISN + 1, ACK, b"0123456789").unwrap();
    r.seg(ISN + 11, ACK, b"abcdef").unwrap();
    // Window now holds "89abcdef": a same-bytes retransmission across the wrap is fine.
    r.seg(ISN + 9, ACK, b"89abc").unwrap();
    assert_eq!(r.k.overlaps, 0);
    r.seg(ISN + 13, ACK, b"cXe").unwrap();
    assert_eq!(r.k.overlaps, 1);
    // Bytes older than the window cannot be checked and are not reported.
    r.seg(ISN + 1, ACK, b"QQQQ").unwrap();
    assert_eq!(r.k.overlaps, 1);
}

/// Found by the `reassembly` fuzz target: data buffered beyond the FIN was never given
/// back to the worker's budget once the stream closed.
#[test]
fn data_beyond_the_fin_is_released_when_the_stream_closes() {
    let mut r = Rig::new();
    r.seg(ISN, SYN, b"").unwrap();
    r.seg(ISN + 10, ACK, b"zzz").unwrap(); // beyond the FIN below
    r.seg(ISN + 1, ACK | FIN, b"ab").unwrap();
    assert!(r.s.is_closed());
    assert_eq!(r.b.used, 0);
    assert_eq!(r.s.ooo_bytes, 0);
    r.flush();
    assert_eq!(r.b.used, 0);
}

proptest! {
    /// The retransmission ring grows from `RING_MIN` up to the window and, through every
    /// growth and wrap, holds exactly the last `window` delivered bytes.
    #[test]
    fn the_ring_holds_the_last_window_bytes(
        window in prop_oneof![1usize..16, 200usize..300, Just(1000usize), Just(4096usize)],
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..700), 0..24),
    ) {
        let mut s = HalfStream::new();
        let mut all: Vec<u8> = Vec::new();
        for c in &chunks {
            s.next += c.len() as u64;
            s.remember(window, c);
            all.extend_from_slice(c);
            prop_assert!(s.recent.len() <= window);
            let held = all.len().min(window);
            prop_assert_eq!(s.recent_len, held);
            let first = (all.len() - held) as u64;
            // Each held byte compares equal to itself and differs from anything else.
            for (at, &b) in all.iter().enumerate().skip(first as usize) {
                prop_assert!(!s.differs_from_delivered(at as u64, &[b]));
                prop_assert!(s.differs_from_delivered(at as u64, &[b ^ 1]));
            }
            // Older bytes are unknown and count as equal.
            if first > 0 {
                prop_assert!(!s.differs_from_delivered(first - 1, &[0x55]));
            }
        }
    }
}
