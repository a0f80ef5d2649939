//! Sharing repositories: connections, listings, NDAs and acceptances, grants, access requests and
//! their history, receipts, the outbox, and the grantee's reads of the owner's shared rows.
//!
//! Two kinds of rows live here. A row of the current tenant is written and read like any other
//! (`tenant_id` is the transaction's). A row two tenants see belongs to one and names the other
//! in a peer column; the methods that read or write those take the current tenant's side from
//! the transaction and never from the caller, and every query carries the predicate that puts
//! the current tenant on one side.
//!
//! Reading another tenant's artifact takes a [`LiveGrant`], which only this module builds: from
//! a grant row whose grantee is the current tenant, live at the time of the read. PostgreSQL's
//! `grantee_reads` policies check the same thing again.

use super::ops::{delete_op, row_ops};
use crate::entity::evidence::evidence;
use crate::entity::isms::{soa_version, system as isms_entity};
use crate::entity::sharing::{
    access_receipt, access_request, access_request_event, connection, nda, nda_acceptance,
    nda_version, outbox_event, share_grant, share_listing,
};
use crate::entity::tenant;
use crate::entity::vendors::{
    attestation, baa, certificate, certificate_audit, certificate_decision,
};
use crate::scope::set_local;
use crate::{AuditEntry, Page, PageRequest, StoreError, TenantRecord, TenantTx};
use chrono::{DateTime, Utc};
use grc_domain::audit::AuditRecord;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use uuid::Uuid;

/// A grant whose artifacts the current tenant may read: a grant to it that was live when it
/// was read, or one of its own grants (its own rows). Only the store builds one; the reads of
/// the owner's rows take it, so that no such read can skip the check.
#[derive(Debug, Clone)]
pub struct LiveGrant {
    row: share_grant::Model,
}

impl LiveGrant {
    pub fn row(&self) -> &share_grant::Model {
        &self.row
    }
    pub fn owner(&self) -> Uuid {
        self.row.tenant_id
    }
    /// Whether the grant covers the owner's artifact `id` of `kind` (stored kind names).
    pub fn covers(&self, kind: &str, id: Uuid) -> bool {
        if self.row.artifact_kind == "all-iso-certificates" {
            kind == "certificate"
        } else {
            self.row.artifact_kind == kind && self.row.artifact_id == Some(id)
        }
    }
}

/// Filters of the grant lists.
#[derive(Debug, Clone, Default)]
pub struct GrantFilter {
    /// The other tenant (the owner for grants to me, the grantee for grants by me).
    pub peer: Option<Uuid>,
    pub kind: Option<String>,
    /// Only grants live at this instant (else every grant, revoked and expired ones included).
    pub live_at: Option<DateTime<Utc>>,
}

/// An event for a peer tenant: its outbox row (`tenant_id` is set to the peer).
#[derive(Debug, Clone)]
pub struct PeerEvent {
    pub topic: String,
    pub subject_type: String,
    pub subject_id: String,
    pub payload: serde_json::Value,
    /// Unique per recipient: the same change is never queued twice.
    pub dedupe_key: String,
}

fn now() -> DateTime<Utc> {
    grc_domain::audit::truncate_to_micros(Utc::now())
}

/// `g` is live at `at`: not revoked, not expired.
fn live_at(at: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(share_grant::Column::RevokedAt.is_null())
        .add(
            Condition::any()
                .add(share_grant::Column::ExpiresAt.is_null())
                .add(share_grant::Column::ExpiresAt.gt(at)),
        )
}

/// Inserts a row with the current tenant in `$side` (its owner, or the peer acting).
macro_rules! insert_as {
    ($m:ident, $side:ident, $insert:ident, $doc:literal) => {
        #[doc = $doc]
        pub async fn $insert(&mut self, mut row: $m::Model) -> Result<$m::Model, StoreError> {
            row.$side = self.tenant_uuid();
            let m = row.into_active_model().reset_all().insert(&self.tx).await?;
            self.wrote();
            Ok(m)
        }
    };
}

/// Reads and writes a row two tenants see: its owner (`tenant_id`) and the peer in `$peer`.
/// Either side finds it by id; either side's write is refused unless it is one of the two
/// (the API decides which side may take which step).
macro_rules! two_sided {
    ($m:ident, $peer:ident, $Peer:ident, $get:ident, $update:ident, $what:literal) => {
        #[doc = concat!("A ", $what, " the current tenant is a side of.")]
        pub async fn $get(&self, id: Uuid) -> Result<Option<$m::Model>, StoreError> {
            let me = self.tenant_uuid();
            Ok($m::Entity::find()
                .filter($m::Column::Id.eq(id))
                .filter(
                    Condition::any()
                        .add($m::Column::TenantId.eq(me))
                        .add($m::Column::$Peer.eq(me)),
                )
                .one(&self.tx)
                .await?)
        }

        #[doc = concat!("Writes a ", $what, " the current tenant is a side of.")]
        pub async fn $update(&mut self, row: $m::Model) -> Result<$m::Model, StoreError> {
            let me = self.tenant_uuid();
            if row.tenant_id != me && row.$peer != me {
                return Err(StoreError::NotFound);
            }
            let m = row.into_active_model().reset_all().update(&self.tx).await?;
            self.wrote();
            Ok(m)
        }
    };
}

/// A keyset page of `$m` rows of one side: `$own` is the current tenant in the first case
/// (`incoming`: its own rows), `$peer` in the other (the rows that name it), with an optional
/// equality filter on `$col`.
macro_rules! side_page {
    ($m:ident, $fname:ident, $Peer:ident, $col:ident, $ty:ty, $doc:literal) => {
        #[doc = $doc]
        pub async fn $fname(
            &self,
            incoming: bool,
            filter: Option<$ty>,
            req: &PageRequest<Uuid>,
        ) -> Result<Page<$m::Model>, StoreError> {
            use $m::Column as C;
            let me = self.tenant_uuid();
            let mut q = $m::Entity::find().filter(if incoming {
                C::TenantId.eq(me)
            } else {
                C::$Peer.eq(me)
            });
            if let Some(v) = filter {
                q = q.filter(C::$col.eq(v));
            }
            let rows = req
                .apply(q, C::Id, |k: &Uuid| (*k).into())
                .all(&self.tx)
                .await?;
            Ok(req.finish(rows))
        }
    };
}

impl TenantTx {
    row_ops!(
        share_listing,
        insert_share_listing,
        update_share_listing,
        share_listing
    );
    delete_op!(share_listing, delete_share_listing);
    side_page!(
        access_request,
        access_requests_page,
        RequesterTenantId,
        Status,
        String,
        "A page of requests for the current tenant's artifacts (`incoming`) or by it, by status."
    );
    side_page!(
        access_receipt,
        access_receipts_page,
        GranteeTenantId,
        GrantId,
        Uuid,
        "A page of receipts of reads of the current tenant's artifacts (`incoming`) or by it, by grant."
    );
    side_page!(
        outbox_event,
        outbox_page_of,
        TenantId,
        Topic,
        String,
        "A page of the current tenant's outbox events (both cases: the recipient is the current tenant), by topic."
    );
    insert_as!(
        connection,
        tenant_id,
        insert_connection,
        "Records an invitation (the current tenant is the customer)."
    );
    insert_as!(
        nda_version,
        tenant_id,
        insert_nda_version,
        "Publishes a version of one of the current tenant's NDAs."
    );
    insert_as!(
        nda_acceptance,
        grantee_tenant_id,
        insert_nda_acceptance,
        "Records the current tenant's acceptance of an NDA version (the owner's row)."
    );
    insert_as!(
        share_grant,
        tenant_id,
        insert_share_grant,
        "Records a grant of the current tenant's artifact."
    );
    insert_as!(
        access_request,
        requester_tenant_id,
        insert_access_request,
        "Files a request for the owner's artifact (the current tenant is the requester)."
    );
    insert_as!(
        access_request_event,
        actor_tenant_id,
        insert_access_request_event,
        "Appends a step to a request's history (the current tenant acts)."
    );
    two_sided!(
        connection,
        provider_tenant_id,
        ProviderTenantId,
        connection_for_me,
        update_connection,
        "connection"
    );
    two_sided!(
        share_grant,
        grantee_tenant_id,
        GranteeTenantId,
        grant_for_me,
        update_share_grant,
        "grant"
    );
    two_sided!(
        access_request,
        requester_tenant_id,
        RequesterTenantId,
        access_request_for_me,
        update_access_request,
        "request"
    );
    row_ops!(nda, insert_nda, update_nda, nda);

    // ---- connections -------------------------------------------------------------------

    /// The connections the current tenant is a side of, newest invitation first.
    pub async fn connections_for_me(
        &self,
        status: Option<&str>,
    ) -> Result<Vec<connection::Model>, StoreError> {
        let me = self.tenant_uuid();
        let mut q = connection::Entity::find().filter(
            Condition::any()
                .add(connection::Column::TenantId.eq(me))
                .add(connection::Column::ProviderTenantId.eq(me)),
        );
        if let Some(s) = status {
            q = q.filter(connection::Column::Status.eq(s));
        }
        Ok(q.order_by_desc(connection::Column::InvitedAt)
            .order_by_desc(connection::Column::Id)
            .all(&self.tx)
            .await?)
    }

    /// The customer's connections of `vendors` (open ones, or else the latest), in one query.
    pub async fn connections_of_vendors(
        &self,
        vendors: &[Uuid],
    ) -> Result<Vec<connection::Model>, StoreError> {
        if vendors.is_empty() {
            return Ok(Vec::new());
        }
        Ok(connection::Entity::find()
            .filter(connection::Column::TenantId.eq(self.tenant_uuid()))
            .filter(connection::Column::VendorId.is_in(vendors.iter().copied()))
            .order_by_asc(connection::Column::VendorId)
            .order_by_desc(connection::Column::InvitedAt)
            .all(&self.tx)
            .await?)
    }

    /// The active connection between the current tenant and `peer`, whichever side invited.
    pub async fn active_connection_with(
        &self,
        peer: Uuid,
    ) -> Result<Option<connection::Model>, StoreError> {
        let me = self.tenant_uuid();
        Ok(connection::Entity::find()
            .filter(connection::Column::Status.eq("active"))
            .filter(
                Condition::any()
                    .add(
                        Condition::all()
                            .add(connection::Column::TenantId.eq(me))
                            .add(connection::Column::ProviderTenantId.eq(peer)),
                    )
                    .add(
                        Condition::all()
                            .add(connection::Column::TenantId.eq(peer))
                            .add(connection::Column::ProviderTenantId.eq(me)),
                    ),
            )
            .one(&self.tx)
            .await?)
    }

    /// Whether the current tenant ever had a connection with `peer` (any status): the bound on
    /// whose chains [`TenantTx::notify_peer`] may write into.
    async fn ever_connected(&self, peer: Uuid) -> Result<bool, StoreError> {
        let me = self.tenant_uuid();
        Ok(connection::Entity::find()
            .filter(
                Condition::any()
                    .add(
                        Condition::all()
                            .add(connection::Column::TenantId.eq(me))
                            .add(connection::Column::ProviderTenantId.eq(peer)),
                    )
                    .add(
                        Condition::all()
                            .add(connection::Column::TenantId.eq(peer))
                            .add(connection::Column::ProviderTenantId.eq(me)),
                    ),
            )
            .one(&self.tx)
            .await?
            .is_some())
    }

    /// Tenants by id (platform rows: names and slugs of peers).
    pub async fn tenants_by_ids(&self, ids: &[Uuid]) -> Result<Vec<TenantRecord>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        tenant::Entity::find()
            .filter(tenant::Column::Id.is_in(ids.iter().copied()))
            .all(&self.tx)
            .await?
            .into_iter()
            .map(TenantRecord::try_from)
            .collect()
    }

    /// A tenant by slug (to invite it).
    pub async fn tenant_by_slug(&self, slug: &str) -> Result<Option<TenantRecord>, StoreError> {
        tenant::Entity::find()
            .filter(tenant::Column::Slug.eq(slug))
            .one(&self.tx)
            .await?
            .map(TenantRecord::try_from)
            .transpose()
    }

    // ---- listings ----------------------------------------------------------------------

    /// The current tenant's listings, by title.
    pub async fn my_listings(&self) -> Result<Vec<share_listing::Model>, StoreError> {
        Ok(share_listing::Entity::find()
            .filter(share_listing::Column::TenantId.eq(self.tenant_uuid()))
            .order_by_asc(share_listing::Column::Title)
            .order_by_asc(share_listing::Column::Id)
            .all(&self.tx)
            .await?)
    }

    /// A connected peer's listings, by title. The caller checked the connection is active.
    pub async fn peer_listings(&self, peer: Uuid) -> Result<Vec<share_listing::Model>, StoreError> {
        Ok(share_listing::Entity::find()
            .filter(share_listing::Column::TenantId.eq(peer))
            .order_by_asc(share_listing::Column::Title)
            .order_by_asc(share_listing::Column::Id)
            .all(&self.tx)
            .await?)
    }

    /// One listing of `owner`.
    pub async fn listing_of(
        &self,
        owner: Uuid,
        id: Uuid,
    ) -> Result<Option<share_listing::Model>, StoreError> {
        Ok(share_listing::Entity::find()
            .filter(share_listing::Column::TenantId.eq(owner))
            .filter(share_listing::Column::Id.eq(id))
            .one(&self.tx)
            .await?)
    }

    // ---- NDAs --------------------------------------------------------------------------

    /// The current tenant's NDAs, by title.
    pub async fn my_ndas(&self) -> Result<Vec<nda::Model>, StoreError> {
        Ok(nda::Entity::find()
            .filter(nda::Column::TenantId.eq(self.tenant_uuid()))
            .order_by_asc(nda::Column::Title)
            .all(&self.tx)
            .await?)
    }

    /// An NDA of `owner` (the current tenant's, or a connected peer's: the caller checks).
    pub async fn nda_of(&self, owner: Uuid, id: Uuid) -> Result<Option<nda::Model>, StoreError> {
        Ok(nda::Entity::find()
            .filter(nda::Column::TenantId.eq(owner))
            .filter(nda::Column::Id.eq(id))
            .one(&self.tx)
            .await?)
    }

    /// The versions of NDAs `(owner, nda)`, by NDA then version.
    pub async fn nda_versions_of(
        &self,
        ndas: &[(Uuid, Uuid)],
    ) -> Result<Vec<nda_version::Model>, StoreError> {
        if ndas.is_empty() {
            return Ok(Vec::new());
        }
        let any = any_pair(
            nda_version::Column::TenantId,
            nda_version::Column::NdaId,
            ndas,
        );
        Ok(nda_version::Entity::find()
            .filter(any)
            .order_by_asc(nda_version::Column::NdaId)
            .order_by_asc(nda_version::Column::Version)
            .all(&self.tx)
            .await?)
    }

    /// Acceptances of NDAs `(owner, nda)`: all of them for the current tenant's own NDAs, only
    /// its own for a peer's.
    pub async fn nda_acceptances_of(
        &self,
        ndas: &[(Uuid, Uuid)],
    ) -> Result<Vec<nda_acceptance::Model>, StoreError> {
        if ndas.is_empty() {
            return Ok(Vec::new());
        }
        let me = self.tenant_uuid();
        let mut any = Condition::any();
        for (owner, id) in ndas {
            let mut c = Condition::all()
                .add(nda_acceptance::Column::TenantId.eq(*owner))
                .add(nda_acceptance::Column::NdaId.eq(*id));
            if *owner != me {
                c = c.add(nda_acceptance::Column::GranteeTenantId.eq(me));
            }
            any = any.add(c);
        }
        Ok(nda_acceptance::Entity::find()
            .filter(any)
            .order_by_asc(nda_acceptance::Column::AcceptedAt)
            .order_by_asc(nda_acceptance::Column::Id)
            .all(&self.tx)
            .await?)
    }

    // ---- grants ------------------------------------------------------------------------

    /// A grant to the current tenant, if it is live at `at`.
    pub async fn live_grant_to_me(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Option<LiveGrant>, StoreError> {
        Ok(share_grant::Entity::find()
            .filter(share_grant::Column::GranteeTenantId.eq(self.tenant_uuid()))
            .filter(share_grant::Column::Id.eq(id))
            .filter(live_at(at))
            .one(&self.tx)
            .await?
            .map(|row| LiveGrant { row }))
    }

    /// Whether any grant to the current tenant (whatever its state) covers `kind` `id`: an
    /// artifact the current tenant knows only as a grantee.
    pub async fn received_artifact(&self, kind: &str, id: Uuid) -> Result<bool, StoreError> {
        use share_grant::Column as C;
        let me = self.tenant_uuid();
        let direct = share_grant::Entity::find()
            .filter(C::GranteeTenantId.eq(me))
            .filter(C::ArtifactKind.eq(kind))
            .filter(C::ArtifactId.eq(id))
            .one(&self.tx)
            .await?
            .is_some();
        if direct || kind != "certificate" {
            return Ok(direct);
        }
        // Under "all ISO certificates": a certificate of one of those owners.
        let owners: Vec<Uuid> = share_grant::Entity::find()
            .filter(C::GranteeTenantId.eq(me))
            .filter(C::ArtifactKind.eq("all-iso-certificates"))
            .all(&self.tx)
            .await?
            .into_iter()
            .map(|g| g.tenant_id)
            .collect();
        if owners.is_empty() {
            return Ok(false);
        }
        let grants = self.live_grants_from(&owners, Utc::now()).await?;
        Ok(self
            .shared_certificates(&grants)
            .await?
            .iter()
            .any(|c| c.id == id))
    }

    /// The current tenant's grants live at `at` that require its NDA `nda_id`.
    pub async fn my_live_grants_under_nda(
        &self,
        nda_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Vec<share_grant::Model>, StoreError> {
        Ok(share_grant::Entity::find()
            .filter(share_grant::Column::TenantId.eq(self.tenant_uuid()))
            .filter(share_grant::Column::NdaId.eq(nda_id))
            .filter(live_at(at))
            .order_by_asc(share_grant::Column::GranteeTenantId)
            .order_by_asc(share_grant::Column::Id)
            .all(&self.tx)
            .await?)
    }

    /// The owner of NDA `nda_id` when a grant to the current tenant live at `at` requires it.
    pub async fn nda_owner_for_me(
        &self,
        nda_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Option<Uuid>, StoreError> {
        Ok(share_grant::Entity::find()
            .filter(share_grant::Column::GranteeTenantId.eq(self.tenant_uuid()))
            .filter(share_grant::Column::NdaId.eq(nda_id))
            .filter(live_at(at))
            .one(&self.tx)
            .await?
            .map(|g| g.tenant_id))
    }

    /// The grants to the current tenant from `owners` live at `at` (for vendor records).
    pub async fn live_grants_from(
        &self,
        owners: &[Uuid],
        at: DateTime<Utc>,
    ) -> Result<Vec<LiveGrant>, StoreError> {
        if owners.is_empty() {
            return Ok(Vec::new());
        }
        Ok(share_grant::Entity::find()
            .filter(share_grant::Column::GranteeTenantId.eq(self.tenant_uuid()))
            .filter(share_grant::Column::TenantId.is_in(owners.iter().copied()))
            .filter(live_at(at))
            .order_by_asc(share_grant::Column::Id)
            .all(&self.tx)
            .await?
            .into_iter()
            .map(|row| LiveGrant { row })
            .collect())
    }

    /// A page of grants to (`to_me`) or by the current tenant, oldest first.
    pub async fn grants_page(
        &self,
        to_me: bool,
        f: &GrantFilter,
        req: &PageRequest<Uuid>,
        want_total: bool,
    ) -> Result<(Page<share_grant::Model>, u64), StoreError> {
        use share_grant::Column as C;
        let me = self.tenant_uuid();
        let mut q = share_grant::Entity::find();
        q = if to_me {
            q.filter(C::GranteeTenantId.eq(me))
        } else {
            q.filter(C::TenantId.eq(me))
        };
        if let Some(p) = f.peer {
            q = q.filter(if to_me {
                C::TenantId.eq(p)
            } else {
                C::GranteeTenantId.eq(p)
            });
        }
        if let Some(k) = &f.kind {
            q = q.filter(C::ArtifactKind.eq(k.clone()));
        }
        if let Some(at) = f.live_at {
            q = q.filter(live_at(at));
        }
        let total = if want_total {
            sea_orm::PaginatorTrait::count(q.clone(), &self.tx).await?
        } else {
            0
        };
        let rows = req
            .apply(q, C::Id, |k: &Uuid| (*k).into())
            .all(&self.tx)
            .await?;
        Ok((req.finish(rows), total))
    }

    /// Wraps the grant rows whose artifacts the current tenant may read now: its own grants
    /// (its own rows, whatever the grant's state) and grants to it that are live at `at`.
    pub fn readable_grants(
        &self,
        rows: Vec<share_grant::Model>,
        at: DateTime<Utc>,
    ) -> Vec<LiveGrant> {
        let me = self.tenant_uuid();
        rows.into_iter()
            .filter(|g| {
                g.tenant_id == me
                    || (g.grantee_tenant_id == me
                        && g.revoked_at.is_none()
                        && g.expires_at.is_none_or(|e| e > at))
            })
            .map(|row| LiveGrant { row })
            .collect()
    }

    /// The next instant after `at` at which a grant to the current tenant expires: until then,
    /// the set of live grants to it changes only by a write (for caches of what it sees).
    pub async fn next_grant_expiry_to_me(
        &self,
        at: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        use share_grant::Column as C;
        Ok(share_grant::Entity::find()
            .select_only()
            .column_as(C::ExpiresAt.min(), "next")
            .filter(C::GranteeTenantId.eq(self.tenant_uuid()))
            .filter(C::RevokedAt.is_null())
            .filter(C::ExpiresAt.gt(at))
            .into_tuple::<Option<DateTime<Utc>>>()
            .one(&self.tx)
            .await?
            .flatten())
    }

    /// The current tenant's unrevoked grants of an artifact (`kind` and `id`; certificates also
    /// through "all ISO certificates" grants), live at `at`: whom to tell of a change.
    pub async fn grants_covering(
        &self,
        kind: &str,
        id: Option<Uuid>,
        at: DateTime<Utc>,
    ) -> Result<Vec<share_grant::Model>, StoreError> {
        use share_grant::Column as C;
        let mut which = Condition::any();
        if let Some(id) = id {
            which = which.add(
                Condition::all()
                    .add(C::ArtifactKind.eq(kind))
                    .add(C::ArtifactId.eq(id)),
            );
        }
        if kind == "certificate" || kind == "all-iso-certificates" {
            which = which.add(C::ArtifactKind.eq("all-iso-certificates"));
        }
        Ok(share_grant::Entity::find()
            .filter(C::TenantId.eq(self.tenant_uuid()))
            .filter(which)
            .filter(live_at(at))
            .order_by_asc(C::GranteeTenantId)
            .all(&self.tx)
            .await?)
    }

    /// The unrevoked grant of the current tenant's artifact to `grantee`, whatever its expiry.
    pub async fn open_grant(
        &self,
        grantee: Uuid,
        kind: &str,
        id: Option<Uuid>,
    ) -> Result<Option<share_grant::Model>, StoreError> {
        use share_grant::Column as C;
        let mut q = share_grant::Entity::find()
            .filter(C::TenantId.eq(self.tenant_uuid()))
            .filter(C::GranteeTenantId.eq(grantee))
            .filter(C::ArtifactKind.eq(kind))
            .filter(C::RevokedAt.is_null());
        q = match id {
            Some(id) => q.filter(C::ArtifactId.eq(id)),
            None => q.filter(C::ArtifactId.is_null()),
        };
        Ok(q.one(&self.tx).await?)
    }

    /// The unrevoked grants made under connection `connection` (either way round) that the
    /// current tenant is a side of.
    pub async fn open_grants_of_connection(
        &self,
        connection: Uuid,
    ) -> Result<Vec<share_grant::Model>, StoreError> {
        use share_grant::Column as C;
        let me = self.tenant_uuid();
        Ok(share_grant::Entity::find()
            .filter(C::ConnectionId.eq(connection))
            .filter(C::RevokedAt.is_null())
            .filter(
                Condition::any()
                    .add(C::TenantId.eq(me))
                    .add(C::GranteeTenantId.eq(me)),
            )
            .all(&self.tx)
            .await?)
    }

    /// Moves a connection the current tenant is a side of from status `from` to `row`'s
    /// state, only if it still is `from` (a concurrent answer, cancellation or end makes this
    /// a [`StoreError::Conflict`]).
    pub async fn transition_connection(
        &mut self,
        row: connection::Model,
        from: &str,
    ) -> Result<connection::Model, StoreError> {
        use connection::Column as C;
        let me = self.tenant_uuid();
        if row.tenant_id != me && row.provider_tenant_id != me {
            return Err(StoreError::NotFound);
        }
        let n = connection::Entity::update_many()
            .set(row.clone().into_active_model().reset_all())
            .filter(C::TenantId.eq(row.tenant_id))
            .filter(C::Id.eq(row.id))
            .filter(C::Status.eq(from))
            .exec(&self.tx)
            .await?;
        if n.rows_affected == 0 {
            return Err(StoreError::Conflict(format!(
                "the connection is no longer {from}"
            )));
        }
        self.wrote();
        Ok(row)
    }

    /// Moves a request the current tenant is a side of out of `pending`, only if it still is
    /// pending (a concurrent decision or withdrawal makes this a [`StoreError::Conflict`]).
    pub async fn transition_access_request(
        &mut self,
        row: access_request::Model,
    ) -> Result<access_request::Model, StoreError> {
        use access_request::Column as C;
        let me = self.tenant_uuid();
        if row.tenant_id != me && row.requester_tenant_id != me {
            return Err(StoreError::NotFound);
        }
        let n = access_request::Entity::update_many()
            .set(row.clone().into_active_model().reset_all())
            .filter(C::TenantId.eq(row.tenant_id))
            .filter(C::Id.eq(row.id))
            .filter(C::Status.eq("pending"))
            .exec(&self.tx)
            .await?;
        if n.rows_affected == 0 {
            return Err(StoreError::Conflict(
                "the request is no longer pending".into(),
            ));
        }
        self.wrote();
        Ok(row)
    }

    /// The active connection between the current tenant and `peer`, locked until the
    /// transaction ends (PostgreSQL), so that it cannot end while a grant is made under it.
    pub async fn lock_active_connection_with(
        &self,
        peer: Uuid,
    ) -> Result<Option<connection::Model>, StoreError> {
        let Some(c) = self.active_connection_with(peer).await? else {
            return Ok(None);
        };
        let mut q = connection::Entity::find()
            .filter(connection::Column::TenantId.eq(c.tenant_id))
            .filter(connection::Column::Id.eq(c.id));
        if self.tx.get_database_backend() == DbBackend::Postgres {
            q = sea_orm::QuerySelect::lock_exclusive(q);
        }
        Ok(q.one(&self.tx).await?.filter(|c| c.status == "active"))
    }

    // ---- access requests ---------------------------------------------------------------

    /// The histories of requests `(owner, id)` the current tenant is a side of, in order.
    pub async fn access_request_events_of(
        &self,
        requests: &[(Uuid, Uuid)],
    ) -> Result<Vec<access_request_event::Model>, StoreError> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let any = any_pair(
            access_request_event::Column::TenantId,
            access_request_event::Column::RequestId,
            requests,
        );
        Ok(access_request_event::Entity::find()
            .filter(any)
            .order_by_asc(access_request_event::Column::RequestId)
            .order_by_asc(access_request_event::Column::Seq)
            .all(&self.tx)
            .await?)
    }

    // ---- receipts ----------------------------------------------------------------------

    /// Records the current tenant's read through `grant` (the owner's row).
    pub async fn insert_access_receipt(
        &mut self,
        grant: &LiveGrant,
        mut row: access_receipt::Model,
    ) -> Result<access_receipt::Model, StoreError> {
        row.tenant_id = grant.owner();
        row.grantee_tenant_id = self.tenant_uuid();
        row.grant_id = grant.row.id;
        let m = row.into_active_model().reset_all().insert(&self.tx).await?;
        self.wrote();
        Ok(m)
    }

    // ---- outbox and peer chains ----------------------------------------------------------

    /// PostgreSQL: takes the audit-chain head locks of the current tenant and `peers` in one
    /// global order (by tenant id), so that two transactions writing into each other's chains
    /// cannot deadlock. Call before the transaction's first audit append.
    pub async fn lock_chains(&mut self, peers: &[Uuid]) -> Result<(), StoreError> {
        if self.tx.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let me = self.tenant_uuid();
        let mut all: Vec<Uuid> = peers.to_vec();
        all.push(me);
        all.sort_unstable();
        all.dedup();
        for t in all {
            if t != me && !self.ever_connected(t).await? {
                return Err(StoreError::Invalid(format!(
                    "tenant {t} is not connected with the current tenant"
                )));
            }
            set_local(&self.tx, "app.tenant_id", &t.to_string()).await?;
            let r = self
                .tx
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT last_seq FROM audit_heads WHERE tenant_id = $1 FOR UPDATE",
                    [t.into()],
                ))
                .await;
            set_local(&self.tx, "app.tenant_id", &me.to_string()).await?;
            r?;
        }
        Ok(())
    }

    /// Appends an event to a connected peer's audit chain, in this transaction: with
    /// [`TenantTx::queue_peer_event`], the only writes of another tenant's rows. The peer must
    /// have had a connection with the current tenant. The transaction is switched into the peer
    /// for these statements only (so PostgreSQL's tenant policies apply to them as the peer's)
    /// and back. The event is returned with the transaction's own on commit (for live
    /// subscribers). Take [`TenantTx::lock_chains`] first when the transaction writes two chains.
    pub async fn notify_peer(
        &mut self,
        peer: Uuid,
        entry: AuditEntry,
    ) -> Result<AuditRecord, StoreError> {
        self.check_peer(peer).await?;
        let me = self.tenant_uuid();
        set_local(&self.tx, "app.tenant_id", &peer.to_string()).await?;
        let r = self.append_audit_in(peer, entry).await;
        set_local(&self.tx, "app.tenant_id", &me.to_string()).await?;
        let rec = r?;
        self.wrote();
        Ok(rec)
    }

    /// Queues an event for a connected peer in its outbox, in this transaction (no lock: an
    /// insert). The same `dedupe_key` is queued once.
    pub async fn queue_peer_event(&mut self, peer: Uuid, e: PeerEvent) -> Result<(), StoreError> {
        self.check_peer(peer).await?;
        let me = self.tenant_uuid();
        let row = outbox_event::Model {
            tenant_id: peer,
            id: Uuid::now_v7(),
            topic: e.topic,
            source_tenant_id: me,
            subject_type: e.subject_type,
            subject_id: e.subject_id,
            payload: e.payload.to_string(),
            dedupe_key: e.dedupe_key,
            created_at: now(),
            relayed_at: None,
        };
        set_local(&self.tx, "app.tenant_id", &peer.to_string()).await?;
        // The same change announced twice (a retried request) is queued once.
        let r = outbox_event::Entity::insert(row.into_active_model())
            .on_conflict(
                sea_orm::sea_query::OnConflict::columns([
                    outbox_event::Column::TenantId,
                    outbox_event::Column::DedupeKey,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await;
        set_local(&self.tx, "app.tenant_id", &me.to_string()).await?;
        r?;
        self.wrote();
        Ok(())
    }

    /// Moves the share version of each of `peers` (sorted and deduplicated here, so concurrent
    /// owners lock the rows in one order), in the current transaction: the grantees' cached
    /// views of what is shared with them are stale from this transaction's commit on. Call it
    /// last, after every other write of the transaction.
    pub async fn bump_share_versions(&mut self, peers: &[Uuid]) -> Result<(), StoreError> {
        let mut all: Vec<Uuid> = peers.to_vec();
        all.sort_unstable();
        all.dedup();
        let me = self.tenant_uuid();
        let backend = self.tx.get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => {
                "INSERT INTO share_heads (tenant_id, version) VALUES ($1, 1) \
                 ON CONFLICT (tenant_id) DO UPDATE SET version = share_heads.version + 1"
            }
            _ => {
                "INSERT INTO share_heads (tenant_id, version) VALUES (?, 1) \
                 ON CONFLICT (tenant_id) DO UPDATE SET version = share_heads.version + 1"
            }
        };
        for peer in all {
            self.check_peer(peer).await?;
            set_local(&self.tx, "app.tenant_id", &peer.to_string()).await?;
            let r = self
                .tx
                .execute_raw(Statement::from_sql_and_values(backend, sql, [peer.into()]))
                .await;
            set_local(&self.tx, "app.tenant_id", &me.to_string()).await?;
            r?;
        }
        Ok(())
    }

    async fn check_peer(&self, peer: Uuid) -> Result<(), StoreError> {
        if peer == self.tenant_uuid() || !self.ever_connected(peer).await? {
            return Err(StoreError::Invalid(format!(
                "tenant {peer} is not connected with the current tenant"
            )));
        }
        Ok(())
    }

    // ---- the grantee's reads of the owner's rows ---------------------------------------

    /// The certificates `grants` cover: the granted one, or all of the owner's under an "all
    /// ISO certificates" grant.
    pub async fn shared_certificates(
        &self,
        grants: &[LiveGrant],
    ) -> Result<Vec<certificate::Model>, StoreError> {
        use certificate::Column as C;
        let mut any = Condition::any();
        let mut n = 0;
        for g in grants {
            match g.row.artifact_kind.as_str() {
                "certificate" => {
                    any = any.add(
                        Condition::all()
                            .add(C::TenantId.eq(g.owner()))
                            .add(C::Id.eq(g.row.artifact_id)),
                    );
                    n += 1;
                }
                "all-iso-certificates" => {
                    any = any.add(C::TenantId.eq(g.owner()));
                    n += 1;
                }
                _ => {}
            }
        }
        if n == 0 {
            return Ok(Vec::new());
        }
        Ok(certificate::Entity::find()
            .filter(any)
            .order_by_asc(C::TenantId)
            .order_by_asc(C::Standard)
            .order_by_asc(C::CertificateNumber)
            .order_by_asc(C::Id)
            .all(&self.tx)
            .await?)
    }

    /// The audits and decisions of shared certificates `(owner, id)` (their status is computed
    /// from them), in the order [`TenantTx::certificate_audits_of`] uses.
    pub async fn shared_certificate_history(
        &self,
        certs: &[(Uuid, Uuid)],
    ) -> Result<
        (
            Vec<certificate_audit::Model>,
            Vec<certificate_decision::Model>,
        ),
        StoreError,
    > {
        if certs.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let mut a_any = Condition::any();
        let mut d_any = Condition::any();
        for (owner, id) in certs {
            a_any = a_any.add(
                Condition::all()
                    .add(certificate_audit::Column::TenantId.eq(*owner))
                    .add(certificate_audit::Column::CertificateId.eq(*id)),
            );
            d_any = d_any.add(
                Condition::all()
                    .add(certificate_decision::Column::TenantId.eq(*owner))
                    .add(certificate_decision::Column::CertificateId.eq(*id)),
            );
        }
        let audits = certificate_audit::Entity::find()
            .filter(a_any)
            .order_by_asc(certificate_audit::Column::CertificateId)
            .order_by_asc(certificate_audit::Column::StartDate)
            .order_by_asc(certificate_audit::Column::CreatedAt)
            .order_by_asc(certificate_audit::Column::Id)
            .all(&self.tx)
            .await?;
        let decisions = certificate_decision::Entity::find()
            .filter(d_any)
            .order_by_asc(certificate_decision::Column::CertificateId)
            .order_by_asc(certificate_decision::Column::DecidedOn)
            .order_by_asc(certificate_decision::Column::CreatedAt)
            .order_by_asc(certificate_decision::Column::Id)
            .all(&self.tx)
            .await?;
        Ok((audits, decisions))
    }

    /// The attestations `grants` cover.
    pub async fn shared_attestations(
        &self,
        grants: &[LiveGrant],
    ) -> Result<Vec<attestation::Model>, StoreError> {
        let pairs = pairs_of(grants, "attestation");
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let any = any_pair(
            attestation::Column::TenantId,
            attestation::Column::Id,
            &pairs,
        );
        Ok(attestation::Entity::find()
            .filter(any)
            .all(&self.tx)
            .await?)
    }

    /// The BAAs `grants` cover.
    pub async fn shared_baas(&self, grants: &[LiveGrant]) -> Result<Vec<baa::Model>, StoreError> {
        let pairs = pairs_of(grants, "baa");
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let any = any_pair(baa::Column::TenantId, baa::Column::Id, &pairs);
        Ok(baa::Entity::find().filter(any).all(&self.tx).await?)
    }

    /// The ISMS names and latest approved SoA versions `grants` of SoA summaries cover.
    pub async fn shared_soas(
        &self,
        grants: &[LiveGrant],
    ) -> Result<(Vec<isms_entity::Model>, Vec<soa_version::Model>), StoreError> {
        let pairs = pairs_of(grants, "soa-summary");
        if pairs.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let mut i_any = Condition::any();
        let mut v_any = Condition::any();
        for (o, id) in &pairs {
            i_any = i_any.add(
                Condition::all()
                    .add(isms_entity::Column::TenantId.eq(*o))
                    .add(isms_entity::Column::Id.eq(*id)),
            );
            v_any = v_any.add(
                Condition::all()
                    .add(soa_version::Column::TenantId.eq(*o))
                    .add(soa_version::Column::IsmsId.eq(*id))
                    .add(
                        soa_version::Column::Number.in_subquery(
                            sea_orm::sea_query::Query::select()
                                .expr(sea_orm::sea_query::Func::max(Expr::col(
                                    soa_version::Column::Number,
                                )))
                                .from(soa_version::Entity)
                                .and_where(soa_version::Column::TenantId.eq(*o))
                                .and_where(soa_version::Column::IsmsId.eq(*id))
                                .to_owned(),
                        ),
                    ),
            );
        }
        let isms = isms_entity::Entity::find()
            .filter(i_any)
            .all(&self.tx)
            .await?;
        let versions = soa_version::Entity::find()
            .filter(v_any)
            .all(&self.tx)
            .await?;
        Ok((isms, versions))
    }

    /// Documents (evidence rows) of owners `(owner, id)`; PostgreSQL shows a grantee only those
    /// a live document grant opens.
    pub async fn shared_documents(
        &self,
        docs: &[(Uuid, Uuid)],
    ) -> Result<Vec<evidence::Model>, StoreError> {
        if docs.is_empty() {
            return Ok(Vec::new());
        }
        let any = any_pair(evidence::Column::TenantId, evidence::Column::Id, docs);
        Ok(evidence::Entity::find().filter(any).all(&self.tx).await?)
    }

    /// Whether `grantee` (the current tenant, or a grantee of the current tenant's NDA) accepted
    /// the current version of `owner`'s NDA `nda_id`.
    pub async fn accepted_current_nda(
        &self,
        owner: Uuid,
        nda_id: Uuid,
        grantee: Uuid,
    ) -> Result<bool, StoreError> {
        let Some(n) = self.nda_of(owner, nda_id).await? else {
            return Ok(false);
        };
        Ok(nda_acceptance::Entity::find()
            .filter(nda_acceptance::Column::TenantId.eq(owner))
            .filter(nda_acceptance::Column::NdaId.eq(nda_id))
            .filter(nda_acceptance::Column::Version.eq(n.current_version))
            .filter(nda_acceptance::Column::GranteeTenantId.eq(grantee))
            .one(&self.tx)
            .await?
            .is_some())
    }
}

/// Rows whose `(owner, id)` columns are one of `pairs`.
fn any_pair<C: ColumnTrait>(owner: C, id: C, pairs: &[(Uuid, Uuid)]) -> Condition {
    pairs.iter().fold(Condition::any(), |any, (o, i)| {
        any.add(Condition::all().add(owner.eq(*o)).add(id.eq(*i)))
    })
}

fn pairs_of(grants: &[LiveGrant], kind: &str) -> Vec<(Uuid, Uuid)> {
    grants
        .iter()
        .filter(|g| g.row.artifact_kind == kind)
        .filter_map(|g| g.row.artifact_id.map(|id| (g.owner(), id)))
        .collect()
}
