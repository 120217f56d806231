//! Slot templates, generation and the residents' slot lookup.

use chrono::{TimeDelta, Utc};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;
use wufei_domain::{
    auth::{AdminScope, Role},
    entities::{address, pickup_slot},
    slots,
};

use crate::{
    helpers::{Footprint, TestApp, assert_problem},
    on_both,
};

const SUPER: (&str, &str) = ("13600000001", "super admin password");
const LOCAL: (&str, &str) = ("13600000002", "district admin password");

async fn token(app: &TestApp, who: (&str, &str)) -> String {
    app.login(who.0, who.1).await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn app_with_admins(fp: Footprint, lead_minutes: u32) -> (TestApp, String, String) {
    let app = TestApp::spawn_with(fp, |s| s.booking_lead_minutes = lead_minutes).await;
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
    let sup = token(&app, SUPER).await;
    let local = token(&app, LOCAL).await;
    (app, sup, local)
}

/// A resident signed in through WeChat: (access token, user id).
async fn resident(app: &TestApp, openid: &str) -> (String, Uuid) {
    let pair = app.wechat_login(openid).await;
    (
        pair["access_token"].as_str().unwrap().to_string(),
        pair["user"]["id"].as_str().unwrap().parse().unwrap(),
    )
}

/// An address row written through the entity (address CRUD is another module's).
async fn add_address(app: &TestApp, user: Uuid, district: &str, community: Option<Uuid>) -> Uuid {
    let now = Utc::now();
    address::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        label: Set("家".into()),
        contact_name: Set("张三".into()),
        contact_phone: Set("13800001111".into()),
        district_code: Set(district.into()),
        community: Set(String::new()),
        community_id: Set(community),
        detail: Set("1号楼1单元101".into()),
        lat: Set(36.45),
        lng: Set(115.98),
        deleted: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.platform.db)
    .await
    .unwrap()
    .id
}

fn local_date(days_ahead: i64) -> String {
    (slots::local_today(Utc::now()) + TimeDelta::days(days_ahead))
        .format("%Y-%m-%d")
        .to_string()
}

async fn lookup(app: &TestApp, token: &str, address: Uuid, date: &str) -> reqwest::Response {
    app.get(
        &format!("/v1/pickup-slots?address_id={address}&date={date}"),
        Some(token),
    )
    .await
}

async fn slots_of(app: &TestApp, token: &str, address: Uuid, date: &str) -> Vec<Value> {
    let res = lookup(app, token, address, date).await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

fn local_start(slot: &Value) -> String {
    let t: chrono::DateTime<Utc> = slot["starts_at"].as_str().unwrap().parse().unwrap();
    t.with_timezone(&slots::shanghai())
        .format("%H:%M")
        .to_string()
}

async fn community_slots_take_precedence_over_the_districts(fp: Footprint) {
    let (app, sup, local) = app_with_admins(fp, 60).await;
    let community: Value = app
        .post_json(
            "/v1/admin/communities",
            Some(&local),
            &json!({ "district_code": "371502", "name": "东关小区" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let community_id: Uuid = community["id"].as_str().unwrap().parse().unwrap();
    let quiet: Value = app
        .post_json(
            "/v1/admin/communities",
            Some(&sup),
            &json!({ "district_code": "371502", "name": "西关小区" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let quiet_id: Uuid = quiet["id"].as_str().unwrap().parse().unwrap();
    let res = app
        .post_json(
            "/v1/admin/slot-templates",
            Some(&local),
            &json!({
                "name": "东关小区早班",
                "community_id": community_id,
                "windows": [{ "start": "07:30", "end": "08:30", "capacity": 6 }]
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let tpl: Value = res.json().await.unwrap();
    assert_eq!(tpl["district_code"], "371502", "taken from the community");
    assert_eq!(tpl["windows"][0]["van_capacity"], 1);
    // The new template fills the days its community has no slots on yet (all of them). The
    // scheduled job may get there first; either way each day gets its one slot.
    slots::generate(
        &app.platform.db,
        slots::local_today(Utc::now()),
        slots::GENERATE_DAYS,
    )
    .await
    .unwrap();
    let generated = pickup_slot::Entity::find()
        .filter(pickup_slot::Column::ScopeKey.eq(format!("c:{community_id}")))
        .count(&app.platform.db)
        .await
        .unwrap();
    assert_eq!(generated, u64::from(slots::GENERATE_DAYS));

    let (token, me) = resident(&app, "slots-precedence").await;
    let in_community = add_address(&app, me, "371502", Some(community_id)).await;
    let in_quiet = add_address(&app, me, "371502", Some(quiet_id)).await;
    let no_community = add_address(&app, me, "371502", None).await;
    let date = local_date(1);

    let got = slots_of(&app, &token, in_community, &date).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(local_start(&got[0]), "07:30");
    assert_eq!(got[0]["capacity"], 6);
    assert_eq!(got[0]["remaining"], 6);
    assert_eq!(got[0]["van_remaining"], 1);
    assert_eq!(got[0]["bookable"], true);

    for address in [in_quiet, no_community] {
        let got = slots_of(&app, &token, address, &date).await;
        let starts: Vec<String> = got.iter().map(local_start).collect();
        assert_eq!(starts, ["09:00", "14:00", "16:00"], "the seeded default");
        assert_eq!(got[0]["capacity"], 20);
        assert_eq!(
            got[0]["van_remaining"], 5,
            "a quarter of the capacity by default"
        );
    }
}
on_both!(
    community_slots_take_precedence_over_the_districts_tests,
    super::community_slots_take_precedence_over_the_districts
);

async fn generation_is_idempotent_and_covers_every_served_district(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let db = &app.platform.db;
    // Start-up already generated today and the 14 days after it: 11 districts × 3 windows.
    let at_start = pickup_slot::Entity::find().count(db).await.unwrap();
    assert_eq!(at_start, 11 * 3 * u64::from(slots::GENERATE_DAYS));
    let today = slots::local_today(Utc::now());
    assert_eq!(
        slots::generate(db, today, slots::GENERATE_DAYS)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        slots::generate(db, today, slots::GENERATE_DAYS)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        pickup_slot::Entity::find().count(db).await.unwrap(),
        at_start
    );
    // One day further: only that day is added, and again only once.
    let later = slots::generate(db, today, slots::GENERATE_DAYS + 1)
        .await
        .unwrap();
    assert_eq!(later, 11 * 3);
    assert_eq!(
        slots::generate(db, today, slots::GENERATE_DAYS + 1)
            .await
            .unwrap(),
        0
    );
    let first = pickup_slot::Entity::find()
        .filter(pickup_slot::Column::ScopeKey.eq("d:371502"))
        .filter(pickup_slot::Column::LocalDate.eq(today.format("%Y-%m-%d").to_string()))
        .count(db)
        .await
        .unwrap();
    assert_eq!(first, 3);
}
on_both!(
    generation_is_idempotent_and_covers_every_served_district_tests,
    super::generation_is_idempotent_and_covers_every_served_district
);

async fn the_lead_time_closes_a_slot(fp: Footprint) {
    // A week's lead: nothing tomorrow can still be booked, though every slot has room.
    let (app, _, _) = app_with_admins(fp, 7 * 24 * 60).await;
    let (token, me) = resident(&app, "slots-lead").await;
    let home = add_address(&app, me, "371502", None).await;
    let got = slots_of(&app, &token, home, &local_date(1)).await;
    assert_eq!(got.len(), 3);
    assert!(
        got.iter()
            .all(|s| s["bookable"] == false && s["remaining"].as_i64().unwrap() > 0),
        "{got:?}"
    );
    // The default hour's lead leaves tomorrow open.
    let app = TestApp::spawn(fp).await;
    let (token, me) = resident(&app, "slots-lead").await;
    let home = add_address(&app, me, "371502", None).await;
    let got = slots_of(&app, &token, home, &local_date(1)).await;
    assert!(got.iter().all(|s| s["bookable"] == true));
}
on_both!(
    the_lead_time_closes_a_slot_tests,
    super::the_lead_time_closes_a_slot
);

async fn slot_lookup_is_for_the_callers_own_addresses_and_checks_its_input(fp: Footprint) {
    let (app, sup, local) = app_with_admins(fp, 60).await;
    let (alice, alice_id) = resident(&app, "slots-alice").await;
    let (bob, _) = resident(&app, "slots-bob").await;
    let home = add_address(&app, alice_id, "371502", None).await;
    assert_eq!(slots_of(&app, &alice, home, &local_date(0)).await.len(), 3);

    let res = lookup(&app, &bob, home, &local_date(1)).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = lookup(&app, &alice, Uuid::now_v7(), &local_date(1)).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = lookup(&app, &alice, home, "2026-13-01").await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "date");
    let res = lookup(&app, &local, home, &local_date(1)).await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .get(
            &format!("/v1/pickup-slots?address_id={home}&date={}", local_date(1)),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    assert_eq!(slots_of(&app, &alice, home, &local_date(14)).await.len(), 3);
    assert!(
        slots_of(&app, &alice, home, &local_date(15))
            .await
            .is_empty(),
        "beyond the horizon"
    );
    assert!(
        slots_of(&app, &alice, home, &local_date(20))
            .await
            .is_empty()
    );

    // An unserved district offers nothing.
    let res = app
        .client
        .patch(app.url("/v1/admin/districts/371502"))
        .bearer_auth(&sup)
        .json(&json!({ "served": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        slots_of(&app, &alice, home, &local_date(1))
            .await
            .is_empty()
    );
}
on_both!(
    slot_lookup_is_for_the_callers_own_addresses_and_checks_its_input_tests,
    super::slot_lookup_is_for_the_callers_own_addresses_and_checks_its_input
);

async fn templates_are_validated_and_scoped(fp: Footprint) {
    let (app, sup, local) = app_with_admins(fp, 60).await;
    let bad = app
        .post_json(
            "/v1/admin/slot-templates",
            Some(&sup),
            &json!({
                "name": "坏模板",
                "district_code": "371502",
                "windows": [
                    { "start": "09:00", "end": "11:00", "capacity": 10 },
                    { "start": "10:00", "end": "12:00", "capacity": 10 },
                    { "start": "13:00", "end": "12:00", "capacity": 501, "van_capacity": 3 }
                ],
                "weekdays": [0]
            }),
        )
        .await;
    let body = assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in [
        "windows[1].start",
        "windows[2].end",
        "windows[2].capacity",
        "weekdays[0]",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    // A community must belong to the template's district.
    let elsewhere: Value = app
        .post_json(
            "/v1/admin/communities",
            Some(&sup),
            &json!({ "district_code": "371521", "name": "阳谷小区" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = app
        .post_json(
            "/v1/admin/slot-templates",
            Some(&sup),
            &json!({
                "name": "错位",
                "district_code": "371502",
                "community_id": elsewhere["id"],
                "windows": [{ "start": "09:00", "end": "10:00", "capacity": 5 }]
            }),
        )
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "community_id");
    let res = app
        .post_json(
            "/v1/admin/slot-templates",
            Some(&sup),
            &json!({
                "name": "阳谷",
                "district_code": "371521",
                "windows": [{ "start": "09:00", "end": "10:00", "capacity": 5 }]
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // District administrators: their own district only, never city-wide.
    let window = json!([{ "start": "19:00", "end": "20:00", "capacity": 5, "van_capacity": 0 }]);
    for body in [
        json!({ "name": "全市", "windows": window }),
        json!({ "name": "别区", "district_code": "371521", "windows": window }),
    ] {
        let res = app
            .post_json("/v1/admin/slot-templates", Some(&local), &body)
            .await;
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let mine: Value = app
        .post_json(
            "/v1/admin/slot-templates",
            Some(&local),
            &json!({ "name": "晚班", "district_code": "371502", "windows": window, "weekdays": [6, 7] }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["weekdays"], json!([6, 7]));
    let path = format!("/v1/admin/slot-templates/{}", mine["id"].as_str().unwrap());
    let res = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&local)
        .json(&json!({ "active": false, "windows": [{ "start": "18:00", "end": "19:30", "capacity": 8 }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let patched: Value = res.json().await.unwrap();
    assert_eq!(patched["active"], false);
    assert_eq!(patched["windows"][0]["end"], "19:30");
    assert_eq!(patched["windows"][0]["van_capacity"], 2);

    // The seeded city-wide template: district administrators see it but may not change it.
    let listed: Value = app
        .get("/v1/admin/slot-templates", Some(&local))
        .await
        .json()
        .await
        .unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    let default = listed
        .iter()
        .find(|t| t["district_code"].is_null())
        .unwrap();
    assert_eq!(
        default["windows"][0]["van_capacity"], 5,
        "old rows read with the default"
    );
    let res = app
        .client
        .patch(app.url(&format!(
            "/v1/admin/slot-templates/{}",
            default["id"].as_str().unwrap()
        )))
        .bearer_auth(&local)
        .json(&json!({ "active": false }))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let all: Value = app
        .get("/v1/admin/slot-templates", Some(&sup))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 3);
}
on_both!(
    templates_are_validated_and_scoped_tests,
    super::templates_are_validated_and_scoped
);
