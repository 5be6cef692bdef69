//! Any bytes as an HTTP exchange whose request and response are inspected for credentials
//! and sensitive values (bodies as JSON, form, multipart, text or sniffed): no panic, and
//! no raw value the unredacted inspection reports appears in the redacted one.
#![no_main]
use apitap::analyze::auth::AuthConfig;
use apitap::analyze::inspect::{InspectSetup, Inspector, RedactionKey};
use apitap::analyze::posture;
use apitap::analyze::sensitive::SensitiveConfig;
use apitap::http::{Chunk, Dir, HttpConfig, HttpFlow, Transaction};
use libfuzzer_sys::fuzz_target;

const TYPES: [Option<&str>; 6] = [
    Some("application/json"),
    Some("application/x-www-form-urlencoded"),
    Some("multipart/form-data; boundary=b"),
    Some("text/plain"),
    Some("application/xml"),
    None,
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    // The request is everything up to the first 0xff byte, the response the rest.
    let cut = rest.iter().position(|&b| b == 0xff).unwrap_or(rest.len());
    let (req, resp) = rest.split_at(cut);
    let resp = resp.get(1..).unwrap_or_default();
    let cfg = HttpConfig::default();
    let mut flow = HttpFlow::new(&cfg, false);
    flow.feed(Dir::ToServer, Chunk::Data(req), 1);
    flow.feed(Dir::ToClient, Chunk::Data(resp), 2);
    let mut txs = Vec::new();
    flow.finish(3, &mut txs);
    thread_local! {
        // (redacted, raw) inspectors, built once: compiling the detector is costly.
        static INSPECTORS: std::cell::RefCell<Option<(Inspector, Inspector)>> =
            std::cell::RefCell::new(setup());
    }
    INSPECTORS.with(|i| {
        let mut i = i.borrow_mut();
        if let Some((redacted, raw)) = i.as_mut() {
            check(sel, &txs, redacted, raw);
        }
    });
});

fn setup() -> Option<(Inspector, Inspector)> {
    let key = RedactionKey::from_bytes(b"fuzz redaction key 0123456789");
    let sensitive = SensitiveConfig {
        max_detections_per_tx: 16,
        max_json_depth: 16,
        ..SensitiveConfig::default()
    };
    let auth = AuthConfig::default();
    let redacted = InspectSetup::new(&sensitive, &auth, &key, false)
        .ok()?
        .inspector()
        .ok()?;
    let raw = InspectSetup::new(&sensitive, &auth, &key, true)
        .ok()?
        .inspector()
        .ok()?;
    Some((redacted, raw))
}

fn check(sel: u8, txs: &[Transaction], redacted: &mut Inspector, raw: &mut Inspector) {
    let ct = TYPES[usize::from(sel) % TYPES.len()];
    for tx in txs {
        let (q, s) = (tx.request.as_ref(), tx.response.as_ref());
        let a = raw.inspect(q, s, ct, ct, 1_767_225_600_000_000);
        let b = redacted.inspect(q, s, ct, ct, 1_767_225_600_000_000);
        assert_eq!(a.sensitive.len(), b.sensitive.len());
        // What the input can put in the output: fields and masks (a type or location name is
        // fixed vocabulary: a password `response` is not shown by `response.body`), and the
        // string values of the auth fields other than the scheme name.
        let shown: String = b
            .sensitive
            .iter()
            .map(|i| format!("{}\n{}\n", i.field, i.redacted))
            .collect();
        let auth = b
            .auth
            .as_ref()
            .and_then(|x| serde_json::to_value(x.event_fields()).ok())
            .map_or_else(String::new, |v| {
                let mut out = String::new();
                strings(&v, &mut out);
                out
            });
        // A JWT's mask keeps its header segment (algorithm and key id, no secret): a value
        // that is part of one is shown by design.
        let jwt_headers: Vec<&str> = a
            .sensitive
            .iter()
            .filter(|i| i.kind == "jwt")
            .filter_map(|i| i.redacted.split('.').next())
            .collect();
        for item in &a.sensitive {
            let v = item.redacted.as_str();
            if jwt_headers.iter().any(|h| h.contains(v.trim_matches('.'))) {
                continue;
            }
            if v.len() >= 8 && v.chars().any(|c| c.is_ascii_alphanumeric()) {
                assert!(!shown.contains(v), "raw value in sensitive[]");
                assert!(!auth.contains(v), "raw value in auth");
            }
        }
        if let Some(r) = q {
            let _ = posture::tx_findings(r, s, &b, &["x-api-key".to_string()]);
            let path = b.redact_path(&r.path);
            let query = r.query.as_deref().map(|x| b.redact_query(x)).unwrap_or_default();
            for item in a.sensitive.iter().filter(|i| i.location.starts_with("request.")) {
                let v = item.redacted.as_str();
                if v.len() >= 8 && !jwt_headers.iter().any(|h| h.contains(v.trim_matches('.'))) {
                    assert!(!path.contains(v), "raw value in http.path");
                    assert!(!query.contains(v), "raw value in http.query");
                }
            }
        }
    }
}

/// Every string value in `v` except the auth scheme's name (keys are fixed vocabulary).
fn strings(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                if k != "scheme" {
                    strings(x, out);
                }
            }
        }
        _ => {}
    }
}
