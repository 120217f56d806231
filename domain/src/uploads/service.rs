//! The upload service: runs the image pipeline off the async threads, stores the blobs,
//! records the metadata, and decides who may read what.
//!
//! It must never serve a private upload to anyone but its owner or an administrator, and
//! never leave a metadata row pointing at blobs that were not written.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{Datelike, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, TransactionTrait,
};
use tokio::sync::Semaphore;
use uuid::Uuid;

use super::process::{Processed, process};
use super::{Purpose, UploadError, UploadLimits, UploadView, Variant, Viewer};
use crate::entities::upload;
use crate::ports::PortError;
use crate::ports::blob::{Blob, BlobStore};

/// Media type of every thumbnail.
const THUMBNAIL_CONTENT_TYPE: &str = "image/jpeg";

/// Stores and serves uploads.
#[derive(Clone)]
pub struct UploadService {
    db: DatabaseConnection,
    blobs: Arc<dyn BlobStore>,
    limits: UploadLimits,
    /// Bounds concurrent decodes: each may use up to `decode_memory_bytes`, so letting
    /// every blocking thread decode at once could exhaust memory.
    decodes: Arc<Semaphore>,
}

impl std::fmt::Debug for UploadService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadService")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl UploadService {
    /// A service over `db` (migrated) and `blobs`, applying `limits` to every upload.
    /// At most one decode per CPU runs at a time.
    pub fn new(db: DatabaseConnection, blobs: Arc<dyn BlobStore>, limits: UploadLimits) -> Self {
        let parallelism = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            db,
            blobs,
            limits,
            decodes: Arc::new(Semaphore::new(parallelism)),
        }
    }

    /// The limits in force (the HTTP edge uses `max_bytes` to cap the multipart read).
    pub fn limits(&self) -> &UploadLimits {
        &self.limits
    }

    /// Validates and re-encodes `bytes`, stores the image and its thumbnail under
    /// `uploads/<yyyy>/<mm>/<id>.<ext>` and `…/<id>.thumb.jpg`, then records it.
    #[tracing::instrument(
        skip(self, bytes),
        fields(owner_id = %owner, purpose = %purpose, size = bytes.len(), upload_id)
    )]
    pub async fn store(
        &self,
        owner: Uuid,
        purpose: Purpose,
        bytes: Bytes,
    ) -> Result<UploadView, UploadError> {
        // Cheap refusals first, without waiting for a decode slot.
        if bytes.is_empty() {
            return Err(UploadError::Empty);
        }
        if bytes.len() > self.limits.max_bytes {
            return Err(UploadError::TooLarge {
                max_bytes: self.limits.max_bytes,
            });
        }
        let processed = {
            let _permit = self
                .decodes
                .acquire()
                .await
                .map_err(|e| PortError::backend("image decoder", e))?;
            let limits = self.limits.clone();
            match tokio::task::spawn_blocking(move || process(&bytes, &limits)).await {
                Ok(result) => result?,
                // A decoder that panics on some input is refusing that input, not a
                // reason to tell the client to retry.
                Err(e) if e.is_panic() => {
                    tracing::error!("image decoder panicked");
                    return Err(UploadError::Corrupt(
                        "the decoder gave up on this image".into(),
                    ));
                }
                Err(e) => return Err(PortError::backend("image decoder", e).into()),
            }
        };

        let id = Uuid::now_v7();
        tracing::Span::current().record("upload_id", tracing::field::display(id));
        let now = Utc::now();
        let dir = format!("uploads/{:04}/{:02}", now.year(), now.month());
        let blob_key = format!("{dir}/{id}.{}", processed.extension);
        let thumb_key = format!("{dir}/{id}.thumb.jpg");

        let Processed {
            content_type,
            bytes,
            width,
            height,
            thumbnail,
            ..
        } = processed;
        let size_bytes = bytes.len() as u64;
        // An intent first: if this process dies before the row commits, the sweep removes
        // the blobs (see `super::sweep`).
        super::sweep::intend(&self.db, &[&blob_key, &thumb_key]).await?;
        self.blobs
            .put(&blob_key, Bytes::from(bytes), content_type)
            .await?;
        if let Err(err) = self
            .blobs
            .put(&thumb_key, Bytes::from(thumbnail), THUMBNAIL_CONTENT_TYPE)
            .await
        {
            self.discard(&[&blob_key]).await;
            return Err(err.into());
        }

        let row = upload::ActiveModel {
            id: Set(id),
            owner_id: Set(owner),
            purpose: Set(purpose),
            content_type: Set(content_type.to_owned()),
            width: Set(to_i32(width)?),
            height: Set(to_i32(height)?),
            size_bytes: Set(
                i64::try_from(size_bytes).map_err(|e| PortError::backend("uploads", e))?
            ),
            blob_key: Set(blob_key.clone()),
            thumb_key: Set(thumb_key.clone()),
            created_at: Set(now),
        };
        let recorded = async {
            let txn = self.db.begin().await?;
            let model = row.insert(&txn).await?;
            super::sweep::settle(&txn, &[&blob_key, &thumb_key]).await?;
            txn.commit().await?;
            Ok::<_, sea_orm::DbErr>(model)
        };
        match recorded.await {
            Ok(model) => view(model),
            Err(err) => {
                self.discard(&[&blob_key, &thumb_key]).await;
                Err(err.into())
            }
        }
    }

    /// The requested rendition of upload `id`, if `viewer` may see it. Private uploads
    /// answer [`UploadError::NotFound`] to anyone but their owner and administrators.
    #[tracing::instrument(
        skip(self, viewer),
        fields(upload_id = %id, viewer_id = ?viewer.user_id, is_admin = viewer.is_admin)
    )]
    pub async fn open(
        &self,
        viewer: Viewer,
        id: Uuid,
        variant: Variant,
    ) -> Result<Blob, UploadError> {
        let row = upload::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(UploadError::NotFound)?;
        let allowed =
            !row.purpose.is_private() || viewer.is_admin || viewer.user_id == Some(row.owner_id);
        if !allowed {
            return Err(UploadError::NotFound);
        }
        let key = match variant {
            Variant::Original => &row.blob_key,
            Variant::Thumbnail => &row.thumb_key,
        };
        match self.blobs.get(key).await? {
            Some(blob) => Ok(blob),
            None => {
                tracing::error!(key = %key, "upload row points at a missing blob");
                Err(UploadError::NotFound)
            }
        }
    }

    /// The metadata of upload `id`, without any access check: callers that attach an
    /// upload to something (an order, a listing) must check `owner_id` themselves.
    #[tracing::instrument(skip(self), fields(upload_id = %id))]
    pub async fn get_meta(&self, id: Uuid) -> Result<Option<UploadView>, UploadError> {
        upload::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(view)
            .transpose()
    }

    /// Best-effort removal of blobs written for an upload that failed later.
    async fn discard(&self, keys: &[&str]) {
        for key in keys {
            if let Err(err) = self.blobs.delete(key).await {
                tracing::warn!(key = %key, error = %err, "could not remove an orphaned blob");
            }
        }
    }
}

fn to_i32(n: u32) -> Result<i32, UploadError> {
    i32::try_from(n).map_err(|e| UploadError::Port(PortError::backend("uploads", e)))
}

fn view(row: upload::Model) -> Result<UploadView, UploadError> {
    let corrupt = |what: &str| {
        UploadError::Port(PortError::Corrupt {
            backend: "database",
            message: format!("upload {}: negative {what}", row.id),
        })
    };
    Ok(UploadView {
        id: row.id,
        owner_id: row.owner_id,
        purpose: row.purpose,
        width: u32::try_from(row.width).map_err(|_| corrupt("width"))?,
        height: u32::try_from(row.height).map_err(|_| corrupt("height"))?,
        size_bytes: u64::try_from(row.size_bytes).map_err(|_| corrupt("size"))?,
        url: format!("/v1/uploads/{}/content", row.id),
        thumbnail_url: format!("/v1/uploads/{}/content?variant=thumbnail", row.id),
        content_type: row.content_type,
        created_at: row.created_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::blob::local::LocalBlobStore;
    use image::{DynamicImage, ImageBuffer, Rgb};
    use wufei_migrations::{Migrator, MigratorTrait};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    struct Harness {
        service: UploadService,
        blobs: Arc<LocalBlobStore>,
        _dir: tempfile::TempDir,
    }

    async fn harness() -> Result<Harness, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("wufei.db").display()
        );
        let db = sea_orm::Database::connect(&url).await?;
        Migrator::up(&db, None).await?;
        let blobs = Arc::new(LocalBlobStore::new(dir.path().join("blobs"))?);
        let service = UploadService::new(db, blobs.clone(), UploadLimits::default());
        Ok(Harness {
            service,
            blobs,
            _dir: dir,
        })
    }

    fn photo(width: u32, height: u32) -> Result<Bytes, image::ImageError> {
        let img = ImageBuffer::from_fn(width, height, |x, y| Rgb([x as u8, y as u8, 128]));
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img).write_with_encoder(
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90),
        )?;
        Ok(Bytes::from(out))
    }

    fn owner_viewer(id: Uuid) -> Viewer {
        Viewer {
            user_id: Some(id),
            is_admin: false,
        }
    }

    #[tokio::test]
    async fn private_upload_is_served_to_owner_and_admin_only() -> TestResult {
        let h = harness().await?;
        let owner = Uuid::new_v4();
        let stranger = Uuid::new_v4();
        let view = h
            .service
            .store(owner, Purpose::PickupPhoto, photo(400, 300)?)
            .await?;
        assert_eq!((view.width, view.height), (400, 300));
        assert_eq!(view.owner_id, owner);
        assert_eq!(view.content_type, "image/jpeg");
        assert_eq!(view.url, format!("/v1/uploads/{}/content", view.id));

        let original = h
            .service
            .open(owner_viewer(owner), view.id, Variant::Original)
            .await?;
        assert_eq!(original.content_type, "image/jpeg");
        assert_eq!(original.bytes.len() as u64, view.size_bytes);
        let decoded = image::load_from_memory(&original.bytes)?;
        assert_eq!((decoded.width(), decoded.height()), (400, 300));

        let admin = Viewer {
            user_id: Some(Uuid::new_v4()),
            is_admin: true,
        };
        let thumb = h.service.open(admin, view.id, Variant::Thumbnail).await?;
        let decoded = image::load_from_memory(&thumb.bytes)?;
        assert_eq!((decoded.width(), decoded.height()), (320, 240));

        for viewer in [
            owner_viewer(stranger),
            Viewer {
                user_id: None,
                is_admin: false,
            },
        ] {
            for variant in [Variant::Original, Variant::Thumbnail] {
                let result = h.service.open(viewer, view.id, variant).await;
                assert!(matches!(result, Err(UploadError::NotFound)), "{result:?}");
            }
        }
        Ok(())
    }

    #[tokio::test]
    async fn listing_photo_is_readable_by_anyone() -> TestResult {
        let h = harness().await?;
        let owner = Uuid::new_v4();
        let view = h
            .service
            .store(owner, Purpose::ListingPhoto, photo(64, 48)?)
            .await?;
        let anonymous = Viewer {
            user_id: None,
            is_admin: false,
        };
        let blob = h
            .service
            .open(anonymous, view.id, Variant::Original)
            .await?;
        assert_eq!(blob.content_type, "image/jpeg");
        let blob = h
            .service
            .open(owner_viewer(Uuid::new_v4()), view.id, Variant::Thumbnail)
            .await?;
        assert_eq!(blob.content_type, "image/jpeg");
        Ok(())
    }

    #[tokio::test]
    async fn stored_blobs_and_metadata_agree() -> TestResult {
        let h = harness().await?;
        let owner = Uuid::new_v4();
        let view = h
            .service
            .store(owner, Purpose::Licence, photo(50, 70)?)
            .await?;
        assert_eq!(h.service.get_meta(view.id).await?, Some(view.clone()));
        assert_eq!(h.service.get_meta(Uuid::new_v4()).await?, None);

        let now = Utc::now();
        let key = format!(
            "uploads/{:04}/{:02}/{}.jpg",
            now.year(),
            now.month(),
            view.id
        );
        let thumb_key = key.replace(".jpg", ".thumb.jpg");
        assert!(h.blobs.get(&key).await?.is_some(), "original under {key}");
        assert!(
            h.blobs.get(&thumb_key).await?.is_some(),
            "thumb under {thumb_key}"
        );
        Ok(())
    }

    #[tokio::test]
    async fn unknown_id_is_not_found_even_for_admins() -> TestResult {
        let h = harness().await?;
        let admin = Viewer {
            user_id: None,
            is_admin: true,
        };
        let result = h
            .service
            .open(admin, Uuid::new_v4(), Variant::Original)
            .await;
        assert!(matches!(result, Err(UploadError::NotFound)), "{result:?}");
        Ok(())
    }

    #[tokio::test]
    async fn refused_uploads_leave_no_trace() -> TestResult {
        let h = harness().await?;
        let owner = Uuid::new_v4();
        let result = h
            .service
            .store(owner, Purpose::IdPhoto, Bytes::from_static(b"%PDF-1.7"))
            .await;
        assert!(
            matches!(result, Err(UploadError::UnsupportedType)),
            "{result:?}"
        );
        let result = h.service.store(owner, Purpose::IdPhoto, Bytes::new()).await;
        assert!(matches!(result, Err(UploadError::Empty)), "{result:?}");
        let rows = upload::Entity::find().all(&h.service.db).await?;
        assert!(rows.is_empty());
        Ok(())
    }

    #[test]
    fn purposes_parse_their_wire_form_and_only_listing_photos_are_public() {
        for purpose in Purpose::ALL {
            assert_eq!(Purpose::parse(purpose.as_str()), Some(purpose));
            assert_eq!(
                serde_json::to_value(purpose).ok(),
                Some(serde_json::Value::String(purpose.as_str().into()))
            );
            assert_eq!(purpose.is_private(), purpose != Purpose::ListingPhoto);
        }
        assert_eq!(Purpose::parse("PickupPhoto"), None);
        assert_eq!(Purpose::parse(""), None);
    }
}
