use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    helpers::{Footprint, TestApp, assert_problem},
    on_both,
    uploads::{png, upload},
};

async fn same_key_same_body_replays_the_first_response(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let t = app.wechat_login("openid-idem").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let image = png(30, 30);
    let first = upload(&app, &t, "pickup_photo", &image, Some("key-1")).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = upload(&app, &t, "pickup_photo", &image, Some("key-1")).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        first["id"], again["id"],
        "the replay must not create a second upload"
    );
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        wufei_domain::entities::upload::Entity::find()
            .count(&app.platform.db)
            .await
            .unwrap(),
        1
    );

    // Same key, other body.
    let other = upload(&app, &t, "pickup_photo", &png(31, 30), Some("key-1")).await;
    assert_problem(
        other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    // Another caller with the same key is independent.
    let bob = app.wechat_login("openid-idem-bob").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let res = upload(&app, &bob, "pickup_photo", &image, Some("key-1")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res: Value = res.json().await.unwrap();
    assert_ne!(res["id"], first["id"]);
}
on_both!(
    same_key_same_body_replays_tests,
    super::same_key_same_body_replays_the_first_response
);

async fn concurrent_duplicates_run_once(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let t = app.wechat_login("openid-idem-race").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let image = png(400, 400);
    let calls = (0..6).map(|_| upload(&app, &t, "pickup_photo", &image, Some("race-key")));
    let results = futures::future::join_all(calls).await;
    let statuses: Vec<StatusCode> = results.iter().map(|r| r.status()).collect();
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::CREATED));
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        wufei_domain::entities::upload::Entity::find()
            .count(&app.platform.db)
            .await
            .unwrap(),
        1
    );
}
on_both!(
    concurrent_duplicates_run_once_tests,
    super::concurrent_duplicates_run_once
);

#[tokio::test]
async fn invalid_keys_are_refused() {
    let app = TestApp::spawn(Footprint::Embedded).await;
    let t = app.wechat_login("openid-idem-bad").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let long = "k".repeat(300);
    let res = upload(&app, &t, "pickup_photo", &png(5, 5), Some(&long)).await;
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_idempotency_key").await;
}
