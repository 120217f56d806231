//! The audit log: every administrative act, filtered and paged; city-wide administrators
//! read all of it, district administrators their district's accounts' acts.

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    flows::{CENTRE, DISTRICT, admins, resident},
    helpers::{Footprint, TestApp, assert_problem, ok},
    on_both,
};

async fn the_audit_log(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let staff = admins(&app).await;
    let (someone, _) = resident(&app, "audit-resident").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let f = ok(
            app.post_json(
                "/v1/admin/facilities",
                Some(&staff.local),
                &json!({ "name": format!("回收站 {i}"), "kind": "recycling_station",
                         "district_code": DISTRICT, "address": "某路", "lat": CENTRE.0, "lng": CENTRE.1 }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        ids.push(f["id"].as_str().unwrap().to_string());
    }
    let res = app.get("/v1/admin/audit-log", Some(&someone)).await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let theirs = format!("/v1/admin/audit-log?district_code={DISTRICT}");
    let res = app.get(&theirs, Some(&staff.other)).await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    for (token, path, acts) in [
        (&staff.local, "/v1/admin/audit-log".to_string(), 3),
        (&staff.other, "/v1/admin/audit-log".to_string(), 0),
        (&staff.sup, theirs.clone(), 3),
        (
            &staff.sup,
            format!(
                "/v1/admin/audit-log?district_code={}",
                crate::flows::OTHER_DISTRICT
            ),
            0,
        ),
    ] {
        let page = ok(app.get(&path, Some(token)).await, StatusCode::OK).await;
        assert_eq!(page["items"].as_array().unwrap().len(), acts, "{path}");
    }
    let page = ok(
        app.get(
            "/v1/admin/audit-log?action=facility.create&limit=2",
            Some(&staff.sup),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        page["items"][0]["object_id"],
        ids[2].as_str(),
        "newest first"
    );
    assert_eq!(page["items"][0]["detail"]["name"], "回收站 2");
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = ok(
        app.get(
            &format!("/v1/admin/audit-log?action=facility.create&limit=2&cursor={cursor}"),
            Some(&staff.sup),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rest["items"][0]["object_id"], ids[0].as_str());
    assert!(rest["next_cursor"].is_null());
    let one = ok(
        app.get(
            &format!(
                "/v1/admin/audit-log?object_type=facility&object_id={}",
                ids[1]
            ),
            Some(&staff.sup),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    let actor = one["items"][0]["actor_id"].as_str().unwrap();
    let theirs = ok(
        app.get(
            &format!("/v1/admin/audit-log?actor_id={actor}"),
            Some(&staff.sup),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 3);
    let future = ok(
        app.get(
            "/v1/admin/audit-log?from=2999-01-01T00:00:00Z",
            Some(&staff.sup),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(future["items"], json!([]));
    let res = app
        .get(
            "/v1/admin/audit-log?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            Some(&staff.sup),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = app
        .get("/v1/admin/audit-log?from=yesterday", Some(&staff.sup))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}
on_both!(the_audit_log_tests, super::the_audit_log);
