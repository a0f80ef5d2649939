use sea_orm::{DbErr, SqlErr};

/// What can go wrong in the store. The API maps `Conflict` and `NotFound` to user errors and
/// everything else to `INTERNAL` (whose detail is logged, never sent), except `Rule`, which it
/// maps to a user error carrying the rule's stable code.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique or foreign-key constraint refused the change.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid: {0}")]
    Invalid(String),
    /// A rule of the domain refused the input before anything was written (the repositories
    /// that validate with the domain's rules themselves, e.g. incidents): `code` is the rule's
    /// stable code (`discovery-in-future`), `error` the domain error with its field and message
    /// for the API's `userErrors`.
    #[error("{code}: {error}")]
    Rule {
        code: &'static str,
        error: grc_domain::DomainError,
    },
    #[error("database error: {0}")]
    Db(#[source] DbErr),
}

impl From<DbErr> for StoreError {
    fn from(e: DbErr) -> Self {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(m)) => Self::Conflict(m),
            Some(SqlErr::ForeignKeyConstraintViolation(m)) => Self::Conflict(m),
            _ => Self::Db(e),
        }
    }
}

impl From<grc_domain::incidents::IncidentError> for StoreError {
    fn from(e: grc_domain::incidents::IncidentError) -> Self {
        Self::Rule {
            code: e.code(),
            error: e.into(),
        }
    }
}
