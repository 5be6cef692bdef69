//! Stage 1, capture: a reader of pcap and pcapng files (and streams such as stdin).
//!
//! Written by hand rather than through libpcap because replay speed is bounded by the
//! reader: libpcap's offline reader copies every record through a 4 KiB stdio buffer (one
//! `read` syscall per 4 KiB), while this one reads 1 MiB at a time and hands out slices of
//! its buffer without copying. (The `pcap-file` crate was considered: its pcapng reader takes
//! every timestamp as nanoseconds, ignoring `if_tsresol`, and it unwraps while parsing.)
//!
//! Guarantees:
//! - both byte orders; pcap with microsecond or nanosecond timestamps; pcapng sections,
//!   several interfaces with their own link type and `if_tsresol`, enhanced, simple and
//!   obsolete packet blocks; other blocks are skipped;
//! - no input can make it panic or allocate without bound: a record or block longer than
//!   [`MAX_RECORD`] is reported as corrupt, and the buffer never grows past it;
//! - a file that ends inside a record, or a corrupt record, ends the file with
//!   [`FileNext::Stopped`] saying where and why; everything before it was delivered.

use std::io::Read;

/// The largest record or block accepted (libpcap's own limit for snap lengths is 256 KiB;
/// pcapng blocks may carry more, so a generous bound).
pub const MAX_RECORD: usize = 16 << 20;
const READ_CHUNK: usize = 1 << 20;

/// Why a file could not be opened as a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    Empty,
    UnknownFormat(u32),
    TruncatedHeader,
    BadHeader(&'static str),
    Io(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Empty => write!(f, "the file is empty"),
            OpenError::UnknownFormat(m) => {
                write!(f, "not a pcap or pcapng capture (it starts with 0x{m:08x})")
            }
            OpenError::TruncatedHeader => write!(f, "the file ends inside its header"),
            OpenError::BadHeader(what) => write!(f, "bad capture header: {what}"),
            OpenError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// What the reader produced.
#[derive(Debug, PartialEq, Eq)]
pub enum FileNext<'a> {
    Packet {
        ts_us: u64,
        wire_len: u32,
        data: &'a [u8],
        dlt: i32,
    },
    /// Clean end of file.
    End,
    /// The file ended early or is corrupt from here on: the reason says where.
    Stopped(String),
}

/// One step of the reader, owning nothing of its buffer.
enum Step {
    Rec {
        ts_us: u64,
        wire_len: u32,
        range: std::ops::Range<usize>,
        dlt: i32,
    },
    End,
    Stopped(String),
}

#[derive(Clone, Copy, Debug)]
struct Iface {
    dlt: i32,
    /// Timestamp units per second.
    units: u64,
}

enum Format {
    Pcap {
        swapped: bool,
        nanos: bool,
        dlt: i32,
    },
    PcapNg {
        swapped: bool,
        ifaces: Vec<Iface>,
        last_ts: u64,
    },
}

/// A streaming pcap/pcapng reader.
pub struct FileReader<R: Read> {
    r: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    format: Format,
    records: u64,
    done: bool,
}

const PCAP_MAGIC_US: u32 = 0xa1b2_c3d4;
const PCAP_MAGIC_NS: u32 = 0xa1b2_3c4d;
const PCAPNG_SHB: u32 = 0x0a0d_0d0a;
const PCAPNG_BOM: u32 = 0x1a2b_3c4d;
const BT_IDB: u32 = 1;
const BT_OPB: u32 = 2;
const BT_SPB: u32 = 3;
const BT_EPB: u32 = 6;
const OPT_TSRESOL: u16 = 9;

fn u16_at(b: &[u8], at: usize, swapped: bool) -> Option<u16> {
    let v = u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?);
    Some(if swapped { v.swap_bytes() } else { v })
}

fn u32_at(b: &[u8], at: usize, swapped: bool) -> Option<u32> {
    let v = u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?);
    Some(if swapped { v.swap_bytes() } else { v })
}

/// Units per second from an `if_tsresol` byte.
fn tsresol_units(v: u8) -> Option<u64> {
    let exp = u32::from(v & 0x7f);
    if v & 0x80 == 0 {
        10u64.checked_pow(exp)
    } else {
        1u64.checked_shl(exp).filter(|_| exp < 64)
    }
}

impl<R: Read> FileReader<R> {
    /// Reads the file header (pcap) or first section header (pcapng).
    pub fn open(r: R) -> Result<Self, OpenError> {
        let mut me = Self {
            r,
            buf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
            eof: false,
            format: Format::Pcap {
                swapped: false,
                nanos: false,
                dlt: 0,
            },
            records: 0,
            done: false,
        };
        me.fill(4).map_err(OpenError::Io)?;
        if me.available() == 0 {
            return Err(OpenError::Empty);
        }
        let magic = u32_at(&me.buf, me.start, false).ok_or(OpenError::TruncatedHeader)?;
        match magic {
            m if m == PCAP_MAGIC_US
                || m == PCAP_MAGIC_NS
                || m.swap_bytes() == PCAP_MAGIC_US
                || m.swap_bytes() == PCAP_MAGIC_NS =>
            {
                me.fill(24).map_err(OpenError::Io)?;
                if me.available() < 24 {
                    return Err(OpenError::TruncatedHeader);
                }
                let swapped = m.swap_bytes() == PCAP_MAGIC_US || m.swap_bytes() == PCAP_MAGIC_NS;
                let nanos = m == PCAP_MAGIC_NS || m.swap_bytes() == PCAP_MAGIC_NS;
                let h = &me.buf[me.start..me.start + 24];
                let major = u16_at(h, 4, swapped).unwrap_or(0);
                if major != 2 {
                    return Err(OpenError::BadHeader("unsupported pcap version"));
                }
                // The link type's low 16 bits; the upper bits carry FCS flags.
                let dlt = (u32_at(h, 20, swapped).unwrap_or(0) & 0xffff) as i32;
                me.start += 24;
                me.format = Format::Pcap {
                    swapped,
                    nanos,
                    dlt,
                };
                Ok(me)
            }
            PCAPNG_SHB => {
                me.format = Format::PcapNg {
                    swapped: false,
                    ifaces: Vec::new(),
                    last_ts: 0,
                };
                // Validate the first section header now, so a broken file fails to open.
                me.fill(12).map_err(OpenError::Io)?;
                let bom = u32_at(&me.buf, me.start + 8, false).ok_or(OpenError::TruncatedHeader)?;
                if bom != PCAPNG_BOM && bom.swap_bytes() != PCAPNG_BOM {
                    return Err(OpenError::BadHeader("bad pcapng byte-order magic"));
                }
                Ok(me)
            }
            other => Err(OpenError::UnknownFormat(other.swap_bytes())),
        }
    }

    fn available(&self) -> usize {
        self.end - self.start
    }

    /// Makes at least `n` bytes available from `start`, unless the input ends first.
    fn fill(&mut self, n: usize) -> Result<(), String> {
        if self.available() >= n {
            return Ok(());
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() < n {
            self.buf.resize(n.next_power_of_two().max(READ_CHUNK), 0);
        }
        while self.end < n && !self.eof {
            match self.r.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    }

    /// Records delivered so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    fn stop(&mut self, why: String) -> Step {
        self.done = true;
        Step::Stopped(why)
    }

    /// The next packet.
    pub fn next_packet(&mut self) -> FileNext<'_> {
        self.next_matching(|_, _| true)
    }

    /// The next packet for which `keep(dlt, data)` is true; the others are skipped.
    pub fn next_matching<F: FnMut(i32, &[u8]) -> bool>(&mut self, mut keep: F) -> FileNext<'_> {
        loop {
            if self.done {
                return FileNext::End;
            }
            let step = match self.format {
                Format::Pcap { .. } => self.next_pcap(),
                Format::PcapNg { .. } => self.next_pcapng(),
            };
            match step {
                Step::Rec {
                    ts_us,
                    wire_len,
                    range,
                    dlt,
                } => {
                    if keep(dlt, &self.buf[range.clone()]) {
                        return FileNext::Packet {
                            ts_us,
                            wire_len,
                            data: &self.buf[range],
                            dlt,
                        };
                    }
                }
                Step::End => return FileNext::End,
                Step::Stopped(why) => return FileNext::Stopped(why),
            }
        }
    }

    fn next_pcap(&mut self) -> Step {
        let Format::Pcap {
            swapped,
            nanos,
            dlt,
        } = self.format
        else {
            return Step::End;
        };
        if let Err(e) = self.fill(16) {
            return self.stop(format!("read error after packet {}: {e}", self.records));
        }
        match self.available() {
            0 => {
                self.done = true;
                return Step::End;
            }
            n if n < 16 => {
                let r = self.records;
                return self.stop(format!(
                    "the file ends inside the header of packet {} ({n} of 16 bytes)",
                    r + 1
                ));
            }
            _ => {}
        }
        let h = &self.buf[self.start..self.start + 16];
        let (Some(sec), Some(frac), Some(incl), Some(orig)) = (
            u32_at(h, 0, swapped),
            u32_at(h, 4, swapped),
            u32_at(h, 8, swapped),
            u32_at(h, 12, swapped),
        ) else {
            return Step::End;
        };
        let incl = incl as usize;
        if incl > MAX_RECORD {
            let r = self.records;
            return self.stop(format!(
                "packet {} claims {incl} captured bytes: the file is corrupt from here",
                r + 1
            ));
        }
        if let Err(e) = self.fill(16 + incl) {
            return self.stop(format!("read error after packet {}: {e}", self.records));
        }
        if self.available() < 16 + incl {
            let (r, have) = (self.records, self.available() - 16);
            return self.stop(format!(
                "the file ends inside packet {} ({have} of {incl} bytes)",
                r + 1
            ));
        }
        let ts_us = u64::from(sec) * 1_000_000
            + if nanos {
                u64::from(frac) / 1000
            } else {
                u64::from(frac)
            };
        let at = self.start + 16;
        self.start = at + incl;
        self.records += 1;
        Step::Rec {
            ts_us,
            wire_len: orig.max(incl as u32),
            range: at..at + incl,
            dlt,
        }
    }

    fn next_pcapng(&mut self) -> Step {
        loop {
            if let Err(e) = self.fill(12) {
                return self.stop(format!("read error after packet {}: {e}", self.records));
            }
            let n = self.available();
            if n == 0 {
                self.done = true;
                return Step::End;
            }
            if n < 12 {
                let r = self.records;
                return self.stop(format!(
                    "the file ends inside a block header after packet {r}"
                ));
            }
            let Format::PcapNg { swapped, .. } = self.format else {
                return Step::End;
            };
            let head = &self.buf[self.start..self.start + 12];
            let btype = u32_at(head, 0, false).unwrap_or(0);
            // A section header sets the byte order for what follows.
            let swapped = if btype == PCAPNG_SHB {
                let bom = u32_at(head, 8, false).unwrap_or(0);
                if bom == PCAPNG_BOM {
                    false
                } else if bom.swap_bytes() == PCAPNG_BOM {
                    true
                } else {
                    let r = self.records;
                    return self.stop(format!("bad section header after packet {r}"));
                }
            } else {
                swapped
            };
            let btype = if swapped { btype.swap_bytes() } else { btype };
            let blen = u32_at(head, 4, swapped).unwrap_or(0) as usize;
            if blen < 12 || blen % 4 != 0 || blen > MAX_RECORD {
                let r = self.records;
                return self.stop(format!(
                    "block of length {blen} after packet {r}: the file is corrupt from here"
                ));
            }
            if let Err(e) = self.fill(blen) {
                return self.stop(format!("read error after packet {}: {e}", self.records));
            }
            if self.available() < blen {
                let (r, have) = (self.records, self.available());
                return self.stop(format!(
                    "the file ends inside a block after packet {r} ({have} of {blen} bytes)"
                ));
            }
            let at = self.start;
            self.start += blen;
            let body = at + 8..at + blen - 4;
            match btype {
                PCAPNG_SHB => {
                    if let Format::PcapNg {
                        swapped: s, ifaces, ..
                    } = &mut self.format
                    {
                        *s = swapped;
                        ifaces.clear();
                    }
                }
                BT_IDB => {
                    let b = &self.buf[body];
                    let Some(link) = u16_at(b, 0, swapped) else {
                        return self.stop("interface description block too short".into());
                    };
                    let mut units = 1_000_000;
                    let mut o = 8;
                    while let (Some(code), Some(len)) =
                        (u16_at(b, o, swapped), u16_at(b, o + 2, swapped))
                    {
                        if code == 0 {
                            break;
                        }
                        if code == OPT_TSRESOL {
                            if let Some(u) = b.get(o + 4).copied().and_then(tsresol_units) {
                                units = u;
                            }
                        }
                        o += 4 + usize::from(len).div_ceil(4) * 4;
                    }
                    if let Format::PcapNg { ifaces, .. } = &mut self.format {
                        if ifaces.len() < 65_536 {
                            ifaces.push(Iface {
                                dlt: i32::from(link),
                                units: units.max(1),
                            });
                        }
                    }
                }
                BT_EPB | BT_OPB | BT_SPB => {
                    let b = &self.buf[body.clone()];
                    let parsed = if btype == BT_SPB {
                        u32_at(b, 0, swapped).map(|orig| {
                            let cap = (orig as usize).min(b.len().saturating_sub(4));
                            (0u32, None, cap, orig, 4usize)
                        })
                    } else {
                        let (iface, hi_at) = if btype == BT_EPB {
                            (u32_at(b, 0, swapped), 4)
                        } else {
                            (u16_at(b, 0, swapped).map(u32::from), 4)
                        };
                        match (
                            iface,
                            u32_at(b, hi_at, swapped),
                            u32_at(b, hi_at + 4, swapped),
                            u32_at(b, hi_at + 8, swapped),
                            u32_at(b, hi_at + 12, swapped),
                        ) {
                            (Some(i), Some(hi), Some(lo), Some(cap), Some(orig)) => Some((
                                i,
                                Some((u64::from(hi) << 32) | u64::from(lo)),
                                cap as usize,
                                orig,
                                hi_at + 16,
                            )),
                            _ => None,
                        }
                    };
                    let Some((iface, raw_ts, cap, orig, data_at)) = parsed else {
                        let r = self.records;
                        return self.stop(format!("packet block too short after packet {r}"));
                    };
                    let Format::PcapNg {
                        ifaces, last_ts, ..
                    } = &mut self.format
                    else {
                        return Step::End;
                    };
                    let Some(ifc) = ifaces.get(iface as usize).copied() else {
                        let r = self.records;
                        return self.stop(format!(
                            "packet {} names interface {iface}, which was not described",
                            r + 1
                        ));
                    };
                    if data_at + cap > body.len() {
                        let r = self.records;
                        return self.stop(format!(
                            "packet {} claims more bytes than its block holds",
                            r + 1
                        ));
                    }
                    let ts_us = match raw_ts {
                        Some(raw) => {
                            let us = u128::from(raw) * 1_000_000 / u128::from(ifc.units);
                            u64::try_from(us).unwrap_or(u64::MAX)
                        }
                        // Simple packet blocks carry no time: keep the previous one.
                        None => *last_ts,
                    };
                    *last_ts = ts_us;
                    self.records += 1;
                    let start = body.start + data_at;
                    return Step::Rec {
                        ts_us,
                        wire_len: orig.max(cap as u32),
                        range: start..start + cap,
                        dlt: ifc.dlt,
                    };
                }
                _ => {} // statistics, name resolution, custom blocks: not needed
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::pcap::{PcapNgWriter, PcapWriter};

    type Pkt = (u64, u32, Vec<u8>, i32);

    fn packets<R: Read>(r: &mut FileReader<R>) -> (Vec<Pkt>, FileNext<'static>) {
        let mut v = Vec::new();
        loop {
            match r.next_packet() {
                FileNext::Packet {
                    ts_us,
                    wire_len,
                    data,
                    dlt,
                } => v.push((ts_us, wire_len, data.to_vec(), dlt)),
                FileNext::End => return (v, FileNext::End),
                FileNext::Stopped(s) => return (v, FileNext::Stopped(s)),
            }
        }
    }

    fn sample_pcap() -> Vec<u8> {
        let mut w = PcapWriter::new(Vec::new(), 1, 65535).unwrap();
        w.write_packet(1_767_225_600_000_001, &[1, 2, 3], 3)
            .unwrap();
        w.write_packet(1_767_225_600_500_000, &[4; 100], 1500)
            .unwrap();
        w.into_inner().unwrap()
    }

    #[test]
    fn reads_pcap() {
        let data = sample_pcap();
        let mut r = FileReader::open(&data[..]).unwrap();
        let (p, end) = packets(&mut r);
        assert_eq!(end, FileNext::End);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0], (1_767_225_600_000_001, 3, vec![1, 2, 3], 1));
        assert_eq!(p[1].1, 1500);
        assert_eq!(p[1].2.len(), 100);
    }

    #[test]
    fn reads_big_endian_and_nanosecond_pcap() {
        let mut f = Vec::new();
        f.extend_from_slice(&PCAP_MAGIC_NS.to_be_bytes());
        f.extend_from_slice(&2u16.to_be_bytes());
        f.extend_from_slice(&4u16.to_be_bytes());
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&65535u32.to_be_bytes());
        f.extend_from_slice(&101u32.to_be_bytes());
        for v in [10u32, 123_456_789, 2, 2] {
            f.extend_from_slice(&v.to_be_bytes());
        }
        f.extend_from_slice(&[9, 9]);
        let mut r = FileReader::open(&f[..]).unwrap();
        let (p, end) = packets(&mut r);
        assert_eq!(end, FileNext::End);
        assert_eq!(p, vec![(10_123_456, 2, vec![9, 9], 101)]);
    }

    #[test]
    fn every_truncation_of_a_pcap_stops_with_a_reason() {
        let data = sample_pcap();
        for cut in 24..data.len() {
            let mut r = FileReader::open(&data[..cut]).unwrap();
            let (p, end) = packets(&mut r);
            if cut == 24 || cut == 24 + 16 + 3 {
                // A record boundary: a clean end.
                assert_eq!(end, FileNext::End);
                assert_eq!(p.len(), usize::from(cut > 24));
            } else {
                assert!(matches!(end, FileNext::Stopped(_)), "cut {cut}: {end:?}");
            }
        }
        for cut in 0..24 {
            assert!(FileReader::open(&data[..cut]).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn truncation_message_says_where() {
        let data = sample_pcap();
        let mut r = FileReader::open(&data[..data.len() - 10]).unwrap();
        let (p, end) = packets(&mut r);
        assert_eq!(p.len(), 1);
        assert_eq!(
            end,
            FileNext::Stopped("the file ends inside packet 2 (90 of 100 bytes)".into())
        );
    }

    #[test]
    fn corrupt_length_is_refused_without_allocating_it() {
        let mut data = sample_pcap();
        // incl_len of the first record
        data[24 + 8..24 + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut r = FileReader::open(&data[..]).unwrap();
        let (p, end) = packets(&mut r);
        assert!(p.is_empty());
        assert!(matches!(end, FileNext::Stopped(s) if s.contains("corrupt")));
    }

    #[test]
    fn unknown_format_and_empty() {
        assert_eq!(
            FileReader::open(&b"hello world, not a capture"[..]).err(),
            Some(OpenError::UnknownFormat(0x68656c6c))
        );
        assert_eq!(FileReader::open(&b""[..]).err(), Some(OpenError::Empty));
    }

    #[test]
    fn reads_pcapng_with_default_microsecond_resolution() {
        let mut w = PcapNgWriter::new(Vec::new(), 1, 65535).unwrap();
        w.write_packet(1_767_225_600_000_007, &[1, 2, 3, 4, 5], 5)
            .unwrap();
        w.write_packet(1_767_225_601_000_000, &[6; 64], 80).unwrap();
        let data = w.into_inner().unwrap();
        let mut r = FileReader::open(&data[..]).unwrap();
        let (p, end) = packets(&mut r);
        assert_eq!(end, FileNext::End);
        assert_eq!(p[0], (1_767_225_600_000_007, 5, vec![1, 2, 3, 4, 5], 1));
        assert_eq!(p[1].0, 1_767_225_601_000_000);
        assert_eq!(p[1].1, 80);
        for cut in 1..data.len() {
            if let Ok(mut r) = FileReader::open(&data[..cut]) {
                let _ = packets(&mut r);
            }
        }
    }

    #[test]
    fn pcapng_nanosecond_interfaces_and_unknown_blocks() {
        // SHB, IDB (linktype 101, if_tsresol = 9), a custom block, an EPB.
        let mut f = Vec::new();
        let block = |f: &mut Vec<u8>, t: u32, body: &[u8]| {
            let len = (12 + body.len()).div_ceil(4) * 4;
            f.extend_from_slice(&t.to_le_bytes());
            f.extend_from_slice(&(len as u32).to_le_bytes());
            f.extend_from_slice(body);
            f.resize(f.len() + (len - 12 - body.len()), 0);
            f.extend_from_slice(&(len as u32).to_le_bytes());
        };
        let mut shb = PCAPNG_BOM.to_le_bytes().to_vec();
        shb.extend_from_slice(&[1, 0, 0, 0]);
        shb.extend_from_slice(&u64::MAX.to_le_bytes());
        block(&mut f, PCAPNG_SHB, &shb);
        let mut idb = vec![101, 0, 0, 0, 0, 0, 1, 0];
        idb.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
        block(&mut f, BT_IDB, &idb);
        block(&mut f, 0x0bad, &[1, 2, 3, 4]);
        let ts: u64 = 1_767_225_600_123_456_789;
        let mut epb = 0u32.to_le_bytes().to_vec();
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&3u32.to_le_bytes());
        epb.extend_from_slice(&3u32.to_le_bytes());
        epb.extend_from_slice(&[7, 8, 9]);
        block(&mut f, BT_EPB, &epb);
        let mut r = FileReader::open(&f[..]).unwrap();
        let (p, end) = packets(&mut r);
        assert_eq!(end, FileNext::End);
        assert_eq!(p, vec![(1_767_225_600_123_456, 3, vec![7, 8, 9], 101)]);
    }

    #[test]
    fn tsresol_values() {
        assert_eq!(tsresol_units(6), Some(1_000_000));
        assert_eq!(tsresol_units(9), Some(1_000_000_000));
        assert_eq!(tsresol_units(0x80 | 10), Some(1024));
        assert_eq!(tsresol_units(0x80 | 70), None);
        assert_eq!(tsresol_units(30), None);
    }

    /// A reader that returns one byte at a time: buffering must not change anything.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), out.first_mut()) {
                (Some((b, rest)), Some(o)) => {
                    *o = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn short_reads_give_the_same_packets() {
        let data = sample_pcap();
        let (a, _) = packets(&mut FileReader::open(&data[..]).unwrap());
        let (b, _) = packets(&mut FileReader::open(Trickle(&data)).unwrap());
        assert_eq!(a, b);
    }

    #[test]
    fn arbitrary_bytes_after_a_valid_header_never_panic() {
        let mut seed = 0x1234_5678_u64;
        for _ in 0..500 {
            let mut data = sample_pcap();
            let n = (seed % 200) as usize;
            for _ in 0..n {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let pos = (seed >> 33) as usize % data.len();
                data[pos] = (seed >> 20) as u8;
            }
            if let Ok(mut r) = FileReader::open(&data[..]) {
                let _ = packets(&mut r);
            }
        }
    }
}
