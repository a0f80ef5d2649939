//! ISMS repositories: audits.
