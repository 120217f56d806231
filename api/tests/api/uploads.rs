use reqwest::StatusCode;
use serde_json::Value;
use wufei_domain::auth::{AdminScope, Role};

use crate::{
    helpers::{Footprint, TestApp, assert_problem},
    on_both,
};

/// A small PNG made on the spot.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 255) as u8, (y % 255) as u8, 90])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A multipart body with a fixed boundary, so the same upload is byte-for-byte the same.
pub fn multipart(file: &[u8]) -> (String, Vec<u8>) {
    multipart_named("a.png", "image/png", file)
}

/// [`multipart`] with the file's name and declared type.
pub fn multipart_named(filename: &str, content_type: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "wufeiTESTboundary";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n").as_bytes());
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub async fn upload(
    app: &TestApp,
    token: &str,
    purpose: &str,
    file: &[u8],
    key: Option<&str>,
) -> reqwest::Response {
    let (ct, body) = multipart(file);
    let mut req = app
        .client
        .post(app.url(&format!("/v1/uploads?purpose={purpose}")))
        .bearer_auth(token)
        .header("content-type", ct)
        .body(body);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

async fn private_uploads_are_served_only_to_owner_and_admins(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let alice = app.wechat_login("openid-up-alice").await;
    let bob = app.wechat_login("openid-up-bob").await;
    app.create_user(
        "13600000000",
        "admin password 1",
        Role::Admin,
        Some(AdminScope::SuperAdmin),
        None,
    )
    .await;
    let admin = app.login("13600000000", "admin password 1").await;
    let alice_t = alice["access_token"].as_str().unwrap();

    let res = upload(&app, alice_t, "id_photo", &png(64, 48), None).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let view: Value = res.json().await.unwrap();
    assert_eq!(
        (view["width"].as_u64(), view["height"].as_u64()),
        (Some(64), Some(48))
    );
    let url = view["url"].as_str().unwrap();

    let own = app.get(url, Some(alice_t)).await;
    assert_eq!(own.status(), StatusCode::OK);
    assert!(
        own.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/")
    );
    let thumb = app
        .get(view["thumbnail_url"].as_str().unwrap(), Some(alice_t))
        .await;
    assert_eq!(thumb.status(), StatusCode::OK);
    assert_eq!(
        app.get(url, admin["access_token"].as_str()).await.status(),
        StatusCode::OK
    );
    assert_problem(
        app.get(url, bob["access_token"].as_str()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(app.get(url, None).await, StatusCode::NOT_FOUND, "not_found").await;

    // A listing photo is public.
    let res = upload(&app, alice_t, "listing_photo", &png(20, 20), None).await;
    let public: Value = res.json().await.unwrap();
    assert_eq!(
        app.get(public["url"].as_str().unwrap(), None)
            .await
            .status(),
        StatusCode::OK
    );
}
on_both!(
    private_uploads_tests,
    super::private_uploads_are_served_only_to_owner_and_admins
);

async fn bad_uploads_are_refused_and_store_nothing(fp: Footprint) {
    let app = TestApp::spawn_with(fp, |s| s.max_upload_bytes = 200_000).await;
    let t = app.wechat_login("openid-up-bad").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_problem(
        upload(&app, &t, "id_photo", b"%PDF-1.7 not an image", None).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_file_type",
    )
    .await;
    assert_problem(
        upload(&app, &t, "id_photo", b"", None).await,
        StatusCode::BAD_REQUEST,
        "empty_file",
    )
    .await;
    let mut truncated = png(100, 100);
    truncated.truncate(truncated.len() / 2);
    assert_problem(
        upload(&app, &t, "id_photo", &truncated, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "corrupt_image",
    )
    .await;
    assert_problem(
        upload(&app, &t, "id_photo", &vec![0u8; 300_000], None).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "file_too_large",
    )
    .await;
    assert_problem(
        upload(&app, &t, "selfie", &png(4, 4), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // A PNG whose header claims 100000 × 100000 pixels: a decompression bomb.
    assert_problem(
        upload(&app, &t, "id_photo", &bomb_png(), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "image_too_large",
    )
    .await;
    let res = app
        .client
        .post(app.url("/v1/uploads?purpose=id_photo"))
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        wufei_domain::entities::upload::Entity::find()
            .count(&app.platform.db)
            .await
            .unwrap(),
        0
    );
}
on_both!(
    bad_uploads_tests,
    super::bad_uploads_are_refused_and_store_nothing
);

/// A well-formed PNG whose header claims 100000 × 100000 pixels, with a tiny IDAT.
fn bomb_png() -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    ));
    out.extend(chunk(b"IEND", &[]));
    out
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    c.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    c
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A blob whose row never committed (the process died between the two) is deleted by the
/// sweep once its intent is older than the grace period; the blobs of real uploads stay.
async fn orphaned_blobs_are_swept(fp: Footprint) {
    use wufei_domain::uploads::sweep::{GRACE, intend, sweep};

    let app = TestApp::spawn(fp).await;
    let owner = app.wechat_login("openid-up-sweep").await;
    let token = owner["access_token"].as_str().unwrap();
    let kept: Value = upload(&app, token, "listing_photo", &png(8, 8), None)
        .await
        .json()
        .await
        .unwrap();
    let key = "uploads/2026/12/orphan.jpg";
    intend(&app.platform.db, &[key]).await.unwrap();
    app.platform
        .blobs
        .put(
            key,
            bytes::Bytes::from_static(b"half an upload"),
            "image/jpeg",
        )
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let blobs = app.platform.blobs.as_ref();
    assert_eq!(sweep(&app.platform.db, blobs, now).await.unwrap(), 0);
    assert!(blobs.get(key).await.unwrap().is_some(), "within the grace");
    let later = now + GRACE + chrono::Duration::minutes(1);
    assert_eq!(sweep(&app.platform.db, blobs, later).await.unwrap(), 1);
    assert!(blobs.get(key).await.unwrap().is_none(), "swept");
    assert_eq!(sweep(&app.platform.db, blobs, later).await.unwrap(), 0);
    let content = app.get(kept["url"].as_str().unwrap(), Some(token)).await;
    assert_eq!(
        content.status(),
        StatusCode::OK,
        "a real upload is untouched"
    );
}
on_both!(
    orphaned_blobs_are_swept_tests,
    super::orphaned_blobs_are_swept
);
