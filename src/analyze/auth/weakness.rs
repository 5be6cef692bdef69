//! Turns an [`AuthInfo`] into posture weaknesses, each named after a `finding.kind` of
//! EVENTS.md, with a severity, an OWASP API Security Top 10 (2023) category and an evidence
//! object that never holds a secret (no password, token, signature or matching weak secret).
//!
//! Severity and OWASP category per kind:
//!
//! | kind | severity | OWASP API Top 10 2023 |
//! |---|---|---|
//! | `jwt_weak_secret` | critical | API2 Broken Authentication |
//! | `jwt_alg_none` | critical when the response was 2xx, else medium (an attempt) | API2 |
//! | `basic_auth_cleartext` | high | API8 Security Misconfiguration (no TLS) |
//! | `basic_auth_weak_password` | high | API2 |
//! | `jwt_expired` (only reported when the response was 2xx) | high | API2 |
//! | `jwt_no_expiry` | medium | API2 |
//! | `jwt_weak_algorithm` | medium | API2 |
//! | `jwt_sensitive_claims` | medium | API3 Broken Object Property Level Authorization |
//! | `credentials_in_url` | medium | API2 |
//! | `credential_reuse` | medium | API2 |
//! | `jwt_long_lived` | low | API2 |
//!
//! JWT rules skip encrypted tokens (JWE): their claims are unknown and their `alg` is a key
//! management algorithm. The recommended JWS algorithms are [`RECOMMENDED_JWT_ALGS`]; HS256/384/512
//! are not weak by default (`AuthConfig::hs_is_weak`), weak HMAC keys are `jwt_weak_secret`.

use serde::{Serialize, Serializer};
use serde_json::{json, Map, Value};

use super::config::AuthConfig;
use super::credential::Fingerprint;
use super::scheme::Scheme;
use super::AuthInfo;

pub use crate::analyze::severity::Severity;

/// An OWASP API Security Top 10 (2023) category. Displays and serialises as
/// `API2:2023 Broken Authentication`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Owasp {
    /// `API2:2023`.
    pub id: &'static str,
    /// `Broken Authentication`.
    pub name: &'static str,
}

impl Owasp {
    pub const API2_BROKEN_AUTHENTICATION: Owasp = Owasp {
        id: "API2:2023",
        name: "Broken Authentication",
    };
    pub const API3_BROKEN_OBJECT_PROPERTY_LEVEL_AUTHORIZATION: Owasp = Owasp {
        id: "API3:2023",
        name: "Broken Object Property Level Authorization",
    };
    pub const API8_SECURITY_MISCONFIGURATION: Owasp = Owasp {
        id: "API8:2023",
        name: "Security Misconfiguration",
    };
}

impl std::fmt::Display for Owasp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.id, self.name)
    }
}

impl Serialize for Owasp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The auth `finding.kind`s.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WeaknessKind {
    BasicAuthCleartext,
    BasicAuthWeakPassword,
    JwtAlgNone,
    JwtExpired,
    JwtNoExpiry,
    JwtWeakAlgorithm,
    JwtLongLived,
    JwtSensitiveClaims,
    JwtWeakSecret,
    CredentialsInUrl,
    CredentialReuse,
}

impl WeaknessKind {
    /// Every variant, in declaration order.
    pub const ALL: &'static [WeaknessKind] = &[
        WeaknessKind::BasicAuthCleartext,
        WeaknessKind::BasicAuthWeakPassword,
        WeaknessKind::JwtAlgNone,
        WeaknessKind::JwtExpired,
        WeaknessKind::JwtNoExpiry,
        WeaknessKind::JwtWeakAlgorithm,
        WeaknessKind::JwtLongLived,
        WeaknessKind::JwtSensitiveClaims,
        WeaknessKind::JwtWeakSecret,
        WeaknessKind::CredentialsInUrl,
        WeaknessKind::CredentialReuse,
    ];

    /// The `finding.kind` value.
    pub fn name(self) -> &'static str {
        match self {
            WeaknessKind::BasicAuthCleartext => "basic_auth_cleartext",
            WeaknessKind::BasicAuthWeakPassword => "basic_auth_weak_password",
            WeaknessKind::JwtAlgNone => "jwt_alg_none",
            WeaknessKind::JwtExpired => "jwt_expired",
            WeaknessKind::JwtNoExpiry => "jwt_no_expiry",
            WeaknessKind::JwtWeakAlgorithm => "jwt_weak_algorithm",
            WeaknessKind::JwtLongLived => "jwt_long_lived",
            WeaknessKind::JwtSensitiveClaims => "jwt_sensitive_claims",
            WeaknessKind::JwtWeakSecret => "jwt_weak_secret",
            WeaknessKind::CredentialsInUrl => "credentials_in_url",
            WeaknessKind::CredentialReuse => "credential_reuse",
        }
    }

    /// The variant with that name.
    pub fn from_name(name: &str) -> Option<WeaknessKind> {
        WeaknessKind::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// The severity from the module table (`jwt_alg_none`: the accepted case).
    pub fn severity(self) -> Severity {
        match self {
            WeaknessKind::JwtWeakSecret | WeaknessKind::JwtAlgNone => Severity::Critical,
            WeaknessKind::BasicAuthCleartext
            | WeaknessKind::BasicAuthWeakPassword
            | WeaknessKind::JwtExpired => Severity::High,
            WeaknessKind::JwtNoExpiry
            | WeaknessKind::JwtWeakAlgorithm
            | WeaknessKind::JwtSensitiveClaims
            | WeaknessKind::CredentialsInUrl
            | WeaknessKind::CredentialReuse => Severity::Medium,
            WeaknessKind::JwtLongLived => Severity::Low,
        }
    }

    /// The OWASP API Security Top 10 (2023) category.
    pub fn owasp(self) -> Owasp {
        match self {
            WeaknessKind::BasicAuthCleartext => Owasp::API8_SECURITY_MISCONFIGURATION,
            WeaknessKind::JwtSensitiveClaims => {
                Owasp::API3_BROKEN_OBJECT_PROPERTY_LEVEL_AUTHORIZATION
            }
            _ => Owasp::API2_BROKEN_AUTHENTICATION,
        }
    }
}

impl std::fmt::Display for WeaknessKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether the request travelled inside TLS (apitap sees plaintext HTTP, so today always
/// `Cleartext`; a TLS-terminating tap would say `Tls`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transport {
    #[default]
    Cleartext,
    Tls,
}

/// One weakness of one request.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Weakness {
    pub kind: WeaknessKind,
    pub severity: Severity,
    pub owasp: Owasp,
    /// `finding.evidence`: small facts, never a secret.
    pub evidence: Map<String, Value>,
}

impl Weakness {
    fn new(kind: WeaknessKind, evidence: Value) -> Self {
        Self::with_severity(kind, kind.severity(), evidence)
    }

    fn with_severity(kind: WeaknessKind, severity: Severity, evidence: Value) -> Self {
        // Absent values are left out, not written as null (EVENTS.md).
        let evidence = match evidence {
            Value::Object(mut m) => {
                m.retain(|_, v| !v.is_null());
                m
            }
            _ => Map::new(),
        };
        Self {
            kind,
            severity,
            owasp: kind.owasp(),
            evidence,
        }
    }

    /// The severity of this occurrence.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The OWASP category.
    pub fn owasp(&self) -> Owasp {
        self.owasp
    }

    /// `credential_reuse` for a credential seen on `hosts` (from [`super::ReuseTracker`]).
    pub fn credential_reuse(fingerprint: &Fingerprint, hosts: &[String]) -> Self {
        Self::new(
            WeaknessKind::CredentialReuse,
            json!({"fingerprint": fingerprint.to_hex(), "hosts": hosts}),
        )
    }
}

/// JWS algorithms that are not `jwt_weak_algorithm` (RFC 7518, RFC 8037, RFC 8812).
pub const RECOMMENDED_JWT_ALGS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "ES256K",
    "EdDSA", "Ed25519", "Ed448", "HS256", "HS384", "HS512",
];

fn is_hs(alg: &str) -> bool {
    matches!(alg, "HS256" | "HS384" | "HS512")
}

/// The weaknesses of one classified request. `info` comes from [`super::classify`] or
/// [`super::AuthAnalyzer`] (only the latter fills `jwt.weak_secret`).
pub fn weaknesses(info: &AuthInfo, cfg: &AuthConfig, transport: Transport) -> Vec<Weakness> {
    let mut out = Vec::new();
    let accepted = info.accepted();
    if info.scheme == Scheme::Basic
        && info.credential.is_some()
        && transport == Transport::Cleartext
    {
        let user = info.basic.as_ref().map(|b| b.user.as_str());
        out.push(Weakness::new(
            WeaknessKind::BasicAuthCleartext,
            json!({"user": user}),
        ));
    }
    if let Some(reason) = info.basic.as_ref().and_then(|b| b.weak_password) {
        let user = info.basic.as_ref().map(|b| b.user.as_str());
        out.push(Weakness::new(
            WeaknessKind::BasicAuthWeakPassword,
            json!({"user": user, "reason": reason.name()}),
        ));
    }
    if let Some(jwt) = info.jwt.as_ref().filter(|j| !j.encrypted) {
        let alg = jwt.alg.as_str();
        if alg.trim().eq_ignore_ascii_case("none") {
            let severity = if accepted == Some(true) {
                Severity::Critical
            } else {
                Severity::Medium
            };
            out.push(Weakness::with_severity(
                WeaknessKind::JwtAlgNone,
                severity,
                json!({"alg": alg, "status": info.response_status}),
            ));
        } else if !RECOMMENDED_JWT_ALGS.contains(&alg) || (cfg.hs_is_weak && is_hs(alg)) {
            out.push(Weakness::new(
                WeaknessKind::JwtWeakAlgorithm,
                json!({"alg": alg}),
            ));
        }
        if jwt.weak_secret == Some(true) {
            out.push(Weakness::new(
                WeaknessKind::JwtWeakSecret,
                json!({"alg": alg}),
            ));
        }
        match jwt.exp {
            None => out.push(Weakness::new(
                WeaknessKind::JwtNoExpiry,
                json!({"exp_present": jwt.has_exp}),
            )),
            Some(exp) => {
                let late = jwt.expired_for_s.is_some_and(|s| s > cfg.expired_leeway_s);
                if late && accepted == Some(true) {
                    out.push(Weakness::new(
                        WeaknessKind::JwtExpired,
                        json!({"exp": exp, "expired_for_s": jwt.expired_for_s, "status": info.response_status}),
                    ));
                }
                if let Some(lifetime) = jwt
                    .effective_lifetime_s()
                    .filter(|l| *l > cfg.jwt_max_lifetime_s)
                {
                    out.push(Weakness::new(
                        WeaknessKind::JwtLongLived,
                        json!({
                            "lifetime_s": lifetime,
                            "max_s": cfg.jwt_max_lifetime_s,
                            "from": if jwt.lifetime_s.is_some() { "iat" } else { "packet_time" },
                        }),
                    ));
                }
            }
        }
        if !jwt.sensitive_claims.is_empty() {
            out.push(Weakness::new(
                WeaknessKind::JwtSensitiveClaims,
                json!({"claims": jwt.sensitive_claims}),
            ));
        }
    }
    if !info.credentials_in_url.is_empty() {
        out.push(Weakness::new(
            WeaknessKind::CredentialsInUrl,
            json!({"keys": info.credentials_in_url}),
        ));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::super::basic::{BasicCred, WeakReason};
    use super::super::jwt::JwtInfo;
    use super::*;

    fn kinds(w: &[Weakness]) -> Vec<&'static str> {
        w.iter().map(|w| w.kind.name()).collect()
    }

    fn jwt_info(alg: &str) -> JwtInfo {
        JwtInfo {
            alg: alg.into(),
            signed: true,
            has_exp: true,
            exp: Some(1000),
            iat: Some(900),
            lifetime_s: Some(100),
            remaining_s: Some(50),
            ..Default::default()
        }
    }

    fn with_jwt(j: JwtInfo, status: Option<u16>) -> AuthInfo {
        AuthInfo {
            scheme: Scheme::Bearer,
            jwt: Some(j),
            response_status: status,
            ..Default::default()
        }
    }

    #[test]
    fn names_severities_owasp() {
        let mut seen = std::collections::HashSet::new();
        for k in WeaknessKind::ALL {
            assert!(seen.insert(k.name()));
            assert_eq!(WeaknessKind::from_name(k.name()), Some(*k));
            assert_eq!(
                serde_json::to_string(k).unwrap(),
                format!("\"{}\"", k.name())
            );
            assert!(k.owasp().to_string().starts_with("API"));
        }
        assert_eq!(WeaknessKind::JwtWeakSecret.severity(), Severity::Critical);
        assert_eq!(WeaknessKind::JwtLongLived.severity(), Severity::Low);
        assert_eq!(
            WeaknessKind::JwtAlgNone.owasp().to_string(),
            "API2:2023 Broken Authentication"
        );
        assert_eq!(
            WeaknessKind::BasicAuthCleartext.owasp().to_string(),
            "API8:2023 Security Misconfiguration"
        );
        assert_eq!(
            WeaknessKind::JwtSensitiveClaims.owasp().to_string(),
            "API3:2023 Broken Object Property Level Authorization"
        );
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
        for (s, n) in [
            (Severity::Info, "info"),
            (Severity::Low, "low"),
            (Severity::Medium, "medium"),
            (Severity::High, "high"),
            (Severity::Critical, "critical"),
        ] {
            assert_eq!(s.to_string(), n);
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{n}\""));
        }
    }

    #[test]
    fn clean_jwt_has_no_weakness() {
        let w = weaknesses(
            &with_jwt(jwt_info("RS256"), Some(200)),
            &AuthConfig::default(),
            Transport::Cleartext,
        );
        assert!(w.is_empty(), "{w:?}");
        let w = weaknesses(
            &with_jwt(jwt_info("HS256"), Some(200)),
            &AuthConfig::default(),
            Transport::Cleartext,
        );
        assert!(w.is_empty(), "HS256 is not weak by default");
        let cfg = AuthConfig {
            hs_is_weak: true,
            ..Default::default()
        };
        let w = weaknesses(
            &with_jwt(jwt_info("HS256"), Some(200)),
            &cfg,
            Transport::Cleartext,
        );
        assert_eq!(kinds(&w), ["jwt_weak_algorithm"]);
    }

    #[test]
    fn alg_none_severity_depends_on_acceptance() {
        let cfg = AuthConfig::default();
        for (alg, status, sev) in [
            ("none", Some(200), Severity::Critical),
            ("NONE", Some(204), Severity::Critical),
            ("nOnE", Some(401), Severity::Medium),
            ("none", None, Severity::Medium),
        ] {
            let w = weaknesses(&with_jwt(jwt_info(alg), status), &cfg, Transport::Cleartext);
            assert_eq!(kinds(&w), ["jwt_alg_none"], "{alg}");
            assert_eq!(w[0].severity(), sev);
            assert_eq!(w[0].evidence["alg"], alg);
            assert_eq!(
                w[0].evidence.contains_key("status"),
                status.is_some(),
                "no nulls"
            );
        }
    }

    #[test]
    fn weak_algorithms() {
        let cfg = AuthConfig::default();
        for alg in ["HS1", "RS1", "hs256", "XYZ", ""] {
            let w = weaknesses(
                &with_jwt(jwt_info(alg), Some(200)),
                &cfg,
                Transport::Cleartext,
            );
            assert_eq!(kinds(&w), ["jwt_weak_algorithm"], "{alg:?}");
        }
        for alg in RECOMMENDED_JWT_ALGS {
            assert!(weaknesses(
                &with_jwt(jwt_info(alg), Some(200)),
                &cfg,
                Transport::Cleartext
            )
            .is_empty());
        }
    }

    #[test]
    fn expiry_rules() {
        let cfg = AuthConfig::default();
        let mut j = jwt_info("ES256");
        j.expired = true;
        j.expired_for_s = Some(3600);
        // Accepted after expiry: finding.
        let w = weaknesses(&with_jwt(j.clone(), Some(200)), &cfg, Transport::Cleartext);
        assert_eq!(kinds(&w), ["jwt_expired"]);
        assert_eq!(w[0].evidence["expired_for_s"], 3600);
        // Rejected or unanswered: the server did its job.
        assert!(weaknesses(&with_jwt(j.clone(), Some(401)), &cfg, Transport::Cleartext).is_empty());
        assert!(weaknesses(&with_jwt(j.clone(), None), &cfg, Transport::Cleartext).is_empty());
        // Within the leeway.
        j.expired_for_s = Some(30);
        assert!(weaknesses(&with_jwt(j, Some(200)), &cfg, Transport::Cleartext).is_empty());
        // No exp at all, or a non-numeric one.
        let mut j = jwt_info("ES256");
        j.exp = None;
        j.has_exp = false;
        let w = weaknesses(&with_jwt(j.clone(), Some(200)), &cfg, Transport::Cleartext);
        assert_eq!(kinds(&w), ["jwt_no_expiry"]);
        assert_eq!(w[0].evidence["exp_present"], false);
        j.has_exp = true;
        let w = weaknesses(&with_jwt(j, Some(200)), &cfg, Transport::Cleartext);
        assert_eq!(w[0].evidence["exp_present"], true);
    }

    #[test]
    fn long_lived() {
        let cfg = AuthConfig::default();
        let mut j = jwt_info("RS256");
        j.lifetime_s = Some(86_401);
        let w = weaknesses(&with_jwt(j.clone(), Some(200)), &cfg, Transport::Cleartext);
        assert_eq!(kinds(&w), ["jwt_long_lived"]);
        assert_eq!(w[0].evidence["from"], "iat");
        assert_eq!(w[0].severity(), Severity::Low);
        j.lifetime_s = Some(86_400);
        assert!(weaknesses(&with_jwt(j.clone(), Some(200)), &cfg, Transport::Cleartext).is_empty());
        j.lifetime_s = None;
        j.remaining_s = Some(30 * 86_400);
        let w = weaknesses(&with_jwt(j, Some(200)), &cfg, Transport::Cleartext);
        assert_eq!(w[0].evidence["from"], "packet_time");
    }

    #[test]
    fn jwe_is_skipped_and_claims_and_secret_reported() {
        let cfg = AuthConfig::default();
        let j = JwtInfo {
            alg: "RSA-OAEP".into(),
            encrypted: true,
            ..Default::default()
        };
        assert!(weaknesses(&with_jwt(j, Some(200)), &cfg, Transport::Cleartext).is_empty());
        let mut j = jwt_info("HS256");
        j.weak_secret = Some(true);
        j.sensitive_claims = vec!["email".into()];
        let w = weaknesses(&with_jwt(j, Some(200)), &cfg, Transport::Cleartext);
        assert_eq!(kinds(&w), ["jwt_weak_secret", "jwt_sensitive_claims"]);
        assert_eq!(w[0].severity(), Severity::Critical);
        assert_eq!(w[1].evidence["claims"][0], "email");
        let s = serde_json::to_value(&w[0]).unwrap();
        assert_eq!(s["kind"], "jwt_weak_secret");
        assert_eq!(s["severity"], "critical");
        assert_eq!(s["owasp"], "API2:2023 Broken Authentication");
        assert_eq!(s["evidence"], json!({"alg": "HS256"}));
    }

    #[test]
    fn basic_and_url_rules() {
        let cfg = AuthConfig::default();
        let info = AuthInfo {
            scheme: Scheme::Basic,
            credential: Some(super::super::Credential {
                kind: super::super::CredentialKind::UserPassword,
                location: super::super::CredentialLocation::Header,
                field: "authorization".into(),
                fingerprint: Fingerprint([1; 32]),
            }),
            basic: Some(BasicCred {
                user: "admin".into(),
                weak_password: Some(WeakReason::CommonPassword),
            }),
            credentials_in_url: vec!["api_key".into()],
            ..Default::default()
        };
        let w = weaknesses(&info, &cfg, Transport::Cleartext);
        assert_eq!(
            kinds(&w),
            [
                "basic_auth_cleartext",
                "basic_auth_weak_password",
                "credentials_in_url"
            ]
        );
        assert_eq!(w[0].evidence["user"], "admin");
        assert_eq!(w[1].evidence["reason"], "common_password");
        assert_eq!(w[2].evidence["keys"], json!(["api_key"]));
        let w = weaknesses(&info, &cfg, Transport::Tls);
        assert_eq!(
            kinds(&w),
            ["basic_auth_weak_password", "credentials_in_url"]
        );
        // Nothing at all.
        assert!(weaknesses(&AuthInfo::default(), &cfg, Transport::Cleartext).is_empty());
    }

    #[test]
    fn reuse_weakness() {
        let w = Weakness::credential_reuse(
            &Fingerprint([0xab; 32]),
            &["a.example".into(), "b.example".into()],
        );
        assert_eq!(w.kind, WeaknessKind::CredentialReuse);
        assert_eq!(w.severity(), Severity::Medium);
        assert_eq!(w.evidence["hosts"], json!(["a.example", "b.example"]));
        assert_eq!(w.evidence["fingerprint"].as_str().unwrap().len(), 64);
        assert_eq!(w.owasp(), Owasp::API2_BROKEN_AUTHENTICATION);
    }
}
