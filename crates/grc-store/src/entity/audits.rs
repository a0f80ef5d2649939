//! ISMS entities: audits.
