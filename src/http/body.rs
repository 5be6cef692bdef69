//! Stage 5 (http, per TCP stream): message body framing (Content-Length, chunked,
//! close-delimited) and content decoding (gzip, x-gzip, deflate zlib or raw, br).
//!
//! Guarantees: body bytes are never copied beyond the inspection cap; past it (or once
//! inspection stopped for any reason) a body costs only length bookkeeping. Decoders write
//! into a bounded stack buffer and stop at the cap, so a decompression bomb costs at most one
//! buffer of extra work; the brotli ring buffer is refused above [`MAX_BROTLI_WINDOW`]. The
//! chunk-size/trailer line buffer is bounded by `max_line`. No input can make this panic.

use super::parse;
use super::tx::{push_anomaly, Anomaly, Body, Header};
use brotli::{
    Allocator, BrotliDecompressStream, BrotliResult, BrotliState, HeapAlloc, HuffmanCode,
};
use brotli::{SliceWrapper, SliceWrapperMut};
use flate2::{Decompress, FlushDecompress, Status};

/// Largest brotli ring buffer accepted (bytes): 4 MiB covers the default window (lgwin 22) of
/// common encoders; bigger windows are a BodyDecodeError rather than a memory risk.
pub const MAX_BROTLI_WINDOW: usize = (4 << 20) + 1024;

/// Raw bytes kept while a decoder has produced nothing yet, to fall back to when the body is
/// not really encoded (mislabelled Content-Encoding).
const RAW_FALLBACK: usize = 4096;

/// How a body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Exactly this many bytes (more than zero).
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Until the connection closes.
    Close,
}

/// Limits a body parser works within.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest chunk-size or trailer line, and all trailers together.
    pub max_line: usize,
    /// Trailer fields kept.
    pub max_headers: usize,
}

/// Where a body's bytes, trailers and anomalies go.
pub struct Sink<'a> {
    pub body: &'a mut Body,
    pub trailers: &'a mut Vec<Header>,
    pub anomalies: &'a mut Vec<Anomaly>,
}

/// What a call achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Everything given was consumed; the body goes on.
    More,
    /// The body ended; bytes after `consumed` belong to the next message.
    Done,
    /// Framing is lost (invalid chunking in a request, a gap past a known length): resync.
    Lost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkEnd,
    Trailers,
    Close,
    Done,
}

/// Incremental body parser for one message.
pub struct BodyParser {
    state: State,
    line: Vec<u8>,
    trailer_bytes: usize,
    is_response: bool,
    inspect: Inspector,
}

impl BodyParser {
    /// A parser for a body framed by `framing`, decoded per `inspect`.
    pub fn new(framing: Framing, is_response: bool, inspect: Inspector) -> Self {
        let state = match framing {
            Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::ChunkSize,
            Framing::Close => State::Close,
        };
        BodyParser {
            state,
            line: Vec::new(),
            trailer_bytes: 0,
            is_response,
            inspect,
        }
    }

    /// Whether the body is complete.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Whether the body runs until the connection closes.
    pub fn is_close_delimited(&self) -> bool {
        self.state == State::Close
    }

    /// Bytes held by this parser (line buffer and decoder estimate).
    pub fn buffered_bytes(&self) -> usize {
        self.line.capacity() + self.inspect.buffered_bytes()
    }

    /// Consumes body bytes from `data`. Returns the bytes consumed and the progress.
    pub fn feed(&mut self, data: &[u8], sink: &mut Sink<'_>, lim: Limits) -> (usize, Progress) {
        let mut pos = 0;
        loop {
            let rest = data.get(pos..).unwrap_or_default();
            match self.state {
                State::Done => {
                    self.inspect.finish(sink);
                    return (pos, Progress::Done);
                }
                _ if rest.is_empty() => return (pos, Progress::More),
                State::Length(rem) | State::ChunkData(rem) => {
                    let take = usize::try_from(rem).unwrap_or(usize::MAX).min(rest.len());
                    self.deliver(rest.get(..take).unwrap_or_default(), sink);
                    pos += take;
                    let left = rem - take as u64;
                    self.state = match (self.state, left) {
                        (State::Length(_), 0) => State::Done,
                        (State::Length(_), n) => State::Length(n),
                        (_, 0) => State::ChunkEnd,
                        (_, n) => State::ChunkData(n),
                    };
                }
                State::Close => {
                    self.deliver(rest, sink);
                    return (data.len(), Progress::More);
                }
                State::ChunkSize | State::ChunkEnd | State::Trailers => {
                    let (used, line_done) = match memchr::memchr(b'\n', rest) {
                        Some(i) => (i + 1, true),
                        None => (rest.len(), false),
                    };
                    let piece = rest.get(..used).unwrap_or_default();
                    pos += used;
                    if self.line.len() + piece.len() > lim.max_line {
                        self.line.clear();
                        if let Some(p) = self.line_failed(sink, true) {
                            return (pos, p);
                        }
                        continue;
                    }
                    if !line_done {
                        self.line.extend_from_slice(piece);
                        continue;
                    }
                    let outcome = if self.line.is_empty() {
                        self.on_line(piece, sink, lim)
                    } else {
                        self.line.extend_from_slice(piece);
                        let line = std::mem::take(&mut self.line);
                        let o = self.on_line(&line, sink, lim);
                        self.line = line;
                        self.line.clear();
                        o
                    };
                    if let Some(p) = outcome {
                        return (pos, p);
                    }
                }
            }
        }
    }

    /// Handles one complete line (terminator included). Some(progress) stops feeding.
    fn on_line(&mut self, raw: &[u8], sink: &mut Sink<'_>, lim: Limits) -> Option<Progress> {
        let no_lf = raw.strip_suffix(b"\n").unwrap_or(raw);
        let line = no_lf.strip_suffix(b"\r").unwrap_or(no_lf);
        if line.len() == no_lf.len() {
            push_anomaly(sink.anomalies, Anomaly::BareLf);
        }
        match self.state {
            State::ChunkSize => match parse::parse_chunk_size(line) {
                Some(0) => self.state = State::Trailers,
                Some(n) => self.state = State::ChunkData(n),
                // An extra empty line between chunks: tolerated like libhtp.
                None if line.trim_ascii().is_empty() => {}
                None => return self.line_failed(sink, false),
            },
            State::ChunkEnd => {
                if !line.is_empty() {
                    push_anomaly(sink.anomalies, Anomaly::InvalidChunkEnd);
                    // Maybe the data ended early and this is the next size line.
                    if let Some(n) = parse::parse_chunk_size(line) {
                        self.state = if n == 0 {
                            State::Trailers
                        } else {
                            State::ChunkData(n)
                        };
                        return None;
                    }
                }
                self.state = State::ChunkSize;
            }
            State::Trailers => {
                if line.is_empty() {
                    self.state = State::Done;
                    return None;
                }
                self.trailer_bytes += raw.len();
                if self.trailer_bytes > lim.max_line {
                    return self.line_failed(sink, true);
                }
                match parse::parse_field_line(line) {
                    Some(h) if sink.trailers.len() < lim.max_headers => sink.trailers.push(h),
                    Some(_) => push_anomaly(sink.anomalies, Anomaly::TooManyHeaders),
                    None => push_anomaly(sink.anomalies, Anomaly::InvalidChunkTrailer),
                }
            }
            _ => {}
        }
        None
    }

    /// A chunk-size, chunk-end or trailer line is invalid (or too long).
    fn line_failed(&mut self, sink: &mut Sink<'_>, too_long: bool) -> Option<Progress> {
        let a = match self.state {
            State::Trailers if too_long => Anomaly::HeaderTooLong,
            State::Trailers => Anomaly::InvalidChunkTrailer,
            State::ChunkEnd => Anomaly::InvalidChunkEnd,
            _ => Anomaly::InvalidChunkSize,
        };
        push_anomaly(sink.anomalies, a);
        if self.is_response && self.state == State::ChunkSize {
            // Like libhtp: a response whose chunking broke is read until the connection closes.
            self.inspect.interrupt(sink.body);
            self.state = State::Close;
            return None;
        }
        self.inspect.interrupt(sink.body);
        self.state = State::Done;
        Some(Progress::Lost)
    }

    fn deliver(&mut self, bytes: &[u8], sink: &mut Sink<'_>) {
        if bytes.is_empty() {
            return;
        }
        sink.body.wire_bytes += bytes.len() as u64;
        self.inspect.push(bytes, sink.body, sink.anomalies);
    }

    /// `n` bytes of this direction were lost. Inside a known length they are absorbed.
    pub fn gap(&mut self, n: u64, sink: &mut Sink<'_>) -> Progress {
        self.inspect.interrupt(sink.body);
        match self.state {
            State::Length(rem) | State::ChunkData(rem) if n <= rem => {
                sink.body.wire_bytes += n;
                let left = rem - n;
                self.state = match (self.state, left) {
                    (State::Length(_), 0) => State::Done,
                    (State::Length(_), l) => State::Length(l),
                    (_, 0) => State::ChunkEnd,
                    (_, l) => State::ChunkData(l),
                };
                if self.state == State::Done {
                    Progress::Done
                } else {
                    Progress::More
                }
            }
            State::Done => Progress::Done,
            State::Length(rem) | State::ChunkData(rem) => {
                sink.body.wire_bytes += rem;
                self.state = State::Done;
                Progress::Lost
            }
            _ => {
                self.state = State::Done;
                Progress::Lost
            }
        }
    }

    /// The stream ended. True when that completes the body (close-delimited).
    pub fn close(&mut self, sink: &mut Sink<'_>) -> bool {
        match self.state {
            State::Close | State::Done => {
                self.state = State::Done;
                self.inspect.finish(sink);
                true
            }
            _ => {
                self.inspect.interrupt(sink.body);
                self.state = State::Done;
                false
            }
        }
    }
}

/// Keeps up to `cap` decoded bytes of a body.
pub struct Inspector {
    cap: usize,
    dec: Dec,
    /// Raw input kept while a decoder has produced nothing (for the mislabelled fallback).
    raw: Vec<u8>,
    raw_overflow: bool,
}

enum Dec {
    Off,
    Identity,
    Gzip(Box<GzipDec>),
    Deflate(Box<DeflateDec>),
    Brotli(Box<BrotliDec>),
}

impl Inspector {
    /// Inspection for a body with this Content-Encoding (lower-cased), keeping `cap` bytes.
    pub fn new(encoding: Option<&str>, cap: usize) -> Self {
        let mut codings = encoding
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty() && *c != "identity");
        let dec = match (codings.next(), codings.next()) {
            (None, _) => Dec::Identity,
            (Some("gzip" | "x-gzip"), None) => Dec::Gzip(Box::default()),
            (Some("deflate"), None) => Dec::Deflate(Box::default()),
            (Some("br"), None) => match BrotliDec::new() {
                Some(b) => Dec::Brotli(Box::new(b)),
                None => Dec::Identity,
            },
            // Unknown or stacked codings: the raw bytes are kept.
            _ => Dec::Identity,
        };
        Inspector {
            cap,
            dec,
            raw: Vec::new(),
            raw_overflow: false,
        }
    }

    /// No inspection at all (bodies of transactions that are not recorded).
    pub fn off() -> Self {
        Inspector {
            cap: 0,
            dec: Dec::Off,
            raw: Vec::new(),
            raw_overflow: true,
        }
    }

    fn buffered_bytes(&self) -> usize {
        self.raw.capacity()
            + match &self.dec {
                Dec::Off | Dec::Identity => 0,
                Dec::Gzip(_) | Dec::Deflate(_) => 48 * 1024,
                Dec::Brotli(b) => 64 * 1024 + b.ring_bytes(),
            }
    }

    /// Stops inspection: the stored data no longer is the whole body.
    pub fn interrupt(&mut self, body: &mut Body) {
        if !matches!(self.dec, Dec::Off) {
            body.truncated = true;
        }
        self.stop();
    }

    fn stop(&mut self) {
        self.dec = Dec::Off;
        self.raw = Vec::new();
    }

    /// The body ended normally.
    pub fn finish(&mut self, sink: &mut Sink<'_>) {
        let full = sink.body.data.len() >= self.cap;
        let pending = match &self.dec {
            Dec::Gzip(g) => !g.ended,
            Dec::Deflate(d) => !d.ended,
            Dec::Brotli(b) => !b.ended,
            Dec::Off | Dec::Identity => false,
        };
        if pending && full {
            // Output stopped at the cap before the stream ended.
            sink.body.truncated = true;
            push_anomaly(sink.anomalies, Anomaly::BodyInspectionCapped);
        }
        self.stop();
    }

    /// Inspects the next body bytes.
    pub fn push(&mut self, data: &[u8], body: &mut Body, anomalies: &mut Vec<Anomaly>) {
        let cap = self.cap;
        let res = match &mut self.dec {
            Dec::Off => return,
            Dec::Identity => {
                if !store(data, body, cap) {
                    self.capped(body, anomalies);
                }
                return;
            }
            Dec::Gzip(g) => g.push(data, body, cap),
            Dec::Deflate(d) => d.push(data, body, cap),
            Dec::Brotli(b) => b.push(data, body, cap),
        };
        match res {
            Ok(Decoded::More) => self.keep_raw(data, body),
            Ok(Decoded::End) => {
                self.raw = Vec::new();
                self.dec = Dec::Off;
                self.mark_ended();
            }
            Ok(Decoded::Full) => self.capped(body, anomalies),
            Err(()) => {
                push_anomaly(anomalies, Anomaly::BodyDecodeError);
                if body.data.is_empty() && !self.raw_overflow {
                    // Not really encoded: keep the raw bytes instead.
                    let raw = std::mem::take(&mut self.raw);
                    self.dec = Dec::Identity;
                    if !store(&raw, body, cap) || !store(data, body, cap) {
                        self.capped(body, anomalies);
                    }
                } else {
                    body.truncated = true;
                    self.stop();
                }
            }
        }
    }

    fn mark_ended(&mut self) {
        // Dec is Off now: nothing more is decoded, trailing bytes (gzip trailer) are ignored.
    }

    fn keep_raw(&mut self, data: &[u8], body: &Body) {
        if self.raw_overflow {
            return;
        }
        if !body.data.is_empty() || self.raw.len() + data.len() > RAW_FALLBACK {
            self.raw_overflow = true;
            self.raw = Vec::new();
        } else {
            self.raw.extend_from_slice(data);
        }
    }

    fn capped(&mut self, body: &mut Body, anomalies: &mut Vec<Anomaly>) {
        body.truncated = true;
        push_anomaly(anomalies, Anomaly::BodyInspectionCapped);
        self.stop();
    }
}

/// Appends as much of `bytes` as fits under `cap`; false when some did not fit.
fn store(bytes: &[u8], body: &mut Body, cap: usize) -> bool {
    let data = &mut body.data;
    let room = cap.saturating_sub(data.len());
    let take = room.min(bytes.len());
    if take > 0 {
        if data.capacity() - data.len() < take {
            // Grow geometrically but never past the cap.
            let target = (data.capacity() * 2)
                .max(data.len() + take)
                .max(256)
                .min(cap);
            data.reserve_exact(target.saturating_sub(data.len()));
        }
        data.extend_from_slice(bytes.get(..take).unwrap_or_default());
    }
    take == bytes.len()
}

enum Decoded {
    /// All input consumed, more may come.
    More,
    /// The compressed stream ended.
    End,
    /// Output reached the cap with more to come.
    Full,
}

const OUT_BUF: usize = 8192;

/// Runs a flate2 decompressor over `input`, storing output up to `cap`.
fn inflate(
    d: &mut Decompress,
    mut input: &[u8],
    body: &mut Body,
    cap: usize,
) -> Result<Decoded, ()> {
    let mut tmp = [0u8; OUT_BUF];
    loop {
        let room = cap.saturating_sub(body.data.len());
        // At the cap, decode one byte more to learn whether output remains.
        let want = room.clamp(1, OUT_BUF);
        let (in0, out0) = (d.total_in(), d.total_out());
        let res = d.decompress(
            input,
            tmp.get_mut(..want).unwrap_or_default(),
            FlushDecompress::None,
        );
        let used = usize::try_from(d.total_in() - in0).unwrap_or(usize::MAX);
        let made = usize::try_from(d.total_out() - out0).unwrap_or(usize::MAX);
        input = input.get(used..).unwrap_or_default();
        if made > 0 {
            if room == 0 {
                return Ok(Decoded::Full);
            }
            // Output made before an error is kept too.
            store(tmp.get(..made).unwrap_or_default(), body, cap);
        }
        let st = res.map_err(|_| ())?;
        if st == Status::StreamEnd {
            return Ok(Decoded::End);
        }
        if (used == 0 && made == 0) || (input.is_empty() && made < want) {
            return Ok(Decoded::More);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GzStage {
    Fixed,
    ExtraLen,
    Extra,
    Name,
    Comment,
    HeaderCrc,
    Data,
}

/// gzip: a small header state machine in front of raw deflate.
struct GzipDec {
    stage: GzStage,
    fixed: [u8; 10],
    have: usize,
    flags: u8,
    skip: usize,
    inflate: Decompress,
    ended: bool,
}

impl Default for GzipDec {
    fn default() -> Self {
        GzipDec {
            stage: GzStage::Fixed,
            fixed: [0; 10],
            have: 0,
            flags: 0,
            skip: 0,
            inflate: Decompress::new(false),
            ended: false,
        }
    }
}

impl GzipDec {
    fn next_stage(&mut self, after: GzStage) -> GzStage {
        let order = [
            (GzStage::ExtraLen, 0x04),
            (GzStage::Name, 0x08),
            (GzStage::Comment, 0x10),
            (GzStage::HeaderCrc, 0x02),
        ];
        let start = match after {
            GzStage::Fixed => 0,
            GzStage::ExtraLen | GzStage::Extra => 1,
            GzStage::Name => 2,
            GzStage::Comment => 3,
            GzStage::HeaderCrc | GzStage::Data => 4,
        };
        for (stage, bit) in order.iter().skip(start) {
            if self.flags & bit != 0 {
                self.have = 0;
                self.skip = if *stage == GzStage::HeaderCrc { 2 } else { 0 };
                return *stage;
            }
        }
        GzStage::Data
    }

    fn push(&mut self, mut input: &[u8], body: &mut Body, cap: usize) -> Result<Decoded, ()> {
        while self.stage != GzStage::Data {
            let Some(&b) = input.first() else {
                return Ok(Decoded::More);
            };
            match self.stage {
                GzStage::Fixed => {
                    let take = (10 - self.have).min(input.len());
                    let dst = self.fixed.get_mut(self.have..self.have + take).ok_or(())?;
                    dst.copy_from_slice(input.get(..take).ok_or(())?);
                    self.have += take;
                    input = input.get(take..).unwrap_or_default();
                    if self.have == 10 {
                        if self.fixed[..3] != [0x1f, 0x8b, 8] {
                            return Err(());
                        }
                        self.flags = self.fixed[3];
                        self.stage = self.next_stage(GzStage::Fixed);
                    }
                }
                GzStage::ExtraLen => {
                    self.skip |= usize::from(b) << (8 * self.have);
                    self.have += 1;
                    input = input.get(1..).unwrap_or_default();
                    if self.have == 2 {
                        self.stage = GzStage::Extra;
                    }
                }
                GzStage::Extra | GzStage::HeaderCrc => {
                    let take = self.skip.min(input.len());
                    self.skip -= take;
                    input = input.get(take..).unwrap_or_default();
                    if self.skip == 0 {
                        self.stage = self.next_stage(self.stage);
                    }
                }
                GzStage::Name | GzStage::Comment => match memchr::memchr(0, input) {
                    Some(i) => {
                        input = input.get(i + 1..).unwrap_or_default();
                        self.stage = self.next_stage(self.stage);
                    }
                    None => input = &[],
                },
                GzStage::Data => {}
            }
        }
        let r = inflate(&mut self.inflate, input, body, cap)?;
        if matches!(r, Decoded::End) {
            self.ended = true;
        }
        Ok(r)
    }
}

/// deflate: zlib-wrapped or raw, decided on the first two bytes.
#[derive(Default)]
struct DeflateDec {
    first: Option<u8>,
    inflate: Option<Decompress>,
    ended: bool,
}

impl DeflateDec {
    fn push(&mut self, input: &[u8], body: &mut Body, cap: usize) -> Result<Decoded, ()> {
        if self.inflate.is_none() {
            let (b0, b1) = match (self.first, input.first(), input.get(1)) {
                (Some(a), Some(&b), _) => (a, b),
                (None, Some(&a), Some(&b)) => (a, b),
                (None, Some(&a), None) => {
                    self.first = Some(a);
                    return Ok(Decoded::More);
                }
                _ => return Ok(Decoded::More),
            };
            let zlib =
                b0 & 0x0f == 8 && b0 >> 4 <= 7 && (u16::from(b0) << 8 | u16::from(b1)) % 31 == 0;
            let mut d = Decompress::new(zlib);
            if let Some(a) = self.first.take() {
                if let Decoded::End = inflate(&mut d, &[a], body, cap)? {
                    self.ended = true;
                    return Ok(Decoded::End);
                }
            }
            self.inflate = Some(d);
        }
        let Some(d) = self.inflate.as_mut() else {
            return Ok(Decoded::More);
        };
        let r = inflate(d, input, body, cap)?;
        if matches!(r, Decoded::End) {
            self.ended = true;
        }
        Ok(r)
    }
}

/// Memory handed to the brotli decoder.
#[derive(Default)]
struct Mem<T>(Box<[T]>);

impl<T> SliceWrapper<T> for Mem<T> {
    fn slice(&self) -> &[T] {
        &self.0
    }
}

impl<T> SliceWrapperMut<T> for Mem<T> {
    fn slice_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

/// A u8 allocator that refuses blocks above [`MAX_BROTLI_WINDOW`] (the decoder then fails
/// cleanly) and remembers the largest block it gave.
#[derive(Default)]
struct CappedAlloc {
    largest: usize,
}

impl Allocator<u8> for CappedAlloc {
    type AllocatedMemory = Mem<u8>;
    fn alloc_cell(&mut self, len: usize) -> Mem<u8> {
        if len > MAX_BROTLI_WINDOW {
            return Mem::default();
        }
        self.largest = self.largest.max(len);
        Mem(vec![0u8; len].into_boxed_slice())
    }
    fn free_cell(&mut self, _data: Mem<u8>) {}
}

struct BrotliDec {
    state: BrotliState<CappedAlloc, HeapAlloc<u32>, HeapAlloc<HuffmanCode>>,
    ended: bool,
}

impl BrotliDec {
    fn new() -> Option<Self> {
        let mut state = BrotliState::new(
            CappedAlloc::default(),
            HeapAlloc::default(),
            HeapAlloc::default(),
        );
        // Large-window brotli (up to 1 GiB windows) is not used on the web.
        state.large_window = false;
        Some(BrotliDec {
            state,
            ended: false,
        })
    }

    fn ring_bytes(&self) -> usize {
        self.state.alloc_u8.largest
    }

    fn push(&mut self, mut input: &[u8], body: &mut Body, cap: usize) -> Result<Decoded, ()> {
        let mut tmp = [0u8; OUT_BUF];
        loop {
            let room = cap.saturating_sub(body.data.len());
            let want = room.clamp(1, OUT_BUF);
            let mut avail_in = input.len();
            let mut in_off = 0usize;
            let mut avail_out = want;
            let mut out_off = 0usize;
            let mut total = 0usize;
            let r = BrotliDecompressStream(
                &mut avail_in,
                &mut in_off,
                input,
                &mut avail_out,
                &mut out_off,
                tmp.get_mut(..want).unwrap_or_default(),
                &mut total,
                &mut self.state,
            );
            input = input.get(in_off..).unwrap_or_default();
            if out_off > 0 {
                if room == 0 {
                    return Ok(Decoded::Full);
                }
                store(tmp.get(..out_off).unwrap_or_default(), body, cap);
            }
            match r {
                BrotliResult::ResultSuccess => {
                    self.ended = true;
                    return Ok(Decoded::End);
                }
                BrotliResult::ResultFailure => return Err(()),
                BrotliResult::NeedsMoreInput => return Ok(Decoded::More),
                BrotliResult::NeedsMoreOutput => {
                    if in_off == 0 && out_off == 0 {
                        return Ok(Decoded::More);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    pub(crate) fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    pub(crate) fn raw_deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    pub(crate) fn brotli_enc(data: &[u8], lgwin: u32) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, lgwin);
            w.write_all(data).unwrap();
        }
        out
    }

    const LIM: Limits = Limits {
        max_line: 1024,
        max_headers: 8,
    };

    struct Out {
        body: Body,
        trailers: Vec<Header>,
        anomalies: Vec<Anomaly>,
    }

    impl Out {
        fn new() -> Self {
            Out {
                body: Body::default(),
                trailers: vec![],
                anomalies: vec![],
            }
        }
        fn sink(&mut self) -> Sink<'_> {
            Sink {
                body: &mut self.body,
                trailers: &mut self.trailers,
                anomalies: &mut self.anomalies,
            }
        }
    }

    /// Feeds `wire` in pieces of `step` bytes; returns total consumed and final progress.
    fn run(
        framing: Framing,
        resp: bool,
        enc: Option<&str>,
        cap: usize,
        wire: &[u8],
        step: usize,
    ) -> (Out, usize, Progress) {
        let mut p = BodyParser::new(framing, resp, Inspector::new(enc, cap));
        let mut out = Out::new();
        let mut used = 0;
        let mut prog = Progress::More;
        for piece in wire.chunks(step.max(1)) {
            let (n, pr) = p.feed(piece, &mut out.sink(), LIM);
            used += n;
            prog = pr;
            if pr != Progress::More {
                break;
            }
        }
        (out, used, prog)
    }

    #[test]
    fn content_length_body() {
        for step in [1, 3, 100] {
            let (o, used, p) = run(Framing::Length(5), false, None, 100, b"helloGET", step);
            assert_eq!((used, p), (5, Progress::Done));
            assert_eq!(o.body.data, b"hello");
            assert_eq!(o.body.wire_bytes, 5);
            assert!(!o.body.truncated);
        }
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let wire = b"5;a=b\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\nX-T:  2 \r\n\r\nNEXT";
        for step in [1, 2, 7, 1000] {
            let (o, used, p) = run(Framing::Chunked, false, None, 100, wire, step);
            assert_eq!(p, Progress::Done, "step {step}");
            assert_eq!(used, wire.len() - 4);
            assert_eq!(o.body.data, b"hello world");
            assert_eq!(o.body.wire_bytes, 11);
            assert_eq!(o.trailers.len(), 2);
            assert_eq!(o.trailers[1].value, b"2");
            assert!(o.anomalies.is_empty(), "{:?}", o.anomalies);
        }
    }

    #[test]
    fn chunked_bare_lf_and_extra_empty_line() {
        let (o, _, p) = run(
            Framing::Chunked,
            false,
            None,
            100,
            b"3\nabc\n\r\n2\r\nde\r\n0\r\n\r\n",
            1,
        );
        assert_eq!(p, Progress::Done);
        assert_eq!(o.body.data, b"abcde");
        assert_eq!(o.anomalies, vec![Anomaly::BareLf]);
    }

    #[test]
    fn invalid_chunk_size_request_is_lost_response_reads_to_close() {
        let (o, used, p) = run(Framing::Chunked, false, None, 100, b"zz\r\nabc", 100);
        assert_eq!((used, p), (4, Progress::Lost));
        assert_eq!(o.anomalies, vec![Anomaly::InvalidChunkSize]);
        let mut parser = BodyParser::new(Framing::Chunked, true, Inspector::new(None, 100));
        let mut out = Out::new();
        assert_eq!(
            parser.feed(b"3\r\nabc\r\nxyz\r\nmore bytes", &mut out.sink(), LIM),
            (23, Progress::More)
        );
        assert!(parser.is_close_delimited());
        assert!(parser.close(&mut out.sink()));
        assert_eq!(out.body.wire_bytes, 13);
        assert_eq!(out.anomalies, vec![Anomaly::InvalidChunkSize]);
    }

    #[test]
    fn chunk_line_too_long() {
        let mut wire = b"5;".to_vec();
        wire.extend(std::iter::repeat_n(b'x', 2000));
        let (o, _, p) = run(Framing::Chunked, false, None, 100, &wire, 64);
        assert_eq!(p, Progress::Lost);
        assert_eq!(o.anomalies, vec![Anomaly::InvalidChunkSize]);
    }

    #[test]
    fn missing_crlf_after_chunk_data() {
        let (o, _, p) = run(
            Framing::Chunked,
            false,
            None,
            100,
            b"3\r\nabcX\r\n0\r\n\r\n",
            1,
        );
        assert_eq!(p, Progress::Done);
        assert_eq!(o.anomalies, vec![Anomaly::InvalidChunkEnd]);
        let (o, _, p) = run(
            Framing::Chunked,
            false,
            None,
            100,
            b"3\r\nabc2\r\nde\r\n0\r\n\r\n",
            3,
        );
        assert_eq!(p, Progress::Done);
        assert_eq!(o.body.data, b"abcde");
    }

    #[test]
    fn invalid_trailer() {
        let (o, _, p) = run(Framing::Chunked, false, None, 100, b"0\r\njunk\r\n\r\n", 1);
        assert_eq!(p, Progress::Done);
        assert_eq!(o.anomalies, vec![Anomaly::InvalidChunkTrailer]);
    }

    #[test]
    fn identity_cap() {
        let (o, _, p) = run(Framing::Length(10), false, None, 4, b"0123456789", 3);
        assert_eq!(p, Progress::Done);
        assert_eq!(o.body.data, b"0123");
        assert_eq!(o.body.wire_bytes, 10);
        assert!(o.body.truncated);
        assert_eq!(o.anomalies, vec![Anomaly::BodyInspectionCapped]);
        let (o, _, _) = run(Framing::Length(4), false, None, 4, b"0123", 1);
        assert!(!o.body.truncated && o.anomalies.is_empty());
    }

    fn text() -> Vec<u8> {
        (0..5000)
            .flat_map(|i| format!("{{\"id\":{i},\"name\":\"user{i}\"}},").into_bytes())
            .collect()
    }

    #[test]
    fn gzip_deflate_brotli_decode_in_any_pieces() {
        let plain = text();
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("gzip", gzip(&plain)),
            ("x-gzip", gzip(&plain)),
            ("deflate", zlib(&plain)),
            ("deflate", raw_deflate(&plain)),
            ("br", brotli_enc(&plain, 22)),
        ];
        for (enc, wire) in &cases {
            for step in [1, 5, 4096, 1 << 20] {
                let (o, used, p) = run(
                    Framing::Length(wire.len() as u64),
                    true,
                    Some(enc),
                    1 << 20,
                    wire,
                    step,
                );
                assert_eq!((used, p), (wire.len(), Progress::Done), "{enc} {step}");
                assert!(
                    o.body.data == plain,
                    "{enc} step {step}: {} bytes",
                    o.body.data.len()
                );
                assert!(!o.body.truncated, "{enc} {step}");
                assert!(o.anomalies.is_empty(), "{enc} {step} {:?}", o.anomalies);
                assert_eq!(o.body.wire_bytes, wire.len() as u64);
            }
        }
    }

    #[test]
    fn gzip_header_fields_are_skipped() {
        let mut g = flate2::GzBuilder::new()
            .filename("f.json")
            .comment("c")
            .extra(vec![1, 2, 3])
            .write(Vec::new(), flate2::Compression::fast());
        g.write_all(b"{\"a\":1}").unwrap();
        let wire = g.finish().unwrap();
        for step in [1, 2, 100] {
            let (o, _, _) = run(
                Framing::Length(wire.len() as u64),
                true,
                Some("gzip"),
                100,
                &wire,
                step,
            );
            assert_eq!(o.body.data, b"{\"a\":1}");
        }
    }

    #[test]
    fn decompression_bomb_is_capped() {
        let zeros = vec![0u8; 50 << 20];
        for (enc, wire) in [
            ("gzip", gzip(&zeros)),
            ("br", brotli_enc(&zeros, 22)),
            ("deflate", zlib(&zeros)),
        ] {
            let (o, _, p) = run(
                Framing::Length(wire.len() as u64),
                true,
                Some(enc),
                64 * 1024,
                &wire,
                65536,
            );
            assert_eq!(p, Progress::Done);
            assert_eq!(o.body.data.len(), 64 * 1024, "{enc}");
            assert!(o.body.data.capacity() <= 64 * 1024);
            assert!(o.body.truncated);
            assert_eq!(o.anomalies, vec![Anomaly::BodyInspectionCapped], "{enc}");
        }
    }

    #[test]
    fn exact_cap_is_not_capped() {
        let plain = b"exactly";
        let wire = gzip(plain);
        let (o, _, _) = run(
            Framing::Length(wire.len() as u64),
            true,
            Some("gzip"),
            plain.len(),
            &wire,
            1,
        );
        assert_eq!(o.body.data, plain);
        assert!(o.anomalies.is_empty(), "{:?}", o.anomalies);
    }

    #[test]
    fn mislabelled_encoding_keeps_raw_bytes() {
        let (o, _, _) = run(
            Framing::Length(13),
            true,
            Some("gzip"),
            100,
            b"{\"plain\":true}",
            4,
        );
        assert_eq!(o.body.data, b"{\"plain\":true");
        assert_eq!(o.anomalies, vec![Anomaly::BodyDecodeError]);
        let (o, _, _) = run(Framing::Length(9), true, Some("br"), 100, b"not brotl", 2);
        assert_eq!(o.anomalies, vec![Anomaly::BodyDecodeError]);
        assert_eq!(o.body.data, b"not brotl");
    }

    #[test]
    fn corrupt_stream_after_output_is_truncated() {
        // gzip header, a stored deflate block "hello", then a block of reserved type 11.
        let mut wire = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        wire.extend_from_slice(&[0x00, 0x05, 0x00, 0xfa, 0xff]);
        wire.extend_from_slice(b"hello");
        wire.extend_from_slice(&[0x07, 0x00, 0x00]);
        for step in [1, 4, 100] {
            let (o, _, p) = run(
                Framing::Length(wire.len() as u64),
                true,
                Some("gzip"),
                1 << 20,
                &wire,
                step,
            );
            assert_eq!(p, Progress::Done);
            assert_eq!(o.body.data, b"hello");
            assert!(o.body.truncated);
            assert_eq!(o.anomalies, vec![Anomaly::BodyDecodeError]);
        }
    }

    #[test]
    fn unknown_and_stacked_codings_keep_raw() {
        let (o, _, _) = run(Framing::Length(3), true, Some("zstd"), 100, b"abc", 1);
        assert_eq!(o.body.data, b"abc");
        let (o, _, _) = run(Framing::Length(3), true, Some("identity"), 100, b"abc", 1);
        assert_eq!(o.body.data, b"abc");
        let (o, _, _) = run(Framing::Length(3), true, Some("gzip, br"), 100, b"abc", 1);
        assert_eq!(o.body.data, b"abc");
    }

    #[test]
    fn big_brotli_window_is_refused() {
        let data: Vec<u8> = (0..(6u32 << 20))
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let wire = brotli_enc(&data, 24);
        let (o, _, _) = run(
            Framing::Length(wire.len() as u64),
            true,
            Some("br"),
            1 << 20,
            &wire,
            65536,
        );
        assert!(
            o.anomalies.contains(&Anomaly::BodyDecodeError),
            "{:?}",
            o.anomalies
        );
    }

    #[test]
    fn gaps() {
        let mut p = BodyParser::new(Framing::Length(10), false, Inspector::new(None, 100));
        let mut out = Out::new();
        assert_eq!(p.feed(b"abc", &mut out.sink(), LIM), (3, Progress::More));
        assert_eq!(p.gap(4, &mut out.sink()), Progress::More);
        assert_eq!(
            p.feed(b"xyzNEXT", &mut out.sink(), LIM),
            (3, Progress::Done)
        );
        assert_eq!(out.body.wire_bytes, 10);
        assert_eq!(out.body.data, b"abc");
        assert!(out.body.truncated);

        let mut p = BodyParser::new(Framing::Length(10), false, Inspector::new(None, 100));
        let mut out = Out::new();
        assert_eq!(p.gap(11, &mut out.sink()), Progress::Lost);
        assert_eq!(out.body.wire_bytes, 10);

        let mut p = BodyParser::new(Framing::Chunked, false, Inspector::new(None, 100));
        let mut out = Out::new();
        assert_eq!(
            p.feed(b"5\r\nab", &mut out.sink(), LIM),
            (5, Progress::More)
        );
        assert_eq!(p.gap(3, &mut out.sink()), Progress::More);
        assert_eq!(
            p.feed(b"\r\n0\r\n\r\n", &mut out.sink(), LIM),
            (7, Progress::Done)
        );
        assert_eq!(out.body.wire_bytes, 5);

        let mut p = BodyParser::new(Framing::Chunked, false, Inspector::new(None, 100));
        assert_eq!(p.gap(3, &mut Out::new().sink()), Progress::Lost);
        let mut p = BodyParser::new(Framing::Close, true, Inspector::new(None, 100));
        assert_eq!(p.gap(3, &mut Out::new().sink()), Progress::Lost);
    }

    #[test]
    fn close_completes_only_close_delimited() {
        let mut p = BodyParser::new(Framing::Close, true, Inspector::new(None, 100));
        let mut out = Out::new();
        p.feed(b"abc", &mut out.sink(), LIM);
        assert!(p.close(&mut out.sink()));
        assert!(!out.body.truncated);
        let mut p = BodyParser::new(Framing::Length(5), true, Inspector::new(None, 100));
        let mut out = Out::new();
        p.feed(b"abc", &mut out.sink(), LIM);
        assert!(!p.close(&mut out.sink()));
        assert!(out.body.truncated);
    }

    #[test]
    fn off_inspector_counts_only() {
        let mut p = BodyParser::new(Framing::Length(5), false, Inspector::off());
        let mut out = Out::new();
        p.feed(b"hello", &mut out.sink(), LIM);
        assert_eq!(out.body.wire_bytes, 5);
        assert!(out.body.data.is_empty());
        assert!(out.anomalies.is_empty());
    }
}
