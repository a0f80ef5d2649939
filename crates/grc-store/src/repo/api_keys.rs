//! Service API keys. The key is shown once, at creation; only the SHA-256 of its secret is
//! stored. The key names its tenant and id, so authenticating it takes one tenant-scoped lookup
//! and no query across tenants.
//!
//! Format: `grck_<tenant id, 32 hex>_<key id, 32 hex>_<secret, 64 hex>`.

use super::parse_role;
use crate::entity::api_key;
use crate::{Page, PageRequest, Store, StoreError, TenantScope, TenantTx};
use chrono::{DateTime, Utc};
use grc_domain::ids::{ApiKeyId, TenantId};
use grc_domain::tenancy::{Name, Role};
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

const PREFIX: &str = "grck_";
/// How stale `last_used_at` may get before a use writes it again.
const TOUCH_INTERVAL_SECS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub tenant_id: TenantId,
    pub name: String,
    pub role: Role,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The whole key, returned once. Its `Debug` hides the secret.
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKeySecret(***)")
    }
}

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: Name,
    pub role: Role,
    pub created_by: String,
}

fn record(m: api_key::Model) -> Result<ApiKeyRecord, StoreError> {
    Ok(ApiKeyRecord {
        id: ApiKeyId(m.id),
        tenant_id: TenantId(m.tenant_id),
        role: parse_role(&m.role)?,
        name: m.name,
        created_by: m.created_by,
        created_at: m.created_at,
        revoked_at: m.revoked_at,
        last_used_at: m.last_used_at,
    })
}

fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The parts of a presented key, if it has the key format at all.
pub(crate) fn parse_key(key: &str) -> Option<(TenantId, ApiKeyId, &str)> {
    let rest = key.strip_prefix(PREFIX)?;
    let mut parts = rest.split('_');
    let (t, k, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || t.len() != 32 || k.len() != 32 || s.len() != 64 {
        return None;
    }
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((
        TenantId(Uuid::try_parse(t).ok()?),
        ApiKeyId(Uuid::try_parse(k).ok()?),
        s,
    ))
}

/// Whether a bearer credential looks like an API key (rather than a JWT).
pub fn is_api_key(credential: &str) -> bool {
    credential.starts_with(PREFIX)
}

impl TenantTx {
    fn keys_query(&self) -> sea_orm::Select<api_key::Entity> {
        api_key::Entity::find().filter(api_key::Column::TenantId.eq(self.tenant_uuid()))
    }

    pub async fn create_api_key(
        &mut self,
        new: &NewApiKey,
    ) -> Result<(ApiKeyRecord, ApiKeySecret), StoreError> {
        let id = ApiKeyId::generate();
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = hex::encode(bytes);
        let key = format!(
            "{PREFIX}{}_{}_{secret}",
            self.tenant_uuid().simple(),
            id.0.simple()
        );
        let model = api_key::ActiveModel {
            tenant_id: Set(self.tenant_uuid()),
            id: Set(id.0),
            name: Set(new.name.as_str().to_owned()),
            role: Set(new.role.as_str().to_owned()),
            secret_hash: Set(hash_secret(&secret)),
            created_by: Set(new.created_by.clone()),
            created_at: Set(grc_domain::audit::truncate_to_micros(Utc::now())),
            revoked_at: Set(None),
            last_used_at: Set(None),
        }
        .insert(&self.tx)
        .await?;
        self.wrote();
        Ok((record(model)?, ApiKeySecret(key)))
    }

    pub async fn api_keys(
        &self,
        page: &PageRequest<ApiKeyId>,
    ) -> Result<Page<ApiKeyRecord>, StoreError> {
        let q = page.apply(self.keys_query(), api_key::Column::Id, |k| k.0.into());
        let rows = q.all(&self.tx).await?;
        let rows = rows
            .into_iter()
            .map(record)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(rows))
    }

    pub async fn api_key_count(&self) -> Result<u64, StoreError> {
        Ok(self.keys_query().count(&self.tx).await?)
    }

    pub async fn api_key(&self, id: ApiKeyId) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.keys_query()
            .filter(api_key::Column::Id.eq(id.0))
            .one(&self.tx)
            .await?
            .map(record)
            .transpose()
    }

    /// Revokes a key. Revoking a revoked key is a `Conflict`; an unknown one `NotFound`.
    pub async fn revoke_api_key(&mut self, id: ApiKeyId) -> Result<ApiKeyRecord, StoreError> {
        let existing = self.api_key(id).await?.ok_or(StoreError::NotFound)?;
        if existing.revoked_at.is_some() {
            return Err(StoreError::Conflict("the key is already revoked".into()));
        }
        api_key::Entity::update_many()
            .col_expr(
                api_key::Column::RevokedAt,
                Some(grc_domain::audit::truncate_to_micros(Utc::now())).into(),
            )
            .filter(api_key::Column::TenantId.eq(self.tenant_uuid()))
            .filter(api_key::Column::Id.eq(id.0))
            .exec(&self.tx)
            .await?;
        self.wrote();
        self.api_key(id).await?.ok_or(StoreError::NotFound)
    }
}

impl Store {
    /// Authenticates a presented API key: the live key it names, if its secret matches
    /// (compared in constant time). Records the use at most once a minute.
    pub async fn authenticate_api_key(
        &self,
        key: &str,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let Some((tenant, id, secret)) = parse_key(key) else {
            return Ok(None);
        };
        let tx = self.tenant_tx(TenantScope::new(tenant)).await?;
        let Some(model) = tx
            .keys_query()
            .filter(api_key::Column::Id.eq(id.0))
            .one(&tx.tx)
            .await?
        else {
            return Ok(None);
        };
        let presented = hash_secret(secret);
        let matches: bool = presented
            .as_bytes()
            .ct_eq(model.secret_hash.as_bytes())
            .into();
        if !matches || model.revoked_at.is_some() {
            return Ok(None);
        }
        let now = Utc::now();
        let stale = model
            .last_used_at
            .is_none_or(|t| (now - t).num_seconds() >= TOUCH_INTERVAL_SECS);
        if stale {
            // Bookkeeping, not a change of the tenant's data: no audit event.
            api_key::Entity::update_many()
                .col_expr(
                    api_key::Column::LastUsedAt,
                    Some(grc_domain::audit::truncate_to_micros(now)).into(),
                )
                .filter(api_key::Column::TenantId.eq(tenant.0))
                .filter(api_key::Column::Id.eq(id.0))
                .exec(&tx.tx)
                .await?;
        }
        let rec = record(model)?;
        tx.commit().await?;
        Ok(Some(rec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_format() {
        let t = Uuid::now_v7();
        let k = Uuid::now_v7();
        let s = "ab".repeat(32);
        let key = format!("grck_{}_{}_{s}", t.simple(), k.simple());
        assert_eq!(
            parse_key(&key),
            Some((TenantId(t), ApiKeyId(k), s.as_str()))
        );
        assert!(parse_key(&key[..key.len() - 1]).is_none());
        assert!(parse_key(&format!("{key}_x")).is_none());
        assert!(parse_key(&key.replace("grck_", "grcx_")).is_none());
        assert!(
            parse_key(&format!(
                "grck_{}_{}_{}",
                t.simple(),
                k.simple(),
                "zz".repeat(32)
            ))
            .is_none()
        );
        assert!(parse_key("grck_").is_none());
    }
}
