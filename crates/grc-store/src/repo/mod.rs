pub(crate) mod api_keys;
pub(crate) mod audit;
pub(crate) mod audits;
pub(crate) mod catalog;
pub(crate) mod due_items;
pub(crate) mod evidence;
pub(crate) mod incidents;
pub(crate) mod isms;
pub(crate) mod members;
mod ops;
pub(crate) mod platform;
pub(crate) mod records;
pub(crate) mod reminders;
pub(crate) mod sharing;
pub(crate) mod vendors;

use crate::StoreError;
use grc_domain::tenancy::Role;

pub(crate) fn parse_role(s: &str) -> Result<Role, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Invalid(format!("stored role {s:?} is not a role")))
}
