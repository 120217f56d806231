//! The blob store port: photos, ID images, licences. Keys are opaque paths chosen by the
//! domain (`uploads/2026/11/<uuid>.jpg`); the store never interprets them.
//!
//! Adapters: [`local::LocalBlobStore`] (a directory under the data dir) and
//! [`s3::S3BlobStore`] (any S3-compatible object store, through `object_store`).

pub mod local;
pub mod s3;

use async_trait::async_trait;
use bytes::Bytes;

use super::PortError;

/// A stored object.
#[derive(Debug, Clone, PartialEq)]
pub struct Blob {
    /// The bytes.
    pub bytes: Bytes,
    /// Its media type, as given to [`BlobStore::put`].
    pub content_type: String,
}

/// The blob store port.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores `bytes` under `key`, replacing what was there. Atomic: a reader sees the old
    /// object or the new one, never a part.
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<(), PortError>;

    /// The object under `key`, or `None`.
    async fn get(&self, key: &str) -> Result<Option<Blob>, PortError>;

    /// Removes `key`; removing a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<(), PortError>;

    /// Whether the backend answers (for `/readyz`).
    async fn ping(&self) -> Result<(), PortError>;
}
