//! Tenants, people and roles: the parsed forms. An invalid value cannot be constructed.

use crate::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a tenant is under HIPAA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantKind {
    /// A hospital, clinic or health plan.
    CoveredEntity,
    /// A vendor that creates, receives, maintains or transmits ePHI for a covered entity.
    BusinessAssociate,
    /// A hybrid entity: both at once.
    Hybrid,
}

impl TenantKind {
    pub const ALL: [TenantKind; 3] = [Self::CoveredEntity, Self::BusinessAssociate, Self::Hybrid];

    /// The stored and command-line form (`covered-entity`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CoveredEntity => "covered-entity",
            Self::BusinessAssociate => "business-associate",
            Self::Hybrid => "hybrid",
        }
    }
}

impl FromStr for TenantKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "kind",
                    "kind must be covered-entity, business-associate or hybrid",
                )
            })
    }
}

/// A member's role in one tenant. The membership row decides it, never the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    ComplianceManager,
    Contributor,
    /// Reads everything, writes nothing.
    Auditor,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Self::Owner,
        Self::ComplianceManager,
        Self::Contributor,
        Self::Auditor,
        Self::Viewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::ComplianceManager => "compliance_manager",
            Self::Contributor => "contributor",
            Self::Auditor => "auditor",
            Self::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let normalized = s.replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == normalized)
            .ok_or_else(|| {
                DomainError::invalid(
                    "role",
                    "role must be owner, compliance_manager, contributor, auditor or viewer",
                )
            })
    }
}

/// A tenant's short name in URLs and the `X-Tenant` header: 2 to 63 characters of lower-case
/// letters, digits and single hyphens, starting with a letter and not ending with a hyphen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let err = |m: &str| DomainError::invalid("slug", m);
        if s.len() < 2 || s.len() > 63 {
            return Err(err("slug must be 2 to 63 characters long"));
        }
        if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(err("slug must start with a lower-case letter"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(err(
                "slug may hold only lower-case letters, digits and hyphens",
            ));
        }
        if s.ends_with('-') || s.contains("--") {
            return Err(err(
                "slug must not end with a hyphen or hold two hyphens in a row",
            ));
        }
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<Slug> for String {
    fn from(value: Slug) -> Self {
        value.0
    }
}
impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address, trimmed and lower-cased. The check is deliberately structural (one `@`,
/// a non-empty local part, a dotted domain, no spaces, at most 254 characters): delivery is
/// what proves an address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim().to_lowercase();
        let err = || DomainError::invalid("email", "not a valid e-mail address");
        if s.is_empty() || s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err());
        }
        let (local, domain) = s.split_once('@').ok_or_else(err)?;
        if local.is_empty()
            || local.len() > 64
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(err());
        }
        Ok(Self(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}
impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A human-readable name (a tenant's, a user's, an API key's): trimmed, 1 to 200 characters,
/// no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name(String);

impl Name {
    pub fn parse(field: &str, s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(DomainError::invalid(field, "must not be empty"));
        }
        if s.chars().count() > 200 {
            return Err(DomainError::invalid(
                field,
                "must be at most 200 characters",
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                field,
                "must not hold control characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["st-marys", "ab", "a1", "medbill-2"] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(64);
        for bad in [
            "",
            "a",
            "1abc",
            "Abc",
            "a_b",
            "ab-",
            "a--b",
            "a b",
            long.as_str(),
            "é",
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Slug::parse(&"a".repeat(63)).map(|s| s.0.len()), Ok(63));
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse("  Alice@Example.ORG ").map(|e| e.0),
            Ok("alice@example.org".to_owned())
        );
        for bad in [
            "",
            "alice",
            "alice@",
            "@x.org",
            "a@b",
            "a b@x.org",
            "a@x..org",
            "a@.x.org",
            "a@x.org.",
            "a@b@x.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_and_kinds_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert_eq!(
            "compliance-manager".parse::<Role>(),
            Ok(Role::ComplianceManager)
        );
        assert!("admin".parse::<Role>().is_err());
        for k in TenantKind::ALL {
            assert_eq!(k.as_str().parse::<TenantKind>(), Ok(k));
        }
        assert!("vendor".parse::<TenantKind>().is_err());
    }

    #[test]
    fn names() {
        assert_eq!(
            Name::parse("name", "  St. Mary's  ").map(|n| n.0),
            Ok("St. Mary's".into())
        );
        assert!(Name::parse("name", "   ").is_err());
        assert!(Name::parse("name", "a\u{0}b").is_err());
        assert!(Name::parse("name", &"x".repeat(201)).is_err());
        assert!(Name::parse("name", &"é".repeat(200)).is_ok());
    }
}
