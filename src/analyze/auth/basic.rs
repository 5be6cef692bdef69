//! HTTP Basic credentials (RFC 7617): decode `user:password`, judge the password, keep only
//! the user name and the verdict.
//!
//! Guarantee: the password exists only inside [`decode_basic`] and is dropped (the decoded
//! buffer is zeroed) before it returns; [`BasicCred`] holds the user name (cut to
//! `max_field_chars`) and an optional [`WeakReason`]. The common-password list is
//! `common_passwords.txt`, Openwall's John the Ripper `password.lst` (3 545 entries, public
//! domain), and `common_passwords_xato.txt`, the 10 000 most common passwords of zxcvbn's
//! frequency list (MIT; sources in their headers), loaded once per process. A password is
//! also weak when it is a listed word dressed up the usual way: capitals, leetspeak
//! (`P@ssw0rd`) and digits or symbols around it (`password123`, `Summer2024!`).

use std::collections::HashSet;
use std::sync::OnceLock;

use serde::Serialize;

use super::util::{b64_any_decode, bounded_lossy};

const COMMON: &str = include_str!("common_passwords.txt");
const COMMON_XATO: &str = include_str!("common_passwords_xato.txt");

fn common_set() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON
            .lines()
            .chain(COMMON_XATO.lines())
            .filter(|l| !l.starts_with("#!") && !l.is_empty())
            .map(str::to_ascii_lowercase)
            .collect()
    })
}

/// Shortest word that counts as the base of a dressed-up common password.
const MIN_BASE: usize = 4;

/// The word inside a dressed-up password: lower case, leetspeak undone, digits and symbols
/// around it dropped (`P@ssw0rd!` → `password`, `Summer2024!` → `summer`). `None` when
/// nothing was dressed up or what is left is shorter than [`MIN_BASE`].
fn base_word(p: &str) -> Option<String> {
    let core = p.trim_matches(|c: char| !c.is_ascii_alphabetic() && !"@$013457".contains(c));
    let core = core.trim_end_matches(|c: char| c.is_ascii_digit());
    let core = core.trim_start_matches(|c: char| c.is_ascii_digit());
    let word: String = core
        .chars()
        .map(|c| match c {
            '@' | '4' => 'a',
            '$' | '5' => 's',
            '0' => 'o',
            '1' => 'i',
            '3' => 'e',
            '7' => 't',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    (word.len() >= MIN_BASE
        && word.chars().all(|c| c.is_ascii_lowercase())
        && word != p.to_ascii_lowercase())
    .then_some(word)
}

/// Why a Basic password is weak (the first that applies, in this order).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum WeakReason {
    /// No password at all (`user:`).
    Empty,
    /// The password equals the user name (ASCII case ignored).
    SameAsUser,
    /// On the bundled common-password list (ASCII case ignored).
    CommonPassword,
    /// A listed password with capitals, leetspeak, or digits and symbols around it.
    CommonPasswordVariant,
    /// Shorter than `min_password_len` characters.
    TooShort { len: usize, min: usize },
}

impl WeakReason {
    /// The snake_case name (as serialised in `reason`).
    pub fn name(self) -> &'static str {
        match self {
            WeakReason::Empty => "empty",
            WeakReason::SameAsUser => "same_as_user",
            WeakReason::CommonPassword => "common_password",
            WeakReason::CommonPasswordVariant => "common_password_variant",
            WeakReason::TooShort { .. } => "too_short",
        }
    }
}

/// A decoded Basic credential, without its password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BasicCred {
    /// The user-id (lossy UTF-8, cut to `max_field_chars`).
    pub user: String,
    /// Why the password is weak; `None` when it passed every check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weak_password: Option<WeakReason>,
}

/// True when `password` is on the bundled list (ASCII case ignored).
pub fn is_common_password(password: &[u8]) -> bool {
    match std::str::from_utf8(password) {
        Ok(p) => common_set().contains(&p.to_ascii_lowercase()),
        Err(_) => false,
    }
}

/// Judges `password` for `user`: empty, equal to the user name, common, or shorter than
/// `min_len` characters (UTF-8 characters; bytes when not UTF-8).
pub fn password_weakness(user: &[u8], password: &[u8], min_len: usize) -> Option<WeakReason> {
    if password.is_empty() {
        return Some(WeakReason::Empty);
    }
    if password.eq_ignore_ascii_case(user) {
        return Some(WeakReason::SameAsUser);
    }
    if is_common_password(password) {
        return Some(WeakReason::CommonPassword);
    }
    let base = std::str::from_utf8(password).ok().and_then(base_word);
    if base.is_some_and(|b| common_set().contains(&b)) {
        return Some(WeakReason::CommonPasswordVariant);
    }
    let len = std::str::from_utf8(password).map_or(password.len(), |s| s.chars().count());
    if len < min_len {
        return Some(WeakReason::TooShort { len, min: min_len });
    }
    None
}

/// Decodes the token68 of `Authorization: Basic <token68>`. `None` when it is not base64 or
/// has no `:`.
pub fn decode_basic(
    token: &[u8],
    min_password_len: usize,
    max_user_chars: usize,
) -> Option<BasicCred> {
    let mut decoded = b64_any_decode(token)?;
    let result = memchr::memchr(b':', &decoded).map(|colon| {
        let user = decoded.get(..colon).unwrap_or_default();
        let password = decoded.get(colon + 1..).unwrap_or_default();
        BasicCred {
            user: bounded_lossy(user, max_user_chars),
            weak_password: password_weakness(user, password, min_password_len),
        }
    });
    // Best effort: do not leave the password in freed memory.
    decoded.iter_mut().for_each(|b| *b = 0);
    result
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;

    fn basic(userpass: &str) -> Option<BasicCred> {
        decode_basic(STANDARD.encode(userpass).as_bytes(), 8, 256)
    }

    #[test]
    fn list_is_loaded() {
        assert!(common_set().len() > 3000);
        for p in [
            "123456", "password", "qwerty", "letmein", "trustno1", "Password",
        ] {
            assert!(is_common_password(p.as_bytes()), "{p}");
        }
        assert!(!is_common_password(b"correct-horse-battery-staple-9"));
        assert!(!is_common_password(b"\xff\xfe"));
    }

    #[test]
    fn reasons_in_order() {
        assert_eq!(
            basic("alice:").unwrap().weak_password,
            Some(WeakReason::Empty)
        );
        assert_eq!(
            basic("admin:ADMIN").unwrap().weak_password,
            Some(WeakReason::SameAsUser)
        );
        assert_eq!(
            basic("alice:password1").unwrap().weak_password,
            Some(WeakReason::CommonPassword)
        );
        assert_eq!(
            basic("alice:Zq9!x").unwrap().weak_password,
            Some(WeakReason::TooShort { len: 5, min: 8 })
        );
        assert_eq!(
            basic("alice:pässwörd").unwrap().weak_password,
            None,
            "8 characters (10 bytes), not on the list"
        );
        assert_eq!(
            basic("alice:V3ry-l0ng-and-rand0m").unwrap().weak_password,
            None
        );
    }

    #[test]
    fn dressed_up_common_passwords_are_weak() {
        assert_eq!(
            basic("bob:Summer2024!").unwrap().weak_password,
            Some(WeakReason::CommonPasswordVariant)
        );
        for p in [
            "password123",
            "P@ssw0rd!",
            "Summer2024!",
            "Dragon1998#",
            "123monkey",
            "Letmein!!",
        ] {
            let w = basic(&format!("bob:{p}")).unwrap().weak_password;
            assert!(
                matches!(
                    w,
                    Some(WeakReason::CommonPassword | WeakReason::CommonPasswordVariant)
                ),
                "{p}: {w:?}"
            );
        }
        for p in [
            "xK9#mQ2$vLr7",
            "correct-horse-battery-staple-42",
            "V3ry-l0ng-and-rand0m",
            "Tr0ub4dor&3x!",
        ] {
            assert_eq!(
                basic(&format!("bob:{p}")).unwrap().weak_password,
                None,
                "{p}"
            );
        }
        assert_eq!(base_word("2024"), None);
        assert_eq!(base_word("abc1"), None, "base shorter than 4");
        assert_eq!(base_word("password"), None, "nothing dressed up");
    }

    #[test]
    fn decoding_edge_cases() {
        // RFC 7617 example.
        let c = decode_basic(b"QWxhZGRpbjpvcGVuIHNlc2FtZQ==", 8, 256).unwrap();
        assert_eq!(c.user, "Aladdin");
        assert_eq!(c.weak_password, None);
        // Unpadded, and password containing ':'.
        let c = decode_basic(b"dTpwOnE", 8, 256).unwrap();
        assert_eq!(c.user, "u");
        assert!(matches!(
            c.weak_password,
            Some(WeakReason::TooShort { len: 3, .. })
        ));
        // No colon, not base64, empty.
        assert!(basic("justtoken").is_none());
        assert!(decode_basic(b"%%%%", 8, 256).is_none());
        assert!(decode_basic(b"", 8, 256).is_none());
        // Empty user.
        assert_eq!(basic(":secretpw").unwrap().user, "");
        // Long user names are cut.
        let long = format!("{}:x", "u".repeat(1000));
        assert_eq!(basic(&long).unwrap().user.len(), 256);
    }

    #[test]
    fn serialises_without_password() {
        let c = basic("bob:Xq7!zr2").unwrap();
        let j = serde_json::to_string(&c).unwrap();
        assert_eq!(
            j,
            r#"{"user":"bob","weak_password":{"reason":"too_short","len":7,"min":8}}"#
        );
        assert!(!j.contains("Xq7!zr2"));
        assert_eq!(WeakReason::CommonPassword.name(), "common_password");
    }
}
