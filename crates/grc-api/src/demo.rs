//! The demo world for `grc serve --demo`: a hospital (a covered entity) and two business
//! associates, each with an owner, a compliance manager and an auditor, plus a platform
//! operator. The hospital also has a framework of its own (a business associate agreement's
//! security schedule) linked to ISO/IEC 27001:2022, and has confirmed one derived HIPAA → ISO
//! link, and an ISMS with a worked-on SoA draft, assets, risks and an assessment. Seeding is
//! idempotent: on a seeded database it only finds the users again.

use crate::auth::TokenIssuer;
use grc_domain::audit::Actor;
use grc_domain::tenancy::{Email, Name, Role, Slug, TenantKind};
use grc_store::{NewTenant, Store, StoreError, TenantScope};
use std::time::Duration;

/// A demo user with a ready token.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub tenant: Option<String>,
    pub email: String,
    pub role: Option<Role>,
    pub token: String,
}

const TENANTS: &[(&str, &str, TenantKind)] = &[
    (
        "st-marys",
        "St. Mary's Regional Hospital",
        TenantKind::CoveredEntity,
    ),
    (
        "medbill",
        "MedBill Revenue Services",
        TenantKind::BusinessAssociate,
    ),
    (
        "cloudchart",
        "CloudChart EHR Hosting",
        TenantKind::BusinessAssociate,
    ),
];

const ROLES: &[(&str, Role)] = &[
    ("owner", Role::Owner),
    ("compliance", Role::ComplianceManager),
    ("auditor", Role::Auditor),
];

pub const OPERATOR_EMAIL: &str = "operator@grc.example";

#[allow(clippy::needless_pass_by_value)] // used as `map_err(invalid)`
fn invalid(e: grc_domain::DomainError) -> StoreError {
    StoreError::Invalid(e.to_string())
}

/// Seeds the demo world (once) and returns a token for each demo user.
pub async fn seed(
    store: &Store,
    issuer: &TokenIssuer,
    ttl: Duration,
) -> Result<Vec<DemoLogin>, StoreError> {
    let actor = Actor::System("demo".into());
    let mut logins = Vec::new();
    for (slug, name, kind) in TENANTS {
        let ptx = store.platform_tx().await?;
        let existing = ptx.tenant_by_slug(slug).await?;
        ptx.commit().await?;
        let tenant = match existing {
            Some(t) => t,
            None => {
                let new = NewTenant {
                    slug: Slug::parse(slug).map_err(invalid)?,
                    name: Name::parse("name", name).map_err(invalid)?,
                    kind: *kind,
                };
                store.create_tenant(&new, None, &actor).await?.0
            }
        };
        for (local, role) in ROLES {
            let email = Email::parse(&format!("{local}@{slug}.example")).map_err(invalid)?;
            let ptx = store.platform_tx().await?;
            let (user, _) = ptx.ensure_user(&email, None).await?;
            let mut tx = ptx.enter_tenant(TenantScope::new(tenant.id)).await?;
            if tx.member(user.id).await?.is_none() {
                tx.add_member_recorded(user.id, *role, &actor).await?;
            }
            tx.commit().await?;
            logins.push(DemoLogin {
                tenant: Some((*slug).to_owned()),
                email: email.as_str().to_owned(),
                role: Some(*role),
                token: issuer
                    .issue(&user.subject, ttl)
                    .map_err(StoreError::Invalid)?,
            });
        }
    }
    if let Some(first) = logins.first().and_then(|l| l.tenant.clone()) {
        let ptx = store.platform_tx().await?;
        let tenant = ptx.tenant_by_slug(&first).await?;
        ptx.commit().await?;
        if let Some(t) = tenant {
            seed_catalog(store, TenantScope::new(t.id), &actor).await?;
            seed_isms(store, TenantScope::new(t.id), &actor).await?;
            seed_vendors(store, TenantScope::new(t.id), &actor).await?;
        }
    }
    // CloudChart, a business associate, holds an ISO/IEC 27001 certificate of its own.
    let ptx = store.platform_tx().await?;
    let cloudchart = ptx.tenant_by_slug("cloudchart").await?;
    ptx.commit().await?;
    if let Some(t) = &cloudchart {
        seed_certificate(store, TenantScope::new(t.id), &actor).await?;
    }
    // St. Mary's vendor record of CloudChart is linked to CloudChart's tenant, and CloudChart
    // shares all its ISO certificates with St. Mary's (metadata), live.
    let ptx = store.platform_tx().await?;
    let st_marys = ptx.tenant_by_slug("st-marys").await?;
    ptx.commit().await?;
    if let (Some(c), Some(p)) = (st_marys, cloudchart) {
        seed_sharing(
            store,
            TenantScope::new(c.id),
            TenantScope::new(p.id),
            &actor,
        )
        .await?;
    }
    let email = Email::parse(OPERATOR_EMAIL).map_err(invalid)?;
    let ptx = store.platform_tx().await?;
    let (op, _) = ptx
        .ensure_user(
            &email,
            Some(&Name::parse("name", "Platform Operator").map_err(invalid)?),
        )
        .await?;
    ptx.set_platform_operator(op.id, true).await?;
    ptx.commit().await?;
    logins.push(DemoLogin {
        tenant: None,
        email: email.as_str().to_owned(),
        role: None,
        token: issuer
            .issue(&op.subject, ttl)
            .map_err(StoreError::Invalid)?,
    });
    Ok(logins)
}

/// The hospital's ISMS: its SoA draft with a few entries worked on, three assets, three risks
/// and one dated assessment, unless it already has one.
async fn seed_isms(store: &Store, scope: TenantScope, actor: &Actor) -> Result<(), StoreError> {
    use grc_domain::isms::{
        AssetKind, Classification, ImplementationStatus, Rating, RiskCriteria, Treatment,
    };
    let mut tx = store.tenant_tx(scope).await?;
    if !tx.isms_list().await?.is_empty() {
        return tx.commit().await.map(|_| ());
    }
    let bundle =
        grc_catalog::Bundle::shipped_static().map_err(|e| StoreError::Invalid(e.to_string()))?;
    let iso = bundle
        .frameworks
        .iter()
        .find(|f| f.key == crate::graphql::isms::BASE_FRAMEWORK)
        .ok_or_else(|| StoreError::Invalid("no ISO/IEC 27001:2022 catalog".into()))?;
    let controls: Vec<grc_store::SoaControl> = iso
        .controls
        .iter()
        .filter(|c| c.kind == "control")
        .map(|c| grc_store::SoaControl {
            control_id: c.id,
            control_ref: c.reference.clone(),
            sort: c.sort,
        })
        .collect();
    let by_ref = |r: &str| iso.controls.iter().find(|c| c.reference == r).map(|c| c.id);
    let who = actor.to_stored();
    let isms = uuid::Uuid::now_v7();
    tx.create_isms(
        isms,
        crate::graphql::isms::BASE_FRAMEWORK,
        &grc_store::IsmsFields {
            name: "St. Mary's ISMS".into(),
            scope_statement: "Clinical and administrative information systems of the main campus \
                              and the two outpatient clinics, including all systems holding ePHI."
                .into(),
            boundaries: "Excludes the research institute (separate ISMS).".into(),
            sites: vec![
                "Main campus".into(),
                "North clinic".into(),
                "South clinic".into(),
            ],
            privacy_framework: None,
            privacy_role: None,
            climate_relevant: Some(true),
            climate_rationale: Some("Flooding risk to the main data centre (demo).".into()),
        },
        &RiskCriteria::default(),
        &controls,
        &who,
    )
    .await?;
    let mut changes = Vec::new();
    for (r, status) in [
        ("A.5.1", ImplementationStatus::Implemented),
        ("A.5.15", ImplementationStatus::Implemented),
        ("A.5.24", ImplementationStatus::Partial),
        ("A.8.7", ImplementationStatus::Implemented),
        ("A.8.13", ImplementationStatus::Partial),
        ("A.8.24", ImplementationStatus::Planned),
    ] {
        if let Some(id) = by_ref(r) {
            changes.push((
                id,
                grc_store::SoaEntryPatch {
                    justification: Some("Required to protect ePHI (risk assessment 2026).".into()),
                    status: Some(status),
                    ..Default::default()
                },
            ));
        }
    }
    tx.update_soa_entries(isms, &changes, &who).await?;
    let mut assets = Vec::new();
    for (name, kind, ephi) in [
        ("Electronic health record", AssetKind::System, true),
        ("Billing database", AssetKind::Information, true),
        ("Staff laptops", AssetKind::Device, true),
    ] {
        let id = uuid::Uuid::now_v7();
        tx.save_asset(
            id,
            &grc_store::AssetFields {
                isms_id: Some(isms),
                name: name.into(),
                kind,
                classification: Classification::Restricted,
                owner_id: None,
                location: Some("Main campus".into()),
                description: String::new(),
                ephi,
            },
            true,
        )
        .await?;
        assets.push(id);
    }
    for (i, (r, title, inherent, residual, control)) in [
        (
            "R-001",
            "Ransomware encrypts the EHR",
            (4, 5),
            Some((2, 3)),
            "A.8.13",
        ),
        ("R-002", "Lost unencrypted laptop", (3, 4), None, "A.8.24"),
        (
            "R-003",
            "Phishing leads to account takeover",
            (4, 4),
            Some((3, 2)),
            "A.8.7",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let rating = |(l, i): (u8, u8)| Rating {
            likelihood: l,
            impact: i,
        };
        tx.save_risk(
            uuid::Uuid::now_v7(),
            isms,
            &grc_store::RiskFields {
                reference: r.into(),
                title: title.into(),
                description: String::new(),
                threat: String::new(),
                vulnerability: String::new(),
                owner_id: None,
                inherent: rating(inherent),
                residual: residual.map(rating),
                treatment: Some(Treatment::Modify),
                treatment_plan: None,
                review_date: None,
            },
            Some(&assets[i..=i]),
            Some(&by_ref(control).into_iter().collect::<Vec<_>>()),
            true,
        )
        .await?;
    }
    let today = chrono::Utc::now().date_naive();
    tx.record_risk_assessment(
        uuid::Uuid::now_v7(),
        isms,
        "Annual risk assessment",
        today,
        &who,
    )
    .await?;
    tx.append_audit(grc_store::AuditEntry {
        actor: actor.clone(),
        action: "isms.create".into(),
        subject_type: "Isms".into(),
        subject_id: isms.to_string(),
        change: serde_json::json!({ "demo": true, "assets": 3, "risks": 3 }),
    })
    .await?;
    tx.commit().await.map(|_| ())
}

fn months_ago(today: chrono::NaiveDate, months: u32) -> chrono::NaiveDate {
    today
        .checked_sub_months(chrono::Months::new(months))
        .unwrap_or(today)
}

fn months_on(d: chrono::NaiveDate, months: u32) -> chrono::NaiveDate {
    d.checked_add_months(chrono::Months::new(months))
        .unwrap_or(d)
}

/// CloudChart's ISO/IEC 27001:2022 certificate: stage 1 and 2, the decision 20 months ago, a
/// surveillance 11 months after it (the next one is due this calendar year or next), unless it
/// already has one.
async fn seed_certificate(
    store: &Store,
    scope: TenantScope,
    actor: &Actor,
) -> Result<(), StoreError> {
    use grc_store::entity::vendors::{certificate, certificate_audit, certificate_decision};
    let mut tx = store.tenant_tx(scope).await?;
    if !tx.certificates_all().await?.is_empty() {
        return tx.commit().await.map(|_| ());
    }
    let today = chrono::Utc::now().date_naive();
    let decided = months_ago(today, 20);
    let now = chrono::Utc::now();
    let cert = tx
        .insert_certificate(certificate::Model {
            tenant_id: uuid::Uuid::nil(),
            id: uuid::Uuid::now_v7(),
            isms_id: None,
            soa_version: None,
            standard: "iso27001".into(),
            edition: "2022".into(),
            certificate_number: "CC-ISMS-0417".into(),
            certification_body: "Example Certification Services Ltd (demo)".into(),
            accreditation_body: Some("ANAB".into()),
            scope: "Hosting and operation of the CloudChart EHR platform, incl. backups and \
                    support (demo)."
                .into(),
            sites: serde_json::json!(["Denver operations centre", "Remote support"]).to_string(),
            document_id: None,
            notes: String::new(),
            owner_id: None,
            created_at: now,
            updated_at: now,
        })
        .await?;
    let days = |d: chrono::NaiveDate, n: u64| d.checked_sub_days(chrono::Days::new(n)).unwrap_or(d);
    for (kind, start, end, minors) in [
        ("stage1", days(decided, 60), days(decided, 59), 0),
        ("stage2", days(decided, 21), days(decided, 18), 2),
        (
            "surveillance",
            months_on(decided, 11),
            months_on(decided, 11),
            1,
        ),
    ] {
        tx.insert_certificate_audit(certificate_audit::Model {
            tenant_id: uuid::Uuid::nil(),
            id: uuid::Uuid::now_v7(),
            certificate_id: cert.id,
            kind: kind.into(),
            start_date: start,
            end_date: end,
            auditors: serde_json::json!(["A. Auditor (lead)", "B. Auditor"]).to_string(),
            major_findings: 0,
            minor_findings: minors,
            observations: 1,
            summary: String::new(),
            created_at: now,
            updated_at: now,
        })
        .await?;
    }
    tx.insert_certificate_decision(certificate_decision::Model {
        tenant_id: uuid::Uuid::nil(),
        id: uuid::Uuid::now_v7(),
        certificate_id: cert.id,
        kind: "certification".into(),
        decided_on: decided,
        expires_on: Some(days(months_on(decided, 36), 1)),
        scope: None,
        reason: "Initial certification (demo).".into(),
        created_by: actor.to_stored(),
        created_at: now,
    })
    .await?;
    tx.append_audit(grc_store::AuditEntry {
        actor: actor.clone(),
        action: "certificate.create".into(),
        subject_type: "Certificate".into(),
        subject_id: cert.id.to_string(),
        change: serde_json::json!({ "demo": true, "audits": 3, "decisions": 1 }),
    })
    .await?;
    tx.commit().await.map(|_| ())
}

/// The hospital's vendor register: its EHR host (and the host's data centre, a subcontractor),
/// its billing company, a shredding service, with attestations and BAAs dated so that each
/// compliance outcome shows, unless it already has vendors.
async fn seed_vendors(store: &Store, scope: TenantScope, actor: &Actor) -> Result<(), StoreError> {
    use grc_store::entity::vendors::{attestation, baa, vendor};
    let mut tx = store.tenant_tx(scope).await?;
    if !tx.vendors_all().await?.is_empty() {
        return tx.commit().await.map(|_| ());
    }
    let today = chrono::Utc::now().date_naive();
    let now = chrono::Utc::now();
    let mut ids = Vec::new();
    for (name, services, ephi, tier, records) in [
        (
            "CloudChart EHR Hosting",
            vec!["EHR hosting", "Backups"],
            "full",
            1,
            Some(250_000),
        ),
        (
            "MedBill Revenue Services",
            vec!["Claims and billing"],
            "full",
            1,
            Some(120_000),
        ),
        (
            "NorthDC Colocation",
            vec!["Data centre space"],
            "none",
            2,
            None,
        ),
        (
            "SecureShred",
            vec!["Paper record destruction"],
            "limited",
            3,
            Some(5_000),
        ),
    ] {
        let v = tx
            .insert_vendor(vendor::Model {
                tenant_id: uuid::Uuid::nil(),
                id: uuid::Uuid::now_v7(),
                name: name.into(),
                legal_name: None,
                website: None,
                description: String::new(),
                services: serde_json::json!(services).to_string(),
                ephi_access: ephi.into(),
                phi_records: records,
                tier,
                status: "active".into(),
                contacts: serde_json::json!([{ "name": "Security team", "email":
                    format!("security@{}.example", name.split(' ').next().unwrap_or("vendor")
                        .to_lowercase()), "role": "security" }])
                .to_string(),
                owner_id: None,
                created_at: now,
                updated_at: now,
            })
            .await?;
        ids.push(v.id);
    }
    let (cloudchart, medbill, northdc, shred) = (ids[0], ids[1], ids[2], ids[3]);
    tx.add_subcontractor(cloudchart, northdc, "Hosts the EHR platform's servers")
        .await?;
    let att = |vendor_id, kind: &str, title: &str, issued_on| attestation::Model {
        tenant_id: uuid::Uuid::nil(),
        id: uuid::Uuid::now_v7(),
        vendor_id,
        kind: kind.into(),
        title: title.into(),
        issuer: "Example Assurance LLP (demo)".into(),
        accreditation_body: None,
        certificate_number: None,
        edition: None,
        issued_on,
        expires_on: None,
        period_start: None,
        period_end: None,
        opinion: None,
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
    };
    let cc_decided = months_ago(today, 20);
    let one_day = chrono::Days::new(1);
    let mut rows = vec![
        attestation::Model {
            accreditation_body: Some("ANAB".into()),
            certificate_number: Some("CC-ISMS-0417".into()),
            edition: Some("2022".into()),
            expires_on: months_on(cc_decided, 36).checked_sub_days(one_day),
            ..att(
                cloudchart,
                "iso27001",
                "ISO/IEC 27001:2022 certificate",
                cc_decided,
            )
        },
        attestation::Model {
            period_start: Some(months_ago(today, 14)),
            period_end: Some(months_ago(today, 2)),
            opinion: Some("unmodified".into()),
            ..att(
                cloudchart,
                "soc2-type2",
                "SOC 2 Type II report",
                months_ago(today, 1),
            )
        },
        att(
            cloudchart,
            "pen-test",
            "External penetration test",
            months_ago(today, 10),
        ),
        // MedBill's certificate expires within the 30-day window; its pen test has lapsed.
        attestation::Model {
            accreditation_body: Some("UKAS".into()),
            edition: Some("2022".into()),
            expires_on: today.checked_add_days(chrono::Days::new(20)),
            ..att(
                medbill,
                "iso27001",
                "ISO/IEC 27001:2022 certificate",
                months_ago(today, 36)
                    .checked_add_days(chrono::Days::new(21))
                    .unwrap_or(today),
            )
        },
        att(
            medbill,
            "pen-test",
            "Penetration test",
            months_ago(today, 13),
        ),
        attestation::Model {
            period_start: Some(months_ago(today, 15)),
            period_end: Some(months_ago(today, 3)),
            opinion: Some("qualified".into()),
            bridge_issued_on: Some(months_ago(today, 1)),
            bridge_through: Some(months_ago(today, 1)),
            ..att(
                northdc,
                "soc2-type2",
                "SOC 2 Type II report",
                months_ago(today, 2),
            )
        },
        att(
            shred,
            "questionnaire",
            "Security questionnaire",
            months_ago(today, 3),
        ),
    ];
    for row in rows.drain(..) {
        tx.insert_attestation(row).await?;
    }
    let all_terms: std::collections::BTreeMap<&str, bool> = grc_domain::vendors::BAA_TERMS
        .iter()
        .map(|t| (t.key, true))
        .collect();
    let mut medbill_terms = all_terms.clone();
    medbill_terms.insert("security-incidents", false);
    for (vendor_id, effective_on, ends_on, terms, days) in [
        (cloudchart, months_ago(today, 24), None, &all_terms, 30),
        (medbill, months_ago(today, 30), None, &medbill_terms, 45),
        (
            shred,
            months_ago(today, 12),
            today.checked_add_days(chrono::Days::new(20)),
            &all_terms,
            10,
        ),
    ] {
        tx.insert_baa(baa::Model {
            tenant_id: uuid::Uuid::nil(),
            id: uuid::Uuid::now_v7(),
            vendor_id,
            title: "Business associate agreement".into(),
            parties: serde_json::json!([
                { "name": "St. Mary's Regional Hospital", "role": "covered entity" },
                { "name": "Vendor", "role": "business associate" }
            ])
            .to_string(),
            effective_on,
            ends_on,
            review_on: Some(months_on(effective_on, 12)),
            terminated_on: None,
            breach_notice_days: days,
            subcontractor_flow_down: true,
            terms: serde_json::to_string(terms).unwrap_or_else(|_| "{}".into()),
            document_id: None,
            notes: String::new(),
            created_at: now,
            updated_at: now,
        })
        .await?;
    }
    tx.append_audit(grc_store::AuditEntry {
        actor: actor.clone(),
        action: "vendors.seed".into(),
        subject_type: "Vendor".into(),
        subject_id: cloudchart.to_string(),
        change: serde_json::json!({ "demo": true, "vendors": 4 }),
    })
    .await?;
    tx.commit().await.map(|_| ())
}

/// The hospital's own BAA security schedule, mapped to ISO/IEC 27001:2022, and one confirmed
/// derived link (HIPAA 164.308(b)(1) → ISO A.5.20), unless already there.
async fn seed_catalog(store: &Store, scope: TenantScope, actor: &Actor) -> Result<(), StoreError> {
    use grc_catalog::model::{control_id, link_id};
    use grc_catalog::{Control, Framework, MappingState, Relationship};
    const KEY: &str = "baa-security-schedule";
    let mut tx = store.tenant_tx(scope).await?;
    let existing = tx.custom_frameworks().await?;
    if existing.iter().any(|f| f.framework.key == KEY) {
        return tx.commit().await.map(|_| ());
    }
    let controls: Vec<Control> = [
        ("S-1", "Encrypt ePHI at rest and in transit"),
        ("S-2", "Report security incidents within 5 business days"),
        ("S-3", "Flow these terms down to subcontractors"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (r, t))| {
        let mut c = Control::new(
            uuid::Uuid::now_v7(),
            (*r).into(),
            (*t).into(),
            "clause".into(),
        );
        c.sort = i32::try_from(i).unwrap_or(0);
        c
    })
    .collect();
    let framework = Framework {
        id: uuid::Uuid::now_v7(),
        key: KEY.into(),
        name: "BAA security schedule (demo)".into(),
        version: "2026-01".into(),
        publisher: "St. Mary's Regional Hospital".into(),
        kind: "custom".into(),
        licence: "tenant".into(),
        source: "created by the demo seed".into(),
        notes: None,
        groups: Vec::new(),
        controls,
    };
    tx.create_custom_framework(&grc_store::NewCustomFramework {
        framework: &framework,
        origin: "manual",
        import: None,
    })
    .await?;
    let who = actor.to_stored();
    for (own, iso, rel) in [
        (0, "A.8.24", Relationship::SubsetOf),
        (1, "A.5.26", Relationship::IntersectsWith),
        (2, "A.5.20", Relationship::IntersectsWith),
    ] {
        tx.add_tenant_link(
            grc_store::LinkEnd::Custom(framework.controls[own].id),
            grc_store::LinkEnd::Shared(control_id("iso27001-2022", iso)),
            rel,
            None,
            &who,
        )
        .await?;
    }
    let derived = link_id(
        "hipaa-sr_to_iso27001-2022_derived",
        control_id("hipaa-sr", "164.308(b)(1)"),
        control_id("iso27001-2022", "A.5.20"),
    );
    tx.set_review(
        derived,
        MappingState::Confirmed,
        Some("Our BAAs require A.5.20-style supplier terms (demo).".into()),
        &who,
    )
    .await?;
    tx.append_audit(grc_store::AuditEntry {
        actor: actor.clone(),
        action: "framework.create".into(),
        subject_type: "framework".into(),
        subject_id: framework.id.to_string(),
        change: serde_json::json!({ "key": KEY, "controls": 3, "links": 3, "reviews": 1 }),
    })
    .await?;
    tx.commit().await.map(|_| ())
}

/// The demo connection between St. Mary's (customer) and CloudChart (provider), accepted, and
/// CloudChart's grant of all its ISO certificates to St. Mary's, unless they exist.
async fn seed_sharing(
    store: &Store,
    customer: TenantScope,
    provider: TenantScope,
    actor: &Actor,
) -> Result<(), StoreError> {
    use grc_store::entity::sharing::{connection, share_grant, share_listing};
    let mut tx = store.tenant_tx(customer).await?;
    if !tx.connections_for_me(None).await?.is_empty() {
        return tx.commit().await.map(|_| ());
    }
    let Some(vendor) = tx
        .vendors_all()
        .await?
        .into_iter()
        .find(|v| v.name == "CloudChart EHR Hosting")
    else {
        return tx.commit().await.map(|_| ());
    };
    let now = grc_domain::audit::truncate_to_micros(chrono::Utc::now());
    let conn = tx
        .insert_connection(connection::Model {
            tenant_id: customer.tenant_id().0,
            id: uuid::Uuid::now_v7(),
            vendor_id: vendor.id,
            provider_tenant_id: provider.tenant_id().0,
            status: "active".into(),
            message: "Please link your certificates to our vendor record.".into(),
            invited_by: actor.to_stored(),
            invited_at: now,
            responded_by: Some(actor.to_stored()),
            responded_at: Some(now),
            response_reason: None,
            ended_by_tenant: None,
            ended_by: None,
            ended_at: None,
            end_reason: None,
        })
        .await?;
    tx.append_audit(grc_store::AuditEntry {
        actor: actor.clone(),
        action: "connection.invite".into(),
        subject_type: "TenantConnection".into(),
        subject_id: conn.id.to_string(),
        change: serde_json::json!({"vendor": vendor.id, "provider": provider.tenant_id().0, "status": "active"}),
    })
    .await?;
    tx.commit().await?;

    let mut tx = store.tenant_tx(provider).await?;
    tx.insert_share_listing(share_listing::Model {
        tenant_id: provider.tenant_id().0,
        id: uuid::Uuid::now_v7(),
        artifact_kind: "all-iso-certificates".into(),
        artifact_id: None,
        title: "CloudChart ISO/IEC 27001 certificates".into(),
        description: "Our current certificates, live.".into(),
        created_by: actor.to_stored(),
        created_at: now,
        updated_at: now,
    })
    .await?;
    let grant = tx
        .insert_share_grant(share_grant::Model {
            tenant_id: provider.tenant_id().0,
            id: uuid::Uuid::now_v7(),
            grantee_tenant_id: customer.tenant_id().0,
            connection_tenant_id: customer.tenant_id().0,
            connection_id: conn.id,
            artifact_kind: "all-iso-certificates".into(),
            artifact_id: None,
            access: "metadata".into(),
            expires_at: None,
            nda_id: None,
            request_id: None,
            note: String::new(),
            created_by: actor.to_stored(),
            created_at: now,
            revoked_by: None,
            revoked_at: None,
            revoke_reason: None,
        })
        .await?;
    tx.append_audit(grc_store::AuditEntry {
        actor: actor.clone(),
        action: "share.grant".into(),
        subject_type: "ShareGrant".into(),
        subject_id: grant.id.to_string(),
        change: serde_json::json!({"grantee": customer.tenant_id().0, "artifactKind": "all-iso-certificates"}),
    })
    .await?;
    tx.commit().await?;
    Ok(())
}
