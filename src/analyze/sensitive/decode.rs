//! Small decoders that turn transaction pieces into (key, value) pairs for the scanner:
//! percent-decoding, `application/x-www-form-urlencoded` / query strings, cookies, path
//! segments, body kind by media type (with sniffing when it is absent or vague), and a cheap
//! binary check. All are total functions: malformed input decodes leniently (a bad `%xx`
//! stays as written), nothing panics, and output never exceeds the input length.

use std::borrow::Cow;

/// Percent-decodes `s`; with `plus`, `+` becomes a space (form encoding). Borrowed when
/// there is nothing to decode. Invalid escapes are kept verbatim.
pub(super) fn percent_decode(s: &[u8], plus: bool) -> Cow<'_, [u8]> {
    if !s.iter().any(|&b| b == b'%' || (plus && b == b'+')) {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        match b {
            b'%' => {
                let hex = |j: usize| s.get(j).and_then(|c| (*c as char).to_digit(16));
                match (hex(i + 1), hex(i + 2)) {
                    (Some(h), Some(l)) => {
                        out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// Splits a query string or form body into decoded (key, value) pairs. A pair without `=`
/// is a value with an empty key (`?john@acme.io`).
pub(super) fn form_pairs(s: &[u8]) -> impl Iterator<Item = (Cow<'_, [u8]>, Cow<'_, [u8]>)> {
    s.split(|&b| b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| match memchr::memchr(b'=', pair) {
            Some(eq) => (
                percent_decode(pair.get(..eq).unwrap_or_default(), true),
                percent_decode(pair.get(eq + 1..).unwrap_or_default(), true),
            ),
            None => (Cow::Borrowed(&[][..]), percent_decode(pair, true)),
        })
}

/// `Cookie: a=1; b=2` pairs (values not decoded, quotes stripped).
pub(super) fn cookie_pairs(s: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    s.split(|&b| b == b';').filter_map(|p| {
        let p = p.trim_ascii();
        let eq = memchr::memchr(b'=', p)?;
        let k = p.get(..eq)?.trim_ascii();
        let mut v = p.get(eq + 1..)?.trim_ascii();
        if v.len() >= 2 && v.starts_with(b"\"") && v.ends_with(b"\"") {
            v = v.get(1..v.len() - 1).unwrap_or_default();
        }
        Some((k, v))
    })
}

/// Path segments after the leading `/` (query and fragment cut off), each percent-decoded,
/// with their index among all segments (empty ones included, so `//a` has `a` at index 1).
pub(super) fn path_segments(path: &str) -> impl Iterator<Item = (usize, Cow<'_, [u8]>)> {
    let p = path.as_bytes();
    let end = memchr::memchr2(b'?', b'#', p).unwrap_or(p.len());
    let p = p.get(..end).unwrap_or_default();
    let p = p.strip_prefix(b"/").unwrap_or(p);
    p.split(|&b| b == b'/')
        .enumerate()
        .filter(|(_, s)| !s.is_empty())
        .map(|(i, s)| (i, percent_decode(s, false)))
}

/// One part of a `multipart/*` body: its form field name (if any), whether it is a file
/// upload, and its content.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Part<'a> {
    pub name: Option<&'a [u8]>,
    pub file: bool,
    pub content: &'a [u8],
}

/// Splits a multipart body at the boundary found on its first line (`--boundary`), so the
/// caller need not pass the Content-Type parameters. At most `max_parts` parts; `None` when
/// the body does not start like a multipart body. A final part cut by a cap runs to the end.
pub(super) fn multipart_parts(body: &[u8], max_parts: usize) -> Option<Vec<Part<'_>>> {
    let first_end = memchr::memchr(b'\n', body)?;
    let line = body.get(..first_end)?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if !line.starts_with(b"--") || line.len() < 3 || line.len() > 74 || line.contains(&b' ') {
        return None;
    }
    let mut delim = Vec::with_capacity(line.len() + 1);
    delim.push(b'\n');
    delim.extend_from_slice(line);
    let finder = memchr::memmem::Finder::new(&delim);
    let mut parts = Vec::new();
    let mut pos = first_end + 1;
    while parts.len() < max_parts && pos < body.len() {
        let rest = body.get(pos..)?;
        let end = finder.find(rest).map_or(rest.len(), |i| i);
        let mut part = rest.get(..end)?;
        part = part.strip_suffix(b"\r").unwrap_or(part);
        // Headers end at the first empty line.
        let (headers, content) = match memchr::memmem::find(part, b"\r\n\r\n") {
            Some(i) => (part.get(..i)?, part.get(i + 4..)?),
            None => match memchr::memmem::find(part, b"\n\n") {
                Some(i) => (part.get(..i)?, part.get(i + 2..)?),
                None => (part, &[][..]),
            },
        };
        parts.push(Part {
            name: disposition_param(headers, b"name"),
            file: disposition_param(headers, b"filename").is_some(),
            content,
        });
        // Skip the delimiter line (`--boundary\r\n` or the closing `--boundary--`).
        let after = pos + end + delim.len();
        if body.get(after..after + 2) == Some(b"--") {
            break;
        }
        pos = match body.get(after..).and_then(|r| memchr::memchr(b'\n', r)) {
            Some(nl) => after + nl + 1,
            None => break,
        };
    }
    Some(parts)
}

/// `name="value"` (or unquoted) in a part's headers; `name` must start a parameter, so
/// `filename=` is not read as `name=`.
fn disposition_param<'a>(headers: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(headers.get(from..)?, name) {
        let at = from + i;
        from = at + name.len();
        let prev = if at == 0 { b';' } else { *headers.get(at - 1)? };
        if !(prev == b';' || prev == b' ' || prev == b'\t') || headers.get(from) != Some(&b'=') {
            continue;
        }
        let v = headers.get(from + 1..)?;
        return Some(match v.strip_prefix(b"\"") {
            Some(q) => q.get(..memchr::memchr(b'"', q).unwrap_or(q.len()))?,
            None => v.get(
                ..v.iter()
                    .position(|&b| b == b';' || b == b'\r' || b == b'\n')
                    .unwrap_or(v.len()),
            )?,
        });
    }
    None
}

/// How a body is scanned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BodyKind {
    Json,
    Form,
    Multipart,
    Text,
    Binary,
}

/// The body kind from the media type (parameters ignored, any case), sniffing the bytes when
/// the type is absent or says nothing (`text/plain` holding JSON stays text).
pub(super) fn body_kind(content_type: Option<&str>, body: &[u8]) -> BodyKind {
    let mt = content_type
        .map(|c| c.split(';').next().unwrap_or_default().trim())
        .unwrap_or_default();
    let mut low = [0u8; 128];
    let mt = crate::analyze::ascii_lower(mt, &mut low);
    let mt: &str = &mt;
    if mt == "application/json"
        || mt.ends_with("+json")
        || mt == "text/json"
        || mt == "application/x-json"
        || mt == "application/x-ndjson"
        || mt == "application/jsonl"
        || mt == "application/json-seq"
        || mt == "application/graphql-response+json"
    {
        return BodyKind::Json;
    }
    if mt == "application/x-www-form-urlencoded" {
        return BodyKind::Form;
    }
    const BINARY_PREFIXES: &[&str] = &["image/", "audio/", "video/", "font/", "model/"];
    const BINARY_TYPES: &[&str] = &[
        "application/octet-stream",
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/pdf",
        "application/protobuf",
        "application/x-protobuf",
        "application/vnd.google.protobuf",
        "application/msgpack",
        "application/x-msgpack",
        "application/cbor",
        "application/wasm",
        "application/x-tar",
        "application/x-7z-compressed",
        "application/vnd.apache.avro",
        "application/avro",
    ];
    if BINARY_PREFIXES.iter().any(|p| mt.starts_with(p))
        || BINARY_TYPES.contains(&mt)
        || mt.starts_with("application/grpc")
    {
        return BodyKind::Binary;
    }
    let known_text = mt.starts_with("text/")
        || mt.starts_with("multipart/")
        || mt.ends_with("+xml")
        || mt.ends_with("/xml")
        || mt.contains("javascript")
        || mt.contains("yaml")
        || mt == "application/graphql";
    if mt.starts_with("multipart/") {
        return BodyKind::Multipart;
    }
    if known_text {
        return if !looks_binary(body) {
            BodyKind::Text
        } else {
            BodyKind::Binary
        };
    }
    // Absent or unknown: sniff.
    if looks_binary(body) {
        return BodyKind::Binary;
    }
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => BodyKind::Json,
        _ => BodyKind::Text,
    }
}

/// Binary when the first 1 KiB holds a NUL byte or more than 10 % control bytes (other than
/// tab, CR, LF, FF, ESC) or invalid UTF-8 sequences.
pub(super) fn looks_binary(body: &[u8]) -> bool {
    let head = body.get(..body.len().min(1024)).unwrap_or_default();
    if head.is_empty() {
        return false;
    }
    if memchr::memchr(0, head).is_some() {
        return true;
    }
    let ctrl = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n' | 0x0c | 0x1b))
        .count();
    // Invalid UTF-8 bytes (a cut sequence at the 1 KiB boundary counts at most 3).
    let bad_utf8: usize = head.utf8_chunks().map(|c| c.invalid().len()).sum();
    ctrl * 10 > head.len() || bad_utf8 * 10 > head.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(&*percent_decode(b"a%40b.io", false), b"a@b.io");
        assert_eq!(&*percent_decode(b"a+b%2Bc", true), b"a b+c");
        assert_eq!(&*percent_decode(b"a+b", false), b"a+b");
        assert_eq!(&*percent_decode(b"100%", true), b"100%");
        assert_eq!(&*percent_decode(b"%zz%4", true), b"%zz%4");
        assert_eq!(&*percent_decode(b"%E2%82%AC", true), "€".as_bytes());
        assert!(matches!(percent_decode(b"plain", true), Cow::Borrowed(_)));
    }

    #[test]
    fn form_and_query_pairs() {
        let got: Vec<(String, String)> = form_pairs(b"email=j%40acme.io&&pw=a+b&flag&=v&k=")
            .map(|(k, v)| {
                (
                    String::from_utf8_lossy(&k).into_owned(),
                    String::from_utf8_lossy(&v).into_owned(),
                )
            })
            .collect();
        let got: Vec<(&str, &str)> = got.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("email", "j@acme.io"),
                ("pw", "a b"),
                ("", "flag"),
                ("", "v"),
                ("k", "")
            ]
        );
    }

    #[test]
    fn cookies() {
        let got: Vec<_> = cookie_pairs(b"sid=abc; theme=\"dark\"; junk; a = b ").collect();
        assert_eq!(
            got,
            vec![
                (&b"sid"[..], &b"abc"[..]),
                (b"theme", b"dark"),
                (b"a", b"b")
            ]
        );
    }

    #[test]
    fn path_segments_are_indexed_and_decoded() {
        let got: Vec<_> = path_segments("/users/j%40acme.io//orders?x=1")
            .map(|(i, s)| (i, String::from_utf8_lossy(&s).into_owned()))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, "users".to_owned()),
                (1, "j@acme.io".to_owned()),
                (3, "orders".to_owned())
            ]
        );
        assert_eq!(path_segments("").count(), 0);
        assert_eq!(path_segments("/").count(), 0);
    }

    #[test]
    fn body_kinds() {
        assert_eq!(
            body_kind(Some("application/json; charset=utf-8"), b"{}"),
            BodyKind::Json
        );
        assert_eq!(
            body_kind(Some("application/problem+json"), b"{}"),
            BodyKind::Json
        );
        assert_eq!(
            body_kind(Some("Application/X-WWW-Form-Urlencoded"), b"a=b"),
            BodyKind::Form
        );
        assert_eq!(body_kind(Some("image/png"), b"\x89PNG"), BodyKind::Binary);
        assert_eq!(
            body_kind(Some("application/grpc+proto"), b""),
            BodyKind::Binary
        );
        assert_eq!(body_kind(Some("text/html"), b"<p>hi</p>"), BodyKind::Text);
        assert_eq!(
            body_kind(Some("multipart/form-data; boundary=x"), b"--x\0"),
            BodyKind::Multipart
        );
        assert_eq!(body_kind(None, b"  {\"a\":1}"), BodyKind::Json);
        assert_eq!(body_kind(None, b"hello"), BodyKind::Text);
        assert_eq!(body_kind(None, b"\x00\x01\x02"), BodyKind::Binary);
        assert_eq!(
            body_kind(Some("application/x-unknown"), b"[1]"),
            BodyKind::Json
        );
        assert_eq!(
            body_kind(Some("text/plain"), &[0xff, 0xfe, 0x00, 0x41]),
            BodyKind::Binary
        );
    }

    #[test]
    fn multipart_bodies() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nbob\r\n--XyZ\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--XyZ\r\nContent-Disposition: form-data; name=pw\r\n\r\nhunter2\r\n--XyZ--\r\n";
        let parts = multipart_parts(body, 10).unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts[0],
            Part {
                name: Some(b"user"),
                file: false,
                content: b"bob"
            }
        );
        assert_eq!(parts[1].name, Some(&b"avatar"[..]));
        assert!(parts[1].file);
        assert_eq!(
            parts[2],
            Part {
                name: Some(b"pw"),
                file: false,
                content: b"hunter2"
            }
        );
        assert_eq!(multipart_parts(body, 1).unwrap().len(), 1);
        assert!(multipart_parts(b"hello\r\nworld", 10).is_none());
        assert!(multipart_parts(b"--", 10).is_none());
        // Cut at a cap: the last part runs to the end.
        let cut = &body[..60];
        let parts = multipart_parts(cut, 10).unwrap();
        assert!(parts[0].content.starts_with(b"bob"));
        for n in 0..body.len() {
            let _ = multipart_parts(&body[..n], 10);
        }
    }

    #[test]
    fn binary_sniffing() {
        assert!(!looks_binary(b""));
        assert!(!looks_binary("héllo wörld".as_bytes()));
        assert!(looks_binary(&[
            0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0
        ]));
        let mut latin = b"caf".to_vec();
        latin.push(0xe9); // one Latin-1 byte in text
        latin.extend_from_slice(&[b'x'; 40]);
        assert!(!looks_binary(&latin));
        let random: Vec<u8> = (0..1024u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert!(looks_binary(&random));
    }
}
