//! Validators: pure functions over byte slices that confirm one candidate.
//!
//! Every function takes the text and the offset where a prefilter (or the digit scanner)
//! saw a possible match, reads only through bounds-checked accessors, and returns the exact
//! span of the token with its [`Verdict`], or `None`. Each one bounds how far it reads
//! (fixed token lengths, or the caller's `max` for JWT and PEM), so the whole scan stays
//! linear in the input. They never panic on any input.

use base64::alphabet;
use base64::engine::general_purpose::GeneralPurpose;
use base64::engine::{DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine as _;

use super::tld::is_tld;

/// How a confirmed token is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// A real-looking value: reported.
    Real,
    /// A documented test value (PSP test card, `sk_test_` key...): reported, `test_data`.
    Test,
    /// A documentation placeholder (`AKIAIOSFODNN7EXAMPLE`, `sk_live_xxxx…`): covered, never
    /// reported.
    Placeholder,
}

/// A confirmed token: `start..end` in the scanned text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Span {
    pub start: usize,
    pub end: usize,
    pub verdict: Verdict,
}

impl Span {
    fn new(start: usize, end: usize, verdict: Verdict) -> Span {
        Span {
            start,
            end,
            verdict,
        }
    }
}

/// The byte at `i`, or 0 outside the slice.
#[inline]
pub(super) fn byte(v: &[u8], i: usize) -> u8 {
    v.get(i).copied().unwrap_or(0)
}

/// The byte before `i`, or 0 at the start.
#[inline]
pub(super) fn before(v: &[u8], i: usize) -> u8 {
    match i.checked_sub(1) {
        Some(j) => byte(v, j),
        None => 0,
    }
}

#[inline]
fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

#[inline]
fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

#[inline]
fn starts_with_at(v: &[u8], i: usize, lit: &[u8]) -> bool {
    v.get(i..).is_some_and(|r| r.starts_with(lit))
}

/// Counts bytes satisfying `pred` from `i`, stopping at `max`.
fn run_len(v: &[u8], i: usize, max: usize, pred: impl Fn(u8) -> bool) -> usize {
    v.get(i..)
        .unwrap_or_default()
        .iter()
        .take(max)
        .take_while(|&&b| pred(b))
        .count()
}

/// A forward cursor for fixed-format tokens.
struct Cur<'a> {
    v: &'a [u8],
    i: usize,
}

impl Cur<'_> {
    fn lit(&mut self, lit: &[u8]) -> bool {
        if starts_with_at(self.v, self.i, lit) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    /// Takes `min..=max` bytes satisfying `pred` (greedy up to `max`).
    fn take(&mut self, min: usize, max: usize, pred: impl Fn(u8) -> bool) -> Option<usize> {
        let n = run_len(self.v, self.i, max, pred);
        if n < min {
            return None;
        }
        self.i += n;
        Some(n)
    }

    fn peek(&self) -> u8 {
        byte(self.v, self.i)
    }
}

/// Documentation placeholders inside a token's random part.
pub(super) fn is_placeholder(body: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[
        b"example",
        b"xxxxxx",
        b"placeholder",
        b"your",
        b"dummy",
        b"redacted",
        b"changeme",
        b"000000000",
        b"123456789",
        b"abcdefgh",
    ];
    let mut lower = [0u8; 256];
    let n = body.len().min(lower.len());
    for (d, s) in lower.iter_mut().zip(body) {
        *d = s.to_ascii_lowercase();
    }
    let lower = lower.get(..n).unwrap_or_default();
    if WORDS
        .iter()
        .any(|w| memchr::memmem::find(lower, w).is_some())
    {
        return true;
    }
    body.len() >= 16 && distinct(body) < 6
}

fn distinct(v: &[u8]) -> usize {
    let mut seen = [false; 256];
    let mut n = 0;
    for &b in v {
        let s = &mut seen[usize::from(b)];
        if !*s {
            *s = true;
            n += 1;
        }
    }
    n
}

// ---------------------------------------------------------------- e-mail

const E_LOCAL: u8 = 1;
const E_DOMAIN: u8 = 2;

/// Byte classes of e-mail addresses: local part (`[A-Za-z0-9._%+-]`), domain
/// (`[A-Za-z0-9.-]`).
const fn email_classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
            t[c] = E_LOCAL | E_DOMAIN;
        } else if b == b'_' || b == b'%' || b == b'+' {
            t[c] = E_LOCAL;
        }
        c += 1;
    }
    t
}

static EMAIL_CLASSES: [u8; 256] = email_classes();

#[inline]
fn is_local(b: u8) -> bool {
    EMAIL_CLASSES[usize::from(b)] & E_LOCAL != 0
}

#[inline]
fn is_domain(b: u8) -> bool {
    EMAIL_CLASSES[usize::from(b)] & E_DOMAIN != 0
}

/// Longest domain the per-thread memo remembers.
const DOMAIN_MEMO: usize = 64;

/// What [`judge_domain`] decided about a domain candidate: the length of the domain kept
/// (trailing unknown labels dropped) and whether it is a documentation domain; `None` when
/// it is not an e-mail domain.
type DomainVerdict = Option<(usize, bool)>;

thread_local! {
    /// The last domain judged on this thread (addresses in a body often share one).
    static LAST_DOMAIN: std::cell::RefCell<([u8; DOMAIN_MEMO], usize, DomainVerdict)> =
        const { std::cell::RefCell::new(([0; DOMAIN_MEMO], usize::MAX, None)) };
}

/// [`judge_domain_uncached`], remembering the last answer per thread.
fn judge_domain(candidate: &[u8]) -> DomainVerdict {
    let n = candidate.len();
    if n > DOMAIN_MEMO {
        return judge_domain_uncached(candidate);
    }
    let hit = LAST_DOMAIN.with(|m| match m.try_borrow() {
        Ok(m) if m.1 == n && m.0.get(..n) == Some(candidate) => Some(m.2),
        _ => None,
    });
    if let Some(verdict) = hit {
        return verdict;
    }
    let verdict = judge_domain_uncached(candidate);
    LAST_DOMAIN.with(|m| {
        if let Ok(mut m) = m.try_borrow_mut() {
            if let Some(d) = m.0.get_mut(..n) {
                d.copy_from_slice(candidate);
                m.1 = n;
                m.2 = verdict;
            }
        }
    });
    verdict
}

fn judge_domain_uncached(candidate: &[u8]) -> DomainVerdict {
    let mut domain = candidate;
    // "mail john@example.com.Then": back off unknown trailing labels.
    loop {
        match check_domain(domain) {
            DomainCheck::Ok => break,
            DomainCheck::BadTld => {
                let dot = domain.iter().rposition(|&b| b == b'.')?;
                domain = domain.get(..dot)?;
            }
            DomainCheck::Bad => return None,
        }
    }
    let first = domain.split(|&b| b == b'.').next().unwrap_or_default();
    // `logo@2x.png`, `icon@1.5x.zip`: image scale suffixes.
    if first.len() >= 2
        && first.last() == Some(&b'x')
        && first
            .get(..first.len() - 1)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    {
        return None;
    }
    if domain.first().is_some_and(u8::is_ascii_digit) && first.iter().all(u8::is_ascii_digit) {
        // `pkg@1.2.com` style version pins.
        if domain.iter().filter(|&&b| b == b'.').count() >= 2 {
            return None;
        }
    }
    Some((domain.len(), is_example_domain(domain)))
}

/// An e-mail address around the `@` at `at`.
pub(super) fn email_at(v: &[u8], at: usize) -> Option<Span> {
    if byte(v, at) != b'@' {
        return None;
    }
    let mut s = at;
    let mut dots_in_a_row = false;
    while s > 0 && at - s < 64 {
        let b = before(v, s);
        if !is_local(b) {
            break;
        }
        if b == b'.' && before(v, s - 1) == b'.' {
            dots_in_a_row = true;
        }
        s -= 1;
    }
    if is_local(before(v, s)) {
        return None; // local part longer than 64
    }
    let local = v.get(s..at)?;
    if local.is_empty() || local.starts_with(b".") || local.ends_with(b".") || dots_in_a_row {
        return None;
    }
    // `scheme://user:pass@host`: URL user info, not an address.
    if before(v, s) == b':' || before(v, s) == b'/' {
        let tok_start = v
            .get(..s)?
            .iter()
            .rposition(|b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'<'))
            .map_or(0, |p| p + 1);
        if memchr::memmem::find(v.get(tok_start..s)?, b"//").is_some() {
            return None;
        }
    }
    let dstart = at + 1;
    let mut e = dstart + run_len(v, dstart, 253, is_domain);
    while e > dstart && matches!(before(v, e), b'.' | b'-') {
        e -= 1;
    }
    // `git@github.com:org/repo`: an scp-style remote.
    let after = byte(v, e);
    if after == b':' && (is_alnum(byte(v, e + 1)) || byte(v, e + 1) == b'/') {
        return None;
    }
    if after == b'@' {
        return None;
    }
    let (kept, example) = judge_domain(v.get(dstart..e)?)?;
    let verdict = if example {
        Verdict::Test
    } else {
        Verdict::Real
    };
    Some(Span::new(s, dstart + kept, verdict))
}

enum DomainCheck {
    Ok,
    BadTld,
    Bad,
}

fn check_domain(d: &[u8]) -> DomainCheck {
    let mut labels = 0;
    let mut last: &[u8] = &[];
    for label in d.split(|&b| b == b'.') {
        if label.is_empty() || label.len() > 63 || label.starts_with(b"-") || label.ends_with(b"-")
        {
            return DomainCheck::Bad;
        }
        labels += 1;
        last = label;
    }
    if labels < 2 {
        return DomainCheck::Bad;
    }
    if is_tld(last) {
        DomainCheck::Ok
    } else if labels > 2 {
        DomainCheck::BadTld
    } else {
        DomainCheck::Bad
    }
}

fn is_example_domain(d: &[u8]) -> bool {
    const EXAMPLES: &[&[u8]] = &[
        b"example.com",
        b"example.net",
        b"example.org",
        b"example.edu",
    ];
    EXAMPLES.iter().any(|e| {
        d.len() >= e.len()
            && d.get(d.len() - e.len()..)
                .is_some_and(|tail| tail.eq_ignore_ascii_case(e))
            && (d.len() == e.len() || byte(d, d.len() - e.len() - 1) == b'.')
    })
}

// ---------------------------------------------------------------- cards

/// Luhn checksum over ASCII digits.
pub(super) fn luhn(d: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &b) in d.iter().rev().enumerate() {
        let mut x = u32::from(b.wrapping_sub(b'0'));
        if x > 9 {
            return false;
        }
        if i % 2 == 1 {
            x *= 2;
            if x > 9 {
                x -= 9;
            }
        }
        sum += x;
    }
    !d.is_empty() && sum % 10 == 0
}

fn prefix_num(d: &[u8], k: usize) -> u32 {
    d.iter().take(k).fold(0u32, |acc, &b| {
        acc * 10 + u32::from(b.wrapping_sub(b'0') % 10)
    })
}

/// Issuer prefix and length of a card number, then Luhn. `ctx` (a card-named field) also
/// accepts 12-15 digit Maestro numbers and JCB numbers anywhere in the 35 range (JCB's
/// assigned range is 3528-3589, but generators and older validators use the whole 35
/// prefix, and in a card field a Luhn-valid number is a card).
pub(super) fn card_ok(d: &[u8], ctx: bool) -> bool {
    let n = d.len();
    if !(12..=19).contains(&n) || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (p2, p3, p4, p6) = (
        prefix_num(d, 2),
        prefix_num(d, 3),
        prefix_num(d, 4),
        prefix_num(d, 6),
    );
    let long = (16..=19).contains(&n);
    let issuer = (byte(d, 0) == b'4' && matches!(n, 13 | 16 | 19))
        || ((51..=55).contains(&p2) && n == 16)
        || ((2221..=2720).contains(&p4) && n == 16)
        || ((p2 == 34 || p2 == 37) && n == 15)
        || ((p4 == 6011
            || (644..=649).contains(&p3)
            || p2 == 65
            || (622126..=622925).contains(&p6))
            && long)
        || (((3528..=3589).contains(&p4) || (ctx && p2 == 35)) && long)
        || (((300..=305).contains(&p3) || p4 == 3095 || p2 == 36 || p2 == 38 || p2 == 39)
            && (14..=19).contains(&n))
        || (p2 == 62 && long)
        || ((2200..=2204).contains(&p4) && long)
        || (([5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763].contains(&p4)
            || (56..=58).contains(&p2))
            && (if ctx { 12..=19 } else { 16..=19 }).contains(&n));
    issuer && luhn(d)
}

/// Test numbers published by card networks and payment providers.
pub(super) fn is_test_card(d: &[u8]) -> bool {
    const TEST: &[&[u8]] = &[
        b"4111111111111111",
        b"4242424242424242",
        b"4012888888881881",
        b"4222222222222",
        b"4000056655665556",
        b"4917610000000000",
        b"4484070000000000",
        b"5555555555554444",
        b"5105105105105100",
        b"5200828282828210",
        b"2223003122003222",
        b"2223000048400011",
        b"378282246310005",
        b"371449635398431",
        b"378734493671000",
        b"6011111111111117",
        b"6011000990139424",
        b"6011000400000000",
        b"3530111333300000",
        b"3566002020360505",
        b"3566111111111113",
        b"30569309025904",
        b"38520000023237",
        b"36227206271667",
        b"3056930009020004",
        b"6200000000000005",
        b"6205500000000000004",
        b"6759649826438453",
        b"6799990100000000019",
    ];
    if TEST.contains(&d) {
        return true;
    }
    // Provider test ranges: all zeros between the issuer prefix and the last four digits
    // (4000 0000 0000 0077, 5200 0000 0000 0007...).
    let n = d.len();
    n >= 13
        && d.get(4..n - 4)
            .is_some_and(|mid| mid.iter().all(|&b| b == b'0'))
}

// ---------------------------------------------------------------- SSN

/// US SSN rules: area 001-899 except 666, group 01-99, serial 0001-9999, and not a
/// famously published or placeholder number.
pub(super) fn ssn_ok(d: &[u8]) -> bool {
    if d.len() != 9 || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let area = prefix_num(d, 3);
    let group = prefix_num(d.get(3..).unwrap_or_default(), 2);
    let serial = prefix_num(d.get(5..).unwrap_or_default(), 4);
    if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
        return false;
    }
    const SAMPLES: &[&[u8]] = &[
        b"078051120",
        b"219099999",
        b"457555462",
        b"123456789",
        b"012345678",
    ];
    if SAMPLES.contains(&d) {
        return false;
    }
    d.iter().any(|&b| b != byte(d, 0))
}

// ---------------------------------------------------------------- IBAN

/// IBAN length by country (ISO 13616 registry).
fn iban_len(cc: [u8; 2]) -> Option<usize> {
    Some(match &cc {
        b"NO" => 15,
        b"BE" => 16,
        b"DK" | b"FI" | b"FO" | b"GL" | b"NL" | b"SD" | b"FK" => 18,
        b"MK" | b"SI" => 19,
        b"AT" | b"BA" | b"EE" | b"KZ" | b"LT" | b"LU" | b"XK" | b"MN" => 20,
        b"CH" | b"HR" | b"LI" | b"LV" => 21,
        b"BG" | b"BH" | b"CR" | b"DE" | b"GB" | b"GE" | b"IE" | b"ME" | b"RS" | b"VA" => 22,
        b"AE" | b"GI" | b"IL" | b"IQ" | b"TL" | b"OM" | b"SO" => 23,
        b"AD" | b"CZ" | b"ES" | b"MD" | b"PK" | b"RO" | b"SA" | b"SE" | b"SK" | b"TN" | b"VG" => 24,
        b"PT" | b"ST" | b"LY" => 25,
        b"IS" | b"TR" => 26,
        b"FR" | b"GR" | b"IT" | b"MC" | b"MR" | b"SM" | b"BI" | b"DJ" => 27,
        b"AL" | b"AZ" | b"BY" | b"CY" | b"DO" | b"GT" | b"HU" | b"LB" | b"PL" | b"SV" | b"NI"
        | b"HN" => 28,
        b"BR" | b"EG" | b"PS" | b"QA" | b"UA" => 29,
        b"JO" | b"KW" | b"MU" | b"YE" => 30,
        b"MT" | b"SC" => 31,
        b"LC" => 32,
        b"RU" => 33,
        _ => return None,
    })
}

/// ISO 7064 mod 97-10 over an IBAN (first four characters moved to the end).
pub(super) fn iban_checksum_ok(iban: &[u8]) -> bool {
    if iban.len() < 5 {
        return false;
    }
    let (head, tail) = iban.split_at(4);
    let mut rem: u32 = 0;
    for &b in tail.iter().chain(head) {
        match b {
            b'0'..=b'9' => rem = (rem * 10 + u32::from(b - b'0')) % 97,
            b'A'..=b'Z' => rem = (rem * 100 + u32::from(b - b'A' + 10)) % 97,
            _ => return false,
        }
    }
    rem == 1
}

/// An IBAN starting with the country code at `p`, compact or in groups of four separated by
/// single spaces. Returns the span and the compact form.
pub(super) fn iban_at(v: &[u8], p: usize) -> Option<(Span, Vec<u8>)> {
    if is_alnum(before(v, p)) {
        return None;
    }
    let cc = [byte(v, p), byte(v, p + 1)];
    if !cc.iter().all(u8::is_ascii_uppercase) {
        return None;
    }
    let len = iban_len(cc)?;
    if !byte(v, p + 2).is_ascii_digit() || !byte(v, p + 3).is_ascii_digit() {
        return None;
    }
    let mut compact = Vec::with_capacity(len);
    let mut i = p;
    let mut spaced: Option<bool> = None;
    let mut just_spaced = false;
    while compact.len() < len {
        let b = byte(v, i);
        if b.is_ascii_uppercase() || b.is_ascii_digit() {
            if spaced == Some(true) && compact.len() % 4 == 0 && !just_spaced {
                return None; // groups of four must all be separated
            }
            compact.push(b);
            just_spaced = false;
            i += 1;
        } else if b == b' '
            && !compact.is_empty()
            && compact.len() % 4 == 0
            && spaced != Some(false)
            && is_alnum(byte(v, i + 1))
        {
            spaced = Some(true);
            just_spaced = true;
            i += 1;
        } else {
            return None;
        }
        if compact.len() == 4 && spaced.is_none() && byte(v, i) != b' ' {
            spaced = Some(false);
        }
    }
    if is_alnum(byte(v, i)) {
        return None;
    }
    if !iban_checksum_ok(&compact) {
        return None;
    }
    const SAMPLES: &[&[u8]] = &[
        b"GB82WEST12345698765432",
        b"GB29NWBK60161331926819",
        b"GB33BUKB20201555555555",
        b"DE89370400440532013000",
        b"DE75512108001245126199",
        b"FR1420041010050500013M02606",
        b"FR7630006000011234567890189",
        b"NL91ABNA0417164300",
        b"CH9300762011623852957",
        b"BE68539007547034",
        b"ES9121000418450200051332",
        b"IT60X0542811101000000123456",
        b"AT611904300234573201",
        b"NO9386011117947",
    ];
    let verdict = if SAMPLES.contains(&compact.as_slice()) {
        Verdict::Test
    } else {
        Verdict::Real
    };
    Some((Span::new(p, i, verdict), compact))
}

// ---------------------------------------------------------------- JWT

const B64_CFG: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_encode_padding(false)
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
/// Base64url, padding optional.
pub(super) const B64URL: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, B64_CFG);
/// Standard base64, padding optional.
pub(super) const B64STD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, B64_CFG);

type JsonObject = serde_json::Map<String, serde_json::Value>;

fn decode_object(seg: &[u8]) -> Option<JsonObject> {
    let raw = B64URL.decode(seg).ok()?;
    serde_json::from_slice::<JsonObject>(&raw).ok()
}

/// A JWT (JWS compact form) starting at the `eyJ` at `p`: three base64url segments, header
/// and payload both JSON objects, header with a string `alg`. At most `max` bytes long.
pub(super) fn jwt_at(v: &[u8], p: usize, max: usize) -> Option<Span> {
    if !starts_with_at(v, p, b"eyJ") || is_b64url(before(v, p)) {
        return None;
    }
    let h_end = p + run_len(v, p, max, is_b64url);
    if byte(v, h_end) != b'.' {
        return None;
    }
    let pl_start = h_end + 1;
    let pl_end = pl_start + run_len(v, pl_start, max, is_b64url);
    if pl_end == pl_start || byte(v, pl_end) != b'.' {
        return None;
    }
    let s_start = pl_end + 1;
    let s_end = s_start + run_len(v, s_start, max, is_b64url);
    if s_end - p > max {
        return None;
    }
    // A fourth segment: JWE or something else; not a JWS.
    if byte(v, s_end) == b'.' && is_b64url(byte(v, s_end + 1)) {
        return None;
    }
    let header = decode_object(v.get(p..h_end)?)?;
    if !header.get("alg").is_some_and(serde_json::Value::is_string) {
        return None;
    }
    let payload = decode_object(v.get(pl_start..pl_end)?)?;
    // The jwt.io sample token.
    let sample = payload.get("sub").and_then(|s| s.as_str()) == Some("1234567890")
        && payload.get("name").and_then(|s| s.as_str()) == Some("John Doe");
    let verdict = if sample { Verdict::Test } else { Verdict::Real };
    Some(Span::new(p, s_end, verdict))
}

// ---------------------------------------------------------------- cloud and SaaS keys

/// Access keys (`AKIA` long-term, `ASIA` temporary, `ABIA` STS bearer, `ACCA`
/// context-specific) and the user, group and role ids that share the format (`AIDA`, `AGPA`,
/// `AROA`).
const AWS_PREFIXES: &[&[u8]] = &[
    b"AKIA", b"ASIA", b"ABIA", b"ACCA", b"AGPA", b"AIDA", b"AROA",
];

fn is_base32(b: u8) -> bool {
    b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)
}

/// An AWS access key id (or other unique id with a key-like prefix) at `p`: prefix plus 16
/// base32 characters, 20 in all.
pub(super) fn aws_key_at(v: &[u8], p: usize) -> Option<Span> {
    if is_alnum(before(v, p)) {
        return None;
    }
    let head = v.get(p..p + 4)?;
    let prefix_ok = AWS_PREFIXES.contains(&head)
        || (head.starts_with(b"A3T")
            && (byte(head, 3).is_ascii_uppercase() || byte(head, 3).is_ascii_digit()));
    if !prefix_ok || run_len(v, p + 4, 16, is_base32) != 16 || is_alnum(byte(v, p + 20)) {
        return None;
    }
    let key = v.get(p..p + 20)?;
    let verdict = if memchr::memmem::find(key, b"EXAMPLE").is_some() {
        Verdict::Placeholder
    } else {
        Verdict::Real
    };
    Some(Span::new(p, p + 20, verdict))
}

/// A 40-character AWS secret access key shape (checked only with context).
pub(super) fn aws_secret_shape(t: &[u8]) -> bool {
    aws_secret_shape_named(t) && t.iter().any(u8::is_ascii_digit)
}

/// [`aws_secret_shape`] for a value in a field named for an AWS secret key: the field says
/// what it is, so a digit is not required (one random key in a thousand has none).
pub(super) fn aws_secret_shape_named(t: &[u8]) -> bool {
    t.len() == 40
        && t.iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+')
        && t.iter().any(u8::is_ascii_uppercase)
        && t.iter().any(u8::is_ascii_lowercase)
}

/// Whether an AWS-secret-shaped value is a documentation sample.
pub(super) fn aws_secret_placeholder(t: &[u8]) -> bool {
    memchr::memmem::find(t, b"EXAMPLE").is_some() || is_placeholder(t)
}

/// A 40-character secret-key-shaped token starting at `i` (standalone).
pub(super) fn aws_secret_token_at(v: &[u8], i: usize) -> Option<Span> {
    let ok = |b: u8| b.is_ascii_alphanumeric() || b == b'/' || b == b'+';
    if ok(before(v, i)) || run_len(v, i, 41, ok) != 40 || byte(v, i + 40) == b'=' {
        return None;
    }
    let t = v.get(i..i + 40)?;
    if !aws_secret_shape(t) {
        return None;
    }
    let verdict = if aws_secret_placeholder(t) {
        Verdict::Placeholder
    } else {
        Verdict::Real
    };
    Some(Span::new(i, i + 40, verdict))
}

/// GitHub tokens: `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` plus at least 36 alphanumerics, and
/// fine-grained `github_pat_` tokens.
pub(super) fn github_at(v: &[u8], p: usize) -> Option<Span> {
    if is_alnum(before(v, p)) || before(v, p) == b'_' {
        return None;
    }
    let (body_start, body_len) = if starts_with_at(v, p, b"github_pat_") {
        let n = run_len(v, p + 11, 256, |b| is_alnum(b) || b == b'_');
        if !(40..=255).contains(&n) {
            return None;
        }
        (p + 11, n)
    } else {
        let head = v.get(p..p + 4)?;
        if !(head.starts_with(b"gh") && b"pousr".contains(&byte(head, 2)) && byte(head, 3) == b'_')
        {
            return None;
        }
        let n = run_len(v, p + 4, 256, is_alnum);
        if !(36..=251).contains(&n) || byte(v, p + 4 + n) == b'_' {
            return None;
        }
        (p + 4, n)
    };
    let end = body_start + body_len;
    let body = v.get(body_start..end)?;
    let verdict = if is_placeholder(body) {
        Verdict::Placeholder
    } else {
        Verdict::Real
    };
    Some(Span::new(p, end, verdict))
}

/// Slack tokens (`xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-`, `xoxe-`, `xoxe.xoxp-`) at `p`.
pub(super) fn slack_at(v: &[u8], p: usize) -> Option<Span> {
    if is_alnum(before(v, p)) {
        return None;
    }
    let mut q = p;
    if starts_with_at(v, p, b"xoxe.xox") {
        q = p + 5;
    }
    if !starts_with_at(v, q, b"xox")
        || !b"abprseo".contains(&byte(v, q + 3))
        || byte(v, q + 4) != b'-'
    {
        return None;
    }
    let body_start = q + 5;
    let mut n = run_len(v, body_start, 256, |b| is_alnum(b) || b == b'-');
    while n > 0 && byte(v, body_start + n - 1) == b'-' {
        n -= 1;
    }
    let body = v.get(body_start..body_start + n)?;
    if !(10..=250).contains(&n) || !body.iter().any(u8::is_ascii_digit) {
        return None;
    }
    let verdict = if is_placeholder(body) {
        Verdict::Placeholder
    } else {
        Verdict::Real
    };
    Some(Span::new(p, body_start + n, verdict))
}

/// A Slack incoming-webhook URL around the `hooks.slack.com/` at `p`.
pub(super) fn slack_webhook_at(v: &[u8], p: usize) -> Option<Span> {
    let mut c = Cur { v, i: p };
    if !c.lit(b"hooks.slack.com/") || !(c.lit(b"services/") || c.lit(b"workflows/")) {
        return None;
    }
    let path_start = c.i;
    let n = run_len(v, path_start, 200, |b| {
        is_alnum(b) || b == b'/' || b == b'_' || b == b'-'
    });
    let path = v.get(path_start..path_start + n)?;
    if n < 20 || path.iter().filter(|&&b| b == b'/').count() < 2 {
        return None;
    }
    let start = if p >= 8 && v.get(p - 8..p) == Some(b"https://") {
        p - 8
    } else if is_alnum(before(v, p)) || before(v, p) == b'.' {
        return None;
    } else {
        p
    };
    let verdict = if is_placeholder(path) {
        Verdict::Placeholder
    } else {
        Verdict::Real
    };
    Some(Span::new(start, path_start + n, verdict))
}

/// Stripe secret and restricted keys (`sk_live_`, `rk_live_`; `sk_test_`/`rk_test_` are
/// [`Verdict::Test`]). Publishable `pk_` keys are public by design and never reported.
pub(super) fn stripe_at(v: &[u8], p: usize) -> Option<Span> {
    if is_alnum(before(v, p)) || before(v, p) == b'_' {
        return None;
    }
    let head = v.get(p..p + 8)?;
    let test = match head {
        b"sk_live_" | b"rk_live_" => false,
        b"sk_test_" | b"rk_test_" => true,
        _ => return None,
    };
    let n = run_len(v, p + 8, 248, is_alnum);
    if !(16..=247).contains(&n) || byte(v, p + 8 + n) == b'_' {
        return None;
    }
    let body = v.get(p + 8..p + 8 + n)?;
    let verdict = if is_placeholder(body) {
        Verdict::Placeholder
    } else if test {
        Verdict::Test
    } else {
        Verdict::Real
    };
    Some(Span::new(p, p + 8 + n, verdict))
}

/// Google API keys: `AIza` plus 35 characters of `[A-Za-z0-9_-]`.
pub(super) fn google_at(v: &[u8], p: usize) -> Option<Span> {
    if is_b64url(before(v, p)) || !starts_with_at(v, p, b"AIza") {
        return None;
    }
    if run_len(v, p + 4, 36, is_b64url) != 35 {
        return None;
    }
    let body = v.get(p + 4..p + 39)?;
    let verdict = if is_placeholder(body) {
        Verdict::Placeholder
    } else {
        Verdict::Real
    };
    Some(Span::new(p, p + 39, verdict))
}

// ---------------------------------------------------------------- PEM

const PEM_LABELS: &[&[u8]] = &[
    b"PRIVATE KEY",
    b"RSA PRIVATE KEY",
    b"EC PRIVATE KEY",
    b"DSA PRIVATE KEY",
    b"OPENSSH PRIVATE KEY",
    b"ENCRYPTED PRIVATE KEY",
    b"PGP PRIVATE KEY BLOCK",
];

/// Where the next `-----END ` is, searched forward once per text (so many `BEGIN` lines cost
/// one pass in all).
#[derive(Default)]
pub(super) struct PemEnds {
    searched_from: usize,
    found: Option<usize>,
    valid: bool,
}

impl PemEnds {
    fn next_end(&mut self, v: &[u8], from: usize) -> Option<usize> {
        if self.valid && from >= self.searched_from {
            match self.found {
                Some(f) if f >= from => return Some(f),
                None => return None,
                Some(_) => {}
            }
        }
        let found = memchr::memmem::find(v.get(from..)?, b"-----END ").map(|i| from + i);
        self.searched_from = from;
        self.found = found;
        self.valid = true;
        found
    }
}

/// A PEM private key block starting at the `-----BEGIN ` at `p`. Runs to its `-----END …-----`
/// line when that is within `max` bytes; otherwise (a truncated body) over the base64 lines
/// that follow the header, at most `max` bytes.
pub(super) fn pem_at(v: &[u8], p: usize, max: usize, ends: &mut PemEnds) -> Option<Span> {
    let mut c = Cur { v, i: p };
    if !c.lit(b"-----BEGIN ") {
        return None;
    }
    let label_start = c.i;
    let label_len = run_len(v, label_start, 32, |b| b.is_ascii_uppercase() || b == b' ');
    let label = v.get(label_start..label_start + label_len)?;
    if !PEM_LABELS.contains(&label) {
        return None;
    }
    c.i = label_start + label_len;
    if !c.lit(b"-----") {
        return None;
    }
    let header_end = c.i;
    let mut end = None;
    if let Some(e) = ends.next_end(v, header_end) {
        let close = e + 9 + run_len(v, e + 9, 32, |b| b.is_ascii_uppercase() || b == b' ');
        if starts_with_at(v, close, b"-----") && close + 5 - p <= max {
            end = Some((e, close + 5));
        }
    }
    let (material_end, end) = end.unwrap_or_else(|| {
        let body = run_len(v, header_end, max.saturating_sub(header_end - p), |b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'+' | b'/' | b'=' | b'\r' | b'\n' | b' ' | b'\\' | b':' | b'-' | b','
                )
        });
        (header_end + body, header_end + body)
    });
    // Key material must follow: a header alone (documentation, an error message) is not a key.
    let material = v
        .get(header_end..material_end)
        .unwrap_or_default()
        .iter()
        .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/'))
        .take(16)
        .count();
    (material >= 16).then(|| Span::new(p, end, Verdict::Real))
}

/// The header line of a PEM block (for redaction).
pub(super) fn pem_header(raw: &str) -> &str {
    match raw.get(5..).and_then(|r| r.find("-----")) {
        Some(i) => raw.get(..i + 10).unwrap_or(""),
        None => "",
    }
}

// ---------------------------------------------------------------- password hashes

fn is_crypt64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'/'
}

fn is_b64std(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// A password hash in one of the common crypt formats at `p`: bcrypt (`$2a$`, `$2b$`, `$2y$`,
/// `$2x$`), Argon2 (`$argon2id$`...), SHA-crypt (`$5$`, `$6$`), MD5-crypt (`$1$`), Django
/// (`pbkdf2_sha256$`) and passlib (`$pbkdf2-sha256$`).
pub(super) fn pwhash_at(v: &[u8], p: usize) -> Option<Span> {
    let b = before(v, p);
    if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'$' | b'_') {
        return None;
    }
    let mut c = Cur { v, i: p };
    let ok = if c.lit(b"$2a$") || c.lit(b"$2b$") || c.lit(b"$2y$") || c.lit(b"$2x$") {
        c.take(2, 2, |b| b.is_ascii_digit()).is_some()
            && c.lit(b"$")
            && c.take(53, 53, is_crypt64).is_some()
            && !is_crypt64(c.peek())
    } else if c.lit(b"$argon2id$") || c.lit(b"$argon2i$") || c.lit(b"$argon2d$") {
        if c.lit(b"v=") {
            let _ = c.take(1, 5, |b| b.is_ascii_digit());
            let _ = c.lit(b"$");
        }
        c.lit(b"m=")
            && c.take(1, 10, |b| b.is_ascii_digit()).is_some()
            && c.lit(b",t=")
            && c.take(1, 10, |b| b.is_ascii_digit()).is_some()
            && c.lit(b",p=")
            && c.take(1, 4, |b| b.is_ascii_digit()).is_some()
            && c.lit(b"$")
            && c.take(8, 128, is_b64std).is_some()
            && c.lit(b"$")
            && c.take(16, 256, is_b64std).is_some()
    } else if c.lit(b"$5$") || c.lit(b"$6$") {
        let hash_len = if byte(v, p + 1) == b'5' { 43 } else { 86 };
        if c.lit(b"rounds=") {
            let _ = c.take(1, 10, |b| b.is_ascii_digit());
            if !c.lit(b"$") {
                return None;
            }
        }
        c.take(1, 16, is_crypt64).is_some()
            && c.lit(b"$")
            && c.take(hash_len, hash_len, is_crypt64).is_some()
            && !is_crypt64(c.peek())
    } else if c.lit(b"$1$") {
        c.take(1, 8, is_crypt64).is_some()
            && c.lit(b"$")
            && c.take(22, 22, is_crypt64).is_some()
            && !is_crypt64(c.peek())
    } else if c.lit(b"pbkdf2_sha256$") || c.lit(b"pbkdf2_sha1$") {
        c.take(1, 10, |b| b.is_ascii_digit()).is_some()
            && c.lit(b"$")
            && c.take(1, 128, |b| b.is_ascii_graphic() && b != b'$')
                .is_some()
            && c.lit(b"$")
            && c.take(20, 256, |b| is_b64std(b) || b == b'=').is_some()
    } else if c.lit(b"$pbkdf2-sha256$") || c.lit(b"$pbkdf2-sha512$") || c.lit(b"$pbkdf2$") {
        c.take(1, 10, |b| b.is_ascii_digit()).is_some()
            && c.lit(b"$")
            && c.take(4, 128, |b| is_crypt64(b) || b == b'+').is_some()
            && c.lit(b"$")
            && c.take(20, 256, |b| is_crypt64(b) || b == b'+').is_some()
    } else {
        false
    };
    ok.then(|| Span::new(p, c.i, Verdict::Real))
}

/// The algorithm part of a password hash, shown by the redactor (`$2b$12$`, `$argon2id$`).
pub(super) fn pwhash_prefix(raw: &str) -> &str {
    let b = raw.as_bytes();
    let want = if raw.starts_with("$2") {
        3
    } else if raw.starts_with('$') {
        2
    } else {
        1
    };
    let mut seen = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'$' {
            seen += 1;
            if seen == want {
                return raw.get(..=i).unwrap_or("");
            }
        }
    }
    ""
}

// ---------------------------------------------------------------- IPv4

/// Parses four dotted decimal groups (no leading zeros, each ≤ 255).
pub(super) fn ipv4_parse(v: &[u8], groups: &[(usize, usize)]) -> Option<[u8; 4]> {
    if groups.len() != 4 {
        return None;
    }
    let mut ip = [0u8; 4];
    for (slot, &(s, e)) in ip.iter_mut().zip(groups) {
        let g = v.get(s..e)?;
        if g.is_empty() || g.len() > 3 || (g.len() > 1 && byte(g, 0) == b'0') {
            return None;
        }
        let n = prefix_num(g, 3);
        *slot = u8::try_from(n).ok()?;
    }
    Some(ip)
}

/// Whether an address is worth reporting (unicast, not loopback or unspecified), and whether
/// it is in a documentation range (RFC 5737).
pub(super) fn ipv4_verdict(ip: [u8; 4]) -> Option<Verdict> {
    let [a, b, c, _] = ip;
    // 2.5.x.y is the X.500 attribute arc (`2.5.4.3` = commonName), far more often an OID.
    if a == 0 || a == 127 || a >= 224 || (a == 2 && b == 5) {
        return None;
    }
    let doc = (a == 192 && b == 0 && c == 2)
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113);
    Some(if doc { Verdict::Test } else { Verdict::Real })
}

// ---------------------------------------------------------------- dates

fn days_in_month(y: u16, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

fn num(v: &[u8]) -> Option<u16> {
    if v.is_empty() || v.len() > 4 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    u16::try_from(prefix_num(v, 4)).ok()
}

fn ymd(y: u16, m: u16, d: u16, years: (u16, u16)) -> Option<(u16, u8, u8)> {
    let m = u8::try_from(m).ok()?;
    let d = u8::try_from(d).ok()?;
    (y >= years.0 && y <= years.1 && (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m))
        .then_some((y, m, d))
}

/// A date of birth value: `YYYY-MM-DD` (optionally followed by a time), `YYYY/MM/DD`,
/// `MM/DD/YYYY`, `DD/MM/YYYY`, `DD.MM.YYYY`, `DD-MM-YYYY` or `YYYYMMDD`, with the year in
/// `years` (inclusive).
pub(super) fn parse_date(v: &[u8], years: (u16, u16)) -> Option<(u16, u8, u8)> {
    let v = v.trim_ascii();
    let v = if v.len() > 10 && matches!(byte(v, 10), b'T' | b' ') && byte(v, 4) == b'-' {
        v.get(..10)?
    } else {
        v
    };
    if v.len() == 8 && v.iter().all(u8::is_ascii_digit) {
        return ymd(
            num(v.get(..4)?)?,
            num(v.get(4..6)?)?,
            num(v.get(6..)?)?,
            years,
        );
    }
    let sep = *v.iter().find(|b| !b.is_ascii_digit())?;
    if !matches!(sep, b'-' | b'/' | b'.') {
        return None;
    }
    let mut parts = v.split(|&b| b == sep);
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || b.is_empty() || b.len() > 2 {
        return None;
    }
    if a.len() == 4 && c.len() <= 2 && sep != b'.' {
        return ymd(num(a)?, num(b)?, num(c)?, years);
    }
    if c.len() == 4 && a.len() <= 2 {
        let (x, y, year) = (num(a)?, num(b)?, num(c)?);
        return match sep {
            b'.' | b'-' => ymd(year, y, x, years),
            _ => ymd(year, x, y, years).or_else(|| ymd(year, y, x, years)),
        };
    }
    None
}

// ---------------------------------------------------------------- phones

/// North American number (10 digits): area and exchange start 2-9 and are not N11.
pub(super) fn nanp_ok(d: &[u8]) -> bool {
    if d.len() != 10 || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let n11 = |i: usize| byte(d, i + 1) == b'1' && byte(d, i + 2) == b'1';
    byte(d, 0) >= b'2' && byte(d, 3) >= b'2' && !n11(0) && !n11(3)
}

/// 555-0100 to 555-0199 are reserved for fiction.
pub(super) fn nanp_fictional(d: &[u8]) -> bool {
    d.len() == 10 && d.get(3..7) == Some(b"5550") && byte(d, 7) == b'1'
}

fn phone_verdict(digits: &[u8]) -> Verdict {
    let nanp = match digits.len() {
        10 => Some(digits),
        11 if byte(digits, 0) == b'1' => digits.get(1..),
        _ => None,
    };
    if nanp.is_some_and(nanp_fictional) {
        Verdict::Test
    } else {
        Verdict::Real
    }
}

/// Collects the digits of a phone-like run starting at `i` (digits and single separators
/// ` -.()`), at most 15 digits. Returns (end, digits).
fn phone_run(v: &[u8], i: usize) -> Option<(usize, Vec<u8>)> {
    let mut digits = Vec::with_capacity(16);
    let mut j = i;
    let mut last_end = i;
    let mut prev_sep: u8 = 0;
    loop {
        let b = byte(v, j);
        if b.is_ascii_digit() {
            digits.push(b);
            if digits.len() > 15 {
                return None;
            }
            j += 1;
            last_end = j;
            prev_sep = 0;
        } else if matches!(b, b' ' | b'-' | b'.' | b'(' | b')') {
            let pair_ok = prev_sep == 0
                || matches!(
                    (prev_sep, b),
                    (b')', b' ') | (b' ', b'(') | (b')', b'-') | (b'-', b'(')
                );
            if !pair_ok || j - last_end >= 2 {
                break;
            }
            prev_sep = b;
            j += 1;
        } else {
            break;
        }
    }
    // A closing parenthesis right after the last digit belongs to the number only if opened.
    Some((last_end, digits))
}

/// An E.164-style number at the `+` at `p`: 10 to 15 digits, country code not 0; `+1`
/// numbers must be valid North American numbers.
pub(super) fn phone_plus_at(v: &[u8], p: usize) -> Option<Span> {
    if byte(v, p) != b'+' || is_alnum(before(v, p)) || before(v, p) == b'+' {
        return None;
    }
    if !matches!(byte(v, p + 1), b'1'..=b'9') {
        return None;
    }
    let (end, digits) = phone_run(v, p + 1)?;
    if is_alnum(byte(v, end)) || !(10..=15).contains(&digits.len()) {
        return None;
    }
    if byte(&digits, 0) == b'1' && (digits.len() != 11 || !nanp_ok(digits.get(1..)?)) {
        return None;
    }
    Some(Span::new(p, end, phone_verdict(&digits)))
}

/// `(415) 555-2671`, `(415)555-2671`, `(415) 555 2671`, `(415) 555.2671` at the `(` at `p`.
pub(super) fn phone_paren_at(v: &[u8], p: usize) -> Option<Span> {
    if byte(v, p) != b'(' || is_alnum(before(v, p)) {
        return None;
    }
    let mut c = Cur { v, i: p + 1 };
    let mut d = Vec::with_capacity(10);
    let s = c.i;
    c.take(3, 3, |b| b.is_ascii_digit())?;
    d.extend_from_slice(v.get(s..s + 3)?);
    if !c.lit(b")") {
        return None;
    }
    let _ = c.lit(b" ");
    let s = c.i;
    c.take(3, 3, |b| b.is_ascii_digit())?;
    d.extend_from_slice(v.get(s..s + 3)?);
    if matches!(c.peek(), b'-' | b' ' | b'.') {
        c.i += 1;
    }
    let s = c.i;
    c.take(4, 4, |b| b.is_ascii_digit())?;
    d.extend_from_slice(v.get(s..s + 4)?);
    if is_alnum(c.peek()) || !nanp_ok(&d) {
        return None;
    }
    Some(Span::new(p, c.i, phone_verdict(&d)))
}

/// A whole value in a phone-named field: 7 to 15 digits with the usual separators, an
/// optional leading `+` and an optional extension (`x123`, `ext. 123`).
pub(super) fn phone_value(v: &[u8]) -> Option<Verdict> {
    let v = v.trim_ascii();
    let lower_ext = v
        .iter()
        .position(|&b| b == b'x' || b == b'X' || b == b'e' || b == b'E' || b == b'#')
        .unwrap_or(v.len());
    let main = v.get(..lower_ext)?.trim_ascii();
    let rest = v.get(lower_ext..).unwrap_or_default();
    if !rest.is_empty() {
        let r = rest
            .strip_prefix(b"ext.")
            .or_else(|| rest.strip_prefix(b"ext"))
            .or_else(|| rest.strip_prefix(b"x"))
            .or_else(|| rest.strip_prefix(b"X"))
            .or_else(|| rest.strip_prefix(b"#"))?;
        if !r.trim_ascii().iter().all(u8::is_ascii_digit) || r.trim_ascii().is_empty() {
            return None;
        }
    }
    let (plus, body) = match main.strip_prefix(b"+") {
        Some(b) => (true, b),
        None => (false, main),
    };
    if !body
        .iter()
        .all(|&b| b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'/'))
    {
        return None;
    }
    let digits: Vec<u8> = body.iter().copied().filter(u8::is_ascii_digit).collect();
    if !(7..=15).contains(&digits.len()) || digits.iter().all(|&b| b == byte(&digits, 0)) {
        return None;
    }
    if plus && (byte(&digits, 0) == b'0' || (byte(&digits, 0) == b'1' && digits.len() != 11)) {
        return None;
    }
    // A date in a phone field is not a phone number.
    if parse_date(main, (1000, 9999)).is_some() {
        return None;
    }
    Some(phone_verdict(&digits))
}

// ---------------------------------------------------------------- context values

fn bool_like(t: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[
        b"true",
        b"false",
        b"yes",
        b"no",
        b"on",
        b"off",
        b"null",
        b"none",
        b"nil",
        b"undefined",
        b"0",
        b"1",
        b"y",
        b"n",
    ];
    WORDS.iter().any(|w| t.eq_ignore_ascii_case(w))
}

fn masked_or_template(t: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[
        b"redacted",
        b"[filtered]",
        b"filtered",
        b"hidden",
        b"<password>",
        b"password",
        b"changeme",
        b"secret",
        b"xxx",
    ];
    if WORDS.iter().any(|w| t.eq_ignore_ascii_case(w)) {
        return true;
    }
    if t.len() >= 3 && t.iter().all(|&b| b == byte(t, 0)) && !is_alnum(byte(t, 0)) {
        return true; // "********", "•••"
    }
    t.len() >= 3 && t.iter().all(|&b| b == b'*' || b == b'x' || b == b'X') // "xxxx", "**xx"
        || (t.starts_with(b"${") && t.ends_with(b"}"))
        || (t.starts_with(b"{{") && t.ends_with(b"}}"))
        || (t.starts_with(b"<") && t.ends_with(b">"))
        || (t.starts_with(b"%") && t.ends_with(b"%") && t.len() > 2)
}

fn url_like(t: &[u8]) -> bool {
    t.starts_with(b"/") || memchr::memmem::find(t, b"://").is_some()
}

/// A value read from free text that is more likely code than a credential: a path
/// (`a::b`), a call (`f(x`), a pointer or reference type, a type name, only digits (enum
/// constants), or no alphanumeric character at all.
pub(super) fn code_like(t: &[u8]) -> bool {
    const TYPES: &[&[u8]] = &[
        b"u8",
        b"u16",
        b"u32",
        b"u64",
        b"u128",
        b"usize",
        b"i8",
        b"i16",
        b"i32",
        b"i64",
        b"i128",
        b"isize",
        b"__u32",
        b"__u64",
        b"string",
        b"str",
        b"bool",
        b"boolean",
        b"int",
        b"integer",
        b"char",
        b"number",
        b"object",
        b"any",
        b"bytes",
        b"text",
        b"varchar",
        b"float",
        b"double",
        b"long",
        b"option",
        b"vec",
        b"self",
        b"this",
        b"undefined",
    ];
    if memchr::memmem::find(t, b"::").is_some()
        || matches!(byte(t, 0), b'*' | b'&' | b'[' | b'(' | b'<')
        || TYPES.iter().any(|w| t.eq_ignore_ascii_case(w))
        || t.iter().all(u8::is_ascii_digit)
        || !t.iter().any(u8::is_ascii_alphanumeric)
    {
        return true;
    }
    // `LPWSTR`, `INTERNET_OPTION_PASSWORD`: constants and C type names.
    if t.len() >= 4
        && t.iter()
            .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && (t.contains(&b'_') || t.iter().all(u8::is_ascii_uppercase))
    {
        return true;
    }
    // `name(`, `obj.method(`: an identifier followed by a call.
    let ident = t
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        .count();
    ident > 0 && byte(t, ident) == b'('
}

/// A value in a password-named field that is worth reporting: non-empty, at most 256 bytes,
/// not a boolean or null word, not a URL or path, not already masked or a template.
pub(super) fn password_ok(t: &[u8]) -> bool {
    let t = t.trim_ascii();
    !t.is_empty() && t.len() <= 256 && !bool_like(t) && !url_like(t) && !masked_or_template(t)
}

/// A value in a credential-named field that looks like a secret: 16 to 512 printable ASCII
/// characters without spaces, with letters and digits (or at least 32 characters), at least
/// 8 distinct characters, not a URL, template or placeholder.
pub(super) fn secret_ok(t: &[u8]) -> bool {
    let t = t.trim_ascii();
    if !(16..=512).contains(&t.len()) || !t.iter().all(u8::is_ascii_graphic) {
        return false;
    }
    let letters = t.iter().any(u8::is_ascii_alphabetic);
    let digits = t.iter().any(u8::is_ascii_digit);
    (letters && (digits || t.len() >= 32))
        && distinct(t) >= 8
        && !url_like(t)
        && !masked_or_template(t)
        && !is_placeholder(t)
        && !t.contains(&b'@')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> Option<(String, Verdict)> {
        let at = s.find('@')?;
        email_at(s.as_bytes(), at).map(|sp| (s[sp.start..sp.end].to_owned(), sp.verdict))
    }

    #[test]
    fn email_positives() {
        assert_eq!(email("john.doe@acme.io").unwrap().0, "john.doe@acme.io");
        assert_eq!(
            email("to: <Jane+tag@Mail.Example.co.uk>").unwrap().0,
            "Jane+tag@Mail.Example.co.uk"
        );
        assert_eq!(
            email("x=a_b-c%d@sub.domain.de;").unwrap().0,
            "a_b-c%d@sub.domain.de"
        );
        assert_eq!(email("mail john@acme.com.Then").unwrap().0, "john@acme.com");
        assert_eq!(email("12345@qq.com").unwrap().0, "12345@qq.com");
        assert_eq!(
            email("ping me at ann@corp.example.com").unwrap().1,
            Verdict::Test
        );
        assert_eq!(email("mailto:bob@shop.store").unwrap().0, "bob@shop.store");
    }

    #[test]
    fn email_negatives() {
        for s in [
            "user@localhost",
            "a@b.c1",
            "logo@2x.png",
            "icon@3x.zip",
            "root@server",
            "@handle",
            "x@.com",
            "x.@acme.com",
            "a..b@acme.com",
            "git@github.com:org/repo.git",
            "https://user:pw@host.acme.com/x",
            "ftp://anon@files.acme.com",
            "pkg@1.2.3",
            "a@b@acme.com",
            "me@-acme.com",
            "me@acme-.com",
            "npm i lodash@4.17.21",
        ] {
            assert_eq!(email(s), None, "{s}");
        }
        let long = format!("{}@acme.com", "a".repeat(65));
        assert_eq!(email(&long), None);
    }

    #[test]
    fn luhn_and_issuers() {
        assert!(luhn(b"4111111111111111"));
        assert!(!luhn(b"4111111111111112"));
        assert!(!luhn(b""));
        assert!(!luhn(b"41x1"));
        for c in [
            "4539578763621486",    // visa 16
            "4556737586899855",    // visa
            "4929123456786",       // visa 13? checked below
            "5425233430109903",    // mastercard
            "2223000048410010",    // mastercard 2-series
            "374245455400126",     // amex
            "6011000990139424",    // discover
            "3566002020360505",    // jcb
            "30569309025904",      // diners 14
            "6200000000000005",    // unionpay
            "6759649826438453",    // maestro 16
            "4000000000000000006", // visa 19
        ] {
            let d = c.as_bytes();
            if luhn(d) {
                assert!(card_ok(d, false), "{c}");
            }
        }
        assert!(card_ok(b"5425233430109903", false));
        assert!(!card_ok(b"5425233430109904", false)); // Luhn
                                                       // JCB outside 3528-3589: only in a card field.
        assert!(!card_ok(b"3509789462125061", false));
        assert!(card_ok(b"3509789462125061", true));
        assert!(!card_ok(b"3509789462125062", true)); // Luhn
        assert!(!card_ok(b"1234567812345670", false)); // no issuer 1
        assert!(!card_ok(b"9999999999999995", false));
        assert!(!card_ok(b"37424545540012", false)); // amex length 14
        assert!(!card_ok(b"542523343010990", false)); // mc length 15
        assert!(!card_ok(b"411111111111", false)); // 12
                                                   // Maestro 12 digits only with context.
        let m12 = b"501800000009";
        assert_eq!(luhn(m12), card_ok(m12, true));
        assert!(!card_ok(m12, false));
    }

    #[test]
    fn test_cards() {
        assert!(is_test_card(b"4242424242424242"));
        assert!(is_test_card(b"4000000000000077"));
        assert!(!is_test_card(b"4539578763621486"));
    }

    #[test]
    fn ssn_rules() {
        assert!(ssn_ok(b"536221947"));
        for bad in [
            "000221947",
            "666221947",
            "900221947",
            "999221947",
            "536001947",
            "536220000",
            "078051120",
            "123456789",
            "111111111",
            "53622194",
            "53622194x",
        ] {
            assert!(!ssn_ok(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn iban_rules() {
        let ok = |s: &str| iban_at(s.as_bytes(), 0).map(|(sp, c)| (sp.end, c, sp.verdict));
        assert_eq!(ok("DE44500105175407324931").unwrap().2, Verdict::Real);
        assert_eq!(ok("DE89370400440532013000").unwrap().2, Verdict::Test);
        let (end, compact, _) = ok("DE44 5001 0517 5407 3249 31 next").unwrap();
        assert_eq!(end, 27);
        assert_eq!(compact, b"DE44500105175407324931");
        assert!(ok("GB33BUKB20201555555555").is_some());
        assert!(ok("NO9386011117947").is_some());
        assert!(ok("DE44500105175407324932").is_none()); // checksum
        assert!(ok("DE4450010517540732493").is_none()); // short
        assert!(ok("DE445001051754073249311").is_none()); // long run
        assert!(ok("ZZ44500105175407324931").is_none()); // country
        assert!(ok("DE44 50010517 5407324931").is_none()); // inconsistent groups
        assert!(ok("de44500105175407324931").is_none());
        assert!(iban_at(b"XDE44500105175407324931", 1).is_none());
    }

    #[test]
    fn jwt_rules() {
        let sample = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        let sp = jwt_at(sample.as_bytes(), 0, 4096).unwrap();
        assert_eq!((sp.end, sp.verdict), (sample.len(), Verdict::Test));
        // alg none, empty signature.
        let none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.";
        assert_eq!(jwt_at(none.as_bytes(), 0, 4096).unwrap().end, none.len());
        // Payload not JSON ("hello world").
        assert!(jwt_at(b"eyJhbGciOiJIUzI1NiJ9.aGVsbG8gd29ybGQ.c2ln", 0, 4096).is_none());
        // Header without alg ({"typ":"JWT"}).
        assert!(jwt_at(b"eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJhbGljZSJ9.c2ln", 0, 4096).is_none());
        // Two segments only.
        assert!(jwt_at(b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9", 0, 4096).is_none());
        // Too long for max.
        assert!(jwt_at(sample.as_bytes(), 0, 64).is_none());
        // Glued to a longer token.
        let glued = format!("x{sample}");
        assert!(jwt_at(glued.as_bytes(), 1, 4096).is_none());
    }

    #[test]
    fn key_rules() {
        assert_eq!(
            aws_key_at(b"AKIAZ7VQ2XK4M3NPLR5T", 0).unwrap().verdict,
            Verdict::Real
        );
        assert_eq!(
            aws_key_at(b"AKIAIOSFODNN7EXAMPLE", 0).unwrap().verdict,
            Verdict::Placeholder
        );
        assert!(aws_key_at(b"AKIAZ7VQ2XK4M3NPLR5", 0).is_none());
        assert!(aws_key_at(b"AKIAZ7VQ2XK4M3NPLR5TX", 0).is_none());
        assert!(aws_key_at(b"AKIAZ7VQ2XK4M3NPLR18", 0).is_none()); // 1 and 8 not base32
        assert!(aws_key_at(b"xAKIAZ7VQ2XK4M3NPLR5T", 1).is_none());
        assert!(aws_key_at(b"akiaz7vq2xk4m3nplr5t", 0).is_none());

        let gh = "ghp_R2v7Kq9LmN4pX8sT1wY6zB3cD5fG0hJ2kQ9a";
        assert_eq!(github_at(gh.as_bytes(), 0).unwrap().end, gh.len());
        assert!(github_at(b"ghp_short123", 0).is_none());
        assert!(github_at(b"ghx_R2v7Kq9LmN4pX8sT1wY6zB3cD5fG0hJ2kQ9a", 0).is_none());
        let pat = format!("github_pat_11ABCDEFG0a1B2c3D4e5F6_{}", "Zq8".repeat(20));
        assert!(github_at(pat.as_bytes(), 0).is_some());

        assert!(slack_at(b"xoxb-2048518293-3981725648271-Qw8eRt7yUi6oP5aS4dF3gH2j", 0).is_some());
        assert!(slack_at(b"xoxe.xoxp-1-Mi0yLTE3NzA0", 0).is_some());
        assert!(slack_at(b"xoxb-", 0).is_none());
        assert!(slack_at(b"xoxq-2048518293-3981725648271", 0).is_none());
        assert!(slack_at(b"xoxb-abcdefghijklmnop", 0).is_none()); // no digit
        let hook =
            "https://hooks.slack.com/services/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";
        let p = hook.find("hooks").unwrap();
        assert_eq!(slack_webhook_at(hook.as_bytes(), p).unwrap().start, 0);

        assert_eq!(
            stripe_at(b"sk_live_51HqL8yKz3Bv7Nw2Qx9Rt4Ms6", 0)
                .unwrap()
                .verdict,
            Verdict::Real
        );
        assert_eq!(
            stripe_at(b"sk_test_4eC39HqLyjWDarjtT1zdp7dc", 0)
                .unwrap()
                .verdict,
            Verdict::Test
        );
        assert_eq!(
            stripe_at(b"sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", 0)
                .unwrap()
                .verdict,
            Verdict::Placeholder
        );
        assert!(stripe_at(b"pk_live_51HqL8yKz3Bv7Nw2Qx9Rt4Ms6", 0).is_none());
        assert!(stripe_at(b"sk_live_short", 0).is_none());

        let g = "AIzaSyD4kX9mQ2vR7tN1pL8sW3yB6cF0hJ5gK2a";
        assert_eq!(g.len(), 39);
        assert!(google_at(g.as_bytes(), 0).is_some());
        assert!(google_at(b"AIzaSyD4kX9mQ2vR7tN1pL8sW3yB6cF0hJ5gK2ab", 0).is_none());
        assert!(google_at(b"AIzaSyD4kX9mQ2vR7tN1pL8sW3yB6cF0hJ5gK2", 0).is_none());
    }

    #[test]
    fn pem_rules() {
        let mut ends = PemEnds::default();
        let pem =
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx7Qm\n-----END RSA PRIVATE KEY-----";
        let t = format!("{pem} trailing");
        assert_eq!(
            pem_at(t.as_bytes(), 0, 4096, &mut ends).unwrap().end,
            pem.len()
        );
        let mut ends = PemEnds::default();
        let cut = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\"";
        assert_eq!(pem_at(cut, 0, 4096, &mut ends).unwrap().end, cut.len() - 1);
        let mut ends = PemEnds::default();
        assert!(pem_at(b"-----BEGIN PUBLIC KEY-----\nMIIB", 0, 4096, &mut ends).is_none());
        let mut ends = PemEnds::default();
        assert!(pem_at(
            b"-----BEGIN PRIVATE KEY----- is the header",
            0,
            4096,
            &mut ends
        )
        .is_none());
        assert!(pem_at(b"-----BEGIN CERTIFICATE-----", 0, 4096, &mut ends).is_none());
        assert_eq!(pem_header(pem), "-----BEGIN RSA PRIVATE KEY-----");
    }

    #[test]
    fn pwhash_rules() {
        let ok = |s: &str| pwhash_at(s.as_bytes(), 0).map(|sp| sp.end);
        let bcrypt = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW";
        assert_eq!(ok(bcrypt), Some(bcrypt.len()));
        assert_eq!(pwhash_prefix(bcrypt), "$2b$12$");
        let argon = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
        assert_eq!(ok(argon), Some(argon.len()));
        assert_eq!(pwhash_prefix(argon), "$argon2id$");
        let sha512 = format!("$6$rounds=5000$saltsalt${}", "a".repeat(86));
        assert_eq!(ok(&sha512), Some(sha512.len()));
        let md5 = "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/";
        assert_eq!(ok(md5), Some(md5.len()));
        let django = "pbkdf2_sha256$260000$Qm9dS2x1$4dk8ZbK0c3tZ7m8yq5lG3yYzT2hVx9wJcQk1r2s3t4U=";
        assert_eq!(ok(django), Some(django.len()));
        assert_eq!(ok("$2b$12$tooshort"), None);
        assert_eq!(ok("$1$ costs"), None);
        assert_eq!(ok("$6$salt$short"), None);
        assert!(pwhash_at(
            b"x$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            1
        )
        .is_none());
    }

    #[test]
    fn ipv4_rules() {
        let v = b"10.1.2.3";
        let g = [(0, 2), (3, 4), (5, 6), (7, 8)];
        assert_eq!(ipv4_parse(v, &g), Some([10, 1, 2, 3]));
        assert_eq!(
            ipv4_parse(b"256.1.2.3", &[(0, 3), (4, 5), (6, 7), (8, 9)]),
            None
        );
        assert_eq!(
            ipv4_parse(b"01.1.2.3", &[(0, 2), (3, 4), (5, 6), (7, 8)]),
            None
        );
        assert_eq!(ipv4_parse(b"1.2.3", &[(0, 1), (2, 3), (4, 5)]), None);
        assert_eq!(ipv4_verdict([8, 8, 8, 8]), Some(Verdict::Real));
        assert_eq!(ipv4_verdict([192, 168, 1, 1]), Some(Verdict::Real));
        assert_eq!(ipv4_verdict([203, 0, 113, 7]), Some(Verdict::Test));
        assert_eq!(ipv4_verdict([127, 0, 0, 1]), None);
        assert_eq!(ipv4_verdict([0, 0, 0, 0]), None);
        assert_eq!(ipv4_verdict([255, 255, 255, 255]), None);
        assert_eq!(ipv4_verdict([239, 1, 1, 1]), None);
    }

    #[test]
    fn date_rules() {
        let y = (1900, 2030);
        assert_eq!(parse_date(b"1990-01-31", y), Some((1990, 1, 31)));
        assert_eq!(parse_date(b"1990-01-31T00:00:00Z", y), Some((1990, 1, 31)));
        assert_eq!(parse_date(b"12/31/1985", y), Some((1985, 12, 31)));
        assert_eq!(parse_date(b"31/12/1985", y), Some((1985, 12, 31)));
        assert_eq!(parse_date(b"31.12.1985", y), Some((1985, 12, 31)));
        assert_eq!(parse_date(b"19851231", y), Some((1985, 12, 31)));
        assert_eq!(parse_date(b"2000-02-29", y), Some((2000, 2, 29)));
        assert_eq!(parse_date(b"1900-02-29", y), None);
        assert_eq!(parse_date(b"1990-13-01", y), None);
        assert_eq!(parse_date(b"1990-04-31", y), None);
        assert_eq!(parse_date(b"1850-01-01", y), None);
        assert_eq!(parse_date(b"2099-01-01", y), None);
        assert_eq!(parse_date(b"hello", y), None);
        assert_eq!(parse_date(b"1990-01-31-01", y), None);
        assert_eq!(parse_date(b"", y), None);
    }

    #[test]
    fn phone_rules() {
        let plus = |s: &str| phone_plus_at(s.as_bytes(), 0).map(|sp| (sp.end, sp.verdict));
        assert_eq!(plus("+14155552671"), Some((12, Verdict::Real)));
        assert_eq!(plus("+1 (415) 555-2671"), Some((17, Verdict::Real)));
        assert_eq!(plus("+44 20 7946 0958"), Some((16, Verdict::Real)));
        assert_eq!(plus("+49-30-1234567"), Some((14, Verdict::Real)));
        assert_eq!(plus("+1 415 555 0123").map(|x| x.1), Some(Verdict::Test));
        assert_eq!(plus("+1700000000"), None); // +1 needs 11 digits
        assert_eq!(plus("+12345"), None);
        assert_eq!(plus("+0123456789012"), None);
        assert_eq!(plus("+1234567890123456"), None); // 16 digits
        assert_eq!(plus("+11155552671"), None); // area 115? starts with 1
        let paren = |s: &str| phone_paren_at(s.as_bytes(), 0).map(|sp| sp.end);
        assert_eq!(paren("(415) 555-2671"), Some(14));
        assert_eq!(paren("(415)555-2671 x"), Some(13));
        assert_eq!(paren("(115) 555-2671"), None);
        assert_eq!(paren("(415) 555-26712"), None);
        assert_eq!(phone_value(b"415-555-2671"), Some(Verdict::Real));
        assert_eq!(phone_value(b"+44 (0)20 7946 0958"), Some(Verdict::Real));
        assert_eq!(phone_value(b"020 7946 0958 ext. 12"), Some(Verdict::Real));
        assert_eq!(phone_value(b"12345"), None);
        assert_eq!(phone_value(b"1111111111"), None);
        assert_eq!(phone_value(b"call me"), None);
        assert_eq!(phone_value(b"1990-01-31"), None);
        assert_eq!(phone_value(b"+1 555"), None);
    }

    #[test]
    fn code_like_values() {
        for v in [
            "*mut",
            "__u32",
            "String",
            "crate::ObjectIdentifier",
            "serde::from_str(yaml",
            "self.token.clone(",
            "277",
            ":",
            "&str",
            "LPWSTR",
            "MAX_PASSWORD_LEN",
        ] {
            assert!(code_like(v.as_bytes()), "{v}");
        }
        for v in ["hunter2", "P@ss(w)rd", "correct horse", "s3cr3t!"] {
            assert!(!code_like(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn context_values() {
        assert!(password_ok(b"hunter2"));
        assert!(password_ok(b"correct horse battery staple"));
        for v in [
            "",
            " ",
            "true",
            "false",
            "null",
            "********",
            "https://x.io/reset",
            "/forgot",
            "${DB_PASSWORD}",
            "{{ pw }}",
            "xxxx",
            "[FILTERED]",
        ] {
            assert!(!password_ok(v.as_bytes()), "{v}");
        }
        assert!(secret_ok(b"9f8e7d6c5b4a39281706f5e4d3c2b1a0"));
        assert!(secret_ok(b"Zq8Lm2Np7vT1xW9zB4c"));
        for v in [
            "short",
            "aaaaaaaaaaaaaaaaaaaaaaaa",
            "https://example.com/token/abc123",
            "${API_KEY_FROM_ENV_123}",
            "your-api-key-here-0000",
            "has space in it 1234567",
        ] {
            assert!(!secret_ok(v.as_bytes()), "{v}");
        }
        assert!(aws_secret_shape(
            b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8vLmN2pK"
        ));
        assert!(aws_secret_placeholder(
            b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        ));
        assert!(!aws_secret_shape(
            b"da39a3ee5e6b4b0d3255bfef95601890afd80709"
        )); // sha1 hex
    }
}
