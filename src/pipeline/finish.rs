//! Stages 6 and 7 on a worker: a batch's finished transactions go through the analyzers
//! (detection, endpoint templates, the per-endpoint sums) and become `http` events; ended
//! flows become `flow` events.
//!
//! A worker hands its finished transactions and ended flows to a [`Finisher`] while it
//! processes a batch of packets, and the finisher makes their events at the end of the
//! batch, in phases that each go over every transaction: inspection, endpoints, sums, then
//! the events. Per transaction, the stages' code together did not fit in the instruction
//! cache (`valgrind --tool=callgrind --cache-sim=yes` counted about 380 instruction-cache
//! misses per `http` event); in phases, each stage's code and tables stay in cache across
//! the batch.
//!
//! Guarantees: events come out in the order the transactions finished and flows ended (a
//! flow's `flow` event after the `http` events of its transactions), and every analyzer
//! sees the transactions in that order, so the output is the same as stage by stage per
//! transaction; a batch holds at most [`FINISH_BATCH`] items before they are flushed.

use std::borrow::Cow;
use std::hash::BuildHasher;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::analyze::aggregate::Aggregate;
use crate::analyze::exposure::{self, parse_cidrs};
use crate::analyze::inspect::{Inspection, Inspector};
use crate::analyze::inventory::TxRecord;
use crate::analyze::posture;
use crate::analyze::Templater;
use crate::config::Config;
use crate::decode::Proto;
use crate::event::{
    self, EventId, FlowBody, FlowEvent, HttpBody, HttpEvent, Timestamp, TunnelJson,
};
use crate::flow::{EndReason, Flow, FlowKey, TO_CLIENT, TO_SERVER};
use crate::http::Transaction;
use crate::stats::{InspectCounters, WorkerReport};

/// Items a [`Finisher`] holds before it makes their events, whether or not the batch of
/// packets is over (a packet can finish many pipelined transactions).
pub(super) const FINISH_BATCH: usize = 256;

/// A finished transaction held until its events are made, with what its event needs of its
/// flow (the flow may have ended and left the table by then).
pub(super) struct Finished {
    key: FlowKey,
    flow_id: u64,
    /// The client is the key's `lo` side (role swaps applied).
    client_is_lo: bool,
    /// The flow's last packet time when the transaction finished: the event's time when the
    /// transaction has none of its own.
    last_ts: u64,
    tx: Transaction,
}

/// An ended flow, for its `flow` event.
struct Ended {
    /// How many of the held transactions finished before the flow ended (its event follows
    /// theirs).
    after: usize,
    key: FlowKey,
    flow: Flow,
    reason: EndReason,
}

/// The finished transactions and ended flows of the batch being processed.
#[derive(Default)]
pub(super) struct Finisher {
    txs: Vec<Finished>,
    flows: Vec<Ended>,
}

impl Finisher {
    /// A transaction of `flow` finished (`swapped`: the parser found the roles reversed).
    pub(super) fn tx(&mut self, key: FlowKey, flow: &Flow, swapped: bool, tx: Transaction) {
        self.txs.push(Finished {
            key,
            flow_id: flow.id,
            client_is_lo: flow.client_is_lo != swapped,
            last_ts: flow.last_ts,
            tx,
        });
    }

    /// A flow ended (its `flow` event follows the `http` events held before it).
    pub(super) fn flow(&mut self, key: FlowKey, flow: Flow, reason: EndReason) {
        self.flows.push(Ended {
            after: self.txs.len(),
            key,
            flow,
            reason,
        });
    }

    /// Transactions and flows held.
    pub(super) fn len(&self) -> usize {
        self.txs.len() + self.flows.len()
    }

    /// Runs the held transactions through the analyzers and writes the events of everything
    /// held, in order.
    pub(super) fn flush(
        &mut self,
        sensor: &str,
        analyzer: &mut Analyzer,
        emit: &mut Emitter,
        report: &mut WorkerReport,
    ) {
        let txs = &self.txs;
        // Phase 1: what the events and analyzers read of the messages; detection.
        let mut facts: Vec<Facts> = txs.iter().map(|f| analyzer.facts(f)).collect();
        // Phase 2: endpoints.
        for (f, fa) in txs.iter().zip(facts.iter_mut()) {
            let peer = if f.client_is_lo { f.key.lo } else { f.key.hi };
            fa.located = analyzer.locate(fa.host.as_deref(), peer.0, &f.tx);
        }
        // Phase 3: the per-endpoint sums, their table entries read ahead for the whole
        // batch first (see `Aggregate::warm`).
        for fa in &facts {
            if let Located::Api { hash, caller, .. } = fa.located {
                std::hint::black_box(analyzer.agg.warm(hash, caller));
            }
        }
        for (f, fa) in txs.iter().zip(&facts) {
            analyzer.sum(fa, f.flow_id, &f.tx);
        }
        // Phase 4: the events, in order.
        let mut http = txs.iter().zip(facts.iter_mut()).enumerate().peekable();
        for e in &self.flows {
            while let Some((_, (f, fa))) = http.next_if(|(i, _)| *i < e.after) {
                emit.line(&http_event(sensor, f, fa), report);
            }
            emit.line(&flow_event(sensor, &e.key, &e.flow, e.reason), report);
        }
        for (_, (f, fa)) in http {
            emit.line(&http_event(sensor, f, fa), report);
        }
        self.txs.clear();
        self.flows.clear();
    }
}

/// What phase 1 of a flush reads of a transaction (and phase 2 adds), for the analyzers
/// and the event.
struct Facts {
    host: Option<String>,
    request_content_type: Option<String>,
    response_content_type: Option<String>,
    /// The event's time.
    ts: u64,
    inspection: Inspection,
    located: Located,
}

/// Where a transaction's call goes in the inventory.
enum Located {
    /// Not an API call (no request, a CONNECT tunnel, `OPTIONS *`).
    NotApi,
    /// Discovery is off: the event names the raw path.
    Raw,
    /// An API call: the endpoint for the event (`None` when it is the key), whether the key
    /// is a spec's template, the key the call is summed under and its
    /// [`Aggregate::key_hash`], and the client.
    Api {
        endpoint: Option<String>,
        from_spec: bool,
        key: String,
        hash: u64,
        /// The client: the peer, or the address a trusted proxy forwarded for.
        caller: IpAddr,
    },
}

impl Located {
    /// The event's `http.endpoint`.
    fn into_endpoint(self, tx: &Transaction) -> Option<String> {
        match self {
            Located::NotApi => None,
            Located::Raw => tx.request.as_ref().map(|r| r.path.clone()),
            Located::Api { endpoint, key, .. } => Some(endpoint.unwrap_or(key)),
        }
    }
}

/// Where a worker's events are serialised before they go to the sink.
pub(super) struct Emitter {
    pub(super) flow_events: bool,
    pub(super) out: Vec<u8>,
    pub(super) count: u64,
}

impl Emitter {
    pub(super) fn line<T: serde::Serialize>(&mut self, ev: &T, report: &mut WorkerReport) {
        if event::write_line(&mut self.out, ev).is_ok() {
            self.count += 1;
            report.events += 1;
        }
    }
}

/// What a worker adds to each transaction before it leaves: the endpoint template and the
/// record for the discovery owner.
pub(super) struct Analyzer {
    pub(super) templater: Templater,
    /// Credentials and sensitive values.
    pub(super) inspector: Inspector,
    /// What the inspector saw (copied into the worker's report).
    pub(super) counters: InspectCounters,
    internal: Vec<IpNet>,
    trusted: Vec<IpNet>,
    pub(super) agg: Aggregate,
    /// `discovery.enabled`.
    enabled: bool,
    /// Body shapes built by any worker, and for which report.
    shapes: std::sync::Arc<SharedShapes>,
    /// The report the calls summed now are handed over at (the worker's reports done, plus
    /// one).
    pub(super) epoch: u64,
    /// `[discovery] schema_sample_every` and `schema_small_every` (validated: at least 1).
    schema_sample_every: u64,
    schema_small_every: u64,
    /// Header names that carry API keys (lower case), so that the credential itself is not
    /// also reported as sensitive data.
    api_key_headers: Vec<String>,
}

/// The body shapes the workers have built, shared by all of them: a shape is built once
/// per report interval at most, rather than once by every worker that sees it.
///
/// A worker skips building a shape (an endpoint's body slot and fingerprint) when some
/// worker built it for the worker's own report or an earlier one: the built shape reaches
/// the discovery owner in that worker's calls for that report, no later than the skipping
/// worker's would, so the owner learns the same shapes at the same reports whatever the
/// threads' timing. A worker behind the others (at an earlier report) builds it again and
/// records the earlier report. Lock-free: each place is one atomic word, a 40-bit tag of
/// the shape and the 24-bit report number (reports past 2^24 - 1 count as that), in sets
/// of four places; a full set forgets one shape, which is then built again when seen.
#[derive(Debug)]
pub(crate) struct SharedShapes {
    places: Box<[std::sync::atomic::AtomicU64]>,
}

/// Places in [`SharedShapes`] (a power of two; 512 KiB).
const SHAPE_PLACES: usize = 1 << 16;
/// Places per set.
const SHAPE_WAYS: usize = 4;
const EPOCH_BITS: u32 = 24;
const EPOCH_MAX: u64 = (1 << EPOCH_BITS) - 1;

impl Default for SharedShapes {
    fn default() -> Self {
        SharedShapes {
            places: (0..SHAPE_PLACES)
                .map(|_| std::sync::atomic::AtomicU64::new(0))
                .collect(),
        }
    }
}

impl SharedShapes {
    /// The set of places of `shape` (endpoint slot, fingerprint) and its tag (never 0,
    /// which marks a free place).
    fn locate(shape: (u64, u64)) -> (usize, u64) {
        let h = foldhash::fast::FixedState::with_seed(0x5ba9).hash_one(shape);
        let set = (h as usize & (SHAPE_PLACES / SHAPE_WAYS - 1)) * SHAPE_WAYS;
        (set, (h >> EPOCH_BITS).max(1))
    }

    fn set(&self, at: usize) -> &[std::sync::atomic::AtomicU64] {
        self.places.get(at..at + SHAPE_WAYS).unwrap_or_default()
    }

    /// Whether `shape` was built for report `epoch` or an earlier one.
    pub(crate) fn built(&self, shape: (u64, u64), epoch: u64) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let (at, tag) = Self::locate(shape);
        self.set(at).iter().any(|p| {
            let v = p.load(Relaxed);
            v >> EPOCH_BITS == tag && v & EPOCH_MAX <= epoch.min(EPOCH_MAX)
        })
    }

    /// Records that `shape` was built for report `epoch` (keeping an earlier report).
    pub(crate) fn insert(&self, shape: (u64, u64), epoch: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let (at, tag) = Self::locate(shape);
        let epoch = epoch.min(EPOCH_MAX);
        let want = tag << EPOCH_BITS | epoch;
        let set = self.set(at);
        // Its own place if it has one, else a free one, else one chosen by the tag.
        let place = set
            .iter()
            .find(|p| p.load(Relaxed) >> EPOCH_BITS == tag)
            .or_else(|| set.iter().find(|p| p.load(Relaxed) == 0))
            .or_else(|| set.get(tag as usize % SHAPE_WAYS));
        let Some(place) = place else {
            return;
        };
        let mut cur = place.load(Relaxed);
        loop {
            if cur >> EPOCH_BITS == tag && cur & EPOCH_MAX <= epoch {
                return;
            }
            match place.compare_exchange_weak(cur, want, Relaxed, Relaxed) {
                Ok(_) => return,
                Err(v) => cur = v,
            }
        }
    }
}

/// Body shapes are read for one transaction in `[discovery] schema_sample_every` and,
/// among request bodies and error response bodies of at most `SCHEMA_ALWAYS` bytes (cheap,
/// and what drift checks need), for every one of a documented endpoint and one in
/// `schema_small_every` of the others. Transactions are chosen by a hash of (flow id, tx
/// id), so the inventory's body shapes are the same whatever the number of workers. A
/// shape is fingerprinted first and built only when the worker has not seen it for the
/// endpoint, which does not change the union either.
const SCHEMA_ALWAYS: usize = 2048;
/// Bodies larger than this are not parsed for their shape.
const SCHEMA_MAX_BODY: usize = 256 << 10;

/// Query parameter names reported per transaction.
const MAX_QUERY_NAMES: usize = 32;
/// Longer query parameter names are cut to this many characters.
const QUERY_NAME_CHARS: usize = 128;

fn query_names(q: &str) -> Vec<Cow<'_, str>> {
    let mut v: Vec<Cow<'_, str>> = Vec::new();
    for part in q.split('&').filter(|p| !p.is_empty()) {
        let name = part.split('=').next().unwrap_or(part);
        let name = crate::analyze::spec::percent_decode(name);
        if !name.is_empty() && !v.contains(&name) {
            if v.len() == MAX_QUERY_NAMES {
                break;
            }
            let name = match name.char_indices().nth(QUERY_NAME_CHARS) {
                Some((end, _)) => Cow::Owned(name[..end].to_string()),
                None => name,
            };
            v.push(name);
        }
    }
    v
}

impl Analyzer {
    pub(super) fn new(
        cfg: &Config,
        templater: Templater,
        inspector: Inspector,
        shapes: std::sync::Arc<SharedShapes>,
    ) -> Self {
        Analyzer {
            templater,
            inspector,
            counters: InspectCounters::default(),
            // Validated by `Config::from_parts`.
            internal: parse_cidrs(&cfg.discovery.internal_cidrs).unwrap_or_default(),
            trusted: parse_cidrs(&cfg.discovery.trusted_proxies).unwrap_or_default(),
            agg: Aggregate::default(),
            enabled: cfg.discovery.enabled,
            shapes,
            epoch: 1,
            schema_sample_every: cfg.discovery.schema_sample_every.max(1),
            schema_small_every: cfg.discovery.schema_small_every.max(1),
            api_key_headers: crate::analyze::auth::DEFAULT_API_KEY_HEADERS
                .iter()
                .map(|h| h.to_string())
                .chain(
                    cfg.auth
                        .extra_api_key_headers
                        .iter()
                        .map(|h| h.to_ascii_lowercase()),
                )
                .collect(),
        }
    }

    /// Phase 1 of a flush: what the event and the analyzers read of the messages, and the
    /// detection inspection.
    fn facts(&mut self, f: &Finished) -> Facts {
        let tx = &f.tx;
        let req = tx.request.as_ref();
        let resp = tx.response.as_ref();
        let host = req.and_then(|r| r.host());
        let request_content_type = req.and_then(|r| r.content_type());
        let response_content_type = resp.and_then(|r| r.content_type());
        let ts = tx.request_ts.or(tx.response_ts).unwrap_or(f.last_ts);
        let inspection = self.inspector.inspect(
            req,
            resp,
            request_content_type.as_deref(),
            response_content_type.as_deref(),
            ts,
        );
        self.counters.count(&inspection);
        Facts {
            host,
            request_content_type,
            response_content_type,
            ts,
            inspection,
            located: Located::NotApi,
        }
    }

    /// Phase 2 of a flush: where the call of `tx` goes in the inventory.
    fn locate(&self, host: Option<&str>, peer: IpAddr, tx: &Transaction) -> Located {
        let Some(req) = tx.request.as_ref() else {
            return Located::NotApi;
        };
        // A CONNECT tunnel or `OPTIONS *` names no API endpoint.
        if req.method.eq_ignore_ascii_case("CONNECT") || !req.path.starts_with('/') {
            return Located::NotApi;
        }
        if !self.enabled {
            return Located::Raw;
        }
        let host = host.unwrap_or("");
        // Summed (and body shapes remembered) under a key that does not depend on when the
        // learned shape reached this worker.
        let (endpoint, from_spec, key) = self.templater.endpoint_source_and_key(host, &req.path);
        let hash = Aggregate::key_hash(&req.method, host, &key, from_spec);
        Located::Api {
            endpoint,
            from_spec,
            key,
            hash,
            caller: exposure::client_address(peer, req, &self.trusted),
        }
    }

    /// Phase 3 of a flush: the call of `tx` summed under its key (and its body shapes read
    /// when it is sampled).
    fn sum(&mut self, facts: &Facts, flow_id: u64, tx: &Transaction) {
        let Located::Api {
            from_spec,
            key,
            hash: ep_hash,
            caller,
            ..
        } = &facts.located
        else {
            return;
        };
        let (from_spec, ep_hash, caller) = (*from_spec, *ep_hash, *caller);
        let Some(req) = tx.request.as_ref() else {
            return;
        };
        let host = facts.host.as_deref().unwrap_or("");
        let inspection = &facts.inspection;
        let resp = tx.response.as_ref();
        let request_content_type = facts.request_content_type.as_deref();
        let response_content_type = facts.response_content_type.as_deref();
        let pick = foldhash::fast::FixedState::with_seed(0x5c4e).hash_one((flow_id, tx.tx_id));
        let sample = pick % self.schema_sample_every == 0;
        // Small request and error bodies: every one for a documented endpoint (drift
        // findings need each field), one in `schema_small_every` otherwise.
        let small_pick = from_spec || pick % self.schema_small_every == 0;
        let small = |b: &crate::http::Body| b.data.len() <= SCHEMA_ALWAYS;
        let epoch = self.epoch;
        // `slot`: 0 for the request body, else the response status (shapes are kept per
        // status).
        let shape = |ct: Option<&str>, b: &crate::http::Body, small_kind: bool, slot: u16| {
            if !(sample || (small_kind && small_pick && small(b))) {
                return None;
            }
            if b.truncated
                || b.data.is_empty()
                || b.data.len() > SCHEMA_MAX_BODY
                || !ct.is_some_and(|c| c.contains("json"))
            {
                return None;
            }
            // A cheap fingerprint first; only a shape no worker has built for this endpoint
            // (for this report or an earlier one) is built: see `SharedShapes`.
            let fp = crate::analyze::spec::Schema::fingerprint(&b.data, &Default::default())?;
            // Remembered once built: the fingerprint reads past what it does not count
            // (array items after the first few) without validating it, and a body invalid
            // there must not keep a valid one of the same shape from being built.
            let seen = (ep_hash ^ u64::from(slot), fp);
            if self.shapes.built(seen, epoch) {
                return None;
            }
            let schema =
                crate::analyze::spec::Schema::from_json_slice(&b.data, &Default::default())?;
            self.shapes.insert(seen, epoch);
            Some(schema)
        };
        let request_schema = shape(request_content_type, &req.body, true, 0);
        let response_schema = resp.and_then(|r| {
            let error = r.status >= 400;
            shape(response_content_type, &r.body, error, r.status.max(1))
        });
        let r = TxRecord {
            ts: tx.request_ts.unwrap_or(0),
            flow_id,
            tx_id: tx.tx_id,
            host: Cow::Borrowed(host),
            method: Cow::Borrowed(&req.method),
            path: Cow::Borrowed(&req.path),
            status: resp.map(|r| r.status),
            latency_us: match (tx.request_ts, tx.response_ts) {
                (Some(a), Some(b)) => Some(b.saturating_sub(a)),
                _ => None,
            },
            request_content_type: request_content_type.map(Cow::Borrowed),
            response_content_type: response_content_type.map(Cow::Borrowed),
            query_params: req.query.as_deref().map(query_names).unwrap_or_default(),
            client: Some(caller),
            client_internal: exposure::contains(&self.internal, caller),
            auth_scheme: inspection
                .auth
                .as_ref()
                .map(|a| Cow::Borrowed(a.scheme.name())),
            // Documented test values (example.com addresses, PSP test cards) and the
            // request's own credential are not data the endpoint moves.
            sensitive_types: {
                let url_keys: &[String] = inspection
                    .auth
                    .as_ref()
                    .map_or(&[], |a| a.credentials_in_url.as_slice());
                let mut v: Vec<Cow<'_, str>> = Vec::new();
                for item in inspection.sensitive.iter().filter(|i| {
                    !i.test_data && !posture::is_credential_item(i, &self.api_key_headers, url_keys)
                }) {
                    if !v.iter().any(|k| *k == item.kind) {
                        v.push(Cow::Borrowed(item.kind.as_str()));
                    }
                }
                v
            },
            request_schema,
            response_schema,
            findings: posture::tx_findings(req, resp, inspection, &self.api_key_headers),
            credential: inspection
                .auth
                .as_ref()
                .and_then(|a| a.credential.as_ref())
                .map(|c| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&c.fingerprint.0[..8]);
                    u64::from_be_bytes(b)
                }),
        };
        // Summed under the stateless key: the owner files a placeholder under its parameter
        // and a raw value where its trie has learned one.
        self.agg.add(&r, key, from_spec, ep_hash);
    }
}

/// Phase 4 of a flush: the `http` event of a finished transaction (what it owns is moved
/// out of `facts`).
fn http_event<'a>(sensor: &'a str, f: &'a Finished, facts: &mut Facts) -> HttpEvent<'a> {
    let (key, tx) = (&f.key, &f.tx);
    let (client, server) = if f.client_is_lo {
        (key.lo, key.hi)
    } else {
        (key.hi, key.lo)
    };
    let req = tx.request.as_ref();
    let resp = tx.response.as_ref();
    let latency_us = match (tx.request_ts, tx.response_ts) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let ts = facts.ts;
    let host = facts.host.take();
    let request_content_type = facts.request_content_type.take();
    let response_content_type = facts.response_content_type.take();
    let endpoint = std::mem::replace(&mut facts.located, Located::NotApi).into_endpoint(tx);
    let auth = facts
        .inspection
        .auth
        .take()
        .map(crate::analyze::auth::AuthInfo::into_event_fields);
    let sensitive = std::mem::take(&mut facts.inspection.sensitive);
    let inspection = &facts.inspection;
    HttpEvent {
        timestamp: Timestamp(ts),
        event_type: "http",
        event_id: EventId::derive(sensor, "http", &(f.flow_id, tx.tx_id)),
        sensor,
        flow_id: f.flow_id,
        tx_id: tx.tx_id,
        src_ip: client.0,
        src_port: client.1,
        dest_ip: server.0,
        dest_port: server.1,
        vlan: key.ctx.vlans(),
        tunnel: key.ctx.tunnel.map(TunnelJson),
        http: HttpBody {
            method: req.map(|r| r.method.as_str()),
            host,
            path: req.map(|r| inspection.redact_path(&r.path)),
            query: req.and_then(|r| r.query.as_deref().map(|q| inspection.redact_query(q))),
            endpoint,
            status: resp.map(|r| r.status),
            version: req
                .map(|r| r.version.as_str())
                .or(resp.map(|r| r.version.as_str())),
            user_agent: req
                .and_then(|r| r.header("user-agent"))
                .map(|v| String::from_utf8_lossy(v).into_owned()),
            request_content_type,
            response_content_type,
            request_body_bytes: req.map(|r| r.body.wire_bytes),
            response_body_bytes: resp.map(|r| r.body.wire_bytes),
            latency_us,
            informational: &tx.informational,
            upgrade: tx.upgrade.as_deref(),
            complete: tx.complete,
            anomalies: tx.anomalies.iter().map(|a| a.name()).collect(),
        },
        auth,
        sensitive,
    }
}

fn flow_event<'a>(sensor: &'a str, key: &'a FlowKey, f: &Flow, reason: EndReason) -> FlowEvent<'a> {
    let (client, server) = if f.client_is_lo {
        (key.lo, key.hi)
    } else {
        (key.hi, key.lo)
    };
    let state = if key.proto == Proto::Tcp && f.closed() {
        "closed"
    } else if f.pkts[TO_SERVER] > 0 && f.pkts[TO_CLIENT] > 0 {
        "established"
    } else {
        "new"
    };
    FlowEvent {
        timestamp: Timestamp(f.last_ts),
        event_type: "flow",
        event_id: EventId::derive(sensor, "flow", &f.id),
        sensor,
        flow_id: f.id,
        src_ip: client.0,
        src_port: client.1,
        dest_ip: server.0,
        dest_port: server.1,
        proto: key.proto.name(),
        vlan: key.ctx.vlans(),
        tunnel: key.ctx.tunnel.map(TunnelJson),
        flow: FlowBody {
            start: Timestamp(f.first_ts),
            end: Timestamp(f.last_ts),
            pkts_toserver: f.pkts[TO_SERVER],
            pkts_toclient: f.pkts[TO_CLIENT],
            bytes_toserver: f.bytes[TO_SERVER],
            bytes_toclient: f.bytes[TO_CLIENT],
            state,
            reason: reason.name(),
            midstream: f.midstream,
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analyze::inspect::{InspectSetup, RedactionKey};
    use crate::config::{Mode, Overrides};
    use crate::http::Request;

    fn analyzer(cfg: &Config) -> Analyzer {
        let inspector = InspectSetup::new(
            &cfg.sensitive,
            &cfg.auth,
            &RedactionKey::from_bytes(b"0123456789abcdef0123"),
            false,
        )
        .unwrap()
        .inspector()
        .unwrap();
        Analyzer::new(
            cfg,
            Templater::new(cfg.discovery.templates.clone(), None),
            inspector,
            Default::default(),
        )
    }

    fn flow(id: u64) -> (FlowKey, Flow) {
        let ip = |n: u8| std::net::IpAddr::from([10, 0, 0, n]);
        let key = FlowKey {
            ctx: Default::default(),
            proto: Proto::Tcp,
            lo: (ip(1), 40000),
            hi: (ip(2), 80),
        };
        let flow = Flow {
            id,
            first_ts: 1,
            last_ts: 2,
            client_is_lo: true,
            pkts: [1, 1],
            bytes: [100, 100],
            tcp_flags: [0, 0],
            midstream: false,
            conn: None,
            conn_done: true,
            app_bytes: 0,
        };
        (key, flow)
    }

    fn get(tx_id: u64, path: &str) -> Transaction {
        Transaction {
            tx_id,
            request: Some(Request {
                method: "GET".into(),
                target: path.into(),
                path: path.into(),
                version: "HTTP/1.1".into(),
                ..Request::default()
            }),
            request_ts: Some(1),
            ..Transaction::default()
        }
    }

    /// Events come out in the order transactions finished and flows ended, whatever the
    /// phases in between, and the finisher is empty afterwards.
    #[test]
    fn events_keep_the_order_things_finished_in() {
        let cfg = Config::from_parts(Mode::Replay, Overrides::default(), None).unwrap();
        let mut an = analyzer(&cfg);
        let mut emit = Emitter {
            flow_events: true,
            out: Vec::new(),
            count: 0,
        };
        let mut report = WorkerReport::default();
        let mut fin = Finisher::default();
        let (k1, f1) = flow(1);
        let (k2, f2) = flow(2);
        fin.tx(k1, &f1, false, get(0, "/users/1"));
        fin.tx(k2, &f2, false, get(0, "/users/2"));
        fin.flow(k1, f1, EndReason::Closed);
        fin.tx(k2, &f2, false, get(1, "/orders/3"));
        fin.flow(k2, f2, EndReason::Closed);
        assert_eq!(fin.len(), 5);
        fin.flush("s", &mut an, &mut emit, &mut report);
        assert_eq!(fin.len(), 0);
        let events: Vec<serde_json::Value> = emit
            .out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        let got: Vec<(String, u64, Option<String>)> = events
            .iter()
            .map(|e| {
                (
                    e["event_type"].as_str().unwrap().to_string(),
                    e["flow_id"].as_u64().unwrap(),
                    e["http"]["endpoint"].as_str().map(str::to_string),
                )
            })
            .collect();
        let http = |f, p: &str| ("http".to_string(), f, Some(p.to_string()));
        assert_eq!(
            got,
            [
                http(1, "/users/{userId}"),
                http(2, "/users/{userId}"),
                ("flow".to_string(), 1, None),
                http(2, "/orders/{orderId}"),
                ("flow".to_string(), 2, None),
            ]
        );
        assert_eq!((emit.count, report.events), (5, 5));
        // Every API call was summed.
        assert_eq!(an.agg.len(), 2);
        // Nothing held: a second flush writes nothing.
        fin.flush("s", &mut an, &mut emit, &mut report);
        assert_eq!(emit.count, 5);
    }

    /// A shape built for a report is skipped by workers at that report or later ones, not
    /// by a worker still at an earlier report (which records the earlier one).
    #[test]
    fn shared_shapes_skip_only_for_the_same_or_a_later_report() {
        let t = SharedShapes::default();
        let a = (7, 42);
        assert!(!t.built(a, 5));
        t.insert(a, 5);
        assert!(t.built(a, 5) && t.built(a, 9));
        assert!(!t.built(a, 4));
        // A later report does not overwrite the earlier one; an earlier one does.
        t.insert(a, 8);
        assert!(!t.built(a, 4));
        t.insert(a, 3);
        assert!(t.built(a, 3) && t.built(a, 5));
        // Other shapes, including one on the same endpoint, are not built.
        assert!(!t.built((7, 43), 9) && !t.built((8, 42), 9));
        // Reports past the tag's range count as the last one it holds.
        let b = (1, 2);
        t.insert(b, u64::MAX);
        assert!(t.built(b, u64::MAX) && !t.built(b, EPOCH_MAX - 1));
    }

    /// A full set of places forgets a shape (which is then built again) rather than
    /// growing, and every shape still answers only for itself.
    #[test]
    fn shared_shapes_forget_rather_than_grow() {
        let t = SharedShapes::default();
        let shapes: Vec<(u64, u64)> = (0..(SHAPE_PLACES as u64 * 2)).map(|i| (i, !i)).collect();
        for &s in &shapes {
            t.insert(s, 1);
            assert!(t.built(s, 1));
        }
        let kept = shapes.iter().filter(|&&s| t.built(s, 1)).count();
        assert!(kept <= SHAPE_PLACES && kept > SHAPE_PLACES / 2, "{kept}");
        assert!(!t.built((u64::MAX, 0), 1));
    }

    /// Two workers on one table: no shape ever reads as built for a report earlier than
    /// one it was built for (which would skip a build the owner needs), and nearly every
    /// shape reads as built for the earlier worker's report. (A race can leave a shape in
    /// two places, one of which a full set may later forget: that costs a build again.)
    #[test]
    fn shared_shapes_from_two_threads() {
        let t = std::sync::Arc::new(SharedShapes::default());
        let run = |epoch: u64| {
            let t = t.clone();
            std::thread::spawn(move || {
                for i in 0..10_000u64 {
                    t.insert((i, i), epoch);
                }
            })
        };
        let (x, y) = (run(4), run(2));
        x.join().unwrap();
        y.join().unwrap();
        assert!((0..10_000u64).all(|i| !t.built((i, i), 1)));
        let earlier = (0..10_000u64).filter(|&i| t.built((i, i), 2)).count();
        assert!(earlier > 9_900, "{earlier}");
    }
}
