//! ISMS GraphQL: audits.
