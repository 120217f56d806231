//! The queue port's conformance suite: every case runs against every adapter —
//! `EmbeddedQueue` on SQLite (always), `EmbeddedQueue` on PostgreSQL (when
//! `WUFEI_TEST_DATABASE_URL` is set) and `RedisQueue` (when `WUFEI_TEST_REDIS_URL` is set).
//! Cases are written once over `Arc<dyn Queue>`; a test opens several queue instances on one
//! store to play several processes.

// A test that cannot set up or whose backend errors should panic on the spot.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use support::queue::{Harness, policy};
use tokio::time::Instant;
use uuid::Uuid;
use wufei_domain::ports::queue::{FailOutcome, NewJob, Queue, QueueDepth, QueuePolicy};

fn topics(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn job(topic: &str, payload: serde_json::Value) -> NewJob {
    NewJob {
        id: Uuid::new_v4(),
        topic: topic.to_owned(),
        payload,
        run_at: None,
    }
}

fn depth(ready: u64, delayed: u64, in_flight: u64, dead: u64) -> QueueDepth {
    QueueDepth {
        ready,
        delayed,
        in_flight,
        dead,
    }
}

/// Longer than the test policy's visibility timeout.
const PAST_VISIBILITY: Duration = Duration::from_millis(1_500);

async fn acked_job_is_delivered_once_and_never_again(h: &Harness) {
    let q = h.queue().await;
    let t = topics(&["pickup.dispatch"]);
    let sent = job("pickup.dispatch", json!({"order": 42, "note": "二楼"}));
    q.enqueue(sent.clone()).await.unwrap();
    assert_eq!(q.depth().await.unwrap(), depth(1, 0, 0, 0));

    let got = q
        .receive("w1", &t, 10, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, sent.id);
    assert_eq!(got[0].topic, sent.topic);
    assert_eq!(got[0].payload, sent.payload);
    assert_eq!(got[0].attempt, 1);
    assert!(!got[0].receipt.is_empty());
    assert_eq!(q.depth().await.unwrap(), depth(0, 0, 1, 0));

    q.ack(&got[0]).await.unwrap();
    assert_eq!(q.depth().await.unwrap(), depth(0, 0, 0, 0));
    let again = q.receive("w1", &t, 10, PAST_VISIBILITY).await.unwrap();
    assert!(again.is_empty(), "acked job came back: {again:?}");
    let again = q
        .receive("w2", &t, 10, Duration::from_millis(300))
        .await
        .unwrap();
    assert!(again.is_empty(), "acked job came back: {again:?}");
}

async fn job_of_a_killed_consumer_is_redelivered_after_visibility_timeout(h: &Harness) {
    let t = topics(&["points.settle"]);
    let sent = job("points.settle", json!({"order": 7}));
    let first = h.queue().await;
    first.enqueue(sent.clone()).await.unwrap();
    // Before the call: the lease starts inside it, and a slow call (a busy machine) must
    // not make a punctual redelivery look early.
    let leased_at = Instant::now();
    let got = first
        .receive("doomed", &t, 1, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].attempt, 1);
    drop(first);

    let second = h.queue().await;
    let early = second
        .receive("survivor", &t, 1, Duration::ZERO)
        .await
        .unwrap();
    assert!(
        early.is_empty(),
        "redelivered inside the visibility timeout"
    );

    let again = second
        .receive("survivor", &t, 1, Duration::from_secs(4))
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "job lost after its consumer died");
    assert!(leased_at.elapsed() >= policy().visibility_timeout);
    assert_eq!(again[0].id, sent.id);
    assert_eq!(again[0].payload, sent.payload);
    assert_eq!(again[0].attempt, 2);

    // The dead consumer's late ack must not remove the new lease.
    let stale = got[0].clone();
    let third = h.queue().await;
    third.ack(&stale).await.unwrap();
    assert_eq!(second.depth().await.unwrap(), depth(0, 0, 1, 0));

    second.ack(&again[0]).await.unwrap();
    assert_eq!(second.depth().await.unwrap(), depth(0, 0, 0, 0));
    let none = second
        .receive("survivor", &t, 1, PAST_VISIBILITY)
        .await
        .unwrap();
    assert!(none.is_empty());
}

async fn concurrent_consumers_get_disjoint_jobs_covering_all(h: &Harness) {
    let long = QueuePolicy {
        visibility_timeout: Duration::from_secs(30),
        ..policy()
    };
    let t = topics(&["dispatch.offer"]);
    let producer = h.queue_with(long).await;
    let mut sent = HashSet::new();
    for i in 0..50 {
        let j = job("dispatch.offer", json!({ "i": i }));
        sent.insert(j.id);
        producer.enqueue(j).await.unwrap();
    }

    let consume = |q: Arc<dyn Queue>, name: &'static str, t: Vec<String>| {
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut idle = 0;
            while idle < 3 {
                let got = q
                    .receive(name, &t, 5, Duration::from_millis(300))
                    .await
                    .unwrap();
                if got.is_empty() {
                    idle += 1;
                    continue;
                }
                idle = 0;
                for d in got {
                    assert_eq!(d.attempt, 1);
                    seen.push(d.id);
                    q.ack(&d).await.unwrap();
                }
            }
            seen
        })
    };
    let a = consume(h.queue_with(long).await, "a", t.clone());
    let b = consume(h.queue_with(long).await, "b", t.clone());
    let (a, b) = (a.await.unwrap(), b.await.unwrap());

    let a_set: HashSet<Uuid> = a.iter().copied().collect();
    let b_set: HashSet<Uuid> = b.iter().copied().collect();
    assert_eq!(a_set.len(), a.len(), "consumer a got a job twice");
    assert_eq!(b_set.len(), b.len(), "consumer b got a job twice");
    assert!(a_set.is_disjoint(&b_set), "both consumers got the same job");
    let all: HashSet<Uuid> = a_set.union(&b_set).copied().collect();
    assert_eq!(all, sent);
    assert_eq!(producer.depth().await.unwrap(), depth(0, 0, 0, 0));
}

async fn failed_job_is_retried_after_backoff_then_dead_lettered(h: &Harness) {
    let p = policy();
    let q = h.queue().await;
    let t = topics(&["notify.sms"]);
    let sent = job("notify.sms", json!({"to": "138****0000"}));
    q.enqueue(sent.clone()).await.unwrap();

    let mut delivery = q
        .receive("w", &t, 1, Duration::from_secs(2))
        .await
        .unwrap()
        .remove(0);
    for attempt in 1..p.max_attempts {
        assert_eq!(delivery.attempt, attempt);
        assert_eq!(q.depth().await.unwrap(), depth(0, 0, 1, 0));
        // Taken before the call: the adapter dates the retry from inside it, and a slow call
        // (a busy machine) must not make a punctual retry look early.
        let failed_at = Instant::now();
        let outcome = q.fail(&delivery, &format!("boom {attempt}")).await.unwrap();
        assert_eq!(
            outcome,
            FailOutcome::Retrying {
                after: p.backoff(attempt)
            }
        );
        assert_eq!(q.depth().await.unwrap(), depth(0, 1, 0, 0));
        let early = q.receive("w", &t, 1, Duration::ZERO).await.unwrap();
        assert!(early.is_empty(), "retried before its backoff");

        let mut got = q.receive("w", &t, 1, Duration::from_secs(3)).await.unwrap();
        assert_eq!(got.len(), 1, "failed job was not retried");
        assert!(
            failed_at.elapsed() + Duration::from_millis(20) >= p.backoff(attempt),
            "retried after {:?}, backoff is {:?}",
            failed_at.elapsed(),
            p.backoff(attempt)
        );
        delivery = got.remove(0);
        assert_eq!(delivery.id, sent.id);
        assert_eq!(delivery.payload, sent.payload);
    }
    assert_eq!(delivery.attempt, p.max_attempts);
    let outcome = q.fail(&delivery, "gateway down").await.unwrap();
    assert_eq!(outcome, FailOutcome::DeadLettered);
    assert_eq!(q.depth().await.unwrap(), depth(0, 0, 0, 1));

    let dead = q.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].id, sent.id);
    assert_eq!(dead[0].topic, sent.topic);
    assert_eq!(dead[0].payload, sent.payload);
    assert_eq!(dead[0].attempts, p.max_attempts);
    assert_eq!(dead[0].last_error, "gateway down");

    let none = q.receive("w", &t, 1, PAST_VISIBILITY).await.unwrap();
    assert!(
        none.is_empty(),
        "dead-lettered job delivered again: {none:?}"
    );
    assert_eq!(q.depth().await.unwrap(), depth(0, 0, 0, 1));
}

async fn delayed_job_is_delivered_at_its_time_not_before(h: &Harness) {
    let q = h.queue().await;
    let t = topics(&["offer.timeout"]);
    let run_at = Utc::now() + chrono::Duration::milliseconds(700);
    let sent = NewJob {
        run_at: Some(run_at),
        ..job("offer.timeout", json!({"offer": 1}))
    };
    q.enqueue(sent.clone()).await.unwrap();
    assert_eq!(q.depth().await.unwrap(), depth(0, 1, 0, 0));

    let early = q
        .receive("w", &t, 1, Duration::from_millis(300))
        .await
        .unwrap();
    assert!(early.is_empty(), "delayed job delivered early");
    let got = q.receive("w", &t, 1, Duration::from_secs(3)).await.unwrap();
    assert_eq!(got.len(), 1, "delayed job never delivered");
    assert!(Utc::now() >= run_at, "delivered before run_at");
    assert_eq!(got[0].id, sent.id);
    assert_eq!(got[0].attempt, 1);
    q.ack(&got[0]).await.unwrap();
}

async fn waiting_receiver_wakes_promptly_on_enqueue(h: &Harness) {
    let q = h.queue().await;
    let t = topics(&["pickup.created"]);
    let receiver = {
        let q = q.clone();
        let t = t.clone();
        tokio::spawn(async move {
            let got = q
                .receive("w", &t, 1, Duration::from_secs(10))
                .await
                .unwrap();
            (got, Instant::now())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = job("pickup.created", json!({}));
    let enqueued_at = Instant::now();
    q.enqueue(sent.clone()).await.unwrap();
    let (got, returned_at) = tokio::time::timeout(Duration::from_secs(5), receiver)
        .await
        .expect("receive did not return well before its wait")
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, sent.id);
    let latency = returned_at.duration_since(enqueued_at);
    assert!(
        latency < Duration::from_millis(1_000),
        "woke after {latency:?}"
    );
}

async fn consumer_of_one_topic_never_receives_another(h: &Harness) {
    let q = h.queue().await;
    let a = job("topic.a", json!({"t": "a"}));
    let b = job("topic.b", json!({"t": "b"}));
    q.enqueue(b.clone()).await.unwrap();
    q.enqueue(a.clone()).await.unwrap();

    let got = q
        .receive("w", &topics(&["topic.a"]), 10, Duration::from_millis(500))
        .await
        .unwrap();
    assert_eq!(got.iter().map(|d| d.id).collect::<Vec<_>>(), vec![a.id]);
    q.ack(&got[0]).await.unwrap();
    let more = q
        .receive("w", &topics(&["topic.a"]), 10, Duration::from_millis(300))
        .await
        .unwrap();
    assert!(more.is_empty(), "topic.a consumer got {more:?}");

    let got = q
        .receive("w", &topics(&["topic.b"]), 10, Duration::from_millis(500))
        .await
        .unwrap();
    assert_eq!(got.iter().map(|d| d.id).collect::<Vec<_>>(), vec![b.id]);
    assert_eq!(got[0].topic, "topic.b");
}

async fn a_batch_is_enqueued_whole_and_spread_over_topics_without_loss(h: &Harness) {
    let q = h.queue().await;
    let t = topics(&["batch.a", "batch.b", "batch.c"]);
    let mut sent = HashSet::new();
    let mut batch = Vec::new();
    for i in 0..9 {
        let j = job(["batch.a", "batch.b", "batch.c"][i % 3], json!({ "i": i }));
        sent.insert(j.id);
        batch.push(j);
    }
    let later = NewJob {
        run_at: Some(Utc::now() + chrono::Duration::seconds(60)),
        ..job("batch.a", json!({"later": true}))
    };
    batch.push(later);
    q.enqueue_many(batch).await.unwrap();
    assert_eq!(q.depth().await.unwrap(), depth(9, 1, 0, 0));

    // One at a time over three topics: a read may fetch more than asked for, and none of
    // it may be lost or handed out twice.
    let mut seen = HashSet::new();
    let started = Instant::now();
    while seen.len() < sent.len() && started.elapsed() < Duration::from_secs(10) {
        let got = q
            .receive("w", &t, 1, Duration::from_millis(500))
            .await
            .unwrap();
        assert!(got.len() <= 1, "asked for one, got {}", got.len());
        for d in got {
            assert!(seen.insert(d.id), "job {} handed out twice", d.id);
            q.ack(&d).await.unwrap();
        }
    }
    assert_eq!(seen, sent);
    assert_eq!(q.depth().await.unwrap(), depth(0, 1, 0, 0));
}

/// A consumer whose process died (no liveness key any more) has its jobs taken over within
/// seconds, however long the visibility timeout, and leaves the consumer group. Redis only:
/// the embedded queue has one process, which ends the leases of its predecessor at start
/// (`embedded_a_restart_ends_the_leases_of_the_process_before`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_jobs_of_a_dead_consumer_are_taken_over_within_seconds() {
    let Some(h) = Harness::open(support::queue::Backend::Redis, "dead consumer").await else {
        return;
    };
    let long = QueuePolicy {
        visibility_timeout: Duration::from_secs(60),
        ..policy()
    };
    let t = topics(&["points.settle"]);
    let sent = job("points.settle", json!({"order": 8}));
    let first = h.queue_with(long).await;
    first.enqueue(sent.clone()).await.unwrap();
    let got = first
        .receive("killed", &t, 1, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    drop(first);
    let died = Instant::now();

    let second = h.queue_with(long).await;
    let mut again = Vec::new();
    while again.is_empty() && died.elapsed() < Duration::from_secs(15) {
        again = second
            .receive("alive", &t, 1, Duration::from_millis(500))
            .await
            .unwrap();
    }
    let took = died.elapsed();
    assert_eq!(again.len(), 1, "the dead consumer's job was not taken over");
    assert_eq!(again[0].id, sent.id);
    assert_eq!(again[0].attempt, 2);
    assert!(
        took < wufei_domain::ports::queue::redis::ALIVE_TTL + Duration::from_secs(3),
        "taken over after {took:?}"
    );
    second.ack(&again[0]).await.unwrap();

    let (client, prefix) = h.redis().unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let consumers: Vec<Vec<::redis::Value>> = ::redis::cmd("XINFO")
        .arg("CONSUMERS")
        .arg(format!("{prefix}:q:points.settle"))
        .arg("workers")
        .query_async(&mut conn)
        .await
        .unwrap();
    let names: Vec<String> = consumers
        .iter()
        .filter_map(|c| ::redis::from_redis_value_ref::<String>(c.get(1)?).ok())
        .collect();
    assert_eq!(
        names,
        vec!["alive".to_string()],
        "dead consumers left in the group"
    );
    h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_a_restart_ends_the_leases_of_the_process_before() {
    let Some(h) = Harness::open(support::queue::Backend::Sqlite, "restart").await else {
        return;
    };
    let long = QueuePolicy {
        visibility_timeout: Duration::from_secs(60),
        ..policy()
    };
    let t = topics(&["points.settle"]);
    let sent = job("points.settle", json!({"order": 9}));
    let first = h.embedded_with(long);
    first.enqueue(sent.clone()).await.unwrap();
    let got = first
        .receive("killed", &t, 1, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    drop(first);

    let second = h.embedded_with(long);
    assert_eq!(second.release_leases().await.unwrap(), 1);
    let again = second
        .receive("restarted", &t, 1, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(
        again.len(),
        1,
        "the job of the process before was not due again"
    );
    assert_eq!(again[0].id, sent.id);
    assert_eq!(again[0].attempt, 2);
    h.cleanup().await;
}

/// A Redis that comes back without its data (the consumer groups gone with the streams) is
/// read from again at once, and answers another epoch, so the relay knows to relay again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_a_queue_whose_redis_lost_its_data_recovers_and_says_so() {
    let Some(h) = Harness::open(support::queue::Backend::Redis, "lost data").await else {
        return;
    };
    let t = topics(&["pickup.dispatch", "slots.generate"]);
    let q = h.queue().await;
    let before = q.epoch().await.unwrap();
    assert_eq!(q.epoch().await.unwrap(), before, "the epoch is stable");
    assert!(
        q.receive("w", &t, 1, Duration::from_millis(200))
            .await
            .unwrap()
            .is_empty()
    );

    h.lose_redis_data().await;
    // The groups this process created are gone: the read must create them again, not fail.
    assert!(
        q.receive("w", &t, 1, Duration::from_millis(200))
            .await
            .unwrap()
            .is_empty()
    );
    let sent = job("slots.generate", json!({"bucket": 1}));
    q.enqueue(sent.clone()).await.unwrap();
    let got = q.receive("w", &t, 1, Duration::from_secs(2)).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, sent.id);
    q.ack(&got[0]).await.unwrap();
    assert_ne!(
        q.epoch().await.unwrap(),
        before,
        "a store that lost its data has a new epoch"
    );
    h.cleanup().await;
}

async fn the_epoch_is_stable_while_the_store_keeps_its_jobs(h: &Harness) {
    let q = h.queue().await;
    let first = q.epoch().await.unwrap();
    let written = q
        .enqueue_many(vec![job("pickup.dispatch", json!({}))])
        .await
        .unwrap();
    assert_eq!(written, first);
    assert_eq!(
        h.queue().await.epoch().await.unwrap(),
        first,
        "another process sees the same"
    );
}

async fn ping_answers(h: &Harness) {
    h.queue().await.ping().await.unwrap();
}

/// Instantiates every case for every backend, cleaning the store up even when a case fails.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        conformance!(@backend sqlite, Sqlite, $($case),*);
        conformance!(@backend postgres, Postgres, $($case),*);
        conformance!(@backend redis, Redis, $($case),*);
    };
    (@backend $module:ident, $backend:ident, $($case:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    use futures::FutureExt as _;
                    let Some(h) =
                        super::support::queue::Harness::open(super::support::queue::Backend::$backend, stringify!($case)).await
                    else {
                        return;
                    };
                    let result = std::panic::AssertUnwindSafe(super::$case(&h)).catch_unwind().await;
                    h.cleanup().await;
                    if let Err(panic) = result {
                        std::panic::resume_unwind(panic);
                    }
                }
            )*
        }
    };
}

conformance!(
    acked_job_is_delivered_once_and_never_again,
    job_of_a_killed_consumer_is_redelivered_after_visibility_timeout,
    concurrent_consumers_get_disjoint_jobs_covering_all,
    failed_job_is_retried_after_backoff_then_dead_lettered,
    delayed_job_is_delivered_at_its_time_not_before,
    waiting_receiver_wakes_promptly_on_enqueue,
    consumer_of_one_topic_never_receives_another,
    a_batch_is_enqueued_whole_and_spread_over_topics_without_loss,
    the_epoch_is_stable_while_the_store_keeps_its_jobs,
    ping_answers,
);
