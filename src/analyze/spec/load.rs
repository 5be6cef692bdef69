//! Spec reader: OpenAPI 3.0 / 3.1 and Swagger 2.0 documents, JSON or YAML, into
//! [`Operation`]s.
//!
//! The format is told by content (JSON when the first non-space character is `{`, YAML
//! otherwise) and the version by the `openapi` / `swagger` field. Only an unreadable file, a
//! parse error, a top level that is not an object or an unknown version is an error; every
//! other defect is a warning (naming the file and the JSON location) and that part is
//! skipped, or, for request bodies, taken as open so that it documents more rather than less.
//!
//! YAML crate: `yaml_serde` 0.10 (the serde_yaml fork maintained by the YAML organization,
//! github.com/yaml/yaml-serde; MSRV 1.82, within apitap's 1.85; serde-compatible, so specs
//! read into the same JSON values as JSON specs). `serde_yaml` is archived; `serde_yaml_ng`
//! (last release May 2024) still sits on the archived `unsafe-libyaml`; `serde_norway` has
//! had no release since December 2024; `serde-saphyr` 2.x needs Rust 1.89. Its parser,
//! `libyaml-rs`, is libyaml transpiled to (internally unsafe) Rust, the same code serde_yaml
//! ran on, now maintained by the YAML organization; this module itself has no `unsafe`.
//! `yaml_serde` keeps serde_yaml's guards against hostile input (a recursion limit of 128
//! and a cap on alias expansion, the "billion laughs"), and its `Value` lets us turn
//! non-string mapping keys (`200:`) into strings and apply `<<` merge keys.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use serde_json::{Map, Value};

use super::{
    normalize_host, normalize_template, template_segments, Operation, SpecError, SpecLimits,
};

/// The eight HTTP methods an OpenAPI path item can hold.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Longest piece of an unknown version string quoted in an error.
const MAX_QUOTED: usize = 64;

/// Spec dialect, from the `openapi` / `swagger` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    Swagger2,
    OpenApi30,
    OpenApi31,
}

/// Reads one spec file, refusing files over `limits.max_file_bytes`.
pub fn read_file(path: &Path, limits: &SpecLimits) -> Result<(String, String), SpecError> {
    let origin = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|source| SpecError::Read {
        origin: origin.clone(),
        source,
    })?;
    if meta.len() > limits.max_file_bytes as u64 {
        return Err(SpecError::TooLarge {
            origin,
            len: meta.len(),
            limit: limits.max_file_bytes,
        });
    }
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((origin, text)),
        Err(source) => Err(SpecError::Read { origin, source }),
    }
}

/// Parses a spec text into JSON values (YAML is converted: non-string keys become strings,
/// merge keys are applied, tags are dropped, NaN and infinities become `null`).
pub fn parse_document(origin: &str, text: &str, limits: &SpecLimits) -> Result<Value, SpecError> {
    if text.len() > limits.max_file_bytes {
        return Err(SpecError::TooLarge {
            origin: origin.to_string(),
            len: text.len() as u64,
            limit: limits.max_file_bytes,
        });
    }
    let body = text.trim_start_matches('\u{feff}').trim_start();
    if body.starts_with('{') {
        return serde_json::from_str(body).map_err(|e| SpecError::Json {
            origin: origin.to_string(),
            reason: e.to_string(),
        });
    }
    let yaml_err = |e: yaml_serde::Error| SpecError::Yaml {
        origin: origin.to_string(),
        reason: e.to_string(),
    };
    let mut y: yaml_serde::Value = yaml_serde::from_str(body).map_err(yaml_err)?;
    y.apply_merge().map_err(yaml_err)?;
    Ok(yaml_to_json(y, 0))
}

/// Depth past which YAML nodes are dropped (the parser already refuses 128 levels).
const MAX_YAML_DEPTH: usize = 256;

fn yaml_to_json(v: yaml_serde::Value, depth: usize) -> Value {
    use yaml_serde::Value as Y;
    if depth > MAX_YAML_DEPTH {
        return Value::Null;
    }
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::from(u)
            } else if let Some(i) = n.as_i64() {
                Value::from(i)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(seq) => Value::Array(
            seq.into_iter()
                .map(|x| yaml_to_json(x, depth + 1))
                .collect(),
        ),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_string(),
                    // Sequences, mappings or tagged values as keys mean nothing in a spec.
                    _ => continue,
                };
                out.insert(key, yaml_to_json(v, depth + 1));
            }
            Value::Object(out)
        }
        Y::Tagged(t) => yaml_to_json(t.value, depth + 1),
    }
}

fn scalar_text(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    truncate(&s, MAX_QUOTED)
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// The spec version, or [`SpecError::UnsupportedVersion`].
pub fn detect_version(origin: &str, root: &Map<String, Value>) -> Result<Version, SpecError> {
    let unsupported = |found: String| SpecError::UnsupportedVersion {
        origin: origin.to_string(),
        found,
    };
    if let Some(v) = root.get("openapi") {
        let s = scalar_text(v);
        let minor = |p: &str| s == p || s.strip_prefix(p).is_some_and(|r| r.starts_with('.'));
        return if v.is_string() || v.is_number() {
            if minor("3.0") {
                Ok(Version::OpenApi30)
            } else if minor("3.1") {
                Ok(Version::OpenApi31)
            } else {
                Err(unsupported(format!("openapi {s}")))
            }
        } else {
            Err(unsupported(format!("openapi {s}")))
        };
    }
    if let Some(v) = root.get("swagger") {
        let s = scalar_text(v);
        return if (v.is_string() || v.is_number()) && (s == "2.0" || s == "2") {
            Ok(Version::Swagger2)
        } else {
            Err(unsupported(format!("swagger {s}")))
        };
    }
    Err(unsupported(
        "none (no `openapi` or `swagger` field)".to_string(),
    ))
}

/// Warnings, de-duplicated and capped; past the cap they are only counted.
struct Warnings {
    list: Vec<String>,
    seen: HashSet<String>,
    dropped: usize,
    cap: usize,
}

impl Warnings {
    fn new(cap: usize) -> Self {
        Warnings {
            list: Vec::new(),
            seen: HashSet::new(),
            dropped: 0,
            cap,
        }
    }

    fn push(&mut self, w: String) {
        if self.seen.contains(&w) {
            return;
        }
        if self.list.len() >= self.cap {
            self.dropped += 1;
            return;
        }
        self.seen.insert(w.clone());
        self.list.push(w);
    }

    fn finish(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.list
                .push(format!("{} more warnings not shown", self.dropped));
        }
        self.list
    }
}

/// Loads every file; the first file that cannot be loaded at all stops the load.
pub(super) fn load_operations(
    files: &[(String, String)],
    host_override: Option<&str>,
    limits: &SpecLimits,
) -> Result<(Vec<Operation>, Vec<String>), SpecError> {
    let mut ops = Vec::new();
    let mut warnings = Warnings::new(limits.max_warnings);
    let host_override = host_override.map(normalize_host);
    for (origin, text) in files {
        let doc = parse_document(origin, text, limits)?;
        let Value::Object(root) = &doc else {
            return Err(SpecError::NotAnObject {
                origin: origin.clone(),
            });
        };
        let version = detect_version(origin, root)?;
        let mut file = FileLoader {
            origin,
            root: &doc,
            version,
            limits,
            warnings: &mut warnings,
            host_override: host_override.as_deref(),
        };
        file.load(&mut ops);
    }
    Ok((ops, warnings.finish()))
}

/// Where an operation applies: a base path and its hosts (empty = any host).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Base {
    path: String,
    hosts: Vec<String>,
}

struct FileLoader<'a, 'w> {
    origin: &'a str,
    root: &'a Value,
    version: Version,
    limits: &'a SpecLimits,
    warnings: &'w mut Warnings,
    host_override: Option<&'a str>,
}

/// What one operation documents, before it is copied per base path.
/// A path key without what follows `?` or `#`, and the names of the query parameters
/// written after `?` (`a={a}&b` gives `a` and `b`).
fn split_path_key(key: &str) -> (&str, Vec<&str>) {
    let path_end = key.find(['?', '#']).unwrap_or(key.len());
    let path = key.get(..path_end).unwrap_or(key);
    let query = key
        .get(path_end..)
        .and_then(|r| r.strip_prefix('?'))
        .map(|q| q.split('#').next().unwrap_or(""))
        .unwrap_or("");
    let names = query
        .split('&')
        .filter_map(|kv| kv.split('=').next())
        .filter(|n| !n.is_empty())
        .collect();
    (path, names)
}

#[derive(Default)]
struct Documented {
    query: BTreeSet<String>,
    query_open: bool,
    body: bool,
    fields: Fields,
    statuses: BTreeSet<String>,
}

impl<'a> FileLoader<'a, '_> {
    fn warn(&mut self, at: &str, what: &str) {
        self.warnings
            .push(format!("{}: {}: {}", self.origin, at, what));
    }

    fn load(&mut self, ops: &mut Vec<Operation>) {
        let root = self.root;
        let top_bases = match self.version {
            Version::Swagger2 => self.swagger_base(),
            _ => root
                .get("servers")
                .and_then(|s| self.servers(s, "servers"))
                .unwrap_or_else(|| vec![any_base("")]),
        };
        let key_params = self.query_api_keys();
        let paths = match root.get("paths") {
            Some(Value::Object(p)) => p,
            Some(_) => {
                self.warn("paths", "not an object");
                return;
            }
            None => {
                if self.version != Version::OpenApi31 {
                    self.warn("paths", "missing");
                }
                return;
            }
        };
        for (key, item) in paths {
            if key.starts_with("x-") {
                continue;
            }
            let at = format!("paths.{key}");
            // Some published descriptions (converted from other formats) write the query
            // into the path key: `/v3/search?term={term}&amount={amount}`. The path is what
            // is matched; the names are documented query parameters.
            let (key_path, key_query) = split_path_key(key);
            let Some(item) = self.deref(item, &at) else {
                continue;
            };
            let Value::Object(item) = item else {
                self.warn(&at, "path item is not an object");
                continue;
            };
            let path_bases = match (self.version, item.get("servers")) {
                (Version::Swagger2, _) | (_, None) => None,
                (_, Some(s)) => self.servers(s, &format!("{at}.servers")),
            };
            let path_params = self.params(item.get("parameters"), &format!("{at}.parameters"));
            for method in METHODS {
                let Some(op) = item.get(method) else {
                    continue;
                };
                let at = format!("{at}.{method}");
                let Value::Object(op) = op else {
                    self.warn(&at, "operation is not an object");
                    continue;
                };
                let op_bases = match (self.version, op.get("servers")) {
                    (Version::Swagger2, _) | (_, None) => None,
                    (_, Some(s)) => self.servers(s, &format!("{at}.servers")),
                };
                let bases = op_bases
                    .as_ref()
                    .or(path_bases.as_ref())
                    .unwrap_or(&top_bases);
                let mut params = path_params.clone();
                params.extend(self.params(op.get("parameters"), &format!("{at}.parameters")));
                let mut doc = self.documented(op, &params, &at);
                doc.query.extend(key_params.iter().cloned());
                doc.query.extend(key_query.iter().map(|q| q.to_string()));
                for base in bases {
                    if ops.len() >= self.limits.max_operations {
                        self.warn(
                            &at,
                            &format!(
                                "operation limit {} reached, the rest is skipped",
                                self.limits.max_operations
                            ),
                        );
                        return;
                    }
                    let template = normalize_template(&[&base.path, key_path]);
                    let segments = template_segments(&template);
                    if segments.len() > self.limits.max_template_segments {
                        self.warn(
                            &at,
                            &format!(
                                "template has {} segments, over the limit of {}; skipped",
                                segments.len(),
                                self.limits.max_template_segments
                            ),
                        );
                        continue;
                    }
                    let hosts = match self.host_override {
                        Some(h) => vec![h.to_string()],
                        None => base.hosts.clone(),
                    };
                    ops.push(Operation {
                        origin: self.origin.to_string(),
                        method: method.to_ascii_uppercase(),
                        template,
                        segments,
                        hosts,
                        operation_id: op
                            .get("operationId")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        deprecated: op
                            .get("deprecated")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                        query_params: doc.query.clone(),
                        query_open: doc.query_open,
                        request_body_documented: doc.body,
                        request_fields: doc.fields.fields.clone(),
                        request_open: doc.fields.open.clone(),
                        request_truncated: doc.fields.truncated,
                        response_statuses: doc.statuses.clone(),
                    });
                }
            }
        }
    }

    /// Query parameters, request body fields and response statuses of one operation.
    fn documented(
        &mut self,
        op: &'a Map<String, Value>,
        params: &[&'a Map<String, Value>],
        at: &str,
    ) -> Documented {
        let mut doc = Documented::default();
        let mut fields = FieldWalker::new(self.root, self.limits);
        for p in params {
            let name = p.get("name").and_then(Value::as_str);
            match p.get("in").and_then(Value::as_str) {
                Some("query") => {
                    let Some(name) = name else {
                        self.warn(at, "query parameter without a name");
                        continue;
                    };
                    doc.query.insert(name.to_string());
                    if self.version != Version::Swagger2 {
                        self.object_query(p, name, &mut doc, at);
                    }
                }
                Some("body") if self.version == Version::Swagger2 => {
                    doc.body = true;
                    match p.get("schema") {
                        Some(s) => fields.walk(s, "$", 0),
                        None => fields.open("$"),
                    }
                }
                Some("formData") if self.version == Version::Swagger2 => {
                    doc.body = true;
                    match name {
                        Some(n) => fields.field(&format!("$.{n}")),
                        None => self.warn(at, "formData parameter without a name"),
                    }
                }
                Some(_) => {}
                None => self.warn(at, "parameter without `in`"),
            }
        }
        if self.version != Version::Swagger2 {
            if let Some(rb) = op.get("requestBody") {
                let rat = format!("{at}.requestBody");
                if let Some(rb) = self.deref(rb, &rat) {
                    doc.body = true;
                    match rb.get("content") {
                        Some(Value::Object(content)) if !content.is_empty() => {
                            for media in content.values() {
                                match media.get("schema") {
                                    Some(s) => fields.walk(s, "$", 0),
                                    None => fields.open("$"),
                                }
                            }
                        }
                        Some(Value::Object(_)) | None => fields.open("$"),
                        Some(_) => {
                            self.warn(&rat, "content is not an object");
                            fields.open("$");
                        }
                    }
                }
            }
        }
        for p in std::mem::take(&mut fields.problems) {
            self.warn(at, &p);
        }
        doc.fields = fields.out;
        match op.get("responses") {
            Some(Value::Object(r)) => {
                doc.statuses = r.keys().filter(|k| !k.starts_with("x-")).cloned().collect();
            }
            Some(_) => self.warn(at, "responses is not an object"),
            None => {}
        }
        doc
    }

    /// OpenAPI 3 object query parameters: `form` + `explode` (the default) sends each
    /// property as its own key, `deepObject` sends `name[prop]`. Without listed properties
    /// any key is documented.
    fn object_query(
        &mut self,
        p: &'a Map<String, Value>,
        name: &str,
        doc: &mut Documented,
        at: &str,
    ) {
        let Some(schema) = p.get("schema") else {
            return;
        };
        let Some(schema) = self.deref(schema, at) else {
            return;
        };
        let is_object = match schema.get("type") {
            Some(Value::String(t)) => t == "object",
            Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
            _ => schema.get("properties").is_some(),
        };
        if !is_object {
            return;
        }
        let style = p.get("style").and_then(Value::as_str).unwrap_or("form");
        let explode = p
            .get("explode")
            .and_then(Value::as_bool)
            .unwrap_or(style == "form");
        let props: Vec<&String> = match schema.get("properties") {
            Some(Value::Object(m)) => m.keys().collect(),
            _ => Vec::new(),
        };
        match style {
            "form" if explode => {
                if props.is_empty() {
                    doc.query_open = true;
                }
                doc.query.extend(props.into_iter().cloned());
            }
            "deepObject" => {
                if props.is_empty() {
                    doc.query_open = true;
                }
                doc.query
                    .extend(props.into_iter().map(|k| format!("{name}[{k}]")));
            }
            _ => {}
        }
    }

    /// Follows a chain of local `$ref`s; `None` (with a warning) when one cannot be resolved.
    fn deref(&mut self, v: &'a Value, at: &str) -> Option<&'a Value> {
        let mut v = v;
        for _ in 0..=self.limits.max_schema_depth {
            match v.get("$ref") {
                None => return Some(v),
                Some(Value::String(r)) => match resolve_ref(self.root, r) {
                    Some(target) => v = target,
                    None => {
                        self.warn(at, &format!("unresolved $ref {}", truncate(r, 200)));
                        return None;
                    }
                },
                Some(_) => {
                    self.warn(at, "$ref is not a string");
                    return None;
                }
            }
        }
        self.warn(at, "too many $ref hops (a cycle?)");
        None
    }

    /// A `parameters` list, each resolved; bad entries are skipped with a warning.
    fn params(&mut self, v: Option<&'a Value>, at: &str) -> Vec<&'a Map<String, Value>> {
        let mut out = Vec::new();
        let items = match v {
            None => return out,
            Some(Value::Array(a)) => a,
            Some(_) => {
                self.warn(at, "not an array");
                return out;
            }
        };
        for (i, p) in items.iter().enumerate() {
            let pat = format!("{at}[{i}]");
            match self.deref(p, &pat) {
                Some(Value::Object(m)) => out.push(m),
                Some(_) => self.warn(&pat, "parameter is not an object"),
                None => {}
            }
        }
        out
    }

    /// Names of `apiKey` security schemes sent in the query: documented on every operation.
    fn query_api_keys(&mut self) -> Vec<String> {
        let schemes = match self.version {
            Version::Swagger2 => self.root.get("securityDefinitions"),
            _ => self
                .root
                .get("components")
                .and_then(|c| c.get("securitySchemes")),
        };
        let Some(Value::Object(schemes)) = schemes else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, s) in schemes {
            let Some(s) = self.deref(s, &format!("securitySchemes.{k}")) else {
                continue;
            };
            if s.get("type").and_then(Value::as_str) == Some("apiKey")
                && s.get("in").and_then(Value::as_str) == Some("query")
            {
                if let Some(n) = s.get("name").and_then(Value::as_str) {
                    out.push(n.to_string());
                }
            }
        }
        out
    }

    /// Swagger 2: `host` (any host when absent) and `basePath`.
    fn swagger_base(&mut self) -> Vec<Base> {
        let host = match self.root.get("host") {
            None => None,
            Some(Value::String(h)) => Some(normalize_host(h)).filter(|h| !h.is_empty()),
            Some(_) => {
                self.warn("host", "not a string");
                None
            }
        };
        let base = match self.root.get("basePath") {
            None => "",
            Some(Value::String(b)) => b.as_str(),
            Some(_) => {
                self.warn("basePath", "not a string");
                ""
            }
        };
        vec![Base {
            path: normalize_base(base),
            hosts: host.into_iter().collect(),
        }]
    }

    /// OpenAPI 3 `servers`: one [`Base`] per distinct base path, with the hosts that serve
    /// it. `None` when the list gives nothing usable (the caller falls back to the outer
    /// level).
    fn servers(&mut self, v: &'a Value, at: &str) -> Option<Vec<Base>> {
        let Value::Array(list) = v else {
            self.warn(at, "not an array");
            return None;
        };
        // base path -> (any host, hosts), in first-seen order.
        let mut groups: Vec<(String, bool, BTreeSet<String>)> = Vec::new();
        for (i, s) in list.iter().enumerate() {
            let sat = format!("{at}[{i}]");
            let Some(url) = s.get("url").and_then(Value::as_str) else {
                self.warn(&sat, "server without a url");
                continue;
            };
            let vars = s.get("variables").and_then(Value::as_object);
            for url in self.expand_url(url, vars, &sat) {
                let (host, path) = split_server_url(&url);
                let path = normalize_base(&path);
                let pos = match groups.iter().position(|g| g.0 == path) {
                    Some(p) => p,
                    None => {
                        groups.push((path, false, BTreeSet::new()));
                        groups.len() - 1
                    }
                };
                if let Some(g) = groups.get_mut(pos) {
                    match host {
                        Some(h) => {
                            g.2.insert(h);
                        }
                        None => g.1 = true,
                    }
                }
            }
        }
        if groups.is_empty() {
            return None;
        }
        Some(
            groups
                .into_iter()
                .map(|(path, any, hosts)| Base {
                    path,
                    hosts: if any {
                        Vec::new()
                    } else {
                        hosts.into_iter().collect()
                    },
                })
                .collect(),
        )
    }

    /// Substitutes server variables: each `{name}` takes its `default`, then its `enum`
    /// values, up to `max_server_variants` URLs. A variable without a value stays as
    /// written (in the path it then matches any segment; in the host it means any host).
    fn expand_url(
        &mut self,
        url: &str,
        vars: Option<&Map<String, Value>>,
        at: &str,
    ) -> Vec<String> {
        let cap = self.limits.max_server_variants.max(1);
        let mut variants = vec![String::new()];
        let mut rest = url;
        let mut capped = false;
        while !rest.is_empty() {
            let Some((open, close)) = rest
                .find('{')
                .and_then(|o| rest[o..].find('}').map(|c| (o, o + c)))
            else {
                variants.iter_mut().for_each(|v| v.push_str(rest));
                break;
            };
            let lit = &rest[..open];
            let name = &rest[open + 1..close];
            variants.iter_mut().for_each(|v| v.push_str(lit));
            let mut values: Vec<String> = Vec::new();
            if let Some(var) = vars.and_then(|m| m.get(name)) {
                if let Some(d) = var.get("default").filter(|d| !d.is_null()) {
                    values.push(scalar_text(d));
                }
                if let Some(Value::Array(e)) = var.get("enum") {
                    for x in e {
                        let x = scalar_text(x);
                        if !values.contains(&x) {
                            values.push(x);
                        }
                    }
                }
            }
            if values.is_empty() {
                self.warn(at, &format!("server variable {{{name}}} has no default"));
                values.push(format!("{{{name}}}"));
            }
            let mut next = Vec::new();
            'outer: for v in &variants {
                for x in &values {
                    if next.len() >= cap {
                        capped = true;
                        break 'outer;
                    }
                    next.push(format!("{v}{x}"));
                }
            }
            variants = next;
            rest = &rest[close + 1..];
        }
        if capped {
            self.warn(
                at,
                &format!("server variables give more than {cap} URLs; the rest are ignored"),
            );
        }
        variants
    }
}

fn any_base(path: &str) -> Base {
    Base {
        path: normalize_base(path),
        hosts: Vec::new(),
    }
}

/// A base path without a trailing `/`; the root is the empty string.
fn normalize_base(path: &str) -> String {
    let t = normalize_template(&[path]);
    if t == "/" {
        String::new()
    } else {
        t
    }
}

/// Splits a server URL into host (`None` for a relative URL or an unresolved variable in
/// the host) and path.
fn split_server_url(url: &str) -> (Option<String>, String) {
    let url = url.trim();
    let url = url.split(['?', '#']).next().unwrap_or(url);
    let rest = if let Some(i) = url.find("://") {
        &url[i + 3..]
    } else if let Some(r) = url.strip_prefix("//") {
        r
    } else {
        return (None, url.to_string());
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let host = normalize_host(authority);
    if host.is_empty() || host.contains(['{', '}']) {
        (None, path.to_string())
    } else {
        (Some(host), path.to_string())
    }
}

/// Resolves a local reference (`#/components/schemas/X`, JSON pointer, percent-encoded).
pub fn resolve_ref<'v>(root: &'v Value, r: &str) -> Option<&'v Value> {
    let frag = r.strip_prefix('#')?;
    let frag = super::percent_decode(frag);
    if frag.is_empty() {
        return Some(root);
    }
    root.pointer(&frag)
}

/// Request body fields of one operation, collected from its schemas.
#[derive(Debug, Default, Clone)]
struct Fields {
    fields: BTreeSet<String>,
    open: BTreeSet<String>,
    truncated: bool,
}

/// Schema nodes visited per operation, as a multiple of the field cap: an `allOf` of
/// `allOf`s over shared `$ref`s can fan out exponentially without a bound.
const VISITS_PER_FIELD: usize = 32;

/// Walks request body schemas, resolving local `$ref`s, within the depth, field and visit
/// bounds. What it cannot follow becomes an open path.
struct FieldWalker<'a> {
    root: &'a Value,
    out: Fields,
    problems: Vec<String>,
    /// `$ref`s being expanded: meeting one again is a cycle.
    stack: Vec<&'a str>,
    visits: usize,
    max_depth: usize,
    max_fields: usize,
    max_visits: usize,
    depth_warned: bool,
}

impl<'a> FieldWalker<'a> {
    fn new(root: &'a Value, limits: &SpecLimits) -> Self {
        FieldWalker {
            root,
            out: Fields::default(),
            problems: Vec::new(),
            stack: Vec::new(),
            visits: 0,
            max_depth: limits.max_schema_depth,
            max_fields: limits.max_fields_per_operation,
            max_visits: limits
                .max_fields_per_operation
                .saturating_mul(VISITS_PER_FIELD)
                .max(1024),
            depth_warned: false,
        }
    }

    fn open(&mut self, path: &str) {
        self.out.open.insert(path.to_string());
    }

    fn truncate_all(&mut self, why: String) {
        if !self.out.truncated {
            self.problems.push(why);
        }
        self.out.truncated = true;
    }

    fn field(&mut self, path: &str) {
        if self.out.fields.contains(path) {
            return;
        }
        if self.out.fields.len() >= self.max_fields {
            self.truncate_all(format!(
                "more than {} request body fields; every field counts as documented",
                self.max_fields
            ));
            return;
        }
        self.out.fields.insert(path.to_string());
    }

    /// `depth` counts property/item descents and `$ref` hops; composition keywords do not
    /// add to it (their nesting is bounded by the parser's own recursion limit).
    fn walk(&mut self, schema: &'a Value, path: &str, depth: usize) {
        if self.out.truncated {
            return;
        }
        self.visits += 1;
        if self.visits > self.max_visits {
            self.truncate_all(format!(
                "request body schema needs more than {} steps; every field counts as documented",
                self.max_visits
            ));
            return;
        }
        let obj = match schema {
            Value::Object(m) => m,
            Value::Bool(true) => return self.open(path),
            Value::Bool(false) => return,
            _ => {
                self.problems
                    .push(format!("schema at {path} is not an object"));
                return self.open(path);
            }
        };
        if depth > self.max_depth {
            if !self.depth_warned {
                self.problems.push(format!(
                    "schema nested deeper than {} at {path}; below is taken as open",
                    self.max_depth
                ));
                self.depth_warned = true;
            }
            return self.open(path);
        }
        let mut structural = false;
        if let Some(r) = obj.get("$ref") {
            structural = true;
            match r.as_str() {
                None => {
                    self.problems
                        .push(format!("$ref at {path} is not a string"));
                    self.open(path);
                }
                // A recursive schema: below repeats what is above; take it as open.
                Some(r) if self.stack.contains(&r) => self.open(path),
                Some(r) => match resolve_ref(self.root, r) {
                    Some(target) => {
                        self.stack.push(r);
                        self.walk(target, path, depth + 1);
                        self.stack.pop();
                    }
                    None => {
                        self.problems
                            .push(format!("unresolved $ref {} at {path}", truncate(r, 200)));
                        self.open(path);
                    }
                },
            }
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            match obj.get(key) {
                None => {}
                Some(Value::Array(list)) => {
                    structural = true;
                    for s in list {
                        self.walk(s, path, depth);
                    }
                }
                Some(_) => {
                    structural = true;
                    self.problems
                        .push(format!("{key} at {path} is not an array"));
                    self.open(path);
                }
            }
        }
        let types: Vec<&str> = match obj.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let has = |k: &str| obj.contains_key(k);
        let is_object = types.contains(&"object")
            || (types.is_empty()
                && (has("properties") || has("additionalProperties") || has("patternProperties")));
        let is_array =
            types.contains(&"array") || (types.is_empty() && (has("items") || has("prefixItems")));
        if is_object {
            structural = true;
            self.object(obj, path, depth);
        }
        if is_array {
            structural = true;
            let items = format!("{path}[]");
            let mut any = false;
            if let Some(Value::Array(prefix)) = obj.get("prefixItems") {
                any = true;
                for s in prefix {
                    self.walk(s, &items, depth + 1);
                }
            }
            match obj.get("items") {
                Some(Value::Array(tuple)) => {
                    // JSON Schema draft-4 tuple form.
                    for s in tuple {
                        self.walk(s, &items, depth + 1);
                    }
                }
                Some(s) => self.walk(s, &items, depth + 1),
                None if !any => self.open(&items),
                None => {}
            }
        }
        let leaf = ["enum", "const", "format", "not"].iter().any(|k| has(k));
        if !structural && types.is_empty() && !leaf {
            // An untyped schema accepts anything.
            self.open(path);
        }
    }

    fn object(&mut self, obj: &'a Map<String, Value>, path: &str, depth: usize) {
        let mut listed = false;
        match obj.get("properties") {
            None => {}
            Some(Value::Object(props)) => {
                for (name, sub) in props {
                    listed = true;
                    let child = format!("{path}.{name}");
                    self.field(&child);
                    if self.out.truncated {
                        return;
                    }
                    self.walk(sub, &child, depth + 1);
                }
            }
            Some(_) => {
                self.problems
                    .push(format!("properties at {path} is not an object"));
                self.open(path);
            }
        }
        match obj.get("additionalProperties") {
            Some(Value::Bool(false)) => {}
            Some(Value::Bool(true)) | Some(Value::Object(_)) => self.open(path),
            None if !listed => self.open(path),
            None => {}
            Some(_) => {
                self.problems.push(format!(
                    "additionalProperties at {path} is neither a bool nor a schema"
                ));
                self.open(path);
            }
        }
        if obj.contains_key("patternProperties") {
            self.open(path);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::{Segment, SpecSet};
    use super::*;
    use proptest::prelude::*;

    const PETSTORE_OAS30: &str = r#"
openapi: 3.0.3
info: {title: Petstore, version: "1.0"}
servers:
  - url: https://{env}.petstore.example.com:{port}/v1/
    variables:
      env: {default: api, enum: [api, staging]}
      port: {default: "443"}
  - url: https://API.petstore.example.com/v1
security:
  - apiKey: []
components:
  securitySchemes:
    apiKey: {type: apiKey, in: query, name: api_key}
    bearer: {type: http, scheme: bearer}
  parameters:
    Limit: {name: limit, in: query, schema: {type: integer}}
    PetId: {name: petId, in: path, required: true, schema: {type: string}}
    Filter:
      name: filter
      in: query
      style: deepObject
      schema: {type: object, properties: {status: {type: string}, tag: {type: string}}}
  requestBodies:
    PetBody:
      content:
        application/json:
          schema: {$ref: '#/components/schemas/NewPet'}
  schemas:
    Base:
      type: object
      properties:
        name: {type: string}
        tags: {type: array, items: {$ref: '#/components/schemas/Tag'}}
    Tag:
      type: object
      properties: {id: {type: integer}, label: {type: string}}
    NewPet:
      allOf:
        - $ref: '#/components/schemas/Base'
        - type: object
          required: [kind]
          properties:
            kind: {type: string, enum: [cat, dog]}
            owner:
              oneOf:
                - {type: object, properties: {email: {type: string}}}
                - {type: object, properties: {phone: {type: string}}}
            extra: {type: object, additionalProperties: {type: string}}
            anything: {}
paths:
  /pets:
    parameters:
      - $ref: '#/components/parameters/Limit'
    get:
      operationId: listPets
      parameters:
        - {name: offset, in: query, schema: {type: integer}}
        - $ref: '#/components/parameters/Filter'
        - {name: X-Trace, in: header, schema: {type: string}}
      responses:
        200: {description: ok}
        4XX: {description: client error}
        default: {description: error}
    post:
      operationId: createPet
      requestBody: {$ref: '#/components/requestBodies/PetBody'}
      responses:
        '201': {description: created}
  /pets/{petId}:
    parameters: [{$ref: '#/components/parameters/PetId'}]
    get:
      operationId: getPet
      responses: {'200': {description: ok}}
    delete:
      deprecated: true
      responses: {'204': {description: gone}}
  /pets/mine:
    get:
      operationId: myPets
      servers: [{url: 'http://internal.petstore.local:8080/api'}]
      responses: {'200': {description: ok}}
  /files/{name}.json:
    servers: [{url: /static}]
    get:
      responses: {'200': {description: ok}}
  x-internal: {get: {}}
"#;

    const SWAGGER2: &str = r##"{
  "swagger": "2.0",
  "info": {"title": "Legacy", "version": "1"},
  "host": "legacy.example.com:443",
  "basePath": "/api/",
  "securityDefinitions": {"key": {"type": "apiKey", "in": "query", "name": "token"}},
  "parameters": {"Page": {"name": "page", "in": "query", "type": "integer"}},
  "definitions": {
    "User": {"type": "object", "properties": {
      "email": {"type": "string"},
      "address": {"$ref": "#/definitions/Address"},
      "roles": {"type": "array", "items": {"type": "string"}}
    }},
    "Address": {"type": "object", "properties": {"city": {"type": "string"}}}
  },
  "paths": {
    "/users": {
      "parameters": [{"$ref": "#/parameters/Page"}],
      "get": {"responses": {"200": {"description": "ok"}}},
      "post": {
        "operationId": "createUser",
        "parameters": [{"name": "body", "in": "body", "schema": {"$ref": "#/definitions/User"}}],
        "responses": {"201": {"description": "created"}, "400": {"description": "bad"}}
      }
    },
    "/users/{id}/avatar": {
      "put": {
        "consumes": ["multipart/form-data"],
        "parameters": [
          {"name": "id", "in": "path", "required": true, "type": "string"},
          {"name": "file", "in": "formData", "type": "file"},
          {"name": "caption", "in": "formData", "type": "string"}
        ],
        "responses": {"200": {"description": "ok"}}
      }
    }
  }
}"##;

    const OAS31_CYCLES: &str = r##"
openapi: 3.1.0
info: {title: Tree, version: "1"}
paths:
  /nodes:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/$defs/Node'}
      responses: {'200': {description: ok}}
  /loop:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/A'}
  /broken:
    post:
      parameters: [{$ref: '#/components/parameters/Missing'}, 7]
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                ok: {type: string}
                bad: {$ref: '#/components/schemas/Nope'}
                ext: {$ref: 'other.yaml#/User'}
      responses: 12
  /not-an-object: 5
components:
  schemas:
    A: {$ref: '#/components/schemas/B'}
    B: {allOf: [{$ref: '#/components/schemas/A'}]}
$defs:
  Node:
    type: [object, 'null']
    properties:
      name: {type: string}
      children: {type: array, items: {$ref: '#/$defs/Node'}}
      parent: {$ref: '#/$defs/Node'}
"##;

    fn load(files: &[(&str, &str)]) -> SpecSet {
        let files: Vec<(String, String)> = files
            .iter()
            .map(|(o, t)| (o.to_string(), t.to_string()))
            .collect();
        SpecSet::load(&files, None).unwrap()
    }

    fn find<'s>(set: &'s SpecSet, method: &str, template: &str) -> Vec<&'s Operation> {
        set.operations()
            .iter()
            .filter(|o| o.method == method && o.template == template)
            .collect()
    }

    #[test]
    fn petstore_oas30() {
        let set = load(&[("petstore.yaml", PETSTORE_OAS30)]);
        assert!(set.warnings.is_empty(), "{:?}", set.warnings);
        let list = find(&set, "GET", "/v1/pets");
        assert_eq!(list.len(), 1);
        let list = list[0];
        assert_eq!(
            list.hosts,
            vec!["api.petstore.example.com", "staging.petstore.example.com"]
        );
        assert_eq!(list.operation_id.as_deref(), Some("listPets"));
        let q: Vec<&str> = list.query_params.iter().map(String::as_str).collect();
        assert_eq!(
            q,
            vec![
                "api_key",
                "filter",
                "filter[status]",
                "filter[tag]",
                "limit",
                "offset"
            ]
        );
        assert!(!list.documents_query("X-Trace"));
        assert!(list.documents_status(200));
        assert!(list.documents_status(418));
        assert!(list.documents_status(503));
        assert!(!list.request_body_documented);

        let post = find(&set, "POST", "/v1/pets")[0];
        assert!(post.request_body_documented);
        for f in [
            "$.name",
            "$.tags",
            "$.tags[].id",
            "$.tags[].label",
            "$.kind",
            "$.owner",
            "$.owner.email",
            "$.owner.phone",
            "$.extra",
            "$.anything",
        ] {
            assert!(
                post.request_fields.contains(f),
                "{f}: {:?}",
                post.request_fields
            );
        }
        assert!(post.documents_field("$.extra.whatever"));
        assert!(post.documents_field("$.anything.x[].y"));
        assert!(!post.documents_field("$.password"));
        assert!(!post.documents_field("$.owner.address"));
        assert_eq!(
            post.request_open,
            ["$.anything", "$.extra"]
                .iter()
                .map(|s| s.to_string())
                .collect()
        );
        assert!(!post.documents_status(200));
        assert!(post.documents_status(201));

        let del = find(&set, "DELETE", "/v1/pets/{petId}")[0];
        assert!(del.deprecated);
        assert_eq!(
            del.segments,
            vec![
                Segment::Literal("v1".into()),
                Segment::Literal("pets".into()),
                Segment::Param("petId".into())
            ]
        );
        // Operation-level servers override.
        let mine = find(&set, "GET", "/api/pets/mine")[0];
        assert_eq!(mine.hosts, vec!["internal.petstore.local:8080"]);
        // Path-level relative server: any host.
        let files = find(&set, "GET", "/static/files/{name}.json")[0];
        assert!(files.hosts.is_empty());

        // Matching.
        let m = |h: &str, me: &str, p: &str| {
            set.match_op(h, me, p).and_then(|o| o.operation_id.clone())
        };
        assert_eq!(
            m("api.petstore.example.com", "GET", "/v1/pets/42").as_deref(),
            Some("getPet")
        );
        assert_eq!(
            m("staging.petstore.example.com:443", "GET", "/v1/pets").as_deref(),
            Some("listPets")
        );
        assert_eq!(
            m("internal.petstore.local:8080", "GET", "/api/pets/mine").as_deref(),
            Some("myPets")
        );
        // /v1/pets/mine on the public host is the {petId} operation: `mine` moved elsewhere.
        assert_eq!(
            m("api.petstore.example.com", "GET", "/v1/pets/mine").as_deref(),
            Some("getPet")
        );
        assert!(set
            .match_op("evil.example.com", "GET", "/v1/pets")
            .is_none());
        assert!(set
            .match_op("whatever.example", "GET", "/static/files/report.json")
            .is_some());
        assert_eq!(
            set.path_template("api.petstore.example.com", "/v1/pets/7"),
            Some("/v1/pets/{petId}")
        );
    }

    #[test]
    fn a_query_written_into_the_path_key_is_query_parameters() {
        let set = load(&[(
            "icons.json",
            r#"{"openapi": "3.0.0", "servers": [{"url": "https://api.icons.example"}],
                "paths": {"/v3/search?term={term}&amount={amount}": {"get": {}},
                          "/v3/total?since={since}#frag": {"get": {}}}}"#,
        )]);
        assert!(set.warnings.is_empty(), "{:?}", set.warnings);
        let op = find(&set, "GET", "/v3/search")[0];
        assert_eq!(op.template, "/v3/search");
        let q: Vec<&str> = op.query_params.iter().map(String::as_str).collect();
        assert_eq!(q, ["amount", "term"]);
        assert_eq!(find(&set, "GET", "/v3/total")[0].template, "/v3/total");
        assert_eq!(
            set.path_template("api.icons.example", "/v3/search"),
            Some("/v3/search")
        );
        assert_eq!(super::split_path_key("/a?"), ("/a", vec![]));
        assert_eq!(super::split_path_key("/a#x?y"), ("/a", vec![]));
    }

    #[test]
    fn swagger2_json() {
        let set = load(&[("legacy.json", SWAGGER2)]);
        assert!(set.warnings.is_empty(), "{:?}", set.warnings);
        let post = find(&set, "POST", "/api/users")[0];
        assert_eq!(post.hosts, vec!["legacy.example.com"]);
        assert_eq!(post.operation_id.as_deref(), Some("createUser"));
        let fields: Vec<&str> = post.request_fields.iter().map(String::as_str).collect();
        assert_eq!(
            fields,
            vec!["$.address", "$.address.city", "$.email", "$.roles"]
        );
        assert!(post.request_open.is_empty());
        assert!(post.documents_query("page"));
        assert!(post.documents_query("token"));
        assert!(post.documents_status(400));
        let put = find(&set, "PUT", "/api/users/{id}/avatar")[0];
        assert!(put.request_body_documented);
        assert!(put.documents_field("$.file"));
        assert!(put.documents_field("$.caption"));
        assert!(set
            .match_op("LEGACY.example.com", "PUT", "/api/users/u1/avatar")
            .is_some());
        assert!(set
            .match_op("legacy.example.com", "GET", "/users")
            .is_none());
    }

    #[test]
    fn oas31_cycles_and_malformed_parts() {
        let set = load(&[("tree.yaml", OAS31_CYCLES)]);
        let nodes = find(&set, "POST", "/nodes")[0];
        assert!(nodes.request_fields.contains("$.name"));
        assert!(nodes.request_fields.contains("$.children"));
        assert!(nodes.documents_field("$.children[].name"));
        assert!(nodes.documents_field("$.parent.parent.children[].name"));
        assert!(!nodes.documents_field("$.other"));
        assert!(nodes.response_statuses.contains("200"));
        // A -> B -> allOf A: a cycle without fields; open, no hang.
        let lp = find(&set, "POST", "/loop")[0];
        assert!(lp.documents_field("$.x"));
        assert!(lp.response_statuses.is_empty());
        // Broken parts are warnings, the rest loads.
        let broken = find(&set, "POST", "/broken")[0];
        assert!(broken.request_fields.contains("$.ok"));
        assert!(broken.documents_field("$.bad.anything"));
        assert!(broken.documents_field("$.ext.id"));
        assert!(!broken.documents_field("$.nope"));
        let w = set.warnings.join("\n");
        for needle in [
            "tree.yaml: paths./broken.post.parameters[0]: unresolved $ref #/components/parameters/Missing",
            "paths./broken.post.parameters[1]: parameter is not an object",
            "unresolved $ref #/components/schemas/Nope at $.bad",
            "unresolved $ref other.yaml#/User at $.ext",
            "paths./broken.post: responses is not an object",
            "paths./not-an-object: path item is not an object",
        ] {
            assert!(w.contains(needle), "missing {needle:?} in\n{w}");
        }
    }

    #[test]
    fn versions_and_errors() {
        let one = |t: &str| SpecSet::load(&[("f.yaml".to_string(), t.to_string())], None);
        assert!(one("openapi: 3.0.0\ninfo: {}\npaths: {}").is_ok());
        assert!(one("openapi: 3.0\npaths: {}").is_ok());
        assert!(one("openapi: '3.1.1'\n").is_ok());
        assert!(one("swagger: 2.0\npaths: {}").is_ok());
        let err = one("openapi: 3.2.0\npaths: {}").unwrap_err();
        assert!(matches!(err, SpecError::UnsupportedVersion { .. }));
        assert_eq!(
            err.to_string(),
            "spec f.yaml: unsupported version openapi 3.2.0 (expected `openapi: 3.0.x`, `openapi: 3.1.x` or `swagger: \"2.0\"`)"
        );
        assert!(one("openapi: 3.10.0").is_err());
        assert!(one("swagger: '1.2'").is_err());
        assert!(one("openapi: [3]").is_err());
        let err = one("info: {title: x}").unwrap_err();
        assert!(err.to_string().contains("no `openapi` or `swagger` field"));
        let err = one("[1, 2]").unwrap_err();
        assert!(matches!(err, SpecError::NotAnObject { .. }));
        let err = one("{\"openapi\": ").unwrap_err();
        assert!(matches!(err, SpecError::Json { .. }), "{err}");
        assert!(err.to_string().starts_with("spec f.yaml: invalid JSON"));
        let err = one("openapi: 3.0.0\npaths: [unclosed").unwrap_err();
        assert!(matches!(err, SpecError::Yaml { .. }), "{err}");
        // The first bad file fails the load, naming it.
        let err = SpecSet::load(
            &[
                ("good.yaml".into(), "openapi: 3.0.0\npaths: {}".into()),
                ("bad.yaml".into(), "swagger: '3'".into()),
            ],
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("bad.yaml"));
        // Size limit.
        let limits = SpecLimits {
            max_file_bytes: 10,
            ..SpecLimits::default()
        };
        let err = SpecSet::load_with_limits(
            &[("big.yaml".into(), "openapi: 3.0.0\npaths: {}".into())],
            None,
            &limits,
        )
        .unwrap_err();
        assert!(matches!(err, SpecError::TooLarge { .. }));
    }

    #[test]
    fn yaml_details() {
        // Integer status keys, anchors and merge keys, a BOM, `on`/`yes` as strings.
        let text = "\u{feff}openapi: 3.0.1
x-common: &common
  responses:
    200: {description: ok}
    404: {description: missing}
paths:
  /a:
    get:
      <<: *common
      operationId: yes
";
        let set = load(&[("y.yaml", text)]);
        let op = &set.operations()[0];
        assert!(op.documents_status(404));
        assert_eq!(op.response_statuses.len(), 2);
        assert_eq!(op.operation_id.as_deref(), Some("yes"));
    }

    #[test]
    fn hostile_yaml_is_refused_quickly() {
        let mut bomb = String::from("openapi: 3.0.0\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let start = std::time::Instant::now();
        let r = SpecSet::load(&[("bomb.yaml".into(), bomb)], None);
        assert!(matches!(r, Err(SpecError::Yaml { .. })), "{r:?}");
        let deep = format!(
            "openapi: 3.0.0\nx: {}{}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let r = SpecSet::load(&[("deep.yaml".into(), deep)], None);
        assert!(matches!(r, Err(SpecError::Yaml { .. })), "{r:?}");
        let deep = format!(
            "{{\"openapi\": \"3.0.0\", \"x\": {}{}}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let r = SpecSet::load(&[("deep.json".into(), deep)], None);
        assert!(matches!(r, Err(SpecError::Json { .. })), "{r:?}");
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn servers_variants_and_bases() {
        let text = r#"
openapi: 3.0.0
servers:
  - url: https://a.example.com/v1
  - url: https://b.example.com/v2
  - url: /v1
  - url: '{scheme}://c.example.com:{port}/{base}'
    variables:
      scheme: {default: https}
      port: {default: 80}
  - url: https://{tenant}.example.com/v3
paths:
  /x: {get: {responses: {'200': {description: ok}}}}
"#;
        let set = load(&[("s.yaml", text)]);
        let ops = find(&set, "GET", "/v1/x");
        assert_eq!(ops.len(), 1);
        // a relative server joins `/v1`: any host.
        assert!(ops[0].hosts.is_empty());
        assert_eq!(find(&set, "GET", "/v2/x")[0].hosts, vec!["b.example.com"]);
        // `{base}` has no default: kept as a param segment.
        assert_eq!(
            find(&set, "GET", "/{base}/x")[0].hosts,
            vec!["c.example.com"]
        );
        assert!(set
            .match_op("c.example.com", "GET", "/whatever/x")
            .is_some());
        // `{tenant}` without a default in the host: any host.
        assert!(find(&set, "GET", "/v3/x")[0].hosts.is_empty());
        assert!(set
            .warnings
            .iter()
            .any(|w| w.contains("{tenant} has no default")));

        // Variant cap.
        let text = r#"
openapi: 3.0.0
servers:
  - url: https://{a}.{b}.example.com
    variables:
      a: {default: a0, enum: [a0, a1, a2, a3, a4, a5]}
      b: {default: b0, enum: [b0, b1, b2, b3, b4, b5, b6]}
paths:
  /x: {get: {}}
"#;
        let set = load(&[("v.yaml", text)]);
        assert_eq!(set.operations()[0].hosts.len(), 32);
        assert!(set.warnings.iter().any(|w| w.contains("more than 32 URLs")));
    }

    #[test]
    fn host_override_replaces_hosts() {
        let files = vec![
            ("p.yaml".to_string(), PETSTORE_OAS30.to_string()),
            ("l.json".to_string(), SWAGGER2.to_string()),
        ];
        let set = SpecSet::load(&files, Some("10.0.0.5:8080")).unwrap();
        assert!(set
            .operations()
            .iter()
            .all(|o| o.hosts == vec!["10.0.0.5:8080"]));
        assert!(set.match_op("10.0.0.5:8080", "GET", "/v1/pets").is_some());
        assert!(set
            .match_op("10.0.0.5:8080", "POST", "/api/users")
            .is_some());
        assert!(set
            .match_op("api.petstore.example.com", "GET", "/v1/pets")
            .is_none());
    }

    #[test]
    fn limits_fields_depth_operations() {
        let mut props = String::new();
        for i in 0..50 {
            props.push_str(&format!("\"f{i}\": {{\"type\": \"string\"}},"));
        }
        props.pop();
        let text = format!(
            r#"{{"openapi": "3.0.0", "paths": {{"/a": {{"post": {{"requestBody": {{"content": {{"application/json": {{"schema": {{"type": "object", "properties": {{{props}}}}}}}}}}}}}}}, "/b": {{"get": {{}}}}, "/c": {{"get": {{}}}}}}}}"#
        );
        let limits = SpecLimits {
            max_fields_per_operation: 10,
            max_operations: 2,
            ..SpecLimits::default()
        };
        let set = SpecSet::load_with_limits(&[("l.json".into(), text)], None, &limits).unwrap();
        assert_eq!(set.len(), 2);
        let a = find(&set, "POST", "/a")[0];
        assert!(a.request_truncated);
        assert_eq!(a.request_fields.len(), 10);
        assert!(a.documents_field("$.f49"));
        assert!(set
            .warnings
            .iter()
            .any(|w| w.contains("more than 10 request body fields")));
        assert!(set
            .warnings
            .iter()
            .any(|w| w.contains("operation limit 2 reached")));

        // Depth: a 30-level chain of nested objects.
        let mut schema = String::from("{\"type\": \"string\"}");
        for i in 0..30 {
            schema = format!("{{\"type\": \"object\", \"properties\": {{\"n{i}\": {schema}}}}}");
        }
        let text = format!(
            r#"{{"openapi": "3.0.0", "paths": {{"/d": {{"post": {{"requestBody": {{"content": {{"application/json": {{"schema": {schema}}}}}}}}}}}}}}}"#
        );
        let set = load(&[("d.json", &text)]);
        let d = &set.operations()[0];
        assert!(!d.request_truncated);
        assert_eq!(d.request_open.len(), 1);
        let deep = format!(
            "$.{}",
            (0..30)
                .rev()
                .map(|i| format!("n{i}"))
                .collect::<Vec<_>>()
                .join(".")
        );
        assert!(d.documents_field(&deep));
        assert!(set
            .warnings
            .iter()
            .any(|w| w.contains("nested deeper than 16")));
    }

    #[test]
    fn allof_fan_out_is_bounded() {
        // Each level references the next one four times: 4^20 walks without a bound.
        let mut defs = String::new();
        for i in 0..20 {
            let r = format!("{{\"$ref\": \"#/components/schemas/S{}\"}}", i + 1);
            defs.push_str(&format!(
                "\"S{i}\": {{\"allOf\": [{r}, {r}, {r}, {r}], \"properties\": {{\"p{i}\": {{\"type\": \"string\"}}}}}},"
            ));
        }
        defs.push_str("\"S20\": {\"type\": \"string\"}");
        let text = format!(
            r##"{{"openapi": "3.0.0", "components": {{"schemas": {{{defs}}}}}, "paths": {{"/f": {{"post": {{"requestBody": {{"content": {{"application/json": {{"schema": {{"$ref": "#/components/schemas/S0"}}}}}}}}}}}}}}}}"##
        );
        let start = std::time::Instant::now();
        let set = load(&[("f.json", &text)]);
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        let f = &set.operations()[0];
        assert!(f.documents_field("$.p0"));
    }

    #[test]
    fn large_spec_is_indexed() {
        // 1500 paths x 2 methods, in YAML.
        let mut text = String::from(
            "openapi: 3.0.3\nservers: [{url: 'https://big.example.com/api'}]\npaths:\n",
        );
        for i in 0..1500 {
            text.push_str(&format!(
                "  /res{i}/{{id}}/items/{{item}}:\n    get: {{operationId: g{i}, responses: {{'200': {{description: ok}}}}}}\n    put: {{operationId: p{i}}}\n  /res{i}/special/items/me:\n    get: {{operationId: s{i}}}\n"
            ));
        }
        let start = std::time::Instant::now();
        let set = load(&[("big.yaml", &text)]);
        let loaded = start.elapsed();
        assert_eq!(set.len(), 4500);
        let start = std::time::Instant::now();
        for i in (0..1500).step_by(7) {
            let g = set.match_op("big.example.com", "GET", &format!("/api/res{i}/x/items/y"));
            assert_eq!(
                g.and_then(|o| o.operation_id.clone()),
                Some(format!("g{i}"))
            );
            let s = set.match_op(
                "big.example.com",
                "GET",
                &format!("/api/res{i}/special/items/me"),
            );
            assert_eq!(
                s.and_then(|o| o.operation_id.clone()),
                Some(format!("s{i}"))
            );
            let p = set.match_op(
                "big.example.com",
                "PUT",
                &format!("/api/res{i}/special/items/me"),
            );
            assert_eq!(
                p.and_then(|o| o.operation_id.clone()),
                Some(format!("p{i}"))
            );
        }
        eprintln!(
            "large spec: load {loaded:?}, 645 matches {:?}",
            start.elapsed()
        );
    }

    #[test]
    fn load_paths_reads_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.yaml");
        std::fs::write(&a, PETSTORE_OAS30).unwrap();
        let set = SpecSet::load_paths(&[&a], None, &SpecLimits::default()).unwrap();
        assert!(!set.is_empty());
        assert_eq!(set.operations()[0].origin, a.display().to_string());
        let missing = dir.path().join("missing.yaml");
        let err = SpecSet::load_paths(&[&missing], None, &SpecLimits::default()).unwrap_err();
        assert!(matches!(err, SpecError::Read { .. }));
        assert!(err.to_string().contains("missing.yaml"));
    }

    #[test]
    fn every_truncation_of_a_valid_spec_is_handled() {
        for text in [PETSTORE_OAS30, SWAGGER2, OAS31_CYCLES] {
            for end in (0..=text.len()).filter(|e| text.is_char_boundary(*e)) {
                let _ = SpecSet::load(&[("t".to_string(), text[..end].to_string())], None);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn mutated_specs_never_panic(
            which in 0usize..3,
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
        ) {
            let text = [PETSTORE_OAS30, SWAGGER2, OAS31_CYCLES][which];
            let mut bytes = text.as_bytes().to_vec();
            for (at, b) in edits {
                let i = at.index(bytes.len());
                const ALPHABET: &[u8] = b" {}[]:,-'\"$#/\n01aX";
                bytes[i] = ALPHABET[usize::from(b) % ALPHABET.len()];
            }
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if let Ok(set) = SpecSet::load(&[("m".to_string(), text)], None) {
                let _ = set.match_op("api.petstore.example.com", "GET", "/v1/pets/1");
                let _ = set.match_template("legacy.example.com", "POST", "/api/users");
            }
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            let _ = SpecSet::load(&[("r".to_string(), text)], None);
        }
    }
}
