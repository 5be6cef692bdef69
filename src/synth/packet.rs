//! Frame builder: link layer, L2 encapsulations, tunnels, IP, transport.
//!
//! A [`Frame`] is described outer to inner (link, then `encaps`, then IP,
//! then transport) and encoded with [`Frame::to_bytes`].
//!
//! Guarantees:
//! - IPv4 header checksums and TCP/UDP/ICMP checksums are correct, for the
//!   inner packet and for every tunnel's outer IPv4/UDP headers.
//! - Encaps before the first tunnel apply to the outer frame; encaps after a
//!   tunnel apply to the frame that tunnel carries (an inner Ethernet frame
//!   for VXLAN, GENEVE, GRE-Ethernet and ERSPAN; bare IP for `Gre`, where
//!   only MPLS may follow).
//! - Tunnels use fixed outer addresses ([`TUNNEL_SRC_IP`] ->
//!   [`TUNNEL_DST_IP`], [`TUNNEL_SRC_MAC`] -> [`TUNNEL_DST_MAC`]).
//! - Anything that cannot be encoded (VLAN id >= 4096, a VLAN tag on a
//!   raw-IP link, IPv6 on the IPv4-only link, an over-long packet, ...) is a
//!   [`SynthError`], never a panic.
//! - Output depends only on the description: encoding is deterministic.
//!
//! Header layouts follow: Ethernet II / IEEE 802.1Q / 802.1ad, MPLS
//! (RFC 3032), PPPoE session stage (RFC 2516), VXLAN (RFC 7348), GENEVE
//! (RFC 8926), GRE (RFC 2784 with the RFC 2890 key and sequence fields),
//! ERSPAN type II and III (draft-foschiano-erspan-03), Linux cooked capture
//! v1/v2 (libpcap's LINKTYPE_LINUX_SLL / LINKTYPE_LINUX_SLL2 pages) and the
//! BSD loopback headers (LINKTYPE_NULL / LINKTYPE_LOOP).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::pcap::{
    LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP, LINKTYPE_NULL, LINKTYPE_RAW,
};
use super::SynthError;

/// EtherType values used by the builder.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// IPv6.
    pub const IPV6: u16 = 0x86DD;
    /// IEEE 802.1Q customer VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// IEEE 802.1ad service VLAN tag (QinQ outer tag).
    pub const QINQ: u16 = 0x88A8;
    /// MPLS unicast.
    pub const MPLS: u16 = 0x8847;
    /// PPPoE session stage.
    pub const PPPOE_SESSION: u16 = 0x8864;
    /// Transparent Ethernet bridging (GRE / GENEVE protocol type).
    pub const TEB: u16 = 0x6558;
    /// ERSPAN type I/II (GRE protocol type).
    pub const ERSPAN_II: u16 = 0x88BE;
    /// ERSPAN type III (GRE protocol type).
    pub const ERSPAN_III: u16 = 0x22EB;
}

/// IP protocol numbers used by the builder.
pub mod ipproto {
    /// IPv6 hop-by-hop options.
    pub const HOPOPT: u8 = 0;
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 fragment header.
    pub const FRAGMENT: u8 = 44;
    /// GRE.
    pub const GRE: u8 = 47;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// IPv6 no next header.
    pub const NONE: u8 = 59;
    /// IPv6 destination options.
    pub const DSTOPTS: u8 = 60;
    /// IPv6 routing header.
    pub const ROUTING: u8 = 43;
}

/// VXLAN UDP destination port (RFC 7348).
pub const VXLAN_PORT: u16 = 4789;
/// GENEVE UDP destination port (RFC 8926).
pub const GENEVE_PORT: u16 = 6081;
/// Outer source address of every tunnel.
pub const TUNNEL_SRC_IP: Ipv4Addr = Ipv4Addr::new(10, 255, 0, 1);
/// Outer destination address of every tunnel.
pub const TUNNEL_DST_IP: Ipv4Addr = Ipv4Addr::new(10, 255, 0, 2);
/// Outer source MAC when the link is Ethernet and a tunnel is present.
pub const TUNNEL_SRC_MAC: [u8; 6] = [0x02, 0xee, 0x00, 0x00, 0x00, 0x01];
/// Outer destination MAC when the link is Ethernet and a tunnel is present.
pub const TUNNEL_DST_MAC: [u8; 6] = [0x02, 0xee, 0x00, 0x00, 0x00, 0x02];
/// Address family for IPv4 in the loopback headers.
pub const AF_INET: u32 = 2;
/// AF_INET6 written for [`Link::Null`] (Darwin's value; FreeBSD uses 28,
/// NetBSD/OpenBSD 24).
pub const AF_INET6_NULL: u32 = 30;
/// AF_INET6 written for [`Link::Loop`] (OpenBSD's value).
pub const AF_INET6_LOOP: u32 = 24;
/// Interface index written in Linux SLL2 headers.
pub const SLL2_IFINDEX: u32 = 1;
/// Minimum Ethernet frame length without FCS (used by `pad_ethernet`).
pub const ETHERNET_MIN_LEN: usize = 60;

/// The outermost layer of a frame; each maps to one pcap link type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Link {
    /// Ethernet II (`LINKTYPE_ETHERNET`, 1).
    Ethernet,
    /// Linux cooked capture v1 (`LINKTYPE_LINUX_SLL`, 113).
    Sll,
    /// Linux cooked capture v2 (`LINKTYPE_LINUX_SLL2`, 276).
    Sll2,
    /// Raw IPv4 or IPv6 (`LINKTYPE_RAW`, 101).
    RawIp,
    /// Raw IPv4 only (`LINKTYPE_IPV4`, 228).
    Ipv4Only,
    /// Raw IPv6 only (`LINKTYPE_IPV6`, 229).
    Ipv6Only,
    /// BSD loopback, address family little-endian (`LINKTYPE_NULL`, 0).
    Null,
    /// OpenBSD loopback, address family big-endian (`LINKTYPE_LOOP`, 108).
    Loop,
}

impl Link {
    /// The pcap link type number of this link.
    pub fn linktype(self) -> u32 {
        match self {
            Link::Ethernet => LINKTYPE_ETHERNET,
            Link::Sll => LINKTYPE_LINUX_SLL,
            Link::Sll2 => LINKTYPE_LINUX_SLL2,
            Link::RawIp => LINKTYPE_RAW,
            Link::Ipv4Only => LINKTYPE_IPV4,
            Link::Ipv6Only => LINKTYPE_IPV6,
            Link::Null => LINKTYPE_NULL,
            Link::Loop => LINKTYPE_LOOP,
        }
    }

    /// Whether the link header carries an EtherType (so VLAN, MPLS and
    /// PPPoE may follow it).
    pub fn has_ethertype(self) -> bool {
        matches!(self, Link::Ethernet | Link::Sll | Link::Sll2)
    }
}

/// One encapsulation layer between the link and the IP packet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Encap {
    /// IEEE 802.1Q tag (TPID 0x8100), VLAN id `< 4096`.
    Vlan(u16),
    /// IEEE 802.1ad outer tag (TPID 0x88a8) then an 802.1Q inner tag.
    QinQ {
        /// Service VLAN id.
        outer: u16,
        /// Customer VLAN id.
        inner: u16,
    },
    /// MPLS label stack, outermost first; bottom-of-stack set on the last,
    /// TTL 64, IP directly after. Labels `< 2^20`.
    Mpls(Vec<u32>),
    /// PPPoE session header (0x8864) + PPP protocol 0x0021/0x0057.
    Pppoe {
        /// PPPoE session id.
        session: u16,
    },
    /// VXLAN (UDP 4789) carrying an inner Ethernet frame; VNI `< 2^24`.
    Vxlan {
        /// VXLAN network identifier.
        vni: u32,
    },
    /// GENEVE (UDP 6081, protocol 0x6558) carrying an inner Ethernet frame.
    Geneve {
        /// Virtual network identifier.
        vni: u32,
    },
    /// GRE (IP protocol 47) carrying IP directly, optional RFC 2890 key.
    Gre {
        /// GRE key (sets the K bit).
        key: Option<u32>,
    },
    /// GRE with protocol 0x6558 carrying an inner Ethernet frame.
    GreEthernet {
        /// GRE key (sets the K bit).
        key: Option<u32>,
    },
    /// ERSPAN type II: GRE (S bit, protocol 0x88be) + 8-byte header +
    /// inner Ethernet frame. Session `< 1024`.
    ErspanII {
        /// ERSPAN session id.
        session: u16,
    },
    /// ERSPAN type III: GRE (S bit, protocol 0x22eb) + 12-byte header +
    /// inner Ethernet frame. Session `< 1024`.
    ErspanIII {
        /// ERSPAN session id.
        session: u16,
    },
}

impl Encap {
    /// Whether this layer is a tunnel (adds outer IPv4 headers).
    pub fn is_tunnel(&self) -> bool {
        !matches!(
            self,
            Encap::Vlan(_) | Encap::QinQ { .. } | Encap::Mpls(_) | Encap::Pppoe { .. }
        )
    }

    /// Whether this tunnel carries an inner Ethernet frame.
    pub fn carries_ethernet(&self) -> bool {
        self.is_tunnel() && !matches!(self, Encap::Gre { .. })
    }

    /// Short name, for descriptions.
    pub fn name(&self) -> &'static str {
        match self {
            Encap::Vlan(_) => "vlan",
            Encap::QinQ { .. } => "qinq",
            Encap::Mpls(_) => "mpls",
            Encap::Pppoe { .. } => "pppoe",
            Encap::Vxlan { .. } => "vxlan",
            Encap::Geneve { .. } => "geneve",
            Encap::Gre { .. } => "gre",
            Encap::GreEthernet { .. } => "gre-ethernet",
            Encap::ErspanII { .. } => "erspan2",
            Encap::ErspanIII { .. } => "erspan3",
        }
    }
}

/// TCP flag bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No flags.
    pub const NONE: TcpFlags = TcpFlags(0);
    /// FIN.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// SYN.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// RST.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// PSH.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// ACK.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// URG.
    pub const URG: TcpFlags = TcpFlags(0x20);

    /// Whether all bits of `other` are set.
    pub fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

/// The transport layer (and its payload).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Transport {
    /// A TCP segment; `options` are raw option bytes (padded with EOL to a
    /// multiple of 4, at most 40 bytes).
    Tcp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Sequence number.
        seq: u32,
        /// Acknowledgment number.
        ack: u32,
        /// Flags.
        flags: TcpFlags,
        /// Receive window.
        window: u16,
        /// Raw option bytes.
        options: Vec<u8>,
        /// Payload.
        payload: Vec<u8>,
    },
    /// A UDP datagram.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Payload.
        payload: Vec<u8>,
    },
    /// ICMP (IPv4) or ICMPv6 (IPv6) message.
    Icmp {
        /// Type.
        icmp_type: u8,
        /// Code.
        code: u8,
        /// The 4 bytes after the checksum (e.g. echo identifier+sequence).
        rest: [u8; 4],
        /// Data.
        payload: Vec<u8>,
    },
    /// Any other IP protocol, payload written verbatim.
    Raw {
        /// IP protocol number.
        protocol: u8,
        /// Payload.
        payload: Vec<u8>,
    },
}

impl Transport {
    /// A TCP segment with window 65535 and no options.
    pub fn tcp(
        src_port: u16,
        dst_port: u16,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        payload: Vec<u8>,
    ) -> Self {
        Transport::Tcp {
            src_port,
            dst_port,
            seq,
            ack,
            flags,
            window: 65535,
            options: Vec::new(),
            payload,
        }
    }

    /// The IP protocol number for this transport under IPv4 or IPv6.
    pub fn protocol(&self, v6: bool) -> u8 {
        match self {
            Transport::Tcp { .. } => ipproto::TCP,
            Transport::Udp { .. } => ipproto::UDP,
            Transport::Icmp { .. } if v6 => ipproto::ICMPV6,
            Transport::Icmp { .. } => ipproto::ICMP,
            Transport::Raw { protocol, .. } => *protocol,
        }
    }
}

/// Source and destination IP addresses of the (innermost) packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpPair {
    /// IPv4.
    V4 {
        /// Source.
        src: Ipv4Addr,
        /// Destination.
        dst: Ipv4Addr,
    },
    /// IPv6.
    V6 {
        /// Source.
        src: Ipv6Addr,
        /// Destination.
        dst: Ipv6Addr,
    },
}

impl IpPair {
    /// Pair from two addresses of the same family.
    pub fn new(src: IpAddr, dst: IpAddr) -> Result<Self, SynthError> {
        match (src, dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => Ok(IpPair::V4 { src, dst }),
            (IpAddr::V6(src), IpAddr::V6(dst)) => Ok(IpPair::V6 { src, dst }),
            _ => Err(SynthError::frame(
                "source and destination differ in IP version",
            )),
        }
    }

    /// Pair from two socket addresses of the same family.
    pub fn from_sockets(src: SocketAddr, dst: SocketAddr) -> Result<Self, SynthError> {
        IpPair::new(src.ip(), dst.ip())
    }

    /// Source and destination swapped.
    pub fn reversed(self) -> Self {
        match self {
            IpPair::V4 { src, dst } => IpPair::V4 { src: dst, dst: src },
            IpPair::V6 { src, dst } => IpPair::V6 { src: dst, dst: src },
        }
    }

    /// Whether this is IPv6.
    pub fn is_v6(self) -> bool {
        matches!(self, IpPair::V6 { .. })
    }

    /// Source address.
    pub fn src(self) -> IpAddr {
        match self {
            IpPair::V4 { src, .. } => IpAddr::V4(src),
            IpPair::V6 { src, .. } => IpAddr::V6(src),
        }
    }

    /// Destination address.
    pub fn dst(self) -> IpAddr {
        match self {
            IpPair::V4 { dst, .. } => IpAddr::V4(dst),
            IpPair::V6 { dst, .. } => IpAddr::V6(dst),
        }
    }
}

/// A locally administered MAC derived from an IP address (02:00 + the low
/// 32 bits of the address), so every host has a stable MAC.
pub fn mac_for(ip: IpAddr) -> [u8; 6] {
    let low: [u8; 4] = match ip {
        IpAddr::V4(a) => a.octets(),
        IpAddr::V6(a) => {
            let o = a.octets();
            [o[12], o[13], o[14], o[15]]
        }
    };
    [0x02, 0x00, low[0], low[1], low[2], low[3]]
}

/// A complete frame description, outer to inner.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Frame {
    /// Outermost layer.
    pub link: Link,
    /// Encapsulations, outer to inner (see module docs for tunnels).
    pub encaps: Vec<Encap>,
    /// Source MAC of the (innermost) Ethernet frame, and the SLL address.
    pub src_mac: [u8; 6],
    /// Destination MAC of the (innermost) Ethernet frame.
    pub dst_mac: [u8; 6],
    /// SLL/SLL2 packet type: `true` writes 4 (sent by us), else 0 (to us).
    pub outgoing: bool,
    /// Pad the outer Ethernet frame to 60 bytes, as received frames are.
    pub pad_ethernet: bool,
    /// Addresses of the innermost IP packet.
    pub ip: IpPair,
    /// IPv6 only: add a hop-by-hop and a destination-options header (8 bytes
    /// each, PadN) before the transport.
    pub ipv6_ext: bool,
    /// IPv4 identification (also outer tunnel IPv4 id and the GRE sequence
    /// number).
    pub ip_id: u16,
    /// TTL / hop limit.
    pub ttl: u8,
    /// IPv4 don't-fragment bit.
    pub dont_fragment: bool,
    /// Transport and payload.
    pub transport: Transport,
}

impl Frame {
    /// An Ethernet frame with MACs from [`mac_for`], TTL 64, id 0.
    pub fn new(ip: IpPair, transport: Transport) -> Self {
        Frame {
            link: Link::Ethernet,
            encaps: Vec::new(),
            src_mac: mac_for(ip.src()),
            dst_mac: mac_for(ip.dst()),
            outgoing: false,
            pad_ethernet: false,
            ip,
            ipv6_ext: false,
            ip_id: 0,
            ttl: 64,
            dont_fragment: false,
            transport,
        }
    }

    /// Sets the link.
    pub fn with_link(mut self, link: Link) -> Self {
        self.link = link;
        self
    }

    /// Sets the encapsulations.
    pub fn with_encaps(mut self, encaps: Vec<Encap>) -> Self {
        self.encaps = encaps;
        self
    }

    /// Sets the IPv4 identification.
    pub fn with_ip_id(mut self, id: u16) -> Self {
        self.ip_id = id;
        self
    }

    /// Sets the IPv6 extension-header flag.
    pub fn with_ipv6_ext(mut self, on: bool) -> Self {
        self.ipv6_ext = on;
        self
    }

    /// The link-and-encapsulation part of this frame.
    pub fn wrapping(&self) -> Wrapping<'_> {
        Wrapping {
            link: self.link,
            encaps: &self.encaps,
            src_mac: self.src_mac,
            dst_mac: self.dst_mac,
            outgoing: self.outgoing,
            pad_ethernet: self.pad_ethernet,
            tunnel_seq: u32::from(self.ip_id),
        }
    }

    /// Appends the innermost IP packet (IP header(s) + transport) to `out`.
    pub fn write_ip_packet(&self, out: &mut Vec<u8>) -> Result<(), SynthError> {
        let v6 = self.ip.is_v6();
        let proto = self.transport.protocol(v6);
        let start = out.len();
        match self.ip {
            IpPair::V4 { src, dst } => {
                if self.ipv6_ext {
                    return Err(SynthError::frame("ipv6_ext set on an IPv4 frame"));
                }
                out.extend_from_slice(&[0u8; 20]);
                let tstart = out.len();
                write_transport(&self.transport, Some(pseudo_v4(src, dst, proto)), out)?;
                let tlen = out.len() - tstart;
                let hdr = ipv4_header(
                    src,
                    dst,
                    self.ip_id,
                    self.ttl,
                    self.dont_fragment,
                    proto,
                    tlen,
                )?;
                out[start..start + 20].copy_from_slice(&hdr);
            }
            IpPair::V6 { src, dst } => {
                out.extend_from_slice(&[0u8; 40]);
                let first = if self.ipv6_ext {
                    // Hop-by-hop: next = dstopts, len 0 (8 bytes), PadN(4).
                    out.extend_from_slice(&[ipproto::DSTOPTS, 0, 1, 4, 0, 0, 0, 0]);
                    // Destination options: next = transport, PadN(4).
                    out.extend_from_slice(&[proto, 0, 1, 4, 0, 0, 0, 0]);
                    ipproto::HOPOPT
                } else {
                    proto
                };
                let tstart = out.len();
                write_transport(&self.transport, None, out)?;
                let tlen = out.len() - tstart;
                let sum = pseudo_v6(src, dst, proto, tlen);
                patch_transport_checksum(&self.transport, sum, &mut out[tstart..]);
                let plen = out.len() - start - 40;
                let hdr = ipv6_header(src, dst, first, self.ttl, plen)?;
                out[start..start + 40].copy_from_slice(&hdr);
            }
        }
        Ok(())
    }

    /// The innermost IP packet as a new vector.
    pub fn ip_packet(&self) -> Result<Vec<u8>, SynthError> {
        let mut v = Vec::with_capacity(64 + payload_len(&self.transport));
        self.write_ip_packet(&mut v)?;
        Ok(v)
    }

    /// Appends the whole encoded frame to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) -> Result<(), SynthError> {
        let ip = self.ip_packet()?;
        self.wrapping().wrap(&ip, out)
    }

    /// The whole encoded frame.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SynthError> {
        let mut v = Vec::with_capacity(128 + payload_len(&self.transport));
        self.write_to(&mut v)?;
        Ok(v)
    }
}

fn payload_len(t: &Transport) -> usize {
    match t {
        Transport::Tcp { payload, .. }
        | Transport::Udp { payload, .. }
        | Transport::Icmp { payload, .. }
        | Transport::Raw { payload, .. } => payload.len(),
    }
}

/// Link layer and encapsulations, applied to an already built IP packet
/// (used by [`Frame`] and to wrap IP fragments).
#[derive(Debug, Clone, Copy)]
pub struct Wrapping<'a> {
    /// Outermost layer.
    pub link: Link,
    /// Encapsulations, outer to inner.
    pub encaps: &'a [Encap],
    /// Inner Ethernet source MAC / SLL address.
    pub src_mac: [u8; 6],
    /// Inner Ethernet destination MAC.
    pub dst_mac: [u8; 6],
    /// SLL packet type "sent by us".
    pub outgoing: bool,
    /// Pad the outer Ethernet frame to 60 bytes.
    pub pad_ethernet: bool,
    /// GRE sequence number and outer IPv4 id of tunnels.
    pub tunnel_seq: u32,
}

impl Wrapping<'_> {
    /// Appends `ip_packet` (an IPv4 or IPv6 packet, possibly a fragment)
    /// wrapped in the encapsulations and link header to `out`.
    pub fn wrap(&self, ip_packet: &[u8], out: &mut Vec<u8>) -> Result<(), SynthError> {
        let mut etype = match ip_packet.first().map(|b| b >> 4) {
            Some(4) => ethertype::IPV4,
            Some(6) => ethertype::IPV6,
            _ => return Err(SynthError::frame("payload is not an IPv4/IPv6 packet")),
        };
        // Segments separated by tunnels: segs[0] is outer, tunnels[i] sits
        // between segs[i] and segs[i+1].
        let mut segs: Vec<&[Encap]> = Vec::new();
        let mut tunnels: Vec<&Encap> = Vec::new();
        let mut begin = 0;
        for (i, e) in self.encaps.iter().enumerate() {
            if e.is_tunnel() {
                segs.push(&self.encaps[begin..i]);
                tunnels.push(e);
                begin = i + 1;
            }
        }
        segs.push(&self.encaps[begin..]);

        let mut cur = ip_packet.to_vec();
        for si in (0..segs.len()).rev() {
            let seg = segs[si];
            for e in seg.iter().rev() {
                if si > 0 && !tunnels[si - 1].carries_ethernet() && !matches!(e, Encap::Mpls(_)) {
                    return Err(SynthError::frame(format!(
                        "{} cannot follow an IP-in-GRE tunnel (only mpls can)",
                        e.name()
                    )));
                }
                if si == 0 && !self.link.has_ethertype() {
                    return Err(SynthError::frame(format!(
                        "{} needs an EtherType link, not {:?}",
                        e.name(),
                        self.link
                    )));
                }
                let (next, t) = apply_l2(e, &cur, etype)?;
                cur = next;
                etype = t;
            }
            if si == 0 {
                break;
            }
            let tunnel = tunnels[si - 1];
            if tunnel.carries_ethernet() {
                let mut f = Vec::with_capacity(14 + cur.len());
                f.extend_from_slice(&self.dst_mac);
                f.extend_from_slice(&self.src_mac);
                f.extend_from_slice(&etype.to_be_bytes());
                f.extend_from_slice(&cur);
                cur = f;
            }
            // ERSPAN reports the inner frame's first VLAN tag.
            let inner_vlan = match seg.first() {
                Some(Encap::Vlan(v)) => Some(*v),
                Some(Encap::QinQ { outer, .. }) => Some(*outer),
                _ => None,
            };
            cur = tunnel_packet(tunnel, &cur, etype, self.tunnel_seq, inner_vlan)?;
            etype = ethertype::IPV4;
        }

        let has_tunnel = !tunnels.is_empty();
        let start = out.len();
        match self.link {
            Link::Ethernet => {
                let (dst, src) = if has_tunnel {
                    (TUNNEL_DST_MAC, TUNNEL_SRC_MAC)
                } else {
                    (self.dst_mac, self.src_mac)
                };
                out.extend_from_slice(&dst);
                out.extend_from_slice(&src);
                out.extend_from_slice(&etype.to_be_bytes());
                out.extend_from_slice(&cur);
                if self.pad_ethernet && out.len() - start < ETHERNET_MIN_LEN {
                    out.resize(start + ETHERNET_MIN_LEN, 0);
                }
            }
            Link::Sll => {
                let ptype: u16 = if self.outgoing { 4 } else { 0 };
                out.extend_from_slice(&ptype.to_be_bytes());
                out.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
                out.extend_from_slice(&6u16.to_be_bytes());
                out.extend_from_slice(&self.src_mac);
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&etype.to_be_bytes());
                out.extend_from_slice(&cur);
            }
            Link::Sll2 => {
                out.extend_from_slice(&etype.to_be_bytes());
                out.extend_from_slice(&[0, 0]); // reserved
                out.extend_from_slice(&SLL2_IFINDEX.to_be_bytes());
                out.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
                out.push(if self.outgoing { 4 } else { 0 });
                out.push(6);
                out.extend_from_slice(&self.src_mac);
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&cur);
            }
            Link::RawIp | Link::Ipv4Only | Link::Ipv6Only | Link::Null | Link::Loop => {
                let v6 = match etype {
                    ethertype::IPV4 => false,
                    ethertype::IPV6 => true,
                    _ => return Err(SynthError::frame("link without EtherType needs IP")),
                };
                match (self.link, v6) {
                    (Link::Ipv4Only, true) => {
                        return Err(SynthError::frame("IPv6 packet on the IPv4-only link"))
                    }
                    (Link::Ipv6Only, false) => {
                        return Err(SynthError::frame("IPv4 packet on the IPv6-only link"))
                    }
                    (Link::Null, _) => {
                        let af = if v6 { AF_INET6_NULL } else { AF_INET };
                        out.extend_from_slice(&af.to_le_bytes());
                    }
                    (Link::Loop, _) => {
                        let af = if v6 { AF_INET6_LOOP } else { AF_INET };
                        out.extend_from_slice(&af.to_be_bytes());
                    }
                    _ => {}
                }
                out.extend_from_slice(&cur);
            }
        }
        Ok(())
    }
}

fn apply_l2(e: &Encap, inner: &[u8], etype: u16) -> Result<(Vec<u8>, u16), SynthError> {
    let mut v = Vec::with_capacity(inner.len() + 16);
    let is_ip = etype == ethertype::IPV4 || etype == ethertype::IPV6;
    let t = match e {
        Encap::Vlan(id) => {
            v.extend_from_slice(&vlan_tci(*id)?.to_be_bytes());
            v.extend_from_slice(&etype.to_be_bytes());
            ethertype::VLAN
        }
        Encap::QinQ { outer, inner: iv } => {
            v.extend_from_slice(&vlan_tci(*outer)?.to_be_bytes());
            v.extend_from_slice(&ethertype::VLAN.to_be_bytes());
            v.extend_from_slice(&vlan_tci(*iv)?.to_be_bytes());
            v.extend_from_slice(&etype.to_be_bytes());
            ethertype::QINQ
        }
        Encap::Mpls(labels) => {
            if !is_ip {
                return Err(SynthError::frame("mpls must carry IP directly"));
            }
            if labels.is_empty() {
                return Err(SynthError::frame("mpls needs at least one label"));
            }
            for (i, &l) in labels.iter().enumerate() {
                if l >= 1 << 20 {
                    return Err(SynthError::frame(format!("mpls label {l} >= 2^20")));
                }
                let bos = u32::from(i + 1 == labels.len());
                let entry = (l << 12) | (bos << 8) | 64;
                v.extend_from_slice(&entry.to_be_bytes());
            }
            ethertype::MPLS
        }
        Encap::Pppoe { session } => {
            let ppp: u16 = match etype {
                ethertype::IPV4 => 0x0021,
                ethertype::IPV6 => 0x0057,
                _ => return Err(SynthError::frame("pppoe must carry IP directly")),
            };
            let len =
                u16::try_from(inner.len() + 2).map_err(|_| SynthError::TooLarge(inner.len()))?;
            v.extend_from_slice(&[0x11, 0x00]);
            v.extend_from_slice(&session.to_be_bytes());
            v.extend_from_slice(&len.to_be_bytes());
            v.extend_from_slice(&ppp.to_be_bytes());
            ethertype::PPPOE_SESSION
        }
        _ => {
            return Err(SynthError::frame(
                "tunnel given where an L2 layer was expected",
            ))
        }
    };
    v.extend_from_slice(inner);
    Ok((v, t))
}

fn vlan_tci(id: u16) -> Result<u16, SynthError> {
    if id >= 4096 {
        return Err(SynthError::frame(format!("vlan id {id} >= 4096")));
    }
    Ok(id)
}

fn check_vni(vni: u32) -> Result<[u8; 3], SynthError> {
    if vni >= 1 << 24 {
        return Err(SynthError::frame(format!("vni {vni} >= 2^24")));
    }
    let b = vni.to_be_bytes();
    Ok([b[1], b[2], b[3]])
}

fn check_session(session: u16) -> Result<u32, SynthError> {
    if session >= 1024 {
        return Err(SynthError::frame(format!(
            "erspan session {session} >= 1024"
        )));
    }
    Ok(u32::from(session))
}

/// Builds the outer IPv4 packet of a tunnel around `inner` (an Ethernet
/// frame, or an IP packet / MPLS stack for `Gre`, whose type is `etype`).
fn tunnel_packet(
    tunnel: &Encap,
    inner: &[u8],
    etype: u16,
    seq: u32,
    inner_vlan: Option<u16>,
) -> Result<Vec<u8>, SynthError> {
    let mut payload = Vec::with_capacity(inner.len() + 24);
    let proto = match tunnel {
        Encap::Vxlan { vni } | Encap::Geneve { vni } => {
            let vni = check_vni(*vni)?;
            let (port, hdr) = if let Encap::Vxlan { .. } = tunnel {
                // RFC 7348: flags with the I bit, 24 reserved bits, VNI, reserved.
                (VXLAN_PORT, [0x08, 0, 0, 0, vni[0], vni[1], vni[2], 0])
            } else {
                // RFC 8926: ver 0, opt len 0, O=0, C=0, protocol 0x6558.
                (GENEVE_PORT, [0, 0, 0x65, 0x58, vni[0], vni[1], vni[2], 0])
            };
            let mut udp_payload = Vec::with_capacity(8 + inner.len());
            udp_payload.extend_from_slice(&hdr);
            udp_payload.extend_from_slice(inner);
            // Stable per-VNI source port in the dynamic range.
            let sport =
                0xC000 | ((u32::from_be_bytes([0, vni[0], vni[1], vni[2]]) & 0x3FFF) as u16);
            let t = Transport::Udp {
                src_port: sport,
                dst_port: port,
                payload: udp_payload,
            };
            write_transport(
                &t,
                Some(pseudo_v4(TUNNEL_SRC_IP, TUNNEL_DST_IP, ipproto::UDP)),
                &mut payload,
            )?;
            ipproto::UDP
        }
        Encap::Gre { key } | Encap::GreEthernet { key } => {
            let gre_proto = if matches!(tunnel, Encap::Gre { .. }) {
                etype
            } else {
                ethertype::TEB
            };
            let flags: u16 = if key.is_some() { 0x2000 } else { 0 };
            payload.extend_from_slice(&flags.to_be_bytes());
            payload.extend_from_slice(&gre_proto.to_be_bytes());
            if let Some(k) = key {
                payload.extend_from_slice(&k.to_be_bytes());
            }
            payload.extend_from_slice(inner);
            ipproto::GRE
        }
        Encap::ErspanII { session } | Encap::ErspanIII { session } => {
            let session = check_session(*session)?;
            let v3 = matches!(tunnel, Encap::ErspanIII { .. });
            let gre_proto = if v3 {
                ethertype::ERSPAN_III
            } else {
                ethertype::ERSPAN_II
            };
            payload.extend_from_slice(&0x1000u16.to_be_bytes()); // S bit
            payload.extend_from_slice(&gre_proto.to_be_bytes());
            payload.extend_from_slice(&seq.to_be_bytes());
            let vlan = u32::from(inner_vlan.unwrap_or(0) & 0x0FFF);
            if v3 {
                // Ver 2 | VLAN | COS 0 | BSO 0 | T 0 | session
                let w0 = (2 << 28) | (vlan << 16) | session;
                payload.extend_from_slice(&w0.to_be_bytes());
                payload.extend_from_slice(&0u32.to_be_bytes()); // timestamp
                                                                // SGT 0 | P=1 (Ethernet PDU) | FT 0 (Ethernet) | HwID 0 | D 0
                                                                // | Gra 0 | O 0 (no platform-specific subheader)
                payload.extend_from_slice(&0x0000_8000u32.to_be_bytes());
            } else {
                // Ver 1 | VLAN | COS 0 | En (3 = tag preserved, 0 = none) |
                // T 0 | session; then reserved 12 bits | index 0.
                let en: u32 = if inner_vlan.is_some() { 3 } else { 0 };
                let w0 = (1 << 28) | (vlan << 16) | (en << 11) | session;
                payload.extend_from_slice(&w0.to_be_bytes());
                payload.extend_from_slice(&0u32.to_be_bytes());
            }
            payload.extend_from_slice(inner);
            ipproto::GRE
        }
        _ => return Err(SynthError::frame("not a tunnel")),
    };
    let hdr = ipv4_header(
        TUNNEL_SRC_IP,
        TUNNEL_DST_IP,
        seq as u16,
        64,
        false,
        proto,
        payload.len(),
    )?;
    let mut pkt = Vec::with_capacity(20 + payload.len());
    pkt.extend_from_slice(&hdr);
    pkt.extend_from_slice(&payload);
    Ok(pkt)
}

/// One's-complement sum of `data` as big-endian 16-bit words (odd trailing
/// byte padded with zero), added to `sum`. Fold with [`checksum_fold`].
pub fn checksum_add(mut sum: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        // Add the two 32-bit halves; carries are kept in the upper bits and
        // folded at the end (fine for any packet shorter than 2^32 bytes).
        sum += (w >> 32) + (w & 0xFFFF_FFFF);
    }
    let rest = chunks.remainder();
    let mut pairs = rest.chunks_exact(2);
    for p in &mut pairs {
        sum += u64::from(u16::from_be_bytes([p[0], p[1]]));
    }
    if let [b] = pairs.remainder() {
        sum += u64::from(*b) << 8;
    }
    sum
}

/// Folds a sum from [`checksum_add`] into the final (complemented) 16-bit
/// Internet checksum.
pub fn checksum_fold(mut sum: u64) -> u16 {
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

/// RFC 1071 Internet checksum of `data`.
pub fn internet_checksum(data: &[u8]) -> u16 {
    checksum_fold(checksum_add(0, data))
}

/// Pseudo-header sum for IPv4 (without the length, added by the writer).
fn pseudo_v4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8) -> u64 {
    let s = checksum_add(0, &src.octets());
    checksum_add(s, &dst.octets()) + u64::from(proto)
}

fn pseudo_v6(src: Ipv6Addr, dst: Ipv6Addr, proto: u8, len: usize) -> u64 {
    let s = checksum_add(0, &src.octets());
    checksum_add(s, &dst.octets()) + u64::from(proto) + (len as u64 & 0xFFFF) + ((len as u64) >> 16)
}

/// A 20-byte IPv4 header (no options) with a correct checksum.
pub fn ipv4_header(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    id: u16,
    ttl: u8,
    dont_fragment: bool,
    proto: u8,
    payload_len: usize,
) -> Result<[u8; 20], SynthError> {
    let total =
        u16::try_from(20 + payload_len).map_err(|_| SynthError::TooLarge(20 + payload_len))?;
    let mut h = [0u8; 20];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    if dont_fragment {
        h[6] = 0x40;
    }
    h[8] = ttl;
    h[9] = proto;
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    let c = internet_checksum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    Ok(h)
}

/// A 40-byte IPv6 header (traffic class and flow label zero).
pub fn ipv6_header(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next: u8,
    hop_limit: u8,
    payload_len: usize,
) -> Result<[u8; 40], SynthError> {
    let plen = u16::try_from(payload_len).map_err(|_| SynthError::TooLarge(40 + payload_len))?;
    let mut h = [0u8; 40];
    h[0] = 0x60;
    h[4..6].copy_from_slice(&plen.to_be_bytes());
    h[6] = next;
    h[7] = hop_limit;
    h[8..24].copy_from_slice(&src.octets());
    h[24..40].copy_from_slice(&dst.octets());
    Ok(h)
}

/// Appends a TCP segment to `out` with its checksum computed from
/// `pseudo` (the pseudo-header sum without the length, as from an IPv4
/// pseudo header; the segment length is added here).
#[allow(clippy::too_many_arguments)]
pub fn push_tcp(
    out: &mut Vec<u8>,
    pseudo: u64,
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    window: u16,
    options: &[u8],
    payload: &[u8],
) -> Result<(), SynthError> {
    if options.len() > 40 {
        return Err(SynthError::frame("tcp options longer than 40 bytes"));
    }
    let opt_len = options.len().div_ceil(4) * 4;
    let hlen = 20 + opt_len;
    let start = out.len();
    out.extend_from_slice(&src_port.to_be_bytes());
    out.extend_from_slice(&dst_port.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&ack.to_be_bytes());
    out.push(((hlen / 4) as u8) << 4);
    out.push(flags.0);
    out.extend_from_slice(&window.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    out.extend_from_slice(options);
    out.resize(start + hlen, 0);
    out.extend_from_slice(payload);
    let seg_len = out.len() - start;
    let sum = checksum_add(pseudo + seg_len as u64, &out[start..]);
    let c = checksum_fold(sum);
    out[start + 16..start + 18].copy_from_slice(&c.to_be_bytes());
    Ok(())
}

/// Writes `t` to `out`, checksum computed with `pseudo` (pseudo-header sum
/// without length) when given. For IPv6 the caller passes `None` and patches
/// with [`patch_transport_checksum`] once the length is known.
fn write_transport(
    t: &Transport,
    pseudo: Option<u64>,
    out: &mut Vec<u8>,
) -> Result<(), SynthError> {
    let start = out.len();
    match t {
        Transport::Tcp {
            src_port,
            dst_port,
            seq,
            ack,
            flags,
            window,
            options,
            payload,
        } => push_tcp(
            out,
            pseudo.unwrap_or(0),
            *src_port,
            *dst_port,
            *seq,
            *ack,
            *flags,
            *window,
            options,
            payload,
        )?,
        Transport::Udp {
            src_port,
            dst_port,
            payload,
        } => {
            let len = u16::try_from(8 + payload.len())
                .map_err(|_| SynthError::TooLarge(payload.len()))?;
            out.extend_from_slice(&src_port.to_be_bytes());
            out.extend_from_slice(&dst_port.to_be_bytes());
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(payload);
            if let Some(pseudo) = pseudo {
                let sum = checksum_add(pseudo + u64::from(len), &out[start..]);
                let c = match checksum_fold(sum) {
                    0 => 0xFFFF,
                    c => c,
                };
                out[start + 6..start + 8].copy_from_slice(&c.to_be_bytes());
            }
        }
        Transport::Icmp {
            icmp_type,
            code,
            rest,
            payload,
        } => {
            out.extend_from_slice(&[*icmp_type, *code, 0, 0]);
            out.extend_from_slice(rest);
            out.extend_from_slice(payload);
            // ICMPv4 has no pseudo header; ICMPv6 is patched by the caller.
            let c = internet_checksum(&out[start..]);
            out[start + 2..start + 4].copy_from_slice(&c.to_be_bytes());
        }
        Transport::Raw { payload, .. } => out.extend_from_slice(payload),
    }
    Ok(())
}

/// Recomputes the transport checksum of `seg` (a transport header + payload
/// written by `write_transport`) with the full pseudo-header sum `sum`.
fn patch_transport_checksum(t: &Transport, sum: u64, seg: &mut [u8]) {
    let off = match t {
        Transport::Tcp { .. } => 16,
        Transport::Udp { .. } => 6,
        Transport::Icmp { .. } => 2,
        Transport::Raw { .. } => return,
    };
    if seg.len() < off + 2 {
        return;
    }
    seg[off] = 0;
    seg[off + 1] = 0;
    let mut c = checksum_fold(checksum_add(sum, seg));
    if c == 0 && matches!(t, Transport::Udp { .. }) {
        c = 0xFFFF;
    }
    seg[off..off + 2].copy_from_slice(&c.to_be_bytes());
}

/// Appends an Ethernet II header.
pub fn push_ethernet(out: &mut Vec<u8>, dst: [u8; 6], src: [u8; 6], etype: u16) {
    out.extend_from_slice(&dst);
    out.extend_from_slice(&src);
    out.extend_from_slice(&etype.to_be_bytes());
}

/// Fast path for bulk generation: appends a complete Ethernet/IPv4/TCP
/// frame to `out` (no intermediate allocation).
#[allow(clippy::too_many_arguments)]
pub fn push_eth_ipv4_tcp(
    out: &mut Vec<u8>,
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ip_id: u16,
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    window: u16,
    options: &[u8],
    payload: &[u8],
) -> Result<(), SynthError> {
    push_ethernet(out, dst_mac, src_mac, ethertype::IPV4);
    let opt_len = options.len().div_ceil(4) * 4;
    let tlen = 20 + opt_len + payload.len();
    out.extend_from_slice(&ipv4_header(src, dst, ip_id, 64, true, ipproto::TCP, tlen)?);
    push_tcp(
        out,
        pseudo_v4(src, dst, ipproto::TCP),
        src_port,
        dst_port,
        seq,
        ack,
        flags,
        window,
        options,
        payload,
    )
}

/// An Ethernet ARP request (`reply == false`, broadcast) or reply.
pub fn arp_frame(
    reply: bool,
    sender_mac: [u8; 6],
    sender_ip: Ipv4Addr,
    target_mac: [u8; 6],
    target_ip: Ipv4Addr,
) -> Vec<u8> {
    let mut v = Vec::with_capacity(ETHERNET_MIN_LEN);
    let dst = if reply { target_mac } else { [0xff; 6] };
    push_ethernet(&mut v, dst, sender_mac, ethertype::ARP);
    v.extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4, 0, if reply { 2 } else { 1 }]);
    v.extend_from_slice(&sender_mac);
    v.extend_from_slice(&sender_ip.octets());
    v.extend_from_slice(&if reply { target_mac } else { [0; 6] });
    v.extend_from_slice(&target_ip.octets());
    v.resize(ETHERNET_MIN_LEN, 0);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{
        LaxSlicedPacket, LinkExtSlice, LinkSlice, NetSlice, SlicedPacket, TransportSlice,
    };

    const C4: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);
    const S4: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 20);

    fn tcp_frame() -> Frame {
        Frame::new(
            IpPair::V4 { src: C4, dst: S4 },
            Transport::tcp(
                40000,
                80,
                1000,
                2000,
                TcpFlags::ACK | TcpFlags::PSH,
                b"GET / HTTP/1.1\r\n\r\n".to_vec(),
            ),
        )
        .with_ip_id(77)
    }

    fn v6_frame() -> Frame {
        let src: Ipv6Addr = "2001:db8::10".parse().unwrap();
        let dst: Ipv6Addr = "2001:db8::20".parse().unwrap();
        Frame::new(
            IpPair::V6 { src, dst },
            Transport::tcp(40000, 80, 5, 6, TcpFlags::ACK, b"hello v6".to_vec()),
        )
    }

    /// Checks IP and TCP/UDP checksums of a sliced packet and returns the
    /// transport payload.
    fn check_sums(p: &SlicedPacket<'_>) -> Vec<u8> {
        match (&p.net, &p.transport) {
            (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Tcp(t))) => {
                let h = ip.header().to_header();
                assert_eq!(h.header_checksum, h.calc_header_checksum());
                let c = t.calc_checksum_ipv4(h.source, h.destination).unwrap();
                assert_eq!(c, t.checksum());
                t.payload().to_vec()
            }
            (Some(NetSlice::Ipv6(ip)), Some(TransportSlice::Tcp(t))) => {
                let h = ip.header();
                let c = t.calc_checksum_ipv6(h.source(), h.destination()).unwrap();
                assert_eq!(c, t.checksum());
                t.payload().to_vec()
            }
            (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Udp(u))) => {
                let h = ip.header().to_header();
                assert_eq!(h.header_checksum, h.calc_header_checksum());
                let c = u
                    .to_header()
                    .calc_checksum_ipv4_raw(h.source, h.destination, u.payload())
                    .unwrap();
                assert_eq!(c, u.checksum());
                u.payload().to_vec()
            }
            other => panic!("unexpected layers {other:?}"),
        }
    }

    #[test]
    fn plain_ethernet_ipv4_tcp() {
        let f = tcp_frame();
        let b = f.to_bytes().unwrap();
        assert_eq!(b.len(), 14 + 20 + 20 + 18);
        let p = SlicedPacket::from_ethernet(&b).unwrap();
        match &p.link {
            Some(LinkSlice::Ethernet2(e)) => {
                assert_eq!(e.source(), mac_for(IpAddr::V4(C4)));
                assert_eq!(e.destination(), mac_for(IpAddr::V4(S4)));
            }
            l => panic!("{l:?}"),
        }
        assert_eq!(check_sums(&p), b"GET / HTTP/1.1\r\n\r\n");
        if let Some(NetSlice::Ipv4(ip)) = &p.net {
            assert_eq!(ip.header().identification(), 77);
            assert_eq!(ip.header().ttl(), 64);
        }
        if let Some(TransportSlice::Tcp(t)) = &p.transport {
            assert_eq!((t.source_port(), t.destination_port()), (40000, 80));
            assert_eq!(
                (t.sequence_number(), t.acknowledgment_number()),
                (1000, 2000)
            );
            assert!(t.psh() && t.ack() && !t.syn());
        }
    }

    #[test]
    fn tcp_options_are_padded() {
        let mut f = tcp_frame();
        if let Transport::Tcp { options, .. } = &mut f.transport {
            *options = vec![2, 4, 0x05, 0xb4, 4, 2]; // MSS 1460, SACK-permitted
        }
        let b = f.to_bytes().unwrap();
        let p = SlicedPacket::from_ethernet(&b).unwrap();
        check_sums(&p);
        if let Some(TransportSlice::Tcp(t)) = &p.transport {
            assert_eq!(t.data_offset(), 7);
            assert_eq!(t.options(), &[2, 4, 0x05, 0xb4, 4, 2, 0, 0]);
        }
        if let Transport::Tcp { options, .. } = &mut f.transport {
            *options = vec![1; 41];
        }
        assert!(f.to_bytes().is_err());
    }

    #[test]
    fn ipv6_with_extension_headers() {
        let f = v6_frame().with_ipv6_ext(true);
        let b = f.to_bytes().unwrap();
        assert_eq!(b.len(), 14 + 40 + 16 + 20 + 8);
        let p = SlicedPacket::from_ethernet(&b).unwrap();
        match &p.net {
            Some(NetSlice::Ipv6(ip)) => {
                let exts = ip.extensions();
                assert_eq!(
                    exts.first_header(),
                    Some(etherparse::IpNumber::IPV6_HEADER_HOP_BY_HOP)
                );
                assert_eq!(exts.slice().len(), 16);
                assert_eq!(usize::from(ip.header().payload_length()), 16 + 28);
            }
            n => panic!("{n:?}"),
        }
        assert_eq!(check_sums(&p), b"hello v6");
        // Without extensions.
        let b = v6_frame().to_bytes().unwrap();
        let p = SlicedPacket::from_ethernet(&b).unwrap();
        assert_eq!(check_sums(&p), b"hello v6");
        // ipv6_ext on IPv4 is refused.
        assert!(tcp_frame().with_ipv6_ext(true).to_bytes().is_err());
    }

    #[test]
    fn udp_and_icmp_checksums() {
        let f = Frame::new(
            IpPair::V4 { src: C4, dst: S4 },
            Transport::Udp {
                src_port: 5353,
                dst_port: 53,
                payload: vec![1, 2, 3],
            },
        );
        let b = f.to_bytes().unwrap();
        let p = SlicedPacket::from_ethernet(&b).unwrap();
        assert_eq!(check_sums(&p), vec![1, 2, 3]);

        let f = Frame::new(
            IpPair::V4 { src: C4, dst: S4 },
            Transport::Icmp {
                icmp_type: 8,
                code: 0,
                rest: [0, 1, 0, 2],
                payload: b"ping".to_vec(),
            },
        );
        let b = f.to_bytes().unwrap();
        assert_eq!(internet_checksum(&b[34..]), 0);
        let p = SlicedPacket::from_ethernet(&b).unwrap();
        assert!(matches!(p.transport, Some(TransportSlice::Icmpv4(_))));

        let src: Ipv6Addr = "fe80::1".parse().unwrap();
        let dst: Ipv6Addr = "fe80::2".parse().unwrap();
        let f = Frame::new(
            IpPair::V6 { src, dst },
            Transport::Icmp {
                icmp_type: 128,
                code: 0,
                rest: [0, 1, 0, 1],
                payload: b"ping6".to_vec(),
            },
        );
        let b = f.to_bytes().unwrap();
        let p = SlicedPacket::from_ethernet(&b).unwrap();
        match &p.transport {
            Some(TransportSlice::Icmpv6(i)) => {
                let h = i.header();
                let want = h
                    .icmp_type
                    .calc_checksum(src.octets(), dst.octets(), i.payload())
                    .unwrap();
                assert_eq!(want, i.checksum());
            }
            t => panic!("{t:?}"),
        }
    }

    #[test]
    fn checksum_matches_rfc1071_example() {
        // RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        let d = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum_fold(checksum_add(0, &d)), !0xddf2);
        // Odd length: trailing byte is the high byte of a word.
        assert_eq!(internet_checksum(&[0x01]), !0x0100);
        // Long buffers agree with a naive word loop.
        let long: Vec<u8> = (0..1001u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut naive = 0u64;
        for c in long.chunks(2) {
            naive += u64::from(c[0]) << 8 | u64::from(*c.get(1).unwrap_or(&0));
        }
        assert_eq!(checksum_fold(checksum_add(0, &long)), checksum_fold(naive));
    }

    #[test]
    fn vlan_and_qinq() {
        let b = tcp_frame()
            .with_encaps(vec![Encap::Vlan(100)])
            .to_bytes()
            .unwrap();
        assert_eq!(&b[12..18], &[0x81, 0x00, 0x00, 100, 0x08, 0x00]);
        let p = SlicedPacket::from_ethernet(&b).unwrap();
        assert_eq!(p.link_exts.len(), 1);
        match &p.link_exts[0] {
            LinkExtSlice::Vlan(v) => assert_eq!(v.vlan_identifier().value(), 100),
            e => panic!("{e:?}"),
        }
        check_sums(&p);

        let b = tcp_frame()
            .with_encaps(vec![Encap::QinQ {
                outer: 200,
                inner: 300,
            }])
            .to_bytes()
            .unwrap();
        assert_eq!(
            &b[12..22],
            &[0x88, 0xa8, 0, 200, 0x81, 0x00, 0x01, 0x2c, 0x08, 0x00]
        );
        let p = SlicedPacket::from_ethernet(&b).unwrap();
        let ids: Vec<u16> = p
            .link_exts
            .iter()
            .map(|e| match e {
                LinkExtSlice::Vlan(v) => v.vlan_identifier().value(),
                LinkExtSlice::Macsec(_) => 0,
            })
            .collect();
        assert_eq!(ids, vec![200, 300]);
        check_sums(&p);

        assert!(tcp_frame()
            .with_encaps(vec![Encap::Vlan(4096)])
            .to_bytes()
            .is_err());
        assert!(tcp_frame()
            .with_encaps(vec![Encap::QinQ {
                outer: 1,
                inner: 5000
            }])
            .to_bytes()
            .is_err());
    }

    #[test]
    fn mpls_stack() {
        let f = tcp_frame().with_encaps(vec![Encap::Mpls(vec![1001, 2002])]);
        let b = f.to_bytes().unwrap();
        assert_eq!(&b[12..14], &[0x88, 0x47]);
        let e1 = u32::from_be_bytes([b[14], b[15], b[16], b[17]]);
        let e2 = u32::from_be_bytes([b[18], b[19], b[20], b[21]]);
        // RFC 3032: label(20) TC(3) S(1) TTL(8).
        assert_eq!((e1 >> 12, (e1 >> 8) & 1, e1 & 0xff), (1001, 0, 64));
        assert_eq!((e2 >> 12, (e2 >> 8) & 1, e2 & 0xff), (2002, 1, 64));
        let p = SlicedPacket::from_ip(&b[22..]).unwrap();
        assert_eq!(check_sums(&p), b"GET / HTTP/1.1\r\n\r\n");
        assert!(tcp_frame()
            .with_encaps(vec![Encap::Mpls(vec![])])
            .to_bytes()
            .is_err());
        assert!(tcp_frame()
            .with_encaps(vec![Encap::Mpls(vec![1 << 20])])
            .to_bytes()
            .is_err());
        // MPLS over VLAN is fine; VLAN inside MPLS is not.
        assert!(tcp_frame()
            .with_encaps(vec![Encap::Vlan(5), Encap::Mpls(vec![16])])
            .to_bytes()
            .is_ok());
        assert!(tcp_frame()
            .with_encaps(vec![Encap::Mpls(vec![16]), Encap::Vlan(5)])
            .to_bytes()
            .is_err());
    }

    #[test]
    fn pppoe_session() {
        let f = tcp_frame().with_encaps(vec![Encap::Pppoe { session: 0x1234 }]);
        let b = f.to_bytes().unwrap();
        let ip_len = b.len() - 14 - 8;
        assert_eq!(&b[12..14], &[0x88, 0x64]);
        // RFC 2516: ver 1 type 1, code 0, session id, length (PPP payload).
        assert_eq!(&b[14..18], &[0x11, 0x00, 0x12, 0x34]);
        assert_eq!(usize::from(u16::from_be_bytes([b[18], b[19]])), ip_len + 2);
        assert_eq!(&b[20..22], &[0x00, 0x21]);
        let p = SlicedPacket::from_ip(&b[22..]).unwrap();
        check_sums(&p);
        let b = v6_frame()
            .with_encaps(vec![Encap::Pppoe { session: 1 }])
            .to_bytes()
            .unwrap();
        assert_eq!(&b[20..22], &[0x00, 0x57]);
    }

    #[test]
    fn linux_sll_v1_and_v2() {
        let mut f = tcp_frame().with_link(Link::Sll);
        f.outgoing = true;
        let b = f.to_bytes().unwrap();
        assert_eq!(&b[0..6], &[0, 4, 0, 1, 0, 6]);
        assert_eq!(&b[6..12], &f.src_mac);
        assert_eq!(&b[12..16], &[0, 0, 0x08, 0x00]);
        let p = SlicedPacket::from_linux_sll(&b).unwrap();
        assert!(matches!(p.link, Some(LinkSlice::LinuxSll(_))));
        check_sums(&p);

        let f = tcp_frame().with_link(Link::Sll2);
        let b = f.to_bytes().unwrap();
        assert_eq!(&b[0..4], &[0x08, 0x00, 0, 0]);
        assert_eq!(&b[4..8], &SLL2_IFINDEX.to_be_bytes());
        assert_eq!(&b[8..12], &[0, 1, 0, 6]);
        assert_eq!(&b[12..18], &f.src_mac);
        assert_eq!(&b[18..20], &[0, 0]);
        let p = SlicedPacket::from_ip(&b[20..]).unwrap();
        check_sums(&p);

        // VLAN inside SLL keeps the EtherType chain.
        let b = tcp_frame()
            .with_link(Link::Sll)
            .with_encaps(vec![Encap::Vlan(9)])
            .to_bytes()
            .unwrap();
        assert_eq!(&b[14..20], &[0x81, 0x00, 0, 9, 0x08, 0x00]);
    }

    #[test]
    fn raw_and_loopback_links() {
        let ip = tcp_frame().ip_packet().unwrap();
        for link in [Link::RawIp, Link::Ipv4Only] {
            assert_eq!(tcp_frame().with_link(link).to_bytes().unwrap(), ip);
        }
        let ip6 = v6_frame().ip_packet().unwrap();
        for link in [Link::RawIp, Link::Ipv6Only] {
            assert_eq!(v6_frame().with_link(link).to_bytes().unwrap(), ip6);
        }
        assert!(v6_frame().with_link(Link::Ipv4Only).to_bytes().is_err());
        assert!(tcp_frame().with_link(Link::Ipv6Only).to_bytes().is_err());
        assert!(tcp_frame()
            .with_link(Link::RawIp)
            .with_encaps(vec![Encap::Vlan(1)])
            .to_bytes()
            .is_err());

        let b = tcp_frame().with_link(Link::Null).to_bytes().unwrap();
        assert_eq!(&b[..4], &[2, 0, 0, 0]);
        assert_eq!(&b[4..], &ip[..]);
        let b = v6_frame().with_link(Link::Null).to_bytes().unwrap();
        assert_eq!(&b[..4], &[30, 0, 0, 0]);
        let b = tcp_frame().with_link(Link::Loop).to_bytes().unwrap();
        assert_eq!(&b[..4], &[0, 0, 0, 2]);
        let b = v6_frame().with_link(Link::Loop).to_bytes().unwrap();
        assert_eq!(&b[..4], &[0, 0, 0, 24]);
        let p = SlicedPacket::from_ip(&b[4..]).unwrap();
        check_sums(&p);

        // Tunnels are fine on raw links: the outer packet is IPv4.
        let b = tcp_frame()
            .with_link(Link::RawIp)
            .with_encaps(vec![Encap::Vxlan { vni: 1 }])
            .to_bytes()
            .unwrap();
        assert_eq!(b[0] >> 4, 4);
        assert!(tcp_frame()
            .with_link(Link::Ipv6Only)
            .with_encaps(vec![Encap::Gre { key: None }])
            .to_bytes()
            .is_err());
    }

    fn link_types_are_distinct() -> bool {
        let all = [
            Link::Ethernet,
            Link::Sll,
            Link::Sll2,
            Link::RawIp,
            Link::Ipv4Only,
            Link::Ipv6Only,
            Link::Null,
            Link::Loop,
        ];
        let mut v: Vec<u32> = all.iter().map(|l| l.linktype()).collect();
        v.sort_unstable();
        v.dedup();
        v == [0, 1, 101, 108, 113, 228, 229, 276]
    }

    #[test]
    fn link_type_numbers() {
        assert!(link_types_are_distinct());
    }

    /// Slices an outer Ethernet/IPv4/UDP frame and returns the UDP payload.
    fn outer_udp(b: &[u8], port: u16) -> Vec<u8> {
        outer_udp_macs(b, port, TUNNEL_SRC_MAC, TUNNEL_DST_MAC)
    }

    fn outer_udp_macs(b: &[u8], port: u16, src: [u8; 6], dst: [u8; 6]) -> Vec<u8> {
        let p = SlicedPacket::from_ethernet(b).unwrap();
        match &p.link {
            Some(LinkSlice::Ethernet2(e)) => {
                assert_eq!(e.source(), src);
                assert_eq!(e.destination(), dst);
            }
            l => panic!("{l:?}"),
        }
        if let Some(NetSlice::Ipv4(ip)) = &p.net {
            assert_eq!(ip.header().source_addr(), TUNNEL_SRC_IP);
            assert_eq!(ip.header().destination_addr(), TUNNEL_DST_IP);
        }
        if let Some(TransportSlice::Udp(u)) = &p.transport {
            assert_eq!(u.destination_port(), port);
            assert!(u.source_port() >= 0xC000);
        }
        check_sums(&p)
    }

    /// Slices an outer Ethernet/IPv4/GRE frame and returns the GRE bytes.
    fn outer_gre(b: &[u8]) -> Vec<u8> {
        let p = SlicedPacket::from_ethernet(b).unwrap();
        match &p.net {
            Some(NetSlice::Ipv4(ip)) => {
                let h = ip.header().to_header();
                assert_eq!(h.header_checksum, h.calc_header_checksum());
                assert_eq!(h.protocol, etherparse::IpNumber::GRE);
                assert_eq!(ip.header().source_addr(), TUNNEL_SRC_IP);
                ip.payload().payload.to_vec()
            }
            n => panic!("{n:?}"),
        }
    }

    #[test]
    fn vxlan_with_inner_vlan() {
        let f = tcp_frame().with_encaps(vec![Encap::Vxlan { vni: 0x123456 }, Encap::Vlan(7)]);
        let b = f.to_bytes().unwrap();
        let udp = outer_udp(&b, VXLAN_PORT);
        // RFC 7348: flags 0x08 (I), 3 reserved bytes, VNI (24), reserved.
        assert_eq!(&udp[..8], &[0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0]);
        let inner = SlicedPacket::from_ethernet(&udp[8..]).unwrap();
        match &inner.link_exts[0] {
            LinkExtSlice::Vlan(v) => assert_eq!(v.vlan_identifier().value(), 7),
            e => panic!("{e:?}"),
        }
        if let Some(LinkSlice::Ethernet2(e)) = &inner.link {
            assert_eq!(e.source(), f.src_mac);
        }
        assert_eq!(check_sums(&inner), b"GET / HTTP/1.1\r\n\r\n");
        assert!(tcp_frame()
            .with_encaps(vec![Encap::Vxlan { vni: 1 << 24 }])
            .to_bytes()
            .is_err());
        // Outer VLAN before the tunnel applies to the outer frame.
        let b = tcp_frame()
            .with_encaps(vec![Encap::Vlan(3), Encap::Vxlan { vni: 1 }])
            .to_bytes()
            .unwrap();
        let p = SlicedPacket::from_ethernet(&b).unwrap();
        assert_eq!(p.link_exts.len(), 1);
        assert!(matches!(p.transport, Some(TransportSlice::Udp(_))));
    }

    #[test]
    fn geneve() {
        let b = tcp_frame()
            .with_encaps(vec![Encap::Geneve { vni: 6001 }])
            .to_bytes()
            .unwrap();
        let udp = outer_udp(&b, GENEVE_PORT);
        // RFC 8926: Ver 0, Opt Len 0, O 0, C 0, Protocol 0x6558, VNI, reserved.
        let vni = 6001u32.to_be_bytes();
        assert_eq!(&udp[..8], &[0, 0, 0x65, 0x58, vni[1], vni[2], vni[3], 0]);
        let inner = SlicedPacket::from_ethernet(&udp[8..]).unwrap();
        check_sums(&inner);
    }

    #[test]
    fn gre_ip_with_and_without_key() {
        let b = tcp_frame()
            .with_encaps(vec![Encap::Gre {
                key: Some(0xdeadbeef),
            }])
            .to_bytes()
            .unwrap();
        let gre = outer_gre(&b);
        // RFC 2784/2890: K bit (0x2000), version 0, protocol 0x0800, key.
        assert_eq!(&gre[..8], &[0x20, 0x00, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef]);
        check_sums(&SlicedPacket::from_ip(&gre[8..]).unwrap());

        let b = v6_frame()
            .with_encaps(vec![Encap::Gre { key: None }])
            .to_bytes()
            .unwrap();
        let gre = outer_gre(&b);
        assert_eq!(&gre[..4], &[0, 0, 0x86, 0xdd]);
        check_sums(&SlicedPacket::from_ip(&gre[4..]).unwrap());

        // MPLS over GRE is allowed; VLAN over IP-GRE is not.
        let b = tcp_frame()
            .with_encaps(vec![Encap::Gre { key: None }, Encap::Mpls(vec![30])])
            .to_bytes()
            .unwrap();
        assert_eq!(&outer_gre(&b)[..4], &[0, 0, 0x88, 0x47]);
        assert!(tcp_frame()
            .with_encaps(vec![Encap::Gre { key: None }, Encap::Vlan(1)])
            .to_bytes()
            .is_err());
    }

    #[test]
    fn gre_ethernet() {
        let b = tcp_frame()
            .with_encaps(vec![Encap::GreEthernet { key: Some(5) }])
            .to_bytes()
            .unwrap();
        let gre = outer_gre(&b);
        assert_eq!(&gre[..8], &[0x20, 0x00, 0x65, 0x58, 0, 0, 0, 5]);
        check_sums(&SlicedPacket::from_ethernet(&gre[8..]).unwrap());
    }

    #[test]
    fn erspan_ii() {
        let f = tcp_frame()
            .with_ip_id(9)
            .with_encaps(vec![Encap::ErspanII { session: 100 }]);
        let b = f.to_bytes().unwrap();
        let gre = outer_gre(&b);
        // GRE: S bit, protocol 0x88be, sequence number.
        assert_eq!(&gre[..8], &[0x10, 0x00, 0x88, 0xbe, 0, 0, 0, 9]);
        let w0 = u32::from_be_bytes([gre[8], gre[9], gre[10], gre[11]]);
        assert_eq!(w0 >> 28, 1, "version 1 = type II");
        assert_eq!(w0 & 0x3ff, 100, "session");
        assert_eq!((w0 >> 11) & 3, 0, "En: no VLAN");
        assert_eq!(&gre[12..16], &[0, 0, 0, 0]);
        check_sums(&SlicedPacket::from_ethernet(&gre[16..]).unwrap());

        let b = tcp_frame()
            .with_encaps(vec![Encap::ErspanII { session: 1 }, Encap::Vlan(42)])
            .to_bytes()
            .unwrap();
        let gre = outer_gre(&b);
        let w0 = u32::from_be_bytes([gre[8], gre[9], gre[10], gre[11]]);
        assert_eq!(((w0 >> 16) & 0xfff, (w0 >> 11) & 3), (42, 3));
        assert!(tcp_frame()
            .with_encaps(vec![Encap::ErspanII { session: 1024 }])
            .to_bytes()
            .is_err());
    }

    #[test]
    fn erspan_iii() {
        let b = tcp_frame()
            .with_ip_id(3)
            .with_encaps(vec![Encap::ErspanIII { session: 200 }])
            .to_bytes()
            .unwrap();
        let gre = outer_gre(&b);
        assert_eq!(&gre[..8], &[0x10, 0x00, 0x22, 0xeb, 0, 0, 0, 3]);
        let w0 = u32::from_be_bytes([gre[8], gre[9], gre[10], gre[11]]);
        assert_eq!(w0 >> 28, 2, "version 2 = type III");
        assert_eq!(w0 & 0x3ff, 200);
        let w2 = u32::from_be_bytes([gre[16], gre[17], gre[18], gre[19]]);
        assert_eq!((w2 >> 15) & 1, 1, "P: Ethernet PDU");
        assert_eq!((w2 >> 10) & 0x1f, 0, "FT: Ethernet");
        assert_eq!(w2 & 1, 0, "no platform-specific subheader");
        check_sums(&SlicedPacket::from_ethernet(&gre[20..]).unwrap());
    }

    #[test]
    fn nested_tunnels_and_lax_slicing() {
        let f = tcp_frame().with_encaps(vec![
            Encap::Vlan(10),
            Encap::Gre { key: None },
            Encap::Mpls(vec![100]),
        ]);
        let b = f.to_bytes().unwrap();
        let lax = LaxSlicedPacket::from_ethernet(&b).unwrap();
        assert_eq!(lax.link_exts.len(), 1);
        assert!(lax.net.is_some());

        let f = tcp_frame().with_encaps(vec![
            Encap::Vxlan { vni: 1 },
            Encap::Geneve { vni: 2 },
            Encap::QinQ { outer: 1, inner: 2 },
        ]);
        let b = f.to_bytes().unwrap();
        let udp = outer_udp(&b, VXLAN_PORT);
        // The VXLAN-carried frame uses the frame's own MACs.
        let udp2 = outer_udp_macs(&udp[8..], GENEVE_PORT, f.src_mac, f.dst_mac);
        let inner = SlicedPacket::from_ethernet(&udp2[8..]).unwrap();
        assert_eq!(inner.link_exts.len(), 2);
        check_sums(&inner);
    }

    #[test]
    fn ethernet_padding_and_arp() {
        let mut f = Frame::new(
            IpPair::V4 { src: C4, dst: S4 },
            Transport::tcp(1, 2, 3, 4, TcpFlags::SYN, Vec::new()),
        );
        f.pad_ethernet = true;
        let b = f.to_bytes().unwrap();
        assert_eq!(b.len(), ETHERNET_MIN_LEN);
        let p = LaxSlicedPacket::from_ethernet(&b).unwrap();
        assert!(matches!(p.transport, Some(TransportSlice::Tcp(_))));

        let a = arp_frame(false, [2, 0, 0, 0, 0, 1], C4, [0; 6], S4);
        assert_eq!(a.len(), 60);
        let p = SlicedPacket::from_ethernet(&a).unwrap();
        assert!(matches!(p.net, Some(NetSlice::Arp(_))));
    }

    #[test]
    fn oversized_packets_are_errors() {
        let f = Frame::new(
            IpPair::V4 { src: C4, dst: S4 },
            Transport::tcp(1, 2, 3, 4, TcpFlags::ACK, vec![0; 70_000]),
        );
        assert!(matches!(f.to_bytes(), Err(SynthError::TooLarge(_))));
        let f = Frame::new(
            IpPair::V4 { src: C4, dst: S4 },
            Transport::Udp {
                src_port: 1,
                dst_port: 2,
                payload: vec![0; 65_530],
            },
        );
        assert!(f.to_bytes().is_err());
    }

    #[test]
    fn fast_path_matches_frame_builder() {
        let mut out = Vec::new();
        push_eth_ipv4_tcp(
            &mut out,
            [2, 0, 0, 0, 0, 1],
            [2, 0, 0, 0, 0, 2],
            C4,
            S4,
            5,
            1000,
            80,
            7,
            8,
            TcpFlags::ACK,
            512,
            &[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2],
            b"xyz",
        )
        .unwrap();
        let mut f = Frame::new(
            IpPair::V4 { src: C4, dst: S4 },
            Transport::Tcp {
                src_port: 1000,
                dst_port: 80,
                seq: 7,
                ack: 8,
                flags: TcpFlags::ACK,
                window: 512,
                options: vec![1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2],
                payload: b"xyz".to_vec(),
            },
        )
        .with_ip_id(5);
        f.src_mac = [2, 0, 0, 0, 0, 1];
        f.dst_mac = [2, 0, 0, 0, 0, 2];
        f.dont_fragment = true;
        assert_eq!(out, f.to_bytes().unwrap());
        check_sums(&SlicedPacket::from_ethernet(&out).unwrap());
    }

    #[test]
    fn ip_pair_helpers() {
        let a: SocketAddr = "10.0.0.1:1".parse().unwrap();
        let b: SocketAddr = "[::1]:2".parse().unwrap();
        assert!(IpPair::from_sockets(a, b).is_err());
        let p = IpPair::from_sockets(a, a).unwrap();
        assert_eq!(p.reversed(), p);
        assert!(!p.is_v6());
    }
}
