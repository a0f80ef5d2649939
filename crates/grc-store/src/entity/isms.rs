//! ISMS entities: isms.
