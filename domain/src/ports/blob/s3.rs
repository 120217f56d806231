//! The blob store on any S3-compatible object store (AWS S3, MinIO, Ceph RGW, OSS/COS in
//! S3 mode), through `object_store`'s Amazon S3 client.
//!
//! The content type travels as the object's `Content-Type` and is read back from the GET
//! response. With a custom endpoint, requests are path-style (`<endpoint>/<bucket>/<key>`),
//! which every S3 clone understands; without one, `object_store` addresses AWS directly.
//!
//! This adapter must never let `object_store` types or errors reach callers, and must
//! never log credentials (`S3Config`'s `Debug` hides the secret).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{
    Attribute, AttributeValue, Attributes, ClientOptions, ObjectStore, PutOptions, PutPayload,
    RetryConfig,
};

use super::local::validate_key;
use super::{Blob, BlobStore};
use crate::ports::PortError;

const BACKEND: &str = "s3";

/// Key probed by [`BlobStore::ping`]; it never exists, and "not found" proves the bucket
/// answered. Its leading dot keeps it out of the key space (see `validate_key`).
const PING_KEY: &str = ".wufei-ping";

/// Content type assumed for an object stored without one (by another tool).
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// Where and how to reach the bucket.
#[derive(Clone)]
pub struct S3Config {
    /// Bucket name.
    pub bucket: String,
    /// Custom endpoint (`http://minio:9000`); `None` for AWS itself. With an endpoint,
    /// requests are path-style.
    pub endpoint: Option<String>,
    /// Region (`us-east-1` for most S3 clones).
    pub region: String,
    /// Static access key. When either key is `None`, credentials come from the standard
    /// AWS environment (`AWS_*` variables, web identity, container or instance metadata).
    pub access_key_id: Option<String>,
    /// Static secret key, paired with `access_key_id`.
    pub secret_access_key: Option<String>,
    /// Allow plain `http://` endpoints (local MinIO, tests). Never in production.
    pub allow_http: bool,
    /// Prefix under which every key is stored (`wufei/`), so one bucket can serve several
    /// deployments; empty for none.
    pub prefix: String,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .field("allow_http", &self.allow_http)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// A [`BlobStore`] over an S3 bucket.
#[derive(Debug, Clone)]
pub struct S3BlobStore {
    store: Arc<dyn ObjectStore>,
    /// Normalised prefix without leading or trailing `/`; empty for none.
    prefix: String,
}

impl S3BlobStore {
    /// Builds the client; no request is made until the first call (use
    /// [`BlobStore::ping`] to check the bucket answers).
    pub fn new(cfg: S3Config) -> Result<Self, PortError> {
        let prefix = cfg.prefix.trim_matches('/').to_owned();
        if !prefix.is_empty() {
            validate_key(&prefix)?;
        }
        // Reads AWS_* from the environment first so the usual credential chain works
        // when no static keys are configured; explicit settings below win.
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&cfg.bucket)
            .with_region(&cfg.region)
            .with_allow_http(cfg.allow_http)
            // A readiness probe or an upload must fail in seconds, not after
            // object_store's default three minutes of retries.
            .with_retry(RetryConfig {
                max_retries: 2,
                retry_timeout: Duration::from_secs(15),
                ..RetryConfig::default()
            })
            .with_client_options(
                ClientOptions::new()
                    .with_allow_http(cfg.allow_http)
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(30)),
            );
        if let Some(endpoint) = &cfg.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(false);
        }
        if let (Some(id), Some(secret)) = (&cfg.access_key_id, &cfg.secret_access_key) {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
        }
        let store = builder
            .build()
            .map_err(|e| PortError::backend(BACKEND, e))?;
        Ok(Self {
            store: Arc::new(store),
            prefix,
        })
    }

    /// The object path of `key`, after validating the key.
    fn path_of(&self, key: &str) -> Result<Path, PortError> {
        validate_key(key)?;
        Ok(self.raw_path(key))
    }

    fn raw_path(&self, key: &str) -> Path {
        if self.prefix.is_empty() {
            Path::from(key)
        } else {
            Path::from(format!("{}/{key}", self.prefix))
        }
    }
}

fn backend_err(err: object_store::Error) -> PortError {
    PortError::backend(BACKEND, err)
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<(), PortError> {
        let path = self.path_of(key)?;
        let attributes = Attributes::from_iter([(
            Attribute::ContentType,
            AttributeValue::from(content_type.to_owned()),
        )]);
        let opts = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        self.store
            .put_opts(&path, PutPayload::from_bytes(bytes), opts)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Blob>, PortError> {
        let path = self.path_of(key)?;
        let result = match self.store.get(&path).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(backend_err(e)),
        };
        let content_type = result
            .attributes
            .get(&Attribute::ContentType)
            .map(|v| v.to_string())
            .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned());
        let bytes = result.bytes().await.map_err(backend_err)?;
        Ok(Some(Blob {
            bytes,
            content_type,
        }))
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        let path = self.path_of(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(backend_err(e)),
        }
    }

    /// A HEAD of a key that never exists: "not found" proves the bucket answers and the
    /// credentials are accepted. Note that S3 answers 403 instead of 404 for a missing key
    /// when the role lacks `s3:ListBucket`; grant it, or ping reports the store down.
    async fn ping(&self) -> Result<(), PortError> {
        match self.store.head(&self.raw_path(PING_KEY)).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(backend_err(e)),
        }
    }
}
