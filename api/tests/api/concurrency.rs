//! The embedded footprint under a rush of concurrent writers: SQLite must queue them, never
//! answer "database is locked" as a 5xx.

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    helpers::{Footprint, TestApp},
    on_both,
};

async fn a_rush_of_first_logins_gets_no_5xx(fp: Footprint) {
    let app = TestApp::spawn_with(fp, |s| s.rate_limit_per_client = 100_000).await;
    let calls = (0..150).map(|i| {
        let app = &app;
        async move {
            let login = app
                .post_json(
                    "/v1/auth/wechat",
                    None,
                    &json!({ "code": format!("ok-rush-{}", i % 100) }),
                )
                .await;
            let status = login.status();
            let pair: serde_json::Value = login.json().await.unwrap_or_default();
            let me = app
                .get("/v1/me", pair["access_token"].as_str())
                .await
                .status();
            (status, me)
        }
    });
    let results = futures::future::join_all(calls).await;
    for (login, me) in &results {
        assert_eq!(*login, StatusCode::OK);
        assert_eq!(*me, StatusCode::OK);
    }
    use sea_orm::{EntityTrait, PaginatorTrait};
    let users = wufei_domain::entities::user::Entity::find()
        .count(&app.platform.db)
        .await
        .unwrap();
    assert_eq!(
        users, 100,
        "one account per openid, even when first logins race"
    );
}
on_both!(
    a_rush_of_first_logins_gets_no_5xx_tests,
    super::a_rush_of_first_logins_gets_no_5xx
);
