//! ISMS entities: evidence.
