//! ISMS repositories: isms.
