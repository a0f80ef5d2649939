//! Certificate and vendor repositories: the tenant's own ISO certificates with the
//! certification body's audits and decisions, its vendors and their subcontractor graph,
//! attestations, business associate agreements, the vendor policy, and the slim rows the
//! compliance computation reads for all vendors at once.
//!
//! Writes take whole rows (the API validates them against the domain rules first); the tenant
//! column is always this transaction's, whatever the row says.

use super::isms::sql;
use super::ops::{delete_op, opt_eq, page_of, row_ops};
use crate::entity::vendors::{
    attestation, baa, certificate, certificate_audit, certificate_decision, vendor, vendor_policy,
    vendor_subcontractor,
};
use crate::{Page, PageRequest, StoreError, TenantTx};
use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{BinOper, Condition, Expr, ExprTrait, Func, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect, Statement,
};
use uuid::Uuid;

/// Filters of the vendor list.
#[derive(Debug, Clone, Default)]
pub struct VendorFilter {
    pub tier: Option<i32>,
    pub ephi_access: Option<String>,
    pub status: Option<String>,
    /// A case-insensitive substring of the name (`%` and `_` match themselves).
    pub search: Option<String>,
}

/// Filters of the attestation list.
#[derive(Debug, Clone, Default)]
pub struct AttestationFilter {
    pub vendor_id: Option<Uuid>,
    pub kind: Option<String>,
}

/// Filters of the BAA list.
#[derive(Debug, Clone, Default)]
pub struct BaaFilter {
    pub vendor_id: Option<Uuid>,
}

/// What the compliance computation needs of a vendor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorSlim {
    pub id: Uuid,
    pub tier: i32,
    pub ephi_access: String,
    pub status: String,
}

/// What the compliance computation needs of an attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationSlim {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub kind: String,
    pub issued_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub opinion: Option<String>,
    pub bridge_through: Option<NaiveDate>,
    pub interim_submitted_on: Option<NaiveDate>,
    pub hitrust_bridge_on: Option<NaiveDate>,
    pub suspended_on: Option<NaiveDate>,
    pub withdrawn_on: Option<NaiveDate>,
    /// ISO: the edition (a 2013 certificate lapses after 2025-10-31).
    pub edition: Option<String>,
}

/// What the compliance computation needs of a BAA (`terms` is the JSON object as stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaaSlim {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub effective_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub terminated_on: Option<NaiveDate>,
    pub terms: String,
}

/// Everything the vendor compliance computation reads, for all of the tenant's vendors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComplianceInputs {
    pub vendors: Vec<VendorSlim>,
    pub attestations: Vec<AttestationSlim>,
    pub baas: Vec<BaaSlim>,
}

/// First key of the PostgreSQL advisory lock that serializes changes of a tenant's
/// subcontractor graph (the second is a hash of the tenant id).
const VENDOR_GRAPH_LOCK: i32 = 0x7665_6e64;

/// A LIKE pattern (escape character `!`) matching `s` anywhere, wildcards in `s` taken
/// literally.
fn contains_pattern(s: &str) -> String {
    let mut p = String::with_capacity(s.len() + 2);
    p.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '!') {
            p.push('!');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl TenantTx {
    row_ops!(
        certificate,
        insert_certificate,
        update_certificate,
        certificate
    );
    row_ops!(
        certificate_audit,
        insert_certificate_audit,
        update_certificate_audit,
        certificate_audit
    );
    row_ops!(
        certificate_decision,
        insert_certificate_decision,
        update_certificate_decision,
        certificate_decision
    );
    row_ops!(vendor, insert_vendor, update_vendor, vendor);
    row_ops!(
        attestation,
        insert_attestation,
        update_attestation,
        attestation
    );
    row_ops!(baa, insert_baa, update_baa, baa);
    delete_op!(certificate, delete_certificate);
    delete_op!(vendor, delete_vendor);
    delete_op!(certificate_audit, delete_certificate_audit);
    delete_op!(certificate_decision, delete_certificate_decision);
    delete_op!(attestation, delete_attestation);
    delete_op!(baa, delete_baa);

    /// All of the tenant's certificates, by standard and certificate number.
    pub async fn certificates_all(&self) -> Result<Vec<certificate::Model>, StoreError> {
        Ok(certificate::Entity::find()
            .filter(certificate::Column::TenantId.eq(self.tenant_uuid()))
            .order_by_asc(certificate::Column::Standard)
            .order_by_asc(certificate::Column::CertificateNumber)
            .order_by_asc(certificate::Column::Id)
            .all(&self.tx)
            .await?)
    }

    /// The audits of several certificates in one query, by certificate, then start date and
    /// creation.
    pub async fn certificate_audits_of(
        &self,
        certificates: &[Uuid],
    ) -> Result<Vec<certificate_audit::Model>, StoreError> {
        use certificate_audit::Column as C;
        if certificates.is_empty() {
            return Ok(Vec::new());
        }
        Ok(certificate_audit::Entity::find()
            .filter(C::TenantId.eq(self.tenant_uuid()))
            .filter(C::CertificateId.is_in(certificates.iter().copied()))
            .order_by_asc(C::CertificateId)
            .order_by_asc(C::StartDate)
            .order_by_asc(C::CreatedAt)
            .order_by_asc(C::Id)
            .all(&self.tx)
            .await?)
    }

    /// The decisions on several certificates in one query, by certificate, then decision date
    /// and creation.
    pub async fn certificate_decisions_of(
        &self,
        certificates: &[Uuid],
    ) -> Result<Vec<certificate_decision::Model>, StoreError> {
        use certificate_decision::Column as C;
        if certificates.is_empty() {
            return Ok(Vec::new());
        }
        Ok(certificate_decision::Entity::find()
            .filter(C::TenantId.eq(self.tenant_uuid()))
            .filter(C::CertificateId.is_in(certificates.iter().copied()))
            .order_by_asc(C::CertificateId)
            .order_by_asc(C::DecidedOn)
            .order_by_asc(C::CreatedAt)
            .order_by_asc(C::Id)
            .all(&self.tx)
            .await?)
    }

    /// A page of vendors, oldest first, and the total.
    pub async fn vendors_page(
        &self,
        f: &VendorFilter,
        req: &PageRequest<Uuid>,
        want_total: bool,
    ) -> Result<(Page<vendor::Model>, u64), StoreError> {
        use vendor::Column as C;
        let mut cond = opt_eq(Condition::all(), C::Tier, f.tier);
        cond = opt_eq(cond, C::EphiAccess, f.ephi_access.clone());
        cond = opt_eq(cond, C::Status, f.status.clone());
        if let Some(s) = &f.search {
            // lower() on both sides, in the database: the same folding for the name and the
            // pattern on each backend (SQLite's folds ASCII only, PostgreSQL's all of Unicode).
            let pattern = Expr::expr(Func::lower(Expr::val(contains_pattern(s))))
                .binary(BinOper::Escape, Expr::Constant('!'.into()));
            cond = cond
                .add(Expr::expr(Func::lower(Expr::col(C::Name))).binary(BinOper::Like, pattern));
        }
        page_of!(self, vendor, cond, req, want_total)
    }

    /// The tenant's vendors among `ids`, by name.
    pub async fn vendors_by_ids(&self, ids: &[Uuid]) -> Result<Vec<vendor::Model>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vendor::Entity::find()
            .filter(vendor::Column::TenantId.eq(self.tenant_uuid()))
            .filter(vendor::Column::Id.is_in(ids.iter().copied()))
            .order_by_asc(vendor::Column::Name)
            .all(&self.tx)
            .await?)
    }

    /// All of the tenant's vendors, by name.
    pub async fn vendors_all(&self) -> Result<Vec<vendor::Model>, StoreError> {
        Ok(vendor::Entity::find()
            .filter(vendor::Column::TenantId.eq(self.tenant_uuid()))
            .order_by_asc(vendor::Column::Name)
            .all(&self.tx)
            .await?)
    }

    /// PostgreSQL: takes the tenant's subcontractor-graph lock until the transaction ends, so
    /// that two concurrent edge inserts cannot together close a cycle that neither saw. Take it
    /// before reading the edges for a cycle check. SQLite has a single writer: nothing to do.
    pub async fn lock_vendor_graph(&self) -> Result<(), StoreError> {
        let backend = self.tx.get_database_backend();
        if backend != DbBackend::Postgres {
            return Ok(());
        }
        self.tx
            .execute_raw(Statement::from_sql_and_values(
                backend,
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                [
                    VENDOR_GRAPH_LOCK.into(),
                    self.tenant_uuid().to_string().into(),
                ],
            ))
            .await?;
        Ok(())
    }

    /// Records that `sub` is a subcontractor of `vendor` for `service`. An existing edge is a
    /// [`StoreError::Conflict`], and so is a vendor that does not exist.
    pub async fn add_subcontractor(
        &mut self,
        vendor: Uuid,
        sub: Uuid,
        service: &str,
    ) -> Result<vendor_subcontractor::Model, StoreError> {
        let row = vendor_subcontractor::Model {
            tenant_id: self.tenant_uuid(),
            vendor_id: vendor,
            subcontractor_id: sub,
            service: service.to_owned(),
            created_at: grc_domain::audit::truncate_to_micros(Utc::now()),
        };
        let m = row.into_active_model().reset_all().insert(&self.tx).await?;
        self.wrote();
        Ok(m)
    }

    /// Removes the edge from `vendor` to its subcontractor `sub`; whether there was one.
    pub async fn remove_subcontractor(
        &mut self,
        vendor: Uuid,
        sub: Uuid,
    ) -> Result<bool, StoreError> {
        use vendor_subcontractor::Column as C;
        let n = vendor_subcontractor::Entity::delete_many()
            .filter(C::TenantId.eq(self.tenant_uuid()))
            .filter(C::VendorId.eq(vendor))
            .filter(C::SubcontractorId.eq(sub))
            .exec(&self.tx)
            .await?;
        if n.rows_affected == 0 {
            return Ok(false);
        }
        self.wrote();
        Ok(true)
    }

    /// Every `(vendor, subcontractor)` edge of the tenant (for cycle checks and chains).
    pub async fn subcontractor_edges(&self) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
        use vendor_subcontractor::Column as C;
        Ok(vendor_subcontractor::Entity::find()
            .filter(C::TenantId.eq(self.tenant_uuid()))
            .select_only()
            .column(C::VendorId)
            .column(C::SubcontractorId)
            .order_by_asc(C::VendorId)
            .order_by_asc(C::SubcontractorId)
            .into_tuple::<(Uuid, Uuid)>()
            .all(&self.tx)
            .await?)
    }

    /// Deletes a certificate's whole history (its audits and decisions), two statements.
    pub async fn delete_certificate_history(
        &mut self,
        certificate: Uuid,
    ) -> Result<(), StoreError> {
        let t = self.tenant_uuid();
        certificate_decision::Entity::delete_many()
            .filter(certificate_decision::Column::TenantId.eq(t))
            .filter(certificate_decision::Column::CertificateId.eq(certificate))
            .exec(&self.tx)
            .await?;
        certificate_audit::Entity::delete_many()
            .filter(certificate_audit::Column::TenantId.eq(t))
            .filter(certificate_audit::Column::CertificateId.eq(certificate))
            .exec(&self.tx)
            .await?;
        self.wrote();
        Ok(())
    }

    /// Every subcontractor edge of the tenant with its service, by vendor, then subcontractor.
    pub async fn subcontractors_all(&self) -> Result<Vec<vendor_subcontractor::Model>, StoreError> {
        use vendor_subcontractor::Column as C;
        Ok(vendor_subcontractor::Entity::find()
            .filter(C::TenantId.eq(self.tenant_uuid()))
            .order_by_asc(C::VendorId)
            .order_by_asc(C::SubcontractorId)
            .all(&self.tx)
            .await?)
    }

    /// The subcontractor edges of several vendors in one query, by vendor, then creation.
    pub async fn subcontractors_of(
        &self,
        vendors: &[Uuid],
    ) -> Result<Vec<vendor_subcontractor::Model>, StoreError> {
        use vendor_subcontractor::Column as C;
        if vendors.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vendor_subcontractor::Entity::find()
            .filter(C::TenantId.eq(self.tenant_uuid()))
            .filter(C::VendorId.is_in(vendors.iter().copied()))
            .order_by_asc(C::VendorId)
            .order_by_asc(C::CreatedAt)
            .order_by_asc(C::SubcontractorId)
            .all(&self.tx)
            .await?)
    }

    /// A page of attestations, oldest first, and the total.
    pub async fn attestations_page(
        &self,
        f: &AttestationFilter,
        req: &PageRequest<Uuid>,
        want_total: bool,
    ) -> Result<(Page<attestation::Model>, u64), StoreError> {
        let cond = opt_eq(Condition::all(), attestation::Column::VendorId, f.vendor_id);
        let cond = opt_eq(cond, attestation::Column::Kind, f.kind.clone());
        page_of!(self, attestation, cond, req, want_total)
    }

    /// The attestations of several vendors in one query, by vendor, then issue date.
    pub async fn attestations_of(
        &self,
        vendors: &[Uuid],
    ) -> Result<Vec<attestation::Model>, StoreError> {
        use attestation::Column as C;
        if vendors.is_empty() {
            return Ok(Vec::new());
        }
        Ok(attestation::Entity::find()
            .filter(C::TenantId.eq(self.tenant_uuid()))
            .filter(C::VendorId.is_in(vendors.iter().copied()))
            .order_by_asc(C::VendorId)
            .order_by_asc(C::IssuedOn)
            .order_by_asc(C::Id)
            .all(&self.tx)
            .await?)
    }

    /// All of the tenant's attestations, oldest first.
    pub async fn attestations_all(&self) -> Result<Vec<attestation::Model>, StoreError> {
        Ok(attestation::Entity::find()
            .filter(attestation::Column::TenantId.eq(self.tenant_uuid()))
            .order_by_asc(attestation::Column::Id)
            .all(&self.tx)
            .await?)
    }

    /// A page of BAAs, oldest first, and the total.
    pub async fn baas_page(
        &self,
        f: &BaaFilter,
        req: &PageRequest<Uuid>,
        want_total: bool,
    ) -> Result<(Page<baa::Model>, u64), StoreError> {
        let cond = opt_eq(Condition::all(), baa::Column::VendorId, f.vendor_id);
        page_of!(self, baa, cond, req, want_total)
    }

    /// The BAAs of several vendors in one query, by vendor, then effective date.
    pub async fn baas_of(&self, vendors: &[Uuid]) -> Result<Vec<baa::Model>, StoreError> {
        use baa::Column as C;
        if vendors.is_empty() {
            return Ok(Vec::new());
        }
        Ok(baa::Entity::find()
            .filter(C::TenantId.eq(self.tenant_uuid()))
            .filter(C::VendorId.is_in(vendors.iter().copied()))
            .order_by_asc(C::VendorId)
            .order_by_asc(C::EffectiveOn)
            .order_by_asc(C::Id)
            .all(&self.tx)
            .await?)
    }

    /// All of the tenant's BAAs, oldest first.
    pub async fn baas_all(&self) -> Result<Vec<baa::Model>, StoreError> {
        Ok(baa::Entity::find()
            .filter(baa::Column::TenantId.eq(self.tenant_uuid()))
            .order_by_asc(baa::Column::Id)
            .all(&self.tx)
            .await?)
    }

    /// The tenant's vendor policy, if it has set one.
    pub async fn vendor_policy(&self) -> Result<Option<vendor_policy::Model>, StoreError> {
        Ok(vendor_policy::Entity::find()
            .filter(vendor_policy::Column::TenantId.eq(self.tenant_uuid()))
            .one(&self.tx)
            .await?)
    }

    /// Sets the tenant's vendor policy (one statement: insert, or update the existing row).
    pub async fn save_vendor_policy(
        &mut self,
        mut row: vendor_policy::Model,
    ) -> Result<(), StoreError> {
        use vendor_policy::Column as C;
        row.tenant_id = self.tenant_uuid();
        vendor_policy::Entity::insert(row.into_active_model().reset_all())
            .on_conflict(
                OnConflict::column(C::TenantId)
                    .update_columns([
                        C::Requirements,
                        C::Soc2CurrentMonths,
                        C::Soc2BridgeMaxMonths,
                        C::PenTestMonths,
                        C::QuestionnaireMonths,
                        C::ExpiringWindowDays,
                        C::UpdatedBy,
                        C::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec(&self.tx)
            .await?;
        self.wrote();
        Ok(())
    }

    /// The slim rows of all of the tenant's vendors, attestations and BAAs that the compliance
    /// computation reads: three plain queries of only the columns it needs, decoded by
    /// position (this is read for every vendor at once, so it must stay cheap).
    pub async fn compliance_inputs(&self) -> Result<ComplianceInputs, StoreError> {
        let vendors = self
            .vendor_compliance_rows(
                "SELECT id, tier, ephi_access, status FROM vendors WHERE tenant_id = $1 ORDER BY id",
            )
            .await?
            .iter()
            .map(|r| {
                Ok(VendorSlim {
                    id: r.try_get_by_index(0)?,
                    tier: r.try_get_by_index(1)?,
                    ephi_access: r.try_get_by_index(2)?,
                    status: r.try_get_by_index(3)?,
                })
            })
            .collect::<Result<Vec<_>, DbErr>>()?;
        let attestations = self
            .vendor_compliance_rows(
                "SELECT id, vendor_id, kind, issued_on, expires_on, period_start, period_end,
                        opinion, bridge_through, interim_submitted_on, hitrust_bridge_on,
                        suspended_on, withdrawn_on, edition
                 FROM attestations WHERE tenant_id = $1",
            )
            .await?
            .iter()
            .map(|r| {
                Ok(AttestationSlim {
                    id: r.try_get_by_index(0)?,
                    vendor_id: r.try_get_by_index(1)?,
                    kind: r.try_get_by_index(2)?,
                    issued_on: r.try_get_by_index(3)?,
                    expires_on: r.try_get_by_index(4)?,
                    period_start: r.try_get_by_index(5)?,
                    period_end: r.try_get_by_index(6)?,
                    opinion: r.try_get_by_index(7)?,
                    bridge_through: r.try_get_by_index(8)?,
                    interim_submitted_on: r.try_get_by_index(9)?,
                    hitrust_bridge_on: r.try_get_by_index(10)?,
                    suspended_on: r.try_get_by_index(11)?,
                    withdrawn_on: r.try_get_by_index(12)?,
                    edition: r.try_get_by_index(13)?,
                })
            })
            .collect::<Result<Vec<_>, DbErr>>()?;
        let baas = self
            .vendor_compliance_rows(
                "SELECT id, vendor_id, effective_on, ends_on, terminated_on, terms
                 FROM baas WHERE tenant_id = $1",
            )
            .await?
            .iter()
            .map(|r| {
                Ok(BaaSlim {
                    id: r.try_get_by_index(0)?,
                    vendor_id: r.try_get_by_index(1)?,
                    effective_on: r.try_get_by_index(2)?,
                    ends_on: r.try_get_by_index(3)?,
                    terminated_on: r.try_get_by_index(4)?,
                    terms: r.try_get_by_index(5)?,
                })
            })
            .collect::<Result<Vec<_>, DbErr>>()?;
        Ok(ComplianceInputs {
            vendors,
            attestations,
            baas,
        })
    }

    /// The rows of `query`, whose one parameter (`$1`) is this tenant.
    async fn vendor_compliance_rows(&self, query: &str) -> Result<Vec<QueryResult>, StoreError> {
        let backend = self.tx.get_database_backend();
        Ok(self
            .tx
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql(backend, query),
                [self.tenant_uuid().into()],
            ))
            .await?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{AuditEntry, NewTenant, Store, StoreOptions, TenantScope};
    use grc_domain::audit::Actor;
    use grc_domain::tenancy::{Name, Slug, TenantKind};

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn vendor_row(name: &str, tier: i32, ephi: &str) -> vendor::Model {
        let now = grc_domain::audit::truncate_to_micros(Utc::now());
        vendor::Model {
            tenant_id: Uuid::nil(),
            id: Uuid::now_v7(),
            name: name.into(),
            legal_name: None,
            website: None,
            description: String::new(),
            services: "[]".into(),
            ephi_access: ephi.into(),
            phi_records: None,
            tier,
            status: "active".into(),
            contacts: "[]".into(),
            owner_id: None,
            created_at: now,
            updated_at: now,
        }
    }

    fn attestation_row(vendor_id: Uuid, kind: &str) -> attestation::Model {
        let now = grc_domain::audit::truncate_to_micros(Utc::now());
        attestation::Model {
            tenant_id: Uuid::nil(),
            id: Uuid::now_v7(),
            vendor_id,
            kind: kind.into(),
            title: "SOC 2 Type II".into(),
            issuer: "Auditor LLP".into(),
            accreditation_body: None,
            certificate_number: None,
            edition: None,
            issued_on: day("2026-03-01"),
            expires_on: None,
            period_start: Some(day("2025-01-01")),
            period_end: Some(day("2025-12-31")),
            opinion: Some("unmodified".into()),
            bridge_issued_on: None,
            bridge_through: None,
            interim_submitted_on: None,
            hitrust_bridge_on: None,
            suspended_on: None,
            withdrawn_on: None,
            document_id: None,
            notes: String::new(),
            created_at: now,
            updated_at: now,
        }
    }

    async fn tenant(store: &Store, slug: &str) -> TenantScope {
        let new = NewTenant {
            slug: Slug::parse(slug).unwrap(),
            name: Name::parse("name", slug).unwrap(),
            kind: TenantKind::CoveredEntity,
        };
        let (t, _, _) = store
            .create_tenant(&new, None, &Actor::System("test".into()))
            .await
            .unwrap();
        TenantScope::new(t.id)
    }

    fn first(n: u64) -> PageRequest<Uuid> {
        PageRequest::Forward {
            first: n,
            after: None,
        }
    }

    /// Every repository call once, in one tenant's transaction (rolled back), and nothing of
    /// it seen from another tenant.
    async fn exercise(store: &Store) {
        let a = tenant(store, "vendors-a").await;
        let b = tenant(store, "vendors-b").await;
        let mut tx = store.tenant_tx(a).await.unwrap();

        let acme = tx
            .insert_vendor(vendor_row("Acme_Cloud", 1, "full"))
            .await
            .unwrap();
        let beta = tx
            .insert_vendor(vendor_row("Beta 100%", 2, "limited"))
            .await
            .unwrap();
        let gamma = tx
            .insert_vendor(vendor_row("gamma", 2, "none"))
            .await
            .unwrap();
        let names = |p: Page<vendor::Model>| -> Vec<String> {
            p.items.into_iter().map(|v| v.name).collect()
        };
        let search = |s: &str| VendorFilter {
            search: Some(s.into()),
            ..VendorFilter::default()
        };
        let (p, total) = tx
            .vendors_page(&search("ACME"), &first(10), true)
            .await
            .unwrap();
        assert_eq!((names(p), total), (vec!["Acme_Cloud".to_owned()], 1));
        let (p, _) = tx
            .vendors_page(&search("_"), &first(10), false)
            .await
            .unwrap();
        assert_eq!(names(p), vec!["Acme_Cloud"]);
        let (p, _) = tx
            .vendors_page(&search("0%"), &first(10), false)
            .await
            .unwrap();
        assert_eq!(names(p), vec!["Beta 100%"]);
        let tier2 = VendorFilter {
            tier: Some(2),
            ..VendorFilter::default()
        };
        let (p, total) = tx.vendors_page(&tier2, &first(1), true).await.unwrap();
        assert_eq!(total, 2);
        assert!(p.has_next_page);
        assert_eq!(tx.vendors_all().await.unwrap().len(), 3);
        assert_eq!(
            tx.vendors_by_ids(&[gamma.id, acme.id]).await.unwrap().len(),
            2
        );

        tx.lock_vendor_graph().await.unwrap();
        tx.add_subcontractor(acme.id, beta.id, "hosting")
            .await
            .unwrap();
        tx.add_subcontractor(beta.id, gamma.id, "backup")
            .await
            .unwrap();
        assert_eq!(tx.subcontractor_edges().await.unwrap(), {
            let mut e = vec![(acme.id, beta.id), (beta.id, gamma.id)];
            e.sort();
            e
        });
        assert_eq!(tx.subcontractors_of(&[acme.id]).await.unwrap().len(), 1);
        assert!(tx.remove_subcontractor(beta.id, gamma.id).await.unwrap());
        assert!(!tx.remove_subcontractor(beta.id, gamma.id).await.unwrap());

        let now = grc_domain::audit::truncate_to_micros(Utc::now());
        let cert = tx
            .insert_certificate(certificate::Model {
                tenant_id: Uuid::nil(),
                id: Uuid::now_v7(),
                isms_id: None,
                soa_version: None,
                standard: "iso27001".into(),
                edition: "2022".into(),
                certificate_number: "C-1".into(),
                certification_body: "Body".into(),
                accreditation_body: Some("UKAS".into()),
                scope: "All".into(),
                sites: "[\"HQ\"]".into(),
                document_id: None,
                notes: String::new(),
                owner_id: None,
                created_at: now,
                updated_at: now,
            })
            .await
            .unwrap();
        let audit = tx
            .insert_certificate_audit(certificate_audit::Model {
                tenant_id: Uuid::nil(),
                id: Uuid::now_v7(),
                certificate_id: cert.id,
                kind: "stage2".into(),
                start_date: day("2026-01-10"),
                end_date: day("2026-01-12"),
                auditors: "[]".into(),
                major_findings: 0,
                minor_findings: 2,
                observations: 1,
                summary: String::new(),
                created_at: now,
                updated_at: now,
            })
            .await
            .unwrap();
        let decision = tx
            .insert_certificate_decision(certificate_decision::Model {
                tenant_id: Uuid::nil(),
                id: Uuid::now_v7(),
                certificate_id: cert.id,
                kind: "certification".into(),
                decided_on: day("2026-02-01"),
                expires_on: Some(day("2029-01-31")),
                scope: None,
                reason: String::new(),
                created_by: "user:x".into(),
                created_at: now,
            })
            .await
            .unwrap();
        assert_eq!(tx.certificates_all().await.unwrap(), vec![cert.clone()]);
        assert_eq!(
            tx.certificate_audits_of(&[cert.id]).await.unwrap(),
            vec![audit.clone()]
        );
        assert_eq!(
            tx.certificate_decisions_of(&[cert.id]).await.unwrap(),
            vec![decision.clone()]
        );
        assert!(tx.delete_certificate_decision(decision.id).await.unwrap());
        assert!(!tx.delete_certificate_decision(decision.id).await.unwrap());
        assert!(tx.delete_certificate_audit(audit.id).await.unwrap());

        let att = tx
            .insert_attestation(attestation_row(acme.id, "soc2-type2"))
            .await
            .unwrap();
        let mut pen = attestation_row(beta.id, "pen-test");
        pen.period_start = None;
        pen.period_end = None;
        let pen = tx.insert_attestation(pen).await.unwrap();
        let (p, total) = tx
            .attestations_page(
                &AttestationFilter {
                    vendor_id: None,
                    kind: Some("pen-test".into()),
                },
                &first(10),
                true,
            )
            .await
            .unwrap();
        assert_eq!((p.items, total), (vec![pen.clone()], 1));
        assert_eq!(
            tx.attestations_of(&[acme.id]).await.unwrap(),
            vec![att.clone()]
        );
        assert_eq!(tx.attestations_all().await.unwrap().len(), 2);

        let agreement = tx
            .insert_baa(baa::Model {
                tenant_id: Uuid::nil(),
                id: Uuid::now_v7(),
                vendor_id: acme.id,
                title: "BAA".into(),
                parties: "[]".into(),
                effective_on: day("2025-06-01"),
                ends_on: None,
                review_on: None,
                terminated_on: None,
                breach_notice_days: 30,
                subcontractor_flow_down: true,
                terms: "{}".into(),
                document_id: None,
                notes: String::new(),
                created_at: now,
                updated_at: now,
            })
            .await
            .unwrap();
        let (p, _) = tx
            .baas_page(
                &BaaFilter {
                    vendor_id: Some(acme.id),
                },
                &first(10),
                false,
            )
            .await
            .unwrap();
        assert_eq!(p.items, vec![agreement.clone()]);
        assert_eq!(tx.baas_of(&[acme.id, beta.id]).await.unwrap().len(), 1);
        assert_eq!(tx.baas_all().await.unwrap().len(), 1);

        assert_eq!(tx.vendor_policy().await.unwrap(), None);
        let mut policy = vendor_policy::Model {
            tenant_id: Uuid::nil(),
            requirements: "{}".into(),
            soc2_current_months: 12,
            soc2_bridge_max_months: 3,
            pen_test_months: 12,
            questionnaire_months: 12,
            expiring_window_days: 60,
            updated_by: "user:x".into(),
            updated_at: now,
        };
        tx.save_vendor_policy(policy.clone()).await.unwrap();
        policy.expiring_window_days = 90;
        tx.save_vendor_policy(policy.clone()).await.unwrap();
        policy.tenant_id = a.tenant_id().0;
        assert_eq!(tx.vendor_policy().await.unwrap(), Some(policy));

        let inputs = tx.compliance_inputs().await.unwrap();
        assert_eq!(inputs.vendors.len(), 3);
        let slim = inputs.attestations.iter().find(|s| s.id == att.id).unwrap();
        assert_eq!(
            (slim.vendor_id, slim.period_end, slim.opinion.as_deref()),
            (acme.id, Some(day("2025-12-31")), Some("unmodified"))
        );
        assert_eq!(inputs.baas[0].terms, "{}");
        assert_eq!(inputs.baas[0].effective_on, day("2025-06-01"));

        assert!(tx.delete_attestation(pen.id).await.unwrap());
        assert!(tx.delete_baa(agreement.id).await.unwrap());
        // A duplicate edge is a conflict (last: PostgreSQL aborts the transaction on it).
        assert!(matches!(
            tx.add_subcontractor(acme.id, beta.id, "again").await,
            Err(StoreError::Conflict(_))
        ));
        tx.rollback().await.unwrap();

        // Another tenant sees none of the first one's rows.
        let mut tx = store.tenant_tx(a).await.unwrap();
        let v = tx
            .insert_vendor(vendor_row("Acme", 1, "full"))
            .await
            .unwrap();
        tx.append_audit(AuditEntry {
            actor: Actor::System("test".into()),
            action: "vendor.create".into(),
            subject_type: "Vendor".into(),
            subject_id: v.id.to_string(),
            change: serde_json::json!({}),
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let other = store.tenant_tx(b).await.unwrap();
        assert!(other.vendors_all().await.unwrap().is_empty());
        assert_eq!(other.vendor(v.id).await.unwrap(), None);
        assert_eq!(
            other.compliance_inputs().await.unwrap(),
            ComplianceInputs::default()
        );
        other.rollback().await.unwrap();
    }

    #[tokio::test]
    async fn vendor_repository_on_sqlite() {
        let store = Store::connect("sqlite::memory:", &StoreOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        exercise(&store).await;
    }
}
