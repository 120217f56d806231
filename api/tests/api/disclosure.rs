//! The plan made public: indicators with targets, values and progress (entered by the
//! city, or measured from Wufei's own ledgers), the task board with progress updates, and
//! public caching (ETag, 304, a change visible at once).

use chrono::Datelike;
use reqwest::StatusCode;
use serde_json::{Value, json};
use wufei_domain::auth::{AdminScope, Role};

use crate::{
    flows::{DISTRICT, admins, category},
    helpers::{Footprint, TestApp, assert_problem},
    on_both,
    points::{completed_pickup, settled},
};

async fn ok(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

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
    assert!(cells["latest"].is_null(), "not measured until cells exist");
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
