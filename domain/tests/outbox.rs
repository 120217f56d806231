//! The transactional outbox, the relay and the runner, on the embedded footprint (SQLite +
//! the jobs table, through the production connection settings) and on PostgreSQL + Redis
//! when `WUFEI_TEST_DATABASE_URL` and `WUFEI_TEST_REDIS_URL` are set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait, TransactionTrait,
};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use wufei_domain::{
    db,
    entities::outbox as outbox_row,
    jobs::{JobHandler, Runner, outbox, relay::Relay},
    metrics::Metrics,
    ports::queue::{Delivery, Queue, QueuePolicy, embedded::EmbeddedQueue, redis::RedisQueue},
};

struct Setup {
    db: DatabaseConnection,
    queue: Arc<dyn Queue>,
    _dir: Option<tempfile::TempDir>,
}

fn policy() -> QueuePolicy {
    QueuePolicy {
        visibility_timeout: Duration::from_secs(2),
        max_attempts: 3,
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_millis(400),
    }
}

async fn embedded() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let conn = db::connect(&url, 1).await.unwrap();
    db::migrate(&conn).await.unwrap();
    Setup {
        queue: Arc::new(EmbeddedQueue::new(conn.clone(), policy())),
        db: conn,
        _dir: Some(dir),
    }
}

async fn production() -> Option<Setup> {
    let (Ok(base), Ok(redis_url)) = (
        std::env::var("WUFEI_TEST_DATABASE_URL"),
        std::env::var("WUFEI_TEST_REDIS_URL"),
    ) else {
        eprintln!(
            "skipped: outbox on PostgreSQL/Redis (set WUFEI_TEST_DATABASE_URL and WUFEI_TEST_REDIS_URL)"
        );
        return None;
    };
    let name = format!("wufei_o_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&base).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
    let conn = db::connect(&url, 5).await.unwrap();
    db::migrate(&conn).await.unwrap();
    let client = redis::Client::open(redis_url).unwrap();
    let prefix = format!("wufei-o-{}", uuid::Uuid::new_v4().simple());
    let queue = RedisQueue::connect(client, prefix, policy()).await.unwrap();
    Some(Setup {
        db: conn,
        queue: Arc::new(queue),
        _dir: None,
    })
}

async fn nothing_is_enqueued_when_the_transaction_rolls_back(s: Setup) {
    let txn = s.db.begin().await.unwrap();
    outbox::stage(&txn, "test.topic", json!({ "n": 1 }), None)
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    let relay = Relay::new(s.db.clone(), s.queue.clone(), Default::default());
    assert_eq!(relay.relay_once().await.unwrap(), 0);
    let got = s
        .queue
        .receive("c", &["test.topic".into()], 10, Duration::from_millis(300))
        .await
        .unwrap();
    assert!(got.is_empty(), "a rolled-back job was delivered: {got:?}");
}

async fn a_committed_job_is_relayed_once_with_its_id(s: Setup) {
    let txn = s.db.begin().await.unwrap();
    let id = outbox::stage(&txn, "test.topic", json!({ "n": 2 }), None)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    let relay = Relay::new(s.db.clone(), s.queue.clone(), Default::default());
    assert_eq!(relay.relay_once().await.unwrap(), 1);
    assert_eq!(outbox_row::Entity::find().count(&s.db).await.unwrap(), 0);
    assert_eq!(relay.relay_once().await.unwrap(), 0);
    let got = s
        .queue
        .receive("c", &["test.topic".into()], 10, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, id);
    assert_eq!(got[0].payload, json!({ "n": 2 }));
    s.queue.ack(&got[0]).await.unwrap();
}

async fn a_job_for_later_waits_in_the_outbox_until_it_is_due(s: Setup) {
    let due = chrono::Utc::now() + chrono::Duration::milliseconds(700);
    let txn = s.db.begin().await.unwrap();
    let id = outbox::stage(&txn, "test.later", json!({ "n": 3 }), Some(due))
        .await
        .unwrap();
    txn.commit().await.unwrap();
    let relay = Relay::new(s.db.clone(), s.queue.clone(), Default::default());
    assert_eq!(
        relay.relay_once().await.unwrap(),
        0,
        "relayed before it was due"
    );
    assert_eq!(outbox_row::Entity::find().count(&s.db).await.unwrap(), 1);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(relay.relay_once().await.unwrap(), 1);
    assert_eq!(outbox_row::Entity::find().count(&s.db).await.unwrap(), 0);
    let got = s
        .queue
        .receive("c", &["test.later".into()], 10, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, id);
    s.queue.ack(&got[0]).await.unwrap();
}

struct Counting {
    calls: Arc<AtomicU32>,
    fail_first: u32,
}

#[async_trait]
impl JobHandler for Counting {
    async fn handle(&self, _job: &Delivery) -> anyhow::Result<()> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n <= self.fail_first {
            anyhow::bail!("failing on purpose ({n})");
        }
        Ok(())
    }
}

async fn the_runner_retries_then_succeeds_and_stops_cleanly(s: Setup) {
    let calls = Arc::new(AtomicU32::new(0));
    let metrics = Metrics::new().unwrap();
    let stop = CancellationToken::new();
    let runner = Runner::new(s.queue.clone(), "runner-1".into(), 4, metrics.clone()).register(
        "test.flaky",
        Arc::new(Counting {
            calls: calls.clone(),
            fail_first: 1,
        }),
    );
    let relay = Relay::new(s.db.clone(), s.queue.clone(), Default::default());
    let r = tokio::spawn(runner.run(stop.clone()));
    let l = tokio::spawn(relay.run(stop.clone()));
    outbox::stage(&s.db, "test.flaky", json!({}), None)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while calls.load(Ordering::SeqCst) < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), async {
        r.await.unwrap();
        l.await.unwrap();
    })
    .await
    .expect("loops stop promptly on cancel");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "one failure, one success, nothing more"
    );
    let rendered = metrics.render();
    assert!(rendered.contains("outcome=\"retried\""), "{rendered}");
    assert!(rendered.contains("outcome=\"succeeded\""), "{rendered}");
    let depth = s.queue.depth().await.unwrap();
    assert_eq!(
        depth.ready + depth.in_flight + depth.delayed + depth.dead,
        0,
        "{depth:?}"
    );
}

macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                super::$name(super::embedded().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres_redis() {
                if let Some(s) = super::production().await {
                    super::$name(s).await;
                }
            }
        }
    };
}

on_both!(nothing_is_enqueued_when_the_transaction_rolls_back);
on_both!(a_committed_job_is_relayed_once_with_its_id);
on_both!(a_job_for_later_waits_in_the_outbox_until_it_is_due);
on_both!(the_runner_retries_then_succeeds_and_stops_cleanly);
