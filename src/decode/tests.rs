use super::*;
use etherparse::PacketBuilder;
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};

const SRC4: [u8; 4] = [192, 168, 1, 10];
const DST4: [u8; 4] = [10, 0, 0, 80];

fn tcp_v4(payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(SRC4, DST4, 64)
        .tcp(40000, 80, 1000, 65535)
        .syn();
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

fn ip_tcp_v4(payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ipv4(SRC4, DST4, 64).tcp(40000, 80, 7, 1000);
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

fn udp_v4(dport: u16, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([172, 16, 0, 1], [172, 16, 0, 2], 64)
        .udp(55555, dport);
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

fn dec() -> Decoder {
    Decoder::new(DecodeConfig::default())
}

fn l4(out: Outcome<'_>) -> L4<'_> {
    match out {
        Outcome::L4(l) => l,
        other => panic!("expected L4, got {other:?}"),
    }
}

#[test]
fn ethernet_ipv4_tcp() {
    let f = tcp_v4(b"hello");
    let mut d = dec();
    let l = l4(d.decode(LinkType::Ethernet, &f));
    assert_eq!(l.src, IpAddr::V4(Ipv4Addr::from(SRC4)));
    assert_eq!(l.dst_port, 80);
    assert_eq!(l.tcp.seq, 1000);
    assert_eq!(l.tcp.flags, tcp_flags::SYN);
    assert_eq!(l.payload, b"hello");
    assert!(!l.truncated);
    assert!(l.ctx.vlans().is_empty());
    assert_eq!(d.counters.layers[Layer::Tcp.index()], 1);
}

#[test]
fn single_and_double_vlan() {
    let mut out = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .double_vlan(
            etherparse::VlanId::try_new(100).unwrap(),
            etherparse::VlanId::try_new(200).unwrap(),
        )
        .ipv4(SRC4, DST4, 64)
        .tcp(1, 2, 3, 4)
        .write(&mut out, b"x")
        .unwrap();
    let mut d = dec();
    let l = l4(d.decode(LinkType::Ethernet, &out));
    assert_eq!(l.ctx.vlans(), &[100, 200]);
    assert_eq!(d.counters.layers[Layer::Vlan.index()], 2);
}

#[test]
fn ipv6_with_extension_headers() {
    use etherparse::{IpNumber, Ipv6Extensions, Ipv6Header, Ipv6RawExtHeader};
    let src: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let dst: Ipv6Addr = "2001:db8::2".parse().unwrap();
    let exts = Ipv6Extensions {
        hop_by_hop_options: Some(Ipv6RawExtHeader::new_raw(IpNumber::TCP, &[0; 6]).unwrap()),
        ..Default::default()
    };
    let mut tcp = Vec::new();
    PacketBuilder::ipv6(src.octets(), dst.octets(), 64)
        .tcp(443, 50000, 9, 100)
        .write(&mut tcp, b"abc")
        .unwrap();
    // Splice a hop-by-hop header between the IPv6 header and TCP.
    let tcp_part = &tcp[40..];
    let mut hdr = Ipv6Header::from_slice(&tcp[..40]).unwrap().0;
    hdr.next_header = IpNumber::IPV6_HEADER_HOP_BY_HOP;
    hdr.payload_length = (tcp_part.len() + 8) as u16;
    let mut raw = Vec::new();
    hdr.write(&mut raw).unwrap();
    exts.write(&mut raw, IpNumber::IPV6_HEADER_HOP_BY_HOP)
        .unwrap();
    raw.extend_from_slice(tcp_part);
    let mut d = dec();
    let l = l4(d.decode(LinkType::Raw, &raw));
    assert_eq!(l.src, IpAddr::V6(src));
    assert_eq!(l.payload, b"abc");
    assert_eq!(d.counters.layers[Layer::Ipv6Ext.index()], 1);
}

#[test]
fn every_truncation_is_a_stop_or_truncated_never_a_panic() {
    let f = tcp_v4(b"0123456789");
    for cut in 0..f.len() {
        let mut d = dec();
        match d.decode(LinkType::Ethernet, &f[..cut]) {
            Outcome::Stop(_, StopReason::Truncated) => {}
            Outcome::L4(l) => {
                assert!(l.truncated, "cut at {cut} not marked truncated");
                assert!(cut >= 14 + 20 + 20);
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

#[test]
fn truncation_points_name_their_layer() {
    let f = tcp_v4(b"");
    let mut d = dec();
    assert_eq!(
        d.decode(LinkType::Ethernet, &f[..10]),
        Outcome::Stop(Layer::Ethernet, StopReason::Truncated)
    );
    assert_eq!(
        d.decode(LinkType::Ethernet, &f[..14 + 10]),
        Outcome::Stop(Layer::Ipv4, StopReason::Truncated)
    );
    assert_eq!(
        d.decode(LinkType::Ethernet, &f[..14 + 20 + 10]),
        Outcome::Stop(Layer::Tcp, StopReason::Truncated)
    );
    assert_eq!(d.counters.total_stops(), 3);
}

#[test]
fn bad_ip_version_and_ihl() {
    let mut f = tcp_v4(b"");
    f[14] = 0x75;
    let mut d = dec();
    assert_eq!(
        d.decode(LinkType::Ethernet, &f),
        Outcome::Stop(Layer::Ipv4, StopReason::BadVersion)
    );
    f[14] = 0x43;
    assert_eq!(
        d.decode(LinkType::Ethernet, &f),
        Outcome::Stop(Layer::Ipv4, StopReason::BadHeader)
    );
}

#[test]
fn arp_and_icmp_are_ignored_and_counted() {
    let mut arp = vec![0xff; 12];
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.extend_from_slice(&[0; 28]);
    let mut d = dec();
    assert_eq!(
        d.decode(LinkType::Ethernet, &arp),
        Outcome::Ignored(Ignored::Arp)
    );
    let mut icmp = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(SRC4, DST4, 64)
        .icmpv4_echo_request(1, 1)
        .write(&mut icmp, b"ping")
        .unwrap();
    assert_eq!(
        d.decode(LinkType::Ethernet, &icmp),
        Outcome::Ignored(Ignored::Icmp)
    );
    assert_eq!(d.counters.ignored[Ignored::Arp.index()], 1);
    assert_eq!(d.counters.ignored[Ignored::Icmp.index()], 1);
}

#[test]
fn cooked_and_loopback_link_types() {
    let ip = ip_tcp_v4(b"z");
    let mut sll = vec![0u8; 16];
    sll[14] = 0x08;
    sll.extend_from_slice(&ip);
    let mut sll2 = vec![0u8; 20];
    sll2[0] = 0x08;
    sll2.extend_from_slice(&ip);
    let mut null = 2u32.to_le_bytes().to_vec();
    null.extend_from_slice(&ip);
    let mut lo = 2u32.to_be_bytes().to_vec();
    lo.extend_from_slice(&ip);
    let mut d = dec();
    for (lt, f) in [
        (LinkType::Sll, &sll),
        (LinkType::Sll2, &sll2),
        (LinkType::Null, &null),
        (LinkType::Loop, &lo),
        (LinkType::Raw, &ip),
        (LinkType::Ipv4, &ip),
    ] {
        assert_eq!(l4(d.decode(lt, f)).payload, b"z", "{lt:?}");
    }
}

#[test]
fn dlt_mapping() {
    assert_eq!(LinkType::from_dlt(1), Some(LinkType::Ethernet));
    assert_eq!(LinkType::from_dlt(113), Some(LinkType::Sll));
    assert_eq!(LinkType::from_dlt(276), Some(LinkType::Sll2));
    assert_eq!(LinkType::from_dlt(101), Some(LinkType::Raw));
    assert_eq!(LinkType::from_dlt(105), None); // 802.11
}

fn with_ether(inner_ip: &[u8]) -> Vec<u8> {
    let mut e = vec![2u8; 12];
    e.extend_from_slice(&[0x08, 0x00]);
    e.extend_from_slice(inner_ip);
    e
}

#[test]
fn vxlan_and_geneve_give_the_inner_flow_and_tunnel_id() {
    let inner = with_ether(&ip_tcp_v4(b"in"));
    let mut vx = vec![0x08, 0, 0, 0, 0, 0, 42, 0];
    vx.extend_from_slice(&inner);
    let mut d = dec();
    let frame = udp_v4(4789, &vx);
    let l = l4(d.decode(LinkType::Ethernet, &frame));
    assert_eq!(l.src, IpAddr::V4(Ipv4Addr::from(SRC4)));
    assert_eq!(l.payload, b"in");
    assert_eq!(l.ctx.tunnel, Some(Tunnel::Vxlan { vni: 42 }));

    let mut gn = vec![0x00, 0, 0x65, 0x58, 0, 0, 9, 0];
    gn.extend_from_slice(&inner);
    let frame = udp_v4(6081, &gn);
    let l = l4(d.decode(LinkType::Ethernet, &frame));
    assert_eq!(l.ctx.tunnel, Some(Tunnel::Geneve { vni: 9 }));
    assert_eq!(l.payload, b"in");
}

fn gre_frame(gre: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2([1; 6], [2; 6]).ipv4([10, 9, 9, 1], [10, 9, 9, 2], 64);
    let mut out = Vec::new();
    b.write(&mut out, etherparse::IpNumber(47), gre).unwrap();
    out
}

#[test]
fn gre_and_erspan() {
    let ip = ip_tcp_v4(b"g");
    let mut g = vec![0x20, 0x00, 0x08, 0x00, 0, 0, 0, 5];
    g.extend_from_slice(&ip);
    let mut d = dec();
    let frame = gre_frame(&g);
    let l = l4(d.decode(LinkType::Ethernet, &frame));
    assert_eq!(l.ctx.tunnel, Some(Tunnel::Gre { key: Some(5) }));
    assert_eq!(l.payload, b"g");

    let inner = with_ether(&ip);
    let mut e2 = vec![0x10, 0x00, 0x88, 0xbe, 0, 0, 0, 1]; // S bit + seq
    e2.extend_from_slice(&[0x10, 0x00, 0x00, 0x07, 0, 0, 0, 0]);
    e2.extend_from_slice(&inner);
    let frame = gre_frame(&e2);
    let l = l4(d.decode(LinkType::Ethernet, &frame));
    assert_eq!(
        l.ctx.tunnel,
        Some(Tunnel::Erspan {
            version: 2,
            session: 7
        })
    );

    let mut e3 = vec![0x00, 0x00, 0x22, 0xeb];
    e3.extend_from_slice(&[0x20, 0x00, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 0]);
    e3.extend_from_slice(&inner);
    let frame = gre_frame(&e3);
    let l = l4(d.decode(LinkType::Ethernet, &frame));
    assert_eq!(
        l.ctx.tunnel,
        Some(Tunnel::Erspan {
            version: 3,
            session: 3
        })
    );
}

#[test]
fn nesting_is_bounded() {
    // GRE inside GRE inside GRE ... deeper than max_layers.
    let mut pkt = ip_tcp_v4(b"deep");
    for _ in 0..20 {
        let mut g = vec![0x00, 0x00, 0x08, 0x00];
        g.extend_from_slice(&pkt);
        let mut out = Vec::new();
        PacketBuilder::ipv4([1, 1, 1, 1], [2, 2, 2, 2], 64)
            .write(&mut out, etherparse::IpNumber(47), &g)
            .unwrap();
        pkt = out;
    }
    let mut d = dec();
    assert_eq!(
        d.decode(LinkType::Raw, &pkt),
        Outcome::Stop(Layer::Gre, StopReason::TooManyLayers)
    );
}

#[test]
fn mpls_and_pppoe() {
    let ip = ip_tcp_v4(b"m");
    let mut m = vec![2u8; 12];
    m.extend_from_slice(&[0x88, 0x47]);
    m.extend_from_slice(&((16u32 << 12) | 64).to_be_bytes());
    m.extend_from_slice(&((17u32 << 12) | 0x100 | 64).to_be_bytes());
    m.extend_from_slice(&ip);
    let mut d = dec();
    assert_eq!(l4(d.decode(LinkType::Ethernet, &m)).payload, b"m");
    assert_eq!(d.counters.layers[Layer::Mpls.index()], 2);

    let mut p = vec![2u8; 12];
    p.extend_from_slice(&[0x88, 0x64, 0x11, 0x00, 0x00, 0x01]);
    p.extend_from_slice(&((ip.len() + 2) as u16).to_be_bytes());
    p.extend_from_slice(&[0x00, 0x21]);
    p.extend_from_slice(&ip);
    assert_eq!(l4(d.decode(LinkType::Ethernet, &p)).payload, b"m");
}

#[test]
fn ipv4_fragment_is_handed_to_defrag() {
    let mut ip = ip_tcp_v4(&[7u8; 64]);
    // Set MF and recompute nothing: the decoder does not verify checksums.
    ip[6] = 0x20;
    let mut d = dec();
    match d.decode(LinkType::Raw, &ip) {
        Outcome::Fragment(f) => {
            assert_eq!(f.offset, 0);
            assert!(f.more);
            assert_eq!(f.proto, 6);
            assert_eq!(f.data.len(), 20 + 64);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn snaplen_cut_payload_is_marked_truncated() {
    let f = tcp_v4(&[1u8; 100]);
    let mut d = dec();
    let l = l4(d.decode(LinkType::Ethernet, &f[..f.len() - 40]));
    assert!(l.truncated);
    assert_eq!(l.payload.len(), 60);
    assert_eq!(d.counters.truncated_payloads, 1);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), lt in 0usize..8) {
        let links = [LinkType::Ethernet, LinkType::Null, LinkType::Loop, LinkType::Raw,
                     LinkType::Ipv4, LinkType::Ipv6, LinkType::Sll, LinkType::Sll2];
        let mut d = dec();
        let _ = d.decode(links[lt], &bytes);
    }

    #[test]
    fn mutated_valid_frames_never_panic(pos in 0usize..80, val in any::<u8>(), cut in 0usize..80) {
        let mut f = tcp_v4(b"GET / HTTP/1.1\r\n\r\n");
        let p = pos % f.len();
        f[p] = val;
        let end = f.len() - (cut % f.len());
        let mut d = dec();
        let _ = d.decode(LinkType::Ethernet, &f[..end]);
    }
}
