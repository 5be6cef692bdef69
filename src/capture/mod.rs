//! Stage 1, capture (source): pcap and pcapng files (several, in order, `-` for stdin) and
//! live libpcap capture.
//!
//! Guarantees:
//! - every file is opened before any is read, so a missing or non-capture file is reported
//!   (naming the file and the reason) before anything is processed;
//! - a file cut in the middle of a packet yields every packet before the cut, then a
//!   [`Next::FileEnded`] carrying a warning that says where it stopped;
//! - timestamps are the packets' own (microseconds since the epoch); pacing a replay on
//!   them (`--speed`) is the pipeline's job, so it can notice shutdown while it waits;
//! - a live capture returns [`Next::Idle`] when its read times out (`timeout_ms`), and a
//!   read blocked in the kernel is woken by [`Interrupt`], so shutdown is never missed.

use std::path::PathBuf;

pub mod file;

use std::io::Read;

use pcap::{Active, BpfProgram, Capture, Linktype};

use file::{FileNext, FileReader};
use thiserror::Error;

use crate::stats::KernelStats;

/// Errors opening or reading a capture source.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CaptureError {
    #[error("cannot read capture file {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error(
        "capturing on {iface} needs the CAP_NET_RAW capability (run as root, or grant it with `setcap cap_net_raw,cap_net_admin=eip $(command -v apitap)`): {reason}"
    )]
    Permission { iface: String, reason: String },
    #[error("cannot capture on interface {iface}: {reason}")]
    Live { iface: String, reason: String },
    #[error("invalid BPF filter {expr:?}: {reason}")]
    Filter { expr: String, reason: String },
    #[error("reading from interface {iface} failed: {reason}")]
    Read { iface: String, reason: String },
}

/// Replay pacing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    /// As fast as possible.
    Max,
    /// The original timing, scaled: 1.0 is real time, 2.0 twice as fast.
    Factor(f64),
}

/// Live capture options.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveOptions {
    pub interface: String,
    pub snaplen: i32,
    pub buffer_mb: u32,
    pub promisc: bool,
    /// How long a read waits before returning `Idle`.
    pub timeout_ms: i32,
}

/// One captured packet, borrowed from the reader until its next call.
pub struct Packet<'a> {
    pub ts_us: u64,
    /// Length on the wire (may exceed `data.len()` when the snap length cut it).
    pub wire_len: u32,
    pub data: &'a [u8],
    /// The DLT of the file or interface it came from.
    pub dlt: i32,
}

/// What the reader produced.
pub enum Next<'a> {
    Packet(Packet<'a>),
    /// No packet within the read timeout (live only).
    Idle,
    /// A file ended; `warning` is set when it ended early (truncated or unreadable).
    FileEnded {
        path: PathBuf,
        warning: Option<String>,
    },
    /// No more input.
    End,
}

type BoxedFile = FileReader<Box<dyn Read + Send>>;

enum Inner {
    Files {
        files: std::vec::IntoIter<(PathBuf, BoxedFile)>,
        current: Option<(PathBuf, BoxedFile)>,
        /// The BPF expression and its programs, compiled per link type on first use.
        bpf: Option<(String, Vec<(i32, BpfProgram)>)>,
    },
    Live {
        iface: String,
        cap: Box<Capture<Active>>,
    },
}

/// Wakes a live capture blocked in a read (from another thread); the read then returns
/// [`Next::End`].
pub struct Interrupt(pcap::BreakLoop);

impl Interrupt {
    pub fn interrupt(&self) {
        self.0.breakloop();
    }
}

/// A packet source.
pub struct Reader {
    inner: Inner,
    /// The current file ended on the previous call: move to the next one.
    close_current: bool,
}

fn compile_bpf(expr: &str, dlt: i32) -> Result<BpfProgram, CaptureError> {
    let fail = |e: pcap::Error| CaptureError::Filter {
        expr: expr.to_string(),
        reason: reason(&e),
    };
    Capture::dead(Linktype(dlt))
        .map_err(fail)?
        .compile(expr, true)
        .map_err(fail)
}

fn ts_us(ts: &libc::timeval) -> u64 {
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let usecs = u64::try_from(ts.tv_usec).unwrap_or(0);
    secs.saturating_mul(1_000_000).saturating_add(usecs)
}

fn reason(e: &pcap::Error) -> String {
    match e {
        pcap::Error::PcapError(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Reader {
    /// Opens every file (`-` is stdin) up front and reads its header; the first that fails
    /// is the error.
    pub fn open_files(paths: &[PathBuf], bpf: Option<&str>) -> Result<Self, CaptureError> {
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            let open_err = |reason: String| CaptureError::Open {
                path: path.clone(),
                reason,
            };
            let input: Box<dyn Read + Send> = if path.as_os_str() == "-" {
                Box::new(std::io::stdin())
            } else {
                match std::fs::metadata(path) {
                    Err(e) => return Err(open_err(e.to_string())),
                    Ok(m) if m.is_dir() => return Err(open_err("is a directory".into())),
                    Ok(_) => {}
                }
                Box::new(std::fs::File::open(path).map_err(|e| open_err(e.to_string()))?)
            };
            let reader = FileReader::open(input).map_err(|e| open_err(e.to_string()))?;
            files.push((path.clone(), reader));
        }
        let bpf = match bpf {
            None => None,
            Some(expr) => {
                // Check the expression now (against Ethernet) so a typo fails at start.
                let prog = compile_bpf(expr, 1)?;
                Some((expr.to_string(), vec![(1, prog)]))
            }
        };
        Ok(Self {
            inner: Inner::Files {
                files: files.into_iter(),
                current: None,
                bpf,
            },
            close_current: false,
        })
    }

    /// Opens a live capture in immediate mode.
    pub fn open_live(opts: &LiveOptions, bpf: Option<&str>) -> Result<Self, CaptureError> {
        let iface = opts.interface.clone();
        let classify = |e: pcap::Error| {
            let r = reason(&e);
            let lower = r.to_ascii_lowercase();
            if lower.contains("permitted") || lower.contains("permission") {
                CaptureError::Permission {
                    iface: iface.clone(),
                    reason: r,
                }
            } else {
                CaptureError::Live {
                    iface: iface.clone(),
                    reason: r,
                }
            }
        };
        let inactive = Capture::from_device(opts.interface.as_str()).map_err(classify)?;
        let buffer = i32::try_from(u64::from(opts.buffer_mb) << 20).unwrap_or(i32::MAX);
        let mut cap = inactive
            .promisc(opts.promisc)
            .snaplen(opts.snaplen)
            .buffer_size(buffer)
            .immediate_mode(true)
            .timeout(opts.timeout_ms)
            .open()
            .map_err(classify)?;
        if let Some(expr) = bpf {
            cap.filter(expr, true).map_err(|e| CaptureError::Filter {
                expr: expr.to_string(),
                reason: reason(&e),
            })?;
        }
        Ok(Self {
            inner: Inner::Live {
                iface,
                cap: Box::new(cap),
            },
            close_current: false,
        })
    }

    /// A handle that interrupts a blocked live read; `None` for files.
    pub fn interrupter(&mut self) -> Option<Interrupt> {
        match &mut self.inner {
            Inner::Live { cap, .. } => Some(Interrupt(cap.breakloop_handle())),
            Inner::Files { .. } => None,
        }
    }

    pub fn is_live(&self) -> bool {
        matches!(self.inner, Inner::Live { .. })
    }

    /// Kernel counters of a live capture.
    pub fn kernel_stats(&mut self) -> Option<KernelStats> {
        match &mut self.inner {
            Inner::Live { cap, .. } => cap.stats().ok().map(|s| KernelStats {
                received: u64::from(s.received),
                dropped: u64::from(s.dropped),
                if_dropped: u64::from(s.if_dropped),
            }),
            Inner::Files { .. } => None,
        }
    }

    /// The next packet or event.
    pub fn next_packet(&mut self) -> Result<Next<'_>, CaptureError> {
        match &mut self.inner {
            Inner::Live { iface, cap } => {
                let dlt = cap.get_datalink().0;
                match cap.next_packet() {
                    Ok(p) => Ok(Next::Packet(Packet {
                        ts_us: ts_us(&p.header.ts),
                        wire_len: p.header.len,
                        data: p.data,
                        dlt,
                    })),
                    Err(pcap::Error::TimeoutExpired) => Ok(Next::Idle),
                    Err(pcap::Error::NoMorePackets) => Ok(Next::End),
                    Err(e) => Err(CaptureError::Read {
                        iface: iface.clone(),
                        reason: reason(&e),
                    }),
                }
            }
            Inner::Files {
                files,
                current,
                bpf,
            } => {
                if self.close_current {
                    *current = None;
                    self.close_current = false;
                }
                if current.is_none() {
                    match files.next() {
                        Some(f) => *current = Some(f),
                        None => return Ok(Next::End),
                    }
                }
                let Some((path, reader)) = current.as_mut() else {
                    return Ok(Next::End);
                };
                let mut bpf_err = None;
                let next = reader.next_matching(|dlt, data| match bpf.as_mut() {
                    None => true,
                    Some((expr, progs)) => {
                        if let Some((_, p)) = progs.iter().find(|(d, _)| *d == dlt) {
                            return p.filter(data);
                        }
                        match compile_bpf(expr, dlt) {
                            Ok(p) => {
                                let keep = p.filter(data);
                                progs.push((dlt, p));
                                keep
                            }
                            Err(e) => {
                                bpf_err = Some(e);
                                false
                            }
                        }
                    }
                });
                let warning = match next {
                    FileNext::Packet {
                        ts_us,
                        wire_len,
                        data,
                        dlt,
                    } => {
                        return Ok(Next::Packet(Packet {
                            ts_us,
                            wire_len,
                            data,
                            dlt,
                        }))
                    }
                    FileNext::End => None,
                    FileNext::Stopped(why) => Some(format!("capture stopped: {why}")),
                };
                if let Some(e) = bpf_err {
                    return Err(e);
                }
                self.close_current = true;
                Ok(Next::FileEnded {
                    path: path.clone(),
                    warning,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_names_the_file() {
        let err = Reader::open_files(&[PathBuf::from("/nonexistent/x.pcap")], None)
            .err()
            .unwrap();
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/x.pcap"), "{msg}");
        assert!(msg.contains("No such file"), "{msg}");
    }

    #[test]
    fn non_capture_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("notes.txt");
        std::fs::write(&p, b"this is not a capture file at all, just text").unwrap();
        let msg = Reader::open_files(std::slice::from_ref(&p), None)
            .err()
            .unwrap()
            .to_string();
        assert!(msg.contains("notes.txt"), "{msg}");
    }

    #[test]
    fn permission_error_names_the_capability() {
        let e = CaptureError::Permission {
            iface: "eth0".into(),
            reason: "socket: Operation not permitted".into(),
        };
        let msg = e.to_string();
        assert!(msg.contains("CAP_NET_RAW") && msg.contains("eth0"), "{msg}");
    }
}
