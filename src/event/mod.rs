//! Output contract: the serde types of `shared/docs/EVENTS.md` (native format, version 1).
//!
//! Events are serialised by the stage that makes them (workers, the stats aggregator) into
//! JSON lines; sinks only move bytes. Guarantees: field names follow the contract and are
//! never renamed; absent values are left out (never `null`); timestamps come from packet
//! time; `event_id` is derived from what the event is about (sensor, kind, flow, sequence),
//! so it is unique per event and the same on every retry or replay.

use std::hash::{BuildHasher, Hash, Hasher};
use std::net::IpAddr;
use std::time::{Duration, UNIX_EPOCH};

use serde::ser::{Serialize, Serializer};

use crate::decode::Tunnel;

/// Microseconds since the Unix epoch, serialised as RFC 3339 UTC with microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = UNIX_EPOCH + Duration::from_micros(self.0);
        write!(f, "{}", humantime::format_rfc3339_micros(t))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A 128-bit event id, serialised as 32 hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventId(pub u64, pub u64);

impl EventId {
    /// The id of the event `kind` about `subject` from `sensor`: the same inputs always
    /// give the same id, so a retried or replayed event keeps it.
    pub fn derive<T: Hash + ?Sized>(sensor: &str, kind: &str, subject: &T) -> Self {
        let part = |seed: u64| {
            let mut h = foldhash::fast::FixedState::with_seed(seed).build_hasher();
            sensor.hash(&mut h);
            kind.hash(&mut h);
            subject.hash(&mut h);
            h.finish()
        };
        Self(part(0x9e37_79b9_7f4a_7c15), part(0xc2b2_ae3d_27d4_eb4f))
    }
}

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}{:016x}", self.0, self.1)
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The `tunnel` object: `{"type":"vxlan","vni":…}` and the like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelJson(pub Tunnel);

impl Serialize for TunnelJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        match self.0 {
            Tunnel::Vxlan { vni } => {
                m.serialize_entry("type", "vxlan")?;
                m.serialize_entry("vni", &vni)?;
            }
            Tunnel::Geneve { vni } => {
                m.serialize_entry("type", "geneve")?;
                m.serialize_entry("vni", &vni)?;
            }
            Tunnel::Gre { key } => {
                m.serialize_entry("type", "gre")?;
                if let Some(k) = key {
                    m.serialize_entry("key", &k)?;
                }
            }
            Tunnel::Erspan { version, session } => {
                m.serialize_entry("type", "erspan")?;
                m.serialize_entry("version", &version)?;
                m.serialize_entry("session", &session)?;
            }
        }
        m.end()
    }
}

fn is_empty(v: &[u16]) -> bool {
    v.is_empty()
}

/// A `flow` event: one per connection (or UDP conversation) when it ends, like Suricata's
/// EVE `flow` and Zeek's `conn.log`. An addition to the contract's event types.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FlowEvent<'a> {
    pub timestamp: Timestamp,
    pub event_type: &'static str,
    pub event_id: EventId,
    pub sensor: &'a str,
    pub flow_id: u64,
    pub src_ip: IpAddr,
    pub src_port: u16,
    pub dest_ip: IpAddr,
    pub dest_port: u16,
    pub proto: &'static str,
    #[serde(skip_serializing_if = "is_empty")]
    pub vlan: &'a [u16],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<TunnelJson>,
    pub flow: FlowBody,
}

/// The `flow` object of a [`FlowEvent`].
#[derive(Clone, Debug, serde::Serialize)]
pub struct FlowBody {
    pub start: Timestamp,
    pub end: Timestamp,
    pub pkts_toserver: u64,
    pub pkts_toclient: u64,
    pub bytes_toserver: u64,
    pub bytes_toclient: u64,
    /// `new` (one side seen), `established` (both sides), `closed` (FIN both ways or RST).
    pub state: &'static str,
    /// Why the flow record ended: `timeout`, `closed`, `lifetime`, `evicted_max_flows`,
    /// `evicted_memcap`, `shutdown`.
    pub reason: &'static str,
    /// TCP picked up without its handshake.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub midstream: bool,
}

/// An `http` event: one per HTTP transaction (contract fields, plus `http.upgrade`,
/// `http.user_agent` and `http.informational`).
#[derive(Clone, Debug, serde::Serialize)]
pub struct HttpEvent<'a> {
    pub timestamp: Timestamp,
    pub event_type: &'static str,
    pub event_id: EventId,
    pub sensor: &'a str,
    pub flow_id: u64,
    pub tx_id: u64,
    pub src_ip: IpAddr,
    pub src_port: u16,
    pub dest_ip: IpAddr,
    pub dest_port: u16,
    #[serde(skip_serializing_if = "is_empty")]
    pub vlan: &'a [u16],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<TunnelJson>,
    pub http: HttpBody<'a>,
    /// `auth.scheme` and `auth.jwt` (absent without a request).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<crate::analyze::auth::AuthFields<'a>>,
    /// One item per detected sensitive value, redacted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<crate::analyze::sensitive::SensitiveItem>,
}

/// The `http` object of an [`HttpEvent`].
#[derive(Clone, Debug, serde::Serialize)]
pub struct HttpBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<std::borrow::Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<std::borrow::Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_us: Option<u64>,
    #[serde(skip_serializing_if = "<[u16]>::is_empty")]
    pub informational: &'a [u16],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<&'a str>,
    pub complete: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<&'static str>,
}

/// Writes one event as a JSON line onto `out`.
pub fn write_line<T: Serialize>(out: &mut Vec<u8>, ev: &T) -> Result<(), serde_json::Error> {
    serde_json::to_writer(&mut *out, ev)?;
    out.push(b'\n');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_is_rfc3339_micros_utc() {
        assert_eq!(
            Timestamp(1_767_225_600_000_001).to_string(),
            "2026-01-01T00:00:00.000001Z"
        );
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn event_id_is_stable_and_distinct() {
        let a = EventId::derive("s1", "flow", &42u64);
        assert_eq!(a, EventId::derive("s1", "flow", &42u64));
        assert_ne!(a, EventId::derive("s1", "flow", &43u64));
        assert_ne!(a, EventId::derive("s2", "flow", &42u64));
        assert_eq!(a.to_string().len(), 32);
    }

    #[test]
    fn tunnel_json_shapes() {
        let j = |t| serde_json::to_string(&TunnelJson(t)).unwrap();
        assert_eq!(j(Tunnel::Vxlan { vni: 7 }), r#"{"type":"vxlan","vni":7}"#);
        assert_eq!(j(Tunnel::Gre { key: None }), r#"{"type":"gre"}"#);
        assert_eq!(
            j(Tunnel::Erspan {
                version: 2,
                session: 3
            }),
            r#"{"type":"erspan","version":2,"session":3}"#
        );
    }
}
