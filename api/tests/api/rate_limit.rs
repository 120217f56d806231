use reqwest::StatusCode;

use crate::{
    helpers::{Footprint, TestApp, assert_problem},
    on_both,
};

async fn clients_over_the_limit_get_429_with_retry_after(fp: Footprint) {
    let app = TestApp::spawn_with(fp, |s| s.rate_limit_per_client = 5).await;
    for _ in 0..5 {
        assert_eq!(
            app.get("/v1/districts", None).await.status(),
            StatusCode::OK
        );
    }
    let res = app.get("/v1/districts", None).await;
    assert!(
        res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Operations endpoints are exempt, so probes keep working.
    assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
}
on_both!(
    clients_over_the_limit_get_429_tests,
    super::clients_over_the_limit_get_429_with_retry_after
);

async fn users_are_limited_separately_from_clients(fp: Footprint) {
    let app = TestApp::spawn_with(fp, |s| {
        s.rate_limit_per_user = 3;
        s.rate_limit_per_client = 1000;
    })
    .await;
    let alice = app.wechat_login("openid-rl-alice").await;
    let bob = app.wechat_login("openid-rl-bob").await;
    for _ in 0..3 {
        assert_eq!(
            app.get("/v1/me", alice["access_token"].as_str())
                .await
                .status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        app.get("/v1/me", alice["access_token"].as_str())
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        app.get("/v1/me", bob["access_token"].as_str())
            .await
            .status(),
        StatusCode::OK
    );
}
on_both!(
    users_are_limited_separately_tests,
    super::users_are_limited_separately_from_clients
);
