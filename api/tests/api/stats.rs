//! Public statistics and open data: the figures follow the ledgers as they are written
//! (pickup settlements and device deposits), a rebuild from the ledgers lands on the same
//! rollups, and the downloads stream the catalogue's columns.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    devices::{deposit, event, qr, register},
    flows::{DISTRICT, admins, category, resident},
    helpers::{Footprint, TestApp, assert_problem, ok},
    on_both,
    points::{completed_pickup, settled},
};

fn month() -> String {
    chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m")
        .to_string()
}

/// Everything the public statistics answer, in one value, to compare before and after a
/// rebuild.
async fn figures(app: &TestApp) -> Value {
    let mut all = json!({});
    for q in [
        "group_by=category,district,month,source",
        "group_by=district",
        "group_by=",
    ] {
        all[q] = ok(
            app.get(&format!("/v1/stats/recycling?{q}"), None).await,
            StatusCode::OK,
        )
        .await;
    }
    let mut overview = ok(app.get("/v1/stats/overview", None).await, StatusCode::OK).await;
    overview.as_object_mut().unwrap().remove("market");
    all["overview"] = overview;
    all
}

async fn statistics_follow_the_ledgers(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let staff = admins(&app).await;
    let paper = category(&app, "paper").await;
    let empty = ok(app.get("/v1/stats/overview", None).await, StatusCode::OK).await;
    assert_eq!(empty["this_year"]["households"], 0);
    assert_eq!(empty["all_time"]["weight_t"], 0.0);

    // A settled pickup and a device deposit.
    let d = completed_pickup(
        &app,
        "stats-resident",
        "13500000071",
        json!([{ "category_id": paper, "weight_g": 4200 }]),
    )
    .await;
    settled(&app, &d).await;
    let (bin, secret) = register(&app, &staff.sup, "recycling_bin", DISTRICT).await;
    let (neighbour, _) = resident(&app, "stats-neighbour").await;
    let token = qr(&app, &neighbour).await;
    let res = deposit(&app, &bin, &secret, &event("s-1", &token, "paper", 1800)).await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );

    let by_all = ok(
        app.get(
            "/v1/stats/recycling?group_by=category,district,month,source",
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let rows = by_all["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{by_all}");
    let pickup = rows.iter().find(|r| r["source"] == "pickup").unwrap();
    assert_eq!(pickup["weight_kg"], 4.2);
    assert_eq!(pickup["category_code"], "paper");
    assert_eq!(pickup["district_code"], DISTRICT);
    assert_eq!(pickup["month"], month());
    assert!(pickup["points"].as_i64().unwrap() > 0);
    let device = rows.iter().find(|r| r["source"] == "device").unwrap();
    assert_eq!(device["weight_kg"], 1.8);
    assert_eq!(by_all["total"]["weight_kg"], 6.0);
    let only_devices = ok(
        app.get("/v1/stats/recycling?group_by=source&source=device", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(only_devices["rows"].as_array().unwrap().len(), 1);
    let overview = ok(app.get("/v1/stats/overview", None).await, StatusCode::OK).await;
    assert_eq!(overview["this_month"]["households"], 2, "{overview}");
    assert!((overview["this_year"]["weight_t"].as_f64().unwrap() - 0.006).abs() < 1e-9);
    assert!(
        overview["points_this_year"]["issued"].as_i64().unwrap() > 0,
        "{overview}"
    );
    // The measured indicators read the same rollups: door-to-door only.
    let measured = ok(
        app.get("/v1/indicators/wufei_household_recyclables_collected", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        (measured["latest"]["value"].as_f64().unwrap() - 0.0042).abs() < 1e-9,
        "{measured}"
    );

    // Bad queries are 422s naming the parameter.
    for q in [
        "group_by=colour",
        "from=2026-13",
        "from=2026-12&to=2026-01",
        "to=soon",
    ] {
        let res = app.get(&format!("/v1/stats/recycling?{q}"), None).await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }

    // A rebuild from the ledgers lands on what the writes kept; only super administrators.
    let before = figures(&app).await;
    let res = app
        .post_json("/v1/admin/stats/rebuild", Some(&staff.local), &json!({}))
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .post_json("/v1/admin/stats/rebuild", None, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let rebuilt = ok(
        app.post_json("/v1/admin/stats/rebuild", Some(&staff.sup), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rebuilt["recycling_lines"], 2, "{rebuilt}");
    assert_eq!(
        figures(&app).await,
        before,
        "the rollups equal a full recomputation"
    );
}
on_both!(
    statistics_follow_the_ledgers_tests,
    super::statistics_follow_the_ledgers
);

async fn open_data_streams_the_catalogue(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let paper = category(&app, "paper").await;
    let catalogue = ok(app.get("/v1/open-data", None).await, StatusCode::OK).await;
    let ids: Vec<&str> = catalogue
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "recycling-monthly",
            "recycling-records",
            "facilities",
            "zero-waste-cells"
        ]
    );
    for d in catalogue.as_array().unwrap() {
        assert!(
            d["licence"].is_string() && d["update_frequency"].is_string(),
            "{d}"
        );
        assert!(!d["columns"].as_array().unwrap().is_empty());
    }
    let records = &catalogue[1];
    assert!(records["last_modified"].is_null(), "nothing recorded yet");
    let weight = records["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "weight_g")
        .unwrap()
        .clone();
    assert_eq!(weight["unit"], "g");

    admins(&app).await;
    let d = completed_pickup(
        &app,
        "open-data-resident",
        "13500000072",
        json!([{ "category_id": paper, "weight_g": 2500 }]),
    )
    .await;
    settled(&app, &d).await;

    // CSV: a byte-order mark, the catalogue's columns as the header, one line per record,
    // and no personal data.
    let res = app.get("/v1/open-data/recycling-records.csv", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("recycling-records.csv")
    );
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "date,district_code,category_code,source,weight_g,items,points"
    );
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[1].contains(",371502,paper,pickup,2500,"), "{text}");
    assert!(!text.contains(&d.id), "no pickup ids");

    // JSON: the same rows as objects.
    let rows = ok(
        app.get("/v1/open-data/recycling-monthly.json", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["weight_kg"], 2.5);
    assert!(rows[0]["category_name"].as_str().is_some());
    let empty = ok(
        app.get("/v1/open-data/facilities.json", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(empty, json!([]));
    let catalogue = ok(app.get("/v1/open-data", None).await, StatusCode::OK).await;
    assert!(catalogue[1]["last_modified"].is_string());

    for bad in ["nope.csv", "recycling-records.xml", "recycling-records"] {
        let res = app.get(&format!("/v1/open-data/{bad}"), None).await;
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    }
}
on_both!(
    open_data_streams_the_catalogue_tests,
    super::open_data_streams_the_catalogue
);
