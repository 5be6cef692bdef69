//! TCP conversation builder: turns "client sends X, server sends Y" into
//! a list of TCP segments with consistent sequence and acknowledgment
//! numbers and increasing timestamps.
//!
//! Guarantees:
//! - Sequence/ack arithmetic is modulo 2^32 (ISNs near 2^32 wrap cleanly).
//! - Each data message is split into segments of at most `mss` bytes (or at
//!   caller-given sizes); the last segment of a message carries PSH; the
//!   peer acknowledges every `ack_every` segments and at the end of each
//!   message with a pure ACK.
//! - Timestamps start at `start_ts_us` and grow by `step_us` per segment
//!   (plus any [`Conversation::pause`]), so a conversation is strictly
//!   increasing in time.
//! - Output depends only on the inputs (no clock, no global state).
//!
//! The result is a plain `Vec<Segment>` so the operations of
//! [`crate::synth::segops`] (re-segmenting, reordering, duplication,
//! overlaps, drops, a mid-stream capture start, driven by
//! [`crate::synth::rng::SplitMix64`]) can transform it before frames are
//! built with [`Segment::to_frame`].

use std::net::SocketAddr;

use super::packet::{Encap, Frame, IpPair, Link, TcpFlags, Transport};
use super::SynthError;

/// Default maximum segment size (Ethernet, no TCP options).
pub const DEFAULT_MSS: usize = 1460;
/// Default time between consecutive segments, in microseconds.
pub const DEFAULT_STEP_US: u64 = 100;
/// Default receive window.
pub const DEFAULT_WINDOW: u16 = 65535;

/// Which endpoint sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The endpoint that opened the connection.
    Client,
    /// The listening endpoint.
    Server,
}

/// One TCP segment of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Segment {
    /// Capture timestamp, microseconds since the Unix epoch.
    pub ts_us: u64,
    /// Sent by the client (else by the server).
    pub from_client: bool,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (0 on the initial SYN).
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Window.
    pub window: u16,
    /// Raw TCP options (the SYN and SYN-ACK carry MSS).
    pub options: Vec<u8>,
    /// Payload.
    pub payload: Vec<u8>,
    /// IPv4 identification (per-sender counter).
    pub ip_id: u16,
}

/// How segments are turned into frames.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FrameStyle {
    /// Link layer.
    pub link: Option<Link>,
    /// Encapsulations, outer to inner.
    pub encaps: Vec<Encap>,
    /// IPv6 hop-by-hop + destination options headers.
    pub ipv6_ext: bool,
    /// Pad Ethernet frames to 60 bytes.
    pub pad_ethernet: bool,
}

impl Segment {
    /// Builds the frame for this segment of a conversation between
    /// `client` and `server`. SLL packet types say "to us" for client
    /// segments and "sent by us" for server segments (a capture on the
    /// server).
    pub fn to_frame(
        &self,
        client: SocketAddr,
        server: SocketAddr,
        style: &FrameStyle,
    ) -> Result<Frame, SynthError> {
        let (src, dst) = if self.from_client {
            (client, server)
        } else {
            (server, client)
        };
        let ip = IpPair::from_sockets(src, dst)?;
        let mut f = Frame::new(
            ip,
            Transport::Tcp {
                src_port: src.port(),
                dst_port: dst.port(),
                seq: self.seq,
                ack: self.ack,
                flags: self.flags,
                window: self.window,
                options: self.options.clone(),
                payload: self.payload.clone(),
            },
        );
        f.link = style.link.unwrap_or(Link::Ethernet);
        f.encaps = style.encaps.clone();
        f.ipv6_ext = style.ipv6_ext && ip.is_v6();
        f.pad_ethernet = style.pad_ethernet;
        f.outgoing = !self.from_client;
        f.ip_id = self.ip_id;
        Ok(f)
    }

    /// Sequence space consumed (payload, plus one for SYN and for FIN).
    pub fn seq_len(&self) -> u32 {
        let mut n = self.payload.len() as u32;
        if self.flags.contains(TcpFlags::SYN) {
            n = n.wrapping_add(1);
        }
        if self.flags.contains(TcpFlags::FIN) {
            n = n.wrapping_add(1);
        }
        n
    }
}

/// What a conversation contains, for expected counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct ConversationStats {
    /// A three-way handshake was emitted.
    pub handshake: bool,
    /// A graceful FIN close was emitted.
    pub fin_close: bool,
    /// A RST was emitted.
    pub reset: bool,
    /// Client payload bytes.
    pub client_bytes: u64,
    /// Server payload bytes.
    pub server_bytes: u64,
    /// Client data segments (payload > 0).
    pub client_data_segments: u64,
    /// Server data segments (payload > 0).
    pub server_data_segments: u64,
}

fn crlf_lines(lines: &[&str]) -> String {
    let mut s = String::new();
    for l in lines {
        s.push_str(l);
        s.push_str("\r\n");
    }
    s
}

/// Builder of one TCP connection's segments.
#[derive(Debug, Clone)]
pub struct Conversation {
    client: SocketAddr,
    server: SocketAddr,
    isn_c: u32,
    isn_s: u32,
    next_c: u32,
    next_s: u32,
    next_ts: u64,
    step_us: u64,
    mss: usize,
    window: u16,
    ack_every: usize,
    ip_id_c: u16,
    ip_id_s: u16,
    open: bool,
    finished: bool,
    stats: ConversationStats,
    segments: Vec<Segment>,
}

impl Conversation {
    /// A conversation between `client` and `server` with the given initial
    /// sequence numbers; the first segment is stamped `start_ts_us`.
    pub fn new(
        client: SocketAddr,
        server: SocketAddr,
        isn_c: u32,
        isn_s: u32,
        start_ts_us: u64,
    ) -> Self {
        Conversation {
            client,
            server,
            isn_c,
            isn_s,
            next_c: isn_c.wrapping_add(1),
            next_s: isn_s.wrapping_add(1),
            next_ts: start_ts_us,
            step_us: DEFAULT_STEP_US,
            mss: DEFAULT_MSS,
            window: DEFAULT_WINDOW,
            ack_every: 1,
            // Distinct, deterministic starting IP ids per endpoint.
            ip_id_c: client.port().wrapping_mul(31),
            ip_id_s: server.port().wrapping_mul(17) ^ client.port(),
            open: false,
            finished: false,
            stats: ConversationStats::default(),
            segments: Vec::new(),
        }
    }

    /// Sets the maximum segment size (at least 1).
    pub fn with_mss(mut self, mss: usize) -> Self {
        self.mss = mss.max(1);
        self
    }

    /// Sets the time between segments.
    pub fn with_step_us(mut self, step_us: u64) -> Self {
        self.step_us = step_us;
        self
    }

    /// Sets the advertised window.
    pub fn with_window(mut self, window: u16) -> Self {
        self.window = window;
        self
    }

    /// Acknowledge every `n` data segments (and at the end of each message).
    pub fn with_ack_every(mut self, n: usize) -> Self {
        self.ack_every = n.max(1);
        self
    }

    /// Client address.
    pub fn client_addr(&self) -> SocketAddr {
        self.client
    }

    /// Server address.
    pub fn server_addr(&self) -> SocketAddr {
        self.server
    }

    /// Timestamp the next segment will get.
    pub fn now(&self) -> u64 {
        self.next_ts
    }

    /// What was emitted so far.
    pub fn stats(&self) -> ConversationStats {
        self.stats
    }

    /// Segments emitted so far.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Mutable access, for later transformations.
    pub fn segments_mut(&mut self) -> &mut Vec<Segment> {
        &mut self.segments
    }

    /// Consumes the builder.
    pub fn into_segments(self) -> Vec<Segment> {
        self.segments
    }

    fn push(
        &mut self,
        side: Side,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        options: Vec<u8>,
        payload: &[u8],
    ) {
        let ip_id = match side {
            Side::Client => {
                self.ip_id_c = self.ip_id_c.wrapping_add(1);
                self.ip_id_c
            }
            Side::Server => {
                self.ip_id_s = self.ip_id_s.wrapping_add(1);
                self.ip_id_s
            }
        };
        self.segments.push(Segment {
            ts_us: self.next_ts,
            from_client: side == Side::Client,
            seq,
            ack,
            flags,
            window: self.window,
            options,
            payload: payload.to_vec(),
            ip_id,
        });
        self.next_ts = self.next_ts.saturating_add(self.step_us);
    }

    fn mss_option(&self) -> Vec<u8> {
        let mss = u16::try_from(self.mss).unwrap_or(u16::MAX);
        let b = mss.to_be_bytes();
        vec![2, 4, b[0], b[1]]
    }

    /// Emits SYN, SYN-ACK, ACK. Only valid before any other segment.
    pub fn handshake(&mut self) -> &mut Self {
        if self.open || self.finished || !self.segments.is_empty() {
            return self;
        }
        let opt = self.mss_option();
        self.push(Side::Client, self.isn_c, 0, TcpFlags::SYN, opt.clone(), &[]);
        self.push(
            Side::Server,
            self.isn_s,
            self.isn_c.wrapping_add(1),
            TcpFlags::SYN | TcpFlags::ACK,
            opt,
            &[],
        );
        self.push(
            Side::Client,
            self.next_c,
            self.next_s,
            TcpFlags::ACK,
            Vec::new(),
            &[],
        );
        self.open = true;
        self.stats.handshake = true;
        self
    }

    /// Declares the connection already established (capture starts
    /// mid-stream): no handshake is emitted; data starts at ISN + 1.
    pub fn midstream(&mut self) -> &mut Self {
        self.open = true;
        self
    }

    /// Advances the clock by `us` without emitting anything.
    pub fn pause(&mut self, us: u64) -> &mut Self {
        self.next_ts = self.next_ts.saturating_add(us);
        self
    }

    /// Client sends `bytes` in MSS-sized segments, each acknowledged.
    pub fn client(&mut self, bytes: &[u8]) -> &mut Self {
        self.send(Side::Client, bytes, &[])
    }

    /// Server sends `bytes` in MSS-sized segments, each acknowledged.
    pub fn server(&mut self, bytes: &[u8]) -> &mut Self {
        self.send(Side::Server, bytes, &[])
    }

    /// `side` sends `bytes` cut at the given segment sizes (each capped at
    /// the MSS; zero sizes are skipped; bytes left over go in MSS-sized
    /// segments).
    pub fn send(&mut self, side: Side, bytes: &[u8], sizes: &[usize]) -> &mut Self {
        if self.finished || bytes.is_empty() {
            return self;
        }
        self.open = true;
        let mut chunks: Vec<&[u8]> = Vec::new();
        let mut rest = bytes;
        for &s in sizes {
            if rest.is_empty() {
                break;
            }
            if s == 0 {
                continue;
            }
            let n = s.min(self.mss).min(rest.len());
            chunks.push(&rest[..n]);
            rest = &rest[n..];
        }
        while !rest.is_empty() {
            let n = self.mss.min(rest.len());
            chunks.push(&rest[..n]);
            rest = &rest[n..];
        }
        let count = chunks.len();
        for (i, chunk) in chunks.into_iter().enumerate() {
            let last = i + 1 == count;
            let flags = if last {
                TcpFlags::ACK | TcpFlags::PSH
            } else {
                TcpFlags::ACK
            };
            let (seq, ack) = match side {
                Side::Client => (self.next_c, self.next_s),
                Side::Server => (self.next_s, self.next_c),
            };
            self.push(side, seq, ack, flags, Vec::new(), chunk);
            let n = chunk.len() as u32;
            match side {
                Side::Client => {
                    self.next_c = self.next_c.wrapping_add(n);
                    self.stats.client_bytes += u64::from(n);
                    self.stats.client_data_segments += 1;
                }
                Side::Server => {
                    self.next_s = self.next_s.wrapping_add(n);
                    self.stats.server_bytes += u64::from(n);
                    self.stats.server_data_segments += 1;
                }
            }
            if last || (i + 1) % self.ack_every == 0 {
                let peer = match side {
                    Side::Client => Side::Server,
                    Side::Server => Side::Client,
                };
                let (pseq, pack) = match peer {
                    Side::Client => (self.next_c, self.next_s),
                    Side::Server => (self.next_s, self.next_c),
                };
                self.push(peer, pseq, pack, TcpFlags::ACK, Vec::new(), &[]);
            }
        }
        self
    }

    /// Two-sided transcript: a line `>>>` starts client bytes, `<<<`
    /// server bytes; every following line up to the next marker is sent by
    /// that side terminated by `\r\n` (the newline ending the text adds no
    /// empty line). Each block is sent as one message. Non-blank text before
    /// the first marker is an error.
    pub fn transcript(&mut self, text: &str) -> Result<&mut Self, SynthError> {
        let mut side: Option<Side> = None;
        let mut block: Vec<&str> = Vec::new();
        let mut blocks: Vec<(Side, String)> = Vec::new();
        let body = text.strip_suffix('\n').unwrap_or(text);
        for line in body.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let marker = match line.trim_end() {
                ">>>" => Some(Side::Client),
                "<<<" => Some(Side::Server),
                _ => None,
            };
            match (marker, side) {
                (Some(m), prev) => {
                    if let Some(p) = prev {
                        blocks.push((p, crlf_lines(&block)));
                    }
                    block.clear();
                    side = Some(m);
                }
                (None, Some(_)) => block.push(line),
                (None, None) => {
                    if !line.trim().is_empty() {
                        return Err(SynthError::arg(
                            "transcript text before the first >>> or <<<",
                        ));
                    }
                }
            }
        }
        if let Some(p) = side {
            blocks.push((p, crlf_lines(&block)));
        }
        for (s, b) in blocks {
            self.send(s, b.as_bytes(), &[]);
        }
        Ok(self)
    }

    /// Graceful close started by the client: FIN/ACK, ACK, FIN/ACK, ACK.
    pub fn fin(&mut self) -> &mut Self {
        self.close(Side::Client)
    }

    /// Graceful four-way close started by `side`.
    pub fn close(&mut self, side: Side) -> &mut Self {
        if self.finished {
            return self;
        }
        let peer = match side {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        };
        for (who, fin_ack_by) in [(side, peer), (peer, side)] {
            let (seq, ack) = self.seq_ack(who);
            self.push(
                who,
                seq,
                ack,
                TcpFlags::FIN | TcpFlags::ACK,
                Vec::new(),
                &[],
            );
            self.advance(who, 1);
            let (s2, a2) = self.seq_ack(fin_ack_by);
            self.push(fin_ack_by, s2, a2, TcpFlags::ACK, Vec::new(), &[]);
        }
        self.finished = true;
        self.stats.fin_close = true;
        self
    }

    /// Abortive close: the client sends RST/ACK.
    pub fn rst(&mut self) -> &mut Self {
        self.rst_from(Side::Client)
    }

    /// Abortive close by `side` (RST/ACK).
    pub fn rst_from(&mut self, side: Side) -> &mut Self {
        if self.finished {
            return self;
        }
        let (seq, ack) = self.seq_ack(side);
        self.push(
            side,
            seq,
            ack,
            TcpFlags::RST | TcpFlags::ACK,
            Vec::new(),
            &[],
        );
        self.finished = true;
        self.stats.reset = true;
        self
    }

    fn seq_ack(&self, side: Side) -> (u32, u32) {
        match side {
            Side::Client => (self.next_c, self.next_s),
            Side::Server => (self.next_s, self.next_c),
        }
    }

    fn advance(&mut self, side: Side, n: u32) {
        match side {
            Side::Client => self.next_c = self.next_c.wrapping_add(n),
            Side::Server => self.next_s = self.next_s.wrapping_add(n),
        }
    }

    /// Builds every segment's frame with `style`.
    pub fn frames(&self, style: &FrameStyle) -> Result<Vec<(u64, Frame)>, SynthError> {
        self.segments
            .iter()
            .map(|s| Ok((s.ts_us, s.to_frame(self.client, self.server, style)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    fn addrs() -> (SocketAddr, SocketAddr) {
        (
            "10.0.0.1:40000".parse().unwrap(),
            "10.0.0.2:80".parse().unwrap(),
        )
    }

    /// Replays segments and checks each side's seq against what the other
    /// side acknowledged; returns the reassembled streams.
    fn replay(segs: &[Segment], isn_c: u32, isn_s: u32, handshake: bool) -> (Vec<u8>, Vec<u8>) {
        let mut exp_c = if handshake {
            isn_c
        } else {
            isn_c.wrapping_add(1)
        };
        let mut exp_s = if handshake {
            isn_s
        } else {
            isn_s.wrapping_add(1)
        };
        let mut c = Vec::new();
        let mut s = Vec::new();
        let mut last_ts = None;
        for seg in segs {
            assert!(last_ts.is_none_or(|t| seg.ts_us > t));
            last_ts = Some(seg.ts_us);
            let (exp, buf) = if seg.from_client {
                (&mut exp_c, &mut c)
            } else {
                (&mut exp_s, &mut s)
            };
            assert_eq!(seg.seq, *exp, "seq continuity");
            *exp = exp.wrapping_add(seg.seq_len());
            buf.extend_from_slice(&seg.payload);
            if seg.flags.contains(TcpFlags::ACK) {
                let want = if seg.from_client { exp_s } else { exp_c };
                assert_eq!(seg.ack, want, "ack covers everything seen");
            }
        }
        (c, s)
    }

    #[test]
    fn handshake_data_fin() {
        let (c, s) = addrs();
        let mut conv = Conversation::new(c, s, 1000, 5000, crate::synth::EPOCH_US).with_mss(10);
        conv.handshake()
            .client(b"GET / HTTP/1.1\r\n\r\n")
            .server(b"HTTP/1.1 200 OK\r\n\r\n")
            .fin();
        let st = conv.stats();
        assert!(st.handshake && st.fin_close && !st.reset);
        assert_eq!((st.client_bytes, st.server_bytes), (18, 19));
        assert_eq!((st.client_data_segments, st.server_data_segments), (2, 2));
        let segs = conv.segments();
        // 3 handshake + 2*(2 data + 2 acks) + 4 close.
        assert_eq!(segs.len(), 3 + 8 + 4);
        assert_eq!(segs[0].flags, TcpFlags::SYN);
        assert_eq!(segs[0].options, vec![2, 4, 0, 10]);
        assert_eq!(segs[1].flags, TcpFlags::SYN | TcpFlags::ACK);
        assert_eq!(segs[0].ts_us, crate::synth::EPOCH_US);
        assert_eq!(segs[1].ts_us, crate::synth::EPOCH_US + DEFAULT_STEP_US);
        assert!(segs[5].flags.contains(TcpFlags::PSH) && !segs[3].flags.contains(TcpFlags::PSH));
        assert!(!segs[4].from_client && segs[4].payload.is_empty());
        let (cs, ss) = replay(segs, 1000, 5000, true);
        assert_eq!(cs, b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(ss, b"HTTP/1.1 200 OK\r\n\r\n");
        let tail: Vec<_> = segs[segs.len() - 4..]
            .iter()
            .map(|s| (s.from_client, s.flags))
            .collect();
        assert_eq!(
            tail,
            vec![
                (true, TcpFlags::FIN | TcpFlags::ACK),
                (false, TcpFlags::ACK),
                (false, TcpFlags::FIN | TcpFlags::ACK),
                (true, TcpFlags::ACK)
            ]
        );
        // Nothing after close.
        let n = conv.segments().len();
        conv.client(b"more").fin().rst();
        assert_eq!(conv.segments().len(), n);
    }

    #[test]
    fn sequence_wraps_around() {
        let (c, s) = addrs();
        let isn_c = u32::MAX - 5;
        let isn_s = u32::MAX - 100;
        let mut conv = Conversation::new(c, s, isn_c, isn_s, 0).with_mss(8);
        let body: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
        conv.handshake()
            .client(b"0123456789abcdef")
            .server(&body)
            .rst();
        let segs = conv.segments();
        assert!(segs.iter().any(|s| s.from_client && s.seq < 100));
        assert!(segs
            .iter()
            .any(|s| !s.from_client && s.seq < 1000 && !s.payload.is_empty()));
        let (cs, ss) = replay(segs, isn_c, isn_s, true);
        assert_eq!(cs, b"0123456789abcdef");
        assert_eq!(ss, body);
        let last = segs.last().unwrap();
        assert_eq!(last.flags, TcpFlags::RST | TcpFlags::ACK);
        assert!(conv.stats().reset);
    }

    #[test]
    fn midstream_has_no_handshake() {
        let (c, s) = addrs();
        let mut conv = Conversation::new(c, s, 7, 9, 0);
        conv.midstream()
            .client(b"abc")
            .server(b"de")
            .close(Side::Server);
        let segs = conv.segments();
        assert_eq!(segs[0].seq, 8);
        assert_eq!(segs[0].ack, 10);
        assert!(!segs.iter().any(|s| s.flags.contains(TcpFlags::SYN)));
        assert!(!segs[segs.len() - 4].from_client);
        replay(segs, 7, 9, false);
        // handshake() after data is ignored.
        let n = conv.segments().len();
        conv.handshake();
        assert_eq!(conv.segments().len(), n);
    }

    #[test]
    fn explicit_sizes_and_ack_every() {
        let (c, s) = addrs();
        let mut conv = Conversation::new(c, s, 1, 2, 0)
            .with_mss(4)
            .with_ack_every(2);
        conv.handshake()
            .send(Side::Client, b"abcdefghijkl", &[1, 0, 2, 100]);
        let data: Vec<usize> = conv
            .segments()
            .iter()
            .filter(|s| s.from_client && !s.payload.is_empty())
            .map(|s| s.payload.len())
            .collect();
        // 1, 2, min(100, mss 4), then MSS-sized rest: 4, 1.
        assert_eq!(data, vec![1, 2, 4, 4, 1]);
        // Acks after segments 2 and 4 and after the last one.
        let acks = conv.segments()[3..]
            .iter()
            .filter(|s| !s.from_client)
            .count();
        assert_eq!(acks, 3);
        replay(conv.segments(), 1, 2, true);
    }

    #[test]
    fn transcript_two_sided() {
        let (c, s) = addrs();
        let mut conv = Conversation::new(c, s, 1, 2, 0);
        conv.handshake()
            .transcript(">>>\nGET /a HTTP/1.1\nHost: x\n\n<<<\nHTTP/1.1 204 No Content\n\n")
            .unwrap();
        let (cs, ss) = replay(conv.segments(), 1, 2, true);
        assert_eq!(cs, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(ss, b"HTTP/1.1 204 No Content\r\n\r\n");
        let mut conv = Conversation::new(c, s, 1, 2, 0);
        assert!(conv.transcript("oops\n>>>\nx").is_err());
    }

    #[test]
    fn frames_are_valid_tcp() {
        let (c, s) = addrs();
        let mut conv = Conversation::new(c, s, 1, 2, 0);
        conv.handshake().client(b"hello").fin();
        let frames = conv.frames(&FrameStyle::default()).unwrap();
        assert_eq!(frames.len(), conv.segments().len());
        for ((_, f), seg) in frames.iter().zip(conv.segments()) {
            let b = f.to_bytes().unwrap();
            let p = SlicedPacket::from_ethernet(&b).unwrap();
            let (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Tcp(t))) = (&p.net, &p.transport)
            else {
                panic!()
            };
            let h = ip.header();
            assert_eq!(
                t.calc_checksum_ipv4(h.source(), h.destination()).unwrap(),
                t.checksum()
            );
            assert_eq!(t.sequence_number(), seg.seq);
            assert_eq!(h.identification(), seg.ip_id);
            let want_src = if seg.from_client { c } else { s };
            assert_eq!(t.source_port(), want_src.port());
        }
        // Mixed families are an error, not a panic.
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        let mut bad = Conversation::new(c, v6, 1, 2, 0);
        bad.handshake();
        assert!(bad.frames(&FrameStyle::default()).is_err());
    }
}
