//! Stage 5 (http, per TCP stream): the values this module hands to the rest of apitap.
//!
//! A [`Transaction`] is one request and its response (either may be missing), with the
//! anomalies seen while parsing them. Everything here is plain owned data: once a
//! transaction leaves [`crate::http::HttpFlow::drain_ready`] nothing refers back into the
//! parser. Guarantees: `Body::data` never holds more than the configured
//! `body_inspect_bytes`; `Transaction::anomalies` holds each anomaly at most once, in order
//! of detection; `tx_id`s are 0, 1, 2... in request order within a flow.

use serde::Serialize;

/// A piece of one direction's reassembled byte stream, from the TCP reassembler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// In-order bytes.
    Data(&'a [u8]),
    /// This many bytes were lost.
    Gap(u64),
}

/// The direction of a TCP stream, as the reassembler sees it (client = the SYN sender).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    ToServer,
    ToClient,
}

impl Dir {
    /// The other direction.
    pub fn opposite(self) -> Dir {
        match self {
            Dir::ToServer => Dir::ToClient,
            Dir::ToClient => Dir::ToServer,
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Dir::ToServer => 0,
            Dir::ToClient => 1,
        }
    }
}

/// One header field as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// The name as sent (case preserved, invalid UTF-8 replaced).
    pub name: String,
    /// The raw value, leading and trailing whitespace removed (obs-fold lines joined by one space).
    pub value: Vec<u8>,
}

/// A message body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Body {
    /// Length after de-chunking, before decompression (bytes lost in a gap inside a
    /// Content-Length body are counted: they were on the wire).
    pub wire_bytes: u64,
    /// Decoded (decompressed when gzip/deflate/br) bytes kept, at most `body_inspect_bytes`.
    pub data: Vec<u8>,
    /// `data` is not the whole decoded body (cap, gap, decode error, truncation).
    pub truncated: bool,
    /// Content-Encoding as sent, lower-cased.
    pub encoding: Option<String>,
}

/// A parsed request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The raw request-target.
    pub target: String,
    /// Raw path without the query. For absolute-form the path part (`/` when empty), for
    /// authority-form (CONNECT) the target itself, for asterisk-form `*`.
    pub path: String,
    /// Raw query without `?`.
    pub query: Option<String>,
    /// From an absolute-form or CONNECT (authority-form) target.
    pub authority: Option<String>,
    /// As sent, e.g. `HTTP/1.1`.
    pub version: String,
    pub headers: Vec<Header>,
    pub body: Body,
    /// Chunked trailer fields (addition to the interface).
    pub trailers: Vec<Header>,
}

/// A parsed response (the final one; 1xx statuses are in [`Transaction::informational`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub version: String,
    pub headers: Vec<Header>,
    pub body: Body,
    /// Chunked trailer fields (addition to the interface).
    pub trailers: Vec<Header>,
}

fn find_header<'a>(headers: &'a [Header], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_slice())
}

/// Media type without parameters, lower-cased.
fn media_type(value: &[u8]) -> Option<String> {
    let end = memchr::memchr(b';', value).unwrap_or(value.len());
    let mt = value.get(..end)?.trim_ascii();
    if mt.is_empty() {
        return None;
    }
    Some(String::from_utf8_lossy(mt).to_ascii_lowercase())
}

/// Lower-cases a host (or authority), drops user info, and strips the port when it is 80 or 443.
pub(crate) fn normalize_host(raw: &[u8]) -> Option<String> {
    let raw = raw.trim_ascii();
    let raw = match memchr::memrchr(b'@', raw) {
        Some(at) => raw.get(at + 1..).unwrap_or_default(),
        None => raw,
    };
    if raw.is_empty() {
        return None;
    }
    let mut host = String::from_utf8_lossy(raw).to_ascii_lowercase();
    // Port: after the last ':' unless that ':' is inside an IPv6 literal.
    let port_sep = match host.rfind(':') {
        Some(i)
            if !host[i..].contains(']')
                && (host.starts_with('[') || host[..i].find(':').is_none()) =>
        {
            Some(i)
        }
        _ => None,
    };
    if let Some(i) = port_sep {
        let port = &host[i + 1..];
        if port.is_empty() || port == "80" || port == "443" {
            host.truncate(i);
        }
    }
    if host.is_empty() {
        None
    } else {
        Some(host)
    }
}

impl Request {
    /// First header with that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        find_header(&self.headers, name)
    }

    /// Content-Type media type without parameters, lower-cased.
    pub fn content_type(&self) -> Option<String> {
        self.header("content-type").and_then(media_type)
    }

    /// The host the request was for (addition to the interface): the absolute-form or CONNECT
    /// authority, else the Host header; lower-cased, user info dropped, port stripped when 80/443.
    pub fn host(&self) -> Option<String> {
        if let Some(a) = &self.authority {
            if let Some(h) = normalize_host(a.as_bytes()) {
                return Some(h);
            }
        }
        self.header("host").and_then(normalize_host)
    }
}

impl Response {
    /// First header with that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        find_header(&self.headers, name)
    }

    /// Content-Type media type without parameters, lower-cased.
    pub fn content_type(&self) -> Option<String> {
        self.header("content-type").and_then(media_type)
    }
}

/// One request/response exchange.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transaction {
    /// 0, 1, 2... in request order within the flow.
    pub tx_id: u64,
    /// None: a response seen without its request (mid-stream pick-up).
    pub request: Option<Request>,
    pub response: Option<Response>,
    /// Packet time (µs) of the first request byte.
    pub request_ts: Option<u64>,
    /// Packet time (µs) of the first byte of the final (non-1xx) response; of the first 1xx
    /// byte when no final response was seen.
    pub response_ts: Option<u64>,
    /// 1xx statuses seen before the final response (at most 16 kept).
    pub informational: Vec<u16>,
    /// "websocket", "h2c", "connect", or the Upgrade token: HTTP/1 parsing stopped after it.
    pub upgrade: Option<String>,
    /// False when a gap, a truncation, an over-long head or lost sync cut the transaction.
    pub complete: bool,
    /// In order of detection, no duplicates.
    pub anomalies: Vec<Anomaly>,
}

impl Transaction {
    /// Records an anomaly once.
    pub fn add_anomaly(&mut self, a: Anomaly) {
        push_anomaly(&mut self.anomalies, a);
    }
}

/// Appends `a` unless already present (anomaly lists are tiny: a linear scan is cheapest).
pub(crate) fn push_anomaly(list: &mut Vec<Anomaly>, a: Anomaly) {
    if !list.contains(&a) {
        list.push(a);
    }
}

/// Something odd about a transaction. Parsing continues after every one of them.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Anomaly {
    /// Bytes of this transaction were lost in the capture.
    Gap,
    /// The stream ended (FIN/RST or flow end) before the message did, or no response came.
    Truncated,
    /// Both Content-Length and Transfer-Encoding (chunked wins): a smuggling signal.
    ClAndTe,
    /// Content-Length repeated with the same value.
    DuplicateContentLength,
    /// Content-Length repeated with different values (the first is used).
    ConflictingContentLength,
    /// Content-Length not a decimal number.
    InvalidContentLength,
    /// A chunk-size line that is not hex (request: resync; response: read until close).
    InvalidChunkSize,
    /// A trailer line that is not a header field.
    InvalidChunkTrailer,
    /// Lines ended by LF alone.
    BareLf,
    /// The head exceeded `max_header_bytes`.
    HeaderTooLong,
    /// More than `max_headers` header fields (the rest are not kept).
    TooManyHeaders,
    /// `max_tx` live transactions reached: later requests got no transaction.
    TooManyTransactions,
    /// A response with no request waiting for it.
    ResponseWithoutRequest,
    /// A request line that is malformed (recovered) or garbage (resync).
    InvalidRequestLine,
    /// A status line that is malformed (recovered) or garbage (resync).
    InvalidStatusLine,
    /// A header line without a colon, with an empty or invalid name (skipped or kept as is).
    InvalidHeader,
    /// The body could not be decompressed (raw bytes kept when nothing decoded yet).
    BodyDecodeError,
    /// More than `body_inspect_bytes` decoded bytes: the rest was counted, not kept.
    BodyInspectionCapped,
    /// Bytes were skipped to find this message's start (after a gap, garbage, mid-stream).
    ResyncSkipped,
    /// The reassembler saw overlapping segments with different data.
    OverlapDifferentData,
    /// A header continued on the next line (obs-fold).
    ObsFold,
    // ---- additions ----
    /// Whitespace between a header name and its colon.
    WhitespaceBeforeColon,
    /// Transfer-Encoding other than a final `chunked` (smuggling signal).
    InvalidTransferEncoding,
    /// Chunk data not followed by CRLF.
    InvalidChunkEnd,
    /// HTTP/1.1 request without Host.
    MissingHost,
    /// Several different Host values, or a Host differing from the absolute-form authority.
    AmbiguousHost,
    /// No message start found within `resync_limit` bytes: the direction stopped.
    ResyncFailed,
    /// More than 16 informational (1xx) responses for one request.
    TooManyInformational,
    /// A request version other than HTTP/1.0 or HTTP/1.1.
    InvalidVersion,
}

impl Anomaly {
    /// Every variant, in declaration order.
    pub const ALL: &'static [Anomaly] = &[
        Anomaly::Gap,
        Anomaly::Truncated,
        Anomaly::ClAndTe,
        Anomaly::DuplicateContentLength,
        Anomaly::ConflictingContentLength,
        Anomaly::InvalidContentLength,
        Anomaly::InvalidChunkSize,
        Anomaly::InvalidChunkTrailer,
        Anomaly::BareLf,
        Anomaly::HeaderTooLong,
        Anomaly::TooManyHeaders,
        Anomaly::TooManyTransactions,
        Anomaly::ResponseWithoutRequest,
        Anomaly::InvalidRequestLine,
        Anomaly::InvalidStatusLine,
        Anomaly::InvalidHeader,
        Anomaly::BodyDecodeError,
        Anomaly::BodyInspectionCapped,
        Anomaly::ResyncSkipped,
        Anomaly::OverlapDifferentData,
        Anomaly::ObsFold,
        Anomaly::WhitespaceBeforeColon,
        Anomaly::InvalidTransferEncoding,
        Anomaly::InvalidChunkEnd,
        Anomaly::MissingHost,
        Anomaly::AmbiguousHost,
        Anomaly::ResyncFailed,
        Anomaly::TooManyInformational,
        Anomaly::InvalidVersion,
    ];

    /// The snake_case name written to `http.anomalies`.
    pub fn name(self) -> &'static str {
        match self {
            Anomaly::Gap => "gap",
            Anomaly::Truncated => "truncated",
            Anomaly::ClAndTe => "cl_and_te",
            Anomaly::DuplicateContentLength => "duplicate_content_length",
            Anomaly::ConflictingContentLength => "conflicting_content_length",
            Anomaly::InvalidContentLength => "invalid_content_length",
            Anomaly::InvalidChunkSize => "invalid_chunk_size",
            Anomaly::InvalidChunkTrailer => "invalid_chunk_trailer",
            Anomaly::BareLf => "bare_lf",
            Anomaly::HeaderTooLong => "header_too_long",
            Anomaly::TooManyHeaders => "too_many_headers",
            Anomaly::TooManyTransactions => "too_many_transactions",
            Anomaly::ResponseWithoutRequest => "response_without_request",
            Anomaly::InvalidRequestLine => "invalid_request_line",
            Anomaly::InvalidStatusLine => "invalid_status_line",
            Anomaly::InvalidHeader => "invalid_header",
            Anomaly::BodyDecodeError => "body_decode_error",
            Anomaly::BodyInspectionCapped => "body_inspection_capped",
            Anomaly::ResyncSkipped => "resync_skipped",
            Anomaly::OverlapDifferentData => "overlap_different_data",
            Anomaly::ObsFold => "obs_fold",
            Anomaly::WhitespaceBeforeColon => "whitespace_before_colon",
            Anomaly::InvalidTransferEncoding => "invalid_transfer_encoding",
            Anomaly::InvalidChunkEnd => "invalid_chunk_end",
            Anomaly::MissingHost => "missing_host",
            Anomaly::AmbiguousHost => "ambiguous_host",
            Anomaly::ResyncFailed => "resync_failed",
            Anomaly::TooManyInformational => "too_many_informational",
            Anomaly::InvalidVersion => "invalid_version",
        }
    }

    /// The variant with that snake_case name.
    pub fn from_name(name: &str) -> Option<Anomaly> {
        Anomaly::ALL.iter().copied().find(|a| a.name() == name)
    }
}

impl std::fmt::Display for Anomaly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case_and_match_serde() {
        let mut seen = std::collections::HashSet::new();
        for a in Anomaly::ALL {
            assert!(seen.insert(a.name()), "{a:?}");
            assert!(a.name().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            assert_eq!(
                serde_json::to_string(a).unwrap_or_default(),
                format!("\"{}\"", a.name())
            );
            assert_eq!(Anomaly::from_name(a.name()), Some(*a));
            assert_eq!(a.to_string(), a.name());
        }
    }

    #[test]
    fn host_normalization() {
        assert_eq!(
            normalize_host(b"Example.COM:80"),
            Some("example.com".into())
        );
        assert_eq!(
            normalize_host(b"example.com:443"),
            Some("example.com".into())
        );
        assert_eq!(
            normalize_host(b"example.com:8080"),
            Some("example.com:8080".into())
        );
        assert_eq!(normalize_host(b"example.com:"), Some("example.com".into()));
        assert_eq!(normalize_host(b"user:pw@Host:443"), Some("host".into()));
        assert_eq!(normalize_host(b"[::1]:443"), Some("[::1]".into()));
        assert_eq!(normalize_host(b"[::1]:8443"), Some("[::1]:8443".into()));
        assert_eq!(normalize_host(b"[::1]"), Some("[::1]".into()));
        assert_eq!(normalize_host(b"::1"), Some("::1".into()));
        assert_eq!(normalize_host(b"  "), None);
        assert_eq!(normalize_host(b":80"), None);
    }

    #[test]
    fn content_type_and_header_lookup() {
        let r = Request {
            headers: vec![Header {
                name: "Content-TYPE".into(),
                value: b"Application/JSON; charset=utf-8".to_vec(),
            }],
            ..Default::default()
        };
        assert_eq!(r.content_type(), Some("application/json".into()));
        assert_eq!(
            r.header("content-type"),
            Some(&b"Application/JSON; charset=utf-8"[..])
        );
        assert_eq!(r.header("x"), None);
        let r = Request {
            authority: Some("API.example.com:443".into()),
            ..Default::default()
        };
        assert_eq!(r.host(), Some("api.example.com".into()));
    }
}
