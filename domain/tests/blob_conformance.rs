//! The blob store conformance suite: one set of cases, written once against
//! `Arc<dyn BlobStore>`, run against every adapter — the local directory, S3 through a
//! local S3 double, and a real bucket when `WUFEI_TEST_S3_BUCKET` is set — so the embedded
//! footprint and production behave alike.

mod support;

use std::error::Error;
use std::sync::Arc;

use bytes::Bytes;
use support::s3_double::S3Double;
use wufei_domain::ports::blob::local::LocalBlobStore;
use wufei_domain::ports::blob::s3::{S3BlobStore, S3Config};
use wufei_domain::ports::blob::{Blob, BlobStore};

type TestResult = Result<(), Box<dyn Error + Send + Sync>>;

/// Runs every case against `store`; keys live under a fresh `conformance/<uuid>/` so runs
/// against a shared real bucket never collide, and are deleted at the end.
async fn conformance_suite(adapter: &str, store: Arc<dyn BlobStore>) -> TestResult {
    let base = format!("conformance/{}", uuid::Uuid::new_v4());
    let mut written = Vec::new();
    macro_rules! case {
        ($name:ident) => {
            $name(&store, &base, &mut written)
                .await
                .map_err(|e| format!("{adapter}: {}: {e}", stringify!($name)))?;
        };
    }
    case!(put_then_get_returns_bytes_and_content_type);
    case!(put_overwrites_bytes_and_content_type);
    case!(get_of_a_missing_key_is_none);
    case!(delete_then_get_is_none);
    case!(delete_of_a_missing_key_is_ok);
    case!(nested_keys_are_distinct_objects);
    case!(binary_and_empty_bodies_round_trip);
    case!(concurrent_puts_to_different_keys_all_land);
    case!(keys_escaping_the_namespace_are_refused);
    case!(ping_answers);
    for key in written {
        store.delete(&key).await?;
    }
    Ok(())
}

type Store = Arc<dyn BlobStore>;

fn key(base: &str, rest: &str, written: &mut Vec<String>) -> String {
    let key = format!("{base}/{rest}");
    written.push(key.clone());
    key
}

async fn put_then_get_returns_bytes_and_content_type(
    store: &Store,
    base: &str,
    written: &mut Vec<String>,
) -> TestResult {
    let k = key(base, "round-trip.jpg", written);
    store
        .put(&k, Bytes::from_static(b"\xff\xd8\xffjpeg"), "image/jpeg")
        .await?;
    let got = store.get(&k).await?;
    assert_eq!(
        got,
        Some(Blob {
            bytes: Bytes::from_static(b"\xff\xd8\xffjpeg"),
            content_type: "image/jpeg".into(),
        })
    );
    Ok(())
}

async fn put_overwrites_bytes_and_content_type(
    store: &Store,
    base: &str,
    written: &mut Vec<String>,
) -> TestResult {
    let k = key(base, "overwrite", written);
    store
        .put(
            &k,
            Bytes::from_static(b"first version, longer"),
            "image/jpeg",
        )
        .await?;
    store
        .put(&k, Bytes::from_static(b"second"), "image/png")
        .await?;
    let got = store.get(&k).await?.ok_or("object vanished")?;
    assert_eq!(got.bytes.as_ref(), b"second");
    assert_eq!(got.content_type, "image/png");
    Ok(())
}

async fn get_of_a_missing_key_is_none(
    store: &Store,
    base: &str,
    _written: &mut Vec<String>,
) -> TestResult {
    assert_eq!(store.get(&format!("{base}/never-written")).await?, None);
    assert_eq!(store.get(&format!("{base}/no/such/dir/file")).await?, None);
    Ok(())
}

async fn delete_then_get_is_none(
    store: &Store,
    base: &str,
    written: &mut Vec<String>,
) -> TestResult {
    let k = key(base, "to-delete.png", written);
    store
        .put(&k, Bytes::from_static(b"png"), "image/png")
        .await?;
    store.delete(&k).await?;
    assert_eq!(store.get(&k).await?, None);
    Ok(())
}

async fn delete_of_a_missing_key_is_ok(
    store: &Store,
    base: &str,
    _written: &mut Vec<String>,
) -> TestResult {
    store.delete(&format!("{base}/never-written")).await?;
    store.delete(&format!("{base}/no/such/dir/file")).await?;
    Ok(())
}

async fn nested_keys_are_distinct_objects(
    store: &Store,
    base: &str,
    written: &mut Vec<String>,
) -> TestResult {
    let photo = key(base, "uploads/2026/11/abc.jpg", written);
    let thumb = key(base, "uploads/2026/11/abc.thumb.jpg", written);
    let other_month = key(base, "uploads/2026/12/abc.jpg", written);
    store
        .put(&photo, Bytes::from_static(b"photo"), "image/jpeg")
        .await?;
    store
        .put(&thumb, Bytes::from_static(b"thumb"), "image/jpeg")
        .await?;
    store
        .put(&other_month, Bytes::from_static(b"december"), "image/png")
        .await?;
    assert_eq!(
        store.get(&photo).await?.map(|b| b.bytes),
        Some(Bytes::from_static(b"photo"))
    );
    assert_eq!(
        store.get(&thumb).await?.map(|b| b.bytes),
        Some(Bytes::from_static(b"thumb"))
    );
    store.delete(&photo).await?;
    assert_eq!(store.get(&photo).await?, None);
    assert_eq!(
        store.get(&thumb).await?.map(|b| b.bytes),
        Some(Bytes::from_static(b"thumb")),
        "deleting one key must not touch its siblings"
    );
    assert_eq!(
        store.get(&other_month).await?.map(|b| b.content_type),
        Some("image/png".to_owned())
    );
    // A prefix of stored keys is not itself an object.
    assert_eq!(store.get(&format!("{base}/uploads/2026")).await?, None);
    store.delete(&format!("{base}/uploads/2026")).await?;
    assert!(
        store.get(&thumb).await?.is_some(),
        "deleting a prefix deletes nothing"
    );
    Ok(())
}

async fn binary_and_empty_bodies_round_trip(
    store: &Store,
    base: &str,
    written: &mut Vec<String>,
) -> TestResult {
    let binary: Vec<u8> = (0..(1024 * 1024 + 7))
        .map(|i| (i * 31 % 256) as u8)
        .collect();
    let k = key(base, "binary.bin", written);
    store
        .put(&k, Bytes::from(binary.clone()), "application/octet-stream")
        .await?;
    let got = store.get(&k).await?.ok_or("binary object missing")?;
    assert_eq!(got.bytes.len(), binary.len());
    assert!(got.bytes.as_ref() == binary.as_slice(), "bytes differ");

    let empty = key(base, "empty", written);
    store.put(&empty, Bytes::new(), "text/plain").await?;
    let got = store.get(&empty).await?.ok_or("empty object missing")?;
    assert!(got.bytes.is_empty());
    assert_eq!(got.content_type, "text/plain");
    Ok(())
}

async fn concurrent_puts_to_different_keys_all_land(
    store: &Store,
    base: &str,
    written: &mut Vec<String>,
) -> TestResult {
    let keys: Vec<String> = (0..24)
        .map(|i| key(base, &format!("concurrent/{i}.jpg"), written))
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, k) in keys.iter().enumerate() {
        let store = Arc::clone(store);
        let k = k.clone();
        tasks.spawn(async move {
            store
                .put(&k, Bytes::from(format!("object {i}")), "image/jpeg")
                .await
        });
    }
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    for (i, k) in keys.iter().enumerate() {
        let got = store.get(k).await?.ok_or("concurrent object missing")?;
        assert_eq!(got.bytes, Bytes::from(format!("object {i}")));
    }
    Ok(())
}

async fn keys_escaping_the_namespace_are_refused(
    store: &Store,
    base: &str,
    _written: &mut Vec<String>,
) -> TestResult {
    for bad in [
        String::new(),
        format!("{base}/../escape"),
        "../escape".to_owned(),
        "/absolute".to_owned(),
        format!("{base}//double"),
        format!("{base}\\back"),
    ] {
        assert!(
            store
                .put(&bad, Bytes::from_static(b"x"), "text/plain")
                .await
                .is_err(),
            "put {bad:?} should be refused"
        );
        assert!(
            store.get(&bad).await.is_err(),
            "get {bad:?} should be refused"
        );
        assert!(
            store.delete(&bad).await.is_err(),
            "delete {bad:?} should be refused"
        );
    }
    Ok(())
}

async fn ping_answers(store: &Store, _base: &str, _written: &mut Vec<String>) -> TestResult {
    store.ping().await?;
    Ok(())
}

fn double_config(double: &S3Double, prefix: &str) -> S3Config {
    S3Config {
        bucket: "wufei-test".into(),
        endpoint: Some(double.endpoint()),
        region: "us-east-1".into(),
        access_key_id: Some("test-key".into()),
        secret_access_key: Some("test-secret".into()),
        allow_http: true,
        prefix: prefix.into(),
    }
}

#[tokio::test]
async fn local_blob_store_passes_the_conformance_suite() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = LocalBlobStore::new(dir.path().join("blobs"))?;
    conformance_suite("local", Arc::new(store)).await
}

#[tokio::test]
async fn s3_blob_store_passes_the_conformance_suite_against_the_double() -> TestResult {
    let double = S3Double::start().await?;
    let store = S3BlobStore::new(double_config(&double, ""))?;
    conformance_suite("s3 double", Arc::new(store)).await?;
    assert!(
        double.paths().is_empty(),
        "suite cleans up: {:?}",
        double.paths()
    );
    Ok(())
}

#[tokio::test]
async fn s3_blob_store_stores_under_its_prefix_with_the_content_type() -> TestResult {
    let double = S3Double::start().await?;
    let store = S3BlobStore::new(double_config(&double, "/tenant-a/"))?;
    store
        .put("uploads/a.png", Bytes::from_static(b"png"), "image/png")
        .await?;
    assert_eq!(double.paths(), vec!["/wufei-test/tenant-a/uploads/a.png"]);
    let raw = double
        .object("/wufei-test/tenant-a/uploads/a.png")
        .ok_or("object not stored")?;
    assert_eq!(raw.content_type.as_deref(), Some("image/png"));
    assert_eq!(raw.body, b"png");
    Ok(())
}

#[tokio::test]
async fn s3_ping_fails_when_the_store_is_down() -> TestResult {
    let double = S3Double::start().await?;
    let store = S3BlobStore::new(double_config(&double, ""))?;
    store.ping().await?;
    double.set_down(true);
    assert!(store.ping().await.is_err());
    double.set_down(false);
    store.ping().await?;
    Ok(())
}

#[tokio::test]
async fn local_ping_fails_when_the_root_is_gone() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("blobs");
    let store = LocalBlobStore::new(root.clone())?;
    store.ping().await?;
    std::fs::remove_dir_all(&root)?;
    assert!(store.ping().await.is_err());
    Ok(())
}

/// Runs the suite against a real bucket when `WUFEI_TEST_S3_BUCKET` is set, with
/// `WUFEI_TEST_S3_ENDPOINT`, `WUFEI_TEST_S3_REGION` (default `us-east-1`),
/// `WUFEI_TEST_S3_ACCESS_KEY_ID`, `WUFEI_TEST_S3_SECRET_ACCESS_KEY`,
/// `WUFEI_TEST_S3_ALLOW_HTTP` (`true` for local MinIO) and `WUFEI_TEST_S3_PREFIX`.
#[tokio::test]
async fn s3_blob_store_passes_the_conformance_suite_against_a_real_bucket() -> TestResult {
    let Ok(bucket) = std::env::var("WUFEI_TEST_S3_BUCKET") else {
        println!("skipped: set WUFEI_TEST_S3_BUCKET (and WUFEI_TEST_S3_*) to run against real S3");
        return Ok(());
    };
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let cfg = S3Config {
        bucket,
        endpoint: var("WUFEI_TEST_S3_ENDPOINT"),
        region: var("WUFEI_TEST_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
        access_key_id: var("WUFEI_TEST_S3_ACCESS_KEY_ID"),
        secret_access_key: var("WUFEI_TEST_S3_SECRET_ACCESS_KEY"),
        allow_http: var("WUFEI_TEST_S3_ALLOW_HTTP").is_some_and(|v| v == "true" || v == "1"),
        prefix: var("WUFEI_TEST_S3_PREFIX").unwrap_or_default(),
    };
    conformance_suite("s3 real", Arc::new(S3BlobStore::new(cfg)?)).await
}
