//! The catalogue, versioned rates and service areas, from the administrators' and the
//! public's side.

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use wufei_domain::{
    auth::{AdminScope, Role},
    catalog,
    entities::audit_log,
};

use crate::{
    helpers::{Footprint, TestApp, assert_problem},
    on_both,
};

const SUPER: (&str, &str) = ("13700000001", "super admin password");
const LOCAL: (&str, &str) = ("13700000002", "district admin password");

/// Spawns an app with a super administrator and a district administrator of 371502; returns
/// their access tokens.
async fn app_with_admins(fp: Footprint) -> (TestApp, String, String) {
    let app = TestApp::spawn(fp).await;
    app.create_user(
        SUPER.0,
        SUPER.1,
        Role::Admin,
        Some(AdminScope::SuperAdmin),
        None,
    )
    .await;
    app.create_user(
        LOCAL.0,
        LOCAL.1,
        Role::Admin,
        Some(AdminScope::District),
        Some("371502"),
    )
    .await;
    let sup = app.login(SUPER.0, SUPER.1).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let local = app.login(LOCAL.0, LOCAL.1).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    (app, sup, local)
}

async fn patch(app: &TestApp, path: &str, token: Option<&str>, body: &Value) -> reqwest::Response {
    let mut r = app.client.patch(app.url(path)).json(body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap()
}

async fn json_of(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}

fn battery(effective_from: Option<DateTime<Utc>>) -> Value {
    json!({
        "code": "battery",
        "name": "废旧电池",
        "unit": "piece",
        "needs_van": false,
        "guidance": "单独装袋，勿与其他垃圾混放。",
        "points_per_unit": 5,
        "service_fee_fen_per_unit": 100,
        "effective_from": effective_from,
    })
}

async fn public_points(app: &TestApp, code: &str) -> Option<i64> {
    let cats = json_of(
        app.get("/v1/catalog/categories", None).await,
        StatusCode::OK,
    )
    .await;
    cats.as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .map(|c| c["points_per_unit"].as_i64().unwrap())
}

async fn rate_versions_are_public_history_and_future_rates_wait_their_turn(fp: Footprint) {
    let (app, sup, _) = app_with_admins(fp).await;
    let cat = json_of(
        app.post_json("/v1/admin/categories", Some(&sup), &battery(None))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = cat["id"].as_str().unwrap().to_string();
    assert_eq!(cat["current_rate"]["points_per_unit"], 5);
    assert_eq!(public_points(&app, "battery").await, Some(5));

    // A version a few seconds ahead, and one a day ahead.
    let soon = Utc::now().trunc_subsecs(0) + TimeDelta::seconds(3);
    let tomorrow = soon + TimeDelta::days(1);
    let v2 = json_of(
        app.post_json(
            &format!("/v1/admin/categories/{id}/rates"),
            Some(&sup),
            &json!({ "points_per_unit": 8, "service_fee_fen_per_unit": 120, "effective_from": soon }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(v2["state"], "scheduled");
    app.post_json(
        &format!("/v1/admin/categories/{id}/rates"),
        Some(&sup),
        &json!({ "points_per_unit": 9, "effective_from": tomorrow }),
    )
    .await;
    // Same instant again: 409; in the past: 422 naming the field.
    let dup = app
        .post_json(
            &format!("/v1/admin/categories/{id}/rates"),
            Some(&sup),
            &json!({ "points_per_unit": 1, "effective_from": tomorrow }),
        )
        .await;
    assert_problem(dup, StatusCode::CONFLICT, "rate_version_exists").await;
    let past = app
        .post_json(
            &format!("/v1/admin/categories/{id}/rates"),
            Some(&sup),
            &json!({ "points_per_unit": 1, "effective_from": Utc::now() - TimeDelta::days(2) }),
        )
        .await;
    let body = assert_problem(past, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "effective_from");

    // Not yet in force: the public catalogue still shows the old rate.
    assert_eq!(public_points(&app, "battery").await, Some(5));

    let history = json_of(
        app.get(&format!("/v1/catalog/rates/history?category_id={id}"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    let points: Vec<i64> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["points_per_unit"].as_i64().unwrap())
        .collect();
    assert_eq!(points, [9, 8, 5], "newest first");
    assert_eq!(history[0]["effective_until"], Value::Null);
    assert_eq!(history[1]["effective_until"], history[0]["effective_from"]);
    assert_eq!(history[2]["effective_until"], history[1]["effective_from"]);
    assert_eq!(history[2]["category_code"], "battery");
    assert_eq!(history[2]["state"], "current");

    // The whole table: every seeded category is there too, newest first.
    let all = json_of(
        app.get("/v1/catalog/rates/history", None).await,
        StatusCode::OK,
    )
    .await;
    let all = all.as_array().unwrap();
    assert!(all.len() >= 8 + 3);
    let froms: Vec<DateTime<Utc>> = all
        .iter()
        .map(|v| v["effective_from"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(froms.windows(2).all(|w| w[0] >= w[1]), "{froms:?}");
    let unknown = app
        .get(
            &format!(
                "/v1/catalog/rates/history?category_id={}",
                uuid::Uuid::now_v7()
            ),
            None,
        )
        .await;
    assert_problem(unknown, StatusCode::NOT_FOUND, "not_found").await;

    // rate_at picks the version in force at each instant.
    let cid: uuid::Uuid = id.parse().unwrap();
    let db = &app.platform.db;
    let at = |t| catalog::rate_at(db, cid, t);
    assert_eq!(
        at(soon - TimeDelta::seconds(1))
            .await
            .unwrap()
            .unwrap()
            .points_per_unit,
        5
    );
    assert_eq!(at(soon).await.unwrap().unwrap().points_per_unit, 8);
    assert_eq!(at(tomorrow).await.unwrap().unwrap().points_per_unit, 9);

    // Once its time comes the new version is the one residents see.
    let wait =
        (soon - Utc::now()).to_std().unwrap_or_default() + std::time::Duration::from_millis(300);
    tokio::time::sleep(wait).await;
    assert_eq!(public_points(&app, "battery").await, Some(8));
}
on_both!(
    rate_versions_are_public_history_and_future_rates_wait_their_turn_tests,
    super::rate_versions_are_public_history_and_future_rates_wait_their_turn
);

async fn categories_are_validated_unique_and_retired_not_deleted(fp: Footprint) {
    let (app, sup, _) = app_with_admins(fp).await;
    let bad = app
        .post_json(
            "/v1/admin/categories",
            Some(&sup),
            &json!({ "code": "Bad-Code", "name": " ", "unit": "litre", "points_per_unit": -1 }),
        )
        .await;
    let body = assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in ["code", "name", "unit", "points_per_unit"] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    let taken = app
        .post_json(
            "/v1/admin/categories",
            Some(&sup),
            &json!({ "code": "paper", "name": "纸", "unit": "kg", "points_per_unit": 1 }),
        )
        .await;
    assert_problem(taken, StatusCode::CONFLICT, "category_code_taken").await;

    let cat = json_of(
        app.post_json("/v1/admin/categories", Some(&sup), &battery(None))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/v1/admin/categories/{}", cat["id"].as_str().unwrap());
    // Unit and code never change.
    let res = patch(&app, &path, Some(&sup), &json!({ "unit": "kg" })).await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    let res = patch(&app, &path, Some(&sup), &json!({ "name": "" })).await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "name");

    let retired = json_of(
        patch(
            &app,
            &path,
            Some(&sup),
            &json!({ "name": "电池", "active": false }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (retired["name"].as_str(), retired["active"].as_bool()),
        (Some("电池"), Some(false))
    );
    assert_eq!(retired["unit"], "piece");
    assert_eq!(
        public_points(&app, "battery").await,
        None,
        "inactive: not offered"
    );
    let all = json_of(
        app.get("/v1/admin/categories", Some(&sup)).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "battery" && c["active"] == false)
    );
    let missing = patch(
        &app,
        &format!("/v1/admin/categories/{}", uuid::Uuid::now_v7()),
        Some(&sup),
        &json!({ "active": true }),
    )
    .await;
    assert_problem(missing, StatusCode::NOT_FOUND, "not_found").await;
}
on_both!(
    categories_are_validated_unique_and_retired_not_deleted_tests,
    super::categories_are_validated_unique_and_retired_not_deleted
);

async fn only_super_admins_change_the_catalogue(fp: Footprint) {
    let (app, sup, local) = app_with_admins(fp).await;
    let resident = app.wechat_login("catalog-resident").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let paper = json_of(
        app.get("/v1/admin/categories", Some(&sup)).await,
        StatusCode::OK,
    )
    .await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for token in [&local, &resident] {
        let res = app
            .post_json("/v1/admin/categories", Some(token), &battery(None))
            .await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
        let res = app
            .post_json(
                &format!("/v1/admin/categories/{paper}/rates"),
                Some(token),
                &json!({ "points_per_unit": 99 }),
            )
            .await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
        let res = patch(
            &app,
            &format!("/v1/admin/categories/{paper}"),
            Some(token),
            &json!({ "active": false }),
        )
        .await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    // District administrators may read the catalogue; residents may not; nobody anonymously.
    assert_eq!(
        app.get("/v1/admin/categories", Some(&local)).await.status(),
        StatusCode::OK
    );
    let res = app.get("/v1/admin/categories", Some(&resident)).await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app.get("/v1/admin/categories", None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Nothing changed.
    assert_eq!(public_points(&app, "paper").await, Some(10));
}
on_both!(
    only_super_admins_change_the_catalogue_tests,
    super::only_super_admins_change_the_catalogue
);

async fn admin_writes_are_audited(fp: Footprint) {
    let (app, sup, local) = app_with_admins(fp).await;
    let cat = json_of(
        app.post_json("/v1/admin/categories", Some(&sup), &battery(None))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = cat["id"].as_str().unwrap();
    patch(
        &app,
        &format!("/v1/admin/categories/{id}"),
        Some(&sup),
        &json!({ "needs_van": true }),
    )
    .await;
    app.post_json(
        &format!("/v1/admin/categories/{id}/rates"),
        Some(&sup),
        &json!({ "points_per_unit": 6, "effective_from": Utc::now() + TimeDelta::days(1) }),
    )
    .await;
    patch(
        &app,
        "/v1/admin/districts/371502",
        Some(&local),
        &json!({ "dispatch_mode": "broadcast" }),
    )
    .await;
    app.post_json(
        "/v1/admin/communities",
        Some(&local),
        &json!({ "district_code": "371502", "name": "审计小区" }),
    )
    .await;
    // A refused write leaves no trace.
    app.post_json("/v1/admin/categories", Some(&local), &battery(None))
        .await;

    let rows = audit_log::Entity::find()
        .all(&app.platform.db)
        .await
        .unwrap();
    let mut actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "category.create",
            "category.update",
            "category_rate.create",
            "community.create",
            "district.update"
        ]
    );
    let update = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("category.update"))
        .one(&app.platform.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(update.object_id, id);
    assert!(update.actor_id.is_some());
    let detail: Value = serde_json::from_str(&update.detail).unwrap();
    assert_eq!(detail["needs_van"], json!({ "from": false, "to": true }));
}
on_both!(
    admin_writes_are_audited_tests,
    super::admin_writes_are_audited
);

async fn districts_and_communities_are_run_within_scope(fp: Footprint) {
    let (app, sup, local) = app_with_admins(fp).await;
    let d = json_of(
        patch(
            &app,
            "/v1/admin/districts/371502",
            Some(&local),
            &json!({ "dispatch_mode": "broadcast", "served": true }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(d["dispatch_mode"], "broadcast");
    let other = patch(
        &app,
        "/v1/admin/districts/371521",
        Some(&local),
        &json!({ "served": false }),
    )
    .await;
    assert_problem(other, StatusCode::FORBIDDEN, "forbidden").await;
    let bad = patch(
        &app,
        "/v1/admin/districts/371502",
        Some(&sup),
        &json!({ "dispatch_mode": "lottery" }),
    )
    .await;
    let body = assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "dispatch_mode");
    let missing = patch(
        &app,
        "/v1/admin/districts/999999",
        Some(&sup),
        &json!({ "served": false }),
    )
    .await;
    assert_problem(missing, StatusCode::NOT_FOUND, "not_found").await;
    let off = json_of(
        patch(
            &app,
            "/v1/admin/districts/371521",
            Some(&sup),
            &json!({ "served": false }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(off["served"], false);

    let c = json_of(
        app.post_json(
            "/v1/admin/communities",
            Some(&local),
            &json!({ "district_code": "371502", "name": "柳园小区", "lat": 36.45, "lng": 115.98 }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(c["district_code"], "371502");
    let dup = app
        .post_json(
            "/v1/admin/communities",
            Some(&sup),
            &json!({ "district_code": "371502", "name": "柳园小区" }),
        )
        .await;
    assert_problem(dup, StatusCode::CONFLICT, "community_name_taken").await;
    // The same name in another district is fine, but not for a district administrator.
    let elsewhere = app
        .post_json(
            "/v1/admin/communities",
            Some(&local),
            &json!({ "district_code": "371521", "name": "柳园小区" }),
        )
        .await;
    assert_problem(elsewhere, StatusCode::FORBIDDEN, "forbidden").await;
    json_of(
        app.post_json(
            "/v1/admin/communities",
            Some(&sup),
            &json!({ "district_code": "371521", "name": "柳园小区" }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let bad = app
        .post_json(
            "/v1/admin/communities",
            Some(&sup),
            &json!({ "district_code": "371502", "name": "x", "lat": 100.0 }),
        )
        .await;
    let body = assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(!body["errors"].as_array().unwrap().is_empty());

    let districts = json_of(app.get("/v1/districts", None).await, StatusCode::OK).await;
    let dongchangfu = districts
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "371502")
        .unwrap();
    assert_eq!(dongchangfu["communities"][0]["name"], "柳园小区");
    let yanggu = districts
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "371521")
        .unwrap();
    assert_eq!(yanggu["served"], false);
}
on_both!(
    districts_and_communities_are_run_within_scope_tests,
    super::districts_and_communities_are_run_within_scope
);
