use reqwest::StatusCode;
use serde_json::{Value, json};
use wufei_domain::auth::{AdminScope, Role};

use crate::{
    helpers::{Footprint, SESSION_KEY, TestApp, assert_problem},
    on_both,
};

async fn password_login_then_me(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    app.create_user("13900000001", "a long password", Role::Recycler, None, None)
        .await;
    let pair = app.login("+86 139-0000-0001", "a long password").await;
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["user"]["role"], "recycler");
    assert!(pair["expires_in"].as_u64().unwrap() > 0);
    let me: Value = app
        .get("/v1/me", pair["access_token"].as_str())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], pair["user"]["id"]);
    assert_eq!(me["phone"], "139****0001");
    assert!(me.get("password_hash").is_none());
}
on_both!(password_login_then_me_tests, super::password_login_then_me);

async fn wrong_password_and_unknown_phone_look_the_same(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    app.create_user("13900000002", "a long password", Role::Merchant, None, None)
        .await;
    let wrong = app
        .post_json(
            "/v1/auth/password",
            None,
            &json!({"phone": "13900000002", "password": "nope nope"}),
        )
        .await;
    assert_problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let unknown = app
        .post_json(
            "/v1/auth/password",
            None,
            &json!({"phone": "13900000999", "password": "nope nope"}),
        )
        .await;
    assert_problem(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}
on_both!(
    wrong_password_and_unknown_phone_look_the_same_tests,
    super::wrong_password_and_unknown_phone_look_the_same
);

async fn password_guessing_is_throttled_with_429(fp: Footprint) {
    let app = TestApp::spawn_with(fp, |s| s.login_attempts = 3).await;
    app.create_user(
        "13900000003",
        "a long password",
        Role::Admin,
        Some(AdminScope::SuperAdmin),
        None,
    )
    .await;
    for _ in 0..3 {
        let res = app
            .post_json(
                "/v1/auth/password",
                None,
                &json!({"phone": "13900000003", "password": "guess guess"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app
        .post_json(
            "/v1/auth/password",
            None,
            &json!({"phone": "13900000003", "password": "a long password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}
on_both!(
    password_guessing_is_throttled_with_429_tests,
    super::password_guessing_is_throttled_with_429
);

async fn refresh_rotates_and_reuse_revokes_the_family(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let first = app.wechat_login("openid-rotate").await;
    let old = first["refresh_token"].as_str().unwrap().to_string();
    let res = app
        .post_json("/v1/auth/refresh", None, &json!({ "refresh_token": old }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let second: Value = res.json().await.unwrap();
    let new = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(second["user"]["id"], first["user"]["id"]);
    // The stolen old token comes back: refused, and the whole session ends.
    let reuse = app
        .post_json("/v1/auth/refresh", None, &json!({ "refresh_token": old }))
        .await;
    assert_problem(reuse, StatusCode::UNAUTHORIZED, "refresh_token_reused").await;
    let after = app
        .post_json("/v1/auth/refresh", None, &json!({ "refresh_token": new }))
        .await;
    assert_problem(after, StatusCode::UNAUTHORIZED, "refresh_token_invalid").await;
}
on_both!(
    refresh_rotates_and_reuse_revokes_the_family_tests,
    super::refresh_rotates_and_reuse_revokes_the_family
);

async fn concurrent_refreshes_of_one_token_let_at_most_one_win(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let pair = app.wechat_login("openid-race").await;
    let token = pair["refresh_token"].as_str().unwrap().to_string();
    let body = json!({ "refresh_token": token });
    let calls = (0..8).map(|_| app.post_json("/v1/auth/refresh", None, &body));
    let results = futures::future::join_all(calls).await;
    let ok = results
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .count();
    assert!(ok <= 1, "{ok} refreshes succeeded");
    assert!(
        results
            .iter()
            .all(|r| r.status() == StatusCode::OK || r.status() == StatusCode::UNAUTHORIZED)
    );
}
on_both!(
    concurrent_refreshes_of_one_token_let_at_most_one_win_tests,
    super::concurrent_refreshes_of_one_token_let_at_most_one_win
);

async fn logout_ends_the_session(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let pair = app.wechat_login("openid-logout").await;
    let token = pair["refresh_token"].as_str().unwrap();
    let res = app
        .post_json("/v1/auth/logout", None, &json!({ "refresh_token": token }))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .post_json("/v1/auth/refresh", None, &json!({ "refresh_token": token }))
        .await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "refresh_token_invalid").await;
    let res = app
        .post_json(
            "/v1/auth/logout",
            None,
            &json!({ "refresh_token": "unknown" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}
on_both!(
    logout_ends_the_session_tests,
    super::logout_ends_the_session
);

async fn wechat_first_login_creates_one_resident_and_never_leaks_the_session_key(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let res = app
        .post_json(
            "/v1/auth/wechat",
            None,
            &json!({ "code": "ok-openid-alice" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(!text.contains(SESSION_KEY), "session key leaked: {text}");
    let first: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(first["user"]["role"], "resident");
    let again = app.wechat_login("openid-alice").await;
    assert_eq!(again["user"]["id"], first["user"]["id"]);
    let other = app.wechat_login("openid-bob").await;
    assert_ne!(other["user"]["id"], first["user"]["id"]);
    let me = app
        .get("/v1/me", first["access_token"].as_str())
        .await
        .text()
        .await
        .unwrap();
    assert!(!me.contains(SESSION_KEY));
    assert!(me.contains("\"wechat_linked\":true"));
}
on_both!(
    wechat_first_login_tests,
    super::wechat_first_login_creates_one_resident_and_never_leaks_the_session_key
);

async fn wechat_errors_are_mapped(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let cases = [
        ("invalid", StatusCode::UNAUTHORIZED, "wechat_code_invalid"),
        ("used", StatusCode::UNAUTHORIZED, "wechat_code_invalid"),
        (
            "busy",
            StatusCode::SERVICE_UNAVAILABLE,
            "wechat_unavailable",
        ),
        (
            "http500",
            StatusCode::SERVICE_UNAVAILABLE,
            "wechat_unavailable",
        ),
        ("limited", StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        ("blocked", StatusCode::FORBIDDEN, "forbidden"),
    ];
    for (code, status, expected) in cases {
        let res = app
            .post_json("/v1/auth/wechat", None, &json!({ "code": code }))
            .await;
        assert_problem(res, status, expected).await;
    }
    let res = app
        .post_json("/v1/auth/wechat", None, &json!({ "code": "" }))
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}
on_both!(
    wechat_errors_are_mapped_tests,
    super::wechat_errors_are_mapped
);

#[tokio::test]
async fn wechat_unreachable_is_503_not_500() {
    let app = TestApp::spawn_with(Footprint::Embedded, |s| {
        s.wechat_api_base = "http://127.0.0.1:9".into()
    })
    .await;
    let res = app
        .post_json("/v1/auth/wechat", None, &json!({ "code": "ok-x" }))
        .await;
    assert_problem(res, StatusCode::SERVICE_UNAVAILABLE, "wechat_unavailable").await;
}

async fn bad_tokens_are_refused_precisely(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    assert_problem(
        app.get("/v1/me", None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let res = app.get("/v1/me", Some("not.a.jwt")).await;
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert_problem(res, StatusCode::UNAUTHORIZED, "token_invalid").await;
    // A refresh token is not an access token.
    let pair = app.wechat_login("openid-tokens").await;
    let res = app.get("/v1/me", pair["refresh_token"].as_str()).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "token_invalid").await;
}
on_both!(
    bad_tokens_are_refused_precisely_tests,
    super::bad_tokens_are_refused_precisely
);

async fn profile_updates_are_validated_and_private(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let alice = app.wechat_login("openid-alice-profile").await;
    let bob = app.wechat_login("openid-bob-profile").await;
    let patch = |token: &str, body: Value| {
        app.client
            .patch(app.url("/v1/me"))
            .bearer_auth(token.to_string())
            .json(&body)
            .send()
    };
    let res = patch(
        alice["access_token"].as_str().unwrap(),
        json!({ "nickname": "小明" }),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = patch(
        alice["access_token"].as_str().unwrap(),
        json!({ "nickname": "" }),
    )
    .await
    .unwrap();
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "nickname");
    let res = patch(
        alice["access_token"].as_str().unwrap(),
        json!({ "role": "admin" }),
    )
    .await
    .unwrap();
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    let bob_me: Value = app
        .get("/v1/me", bob["access_token"].as_str())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bob_me["nickname"], "");
    let alice_me: Value = app
        .get("/v1/me", alice["access_token"].as_str())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(alice_me["nickname"], "小明");
    assert_eq!(alice_me["role"], "resident");
}
on_both!(
    profile_updates_are_validated_and_private_tests,
    super::profile_updates_are_validated_and_private
);

#[tokio::test]
async fn admin_create_command_makes_an_account_that_can_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wufei-api"))
        .args([
            "admin",
            "create",
            "--phone",
            "13700000000",
            "--password",
            "admin password 1",
        ])
        .env("WUFEI_DATA_DIR", &data)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin"));
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_wufei-api"))
        .args([
            "admin",
            "create",
            "--phone",
            "13700000000",
            "--password",
            "admin password 1",
        ])
        .env("WUFEI_DATA_DIR", &data)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .output()
        .unwrap();
    assert!(!again.status.success(), "a duplicate phone must fail");
    let app = TestApp::spawn_with(Footprint::Embedded, |s| s.data_dir = data.clone()).await;
    let pair = app.login("13700000000", "admin password 1").await;
    assert_eq!(pair["user"]["role"], "admin");
    let me: Value = app
        .get("/v1/me", pair["access_token"].as_str())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["admin_scope"], "super_admin");
}
