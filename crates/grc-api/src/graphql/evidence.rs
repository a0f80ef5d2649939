//! ISMS GraphQL: evidence.
