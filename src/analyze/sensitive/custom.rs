//! Operator rules from `[[sensitive.custom_rules]]`, compiled once with `regex-automata`'s
//! meta regex (linear-time search, no backtracking).
//!
//! All value regexes are also compiled into one multi-pattern regex, so a value that matches
//! no rule costs one search; only rules that matched are then searched one by one for their
//! match positions. Field regexes likewise form one multi-pattern regex run on the leaf key.
//! Values are searched only in their first `max_input` bytes.

use std::sync::Arc;

use regex_automata::meta::Regex;
use regex_automata::{Input, PatternSet};

use super::config::{CustomRule, RuleError, Severity};
use super::{CustomType, DataType};

struct Compiled {
    kind: DataType,
    field: bool,
    value: Option<Regex>,
}

/// The compiled rules.
pub(super) struct CustomRules {
    rules: Vec<Compiled>,
    /// All field patterns; pattern i belongs to rule `field_owner[i]`.
    fields: Option<Regex>,
    field_owner: Vec<usize>,
    /// All value patterns; pattern i belongs to rule `value_owner[i]`.
    values: Option<Regex>,
    value_owner: Vec<usize>,
    max_input: usize,
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl CustomRules {
    pub(super) fn new(rules: &[CustomRule], max_input: usize) -> Result<CustomRules, RuleError> {
        let mut out = CustomRules {
            rules: Vec::with_capacity(rules.len()),
            fields: None,
            field_owner: Vec::new(),
            values: None,
            value_owner: Vec::new(),
            max_input,
        };
        let mut field_pats: Vec<&str> = Vec::new();
        let mut value_pats: Vec<&str> = Vec::new();
        for (index, r) in rules.iter().enumerate() {
            if r.name.is_empty() {
                return Err(RuleError::EmptyName { index });
            }
            if !valid_name(&r.name) {
                return Err(RuleError::BadName {
                    name: r.name.clone(),
                });
            }
            if DataType::builtin_from_name(&r.name).is_some() {
                return Err(RuleError::ReservedName {
                    name: r.name.clone(),
                });
            }
            if rules.iter().take(index).any(|o| o.name == r.name) {
                return Err(RuleError::DuplicateName {
                    name: r.name.clone(),
                });
            }
            let severity =
                Severity::from_name(&r.severity).ok_or_else(|| RuleError::BadSeverity {
                    name: r.name.clone(),
                    severity: r.severity.clone(),
                })?;
            if r.field_pattern.is_none() && r.value_pattern.is_none() {
                return Err(RuleError::NoPattern {
                    name: r.name.clone(),
                });
            }
            if let Some(f) = &r.field_pattern {
                Regex::new(f).map_err(|e| RuleError::BadFieldPattern {
                    name: r.name.clone(),
                    reason: e.to_string(),
                })?;
                field_pats.push(f);
                out.field_owner.push(index);
            }
            let value = match &r.value_pattern {
                Some(p) => {
                    let re = Regex::new(p).map_err(|e| RuleError::BadValuePattern {
                        name: r.name.clone(),
                        reason: e.to_string(),
                    })?;
                    value_pats.push(p);
                    out.value_owner.push(index);
                    Some(re)
                }
                None => None,
            };
            out.rules.push(Compiled {
                kind: DataType::Custom(Arc::new(CustomType {
                    name: r.name.clone(),
                    severity,
                })),
                field: r.field_pattern.is_some(),
                value,
            });
        }
        if !field_pats.is_empty() {
            out.fields =
                Some(
                    Regex::new_many(&field_pats).map_err(|e| RuleError::BadFieldPattern {
                        name: "(combined)".into(),
                        reason: e.to_string(),
                    })?,
                );
        }
        if !value_pats.is_empty() {
            out.values =
                Some(
                    Regex::new_many(&value_pats).map_err(|e| RuleError::BadValuePattern {
                        name: "(combined)".into(),
                        reason: e.to_string(),
                    })?,
                );
        }
        Ok(out)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Runs the rules on one value. `key` is the leaf field name (None for text bodies: field
    /// rules are then skipped). `report(kind, start, end)` returns false to stop.
    pub(super) fn check(
        &self,
        key: Option<&[u8]>,
        value: &[u8],
        report: &mut dyn FnMut(&DataType, usize, usize) -> bool,
    ) {
        if self.rules.is_empty() {
            return;
        }
        let mut field_hit = vec![false; self.rules.len()];
        if let (Some(re), Some(k)) = (&self.fields, key) {
            let mut set = PatternSet::new(re.pattern_len());
            re.which_overlapping_matches(&Input::new(k), &mut set);
            for pid in set.iter() {
                if let Some(&owner) = self.field_owner.get(pid.as_usize()) {
                    if let Some(slot) = field_hit.get_mut(owner) {
                        *slot = true;
                    }
                }
            }
        }
        let input = value
            .get(..value.len().min(self.max_input))
            .unwrap_or_default();
        let mut value_hit = vec![false; self.rules.len()];
        if let Some(re) = &self.values {
            let mut set = PatternSet::new(re.pattern_len());
            re.which_overlapping_matches(&Input::new(input), &mut set);
            for pid in set.iter() {
                if let Some(&owner) = self.value_owner.get(pid.as_usize()) {
                    if let Some(slot) = value_hit.get_mut(owner) {
                        *slot = true;
                    }
                }
            }
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let fh = field_hit.get(i).copied().unwrap_or(false);
            let vh = value_hit.get(i).copied().unwrap_or(false);
            if rule.field && !fh {
                continue;
            }
            match &rule.value {
                Some(re) if vh => {
                    for m in re.find_iter(input) {
                        if m.is_empty() {
                            continue;
                        }
                        if !report(&rule.kind, m.start(), m.end()) {
                            return;
                        }
                    }
                }
                Some(_) => {}
                None => {
                    let t = value.trim_ascii();
                    if !t.is_empty() {
                        let start = value.len() - value.trim_ascii_start().len();
                        if !report(&rule.kind, start, start + t.len()) {
                            return;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, f: Option<&str>, v: Option<&str>) -> CustomRule {
        CustomRule {
            name: name.into(),
            field_pattern: f.map(Into::into),
            value_pattern: v.map(Into::into),
            severity: "high".into(),
        }
    }

    fn run(rules: &CustomRules, key: Option<&str>, value: &str) -> Vec<(String, String)> {
        let mut got = Vec::new();
        rules.check(key.map(str::as_bytes), value.as_bytes(), &mut |k, s, e| {
            got.push((k.name().to_owned(), value[s..e].to_owned()));
            true
        });
        got
    }

    #[test]
    fn value_field_and_both() {
        let rules = CustomRules::new(
            &[
                rule("employee_id", None, Some("EMP-[0-9]{6}")),
                rule("internal_note", Some("(?i)^internal_?notes?$"), None),
                rule("acct", Some("^account$"), Some("[0-9]{8}")),
            ],
            4096,
        )
        .unwrap();
        assert_eq!(
            run(&rules, None, "ids EMP-123456 and EMP-654321"),
            vec![
                ("employee_id".to_owned(), "EMP-123456".to_owned()),
                ("employee_id".to_owned(), "EMP-654321".to_owned())
            ]
        );
        assert_eq!(
            run(&rules, Some("InternalNotes"), "  call him "),
            vec![("internal_note".to_owned(), "call him".to_owned())]
        );
        assert!(run(&rules, Some("internal_notes"), "   ").is_empty());
        assert!(run(&rules, None, "call him").is_empty());
        assert_eq!(run(&rules, Some("account"), "no 12345678").len(), 1);
        assert!(run(&rules, Some("other"), "no 12345678").is_empty());
    }

    #[test]
    fn input_is_capped() {
        let rules = CustomRules::new(&[rule("tail", None, Some("TAIL"))], 16).unwrap();
        let v = format!("{}TAIL", "x".repeat(100));
        assert!(run(&rules, None, &v).is_empty());
        assert_eq!(run(&rules, None, "xxTAIL").len(), 1);
    }

    #[test]
    fn errors_name_the_rule() {
        let err = |r: CustomRule| CustomRules::new(&[r], 16).err().unwrap();
        assert!(
            matches!(err(rule("bad", None, Some("(unclosed"))), RuleError::BadValuePattern { name, .. } if name == "bad")
        );
        assert!(
            matches!(err(rule("bad", Some("[z-a]"), None)), RuleError::BadFieldPattern { name, .. } if name == "bad")
        );
        assert!(matches!(
            err(rule("email", None, Some("x"))),
            RuleError::ReservedName { .. }
        ));
        assert!(matches!(
            err(rule("Bad Name", None, Some("x"))),
            RuleError::BadName { .. }
        ));
        assert!(matches!(
            err(rule("", None, Some("x"))),
            RuleError::EmptyName { index: 0 }
        ));
        assert!(matches!(
            err(rule("none", None, None)),
            RuleError::NoPattern { .. }
        ));
        let mut r = rule("sev", None, Some("x"));
        r.severity = "urgent".into();
        assert!(matches!(err(r), RuleError::BadSeverity { .. }));
        let dup = CustomRules::new(
            &[rule("a", None, Some("x")), rule("a", None, Some("y"))],
            16,
        );
        assert!(matches!(dup, Err(RuleError::DuplicateName { .. })));
        let msg = err(rule("bad", None, Some("(unclosed"))).to_string();
        assert!(
            msg.starts_with("custom rule \"bad\": value_pattern:"),
            "{msg}"
        );
    }
}
