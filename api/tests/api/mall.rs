//! The points mall: administering items, redeeming (stock, per-person limit and points in one
//! transaction), cancelling with a refund, fulfilment by pickup code, and the races.

use chrono::{Duration, Utc};
use reqwest::{Response, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;
use wufei_domain::{
    auth::{AdminScope, Role},
    entities::audit_log,
};

use crate::{
    flows::{DISTRICT, resident},
    helpers::{Footprint, TestApp, assert_problem},
    on_both,
};

const OTHER_DISTRICT: &str = "371521";

/// Staff of the mall: a super administrator, administrators and station managers of
/// 371502 and of 371521.
struct Staff {
    sup: String,
    local: String,
    other: String,
    station: String,
    other_station: String,
}

async fn staff(app: &TestApp) -> Staff {
    let people = [
        (
            "13700000011",
            Role::Admin,
            Some(AdminScope::SuperAdmin),
            None,
        ),
        (
            "13700000012",
            Role::Admin,
            Some(AdminScope::District),
            Some(DISTRICT),
        ),
        (
            "13700000013",
            Role::Admin,
            Some(AdminScope::District),
            Some(OTHER_DISTRICT),
        ),
        ("13700000014", Role::StationManager, None, Some(DISTRICT)),
        (
            "13700000015",
            Role::StationManager,
            None,
            Some(OTHER_DISTRICT),
        ),
    ];
    let mut tokens = Vec::new();
    for (phone, role, scope, district) in people {
        app.create_user(phone, "mall staff password", role, scope, district)
            .await;
        tokens.push(
            app.login(phone, "mall staff password").await["access_token"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let mut t = tokens.into_iter();
    let mut next = || t.next().unwrap();
    Staff {
        sup: next(),
        local: next(),
        other: next(),
        station: next(),
        other_station: next(),
    }
}

async fn json_of(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap_or_default();
    assert_eq!(got, status, "{body}");
    body
}

/// A goods item of 371502, on sale now, with `overrides` applied; returns it.
async fn item(app: &TestApp, token: &str, overrides: Value) -> Value {
    let mut body = json!({
        "name": "环保帆布袋", "kind": "goods", "description": "可重复使用",
        "points": 100, "stock": 5, "per_person_limit": null,
        "district_code": DISTRICT, "station": "古楼街道回收站",
    });
    for (k, v) in overrides.as_object().unwrap() {
        body[k] = v.clone();
    }
    json_of(
        app.post_json("/v1/admin/mall/items", Some(token), &body)
            .await,
        StatusCode::CREATED,
    )
    .await
}

async fn patch(app: &TestApp, token: &str, id: &Value, body: &Value) -> Response {
    app.client
        .patch(app.url(&format!("/v1/admin/mall/items/{}", id.as_str().unwrap())))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Credits `points` to a resident through the administrators' adjustment endpoint.
async fn give(app: &TestApp, admin: &str, user: Uuid, points: i64) {
    json_of(
        app.post_json(
            "/v1/admin/points/adjustments",
            Some(admin),
            &json!({ "user_id": user, "points": points, "district_code": DISTRICT, "reason": "商城测试" }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
}

async fn balance(app: &TestApp, token: &str) -> i64 {
    json_of(
        app.get("/v1/points/account", Some(token)).await,
        StatusCode::OK,
    )
    .await["balance"]
        .as_i64()
        .unwrap()
}

async fn redeem(
    app: &TestApp,
    token: &str,
    item: &Value,
    quantity: i64,
    key: Option<&str>,
) -> Response {
    let mut r = app
        .client
        .post(app.url("/v1/mall/redemptions"))
        .bearer_auth(token)
        .json(&json!({ "item_id": item["id"], "quantity": quantity }));
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    r.send().await.unwrap()
}

async fn cancel(app: &TestApp, token: &str, id: &Value, key: Option<&str>) -> Response {
    let mut r = app
        .client
        .post(app.url(&format!(
            "/v1/mall/redemptions/{}/cancel",
            id.as_str().unwrap()
        )))
        .bearer_auth(token);
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    r.send().await.unwrap()
}

/// The item as administrators see it (stock whatever its state).
async fn admin_item(app: &TestApp, sup: &str, id: &Value) -> Value {
    let page = json_of(
        app.get("/v1/admin/mall/items?limit=100", Some(sup)).await,
        StatusCode::OK,
    )
    .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == *id)
        .cloned()
        .unwrap()
}

async fn stock(app: &TestApp, sup: &str, id: &Value) -> i64 {
    admin_item(app, sup, id).await["stock"].as_i64().unwrap()
}

async fn audit_actions(app: &TestApp, object_id: &str) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .filter(audit_log::Column::ObjectId.eq(object_id))
        .all(&app.platform.db)
        .await
        .unwrap()
}

async fn a_redemption_takes_points_and_stock_and_is_fulfilled_once(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let s = staff(&app).await;
    let (t, rid) = resident(&app, "mall-flow").await;
    give(&app, &s.sup, rid, 500).await;
    let bag = item(&app, &s.local, json!({ "per_person_limit": 3 })).await;
    assert_eq!(bag["district_code"], DISTRICT);
    assert!(bag["image_url"].is_null());

    // Anyone sees it on sale.
    let listed = json_of(app.get("/v1/mall/items", None).await, StatusCode::OK).await;
    let found = &listed["items"].as_array().unwrap()[0];
    assert_eq!(found["id"], bag["id"]);
    for field in ["name", "kind", "points", "stock", "per_person_limit"] {
        assert_eq!(found[field], bag[field], "{field}");
    }
    let one = json_of(
        app.get(
            &format!("/v1/mall/items/{}", bag["id"].as_str().unwrap()),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(one["station"], "古楼街道回收站");

    let r = json_of(redeem(&app, &t, &bag, 2, None).await, StatusCode::CREATED).await;
    assert_eq!(r["status"], "reserved");
    assert_eq!(r["points"], 200);
    assert_eq!(r["quantity"], 2);
    assert_eq!(r["item_id"], bag["id"]);
    assert!(r["created_at"].is_string());
    let code = r["pickup_code"].as_str().unwrap().to_string();
    assert!(
        code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
    assert_eq!(balance(&app, &t).await, 300);
    assert_eq!(stock(&app, &s.sup, &bag["id"]).await, 3);

    // The resident's list and detail, and a points notification.
    let mine = json_of(
        app.get("/v1/mall/redemptions", Some(&t)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["pickup_code"], code.as_str());
    let path = format!("/v1/mall/redemptions/{}", r["id"].as_str().unwrap());
    assert_eq!(
        json_of(app.get(&path, Some(&t)).await, StatusCode::OK).await["item_name"],
        "环保帆布袋"
    );
    let inbox = json_of(app.get("/v1/notifications", Some(&t)).await, StatusCode::OK).await;
    assert!(
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "points" && n["data"]["pickup_code"] == code.as_str()),
        "{inbox}"
    );

    // Only staff of the item's district may look the code up or hand it out.
    let lookup = format!("/v1/mall/fulfilments/{code}");
    let body = json!({ "pickup_code": code });
    assert_problem(
        app.get(&lookup, Some(&s.other_station)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.post_json("/v1/mall/fulfilments", Some(&s.other_station), &body)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        app.post_json("/v1/mall/fulfilments", Some(&t), &body)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&lookup, Some(&t)).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_problem(
        app.get("/v1/mall/fulfilments/00000000", Some(&s.station))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let seen = json_of(app.get(&lookup, Some(&s.station)).await, StatusCode::OK).await;
    assert_eq!(seen["status"], "reserved");
    assert_eq!(seen["quantity"], 2);

    let done = json_of(
        app.post_json("/v1/mall/fulfilments", Some(&s.station), &body)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["status"], "fulfilled");
    assert!(done["fulfilled_at"].is_string());
    // A code is used once; a handed-out redemption cannot be cancelled.
    assert_problem(
        app.post_json("/v1/mall/fulfilments", Some(&s.local), &body)
            .await,
        StatusCode::CONFLICT,
        "already_fulfilled",
    )
    .await;
    assert_problem(
        cancel(&app, &t, &r["id"], None).await,
        StatusCode::CONFLICT,
        "already_fulfilled",
    )
    .await;
    assert_eq!(
        json_of(app.get(&lookup, Some(&s.station)).await, StatusCode::OK).await["status"],
        "fulfilled"
    );
    assert_eq!(balance(&app, &t).await, 300);
    let audited = audit_actions(&app, r["id"].as_str().unwrap()).await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].action, "mall_redemption.fulfil");
}
on_both!(
    flow_tests,
    super::a_redemption_takes_points_and_stock_and_is_fulfilled_once
);

async fn cancelling_refunds_points_stock_and_limit(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let s = staff(&app).await;
    let (t, rid) = resident(&app, "mall-cancel").await;
    let (other, _) = resident(&app, "mall-cancel-other").await;
    give(&app, &s.sup, rid, 1000).await;
    let bag = item(&app, &s.sup, json!({ "stock": 3, "per_person_limit": 2 })).await;

    let r = json_of(redeem(&app, &t, &bag, 2, None).await, StatusCode::CREATED).await;
    // The per-person limit counts what is held.
    assert_problem(
        redeem(&app, &t, &bag, 1, None).await,
        StatusCode::CONFLICT,
        "limit_reached",
    )
    .await;
    assert_eq!(balance(&app, &t).await, 800);
    assert_eq!(stock(&app, &s.sup, &bag["id"]).await, 1);

    // Another resident can neither read nor cancel it.
    let path = format!("/v1/mall/redemptions/{}", r["id"].as_str().unwrap());
    assert_problem(
        app.get(&path, Some(&other)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        cancel(&app, &other, &r["id"], None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let theirs = json_of(
        app.get("/v1/mall/redemptions", Some(&other)).await,
        StatusCode::OK,
    )
    .await;
    assert!(theirs["items"].as_array().unwrap().is_empty());

    let cancelled = cancel(&app, &t, &r["id"], Some("cancel-1")).await;
    let cancelled = json_of(cancelled, StatusCode::OK).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled["refund_transaction_id"].is_string());
    // The same key replays; a second cancel is refused.
    let replay = cancel(&app, &t, &r["id"], Some("cancel-1")).await;
    assert_eq!(replay.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(replay.status(), StatusCode::OK);
    assert_problem(
        cancel(&app, &t, &r["id"], None).await,
        StatusCode::CONFLICT,
        "already_cancelled",
    )
    .await;
    assert_eq!(balance(&app, &t).await, 1000);
    assert_eq!(stock(&app, &s.sup, &bag["id"]).await, 3);
    let entries = json_of(
        app.get("/v1/points/entries", Some(&t)).await,
        StatusCode::OK,
    )
    .await;
    let kinds: Vec<&str> = entries["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"redemption") && kinds.contains(&"refund"),
        "{entries}"
    );

    // The cancelled code cannot be handed out; the limit is free again.
    assert_problem(
        app.post_json(
            "/v1/mall/fulfilments",
            Some(&s.station),
            &json!({ "pickup_code": r["pickup_code"] }),
        )
        .await,
        StatusCode::CONFLICT,
        "already_cancelled",
    )
    .await;
    json_of(redeem(&app, &t, &bag, 2, None).await, StatusCode::CREATED).await;
    assert_eq!(balance(&app, &t).await, 800);
    let mine = json_of(
        app.get("/v1/mall/redemptions?limit=1", Some(&t)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let cursor = mine["next_cursor"].as_str().unwrap();
    let rest = json_of(
        app.get(
            &format!("/v1/mall/redemptions?limit=1&cursor={cursor}"),
            Some(&t),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rest["items"][0]["id"], r["id"]);
    assert!(rest["next_cursor"].is_null());

    // Cancels racing each other: one refund.
    let second = &mine["items"][0]["id"];
    let results = futures::future::join_all((0..5).map(|_| cancel(&app, &t, second, None))).await;
    let statuses: Vec<StatusCode> = results.iter().map(|r| r.status()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    assert_eq!(balance(&app, &t).await, 1000);
    assert_eq!(stock(&app, &s.sup, &bag["id"]).await, 3);
}
on_both!(
    cancel_tests,
    super::cancelling_refunds_points_stock_and_limit
);

async fn items_off_sale_and_bad_requests_are_refused(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let s = staff(&app).await;
    let (t, rid) = resident(&app, "mall-window").await;
    give(&app, &s.sup, rid, 1000).await;
    let later = item(
        &app,
        &s.sup,
        json!({ "name": "未开售", "sale_starts_at": Utc::now() + Duration::hours(1) }),
    )
    .await;
    let over = item(
        &app,
        &s.sup,
        json!({
            "name": "已结束",
            "sale_starts_at": Utc::now() - Duration::hours(2),
            "sale_ends_at": Utc::now() - Duration::hours(1),
        }),
    )
    .await;
    let withdrawn = item(&app, &s.sup, json!({ "name": "已下架" })).await;
    json_of(
        patch(
            &app,
            &s.local,
            &withdrawn["id"],
            &json!({ "active": false }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    for off in [&later, &over, &withdrawn] {
        assert_problem(
            redeem(&app, &t, off, 1, None).await,
            StatusCode::CONFLICT,
            "not_on_sale",
        )
        .await;
        assert_problem(
            app.get(
                &format!("/v1/mall/items/{}", off["id"].as_str().unwrap()),
                None,
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        assert_eq!(stock(&app, &s.sup, &off["id"]).await, 5);
    }
    let listed = json_of(app.get("/v1/mall/items", Some(&t)).await, StatusCode::OK).await;
    assert!(listed["items"].as_array().unwrap().is_empty(), "{listed}");
    // Administrators still see every one of them.
    let all = json_of(
        app.get("/v1/admin/mall/items", Some(&s.sup)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3);

    // Back on sale: redeemable again.
    json_of(
        patch(&app, &s.sup, &withdrawn["id"], &json!({ "active": true })).await,
        StatusCode::OK,
    )
    .await;
    for q in [0, 100, -1] {
        assert_problem(
            redeem(&app, &t, &withdrawn, q, None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    assert_problem(
        redeem(&app, &t, &json!({ "id": Uuid::now_v7() }), 1, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        redeem(&app, &t, &withdrawn, 6, None).await,
        StatusCode::CONFLICT,
        "out_of_stock",
    )
    .await;
    assert_eq!(balance(&app, &t).await, 1000);
    // Only residents redeem.
    assert_eq!(
        redeem(&app, &s.station, &withdrawn, 1, None).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        redeem(&app, "", &withdrawn, 1, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    json_of(
        redeem(&app, &t, &withdrawn, 5, None).await,
        StatusCode::CREATED,
    )
    .await;
    assert_problem(
        redeem(&app, &t, &withdrawn, 1, None).await,
        StatusCode::CONFLICT,
        "out_of_stock",
    )
    .await;
    assert_eq!(balance(&app, &t).await, 500);
}
on_both!(
    window_tests,
    super::items_off_sale_and_bad_requests_are_refused
);

async fn insufficient_points_change_nothing(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let s = staff(&app).await;
    let (t, rid) = resident(&app, "mall-poor").await;
    give(&app, &s.sup, rid, 50).await;
    let bin = item(&app, &s.sup, json!({ "per_person_limit": 1 })).await;
    assert_problem(
        redeem(&app, &t, &bin, 1, None).await,
        StatusCode::CONFLICT,
        "insufficient_points",
    )
    .await;
    assert_eq!(balance(&app, &t).await, 50);
    assert_eq!(stock(&app, &s.sup, &bin["id"]).await, 5);
    let mine = json_of(
        app.get("/v1/mall/redemptions", Some(&t)).await,
        StatusCode::OK,
    )
    .await;
    assert!(mine["items"].as_array().unwrap().is_empty());
    // The refused attempt did not use up the per-person limit.
    give(&app, &s.sup, rid, 50).await;
    json_of(redeem(&app, &t, &bin, 1, None).await, StatusCode::CREATED).await;
    assert_eq!(balance(&app, &t).await, 0);
    assert_eq!(stock(&app, &s.sup, &bin["id"]).await, 4);
}
on_both!(
    insufficient_tests,
    super::insufficient_points_change_nothing
);

async fn administration_is_scoped_and_audited(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let s = staff(&app).await;
    let (t, _) = resident(&app, "mall-admin").await;
    // A district administrator's items are in their district by default.
    let mine = item(&app, &s.local, json!({ "district_code": null })).await;
    assert_eq!(mine["district_code"], DISTRICT);
    let city = item(
        &app,
        &s.sup,
        json!({ "district_code": null, "kind": "coupon", "name": "公交券" }),
    )
    .await;
    assert!(city["district_code"].is_null());
    let body =
        json!({ "name": "x", "kind": "goods", "points": 1, "stock": 1, "district_code": DISTRICT });
    assert_eq!(
        app.post_json("/v1/admin/mall/items", Some(&s.other), &body)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post_json("/v1/admin/mall/items", Some(&t), &body)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post_json("/v1/admin/mall/items", Some(&s.station), &body)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // Another district's administrator cannot edit it, nor a city-wide item.
    assert_eq!(
        patch(&app, &s.other, &mine["id"], &json!({ "stock": 99 }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        patch(&app, &s.local, &city["id"], &json!({ "stock": 99 }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_problem(
        patch(
            &app,
            &s.sup,
            &json!(Uuid::now_v7().to_string()),
            &json!({ "stock": 1 }),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Bad values are refused with the fields named.
    for (bad, field) in [
        (json!({ "points": 0 }), "points"),
        (json!({ "kind": "cash" }), "kind"),
        (json!({ "stock": -1 }), "stock"),
        (json!({ "per_person_limit": 0 }), "per_person_limit"),
        (json!({ "name": " " }), "name"),
        (
            json!({ "sale_starts_at": Utc::now(), "sale_ends_at": Utc::now() - Duration::hours(1) }),
            "sale_ends_at",
        ),
        (
            json!({ "image_upload_id": Uuid::now_v7() }),
            "image_upload_id",
        ),
    ] {
        let res = patch(&app, &s.local, &mine["id"], &bad).await;
        let problem =
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{bad}");
    }
    let mut bad_new = body.clone();
    bad_new["district_code"] = json!("999999");
    let res = app
        .post_json("/v1/admin/mall/items", Some(&s.sup), &bad_new)
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    // A public image, a new stock and limit; audited with from and to.
    let photo = crate::uploads::upload(
        &app,
        &s.local,
        "listing_photo",
        &crate::uploads::png(32, 32),
        None,
    )
    .await;
    let photo: Value = json_of(photo, StatusCode::CREATED).await;
    let private = crate::uploads::upload(
        &app,
        &s.local,
        "pickup_photo",
        &crate::uploads::png(33, 32),
        None,
    )
    .await;
    let private: Value = json_of(private, StatusCode::CREATED).await;
    assert_problem(
        patch(
            &app,
            &s.local,
            &mine["id"],
            &json!({ "image_upload_id": private["id"] }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let edited = json_of(
        patch(
            &app,
            &s.local,
            &mine["id"],
            &json!({ "image_upload_id": photo["id"], "stock": 42, "per_person_limit": 2 }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["stock"], 42);
    assert_eq!(edited["per_person_limit"], 2);
    let url = format!("/v1/uploads/{}/content", photo["id"].as_str().unwrap());
    assert_eq!(edited["image_url"], url.as_str());
    assert_eq!(app.get(&url, None).await.status(), StatusCode::OK);
    let cleared = json_of(
        patch(
            &app,
            &s.sup,
            &mine["id"],
            &json!({ "per_person_limit": null }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(cleared["per_person_limit"].is_null());
    assert_eq!(cleared["stock"], 42);

    let audited = audit_actions(&app, mine["id"].as_str().unwrap()).await;
    let actions: Vec<&str> = audited.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        ["mall_item.create", "mall_item.update", "mall_item.update"]
    );
    let detail: Value = serde_json::from_str(&audited[1].detail).unwrap();
    assert_eq!(detail["stock"], json!({ "from": 5, "to": 42 }));
    let detail: Value = serde_json::from_str(&audited[2].detail).unwrap();
    assert_eq!(detail["per_person_limit"], json!({ "from": 2, "to": null }));

    // Each administrator lists the items they run.
    let count = |token: String| {
        let app = &app;
        async move {
            json_of(
                app.get("/v1/admin/mall/items", Some(&token)).await,
                StatusCode::OK,
            )
            .await["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(count(s.sup.clone()).await, 2);
    assert_eq!(count(s.local.clone()).await, 1);
    assert_eq!(count(s.other.clone()).await, 0);
    // The public list filters by district (city-wide items everywhere) and kind.
    let listed = |q: &'static str| {
        let app = &app;
        async move {
            json_of(
                app.get(&format!("/v1/mall/items?{q}"), None).await,
                StatusCode::OK,
            )
            .await["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(listed("district_code=371502").await, 2);
    assert_eq!(listed("district_code=371521").await, 1);
    assert_eq!(listed("kind=coupon").await, 1);
    assert_eq!(listed("limit=1").await, 1);
    assert_problem(
        app.get("/v1/mall/items?kind=cash", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}
on_both!(admin_tests, super::administration_is_scoped_and_audited);

async fn a_replayed_redemption_debits_once(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let s = staff(&app).await;
    let (t, rid) = resident(&app, "mall-replay").await;
    give(&app, &s.sup, rid, 1000).await;
    let bag = item(&app, &s.sup, json!({})).await;
    let first = json_of(
        redeem(&app, &t, &bag, 2, Some("redeem-1")).await,
        StatusCode::CREATED,
    )
    .await;
    let again = redeem(&app, &t, &bag, 2, Some("redeem-1")).await;
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    let again = json_of(again, StatusCode::CREATED).await;
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["pickup_code"], first["pickup_code"]);
    assert_problem(
        redeem(&app, &t, &bag, 1, Some("redeem-1")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(balance(&app, &t).await, 800);
    assert_eq!(stock(&app, &s.sup, &bag["id"]).await, 3);
    let mine = json_of(
        app.get("/v1/mall/redemptions", Some(&t)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
}
on_both!(replay_tests, super::a_replayed_redemption_debits_once);

async fn a_hundred_concurrent_redemptions_sell_exactly_the_stock(fp: Footprint) {
    let app = TestApp::spawn_with(fp, |s| {
        s.rate_limit_per_client = 100_000;
        s.rate_limit_per_user = 100_000;
    })
    .await;
    let s = staff(&app).await;
    let bag = item(&app, &s.sup, json!({ "stock": 10, "points": 10 })).await;
    let mut residents = Vec::new();
    for i in 0..100 {
        let (t, rid) = resident(&app, &format!("mall-rush-{i}")).await;
        give(&app, &s.sup, rid, 10).await;
        residents.push(t);
    }
    let results = futures::future::join_all(residents.iter().map(|t| {
        let (app, bag) = (&app, &bag);
        async move {
            let res = redeem(app, t, bag, 1, None).await;
            let status = res.status();
            let body: Value = res.json().await.unwrap();
            (status, body)
        }
    }))
    .await;
    let sold = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(sold, 10, "{results:?}");
    for (status, body) in &results {
        assert!(
            *status == StatusCode::CREATED
                || (*status == StatusCode::CONFLICT && body["code"] == "out_of_stock"),
            "{status} {body}"
        );
    }
    assert_eq!(stock(&app, &s.sup, &bag["id"]).await, 0);
    let mut spent = 0;
    for t in &residents {
        let b = balance(&app, t).await;
        assert!(b == 0 || b == 10, "{b}");
        spent += 10 - b;
    }
    assert_eq!(spent, 100);

    // One resident racing their own balance: 100 points buy three items of 30, never more.
    let (t, rid) = resident(&app, "mall-rush-self").await;
    give(&app, &s.sup, rid, 100).await;
    let mug = item(&app, &s.sup, json!({ "stock": 100, "points": 30 })).await;
    let results = futures::future::join_all((0..20).map(|_| {
        let (app, t, mug) = (&app, &t, &mug);
        async move {
            let res = redeem(app, t, mug, 1, None).await;
            let status = res.status();
            let body: Value = res.json().await.unwrap();
            (status, body)
        }
    }))
    .await;
    for (status, body) in &results {
        assert!(
            *status == StatusCode::CREATED
                || (*status == StatusCode::CONFLICT && body["code"] == "insufficient_points"),
            "{status} {body}"
        );
    }
    let sold = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(sold, 3);
    assert_eq!(balance(&app, &t).await, 10);
    assert_eq!(stock(&app, &s.sup, &mug["id"]).await, 97);

    let books = json_of(
        app.get("/v1/admin/points/reconciliation", Some(&s.sup))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(books["balanced"], true, "{books}");
    let mine = books["districts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["district_code"] == DISTRICT)
        .unwrap();
    assert_eq!(mine["redeemed"], 100 + 90);
}
on_both!(
    race_tests,
    super::a_hundred_concurrent_redemptions_sell_exactly_the_stock
);

async fn the_demo_seed_stocks_the_mall(fp: Footprint) {
    let app = TestApp::spawn_with(fp, |s| s.seed_demo = true).await;
    let listed = json_of(app.get("/v1/mall/items", None).await, StatusCode::OK).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "{listed}");
    assert!(items.iter().any(|i| i["kind"] == "coupon"));
    assert!(items.iter().all(|i| i["stock"].as_i64().unwrap() > 0));
}
on_both!(demo_tests, super::the_demo_seed_stocks_the_mall);
