//! Stage 4, flow (per worker): the flow table.
//!
//! Each worker owns one [`FlowTable`]; nothing in it is shared or locked. Flows are keyed by
//! the canonical [`FlowKey`] (both directions give the same key) plus VLAN and tunnel
//! context. Guarantees:
//! - time is packet time: idle, closed and lifetime timeouts compare packet timestamps,
//!   never the wall clock, so a replay gives the same flows every time;
//! - the table holds at most `max_flows` flows and `max_bytes` bytes; past either the least
//!   recently seen flow is evicted, and the eviction is counted by reason;
//! - every flow leaves the table exactly once, through [`FlowTable::drain_ended`], with the
//!   reason it ended, so the worker can flush what it holds for it.

use std::hash::{BuildHasher, Hash, Hasher};
use std::net::IpAddr;
use std::time::Duration;

use hashlink::linked_hash_map::RawEntryMut;
use hashlink::LinkedHashMap;
use serde::Deserialize;

use crate::decode::{tcp_flags, FlowCtx, Proto, TcpMeta, L4};
use crate::tcp::conn::Connection;

/// The canonical flow key: the lower (address, port) first, so both directions agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub ctx: FlowCtx,
    pub proto: Proto,
    pub lo: (IpAddr, u16),
    pub hi: (IpAddr, u16),
}

impl FlowKey {
    /// The key of a segment, and whether its sender is the `lo` side.
    pub fn from_l4(l4: &L4<'_>, track_vlan: bool) -> (Self, bool) {
        let ctx = if track_vlan {
            l4.ctx
        } else {
            l4.ctx.without_vlans()
        };
        let a = (l4.src, l4.src_port);
        let b = (l4.dst, l4.dst_port);
        let src_is_lo = a <= b;
        let (lo, hi) = if src_is_lo { (a, b) } else { (b, a) };
        (
            Self {
                ctx,
                proto: l4.proto,
                lo,
                hi,
            },
            src_is_lo,
        )
    }

    /// A hash equal for both directions (the key is canonical), for sharding.
    pub fn shard_hash(&self, seed: u64) -> u64 {
        foldhash::fast::FixedState::with_seed(seed).hash_one(self)
    }

    /// A flow id that depends only on the key and the first packet's time, so it is the
    /// same whatever the number of workers. Kept below 2^53 so JSON readers that use
    /// doubles (JavaScript, some SIEMs) do not round it.
    pub fn flow_id(&self, first_ts: u64) -> u64 {
        let mut h = foldhash::fast::FixedState::with_seed(0x6170_6974_6170_0001).build_hasher();
        self.hash(&mut h);
        first_ts.hash(&mut h);
        (h.finish() & ((1 << 53) - 1)).max(1)
    }
}

/// `[flow]` in the config file. Limits are for the whole sensor; each worker gets its share.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct FlowConfig {
    /// Flows tracked at once. Default 1,000,000.
    pub max_flows: usize,
    /// Bytes held by the flow tables (flow state and buffered stream data). Default 1 GiB.
    pub max_bytes: usize,
    /// Idle timeout of an open TCP flow. Default 5 min.
    #[serde(with = "crate::config::duration")]
    pub tcp_timeout: Duration,
    /// Idle timeout of a TCP flow after FIN from both sides or RST. Default 10 s. Only the
    /// flow's counters wait that long (late ACKs and retransmissions are counted on it):
    /// its transactions are written and its buffers freed when it closes, and a SYN on the
    /// same ports starts a new flow.
    #[serde(with = "crate::config::duration")]
    pub tcp_closed_timeout: Duration,
    /// Idle timeout of a UDP flow. Default 1 min.
    #[serde(with = "crate::config::duration")]
    pub udp_timeout: Duration,
    /// A flow older than this is ended and a new one begins with its next packet. Default 1 h.
    #[serde(with = "crate::config::duration")]
    pub lifetime: Duration,
    /// Keep VLAN ids in the flow key (as Suricata's `vlan.use-for-tracking`). Default true.
    pub track_vlan: bool,
}

impl Default for FlowConfig {
    fn default() -> Self {
        Self {
            max_flows: 1_000_000,
            max_bytes: 1 << 30,
            tcp_timeout: Duration::from_secs(300),
            tcp_closed_timeout: Duration::from_secs(10),
            udp_timeout: Duration::from_secs(60),
            lifetime: Duration::from_secs(3600),
            track_vlan: true,
        }
    }
}

/// Why a flow left the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndReason {
    /// Idle past its timeout.
    Timeout,
    /// Closed (FIN both ways or RST) and then idle past `tcp_closed_timeout`.
    Closed,
    /// Older than `lifetime`.
    Lifetime,
    /// Evicted because the table held `max_flows`.
    MaxFlows,
    /// Evicted because the table held `max_bytes`.
    Memcap,
    /// Still open when the capture ended.
    Shutdown,
}

impl EndReason {
    pub const ALL: [EndReason; 6] = [
        Self::Timeout,
        Self::Closed,
        Self::Lifetime,
        Self::MaxFlows,
        Self::Memcap,
        Self::Shutdown,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Closed => "closed",
            Self::Lifetime => "lifetime",
            Self::MaxFlows => "evicted_max_flows",
            Self::Memcap => "evicted_memcap",
            Self::Shutdown => "shutdown",
        }
    }
}

/// Direction of a packet relative to the flow's client.
pub const TO_SERVER: usize = 0;
pub const TO_CLIENT: usize = 1;

/// One flow's state.
pub struct Flow {
    pub id: u64,
    pub first_ts: u64,
    pub last_ts: u64,
    /// Whether the `lo` side of the key is the client (the side that opened the connection).
    pub client_is_lo: bool,
    pub pkts: [u64; 2],
    pub bytes: [u64; 2],
    /// TCP flags seen, per direction (`TO_SERVER`, `TO_CLIENT`).
    pub tcp_flags: [u8; 2],
    /// The first packet was not a SYN or SYN-ACK: the connection was picked up mid-stream.
    pub midstream: bool,
    /// TCP reassembly and HTTP state, created with the first TCP packet and dropped as soon
    /// as both directions are closed (see `conn_done`).
    pub conn: Option<Box<Connection>>,
    /// Both directions of the connection were closed and its transactions handed over: later
    /// packets (the last ACK, retransmitted FINs) only count, they create no new state.
    pub conn_done: bool,
    /// Bytes `conn` held when last accounted (see [`FlowTable::account`]).
    pub app_bytes: usize,
}

impl std::fmt::Debug for Flow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flow")
            .field("id", &self.id)
            .field("first_ts", &self.first_ts)
            .field("last_ts", &self.last_ts)
            .field("client_is_lo", &self.client_is_lo)
            .field("pkts", &self.pkts)
            .field("bytes", &self.bytes)
            .field("midstream", &self.midstream)
            .field("app_bytes", &self.app_bytes)
            .finish()
    }
}

impl Flow {
    /// FIN seen both ways, or a RST.
    pub fn closed(&self) -> bool {
        let fin = tcp_flags::FIN;
        (self.tcp_flags[0] & fin != 0 && self.tcp_flags[1] & fin != 0)
            || (self.tcp_flags[0] | self.tcp_flags[1]) & tcp_flags::RST != 0
    }

    /// The direction (`TO_SERVER` or `TO_CLIENT`) of a packet sent by the lo side or not.
    pub fn dir(&self, src_is_lo: bool) -> usize {
        if src_is_lo == self.client_is_lo {
            TO_SERVER
        } else {
            TO_CLIENT
        }
    }
}

/// Which side opened the connection, judged from its first packet.
fn client_is_lo(key: &FlowKey, src_is_lo: bool, tcp: &TcpMeta) -> (bool, bool) {
    let (src_port, dst_port) = if src_is_lo {
        (key.lo.1, key.hi.1)
    } else {
        (key.hi.1, key.lo.1)
    };
    if key.proto == Proto::Tcp {
        let syn = tcp.flags & tcp_flags::SYN != 0;
        let ack = tcp.flags & tcp_flags::ACK != 0;
        if syn && !ack {
            return (src_is_lo, false);
        }
        if syn && ack {
            return (!src_is_lo, false);
        }
    }
    // Picked up mid-stream: the side on a well-known or lower listening port is the server.
    let sender_is_server = src_port < dst_port && src_port < 49152 && dst_port >= 1024;
    let midstream = key.proto == Proto::Tcp;
    (src_is_lo != sender_is_server, midstream)
}

/// Counters of one flow table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowCounters {
    pub created: u64,
    pub ended: [u64; EndReason::ALL.len()],
    pub active: u64,
    pub bytes_held: u64,
}

impl FlowCounters {
    pub fn ended_by(&self, r: EndReason) -> u64 {
        self.ended[r as usize]
    }
    pub fn merge(&mut self, o: &FlowCounters) {
        self.created += o.created;
        for (a, b) in self.ended.iter_mut().zip(o.ended.iter()) {
            *a += b;
        }
        self.active += o.active;
        self.bytes_held += o.bytes_held;
    }
}

/// Approximate bytes one flow costs in the table (entry, links, hash slot).
pub const FLOW_ENTRY_BYTES: usize = std::mem::size_of::<(FlowKey, Flow)>() + 48;

/// How often (packet time) the table looks for idle flows.
const SWEEP_INTERVAL_US: u64 = 1_000_000;

/// The per-worker flow table, least recently seen first.
pub struct FlowTable {
    map: LinkedHashMap<FlowKey, Flow, foldhash::fast::RandomState>,
    max_flows: usize,
    max_bytes: usize,
    tcp_timeout: u64,
    tcp_closed_timeout: u64,
    udp_timeout: u64,
    lifetime: u64,
    now: u64,
    next_sweep: u64,
    /// Bytes held by the flows' connections (reassembly and parser buffers).
    app_bytes: usize,
    ended: Vec<(FlowKey, Flow, EndReason)>,
    pub counters: FlowCounters,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl FlowTable {
    /// A table with `1/shards` of the configured limits (at least one flow).
    pub fn new(cfg: &FlowConfig, shards: usize) -> Self {
        let shards = shards.max(1);
        Self {
            map: LinkedHashMap::with_hasher(foldhash::fast::RandomState::default()),
            max_flows: (cfg.max_flows / shards).max(1),
            max_bytes: (cfg.max_bytes / shards).max(FLOW_ENTRY_BYTES),
            tcp_timeout: micros(cfg.tcp_timeout),
            tcp_closed_timeout: micros(cfg.tcp_closed_timeout),
            udp_timeout: micros(cfg.udp_timeout),
            lifetime: micros(cfg.lifetime),
            now: 0,
            next_sweep: 0,
            app_bytes: 0,
            ended: Vec::new(),
            counters: FlowCounters::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn bytes_held(&self) -> usize {
        self.map.len() * FLOW_ENTRY_BYTES + self.app_bytes
    }

    /// Records that a flow's connection now holds `new` bytes instead of `old`, then evicts
    /// least recently seen flows while the table holds more than `max_bytes`.
    pub fn account(&mut self, old: usize, new: usize) {
        self.app_bytes = (self.app_bytes + new).saturating_sub(old);
        while self.map.len() > 1 && self.bytes_held() > self.max_bytes {
            let Some((k, _)) = self.map.front() else {
                break;
            };
            let k = *k;
            self.end(k, EndReason::Memcap);
        }
        self.counters.bytes_held = self.bytes_held() as u64;
    }

    fn timeout_of(&self, key: &FlowKey, flow: &Flow) -> u64 {
        match key.proto {
            Proto::Udp => self.udp_timeout,
            Proto::Tcp if flow.closed() => self.tcp_closed_timeout,
            Proto::Tcp => self.tcp_timeout,
        }
    }

    fn end(&mut self, key: FlowKey, reason: EndReason) {
        if let Some(flow) = self.map.remove(&key) {
            self.app_bytes = self.app_bytes.saturating_sub(flow.app_bytes);
            self.counters.ended[reason as usize] += 1;
            self.ended.push((key, flow, reason));
        }
    }

    /// Accounts one packet and returns its flow and the packet's direction.
    pub fn packet(
        &mut self,
        key: &FlowKey,
        src_is_lo: bool,
        ts: u64,
        tcp: &TcpMeta,
        wire_len: u32,
    ) -> (&mut Flow, usize) {
        self.advance(ts);
        if let Some(flow) = self.map.get(key) {
            let idle = ts.saturating_sub(flow.last_ts) >= self.timeout_of(key, flow);
            // A SYN on a closed connection is a new connection on the same ports (clients
            // and NAT gateways reuse them within seconds): the old flow ends here.
            let reused = key.proto == Proto::Tcp
                && flow.closed()
                && tcp.flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN;
            if idle {
                self.end(*key, EndReason::Timeout);
            } else if ts.saturating_sub(flow.first_ts) >= self.lifetime {
                self.end(*key, EndReason::Lifetime);
            } else if reused {
                self.end(*key, EndReason::Closed);
            }
        }
        let is_new = !self.map.contains_key(key);
        if is_new {
            self.make_room();
        }
        let len = (self.map.len() + usize::from(is_new)) as u64;
        self.counters.active = len;
        self.counters.bytes_held = len * FLOW_ENTRY_BYTES as u64 + self.app_bytes as u64;
        let flow = match self.map.raw_entry_mut().from_key(key) {
            RawEntryMut::Occupied(mut o) => {
                o.to_back();
                o.into_mut()
            }
            RawEntryMut::Vacant(v) => {
                let (client_is_lo, midstream) = client_is_lo(key, src_is_lo, tcp);
                self.counters.created += 1;
                let flow = Flow {
                    id: key.flow_id(ts),
                    first_ts: ts,
                    last_ts: ts,
                    client_is_lo,
                    pkts: [0; 2],
                    bytes: [0; 2],
                    tcp_flags: [0; 2],
                    midstream,
                    conn: None,
                    conn_done: false,
                    app_bytes: 0,
                };
                v.insert(*key, flow).1
            }
        };
        let dir = flow.dir(src_is_lo);
        flow.last_ts = flow.last_ts.max(ts);
        flow.pkts[dir] += 1;
        flow.bytes[dir] += u64::from(wire_len);
        flow.tcp_flags[dir] |= tcp.flags;
        (flow, dir)
    }

    /// Evicts least recently seen flows until one more fits.
    fn make_room(&mut self) {
        while self.map.len() >= self.max_flows {
            let Some((k, _)) = self.map.front() else {
                break;
            };
            let k = *k;
            self.end(k, EndReason::MaxFlows);
        }
        while !self.map.is_empty() && self.bytes_held() + FLOW_ENTRY_BYTES > self.max_bytes {
            let Some((k, _)) = self.map.front() else {
                break;
            };
            let k = *k;
            self.end(k, EndReason::Memcap);
        }
    }

    /// Moves the table's clock to packet time `now` and ends idle flows, at most once a
    /// second of packet time.
    pub fn advance(&mut self, now: u64) {
        if now > self.now {
            self.now = now;
        }
        if self.now < self.next_sweep {
            return;
        }
        self.next_sweep = self.now.saturating_add(SWEEP_INTERVAL_US);
        let min_timeout = self
            .tcp_timeout
            .min(self.tcp_closed_timeout)
            .min(self.udp_timeout);
        // Least recently seen first: stop at the first flow seen within the shortest timeout.
        let mut expired = Vec::new();
        for (k, f) in self.map.iter() {
            let idle = self.now.saturating_sub(f.last_ts);
            if idle < min_timeout {
                break;
            }
            if idle >= self.timeout_of(k, f) {
                let reason = if k.proto == Proto::Tcp && f.closed() {
                    EndReason::Closed
                } else {
                    EndReason::Timeout
                };
                expired.push((*k, reason));
            }
        }
        for (k, r) in expired {
            self.end(k, r);
        }
        self.counters.active = self.map.len() as u64;
        self.counters.bytes_held = self.bytes_held() as u64;
    }

    /// Ends every flow (end of capture).
    pub fn flush(&mut self) {
        while let Some((k, _)) = self.map.front() {
            let k = *k;
            self.end(k, EndReason::Shutdown);
        }
        self.counters.active = 0;
        self.counters.bytes_held = 0;
        self.app_bytes = 0;
    }

    /// Flows that ended since the last call, in the order they ended.
    pub fn drain_ended(&mut self) -> std::vec::Drain<'_, (FlowKey, Flow, EndReason)> {
        self.ended.drain(..)
    }
}

#[cfg(test)]
mod tests;
