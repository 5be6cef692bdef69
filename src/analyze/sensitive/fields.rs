//! Field-name context: which data a field's *name* says its value holds.
//!
//! A name is normalised once (ASCII lower case, only `[a-z0-9]` kept, so `date_of_birth`,
//! `date-of-birth` and `dateOfBirth` all become `dateofbirth`; a bracketed or dotted form
//! key such as `user[email]` or `user.email` uses its last part) and looked up in small
//! tables of exact names, suffixes and stems. The result is a [`KeyCtx`] bit set; it only
//! ever *enables* context checks (password, SSN without dashes, phone, date of birth,
//! secrets) or *suppresses* look-alikes (IPv4 in a `version` field, bare digit runs in
//! `*_id` fields). Names longer than [`MAX_KEY`] bytes are cut before normalising.

use std::hash::{BuildHasherDefault, Hasher};

/// A small multiplicative hasher for the per-body key caches (keys come from the peer, but
/// the caches are bounded and per call, so collisions cost time, never memory).
#[derive(Default)]
pub(super) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            for (d, s) in w.iter_mut().zip(chunk) {
                *d = *s;
            }
            self.mix(u64::from_le_bytes(w));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn mix(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

/// `HashMap` builder for [`FxHasher`].
pub(super) type FxBuild = BuildHasherDefault<FxHasher>;

/// Longest key prefix normalised; longer names are cut (never an error).
pub(super) const MAX_KEY: usize = 64;

/// Context bits derived from a field name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct KeyCtx(u16);

impl KeyCtx {
    pub const NONE: KeyCtx = KeyCtx(0);
    pub const PASSWORD: KeyCtx = KeyCtx(1);
    pub const SECRET: KeyCtx = KeyCtx(1 << 1);
    pub const AWS_SECRET: KeyCtx = KeyCtx(1 << 2);
    pub const SSN: KeyCtx = KeyCtx(1 << 3);
    pub const DOB: KeyCtx = KeyCtx(1 << 4);
    pub const PHONE: KeyCtx = KeyCtx(1 << 5);
    pub const CARD: KeyCtx = KeyCtx(1 << 6);
    pub const VERSION: KeyCtx = KeyCtx(1 << 7);
    pub const ID_LIKE: KeyCtx = KeyCtx(1 << 8);

    pub fn has(self, other: KeyCtx) -> bool {
        self.0 & other.0 != 0
    }

    #[cfg(test)]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Bits that call for a whole-value context check.
    pub fn wants_value_check(self) -> bool {
        self.has(KeyCtx(
            Self::PASSWORD.0
                | Self::SECRET.0
                | Self::AWS_SECRET.0
                | Self::SSN.0
                | Self::DOB.0
                | Self::PHONE.0,
        ))
    }

    fn set(&mut self, other: KeyCtx) {
        self.0 |= other.0;
    }

    /// The context of a key nested under a key with context `parent`: card and phone
    /// context carry over (`{"card": {"number": …}}`, `{"phone": {"value": …}}`), and card
    /// context cancels the id-like suppression.
    pub fn nested_in(self, parent: KeyCtx) -> KeyCtx {
        let mut c = KeyCtx(self.0 | (parent.0 & (Self::CARD.0 | Self::PHONE.0)));
        if c.has(Self::CARD) {
            c.0 &= !Self::ID_LIKE.0;
        }
        c
    }
}

/// A normalised key in a fixed buffer (no allocation).
struct Norm {
    buf: [u8; MAX_KEY],
    len: usize,
}

impl Norm {
    fn new(key: &[u8]) -> Norm {
        let key = last_part(key);
        let mut n = Norm {
            buf: [0; MAX_KEY],
            len: 0,
        };
        for &b in key.iter().take(MAX_KEY) {
            if b.is_ascii_alphanumeric() {
                if let Some(slot) = n.buf.get_mut(n.len) {
                    *slot = b.to_ascii_lowercase();
                    n.len += 1;
                }
            }
        }
        n
    }

    fn as_str(&self) -> &str {
        // Only ASCII alphanumerics were stored.
        std::str::from_utf8(self.buf.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }
}

/// `user[email]` → `email`, `user.email` → `email`, `items[0]` → `items`.
fn last_part(key: &[u8]) -> &[u8] {
    let mut k = key;
    // Strip trailing `]`, `[]` and numeric index parts.
    loop {
        let trimmed = k.strip_suffix(b"]").unwrap_or(k);
        if trimmed.len() == k.len() {
            break;
        }
        match trimmed.iter().rposition(|&b| b == b'[') {
            Some(open) => {
                let inner = trimmed.get(open + 1..).unwrap_or_default();
                if inner.is_empty() || inner.iter().all(u8::is_ascii_digit) {
                    k = trimmed.get(..open).unwrap_or_default();
                } else {
                    return inner;
                }
            }
            None => return trimmed,
        }
    }
    match k.iter().rposition(|&b| b == b'.') {
        Some(dot) if dot + 1 < k.len() => k.get(dot + 1..).unwrap_or(k),
        _ => k,
    }
}

const PASSWORD_SUFFIXES: &[&str] = &["password", "passwd", "passphrase", "pwd", "passwort"];
const PASSWORD_EXACT: &[&str] = &[
    "pass",
    "pw",
    "userpass",
    "motdepasse",
    "contrasena",
    "senha",
    "passcode",
];
const PASSWORD_AFTER: &[&str] = &[
    "confirm",
    "confirmation",
    "repeat",
    "again",
    "2",
    "verify",
    "verification",
    "check",
];
const PASSWORD_NOT: &[&str] = &["forgot", "require", "policy", "hint", "expir", "hash"];

const SECRET_SUFFIXES: &[&str] = &[
    "secret",
    "apikey",
    "token",
    "secretkey",
    "privatekey",
    "accesskey",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "appkey",
    "authkey",
    "credential",
    "credentials",
];
const SECRET_EXACT: &[&str] = &[
    "authorization",
    "proxyauthorization",
    "bearer",
    "sessionkey",
];
const SECRET_NOT_PREFIXES: &[&str] = &[
    "csrf",
    "xsrf",
    "next",
    "page",
    "continuation",
    "sync",
    "pagination",
    "cursor",
    "prev",
    "previous",
    "idempotency",
    "public",
    "pk",
];

const AWS_SECRET_STEMS: &[&str] = &["secretaccesskey", "awssecret", "accesskeysecret"];

/// A US taxpayer identification number of a person is the SSN (or an ITIN, which the SSN
/// ranges reject): `tin` and `taxpayer_id` fields hold one.
const SSN_EXACT: &[&str] = &[
    "ssn",
    "ssnumber",
    "usssn",
    "ssnid",
    "ssnno",
    "ssnnumber",
    "tin",
    "taxpayerid",
    "taxpayeridnumber",
    "taxpayernumber",
];
const SSN_STEMS: &[&str] = &["socialsecurity"];

const DOB_EXACT: &[&str] = &["dob", "bday", "birthday", "birthdate", "geburtsdatum"];
const DOB_SUFFIXES: &[&str] = &["dob", "dateofbirth", "birthdate", "birthday", "birthdt"];

const PHONE_STEMS: &[&str] = &["phone", "mobile", "msisdn", "cellnumber", "cellphone"];
const PHONE_EXACT: &[&str] = &[
    "tel",
    "telno",
    "telnumber",
    "telephone",
    "fax",
    "faxnumber",
    "cell",
    "contactnumber",
    "whatsapp",
];

const CARD_EXACT: &[&str] = &[
    "card",
    "cardnumber",
    "cardno",
    "cardnum",
    "cc",
    "ccnumber",
    "ccnum",
    "ccno",
    "pan",
    "creditcard",
    "creditcardnumber",
    "debitcard",
    "debitcardnumber",
    "paymentcard",
    "cardpan",
];

/// Version-like fields; a user agent is a list of product versions (`rv:1.9.2.20`).
const VERSION_EXACT: &[&str] = &[
    "v",
    "ver",
    "build",
    "release",
    "firmware",
    "sdk",
    "useragent",
    "ua",
];
const VERSION_STEMS: &[&str] = &["version"];

/// Last words (`order_id`, `createdAt`, `txn-ref`) that mark identifiers and counters.
const ID_WORDS: &[&str] = &[
    "id",
    "ids",
    "uuid",
    "guid",
    "number",
    "no",
    "num",
    "nr",
    "ref",
    "reference",
    "timestamp",
    "ts",
    "time",
    "at",
    "seq",
    "sequence",
    "count",
    "total",
    "amount",
    "nonce",
    "epoch",
    "millis",
    "ms",
    "date",
];
/// Suffixes of the normalised name with the same meaning (`orderid`, `eventtimestamp`).
const ID_SUFFIXES: &[&str] = &["id", "uuid", "guid", "timestamp", "number"];

/// The last word of a key: split at non-alphanumerics and at lower-to-upper case changes.
fn last_word(key: &[u8]) -> &[u8] {
    let key = last_part(key);
    let end = key
        .iter()
        .rposition(u8::is_ascii_alphanumeric)
        .map_or(0, |i| i + 1);
    let mut s = end;
    while s > 0 {
        let b = byte_at(key, s - 1);
        if !b.is_ascii_alphanumeric() {
            break;
        }
        s -= 1;
        if b.is_ascii_uppercase() && s > 0 && byte_at(key, s - 1).is_ascii_lowercase() {
            break;
        }
    }
    key.get(s..end).unwrap_or_default()
}

fn byte_at(v: &[u8], i: usize) -> u8 {
    v.get(i).copied().unwrap_or(0)
}

/// Names of at most this many bytes are remembered by [`classify`]'s per-thread cache.
const CACHED_KEY: usize = 32;
/// Slots of the per-thread cache (direct-mapped: a new name takes its slot's place, so the
/// memory is fixed and field names that repeat across an API's bodies stay in it).
const KEY_CACHE_SLOTS: usize = 2048;

#[derive(Clone, Copy)]
struct CacheSlot {
    /// Name length plus one; 0 for an empty slot.
    len1: u8,
    /// The name's first and last eight bytes (zero-padded): for names of up to 16 bytes
    /// these two words and the length are the whole name.
    w0: u64,
    w1: u64,
    key: [u8; CACHED_KEY],
    ctx: KeyCtx,
}

const EMPTY_SLOT: CacheSlot = CacheSlot {
    len1: 0,
    w0: 0,
    w1: 0,
    key: [0; CACHED_KEY],
    ctx: KeyCtx::NONE,
};

thread_local! {
    /// For [`classify`].
    static KEY_CACHE: std::cell::RefCell<Vec<CacheSlot>> =
        std::cell::RefCell::new(vec![EMPTY_SLOT; KEY_CACHE_SLOTS]);
    /// For JSON walks ([`KeyCache::take`]): apart from the other, so that what a walk's
    /// callback classifies (names in free text) stays cached while the walk holds this one.
    static WALK_KEY_CACHE: std::cell::RefCell<Vec<CacheSlot>> =
        std::cell::RefCell::new(vec![EMPTY_SLOT; KEY_CACHE_SLOTS]);
}

/// Up to eight bytes of `key` from `at` (zero-padded past its end), little-endian.
pub(super) fn load8(key: &[u8], at: usize) -> u64 {
    let rest = key.get(at..).unwrap_or_default();
    // Two overlapping loads of a fixed width cover a short tail without a loop: the bytes
    // they share are the same, so OR-ing them is exact.
    let load = |from: usize, width: usize| -> u64 {
        let mut b = [0u8; 8];
        if let (Some(d), Some(s)) = (b.get_mut(..width), rest.get(from..from + width)) {
            d.copy_from_slice(s);
        }
        u64::from_le_bytes(b)
    };
    match rest.len() {
        0 => 0,
        1 => load(0, 1),
        n @ 2..=3 => load(0, 2) | load(n - 2, 2) << (8 * (n - 2)),
        n @ 4..=7 => load(0, 4) | load(n - 4, 4) << (8 * (n - 4)),
        _ => load(0, 8),
    }
}

/// The cache slot of a name from its length and first and last words (the slot is only a
/// hint: the name is compared in full).
fn slot_of(n: usize, w0: u64, w1: u64) -> usize {
    let h = (w0 ^ w1.rotate_left(29) ^ n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> 40) as usize % KEY_CACHE_SLOTS
}

/// A per-thread field-name cache, taken out of its thread-local home for one JSON walk
/// (one thread-local access per body instead of one per key). A walk nested in another
/// (a JSON string holding JSON) gets an empty one and classifies without caching.
pub(super) struct KeyCache {
    slots: Vec<CacheSlot>,
    walk: bool,
}

impl KeyCache {
    /// Takes this thread's walk cache (an empty one while it is taken elsewhere).
    pub(super) fn take() -> KeyCache {
        Self::take_from(&WALK_KEY_CACHE, true)
    }

    fn take_from(
        key: &'static std::thread::LocalKey<std::cell::RefCell<Vec<CacheSlot>>>,
        walk: bool,
    ) -> KeyCache {
        let slots = key.with(|c| c.try_borrow_mut().map(|mut v| std::mem::take(&mut *v)));
        KeyCache {
            slots: slots.unwrap_or_default(),
            walk,
        }
    }

    /// Gives the cache back to this thread.
    pub(super) fn put_back(self) {
        if self.slots.is_empty() {
            return;
        }
        let home = if self.walk {
            &WALK_KEY_CACHE
        } else {
            &KEY_CACHE
        };
        home.with(|c| {
            if let Ok(mut v) = c.try_borrow_mut() {
                *v = self.slots;
            }
        });
    }

    /// The context of one field name.
    pub(super) fn classify(&mut self, key: &[u8]) -> KeyCtx {
        let n = key.len();
        if n > CACHED_KEY {
            return classify_uncached(key);
        }
        let w0 = load8(key, 0);
        let w1 = if n <= 8 { w0 } else { load8(key, n - 8) };
        let Some(slot) = self.slots.get_mut(slot_of(n, w0, w1)) else {
            return classify_uncached(key);
        };
        if usize::from(slot.len1) == n + 1
            && slot.w0 == w0
            && slot.w1 == w1
            && (n <= 16 || slot.key.get(..n) == Some(key))
        {
            return slot.ctx;
        }
        let ctx = classify_uncached(key);
        slot.len1 = n as u8 + 1;
        (slot.w0, slot.w1) = (w0, w1);
        if let Some(d) = slot.key.get_mut(..n) {
            d.copy_from_slice(key);
        }
        slot.ctx = ctx;
        ctx
    }
}

/// The context of one field name (remembered per thread: names repeat across bodies).
pub(super) fn classify(key: &[u8]) -> KeyCtx {
    let mut cache = KeyCache::take_from(&KEY_CACHE, false);
    let ctx = cache.classify(key);
    cache.put_back();
    ctx
}

/// [`classify`] without the cache.
fn classify_uncached(key: &[u8]) -> KeyCtx {
    let n = Norm::new(key);
    let mut ctx = classify_norm(n.as_str());
    let w = last_word(key);
    if !ctx.has(KeyCtx::CARD)
        && ID_WORDS
            .iter()
            .any(|x| w.eq_ignore_ascii_case(x.as_bytes()))
    {
        ctx.set(KeyCtx::ID_LIKE);
    }
    // A field named just `number` is as often a card's (Stripe's `card[number]`, card
    // objects sent without their parent) as a counter: neither id-like nor card context,
    // so a digit run there must pass the issuer and Luhn checks of any other text.
    if n.as_str() == "number" {
        ctx.0 &= !KeyCtx::ID_LIKE.0;
    }
    ctx
}

fn classify_norm(n: &str) -> KeyCtx {
    let mut ctx = KeyCtx::NONE;
    if n.is_empty() {
        return ctx;
    }
    if is_password(n) {
        ctx.set(KeyCtx::PASSWORD);
    }
    if AWS_SECRET_STEMS.iter().any(|s| n.contains(s)) {
        ctx.set(KeyCtx::AWS_SECRET);
    }
    if (SECRET_SUFFIXES.iter().any(|s| n.ends_with(s)) || SECRET_EXACT.contains(&n))
        && !SECRET_NOT_PREFIXES.iter().any(|p| n.starts_with(p))
    {
        ctx.set(KeyCtx::SECRET);
    }
    if (SSN_EXACT.contains(&n) || SSN_STEMS.iter().any(|s| n.contains(s))) && !n.contains("last") {
        ctx.set(KeyCtx::SSN);
    }
    if DOB_EXACT.contains(&n) || DOB_SUFFIXES.iter().any(|s| n.ends_with(s)) {
        ctx.set(KeyCtx::DOB);
    }
    if PHONE_STEMS.iter().any(|s| n.contains(s)) || PHONE_EXACT.contains(&n) {
        ctx.set(KeyCtx::PHONE);
    }
    if CARD_EXACT.contains(&n) {
        ctx.set(KeyCtx::CARD);
    }
    if VERSION_EXACT.contains(&n) || VERSION_STEMS.iter().any(|s| n.contains(s)) {
        ctx.set(KeyCtx::VERSION);
    }
    if !ctx.has(KeyCtx::CARD) && ID_SUFFIXES.iter().any(|s| n.ends_with(s)) {
        ctx.set(KeyCtx::ID_LIKE);
    }
    ctx
}

fn is_password(n: &str) -> bool {
    if PASSWORD_NOT.iter().any(|s| n.contains(s)) {
        return false;
    }
    if PASSWORD_EXACT.contains(&n) || PASSWORD_SUFFIXES.iter().any(|s| n.ends_with(s)) {
        return true;
    }
    // `password_confirmation`, `passwordRepeat`, `password2`.
    for stem in ["password", "passwd"] {
        if let Some(rest) = n.strip_prefix(stem) {
            return PASSWORD_AFTER.contains(&rest);
        }
        if let Some(i) = n.find(stem) {
            let rest = n.get(i + stem.len()..).unwrap_or_default();
            return PASSWORD_AFTER.contains(&rest);
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(k: &str) -> KeyCtx {
        classify(k.as_bytes())
    }

    /// The cache answers as the classifier does, also for names that share their length,
    /// first and last eight bytes (only the middle differs) and for every length.
    #[test]
    fn load8_reads_every_short_length() {
        let b = b"abcdefghij";
        for n in 0..=10 {
            let mut w = [0u8; 8];
            let k = n.min(8);
            w[..k].copy_from_slice(&b[..k]);
            assert_eq!(load8(&b[..n], 0), u64::from_le_bytes(w), "{n}");
        }
        assert_eq!(load8(b"abc", 5), 0);
    }

    #[test]
    fn cache_agrees_with_the_classifier() {
        let mut names: Vec<String> = Vec::new();
        for mid in ["password", "xxxxxxxx", "cardnumb", "ssnvalue", "aaaaaaaa"] {
            names.push(format!("customer{mid}_address"));
            names.push(format!("billing_{mid}1234567"));
        }
        for n in 0..=40 {
            names.push("ssn".repeat(n / 3 + 1).chars().take(n).collect());
            names.push("p".repeat(n));
        }
        for _ in 0..3 {
            for k in &names {
                assert_eq!(
                    classify(k.as_bytes()),
                    classify_uncached(k.as_bytes()),
                    "{k:?}"
                );
            }
            let mut cache = KeyCache::take();
            for k in &names {
                let got = cache.classify(k.as_bytes());
                assert_eq!(got, classify_uncached(k.as_bytes()), "{k:?}");
            }
            cache.put_back();
        }
    }

    #[test]
    fn normalisation_ignores_case_and_separators() {
        for k in [
            "date_of_birth",
            "dateOfBirth",
            "Date-Of-Birth",
            "DATE_OF_BIRTH",
            "user[dob]",
        ] {
            assert!(c(k).has(KeyCtx::DOB), "{k}");
        }
        assert!(c("user.phone_number").has(KeyCtx::PHONE));
        assert!(c("items[0]").is_empty());
        assert!(c("").is_empty());
        assert!(c(&"x".repeat(10_000)).is_empty());
    }

    #[test]
    fn password_names() {
        for k in [
            "password",
            "Password",
            "passwd",
            "pwd",
            "newPassword",
            "current_password",
            "password_confirmation",
            "passwordRepeat",
            "password2",
            "user[password]",
            "db_pass",
            "pass",
        ] {
            let ctx = c(k);
            if k == "db_pass" {
                assert!(!ctx.has(KeyCtx::PASSWORD), "{k}");
            } else {
                assert!(ctx.has(KeyCtx::PASSWORD), "{k}");
            }
        }
        for k in [
            "password_policy",
            "password_reset_required",
            "forgot_password",
            "passwordHint",
            "password_expires_at",
            "require_password",
            "passwordLength",
            "passport",
            "hashed_password",
            "password_hash",
        ] {
            assert!(!c(k).has(KeyCtx::PASSWORD), "{k}");
        }
    }

    #[test]
    fn secret_names() {
        for k in [
            "api_key",
            "apiKey",
            "x-api-key",
            "client_secret",
            "access_token",
            "refresh_token",
            "secret",
            "authorization",
            "private_key",
        ] {
            assert!(c(k).has(KeyCtx::SECRET), "{k}");
        }
        for k in [
            "csrf_token",
            "next_token",
            "pageToken",
            "token_type",
            "public_key",
            "pk_token",
        ] {
            assert!(!c(k).has(KeyCtx::SECRET), "{k}");
        }
        assert!(c("aws_secret_access_key").has(KeyCtx::AWS_SECRET));
        assert!(c("SecretAccessKey").has(KeyCtx::AWS_SECRET));
        assert!(!c("secret").has(KeyCtx::AWS_SECRET));
    }

    #[test]
    fn pii_names() {
        assert!(c("ssn").has(KeyCtx::SSN));
        assert!(c("social_security_number").has(KeyCtx::SSN));
        assert!(!c("ssn_last4").has(KeyCtx::SSN));
        assert!(c("taxpayer_id").has(KeyCtx::SSN));
        assert!(c("TIN").has(KeyCtx::SSN));
        assert!(!c("tinted").has(KeyCtx::SSN));
        assert!(c("userAgent").has(KeyCtx::VERSION));
        assert!(!c("number").has(KeyCtx::ID_LIKE));
        assert!(c("orderNumber").has(KeyCtx::ID_LIKE));
        assert!(c("birthdate").has(KeyCtx::DOB));
        assert!(c("mobile").has(KeyCtx::PHONE));
        assert!(c("phoneNumber").has(KeyCtx::PHONE));
        assert!(c("tel").has(KeyCtx::PHONE));
        assert!(!c("hotel").has(KeyCtx::PHONE));
        assert!(c("card_number").has(KeyCtx::CARD));
        assert!(!c("card_number").has(KeyCtx::ID_LIKE));
        assert!(c("order_id").has(KeyCtx::ID_LIKE));
        assert!(c("createdAt").has(KeyCtx::ID_LIKE));
        assert!(c("app_version").has(KeyCtx::VERSION));
        assert!(c("txn-ref").has(KeyCtx::ID_LIKE));
        assert!(c("sentAt").has(KeyCtx::ID_LIKE));
        assert!(!c("items").has(KeyCtx::ID_LIKE));
        assert!(!c("format").has(KeyCtx::ID_LIKE));
        assert!(c("number").nested_in(c("card")).has(KeyCtx::CARD));
        assert!(!c("number").nested_in(c("card")).has(KeyCtx::ID_LIKE));
        assert!(!c("policy").nested_in(c("password")).has(KeyCtx::PASSWORD));
    }

    #[test]
    fn last_words() {
        assert_eq!(last_word(b"orderID"), b"ID");
        assert_eq!(last_word(b"createdAt"), b"At");
        assert_eq!(last_word(b"card_number"), b"number");
        assert_eq!(last_word(b"items[0]"), b"items");
        assert_eq!(last_word(b"x-request-id"), b"id");
        assert_eq!(last_word(b"__"), b"");
    }
}
