//! Stage 6 (analyze, across workers): the API inventory, owned by one thread.
//!
//! Workers sum their calls per endpoint key ([`super::aggregate::Aggregate`]) and hand the
//! sums over at report points; [`Inventory::record_partial`] files each under its endpoint
//! in the learned [`PathTrie`] (or under the spec's template when a spec documents the
//! path). [`Inventory::learn`] runs at each report point: it learns new parameter positions
//! (folding the calls recorded under literal values into the template). The discovery
//! owner ([`super::discovery`]) then raises the `api_endpoint` and `finding` events not
//! raised before, from [`Inventory::endpoints`].
//!
//! Guarantees: every per-endpoint set is capped (counted when full); aggregation is
//! commutative (sums, unions, minima, histogram addition), so for one replay the inventory
//! does not depend on how transactions were spread over workers; events are raised once per
//! endpoint (and per finding kind), in template order, with ids derived from what they are
//! about.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::posture::{self, Observation, TxFinding};
use super::spec::Schema;
use super::template::{Fold, NodeId, PathTrie, TemplateConfig};

/// Client addresses kept per endpoint. Past it an endpoint keeps the addresses of smallest
/// [`client_rank`], and its count of distinct clients is estimated from them (see
/// [`ClientSet::trim`]).
pub const MAX_CLIENTS: usize = 256;
/// Query parameter names, content types, schemes and data types kept per endpoint.
pub const MAX_NAMES: usize = 64;

/// What a worker reports about one transaction that had a request. Text borrows from the
/// transaction where it can, so filing a call allocates nothing for a known endpoint.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TxRecord<'a> {
    /// Packet time (µs) of the first request byte.
    pub ts: u64,
    pub flow_id: u64,
    pub tx_id: u64,
    /// Lower-cased host, without a default port; empty when the request named none.
    pub host: Cow<'a, str>,
    pub method: Cow<'a, str>,
    /// Raw path without the query.
    pub path: Cow<'a, str>,
    pub status: Option<u16>,
    pub latency_us: Option<u64>,
    pub request_content_type: Option<Cow<'a, str>>,
    pub response_content_type: Option<Cow<'a, str>>,
    pub query_params: Vec<Cow<'a, str>>,
    /// The calling address (after trusted-proxy resolution).
    pub client: Option<IpAddr>,
    /// The client address is inside the internal ranges.
    pub client_internal: bool,
    pub auth_scheme: Option<Cow<'a, str>>,
    pub sensitive_types: Vec<Cow<'a, str>>,
    /// Shape of the JSON request body (sampled by the worker).
    pub request_schema: Option<Schema>,
    /// Shape of the JSON response body (sampled by the worker).
    pub response_schema: Option<Schema>,
    /// What the transaction showed for the endpoint's posture findings.
    pub findings: Vec<TxFinding<'a>>,
    /// The credential's fingerprint (first 8 bytes), for `credential_reuse`.
    pub credential: Option<u64>,
}

/// Response statuses with a body schema kept per endpoint.
pub const MAX_SCHEMA_STATUSES: usize = 16;

/// Latencies of one endpoint in µs: the first few values as they are, then a histogram
/// (`hdrhistogram`, 2 significant digits, up to 10 minutes), so that rarely called endpoints
/// (most of them) cost a few bytes, not a histogram.
#[derive(Clone, Debug, Default)]
pub struct Latencies {
    small: Vec<u32>,
    hist: Option<Box<Histogram<u32>>>,
}

const LATENCY_MAX_US: u64 = 600_000_000;
/// Values kept as they are before a histogram is made (a histogram is 10 KiB of zeroed
/// counts: making one per endpoint per worker flush showed up as page clearing in profiles).
const LATENCY_INLINE: usize = 256;

fn new_histogram() -> Box<Histogram<u32>> {
    match Histogram::new_with_bounds(1, LATENCY_MAX_US, 2) {
        Ok(h) => Box::new(h),
        Err(_) => unreachable!("constant histogram bounds are valid"),
    }
}

impl Latencies {
    /// Reads where the next [`Latencies::record`] writes (see
    /// [`Aggregate::warm`](super::aggregate::Aggregate::warm)).
    pub(super) fn warm(&self) -> u64 {
        match &self.hist {
            Some(h) => h.len(),
            None => self.small.last().copied().map_or(0, u64::from),
        }
    }

    pub fn record(&mut self, us: u64) {
        self.record_n(us, 1);
    }

    fn record_n(&mut self, us: u64, n: u64) {
        let v = us.clamp(1, LATENCY_MAX_US);
        if self.hist.is_none() && self.small.len() as u64 + n <= LATENCY_INLINE as u64 {
            for _ in 0..n {
                self.small.push(v as u32);
            }
            return;
        }
        let h = self.histogram();
        let _ = h.record_n(v, u32::try_from(n).unwrap_or(u32::MAX));
    }

    fn histogram(&mut self) -> &mut Histogram<u32> {
        if self.hist.is_none() {
            let mut h = new_histogram();
            for v in self.small.drain(..) {
                h.saturating_record(u64::from(v));
            }
            self.hist = Some(h);
        }
        match self.hist.as_mut() {
            Some(h) => h,
            None => unreachable!("just made"),
        }
    }

    pub fn count(&self) -> u64 {
        match &self.hist {
            Some(h) => h.len(),
            None => self.small.len() as u64,
        }
    }

    /// The value at quantile `q` (0..=1), None when empty (hdrhistogram's definition, also
    /// for the inline values).
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.count() == 0 {
            return None;
        }
        match &self.hist {
            Some(h) => Some(h.value_at_quantile(q)),
            None => {
                let mut h = new_histogram();
                for &v in &self.small {
                    h.saturating_record(u64::from(v));
                }
                Some(h.value_at_quantile(q))
            }
        }
    }

    fn add(&mut self, o: &Latencies) {
        match &o.hist {
            Some(oh) => {
                // Same bounds on both sides; a saturated count is the only failure.
                let _ = self.histogram().add(&**oh);
            }
            None => {
                for &v in &o.small {
                    self.record(u64::from(v));
                }
            }
        }
    }
}

impl Serialize for Latencies {
    /// (value, count) pairs, written as they are read (no list of them is made first).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.hist {
            Some(h) => s.collect_seq(
                h.iter_recorded()
                    .map(|b| (b.value_iterated_to(), u64::from(b.count_at_value()))),
            ),
            None => s.collect_seq(self.small.iter().map(|&v| (u64::from(v), 1u64))),
        }
    }
}

impl<'de> Deserialize<'de> for Latencies {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v: Vec<(u64, u64)> = Vec::deserialize(d)?;
        let mut l = Latencies::default();
        for (value, count) in v {
            l.record_n(value, count.min(u64::from(u32::MAX)));
        }
        Ok(l)
    }
}

fn insert_capped(set: &mut BTreeSet<String>, v: &str) -> bool {
    if set.contains(v) {
        return true;
    }
    if set.len() >= MAX_NAMES {
        return false;
    }
    set.insert(v.to_string());
    true
}

/// Distinct client addresses of an endpoint, as sorted integers per family: 4 bytes per
/// IPv4 address where a hash set of `IpAddr` took about 35 (three copies per endpoint, in
/// the worker's sums, the held calls and the inventory, made discovery's resident memory
/// a fifth of the sensor's), a membership test is a binary search of at most 8 steps, and
/// the state file gets them in order without sorting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientSet {
    v4: Vec<u32>,
    v6: Vec<u128>,
}

/// Inserts `k` into the sorted `v`; false when it was there.
fn insert_sorted<K: Ord + Copy>(v: &mut Vec<K>, k: K) -> bool {
    match v.binary_search(&k) {
        Ok(_) => false,
        Err(i) => {
            v.insert(i, k);
            true
        }
    }
}

/// The union of two sorted, duplicate-free lists.
fn union_sorted<K: Ord + Copy>(a: &[K], b: &[K]) -> Vec<K> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        match x.cmp(&y) {
            std::cmp::Ordering::Less => {
                out.push(x);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(y);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(x);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(a.get(i..).unwrap_or_default());
    out.extend_from_slice(b.get(j..).unwrap_or_default());
    out
}

impl ClientSet {
    pub fn contains(&self, ip: &IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => self.v4.binary_search(&u32::from(*a)).is_ok(),
            IpAddr::V6(a) => self.v6.binary_search(&u128::from(*a)).is_ok(),
        }
    }

    /// Adds `ip`; false when it was there.
    pub fn insert(&mut self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => insert_sorted(&mut self.v4, u32::from(a)),
            IpAddr::V6(a) => insert_sorted(&mut self.v6, u128::from(a)),
        }
    }

    /// Adds every address of `other` (no cap: the caller checks the sizes first).
    pub fn extend(&mut self, other: &ClientSet) {
        if !other.v4.is_empty() {
            self.v4 = union_sorted(&self.v4, &other.v4);
        }
        if !other.v6.is_empty() {
            self.v6 = union_sorted(&self.v6, &other.v6);
        }
    }

    /// The set of `v4` and `v6`, addresses given in any order, each once.
    pub(super) fn from_distinct(mut v4: Vec<u32>, mut v6: Vec<u128>) -> ClientSet {
        v4.sort_unstable();
        v6.sort_unstable();
        debug_assert!(v4.windows(2).all(|w| w[0] < w[1]) && v6.windows(2).all(|w| w[0] < w[1]));
        ClientSet { v4, v6 }
    }

    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// The addresses, sorted (in `IpAddr` order: IPv4 first, each family by its bits).
    pub fn sorted(&self) -> Vec<IpAddr> {
        let v4 = self
            .v4
            .iter()
            .map(|&a| IpAddr::from(std::net::Ipv4Addr::from(a)));
        let v6 = self
            .v6
            .iter()
            .map(|&a| IpAddr::from(std::net::Ipv6Addr::from(a)));
        v4.chain(v6).collect()
    }
}

/// Where an address stands among an endpoint's clients: a full [`ClientSet`] keeps the
/// addresses of smallest rank (a fixed hash: the same in every worker, run and restart).
pub(super) fn client_rank4(a: u32) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0xc11e).hash_one((4u8, a))
}

/// [`client_rank4`] of an IPv6 address.
pub(super) fn client_rank6(a: u128) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0xc11e).hash_one((6u8, a))
}

/// [`client_rank4`] or [`client_rank6`].
pub(super) fn client_rank(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(a) => client_rank4(u32::from(a)),
        IpAddr::V6(a) => client_rank6(u128::from(a)),
    }
}

impl ClientSet {
    /// Keeps the [`MAX_CLIENTS`] addresses of smallest (rank, family, address); returns
    /// whether it dropped any.
    ///
    /// Which addresses stay does not depend on the order addresses came in, nor on how
    /// they were spread over workers and flushes: the smallest of a union are the
    /// smallest of the parts' smallest. Ranks are uniform, so the kept ranks also estimate
    /// how many distinct addresses there were (k minimum values: see
    /// [`ClientSet::estimate`]).
    pub(super) fn trim(&mut self) -> bool {
        if self.len() <= MAX_CLIENTS {
            return false;
        }
        let mut keys: Vec<(u64, u8, u128)> = self
            .v4
            .iter()
            .map(|&a| (client_rank4(a), 4, u128::from(a)))
            .chain(self.v6.iter().map(|&a| (client_rank6(a), 6, a)))
            .collect();
        keys.select_nth_unstable(MAX_CLIENTS - 1);
        keys.truncate(MAX_CLIENTS);
        let (mut v4, mut v6): (Vec<u32>, Vec<u128>) = (Vec::new(), Vec::new());
        for (_, family, a) in keys {
            if family == 4 {
                v4.push(a as u32);
            } else {
                v6.push(a);
            }
        }
        *self = ClientSet::from_distinct(v4, v6);
        true
    }

    /// The IPv4 and IPv6 addresses, each list sorted.
    pub(super) fn into_parts(self) -> (Vec<u32>, Vec<u128>) {
        (self.v4, self.v6)
    }

    /// The largest rank kept (0 when empty).
    pub(super) fn max_rank(&self) -> u64 {
        let v4 = self.v4.iter().map(|&a| client_rank4(a));
        let v6 = self.v6.iter().map(|&a| client_rank6(a));
        v4.chain(v6).max().unwrap_or(0)
    }

    /// Distinct addresses, estimated from the kept ranks when some were dropped: with the
    /// k smallest of n uniform ranks kept, n is about (k - 1) / (largest kept rank as a
    /// fraction of the range), within about 1/sqrt(k) (6% for 256). At least one more than
    /// the kept addresses.
    pub fn estimate(&self) -> u64 {
        let k = self.len() as u64;
        if k < 2 {
            return k + 1;
        }
        let fraction = (self.max_rank() as f64 + 1.0) / 18_446_744_073_709_551_616.0;
        let n = ((k - 1) as f64 / fraction).round();
        // A float to integer cast saturates.
        (n as u64).max(k + 1)
    }

    /// `clients_over_cap` for this set: the estimated distinct addresses it does not hold
    /// when `dropped`, else 0.
    pub(super) fn over_cap(&self, dropped: bool) -> u64 {
        if dropped {
            self.estimate() - self.len() as u64
        } else {
            0
        }
    }
}

impl Serialize for ClientSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.len()))?;
        let mut buf = [0u8; 15];
        // Written by hand: the formatter took most of a state save's time on the address
        // lists (a quarter of a million addresses for 1,000 endpoints).
        for &a in &self.v4 {
            seq.serialize_element(ipv4_text(std::net::Ipv4Addr::from(a), &mut buf))?;
        }
        for &a in &self.v6 {
            seq.serialize_element(&std::net::Ipv6Addr::from(a))?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for ClientSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Sorted once (a state file is input: inserting one by one would be quadratic in a
        // list that nothing bounds there).
        let mut set = ClientSet::default();
        for ip in Vec::<IpAddr>::deserialize(d)? {
            match ip {
                IpAddr::V4(a) => set.v4.push(u32::from(a)),
                IpAddr::V6(a) => set.v6.push(u128::from(a)),
            }
        }
        set.v4.sort_unstable();
        set.v4.dedup();
        set.v6.sort_unstable();
        set.v6.dedup();
        Ok(set)
    }
}

/// `a` in dotted-quad form, as `Display` writes it, in `buf` (15 bytes: four octets of at
/// most three digits and three dots, so no index below is out of bounds).
fn ipv4_text(a: std::net::Ipv4Addr, buf: &mut [u8; 15]) -> &str {
    let mut n = 0;
    for (i, o) in a.octets().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if o >= 100 {
            buf[n] = b'0' + o / 100;
            n += 1;
        }
        if o >= 10 {
            buf[n] = b'0' + o / 10 % 10;
            n += 1;
        }
        buf[n] = b'0' + o % 10;
        n += 1;
    }
    // ASCII digits and dots only.
    std::str::from_utf8(&buf[..n]).unwrap_or_default()
}

/// Everything known about one endpoint (host, method, template).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EndpointStats {
    pub first_seen: u64,
    pub last_seen: u64,
    pub calls: u64,
    /// The first transaction: (packet time, flow id, tx id); the smallest wins.
    pub first_tx: (u64, u64, u64),
    pub status_counts: BTreeMap<u16, u64>,
    pub auth_schemes: BTreeSet<String>,
    pub sensitive_types: BTreeSet<String>,
    pub request_content_types: BTreeSet<String>,
    pub response_content_types: BTreeSet<String>,
    pub query_params: BTreeSet<String>,
    pub latency_us: Latencies,
    pub clients: ClientSet,
    /// Distinct clients beyond those in `clients`, estimated (see [`ClientSet::trim`]);
    /// more than 0 exactly when addresses were dropped.
    pub clients_over_cap: u64,
    pub public_clients: bool,
    pub internal_clients: bool,
    /// Names not kept because a set was full.
    pub names_over_cap: u64,
    /// Merged shape of the JSON request bodies seen.
    pub request_schema: Option<Schema>,
    /// Merged shape of the JSON response bodies, per status.
    pub response_schemas: BTreeMap<u16, Schema>,
    /// Posture findings by key (see [`super::posture`]).
    pub findings: BTreeMap<String, Observation>,
    /// A sample of the credentials used (fingerprint prefix → first transaction; the
    /// smallest [`posture::MAX_CREDENTIALS`]).
    pub credentials: BTreeMap<u64, (u64, u64, u64)>,
    /// Finding keys dropped because [`posture::MAX_OBSERVATIONS`] was reached.
    pub posture_over_cap: u64,
}

fn merge_schema(into: &mut Option<Schema>, s: &Schema) {
    match into {
        Some(m) => m.merge(s),
        None => *into = Some(s.clone()),
    }
}

fn merge_response_schema(map: &mut BTreeMap<u16, Schema>, status: u16, s: &Schema) -> bool {
    if let Some(m) = map.get_mut(&status) {
        m.merge(s);
        return true;
    }
    if map.len() >= MAX_SCHEMA_STATUSES {
        return false;
    }
    map.insert(status, s.clone());
    true
}

/// Adds one call to the times (first seen, last seen, first transaction), count and
/// latency of an endpoint's calls, wherever they are kept (in [`EndpointStats`], or beside
/// a worker's aggregate key).
pub(super) fn add_call(
    calls: &mut u64,
    (first_seen, last_seen, first_tx): (&mut u64, &mut u64, &mut (u64, u64, u64)),
    latency_us: &mut Latencies,
    r: &TxRecord,
) {
    let tx = (r.ts, r.flow_id, r.tx_id);
    if *calls == 0 || tx < *first_tx {
        *first_tx = tx;
    }
    if *calls == 0 || r.ts < *first_seen {
        *first_seen = r.ts;
    }
    *last_seen = (*last_seen).max(r.ts);
    *calls += 1;
    if let Some(l) = r.latency_us {
        latency_us.record(l);
    }
}

impl EndpointStats {
    pub fn add(&mut self, r: &TxRecord) {
        add_call(
            &mut self.calls,
            (
                &mut self.first_seen,
                &mut self.last_seen,
                &mut self.first_tx,
            ),
            &mut self.latency_us,
            r,
        );
        if let Some(s) = r.status {
            *self.status_counts.entry(s).or_default() += 1;
        }
        let mut over = 0;
        for (set, v) in [
            (&mut self.auth_schemes, r.auth_scheme.as_deref()),
            (
                &mut self.request_content_types,
                r.request_content_type.as_deref(),
            ),
            (
                &mut self.response_content_types,
                r.response_content_type.as_deref(),
            ),
        ] {
            if let Some(v) = v {
                over += u64::from(!insert_capped(set, v));
            }
        }
        for q in &r.query_params {
            over += u64::from(!insert_capped(&mut self.query_params, q));
        }
        for t in &r.sensitive_types {
            over += u64::from(!insert_capped(&mut self.sensitive_types, t));
        }
        self.names_over_cap += over;
        if let Some(ip) = r.client {
            if r.client_internal {
                self.internal_clients = true;
            } else {
                self.public_clients = true;
            }
            // A known address changes nothing; once addresses were dropped, neither does
            // one ranked past every kept one.
            let full = self.clients_over_cap > 0;
            let past_cut = || full && client_rank(ip) > self.clients.max_rank();
            if !self.clients.contains(&ip) && !past_cut() {
                self.clients.insert(ip);
                let dropped = self.clients.trim() || full;
                self.clients_over_cap = self.clients.over_cap(dropped);
            }
        }
        self.add_rare(r);
    }

    /// The part of [`EndpointStats::add`] that few calls carry: body shapes (sampled),
    /// posture observations and credentials.
    pub(super) fn add_rare(&mut self, r: &TxRecord) {
        let tx = (r.ts, r.flow_id, r.tx_id);
        if let Some(sc) = &r.request_schema {
            merge_schema(&mut self.request_schema, sc);
        }
        if let (Some(sc), Some(st)) = (&r.response_schema, r.status) {
            self.names_over_cap +=
                u64::from(!merge_response_schema(&mut self.response_schemas, st, sc));
        }
        for f in &r.findings {
            if !posture::observe(&mut self.findings, f, tx) {
                self.posture_over_cap += 1;
            }
        }
        if let Some(fp) = r.credential {
            posture::sample_credential(&mut self.credentials, fp, tx);
        }
    }

    /// `internet` when a public address called, `internal` when only internal ones did,
    /// `unknown` when no client address is known.
    pub fn exposure(&self) -> &'static str {
        if self.public_clients {
            "internet"
        } else if self.internal_clients {
            "internal"
        } else {
            "unknown"
        }
    }
}

impl Fold for EndpointStats {
    fn fold(&mut self, o: Self) {
        if o.calls == 0 {
            return;
        }
        if self.calls == 0 {
            *self = o;
            return;
        }
        self.first_tx = self.first_tx.min(o.first_tx);
        self.first_seen = self.first_seen.min(o.first_seen);
        self.last_seen = self.last_seen.max(o.last_seen);
        self.calls += o.calls;
        for (s, n) in o.status_counts {
            *self.status_counts.entry(s).or_default() += n;
        }
        self.latency_us.add(&o.latency_us);
        let mut over = o.names_over_cap;
        for (mine, theirs) in [
            (&mut self.auth_schemes, o.auth_schemes),
            (&mut self.sensitive_types, o.sensitive_types),
            (&mut self.request_content_types, o.request_content_types),
            (&mut self.response_content_types, o.response_content_types),
            (&mut self.query_params, o.query_params),
        ] {
            for v in theirs {
                over += u64::from(!insert_capped(mine, &v));
            }
        }
        if let Some(sc) = o.request_schema {
            match &mut self.request_schema {
                Some(m) => m.merge_owned(sc),
                None => self.request_schema = Some(sc),
            }
        }
        for (st, sc) in o.response_schemas {
            if let Some(m) = self.response_schemas.get_mut(&st) {
                m.merge_owned(sc);
            } else if self.response_schemas.len() < MAX_SCHEMA_STATUSES {
                self.response_schemas.insert(st, sc);
            } else {
                over += 1;
            }
        }
        self.names_over_cap += over;
        self.posture_over_cap +=
            o.posture_over_cap + posture::fold_observations(&mut self.findings, o.findings);
        for (fp, tx) in o.credentials {
            posture::sample_credential(&mut self.credentials, fp, tx);
        }
        // The smallest ranks of the union, whatever the order of folds (see
        // `ClientSet::trim`).
        let full = self.clients_over_cap > 0 || o.clients_over_cap > 0;
        self.clients.extend(&o.clients);
        let dropped = self.clients.trim() || full;
        self.clients_over_cap = self.clients.over_cap(dropped);
        self.public_clients |= o.public_clients;
        self.internal_clients |= o.internal_clients;
    }
}

/// Calls of one endpoint key summed on a worker (see [`super::aggregate::Aggregate`]).
#[derive(Clone, Debug, Default)]
pub struct Partial {
    pub host: String,
    pub method: String,
    /// The stateless template (a blank [`PathTrie`]'s lookup), or the spec template when
    /// `from_spec`.
    pub path: String,
    pub from_spec: bool,
    pub stats: EndpointStats,
}

/// Identifies an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EndpointKey {
    pub host: String,
    pub method: String,
    pub template: String,
}

/// The persisted part of the inventory (the state file's content).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct InventoryState {
    pub version: u32,
    /// Learned paths, with per-(host, method) stats at each endpoint node.
    pub trie: PathTrie<HostStats>,
    /// Endpoints whose template came from a spec.
    pub documented: BTreeMap<String, EndpointStats>,
    /// Endpoints already announced with an `api_endpoint` event.
    pub announced: BTreeSet<EndpointKey>,
    /// Findings already raised: (kind, endpoint).
    pub raised: BTreeSet<(String, EndpointKey)>,
}

/// Per (host, method) stats at one trie node; keys are `METHOD host`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct HostStats(pub BTreeMap<String, EndpointStats>);

impl Fold for HostStats {
    fn fold(&mut self, o: Self) {
        for (k, v) in o.0 {
            self.0.entry(k).or_default().fold(v);
        }
    }
}

fn split_key(k: &str) -> (&str, &str) {
    k.split_once(' ').unwrap_or((k, ""))
}

/// The inventory owner (see the module docs).
#[derive(Debug, Default)]
pub struct Inventory {
    pub state: InventoryState,
    pub cfg: TemplateConfig,
    /// Set by every change since the last save.
    pub dirty: bool,
}

/// One endpoint of the inventory, as reported.
#[derive(Clone, Debug)]
pub struct EndpointView<'a> {
    pub key: EndpointKey,
    pub stats: &'a EndpointStats,
    /// The template came from a spec.
    pub from_spec: bool,
}

impl EndpointView<'_> {
    /// The weakest authentication the endpoint accepted (see [`posture::weakest_auth`]).
    pub fn weakest_auth(&self) -> Option<&'static str> {
        posture::weakest_auth(
            &self.stats.auth_schemes,
            self.stats.findings.contains_key("unauthenticated_access"),
        )
    }

    /// The fields every report of an endpoint shares (`api_endpoint` events and the JSON
    /// export): host, method, endpoint, first/last seen, calls, status counts, auth
    /// schemes, sensitive types, exposure and distinct clients.
    pub fn summary(&self) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::json;
        let s = self.stats;
        let status: serde_json::Map<String, serde_json::Value> = s
            .status_counts
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let v = json!({
            "host": self.key.host,
            "method": self.key.method,
            "endpoint": self.key.template,
            "first_seen": crate::event::Timestamp(s.first_seen),
            "last_seen": crate::event::Timestamp(s.last_seen),
            "calls": s.calls,
            "status_counts": status,
            "auth_schemes": s.auth_schemes,
            "weakest_auth": self.weakest_auth(),
            "sensitive_types": s.sensitive_types,
            "exposure": s.exposure(),
            "clients": s.clients.len() as u64 + s.clients_over_cap,
        });
        match v {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        }
    }
}

impl Inventory {
    pub fn new(cfg: TemplateConfig) -> Self {
        Inventory {
            state: InventoryState {
                version: 1,
                ..InventoryState::default()
            },
            cfg,
            dirty: false,
        }
    }

    /// Files one transaction. `spec_template`: the template a spec gives this path.
    pub fn record(&mut self, r: &TxRecord, spec_template: Option<&str>) {
        self.dirty = true;
        if let Some(t) = spec_template {
            let k = format!("{} {} {t}", r.method, r.host);
            self.state.documented.entry(k).or_default().add(r);
            return;
        }
        let node: NodeId = self.state.trie.insert(&r.path, &self.cfg);
        self.state
            .trie
            .data_mut(node, &r.host)
            .0
            .entry(r.method.to_string())
            .or_default()
            .add(r);
    }

    /// Files calls summed on a worker.
    pub fn record_partial(&mut self, p: Partial) {
        self.dirty = true;
        if p.from_spec {
            let k = format!("{} {} {}", p.method, p.host, p.path);
            self.state.documented.entry(k).or_default().fold(p.stats);
            return;
        }
        let node: NodeId = self.state.trie.insert(&p.path, &self.cfg);
        self.state
            .trie
            .data_mut(node, &p.host)
            .0
            .entry(p.method)
            .or_default()
            .fold(p.stats);
    }

    /// Learns parameter positions from everything recorded so far; returns how many changed.
    pub fn learn(&mut self) -> usize {
        let n = self.state.trie.evaluate(&self.cfg);
        if n > 0 {
            self.dirty = true;
        }
        n
    }

    /// Every endpoint, sorted by (host, method, template).
    pub fn endpoints(&self) -> Vec<EndpointView<'_>> {
        let mut out = Vec::new();
        for (_, host, template, hs) in self.state.trie.endpoints() {
            for (method, stats) in &hs.0 {
                out.push(EndpointView {
                    key: EndpointKey {
                        host: host.to_string(),
                        method: method.clone(),
                        template: template.clone(),
                    },
                    stats,
                    from_spec: false,
                });
            }
        }
        for (k, stats) in &self.state.documented {
            let (method, rest) = split_key(k);
            let (host, template) = split_key(rest);
            out.push(EndpointView {
                key: EndpointKey {
                    host: host.to_string(),
                    method: method.to_string(),
                    template: template.to_string(),
                },
                stats,
                from_spec: true,
            });
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(super) mod tests {
    use super::*;

    pub(crate) fn rec(host: &str, method: &str, path: &str, ts: u64) -> TxRecord<'static> {
        TxRecord {
            ts,
            flow_id: ts,
            tx_id: 0,
            host: host.to_string().into(),
            method: method.to_string().into(),
            path: path.to_string().into(),
            status: Some(200),
            latency_us: Some(1500),
            client: Some("203.0.113.9".parse().unwrap()),
            ..TxRecord::default()
        }
    }

    fn called_by(addrs: &[IpAddr]) -> EndpointStats {
        let mut s = EndpointStats::default();
        for (i, &ip) in addrs.iter().enumerate() {
            let mut r = rec("h", "GET", "/x", i as u64);
            r.client = Some(ip);
            s.add(&r);
        }
        s
    }

    fn arb_client() -> impl Strategy<Value = IpAddr> {
        // Few enough distinct values that addresses repeat.
        prop_oneof![
            3 => (0u32..2_000).prop_map(|i| IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i))),
            1 => (0u128..200).prop_map(|i| IpAddr::from(std::net::Ipv6Addr::from(i << 64 | 7))),
        ]
    }

    use proptest::prelude::*;

    proptest! {
        /// Whatever the split of the calls into parts (workers, flushes) and the order the
        /// parts are folded in, an endpoint keeps the same client addresses and the same
        /// count as when its calls are added one by one.
        #[test]
        fn clients_do_not_depend_on_how_calls_were_split(
            addrs in proptest::collection::vec(arb_client(), 0..1_200),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
            order in any::<prop::sample::Index>(),
        ) {
            let whole = called_by(&addrs);
            let mut at: Vec<usize> = cuts.iter().map(|c| c.index(addrs.len() + 1)).collect();
            at.push(0);
            at.push(addrs.len());
            at.sort_unstable();
            let mut parts: Vec<EndpointStats> =
                at.windows(2).map(|w| called_by(&addrs[w[0]..w[1]])).collect();
            let first = order.index(parts.len());
            parts.rotate_left(first);
            let mut folded = EndpointStats::default();
            for p in parts {
                folded.fold(p);
            }
            prop_assert_eq!(&folded.clients, &whole.clients);
            prop_assert_eq!(folded.clients_over_cap, whole.clients_over_cap);
            let distinct: BTreeSet<IpAddr> = addrs.iter().copied().collect();
            if distinct.len() <= MAX_CLIENTS {
                prop_assert_eq!(whole.clients.sorted(), distinct.into_iter().collect::<Vec<_>>());
                prop_assert_eq!(whole.clients_over_cap, 0);
            } else {
                prop_assert_eq!(whole.clients.len(), MAX_CLIENTS);
                prop_assert!(whole.clients_over_cap > 0);
            }
        }
    }

    /// Past the cap the count of distinct clients is an estimate from the kept ranks:
    /// within a fifth of the truth (the k-minimum-values error is about 6% for 256).
    #[test]
    fn distinct_clients_past_the_cap_are_estimated() {
        for n in [300u32, 1_000, 10_000, 100_000] {
            let mut s = EndpointStats::default();
            let mut r = rec("h", "GET", "/x", 1);
            for i in 0..n {
                // Each address twice: repeats do not count.
                for _ in 0..2 {
                    r.client = Some(IpAddr::from(std::net::Ipv4Addr::from(0xc633_6400 + i)));
                    s.add(&r);
                }
            }
            let count = s.clients.len() as u64 + s.clients_over_cap;
            let (lo, hi) = (u64::from(n) * 4 / 5, u64::from(n) * 6 / 5);
            assert!(
                (lo..=hi).contains(&count),
                "{n} distinct counted as {count}"
            );
        }
    }

    #[test]
    fn ipv4_addresses_are_written_as_display_writes_them() {
        let mut buf = [0u8; 15];
        let mut x: u32 = 0x9e37_79b9;
        for v in [0u32, 1, 9, 10, 99, 100, 255, 0x0a00_0001, u32::MAX]
            .into_iter()
            .chain((0..10_000).map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x
            }))
        {
            let a = std::net::Ipv4Addr::from(v);
            assert_eq!(ipv4_text(a, &mut buf), a.to_string());
        }
    }

    #[test]
    fn latencies_are_written_as_value_count_pairs() {
        let mut l = Latencies::default();
        for v in [5u64, 7, 5] {
            l.record(v);
        }
        assert_eq!(serde_json::to_string(&l).unwrap(), "[[5,1],[7,1],[5,1]]");
        // Past the inline values, the histogram's buckets.
        let mut h = Latencies::default();
        for i in 0..300u64 {
            h.record(100 + i % 3 * 1000);
        }
        let text = serde_json::to_string(&h).unwrap();
        let pairs: Vec<(u64, u64)> = serde_json::from_str(&text).unwrap();
        assert_eq!(pairs.len(), 3);
        assert_eq!(pairs.iter().map(|p| p.1).sum::<u64>(), 300);
        let back: Latencies = serde_json::from_str(&text).unwrap();
        assert_eq!(back.count(), 300);
        assert_eq!(back.quantile(0.5), h.quantile(0.5));
        assert_eq!(back.quantile(0.99), h.quantile(0.99));
    }

    #[test]
    fn client_sets_sort_in_address_order() {
        let ips: Vec<IpAddr> = [
            "10.0.0.2",
            "::1",
            "10.0.0.10",
            "9.255.255.255",
            "fe80::1",
            "::ffff:1.2.3.4",
            "255.0.0.0",
            "2001:db8::",
            "0.0.0.0",
            "::",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        let mut set = ClientSet::default();
        for ip in &ips {
            set.insert(*ip);
        }
        let mut want = ips.clone();
        want.sort_unstable();
        assert_eq!(set.sorted(), want);
        assert!(ips.iter().all(|ip| set.contains(ip)));
        assert!(!set.contains(&"10.0.0.3".parse().unwrap()));
        assert!(!set.insert(ips[0]));
        // A union is the addresses of both, once each, in order.
        let mut a = ClientSet::default();
        let mut b = ClientSet::default();
        for (i, ip) in ips.iter().enumerate() {
            if i % 2 == 0 {
                a.insert(*ip);
            }
            if i % 3 == 0 {
                b.insert(*ip);
            }
        }
        a.extend(&b);
        let mut both: Vec<IpAddr> = ips
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == 0 || i % 3 == 0)
            .map(|(_, ip)| *ip)
            .collect();
        both.sort_unstable();
        assert_eq!(a.sorted(), both);
        // Written and read back as the sorted list of addresses.
        let text = serde_json::to_string(&set).unwrap();
        let strings: Vec<String> = want.iter().map(|ip| ip.to_string()).collect();
        assert_eq!(text, serde_json::to_string(&strings).unwrap());
        assert_eq!(serde_json::from_str::<ClientSet>(&text).unwrap(), set);
        // A state file in any order, with repeats, reads as the set.
        let messy: ClientSet =
            serde_json::from_str(r#"["10.0.0.9","::1","10.0.0.2","10.0.0.9","::1"]"#).unwrap();
        assert_eq!(messy.len(), 3);
        assert_eq!(
            serde_json::to_string(&messy).unwrap(),
            r#"["10.0.0.2","10.0.0.9","::1"]"#
        );
        assert!(messy.contains(&"10.0.0.9".parse().unwrap()));
    }

    #[test]
    fn records_fold_into_learned_templates_in_any_order() {
        let users = [
            "ann", "ben", "cat", "dan", "eve", "fay", "gus", "hal", "ida",
        ];
        let mut recs = Vec::new();
        for (i, u) in users.iter().enumerate() {
            recs.push(rec(
                "a.example",
                "GET",
                &format!("/v1/users/{u}"),
                10 + i as u64,
            ));
            recs.push(rec(
                "b.example",
                "GET",
                &format!("/v1/users/{u}"),
                100 + i as u64,
            ));
        }
        recs.push(rec("a.example", "GET", "/v1/users/me", 5));
        let run = |recs: &[TxRecord]| {
            let mut inv = Inventory::new(TemplateConfig::default());
            for (i, r) in recs.iter().enumerate() {
                inv.record(r, None);
                if i == 7 {
                    inv.learn();
                }
            }
            inv.learn();
            inv.endpoints()
                .iter()
                .map(|e| {
                    (
                        e.key.clone(),
                        e.stats.calls,
                        e.stats.first_tx,
                        e.stats.status_counts.clone(),
                        e.stats.latency_us.count(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let a = run(&recs);
        let mut rev = recs.clone();
        rev.reverse();
        assert_eq!(a, run(&rev));
        let keys: Vec<String> = a
            .iter()
            .map(|e| format!("{} {} {} {}", e.0.host, e.0.method, e.0.template, e.1))
            .collect();
        assert_eq!(
            keys,
            vec![
                "a.example GET /v1/users/me 1",
                "a.example GET /v1/users/{userId} 9",
                "b.example GET /v1/users/{userId} 9",
            ]
        );
        assert_eq!(a[1].2, (10, 10, 0));
    }

    #[test]
    fn exposure_from_clients() {
        let mut s = EndpointStats::default();
        assert_eq!(s.exposure(), "unknown");
        let mut r = rec("h", "GET", "/x", 1);
        r.client = Some("10.0.0.1".parse().unwrap());
        r.client_internal = true;
        s.add(&r);
        assert_eq!(s.exposure(), "internal");
        r.client = Some("203.0.113.1".parse().unwrap());
        r.client_internal = false;
        s.add(&r);
        assert_eq!(s.exposure(), "internet");
        assert_eq!(s.clients.len(), 2);
    }

    #[test]
    fn sets_are_capped_and_counted() {
        let mut s = EndpointStats::default();
        for i in 0..(MAX_NAMES + 10) {
            let mut r = rec("h", "GET", "/x", 1);
            r.query_params = vec![format!("q{i}").into()];
            r.client = Some(IpAddr::from([198, 51, (i / 256) as u8, (i % 256) as u8]));
            s.add(&r);
        }
        assert_eq!(s.query_params.len(), MAX_NAMES);
        assert_eq!(s.names_over_cap, 10);
        for i in 0..MAX_CLIENTS {
            let mut r = rec("h", "GET", "/x", 1);
            r.client = Some(IpAddr::from([203, 0, (i / 256) as u8, (i % 256) as u8]));
            s.add(&r);
        }
        assert_eq!(s.clients.len(), MAX_CLIENTS);
        assert!(s.clients_over_cap > 0);
    }

    #[test]
    fn state_round_trips_through_json() {
        let mut inv = Inventory::new(TemplateConfig::default());
        for i in 0..3 {
            inv.record(&rec("h", "POST", &format!("/orders/{i}"), i), None);
        }
        inv.record(&rec("h", "GET", "/pets/1", 9), Some("/pets/{petId}"));
        let json = serde_json::to_string(&inv.state).unwrap();
        let back: InventoryState = serde_json::from_str(&json).unwrap();
        let inv2 = Inventory {
            state: back,
            ..Inventory::default()
        };
        let view = |inv: &Inventory| -> Vec<_> {
            inv.endpoints()
                .iter()
                .map(|e| {
                    (
                        e.key.clone(),
                        e.stats.calls,
                        e.stats.latency_us.quantile(0.5),
                    )
                })
                .collect()
        };
        let (a, b) = (view(&inv), view(&inv2));
        assert_eq!(a, b);
        assert_eq!(a.len(), 2);
        assert!(inv2
            .endpoints()
            .iter()
            .any(|e| e.from_spec && e.key.template == "/pets/{petId}"));
    }
}
