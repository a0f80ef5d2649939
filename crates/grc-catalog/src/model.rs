//! The catalog model: frameworks, their groups and controls, and the links between controls.
//! The same types describe the shipped catalogs, operator imports and tenants' own frameworks.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use uuid::Uuid;

/// Namespace of the deterministic (version 5) ids of shared catalog entries: the same framework
/// key and control ref give the same id on every machine, so ids survive re-loading and upgrades.
pub const ID_NAMESPACE: Uuid = Uuid::from_u128(0x6a0b_1f2e_4c55_4a7e_9d1c_2b3a_5e6f_7081);

/// The id of a shared framework.
pub fn framework_id(key: &str) -> Uuid {
    Uuid::new_v5(&ID_NAMESPACE, format!("framework\u{1f}{key}").as_bytes())
}

/// The id of a control of a shared framework.
pub fn control_id(framework_key: &str, reference: &str) -> Uuid {
    Uuid::new_v5(
        &ID_NAMESPACE,
        format!("control\u{1f}{framework_key}\u{1f}{reference}").as_bytes(),
    )
}

/// The id of a shared crosswalk.
pub fn crosswalk_id(key: &str) -> Uuid {
    Uuid::new_v5(&ID_NAMESPACE, format!("crosswalk\u{1f}{key}").as_bytes())
}

/// The id of a shared link: one per crosswalk, source and target.
pub fn link_id(crosswalk_key: &str, source: Uuid, target: Uuid) -> Uuid {
    Uuid::new_v5(
        &ID_NAMESPACE,
        format!("link\u{1f}{crosswalk_key}\u{1f}{source}\u{1f}{target}").as_bytes(),
    )
}

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $($(#[$vdoc])* #[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// The OSCAL control-mapping relationship vocabulary (NIST IR 8477 set theory).
    Relationship {
        EquivalentTo => "equivalent-to",
        EqualTo => "equal-to",
        SubsetOf => "subset-of",
        SupersetOf => "superset-of",
        IntersectsWith => "intersects-with",
    }
);

impl Relationship {
    /// The same link read from its target to its source.
    pub fn inverse(self) -> Self {
        match self {
            Self::SubsetOf => Self::SupersetOf,
            Self::SupersetOf => Self::SubsetOf,
            other => other,
        }
    }

    /// The relationship of a chain `a -self-> b -next-> c` from `a` to `c`. Only what set theory
    /// guarantees is kept: equal and equivalent links pass the other side through, two subsets
    /// make a subset, two supersets a superset; anything else is only `intersects-with`, which
    /// for a chain means "may share requirements" (composition is not transitive: A∩B and B∩C
    /// do not imply A∩C), and is why chained links are informative until a person reviews them.
    pub fn compose(self, next: Self) -> Self {
        use Relationship::*;
        match (self, next) {
            (EqualTo, other) | (other, EqualTo) => other,
            (EquivalentTo, other) | (other, EquivalentTo) => {
                if matches!(other, EqualTo | EquivalentTo) {
                    EquivalentTo
                } else {
                    other
                }
            }
            (SubsetOf, SubsetOf) => SubsetOf,
            (SupersetOf, SupersetOf) => SupersetOf,
            _ => IntersectsWith,
        }
    }
}

string_enum!(
    /// How a link came to be.
    Method {
        /// Published by the source's author (NIST OLIR, say).
        Published => "published",
        /// Computed by composing published links; carries the path that produced it.
        Derived => "derived",
        /// Added by a tenant for its own view.
        Tenant => "tenant",
    }
);

string_enum!(
    /// A tenant's standing on a link, or a link's default standing.
    MappingState {
        /// Reference only: not coverage until a person confirms it.
        Informative => "informative",
        Confirmed => "confirmed",
        Rejected => "rejected",
    }
);

string_enum!(
    /// Whether a control is in force.
    ControlStatus {
        Active => "active",
        Withdrawn => "withdrawn",
    }
);

string_enum!(
    /// HIPAA Security Rule implementation specifications (45 CFR 164.306(d)).
    Requirement {
        Required => "required",
        Addressable => "addressable",
    }
);

/// A group of controls: a theme, domain, family, section or function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    #[serde(rename = "ref")]
    pub reference: String,
    pub title: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// One control (or clause, standard, implementation specification, enhancement, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Control {
    pub id: Uuid,
    #[serde(rename = "ref")]
    pub reference: String,
    pub title: String,
    pub kind: String,
    pub group: Option<String>,
    pub parent: Option<String>,
    pub tags: Vec<String>,
    pub status: ControlStatus,
    pub requirement: Option<Requirement>,
    pub citation: Option<String>,
    pub documented_information: bool,
    pub baselines: Vec<String>,
    pub aliases: Vec<String>,
    pub confirmed: bool,
    pub note: Option<String>,
    /// Public-domain control text (NIST statements); never ISO text.
    pub text: Option<String>,
    /// Position in the framework's own order.
    pub sort: i32,
}

impl Control {
    /// A control with just its identity: active, confirmed, no attributes, first in order.
    pub fn new(id: Uuid, reference: String, title: String, kind: String) -> Self {
        Self {
            id,
            reference,
            title,
            kind,
            group: None,
            parent: None,
            tags: Vec::new(),
            status: ControlStatus::Active,
            requirement: None,
            citation: None,
            documented_information: false,
            baselines: Vec::new(),
            aliases: Vec::new(),
            confirmed: true,
            note: None,
            text: None,
            sort: 0,
        }
    }

    /// A digest of everything stored for the control, so an upgrade rewrites only what changed.
    pub fn content_hash(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(json))
    }

    /// Whether the control matches a free-text query (ref, title, aliases, text).
    pub fn matches_text(&self, needle_lower: &str) -> bool {
        self.reference.to_lowercase().contains(needle_lower)
            || self.title.to_lowercase().contains(needle_lower)
            || self
                .aliases
                .iter()
                .any(|a| a.to_lowercase().contains(needle_lower))
    }
}

/// A framework with its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Framework {
    pub id: Uuid,
    pub key: String,
    pub name: String,
    pub version: String,
    pub publisher: String,
    pub kind: String,
    pub licence: String,
    pub source: String,
    pub notes: Option<String>,
    pub groups: Vec<Group>,
    pub controls: Vec<Control>,
}

impl Framework {
    /// A digest of the whole framework; equal digests mean nothing to load.
    pub fn checksum(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(json))
    }

    pub fn control(&self, reference: &str) -> Option<&Control> {
        self.controls.iter().find(|c| c.reference == reference)
    }
}

/// A link between two controls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub id: Uuid,
    pub source: Uuid,
    pub target: Uuid,
    pub relationship: Relationship,
    /// For derived links: the intermediate controls that produced the link.
    pub via: Vec<Uuid>,
}

impl Link {
    /// The control at the far end and the relationship as read from the near end: a link read
    /// backwards (`reversed`) goes from its target to its source, with subset and superset
    /// swapped.
    pub fn read(&self, reversed: bool) -> (Uuid, Relationship) {
        if reversed {
            (self.source, self.relationship.inverse())
        } else {
            (self.target, self.relationship)
        }
    }
}

/// A crosswalk: a set of links from one framework to another, with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crosswalk {
    pub id: Uuid,
    pub key: String,
    pub source_framework: String,
    pub target_framework: String,
    pub method: Method,
    pub source: String,
    pub retrieved: Option<String>,
    pub comprehensive: bool,
    pub links: Vec<Link>,
}

impl Crosswalk {
    pub fn checksum(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(json))
    }
}

#[cfg(test)]
mod tests {
    use super::Relationship::*;
    use super::*;

    #[test]
    fn inverse_swaps_only_subset_and_superset() {
        assert_eq!(SubsetOf.inverse(), SupersetOf);
        assert_eq!(SupersetOf.inverse(), SubsetOf);
        for r in [EqualTo, EquivalentTo, IntersectsWith] {
            assert_eq!(r.inverse(), r);
        }
    }

    /// Table written from NIST IR 8477's set semantics: A=B passes the other side through,
    /// A⊂B⊂C gives A⊂C, A⊃B⊃C gives A⊃C, everything else only "may intersect".
    #[test]
    fn composition_keeps_only_what_set_theory_guarantees() {
        let table = [
            (EqualTo, EqualTo, EqualTo),
            (EqualTo, SubsetOf, SubsetOf),
            (SupersetOf, EqualTo, SupersetOf),
            (EquivalentTo, EqualTo, EquivalentTo),
            (EquivalentTo, EquivalentTo, EquivalentTo),
            (EquivalentTo, SubsetOf, SubsetOf),
            (SubsetOf, SubsetOf, SubsetOf),
            (SupersetOf, SupersetOf, SupersetOf),
            (SubsetOf, SupersetOf, IntersectsWith),
            (SupersetOf, SubsetOf, IntersectsWith),
            (IntersectsWith, EqualTo, IntersectsWith),
            (IntersectsWith, SubsetOf, IntersectsWith),
        ];
        for (a, b, want) in table {
            assert_eq!(a.compose(b), want, "{a} then {b}");
        }
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(framework_id("hipaa-sr"), framework_id("hipaa-sr"));
        assert_ne!(framework_id("hipaa-sr"), framework_id("iso27001-2022"));
        assert_ne!(control_id("a", "b.c"), control_id("a.b", "c"));
        assert_eq!(framework_id("hipaa-sr").get_version_num(), 5);
    }

    #[test]
    fn enums_round_trip_their_text() {
        for r in Relationship::ALL {
            assert_eq!(Relationship::parse(r.as_str()), Some(*r));
        }
        assert_eq!(Relationship::parse("related-to"), None);
        assert_eq!(Method::parse("derived"), Some(Method::Derived));
    }
}
