//! Becoming a recycler (application with a private ID photo, review by a district
//! administrator), shifts and heartbeats, pickups expiring when their slot ends, and a
//! dispatch cut off mid-transaction; on both footprints.

use reqwest::StatusCode;
use serde_json::{Value, json};
use wufei_domain::auth::{AdminScope, Role};

use crate::{
    flows::*,
    helpers::{Footprint, TestApp, assert_problem},
    on_both,
    uploads::{png, upload},
};

async fn an_applicant_becomes_a_recycler_after_review(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let apply = json!({
        "name": "李师傅", "phone": "13711112222", "password": "recycler pass 1",
        "vehicle": "van", "district_codes": [DISTRICT]
    });
    let res = app
        .post_json("/v1/recycler-applications", None, &apply)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let applied: Value = res.json().await.unwrap();
    assert_eq!(applied["application"]["status"], "pending");
    let id = applied["application"]["id"].as_str().unwrap().to_string();
    let again = app
        .post_json("/v1/recycler-applications", None, &apply)
        .await;
    assert_problem(again, StatusCode::CONFLICT, "phone_taken").await;

    let session = app.login("13711112222", "recycler pass 1").await;
    let token = session["access_token"].as_str().unwrap().to_string();
    assert_eq!(session["user"]["role"], "resident");
    // Not yet a recycler: recycler routes are refused.
    let res = app
        .post_json(
            "/v1/recycler/shift",
            Some(&token),
            &json!({ "on_shift": true }),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;

    app.create_user(
        "13600000020",
        "admin password 1",
        Role::Admin,
        Some(AdminScope::District),
        Some(DISTRICT),
    )
    .await;
    let admin = app.login("13600000020", "admin password 1").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .post_json(
            &format!("/v1/admin/recycler-applications/{id}/approve"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "id_photo_missing").await;

    let photo: Value = upload(&app, &token, "id_photo", &png(40, 30), None)
        .await
        .json()
        .await
        .unwrap();
    let res = app
        .client
        .patch(app.url("/v1/recycler-applications/mine"))
        .bearer_auth(&token)
        .json(&json!({ "id_photo_id": photo["id"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // The ID photo is private: the administrator sees it, another resident does not.
    assert_eq!(
        app.get(photo["url"].as_str().unwrap(), Some(&admin))
            .await
            .status(),
        StatusCode::OK
    );
    let (stranger, _) = resident(&app, "openid-stranger").await;
    assert_eq!(
        app.get(photo["url"].as_str().unwrap(), Some(&stranger))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    let pending: Value = app
        .get(
            "/v1/admin/recycler-applications?status=pending",
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        pending["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id.as_str())
    );
    let res = app
        .post_json(
            &format!("/v1/admin/recycler-applications/{id}/approve"),
            Some(&admin),
            &json!({ "slot_capacity": 6 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_json(
            &format!("/v1/admin/recycler-applications/{id}/reject"),
            Some(&admin),
            &json!({ "reason": "x" }),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "application_closed").await;

    // The next refresh carries the new role.
    let refreshed: Value = app
        .post_json(
            "/v1/auth/refresh",
            None,
            &json!({ "refresh_token": session["refresh_token"] }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(refreshed["user"]["role"], "recycler");
    let token = refreshed["access_token"].as_str().unwrap();
    let res = app
        .post_json(
            "/v1/recycler/location",
            Some(token),
            &json!({ "lat": CENTRE.0, "lng": CENTRE.1 }),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "not_on_shift").await;
    let res = app
        .post_json(
            "/v1/recycler/shift",
            Some(token),
            &json!({ "on_shift": true, "lat": CENTRE.0, "lng": CENTRE.1 }),
        )
        .await;
    let me: Value = res.json().await.unwrap();
    assert_eq!(
        (me["on_shift"].as_bool(), me["slot_capacity"].as_i64()),
        (Some(true), Some(6))
    );
    let res = app
        .post_json(
            "/v1/recycler/location",
            Some(token),
            &json!({ "lat": 10.0, "lng": 10.0 }),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = app
        .post_json(
            "/v1/recycler/location",
            Some(token),
            &json!({ "lat": CENTRE.0, "lng": CENTRE.1 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}
on_both!(
    an_applicant_becomes_a_recycler_tests,
    super::an_applicant_becomes_a_recycler_after_review
);

async fn rejection_needs_a_reason_and_other_districts_cannot_review(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let res = app
        .post_json(
            "/v1/recycler-applications",
            None,
            &json!({ "name": "赵师傅", "phone": "13711113333", "password": "recycler pass 1", "vehicle": "tricycle", "district_codes": [DISTRICT] }),
        )
        .await;
    let id = res.json::<Value>().await.unwrap()["application"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.create_user(
        "13600000021",
        "admin password 1",
        Role::Admin,
        Some(AdminScope::District),
        Some("371526"),
    )
    .await;
    let other = app.login("13600000021", "admin password 1").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .post_json(
            &format!("/v1/admin/recycler-applications/{id}/reject"),
            Some(&other),
            &json!({ "reason": "资料不全" }),
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    app.create_user(
        "13600000022",
        "admin password 1",
        Role::Admin,
        Some(AdminScope::SuperAdmin),
        None,
    )
    .await;
    let sup = app.login("13600000022", "admin password 1").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .post_json(
            &format!("/v1/admin/recycler-applications/{id}/reject"),
            Some(&sup),
            &json!({}),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = app
        .post_json(
            &format!("/v1/admin/recycler-applications/{id}/reject"),
            Some(&sup),
            &json!({ "reason": "资料不全" }),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "rejected");
}
on_both!(
    rejection_tests,
    super::rejection_needs_a_reason_and_other_districts_cannot_review
);

async fn a_pickup_whose_slot_ended_without_a_recycler_expires(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let (t, _) = resident(&app, "openid-expire").await;
    let addr = address(&app, &t).await;
    let s = slot(&app, 30, 5, 1).await;
    let paper = category(&app, "paper").await;
    let p: Value = book(&app, &t, addr, s, paper).await.json().await.unwrap();
    let id = p["id"].as_str().unwrap().to_string();
    // Move the slot into the past, as time would.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    wufei_domain::entities::pickup_slot::Entity::update_many()
        .col_expr(
            wufei_domain::entities::pickup_slot::Column::EndsAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .filter(wufei_domain::entities::pickup_slot::Column::Id.eq(s))
        .exec(&app.platform.db)
        .await
        .unwrap();
    let n = wufei_domain::pickups::expiry::expire_due(&app.platform.db)
        .await
        .unwrap();
    // The scheduler stages an expiry run at start-up; on a busy machine its job can run
    // between the slot's move and this call, and expire the pickup first.
    assert!(n <= 1, "expired {n} pickups");
    assert_eq!(
        wufei_domain::pickups::expiry::expire_due(&app.platform.db)
            .await
            .unwrap(),
        0,
        "idempotent"
    );
    let p = pickup(&app, &t, &id).await;
    assert_eq!(p["status"], "expired");
    let expired = transitions_to(&p, "expired");
    assert_eq!(expired, 1, "expired once: {}", p["timeline"]);
    let inbox = inbox(&app, &t).await;
    assert!(
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["data"]["status"] == "expired")
    );
}
on_both!(
    expiry_tests,
    super::a_pickup_whose_slot_ended_without_a_recycler_expires
);

async fn a_dispatch_cut_off_mid_transaction_leaves_nothing_behind(fp: Footprint) {
    let app = TestApp::spawn_with(fp, |s| s.offer_window_secs = 60).await;
    let (r, _) = recycler_at(&app, "13500000501", "tricycle", CENTRE.0 + 0.001, CENTRE.1).await;
    let (t, _) = resident(&app, "openid-cutoff").await;
    let addr = address(&app, &t).await;
    let s = slot(&app, 30, 5, 1).await;
    let paper = category(&app, "paper").await;
    let p: Value = book(&app, &t, addr, s, paper).await.json().await.unwrap();
    let id: uuid::Uuid = p["id"].as_str().unwrap().parse().unwrap();
    let dispatcher = app.platform.dispatcher();
    // Workers that die at every point of a dispatch: the future is dropped mid-flight,
    // exactly what a killed process does to its open transaction.
    for micros in [10u64, 50, 200, 1000, 3000, 10_000] {
        let _ = tokio::time::timeout(
            std::time::Duration::from_micros(micros),
            dispatcher.dispatch(id),
        )
        .await;
    }
    eventually(15, || async { offers(&app, &r).await.into_iter().next() }).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let n = wufei_domain::entities::offer::Entity::find()
        .filter(wufei_domain::entities::offer::Column::PickupId.eq(id))
        .count(&app.platform.db)
        .await
        .unwrap();
    assert_eq!(n, 1, "no offer lost or doubled");
    let p = pickup(&app, &t, &id.to_string()).await;
    assert_eq!(p["status"], "offered");
}
on_both!(
    cut_off_dispatch_tests,
    super::a_dispatch_cut_off_mid_transaction_leaves_nothing_behind
);
