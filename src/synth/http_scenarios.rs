//! HTTP/1.x scenarios (`http-*` names of [`super::scenario`]): one capture
//! per parser feature or failure mode, each with the exact transactions a
//! correct parser reports (see [`super::scenario::ExpectedTx`] for the
//! rules every expectation follows).
//!
//! Guarantees:
//! - Deterministic: content, addresses, ISNs and every segment operation
//!   are fixed or drawn from [`SplitMix64`] with fixed seeds.
//! - Each expectation is written next to the traffic that provokes it:
//!   message metadata (method, path, host, body lengths) comes from the
//!   same builder values that produce the bytes; anomalies and
//!   completeness are declared by the scenario and checked by the
//!   test-only decoder.
//! - The traffic is realistic API traffic: clients send the headers curl,
//!   Chrome, Go, Python requests, OkHttp and the Java HTTP client send;
//!   servers answer like nginx, Envoy, Express, Kestrel, Elasticsearch or
//!   Python's http.server.

use std::io::Write;

use super::packet::{Encap, Link};
use super::rng::SplitMix64;
use super::scenario::{
    normalize_host, sa, split_target, style, target_authority, Close, ConvSpec, ExpectedTx, Plan,
    SegOp, Step,
};
use super::segops::{Overlap, Select};
use super::tcp::Side;
use super::{SynthError, EPOCH_US};

const DATE: &str = "Thu, 01 Jan 2026 00:00:00 GMT";
const UID: &str = "8f14e45f-ceea-467f-a0e6-2b3c1f1b2a01";
const JWT: &str = "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiI4ZjE0ZTQ1Zi1jZWVhLTQ2N2YtYTBlNi0yYjNjMWYxYjJhMDEiLCJzY29wZSI6Im9yZGVyczpyZWFkIG9yZGVyczp3cml0ZSIsImV4cCI6MTc2NzIyOTIwMH0.TVhQWmZxYk9wY1FkR3lPd0xqR1Z1dGhIY1ZYRUx3bWE";

type Hdrs = &'static [(&'static str, &'static str)];

const CURL: Hdrs = &[("User-Agent", "curl/8.5.0"), ("Accept", "*/*")];
const CHROME: Hdrs = &[
    ("Connection", "keep-alive"),
    (
        "sec-ch-ua",
        "\"Google Chrome\";v=\"131\", \"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\"",
    ),
    ("sec-ch-ua-mobile", "?0"),
    (
        "User-Agent",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    ),
    ("Accept", "application/json, text/plain, */*"),
    ("Origin", "http://shop.example.com"),
    ("Referer", "http://shop.example.com/catalog/shoes"),
    ("Accept-Encoding", "gzip, deflate, br, zstd"),
    ("Accept-Language", "en-US,en;q=0.9,pt;q=0.8"),
];
const GO: Hdrs = &[
    ("User-Agent", "Go-http-client/1.1"),
    ("Accept-Encoding", "gzip"),
];
const PYTHON: Hdrs = &[
    ("User-Agent", "python-requests/2.32.3"),
    ("Accept-Encoding", "gzip, deflate"),
    ("Accept", "*/*"),
    ("Connection", "keep-alive"),
];
const OKHTTP: Hdrs = &[
    ("Connection", "Keep-Alive"),
    ("Accept-Encoding", "gzip"),
    ("User-Agent", "okhttp/4.12.0"),
];
const JAVA: Hdrs = &[("User-Agent", "Java-http-client/21.0.5")];

// ------------------------------------------------------------ messages

/// An HTTP/1.x message: the bytes to send and the body length a parser
/// reports for it.
#[derive(Debug, Clone)]
pub(super) struct Msg {
    start: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    body_len: u64,
    eol: &'static str,
    prefix: Vec<u8>,
}

impl Msg {
    fn head_bytes(&self) -> Vec<u8> {
        let mut b = self.prefix.clone();
        b.extend_from_slice(self.start.as_bytes());
        b.extend_from_slice(self.eol.as_bytes());
        for (n, v) in &self.headers {
            b.extend_from_slice(n.as_bytes());
            b.extend_from_slice(b": ");
            b.extend_from_slice(v.as_bytes());
            b.extend_from_slice(self.eol.as_bytes());
        }
        b.extend_from_slice(self.eol.as_bytes());
        b
    }

    fn bytes(&self) -> Vec<u8> {
        let mut b = self.head_bytes();
        b.extend_from_slice(&self.body);
        b
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Message body and the framing headers it needs.
#[derive(Debug, Clone)]
enum Body {
    /// No body and no framing header.
    None,
    /// `application/json` with Content-Length.
    Json(String),
    /// Given Content-Type with Content-Length.
    Typed(&'static str, Vec<u8>),
    /// Given Content-Type, `Transfer-Encoding: chunked`; chunks with their
    /// extension text (e.g. `;seq=2`), then trailers.
    Chunked(
        &'static str,
        Vec<(Vec<u8>, &'static str)>,
        Vec<(&'static str, &'static str)>,
    ),
    /// Given Content-Type, no framing header: the body runs to the close.
    Close(&'static str, Vec<u8>),
    /// Bytes after the header block as given (no header added) and the
    /// body length a parser reports.
    Raw(Vec<u8>, u64),
}

impl Body {
    /// (content type, framing headers, wire bytes, reported length)
    fn parts(self) -> BodyParts {
        match self {
            Body::None => (None, vec![], vec![], 0),
            Body::Json(s) => {
                let n = s.len();
                (
                    Some("application/json"),
                    vec![("Content-Length".into(), n.to_string())],
                    s.into_bytes(),
                    n as u64,
                )
            }
            Body::Typed(ct, b) => (
                Some(ct),
                vec![("Content-Length".into(), b.len().to_string())],
                b.clone(),
                b.len() as u64,
            ),
            Body::Chunked(ct, chunks, trailers) => {
                let mut b = Vec::new();
                let mut n = 0u64;
                for (data, ext) in &chunks {
                    b.extend_from_slice(format!("{:x}{ext}\r\n", data.len()).as_bytes());
                    b.extend_from_slice(data);
                    b.extend_from_slice(b"\r\n");
                    n += data.len() as u64;
                }
                b.extend_from_slice(b"0\r\n");
                for (k, v) in &trailers {
                    b.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
                }
                b.extend_from_slice(b"\r\n");
                (
                    Some(ct),
                    vec![("Transfer-Encoding".into(), "chunked".into())],
                    b,
                    n,
                )
            }
            Body::Close(ct, b) => {
                let n = b.len() as u64;
                (Some(ct), vec![], b, n)
            }
            Body::Raw(b, n) => (None, vec![], b, n),
        }
    }
}

/// What [`Body::parts`] returns: content type, framing headers, wire
/// bytes and the body length a parser reports.
type BodyParts = (Option<&'static str>, Vec<(String, String)>, Vec<u8>, u64);

fn own(h: &[(&str, &str)]) -> Vec<(String, String)> {
    h.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// A request and the method/target it was built from.
#[derive(Debug, Clone)]
pub(super) struct Req {
    method: String,
    target: String,
    msg: Msg,
}

/// Builds a request: `Host` first (when given), then the client's headers,
/// then `extra`, then Content-Type and the framing header.
fn req(
    method: &str,
    target: &str,
    host: Option<&str>,
    client: Hdrs,
    extra: &[(&str, &str)],
    body: Body,
) -> Req {
    let mut headers = Vec::new();
    if let Some(h) = host {
        headers.push(("Host".to_string(), h.to_string()));
    }
    headers.extend(own(client));
    headers.extend(own(extra));
    let (ct, framing, bytes, n) = body.parts();
    if let Some(ct) = ct {
        headers.push(("Content-Type".into(), ct.into()));
    }
    headers.extend(framing);
    Req {
        method: method.to_string(),
        target: target.to_string(),
        msg: Msg {
            start: format!("{method} {target} HTTP/1.1"),
            headers,
            body: bytes,
            body_len: n,
            eol: "\r\n",
            prefix: Vec::new(),
        },
    }
}

/// Server header styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Srv {
    Nginx,
    Envoy,
    Express,
    Kestrel,
    Elastic,
    PyHttp,
    Squid,
    /// Status line and `extra` only.
    Bare,
}

/// A response and its status.
#[derive(Debug, Clone)]
pub(super) struct Resp {
    status: u16,
    msg: Msg,
}

fn resp(srv: Srv, status: u16, reason: &str, extra: &[(&str, &str)], body: Body) -> Resp {
    let (ct, framing, bytes, n) = body.parts();
    let extra = own(extra);
    let has_conn = extra
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("connection"));
    let mut h: Vec<(String, String)> = Vec::new();
    let push = |h: &mut Vec<(String, String)>, k: &str, v: &str| h.push((k.into(), v.into()));
    match srv {
        Srv::Nginx | Srv::Squid => {
            let name = if srv == Srv::Nginx {
                "nginx/1.25.3"
            } else {
                "squid/6.6"
            };
            push(&mut h, "Server", name);
            push(&mut h, "Date", DATE);
            if let Some(ct) = ct {
                push(&mut h, "Content-Type", ct);
            }
            h.extend(framing);
            if !has_conn {
                push(&mut h, "Connection", "keep-alive");
            }
            h.extend(extra);
        }
        Srv::Envoy => {
            push(&mut h, "date", DATE);
            if let Some(ct) = ct {
                push(&mut h, "content-type", ct);
            }
            h.extend(
                framing
                    .into_iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v)),
            );
            h.extend(extra);
            push(&mut h, "x-envoy-upstream-service-time", "7");
            push(&mut h, "server", "envoy");
        }
        Srv::Express => {
            push(&mut h, "X-Powered-By", "Express");
            h.extend(extra);
            if let Some(ct) = ct {
                push(&mut h, "Content-Type", &format!("{ct}; charset=utf-8"));
            }
            let etag = format!(
                "W/\"{:x}-{:x}\"",
                n,
                n.wrapping_mul(0x9E37_79B9) & 0xffff_ffff
            );
            h.extend(framing);
            if n > 0 {
                push(&mut h, "ETag", &etag);
            }
            push(&mut h, "Date", DATE);
            if !has_conn {
                push(&mut h, "Connection", "keep-alive");
                push(&mut h, "Keep-Alive", "timeout=5");
            }
        }
        Srv::Kestrel => {
            if let Some(ct) = ct {
                push(&mut h, "Content-Type", &format!("{ct}; charset=utf-8"));
            }
            push(&mut h, "Date", DATE);
            push(&mut h, "Server", "Kestrel");
            h.extend(extra);
            h.extend(framing);
        }
        Srv::Elastic => {
            push(&mut h, "X-elastic-product", "Elasticsearch");
            if let Some(ct) = ct {
                push(&mut h, "content-type", ct);
            }
            h.extend(
                framing
                    .into_iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v)),
            );
            h.extend(extra);
        }
        Srv::PyHttp => {
            push(&mut h, "Server", "BaseHTTP/0.6 Python/3.11.9");
            push(&mut h, "Date", DATE);
            if let Some(ct) = ct {
                push(&mut h, "Content-Type", ct);
            }
            h.extend(framing);
            h.extend(extra);
        }
        Srv::Bare => {
            h.extend(extra);
            h.extend(framing);
        }
    }
    Resp {
        status,
        msg: Msg {
            start: format!("HTTP/1.1 {status} {reason}"),
            headers: h,
            body: bytes,
            body_len: n,
            eol: "\r\n",
            prefix: Vec::new(),
        },
    }
}

/// The expected transaction of `r` answered by `s`.
fn tx(r: &Req, s: &Resp) -> ExpectedTx {
    let (path, query) = split_target(&r.method, &r.target);
    let host = target_authority(&r.target)
        .or_else(|| r.msg.header("host"))
        .map(normalize_host);
    ExpectedTx {
        method: Some(r.method.clone()),
        path: Some(path),
        query,
        host,
        status: Some(s.status),
        request_body_bytes: r.msg.body_len,
        response_body_bytes: s.msg.body_len,
        complete: true,
        ..ExpectedTx::default()
    }
}

/// Adjustments of an expectation.
trait TxExt {
    fn anomaly(self, a: &str) -> Self;
    fn incomplete(self) -> Self;
    fn informational(self, s: u16) -> Self;
    fn upgrade(self, u: &str) -> Self;
    fn response_bytes(self, n: u64) -> Self;
}

impl TxExt for ExpectedTx {
    fn anomaly(mut self, a: &str) -> Self {
        self.anomalies.push(a.to_string());
        self
    }
    fn incomplete(mut self) -> Self {
        self.complete = false;
        self
    }
    fn informational(mut self, s: u16) -> Self {
        self.informational.push(s);
        self
    }
    fn upgrade(mut self, u: &str) -> Self {
        self.upgrade = Some(u.to_string());
        self
    }
    fn response_bytes(mut self, n: u64) -> Self {
        self.response_body_bytes = n;
        self
    }
}

/// Expectation for a response seen without its request.
fn orphan(s: &Resp) -> ExpectedTx {
    ExpectedTx {
        status: Some(s.status),
        response_body_bytes: s.msg.body_len,
        complete: false,
        anomalies: vec!["response_without_request".into()],
        ..ExpectedTx::default()
    }
}

// ------------------------------------------------------------ connections

/// Server think time between a request and its response.
const THINK_US: u64 = 2_000;
/// Client pause between a response and the next request.
const IDLE_US: u64 = 700;

/// Builder of one scripted connection.
struct C {
    spec: ConvSpec,
    sent: [u64; 2],
}

impl C {
    fn new(client: &str, server: &str, start_us: u64) -> Result<C, SynthError> {
        Ok(C {
            spec: ConvSpec::new(sa(client)?, sa(server)?, start_us),
            sent: [0, 0],
        })
    }

    fn mss(mut self, mss: usize) -> Self {
        self.spec.mss = mss;
        self
    }

    fn close(mut self, close: Close) -> Self {
        self.spec.close = close;
        self
    }

    /// Stream offset of the next byte `side` sends.
    fn offset(&self, side: Side) -> u64 {
        self.sent[usize::from(side == Side::Client)]
    }

    fn send_sized(&mut self, side: Side, bytes: Vec<u8>, sizes: Vec<usize>) -> &mut Self {
        self.sent[usize::from(side == Side::Client)] += bytes.len() as u64;
        self.spec.steps.push(Step::Send(side, bytes, sizes));
        self
    }

    fn send(&mut self, side: Side, bytes: Vec<u8>) -> &mut Self {
        self.send_sized(side, bytes, Vec::new())
    }

    fn pause(&mut self, us: u64) -> &mut Self {
        self.spec.steps.push(Step::Pause(us));
        self
    }

    fn req(&mut self, r: &Req) -> &mut Self {
        self.send(Side::Client, r.msg.bytes())
    }

    fn resp(&mut self, s: &Resp) -> &mut Self {
        self.send(Side::Server, s.msg.bytes())
    }

    fn expect(&mut self, t: ExpectedTx) -> &mut Self {
        self.spec.http.push(t);
        self
    }

    /// Adjusts the last expectation (the exchange just scripted).
    fn amend(&mut self, f: impl FnOnce(ExpectedTx) -> ExpectedTx) -> &mut Self {
        if let Some(t) = self.spec.http.pop() {
            self.spec.http.push(f(t));
        }
        self
    }

    fn op(&mut self, op: SegOp) -> &mut Self {
        self.spec.ops.push(op);
        self
    }

    /// Request, think time, response, idle time; expects a complete
    /// transaction.
    fn exchange(&mut self, r: &Req, s: &Resp) -> &mut Self {
        self.req(r).pause(THINK_US).resp(s).pause(IDLE_US);
        self.expect(tx(r, s))
    }

    fn done(self) -> ConvSpec {
        self.spec
    }
}

// ------------------------------------------------------------ content

fn hex_id(rng: &mut SplitMix64, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b"0123456789abcdef"[rng.index(16)]))
        .collect()
}

fn uuid(rng: &mut SplitMix64) -> String {
    format!(
        "{}-{}-4{}-a{}-{}",
        hex_id(rng, 8),
        hex_id(rng, 4),
        hex_id(rng, 3),
        hex_id(rng, 3),
        hex_id(rng, 12)
    )
}

const FIRST: &[&str] = &[
    "Maria", "James", "Aiko", "Lucas", "Fatima", "Olivia", "Noah", "Priya", "Mateo", "Chen",
];
const LAST: &[&str] = &[
    "Garcia", "Smith", "Tanaka", "Silva", "Khan", "Jones", "Muller", "Patel", "Rossi", "Wang",
];
const CITIES: &[(&str, &str)] = &[
    ("Lisbon", "PT"),
    ("Austin", "US"),
    ("Osaka", "JP"),
    ("Berlin", "DE"),
    ("Toronto", "CA"),
    ("Lyon", "FR"),
];

fn user_json(rng: &mut SplitMix64, id: &str) -> String {
    let f = FIRST[rng.index(FIRST.len())];
    let l = LAST[rng.index(LAST.len())];
    let (city, cc) = CITIES[rng.index(CITIES.len())];
    format!(
        "{{\"id\":\"{id}\",\"email\":\"{}.{}@example.com\",\"name\":\"{f} {l}\",\"phone\":\"+1-555-01{:02}\",\"locale\":\"en-US\",\"roles\":[\"customer\"],\"address\":{{\"city\":\"{city}\",\"country\":\"{cc}\",\"postal_code\":\"{:05}\"}},\"created_at\":\"2024-0{}-1{}T09:21:44Z\",\"email_verified\":true}}",
        f.to_ascii_lowercase(),
        l.to_ascii_lowercase(),
        rng.below(100),
        rng.below(100_000),
        1 + rng.below(9),
        rng.below(10)
    )
}

fn order_json(rng: &mut SplitMix64) -> String {
    let items = 1 + rng.below(4);
    let list: Vec<String> = (0..items)
        .map(|_| {
            format!(
                "{{\"sku\":\"SKU-{}\",\"qty\":{},\"unit_price\":{{\"amount\":\"{}.{:02}\",\"currency\":\"EUR\"}}}}",
                10_000 + rng.below(90_000),
                1 + rng.below(3),
                5 + rng.below(200),
                rng.below(100)
            )
        })
        .collect();
    format!(
        "{{\"id\":\"ord_{}\",\"status\":\"{}\",\"items\":[{}],\"total\":{{\"amount\":\"{}.{:02}\",\"currency\":\"EUR\"}},\"created_at\":\"2025-12-{:02}T1{}:0{}:00Z\"}}",
        hex_id(rng, 10),
        ["pending", "paid", "shipped", "delivered"][rng.index(4)],
        list.join(","),
        20 + rng.below(900),
        rng.below(100),
        1 + rng.below(28),
        rng.below(10),
        rng.below(10)
    )
}

fn orders_page(rng: &mut SplitMix64, n: usize) -> String {
    let list: Vec<String> = (0..n).map(|_| order_json(rng)).collect();
    format!(
        "{{\"data\":[{}],\"limit\":{n},\"next_cursor\":\"{}\",\"has_more\":true}}",
        list.join(","),
        hex_id(rng, 16)
    )
}

fn product_json(rng: &mut SplitMix64) -> String {
    const KINDS: &[&str] = &["Trail Runner", "Road Racer", "Court Classic", "Hiking Boot"];
    const COLORS: &[&str] = &["black", "white", "navy", "olive", "crimson"];
    format!(
        "{{\"sku\":\"SKU-{}\",\"name\":\"{} {}\",\"brand\":\"Northwind\",\"price\":{{\"amount\":\"{}.99\",\"currency\":\"EUR\"}},\"sizes\":[39,40,41,42,43,44],\"color\":\"{}\",\"rating\":{}.{},\"reviews\":{},\"in_stock\":{}}}",
        10_000 + rng.below(90_000),
        KINDS[rng.index(KINDS.len())],
        1 + rng.below(9),
        39 + rng.below(150),
        COLORS[rng.index(COLORS.len())],
        3 + rng.below(2),
        rng.below(10),
        rng.below(3000),
        rng.chance(4, 5)
    )
}

fn products_page(rng: &mut SplitMix64, n: usize) -> String {
    let list: Vec<String> = (0..n).map(|_| product_json(rng)).collect();
    format!(
        "{{\"category\":\"shoes\",\"page\":1,\"per_page\":{n},\"total\":318,\"items\":[{}]}}",
        list.join(",")
    )
}

fn reviews_json(rng: &mut SplitMix64, n: usize) -> String {
    const TEXTS: &[&str] = &[
        "Great fit, true to size. Would buy again.",
        "Comfortable on long runs but the laces are too short.",
        "Arrived two days late; the shoes themselves are excellent.",
        "Sole started peeling after three months of daily use.",
    ];
    let list: Vec<String> = (0..n)
        .map(|_| {
            format!(
                "{{\"id\":\"rev_{}\",\"rating\":{},\"title\":\"Review\",\"body\":\"{}\",\"author\":\"{}\",\"verified_purchase\":{}}}",
                hex_id(rng, 8),
                1 + rng.below(5),
                TEXTS[rng.index(TEXTS.len())],
                FIRST[rng.index(FIRST.len())],
                rng.chance(1, 2)
            )
        })
        .collect();
    format!("{{\"reviews\":[{}],\"count\":{n}}}", list.join(","))
}

fn gzip(data: &[u8]) -> Result<Vec<u8>, SynthError> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data)?;
    Ok(e.finish()?)
}

/// HTTP `deflate` is the zlib format (RFC 9110 section 8.4.1.2).
fn zlib(data: &[u8]) -> Result<Vec<u8>, SynthError> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data)?;
    Ok(e.finish()?)
}

fn brotli_enc(data: &[u8]) -> Result<Vec<u8>, SynthError> {
    let mut w = brotli::CompressorWriter::new(Vec::new(), 4096, 5, 22);
    w.write_all(data)?;
    w.flush()?;
    Ok(w.into_inner())
}

/// Cuts `data` into chunks of the given sizes (the rest is one chunk).
fn cut(data: &[u8], sizes: &[usize]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = data;
    for &s in sizes {
        if rest.is_empty() {
            break;
        }
        let n = s.min(rest.len());
        out.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    if !rest.is_empty() {
        out.push(rest.to_vec());
    }
    out
}

fn random_bytes(rng: &mut SplitMix64, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.next_u32() as u8).collect()
}

fn push16(b: &mut Vec<u8>, v: usize) {
    b.extend_from_slice(&(v as u16).to_be_bytes());
}

fn tls_record(ctype: u8, version_minor: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ctype, 3, version_minor];
    push16(&mut r, body.len());
    r.extend_from_slice(body);
    r
}

fn tls_handshake(kind: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len();
    let mut h = vec![kind, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    h.extend_from_slice(body);
    h
}

fn tls_ext(b: &mut Vec<u8>, kind: u16, data: &[u8]) {
    b.extend_from_slice(&kind.to_be_bytes());
    push16(b, data.len());
    b.extend_from_slice(data);
}

/// A TLS 1.3 ClientHello record with SNI and ALPN h2/http/1.1.
fn tls_client_hello(rng: &mut SplitMix64, sni: &str) -> Vec<u8> {
    let mut h = vec![3, 3];
    h.extend(random_bytes(rng, 32));
    h.push(32);
    h.extend(random_bytes(rng, 32));
    let suites: [u16; 8] = [
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
    ];
    push16(&mut h, suites.len() * 2);
    for s in suites {
        h.extend_from_slice(&s.to_be_bytes());
    }
    h.extend_from_slice(&[1, 0]);
    let mut ext = Vec::new();
    let mut sn = Vec::new();
    push16(&mut sn, sni.len() + 3);
    sn.push(0);
    push16(&mut sn, sni.len());
    sn.extend_from_slice(sni.as_bytes());
    tls_ext(&mut ext, 0x0000, &sn);
    tls_ext(&mut ext, 0x000a, &[0, 4, 0, 0x1d, 0, 0x17]);
    tls_ext(&mut ext, 0x000d, &[0, 8, 4, 3, 8, 4, 4, 1, 5, 3]);
    tls_ext(
        &mut ext,
        0x0010,
        &[
            0, 12, 2, b'h', b'2', 8, b'h', b't', b't', b'p', b'/', b'1', b'.', b'1',
        ],
    );
    tls_ext(&mut ext, 0x002b, &[4, 3, 4, 3, 3]);
    let mut ks = vec![0, 36, 0, 0x1d, 0, 32];
    ks.extend(random_bytes(rng, 32));
    tls_ext(&mut ext, 0x0033, &ks);
    push16(&mut h, ext.len());
    h.extend(ext);
    tls_record(0x16, 1, &tls_handshake(1, &h))
}

/// ServerHello, ChangeCipherSpec and encrypted records (certificate
/// flight) of a TLS 1.3 server.
fn tls_server_flight(rng: &mut SplitMix64) -> Vec<u8> {
    let mut h = vec![3, 3];
    h.extend(random_bytes(rng, 32));
    h.push(32);
    h.extend(random_bytes(rng, 32));
    h.extend_from_slice(&[0x13, 0x01, 0]);
    let mut ext = Vec::new();
    tls_ext(&mut ext, 0x002b, &[3, 4]);
    let mut ks = vec![0, 0x1d, 0, 32];
    ks.extend(random_bytes(rng, 32));
    tls_ext(&mut ext, 0x0033, &ks);
    push16(&mut h, ext.len());
    h.extend(ext);
    let mut out = tls_record(0x16, 3, &tls_handshake(2, &h));
    out.extend(tls_record(0x14, 3, &[1]));
    out.extend(tls_app_data(rng, 2480));
    out
}

fn tls_app_data(rng: &mut SplitMix64, n: usize) -> Vec<u8> {
    tls_record(0x17, 3, &random_bytes(rng, n))
}

/// A WebSocket text frame (RFC 6455): masked when sent by the client.
fn ws_text(rng: &mut SplitMix64, text: &str, masked: bool) -> Vec<u8> {
    let p = text.as_bytes();
    let mut f = vec![0x81];
    let mbit = if masked { 0x80 } else { 0 };
    if p.len() < 126 {
        f.push(mbit | p.len() as u8);
    } else {
        f.push(mbit | 126);
        push16(&mut f, p.len());
    }
    if masked {
        let key = rng.next_u32().to_be_bytes();
        f.extend_from_slice(&key);
        f.extend(p.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        f.extend_from_slice(p);
    }
    f
}

fn h2_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let n = payload.len();
    let mut f = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8, kind, flags];
    f.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    f.extend_from_slice(payload);
    f
}

// ------------------------------------------------------------ scenarios

fn keepalive(t0: u64) -> Result<Vec<ConvSpec>, SynthError> {
    let mut rng = SplitMix64::new(0x4b41);
    let mut c = C::new("10.1.1.10:51514", "10.2.1.20:80", t0)?;
    let base = format!("/api/v1/users/{UID}");
    let auth = [("Authorization", JWT)];
    let r1 = req(
        "GET",
        &base,
        Some("api.example.com"),
        PYTHON,
        &auth,
        Body::None,
    );
    let s1 = resp(
        Srv::Nginx,
        200,
        "OK",
        &[],
        Body::Json(user_json(&mut rng, UID)),
    );
    let order = "{\"items\":[{\"sku\":\"SKU-10442\",\"qty\":2},{\"sku\":\"SKU-20931\",\"qty\":1}],\"shipping_address_id\":\"addr_7f3a9c\",\"payment_method_id\":\"pm_1QhX2fLkd8\",\"currency\":\"EUR\",\"coupon\":null}";
    let r2 = req(
        "POST",
        &format!("{base}/orders"),
        Some("api.example.com"),
        PYTHON,
        &auth,
        Body::Json(order.into()),
    );
    let s2 = resp(
        Srv::Nginx,
        201,
        "Created",
        &[("Location", "/api/v1/orders/ord_5jx3k9q2w1")],
        Body::Json(order_json(&mut rng)),
    );
    let r3 = req(
        "GET",
        &format!("{base}/orders?limit=20&cursor=abc"),
        Some("api.example.com"),
        PYTHON,
        &auth,
        Body::None,
    );
    let s3 = resp(
        Srv::Nginx,
        200,
        "OK",
        &[("Cache-Control", "private, max-age=0")],
        Body::Json(orders_page(&mut rng, 20)),
    );
    c.exchange(&r1, &s1).exchange(&r2, &s2).exchange(&r3, &s3);
    Ok(vec![c.done()])
}

fn pipelining(t0: u64) -> Result<Vec<ConvSpec>, SynthError> {
    let mut rng = SplitMix64::new(0x5049);
    let mut c = C::new("10.1.2.10:43120", "10.2.2.20:8080", t0)?;
    let host = Some("inventory.example.com:8080");
    let targets = [
        "/api/v2/items/1001",
        "/api/v2/items/1002",
        "/api/v2/items/1003?fields=sku,stock,price",
    ];
    let reqs: Vec<Req> = targets
        .iter()
        .map(|t| {
            req(
                "GET",
                t,
                host,
                GO,
                &[("Accept", "application/json")],
                Body::None,
            )
        })
        .collect();
    let resps: Vec<Resp> = (0..3)
        .map(|i| {
            resp(
                Srv::Envoy,
                if i == 1 { 404 } else { 200 },
                if i == 1 { "Not Found" } else { "OK" },
                &[],
                Body::Json(if i == 1 {
                    "{\"error\":\"not_found\",\"message\":\"item 1002 does not exist\"}".into()
                } else {
                    product_json(&mut rng)
                }),
            )
        })
        .collect();
    // All three requests in one write, cut inside the second request.
    let mut all = Vec::new();
    for r in &reqs {
        all.extend(r.msg.bytes());
    }
    let first = reqs[0].msg.bytes().len() + 17;
    c.send_sized(Side::Client, all, vec![first]).pause(THINK_US);
    let mut two = resps[0].msg.bytes();
    two.extend(resps[1].msg.bytes());
    c.send(Side::Server, two).pause(300).resp(&resps[2]);
    for (r, s) in reqs.iter().zip(&resps) {
        c.expect(tx(r, s));
    }
    Ok(vec![c.done()])
}

fn chunked(t0: u64) -> Result<Vec<ConvSpec>, SynthError> {
    let mut rng = SplitMix64::new(0x4348);
    let mut c = C::new("10.1.3.10:50022", "10.2.3.20:80", t0)?.mss(536);
    let host = Some("ingest.example.com");
    let mut events = Vec::new();
    for i in 0..12 {
        events.push(format!(
            "{{\"event\":\"page_view\",\"user_id\":\"{}\",\"session\":\"s_{}\",\"path\":\"/catalog/shoes?page={i}\",\"ts\":\"2026-01-01T00:00:{i:02}Z\"}}\n",
            uuid(&mut rng),
            hex_id(&mut rng, 12)
        ));
    }
    let big: String = events[3..].concat();
    let chunks = vec![
        (events[0].clone().into_bytes(), ""),
        (events[1].clone().into_bytes(), ";seq=2"),
        (events[2].clone().into_bytes(), ";seq=3;sig=\"a1b2c3\""),
        (big.into_bytes(), ";last-batch"),
    ];
    let r1 = req(
        "POST",
        "/api/v1/batches/5f2b1c3e/events",
        host,
        GO,
        &[("Authorization", JWT), ("Trailer", "X-Content-SHA256")],
        Body::Chunked(
            "application/x-ndjson",
            chunks,
            vec![(
                "X-Content-SHA256",
                "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            )],
        ),
    );
    let accepted =
        "{\"batch_id\":\"5f2b1c3e\",\"accepted\":12,\"rejected\":0,\"status\":\"queued\"}";
    let s1 = resp(
        Srv::Express,
        202,
        "Accepted",
        &[("Trailer", "Server-Timing")],
        Body::Chunked(
            "application/json",
            cut(accepted.as_bytes(), &[20, 1])
                .into_iter()
                .zip(["", ";ieof", ""])
                .collect(),
            vec![("Server-Timing", "db;dur=53, app;dur=47.2")],
        ),
    );
    let status = format!(
        "{{\"batch_id\":\"5f2b1c3e\",\"state\":\"done\",\"events\":[{}]}}",
        (0..12)
            .map(|i| format!(
                "{{\"n\":{i},\"result\":\"stored\",\"id\":\"{}\"}}",
                uuid(&mut rng)
            ))
            .collect::<Vec<_>>()
            .join(",")
    );
    let s2 = resp(
        Srv::Kestrel,
        200,
        "OK",
        &[],
        Body::Chunked(
            "application/json",
            cut(status.as_bytes(), &[700, 1, 300])
                .into_iter()
                .map(|c| (c, ""))
                .collect(),
            vec![("grpc-status", "0"), ("grpc-message", "")],
        ),
    );
    let r2 = req(
        "GET",
        "/api/v1/batches/5f2b1c3e/status",
        host,
        GO,
        &[("Authorization", JWT)],
        Body::None,
    );
    c.exchange(&r1, &s1).exchange(&r2, &s2);
    Ok(vec![c.done()])
}

fn gzipped(t0: u64) -> Result<Vec<ConvSpec>, SynthError> {
    let mut rng = SplitMix64::new(0x475a);
    let mut c = C::new("10.1.4.10:52000", "10.2.4.20:80", t0)?;
    let host = Some("catalog.example.com");
    let vary = ("Vary", "Accept-Encoding");
    let list = products_page(&mut rng, 24);
    let r1 = req(
        "GET",
        "/api/v1/products?category=shoes&page=1",
        host,
        CHROME,
        &[],
        Body::None,
    );
    let s1 = resp(
        Srv::Nginx,
        200,
        "OK",
        &[("Content-Encoding", "gzip"), vary],
        Body::Typed("application/json", gzip(list.as_bytes())?),
    );
    let one = product_json(&mut rng);
    let r2 = req(
        "GET",
        "/api/v1/products/SKU-48213",
        host,
        CHROME,
        &[],
        Body::None,
    );
    let s2 = resp(
        Srv::Nginx,
        200,
        "OK",
        &[("Content-Encoding", "deflate"), vary],
        Body::Typed("application/json", zlib(one.as_bytes())?),
    );
    let rev = reviews_json(&mut rng, 15);
    let r3 = req(
        "GET",
        "/api/v1/products/SKU-48213/reviews?sort=recent&limit=15",
        host,
        CHROME,
        &[],
        Body::None,
    );
    let s3 = resp(
        Srv::Nginx,
        200,
        "OK",
        &[("Content-Encoding", "br"), vary],
        Body::Typed("application/json", brotli_enc(rev.as_bytes())?),
    );
    c.exchange(&r1, &s1).exchange(&r2, &s2).exchange(&r3, &s3);

    // Express with compression(): gzip over chunked.
    let mut c2 = C::new("10.1.4.11:52001", "10.2.4.21:3000", t0 + 1_500)?;
    let rec = products_page(&mut rng, 8);
    let z = gzip(rec.as_bytes())?;
    let r4 = req(
        "GET",
        &format!("/api/v1/recommendations?user={UID}&limit=8"),
        Some("recs.example.com:3000"),
        CHROME,
        &[],
        Body::None,
    );
    let s4 = resp(
        Srv::Express,
        200,
        "OK",
        &[("Content-Encoding", "gzip"), vary],
        Body::Chunked(
            "application/json",
            cut(&z, &[10, 300]).into_iter().map(|c| (c, "")).collect(),
            vec![],
        ),
    );
    c2.exchange(&r4, &s4);
    Ok(vec![c.done(), c2.done()])
}

fn close_delimited(t0: u64) -> Result<Vec<ConvSpec>, SynthError> {
    let mut rng = SplitMix64::new(0x434c);
    // HTTP/1.0 request and response, body ends with the server's FIN.
    let mut c1 = C::new("10.1.5.10:40100", "10.2.5.20:80", t0)?.close(Close::ServerFin);
    let export = format!(
        "{{\"customers\":[{}]}}",
        (0..10)
            .map(|_| {
                let id = uuid(&mut rng);
                user_json(&mut rng, &id)
            })
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut r1 = req(
        "GET",
        "/legacy/v1/export/customers.json",
        Some("legacy.example.com"),
        &[("User-Agent", "Wget/1.21.4"), ("Accept", "*/*")],
        &[],
        Body::None,
    );
    r1.msg.start = "GET /legacy/v1/export/customers.json HTTP/1.0".into();
    let mut s1 = resp(
        Srv::PyHttp,
        200,
        "OK",
        &[],
        Body::Close("application/json", export.into_bytes()),
    );
    s1.msg.start = "HTTP/1.0 200 OK".into();
    c1.exchange(&r1, &s1);

    // HTTP/1.1 with Connection: close and no Content-Length.
    let mut c2 = C::new("10.1.5.11:40101", "10.2.5.20:80", t0 + 1_200)?.close(Close::ServerFin);
    let r2 = req(
        "GET",
        "/api/v1/reports/daily?date=2025-12-31",
        Some("legacy.example.com"),
        CURL,
        &[("Connection", "close")],
        Body::None,
    );
    let s2 = resp(
        Srv::Nginx,
        200,
        "OK",
        &[("Connection", "close")],
        Body::Close("application/json", orders_page(&mut rng, 6).into_bytes()),
    );
    c2.exchange(&r2, &s2);

    // Content-Length response cut short by the server's RST.
    let mut c3 = C::new("10.1.5.12:40102", "10.2.5.21:8080", t0 + 2_400)?.close(Close::ServerRst);
    let full = orders_page(&mut rng, 30);
    let r3 = req(
        "GET",
        "/api/v1/reports/2025-q4.json",
        Some("reports.example.com:8080"),
        GO,
        &[],
        Body::None,
    );
    let s3 = resp(Srv::Kestrel, 200, "OK", &[], Body::Json(full));
    let head = s3.msg.head_bytes();
    let sent_body = 2920usize.min(s3.msg.body.len());
    let mut partial = head;
    partial.extend_from_slice(&s3.msg.body[..sent_body]);
    c3.req(&r3).pause(THINK_US).send(Side::Server, partial);
    c3.expect(
        tx(&r3, &s3)
            .response_bytes(sent_body as u64)
            .incomplete()
            .anomaly("truncated"),
    );
    Ok(vec![c1.done(), c2.done(), c3.done()])
}

fn head_1xx(t0: u64) -> Result<Vec<ConvSpec>, SynthError> {
    let mut rng = SplitMix64::new(0x4831);
    let mut c = C::new("10.1.6.10:41000", "10.2.6.20:80", t0)?;
    let host = Some("files.example.com");
    let auth = ("Authorization", JWT);
    let r1 = req(
        "HEAD",
        "/api/v1/exports/7d1e4c2a/archive.zip",
        host,
        OKHTTP,
        &[auth],
        Body::None,
    );
    let s1 = resp(
        Srv::Nginx,
        200,
        "OK",
        &[
            ("Content-Type", "application/zip"),
            ("Content-Length", "1048576"),
            ("Accept-Ranges", "bytes"),
            ("ETag", "\"66f1c2a4-100000\""),
        ],
        Body::None,
    );
    c.exchange(&r1, &s1);

    // Expect: 100-continue: headers, 100, body, final response.
    let spec = format!(
        "{{\"format\":\"csv\",\"filters\":{{\"created_after\":\"2025-01-01\",\"status\":[\"paid\",\"shipped\"]}},\"notify\":\"{}\"}}",
        "ops@example.com"
    );
    let r2 = req(
        "POST",
        "/api/v1/exports",
        host,
        OKHTTP,
        &[auth, ("Expect", "100-continue")],
        Body::Json(spec),
    );
    let cont = resp(Srv::Bare, 100, "Continue", &[], Body::None);
    let s2 = resp(
        Srv::Nginx,
        201,
        "Created",
        &[("Location", "/api/v1/exports/9a3f0b12")],
        Body::Json("{\"id\":\"9a3f0b12\",\"state\":\"queued\",\"eta_seconds\":40}".into()),
    );
    c.send(Side::Client, r2.msg.head_bytes())
        .pause(400)
        .resp(&cont)
        .pause(200)
        .send(Side::Client, r2.msg.body.clone())
        .pause(THINK_US)
        .resp(&s2)
        .pause(IDLE_US);
    c.expect(tx(&r2, &s2).informational(100));

    let r3 = req(
        "DELETE",
        "/api/v1/exports/7d1e4c2a",
        host,
        OKHTTP,
        &[auth],
        Body::None,
    );
    let s3 = resp(Srv::Nginx, 204, "No Content", &[], Body::None);
    c.exchange(&r3, &s3);

    let r4 = req(
        "GET",
        "/api/v1/exports/9a3f0b12",
        host,
        OKHTTP,
        &[auth, ("If-None-Match", "\"5c1a-9a3f0b12\"")],
        Body::None,
    );
    let s4 = resp(
        Srv::Nginx,
        304,
        "Not Modified",
        &[
            ("ETag", "\"5c1a-9a3f0b12\""),
            ("Cache-Control", "private, max-age=60"),
            ("Content-Length", "532"),
        ],
        Body::None,
    );
    c.exchange(&r4, &s4);

    let r5 = req(
        "GET",
        "/api/v1/exports?status=ready",
        host,
        OKHTTP,
        &[auth],
        Body::None,
    );
    let s5 = resp(
        Srv::Nginx,
        200,
        "OK",
        &[],
        Body::Json(format!(
            "{{\"data\":[{{\"id\":\"9a3f0b12\",\"state\":\"ready\",\"url\":\"/api/v1/exports/9a3f0b12/archive.zip\",\"owner\":\"{}\"}}]}}",
            uuid(&mut rng)
        )),
    );
    c.exchange(&r5, &s5);
    Ok(vec![c.done()])
}

fn connect_upgrade(t0: u64) -> Result<Vec<ConvSpec>, SynthError> {
    let mut rng = SplitMix64::new(0x5550);
    // CONNECT through a forward proxy, then TLS.
    let mut c1 = C::new("10.1.7.10:42000", "10.2.7.20:3128", t0)?;
    let r1 = req(
        "CONNECT",
        "payments.example.net:443",
        Some("payments.example.net:443"),
        &[("User-Agent", "curl/8.5.0")],
        &[("Proxy-Connection", "Keep-Alive")],
        Body::None,
    );
    let s1 = resp(Srv::Bare, 200, "Connection established", &[], Body::None);
    c1.exchange(&r1, &s1);
    c1.send(
        Side::Client,
        tls_client_hello(&mut rng, "payments.example.net"),
    )
    .pause(900)
    .send(Side::Server, tls_server_flight(&mut rng))
    .pause(300);
    let mut fin = tls_record(0x14, 3, &[1]);
    fin.extend(tls_app_data(&mut rng, 53));
    fin.extend(tls_app_data(&mut rng, 310));
    c1.send(Side::Client, fin)
        .pause(THINK_US)
        .send(Side::Server, tls_app_data(&mut rng, 820));
    c1.amend(|t| t.upgrade("connect"));

    // A JSON request, then a WebSocket upgrade with frames after it.
    let mut c2 = C::new("10.1.7.11:42001", "10.2.7.21:80", t0 + 1_000)?;
    let host = Some("chat.example.com");
    let r2 = req(
        "GET",
        "/api/v1/rooms/42/history?limit=50",
        host,
        CHROME,
        &[("Cookie", "sid=s%3Aq8Xv2LmT9.kP3rV7yZ")],
        Body::None,
    );
    let s2 = resp(
        Srv::Express,
        200,
        "OK",
        &[],
        Body::Json("{\"room\":42,\"messages\":[{\"id\":1,\"from\":\"aiko\",\"text\":\"hi all\"},{\"id\":2,\"from\":\"lucas\",\"text\":\"morning\"}]}".into()),
    );
    c2.exchange(&r2, &s2);
    let r3 = req(
        "GET",
        "/ws/v1/rooms/42",
        host,
        &[
            ("Connection", "Upgrade"),
            ("Pragma", "no-cache"),
            ("Cache-Control", "no-cache"),
            (
                "User-Agent",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            ),
            ("Upgrade", "websocket"),
            ("Origin", "http://chat.example.com"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            (
                "Sec-WebSocket-Extensions",
                "permessage-deflate; client_max_window_bits",
            ),
        ],
        &[],
        Body::None,
    );
    let s3 = resp(
        Srv::Bare,
        101,
        "Switching Protocols",
        &[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        ],
        Body::None,
    );
    c2.exchange(&r3, &s3);
    c2.amend(|t| t.upgrade("websocket"));
    let sub = ws_text(&mut rng, "{\"type\":\"subscribe\",\"room\":42}", true);
    c2.send(Side::Client, sub).pause(500);
    // A server frame whose text looks like HTTP: parsing must have stopped.
    let mut frames = ws_text(
        &mut rng,
        "{\"type\":\"message\",\"id\":3,\"text\":\"the proxy said HTTP/1.1 200 OK\"}",
        false,
    );
    frames.extend(ws_text(
        &mut rng,
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        false,
    ));
    c2.send(Side::Server, frames).pause(800);
    let ping = ws_text(&mut rng, "{\"type\":\"typing\",\"room\":42}", true);
    c2.send(Side::Client, ping);

    // Java's HTTP client asks for h2c on cleartext; the server agrees.
    let mut c3 = C::new("10.1.7.12:42002", "10.2.7.22:8080", t0 + 2_000)?;
    let mut r4 = req(
        "GET",
        "/api/v1/quotes?symbols=ACME,INIT",
        None,
        &[],
        &[
            ("Connection", "Upgrade, HTTP2-Settings"),
            ("Host", "stream.example.com:8080"),
            ("HTTP2-Settings", "AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA"),
            ("Upgrade", "h2c"),
        ],
        Body::None,
    );
    r4.msg.headers.extend(own(JAVA));
    let s4 = resp(
        Srv::Bare,
        101,
        "Switching Protocols",
        &[("Connection", "Upgrade"), ("Upgrade", "h2c")],
        Body::None,
    );
    let mut h2_server = h2_frame(4, 0, 0, &[0, 3, 0, 0, 0, 100]);
    let mut hdr = vec![0x88, 0x5f, 16];
    hdr.extend_from_slice(b"application/json");
    h2_server.extend(h2_frame(1, 4, 1, &hdr));
    h2_server.extend(h2_frame(
        0,
        1,
        1,
        b"{\"quotes\":[{\"symbol\":\"ACME\",\"bid\":101.25,\"ask\":101.27},{\"symbol\":\"INIT\",\"bid\":12.5,\"ask\":12.51}]}",
    ));
    let mut resp_bytes = s4.msg.bytes();
    resp_bytes.extend(h2_server);
    c3.req(&r4).pause(THINK_US).send(Side::Server, resp_bytes);
    c3.expect(tx(&r4, &s4).upgrade("h2c"));
    let mut preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    preface.extend(h2_frame(4, 0, 0, &[0, 2, 0, 0, 0, 0]));
    preface.extend(h2_frame(4, 1, 0, &[]));
    c3.pause(300)
        .send(Side::Client, preface)
        .pause(200)
        .send(Side::Server, h2_frame(4, 1, 0, &[]));
    Ok(vec![c1.done(), c2.done(), c3.done()])
}

fn tolerance(t0: u64) -> Result<Vec<ConvSpec>, SynthError> {
    // HTTP/1.0 without Host.
    let mut c1 = C::new("10.1.8.10:43000", "10.2.8.20:80", t0)?.close(Close::ServerFin);
    let mut r1 = req(
        "GET",
        "/status",
        None,
        &[
            ("User-Agent", "check_http/v2.3.3 (monitoring-plugins 2.3.3)"),
            ("Connection", "close"),
        ],
        &[],
        Body::None,
    );
    r1.msg.start = "GET /status HTTP/1.0".into();
    let mut s1 = resp(
        Srv::Nginx,
        200,
        "OK",
        &[("Connection", "close")],
        Body::Json("{\"status\":\"ok\",\"uptime_s\":86400,\"version\":\"2.14.1\"}".into()),
    );
    s1.msg.start = "HTTP/1.0 200 OK".into();
    c1.exchange(&r1, &s1);

    // Absolute-form target through a forward proxy.
    let mut c2 = C::new("10.1.8.11:43001", "10.2.8.21:3128", t0 + 900)?;
    let r2 = req(
        "GET",
        "http://API.Example.com:80/v1/status?verbose=1",
        Some("API.Example.com:80"),
        CURL,
        &[("Proxy-Connection", "Keep-Alive")],
        Body::None,
    );
    let s2 = resp(
        Srv::Squid,
        200,
        "OK",
        &[("Via", "1.1 proxy.corp.example (squid/6.6)")],
        Body::Json(
            "{\"status\":\"ok\",\"components\":{\"db\":\"ok\",\"cache\":\"degraded\"}}".into(),
        ),
    );
    c2.exchange(&r2, &s2);

    // Odd header case, a leading CRLF, then bare LF line endings.
    let mut c3 = C::new("10.1.8.12:43002", "10.2.8.22:8080", t0 + 1_800)?;
    let host = Some("Gateway.Example.COM:8080");
    let login = "{\"username\":\"aiko.tanaka\",\"password\":\"correct horse battery staple\",\"otp\":\"491027\"}";
    let mut r3 = req(
        "POST",
        "/api/v1/sessions",
        host,
        OKHTTP,
        &[("Content-Type", "application/json")],
        Body::Raw(login.as_bytes().to_vec(), login.len() as u64),
    );
    r3.msg
        .headers
        .push(("cOnTeNt-LeNgTh".into(), login.len().to_string()));
    let s3 = resp(
        Srv::Kestrel,
        201,
        "Created",
        &[(
            "Set-Cookie",
            "session=Zm9vYmFy; Path=/; HttpOnly; SameSite=Lax",
        )],
        Body::Json("{\"session_id\":\"sess_71b0c2\",\"expires_in\":3600}".into()),
    );
    c3.exchange(&r3, &s3);
    let mut r4 = req(
        "GET",
        "/api/v1/sessions/current",
        host,
        OKHTTP,
        &[("Cookie", "session=Zm9vYmFy")],
        Body::None,
    );
    r4.msg.prefix = b"\r\n".to_vec();
    let s4 = resp(
        Srv::Kestrel,
        200,
        "OK",
        &[],
        Body::Json("{\"user\":\"aiko.tanaka\",\"mfa\":true}".into()),
    );
    c3.exchange(&r4, &s4);
    let mut r5 = req(
        "GET",
        "/api/v1/ping",
        host,
        &[("User-Agent", "legacy-monitor/1.0")],
        &[],
        Body::None,
    );
    r5.msg.eol = "\n";
    let mut s5 = resp(
        Srv::Bare,
        200,
        "OK",
        &[("Content-Type", "application/json")],
        Body::Json("{\"pong\":true}".into()),
    );
    s5.msg.eol = "\n";
    c3.exchange(&r5, &s5);
    c3.amend(|t| t.anomaly("bare_lf"));
    Ok(vec![c1.done(), c2.done(), c3.done()])
}

fn smuggling(t0: u64) -> Result<Vec<ConvSpec>, SynthError> {
    let host = Some("shop.example.com");
    // Duplicate identical Content-Length, then a normal request.
    let mut c1 = C::new("10.1.9.10:44000", "10.2.9.20:80", t0)?;
    let item = "{\"sku\":\"SKU-10442\",\"qty\":1,\"gift\":false}";
    let n = item.len().to_string();
    let r1 = req(
        "POST",
        "/api/v1/cart/items",
        host,
        CURL,
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", &n),
            ("Content-Length", &n),
        ],
        Body::Raw(item.as_bytes().to_vec(), item.len() as u64),
    );
    let s1 = resp(
        Srv::Nginx,
        200,
        "OK",
        &[],
        Body::Json("{\"cart_id\":\"c_88af\",\"items\":1}".into()),
    );
    c1.exchange(&r1, &s1);
    c1.amend(|t| t.anomaly("duplicate_content_length"));
    let r2 = req("GET", "/api/v1/cart", host, CURL, &[], Body::None);
    let s2 = resp(
        Srv::Nginx,
        200,
        "OK",
        &[],
        Body::Json("{\"cart_id\":\"c_88af\",\"items\":[{\"sku\":\"SKU-10442\",\"qty\":1}]}".into()),
    );
    c1.exchange(&r2, &s2);

    // Conflicting Content-Length: the first (smaller) value is sent; the
    // server rejects it and closes.
    let mut c2 = C::new("10.1.9.11:44001", "10.2.9.20:80", t0 + 1_000)?.close(Close::ServerFin);
    let pay = "{\"cart_id\":\"c_88af\",\"pay\":1}";
    let first = pay.len().to_string();
    let r3 = req(
        "POST",
        "/api/v1/cart/checkout",
        host,
        CURL,
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", &first),
            ("Content-Length", "89"),
        ],
        Body::Raw(pay.as_bytes().to_vec(), pay.len() as u64),
    );
    let bad = "<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n";
    let s3 = resp(
        Srv::Nginx,
        400,
        "Bad Request",
        &[("Connection", "close")],
        Body::Typed("text/html", bad.as_bytes().to_vec()),
    );
    c2.exchange(&r3, &s3);
    c2.amend(|t| t.anomaly("conflicting_content_length"));

    // CL.TE: chunked wins; the bytes after the last chunk are a second
    // (smuggled) request that this backend also answers.
    let mut c3 = C::new("10.1.9.12:44002", "10.2.9.21:80", t0 + 2_000)?;
    let chunked_body = b"e\r\nq=shoes&page=1\r\n0\r\n\r\n".to_vec();
    let smuggled = req(
        "GET",
        "/admin/users",
        host,
        &[("X-Forwarded-For", "127.0.0.1")],
        &[],
        Body::None,
    );
    let mut after = chunked_body.clone();
    after.extend(smuggled.msg.bytes());
    let cl = after.len().to_string();
    let r4 = req(
        "POST",
        "/api/v1/search",
        host,
        CURL,
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Content-Length", &cl),
            ("Transfer-Encoding", "chunked"),
        ],
        Body::Raw(after, 14),
    );
    let s4 = resp(
        Srv::Express,
        200,
        "OK",
        &[],
        Body::Json("{\"results\":[],\"total\":0,\"query\":\"shoes\"}".into()),
    );
    let s5 = resp(
        Srv::Express,
        403,
        "Forbidden",
        &[],
        Body::Json("{\"error\":\"forbidden\"}".into()),
    );
    c3.req(&r4)
        .pause(THINK_US)
        .resp(&s4)
        .pause(300)
        .resp(&s5)
        .pause(IDLE_US);
    c3.expect(tx(&r4, &s4).anomaly("cl_and_te"));
    c3.expect(tx(&smuggled, &s5));

    // A chunk size that is not hexadecimal: the body cannot be framed.
    let mut c4 = C::new("10.1.9.13:44003", "10.2.9.22:8080", t0 + 3_000)?.close(Close::ServerFin);
    let part = "{\"part\":1,\"n\":2}";
    let mut raw = format!("{:x}\r\n{part}\r\n", part.len()).into_bytes();
    raw.extend_from_slice(b"-1\r\nAAAAAAAAAAAAAAAA\r\n0\r\n\r\n");
    let r6 = req(
        "POST",
        "/api/v1/uploads",
        Some("upload.example.com:8080"),
        GO,
        &[
            ("Content-Type", "application/json"),
            ("Transfer-Encoding", "chunked"),
        ],
        Body::Raw(raw, part.len() as u64),
    );
    let s6 = resp(
        Srv::Kestrel,
        400,
        "Bad Request",
        &[("Connection", "close")],
        Body::Json("{\"title\":\"Bad Request\",\"status\":400}".into()),
    );
    c4.exchange(&r6, &s6);
    c4.amend(|t| t.anomaly("invalid_chunk_size").incomplete());
    Ok(vec![c1.done(), c2.done(), c3.done(), c4.done()])
}

fn odd_ports(t0: u64) -> Result<Vec<ConvSpec>, SynthError> {
    let mut rng = SplitMix64::new(0x4f50);
    let mut c1 = C::new("10.1.10.10:45000", "10.2.10.20:3000", t0)?;
    let host = Some("dev-api.example.com:3000");
    let r1 = req(
        "GET",
        "/api/v1/todos?completed=false&limit=10",
        host,
        CURL,
        &[],
        Body::None,
    );
    let s1 = resp(
        Srv::Express,
        200,
        "OK",
        &[],
        Body::Json("[{\"id\":17,\"title\":\"rotate API keys\",\"completed\":false},{\"id\":21,\"title\":\"review PR #482\",\"completed\":false}]".into()),
    );
    let r2 = req(
        "POST",
        "/api/v1/todos",
        host,
        CURL,
        &[],
        Body::Json("{\"title\":\"renew TLS certificate\",\"due\":\"2026-01-15\"}".into()),
    );
    let s2 = resp(
        Srv::Express,
        201,
        "Created",
        &[("Location", "/api/v1/todos/22")],
        Body::Json("{\"id\":22,\"title\":\"renew TLS certificate\",\"completed\":false}".into()),
    );
    c1.exchange(&r1, &s1).exchange(&r2, &s2);

    let mut c2 = C::new("10.1.10.11:45001", "10.2.10.21:8443", t0 + 700)?;
    let r3 = req(
        "GET",
        "/api/v1/invoices/INV-2025-0042",
        Some("billing.example.com:8443"),
        &[
            (
                "User-Agent",
                "Mozilla/5.0 (compatible; BillingSync/3.2; +https://example.com)",
            ),
            ("Accept", "application/json"),
        ],
        &[("Authorization", "Basic YmlsbGluZzpzM2NyM3Q=")],
        Body::None,
    );
    let s3 = resp(
        Srv::Kestrel,
        200,
        "OK",
        &[],
        Body::Json(format!(
            "{{\"invoice\":\"INV-2025-0042\",\"customer\":\"{}\",\"amount\":{{\"value\":\"1249.00\",\"currency\":\"USD\"}},\"status\":\"open\",\"iban\":\"DE89370400440532013000\"}}",
            uuid(&mut rng)
        )),
    );
    c2.exchange(&r3, &s3);

    let mut c3 = C::new("10.1.10.12:45002", "10.2.10.22:9200", t0 + 1_400)?;
    let host = Some("search-1.internal.example.com:9200");
    let es_hdr: Hdrs = &[
        (
            "User-Agent",
            "elasticsearch-py/8.15.1 (Python/3.12.4; elastic-transport/8.15.0)",
        ),
        (
            "Accept",
            "application/vnd.elasticsearch+json; compatible-with=8",
        ),
    ];
    let r4 = req(
        "GET",
        "/_cluster/health?pretty=false",
        host,
        es_hdr,
        &[],
        Body::None,
    );
    let s4 = resp(
        Srv::Elastic,
        200,
        "OK",
        &[],
        Body::Json("{\"cluster_name\":\"orders-prod\",\"status\":\"green\",\"number_of_nodes\":3,\"active_shards\":42,\"unassigned_shards\":0}".into()),
    );
    let query = "{\"query\":{\"bool\":{\"filter\":[{\"term\":{\"status\":\"paid\"}},{\"range\":{\"created_at\":{\"gte\":\"now-1d\"}}}]}},\"size\":3}";
    let r5 = req(
        "POST",
        "/orders-2025.12/_search?typed_keys=true",
        host,
        es_hdr,
        &[],
        Body::Typed(
            "application/vnd.elasticsearch+json; compatible-with=8",
            query.as_bytes().to_vec(),
        ),
    );
    let hits: Vec<String> = (0..3)
        .map(|_| {
            format!(
                "{{\"_index\":\"orders-2025.12\",\"_id\":\"{}\",\"_score\":0.0,\"_source\":{}}}",
                hex_id(&mut rng, 20),
                order_json(&mut rng)
            )
        })
        .collect();
    let s5 = resp(
        Srv::Elastic,
        200,
        "OK",
        &[],
        Body::Json(format!(
            "{{\"took\":4,\"timed_out\":false,\"hits\":{{\"total\":{{\"value\":1834,\"relation\":\"eq\"}},\"hits\":[{}]}}}}",
            hits.join(",")
        )),
    );
    c3.exchange(&r4, &s4).exchange(&r5, &s5);

    // TLS on 443: no HTTP here.
    let mut c4 = C::new("10.1.10.13:45003", "10.2.10.23:443", t0 + 2_100)?;
    c4.send(Side::Client, tls_client_hello(&mut rng, "api.example.com"))
        .pause(900)
        .send(Side::Server, tls_server_flight(&mut rng))
        .pause(300);
    let mut fin = tls_record(0x14, 3, &[1]);
    fin.extend(tls_app_data(&mut rng, 53));
    fin.extend(tls_app_data(&mut rng, 420));
    c4.send(Side::Client, fin)
        .pause(THINK_US)
        .send(Side::Server, tls_app_data(&mut rng, 1150));
    Ok(vec![c1.done(), c2.done(), c3.done(), c4.done()])
}

/// A keep-alive connection with larger messages, for segment operations.
fn busy_conn(
    client: &str,
    server: &str,
    host: &str,
    t0: u64,
    rng: &mut SplitMix64,
) -> Result<C, SynthError> {
    let mut c = C::new(client, server, t0)?;
    let h = Some(host);
    let body = orders_page(rng, 8);
    let r1 = req(
        "POST",
        "/api/v1/orders/bulk",
        h,
        GO,
        &[("Authorization", JWT)],
        Body::Json(body),
    );
    let s1 = resp(
        Srv::Envoy,
        207,
        "Multi-Status",
        &[],
        Body::Json(orders_page(rng, 3)),
    );
    let r2 = req(
        "GET",
        &format!("/api/v1/users/{UID}/orders?limit=20&cursor=abc"),
        h,
        GO,
        &[("Authorization", JWT)],
        Body::None,
    );
    let s2 = resp(Srv::Envoy, 200, "OK", &[], Body::Json(orders_page(rng, 20)));
    let r3 = req(
        "PATCH",
        &format!("/api/v1/users/{UID}"),
        h,
        GO,
        &[("Authorization", JWT)],
        Body::Json("{\"phone\":\"+351-912-000-111\",\"marketing_opt_in\":false}".into()),
    );
    let id = uuid(rng);
    let s3 = resp(Srv::Envoy, 200, "OK", &[], Body::Json(user_json(rng, &id)));
    c.exchange(&r1, &s1).exchange(&r2, &s2).exchange(&r3, &s3);
    Ok(c)
}

fn reordered(t0: u64) -> Result<Vec<ConvSpec>, SynthError> {
    let mut rng = SplitMix64::new(0x524f);
    let mut c1 = busy_conn(
        "10.1.11.10:46000",
        "10.2.11.20:80",
        "orders.example.com",
        t0,
        &mut rng,
    )?;
    c1.op(SegOp::Resegment(300))
        .op(SegOp::Reorder(4))
        .op(SegOp::Duplicate(Select::Random { num: 1, den: 5 }))
        .op(SegOp::Overlap(
            Select::Random { num: 1, den: 4 },
            Overlap::Same { max_len: 40 },
        ));
    let mut c2 = busy_conn(
        "10.1.11.11:46001",
        "10.2.11.21:8080",
        "orders.example.com:8080",
        t0 + 1_300,
        &mut rng,
    )?
    .mss(200);
    c2.op(SegOp::Resegment(64))
        .op(SegOp::Reorder(6))
        .op(SegOp::Overlap(
            Select::Random { num: 1, den: 3 },
            Overlap::Same { max_len: 100 },
        ))
        .op(SegOp::Duplicate(Select::Random { num: 1, den: 3 }));
    Ok(vec![c1.done(), c2.done()])
}

fn overlap_evasion(t0: u64) -> Result<Vec<ConvSpec>, SynthError> {
    let mut c = C::new("10.1.12.10:47000", "10.2.12.20:80", t0)?;
    let host = Some("bank.example.com");
    let auth = ("Authorization", JWT);
    // "GET /api/v1/accounts" | "/1001/balance ...": the overlap re-sends
    // "accounts" as "internal".
    let r1 = req(
        "GET",
        "/api/v1/accounts/1001/balance",
        host,
        OKHTTP,
        &[auth],
        Body::None,
    );
    let s1 = resp(
        Srv::Nginx,
        200,
        "OK",
        &[],
        Body::Json(
            "{\"account\":\"1001\",\"balance\":{\"amount\":\"2450.10\",\"currency\":\"EUR\"}}"
                .into(),
        ),
    );
    let at = c.offset(Side::Client) + 20;
    c.send_sized(Side::Client, r1.msg.bytes(), vec![20])
        .pause(THINK_US)
        .resp(&s1)
        .pause(IDLE_US);
    c.op(SegOp::Overlap(
        Select::Byte {
            side: Side::Client,
            offset: at,
        },
        Overlap::Replace {
            bytes: b"internal".to_vec(),
        },
    ));
    c.expect(tx(&r1, &s1).anomaly("overlap_different_data"));

    // The amount in a JSON body: "...\"amount\":\"25" | ".00\"}" re-sent
    // as "99".
    let transfer = "{\"from\":\"1001\",\"to\":\"DE89370400440532013000\",\"amount\":\"25.00\"}";
    let r2 = req(
        "POST",
        "/api/v1/transfers",
        host,
        OKHTTP,
        &[
            auth,
            ("Idempotency-Key", "4f7c2a9e-1b3d-4e5f-8a6b-7c8d9e0f1a2b"),
        ],
        Body::Json(transfer.into()),
    );
    let bytes = r2.msg.bytes();
    let split = bytes.len() - ".00\"}".len();
    let at = c.offset(Side::Client) + split as u64;
    let s2 = resp(
        Srv::Nginx,
        201,
        "Created",
        &[],
        Body::Json(
            "{\"transfer_id\":\"tr_0c9d8e\",\"status\":\"pending\",\"amount\":\"25.00\"}".into(),
        ),
    );
    c.send_sized(Side::Client, bytes, vec![split])
        .pause(THINK_US)
        .resp(&s2)
        .pause(IDLE_US);
    c.op(SegOp::Overlap(
        Select::Byte {
            side: Side::Client,
            offset: at,
        },
        Overlap::Replace {
            bytes: b"99".to_vec(),
        },
    ));
    c.expect(tx(&r2, &s2).anomaly("overlap_different_data"));

    let r3 = req(
        "GET",
        "/api/v1/transfers/tr_0c9d8e",
        host,
        OKHTTP,
        &[auth],
        Body::None,
    );
    let s3 = resp(
        Srv::Nginx,
        200,
        "OK",
        &[],
        Body::Json("{\"transfer_id\":\"tr_0c9d8e\",\"status\":\"pending\"}".into()),
    );
    c.exchange(&r3, &s3);
    Ok(vec![c.done()])
}

fn loss(t0: u64) -> Result<Vec<ConvSpec>, SynthError> {
    let mut rng = SplitMix64::new(0x4c4f);
    let mut c = C::new("10.1.13.10:48000", "10.2.13.20:80", t0)?;
    let host = Some("media.example.com");
    let album = "/api/v1/albums/3c9f2e71-5b8d-4a1e-9f3c-6d2b8e4a7c10";
    // Loss inside a Content-Length body.
    let r1 = req(
        "GET",
        &format!("{album}/photos?page=2&per_page=40"),
        host,
        CHROME,
        &[],
        Body::None,
    );
    let photos = format!(
        "{{\"photos\":[{}]}}",
        (0..40)
            .map(|i| format!(
                "{{\"id\":\"ph_{}\",\"url\":\"/media/{}/full.jpg\",\"width\":4032,\"height\":3024,\"n\":{i}}}",
                hex_id(&mut rng, 10),
                hex_id(&mut rng, 24)
            ))
            .collect::<Vec<_>>()
            .join(",")
    );
    let s1 = resp(Srv::Nginx, 200, "OK", &[], Body::Json(photos));
    let lost_body = c.offset(Side::Server) + s1.msg.head_bytes().len() as u64 + 2_000;
    c.exchange(&r1, &s1);
    c.op(SegOp::Drop(Select::Byte {
        side: Side::Server,
        offset: lost_body,
    }));
    c.amend(|t| t.incomplete().anomaly("gap"));
    let r2 = req("GET", album, host, CHROME, &[], Body::None);
    let s2 = resp(
        Srv::Nginx,
        200,
        "OK",
        &[],
        Body::Json(
            "{\"id\":\"3c9f2e71\",\"title\":\"Lisbon 2025\",\"photos\":128,\"shared\":false}"
                .into(),
        ),
    );
    c.exchange(&r2, &s2);
    // Loss inside a request header block (a long Cookie header).
    let cookie = format!(
        "_ga=GA1.2.{}.{}; session={}; prefs={}",
        rng.below(1 << 31),
        1_767_000_000 + rng.below(100_000),
        hex_id(&mut rng, 64),
        hex_id(&mut rng, 2400)
    );
    let r3 = req(
        "GET",
        &format!("{album}/comments?limit=50"),
        host,
        CHROME,
        &[("Cookie", &cookie)],
        Body::None,
    );
    let lost_head = c.offset(Side::Client) + 1_460 + 10;
    let s3 = resp(
        Srv::Nginx,
        200,
        "OK",
        &[],
        Body::Json("{\"comments\":[{\"id\":1,\"author\":\"chen\",\"text\":\"stunning light\"}],\"count\":1}".into()),
    );
    c.exchange(&r3, &s3);
    c.op(SegOp::Drop(Select::Byte {
        side: Side::Client,
        offset: lost_head,
    }));
    c.amend(|t| t.incomplete().anomaly("gap"));
    let r4 = req(
        "POST",
        &format!("{album}/likes"),
        host,
        CHROME,
        &[],
        Body::Json("{\"photo_id\":\"ph_1\",\"reaction\":\"heart\"}".into()),
    );
    let s4 = resp(
        Srv::Nginx,
        201,
        "Created",
        &[],
        Body::Json("{\"likes\":42}".into()),
    );
    c.exchange(&r4, &s4);
    Ok(vec![c.done()])
}

fn midstream(t0: u64) -> Result<Vec<ConvSpec>, SynthError> {
    let mut rng = SplitMix64::new(0x4d53);
    // Capture starts 3000 bytes into the first response's body.
    let mut c1 = C::new("10.1.14.10:49000", "10.2.14.20:80", t0)?;
    let host = Some("feeds.example.com");
    let r0 = req(
        "GET",
        "/api/v1/feed?since=2025-12-31T00:00:00Z",
        host,
        OKHTTP,
        &[],
        Body::None,
    );
    let s0 = resp(
        Srv::Nginx,
        200,
        "OK",
        &[],
        Body::Json(orders_page(&mut rng, 25)),
    );
    let start = c1.offset(Side::Server) + s0.msg.head_bytes().len() as u64 + 3_000;
    c1.req(&r0).pause(THINK_US).resp(&s0).pause(IDLE_US);
    let r1 = req(
        "GET",
        "/api/v1/feed/items/77",
        host,
        OKHTTP,
        &[],
        Body::None,
    );
    let s1 = resp(Srv::Nginx, 200, "OK", &[], Body::Json(order_json(&mut rng)));
    let r2 = req(
        "GET",
        "/api/v1/notifications?unread=true",
        host,
        OKHTTP,
        &[],
        Body::None,
    );
    let s2 = resp(
        Srv::Nginx,
        200,
        "OK",
        &[],
        Body::Json("{\"unread\":2,\"items\":[{\"id\":\"n1\",\"kind\":\"order_shipped\"},{\"id\":\"n2\",\"kind\":\"price_drop\"}]}".into()),
    );
    c1.exchange(&r1, &s1).exchange(&r2, &s2);
    c1.op(SegOp::StartAt(Select::Byte {
        side: Side::Server,
        offset: start,
    }));

    // Capture starts after the request was sent: the first response has
    // no request.
    let mut c2 = C::new("10.1.14.11:49001", "10.2.14.21:8080", t0 + 400)?;
    let host = Some("orders.example.com:8080");
    let r3 = req(
        "POST",
        "/api/v1/orders",
        host,
        JAVA,
        &[("Authorization", JWT)],
        Body::Json("{\"items\":[{\"sku\":\"SKU-55012\",\"qty\":1}],\"currency\":\"EUR\"}".into()),
    );
    let s3 = resp(
        Srv::Kestrel,
        201,
        "Created",
        &[("Location", "/api/v1/orders/ord_8842")],
        Body::Json("{\"id\":\"ord_8842\",\"status\":\"pending\"}".into()),
    );
    c2.req(&r3).pause(THINK_US).resp(&s3).pause(IDLE_US);
    c2.expect(orphan(&s3));
    let r4 = req(
        "GET",
        "/api/v1/orders/ord_8842",
        host,
        JAVA,
        &[("Authorization", JWT)],
        Body::None,
    );
    let s4 = resp(
        Srv::Kestrel,
        200,
        "OK",
        &[],
        Body::Json("{\"id\":\"ord_8842\",\"status\":\"paid\"}".into()),
    );
    c2.exchange(&r4, &s4);
    c2.op(SegOp::StartAt(Select::Byte {
        side: Side::Server,
        offset: 0,
    }));
    Ok(vec![c1.done(), c2.done()])
}

fn ipv6_vlan(t0: u64) -> Result<Vec<ConvSpec>, SynthError> {
    let mut rng = SplitMix64::new(0x3656);
    let vlan = style(Link::Ethernet, vec![Encap::Vlan(42)]);
    let mut c1 = C::new("[2001:db8:100::10]:50100", "[2001:db8:200::20]:80", t0)?.mss(1440);
    c1.spec.style = vlan.clone();
    let host = Some("api6.example.com");
    let r1 = req("GET", "/api/v1/health", host, CURL, &[], Body::None);
    let s1 = resp(
        Srv::Envoy,
        200,
        "OK",
        &[],
        Body::Json("{\"status\":\"SERVING\"}".into()),
    );
    let dev = uuid(&mut rng);
    let r2 = req(
        "PUT",
        &format!("/api/v1/devices/{dev}/config"),
        host,
        CURL,
        &[("Authorization", JWT)],
        Body::Json(
            "{\"sampling_rate_hz\":50,\"upload_interval_s\":300,\"firmware_channel\":\"stable\"}"
                .into(),
        ),
    );
    let s2 = resp(
        Srv::Envoy,
        200,
        "OK",
        &[],
        Body::Json(format!(
            "{{\"device\":\"{dev}\",\"config_version\":18,\"applied\":false}}"
        )),
    );
    c1.exchange(&r1, &s1).exchange(&r2, &s2);

    // IPv6 extension headers too, and a literal IPv6 Host with port 80.
    let mut c2 = C::new(
        "[2001:db8:100::11]:50101",
        "[2001:db8:200::21]:80",
        t0 + 600,
    )?
    .mss(1424)
    .close(Close::ServerFin);
    c2.spec.style = vlan;
    c2.spec.style.ipv6_ext = true;
    let r3 = req(
        "GET",
        "/metrics?format=json",
        Some("[2001:DB8:200::21]:80"),
        &[
            ("User-Agent", "Prometheus/2.53.0"),
            ("Accept", "application/json"),
        ],
        &[],
        Body::None,
    );
    let s3 = resp(
        Srv::Nginx,
        200,
        "OK",
        &[],
        Body::Json("{\"http_requests_total\":1843021,\"http_request_duration_seconds_p99\":0.231,\"process_resident_memory_bytes\":91336704}".into()),
    );
    c2.exchange(&r3, &s3);
    Ok(vec![c1.done(), c2.done()])
}

/// One random API connection for `http-messy`.
fn random_conn(rng: &mut SplitMix64, i: usize, start: u64) -> Result<ConvSpec, SynthError> {
    const SERVERS: &[(&str, &str, Srv, bool)] = &[
        ("10.3.0.10:80", "api.example.com", Srv::Nginx, false),
        (
            "10.3.0.11:8080",
            "orders.example.com:8080",
            Srv::Envoy,
            false,
        ),
        (
            "10.3.0.12:3000",
            "web-bff.example.com:3000",
            Srv::Express,
            true,
        ),
        (
            "10.3.0.13:8443",
            "billing.example.com:8443",
            Srv::Kestrel,
            true,
        ),
        (
            "10.3.0.14:9200",
            "search.example.com:9200",
            Srv::Elastic,
            false,
        ),
        ("10.3.0.15:80", "Auth.Example.org", Srv::Nginx, false),
    ];
    const CLIENTS: &[Hdrs] = &[CURL, CHROME, GO, PYTHON, OKHTTP, JAVA];
    let (server, host, srv, chunky) = SERVERS[rng.index(SERVERS.len())];
    let ua = CLIENTS[rng.index(CLIENTS.len())];
    let v6 = i % 8 == 5;
    let (client, server) = if v6 {
        let port = server.rsplit(':').next().unwrap_or("80");
        (
            format!("[2001:db8:9::{:x}]:{}", 0x100 + i, 33_000 + i),
            format!("[2001:db8:3::{:x}]:{port}", 10 + rng.below(6)),
        )
    } else {
        (
            format!("10.9.{}.{}:{}", i / 200, 10 + i % 200, 33_000 + i),
            server.to_string(),
        )
    };
    let mut c = C::new(&client, &server, start)?;
    if v6 {
        c.spec.mss = 1440;
        c.spec.style = style(Link::Ethernet, vec![Encap::Vlan(300 + i as u16)]);
    }
    c.spec.seed = 0x6d65_7373_0000 + i as u64;
    let n = 1 + rng.below(5);
    for _ in 0..n {
        let id = uuid(rng);
        let (method, target, body) = match rng.below(10) {
            0..=3 => (
                "GET",
                match rng.below(4) {
                    0 => format!("/api/v1/users/{id}"),
                    1 => format!(
                        "/api/v1/users/{id}/orders?limit={}&cursor={}",
                        10 * (1 + rng.below(5)),
                        hex_id(rng, 8)
                    ),
                    2 => format!("/api/v2/products?category=shoes&page={}", 1 + rng.below(9)),
                    _ => format!("/api/v1/orders/ord_{}", hex_id(rng, 10)),
                },
                Body::None,
            ),
            4 | 5 => (
                "POST",
                "/api/v1/orders".to_string(),
                Body::Json(order_json(rng)),
            ),
            6 => (
                "PUT",
                format!("/api/v1/users/{id}"),
                Body::Json(user_json(rng, &id)),
            ),
            7 => (
                "PATCH",
                format!("/api/v1/orders/ord_{}", hex_id(rng, 10)),
                Body::Json("{\"status\":\"cancelled\",\"reason\":\"customer_request\"}".into()),
            ),
            8 => ("DELETE", format!("/api/v1/sessions/{id}"), Body::None),
            _ => ("HEAD", format!("/api/v1/users/{id}/avatar"), Body::None),
        };
        let r = req(
            method,
            &target,
            Some(host),
            ua,
            &[("Authorization", JWT)],
            body,
        );
        let s = match method {
            "DELETE" => resp(srv, 204, "No Content", &[], Body::None),
            "HEAD" => resp(
                srv,
                200,
                "OK",
                &[("Content-Type", "image/png"), ("Content-Length", "48213")],
                Body::None,
            ),
            _ => {
                let (status, reason) = match rng.below(12) {
                    0 => (404, "Not Found"),
                    1 => (401, "Unauthorized"),
                    2 => (422, "Unprocessable Entity"),
                    3 => (500, "Internal Server Error"),
                    _ if method == "POST" => (201, "Created"),
                    _ => (200, "OK"),
                };
                let json = if status >= 400 {
                    format!(
                        "{{\"error\":\"{}\",\"request_id\":\"{}\"}}",
                        reason,
                        hex_id(rng, 16)
                    )
                } else {
                    let n = rng.below(12) as usize;
                    orders_page(rng, n)
                };
                if chunky && rng.chance(1, 2) {
                    let sizes = [1 + rng.below(400) as usize, 1 + rng.below(900) as usize];
                    resp(
                        srv,
                        status,
                        reason,
                        &[],
                        Body::Chunked(
                            "application/json",
                            cut(json.as_bytes(), &sizes)
                                .into_iter()
                                .map(|c| (c, ""))
                                .collect(),
                            vec![],
                        ),
                    )
                } else if rng.chance(1, 3) {
                    resp(
                        srv,
                        status,
                        reason,
                        &[("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")],
                        Body::Typed("application/json", gzip(json.as_bytes())?),
                    )
                } else {
                    resp(srv, status, reason, &[], Body::Json(json))
                }
            }
        };
        c.exchange(&r, &s);
    }
    c.spec.close = [
        Close::ClientFin,
        Close::ServerFin,
        Close::ClientRst,
        Close::Open,
    ][rng.index(4)];
    if rng.chance(1, 3) {
        c.op(SegOp::Resegment(1 + rng.below(300) as usize));
    }
    if rng.chance(1, 3) {
        c.op(SegOp::Reorder(2 + rng.below(4) as usize));
    }
    if rng.chance(1, 4) {
        c.op(SegOp::Duplicate(Select::Random { num: 1, den: 6 }));
    }
    if rng.chance(1, 4) {
        c.op(SegOp::Overlap(
            Select::Random { num: 1, den: 5 },
            Overlap::Same { max_len: 30 },
        ));
    }
    Ok(c.done())
}

/// Endpoint templates of the `api-discovery` scenario, as apitap should learn them (host,
/// method, template): slugs, nested parameters, versioned prefixes, literal siblings of
/// parameters, and two hosts sharing paths.
pub const API_DISCOVERY_TEMPLATES: &[(&str, &str, &str)] = &[
    ("eu.shop.example", "GET", "/api/v2/products/search"),
    ("eu.shop.example", "GET", "/api/v2/products/{productId}"),
    ("eu.shop.example", "GET", "/api/v2/users/me"),
    ("eu.shop.example", "GET", "/api/v2/users/{userId}"),
    (
        "eu.shop.example",
        "GET",
        "/api/v2/users/{userId}/orders/{orderId}",
    ),
    (
        "eu.shop.example",
        "GET",
        "/api/v2/users/{userId}/orders/{orderId}/items/{itemId}",
    ),
    ("eu.shop.example", "GET", "/health"),
    ("eu.shop.example", "PATCH", "/api/v2/users/{userId}"),
    ("git.example", "GET", "/v1/repos/{repoId}/{id}/issues"),
    (
        "git.example",
        "GET",
        "/v1/repos/{repoId}/{id}/issues/{issueId}",
    ),
    ("us.shop.example", "GET", "/api/v2/products/search"),
    ("us.shop.example", "GET", "/api/v2/products/{productId}"),
    ("us.shop.example", "GET", "/api/v2/users/me"),
    ("us.shop.example", "GET", "/api/v2/users/{userId}"),
    (
        "us.shop.example",
        "GET",
        "/api/v2/users/{userId}/orders/{orderId}",
    ),
];

/// Calls whose templates are in [`API_DISCOVERY_TEMPLATES`], over a few keep-alive
/// connections per host.
fn api_discovery(t0: u64) -> Result<Vec<ConvSpec>, SynthError> {
    let mut rng = SplitMix64::new(0x6170_6964);
    let users = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    ];
    let repos = [
        ("torvalds", "linux"),
        ("rust-lang", "cargo"),
        ("octocat", "hello-world"),
        ("pallets", "flask"),
        ("golang", "go"),
        ("vuejs", "core"),
    ];
    let mut convs = Vec::new();
    let mut start = t0;
    for (h, host) in ["eu.shop.example", "us.shop.example"].iter().enumerate() {
        let mut c = C::new(
            &format!("10.7.{h}.10:4{h}100"),
            &format!("10.8.{h}.1:80"),
            start,
        )?;
        let ok = |rng: &mut SplitMix64, id: &str| {
            resp(Srv::Nginx, 200, "OK", &[], Body::Json(user_json(rng, id)))
        };
        let get = |path: &str| req("GET", path, Some(host), PYTHON, &[], Body::None);
        c.exchange(&get("/api/v2/users/me"), &ok(&mut rng, "me"));
        for (i, u) in users.iter().enumerate() {
            c.exchange(&get(&format!("/api/v2/users/{u}")), &ok(&mut rng, u));
            let order = 1000 + i * 7;
            c.exchange(
                &get(&format!("/api/v2/users/{u}/orders/{order}")),
                &ok(&mut rng, u),
            );
            if h == 0 {
                let item = uuid(&mut rng);
                c.exchange(
                    &get(&format!("/api/v2/users/{u}/orders/{order}/items/{item}")),
                    &ok(&mut rng, u),
                );
            }
        }
        c.exchange(&get("/api/v2/products/search?q=lamp"), &ok(&mut rng, "p"));
        for p in ["prd-10442", "prd-20931", "prd-31007"] {
            c.exchange(&get(&format!("/api/v2/products/{p}")), &ok(&mut rng, p));
        }
        if h == 0 {
            c.exchange(&get("/health"), &ok(&mut rng, "h"));
            let patch = req(
                "PATCH",
                "/api/v2/users/grace",
                Some(host),
                PYTHON,
                &[],
                Body::Json("{\"display_name\":\"Grace H.\"}".into()),
            );
            c.exchange(&patch, &ok(&mut rng, "grace"));
        }
        start += 400_000;
        convs.push(c.done());
    }
    let mut c = C::new("10.7.9.10:45000", "10.8.9.1:8080", start)?;
    for (i, (owner, repo)) in repos.iter().enumerate() {
        let get = |path: &str| req("GET", path, Some("git.example"), CURL, &[], Body::None);
        let body = || Body::Json("[]".into());
        c.exchange(
            &get(&format!("/v1/repos/{owner}/{repo}/issues")),
            &resp(Srv::Express, 200, "OK", &[], body()),
        );
        c.exchange(
            &get(&format!("/v1/repos/{owner}/{repo}/issues/{}", 40 + i)),
            &resp(Srv::Express, 200, "OK", &[], body()),
        );
    }
    convs.push(c.done());
    Ok(convs)
}

/// A compact JWT from JSON header and payload; `key` signs it with HMAC-SHA256 (HS256), else
/// the signature is filler bytes (the sensor never verifies asymmetric signatures).
fn posture_jwt(header: &str, payload: &str, key: Option<&[u8]>) -> String {
    use base64::Engine as _;
    use hmac::Mac as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let signing_input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let sig = match key.and_then(|k| hmac::Hmac::<sha2::Sha256>::new_from_slice(k).ok()) {
        Some(mut mac) => {
            mac.update(signing_input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        None => (0u8..64)
            .map(|i| i.wrapping_mul(37).wrapping_add(11))
            .collect(),
    };
    format!("{signing_input}.{}", b64(&sig))
}

/// One transaction for each posture finding: unauthenticated access to personal data on an
/// endpoint that is elsewhere called with a token, a JWT with `alg: none` accepted, an expired
/// JWT accepted, an HS256 JWT signed with a weak secret that lives a year and carries an
/// e-mail claim, a JWT without expiry, one with a non-standard algorithm, Basic credentials
/// with a common password in cleartext, an API key and an SSN in URLs, a password in a
/// login body, and one token sent to two hosts. Clients are public addresses except one.
fn posture(t0: u64) -> Result<Vec<ConvSpec>, SynthError> {
    let now = EPOCH_US / 1_000_000;
    let good = posture_jwt(
        r#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#,
        &format!(
            r#"{{"iss":"https://idp.shop.example","sub":"u-1001","iat":{},"exp":{}}}"#,
            now - 60,
            now + 3600
        ),
        None,
    );
    let none = posture_jwt(
        r#"{"alg":"none","typ":"JWT"}"#,
        &format!(
            r#"{{"sub":"u-1002","iat":{},"exp":{}}}"#,
            now - 60,
            now + 3600
        ),
        None,
    );
    let expired = posture_jwt(
        r#"{"alg":"ES256","typ":"JWT"}"#,
        &format!(
            r#"{{"sub":"u-1003","iat":{},"exp":{}}}"#,
            now - 7200,
            now - 3600
        ),
        None,
    );
    let weak = posture_jwt(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &format!(
            r#"{{"sub":"u-1004","email":"mira.okafor@gmail.com","iat":{},"exp":{}}}"#,
            now - 60,
            now + 365 * 86_400
        ),
        Some(b"secret"),
    );
    let no_exp = posture_jwt(
        r#"{"alg":"RS256","typ":"JWT"}"#,
        r#"{"sub":"svc-reports","iss":"https://idp.shop.example"}"#,
        None,
    );
    let odd_alg = posture_jwt(
        r#"{"alg":"RS1","typ":"JWT"}"#,
        &format!(
            r#"{{"sub":"u-1005","iat":{},"exp":{}}}"#,
            now - 60,
            now + 600
        ),
        None,
    );
    let bearer = |t: &str| format!("Bearer {t}");
    let host = "api.shop.example";
    let mut convs = Vec::new();
    let mut c = C::new("198.51.7.20:50100", "10.9.0.1:80", t0)?;
    let get =
        |path: &str, auth: &[(&str, &str)]| req("GET", path, Some(host), PYTHON, auth, Body::None);
    let json_ok = |b: &str| resp(Srv::Nginx, 200, "OK", &[], Body::Json(b.to_string()));
    // Personal data without credentials, on an endpoint others call with a token.
    c.exchange(
        &get("/api/v1/customers/1001", &[]),
        &json_ok(r#"{"id":1001,"email":"ana.lopez@gmail.com","ssn":"536-22-1947"}"#),
    );
    let b = bearer(&good);
    c.exchange(
        &get("/api/v1/customers/1002", &[("Authorization", b.as_str())]),
        &json_ok(r#"{"id":1002,"email":"li.wei@outlook.com","ssn":"219-45-3380"}"#),
    );
    c.exchange(
        &get("/api/v1/customers/1003", &[("Authorization", b.as_str())]),
        &json_ok(r#"{"id":1003,"email":"sam.moreau@orange.fr","ssn":"482-61-0937"}"#),
    );
    let n = bearer(&none);
    c.exchange(
        &get("/api/v1/orders", &[("Authorization", n.as_str())]),
        &json_ok("[]"),
    );
    let e = bearer(&expired);
    c.exchange(
        &get("/api/v1/orders/77", &[("Authorization", e.as_str())]),
        &json_ok(r#"{"id":77,"handled_by":"EMP-004211"}"#),
    );
    let w = bearer(&weak);
    c.exchange(
        &get("/api/v1/reports", &[("Authorization", w.as_str())]),
        &json_ok("[]"),
    );
    let x = bearer(&no_exp);
    c.exchange(
        &get("/api/v1/reports/daily", &[("Authorization", x.as_str())]),
        &json_ok("[]"),
    );
    let o = bearer(&odd_alg);
    c.exchange(
        &get("/api/v1/invoices", &[("Authorization", o.as_str())]),
        &json_ok("[]"),
    );
    convs.push(c.done());
    // Basic credentials with a common password; keys and an SSN in the URL; a login.
    let mut c = C::new("203.0.114.9:50200", "10.9.0.1:80", t0 + 200_000)?;
    let basic = "Basic YWRtaW46cGFzc3dvcmQxMjM="; // admin:password123
    c.exchange(
        &get("/api/v1/admin/stats", &[("Authorization", basic)]),
        &json_ok(r#"{"users":12}"#),
    );
    c.exchange(
        &get(
            "/api/v1/export?format=csv&api_key=9f8e7d6c5b4a39281706f5e4d3c2b1a0",
            &[],
        ),
        &json_ok("[]"),
    );
    c.exchange(
        &get(
            "/api/v1/lookup?ssn=536-22-1947",
            &[("Authorization", b.as_str())],
        ),
        &json_ok(r#"{"found":true}"#),
    );
    let login = req(
        "POST",
        "/api/v1/login",
        Some(host),
        PYTHON,
        &[],
        Body::Typed(
            "application/x-www-form-urlencoded",
            b"username=ana.lopez%40gmail.com&password=Tr0ub4dor%263x!".to_vec(),
        ),
    );
    c.exchange(&login, &json_ok(r#"{"ok":true}"#));
    convs.push(c.done());
    // The same token on a second host, from an internal client.
    let mut c = C::new("10.9.5.5:50300", "10.9.0.2:8080", t0 + 400_000)?;
    c.exchange(
        &req(
            "GET",
            "/v2/balance",
            Some("billing.shop.example:8080"),
            CURL,
            &[("Authorization", b.as_str())],
            Body::None,
        ),
        &json_ok(r#"{"balance":"12.50"}"#),
    );
    convs.push(c.done());
    Ok(convs)
}

type Builder = fn(u64) -> Result<Vec<ConvSpec>, SynthError>;

const BUILDERS: &[(&str, Builder)] = &[
    ("http-keepalive", keepalive),
    ("http-pipelining", pipelining),
    ("http-chunked", chunked),
    ("http-gzip", gzipped),
    ("http-close-delimited", close_delimited),
    ("http-head-1xx-204-304", head_1xx),
    ("http-connect-upgrade", connect_upgrade),
    ("http-tolerance", tolerance),
    ("http-smuggling", smuggling),
    ("http-odd-ports", odd_ports),
    ("http-reordered", reordered),
    ("http-overlap-evasion", overlap_evasion),
    ("http-loss", loss),
    ("http-midstream", midstream),
    ("http-ipv6-vlan", ipv6_vlan),
];

/// The plan of HTTP scenario `name`, or `None` when it is not one.
pub(super) fn plan(name: &str) -> Result<Option<Plan>, SynthError> {
    if name == "http-messy" {
        let mut convs = Vec::new();
        for (k, (_, build)) in BUILDERS.iter().enumerate() {
            convs.extend(build(EPOCH_US + k as u64 * 3_100)?);
        }
        let mut rng = SplitMix64::new(0x6d65_7373_7921);
        for i in 0..48 {
            let start = EPOCH_US + 500 + rng.below(120_000);
            convs.push(random_conn(&mut rng, i, start)?);
        }
        let mut p = Plan::ethernet(convs);
        p.encapsulation = vec!["mixed"];
        return Ok(Some(p));
    }
    if name == "api-discovery" {
        return Ok(Some(Plan::ethernet(api_discovery(EPOCH_US)?)));
    }
    if name == "posture" {
        return Ok(Some(Plan::ethernet(posture(EPOCH_US)?)));
    }
    let Some((_, build)) = BUILDERS.iter().find(|(n, _)| *n == name) else {
        return Ok(None);
    };
    let convs = build(EPOCH_US)?;
    let mut p = Plan::ethernet(convs);
    if name == "http-ipv6-vlan" {
        p.encapsulation = vec!["vlan"];
    }
    Ok(Some(p))
}
