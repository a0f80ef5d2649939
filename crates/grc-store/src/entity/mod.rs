//! sea-orm entities. Tenant-owned tables carry `tenant_id` first in their primary key.

pub mod api_key;
pub mod audit_event;
pub mod audit_head;
pub mod audits;
pub mod catalog;
pub mod evidence;
pub mod incidents;
pub mod isms;
pub mod membership;
pub mod records;
pub mod reminders;
pub mod sharing;
pub mod tenant;
pub mod user;
pub mod vendors;
