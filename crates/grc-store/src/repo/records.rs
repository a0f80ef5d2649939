//! ISMS repositories: records.
