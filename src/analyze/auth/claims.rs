//! Finds JWT claims that hold personal data or secrets, by name and by value, in a decoded
//! payload. Anyone holding a JWT can read its payload, so such claims are exposed data
//! (`jwt_sensitive_claims`).
//!
//! By name (after lower-casing and dropping `_`, `-`, `.` and spaces): an exact name from
//! [`SENSITIVE_NAMES`], or a name containing one of [`SENSITIVE_PARTS`], whose value is not a
//! boolean, `null` or empty (so `email_verified: true` is not reported). By value, whatever
//! the name: a string that is an e-mail address, a payment card number (15–19 digits, optional
//! spaces or dashes, first digit 2–6, Luhn-valid), or a US SSN (`AAA-GG-SSSS`, valid ranges).
//!
//! Guarantees: at most `max_nodes` JSON nodes are visited, no deeper than `max_depth`, at most
//! `max_found` paths are returned, each at most `max_chars` characters, without duplicates.
//! Paths are dotted (`user.email`); array items add `[]` (`contacts[].phone`).

use serde_json::Value;

use super::util::bounded_str;

/// Normalised claim names that are sensitive when they hold a value.
pub const SENSITIVE_NAMES: &[&str] = &[
    "mail",
    "phone",
    "mobile",
    "mobilephone",
    "mobilenumber",
    "telephone",
    "tel",
    "msisdn",
    "ssn",
    "socialsecuritynumber",
    "nationalid",
    "nin",
    "taxid",
    "tin",
    "passport",
    "passportnumber",
    "driverslicense",
    "pwd",
    "pass",
    "apikey",
    "accesskey",
    "privatekey",
    "cvv",
    "cvc",
    "pan",
    "iban",
    "bankaccount",
    "accountnumber",
    "address",
    "street",
    "streetaddress",
    "homeaddress",
    "postaladdress",
    "dob",
    "birthday",
];

/// Parts of normalised claim names that make them sensitive when they hold a value.
pub const SENSITIVE_PARTS: &[&str] = &[
    "email",
    "password",
    "passwd",
    "secret",
    "phonenumber",
    "creditcard",
    "cardnumber",
    "birthdate",
    "dateofbirth",
];

fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

fn name_is_sensitive(name: &str) -> bool {
    let n = normalize(name);
    if n.ends_with("verified") {
        return false;
    }
    SENSITIVE_NAMES.contains(&n.as_str()) || SENSITIVE_PARTS.iter().any(|p| n.contains(p))
}

fn holds_value(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(_) => false,
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Number(_) => true,
    }
}

/// An e-mail address: `local@domain.tld`, no whitespace, one `@`, a dot inside the domain.
pub fn looks_like_email(s: &str) -> bool {
    if s.len() > 254 || s.chars().any(char::is_whitespace) {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.split('.').count() >= 2
        && domain
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
}

/// A payment card number: 15–19 digits (spaces or dashes allowed between), first digit 2–6,
/// valid Luhn check digit. 13-digit numbers are left out: they are mostly millisecond times.
pub fn looks_like_card_number(s: &str) -> bool {
    if s.len() > 40
        || !s
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
    {
        return false;
    }
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(15..=19).contains(&digits.len()) || !matches!(digits.first(), Some(2..=6)) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 {
                    d2 - 9
                } else {
                    d2
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// A US social security number written `AAA-GG-SSSS`, with an area other than 000, 666 and
/// 900–999, a group other than 00 and a serial other than 0000.
pub fn looks_like_ssn(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 11 || b.get(3) != Some(&b'-') || b.get(6) != Some(&b'-') {
        return false;
    }
    let part = |r: std::ops::Range<usize>| -> Option<u32> {
        let p = s.get(r)?;
        if p.bytes().all(|c| c.is_ascii_digit()) {
            p.parse().ok()
        } else {
            None
        }
    };
    match (part(0..3), part(4..6), part(7..11)) {
        (Some(area), Some(group), Some(serial)) => {
            area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
        }
        _ => false,
    }
}

fn value_is_sensitive(v: &Value) -> bool {
    match v {
        Value::String(s) => looks_like_email(s) || looks_like_card_number(s) || looks_like_ssn(s),
        _ => false,
    }
}

/// The limits of one scan.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ScanLimits {
    pub max_nodes: usize,
    pub max_depth: usize,
    pub max_found: usize,
    pub max_chars: usize,
}

/// Paths of the sensitive claims of `payload` (a JSON object), in document order, and
/// whether a limit stopped the scan before it saw every node.
pub(crate) fn sensitive_claims(
    payload: &serde_json::Map<String, Value>,
    lim: ScanLimits,
) -> (Vec<String>, bool) {
    let mut found: Vec<String> = Vec::new();
    let mut visited = 0usize;
    let mut truncated = payload.len() > lim.max_nodes;
    // Explicit stack (path prefix, depth, value, member name) instead of recursion, never
    // longer than the node budget; pushed in reverse so that results come out in document
    // order.
    let mut stack: Vec<(String, usize, &Value, &str)> = payload
        .iter()
        .take(lim.max_nodes)
        .rev()
        .map(|(k, v)| (String::new(), 1usize, v, k.as_str()))
        .collect();
    while let Some((prefix, depth, value, name)) = stack.pop() {
        if visited >= lim.max_nodes || found.len() >= lim.max_found {
            truncated = true;
            break;
        }
        visited += 1;
        let path = if prefix.is_empty() {
            bounded_str(name, lim.max_chars)
        } else if name.is_empty() {
            bounded_str(&format!("{prefix}[]"), lim.max_chars)
        } else {
            bounded_str(&format!("{prefix}.{name}"), lim.max_chars)
        };
        let by_name = !name.is_empty() && name_is_sensitive(name) && holds_value(value);
        if by_name || value_is_sensitive(value) {
            if !found.contains(&path) {
                found.push(path.clone());
            }
            if by_name {
                // The whole subtree is already reported.
                continue;
            }
        }
        let children = match value {
            Value::Object(map) => map.len(),
            Value::Array(items) => items.len(),
            _ => 0,
        };
        if children == 0 {
            continue;
        }
        if depth >= lim.max_depth {
            truncated = true;
            continue;
        }
        let budget = lim.max_nodes.saturating_sub(visited + stack.len());
        if children > budget {
            truncated = true;
        }
        match value {
            Value::Object(map) => {
                for (k, v) in map.iter().take(budget).rev() {
                    stack.push((path.clone(), depth + 1, v, k.as_str()));
                }
            }
            Value::Array(items) => {
                // Array items: an empty name makes the path `parent[]`.
                for v in items.iter().take(budget).rev() {
                    stack.push((path.clone(), depth + 1, v, ""));
                }
            }
            _ => {}
        }
    }
    (found, truncated)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use serde_json::json;

    const LIM: ScanLimits = ScanLimits {
        max_nodes: 1024,
        max_depth: 8,
        max_found: 32,
        max_chars: 256,
    };

    fn scan(v: Value) -> Vec<String> {
        match v {
            Value::Object(m) => {
                let (found, truncated) = sensitive_claims(&m, LIM);
                assert!(!truncated);
                found
            }
            _ => panic!("object expected"),
        }
    }

    #[test]
    fn oidc_profile_claims() {
        let found = scan(json!({
            "sub": "248289761001", "email": "jane@example.com", "email_verified": true,
            "phone_number": "+1 (425) 555-1212", "phone_number_verified": false,
            "birthdate": "1987-10-16", "address": {"street_address": "1234 Hollywood Blvd."},
            "name": "Jane Doe", "iat": 1516239022
        }));
        assert_eq!(found, vec!["email", "phone_number", "birthdate", "address"]);
    }

    #[test]
    fn secrets_and_values_anywhere() {
        let found = scan(json!({
            "user": {"id": 7, "contact": "bob@corp.example", "password": "hunter2"},
            "client_secret": "abc",
            "cards": ["4111 1111 1111 1111", "hello"],
            "note": "078-05-1120",
            "empty_password": "",
            "ok": {"role": "admin"}
        }));
        assert_eq!(
            found,
            vec![
                "user.contact",
                "user.password",
                "client_secret",
                "cards[]",
                "note"
            ]
        );
    }

    #[test]
    fn plain_claims_are_not_sensitive() {
        assert!(scan(json!({
            "sub": "1234567890", "name": "John Doe", "iat": 1516239022, "admin": true,
            "scope": "read write", "ts": "1700000000000", "email_verified": true,
            "password_changed": false, "id": "000-00-0000"
        }))
        .is_empty());
    }

    #[test]
    fn limits_hold() {
        let mut m = serde_json::Map::new();
        for i in 0..100 {
            m.insert(format!("email{i}"), json!("x@y.zz"));
        }
        let (found, truncated) = sensitive_claims(
            &m,
            ScanLimits {
                max_found: 5,
                ..LIM
            },
        );
        assert_eq!((found.len(), truncated), (5, true));
        let (found, truncated) = sensitive_claims(
            &m,
            ScanLimits {
                max_nodes: 3,
                ..LIM
            },
        );
        assert_eq!((found.len(), truncated), (3, true));
        // Exactly at the cap: not truncated.
        let (found, truncated) = sensitive_claims(
            &m,
            ScanLimits {
                max_found: 100,
                ..LIM
            },
        );
        assert_eq!((found.len(), truncated), (100, false));
        // Depth: the e-mail at depth 4 is not reached with max_depth 3.
        let Value::Object(deep) = json!({"a": {"b": {"c": {"d": "x@y.zz"}}}}) else {
            panic!()
        };
        let (found, truncated) = sensitive_claims(
            &deep,
            ScanLimits {
                max_depth: 3,
                ..LIM
            },
        );
        assert_eq!((found.len(), truncated), (0, true));
        assert_eq!(
            sensitive_claims(&deep, LIM),
            (vec!["a.b.c.d".to_string()], false)
        );
        // A wide array: the stack never outgrows the node budget.
        let Value::Object(wide) = json!({"items": vec![json!({"x": 1}); 5000]}) else {
            panic!()
        };
        let (found, truncated) = sensitive_claims(
            &wide,
            ScanLimits {
                max_nodes: 10,
                ..LIM
            },
        );
        assert_eq!((found.len(), truncated), (0, true));
        // Long paths are cut.
        let long = "k".repeat(1000);
        let mut m = serde_json::Map::new();
        m.insert(long, json!("x@y.zz"));
        let (found, _) = sensitive_claims(
            &m,
            ScanLimits {
                max_chars: 10,
                ..LIM
            },
        );
        assert_eq!(found, vec!["kkkkkkkkkk"]);
    }

    #[test]
    fn value_detectors() {
        assert!(looks_like_email("a.b+c@sub.example.org"));
        assert!(!looks_like_email("not an@email.com"));
        assert!(!looks_like_email("a@b"));
        assert!(!looks_like_email("@b.com"));
        assert!(!looks_like_email("a@@b.com"));
        assert!(!looks_like_email("a@b..com"));
        assert!(looks_like_card_number("4111111111111111"));
        assert!(looks_like_card_number("5500-0000-0000-0004"));
        assert!(looks_like_card_number("378282246310005"));
        assert!(!looks_like_card_number("4111111111111112"));
        assert!(!looks_like_card_number("1700000000000"));
        assert!(!looks_like_card_number("9111111111111111"));
        assert!(!looks_like_card_number("41111111111111x1"));
        assert!(looks_like_ssn("078-05-1120"));
        assert!(!looks_like_ssn("000-05-1120"));
        assert!(!looks_like_ssn("666-05-1120"));
        assert!(!looks_like_ssn("900-05-1120"));
        assert!(!looks_like_ssn("078-00-1120"));
        assert!(!looks_like_ssn("078-05-0000"));
        assert!(!looks_like_ssn("078051120"));
        assert!(!looks_like_ssn("07a-05-1120"));
        assert!(!looks_like_ssn("é78-05-112"));
    }
}
