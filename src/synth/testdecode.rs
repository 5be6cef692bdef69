//! Test-only independent decoder: written from the RFCs, not from the
//! builder, it re-reads a capture through libpcap, recounts packets and
//! flows, reassembles every TCP connection by sequence number (first copy
//! of a byte wins, holes are gaps) and parses HTTP/1.x from the streams
//! ([`http_transactions`]), so scenario and bench tests can compare what
//! the builder says it wrote with what is in the file.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::Path;

use super::scenario::ExpectedTx;
use super::EPOCH_US;

pub(crate) type FlowKey = (SocketAddr, SocketAddr);

pub(crate) fn flow_key(a: SocketAddr, b: SocketAddr) -> FlowKey {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// One TCP segment read back, with its capture timestamp.
#[derive(Debug, Clone)]
pub(crate) struct TcpSeg {
    pub(crate) ts: u64,
    pub(crate) src: SocketAddr,
    pub(crate) dst: SocketAddr,
    pub(crate) seq: u32,
    pub(crate) ack: u32,
    pub(crate) flags: u8,
    pub(crate) payload: Vec<u8>,
}

#[derive(Debug)]
enum Inner {
    Tcp {
        src: SocketAddr,
        dst: SocketAddr,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: Vec<u8>,
    },
    Udp {
        src: SocketAddr,
        dst: SocketAddr,
    },
    Icmp,
    Arp,
    Fragment {
        key: (IpAddr, IpAddr, u32),
        off: usize,
        more: bool,
        proto: u8,
        data: Vec<u8>,
    },
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn decode(dlt: i32, b: &[u8]) -> Option<(u8, Inner)> {
    match dlt {
        1 => ether(be16(b, 12)?, b.get(14..)?),
        113 => ether(be16(b, 14)?, b.get(16..)?),
        276 => ether(be16(b, 0)?, b.get(20..)?),
        12 | 101 => ip(b),
        0 => {
            let af = u32::from_le_bytes(b.get(..4)?.try_into().ok()?);
            assert!(af == 2 || af == 30, "AF {af}");
            ip(b.get(4..)?)
        }
        other => panic!("unexpected DLT {other}"),
    }
}

fn ether(mut etype: u16, mut b: &[u8]) -> Option<(u8, Inner)> {
    loop {
        match etype {
            0x8100 | 0x88a8 => {
                etype = be16(b, 2)?;
                b = b.get(4..)?;
            }
            0x8847 => loop {
                let bos = b.get(2)? & 1 == 1;
                b = b.get(4..)?;
                if bos {
                    return ip(b);
                }
            },
            0x8864 => {
                assert_eq!(b.get(..2)?, &[0x11, 0x00]);
                let ppp = be16(b, 6)?;
                assert!(ppp == 0x21 || ppp == 0x57);
                return ip(b.get(8..)?);
            }
            0x0806 => return Some((0, Inner::Arp)),
            0x0800 | 0x86dd => return ip(b),
            other => panic!("unexpected ethertype {other:#x}"),
        }
    }
}

fn transport(proto: u8, src: IpAddr, dst: IpAddr, t: &[u8]) -> Option<Inner> {
    match proto {
        6 => {
            let sp = be16(t, 0)?;
            let dp = be16(t, 2)?;
            let hl = usize::from(*t.get(12)? >> 4) * 4;
            let flags = *t.get(13)?;
            let payload = t.get(hl..).unwrap_or(&[]).to_vec();
            if t.len() < hl {
                return None;
            }
            Some(Inner::Tcp {
                src: SocketAddr::new(src, sp),
                dst: SocketAddr::new(dst, dp),
                seq: be32(t, 4)?,
                ack: be32(t, 8)?,
                flags,
                payload,
            })
        }
        17 => {
            let sp = be16(t, 0)?;
            let dp = be16(t, 2)?;
            let p = t.get(8..)?;
            match dp {
                4789 => {
                    assert_eq!(p[0], 0x08);
                    ether(be16(p, 20)?, p.get(22..)?).map(|x| x.1)
                }
                6081 => {
                    let opt = usize::from(p[0] & 0x3f) * 4;
                    assert_eq!(be16(p, 2)?, 0x6558);
                    let e = p.get(8 + opt..)?;
                    ether(be16(e, 12)?, e.get(14..)?).map(|x| x.1)
                }
                _ => Some(Inner::Udp {
                    src: SocketAddr::new(src, sp),
                    dst: SocketAddr::new(dst, dp),
                }),
            }
        }
        47 => {
            let flags = be16(t, 0)?;
            let proto = be16(t, 2)?;
            let mut off = 4;
            for bit in [0x8000u16, 0x2000, 0x1000] {
                if flags & bit != 0 {
                    off += 4;
                }
            }
            let p = t.get(off..)?;
            let eth = |e: &[u8]| ether(be16(e, 12)?, e.get(14..)?).map(|x| x.1);
            match proto {
                0x6558 => eth(p),
                0x88be => eth(p.get(8..)?),
                0x22eb => {
                    let o = p.get(11)? & 1 == 1;
                    eth(p.get(if o { 20 } else { 12 }..)?)
                }
                _ => ether(proto, p).map(|x| x.1),
            }
        }
        1 | 58 => Some(Inner::Icmp),
        other => panic!("unexpected protocol {other}"),
    }
}

fn ip(b: &[u8]) -> Option<(u8, Inner)> {
    let inner = match b.first()? >> 4 {
        4 => {
            let ihl = usize::from(b[0] & 0xf) * 4;
            let total = usize::from(be16(b, 2)?);
            let fo = be16(b, 6)?;
            let proto = *b.get(9)?;
            let src = IpAddr::from(<[u8; 4]>::try_from(b.get(12..16)?).ok()?);
            let dst = IpAddr::from(<[u8; 4]>::try_from(b.get(16..20)?).ok()?);
            let body = b.get(ihl..total.min(b.len()))?;
            if fo & 0x3fff != 0 {
                let id = u32::from(be16(b, 4)?);
                return Some((
                    4,
                    Inner::Fragment {
                        key: (src, dst, id),
                        off: usize::from(fo & 0x1fff) * 8,
                        more: fo & 0x2000 != 0,
                        proto,
                        data: body.to_vec(),
                    },
                ));
            }
            return Some((4, transport(proto, src, dst, body)?));
        }
        6 => {
            let src = IpAddr::from(<[u8; 16]>::try_from(b.get(8..24)?).ok()?);
            let dst = IpAddr::from(<[u8; 16]>::try_from(b.get(24..40)?).ok()?);
            let mut next = *b.get(6)?;
            let mut off = 40;
            loop {
                match next {
                    0 | 43 | 60 => {
                        next = *b.get(off)?;
                        off += (usize::from(*b.get(off + 1)?) + 1) * 8;
                    }
                    44 => {
                        let w = be16(b, off + 2)?;
                        let id = u32::from_be_bytes(b.get(off + 4..off + 8)?.try_into().ok()?);
                        return Some((
                            6,
                            Inner::Fragment {
                                key: (src, dst, id),
                                off: usize::from(w >> 3) * 8,
                                more: w & 1 == 1,
                                proto: *b.get(off)?,
                                data: b.get(off + 8..)?.to_vec(),
                            },
                        ));
                    }
                    _ => break,
                }
            }
            let _ = Ipv6Addr::LOCALHOST;
            transport(next, src, dst, b.get(off..)?)?
        }
        v => panic!("IP version {v}"),
    };
    let v = match &inner {
        Inner::Tcp { src, .. } | Inner::Udp { src, .. } if src.is_ipv6() => 6,
        _ => 4,
    };
    Some((v, inner))
}

/// What [`recount`] found in a capture.
#[derive(Default, Debug)]
pub(crate) struct Recount {
    pub(crate) packets: u64,
    pub(crate) read_error: bool,
    pub(crate) tcp_flows: BTreeSet<FlowKey>,
    pub(crate) udp_flows: BTreeSet<FlowKey>,
    pub(crate) tcp_segments: u64,
    pub(crate) syn: u64,
    pub(crate) fin: u64,
    pub(crate) rst: u64,
    pub(crate) udp: u64,
    pub(crate) arp: u64,
    pub(crate) icmp: u64,
    pub(crate) fragments: u64,
    pub(crate) truncated: u64,
    pub(crate) header_truncated: u64,
    /// TCP payload bytes per (source, destination).
    pub(crate) payload_bytes: BTreeMap<(SocketAddr, SocketAddr), u64>,
    /// Every TCP segment, in capture order (a fragmented one once).
    pub(crate) segs: Vec<TcpSeg>,
}

fn add_tcp(r: &mut Recount, ts: u64, inner: Inner) {
    let Inner::Tcp {
        src,
        dst,
        seq,
        ack,
        flags,
        payload,
    } = inner
    else {
        panic!("not TCP: {inner:?}");
    };
    r.tcp_flows.insert(flow_key(src, dst));
    r.tcp_segments += 1;
    r.syn += u64::from(flags & 0x02 != 0);
    r.fin += u64::from(flags & 0x01 != 0);
    r.rst += u64::from(flags & 0x04 != 0);
    *r.payload_bytes.entry((src, dst)).or_default() += payload.len() as u64;
    r.segs.push(TcpSeg {
        ts,
        src,
        dst,
        seq,
        ack,
        flags,
        payload,
    });
}

type FragKey = (IpAddr, IpAddr, u32);
/// (offset, more fragments, protocol, data)
type FragPiece = (usize, bool, u8, Vec<u8>);

/// Reads `path` through libpcap; returns its DLT and the tallies. Asserts
/// that timestamps never go back and start at [`EPOCH_US`] (unless
/// `any_start`).
pub(crate) fn recount_from(path: &Path, any_start: bool) -> (i32, Recount) {
    let mut cap = ::pcap::Capture::from_file(path).unwrap();
    let dlt = cap.get_datalink().0;
    let mut r = Recount::default();
    let mut frags: HashMap<FragKey, Vec<FragPiece>> = HashMap::new();
    let mut last_ts = 0u64;
    loop {
        let p = match cap.next_packet() {
            Ok(p) => p,
            Err(::pcap::Error::NoMorePackets) => break,
            Err(_) => {
                r.read_error = true;
                break;
            }
        };
        r.packets += 1;
        let ts = p.header.ts.tv_sec as u64 * 1_000_000 + p.header.ts.tv_usec as u64;
        if r.packets == 1 && !any_start {
            assert_eq!(ts, EPOCH_US, "first packet at 2026-01-01T00:00:00Z");
        }
        assert!(ts >= last_ts && ts >= EPOCH_US);
        last_ts = ts;
        if p.header.caplen < p.header.len {
            r.truncated += 1;
        }
        match decode(dlt, p.data) {
            None => r.header_truncated += 1,
            Some((_, Inner::Arp)) => r.arp += 1,
            Some((_, Inner::Icmp)) => r.icmp += 1,
            Some((_, Inner::Udp { src, dst })) => {
                r.udp += 1;
                r.udp_flows.insert(flow_key(src, dst));
            }
            Some((_, tcp @ Inner::Tcp { .. })) => add_tcp(&mut r, ts, tcp),
            Some((
                _,
                Inner::Fragment {
                    key,
                    off,
                    more,
                    proto,
                    data,
                },
            )) => {
                r.fragments += 1;
                let e = frags.entry(key).or_default();
                e.push((off, more, proto, data));
                let Some(end) = e.iter().find(|f| !f.1).map(|f| f.0 + f.3.len()) else {
                    continue;
                };
                let mut buf = vec![None; end];
                for (o, _, _, d) in e.iter() {
                    for (i, x) in d.iter().enumerate() {
                        buf[o + i] = Some(*x);
                    }
                }
                if buf.iter().all(Option::is_some) {
                    let whole: Vec<u8> = buf.into_iter().flatten().collect();
                    let proto = e.iter().find(|f| f.0 == 0).map(|f| f.2).unwrap();
                    frags.remove(&key);
                    match transport(proto, key.0, key.1, &whole) {
                        Some(tcp @ Inner::Tcp { .. }) => add_tcp(&mut r, ts, tcp),
                        other => panic!("reassembled {other:?}"),
                    }
                }
            }
        }
    }
    assert!(frags.is_empty(), "incomplete datagrams left");
    (dlt, r)
}

/// [`recount_from`] for scenario files (first packet at [`EPOCH_US`]).
pub(crate) fn recount(path: &Path) -> (i32, Recount) {
    recount_from(path, false)
}

pub(crate) fn dlt_of(linktype: u32) -> i32 {
    if linktype == 101 {
        12
    } else {
        linktype as i32
    }
}

// ------------------------------------------------------------ TCP streams

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

fn sdiff(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

/// One direction of a connection, reassembled by sequence number.
#[derive(Debug, Default)]
pub(crate) struct Stream {
    pub(crate) data: Vec<u8>,
    pub(crate) have: Vec<bool>,
    /// Capture time of the segment that supplied each byte first.
    pub(crate) ts: Vec<u64>,
    /// Offsets of the first byte of each later copy that differed.
    pub(crate) conflicts: Vec<usize>,
    /// The sender sent FIN or RST, or the peer sent RST.
    pub(crate) closed: bool,
}

impl Stream {
    fn end(&self) -> usize {
        self.data.len()
    }

    /// First missing offset in `a..b` (clipped to the end).
    fn gap_in(&self, a: usize, b: usize) -> Option<usize> {
        (a..b.min(self.end())).find(|&i| !self.have[i])
    }

    /// End of the hole starting at `at`.
    fn gap_end(&self, at: usize) -> usize {
        (at..self.end())
            .find(|&i| self.have[i])
            .unwrap_or(self.end())
    }
}

fn reassemble(segs: &[&TcpSeg], sender: SocketAddr) -> Stream {
    let mine: Vec<&TcpSeg> = segs.iter().copied().filter(|s| s.src == sender).collect();
    let base = if let Some(syn) = mine.iter().find(|s| s.flags & SYN != 0) {
        syn.seq.wrapping_add(1)
    } else {
        let mut data = mine.iter().filter(|s| !s.payload.is_empty());
        let Some(first) = data.next() else {
            return Stream::default();
        };
        let mut b = first.seq;
        for s in data {
            if sdiff(s.seq, b) < 0 {
                b = s.seq;
            }
        }
        b
    };
    let mut st = Stream::default();
    let mut end = 0usize;
    let mut fin_at = None;
    for s in segs {
        if s.src == sender {
            if s.flags & SYN != 0 {
                continue;
            }
            let off = sdiff(s.seq, base);
            assert!(off >= 0, "data before the stream start");
            let off = off as usize;
            if s.flags & (FIN | RST) != 0 {
                st.closed = true;
            }
            if s.flags & FIN != 0 {
                fin_at = Some(off + s.payload.len());
            }
            if s.payload.is_empty() {
                continue;
            }
            let stop = off + s.payload.len();
            if st.data.len() < stop {
                st.data.resize(stop, 0);
                st.have.resize(stop, false);
                st.ts.resize(stop, 0);
            }
            let mut conflict = None;
            for (k, &b) in s.payload.iter().enumerate() {
                let at = off + k;
                if st.have[at] {
                    if st.data[at] != b && conflict.is_none() {
                        conflict = Some(at);
                    }
                } else {
                    st.data[at] = b;
                    st.have[at] = true;
                    st.ts[at] = s.ts;
                }
            }
            st.conflicts.extend(conflict);
            end = end.max(stop);
        } else {
            if s.flags & RST != 0 {
                st.closed = true;
            }
            if s.flags & ACK != 0 && s.flags & SYN == 0 {
                let d = sdiff(s.ack, base);
                if d > 0 {
                    end = end.max(d as usize);
                }
            }
        }
    }
    if let Some(f) = fin_at {
        end = f;
    }
    st.data.resize(end, 0);
    st.have.resize(end, false);
    st.ts.resize(end, 0);
    st
}

/// A reassembled connection.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) client: SocketAddr,
    pub(crate) server: SocketAddr,
    /// No SYN from the client was captured.
    pub(crate) midstream: bool,
    pub(crate) up: Stream,
    pub(crate) down: Stream,
}

/// Groups segments by connection (in order of first appearance) and
/// reassembles both directions. The client is the SYN sender, else the
/// SYN-ACK receiver, else the endpoint with the higher port.
pub(crate) fn connections(segs: &[TcpSeg]) -> Vec<Conn> {
    let mut order: Vec<FlowKey> = Vec::new();
    let mut by: HashMap<FlowKey, Vec<&TcpSeg>> = HashMap::new();
    for s in segs {
        let k = flow_key(s.src, s.dst);
        let e = by.entry(k).or_insert_with(|| {
            order.push(k);
            Vec::new()
        });
        e.push(s);
    }
    order
        .into_iter()
        .map(|k| {
            let v = &by[&k];
            let syn = v.iter().find(|s| s.flags & (SYN | ACK) == SYN);
            let synack = v.iter().find(|s| s.flags & (SYN | ACK) == SYN | ACK);
            let client = match (syn, synack) {
                (Some(s), _) => s.src,
                (None, Some(s)) => s.dst,
                _ if k.0.port() > k.1.port() => k.0,
                _ => k.1,
            };
            let server = if client == k.0 { k.1 } else { k.0 };
            Conn {
                client,
                server,
                midstream: syn.is_none(),
                up: reassemble(v, client),
                down: reassemble(v, server),
            }
        })
        .collect()
}

// ------------------------------------------------------------ HTTP/1.x

const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// One parsed message.
#[derive(Debug, Default, Clone)]
struct Msg {
    start: usize,
    end: usize,
    ts: u64,
    /// Request: method, target; response: status.
    method: String,
    target: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: u64,
    /// Body bytes after de-chunking (when no gap cut them).
    data: Vec<u8>,
    complete: bool,
    anomalies: Vec<&'static str>,
}

impl Msg {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn note(&mut self, a: &'static str) {
        if !self.anomalies.contains(&a) {
            self.anomalies.push(a);
        }
    }
}

enum Line {
    /// Text without its line ending; offset after it; ended by a bare LF.
    Ok(String, usize, bool),
    Gap(usize),
    End,
}

fn line(s: &Stream, pos: usize) -> Line {
    let mut i = pos;
    while i < s.end() {
        if !s.have[i] {
            return Line::Gap(i);
        }
        if s.data[i] == b'\n' {
            let cr = i > pos && s.data[i - 1] == b'\r';
            let stop = if cr { i - 1 } else { i };
            let text = String::from_utf8_lossy(&s.data[pos..stop]).into_owned();
            return Line::Ok(text, i + 1, !cr);
        }
        i += 1;
    }
    Line::End
}

fn is_request_line(l: &str) -> bool {
    let mut it = l.split(' ');
    let (Some(m), Some(t), Some(v), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return false;
    };
    METHODS.contains(&m) && !t.is_empty() && (v == "HTTP/1.1" || v == "HTTP/1.0")
}

fn is_status_line(l: &str) -> bool {
    let b = l.as_bytes();
    b.len() >= 12
        && (l.starts_with("HTTP/1.1 ") || l.starts_with("HTTP/1.0 "))
        && b[9..12].iter().all(u8::is_ascii_digit)
        && (b.len() == 12 || b[12] == b' ')
}

/// First offset at or after `pos` where a request (or status) line starts
/// with no hole before its line end.
fn find_start(s: &Stream, pos: usize, request: bool) -> Option<usize> {
    (pos..s.end()).find(|&p| {
        s.have[p]
            && match line(s, p) {
                Line::Ok(l, _, _) => {
                    if request {
                        is_request_line(&l)
                    } else {
                        is_status_line(&l)
                    }
                }
                _ => false,
            }
    })
}

enum Head {
    /// Start line, headers, offset after the blank line.
    Ok(String, Vec<(String, String)>, usize, bool),
    /// Cut by a hole at this offset (start line if it was complete).
    Gap(Option<String>, Vec<(String, String)>, usize, bool),
    /// Cut by the end of the stream.
    End(Option<String>, Vec<(String, String)>, bool),
    /// The first line is neither a request nor a status line.
    Bad(String),
}

fn head(s: &Stream, mut pos: usize, skip_empty: bool) -> (usize, Head) {
    let mut bare = false;
    let mut first: Option<String> = None;
    let mut headers = Vec::new();
    let mut start = pos;
    loop {
        match line(s, pos) {
            Line::Gap(at) => return (start, Head::Gap(first, headers, at, bare)),
            Line::End => return (start, Head::End(first, headers, bare)),
            Line::Ok(l, next, lf) => {
                if first.is_none() && l.is_empty() && skip_empty {
                    pos = next;
                    start = next;
                    continue;
                }
                bare |= lf;
                pos = next;
                match &first {
                    None if !is_request_line(&l) && !is_status_line(&l) => {
                        return (start, Head::Bad(l))
                    }
                    None => first = Some(l),
                    Some(_) if l.is_empty() => {
                        return (
                            start,
                            Head::Ok(first.unwrap_or_default(), headers, pos, bare),
                        )
                    }
                    Some(_) => {
                        let (n, v) = l
                            .split_once(':')
                            .unwrap_or_else(|| panic!("header line without colon: {l:?}"));
                        headers.push((n.to_string(), v.trim().to_string()));
                    }
                }
            }
        }
    }
}

enum Framing {
    None,
    Fixed(u64),
    Chunked,
    Close,
}

fn framing(m: &mut Msg, default: Framing) -> Framing {
    let chunked = m.header("transfer-encoding").is_some_and(|v| {
        v.rsplit(',')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("chunked"))
    });
    let cls: Vec<String> = m
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .flat_map(|(_, v)| v.split(',').map(|x| x.trim().to_string()))
        .collect();
    if chunked {
        if !cls.is_empty() {
            m.note("cl_and_te");
        }
        return Framing::Chunked;
    }
    if cls.is_empty() {
        return default;
    }
    if cls.len() > 1 {
        if cls.iter().all(|c| *c == cls[0]) {
            m.note("duplicate_content_length");
        } else {
            m.note("conflicting_content_length");
        }
    }
    Framing::Fixed(cls[0].parse().expect("numeric Content-Length"))
}

/// Reads a body at `pos`; returns the offset after it, or None when the
/// direction cannot be parsed further (invalid chunk size or the end).
fn body(s: &Stream, mut pos: usize, f: Framing, m: &mut Msg) -> Option<usize> {
    match f {
        Framing::None => Some(pos),
        Framing::Fixed(n) => {
            let n = n as usize;
            if s.gap_in(pos, pos + n).is_some() {
                m.note("gap");
                m.complete = false;
            }
            if pos + n > s.end() {
                m.note("truncated");
                m.complete = false;
                m.body = (s.end() - pos) as u64;
                return None;
            }
            m.body = n as u64;
            m.data = s.data[pos..pos + n].to_vec();
            Some(pos + n)
        }
        Framing::Close => {
            if s.gap_in(pos, s.end()).is_some() {
                m.note("gap");
                m.complete = false;
            }
            if !s.closed {
                m.note("truncated");
                m.complete = false;
            }
            m.body = (s.end() - pos) as u64;
            m.data = s.data[pos..].to_vec();
            None
        }
        Framing::Chunked => loop {
            let (text, next) = match line(s, pos) {
                Line::Ok(t, n, lf) => {
                    if lf {
                        m.note("bare_lf");
                    }
                    (t, n)
                }
                Line::Gap(_) => {
                    m.note("gap");
                    m.complete = false;
                    return None;
                }
                Line::End => {
                    m.note("truncated");
                    m.complete = false;
                    return None;
                }
            };
            let digits = text.split(';').next().unwrap_or("").trim();
            let size = if !digits.is_empty()
                && digits.len() <= 15
                && digits.bytes().all(|b| b.is_ascii_hexdigit())
            {
                usize::from_str_radix(digits, 16).ok()
            } else {
                None
            };
            let Some(size) = size else {
                m.note("invalid_chunk_size");
                m.complete = false;
                return None;
            };
            pos = next;
            if size == 0 {
                // Trailers up to the blank line.
                loop {
                    match line(s, pos) {
                        Line::Ok(t, n, _) => {
                            pos = n;
                            if t.is_empty() {
                                return Some(pos);
                            }
                        }
                        Line::Gap(_) => {
                            m.note("gap");
                            m.complete = false;
                            return None;
                        }
                        Line::End => {
                            m.note("truncated");
                            m.complete = false;
                            return None;
                        }
                    }
                }
            }
            if s.gap_in(pos, pos + size).is_some() {
                m.note("gap");
                m.complete = false;
                return None;
            }
            if pos + size > s.end() {
                m.note("truncated");
                m.complete = false;
                m.body += (s.end() - pos) as u64;
                return None;
            }
            m.body += size as u64;
            m.data.extend_from_slice(&s.data[pos..pos + size]);
            pos += size;
            match line(s, pos) {
                Line::Ok(t, n, _) if t.is_empty() => pos = n,
                _ => panic!("chunk data not followed by CRLF"),
            }
        },
    }
}

fn new_msg(s: &Stream, start: usize) -> Msg {
    Msg {
        start,
        end: start,
        ts: s.ts[start],
        complete: true,
        ..Msg::default()
    }
}

/// Parses requests; `None` when the client stream is not HTTP.
fn requests(s: &Stream, midstream: bool) -> Option<Vec<Msg>> {
    let mut out: Vec<Msg> = Vec::new();
    let mut pos = 0;
    let mut resync = midstream;
    while pos < s.end() {
        if !s.have[pos] {
            pos = s.gap_end(pos);
            resync = true;
            continue;
        }
        if resync {
            pos = find_start(s, pos, true)?;
            resync = false;
        }
        let (start, h) = head(s, pos, true);
        if start >= s.end() {
            break;
        }
        let mut m = new_msg(s, start);
        let (first, headers, bare) = match &h {
            Head::Ok(f, hs, _, b) => (Some(f.clone()), hs.clone(), *b),
            Head::Gap(f, hs, _, b) | Head::End(f, hs, b) => (f.clone(), hs.clone(), *b),
            Head::Bad(l) if out.is_empty() && !midstream => return None,
            Head::Bad(l) => panic!("bad request line {l:?}"),
        };
        if let Some(f) = &first {
            assert!(is_request_line(f), "bad request line {f:?}");
            let mut it = f.split(' ');
            m.method = it.next().unwrap_or("").to_string();
            m.target = it.next().unwrap_or("").to_string();
        }
        m.headers = headers;
        if bare {
            m.note("bare_lf");
        }
        match h {
            Head::Ok(_, _, next, _) => {
                let f = framing(&mut m, Framing::None);
                let upgrade = m.method == "CONNECT" || m.header("upgrade").is_some();
                let after = body(s, next, f, &mut m);
                m.end = after.unwrap_or(s.end());
                out.push(m);
                match after {
                    Some(p) if !upgrade => pos = p,
                    _ => break,
                }
            }
            Head::Gap(_, _, at, _) => {
                m.note("gap");
                m.complete = false;
                m.end = at;
                if first.is_some() {
                    out.push(m);
                }
                pos = s.gap_end(at);
                resync = true;
            }
            Head::End(..) => {
                m.note("truncated");
                m.complete = false;
                m.end = s.end();
                if first.is_some() {
                    out.push(m);
                }
                break;
            }
            Head::Bad(_) => unreachable!(),
        }
    }
    Some(out)
}

/// A response and the index of the request it answers (None: without
/// request), plus 1xx statuses before it.
struct Answer {
    msg: Msg,
    request: Option<usize>,
    informational: Vec<u16>,
}

fn responses(s: &Stream, midstream: bool, reqs: &[Msg]) -> Vec<Answer> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut resync = midstream;
    let mut next_req = 0usize;
    let mut info: Vec<u16> = Vec::new();
    while pos < s.end() {
        if !s.have[pos] {
            pos = s.gap_end(pos);
            resync = true;
            continue;
        }
        if resync {
            match find_start(s, pos, false) {
                Some(p) => pos = p,
                None => break,
            }
            resync = false;
        }
        let (start, h) = head(s, pos, false);
        if start >= s.end() {
            break;
        }
        let mut m = new_msg(s, start);
        let paired = (next_req < reqs.len() && reqs[next_req].ts < m.ts).then_some(next_req);
        let req = paired.map(|i| &reqs[i]);
        let (first, headers, bare) = match &h {
            Head::Ok(f, hs, _, b) => (Some(f.clone()), hs.clone(), *b),
            Head::Gap(f, hs, _, b) | Head::End(f, hs, b) => (f.clone(), hs.clone(), *b),
            Head::Bad(l) => panic!("bad status line {l:?}"),
        };
        if let Some(f) = &first {
            assert!(is_status_line(f), "bad status line {f:?}");
            m.status = f[9..12].parse().unwrap_or(0);
        }
        m.headers = headers;
        if bare {
            m.note("bare_lf");
        }
        if paired.is_none() {
            m.note("response_without_request");
            m.complete = false;
        }
        match h {
            Head::Ok(_, _, next, _) => {
                if (100..200).contains(&m.status) && m.status != 101 {
                    info.push(m.status);
                    pos = next;
                    continue;
                }
                let method = req.map_or("", |r| r.method.as_str());
                let tunnel =
                    m.status == 101 || (method == "CONNECT" && (200..300).contains(&m.status));
                let no_body = method == "HEAD" || m.status == 204 || m.status == 304 || tunnel;
                let f = if no_body {
                    Framing::None
                } else {
                    framing(&mut m, Framing::Close)
                };
                let after = body(s, next, f, &mut m);
                m.end = after.unwrap_or(s.end());
                out.push(Answer {
                    msg: m,
                    request: paired,
                    informational: std::mem::take(&mut info),
                });
                if paired.is_some() {
                    next_req += 1;
                }
                match after {
                    Some(p) if !tunnel => pos = p,
                    _ => break,
                }
            }
            Head::Gap(_, _, at, _) => {
                m.note("gap");
                m.complete = false;
                m.end = at;
                if first.is_some() {
                    out.push(Answer {
                        msg: m,
                        request: paired,
                        informational: std::mem::take(&mut info),
                    });
                    if paired.is_some() {
                        next_req += 1;
                    }
                }
                pos = s.gap_end(at);
                resync = true;
            }
            Head::End(..) => {
                m.note("truncated");
                m.complete = false;
                m.end = s.end();
                if first.is_some() {
                    out.push(Answer {
                        msg: m,
                        request: paired,
                        informational: std::mem::take(&mut info),
                    });
                }
                break;
            }
            Head::Bad(_) => unreachable!(),
        }
    }
    out
}

fn norm_host(h: &str) -> String {
    let h = h.trim().to_ascii_lowercase();
    for port in [":80", ":443"] {
        if let Some(name) = h.strip_suffix(port) {
            if !name.is_empty() && (name.ends_with(']') || !name.contains(':')) {
                return name.to_string();
            }
        }
    }
    h
}

/// Marks the message containing each conflicting offset.
fn mark_conflicts(msgs: &mut [&mut Msg], conflicts: &[usize]) {
    for &c in conflicts {
        for m in msgs.iter_mut() {
            if m.start <= c && c < m.end.max(m.start + 1) {
                m.note("overlap_different_data");
            }
        }
    }
}

/// HTTP transactions of one connection, in order of their first byte.
pub(crate) fn conn_transactions(c: &Conn) -> Vec<ExpectedTx> {
    let Some(mut reqs) = requests(&c.up, c.midstream) else {
        return Vec::new();
    };
    let mut answers = responses(&c.down, c.midstream, &reqs);
    mark_conflicts(&mut reqs.iter_mut().collect::<Vec<_>>(), &c.up.conflicts);
    mark_conflicts(
        &mut answers.iter_mut().map(|a| &mut a.msg).collect::<Vec<_>>(),
        &c.down.conflicts,
    );
    let mut txs: Vec<(u64, ExpectedTx)> = Vec::new();
    let base = |ts| {
        (
            ts,
            ExpectedTx {
                client: c.client.to_string(),
                server: c.server.to_string(),
                complete: true,
                ..ExpectedTx::default()
            },
        )
    };
    for (i, r) in reqs.iter().enumerate() {
        let (ts, mut t) = base(r.ts);
        t.method = Some(r.method.clone());
        let lower = r.target.to_ascii_lowercase();
        let absolute = lower.starts_with("http://") || lower.starts_with("https://");
        let (authority, rest) = if absolute {
            let after = &r.target[r.target.find("://").unwrap() + 3..];
            let cut = after.find(['/', '?']).unwrap_or(after.len());
            let rest = &after[cut..];
            let rest = if rest.starts_with('/') {
                rest.to_string()
            } else {
                format!("/{rest}")
            };
            (Some(after[..cut].to_string()), rest)
        } else {
            (None, r.target.clone())
        };
        if r.method == "CONNECT" {
            t.path = Some(r.target.clone());
        } else {
            match rest.split_once('?') {
                Some((p, q)) => {
                    t.path = Some(p.to_string());
                    t.query = Some(q.to_string());
                }
                None => t.path = Some(rest),
            }
        }
        t.host = authority.as_deref().or(r.header("host")).map(norm_host);
        t.request_body_bytes = r.body;
        t.complete = r.complete;
        let mut anomalies: Vec<&str> = r.anomalies.clone();
        match answers.iter().find(|a| a.request == Some(i)) {
            Some(a) => {
                t.status = Some(a.msg.status);
                t.response_body_bytes = a.msg.body;
                t.complete &= a.msg.complete;
                t.informational = a.informational.clone();
                for x in &a.msg.anomalies {
                    if !anomalies.contains(x) {
                        anomalies.push(x);
                    }
                }
                if a.msg.status == 101 {
                    t.upgrade = a.msg.header("upgrade").map(|u| u.to_ascii_lowercase());
                } else if r.method == "CONNECT" && (200..300).contains(&a.msg.status) {
                    t.upgrade = Some("connect".into());
                }
            }
            None => {
                t.complete = false;
                if !anomalies.contains(&"truncated") {
                    anomalies.push("truncated");
                }
            }
        }
        t.anomalies = anomalies.into_iter().map(String::from).collect();
        txs.push((ts, t));
    }
    for a in answers.iter().filter(|a| a.request.is_none()) {
        let (ts, mut t) = base(a.msg.ts);
        t.status = Some(a.msg.status);
        t.response_body_bytes = a.msg.body;
        t.complete = false;
        t.informational = a.informational.clone();
        t.anomalies = a.msg.anomalies.iter().map(|x| x.to_string()).collect();
        txs.push((ts, t));
    }
    txs.sort_by_key(|(ts, _)| *ts);
    txs.into_iter().map(|(_, t)| t).collect()
}

/// Every HTTP transaction in the capture, per connection in order of the
/// connection's first packet.
pub(crate) fn http_transactions(r: &Recount) -> Vec<ExpectedTx> {
    connections(&r.segs)
        .iter()
        .flat_map(conn_transactions)
        .collect()
}

/// Whether `sender`'s data was captured out of sequence order (a segment
/// filled a hole left by a later one) or with overlapping
/// retransmissions (a segment re-sent seen bytes together with new ones).
/// Exact retransmissions of data already seen do not count.
pub(crate) fn irregular(segs: &[TcpSeg], sender: SocketAddr, peer: SocketAddr) -> bool {
    let mine: Vec<&TcpSeg> = segs
        .iter()
        .filter(|s| s.src == sender && s.dst == peer && !s.payload.is_empty())
        .collect();
    let Some(first) = mine.first() else {
        return false;
    };
    let base = mine
        .iter()
        .map(|s| s.seq)
        .fold(first.seq, |b, s| if sdiff(s, b) < 0 { s } else { b });
    let mut have: Vec<bool> = Vec::new();
    for s in mine {
        let off = sdiff(s.seq, base) as usize;
        let stop = off + s.payload.len();
        let seen_end = have.len();
        if (off..stop.min(seen_end)).any(|i| !have[i]) {
            return true;
        }
        if off < seen_end && stop > seen_end {
            return true;
        }
        if seen_end < stop {
            have.resize(stop, false);
        }
        for h in &mut have[off..stop] {
            *h = true;
        }
    }
    false
}

/// (Content-Encoding, de-chunked body) of every response of `c` that has
/// a body.
pub(crate) fn response_bodies(c: &Conn) -> Vec<(Option<String>, Vec<u8>)> {
    let reqs = requests(&c.up, c.midstream).unwrap_or_default();
    responses(&c.down, c.midstream, &reqs)
        .into_iter()
        .filter(|a| a.msg.body > 0)
        .map(|a| {
            let enc = a.msg.header("content-encoding").map(str::to_string);
            (enc, a.msg.data)
        })
        .collect()
}
