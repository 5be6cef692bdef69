//! Stage 6 (analyze): the security posture of each endpoint, from what its transactions
//! showed: credential weaknesses (`auth`), sensitive values (`sensitive`), unauthenticated
//! access, credentials reused across hosts, and the endpoint's risk score.
//!
//! On a worker, [`tx_findings`] turns one transaction's [`Inspection`] into [`TxFinding`]s,
//! which ride on its [`super::inventory::TxRecord`]. Under each endpoint they become
//! [`Observation`]s, one per finding key (a kind, qualified for sensitive data by type and
//! location), summed like the rest of the inventory: counts add up, the most severe
//! occurrence wins and, among those, the earliest transaction gives the evidence. Summing is
//! commutative, so the findings of one replay do not depend on how transactions were spread
//! over workers. The discovery owner raises each once per endpoint (again when its severity
//! rises) and scores the endpoint with [`risk`].
//!
//! Guarantees: evidence holds no raw sensitive value (sensitive items are already redacted,
//! auth evidence never holds a secret); the observations of an endpoint are capped at
//! [`MAX_OBSERVATIONS`] and the credential sample at [`MAX_CREDENTIALS`] (both counted);
//! nothing here reads the clock.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::auth::{Scheme, Weakness};
use super::inspect::Inspection;
use super::sensitive::{DataType, SensitiveItem};
use super::Severity;
use crate::http::{Request, Response};

/// Finding keys kept per endpoint (kinds, and sensitive types by location: the built-in
/// ones fit; custom types could go over). When full, the keys that sort first are kept, so
/// what is kept does not depend on the order calls arrive in.
pub const MAX_OBSERVATIONS: usize = 160;
/// Credential fingerprints kept per endpoint for `credential_reuse`: the smallest ones (a
/// sample that is the same whatever order calls arrive in, and the same credential ranks
/// the same on every endpoint, so the samples of two endpoints overlap where they can).
pub const MAX_CREDENTIALS: usize = 32;

pub const OWASP_API2: &str = "API2:2023 Broken Authentication";
pub const OWASP_API3: &str = "API3:2023 Broken Object Property Level Authorization";
pub const OWASP_API8: &str = "API8:2023 Security Misconfiguration";

/// Where a finding's evidence comes from; built into JSON only when it is kept.
#[derive(Clone, Debug, PartialEq)]
pub enum Evidence<'a> {
    /// Auth weaknesses carry theirs.
    Map(&'a Map<String, Value>),
    /// A sensitive value (redacted).
    Sensitive(&'a SensitiveItem),
    /// A 2xx answer to a request without credentials.
    Unauthenticated {
        status: u16,
        /// Types of the (non-test) sensitive values in the response.
        response_types: Vec<&'a str>,
    },
}

impl Evidence<'_> {
    fn build(&self) -> Map<String, Value> {
        match self {
            Evidence::Map(m) => (*m).clone(),
            Evidence::Sensitive(s) => {
                let mut m = Map::new();
                m.insert("type".into(), json!(s.kind));
                m.insert("location".into(), json!(s.location));
                m.insert("field".into(), json!(s.field));
                m.insert("redacted".into(), json!(s.redacted));
                if s.test_data {
                    m.insert("test_data".into(), json!(true));
                }
                m
            }
            Evidence::Unauthenticated {
                status,
                response_types,
            } => {
                let mut m = Map::new();
                m.insert("status".into(), json!(status));
                if !response_types.is_empty() {
                    m.insert("response_sensitive_types".into(), json!(response_types));
                }
                m
            }
        }
    }
}

/// What one transaction showed for one finding of its endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct TxFinding<'a> {
    /// The finding key: the kind, qualified for sensitive data
    /// (`sensitive_data_exposure:email@response.body`, `sensitive_data_in_url:us_ssn`).
    pub key: Cow<'a, str>,
    /// `finding.kind`.
    pub kind: &'static str,
    pub severity: Severity,
    pub owasp: &'static str,
    pub evidence: Evidence<'a>,
}

/// One finding key of one endpoint, summed over its transactions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub kind: String,
    /// The most severe occurrence.
    pub severity: Severity,
    pub owasp: String,
    /// Transactions that showed it.
    pub count: u64,
    /// Packet time of the first.
    pub first_seen: u64,
    /// (packet time, flow id, tx id) of the earliest transaction at `severity`.
    pub first_tx: (u64, u64, u64),
    /// From that transaction.
    pub evidence: Map<String, Value>,
}

impl Observation {
    fn new(f: &TxFinding<'_>, tx: (u64, u64, u64)) -> Self {
        Observation {
            kind: f.kind.to_string(),
            severity: f.severity,
            owasp: f.owasp.to_string(),
            count: 1,
            first_seen: tx.0,
            first_tx: tx,
            evidence: f.evidence.build(),
        }
    }

    /// Whether an occurrence at (`severity`, `tx`) gives the evidence over the current one.
    fn wins(&self, severity: Severity, tx: (u64, u64, u64)) -> bool {
        severity > self.severity || (severity == self.severity && tx < self.first_tx)
    }

    /// Adds one transaction.
    pub fn add(&mut self, f: &TxFinding<'_>, tx: (u64, u64, u64)) {
        self.count += 1;
        self.first_seen = self.first_seen.min(tx.0);
        if self.wins(f.severity, tx) {
            self.severity = f.severity;
            self.first_tx = tx;
            self.evidence = f.evidence.build();
        }
    }

    /// Adds another summary of the same key (commutative).
    pub fn fold(&mut self, o: Observation) {
        self.count += o.count;
        self.first_seen = self.first_seen.min(o.first_seen);
        if self.wins(o.severity, o.first_tx) {
            self.severity = o.severity;
            self.first_tx = o.first_tx;
            self.evidence = o.evidence;
        }
    }
}

/// Files `f` (seen in transaction `tx`) into `map`; false when a key had to be dropped.
pub fn observe(
    map: &mut BTreeMap<String, Observation>,
    f: &TxFinding<'_>,
    tx: (u64, u64, u64),
) -> bool {
    if let Some(o) = map.get_mut(&*f.key) {
        o.add(f, tx);
        return true;
    }
    map.insert(f.key.to_string(), Observation::new(f, tx));
    trim(map)
}

fn trim(map: &mut BTreeMap<String, Observation>) -> bool {
    if map.len() <= MAX_OBSERVATIONS {
        return true;
    }
    map.pop_last();
    false
}

/// Folds `theirs` into `mine`; returns the number of keys dropped.
pub fn fold_observations(
    mine: &mut BTreeMap<String, Observation>,
    theirs: BTreeMap<String, Observation>,
) -> u64 {
    let mut over = 0;
    for (k, o) in theirs {
        if let Some(m) = mine.get_mut(&k) {
            m.fold(o);
        } else {
            mine.insert(k, o);
            over += u64::from(!trim(mine));
        }
    }
    over
}

/// Adds a credential to a bottom-k sample (fingerprint prefix → earliest transaction).
pub fn sample_credential(set: &mut BTreeMap<u64, (u64, u64, u64)>, fp: u64, tx: (u64, u64, u64)) {
    // Once the sample is full, most fingerprints are above its largest and cannot be in it.
    if set.len() >= MAX_CREDENTIALS && set.last_key_value().is_some_and(|(&l, _)| fp > l) {
        return;
    }
    if let Some(t) = set.get_mut(&fp) {
        *t = (*t).min(tx);
        return;
    }
    if set.len() >= MAX_CREDENTIALS {
        match set.last_key_value() {
            Some((&largest, _)) if fp < largest => {
                set.remove(&largest);
            }
            _ => return,
        }
    }
    set.insert(fp, tx);
}

/// Severity of a sensitive value by where it was: the type's own severity in responses and
/// for secrets anywhere; one step lower for personal data a client sent about itself
/// (request body, headers); `info` for documented test values.
fn sensitive_severity(item: &SensitiveItem) -> Severity {
    if item.test_data {
        return Severity::Info;
    }
    let base = item.data_type.severity();
    let secret = matches!(
        item.data_type,
        DataType::Password
            | DataType::PrivateKey
            | DataType::AwsAccessKey
            | DataType::AwsSecretKey
            | DataType::GithubToken
            | DataType::SlackToken
            | DataType::StripeKey
            | DataType::GoogleApiKey
            | DataType::Jwt
            | DataType::Secret
            | DataType::PasswordHash
    );
    if secret || item.location.starts_with("response.") {
        base
    } else {
        lower(base)
    }
}

fn lower(s: Severity) -> Severity {
    match s {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        Severity::Medium => Severity::Low,
        Severity::Low | Severity::Info => Severity::Info,
    }
}

/// Request headers that carry the request's credential: auth findings cover them, so they
/// are not also sensitive data exposures.
fn is_credential_header(name: &str, api_key_headers: &[String]) -> bool {
    matches!(name, "authorization" | "proxy-authorization" | "cookie")
        || api_key_headers.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// Whether a sensitive item is the request's credential itself (the `Authorization`,
/// cookie or API-key header, or a credential query key): auth findings judge it, so it is
/// neither a sensitive data finding nor data the endpoint moves.
pub fn is_credential_item(
    item: &SensitiveItem,
    api_key_headers: &[String],
    url_keys: &[String],
) -> bool {
    match item.location {
        "request.header" => is_credential_header(&item.field, api_key_headers),
        "request.query" => url_keys.iter().any(|k| k.eq_ignore_ascii_case(&item.field)),
        _ => false,
    }
}

/// Whether a request body carries a password: the request authenticates by its body (a
/// login), so a 2xx answer to it is not unauthenticated access.
fn sends_password(items: &[SensitiveItem]) -> bool {
    items
        .iter()
        .any(|s| s.location == "request.body" && s.kind == "password")
}

/// The findings one transaction shows (see the module docs). `api_key_headers`: the header
/// names the auth analyzer takes as API keys.
pub fn tx_findings<'a>(
    req: &Request,
    resp: Option<&Response>,
    inspection: &'a Inspection,
    api_key_headers: &[String],
) -> Vec<TxFinding<'a>> {
    let mut out = Vec::new();
    for w in &inspection.weaknesses {
        out.push(weakness_finding(w));
    }
    let url_keys: &[String] = inspection
        .auth
        .as_ref()
        .map_or(&[], |a| a.credentials_in_url.as_slice());
    for item in &inspection.sensitive {
        if is_credential_item(item, api_key_headers, url_keys) {
            continue;
        }
        let (fkind, key, owasp) = match item.location {
            "request.query" | "request.path" => (
                "sensitive_data_in_url",
                format!("sensitive_data_in_url:{}", item.kind),
                OWASP_API8,
            ),
            loc => (
                "sensitive_data_exposure",
                format!("sensitive_data_exposure:{}@{loc}", item.kind),
                OWASP_API3,
            ),
        };
        let severity = sensitive_severity(item);
        // One finding per key and transaction: the most severe item stands for it.
        match out.iter_mut().find(|f: &&mut TxFinding<'_>| f.key == key) {
            Some(f) if severity > f.severity => {
                f.severity = severity;
                f.evidence = Evidence::Sensitive(item);
            }
            Some(_) => {}
            None => out.push(TxFinding {
                key: Cow::Owned(key),
                kind: fkind,
                severity,
                owasp,
                evidence: Evidence::Sensitive(item),
            }),
        }
    }
    let no_credential = inspection
        .auth
        .as_ref()
        .is_some_and(|a| a.scheme == Scheme::None);
    if let (true, Some(resp)) = (no_credential, resp) {
        if (200..300).contains(&resp.status)
            && !req.method.eq_ignore_ascii_case("OPTIONS")
            && !sends_password(&inspection.sensitive)
        {
            let mut response_types: Vec<&str> = Vec::new();
            for s in inspection
                .sensitive
                .iter()
                .filter(|s| s.location.starts_with("response.") && !s.test_data)
            {
                if !response_types.contains(&s.kind.as_str()) {
                    response_types.push(&s.kind);
                }
            }
            out.push(TxFinding {
                key: Cow::Borrowed("unauthenticated_access"),
                kind: "unauthenticated_access",
                severity: if response_types.is_empty() {
                    Severity::Low
                } else {
                    Severity::High
                },
                owasp: OWASP_API2,
                evidence: Evidence::Unauthenticated {
                    status: resp.status,
                    response_types,
                },
            });
        }
    }
    out
}

fn weakness_finding(w: &Weakness) -> TxFinding<'_> {
    let kind = w.kind.name();
    TxFinding {
        key: Cow::Borrowed(kind),
        kind,
        severity: w.severity(),
        owasp: match w.owasp().id {
            "API3:2023" => OWASP_API3,
            "API8:2023" => OWASP_API8,
            _ => OWASP_API2,
        },
        evidence: Evidence::Map(&w.evidence),
    }
}

/// Auth schemes from weakest to strongest, as `weakest_auth` ranks them: no credential,
/// a password in cleartext, a key in the URL, an unknown scheme, a cookie, a key header,
/// challenge-response, a bearer token, a signed request.
const AUTH_RANK: &[&str] = &[
    "none",
    "basic",
    "api_key_query",
    "other",
    "cookie",
    "api_key_header",
    "digest",
    "bearer",
    "aws_sigv4",
];

/// The weakest authentication an endpoint accepted: `none` when it answered a request
/// without credentials (or saw nothing else), else the weakest credential scheme seen.
pub fn weakest_auth<'a>(
    schemes: impl IntoIterator<Item = &'a String>,
    unauthenticated: bool,
) -> Option<&'static str> {
    if unauthenticated {
        return Some("none");
    }
    let mut best: Option<usize> = None;
    let mut saw_none = false;
    for s in schemes {
        match AUTH_RANK.iter().position(|r| r == s) {
            Some(0) => saw_none = true,
            Some(i) => best = Some(best.map_or(i, |b| b.min(i))),
            None => {}
        }
    }
    match (best, saw_none) {
        (Some(i), _) => AUTH_RANK.get(i).copied(),
        (None, true) => Some("none"),
        (None, false) => None,
    }
}

/// The endpoint's risk score, 0 to 100, from its findings (kind and severity) and its
/// exposure: the sum of four parts, capped at 100.
/// - exposure: `internet` 25, `unknown` 10, `internal` 0;
/// - authentication, the worst of its findings: 30 for `unauthenticated_access` that is high,
///   `jwt_alg_none` that is critical (accepted), `jwt_weak_secret` or `jwt_expired`; 25 for
///   `basic_auth_cleartext`, `credentials_in_url` or `basic_auth_weak_password`; 20 for other
///   unauthenticated access; 15 for the other JWT findings and `credential_reuse`; else 0;
/// - sensitive data, by the most severe `sensitive_data_exposure` / `sensitive_data_in_url`:
///   critical 30, high 25, medium 15, low 5 (test data is `info`: 0); plus 5 when personal
///   data travels in URLs;
/// - inventory: 15 for `zombie_api`, 10 for `shadow_api`.
pub fn risk<'a>(findings: impl IntoIterator<Item = (&'a str, Severity)>, exposure: &str) -> u8 {
    let exposure = match exposure {
        "internet" => 25,
        "unknown" => 10,
        _ => 0,
    };
    let (mut auth, mut data, mut in_url, mut inventory) = (0u32, 0u32, 0u32, 0u32);
    for (kind, severity) in findings {
        let a = match kind {
            "unauthenticated_access" if severity >= Severity::High => 30,
            "unauthenticated_access" => 20,
            "jwt_alg_none" if severity >= Severity::Critical => 30,
            "jwt_weak_secret" | "jwt_expired" => 30,
            "basic_auth_cleartext" | "credentials_in_url" | "basic_auth_weak_password" => 25,
            "jwt_alg_none"
            | "jwt_no_expiry"
            | "jwt_weak_algorithm"
            | "jwt_long_lived"
            | "jwt_sensitive_claims"
            | "credential_reuse" => 15,
            _ => 0,
        };
        auth = auth.max(a);
        if matches!(kind, "sensitive_data_exposure" | "sensitive_data_in_url") {
            let d = match severity {
                Severity::Critical => 30,
                Severity::High => 25,
                Severity::Medium => 15,
                Severity::Low => 5,
                Severity::Info => 0,
            };
            data = data.max(d);
            if kind == "sensitive_data_in_url" && severity > Severity::Info {
                in_url = 5;
            }
        }
        inventory = inventory.max(match kind {
            "zombie_api" => 15,
            "shadow_api" => 10,
            _ => 0,
        });
    }
    (exposure + auth + data + in_url + inventory).min(100) as u8
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn finding<'a>(
        key: &'static str,
        severity: Severity,
        ev: &'a Map<String, Value>,
    ) -> TxFinding<'a> {
        TxFinding {
            key: Cow::Borrowed(key),
            kind: "jwt_alg_none",
            severity,
            owasp: OWASP_API2,
            evidence: Evidence::Map(ev),
        }
    }

    #[test]
    fn observations_sum_in_any_order() {
        let ev1: Map<String, Value> = json!({"status": 401}).as_object().unwrap().clone();
        let ev2: Map<String, Value> = json!({"status": 200}).as_object().unwrap().clone();
        let calls = [
            (finding("jwt_alg_none", Severity::Medium, &ev1), (5, 1, 0)),
            (finding("jwt_alg_none", Severity::Critical, &ev2), (9, 2, 0)),
            (finding("jwt_alg_none", Severity::Critical, &ev2), (7, 3, 1)),
            (finding("jwt_alg_none", Severity::Medium, &ev1), (3, 4, 0)),
        ];
        let mut results = Vec::new();
        for order in [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2]] {
            // Two workers' partial sums, folded.
            let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
            for (n, &i) in order.iter().enumerate() {
                let (f, tx) = &calls[i];
                let m = if n % 2 == 0 { &mut a } else { &mut b };
                assert!(observe(m, f, *tx));
            }
            fold_observations(&mut a, b);
            results.push(a);
        }
        assert!(results.windows(2).all(|w| w[0] == w[1]));
        let o = &results[0]["jwt_alg_none"];
        assert_eq!(o.count, 4);
        assert_eq!(o.severity, Severity::Critical);
        assert_eq!(o.first_seen, 3);
        // The earliest transaction at the highest severity gives the evidence.
        assert_eq!(o.first_tx, (7, 3, 1));
        assert_eq!(o.evidence["status"], 200);
    }

    #[test]
    fn observation_keys_are_capped() {
        let ev = Map::new();
        let mut m = BTreeMap::new();
        let keys: Vec<String> = (0..MAX_OBSERVATIONS + 3).map(|i| format!("k{i}")).collect();
        let mut refused = 0;
        for k in keys.iter().rev() {
            let f = TxFinding {
                key: Cow::Borrowed(k.as_str()),
                kind: "x",
                severity: Severity::Low,
                owasp: OWASP_API2,
                evidence: Evidence::Map(&ev),
            };
            refused += u32::from(!observe(&mut m, &f, (0, 0, 0)));
        }
        assert_eq!((m.len(), refused), (MAX_OBSERVATIONS, 3));
        // The keys that sort first are kept, whatever the order.
        let mut expect: Vec<&String> = keys.iter().collect();
        expect.sort();
        assert_eq!(m.keys().collect::<Vec<_>>(), expect[..MAX_OBSERVATIONS]);
    }

    #[test]
    fn credential_sample_keeps_the_smallest_in_any_order() {
        let fps: Vec<u64> = (0..200u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        let mut fwd = BTreeMap::new();
        for (i, f) in fps.iter().enumerate() {
            sample_credential(&mut fwd, *f, (i as u64, 0, 0));
        }
        let mut rev = BTreeMap::new();
        for (i, f) in fps.iter().enumerate().rev() {
            sample_credential(&mut rev, *f, (i as u64, 0, 0));
            sample_credential(&mut rev, *f, (i as u64 + 1000, 0, 0));
        }
        assert_eq!(fwd, rev);
        assert_eq!(fwd.len(), MAX_CREDENTIALS);
        let mut sorted = fps.clone();
        sorted.sort_unstable();
        assert_eq!(
            fwd.keys().copied().collect::<Vec<_>>(),
            sorted[..MAX_CREDENTIALS]
        );
    }

    #[test]
    fn weakest_auth_ranks_schemes() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(weakest_auth(&s(&["bearer", "basic"]), false), Some("basic"));
        assert_eq!(weakest_auth(&s(&["bearer", "none"]), false), Some("bearer"));
        assert_eq!(weakest_auth(&s(&["bearer"]), true), Some("none"));
        assert_eq!(weakest_auth(&s(&["none"]), false), Some("none"));
        assert_eq!(weakest_auth(&s(&[]), false), None);
        assert_eq!(
            weakest_auth(&s(&["aws_sigv4", "api_key_query"]), false),
            Some("api_key_query")
        );
    }

    #[test]
    fn risk_adds_its_parts_and_caps() {
        let none: [(&str, Severity); 0] = [];
        assert_eq!(risk(none, "internal"), 0);
        assert_eq!(risk(none, "internet"), 25);
        let mut f = vec![
            ("unauthenticated_access", Severity::High),
            ("sensitive_data_exposure", Severity::High),
        ];
        assert_eq!(risk(f.clone(), "internet"), 25 + 30 + 25);
        f.push(("sensitive_data_in_url", Severity::Medium));
        assert_eq!(risk(f.clone(), "internet"), 25 + 30 + 25 + 5);
        f.push(("zombie_api", Severity::High));
        assert_eq!(risk(f, "internet"), 100);
        // Test data alone scores nothing; a low unauthenticated endpoint scores 20.
        assert_eq!(
            risk([("sensitive_data_exposure", Severity::Info)], "internal"),
            0
        );
        assert_eq!(
            risk([("unauthenticated_access", Severity::Low)], "unknown"),
            30
        );
        assert_eq!(
            risk(
                [
                    ("jwt_alg_none", Severity::Medium),
                    ("shadow_api", Severity::High)
                ],
                "internal"
            ),
            15 + 10
        );
    }

    #[test]
    fn sensitive_severity_by_location() {
        let item = |t: DataType, loc: &'static str, test: bool| SensitiveItem {
            kind: t.name().into(),
            location: loc,
            field: "f".into(),
            redacted: "x".into(),
            test_data: test,
            count: 1,
            data_type: t,
        };
        assert_eq!(
            sensitive_severity(&item(DataType::UsSsn, "response.body", false)),
            Severity::High
        );
        assert_eq!(
            sensitive_severity(&item(DataType::UsSsn, "request.body", false)),
            Severity::Medium
        );
        assert_eq!(
            sensitive_severity(&item(DataType::Password, "request.body", false)),
            Severity::Critical
        );
        assert_eq!(
            sensitive_severity(&item(DataType::Email, "response.body", true)),
            Severity::Info
        );
    }
}
