//! Small byte-level helpers shared by the auth classifiers: lossy bounded strings, base64 in
//! both alphabets with or without padding, `%XX` decoding, and the RFC 9110 auth-param and
//! query-string splitters. Every function takes hostile bytes, never panics, never indexes
//! out of bounds, and allocates at most in proportion to its input (or to a limit it is given).

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);

/// base64url (RFC 4648 §5), padding optional: JOSE segments.
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);
/// Standard base64, padding optional: Basic credentials.
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);

/// Decodes base64url with or without `=` padding.
pub(crate) fn b64url_decode(input: &[u8]) -> Option<Vec<u8>> {
    URL_SAFE.decode(input).ok()
}

/// Decodes standard base64 with or without padding, falling back to the URL-safe alphabet
/// (some clients send it in `Authorization: Basic`).
pub(crate) fn b64_any_decode(input: &[u8]) -> Option<Vec<u8>> {
    STANDARD
        .decode(input)
        .ok()
        .or_else(|| URL_SAFE.decode(input).ok())
}

/// UTF-8 (invalid sequences replaced) cut to at most `max_chars` characters.
pub(crate) fn bounded_lossy(bytes: &[u8], max_chars: usize) -> String {
    let s = String::from_utf8_lossy(bytes);
    bounded_str(&s, max_chars)
}

/// `s` cut to at most `max_chars` characters (never inside a character).
pub(crate) fn bounded_str(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((cut, _)) => s.get(..cut).unwrap_or_default().to_owned(),
        None => s.to_owned(),
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits is kept as is. `+` is kept
/// (not turned into a space): credentials are compared byte for byte, and base64 keys sent
/// unescaped contain `+`.
pub(crate) fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        if b == b'%' {
            let hi = input.get(i + 1).copied().and_then(hex_val);
            let lo = input.get(i + 2).copied().and_then(hex_val);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// Splits an `Authorization` value into its scheme word and the rest (both trimmed).
/// A value without whitespace is all scheme word and an empty rest.
pub(crate) fn split_scheme(value: &[u8]) -> (&[u8], &[u8]) {
    let value = value.trim_ascii();
    match value.iter().position(|b| b.is_ascii_whitespace()) {
        Some(sp) => (
            value.get(..sp).unwrap_or_default(),
            value.get(sp..).unwrap_or_default().trim_ascii(),
        ),
        None => (value, &[]),
    }
}

/// Parses RFC 9110 auth-params (`name=value` or `name="quoted, value"`, comma separated), as
/// in Digest and AWS SigV4 `Authorization` values. Names are lower-cased; quoted values are
/// unescaped. At most `max` params are returned; malformed pieces are skipped.
pub(crate) fn auth_params(rest: &[u8], max: usize) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while out.len() < max {
        // Skip separators.
        while matches!(rest.get(i), Some(b) if *b == b',' || b.is_ascii_whitespace()) {
            i += 1;
        }
        if i >= rest.len() {
            break;
        }
        let name_start = i;
        while matches!(rest.get(i), Some(b) if *b != b'=' && *b != b',') {
            i += 1;
        }
        let name = rest.get(name_start..i).unwrap_or_default().trim_ascii();
        if rest.get(i) != Some(&b'=') {
            // A bare token (e.g. token68): not a param.
            continue;
        }
        i += 1; // '='
        while matches!(rest.get(i), Some(b) if *b == b' ' || *b == b'\t') {
            i += 1;
        }
        let mut value = Vec::new();
        if rest.get(i) == Some(&b'"') {
            i += 1;
            while let Some(&b) = rest.get(i) {
                i += 1;
                match b {
                    b'"' => break,
                    b'\\' => {
                        if let Some(&esc) = rest.get(i) {
                            value.push(esc);
                            i += 1;
                        }
                    }
                    _ => value.push(b),
                }
            }
        } else {
            let start = i;
            while matches!(rest.get(i), Some(b) if *b != b',') {
                i += 1;
            }
            value.extend_from_slice(rest.get(start..i).unwrap_or_default().trim_ascii());
        }
        if !name.is_empty() {
            out.push((String::from_utf8_lossy(name).to_ascii_lowercase(), value));
        }
    }
    out
}

/// The `key=value` pairs of a raw query string (split on `&`, empty pieces skipped), at most
/// `max` of them. Neither side is decoded. A piece without `=` has an empty value.
pub(crate) fn query_pairs(query: &str, max: usize) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .take(max)
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

/// A lower-cased, `%`-decoded query key (lossy UTF-8), cut to `max_chars`.
pub(crate) fn query_key(raw: &str, max_chars: usize) -> String {
    bounded_lossy(&percent_decode(raw.as_bytes()), max_chars).to_ascii_lowercase()
}

/// Strips one pair of surrounding double quotes (cookie values may be quoted).
pub(crate) fn unquote(v: &[u8]) -> &[u8] {
    match v {
        [b'"', inner @ .., b'"'] => inner,
        _ => v,
    }
}

/// True when `prefix` starts `value`, ignoring ASCII case.
pub(crate) fn starts_with_ignore_case(value: &[u8], prefix: &[u8]) -> bool {
    value
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// True when `suffix` ends `value`, ignoring ASCII case.
pub(crate) fn ends_with_ignore_case(value: &[u8], suffix: &[u8]) -> bool {
    value
        .len()
        .checked_sub(suffix.len())
        .and_then(|at| value.get(at..))
        .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn base64_both_paddings_and_alphabets() {
        assert_eq!(b64url_decode(b"eyJhIjoxfQ").unwrap(), br#"{"a":1}"#);
        assert_eq!(b64url_decode(b"eyJhIjoxfQ==").unwrap(), br#"{"a":1}"#);
        assert_eq!(b64url_decode(b"_-8").unwrap(), [0xff, 0xef]);
        assert!(b64url_decode(b"e!J").is_none());
        assert_eq!(b64_any_decode(b"dXNlcjpwYXNz").unwrap(), b"user:pass");
        assert_eq!(b64_any_decode(b"YTpi").unwrap(), b"a:b");
        assert_eq!(b64_any_decode(b"YTpiYw").unwrap(), b"a:bc");
        assert_eq!(b64_any_decode(b"_-8").unwrap(), [0xff, 0xef]);
        assert!(b64_any_decode(b"not base64 at all").is_none());
    }

    #[test]
    fn bounded_strings_cut_on_char_boundaries() {
        assert_eq!(bounded_str("héllo", 2), "hé");
        assert_eq!(bounded_str("abc", 10), "abc");
        assert_eq!(bounded_str("abc", 0), "");
        assert_eq!(bounded_lossy(b"a\xffb", 10), "a\u{fffd}b");
    }

    #[test]
    fn percent_decoding_keeps_bad_escapes_and_plus() {
        assert_eq!(percent_decode(b"a%2Fb%2fc"), b"a/b/c");
        assert_eq!(percent_decode(b"100%"), b"100%");
        assert_eq!(percent_decode(b"%zz%4"), b"%zz%4");
        assert_eq!(percent_decode(b"a+b"), b"a+b");
    }

    #[test]
    fn scheme_split() {
        assert_eq!(
            split_scheme(b"  Bearer   abc  "),
            (&b"Bearer"[..], &b"abc"[..])
        );
        assert_eq!(split_scheme(b"token"), (&b"token"[..], &b""[..]));
        assert_eq!(split_scheme(b""), (&b""[..], &b""[..]));
        assert_eq!(split_scheme(b"Basic\tYTpi"), (&b"Basic"[..], &b"YTpi"[..]));
    }

    #[test]
    fn auth_param_parsing() {
        let p = auth_params(
            br#"username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", nc=00000001, opaque="a\"b,c""#,
            32,
        );
        assert_eq!(p[0], ("username".into(), b"Mufasa".to_vec()));
        assert_eq!(p[1], ("realm".into(), b"http-auth@example.org".to_vec()));
        assert_eq!(p[3], ("nc".into(), b"00000001".to_vec()));
        assert_eq!(p[4], ("opaque".into(), b"a\"b,c".to_vec()));
        let p = auth_params(b"Credential=AKID/2015/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc", 32);
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].0, "credential");
        assert_eq!(p[1].1, b"host;x-amz-date");
        assert_eq!(auth_params(b"a=1,b=2,c=3", 2).len(), 2);
        // Garbage: no panic, nothing useful.
        assert!(auth_params(b"\"\\", 4).is_empty());
        assert!(auth_params(b"===,,,", 4).is_empty());
        assert_eq!(auth_params(b"x=\"unterminated", 4)[0].1, b"unterminated");
        assert_eq!(auth_params(b"x=\"end\\", 4)[0].1, b"end");
    }

    #[test]
    fn query_splitting() {
        let v: Vec<_> = query_pairs("a=1&&b&c=x=y", 10).collect();
        assert_eq!(v, vec![("a", "1"), ("b", ""), ("c", "x=y")]);
        assert_eq!(query_pairs("a=1&b=2&c=3", 2).count(), 2);
        assert_eq!(query_key("API%5FKey", 64), "api_key");
    }

    proptest::proptest! {
        #[test]
        fn helpers_never_panic(input in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400), max in 0usize..40) {
            proptest::prop_assert!(percent_decode(&input).len() <= input.len());
            proptest::prop_assert!(auth_params(&input, max).len() <= max);
            let (w, r) = split_scheme(&input);
            proptest::prop_assert!(w.len() + r.len() <= input.len());
            let _ = b64url_decode(&input);
            let _ = b64_any_decode(&input);
            let s = String::from_utf8_lossy(&input);
            proptest::prop_assert!(bounded_lossy(&input, max).chars().count() <= max);
            proptest::prop_assert!(query_pairs(&s, max).count() <= max);
            let _ = query_key(&s, max);
            let _ = unquote(&input);
        }
    }

    #[test]
    fn small_helpers() {
        assert_eq!(unquote(b"\"abc\""), b"abc");
        assert_eq!(unquote(b"\""), b"\"");
        assert_eq!(unquote(b"abc"), b"abc");
        assert!(starts_with_ignore_case(b"BEARER x", b"bearer "));
        assert!(!starts_with_ignore_case(b"bea", b"bearer "));
        assert!(ends_with_ignore_case(b"X-API-KEY", b"key"));
        assert!(!ends_with_ignore_case(b"ey", b"key"));
        assert!(!ends_with_ignore_case(b"x-api-keys", b"key"));
    }
}
