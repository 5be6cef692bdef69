//! Stage 5 (http, per TCP stream): the per-flow state machine behind [`crate::http::HttpFlow`].
//!
//! Each direction has a parser state (probe, head, body, resync, wait-for-response, tunnel,
//! dead); the flow holds a queue of transactions in request order. Requests create
//! transactions; responses pair with the oldest transaction still waiting for one (so
//! pipelining works), or become a response-only transaction. A transaction leaves the queue
//! once both its sides are done, strictly in order.
//!
//! Guarantees: every buffer fed by peer bytes is bounded by a config value (head and probe
//! buffers by `max_header_bytes`, the resync carry by `max_header_bytes`, bytes scanned for a
//! message start by `resync_limit`, live transactions by `max_tx`, kept body bytes by
//! `body_inspect_bytes`); hitting a bound is an [`Anomaly`]. Bytes are looked at once: the head
//! end scan resumes where it stopped, body bytes go straight from the caller's slice to the
//! body parser, and past the inspection cap a body costs only arithmetic. No input panics.

use super::body::{BodyParser, Framing, Inspector, Limits, Progress, Sink};
use super::parse::{self, HeadError, HeadScan, Looks, ProbeClass, RequestHead, ResponseHead};
use super::tx::{push_anomaly, Anomaly, Body, Chunk, Dir, Request, Response, Transaction};
use super::HttpConfig;
use std::collections::VecDeque;

/// Most informational (1xx) statuses kept per transaction.
const MAX_INFORMATIONAL: usize = 16;
/// A head buffer this large is released after use rather than kept for the next head.
const KEEP_BUF: usize = 16 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Req,
    Resp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Flow not yet judged: bytes are buffered.
    Probe,
    /// Waiting for (or inside) a message head.
    Head,
    /// Inside a body.
    Body,
    /// Looking for a plausible message start.
    Resync,
    /// After CONNECT or an Upgrade request: buffering until the response says what follows.
    WaitResponse,
    /// Not HTTP/1 any more (upgrade, tunnel).
    Tunnel,
    /// Ignoring everything (closed, not HTTP, resync failed).
    Dead,
}

/// Where the message being parsed goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cur {
    None,
    Tx(u64),
    /// Parsed for framing only (past `max_tx`).
    Discard,
}

struct Slot {
    tx: Transaction,
    req_done: bool,
    resp_done: bool,
    /// Requests after this one that got no transaction (max_tx): their responses are skipped.
    skips_after: u64,
}

impl Slot {
    fn finished(&self) -> bool {
        self.req_done && self.resp_done
    }
}

struct DirState {
    role: Role,
    mode: Mode,
    /// Probe bytes, a partial head, a resync candidate line, or bytes sent while waiting.
    buf: Vec<u8>,
    /// Where the head-end scan resumes in `buf`.
    scan_from: usize,
    /// The first line of the buffered head was checked.
    first_line_ok: bool,
    /// Packet time of `buf[0]`.
    head_ts: u64,
    cur: Cur,
    body: Option<BodyParser>,
    /// Anomalies for the next transaction of this direction.
    pending: Vec<Anomaly>,
    /// Resync: the next byte starts a line (responses: the next byte may start a message).
    at_line_start: bool,
    /// Resync: the current line outgrew the carry; skip to its end.
    line_overflow: bool,
    /// Resync: bytes skipped since sync was lost.
    skipped: u64,
    /// WaitResponse: the transaction waited for, and bytes that did not fit in `buf`.
    wait_tx: u64,
    lost: u64,
    /// After the current request body: wait for the response (CONNECT / Upgrade).
    wait_after_body: bool,
    /// Bytes to process again (a buffered head that turned out to be garbage).
    replay: Option<Vec<u8>>,
    closed: bool,
    /// Messages parsed for framing only (past max_tx).
    scratch: Transaction,
}

impl DirState {
    fn new(role: Role, mode: Mode) -> Self {
        DirState {
            role,
            mode,
            buf: Vec::new(),
            scan_from: 0,
            first_line_ok: false,
            head_ts: 0,
            cur: Cur::None,
            body: None,
            pending: Vec::new(),
            at_line_start: true,
            line_overflow: false,
            skipped: 0,
            wait_tx: 0,
            lost: 0,
            wait_after_body: false,
            replay: None,
            closed: false,
            scratch: Transaction::default(),
        }
    }

    fn clear_buf(&mut self) {
        self.buf.clear();
        if self.buf.capacity() > KEEP_BUF {
            self.buf = Vec::new();
        }
        self.scan_from = 0;
        self.first_line_ok = false;
    }

    fn enter_resync(&mut self, at_line_start: bool) {
        self.mode = Mode::Resync;
        self.clear_buf();
        self.at_line_start = at_line_start;
        self.line_overflow = false;
        self.cur = Cur::None;
        self.body = None;
    }
}

/// The per-flow HTTP/1 state.
pub(crate) struct HttpState {
    cfg: HttpConfig,
    txs: VecDeque<Slot>,
    next_id: u64,
    /// Indexed by physical direction: 0 ToServer, 1 ToClient.
    dirs: [DirState; 2],
    decided: bool,
    swapped: bool,
    not_http: bool,
    saw_http: bool,
    /// Responses still to skip (their requests got no transaction).
    resp_skips: u64,
    finished: bool,
}

impl HttpState {
    pub(crate) fn new(cfg: &HttpConfig, midstream: bool) -> Self {
        let mode = if midstream { Mode::Resync } else { Mode::Probe };
        HttpState {
            cfg: cfg.clone(),
            txs: VecDeque::new(),
            next_id: 0,
            dirs: [
                DirState::new(Role::Req, mode),
                DirState::new(Role::Resp, mode),
            ],
            decided: midstream,
            swapped: false,
            not_http: false,
            saw_http: false,
            resp_skips: 0,
            finished: false,
        }
    }

    pub(crate) fn is_http(&self) -> Option<bool> {
        if self.saw_http {
            Some(true)
        } else if self.not_http || (self.decided && self.dirs.iter().all(|d| d.mode == Mode::Dead))
        {
            Some(false)
        } else {
            None
        }
    }

    pub(crate) fn roles_swapped(&self) -> bool {
        self.swapped
    }

    pub(crate) fn buffered_bytes(&self) -> usize {
        let dirs: usize = self
            .dirs
            .iter()
            .map(|d| {
                d.buf.capacity()
                    + d.replay.as_ref().map_or(0, Vec::capacity)
                    + d.body.as_ref().map_or(0, BodyParser::buffered_bytes)
            })
            .sum();
        let bodies: usize = self
            .txs
            .iter()
            .map(|s| {
                s.tx.request.as_ref().map_or(0, |r| r.body.data.capacity())
                    + s.tx.response.as_ref().map_or(0, |r| r.body.data.capacity())
            })
            .sum();
        dirs + bodies
    }

    #[cfg(test)]
    pub(crate) fn live_txs(&self) -> usize {
        self.txs.len()
    }

    fn limits(&self) -> Limits {
        Limits {
            max_line: self.cfg.max_header_bytes,
            max_headers: self.cfg.max_headers,
        }
    }

    fn resp_index(&self) -> usize {
        if self.swapped {
            0
        } else {
            1
        }
    }

    fn req_index(&self) -> usize {
        1 - self.resp_index()
    }

    fn slot_index(&self, id: u64) -> Option<usize> {
        let front = self.txs.front()?.tx.tx_id;
        let i = usize::try_from(id.checked_sub(front)?).ok()?;
        (i < self.txs.len()).then_some(i)
    }

    fn slot_mut(&mut self, id: u64) -> Option<&mut Slot> {
        let i = self.slot_index(id)?;
        self.txs.get_mut(i)
    }

    /// The transaction the message in `p` belongs to (or the scratch one).
    fn cur_tx(&mut self, p: usize) -> Option<&mut Transaction> {
        match self.dirs.get(p)?.cur {
            Cur::None => None,
            Cur::Discard => self.dirs.get_mut(p).map(|d| &mut d.scratch),
            Cur::Tx(id) => {
                let i = self.slot_index(id)?;
                self.txs.get_mut(i).map(|s| &mut s.tx)
            }
        }
    }

    fn resp_alive(&self) -> bool {
        let d = &self.dirs[self.resp_index()];
        !d.closed && !matches!(d.mode, Mode::Dead | Mode::Tunnel)
    }

    // ---------------------------------------------------------------- feeding

    pub(crate) fn feed(&mut self, dir: Dir, chunk: Chunk<'_>, ts: u64) {
        if self.finished {
            return;
        }
        let p = dir.index();
        match chunk {
            Chunk::Data([]) | Chunk::Gap(0) => {}
            Chunk::Data(data) if !self.decided => self.probe_feed(p, data, ts),
            Chunk::Data(data) => self.feed_data(p, data, ts),
            Chunk::Gap(n) if !self.decided => self.probe_gap(p, n, ts),
            Chunk::Gap(n) => self.on_gap(p, n),
        }
    }

    fn feed_data(&mut self, p: usize, data: &[u8], ts: u64) {
        self.feed_slice(p, data, ts);
        while let Some(again) = self.dirs[p].replay.take() {
            let ts = self.dirs[p].head_ts;
            self.feed_slice(p, &again, ts);
        }
    }

    fn feed_slice(&mut self, p: usize, mut data: &[u8], ts: u64) {
        let mut stuck = 0;
        while !data.is_empty() {
            let (len, mode) = (data.len(), self.dirs[p].mode);
            data = match mode {
                Mode::Head => self.step_head(p, data, ts),
                Mode::Body => self.step_body(p, data),
                Mode::Resync => self.step_resync(p, data, ts),
                Mode::WaitResponse => self.step_wait(p, data, ts),
                Mode::Probe | Mode::Tunnel | Mode::Dead => return,
            };
            if data.len() < len {
                stuck = 0;
            } else {
                // A step that consumes nothing changes the mode, and the next one consumes;
                // this is a safety net against a parser bug looping forever.
                stuck += 1;
                if stuck > 8 {
                    debug_assert!(false, "http parser made no progress in {mode:?}");
                    self.dirs[p].enter_resync(false);
                    self.dirs[p].mode = Mode::Dead;
                    return;
                }
            }
        }
    }

    // ---------------------------------------------------------------- probing

    /// Classifies a direction's first bytes; returns the class and the bytes to skip
    /// (empty lines, PROXY protocol header).
    fn classify(buf: &[u8], max: usize) -> (ProbeClass, usize) {
        let mut skip = parse::skip_empty_lines(buf);
        match parse::proxy_header_len(buf.get(skip..).unwrap_or_default()) {
            parse::ProxyHeader::NeedMore => return (ProbeClass::NeedMore, 0),
            parse::ProxyHeader::Present(n) => {
                skip += n;
                skip += parse::skip_empty_lines(buf.get(skip..).unwrap_or_default());
            }
            parse::ProxyHeader::Absent => {}
        }
        if skip >= max {
            return (ProbeClass::NotHttp, 0);
        }
        (parse::probe(buf.get(skip..).unwrap_or_default(), max), skip)
    }

    fn probe_feed(&mut self, p: usize, data: &[u8], ts: u64) {
        let max = self.cfg.max_header_bytes.max(16);
        let d = &mut self.dirs[p];
        if d.buf.is_empty() {
            d.head_ts = ts;
            let (class, skip) = Self::classify(data, max);
            if class == ProbeClass::NeedMore {
                d.buf.extend_from_slice(data);
                return;
            }
            if self.decide(p, class) {
                let rest = data.get(skip..).unwrap_or_default();
                self.replay_probe(p, None, rest, ts);
            }
            return;
        }
        let take = max.saturating_sub(d.buf.len()).min(data.len());
        d.buf
            .extend_from_slice(data.get(..take).unwrap_or_default());
        let (class, skip) = Self::classify(&d.buf, max);
        if class == ProbeClass::NeedMore {
            return;
        }
        let buf = std::mem::take(&mut d.buf);
        let head_ts = d.head_ts;
        if self.decide(p, class) {
            let first = buf.get(skip..).unwrap_or_default();
            self.replay_probe(
                p,
                Some((first, head_ts)),
                data.get(take..).unwrap_or_default(),
                ts,
            );
        }
    }

    /// Settles roles from a direction's class. False when the flow is not HTTP.
    fn decide(&mut self, p: usize, class: ProbeClass) -> bool {
        self.decided = true;
        let is_to_server = p == Dir::ToServer.index();
        match class {
            ProbeClass::Request => self.swapped = !is_to_server,
            ProbeClass::Response => self.swapped = is_to_server,
            ProbeClass::NotHttp | ProbeClass::NeedMore => {
                self.not_http = true;
                for d in &mut self.dirs {
                    d.mode = Mode::Dead;
                    d.buf = Vec::new();
                }
                return false;
            }
        }
        self.saw_http = true;
        let resp = self.resp_index();
        for (i, d) in self.dirs.iter_mut().enumerate() {
            d.role = if i == resp { Role::Resp } else { Role::Req };
            if d.mode == Mode::Probe {
                d.mode = Mode::Head;
            }
        }
        true
    }

    /// Feeds the bytes buffered while probing: the request side first so responses pair.
    fn replay_probe(&mut self, p: usize, first: Option<(&[u8], u64)>, rest: &[u8], ts: u64) {
        let other = 1 - p;
        let other_buf = std::mem::take(&mut self.dirs[other].buf);
        let other_ts = self.dirs[other].head_ts;
        let other_first = self.dirs[p].role == Role::Resp;
        if other_first && !other_buf.is_empty() {
            self.feed_data(other, &other_buf, other_ts);
        }
        if let Some((b, t)) = first {
            self.feed_data(p, b, t);
        }
        self.feed_data(p, rest, ts);
        if !other_first && !other_buf.is_empty() {
            self.feed_data(other, &other_buf, other_ts);
        }
        self.apply_early_close();
    }

    /// Directions closed before the flow was judged are closed now.
    fn apply_early_close(&mut self) {
        for p in [self.req_index(), self.resp_index()] {
            if self.dirs[p].closed && self.dirs[p].mode != Mode::Dead {
                let dir = if p == Dir::ToServer.index() {
                    Dir::ToServer
                } else {
                    Dir::ToClient
                };
                self.close(dir, 0);
            }
        }
    }

    /// A gap before the flow was judged: give up probing, roles as the reassembler says.
    fn probe_gap(&mut self, p: usize, n: u64, _ts: u64) {
        self.decided = true;
        self.dirs[0].role = Role::Req;
        self.dirs[1].role = Role::Resp;
        let bufs: Vec<(usize, Vec<u8>, u64)> = (0..2)
            .map(|i| {
                let d = &mut self.dirs[i];
                d.mode = Mode::Head;
                (i, std::mem::take(&mut d.buf), d.head_ts)
            })
            .collect();
        for (i, b, t) in bufs {
            if !b.is_empty() {
                self.feed_data(i, &b, t);
            }
        }
        self.on_gap(p, n);
        self.apply_early_close();
    }

    // ---------------------------------------------------------------- heads

    fn step_head<'d>(&mut self, p: usize, data: &'d [u8], ts: u64) -> &'d [u8] {
        let max = self.cfg.max_header_bytes;
        let role = self.dirs[p].role;
        let d = &mut self.dirs[p];
        if d.buf.is_empty() {
            let data = data
                .get(parse::skip_empty_lines(data)..)
                .unwrap_or_default();
            if data.is_empty() {
                return data;
            }
            d.head_ts = ts;
            return match parse::scan_head_end(data, 0, max) {
                Ok(HeadScan::Complete { len }) => {
                    if check_start(role, data, true).is_err() {
                        // Not a head: look for the next message start inside these bytes.
                        self.garbage(p, false);
                        return data;
                    }
                    self.on_head(p, data.get(..len).unwrap_or_default(), ts);
                    data.get(len..).unwrap_or_default()
                }
                Ok(HeadScan::Incomplete { resume }) => {
                    if check_start(role, data, resume > 0).is_err() {
                        self.garbage(p, false);
                        return data;
                    }
                    let d = &mut self.dirs[p];
                    d.buf.extend_from_slice(data);
                    d.scan_from = resume;
                    d.first_line_ok = resume > 0;
                    &[]
                }
                Err(_) => {
                    let cut = data.get(..max).unwrap_or(data);
                    self.head_too_long(p, cut, ts);
                    data.get(cut.len()..).unwrap_or_default()
                }
            };
        }
        let old = d.buf.len();
        let take = max.saturating_sub(old).min(data.len());
        d.buf
            .extend_from_slice(data.get(..take).unwrap_or_default());
        match parse::scan_head_end(&d.buf, d.scan_from, max) {
            Ok(HeadScan::Complete { len }) => {
                if !d.first_line_ok && check_start(role, &d.buf, true).is_err() {
                    self.replay_as_garbage(p, data.get(take..).unwrap_or_default());
                    return &[];
                }
                let buf = std::mem::take(&mut d.buf);
                let head_ts = d.head_ts;
                self.on_head(p, buf.get(..len).unwrap_or_default(), head_ts);
                let d = &mut self.dirs[p];
                if d.buf.is_empty() {
                    d.buf = buf;
                    d.clear_buf();
                }
                data.get(len.saturating_sub(old)..).unwrap_or_default()
            }
            Ok(HeadScan::Incomplete { resume }) => {
                d.scan_from = resume;
                if !d.first_line_ok {
                    if check_start(role, &d.buf, resume > 0).is_err() {
                        self.replay_as_garbage(p, data.get(take..).unwrap_or_default());
                        return &[];
                    }
                    d.first_line_ok = resume > 0;
                }
                data.get(take..).unwrap_or_default()
            }
            Err(_) => {
                let buf = std::mem::take(&mut d.buf);
                let head_ts = d.head_ts;
                self.head_too_long(p, &buf, head_ts);
                data.get(take..).unwrap_or_default()
            }
        }
    }

    /// The buffered bytes (and `rest`, which follows them) are not a head: scan them again in
    /// resync mode.
    fn replay_as_garbage(&mut self, p: usize, rest: &[u8]) {
        let mut again = std::mem::take(&mut self.dirs[p].buf);
        again.extend_from_slice(rest);
        self.garbage(p, false);
        self.dirs[p].replay = Some(again);
    }

    /// Bytes where a head should start are not a head: record it, look for the next start.
    fn garbage(&mut self, p: usize, at_line_start: bool) {
        let a = match self.dirs[p].role {
            Role::Req => Anomaly::InvalidRequestLine,
            Role::Resp => Anomaly::InvalidStatusLine,
        };
        let d = &mut self.dirs[p];
        push_anomaly(&mut d.pending, a);
        d.enter_resync(at_line_start);
    }

    /// No head end within `max_header_bytes`: keep what can be salvaged, then resync.
    fn head_too_long(&mut self, p: usize, head: &[u8], ts: u64) {
        self.salvage(p, head, ts, Anomaly::HeaderTooLong);
        self.dirs[p].enter_resync(false);
    }

    /// A head was cut (gap, close, too long): record what it still tells as a transaction
    /// that is not complete.
    fn salvage(&mut self, p: usize, head: &[u8], ts: u64, why: Anomaly) {
        let max_headers = self.cfg.max_headers;
        match self.dirs[p].role {
            Role::Req => {
                // A request surely started here: even unreadable, it keeps the pairing.
                let h = parse::salvage_request_head(head, max_headers);
                let placeholder = h.is_none();
                let cur = self.on_request(p, h.unwrap_or_default(), ts);
                if let Some(tx) = self.tx_for(p, cur) {
                    if placeholder {
                        tx.request = None;
                    }
                    tx.add_anomaly(why);
                    tx.complete = false;
                }
                self.dirs[p].cur = cur;
                self.message_done(p, false);
            }
            Role::Resp => match parse::salvage_response_head(head, max_headers) {
                Some(h) => {
                    let cur = self.on_response(p, h, ts);
                    if let Some(tx) = self.tx_for(p, cur) {
                        tx.add_anomaly(why);
                        tx.complete = false;
                    }
                    if self.dirs[p].cur != Cur::None {
                        self.message_done(p, false);
                    }
                }
                None => {
                    if let Some(slot) = self.txs.iter_mut().find(|s| !s.resp_done) {
                        slot.tx.add_anomaly(why);
                        slot.tx.complete = false;
                        slot.tx.response_ts.get_or_insert(ts);
                        let id = slot.tx.tx_id;
                        self.dirs[p].cur = Cur::Tx(id);
                        self.message_done(p, false);
                    }
                }
            },
        }
        let d = &mut self.dirs[p];
        d.cur = Cur::None;
        d.body = None;
        if d.mode == Mode::Body {
            d.mode = Mode::Head;
        }
    }

    fn tx_for(&mut self, p: usize, cur: Cur) -> Option<&mut Transaction> {
        match cur {
            Cur::None => None,
            Cur::Discard => self.dirs.get_mut(p).map(|d| &mut d.scratch),
            Cur::Tx(id) => slot_tx(&mut self.txs, Cur::Tx(id)),
        }
    }

    fn on_head(&mut self, p: usize, head: &[u8], ts: u64) {
        let max_headers = self.cfg.max_headers;
        match self.dirs[p].role {
            Role::Req => match parse::parse_request_head_complete(head, max_headers) {
                Ok(h) => {
                    self.on_request(p, h, ts);
                }
                Err(_) => {
                    self.garbage(p, true);
                    self.dirs[p].skipped += head.len() as u64;
                }
            },
            Role::Resp => match parse::parse_response_head_complete(head, max_headers) {
                Ok(h) => {
                    self.on_response(p, h, ts);
                }
                Err(_) => {
                    self.garbage(p, true);
                    self.dirs[p].skipped += head.len() as u64;
                }
            },
        }
    }

    /// A request head: a new transaction (or none past `max_tx`). Returns where it went.
    fn on_request(&mut self, p: usize, h: RequestHead, ts: u64) -> Cur {
        self.saw_http = true;
        if h.method == "PRI" && h.version.starts_with("HTTP/2") {
            // HTTP/2 prior knowledge: not HTTP/1 from here on.
            self.tunnel_all();
            return Cur::None;
        }
        let framing = if h.framing.chunked {
            Some(Framing::Chunked)
        } else {
            h.framing
                .content_length
                .filter(|&n| n > 0)
                .map(Framing::Length)
        };
        let waits = h.method.eq_ignore_ascii_case("CONNECT") || h.framing.upgrade.is_some();
        let t = parse::split_target(&h.method, &h.target);
        let (path, query, authority) = (
            t.path.to_string(),
            t.query.map(str::to_string),
            t.authority.map(str::to_string),
        );
        let encoding = h.framing.content_encoding.clone();
        let mut anomalies = std::mem::take(&mut self.dirs[p].pending);
        for a in h.anomalies {
            push_anomaly(&mut anomalies, a);
        }
        let request = Request {
            method: h.method,
            target: h.target,
            path,
            query,
            authority,
            version: h.version,
            headers: h.headers,
            body: Body {
                encoding: encoding.clone(),
                ..Default::default()
            },
            trailers: Vec::new(),
        };
        let cur = if self.txs.len() >= self.cfg.max_tx {
            match self.txs.back_mut() {
                Some(last) => {
                    last.tx.add_anomaly(Anomaly::TooManyTransactions);
                    if last.resp_done {
                        self.resp_skips += 1;
                    } else {
                        last.skips_after += 1;
                    }
                }
                None => self.resp_skips += 1,
            }
            let d = &mut self.dirs[p];
            d.scratch = Transaction {
                request: Some(request),
                ..Default::default()
            };
            Cur::Discard
        } else {
            let id = self.next_id;
            self.next_id += 1;
            let mut slot = Slot {
                tx: Transaction {
                    tx_id: id,
                    request: Some(request),
                    request_ts: Some(ts),
                    complete: true,
                    anomalies,
                    ..Default::default()
                },
                req_done: false,
                resp_done: false,
                skips_after: 0,
            };
            if !self.resp_alive() {
                // No response can come any more.
                slot.resp_done = true;
                slot.tx.complete = false;
                slot.tx.add_anomaly(Anomaly::Truncated);
            }
            self.txs.push_back(slot);
            Cur::Tx(id)
        };
        let inspect = match cur {
            Cur::Tx(_) => Inspector::new(encoding.as_deref(), self.cfg.body_inspect_bytes),
            _ => Inspector::off(),
        };
        let d = &mut self.dirs[p];
        d.cur = cur;
        d.wait_after_body = waits && matches!(cur, Cur::Tx(_));
        match framing {
            Some(f) => {
                d.body = Some(BodyParser::new(f, false, inspect));
                d.mode = Mode::Body;
            }
            None => self.message_done(p, true),
        }
        cur
    }

    /// A response head: pairs with the oldest transaction waiting for one. Returns which.
    fn on_response(&mut self, p: usize, h: ResponseHead, ts: u64) -> Cur {
        self.saw_http = true;
        let status = h.status;
        let informational = (100..200).contains(&status) && status != 101;
        let pending = std::mem::take(&mut self.dirs[p].pending);
        // Which transaction is this for?
        let cur = if self.resp_skips > 0 {
            if !informational {
                self.resp_skips -= 1;
            }
            self.dirs[p].scratch = Transaction::default();
            Cur::Discard
        } else if let Some(slot) = self.txs.iter().find(|s| !s.resp_done) {
            Cur::Tx(slot.tx.tx_id)
        } else if self.txs.len() >= self.cfg.max_tx {
            if let Some(last) = self.txs.back_mut() {
                last.tx.add_anomaly(Anomaly::TooManyTransactions);
            }
            self.dirs[p].scratch = Transaction::default();
            Cur::Discard
        } else {
            let id = self.next_id;
            self.next_id += 1;
            let tx = Transaction {
                tx_id: id,
                complete: false,
                ..Default::default()
            };
            self.txs.push_back(Slot {
                tx,
                req_done: true,
                resp_done: false,
                skips_after: 0,
            });
            Cur::Tx(id)
        };
        self.dirs[p].cur = cur;
        let body_cap = self.cfg.body_inspect_bytes;
        let Some(tx) = self.cur_tx(p) else { return cur };
        for a in pending {
            tx.add_anomaly(a);
        }
        if tx.request.is_none() && matches!(cur, Cur::Tx(_)) {
            tx.add_anomaly(Anomaly::ResponseWithoutRequest);
        }
        for a in h.anomalies {
            tx.add_anomaly(a);
        }
        let (method_head, method_connect, req_upgrade) = match &tx.request {
            Some(r) => (
                r.method.eq_ignore_ascii_case("HEAD"),
                r.method.eq_ignore_ascii_case("CONNECT"),
                r.header("upgrade")
                    .map(|u| String::from_utf8_lossy(u.trim_ascii()).to_ascii_lowercase()),
            ),
            None => (false, false, None),
        };
        if informational {
            if tx.informational.len() < MAX_INFORMATIONAL {
                tx.informational.push(status);
            } else {
                tx.add_anomaly(Anomaly::TooManyInformational);
            }
            if tx.response_ts.is_none() {
                tx.response_ts = Some(ts);
            }
            self.dirs[p].cur = Cur::None;
            return cur;
        }
        tx.response_ts = Some(ts);
        let upgrade = if status == 101 {
            Some(
                h.framing
                    .upgrade
                    .clone()
                    .or(req_upgrade)
                    .unwrap_or_else(|| "unknown".to_string()),
            )
        } else if method_connect && (200..300).contains(&status) {
            Some("connect".to_string())
        } else {
            None
        };
        let encoding = h.framing.content_encoding.clone();
        tx.response = Some(Response {
            status,
            reason: h.reason,
            version: h.version,
            headers: h.headers,
            body: Body {
                encoding: encoding.clone(),
                ..Default::default()
            },
            trailers: Vec::new(),
        });
        if let Some(u) = upgrade {
            tx.upgrade = Some(u);
            self.message_done(p, true);
            self.tunnel_all();
            return cur;
        }
        let framing = if method_head || status == 204 || status == 304 || status < 200 {
            None
        } else if h.framing.chunked {
            Some(Framing::Chunked)
        } else if let Some(n) = h.framing.content_length {
            (n > 0).then_some(Framing::Length(n))
        } else {
            Some(Framing::Close)
        };
        let inspect = match cur {
            Cur::Tx(_) => Inspector::new(encoding.as_deref(), body_cap),
            _ => Inspector::off(),
        };
        // A final, non-upgrade response: a request side waiting for it goes on.
        if let Cur::Tx(id) = cur {
            self.resume_waiting(id);
        }
        match framing {
            Some(f) => {
                let d = &mut self.dirs[p];
                d.body = Some(BodyParser::new(f, true, inspect));
                d.mode = Mode::Body;
            }
            None => self.message_done(p, true),
        }
        cur
    }

    /// The message in `p` ended (complete or not).
    fn message_done(&mut self, p: usize, complete: bool) {
        let role = self.dirs[p].role;
        let cur = self.dirs[p].cur;
        if !complete {
            if let Some(tx) = self.cur_tx(p) {
                tx.complete = false;
            }
        }
        let mut wait = None;
        if let Cur::Tx(id) = cur {
            let wait_after = self.dirs[p].wait_after_body;
            let mut transfer = 0;
            if let Some(slot) = self.slot_mut(id) {
                match role {
                    Role::Req => {
                        slot.req_done = true;
                        if wait_after && !slot.resp_done && slot.tx.response.is_none() {
                            wait = Some(id);
                        }
                    }
                    Role::Resp => {
                        slot.resp_done = true;
                        transfer = std::mem::take(&mut slot.skips_after);
                    }
                }
            }
            self.resp_skips += transfer;
        }
        let d = &mut self.dirs[p];
        d.cur = Cur::None;
        d.body = None;
        d.wait_after_body = false;
        d.scratch = Transaction::default();
        if matches!(d.mode, Mode::Body | Mode::Head) {
            d.mode = Mode::Head;
            if let Some(id) = wait {
                d.mode = Mode::WaitResponse;
                d.wait_tx = id;
                d.lost = 0;
                d.clear_buf();
            }
        }
    }

    /// The request side waits for transaction `id`'s response: that came and is not an
    /// upgrade, so parse what the client sent meanwhile.
    fn resume_waiting(&mut self, id: u64) {
        let q = self.req_index();
        let d = &mut self.dirs[q];
        if d.mode != Mode::WaitResponse || d.wait_tx != id {
            return;
        }
        d.mode = Mode::Head;
        let buf = std::mem::take(&mut d.buf);
        let lost = std::mem::take(&mut d.lost);
        let ts = d.head_ts;
        if !buf.is_empty() {
            self.feed_data(q, &buf, ts);
        }
        if lost > 0 {
            self.on_gap(q, lost);
        }
    }

    fn step_wait<'d>(&mut self, p: usize, data: &'d [u8], ts: u64) -> &'d [u8] {
        let max = self.cfg.max_header_bytes;
        let d = &mut self.dirs[p];
        if d.buf.is_empty() {
            d.head_ts = ts;
        }
        let take = max.saturating_sub(d.buf.len()).min(data.len());
        d.buf
            .extend_from_slice(data.get(..take).unwrap_or_default());
        d.lost += (data.len() - take) as u64;
        &[]
    }

    /// HTTP/1 ends here (upgrade, CONNECT tunnel, HTTP/2 preface).
    fn tunnel_all(&mut self) {
        for d in &mut self.dirs {
            d.mode = Mode::Tunnel;
            d.buf = Vec::new();
            d.body = None;
            d.cur = Cur::None;
            d.replay = None;
        }
        for s in &mut self.txs {
            if !s.finished() {
                s.req_done = true;
                s.resp_done = true;
                s.tx.complete = false;
                s.tx.add_anomaly(Anomaly::Truncated);
            }
        }
    }

    // ---------------------------------------------------------------- bodies

    fn step_body<'d>(&mut self, p: usize, data: &'d [u8]) -> &'d [u8] {
        let lim = self.limits();
        let Self { txs, dirs, .. } = self;
        let d = &mut dirs[p];
        let Some(parser) = d.body.as_mut() else {
            d.mode = Mode::Head;
            return data;
        };
        let tx = slot_tx(txs, d.cur).unwrap_or(&mut d.scratch);
        let (used, progress) = parser.feed(data, &mut sink_of(tx, d.role), lim);
        let rest = data.get(used..).unwrap_or_default();
        match progress {
            Progress::More => {}
            Progress::Done => self.message_done(p, true),
            Progress::Lost => {
                self.message_done(p, false);
                self.dirs[p].enter_resync(true);
            }
        }
        rest
    }

    // ---------------------------------------------------------------- resync

    fn step_resync<'d>(&mut self, p: usize, data: &'d [u8], ts: u64) -> &'d [u8] {
        match self.dirs[p].role {
            Role::Req => self.resync_request(p, data, ts),
            Role::Resp => self.resync_response(p, data, ts),
        }
    }

    /// Request resync, decided one complete line at a time (so any split of the bytes gives
    /// the same answer): a request line at a line start, or embedded after non-token bytes
    /// (`{"a":1}GET /x HTTP/1.1`, a request right after an undeclared body). The incomplete
    /// last line is carried in `buf`, at most `max_header_bytes`.
    fn resync_request<'d>(&mut self, p: usize, data: &'d [u8], ts: u64) -> &'d [u8] {
        let max = self.cfg.max_header_bytes;
        let mut pos = 0;
        loop {
            let d = &mut self.dirs[p];
            let rest = data.get(pos..).unwrap_or_default();
            if rest.is_empty() {
                self.check_resync_limit(p);
                return &[];
            }
            let Some(nl) = memchr::memchr(b'\n', rest) else {
                if d.line_overflow {
                    d.skipped += rest.len() as u64;
                } else if d.buf.len() + rest.len() > max {
                    d.skipped += (d.buf.len() + rest.len()) as u64;
                    d.buf.clear();
                    d.line_overflow = true;
                } else {
                    if d.buf.is_empty() {
                        d.head_ts = ts;
                    }
                    d.buf.extend_from_slice(rest);
                }
                self.check_resync_limit(p);
                return &[];
            };
            let line_len = nl + 1;
            let line = rest.get(..line_len).unwrap_or_default();
            if d.line_overflow || d.buf.len() + line_len > max {
                // The end of a line too long to be a request line.
                d.skipped += (d.buf.len() + line_len) as u64;
                d.buf.clear();
                d.line_overflow = false;
            } else if d.buf.is_empty() {
                if let Some(m) = parse::find_request_start(line, d.at_line_start, max) {
                    d.skipped += m as u64;
                    self.resynced(p);
                    return rest.get(m..).unwrap_or_default();
                }
                d.skipped += line_len as u64;
            } else {
                d.buf.extend_from_slice(line);
                if let Some(m) = parse::find_request_start(&d.buf, d.at_line_start, max) {
                    d.skipped += m as u64;
                    d.buf.drain(..m);
                    self.resynced(p);
                    return rest.get(line_len..).unwrap_or_default();
                }
                d.skipped += d.buf.len() as u64;
                d.buf.clear();
            }
            d.at_line_start = true;
            pos += line_len;
            self.check_resync_limit(p);
            if self.dirs[p].mode != Mode::Resync {
                return &[];
            }
        }
    }

    fn resync_response<'d>(&mut self, p: usize, data: &'d [u8], ts: u64) -> &'d [u8] {
        let max = self.cfg.max_header_bytes;
        let d = &mut self.dirs[p];
        if !d.buf.is_empty() {
            // A status line candidate was cut by the end of earlier bytes: extend it.
            let old = d.buf.len();
            let line_end = memchr::memchr(b'\n', data).map_or(data.len(), |i| i + 1);
            let take = line_end.min(max.saturating_sub(old));
            d.buf
                .extend_from_slice(data.get(..take).unwrap_or_default());
            match parse::looks_like_status_line(&d.buf, true) {
                Looks::Yes => {
                    self.resynced(p);
                    return data.get(take..).unwrap_or_default();
                }
                Looks::NeedMore if take == data.len() => return &[],
                _ => {
                    d.skipped += old as u64;
                    d.buf.clear();
                    // `data[0]` is still a candidate.
                    d.at_line_start = true;
                    self.check_resync_limit(p);
                    return data;
                }
            }
        }
        self.scan_status_line(p, data, ts)
    }

    /// Response resync: `HTTP/1.x NNN` anywhere (a body rarely ends with a line break, so the
    /// next status line usually follows it directly).
    fn scan_status_line<'d>(&mut self, p: usize, data: &'d [u8], ts: u64) -> &'d [u8] {
        let d = &mut self.dirs[p];
        // After garbage the byte at 0 was already rejected as a message start.
        let from = usize::from(!std::mem::replace(&mut d.at_line_start, true));
        for h in memchr::memchr_iter(b'H', data.get(from..).unwrap_or_default()).map(|h| h + from) {
            let rest = data.get(h..).unwrap_or_default();
            match parse::looks_like_status_line(rest, true) {
                Looks::Yes => {
                    d.skipped += h as u64;
                    self.resynced(p);
                    return rest;
                }
                Looks::NeedMore => {
                    // A candidate cut by the end of the data (at most 12 bytes): carry it.
                    d.skipped += h as u64;
                    d.buf.extend_from_slice(rest);
                    d.head_ts = ts;
                    self.check_resync_limit(p);
                    return &[];
                }
                Looks::No => {}
            }
        }
        d.skipped += data.len() as u64;
        self.check_resync_limit(p);
        &[]
    }

    /// A plausible message start was found (at `buf[0]` when a carry is buffered).
    fn resynced(&mut self, p: usize) {
        let d = &mut self.dirs[p];
        d.mode = Mode::Head;
        d.scan_from = 0;
        d.first_line_ok = false;
        if d.skipped > 0 {
            push_anomaly(&mut d.pending, Anomaly::ResyncSkipped);
        }
        d.skipped = 0;
    }

    fn check_resync_limit(&mut self, p: usize) {
        let d = &mut self.dirs[p];
        // Bytes carried while a line is judged count as scanned too.
        if d.skipped + d.buf.len() as u64 <= self.cfg.resync_limit as u64 {
            return;
        }
        d.mode = Mode::Dead;
        d.buf = Vec::new();
        let role = d.role;
        if let Some(s) = self.txs.iter_mut().rev().find(|s| !s.finished()) {
            s.tx.add_anomaly(Anomaly::ResyncFailed);
        }
        if role == Role::Resp {
            self.resp_ended(Some(Anomaly::ResyncFailed));
        }
    }

    /// No response can come any more: transactions still waiting are cut.
    fn resp_ended(&mut self, why: Option<Anomaly>) {
        for s in &mut self.txs {
            if !s.resp_done {
                s.resp_done = true;
                s.tx.complete = false;
                if let Some(w) = why {
                    s.tx.add_anomaly(w);
                }
                s.tx.add_anomaly(Anomaly::Truncated);
            }
        }
        let q = self.req_index();
        if self.dirs[q].mode == Mode::WaitResponse {
            let id = self.dirs[q].wait_tx;
            self.resume_waiting(id);
        }
    }

    // ---------------------------------------------------------------- gaps, close, end

    fn on_gap(&mut self, p: usize, n: u64) {
        let d = &mut self.dirs[p];
        match d.mode {
            Mode::Head => {
                if !d.buf.is_empty() {
                    let buf = std::mem::take(&mut d.buf);
                    let ts = d.head_ts;
                    self.salvage(p, &buf, ts, Anomaly::Gap);
                }
                self.dirs[p].enter_resync(true);
            }
            Mode::Body => {
                let Self { txs, dirs, .. } = self;
                let d = &mut dirs[p];
                let progress = match d.body.as_mut() {
                    Some(parser) => {
                        let tx = slot_tx(txs, d.cur).unwrap_or(&mut d.scratch);
                        tx.add_anomaly(Anomaly::Gap);
                        tx.complete = false;
                        parser.gap(n, &mut sink_of(tx, d.role))
                    }
                    None => Progress::Lost,
                };
                match progress {
                    Progress::More => {}
                    Progress::Done => self.message_done(p, false),
                    Progress::Lost => {
                        self.message_done(p, false);
                        self.dirs[p].enter_resync(true);
                    }
                }
            }
            Mode::Resync => {
                d.skipped += d.buf.len() as u64;
                d.buf.clear();
                d.at_line_start = true;
                d.line_overflow = false;
                self.check_resync_limit(p);
            }
            Mode::WaitResponse => d.lost = d.lost.saturating_add(n),
            Mode::Probe | Mode::Tunnel | Mode::Dead => {}
        }
    }

    pub(crate) fn close(&mut self, dir: Dir, _ts: u64) {
        if self.finished {
            return;
        }
        let p = dir.index();
        self.dirs[p].closed = true;
        if !self.decided {
            // Applied once the flow is judged (see replay_probe) or at finish.
            return;
        }
        self.end_dir(p, false);
        let d = &mut self.dirs[p];
        d.mode = Mode::Dead;
        d.buf = Vec::new();
        d.replay = None;
        if d.role == Role::Resp {
            self.resp_ended(None);
        }
    }

    /// Ends whatever message `p` is in: close (`at_finish` false: a close-delimited body
    /// completes) or flow end (everything open is truncated).
    fn end_dir(&mut self, p: usize, at_finish: bool) {
        let d = &mut self.dirs[p];
        match d.mode {
            Mode::Head if !d.buf.is_empty() => {
                let buf = std::mem::take(&mut d.buf);
                let ts = d.head_ts;
                self.salvage(p, &buf, ts, Anomaly::Truncated);
            }
            Mode::Body => {
                let Self { txs, dirs, .. } = self;
                let d = &mut dirs[p];
                let complete = match d.body.as_mut() {
                    Some(parser) => {
                        let tx = slot_tx(txs, d.cur).unwrap_or(&mut d.scratch);
                        let done = parser.close(&mut sink_of(tx, d.role)) && !at_finish;
                        if !done {
                            tx.add_anomaly(Anomaly::Truncated);
                        }
                        done
                    }
                    None => false,
                };
                self.message_done(p, complete);
            }
            _ => {}
        }
    }

    pub(crate) fn finish(&mut self, _ts: u64, out: &mut Vec<Transaction>) {
        if !self.finished {
            if self.decided {
                for p in [self.req_index(), self.resp_index()] {
                    self.end_dir(p, true);
                }
            }
            for s in &mut self.txs {
                if !s.finished() {
                    s.req_done = true;
                    s.resp_done = true;
                    s.tx.complete = false;
                    s.tx.add_anomaly(Anomaly::Truncated);
                }
            }
            self.finished = true;
            for d in &mut self.dirs {
                d.mode = Mode::Dead;
                d.buf = Vec::new();
                d.body = None;
                d.replay = None;
            }
        }
        out.extend(self.txs.drain(..).map(|s| s.tx));
    }

    pub(crate) fn drain_ready(&mut self, out: &mut Vec<Transaction>) {
        while self.txs.front().is_some_and(Slot::finished) {
            if let Some(s) = self.txs.pop_front() {
                out.push(s.tx);
            }
        }
    }

    pub(crate) fn stream_anomaly(&mut self, dir: Dir, a: Anomaly) {
        let p = dir.index();
        if let Some(tx) = self.cur_tx(p) {
            tx.add_anomaly(a);
            return;
        }
        if matches!(self.dirs[p].mode, Mode::Tunnel | Mode::Dead) {
            if let Some(s) = self.txs.iter_mut().rev().find(|s| !s.finished()) {
                s.tx.add_anomaly(a);
            }
            return;
        }
        push_anomaly(&mut self.dirs[p].pending, a);
    }
}

/// The transaction a direction's current message belongs to.
fn slot_tx(txs: &mut VecDeque<Slot>, cur: Cur) -> Option<&mut Transaction> {
    let Cur::Tx(id) = cur else { return None };
    let front = txs.front()?.tx.tx_id;
    let i = usize::try_from(id.checked_sub(front)?).ok()?;
    txs.get_mut(i).map(|s| &mut s.tx)
}

/// Body, trailers and anomalies of one side of a transaction.
fn sink_of(tx: &mut Transaction, role: Role) -> Sink<'_> {
    let Transaction {
        request,
        response,
        anomalies,
        ..
    } = tx;
    let (body, trailers) = match role {
        Role::Req => {
            let r = request.get_or_insert_with(Request::default);
            (&mut r.body, &mut r.trailers)
        }
        Role::Resp => {
            let r = response.get_or_insert_with(Response::default);
            (&mut r.body, &mut r.trailers)
        }
    };
    Sink {
        body,
        trailers,
        anomalies,
    }
}

/// Early check of a partial head's start for a role.
fn check_start(role: Role, buf: &[u8], first_line_complete: bool) -> Result<(), HeadError> {
    match role {
        Role::Req => parse::check_request_start(buf, first_line_complete),
        Role::Resp => parse::check_response_start(buf, first_line_complete),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use crate::http::body::tests::{brotli_enc, gzip};
    use crate::http::transcript::tests::all_transcripts;
    use crate::http::transcript::{parse_options, parse_transcript, replay_with, TranscriptBlock};
    use crate::http::{Anomaly, Chunk, Dir, HttpConfig, HttpFlow, Transaction};
    use proptest::prelude::*;

    fn flow() -> HttpFlow {
        HttpFlow::new(&HttpConfig::default(), false)
    }

    fn feed(f: &mut HttpFlow, dir: Dir, b: &[u8], ts: u64) {
        f.feed(dir, Chunk::Data(b), ts);
    }

    fn done(f: &mut HttpFlow) -> Vec<Transaction> {
        let mut v = Vec::new();
        f.drain_ready(&mut v);
        v
    }

    fn end(mut f: HttpFlow) -> Vec<Transaction> {
        let mut v = Vec::new();
        f.finish(0, &mut v);
        v
    }

    #[test]
    fn probing_decides_roles_and_http() {
        let mut f = flow();
        assert_eq!(f.is_http(), None);
        feed(&mut f, Dir::ToServer, b"GE", 1);
        assert_eq!(f.is_http(), None);
        assert!(f.buffered_bytes() >= 2);
        feed(&mut f, Dir::ToServer, b"T / HTTP/1.1\r\nHost: a\r\n\r\n", 2);
        assert_eq!(f.is_http(), Some(true));
        assert!(!f.roles_swapped());

        let mut f = flow();
        feed(
            &mut f,
            Dir::ToClient,
            b"POST /x HTTP/1.1\r\nContent-Length: 1\r\n\r\nz",
            1,
        );
        feed(
            &mut f,
            Dir::ToServer,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            2,
        );
        assert!(f.roles_swapped());
        let t = done(&mut f);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].request.as_ref().unwrap().body.data, b"z");

        for not_http in [
            &b"\x16\x03\x01\x02\x00\x01"[..],
            b"SSH-2.0-x\r\n",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        ] {
            let mut f = flow();
            feed(&mut f, Dir::ToServer, not_http, 1);
            assert_eq!(f.is_http(), Some(false), "{not_http:?}");
            feed(&mut f, Dir::ToServer, b"GET / HTTP/1.1\r\n\r\n", 2);
            assert_eq!(f.buffered_bytes(), 0);
            assert!(end(f).is_empty());
        }
    }

    #[test]
    fn probe_waits_for_unknown_methods_and_bounds_the_wait() {
        let mut f = flow();
        feed(&mut f, Dir::ToServer, b"FROB /x HT", 1);
        assert_eq!(f.is_http(), None);
        feed(&mut f, Dir::ToServer, b"TP/1.1\r\nHost: a\r\n\r\n", 2);
        assert_eq!(f.is_http(), Some(true));
        let cfg = HttpConfig {
            max_header_bytes: 100,
            ..Default::default()
        };
        let mut f = HttpFlow::new(&cfg, false);
        for _ in 0..20 {
            feed(&mut f, Dir::ToServer, b"AAAAAAAAAA", 1);
        }
        assert_eq!(f.is_http(), Some(false));
        assert_eq!(f.buffered_bytes(), 0);
    }

    #[test]
    fn upgrades_are_recorded_and_stop_parsing() {
        let cases: [(&[u8], &[u8], &str); 3] = [
            (
                b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\n\r\n",
                "websocket",
            ),
            (
                b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nHTTP2-Settings: x\r\n\r\n",
                b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
                "h2c",
            ),
            (
                b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
                b"HTTP/1.1 200 OK\r\n\r\n",
                "connect",
            ),
        ];
        for (req, resp, want) in cases {
            let mut f = flow();
            feed(&mut f, Dir::ToServer, req, 1);
            feed(
                &mut f,
                Dir::ToServer,
                b"GET /not-parsed HTTP/1.1\r\n\r\n",
                2,
            );
            feed(&mut f, Dir::ToClient, resp, 3);
            feed(&mut f, Dir::ToClient, b"HTTP/1.1 200 OK\r\n\r\n", 4);
            let t = done(&mut f);
            assert_eq!(t.len(), 1, "{want}");
            assert_eq!(t[0].upgrade.as_deref(), Some(want));
            assert!(t[0].complete);
            assert!(end(f).is_empty());
        }
    }

    #[test]
    fn declined_upgrade_resumes_parsing() {
        let mut f = flow();
        feed(
            &mut f,
            Dir::ToServer,
            b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n",
            1,
        );
        feed(
            &mut f,
            Dir::ToServer,
            b"GET /second HTTP/1.1\r\nHost: a\r\n\r\n",
            2,
        );
        feed(
            &mut f,
            Dir::ToClient,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            3,
        );
        feed(
            &mut f,
            Dir::ToClient,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            4,
        );
        let t = done(&mut f);
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].request.as_ref().unwrap().path, "/second");
        assert_eq!(t[1].request_ts, Some(2));
        assert!(t
            .iter()
            .all(|t| t.upgrade.is_none() && t.complete && t.anomalies.is_empty()));
    }

    #[test]
    fn bytes_sent_while_waiting_are_bounded() {
        let cfg = HttpConfig {
            max_header_bytes: 1024,
            ..Default::default()
        };
        let mut f = HttpFlow::new(&cfg, false);
        feed(
            &mut f,
            Dir::ToServer,
            b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
            1,
        );
        for _ in 0..100 {
            feed(&mut f, Dir::ToServer, &[0x17; 1000], 2);
        }
        assert!(f.buffered_bytes() <= 2048, "{}", f.buffered_bytes());
        feed(
            &mut f,
            Dir::ToClient,
            b"HTTP/1.1 407 No\r\nContent-Length: 0\r\n\r\n",
            3,
        );
        let t = done(&mut f);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].response.as_ref().unwrap().status, 407);
    }

    #[test]
    fn informational_timestamps_and_head_split_across_packets() {
        let mut f = flow();
        feed(
            &mut f,
            Dir::ToServer,
            b"POST /u HTTP/1.1\r\nHost: a\r\n",
            10,
        );
        feed(
            &mut f,
            Dir::ToServer,
            b"Expect: 100-continue\r\nContent-Length: 2\r\n\r\n",
            11,
        );
        feed(&mut f, Dir::ToClient, b"HTTP/1.1 100 Continue\r\n\r\n", 20);
        feed(&mut f, Dir::ToServer, b"hi", 21);
        feed(
            &mut f,
            Dir::ToClient,
            b"HTTP/1.1 200 OK\r\nContent-Type: Text/Plain; charset=x\r\n",
            30,
        );
        feed(&mut f, Dir::ToClient, b"Content-Length: 2\r\n\r\nok", 31);
        let t = done(&mut f);
        assert_eq!(t.len(), 1);
        let t = &t[0];
        assert_eq!((t.request_ts, t.response_ts), (Some(10), Some(30)));
        assert_eq!(t.informational, vec![100]);
        let resp = t.response.as_ref().unwrap();
        assert_eq!(resp.content_type().as_deref(), Some("text/plain"));
        assert_eq!(resp.body.data, b"ok");
    }

    #[test]
    fn too_many_informational_is_capped() {
        let mut f = flow();
        feed(
            &mut f,
            Dir::ToServer,
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            1,
        );
        for _ in 0..40 {
            feed(&mut f, Dir::ToClient, b"HTTP/1.1 102 Processing\r\n\r\n", 2);
        }
        feed(&mut f, Dir::ToClient, b"HTTP/1.1 204 No Content\r\n\r\n", 3);
        let t = done(&mut f);
        assert_eq!(t[0].informational.len(), 16);
        assert_eq!(t[0].anomalies, vec![Anomaly::TooManyInformational]);
    }

    #[test]
    fn a_finished_response_waits_for_its_request_body() {
        let mut f = flow();
        feed(
            &mut f,
            Dir::ToServer,
            b"POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234",
            1,
        );
        feed(
            &mut f,
            Dir::ToClient,
            b"HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n",
            2,
        );
        assert!(done(&mut f).is_empty());
        feed(&mut f, Dir::ToServer, b"56789", 3);
        let t = done(&mut f);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].request.as_ref().unwrap().body.wire_bytes, 10);
    }

    #[test]
    fn decoded_bodies_and_trailers_through_the_flow() {
        let plain = br#"{"users":[{"id":1,"email":"a@example.com"}]}"#;
        for (enc, body) in [("gzip", gzip(plain)), ("br", brotli_enc(plain, 18))] {
            let mut f = flow();
            feed(
                &mut f,
                Dir::ToServer,
                b"GET /u HTTP/1.1\r\nHost: a\r\n\r\n",
                1,
            );
            let mut resp = format!("HTTP/1.1 200 OK\r\nContent-Encoding: {enc}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n", body.len()).into_bytes();
            resp.extend_from_slice(&body);
            resp.extend_from_slice(b"\r\n0\r\nX-Trailer: t\r\n\r\n");
            for b in resp.chunks(3) {
                feed(&mut f, Dir::ToClient, b, 2);
            }
            let t = done(&mut f);
            let r = t[0].response.as_ref().unwrap();
            assert_eq!(r.body.data, plain);
            assert_eq!(r.body.encoding.as_deref(), Some(enc));
            assert_eq!(r.body.wire_bytes, body.len() as u64);
            assert_eq!(r.trailers.len(), 1);
            assert!(t[0].anomalies.is_empty(), "{:?}", t[0].anomalies);
        }
    }

    #[test]
    fn stream_anomalies_land_on_the_right_transaction() {
        let mut f = flow();
        feed(
            &mut f,
            Dir::ToServer,
            b"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab",
            1,
        );
        f.stream_anomaly(Dir::ToServer, Anomaly::OverlapDifferentData);
        feed(&mut f, Dir::ToServer, b"cd", 2);
        f.stream_anomaly(Dir::ToServer, Anomaly::OverlapDifferentData);
        feed(
            &mut f,
            Dir::ToServer,
            b"GET /b HTTP/1.1\r\nHost: a\r\n\r\n",
            3,
        );
        feed(
            &mut f,
            Dir::ToClient,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            4,
        );
        f.stream_anomaly(Dir::ToClient, Anomaly::OverlapDifferentData);
        feed(
            &mut f,
            Dir::ToClient,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            5,
        );
        let t = done(&mut f);
        assert_eq!(t[0].anomalies, vec![Anomaly::OverlapDifferentData]);
        assert_eq!(t[1].anomalies, vec![Anomaly::OverlapDifferentData]);
    }

    #[test]
    fn max_tx_counts_live_transactions_only() {
        let cfg = HttpConfig {
            max_tx: 2,
            ..Default::default()
        };
        let mut f = HttpFlow::new(&cfg, false);
        let mut all = Vec::new();
        for i in 0..5 {
            feed(
                &mut f,
                Dir::ToServer,
                format!("GET /{i} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes(),
                i,
            );
            feed(
                &mut f,
                Dir::ToClient,
                b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                i,
            );
            f.drain_ready(&mut all);
        }
        assert_eq!(all.len(), 5);
        assert!(all.iter().all(|t| t.anomalies.is_empty()));
    }

    #[test]
    fn resync_gives_up_after_the_limit() {
        let cfg = HttpConfig {
            resync_limit: 1000,
            ..Default::default()
        };
        let mut f = HttpFlow::new(&cfg, true);
        feed(
            &mut f,
            Dir::ToServer,
            b"GET /a HTTP/1.1\r\nHost: a\r\n\r\n",
            1,
        );
        assert_eq!(f.is_http(), Some(true));
        for _ in 0..20 {
            feed(&mut f, Dir::ToClient, &[b'x'; 100], 2);
        }
        let t = done(&mut f);
        assert_eq!(t.len(), 1);
        assert!(!t[0].complete);
        assert!(
            t[0].anomalies.contains(&Anomaly::ResyncFailed),
            "{:?}",
            t[0].anomalies
        );
        assert_eq!(f.buffered_bytes(), 0);

        let mut f = HttpFlow::new(&cfg, true);
        feed(&mut f, Dir::ToServer, &[b'y'; 2000], 1);
        assert_eq!(f.is_http(), None);
        feed(&mut f, Dir::ToClient, &[b'x'; 2000], 1);
        assert_eq!(f.is_http(), Some(false));
    }

    #[test]
    fn gap_before_the_flow_is_judged() {
        let mut f = flow();
        f.feed(Dir::ToServer, Chunk::Gap(100), 1);
        feed(
            &mut f,
            Dir::ToServer,
            b"dy bytes\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n",
            2,
        );
        feed(
            &mut f,
            Dir::ToClient,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            3,
        );
        let t = done(&mut f);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].anomalies, vec![Anomaly::ResyncSkipped]);
    }

    #[test]
    fn finish_is_final() {
        let mut f = flow();
        feed(&mut f, Dir::ToServer, b"GET /x HTTP/1.1\r\nHost: a\r\n", 1);
        let mut out = Vec::new();
        f.finish(5, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].request.as_ref().unwrap().path, "/x");
        assert_eq!(out[0].anomalies, vec![Anomaly::Truncated]);
        feed(&mut f, Dir::ToServer, b"GET /y HTTP/1.1\r\n\r\n", 6);
        f.finish(7, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(f.buffered_bytes(), 0);
    }

    #[test]
    fn a_big_head_fed_byte_by_byte_is_scanned_once() {
        let mut head = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
        while head.len() < 60_000 {
            head.extend_from_slice(
                b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
            );
        }
        head.extend_from_slice(b"\r\n");
        let mut f = flow();
        let start = std::time::Instant::now();
        for b in head.chunks(1) {
            feed(&mut f, Dir::ToServer, b, 1);
        }
        feed(
            &mut f,
            Dir::ToClient,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            2,
        );
        assert_eq!(done(&mut f).len(), 1);
        // Quadratic rescanning would take many seconds here even in release mode.
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn body_past_the_cap_is_not_kept() {
        let cfg = HttpConfig {
            body_inspect_bytes: 1000,
            ..Default::default()
        };
        let mut f = HttpFlow::new(&cfg, false);
        feed(
            &mut f,
            Dir::ToServer,
            b"GET /dl HTTP/1.1\r\nHost: a\r\n\r\n",
            1,
        );
        feed(
            &mut f,
            Dir::ToClient,
            b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n",
            2,
        );
        let chunk = vec![7u8; 65536];
        let mut sent = 0;
        while sent < 10_000_000 {
            let n = chunk.len().min(10_000_000 - sent);
            feed(&mut f, Dir::ToClient, &chunk[..n], 3);
            sent += n;
            assert!(f.buffered_bytes() < 4096, "{}", f.buffered_bytes());
        }
        let t = done(&mut f);
        let b = &t[0].response.as_ref().unwrap().body;
        assert_eq!(
            (b.wire_bytes, b.data.len(), b.truncated),
            (10_000_000, 1000, true)
        );
    }

    // ------------------------------------------------------------------ proptest

    #[derive(Debug, Clone)]
    enum BodyKind {
        None,
        Length(Vec<u8>),
        Chunked(Vec<Vec<u8>>),
        Gzip(Vec<u8>),
    }

    #[derive(Debug, Clone)]
    struct Exchange {
        method: &'static str,
        path: String,
        req_body: BodyKind,
        status: u16,
        resp_body: BodyKind,
        continue_100: bool,
    }

    fn body_kind() -> impl Strategy<Value = BodyKind> {
        prop_oneof![
            Just(BodyKind::None),
            proptest::collection::vec(any::<u8>(), 1..300).prop_map(BodyKind::Length),
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..40), 0..5)
                .prop_map(BodyKind::Chunked),
            "[a-z0-9 {}\":,]{0,200}".prop_map(|s| BodyKind::Gzip(s.into_bytes())),
        ]
    }

    fn exchange() -> impl Strategy<Value = Exchange> {
        (
            prop_oneof![
                Just("GET"),
                Just("POST"),
                Just("PUT"),
                Just("DELETE"),
                Just("HEAD"),
                Just("PROPFIND")
            ],
            "/[a-z0-9/]{0,20}(\\?[a-z=&0-9]{0,10})?",
            body_kind(),
            prop_oneof![
                Just(200u16),
                Just(201),
                Just(204),
                Just(304),
                Just(404),
                Just(500)
            ],
            body_kind(),
            any::<bool>(),
        )
            .prop_map(
                |(method, path, req_body, status, resp_body, continue_100)| Exchange {
                    method,
                    path,
                    req_body,
                    status,
                    resp_body,
                    continue_100,
                },
            )
    }

    fn encode_body(head: &mut Vec<u8>, body: &BodyKind) -> (Vec<u8>, u64) {
        match body {
            BodyKind::None => (Vec::new(), 0),
            BodyKind::Length(b) => {
                head.extend_from_slice(format!("Content-Length: {}\r\n", b.len()).as_bytes());
                (b.clone(), b.len() as u64)
            }
            BodyKind::Chunked(chunks) => {
                head.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
                let mut out = Vec::new();
                for c in chunks {
                    out.extend_from_slice(format!("{:X};x=y\r\n", c.len()).as_bytes());
                    out.extend_from_slice(c);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\nT: v\r\n\r\n");
                (out, chunks.iter().map(|c| c.len() as u64).sum())
            }
            BodyKind::Gzip(plain) => {
                let z = gzip(plain);
                head.extend_from_slice(
                    format!("Content-Encoding: gzip\r\nContent-Length: {}\r\n", z.len()).as_bytes(),
                );
                let n = z.len() as u64;
                (z, n)
            }
        }
    }

    type Conversation = (Vec<(Dir, TranscriptBlock)>, Vec<(u64, u64)>);

    /// Builds a conversation (alternating or fully pipelined) and the wire sizes expected.
    #[allow(clippy::type_complexity)]
    fn conversation(ex: &[Exchange], pipelined: bool) -> Conversation {
        let mut reqs = Vec::new();
        let mut resps = Vec::new();
        let mut sizes = Vec::new();
        for e in ex {
            let mut head =
                format!("{} {} HTTP/1.1\r\nHost: h.example\r\n", e.method, e.path).into_bytes();
            let (body, req_n) = encode_body(&mut head, &e.req_body);
            let cont = e.continue_100 && !body.is_empty() && !pipelined;
            if cont {
                head.extend_from_slice(b"Expect: 100-continue\r\n");
            }
            head.extend_from_slice(b"\r\n");
            let mut rhead = format!("HTTP/1.1 {} X\r\n", e.status).into_bytes();
            let bodiless = e.method == "HEAD" || e.status == 204 || e.status == 304;
            let (rbody, resp_n) = encode_body(&mut rhead, &e.resp_body);
            if matches!(e.resp_body, BodyKind::None) {
                rhead.extend_from_slice(b"Content-Length: 0\r\n");
            }
            rhead.extend_from_slice(b"\r\n");
            if !bodiless {
                rhead.extend_from_slice(&rbody);
            }
            if cont {
                reqs.push(vec![
                    (Dir::ToServer, head),
                    (Dir::ToClient, b"HTTP/1.1 100 Continue\r\n\r\n".to_vec()),
                    (Dir::ToServer, body),
                ]);
            } else {
                head.extend_from_slice(&body);
                reqs.push(vec![(Dir::ToServer, head)]);
            }
            resps.push((Dir::ToClient, rhead));
            sizes.push((req_n, if bodiless { 0 } else { resp_n }));
        }
        let mut blocks = Vec::new();
        if pipelined {
            let mut all_req = Vec::new();
            for r in reqs {
                for (_, b) in r {
                    all_req.extend_from_slice(&b);
                }
            }
            let all_resp: Vec<u8> = resps.into_iter().flat_map(|(_, b)| b).collect();
            blocks.push((Dir::ToServer, TranscriptBlock::Data(all_req)));
            blocks.push((Dir::ToClient, TranscriptBlock::Data(all_resp)));
        } else {
            for (r, s) in reqs.into_iter().zip(resps) {
                for (d, b) in r {
                    blocks.push((d, TranscriptBlock::Data(b)));
                }
                blocks.push((s.0, TranscriptBlock::Data(s.1)));
            }
        }
        (blocks, sizes)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn any_split_gives_the_same_transactions(
            ex in proptest::collection::vec(exchange(), 1..6),
            pipelined in any::<bool>(),
            splits in proptest::collection::vec(1usize..50, 1..40),
        ) {
            let (blocks, sizes) = conversation(&ex, pipelined);
            let opts = crate::http::transcript::TranscriptOptions::default();
            let (whole, _) = replay_with(&blocks, &opts, |len| vec![len]);
            let mut i = 0;
            let (split, _) = replay_with(&blocks, &opts, |len| {
                let mut v = Vec::new();
                let mut left = len;
                while left > 0 {
                    let n = splits[i % splits.len()].min(left);
                    i += 1;
                    v.push(n);
                    left -= n;
                }
                v
            });
            prop_assert_eq!(&whole, &split);
            prop_assert_eq!(whole.len(), ex.len());
            for ((t, e), (rq, rs)) in whole.iter().zip(&ex).zip(&sizes) {
                prop_assert!(t.complete, "{:?}", t);
                prop_assert!(t.anomalies.is_empty(), "{:?}", t.anomalies);
                let req = t.request.as_ref().unwrap();
                prop_assert_eq!(&req.method, e.method);
                prop_assert_eq!(req.body.wire_bytes, *rq);
                let resp = t.response.as_ref().unwrap();
                prop_assert_eq!(resp.status, e.status);
                prop_assert_eq!(resp.body.wire_bytes, *rs);
                if let (BodyKind::Gzip(plain), false) = (&e.resp_body, *rs == 0) {
                    prop_assert_eq!(&resp.body.data, plain);
                }
            }
        }
    }

    // ------------------------------------------------------------------ fuzz

    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() as usize) % n.max(1)
        }
    }

    fn small_cfg(r: &mut Lcg) -> HttpConfig {
        HttpConfig {
            max_header_bytes: [64, 256, 4096][r.below(3)],
            max_headers: [0, 2, 16][r.below(3)],
            body_inspect_bytes: [0, 10, 300][r.below(3)],
            max_tx: [1, 2, 8][r.below(3)],
            resync_limit: [10, 500, 100_000][r.below(3)],
        }
    }

    /// Feeds `blocks` cut at random, with random gaps, closes and stream anomalies, checking
    /// the caps after every call.
    fn hammer(blocks: &[(Dir, TranscriptBlock)], cfg: &HttpConfig, midstream: bool, r: &mut Lcg) {
        let mut f = HttpFlow::new(cfg, midstream);
        let mut out = Vec::new();
        let bound = 2
            * (3 * cfg.max_header_bytes + 64 * 1024 + crate::http::body::MAX_BROTLI_WINDOW)
            + (cfg.max_tx + 1) * 2 * cfg.body_inspect_bytes
            + 64 * 1024;
        let check = |f: &HttpFlow, out: &[Transaction]| {
            assert!(f.live_txs() <= cfg.max_tx + 1, "{} live", f.live_txs());
            assert!(
                f.buffered_bytes() <= bound,
                "{} buffered > {bound}",
                f.buffered_bytes()
            );
            for t in out {
                assert!(t.informational.len() <= 16);
                for b in t
                    .request
                    .iter()
                    .map(|x| &x.body)
                    .chain(t.response.iter().map(|x| &x.body))
                {
                    assert!(b.data.len() <= cfg.body_inspect_bytes);
                }
                let mut seen = std::collections::HashSet::new();
                assert!(t.anomalies.iter().all(|a| seen.insert(*a)));
            }
        };
        for (dir, block) in blocks {
            match block {
                TranscriptBlock::Gap(n) => f.feed(*dir, Chunk::Gap(*n as u64), 1),
                TranscriptBlock::Data(d) => {
                    let mut pos = 0;
                    while pos < d.len() {
                        let max = if r.below(4) == 0 { 3 } else { 200 };
                        let n = 1 + r.below(max);
                        let end = (pos + n).min(d.len());
                        f.feed(*dir, Chunk::Data(&d[pos..end]), 1);
                        pos = end;
                        match r.below(50) {
                            0 => f.feed(*dir, Chunk::Gap(r.below(100) as u64), 1),
                            1 => f.stream_anomaly(*dir, Anomaly::OverlapDifferentData),
                            2 => f.feed(dir.opposite(), Chunk::Data(b"HTTP/1.1 200 OK\r\n\r\n"), 1),
                            _ => {}
                        }
                        f.drain_ready(&mut out);
                        check(&f, &out);
                    }
                }
            }
            if r.below(30) == 0 {
                f.close(*dir, 2);
            }
            f.drain_ready(&mut out);
            check(&f, &out);
        }
        f.close(Dir::ToServer, 3);
        f.close(Dir::ToClient, 3);
        f.finish(4, &mut out);
        check(&f, &out);
        for (i, t) in out.iter().enumerate() {
            assert_eq!(t.tx_id, i as u64);
        }
    }

    fn mutate(data: &mut Vec<u8>, r: &mut Lcg) {
        const TOKENS: &[&[u8]] = &[
            b"\r\n",
            b"\n",
            b"\r\n\r\n",
            b" ",
            b":",
            b"0\r\n\r\n",
            b"Content-Length: 5\r\n",
            b"Transfer-Encoding: chunked\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\n",
            b"GET / HTTP/1.1\r\n",
            b"HTTP/1.1 101 S\r\n\r\n",
            b"ffffffffffffffff\r\n",
            b"Content-Encoding: gzip\r\n",
            b"Content-Encoding: br\r\n",
            b"\x1f\x8b\x08\x00",
            b"Upgrade: h2c\r\n",
        ];
        for _ in 0..1 + r.below(8) {
            if data.is_empty() {
                data.push(b'G');
            }
            let at = r.below(data.len());
            match r.below(6) {
                0 => data[at] ^= 1 << r.below(8),
                1 => {
                    data.remove(at);
                }
                2 => data.insert(at, r.next() as u8),
                3 => {
                    let t = TOKENS[r.below(TOKENS.len())];
                    data.splice(at..at, t.iter().copied());
                }
                4 => data.truncate(at),
                _ => {
                    let end = (at + r.below(64)).min(data.len());
                    let dup: Vec<u8> = data[at..end].to_vec();
                    data.splice(at..at, dup);
                }
            }
        }
    }

    #[test]
    fn fuzz_random_bytes_never_panic_or_exceed_caps() {
        let mut r = Lcg(0x5eed);
        for round in 0..2000 {
            let cfg = small_cfg(&mut r);
            let mut blocks = Vec::new();
            if round % 4 < 2 {
                // Get past probing so the random bytes reach the head and body parsers.
                blocks.push((
                    Dir::ToServer,
                    TranscriptBlock::Data(
                        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(),
                    ),
                ));
                blocks.push((Dir::ToClient, TranscriptBlock::Data(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff".to_vec())));
            }
            for _ in 0..1 + r.below(6) {
                let dir = if r.below(2) == 0 {
                    Dir::ToServer
                } else {
                    Dir::ToClient
                };
                let len = r.below(2000);
                let alphabet: &[u8] = if round % 3 != 0 {
                    b"GETPOSTHP/1.0 \r\n:Ch-kdLngx0123456789abcdef;"
                } else {
                    &[]
                };
                let data: Vec<u8> = (0..len)
                    .map(|_| {
                        if alphabet.is_empty() {
                            r.next() as u8
                        } else {
                            alphabet[r.below(alphabet.len())]
                        }
                    })
                    .collect();
                blocks.push((dir, TranscriptBlock::Data(data)));
                if r.below(5) == 0 {
                    blocks.push((dir, TranscriptBlock::Gap(r.below(300))));
                }
            }
            hammer(&blocks, &cfg, r.below(2) == 0, &mut r);
        }
    }

    #[test]
    fn fuzz_mutated_transcripts_never_panic_or_exceed_caps() {
        let mut r = Lcg(42);
        let all = all_transcripts();
        for round in 0..24 {
            for (name, text) in &all {
                let mut blocks = parse_transcript(text).unwrap();
                let opts = parse_options(text).unwrap();
                for (_, b) in &mut blocks {
                    if let TranscriptBlock::Data(d) = b {
                        if r.below(3) != 0 {
                            mutate(d, &mut r);
                        }
                    }
                }
                let cfg = if round % 2 == 0 {
                    opts.config.clone()
                } else {
                    small_cfg(&mut r)
                };
                let mid = if round % 3 == 0 {
                    !opts.midstream
                } else {
                    opts.midstream
                };
                if std::env::var("FUZZ_ONLY").is_ok_and(|o| !name.starts_with(&o)) {
                    continue;
                }
                if std::env::var_os("FUZZ_TRACE").is_some() {
                    eprintln!("{name} round {round} cfg {cfg:?} mid {mid}");
                }
                let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    hammer(&blocks, &cfg, mid, &mut Lcg(round))
                }));
                assert!(res.is_ok(), "{name} round {round}");
            }
        }
    }

    /// Throughput of the parser alone (run: cargo test --release throughput -- --ignored --nocapture).
    #[test]
    #[ignore]
    fn throughput() {
        let mut convo: Vec<(Dir, Vec<u8>)> = Vec::new();
        for i in 0..1000 {
            convo.push((Dir::ToServer, format!("GET /api/v1/users/{i}/orders?limit=10&page=2 HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\r\nAccept: application/json\r\nAuthorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc\r\nCookie: session=abcdef0123456789; theme=dark\r\nAccept-Encoding: gzip, br\r\n\r\n").into_bytes()));
            let body = if i % 10 == 0 {
                vec![b'x'; 200_000]
            } else {
                vec![b'y'; 800]
            };
            let mut r = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nServer: nginx\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
            r.extend_from_slice(&body);
            convo.push((Dir::ToClient, r));
        }
        let total = convo.iter().map(|(_, b)| b.len()).sum::<usize>() as f64;
        let cfg = HttpConfig {
            body_inspect_bytes: 4096,
            ..Default::default()
        };
        let start = std::time::Instant::now();
        let rounds = 20;
        let mut n = 0;
        for _ in 0..rounds {
            let mut f = HttpFlow::new(&cfg, false);
            let mut out = Vec::new();
            for (dir, bytes) in &convo {
                for seg in bytes.chunks(1448) {
                    f.feed(*dir, Chunk::Data(seg), 1);
                }
                f.drain_ready(&mut out);
                n += out.len();
                out.clear();
            }
        }
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "{n} tx, {:.0} MB/s, {:.0} tx/s",
            total * f64::from(rounds) / secs / 1e6,
            n as f64 / secs
        );
        assert_eq!(n, 1000 * rounds as usize);
    }
}
