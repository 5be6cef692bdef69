//! Stage 4, tcp: reassembly of one direction of a TCP connection.
//!
//! Segments arrive in capture order; [`HalfStream`] turns them into the byte stream the
//! receiver saw, handed to a [`StreamSink`] as data, gaps and the close. Positions are `u64`
//! offsets from the first byte (sequence numbers are converted at the edge, relative to
//! the next expected byte, so streams longer than 4 GiB and wrapping sequence numbers work).
//!
//! Guarantees:
//! - the in-order segment is always accepted and delivered without being copied;
//! - out-of-order segments are buffered, bounded by `max_ooo_segments` and `max_ooo_bytes`
//!   per direction and by the worker's [`Budget`], which is checked before allocating; a
//!   refused segment leaves the state unchanged and returns the limit it hit;
//! - overlaps are settled first-wins (as Suricata's `OS_POLICY_FIRST`): bytes already held
//!   are kept; an overlap whose bytes differ is reported ([`StreamSink::overlap_different`]),
//!   an evasion signal;
//! - a hole is never spliced over: it becomes a [`StreamSink::gap`] when the receiver
//!   acknowledged past it (the capture lost what the endpoint got), when buffers are full,
//!   or when the stream is flushed;
//! - past `depth` bytes (0: no limit) nothing more is delivered, and that is counted.
#![deny(clippy::unwrap_used, clippy::expect_used)]

use serde::Deserialize;

use super::seq::SeqNum;
use crate::decode::tcp_flags::{FIN, SYN};

/// `[tcp]` in the config file.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ReassemblyConfig {
    /// Out-of-order segments held per direction. Default 256.
    pub max_ooo_segments: usize,
    /// Out-of-order bytes held per direction. Default 4 MiB.
    pub max_ooo_bytes: usize,
    /// Bytes reassembled per direction; 0 means no limit. Default 0.
    pub depth: u64,
    /// Out-of-order bytes held by all the flows of the sensor (shared by the workers).
    /// Default 256 MiB.
    pub memcap: usize,
    /// Bytes of already delivered data kept per direction to compare retransmissions
    /// against (an overlap with different bytes is an evasion signal). Default 4 KiB.
    pub overlap_window: usize,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        Self {
            max_ooo_segments: 256,
            max_ooo_bytes: 4 << 20,
            depth: 0,
            memcap: 256 << 20,
            overlap_window: 4096,
        }
    }
}

/// Why an out-of-order segment was not buffered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    TooManySegments,
    TooManyBytes,
    Memcap,
}

/// The worker's budget of buffered out-of-order bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Budget {
    pub used: usize,
    pub limit: usize,
}

/// Counters of reassembly, per worker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpCounters {
    pub segments: u64,
    pub bytes: u64,
    pub out_of_order: u64,
    pub retransmitted_bytes: u64,
    pub overlap_different: u64,
    pub gaps: u64,
    pub gap_bytes: u64,
    pub out_of_window: u64,
    pub refused_segments: u64,
    pub refused_bytes: u64,
    pub refused_memcap: u64,
    pub depth_reached: u64,
    pub data_after_close: u64,
}

impl TcpCounters {
    pub fn merge(&mut self, o: &TcpCounters) {
        self.segments += o.segments;
        self.bytes += o.bytes;
        self.out_of_order += o.out_of_order;
        self.retransmitted_bytes += o.retransmitted_bytes;
        self.overlap_different += o.overlap_different;
        self.gaps += o.gaps;
        self.gap_bytes += o.gap_bytes;
        self.out_of_window += o.out_of_window;
        self.refused_segments += o.refused_segments;
        self.refused_bytes += o.refused_bytes;
        self.refused_memcap += o.refused_memcap;
        self.depth_reached += o.depth_reached;
        self.data_after_close += o.data_after_close;
    }
}

/// Receives one direction's reassembled stream.
pub trait StreamSink {
    fn data(&mut self, bytes: &[u8]);
    fn gap(&mut self, len: u64);
    /// An overlapping segment carried bytes different from those already held.
    fn overlap_different(&mut self);
    /// Every byte up to the FIN was delivered (or the stream was flushed).
    fn closed(&mut self);
}

/// What reassembly of any stream of a worker shares: its limits, budget and counters.
pub struct Ctx<'a> {
    pub cfg: &'a ReassemblyConfig,
    pub budget: &'a mut Budget,
    pub c: &'a mut TcpCounters,
}

/// Segments further than this from the next expected byte are out of window.
const MAX_WINDOW: i64 = 1 << 30;

/// One direction of a connection.
#[derive(Debug, Default)]
pub struct HalfStream {
    /// Sequence number of offset 0.
    base: Option<SeqNum>,
    /// Next offset to deliver: everything before it was delivered (or declared a gap).
    next: u64,
    /// Out-of-order data, sorted by offset, not overlapping.
    ooo: Vec<(u64, Vec<u8>)>,
    ooo_bytes: usize,
    /// Offset of the FIN.
    fin: Option<u64>,
    closed: bool,
    depth_hit: bool,
    /// A segment ahead of `next` was refused: a gap is owed when the peer acks past it.
    lost_ahead: bool,
    /// The last delivered bytes (a ring of up to `overlap_window` bytes, allocated on first
    /// use and grown as bytes are delivered),
    /// holding stream bytes `[next - recent_len, next)`.
    recent: Vec<u8>,
    recent_len: usize,
    recent_pos: usize,
}

/// Smallest retransmission ring (see [`HalfStream::remember`]).
const RING_MIN: usize = 256;

impl HalfStream {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes held: out-of-order data and the retransmission window.
    pub fn buffered(&self) -> usize {
        self.ooo_bytes + self.recent.capacity()
    }

    /// A ring of `size` bytes holding what the current one holds, oldest first.
    fn grow(&mut self, size: usize) {
        let mut ring = Vec::with_capacity(size);
        let n = self.recent.len();
        if n > 0 {
            let start = (self.recent_pos + n - self.recent_len) % n;
            let end = start + self.recent_len;
            ring.extend_from_slice(self.recent.get(start..end.min(n)).unwrap_or_default());
            ring.extend_from_slice(self.recent.get(..end.saturating_sub(n)).unwrap_or_default());
        }
        ring.resize(size, 0);
        self.recent_pos = self.recent_len % size;
        self.recent = ring;
    }

    /// Keeps the tail of delivered bytes for comparing retransmissions. The ring starts at
    /// [`RING_MIN`] bytes and doubles, up to `window`, as bytes are delivered: most
    /// half-streams (a request or two) deliver far less than the window, and a zeroed ring
    /// of the full window per half-stream cleared about 100 MB per 256 MiB replayed.
    fn remember(&mut self, window: usize, bytes: &[u8]) {
        if window == 0 || self.closed || bytes.is_empty() {
            return;
        }
        if self.recent.len() > window {
            self.recent = Vec::new();
            self.recent_len = 0;
            self.recent_pos = 0;
        }
        let want = (self.recent_len + bytes.len()).min(window);
        if want > self.recent.len() {
            let size = want.checked_next_power_of_two().unwrap_or(window);
            self.grow(size.max(RING_MIN).min(window));
        }
        // The ring's size: at least `want`, so the tail below fits in it.
        let window = self.recent.len();
        let tail = bytes
            .get(bytes.len().saturating_sub(window)..)
            .unwrap_or_default();
        let first = (window - self.recent_pos).min(tail.len());
        if let (Some(dst), Some(src)) = (
            self.recent
                .get_mut(self.recent_pos..self.recent_pos + first),
            tail.get(..first),
        ) {
            dst.copy_from_slice(src);
        }
        let rest = tail.len() - first;
        if let (Some(dst), Some(src)) = (self.recent.get_mut(..rest), tail.get(first..)) {
            dst.copy_from_slice(src);
        }
        self.recent_pos = (self.recent_pos + tail.len()) % window;
        self.recent_len = (self.recent_len + tail.len()).min(window);
    }

    /// Whether `bytes`, claimed to sit at stream offset `at` (all before `next`), differ
    /// from what was delivered there. Unknown (outside the window) counts as equal.
    fn differs_from_delivered(&self, at: u64, bytes: &[u8]) -> bool {
        let window = self.recent.len();
        if window == 0 || bytes.is_empty() {
            return false;
        }
        let oldest = self.next - self.recent_len as u64;
        // Compare only the part still in the window.
        let skip = oldest.saturating_sub(at) as usize;
        let Some(bytes) = bytes.get(skip..) else {
            return false;
        };
        let at = at + skip as u64;
        let back = (self.next - at) as usize; // how far behind `next` the first byte is
        let start = (self.recent_pos + window - back % window) % window;
        bytes
            .iter()
            .enumerate()
            .any(|(i, b)| self.recent.get((start + i) % window) != Some(b))
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Offset of the next byte to deliver.
    pub fn next_offset(&self) -> u64 {
        self.next
    }

    fn deliver<S: StreamSink>(&mut self, x: &mut Ctx<'_>, bytes: &[u8], sink: &mut S) {
        let (cfg, c) = (x.cfg, &mut *x.c);
        let len = bytes.len() as u64;
        if cfg.depth > 0 && self.next + len > cfg.depth {
            let keep = cfg.depth.saturating_sub(self.next) as usize;
            if let Some(head) = bytes.get(..keep) {
                if !head.is_empty() {
                    sink.data(head);
                }
            }
            if !self.depth_hit {
                self.depth_hit = true;
                c.depth_reached += 1;
            }
        } else if !bytes.is_empty() {
            sink.data(bytes);
        }
        c.bytes += len;
        self.next += len;
        self.remember(cfg.overlap_window, bytes);
    }

    fn gap<S: StreamSink>(&mut self, x: &mut Ctx<'_>, len: u64, sink: &mut S) {
        let (cfg, c) = (x.cfg, &mut *x.c);
        if len == 0 {
            return;
        }
        c.gaps += 1;
        c.gap_bytes += len;
        if cfg.depth == 0 || self.next < cfg.depth {
            sink.gap(len);
        }
        self.next += len;
    }

    /// Delivers buffered segments that are now in order.
    fn drain<S: StreamSink>(&mut self, x: &mut Ctx<'_>, sink: &mut S) {
        while let Some((start, _)) = self.ooo.first() {
            if *start > self.next {
                break;
            }
            let (start, data) = self.ooo.remove(0);
            self.ooo_bytes -= data.len();
            x.budget.used = x.budget.used.saturating_sub(data.len());
            let end = start + data.len() as u64;
            if end > self.next {
                let skip = (self.next - start) as usize;
                if let Some(rest) = data.get(skip..) {
                    self.deliver(x, rest, sink);
                }
            }
        }
        self.check_fin(x.budget, sink);
    }

    fn check_fin<S: StreamSink>(&mut self, budget: &mut Budget, sink: &mut S) {
        if !self.closed && self.fin.is_some_and(|f| f <= self.next) {
            self.closed = true;
            // Nothing after the FIN will be delivered: give its buffers back.
            self.release(budget);
            sink.closed();
        }
    }

    /// Drops every buffered out-of-order segment, returning its bytes to the budget, and
    /// the retransmission window (a closed stream keeps nothing: it may wait in the flow
    /// table for `tcp_closed_timeout`).
    fn release(&mut self, budget: &mut Budget) {
        for (_, d) in self.ooo.drain(..) {
            budget.used = budget.used.saturating_sub(d.len());
        }
        self.ooo_bytes = 0;
        self.recent = Vec::new();
        self.recent_len = 0;
        self.recent_pos = 0;
    }

    /// One segment of this direction.
    pub fn segment<S: StreamSink>(
        &mut self,
        x: &mut Ctx<'_>,
        seq: u32,
        flags: u8,
        payload: &[u8],
        sink: &mut S,
    ) -> Result<(), Refused> {
        let syn = flags & SYN != 0;
        let data_seq = if syn {
            SeqNum(seq).plus(1)
        } else {
            SeqNum(seq)
        };
        if syn {
            if self.base.is_none() {
                self.base = Some(data_seq);
            }
            if payload.is_empty() && flags & FIN == 0 {
                return Ok(());
            }
        }
        if payload.is_empty() && flags & FIN == 0 {
            return Ok(());
        }
        x.c.segments += 1;
        if self.closed {
            x.c.data_after_close += 1;
            return Ok(());
        }
        let base = *self.base.get_or_insert(data_seq);
        // Offsets relative to the next expected byte, so long streams wrap correctly.
        let expected = base.plus(self.next as u32);
        let d = data_seq.signed_from(expected);
        if d.abs() > MAX_WINDOW {
            x.c.out_of_window += 1;
            return Ok(());
        }
        let off = self.next as i64 + d;
        let len = payload.len() as i64;
        if off + len < 0 {
            x.c.retransmitted_bytes += payload.len() as u64;
            return Ok(());
        }
        let (off, payload) = if off < 0 {
            let skip = off.unsigned_abs() as usize;
            (0u64, payload.get(skip..).unwrap_or_default())
        } else {
            (off as u64, payload)
        };
        let end = off + payload.len() as u64;
        if off > self.next {
            self.store(x, off, payload, sink)?;
            x.c.out_of_order += 1;
            if flags & FIN != 0 {
                self.fin.get_or_insert(end);
            }
            return Ok(());
        }
        if flags & FIN != 0 {
            self.fin.get_or_insert(end);
        }
        // The part of the segment that was already delivered: a retransmission, which must
        // carry the same bytes.
        let old_end = end.min(self.next);
        if old_end > off {
            let old = payload.get(..(old_end - off) as usize).unwrap_or_default();
            if self.differs_from_delivered(off, old) {
                x.c.overlap_different += 1;
                sink.overlap_different();
            }
        }
        if end <= self.next {
            x.c.retransmitted_bytes += payload.len() as u64;
            self.check_fin(x.budget, sink);
            return Ok(());
        }
        x.c.retransmitted_bytes += self.next - off;
        // In order: deliver the new bytes straight from the packet, except where buffered
        // data was there first.
        let mut cur = self.next;
        while cur < end {
            let next_held = self.ooo.first().map(|(s, _)| *s);
            match next_held {
                Some(s) if s <= cur => {
                    // Held data covers `cur`: it wins; compare the overlap.
                    let (s, held) = self.ooo.remove(0);
                    self.ooo_bytes -= held.len();
                    x.budget.used = x.budget.used.saturating_sub(held.len());
                    let held_end = s + held.len() as u64;
                    let ov_end = held_end.min(end);
                    if ov_end > cur {
                        let mine = payload.get((cur - off) as usize..(ov_end - off) as usize);
                        let theirs = held.get((cur - s) as usize..(ov_end - s) as usize);
                        if mine != theirs {
                            x.c.overlap_different += 1;
                            sink.overlap_different();
                        }
                    }
                    if held_end > cur {
                        if let Some(rest) = held.get((cur - s) as usize..) {
                            self.deliver(x, rest, sink);
                        }
                        cur = held_end;
                    }
                }
                _ => {
                    let stop = next_held.map_or(end, |s| s.min(end));
                    if let Some(piece) = payload.get((cur - off) as usize..(stop - off) as usize) {
                        self.deliver(x, piece, sink);
                    }
                    cur = stop;
                }
            }
        }
        self.drain(x, sink);
        Ok(())
    }

    /// Buffers data ahead of `next`, keeping bytes already held (first wins).
    fn store<S: StreamSink>(
        &mut self,
        x: &mut Ctx<'_>,
        off: u64,
        payload: &[u8],
        sink: &mut S,
    ) -> Result<(), Refused> {
        let (cfg, budget) = (x.cfg, &mut *x.budget);
        let end = off + payload.len() as u64;
        // The uncovered pieces of [off, end), and whether held overlaps differ.
        let mut pieces: Vec<(u64, u64)> = Vec::new();
        let mut differs = false;
        let mut cur = off;
        for (s, held) in &self.ooo {
            let e = s + held.len() as u64;
            if e <= cur {
                continue;
            }
            if *s >= end {
                break;
            }
            if *s > cur {
                pieces.push((cur, *s));
            }
            let (os, oe) = (cur.max(*s), end.min(e));
            let mine = payload.get((os - off) as usize..(oe - off) as usize);
            let theirs = held.get((os - s) as usize..(oe - s) as usize);
            differs |= mine != theirs;
            cur = cur.max(e);
        }
        if cur < end {
            pieces.push((cur, end));
        }
        let new_bytes: usize = pieces.iter().map(|(a, b)| (b - a) as usize).sum();
        if self.ooo.len() + pieces.len() > cfg.max_ooo_segments {
            self.refuse(x.c, Refused::TooManySegments);
            return Err(Refused::TooManySegments);
        }
        if self.ooo_bytes + new_bytes > cfg.max_ooo_bytes {
            self.refuse(x.c, Refused::TooManyBytes);
            return Err(Refused::TooManyBytes);
        }
        if budget.used + new_bytes > budget.limit {
            self.refuse(x.c, Refused::Memcap);
            return Err(Refused::Memcap);
        }
        if differs {
            x.c.overlap_different += 1;
            sink.overlap_different();
        }
        for (a, b) in pieces {
            let Some(bytes) = payload.get((a - off) as usize..(b - off) as usize) else {
                continue;
            };
            let at = self.ooo.partition_point(|(s, _)| *s < a);
            self.ooo.insert(at, (a, bytes.to_vec()));
        }
        self.ooo_bytes += new_bytes;
        x.budget.used += new_bytes;
        Ok(())
    }

    fn refuse(&mut self, c: &mut TcpCounters, why: Refused) {
        self.lost_ahead = true;
        match why {
            Refused::TooManySegments => c.refused_segments += 1,
            Refused::TooManyBytes => c.refused_bytes += 1,
            Refused::Memcap => c.refused_memcap += 1,
        }
    }

    /// The peer acknowledged up to `ack`: if we hold data beyond a hole the receiver has
    /// passed, the capture lost the hole's bytes; declare it a gap and move on.
    pub fn acked<S: StreamSink>(&mut self, x: &mut Ctx<'_>, ack: u32, sink: &mut S) {
        let Some(base) = self.base else { return };
        if self.closed || (self.ooo.is_empty() && self.fin.is_none() && !self.lost_ahead) {
            return;
        }
        let expected = base.plus(self.next as u32);
        let d = SeqNum(ack).signed_from(expected);
        if d <= 0 || d > MAX_WINDOW {
            return;
        }
        let acked_to = self.next + d as u64;
        let mut gap_end = acked_to;
        if let Some((s, _)) = self.ooo.first() {
            gap_end = gap_end.min(*s);
        }
        if let Some(f) = self.fin {
            gap_end = gap_end.min(f);
        }
        if gap_end > self.next {
            let len = gap_end - self.next;
            self.gap(x, len, sink);
            self.lost_ahead = false;
            self.drain(x, sink);
        }
    }

    /// End of the stream (RST, flow end): everything held is delivered, holes as gaps.
    /// Does not call [`StreamSink::closed`]: the caller reports how the stream ended.
    pub fn flush<S: StreamSink>(&mut self, x: &mut Ctx<'_>, sink: &mut S) {
        if self.closed {
            self.release(x.budget);
            return;
        }
        while let Some((s, _)) = self.ooo.first() {
            let s = *s;
            if s > self.next {
                self.gap(x, s - self.next, sink);
            }
            self.drain(x, sink);
        }
        if let Some(f) = self.fin {
            if f > self.next {
                self.gap(x, f - self.next, sink);
            }
        }
        // The caller knows why the stream ended and tells the parser itself.
        self.closed = true;
        self.release(x.budget);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
