//! Stage 2, decode: bounded IPv4/IPv6 fragment reassembly, on the capture thread (before
//! sharding, since only the first fragment carries the ports the flow hash needs).
//!
//! Guarantees:
//! - memory is bounded by `max_datagrams` datagrams in progress and `max_bytes` buffered
//!   in all; each datagram holds at most 65535 bytes and `max_fragments` fragments;
//! - time is packet time: a datagram not complete `timeout` after its first fragment is
//!   dropped and counted;
//! - overlaps are settled first-wins (the bytes already held are kept); an overlap whose
//!   bytes differ is counted as `overlap_different_data`, an evasion signal;
//! - every refusal returns the [`StopReason`] to count, and leaves the other datagrams as
//!   they were.
#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

use serde::Deserialize;

use super::{FlowCtx, Fragment, StopReason};

/// Largest IP payload a datagram can carry.
pub const MAX_DATAGRAM: u32 = 65535;

/// `[ip_frag]` in the config file.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct FragConfig {
    /// Datagrams being reassembled at once; the oldest is dropped past it. Default 4096.
    pub max_datagrams: usize,
    /// Bytes buffered for all datagrams in progress. Default 32 MiB.
    pub max_bytes: usize,
    /// Fragments accepted for one datagram. Default 128.
    pub max_fragments: usize,
    /// How long (packet time) a datagram may wait for its last fragment. Default 30 s.
    #[serde(with = "crate::config::duration")]
    pub timeout: Duration,
}

impl Default for FragConfig {
    fn default() -> Self {
        Self {
            max_datagrams: 4096,
            max_bytes: 32 << 20,
            max_fragments: 128,
            timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    ctx: FlowCtx,
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    id: u32,
}

#[derive(Debug)]
struct Datagram {
    first_ts: u64,
    data: Vec<u8>,
    /// Received byte ranges `[start, end)`, sorted and merged.
    have: Vec<(u32, u32)>,
    fragments: usize,
    total: Option<u32>,
}

impl Datagram {
    fn complete(&self) -> bool {
        matches!((self.total, self.have.as_slice()), (Some(t), [(0, end)]) if *end == t)
    }

    /// Copies `data` at `offset`, keeping bytes already held (first wins). Returns whether
    /// an overlap carried different bytes.
    fn insert(&mut self, offset: u32, data: &[u8]) -> bool {
        let end = offset + data.len() as u32;
        if self.data.len() < end as usize {
            self.data.resize(end as usize, 0);
        }
        let mut differs = false;
        // Walk the new range, copying only the parts no held range covers.
        let mut cursor = offset;
        for &(s, e) in &self.have {
            if e <= cursor || s >= end {
                continue;
            }
            if s > cursor {
                copy(&mut self.data, data, offset, cursor, s);
            }
            let (os, oe) = (cursor.max(s), end.min(e));
            let held = self.data.get(os as usize..oe as usize);
            let new = data.get((os - offset) as usize..(oe - offset) as usize);
            differs |= held != new;
            cursor = cursor.max(e);
        }
        if cursor < end {
            copy(&mut self.data, data, offset, cursor, end);
        }
        self.have.push((offset, end));
        self.have.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(self.have.len());
        for &(s, e) in &self.have {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.have = merged;
        differs
    }
}

fn copy(buf: &mut [u8], data: &[u8], offset: u32, from: u32, to: u32) {
    if let (Some(dst), Some(src)) = (
        buf.get_mut(from as usize..to as usize),
        data.get((from - offset) as usize..(to - offset) as usize),
    ) {
        dst.copy_from_slice(src);
    }
}

/// A datagram whose fragments all arrived.
#[derive(Debug, PartialEq, Eq)]
pub struct Reassembled {
    pub ctx: FlowCtx,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub payload: Vec<u8>,
}

/// Counters of the reassembler.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FragCounters {
    pub fragments: u64,
    pub reassembled: u64,
    pub in_progress: u64,
    pub bytes_held: u64,
}

/// The outcome of one fragment.
#[derive(Debug, PartialEq, Eq)]
pub enum FragResult {
    /// Held; more fragments are needed.
    Held,
    /// The datagram is complete.
    Done(Reassembled),
    /// Refused or dropped; the reason is to be counted (`decode.stop.ip_frag.<reason>`).
    Dropped(StopReason),
}

/// The reassembler. Owned by the capture thread.
pub struct Defrag {
    cfg: FragConfig,
    table: HashMap<Key, Datagram>,
    /// Datagrams in arrival order of their first fragment, for timeouts and eviction.
    order: VecDeque<(u64, Key)>,
    bytes: usize,
    pub counters: FragCounters,
    /// Anomalies found while other fragments were handled (timeouts, evictions, overlaps),
    /// drained by the caller into its counters.
    pub pending: Vec<StopReason>,
}

impl Defrag {
    pub fn new(cfg: FragConfig) -> Self {
        Self {
            cfg,
            table: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            counters: FragCounters::default(),
            pending: Vec::new(),
        }
    }

    /// Drops datagrams older than the timeout at packet time `now_us`.
    pub fn expire(&mut self, now_us: u64) {
        let timeout = self.cfg.timeout.as_micros() as u64;
        while let Some((ts, _)) = self.order.front() {
            if ts.saturating_add(timeout) > now_us {
                break;
            }
            if let Some((ts, key)) = self.order.pop_front() {
                if self.table.get(&key).is_some_and(|d| d.first_ts == ts) {
                    self.remove(&key);
                    self.pending.push(StopReason::FragTimeout);
                }
            }
        }
        self.sync_counters();
    }

    fn remove(&mut self, key: &Key) -> Option<Datagram> {
        let d = self.table.remove(key)?;
        self.bytes = self.bytes.saturating_sub(d.data.len());
        Some(d)
    }

    fn sync_counters(&mut self) {
        self.counters.in_progress = self.table.len() as u64;
        self.counters.bytes_held = self.bytes as u64;
    }

    /// Adds one fragment seen at packet time `ts`.
    pub fn add(&mut self, ts: u64, f: &Fragment<'_>) -> FragResult {
        self.counters.fragments += 1;
        self.expire(ts);
        let r = self.add_inner(ts, f);
        self.sync_counters();
        r
    }

    fn add_inner(&mut self, ts: u64, f: &Fragment<'_>) -> FragResult {
        let key = Key {
            ctx: f.ctx,
            src: f.src,
            dst: f.dst,
            proto: f.proto,
            id: f.id,
        };
        // A cut fragment's true length is unknown: the datagram cannot be rebuilt.
        if f.truncated {
            self.remove(&key);
            return FragResult::Dropped(StopReason::Truncated);
        }
        let len = f.data.len() as u32;
        let end = f.offset.saturating_add(len);
        if end > MAX_DATAGRAM {
            self.remove(&key);
            return FragResult::Dropped(StopReason::FragTooBig);
        }
        // Non-final fragments carry a multiple of 8 bytes.
        if f.more && len % 8 != 0 {
            self.remove(&key);
            return FragResult::Dropped(StopReason::BadLength);
        }
        if !self.table.contains_key(&key) {
            if self.table.len() >= self.cfg.max_datagrams {
                self.evict_oldest();
            }
            self.table.insert(
                key.clone(),
                Datagram {
                    first_ts: ts,
                    data: Vec::new(),
                    have: Vec::new(),
                    fragments: 0,
                    total: None,
                },
            );
            self.order.push_back((ts, key.clone()));
            // Completed datagrams leave stale entries behind: compact now and then so the
            // queue stays within twice the table bound.
            if self.order.len() > 2 * self.cfg.max_datagrams.max(1) {
                let table = &self.table;
                self.order
                    .retain(|(t, k)| table.get(k).is_some_and(|d| d.first_ts == *t));
            }
        }
        let Some(d) = self.table.get_mut(&key) else {
            return FragResult::Dropped(StopReason::FragTableFull);
        };
        let growth = (end as usize).saturating_sub(d.data.len());
        if self.bytes + growth > self.cfg.max_bytes {
            return FragResult::Dropped(StopReason::FragMemcap);
        }
        d.fragments += 1;
        if d.fragments > self.cfg.max_fragments {
            self.remove(&key);
            return FragResult::Dropped(StopReason::FragTooMany);
        }
        if !f.more {
            match d.total {
                Some(t) if t != end => {
                    self.remove(&key);
                    return FragResult::Dropped(StopReason::BadLength);
                }
                _ => d.total = Some(end),
            }
        }
        if d.total.is_some_and(|t| end > t) {
            self.remove(&key);
            return FragResult::Dropped(StopReason::BadLength);
        }
        let before = d.data.len();
        if d.insert(f.offset, f.data) {
            self.pending.push(StopReason::FragOverlap);
        }
        let after = d.data.len();
        self.bytes = self.bytes + after - before.min(after);
        if !d.complete() {
            return FragResult::Held;
        }
        match self.remove(&key) {
            Some(mut d) => {
                self.counters.reassembled += 1;
                let total = d.total.unwrap_or_default() as usize;
                d.data.truncate(total);
                FragResult::Done(Reassembled {
                    ctx: key.ctx,
                    src: key.src,
                    dst: key.dst,
                    proto: key.proto,
                    payload: d.data,
                })
            }
            None => FragResult::Held,
        }
    }

    fn evict_oldest(&mut self) {
        while let Some((ts, key)) = self.order.pop_front() {
            if self.table.get(&key).is_some_and(|d| d.first_ts == ts) {
                self.remove(&key);
                self.pending.push(StopReason::FragTableFull);
                return;
            }
        }
    }

    /// Datagrams still incomplete (dropped at end of capture).
    pub fn in_progress(&self) -> usize {
        self.table.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn frag(id: u32, offset: u32, more: bool, data: &[u8]) -> Fragment<'_> {
        Fragment {
            ctx: FlowCtx::default(),
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            proto: 6,
            id,
            offset,
            more,
            data,
            truncated: false,
        }
    }

    fn payload(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn in_order_and_out_of_order_reassemble() {
        let p = payload(40);
        for order in [[0usize, 1, 2], [2, 0, 1], [1, 2, 0]] {
            let mut d = Defrag::new(FragConfig::default());
            let parts = [
                frag(1, 0, true, &p[0..16]),
                frag(1, 16, true, &p[16..32]),
                frag(1, 32, false, &p[32..40]),
            ];
            let mut out = None;
            for (n, i) in order.iter().enumerate() {
                match d.add(n as u64, &parts[*i]) {
                    FragResult::Done(r) => out = Some(r.payload),
                    FragResult::Held => {}
                    FragResult::Dropped(r) => panic!("dropped: {r:?}"),
                }
            }
            assert_eq!(out.as_deref(), Some(&p[..]), "order {order:?}");
            assert_eq!(d.in_progress(), 0);
            assert_eq!(d.bytes, 0);
        }
    }

    #[test]
    fn overlap_first_wins_and_is_counted_when_different() {
        let p = payload(24);
        let mut d = Defrag::new(FragConfig::default());
        assert_eq!(d.add(0, &frag(7, 0, true, &p[0..16])), FragResult::Held);
        let evil = [0xffu8; 16];
        assert_eq!(d.add(1, &frag(7, 8, true, &evil)), FragResult::Held);
        assert_eq!(d.pending, vec![StopReason::FragOverlap]);
        match d.add(2, &frag(7, 16, false, &p[16..24])) {
            FragResult::Done(r) => {
                assert_eq!(&r.payload[..16], &p[..16]);
                assert_eq!(&r.payload[16..24], &evil[8..16]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn identical_overlap_is_not_an_anomaly() {
        let p = payload(16);
        let mut d = Defrag::new(FragConfig::default());
        d.add(0, &frag(7, 0, true, &p[0..8]));
        d.add(1, &frag(7, 0, true, &p[0..8]));
        assert!(d.pending.is_empty());
        assert!(matches!(
            d.add(2, &frag(7, 8, false, &p[8..16])),
            FragResult::Done(_)
        ));
    }

    #[test]
    fn timeout_drops_by_packet_time() {
        let p = payload(16);
        let mut d = Defrag::new(FragConfig::default());
        d.add(0, &frag(1, 0, true, &p[0..8]));
        d.expire(29_999_999);
        assert_eq!(d.in_progress(), 1);
        d.expire(30_000_000);
        assert_eq!(d.in_progress(), 0);
        assert_eq!(d.pending, vec![StopReason::FragTimeout]);
        assert_eq!(d.bytes, 0);
    }

    #[test]
    fn table_full_evicts_oldest() {
        let p = payload(8);
        let cfg = FragConfig {
            max_datagrams: 2,
            ..FragConfig::default()
        };
        let mut d = Defrag::new(cfg);
        for id in 0..3 {
            d.add(u64::from(id), &frag(id, 0, true, &p));
        }
        assert_eq!(d.in_progress(), 2);
        assert_eq!(d.pending, vec![StopReason::FragTableFull]);
        // id 0 was evicted: its last fragment starts a new, incomplete datagram.
        assert_eq!(d.add(4, &frag(0, 8, false, &p)), FragResult::Held);
    }

    #[test]
    fn too_big_and_bad_lengths_are_refused() {
        let p = payload(16);
        let mut d = Defrag::new(FragConfig::default());
        assert_eq!(
            d.add(0, &frag(1, 65528, false, &p)),
            FragResult::Dropped(StopReason::FragTooBig)
        );
        assert_eq!(
            d.add(0, &frag(2, 0, true, &p[..7])),
            FragResult::Dropped(StopReason::BadLength)
        );
        d.add(0, &frag(3, 0, false, &p[..8]));
        assert_eq!(d.add(0, &frag(4, 16, false, &p[..8])), FragResult::Held);
        assert_eq!(
            d.add(0, &frag(4, 0, false, &p[..8])),
            FragResult::Dropped(StopReason::BadLength)
        );
    }

    #[test]
    fn memcap_refuses_and_keeps_state() {
        let p = payload(64);
        let cfg = FragConfig {
            max_bytes: 32,
            ..FragConfig::default()
        };
        let mut d = Defrag::new(cfg);
        assert_eq!(d.add(0, &frag(1, 0, true, &p[..32])), FragResult::Held);
        let held = d.bytes;
        assert_eq!(
            d.add(0, &frag(2, 0, true, &p[..32])),
            FragResult::Dropped(StopReason::FragMemcap)
        );
        assert_eq!(d.bytes, held);
    }

    #[test]
    fn too_many_fragments() {
        let p = payload(8);
        let cfg = FragConfig {
            max_fragments: 3,
            ..FragConfig::default()
        };
        let mut d = Defrag::new(cfg);
        for i in 0..3 {
            assert_eq!(d.add(0, &frag(1, i * 8, true, &p)), FragResult::Held);
        }
        assert_eq!(
            d.add(0, &frag(1, 24, true, &p)),
            FragResult::Dropped(StopReason::FragTooMany)
        );
        assert_eq!(d.in_progress(), 0);
    }

    #[test]
    fn truncated_fragment_drops_datagram() {
        let p = payload(16);
        let mut d = Defrag::new(FragConfig::default());
        d.add(0, &frag(1, 0, true, &p[..8]));
        let mut f = frag(1, 8, false, &p[8..]);
        f.truncated = true;
        assert_eq!(d.add(0, &f), FragResult::Dropped(StopReason::Truncated));
        assert_eq!(d.in_progress(), 0);
    }
}
