//! The scanner core: one value (or one text) in, detections out.
//!
//! For each value, in this order:
//! 1. **Prefilter**: one Aho-Corasick pass (leftmost-longest; every literal is 3+ bytes so
//!    the automaton runs its SIMD Teddy prefilter) finds the distinctive literals (`AKIA`,
//!    `ghp_`, `xox`, `k_live_`, `AIza`, `-----BEGIN `, `eyJ`, `$2b$`, `$argon2`, …), merged
//!    in order with the `@`s found by `memchr`. Only the validator of the literal that was
//!    hit runs, at the hit, and confirmed tokens cover their bytes so nothing inside them is
//!    looked at again.
//! 2. **AWS secret keys** are looked for only within 256 bytes of an access key id.
//! 3. **Digit runs** (one linear pass over the bytes, skipping covered spans): chains of digit
//!    groups joined by one consistent separator are classified as card numbers (issuer, length,
//!    grouping, Luhn), SSNs (`NNN-NN-NNNN`), phone numbers (`+…`, `(NNN) NNN-NNNN`,
//!    `NNN-NNN-NNNN`), IBANs (two capitals before the check digits) and IPv4 addresses.
//!    A chain glued to letters (`v1.2.3.4`, UUID groups, hex hashes) is never classified.
//! 4. **Field context**: when nothing typed was found in a value, its field name may still
//!    make it sensitive (password, SSN without dashes, phone, date of birth, secrets). In
//!    free text, headers and long values the same applies to `key: value`, `key=value`,
//!    `"key": "value"` and `<key>value</key>` pairs: `memchr` finds the separators, the key
//!    before each is classified once (cached), and only a sensitive key's value is read.
//!    Values read out of free text must also not look like code (`password: *mut c_char`).
//! 5. **Custom rules**.
//!
//! Every read is bounds-checked; every loop advances; work per value is linear in its
//! length (the validators read a bounded window). Detections go through [`Unit::push`],
//! which applies the per-transaction cap, de-duplication and the test-data policy.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::fields::{classify, FxBuild, KeyCtx};
use super::json::{render_path, Step};
use super::validate::{self as val, before, byte, Verdict};
use super::{DataType, Detection, Detector, Location, ScanNotes};

/// What a prefilter literal stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pat {
    Email,
    Aws,
    Github,
    Slack,
    SlackHook,
    Stripe,
    Google,
    Pem,
    Jwt,
    PwHash,
}

/// Prefilter literals, matched case-sensitively and all at least three bytes long, so the
/// automaton uses its SIMD (Teddy) prefilter with three-byte fingerprints. The `@` of e-mail
/// addresses is found by `memchr` alongside and merged in order.
/// Typed literals are exact prefixes (the validator checks the rest and the byte before);
/// context words are stems with their case variants (`assword` finds `password`,
/// `Password` and `newPassword`; the key is then read around the hit).
const LITERALS: &[(&str, Pat)] = &[
    ("AKIA", Pat::Aws),
    ("ASIA", Pat::Aws),
    ("AGPA", Pat::Aws),
    ("AIDA", Pat::Aws),
    ("AROA", Pat::Aws),
    ("ABIA", Pat::Aws),
    ("ACCA", Pat::Aws),
    ("A3T", Pat::Aws),
    ("ghp_", Pat::Github),
    ("gho_", Pat::Github),
    ("ghu_", Pat::Github),
    ("ghs_", Pat::Github),
    ("ghr_", Pat::Github),
    ("github_pat_", Pat::Github),
    ("xox", Pat::Slack),
    ("hooks.slack.com/", Pat::SlackHook),
    ("k_live_", Pat::Stripe),
    ("k_test_", Pat::Stripe),
    ("AIza", Pat::Google),
    ("-----BEGIN ", Pat::Pem),
    ("eyJ", Pat::Jwt),
    ("$2a$", Pat::PwHash),
    ("$2b$", Pat::PwHash),
    ("$2y$", Pat::PwHash),
    ("$2x$", Pat::PwHash),
    ("$argon2", Pat::PwHash),
    ("$5$", Pat::PwHash),
    ("$6$", Pat::PwHash),
    ("$1$", Pat::PwHash),
    ("pbkdf2_sha", Pat::PwHash),
    ("$pbkdf2", Pat::PwHash),
];

/// Values shorter than this are searched with the literal searcher only when a pair of
/// adjacent bytes could start a literal (the searcher's setup costs more than such a value).
const SHORT_VALUE: usize = 64;

/// The first two bytes of the literals, as two tables: `PAIR_FIRST[a] & PAIR_SECOND[b]` is
/// non-zero exactly when some literal starts with `a b` (each distinct first byte has a bit).
const fn pair_tables() -> ([u16; 256], [u16; 256]) {
    let mut first = [0u16; 256];
    let mut second = [0u16; 256];
    let mut bits = 0u32;
    let mut i = 0;
    while i < LITERALS.len() {
        let b = LITERALS[i].0.as_bytes();
        let (a, c) = (b[0] as usize, b[1] as usize);
        if first[a] == 0 {
            // More than 16 distinct first bytes would not fit: a compile error.
            first[a] = 1 << bits;
            bits += 1;
        }
        second[c] |= first[a];
        i += 1;
    }
    (first, second)
}

static PAIR_FIRST: [u16; 256] = pair_tables().0;
static PAIR_SECOND: [u16; 256] = pair_tables().1;

/// Whether `v` could contain a prefilter literal: some two adjacent bytes start one. A
/// necessary condition only (the searcher decides).
fn may_hold_literal(v: &[u8]) -> bool {
    v.windows(2).any(|w| match w {
        &[a, b] => PAIR_FIRST[usize::from(a)] & PAIR_SECOND[usize::from(b)] != 0,
        _ => false,
    })
}

/// The prefilter: the literals searched with Teddy directly where the CPU has it (no literal
/// is a prefix of another, so leftmost-first matches are the leftmost-longest ones), else
/// with an Aho-Corasick DFA.
pub(super) struct Prefilter {
    packed: Option<aho_corasick::packed::Searcher>,
    ac: AhoCorasick,
    kinds: Vec<Pat>,
}

impl Prefilter {
    pub(super) fn new() -> Result<Prefilter, aho_corasick::BuildError> {
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(LITERALS.iter().map(|(s, _)| s))?;
        let packed = aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(LITERALS.iter().map(|(s, _)| s))
            .build();
        Ok(Prefilter {
            packed,
            ac,
            kinds: LITERALS.iter().map(|(_, k)| *k).collect(),
        })
    }

    /// (start, pattern index) of each literal in `v`, in order.
    fn find_iter<'v>(&'v self, v: &'v [u8]) -> LiteralHits<'v> {
        match &self.packed {
            Some(p) => LiteralHits::Packed(p.find_iter(v)),
            None => LiteralHits::Auto(self.ac.find_iter(v)),
        }
    }
}

/// The literal matches of one search, from whichever searcher runs.
enum LiteralHits<'v> {
    Packed(aho_corasick::packed::FindIter<'v, 'v>),
    Auto(aho_corasick::FindIter<'v, 'v>),
}

impl Iterator for LiteralHits<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let m = match self {
            LiteralHits::Packed(i) => i.next()?,
            LiteralHits::Auto(i) => i.next()?,
        };
        Some((m.start(), m.pattern().as_usize()))
    }
}

/// How a value reached the scanner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// A structured scalar: JSON string, form/query value, cookie value, path segment.
    Value,
    /// A JSON number.
    Number,
    /// A header value.
    Header,
    /// A text body.
    Text,
}

/// The field a value came from; rendered to a string only when something is reported.
#[derive(Clone, Copy)]
pub(super) enum FieldRef<'a, 'p> {
    /// Already final (lower-case header name).
    Name(&'a str),
    /// A decoded key (query, form, cookie).
    Bytes(&'a [u8]),
    /// A JSON path.
    Json(&'a [Step<'p>]),
    /// A path segment index.
    Path(usize),
    /// A text body.
    Text,
}

impl FieldRef<'_, '_> {
    fn render(&self) -> String {
        match self {
            FieldRef::Name(s) => (*s).to_owned(),
            FieldRef::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            FieldRef::Json(p) => render_path(p),
            FieldRef::Path(i) => format!("path[{i}]"),
            FieldRef::Text => "text".to_owned(),
        }
    }
}

/// A `key: value` pair found in free text.
struct Cand {
    key: (usize, usize),
    value: (usize, usize),
}

/// Values at least this long are also searched for `key: value` pairs.
pub(super) const MIN_TEXTY_VALUE: usize = 24;

/// Most `key: value` pairs with a sensitive key looked at per text.
const MAX_TEXT_PAIRS: usize = 4096;

/// The `key: value` pairs of a text whose key calls for a value check, with their context.
/// Driven by the separators (`memchr3`), keys classified once each (cached).
fn context_pairs(v: &[u8], out: &mut Vec<(Cand, KeyCtx)>) -> bool {
    let mut cache: HashMap<&[u8], KeyCtx, FxBuild> = HashMap::default();
    let mut next = 0usize;
    for at in memchr::memchr3_iter(b':', b'=', b'>', v) {
        if at < next {
            continue;
        }
        let Some((ks, ke)) = context_key(v, at) else {
            continue;
        };
        let key = v.get(ks..ke).unwrap_or_default();
        if !key.iter().any(u8::is_ascii_alphabetic) {
            continue;
        }
        let ctx = match cache.get(key) {
            Some(&ctx) => ctx,
            None => {
                let ctx = classify(key);
                if cache.len() < 1024 {
                    cache.insert(key, ctx);
                }
                ctx
            }
        };
        if !ctx.wants_value_check() {
            continue;
        }
        let Some(value) = context_value_range(v, at) else {
            continue;
        };
        next = value.1;
        if out.len() >= MAX_TEXT_PAIRS {
            return false;
        }
        out.push((
            Cand {
                key: (ks, ke),
                value,
            },
            ctx,
        ));
    }
    true
}

#[derive(Default)]
struct Scratch {
    spans: Vec<(usize, usize)>,
    aws_ids: Vec<(usize, usize)>,
    cands: Vec<(Cand, KeyCtx)>,
    groups: Vec<(usize, usize)>,
    digits: Vec<u8>,
}

/// Scratch buffers this large (elements) are freed rather than kept for the next call.
const MAX_KEPT_SCRATCH: usize = 4096;

thread_local! {
    /// One `Scratch` kept per thread between scan calls (a call takes it, or makes its own
    /// when a nested call holds it), so the buffers are not allocated per header and body.
    static SCRATCH: std::cell::RefCell<Option<Box<Scratch>>> = const { std::cell::RefCell::new(None) };
}

impl Scratch {
    fn take() -> Box<Scratch> {
        SCRATCH
            .try_with(|c| c.borrow_mut().take())
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    fn put_back(mut self: Box<Self>) {
        let big = [
            self.spans.capacity(),
            self.aws_ids.capacity(),
            self.cands.capacity(),
            self.groups.capacity(),
            self.digits.capacity(),
        ]
        .iter()
        .any(|&c| c > MAX_KEPT_SCRATCH);
        if big {
            return;
        }
        self.spans.clear();
        self.aws_ids.clear();
        self.cands.clear();
        self.groups.clear();
        self.digits.clear();
        let _ = SCRATCH.try_with(|c| {
            let mut slot = c.borrow_mut();
            if slot.is_none() {
                *slot = Some(self);
            }
        });
    }
}

/// Hashes of detections for de-duplication and array grouping (a collision can only merge
/// two values of the same type into one counted item).
const GROUP_HASH: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x5e9a_71c3);

/// The state of one scan call: where detections go and what was capped.
pub(super) struct Unit<'o> {
    out: &'o mut Vec<Detection>,
    pub loc: Location,
    pub notes: ScanNotes,
    pub allow_ipv4: bool,
    pub values: usize,
    pub full: bool,
    saw_aws_id: bool,
    aws_pending: Vec<usize>,
    /// Buffers reused across the values of one call (boxed: moved in and out per value).
    scratch: Option<Box<Scratch>>,
    /// Entries of `out` present before this call (checked linearly) and hashes of the
    /// (type, field, raw) triples added by it (checked in O(1)).
    prior: usize,
    seen: HashSet<u64>,
    /// Detections of array elements by (type, test flag, field pattern) hash: later values
    /// of the same group only add to its count.
    groups: HashMap<u64, usize, FxBuild>,
    /// The group last added to: (path fingerprint, type, test flag, index in `out`).
    last_group: Option<(u64, DataType, bool, usize)>,
}

impl<'o> Unit<'o> {
    pub(super) fn new(out: &'o mut Vec<Detection>, loc: Location) -> Unit<'o> {
        let out_len = out.len();
        Unit {
            out,
            loc,
            notes: ScanNotes::default(),
            allow_ipv4: false,
            values: 0,
            full: false,
            saw_aws_id: false,
            aws_pending: Vec::new(),
            scratch: None,
            prior: out_len,
            seen: HashSet::new(),
            groups: HashMap::default(),
            last_group: None,
        }
    }

    /// Counts one value against `max_values`; false (and the note) when over.
    pub(super) fn count_value(&mut self, max: usize) -> bool {
        if self.values >= max {
            self.notes.values_capped = true;
            return false;
        }
        self.values += 1;
        true
    }

    /// Reports one detection, unless disabled, a placeholder, filtered test data, a
    /// duplicate, or over the cap. Returns the index in `out` when stored.
    pub(super) fn push(
        &mut self,
        det: &Detector,
        kind: DataType,
        field: &FieldRef<'_, '_>,
        raw: &[u8],
        verdict: Verdict,
    ) -> Option<usize> {
        if verdict == Verdict::Placeholder || det.disabled(&kind) {
            return None;
        }
        let test_data = verdict == Verdict::Test;
        if test_data && !det.limits.report_test_data {
            return None;
        }
        let raw = raw.trim_ascii();
        if raw.is_empty() {
            return None;
        }
        // Array elements: one detection per (type, test flag, field pattern), counted.
        let group = match field {
            FieldRef::Json(p) if p.last().is_some_and(|s| s.in_array) => {
                let fp = p.last().map_or(0, |s| s.fp);
                // The elements of an array of objects report the same group one after
                // another: the last group is checked before hashing.
                if let Some((lfp, lkind, ltest, i)) = &self.last_group {
                    if *lfp == fp && *ltest == test_data && *lkind == kind {
                        if let Some(d) = self.out.get_mut(*i) {
                            d.count = d.count.saturating_add(1);
                            return None;
                        }
                    }
                }
                let g = GROUP_HASH.hash_one((&kind, test_data, fp));
                if let Some(&i) = self.groups.get(&g) {
                    if let Some(d) = self.out.get_mut(i) {
                        d.count = d.count.saturating_add(1);
                        self.last_group = Some((fp, kind, test_data, i));
                        return None;
                    }
                }
                Some((g, fp))
            }
            _ => None,
        };
        let raw = String::from_utf8_lossy(raw).into_owned();
        let field = field.render();
        let h = GROUP_HASH.hash_one((&kind, &field, &raw));
        let dup_here = self.seen.contains(&h)
            && self
                .out
                .iter()
                .skip(self.prior)
                .any(|d| d.kind == kind && d.raw == raw && d.field == field);
        let dup_before =
            self.out.iter().take(self.prior).any(|d| {
                d.kind == kind && d.location == self.loc && d.raw == raw && d.field == field
            });
        if dup_here || dup_before {
            return None;
        }
        if self.out.len() >= det.limits.max_detections_per_tx {
            self.notes.detections_capped = true;
            self.full = true;
            return None;
        }
        self.seen.insert(h);
        if let Some((g, fp)) = group {
            self.groups.insert(g, self.out.len());
            self.last_group = Some((fp, kind.clone(), test_data, self.out.len()));
        }
        self.out.push(Detection {
            kind,
            location: self.loc,
            field,
            raw,
            test_data,
            count: 1,
        });
        Some(self.out.len() - 1)
    }

    /// Ends the call: secrets shaped like AWS secret keys become `aws_secret_key` when an
    /// access key id was seen in the same call.
    pub(super) fn finish(mut self) -> ScanNotes {
        if let Some(sc) = self.scratch.take() {
            sc.put_back();
        }
        if self.saw_aws_id {
            for &i in &self.aws_pending {
                if let Some(d) = self.out.get_mut(i) {
                    d.kind = DataType::AwsSecretKey;
                }
            }
        }
        self.notes
    }
}

/// Whether `s..e` overlaps one of `spans` (sorted by start, not overlapping each other).
fn overlaps(spans: &[(usize, usize)], s: usize, e: usize) -> bool {
    // The first span ending after `s` is the only candidate.
    let i = spans.partition_point(|&(_, b)| b <= s);
    spans.get(i).is_some_and(|&(a, _)| a < e)
}

fn is_keych(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'
}

/// `key: value`, `key=value`, `"key": "value"`, `key => value`, `key := value` and
/// `<key>value</key>` at the separator at `sep_at`: the key is read backwards from the
/// separator (at most 64 bytes), the value forwards (at most 512 bytes).
fn context_key(v: &[u8], sep_at: usize) -> Option<(usize, usize)> {
    let sep = byte(v, sep_at);
    let mut ke = sep_at;
    while matches!(before(v, ke), b' ' | b'\t') {
        ke -= 1;
    }
    if matches!(before(v, ke), b'"' | b'\'') {
        ke -= 1;
    }
    let mut ks = ke;
    while ks > 0 && ke - ks < 64 && is_keych(before(v, ks)) {
        ks -= 1;
    }
    if ks == ke || is_keych(before(v, ks)) {
        return None;
    }
    if sep == b'>' && before(v, ks) != b'<' {
        return None; // only an opening tag: `<password>`, not `</password>` or `a > b`
    }
    Some((ks, ke))
}

/// The value after the separator at `sep_at` (see [`context_key`]).
fn context_value_range(v: &[u8], sep_at: usize) -> Option<(usize, usize)> {
    let sep = byte(v, sep_at);
    let mut j = sep_at + 1;
    if matches!((sep, byte(v, j)), (b'=', b'>') | (b':', b'=')) {
        j += 1;
    }
    if sep != b'>' {
        while matches!(byte(v, j), b' ' | b'\t') {
            j += 1;
        }
    }
    let q = byte(v, j);
    let (vs, stop): (usize, fn(u8, u8) -> bool) = if sep == b'>' {
        (j, |b, _| b == b'<' || b == b'\n')
    } else if q == b'"' || q == b'\'' {
        (j + 1, |b, q| b == q || b == b'\n')
    } else {
        (j, |b, _| {
            b.is_ascii_whitespace()
                || matches!(
                    b,
                    b',' | b';' | b'&' | b'<' | b'"' | b'\'' | b'}' | b']' | b')'
                )
        })
    };
    let mut ve = vs;
    while ve - vs < 512 && ve < v.len() && !stop(byte(v, ve), q) {
        ve += 1;
    }
    (ve > vs).then_some((vs, ve))
}

/// Digits of a chain of groups, concatenated into `out`.
fn chain_digits(v: &[u8], groups: &[(usize, usize)], out: &mut Vec<u8>) {
    out.clear();
    for &(s, e) in groups {
        out.extend_from_slice(v.get(s..e).unwrap_or_default());
    }
}

/// Card groupings: fours with a shorter last group (4-4-4-4, 4-4-4-1, 4-4-4-4-3), or the
/// 4-6-5 / 4-6-4 layouts of Amex and Diners.
fn card_grouping(lens: &[usize]) -> bool {
    match lens {
        [4, 6, 5] | [4, 6, 4] => true,
        [init @ .., last] if init.len() >= 2 => {
            init.iter().all(|&l| l == 4) && (1..=4).contains(last)
        }
        _ => false,
    }
}

/// Whether a dotted quad at `s` reads as a version or an object identifier
/// (`version 1.2.3.4`, `build: 10.0.0.1`, `oid 2.5.4.3`).
fn version_lookback(v: &[u8], s: usize) -> bool {
    let from = s.saturating_sub(16);
    let w = v.get(from..s).unwrap_or_default();
    let mut lower = [0u8; 16];
    for (d, b) in lower.iter_mut().zip(w) {
        *d = b.to_ascii_lowercase();
    }
    let lower = lower.get(..w.len()).unwrap_or_default();
    memchr::memmem::find(lower, b"version").is_some()
        || memchr::memmem::find(lower, b"build").is_some()
        || memchr::memmem::find(lower, b"oid").is_some()
        // Gecko's revision in user agents: "(X11; Linux x86_64; rv:1.9.2.20) Gecko/...".
        || lower.ends_with(b"rv:")
}

impl Detector {
    /// Scans one value. `key` is the field-name context, `raw_key` the leaf name for custom
    /// field rules.
    pub(super) fn scan_value(
        &self,
        u: &mut Unit<'_>,
        field: &FieldRef<'_, '_>,
        key: KeyCtx,
        raw_key: Option<&[u8]>,
        v: &[u8],
        mode: Mode,
    ) {
        self.scan_value_pre(u, field, key, raw_key, v, mode, None);
    }

    /// [`Detector::scan_value`] with the prefilter hits already known: `pre` holds the
    /// hits of a whole-body pass that fall inside `v`, as (offset in the body, literal),
    /// and the offset of `v` in that body.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn scan_value_pre(
        &self,
        u: &mut Unit<'_>,
        field: &FieldRef<'_, '_>,
        key: KeyCtx,
        raw_key: Option<&[u8]>,
        v: &[u8],
        mode: Mode,
        pre: Option<(&[(usize, Pat)], usize)>,
    ) {
        if u.full {
            return;
        }
        let cap = if mode == Mode::Text {
            self.limits.max_scan_bytes
        } else {
            self.limits.max_value_bytes
        };
        let v = if v.len() > cap {
            u.notes.bytes_capped = true;
            v.get(..cap).unwrap_or_default()
        } else {
            v
        };
        let mut sc = u.scratch.take().unwrap_or_else(Scratch::take);
        sc.spans.clear();
        sc.aws_ids.clear();
        sc.cands.clear();
        // Every literal is 3+ bytes and the shortest address is 6: shorter values skip the
        // prefilter. A number shorter than 12 digits can only matter through its field name.
        if mode != Mode::Number && v.len() >= 3 {
            match pre {
                Some((hits, base)) => {
                    if !hits.is_empty() {
                        let hits = hits.iter().map(|&(p, pat)| (p.saturating_sub(base), pat));
                        self.typed_hits(u, &mut sc, field, v, hits);
                    }
                }
                None => self.typed_pass(u, &mut sc, field, v),
            }
            if !sc.aws_ids.is_empty() {
                self.aws_secret_near_ids(u, &mut sc, field, v);
            }
        }
        if mode != Mode::Number || v.len() >= 12 {
            self.digit_pass(u, &mut sc, field, key, v, mode);
        }
        if mode != Mode::Text && sc.spans.is_empty() && key.wants_value_check() {
            self.context_value(u, field, key, v, false);
        }
        // `key: value` pairs inside free text, and inside long values (GraphQL queries with
        // inline arguments, URLs with query strings).
        let texty = matches!(mode, Mode::Text | Mode::Header)
            || (mode == Mode::Value && v.len() >= MIN_TEXTY_VALUE);
        if texty && !u.full {
            if !context_pairs(v, &mut sc.cands) {
                u.notes.values_capped = true;
            }
            sc.spans.sort_unstable();
            for i in 0..sc.cands.len() {
                let Some((c, ctx)) = sc.cands.get(i) else {
                    break;
                };
                let (vs, ve) = c.value;
                if overlaps(&sc.spans, vs, ve) {
                    continue;
                }
                let ctx = *ctx;
                let value = v.get(vs..ve).unwrap_or_default();
                let key_bytes = v.get(c.key.0..c.key.1).unwrap_or_default();
                let f = match field {
                    FieldRef::Text => FieldRef::Bytes(key_bytes),
                    other => *other,
                };
                // `<key>value</key>`: an element's content is data, not source code.
                let element = c.key.0 > 0
                    && before(v, c.key.0) == b'<'
                    && before(v, vs) == b'>'
                    && v.get(ve..).is_some_and(|rest| {
                        rest.starts_with(b"</")
                            && rest.get(2..).is_some_and(|r| {
                                r.starts_with(key_bytes) && r.get(key_bytes.len()) == Some(&b'>')
                            })
                    });
                self.context_value(u, &f, ctx, value, !element);
            }
        }
        if !self.custom.is_empty() && !u.full {
            let mut hits: Vec<(DataType, usize, usize)> = Vec::new();
            let key_for_rules = if mode == Mode::Text { None } else { raw_key };
            self.custom.check(key_for_rules, v, &mut |k, s, e| {
                hits.push((k.clone(), s, e));
                hits.len() < self.limits.max_detections_per_tx
            });
            for (k, s, e) in hits {
                u.push(
                    self,
                    k,
                    field,
                    v.get(s..e).unwrap_or_default(),
                    Verdict::Real,
                );
            }
        }
        u.scratch = Some(sc);
    }

    /// The prefilter hits of `v` in order: (start, literal), the Aho-Corasick literals merged
    /// with the `@`s found by `memchr`.
    pub(super) fn prefilter_hits<'v>(
        &'v self,
        v: &'v [u8],
    ) -> impl Iterator<Item = (usize, Pat)> + 'v {
        let kinds = &self.pre.kinds;
        let search = v.len() >= SHORT_VALUE || may_hold_literal(v);
        let mut ac_hits = search
            .then(|| self.pre.find_iter(v))
            .into_iter()
            .flatten()
            .filter_map(|(start, i)| {
                let pat = *kinds.get(i)?;
                Some((start, pat))
            });
        let mut at_hits = memchr::memchr_iter(b'@', v).map(|p| (p, Pat::Email));
        let (mut next_ac, mut next_at) = (ac_hits.next(), at_hits.next());
        std::iter::from_fn(move || match (next_ac, next_at) {
            (Some(a), Some(b)) if a.0 <= b.0 => {
                next_ac = ac_hits.next();
                Some(a)
            }
            (_, Some(b)) => {
                next_at = at_hits.next();
                Some(b)
            }
            (Some(a), None) => {
                next_ac = ac_hits.next();
                Some(a)
            }
            (None, None) => None,
        })
    }

    fn typed_pass(&self, u: &mut Unit<'_>, sc: &mut Scratch, field: &FieldRef<'_, '_>, v: &[u8]) {
        self.typed_hits(u, sc, field, v, self.prefilter_hits(v));
    }

    /// Runs the validator of each prefilter hit (positions relative to `v`, in order).
    fn typed_hits(
        &self,
        u: &mut Unit<'_>,
        sc: &mut Scratch,
        field: &FieldRef<'_, '_>,
        v: &[u8],
        hits: impl Iterator<Item = (usize, Pat)>,
    ) {
        let mut covered = 0usize;
        let mut pem_ends = val::PemEnds::default();
        for (p, pat) in hits {
            if u.full {
                return;
            }
            if p < covered {
                continue;
            }
            let found = match pat {
                Pat::Email => val::email_at(v, p).map(|s| (DataType::Email, s)),
                Pat::Aws => val::aws_key_at(v, p).map(|s| (DataType::AwsAccessKey, s)),
                Pat::Github => val::github_at(v, p).map(|s| (DataType::GithubToken, s)),
                Pat::Slack => val::slack_at(v, p).map(|s| (DataType::SlackToken, s)),
                Pat::SlackHook => val::slack_webhook_at(v, p).map(|s| (DataType::SlackToken, s)),
                // The literal is `k_live_`/`k_test_`: the key starts one byte earlier.
                Pat::Stripe => p
                    .checked_sub(1)
                    .and_then(|q| val::stripe_at(v, q))
                    .map(|s| (DataType::StripeKey, s)),
                Pat::Google => val::google_at(v, p).map(|s| (DataType::GoogleApiKey, s)),
                Pat::Pem => val::pem_at(v, p, self.limits.max_token_bytes, &mut pem_ends)
                    .map(|s| (DataType::PrivateKey, s)),
                Pat::Jwt => {
                    val::jwt_at(v, p, self.limits.max_token_bytes).map(|s| (DataType::Jwt, s))
                }
                Pat::PwHash => val::pwhash_at(v, p).map(|s| (DataType::PasswordHash, s)),
            };
            let Some((kind, span)) = found else { continue };
            // A token must not start inside an earlier one (an e-mail's local part can reach
            // back before its `@`).
            if span.start < covered || sc.spans.last().is_some_and(|&(_, e)| span.start < e) {
                continue;
            }
            covered = span.end;
            sc.spans.push((span.start, span.end));
            if kind == DataType::AwsAccessKey {
                sc.aws_ids.push((span.start, span.end));
                if span.verdict != Verdict::Placeholder {
                    u.saw_aws_id = true;
                }
            }
            let raw = v.get(span.start..span.end).unwrap_or_default();
            u.push(self, kind, field, raw, span.verdict);
        }
    }

    /// 40-character secret keys within 256 bytes of an access key id.
    fn aws_secret_near_ids(
        &self,
        u: &mut Unit<'_>,
        sc: &mut Scratch,
        field: &FieldRef<'_, '_>,
        v: &[u8],
    ) {
        let ids = std::mem::take(&mut sc.aws_ids);
        let typed = sc.spans.len();
        let mut next_from = 0usize;
        for &(s, e) in &ids {
            let from = s.saturating_sub(256).max(next_from);
            let to = (e + 256).min(v.len());
            let mut i = from;
            while i < to {
                if let Some(span) = val::aws_secret_token_at(v, i) {
                    // Typed spans are sorted; the new ones come in order after each other.
                    let typed_spans = sc.spans.get(..typed).unwrap_or_default();
                    if !overlaps(typed_spans, span.start, span.end) {
                        sc.spans.push((span.start, span.end));
                        let raw = v.get(span.start..span.end).unwrap_or_default();
                        u.push(self, DataType::AwsSecretKey, field, raw, span.verdict);
                    }
                    i = span.end;
                } else {
                    i += 1;
                }
            }
            next_from = to;
        }
        sc.spans.sort_unstable();
        sc.aws_ids = ids;
    }

    fn digit_pass(
        &self,
        u: &mut Unit<'_>,
        sc: &mut Scratch,
        field: &FieldRef<'_, '_>,
        key: KeyCtx,
        v: &[u8],
        mode: Mode,
    ) {
        let typed = sc.spans.len();
        let mut si = 0usize;
        let mut i = 0usize;
        let n = v.len();
        while i < n && !u.full {
            let Some(off) = v
                .get(i..)
                .and_then(|r| r.iter().position(u8::is_ascii_digit))
            else {
                break;
            };
            let s = i + off;
            while sc.spans.get(si).is_some_and(|&(_, e)| e <= s) && si < typed {
                si += 1;
            }
            if si < typed {
                if let Some(&(a, e)) = sc.spans.get(si) {
                    if a <= s {
                        i = e;
                        continue;
                    }
                }
            }
            let next_span = if si < typed {
                sc.spans.get(si).map_or(usize::MAX, |&(a, _)| a)
            } else {
                usize::MAX
            };
            let prev = before(v, s);
            // Phone numbers introduced by `+` or `(`.
            if prev == b'+' || prev == b'(' {
                let span = if prev == b'+' {
                    val::phone_plus_at(v, s - 1)
                } else {
                    val::phone_paren_at(v, s - 1)
                };
                if let Some(sp) = span.filter(|sp| sp.end <= next_span) {
                    sc.spans.push((sp.start, sp.end));
                    let raw = v.get(sp.start..sp.end).unwrap_or_default();
                    u.push(self, DataType::Phone, field, raw, sp.verdict);
                    i = sp.end;
                    continue;
                }
            }
            // IBAN: two capitals, then the check digits.
            if s >= 2 && prev.is_ascii_uppercase() && before(v, s - 1).is_ascii_uppercase() {
                if let Some((sp, _)) = val::iban_at(v, s - 2).filter(|(sp, _)| sp.end <= next_span)
                {
                    sc.spans.push((sp.start, sp.end));
                    let raw = v.get(sp.start..sp.end).unwrap_or_default();
                    u.push(self, DataType::Iban, field, raw, sp.verdict);
                    i = sp.end;
                    continue;
                }
            }
            // A chain of digit groups with one separator.
            let mut groups = std::mem::take(&mut sc.groups);
            groups.clear();
            let mut e = s + val_run(v, s);
            groups.push((s, e));
            let mut sep: Option<u8> = None;
            while groups.len() < 8 {
                let b = byte(v, e);
                if matches!(b, b' ' | b'-' | b'.' | b'/')
                    && byte(v, e + 1).is_ascii_digit()
                    && sep.is_none_or(|x| x == b)
                {
                    sep = Some(b);
                    let gs = e + 1;
                    e = gs + val_run(v, gs);
                    groups.push((gs, e));
                } else {
                    break;
                }
            }
            i = e.max(s + 1);
            let glued_before = prev.is_ascii_alphanumeric()
                || prev == b'_'
                || (matches!(prev, b'-' | b'.') && before(v, s - 1).is_ascii_alphanumeric());
            let after = byte(v, e);
            let glued_after = after.is_ascii_alphanumeric()
                || after == b'_'
                || (matches!(after, b'-' | b'.') && byte(v, e + 1).is_ascii_alphanumeric());
            if !glued_before && !glued_after && e <= next_span {
                self.classify_chain(u, sc, field, key, v, mode, &groups, sep);
            }
            sc.groups = groups;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn classify_chain(
        &self,
        u: &mut Unit<'_>,
        sc: &mut Scratch,
        field: &FieldRef<'_, '_>,
        key: KeyCtx,
        v: &[u8],
        mode: Mode,
        groups: &[(usize, usize)],
        sep: Option<u8>,
    ) {
        let mut lens_buf = [0usize; 8];
        for (l, &(s, e)) in lens_buf.iter_mut().zip(groups) {
            *l = e - s;
        }
        let lens = lens_buf.get(..groups.len().min(8)).unwrap_or_default();
        let total: usize = lens.iter().sum();
        let start = groups.first().map_or(0, |g| g.0);
        let end = groups.last().map_or(0, |g| g.1);
        let mut digits = std::mem::take(&mut sc.digits);
        let card_ctx = key.has(KeyCtx::CARD);
        let test_if = |t: bool| if t { Verdict::Test } else { Verdict::Real };
        let mut report: Option<(DataType, usize, usize, Verdict)> = None;
        match sep {
            // A bare digit run: common card lengths only (14-16; 12-19 in a card field), never
            // in an id-like field, and a JSON number only in a card field (numbers are ids).
            None if (if card_ctx { 12..=19 } else { 14..=16 }).contains(&total)
                && (card_ctx || (!key.has(KeyCtx::ID_LIKE) && mode != Mode::Number)) =>
            {
                chain_digits(v, groups, &mut digits);
                if val::card_ok(&digits, card_ctx) {
                    let verdict = test_if(val::is_test_card(&digits));
                    report = Some((DataType::CreditCard, start, end, verdict));
                }
            }
            Some(b' ' | b'-') => {
                // The card may be any consistent sub-chain: "qty 12 4111 1111 1111 1111 2".
                'outer: for k in 0..lens.len() {
                    for m in (k + 2..=lens.len()).rev() {
                        let sub = lens.get(k..m).unwrap_or_default();
                        let t: usize = sub.iter().sum();
                        if !(12..=19).contains(&t) || !card_grouping(sub) {
                            continue;
                        }
                        let g = groups.get(k..m).unwrap_or_default();
                        chain_digits(v, g, &mut digits);
                        if val::card_ok(&digits, card_ctx) {
                            let verdict = test_if(val::is_test_card(&digits));
                            let (s0, e0) =
                                (g.first().map_or(0, |x| x.0), g.last().map_or(0, |x| x.1));
                            report = Some((DataType::CreditCard, s0, e0, verdict));
                            break 'outer;
                        }
                    }
                }
                if report.is_none() && sep == Some(b'-') {
                    chain_digits(v, groups, &mut digits);
                    let nanp = match lens {
                        [3, 3, 4] => Some(digits.as_slice()),
                        [1, 3, 3, 4] if digits.first() == Some(&b'1') => digits.get(1..),
                        _ => None,
                    };
                    if lens == [3, 2, 4] && val::ssn_ok(&digits) {
                        report = Some((DataType::UsSsn, start, end, Verdict::Real));
                    } else if let Some(d10) = nanp.filter(|d| val::nanp_ok(d)) {
                        let verdict = test_if(val::nanp_fictional(d10));
                        report = Some((DataType::Phone, start, end, verdict));
                    }
                }
            }
            Some(b'.')
                if lens.len() == 4
                    && u.allow_ipv4
                    && self.limits.ipv4
                    && mode != Mode::Header
                    && !key.has(KeyCtx::VERSION)
                    && !version_lookback(v, start) =>
            {
                if let Some(verdict) = val::ipv4_parse(v, groups).and_then(val::ipv4_verdict) {
                    report = Some((DataType::Ipv4, start, end, verdict));
                }
            }
            _ => {}
        }
        if let Some((kind, s, e, verdict)) = report {
            sc.spans.push((s, e));
            u.push(self, kind, field, v.get(s..e).unwrap_or_default(), verdict);
        }
        sc.digits = digits;
    }

    /// Whole-value checks driven by the field name.
    /// `from_text`: the pair was read out of free text (so it may be source code or prose),
    /// and password/secret values must also not look like code.
    fn context_value(
        &self,
        u: &mut Unit<'_>,
        field: &FieldRef<'_, '_>,
        key: KeyCtx,
        v: &[u8],
        from_text: bool,
    ) {
        let t = v.trim_ascii();
        if t.is_empty() {
            return;
        }
        let code = from_text && val::code_like(t);
        if key.has(KeyCtx::PASSWORD) {
            if val::password_ok(t) && !code {
                u.push(self, DataType::Password, field, t, Verdict::Real);
            }
            return;
        }
        if key.has(KeyCtx::AWS_SECRET) && val::aws_secret_shape_named(t) {
            let verdict = if val::aws_secret_placeholder(t) {
                Verdict::Placeholder
            } else {
                Verdict::Real
            };
            u.push(self, DataType::AwsSecretKey, field, t, verdict);
            return;
        }
        if key.has(KeyCtx::SSN) {
            let compact: Vec<u8> = t
                .iter()
                .copied()
                .filter(|b| !matches!(b, b'-' | b' '))
                .collect();
            let shape = t.len() <= 11 && compact.len() == 9;
            if shape && val::ssn_ok(&compact) {
                u.push(self, DataType::UsSsn, field, t, Verdict::Real);
                return;
            }
        }
        if key.has(KeyCtx::DOB) {
            let years = (self.limits.dob_min_year, self.limits.dob_max_year);
            if val::parse_date(t, years).is_some() {
                u.push(self, DataType::DateOfBirth, field, t, Verdict::Real);
                return;
            }
        }
        if key.has(KeyCtx::PHONE) {
            if let Some(verdict) = val::phone_value(t) {
                u.push(self, DataType::Phone, field, t, verdict);
                return;
            }
        }
        if (key.has(KeyCtx::SECRET) || key.has(KeyCtx::AWS_SECRET))
            && val::secret_ok(t)
            && !code
            && (!from_text || t.iter().any(u8::is_ascii_digit))
        {
            let aws_shape = val::aws_secret_shape(t);
            if aws_shape && val::aws_secret_placeholder(t) {
                return;
            }
            if let Some(i) = u.push(self, DataType::Secret, field, t, Verdict::Real) {
                if aws_shape {
                    u.aws_pending.push(i);
                }
            }
        }
    }
}

fn val_run(v: &[u8], s: usize) -> usize {
    v.get(s..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_skip_the_searcher_only_without_a_literal_start() {
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let noise = b"abcxyzAKghe-$_0123 .:/@";
        for (lit, _) in LITERALS {
            for n in 0..200 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let mut v: Vec<u8> = (0..(rng % 40) as usize)
                    .map(|k| noise[(rng >> (k % 50)) as usize % noise.len()])
                    .collect();
                let at = if v.is_empty() { 0 } else { n % v.len() };
                v.splice(at..at, lit.bytes());
                assert!(
                    may_hold_literal(&v),
                    "{lit} in {:?}",
                    String::from_utf8_lossy(&v)
                );
            }
        }
        for no in [
            "application/json",
            "Mozilla/5.0 (X11; Linux x86_64)",
            "/api/v1/users/42",
            "",
        ] {
            assert!(!may_hold_literal(no.as_bytes()), "{no}");
        }
        // Whatever the check says, the hits are the searcher's.
        let d = Detector::new(&super::super::SensitiveConfig::default()).unwrap();
        for v in [
            "token AKIAIOSFODNN7EXAMPLE",
            "ghp_x",
            "a@b",
            "Bearer eyJhbGciOiJub25lIn0.e30.",
            "plain",
        ] {
            let all: Vec<(usize, Pat)> = {
                let kinds = &d.pre.kinds;
                let mut h: Vec<(usize, Pat)> = d
                    .pre
                    .find_iter(v.as_bytes())
                    .map(|(s, i)| (s, kinds[i]))
                    .collect();
                h.extend(memchr::memchr_iter(b'@', v.as_bytes()).map(|p| (p, Pat::Email)));
                h.sort_by_key(|x| x.0);
                h
            };
            assert_eq!(
                d.prefilter_hits(v.as_bytes()).collect::<Vec<_>>(),
                all,
                "{v}"
            );
        }
    }

    #[test]
    fn literals_build_and_map() {
        let p = Prefilter::new().unwrap();
        assert_eq!(p.kinds.len(), LITERALS.len());
        let hits: Vec<Pat> =
            p.ac.find_iter("x@y AKIA eyJ password $2b$ -----BEGIN newPassword")
                .map(|m| p.kinds[m.pattern().as_usize()])
                .collect();
        use Pat::*;
        assert_eq!(hits, vec![Aws, Jwt, PwHash, Pem]);
        assert!(LITERALS.iter().all(|(s, _)| s.len() >= 3));
        assert!(p.kinds.len() <= 64, "keep the SIMD (Teddy) prefilter");
    }

    /// The Teddy searcher finds what the automaton finds (no literal is a prefix of another,
    /// so leftmost-first and leftmost-longest agree), on texts dense with literals.
    #[test]
    fn packed_search_agrees_with_the_automaton() {
        let p = Prefilter::new().unwrap();
        for (a, _) in LITERALS {
            for (b, _) in LITERALS {
                assert!(a == b || !b.starts_with(a), "{a} is a prefix of {b}");
            }
        }
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut text = Vec::new();
            for _ in 0..40 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                match rng % 4 {
                    0 => text.extend_from_slice(
                        LITERALS[(rng >> 8) as usize % LITERALS.len()].0.as_bytes(),
                    ),
                    1 => text.push(b"$AKxoeyJ-_ab@"[(rng >> 8) as usize % 13]),
                    _ => text.extend_from_slice(&(rng >> 16).to_le_bytes()[..3]),
                }
            }
            let auto: Vec<(usize, usize)> =
                p.ac.find_iter(&text)
                    .map(|m| (m.start(), m.pattern().as_usize()))
                    .collect();
            assert_eq!(p.find_iter(&text).collect::<Vec<_>>(), auto);
        }
    }

    #[test]
    fn context_pairs_in_text() {
        let get = |t: &str| {
            let mut out = Vec::new();
            context_pairs(t.as_bytes(), &mut out);
            out.iter()
                .map(|(c, _)| {
                    (
                        t[c.key.0..c.key.1].to_owned(),
                        t[c.value.0..c.value.1].to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let one = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
        assert_eq!(
            get("db_password=hunter2&x=1"),
            one("db_password", "hunter2")
        );
        assert_eq!(get("\"password\": \"p w\""), one("password", "p w"));
        assert_eq!(
            get("<Password>s3cr3t</Password>"),
            one("Password", "s3cr3t")
        );
        assert_eq!(
            get("aws_secret_access_key = AbC"),
            one("aws_secret_access_key", "AbC")
        );
        assert_eq!(get(":password => 'x'"), one("password", "x"));
        assert_eq!(get("pwd := 'x'"), one("pwd", "x"));
        assert_eq!(
            get("x=1&name=bob&phone=4155552671"),
            one("phone", "4155552671")
        );
        assert!(get("reset your password today").is_empty());
        assert!(get("</password>").is_empty());
        assert!(get("password=").is_empty());
        assert!(get("a > b and c = d, https://x.io").is_empty());
        let many = "password=x&".repeat(10_000);
        let mut out = Vec::new();
        assert!(!context_pairs(many.as_bytes(), &mut out));
        assert_eq!(out.len(), MAX_TEXT_PAIRS);
    }

    #[test]
    fn groupings() {
        assert!(card_grouping(&[4, 4, 4, 4]));
        assert!(card_grouping(&[4, 4, 4, 1]));
        assert!(card_grouping(&[4, 4, 4, 4, 3]));
        assert!(card_grouping(&[4, 6, 5]));
        assert!(!card_grouping(&[4, 4]));
        assert!(!card_grouping(&[3, 4, 4, 4]));
        assert!(!card_grouping(&[4, 4, 5, 3]));
    }

    #[test]
    fn version_context() {
        assert!(version_lookback(b"Version: 1.2.3.4", 9));
        assert!(version_lookback(b"build 10.0.0.1", 6));
        assert!(!version_lookback(b"client 10.0.0.1", 7));
    }
}
