//! Stage 7 (analyze, spec): API specifications (OpenAPI 3.0/3.1, Swagger 2.0) as an index of
//! documented operations, the shape of bodies seen in traffic, and an OpenAPI export of the
//! inventory.
//!
//! [`SpecSet::load`] turns spec files (JSON or YAML, told apart by content) into
//! [`Operation`]s: host(s), method, path template, documented query parameters, request body
//! fields and response statuses. The set is indexed per host in a trie of path segments, so
//! [`SpecSet::match_op`] costs one walk down the trie per request, whatever the number of
//! operations, and the most specific template wins (a literal segment beats a param segment,
//! as OpenAPI says: `/users/me` beats `/users/{id}`).
//!
//! Guarantees: loading never panics, whatever the files hold; a file that cannot be parsed or
//! that is no known spec version is an [`SpecError`] naming the file, and every other defect
//! (unknown `$ref`, wrong types, cycles, limits reached) is a line in [`SpecSet::warnings`]
//! while the rest of the file loads. Every limit is a [`SpecLimits`] field with a documented
//! default. Where the spec cannot say (an unresolved `$ref`, an open object, a cap reached),
//! the operation documents *more*, never less, so drift checks do not raise false alarms.
//! Matching is read-only and allocation-light: request paths are never copied whole.
//!
//! Files: `load.rs` the spec reader, `schema.rs` body shape inference and merge, `export.rs`
//! the OpenAPI 3.0.3 export. This module depends on no other apitap module.

#![deny(clippy::unwrap_used, clippy::expect_used)]
#![forbid(unsafe_code)]

pub mod export;
mod fingerprint;
pub mod load;
pub mod schema;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

pub use export::{export_openapi, ExportEndpoint};
pub use schema::{JsonType, Schema, SchemaLimits};

/// Why a spec file could not be loaded at all (a defect inside a file that parses is a
/// warning, see [`SpecSet::warnings`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    #[error("spec {origin}: cannot read: {source}")]
    Read {
        origin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("spec {origin}: {len} bytes, over the limit of {limit}")]
    TooLarge {
        origin: String,
        len: u64,
        limit: usize,
    },
    #[error("spec {origin}: invalid JSON: {reason}")]
    Json { origin: String, reason: String },
    #[error("spec {origin}: invalid YAML: {reason}")]
    Yaml { origin: String, reason: String },
    #[error("spec {origin}: the top level is not an object")]
    NotAnObject { origin: String },
    #[error(
        "spec {origin}: unsupported version {found} (expected `openapi: 3.0.x`, `openapi: 3.1.x` or `swagger: \"2.0\"`)"
    )]
    UnsupportedVersion { origin: String, found: String },
}

/// Limits of the spec loader (a `[spec]` config section).
#[derive(Clone, Debug, serde::Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SpecLimits {
    /// Nesting of a request body schema (properties, items, `$ref` hops) followed before the
    /// rest is taken as open (anything documented). Default 16.
    pub max_schema_depth: usize,
    /// Request body fields recorded per operation; past it the operation documents every
    /// field (`request_truncated`). Default 2000.
    pub max_fields_per_operation: usize,
    /// Size of one spec file. Default 64 MiB.
    pub max_file_bytes: usize,
    /// Operations in the whole set; the rest are skipped with a warning. Default 100 000.
    pub max_operations: usize,
    /// Segments in one path template; longer templates are skipped with a warning. Default 64.
    pub max_template_segments: usize,
    /// Concrete URLs made from one server URL by expanding its variables' `default` and
    /// `enum` values. Default 32.
    pub max_server_variants: usize,
    /// Warnings kept; the rest are counted in one last line. Default 1000.
    pub max_warnings: usize,
}

impl Default for SpecLimits {
    fn default() -> Self {
        SpecLimits {
            max_schema_depth: 16,
            max_fields_per_operation: 2000,
            max_file_bytes: 64 << 20,
            max_operations: 100_000,
            max_template_segments: 64,
            max_server_variants: 32,
            max_warnings: 1000,
        }
    }
}

/// One piece of a [`Segment::Mixed`] path segment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Piece {
    Literal(String),
    Param(String),
}

/// One `/`-separated segment of a path template.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    /// Plain text, compared after percent-decoding.
    Literal(String),
    /// A whole-segment parameter, `{userId}`: matches any non-empty segment.
    Param(String),
    /// Literals and parameters in one segment, `{name}.json`, `{a}-{b}`, `v{version}`: each
    /// parameter matches one or more characters.
    Mixed(Vec<Piece>),
}

impl Segment {
    /// Parses one template segment. Unbalanced braces make the segment a literal.
    pub fn parse(raw: &str) -> Segment {
        let mut pieces = Vec::new();
        let mut rest = raw;
        while !rest.is_empty() {
            match rest.find('{') {
                Some(open) => {
                    let Some(close) = rest[open..].find('}').map(|c| open + c) else {
                        return Segment::Literal(percent_decode(raw).into_owned());
                    };
                    if open > 0 {
                        pieces.push(Piece::Literal(percent_decode(&rest[..open]).into_owned()));
                    }
                    pieces.push(Piece::Param(rest[open + 1..close].to_string()));
                    rest = &rest[close + 1..];
                }
                None => {
                    pieces.push(Piece::Literal(percent_decode(rest).into_owned()));
                    rest = "";
                }
            }
        }
        match pieces.len() {
            0 => Segment::Literal(String::new()),
            1 => match pieces.pop() {
                Some(Piece::Param(p)) => Segment::Param(p),
                Some(Piece::Literal(l)) => Segment::Literal(l),
                None => Segment::Literal(String::new()),
            },
            _ => Segment::Mixed(pieces),
        }
    }

    /// Whether a concrete (already percent-decoded) path segment matches.
    pub fn matches(&self, concrete: &str) -> bool {
        match self {
            Segment::Literal(l) => l == concrete,
            Segment::Param(_) => !concrete.is_empty(),
            Segment::Mixed(pieces) => pieces_match(pieces, concrete),
        }
    }

    /// Rank for precedence: literal > mixed (more literal characters first) > param.
    fn rank(&self) -> (u8, usize) {
        match self {
            Segment::Literal(_) => (2, 0),
            Segment::Mixed(p) => (1, literal_len(p)),
            Segment::Param(_) => (0, 0),
        }
    }
}

fn literal_len(pieces: &[Piece]) -> usize {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Literal(l) => l.len(),
            Piece::Param(_) => 0,
        })
        .sum()
}

/// The shape of a mixed segment, parameter names left out (`{a}.json` ≡ `{b}.json`).
type Shape = Vec<Option<String>>;

fn shape(pieces: &[Piece]) -> Shape {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Literal(l) => Some(l.clone()),
            Piece::Param(_) => None,
        })
        .collect()
}

/// Wildcard matching without backtracking blow-up: `ok[j]` says whether the pieces after the
/// current one match `s[j..]`; one pass per piece, O(pieces × len).
fn pieces_match(pieces: &[Piece], s: &str) -> bool {
    let b = s.as_bytes();
    let n = b.len();
    let mut next: Vec<bool> = (0..=n).map(|j| j == n).collect();
    let mut cur = vec![false; n + 1];
    for piece in pieces.iter().rev() {
        match piece {
            Piece::Literal(l) => {
                let lb = l.as_bytes();
                for (j, c) in cur.iter_mut().enumerate() {
                    *c = b.get(j..j + lb.len()) == Some(lb)
                        && next.get(j + lb.len()).copied().unwrap_or(false);
                }
            }
            Piece::Param(_) => {
                // One or more bytes: cur[j] = any(next[k] for k in j+1..=n).
                let mut any = false;
                for (c, nx) in cur.iter_mut().zip(next.iter()).rev() {
                    *c = any;
                    any = any || *nx;
                }
            }
        }
        std::mem::swap(&mut cur, &mut next);
    }
    next.first().copied().unwrap_or(false)
}

/// `%XX` decoding; the input is returned unchanged when it has no escape or the decoded bytes
/// are not UTF-8.
pub fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|c| hex(*c)),
                b.get(i + 2).and_then(|c| hex(*c)),
            ) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(d) => Cow::Owned(d),
        Err(_) => Cow::Borrowed(s),
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Lower-cases a host, drops a trailing dot, userinfo, and the port when it is 80 or 443.
pub fn normalize_host(host: &str) -> String {
    let host = host.trim();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((v6, after)) => (&host[..v6.len() + 2], after.strip_prefix(':')),
            None => (host, None),
        }
    } else {
        match host.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            _ => (host, None),
        }
    };
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    match port {
        None | Some("") | Some("80") | Some("443") => name,
        Some(p) => format!("{name}:{p}"),
    }
}

/// The host name of a normalized `host:port` (`[v6]:port` too); `None` without a port.
fn host_without_port(host: &str) -> Option<&str> {
    if host.starts_with('[') {
        let end = host.find(']')?;
        return host.get(end + 1..)?.starts_with(':').then(|| &host[..=end]);
    }
    match host.split_once(':') {
        Some((h, p)) if !p.contains(':') => Some(h),
        _ => None,
    }
}

/// Joins path pieces into a normalized template: one leading `/`, no empty segments, no
/// trailing `/` except for the root.
pub fn normalize_template(parts: &[&str]) -> String {
    let mut out = String::new();
    for part in parts {
        for seg in part.split('/').filter(|s| !s.is_empty() && *s != ".") {
            out.push('/');
            out.push_str(seg);
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// One documented operation, for one base path (a spec whose servers have several base paths
/// gives one `Operation` per base path).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The spec file it came from (the origin name given to the loader).
    pub origin: String,
    /// Upper case: `GET`.
    pub method: String,
    /// Base path joined with the path key, normalized: `/v2/users/{userId}`.
    pub template: String,
    pub segments: Vec<Segment>,
    /// Lower-cased, port dropped when 80/443; empty means any host.
    pub hosts: Vec<String>,
    pub operation_id: Option<String>,
    pub deprecated: bool,
    /// Documented query parameter names (path-level and operation-level, `in: query`, plus
    /// `apiKey` security schemes sent in the query, plus the properties of exploded object
    /// parameters).
    pub query_params: BTreeSet<String>,
    /// An object query parameter without listed properties: any name is documented.
    pub query_open: bool,
    /// Whether the operation documents a request body at all.
    pub request_body_documented: bool,
    /// JSON paths of documented request body fields, intermediate objects included:
    /// `$.user`, `$.user.email`, `$.items`, `$.items[].id`.
    pub request_fields: BTreeSet<String>,
    /// Paths below which anything is documented (open objects, untyped schemas, unresolved
    /// `$ref`s, cycles, depth cap). `$` means the whole body.
    pub request_open: BTreeSet<String>,
    /// The field cap was reached: every field counts as documented.
    pub request_truncated: bool,
    /// Response keys as written: `200`, `4XX`, `default`.
    pub response_statuses: BTreeSet<String>,
}

impl Operation {
    /// A bare operation (no parameters, fields or responses), mostly for building sets by
    /// hand; `template` is normalized and parsed into segments.
    pub fn new(method: &str, template: &str, hosts: Vec<String>) -> Operation {
        let template = normalize_template(&[template]);
        Operation {
            origin: String::new(),
            method: method.to_ascii_uppercase(),
            segments: template_segments(&template),
            template,
            hosts,
            operation_id: None,
            deprecated: false,
            query_params: BTreeSet::new(),
            query_open: false,
            request_body_documented: false,
            request_fields: BTreeSet::new(),
            request_open: BTreeSet::new(),
            request_truncated: false,
            response_statuses: BTreeSet::new(),
        }
    }

    /// Whether a response status is documented, exactly, by an `NXX` range, or by `default`.
    pub fn documents_status(&self, status: u16) -> bool {
        let exact = status.to_string();
        let range = format!("{}XX", status / 100);
        self.response_statuses.iter().any(|s| {
            s == &exact || s.eq_ignore_ascii_case(&range) || s.eq_ignore_ascii_case("default")
        })
    }

    /// Whether a request body field (`$.user.email`, `$.items[].id`) is documented, directly
    /// or below an open path.
    pub fn documents_field(&self, path: &str) -> bool {
        if self.request_truncated || self.request_fields.contains(path) {
            return true;
        }
        self.request_open.iter().any(|open| {
            path == open
                || (path.starts_with(open.as_str())
                    && matches!(path.as_bytes().get(open.len()), Some(b'.') | Some(b'[')))
        })
    }

    /// Whether a query parameter name is documented.
    pub fn documents_query(&self, name: &str) -> bool {
        self.query_open || self.query_params.contains(name)
    }

    fn specificity(&self) -> impl Iterator<Item = (u8, usize)> + '_ {
        self.segments.iter().map(Segment::rank)
    }
}

/// Parses a normalized template into segments.
pub fn template_segments(template: &str) -> Vec<Segment> {
    template
        .split('/')
        .filter(|s| !s.is_empty())
        .map(Segment::parse)
        .collect()
}

/// One segment of something looked up in the index.
enum Query<'a> {
    /// A concrete, percent-decoded request segment.
    Concrete(Cow<'a, str>),
    /// `{x}` in an inventory template: matches a whole-segment param only.
    Placeholder,
    /// `{x}.json` in an inventory template: matches a mixed segment of the same shape.
    Shape(Shape),
}

/// A trie node: children by segment kind, and the operations whose template ends here.
#[derive(Debug, Default)]
struct Node {
    literal: HashMap<String, Node>,
    /// Sorted by literal length, longest first, so the walk meets them in precedence order.
    mixed: Vec<(Vec<Piece>, Node)>,
    param: Option<Box<Node>>,
    ops: Vec<usize>,
}

impl Node {
    fn insert(&mut self, segments: &[Segment], op: usize) {
        let Some((first, rest)) = segments.split_first() else {
            self.ops.push(op);
            return;
        };
        let child = match first {
            Segment::Literal(l) => self.literal.entry(l.clone()).or_default(),
            Segment::Param(_) => self.param.get_or_insert_with(Box::default),
            Segment::Mixed(pieces) => {
                let key = shape(pieces);
                let pos = match self.mixed.iter().position(|(p, _)| shape(p) == key) {
                    Some(pos) => pos,
                    None => {
                        // Keep the order: longest literal text first (stable for ties).
                        let len = literal_len(pieces);
                        let at = self
                            .mixed
                            .iter()
                            .position(|(p, _)| literal_len(p) < len)
                            .unwrap_or(self.mixed.len());
                        self.mixed.insert(at, (pieces.clone(), Node::default()));
                        at
                    }
                };
                match self.mixed.get_mut(pos) {
                    Some((_, node)) => node,
                    None => return,
                }
            }
        };
        child.insert(rest, op);
    }

    /// Depth-first in precedence order (literal, mixed, param), so the first accepted
    /// operation is the most specific. Each node is visited at most once per lookup.
    fn find(&self, q: &[Query<'_>], accept: &mut dyn FnMut(usize) -> bool) -> Option<usize> {
        let Some((first, rest)) = q.split_first() else {
            return self.ops.iter().copied().find(|&i| accept(i));
        };
        match first {
            Query::Concrete(s) => {
                if let Some(found) = self
                    .literal
                    .get(s.as_ref())
                    .and_then(|n| n.find(rest, accept))
                {
                    return Some(found);
                }
                for (pieces, node) in &self.mixed {
                    if pieces_match(pieces, s) {
                        if let Some(found) = node.find(rest, accept) {
                            return Some(found);
                        }
                    }
                }
                self.param.as_ref().and_then(|n| n.find(rest, accept))
            }
            Query::Placeholder => self.param.as_ref().and_then(|n| n.find(rest, accept)),
            Query::Shape(key) => self
                .mixed
                .iter()
                .filter(|(p, _)| &shape(p) == key)
                .find_map(|(_, n)| n.find(rest, accept)),
        }
    }
}

#[derive(Debug, Default)]
struct Index {
    by_host: HashMap<String, Node>,
    /// Operations of hosts given with a port (`jira.local:8080`), by the bare host name: a
    /// request whose `Host` names no port (through a proxy or a port mapping) still
    /// matches when no spec names the bare host itself.
    by_bare: HashMap<String, Node>,
    any_host: Node,
    /// Longest template, in segments: longer request paths cannot match.
    max_segments: usize,
}

/// Every operation of the loaded specs, indexed for matching.
#[derive(Debug, Default)]
pub struct SpecSet {
    operations: Vec<Operation>,
    index: Index,
    /// Defects found while loading (skipped parts), one line each, naming the file.
    pub warnings: Vec<String>,
}

impl SpecSet {
    /// Loads spec texts, given as `(origin name, text)`, with the default [`SpecLimits`].
    /// `host_override` replaces the hosts of every operation.
    pub fn load(
        files: &[(String, String)],
        host_override: Option<&str>,
    ) -> Result<SpecSet, SpecError> {
        Self::load_with_limits(files, host_override, &SpecLimits::default())
    }

    /// [`SpecSet::load`] with explicit limits.
    pub fn load_with_limits(
        files: &[(String, String)],
        host_override: Option<&str>,
        limits: &SpecLimits,
    ) -> Result<SpecSet, SpecError> {
        let (ops, warnings) = load::load_operations(files, host_override, limits)?;
        Ok(SpecSet::from_operations(ops, warnings))
    }

    /// Reads spec files from disk (origin = the path as given) and loads them.
    pub fn load_paths<P: AsRef<Path>>(
        paths: &[P],
        host_override: Option<&str>,
        limits: &SpecLimits,
    ) -> Result<SpecSet, SpecError> {
        let mut files = Vec::with_capacity(paths.len());
        for p in paths {
            files.push(load::read_file(p.as_ref(), limits)?);
        }
        Self::load_with_limits(&files, host_override, limits)
    }

    /// Builds the index over operations made elsewhere.
    pub fn from_operations(operations: Vec<Operation>, warnings: Vec<String>) -> SpecSet {
        let mut index = Index::default();
        for (i, op) in operations.iter().enumerate() {
            index.max_segments = index.max_segments.max(op.segments.len());
            if op.hosts.is_empty() {
                index.any_host.insert(&op.segments, i);
            } else {
                for h in &op.hosts {
                    index
                        .by_host
                        .entry(h.clone())
                        .or_default()
                        .insert(&op.segments, i);
                    if let Some(bare) = host_without_port(h) {
                        index
                            .by_bare
                            .entry(bare.to_string())
                            .or_default()
                            .insert(&op.segments, i);
                    }
                }
            }
        }
        SpecSet {
            operations,
            index,
            warnings,
        }
    }

    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    pub fn len(&self) -> usize {
        self.operations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// The documented operation for a request. `path` is the raw request path (a query or
    /// an absolute-form `http://host` prefix is ignored); segments are compared
    /// percent-decoded. The most specific template wins; on a tie an operation naming the
    /// host beats one valid for any host. A `HEAD` request falls back to the `GET`
    /// operation when no `HEAD` operation matches. An empty `host` matches only operations
    /// valid for any host.
    pub fn match_op(&self, host: &str, method: &str, path: &str) -> Option<&Operation> {
        let q = self.concrete_query(path)?;
        let found = self.find(host, &q, Some(method)).or_else(|| {
            method
                .eq_ignore_ascii_case("HEAD")
                .then(|| self.find(host, &q, Some("GET")))
                .flatten()
        })?;
        self.operations.get(found)
    }

    /// The documented operation for an inventory template (`/users/{userId}`): a `{x}`
    /// segment matches a param segment of the spec, a concrete segment matches a literal,
    /// mixed or param segment.
    pub fn match_template(&self, host: &str, method: &str, template: &str) -> Option<&Operation> {
        let mut q = Vec::new();
        for seg in template.split('/').filter(|s| !s.is_empty()) {
            if q.len() > self.index.max_segments {
                return None;
            }
            q.push(match Segment::parse(seg) {
                Segment::Param(_) => Query::Placeholder,
                Segment::Mixed(p) => Query::Shape(shape(&p)),
                Segment::Literal(l) => Query::Concrete(Cow::Owned(l)),
            });
        }
        let found = self.find(host, &q, Some(method))?;
        self.operations.get(found)
    }

    /// The spec template for a request path, whatever the method (so spec templates take
    /// precedence when the sensor templates paths).
    pub fn path_template(&self, host: &str, path: &str) -> Option<&str> {
        let q = self.concrete_query(path)?;
        let found = self.find(host, &q, None)?;
        self.operations.get(found).map(|op| op.template.as_str())
    }

    /// Splits a request path into decoded segments; `None` when it has more segments than
    /// any template (nothing can match, and nothing more is allocated).
    fn concrete_query<'a>(&self, path: &'a str) -> Option<Vec<Query<'a>>> {
        let mut path = path;
        for scheme in ["http://", "https://"] {
            if path.len() >= scheme.len()
                && path.is_char_boundary(scheme.len())
                && path[..scheme.len()].eq_ignore_ascii_case(scheme)
            {
                let rest = &path[scheme.len()..];
                path = rest.find('/').map_or("/", |i| &rest[i..]);
            }
        }
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let mut q = Vec::new();
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            if q.len() >= self.index.max_segments {
                return None;
            }
            q.push(Query::Concrete(percent_decode(seg)));
        }
        Some(q)
    }

    fn find(&self, host: &str, q: &[Query<'_>], method: Option<&str>) -> Option<usize> {
        let ops = &self.operations;
        let mut accept = |i: usize| {
            method.is_none_or(|m| {
                ops.get(i)
                    .is_some_and(|op| op.method.eq_ignore_ascii_case(m))
            })
        };
        let host = normalize_host(host);
        let specific = if host.is_empty() {
            None
        } else {
            // host:port without an entry of its own falls back to the bare host name, and a
            // bare host to the specs that name it with a port.
            match self.index.by_host.get(&host) {
                Some(n) => Some(n),
                None => match host_without_port(&host) {
                    Some(bare) => self.index.by_host.get(bare),
                    None => self.index.by_bare.get(&host),
                },
            }
            .and_then(|n| n.find(q, &mut accept))
        };
        let any = self.index.any_host.find(q, &mut accept);
        match (specific, any) {
            (Some(s), Some(a)) => {
                let (Some(so), Some(ao)) = (ops.get(s), ops.get(a)) else {
                    return Some(s);
                };
                if ao.specificity().cmp(so.specificity()) == std::cmp::Ordering::Greater {
                    Some(a)
                } else {
                    Some(s)
                }
            }
            (s, a) => s.or(a),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn op(method: &str, template: &str, hosts: &[&str]) -> Operation {
        Operation::new(
            method,
            template,
            hosts.iter().map(|h| h.to_string()).collect(),
        )
    }

    fn set(ops: Vec<Operation>) -> SpecSet {
        SpecSet::from_operations(ops, Vec::new())
    }

    #[test]
    fn segment_parse() {
        assert_eq!(Segment::parse("users"), Segment::Literal("users".into()));
        assert_eq!(Segment::parse("{id}"), Segment::Param("id".into()));
        assert_eq!(
            Segment::parse("{name}.json"),
            Segment::Mixed(vec![
                Piece::Param("name".into()),
                Piece::Literal(".json".into())
            ])
        );
        assert_eq!(
            Segment::parse("{a}-{b}"),
            Segment::Mixed(vec![
                Piece::Param("a".into()),
                Piece::Literal("-".into()),
                Piece::Param("b".into())
            ])
        );
        assert_eq!(Segment::parse("a{b"), Segment::Literal("a{b".into()));
        assert_eq!(Segment::parse("caf%C3%A9"), Segment::Literal("café".into()));
    }

    #[test]
    fn mixed_segment_matching() {
        let s = Segment::parse("{name}.json");
        assert!(s.matches("report.json"));
        assert!(s.matches("a.b.json"));
        assert!(!s.matches(".json"), "a param needs one character at least");
        assert!(!s.matches("report.xml"));
        let s = Segment::parse("{a}-{b}");
        assert!(s.matches("x-y"));
        assert!(s.matches("x-y-z"));
        assert!(!s.matches("xy"));
        assert!(!s.matches("-y"));
        let s = Segment::parse("v{version}");
        assert!(s.matches("v2"));
        assert!(!s.matches("v"));
        assert!(!s.matches("x2"));
        // No exponential blow-up on a long hostile segment.
        let s = Segment::parse("{a}-{b}-{c}-{d}-{e}.x");
        let long = "-".repeat(100_000);
        assert!(!s.matches(&long));
        // Multi-byte characters on either side.
        assert!(Segment::parse("{n}é").matches("ééé"));
    }

    #[test]
    fn hosts_with_and_without_a_port() {
        let s = set(vec![
            op("GET", "/jira/rest/api/2/issue/{id}", &["jira.local:8080"]),
            op("GET", "/a", &["api.example.com"]),
            op("GET", "/b", &["api.example.com:9000"]),
        ]);
        // A request naming no port matches the spec that names one.
        assert_eq!(
            s.path_template("jira.local", "/jira/rest/api/2/issue/7"),
            Some("/jira/rest/api/2/issue/{id}")
        );
        assert!(s
            .path_template("jira.local:8080", "/jira/rest/api/2/issue/7")
            .is_some());
        // Another port is another service.
        assert!(s
            .path_template("jira.local:9999", "/jira/rest/api/2/issue/7")
            .is_none());
        // A spec naming the bare host wins over one naming it with a port.
        assert_eq!(s.path_template("api.example.com", "/a"), Some("/a"));
        assert_eq!(s.path_template("api.example.com", "/b"), None);
        assert_eq!(s.path_template("api.example.com:9000", "/b"), Some("/b"));
        assert_eq!(s.path_template("other.example.com", "/a"), None);
    }

    #[test]
    fn host_normalization() {
        assert_eq!(normalize_host("API.Example.com:443"), "api.example.com");
        assert_eq!(normalize_host("api.example.com:80"), "api.example.com");
        assert_eq!(
            normalize_host("api.example.com:8080"),
            "api.example.com:8080"
        );
        assert_eq!(normalize_host("example.com."), "example.com");
        assert_eq!(normalize_host("user:pw@h.example:443"), "h.example");
        assert_eq!(normalize_host("[::1]:443"), "[::1]");
        assert_eq!(normalize_host("[::1]:8443"), "[::1]:8443");
        assert_eq!(normalize_host("::1"), "::1");
    }

    #[test]
    fn template_normalization() {
        assert_eq!(
            normalize_template(&["/v2/", "/users/{id}/"]),
            "/v2/users/{id}"
        );
        assert_eq!(normalize_template(&["", "/"]), "/");
        assert_eq!(normalize_template(&["//a//b"]), "/a/b");
        assert_eq!(normalize_template(&["", "users"]), "/users");
    }

    #[test]
    fn literal_beats_param() {
        let s = set(vec![
            op("GET", "/users/{id}", &[]),
            op("GET", "/users/me", &[]),
            op("GET", "/users/{id}/orders/{orderId}", &[]),
            op("GET", "/users/me/orders/{orderId}", &[]),
        ]);
        let t = |p: &str| s.match_op("h", "GET", p).map(|o| o.template.as_str());
        assert_eq!(t("/users/me"), Some("/users/me"));
        assert_eq!(t("/users/42"), Some("/users/{id}"));
        assert_eq!(t("/users/me/orders/7"), Some("/users/me/orders/{orderId}"));
        assert_eq!(t("/users/5/orders/7"), Some("/users/{id}/orders/{orderId}"));
        assert_eq!(t("/users"), None);
        assert_eq!(t("/users/5/orders"), None);
        assert_eq!(t("/users/5/orders/7/x"), None);
    }

    #[test]
    fn backtracks_when_literal_branch_dead_ends() {
        // `/a/me` exists only for GET under the literal; POST must fall back to the param.
        let s = set(vec![
            op("GET", "/a/me/x", &[]),
            op("POST", "/a/{id}/x", &[]),
        ]);
        assert_eq!(
            s.match_op("h", "POST", "/a/me/x")
                .map(|o| o.template.as_str()),
            Some("/a/{id}/x")
        );
        assert_eq!(
            s.match_op("h", "GET", "/a/me/x")
                .map(|o| o.template.as_str()),
            Some("/a/me/x")
        );
        assert!(s.match_op("h", "GET", "/a/you/x").is_none());
    }

    #[test]
    fn mixed_precedence() {
        let s = set(vec![
            op("GET", "/files/{name}", &[]),
            op("GET", "/files/{name}.json", &[]),
            op("GET", "/files/{name}.tar.gz", &[]),
            op("GET", "/files/index.json", &[]),
        ]);
        let t = |p: &str| s.match_op("h", "GET", p).map(|o| o.template.as_str());
        assert_eq!(t("/files/a.json"), Some("/files/{name}.json"));
        assert_eq!(t("/files/a.tar.gz"), Some("/files/{name}.tar.gz"));
        assert_eq!(t("/files/index.json"), Some("/files/index.json"));
        assert_eq!(t("/files/a.xml"), Some("/files/{name}"));
    }

    #[test]
    fn hosts_and_methods() {
        let s = set(vec![
            op("GET", "/users/{id}", &["api.example.com"]),
            op("GET", "/users/me", &["other.example.com"]),
            op("DELETE", "/users/{id}", &[]),
        ]);
        assert_eq!(
            s.match_op("API.example.com:443", "get", "/users/me")
                .map(|o| o.template.as_str()),
            Some("/users/{id}")
        );
        assert_eq!(
            s.match_op("other.example.com", "GET", "/users/me")
                .map(|o| o.template.as_str()),
            Some("/users/me")
        );
        assert!(s.match_op("third.example.com", "GET", "/users/1").is_none());
        // Non-default port: falls back to the host name.
        assert!(s
            .match_op("api.example.com:8443", "GET", "/users/1")
            .is_some());
        assert_eq!(host_without_port("[::1]:8443"), Some("[::1]"));
        assert_eq!(host_without_port("[::1]"), None);
        assert_eq!(host_without_port("h:1"), Some("h"));
        assert_eq!(host_without_port("h"), None);
        assert!(s
            .match_op("third.example.com", "DELETE", "/users/1")
            .is_some());
        assert!(s.match_op("", "GET", "/users/1").is_none());
        // HEAD falls back to GET.
        assert!(s.match_op("api.example.com", "HEAD", "/users/1").is_some());
        assert!(s.match_op("api.example.com", "PUT", "/users/1").is_none());
    }

    #[test]
    fn any_host_more_specific_wins_then_host_specific_on_tie() {
        let mut a = op("GET", "/x/{id}", &["h"]);
        a.operation_id = Some("host".into());
        let mut b = op("GET", "/x/{id}", &[]);
        b.operation_id = Some("any".into());
        let c = op("GET", "/x/me", &[]);
        let s = set(vec![a, b, c]);
        assert_eq!(
            s.match_op("h", "GET", "/x/1")
                .and_then(|o| o.operation_id.as_deref()),
            Some("host")
        );
        assert_eq!(
            s.match_op("h", "GET", "/x/me").map(|o| o.template.as_str()),
            Some("/x/me")
        );
    }

    #[test]
    fn raw_paths() {
        let s = set(vec![op("GET", "/a b/{id}", &[]), op("GET", "/", &[])]);
        assert!(s.match_op("h", "GET", "/a%20b/1?x=1").is_some());
        assert!(s.match_op("h", "GET", "//a%20b//1/").is_some());
        assert!(s.match_op("h", "GET", "http://h/a%20b/1").is_some());
        assert_eq!(
            s.match_op("h", "GET", "/").map(|o| o.template.as_str()),
            Some("/")
        );
        assert_eq!(
            s.match_op("h", "GET", "").map(|o| o.template.as_str()),
            Some("/")
        );
        // %2F stays inside its segment.
        assert!(s.match_op("h", "GET", "/a%20b/1%2F2").is_some());
        // Invalid UTF-8 after decoding: compared raw, no panic.
        assert!(s.match_op("h", "GET", "/a%20b/%FF").is_some());
        let long = "/x".repeat(100_000);
        assert!(s.match_op("h", "GET", &long).is_none());
    }

    #[test]
    fn template_matching() {
        let s = set(vec![
            op("GET", "/users/{userId}", &[]),
            op("GET", "/users/me", &[]),
            op("GET", "/files/{name}.json", &[]),
        ]);
        let t = |p: &str| s.match_template("h", "GET", p).map(|o| o.template.as_str());
        assert_eq!(t("/users/{id}"), Some("/users/{userId}"));
        assert_eq!(t("/users/me"), Some("/users/me"));
        assert_eq!(t("/users/42"), Some("/users/{userId}"));
        assert_eq!(t("/files/{f}.json"), Some("/files/{name}.json"));
        assert_eq!(t("/files/{f}"), None);
        assert_eq!(s.path_template("h", "/users/me"), Some("/users/me"));
        assert_eq!(s.path_template("h", "/users/7"), Some("/users/{userId}"));
        assert_eq!(s.path_template("h", "/nope"), None);
    }

    #[test]
    fn statuses_fields_queries() {
        let mut o = op("POST", "/x", &[]);
        o.response_statuses = ["200", "4XX"].iter().map(|s| s.to_string()).collect();
        assert!(o.documents_status(200));
        assert!(o.documents_status(404));
        assert!(!o.documents_status(201));
        assert!(!o.documents_status(500));
        o.response_statuses.insert("default".into());
        assert!(o.documents_status(500));

        o.request_fields = ["$.user", "$.user.email", "$.items", "$.items[].id"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        o.request_open.insert("$.meta".into());
        assert!(o.documents_field("$.user.email"));
        assert!(o.documents_field("$.items[].id"));
        assert!(!o.documents_field("$.user.name"));
        assert!(o.documents_field("$.meta"));
        assert!(o.documents_field("$.meta.anything.deep"));
        assert!(o.documents_field("$.meta[].x"));
        assert!(!o.documents_field("$.metadata"));
        o.request_truncated = true;
        assert!(o.documents_field("$.whatever"));

        o.query_params.insert("limit".into());
        assert!(o.documents_query("limit"));
        assert!(!o.documents_query("offset"));
        o.query_open = true;
        assert!(o.documents_query("offset"));
    }

    #[test]
    fn many_operations_index() {
        let mut ops = Vec::new();
        for i in 0..3000 {
            ops.push(op("GET", &format!("/r{i}/{{id}}/sub{}", i % 7), &["h"]));
        }
        let s = set(ops);
        assert_eq!(
            s.match_op("h", "GET", "/r2999/abc/sub3")
                .map(|o| o.template.as_str()),
            Some("/r2999/{id}/sub3")
        );
        assert!(s.match_op("h", "GET", "/r2999/abc/sub4").is_none());
    }

    #[test]
    fn error_display() {
        let e = SpecError::UnsupportedVersion {
            origin: "a.yaml".into(),
            found: "openapi 4.0".into(),
        };
        assert!(e
            .to_string()
            .starts_with("spec a.yaml: unsupported version openapi 4.0"));
        let e = SpecError::TooLarge {
            origin: "b.json".into(),
            len: 10,
            limit: 5,
        };
        assert_eq!(e.to_string(), "spec b.json: 10 bytes, over the limit of 5");
        let e = SpecError::NotAnObject { origin: "c".into() };
        assert_eq!(e.to_string(), "spec c: the top level is not an object");
    }
}
