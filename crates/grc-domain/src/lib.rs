//! The grc domain: the types, rules and ports of the product.
//!
//! Architecture invariant: this crate does no IO. It knows nothing of HTTP, GraphQL, SQL, Redis
//! or the clock; callers pass in the current time where a rule needs it.

pub mod audit;
pub mod authz;
pub mod certification;
pub mod error;
pub mod ids;
pub mod incidents;
pub mod isms;
pub mod reminders;
pub mod sharing;
pub mod tenancy;
pub mod vendors;
pub mod webhooks;

pub use error::{DomainError, FieldError};
