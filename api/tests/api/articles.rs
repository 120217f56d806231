//! Articles of the disclosure column: the review with four eyes, sanitised bodies, district
//! scoping, PDF attachments, Chinese search, public caching, and column freshness.

use reqwest::StatusCode;
use serde_json::{Value, json};
use wufei_domain::auth::{AdminScope, Role};

use crate::{
    flows::{DISTRICT, OTHER_DISTRICT, admins, eventually, resident},
    helpers::{Footprint, TestApp, assert_problem, ok},
    on_both,
    uploads::{multipart_named, png, upload},
};

const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// A second administrator of [`DISTRICT`], to review what the first one writes.
async fn reviewer(app: &TestApp) -> String {
    app.create_user(
        "13700000009",
        "district reviewer pw",
        Role::Admin,
        Some(AdminScope::District),
        Some(DISTRICT),
    )
    .await;
    app.login("13700000009", "district reviewer pw").await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

fn news(title: &str, body: &str) -> Value {
    json!({ "title": title, "category": "news", "summary": "", "body": body, "district_code": DISTRICT })
}

async fn write(app: &TestApp, token: &str, article: &Value) -> Value {
    ok(
        app.post_json("/v1/admin/articles", Some(token), article)
            .await,
        StatusCode::CREATED,
    )
    .await
}

async fn step(app: &TestApp, token: &str, id: &str, step: &str) -> reqwest::Response {
    app.post_json(
        &format!("/v1/admin/articles/{id}/{step}"),
        Some(token),
        &json!({}),
    )
    .await
}

async fn publish(app: &TestApp, editor: &str, reviewer: &str, article: &Value) -> String {
    let a = write(app, editor, article).await;
    let id = a["id"].as_str().unwrap().to_string();
    ok(step(app, editor, &id, "submit").await, StatusCode::OK).await;
    let done = ok(step(app, reviewer, &id, "publish").await, StatusCode::OK).await;
    assert_eq!(done["review"]["status"], "published");
    id
}

async fn review_with_four_eyes(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let staff = admins(&app).await;
    let second = reviewer(&app).await;
    let (someone, _) = resident(&app, "openid-articles-reader").await;

    let hostile = "# 东昌府区上门回收提速\n\n<script>alert(1)</script>\n\n\
        本周再生资源回收量创新高。<img src=x onerror=alert(1)>\n\n\
        [链接](javascript:alert(1)) \
        <a href=\"https://www.liaocheng.gov.cn/\" onclick=\"x()\">市政府网站</a>\n\n\
        ![外部](https://tracker.example.com/p.gif)\n\n<iframe src=\"https://example.org\"></iframe>\n";
    let draft = write(&app, &staff.local, &news("上门回收服务提速", hostile)).await;
    let id = draft["id"].as_str().unwrap().to_string();
    let html = draft["body_html"].as_str().unwrap().to_lowercase();
    for banned in [
        "<script",
        "onerror",
        "onclick",
        "href=\"javascript",
        "<iframe",
        "src=\"https://tracker",
    ] {
        assert!(!html.contains(banned), "{banned} survived: {html}");
    }
    assert!(html.contains("<h1>东昌府区上门回收提速</h1>"));
    assert!(html.contains("href=\"https://www.liaocheng.gov.cn/\""));
    assert_eq!(draft["review"]["status"], "draft");
    assert!(
        draft["summary"]
            .as_str()
            .unwrap()
            .starts_with("东昌府区上门回收提速"),
        "summary from the body: {draft}"
    );

    // Nothing is public before it is published.
    let list = ok(app.get("/v1/articles", None).await, StatusCode::OK).await;
    assert_eq!(list["items"], json!([]));
    assert_problem(
        app.get(&format!("/v1/articles/{id}"), None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // District scoping: another district's administrator does not see it, cannot write
    // for this district, and only city-wide administrators write city-wide.
    assert_problem(
        app.get(&format!("/v1/admin/articles/{id}"), Some(&staff.other))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.patch_json(
            &format!("/v1/admin/articles/{id}"),
            Some(&staff.other),
            &json!({ "title": "被改了" }),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.post_json(
            "/v1/admin/articles",
            Some(&staff.other),
            &news("越权发布", "正文"),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let mut citywide = news("全市通知", "正文");
    citywide["district_code"] = Value::Null;
    assert_problem(
        app.post_json("/v1/admin/articles", Some(&staff.local), &citywide)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get("/v1/admin/articles", Some(&someone)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let others = ok(
        app.get("/v1/admin/articles", Some(&staff.other)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(others["items"], json!([]));

    // The review: the author cannot publish, nor publish a draft; another may.
    assert_problem(
        step(&app, &second, &id, "publish").await,
        StatusCode::CONFLICT,
        "illegal_transition",
    )
    .await;
    ok(
        step(&app, &staff.local, &id, "submit").await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        step(&app, &staff.local, &id, "publish").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let published = ok(step(&app, &second, &id, "publish").await, StatusCode::OK).await;
    assert_eq!(published["review"]["status"], "published");
    assert!(published["published_at"].is_string());

    // Public: list by column and district, one article without its review.
    let list = app.get("/v1/articles?category=news", None).await;
    let tag = list.headers()["etag"].to_str().unwrap().to_string();
    let list: Value = list.json().await.unwrap();
    assert_eq!(list["items"][0]["id"], id.as_str());
    assert!(list["items"][0].get("status").is_none());
    for (query, found) in [
        (format!("district_code={DISTRICT}"), true),
        ("district_code=city".into(), false),
        (format!("district_code={OTHER_DISTRICT}"), false),
        ("category=policy".into(), false),
    ] {
        let page = ok(
            app.get(&format!("/v1/articles?{query}"), None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            page["items"].as_array().unwrap().len(),
            usize::from(found),
            "{query}"
        );
    }
    let one = ok(
        app.get(&format!("/v1/articles/{id}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        one.get("review").is_none(),
        "the public sees no review: {one}"
    );
    assert_eq!(one["body_html"], published["body_html"]);
    let same = app
        .client
        .get(app.url("/v1/articles?category=news"))
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::NOT_MODIFIED);

    // Chinese keyword search through the search port.
    let found = eventually(15, || async {
        let page = ok(
            app.get("/v1/articles?q=%E5%86%8D%E7%94%9F%E8%B5%84%E6%BA%90", None)
                .await,
            StatusCode::OK,
        )
        .await;
        (page["items"].as_array().unwrap().len() == 1).then_some(page)
    })
    .await;
    assert_eq!(found["items"][0]["id"], id.as_str());

    // A published article is changed by withdrawing it first.
    assert_problem(
        app.patch_json(
            &format!("/v1/admin/articles/{id}"),
            Some(&staff.local),
            &json!({ "title": "改标题" }),
        )
        .await,
        StatusCode::CONFLICT,
        "withdraw_first",
    )
    .await;
    let withdrawn = ok(
        app.client
            .post(app.url(&format!("/v1/admin/articles/{id}/withdraw")))
            .bearer_auth(&second)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(withdrawn["review"]["status"], "withdrawn");
    let changed = app
        .client
        .get(app.url("/v1/articles?category=news"))
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK, "not a stale 304");
    assert_eq!(changed.json::<Value>().await.unwrap()["items"], json!([]));
    assert_problem(
        app.get(&format!("/v1/articles/{id}"), None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // The reviewer edits it: now a draft whose last editor is the reviewer, who therefore
    // cannot publish it; the author cannot either; the city-wide administrator can.
    let edited = ok(
        app.patch_json(
            &format!("/v1/admin/articles/{id}"),
            Some(&second),
            &json!({ "title": "上门回收服务再提速" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["review"]["status"], "draft");
    ok(step(&app, &second, &id, "submit").await, StatusCode::OK).await;
    for cannot in [&second, &staff.local] {
        assert_problem(
            step(&app, cannot, &id, "publish").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    let back = ok(
        app.post_json(
            &format!("/v1/admin/articles/{id}/send-back"),
            Some(&staff.sup),
            &json!({ "note": "请补充回收量数据" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(back["review"]["status"], "draft");
    assert_eq!(back["review"]["review_note"], "请补充回收量数据");
    ok(step(&app, &second, &id, "submit").await, StatusCode::OK).await;
    ok(step(&app, &staff.sup, &id, "publish").await, StatusCode::OK).await;

    // Every step is in the audit log.
    let log = ok(
        app.get(
            &format!("/v1/admin/audit-log?object_type=article&object_id={id}&limit=50"),
            Some(&staff.sup),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "article.create",
        "article.submit",
        "article.publish",
        "article.withdraw",
        "article.update",
        "article.send_back",
    ] {
        assert!(actions.contains(&action), "{action} not in {actions:?}");
    }
}
on_both!(review_with_four_eyes_tests, super::review_with_four_eyes);

async fn bad_input_changes_nothing(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let staff = admins(&app).await;
    for (body, field) in [
        (news("一", "正文"), "title"),
        (news("标题", "   "), "body"),
        (
            json!({ "title": "标题", "category": "news", "body": "正文", "district_code": "999999" }),
            "district_code",
        ),
        (
            json!({ "title": "标题", "category": "news", "body": "正文", "district_code": DISTRICT, "attachment_ids": ["0190f2c4-0000-7000-8000-000000000000"] }),
            "attachment_ids[0]",
        ),
    ] {
        let p = assert_problem(
            app.post_json("/v1/admin/articles", Some(&staff.sup), &body)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(p.to_string().contains(field), "{field} not named in {p}");
    }
    let res = app
        .post_json(
            "/v1/admin/articles",
            Some(&staff.sup),
            &json!({ "title": "标题", "category": "gossip", "body": "正文" }),
        )
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    for query in [
        "limit=0",
        "limit=101",
        "cursor=garbage",
        "cursor=p12.not-a-uuid",
        "status=draft",
        "district_code=%3Cscript%3E",
    ] {
        assert_problem(
            app.get(&format!("/v1/articles?{query}"), None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    let long = "废".repeat(101);
    assert_problem(
        app.get(&format!("/v1/articles?q={long}"), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let res = app.get("/v1/articles?category=gossip", None).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app.get("/v1/articles/not-a-uuid", None).await;
    assert!(res.status().is_client_error());
    // Nothing was written.
    let mine = ok(
        app.get("/v1/admin/articles", Some(&staff.sup)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["items"], json!([]));

    // The same Idempotency-Key twice writes one article.
    let send = || {
        app.client
            .post(app.url("/v1/admin/articles"))
            .bearer_auth(&staff.sup)
            .header("idempotency-key", "article-once-1")
            .json(&news("只写一次", "正文"))
            .send()
    };
    let first = ok(send().await.unwrap(), StatusCode::CREATED).await;
    let again = ok(send().await.unwrap(), StatusCode::CREATED).await;
    assert_eq!(first["id"], again["id"]);
    let mine = ok(
        app.get("/v1/admin/articles?status=draft", Some(&staff.sup))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
}
on_both!(
    bad_input_changes_nothing_tests,
    super::bad_input_changes_nothing
);

async fn upload_pdf(app: &TestApp, token: &str, name: &str, file: &[u8]) -> reqwest::Response {
    let (ct, body) = multipart_named(name, "application/pdf", file);
    app.client
        .post(app.url("/v1/admin/articles/attachments"))
        .bearer_auth(token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn pdf_attachments(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let staff = admins(&app).await;
    let second = reviewer(&app).await;
    let (someone, _) = resident(&app, "openid-articles-pdf").await;

    // Only PDFs, only from administrators, never with active content.
    assert_problem(
        upload_pdf(&app, &someone, "a.pdf", PDF).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        upload_pdf(&app, &staff.local, "a.pdf", &png(4, 4)).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_file_type",
    )
    .await;
    assert_problem(
        upload_pdf(
            &app,
            &staff.local,
            "a.pdf",
            b"%PDF-1.7\n<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>\n%%EOF\n",
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let file = ok(
        upload_pdf(&app, &staff.local, "../实施方案.pdf", PDF).await,
        StatusCode::CREATED,
    )
    .await;
    let file_id = file["id"].as_str().unwrap().to_string();
    assert_eq!(file["content_type"], "application/pdf");
    assert!(!file["filename"].as_str().unwrap().contains('/'), "{file}");

    // Another administrator cannot take it for their own article.
    let mut theirs = news("别人的附件", "正文");
    theirs["district_code"] = json!(OTHER_DISTRICT);
    theirs["attachment_ids"] = json!([file_id]);
    assert_problem(
        app.post_json("/v1/admin/articles", Some(&staff.other), &theirs)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    let cover = upload(&app, &staff.local, "listing_photo", &png(8, 8), None).await;
    let cover = ok(cover, StatusCode::CREATED).await["id"].clone();
    let mut article = news("聊城市无废城市建设实施方案", "全文见附件。");
    article["category"] = json!("policy");
    article["attachment_ids"] = json!([file_id]);
    article["cover_id"] = cover;
    let draft = write(&app, &staff.local, &article).await;
    let id = draft["id"].as_str().unwrap().to_string();
    assert_eq!(draft["attachments"][0]["id"], file_id.as_str());
    let url = draft["attachments"][0]["url"].as_str().unwrap().to_string();

    // Before publication: its administrators only.
    assert_eq!(app.get(&url, None).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&url, Some(&staff.other)).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&url, Some(&second)).await.status(), StatusCode::OK);

    ok(
        step(&app, &staff.local, &id, "submit").await,
        StatusCode::OK,
    )
    .await;
    ok(step(&app, &second, &id, "publish").await, StatusCode::OK).await;
    let res = app.get(&url, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
        "{h:?}"
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
    let tag = h["etag"].to_str().unwrap();
    let again = app
        .client
        .get(app.url(&url))
        .header("if-none-match", tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let public = ok(
        app.get(&format!("/v1/articles/{id}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(public["attachments"][0]["url"], url.as_str());
    assert!(
        public["cover_url"]
            .as_str()
            .unwrap()
            .starts_with("/v1/uploads/")
    );
}
on_both!(pdf_attachments_tests, super::pdf_attachments);

async fn columns_and_their_reminders(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let staff = admins(&app).await;
    let second = reviewer(&app).await;
    publish(&app, &staff.local, &second, &news("本周回收动态", "正文")).await;

    let public = ok(
        app.get(&format!("/v1/articles/columns?scope={DISTRICT}"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(public[0]["category"], "news");
    assert_eq!(public[0]["name"], "工作动态");
    assert!(public[0].get("age_days").is_none());
    let city = ok(app.get("/v1/articles/columns", None).await, StatusCode::OK).await;
    assert_eq!(city, json!([]));

    let mine = ok(
        app.get("/v1/admin/articles/columns", Some(&staff.local))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (mine[0]["age_days"].as_i64(), mine[0]["limit_days"].as_i64()),
        (Some(0), Some(14))
    );
    assert_eq!(mine[0]["freshness"], "fresh");
    let others = ok(
        app.get("/v1/admin/articles/columns", Some(&staff.other))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(others, json!([]));

    // Eleven days on, the news column is three days from stale: its administrators hear
    // of it once, however often the daily job runs.
    use wufei_domain::disclosure::articles::columns::remind;
    let later = chrono::Utc::now() + chrono::Duration::days(11);
    assert_eq!(remind(&app.platform.db, later).await.unwrap(), 1);
    assert_eq!(remind(&app.platform.db, later).await.unwrap(), 0);
    assert_eq!(
        remind(&app.platform.db, later + chrono::Duration::days(5))
            .await
            .unwrap(),
        0
    );
    let inbox = ok(
        app.get("/v1/notifications", Some(&staff.local)).await,
        StatusCode::OK,
    )
    .await;
    let reminders = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["title"] == "栏目即将超期未更新")
        .count();
    assert_eq!(reminders, 1, "{inbox}");
    let others = ok(
        app.get("/v1/notifications", Some(&staff.other)).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        !others.to_string().contains("栏目即将超期未更新"),
        "another district is not reminded"
    );
}
on_both!(
    columns_and_their_reminders_tests,
    super::columns_and_their_reminders
);

/// A publication through one instance is visible at the next request to another, with a
/// new ETag. Production footprint only.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_publication_is_visible_at_once_on_another_instance() {
    if crate::helpers::production_env().is_none() {
        eprintln!("skipped: two instances (set WUFEI_TEST_DATABASE_URL and WUFEI_TEST_REDIS_URL)");
        return;
    }
    let a = TestApp::spawn(Footprint::Production).await;
    let b = a.spawn_beside().await;
    let staff = admins(&a).await;
    let second = reviewer(&a).await;
    let first = b.get("/v1/articles", None).await;
    let tag = first.headers()["etag"].to_str().unwrap().to_string();
    let id = publish(&a, &staff.local, &second, &news("两台实例", "正文")).await;
    let res = b
        .client
        .get(b.url("/v1/articles"))
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "not a stale 304");
    assert_eq!(
        res.json::<Value>().await.unwrap()["items"][0]["id"],
        id.as_str()
    );
}

/// Anonymous public reads are answered from the instance's cache until an administrator's
/// write moves the generation: a change behind the API's back (straight into the database)
/// stays unseen by anonymous readers until then, while a signed-in read is always computed.
async fn public_reads_are_cached_until_an_admin_write(fp: Footprint) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    use wufei_domain::entities::article;

    let app = TestApp::spawn(fp).await;
    let staff = admins(&app).await;
    let second = reviewer(&app).await;
    let id = publish(&app, &staff.local, &second, &news("缓存前的标题", "正文")).await;
    let path = format!("/v1/articles/{id}");
    let title = |v: Value| v["title"].as_str().unwrap().to_string();
    assert_eq!(
        title(ok(app.get(&path, None).await, StatusCode::OK).await),
        "缓存前的标题"
    );
    article::Entity::update_many()
        .col_expr(article::Column::Title, Expr::value("库里改的标题"))
        .filter(article::Column::Id.eq(uuid::Uuid::parse_str(&id).unwrap()))
        .exec(&app.platform.db)
        .await
        .unwrap();
    assert_eq!(
        title(ok(app.get(&path, None).await, StatusCode::OK).await),
        "缓存前的标题",
        "served from the cache"
    );
    assert_eq!(
        title(ok(app.get(&path, Some(&staff.sup)).await, StatusCode::OK).await),
        "库里改的标题",
        "a signed-in read is computed"
    );
    // Any administrator's write moves the generation.
    ok(
        app.post_json(
            "/v1/admin/facilities",
            Some(&staff.local),
            &json!({
                "name": "东昌府区回收站", "kind": "recycling_station", "district_code": DISTRICT,
                "address": "东昌府区某路 2 号", "lat": 36.4560, "lng": 115.9850
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        title(ok(app.get(&path, None).await, StatusCode::OK).await),
        "库里改的标题"
    );
}
on_both!(
    public_reads_are_cached_until_an_admin_write_tests,
    super::public_reads_are_cached_until_an_admin_write
);
