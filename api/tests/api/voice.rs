//! The public's voice: suggestions (anonymous or signed in, throttled, moderated per
//! district, published with personal data masked and replied to), the same over Open311
//! GeoReport v2, and the quarterly satisfaction survey.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    flows::{CENTRE, DISTRICT, admins, resident},
    helpers::{Footprint, TestApp, assert_problem, ok},
    on_both,
};

fn suggestion(text: &str) -> Value {
    json!({ "category": "recycling_service", "district_code": DISTRICT, "text": text,
            "contact": "13912345678" })
}

async fn suggestions_are_moderated_and_masked(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let staff = admins(&app).await;
    let (alice, _) = resident(&app, "voice-alice").await;
    let (bob, _) = resident(&app, "voice-bob").await;

    // Bad ones are 422s and store nothing.
    let mut bad = suggestion("短");
    bad["lat"] = json!(CENTRE.0);
    let res = app.post_json("/v1/suggestions", None, &bad).await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"text") && fields.contains(&"lat"),
        "{fields:?}"
    );

    // Anonymous and signed in; pending ones are nobody's business but their sender's.
    let anon = ok(
        app.post_json(
            "/v1/suggestions",
            None,
            &suggestion("小区回收车来得太晚了，请联系我 13812345678"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(anon["status"], "pending");
    let mine = ok(
        app.post_json(
            "/v1/suggestions",
            Some(&alice),
            &suggestion("建议增加周末上门回收时段"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let (anon_id, mine_id) = (anon["id"].as_str().unwrap(), mine["id"].as_str().unwrap());
    for token in [None, Some(bob.as_str())] {
        let res = app.get(&format!("/v1/suggestions/{mine_id}"), token).await;
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    ok(
        app.get(&format!("/v1/suggestions/{mine_id}"), Some(&alice))
            .await,
        StatusCode::OK,
    )
    .await;
    let listed = ok(
        app.get("/v1/suggestions/mine", Some(&alice)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(
        ok(
            app.get("/v1/suggestions/mine", Some(&bob)).await,
            StatusCode::OK
        )
        .await,
        json!([])
    );
    let public = ok(app.get("/v1/suggestions", None).await, StatusCode::OK).await;
    assert_eq!(public["items"], json!([]));

    // Moderation: the district's administrators only; oldest first, with waiting times.
    let publish = format!("/v1/admin/suggestions/{anon_id}/publish");
    let res = app.post_json(&publish, Some(&alice), &json!({})).await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .post_json(&publish, Some(&staff.other), &json!({}))
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let queue = ok(
        app.get("/v1/admin/suggestions", Some(&staff.local)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(queue["items"][0]["id"], anon_id);
    assert_eq!(queue["items"][0]["waiting_days"], 0);
    assert_eq!(queue["items"][0]["overdue"], false);
    assert_eq!(
        queue["items"][0]["contact"], "13912345678",
        "moderators read the contact"
    );
    let res = reqwest::Client::new()
        .post(app.url(&publish))
        .bearer_auth(&staff.local)
        .send()
        .await
        .unwrap();
    let published = ok(res, StatusCode::OK).await;
    assert_eq!(published["status"], "published");
    let res = app
        .post_json(&publish, Some(&staff.local), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    // Public: the text masked, no contact, no original.
    let public = ok(app.get("/v1/suggestions", None).await, StatusCode::OK).await;
    let item = &public["items"][0];
    assert_eq!(item["id"], anon_id);
    assert_eq!(item["text"], "小区回收车来得太晚了，请联系我 138******78");
    let raw = public.to_string();
    assert!(
        !raw.contains("13812345678") && !raw.contains("13912345678"),
        "{raw}"
    );
    assert!(item.get("contact").is_none() && item.get("original_text").is_none());

    // A reply, visible to the public and closing the Open311 request.
    let reply = format!("/v1/admin/suggestions/{anon_id}/reply");
    let res = app
        .post_json(&reply, Some(&staff.local), &json!({ "text": "" }))
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    ok(
        app.post_json(
            &reply,
            Some(&staff.sup),
            &json!({ "text": "已调整该小区收运时间为上午。", "unit": "市城市管理局" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let answered = ok(
        app.get("/v1/suggestions?replied=true", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        answered["items"][0]["reply"],
        "已调整该小区收运时间为上午。"
    );
    assert_eq!(answered["items"][0]["reply_unit"], "市城市管理局");
    let closed = ok(
        app.get(&format!("/open311/v2/requests/{anon_id}.json"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(closed[0]["status"], "closed");
    assert_eq!(closed[0]["status_notes"], "已调整该小区收运时间为上午。");

    // Rejected: never public; its sender reads why and is told.
    ok(
        app.post_json(
            &format!("/v1/admin/suggestions/{mine_id}/reject"),
            Some(&staff.local),
            &json!({ "reason": "与本平台无关" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let listed = ok(
        app.get("/v1/suggestions/mine", Some(&alice)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed[0]["status"], "rejected");
    assert_eq!(listed[0]["reason"], "与本平台无关");
    let inbox = ok(
        app.get("/v1/notifications", Some(&alice)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(inbox["items"][0]["title"], "您的建议未予公开", "{inbox}");
    let public = ok(app.get("/v1/suggestions", None).await, StatusCode::OK).await;
    assert_eq!(public["items"].as_array().unwrap().len(), 1);
}
on_both!(
    suggestions_tests,
    super::suggestions_are_moderated_and_masked
);

async fn anonymous_senders_are_throttled(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    for i in 0..5 {
        let res = app
            .post_json(
                "/v1/suggestions",
                None,
                &suggestion(&format!("第{i}条建议：增加回收点")),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app
        .post_json(
            "/v1/suggestions",
            None,
            &suggestion("第六条建议：增加回收点"),
        )
        .await;
    let p = assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert!(p["detail"].is_string());
    // A signed-in resident has a budget of their own.
    let (alice, _) = resident(&app, "voice-throttle").await;
    let res = app
        .post_json(
            "/v1/suggestions",
            Some(&alice),
            &suggestion("签名用户的建议"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}
on_both!(throttle_tests, super::anonymous_senders_are_throttled);

async fn open311_georeport(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let staff = admins(&app).await;
    let services = ok(
        app.get("/open311/v2/services.json", None).await,
        StatusCode::OK,
    )
    .await;
    let codes: Vec<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service_code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 6);
    assert!(codes.contains(&"sorting"));
    assert_eq!(services[0]["type"], "realtime");

    let client = reqwest::Client::new();
    let form = |code: &str| {
        client.post(app.url("/open311/v2/requests.json")).form(&[
            ("service_code", code),
            ("description", "垃圾分类投放点满溢，无人清运"),
            ("lat", &CENTRE.0.to_string()),
            ("long", &CENTRE.1.to_string()),
            ("address_string", "东昌府区某小区 3 号楼"),
            ("phone", "13700001111"),
            ("api_key", "ignored"),
        ])
    };
    let res = form("parking").send().await.unwrap();
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "service_code");
    let res = client
        .post(app.url("/open311/v2/requests.json"))
        .json(&json!({ "service_code": "sorting" }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    let created = ok(form("sorting").send().await.unwrap(), StatusCode::CREATED).await;
    let id = created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(created[0]["service_notice"].is_string());

    // Not public until a moderator publishes it (city-wide: it names no district).
    let path = format!("/open311/v2/requests/{id}.json");
    assert_problem(
        app.get(&path, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let res = app
        .post_json(
            &format!("/v1/admin/suggestions/{id}/publish"),
            Some(&staff.local),
            &json!({}),
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    ok(
        app.post_json(
            &format!("/v1/admin/suggestions/{id}/publish"),
            Some(&staff.sup),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let one = ok(app.get(&path, None).await, StatusCode::OK).await;
    assert_eq!(one[0]["status"], "open");
    assert_eq!(one[0]["service_code"], "sorting");
    assert_eq!(one[0]["long"], CENTRE.1);
    assert_eq!(one[0]["address"], "东昌府区某小区 3 号楼");
    assert!(
        !one.to_string().contains("13700001111"),
        "the phone is never public"
    );
    let open = ok(
        app.get(
            "/open311/v2/requests.json?status=open&service_code=sorting",
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(open.as_array().unwrap().len(), 1);
    let closed = ok(
        app.get("/open311/v2/requests.json?status=closed", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(closed, json!([]));
    for bad in [
        "status=pending",
        "service_code=parking",
        "service_request_id=42",
    ] {
        let res = app
            .get(&format!("/open311/v2/requests.json?{bad}"), None)
            .await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    assert_problem(
        app.get("/open311/v2/requests/not-an-id.json", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}
on_both!(open311_tests, super::open311_georeport);

async fn satisfaction_survey(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let answer = |overall: i64| {
        json!({ "district_code": DISTRICT, "overall": overall, "pickup": 4, "points": 5,
                "facilities": 3, "disclosure": 4, "comment": "回收员很准时" })
    };
    let res = app
        .post_json("/v1/surveys/satisfaction", None, &answer(5))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let mut residents = Vec::new();
    for i in 0..3 {
        residents.push(resident(&app, &format!("voice-survey-{i}")).await.0);
    }
    let mut bad = answer(6);
    bad["pickup"] = json!(0);
    let res = app
        .post_json("/v1/surveys/satisfaction", Some(&residents[0]), &bad)
        .await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 2, "{p}");

    // Below three answers a group shows its count only.
    ok(
        app.post_json("/v1/surveys/satisfaction", Some(&residents[0]), &answer(5))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let early = ok(
        app.get("/v1/surveys/satisfaction/results", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(early["city"]["answers"], 1);
    assert!(early["city"]["overall"].is_null(), "{early}");
    let res = app
        .post_json("/v1/surveys/satisfaction", Some(&residents[0]), &answer(1))
        .await;
    assert_problem(res, StatusCode::CONFLICT, "already_answered").await;
    for (token, overall) in residents[1..].iter().zip([4, 3]) {
        ok(
            app.post_json("/v1/surveys/satisfaction", Some(token), &answer(overall))
                .await,
            StatusCode::CREATED,
        )
        .await;
    }
    let results = ok(
        app.get("/v1/surveys/satisfaction/results", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(results["city"]["answers"], 3);
    assert_eq!(results["city"]["overall"], 4.0);
    assert_eq!(results["city"]["facilities"], 3.0);
    assert_eq!(results["districts"][0]["district_code"], DISTRICT);
    assert_eq!(results["districts"][0]["pickup"], 4.0);
    assert!(
        !results.to_string().contains("准时"),
        "comments are not published"
    );
    let res = app
        .get("/v1/surveys/satisfaction/results?period=2026Q9", None)
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let old = ok(
        app.get("/v1/surveys/satisfaction/results?period=2020Q1", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(old["city"]["answers"], 0);
}
on_both!(satisfaction_tests, super::satisfaction_survey);

/// A suggestion unanswered for 60 days reminds its district's administrators (and the
/// city-wide ones) once, a month before it is overdue.
async fn districts_are_reminded_before_the_limit(fp: Footprint) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    use wufei_domain::{entities::suggestion, voice::suggestions::remind_overdue};

    let app = TestApp::spawn(fp).await;
    let staff = admins(&app).await;
    let old = ok(
        app.post_json(
            "/v1/suggestions",
            None,
            &suggestion("建议在东关街增设回收点"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    ok(
        app.post_json("/v1/suggestions", None, &suggestion("新的建议：周末也回收"))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id: uuid::Uuid = old["id"].as_str().unwrap().parse().unwrap();
    let sixty_one_days_ago = chrono::Utc::now() - chrono::Duration::days(61);
    suggestion::Entity::update_many()
        .col_expr(
            suggestion::Column::CreatedAt,
            Expr::value(sixty_one_days_ago),
        )
        .filter(suggestion::Column::Id.eq(id))
        .exec(&app.platform.db)
        .await
        .unwrap();
    let queue = ok(
        app.get("/v1/admin/suggestions", Some(&staff.local)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(queue["items"][0]["waiting_days"], 61);
    assert_eq!(queue["items"][0]["overdue"], false);

    let now = chrono::Utc::now();
    assert_eq!(remind_overdue(&app.platform.db, now).await.unwrap(), 1);
    assert_eq!(
        remind_overdue(&app.platform.db, now).await.unwrap(),
        0,
        "once"
    );
    let reminders = |inbox: &Value| {
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["title"] == "意见建议即将超期")
            .count()
    };
    for (token, want) in [(&staff.local, 1), (&staff.sup, 1), (&staff.other, 0)] {
        let inbox = ok(
            app.get("/v1/notifications", Some(token)).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(reminders(&inbox), want, "{inbox}");
    }
}
on_both!(
    reminder_tests,
    super::districts_are_reminded_before_the_limit
);
