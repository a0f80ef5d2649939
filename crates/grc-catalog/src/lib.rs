//! Framework catalogs and crosswalks: the shipped data (ISO/IEC 27001:2022 and 2013, ISO/IEC
//! 27701:2019 and 2025, the HIPAA Security Rule, NIST SP 800-53r5, NIST CSF 2.0) and the
//! published and derived crosswalks between them, checked when loaded; chain traversal with the
//! path shown; OSCAL catalog and profile import and mapping-collection export.
//!
//! No IO: the data files are compiled in, and storage is the persistence crate's job.

pub mod bundle;
pub mod graph;
pub mod model;
pub mod oscal;

pub use bundle::{Bundle, BundleError};
pub use graph::{CatalogIndex, Hop, LinkRef, MappingPath, Overlay};
pub use model::{
    Control, ControlStatus, Crosswalk, Framework, Group, Link, MappingState, Method, Relationship,
    Requirement,
};
