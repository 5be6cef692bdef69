//! All stages: counters and latency histograms, and the `stats` event.
//!
//! Each thread owns its counters (plain integers, no atomics on the packet path) and hands
//! a copy to the aggregator in-band, when the capture thread asks for a report. Latencies are
//! `hdrhistogram`s in nanoseconds, sampled on the packet path so measuring stays cheap.
//! Counter names are stable: the `stats` event is what operators alert on.

use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};

use crate::decode::frag::FragCounters;
use crate::decode::{DecodeCounters, Ignored, Layer, StopReason};
use crate::flow::{EndReason, FlowCounters};
use crate::http::Transaction;
use crate::tcp::TcpCounters;

/// Counters of the HTTP transactions a worker emitted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpCounters {
    pub transactions: u64,
    pub incomplete: u64,
    pub without_response: u64,
    pub without_request: u64,
    pub upgrades: u64,
    /// Transactions carrying each anomaly, by name.
    pub anomalies: std::collections::BTreeMap<&'static str, u64>,
}

impl HttpCounters {
    pub fn count(&mut self, tx: &Transaction) {
        self.transactions += 1;
        self.incomplete += u64::from(!tx.complete);
        self.without_response += u64::from(tx.response.is_none());
        self.without_request += u64::from(tx.request.is_none());
        self.upgrades += u64::from(tx.upgrade.is_some());
        for a in &tx.anomalies {
            *self.anomalies.entry(a.name()).or_default() += 1;
        }
    }

    pub fn merge(&mut self, o: &HttpCounters) {
        self.transactions += o.transactions;
        self.incomplete += o.incomplete;
        self.without_response += o.without_response;
        self.without_request += o.without_request;
        self.upgrades += o.upgrades;
        for (k, v) in &o.anomalies {
            *self.anomalies.entry(k).or_default() += v;
        }
    }
}

/// What the sensitive data and credential analyzers saw, and which of their limits were
/// reached (each limit of `[sensitive]` and `[auth]` has a counter here).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InspectCounters {
    /// Transactions inspected.
    pub transactions: u64,
    /// `sensitive[]` items written, by type.
    pub items: std::collections::BTreeMap<String, u64>,
    /// Values those items stand for (array elements folded into one item count each).
    pub values: u64,
    /// Requests by `auth.scheme`.
    pub schemes: std::collections::BTreeMap<&'static str, u64>,
    /// Transactions whose inspection a limit cut short, by limit.
    pub limits: std::collections::BTreeMap<&'static str, u64>,
    /// The weak JWT secret check (cumulative, from the workers' checkers).
    pub weak_secret: crate::analyze::auth::WeakSecretStats,
}

impl InspectCounters {
    pub fn count(&mut self, i: &crate::analyze::inspect::Inspection) {
        self.transactions += 1;
        for s in &i.sensitive {
            match self.items.get_mut(s.kind.as_str()) {
                Some(n) => *n += 1,
                None => {
                    self.items.insert(s.kind.clone(), 1);
                }
            }
            self.values += u64::from(s.count);
        }
        if let Some(a) = &i.auth {
            *self.schemes.entry(a.scheme.name()).or_default() += 1;
            for l in &a.limits_hit {
                *self.limits.entry(auth_limit_name(*l)).or_default() += 1;
            }
            if matches!(
                a.jwt_error,
                Some(crate::analyze::auth::JwtError::TooLong { .. })
            ) {
                *self.limits.entry("auth.max_jwt_bytes").or_default() += 1;
            }
            if a.jwt.as_ref().is_some_and(|j| j.claims_truncated) {
                *self.limits.entry("auth.max_claim_nodes").or_default() += 1;
            }
        }
        let n = &i.notes;
        for (hit, name) in [
            (n.detections_capped, "sensitive.max_detections_per_tx"),
            (n.values_capped, "sensitive.max_values"),
            (n.depth_capped, "sensitive.max_json_depth"),
            (n.bytes_capped, "sensitive.max_scan_bytes"),
            (n.json_truncated, "sensitive.json_truncated"),
            (n.json_invalid, "sensitive.json_invalid"),
            (n.binary_skipped, "sensitive.binary_skipped"),
        ] {
            if hit {
                *self.limits.entry(name).or_default() += 1;
            }
        }
    }

    pub fn merge(&mut self, o: &InspectCounters) {
        self.transactions += o.transactions;
        for (k, v) in &o.items {
            *self.items.entry(k.clone()).or_default() += v;
        }
        self.values += o.values;
        for (k, v) in &o.schemes {
            *self.schemes.entry(k).or_default() += v;
        }
        for (k, v) in &o.limits {
            *self.limits.entry(k).or_default() += v;
        }
        let (w, x) = (&mut self.weak_secret, &o.weak_secret);
        w.verified += x.verified;
        w.cache_hits += x.cache_hits;
        w.cache_evictions += x.cache_evictions;
        w.rate_limited += x.rate_limited;
        w.weak_found += x.weak_found;
    }

    fn to_json(&self) -> Value {
        json!({
            "transactions": self.transactions,
            "sensitive_items": self.items,
            "sensitive_values": self.values,
            "auth_schemes": self.schemes,
            "limits": self.limits,
            "weak_secret": {
                "verified": self.weak_secret.verified,
                "cache_hits": self.weak_secret.cache_hits,
                "cache_evictions": self.weak_secret.cache_evictions,
                "rate_limited": self.weak_secret.rate_limited,
                "weak_found": self.weak_secret.weak_found,
            },
        })
    }
}

fn auth_limit_name(l: crate::analyze::auth::AuthLimit) -> &'static str {
    use crate::analyze::auth::AuthLimit;
    match l {
        AuthLimit::QueryParams => "auth.max_query_params",
        AuthLimit::Cookies => "auth.max_cookies",
        AuthLimit::AuthParams => "auth.max_auth_params",
    }
}

/// A latency histogram in nanoseconds (1 ns to 60 s, 3 significant digits).
#[derive(Clone, Debug)]
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Self::new()
    }
}

impl Latency {
    pub fn new() -> Self {
        // Bounds are constants well inside hdrhistogram's limits: construction cannot fail.
        match Histogram::new_with_bounds(1, 60_000_000_000, 3) {
            Ok(h) => Self(h),
            Err(_) => unreachable!("constant histogram bounds are valid"),
        }
    }

    /// Records one value, clamped into the histogram's range.
    pub fn record(&mut self, ns: u64) {
        self.0.saturating_record(ns.max(1));
    }

    pub fn merge(&mut self, o: &Latency) {
        // Same bounds on both sides: adding cannot fail.
        let _ = self.0.add(&o.0);
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    pub fn to_json(&self) -> Value {
        if self.0.is_empty() {
            return json!({"count": 0});
        }
        json!({
            "count": self.0.len(),
            "p50": self.0.value_at_quantile(0.50),
            "p90": self.0.value_at_quantile(0.90),
            "p99": self.0.value_at_quantile(0.99),
            "max": self.0.max(),
        })
    }
}

/// Kernel capture statistics (live capture only), as libpcap reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelStats {
    pub received: u64,
    pub dropped: u64,
    pub if_dropped: u64,
}

/// What the capture thread reports.
#[derive(Clone, Debug, Default)]
pub struct CaptureReport {
    pub packets: u64,
    pub bytes: u64,
    pub files: u64,
    pub truncated_files: u64,
    pub kernel: Option<KernelStats>,
    pub decode: DecodeCounters,
    pub frag: FragCounters,
    pub batches: u64,
    pub queue_drops_batches: u64,
    pub queue_drops_packets: u64,
    /// Packets of link types apitap does not decode.
    pub unsupported_link_packets: u64,
    pub decode_ns: Latency,
    /// Packet time of the newest packet, in microseconds.
    pub last_ts: u64,
}

/// What one worker reports.
#[derive(Clone, Debug, Default)]
pub struct WorkerReport {
    pub packets: u64,
    pub bytes: u64,
    pub payload_bytes: u64,
    pub flows: FlowCounters,
    pub tcp: TcpCounters,
    /// Out-of-order bytes held by reassembly at the time of the report.
    pub tcp_buffered: u64,
    pub http: HttpCounters,
    pub inspect: InspectCounters,
    pub events: u64,
    /// Time a batch waited in the queue before its worker took it.
    pub queue_ns: Latency,
    /// Time a worker spent on one batch.
    pub batch_ns: Latency,
}

impl WorkerReport {
    pub fn merge(&mut self, o: &WorkerReport) {
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.payload_bytes += o.payload_bytes;
        self.flows.merge(&o.flows);
        self.tcp.merge(&o.tcp);
        self.tcp_buffered += o.tcp_buffered;
        self.http.merge(&o.http);
        self.inspect.merge(&o.inspect);
        self.events += o.events;
        self.queue_ns.merge(&o.queue_ns);
        self.batch_ns.merge(&o.batch_ns);
    }
}

/// What the output stage reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkCounters {
    pub events_written: u64,
    pub bytes_written: u64,
    pub write_errors: u64,
    /// Events that could not be written (after a write error).
    pub events_dropped: u64,
}

/// One consistent view of the whole sensor.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub workers: usize,
    pub capture: CaptureReport,
    pub worker: WorkerReport,
    pub sink: SinkCounters,
}

fn nonzero_map<I: IntoIterator<Item = (&'static str, u64)>>(it: I) -> Value {
    let mut m = Map::new();
    for (k, v) in it {
        if v != 0 {
            m.insert(k.to_string(), Value::from(v));
        }
    }
    Value::Object(m)
}

impl Snapshot {
    /// The `stats` object of the `stats` event.
    pub fn to_json(&self) -> Value {
        let c = &self.capture;
        let d = &c.decode;
        let layers = nonzero_map(Layer::ALL.iter().map(|l| (l.name(), d.layers[l.index()])));
        let ignored = nonzero_map(
            Ignored::ALL
                .iter()
                .map(|i| (i.name(), d.ignored[i.index()])),
        );
        let mut stop = Map::new();
        for l in Layer::ALL {
            let reasons = nonzero_map(StopReason::ALL.iter().map(|r| (r.name(), d.stop(*l, *r))));
            if reasons.as_object().is_some_and(|m| !m.is_empty()) {
                stop.insert(l.name().to_string(), reasons);
            }
        }
        let f = &self.worker.flows;
        let (t, h) = (&self.worker.tcp, &self.worker.http);
        let ended = nonzero_map(EndReason::ALL.iter().map(|r| (r.name(), f.ended_by(*r))));
        let mut capture = json!({
            "packets": c.packets,
            "bytes": c.bytes,
            "files": c.files,
            "truncated_files": c.truncated_files,
            "unsupported_link_type": c.unsupported_link_packets,
        });
        if let (Some(k), Some(obj)) = (c.kernel, capture.as_object_mut()) {
            obj.insert("kernel_received".into(), k.received.into());
            obj.insert("kernel_drops".into(), k.dropped.into());
            obj.insert("if_drops".into(), k.if_dropped.into());
        }
        json!({
            "capture": capture,
            "decode": {
                "layers": layers,
                "ignored": ignored,
                "stop": Value::Object(stop),
                "anomalies": d.total_stops(),
                "truncated_payloads": d.truncated_payloads,
            },
            "ip_frag": {
                "fragments": c.frag.fragments,
                "reassembled": c.frag.reassembled,
                "in_progress": c.frag.in_progress,
                "bytes_held": c.frag.bytes_held,
            },
            "pipeline": {
                "workers": self.workers,
                "batches": c.batches,
                "queue_drops": {"batches": c.queue_drops_batches, "packets": c.queue_drops_packets},
                "worker_packets": self.worker.packets,
            },
            "flows": {
                "created": f.created,
                "active": f.active,
                "ended": ended,
                "bytes_held": f.bytes_held,
            },
            "tcp": {
                "segments": t.segments,
                "bytes": t.bytes,
                "out_of_order": t.out_of_order,
                "retransmitted_bytes": t.retransmitted_bytes,
                "overlap_different_data": t.overlap_different,
                "gaps": t.gaps,
                "gap_bytes": t.gap_bytes,
                "out_of_window": t.out_of_window,
                "refused": {
                    "max_ooo_segments": t.refused_segments,
                    "max_ooo_bytes": t.refused_bytes,
                    "memcap": t.refused_memcap,
                },
                "depth_reached": t.depth_reached,
                "data_after_close": t.data_after_close,
                "buffered_bytes": self.worker.tcp_buffered,
            },
            "http": {
                "transactions": h.transactions,
                "incomplete": h.incomplete,
                "without_response": h.without_response,
                "without_request": h.without_request,
                "upgrades": h.upgrades,
                "anomalies": h.anomalies,
            },
            "inspect": self.worker.inspect.to_json(),
            "events": {
                "produced": self.worker.events,
                "written": self.sink.events_written,
                "dropped": self.sink.events_dropped,
                "write_errors": self.sink.write_errors,
            },
            "latency_ns": {
                "decode": c.decode_ns.to_json(),
                "queue": self.worker.queue_ns.to_json(),
                "worker_batch": self.worker.batch_ns.to_json(),
            },
        })
    }

    /// The one-line human summary printed on stderr at exit.
    pub fn summary_line(&self, elapsed: std::time::Duration) -> String {
        let c = &self.capture;
        let secs = elapsed.as_secs_f64().max(1e-9);
        let mut line = format!(
            "{} packets, {} bytes in {:.2} s ({:.0} pkt/s, {:.3} Gbit/s); {} flows; {} decode anomalies; {} events written",
            c.packets,
            c.bytes,
            secs,
            c.packets as f64 / secs,
            c.bytes as f64 * 8.0 / secs / 1e9,
            self.worker.flows.created,
            c.decode.total_stops(),
            self.sink.events_written,
        );
        let dropped = c.queue_drops_packets
            + c.kernel.map(|k| k.dropped + k.if_dropped).unwrap_or(0)
            + self.sink.events_dropped;
        if dropped > 0 {
            line.push_str(&format!(
                "; DROPPED: {} packets at the queue, {} in the kernel, {} events",
                c.queue_drops_packets,
                c.kernel.map(|k| k.dropped + k.if_dropped).unwrap_or(0),
                self.sink.events_dropped
            ));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_percentiles_and_merge() {
        let mut a = Latency::new();
        for v in 1..=100 {
            a.record(v * 1000);
        }
        let mut b = Latency::new();
        b.record(1_000_000);
        a.merge(&b);
        let j = a.to_json();
        assert_eq!(j["count"], 101);
        assert!(j["p50"].as_u64().unwrap() >= 50_000);
        assert!(j["max"].as_u64().unwrap() >= 1_000_000);
        assert_eq!(Latency::new().to_json(), json!({"count": 0}));
    }

    #[test]
    fn stop_counters_are_nested_by_layer_and_reason() {
        let mut s = Snapshot::default();
        s.capture
            .decode
            .record_stop(Layer::Tcp, StopReason::Truncated);
        s.capture
            .decode
            .record_stop(Layer::Tcp, StopReason::Truncated);
        let j = s.to_json();
        assert_eq!(j["decode"]["stop"]["tcp"]["truncated"], 2);
        assert_eq!(j["decode"]["anomalies"], 2);
        assert!(j["decode"]["stop"].get("ipv4").is_none());
    }

    #[test]
    fn summary_mentions_drops_only_when_there_are_some() {
        let mut s = Snapshot::default();
        assert!(!s
            .summary_line(std::time::Duration::from_secs(1))
            .contains("DROPPED"));
        s.capture.queue_drops_packets = 3;
        assert!(s
            .summary_line(std::time::Duration::from_secs(1))
            .contains("DROPPED: 3"));
    }
}
