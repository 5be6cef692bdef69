//! Capture file writers: classic pcap and pcapng.
//!
//! Guarantees:
//! - Classic pcap is written little-endian with the microsecond magic
//!   `0xa1b2c3d4`, version 2.4.
//! - pcapng is written little-endian as one section (SHB), one interface
//!   (IDB carrying the link type and snaplen, no `if_tsresol` option, so the
//!   default microsecond resolution applies) and one Enhanced Packet Block
//!   per packet.
//! - The captured length of a record is `min(data.len(), snaplen)`, the
//!   original length is what the caller says (it must be `>= data.len()`),
//!   so writing full frames with a small snaplen yields snaplen-truncated
//!   records exactly like libpcap would.
//! - `write_cut_record` writes a record whose bytes stop early, producing a
//!   file truncated in the middle of its last record; afterwards the writer
//!   refuses further packets.
//! - Errors are `io::Error`s (`InvalidInput` for bad arguments); nothing
//!   panics.

use std::io::{self, Write};

/// BSD loopback: 4-byte address family in the writer's host byte order
/// (this module writes it little-endian).
pub const LINKTYPE_NULL: u32 = 0;
/// Ethernet II.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// Raw IP, version from the first nibble.
pub const LINKTYPE_RAW: u32 = 101;
/// OpenBSD loopback: 4-byte address family, big-endian.
pub const LINKTYPE_LOOP: u32 = 108;
/// Linux cooked capture v1 (16-byte header).
pub const LINKTYPE_LINUX_SLL: u32 = 113;
/// Raw IPv4 only.
pub const LINKTYPE_IPV4: u32 = 228;
/// Raw IPv6 only.
pub const LINKTYPE_IPV6: u32 = 229;
/// Linux cooked capture v2 (20-byte header).
pub const LINKTYPE_LINUX_SLL2: u32 = 276;

/// Classic pcap magic for microsecond timestamps.
pub const PCAP_MAGIC_US: u32 = 0xa1b2_c3d4;
/// Default snapshot length (what tcpdump uses).
pub const DEFAULT_SNAPLEN: u32 = 262_144;

/// Size of the classic pcap global header.
pub const PCAP_FILE_HEADER_LEN: usize = 24;
/// Size of a classic pcap record header.
pub const PCAP_RECORD_HEADER_LEN: usize = 16;

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.to_string())
}

fn split_ts(ts_us: u64) -> io::Result<(u32, u32)> {
    let secs = u32::try_from(ts_us / 1_000_000)
        .map_err(|_| invalid("timestamp does not fit classic pcap's 32-bit seconds"))?;
    Ok((secs, (ts_us % 1_000_000) as u32))
}

fn lengths(data: &[u8], orig_len: u32, snaplen: u32) -> io::Result<u32> {
    let data_len = u32::try_from(data.len()).map_err(|_| invalid("packet longer than 4 GiB"))?;
    if orig_len < data_len {
        return Err(invalid("orig_len is smaller than the data given"));
    }
    Ok(data_len.min(snaplen))
}

/// Which file format a [`CaptureWriter`] produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureFormat {
    /// Classic libpcap format.
    Pcap,
    /// pcapng.
    PcapNg,
}

/// Classic pcap writer (little-endian, microsecond timestamps).
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    w: W,
    snaplen: u32,
    linktype: u32,
    finished: bool,
    scratch: [u8; PCAP_RECORD_HEADER_LEN],
}

impl<W: Write> PcapWriter<W> {
    /// Writes the 24-byte global header.
    pub fn new(mut w: W, linktype: u32, snaplen: u32) -> io::Result<Self> {
        if snaplen == 0 {
            return Err(invalid("snaplen must be > 0"));
        }
        let mut h = [0u8; PCAP_FILE_HEADER_LEN];
        h[0..4].copy_from_slice(&PCAP_MAGIC_US.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes());
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone (8..12) and sigfigs (12..16) are zero.
        h[16..20].copy_from_slice(&snaplen.to_le_bytes());
        h[20..24].copy_from_slice(&linktype.to_le_bytes());
        w.write_all(&h)?;
        Ok(PcapWriter {
            w,
            snaplen,
            linktype,
            finished: false,
            scratch: [0; PCAP_RECORD_HEADER_LEN],
        })
    }

    /// The link type given to [`Self::new`].
    pub fn linktype(&self) -> u32 {
        self.linktype
    }

    /// The snaplen given to [`Self::new`].
    pub fn snaplen(&self) -> u32 {
        self.snaplen
    }

    /// Writes one record: `min(data.len(), snaplen)` bytes of `data`, with
    /// `orig_len` as the on-the-wire length (must be `>= data.len()`).
    pub fn write_packet(&mut self, ts_us: u64, data: &[u8], orig_len: u32) -> io::Result<()> {
        self.write_record(ts_us, data, orig_len, None)
    }

    /// Writes a complete frame (`orig_len == data.len()`).
    pub fn write_frame(&mut self, ts_us: u64, data: &[u8]) -> io::Result<()> {
        let len = u32::try_from(data.len()).map_err(|_| invalid("packet longer than 4 GiB"))?;
        self.write_packet(ts_us, data, len)
    }

    /// Writes only the first `keep_bytes` bytes of the record that
    /// `write_packet(ts_us, data, orig_len)` would write (16-byte record
    /// header included), leaving the file cut mid-record. `keep_bytes` must
    /// be shorter than the full record. The writer accepts no packet after.
    pub fn write_cut_record(
        &mut self,
        ts_us: u64,
        data: &[u8],
        orig_len: u32,
        keep_bytes: usize,
    ) -> io::Result<()> {
        self.write_record(ts_us, data, orig_len, Some(keep_bytes))
    }

    fn write_record(
        &mut self,
        ts_us: u64,
        data: &[u8],
        orig_len: u32,
        keep: Option<usize>,
    ) -> io::Result<()> {
        if self.finished {
            return Err(invalid("capture was cut; no packet can follow"));
        }
        let (secs, usecs) = split_ts(ts_us)?;
        let caplen = lengths(data, orig_len, self.snaplen)?;
        let h = &mut self.scratch;
        h[0..4].copy_from_slice(&secs.to_le_bytes());
        h[4..8].copy_from_slice(&usecs.to_le_bytes());
        h[8..12].copy_from_slice(&caplen.to_le_bytes());
        h[12..16].copy_from_slice(&orig_len.to_le_bytes());
        let body = &data[..caplen as usize];
        match keep {
            None => {
                self.w.write_all(h)?;
                self.w.write_all(body)
            }
            Some(keep) => {
                let total = PCAP_RECORD_HEADER_LEN + body.len();
                if keep >= total {
                    return Err(invalid("keep_bytes must be shorter than the record"));
                }
                self.finished = true;
                if keep <= PCAP_RECORD_HEADER_LEN {
                    self.w.write_all(&h[..keep])
                } else {
                    self.w.write_all(h)?;
                    self.w.write_all(&body[..keep - PCAP_RECORD_HEADER_LEN])
                }
            }
        }
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.w.flush()?;
        Ok(self.w)
    }
}

/// pcapng block types used here.
const SHB_TYPE: u32 = 0x0A0D_0D0A;
const IDB_TYPE: u32 = 0x0000_0001;
const EPB_TYPE: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// Fixed part of an EPB: type, length, interface, ts high, ts low, caplen,
/// orig len.
const EPB_FIXED: usize = 28;

/// pcapng writer: one section, one interface, microsecond timestamps.
#[derive(Debug)]
pub struct PcapNgWriter<W: Write> {
    w: W,
    snaplen: u32,
    linktype: u32,
    finished: bool,
}

impl<W: Write> PcapNgWriter<W> {
    /// Writes the Section Header Block and one Interface Description Block.
    /// pcapng link types are 16 bits, so `linktype` must be `< 65536`.
    pub fn new(mut w: W, linktype: u32, snaplen: u32) -> io::Result<Self> {
        let lt16 = u16::try_from(linktype).map_err(|_| invalid("pcapng link type is 16 bits"))?;
        if snaplen == 0 {
            return Err(invalid("snaplen must be > 0"));
        }
        let mut b = Vec::with_capacity(48);
        // SHB, no options: 28 bytes.
        b.extend_from_slice(&SHB_TYPE.to_le_bytes());
        b.extend_from_slice(&28u32.to_le_bytes());
        b.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&u64::MAX.to_le_bytes()); // section length unknown
        b.extend_from_slice(&28u32.to_le_bytes());
        // IDB, no options: 20 bytes. Default if_tsresol is 10^-6.
        b.extend_from_slice(&IDB_TYPE.to_le_bytes());
        b.extend_from_slice(&20u32.to_le_bytes());
        b.extend_from_slice(&lt16.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&snaplen.to_le_bytes());
        b.extend_from_slice(&20u32.to_le_bytes());
        w.write_all(&b)?;
        Ok(PcapNgWriter {
            w,
            snaplen,
            linktype,
            finished: false,
        })
    }

    /// The link type given to [`Self::new`].
    pub fn linktype(&self) -> u32 {
        self.linktype
    }

    /// The snaplen given to [`Self::new`].
    pub fn snaplen(&self) -> u32 {
        self.snaplen
    }

    /// Writes one Enhanced Packet Block (same length rules as
    /// [`PcapWriter::write_packet`]).
    pub fn write_packet(&mut self, ts_us: u64, data: &[u8], orig_len: u32) -> io::Result<()> {
        self.write_block(ts_us, data, orig_len, None)
    }

    /// Writes a complete frame (`orig_len == data.len()`).
    pub fn write_frame(&mut self, ts_us: u64, data: &[u8]) -> io::Result<()> {
        let len = u32::try_from(data.len()).map_err(|_| invalid("packet longer than 4 GiB"))?;
        self.write_packet(ts_us, data, len)
    }

    /// Writes only the first `keep_bytes` bytes of the EPB that
    /// `write_packet` would write; the writer accepts no packet after.
    pub fn write_cut_record(
        &mut self,
        ts_us: u64,
        data: &[u8],
        orig_len: u32,
        keep_bytes: usize,
    ) -> io::Result<()> {
        self.write_block(ts_us, data, orig_len, Some(keep_bytes))
    }

    fn write_block(
        &mut self,
        ts_us: u64,
        data: &[u8],
        orig_len: u32,
        keep: Option<usize>,
    ) -> io::Result<()> {
        if self.finished {
            return Err(invalid("capture was cut; no packet can follow"));
        }
        let caplen = lengths(data, orig_len, self.snaplen)?;
        let body = &data[..caplen as usize];
        let pad = (4 - body.len() % 4) % 4;
        let total = EPB_FIXED + body.len() + pad + 4;
        let total32 = u32::try_from(total).map_err(|_| invalid("block longer than 4 GiB"))?;
        let mut h = [0u8; EPB_FIXED];
        h[0..4].copy_from_slice(&EPB_TYPE.to_le_bytes());
        h[4..8].copy_from_slice(&total32.to_le_bytes());
        // interface id 0 at 8..12
        h[12..16].copy_from_slice(&((ts_us >> 32) as u32).to_le_bytes());
        h[16..20].copy_from_slice(&(ts_us as u32).to_le_bytes());
        h[20..24].copy_from_slice(&caplen.to_le_bytes());
        h[24..28].copy_from_slice(&orig_len.to_le_bytes());
        let mut tail = [0u8; 7];
        tail[pad..pad + 4].copy_from_slice(&total32.to_le_bytes());
        let tail = &tail[..pad + 4];
        match keep {
            None => {
                self.w.write_all(&h)?;
                self.w.write_all(body)?;
                self.w.write_all(tail)
            }
            Some(keep) => {
                if keep >= total {
                    return Err(invalid("keep_bytes must be shorter than the block"));
                }
                self.finished = true;
                let mut left = keep;
                for part in [&h[..], body, tail] {
                    let n = left.min(part.len());
                    self.w.write_all(&part[..n])?;
                    left -= n;
                }
                Ok(())
            }
        }
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.w.flush()?;
        Ok(self.w)
    }
}

/// Either writer, chosen at run time.
#[derive(Debug)]
pub enum CaptureWriter<W: Write> {
    /// Classic pcap.
    Pcap(PcapWriter<W>),
    /// pcapng.
    PcapNg(PcapNgWriter<W>),
}

impl<W: Write> CaptureWriter<W> {
    /// Writes the file header(s) of `format`.
    pub fn new(format: CaptureFormat, w: W, linktype: u32, snaplen: u32) -> io::Result<Self> {
        Ok(match format {
            CaptureFormat::Pcap => CaptureWriter::Pcap(PcapWriter::new(w, linktype, snaplen)?),
            CaptureFormat::PcapNg => {
                CaptureWriter::PcapNg(PcapNgWriter::new(w, linktype, snaplen)?)
            }
        })
    }

    /// Format being written.
    pub fn format(&self) -> CaptureFormat {
        match self {
            CaptureWriter::Pcap(_) => CaptureFormat::Pcap,
            CaptureWriter::PcapNg(_) => CaptureFormat::PcapNg,
        }
    }

    /// Snaplen of the file.
    pub fn snaplen(&self) -> u32 {
        match self {
            CaptureWriter::Pcap(w) => w.snaplen(),
            CaptureWriter::PcapNg(w) => w.snaplen(),
        }
    }

    /// See [`PcapWriter::write_packet`].
    pub fn write_packet(&mut self, ts_us: u64, data: &[u8], orig_len: u32) -> io::Result<()> {
        match self {
            CaptureWriter::Pcap(w) => w.write_packet(ts_us, data, orig_len),
            CaptureWriter::PcapNg(w) => w.write_packet(ts_us, data, orig_len),
        }
    }

    /// See [`PcapWriter::write_cut_record`].
    pub fn write_cut_record(
        &mut self,
        ts_us: u64,
        data: &[u8],
        orig_len: u32,
        keep_bytes: usize,
    ) -> io::Result<()> {
        match self {
            CaptureWriter::Pcap(w) => w.write_cut_record(ts_us, data, orig_len, keep_bytes),
            CaptureWriter::PcapNg(w) => w.write_cut_record(ts_us, data, orig_len, keep_bytes),
        }
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(self) -> io::Result<W> {
        match self {
            CaptureWriter::Pcap(w) => w.into_inner(),
            CaptureWriter::PcapNg(w) => w.into_inner(),
        }
    }
}

/// Cuts an existing capture file so that its last record is incomplete:
/// the file is shortened by `cut_bytes` (which must be `> 0` and leave more
/// than the file header). Prefer [`PcapWriter::write_cut_record`] when
/// writing; this helper is for files written by other tools.
pub fn truncate_file_tail(path: &std::path::Path, cut_bytes: u64) -> io::Result<u64> {
    let f = std::fs::OpenOptions::new().write(true).open(path)?;
    let len = f.metadata()?.len();
    if cut_bytes == 0 || len < cut_bytes + PCAP_FILE_HEADER_LEN as u64 + 1 {
        return Err(invalid("cut_bytes must be > 0 and leave the file header"));
    }
    let new_len = len - cut_bytes;
    f.set_len(new_len)?;
    Ok(new_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_packets() -> Vec<(u64, Vec<u8>)> {
        (0..5u64)
            .map(|i| {
                let ts = crate::synth::EPOCH_US + i * 1_234_567;
                let data: Vec<u8> = (0..(60 + i as usize * 7))
                    .map(|b| (b as u8) ^ (i as u8))
                    .collect();
                (ts, data)
            })
            .collect()
    }

    /// (timestamp, caplen, orig len, data) of one record read back.
    type Record = (u64, u32, u32, Vec<u8>);

    fn read_back(path: &std::path::Path) -> (i32, Vec<Record>, bool) {
        let mut cap = ::pcap::Capture::from_file(path).expect("open");
        let lt = cap.get_datalink().0;
        let mut out = Vec::new();
        let mut errored = false;
        loop {
            match cap.next_packet() {
                Ok(p) => {
                    let ts = p.header.ts.tv_sec as u64 * 1_000_000 + p.header.ts.tv_usec as u64;
                    out.push((ts, p.header.caplen, p.header.len, p.data.to_vec()));
                }
                Err(::pcap::Error::NoMorePackets) => break,
                Err(_) => {
                    errored = true;
                    break;
                }
            }
        }
        (lt, out, errored)
    }

    #[test]
    fn pcap_header_bytes() {
        let w = PcapWriter::new(Vec::new(), LINKTYPE_ETHERNET, 65535).unwrap();
        let b = w.into_inner().unwrap();
        assert_eq!(
            b,
            [
                0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0,
                0, 0
            ]
        );
    }

    #[test]
    fn pcap_round_trip_via_libpcap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.pcap");
        let pkts = sample_packets();
        let mut w = PcapWriter::new(
            std::fs::File::create(&path).unwrap(),
            LINKTYPE_ETHERNET,
            65535,
        )
        .unwrap();
        for (ts, d) in &pkts {
            w.write_frame(*ts, d).unwrap();
        }
        w.into_inner().unwrap();
        let (lt, got, err) = read_back(&path);
        assert!(!err);
        assert_eq!(lt, 1);
        assert_eq!(got.len(), pkts.len());
        for ((ts, d), (gts, caplen, len, gd)) in pkts.iter().zip(&got) {
            assert_eq!(ts, gts);
            assert_eq!(*caplen as usize, d.len());
            assert_eq!(*len as usize, d.len());
            assert_eq!(d, gd);
        }
    }

    #[test]
    fn pcapng_round_trip_via_libpcap() {
        for lt in [LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("a.pcapng");
            let pkts = sample_packets();
            let mut w =
                PcapNgWriter::new(std::fs::File::create(&path).unwrap(), lt, 65535).unwrap();
            for (ts, d) in &pkts {
                w.write_frame(*ts, d).unwrap();
            }
            w.into_inner().unwrap();
            let (glt, got, err) = read_back(&path);
            assert!(!err);
            // libpcap reports DLT values: LINKTYPE_RAW (101) is DLT_RAW (12).
            let want = if lt == LINKTYPE_RAW { 12 } else { lt };
            assert_eq!(glt as u32, want);
            assert_eq!(got.len(), pkts.len());
            for ((ts, d), (gts, _, len, gd)) in pkts.iter().zip(&got) {
                assert_eq!(ts, gts);
                assert_eq!(*len as usize, d.len());
                assert_eq!(d, gd);
            }
        }
    }

    #[test]
    fn snaplen_truncates_and_keeps_orig_len() {
        for format in [CaptureFormat::Pcap, CaptureFormat::PcapNg] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.cap");
            let mut w =
                CaptureWriter::new(format, std::fs::File::create(&path).unwrap(), 1, 96).unwrap();
            let data: Vec<u8> = (0..200u8).collect();
            w.write_packet(crate::synth::EPOCH_US, &data, 200).unwrap();
            // Explicitly cut inside a header: caplen 30 < orig_len 200.
            w.write_packet(crate::synth::EPOCH_US + 1, &data[..30], 200)
                .unwrap();
            w.into_inner().unwrap();
            let (_, got, err) = read_back(&path);
            assert!(!err);
            assert_eq!(got.len(), 2);
            assert_eq!((got[0].1, got[0].2), (96, 200));
            assert_eq!(got[0].3, &data[..96]);
            assert_eq!((got[1].1, got[1].2), (30, 200));
        }
    }

    #[test]
    fn bad_arguments_are_errors() {
        let mut w = PcapWriter::new(Vec::new(), 1, 100).unwrap();
        assert!(w.write_packet(0, &[1, 2, 3], 2).is_err());
        assert!(w
            .write_packet(u64::from(u32::MAX) * 2_000_000, &[1], 1)
            .is_err());
        assert!(PcapWriter::new(Vec::new(), 1, 0).is_err());
        assert!(PcapNgWriter::new(Vec::new(), 70_000, 100).is_err());
        let mut w = PcapWriter::new(Vec::new(), 1, 100).unwrap();
        assert!(w.write_cut_record(0, &[1, 2, 3], 3, 19).is_err());
        w.write_cut_record(0, &[1, 2, 3], 3, 18).unwrap();
        assert!(w.write_frame(1, &[1]).is_err());
        assert_eq!(w.into_inner().unwrap().len(), 24 + 18);
    }

    #[test]
    fn cut_record_makes_truncated_file() {
        for format in [CaptureFormat::Pcap, CaptureFormat::PcapNg] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("cut.cap");
            let mut w = CaptureWriter::new(format, std::fs::File::create(&path).unwrap(), 1, 65535)
                .unwrap();
            let pkts = sample_packets();
            for (ts, d) in &pkts[..4] {
                w.write_packet(*ts, d, d.len() as u32).unwrap();
            }
            let (ts, d) = &pkts[4];
            w.write_cut_record(*ts, d, d.len() as u32, 40).unwrap();
            w.into_inner().unwrap();
            let (_, got, err) = read_back(&path);
            assert_eq!(got.len(), 4, "{format:?}");
            assert!(err, "libpcap must report the truncated record ({format:?})");
        }
    }

    #[test]
    fn truncate_file_tail_cuts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pcap");
        let mut w = PcapWriter::new(std::fs::File::create(&path).unwrap(), 1, 65535).unwrap();
        for (ts, d) in sample_packets() {
            w.write_frame(ts, &d).unwrap();
        }
        w.into_inner().unwrap();
        truncate_file_tail(&path, 10).unwrap();
        let (_, got, err) = read_back(&path);
        assert_eq!(got.len(), 4);
        assert!(err);
        assert!(truncate_file_tail(&path, 1 << 40).is_err());
    }
}
