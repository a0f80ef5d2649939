//! What every mutation shares: settling a result into a payload, text checks, the owner of a
//! record (a member of the tenant), and the contributor's "edits only what it owns" rule.

use super::Authorized;
use super::ids::{Kind, decode_kind};
use crate::errors::{MutationError, UserError};
use async_graphql::{ID, Result};
use chrono::NaiveDate;
use grc_domain::DomainError;
use grc_domain::audit::Actor;
use grc_domain::authz::may_edit_owned;
use grc_domain::ids::UserId;
use grc_store::TenantTx;
use uuid::Uuid;

/// A GraphQL enum whose values are stored as text: `as_str` and `parse` convert, `of` reads a
/// stored value (an unknown one is an internal error: the database's CHECK constraints keep
/// them known).
macro_rules! stored_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
        pub enum $name { $($(#[$vm])* $v),+ }
        impl $name {
            /// The stored value.
            pub fn as_str(self) -> &'static str { match self { $(Self::$v => $s),+ } }
            /// Parses a stored value.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(Self::$v),)+ _ => None }
            }
            #[allow(dead_code)]
            pub(crate) fn of(s: &str) -> async_graphql::Result<Self> {
                Self::parse(s).ok_or_else(|| {
                    $crate::errors::gql_error($crate::errors::ErrorCode::Internal, "internal error")
                })
            }
        }
    };
}
pub(crate) use stored_enum;

/// Today's date (UTC): the default "on" of every computed date field.
pub(crate) fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// A member's `User` id, if any.
pub(crate) fn user_id(u: Option<Uuid>) -> Option<ID> {
    u.map(|u| super::ids::encode(Kind::User, u))
}

/// Records a change to the row `id` of `subject` in the tenant's audit trail, in `tx`.
pub(crate) async fn record(
    tx: &mut TenantTx,
    az: &Authorized,
    action: &str,
    subject: &str,
    id: Uuid,
    change: serde_json::Value,
) -> Result<(), MutationError> {
    super::mutation::record(tx, az, action, subject, id.to_string(), change).await
}

/// Splits a mutation's outcome into its payload fields and user errors.
pub(crate) fn settle<T>(r: Result<T, MutationError>) -> Result<(Option<T>, Vec<UserError>)> {
    match r {
        Ok(v) => Ok((Some(v), Vec::new())),
        Err(MutationError::User(e)) => Ok((None, vec![e])),
        Err(MutationError::Top(e)) => Err(e),
    }
}

pub(crate) fn not_found(what: &'static str, field: &str) -> MutationError {
    DomainError::not_found(what, field).into()
}

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> MutationError {
    DomainError::invalid(field, message).into()
}

pub(crate) fn conflict(field: &str, message: impl Into<String>) -> MutationError {
    DomainError::conflict(field, message).into()
}

/// A required text: trimmed, 1 to `max` characters, no control characters but newline and tab.
pub(crate) fn checked_text(field: &str, value: &str, max: usize) -> Result<String, MutationError> {
    let t = value.trim();
    if t.is_empty() || t.chars().count() > max {
        return Err(invalid(field, format!("must be 1 to {max} characters")));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(t.to_owned())
}

/// An optional text: absent stays absent; present must pass [`checked_text`].
pub(crate) fn optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, MutationError> {
    value.map(|v| checked_text(field, v, max)).transpose()
}

/// A text that may be empty (descriptions): at most `max` characters, no control characters.
pub(crate) fn free_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<String, MutationError> {
    let t = value.unwrap_or("").trim();
    if t.chars().count() > max {
        return Err(invalid(field, format!("must be at most {max} characters")));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(t.to_owned())
}

/// A calendar date within a sane range (1900 to 2200), for due, review and effective dates.
pub(crate) fn checked_date(field: &str, d: NaiveDate) -> Result<NaiveDate, MutationError> {
    let lo = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    let hi = NaiveDate::from_ymd_opt(2200, 12, 31).unwrap_or(NaiveDate::MAX);
    if d < lo || d > hi {
        return Err(invalid(field, "must be a date between 1900 and 2200"));
    }
    Ok(d)
}

/// The user acting, if a user (API keys are nobody's owner).
pub(crate) fn actor_user(az: &Authorized) -> Option<Uuid> {
    match az.actor {
        Actor::User(u) => Some(u),
        _ => None,
    }
}

/// The owner named by a `User` id: must be a member of the tenant. `None` in, `None` out.
pub(crate) async fn member_owner(
    tx: &TenantTx,
    field: &str,
    id: Option<&ID>,
) -> Result<Option<Uuid>, MutationError> {
    let Some(id) = id else { return Ok(None) };
    let user = decode_kind(id, Kind::User).ok_or_else(|| not_found("member", field))?;
    if tx.member(UserId(user)).await?.is_none() {
        return Err(not_found("member", field));
    }
    Ok(Some(user))
}

/// The owner of a new record: the one named, or for a contributor the contributor itself. A
/// contributor may not create records owned by someone else.
pub(crate) async fn new_owner(
    tx: &TenantTx,
    az: &Authorized,
    field: &str,
    id: Option<&ID>,
) -> Result<Option<Uuid>, MutationError> {
    let named = member_owner(tx, field, id).await?;
    let me = actor_user(az);
    if az.role == grc_domain::tenancy::Role::Contributor {
        return match named {
            None => Ok(me),
            Some(o) if Some(o) == me => Ok(named),
            Some(_) => Err(crate::errors::gql_error(
                crate::errors::ErrorCode::Forbidden,
                "a contributor creates records it owns",
            )
            .into()),
        };
    }
    Ok(named)
}

/// The owner of a record after a save: for a new record (`current` is `None`) as
/// [`new_owner`] decides; for an existing one, the member named, or the current owner when none
/// is named. Handing a record to someone else takes an owner or compliance manager (FORBIDDEN
/// otherwise, as in every module).
pub(crate) async fn saved_owner(
    tx: &TenantTx,
    az: &Authorized,
    field: &str,
    named: Option<&ID>,
    current: Option<Option<Uuid>>,
) -> Result<Option<Uuid>, MutationError> {
    let Some(current) = current else {
        return new_owner(tx, az, field, named).await;
    };
    let named = member_owner(tx, field, named).await?;
    if named.is_some() && named != current && !may_edit_owned(az.role, None, actor_user(az)) {
        return Err(crate::errors::gql_error(
            crate::errors::ErrorCode::Forbidden,
            "a contributor keeps the records it owns: ask a compliance manager to reassign",
        )
        .into());
    }
    Ok(named.or(current))
}

/// Refuses (FORBIDDEN) a change to a record owned by `owner` that the caller may not make.
pub(crate) fn require_edit(az: &Authorized, owner: Option<Uuid>) -> Result<(), MutationError> {
    if may_edit_owned(az.role, owner, actor_user(az)) {
        Ok(())
    } else {
        Err(crate::errors::gql_error(
            crate::errors::ErrorCode::Forbidden,
            format!("the {} role may change only the records it owns", az.role),
        )
        .into())
    }
}
