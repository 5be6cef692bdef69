//! Stage 6 (analyze, on each worker): a worker's calls summed per endpoint key between two
//! hand-overs to the discovery owner ([`Aggregate`]), then handed over whole ([`Calls`]).
//!
//! Every API call passes through [`Aggregate::add`], whose data the packet path pushes out
//! of cache between two calls of the same endpoint: it is laid out so that a call touches
//! few cache lines. The key is one allocation, compared in place; statuses and name sets
//! (content types, schemes, query parameters, data types) are small inline arrays, names
//! as ids of a per-aggregate table rather than strings in trees; client addresses are in a
//! small open-addressing table per key. The owner turns them into [`EndpointStats`] when it
//! takes the calls ([`Calls::into_partials`]), off the worker's thread.
//!
//! Guarantees: the [`Partial`]s are exactly those [`EndpointStats::add`] makes of the same
//! calls (caps and their counts included; a property test holds the two together); memory
//! is bounded: the worker hands over when [`Aggregate::is_full`] ([`AGGREGATE_KEYS`] keys
//! or [`AGGREGATE_NAMES`] distinct names).

use std::collections::HashMap;
use std::net::IpAddr;

use foldhash::fast::FixedState;

use super::inventory::{
    add_call, client_rank, ClientSet, EndpointStats, Latencies, Partial, TxRecord, MAX_CLIENTS,
    MAX_NAMES,
};

/// Keys summed per worker before a hand-over (bounded: the worker hands over when full).
pub const AGGREGATE_KEYS: usize = 4096;
/// Distinct names (content types, schemes, query parameters, data types) an aggregate
/// holds before the worker hands it over.
pub const AGGREGATE_NAMES: usize = 65_536;

/// A set of name ids, capped at [`MAX_NAMES`]: the first few in place, the rest boxed (24
/// bytes in all, so that a slot's five sets take two cache lines rather than four).
#[derive(Debug, Default)]
struct IdSet {
    first: [u32; 3],
    len: u32,
    /// A thin pointer (a `Vec` in place would take 24 bytes for what most sets never use).
    #[allow(clippy::box_collection)]
    more: Option<Box<Vec<u32>>>,
}

impl IdSet {
    fn contains(&self, id: u32) -> bool {
        let n = (self.len as usize).min(self.first.len());
        self.first.iter().take(n).any(|&x| x == id)
            || self.more.as_ref().is_some_and(|m| m.contains(&id))
    }

    /// Adds `id` as the inventory's capped name sets add a name: false when the set is full
    /// and `id` not in it.
    fn insert_capped(&mut self, id: u32) -> bool {
        if self.contains(id) {
            return true;
        }
        if self.len as usize >= MAX_NAMES {
            return false;
        }
        match self.first.get_mut(self.len as usize) {
            Some(slot) => *slot = id,
            None => self.more.get_or_insert_with(Box::default).push(id),
        }
        self.len += 1;
        true
    }

    fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        let n = (self.len as usize).min(self.first.len());
        self.first
            .iter()
            .take(n)
            .copied()
            .chain(self.more.iter().flat_map(|m| m.iter().copied()))
    }
}

/// An address as a [`Clients`] table holds it.
trait Addr: Copy + Eq {
    /// The value that marks a free place (an address equal to it is kept aside).
    const FREE: Self;
    fn spread(self) -> u64;
}

impl Addr for u32 {
    const FREE: u32 = u32::MAX;
    fn spread(self) -> u64 {
        u64::from(self).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}

impl Addr for u128 {
    const FREE: u128 = u128::MAX;
    fn spread(self) -> u64 {
        ((self as u64) ^ ((self >> 64) as u64).rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}

/// Distinct client addresses of one family: an open-addressing table (at most half full),
/// so that a call finds its address with one probe sequence, usually in one cache line,
/// rather than by a scan of every address the key has seen (up to twice [`MAX_CLIENTS`]
/// between two trims, see `Tally::trim_clients`): that
/// scan was a third of the per-call sums' time in `perf annotate`.
#[derive(Debug)]
struct Clients<K: Addr> {
    /// A power of two of places, [`Addr::FREE`] where free (empty until the first address).
    places: Vec<K>,
    len: usize,
    /// The address equal to [`Addr::FREE`] was seen.
    free_value: bool,
}

impl<K: Addr> Default for Clients<K> {
    fn default() -> Self {
        Clients {
            places: Vec::new(),
            len: 0,
            free_value: false,
        }
    }
}

impl<K: Addr> Clients<K> {
    fn len(&self) -> usize {
        self.len
    }

    /// The place of `a`, or the free place where it would go (the table is never full).
    fn find(&self, a: K) -> usize {
        let mask = self.places.len().wrapping_sub(1);
        let mut i = (a.spread() >> 32) as usize & mask;
        while let Some(&k) = self.places.get(i) {
            if k == a || k == K::FREE {
                return i;
            }
            i = (i + 1) & mask;
        }
        i
    }

    fn contains(&self, a: K) -> bool {
        if a == K::FREE {
            return self.free_value;
        }
        !self.places.is_empty() && self.places.get(self.find(a)) == Some(&a)
    }

    /// What a lookup of `a` reads first (see [`Aggregate::warm`]).
    fn peek(&self, a: K) -> Option<K> {
        let mask = self.places.len().wrapping_sub(1);
        self.places.get((a.spread() >> 32) as usize & mask).copied()
    }

    /// Adds `a`, which is not in the table.
    fn insert(&mut self, a: K) {
        self.len += 1;
        if a == K::FREE {
            self.free_value = true;
            return;
        }
        if self.len * 2 > self.places.len() {
            let old = std::mem::take(&mut self.places);
            self.places = vec![K::FREE; (old.len() * 2).max(8)];
            for k in old.into_iter().filter(|&k| k != K::FREE) {
                let i = self.find(k);
                if let Some(p) = self.places.get_mut(i) {
                    *p = k;
                }
            }
        }
        let i = self.find(a);
        if let Some(p) = self.places.get_mut(i) {
            *p = a;
        }
    }

    /// The addresses, in no particular order.
    fn into_vec(self) -> Vec<K> {
        let mut v: Vec<K> = self.places.into_iter().filter(|&k| k != K::FREE).collect();
        if self.free_value {
            v.push(K::FREE);
        }
        v
    }
}

/// Indices of a [`Tally`]'s name sets.
const AUTH: usize = 0;
const REQUEST_TYPES: usize = 1;
const RESPONSE_TYPES: usize = 2;
const QUERY: usize = 3;
const SENSITIVE: usize = 4;

/// Status counts kept in place (others go to the stats' map).
const INLINE_STATUSES: usize = 4;

/// What every call changes besides the times and latency, laid out for the per-call path.
#[derive(Debug, Default)]
#[repr(C)]
struct Tally {
    /// The first statuses seen, and their counts.
    status_codes: [u16; INLINE_STATUSES],
    n_statuses: u16,
    status_counts: [u64; INLINE_STATUSES],
    /// Distinct client addresses.
    v4: Clients<u32>,
    public_clients: bool,
    internal_clients: bool,
    names: [IdSet; 5],
    names_over_cap: u64,
    v6: Clients<u128>,
    /// Addresses were dropped (more than [`MAX_CLIENTS`] came), and the largest rank of
    /// those kept then: an address ranked past it cannot be among the kept ones.
    clients_dropped: bool,
    client_cut: u64,
}

impl Tally {
    /// Keeps the [`MAX_CLIENTS`] addresses `ClientSet::trim` keeps (the tables may hold
    /// up to twice as many in between, so this runs once per that many new addresses).
    fn trim_clients(&mut self) {
        let mut set = ClientSet::from_distinct(
            std::mem::take(&mut self.v4).into_vec(),
            std::mem::take(&mut self.v6).into_vec(),
        );
        if set.trim() {
            self.clients_dropped = true;
        }
        self.client_cut = set.max_rank();
        let (v4, v6) = set.into_parts();
        for a in v4 {
            self.v4.insert(a);
        }
        for a in v6 {
            self.v6.insert(a);
        }
    }
}

/// One key's calls: the key (method, host and path in one allocation), what every call
/// changes (first in memory, so that a call touches a few neighbouring cache lines), and
/// the stats for the rest, made only for calls that carry it (body shapes, posture
/// observations, credentials, statuses past the inline ones).
#[derive(Debug)]
#[repr(C)]
struct Slot {
    key: Box<str>,
    method_len: usize,
    host_len: usize,
    calls: u64,
    first_seen: u64,
    last_seen: u64,
    first_tx: (u64, u64, u64),
    latency_us: Latencies,
    from_spec: bool,
    tally: Tally,
    rest: Option<Box<EndpointStats>>,
}

impl Slot {
    fn is(&self, method: &str, host: &str, path: &str, from_spec: bool) -> bool {
        let k = self.key.as_bytes();
        self.from_spec == from_spec
            && self.method_len == method.len()
            && self.host_len == host.len()
            && k.len() == method.len() + host.len() + path.len()
            && k.get(..method.len()) == Some(method.as_bytes())
            && k.get(method.len()..method.len() + host.len()) == Some(host.as_bytes())
            && k.get(method.len() + host.len()..) == Some(path.as_bytes())
    }

    fn new(method: &str, host: &str, path: &str, from_spec: bool) -> Slot {
        let mut key = String::with_capacity(method.len() + host.len() + path.len());
        key.push_str(method);
        key.push_str(host);
        key.push_str(path);
        Slot {
            key: key.into_boxed_str(),
            method_len: method.len(),
            host_len: host.len(),
            calls: 0,
            first_seen: 0,
            last_seen: 0,
            first_tx: (0, 0, 0),
            latency_us: Latencies::default(),
            from_spec,
            tally: Tally::default(),
            rest: None,
        }
    }

    fn rest(&mut self) -> &mut EndpointStats {
        self.rest.get_or_insert_with(Box::default)
    }

    /// The calls as [`EndpointStats::add`] would have summed them; `names` by id.
    fn into_partial(self, names: &[Box<str>]) -> Partial {
        let Slot {
            key,
            method_len,
            host_len,
            calls,
            first_seen,
            last_seen,
            first_tx,
            latency_us,
            from_spec,
            tally,
            rest,
        } = self;
        let mut stats = rest.map(|b| *b).unwrap_or_default();
        stats.calls = calls;
        stats.first_seen = first_seen;
        stats.last_seen = last_seen;
        stats.first_tx = first_tx;
        stats.latency_us = latency_us;
        let key = key.as_ref();
        let (method, rest) = key.split_at(method_len.min(key.len()));
        let (host, path) = rest.split_at(host_len.min(rest.len()));
        let n = usize::from(tally.n_statuses).min(INLINE_STATUSES);
        for (&s, &c) in tally.status_codes.iter().zip(&tally.status_counts).take(n) {
            *stats.status_counts.entry(s).or_default() += c;
        }
        let [auth, request_types, response_types, query, sensitive] = tally.names;
        for (set, ids) in [
            (&mut stats.auth_schemes, auth),
            (&mut stats.request_content_types, request_types),
            (&mut stats.response_content_types, response_types),
            (&mut stats.query_params, query),
            (&mut stats.sensitive_types, sensitive),
        ] {
            for id in ids.ids() {
                if let Some(name) = names.get(id as usize) {
                    set.insert(name.to_string());
                }
            }
        }
        stats.names_over_cap += tally.names_over_cap;
        let mut clients = ClientSet::from_distinct(tally.v4.into_vec(), tally.v6.into_vec());
        let dropped = clients.trim() || tally.clients_dropped;
        stats.clients_over_cap = clients.over_cap(dropped);
        stats.clients = clients;
        stats.public_clients |= tally.public_clients;
        stats.internal_clients |= tally.internal_clients;
        Partial {
            host: host.to_string(),
            method: method.to_string(),
            path: path.to_string(),
            from_spec,
            stats,
        }
    }
}

/// The slots of one key hash: colliding keys (rare) after the first.
#[derive(Debug)]
struct Bucket {
    first: Slot,
    more: Vec<Slot>,
}

/// One worker's calls since its last hand-over, summed per (host, method, canonical path):
/// the discovery owner then does per-key rather than per-call work. Summing is the same as
/// [`EndpointStats::add`], so the result does not depend on how calls were grouped.
#[derive(Debug, Default)]
pub struct Aggregate {
    /// Keyed by a hash of (method, host, path, from spec).
    map: HashMap<u64, Bucket, FixedState>,
    /// Name ids (by text).
    ids: HashMap<Box<str>, u32, FixedState>,
    len: usize,
}

impl Aggregate {
    /// The key hash [`Aggregate::add`] wants for a call (callers may reuse it for their own
    /// per-endpoint bookkeeping).
    pub fn key_hash(method: &str, host: &str, path: &str, from_spec: bool) -> u64 {
        use std::hash::BuildHasher;
        FixedState::with_seed(0xa66e).hash_one((method, host, path, from_spec))
    }

    /// Adds one call; `path` is its canonical path or spec template and `hash` is
    /// [`Aggregate::key_hash`] of the key.
    pub fn add(&mut self, r: &TxRecord, path: &str, from_spec: bool, hash: u64) {
        let (method, host) = (r.method.as_ref(), r.host.as_ref());
        let slot = match self.map.entry(hash) {
            std::collections::hash_map::Entry::Vacant(v) => {
                self.len += 1;
                &mut v
                    .insert(Bucket {
                        first: Slot::new(method, host, path, from_spec),
                        more: Vec::new(),
                    })
                    .first
            }
            std::collections::hash_map::Entry::Occupied(o) => {
                let b = o.into_mut();
                if b.first.is(method, host, path, from_spec) {
                    &mut b.first
                } else {
                    let i = match b
                        .more
                        .iter()
                        .position(|s| s.is(method, host, path, from_spec))
                    {
                        Some(i) => i,
                        None => {
                            self.len += 1;
                            b.more.push(Slot::new(method, host, path, from_spec));
                            b.more.len() - 1
                        }
                    };
                    match b.more.get_mut(i) {
                        Some(s) => s,
                        None => return,
                    }
                }
            }
        };
        add_call(
            &mut slot.calls,
            (
                &mut slot.first_seen,
                &mut slot.last_seen,
                &mut slot.first_tx,
            ),
            &mut slot.latency_us,
            r,
        );
        let t = &mut slot.tally;
        if let Some(s) = r.status {
            let n = usize::from(t.n_statuses).min(INLINE_STATUSES);
            match t.status_codes.iter().take(n).position(|&x| x == s) {
                Some(i) => {
                    if let Some(c) = t.status_counts.get_mut(i) {
                        *c += 1;
                    }
                }
                None => match (t.status_codes.get_mut(n), t.status_counts.get_mut(n)) {
                    (Some(code), Some(c)) => {
                        *code = s;
                        *c = 1;
                        t.n_statuses += 1;
                    }
                    _ => {
                        *slot
                            .rest
                            .get_or_insert_with(Box::default)
                            .status_counts
                            .entry(s)
                            .or_default() += 1
                    }
                },
            }
        }
        let ids = &mut self.ids;
        let mut file = |set: usize, name: &str| {
            let id = match ids.get(name) {
                Some(&id) => id,
                None => {
                    let id = ids.len() as u32;
                    ids.insert(name.into(), id);
                    id
                }
            };
            if let Some(s) = t.names.get_mut(set) {
                if !s.insert_capped(id) {
                    t.names_over_cap += 1;
                }
            }
        };
        if let Some(v) = r.auth_scheme.as_deref() {
            file(AUTH, v);
        }
        if let Some(v) = r.request_content_type.as_deref() {
            file(REQUEST_TYPES, v);
        }
        if let Some(v) = r.response_content_type.as_deref() {
            file(RESPONSE_TYPES, v);
        }
        for q in &r.query_params {
            file(QUERY, q);
        }
        for v in &r.sensitive_types {
            file(SENSITIVE, v);
        }
        if let Some(ip) = r.client {
            if r.client_internal {
                t.internal_clients = true;
            } else {
                t.public_clients = true;
            }
            let known = match ip {
                IpAddr::V4(a) => t.v4.contains(u32::from(a)),
                IpAddr::V6(a) => t.v6.contains(u128::from(a)),
            };
            // Past the cap only addresses ranked below every one dropped so far can be
            // among the kept ones (see `ClientSet::trim`).
            let past_cut = || t.clients_dropped && client_rank(ip) > t.client_cut;
            if !known && !past_cut() {
                match ip {
                    IpAddr::V4(a) => t.v4.insert(u32::from(a)),
                    IpAddr::V6(a) => t.v6.insert(u128::from(a)),
                }
                if t.v4.len() + t.v6.len() >= 2 * MAX_CLIENTS {
                    t.trim_clients();
                }
            }
        }
        if r.request_schema.is_some()
            || r.response_schema.is_some()
            || !r.findings.is_empty()
            || r.credential.is_some()
        {
            slot.rest().add_rare(r);
        }
    }

    /// Reads what [`Aggregate::add`] reads first for a call of this key (`hash`, as
    /// [`Aggregate::key_hash`]) from `client`, and returns something made of it for the
    /// caller to pass to `std::hint::black_box`. A worker reads ahead like this for a
    /// whole batch of calls before it adds them, so that the cache misses of different
    /// calls overlap instead of coming one call at a time: `perf annotate` put three
    /// quarters of `add`'s time on two loads, the table entry and the client table
    /// (replaying the 1 GiB capture, `add` went from about 350 samples to 50, and this
    /// read-ahead takes about 110).
    pub fn warm(&self, hash: u64, client: IpAddr) -> u64 {
        let Some(b) = self.map.get(&hash) else {
            return 0;
        };
        let s = &b.first;
        let t = &s.tally;
        let client = match client {
            IpAddr::V4(a) => u64::from(t.v4.peek(u32::from(a)).unwrap_or(0)),
            IpAddr::V6(a) => t.v6.peek(u128::from(a)).unwrap_or(0) as u64,
        };
        s.calls
            ^ u64::from(s.key.as_bytes().first().copied().unwrap_or(0))
            ^ s.latency_us.warm()
            ^ u64::from(t.n_statuses)
            ^ t.names_over_cap
            ^ t.names.iter().map(|n| u64::from(n.len)).sum::<u64>()
            ^ client
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the worker should hand the calls over now (the key or name table is full).
    pub fn is_full(&self) -> bool {
        self.len >= AGGREGATE_KEYS || self.ids.len() >= AGGREGATE_NAMES
    }

    /// Everything summed so far, leaving the aggregate empty (with room for as many keys).
    pub fn take(&mut self) -> Calls {
        self.len = 0;
        let room = self.map.len();
        Calls {
            map: std::mem::replace(
                &mut self.map,
                HashMap::with_capacity_and_hasher(room, FixedState::default()),
            ),
            ids: std::mem::take(&mut self.ids),
        }
    }
}

/// One worker's summed calls as handed to the discovery owner: the tables themselves move,
/// so a hand-over copies nothing on the worker. (Collecting the entries into one list
/// allocated about a megabyte of fresh memory per flush, which profiles showed as page
/// clearing.)
#[derive(Debug, Default)]
pub struct Calls {
    map: HashMap<u64, Bucket, FixedState>,
    ids: HashMap<Box<str>, u32, FixedState>,
}

impl Calls {
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The summed calls, one per key, in no particular order.
    pub fn into_partials(self) -> impl Iterator<Item = Partial> {
        let mut names: Vec<Box<str>> = vec![Box::default(); self.ids.len()];
        for (name, id) in self.ids {
            if let Some(slot) = names.get_mut(id as usize) {
                *slot = name;
            }
        }
        self.map
            .into_values()
            .flat_map(|b| std::iter::once(b.first).chain(b.more))
            .map(move |s| s.into_partial(&names))
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use proptest::prelude::*;

    use super::*;
    use crate::analyze::inventory::tests::rec;

    /// The stats of each key as JSON, sorted by key.
    fn summed(calls: Calls) -> Vec<(String, String, String, bool, serde_json::Value)> {
        let mut v: Vec<_> = calls
            .into_partials()
            .map(|p| {
                let stats = serde_json::to_value(&p.stats).unwrap();
                (p.host, p.method, p.path, p.from_spec, stats)
            })
            .collect();
        v.sort_by(|a, b| (&a.0, &a.1, &a.2, a.3).cmp(&(&b.0, &b.1, &b.2, b.3)));
        v
    }

    /// The reference: [`EndpointStats::add`] per call, per key.
    fn reference(
        recs: &[(TxRecord<'static>, bool)],
    ) -> Vec<(String, String, String, bool, serde_json::Value)> {
        let mut m: std::collections::BTreeMap<(String, String, String, bool), EndpointStats> =
            Default::default();
        for (r, from_spec) in recs {
            m.entry((
                r.host.to_string(),
                r.method.to_string(),
                r.path.to_string(),
                *from_spec,
            ))
            .or_default()
            .add(r);
        }
        m.into_iter()
            .map(|((h, me, p, f), s)| (h, me, p, f, serde_json::to_value(&s).unwrap()))
            .collect()
    }

    fn aggregate(
        recs: &[(TxRecord<'static>, bool)],
        hash: impl Fn(&TxRecord, bool) -> u64,
    ) -> Calls {
        let mut a = Aggregate::default();
        for (r, from_spec) in recs {
            a.add(r, &r.path, *from_spec, hash(r, *from_spec));
        }
        a.take()
    }

    #[test]
    fn client_tables_hold_each_address_once() {
        let mut t: Clients<u32> = Clients::default();
        assert!(!t.contains(7) && !t.contains(u32::MAX));
        // Addresses that crowd one place, the free marker itself, and growth past 8 places.
        let addrs: Vec<u32> = (0..300u32)
            .map(|i| i << 24)
            .chain([u32::MAX, 0, 1])
            .collect();
        for &a in &addrs {
            if !t.contains(a) {
                t.insert(a);
            }
            assert!(t.contains(a));
        }
        let distinct: std::collections::BTreeSet<u32> = addrs.iter().copied().collect();
        assert_eq!(t.len(), distinct.len());
        assert!(t.places.len() >= 2 * (t.len() - 1));
        let mut got = t.into_vec();
        got.sort_unstable();
        assert_eq!(got, distinct.into_iter().collect::<Vec<_>>());
        let mut t6: Clients<u128> = Clients::default();
        for a in [u128::MAX, 1, 1 << 64, (1 << 64) | 1] {
            t6.insert(a);
        }
        assert!(t6.contains(u128::MAX) && t6.contains(1 << 64) && !t6.contains(2));
        assert_eq!(t6.len(), 4);
    }

    #[test]
    fn keys_that_share_a_hash_stay_apart() {
        let recs: Vec<_> = [
            ("h", "GET", "/a"),
            ("h", "GET", "/b"),
            ("", "GETh", "/a"),
            ("h", "GET", "/a"),
        ]
        .iter()
        .enumerate()
        .map(|(i, (h, m, p))| (rec(h, m, p, i as u64), i == 3))
        .collect();
        let mut a = Aggregate::default();
        for (r, f) in &recs {
            a.add(r, &r.path, *f, 7);
        }
        assert_eq!(a.len(), 4);
        assert_eq!(summed(a.take()), reference(&recs));
    }

    /// The stats of the first key summed by an aggregate, checked against adding the calls
    /// one by one.
    fn first_key_as_one_by_one(recs: &[(TxRecord<'static>, bool)]) -> serde_json::Value {
        let calls = aggregate(recs, |r, f| {
            Aggregate::key_hash(&r.method, &r.host, &r.path, f)
        });
        let got = summed(calls);
        assert_eq!(got, reference(recs));
        got[0].4.clone()
    }

    /// Checks that the cap's worth of clients is kept; returns the count of distinct
    /// clients (kept and estimated).
    fn kept_clients_and_count(stats: &serde_json::Value) -> u64 {
        assert_eq!(stats["clients"].as_array().unwrap().len(), MAX_CLIENTS);
        MAX_CLIENTS as u64 + stats["clients_over_cap"].as_u64().unwrap()
    }

    #[test]
    fn caps_are_counted_as_per_call_adds_count_them() {
        let mut recs = Vec::new();
        for i in 0..(MAX_NAMES + 10) {
            let mut r = rec("h", "GET", "/x", i as u64);
            r.query_params = vec![format!("q{i}").into(), "page".into()];
            r.status = Some(200 + (i % 7) as u16);
            r.client = Some(IpAddr::from([198, 51, (i / 256) as u8, (i % 256) as u8]));
            recs.push((r, false));
        }
        for i in 0..(MAX_CLIENTS + 5) {
            let mut r = rec("h", "GET", "/x", 1000 + i as u64);
            r.client = Some(IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, i as u16]));
            recs.push((r, false));
        }
        let stats = first_key_as_one_by_one(&recs);
        assert_eq!(stats["query_params"].as_array().unwrap().len(), MAX_NAMES);
        assert_eq!(stats["names_over_cap"], 11);
        // 74 IPv4 and 261 IPv6 addresses: the 256 of smallest rank are kept, and the
        // others are counted by the estimate (within 10% of the 335 there were).
        let count = kept_clients_and_count(&stats);
        assert!((302..=369).contains(&count), "{count}");
    }

    /// Thousands of clients on one key: the worker's tables are trimmed to the kept
    /// addresses several times along the way (at twice the cap) and addresses ranked past
    /// the cut are turned away, with the same result as adding the calls one by one.
    #[test]
    fn many_clients_are_trimmed_as_the_inventory_trims_them() {
        let mut recs = Vec::new();
        for i in 0..5_000u32 {
            // Each address twice, the second time much later.
            for round in 0..2u64 {
                let mut r = rec("h", "GET", "/x", u64::from(i) + round * 10_000);
                r.client = Some(if i % 7 == 0 {
                    IpAddr::from(std::net::Ipv6Addr::from(u128::from(i) << 16 | 1))
                } else {
                    IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i * 3))
                });
                recs.push((r, false));
            }
        }
        let count = kept_clients_and_count(&first_key_as_one_by_one(&recs));
        assert!((4_000..=6_000).contains(&count), "{count}");
    }

    #[test]
    fn the_name_table_bounds_the_aggregate() {
        let mut a = Aggregate::default();
        let mut r = rec("h", "GET", "/x", 1);
        for i in 0..AGGREGATE_NAMES {
            assert!(!a.is_full());
            r.query_params = vec![format!("q{i}").into()];
            a.add(&r, "/x", false, 1);
        }
        assert!(a.is_full());
        assert!(!a.take().is_empty());
        assert!(!a.is_full() && a.is_empty());
    }

    fn arb_record() -> impl Strategy<Value = (TxRecord<'static>, bool)> {
        let name = prop::sample::select(vec![
            "a",
            "b",
            "c",
            "d",
            "e",
            "application/json",
            "text/html",
        ]);
        (
            (
                0u64..50,
                0u64..4,
                prop::sample::select(vec!["h1", "h2"]),
                prop::sample::select(vec!["GET", "POST"]),
            ),
            (
                prop::sample::select(vec!["/p", "/q", "/r/{id}"]),
                any::<bool>(),
                prop::option::of(prop::sample::select(vec![
                    200u16, 201, 204, 301, 400, 404, 500, 503,
                ])),
            ),
            (
                prop::option::of(0u64..10_000),
                prop::option::of(name.clone()),
                prop::option::of(name.clone()),
                prop::option::of(name.clone()),
            ),
            (
                prop::collection::vec(name.clone(), 0..4),
                prop::collection::vec(name, 0..3),
            ),
            (prop::option::of((any::<bool>(), 0u8..12)), any::<bool>()),
            (
                prop::option::of(0u64..4),
                prop::option::of(0usize..3),
                prop::option::of(0usize..3),
            ),
        )
            .prop_map(
                |(
                    (ts, tx, host, method),
                    (path, from_spec, status),
                    (latency, auth, req_ct, resp_ct),
                    (query, sensitive),
                    (client, internal),
                    (credential, req_shape, resp_shape),
                )| {
                    let mut r = rec(host, method, path, ts);
                    r.tx_id = tx;
                    r.status = status;
                    r.latency_us = latency;
                    r.auth_scheme = auth.map(Cow::Borrowed);
                    r.request_content_type = req_ct.map(Cow::Borrowed);
                    r.response_content_type = resp_ct.map(Cow::Borrowed);
                    r.query_params = query.into_iter().map(Cow::Borrowed).collect();
                    r.sensitive_types = sensitive.into_iter().map(Cow::Borrowed).collect();
                    r.client = client.map(|(v6, n)| {
                        if v6 {
                            IpAddr::from([0xfd00, 0, 0, 0, 0, 0, 0, u16::from(n)])
                        } else {
                            IpAddr::from([10, 0, 0, n])
                        }
                    });
                    r.client_internal = internal;
                    let shape = |i: usize| {
                        let doc = [r#"{"a":1}"#, r#"{"a":"x","b":[true]}"#, r#"[{"c":null}]"#];
                        crate::analyze::spec::Schema::from_json_slice(
                            doc.get(i)?.as_bytes(),
                            &Default::default(),
                        )
                    };
                    r.credential = credential;
                    r.request_schema = req_shape.and_then(shape);
                    r.response_schema = resp_shape.and_then(shape);
                    (r, from_spec)
                },
            )
    }

    proptest! {
        /// Summed in the aggregate or call by call, the stats are the same, whatever the
        /// hash (a constant one puts every key in one bucket).
        #[test]
        fn aggregate_sums_as_per_call_adds(recs in prop::collection::vec(arb_record(), 0..80), constant_hash in any::<bool>()) {
            let calls = aggregate(&recs, |r, f| if constant_hash { 0 } else { Aggregate::key_hash(&r.method, &r.host, &r.path, f) });
            prop_assert_eq!(summed(calls), reference(&recs));
        }
    }
}
