//! ISMS repositories: evidence.
