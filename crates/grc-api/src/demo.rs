//! The demo world for `grc serve --demo`: a hospital (a covered entity) and two business
//! associates, each with an owner, a compliance manager and an auditor, plus a platform
//! operator. Seeding is idempotent: on a seeded database it only finds the users again.

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
