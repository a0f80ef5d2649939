//! Errors of the domain rules. The API crate maps each variant to one stable error code.

use std::fmt;

/// One input field that failed a rule, with a message meant for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The path of the input field, e.g. `["input", "slug"]`.
    pub field: Vec<String>,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.split('.').map(str::to_owned).collect(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field.join("."), self.message)
    }
}

/// A rule of the domain that a request broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The input is malformed or out of range.
    #[error("invalid input: {0}")]
    Invalid(FieldError),
    /// The thing referred to does not exist in the caller's tenant.
    #[error("{what} not found")]
    NotFound { what: &'static str, field: String },
    /// The change conflicts with the current state (a duplicate, the last owner, ...).
    #[error("{message}")]
    Conflict { field: String, message: String },
}

impl DomainError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(FieldError::new(field, message))
    }
    pub fn not_found(what: &'static str, field: &str) -> Self {
        Self::NotFound {
            what,
            field: field.to_owned(),
        }
    }
    pub fn conflict(field: &str, message: impl Into<String>) -> Self {
        Self::Conflict {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}
