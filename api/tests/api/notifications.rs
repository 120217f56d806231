//! The inbox over HTTP and WeChat subscription-message delivery through the worker.

use std::{collections::HashSet, future::Future, time::Duration};

use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait, TransactionTrait};
use serde_json::{Value, json};
use uuid::Uuid;
use wufei_domain::{
    auth::Role,
    entities::{
        notification::{self, WechatState},
        outbox,
    },
    notifications::{NewNotification, notify},
};

use crate::{
    helpers::{Footprint, TestApp, assert_problem},
    on_both,
};

/// A signed-in user: access token and id.
struct User {
    token: String,
    id: Uuid,
}

fn user_of(pair: &Value) -> User {
    User {
        token: pair["access_token"].as_str().unwrap().to_string(),
        id: pair["user"]["id"].as_str().unwrap().parse().unwrap(),
    }
}

async fn resident(app: &TestApp, openid: &str) -> User {
    user_of(&app.wechat_login(openid).await)
}

pub fn new(user_id: Uuid, kind: &str, title: &str) -> NewNotification {
    NewNotification {
        user_id,
        kind: kind.into(),
        title: title.into(),
        body: format!("{title}: details"),
        data: json!({ "pickup_id": Uuid::now_v7() }),
    }
}

/// Creates notifications in one committed transaction, as a service would.
pub async fn notify_committed(app: &TestApp, items: Vec<NewNotification>) -> Vec<Uuid> {
    let txn = app.platform.db.begin().await.unwrap();
    let mut ids = Vec::new();
    for n in items {
        ids.push(notify(&txn, n).await.unwrap());
    }
    txn.commit().await.unwrap();
    app.platform.outbox_signal.committed();
    ids
}

async fn state(app: &TestApp, id: Uuid) -> (WechatState, Option<String>) {
    let n = notification::Entity::find_by_id(id)
        .one(&app.platform.db)
        .await
        .unwrap()
        .unwrap();
    (n.wechat_state, n.wechat_error)
}

/// Polls `check` until it holds, for at most 15 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn inbox(app: &TestApp, token: &str, query: &str) -> Value {
    let res = app
        .get(&format!("/v1/notifications{query}"), Some(token))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn with_templates(s: &mut wufei_domain::config::Settings) {
    s.wechat_templates
        .insert("pickup_status".into(), "TMPL-PICKUP".into());
}

async fn a_notification_reaches_its_owner_only(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let alice = resident(&app, "openid-alice").await;
    let bob = resident(&app, "openid-bob").await;
    let ids = notify_committed(&app, vec![new(alice.id, "pickup_status", "回收员已出发")]).await;

    let page = inbox(&app, &alice.token, "").await;
    assert_eq!(page["unread"], 1);
    assert_eq!(page["next_cursor"], Value::Null);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item["id"], ids[0].to_string());
    assert_eq!(item["kind"], "pickup_status");
    assert_eq!(item["title"], "回收员已出发");
    assert_eq!(item["body"], "回收员已出发: details");
    assert!(item["data"]["pickup_id"].is_string());
    assert_eq!(item["read"], false);
    assert!(item["created_at"].is_string());

    let other = inbox(&app, &bob.token, "").await;
    assert_eq!(other["items"], json!([]));
    assert_eq!(other["unread"], 0);

    let anonymous = app.get("/v1/notifications", None).await;
    assert_problem(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}
on_both!(
    a_notification_reaches_its_owner_only_tests,
    super::a_notification_reaches_its_owner_only
);

async fn cursor_paging_returns_every_item_exactly_once(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let alice = resident(&app, "openid-alice").await;
    let bob = resident(&app, "openid-bob").await;
    let mine: Vec<_> = (0..23)
        .map(|i| new(alice.id, "points", &format!("n{i}")))
        .collect();
    let created = notify_committed(&app, mine).await;
    notify_committed(&app, vec![new(bob.id, "points", "bob's")]).await;

    let mut seen = Vec::new();
    let mut times = Vec::new();
    let mut query = "?limit=7".to_string();
    loop {
        let page = inbox(&app, &alice.token, &query).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 7);
        for item in items {
            seen.push(item["id"].as_str().unwrap().parse::<Uuid>().unwrap());
            times.push(
                item["created_at"]
                    .as_str()
                    .unwrap()
                    .parse::<chrono::DateTime<chrono::Utc>>()
                    .unwrap(),
            );
        }
        match page["next_cursor"].as_str() {
            Some(c) => query = format!("?limit=7&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 23, "every item once");
    assert_eq!(
        seen.iter().collect::<HashSet<_>>(),
        created.iter().collect::<HashSet<_>>()
    );
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    let default = inbox(&app, &alice.token, "").await;
    assert_eq!(default["items"].as_array().unwrap().len(), 20);
    assert_eq!(default["unread"], 23);

    for bad in ["?limit=0", "?limit=101"] {
        let res = app
            .get(&format!("/v1/notifications{bad}"), Some(&alice.token))
            .await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    let res = app
        .get("/v1/notifications?limit=many", Some(&alice.token))
        .await;
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
    for bad in ["garbage", "MTIzOm5vdC1hLXV1aWQ"] {
        let res = app
            .get(
                &format!("/v1/notifications?cursor={bad}"),
                Some(&alice.token),
            )
            .await;
        assert_problem(res, StatusCode::BAD_REQUEST, "invalid_cursor").await;
    }
}
on_both!(
    cursor_paging_returns_every_item_exactly_once_tests,
    super::cursor_paging_returns_every_item_exactly_once
);

async fn read_and_read_all_touch_only_the_callers_notifications(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let alice = resident(&app, "openid-alice").await;
    let bob = resident(&app, "openid-bob").await;
    let ids = notify_committed(
        &app,
        (0..3)
            .map(|i| new(alice.id, "points", &format!("n{i}")))
            .collect(),
    )
    .await;
    let bobs = notify_committed(&app, vec![new(bob.id, "points", "bob's")]).await;
    let read = |id: Uuid, token: String| {
        let app = &app;
        async move {
            app.post_json(
                &format!("/v1/notifications/{id}/read"),
                Some(&token),
                &json!({}),
            )
            .await
        }
    };

    let res = read(ids[0], bob.token.clone()).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = read(Uuid::now_v7(), alice.token.clone()).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .post_json(
            "/v1/notifications/not-a-uuid/read",
            Some(&alice.token),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(inbox(&app, &alice.token, "").await["unread"], 3);

    assert_eq!(
        read(ids[0], alice.token.clone()).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        read(ids[0], alice.token.clone()).await.status(),
        StatusCode::NO_CONTENT
    );
    let page = inbox(&app, &alice.token, "").await;
    assert_eq!(page["unread"], 2);
    let first = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == ids[0].to_string())
        .unwrap();
    assert_eq!(first["read"], true);

    let res = app
        .post_json("/v1/notifications/read-all", Some(&bob.token), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(inbox(&app, &alice.token, "").await["unread"], 2);
    assert_eq!(inbox(&app, &bob.token, "").await["unread"], 0);
    let res = app
        .post_json("/v1/notifications/read-all", Some(&alice.token), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let page = inbox(&app, &alice.token, "").await;
    assert_eq!(page["unread"], 0);
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["read"] == true)
    );
    assert_eq!(bobs.len(), 1);
}
on_both!(
    read_and_read_all_touch_only_the_callers_notifications_tests,
    super::read_and_read_all_touch_only_the_callers_notifications
);

async fn the_worker_sends_the_configured_template_to_a_wechat_user(fp: Footprint) {
    let app = TestApp::spawn_with(fp, with_templates).await;
    let _worker = app.start_worker("worker-1").await;
    let alice = resident(&app, "openid-alice").await;
    app.create_user("13900000009", "a long password", Role::Recycler, None, None)
        .await;
    let recycler = user_of(&app.login("13900000009", "a long password").await);

    let mut with_page = new(alice.id, "pickup_status", "回收员已出发");
    with_page.data = json!({ "wechat": { "page": "pages/pickup/detail?id=7" } });
    let ids = notify_committed(
        &app,
        vec![
            new(
                alice.id,
                "pickup_status",
                "回收员已到达您家门口，请准备好可回收物品和纸箱",
            ),
            with_page,
            new(alice.id, "points", "积分到账"),
            new(recycler.id, "pickup_status", "no openid"),
        ],
    )
    .await;

    eventually("two messages", || async { app.wechat.sent().len() == 2 }).await;
    let sent = app.wechat.sent();
    let first = sent
        .iter()
        .find(|m| m["page"] == "pages/index/index")
        .expect("default page");
    assert_eq!(first["touser"], "openid-alice");
    assert_eq!(first["template_id"], "TMPL-PICKUP");
    assert_eq!(
        first["data"]["thing1"]["value"],
        "回收员已到达您家门口，请准备好可回收物…"
    );
    assert!(sent.iter().any(|m| m["page"] == "pages/pickup/detail?id=7"));

    for id in &ids[..2] {
        let id = *id;
        eventually("sent state", || async {
            state(&app, id).await.0 == WechatState::Sent
        })
        .await;
    }
    let no_template = ids[2];
    eventually("no template", || async {
        state(&app, no_template).await == (WechatState::None, Some("no_template".into()))
    })
    .await;
    let no_openid = ids[3];
    eventually("no openid", || async {
        state(&app, no_openid).await == (WechatState::None, Some("no_openid".into()))
    })
    .await;
    assert_eq!(app.wechat.sent().len(), 2);
    assert_eq!(app.wechat.token_fetches(), 1);
}
on_both!(
    the_worker_sends_the_configured_template_to_a_wechat_user_tests,
    super::the_worker_sends_the_configured_template_to_a_wechat_user
);

async fn a_user_without_wechat_gets_no_delivery_job(fp: Footprint) {
    let app = TestApp::spawn_with(fp, with_templates).await;
    let wechat = resident(&app, "openid-linked").await;
    app.create_user("13900000019", "a long password", Role::Recycler, None, None)
        .await;
    let phone_only = user_of(&app.login("13900000019", "a long password").await);

    // Read inside the transaction: what it staged, before any relay can move it.
    let txn = app.platform.db.begin().await.unwrap();
    let linked = notify(&txn, new(wechat.id, "pickup_status", "linked"))
        .await
        .unwrap();
    let unlinked = notify(&txn, new(phone_only.id, "pickup_status", "unlinked"))
        .await
        .unwrap();
    let staged: Vec<String> = outbox::Entity::find()
        .all(&txn)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.topic == "notify.deliver")
        .map(|r| r.payload)
        .collect();
    let rows: Vec<notification::Model> = notification::Entity::find().all(&txn).await.unwrap();
    txn.commit().await.unwrap();

    assert_eq!(staged.len(), 1, "one delivery job: {staged:?}");
    assert!(staged[0].contains(&linked.to_string()));
    let row = |id: Uuid| rows.iter().find(|n| n.id == id).unwrap().clone();
    assert_eq!(row(linked).wechat_state, WechatState::Pending);
    assert_eq!(row(linked).wechat_error, None);
    assert_eq!(row(unlinked).wechat_state, WechatState::None);
    assert_eq!(row(unlinked).wechat_error.as_deref(), Some("no_openid"));
    assert!(row(unlinked).wechat_updated_at.is_some());
    assert_eq!(row(unlinked).title, "unlinked");
    assert_eq!(row(unlinked).user_id, phone_only.id);
}
on_both!(
    a_user_without_wechat_gets_no_delivery_job_tests,
    super::a_user_without_wechat_gets_no_delivery_job
);

async fn a_refusing_user_is_not_retried_and_a_failure_is_recorded_and_retried(fp: Footprint) {
    let app = TestApp::spawn_with(fp, with_templates).await;
    let _worker = app.start_worker("worker-1").await;
    let refusing = resident(&app, "openid-refusing").await;
    let failing = resident(&app, "openid-failing").await;
    app.wechat.refuse("openid-refusing");
    app.wechat.fail("openid-failing");

    let ids = notify_committed(&app, vec![new(refusing.id, "pickup_status", "refused")]).await;
    let refused = ids[0];
    eventually("refused state", || async {
        state(&app, refused).await.0 == WechatState::Refused
    })
    .await;
    assert!(state(&app, refused).await.1.unwrap().contains("43101"));

    let ids = notify_committed(&app, vec![new(failing.id, "pickup_status", "fails")]).await;
    let failed = ids[0];
    eventually("failed state", || async {
        state(&app, failed).await.0 == WechatState::Failed
    })
    .await;
    assert!(state(&app, failed).await.1.unwrap().contains("errcode -1"));
    // The failing job is retried after a backoff of about a second; the refused one never.
    eventually("a retry of the failed job", || async {
        app.wechat.send_attempts() >= 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(state(&app, refused).await.0, WechatState::Refused);
    assert!(app.wechat.sent().is_empty());

    // Only the failing user's job ran more than once.
    let attempts_before = app.wechat.send_attempts();
    app.wechat.refuse("openid-failing");
    eventually("the failing user finally refuses", || async {
        state(&app, failed).await.0 == WechatState::Refused
    })
    .await;
    assert!(app.wechat.send_attempts() > attempts_before);
}
on_both!(
    a_refusing_user_is_not_retried_and_a_failure_is_recorded_and_retried_tests,
    super::a_refusing_user_is_not_retried_and_a_failure_is_recorded_and_retried
);

async fn the_access_token_is_fetched_once_and_again_after_40001(fp: Footprint) {
    let app = TestApp::spawn_with(fp, with_templates).await;
    // Two workers in production: the token is shared through Redis, not fetched per instance.
    let _worker1 = app.start_worker("worker-1").await;
    let _worker2 = app.start_worker("worker-2").await;
    let mut users = Vec::new();
    for i in 0..4 {
        users.push(resident(&app, &format!("openid-{i}")).await);
    }
    notify_committed(
        &app,
        users
            .iter()
            .map(|u| new(u.id, "pickup_status", "hello"))
            .collect(),
    )
    .await;
    eventually("four messages", || async { app.wechat.sent().len() == 4 }).await;
    assert_eq!(app.wechat.token_fetches(), 1);

    app.wechat.expire_token();
    notify_committed(&app, vec![new(users[0].id, "pickup_status", "again")]).await;
    eventually("the fifth message", || async {
        app.wechat.sent().len() == 5
    })
    .await;
    assert_eq!(app.wechat.token_fetches(), 2);
    assert_eq!(app.wechat.send_attempts(), 6, "one 40001, then the retry");
}
on_both!(
    the_access_token_is_fetched_once_and_again_after_40001_tests,
    super::the_access_token_is_fetched_once_and_again_after_40001
);

async fn a_rolled_back_transaction_leaves_no_notification_and_sends_nothing(fp: Footprint) {
    let app = TestApp::spawn_with(fp, with_templates).await;
    let _worker = app.start_worker("worker-1").await;
    let alice = resident(&app, "openid-alice").await;

    let txn = app.platform.db.begin().await.unwrap();
    notify(&txn, new(alice.id, "pickup_status", "rolled back"))
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    app.platform.outbox_signal.committed();

    // A committed one afterwards proves the worker ran while the rolled-back one did not.
    notify_committed(&app, vec![new(alice.id, "pickup_status", "committed")]).await;
    eventually("the committed message", || async {
        !app.wechat.sent().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = app.wechat.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["data"]["thing1"]["value"], "committed");
    let page = inbox(&app, &alice.token, "").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        notification::Entity::find()
            .count(&app.platform.db)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        outbox::Entity::find()
            .count(&app.platform.db)
            .await
            .unwrap(),
        0
    );
}
on_both!(
    a_rolled_back_transaction_leaves_no_notification_and_sends_nothing_tests,
    super::a_rolled_back_transaction_leaves_no_notification_and_sends_nothing
);
