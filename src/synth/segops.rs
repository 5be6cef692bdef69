//! Segment manipulation: seeded, composable operations on the
//! `Vec<Segment>` of a built [`Conversation`](super::tcp::Conversation),
//! applied before frames are built.
//!
//! Every operation takes the segments in *capture order* (the order they
//! will be written) and returns the new list. Each says what the receiver's
//! reassembled byte stream is afterwards, which is what a sensor must
//! reconstruct ([`reassemble`] computes it: first data seen wins, holes are
//! gaps):
//!
//! | operation | expected reassembled stream |
//! |---|---|
//! | [`resegment`] | identical (same bytes, more segments) |
//! | [`reorder`] | identical (only the capture order changes) |
//! | [`duplicate`] | identical (exact copies of data already sent) |
//! | [`overlap`] with [`Overlap::Same`] | identical |
//! | [`overlap`] with [`Overlap::Different`] / [`Overlap::Replace`] | identical to the original by *first wins*: the overlapping bytes were already received, the different copy is an evasion attempt and must be discarded (and flagged) |
//! | [`drop_segments`] | the original with a hole of known length per dropped segment ([`Gap`]); the peer's ACKs still cover the missing bytes |
//! | [`start_capture_at`] | the suffix of each direction from the first kept segment on (capture started mid-stream) |
//!
//! Guarantees:
//! - Deterministic: output depends only on the input and the
//!   [`SplitMix64`] state passed in (each operation draws a fixed number of
//!   values per candidate segment, whatever the outcome).
//! - Capture timestamps stay strictly increasing: operations that move
//!   segments move their *contents* between positions and leave each
//!   position's timestamp in place; operations that add segments stamp them
//!   after their neighbour and push later timestamps forward by at least
//!   1 µs where needed.
//! - Sequence arithmetic is modulo 2^32.
//! - Bad arguments (zero sizes, a window below 2, a selection that matches
//!   nothing) are [`SynthError::InvalidArgument`]; nothing panics.
//!
//! Composition: apply [`resegment`] first, then [`reorder`], then
//! [`duplicate`] / [`overlap`], and [`drop_segments`] last (drops select by
//! stream offset, so they do not depend on positions; [`reorder`] lowers
//! ACKs to what was contiguously seen, which would hide a hole made before
//! it).

use super::packet::TcpFlags;
use super::rng::SplitMix64;
use super::tcp::{Segment, Side};
use super::SynthError;

/// Which data segments (payload > 0) an operation applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Select {
    /// Each data segment independently, with probability `num / den`
    /// (one draw per data segment, in capture order).
    Random {
        /// Numerator.
        num: u64,
        /// Denominator.
        den: u64,
    },
    /// The first data segment (capture order) sent by `side` that carries
    /// stream byte `offset` (0 = the first byte after the SYN, or the
    /// lowest sequence number seen when there is no SYN).
    Byte {
        /// Sender.
        side: Side,
        /// Stream offset.
        offset: u64,
    },
    /// The `n`-th (0-based, capture order) data segment sent by `side`.
    Nth {
        /// Sender.
        side: Side,
        /// Index among that side's data segments.
        n: usize,
    },
}

/// Bytes lost by [`drop_segments`] in one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Gap {
    /// Sender of the lost bytes.
    #[serde(serialize_with = "ser_side")]
    pub side: Side,
    /// Stream offset of the first lost byte.
    pub offset: u64,
    /// Number of lost bytes.
    pub len: u64,
}

fn ser_side<S: serde::Serializer>(side: &Side, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match side {
        Side::Client => "client",
        Side::Server => "server",
    })
}

/// What an overlapping retransmission carries in the overlapped range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlap {
    /// The same bytes as the earlier segment, over a random length in
    /// `1..=max_len` (capped at the earlier segment's length).
    Same {
        /// Longest overlap.
        max_len: usize,
    },
    /// Every overlapped byte changed, random length in `1..=max_len`.
    Different {
        /// Longest overlap.
        max_len: usize,
    },
    /// Exactly these bytes re-sent over the tail of the earlier segment
    /// (their length is the overlap; at least one must differ from the
    /// original for this to be an evasion attempt).
    Replace {
        /// Bytes sent again in the overlapped range.
        bytes: Vec<u8>,
    },
}

/// One direction's stream as a receiver that keeps the first copy of every
/// byte reconstructs it from the segments in capture order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reassembled {
    /// Stream bytes; bytes inside a gap are zero.
    pub data: Vec<u8>,
    /// `(offset, len)` of every hole, in order (including a hole at the
    /// end that the peer acknowledged or a FIN closed).
    pub gaps: Vec<(u64, u64)>,
    /// Stream offsets where a later copy carried a *different* byte than
    /// the one kept (first offset of each conflicting segment).
    pub conflicts: Vec<u64>,
}

fn side_of(s: &Segment) -> Side {
    if s.from_client {
        Side::Client
    } else {
        Side::Server
    }
}

fn is_data(s: &Segment) -> bool {
    !s.payload.is_empty()
}

/// `a - b` as a signed distance modulo 2^32.
fn diff(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

/// Sequence number of stream offset 0 for `side`: the SYN's sequence + 1,
/// or (no SYN, mid-stream) the lowest sequence number the side sent.
pub fn stream_base(segs: &[Segment], side: Side) -> Option<u32> {
    let mine = || segs.iter().filter(move |s| side_of(s) == side);
    if let Some(syn) = mine().find(|s| s.flags.contains(TcpFlags::SYN)) {
        return Some(syn.seq.wrapping_add(1));
    }
    let mut base = mine().next()?.seq;
    for s in mine() {
        if diff(s.seq, base) < 0 {
            base = s.seq;
        }
    }
    Some(base)
}

fn offset_of(seg: &Segment, base: u32) -> u64 {
    u64::from(seg.seq.wrapping_sub(base))
}

/// Positions selected by `select`, in capture order.
fn resolve(
    segs: &[Segment],
    select: &Select,
    rng: &mut SplitMix64,
) -> Result<Vec<usize>, SynthError> {
    match select {
        Select::Random { num, den } => {
            let mut v = Vec::new();
            for (i, s) in segs.iter().enumerate() {
                if is_data(s) && rng.chance(*num, *den) {
                    v.push(i);
                }
            }
            Ok(v)
        }
        Select::Byte { side, offset } => {
            let base = stream_base(segs, *side)
                .ok_or_else(|| SynthError::arg("selection: side sent nothing"))?;
            segs.iter()
                .position(|s| {
                    let o = offset_of(s, base);
                    side_of(s) == *side
                        && is_data(s)
                        && o <= *offset
                        && *offset < o + s.payload.len() as u64
                })
                .map(|p| vec![p])
                .ok_or_else(|| SynthError::arg(format!("no segment carries byte {offset}")))
        }
        Select::Nth { side, n } => segs
            .iter()
            .enumerate()
            .filter(|(_, s)| side_of(s) == *side && is_data(s))
            .nth(*n)
            .map(|(p, _)| vec![p])
            .ok_or_else(|| SynthError::arg(format!("no data segment #{n}"))),
    }
}

/// Makes timestamps strictly increasing in capture order (each at least
/// 1 µs after the previous one).
fn make_increasing(segs: &mut [Segment]) {
    let mut prev: Option<u64> = None;
    for s in segs.iter_mut() {
        if let Some(p) = prev {
            if s.ts_us <= p {
                s.ts_us = p.saturating_add(1);
            }
        }
        prev = Some(s.ts_us);
    }
}

/// Renumbers IPv4 identifications per sender in capture order, starting at
/// each sender's first identification (used after segments were added).
fn renumber_ip_ids(segs: &mut [Segment]) {
    let mut next: [Option<u16>; 2] = [None, None];
    for s in segs.iter_mut() {
        let k = usize::from(s.from_client);
        let id = next[k].unwrap_or(s.ip_id);
        s.ip_id = id;
        next[k] = Some(id.wrapping_add(1));
    }
}

/// Splits every data segment into pieces of random size in `1..=max_size`
/// (a quarter of the pieces are a single byte). Pieces keep the segment's
/// ACK number; only the last keeps PSH. Existing segment boundaries stay
/// boundaries (so a message end is still a segment end).
///
/// Expected stream: identical.
pub fn resegment(
    segs: Vec<Segment>,
    rng: &mut SplitMix64,
    max_size: usize,
) -> Result<Vec<Segment>, SynthError> {
    if max_size == 0 {
        return Err(SynthError::arg("resegment: max_size must be > 0"));
    }
    let mut out = Vec::with_capacity(segs.len() * 2);
    for s in segs {
        if s.payload.len() <= 1 {
            out.push(s);
            continue;
        }
        let mut off = 0usize;
        let mut k = 0u64;
        while off < s.payload.len() {
            let left = s.payload.len() - off;
            let want = if rng.chance(1, 4) {
                1
            } else {
                rng.range(1, max_size as u64) as usize
            };
            let n = want.min(left);
            let last = off + n == s.payload.len();
            let mut flags = s.flags;
            if !last && flags.contains(TcpFlags::PSH) {
                flags = TcpFlags(flags.0 & !TcpFlags::PSH.0);
            }
            out.push(Segment {
                ts_us: s.ts_us.saturating_add(k),
                seq: s.seq.wrapping_add(off as u32),
                flags,
                payload: s.payload[off..off + n].to_vec(),
                ..s.clone()
            });
            off += n;
            k += 1;
        }
    }
    make_increasing(&mut out);
    renumber_ip_ids(&mut out);
    Ok(out)
}

/// Reorders data segments in capture order: within each *flight* (a run
/// of positions where only one side sends data, bounded by SYN/FIN/RST and
/// by the other side's data), that side's data segments are grouped in
/// windows of `window` consecutive ones and each window is shuffled (a
/// shuffle that changed nothing is rotated by one). Contents move between
/// positions; each position keeps its timestamp, so capture timestamps
/// stay increasing while capture order differs from sequence order. The
/// receiver's pure ACKs inside a reordered flight are lowered to what it
/// had received contiguously at that point (duplicate ACKs), so no ACK
/// covers data not yet captured.
///
/// Expected stream: identical.
pub fn reorder(
    mut segs: Vec<Segment>,
    rng: &mut SplitMix64,
    window: usize,
) -> Result<Vec<Segment>, SynthError> {
    if window < 2 {
        return Err(SynthError::arg("reorder: window must be >= 2"));
    }
    // Flights: maximal runs of positions without SYN/FIN/RST in which
    // data comes from one side only.
    let mut flights: Vec<(Side, Vec<usize>, usize, usize)> = Vec::new();
    let mut cur: Option<(Side, Vec<usize>, usize)> = None;
    for (i, s) in segs.iter().enumerate() {
        let control = s.flags.contains(TcpFlags::SYN)
            || s.flags.contains(TcpFlags::FIN)
            || s.flags.contains(TcpFlags::RST);
        let breaks = control || (is_data(s) && cur.as_ref().is_some_and(|c| c.0 != side_of(s)));
        if breaks {
            if let Some((side, pos, start)) = cur.take() {
                flights.push((side, pos, start, i));
            }
        }
        if is_data(s) && !control {
            match &mut cur {
                Some(c) => c.1.push(i),
                None => cur = Some((side_of(s), vec![i], i)),
            }
        }
    }
    if let Some((side, pos, start)) = cur.take() {
        flights.push((side, pos, start, segs.len()));
    }
    for (side, pos, start, end) in flights {
        if pos.len() < 2 {
            continue;
        }
        let mut moved = false;
        for w in pos.chunks(window) {
            if w.len() < 2 {
                continue;
            }
            let mut order: Vec<usize> = (0..w.len()).collect();
            rng.shuffle(&mut order);
            if order.iter().enumerate().all(|(a, b)| a == *b) {
                order.rotate_left(1);
            }
            let contents: Vec<Segment> = w.iter().map(|&p| segs[p].clone()).collect();
            for (slot, &src) in w.iter().zip(&order) {
                let ts = segs[*slot].ts_us;
                segs[*slot] = Segment {
                    ts_us: ts,
                    ..contents[src].clone()
                };
            }
            moved = true;
        }
        if moved {
            lower_acks(&mut segs[start..end], side);
        }
    }
    Ok(segs)
}

/// Within one flight, lowers the peer's ACKs to the contiguous data of
/// `side` seen so far (never raises an ACK).
fn lower_acks(flight: &mut [Segment], side: Side) {
    let Some(first) = flight
        .iter()
        .filter(|s| side_of(s) == side && is_data(s))
        .map(|s| s.seq)
        .reduce(|a, b| if diff(b, a) < 0 { b } else { a })
    else {
        return;
    };
    let mut have: Vec<(u32, u32)> = Vec::new();
    let mut contiguous = first;
    for s in flight.iter_mut() {
        if side_of(s) == side {
            if is_data(s) {
                have.push((s.seq, s.seq.wrapping_add(s.payload.len() as u32)));
                let mut grew = true;
                while grew {
                    grew = false;
                    for &(a, b) in &have {
                        if diff(a, contiguous) <= 0 && diff(b, contiguous) > 0 {
                            contiguous = b;
                            grew = true;
                        }
                    }
                }
            }
        } else if s.flags.contains(TcpFlags::ACK) && diff(s.ack, contiguous) > 0 {
            s.ack = contiguous;
        }
    }
}

/// Inserts an exact copy (same sequence, ACK, flags, payload) of each
/// selected data segment 1 to 3 positions after it, but before any
/// FIN/RST that follows (a retransmission of data already sent). The copy
/// gets a fresh IPv4 identification like a real retransmission.
///
/// Expected stream: identical.
pub fn duplicate(
    segs: Vec<Segment>,
    rng: &mut SplitMix64,
    select: &Select,
) -> Result<Vec<Segment>, SynthError> {
    let picks = resolve(&segs, select, rng)?;
    let mut inserts: Vec<(usize, Segment)> = Vec::with_capacity(picks.len());
    for p in picks {
        let mut at = p + 1 + rng.below(3) as usize;
        let limit = segs[p + 1..]
            .iter()
            .position(|s| s.flags.contains(TcpFlags::FIN) || s.flags.contains(TcpFlags::RST))
            .map_or(segs.len(), |q| p + 1 + q);
        at = at.min(limit);
        inserts.push((at, segs[p].clone()));
    }
    // Insert from the back so earlier positions stay valid; equal
    // positions keep selection order.
    let mut out = segs;
    inserts.sort_by_key(|(at, _)| *at);
    for (at, copy) in inserts.into_iter().rev() {
        let ts = if at > 0 { out[at - 1].ts_us + 1 } else { 0 };
        out.insert(at, Segment { ts_us: ts, ..copy });
    }
    make_increasing(&mut out);
    renumber_ip_ids(&mut out);
    Ok(out)
}

/// Changes every byte (letters stay letters, digits stay digits).
fn mutate(b: u8) -> u8 {
    match b {
        b'a'..=b'y' | b'A'..=b'Y' | b'0'..=b'8' => b + 1,
        b'z' => b'a',
        b'Z' => b'A',
        b'9' => b'0',
        other => other ^ 0x01,
    }
}

/// Turns each selected data segment `j` into an overlapping
/// retransmission: it now starts `k` bytes earlier, re-sending the tail of
/// the data segment `i` that directly precedes it in sequence space (and
/// in capture order), followed by its own new data. The overlapped bytes
/// are the same ([`Overlap::Same`]) or differ ([`Overlap::Different`],
/// [`Overlap::Replace`]). Segments without such a predecessor are skipped
/// for [`Select::Random`] and are an error otherwise.
///
/// Expected stream: identical; for different bytes, identical *by first
/// wins* (the receiver already holds segment `i`'s bytes), and a sensor
/// should flag the conflict.
pub fn overlap(
    mut segs: Vec<Segment>,
    rng: &mut SplitMix64,
    select: &Select,
    kind: &Overlap,
) -> Result<Vec<Segment>, SynthError> {
    let strict = !matches!(select, Select::Random { .. });
    let picks = resolve(&segs, select, rng)?;
    for j in picks {
        let side = side_of(&segs[j]);
        let seq_j = segs[j].seq;
        let prev = segs[..j].iter().rposition(|s| {
            side_of(s) == side && is_data(s) && s.seq.wrapping_add(s.payload.len() as u32) == seq_j
        });
        let Some(i) = prev else {
            if strict {
                return Err(SynthError::arg(
                    "overlap: the segment has no contiguous predecessor",
                ));
            }
            continue;
        };
        let earlier = &segs[i].payload;
        let (k, bytes) = match kind {
            Overlap::Same { max_len } | Overlap::Different { max_len } => {
                if *max_len == 0 {
                    return Err(SynthError::arg("overlap: max_len must be > 0"));
                }
                let k = rng.range(1, (*max_len).min(earlier.len()) as u64) as usize;
                let tail = &earlier[earlier.len() - k..];
                let bytes: Vec<u8> = if matches!(kind, Overlap::Same { .. }) {
                    tail.to_vec()
                } else {
                    tail.iter().map(|&b| mutate(b)).collect()
                };
                (k, bytes)
            }
            Overlap::Replace { bytes } => {
                if bytes.is_empty() || bytes.len() > earlier.len() {
                    return Err(SynthError::arg(
                        "overlap: replacement must be 1..=previous segment length",
                    ));
                }
                (bytes.len(), bytes.clone())
            }
        };
        let seg = &mut segs[j];
        let mut payload = bytes;
        payload.extend_from_slice(&seg.payload);
        seg.payload = payload;
        seg.seq = seq_j.wrapping_sub(k as u32);
    }
    Ok(segs)
}

/// Removes the selected data segments (capture loss). The endpoints
/// received them, so every ACK (and the sender's later sequence numbers)
/// still accounts for the lost bytes. Returns the gaps, in capture order of
/// the dropped segments, with offsets as in [`Select::Byte`].
///
/// Expected stream: the original with `len` unknown bytes at each
/// `offset`.
pub fn drop_segments(
    segs: Vec<Segment>,
    rng: &mut SplitMix64,
    select: &Select,
) -> Result<(Vec<Segment>, Vec<Gap>), SynthError> {
    let picks = resolve(&segs, select, rng)?;
    let bases = [
        stream_base(&segs, Side::Server),
        stream_base(&segs, Side::Client),
    ];
    let mut gaps = Vec::with_capacity(picks.len());
    for &p in &picks {
        let s = &segs[p];
        let base = bases[usize::from(s.from_client)].unwrap_or(s.seq);
        gaps.push(Gap {
            side: side_of(s),
            offset: offset_of(s, base),
            len: s.payload.len() as u64,
        });
    }
    let out = segs
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !picks.contains(i))
        .map(|(_, s)| s)
        .collect();
    Ok((out, gaps))
}

/// The capture starts at the selected segment: every segment before it
/// (in capture order) is removed. Timestamps are unchanged.
///
/// Expected stream: each direction from its first kept byte on; a sensor
/// sees a mid-stream connection (no SYN).
pub fn start_capture_at(segs: Vec<Segment>, select: &Select) -> Result<Vec<Segment>, SynthError> {
    if matches!(select, Select::Random { .. }) {
        return Err(SynthError::arg("start_capture_at needs a fixed selection"));
    }
    let mut rng = SplitMix64::new(0);
    let p = resolve(&segs, select, &mut rng)?[0];
    Ok(segs.into_iter().skip(p).collect())
}

/// Reference reassembly of `side`'s stream from segments in capture order:
/// the first copy of each byte wins, later different copies are recorded
/// in `conflicts`, holes are `gaps`. The stream ends at the sender's FIN,
/// or else at the furthest of its data and the peer's ACKs.
pub fn reassemble(segs: &[Segment], side: Side) -> Reassembled {
    let Some(base) = stream_base(segs, side) else {
        return Reassembled::default();
    };
    let mut data: Vec<u8> = Vec::new();
    let mut have: Vec<bool> = Vec::new();
    let mut conflicts = Vec::new();
    let mut end = 0u64;
    let mut fin: Option<u64> = None;
    for s in segs {
        if side_of(s) == side {
            let off = offset_of(s, base);
            if s.flags.contains(TcpFlags::FIN) {
                fin = Some(off + s.payload.len() as u64);
            }
            if !is_data(s) {
                continue;
            }
            let stop = off as usize + s.payload.len();
            if data.len() < stop {
                data.resize(stop, 0);
                have.resize(stop, false);
            }
            let mut conflict = false;
            for (k, &b) in s.payload.iter().enumerate() {
                let at = off as usize + k;
                if have[at] {
                    conflict |= data[at] != b;
                } else {
                    data[at] = b;
                    have[at] = true;
                }
            }
            if conflict {
                conflicts.push(off);
            }
            end = end.max(stop as u64);
        } else if s.flags.contains(TcpFlags::ACK) {
            let d = diff(s.ack, base);
            if d > 0 {
                end = end.max(d as u64);
            }
        }
    }
    if let Some(f) = fin {
        end = f;
    }
    let end = end as usize;
    data.resize(end, 0);
    have.resize(end, false);
    let mut gaps = Vec::new();
    let mut i = 0;
    while i < end {
        if have[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < end && !have[i] {
            i += 1;
        }
        gaps.push((start as u64, (i - start) as u64));
    }
    Reassembled {
        data,
        gaps,
        conflicts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::tcp::Conversation;
    use std::net::SocketAddr;

    const REQ: &[u8] = b"POST /api/v1/orders HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 26\r\n\r\n{\"sku\":\"SKU-1\",\"qty\":2000}";
    const RESP: &[u8] = b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}";

    fn conv() -> Vec<Segment> {
        let c: SocketAddr = "10.0.0.1:40000".parse().unwrap();
        let s: SocketAddr = "10.0.0.2:80".parse().unwrap();
        let mut conv = Conversation::new(c, s, u32::MAX - 20, 77, 1_000_000).with_mss(16);
        conv.handshake().client(REQ).server(RESP).fin();
        conv.into_segments()
    }

    fn increasing(segs: &[Segment]) -> bool {
        segs.windows(2).all(|w| w[1].ts_us > w[0].ts_us)
    }

    fn clean(r: &Reassembled, want: &[u8]) {
        assert_eq!(r.data, want);
        assert!(r.gaps.is_empty(), "{:?}", r.gaps);
        assert!(r.conflicts.is_empty());
    }

    #[test]
    fn baseline_reassembles() {
        let segs = conv();
        clean(&reassemble(&segs, Side::Client), REQ);
        clean(&reassemble(&segs, Side::Server), RESP);
        assert_eq!(stream_base(&segs, Side::Client), Some(u32::MAX - 19));
    }

    #[test]
    fn resegment_keeps_stream_and_uses_small_pieces() {
        let mut rng = SplitMix64::new(1);
        let segs = resegment(conv(), &mut rng, 7).unwrap();
        assert!(increasing(&segs));
        let sizes: Vec<usize> = segs
            .iter()
            .filter(|s| is_data(s))
            .map(|s| s.payload.len())
            .collect();
        assert!(sizes.iter().all(|&n| (1..=7).contains(&n)));
        assert!(sizes.contains(&1));
        clean(&reassemble(&segs, Side::Client), REQ);
        clean(&reassemble(&segs, Side::Server), RESP);
        assert!(resegment(conv(), &mut rng, 0).is_err());
        // Same seed, same output.
        let again = resegment(conv(), &mut SplitMix64::new(1), 7).unwrap();
        assert_eq!(segs, again);
    }

    #[test]
    fn reorder_changes_capture_order_only() {
        let before = conv();
        let mut rng = SplitMix64::new(2);
        let segs = reorder(before.clone(), &mut rng, 3).unwrap();
        assert_eq!(segs.len(), before.len());
        assert!(increasing(&segs));
        let ts: Vec<u64> = segs.iter().map(|s| s.ts_us).collect();
        let ts0: Vec<u64> = before.iter().map(|s| s.ts_us).collect();
        assert_eq!(ts, ts0, "positions keep their timestamps");
        let seqs: Vec<u32> = segs
            .iter()
            .filter(|s| s.from_client && is_data(s))
            .map(|s| s.seq.wrapping_sub(u32::MAX - 19))
            .collect();
        assert!(seqs.windows(2).any(|w| w[1] < w[0]), "{seqs:?}");
        clean(&reassemble(&segs, Side::Client), REQ);
        clean(&reassemble(&segs, Side::Server), RESP);
        // No ACK covers client data not yet captured.
        let base = stream_base(&segs, Side::Client).unwrap();
        let mut seen = vec![false; REQ.len()];
        for s in &segs {
            if s.from_client {
                let o = offset_of(s, base) as usize;
                for k in 0..s.payload.len() {
                    seen[o + k] = true;
                }
            } else if s.flags.contains(TcpFlags::ACK) && !s.flags.contains(TcpFlags::SYN) {
                let acked = (s.ack.wrapping_sub(base) as usize).min(REQ.len());
                assert!(seen[..acked].iter().all(|&x| x), "ack beyond captured data");
            }
        }
        assert!(reorder(conv(), &mut rng, 1).is_err());
    }

    #[test]
    fn duplicates_are_exact_copies() {
        let before = conv();
        let mut rng = SplitMix64::new(3);
        let segs = duplicate(before.clone(), &mut rng, &Select::Random { num: 1, den: 2 }).unwrap();
        assert!(segs.len() > before.len());
        assert!(increasing(&segs));
        clean(&reassemble(&segs, Side::Client), REQ);
        clean(&reassemble(&segs, Side::Server), RESP);
        let segs = duplicate(
            before,
            &mut rng,
            &Select::Byte {
                side: Side::Server,
                offset: 0,
            },
        )
        .unwrap();
        let first: Vec<&Segment> = segs
            .iter()
            .filter(|s| !s.from_client && s.payload.starts_with(b"HTTP/1.1"))
            .collect();
        assert_eq!(first.len(), 2);
        assert_eq!((first[0].seq, first[0].ack), (first[1].seq, first[1].ack));
        assert_ne!(first[0].ip_id, first[1].ip_id);
    }

    #[test]
    fn overlap_same_and_different() {
        let mut rng = SplitMix64::new(4);
        let segs = overlap(
            conv(),
            &mut rng,
            &Select::Random { num: 1, den: 1 },
            &Overlap::Same { max_len: 5 },
        )
        .unwrap();
        assert!(increasing(&segs));
        clean(&reassemble(&segs, Side::Client), REQ);
        clean(&reassemble(&segs, Side::Server), RESP);

        // "POST /api/v1/ord" | "ers HTTP/1.1..." : re-send "ord" as "adm".
        let segs = overlap(
            conv(),
            &mut rng,
            &Select::Byte {
                side: Side::Client,
                offset: 16,
            },
            &Overlap::Replace {
                bytes: b"adm".to_vec(),
            },
        )
        .unwrap();
        let evil = segs
            .iter()
            .find(|s| s.payload.starts_with(b"admers"))
            .unwrap();
        assert_eq!(evil.payload.len(), 3 + 16);
        let r = reassemble(&segs, Side::Client);
        assert_eq!(r.data, REQ, "first wins");
        assert_eq!(r.conflicts, vec![13]);
        let segs = overlap(
            conv(),
            &mut rng,
            &Select::Nth {
                side: Side::Client,
                n: 2,
            },
            &Overlap::Different { max_len: 16 },
        )
        .unwrap();
        let r = reassemble(&segs, Side::Client);
        assert_eq!(r.data, REQ);
        assert_eq!(r.conflicts.len(), 1);
        // The first segment has no predecessor.
        assert!(overlap(
            conv(),
            &mut rng,
            &Select::Nth {
                side: Side::Client,
                n: 0
            },
            &Overlap::Same { max_len: 3 }
        )
        .is_err());
    }

    #[test]
    fn drops_leave_acked_gaps() {
        let mut rng = SplitMix64::new(5);
        let (segs, gaps) = drop_segments(
            conv(),
            &mut rng,
            &Select::Byte {
                side: Side::Client,
                offset: 40,
            },
        )
        .unwrap();
        assert_eq!(
            gaps,
            vec![Gap {
                side: Side::Client,
                offset: 32,
                len: 16
            }]
        );
        let r = reassemble(&segs, Side::Client);
        assert_eq!(r.gaps, vec![(32, 16)]);
        assert_eq!(&r.data[..32], &REQ[..32]);
        assert_eq!(&r.data[48..], &REQ[48..]);
        // Dropping the very last data segment still leaves a known hole:
        // the FIN (and the ACKs) say where the stream ends.
        let (segs, gaps) = drop_segments(
            conv(),
            &mut rng,
            &Select::Byte {
                side: Side::Server,
                offset: RESP.len() as u64 - 1,
            },
        )
        .unwrap();
        let r = reassemble(&segs, Side::Server);
        assert_eq!(r.gaps, vec![(gaps[0].offset, gaps[0].len)]);
        assert_eq!(r.data.len(), RESP.len());
        assert!(drop_segments(
            conv(),
            &mut rng,
            &Select::Byte {
                side: Side::Client,
                offset: 10_000
            }
        )
        .is_err());
    }

    #[test]
    fn capture_can_start_mid_stream() {
        let segs = start_capture_at(
            conv(),
            &Select::Byte {
                side: Side::Client,
                offset: 50,
            },
        )
        .unwrap();
        assert!(!segs.iter().any(|s| s.flags.contains(TcpFlags::SYN)));
        let r = reassemble(&segs, Side::Client);
        assert_eq!(r.data, &REQ[48..]);
        assert!(r.gaps.is_empty());
        assert!(start_capture_at(conv(), &Select::Random { num: 1, den: 1 }).is_err());
    }

    #[test]
    fn composition_is_deterministic() {
        let run = |seed| {
            let mut rng = SplitMix64::new(seed);
            let s = resegment(conv(), &mut rng, 5).unwrap();
            let s = reorder(s, &mut rng, 4).unwrap();
            let s = duplicate(s, &mut rng, &Select::Random { num: 1, den: 4 }).unwrap();
            overlap(
                s,
                &mut rng,
                &Select::Random { num: 1, den: 3 },
                &Overlap::Same { max_len: 4 },
            )
            .unwrap()
        };
        let a = run(9);
        assert_eq!(a, run(9));
        assert_ne!(a, run(10));
        assert!(increasing(&a));
        clean(&reassemble(&a, Side::Client), REQ);
        clean(&reassemble(&a, Side::Server), RESP);
    }
}
