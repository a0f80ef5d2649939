//! ISMS GraphQL: isms.
