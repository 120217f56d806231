//! Faults a city's operations meet, injected while the production footprint works: Redis
//! restarting without its data, Redis down, PostgreSQL connections terminated, a worker
//! killed mid-job, several processes starting at once on a fresh database. Each test that
//! stops Redis runs its own `redis-server` on a free port, never the shared one; the
//! database faults act on the test's own database only.
//!
//! These need PostgreSQL (`WUFEI_TEST_DATABASE_URL`), the shared Redis
//! (`WUFEI_TEST_REDIS_URL`) and a `redis-server` binary; without the variables they say
//! they skipped. With the variables set but no `redis-server`, they fail: CI must not skip
//! them quietly.

use std::{
    collections::{BTreeMap, HashSet},
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use wufei_domain::{
    Platform,
    config::Settings,
    entities::{ledger_transaction, notification, outbox, pickup},
};

use crate::{
    flows::{CENTRE, address, category, recycler_at, resident, slot},
    helpers::{Footprint, TestApp, production_env},
    pickups::upload_two,
};

/// A `redis-server` of the test's own, on a free port, that the test may stop and start.
pub struct PrivateRedis {
    port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl PrivateRedis {
    /// Starts one, or returns `None` (saying so) when the production variables are unset.
    pub async fn start(test: &str) -> Option<Self> {
        if production_env().is_none() {
            eprintln!(
                "skipped: {test} (set WUFEI_TEST_DATABASE_URL and WUFEI_TEST_REDIS_URL; needs redis-server)"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = Self {
            port,
            child: None,
            dir: tempfile::tempdir().unwrap(),
        };
        redis.spawn().await;
        Some(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed for the fault tests (CI runs them)");
        self.child = Some(child);
        let client = redis::Client::open(self.url()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut c) = client.get_multiplexed_async_connection().await
                && redis::cmd("PING")
                    .query_async::<String>(&mut c)
                    .await
                    .is_ok()
            {
                return;
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills it (SIGKILL): it keeps nothing.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub async fn start_empty(&mut self) {
        self.stop();
        self.spawn().await;
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Settings for the fault tests: the app on the private Redis, with WeChat templates so
/// that notifications have deliveries to lose.
fn on_private_redis(redis: &PrivateRedis) -> impl FnOnce(&mut Settings) {
    let url = redis.url();
    move |s: &mut Settings| {
        s.redis_url = Some(url);
        s.wechat_templates
            .insert("pickup_status".into(), "TMPL-PICKUP".into());
        s.wechat_templates
            .insert("points".into(), "TMPL-POINTS".into());
        s.rate_limit_per_client = 1_000_000;
        s.rate_limit_per_user = 1_000_000;
    }
}

/// Status codes seen, by phase.
#[derive(Default)]
struct Seen(Mutex<BTreeMap<(&'static str, u16), usize>>);

impl Seen {
    fn count(&self, phase: &'static str, status: StatusCode) {
        *self
            .0
            .lock()
            .unwrap()
            .entry((phase, status.as_u16()))
            .or_default() += 1;
    }

    fn server_errors_other_than_503(&self) -> Vec<((&'static str, u16), usize)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|((_, s), _)| *s >= 500 && *s != 503)
            .map(|(k, v)| (*k, *v))
            .collect()
    }

    fn report(&self) -> String {
        format!("{:?}", self.0.lock().unwrap())
    }
}

/// A steady door-to-door load: residents book, recyclers send heartbeats, accept what they
/// are offered and complete what they hold, until stopped.
struct Load {
    app: Arc<TestApp>,
    seen: Arc<Seen>,
    phase: Arc<Mutex<&'static str>>,
    booked: Arc<Mutex<HashSet<String>>>,
    completed: Arc<Mutex<HashSet<String>>>,
}

impl Load {
    fn phase(&self) -> &'static str {
        *self.phase.lock().unwrap()
    }

    fn set_phase(&self, phase: &'static str) {
        *self.phase.lock().unwrap() = phase;
    }

    async fn residents(
        &self,
        stop: CancellationToken,
        residents: Vec<(String, Uuid)>,
        slots: Vec<Uuid>,
    ) {
        let paper = category(&self.app, "paper").await;
        let mut n = 0usize;
        while !stop.is_cancelled() {
            let (token, addr) = &residents[n % residents.len()];
            let slot = slots[n % slots.len()];
            n += 1;
            let res = self
                .app
                .client
                .post(self.app.url("/v1/pickups"))
                .bearer_auth(token)
                .json(&json!({ "address_id": addr, "slot_id": slot,
                    "items": [{ "category_id": paper, "estimated_weight_g": 3000 }] }))
                .timeout(Duration::from_secs(10))
                .send()
                .await;
            if let Ok(res) = res {
                self.seen.count(self.phase(), res.status());
                if res.status() == StatusCode::CREATED {
                    let p: Value = res.json().await.unwrap();
                    self.booked
                        .lock()
                        .unwrap()
                        .insert(p["id"].as_str().unwrap().to_string());
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn post(&self, path: &str, token: &str, body: &Value) -> Option<reqwest::Response> {
        let res = self
            .app
            .client
            .post(self.app.url(path))
            .bearer_auth(token)
            .json(body)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .ok()?;
        self.seen.count(self.phase(), res.status());
        Some(res)
    }

    async fn get(&self, path: &str, token: &str) -> Option<Value> {
        let res = self
            .app
            .client
            .get(self.app.url(path))
            .bearer_auth(token)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .ok()?;
        self.seen.count(self.phase(), res.status());
        if res.status() != StatusCode::OK {
            return None;
        }
        res.json().await.ok()
    }

    /// One recycler's day: a heartbeat, then every offer accepted and every pickup in
    /// hand moved on, every 200 ms.
    async fn recycler(&self, stop: CancellationToken, token: String, photos: Vec<String>) {
        let here = json!({ "lat": CENTRE.0 + 0.01, "lng": CENTRE.1 });
        while !stop.is_cancelled() {
            self.post("/v1/recycler/location", &token, &here).await;
            if let Some(offers) = self.get("/v1/recycler/offers", &token).await {
                for o in offers.as_array().into_iter().flatten() {
                    let path = format!("/v1/recycler/offers/{}/accept", o["id"].as_str().unwrap());
                    self.post(&path, &token, &json!({})).await;
                }
            }
            if let Some(page) = self.get("/v1/recycler/pickups?limit=100", &token).await {
                for p in page["items"].as_array().into_iter().flatten() {
                    let id = p["id"].as_str().unwrap();
                    let (step, body) = match p["status"].as_str().unwrap() {
                        "accepted" => ("depart", json!({})),
                        "en_route" => ("arrive", json!({})),
                        "arrived" => (
                            "complete",
                            json!({ "items": [{ "category_id": p["items"][0]["category_id"], "weight_g": 2500 }],
                                    "photo_ids": photos }),
                        ),
                        _ => continue,
                    };
                    let res = self
                        .post(&format!("/v1/recycler/pickups/{id}/{step}"), &token, &body)
                        .await;
                    if step == "complete" && res.is_some_and(|r| r.status() == StatusCode::OK) {
                        self.completed.lock().unwrap().insert(id.to_string());
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Counts pickups by status.
async fn statuses(app: &TestApp) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for p in pickup::Entity::find().all(&app.platform.db).await.unwrap() {
        *out.entry(p.status.as_str().to_owned()).or_default() += 1;
    }
    out
}

/// Redis stops for ten seconds under load and comes back without its data: no job is lost
/// (every booking dispatched, every completion settled, every notification delivered,
/// without restarting anything) and none is done twice (one settlement per pickup).
async fn redis_restarting_empty_loses_no_job() {
    let Some(mut redis) = PrivateRedis::start("redis_restarting_empty_loses_no_job").await else {
        return;
    };
    let app = Arc::new(TestApp::spawn_with(Footprint::Production, on_private_redis(&redis)).await);
    let mut residents = Vec::new();
    for i in 0..6 {
        let (token, _) = resident(&app, &format!("openid-fault-{i}")).await;
        let addr = address(&app, &token).await;
        residents.push((token, addr));
    }
    let mut slots = Vec::new();
    for h in [30, 32, 34] {
        slots.push(slot(&app, h, 200, 20).await);
    }
    let mut recyclers = Vec::new();
    for i in 0..2 {
        let (token, id) = recycler_at(
            &app,
            &format!("1390000100{i}"),
            "tricycle",
            CENTRE.0 + 0.01,
            CENTRE.1,
        )
        .await;
        app.platform
            .db
            .execute_unprepared(&format!(
                "UPDATE recyclers SET slot_capacity = 500 WHERE user_id = '{id}'"
            ))
            .await
            .unwrap();
        let photos = upload_two(&app, &token).await;
        recyclers.push((token, photos));
    }
    let load = Arc::new(Load {
        app: app.clone(),
        seen: Arc::default(),
        phase: Arc::new(Mutex::new("before")),
        booked: Arc::default(),
        completed: Arc::default(),
    });
    let booking = CancellationToken::new();
    let working = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    let residents = {
        let (load, stop) = (load.clone(), booking.clone());
        tokio::spawn(async move { load.residents(stop, residents, slots).await })
    };
    for (token, photos) in recyclers {
        let (load, stop) = (load.clone(), working.clone());
        tasks.spawn(async move { load.recycler(stop, token, photos).await });
    }

    tokio::time::sleep(Duration::from_secs(6)).await;
    load.set_phase("redis down");
    redis.stop();
    tokio::time::sleep(Duration::from_secs(10)).await;
    redis.start_empty().await;
    let back = Instant::now();
    load.set_phase("after");
    tokio::time::sleep(Duration::from_secs(6)).await;
    booking.cancel();
    // The bookings in flight when booking stops are counted too.
    residents.await.unwrap();

    // Within 60 s of Redis's return: everything booked is completed by the recyclers and
    // settled, and every notification has been delivered.
    let booked = load.booked.lock().unwrap().clone();
    let done = loop {
        let s = statuses(&app).await;
        let settled = s.get("settled").copied().unwrap_or(0);
        let pending_jobs = outbox::Entity::find()
            .count(&app.platform.db)
            .await
            .unwrap();
        let undelivered = notification::Entity::find()
            .filter(notification::Column::WechatState.is_in(["pending", "failed"]))
            .count(&app.platform.db)
            .await
            .unwrap();
        if settled == booked.len() as u64 && undelivered == 0 {
            break (s, pending_jobs);
        }
        if back.elapsed() >= Duration::from_secs(60) {
            for p in pickup::Entity::find()
                .filter(pickup::Column::Status.ne("settled"))
                .all(&app.platform.db)
                .await
                .unwrap()
            {
                eprintln!("stuck pickup {p:?}");
            }
            for o in outbox::Entity::find().all(&app.platform.db).await.unwrap() {
                eprintln!(
                    "outbox {} {} {} {:?} {:?}",
                    o.topic, o.payload, o.run_at, o.relayed_at, o.relayed_epoch
                );
            }
            for n in notification::Entity::find()
                .filter(notification::Column::WechatState.is_in(["pending", "failed"]))
                .all(&app.platform.db)
                .await
                .unwrap()
            {
                eprintln!("undelivered {n:?}");
            }
        }
        assert!(
            back.elapsed() < Duration::from_secs(60),
            "not recovered 60 s after Redis came back: {s:?}, {undelivered} notifications undelivered, {} booked; statuses seen {}",
            booked.len(),
            load.seen.report()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let recovered_in = back.elapsed();
    working.cancel();
    while tasks.join_next().await.is_some() {}

    // Nothing done twice: one settlement per pickup.
    let settlements = ledger_transaction::Entity::find()
        .filter(ledger_transaction::Column::Kind.eq("settlement"))
        .count(&app.platform.db)
        .await
        .unwrap();
    assert_eq!(settlements, booked.len() as u64, "settlements");
    assert!(
        load.seen.server_errors_other_than_503().is_empty(),
        "5xx other than 503: {}",
        load.seen.report()
    );
    eprintln!(
        "redis restart: {} bookings, all settled {:.1} s after Redis came back; pickups {:?}; outbox rows left {}; statuses {}",
        booked.len(),
        recovered_in.as_secs_f64(),
        done.0,
        done.1,
        load.seen.report()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarting_empty_under_load_loses_no_job() {
    redis_restarting_empty_loses_no_job().await;
}

/// While Redis is down, a request does not wait for it: the rate limiter fails open at
/// once, and `/readyz` says the queue failed. When it is back, so is readiness.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_down_requests_do_not_wait_for_it() {
    let Some(mut redis) =
        PrivateRedis::start("while_redis_is_down_requests_do_not_wait_for_it").await
    else {
        return;
    };
    let app = TestApp::spawn_with(Footprint::Production, on_private_redis(&redis)).await;
    let (token, _) = resident(&app, "openid-latency").await;
    let timed = |n: usize| {
        let app = &app;
        let token = token.clone();
        async move {
            let mut took = Vec::new();
            for _ in 0..n {
                let started = Instant::now();
                let res = app.get("/v1/me", Some(&token)).await;
                took.push(started.elapsed());
                assert_eq!(res.status(), StatusCode::OK, "GET /v1/me");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            took.sort();
            took
        }
    };
    let up = timed(20).await;
    redis.stop();
    let down = timed(60).await;
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = ready.json().await.unwrap();
    let failed: Vec<&str> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "failed")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["queue"], "{body}");
    let worst = *down.last().unwrap();
    let p50 = down[down.len() / 2];
    eprintln!(
        "GET /v1/me with Redis up: p50 {:?}, max {:?}; down: p50 {p50:?}, max {worst:?}",
        up[up.len() / 2],
        up.last().unwrap()
    );
    // One deadline (100 ms) at most, once per breaker cooldown; allow a loaded CI machine
    // its noise on top.
    assert!(
        worst < *up.last().unwrap() + Duration::from_millis(400),
        "a request waited {worst:?} for Redis"
    );
    assert!(
        p50 < up[up.len() / 2] + Duration::from_millis(50),
        "p50 {p50:?}"
    );

    redis.start_empty().await;
    crate::flows::eventually(10, || async {
        (app.get("/readyz", None).await.status() == StatusCode::OK).then_some(())
    })
    .await;
}

/// PostgreSQL terminates the connections of the test's database several times under load:
/// requests answer, or 503 with `Retry-After`, never 500; nothing is written twice.
async fn terminated_database_connections_answer_503_never_500(fp: Footprint) {
    let app = Arc::new(
        TestApp::spawn_with(fp, |s| {
            s.rate_limit_per_client = 1_000_000;
            s.rate_limit_per_user = 1_000_000;
        })
        .await,
    );
    let db_name = {
        let row = app
            .platform
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT current_database() AS name",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<String>("", "name").unwrap()
    };
    let admin = sea_orm::Database::connect(production_env().unwrap().0)
        .await
        .unwrap();
    let (token, _) = resident(&app, "openid-terminated").await;
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Seen::default());
    let created = Arc::new(Mutex::new(0usize));
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..4 {
        let (app, stop, seen, created, token) = (
            app.clone(),
            stop.clone(),
            seen.clone(),
            created.clone(),
            token.clone(),
        );
        tasks.spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let res = if worker % 2 == 0 && n % 10 == 0 {
                    app.post_json(
                        "/v1/me/addresses",
                        Some(&token),
                        &json!({ "label": format!("{worker}-{n}"), "contact_name": "王女士",
                            "contact_phone": "13912345678", "district_code": crate::flows::DISTRICT,
                            "community": "星光花园", "detail": "1号楼", "lat": CENTRE.0, "lng": CENTRE.1 }),
                    )
                    .await
                } else {
                    app.get(
                        ["/v1/pickups", "/v1/points/account", "/v1/me/addresses", "/v1/notifications"][n % 4],
                        Some(&token),
                    )
                    .await
                };
                let status = res.status();
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    assert_eq!(
                        res.headers().get("retry-after").and_then(|v| v.to_str().ok()),
                        Some("1"),
                        "a 503 says when to retry"
                    );
                }
                if status == StatusCode::CREATED {
                    *created.lock().unwrap() += 1;
                }
                seen.count("load", status);
            }
        });
    }
    let mut terminated = 0;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let rows = admin
            .query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                format!(
                    "SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity \
                     WHERE datname = '{db_name}' AND pid <> pg_backend_pid()"
                ),
            ))
            .await
            .unwrap();
        terminated += rows.len();
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, Ordering::Relaxed);
    while tasks.join_next().await.is_some() {}
    let _ = admin.close().await;
    assert!(terminated > 0, "no backend was terminated");
    assert!(
        seen.server_errors_other_than_503().is_empty(),
        "5xx other than 503 after terminating backends: {}",
        seen.report()
    );
    let res = app.get("/v1/me/addresses", Some(&token)).await;
    assert_eq!(res.status(), StatusCode::OK, "the pool recovered");
    let listed = res.json::<Value>().await.unwrap();
    let listed = listed["items"]
        .as_array()
        .map_or_else(|| listed.as_array().unwrap().len(), Vec::len);
    assert_eq!(
        listed,
        *created.lock().unwrap(),
        "addresses written = answered 201"
    );
    eprintln!(
        "terminated {terminated} backends in 4 rounds; statuses {}",
        seen.report()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_database_connections_answer_503() {
    if production_env().is_none() {
        eprintln!(
            "skipped: terminated database connections (set WUFEI_TEST_DATABASE_URL and WUFEI_TEST_REDIS_URL)"
        );
        return;
    }
    terminated_database_connections_answer_503_never_500(Footprint::Production).await;
}

/// A worker process dies holding jobs: another worker runs them within seconds, not after
/// the visibility timeout, and the dead one leaves the consumer group. The doomed worker
/// runs on a runtime of its own, shut down without letting anything finish (as SIGKILL
/// would: no ack, no fail, its sockets closed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_workers_jobs_run_again_within_seconds() {
    let Some(redis) = PrivateRedis::start("a_killed_workers_jobs_run_again_within_seconds").await
    else {
        return;
    };
    let url = redis.url();
    let mut app = TestApp::spawn_with(Footprint::Production, move |s| {
        s.redis_url = Some(url);
        s.wechat_templates
            .insert("pickup_status".into(), "TMPL-PICKUP".into());
        // The test plays the workers itself.
        s.queue_visibility_timeout_secs = 60;
    })
    .await;
    let mut people = Vec::new();
    for i in 0..6 {
        people.push(resident(&app, &format!("openid-killed-{i}")).await.1);
    }
    // The doomed worker is to be the only consumer: the in-process worker of `spawn_with`
    // is stopped before anything is staged.
    let settings = (*app.platform.settings).clone();
    app.wechat.hang(true);
    let doomed = std::thread::spawn({
        let settings = settings.clone();
        move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            rt.spawn(async move {
                let platform = Platform::build(settings).await.unwrap();
                let loops = platform.spawn_background("doomed-worker", CancellationToken::new());
                tx.send(()).unwrap();
                let _keep = (platform, loops);
                std::future::pending::<()>().await;
            });
            rx.recv().unwrap();
            rt
        }
    })
    .join()
    .unwrap();
    drop(app.take_worker());
    // Let the stopped worker's blocking read go away with its connection.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ids = crate::notifications::notify_committed(
        &app,
        people
            .iter()
            .map(|p| crate::notifications::new(*p, "pickup_status", "回收员已出发"))
            .collect(),
    )
    .await;
    // The doomed worker takes the deliveries and hangs on WeChat.
    crate::flows::eventually(20, || async {
        (app.wechat.send_attempts() >= ids.len()).then_some(())
    })
    .await;
    doomed.shutdown_background();
    let killed = Instant::now();
    app.wechat.hang(false);
    let _survivor = app.start_worker("survivor-worker").await;
    crate::flows::eventually(30, || async {
        let sent = notification::Entity::find()
            .filter(notification::Column::Id.is_in(ids.clone()))
            .filter(notification::Column::WechatState.eq("sent"))
            .count(&app.platform.db)
            .await
            .unwrap();
        (sent == ids.len() as u64).then_some(())
    })
    .await;
    let took = killed.elapsed();
    eprintln!(
        "a killed worker's {} jobs ran again {:.1} s after it died",
        ids.len(),
        took.as_secs_f64()
    );
    assert!(took < Duration::from_secs(12), "took {took:?}");

    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let stream = format!(
        "{}:q:{}",
        app.platform.settings.redis_prefix,
        wufei_domain::notifications::DELIVER
    );
    let consumers: Vec<Vec<redis::Value>> = redis::cmd("XINFO")
        .arg("CONSUMERS")
        .arg(&stream)
        .arg("workers")
        .query_async(&mut conn)
        .await
        .unwrap();
    let names: Vec<String> = consumers
        .iter()
        .filter_map(|c| redis::from_redis_value_ref::<String>(c.get(1)?).ok())
        .collect();
    assert!(
        !names.iter().any(|n| n == "doomed-worker"),
        "a dead consumer was left in the group: {names:?}"
    );
}

/// Two API instances and two workers start at the same moment on a fresh PostgreSQL
/// database, as a compose file or a rollout starts them: all four come up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_starting_together_on_a_fresh_database_all_come_up() {
    let Some((base, redis)) = production_env() else {
        eprintln!(
            "skipped: processes starting together (set WUFEI_TEST_DATABASE_URL and WUFEI_TEST_REDIS_URL)"
        );
        return;
    };
    let url = crate::helpers::fresh_postgres(&base).await;
    let prefix = format!("wufei-test-{}", Uuid::new_v4().simple());
    let dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut apis = Vec::new();
    for dir in &dirs[..2] {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_wufei-api"))
            .env("DATABASE_URL", &url)
            .env("REDIS_URL", &redis)
            .env("WUFEI_REDIS_PREFIX", &prefix)
            .env("WUFEI_DATA_DIR", dir.path())
            .env("WUFEI_BIND", format!("127.0.0.1:{port}"))
            .env("WUFEI_JWT_SECRET", "start-together-secret-start-together")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        apis.push((child, port));
    }
    let workers: Vec<_> = dirs[2..]
        .iter()
        .map(|dir| {
            let mut s = Settings {
                database_url: Some(url.clone()),
                redis_url: Some(redis.clone()),
                redis_prefix: prefix.clone(),
                data_dir: dir.path().to_path_buf(),
                jwt_secret: Some(wufei_domain::config::Secret::new(
                    "start-together-secret-start-together",
                )),
                ..Settings::default()
            };
            s.shutdown_grace_secs = 1;
            tokio::spawn(Platform::build(s))
        })
        .collect();
    for w in workers {
        let built = w.await.unwrap();
        assert!(built.is_ok(), "a worker failed to start: {:?}", built.err());
    }
    let client = reqwest::Client::new();
    for (child, port) in &mut apis {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                use std::io::Read;
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("an API instance exited with {status}: {err}");
            }
            if let Ok(r) = client
                .get(format!("http://127.0.0.1:{port}/readyz"))
                .send()
                .await
                && r.status().is_success()
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "an API instance did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    for (mut child, _) in apis {
        let _ = child.kill();
        let _ = child.wait();
    }
    let admin = sea_orm::Database::connect(&base).await.unwrap();
    let name = url.rsplit('/').next().unwrap();
    let _ = admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
}

/// The embedded footprint keeps recycler positions in memory, so a restart loses them: a
/// booking made right after it finds nobody on the map and waits, and the first heartbeat
/// of a recycler on shift puts them back and has it offered at once (no 10-minute wait
/// for the next try). Positions are not written to the database: a heartbeat every few
/// seconds would cost SQLite's one writer a write each, to save the seconds until the next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_embedded_restart_the_next_heartbeat_brings_bookings_their_offers() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    let same_dir = |dir: std::path::PathBuf| move |s: &mut Settings| s.data_dir = dir;
    let mut first = TestApp::spawn_with(Footprint::Embedded, same_dir(dir.clone())).await;
    let (token, addr) = {
        let (t, _) = resident(&first, "openid-restart").await;
        let a = address(&first, &t).await;
        (t, a)
    };
    let (recycler, _) =
        recycler_at(&first, "13900002001", "tricycle", CENTRE.0 + 0.01, CENTRE.1).await;
    let s = slot(&first, 30, 10, 2).await;
    let paper = category(&first, "paper").await;
    first.stop().await;
    drop(first);

    let app = TestApp::spawn_with(Footprint::Embedded, same_dir(dir)).await;
    let booked = crate::flows::book(&app, &token, addr, s, paper).await;
    assert_eq!(booked.status(), StatusCode::CREATED);
    let p: Value = booked.json().await.unwrap();
    assert_eq!(p["status"], "pending_dispatch");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        crate::flows::offers(&app, &recycler).await.is_empty(),
        "nobody is on the map before a heartbeat"
    );
    let res = app
        .post_json(
            "/v1/recycler/location",
            Some(&recycler),
            &json!({ "lat": CENTRE.0 + 0.01, "lng": CENTRE.1 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let id = p["id"].as_str().unwrap().to_string();
    crate::flows::eventually(10, || async {
        crate::flows::offers(&app, &recycler)
            .await
            .into_iter()
            .find(|o| o["pickup_id"] == id.as_str())
    })
    .await;
}
