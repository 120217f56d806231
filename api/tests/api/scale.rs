//! Scale-out: two `wufei-api` instances and two workers against one PostgreSQL and one
//! Redis. A booking made through one instance produces an offer on a WebSocket connected
//! to the other, and every pickup is dispatched exactly once. Runs only when the
//! production variables are set.

use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    flows::*,
    helpers::{Footprint, TestApp, production_env},
    ws::{next_json, open},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_apis_and_two_workers_dispatch_each_pickup_once_and_fan_out_offers() {
    if production_env().is_none() {
        eprintln!("skipped: scale-out (set WUFEI_TEST_DATABASE_URL and WUFEI_TEST_REDIS_URL)");
        return;
    }
    // Each TestApp on the production footprint also runs a worker: two APIs, two workers.
    let a = TestApp::spawn_with(Footprint::Production, |s| s.offer_window_secs = 60).await;
    let b = a.spawn_beside().await;
    let (recycler_token, recycler_id) =
        recycler_at(&a, "13500000901", "tricycle", CENTRE.0 + 0.001, CENTRE.1).await;
    let mut socket = open(&b, &recycler_token).await;
    assert_eq!(next_json(&mut socket).await["type"], "hello");

    let (t, _) = resident(&a, "openid-scale").await;
    let addr = address(&a, &t).await;
    let paper = category(&a, "paper").await;
    let s = slot(&a, 30, 50, 5).await;
    let res = book(&a, &t, addr, s, paper).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let first: Value = res.json().await.unwrap();

    // The offer made by whichever worker dispatched reaches the socket held by instance B.
    let offer = loop {
        let m = next_json(&mut socket).await;
        if m["type"] == "offer" {
            break m;
        }
    };
    assert_eq!(offer["data"]["pickup_id"], first["id"]);
    let res = accept(
        &b,
        &recycler_token,
        offer["data"]["offer_id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    // More bookings through both instances: each is dispatched exactly once.
    let mut ids = vec![first["id"].as_str().unwrap().to_string()];
    for i in 0..8 {
        let app = if i % 2 == 0 { &a } else { &b };
        let p: Value = book(app, &t, addr, s, paper).await.json().await.unwrap();
        ids.push(p["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        let p = eventually(20, || async {
            let p = pickup(&a, &t, id).await;
            (p["status"] != "pending_dispatch" || p["manual_dispatch"] == true).then_some(p)
        })
        .await;
        let offered = transitions_to(&p, "offered");
        assert_eq!(offered, 1, "pickup {id} was offered {offered} times: {p}");
    }
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    for id in &ids {
        let id: uuid::Uuid = id.parse().unwrap();
        let n = wufei_domain::entities::offer::Entity::find()
            .filter(wufei_domain::entities::offer::Column::PickupId.eq(id))
            .count(&a.platform.db)
            .await
            .unwrap();
        assert_eq!(n, 1, "one offer per pickup");
    }
    let _ = recycler_id;
}
