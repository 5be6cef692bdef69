use super::*;
use crate::decode::tcp_flags::{ACK, FIN, RST, SYN};
use proptest::prelude::*;
use std::collections::HashMap;
use std::net::Ipv4Addr;

fn key(client_port: u16) -> (FlowKey, bool) {
    let l4 = L4 {
        ctx: FlowCtx::default(),
        proto: Proto::Tcp,
        src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        src_port: client_port,
        dst_port: 80,
        tcp: TcpMeta::default(),
        payload: &[],
        truncated: false,
    };
    FlowKey::from_l4(&l4, true)
}

fn meta(flags: u8) -> TcpMeta {
    TcpMeta {
        flags,
        ..TcpMeta::default()
    }
}

const S: u64 = 1_000_000;

#[test]
fn both_directions_share_a_key_and_hash() {
    let a = L4 {
        ctx: FlowCtx::default(),
        proto: Proto::Tcp,
        src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        src_port: 40000,
        dst_port: 80,
        tcp: TcpMeta::default(),
        payload: &[],
        truncated: false,
    };
    let b = L4 {
        src: a.dst,
        dst: a.src,
        src_port: a.dst_port,
        dst_port: a.src_port,
        ..a.clone()
    };
    let (ka, lo_a) = FlowKey::from_l4(&a, true);
    let (kb, lo_b) = FlowKey::from_l4(&b, true);
    assert_eq!(ka, kb);
    assert_ne!(lo_a, lo_b);
    assert_eq!(ka.shard_hash(7), kb.shard_hash(7));
    assert_eq!(ka.flow_id(5), kb.flow_id(5));
    assert!(ka.flow_id(5) < 1 << 53);
}

#[test]
fn syn_sender_is_client_even_from_hi_side() {
    let mut t = FlowTable::new(&FlowConfig::default(), 1);
    let (k, lo) = key(40000);
    // The server (port 80) answers first: SYN-ACK makes the receiver the client.
    let (f, dir) = t.packet(&k, !lo, 0, &meta(SYN | ACK), 60);
    assert_eq!(dir, TO_CLIENT);
    assert!(!f.midstream);
    assert_eq!(f.client_is_lo, lo);
}

#[test]
fn midstream_uses_ports() {
    let mut t = FlowTable::new(&FlowConfig::default(), 1);
    let (k, lo) = key(51000);
    let (f, dir) = t.packet(&k, !lo, 0, &meta(ACK), 60);
    assert!(f.midstream);
    assert_eq!(dir, TO_CLIENT, "a packet from port 80 goes to the client");
}

#[test]
fn idle_timeout_ends_flow_by_packet_time() {
    let cfg = FlowConfig::default();
    let mut t = FlowTable::new(&cfg, 1);
    let (k, lo) = key(40000);
    t.packet(&k, lo, 0, &meta(SYN), 60);
    t.advance(299 * S);
    assert_eq!(t.len(), 1);
    t.advance(301 * S);
    assert_eq!(t.len(), 0);
    let ended: Vec<_> = t.drain_ended().collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].2, EndReason::Timeout);
    assert_eq!(t.counters.ended_by(EndReason::Timeout), 1);
}

#[test]
fn a_syn_on_a_closed_connection_starts_a_new_flow() {
    let mut t = FlowTable::new(&FlowConfig::default(), 1);
    let (k, lo) = key(40000);
    let first = t.packet(&k, lo, 0, &meta(SYN), 60).0.id;
    t.packet(&k, !lo, 1, &meta(SYN | ACK), 60);
    t.packet(&k, lo, 2, &meta(FIN | ACK), 60);
    // A SYN before the close is complete is a retransmission, not a new connection.
    t.packet(&k, lo, 3, &meta(SYN), 60);
    assert!(t.drain_ended().next().is_none());
    t.packet(&k, !lo, 4, &meta(FIN | ACK), 60);
    // The last ACK of the close stays on the old flow.
    t.packet(&k, lo, 5, &meta(ACK), 60);
    assert!(t.drain_ended().next().is_none());
    let (f, dir) = t.packet(&k, lo, S, &meta(SYN), 60);
    assert_eq!(dir, TO_SERVER);
    assert_ne!(f.id, first);
    assert_eq!(f.pkts, [1, 0]);
    let ended: Vec<_> = t.drain_ended().collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].1.id, first);
    assert_eq!(ended[0].2, EndReason::Closed);
    assert_eq!(t.len(), 1);
}

#[test]
fn closed_flows_use_the_short_timeout() {
    let mut t = FlowTable::new(&FlowConfig::default(), 1);
    let (k, lo) = key(40000);
    t.packet(&k, lo, 0, &meta(SYN), 60);
    t.packet(&k, !lo, 1, &meta(SYN | ACK), 60);
    t.packet(&k, lo, 2, &meta(FIN | ACK), 60);
    t.packet(&k, !lo, 3, &meta(FIN | ACK), 60);
    t.advance(11 * S);
    let ended: Vec<_> = t.drain_ended().collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].2, EndReason::Closed);
}

#[test]
fn rst_closes() {
    let mut t = FlowTable::new(&FlowConfig::default(), 1);
    let (k, lo) = key(40000);
    let (f, _) = t.packet(&k, lo, 0, &meta(RST), 60);
    assert!(f.closed());
}

#[test]
fn a_packet_after_idle_starts_a_new_flow() {
    let mut t = FlowTable::new(&FlowConfig::default(), 1);
    let (k, lo) = key(40000);
    let id1 = t.packet(&k, lo, 0, &meta(SYN), 60).0.id;
    // No sweep in between (same second bucket skipped): the lookup itself notices.
    let id2 = t.packet(&k, lo, 400 * S, &meta(ACK), 60).0.id;
    assert_ne!(id1, id2);
    assert_eq!(t.counters.created, 2);
    assert_eq!(t.drain_ended().count(), 1);
}

#[test]
fn lifetime_splits_long_flows() {
    let mut t = FlowTable::new(&FlowConfig::default(), 1);
    let (k, lo) = key(40000);
    for s in (0..=3600).step_by(60) {
        t.packet(&k, lo, s * S, &meta(ACK), 60);
    }
    let ended: Vec<_> = t.drain_ended().collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].2, EndReason::Lifetime);
}

#[test]
fn max_flows_evicts_least_recently_seen() {
    let cfg = FlowConfig {
        max_flows: 2,
        ..FlowConfig::default()
    };
    let mut t = FlowTable::new(&cfg, 1);
    let (a, la) = key(1001);
    let (b, lb) = key(1002);
    let (c, lc) = key(1003);
    t.packet(&a, la, 0, &meta(SYN), 60);
    t.packet(&b, lb, 1, &meta(SYN), 60);
    t.packet(&a, la, 2, &meta(ACK), 60); // a is now more recent than b
    t.packet(&c, lc, 3, &meta(SYN), 60);
    let ended: Vec<_> = t.drain_ended().collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].0, b);
    assert_eq!(ended[0].2, EndReason::MaxFlows);
    assert_eq!(t.len(), 2);
}

#[test]
fn memcap_evicts() {
    let cfg = FlowConfig {
        max_bytes: FLOW_ENTRY_BYTES * 3,
        ..FlowConfig::default()
    };
    let mut t = FlowTable::new(&cfg, 1);
    for p in 0..5 {
        let (k, lo) = key(2000 + p);
        t.packet(&k, lo, u64::from(p), &meta(SYN), 60);
    }
    assert_eq!(t.len(), 3);
    assert_eq!(t.counters.ended_by(EndReason::Memcap), 2);
}

#[test]
fn limits_are_shared_between_workers() {
    let cfg = FlowConfig {
        max_flows: 100,
        ..FlowConfig::default()
    };
    let t = FlowTable::new(&cfg, 4);
    assert_eq!(t.max_flows, 25);
}

#[test]
fn flush_ends_everything_once() {
    let mut t = FlowTable::new(&FlowConfig::default(), 1);
    for p in 0..10 {
        let (k, lo) = key(3000 + p);
        t.packet(&k, lo, 0, &meta(SYN), 60);
    }
    t.flush();
    assert_eq!(t.drain_ended().count(), 10);
    assert!(t.is_empty());
    assert_eq!(t.counters.ended_by(EndReason::Shutdown), 10);
}

proptest! {
    /// Against a plain HashMap model (no limits hit): packet and byte counts per flow and
    /// the number of flows match, whatever the interleaving of directions.
    #[test]
    fn counts_match_a_hashmap_model(ops in proptest::collection::vec((0u16..20, any::<bool>(), 1u32..1500), 1..300)) {
        let mut t = FlowTable::new(&FlowConfig::default(), 1);
        let mut model: HashMap<FlowKey, (u64, u64)> = HashMap::new();
        for (i, (port, from_lo, len)) in ops.iter().enumerate() {
            let (k, lo) = key(1024 + port);
            let src_is_lo = if *from_lo { lo } else { !lo };
            t.packet(&k, src_is_lo, i as u64, &meta(ACK), *len);
            let m = model.entry(k).or_default();
            m.0 += 1;
            m.1 += u64::from(*len);
        }
        prop_assert_eq!(t.len(), model.len());
        t.flush();
        let ended: Vec<_> = t.drain_ended().collect();
        prop_assert_eq!(ended.len(), model.len());
        for (k, f, _) in ended {
            let (pkts, bytes) = model[&k];
            prop_assert_eq!(f.pkts[0] + f.pkts[1], pkts);
            prop_assert_eq!(f.bytes[0] + f.bytes[1], bytes);
        }
    }

    /// With a small max_flows, the table never exceeds it and every flow created ends once.
    #[test]
    fn bounded_and_conserving(ops in proptest::collection::vec((0u16..50, 0u64..5), 1..400), max in 1usize..10) {
        let cfg = FlowConfig { max_flows: max, ..FlowConfig::default() };
        let mut t = FlowTable::new(&cfg, 1);
        let mut ts = 0;
        let mut ended = 0;
        for (port, dt) in ops {
            ts += dt * S;
            let (k, lo) = key(1024 + port);
            t.packet(&k, lo, ts, &meta(ACK), 60);
            prop_assert!(t.len() <= max);
            ended += t.drain_ended().count() as u64;
        }
        t.flush();
        ended += t.drain_ended().count() as u64;
        prop_assert_eq!(ended, t.counters.created);
    }
}
