//! ISMS GraphQL: records.
