//! The public pages: every page type answers complete Chinese HTML with its title,
//! description, canonical link and Open Graph tags; hostile query strings come back
//! escaped; bad ones get a friendly 400 or 404 page, never a 5xx; pages and assets carry
//! their caching headers; the suggestion form sends through the domain (same-origin
//! only) and the elder mode is remembered.

use std::time::Duration;

use reqwest::{StatusCode, header};
use serde_json::json;

use crate::{
    flows::{CENTRE, DISTRICT, admins, resident},
    helpers::{Footprint, TestApp, ok},
    marketplace::{self, CODES},
    on_both,
};

/// What the seeded data is called, to find it on the pages.
const CELL: &str = "古楼街道东关社区";
const FACILITY: &str = "东昌府区再生资源分拣中心";
const LISTING: &str = "再生粗骨料 5-31.5mm";

/// Ids of what [`seed`] made.
struct Seeded {
    cell: String,
    facility: String,
    listing: String,
    merchant: String,
}

async fn seed(app: &TestApp) -> Seeded {
    let staff = admins(app).await;
    ok(
        app.post_json(
            "/v1/admin/indicators/industrial_solid_waste_utilisation_rate/values",
            Some(&staff.sup),
            &json!({ "year": 2024, "value": 68.5, "source": "市工业和信息化局年报" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let (alice, _) = resident(app, "openid-pages-cell").await;
    let applied = ok(
        app.post_json(
            "/v1/cell-applications",
            Some(&alice),
            &json!({
                "organisation": CELL, "kind": "zero_waste_community", "district_code": DISTRICT,
                "address": "东昌府区古楼街道", "lat": CENTRE.0, "lng": CENTRE.1,
                "description": "社区设置再生资源回收点，推行垃圾分类和积分兑换。"
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let cell = applied["id"].as_str().unwrap().to_string();
    ok(
        app.post_json(
            &format!("/v1/admin/cell-applications/{cell}/approve"),
            Some(&staff.local),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let facility = ok(
        app.post_json(
            "/v1/admin/facilities",
            Some(&staff.local),
            &json!({
                "name": FACILITY, "kind": "sorting_centre", "district_code": DISTRICT,
                "address": "东昌府区某路 1 号", "lat": CENTRE.0, "lng": CENTRE.1, "capacity": 120.0
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let market_admin = marketplace::admin(app).await;
    let (seller, merchant) =
        marketplace::merchant(app, &market_admin, "openid-pages-seller", CODES[0]).await;
    let listing = marketplace::published(
        app,
        &seller,
        &market_admin,
        &marketplace::listing_body(LISTING),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    Seeded {
        cell,
        facility,
        listing,
        merchant,
    }
}

/// GETs `path` as a browser would.
async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap()
}

/// The page at `path`: 200, HTML in Chinese, with `title` in its `<title>`.
async fn page(app: &TestApp, path: &str, title: &str) -> String {
    let res = get(app, path).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let ct = res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(ct.starts_with("text/html"), "{path}: {ct}");
    let body = res.text().await.unwrap();
    assert!(body.starts_with("<!doctype html>"), "{path}");
    assert!(body.contains("<html lang=\"zh-CN\""), "{path}");
    assert!(
        body.contains(&format!("<title>{title}")),
        "{path}: no title {title}"
    );
    for tag in [
        "<meta name=\"description\" content=\"",
        "<link rel=\"canonical\" href=\"http://",
        "<meta property=\"og:title\"",
        "<meta name=\"viewport\"",
        "</html>",
    ] {
        assert!(body.contains(tag), "{path}: no {tag}");
    }
    assert!(!body.contains("<script"), "{path}: pages need no script");
    body
}

/// An error page: `status`, HTML.
async fn error_page(app: &TestApp, path: &str, status: StatusCode) -> String {
    let res = get(app, path).await;
    assert_eq!(res.status(), status, "{path}");
    let ct = res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(ct.starts_with("text/html"), "{path}: {ct}");
    let body = res.text().await.unwrap();
    assert!(body.contains("<html lang=\"zh-CN\""), "{path}");
    assert!(body.contains("返回首页"), "{path}");
    body
}

/// Waits until the listings index shows the listing (the worker writes it).
async fn indexed(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let body = page(app, "/market", "再生产品供求").await;
        if body.contains(LISTING) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "never indexed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn every_page_type_answers_html(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let s = seed(&app).await;
    indexed(&app).await;
    let code = "industrial_solid_waste_utilisation_rate";
    let home = page(&app, "/", "首页").await;
    for path in [
        "/indicators",
        "/tasks",
        "/cells",
        "/facilities",
        "/stats",
        "/open-data",
        "/suggestions",
        "/market",
    ] {
        assert!(
            home.contains(&format!("href=\"{path}\"")),
            "home links {path}"
        );
    }
    // The home page's figures are the API's.
    let overview = ok(app.get("/v1/stats/overview", None).await, StatusCode::OK).await;
    for (id, value) in [
        ("cells", &overview["cells"]),
        ("facilities", &overview["facilities"]),
        ("listings", &overview["market"]["listings"]),
        ("month-weight", &overview["this_month"]["weight_t"]),
    ] {
        let marker = format!("id=\"fig-{id}\" data-value=\"");
        let at = home
            .find(&marker)
            .unwrap_or_else(|| panic!("no figure {id}"))
            + marker.len();
        let raw: f64 = home[at..].split('"').next().unwrap().parse().unwrap();
        assert_eq!(Some(raw), value.as_f64(), "{id}");
    }
    assert_eq!(overview["cells"], 1);

    let list = page(&app, "/indicators", "指标进展").await;
    assert!(list.contains("<progress"));
    assert!(list.contains(&format!("/indicators/{code}")));
    let one = page(
        &app,
        &format!("/indicators/{code}"),
        "一般工业固体废物综合利用率",
    )
    .await;
    assert!(one.contains("68.5") && one.contains("<svg class=\"chart\""));
    let tasks = page(&app, "/tasks", "任务清单").await;
    assert!(tasks.contains("<select id=\"lead_unit\""));
    let cells = page(&app, "/cells", "无废细胞").await;
    assert!(cells.contains(CELL) && cells.contains(&format!("/cells/{}", s.cell)));
    assert!(cells.contains("<svg class=\"map\""));
    page(&app, &format!("/cells/{}", s.cell), CELL).await;
    let facilities = page(&app, "/facilities", "设施地图").await;
    assert!(facilities.contains(FACILITY));
    page(&app, &format!("/facilities/{}", s.facility), FACILITY).await;
    let stats = page(&app, "/stats", "数据统计").await;
    assert!(stats.contains("<table class=\"data\"") && stats.contains("<svg class=\"chart\""));
    let open = page(&app, "/open-data", "开放数据").await;
    assert!(open.contains("/v1/open-data/recycling-records.csv"));
    let suggestions = page(&app, "/suggestions", "意见建议").await;
    for field in ["s-category", "s-district_code", "s-text", "s-contact"] {
        assert!(
            suggestions.contains(&format!("<label for=\"{field}\"")),
            "label {field}"
        );
    }
    let market = page(
        &app,
        "/market?q=骨料&certified=&sort=price_asc&min_price=10",
        "再生产品供求",
    )
    .await;
    assert!(market.contains(LISTING), "{market}");
    let listing = page(&app, &format!("/market/listings/{}", s.listing), LISTING).await;
    assert!(
        listing.contains("¥45.00/吨")
            && listing.contains(&format!("/market/merchants/{}", s.merchant))
    );
    page(
        &app,
        &format!("/market/merchants/{}", s.merchant),
        "聊城市再生建材有限公司",
    )
    .await;
    page(&app, "/market/demands", "求购信息").await;
}

on_both!(every_page_type, super::every_page_type_answers_html);

async fn bad_and_hostile_queries_get_pages(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    // Hostile text comes back escaped.
    let body = page(
        &app,
        "/market?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%27",
        "再生产品供求",
    )
    .await;
    assert!(!body.contains("<script>alert"));
    assert!(
        body.contains("&#60;script&#62;") || body.contains("&lt;script&gt;"),
        "escaped"
    );
    let body = page(&app, "/tasks?foo=%3Cb%3E&unknown=1", "任务清单").await;
    assert!(!body.contains("<b>"));
    // Bad filters, cursors and odd characters: a 400 page.
    for path in [
        "/cells?kind=zero_waste_moon",
        "/cells?cursor=not-a-cursor",
        "/facilities?kind=%00",
        "/indicators?measured_by=guess",
        "/tasks?status=finished",
        "/stats?from=2026-13",
        "/stats?from=2026-05&to=2026-01",
        "/suggestions?replied=maybe",
        "/market?min_price_fen=abc",
        "/market?sort=cheapest",
        "/market?cursor=99999999999",
        "/market?q=",
        "/market/demands?cursor=%FF%FE",
    ] {
        let res = get(&app, path).await;
        assert!(!res.status().is_server_error(), "{path}: {}", res.status());
        assert!(
            res.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
    }
    error_page(&app, "/cells?kind=zero_waste_moon", StatusCode::BAD_REQUEST).await;
    error_page(&app, "/market?cursor=99999999999", StatusCode::BAD_REQUEST).await;
    error_page(&app, "/stats?from=2026-13", StatusCode::BAD_REQUEST).await;
    // Unknown objects and paths: the 404 page.
    for path in [
        "/cells/not-a-uuid",
        "/cells/0190b8a4-0000-7000-8000-000000000000",
        "/facilities/0190b8a4-0000-7000-8000-000000000000",
        "/indicators/no_such_indicator",
        "/market/listings/%3Cscript%3E",
        "/market/merchants/0190b8a4-0000-7000-8000-000000000000",
        "/no-such-page",
        "/assets/pages.css",
    ] {
        let body = error_page(&app, path, StatusCode::NOT_FOUND).await;
        assert!(body.contains("页面不存在"), "{path}");
        assert!(!body.contains("<script>"), "{path}");
    }
    // Programs still get problem+json for unknown paths.
    let res = app.get("/v1/no-such-route", None).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
}

on_both!(
    bad_and_hostile_queries,
    super::bad_and_hostile_queries_get_pages
);

async fn pages_and_assets_are_cached(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let res = get(&app, "/indicators").await;
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers()[header::ETAG].to_str().unwrap().to_string();
    assert_eq!(res.headers()[header::CACHE_CONTROL], "public, max-age=60");
    assert_eq!(res.headers()[header::VARY], "Cookie");
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'self'; img-src 'self';"),
        "{csp}"
    );
    let body = res.text().await.unwrap();
    let again = app
        .client
        .get(app.url("/indicators"))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let head = app
        .client
        .head(app.url("/indicators"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()[header::ETAG].to_str().unwrap(), etag);
    // The style sheet: a hashed name, immutable for a year.
    let at = body.find("<link rel=\"stylesheet\" href=\"").unwrap() + 29;
    let css = body[at..].split('"').next().unwrap();
    assert!(
        css.starts_with("/assets/pages.") && css.ends_with(".css"),
        "{css}"
    );
    let res = app.client.get(app.url(css)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(
        res.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    // Sitemap and robots.
    let robots = app.client.get(app.url("/robots.txt")).send().await.unwrap();
    assert_eq!(robots.status(), StatusCode::OK);
    let robots = robots.text().await.unwrap();
    assert!(
        robots.contains(&format!("Sitemap: {}/sitemap.xml", app.address)),
        "{robots}"
    );
    assert!(robots.contains("Disallow: /v1/"));
    let sitemap = app
        .client
        .get(app.url("/sitemap.xml"))
        .send()
        .await
        .unwrap();
    assert_eq!(sitemap.status(), StatusCode::OK);
    assert!(
        sitemap.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    let sitemap = sitemap.text().await.unwrap();
    assert!(sitemap.starts_with("<?xml"));
    for path in [
        "/",
        "/indicators",
        "/indicators/industrial_solid_waste_utilisation_rate",
        "/market/demands",
    ] {
        assert!(
            sitemap.contains(&format!("<loc>{}{path}</loc>", app.address)),
            "{path}"
        );
    }
}

on_both!(pages_and_assets_cache, super::pages_and_assets_are_cached);

async fn the_form_sends_and_elder_mode_is_remembered(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let staff = admins(&app).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = [
        ("category", "recycling_service"),
        ("district_code", DISTRICT),
        ("text", "建议周末增加上门回收时段，电话 13912345678"),
        ("contact", "13912345678"),
    ];
    // From another site (or no origin at all): refused, nothing sent.
    for origin in [Some("https://evil.example"), None] {
        let mut req = client.post(app.url("/suggestions")).form(&form);
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    // A form missing its text comes back with the error and what was typed.
    let res = client
        .post(app.url("/suggestions"))
        .header(header::ORIGIN, &app.address)
        .form(&[
            ("category", "recycling_service"),
            ("text", ""),
            ("contact", "王<b>"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = res.text().await.unwrap();
    assert!(body.contains("请填写建议内容"), "{body}");
    assert!(
        body.contains("王&#60;b&#62;") || body.contains("王&lt;b&gt;"),
        "{body}"
    );
    let queue = ok(
        app.get("/v1/admin/suggestions", Some(&staff.local)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(queue["items"], json!([]));
    // From this site: sent, and a thank-you after the redirect.
    let res = client
        .post(app.url("/suggestions"))
        .header(header::ORIGIN, &app.address)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[header::LOCATION], "/suggestions?sent=1#sent");
    let thanks = page(&app, "/suggestions?sent=1", "意见建议").await;
    assert!(thanks.contains("感谢您的建议"));
    let queue = ok(
        app.get("/v1/admin/suggestions", Some(&staff.local)).await,
        StatusCode::OK,
    )
    .await;
    let id = queue["items"][0]["id"].as_str().unwrap().to_string();
    assert!(
        !page(&app, "/suggestions", "意见建议")
            .await
            .contains("周末增加上门回收")
    );
    ok(
        app.post_json(
            &format!("/v1/admin/suggestions/{id}/publish"),
            Some(&staff.local),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let list = page(&app, "/suggestions", "意见建议").await;
    assert!(list.contains("周末增加上门回收"));
    assert!(!list.contains("13912345678"), "the number is masked");

    // Elder mode: a cookie set by the header's form, sent back to where it was.
    let res = client
        .post(app.url("/display"))
        .header(
            header::REFERER,
            format!("{}/tasks?status=completed", app.address),
        )
        .form(&[("elder", "1"), ("back", "/tasks?status=completed")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[header::LOCATION], "/tasks?status=completed");
    let cookie = res.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.starts_with("wufei_elder=1") && cookie.contains("Max-Age="),
        "{cookie}"
    );
    let res = client
        .get(app.url("/"))
        .header(header::COOKIE, "wufei_elder=1")
        .send()
        .await
        .unwrap();
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("<html lang=\"zh-CN\" class=\"elder\">")
    );
    // Never back to another site.
    let res = client
        .post(app.url("/display"))
        .header(header::ORIGIN, &app.address)
        .form(&[("elder", "0"), ("back", "//evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()[header::LOCATION], "/");
}

on_both!(
    form_and_elder_mode,
    super::the_form_sends_and_elder_mode_is_remembered
);

/// The articles pages: the column list with filters and search, an article with its
/// sanitised body and attachment, the home page's latest block and the sitemap.
async fn articles_pages(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let staff = admins(&app).await;
    app.create_user(
        "13700000019",
        "district reviewer pw",
        wufei_domain::auth::Role::Admin,
        Some(wufei_domain::auth::AdminScope::District),
        Some(DISTRICT),
    )
    .await;
    let reviewer = app.login("13700000019", "district reviewer pw").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let article = ok(
        app.post_json(
            "/v1/admin/articles",
            Some(&staff.local),
            &json!({
                "title": "东昌府区<再生资源>回收周报",
                "category": "news",
                "body": "## 本周进展\n\n<script>alert(1)</script>\n\n回收再生资源 **12 吨**。<img src=x onerror=alert(1)>",
                "district_code": DISTRICT
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = article["id"].as_str().unwrap();
    for (token, step) in [(&staff.local, "submit"), (&reviewer, "publish")] {
        ok(
            app.post_json(
                &format!("/v1/admin/articles/{id}/{step}"),
                Some(token),
                &json!({}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
    }

    let list = page(&app, "/articles", "信息公开").await;
    assert!(
        list.contains("回收周报") && !list.contains("<再生资源>"),
        "escaped title"
    );
    assert!(list.contains(&format!("href=\"/articles/{id}\"")));
    let none = page(&app, "/articles?category=policy", "信息公开").await;
    assert!(none.contains("没有符合条件的文章"));
    let one = page(&app, &format!("/articles/{id}"), "东昌府区").await;
    assert!(!one.contains("<再生资源>"), "escaped title");
    assert!(one.contains("<h2>本周进展</h2>"), "the body's HTML");
    assert!(one.contains("<strong>12 吨</strong>"));
    assert!(!one.contains("onerror"), "cleaned on the way in");
    let home = page(&app, "/", "首页").await;
    assert!(
        home.contains(&format!("href=\"/articles/{id}\"")),
        "latest block"
    );
    let sitemap = get(&app, "/sitemap.xml").await.text().await.unwrap();
    assert!(sitemap.contains(&format!("/articles/{id}")));
    // The list is kept by the public cache, and an administrator's write moves it on.
    let again = page(&app, "/articles", "信息公开").await;
    assert!(again.contains(&format!("href=\"/articles/{id}\"")));
    ok(
        app.post_json(
            &format!("/v1/admin/articles/{id}/withdraw"),
            Some(&reviewer),
            &json!({ "reason": "更正" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let after = page(&app, "/articles", "信息公开").await;
    assert!(
        !after.contains(&format!("href=\"/articles/{id}\"")),
        "withdrawn at once"
    );
    error_page(&app, &format!("/articles/{id}"), StatusCode::NOT_FOUND).await;
    error_page(&app, "/articles?category=gossip", StatusCode::BAD_REQUEST).await;
    error_page(&app, "/articles/not-an-id", StatusCode::NOT_FOUND).await;
    error_page(
        &app,
        "/articles/0190f2c4-0000-7000-8000-000000000000",
        StatusCode::NOT_FOUND,
    )
    .await;
}
on_both!(articles_pages_tests, super::articles_pages);
