//! Booking, the state machine, authorisation on every pickup, and dispatch, on both
//! footprints.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    flows::*,
    helpers::{Footprint, TestApp, assert_problem},
    on_both,
};

async fn booking_shows_the_pickup_with_items_and_timeline(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let (t, _) = resident(&app, "openid-book").await;
    let addr = address(&app, &t).await;
    let s = slot(&app, 30, 5, 1).await;
    let paper = category(&app, "paper").await;
    let res = book(&app, &t, addr, s, paper).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["status"], "pending_dispatch");
    assert_eq!(p["items"][0]["category_code"], "paper");
    assert_eq!(p["items"][0]["estimated_weight_g"], 5000);
    assert_eq!(p["timeline"][0]["to"], "pending_dispatch");
    assert_eq!(p["timeline"][0]["actor_role"], "resident");
    let list: Value = app.get("/v1/pickups", Some(&t)).await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}
on_both!(
    booking_shows_the_pickup_tests,
    super::booking_shows_the_pickup_with_items_and_timeline
);

async fn the_booking_answer_is_the_pickup_as_stored(fp: Footprint) {
    // The answer is built from what the booking wrote, not read back: it must still be
    // exactly what reading the pickup gives (times at the stored precision, item order).
    let app = TestApp::spawn(fp).await;
    let (t, _) = resident(&app, "openid-book-stored").await;
    let addr = address(&app, &t).await;
    let s = slot(&app, 30, 5, 1).await;
    let paper = category(&app, "paper").await;
    let tv = category(&app, "e_waste").await;
    let res = app
        .post_json(
            "/v1/pickups",
            Some(&t),
            &json!({ "address_id": addr, "slot_id": s, "note": "二楼",
                "items": [{ "category_id": tv, "estimated_count": 2 },
                          { "category_id": paper, "estimated_weight_g": 1500 }] }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let booked: Value = res.json().await.unwrap();
    let id = booked["id"].as_str().unwrap();
    let mut stored = pickup(&app, &t, id).await;
    // Dispatch may have run since (no recycler here: the pickup waits for a person).
    stored["manual_dispatch"] = booked["manual_dispatch"].clone();
    stored["timeline"].as_array_mut().unwrap().truncate(1);
    assert_eq!(booked, stored);
}
on_both!(
    booking_answer_tests,
    super::the_booking_answer_is_the_pickup_as_stored
);

async fn bad_bookings_are_refused_and_change_nothing(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let (t, _) = resident(&app, "openid-badbook").await;
    let (other, _) = resident(&app, "openid-badbook-other").await;
    let addr = address(&app, &t).await;
    let others_addr = address(&app, &other).await;
    let s = slot(&app, 30, 5, 1).await;
    let soon = slot(&app, 0, 5, 1).await;
    let paper = category(&app, "paper").await;
    let tv = category(&app, "e_waste").await;
    let (app_ref, t_ref) = (&app, &t);
    let post =
        |body: Value| async move { app_ref.post_json("/v1/pickups", Some(t_ref), &body).await };
    assert_problem(
        post(json!({ "address_id": addr, "slot_id": s, "items": [] })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_problem(post(json!({ "address_id": addr, "slot_id": s, "items": [{ "category_id": uuid::Uuid::new_v4(), "estimated_weight_g": 10 }] })).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_problem(post(json!({ "address_id": addr, "slot_id": s, "items": [{ "category_id": paper, "estimated_weight_g": 900_000_000 }] })).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_problem(
        post(json!({ "address_id": addr, "slot_id": s, "items": [{ "category_id": tv }] })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_problem(post(json!({ "address_id": others_addr, "slot_id": s, "items": [{ "category_id": paper, "estimated_weight_g": 10 }] })).await, StatusCode::NOT_FOUND, "not_found").await;
    assert_problem(post(json!({ "address_id": addr, "slot_id": soon, "items": [{ "category_id": paper, "estimated_weight_g": 10 }] })).await, StatusCode::UNPROCESSABLE_ENTITY, "slot_closed").await;
    assert_problem(post(json!({ "address_id": addr, "slot_id": uuid::Uuid::new_v4(), "items": [{ "category_id": paper, "estimated_weight_g": 10 }] })).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let list: Value = app.get("/v1/pickups", Some(&t)).await.json().await.unwrap();
    assert!(list["items"].as_array().unwrap().is_empty());
}
on_both!(
    bad_bookings_tests,
    super::bad_bookings_are_refused_and_change_nothing
);

/// `n` residents (WeChat openids `openid-{tag}-{i}`), each with a token and an address.
async fn residents_with_addresses(app: &TestApp, tag: &str, n: usize) -> Vec<(String, Uuid)> {
    let mut people = Vec::with_capacity(n);
    for i in 0..n {
        let (t, _) = resident(app, &format!("openid-{tag}-{i}")).await;
        let a = address(app, &t).await;
        people.push((t, a));
    }
    people
}

async fn slot_capacity_holds_under_50_concurrent_bookings(fp: Footprint) {
    let app = TestApp::spawn_with(fp, |s| s.rate_limit_per_client = 100_000).await;
    let s = slot(&app, 30, 10, 2).await;
    let paper = category(&app, "paper").await;
    let people = residents_with_addresses(&app, "rush", 50).await;
    let results =
        futures::future::join_all(people.iter().map(|(t, a)| book(&app, t, *a, s, paper))).await;
    let created = results
        .iter()
        .filter(|r| r.status() == StatusCode::CREATED)
        .count();
    let full = results
        .iter()
        .filter(|r| r.status() == StatusCode::CONFLICT)
        .count();
    assert_eq!(created, 10, "exactly the capacity is booked");
    assert_eq!(full, 40, "everyone else is told the slot is full");
    use sea_orm::EntityTrait;
    let row = wufei_domain::entities::pickup_slot::Entity::find_by_id(s)
        .one(&app.platform.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.booked, 10);
}
on_both!(
    slot_capacity_tests,
    super::slot_capacity_holds_under_50_concurrent_bookings
);

/// A rush into a slot with room: on PostgreSQL the bookings that arrive together are
/// written together (pickups/slot_gate.rs). Each must come out exactly as if written
/// alone, and one that fails a check must not take the others down with it.
async fn a_rush_of_bookings_is_written_as_if_each_were_alone(fp: Footprint) {
    let app = TestApp::spawn_with(fp, |s| s.rate_limit_per_client = 100_000).await;
    let s = slot(&app, 30, 100, 2).await;
    let paper = category(&app, "paper").await;
    let people = residents_with_addresses(&app, "batch", 40).await;
    // Five of them book with the address of the resident after them.
    let asks: Vec<(&str, Uuid, bool)> = people
        .iter()
        .enumerate()
        .map(|(i, (t, a))| match i % 8 {
            3 => (t.as_str(), people[i + 1].1, false),
            _ => (t.as_str(), *a, true),
        })
        .collect();
    let results =
        futures::future::join_all(asks.iter().map(|(t, a, _)| book(&app, t, *a, s, paper))).await;
    let mut booked = Vec::new();
    for ((t, a, own), res) in asks.iter().zip(results) {
        if !own {
            assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
            continue;
        }
        assert_eq!(res.status(), StatusCode::CREATED);
        let answered: Value = res.json().await.unwrap();
        let id = answered["id"].as_str().unwrap().to_owned();
        let read: Value = app
            .get(&format!("/v1/pickups/{id}"), Some(t))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(read, answered, "the answer is what was written");
        assert_eq!(read["status"], "pending_dispatch");
        assert_eq!(read["slot_id"], s.to_string());
        assert_eq!(read["address"]["id"], a.to_string(), "its own address");
        assert_eq!(read["note"], "敲门");
        assert_eq!(read["items"].as_array().unwrap().len(), 1);
        assert_eq!(read["items"][0]["category_id"], paper.to_string());
        assert_eq!(read["items"][0]["estimated_weight_g"], 5000);
        let timeline = read["timeline"].as_array().unwrap();
        assert_eq!(timeline.len(), 1);
        assert_eq!(timeline[0]["reason"], "booked");
        booked.push(Uuid::parse_str(&id).unwrap());
    }
    assert_eq!(booked.len(), 35);
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let row = wufei_domain::entities::pickup_slot::Entity::find_by_id(s)
        .one(&app.platform.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.booked, 35, "the slot counts each booking once");
    let pickups = wufei_domain::entities::pickup::Entity::find()
        .filter(wufei_domain::entities::pickup::Column::SlotId.eq(s))
        .all(&app.platform.db)
        .await
        .unwrap();
    assert_eq!(
        pickups.len(),
        35,
        "no booking written twice, none refused written"
    );
}
on_both!(
    batch_tests,
    super::a_rush_of_bookings_is_written_as_if_each_were_alone
);

async fn residents_cannot_read_or_change_each_others_pickups(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let (alice, _) = resident(&app, "openid-authz-alice").await;
    let (bob, _) = resident(&app, "openid-authz-bob").await;
    let addr = address(&app, &alice).await;
    let s = slot(&app, 30, 5, 1).await;
    let s2 = slot(&app, 40, 5, 1).await;
    let paper = category(&app, "paper").await;
    let p: Value = book(&app, &alice, addr, s, paper)
        .await
        .json()
        .await
        .unwrap();
    let id = p["id"].as_str().unwrap();
    assert_problem(
        app.get(&format!("/v1/pickups/{id}"), Some(&bob)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    for (action, body) in [
        ("cancel", json!({})),
        ("reschedule", json!({ "slot_id": s2 })),
        ("rating", json!({ "stars": 5 })),
        ("dispute", json!({ "text": "x" })),
    ] {
        let res = app
            .post_json(&format!("/v1/pickups/{id}/{action}"), Some(&bob), &body)
            .await;
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    let bobs: Value = app
        .get("/v1/pickups", Some(&bob))
        .await
        .json()
        .await
        .unwrap();
    assert!(bobs["items"].as_array().unwrap().is_empty());
    let res = app
        .client
        .patch(app.url(&format!("/v1/me/addresses/{addr}")))
        .bearer_auth(&bob)
        .json(&json!({ "label": "x" }))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let mine: Vec<Value> = app
        .get("/v1/me/addresses", Some(&bob))
        .await
        .json()
        .await
        .unwrap();
    assert!(mine.iter().all(|a| a["id"] != addr.to_string().as_str()));
    assert_eq!(pickup(&app, &alice, id).await["status"], "pending_dispatch");
}
on_both!(
    residents_cannot_touch_each_others_pickups_tests,
    super::residents_cannot_read_or_change_each_others_pickups
);

async fn cancel_and_reschedule_move_capacity(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let (t, _) = resident(&app, "openid-resched").await;
    let addr = address(&app, &t).await;
    let s1 = slot(&app, 30, 1, 1).await;
    let s2 = slot(&app, 50, 1, 1).await;
    let paper = category(&app, "paper").await;
    let p: Value = book(&app, &t, addr, s1, paper).await.json().await.unwrap();
    let id = p["id"].as_str().unwrap();
    let res = app
        .post_json(
            &format!("/v1/pickups/{id}/reschedule"),
            Some(&t),
            &json!({ "slot_id": s2 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // s1 is free again, s2 is full.
    let again = book(&app, &t, addr, s1, paper).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_problem(
        book(&app, &t, addr, s2, paper).await,
        StatusCode::CONFLICT,
        "slot_full",
    )
    .await;
    let res = app
        .post_json(
            &format!("/v1/pickups/{id}/cancel"),
            Some(&t),
            &json!({ "reason": "不需要了" }),
        )
        .await;
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["status"], "cancelled");
    assert_eq!(p["late_cancellation"], false);
    assert_eq!(
        book(&app, &t, addr, s2, paper).await.status(),
        StatusCode::CREATED
    );
    // Cancelling twice is an illegal transition.
    let res = app
        .post_json(&format!("/v1/pickups/{id}/cancel"), Some(&t), &json!({}))
        .await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
}
on_both!(
    cancel_and_reschedule_tests,
    super::cancel_and_reschedule_move_capacity
);

async fn the_full_journey_and_every_illegal_step(fp: Footprint) {
    let app = TestApp::spawn_with(fp, |s| s.offer_window_secs = 30).await;
    let (t, _) = resident(&app, "openid-journey").await;
    let addr = address(&app, &t).await;
    let s = slot(&app, 30, 5, 1).await;
    let paper = category(&app, "paper").await;
    let (r, _) = recycler_at(&app, "13500000001", "tricycle", CENTRE.0 + 0.01, CENTRE.1).await;
    let (other_r, _) = recycler_at(&app, "13500000002", "tricycle", CENTRE.0 + 0.3, CENTRE.1).await;
    let p: Value = book(&app, &t, addr, s, paper).await.json().await.unwrap();
    let id = p["id"].as_str().unwrap().to_string();
    // Steps before the pickup is the recycler's are refused.
    for step in ["depart", "arrive"] {
        let res = app
            .post_json(
                &format!("/v1/recycler/pickups/{id}/{step}"),
                Some(&r),
                &json!({}),
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::NOT_FOUND,
            "{step} before accepting"
        );
    }
    let offer = eventually(15, || async { offers(&app, &r).await.into_iter().next() }).await;
    assert_eq!(offer["pickup_id"], id.as_str());
    assert!(
        offers(&app, &other_r).await.is_empty(),
        "assign mode offers one recycler at a time"
    );
    let res = accept(&app, &r, offer["id"].as_str().unwrap()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["status"], "accepted");
    // Another recycler cannot act on it; the resident cannot complete it.
    let res = app
        .post_json(
            &format!("/v1/recycler/pickups/{id}/depart"),
            Some(&other_r),
            &json!({}),
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .post_json(
            &format!("/v1/recycler/pickups/{id}/arrive"),
            Some(&r),
            &json!({}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
    let res = app
        .post_json(
            &format!("/v1/pickups/{id}/rating"),
            Some(&t),
            &json!({ "stars": 5 }),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "cannot_rate").await;
    assert_eq!(
        app.post_json(
            &format!("/v1/recycler/pickups/{id}/depart"),
            Some(&r),
            &json!({})
        )
        .await
        .status(),
        StatusCode::OK
    );
    let res = app
        .post_json(
            &format!("/v1/recycler/pickups/{id}/depart"),
            Some(&r),
            &json!({}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
    assert_eq!(
        app.post_json(
            &format!("/v1/recycler/pickups/{id}/arrive"),
            Some(&r),
            &json!({})
        )
        .await
        .status(),
        StatusCode::OK
    );
    let res = app
        .post_json(&format!("/v1/pickups/{id}/cancel"), Some(&t), &json!({}))
        .await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
    // Completion needs photos of the items and the scale.
    let photos = upload_two(&app, &r).await;
    let body =
        json!({ "items": [{ "category_id": paper, "weight_g": 4200 }], "photo_ids": [photos[0]] });
    let res = app
        .post_json(
            &format!("/v1/recycler/pickups/{id}/complete"),
            Some(&r),
            &body,
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let body =
        json!({ "items": [{ "category_id": paper, "weight_g": 4200 }], "photo_ids": photos });
    let res = app
        .post_json(
            &format!("/v1/recycler/pickups/{id}/complete"),
            Some(&r),
            &body,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["status"], "completed");
    assert_eq!(p["items"][0]["actual_weight_g"], 4200);
    let res = app
        .post_json(
            &format!("/v1/recycler/pickups/{id}/no-show"),
            Some(&r),
            &json!({ "photo_ids": photos }),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
    // The resident sees the weigh ticket, rates once, may dispute.
    let p = pickup(&app, &t, &id).await;
    assert_eq!(p["completion_photo_ids"].as_array().unwrap().len(), 2);
    let timeline: Vec<&str> = p["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["to"].as_str().unwrap())
        .take(6)
        .collect();
    assert_eq!(
        timeline,
        [
            "pending_dispatch",
            "offered",
            "accepted",
            "en_route",
            "arrived",
            "completed"
        ]
    );
    // Completion staged the event settlement consumes; the worker settles the pickup. The
    // test waits for it before disputing: a dispute opened first holds settlement until an
    // administrator decides (points.rs covers that order).
    let p = eventually(20, || async {
        let p = pickup(&app, &t, &id).await;
        (p["status"] == "settled").then_some(p)
    })
    .await;
    assert_eq!(
        p["timeline"].as_array().unwrap().last().unwrap()["to"],
        "settled"
    );
    assert_eq!(
        app.post_json(
            &format!("/v1/pickups/{id}/rating"),
            Some(&t),
            &json!({ "stars": 4 })
        )
        .await
        .status(),
        StatusCode::OK
    );
    assert_problem(
        app.post_json(
            &format!("/v1/pickups/{id}/rating"),
            Some(&t),
            &json!({ "stars": 5 }),
        )
        .await,
        StatusCode::CONFLICT,
        "cannot_rate",
    )
    .await;
    let res = app
        .post_json(
            &format!("/v1/pickups/{id}/dispute"),
            Some(&t),
            &json!({ "text": "秤不准" }),
        )
        .await;
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["dispute_state"], "open");
    assert_eq!(p["status"], "settled");
}
on_both!(
    the_full_journey_tests,
    super::the_full_journey_and_every_illegal_step
);

pub async fn upload_two(app: &TestApp, token: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for w in [20, 21] {
        let res = crate::uploads::upload(
            app,
            token,
            "pickup_photo",
            &crate::uploads::png(w, 20),
            None,
        )
        .await;
        ids.push(
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    ids
}
