//! Stage 6 (analyze, discovery): turning raw request paths into endpoint templates such as
//! `/users/{userId}/orders/{orderId}`.
//!
//! Two steps, both deterministic:
//!
//! 1. **Per segment, stateless**: [`classify`] recognises values that are identifiers on
//!    sight (integers, UUIDs, 24-hex object ids, long hex, base64url tokens, mixed
//!    letter-digit ids, dates, emails, numbers with separators). Such a segment is a parameter
//!    the first time it is seen, on every worker.
//! 2. **By cardinality, learned**: [`PathTrie`] holds every path seen (host-agnostic, so
//!    hosts that share paths teach each other). [`PathTrie::evaluate`] makes a position a
//!    parameter when its sibling literal values under the same parent are clearly variable:
//!    at least `param_threshold` distinct values (`plural_threshold` under a plural
//!    collection name such as `users`) whose subtrees mostly look alike, or
//!    `force_threshold` values whatever they look like. Once a position is a parameter it
//!    stays one ("stable once assigned"), and the calls recorded under the literal values
//!    are folded into it.
//!
//! Never templated: the first segment, version prefixes (`v1`, `v2beta1`), `api`, static
//! files (`app.js`, `favicon.ico`), and words that real APIs use beside a parameter
//! (`/users/me`, `/customers/search`, `/pet/findByStatus`, `/user/login`).
//!
//! Placeholders are named from the parent segment (`/users/{userId}`,
//! `/categories/{categoryId}`), `{date}` / `{email}` for those kinds, `{id}` when the parent
//! is itself a parameter, and made unique within a template (`{id}`, `{id2}`). The name of a
//! node never changes once it exists.
//!
//! Guarantees: every structure is bounded (`max_children` literal values per position, beyond
//! which the position becomes a parameter at once; `max_nodes` in total, beyond which new
//! paths are folded into their deepest known prefix); each limit hit is counted in
//! [`TrieCounters`]. Nothing here panics on any input.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// What a path segment was recognised as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Int,
    Uuid,
    ObjectId,
    Hex,
    Token,
    MixedId,
    Date,
    Email,
    Number,
}

/// Limits and thresholds of path learning (`[discovery]` in the config file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemplateConfig {
    /// Distinct literal values under one parent that make the position a parameter when
    /// their subtrees look alike (default 8).
    pub param_threshold: usize,
    /// The same under a plural collection name such as `users` or `categories` (default 4).
    pub plural_threshold: usize,
    /// Distinct literal values that make the position a parameter whatever they look like
    /// (default 32).
    pub force_threshold: usize,
    /// Share of the values whose subtrees must be alike (default 0.5).
    pub similarity: f64,
    /// Literal values kept per position before it becomes a parameter at once (default 1000).
    pub max_children: usize,
    /// Trie nodes in total (default 200000); beyond, new paths stop at their known prefix.
    pub max_nodes: usize,
    /// Segments at most this deep are learned (default 32); deeper ones are folded.
    pub max_depth: usize,
    /// Extra words never templated (besides the built-in list).
    pub keep_words: Vec<String>,
}

impl Default for TemplateConfig {
    fn default() -> Self {
        TemplateConfig {
            param_threshold: 8,
            plural_threshold: 4,
            force_threshold: 32,
            similarity: 0.5,
            max_children: 1000,
            max_nodes: 200_000,
            max_depth: 32,
            keep_words: Vec::new(),
        }
    }
}

/// Counted limit hits and decisions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrieCounters {
    /// Positions made parameters by [`PathTrie::evaluate`].
    pub params_learned: u64,
    /// Positions made parameters because `max_children` was reached.
    pub max_children_hits: u64,
    /// Paths cut short because `max_nodes` was reached.
    pub max_nodes_hits: u64,
    /// Paths cut short because they were deeper than `max_depth`.
    pub max_depth_hits: u64,
}

// ------------------------------------------------------------------------------ segments

/// The non-empty segments of a path (`/a//b/` gives `a`, `b`), the last one split from
/// its format suffix (see [`FORMAT_SUFFIXES`]).
pub fn segments(path: &str) -> Segments<'_> {
    Segments {
        rest: path,
        suffix: None,
    }
}

/// The iterator of [`segments`]: a byte scan for `/` (segments are short, so a plain loop
/// beats a searcher per segment). [`Segments::at_end`] tells the last segment.
pub struct Segments<'a> {
    rest: &'a str,
    suffix: Option<&'static str>,
}

impl Segments<'_> {
    /// Whether every segment has been returned (after the last one: no need to peek).
    pub fn at_end(&self) -> bool {
        self.rest.is_empty() && self.suffix.is_none()
    }
}

impl<'a> Iterator for Segments<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if let Some(s) = self.suffix.take() {
            return Some(s);
        }
        let rest: &'a str = self.rest;
        let b = rest.as_bytes();
        let mut i = 0;
        while b.get(i) == Some(&b'/') {
            i += 1;
        }
        if i == b.len() {
            self.rest = "";
            return None;
        }
        let start = i;
        while b.get(i).is_some_and(|&c| c != b'/') {
            i += 1;
        }
        let end = i;
        while b.get(i) == Some(&b'/') {
            i += 1;
        }
        // `/` is ASCII: the cuts are character boundaries.
        let seg = rest.get(start..end).unwrap_or_default();
        self.rest = rest.get(i..).unwrap_or_default();
        if self.rest.is_empty() {
            if let Some((stem, pseudo)) = format_suffix(seg) {
                self.suffix = Some(pseudo);
                return Some(stem);
            }
        }
        Some(seg)
    }
}

/// Response-format suffixes of a path's last segment (`/accounts/42.json`,
/// `/statuses/show.xml`), each with the pseudo-segment that stands for it in the trie. A
/// pseudo-segment starts with `/`, which no real segment contains: it is never templated
/// and is rendered without a separator, so `/accounts/42.json` becomes
/// `/accounts/{accountId}.json`.
const FORMAT_SUFFIXES: &[(&str, &str)] = &[
    ("json", "/.json"),
    ("xml", "/.xml"),
    ("csv", "/.csv"),
    ("yaml", "/.yaml"),
    ("yml", "/.yml"),
    ("jsonl", "/.jsonl"),
    ("ndjson", "/.ndjson"),
    ("geojson", "/.geojson"),
    ("atom", "/.atom"),
    ("rss", "/.rss"),
];

/// `(stem, pseudo-segment)` when `seg` ends in a format suffix after a non-empty stem.
fn format_suffix(seg: &str) -> Option<(&str, &'static str)> {
    // A plain backward loop: segments are a few bytes, shorter than a searcher pays for.
    let dot = seg.bytes().rposition(|c| c == b'.')?;
    let (stem, ext) = (seg.get(..dot)?, seg.get(dot + 1..)?);
    if stem.is_empty() || !(3..=7).contains(&ext.len()) {
        return None;
    }
    FORMAT_SUFFIXES
        .iter()
        .find(|(e, _)| ext.eq_ignore_ascii_case(e))
        .map(|&(_, pseudo)| (stem, pseudo))
}

/// A segment as written in a template: a format pseudo-segment without its `/`.
fn shown(seg: &str) -> &str {
    seg.strip_prefix('/').unwrap_or(seg)
}

/// Percent-decodes a segment for classification (invalid escapes are kept as they are).
fn percent_decode(seg: &str) -> std::borrow::Cow<'_, str> {
    // A byte loop: segments are shorter than a searcher's set-up pays for.
    if !seg.bytes().any(|c| c == b'%') {
        return std::borrow::Cow::Borrowed(seg);
    }
    let b = seg.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b.get(i), b.get(i + 1), b.get(i + 2)) {
            (Some(b'%'), Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let v = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(v as u8);
                i += 3;
            }
            (Some(&c), _, _) => {
                out.push(c);
                i += 1;
            }
            (None, _, _) => break,
        }
    }
    std::borrow::Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_hexdigit())
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_date(s: &str) -> bool {
    // YYYY-MM-DD, optionally followed by a time (2026-01-15T10:00:00Z).
    let b = s.as_bytes();
    if b.len() < 10 {
        return false;
    }
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    if !(digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10)) {
        return false;
    }
    let month = (b[5] - b'0') * 10 + (b[6] - b'0');
    let day = (b[8] - b'0') * 10 + (b[9] - b'0');
    (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (b.len() == 10 || matches!(b[10], b'T' | b't' | b' ' | b'_'))
}

fn is_email(s: &str) -> bool {
    let Some(at) = s.find('@') else { return false };
    let (local, domain) = (&s[..at], &s[at + 1..]);
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
        && domain
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|c| c.is_ascii_alphabetic()))
}

/// Counts of character classes in `s`.
struct Shape {
    upper: usize,
    lower: usize,
    digit: usize,
    other: usize,
    /// Lowercase-to-uppercase steps (`fooBar` has one).
    camel_steps: usize,
    /// Uppercase letters directly followed by another letter change (`aBcD`-like noise).
    case_flips: usize,
}

fn shape(s: &str) -> Shape {
    let mut sh = Shape {
        upper: 0,
        lower: 0,
        digit: 0,
        other: 0,
        camel_steps: 0,
        case_flips: 0,
    };
    let mut prev: Option<u8> = None;
    for c in s.bytes() {
        if c.is_ascii_uppercase() {
            sh.upper += 1;
            if prev.is_some_and(|p| p.is_ascii_lowercase()) {
                sh.camel_steps += 1;
            }
        } else if c.is_ascii_lowercase() {
            sh.lower += 1;
        } else if c.is_ascii_digit() {
            sh.digit += 1;
        } else {
            sh.other += 1;
        }
        if let Some(p) = prev {
            if p.is_ascii_alphabetic()
                && c.is_ascii_alphabetic()
                && p.is_ascii_uppercase() != c.is_ascii_uppercase()
            {
                sh.case_flips += 1;
            }
        }
        prev = Some(c);
    }
    sh
}

/// Looks like a version prefix: `v1`, `v2`, `v1.1`, `v1beta1`, `v2alpha`, `V3`.
pub fn is_version(seg: &str) -> bool {
    let b = seg.as_bytes();
    if b.len() < 2 || !(b[0] == b'v' || b[0] == b'V') || !b[1].is_ascii_digit() {
        return false;
    }
    let rest = &seg[1..];
    let num_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(rest.len());
    let tail = &rest[num_end..];
    tail.is_empty()
        || ["alpha", "beta", "rc", "preview"].iter().any(|t| {
            tail.strip_prefix(t)
                .is_some_and(|n| n.bytes().all(|c| c.is_ascii_digit()))
        })
}

/// A version without its `v` (`1.0`, `2.1`, `1.1.0`): one or two digits, then one or two
/// dotted groups. Only a version near the root (`/api/1.0/...`, `/1.1/...`); deeper, such a
/// segment is a value (`/ratings/4.5`).
fn is_dotted_version(seg: &str) -> bool {
    let mut groups = 0;
    for g in seg.split('.') {
        if g.is_empty() || g.len() > 2 || !g.bytes().all(|c| c.is_ascii_digit()) {
            return false;
        }
        groups += 1;
    }
    (2..=3).contains(&groups)
}

/// A version as a bare number (`1`, `2`) or a dotted one, kept literal right after `api` or
/// `rest` (`/rest/api/2/issue`, `/api/1.0/users`).
fn is_bare_version(seg: &str) -> bool {
    (!seg.is_empty() && seg.len() <= 2 && seg.bytes().all(|c| c.is_ascii_digit()))
        || is_dotted_version(seg)
}

/// Whether a segment after `parent` is a version: `parent` is `api` or `rest` and the
/// segment a bare or dotted number.
fn is_version_after(parent: Option<&str>, seg: &str) -> bool {
    parent.is_some_and(|p| p.eq_ignore_ascii_case("api") || p.eq_ignore_ascii_case("rest"))
        && is_bare_version(seg)
}

const STATIC_EXTENSIONS: &[&str] = &[
    "js",
    "mjs",
    "css",
    "map",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "svg",
    "ico",
    "webp",
    "avif",
    "woff",
    "woff2",
    "ttf",
    "eot",
    "otf",
    "html",
    "htm",
    "txt",
    "xml",
    "webmanifest",
    "wasm",
];

/// A static file name (`app.js`, `favicon.ico`, `robots.txt`).
pub fn is_static_file(seg: &str) -> bool {
    let Some(dot) = seg.bytes().rposition(|c| c == b'.') else {
        return false;
    };
    // `.` is ASCII: both cuts are character boundaries.
    let (stem, ext) = (
        seg.get(..dot).unwrap_or_default(),
        seg.get(dot + 1..).unwrap_or_default(),
    );
    !stem.is_empty()
        && STATIC_EXTENSIONS
            .iter()
            .any(|e| ext.eq_ignore_ascii_case(e))
}

/// Words real APIs put beside a parameter (`/users/me`, `/customers/search`): kept literal
/// wherever they are.
const KEEP_WORDS: &[&str] = &[
    "me",
    "self",
    "current",
    "mine",
    "my",
    "search",
    "find",
    "lookup",
    "query",
    "count",
    "new",
    "latest",
    "recent",
    "all",
    "batch",
    "bulk",
    "export",
    "import",
    "stats",
    "statistics",
    "summary",
    "settings",
    "config",
    "configuration",
    "status",
    "health",
    "healthz",
    "readyz",
    "livez",
    "ping",
    "metrics",
    "metadata",
    "schema",
    "autocomplete",
    "suggest",
    "suggestions",
    "validate",
    "verify",
    "login",
    "logout",
    "signin",
    "signout",
    "signup",
    "register",
    "oauth",
    "token",
    "tokens",
    "refresh",
    "callback",
    "upload",
    "download",
    "archived",
    "deleted",
    "popular",
    "trending",
    "featured",
    "random",
    "history",
    "preferences",
    "password",
    "reset",
    "forgot",
    "confirm",
    "activate",
    "deactivate",
    "enable",
    "disable",
    "cancel",
    "approve",
    "reject",
    "reopen",
    "sync",
    "overview",
    "available",
    "pending",
    "upcoming",
    "today",
    "checkout",
    "cart",
    "eviction",
    "ephemeralcontainers",
    "finalize",
    "portforward",
];

/// Service-level words kept literal only near the root (second segment: `/svc/api/v1`,
/// `/v1/admin/...`); deeper they may well be values (a repository named `api` or `docs`).
const SHALLOW_WORDS: &[&str] = &[
    "api",
    "apis",
    "rest",
    "graphql",
    "openapi",
    "swagger",
    "docs",
    "info",
    "version",
    "versions",
    "webhooks",
    "webhook",
    "callbacks",
    "internal",
    "admin",
    "public",
    "private",
    "auth",
    "debug",
    "v",
];

/// First words of action segments (`findByStatus`, `by-email`, `createWithList`).
const ACTION_PREFIXES: &[&str] = &[
    "by", "find", "get", "list", "search", "create", "update", "delete", "remove", "add", "set",
    "check", "upload", "download", "with", "for", "from", "to", "generate", "send", "bulk",
    "batch", "export", "import", "count", "is", "has",
];

/// The first word of a segment split at `-`, `_`, `.` and camelCase steps, lower-cased.
fn first_word(seg: &str) -> String {
    let mut w = String::new();
    for (i, c) in seg.char_indices() {
        if c == '-' || c == '_' || c == '.' || (i > 0 && c.is_ascii_uppercase()) {
            break;
        }
        w.push(c.to_ascii_lowercase());
    }
    w
}

/// True for a segment kept literal at `depth` (0 = first segment) whatever its siblings.
type WordSet = std::collections::HashSet<&'static str, foldhash::fast::FixedState>;

/// Words real APIs use as literal path segments (`api_words.txt`: what at least three API
/// providers of a public directory of OpenAPI descriptions use).
const API_WORDS: &str = include_str!("api_words.txt");

/// Whether `seg` (any case) is one of [`API_WORDS`].
fn is_api_word(seg: &str) -> bool {
    static SET: std::sync::OnceLock<WordSet> = std::sync::OnceLock::new();
    let set = SET.get_or_init(|| {
        API_WORDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    });
    let mut low = [0u8; 48];
    seg.len() <= low.len() && set.contains(&*super::ascii_lower(seg, &mut low))
}

/// `KEEP_WORDS` and `SHALLOW_WORDS` as sets.
fn word_sets() -> &'static (WordSet, WordSet) {
    static SETS: std::sync::OnceLock<(WordSet, WordSet)> = std::sync::OnceLock::new();
    SETS.get_or_init(|| {
        let set = |l: &[&'static str]| l.iter().copied().collect::<WordSet>();
        (set(KEEP_WORDS), set(SHALLOW_WORDS))
    })
}

pub fn is_protected(seg: &str, depth: usize, extra: &[String]) -> bool {
    if depth == 0
        || seg.starts_with('/')
        || is_version(seg)
        || (depth == 1 && is_dotted_version(seg))
    {
        return true;
    }
    // No list word is longer than 24 bytes, and none has a digit: most values stop here.
    if seg.len() > 24 || seg.bytes().any(|c| c.is_ascii_digit()) {
        return extra.iter().any(|w| w.eq_ignore_ascii_case(seg));
    }
    // Looked up lower-cased in a set (every list word is lower case).
    let mut low = [0u8; 24];
    let lower = super::ascii_lower(seg, &mut low);
    let lower: &str = &lower;
    let (keep, shallow) = word_sets();
    if keep.contains(lower)
        || (depth <= 1 && shallow.contains(lower))
        || extra.iter().any(|w| w.eq_ignore_ascii_case(seg))
    {
        return true;
    }
    // Action words: `findByStatus`, `createWithArray` (camelCase, a verb first), `by-email`.
    // Kebab-case words are not enough (`search-indexer` is as likely a name).
    let camel = seg.starts_with(|c: char| c.is_ascii_lowercase())
        && seg.bytes().any(|c| c.is_ascii_uppercase())
        && seg.bytes().all(|c| c.is_ascii_alphabetic());
    let by = ["by-", "by_", "for-", "for_", "with-", "with_"]
        .iter()
        .any(|p| {
            // Bytes, not `str` slicing: the segment may hold multi-byte characters there.
            seg.len() > p.len()
                && seg
                    .as_bytes()
                    .get(..p.len())
                    .is_some_and(|h| h.eq_ignore_ascii_case(p.as_bytes()))
        });
    if !(camel || by) {
        return false;
    }
    let fw = first_word(seg);
    ACTION_PREFIXES.contains(&fw.as_str())
}

/// Recognises identifier-like values. `None`: a literal (possibly a slug, decided by
/// cardinality).
///
/// A placeholder (`{userId}`) is a parameter too: workers send the owner paths as they
/// templated them, so calls of a learned position arrive already folded.
pub fn classify(raw: &str) -> Option<Kind> {
    if raw.len() > 2 && raw.starts_with('{') && raw.ends_with('}') {
        return Some(Kind::Token);
    }
    let seg = percent_decode(raw);
    let s = seg.as_ref();
    if s.is_empty() || s.len() > 512 {
        return if s.is_empty() {
            None
        } else {
            Some(Kind::Token)
        };
    }
    if s.bytes().all(|c| c.is_ascii_digit()) {
        return Some(Kind::Int);
    }
    if is_uuid(s) {
        return Some(Kind::Uuid);
    }
    if s.len() == 24 && is_hex(s) {
        return Some(Kind::ObjectId);
    }
    if s.len() >= 16 && is_hex(s) && s.bytes().any(|c| c.is_ascii_digit()) {
        return Some(Kind::Hex);
    }
    if is_date(s) {
        return Some(Kind::Date);
    }
    if is_email(s) {
        return Some(Kind::Email);
    }
    if is_version(s) || is_static_file(s) {
        return None;
    }
    // Numbers with separators: 1.5, 2024-01, 555-0100, 1,000, 4.17.21.
    if s.bytes().any(|c| c.is_ascii_digit())
        && s.bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'_' | b':' | b',' | b'+'))
    {
        return Some(Kind::Number);
    }
    let sh = shape(s);
    let letters = sh.upper + sh.lower;
    // Long base64url-looking tokens: mixed case with digits, or very long mixed case.
    let b64 = s
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'=' | b'.' | b'~'));
    if b64 && s.len() >= 20 && sh.upper > 0 && sh.lower > 0 && (sh.digit > 0 || sh.case_flips >= 6)
    {
        return Some(Kind::Token);
    }
    // Mixed letter-digit ids: `cus_NffrFeUfNV2Hib`, `ord-12345`, `A1B2C3D4`, `abc123def456`,
    // `payments-api-7d9f8`. Words with a digit or two (`oauth2`, `ipv4`, `s3`, `top10`)
    // stay literal.
    if letters > 0 && sh.digit > 0 {
        // The part after the last separator carries the id in `prefix_id` forms.
        let tail = s.rsplit(['-', '_', '.', ':']).next().unwrap_or(s);
        let tsh = shape(tail);
        let tail_digits = tsh.digit;
        if sh.digit >= 3 && s.len() >= 5 {
            return Some(Kind::MixedId);
        }
        if tail.len() >= 4 && tail_digits >= 1 && tsh.upper + tsh.lower >= 1 && is_hex(tail) {
            return Some(Kind::MixedId);
        }
        if s.len() >= 10 && sh.digit >= 2 {
            return Some(Kind::MixedId);
        }
        if tail.len() >= 8 && tsh.case_flips >= 3 {
            return Some(Kind::MixedId);
        }
    }
    // Random lower-case ids with digits inside (`xxtvanvl2x`, `k3j9q0zt`): letters and
    // digits alternate at least twice. Words with a number at the end (`windows10`) do not.
    if s.len() >= 8
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        let flips = s
            .as_bytes()
            .windows(2)
            .filter(|w| w[0].is_ascii_digit() != w[1].is_ascii_digit())
            .count();
        if sh.digit > 0 && flips >= 2 {
            return Some(Kind::MixedId);
        }
    }
    // Generated names (`grafana-cdjlpdfcjw-zrwn5`, Kubernetes pods): a part of six or more
    // letters and digits without a vowel is not a word.
    if s.split(['-', '_', '.']).any(|part| {
        part.len() >= 6
            && part.bytes().all(|c| c.is_ascii_alphanumeric())
            && !part.bytes().any(|c| {
                matches!(
                    c.to_ascii_lowercase(),
                    b'a' | b'e' | b'i' | b'o' | b'u' | b'y'
                )
            })
    }) {
        return Some(Kind::MixedId);
    }
    // Random-case ids without digits (`NffrFeUfNVHibXq`): many case flips, not camelCase.
    if b64 && s.len() >= 12 && sh.case_flips >= 6 && sh.case_flips * 3 >= letters {
        return Some(Kind::Token);
    }
    // `prefix_RandomPart` forms where the part after the separator is random-case.
    if let Some((_, tail)) = s.rsplit_once(['_', '-']) {
        let tsh = shape(tail);
        if tail.len() >= 10 && tsh.case_flips >= 4 && tsh.upper >= 2 && tsh.lower >= 2 {
            return Some(Kind::MixedId);
        }
    }
    None
}

// ------------------------------------------------------------------------------- naming

/// `users` -> `user`, `categories` -> `category`, `addresses` -> `address`.
fn singular(word: &str) -> String {
    let w = word.to_ascii_lowercase();
    let irregular = [
        ("people", "person"),
        ("children", "child"),
        ("men", "man"),
        ("women", "woman"),
        ("data", "data"),
        ("media", "media"),
        ("indices", "index"),
        ("analyses", "analysis"),
        ("statuses", "status"),
        ("aliases", "alias"),
    ];
    if let Some((_, s)) = irregular.iter().find(|(p, _)| *p == w) {
        return (*s).to_string();
    }
    if let Some(stem) = w.strip_suffix("ies") {
        if stem.len() >= 2 {
            return format!("{stem}y");
        }
    }
    for suffix in ["sses", "xes", "ches", "shes", "zzes"] {
        if w.ends_with(suffix) {
            return w[..w.len() - 2].to_string();
        }
    }
    if w.ends_with('s')
        && !w.ends_with("ss")
        && !w.ends_with("us")
        && !w.ends_with("is")
        && w.len() > 3
    {
        return w[..w.len() - 1].to_string();
    }
    w
}

/// Looks like a plural collection name (`users`, `categories`, `repos`).
fn is_plural(word: &str) -> bool {
    let w = word.to_ascii_lowercase();
    singular(&w) != w || ["people", "children", "data", "media"].contains(&w.as_str())
}

/// `order-items` -> `orderItems` (letters and digits only, camelCase).
fn camel(word: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in word.chars() {
        if c.is_ascii_alphanumeric() {
            if up && !out.is_empty() {
                out.push(c.to_ascii_uppercase());
            } else if out.is_empty() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
            up = false;
        } else {
            up = true;
        }
    }
    out
}

/// The placeholder name for a parameter under `parent` (a literal segment, or None when the
/// parent is the root, a parameter, a version or `api`).
/// Parent literals whose [`base_name`]s a thread remembers (lookups of paths the learned
/// shape does not hold yet name a parameter per call).
const BASE_NAME_MEMO: usize = 1024;

/// (kind, parent, name) by a hash of (kind, parent). The key is a hash already: foldhash
/// spreads it in a few instructions, where the standard SipHash took about a hundred.
type BaseNames = std::collections::HashMap<
    u64,
    (Option<Kind>, Option<String>, std::rc::Rc<str>),
    foldhash::fast::FixedState,
>;

/// Segments whose [`classify`] and [`is_protected`] verdicts a thread remembers (cleared
/// when full).
const CLASSIFY_MEMO: usize = 4096;
/// Longest segment remembered.
const CLASSIFY_MEMO_LEN: usize = 48;

/// What the stateless rules say of a segment without a digit.
#[derive(Clone)]
struct SegmentFacts {
    kind: Option<Kind>,
    /// [`is_protected`] with no extra words, at depth 1 and deeper (depth 0 is always
    /// protected, and no other depth changes the verdict).
    protected_shallow: bool,
    protected_deep: bool,
    /// [`base_name`] of a parameter below this segment (of any kind but a date or an
    /// e-mail address, whose names do not depend on the parent).
    base: std::rc::Rc<str>,
}

thread_local! {
    /// The facts of segments without a digit (the words of paths, which repeat; values
    /// with digits are mostly identifiers seen once, and quick to judge anyway).
    static SEGMENT_FACTS: std::cell::RefCell<foldhash::HashMap<Box<str>, SegmentFacts>> =
        std::cell::RefCell::new(foldhash::HashMap::default());
}

/// The remembered facts of `seg`; `None` for a segment not remembered (one with a digit,
/// or longer than [`CLASSIFY_MEMO_LEN`]).
fn segment_facts(seg: &str) -> Option<SegmentFacts> {
    if seg.len() > CLASSIFY_MEMO_LEN || seg.bytes().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let hit = SEGMENT_FACTS.with(|m| m.try_borrow().ok()?.get(seg).cloned());
    if hit.is_some() {
        return hit;
    }
    let facts = SegmentFacts {
        kind: classify(seg),
        protected_shallow: is_protected(seg, 1, &[]),
        protected_deep: is_protected(seg, 2, &[]),
        base: base_name(Some(seg), None).into(),
    };
    SEGMENT_FACTS.with(|m| {
        if let Ok(mut m) = m.try_borrow_mut() {
            if m.len() >= CLASSIFY_MEMO {
                m.clear();
            }
            m.insert(seg.into(), facts.clone());
        }
    });
    Some(facts)
}

/// [`classify`], remembered per thread for segments without a digit.
fn classify_cached(seg: &str) -> Option<Kind> {
    kind_with(segment_facts(seg).as_ref(), seg)
}

/// [`classify`] of `seg`, from its facts when they are remembered.
fn kind_with(facts: Option<&SegmentFacts>, seg: &str) -> Option<Kind> {
    match facts {
        Some(f) => f.kind,
        None => classify(seg),
    }
}

/// [`is_protected`], remembered per thread for segments without a digit.
fn is_protected_cached(seg: &str, depth: usize, extra: &[String]) -> bool {
    depth == 0 || protected_with(segment_facts(seg).as_ref(), seg, depth, extra)
}

/// [`is_protected`] of `seg`, from its facts when they are remembered: a word's verdict
/// without extra words depends only on whether it is at depth 0, 1 or deeper, and the
/// extra words only add to it.
fn protected_with(facts: Option<&SegmentFacts>, seg: &str, depth: usize, extra: &[String]) -> bool {
    match facts {
        Some(_) if depth == 0 => true,
        Some(f) => {
            (if depth == 1 {
                f.protected_shallow
            } else {
                f.protected_deep
            }) || extra.iter().any(|w| w.eq_ignore_ascii_case(seg))
        }
        None => is_protected(seg, depth, extra),
    }
}

thread_local! {
    static BASE_NAMES: std::cell::RefCell<BaseNames> =
        std::cell::RefCell::new(BaseNames::default());
}

/// [`base_name`], remembered per thread.
fn base_name_cached(parent: Option<&str>, kind: Option<Kind>) -> std::rc::Rc<str> {
    // Date and e-mail names do not depend on the parent.
    let parent = match kind {
        Some(Kind::Date | Kind::Email) => None,
        _ => parent,
    };
    let h = std::hash::BuildHasher::hash_one(
        &foldhash::fast::FixedState::with_seed(0xba5e),
        (kind, parent),
    );
    let hit = BASE_NAMES.with(|m| {
        let m = m.try_borrow().ok()?;
        let (k, p, name) = m.get(&h)?;
        (*k == kind && p.as_deref() == parent).then(|| name.clone())
    });
    if let Some(name) = hit {
        return name;
    }
    let name: std::rc::Rc<str> = base_name(parent, kind).into();
    BASE_NAMES.with(|m| {
        if let Ok(mut m) = m.try_borrow_mut() {
            if m.len() >= BASE_NAME_MEMO {
                m.clear();
            }
            m.insert(h, (kind, parent.map(str::to_owned), name.clone()));
        }
    });
    name
}

fn base_name(parent: Option<&str>, kind: Option<Kind>) -> String {
    match kind {
        Some(Kind::Date) => return "date".into(),
        Some(Kind::Email) => return "email".into(),
        _ => {}
    }
    let Some(p) = parent else {
        return "id".into();
    };
    if is_version(p) || p.eq_ignore_ascii_case("api") {
        return "id".into();
    }
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in p.chars() {
        if c.is_ascii_alphanumeric() {
            cur.push(c);
        } else if !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    let Some(last) = words.pop() else {
        return "id".into();
    };
    words.push(singular(&last));
    let name = camel(&words.join("-"));
    if name.is_empty() || name.len() > 40 || name.starts_with(|c: char| c.is_ascii_digit()) {
        return "id".into();
    }
    format!("{name}Id")
}

/// `base` made unique among `taken` (`id`, `id2`, `id3`).
fn unique_name(base: String, taken: &[&str]) -> String {
    match unique_name_by(&base, |c| taken.contains(&c)) {
        std::borrow::Cow::Borrowed(_) => base,
        std::borrow::Cow::Owned(name) => name,
    }
}

/// The first of `base`, `base2`, `base3`, ... that `taken` says is free: the one naming
/// rule of [`unique_name`] and [`push_unique_name`].
fn unique_name_by(base: &str, taken: impl Fn(&str) -> bool) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    if !taken(base) {
        return Cow::Borrowed(base);
    }
    (2..)
        .map(|n| format!("{base}{n}"))
        .find(|c| !taken(c))
        .map_or(Cow::Borrowed(base), Cow::Owned)
}

/// Where the parameter names of a template being written are: the first few in place
/// (most paths have one or two parameters; a vector allocated per lookup showed in
/// profiles), the rest in a vector.
#[derive(Default)]
struct NameRanges {
    first: [(usize, usize); 4],
    len: usize,
    more: Vec<std::ops::Range<usize>>,
}

impl NameRanges {
    fn push(&mut self, r: std::ops::Range<usize>) {
        match self.first.get_mut(self.len) {
            Some(slot) => *slot = (r.start, r.end),
            None => self.more.push(r),
        }
        self.len += 1;
    }

    fn iter(&self) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        let n = self.len.min(self.first.len());
        self.first
            .iter()
            .take(n)
            .map(|&(a, b)| a..b)
            .chain(self.more.iter().cloned())
    }
}

/// Appends `{name}` to `out`, `name` being [`unique_name`] of `base` among the names at
/// `names` in `out`, and records where it is.
fn push_unique_name(out: &mut String, names: &mut NameRanges, base: &str) {
    let name = unique_name_by(base, |c| names.iter().any(|r| out.get(r) == Some(c)));
    out.push('{');
    let start = out.len();
    out.push_str(&name);
    names.push(start..out.len());
    out.push('}');
}

// --------------------------------------------------------------------------------- trie

/// Index of a node in a [`PathTrie`].
pub type NodeId = u32;

const ROOT: NodeId = 0;

/// Data kept per endpoint at a trie node that can absorb another's when positions merge.
pub trait Fold: Default {
    /// Adds `other` into `self`.
    fn fold(&mut self, other: Self);
}

impl Fold for u64 {
    fn fold(&mut self, other: Self) {
        *self += other;
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Node<T> {
    /// The literal segment, or None for a parameter.
    lit: Option<String>,
    /// Placeholder name (parameters only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    name: String,
    parent: NodeId,
    depth: u16,
    literals: BTreeMap<String, NodeId>,
    param: Option<NodeId>,
    /// Literal values below are folded into `param` (the position is variable).
    merged: bool,
    /// Data of the endpoints ending here, by a key of the caller's (apitap: the host).
    ends: BTreeMap<String, T>,
    /// Freed by a merge (its index may be reused).
    #[serde(default)]
    dead: bool,
    /// How many nodes were folded into this one (1 for a node never merged into).
    #[serde(default = "one")]
    support: u32,
}

fn one() -> u32 {
    1
}

impl<T> Node<T> {
    fn new(lit: Option<String>, name: String, parent: NodeId, depth: u16) -> Self {
        Node {
            lit,
            name,
            parent,
            depth,
            literals: BTreeMap::new(),
            param: None,
            merged: false,
            ends: BTreeMap::new(),
            dead: false,
            support: 1,
        }
    }
}

/// The learned paths of every host (see the module docs).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound(
    serialize = "T: Serialize",
    deserialize = "T: Deserialize<'de> + Default"
))]
pub struct PathTrie<T> {
    nodes: Vec<Node<T>>,
    free: Vec<NodeId>,
    #[serde(skip)]
    pub counters: TrieCounters,
}

impl<T: Fold> Default for PathTrie<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Where a segment leads from a node: a literal (with its child when the trie has it) or
/// the parameter position.
enum Step {
    Literal(Option<NodeId>),
    Param(Option<Kind>),
}

impl<T: Fold> PathTrie<T> {
    pub fn new() -> Self {
        PathTrie {
            nodes: vec![Node::new(Some(String::new()), String::new(), ROOT, 0)],
            free: Vec::new(),
            counters: TrieCounters::default(),
        }
    }

    /// Live nodes.
    pub fn len(&self) -> usize {
        self.nodes.len() - self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() <= 1
    }

    /// Whether the trie has learned nothing at all: [`PathTrie::lookup`] in it gives what it
    /// gives in [`PathTrie::new`] (the stateless rules) for every path.
    pub fn is_blank(&self) -> bool {
        self.nodes
            .first()
            .is_some_and(|root| root.literals.is_empty() && root.param.is_none() && !root.merged)
    }

    fn node(&self, id: NodeId) -> &Node<T> {
        &self.nodes[id as usize]
    }

    fn node_mut(&mut self, id: NodeId) -> &mut Node<T> {
        &mut self.nodes[id as usize]
    }

    /// The names of the parameters from the root to `id` (inclusive).
    fn names_to(&self, mut id: NodeId) -> Vec<&str> {
        let mut v = Vec::new();
        while id != ROOT {
            let n = self.node(id);
            if n.lit.is_none() {
                v.push(n.name.as_str());
            }
            id = n.parent;
        }
        v
    }

    /// The placeholder name a new parameter child of `parent` gets.
    fn child_param_name(&self, parent: NodeId, kind: Option<Kind>) -> String {
        let p = self.node(parent);
        let parent_lit = if parent == ROOT {
            None
        } else {
            p.lit.as_deref()
        };
        unique_name(base_name(parent_lit, kind), &self.names_to(parent))
    }

    /// Where `seg` leads from `at`; `last`: it ends the path (a static file name is kept
    /// only there: `next.js` inside a path is a repository, not a script).
    fn step(&self, at: NodeId, seg: &str, extra: &[String], last: bool) -> Step {
        let n = self.node(at);
        if let Some(&id) = n.literals.get(seg) {
            return Step::Literal(Some(id));
        }
        if is_protected_cached(seg, usize::from(n.depth), extra)
            || (last && is_static_file(seg))
            || is_version_after(n.lit.as_deref(), seg)
        {
            return Step::Literal(None);
        }
        if let Some(k) = classify_cached(seg) {
            return Step::Param(Some(k));
        }
        if n.merged {
            return Step::Param(None);
        }
        Step::Literal(None)
    }

    fn alloc(&mut self, node: Node<T>) -> NodeId {
        if let Some(id) = self.free.pop() {
            self.nodes[id as usize] = node;
            id
        } else {
            self.nodes.push(node);
            (self.nodes.len() - 1) as NodeId
        }
    }

    /// Records a call of `method` on `path`; returns the node of its endpoint.
    pub fn insert(&mut self, path: &str, cfg: &TemplateConfig) -> NodeId {
        let mut at = ROOT;
        let mut segs = segments(path);
        while let Some(seg) = segs.next() {
            let last = segs.at_end();
            if usize::from(self.node(at).depth) >= cfg.max_depth {
                self.counters.max_depth_hits += 1;
                break;
            }
            let next = match self.step(at, seg, &cfg.keep_words, last) {
                Step::Literal(id) => id,
                Step::Param(_) => self.node(at).param,
            };
            if let Some(id) = next {
                at = id;
                continue;
            }
            if self.len() >= cfg.max_nodes {
                self.counters.max_nodes_hits += 1;
                break;
            }
            let depth = self.node(at).depth.saturating_add(1);
            match self.step(at, seg, &cfg.keep_words, last) {
                Step::Literal(_) => {
                    let id = self.alloc(Node::new(Some(seg.to_string()), String::new(), at, depth));
                    self.node_mut(at).literals.insert(seg.to_string(), id);
                    if self.node(at).literals.len() > cfg.max_children && !self.node(at).merged {
                        self.counters.max_children_hits += 1;
                        self.make_param(at, cfg);
                        // The literal may have been folded: find where the segment leads now.
                        at = match self.step(at, seg, &cfg.keep_words, last) {
                            Step::Literal(id) => id.unwrap_or(at),
                            Step::Param(_) => self.node(at).param.unwrap_or(at),
                        };
                        continue;
                    }
                    at = id;
                }
                Step::Param(kind) => {
                    let name = self.child_param_name(at, kind);
                    let id = self.alloc(Node::new(None, name, at, depth));
                    self.node_mut(at).param = Some(id);
                    at = id;
                }
            }
        }
        at
    }

    /// The data of `method` at the endpoint node `id`, created empty if needed.
    pub fn data_mut(&mut self, id: NodeId, method: &str) -> &mut T {
        self.node_mut(id)
            .ends
            .entry(method.to_string())
            .or_default()
    }

    /// The template of node `id` (`/users/{userId}`; `/` for the root).
    pub fn template(&self, id: NodeId) -> String {
        let mut parts = Vec::new();
        let mut at = id;
        while at != ROOT {
            let n = self.node(at);
            parts.push(match &n.lit {
                Some(l) => l.clone(),
                None => format!("{{{}}}", n.name),
            });
            at = n.parent;
        }
        if parts.is_empty() {
            return "/".into();
        }
        parts.reverse();
        let mut out = String::new();
        for p in &parts {
            if !p.starts_with('/') {
                out.push('/');
            }
            out.push_str(shown(p));
        }
        out
    }

    /// The template `path` maps to now, without learning anything.
    pub fn lookup<'a>(&'a self, path: &'a str, cfg: &TemplateConfig) -> String {
        let mut out = String::with_capacity(path.len() + 8);
        let mut at = Some(ROOT);
        // Where the parameter names used so far are in `out` (for paths that leave the
        // known trie).
        let mut names = NameRanges::default();
        let mut parent_lit: Option<&'a str> = None;
        // The base name of a parameter below `parent_lit`, when it was a remembered word
        // off the trie (its facts hold it).
        let mut parent_base: Option<std::rc::Rc<str>> = None;
        let mut depth = 0usize;
        let mut segs = segments(path);
        while let Some(seg) = segs.next() {
            let last = segs.at_end();
            let base_of_parent = parent_base.take();
            if !seg.starts_with('/') {
                out.push('/');
            }
            match at {
                Some(id) => {
                    let step = self.step(id, seg, &cfg.keep_words, last);
                    let next = match step {
                        Step::Literal(to) => to,
                        Step::Param(_) => self.node(id).param,
                    };
                    match (next, step) {
                        (Some(n), _) => {
                            let node = self.node(n);
                            match &node.lit {
                                Some(l) => out.push_str(shown(l)),
                                None => {
                                    out.push('{');
                                    let start = out.len();
                                    out.push_str(&node.name);
                                    names.push(start..out.len());
                                    out.push('}');
                                }
                            }
                            parent_lit = node.lit.as_deref();
                            at = Some(n);
                        }
                        (None, Step::Literal(_)) => {
                            out.push_str(shown(seg));
                            parent_lit = Some(seg);
                            at = None;
                        }
                        (None, Step::Param(kind)) => {
                            let parent = if id == ROOT { None } else { parent_lit };
                            push_unique_name(&mut out, &mut names, &base_name_cached(parent, kind));
                            parent_lit = None;
                            at = None;
                        }
                    }
                }
                None => {
                    // Off the learned trie: the stateless rules only.
                    // Depth 0 is always literal; deeper, the segment's facts are looked
                    // up once for both questions.
                    let facts = (depth > 0).then(|| segment_facts(seg)).flatten();
                    if depth > 0
                        && !protected_with(facts.as_ref(), seg, depth, &cfg.keep_words)
                        && (!last || !is_static_file(seg))
                        && !is_version_after(parent_lit, seg)
                    {
                        if let Some(kind) = kind_with(facts.as_ref(), seg) {
                            let base = match (kind, base_of_parent) {
                                (Kind::Date | Kind::Email, _) | (_, None) => {
                                    base_name_cached(parent_lit, Some(kind))
                                }
                                (_, Some(base)) => base,
                            };
                            push_unique_name(&mut out, &mut names, &base);
                            parent_lit = None;
                            depth += 1;
                            continue;
                        }
                    }
                    out.push_str(shown(seg));
                    parent_lit = Some(seg);
                    parent_base = facts.map(|f| f.base);
                }
            }
            depth += 1;
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }

    /// Every endpoint: (node, key, template, data).
    pub fn endpoints(&self) -> Vec<(NodeId, &str, String, &T)> {
        let mut out = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if n.dead {
                continue;
            }
            for (m, d) in &n.ends {
                out.push((i as NodeId, m.as_str(), self.template(i as NodeId), d));
            }
        }
        out.sort_by(|a, b| (&a.2, a.1).cmp(&(&b.2, b.1)));
        out
    }

    /// The endpoint data at node `id` for `method`.
    pub fn data(&self, id: NodeId, method: &str) -> Option<&T> {
        self.nodes
            .get(id as usize)
            .filter(|n| !n.dead)?
            .ends
            .get(method)
    }

    /// What lies below `id`, for comparing siblings: the relative paths up to three levels
    /// down that name something (`linux/issues`, `L/issues`, `orders/P/items`), where `P`
    /// stands for a parameter and, in a second copy of each path, `L` for the first
    /// segment (a child that may itself be a value). Paths made only of `L` and `P` say
    /// nothing and are left out. `/repos/torvalds` (`linux`, `linux/issues`) and
    /// `/repos/facebook` (`react`, `react/issues`) share `L/issues`;
    /// `/svc/accounts/{id}/balance` and `/svc/invoices/{id}/lines` share nothing.
    fn signature(&self, id: NodeId) -> [BTreeSet<String>; 2] {
        let mut out = [BTreeSet::new(), BTreeSet::new()];
        // (node, path by name, path with the first segment masked, level)
        let mut stack: Vec<(NodeId, String, String, usize)> =
            vec![(id, String::new(), String::new(), 0)];
        let informative = |p: &str| p.split('/').any(|x| !x.is_empty() && x != "L" && x != "P");
        while let Some((n, named, masked, level)) = stack.pop() {
            if level == 3 || out[0].len() + out[1].len() > 128 {
                continue;
            }
            let node = self.node(n);
            // Format pseudo-segments (`.json`) say nothing about what a value is.
            let mut children: Vec<(&str, NodeId, bool)> = node
                .literals
                .iter()
                .filter(|(seg, _)| !seg.starts_with('/'))
                .map(|(seg, &c)| (seg.as_str(), c, true))
                .collect();
            if let Some(p) = node.param {
                children.push(("P", p, false));
            }
            for (label, c, literal) in children {
                let named_c = format!("{named}/{label}");
                let masked_c = if level == 0 && literal {
                    "/L".to_string()
                } else {
                    format!("{masked}/{label}")
                };
                if informative(&named_c) {
                    out[0].insert(named_c.clone());
                }
                if informative(&masked_c) {
                    out[1].insert(masked_c.clone());
                }
                stack.push((c, named_c, masked_c, level + 1));
            }
        }
        out
    }

    /// A value that looks like an identifier rather than a word: it has a digit or mixes
    /// case (hyphenated words are as often sub-resources, `top-tracks`, as slugs).
    fn value_like(seg: &str) -> bool {
        let b = seg.as_bytes();
        seg.bytes().any(|c| c.is_ascii_digit())
            // Codes: `US`, `EUR`.
            || (seg.len() >= 2 && seg.bytes().all(|c| c.is_ascii_uppercase()))
            // Language codes and locales: `de`, `pt-br`, `en_gb`.
            || (b.len() == 2 && b.iter().all(u8::is_ascii_lowercase))
            || (b.len() == 5
                && matches!(b.get(2), Some(b'-' | b'_'))
                && b.iter().enumerate().all(|(i, c)| i == 2 || c.is_ascii_alphabetic()))
            || (seg.bytes().any(|c| c.is_ascii_uppercase())
                && seg.bytes().any(|c| c.is_ascii_lowercase()))
    }

    /// Decides, for every position, whether its literal values are variable (see the module
    /// docs), and folds them into a parameter. Returns the number of positions changed.
    pub fn evaluate(&mut self, cfg: &TemplateConfig) -> usize {
        // A merge folds subtrees together, which can make a deeper position variable.
        let mut total = 0;
        for _ in 0..4 {
            let n = self.evaluate_once(cfg);
            total += n;
            if n == 0 {
                break;
            }
        }
        total
    }

    fn evaluate_once(&mut self, cfg: &TemplateConfig) -> usize {
        let mut changed = 0;
        // Names with a parameter below them, and at how many places.
        let mut collections: BTreeMap<String, usize> = BTreeMap::new();
        for n in self.nodes.iter().filter(|n| !n.dead && n.param.is_some()) {
            if let Some(l) = &n.lit {
                *collections.entry(l.clone()).or_default() += 1;
            }
        }
        let collections: BTreeMap<&str, usize> =
            collections.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        // Parents before children: a merge moves subtrees, so re-read the node list.
        let mut i = 0;
        while i < self.nodes.len() {
            let id = i as NodeId;
            i += 1;
            if self.node(id).dead || self.node(id).merged {
                continue;
            }
            if self.should_merge(id, cfg, &collections) {
                self.make_param(id, cfg);
                self.counters.params_learned += 1;
                changed += 1;
            }
        }
        changed
    }

    fn candidates(&self, id: NodeId, cfg: &TemplateConfig) -> Vec<NodeId> {
        let n = self.node(id);
        let depth = usize::from(n.depth);
        // Collections right after a version prefix or `api` (`/v1/customers`) are names,
        // and so are API groups (`/apis/apps/v1`; deeper, `apis` is a collection:
        // `/api/v1/apis/{owner}`).
        let parent_lit = self.node(n.parent).lit.as_deref();
        if n.lit.as_deref().is_some_and(|l| {
            is_version(l)
                || (depth <= 2 && is_dotted_version(l))
                || (depth == 1 && is_bare_version(l))
                || is_version_after(parent_lit, l)
                || l.eq_ignore_ascii_case("api")
                || (depth == 1 && l.eq_ignore_ascii_case("apis"))
        }) {
            return Vec::new();
        }
        let all: Vec<NodeId> = n
            .literals
            .iter()
            .filter(|(seg, &c)| {
                let leaf = self.node(c).literals.is_empty() && self.node(c).param.is_none();
                !is_protected_cached(seg, depth, &cfg.keep_words) && (!leaf || !is_static_file(seg))
            })
            .map(|(_, &c)| c)
            .collect();
        if all.len() >= cfg.force_threshold {
            return all;
        }
        // Below a parameter formed from many values, a child that many of them had is a
        // sub-resource (`issues` under 40 repositories), not a value (unless there are so
        // many children that they are values, some of them popular).
        let structural = |c: NodeId| {
            n.lit.is_none()
                && n.support >= 4
                && self.node(c).support * 4 >= n.support
                && self.node(c).lit.as_deref().is_some_and(is_api_word)
        };
        all.into_iter().filter(|&c| !structural(c)).collect()
    }

    fn should_merge(
        &self,
        id: NodeId,
        cfg: &TemplateConfig,
        collections: &BTreeMap<&str, usize>,
    ) -> bool {
        let cands = self.candidates(id, cfg);
        let d = cands.len();
        if d < 2 {
            return false;
        }
        if d >= cfg.force_threshold {
            return true;
        }
        // Values that are mostly words real APIs use as path segments are sub-resources or
        // actions (`/account/articles`, `/account/collections`; `/ips/list.json`,
        // `/ips/info.json`), however alike what lies below them: only `force_threshold`
        // of them make a parameter.
        let words = cands
            .iter()
            .filter(|&&c| self.node(c).lit.as_deref().is_some_and(is_api_word))
            .count();
        if words * 2 > d {
            return false;
        }
        let n = self.node(id);
        let plural = match &n.lit {
            Some(l) if id != ROOT => is_plural(l) && !is_version(l),
            _ => false,
        };
        // The same name has a parameter below it elsewhere: a known collection.
        let known = n.lit.as_deref().is_some_and(|l| {
            let here = usize::from(n.param.is_some());
            collections.get(l).is_some_and(|&k| k > here)
        });
        // What lies below each value: values of one position have the same kind of
        // subtree (sampled: some have less of it); sub-resources do not.
        let sigs: Vec<[BTreeSet<String>; 2]> = cands
            .iter()
            .map(|&c| self.signature(c))
            .filter(|s| !s[0].is_empty() || !s[1].is_empty())
            .collect();
        // Alike: most of the smaller subtree is in the other, by name (`issues` below two
        // repositories) or with their first segments masked (`L/issues` below two owners).
        let close = |a: &BTreeSet<String>, b: &BTreeSet<String>| {
            let min = a.len().min(b.len());
            min > 0 && a.intersection(b).count() * 2 >= min
        };
        if sigs.len() >= 2 && sigs.len() * 2 >= d {
            let alike = sigs
                .iter()
                .enumerate()
                .filter(|(i, a)| {
                    sigs.iter()
                        .enumerate()
                        .any(|(j, b)| *i != j && (close(&a[0], &b[0]) || close(&a[1], &b[1])))
                })
                .count();
            let similar = alike as f64 >= cfg.similarity * sigs.len() as f64;
            let threshold = if known { 2 } else { cfg.plural_threshold };
            return similar && d >= threshold;
        }
        // Mostly leaves: nothing to compare; the count decides, lower for identifier-like
        // values, under plural collection names and under a name that has a parameter
        // elsewhere (`namespaces`, `members`). Below a parameter, leaf words are
        // sub-resources (`/repos/{owner}/{repo}/contributors`), not values.
        let value_like = cands
            .iter()
            .filter(|&&c| self.node(c).lit.as_deref().is_some_and(Self::value_like))
            .count();
        let threshold = if known {
            2
        } else if value_like * 2 > d {
            cfg.plural_threshold.saturating_sub(1).max(2)
        } else if n.lit.is_none() {
            cfg.force_threshold
        } else if plural {
            cfg.plural_threshold
        } else {
            cfg.param_threshold
        };
        d >= threshold
    }

    /// Folds every unprotected literal child of `id` into its parameter child.
    fn make_param(&mut self, id: NodeId, cfg: &TemplateConfig) {
        let cands = self.candidates(id, cfg);
        let target = match self.node(id).param {
            Some(p) => p,
            None => {
                let name = self.child_param_name(id, None);
                let depth = self.node(id).depth.saturating_add(1);
                let mut node = Node::new(None, name, id, depth);
                node.support = 0;
                let p = self.alloc(node);
                self.node_mut(id).param = Some(p);
                p
            }
        };
        self.node_mut(id).merged = true;
        for c in cands {
            if let Some(seg) = self.node(c).lit.clone() {
                self.node_mut(id).literals.remove(&seg);
            }
            self.fold_into(c, target);
        }
    }

    /// Moves everything below and at `src` into `dst`, then frees `src`.
    fn fold_into(&mut self, src: NodeId, dst: NodeId) {
        let support = self.node(src).support;
        let d = self.node_mut(dst);
        d.support = d.support.saturating_add(support);
        let ends = std::mem::take(&mut self.node_mut(src).ends);
        for (m, d) in ends {
            self.node_mut(dst).ends.entry(m).or_default().fold(d);
        }
        let literals = std::mem::take(&mut self.node_mut(src).literals);
        for (seg, child) in literals {
            match self.node(dst).literals.get(&seg).copied() {
                Some(existing) => self.fold_into(child, existing),
                None if self.node(dst).merged && classify(&seg).is_none() => {
                    // `dst` treats such values as its parameter.
                    match self.node(dst).param {
                        Some(p) => self.fold_into(child, p),
                        None => self.adopt(dst, Some(seg), child),
                    }
                }
                None => self.adopt(dst, Some(seg), child),
            }
        }
        if let Some(p) = self.node_mut(src).param.take() {
            match self.node(dst).param {
                Some(existing) => self.fold_into(p, existing),
                None => {
                    // A parameter named after the value it was below (`{asottileId}` under
                    // `/repos/asottile`) is renamed for its new parent: the template changes
                    // here anyway.
                    let src_lit = self.node(src).lit.clone();
                    if src_lit.is_some() && self.node(dst).lit != src_lit {
                        let from_value = base_name(src_lit.as_deref(), None);
                        if self.node(p).name.starts_with(&from_value) {
                            let name = self.child_param_name(dst, None);
                            self.node_mut(p).name = name;
                        }
                    }
                    self.adopt(dst, None, p)
                }
            }
        }
        if self.node(src).merged {
            self.node_mut(dst).merged = true;
        }
        let n = self.node_mut(src);
        n.dead = true;
        n.literals.clear();
        self.free.push(src);
    }

    /// Makes `child` (and its subtree) a child of `parent`.
    fn adopt(&mut self, parent: NodeId, seg: Option<String>, child: NodeId) {
        let depth = self.node(parent).depth.saturating_add(1);
        match seg {
            Some(s) => {
                self.node_mut(parent).literals.insert(s, child);
            }
            None => {
                self.node_mut(parent).param = Some(child);
            }
        }
        self.node_mut(child).parent = parent;
        self.set_depth(child, depth);
    }

    fn set_depth(&mut self, id: NodeId, depth: u16) {
        let mut stack = vec![(id, depth)];
        while let Some((n, d)) = stack.pop() {
            self.node_mut(n).depth = d;
            let node = self.node(n);
            for &c in node.literals.values() {
                stack.push((c, d.saturating_add(1)));
            }
            if let Some(p) = node.param {
                stack.push((p, d.saturating_add(1)));
            }
        }
    }

    /// A copy of the structure without endpoint data, for workers.
    pub fn shape(&self) -> PathTrie<()>
    where
        (): Fold,
    {
        PathTrie {
            nodes: self
                .nodes
                .iter()
                .map(|n| Node {
                    lit: n.lit.clone(),
                    name: n.name.clone(),
                    parent: n.parent,
                    depth: n.depth,
                    literals: n.literals.clone(),
                    param: n.param,
                    merged: n.merged,
                    ends: BTreeMap::new(),
                    dead: n.dead,
                    support: n.support,
                })
                .collect(),
            free: self.free.clone(),
            counters: self.counters,
        }
    }

    /// Every endpoint node's distinct templates (for tests and reports).
    pub fn templates(&self) -> BTreeSet<String> {
        self.endpoints().into_iter().map(|e| e.2).collect()
    }
}

impl Fold for () {
    fn fold(&mut self, _: Self) {}
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn protected_words_fit_the_set_lookup() {
        // `is_protected` looks words up lower-cased, and only for segments of at most 24
        // bytes without a digit.
        for w in KEEP_WORDS.iter().chain(SHALLOW_WORDS) {
            assert!(w.len() <= 24, "{w}");
            assert!(!w.bytes().any(|c| c.is_ascii_digit()), "{w}");
            assert_eq!(*w, w.to_ascii_lowercase(), "{w}");
            assert!(is_protected(w, 1, &[]), "{w}");
            assert!(is_protected(&w.to_ascii_uppercase(), 1, &[]), "{w}");
        }
        assert!(!is_protected("alice", 2, &[]));
        assert!(is_protected("Alice", 2, &["alice".to_string()]));
    }

    #[test]
    fn format_suffixes_stay_on_the_template() {
        let segs: Vec<&str> = segments("/v2/accounts/42.JSON").collect();
        assert_eq!(segs, ["v2", "accounts", "42", "/.json"]);
        assert_eq!(segments("/a/.json").collect::<Vec<_>>(), ["a", ".json"]);
        assert_eq!(segments("/app.js").collect::<Vec<_>>(), ["app.js"]);
        let t = learn(&[
            "/v2/accounts/42.json",
            "/v2/accounts/43.json",
            "/v2/accounts.json",
            "/v2/people/7.xml",
            "/api/1.0/users/info.json",
        ]);
        let cfg = TemplateConfig::default();
        let mut got: Vec<String> = t.endpoints().into_iter().map(|e| e.2).collect();
        got.sort();
        assert_eq!(
            got,
            [
                "/api/1.0/users/info.json",
                "/v2/accounts.json",
                "/v2/accounts/{accountId}.json",
                "/v2/people/{personId}.xml",
            ]
        );
        assert_eq!(
            t.lookup("/v2/accounts/99.json", &cfg),
            "/v2/accounts/{accountId}.json"
        );
        assert_eq!(
            t.lookup("/v2/accounts/99", &cfg),
            "/v2/accounts/{accountId}"
        );
        // Off the learned trie, the stateless rules keep the suffix too.
        assert_eq!(
            t.lookup("/v3/orders/5.csv", &cfg),
            "/v3/orders/{orderId}.csv"
        );
    }

    #[test]
    fn dotted_versions_near_the_root_are_kept() {
        // Mandrill's `/api/1.0/<group>/<action>.json`: `1.0` is a version, not a number.
        let mut paths = Vec::new();
        for g in [
            "users",
            "messages",
            "tags",
            "senders",
            "urls",
            "templates",
            "webhooks",
        ] {
            for a in [
                "info",
                "list",
                "add",
                "delete",
                "update",
                "search",
                "time-series",
            ] {
                paths.push(format!("/api/1.0/{g}/{a}.json"));
            }
        }
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let t = learn(&refs);
        let cfg = TemplateConfig::default();
        assert_eq!(
            t.lookup("/api/1.0/users/info.json", &cfg),
            "/api/1.0/users/info.json"
        );
        assert_eq!(
            t.lookup("/api/1.0/tags/time-series.json", &cfg),
            "/api/1.0/tags/time-series.json"
        );
        // Deeper, a dotted number is a value.
        assert_eq!(
            t.lookup("/api/1.0/ratings/4.5", &cfg),
            "/api/1.0/ratings/{ratingId}"
        );
        assert!(is_dotted_version("1.0") && is_dotted_version("2.1.3"));
        assert!(
            !is_dotted_version("1") && !is_dotted_version("1.0a") && !is_dotted_version("100.1")
        );
    }

    #[test]
    fn bare_versions_after_api_and_at_the_root_are_kept() {
        let mut paths = Vec::new();
        for r in [
            "issue", "project", "user", "group", "field", "filter", "search", "board",
        ] {
            paths.push(format!("/jira/rest/api/2/{r}/10001"));
            paths.push(format!("/1/{r}s"));
        }
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let t = learn(&refs);
        let cfg = TemplateConfig::default();
        assert_eq!(
            t.lookup("/jira/rest/api/2/issue/10002", &cfg),
            "/jira/rest/api/2/issue/{issueId}"
        );
        assert_eq!(t.lookup("/rest/api/3/myself", &cfg), "/rest/api/3/myself");
        assert_eq!(t.lookup("/1/projects", &cfg), "/1/projects");
        assert_eq!(t.lookup("/1/boards", &cfg), "/1/boards");
        // Elsewhere a small number is a value.
        assert_eq!(
            t.lookup("/jira/rest/api/2/user/7", &cfg),
            "/jira/rest/api/2/user/{userId}"
        );
    }

    #[test]
    fn apis_groups_only_at_the_root() {
        let mut paths = Vec::new();
        for owner in [
            "alpha", "zed", "quux", "corge", "grault", "garply", "waldo", "fred",
        ] {
            paths.push(format!("/api/v1/apis/{owner}/petstore/swagger.json"));
            paths.push(format!("/apis/{owner}.k8s.io/v1/pods"));
        }
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let t = learn(&refs);
        let cfg = TemplateConfig::default();
        assert_eq!(
            t.lookup("/api/v1/apis/xyzzy/petstore/swagger.json", &cfg),
            "/api/v1/apis/{apisId}/petstore/swagger.json"
        );
        assert_eq!(
            t.lookup("/apis/alpha.k8s.io/v1/pods", &cfg),
            "/apis/alpha.k8s.io/v1/pods"
        );
    }

    #[test]
    fn api_words_are_sub_resources_not_values() {
        // figshare: `/account/<collection>/{id}/...` with alike subtrees below collections.
        let mut paths = Vec::new();
        for c in [
            "articles",
            "collections",
            "projects",
            "authors",
            "categories",
            "files",
        ] {
            for id in 1..4 {
                for sub in ["files", "authors", "categories", "notes"] {
                    paths.push(format!("/v2/account/{c}/{id}/{sub}"));
                }
            }
        }
        // Values that are not API words, alike below: still a parameter.
        for u in [
            "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
        ] {
            for sub in ["repos", "followers", "gists"] {
                paths.push(format!("/users/{u}/{sub}"));
            }
        }
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let t = learn(&refs);
        let cfg = TemplateConfig::default();
        assert_eq!(
            t.lookup("/v2/account/articles/9/files", &cfg),
            "/v2/account/articles/{articleId}/files"
        );
        assert_eq!(t.lookup("/users/zed/repos", &cfg), "/users/{userId}/repos");
        assert!(is_api_word("Articles") && is_api_word("search"));
        // Language codes and locales are values, like country codes.
        for v in ["de", "pt-br", "en_GB", "US", "EUR", "a1"] {
            assert!(PathTrie::<u64>::value_like(v), "{v}");
        }
        for w in ["search", "me2"] {
            assert_eq!(PathTrie::<u64>::value_like(w), w == "me2", "{w}");
        }
        assert!(!is_api_word("alice") && !is_api_word("hello-world") && !is_api_word(""));
    }

    #[test]
    fn a_parameter_below_a_value_is_renamed_when_the_value_is_folded() {
        let cfg = TemplateConfig::default();
        let mut t = PathTrie::<u64>::new();
        let add = |t: &mut PathTrie<u64>, p: &str| {
            let id = t.insert(p, &cfg);
            *t.data_mut(id, "GET") += 1;
        };
        // One owner's repositories first: a parameter below the literal `asottile`.
        for r in 0..40 {
            add(&mut t, &format!("/repos/asottile/project-{r}/issues"));
        }
        t.evaluate(&cfg);
        assert_eq!(
            t.lookup("/repos/asottile/project-1/issues", &cfg),
            "/repos/asottile/{asottileId}/issues"
        );
        // Then many owners: the owner position is folded, and so is `asottile`.
        for o in 0..40 {
            add(&mut t, &format!("/repos/owner-{o}/project-{o}/issues"));
        }
        t.evaluate(&cfg);
        assert_eq!(
            t.lookup("/repos/asottile/project-1/issues", &cfg),
            "/repos/{repoId}/{id}/issues"
        );
    }

    fn learn(paths: &[&str]) -> PathTrie<u64> {
        let cfg = TemplateConfig::default();
        let mut t = PathTrie::<u64>::new();
        for p in paths {
            let id = t.insert(p, &cfg);
            *t.data_mut(id, "GET") += 1;
        }
        t.evaluate(&cfg);
        t
    }

    #[test]
    fn classify_kinds() {
        let cases: &[(&str, Option<Kind>)] = &[
            ("12345", Some(Kind::Int)),
            ("0", Some(Kind::Int)),
            ("550e8400-e29b-41d4-a716-446655440000", Some(Kind::Uuid)),
            ("507f1f77bcf86cd799439011", Some(Kind::ObjectId)),
            ("da39a3ee5e6b4b0d3255bfef95601890afd80709", Some(Kind::Hex)),
            ("2026-01-15", Some(Kind::Date)),
            ("2026-01-15T10:00:00Z", Some(Kind::Date)),
            ("jane.doe@example.com", Some(Kind::Email)),
            ("jane.doe%40example.com", Some(Kind::Email)),
            ("4iV5W9uYEdYUVa79Axb7Rh", Some(Kind::Token)),
            ("cus_NffrFeUfNV2Hib", Some(Kind::MixedId)),
            ("ch_3MmlLrLkdIwHu7ix0snN0B15", Some(Kind::Token)),
            ("ord-12345", Some(Kind::MixedId)),
            ("payments-api-7d9f8", Some(Kind::MixedId)),
            ("grafana-cdjlpdfcjw-zrwn5", Some(Kind::MixedId)),
            ("search-indexer", None),
            ("strength", None),
            ("A1B2C3D4", Some(Kind::MixedId)),
            ("4.17.21", Some(Kind::Number)),
            ("555-0100", Some(Kind::Number)),
            ("users", None),
            ("me", None),
            ("v1", None),
            ("v2beta1", None),
            ("oauth2", None),
            ("ipv4", None),
            ("s3", None),
            ("top10", None),
            ("findByStatus", None),
            ("awesome-python", None),
            ("octocat", None),
            ("top-tracks", None),
            ("app.js", None),
            ("xxtvanvl2x", Some(Kind::MixedId)),
            ("k3j9q0zt", Some(Kind::MixedId)),
            ("windows10", None),
            ("", None),
        ];
        for (seg, want) in cases {
            assert_eq!(classify(seg), *want, "{seg}");
            // Twice: the second answer comes from the memo.
            assert_eq!(classify_cached(seg), *want, "{seg} (memo, first)");
            assert_eq!(classify_cached(seg), *want, "{seg} (memo, second)");
        }
    }

    #[test]
    fn templated_paths_insert_like_raw_ones() {
        let cfg = TemplateConfig::default();
        let mut a = PathTrie::<u64>::new();
        for p in [
            "/v1/users/42/orders/7",
            "/v1/users/me",
            "/files/app.js",
            "/a/b",
        ] {
            let x = a.insert(p, &cfg);
            let t = a.template(x);
            let y = a.insert(&a.lookup(p, &cfg), &cfg);
            assert_eq!(x, y, "{p}");
            assert_eq!(a.template(y), t);
        }
    }

    #[test]
    fn protected_segments() {
        let none: &[String] = &[];
        assert!(is_protected("anything", 0, none));
        assert!(is_protected("v1", 3, none));
        assert!(is_protected("api", 1, none));
        assert!(is_protected("me", 2, none));
        assert!(is_protected("findByStatus", 2, none));
        assert!(is_protected("by-email", 2, none));
        assert!(!is_protected("search-indexer-credentials", 2, none));
        assert!(!is_protected("bypass", 2, none));
        assert!(is_static_file("favicon.ico"));
        assert!(!is_static_file("v1"));
        assert!(!is_protected("octocat", 2, none));
        assert!(!is_protected("bypass", 2, none));
        assert!(is_protected("Special", 2, &["special".to_string()]));
        // Multi-byte characters where the action prefixes (`by-`, `for_`) are compared: no
        // slicing inside a character (found by the `template` fuzz target).
        assert!(!is_protected("ééé", 2, none));
        assert!(!is_protected("bé-x", 2, none));
        assert!(!is_protected("fo\u{e9}_", 2, none));
        assert!(is_protected("by-é", 2, none) == is_protected("by-e", 2, none));
    }

    #[test]
    fn remembered_protection_is_the_rule_at_every_depth() {
        let extra = ["special".to_string()];
        let words = [
            "api",
            "v1",
            "me",
            "Me",
            "users",
            "search",
            "findByStatus",
            "by-email",
            "bypass",
            "octocat",
            "special",
            "SPECIAL",
            "1.0",
            "app.js",
            "x",
            "",
            "health",
            "admin",
        ];
        for _ in 0..2 {
            for w in words {
                for depth in 0..4 {
                    for ex in [&extra[..], &[]] {
                        assert_eq!(
                            is_protected_cached(w, depth, ex),
                            is_protected(w, depth, ex),
                            "{w} at {depth} with {ex:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn format_suffix_lengths_are_in_the_checked_range() {
        for (ext, pseudo) in FORMAT_SUFFIXES {
            assert!((3..=7).contains(&ext.len()), "{ext}");
            assert_eq!(format_suffix(&format!("a.{ext}")), Some(("a", *pseudo)));
        }
    }

    /// The segments of a path as `split('/')` gives them (the reference of the scan).
    fn split_segments(path: &str) -> Vec<&str> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut out = Vec::new();
        for (i, seg) in parts.iter().enumerate() {
            match format_suffix(seg).filter(|_| i + 1 == parts.len()) {
                Some((stem, pseudo)) => out.extend([stem, pseudo]),
                None => out.push(seg),
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn segments_match_a_split(path in "[/a.jsonxé]{0,24}") {
            let want = split_segments(&path);
            let mut segs = segments(&path);
            let mut got = Vec::new();
            while let Some(seg) = segs.next() {
                got.push(seg);
                // At the end exactly after the last segment.
                proptest::prop_assert_eq!(segs.at_end(), got.len() == want.len());
            }
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn names_from_the_parent() {
        assert_eq!(base_name(Some("users"), Some(Kind::Int)), "userId");
        assert_eq!(base_name(Some("categories"), None), "categoryId");
        assert_eq!(base_name(Some("addresses"), None), "addressId");
        assert_eq!(base_name(Some("order-items"), None), "orderItemId");
        assert_eq!(base_name(Some("people"), None), "personId");
        assert_eq!(base_name(Some("status"), None), "statusId");
        assert_eq!(base_name(Some("pet"), None), "petId");
        assert_eq!(base_name(Some("v1"), None), "id");
        assert_eq!(base_name(None, Some(Kind::Uuid)), "id");
        assert_eq!(base_name(Some("reports"), Some(Kind::Date)), "date");
        for (p, k) in [
            (Some("users"), Some(Kind::Int)),
            (Some("order-items"), None),
            (None, Some(Kind::Uuid)),
            (Some("reports"), Some(Kind::Date)),
        ] {
            assert_eq!(*base_name_cached(p, k), *base_name(p, k));
            assert_eq!(*base_name_cached(p, k), *base_name(p, k));
        }
        assert_eq!(unique_name("id".into(), &["id"]), "id2");
        assert_eq!(unique_name("id".into(), &["id", "id2"]), "id3");
    }

    #[test]
    fn ids_are_parameters_at_once() {
        let t = learn(&[
            "/api/v1/users/42",
            "/api/v1/users/42/orders/550e8400-e29b-41d4-a716-446655440000",
            "/api/v1/users/me",
        ]);
        let want: BTreeSet<String> = [
            "/api/v1/users/{userId}",
            "/api/v1/users/{userId}/orders/{orderId}",
            "/api/v1/users/me",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(t.templates(), want);
    }

    #[test]
    fn slugs_become_parameters_by_cardinality_and_me_stays() {
        let users = [
            "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
        ];
        let mut paths: Vec<String> = users.iter().map(|u| format!("/v1/users/{u}")).collect();
        paths.push("/v1/users/me".into());
        paths.extend(users.iter().take(3).map(|u| format!("/v1/users/{u}/repos")));
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let t = learn(&refs);
        let got: Vec<String> = t.templates().into_iter().collect();
        assert_eq!(
            got,
            vec![
                "/v1/users/me",
                "/v1/users/{userId}",
                "/v1/users/{userId}/repos"
            ]
        );
        // Calls folded into the template.
        let total: u64 = t.endpoints().iter().map(|e| *e.3).sum();
        assert_eq!(total, paths.len() as u64);
    }

    #[test]
    fn few_distinct_words_stay_literal() {
        let t = learn(&[
            "/shop/products",
            "/shop/orders",
            "/shop/customers",
            "/account/settings",
        ]);
        assert!(t.templates().contains("/shop/products"));
        assert_eq!(t.templates().len(), 4);
    }

    #[test]
    fn collections_with_different_subtrees_are_not_merged() {
        let subs = [
            "balance",
            "lines",
            "tiers",
            "rules",
            "redemptions",
            "reversals",
            "failures",
            "evidence",
            "history",
            "attempts",
        ];
        let mut paths = Vec::new();
        for (c, sub) in [
            "accounts", "invoices", "products", "prices", "coupons", "refunds", "payouts",
            "disputes", "balances", "charges",
        ]
        .iter()
        .zip(subs)
        {
            paths.push(format!("/svc/{c}"));
            paths.push(format!("/svc/{c}/{}", c.len() * 1001));
            paths.push(format!("/svc/{c}/{}/{sub}", c.len() * 1001));
        }
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let t = learn(&refs);
        assert!(
            t.templates().contains("/svc/invoices/{invoiceId}/lines"),
            "{:?}",
            t.templates()
        );
        assert!(t.templates().contains("/svc/invoices"));
        assert_eq!(t.templates().len(), 30);
    }

    #[test]
    fn collections_after_a_version_are_names() {
        let mut paths = Vec::new();
        for i in 0..40 {
            paths.push(format!(
                "/x/v1/things{}",
                char::from(b'a' + (i % 26) as u8)
                    .to_string()
                    .repeat(1 + i / 26)
            ));
        }
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let t = learn(&refs);
        assert_eq!(t.templates().len(), 40);
    }

    #[test]
    fn nested_parameters_under_parameters() {
        let mut paths = Vec::new();
        for (o, r) in [
            ("torvalds", "linux"),
            ("facebook", "react"),
            ("rust-lang", "rust"),
            ("vinta", "awesome-python"),
            ("octocat", "hello-world"),
            ("django", "django"),
            ("pallets", "flask"),
            ("golang", "go"),
            ("kubernetes", "kubernetes"),
        ] {
            paths.push(format!("/repos/{o}/{r}"));
            paths.push(format!("/repos/{o}/{r}/issues/{}", o.len() * 7));
        }
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let t = learn(&refs);
        let want: BTreeSet<String> = [
            "/repos/{repoId}/{id}",
            "/repos/{repoId}/{id}/issues/{issueId}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(t.templates(), want);
        let cfg = TemplateConfig::default();
        assert_eq!(
            t.lookup("/repos/a/b/issues/9", &cfg),
            "/repos/{repoId}/{id}/issues/{issueId}"
        );
    }

    #[test]
    fn lookup_matches_insert() {
        let t = learn(&["/users/1", "/users/1/x", "/files/app.js"]);
        let cfg = TemplateConfig::default();
        assert_eq!(t.lookup("/users/77", &cfg), "/users/{userId}");
        assert_eq!(t.lookup("/users/77/x", &cfg), "/users/{userId}/x");
        // Unknown paths: the stateless rules.
        assert_eq!(
            t.lookup("/teams/9/members/8", &cfg),
            "/teams/{teamId}/members/{memberId}"
        );
        assert_eq!(t.lookup("/", &cfg), "/");
        assert_eq!(t.lookup("//a///b/", &cfg), "/a/b");
        assert_eq!(t.lookup("/42", &cfg), "/42");
        // Names are unique within a template, learned or not.
        assert_eq!(
            t.lookup("/users/77/5/6", &cfg),
            "/users/{userId}/{id}/{id2}"
        );
        assert_eq!(t.lookup("/teams/5/6/7", &cfg), "/teams/{teamId}/{id}/{id2}");
    }

    #[test]
    fn first_segment_and_versions_never_templated() {
        let mut paths = Vec::new();
        for i in 0..50 {
            paths.push(format!("/tenant{i}x/ping"));
            paths.push(format!("/api/v{i}/ping"));
        }
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let t = learn(&refs);
        assert!(t.templates().contains("/tenant7x/ping"));
        assert!(t.templates().contains("/api/v7/ping"));
    }

    #[test]
    fn max_children_forces_a_parameter_and_is_counted() {
        let cfg = TemplateConfig {
            max_children: 5,
            ..TemplateConfig::default()
        };
        let mut t = PathTrie::<u64>::new();
        for w in ["aa", "bb", "cc", "dd", "ee", "ff", "gg", "hh"] {
            let id = t.insert(&format!("/x/{w}/y"), &cfg);
            *t.data_mut(id, "GET") += 1;
        }
        assert_eq!(t.counters.max_children_hits, 1);
        assert_eq!(
            t.templates().into_iter().collect::<Vec<_>>(),
            vec!["/x/{xId}/y"]
        );
        assert_eq!(t.endpoints()[0].3, &8);
    }

    #[test]
    fn max_nodes_bounds_the_trie() {
        let cfg = TemplateConfig {
            max_nodes: 10,
            ..TemplateConfig::default()
        };
        let mut t = PathTrie::<u64>::new();
        for i in 0..100 {
            t.insert(&format!("/a{i}x/b{i}y"), &cfg);
        }
        assert!(t.len() <= 10);
        assert!(t.counters.max_nodes_hits > 0);
    }

    #[test]
    fn names_are_stable_once_assigned() {
        let cfg = TemplateConfig::default();
        let mut t = PathTrie::<u64>::new();
        t.insert("/things/1", &cfg);
        let before = t.templates();
        for w in ["a1b2c3d4e5", "zz", "yy", "xx", "ww", "vv", "uu", "tt", "ss"] {
            t.insert(&format!("/things/{w}"), &cfg);
        }
        t.evaluate(&cfg);
        assert!(t.templates().is_superset(&before), "{:?}", t.templates());
    }

    #[test]
    fn evaluation_is_order_independent() {
        let mut paths: Vec<String> = Vec::new();
        for u in [
            "ann", "ben", "cat", "dan", "eve", "fay", "gus", "hal", "ida", "jon",
        ] {
            paths.push(format!("/v2/user/{u}"));
            paths.push(format!("/v2/user/{u}/posts/{}", u.len()));
        }
        paths.push("/v2/user/login".into());
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let a = learn(&refs);
        let mut rev = refs.clone();
        rev.reverse();
        let b = learn(&rev);
        assert_eq!(a.templates(), b.templates());
        assert!(a.templates().contains("/v2/user/login"));
        assert!(a.templates().contains("/v2/user/{userId}/posts/{postId}"));
    }

    #[test]
    fn hostile_paths_do_not_panic() {
        let cfg = TemplateConfig::default();
        let mut t = PathTrie::<u64>::new();
        for p in [
            "/%",
            "/%zz/%4",
            "/\u{fffd}/é/%C3%A9",
            &"a/".repeat(200),
            "/{x}/}{",
        ] {
            let id = t.insert(p, &cfg);
            *t.data_mut(id, "GET") += 1;
            let _ = t.lookup(p, &cfg);
            let _ = classify(p);
        }
        t.evaluate(&cfg);
        assert!(t.counters.max_depth_hits > 0);
    }
}
