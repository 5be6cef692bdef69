//! Stage 2, decode (layers 2 to 4), run on the capture thread.
//!
//! Turns one captured frame into an [`Outcome`]: a TCP or UDP segment with its flow context
//! (VLAN ids, delivery tunnel), an IP fragment for [`frag::Defrag`], a packet that is not
//! ours to decode (ARP, ICMP, ...), or the layer and reason where decoding stopped.
//!
//! Guarantees:
//! - no input can make it panic: headers are read through checked views (`views`) or
//!   etherparse's lax slices, and captured bytes otherwise only through `get(..)`;
//! - nothing is allocated per packet and nothing is logged per packet: every stop, ignored
//!   packet and decoded layer is counted in [`DecodeCounters`], by closed enums;
//! - a frame cut by the snap length keeps the layers that parsed, and a transport payload
//!   shorter than its IP length claims is marked `truncated` so reassembly can record a gap
//!   instead of trusting a length field;
//! - tunnel and tag nesting is bounded by `max_layers`.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod frag;
mod views;

use std::net::IpAddr;

use etherparse::err::ip::{HeaderError as IpHeaderError, LaxHeaderSliceError};
use etherparse::{Ethernet2Slice, IpNumber, Ipv6ExtensionSlice, LaxIpSlice, TcpSlice, UdpSlice};
use serde::Deserialize;

use views::{Erspan, Geneve, Gre, MplsEntry, Null, Pppoe, Sll, Sll2, Vxlan};

/// Link types apitap decodes, from the DLT value libpcap reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    Ethernet,
    /// BSD loopback, family in host byte order.
    Null,
    /// OpenBSD loopback, family in network byte order.
    Loop,
    /// Raw IP, version from the first nibble.
    Raw,
    Ipv4,
    Ipv6,
    /// Linux cooked capture v1 (capture on `any`).
    Sll,
    /// Linux cooked capture v2.
    Sll2,
}

impl LinkType {
    /// Maps a DLT (as returned by `pcap_datalink`) to a link type we decode.
    pub fn from_dlt(dlt: i32) -> Option<Self> {
        Some(match dlt {
            1 => Self::Ethernet,
            0 => Self::Null,
            108 => Self::Loop,
            12 | 14 | 101 => Self::Raw,
            228 => Self::Ipv4,
            229 => Self::Ipv6,
            113 => Self::Sll,
            276 => Self::Sll2,
            _ => return None,
        })
    }
}

macro_rules! closed_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $v),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            pub const COUNT: usize = Self::ALL.len();
            /// The snake_case name used in counters and events.
            pub fn name(self) -> &'static str { match self { $($name::$v => $s),+ } }
            pub fn index(self) -> usize { self as usize }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.name()) }
        }
    };
}

closed_enum!(
    /// A protocol layer, for counters (`decode.layers.<layer>`, `decode.stop.<layer>.<reason>`).
    Layer {
        Link => "link",
        Ethernet => "ethernet",
        Vlan => "vlan",
        Mpls => "mpls",
        Pppoe => "pppoe",
        Ipv4 => "ipv4",
        Ipv6 => "ipv6",
        Ipv6Ext => "ipv6_ext",
        IpFrag => "ip_frag",
        Tcp => "tcp",
        Udp => "udp",
        Gre => "gre",
        Erspan => "erspan",
        Vxlan => "vxlan",
        Geneve => "geneve",
    }
);

closed_enum!(
    /// Why decoding stopped at a layer.
    StopReason {
        /// The header is cut short (snap length, or a lying length field).
        Truncated => "truncated",
        BadHeader => "bad_header",
        BadVersion => "bad_version",
        /// A length field contradicts the packet.
        BadLength => "bad_length",
        /// A valid header for a variant we do not decode (GRE v1, GRE routing, ...).
        Unsupported => "unsupported",
        UnsupportedLinkType => "unsupported_link_type",
        /// More tags or tunnels than `decode.max_layers`.
        TooManyLayers => "too_many_layers",
        /// A fragment overlapping earlier data with different bytes (kept: first wins).
        FragOverlap => "overlap_different_data",
        /// Fragments reaching past 65535 bytes.
        FragTooBig => "too_big",
        /// A datagram whose fragments did not all arrive within `ip_frag.timeout`.
        FragTimeout => "timeout",
        /// A datagram dropped because `ip_frag.max_datagrams` were in progress.
        FragTableFull => "table_full",
        /// A fragment refused because `ip_frag.max_bytes` were held.
        FragMemcap => "memcap",
        /// More than `ip_frag.max_fragments` fragments for one datagram.
        FragTooMany => "too_many_fragments",
    }
);

closed_enum!(
    /// Packets that are valid but carry nothing apitap tracks (`decode.ignored.<what>`).
    Ignored {
        Arp => "arp",
        /// Any other ether type (LLDP, STP, IPX, ...).
        NonIp => "non_ip",
        Icmp => "icmp",
        OtherIpProto => "other_ip_proto",
        /// A tunnel whose payload is neither Ethernet nor IP.
        OtherTunnelPayload => "other_tunnel_payload",
    }
);

/// A delivery tunnel the traffic was decapsulated from (the outermost one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tunnel {
    Vxlan { vni: u32 },
    Geneve { vni: u32 },
    Gre { key: Option<u32> },
    Erspan { version: u8, session: u16 },
}

/// Maximum VLAN tags kept per packet (outer to inner); more is `vlan.too_many_layers`.
pub const MAX_VLANS: usize = 4;

/// Where a packet was seen, beyond its addresses: part of the flow key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlowCtx {
    vlans: [u16; MAX_VLANS],
    vlan_len: u8,
    pub tunnel: Option<Tunnel>,
}

impl FlowCtx {
    /// VLAN ids, outer to inner.
    pub fn vlans(&self) -> &[u16] {
        &self.vlans[..usize::from(self.vlan_len)]
    }

    /// Adds a VLAN id; false when [`MAX_VLANS`] are already held.
    pub fn push_vlan(&mut self, vid: u16) -> bool {
        let i = usize::from(self.vlan_len);
        if i >= MAX_VLANS {
            return false;
        }
        self.vlans[i] = vid;
        self.vlan_len += 1;
        true
    }

    /// The same context without its VLAN ids (`flow.track_vlan = false`).
    pub fn without_vlans(&self) -> Self {
        Self {
            tunnel: self.tunnel,
            ..Self::default()
        }
    }
}

/// Transport protocol of a decoded segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// TCP flag bits, as on the wire.
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
}

/// The TCP header fields reassembly needs (zero for UDP).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpMeta {
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
}

/// A decoded TCP or UDP segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct L4<'a> {
    pub ctx: FlowCtx,
    pub proto: Proto,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub tcp: TcpMeta,
    pub payload: &'a [u8],
    /// The payload is shorter than the IP header claims (snap length): a gap follows it.
    pub truncated: bool,
}

/// An IP fragment, to be reassembled before its transport header can be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fragment<'a> {
    pub ctx: FlowCtx,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IP protocol number of the datagram's payload.
    pub proto: u8,
    pub id: u32,
    /// Offset of `data` in the datagram's payload, in bytes.
    pub offset: u32,
    pub more: bool,
    pub data: &'a [u8],
    pub truncated: bool,
}

/// What decoding made of a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<'a> {
    L4(L4<'a>),
    Fragment(Fragment<'a>),
    Ignored(Ignored),
    Stop(Layer, StopReason),
}

/// Decoder settings (`[decode]` in the config file).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct DecodeConfig {
    /// UDP destination ports decoded as VXLAN. Default `[4789]`.
    pub vxlan_ports: Vec<u16>,
    /// UDP destination ports decoded as GENEVE. Default `[6081]`.
    pub geneve_ports: Vec<u16>,
    /// Maximum VLAN/MPLS/PPPoE/tunnel headers in one frame. Default 16.
    pub max_layers: u8,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        Self {
            vxlan_ports: vec![4789],
            geneve_ports: vec![6081],
            max_layers: 16,
        }
    }
}

/// Counters kept by the decoder; all plain integers owned by the capture thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeCounters {
    /// Headers decoded, per layer.
    pub layers: [u64; Layer::COUNT],
    pub ignored: [u64; Ignored::COUNT],
    pub stops: [[u64; StopReason::COUNT]; Layer::COUNT],
    /// Segments whose payload was cut by the snap length.
    pub truncated_payloads: u64,
}

impl Default for DecodeCounters {
    fn default() -> Self {
        Self {
            layers: [0; Layer::COUNT],
            ignored: [0; Ignored::COUNT],
            stops: [[0; StopReason::COUNT]; Layer::COUNT],
            truncated_payloads: 0,
        }
    }
}

impl DecodeCounters {
    pub fn stop(&self, layer: Layer, reason: StopReason) -> u64 {
        self.stops[layer.index()][reason.index()]
    }
    pub fn record_stop(&mut self, layer: Layer, reason: StopReason) {
        self.stops[layer.index()][reason.index()] += 1;
    }
    pub fn total_stops(&self) -> u64 {
        self.stops.iter().flatten().sum()
    }
    pub fn merge(&mut self, o: &DecodeCounters) {
        for (a, b) in self.layers.iter_mut().zip(o.layers.iter()) {
            *a += b;
        }
        for (a, b) in self.ignored.iter_mut().zip(o.ignored.iter()) {
            *a += b;
        }
        for (ra, rb) in self.stops.iter_mut().zip(o.stops.iter()) {
            for (a, b) in ra.iter_mut().zip(rb.iter()) {
                *a += b;
            }
        }
        self.truncated_payloads += o.truncated_payloads;
    }
}

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86dd;
const ETH_ARP: u16 = 0x0806;
const ETH_VLAN: u16 = 0x8100;
const ETH_QINQ: u16 = 0x88a8;
const ETH_QINQ_OLD: u16 = 0x9100;
const ETH_MPLS_UC: u16 = 0x8847;
const ETH_MPLS_MC: u16 = 0x8848;
const ETH_PPPOE_SESSION: u16 = 0x8864;
const ETH_TEB: u16 = 0x6558;
const ETH_ERSPAN_II: u16 = 0x88be;
const ETH_ERSPAN_III: u16 = 0x22eb;
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;
const IPPROTO_ICMP: u8 = 1;
const IPPROTO_GRE: u8 = 47;
const IPPROTO_ICMPV6: u8 = 58;

/// The stateless decoder with its counters.
pub struct Decoder {
    cfg: DecodeConfig,
    pub counters: DecodeCounters,
}

/// Per-frame walk state.
struct Walk {
    ctx: FlowCtx,
    layers: u8,
}

impl Decoder {
    pub fn new(cfg: DecodeConfig) -> Self {
        Self {
            cfg,
            counters: DecodeCounters::default(),
        }
    }

    /// Decodes one frame. Counts every layer, stop and ignored packet it sees.
    pub fn decode<'a>(&mut self, link: LinkType, frame: &'a [u8]) -> Outcome<'a> {
        let mut w = Walk {
            ctx: FlowCtx::default(),
            layers: 0,
        };
        let out = self.link(&mut w, link, frame);
        self.count(&out);
        out
    }

    /// Decodes the transport payload of a reassembled IP datagram.
    pub fn decode_reassembled<'a>(
        &mut self,
        ctx: FlowCtx,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        payload: &'a [u8],
    ) -> Outcome<'a> {
        // Count a tunnel inside the datagram against the same bound as any other frame.
        let mut w = Walk { ctx, layers: 1 };
        let out = self.transport(&mut w, src, dst, proto, payload, false);
        self.count(&out);
        out
    }

    fn count(&mut self, out: &Outcome<'_>) {
        match out {
            Outcome::Stop(l, r) => self.counters.record_stop(*l, *r),
            Outcome::Ignored(i) => self.counters.ignored[i.index()] += 1,
            Outcome::L4(l4) if l4.truncated => self.counters.truncated_payloads += 1,
            _ => {}
        }
    }

    fn seen(&mut self, layer: Layer) {
        self.counters.layers[layer.index()] += 1;
    }

    fn deeper(&mut self, w: &mut Walk, layer: Layer) -> Result<(), (Layer, StopReason)> {
        w.layers = w.layers.saturating_add(1);
        if w.layers > self.cfg.max_layers {
            return Err((layer, StopReason::TooManyLayers));
        }
        Ok(())
    }

    fn link<'a>(&mut self, w: &mut Walk, link: LinkType, frame: &'a [u8]) -> Outcome<'a> {
        self.seen(Layer::Link);
        match link {
            LinkType::Ethernet => self.ethernet(w, frame),
            LinkType::Raw => self.ip_by_version(w, frame),
            LinkType::Ipv4 => self.ip(w, frame, Layer::Ipv4),
            LinkType::Ipv6 => self.ip(w, frame, Layer::Ipv6),
            LinkType::Null | LinkType::Loop => match Null::new_checked(frame) {
                Err((l, r)) => Outcome::Stop(l, r),
                // AF_INET is 2 everywhere; AF_INET6 is 24 (BSDs), 28 (FreeBSD), 30 (Darwin), 10 (Linux).
                Ok(v) => match v.family() {
                    2 => self.ip(w, v.payload(), Layer::Ipv4),
                    10 | 24 | 28 | 30 => self.ip(w, v.payload(), Layer::Ipv6),
                    _ => Outcome::Ignored(Ignored::NonIp),
                },
            },
            LinkType::Sll => match Sll::new_checked(frame) {
                Err((l, r)) => Outcome::Stop(l, r),
                Ok(v) => self.ether_type(w, v.protocol(), v.payload()),
            },
            LinkType::Sll2 => match Sll2::new_checked(frame) {
                Err((l, r)) => Outcome::Stop(l, r),
                Ok(v) => self.ether_type(w, v.protocol(), v.payload()),
            },
        }
    }

    fn ethernet<'a>(&mut self, w: &mut Walk, data: &'a [u8]) -> Outcome<'a> {
        match Ethernet2Slice::from_slice_without_fcs(data) {
            Err(_) => Outcome::Stop(Layer::Ethernet, StopReason::Truncated),
            Ok(eth) => {
                self.seen(Layer::Ethernet);
                self.ether_type(w, eth.ether_type().0, eth.payload_slice())
            }
        }
    }

    fn ether_type<'a>(&mut self, w: &mut Walk, et: u16, data: &'a [u8]) -> Outcome<'a> {
        match et {
            ETH_IPV4 => self.ip(w, data, Layer::Ipv4),
            ETH_IPV6 => self.ip(w, data, Layer::Ipv6),
            ETH_VLAN | ETH_QINQ | ETH_QINQ_OLD => self.vlan(w, data),
            ETH_MPLS_UC | ETH_MPLS_MC => self.mpls(w, data),
            ETH_PPPOE_SESSION => self.pppoe(w, data),
            ETH_ARP => Outcome::Ignored(Ignored::Arp),
            _ => Outcome::Ignored(Ignored::NonIp),
        }
    }

    fn vlan<'a>(&mut self, w: &mut Walk, data: &'a [u8]) -> Outcome<'a> {
        if let Err((l, r)) = self.deeper(w, Layer::Vlan) {
            return Outcome::Stop(l, r);
        }
        let (Some(tci), Some(et)) = (data.get(0..2), data.get(2..4)) else {
            return Outcome::Stop(Layer::Vlan, StopReason::Truncated);
        };
        self.seen(Layer::Vlan);
        let vid = u16::from_be_bytes([tci[0], tci[1]]) & 0x0fff;
        if !w.ctx.push_vlan(vid) {
            return Outcome::Stop(Layer::Vlan, StopReason::TooManyLayers);
        }
        let et = u16::from_be_bytes([et[0], et[1]]);
        self.ether_type(w, et, data.get(4..).unwrap_or_default())
    }

    fn mpls<'a>(&mut self, w: &mut Walk, mut data: &'a [u8]) -> Outcome<'a> {
        loop {
            if let Err((l, r)) = self.deeper(w, Layer::Mpls) {
                return Outcome::Stop(l, r);
            }
            let entry = match MplsEntry::new_checked(data) {
                Ok(e) => e,
                Err((l, r)) => return Outcome::Stop(l, r),
            };
            self.seen(Layer::Mpls);
            data = data.get(4..).unwrap_or_default();
            if entry.bottom_of_stack() {
                break;
            }
        }
        // No protocol field follows MPLS: guess from the first nibble, as Wireshark does.
        match data.first().map(|b| b >> 4) {
            Some(4) => self.ip(w, data, Layer::Ipv4),
            Some(6) => self.ip(w, data, Layer::Ipv6),
            // Pseudowire control word (RFC 4385) followed by an Ethernet frame.
            Some(0) => self.ethernet(w, data.get(4..).unwrap_or_default()),
            Some(_) => Outcome::Stop(Layer::Mpls, StopReason::Unsupported),
            None => Outcome::Stop(Layer::Mpls, StopReason::Truncated),
        }
    }

    fn pppoe<'a>(&mut self, w: &mut Walk, data: &'a [u8]) -> Outcome<'a> {
        if let Err((l, r)) = self.deeper(w, Layer::Pppoe) {
            return Outcome::Stop(l, r);
        }
        match Pppoe::new_checked(data) {
            Err((l, r)) => Outcome::Stop(l, r),
            Ok(p) => {
                self.seen(Layer::Pppoe);
                match p.ppp_protocol() {
                    PPP_IPV4 => self.ip(w, p.payload(), Layer::Ipv4),
                    PPP_IPV6 => self.ip(w, p.payload(), Layer::Ipv6),
                    _ => Outcome::Ignored(Ignored::NonIp),
                }
            }
        }
    }

    fn ip_by_version<'a>(&mut self, w: &mut Walk, data: &'a [u8]) -> Outcome<'a> {
        match data.first().map(|b| b >> 4) {
            Some(6) => self.ip(w, data, Layer::Ipv6),
            Some(4) => self.ip(w, data, Layer::Ipv4),
            Some(_) => Outcome::Stop(Layer::Ipv4, StopReason::BadVersion),
            None => Outcome::Stop(Layer::Ipv4, StopReason::Truncated),
        }
    }

    /// IPv4 or IPv6 (`expect` is the layer the outer header announced).
    fn ip<'a>(&mut self, w: &mut Walk, data: &'a [u8], expect: Layer) -> Outcome<'a> {
        let (ip, ext_err) = match LaxIpSlice::from_slice(data) {
            Ok(v) => v,
            Err(LaxHeaderSliceError::Len(_)) => {
                return Outcome::Stop(expect, StopReason::Truncated)
            }
            Err(LaxHeaderSliceError::Content(e)) => {
                let reason = match e {
                    IpHeaderError::UnsupportedIpVersion { .. } => StopReason::BadVersion,
                    _ => StopReason::BadHeader,
                };
                return Outcome::Stop(expect, reason);
            }
        };
        let (layer, src, dst) = match &ip {
            LaxIpSlice::Ipv4(v4) => (
                Layer::Ipv4,
                IpAddr::V4(v4.header().source_addr()),
                IpAddr::V4(v4.header().destination_addr()),
            ),
            LaxIpSlice::Ipv6(v6) => (
                Layer::Ipv6,
                IpAddr::V6(v6.header().source_addr()),
                IpAddr::V6(v6.header().destination_addr()),
            ),
        };
        self.seen(layer);
        if let Some((e, _)) = ext_err {
            use etherparse::err::ipv6_exts::HeaderSliceError as E;
            let reason = match e {
                E::Len(_) => StopReason::Truncated,
                E::Content(_) => StopReason::BadHeader,
            };
            return Outcome::Stop(Layer::Ipv6Ext, reason);
        }
        if let LaxIpSlice::Ipv6(v6) = &ip {
            if !v6.extensions().is_empty() {
                self.seen(Layer::Ipv6Ext);
            }
        }
        let payload = ip.payload();
        let proto = payload.ip_number.0;
        if payload.fragmented {
            self.seen(Layer::IpFrag);
            let (id, offset, more) = match &ip {
                LaxIpSlice::Ipv4(v4) => {
                    let h = v4.header();
                    (
                        u32::from(h.identification()),
                        u32::from(h.fragments_offset().value()) * 8,
                        h.more_fragments(),
                    )
                }
                LaxIpSlice::Ipv6(v6) => {
                    let frag = v6.extensions().clone().into_iter().find_map(|e| match e {
                        Ipv6ExtensionSlice::Fragment(f) => Some(f),
                        _ => None,
                    });
                    match frag {
                        Some(f) => (
                            f.identification(),
                            u32::from(f.fragment_offset().value()) * 8,
                            f.more_fragments(),
                        ),
                        None => return Outcome::Stop(Layer::Ipv6Ext, StopReason::BadHeader),
                    }
                }
            };
            return Outcome::Fragment(Fragment {
                ctx: w.ctx,
                src,
                dst,
                proto,
                id,
                offset,
                more,
                data: payload.payload,
                truncated: payload.incomplete,
            });
        }
        self.transport(w, src, dst, proto, payload.payload, payload.incomplete)
    }

    fn transport<'a>(
        &mut self,
        w: &mut Walk,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        data: &'a [u8],
        truncated: bool,
    ) -> Outcome<'a> {
        match IpNumber(proto) {
            IpNumber::TCP => match TcpSlice::from_slice(data) {
                Err(etherparse::err::tcp::HeaderSliceError::Len(_)) => {
                    Outcome::Stop(Layer::Tcp, StopReason::Truncated)
                }
                Err(etherparse::err::tcp::HeaderSliceError::Content(_)) => {
                    Outcome::Stop(Layer::Tcp, StopReason::BadHeader)
                }
                Ok(tcp) => {
                    self.seen(Layer::Tcp);
                    // Flags from the raw byte: etherparse exposes them one by one.
                    let flags = data.get(13).copied().unwrap_or_default();
                    Outcome::L4(L4 {
                        ctx: w.ctx,
                        proto: Proto::Tcp,
                        src,
                        dst,
                        src_port: tcp.source_port(),
                        dst_port: tcp.destination_port(),
                        tcp: TcpMeta {
                            seq: tcp.sequence_number(),
                            ack: tcp.acknowledgment_number(),
                            flags,
                            window: tcp.window_size(),
                        },
                        payload: tcp.payload(),
                        truncated,
                    })
                }
            },
            IpNumber::UDP => match UdpSlice::from_slice_lax(data) {
                Err(_) => Outcome::Stop(Layer::Udp, StopReason::Truncated),
                Ok(udp) => {
                    self.seen(Layer::Udp);
                    let dport = udp.destination_port();
                    if self.cfg.vxlan_ports.contains(&dport) {
                        return self.vxlan(w, udp.payload());
                    }
                    if self.cfg.geneve_ports.contains(&dport) {
                        return self.geneve(w, udp.payload());
                    }
                    // A UDP length shorter than the data is padding; longer is a cut payload.
                    let udp_len = usize::from(udp.length());
                    let cut = truncated || udp_len > data.len();
                    Outcome::L4(L4 {
                        ctx: w.ctx,
                        proto: Proto::Udp,
                        src,
                        dst,
                        src_port: udp.source_port(),
                        dst_port: dport,
                        tcp: TcpMeta::default(),
                        payload: udp.payload(),
                        truncated: cut,
                    })
                }
            },
            IpNumber(IPPROTO_GRE) => self.gre(w, data),
            IpNumber(IPPROTO_ICMP) | IpNumber(IPPROTO_ICMPV6) => Outcome::Ignored(Ignored::Icmp),
            _ => Outcome::Ignored(Ignored::OtherIpProto),
        }
    }

    fn enter_tunnel(&mut self, w: &mut Walk, layer: Layer, t: Tunnel) -> Option<Outcome<'static>> {
        if let Err((l, r)) = self.deeper(w, layer) {
            return Some(Outcome::Stop(l, r));
        }
        self.seen(layer);
        if w.ctx.tunnel.is_none() {
            w.ctx.tunnel = Some(t);
        }
        None
    }

    fn vxlan<'a>(&mut self, w: &mut Walk, data: &'a [u8]) -> Outcome<'a> {
        match Vxlan::new_checked(data) {
            Err((l, r)) => Outcome::Stop(l, r),
            Ok(v) => {
                if let Some(stop) =
                    self.enter_tunnel(w, Layer::Vxlan, Tunnel::Vxlan { vni: v.vni() })
                {
                    return stop;
                }
                self.ethernet(w, v.payload())
            }
        }
    }

    fn geneve<'a>(&mut self, w: &mut Walk, data: &'a [u8]) -> Outcome<'a> {
        match Geneve::new_checked(data) {
            Err((l, r)) => Outcome::Stop(l, r),
            Ok(g) => {
                if let Some(stop) =
                    self.enter_tunnel(w, Layer::Geneve, Tunnel::Geneve { vni: g.vni() })
                {
                    return stop;
                }
                self.tunnel_payload(w, g.protocol(), g.payload())
            }
        }
    }

    fn gre<'a>(&mut self, w: &mut Walk, data: &'a [u8]) -> Outcome<'a> {
        let g = match Gre::new_checked(data) {
            Err((l, r)) => return Outcome::Stop(l, r),
            Ok(g) => g,
        };
        let proto = g.protocol();
        if proto == ETH_ERSPAN_II || proto == ETH_ERSPAN_III {
            if let Err((l, r)) = self.deeper(w, Layer::Gre) {
                return Outcome::Stop(l, r);
            }
            self.seen(Layer::Gre);
            // ERSPAN type I has no sequence number and no ERSPAN header.
            if proto == ETH_ERSPAN_II && !g.has_sequence() {
                if let Some(stop) = self.enter_tunnel(
                    w,
                    Layer::Erspan,
                    Tunnel::Erspan {
                        version: 1,
                        session: 0,
                    },
                ) {
                    return stop;
                }
                return self.ethernet(w, g.payload());
            }
            let type3 = proto == ETH_ERSPAN_III;
            return match Erspan::new_checked(g.payload(), type3) {
                Err((l, r)) => Outcome::Stop(l, r),
                Ok(e) => {
                    let t = Tunnel::Erspan {
                        version: if type3 { 3 } else { 2 },
                        session: e.session(),
                    };
                    if let Some(stop) = self.enter_tunnel(w, Layer::Erspan, t) {
                        return stop;
                    }
                    self.ethernet(w, e.payload())
                }
            };
        }
        if let Some(stop) = self.enter_tunnel(w, Layer::Gre, Tunnel::Gre { key: g.key() }) {
            return stop;
        }
        self.tunnel_payload(w, proto, g.payload())
    }

    /// The payload of a tunnel that names it with an ether type.
    fn tunnel_payload<'a>(&mut self, w: &mut Walk, proto: u16, data: &'a [u8]) -> Outcome<'a> {
        match proto {
            ETH_TEB => self.ethernet(w, data),
            ETH_IPV4 => self.ip(w, data, Layer::Ipv4),
            ETH_IPV6 => self.ip(w, data, Layer::Ipv6),
            ETH_MPLS_UC | ETH_MPLS_MC => self.mpls(w, data),
            _ => Outcome::Ignored(Ignored::OtherTunnelPayload),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
