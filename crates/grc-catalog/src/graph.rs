//! The catalog in memory: frameworks, controls and links indexed for reads, and chain traversal
//! (ISO → SP 800-53 → HIPAA) with the path shown. A tenant's own links and its reviews of shared
//! links come in as an [`Overlay`], so one shared index serves every tenant.

use crate::model::{Control, Crosswalk, Framework, Link, MappingState, Method, Relationship};
use std::collections::HashMap;
use uuid::Uuid;

/// Where a link lives: a shared crosswalk (by index) or the tenant's own links (by index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkRef {
    Shared { crosswalk: usize, link: usize },
    Tenant(usize),
}

/// One step of a path: a link, read forwards or backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hop {
    pub link: LinkRef,
    pub reversed: bool,
}

/// A way from one control to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingPath {
    pub source: Uuid,
    pub target: Uuid,
    pub relationship: Relationship,
    pub state: MappingState,
    pub hops: Vec<Hop>,
}

/// A tenant's additions to the shared graph.
#[derive(Debug, Default)]
pub struct Overlay {
    /// The tenant's own links (method tenant).
    pub links: Vec<Link>,
    /// The tenant's reviews of shared links, by link id.
    pub reviews: HashMap<Uuid, MappingState>,
    /// Framework of each of the tenant's own controls.
    pub custom_controls: HashMap<Uuid, Uuid>,
}

impl Overlay {
    fn adjacency(&self) -> HashMap<Uuid, Vec<(usize, bool)>> {
        let mut adj: HashMap<Uuid, Vec<(usize, bool)>> = HashMap::new();
        for (i, l) in self.links.iter().enumerate() {
            adj.entry(l.source).or_default().push((i, false));
            adj.entry(l.target).or_default().push((i, true));
        }
        adj
    }
}

/// Limits on traversal, so no query can ask for an unbounded walk.
pub const MAX_HOPS: usize = 3;
/// Paths kept per (source, target) pair, shortest first.
pub const MAX_PATHS_PER_PAIR: usize = 5;

/// The shared catalog, indexed.
#[derive(Debug, Default)]
pub struct CatalogIndex {
    /// The revision this index was built from.
    pub revision: i64,
    frameworks: Vec<Framework>,
    crosswalks: Vec<Crosswalk>,
    framework_by_id: HashMap<Uuid, usize>,
    framework_by_key: HashMap<String, usize>,
    control_by_id: HashMap<Uuid, (usize, usize)>,
    /// control id -> (crosswalk, link, reversed)
    adjacency: HashMap<Uuid, Vec<(usize, usize, bool)>>,
    link_by_id: HashMap<Uuid, (usize, usize)>,
    children: HashMap<Uuid, Vec<Uuid>>,
}

impl CatalogIndex {
    pub fn new(revision: i64, frameworks: Vec<Framework>, crosswalks: Vec<Crosswalk>) -> Self {
        let mut index = Self {
            revision,
            ..Self::default()
        };
        for (fi, f) in frameworks.iter().enumerate() {
            index.framework_by_id.insert(f.id, fi);
            index.framework_by_key.insert(f.key.clone(), fi);
            let by_ref: HashMap<&str, Uuid> = f
                .controls
                .iter()
                .map(|c| (c.reference.as_str(), c.id))
                .collect();
            for (ci, c) in f.controls.iter().enumerate() {
                index.control_by_id.insert(c.id, (fi, ci));
                if let Some(parent) = c.parent.as_deref().and_then(|p| by_ref.get(p)) {
                    index.children.entry(*parent).or_default().push(c.id);
                }
            }
        }
        for (wi, w) in crosswalks.iter().enumerate() {
            for (li, l) in w.links.iter().enumerate() {
                index.link_by_id.insert(l.id, (wi, li));
                index
                    .adjacency
                    .entry(l.source)
                    .or_default()
                    .push((wi, li, false));
                index
                    .adjacency
                    .entry(l.target)
                    .or_default()
                    .push((wi, li, true));
            }
        }
        index.frameworks = frameworks;
        index.crosswalks = crosswalks;
        index
    }

    pub fn frameworks(&self) -> &[Framework] {
        &self.frameworks
    }

    pub fn crosswalks(&self) -> &[Crosswalk] {
        &self.crosswalks
    }

    pub fn framework(&self, id: Uuid) -> Option<&Framework> {
        self.framework_by_id.get(&id).map(|i| &self.frameworks[*i])
    }

    pub fn framework_by_key(&self, key: &str) -> Option<&Framework> {
        self.framework_by_key.get(key).map(|i| &self.frameworks[*i])
    }

    /// A shared control and its framework.
    pub fn control(&self, id: Uuid) -> Option<(&Framework, &Control)> {
        self.control_by_id
            .get(&id)
            .map(|(f, c)| (&self.frameworks[*f], &self.frameworks[*f].controls[*c]))
    }

    pub fn children(&self, id: Uuid) -> &[Uuid] {
        self.children.get(&id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// A shared link with its crosswalk.
    pub fn link(&self, id: Uuid) -> Option<(&Crosswalk, &Link)> {
        self.link_by_id
            .get(&id)
            .map(|(w, l)| (&self.crosswalks[*w], &self.crosswalks[*w].links[*l]))
    }

    /// Where a shared link sits, by id.
    pub fn link_ref(&self, id: Uuid) -> Option<LinkRef> {
        self.link_by_id.get(&id).map(|(w, l)| LinkRef::Shared {
            crosswalk: *w,
            link: *l,
        })
    }

    pub fn link_at(&self, crosswalk: usize, link: usize) -> Option<(&Crosswalk, &Link)> {
        self.crosswalks
            .get(crosswalk)
            .and_then(|w| w.links.get(link).map(|l| (w, l)))
    }

    /// The link a hop names: a shared one, or one of the overlay's.
    pub fn link_of<'a>(&'a self, link: LinkRef, overlay: &'a Overlay) -> Option<&'a Link> {
        match link {
            LinkRef::Shared { crosswalk, link } => self.link_at(crosswalk, link).map(|(_, l)| l),
            LinkRef::Tenant(i) => overlay.links.get(i),
        }
    }

    /// The framework a control (shared, or the tenant's own) belongs to.
    pub fn framework_of(&self, control: Uuid, overlay: &Overlay) -> Option<Uuid> {
        self.control(control)
            .map(|(f, _)| f.id)
            .or_else(|| overlay.custom_controls.get(&control).copied())
    }

    fn shared_state(&self, id: Uuid, overlay: &Overlay) -> MappingState {
        overlay
            .reviews
            .get(&id)
            .copied()
            .unwrap_or(MappingState::Informative)
    }

    /// The effective state of a link for a tenant.
    pub fn state_of(&self, link: LinkRef, overlay: &Overlay) -> MappingState {
        match link {
            LinkRef::Shared { crosswalk, link } => {
                let id = self.crosswalks[crosswalk].links[link].id;
                self.shared_state(id, overlay)
            }
            LinkRef::Tenant(i) => overlay
                .links
                .get(i)
                .and_then(|l| overlay.reviews.get(&l.id).copied())
                .unwrap_or(MappingState::Confirmed),
        }
    }

    /// The method of a link.
    pub fn method_of(&self, link: LinkRef) -> Method {
        match link {
            LinkRef::Shared { crosswalk, .. } => self.crosswalks[crosswalk].method,
            LinkRef::Tenant(_) => Method::Tenant,
        }
    }

    /// Every path of at most `max_hops` links from `source` to a control of `target_framework`
    /// (any framework when `None`), never passing through the source's or the target's
    /// framework on the way, shortest first, at most [`MAX_PATHS_PER_PAIR`] per target.
    /// Rejected links are left out unless `include_rejected`.
    pub fn paths_from(
        &self,
        source: Uuid,
        target_framework: Option<Uuid>,
        max_hops: usize,
        include_rejected: bool,
        overlay: &Overlay,
    ) -> Vec<MappingPath> {
        let tenant_adj = overlay.adjacency();
        self.paths_with(
            source,
            target_framework,
            max_hops,
            include_rejected,
            overlay,
            &tenant_adj,
        )
    }

    /// [`Self::paths_from`] for every control of a framework: a crosswalk.
    pub fn crosswalk(
        &self,
        sources: &[Uuid],
        target_framework: Uuid,
        max_hops: usize,
        include_rejected: bool,
        overlay: &Overlay,
    ) -> Vec<MappingPath> {
        let tenant_adj = overlay.adjacency();
        sources
            .iter()
            .flat_map(|s| {
                self.paths_with(
                    *s,
                    Some(target_framework),
                    max_hops,
                    include_rejected,
                    overlay,
                    &tenant_adj,
                )
            })
            .collect()
    }

    fn paths_with(
        &self,
        source: Uuid,
        target_framework: Option<Uuid>,
        max_hops: usize,
        include_rejected: bool,
        overlay: &Overlay,
        tenant_adj: &HashMap<Uuid, Vec<(usize, bool)>>,
    ) -> Vec<MappingPath> {
        let max_hops = max_hops.clamp(1, MAX_HOPS);
        let source_fw = self.framework_of(source, overlay);
        let mut found: Vec<MappingPath> = Vec::new();
        let mut stack: Vec<Hop> = Vec::new();
        let mut visited: Vec<Uuid> = vec![source];
        self.walk(
            &Walk {
                source,
                source_fw,
                target_fw: target_framework,
                max_hops,
                include_rejected,
                overlay,
                tenant_adj,
            },
            source,
            &mut stack,
            &mut visited,
            &mut found,
        );
        // Shortest first, then a stable order; keep a few paths per target.
        found.sort_by(|a, b| {
            a.target
                .cmp(&b.target)
                .then(a.hops.len().cmp(&b.hops.len()))
        });
        let mut kept: Vec<MappingPath> = Vec::with_capacity(found.len());
        let mut per_target = 0;
        for p in found {
            if kept
                .last()
                .is_some_and(|k: &MappingPath| k.target == p.target)
            {
                per_target += 1;
            } else {
                per_target = 1;
            }
            if per_target <= MAX_PATHS_PER_PAIR {
                kept.push(p);
            }
        }
        kept.sort_by(|a, b| {
            a.hops.len().cmp(&b.hops.len()).then_with(|| {
                self.sort_key(a.target, overlay)
                    .cmp(&self.sort_key(b.target, overlay))
            })
        });
        kept
    }

    fn sort_key(&self, control: Uuid, overlay: &Overlay) -> (usize, i32, Uuid) {
        match self.control_by_id.get(&control) {
            Some((f, c)) => (*f, self.frameworks[*f].controls[*c].sort, control),
            None => (usize::MAX, overlay.custom_controls.len() as i32, control),
        }
    }

    fn neighbours(&self, node: Uuid, w: &Walk<'_>) -> Vec<(Hop, Uuid, Relationship)> {
        let mut out = Vec::new();
        for (wi, li, rev) in self.adjacency.get(&node).into_iter().flatten() {
            let (next, rel) = self.crosswalks[*wi].links[*li].read(*rev);
            out.push((
                Hop {
                    link: LinkRef::Shared {
                        crosswalk: *wi,
                        link: *li,
                    },
                    reversed: *rev,
                },
                next,
                rel,
            ));
        }
        for (i, rev) in w.tenant_adj.get(&node).into_iter().flatten() {
            let (next, rel) = w.overlay.links[*i].read(*rev);
            out.push((
                Hop {
                    link: LinkRef::Tenant(*i),
                    reversed: *rev,
                },
                next,
                rel,
            ));
        }
        out
    }

    fn walk(
        &self,
        w: &Walk<'_>,
        node: Uuid,
        stack: &mut Vec<Hop>,
        visited: &mut Vec<Uuid>,
        found: &mut Vec<MappingPath>,
    ) {
        for (hop, next, _) in self.neighbours(node, w) {
            if visited.contains(&next) {
                continue;
            }
            let state = self.state_of(hop.link, w.overlay);
            if state == MappingState::Rejected && !w.include_rejected {
                continue;
            }
            let next_fw = self.framework_of(next, w.overlay);
            let at_target = match w.target_fw {
                Some(t) => next_fw == Some(t),
                None => next_fw != w.source_fw,
            };
            stack.push(hop);
            if at_target {
                found.push(self.finish(w.source, next, stack, w.overlay));
            }
            // Chains pass through other frameworks only: never back through the source's, and
            // never on from the target's (with no target, every step is a result).
            let through = next_fw != w.source_fw && (w.target_fw.is_none() || !at_target);
            if through && stack.len() < w.max_hops {
                visited.push(next);
                self.walk(w, next, stack, visited, found);
                visited.pop();
            }
            stack.pop();
        }
    }

    fn finish(&self, source: Uuid, target: Uuid, hops: &[Hop], overlay: &Overlay) -> MappingPath {
        let mut relationship: Option<Relationship> = None;
        let mut all_confirmed = true;
        let mut any_rejected = false;
        for hop in hops {
            let Some(link) = self.link_of(hop.link, overlay) else {
                continue;
            };
            let (_, rel) = link.read(hop.reversed);
            relationship = Some(match relationship {
                None => rel,
                Some(r) => r.compose(rel),
            });
            match self.state_of(hop.link, overlay) {
                MappingState::Confirmed => {}
                MappingState::Rejected => {
                    any_rejected = true;
                    all_confirmed = false;
                }
                MappingState::Informative => all_confirmed = false,
            }
        }
        let state = if any_rejected {
            MappingState::Rejected
        } else if all_confirmed {
            MappingState::Confirmed
        } else {
            MappingState::Informative
        };
        MappingPath {
            source,
            target,
            relationship: relationship.unwrap_or(Relationship::IntersectsWith),
            state,
            hops: hops.to_vec(),
        }
    }
}

struct Walk<'a> {
    source: Uuid,
    source_fw: Option<Uuid>,
    target_fw: Option<Uuid>,
    max_hops: usize,
    include_rejected: bool,
    overlay: &'a Overlay,
    tenant_adj: &'a HashMap<Uuid, Vec<(usize, bool)>>,
}
