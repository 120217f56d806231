//! Smart devices: registration and secrets, HMAC-signed deposits, replays, daily caps,
//! kitchen-waste scales, QR tokens and district scoping.

use chrono::Utc;
use hmac::{Hmac, Mac};
use reqwest::{Response, StatusCode};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set,
};
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;
use wufei_domain::{
    config::{Secret, Settings},
    entities::{audit_log, device, device_event, recycling_record},
};

use crate::{
    flows,
    helpers::{Footprint, TestApp, assert_problem},
    on_both,
};

const OTHER_DISTRICT: &str = "371526";

/// Lowercase hex HMAC-SHA256 of `timestamp.body`, as a device computes it.
fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn now() -> String {
    Utc::now().timestamp().to_string()
}

/// Posts raw bytes with the given headers.
async fn post_raw(
    app: &TestApp,
    device: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> Response {
    let mut r = app
        .client
        .post(app.url(&format!("/v1/devices/{device}/deposits")))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(t) = timestamp {
        r = r.header("x-wufei-timestamp", t);
    }
    if let Some(s) = signature {
        r = r.header("x-wufei-signature", s);
    }
    r.send().await.unwrap()
}

/// Posts a correctly signed deposit.
pub async fn deposit(app: &TestApp, device: &str, secret: &str, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap();
    let ts = now();
    post_raw(
        app,
        device,
        Some(&ts),
        Some(&sign(secret, &ts, &bytes)),
        &bytes,
    )
    .await
}

pub fn event(id: &str, token: &str, category: &str, weight_g: i64) -> Value {
    json!({ "event_id": id, "resident_token": token, "category_code": category, "weight_g": weight_g })
}

/// An app with a super administrator and a district administrator of 371502.
async fn app_with_admins(
    fp: Footprint,
    adjust: impl FnOnce(&mut wufei_domain::config::Settings),
) -> (TestApp, String, String) {
    let app = TestApp::spawn_with(fp, adjust).await;
    let a = flows::admins(&app).await;
    (app, a.sup, a.local)
}

/// Registers a device; returns (id, secret).
pub async fn register(app: &TestApp, admin: &str, kind: &str, district: &str) -> (String, String) {
    let res = app
        .post_json(
            "/v1/admin/devices",
            Some(admin),
            &json!({ "kind": kind, "name": format!("{kind} 1"), "district_code": district, "station": "星光花园东门" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    let secret = body["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 64);
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(body["kind"], kind);
    assert_eq!(body["active"], true);
    (body["id"].as_str().unwrap().to_string(), secret)
}

pub async fn qr(app: &TestApp, resident: &str) -> String {
    let res = app.get("/v1/points/qr-token", Some(resident)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

async fn balance(app: &TestApp, resident: &str) -> i64 {
    let res = app.get("/v1/points/account", Some(resident)).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["balance"]
        .as_i64()
        .unwrap()
}

async fn events(app: &TestApp) -> u64 {
    device_event::Entity::find()
        .count(&app.platform.db)
        .await
        .unwrap()
}

async fn patch(app: &TestApp, path: &str, token: &str, body: &Value) -> Response {
    app.client
        .patch(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn deposit_credits_and_bad_signatures_credit_nothing(fp: Footprint) {
    let (app, sup, _) = app_with_admins(fp, |_| {}).await;
    let (bin, secret) = register(&app, &sup, "recycling_bin", flows::DISTRICT).await;
    let (resident, resident_id) = flows::resident(&app, "device-resident-1").await;
    let token = qr(&app, &resident).await;

    // A valid deposit: 2.5 kg of paper at 10 points/kg.
    let res = deposit(&app, &bin, &secret, &event("evt-1", &token, "paper", 2500)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "event_id": "evt-1", "points": 25, "credited_weight_g": 2500, "capped": false })
    );
    assert_eq!(balance(&app, &resident).await, 25);
    let entries: Value = app
        .get("/v1/points/entries", Some(&resident))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(entries["items"][0]["points"], 25);
    assert_eq!(entries["items"][0]["kind"], "device_deposit");
    let record = recycling_record::Entity::find()
        .filter(recycling_record::Column::SourceKey.eq(format!("device:{bin}:evt-1")))
        .one(&app.platform.db)
        .await
        .unwrap()
        .expect("recycling-ledger line");
    assert_eq!(record.weight_g, 2500);
    assert_eq!(record.district_code, flows::DISTRICT);
    assert!(record.device_event_id.is_some() && record.recycler_id.is_none());
    let inbox: Value = app
        .get("/v1/notifications", Some(&resident))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "points" && n["data"]["points"] == 25),
        "{inbox}"
    );
    let list: Value = app
        .get("/v1/admin/devices", Some(&sup))
        .await
        .json()
        .await
        .unwrap();
    assert!(list["items"][0]["last_seen_at"].is_string());
    assert_eq!(resident_id.to_string().len(), 36);

    // Refusals: each 401 with its own code, nothing written.
    let before = events(&app).await;
    let body = serde_json::to_vec(&event("evt-2", &token, "paper", 1000)).unwrap();
    let other = serde_json::to_vec(&event("evt-2", &token, "paper", 99000)).unwrap();
    let ts = now();
    let cases: Vec<(Response, &str)> = vec![
        (
            post_raw(&app, &bin, Some(&ts), Some(&"ab".repeat(32)), &body).await,
            "signature_invalid",
        ),
        (
            post_raw(
                &app,
                &bin,
                Some(&ts),
                Some(&sign(&secret, &ts, &other)),
                &body,
            )
            .await,
            "signature_invalid",
        ),
        (
            post_raw(&app, &bin, Some(&ts), Some("not hex"), &body).await,
            "signature_invalid",
        ),
        (
            post_raw(&app, &bin, Some(&ts), None, &body).await,
            "signature_missing",
        ),
        (
            post_raw(&app, &bin, None, Some(&sign(&secret, &ts, &body)), &body).await,
            "timestamp_invalid",
        ),
        (
            post_raw(
                &app,
                &bin,
                Some("soon"),
                Some(&sign(&secret, "soon", &body)),
                &body,
            )
            .await,
            "timestamp_invalid",
        ),
        (
            post_raw(
                &app,
                &bin,
                Some(&ts),
                Some(&sign("another secret", &ts, &body)),
                &body,
            )
            .await,
            "signature_invalid",
        ),
    ];
    for (res, code) in cases {
        assert_problem(res, StatusCode::UNAUTHORIZED, code).await;
    }
    for skew in [-1000i64, 1000] {
        let t = (Utc::now().timestamp() + skew).to_string();
        let res = post_raw(&app, &bin, Some(&t), Some(&sign(&secret, &t, &body)), &body).await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "timestamp_stale").await;
    }
    for unknown in [Uuid::now_v7().to_string(), "not-a-device".to_string()] {
        let res = post_raw(
            &app,
            &unknown,
            Some(&ts),
            Some(&sign(&secret, &ts, &body)),
            &body,
        )
        .await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "device_unknown").await;
    }
    // Deactivated: refused; reactivated: accepted again.
    let res = patch(
        &app,
        &format!("/v1/admin/devices/{bin}"),
        &sup,
        &json!({ "active": false }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = deposit(&app, &bin, &secret, &event("evt-2", &token, "paper", 1000)).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "device_inactive").await;
    assert_eq!(events(&app).await, before);
    assert_eq!(balance(&app, &resident).await, 25);

    let res = patch(
        &app,
        &format!("/v1/admin/devices/{bin}"),
        &sup,
        &json!({ "active": true }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = deposit(&app, &bin, &secret, &event("evt-2", &token, "paper", 1000)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(balance(&app, &resident).await, 35);

    // Bad bodies, correctly signed: 4xx, nothing written.
    let before = events(&app).await;
    for (body, code) in [
        (event("evt-3", &token, "paper", 0), "validation_failed"),
        (
            event("evt-3", &token, "paper", 100_001),
            "validation_failed",
        ),
        (event("evt-3", &token, "no_such", 100), "validation_failed"),
        (
            event(&"x".repeat(65), &token, "paper", 100),
            "validation_failed",
        ),
        (
            event("with space", &token, "paper", 100),
            "validation_failed",
        ),
        (
            event("evt-3", &token, "e_waste", 100),
            "category_not_accepted",
        ),
        (json!({ "event_id": "evt-3" }), "invalid_body"),
    ] {
        let res = deposit(&app, &bin, &secret, &body).await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    let ts = now();
    let res = post_raw(
        &app,
        &bin,
        Some(&ts),
        Some(&sign(&secret, &ts, b"{nope")),
        b"{nope",
    )
    .await;
    assert_problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;
    assert_eq!(events(&app).await, before);
}
on_both!(
    deposit_credits,
    super::deposit_credits_and_bad_signatures_credit_nothing
);

async fn replays_and_concurrent_duplicates_credit_once(fp: Footprint) {
    let (app, sup, _) = app_with_admins(fp, |_| {}).await;
    let (bin, secret) = register(&app, &sup, "recycling_bin", flows::DISTRICT).await;
    let (resident, _) = flows::resident(&app, "device-resident-2").await;
    let token = qr(&app, &resident).await;

    let first = deposit(
        &app,
        &bin,
        &secret,
        &event("evt-r", &token, "plastic", 2000),
    )
    .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["points"], 30);
    // The same event again, and with another (signed) body: the first answer, no credit.
    for weight in [2000, 50_000] {
        let res = deposit(
            &app,
            &bin,
            &secret,
            &event("evt-r", &token, "plastic", weight),
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(res.headers()["idempotent-replayed"], "true");
        assert_eq!(res.json::<Value>().await.unwrap(), first);
    }
    // A replay is answered even once the QR token is no longer good.
    let res = deposit(
        &app,
        &bin,
        &secret,
        &event("evt-r", "garbage", "plastic", 2000),
    )
    .await;
    assert_eq!(res.json::<Value>().await.unwrap(), first);
    assert_eq!(balance(&app, &resident).await, 30);

    // Ten concurrent posts of one new event: one credit, every answer the same.
    let body = event("evt-c", &token, "metal", 1000);
    let answers =
        futures::future::join_all((0..10).map(|_| deposit(&app, &bin, &secret, &body))).await;
    let mut bodies = Vec::new();
    for res in answers {
        assert_eq!(res.status(), StatusCode::CREATED);
        bodies.push(res.json::<Value>().await.unwrap());
    }
    assert!(bodies.iter().all(|b| *b == bodies[0]), "{bodies:?}");
    assert_eq!(bodies[0]["points"], 20);
    assert_eq!(balance(&app, &resident).await, 50);
    let posted = device_event::Entity::find()
        .filter(device_event::Column::EventId.eq("evt-c"))
        .count(&app.platform.db)
        .await
        .unwrap();
    assert_eq!(posted, 1);
}
on_both!(
    replays_credit_once,
    super::replays_and_concurrent_duplicates_credit_once
);

async fn daily_caps_and_kitchen_waste_scales(fp: Footprint) {
    let (app, sup, local) = app_with_admins(fp, |_| {}).await;
    let kitchen = flows::category(&app, "kitchen_waste").await;
    // The cap is set through the category PATCH and shown in the admin view.
    let res = patch(
        &app,
        &format!("/v1/admin/categories/{kitchen}"),
        &sup,
        &json!({ "device_daily_cap": 3000 }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["device_daily_cap"], 3000);
    let res = patch(
        &app,
        &format!("/v1/admin/categories/{kitchen}"),
        &sup,
        &json!({ "device_daily_cap": -1 }),
    )
    .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = patch(
        &app,
        &format!("/v1/admin/categories/{kitchen}"),
        &local,
        &json!({ "device_daily_cap": 1 }),
    )
    .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let list: Value = app
        .get("/v1/admin/categories", Some(&sup))
        .await
        .json()
        .await
        .unwrap();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "kitchen_waste")
        .unwrap()
        .clone();
    assert_eq!(row["device_daily_cap"], 3000);

    let (scale, secret) = register(&app, &local, "kitchen_waste_scale", flows::DISTRICT).await;
    let (bin, bin_secret) = register(&app, &local, "recycling_bin", flows::DISTRICT).await;
    let (resident, _) = flows::resident(&app, "device-resident-3").await;
    let token = qr(&app, &resident).await;

    // 2 points/kg, priced on the day's running total.
    let mut total = 0;
    for (i, weight, points, credited, capped) in [
        (1, 1200, 2, 1200, false), // 1.2 kg → 2
        (2, 800, 2, 800, false),   // 2.0 kg → 4
        (3, 2000, 2, 1000, true),  // cap 3 kg → 6
        (4, 500, 0, 0, true),
    ] {
        let res = deposit(
            &app,
            &scale,
            &secret,
            &event(&format!("kw-{i}"), &token, "kitchen_waste", weight),
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["points"], points, "{body}");
        assert_eq!(body["credited_weight_g"], credited, "{body}");
        assert_eq!(body["capped"], capped, "{body}");
        total += points;
        assert_eq!(balance(&app, &resident).await, total);
    }
    // Another category has its own cap.
    let res = deposit(
        &app,
        &bin,
        &bin_secret,
        &event("b-1", &token, "glass", 1000),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.json::<Value>().await.unwrap()["points"], 4);

    // A scale takes kitchen waste only; a bin anything but.
    let res = deposit(&app, &scale, &secret, &event("kw-x", &token, "paper", 1000)).await;
    assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "category_not_accepted",
    )
    .await;
    let res = deposit(
        &app,
        &bin,
        &bin_secret,
        &event("b-x", &token, "kitchen_waste", 1000),
    )
    .await;
    assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "category_not_accepted",
    )
    .await;
    assert_eq!(balance(&app, &resident).await, total + 4);
}
on_both!(daily_caps, super::daily_caps_and_kitchen_waste_scales);

async fn qr_tokens_are_for_residents_and_devices_only(fp: Footprint) {
    let (app, sup, local) = app_with_admins(fp, |s| s.qr_token_ttl_secs = 1).await;
    let (bin, secret) = register(&app, &sup, "recycling_bin", flows::DISTRICT).await;
    let (resident, _) = flows::resident(&app, "device-resident-4").await;

    let res = app.get("/v1/points/qr-token", Some(&resident)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_string();
    let expires: chrono::DateTime<Utc> = body["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(expires <= Utc::now() + chrono::Duration::seconds(2));

    // Only residents get one.
    let (recycler, _) = flows::recycler_at(&app, "13600000011", "tricycle", 36.45, 115.98).await;
    for who in [&recycler, &sup, &local] {
        let res = app.get("/v1/points/qr-token", Some(who)).await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let res = app.get("/v1/points/qr-token", None).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    // A QR token is not an access token.
    let res = app.get("/v1/me", Some(&token)).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "token_invalid").await;

    // Expired (lifetime 1 s here), an access token, garbage: refused, nothing credited.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    for (i, (t, code)) in [
        (token.as_str(), "qr_token_expired"),
        (resident.as_str(), "qr_token_invalid"),
        ("garbage", "qr_token_invalid"),
        ("", "qr_token_invalid"),
    ]
    .into_iter()
    .enumerate()
    {
        let res = deposit(
            &app,
            &bin,
            &secret,
            &event(&format!("q-{i}"), t, "paper", 1000),
        )
        .await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    assert_eq!(events(&app).await, 0);
    assert_eq!(balance(&app, &resident).await, 0);
}
on_both!(
    qr_tokens,
    super::qr_tokens_are_for_residents_and_devices_only
);

async fn secrets_are_shown_once_and_districts_scope_admins(fp: Footprint) {
    let (app, sup, local) = app_with_admins(fp, |_| {}).await;
    let (resident, _) = flows::resident(&app, "device-resident-5").await;
    let token = qr(&app, &resident).await;

    // District administrators register in their own district only.
    let res = app
        .post_json(
            "/v1/admin/devices",
            Some(&local),
            &json!({ "kind": "recycling_bin", "name": "外区", "district_code": OTHER_DISTRICT }),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let (own, own_secret) = register(&app, &local, "recycling_bin", flows::DISTRICT).await;
    let (foreign, _) = register(&app, &sup, "recycling_bin", OTHER_DISTRICT).await;
    for body in [
        json!({ "kind": "toaster", "name": "x", "district_code": flows::DISTRICT }),
        json!({ "kind": "recycling_bin", "name": " ", "district_code": flows::DISTRICT }),
    ] {
        let res = app
            .post_json("/v1/admin/devices", Some(&local), &body)
            .await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    let res = app
        .post_json(
            "/v1/admin/devices",
            Some(&sup),
            &json!({ "kind": "recycling_bin", "name": "x", "district_code": "999999" }),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = app
        .post_json(
            "/v1/admin/devices",
            Some(&resident),
            &json!({ "kind": "recycling_bin", "name": "x", "district_code": flows::DISTRICT }),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;

    // Lists never carry secrets; district administrators see their district's devices.
    let all: Value = app
        .get("/v1/admin/devices", Some(&sup))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    assert!(!all.to_string().contains("secret"));
    assert!(!all.to_string().contains(&own_secret));
    let mine: Value = app
        .get("/v1/admin/devices", Some(&local))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![own.as_str()]);
    let filtered: Value = app
        .get(
            &format!("/v1/admin/devices?district_code={OTHER_DISTRICT}"),
            Some(&sup),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["items"][0]["id"], foreign.as_str());
    let page: Value = app
        .get("/v1/admin/devices?limit=1", Some(&sup))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next: Value = app
        .get(
            &format!("/v1/admin/devices?limit=1&cursor={cursor}"),
            Some(&sup),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["items"].as_array().unwrap().len(), 1);
    assert!(next["next_cursor"].is_null());
    assert_ne!(next["items"][0]["id"], page["items"][0]["id"]);

    // Other districts' devices do not exist for a district administrator.
    let res = patch(
        &app,
        &format!("/v1/admin/devices/{foreign}"),
        &local,
        &json!({ "name": "mine now" }),
    )
    .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .post_json(
            &format!("/v1/admin/devices/{foreign}/rotate-secret"),
            Some(&local),
            &json!({}),
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;

    // A PATCH answers without the secret.
    let res = patch(
        &app,
        &format!("/v1/admin/devices/{own}"),
        &local,
        &json!({ "name": "东门回收箱", "station": "东门" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["name"], "东门回收箱");
    assert!(body.get("secret").is_none());

    // Rotation: the new secret works, the old one no longer does.
    let res = app
        .post_json(
            &format!("/v1/admin/devices/{own}/rotate-secret"),
            Some(&local),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let rotated = res.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(rotated, own_secret);
    let res = deposit(
        &app,
        &own,
        &own_secret,
        &event("rot-1", &token, "paper", 1000),
    )
    .await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "signature_invalid").await;
    let res = deposit(&app, &own, &rotated, &event("rot-1", &token, "paper", 1000)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(balance(&app, &resident).await, 10);

    // Audited, never with the secret.
    let audit = audit_log::Entity::find()
        .filter(audit_log::Column::ObjectType.eq("device"))
        .all(&app.platform.db)
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    for a in ["device.create", "device.update", "device.rotate_secret"] {
        assert!(actions.contains(&a), "{actions:?}");
    }
    assert!(
        audit
            .iter()
            .all(|a| !a.detail.contains(&own_secret) && !a.detail.contains(&rotated))
    );
}
on_both!(
    secrets_and_scoping,
    super::secrets_are_shown_once_and_districts_scope_admins
);

/// The settings of `app` that locate its data (database, Redis prefix, data directory), for
/// starting the same deployment again with other keys.
fn same_store(app: &TestApp, adjust: impl FnOnce(&mut Settings)) -> impl FnOnce(&mut Settings) {
    let theirs = (*app.platform.settings).clone();
    move |s: &mut Settings| {
        s.database_url = theirs.database_url;
        s.redis_url = theirs.redis_url;
        s.redis_prefix = theirs.redis_prefix;
        s.data_dir = theirs.data_dir;
        adjust(s);
    }
}

const KEY_1: &str = "device key one: thirty-two bytes or more of it";
const KEY_2: &str = "device key two: thirty-two bytes or more of it";

async fn stored_secret(app: &TestApp, id: &str) -> String {
    device::Entity::find_by_id(id.parse::<Uuid>().unwrap())
        .one(&app.platform.db)
        .await
        .unwrap()
        .unwrap()
        .secret
}

/// A device's secret is stored sealed, not as the device knows it; a key rotation (new key,
/// the old one among the previous keys) seals every secret again at start — and one stored
/// in plain text before sealing existed — and devices keep signing throughout.
async fn device_secrets_are_sealed_at_rest_and_survive_a_key_rotation(fp: Footprint) {
    let (mut first, sup, _) =
        app_with_admins(fp, |s| s.device_secret_key = Some(Secret::new(KEY_1))).await;
    let (resident, _) = flows::resident(&first, "openid-sealed").await;
    let (id, secret) = register(&first, &sup, "recycling_bin", flows::DISTRICT).await;
    let sealed = stored_secret(&first, &id).await;
    assert!(sealed.starts_with("v1:"), "{sealed}");
    assert!(
        !sealed.contains(&secret),
        "the secret is stored as the device knows it"
    );
    let token = qr(&first, &resident).await;
    let res = deposit(&first, &id, &secret, &event("e-1", &token, "paper", 1000)).await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    // A device registered before sealing existed: its secret in plain text.
    let (legacy, legacy_secret) = register(&first, &sup, "recycling_bin", flows::DISTRICT).await;
    let mut row = device::Entity::find_by_id(legacy.parse::<Uuid>().unwrap())
        .one(&first.platform.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    row.secret = Set(legacy_secret.clone());
    row.update(&first.platform.db).await.unwrap();
    first.stop().await;

    let mut rotated = TestApp::spawn_with(
        fp,
        same_store(&first, |s| {
            s.device_secret_key = Some(Secret::new(KEY_2));
            s.device_secret_previous_keys = Some(Secret::new(KEY_1));
        }),
    )
    .await;
    let resealed = stored_secret(&rotated, &id).await;
    assert_ne!(
        resealed.split(':').nth(1),
        sealed.split(':').nth(1),
        "sealed under the new key"
    );
    let legacy_sealed = stored_secret(&rotated, &legacy).await;
    assert!(legacy_sealed.starts_with("v1:") && !legacy_sealed.contains(&legacy_secret));
    for (device, key, event_id) in [(&id, &secret, "e-2"), (&legacy, &legacy_secret, "e-3")] {
        let token = qr(&rotated, &resident).await;
        let res = deposit(
            &rotated,
            device,
            key,
            &event(event_id, &token, "paper", 1000),
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED, "after the rotation");
    }
    rotated.stop().await;

    let only_new = TestApp::spawn_with(
        fp,
        same_store(&first, |s| s.device_secret_key = Some(Secret::new(KEY_2))),
    )
    .await;
    let token = qr(&only_new, &resident).await;
    let res = deposit(
        &only_new,
        &id,
        &secret,
        &event("e-4", &token, "paper", 1000),
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "the old key is no longer needed"
    );
}
on_both!(
    device_secret_sealing,
    super::device_secrets_are_sealed_at_rest_and_survive_a_key_rotation
);
