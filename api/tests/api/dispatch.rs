//! Dispatch: assign and broadcast modes, timeouts, manual dispatch, and idempotence when
//! a job is delivered twice or a worker dies mid-dispatch; on both footprints.

use reqwest::StatusCode;
use serde_json::{Value, json};
use wufei_domain::auth::{AdminScope, Role};

use crate::{
    flows::*,
    helpers::{Footprint, TestApp, assert_problem},
    on_both,
};

async fn set_broadcast(app: &TestApp) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    wufei_domain::entities::district::Entity::update_many()
        .col_expr(
            wufei_domain::entities::district::Column::DispatchMode,
            Expr::value("broadcast"),
        )
        .filter(wufei_domain::entities::district::Column::Code.eq(DISTRICT))
        .exec(&app.platform.db)
        .await
        .unwrap();
}

async fn fifty_recyclers_accept_one_broadcast_offer_and_exactly_one_wins(fp: Footprint) {
    let app = TestApp::spawn_with(fp, |s| {
        s.broadcast_top_k = 50;
        s.offer_window_secs = 60;
        s.rate_limit_per_client = 100_000;
        s.login_attempts = 100;
    })
    .await;
    set_broadcast(&app).await;
    let mut recyclers = Vec::new();
    for i in 0..50 {
        let lat = CENTRE.0 + 0.001 * f64::from(i);
        recyclers
            .push(recycler_at(&app, &format!("135000001{i:02}"), "tricycle", lat, CENTRE.1).await);
    }
    let (t, _) = resident(&app, "openid-broadcast").await;
    let addr = address(&app, &t).await;
    let s = slot(&app, 30, 5, 1).await;
    let paper = category(&app, "paper").await;
    let p: Value = book(&app, &t, addr, s, paper).await.json().await.unwrap();
    let id = p["id"].as_str().unwrap().to_string();
    let mut offer_ids = Vec::new();
    for (token, _) in &recyclers {
        let o = eventually(20, || async {
            offers(&app, token).await.into_iter().next()
        })
        .await;
        offer_ids.push((token.clone(), o["id"].as_str().unwrap().to_string()));
    }
    let app_ref = &app;
    let results = futures::future::join_all(offer_ids.iter().map(|(t, o)| async move {
        app_ref
            .post_json(
                &format!("/v1/recycler/offers/{o}/accept"),
                Some(t),
                &json!({}),
            )
            .await
    }))
    .await;
    let won = results
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .count();
    let lost = results
        .iter()
        .filter(|r| r.status() == StatusCode::CONFLICT)
        .count();
    let statuses: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        (won, lost),
        (1, 49),
        "exactly one recycler wins: {statuses:?}"
    );
    let p = pickup(&app, &t, &id).await;
    assert_eq!(p["status"], "accepted");
    // The others' offers were withdrawn.
    eventually(10, || async {
        let mut open = 0;
        for (token, _) in &recyclers {
            open += offers(&app, token).await.len();
        }
        (open == 0).then_some(())
    })
    .await;
}
on_both!(
    fifty_recyclers_one_offer_tests,
    super::fifty_recyclers_accept_one_broadcast_offer_and_exactly_one_wins
);

async fn an_unanswered_offer_moves_to_the_next_candidate(fp: Footprint) {
    let app = TestApp::spawn_with(fp, |s| s.offer_window_secs = 1).await;
    let (near, near_id) =
        recycler_at(&app, "13500000201", "tricycle", CENTRE.0 + 0.001, CENTRE.1).await;
    let (far, far_id) =
        recycler_at(&app, "13500000202", "tricycle", CENTRE.0 + 0.05, CENTRE.1).await;
    let (t, _) = resident(&app, "openid-timeout").await;
    let addr = address(&app, &t).await;
    let s = slot(&app, 30, 5, 1).await;
    let paper = category(&app, "paper").await;
    let p: Value = book(&app, &t, addr, s, paper).await.json().await.unwrap();
    let id = p["id"].as_str().unwrap().to_string();
    let first = eventually(10, || async {
        offers(&app, &near).await.into_iter().next()
    })
    .await;
    assert_eq!(first["pickup_id"], id.as_str());
    // Nobody answers: after the window the farther recycler gets it.
    let second = eventually(20, || async { offers(&app, &far).await.into_iter().next() }).await;
    assert_eq!(second["pickup_id"], id.as_str());
    assert!(offers(&app, &near).await.is_empty());
    let res = app
        .post_json(
            &format!(
                "/v1/recycler/offers/{}/accept",
                first["id"].as_str().unwrap()
            ),
            Some(&near),
            &json!({}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "pickup_taken").await;
    let res = app
        .post_json(
            &format!(
                "/v1/recycler/offers/{}/accept",
                second["id"].as_str().unwrap()
            ),
            Some(&far),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let p = pickup(&app, &t, &id).await;
    assert_eq!(p["recycler"]["id"], far_id.to_string().as_str());
    assert_ne!(p["recycler"]["id"], near_id.to_string().as_str());
}
on_both!(
    unanswered_offer_tests,
    super::an_unanswered_offer_moves_to_the_next_candidate
);

async fn a_declined_offer_moves_on_at_once_and_without_candidates_it_goes_to_manual_dispatch(
    fp: Footprint,
) {
    let app = TestApp::spawn_with(fp, |s| s.offer_window_secs = 60).await;
    let (r, r_id) = recycler_at(&app, "13500000301", "tricycle", CENTRE.0 + 0.001, CENTRE.1).await;
    let (t, _) = resident(&app, "openid-manual").await;
    let addr = address(&app, &t).await;
    let s = slot(&app, 30, 5, 1).await;
    let paper = category(&app, "paper").await;
    let p: Value = book(&app, &t, addr, s, paper).await.json().await.unwrap();
    let id = p["id"].as_str().unwrap().to_string();
    let o = eventually(10, || async { offers(&app, &r).await.into_iter().next() }).await;
    let res = app
        .post_json(
            &format!("/v1/recycler/offers/{}/reject", o["id"].as_str().unwrap()),
            Some(&r),
            &json!({ "reason": "太远" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Nobody else: manual dispatch, visible to the district's administrator.
    let p = eventually(10, || async {
        let p = pickup(&app, &t, &id).await;
        (p["manual_dispatch"] == true).then_some(p)
    })
    .await;
    assert_eq!(p["status"], "pending_dispatch");
    assert!(
        p["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"].as_str().unwrap().starts_with("manual dispatch"))
    );
    app.create_user(
        "13600000010",
        "admin password 1",
        Role::Admin,
        Some(AdminScope::District),
        Some(DISTRICT),
    )
    .await;
    app.create_user(
        "13600000011",
        "admin password 1",
        Role::Admin,
        Some(AdminScope::District),
        Some("371526"),
    )
    .await;
    let admin = app.login("13600000010", "admin password 1").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let elsewhere = app.login("13600000011", "admin password 1").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let queue: Value = app
        .get("/v1/admin/pickups?manual=true", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == id.as_str())
    );
    let theirs: Value = app
        .get("/v1/admin/pickups?manual=true", Some(&elsewhere))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        theirs["items"].as_array().unwrap().is_empty(),
        "another district's admin sees nothing"
    );
    let res = app
        .post_json(
            &format!("/v1/admin/pickups/{id}/assign"),
            Some(&elsewhere),
            &json!({ "recycler_id": r_id }),
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .post_json(
            &format!("/v1/admin/pickups/{id}/assign"),
            Some(&admin),
            &json!({ "recycler_id": r_id }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["status"], "accepted");
    assert_eq!(p["manual_dispatch"], false);
}
on_both!(
    manual_dispatch_tests,
    super::a_declined_offer_moves_on_at_once_and_without_candidates_it_goes_to_manual_dispatch
);

/// Books as the resident through the domain, so that no dispatch follows the booking:
/// the test runs it.
async fn book_in_domain(
    app: &TestApp,
    resident_id: uuid::Uuid,
    addr: uuid::Uuid,
    s: uuid::Uuid,
    paper: uuid::Uuid,
) -> wufei_domain::pickups::booking::Booked {
    let who = wufei_domain::auth::Principal {
        user_id: resident_id,
        role: Role::Resident,
        admin_scope: None,
        district_code: None,
    };
    wufei_domain::pickups::booking::book(
        &app.platform.db,
        &who,
        wufei_domain::pickups::booking::Rules::from_settings(&app.platform.settings),
        serde_json::from_value(json!({
            "address_id": addr, "slot_id": s,
            "items": [{ "category_id": paper, "estimated_weight_g": 5000 }]
        }))
        .unwrap(),
    )
    .await
    .unwrap()
}

/// Runs the booker's dispatch (claiming the staged job) five times at once with five
/// plain dispatches, while the relay may carry the same job to the running worker loops;
/// at most one claim holds.
async fn race_dispatches(
    dispatcher: &wufei_domain::dispatch::Dispatcher,
    booked: &wufei_domain::pickups::booking::Booked,
) {
    let staged = (0..5).map(|_| {
        dispatcher.dispatch_booked(&booked.pickup, booked.slot_starts_at, booked.dispatch_job)
    });
    let plain =
        (0..5).map(|_| async { dispatcher.dispatch(booked.pickup.id).await.map(|()| false) });
    let (staged, plain) = futures::future::join(
        futures::future::join_all(staged),
        futures::future::join_all(plain),
    )
    .await;
    let claimed = staged
        .into_iter()
        .map(Result::unwrap)
        .filter(|c| *c)
        .count();
    assert!(claimed <= 1, "{claimed} dispatches claimed one job");
    for r in plain {
        r.unwrap();
    }
}

async fn dispatch_twice_or_after_a_crash_offers_once(fp: Footprint) {
    // The worker loops are running too; the handler is also called by hand, concurrently,
    // as a second worker that got the same job would.
    let app = TestApp::spawn_with(fp, |s| s.offer_window_secs = 60).await;
    let (r, _) = recycler_at(&app, "13500000401", "tricycle", CENTRE.0 + 0.001, CENTRE.1).await;
    let (t, resident_id) = resident(&app, "openid-twice").await;
    let addr = address(&app, &t).await;
    let s = slot(&app, 30, 5, 1).await;
    let paper = category(&app, "paper").await;
    // Booked with no dispatch after it; then ten dispatches race, five of them claiming.
    let booked = book_in_domain(&app, resident_id, addr, s, paper).await;
    let id = booked.pickup.id;
    let dispatcher = wufei_domain::dispatch::Dispatcher::new(
        app.platform.db.clone(),
        app.platform.geo.clone(),
        wufei_domain::dispatch::Policy::from_settings(&app.platform.settings),
    );
    race_dispatches(&dispatcher, &booked).await;
    // And once more after the round is written: nothing to do.
    dispatcher.dispatch(id).await.unwrap();
    eventually(10, || async { offers(&app, &r).await.into_iter().next() }).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let n = wufei_domain::entities::offer::Entity::find()
        .filter(wufei_domain::entities::offer::Column::PickupId.eq(id))
        .count(&app.platform.db)
        .await
        .unwrap();
    assert_eq!(n, 1, "one offer however often the job runs");
    let p = pickup(&app, &t, &id.to_string()).await;
    let offered = transitions_to(&p, "offered");
    assert_eq!(offered, 1);
}
on_both!(
    dispatch_idempotence_tests,
    super::dispatch_twice_or_after_a_crash_offers_once
);

async fn a_pickup_nobody_can_take_goes_to_manual_dispatch_once_however_many_dispatch_it(
    fp: Footprint,
) {
    // Nobody on shift. The pickup is booked in the domain (no dispatch after the booking),
    // then its booker's dispatch (claiming the staged job) runs five times at once with five
    // plain dispatches, while the relay may carry the same job to the running worker loops.
    let app = TestApp::spawn(fp).await;
    let (t, resident_id) = resident(&app, "openid-manual-once").await;
    let addr = address(&app, &t).await;
    let s = slot(&app, 30, 5, 1).await;
    let paper = category(&app, "paper").await;
    let booked = book_in_domain(&app, resident_id, addr, s, paper).await;
    let dispatcher = app.platform.dispatcher();
    race_dispatches(&dispatcher, &booked).await;
    let id = booked.pickup.id.to_string();
    let p = eventually(10, || async {
        let p = pickup(&app, &t, &id).await;
        (p["manual_dispatch"] == true).then_some(p)
    })
    .await;
    // Let a relayed copy of the job run too.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let p2 = pickup(&app, &t, &id).await;
    assert_eq!(p2["timeline"], p["timeline"]);
    let manual = p["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reason"].as_str().unwrap().starts_with("manual dispatch"))
        .count();
    assert_eq!(manual, 1, "one manual-dispatch event: {}", p["timeline"]);
    assert_eq!(p["status"], "pending_dispatch");
    let inbox = inbox(&app, &t).await;
    let told = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "manual_dispatch" && n["data"]["pickup_id"] == id.as_str())
        .count();
    assert_eq!(told, 1, "the resident is told once: {inbox}");
    // The resident signed in with WeChat: the one-statement escalation staged the message's
    // delivery (no WeChat here, so a worker settles it as not configured), rather than
    // settling it at once as for a user without an openid.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use wufei_domain::entities::notification;
    let notice = notification::Entity::find()
        .filter(notification::Column::UserId.eq(resident_id))
        .filter(notification::Column::Kind.eq("manual_dispatch"))
        .one(&app.platform.db)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(notice.wechat_error.as_deref(), Some("no_openid"));
    // A booker's dispatch whose job is gone (a relay took it) does nothing, even from a
    // stale copy of the pickup.
    let stale = wufei_domain::entities::pickup::Model {
        manual_dispatch: false,
        ..booked.pickup.clone()
    };
    let ran = dispatcher
        .dispatch_booked(&stale, booked.slot_starts_at, uuid::Uuid::now_v7())
        .await
        .unwrap();
    assert!(!ran);
    assert_eq!(pickup(&app, &t, &id).await["timeline"], p["timeline"]);
}
on_both!(
    manual_once_tests,
    super::a_pickup_nobody_can_take_goes_to_manual_dispatch_once_however_many_dispatch_it
);
