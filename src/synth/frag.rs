//! IP fragmentation of already built packets (IPv4 and IPv6).
//!
//! Input is one IP packet (as from [`crate::synth::packet::Frame::ip_packet`]);
//! output is a list of IP packets, each to be wrapped with
//! [`crate::synth::packet::Wrapping::wrap`].
//!
//! Guarantees:
//! - Every fragment is at most `mtu` bytes of IP (header included); every
//!   fragment but the last carries a multiple of 8 data bytes; offsets are in
//!   8-byte units; MF is set on all but the last (or copied from the input
//!   when re-fragmenting an IPv4 fragment); all fragments share the
//!   identification; IPv4 header checksums are correct.
//! - IPv6 fragments carry a Fragment extension header placed after the
//!   unfragmentable part (hop-by-hop and routing headers, and destination
//!   options that precede a routing header), per RFC 8200 section 4.5.
//! - Without overlap, the fragments' data concatenated in offset order is
//!   exactly the original payload. With `overlap`, each fragment after the
//!   first starts `overlap` bytes before the previous one ended; with
//!   `conflicting_overlap` the re-sent bytes are replaced by `b'X'` in the
//!   later fragment, so reassembly policies (first vs. last wins) differ.
//! - A packet that already fits in `mtu` is returned unchanged, alone.
//! - Bad input (not IP, DF set, MTU too small, bad order) is a
//!   [`SynthError`].

use super::packet::internet_checksum;
use super::packet::ipproto;
use super::SynthError;

/// Order in which fragments are returned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FragOrder {
    /// Offset order.
    #[default]
    InOrder,
    /// Last fragment first, first fragment last.
    Reversed,
    /// The last fragment first, the others in order.
    LastFirst,
    /// Explicit permutation: element `i` is the index (in offset order) of
    /// the fragment returned at position `i`. Must be a permutation.
    Permutation(Vec<usize>),
}

/// How to fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FragOptions {
    /// Maximum size of each fragment's IP packet, header included.
    pub mtu: usize,
    /// Bytes (a multiple of 8) each fragment after the first repeats of
    /// the previous fragment's data.
    pub overlap: usize,
    /// Replace the repeated bytes with `b'X'` in the later fragment.
    pub conflicting_overlap: bool,
    /// Output order.
    pub order: FragOrder,
}

impl FragOptions {
    /// In-order, non-overlapping fragments of at most `mtu` bytes.
    pub fn mtu(mtu: usize) -> Self {
        FragOptions {
            mtu,
            overlap: 0,
            conflicting_overlap: false,
            order: FragOrder::InOrder,
        }
    }

    /// Same options with another order.
    pub fn with_order(mut self, order: FragOrder) -> Self {
        self.order = order;
        self
    }

    /// Same options with overlapping fragments.
    pub fn with_overlap(mut self, overlap: usize, conflicting: bool) -> Self {
        self.overlap = overlap;
        self.conflicting_overlap = conflicting;
        self
    }
}

/// Fragments an IPv4 packet into in-order fragments of at most `mtu` bytes.
pub fn fragment_ipv4(packet: &[u8], mtu: usize) -> Result<Vec<Vec<u8>>, SynthError> {
    fragment_ipv4_with(packet, &FragOptions::mtu(mtu))
}

/// Fragments an IPv6 packet (identification `ident`) into in-order
/// fragments of at most `mtu` bytes.
pub fn fragment_ipv6(packet: &[u8], mtu: usize, ident: u32) -> Result<Vec<Vec<u8>>, SynthError> {
    fragment_ipv6_with(packet, ident, &FragOptions::mtu(mtu))
}

/// Fragments an IP packet of either version (IPv6 uses `ident`).
pub fn fragment_ip(
    packet: &[u8],
    ident: u32,
    opts: &FragOptions,
) -> Result<Vec<Vec<u8>>, SynthError> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => fragment_ipv4_with(packet, opts),
        Some(6) => fragment_ipv6_with(packet, ident, opts),
        _ => Err(SynthError::arg("not an IP packet")),
    }
}

/// (offset, len) of each fragment's data within a payload of `total`
/// bytes, `chunk` bytes per fragment (multiple of 8), with `overlap`.
fn plan(total: usize, chunk: usize, overlap: usize) -> Result<Vec<(usize, usize)>, SynthError> {
    if chunk < 8 {
        return Err(SynthError::arg(
            "mtu leaves less than 8 data bytes per fragment",
        ));
    }
    if overlap % 8 != 0 || overlap >= chunk {
        return Err(SynthError::arg(
            "overlap must be a multiple of 8 smaller than a fragment",
        ));
    }
    let mut v = Vec::new();
    let mut off = 0;
    loop {
        let len = chunk.min(total - off);
        v.push((off, len));
        if off + len >= total {
            break;
        }
        off += len - overlap;
    }
    Ok(v)
}

fn fill(payload: &[u8], parts: &[(usize, usize)], i: usize, opts: &FragOptions) -> Vec<u8> {
    let (off, len) = parts[i];
    let mut d = payload[off..off + len].to_vec();
    if i > 0 && opts.conflicting_overlap {
        let n = opts.overlap.min(d.len());
        d[..n].fill(b'X');
    }
    d
}

/// Fragments an IPv4 packet with `opts`.
pub fn fragment_ipv4_with(packet: &[u8], opts: &FragOptions) -> Result<Vec<Vec<u8>>, SynthError> {
    if packet.len() < 20 || packet[0] >> 4 != 4 {
        return Err(SynthError::arg("not an IPv4 packet"));
    }
    let ihl = usize::from(packet[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
    if ihl < 20 || total < ihl || total > packet.len() {
        return Err(SynthError::arg("malformed IPv4 header"));
    }
    if total <= opts.mtu {
        return Ok(vec![packet[..total].to_vec()]);
    }
    let flags_off = u16::from_be_bytes([packet[6], packet[7]]);
    if flags_off & 0x4000 != 0 {
        return Err(SynthError::arg(
            "IPv4 packet has the don't-fragment bit set",
        ));
    }
    let base_units = usize::from(flags_off & 0x1fff);
    let orig_mf = flags_off & 0x2000 != 0;
    let payload = &packet[ihl..total];
    let chunk = (opts.mtu.saturating_sub(ihl)) / 8 * 8;
    let parts = plan(payload.len(), chunk, opts.overlap)?;
    let mut out = Vec::with_capacity(parts.len());
    for i in 0..parts.len() {
        let data = fill(payload, &parts, i, opts);
        let units = base_units + parts[i].0 / 8;
        if units > 0x1fff {
            return Err(SynthError::TooLarge(total));
        }
        let last = i + 1 == parts.len();
        let mf = if last { orig_mf } else { true };
        let mut f = Vec::with_capacity(ihl + data.len());
        f.extend_from_slice(&packet[..ihl]);
        let len = (ihl + data.len()) as u16;
        f[2..4].copy_from_slice(&len.to_be_bytes());
        let fo = (units as u16) | if mf { 0x2000 } else { 0 };
        f[6..8].copy_from_slice(&fo.to_be_bytes());
        f[10] = 0;
        f[11] = 0;
        let c = internet_checksum(&f[..ihl]);
        f[10..12].copy_from_slice(&c.to_be_bytes());
        f.extend_from_slice(&data);
        out.push(f);
    }
    reorder(out, &opts.order)
}

/// Fragments an IPv6 packet with `opts`; `ident` is the Fragment header's
/// identification.
pub fn fragment_ipv6_with(
    packet: &[u8],
    ident: u32,
    opts: &FragOptions,
) -> Result<Vec<Vec<u8>>, SynthError> {
    if packet.len() < 40 || packet[0] >> 4 != 6 {
        return Err(SynthError::arg("not an IPv6 packet"));
    }
    let plen = usize::from(u16::from_be_bytes([packet[4], packet[5]]));
    let total = 40 + plen;
    if total > packet.len() {
        return Err(SynthError::arg("IPv6 payload length exceeds the packet"));
    }
    if total <= opts.mtu {
        return Ok(vec![packet[..total].to_vec()]);
    }
    // Walk the extension headers; the unfragmentable part ends after the
    // last hop-by-hop or routing header (destination options before a
    // routing header belong to it too).
    let mut next = packet[6];
    let mut pos = 40;
    // (offset of the byte holding the next-header value, end of header)
    let mut unfrag_nh_at = 6;
    let mut unfrag_end = 40;
    while matches!(next, ipproto::HOPOPT | ipproto::ROUTING | ipproto::DSTOPTS) {
        if pos + 8 > total {
            return Err(SynthError::arg("truncated IPv6 extension header"));
        }
        let len = (usize::from(packet[pos + 1]) + 1) * 8;
        if pos + len > total {
            return Err(SynthError::arg("truncated IPv6 extension header"));
        }
        if next != ipproto::DSTOPTS {
            unfrag_nh_at = pos;
            unfrag_end = pos + len;
        }
        next = packet[pos];
        pos += len;
    }
    if next == ipproto::FRAGMENT {
        return Err(SynthError::arg("IPv6 packet is already a fragment"));
    }
    let first_fragmentable = packet[unfrag_nh_at];
    let payload = &packet[unfrag_end..total];
    let chunk = opts.mtu.saturating_sub(unfrag_end + 8) / 8 * 8;
    let parts = plan(payload.len(), chunk, opts.overlap)?;
    let mut out = Vec::with_capacity(parts.len());
    for i in 0..parts.len() {
        let data = fill(payload, &parts, i, opts);
        let last = i + 1 == parts.len();
        let off = parts[i].0;
        if off / 8 > 0x1fff {
            return Err(SynthError::TooLarge(total));
        }
        let mut f = Vec::with_capacity(unfrag_end + 8 + data.len());
        f.extend_from_slice(&packet[..unfrag_end]);
        f[unfrag_nh_at] = ipproto::FRAGMENT;
        let new_plen = u16::try_from(unfrag_end - 40 + 8 + data.len())
            .map_err(|_| SynthError::TooLarge(total))?;
        f[4..6].copy_from_slice(&new_plen.to_be_bytes());
        let fo = ((off / 8) as u16) << 3 | u16::from(!last);
        f.push(first_fragmentable);
        f.push(0);
        f.extend_from_slice(&fo.to_be_bytes());
        f.extend_from_slice(&ident.to_be_bytes());
        f.extend_from_slice(&data);
        out.push(f);
    }
    reorder(out, &opts.order)
}

/// Returns `items` in the given order.
pub fn reorder<T>(items: Vec<T>, order: &FragOrder) -> Result<Vec<T>, SynthError> {
    let n = items.len();
    let perm: Vec<usize> = match order {
        FragOrder::InOrder => return Ok(items),
        FragOrder::Reversed => (0..n).rev().collect(),
        FragOrder::LastFirst => std::iter::once(n.saturating_sub(1))
            .chain(0..n.saturating_sub(1))
            .take(n)
            .collect(),
        FragOrder::Permutation(p) => p.clone(),
    };
    let mut seen = vec![false; n];
    if perm.len() != n {
        return Err(SynthError::arg(
            "permutation length differs from fragment count",
        ));
    }
    for &i in &perm {
        match seen.get_mut(i) {
            Some(s) if !*s => *s = true,
            _ => return Err(SynthError::arg("not a permutation of the fragments")),
        }
    }
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    Ok(perm.iter().filter_map(|&i| slots[i].take()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::packet::{Frame, IpPair, TcpFlags, Transport};
    use etherparse::defrag::IpDefragPool;
    use etherparse::{NetSlice, SlicedPacket};
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v4_packet(n: usize) -> (Vec<u8>, Vec<u8>) {
        let payload: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        let f = Frame::new(
            IpPair::V4 {
                src: Ipv4Addr::new(10, 0, 0, 1),
                dst: Ipv4Addr::new(10, 0, 0, 2),
            },
            Transport::tcp(1234, 80, 1, 2, TcpFlags::ACK, payload),
        )
        .with_ip_id(0x4242);
        let ip = f.ip_packet().unwrap();
        (ip[20..].to_vec(), ip)
    }

    fn v6_packet(n: usize, ext: bool) -> (Vec<u8>, Vec<u8>) {
        let payload: Vec<u8> = (0..n).map(|i| (i % 253) as u8).collect();
        let f = Frame::new(
            IpPair::V6 {
                src: "2001:db8::1".parse::<Ipv6Addr>().unwrap(),
                dst: "2001:db8::2".parse::<Ipv6Addr>().unwrap(),
            },
            Transport::tcp(1234, 80, 1, 2, TcpFlags::ACK, payload),
        )
        .with_ipv6_ext(ext);
        let ip = f.ip_packet().unwrap();
        let hdrs = if ext { 56 } else { 40 };
        (ip[hdrs..].to_vec(), ip)
    }

    fn defrag(frags: &[Vec<u8>]) -> Option<Vec<u8>> {
        let mut pool = IpDefragPool::<(), ()>::new();
        let mut result = None;
        for f in frags {
            let s = SlicedPacket::from_ip(f).unwrap();
            if let Some(done) = pool.process_sliced_packet(&s, (), ()).unwrap() {
                result = Some(done.payload);
            }
        }
        result
    }

    #[test]
    fn ipv4_fragments_fields() {
        let (tcp, ip) = v4_packet(1000);
        let frags = fragment_ipv4(&ip, 576).unwrap();
        assert_eq!(frags.len(), 2);
        // 576 - 20 = 556 -> 552 data bytes (8-aligned).
        assert_eq!(frags[0].len(), 20 + 552);
        assert_eq!(frags[1].len(), 20 + tcp.len() - 552);
        for (i, f) in frags.iter().enumerate() {
            assert!(f.len() <= 576);
            let s = SlicedPacket::from_ip(f).unwrap();
            let Some(NetSlice::Ipv4(v4)) = &s.net else {
                panic!()
            };
            let h = v4.header().to_header();
            assert_eq!(h.header_checksum, h.calc_header_checksum());
            assert_eq!(h.identification, 0x4242);
            assert_eq!(h.more_fragments, i == 0);
            assert_eq!(usize::from(h.fragment_offset.value()) * 8, i * 552);
        }
        assert_eq!(defrag(&frags).unwrap(), tcp);
        // Small packets are returned unchanged.
        assert_eq!(fragment_ipv4(&ip, 1500).unwrap(), vec![ip.clone()]);
    }

    #[test]
    fn ipv4_out_of_order_and_overlap() {
        let (tcp, ip) = v4_packet(3000);
        let in_order = fragment_ipv4(&ip, 600).unwrap();
        let rev = fragment_ipv4_with(&ip, &FragOptions::mtu(600).with_order(FragOrder::Reversed))
            .unwrap();
        let mut r2 = rev.clone();
        r2.reverse();
        assert_eq!(r2, in_order);
        assert_eq!(defrag(&rev).unwrap(), tcp);
        let lf = fragment_ipv4_with(&ip, &FragOptions::mtu(600).with_order(FragOrder::LastFirst))
            .unwrap();
        assert_eq!(lf[0], *in_order.last().unwrap());
        assert_eq!(lf[1], in_order[0]);

        // Consistent overlap: same data re-sent; etherparse reassembles it.
        let ov = fragment_ipv4_with(&ip, &FragOptions::mtu(600).with_overlap(16, false)).unwrap();
        assert!(ov.len() > in_order.len() - 1);
        assert_eq!(defrag(&ov).unwrap(), tcp);
        // Conflicting overlap: later fragment carries 'X' where it overlaps.
        let cf = fragment_ipv4_with(&ip, &FragOptions::mtu(600).with_overlap(16, true)).unwrap();
        assert_eq!(&cf[1][20..36], &[b'X'; 16]);
        let off1 = u16::from_be_bytes([cf[1][6], cf[1][7]]) & 0x1fff;
        assert_eq!(usize::from(off1) * 8, 576 - 16);
    }

    #[test]
    fn ipv4_errors() {
        let (_, ip) = v4_packet(1000);
        assert!(fragment_ipv4(&ip, 27).is_err());
        assert!(fragment_ipv4(&ip[..10], 576).is_err());
        assert!(fragment_ipv4(&[0x60; 40], 576).is_err());
        assert!(fragment_ipv4_with(&ip, &FragOptions::mtu(576).with_overlap(5, false)).is_err());
        assert!(fragment_ipv4_with(
            &ip,
            &FragOptions::mtu(576).with_order(FragOrder::Permutation(vec![0, 0]))
        )
        .is_err());
        let mut df = ip.clone();
        df[6] |= 0x40;
        assert!(fragment_ipv4(&df, 576).is_err());
    }

    #[test]
    fn ipv4_refragment_keeps_offsets() {
        let (tcp, ip) = v4_packet(2000);
        let frags = fragment_ipv4(&ip, 1000).unwrap();
        let mut all = Vec::new();
        for f in &frags {
            all.extend(fragment_ipv4(f, 300).unwrap());
        }
        assert!(all.len() > frags.len());
        assert_eq!(defrag(&all).unwrap(), tcp);
    }

    #[test]
    fn ipv6_fragments_with_and_without_ext() {
        for ext in [false, true] {
            let (tcp, ip) = v6_packet(3000, ext);
            let frags = fragment_ipv6(&ip, 1280, 0xabcdef01).unwrap();
            assert_eq!(frags.len(), 3);
            for (i, f) in frags.iter().enumerate() {
                assert!(f.len() <= 1280);
                assert_eq!(f[0] >> 4, 6);
                assert_eq!(usize::from(u16::from_be_bytes([f[4], f[5]])), f.len() - 40);
                // Fragment header follows the hop-by-hop header when present.
                let fh_at = if ext { 48 } else { 40 };
                assert_eq!(
                    f[fh_at],
                    if ext { ipproto::DSTOPTS } else { ipproto::TCP },
                    "next header of the fragmentable part"
                );
                assert_eq!(&f[fh_at + 4..fh_at + 8], &0xabcdef01u32.to_be_bytes());
                let fo = u16::from_be_bytes([f[fh_at + 2], f[fh_at + 3]]);
                assert_eq!(fo & 1 == 1, i + 1 < frags.len());
                if ext {
                    assert_eq!(f[6], ipproto::HOPOPT);
                    assert_eq!(f[40], ipproto::FRAGMENT);
                } else {
                    assert_eq!(f[6], ipproto::FRAGMENT);
                }
            }
            // The reassembled fragmentable part is (dest opts +) TCP.
            let want = if ext {
                let mut v = ip[48..56].to_vec();
                v.extend_from_slice(&tcp);
                v
            } else {
                tcp
            };
            // etherparse 0.19 decodes the Fragment header's offset/M bits in
            // the wrong positions (etherparse issue #150, fixed in 0.20), so
            // reassemble here per RFC 8200 section 4.5.
            let rev = fragment_ipv6_with(
                &ip,
                7,
                &FragOptions::mtu(1280).with_order(FragOrder::Reversed),
            )
            .unwrap();
            let fh_at = if ext { 48 } else { 40 };
            for set in [&frags, &rev] {
                let mut data = vec![None; want.len()];
                let mut end = None;
                for f in set.iter() {
                    let word = u16::from_be_bytes([f[fh_at + 2], f[fh_at + 3]]);
                    let off = usize::from(word >> 3) * 8;
                    let body = &f[fh_at + 8..];
                    for (i, b) in body.iter().enumerate() {
                        data[off + i] = Some(*b);
                    }
                    if word & 1 == 0 {
                        end = Some(off + body.len());
                    }
                }
                assert_eq!(end, Some(want.len()));
                let got: Vec<u8> = data.into_iter().map(|b| b.unwrap()).collect();
                assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn ipv6_errors() {
        let (_, ip) = v6_packet(3000, false);
        assert!(fragment_ipv6(&ip, 50, 1).is_err());
        let frags = fragment_ipv6(&ip, 1280, 1).unwrap();
        assert!(fragment_ipv6(&frags[0], 600, 1).is_err());
        let mut short = ip.clone();
        short.truncate(100);
        assert!(fragment_ipv6(&short, 1280, 1).is_err());
        assert!(fragment_ip(&[0u8; 10], 1, &FragOptions::mtu(100)).is_err());
    }

    #[test]
    fn reorder_permutation() {
        let v = vec!['a', 'b', 'c'];
        assert_eq!(
            reorder(v.clone(), &FragOrder::Permutation(vec![2, 0, 1])).unwrap(),
            vec!['c', 'a', 'b']
        );
        assert!(reorder(v.clone(), &FragOrder::Permutation(vec![0, 1])).is_err());
        assert!(reorder(v, &FragOrder::Permutation(vec![0, 1, 3])).is_err());
        assert_eq!(
            reorder(Vec::<u8>::new(), &FragOrder::LastFirst).unwrap(),
            Vec::<u8>::new()
        );
    }
}
