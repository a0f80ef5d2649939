//! ISMS entities: records.
