//! Green points: settlement of completed pickups, disputes, expiry, adjustments, budgets,
//! reconciliation and who may read which ledger.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;
use wufei_domain::{
    entities::{audit_log, recycling_record},
    jobs::{JobHandler, outbox},
    points::{
        expiry::expire_due,
        settlement::{self, Outcome, SettleHandler},
    },
    ports::queue::Delivery,
};

use crate::{
    flows::{
        CENTRE, DISTRICT, accept, address, admins, book, category, eventually, offers, recycler_at,
        resident, slot,
    },
    helpers::{Footprint, TestApp, assert_problem},
    on_both,
    pickups::upload_two,
};

pub struct Done {
    pub resident: String,
    pub recycler: String,
    pub id: String,
}

/// Books, dispatches, accepts, visits and completes one pickup with `items` weighed.
pub async fn completed_pickup(app: &TestApp, openid: &str, phone: &str, items: Value) -> Done {
    let (t, _) = resident(app, openid).await;
    let addr = address(app, &t).await;
    let s = slot(app, 30, 10, 2).await;
    let paper = category(app, "paper").await;
    let (r, _) = recycler_at(app, phone, "tricycle", CENTRE.0 + 0.01, CENTRE.1).await;
    let p: Value = book(app, &t, addr, s, paper).await.json().await.unwrap();
    let id = p["id"].as_str().unwrap().to_string();
    let offer = eventually(20, || async {
        offers(app, &r)
            .await
            .into_iter()
            .find(|o| o["pickup_id"] == id.as_str())
    })
    .await;
    let res = accept(app, &r, offer["id"].as_str().unwrap()).await;
    assert_eq!(res.status(), StatusCode::OK);
    for step in ["depart", "arrive"] {
        let res = app
            .post_json(
                &format!("/v1/recycler/pickups/{id}/{step}"),
                Some(&r),
                &json!({}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{step}");
    }
    let photos = upload_two(app, &r).await;
    let res = app
        .post_json(
            &format!("/v1/recycler/pickups/{id}/complete"),
            Some(&r),
            &json!({ "items": items, "photo_ids": photos }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "complete");
    Done {
        resident: t,
        recycler: r,
        id,
    }
}

pub async fn settled(app: &TestApp, d: &Done) -> Value {
    eventually(30, || async {
        let p = crate::flows::pickup(app, &d.resident, &d.id).await;
        (p["status"] == "settled").then_some(p)
    })
    .await
}

async fn account(app: &TestApp, token: &str) -> Value {
    let res = app.get("/v1/points/account", Some(token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn entries(app: &TestApp, token: &str) -> Vec<Value> {
    let res = app.get("/v1/points/entries", Some(token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn books(app: &TestApp, token: &str) -> Value {
    let res = app
        .get("/v1/admin/points/reconciliation", Some(token))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn district<'a>(books: &'a Value, code: &str) -> &'a Value {
    books["districts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["district_code"] == code)
        .unwrap()
}

async fn a_completed_pickup_settles_once(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let a = admins(&app).await;
    let paper = category(&app, "paper").await;
    let plastic = category(&app, "plastic").await;
    let d = completed_pickup(
        &app,
        "settle-1",
        "13500000001",
        json!([{ "category_id": paper, "weight_g": 4200 }, { "category_id": plastic, "weight_g": 1500 }]),
    )
    .await;
    // Settlement runs concurrently with the worker's own delivery, twice more at once.
    let rules = app.platform.ledger_rules();
    let id: Uuid = d.id.parse().unwrap();
    let (x, y) = tokio::join!(
        settlement::settle(&app.platform.db, &rules, id),
        settlement::settle(&app.platform.db, &rules, id)
    );
    let settled_now = [x.unwrap(), y.unwrap()]
        .iter()
        .filter(|o| matches!(o, Outcome::Settled { .. }))
        .count();
    assert!(settled_now <= 1, "two concurrent settlements both posted");
    let p = settled(&app, &d).await;
    assert_eq!(
        p["timeline"].as_array().unwrap().last().unwrap()["to"],
        "settled"
    );

    // 4.2 kg paper × 10 + 1.5 kg plastic × 15 = 42 + 22 points; fees 126 + 60 fen.
    let acct = account(&app, &d.resident).await;
    assert_eq!(acct["balance"], 64);
    assert_eq!(acct["expiring"][0]["points"], 64);
    let expires: chrono::DateTime<Utc> = acct["expiring"][0]["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (expires - (Utc::now() + Duration::days(365)))
            .num_minutes()
            .abs()
            < 10
    );
    let lines = entries(&app, &d.resident).await;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["points"], 64);
    assert_eq!(lines[0]["kind"], "settlement");
    assert_eq!(lines[0]["source"], format!("pickup:{}", d.id));

    // The worker dying after the ledger commit but before its ack means a redelivery:
    // the handler runs again on the same event and credits nothing.
    SettleHandler {
        db: app.platform.db.clone(),
        rules,
    }
    .handle(&Delivery {
        id: Uuid::now_v7(),
        topic: settlement::TOPIC.into(),
        payload: json!({ "pickup_id": d.id }),
        attempt: 2,
        receipt: String::new(),
    })
    .await
    .unwrap();
    outbox::stage(
        &app.platform.db,
        settlement::TOPIC,
        json!({ "pickup_id": d.id }),
        None,
    )
    .await
    .unwrap();
    app.platform.outbox_signal.committed();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(account(&app, &d.resident).await["balance"], 64);
    assert_eq!(entries(&app, &d.resident).await.len(), 1);

    // The recycler's fee and statement; the recycling ledger; the resident's message.
    let earn: Value = app
        .get("/v1/recycler/earnings", Some(&d.recycler))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(earn["balance_fen"], 186);
    assert_eq!(earn["statements"][0]["orders"], 1);
    assert_eq!(earn["statements"][0]["weight_g"], 5700);
    assert_eq!(earn["statements"][0]["fee_fen"], 186);
    assert_eq!(earn["statements"][0]["points"], 64);
    let records = recycling_record::Entity::find()
        .filter(recycling_record::Column::PickupId.eq(id))
        .count(&app.platform.db)
        .await
        .unwrap();
    assert_eq!(records, 2);
    let inbox: Value = app
        .get("/v1/notifications", Some(&d.resident))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "points"),
        "{inbox}"
    );
    let b = books(&app, &a.sup).await;
    assert_eq!(b["balanced"], true, "{b}");
    assert_eq!(district(&b, DISTRICT)["issued"], 64);
    assert_eq!(district(&b, DISTRICT)["held"], 64);
    assert_eq!(district(&b, DISTRICT)["recycler_fees_fen"], 186);
}
on_both!(settlement_tests, super::a_completed_pickup_settles_once);

async fn an_upheld_dispute_reverses_and_reposts(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let a = admins(&app).await;
    let paper = category(&app, "paper").await;
    let d = completed_pickup(
        &app,
        "dispute-1",
        "13500000001",
        json!([{ "category_id": paper, "weight_g": 4200 }]),
    )
    .await;
    settled(&app, &d).await;
    assert_eq!(account(&app, &d.resident).await["balance"], 42);
    let resolve = |token: String, body: Value| {
        let app = &app;
        let id = d.id.clone();
        async move {
            app.post_json(
                &format!("/v1/admin/pickups/{id}/dispute/resolve"),
                Some(&token),
                &body,
            )
            .await
        }
    };
    let upheld = json!({ "decision": "upheld", "reason": "复秤为3公斤",
        "items": [{ "category_id": paper, "weight_g": 3000 }] });
    // Nothing to resolve before the resident disputes.
    assert_problem(
        resolve(a.local.clone(), upheld.clone()).await,
        StatusCode::CONFLICT,
        "no_open_dispute",
    )
    .await;
    let res = app
        .post_json(
            &format!("/v1/pickups/{}/dispute", d.id),
            Some(&d.resident),
            &json!({ "text": "实际只有3公斤" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Only administrators of the pickup's district; an upheld dispute needs the weights.
    assert_problem(
        resolve(a.other.clone(), upheld.clone()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        resolve(
            a.local.clone(),
            json!({ "decision": "upheld", "reason": "x" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let res = resolve(a.local.clone(), upheld.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["dispute_state"], "upheld");
    assert_eq!(p["items"][0]["actual_weight_g"], 3000);
    assert_problem(
        resolve(a.local.clone(), upheld).await,
        StatusCode::CONFLICT,
        "no_open_dispute",
    )
    .await;

    assert_eq!(account(&app, &d.resident).await["balance"], 30);
    let kinds: Vec<(String, i64)> = entries(&app, &d.resident)
        .await
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["points"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("reversal".to_string(), -42),
            ("settlement".to_string(), 30),
            ("settlement".to_string(), 42)
        ]
    );
    let earn: Value = app
        .get("/v1/recycler/earnings", Some(&d.recycler))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(earn["balance_fen"], 90);
    assert_eq!(earn["statements"][0]["weight_g"], 3000);
    assert_eq!(earn["statements"][0]["orders"], 1);
    let b = books(&app, &a.sup).await;
    assert_eq!(b["balanced"], true, "{b}");
    assert_eq!(district(&b, DISTRICT)["issued"], 30);
}
on_both!(dispute_tests, super::an_upheld_dispute_reverses_and_reposts);

async fn adjustments_budgets_and_expiry(fp: Footprint) {
    let app = TestApp::spawn_with(fp, |s| s.points_district_budget = 500).await;
    let a = admins(&app).await;
    let (t, rid) = resident(&app, "adjust-1").await;
    let adjust = |token: String, body: Value, key: Option<&'static str>| {
        let app = &app;
        async move {
            let mut r = app
                .client
                .post(app.url("/v1/admin/points/adjustments"))
                .bearer_auth(token)
                .json(&body);
            if let Some(k) = key {
                r = r.header("Idempotency-Key", k);
            }
            r.send().await.unwrap()
        }
    };
    let credit =
        json!({ "user_id": rid, "points": 100, "district_code": DISTRICT, "reason": "活动奖励" });
    // Replayed with the same key: credited once.
    for _ in 0..2 {
        let res = adjust(a.local.clone(), credit.clone(), Some("adj-1")).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    assert_eq!(account(&app, &t).await["balance"], 100);
    // Residents and other districts' administrators cannot.
    assert_eq!(
        adjust(t.clone(), credit.clone(), None).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        adjust(a.other.clone(), credit.clone(), None).await.status(),
        StatusCode::FORBIDDEN
    );
    // Bad input changes nothing.
    for bad in [
        json!({ "user_id": rid, "points": 0, "district_code": DISTRICT, "reason": "x" }),
        json!({ "user_id": rid, "points": i64::MIN, "district_code": DISTRICT, "reason": "x" }),
        json!({ "user_id": rid, "points": 1e30, "district_code": DISTRICT, "reason": "x" }),
        json!({ "user_id": rid, "points": 5, "district_code": DISTRICT, "reason": " " }),
        json!({ "user_id": rid, "points": 5, "district_code": "999999", "reason": "x" }),
    ] {
        let res = adjust(a.sup.clone(), bad.clone(), None).await;
        assert!(res.status().is_client_error(), "{bad}: {}", res.status());
    }
    let res = adjust(
        a.sup.clone(),
        json!({ "user_id": Uuid::now_v7(), "points": 5, "district_code": DISTRICT, "reason": "x" }),
        None,
    )
    .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    // Debits draw the lots; an overdraft is refused and changes nothing.
    let res = adjust(
        a.local.clone(),
        json!({ "user_id": rid, "points": -30, "reason": "误发更正" }),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = adjust(
        a.local.clone(),
        json!({ "user_id": rid, "points": -1000, "reason": "x" }),
        None,
    )
    .await;
    assert_problem(res, StatusCode::CONFLICT, "insufficient_points").await;
    assert_eq!(account(&app, &t).await["balance"], 70);
    // The district's budget (500, less 100, plus 30 back) caps issuance until topped up.
    let res = adjust(
        a.local.clone(),
        json!({ "user_id": rid, "points": 431, "reason": "x" }),
        None,
    )
    .await;
    assert_problem(res, StatusCode::CONFLICT, "budget_exhausted").await;
    let grant =
        json!({ "district_code": DISTRICT, "points": 1000, "reason": "2026年第四季度拨款" });
    assert_eq!(
        app.post_json("/v1/admin/points/budgets", Some(&a.local), &grant)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post_json("/v1/admin/points/budgets", Some(&a.sup), &grant)
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        adjust(
            a.local.clone(),
            json!({ "user_id": rid, "points": 431, "reason": "x" }),
            None
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    assert_eq!(account(&app, &t).await["balance"], 501);
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("points.adjust"))
        .count(&app.platform.db)
        .await
        .unwrap();
    assert_eq!(audited, 3);

    // A year later everything has expired, lot by lot, as ledger transactions.
    let expired = expire_due(
        &app.platform.db,
        &app.platform.ledger_rules(),
        Utc::now() + Duration::days(366),
    )
    .await
    .unwrap();
    assert_eq!(expired, 501);
    assert_eq!(account(&app, &t).await["balance"], 0);
    assert_eq!(account(&app, &t).await["expiring"], json!([]));
    let lines = entries(&app, &t).await;
    assert_eq!(lines.iter().filter(|e| e["kind"] == "expiry").count(), 2);
    // Running it again expires nothing more.
    assert_eq!(
        expire_due(
            &app.platform.db,
            &app.platform.ledger_rules(),
            Utc::now() + Duration::days(366)
        )
        .await
        .unwrap(),
        0
    );
    let b = books(&app, &a.sup).await;
    assert_eq!(b["balanced"], true, "{b}");
    let mine = district(&b, DISTRICT);
    assert_eq!(mine["budget"], 1500);
    assert_eq!(mine["issued"], 501);
    assert_eq!(mine["expired"], 501);
    assert_eq!(mine["held"], 0);
    // A district administrator sees their own district's books only.
    let local = books(&app, &a.local).await;
    assert_eq!(local["districts"].as_array().unwrap().len(), 1);
}
on_both!(adjustment_tests, super::adjustments_budgets_and_expiry);

async fn nobody_reads_another_ledger(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let a = admins(&app).await;
    let (t1, r1) = resident(&app, "owner-1").await;
    let (t2, _) = resident(&app, "other-2").await;
    let res = app
        .post_json(
            "/v1/admin/points/adjustments",
            Some(&a.sup),
            &json!({ "user_id": r1, "points": 50, "district_code": DISTRICT, "reason": "奖励" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(account(&app, &t1).await["balance"], 50);
    // The other resident sees only their own (empty) account and lines.
    assert_eq!(account(&app, &t2).await["balance"], 0);
    assert!(entries(&app, &t2).await.is_empty());
    for path in [
        format!("/v1/admin/points/residents/{r1}"),
        format!("/v1/admin/points/residents/{r1}/entries"),
        "/v1/admin/points/reconciliation".to_string(),
        "/v1/recycler/earnings".to_string(),
    ] {
        let res = app.get(&path, Some(&t2)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(
        app.get("/v1/points/account", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (r, _) = recycler_at(&app, "13500000009", "tricycle", CENTRE.0, CENTRE.1).await;
    assert_eq!(
        app.get("/v1/points/account", Some(&r)).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/v1/points/entries", Some(&r)).await.status(),
        StatusCode::FORBIDDEN
    );
    // Administrators can, for support.
    let res: Value = app
        .get(&format!("/v1/admin/points/residents/{r1}"), Some(&a.local))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(res["balance"], 50);
    let res = app
        .get(
            &format!("/v1/admin/points/residents/{}", Uuid::now_v7()),
            Some(&a.local),
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    // Paging: limit bounds and cursors.
    let res = app.get("/v1/points/entries?limit=0", Some(&t1)).await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = app.get("/v1/points/entries?cursor=nope", Some(&t1)).await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let page: Value = app
        .get("/v1/points/entries?limit=1", Some(&t1))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert!(page["next_cursor"].is_null());
}
on_both!(
    ledger_authorisation_tests,
    super::nobody_reads_another_ledger
);

async fn an_exhausted_budget_holds_settlement_until_topped_up(fp: Footprint) {
    let app = TestApp::spawn_with(fp, |s| s.points_district_budget = 10).await;
    let a = admins(&app).await;
    let paper = category(&app, "paper").await;
    let d = completed_pickup(
        &app,
        "budget-1",
        "13500000001",
        json!([{ "category_id": paper, "weight_g": 4200 }]),
    )
    .await;
    // 42 points do not fit a budget of 10: the pickup stays completed, nothing is posted.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let p = crate::flows::pickup(&app, &d.resident, &d.id).await;
    assert_eq!(p["status"], "completed");
    assert_eq!(account(&app, &d.resident).await["balance"], 0);
    // Disputed before the points posted: settlement waits for the decision.
    let res = app
        .post_json(
            &format!("/v1/pickups/{}/dispute", d.id),
            Some(&d.resident),
            &json!({ "text": "重量不对" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_json(
            "/v1/admin/points/budgets",
            Some(&a.sup),
            &json!({ "district_code": DISTRICT, "points": 1000, "reason": "追加预算" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let rules = app.platform.ledger_rules();
    let swept = settlement::settle_stragglers(&app.platform.db, &rules, Duration::zero())
        .await
        .unwrap();
    assert_eq!(swept, 0, "a disputed pickup settled before the decision");
    let res = app
        .post_json(
            &format!("/v1/admin/pickups/{}/dispute/resolve", d.id),
            Some(&a.local),
            &json!({ "decision": "rejected", "reason": "复核称重无误" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // The decision stages settlement; the sweep would also find it.
    settled(&app, &d).await;
    assert_eq!(account(&app, &d.resident).await["balance"], 42);
    assert_eq!(entries(&app, &d.resident).await.len(), 1);
    assert_eq!(books(&app, &a.sup).await["balanced"], true);
}
on_both!(
    budget_tests,
    super::an_exhausted_budget_holds_settlement_until_topped_up
);
