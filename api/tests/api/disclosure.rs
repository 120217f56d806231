//! The plan made public: indicators with targets, values and progress (entered by the
//! city, or measured from Wufei's own ledgers), the task board with progress updates, and
//! public caching (ETag, 304, a change visible at once).

use chrono::Datelike;
use reqwest::StatusCode;
use serde_json::{Value, json};
use wufei_domain::auth::{AdminScope, Role};

use crate::{
    flows::{CENTRE, DISTRICT, OTHER_DISTRICT, admins, category, resident},
    helpers::{Footprint, TestApp, assert_problem, ok},
    on_both,
    points::{completed_pickup, settled},
};

async fn staff(app: &TestApp) -> (String, String) {
    app.create_user(
        "13700000041",
        "plan admin pw 1",
        Role::Admin,
        Some(AdminScope::SuperAdmin),
        None,
    )
    .await;
    app.create_user(
        "13700000042",
        "plan admin pw 2",
        Role::Admin,
        Some(AdminScope::District),
        Some(DISTRICT),
    )
    .await;
    let token = |v: Value| v["access_token"].as_str().unwrap().to_string();
    (
        token(app.login("13700000041", "plan admin pw 1").await),
        token(app.login("13700000042", "plan admin pw 2").await),
    )
}

async fn indicators_with_values_and_caching(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let (city, district) = staff(&app).await;
    let list = ok(app.get("/v1/indicators", None).await, StatusCode::OK).await;
    let all = list.as_array().unwrap();
    assert_eq!(all.len(), 66);
    assert_eq!(
        all.iter().filter(|i| i["measured_by"] == "wufei").count(),
        5
    );
    let code = "industrial_solid_waste_utilisation_rate";
    let one = &all[0];
    assert_eq!(
        (
            one["code"].as_str(),
            one["target"].as_f64(),
            one["plan_section"].as_str()
        ),
        (Some(code), Some(75.0), Some("二(一)"))
    );
    assert!(one["latest"].is_null() && one["progress"].is_null());
    let reported = ok(
        app.get(
            "/v1/indicators?measured_by=reported&plan_section=%E4%BA%8C(%E4%B8%80)",
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        reported
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["plan_section"] == "二(一)" && i["measured_by"] == "reported")
    );
    assert_problem(
        app.get("/v1/indicators?measured_by=guess", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.get("/v1/indicators/no_such_code", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Public caching: the ETag revalidates with 304 …
    let res = app.get(&format!("/v1/indicators/{code}"), None).await;
    let tag = res.headers()["etag"].to_str().unwrap().to_string();
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public")
    );
    let res = app
        .client
        .get(app.url(&format!("/v1/indicators/{code}")))
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // … only city-wide administrators enter values; bad values change nothing …
    let year = chrono::Utc::now().year() - 1;
    let body = json!({ "year": year, "value": 68.5, "source": "市工业和信息化局年报" });
    assert_eq!(
        app.post_json(&format!("/v1/admin/indicators/{code}/values"), None, &body)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_problem(
        app.post_json(
            &format!("/v1/admin/indicators/{code}/values"),
            Some(&district),
            &body,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    for bad in [
        json!({ "year": 2019, "value": 1, "source": "年报" }),
        json!({ "year": year + 2, "value": 1, "source": "年报" }),
        json!({ "year": year, "value": -1, "source": "年报" }),
        json!({ "year": year, "value": 1, "source": "" }),
    ] {
        assert_problem(
            app.post_json(
                &format!("/v1/admin/indicators/{code}/values"),
                Some(&city),
                &bad,
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    assert_problem(
        app.post_json(
            "/v1/admin/indicators/wufei_participating_households/values",
            Some(&city),
            &body,
        )
        .await,
        StatusCode::CONFLICT,
        "measured_by_wufei",
    )
    .await;
    let res = app
        .client
        .get(app.url(&format!("/v1/indicators/{code}")))
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::NOT_MODIFIED,
        "nothing changed yet"
    );
    let v = ok(
        app.post_json(
            &format!("/v1/admin/indicators/{code}/values"),
            Some(&city),
            &body,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["latest"]["value"], 68.5);
    let progress = v["progress"].as_f64().unwrap();
    assert!((progress - 68.5 / 75.0).abs() < 1e-9, "{progress}");

    // … and the next read after the commit sees the change, with a new ETag.
    let res = app
        .client
        .get(app.url(&format!("/v1/indicators/{code}")))
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_ne!(res.headers()["etag"].to_str().unwrap(), tag);
    let one: Value = res.json().await.unwrap();
    assert_eq!(one["series"].as_array().unwrap().len(), 1);
    // A correction replaces the year's value.
    let corrected = ok(
        app.post_json(
            &format!("/v1/admin/indicators/{code}/values"),
            Some(&city),
            &json!({ "year": year, "value": 70, "source": "市统计局" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(corrected["series"].as_array().unwrap().len(), 1);
    assert_eq!(corrected["latest"]["source"], "市统计局");
}
on_both!(
    indicators_with_values_and_caching,
    super::indicators_with_values_and_caching
);

async fn measured_indicators_follow_the_ledgers(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    admins(&app).await;
    let paper = category(&app, "paper").await;
    let before = ok(
        app.get("/v1/indicators/wufei_household_recyclables_collected", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(before["measured_by"], "wufei");
    assert_eq!(before["latest"]["value"], 0.0);
    let d = completed_pickup(
        &app,
        "plan-measured",
        "13500000091",
        json!([{ "category_id": paper, "weight_g": 4200 }]),
    )
    .await;
    settled(&app, &d).await;
    let year = chrono::Utc::now().year();
    let tonnes = ok(
        app.get("/v1/indicators/wufei_household_recyclables_collected", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(tonnes["latest"]["year"], year);
    assert!(
        (tonnes["latest"]["value"].as_f64().unwrap() - 0.0042).abs() < 1e-9,
        "{tonnes}"
    );
    let households = ok(
        app.get("/v1/indicators/wufei_participating_households", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(households["latest"]["value"], 1.0);
    let issued = ok(
        app.get("/v1/indicators/wufei_green_points_issued", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        issued["latest"]["value"].as_f64().unwrap() > 0.0,
        "{issued}"
    );
    let cells = ok(
        app.get("/v1/indicators/wufei_active_zero_waste_cells", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cells["latest"]["value"], 0.0, "no cells yet: {cells}");
}
on_both!(
    measured_indicators_follow_the_ledgers,
    super::measured_indicators_follow_the_ledgers
);

async fn the_task_board(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let (city, district) = staff(&app).await;
    let all = ok(app.get("/v1/plan/tasks", None).await, StatusCode::OK).await;
    assert_eq!(all.as_array().unwrap().len(), 95);
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|t| t["status"] == "not_reported")
    );
    let door = ok(
        app.get("/v1/plan/tasks?section=%E4%B8%89(%E4%B8%89)4", None)
            .await,
        StatusCode::OK,
    )
    .await;
    let door = door.as_array().unwrap();
    assert!(
        !door.is_empty()
            && door
                .iter()
                .all(|t| t["section"].as_str().unwrap().starts_with("三(三)4"))
    );
    let led = ok(app.get("/v1/plan/tasks?lead_unit=%E5%B8%82%E5%B7%A5%E4%B8%9A%E5%92%8C%E4%BF%A1%E6%81%AF%E5%8C%96%E5%B1%80", None).await, StatusCode::OK).await;
    assert!(led.as_array().unwrap().iter().all(|t| {
        t["lead_units"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u == "市工业和信息化局")
    }));
    assert!(!led.as_array().unwrap().is_empty());
    assert_problem(
        app.get("/v1/plan/tasks?status=finished", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.get("/v1/plan/tasks/999", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let id = door[0]["id"].as_i64().unwrap();
    let update = json!({ "status": "in_progress", "text": "已在东昌府区开通预约上门回收" });
    assert_problem(
        app.post_json(
            &format!("/v1/admin/plan/tasks/{id}/updates"),
            Some(&district),
            &update,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/v1/admin/plan/tasks/{id}/updates"),
            Some(&city),
            &json!({ "status": "not_reported", "text": "x" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let t = ok(
        app.post_json(
            &format!("/v1/admin/plan/tasks/{id}/updates"),
            Some(&city),
            &update,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(t["status"], "in_progress");
    assert_eq!(t["updates"][0]["text"], "已在东昌府区开通预约上门回收");
    let board = ok(
        app.get("/v1/plan/tasks?status=in_progress", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(board.as_array().unwrap().len(), 1);
}
on_both!(the_task_board, super::the_task_board);

fn cell(organisation: &str) -> Value {
    json!({
        "organisation": organisation, "kind": "zero_waste_community", "district_code": DISTRICT,
        "address": "东昌府区古楼街道某社区", "lat": CENTRE.0, "lng": CENTRE.1,
        "description": "社区设置再生资源回收点，推行垃圾分类和积分兑换。"
    })
}

async fn post_keyed(
    app: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url(path))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// A cell goes from application to the public list and the counts, only through its
/// district's administrators, and leaves them when revoked; a rejected one never shows.
async fn zero_waste_cells(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let staff = admins(&app).await;
    let (alice, _) = resident(&app, "openid-cell-a").await;
    let (bob, _) = resident(&app, "openid-cell-b").await;

    // Bad applications are 422s naming the fields, and change nothing.
    let mut bad = cell("某");
    bad["lat"] = json!(31.2);
    bad["district_code"] = json!("110101");
    bad["description"] = json!("短");
    let res = app
        .post_json("/v1/cell-applications", Some(&alice), &bad)
        .await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in ["organisation", "description"] {
        assert!(fields.contains(&f), "{fields:?}");
    }
    let mut unknown_kind = cell("某某社区");
    unknown_kind["kind"] = json!("zero_waste_moon");
    let res = app
        .post_json("/v1/cell-applications", Some(&alice), &unknown_kind)
        .await;
    assert!(res.status().is_client_error());
    let res = app
        .post_json("/v1/cell-applications", None, &cell("某某社区"))
        .await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let mine = ok(
        app.get("/v1/cell-applications/mine", Some(&alice)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine, json!([]));

    // An application, replayed under the same key, is one application.
    let first = ok(
        post_keyed(
            &app,
            "/v1/cell-applications",
            &alice,
            "cell-1",
            &cell("古楼街道东关社区"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let again = ok(
        post_keyed(
            &app,
            "/v1/cell-applications",
            &alice,
            "cell-1",
            &cell("古楼街道东关社区"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first["id"], again["id"]);
    assert_eq!(first["status"], "pending");
    let id = first["id"].as_str().unwrap().to_string();
    let path = format!("/v1/cells/{id}");
    // Pending: its applicant sees it; the public and other residents do not.
    ok(app.get(&path, Some(&alice)).await, StatusCode::OK).await;
    for token in [None, Some(bob.as_str())] {
        assert_problem(
            app.get(&path, token).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    let public = ok(app.get("/v1/cells", None).await, StatusCode::OK).await;
    assert_eq!(public["items"], json!([]));

    // Only the district's administrators decide; residents cannot.
    let approve = format!("/v1/admin/cell-applications/{id}/approve");
    let res = app.post_json(&approve, Some(&alice), &json!({})).await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .post_json(&approve, Some(&staff.other), &json!({}))
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let queue = ok(
        app.get("/v1/admin/cell-applications", Some(&staff.other))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(queue["items"], json!([]));
    let queue = ok(
        app.get("/v1/admin/cell-applications", Some(&staff.local))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(queue["items"][0]["id"], id.as_str());
    let published = ok(
        app.post_json(&approve, Some(&staff.local), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(published["status"], "published");
    let res = app
        .post_json(&approve, Some(&staff.local), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    // Published: public, counted against the plan's targets, measured as an indicator.
    let public = ok(
        app.get("/v1/cells?kind=zero_waste_community", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(public["items"][0]["id"], id.as_str());
    assert!(
        public["items"][0].get("evidence_ids").is_none(),
        "evidence is private"
    );
    let elsewhere = ok(
        app.get(&format!("/v1/cells?district_code={OTHER_DISTRICT}"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(elsewhere["items"], json!([]));
    ok(app.get(&path, None).await, StatusCode::OK).await;
    let summary = ok(app.get("/v1/cells/summary", None).await, StatusCode::OK).await;
    assert_eq!(summary["published"], 1);
    assert_eq!(summary["target"], 300);
    let ours = summary["districts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["district_code"] == DISTRICT)
        .unwrap()
        .clone();
    assert_eq!(ours["by_kind"]["zero_waste_community"], 1, "{ours}");
    let living = ours["by_field"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "living")
        .unwrap()
        .clone();
    assert_eq!(living["published"], 1);
    assert_eq!(living["target"], 18, "the plan's 三(七)3(1): {living}");
    let measured = ok(
        app.get("/v1/indicators/wufei_active_zero_waste_cells", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(measured["latest"]["value"], 1.0, "{measured}");
    let told = ok(
        app.get("/v1/notifications", Some(&alice)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(told["items"].as_array().unwrap().len(), 1, "{told}");

    // Revoked with a reason: off the public list and the counts; the applicant reads why.
    let revoke = format!("/v1/admin/cell-applications/{id}/revoke");
    let res = app
        .post_json(&revoke, Some(&staff.local), &json!({ "reason": "" }))
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let revoked = ok(
        app.post_json(
            &revoke,
            Some(&staff.sup),
            &json!({ "reason": "分类设施长期停用" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(revoked["status"], "revoked");
    let public = ok(app.get("/v1/cells", None).await, StatusCode::OK).await;
    assert_eq!(public["items"], json!([]));
    let summary = ok(app.get("/v1/cells/summary", None).await, StatusCode::OK).await;
    assert_eq!(summary["published"], 0);
    assert_problem(
        app.get(&path, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // A rejected application never shows; its applicant sees the reason.
    let second = ok(
        app.post_json("/v1/cell-applications", Some(&bob), &cell("柳园街道某学校"))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let sid = second["id"].as_str().unwrap();
    ok(
        app.post_json(
            &format!("/v1/admin/cell-applications/{sid}/reject"),
            Some(&staff.local),
            &json!({ "reason": "材料不全" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let mine = ok(
        app.get("/v1/cell-applications/mine", Some(&bob)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine[0]["status"], "rejected");
    assert_eq!(mine[0]["reason"], "材料不全");
    let mine = ok(
        app.get("/v1/cell-applications/mine", Some(&alice)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine[0]["reason"], "分类设施长期停用");
    assert_eq!(mine.as_array().unwrap().len(), 1, "only alice's own");
}
on_both!(zero_waste_cells_tests, super::zero_waste_cells);

/// The facility map: kept by the district's administrators, public as GeoJSON with caching.
async fn facilities_on_the_map(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let staff = admins(&app).await;
    let (resident, _) = resident(&app, "openid-facility").await;
    let station = json!({
        "name": "东昌府区再生资源分拣中心", "kind": "sorting_centre", "district_code": DISTRICT,
        "address": "东昌府区某路 1 号", "lat": CENTRE.0, "lng": CENTRE.1,
        "capacity": 120.0, "opening_hours": "08:00–18:00", "operator": "某再生资源公司"
    });
    let res = app
        .post_json("/v1/admin/facilities", Some(&resident), &station)
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .post_json("/v1/admin/facilities", Some(&staff.other), &station)
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let mut bad = station.clone();
    bad["capacity"] = json!(-1);
    bad["lat"] = json!(31.2);
    let res = app
        .post_json("/v1/admin/facilities", Some(&staff.local), &bad)
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let created = ok(
        app.post_json("/v1/admin/facilities", Some(&staff.local), &station)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["capacity"], 120.0);

    let res = app.get("/v1/facilities", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/geo+json");
    let tag = res.headers()["etag"].to_str().unwrap().to_string();
    let map: Value = res.json().await.unwrap();
    assert_eq!(map["type"], "FeatureCollection");
    let feature = &map["features"][0];
    assert_eq!(feature["type"], "Feature");
    assert_eq!(feature["geometry"]["type"], "Point");
    assert_eq!(
        feature["geometry"]["coordinates"],
        json!([CENTRE.1, CENTRE.0]),
        "[lng, lat]"
    );
    assert_eq!(feature["properties"]["name"], "东昌府区再生资源分拣中心");
    let res = reqwest::Client::new()
        .get(app.url("/v1/facilities"))
        .header("If-None-Match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let none = ok(
        app.get("/v1/facilities?kind=hazardous_waste_point", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(none["features"], json!([]));

    // Another district's administrator cannot change it; hidden, it leaves the public map.
    let path = format!("/v1/admin/facilities/{id}");
    let patch = |token: &str, body: Value| {
        reqwest::Client::new()
            .patch(app.url(&path))
            .bearer_auth(token.to_string())
            .json(&body)
            .send()
    };
    let res = patch(&staff.other, json!({ "active": false }))
        .await
        .unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = patch(&staff.local, json!({ "name": "" })).await.unwrap();
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let hidden = ok(
        patch(&staff.local, json!({ "active": false }))
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(hidden["active"], false);
    assert_eq!(
        hidden["name"], "东昌府区再生资源分拣中心",
        "the rest is kept"
    );
    let res = reqwest::Client::new()
        .get(app.url("/v1/facilities"))
        .header("If-None-Match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the change is visible at once"
    );
    let map: Value = res.json().await.unwrap();
    assert_eq!(map["features"], json!([]));
    let theirs = ok(
        app.get("/v1/admin/facilities", Some(&staff.other)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(theirs, json!([]));
    let ours = ok(
        app.get("/v1/admin/facilities", Some(&staff.local)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ours[0]["id"], id.as_str());
}
on_both!(facilities_on_the_map_tests, super::facilities_on_the_map);

/// Public answers are computed per request, so a change made through one instance is
/// visible, with a new ETag, at the next request to another. Production footprint only.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_is_visible_at_once_on_another_instance() {
    if crate::helpers::production_env().is_none() {
        eprintln!("skipped: two instances (set WUFEI_TEST_DATABASE_URL and WUFEI_TEST_REDIS_URL)");
        return;
    }
    let a = TestApp::spawn(Footprint::Production).await;
    let b = a.spawn_beside().await;
    let staff = admins(&a).await;
    let first = b.get("/v1/facilities", None).await;
    let tag = first.headers()["etag"].to_str().unwrap().to_string();
    let station = json!({
        "name": "东昌府区回收站", "kind": "recycling_station", "district_code": DISTRICT,
        "address": "东昌府区某路 2 号", "lat": CENTRE.0, "lng": CENTRE.1
    });
    ok(
        a.post_json("/v1/admin/facilities", Some(&staff.local), &station)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let res = reqwest::Client::new()
        .get(b.url("/v1/facilities"))
        .header("If-None-Match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "not a stale 304");
    let map: Value = res.json().await.unwrap();
    assert_eq!(map["features"][0]["properties"]["name"], "东昌府区回收站");
}
