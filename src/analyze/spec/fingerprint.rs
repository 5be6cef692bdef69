//! Analysis stage (workers): the fast path of [`Schema::fingerprint`](super::Schema::fingerprint).
//!
//! A byte scanner that hashes the shape of a JSON document (field paths and value types)
//! without building anything and without serde's per-value visitor calls. It gives exactly
//! the fingerprint of the serde-based reader for every valid document it accepts; on what
//! it does not handle itself (escaped object keys, nesting deeper than serde's recursion
//! limit) it answers [`Scan::Fallback`] and the caller uses the serde reader. On invalid
//! JSON it answers `Invalid` or a fingerprint nobody will match: a fingerprint only decides
//! whether to build a schema, and building one re-reads the document strictly.

use super::schema::{hash_str, mix, JsonType, SchemaLimits};

/// The outcome of a fast scan.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Scan {
    Print(u64),
    /// Not one JSON value.
    Invalid,
    /// Something the fast path leaves to the serde reader.
    Fallback,
}

/// serde_json's recursion limit: deeper documents are its to reject.
const MAX_NESTING: usize = 128;

/// The root path's seed (the same as the serde reader's).
pub(super) const ROOT_PATH: u64 = 0x9e37_79b9_7f4a_7c15;

/// The path seed of array items (the same as the serde reader's).
pub(super) const ITEM_PATH: u64 = 0x5b5d;

/// [`BYTE_CLASS`] bit: a byte that ends a string's plain run (`"`, `\`, NUL).
const STRING_STOP: u8 = 1;
/// [`BYTE_CLASS`] bit: a byte the skip of an array's rest looks at (`"`, `\`, `[`, `]`).
const SKIP_STOP: u8 = 2;

/// Classes of bytes for the scanning loops.
const BYTE_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'"' as usize] = STRING_STOP | SKIP_STOP;
    t[b'\\' as usize] = STRING_STOP | SKIP_STOP;
    t[0] = STRING_STOP;
    t[b'[' as usize] = SKIP_STOP;
    t[b']' as usize] = SKIP_STOP;
    t
};

pub(super) fn scan(bytes: &[u8], limits: &SchemaLimits) -> Scan {
    let mut s = Scanner {
        b: bytes,
        i: 0,
        limits,
    };
    let r = s.value(0, ROOT_PATH);
    match r {
        Ok(p) => {
            s.ws();
            if s.i == s.b.len() {
                Scan::Print(p)
            } else {
                Scan::Invalid
            }
        }
        Err(Stop::Invalid) => Scan::Invalid,
        Err(Stop::Fallback) => Scan::Fallback,
    }
}

enum Stop {
    Invalid,
    Fallback,
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    limits: &'a SchemaLimits,
}

fn leaf(path: u64, t: JsonType) -> u64 {
    mix(path, t as u64 + 1)
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Result<(), Stop> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(Stop::Invalid)
        }
    }

    /// One value at `depth`, hashed under `path`.
    fn value(&mut self, depth: usize, path: u64) -> Result<u64, Stop> {
        self.ws();
        match self.peek() {
            Some(b'{') => self.object(depth, path),
            Some(b'[') => self.array(depth, path),
            Some(b'"') => {
                self.string()?;
                Ok(leaf(path, JsonType::String))
            }
            Some(b't') => self.literal(b"true", path, JsonType::Boolean),
            Some(b'f') => self.literal(b"false", path, JsonType::Boolean),
            Some(b'n') => self.literal(b"null", path, JsonType::Null),
            Some(b'-' | b'0'..=b'9') => self.number().map(|t| leaf(path, t)),
            _ => Err(Stop::Invalid),
        }
    }

    fn literal(&mut self, word: &[u8], path: u64, t: JsonType) -> Result<u64, Stop> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(leaf(path, t))
        } else {
            Err(Stop::Invalid)
        }
    }

    /// A number's type as serde_json reads it: integers that fit `u64` (or, negative,
    /// `i64`) are integers; fractions, exponents, `-0` and wider integers are floats.
    fn number(&mut self) -> Result<JsonType, Stop> {
        let negative = self.peek() == Some(b'-');
        if negative {
            self.i += 1;
        }
        let start = self.i;
        let mut sig: u64 = 0;
        let mut overflow = false;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            match sig
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(c - b'0')))
            {
                Some(v) => sig = v,
                None => overflow = true,
            }
            self.i += 1;
        }
        let digits = self.i - start;
        if digits == 0 || (digits > 1 && self.b.get(start) == Some(&b'0')) {
            return Err(Stop::Invalid);
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.i += 1;
            float = true;
            if !self.digits() {
                return Err(Stop::Invalid);
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            float = true;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if !self.digits() {
                return Err(Stop::Invalid);
            }
        }
        let integer = !float
            && !overflow
            && (!negative || {
                // serde_json: a negative integer is an i64 when its negation is negative.
                let neg = (sig as i64).wrapping_neg();
                neg < 0
            });
        Ok(if integer {
            JsonType::Integer
        } else {
            JsonType::Number
        })
    }

    /// One or more digits.
    fn digits(&mut self) -> bool {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i > start
    }

    /// Skips a string (at its opening quote); returns the raw content when it has no
    /// escapes.
    fn string(&mut self) -> Result<Option<&'a [u8]>, Stop> {
        self.i += 1;
        let start = self.i;
        let mut escaped = false;
        loop {
            // Most strings are short: a table loop to the next quote, backslash or NUL.
            let b: &'a [u8] = self.b;
            let at = b
                .get(self.i..)
                .unwrap_or_default()
                .iter()
                .position(|&c| BYTE_CLASS[usize::from(c)] & STRING_STOP != 0)
                .ok_or(Stop::Invalid)?;
            self.i += at;
            match self.peek() {
                Some(b'"') => {
                    let raw = b.get(start..self.i);
                    self.i += 1;
                    return Ok(if escaped { None } else { raw });
                }
                Some(b'\\') => {
                    escaped = true;
                    self.i += 2;
                }
                // A raw control character (NUL here; others are left to the strict reader).
                _ => return Err(Stop::Invalid),
            }
        }
    }

    fn object(&mut self, depth: usize, path: u64) -> Result<u64, Stop> {
        if depth >= MAX_NESTING {
            return Err(Stop::Fallback);
        }
        self.i += 1;
        let mut sum = leaf(path, JsonType::Object);
        let mut n = 0usize;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(sum);
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(Stop::Invalid);
            }
            let key = self.string()?;
            self.eat(b':')?;
            if depth >= self.limits.max_depth || n >= self.limits.max_properties {
                self.value(depth + 1, 0)?;
            } else {
                // An escaped key hashes as its unescaped text: the serde reader's job.
                let key = key.ok_or(Stop::Fallback)?;
                let key = std::str::from_utf8(key).map_err(|_| Stop::Invalid)?;
                n += 1;
                sum = sum.wrapping_add(self.value(depth + 1, mix(path, hash_str(key)))?);
            }
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(sum);
                }
                _ => return Err(Stop::Invalid),
            }
        }
    }

    /// Skips from inside an array at `depth` (at an item) past its closing `]`: brackets
    /// are counted outside strings, nothing is validated (a document invalid there is one
    /// the strict reader rejects when a schema is built from it). Arrays nested past
    /// serde's recursion limit are left to it, as when they are read.
    ///
    /// One pass with a byte-class table: the gaps between quotes are a few bytes, too
    /// short for a searcher call per gap to pay.
    fn skip_array_rest(&mut self, depth: usize) -> Result<(), Stop> {
        let mut open = 1usize;
        let mut in_string = false;
        let mut i = self.i;
        while let Some(&c) = self.b.get(i) {
            i += 1;
            if BYTE_CLASS[usize::from(c)] & SKIP_STOP == 0 {
                continue;
            }
            match (in_string, c) {
                (true, b'"') => in_string = false,
                // The escaped byte is skipped with it.
                (true, b'\\') => i += 1,
                (true, _) => {}
                (false, b'"') => in_string = true,
                (false, b'[') => {
                    if depth + open >= MAX_NESTING {
                        return Err(Stop::Fallback);
                    }
                    open += 1;
                }
                (false, b']') => {
                    open -= 1;
                    if open == 0 {
                        self.i = i;
                        return Ok(());
                    }
                }
                (false, _) => {}
            }
        }
        Err(Stop::Invalid)
    }

    fn array(&mut self, depth: usize, path: u64) -> Result<u64, Stop> {
        if depth >= MAX_NESTING {
            return Err(Stop::Fallback);
        }
        self.i += 1;
        let mut sum = leaf(path, JsonType::Array);
        // Items add the same as one item of each shape (as in the serde reader).
        let mut items = [0u64; 8];
        let mut kinds = 0usize;
        let mut seen = 0usize;
        let counted = self.limits.max_array_items.max(1);
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(sum);
        }
        loop {
            if seen >= counted || depth >= self.limits.max_depth {
                // The reader ignores the remaining items: skipped without being read.
                self.skip_array_rest(depth)?;
                return Ok(sum);
            }
            let p = self.value(depth + 1, mix(path, ITEM_PATH))?;
            if !items[..kinds].contains(&p) && kinds < items.len() {
                if let Some(slot) = items.get_mut(kinds) {
                    *slot = p;
                }
                kinds += 1;
                sum = sum.wrapping_add(p);
            }
            seen += 1;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(sum);
                }
                _ => return Err(Stop::Invalid),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::schema::Schema;
    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    fn both(bytes: &[u8], l: &SchemaLimits) -> (Scan, Option<u64>) {
        (
            scan(bytes, l),
            Schema::fingerprint_serde_for_tests(bytes, l),
        )
    }

    /// The fast scan gives the serde reader's print, or falls back.
    fn agrees(bytes: &[u8], l: &SchemaLimits) {
        match both(bytes, l) {
            (Scan::Print(p), Some(q)) => assert_eq!(p, q, "{}", String::from_utf8_lossy(bytes)),
            (Scan::Fallback, _) => {}
            (fast, slow) => panic!(
                "{}: fast {fast:?}, serde {slow:?}",
                String::from_utf8_lossy(bytes)
            ),
        }
    }

    #[test]
    fn numbers_are_typed_as_serde_types_them() {
        let l = SchemaLimits::default();
        for doc in [
            "0",
            "-0",
            "7",
            "-7",
            "1.5",
            "1e3",
            "1E+3",
            "-1e-3",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "123456789012345678901234567890",
            "[0, -0, 0.0]",
        ] {
            agrees(doc.as_bytes(), &l);
        }
        for bad in ["01", "-", "1.", ".5", "1e", "+1", "--1"] {
            assert_eq!(scan(bad.as_bytes(), &l), Scan::Invalid, "{bad}");
        }
    }

    #[test]
    fn escaped_keys_fall_back_and_values_do_not() {
        let l = SchemaLimits::default();
        assert_eq!(scan(br#"{"a\u0062": 1}"#, &l), Scan::Fallback);
        agrees(br#"{"ab": "x\"y\\", "c": "\u00e9"}"#, &l);
        // Past the property limit a key is skipped, escaped or not.
        let small = SchemaLimits {
            max_properties: 1,
            ..SchemaLimits::default()
        };
        agrees(br#"{"a": 1, "b\n": {"c": 2}}"#, &small);
    }

    #[test]
    fn limits_and_nesting_match() {
        let l = SchemaLimits::default();
        agrees(
            br#"{"deep": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}}"#,
            &l,
        );
        agrees(
            br#"[1, "a", null, true, 2.5, {"x": 1}, [1], {"y": 2}, "b", 3, {"z": 1}]"#,
            &l,
        );
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(scan(deep.as_bytes(), &l), Scan::Fallback);
        assert_eq!(
            Schema::fingerprint(deep.as_bytes(), &l),
            Schema::fingerprint_serde_for_tests(deep.as_bytes(), &l)
        );
        for bad in [
            "",
            " ",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "nul",
            "\"abc",
            "1 2",
            "{1: 2}",
        ] {
            assert_eq!(scan(bad.as_bytes(), &l), Scan::Invalid, "{bad:?}");
        }
        agrees(b" \t\r\n{ \"a\" : [ ] , \"b\" : { } }\n", &l);
    }

    #[test]
    fn items_past_the_limit_are_skipped_as_the_reader_ignores_them() {
        let l = SchemaLimits {
            max_array_items: 2,
            ..SchemaLimits::default()
        };
        // Items past the second: other shapes, brackets and quotes inside strings, nested
        // arrays and escaped keys; none of them counts, and the print is the reader's.
        let doc = br#"{"list": [{"a": 1}, {"a": 2}, {"b": "]"}, ["[", [1, [2]]], {"c\"": "\\\"]"}, 3], "after": true}"#;
        agrees(doc, &l);
        let short = br#"{"list": [{"a": 1}, {"a": 2}], "after": true}"#;
        assert_eq!(scan(doc, &l), scan(short, &l));
        assert!(matches!(scan(doc, &l), Scan::Print(_)));
        // An array cut before its end is still not one JSON value.
        assert_eq!(scan(br#"[1, 2, 3, "]"#, &l), Scan::Invalid);
        assert_eq!(scan(br#"[1, 2, [3, 4]"#, &l), Scan::Invalid);
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            "[a-z]{1,6}",
            Just("a\"b".to_string()),
            Just("é".to_string()),
            Just("k\\".to_string())
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            (-1e6f64..1e6).prop_map(|f| json!(f)),
            "[a-z\"\\\\é]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(6, 48, 10, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..12).prop_map(Value::Array),
                prop::collection::btree_map(key.clone(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn fast_scan_matches_serde(v in arb_json(), depth in 1usize..10, props in 1usize..8, items in 0usize..10, pretty in any::<bool>()) {
            let l = SchemaLimits { max_depth: depth, max_properties: props, max_array_items: items };
            let bytes = if pretty { serde_json::to_vec_pretty(&v).unwrap() } else { serde_json::to_vec(&v).unwrap() };
            agrees(&bytes, &l);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_valid_ones_agree(bytes in prop::collection::vec(prop_oneof![Just(b'{'), Just(b'}'), Just(b'['), Just(b']'), Just(b'"'), Just(b':'), Just(b','), Just(b'1'), Just(b'-'), Just(b'.'), Just(b'e'), Just(b'\\'), Just(b' '), Just(b'a'), Just(b'n')], 0..40)) {
            let l = SchemaLimits::default();
            if let (Scan::Print(p), Some(q)) = both(&bytes, &l) {
                prop_assert_eq!(p, q);
            }
            if let (fast, Some(_)) = both(&bytes, &l) {
                prop_assert!(fast != Scan::Invalid);
            }
        }
    }
}
