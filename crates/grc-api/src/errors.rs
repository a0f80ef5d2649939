//! The error-code catalogue: the one place where failures become stable codes. Clients switch on
//! `extensions.code`; these never change meaning.

use async_graphql::{Enum, ErrorExtensions, SimpleObject};
use grc_domain::DomainError;
use grc_store::StoreError;

/// A stable error code, sent as `extensions.code` (top-level errors) or `code` (user errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ErrorCode {
    /// No valid credential, or no membership in the requested tenant. HTTP 401.
    Unauthenticated,
    /// Authenticated, but the role may not do this. HTTP 200 with the error (403 before
    /// execution).
    Forbidden,
    /// The object does not exist in the caller's tenant (or is not theirs to see).
    NotFound,
    /// The input is malformed or breaks a rule. HTTP 400 when the document itself is bad.
    BadUserInput,
    /// The change conflicts with the current state (a duplicate, the last owner, ...).
    Conflict,
    /// Too many requests. HTTP 429 with `Retry-After`.
    RateLimited,
    /// Too deep, too complex, too many aliases or tokens. HTTP 400.
    QueryTooComplex,
    /// Something failed on our side; the detail is in the server log under the request id.
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::RateLimited => "RATE_LIMITED",
            Self::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Self::Internal => "INTERNAL",
        }
    }

    pub const ALL: [ErrorCode; 8] = [
        Self::Unauthenticated,
        Self::Forbidden,
        Self::NotFound,
        Self::BadUserInput,
        Self::Conflict,
        Self::RateLimited,
        Self::QueryTooComplex,
        Self::Internal,
    ];
}

/// A top-level GraphQL error with its code.
pub fn gql_error(code: ErrorCode, message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message.into()).extend_with(|_, e| e.set("code", code.as_str()))
}

/// An unexpected failure: logged in full, answered with `INTERNAL` and no detail.
pub fn internal(err: &dyn std::error::Error) -> async_graphql::Error {
    tracing::error!(error = %err, source = ?err.source(), "internal error");
    gql_error(ErrorCode::Internal, "internal error")
}

impl From<StoreErrorExt> for async_graphql::Error {
    fn from(e: StoreErrorExt) -> Self {
        match e.0 {
            StoreError::NotFound => gql_error(ErrorCode::NotFound, "not found"),
            StoreError::Conflict(_) => gql_error(ErrorCode::Conflict, "conflict"),
            StoreError::Rule { code, error } => {
                let u = UserError::from_rule(code, error);
                gql_error(u.code, u.message).extend_with(|_, e| e.set("rule", code))
            }
            other => internal(&other),
        }
    }
}

/// Wraps a store error for `?` in resolvers.
#[derive(Debug)]
pub struct StoreErrorExt(pub StoreError);

impl From<StoreError> for StoreErrorExt {
    fn from(e: StoreError) -> Self {
        Self(e)
    }
}

/// An input or business-rule failure, returned in a mutation payload's `userErrors`.
#[derive(Debug, Clone, SimpleObject)]
pub struct UserError {
    /// The path of the input field at fault, e.g. `["input", "email"]`.
    pub field: Vec<String>,
    pub message: String,
    pub code: ErrorCode,
    /// The stable code of the domain rule broken, where the domain names one (for example
    /// `duplicate-lead-time` for a reminder policy); null otherwise.
    pub rule: Option<String>,
}

impl UserError {
    pub fn new(field: &[&str], code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            field: field.iter().map(|s| (*s).to_owned()).collect(),
            message: message.into(),
            code,
            rule: None,
        }
    }
}

impl UserError {
    /// A broken domain rule with its stable code: `BAD_USER_INPUT` at `input.<field>`.
    pub fn broken_rule(field: &str, rule: &str, message: impl Into<String>) -> Self {
        Self {
            field: std::iter::once("input")
                .chain(field.split('.'))
                .map(str::to_owned)
                .collect(),
            message: message.into(),
            code: ErrorCode::BadUserInput,
            rule: Some(rule.to_owned()),
        }
    }
}

impl UserError {
    /// A rule the store checked with the domain ([`StoreError::Rule`]): invalid input is
    /// `BAD_USER_INPUT` at `input.<field>` (a dotted field is a path), a refused lifecycle step
    /// `CONFLICT`; either way with the rule's stable code.
    pub fn from_rule(code: &str, error: DomainError) -> Self {
        match error {
            DomainError::Invalid(f) => Self::broken_rule(&f.field.join("."), code, f.message),
            other => {
                let mut u = Self::from(other);
                u.field = u
                    .field
                    .iter()
                    .flat_map(|s| s.split('.'))
                    .map(str::to_owned)
                    .collect();
                u.rule = Some(code.to_owned());
                u
            }
        }
    }
}

impl From<DomainError> for UserError {
    fn from(e: DomainError) -> Self {
        let message = e.to_string();
        match e {
            DomainError::Invalid(f) => Self {
                field: std::iter::once("input".to_owned()).chain(f.field).collect(),
                message: f.message,
                code: ErrorCode::BadUserInput,
                rule: None,
            },
            DomainError::NotFound { field, .. } => Self {
                field: vec!["input".into(), field],
                message,
                code: ErrorCode::NotFound,
                rule: None,
            },
            DomainError::Conflict { field, message } => Self {
                field: vec!["input".into(), field],
                message,
                code: ErrorCode::Conflict,
                rule: None,
            },
        }
    }
}

/// What a mutation's work can end in: a user error for the payload, or a top-level error.
#[derive(Debug)]
pub enum MutationError {
    User(UserError),
    Top(async_graphql::Error),
}

impl From<DomainError> for MutationError {
    fn from(e: DomainError) -> Self {
        Self::User(e.into())
    }
}
impl From<UserError> for MutationError {
    fn from(e: UserError) -> Self {
        Self::User(e)
    }
}
impl From<async_graphql::Error> for MutationError {
    fn from(e: async_graphql::Error) -> Self {
        Self::Top(e)
    }
}
impl From<StoreError> for MutationError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Rule { code, error } => Self::User(UserError::from_rule(code, error)),
            other => Self::Top(StoreErrorExt(other).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_catalogue() {
        let codes: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            codes,
            [
                "UNAUTHENTICATED",
                "FORBIDDEN",
                "NOT_FOUND",
                "BAD_USER_INPUT",
                "CONFLICT",
                "RATE_LIMITED",
                "QUERY_TOO_COMPLEX",
                "INTERNAL"
            ]
        );
        // The GraphQL enum value is the same string.
        for c in ErrorCode::ALL {
            assert_eq!(async_graphql::Name::new(c.as_str()).as_str(), c.as_str());
        }
    }

    #[test]
    fn domain_errors_map_to_user_errors() {
        let e: UserError = DomainError::invalid("slug", "too short").into();
        assert_eq!(e.field, ["input", "slug"]);
        assert_eq!(e.code, ErrorCode::BadUserInput);
        let e: UserError = DomainError::conflict("email", "already a member").into();
        assert_eq!(e.code, ErrorCode::Conflict);
    }

    #[test]
    fn store_rules_map_to_user_errors_with_their_code() {
        let e = StoreError::Rule {
            code: "count-below-state-sum",
            error: DomainError::invalid("affected.total", "below the sum"),
        };
        let MutationError::User(u) = e.into() else {
            panic!("a rule is a user error");
        };
        assert_eq!(u.field, ["input", "affected", "total"]);
        assert_eq!(u.code, ErrorCode::BadUserInput);
        assert_eq!(u.rule.as_deref(), Some("count-below-state-sum"));
        let e = StoreError::Rule {
            code: "invalid-transition",
            error: DomainError::conflict("status", "no way back"),
        };
        let MutationError::User(u) = e.into() else {
            panic!("a rule is a user error");
        };
        assert_eq!(u.field, ["input", "status"]);
        assert_eq!(u.code, ErrorCode::Conflict);
        assert_eq!(u.rule.as_deref(), Some("invalid-transition"));
    }
}
