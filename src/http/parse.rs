//! Stage 5 (http, per TCP stream): pure parsing functions over byte slices.
//!
//! Nothing here keeps state or allocates per byte; every limit is an argument. The contract
//! follows mini-redis: `Ok(None)` means "need more bytes" (every truncation of a valid head
//! gives `Ok(None)`, never an error), `Ok(Some((head, n)))` means the caller drains exactly
//! `n` bytes, and `Err` means the bytes cannot be a message head (the caller resynchronises).
//!
//! A head is found by a cheap scan ([`scan_head_end`], memchr over `\n`, resumable from the
//! last line start so bytes arriving in small pieces are not scanned twice), then parsed once:
//! by httparse when the head is strictly valid (the fast path), otherwise by a tolerant line
//! parser that accepts what real servers accept (obs-fold, whitespace before the colon,
//! invalid header lines, odd request lines, any method token) and records an [`Anomaly`] for
//! each oddity. Peer bytes are read through `get(..)`: no input can make these functions panic.

use super::tx::{normalize_host, push_anomaly, Anomaly, Header};
use std::borrow::Cow;

/// Why bytes cannot be (or can no longer be) parsed as a message head.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeadError {
    /// No end of head within the limit.
    #[error("message head longer than {limit} bytes")]
    TooLong { limit: usize },
    /// The first line is not a request line.
    #[error("invalid request line ({len} bytes)")]
    InvalidRequestLine { len: usize },
    /// The first line is not a status line.
    #[error("invalid status line ({len} bytes)")]
    InvalidStatusLine { len: usize },
}

/// Result of scanning for the end of a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadScan {
    /// No end yet: resume scanning at `resume` (a line start) once more bytes arrived.
    Incomplete { resume: usize },
    /// The head is `buf[..len]`, its terminating empty line included.
    Complete { len: usize },
}

/// Finds the end of a head (an empty line, `\r\n` or bare `\n`) in `buf`, starting at `from`
/// (0 or a line start returned by an earlier `Incomplete`). `buf` must not start with empty
/// lines (see [`skip_empty_lines`]). Err when no end lies within `max_header_bytes`.
pub fn scan_head_end(
    buf: &[u8],
    from: usize,
    max_header_bytes: usize,
) -> Result<HeadScan, HeadError> {
    let mut line_start = from.min(buf.len());
    loop {
        let hay = buf.get(line_start..).unwrap_or_default();
        let Some(off) = memchr::memchr(b'\n', hay) else {
            break;
        };
        let nl = line_start + off;
        if nl >= max_header_bytes {
            return Err(HeadError::TooLong {
                limit: max_header_bytes,
            });
        }
        let line = buf.get(line_start..nl).unwrap_or_default();
        if line_start > 0 && (line.is_empty() || line == b"\r") {
            return Ok(HeadScan::Complete { len: nl + 1 });
        }
        line_start = nl + 1;
    }
    if buf.len() >= max_header_bytes {
        return Err(HeadError::TooLong {
            limit: max_header_bytes,
        });
    }
    Ok(HeadScan::Incomplete { resume: line_start })
}

/// Number of leading CR and LF bytes (empty lines before a request, RFC 9112 §2.2).
pub fn skip_empty_lines(buf: &[u8]) -> usize {
    buf.iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count()
}

/// Whether some line of `head` ends in LF without CR.
pub fn has_bare_lf(head: &[u8]) -> bool {
    memchr::memchr_iter(b'\n', head).any(|i| i == 0 || head.get(i - 1) != Some(&b'\r'))
}

/// What the headers say about framing and routing, gathered from every header field (also
/// those past `max_headers`, so a Content-Length cannot hide behind many fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Framing {
    /// First valid Content-Length value.
    pub content_length: Option<u64>,
    /// A Content-Length field was present (valid or not).
    pub cl_present: bool,
    /// A Transfer-Encoding field was present.
    pub te_present: bool,
    /// Transfer-Encoding contains a `chunked` coding.
    pub chunked: bool,
    /// Content-Encoding values, lower-cased, joined by ", ".
    pub content_encoding: Option<String>,
    /// First Upgrade token, lower-cased.
    pub upgrade: Option<String>,
    /// First Host value.
    pub host: Option<Vec<u8>>,
    /// `Expect: 100-continue`.
    pub expect_continue: bool,
}

impl Framing {
    fn add(&mut self, name: &[u8], value: &[u8], anomalies: &mut Vec<Anomaly>) {
        let value = value.trim_ascii();
        if name.eq_ignore_ascii_case(b"content-length") {
            for part in value.split(|&b| b == b',') {
                match parse_decimal(part.trim_ascii()) {
                    Some(n) => match self.content_length {
                        None => {
                            if self.cl_present {
                                // An earlier invalid value, now a valid one.
                                push_anomaly(anomalies, Anomaly::ConflictingContentLength);
                            }
                            self.content_length = Some(n);
                        }
                        Some(m) if m == n => {
                            push_anomaly(anomalies, Anomaly::DuplicateContentLength)
                        }
                        Some(_) => push_anomaly(anomalies, Anomaly::ConflictingContentLength),
                    },
                    None => push_anomaly(anomalies, Anomaly::InvalidContentLength),
                }
                self.cl_present = true;
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.te_present = true;
            let mut last_chunked = false;
            for tok in value.split(|&b| b == b',') {
                let tok = tok.trim_ascii();
                if tok.is_empty() {
                    continue;
                }
                // `chunked;x=y` is not valid, but the coding is still chunked.
                let name_end = tok
                    .iter()
                    .position(|&b| b == b';' || b == b' ')
                    .unwrap_or(tok.len());
                let coding = tok.get(..name_end).unwrap_or_default();
                if coding.eq_ignore_ascii_case(b"chunked") {
                    if self.chunked || name_end != tok.len() {
                        push_anomaly(anomalies, Anomaly::InvalidTransferEncoding);
                    }
                    self.chunked = true;
                    last_chunked = true;
                } else {
                    // `identity` is obsolete (RFC 9112), anything else is not chunked.
                    push_anomaly(anomalies, Anomaly::InvalidTransferEncoding);
                    last_chunked = false;
                }
            }
            if self.chunked && !last_chunked {
                push_anomaly(anomalies, Anomaly::InvalidTransferEncoding);
            }
        } else if name.eq_ignore_ascii_case(b"content-encoding") {
            let v = String::from_utf8_lossy(value).to_ascii_lowercase();
            if !v.is_empty() {
                self.content_encoding = Some(match self.content_encoding.take() {
                    Some(prev) => format!("{prev}, {v}"),
                    None => v,
                });
            }
        } else if name.eq_ignore_ascii_case(b"host") {
            match &self.host {
                None => self.host = Some(value.to_vec()),
                Some(h) if h.eq_ignore_ascii_case(value) => {}
                Some(_) => push_anomaly(anomalies, Anomaly::AmbiguousHost),
            }
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            if self.upgrade.is_none() {
                let first = value
                    .split(|&b| b == b',')
                    .next()
                    .unwrap_or_default()
                    .trim_ascii();
                if !first.is_empty() {
                    self.upgrade = Some(String::from_utf8_lossy(first).to_ascii_lowercase());
                }
            }
        } else if name.eq_ignore_ascii_case(b"expect")
            && value.eq_ignore_ascii_case(b"100-continue")
        {
            self.expect_continue = true;
        }
    }

    fn finish(&mut self, anomalies: &mut Vec<Anomaly>) {
        if self.te_present && self.cl_present {
            push_anomaly(anomalies, Anomaly::ClAndTe);
        }
    }
}

/// A decimal number of at most 18 digits (so it fits any length arithmetic).
fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 18 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')))
}

/// A parsed request head.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    pub target: String,
    pub version: String,
    pub headers: Vec<Header>,
    pub framing: Framing,
    pub anomalies: Vec<Anomaly>,
}

/// A parsed response head.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseHead {
    pub version: String,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<Header>,
    pub framing: Framing,
    pub anomalies: Vec<Anomaly>,
}

/// Parses a request head at the start of `buf` (after optional empty lines).
/// `Ok(None)`: need more bytes. `Ok(Some((head, n)))`: the head and the bytes to drain.
pub fn parse_request_head(
    buf: &[u8],
    max_header_bytes: usize,
    max_headers: usize,
) -> Result<Option<(RequestHead, usize)>, HeadError> {
    parse_head(
        buf,
        max_header_bytes,
        max_headers,
        check_request_start,
        parse_request_head_complete,
    )
}

/// Parses a response head at the start of `buf`. Same contract as [`parse_request_head`].
pub fn parse_response_head(
    buf: &[u8],
    max_header_bytes: usize,
    max_headers: usize,
) -> Result<Option<(ResponseHead, usize)>, HeadError> {
    parse_head(
        buf,
        max_header_bytes,
        max_headers,
        check_response_start,
        parse_response_head_complete,
    )
}

/// The framing shared by both heads: skip empty lines, find the end of the head within
/// the limit, reject early a first line that cannot start such a head, then parse.
fn parse_head<H>(
    buf: &[u8],
    max_header_bytes: usize,
    max_headers: usize,
    check_start: fn(&[u8], bool) -> Result<(), HeadError>,
    complete: fn(&[u8], usize) -> Result<H, HeadError>,
) -> Result<Option<(H, usize)>, HeadError> {
    let lead = skip_empty_lines(buf);
    let rest = buf.get(lead..).unwrap_or_default();
    if rest.is_empty() {
        return Ok(None);
    }
    match scan_head_end(rest, 0, max_header_bytes)? {
        HeadScan::Incomplete { resume } => {
            check_start(rest, resume > 0)?;
            Ok(None)
        }
        HeadScan::Complete { len } => {
            let head = complete(rest.get(..len).unwrap_or_default(), max_headers)?;
            Ok(Some((head, lead + len)))
        }
    }
}

/// Early rejection of an incomplete head whose first line already cannot be a request line,
/// so garbage is not buffered up to `max_header_bytes` before being recognised.
/// `first_line_complete`: `buf` holds a `\n` (then the whole line is checked once);
/// otherwise only the method prefix is looked at (bounded work per call).
pub fn check_request_start(buf: &[u8], first_line_complete: bool) -> Result<(), HeadError> {
    if first_line_complete {
        let end = memchr::memchr(b'\n', buf).unwrap_or(buf.len());
        let line = strip_cr(buf.get(..end).unwrap_or_default());
        return match parse_request_line(line) {
            Some(_) => Ok(()),
            None => Err(HeadError::InvalidRequestLine { len: line.len() }),
        };
    }
    let m = buf
        .iter()
        .take(MAX_METHOD_LEN + 1)
        .take_while(|&&b| is_tchar(b))
        .count();
    let bad = match buf.get(m) {
        None => m > MAX_METHOD_LEN,
        Some(&b) => m == 0 || m > MAX_METHOD_LEN || !is_ws(b),
    };
    if bad {
        return Err(HeadError::InvalidRequestLine { len: buf.len() });
    }
    Ok(())
}

/// Early rejection of an incomplete head that cannot be a status line (see
/// [`check_request_start`]).
pub fn check_response_start(buf: &[u8], first_line_complete: bool) -> Result<(), HeadError> {
    if first_line_complete {
        let end = memchr::memchr(b'\n', buf).unwrap_or(buf.len());
        let line = strip_cr(buf.get(..end).unwrap_or_default());
        return match parse_status_line(line) {
            Some(_) => Ok(()),
            None => Err(HeadError::InvalidStatusLine { len: line.len() }),
        };
    }
    let n = buf.len().min(5);
    if !buf
        .get(..n)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"HTTP/".get(..n).unwrap_or_default()))
    {
        return Err(HeadError::InvalidStatusLine { len: buf.len() });
    }
    Ok(())
}

/// Parses a complete request head (`head` ends with its empty line, no leading empty lines).
pub fn parse_request_head_complete(
    head: &[u8],
    max_headers: usize,
) -> Result<RequestHead, HeadError> {
    let mut out = match fast_request(head, max_headers) {
        Some(h) => h,
        None => tolerant_request(head, max_headers)?,
    };
    if has_bare_lf(head) {
        push_anomaly(&mut out.anomalies, Anomaly::BareLf);
    }
    finish_request(&mut out);
    Ok(out)
}

/// Parses a complete response head.
pub fn parse_response_head_complete(
    head: &[u8],
    max_headers: usize,
) -> Result<ResponseHead, HeadError> {
    let mut out = match fast_response(head, max_headers) {
        Some(h) => h,
        None => tolerant_response(head, max_headers)?,
    };
    if has_bare_lf(head) {
        push_anomaly(&mut out.anomalies, Anomaly::BareLf);
    }
    out.framing.finish(&mut out.anomalies);
    Ok(out)
}

fn finish_request(h: &mut RequestHead) {
    h.framing.finish(&mut h.anomalies);
    if h.framing.host.is_none() && h.version.eq_ignore_ascii_case("HTTP/1.1") {
        push_anomaly(&mut h.anomalies, Anomaly::MissingHost);
    }
    let t = split_target(&h.method, &h.target);
    if let (Some(auth), Some(host)) = (t.authority, &h.framing.host) {
        let same = normalize_host(auth.as_bytes()) == normalize_host(host);
        if !h.method.eq_ignore_ascii_case("CONNECT") && !same {
            push_anomaly(&mut h.anomalies, Anomaly::AmbiguousHost);
        }
    }
}

/// Salvages what a cut-off request head still tells: the request line and the complete header
/// lines before the cut. None when not even the request line is complete and valid.
pub fn salvage_request_head(buf: &[u8], max_headers: usize) -> Option<RequestHead> {
    let buf = buf.get(skip_empty_lines(buf)..)?;
    let last_nl = memchr::memrchr(b'\n', buf)?;
    let mut h = tolerant_request(buf.get(..=last_nl)?, max_headers).ok()?;
    if has_bare_lf(buf.get(..=last_nl)?) {
        push_anomaly(&mut h.anomalies, Anomaly::BareLf);
    }
    h.framing.finish(&mut h.anomalies);
    Some(h)
}

/// Salvages a cut-off response head (see [`salvage_request_head`]).
pub fn salvage_response_head(buf: &[u8], max_headers: usize) -> Option<ResponseHead> {
    let buf = buf.get(skip_empty_lines(buf)..)?;
    let last_nl = memchr::memrchr(b'\n', buf)?;
    let mut h = tolerant_response(buf.get(..=last_nl)?, max_headers).ok()?;
    if has_bare_lf(buf.get(..=last_nl)?) {
        push_anomaly(&mut h.anomalies, Anomaly::BareLf);
    }
    h.framing.finish(&mut h.anomalies);
    Some(h)
}

const STACK_HEADERS: usize = 128;

fn fast_request(head: &[u8], max_headers: usize) -> Option<RequestHead> {
    let mut stack = [httparse::EMPTY_HEADER; STACK_HEADERS];
    let mut heap;
    let slots: &mut [httparse::Header<'_>] = if max_headers <= STACK_HEADERS {
        stack.get_mut(..max_headers)?
    } else {
        heap = vec![httparse::EMPTY_HEADER; max_headers];
        &mut heap
    };
    let mut req = httparse::Request::new(slots);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return None,
    }
    let mut out = RequestHead {
        method: req.method?.to_string(),
        target: req.path?.to_string(),
        version: if req.version? == 0 {
            "HTTP/1.0"
        } else {
            "HTTP/1.1"
        }
        .to_string(),
        ..Default::default()
    };
    out.headers.reserve_exact(req.headers.len());
    for h in req.headers.iter() {
        out.framing
            .add(h.name.as_bytes(), h.value, &mut out.anomalies);
        out.headers.push(Header {
            name: h.name.to_string(),
            value: h.value.trim_ascii().to_vec(),
        });
    }
    Some(out)
}

fn fast_response(head: &[u8], max_headers: usize) -> Option<ResponseHead> {
    let mut stack = [httparse::EMPTY_HEADER; STACK_HEADERS];
    let mut heap;
    let slots: &mut [httparse::Header<'_>] = if max_headers <= STACK_HEADERS {
        stack.get_mut(..max_headers)?
    } else {
        heap = vec![httparse::EMPTY_HEADER; max_headers];
        &mut heap
    };
    let mut resp = httparse::Response::new(slots);
    match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return None,
    }
    let mut out = ResponseHead {
        version: if resp.version? == 0 {
            "HTTP/1.0"
        } else {
            "HTTP/1.1"
        }
        .to_string(),
        status: resp.code?,
        reason: resp.reason.unwrap_or_default().to_string(),
        ..Default::default()
    };
    if !(100..=999).contains(&out.status) {
        return None;
    }
    out.headers.reserve_exact(resp.headers.len());
    for h in resp.headers.iter() {
        out.framing
            .add(h.name.as_bytes(), h.value, &mut out.anomalies);
        out.headers.push(Header {
            name: h.name.to_string(),
            value: h.value.trim_ascii().to_vec(),
        });
    }
    Some(out)
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The lines of a head, without their terminators, up to (not including) the first empty
/// line or the end.
fn head_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = head.strip_suffix(b"\n").unwrap_or(head);
    body.split(|&b| b == b'\n')
        .map(strip_cr)
        .take_while(|l| !l.is_empty())
}

fn tolerant_request(head: &[u8], max_headers: usize) -> Result<RequestHead, HeadError> {
    let mut lines = head_lines(head);
    let first = lines.next().unwrap_or_default();
    let rl = parse_request_line(first).ok_or(HeadError::InvalidRequestLine { len: first.len() })?;
    let mut out = RequestHead {
        method: String::from_utf8_lossy(rl.method).into_owned(),
        target: String::from_utf8_lossy(rl.target).into_owned(),
        version: String::from_utf8_lossy(rl.version).into_owned(),
        anomalies: rl.anomalies,
        ..Default::default()
    };
    parse_header_lines(
        lines,
        max_headers,
        &mut out.headers,
        &mut out.framing,
        &mut out.anomalies,
    );
    Ok(out)
}

fn tolerant_response(head: &[u8], max_headers: usize) -> Result<ResponseHead, HeadError> {
    let mut lines = head_lines(head);
    let first = lines.next().unwrap_or_default();
    let sl = parse_status_line(first).ok_or(HeadError::InvalidStatusLine { len: first.len() })?;
    let mut out = ResponseHead {
        version: String::from_utf8_lossy(sl.version).into_owned(),
        status: sl.status,
        reason: String::from_utf8_lossy(sl.reason).into_owned(),
        anomalies: sl.anomalies,
        ..Default::default()
    };
    parse_header_lines(
        lines,
        max_headers,
        &mut out.headers,
        &mut out.framing,
        &mut out.anomalies,
    );
    Ok(out)
}

/// Parses header lines tolerantly: obs-fold lines are joined, whitespace before the colon is
/// dropped, lines without a colon are skipped; each oddity is an anomaly. Every field feeds
/// `framing`; only the first `max_headers` are kept.
fn parse_header_lines<'a>(
    lines: impl Iterator<Item = &'a [u8]>,
    max_headers: usize,
    headers: &mut Vec<Header>,
    framing: &mut Framing,
    anomalies: &mut Vec<Anomaly>,
) {
    let mut pending: Option<(&[u8], Cow<'_, [u8]>)> = None;
    let mut flush = |p: Option<(&[u8], Cow<'_, [u8]>)>, anomalies: &mut Vec<Anomaly>| {
        if let Some((name, value)) = p {
            framing.add(name, &value, anomalies);
            if headers.len() < max_headers {
                headers.push(Header {
                    name: String::from_utf8_lossy(name).into_owned(),
                    value: value.into_owned(),
                });
            } else {
                push_anomaly(anomalies, Anomaly::TooManyHeaders);
            }
        }
    };
    for line in lines {
        if matches!(line.first(), Some(b' ' | b'\t')) {
            match pending.as_mut() {
                Some((_, value)) => {
                    push_anomaly(anomalies, Anomaly::ObsFold);
                    let more = line.trim_ascii();
                    if !more.is_empty() {
                        let v = value.to_mut();
                        if !v.is_empty() {
                            v.push(b' ');
                        }
                        v.extend_from_slice(more);
                    }
                }
                None => push_anomaly(anomalies, Anomaly::InvalidHeader),
            }
            continue;
        }
        flush(pending.take(), anomalies);
        match split_header_line(line, anomalies) {
            Some((name, value)) => pending = Some((name, Cow::Borrowed(value))),
            None => push_anomaly(anomalies, Anomaly::InvalidHeader),
        }
    }
    flush(pending.take(), anomalies);
}

/// `name: value` (name trimmed, anomalies for whitespace before the colon or a non-token name).
fn split_header_line<'a>(
    line: &'a [u8],
    anomalies: &mut Vec<Anomaly>,
) -> Option<(&'a [u8], &'a [u8])> {
    let colon = memchr::memchr(b':', line)?;
    let raw_name = line.get(..colon)?;
    let name = raw_name.trim_ascii_end();
    if name.len() != raw_name.len() {
        push_anomaly(anomalies, Anomaly::WhitespaceBeforeColon);
    }
    if name.is_empty() {
        return None;
    }
    if !name.iter().all(|&b| is_tchar(b)) {
        push_anomaly(anomalies, Anomaly::InvalidHeader);
    }
    Some((name, line.get(colon + 1..)?.trim_ascii()))
}

/// Parses one trailer/header line for the chunked trailer section.
pub fn parse_field_line(line: &[u8]) -> Option<Header> {
    let mut scratch = Vec::new();
    let (name, value) = split_header_line(line, &mut scratch)?;
    Some(Header {
        name: String::from_utf8_lossy(name).into_owned(),
        value: value.to_vec(),
    })
}

/// Longest method token accepted.
pub const MAX_METHOD_LEN: usize = 64;

/// RFC 9110 token characters.
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

struct RequestLine<'a> {
    method: &'a [u8],
    target: &'a [u8],
    version: &'a [u8],
    anomalies: Vec<Anomaly>,
}

/// `HTTP/` digits `.` digits, any case.
fn is_http_version(v: &[u8]) -> bool {
    let Some(rest) = v.get(5..) else { return false };
    if !v.get(..5).is_some_and(|p| p.eq_ignore_ascii_case(b"HTTP/")) {
        return false;
    }
    let mut parts = rest.split(|&b| b == b'.');
    let major = parts.next().unwrap_or_default();
    let minor = parts.next().unwrap_or_default();
    parts.next().is_none()
        && (1..=2).contains(&major.len())
        && (1..=2).contains(&minor.len())
        && major.iter().chain(minor).all(u8::is_ascii_digit)
}

/// Tolerant request line: method token, target (may contain spaces: anomaly), version last.
fn parse_request_line(line: &[u8]) -> Option<RequestLine<'_>> {
    let mut anomalies = Vec::new();
    let line_t = line.trim_ascii_end();
    if line_t.len() != line.len() {
        push_anomaly(&mut anomalies, Anomaly::InvalidRequestLine);
    }
    let m = line_t.iter().position(|&b| is_ws(b))?;
    let method = line_t.get(..m)?;
    if method.is_empty() || method.len() > MAX_METHOD_LEN || !method.iter().all(|&b| is_tchar(b)) {
        return None;
    }
    let v = line_t.iter().rposition(|&b| is_ws(b))?;
    let version = line_t.get(v + 1..)?;
    if !is_http_version(version) {
        return None;
    }
    let middle = line_t.get(m..=v)?;
    let target = middle.trim_ascii();
    if target.is_empty() {
        return None;
    }
    if middle.len() != target.len() + 2
        || line_t.get(m) != Some(&b' ')
        || line_t.get(v) != Some(&b' ')
    {
        push_anomaly(&mut anomalies, Anomaly::InvalidRequestLine);
    }
    if target.iter().any(|&b| b <= b' ' || b == 0x7f) {
        push_anomaly(&mut anomalies, Anomaly::InvalidRequestLine);
    }
    if version != b"HTTP/1.1" && version != b"HTTP/1.0" {
        push_anomaly(&mut anomalies, Anomaly::InvalidVersion);
    }
    Some(RequestLine {
        method,
        target,
        version,
        anomalies,
    })
}

struct StatusLine<'a> {
    version: &'a [u8],
    status: u16,
    reason: &'a [u8],
    anomalies: Vec<Anomaly>,
}

/// Tolerant status line: `HTTP/x.y`, whitespace, three digits, optional reason.
fn parse_status_line(line: &[u8]) -> Option<StatusLine<'_>> {
    let mut anomalies = Vec::new();
    let vend = line.iter().position(|&b| is_ws(b))?;
    let version = line.get(..vend)?;
    if !is_http_version(version) {
        return None;
    }
    let rest = line.get(vend..)?;
    let code_start = rest.iter().position(|&b| !is_ws(b))?;
    if code_start != 1 || rest.first() != Some(&b' ') {
        push_anomaly(&mut anomalies, Anomaly::InvalidStatusLine);
    }
    let rest = rest.get(code_start..)?;
    let digits = rest.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) || rest.get(3).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let status = digits
        .iter()
        .fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
    if status < 100 {
        return None;
    }
    let after = rest.get(3..).unwrap_or_default();
    if after.first().is_some_and(|&b| !is_ws(b)) {
        push_anomaly(&mut anomalies, Anomaly::InvalidStatusLine);
    }
    Some(StatusLine {
        version,
        status,
        reason: after.trim_ascii(),
        anomalies,
    })
}

/// The parts of a request target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub authority: Option<&'a str>,
}

fn split_query(s: &str) -> (&str, Option<&str>) {
    match s.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (s, None),
    }
}

/// Splits a request target: origin-form (`/p?q`), absolute-form (`http://host/p?q` → path
/// `/p`, authority `host`), authority-form (CONNECT `host:port`), asterisk-form (`*`).
pub fn split_target<'a>(method: &str, target: &'a str) -> Target<'a> {
    if target.starts_with('/') || target == "*" {
        let (path, query) = split_query(target);
        return Target {
            path,
            query,
            authority: None,
        };
    }
    if method.eq_ignore_ascii_case("CONNECT") {
        return Target {
            path: target,
            query: None,
            authority: Some(target),
        };
    }
    if let Some((scheme, rest)) = target.split_once("://") {
        let scheme_ok = !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.');
        if scheme_ok {
            let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(auth_end);
            let (path, query) = split_query(tail);
            let path = if path.is_empty() { "/" } else { path };
            let authority = if authority.is_empty() {
                None
            } else {
                Some(authority)
            };
            return Target {
                path,
                query,
                authority,
            };
        }
    }
    let (path, query) = split_query(target);
    Target {
        path,
        query,
        authority: None,
    }
}

/// Parses a chunk-size line (terminator removed): optional whitespace, hex digits, optional
/// whitespace, optional `;extensions`. None when invalid or absurdly large.
pub fn parse_chunk_size(line: &[u8]) -> Option<u64> {
    let line = line.trim_ascii_start();
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return None;
    }
    let hex = line.get(..digits)?;
    let significant = hex.iter().skip_while(|&&b| b == b'0').count();
    if significant > 15 {
        return None;
    }
    let n = hex.iter().fold(0u64, |n, &b| {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => b.wrapping_sub(b'A').wrapping_add(10),
        };
        (n << 4) | u64::from(d & 0x0f)
    });
    let rest = line.get(digits..)?.trim_ascii_start();
    if rest.is_empty() || rest.first() == Some(&b';') {
        Some(n)
    } else {
        None
    }
}

/// A three-way answer for "does this look like ...".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Looks {
    Yes,
    No,
    NeedMore,
}

const COMMON_METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"PUT",
    b"DELETE",
    b"HEAD",
    b"OPTIONS",
    b"PATCH",
    b"CONNECT",
    b"TRACE",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"REPORT",
    b"SEARCH",
    b"PURGE",
];

/// Whether `buf`, at a line start, begins a request line `TOKEN SP target SP HTTP/d.d EOL`.
/// `strict` (resync inside arbitrary bytes) wants an upper-case method and a target starting
/// with `/`, `*` or a letter; otherwise (first bytes of a stream) a common method followed by a
/// space is enough. NeedMore is bounded: a line longer than `max_line` is No.
pub fn looks_like_request_line(buf: &[u8], strict: bool, max_line: usize) -> Looks {
    let method_ok = |b: u8| {
        if strict {
            b.is_ascii_uppercase() || b == b'-' || b == b'_'
        } else {
            is_tchar(b)
        }
    };
    let m = buf.iter().take_while(|&&b| method_ok(b)).count();
    let Some(&sep) = buf.get(m) else {
        return if m <= MAX_METHOD_LEN {
            Looks::NeedMore
        } else {
            Looks::No
        };
    };
    if m == 0 || m > MAX_METHOD_LEN || sep != b' ' {
        return Looks::No;
    }
    let method = buf.get(..m).unwrap_or_default();
    if !strict && COMMON_METHODS.contains(&method) {
        return Looks::Yes;
    }
    let rest = buf.get(m + 1..).unwrap_or_default();
    let t = rest
        .iter()
        .take_while(|&&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .count();
    let Some(&after) = rest.get(t) else {
        return if buf.len() < max_line {
            Looks::NeedMore
        } else {
            Looks::No
        };
    };
    if t == 0
        || after != b' '
        || rest
            .get(..t)
            .is_some_and(|tg| tg.iter().any(|&b| b < 0x21 || b == 0x7f))
    {
        return Looks::No;
    }
    if strict
        && !rest
            .first()
            .is_some_and(|&b| b == b'/' || b == b'*' || b.is_ascii_alphanumeric())
    {
        return Looks::No;
    }
    let ver = rest.get(t + 1..).unwrap_or_default();
    let want: &[u8] = b"HTTP/1.1\n";
    for (i, &w) in want.iter().enumerate() {
        let Some(&b) = ver.get(i) else {
            return Looks::NeedMore;
        };
        let ok = match i {
            0..=4 => b.eq_ignore_ascii_case(&w),
            5 | 7 => b.is_ascii_digit(),
            6 => b == b'.',
            _ => b == b'\n' || b == b'\r',
        };
        if !ok {
            return Looks::No;
        }
    }
    Looks::Yes
}

/// Where a request starts in one complete `line` (terminator included) seen while
/// resynchronising: at 0 when the line starts a line (`at_line_start`) and is a request line,
/// or embedded after bytes that cannot end a method (`{"a":1}GET /x HTTP/1.1`). The method is
/// then the run of upper-case letters, `-` and `_` before the target (at most
/// [`MAX_METHOD_LEN`]); a run reaching the line's start counts only at a line start.
pub fn find_request_start(line: &[u8], at_line_start: bool, max_line: usize) -> Option<usize> {
    if at_line_start && looks_like_request_line(line, true, max_line) == Looks::Yes {
        return Some(0);
    }
    let method_byte = |b: u8| b.is_ascii_uppercase() || b == b'-' || b == b'_';
    for a in memchr::memmem::find_iter(line, b" HTTP/1.") {
        let mut t = a;
        while t > 0 && line.get(t - 1).is_some_and(|&b| b > b' ' && b != 0x7f) {
            t -= 1;
        }
        if t == a || t < 2 || line.get(t - 1) != Some(&b' ') {
            continue;
        }
        let method_end = t - 1;
        let mut m = method_end;
        while m > 0
            && method_end - m < MAX_METHOD_LEN
            && line.get(m - 1).is_some_and(|&b| method_byte(b))
        {
            m -= 1;
        }
        if m == method_end || (m == 0 && !at_line_start) {
            continue;
        }
        if looks_like_request_line(line.get(m..).unwrap_or_default(), true, max_line) == Looks::Yes
        {
            return Some(m);
        }
    }
    None
}

/// Whether `buf`, at a line start, begins a status line. Strict (resync): `HTTP/1.d NNN` and a
/// space or line end; otherwise a case-insensitive `HTTP/` is enough.
pub fn looks_like_status_line(buf: &[u8], strict: bool) -> Looks {
    let want: &[u8] = if strict { b"HTTP/1.x NNN " } else { b"HTTP/" };
    for (i, &w) in want.iter().enumerate() {
        let Some(&b) = buf.get(i) else {
            return Looks::NeedMore;
        };
        let ok = match w {
            // Status codes are 100..=999, as parse_status_line wants.
            b'N' if i == 9 => (b'1'..=b'9').contains(&b),
            b'x' | b'N' => b.is_ascii_digit(),
            b' ' if i == 12 => matches!(b, b' ' | b'\r' | b'\n'),
            _ if strict => b == w,
            _ => b.eq_ignore_ascii_case(&w),
        };
        if !ok {
            return Looks::No;
        }
    }
    Looks::Yes
}

/// What the first bytes of a direction are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeClass {
    Request,
    Response,
    NotHttp,
    NeedMore,
}

const PROXY_V2_SIG: &[u8] = b"\r\n\r\n\0\r\nQUIT\n";

/// A PROXY protocol header (v1 text or v2 binary) at the start of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyHeader {
    /// None there.
    Absent,
    /// Skip this many bytes.
    Present(usize),
    /// Maybe: need more bytes.
    NeedMore,
}

/// Looks for a PROXY protocol header at the start of `buf` (load balancers put one before the
/// first request).
pub fn proxy_header_len(buf: &[u8]) -> ProxyHeader {
    let v1 = b"PROXY ";
    let n = buf.len().min(v1.len());
    if n > 0 && buf.get(..n) == v1.get(..n) {
        if buf.len() < v1.len() {
            return ProxyHeader::NeedMore;
        }
        return match memchr::memchr(b'\n', buf.get(..buf.len().min(108)).unwrap_or_default()) {
            Some(i) => ProxyHeader::Present(i + 1),
            None if buf.len() < 108 => ProxyHeader::NeedMore,
            None => ProxyHeader::Absent,
        };
    }
    let n = buf.len().min(PROXY_V2_SIG.len());
    if n > 0 && buf.get(..n) == PROXY_V2_SIG.get(..n) {
        let (Some(&hi), Some(&lo)) = (buf.get(14), buf.get(15)) else {
            return ProxyHeader::NeedMore;
        };
        let total = 16 + usize::from(u16::from_be_bytes([hi, lo]));
        return if buf.len() >= total {
            ProxyHeader::Present(total)
        } else {
            ProxyHeader::NeedMore
        };
    }
    ProxyHeader::Absent
}

/// Classifies the first bytes of a direction (after leading empty lines, see [`skip_empty_lines`],
/// and any PROXY header, see [`proxy_header_len`]). `max_line` bounds the wait.
pub fn probe(buf: &[u8], max_line: usize) -> ProbeClass {
    if buf.is_empty() {
        return ProbeClass::NeedMore;
    }
    let r = looks_like_request_line(buf, false, max_line);
    if r == Looks::Yes {
        // HTTP/2 with prior knowledge is not HTTP/1.x.
        if buf.starts_with(b"PRI * HTTP/2") {
            return ProbeClass::NotHttp;
        }
        return ProbeClass::Request;
    }
    let s = looks_like_status_line(buf, false);
    match (r, s) {
        (_, Looks::Yes) => ProbeClass::Response,
        (Looks::No, Looks::No) => ProbeClass::NotHttp,
        _ if buf.len() >= max_line => ProbeClass::NotHttp,
        _ => ProbeClass::NeedMore,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const MAXB: usize = 65536;
    const MAXH: usize = 128;

    fn req(buf: &[u8]) -> (RequestHead, usize) {
        match parse_request_head(buf, MAXB, MAXH) {
            Ok(Some(x)) => x,
            other => panic!("{other:?}"),
        }
    }

    fn resp(buf: &[u8]) -> (ResponseHead, usize) {
        match parse_response_head(buf, MAXB, MAXH) {
            Ok(Some(x)) => x,
            other => panic!("{other:?}"),
        }
    }

    fn hv<'a>(h: &'a [Header], name: &str) -> Option<&'a [u8]> {
        h.iter()
            .find(|x| x.name.eq_ignore_ascii_case(name))
            .map(|x| x.value.as_slice())
    }

    #[test]
    fn simple_get() {
        let b = b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\nNEXT";
        let (h, n) = req(b);
        assert_eq!(n, b.len() - 4);
        assert_eq!(h.method, "GET");
        assert_eq!(h.target, "/a?b=1");
        assert_eq!(h.version, "HTTP/1.1");
        assert_eq!(h.headers.len(), 2);
        assert_eq!(hv(&h.headers, "host"), Some(&b"x"[..]));
        assert!(h.anomalies.is_empty(), "{:?}", h.anomalies);
    }

    #[test]
    fn every_truncation_of_a_valid_head_needs_more() {
        let heads: &[&[u8]] = &[
            b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n",
            b"POST /x HTTP/1.0\nContent-Length: 3\n\n",
            b"\r\nPROPFIND /dav HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
        ];
        for head in heads {
            for cut in 0..head.len() {
                assert_eq!(
                    parse_request_head(&head[..cut], MAXB, MAXH),
                    Ok(None),
                    "cut {cut} of {head:?}"
                );
            }
            assert!(
                matches!(parse_request_head(head, MAXB, MAXH), Ok(Some((_, n))) if n == head.len())
            );
        }
        let rheads: &[&[u8]] = &[
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            b"HTTP/1.0 404\nServer: x\n\n",
            b"http/1.1  500   Oops  \r\nX : y\r\n\r\n",
        ];
        for head in rheads {
            for cut in 0..head.len() {
                assert_eq!(
                    parse_response_head(&head[..cut], MAXB, MAXH),
                    Ok(None),
                    "cut {cut} of {head:?}"
                );
            }
            assert!(
                matches!(parse_response_head(head, MAXB, MAXH), Ok(Some((_, n))) if n == head.len())
            );
        }
    }

    #[test]
    fn scan_resumes_at_line_start() {
        let b = b"GET / HTTP/1.1\r\nHost: a\r\n";
        assert_eq!(
            scan_head_end(b, 0, MAXB),
            Ok(HeadScan::Incomplete { resume: b.len() })
        );
        let b2 = b"GET / HTTP/1.1\r\nHost: a\r\n\r";
        assert_eq!(
            scan_head_end(b2, 25, MAXB),
            Ok(HeadScan::Incomplete { resume: 25 })
        );
        let b3 = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        assert_eq!(
            scan_head_end(b3, 25, MAXB),
            Ok(HeadScan::Complete { len: 27 })
        );
        assert_eq!(
            scan_head_end(b"GET / HTTP/1.1\r\n", 0, 10),
            Err(HeadError::TooLong { limit: 10 })
        );
        assert_eq!(
            scan_head_end(b"GET / HTT", 0, 9),
            Err(HeadError::TooLong { limit: 9 })
        );
        assert_eq!(
            scan_head_end(b"GET / HT", 0, 9),
            Ok(HeadScan::Incomplete { resume: 0 })
        );
    }

    #[test]
    fn head_too_long_is_an_error() {
        let mut b = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..100 {
            b.extend_from_slice(format!("X-{i}: aaaaaaaaaa\r\n").as_bytes());
        }
        assert_eq!(
            parse_request_head(&b, 256, MAXH),
            Err(HeadError::TooLong { limit: 256 })
        );
    }

    #[test]
    fn too_many_headers_keeps_first_and_framing_sees_all() {
        let mut b = b"POST / HTTP/1.1\r\nHost: a\r\n".to_vec();
        for i in 0..10 {
            b.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        b.extend_from_slice(b"Content-Length: 5\r\n\r\n");
        let (h, _) = parse_request_head(&b, MAXB, 4)
            .ok()
            .flatten()
            .unwrap_or_default();
        assert_eq!(h.headers.len(), 4);
        assert_eq!(h.framing.content_length, Some(5));
        assert!(h.anomalies.contains(&Anomaly::TooManyHeaders));
        let (h, _) = parse_request_head(&b, MAXB, 0)
            .ok()
            .flatten()
            .unwrap_or_default();
        assert!(h.headers.is_empty());
        assert_eq!(h.framing.content_length, Some(5));
        let (h, _) = parse_request_head(&b, MAXB, 500)
            .ok()
            .flatten()
            .unwrap_or_default();
        assert_eq!(h.headers.len(), 12);
        assert!(h.anomalies.is_empty());
    }

    #[test]
    fn leading_empty_lines_are_skipped() {
        let b = b"\r\n\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let (h, n) = req(b);
        assert_eq!(n, b.len());
        assert_eq!(h.method, "GET");
        assert!(!h.anomalies.contains(&Anomaly::BareLf));
        assert_eq!(parse_request_head(b"\r\n\r\n", MAXB, MAXH), Ok(None));
    }

    #[test]
    fn bare_lf_tolerated_and_flagged() {
        let (h, n) = req(b"GET / HTTP/1.1\nHost: a\n\n");
        assert_eq!(n, 24);
        assert_eq!(hv(&h.headers, "Host"), Some(&b"a"[..]));
        assert_eq!(h.anomalies, vec![Anomaly::BareLf]);
        let (r, _) = resp(b"HTTP/1.1 200 OK\r\nA: b\n\r\n");
        assert_eq!(r.anomalies, vec![Anomaly::BareLf]);
    }

    #[test]
    fn odd_header_case_and_any_method() {
        let (h, _) = req(b"MKCALENDAR /cal HTTP/1.1\r\nhOsT: A\r\ncontent-LENGTH: 3\r\n\r\n");
        assert_eq!(h.method, "MKCALENDAR");
        assert_eq!(h.headers[0].name, "hOsT");
        assert_eq!(h.framing.content_length, Some(3));
        let (h, _) = req(b"X-CUSTOM.v2 /x HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(h.method, "X-CUSTOM.v2");
    }

    #[test]
    fn obs_fold_and_space_before_colon() {
        let (h, _) = req(b"GET / HTTP/1.1\r\nHost : a\r\nX-Long: one\r\n  two\r\n\tthree\r\n\r\n");
        assert_eq!(hv(&h.headers, "host"), Some(&b"a"[..]));
        assert_eq!(hv(&h.headers, "x-long"), Some(&b"one two three"[..]));
        assert_eq!(
            h.anomalies,
            vec![Anomaly::WhitespaceBeforeColon, Anomaly::ObsFold]
        );
        // A fold hiding Transfer-Encoding still counts for framing.
        let (h, _) = req(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n");
        assert!(h.framing.chunked);
        let (r, _) = resp(b"HTTP/1.1 200 OK\r\nServer : x\r\nX: a\r\n b\r\n\r\n");
        assert_eq!(
            r.anomalies,
            vec![Anomaly::WhitespaceBeforeColon, Anomaly::ObsFold]
        );
    }

    #[test]
    fn invalid_header_lines_are_skipped() {
        let (h, _) = req(b"GET / HTTP/1.1\r\nHost: a\r\nthis is junk\r\n: empty\r\nB@d: v\r\n\r\n");
        assert_eq!(h.headers.len(), 2);
        assert_eq!(h.headers[1].name, "B@d");
        assert_eq!(h.anomalies, vec![Anomaly::InvalidHeader]);
        let (h, _) = req(b"GET / HTTP/1.1\r\n folded-first: x\r\nHost: a\r\n\r\n");
        assert_eq!(h.headers.len(), 1);
        assert_eq!(h.anomalies, vec![Anomaly::InvalidHeader]);
    }

    #[test]
    fn content_length_rules() {
        let (h, _) =
            req(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n");
        assert_eq!(h.framing.content_length, Some(5));
        assert_eq!(h.anomalies, vec![Anomaly::DuplicateContentLength]);
        let (h, _) = req(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n");
        assert_eq!(h.anomalies, vec![Anomaly::DuplicateContentLength]);
        let (h, _) =
            req(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
        assert_eq!(h.framing.content_length, Some(5));
        assert_eq!(h.anomalies, vec![Anomaly::ConflictingContentLength]);
        let (h, _) = req(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5x\r\n\r\n");
        assert_eq!(h.framing.content_length, None);
        assert!(h.framing.cl_present);
        assert_eq!(h.anomalies, vec![Anomaly::InvalidContentLength]);
        let (h, _) = req(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n");
        assert_eq!(h.anomalies, vec![Anomaly::InvalidContentLength]);
        let (h, _) =
            req(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n");
        assert_eq!(h.anomalies, vec![Anomaly::InvalidContentLength]);
        let (h, _) = req(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  7 \r\n\r\n");
        assert_eq!(h.framing.content_length, Some(7));
        assert!(h.anomalies.is_empty());
    }

    #[test]
    fn transfer_encoding_rules() {
        let (h, _) =
            req(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert!(h.framing.chunked);
        assert_eq!(h.anomalies, vec![Anomaly::ClAndTe]);
        let (h, _) = req(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n");
        assert!(h.framing.chunked);
        assert_eq!(h.anomalies, vec![Anomaly::InvalidTransferEncoding]);
        let (h, _) = req(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
        assert!(h.framing.chunked);
        assert_eq!(h.anomalies, vec![Anomaly::InvalidTransferEncoding]);
        let (h, _) = req(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n");
        assert!(!h.framing.chunked);
        assert!(h.framing.te_present);
        assert_eq!(h.anomalies, vec![Anomaly::InvalidTransferEncoding]);
    }

    #[test]
    fn request_line_tolerance() {
        let (h, _) = req(b"GET  /a b  HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(h.target, "/a b");
        assert_eq!(h.anomalies, vec![Anomaly::InvalidRequestLine]);
        let (h, _) = req(b"GET / http/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(h.version, "http/1.1");
        assert_eq!(h.anomalies, vec![Anomaly::InvalidVersion]);
        let (h, _) = req(b"GET / HTTP/1.2\r\nHost: a\r\n\r\n");
        assert_eq!(h.anomalies, vec![Anomaly::InvalidVersion]);
        let (h, _) = req(b"GET /\xff\xfe HTTP/1.0\r\n\r\n");
        assert_eq!(h.version, "HTTP/1.0");
        assert!(h.anomalies.is_empty(), "{:?}", h.anomalies);
        let (h, _) = req(b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(h.anomalies, vec![Anomaly::MissingHost]);
        for bad in [
            &b"GET /\r\n\r\n"[..],
            b"\x16\x03\x01 / HTTP/1.1\r\n\r\n",
            b"GET / FTP/1.0\r\n\r\n",
            b"GET  HTTP/1.1\r\n\r\n",
        ] {
            assert!(
                matches!(
                    parse_request_head(bad, MAXB, MAXH),
                    Err(HeadError::InvalidRequestLine { .. })
                ),
                "{bad:?}"
            );
        }
        // Garbage is rejected as soon as its first line shows it.
        assert!(parse_request_head(b"\x16\x03\x01\x02\x00", MAXB, MAXH).is_err());
        assert!(parse_request_head(b"hello world\r\nmore", MAXB, MAXH).is_err());
    }

    #[test]
    fn status_line_tolerance() {
        let (r, _) = resp(b"HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(
            (r.status, r.reason.as_str(), r.version.as_str()),
            (200, "OK", "HTTP/1.1")
        );
        assert!(r.anomalies.is_empty());
        let (r, _) = resp(b"HTTP/1.1 204\r\n\r\n");
        assert_eq!((r.status, r.reason.as_str()), (204, ""));
        let (r, _) = resp(b"HTTP/1.0  404  Not Found\r\n\r\n");
        assert_eq!((r.status, r.reason.as_str()), (404, "Not Found"));
        assert_eq!(r.anomalies, vec![Anomaly::InvalidStatusLine]);
        let (r, _) = resp(b"HTTP/1.1 200OK\r\n\r\n");
        assert_eq!((r.status, r.reason.as_str()), (200, "OK"));
        for bad in [
            &b"HTTP/1.1 2000 OK\r\n\r\n"[..],
            b"HTTP/1.1 OK\r\n\r\n",
            b"HTTX/1.1 200 OK\r\n\r\n",
            b"HTTP/1.1 099 x\r\n\r\n",
        ] {
            assert!(
                matches!(
                    parse_response_head(bad, MAXB, MAXH),
                    Err(HeadError::InvalidStatusLine { .. })
                ),
                "{bad:?}"
            );
        }
        assert!(parse_response_head(b"<html>", MAXB, MAXH).is_err());
    }

    #[test]
    fn targets() {
        let t = split_target("GET", "http://Example.com:8080/p/q?x=1&y");
        assert_eq!(
            t,
            Target {
                path: "/p/q",
                query: Some("x=1&y"),
                authority: Some("Example.com:8080")
            }
        );
        let t = split_target("GET", "https://h?q");
        assert_eq!(
            t,
            Target {
                path: "/",
                query: Some("q"),
                authority: Some("h")
            }
        );
        let t = split_target("CONNECT", "example.com:443");
        assert_eq!(
            t,
            Target {
                path: "example.com:443",
                query: None,
                authority: Some("example.com:443")
            }
        );
        assert_eq!(
            split_target("OPTIONS", "*"),
            Target {
                path: "*",
                query: None,
                authority: None
            }
        );
        assert_eq!(
            split_target("GET", "/a?"),
            Target {
                path: "/a",
                query: Some(""),
                authority: None
            }
        );
        assert_eq!(
            split_target("GET", "index.html"),
            Target {
                path: "index.html",
                query: None,
                authority: None
            }
        );
    }

    #[test]
    fn absolute_form_host_mismatch() {
        let (h, _) = req(b"GET http://a.com/x HTTP/1.1\r\nHost: b.com\r\n\r\n");
        assert_eq!(h.anomalies, vec![Anomaly::AmbiguousHost]);
        let (h, _) = req(b"GET http://a.com/x HTTP/1.1\r\nHost: A.com\r\n\r\n");
        assert!(h.anomalies.is_empty());
        let (h, _) = req(b"GET http://a.com:80/x HTTP/1.1\r\nHost: a.com\r\n\r\n");
        assert!(h.anomalies.is_empty());
        let (h, _) = req(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
        assert_eq!(h.anomalies, vec![Anomaly::AmbiguousHost]);
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(parse_chunk_size(b"1a"), Some(26));
        assert_eq!(parse_chunk_size(b"1A;name=val"), Some(26));
        assert_eq!(parse_chunk_size(b"  0 ; x"), Some(0));
        assert_eq!(parse_chunk_size(b"0000000000000000000010"), Some(16));
        assert_eq!(
            parse_chunk_size(b"fffffffffffffff"),
            Some(0x0fff_ffff_ffff_ffff)
        );
        assert_eq!(parse_chunk_size(b"1000000000000000"), None);
        assert_eq!(parse_chunk_size(b""), None);
        assert_eq!(parse_chunk_size(b"zz"), None);
        assert_eq!(parse_chunk_size(b"5 x"), None);
        assert_eq!(parse_chunk_size(b"0x5"), None);
        assert_eq!(parse_chunk_size(b"-5"), None);
    }

    #[test]
    fn field_lines() {
        assert_eq!(
            parse_field_line(b"X-T: v "),
            Some(Header {
                name: "X-T".into(),
                value: b"v".to_vec()
            })
        );
        assert_eq!(parse_field_line(b"junk"), None);
    }

    #[test]
    fn probing() {
        assert_eq!(probe(b"GET ", 100), ProbeClass::Request);
        assert_eq!(probe(b"GE", 100), ProbeClass::NeedMore);
        assert_eq!(probe(b"FOO /x HTTP/1.1\r\n", 100), ProbeClass::Request);
        assert_eq!(probe(b"FOO /x HTTP/1", 100), ProbeClass::NeedMore);
        assert_eq!(probe(b"FOO /x", 6), ProbeClass::NotHttp);
        assert_eq!(probe(b"HTTP/1.1 200 OK\r\n", 100), ProbeClass::Response);
        assert_eq!(probe(b"HT", 100), ProbeClass::NeedMore);
        assert_eq!(probe(b"H", 100), ProbeClass::NeedMore);
        assert_eq!(probe(b"\x16\x03\x01\x00\xa5\x01", 100), ProbeClass::NotHttp);
        assert_eq!(probe(b"SSH-2.0-OpenSSH_9.6\r\n", 100), ProbeClass::NotHttp);
        assert_eq!(probe(b"220 mail ESMTP\r\n", 100), ProbeClass::NotHttp);
        assert_eq!(
            probe(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 100),
            ProbeClass::NotHttp
        );
        assert_eq!(probe(b"", 100), ProbeClass::NeedMore);
    }

    #[test]
    fn proxy_protocol() {
        assert_eq!(proxy_header_len(b"GET / HTTP/1.1"), ProxyHeader::Absent);
        assert_eq!(proxy_header_len(b"PROX"), ProxyHeader::NeedMore);
        assert_eq!(
            proxy_header_len(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET"),
            ProxyHeader::Present(32)
        );
        let mut v2 = PROXY_V2_SIG.to_vec();
        v2.extend_from_slice(&[0x21, 0x11, 0, 12]);
        assert_eq!(proxy_header_len(&v2), ProxyHeader::NeedMore);
        v2.extend_from_slice(&[0; 12]);
        assert_eq!(proxy_header_len(&v2), ProxyHeader::Present(28));
        assert_eq!(proxy_header_len(b"\r\n\r\n\0"), ProxyHeader::NeedMore);
    }

    #[test]
    fn embedded_request_starts() {
        let f = |l: &[u8], at| find_request_start(l, at, 1000);
        assert_eq!(f(b"GET /x HTTP/1.1\r\n", true), Some(0));
        assert_eq!(f(b"GET /x HTTP/1.1\r\n", false), None);
        assert_eq!(f(b"{\"a\":1}GET /x HTTP/1.1\r\n", false), Some(7));
        assert_eq!(f(b"\x00\x01POST /api?q=1 HTTP/1.0\n", false), Some(2));
        assert_eq!(f(b"see GET /x HTTP/1.1 in the docs\n", true), None);
        assert_eq!(f(b"abc /x HTTP/1.1\r\n", true), None);
        assert_eq!(f(b"}M-SEARCH * HTTP/1.1\r\n", false), Some(1));
        assert_eq!(f(b"x GET /a HTTP/1.1\r\n", false), Some(2));
    }

    #[test]
    fn resync_line_checks() {
        assert_eq!(
            looks_like_request_line(b"GET /x HTTP/1.1\r\n", true, 100),
            Looks::Yes
        );
        assert_eq!(
            looks_like_request_line(b"GET /x HTTP/1.1", true, 100),
            Looks::NeedMore
        );
        assert_eq!(
            looks_like_request_line(b"get /x HTTP/1.1\r\n", true, 100),
            Looks::No
        );
        assert_eq!(
            looks_like_request_line(b"GET x\x00 HTTP/1.1\r\n", true, 100),
            Looks::No
        );
        assert_eq!(
            looks_like_request_line(b"M-SEARCH * HTTP/1.1\r\n", true, 100),
            Looks::Yes
        );
        assert_eq!(
            looks_like_request_line(b"GET /aaaaaaaa", true, 10),
            Looks::No
        );
        assert_eq!(looks_like_status_line(b"HTTP/1.1 200 OK", true), Looks::Yes);
        assert_eq!(
            looks_like_status_line(b"HTTP/1.1 200\r\n", true),
            Looks::Yes
        );
        assert_eq!(
            looks_like_status_line(b"HTTP/1.1 20", true),
            Looks::NeedMore
        );
        assert_eq!(looks_like_status_line(b"http/1.1 200 OK", true), Looks::No);
        assert_eq!(looks_like_status_line(b"HTTP/1.1 2000", true), Looks::No);
    }

    #[test]
    fn error_display() {
        assert_eq!(
            HeadError::TooLong { limit: 5 }.to_string(),
            "message head longer than 5 bytes"
        );
        assert_eq!(
            HeadError::InvalidRequestLine { len: 3 }.to_string(),
            "invalid request line (3 bytes)"
        );
        assert_eq!(
            HeadError::InvalidStatusLine { len: 3 }.to_string(),
            "invalid status line (3 bytes)"
        );
    }
}
