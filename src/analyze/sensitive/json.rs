//! A lenient, streaming JSON walker: (path, scalar) pairs without building a tree.
//!
//! [`walk`] reads the bytes once, keeps only the current path (a stack bounded by
//! `max_depth`), and calls back for every scalar. Strings without escapes are borrowed;
//! escaped ones are decoded (invalid `\u` escapes become U+FFFD). It never fails:
//! - a body cut at a capture cap ends with [`WalkEnd::Truncated`] after every complete
//!   scalar, and the unterminated last string, have been delivered;
//! - a syntax error ends with [`WalkEnd::Invalid`] and its offset, so the caller can scan the
//!   rest as text;
//! - containers deeper than `max_depth` are skipped (bracket counting only, still linear) and
//!   counted in [`WalkStats::depth_skipped`];
//! - several top-level values in a row (NDJSON, JSON sequences) are walked one after another.

use std::borrow::Cow;
use std::ops::ControlFlow;

use super::fields::{load8, KeyCache, KeyCtx};

/// One path step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Seg<'a> {
    Key(Cow<'a, [u8]>),
    Index(usize),
}

/// One path step with the field-name context in force there (an array element inherits the
/// context of the key that holds the array).
#[derive(Clone, Debug)]
pub(super) struct Step<'a> {
    pub seg: Seg<'a>,
    pub ctx: KeyCtx,
    /// A fingerprint of the path up to this step with array indices left out (the same for
    /// every element of an array), and whether an array index is on the path: array
    /// elements are folded into one item by this fingerprint without hashing the path again.
    pub fp: u64,
    pub in_array: bool,
}

const FP_MUL: u64 = 0x9e37_79b9_7f4a_7c15;

/// Slots of a walk's memo of path fingerprint -> field-name context.
const CTX_MEMO: usize = 64;

/// The fingerprint of a key step below `parent`: every byte of the key counts.
fn key_fp(parent: u64, key: &[u8]) -> u64 {
    let n = key.len();
    let mut h = parent.rotate_left(23) ^ (n as u64).wrapping_mul(FP_MUL) ^ 1;
    // Whole words up to the last one, then the last eight bytes (overlapping or, for short
    // keys, zero-padded): with the length, every byte counts once or twice.
    let mut at = 0;
    while at + 8 < n {
        h = (h ^ load8(key, at)).wrapping_mul(FP_MUL).rotate_left(31);
        at += 8;
    }
    h = (h ^ load8(key, n.saturating_sub(8))).wrapping_mul(FP_MUL);
    h ^ (h >> 29)
}

/// The fingerprint of an array element below `parent` (any index).
fn index_fp(parent: u64) -> u64 {
    (parent.rotate_left(23) ^ 2).wrapping_mul(FP_MUL) ^ (parent >> 31)
}

/// A scalar value.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Scalar<'a> {
    Str(Cow<'a, [u8]>),
    Num(&'a [u8]),
    Bool,
    Null,
}

/// How a walk ended.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(super) enum WalkEnd {
    /// All input was well-formed JSON.
    Complete,
    /// The input ended inside a value.
    Truncated,
    /// A syntax error at this offset.
    Invalid(usize),
    /// The callback asked to stop.
    Stopped,
}

/// Counters from one walk.
#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
pub(super) struct WalkStats {
    pub scalars: usize,
    pub depth_skipped: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Frame {
    Obj,
    Arr,
}

/// Bytes of a string looked at eight at a time before memchr takes over.
const SHORT_STRING: usize = 32;

/// The first `"` or `\` of `v`. Most strings are short: their first bytes are looked at
/// eight at a time (a word with a zero byte where it matches), then memchr takes over.
#[inline(always)]
fn quote_or_backslash(v: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
    let mut at = 0usize;
    let mut words = v.chunks_exact(8);
    for c in &mut words {
        if at >= SHORT_STRING {
            return memchr::memchr2(b'"', b'\\', v.get(at..).unwrap_or_default()).map(|j| j + at);
        }
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        let w = u64::from_le_bytes(b);
        let m = zero(w ^ (ONES * u64::from(b'"'))) | zero(w ^ (ONES * u64::from(b'\\')));
        if m != 0 {
            return Some(at + (m.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| b == b'"' || b == b'\\')
        .map(|j| j + at)
}

struct Walker<'a> {
    v: &'a [u8],
    i: usize,
}

impl<'a> Walker<'a> {
    fn ws(&mut self) {
        if self.v.get(self.i).is_some_and(|&b| b > b' ') {
            return;
        }
        while matches!(self.v.get(self.i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.v.get(self.i).copied()
    }

    /// Reads a string whose opening quote is at `self.i`. `Err(partial)` when unterminated.
    #[inline(always)]
    fn string(&mut self) -> Result<Cow<'a, [u8]>, Cow<'a, [u8]>> {
        let start = self.i + 1;
        let rest = self.v.get(start..).unwrap_or_default();
        let end = quote_or_backslash(rest);
        match end {
            Some(j) if rest.get(j) == Some(&b'"') => {
                self.i = start + j + 1;
                Ok(Cow::Borrowed(rest.get(..j).unwrap_or_default()))
            }
            Some(j) => {
                let mut out = Vec::with_capacity(j + 16);
                out.extend_from_slice(rest.get(..j).unwrap_or_default());
                self.i = start + j;
                self.escaped(out)
            }
            None => {
                self.i = self.v.len();
                Err(Cow::Borrowed(rest))
            }
        }
    }

    fn escaped(&mut self, mut out: Vec<u8>) -> Result<Cow<'a, [u8]>, Cow<'a, [u8]>> {
        loop {
            let rest = self.v.get(self.i..).unwrap_or_default();
            let Some(j) = memchr::memchr2(b'"', b'\\', rest) else {
                out.extend_from_slice(rest);
                self.i = self.v.len();
                return Err(Cow::Owned(out));
            };
            out.extend_from_slice(rest.get(..j).unwrap_or_default());
            self.i += j;
            if rest.get(j) == Some(&b'"') {
                self.i += 1;
                return Ok(Cow::Owned(out));
            }
            // Backslash.
            let Some(&e) = self.v.get(self.i + 1) else {
                self.i = self.v.len();
                return Err(Cow::Owned(out));
            };
            self.i += 2;
            match e {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'u' => {
                    let ch = self.unicode_escape();
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                other => out.push(other), // `\"`, `\\`, `\/` and lenient others
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.v.get(self.i..self.i + 4)?;
        let s = std::str::from_utf8(h).ok()?;
        let n = u32::from_str_radix(s, 16).ok()?;
        self.i += 4;
        Some(n)
    }

    /// After `\u`: one code point, surrogate pairs joined, U+FFFD for anything invalid.
    fn unicode_escape(&mut self) -> char {
        let Some(hi) = self.hex4() else {
            return char::REPLACEMENT_CHARACTER;
        };
        if (0xD800..0xDC00).contains(&hi) && self.v.get(self.i..self.i + 2) == Some(b"\\u") {
            let save = self.i;
            self.i += 2;
            match self.hex4() {
                Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    return char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER);
                }
                _ => self.i = save,
            }
        }
        char::from_u32(hi).unwrap_or(char::REPLACEMENT_CHARACTER)
    }

    fn number(&mut self) -> &'a [u8] {
        let start = self.i;
        while matches!(
            self.v.get(self.i),
            Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
        ) {
            self.i += 1;
        }
        self.v.get(start..self.i).unwrap_or_default()
    }

    /// `true`/`false`/`null`: Ok(true) matched, Ok(false) cut short, Err = mismatch.
    fn literal(&mut self, lit: &[u8]) -> Result<bool, ()> {
        let rest = self.v.get(self.i..).unwrap_or_default();
        if rest.starts_with(lit) {
            self.i += lit.len();
            Ok(true)
        } else if lit.starts_with(rest) {
            self.i = self.v.len();
            Ok(false)
        } else {
            Err(())
        }
    }

    /// Skips one container whose opening bracket is at `self.i`. False when the input ends.
    fn skip_container(&mut self) -> bool {
        let mut depth = 0usize;
        while let Some(&b) = self.v.get(self.i) {
            match b {
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.i += 1;
                        return true;
                    }
                }
                b'"' => {
                    if self.string().is_err() {
                        return false;
                    }
                    continue;
                }
                _ => {}
            }
            self.i += 1;
        }
        false
    }
}

/// Walks `v`, calling `f(path, ctx, scalar)` for each scalar. `ctx` is the context of the
/// nearest enclosing key.
pub(super) fn walk<'a, F>(
    v: &'a [u8],
    max_depth: usize,
    max_scalars: usize,
    f: F,
) -> (WalkEnd, WalkStats)
where
    F: FnMut(&[Step<'a>], KeyCtx, Scalar<'a>) -> ControlFlow<()>,
{
    let mut keys = KeyCache::take();
    let r = walk_with(v, max_depth, max_scalars, &mut keys, f);
    keys.put_back();
    r
}

fn walk_with<'a, F>(
    v: &'a [u8],
    max_depth: usize,
    max_scalars: usize,
    keys: &mut KeyCache,
    mut f: F,
) -> (WalkEnd, WalkStats)
where
    F: FnMut(&[Step<'a>], KeyCtx, Scalar<'a>) -> ControlFlow<()>,
{
    let mut w = Walker { v, i: 0 };
    let mut ctx_memo = [(0u64, KeyCtx::NONE); CTX_MEMO];
    let mut frames: Vec<Frame> = Vec::with_capacity(16);
    let mut path: Vec<Step<'a>> = Vec::with_capacity(16);
    let mut stats = WalkStats::default();

    macro_rules! emit {
        ($scalar:expr) => {{
            stats.scalars += 1;
            let ctx = path.last().map_or(KeyCtx::NONE, |s| s.ctx);
            if f(&path, ctx, $scalar).is_break() || stats.scalars >= max_scalars {
                return (WalkEnd::Stopped, stats);
            }
        }};
    }

    // Reads the key whose opening quote is at `w.i`, its `:`, and pushes its path step.
    macro_rules! key {
        () => {{
            let key = match w.string() {
                Ok(k) => k,
                Err(_) => return (WalkEnd::Truncated, stats),
            };
            w.ws();
            match w.peek() {
                Some(b':') => w.i += 1,
                Some(_) => return (WalkEnd::Invalid(w.i), stats),
                None => return (WalkEnd::Truncated, stats),
            }
            let (parent_ctx, parent_fp, in_array) = path
                .last()
                .map_or((KeyCtx::NONE, 0, false), |s| (s.ctx, s.fp, s.in_array));
            let fp = key_fp(parent_fp, &key);
            // The context of a path is a function of the path: the elements of an array of
            // objects look their keys up here instead of classifying them again.
            let memo = &mut ctx_memo[(fp >> 56) as usize % CTX_MEMO];
            let ctx = if memo.0 == fp {
                memo.1
            } else {
                let ctx = keys.classify(&key).nested_in(parent_ctx);
                *memo = (fp, ctx);
                ctx
            };
            path.push(Step {
                seg: Seg::Key(key),
                ctx,
                fp,
                in_array,
            });
        }};
    }

    // One top-level value after another (NDJSON, JSON sequences).
    loop {
        w.ws();
        let Some(b) = w.peek() else {
            return (WalkEnd::Complete, stats);
        };
        if !matches!(
            b,
            b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n'
        ) {
            return (WalkEnd::Invalid(w.i), stats);
        }
        path.clear();
        // At the start of a value (its path step pushed).
        'value: loop {
            w.ws();
            let Some(b) = w.peek() else {
                return (WalkEnd::Truncated, stats);
            };
            match b {
                b'{' | b'[' if frames.len() >= max_depth => {
                    stats.depth_skipped += 1;
                    if !w.skip_container() {
                        return (WalkEnd::Truncated, stats);
                    }
                }
                b'{' => {
                    w.i += 1;
                    w.ws();
                    match w.peek() {
                        Some(b'"') => {
                            frames.push(Frame::Obj);
                            key!();
                            continue 'value;
                        }
                        Some(b'}') => w.i += 1,
                        Some(_) => return (WalkEnd::Invalid(w.i), stats),
                        None => return (WalkEnd::Truncated, stats),
                    }
                }
                b'[' => {
                    w.i += 1;
                    w.ws();
                    match w.peek() {
                        Some(b']') => w.i += 1,
                        Some(_) => {
                            frames.push(Frame::Arr);
                            let (ctx, fp) =
                                path.last().map_or((KeyCtx::NONE, 0), |s| (s.ctx, s.fp));
                            path.push(Step {
                                seg: Seg::Index(0),
                                ctx,
                                fp: index_fp(fp),
                                in_array: true,
                            });
                            continue 'value;
                        }
                        None => return (WalkEnd::Truncated, stats),
                    }
                }
                b'"' => match w.string() {
                    Ok(s) => emit!(Scalar::Str(s)),
                    Err(partial) => {
                        if !partial.is_empty() {
                            emit!(Scalar::Str(partial));
                        }
                        return (WalkEnd::Truncated, stats);
                    }
                },
                b'-' | b'0'..=b'9' => {
                    // A number cut by the end may be incomplete: it is still delivered.
                    let n = w.number();
                    emit!(Scalar::Num(n));
                }
                b't' | b'f' | b'n' => {
                    let lit: &[u8] = match b {
                        b't' => b"true",
                        b'f' => b"false",
                        _ => b"null",
                    };
                    match w.literal(lit) {
                        Ok(true) => emit!(if b == b'n' {
                            Scalar::Null
                        } else {
                            Scalar::Bool
                        }),
                        Ok(false) => return (WalkEnd::Truncated, stats),
                        Err(()) => return (WalkEnd::Invalid(w.i), stats),
                    }
                }
                _ => return (WalkEnd::Invalid(w.i), stats),
            }
            // After a value: separators and closing brackets up to the next value.
            loop {
                w.ws();
                let Some(&frame) = frames.last() else {
                    break 'value;
                };
                let Some(b) = w.peek() else {
                    return (WalkEnd::Truncated, stats);
                };
                w.i += 1;
                match (frame, b) {
                    (Frame::Obj, b',') => {
                        path.pop();
                        w.ws();
                        match w.peek() {
                            Some(b'"') => {
                                key!();
                                continue 'value;
                            }
                            Some(_) => return (WalkEnd::Invalid(w.i), stats),
                            None => return (WalkEnd::Truncated, stats),
                        }
                    }
                    (Frame::Arr, b',') => {
                        if let Some(Step {
                            seg: Seg::Index(n), ..
                        }) = path.last_mut()
                        {
                            *n += 1;
                        }
                        continue 'value;
                    }
                    (Frame::Obj, b'}') | (Frame::Arr, b']') => {
                        path.pop();
                        frames.pop();
                    }
                    _ => return (WalkEnd::Invalid(w.i - 1), stats),
                }
            }
        }
    }
}

/// Renders a path: `$`, `$.user.email`, `$.items[*].card` (array indices are not kept: the
/// values of one field across the elements of an array are one item); keys other than
/// `[A-Za-z_][A-Za-z0-9_-]*` in bracket form with JSON string escaping: `$["first name"]`.
pub(super) fn render_path(path: &[Step<'_>]) -> String {
    let mut s = String::with_capacity(2 + path.len() * 8);
    s.push('$');
    for step in path {
        match &step.seg {
            Seg::Index(_) => s.push_str("[*]"),
            Seg::Key(k) => {
                let plain = k
                    .first()
                    .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
                    && k.iter()
                        .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-');
                if plain {
                    s.push('.');
                    s.push_str(&String::from_utf8_lossy(k));
                } else {
                    let lossy = String::from_utf8_lossy(k);
                    s.push('[');
                    s.push_str(&serde_json::Value::String(lossy.into_owned()).to_string());
                    s.push(']');
                }
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(v: &str, depth: usize) -> (Vec<(String, String)>, WalkEnd, WalkStats) {
        let mut out = Vec::new();
        let (end, stats) = walk(v.as_bytes(), depth, usize::MAX, |p, _, s| {
            let val = match s {
                Scalar::Str(b) => String::from_utf8_lossy(&b).into_owned(),
                Scalar::Num(n) => format!("#{}", String::from_utf8_lossy(n)),
                Scalar::Bool => "bool".into(),
                Scalar::Null => "null".into(),
            };
            out.push((render_indexed(p), val));
            ControlFlow::Continue(())
        });
        (out, end, stats)
    }

    /// [`render_path`] with the indices the walker tracked (`[*]` replaced by `[i]`).
    fn render_indexed(p: &[Step<'_>]) -> String {
        let mut idx = p.iter().filter_map(|s| match s.seg {
            Seg::Index(i) => Some(i),
            Seg::Key(_) => None,
        });
        render_path(p)
            .split("[*]")
            .enumerate()
            .map(|(k, part)| match k {
                0 => part.to_string(),
                _ => format!("[{}]{part}", idx.next().unwrap_or(usize::MAX)),
            })
            .collect()
    }

    /// What `collect` should give for a parsed document: every scalar in document order
    /// with its indexed path, and the path fingerprints equal for every array element.
    fn reference(v: &serde_json::Value, path: &mut Vec<String>, out: &mut Vec<(String, String)>) {
        use serde_json::Value;
        let here = || {
            let mut s = String::from("$");
            for p in path.iter() {
                s.push_str(p);
            }
            s
        };
        match v {
            Value::Null => out.push((here(), "null".into())),
            Value::Bool(_) => out.push((here(), "bool".into())),
            Value::Number(n) => out.push((here(), format!("#{n}"))),
            Value::String(s) => out.push((here(), s.clone())),
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    path.push(format!("[{i}]"));
                    reference(x, path, out);
                    path.pop();
                }
            }
            Value::Object(m) => {
                for (k, x) in m {
                    let step = render_path(&[Step {
                        seg: Seg::Key(Cow::Borrowed(k.as_bytes())),
                        ctx: KeyCtx::NONE,
                        fp: 0,
                        in_array: false,
                    }]);
                    path.push(step.trim_start_matches('$').to_string());
                    reference(x, path, out);
                    path.pop();
                }
            }
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| Value::Number(n.into())),
            "[a-z@.\\\"/ 0-9\u{e9}\u{1F600}\n]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec(("[a-zA-Z_ \"-]{0,10}", inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// The walker agrees with serde_json on well-formed documents, compact or pretty,
        /// alone or several in a row.
        #[test]
        fn walk_matches_serde(doc in json_value(), pretty in proptest::bool::ANY) {
            let text = if pretty {
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            } else {
                serde_json::to_string(&doc).unwrap_or_default()
            };
            let mut want = Vec::new();
            reference(&doc, &mut Vec::new(), &mut want);
            let (got, end, _) = collect(&text, 64);
            proptest::prop_assert_eq!(end, WalkEnd::Complete);
            proptest::prop_assert_eq!(&got, &want);
            let twice = format!("{text}\n{text}");
            let (got2, end2, _) = collect(&twice, 64);
            proptest::prop_assert_eq!(end2, WalkEnd::Complete);
            proptest::prop_assert_eq!(got2.len(), 2 * want.len());
        }

        /// Array elements share their fingerprint; distinct paths do not.
        #[test]
        fn fingerprints_ignore_indices(doc in json_value()) {
            let text = serde_json::to_string(&doc).unwrap_or_default();
            let mut by_path: std::collections::HashMap<String, u64> = Default::default();
            let mut by_fp: std::collections::HashMap<u64, String> = Default::default();
            walk(text.as_bytes(), 64, usize::MAX, |p, _, _| {
                let (fp, wild) = (p.last().map_or(0, |s| s.fp), render_path(p));
                if let Some(&old) = by_path.get(&wild) {
                    assert_eq!(old, fp, "{wild}");
                }
                by_path.insert(wild.clone(), fp);
                if let Some(old) = by_fp.get(&fp) {
                    assert_eq!(old, &wild);
                }
                by_fp.insert(fp, wild);
                ControlFlow::Continue(())
            });
        }
    }

    #[test]
    fn quote_search_matches_a_plain_scan() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..80usize {
            for _ in 0..200 {
                let v: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        match x % 23 {
                            0 => b'"',
                            1 => b'\\',
                            2 => 0x80 | (x >> 40) as u8,
                            _ => b'a' + (x % 26) as u8,
                        }
                    })
                    .collect();
                let want = v.iter().position(|&b| b == b'"' || b == b'\\');
                assert_eq!(quote_or_backslash(&v), want, "{v:?}");
            }
        }
    }

    #[test]
    fn indices_render_as_wildcards() {
        let (out, _, _) = collect(r#"{"a":[{"b":[1,"x"]}]}"#, 8);
        assert_eq!(
            pairs(&out),
            vec![("$.a[0].b[0]", "#1"), ("$.a[0].b[1]", "x")]
        );
        let mut paths = Vec::new();
        walk(br#"{"a":[{"b":[1,"x"]}]}"#, 8, usize::MAX, |p, _, _| {
            paths.push(render_path(p));
            ControlFlow::Continue(())
        });
        assert_eq!(paths, vec!["$.a[*].b[*]", "$.a[*].b[*]"]);
    }

    fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
        v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
    }

    #[test]
    fn nested_objects_and_arrays() {
        let (out, end, _) = collect(
            r#"{"user":{"email":"a@b.io","tags":["x",{"k":1}]},"items":[{"card":"4242"},[true,null]],"e":{},"f":[]}"#,
            32,
        );
        assert_eq!(end, WalkEnd::Complete);
        assert_eq!(
            pairs(&out),
            vec![
                ("$.user.email", "a@b.io"),
                ("$.user.tags[0]", "x"),
                ("$.user.tags[1].k", "#1"),
                ("$.items[0].card", "4242"),
                ("$.items[1][0]", "bool"),
                ("$.items[1][1]", "null"),
            ]
        );
    }

    #[test]
    fn escapes_are_decoded() {
        let (out, _, _) = collect(r#"{"a\"b":"x\ny\u00e9\ud83d\ude00\u12","c":"\/"}"#, 8);
        assert_eq!(out[0].0, r#"$["a\"b"]"#);
        assert_eq!(out[0].1, "x\nyé😀\u{fffd}12"); // a short `\u` escape stays lenient
        assert_eq!(out[1].1, "/");
    }

    #[test]
    fn truncated_bodies_deliver_what_was_complete() {
        let (out, end, _) = collect(r#"{"a":"one","b":["two","thr"#, 8);
        assert_eq!(end, WalkEnd::Truncated);
        assert_eq!(
            pairs(&out),
            vec![("$.a", "one"), ("$.b[0]", "two"), ("$.b[1]", "thr")]
        );
        for cut in [
            r#"{"a":tr"#,
            r#"{"a""#,
            r#"{"a":"#,
            r#"{"#,
            r#"[1,"#,
            r#"{"a":12"#,
        ] {
            assert_eq!(collect(cut, 8).1, WalkEnd::Truncated, "{cut}");
        }
    }

    #[test]
    fn invalid_reports_offset() {
        assert_eq!(collect("hello", 8).1, WalkEnd::Invalid(0));
        assert_eq!(collect(r#"{"a":1 x}"#, 8).1, WalkEnd::Invalid(7));
        assert_eq!(collect(r#"{"a":1} x"#, 8).1, WalkEnd::Invalid(8));
        assert_eq!(collect(r#"{a:1}"#, 8).1, WalkEnd::Invalid(1));
        assert_eq!(collect(r#"[tru3]"#, 8).1, WalkEnd::Invalid(1));
    }

    #[test]
    fn ndjson_and_top_level_scalars() {
        let (out, end, _) = collect("{\"a\":1}\n{\"a\":2}\n\"x\"\n", 8);
        assert_eq!(end, WalkEnd::Complete);
        assert_eq!(pairs(&out), vec![("$.a", "#1"), ("$.a", "#2"), ("$", "x")]);
    }

    #[test]
    fn depth_cap_skips_deeper_containers() {
        let (out, end, stats) = collect(r#"{"a":{"b":{"c":"deep"}},"d":"ok"}"#, 2);
        assert_eq!(end, WalkEnd::Complete);
        assert_eq!(pairs(&out), vec![("$.d", "ok")]);
        assert_eq!(stats.depth_skipped, 1);
        let hostile = "[".repeat(100_000);
        let (_, end, stats) = collect(&hostile, 32);
        assert_eq!(end, WalkEnd::Truncated);
        assert_eq!(stats.depth_skipped, 1);
    }

    #[test]
    fn scalar_cap_stops() {
        let (end, stats) = walk(b"[1,2,3,4,5]", 8, 3, |_, _, _| ControlFlow::Continue(()));
        assert_eq!(end, WalkEnd::Stopped);
        assert_eq!(stats.scalars, 3);
    }

    #[test]
    fn context_follows_keys_into_arrays() {
        let mut seen = Vec::new();
        walk(
            br#"{"phones":["1","2"],"x":{"password":"p"}}"#,
            8,
            100,
            |_, ctx, _| {
                seen.push(ctx);
                ControlFlow::Continue(())
            },
        );
        assert!(seen[0].has(KeyCtx::PHONE) && seen[1].has(KeyCtx::PHONE));
        assert!(seen[2].has(KeyCtx::PASSWORD));
    }

    #[test]
    fn every_prefix_of_a_document_is_safe() {
        let doc = r#"{"a":[1,-2.5e3,"s\u00e9",{"b":null,"c":[true,false]}],"d":"\ud83d\ude00"}"#;
        for cut in 0..=doc.len() {
            let _ = walk(&doc.as_bytes()[..cut], 3, 100, |_, _, _| {
                ControlFlow::Continue(())
            });
        }
    }
}
