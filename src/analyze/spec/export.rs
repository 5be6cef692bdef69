//! OpenAPI 3.0.3 export of the discovered inventory.
//!
//! [`export_openapi`] turns [`ExportEndpoint`]s (host, method, template, what was seen) into
//! one OpenAPI 3.0.3 document that validates and that [`SpecSet::load`](super::SpecSet::load)
//! reads back so that `match_op` finds every exported endpoint. Choices:
//!
//! - Server URLs are `http://HOST`: a passive sensor sees the Host header, not whether the
//!   client used TLS (the sensor may see decrypted or mirrored plain traffic), so the scheme
//!   is a placeholder; the host is what matters for matching. An endpoint without a host
//!   gets the relative server `/` (any host).
//! - Top-level `servers` lists every host. A path item or operation served by fewer hosts
//!   gets its own `servers` (path item level when all its operations agree), and endpoints
//!   with the same template and method on several hosts become one operation.
//! - Templates that differ only in parameter names (`/u/{id}`, `/u/{userId}`) are one path
//!   (OpenAPI forbids both); the first seen names it. A repeated parameter name in one
//!   template is renamed (`{id}`, `{id2}`). Literal `%`, `{`, `}` are percent-encoded.
//! - Statuses outside 100–599 are folded into `default`; an operation with no response seen
//!   gets `default` with a description saying so.
//! - Methods OpenAPI cannot hold (anything but the eight path item methods) are listed under
//!   the top-level extension `x-apitap-skipped` instead of being dropped silently.
//!
//! The function never panics and its output size is linear in its input.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::load::METHODS;
use super::schema::Schema;
use super::{normalize_host, normalize_template, Piece, Segment};

/// One inventory endpoint to export.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportEndpoint {
    pub host: String,
    pub method: String,
    /// `/users/{userId}`.
    pub template: String,
    pub query_params: Vec<String>,
    pub request_content_type: Option<String>,
    pub request_schema: Option<Schema>,
    /// `(status, content type, body schema)`, one entry per status and content type seen.
    pub responses: Vec<(u16, Option<String>, Option<Schema>)>,
    pub deprecated: bool,
}

/// Media type used when a schema was seen without a content type.
const DEFAULT_MEDIA: &str = "application/json";

#[derive(Default)]
struct Group {
    hosts: BTreeSet<String>,
    query: Vec<String>,
    request: BTreeMap<String, Option<Schema>>,
    responses: BTreeMap<String, BTreeMap<String, Option<Schema>>>,
    response_keys: BTreeSet<String>,
    deprecated: bool,
}

struct PathEntry {
    /// The path key (the first template seen of this shape).
    key: String,
    /// Path parameter names, in order.
    params: Vec<String>,
    /// By index into [`METHODS`].
    ops: BTreeMap<usize, Group>,
}

/// The OpenAPI 3.0.3 document for the given endpoints.
pub fn export_openapi(title: &str, endpoints: &[ExportEndpoint]) -> Value {
    // shape key (param names blanked) -> entry, sorted by shape for a stable output.
    let mut paths: BTreeMap<String, PathEntry> = BTreeMap::new();
    let mut skipped: BTreeSet<String> = BTreeSet::new();
    for ep in endpoints {
        let method = ep.method.to_ascii_lowercase();
        let host = normalize_host(&ep.host);
        let (key, shape_key, params) = export_template(&ep.template);
        let Some(mi) = METHODS.iter().position(|m| *m == method) else {
            skipped.insert(format!("{} {} {}", ep.method, host, key));
            continue;
        };
        let entry = paths.entry(shape_key).or_insert_with(|| PathEntry {
            key,
            params,
            ops: BTreeMap::new(),
        });
        let g = entry.ops.entry(mi).or_default();
        g.hosts.insert(host);
        for q in &ep.query_params {
            if !q.is_empty() && !g.query.contains(q) {
                g.query.push(q.clone());
            }
        }
        if ep.request_content_type.is_some() || ep.request_schema.is_some() {
            let ct = ep
                .request_content_type
                .clone()
                .unwrap_or_else(|| DEFAULT_MEDIA.to_string());
            merge_media(&mut g.request, ct, ep.request_schema.as_ref());
        }
        for (status, ct, schema) in &ep.responses {
            let key = if (100..=599).contains(status) {
                status.to_string()
            } else {
                "default".to_string()
            };
            g.response_keys.insert(key.clone());
            let media = g.responses.entry(key).or_default();
            if ct.is_some() || schema.is_some() {
                let ct = ct.clone().unwrap_or_else(|| DEFAULT_MEDIA.to_string());
                merge_media(media, ct, schema.as_ref());
            }
        }
        g.deprecated |= ep.deprecated;
    }

    let all_hosts: BTreeSet<String> = paths
        .values()
        .flat_map(|e| e.ops.values())
        .flat_map(|g| g.hosts.iter().cloned())
        .collect();

    let mut used_ids: HashSet<String> = HashSet::new();
    let mut out_paths = Map::new();
    for entry in paths.into_values() {
        let mut item = Map::new();
        let host_sets: BTreeSet<&BTreeSet<String>> = entry.ops.values().map(|g| &g.hosts).collect();
        let path_hosts: Option<BTreeSet<String>> = match host_sets.iter().next() {
            Some(h) if host_sets.len() == 1 && **h != all_hosts => Some((*h).clone()),
            _ => None,
        };
        if let Some(h) = &path_hosts {
            item.insert("servers".into(), servers(h));
        }
        if !entry.params.is_empty() {
            let params: Vec<Value> = entry
                .params
                .iter()
                .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
                .collect();
            item.insert("parameters".into(), Value::Array(params));
        }
        for (mi, g) in entry.ops {
            let Some(method) = METHODS.get(mi) else {
                continue;
            };
            let mut op = Map::new();
            op.insert(
                "operationId".into(),
                Value::from(unique_id(&mut used_ids, method, &entry.key)),
            );
            if g.deprecated {
                op.insert("deprecated".into(), Value::Bool(true));
            }
            if path_hosts.is_none() && g.hosts != all_hosts {
                op.insert("servers".into(), servers(&g.hosts));
            }
            if !g.query.is_empty() {
                let qs: Vec<Value> = g
                    .query
                    .iter()
                    .map(|q| json!({"name": q, "in": "query", "required": false, "schema": {"type": "string"}}))
                    .collect();
                op.insert("parameters".into(), Value::Array(qs));
            }
            if !g.request.is_empty() {
                op.insert(
                    "requestBody".into(),
                    json!({"content": content(&g.request)}),
                );
            }
            let mut responses = Map::new();
            for key in &g.response_keys {
                let mut r = Map::new();
                let desc = if key == "default" {
                    "Observed response with an unusual status".to_string()
                } else {
                    format!("Observed {key} response")
                };
                r.insert("description".into(), Value::from(desc));
                if let Some(media) = g.responses.get(key).filter(|m| !m.is_empty()) {
                    r.insert("content".into(), content(media));
                }
                responses.insert(key.clone(), Value::Object(r));
            }
            if responses.is_empty() {
                responses.insert(
                    "default".into(),
                    json!({"description": "No response was observed"}),
                );
            }
            op.insert("responses".into(), Value::Object(responses));
            item.insert((*method).to_string(), Value::Object(op));
        }
        out_paths.insert(entry.key, Value::Object(item));
    }

    let mut doc = Map::new();
    doc.insert("openapi".into(), Value::from("3.0.3"));
    let title = if title.trim().is_empty() {
        "apitap inventory"
    } else {
        title
    };
    doc.insert(
        "info".into(),
        json!({
            "title": title,
            "version": "1.0.0",
            "description": "API inventory discovered by apitap from observed traffic. Server URLs use http:// because a passive sensor cannot tell the scheme the clients used."
        }),
    );
    if !all_hosts.is_empty() {
        doc.insert("servers".into(), servers(&all_hosts));
    }
    doc.insert("paths".into(), Value::Object(out_paths));
    if !skipped.is_empty() {
        doc.insert(
            "x-apitap-skipped".into(),
            Value::Array(skipped.into_iter().map(Value::from).collect()),
        );
    }
    Value::Object(doc)
}

fn merge_media(media: &mut BTreeMap<String, Option<Schema>>, ct: String, schema: Option<&Schema>) {
    let slot = media.entry(ct).or_default();
    match (slot.as_mut(), schema) {
        (Some(mine), Some(theirs)) => mine.merge(theirs),
        (None, Some(theirs)) => *slot = Some(theirs.clone()),
        (_, None) => {}
    }
}

fn content(media: &BTreeMap<String, Option<Schema>>) -> Value {
    let mut m = Map::new();
    for (ct, schema) in media {
        let v = match schema {
            Some(s) => json!({"schema": s.to_openapi()}),
            None => json!({}),
        };
        m.insert(ct.clone(), v);
    }
    Value::Object(m)
}

fn servers(hosts: &BTreeSet<String>) -> Value {
    Value::Array(
        hosts
            .iter()
            .map(|h| json!({"url": server_url(h)}))
            .collect(),
    )
}

/// `http://host`, or `/` (relative: any host) for an empty host. Characters that cannot
/// stand in a URL authority (or would read as a server variable) are percent-encoded.
fn server_url(host: &str) -> String {
    if host.is_empty() {
        return "/".to_string();
    }
    let mut out = String::from("http://");
    for c in host.chars() {
        if c.is_ascii_alphanumeric() || "-._~:[]!$&'()*+,;=".contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

fn escape_literal(l: &str) -> String {
    l.replace('%', "%25")
        .replace('{', "%7B")
        .replace('}', "%7D")
        .replace('?', "%3F")
        .replace('#', "%23")
}

/// The exported path key, its shape key (parameter names blanked) and its parameter names
/// (made non-empty and unique).
fn export_template(template: &str) -> (String, String, Vec<String>) {
    let template = template.split(['?', '#']).next().unwrap_or(template);
    let normalized = normalize_template(&[template]);
    let mut key = String::new();
    let mut shape = String::new();
    let mut params: Vec<String> = Vec::new();
    let param = |name: &str, params: &mut Vec<String>| -> String {
        let base: String = if name.trim().is_empty() {
            "param".to_string()
        } else {
            name.to_string()
        };
        let mut n = base.clone();
        let mut i = 2;
        while params.contains(&n) {
            n = format!("{base}{i}");
            i += 1;
        }
        params.push(n.clone());
        n
    };
    for seg in normalized.split('/').filter(|s| !s.is_empty()) {
        key.push('/');
        shape.push('/');
        match Segment::parse(seg) {
            Segment::Literal(l) => {
                let e = escape_literal(&l);
                key.push_str(&e);
                shape.push_str(&e);
            }
            Segment::Param(p) => {
                let n = param(&p, &mut params);
                key.push_str(&format!("{{{n}}}"));
                shape.push_str("{}");
            }
            Segment::Mixed(pieces) => {
                for piece in pieces {
                    match piece {
                        Piece::Literal(l) => {
                            let e = escape_literal(&l);
                            key.push_str(&e);
                            shape.push_str(&e);
                        }
                        Piece::Param(p) => {
                            let n = param(&p, &mut params);
                            key.push_str(&format!("{{{n}}}"));
                            shape.push_str("{}");
                        }
                    }
                }
            }
        }
    }
    if key.is_empty() {
        key.push('/');
        shape.push('/');
    }
    (key, shape, params)
}

/// `get_users_userId`, made unique with a numeric suffix.
fn unique_id(used: &mut HashSet<String>, method: &str, key: &str) -> String {
    let mut base = String::from(method);
    let mut last_us = false;
    for c in key.chars() {
        if c.is_ascii_alphanumeric() {
            if !last_us && base.len() == method.len() {
                base.push('_');
            }
            base.push(c);
            last_us = false;
        } else if !last_us && base.len() > method.len() {
            base.push('_');
            last_us = true;
        }
    }
    let mut base = base.trim_end_matches('_').to_string();
    if base == method {
        base.push_str("_root");
    }
    let mut id = base.clone();
    let mut i = 2;
    while used.contains(&id) {
        id = format!("{base}_{i}");
        i += 1;
    }
    used.insert(id.clone());
    id
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::SpecSet;
    use super::*;
    use std::path::PathBuf;

    fn ep(host: &str, method: &str, template: &str) -> ExportEndpoint {
        ExportEndpoint {
            host: host.into(),
            method: method.into(),
            template: template.into(),
            ..ExportEndpoint::default()
        }
    }

    fn sample() -> Vec<ExportEndpoint> {
        let user = Schema::infer(&json!({"id": 1, "email": "a@b.c", "tags": ["x"], "note": null}));
        let mut e1 = ep("api.example.com", "GET", "/users/{userId}");
        e1.query_params = vec!["fields".into(), "expand".into()];
        e1.responses = vec![
            (200, Some("application/json".into()), Some(user.clone())),
            (404, Some("application/problem+json".into()), None),
            (304, None, None),
        ];
        let mut e2 = ep("api.example.com", "POST", "/users");
        e2.request_content_type = Some("application/json".into());
        e2.request_schema = Some(user.clone());
        e2.responses = vec![(201, Some("application/json".into()), Some(user))];
        let mut e3 = ep("legacy.example.com", "GET", "/users/{id}");
        e3.deprecated = true;
        e3.responses = vec![(200, None, None), (999, None, None)];
        vec![
            e1,
            e2,
            e3,
            ep("api.example.com", "GET", "/users/me"),
            ep("api.example.com", "GET", "/files/{name}.json"),
            ep("legacy.example.com", "DELETE", "/a/{id}/b/{id}"),
            ep("files.example.com:8080", "PUT", "/files/{name}.json"),
            ep("", "GET", "/health"),
            ep("api.example.com", "PROPFIND", "/dav"),
            ep("api.example.com", "GET", "/"),
            ep("api.example.com", "GET", "/odd/100%/{}/a{b"),
        ]
    }

    #[test]
    fn document_structure() {
        let doc = export_openapi("Inventory", &sample());
        assert_eq!(doc["openapi"], "3.0.3");
        assert_eq!(doc["info"]["title"], "Inventory");
        let servers: Vec<&str> = doc["servers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["url"].as_str().unwrap())
            .collect();
        assert_eq!(
            servers,
            vec![
                "/",
                "http://api.example.com",
                "http://files.example.com:8080",
                "http://legacy.example.com"
            ]
        );
        let paths = doc["paths"].as_object().unwrap();
        // `/users/{id}` from the legacy host merged into `/users/{userId}`.
        assert!(paths.contains_key("/users/{userId}"));
        assert!(!paths.contains_key("/users/{id}"));
        let get = &paths["/users/{userId}"]["get"];
        // One operation for both hosts; its path item holds only it, so `servers` is there.
        assert_eq!(
            paths["/users/{userId}"]["servers"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert!(get.get("servers").is_none());
        assert_eq!(get["deprecated"], true);
        assert_eq!(get["parameters"][0]["name"], "fields");
        let responses = get["responses"].as_object().unwrap();
        assert_eq!(
            responses.keys().collect::<Vec<_>>(),
            vec!["200", "304", "404", "default"]
        );
        assert_eq!(
            get["responses"]["200"]["content"]["application/json"]["schema"]["type"],
            "object"
        );
        assert_eq!(
            paths["/users/{userId}"]["parameters"][0],
            json!({"name": "userId", "in": "path", "required": true, "schema": {"type": "string"}})
        );
        // Duplicate names renamed.
        assert!(paths.contains_key("/a/{id}/b/{id2}"));
        // Path-level servers when all operations of a path share hosts.
        assert!(paths["/a/{id}/b/{id2}"]["servers"].is_array());
        assert!(paths["/a/{id}/b/{id2}"]["delete"].get("servers").is_none());
        // No response seen: default.
        assert!(paths["/users/me"]["get"]["responses"]["default"]["description"].is_string());
        assert_eq!(
            paths["/users"]["post"]["requestBody"]["content"]["application/json"]["schema"]
                ["properties"]["email"]["type"],
            "string"
        );
        assert!(paths.contains_key("/odd/100%25/{param}/a%7Bb"));
        assert_eq!(
            doc["x-apitap-skipped"],
            json!(["PROPFIND api.example.com /dav"])
        );
        // Unique operation ids.
        let mut ids = HashSet::new();
        for item in paths.values() {
            for (k, op) in item.as_object().unwrap() {
                if METHODS.contains(&k.as_str()) {
                    assert!(ids.insert(op["operationId"].as_str().unwrap().to_string()));
                }
            }
        }
        assert!(ids.contains("get_users_userId"));
        assert!(ids.contains("get_root"));
    }

    #[test]
    fn round_trip_through_loader() {
        let endpoints = sample();
        let doc = export_openapi("rt", &endpoints);
        let text = serde_json::to_string_pretty(&doc).unwrap();
        let set = SpecSet::load(&[("export.json".into(), text)], None).unwrap();
        assert!(set.warnings.is_empty(), "{:?}", set.warnings);
        for e in &endpoints {
            if e.method == "PROPFIND" {
                continue;
            }
            let host = normalize_host(&e.host);
            let by_template = set.match_template(&host, &e.method, &e.template);
            assert!(
                by_template.is_some(),
                "template {} {} {}",
                host,
                e.method,
                e.template
            );
            // A concrete request path: each parameter replaced by a value.
            let concrete: String = e
                .template
                .split('/')
                .map(|s| match Segment::parse(s) {
                    Segment::Param(_) => "v42".to_string(),
                    Segment::Mixed(p) => p
                        .iter()
                        .map(|x| match x {
                            Piece::Literal(l) => l.clone(),
                            Piece::Param(_) => "v42".to_string(),
                        })
                        .collect(),
                    Segment::Literal(_) => s.to_string(),
                })
                .collect::<Vec<_>>()
                .join("/");
            let op = set
                .match_op(&host, &e.method, &concrete)
                .unwrap_or_else(|| panic!("path {host} {} {concrete}", e.method));
            assert_eq!(op.method, e.method);
            // The op is restricted to hosts that include this one (or any host).
            assert!(
                op.hosts.is_empty() || op.hosts.contains(&host),
                "{:?}",
                op.hosts
            );
        }
        // Restrictions hold: the legacy-only DELETE is not on api.example.com.
        assert!(set
            .match_op("api.example.com", "DELETE", "/a/1/b/2")
            .is_none());
        assert!(set
            .match_op("legacy.example.com", "DELETE", "/a/1/b/2")
            .is_some());
        // The hostless endpoint is valid for any host.
        assert!(set.match_op("anything.example", "GET", "/health").is_some());
        // The documented statuses round-trip.
        let op = set.match_op("api.example.com", "GET", "/users/7").unwrap();
        assert!(op.documents_status(404));
        assert!(op.documents_status(999));
        assert!(op.documents_query("fields"));
        let post = set.match_op("api.example.com", "POST", "/users").unwrap();
        assert!(post.documents_field("$.tags"));
        assert!(post.documents_field("$.email"));
        assert!(!post.documents_field("$.password"));
    }

    #[test]
    fn empty_inventory_is_a_valid_document() {
        let doc = export_openapi("", &[]);
        assert_eq!(doc["info"]["title"], "apitap inventory");
        assert_eq!(doc["paths"], json!({}));
        assert!(doc.get("servers").is_none());
        let text = doc.to_string();
        let set = SpecSet::load(&[("e.json".into(), text)], None).unwrap();
        assert!(set.is_empty());
    }

    #[test]
    fn ids_and_urls() {
        let mut used = HashSet::new();
        assert_eq!(
            unique_id(&mut used, "get", "/users/{userId}"),
            "get_users_userId"
        );
        assert_eq!(
            unique_id(&mut used, "get", "/users/{userId}"),
            "get_users_userId_2"
        );
        assert_eq!(unique_id(&mut used, "get", "/"), "get_root");
        assert_eq!(
            unique_id(&mut used, "post", "/a-b/{c}.json"),
            "post_a_b_c_json"
        );
        assert_eq!(
            server_url("api.example.com:8080"),
            "http://api.example.com:8080"
        );
        assert_eq!(server_url("{evil} host"), "http://%7Bevil%7D%20host");
        assert_eq!(server_url(""), "/");
    }

    pub(crate) fn validator() -> Option<PathBuf> {
        let local =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/openapi-spec-validator");
        if local.is_file() {
            return Some(local);
        }
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join("openapi-spec-validator"))
                .find(|p| p.is_file())
        })
    }

    #[test]
    fn export_passes_openapi_spec_validator() {
        let Some(bin) = validator() else {
            // CI installs the validator and sets this: there the check cannot be skipped.
            assert!(
                std::env::var_os("APITAP_REQUIRE_VALIDATOR").is_none(),
                "openapi-spec-validator not found but APITAP_REQUIRE_VALIDATOR is set"
            );
            eprintln!("openapi-spec-validator not found; skipping the external validation");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let mut endpoints = sample();
        // Add bodies with every type mix the schema export can produce.
        let mut odd = Schema::infer(&json!({"a": 1, "b": [1, "x", null], "c": {}}));
        odd.merge(&Schema::infer(&json!("text")));
        odd.merge(&Schema::infer(&json!(null)));
        let mut e = ep("api.example.com", "PATCH", "/things/{id}");
        e.request_schema = Some(odd.clone());
        e.responses = vec![
            (200, Some("application/json".into()), Some(odd)),
            (0, None, None),
        ];
        endpoints.push(e);
        for (i, doc) in [export_openapi("t", &endpoints), export_openapi("", &[])]
            .iter()
            .enumerate()
        {
            let file = dir.path().join(format!("export{i}.json"));
            std::fs::write(&file, serde_json::to_string_pretty(doc).unwrap()).unwrap();
            let out = std::process::Command::new(&bin)
                .arg(&file)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "validator failed on export{i}: {stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(stdout.contains("OK"), "{stdout}");
        }
    }
}
