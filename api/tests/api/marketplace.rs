//! The recycled construction-material marketplace: merchants' applications and review,
//! listings through review to search, certificates and their badges, demand and matching,
//! inquiry → quote → deal with stock taken exactly, who may see and move what, and the
//! bad inputs that must change nothing.

use std::time::Duration;

use chrono::{Duration as Days, Utc};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use wufei_domain::auth::{AdminScope, Role};

use crate::{
    flows::{CENTRE, DISTRICT},
    helpers::{Footprint, TestApp, assert_problem, ok},
    on_both,
    uploads::{png, upload},
};

const ADMIN_PHONE: &str = "13700000031";
const ADMIN_PASSWORD: &str = "market admin pw 1";
const OTHER_DISTRICT: &str = "371521";

/// Valid unified social credit codes (GB 32100-2015 check characters).
pub(crate) const CODES: [&str; 5] = [
    "91371502MA3C123457",
    "91371521MA3D543219",
    "91371502MA3E00001L",
    "91371502MA3E00002P",
    "91371502MA3E00003T",
];

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Response {
    let mut req = app.client.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    req.send().await.unwrap()
}

async fn post(app: &TestApp, path: &str, token: &str, body: &Value) -> Response {
    app.post_json(path, Some(token), body).await
}

pub(crate) async fn admin(app: &TestApp) -> String {
    app.create_user(
        ADMIN_PHONE,
        ADMIN_PASSWORD,
        Role::Admin,
        Some(AdminScope::District),
        Some(DISTRICT),
    )
    .await;
    app.login(ADMIN_PHONE, ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn upload_id(app: &TestApp, token: &str, purpose: &str) -> String {
    let res = upload(app, token, purpose, &png(8, 8), None).await;
    ok(res, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn application(code: &str, licence: &str) -> Value {
    json!({
        "company_name": "聊城市再生建材有限公司",
        "credit_code": code,
        "contact_name": "王经理",
        "contact_phone": "13812345678",
        "district_code": DISTRICT,
        "address": "东昌府区再生产业园 8 号",
        "licence_id": licence,
    })
}

/// A verified merchant: a resident who applied and was approved; returns its fresh access
/// token (with the merchant role) and merchant id.
pub(crate) async fn merchant(
    app: &TestApp,
    admin: &str,
    openid: &str,
    code: &str,
) -> (String, String) {
    let pair = app.wechat_login(openid).await;
    let token = pair["access_token"].as_str().unwrap().to_string();
    let licence = upload_id(app, &token, "licence").await;
    let applied = ok(
        post(
            app,
            "/v1/merchant-applications",
            &token,
            &application(code, &licence),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(applied["status"], "pending");
    let id = applied["id"].as_str().unwrap();
    ok(
        post(
            app,
            &format!("/v1/admin/merchant-applications/{id}/approve"),
            admin,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let refreshed = ok(
        app.post_json(
            "/v1/auth/refresh",
            None,
            &json!({ "refresh_token": pair["refresh_token"] }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let token = refreshed["access_token"].as_str().unwrap().to_string();
    let me = ok(
        app.get("/v1/market/my/listings", Some(&token)).await,
        StatusCode::OK,
    )
    .await;
    assert!(me["items"].as_array().unwrap().is_empty());
    let profile_id = merchant_id(app, &token).await;
    (token, profile_id)
}

/// The caller's merchant id, read from a listing it creates and withdraws.
async fn merchant_id(app: &TestApp, token: &str) -> String {
    let l = ok(
        post(app, "/v1/market/listings", token, &listing_body("探针")).await,
        StatusCode::CREATED,
    )
    .await;
    ok(
        post(
            app,
            &format!("/v1/market/listings/{}/withdraw", l["id"].as_str().unwrap()),
            token,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    l["merchant"]["id"].as_str().unwrap().to_string()
}

pub(crate) fn listing_body(title: &str) -> Value {
    json!({
        "product_type": "recycled_coarse_aggregate",
        "title": title,
        "description": "建筑垃圾再生骨料（粗），粒径 5-31.5mm，可用于 C30 混凝土",
        "spec": "5-31.5mm C30",
        "unit": "t",
        "price_fen": 4500,
        "stock": 100,
        "min_order": 5,
        "plant": { "lat": CENTRE.0, "lng": CENTRE.1, "address": "再生产业园 8 号", "district_code": DISTRICT },
        "delivery_radius_km": 50,
    })
}

/// A published listing: created, submitted and approved.
pub(crate) async fn published(app: &TestApp, token: &str, admin: &str, body: &Value) -> Value {
    let l = ok(
        post(app, "/v1/market/listings", token, body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(l["status"], "draft");
    let id = l["id"].as_str().unwrap().to_string();
    let s = ok(
        post(
            app,
            &format!("/v1/market/listings/{id}/submit"),
            token,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(s["status"], "pending_review");
    let p = ok(
        post(
            app,
            &format!("/v1/admin/market/listings/{id}/approve"),
            admin,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(p["status"], "published");
    p
}

/// Searches until `pred` holds for the answer (the index is written by the worker).
async fn search_until(app: &TestApp, query: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let res = app.get(&format!("/v1/market/listings?{query}"), None).await;
        let body = ok(res, StatusCode::OK).await;
        if pred(&body) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "search never showed it: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

async fn onboarding_and_review(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let admin = admin(&app).await;
    let types = ok(
        app.get("/v1/market/product-types", None).await,
        StatusCode::OK,
    )
    .await;
    let codes: Vec<&str> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "recycled_coarse_aggregate",
            "recycled_fine_aggregate",
            "recycled_brick",
            "permeable_brick",
            "road_base_mixture",
            "recycled_concrete_block"
        ]
    );

    let pair = app.wechat_login("openid-m-applicant").await;
    let token = pair["access_token"].as_str().unwrap().to_string();
    let licence = upload_id(&app, &token, "licence").await;
    // A wrong check character: 422 naming the field, nothing written.
    let bad = post(
        &app,
        "/v1/merchant-applications",
        &token,
        &application("91371502MA3C123458", &licence),
    )
    .await;
    let body = assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "credit_code");
    // Someone else's licence.
    let other = app.wechat_login("openid-m-other").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let theirs = upload_id(&app, &other, "licence").await;
    let bad = post(
        &app,
        "/v1/merchant-applications",
        &token,
        &application(CODES[0], &theirs),
    )
    .await;
    assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let mine = ok(
        app.get("/v1/merchant-applications/mine", Some(&token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(mine.as_array().unwrap().is_empty());

    // Residents cannot list before they are merchants.
    let res = post(
        &app,
        "/v1/market/listings",
        &token,
        &listing_body("再生粗骨料"),
    )
    .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;

    let applied = ok(
        post(
            &app,
            "/v1/merchant-applications",
            &token,
            &application(CODES[0], &licence),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = applied["id"].as_str().unwrap().to_string();
    // One pending application per account; the same code from another account too.
    let again = post(
        &app,
        "/v1/merchant-applications",
        &token,
        &application(CODES[0], &licence),
    )
    .await;
    assert_problem(again, StatusCode::CONFLICT, "application_pending").await;
    let other_licence = upload_id(&app, &other, "licence").await;
    let dup = post(
        &app,
        "/v1/merchant-applications",
        &other,
        &application(CODES[0], &other_licence),
    )
    .await;
    assert_problem(dup, StatusCode::CONFLICT, "application_pending").await;

    // An administrator of another district neither sees nor decides it.
    app.create_user(
        "13700000032",
        ADMIN_PASSWORD,
        Role::Admin,
        Some(AdminScope::District),
        Some(OTHER_DISTRICT),
    )
    .await;
    let far = app.login("13700000032", ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let list = ok(
        app.get("/v1/admin/merchant-applications", Some(&far)).await,
        StatusCode::OK,
    )
    .await;
    assert!(list["items"].as_array().unwrap().is_empty());
    let res = post(
        &app,
        &format!("/v1/admin/merchant-applications/{id}/approve"),
        &far,
        &json!({}),
    )
    .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let list = ok(
        app.get("/v1/admin/merchant-applications", Some(&admin))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&list), std::slice::from_ref(&id));
    // The licence is private: the administrator reads it, a stranger does not.
    let lic = app
        .get(&format!("/v1/uploads/{licence}/content"), Some(&admin))
        .await;
    assert_eq!(lic.status(), StatusCode::OK);
    let lic = app
        .get(&format!("/v1/uploads/{licence}/content"), Some(&other))
        .await;
    assert_eq!(lic.status(), StatusCode::NOT_FOUND);

    let approved = ok(
        post(
            &app,
            &format!("/v1/admin/merchant-applications/{id}/approve"),
            &admin,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["status"], "approved");
    let twice = post(
        &app,
        &format!("/v1/admin/merchant-applications/{id}/approve"),
        &admin,
        &json!({}),
    )
    .await;
    assert_problem(twice, StatusCode::CONFLICT, "illegal_transition").await;
    // The new role arrives with the next token.
    let refreshed = ok(
        app.post_json(
            "/v1/auth/refresh",
            None,
            &json!({ "refresh_token": pair["refresh_token"] }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let merchant = refreshed["access_token"].as_str().unwrap().to_string();
    ok(
        post(
            &app,
            "/v1/market/listings",
            &merchant,
            &listing_body("再生粗骨料"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    // The code is taken for good; a rejection carries its reason.
    let dup = post(
        &app,
        "/v1/merchant-applications",
        &other,
        &application(CODES[0], &other_licence),
    )
    .await;
    assert_problem(dup, StatusCode::CONFLICT, "credit_code_taken").await;
    let second = ok(
        post(
            &app,
            "/v1/merchant-applications",
            &other,
            &application(CODES[2], &other_licence),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let sid = second["id"].as_str().unwrap();
    let res = post(
        &app,
        &format!("/v1/admin/merchant-applications/{sid}/reject"),
        &admin,
        &json!({ "reason": "" }),
    )
    .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let rejected = ok(
        post(
            &app,
            &format!("/v1/admin/merchant-applications/{sid}/reject"),
            &admin,
            &json!({ "reason": "营业执照不清晰" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rejected["status"], "rejected");
    let mine = ok(
        app.get("/v1/merchant-applications/mine", Some(&other))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine[0]["reason"], "营业执照不清晰");
}
on_both!(onboarding_and_review, super::onboarding_and_review);

async fn listings_through_review_to_search(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let admin = admin(&app).await;
    let (seller, seller_id) = merchant(&app, &admin, "openid-m-seller", CODES[0]).await;
    let (rival, _) = merchant(&app, &admin, "openid-m-rival", CODES[1]).await;
    let resident = app.wechat_login("openid-m-res").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();

    let draft = ok(
        post(
            &app,
            "/v1/market/listings",
            &seller,
            &listing_body("再生粗骨料 C30 5-31.5mm"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = draft["id"].as_str().unwrap().to_string();
    // A draft is its merchant's (and administrators') only.
    for token in [None, Some(rival.as_str()), Some(resident.as_str())] {
        let res = app.get(&format!("/v1/market/listings/{id}"), token).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    ok(
        app.get(&format!("/v1/market/listings/{id}"), Some(&seller))
            .await,
        StatusCode::OK,
    )
    .await;
    ok(
        app.get(&format!("/v1/market/listings/{id}"), Some(&admin))
            .await,
        StatusCode::OK,
    )
    .await;
    // Another merchant cannot edit, submit or withdraw it.
    let res = send(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1/market/listings/{id}"),
        Some(&rival),
        Some(&json!({ "price_fen": 1 })),
    )
    .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    for action in ["submit", "withdraw"] {
        let res = post(
            &app,
            &format!("/v1/market/listings/{id}/{action}"),
            &rival,
            &json!({}),
        )
        .await;
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    // Approval needs a submitted listing.
    let res = post(
        &app,
        &format!("/v1/admin/market/listings/{id}/approve"),
        &admin,
        &json!({}),
    )
    .await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
    ok(
        post(
            &app,
            &format!("/v1/market/listings/{id}/submit"),
            &seller,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let queue = ok(
        app.get("/v1/admin/market/listings", Some(&admin)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&queue), std::slice::from_ref(&id));
    ok(
        post(
            &app,
            &format!("/v1/admin/market/listings/{id}/approve"),
            &admin,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    // Public, and found by Chinese words, the specification and filters.
    let public = ok(
        app.get(&format!("/v1/market/listings/{id}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(public["status"], "published");
    assert!(public.get("reason").is_none());
    for q in [
        "q=%E9%AA%A8%E6%96%99",
        "q=C30",
        "q=5-31.5mm",
        "q=%E5%86%8D%E7%94%9F%E9%9B%86%E6%96%99",
        "product_type=recycled_coarse_aggregate&certified=false",
    ] {
        let page = search_until(&app, q, |b| ids(b).contains(&id)).await;
        assert_eq!(
            page["items"][0]["merchant"]["id"],
            seller_id.as_str(),
            "{q}"
        );
    }
    let page = search_until(
        &app,
        &format!(
            "lat={}&lng={}&radius_km=5&sort=distance",
            CENTRE.0, CENTRE.1
        ),
        |b| ids(b).contains(&id),
    )
    .await;
    assert!(page["items"][0]["distance_km"].as_f64().unwrap() < 0.1);
    assert_eq!(
        page["facets"]["product_type"]["recycled_coarse_aggregate"],
        1
    );
    let none = ok(
        app.get("/v1/market/listings?product_type=permeable_brick", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(ids(&none).is_empty());

    // Price and stock change at once; the title sends it back to review, out of search.
    let edited = ok(
        send(
            &app,
            reqwest::Method::PATCH,
            &format!("/v1/market/listings/{id}"),
            Some(&seller),
            Some(&json!({ "price_fen": 3900 })),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["review_required"], false);
    assert_eq!(edited["status"], "published");
    search_until(&app, "max_price_fen=4000", |b| ids(b).contains(&id)).await;
    let edited = ok(
        send(
            &app,
            reqwest::Method::PATCH,
            &format!("/v1/market/listings/{id}"),
            Some(&seller),
            Some(&json!({ "title": "再生粗骨料（新）" })),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["review_required"], true);
    assert_eq!(edited["status"], "pending_review");
    search_until(&app, "q=C30", |b| !ids(b).contains(&id)).await;
    assert_eq!(
        app.get(&format!("/v1/market/listings/{id}"), None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Rejected with a reason only its merchant sees; then published and taken down.
    let r = ok(
        post(
            &app,
            &format!("/v1/admin/market/listings/{id}/reject"),
            &admin,
            &json!({ "reason": "标题不规范" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["status"], "rejected");
    let mine = ok(
        app.get(&format!("/v1/market/listings/{id}"), Some(&seller))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["reason"], "标题不规范");
    ok(
        post(
            &app,
            &format!("/v1/market/listings/{id}/submit"),
            &seller,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    ok(
        post(
            &app,
            &format!("/v1/admin/market/listings/{id}/approve"),
            &admin,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // A report goes to the queue; upholding it takes the listing down.
    let rep = ok(
        post(
            &app,
            &format!("/v1/market/listings/{id}/reports"),
            &resident,
            &json!({ "reason": "价格与实际不符" }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let again = post(
        &app,
        &format!("/v1/market/listings/{id}/reports"),
        &resident,
        &json!({ "reason": "价格与实际不符" }),
    )
    .await;
    assert_problem(again, StatusCode::CONFLICT, "already_reported").await;
    let reports = ok(
        app.get("/v1/admin/market/reports", Some(&admin)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&reports), [rep["id"].as_str().unwrap().to_string()]);
    let done = ok(
        post(
            &app,
            &format!(
                "/v1/admin/market/reports/{}/resolve",
                rep["id"].as_str().unwrap()
            ),
            &admin,
            &json!({ "take_down": true, "reason": "虚假价格" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["status"], "upheld");
    let mine = ok(
        app.get(&format!("/v1/market/listings/{id}"), Some(&seller))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["status"], "withdrawn");
    assert_eq!(mine["taken_down"], true);
    assert_eq!(mine["reason"], "虚假价格");
    let res = post(
        &app,
        &format!("/v1/market/listings/{id}/submit"),
        &seller,
        &json!({}),
    )
    .await;
    assert_problem(res, StatusCode::CONFLICT, "taken_down").await;

    // Favourites: idempotent both ways, only published listings.
    let other = published(&app, &seller, &admin, &listing_body("透水砖配套再生骨料")).await;
    let oid = other["id"].as_str().unwrap();
    for _ in 0..2 {
        let res = send(
            &app,
            reqwest::Method::PUT,
            &format!("/v1/market/listings/{oid}/favourite"),
            Some(&resident),
            None,
        )
        .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    let favs = ok(
        app.get("/v1/market/my/favourites", Some(&resident)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(favs.as_array().unwrap().len(), 1);
    let res = send(
        &app,
        reqwest::Method::PUT,
        &format!("/v1/market/listings/{id}/favourite"),
        Some(&resident),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = send(
        &app,
        reqwest::Method::DELETE,
        &format!("/v1/market/listings/{oid}/favourite"),
        Some(&resident),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // The public merchant profile.
    let profile = ok(
        app.get(&format!("/v1/market/merchants/{seller_id}"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(profile["published_listings"], 1);
    assert_eq!(profile["name"], "聊城市再生建材有限公司");
}
on_both!(
    listings_through_review_to_search,
    super::listings_through_review_to_search
);

async fn certificates_give_badges(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let admin = admin(&app).await;
    let (seller, _) = merchant(&app, &admin, "openid-m-cert", CODES[0]).await;
    let l = published(&app, &seller, &admin, &listing_body("绿色建材 再生骨料")).await;
    let id = l["id"].as_str().unwrap().to_string();
    assert_eq!(l["certified"], false);
    let scan = upload_id(&app, &seller, "certificate").await;
    let today = Utc::now().date_naive();
    let cert = |kind: &str,
                star: Option<i64>,
                issued: chrono::NaiveDate,
                expires: chrono::NaiveDate| {
        json!({ "kind": kind, "star_level": star, "number": "LC-2026-001", "issuer": "中国城市科学研究会",
                "issued_on": issued, "expires_on": expires, "upload_id": scan })
    };
    // Bad certificates change nothing.
    for (body, field) in [
        (
            cert(
                "green_building_material",
                Some(2),
                today - Days::days(2000),
                today - Days::days(1),
            ),
            "expires_on",
        ),
        (
            cert(
                "green_building_material",
                None,
                today - Days::days(10),
                today + Days::days(300),
            ),
            "star_level",
        ),
        (
            cert(
                "green_building_material",
                Some(4),
                today - Days::days(10),
                today + Days::days(300),
            ),
            "star_level",
        ),
        (
            cert(
                "green_building_material",
                Some(1),
                today - Days::days(10),
                today + Days::days(2000),
            ),
            "expires_on",
        ),
        (
            cert(
                "test_report",
                Some(1),
                today - Days::days(10),
                today + Days::days(300),
            ),
            "star_level",
        ),
        (
            cert(
                "test_report",
                None,
                today + Days::days(1),
                today + Days::days(300),
            ),
            "issued_on",
        ),
    ] {
        let res = post(
            &app,
            &format!("/v1/market/listings/{id}/certificates"),
            &seller,
            &body,
        )
        .await;
        let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert!(
            p["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{p}"
        );
    }
    let public = ok(
        app.get(&format!("/v1/market/listings/{id}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert!(public["certificates"].as_array().unwrap().is_empty());

    // A catalogue entry makes it certified but not procurement-ready; a test report does.
    ok(
        post(
            &app,
            &format!("/v1/market/listings/{id}/certificates"),
            &seller,
            &cert(
                "promotion_catalogue",
                None,
                today - Days::days(10),
                today + Days::days(3),
            ),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let v = ok(
        app.get(&format!("/v1/market/listings/{id}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (v["certified"].as_bool(), v["procurement_ready"].as_bool()),
        (Some(true), Some(false))
    );
    assert!(
        v["certificates"][0].get("upload_id").is_none(),
        "the public never sees the scan"
    );
    let mut report = cert(
        "test_report",
        None,
        today - Days::days(10),
        today + Days::days(20),
    );
    report["number"] = json!("TR-88");
    ok(
        post(
            &app,
            &format!("/v1/market/listings/{id}/certificates"),
            &seller,
            &report,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    search_until(&app, "procurement_ready=true", |b| ids(b).contains(&id)).await;
    let mine = ok(
        app.get(&format!("/v1/market/listings/{id}"), Some(&seller))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(mine["certificates"][0]["upload_id"].is_string());

    // The daily pass: reminders once at 30 and 7 days, badges off the day after expiry.
    use wufei_domain::marketplace::certificates;
    let (_, reminded) = certificates::daily(&app.platform.db, today).await.unwrap();
    assert_eq!(
        reminded, 3,
        "both at 30 days, the catalogue entry at 7 as well"
    );
    let (_, again) = certificates::daily(&app.platform.db, today).await.unwrap();
    assert_eq!(again, 0, "each reminder once");
    let (unbadged, _) = certificates::daily(&app.platform.db, today + Days::days(4))
        .await
        .unwrap();
    assert_eq!(unbadged, 0, "the test report is still in force");
    let (unbadged, _) = certificates::daily(&app.platform.db, today + Days::days(21))
        .await
        .unwrap();
    assert_eq!(unbadged, 1);
    let v = ok(
        app.get(&format!("/v1/market/listings/{id}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (v["certified"].as_bool(), v["procurement_ready"].as_bool()),
        (Some(false), Some(false))
    );
    search_until(&app, "certified=true", |b| !ids(b).contains(&id)).await;
}
on_both!(certificates_give_badges, super::certificates_give_badges);

async fn inquiry_quote_deal(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let admin = admin(&app).await;
    let (seller, seller_id) = merchant(&app, &admin, "openid-m-s", CODES[0]).await;
    let (buyer, _) = merchant(&app, &admin, "openid-m-b", CODES[1]).await;
    let (stranger, _) = merchant(&app, &admin, "openid-m-x", CODES[2]).await;
    let l = published(&app, &seller, &admin, &listing_body("再生粗骨料")).await;
    let lid = l["id"].as_str().unwrap().to_string();

    // Bad inquiries: below the minimum order, on one's own listing.
    let res = post(
        &app,
        &format!("/v1/market/listings/{lid}/inquiries"),
        &buyer,
        &json!({ "quantity": 1, "message": "要货" }),
    )
    .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = post(
        &app,
        &format!("/v1/market/listings/{lid}/inquiries"),
        &seller,
        &json!({ "quantity": 10, "message": "要货" }),
    )
    .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "own_listing").await;

    let inq = ok(
        post(&app, &format!("/v1/market/listings/{lid}/inquiries"), &buyer, &json!({ "quantity": 40, "message": "工地需要 40 吨", "needed_by": Utc::now().date_naive() + Days::days(7) })).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(inq["status"], "open");
    let iid = inq["id"].as_str().unwrap().to_string();
    // Only the two parties see or write in it.
    assert_eq!(
        app.get(&format!("/v1/market/inquiries/{iid}"), Some(&stranger))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let res = post(
        &app,
        &format!("/v1/market/inquiries/{iid}/messages"),
        &stranger,
        &json!({ "body": "我也要" }),
    )
    .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    ok(
        post(
            &app,
            &format!("/v1/market/inquiries/{iid}/messages"),
            &seller,
            &json!({ "body": "可以送到工地" }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    // Only the supplier quotes.
    let until = Utc::now() + Days::days(3);
    let res = post(
        &app,
        &format!("/v1/market/inquiries/{iid}/quotes"),
        &buyer,
        &json!({ "price_fen": 4200, "quantity": 40, "valid_until": until }),
    )
    .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = post(
        &app,
        &format!("/v1/market/inquiries/{iid}/quotes"),
        &seller,
        &json!({ "price_fen": 4200, "quantity": 40, "valid_until": Utc::now() - Days::days(1) }),
    )
    .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let first = ok(
        post(
            &app,
            &format!("/v1/market/inquiries/{iid}/quotes"),
            &seller,
            &json!({ "price_fen": 4300, "quantity": 40, "valid_until": until }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let quote = ok(
        post(
            &app,
            &format!("/v1/market/inquiries/{iid}/quotes"),
            &seller,
            &json!({ "price_fen": 4200, "quantity": 40, "valid_until": until, "note": "含运费" }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let full = ok(
        app.get(&format!("/v1/market/inquiries/{iid}"), Some(&buyer))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(full["messages"].as_array().unwrap().len(), 1);
    assert_eq!(full["quotes"][1]["status"], "withdrawn");

    // The replaced quote cannot be accepted; the seller cannot accept; the buyer can, once.
    let res = post(
        &app,
        &format!("/v1/market/quotes/{}/accept", first["id"].as_str().unwrap()),
        &buyer,
        &json!({}),
    )
    .await;
    assert_problem(res, StatusCode::CONFLICT, "quote_not_open").await;
    let qid = quote["id"].as_str().unwrap();
    let res = post(
        &app,
        &format!("/v1/market/quotes/{qid}/accept"),
        &seller,
        &json!({}),
    )
    .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = post(
        &app,
        &format!("/v1/market/quotes/{qid}/accept"),
        &stranger,
        &json!({}),
    )
    .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let deal = ok(
        post(
            &app,
            &format!("/v1/market/quotes/{qid}/accept"),
            &buyer,
            &json!({}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(deal["status"], "confirmed");
    assert_eq!(deal["amount_fen"], 4200 * 40);
    let res = post(
        &app,
        &format!("/v1/market/quotes/{qid}/accept"),
        &buyer,
        &json!({}),
    )
    .await;
    assert_problem(res, StatusCode::CONFLICT, "quote_not_open").await;
    let v = ok(
        app.get(&format!("/v1/market/listings/{lid}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["stock"], 60);

    // Each step by its party only.
    let did = deal["id"].as_str().unwrap();
    let res = post(
        &app,
        &format!("/v1/market/deals/{did}/complete"),
        &buyer,
        &json!({}),
    )
    .await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
    let res = post(
        &app,
        &format!("/v1/market/deals/{did}/deliver"),
        &buyer,
        &json!({}),
    )
    .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = post(
        &app,
        &format!("/v1/market/deals/{did}/deliver"),
        &stranger,
        &json!({}),
    )
    .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(
        app.get(&format!("/v1/market/deals/{did}"), Some(&stranger))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    ok(
        post(
            &app,
            &format!("/v1/market/deals/{did}/deliver"),
            &seller,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let res = post(
        &app,
        &format!("/v1/market/deals/{did}/cancel"),
        &buyer,
        &json!({}),
    )
    .await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
    let done = ok(
        post(
            &app,
            &format!("/v1/market/deals/{did}/complete"),
            &buyer,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["status"], "completed");
    let deals = ok(
        app.get("/v1/market/deals", Some(&seller)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&deals), [did.to_string()]);

    // A cancelled deal gives the stock back.
    let inq2 = ok(
        post(
            &app,
            &format!("/v1/market/listings/{lid}/inquiries"),
            &buyer,
            &json!({ "quantity": 10, "message": "再要 10 吨" }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let q2 = ok(
        post(
            &app,
            &format!(
                "/v1/market/inquiries/{}/quotes",
                inq2["id"].as_str().unwrap()
            ),
            &seller,
            &json!({ "price_fen": 4000, "quantity": 10, "valid_until": until }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let d2 = ok(
        post(
            &app,
            &format!("/v1/market/quotes/{}/accept", q2["id"].as_str().unwrap()),
            &buyer,
            &json!({}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        ok(
            app.get(&format!("/v1/market/listings/{lid}"), None).await,
            StatusCode::OK
        )
        .await["stock"],
        50
    );
    ok(
        post(
            &app,
            &format!("/v1/market/deals/{}/cancel", d2["id"].as_str().unwrap()),
            &seller,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        ok(
            app.get(&format!("/v1/market/listings/{lid}"), None).await,
            StatusCode::OK
        )
        .await["stock"],
        60
    );

    // Public statistics: supply now, the completed deal by month.
    let stats = ok(app.get("/v1/market/stats", None).await, StatusCode::OK).await;
    let supply = &stats["supply"][0];
    assert_eq!(
        (supply["product_type"].as_str(), supply["quantity"].as_i64()),
        (Some("recycled_coarse_aggregate"), Some(60))
    );
    assert_eq!(stats["deals"].as_array().unwrap().len(), 1);
    assert_eq!(stats["deals"][0]["amount_fen"], 4200 * 40);
    let profile = ok(
        app.get(&format!("/v1/market/merchants/{seller_id}"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(profile["completed_deals"], 1);
}
on_both!(inquiry_quote_deal, super::inquiry_quote_deal);

/// A valid credit code (GB 32100-2015) for buyer `n` of a test: the check character is
/// the one of the 31 that the domain's verification accepts.
fn buyer_code(n: usize) -> String {
    let body = format!("91371502MA3F{n:05}");
    "0123456789ABCDEFGHJKLMNPQRTUWXY"
        .chars()
        .map(|c| format!("{body}{c}"))
        .find(|code| wufei_domain::marketplace::credit_code::verify(code).is_ok())
        .unwrap()
}

/// 50 buyers accept a quote each on one listing at the same moment: stock never goes below
/// zero, exactly as many deals as the stock covers are made, every other accept is 409
/// `insufficient_stock`.
async fn concurrent_accepts_never_oversell(fp: Footprint) {
    const BUYERS: usize = 50;
    let app = TestApp::spawn(fp).await;
    let admin = admin(&app).await;
    let (seller, _) = merchant(&app, &admin, "openid-m-os", CODES[0]).await;
    let mut body = listing_body("最后 250 吨");
    body["stock"] = json!(250);
    let l = published(&app, &seller, &admin, &body).await;
    let lid = l["id"].as_str().unwrap().to_string();
    let until = Utc::now() + Days::days(2);
    let mut quotes = Vec::new();
    for i in 0..BUYERS {
        let code = buyer_code(i);
        let (buyer, _) = merchant(&app, &admin, &format!("openid-m-buyer{i}"), &code).await;
        let inq = ok(
            post(
                &app,
                &format!("/v1/market/listings/{lid}/inquiries"),
                &buyer,
                &json!({ "quantity": 10, "message": "要 10 吨" }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let q = ok(
            post(
                &app,
                &format!(
                    "/v1/market/inquiries/{}/quotes",
                    inq["id"].as_str().unwrap()
                ),
                &seller,
                &json!({ "price_fen": 4000, "quantity": 10, "valid_until": until }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        quotes.push((buyer, q["id"].as_str().unwrap().to_string()));
    }
    // 50 quotes of 10 t on 250 t, accepted together.
    let app = &app;
    let gate = &tokio::sync::Barrier::new(BUYERS);
    let answers = futures::future::join_all(quotes.iter().map(|(buyer, q)| async move {
        gate.wait().await;
        post(
            app,
            &format!("/v1/market/quotes/{q}/accept"),
            buyer,
            &json!({}),
        )
        .await
    }))
    .await;
    let mut made = 0;
    for res in answers {
        match res.status() {
            StatusCode::CREATED => made += 1,
            StatusCode::CONFLICT => {
                assert_problem(res, StatusCode::CONFLICT, "insufficient_stock").await;
            }
            other => panic!("unexpected {other}: {}", res.text().await.unwrap()),
        }
    }
    assert_eq!(made, 25);
    let v = ok(
        app.get(&format!("/v1/market/listings/{lid}"), Some(&seller))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["stock"], 0);
}
on_both!(
    concurrent_accepts_never_oversell,
    super::concurrent_accepts_never_oversell
);

async fn demand_and_matching(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let admin = admin(&app).await;
    let (seller, _) = merchant(&app, &admin, "openid-m-ds", CODES[0]).await;
    let (buyer, _) = merchant(&app, &admin, "openid-m-db", CODES[1]).await;
    let resident = app.wechat_login("openid-m-dres").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let site =
        json!({ "lat": CENTRE.0 + 0.05, "lng": CENTRE.1 + 0.05, "address": "东昌府区某工地" });
    let demand = |qty: i64| {
        json!({ "product_type": "recycled_coarse_aggregate", "title": "求购再生粗骨料", "quantity": qty, "unit": "t",
        "max_price_fen": 5000, "district_code": DISTRICT, "site": site, "needed_by": Utc::now().date_naive() + Days::days(10) })
    };
    // Residents cannot post demand; bad values change nothing.
    let res = post(&app, "/v1/market/demands", &resident, &demand(10)).await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let mut bad = demand(10);
    bad["unit"] = json!("piece");
    bad["needed_by"] = json!(Utc::now().date_naive() - Days::days(1));
    bad["site"]["lat"] = json!(31.2);
    let res = post(&app, "/v1/market/demands", &buyer, &bad).await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in ["unit", "needed_by", "site.lat"] {
        assert!(fields.contains(&f), "{fields:?}");
    }
    let d = ok(
        post(&app, "/v1/market/demands", &buyer, &demand(30)).await,
        StatusCode::CREATED,
    )
    .await;
    let did = d["id"].as_str().unwrap().to_string();
    let open = ok(app.get("/v1/market/demands", None).await, StatusCode::OK).await;
    assert_eq!(ids(&open), std::slice::from_ref(&did));

    // A listing that reaches the site is matched and the buyer is told once.
    let near = published(&app, &seller, &admin, &listing_body("附近的再生粗骨料")).await;
    let mut far_body = listing_body("很远的再生粗骨料");
    far_body["delivery_radius_km"] = json!(1);
    published(&app, &seller, &admin, &far_body).await;
    let matches = ok(
        app.get(&format!("/v1/market/demands/{did}/matches"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    let matched: Vec<&str> = matches
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["listing"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(matched, [near["id"].as_str().unwrap()]);
    // Both sides hear of the pair once, whichever of the demand's and the listing's jobs
    // runs first.
    for (who, title) in [(&buyer, "有新的匹配产品"), (&seller, "有新的求购")] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let inbox = ok(
                app.get("/v1/notifications", Some(who)).await,
                StatusCode::OK,
            )
            .await;
            let told = inbox["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["title"] == title)
                .count();
            assert!(told <= 1, "told twice: {inbox}");
            if told == 1 {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never told {title}: {inbox}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // Closing it takes it off the public list; only its merchant closes it.
    let res = post(
        &app,
        &format!("/v1/market/demands/{did}/close"),
        &seller,
        &json!({}),
    )
    .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let closed = ok(
        post(
            &app,
            &format!("/v1/market/demands/{did}/close"),
            &buyer,
            &json!({ "fulfilled": true }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(closed["status"], "fulfilled");
    assert!(ids(&ok(app.get("/v1/market/demands", None).await, StatusCode::OK).await).is_empty());
    assert_eq!(
        app.get(&format!("/v1/market/demands/{did}"), None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let mine = ok(
        app.get("/v1/market/my/demands", Some(&buyer)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&mine), [did]);
}
on_both!(demand_and_matching, super::demand_and_matching);

async fn bad_input_changes_nothing(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let admin = admin(&app).await;
    let (seller, _) = merchant(&app, &admin, "openid-m-bad", CODES[0]).await;
    let (rival, _) = merchant(&app, &admin, "openid-m-bad2", CODES[1]).await;
    let theirs = upload_id(&app, &rival, "listing_photo").await;
    let before = ok(
        app.get("/v1/market/my/listings", Some(&seller)).await,
        StatusCode::OK,
    )
    .await;
    let mut cases = Vec::new();
    for (field, value) in [
        ("product_type", json!("gold")),
        ("unit", json!("piece")),
        ("price_fen", json!(0)),
        ("price_fen", json!(100_000_001)),
        ("stock", json!(-1)),
        ("delivery_radius_km", json!(501)),
        ("title", json!("")),
        ("photo_ids", json!([theirs])),
        ("photo_ids", json!(vec![theirs.clone(); 10])),
    ] {
        let mut b = listing_body("再生粗骨料");
        b[field] = value;
        cases.push(b);
    }
    let mut outside = listing_body("再生粗骨料");
    outside["plant"]["lat"] = json!(31.23);
    cases.push(outside);
    let mut unknown = listing_body("再生粗骨料");
    unknown["plant"]["district_code"] = json!("110101");
    cases.push(unknown);
    for b in cases {
        let res = post(&app, "/v1/market/listings", &seller, &b).await;
        assert!(res.status().is_client_error(), "{b}: {}", res.status());
        let p: Value = res.json().await.unwrap();
        assert!(p["code"].is_string(), "{p}");
    }
    // Unknown fields and malformed JSON are 4xx too.
    let mut extra = listing_body("再生粗骨料");
    extra["owner"] = json!("me");
    assert!(
        post(&app, "/v1/market/listings", &seller, &extra)
            .await
            .status()
            .is_client_error()
    );
    let res = app
        .client
        .post(app.url("/v1/market/listings"))
        .bearer_auth(&seller)
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let after = ok(
        app.get("/v1/market/my/listings", Some(&seller)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&before), ids(&after));

    // Search input of any content is answered or refused with 422, never a 5xx.
    let long = "再".repeat(101);
    let emoji =
        "♻️🧱 \"AND\" OR NOT title:x \\ ' ; DROP TABLE market_listings; -- _geoRadius(1,2,3)";
    for q in [long.as_str(), emoji, "   ", "\u{0}", "C30 AND 5-31.5mm"] {
        let res = app
            .client
            .get(app.url("/v1/market/listings"))
            .query(&[("q", q)])
            .send()
            .await
            .unwrap();
        assert!(
            res.status() == StatusCode::OK || res.status() == StatusCode::UNPROCESSABLE_ENTITY,
            "{q}: {}",
            res.status()
        );
    }
    let res = app
        .client
        .get(app.url("/v1/market/listings"))
        .query(&[("q", long.as_str())])
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    for query in [
        "sort=cheapest",
        "limit=0",
        "limit=51",
        "lat=36.4",
        "radius_km=10",
        "lat=95&lng=10",
        "min_price_fen=-1",
        "cursor=zzz",
        "cursor=o100000",
        "sort=distance",
        "certified=maybe",
    ] {
        let res = app.get(&format!("/v1/market/listings?{query}"), None).await;
        assert!(res.status().is_client_error(), "{query}: {}", res.status());
    }
}
on_both!(bad_input_changes_nothing, super::bad_input_changes_nothing);
