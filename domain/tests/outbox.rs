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
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, TransactionTrait,
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
    /// The Redis key prefix, in the production footprint.
    prefix: String,
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
        prefix: String::new(),
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
    let link =
        wufei_domain::ports::redis_conn::RedisLink::new(redis::Client::open(redis_url).unwrap());
    let prefix = format!("wufei-o-{}", uuid::Uuid::new_v4().simple());
    let queue = RedisQueue::connect(&link, prefix.clone(), policy())
        .await
        .unwrap();
    Some(Setup {
        db: conn,
        queue: Arc::new(queue),
        prefix,
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
    assert_eq!(waiting(&s.db).await, 0);
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
    assert_eq!(waiting(&s.db).await, 1);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(relay.relay_once().await.unwrap(), 1);
    assert_eq!(waiting(&s.db).await, 0);
    let got = s
        .queue
        .receive("c", &["test.later".into()], 10, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, id);
    s.queue.ack(&got[0]).await.unwrap();
}

/// Outbox rows not yet handed to the queue.
async fn waiting(db: &DatabaseConnection) -> u64 {
    outbox_row::Entity::find()
        .filter(outbox_row::Column::RelayedAt.is_null())
        .count(db)
        .await
        .unwrap()
}

/// Every outbox row, relayed or not.
async fn rows(db: &DatabaseConnection) -> u64 {
    outbox_row::Entity::find().count(db).await.unwrap()
}

/// A queue that keeps its jobs in the database takes rows over for good; one outside
/// (Redis) leaves each row, marked relayed, until the runner reports its job done.
async fn a_relayed_row_stays_until_its_job_is_done(s: Setup) {
    let calls = Arc::new(AtomicU32::new(0));
    outbox::stage(&s.db, "test.done", json!({}), None)
        .await
        .unwrap();
    let relay = Relay::new(s.db.clone(), s.queue.clone(), Default::default());
    assert_eq!(relay.relay_once().await.unwrap(), 1);
    let kept = if s.queue.in_database() { 0 } else { 1 };
    assert_eq!(rows(&s.db).await, kept, "rows after relaying");
    let stop = CancellationToken::new();
    let mut runner = Runner::new(
        s.queue.clone(),
        "runner-done".into(),
        2,
        Metrics::new().unwrap(),
    )
    .register(
        "test.done",
        Arc::new(Counting {
            calls: calls.clone(),
            fail_first: 0,
        }),
    );
    if !s.queue.in_database() {
        runner = runner.reporting_done(outbox::Done::new(s.db.clone()));
    }
    let r = tokio::spawn(runner.run(stop.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while (calls.load(Ordering::SeqCst) < 1 || rows(&s.db).await > 0)
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.cancel();
    r.await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(rows(&s.db).await, 0, "the row of a done job is deleted");
}

/// What the queue lost is relayed again: the queue's store is emptied (as a Redis that
/// restarts without its data is) after a job was relayed and before it was done.
async fn jobs_the_queue_lost_are_relayed_again(s: Setup, empty_the_store: impl AsyncFnOnce()) {
    let id = outbox::stage(&s.db, "test.lost", json!({ "n": 9 }), None)
        .await
        .unwrap();
    let relay = Relay::new(s.db.clone(), s.queue.clone(), Default::default());
    assert_eq!(relay.relay_once().await.unwrap(), 1);
    assert_eq!(relay.recheck().await.unwrap(), 0, "nothing lost yet");
    empty_the_store().await;
    assert_eq!(
        relay.recheck().await.unwrap(),
        1,
        "the lost job is due again"
    );
    assert_eq!(relay.relay_once().await.unwrap(), 1);
    let got = s
        .queue
        .receive("c", &["test.lost".into()], 10, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, id);
    assert_eq!(
        relay.recheck().await.unwrap(),
        0,
        "relayed once more, not twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_redis_lost_are_relayed_again() {
    let Some(s) = production().await else {
        return;
    };
    let url = std::env::var("WUFEI_TEST_REDIS_URL").unwrap();
    let prefix = s.prefix.clone();
    jobs_the_queue_lost_are_relayed_again(s, async move || {
        let client = redis::Client::open(url).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}:*"))
            .query_async(&mut conn)
            .await
            .unwrap();
        for key in keys {
            redis::cmd("DEL")
                .arg(key)
                .query_async::<()>(&mut conn)
                .await
                .unwrap();
        }
    })
    .await;
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
on_both!(a_relayed_row_stays_until_its_job_is_done);
