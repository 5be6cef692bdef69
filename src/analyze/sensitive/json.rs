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

use super::fields::{classify, KeyCtx};

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

enum Next {
    Value,
    AfterValue,
    KeyOrEnd,
    Key,
    ValueOrEnd,
}

/// Bytes of a string looked at eight at a time before memchr takes over.
const SHORT_STRING: usize = 32;

/// The first `"` or `\` of `v`. Most strings are short: their first bytes are looked at
/// eight at a time (a word with a zero byte where it matches), then memchr takes over.
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
    mut f: F,
) -> (WalkEnd, WalkStats)
where
    F: FnMut(&[Step<'a>], KeyCtx, Scalar<'a>) -> ControlFlow<()>,
{
    let mut w = Walker { v, i: 0 };
    let mut frames: Vec<Frame> = Vec::new();
    let mut path: Vec<Step<'a>> = Vec::new();
    let mut stats = WalkStats::default();
    let mut next = Next::Value;
    let ctx_of = |path: &[Step<'a>]| path.last().map_or(KeyCtx::NONE, |s| s.ctx);

    macro_rules! emit {
        ($scalar:expr) => {{
            stats.scalars += 1;
            if f(&path, ctx_of(&path), $scalar).is_break() || stats.scalars >= max_scalars {
                return (WalkEnd::Stopped, stats);
            }
        }};
    }

    loop {
        w.ws();
        let Some(b) = w.peek() else {
            let end = if frames.is_empty() && matches!(next, Next::Value | Next::AfterValue) {
                WalkEnd::Complete
            } else {
                WalkEnd::Truncated
            };
            return (end, stats);
        };
        match next {
            Next::Value | Next::ValueOrEnd => {
                if matches!(next, Next::ValueOrEnd) && b == b']' {
                    w.i += 1;
                    frames.pop();
                    next = Next::AfterValue;
                    continue;
                }
                if matches!(next, Next::ValueOrEnd) {
                    let ctx = ctx_of(&path);
                    path.push(Step {
                        seg: Seg::Index(0),
                        ctx,
                    });
                }
                match b {
                    b'{' | b'[' => {
                        if frames.len() >= max_depth {
                            stats.depth_skipped += 1;
                            if !w.skip_container() {
                                return (WalkEnd::Truncated, stats);
                            }
                            next = Next::AfterValue;
                        } else {
                            w.i += 1;
                            if b == b'{' {
                                frames.push(Frame::Obj);
                                next = Next::KeyOrEnd;
                            } else {
                                frames.push(Frame::Arr);
                                next = Next::ValueOrEnd;
                            }
                        }
                    }
                    b'"' => match w.string() {
                        Ok(s) => {
                            emit!(Scalar::Str(s));
                            next = Next::AfterValue;
                        }
                        Err(partial) => {
                            if !partial.is_empty() {
                                emit!(Scalar::Str(partial));
                            }
                            return (WalkEnd::Truncated, stats);
                        }
                    },
                    b'-' | b'0'..=b'9' => {
                        let n = w.number();
                        if w.i >= v.len() {
                            // A number cut by the end may be incomplete: still deliver it.
                            emit!(Scalar::Num(n));
                            let end = if frames.is_empty() {
                                WalkEnd::Complete
                            } else {
                                WalkEnd::Truncated
                            };
                            return (end, stats);
                        }
                        emit!(Scalar::Num(n));
                        next = Next::AfterValue;
                    }
                    b't' | b'f' | b'n' => {
                        let lit: &[u8] = match b {
                            b't' => b"true",
                            b'f' => b"false",
                            _ => b"null",
                        };
                        match w.literal(lit) {
                            Ok(true) => {
                                emit!(if b == b'n' {
                                    Scalar::Null
                                } else {
                                    Scalar::Bool
                                });
                                next = Next::AfterValue;
                            }
                            Ok(false) => return (WalkEnd::Truncated, stats),
                            Err(()) => return (WalkEnd::Invalid(w.i), stats),
                        }
                    }
                    _ => return (WalkEnd::Invalid(w.i), stats),
                }
            }
            Next::AfterValue => match frames.last() {
                None => {
                    // Another top-level value (NDJSON) or garbage.
                    path.clear();
                    next = Next::Value;
                    if !matches!(
                        b,
                        b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n'
                    ) {
                        return (WalkEnd::Invalid(w.i), stats);
                    }
                }
                Some(Frame::Obj) => {
                    path.pop();
                    w.i += 1;
                    match b {
                        b',' => next = Next::Key,
                        b'}' => {
                            frames.pop();
                            next = Next::AfterValue;
                        }
                        _ => return (WalkEnd::Invalid(w.i - 1), stats),
                    }
                }
                Some(Frame::Arr) => {
                    w.i += 1;
                    match b {
                        b',' => {
                            if let Some(Step {
                                seg: Seg::Index(n), ..
                            }) = path.last_mut()
                            {
                                *n += 1;
                            }
                            next = Next::Value;
                        }
                        b']' => {
                            path.pop();
                            frames.pop();
                            next = Next::AfterValue;
                        }
                        _ => return (WalkEnd::Invalid(w.i - 1), stats),
                    }
                }
            },
            Next::KeyOrEnd | Next::Key => {
                if b == b'}' && matches!(next, Next::KeyOrEnd) {
                    w.i += 1;
                    frames.pop();
                    next = Next::AfterValue;
                    continue;
                }
                if b != b'"' {
                    return (WalkEnd::Invalid(w.i), stats);
                }
                let Ok(key) = w.string() else {
                    return (WalkEnd::Truncated, stats);
                };
                w.ws();
                match w.peek() {
                    Some(b':') => w.i += 1,
                    Some(_) => return (WalkEnd::Invalid(w.i), stats),
                    None => return (WalkEnd::Truncated, stats),
                }
                let own = classify(&key);
                let ctx = own.nested_in(ctx_of(&path));
                path.push(Step {
                    seg: Seg::Key(key),
                    ctx,
                });
                next = Next::Value;
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
