//! Administering accounts: search and scope, suspension that stops tokens at once (on every
//! instance), reinstatement, ending sessions, password resets and role changes, audited.

use reqwest::StatusCode;
use serde_json::{Value, json};
use wufei_domain::auth::Role;

use crate::{
    flows::{DISTRICT, OTHER_DISTRICT, admins, resident},
    helpers::{Footprint, TestApp, assert_problem, ok},
    on_both,
};

const RECYCLER_PHONE: &str = "13600000077";
const RECYCLER_PASSWORD: &str = "recycler password 7";

/// A recycler account of [`DISTRICT`], signed in: (id, access token, refresh token).
async fn recycler(app: &TestApp) -> (String, String, String) {
    app.create_user(
        RECYCLER_PHONE,
        RECYCLER_PASSWORD,
        Role::Recycler,
        None,
        Some(DISTRICT),
    )
    .await;
    let session = app.login(RECYCLER_PHONE, RECYCLER_PASSWORD).await;
    (
        session["user"]["id"].as_str().unwrap().to_string(),
        session["access_token"].as_str().unwrap().to_string(),
        session["refresh_token"].as_str().unwrap().to_string(),
    )
}

async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> reqwest::Response {
    app.post_json(path, Some(token), body).await
}

async fn suspension_stops_tokens_at_once(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let staff = admins(&app).await;
    let (id, token, refresh) = recycler(&app).await;
    ok(app.get("/v1/me", Some(&token)).await, StatusCode::OK).await;

    let acted = ok(
        post(
            &app,
            &staff.local,
            &format!("/v1/admin/users/{id}/suspend"),
            &json!({ "reason": "多次违规收费" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(acted["account"]["status"], "disabled");
    assert_problem(
        app.get("/v1/me", Some(&token)).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;
    assert_problem(
        app.post_json(
            "/v1/auth/refresh",
            None,
            &json!({ "refresh_token": refresh }),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "refresh_token_invalid",
    )
    .await;
    let login = app
        .post_json(
            "/v1/auth/password",
            None,
            &json!({ "phone": RECYCLER_PHONE, "password": RECYCLER_PASSWORD }),
        )
        .await;
    assert_eq!(login.status(), StatusCode::FORBIDDEN);
    assert_problem(
        post(
            &app,
            &staff.local,
            &format!("/v1/admin/users/{id}/suspend"),
            &json!({ "reason": "再次" }),
        )
        .await,
        StatusCode::CONFLICT,
        "already_suspended",
    )
    .await;

    // Reinstated: a new sign-in works; the old token stays ended.
    ok(
        post(
            &app,
            &staff.local,
            &format!("/v1/admin/users/{id}/reinstate"),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let fresh = app.login(RECYCLER_PHONE, RECYCLER_PASSWORD).await;
    let fresh = fresh["access_token"].as_str().unwrap();
    ok(app.get("/v1/me", Some(fresh)).await, StatusCode::OK).await;
    assert_problem(
        app.get("/v1/me", Some(&token)).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;

    // Ending every session: the new token and its refresh token stop too.
    ok(
        post(
            &app,
            &staff.sup,
            &format!("/v1/admin/users/{id}/revoke-sessions"),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        app.get("/v1/me", Some(fresh)).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;

    let log = ok(
        app.get(
            &format!("/v1/admin/audit-log?object_type=user&object_id={id}"),
            Some(&staff.sup),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in ["user.suspend", "user.reinstate", "user.end_sessions"] {
        assert!(actions.contains(&a), "{a} not in {actions:?}");
    }
    assert!(log.to_string().contains("多次违规收费"));
}
on_both!(
    suspension_stops_tokens_at_once_tests,
    super::suspension_stops_tokens_at_once
);

async fn who_may_act_on_whom(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let staff = admins(&app).await;
    let (id, _, _) = recycler(&app).await;
    let (someone, _) = resident(&app, "openid-users-admin").await;
    let me = |t: &str| {
        let t = t.to_string();
        let app = &app;
        async move {
            ok(app.get("/v1/me", Some(&t)).await, StatusCode::OK).await["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let (sup_id, local_id) = (me(&staff.sup).await, me(&staff.local).await);

    // Search: by phone, role, district; a district administrator sees their district's
    // accounts that are not administrators.
    let found = ok(
        app.get(
            &format!("/v1/admin/users?phone={RECYCLER_PHONE}"),
            Some(&staff.sup),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(found["items"][0]["id"], id.as_str());
    assert_eq!(found["items"][0]["role"], "recycler");
    let admins_list = ok(
        app.get("/v1/admin/users?role=admin", Some(&staff.sup))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(admins_list["items"].as_array().unwrap().len(), 3);
    let local = ok(
        app.get("/v1/admin/users", Some(&staff.local)).await,
        StatusCode::OK,
    )
    .await;
    let ids: Vec<&str> = local["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        vec![id.as_str()],
        "only their district's non-administrators"
    );
    assert_problem(
        app.get("/v1/admin/users?phone=12", Some(&staff.sup)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    // Another district's administrator: as if it did not exist.
    for path in [
        format!("/v1/admin/users/{id}"),
        format!("/v1/admin/users/{sup_id}"),
    ] {
        assert_problem(
            app.get(&path, Some(&staff.other)).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    assert_problem(
        post(
            &app,
            &staff.other,
            &format!("/v1/admin/users/{id}/suspend"),
            &json!({ "reason": "越权" }),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Nobody suspends themselves; a district administrator does not reach a city-wide one.
    assert_problem(
        post(
            &app,
            &staff.sup,
            &format!("/v1/admin/users/{sup_id}/suspend"),
            &json!({ "reason": "自己" }),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        post(
            &app,
            &staff.local,
            &format!("/v1/admin/users/{sup_id}/revoke-sessions"),
            &json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.get("/v1/admin/users", Some(&someone)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // Role changes: a district administrator keeps staff in the district and appoints no
    // administrators; a city-wide one may. The account's tokens end at once.
    let recycler_token = app.login(RECYCLER_PHONE, RECYCLER_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    for (body, status) in [
        (
            json!({ "role": "admin", "admin_scope": "district" }),
            StatusCode::FORBIDDEN,
        ),
        (
            json!({ "role": "station_manager", "district_code": OTHER_DISTRICT }),
            StatusCode::FORBIDDEN,
        ),
        (
            json!({ "role": "resident" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({ "role": "wizard" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let res = app
            .patch_json(&format!("/v1/admin/users/{id}"), Some(&staff.local), &body)
            .await;
        assert_eq!(res.status(), status, "{body}");
    }
    ok(
        app.get("/v1/me", Some(&recycler_token)).await,
        StatusCode::OK,
    )
    .await;
    let changed = ok(
        app.patch_json(
            &format!("/v1/admin/users/{id}"),
            Some(&staff.local),
            &json!({ "role": "station_manager" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["account"]["role"], "station_manager");
    assert_eq!(changed["account"]["district_code"], DISTRICT);
    assert_problem(
        app.get("/v1/me", Some(&recycler_token)).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;
    let again = app.login(RECYCLER_PHONE, RECYCLER_PASSWORD).await;
    assert_eq!(again["user"]["role"], "station_manager");

    // Password resets: staff only; without a password one is generated and shown once.
    let reset = ok(
        post(
            &app,
            &staff.sup,
            &format!("/v1/admin/users/{local_id}/reset-password"),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let temporary = reset["temporary_password"].as_str().unwrap();
    assert_eq!(temporary.len(), 12);
    assert_problem(
        app.get("/v1/me", Some(&staff.local)).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;
    ok(
        app.post_json(
            "/v1/auth/password",
            None,
            &json!({ "phone": "13700000002", "password": temporary }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        post(
            &app,
            &staff.sup,
            &format!("/v1/admin/users/{id}/reset-password"),
            &json!({ "password": "12345678" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let log = ok(
        app.get(
            "/v1/admin/audit-log?action=user.reset_password",
            Some(&staff.sup),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        !log.to_string().contains(temporary),
        "no password in the audit log"
    );
}
on_both!(who_may_act_on_whom_tests, super::who_may_act_on_whom);

/// A suspension through one instance stops the account's token at the next request to
/// another. Production footprint only.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_suspension_stops_tokens_on_every_instance() {
    if crate::helpers::production_env().is_none() {
        eprintln!("skipped: two instances (set WUFEI_TEST_DATABASE_URL and WUFEI_TEST_REDIS_URL)");
        return;
    }
    let a = TestApp::spawn(Footprint::Production).await;
    let b = a.spawn_beside().await;
    let staff = admins(&a).await;
    let (id, token, _) = recycler(&a).await;
    ok(b.get("/v1/me", Some(&token)).await, StatusCode::OK).await;
    ok(
        post(
            &a,
            &staff.local,
            &format!("/v1/admin/users/{id}/suspend"),
            &json!({ "reason": "停用" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        b.get("/v1/me", Some(&token)).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;
}
