//! Chain traversal over the catalog index: a small hand-built graph whose every path is known,
//! then the shipped bundle (ISO/IEC 27001:2022 Annex A -> HIPAA, direct and through SP 800-53).

use grc_catalog::graph::{MAX_HOPS, MAX_PATHS_PER_PAIR};
use grc_catalog::model::{control_id, crosswalk_id, framework_id, link_id};
use grc_catalog::{
    Bundle, CatalogIndex, Control, Crosswalk, Framework, Hop, Link, LinkRef, MappingPath,
    MappingState, Method, Overlay, Relationship,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use uuid::Uuid;

use Relationship::{EqualTo, EquivalentTo, IntersectsWith, SubsetOf, SupersetOf};

fn control(framework: &str, reference: &str, sort: i32) -> Control {
    let mut c = Control::new(
        control_id(framework, reference),
        reference.to_owned(),
        format!("{framework} {reference}"),
        "control".into(),
    );
    c.sort = sort;
    c
}

fn framework(key: &str, refs: &[&str]) -> Framework {
    Framework {
        id: framework_id(key),
        key: key.to_owned(),
        name: key.to_uppercase(),
        version: "1".into(),
        publisher: "test".into(),
        kind: "control-catalog".into(),
        licence: "tenant".into(),
        source: "hand-built".into(),
        notes: None,
        groups: Vec::new(),
        controls: refs
            .iter()
            .enumerate()
            .map(|(i, r)| control(key, r, i32::try_from(i).expect("small")))
            .collect(),
    }
}

fn c(framework: &str, reference: &str) -> Uuid {
    control_id(framework, reference)
}

fn crosswalk(key: &str, from: &str, to: &str, links: &[(&str, &str, Relationship)]) -> Crosswalk {
    Crosswalk {
        id: crosswalk_id(key),
        key: key.to_owned(),
        source_framework: from.to_owned(),
        target_framework: to.to_owned(),
        method: Method::Published,
        source: "hand-built".into(),
        retrieved: None,
        comprehensive: false,
        links: links
            .iter()
            .map(|(s, t, r)| {
                let (s, t) = (c(from, s), c(to, t));
                Link {
                    id: link_id(key, s, t),
                    source: s,
                    target: t,
                    relationship: *r,
                    via: Vec::new(),
                }
            })
            .collect(),
    }
}

/// The id of a link of the test graph.
fn lid(key: &str, from: (&str, &str), to: (&str, &str)) -> Uuid {
    link_id(key, c(from.0, from.1), c(to.0, to.1))
}

/// X -> Y -> Z:
///
/// ```text
/// x1 -subset-of-----> y1 -subset-of------> z1
/// x1 -superset-of---> y2 -subset-of------> z1
/// x2 -equal-to------> y2 -intersects-with-> z2
/// x2 -intersects----> y3 -equivalent-to--> z2
/// x3 -subset-of-----> y3
/// ```
fn graph() -> CatalogIndex {
    let frameworks = vec![
        framework("x", &["x1", "x2", "x3"]),
        framework("y", &["y1", "y2", "y3"]),
        framework("z", &["z1", "z2"]),
    ];
    let crosswalks = vec![
        crosswalk(
            "x-y",
            "x",
            "y",
            &[
                ("x1", "y1", SubsetOf),
                ("x1", "y2", SupersetOf),
                ("x2", "y2", EqualTo),
                ("x2", "y3", IntersectsWith),
                ("x3", "y3", SubsetOf),
            ],
        ),
        crosswalk(
            "y-z",
            "y",
            "z",
            &[
                ("y1", "z1", SubsetOf),
                ("y2", "z1", SubsetOf),
                ("y2", "z2", IntersectsWith),
                ("y3", "z2", EquivalentTo),
            ],
        ),
    ];
    CatalogIndex::new(7, frameworks, crosswalks)
}

/// The ids of the links a path takes, in order.
fn link_ids(index: &CatalogIndex, overlay: &Overlay, path: &MappingPath) -> Vec<Uuid> {
    path.hops
        .iter()
        .map(|h| match h.link {
            LinkRef::Shared { crosswalk, link } => {
                index.link_at(crosswalk, link).expect("a shared link").1.id
            }
            LinkRef::Tenant(i) => overlay.links[i].id,
        })
        .collect()
}

/// The controls a path visits, source and target included.
fn nodes(index: &CatalogIndex, overlay: &Overlay, path: &MappingPath) -> Vec<Uuid> {
    let mut at = path.source;
    let mut out = vec![at];
    for h in &path.hops {
        let l = match h.link {
            LinkRef::Shared { crosswalk, link } => index
                .link_at(crosswalk, link)
                .expect("a shared link")
                .1
                .clone(),
            LinkRef::Tenant(i) => overlay.links[i].clone(),
        };
        let (from, to) = if h.reversed {
            (l.target, l.source)
        } else {
            (l.source, l.target)
        };
        assert_eq!(from, at, "each hop starts where the last one ended");
        at = to;
        out.push(at);
    }
    assert_eq!(at, path.target, "the last hop ends at the target");
    out
}

fn find<'a>(
    paths: &'a [MappingPath],
    target: Uuid,
    via: &[Uuid],
    index: &CatalogIndex,
    overlay: &Overlay,
) -> &'a MappingPath {
    paths
        .iter()
        .find(|p| p.target == target && link_ids(index, overlay, p) == via)
        .unwrap_or_else(|| panic!("no path to {target} via {via:?} in {paths:#?}"))
}

#[test]
fn the_index_finds_frameworks_controls_links_and_children() {
    let mut fx = framework("x", &["x1", "x2", "x3"]);
    fx.controls[1].parent = Some("x1".into());
    fx.controls[2].parent = Some("x1".into());
    let index = CatalogIndex::new(3, vec![fx], Vec::new());
    assert_eq!(index.revision, 3);
    assert_eq!(
        index.framework_by_key("x").map(|f| f.id),
        Some(framework_id("x"))
    );
    assert_eq!(
        index.framework(framework_id("x")).map(|f| f.key.as_str()),
        Some("x")
    );
    assert_eq!(
        index
            .control(c("x", "x2"))
            .map(|(f, c)| (f.key.as_str(), c.reference.as_str())),
        Some(("x", "x2"))
    );
    assert_eq!(index.children(c("x", "x1")), [c("x", "x2"), c("x", "x3")]);
    assert!(index.children(c("x", "x2")).is_empty());

    let index = graph();
    let (w, l) = index
        .link(lid("x-y", ("x", "x1"), ("y", "y2")))
        .expect("link x1 -> y2");
    assert_eq!(w.key, "x-y");
    assert_eq!(l.relationship, SupersetOf);
    assert_eq!(index.frameworks().len(), 3);
    assert_eq!(index.crosswalks().len(), 2);
    assert!(index.link(Uuid::nil()).is_none());
    assert_eq!(
        index.framework_of(c("z", "z2"), &Overlay::default()),
        Some(framework_id("z"))
    );
    assert_eq!(index.framework_of(Uuid::nil(), &Overlay::default()), None);
}

#[test]
fn one_hop_links_are_read_both_ways() {
    let index = graph();
    let none = Overlay::default();

    let forward = index.paths_from(c("x", "x1"), Some(framework_id("y")), 1, false, &none);
    assert_eq!(forward.len(), 2, "{forward:#?}");
    // Ordered by the target's position in its framework.
    assert_eq!(
        forward.iter().map(|p| p.target).collect::<Vec<_>>(),
        [c("y", "y1"), c("y", "y2")]
    );
    for (p, rel, to) in [
        (&forward[0], SubsetOf, "y1"),
        (&forward[1], SupersetOf, "y2"),
    ] {
        assert_eq!(p.source, c("x", "x1"));
        assert_eq!(p.relationship, rel);
        assert_eq!(
            p.state,
            MappingState::Informative,
            "shared links are informative by default"
        );
        assert_eq!(p.hops.len(), 1);
        assert!(!p.hops[0].reversed);
        assert_eq!(
            link_ids(&index, &none, p),
            [lid("x-y", ("x", "x1"), ("y", to))]
        );
        assert_eq!(index.method_of(p.hops[0].link), Method::Published);
    }
    assert_eq!(
        forward[0].hops[0].link,
        LinkRef::Shared {
            crosswalk: 0,
            link: 0
        }
    );

    // Read backwards: the hop is reversed and subset-of becomes superset-of (and back).
    let back = index.paths_from(c("y", "y1"), Some(framework_id("x")), 1, false, &none);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].target, c("x", "x1"));
    assert_eq!(back[0].relationship, SupersetOf);
    assert_eq!(
        back[0].hops,
        [Hop {
            link: LinkRef::Shared {
                crosswalk: 0,
                link: 0
            },
            reversed: true
        }]
    );

    let back = index.paths_from(c("y", "y2"), Some(framework_id("x")), 1, false, &none);
    let rels: Vec<(Uuid, Relationship, bool)> = back
        .iter()
        .map(|p| (p.target, p.relationship, p.hops[0].reversed))
        .collect();
    assert_eq!(
        rels,
        [
            (c("x", "x1"), SubsetOf, true),
            (c("x", "x2"), EqualTo, true)
        ]
    );

    // No target framework: every neighbour in another framework, both crosswalks.
    let any = index.paths_from(c("y", "y2"), None, 1, false, &none);
    let targets: BTreeSet<Uuid> = any.iter().map(|p| p.target).collect();
    let want: BTreeSet<Uuid> = [c("x", "x1"), c("x", "x2"), c("z", "z1"), c("z", "z2")]
        .into_iter()
        .collect();
    assert_eq!(targets, want);
}

#[test]
fn two_hop_chains_compose_their_relationships() {
    let index = graph();
    let none = Overlay::default();
    let paths = index.paths_from(c("x", "x1"), Some(framework_id("z")), 2, false, &none);
    assert_eq!(paths.len(), 3, "{paths:#?}");
    assert!(
        paths
            .iter()
            .all(|p| p.hops.len() == 2 && p.state == MappingState::Informative)
    );

    let via_y1 = find(
        &paths,
        c("z", "z1"),
        &[
            lid("x-y", ("x", "x1"), ("y", "y1")),
            lid("y-z", ("y", "y1"), ("z", "z1")),
        ],
        &index,
        &none,
    );
    assert_eq!(
        via_y1.relationship, SubsetOf,
        "subset of a subset is a subset"
    );
    assert_eq!(
        nodes(&index, &none, via_y1),
        [c("x", "x1"), c("y", "y1"), c("z", "z1")]
    );
    assert_eq!(
        via_y1.hops,
        [
            Hop {
                link: LinkRef::Shared {
                    crosswalk: 0,
                    link: 0
                },
                reversed: false
            },
            Hop {
                link: LinkRef::Shared {
                    crosswalk: 1,
                    link: 0
                },
                reversed: false
            },
        ]
    );
    let via_y2 = find(
        &paths,
        c("z", "z1"),
        &[
            lid("x-y", ("x", "x1"), ("y", "y2")),
            lid("y-z", ("y", "y2"), ("z", "z1")),
        ],
        &index,
        &none,
    );
    assert_eq!(
        via_y2.relationship, IntersectsWith,
        "a superset then a subset only may intersect"
    );
    let to_z2 = find(
        &paths,
        c("z", "z2"),
        &[
            lid("x-y", ("x", "x1"), ("y", "y2")),
            lid("y-z", ("y", "y2"), ("z", "z2")),
        ],
        &index,
        &none,
    );
    assert_eq!(to_z2.relationship, IntersectsWith);

    // equal-to and equivalent-to pass the other side through.
    let x3 = index.paths_from(c("x", "x3"), Some(framework_id("z")), 2, false, &none);
    assert_eq!(x3.len(), 1);
    assert_eq!((x3[0].target, x3[0].relationship), (c("z", "z2"), SubsetOf));
    let x2 = index.paths_from(c("x", "x2"), Some(framework_id("z")), 2, false, &none);
    let got: BTreeMap<(Uuid, Uuid), Relationship> = x2
        .iter()
        .map(|p| ((p.target, nodes(&index, &none, p)[1]), p.relationship))
        .collect();
    let want: BTreeMap<(Uuid, Uuid), Relationship> = [
        ((c("z", "z1"), c("y", "y2")), SubsetOf), // equal, subset
        ((c("z", "z2"), c("y", "y2")), IntersectsWith), // equal, intersects
        ((c("z", "z2"), c("y", "y3")), IntersectsWith), // intersects, equivalent
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);

    // Backwards along the whole chain: both hops reversed, superset of a superset.
    let back = index.paths_from(c("z", "z1"), Some(framework_id("x")), 2, false, &none);
    let from_y1 = find(
        &back,
        c("x", "x1"),
        &[
            lid("y-z", ("y", "y1"), ("z", "z1")),
            lid("x-y", ("x", "x1"), ("y", "y1")),
        ],
        &index,
        &none,
    );
    assert!(from_y1.hops.iter().all(|h| h.reversed));
    assert_eq!(from_y1.relationship, SupersetOf);

    // Shorter paths come first.
    let mixed = index.paths_from(c("x", "x1"), None, 2, false, &none);
    let lengths: Vec<usize> = mixed.iter().map(|p| p.hops.len()).collect();
    assert!(lengths.windows(2).all(|w| w[0] <= w[1]), "{lengths:?}");
    assert!(lengths.contains(&1) && lengths.contains(&2));
}

#[test]
fn max_hops_bounds_the_walk() {
    let index = graph();
    let none = Overlay::default();
    assert!(
        index
            .paths_from(c("x", "x1"), Some(framework_id("z")), 1, false, &none)
            .is_empty()
    );
    // Zero is read as one, and anything above MAX_HOPS as MAX_HOPS.
    assert_eq!(
        index.paths_from(c("x", "x1"), Some(framework_id("y")), 0, false, &none),
        index.paths_from(c("x", "x1"), Some(framework_id("y")), 1, false, &none)
    );
    assert_eq!(
        index.paths_from(c("x", "x1"), None, 100, false, &none),
        index.paths_from(c("x", "x1"), None, MAX_HOPS, false, &none)
    );
    for hops in 1..=MAX_HOPS {
        let paths = index.paths_from(c("x", "x1"), None, hops, false, &none);
        assert!(paths.iter().all(|p| p.hops.len() <= hops));
        assert!(paths.iter().any(|p| p.hops.len() == hops.min(2)), "{hops}");
    }
}

#[test]
fn chains_never_pass_through_the_source_or_the_target_framework() {
    let index = graph();
    let none = Overlay::default();
    // To Y from x1 in up to three hops. Without the rule there would be x1 -> y2 -> x2 -> y3
    // (through X) and x1 -> y1 -> z1 -> y2 (through Y); only the direct links qualify.
    let paths = index.paths_from(c("x", "x1"), Some(framework_id("y")), 3, false, &none);
    let got: Vec<(Uuid, usize)> = paths.iter().map(|p| (p.target, p.hops.len())).collect();
    assert_eq!(got, [(c("y", "y1"), 1), (c("y", "y2"), 1)]);
    assert!(!paths.iter().any(|p| p.target == c("y", "y3")));

    // Every path of every query: the middle controls are in neither end's framework.
    let all: Vec<Uuid> = index
        .frameworks()
        .iter()
        .flat_map(|f| f.controls.iter().map(|c| c.id))
        .collect();
    for source in &all {
        let source_fw = index.framework_of(*source, &none).expect("shared");
        for target_fw in index.frameworks().iter().map(|f| f.id) {
            for p in index.paths_from(*source, Some(target_fw), MAX_HOPS, false, &none) {
                let visited = nodes(&index, &none, &p);
                assert_eq!(index.framework_of(p.target, &none), Some(target_fw));
                for mid in &visited[1..visited.len() - 1] {
                    let fw = index.framework_of(*mid, &none);
                    assert_ne!(
                        fw,
                        Some(source_fw),
                        "{p:?} passes through the source's framework"
                    );
                    assert_ne!(
                        fw,
                        Some(target_fw),
                        "{p:?} passes through the target's framework"
                    );
                }
                let distinct: HashSet<&Uuid> = visited.iter().collect();
                assert_eq!(distinct.len(), visited.len(), "no control is visited twice");
            }
        }
    }
}

#[test]
fn rejected_links_drop_out_unless_asked_for() {
    let index = graph();
    let rejected = lid("x-y", ("x", "x1"), ("y", "y1"));
    let overlay = Overlay {
        reviews: HashMap::from([(rejected, MappingState::Rejected)]),
        ..Overlay::default()
    };
    let one_hop = index.paths_from(c("x", "x1"), Some(framework_id("y")), 1, false, &overlay);
    assert_eq!(
        one_hop.iter().map(|p| p.target).collect::<Vec<_>>(),
        [c("y", "y2")]
    );

    let paths = index.paths_from(c("x", "x1"), Some(framework_id("z")), 2, false, &overlay);
    assert_eq!(paths.len(), 2, "{paths:#?}");
    assert!(
        paths
            .iter()
            .all(|p| !link_ids(&index, &overlay, p).contains(&rejected))
    );
    // z1 is still reached, through y2.
    assert!(paths.iter().any(|p| p.target == c("z", "z1")));

    let with = index.paths_from(c("x", "x1"), Some(framework_id("z")), 2, true, &overlay);
    assert_eq!(with.len(), 3);
    for p in &with {
        let through_rejected = link_ids(&index, &overlay, p).contains(&rejected);
        let want = if through_rejected {
            MappingState::Rejected
        } else {
            MappingState::Informative
        };
        assert_eq!(p.state, want, "{p:?}");
    }
    assert_eq!(
        with.iter()
            .filter(|p| p.state == MappingState::Rejected)
            .count(),
        1
    );
    assert_eq!(
        index.state_of(with[0].hops[0].link, &Overlay::default()),
        MappingState::Informative
    );

    // Rejection is per tenant: without the overlay the path is back.
    let other = index.paths_from(
        c("x", "x1"),
        Some(framework_id("z")),
        2,
        false,
        &Overlay::default(),
    );
    assert_eq!(other.len(), 3);
}

#[test]
fn a_path_is_confirmed_only_when_every_hop_is() {
    let index = graph();
    let overlay = Overlay {
        reviews: HashMap::from([
            (
                lid("x-y", ("x", "x1"), ("y", "y1")),
                MappingState::Confirmed,
            ),
            (
                lid("y-z", ("y", "y1"), ("z", "z1")),
                MappingState::Confirmed,
            ),
            (
                lid("x-y", ("x", "x1"), ("y", "y2")),
                MappingState::Confirmed,
            ),
        ]),
        ..Overlay::default()
    };
    let paths = index.paths_from(c("x", "x1"), Some(framework_id("z")), 2, false, &overlay);
    assert_eq!(paths.len(), 3);
    for p in &paths {
        let via = nodes(&index, &overlay, p)[1];
        let want = if via == c("y", "y1") {
            MappingState::Confirmed
        } else {
            MappingState::Informative
        };
        assert_eq!(p.state, want, "via {via}: {p:?}");
    }
    let one = index.paths_from(c("x", "x1"), Some(framework_id("y")), 1, false, &overlay);
    assert!(one.iter().all(|p| p.state == MappingState::Confirmed));
}

#[test]
fn tenant_links_join_chains() {
    let index = graph();
    let tenant_fw = Uuid::from_u128(0xfeed);
    let t1 = Uuid::from_u128(0x7001);
    let own = Link {
        id: Uuid::from_u128(0x1111),
        source: t1,
        target: c("x", "x1"),
        relationship: EqualTo,
        via: Vec::new(),
    };
    let shortcut = Link {
        id: Uuid::from_u128(0x2222),
        source: c("y", "y3"),
        target: c("z", "z1"),
        relationship: SubsetOf,
        via: Vec::new(),
    };
    let overlay = Overlay {
        links: vec![own.clone(), shortcut.clone()],
        reviews: HashMap::new(),
        custom_controls: HashMap::from([(t1, tenant_fw)]),
    };
    assert_eq!(index.framework_of(t1, &overlay), Some(tenant_fw));
    assert_eq!(index.method_of(LinkRef::Tenant(0)), Method::Tenant);
    assert_eq!(
        index.state_of(LinkRef::Tenant(0), &overlay),
        MappingState::Confirmed,
        "a tenant's own links are confirmed"
    );

    // From the tenant's own control, through X and Y, to Z.
    let paths = index.paths_from(t1, Some(framework_id("z")), 3, false, &overlay);
    assert!(!paths.is_empty());
    for p in &paths {
        assert_eq!(
            p.hops[0],
            Hop {
                link: LinkRef::Tenant(0),
                reversed: false
            }
        );
        assert_eq!(nodes(&index, &overlay, p)[1], c("x", "x1"));
    }
    let via_y1 = find(
        &paths,
        c("z", "z1"),
        &[
            own.id,
            lid("x-y", ("x", "x1"), ("y", "y1")),
            lid("y-z", ("y", "y1"), ("z", "z1")),
        ],
        &index,
        &overlay,
    );
    assert_eq!(via_y1.relationship, SubsetOf, "equal, subset, subset");
    assert_eq!(
        via_y1.state,
        MappingState::Informative,
        "the shared hops are not reviewed"
    );

    // A tenant link between shared controls: x3 -> y3 -> z1 now exists.
    let x3 = index.paths_from(c("x", "x3"), Some(framework_id("z")), 2, false, &overlay);
    let through_tenant = find(
        &x3,
        c("z", "z1"),
        &[lid("x-y", ("x", "x3"), ("y", "y3")), shortcut.id],
        &index,
        &overlay,
    );
    assert_eq!(through_tenant.hops[1].link, LinkRef::Tenant(1));
    assert_eq!(through_tenant.relationship, SubsetOf);
    assert_eq!(through_tenant.state, MappingState::Informative);
    assert_eq!(
        x3.len(),
        2,
        "x3 -> y3 -> z2 and, with the tenant link, x3 -> y3 -> z1"
    );

    // Confirm the shared hop and the path is confirmed; reject the tenant link and it is gone.
    let mut reviewed = Overlay {
        links: overlay.links.clone(),
        reviews: HashMap::from([(
            lid("x-y", ("x", "x3"), ("y", "y3")),
            MappingState::Confirmed,
        )]),
        custom_controls: overlay.custom_controls.clone(),
    };
    let x3 = index.paths_from(c("x", "x3"), Some(framework_id("z")), 2, false, &reviewed);
    let confirmed = find(
        &x3,
        c("z", "z1"),
        &[lid("x-y", ("x", "x3"), ("y", "y3")), shortcut.id],
        &index,
        &reviewed,
    );
    assert_eq!(confirmed.state, MappingState::Confirmed);
    reviewed.reviews.insert(shortcut.id, MappingState::Rejected);
    let x3 = index.paths_from(c("x", "x3"), Some(framework_id("z")), 2, false, &reviewed);
    assert!(x3.iter().all(|p| p.target != c("z", "z1")));

    // And back to the tenant's framework, reading the tenant link backwards.
    let back = index.paths_from(c("y", "y1"), Some(tenant_fw), 2, false, &overlay);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].target, t1);
    assert_eq!(
        back[0].hops[1],
        Hop {
            link: LinkRef::Tenant(0),
            reversed: true
        }
    );
    assert_eq!(
        back[0].relationship, SupersetOf,
        "superset (y1 over x1), then equal"
    );

    // The crosswalk of several sources is the union of their paths.
    let sources = [c("x", "x1"), c("x", "x3")];
    let all = index.crosswalk(&sources, framework_id("z"), 2, false, &overlay);
    let mut want = index.paths_from(sources[0], Some(framework_id("z")), 2, false, &overlay);
    want.extend(index.paths_from(sources[1], Some(framework_id("z")), 2, false, &overlay));
    assert_eq!(all, want);
}

#[test]
fn paths_per_target_are_capped() {
    // a1 reaches c1 through seven B controls and c2 through two.
    let bs: Vec<String> = (1..=7).map(|i| format!("b{i}")).collect();
    let b_refs: Vec<&str> = bs.iter().map(String::as_str).collect();
    let frameworks = vec![
        framework("a", &["a1"]),
        framework("b", &b_refs),
        framework("c", &["c1", "c2"]),
    ];
    let ab: Vec<(&str, &str, Relationship)> = b_refs.iter().map(|b| ("a1", *b, SubsetOf)).collect();
    let mut bc: Vec<(&str, &str, Relationship)> =
        b_refs.iter().map(|b| (*b, "c1", SubsetOf)).collect();
    bc.push(("b1", "c2", SubsetOf));
    bc.push(("b2", "c2", SubsetOf));
    let index = CatalogIndex::new(
        1,
        frameworks,
        vec![
            crosswalk("a-b", "a", "b", &ab),
            crosswalk("b-c", "b", "c", &bc),
        ],
    );
    let none = Overlay::default();
    let paths = index.paths_from(c("a", "a1"), Some(framework_id("c")), 2, false, &none);
    let per_target: BTreeMap<Uuid, usize> = paths.iter().fold(BTreeMap::new(), |mut m, p| {
        *m.entry(p.target).or_default() += 1;
        m
    });
    const { assert!(7 > MAX_PATHS_PER_PAIR) };
    assert_eq!(per_target.get(&c("c", "c1")), Some(&MAX_PATHS_PER_PAIR));
    assert_eq!(per_target.get(&c("c", "c2")), Some(&2));
    // The kept paths are distinct ways.
    let ways: HashSet<Vec<Uuid>> = paths.iter().map(|p| link_ids(&index, &none, p)).collect();
    assert_eq!(ways.len(), paths.len());

    // With a direct link as well, the direct one is kept first among the capped.
    let frameworks = index.frameworks().to_vec();
    let mut crosswalks = index.crosswalks().to_vec();
    crosswalks.push(crosswalk("a-c", "a", "c", &[("a1", "c1", EqualTo)]));
    let index = CatalogIndex::new(2, frameworks, crosswalks);
    let paths = index.paths_from(c("a", "a1"), Some(framework_id("c")), 2, false, &none);
    let to_c1: Vec<&MappingPath> = paths.iter().filter(|p| p.target == c("c", "c1")).collect();
    assert_eq!(to_c1.len(), MAX_PATHS_PER_PAIR);
    assert_eq!(to_c1[0].hops.len(), 1);
    assert_eq!(to_c1[0].relationship, EqualTo);
    assert_eq!(
        to_c1.iter().filter(|p| p.hops.len() == 2).count(),
        MAX_PATHS_PER_PAIR - 1
    );
}

// ---------------------------------------------------------------------------------------------
// The shipped bundle
// ---------------------------------------------------------------------------------------------

#[test]
fn shipped_annex_a_reaches_hipaa_directly_and_through_sp800_53() {
    let bundle = Bundle::shipped().expect("the shipped catalogs load");
    let index = CatalogIndex::new(1, bundle.frameworks.clone(), bundle.crosswalks.clone());
    let none = Overlay::default();
    let iso = index
        .framework_by_key("iso27001-2022")
        .expect("iso27001-2022");
    let hipaa = index.framework_by_key("hipaa-sr").expect("hipaa-sr");
    let nist = index
        .framework_by_key("nist-sp800-53r5")
        .expect("nist-sp800-53r5");
    let annex: Vec<Uuid> = iso
        .controls
        .iter()
        .filter(|c| c.reference.starts_with("A."))
        .map(|c| c.id)
        .collect();
    assert_eq!(annex.len(), 93);
    let annex_set: HashSet<Uuid> = annex.iter().copied().collect();

    let derived = bundle
        .crosswalk("hipaa-sr_to_iso27001-2022_derived")
        .expect("the derived crosswalk");
    let hipaa_nist = bundle
        .crosswalk("hipaa-sr_to_sp800-53r5")
        .expect("HIPAA -> 800-53");
    let nist_iso = bundle
        .crosswalk("sp800-53r5_to_iso27001-2022")
        .expect("800-53 -> ISO");

    // One hop: exactly the derived links that land on Annex A, read backwards.
    let direct: BTreeMap<(Uuid, Uuid), &Link> = derived
        .links
        .iter()
        .filter(|l| annex_set.contains(&l.target))
        .map(|l| ((l.target, l.source), l))
        .collect();
    assert!(!direct.is_empty());
    let paths = index.crosswalk(&annex, hipaa.id, 1, false, &none);
    assert_eq!(paths.len(), direct.len());
    let mut seen = BTreeSet::new();
    for p in &paths {
        assert_eq!(p.hops.len(), 1);
        let hop = p.hops[0];
        assert!(hop.reversed, "the derived crosswalk runs HIPAA -> ISO");
        let LinkRef::Shared { crosswalk, link } = hop.link else {
            panic!("a shared link");
        };
        let (w, l) = index.link_at(crosswalk, link).expect("the link");
        assert_eq!(w.key, derived.key);
        assert_eq!(index.method_of(hop.link), Method::Derived);
        assert_eq!(Some(&l), direct.get(&(p.source, p.target)));
        assert_eq!(p.relationship, l.relationship.inverse());
        assert_eq!(p.state, MappingState::Informative);
        assert_eq!(index.framework_of(p.target, &none), Some(hipaa.id));
        assert!(
            seen.insert((p.source, p.target)),
            "one direct path per pair"
        );
    }
    assert_eq!(seen, direct.keys().copied().collect::<BTreeSet<_>>());

    // Two hops: also ISO <- 800-53 <- HIPAA. Count the chains from the published crosswalks.
    let mut hipaa_by_nist: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for l in &hipaa_nist.links {
        hipaa_by_nist.entry(l.target).or_default().push(l.source);
    }
    let mut chains: BTreeMap<(Uuid, Uuid), usize> = BTreeMap::new();
    for l in nist_iso
        .links
        .iter()
        .filter(|l| annex_set.contains(&l.target))
    {
        for h in hipaa_by_nist.get(&l.source).into_iter().flatten() {
            *chains.entry((l.target, *h)).or_default() += 1;
        }
    }
    assert!(!chains.is_empty());
    // Per pair, the direct link counts first towards the cap.
    let want_two_hop: usize = chains
        .iter()
        .map(|(pair, n)| (*n).min(MAX_PATHS_PER_PAIR - usize::from(direct.contains_key(pair))))
        .sum();

    let paths = index.crosswalk(&annex, hipaa.id, 2, false, &none);
    let one: Vec<&MappingPath> = paths.iter().filter(|p| p.hops.len() == 1).collect();
    let two: Vec<&MappingPath> = paths.iter().filter(|p| p.hops.len() == 2).collect();
    assert_eq!(one.len(), direct.len());
    assert_eq!(two.len(), want_two_hop);
    assert_eq!(one.len() + two.len(), paths.len());
    let mut pairs_seen: BTreeSet<(Uuid, Uuid)> = BTreeSet::new();
    for p in &two {
        let visited = nodes(&index, &none, p);
        let (mid_fw, middle) = index.control(visited[1]).expect("a shared control");
        assert_eq!(
            mid_fw.id, nist.id,
            "{} is an 800-53 control",
            middle.reference
        );
        assert!(
            p.hops.iter().all(|h| h.reversed),
            "both crosswalks run towards ISO"
        );
        let keys: Vec<&str> = p
            .hops
            .iter()
            .map(|h| match h.link {
                LinkRef::Shared { crosswalk, .. } => index.crosswalks()[crosswalk].key.as_str(),
                LinkRef::Tenant(_) => panic!("no tenant links here"),
            })
            .collect();
        assert_eq!(keys, [nist_iso.key.as_str(), hipaa_nist.key.as_str()]);
        assert_eq!(p.state, MappingState::Informative);
        assert!(chains.contains_key(&(p.source, p.target)));
        pairs_seen.insert((p.source, p.target));
    }
    // Chains reach HIPAA controls the rolled-up derived crosswalk does not name.
    let chain_targets: BTreeSet<Uuid> = two.iter().map(|p| p.target).collect();
    let direct_targets: BTreeSet<Uuid> = direct.keys().map(|(_, h)| *h).collect();
    assert!(chain_targets.difference(&direct_targets).next().is_some());
    assert_eq!(pairs_seen, chains.keys().copied().collect::<BTreeSet<_>>());
}
