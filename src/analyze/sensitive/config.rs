//! The `[sensitive]` configuration section and its typed build errors.
//!
//! [`SensitiveConfig`] holds exactly what the operator wrote, over documented defaults
//! (`#[serde(default)]`, unknown keys rejected). It opens nothing and compiles nothing:
//! [`super::Detector::new`] validates it and compiles the custom rules, returning a
//! [`RuleError`] that names the offending rule or limit.

use serde::Deserialize;
use thiserror::Error;

/// Default for [`SensitiveConfig::max_detections_per_tx`].
pub const DEFAULT_MAX_DETECTIONS_PER_TX: usize = 64;
/// Default for [`SensitiveConfig::max_json_depth`].
pub const DEFAULT_MAX_JSON_DEPTH: usize = 32;
/// Default for [`SensitiveConfig::max_values`].
pub const DEFAULT_MAX_VALUES: usize = 200_000;
/// Default for [`SensitiveConfig::max_scan_bytes`] (4 MiB).
pub const DEFAULT_MAX_SCAN_BYTES: usize = 4 << 20;
/// Default for [`SensitiveConfig::max_value_bytes`] (256 KiB).
pub const DEFAULT_MAX_VALUE_BYTES: usize = 256 << 10;
/// Default for [`SensitiveConfig::max_token_bytes`] (16 KiB).
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 << 10;
/// Default for [`SensitiveConfig::max_custom_input_bytes`] (64 KiB).
pub const DEFAULT_MAX_CUSTOM_INPUT_BYTES: usize = 64 << 10;
/// Default for [`SensitiveConfig::dob_min_year`].
pub const DEFAULT_DOB_MIN_YEAR: u16 = 1900;
/// Default for [`SensitiveConfig::dob_max_year`].
pub const DEFAULT_DOB_MAX_YEAR: u16 = 2030;
/// Largest accepted [`SensitiveConfig::max_json_depth`].
pub const MAX_JSON_DEPTH_LIMIT: usize = 1024;

/// `[sensitive]`: what the detector looks for and how much work it may do per transaction.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SensitiveConfig {
    /// Sensitive data detection on (default). Off: no `sensitive[]` items and no sensitive
    /// data findings (a sensor that must not look at payloads).
    pub enabled: bool,
    /// Operator rules, checked after the built-in classes. Default: none.
    pub custom_rules: Vec<CustomRule>,
    /// Detections kept per transaction (the length of the caller's `out` vector); further
    /// ones are dropped and [`super::ScanNotes::detections_capped`] is set. Default 64.
    pub max_detections_per_tx: usize,
    /// JSON nesting walked; deeper containers are skipped and
    /// [`super::ScanNotes::depth_capped`] is set. Default 32, at most 1024.
    pub max_json_depth: usize,
    /// Scalar values (JSON scalars, form/query pairs, headers, path segments) examined per
    /// scan call; the rest is skipped and [`super::ScanNotes::values_capped`] is set.
    /// Default 200 000.
    pub max_values: usize,
    /// Body bytes scanned; the rest is skipped and [`super::ScanNotes::bytes_capped`] is set.
    /// Default 4 MiB.
    pub max_scan_bytes: usize,
    /// Bytes of one value (or header) scanned; the rest is skipped and
    /// [`super::ScanNotes::bytes_capped`] is set. Default 256 KiB.
    pub max_value_bytes: usize,
    /// Longest JWT or PEM block decoded or measured; longer ones are not confirmed
    /// (PEM blocks are then reported up to this length). Default 16 KiB.
    pub max_token_bytes: usize,
    /// Bytes of one value (or text body) that custom value regexes see. Default 64 KiB.
    pub max_custom_input_bytes: usize,
    /// Report IPv4 addresses (bodies and query values only, never headers or paths).
    /// Default true.
    pub ipv4: bool,
    /// Report documented test values (PSP test cards, `sk_test_` keys, example.com
    /// addresses, documentation IP ranges...) with `test_data: true`; when false they are
    /// dropped. Default true.
    pub report_test_data: bool,
    /// Built-in type names (`email`, `phone`...) never reported. Default: none.
    pub disabled_types: Vec<String>,
    /// Earliest plausible birth year for `date_of_birth`. Default 1900.
    pub dob_min_year: u16,
    /// Latest plausible birth year for `date_of_birth`. Default 2030.
    pub dob_max_year: u16,
}

impl Default for SensitiveConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            custom_rules: Vec::new(),
            max_detections_per_tx: DEFAULT_MAX_DETECTIONS_PER_TX,
            max_json_depth: DEFAULT_MAX_JSON_DEPTH,
            max_values: DEFAULT_MAX_VALUES,
            max_scan_bytes: DEFAULT_MAX_SCAN_BYTES,
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            max_custom_input_bytes: DEFAULT_MAX_CUSTOM_INPUT_BYTES,
            ipv4: true,
            report_test_data: true,
            disabled_types: Vec::new(),
            dob_min_year: DEFAULT_DOB_MIN_YEAR,
            dob_max_year: DEFAULT_DOB_MAX_YEAR,
        }
    }
}

fn default_severity() -> String {
    "medium".to_owned()
}

/// One operator rule (`[[sensitive.custom_rules]]`).
///
/// With only `field_pattern`, any non-empty string or number in a matching field is
/// reported (the whole value). With only `value_pattern`, every value is searched (bounded by
/// `max_custom_input_bytes`) and each match is reported. With both, the value regex is
/// searched only in matching fields. Both are `regex` syntax, unanchored (write `^…$` to
/// anchor, `(?i)` for case-insensitive). The field regex sees the leaf name: the header name
/// in lower case, the query/form key, the cookie name, or the last JSON object key.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRule {
    /// Reported as `sensitive[].type`: `[a-z0-9_]`, 1 to 64 characters, not a built-in name.
    pub name: String,
    /// Regex on field names.
    #[serde(default)]
    pub field_pattern: Option<String>,
    /// Regex on values.
    #[serde(default)]
    pub value_pattern: Option<String>,
    /// `info`, `low`, `medium` (default), `high` or `critical`.
    #[serde(default = "default_severity")]
    pub severity: String,
}

pub use crate::analyze::severity::Severity;

/// Why a [`SensitiveConfig`] could not be built into a detector.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RuleError {
    #[error("custom rule #{index}: empty name")]
    EmptyName { index: usize },
    #[error("custom rule {name:?}: name must be 1-64 characters of [a-z0-9_]")]
    BadName { name: String },
    #[error("custom rule {name:?}: name is already used by a built-in type")]
    ReservedName { name: String },
    #[error("custom rule {name:?}: defined twice")]
    DuplicateName { name: String },
    #[error("custom rule {name:?}: needs field_pattern or value_pattern")]
    NoPattern { name: String },
    #[error("custom rule {name:?}: field_pattern: {reason}")]
    BadFieldPattern { name: String, reason: String },
    #[error("custom rule {name:?}: value_pattern: {reason}")]
    BadValuePattern { name: String, reason: String },
    #[error(
        "custom rule {name:?}: unknown severity {severity:?} (info, low, medium, high, critical)"
    )]
    BadSeverity { name: String, severity: String },
    #[error("disabled_types: unknown type {name:?}")]
    UnknownType { name: String },
    #[error("prefilter automaton: {reason}")]
    Prefilter { reason: String },
    #[error("{field} = {value}: {reason}")]
    BadLimit {
        field: &'static str,
        value: usize,
        reason: &'static str,
    },
}

impl SensitiveConfig {
    /// Checks the limits (not the rules: those are compiled by the detector).
    pub(super) fn check_limits(&self) -> Result<(), RuleError> {
        if self.max_json_depth == 0 || self.max_json_depth > MAX_JSON_DEPTH_LIMIT {
            return Err(RuleError::BadLimit {
                field: "max_json_depth",
                value: self.max_json_depth,
                reason: "must be 1..=1024",
            });
        }
        if self.max_token_bytes < 64 {
            return Err(RuleError::BadLimit {
                field: "max_token_bytes",
                value: self.max_token_bytes,
                reason: "must be at least 64",
            });
        }
        if self.dob_min_year > self.dob_max_year {
            return Err(RuleError::BadLimit {
                field: "dob_min_year",
                value: usize::from(self.dob_min_year),
                reason: "must not exceed dob_max_year",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_documented_values() {
        let c = SensitiveConfig::default();
        assert_eq!(c.max_detections_per_tx, 64);
        assert_eq!(c.max_json_depth, 32);
        assert!(c.ipv4);
        assert!(c.report_test_data);
        assert!(c.check_limits().is_ok());
    }

    #[test]
    fn deserializes_partial_section_and_rejects_unknown_keys() {
        let c: SensitiveConfig = serde_json::from_str(
            r#"{"max_detections_per_tx": 8, "ipv4": false,
                "custom_rules": [{"name": "employee_id", "value_pattern": "EMP-[0-9]{6}"}]}"#,
        )
        .unwrap();
        assert_eq!(c.max_detections_per_tx, 8);
        assert!(!c.ipv4);
        assert_eq!(c.max_json_depth, DEFAULT_MAX_JSON_DEPTH);
        assert_eq!(c.custom_rules[0].severity, "medium");
        assert!(serde_json::from_str::<SensitiveConfig>(r#"{"max_detectons": 1}"#).is_err());
    }

    #[test]
    fn limits_are_checked() {
        let c = SensitiveConfig {
            max_json_depth: 0,
            ..SensitiveConfig::default()
        };
        assert!(matches!(
            c.check_limits(),
            Err(RuleError::BadLimit {
                field: "max_json_depth",
                ..
            })
        ));
        let c = SensitiveConfig {
            dob_min_year: 2000,
            dob_max_year: 1990,
            ..SensitiveConfig::default()
        };
        assert!(c.check_limits().is_err());
    }

    #[test]
    fn severity_names_round_trip() {
        for s in [
            Severity::Info,
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ] {
            assert_eq!(Severity::from_name(s.name()), Some(s));
        }
        assert_eq!(Severity::from_name("urgent"), None);
    }

    #[test]
    fn error_display_names_the_rule() {
        let e = RuleError::BadValuePattern {
            name: "emp".into(),
            reason: "unclosed group".into(),
        };
        assert_eq!(
            e.to_string(),
            "custom rule \"emp\": value_pattern: unclosed group"
        );
        let e = RuleError::BadLimit {
            field: "max_json_depth",
            value: 0,
            reason: "must be 1..=1024",
        };
        assert_eq!(e.to_string(), "max_json_depth = 0: must be 1..=1024");
    }
}
