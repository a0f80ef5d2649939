//! The object store that holds evidence files: a local directory (the embedded default) or an
//! S3-compatible bucket, through the `object_store` crate (see ADR 0009).
//!
//! Keys are `tenants/<tenant>/evidence/<id>`: [`Objects::evidence_key`] builds them from a
//! [`TenantScope`], so a key for another tenant cannot be made without that tenant's scope.
//! The bytes are opaque here: hashing, size limits and media type checks belong to the caller.

use crate::TenantScope;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use std::path::PathBuf;
use std::sync::Arc;
use uuid::Uuid;

/// Which store, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectStoreConfig {
    /// A local directory (created when missing).
    File { dir: PathBuf },
    /// An S3-compatible bucket. Credentials come from the standard `AWS_*` environment
    /// variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), or the
    /// instance's role when none are set.
    S3 {
        bucket: String,
        /// A custom endpoint (MinIO, Ceph, R2 ...); path-style requests are used with one.
        endpoint: Option<String>,
        region: Option<String>,
    },
}

/// What can go wrong with an object.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("object not found")]
    NotFound,
    #[error("object store: {0}")]
    Store(#[source] object_store::Error),
    #[error("object store configuration: {0}")]
    Config(String),
}

impl From<object_store::Error> for ObjectError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

/// A handle on the object store; cheap to clone.
#[derive(Clone)]
pub struct Objects {
    inner: Arc<dyn ObjectStore>,
    describe: String,
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Objects")
            .field("store", &self.describe)
            .finish()
    }
}

impl Objects {
    /// Opens the store `config` names. A local directory is created when missing; an S3
    /// bucket is not contacted until the first request.
    pub fn open(config: &ObjectStoreConfig) -> Result<Self, ObjectError> {
        match config {
            ObjectStoreConfig::File { dir } => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    ObjectError::Config(format!("cannot create {}: {e}", dir.display()))
                })?;
                let fs = LocalFileSystem::new_with_prefix(dir)?;
                Ok(Self {
                    inner: Arc::new(fs),
                    describe: format!("file:{}", dir.display()),
                })
            }
            ObjectStoreConfig::S3 {
                bucket,
                endpoint,
                region,
            } => {
                if bucket.trim().is_empty() {
                    return Err(ObjectError::Config("the S3 bucket name is empty".into()));
                }
                let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
                if let Some(r) = region {
                    b = b.with_region(r);
                }
                if let Some(e) = endpoint {
                    b = b
                        .with_endpoint(e)
                        .with_allow_http(e.starts_with("http://"))
                        .with_virtual_hosted_style_request(false);
                }
                Ok(Self {
                    inner: Arc::new(b.build()?),
                    describe: format!("s3:{bucket}"),
                })
            }
        }
    }

    /// The key of an evidence file: `tenants/<tenant>/evidence/<id>`.
    pub fn evidence_key(scope: TenantScope, id: Uuid) -> String {
        format!("tenants/{}/evidence/{}", scope.tenant_id().0, id)
    }

    fn path(key: &str) -> Result<ObjectPath, ObjectError> {
        ObjectPath::parse(key).map_err(|e| ObjectError::Config(format!("bad object key: {e}")))
    }

    /// Stores `bytes` under `key` (replacing what was there; keys are never reused).
    pub async fn put(&self, key: &str, bytes: bytes::Bytes) -> Result<(), ObjectError> {
        self.inner.put(&Self::path(key)?, bytes.into()).await?;
        Ok(())
    }

    /// Reads the object under `key` whole. Evidence files are bounded by the upload limit.
    pub async fn get(&self, key: &str) -> Result<bytes::Bytes, ObjectError> {
        Ok(self.inner.get(&Self::path(key)?).await?.bytes().await?)
    }

    /// Removes the object under `key`; a missing object is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        match self.inner.delete(&Self::path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether an object exists under `key`.
    pub async fn exists(&self, key: &str) -> Result<bool, ObjectError> {
        match self.inner.head(&Self::path(key)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use grc_domain::ids::TenantId;

    #[tokio::test]
    async fn local_directory_round_trip() {
        let dir = std::env::temp_dir().join(format!("grc-objects-{}", Uuid::new_v4().simple()));
        let o = Objects::open(&ObjectStoreConfig::File { dir: dir.clone() }).unwrap();
        let tenant = Uuid::now_v7();
        let id = Uuid::now_v7();
        let key = Objects::evidence_key(TenantScope::new(TenantId(tenant)), id);
        assert_eq!(key, format!("tenants/{tenant}/evidence/{id}"));
        assert!(!o.exists(&key).await.unwrap());
        o.put(&key, bytes::Bytes::from_static(b"hello"))
            .await
            .unwrap();
        assert!(dir.join(&key).is_file());
        assert_eq!(&o.get(&key).await.unwrap()[..], b"hello");
        o.delete(&key).await.unwrap();
        assert!(matches!(o.get(&key).await, Err(ObjectError::NotFound)));
        o.delete(&key).await.unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }
}
