use sea_orm::{DbErr, SqlErr};

/// What can go wrong in the store. The API maps `Conflict` and `NotFound` to user errors and
/// everything else to `INTERNAL` (whose detail is logged, never sent).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique or foreign-key constraint refused the change.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid: {0}")]
    Invalid(String),
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
