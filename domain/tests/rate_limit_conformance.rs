//! Conformance suite for the rate-limit port: every case is written once over
//! `Arc<dyn RateLimiter>` and run against each adapter — the embedded one always, Redis when
//! `WUFEI_TEST_REDIS_URL` is set (each test under its own random key prefix). An adapter
//! that passes behaves, as far as a caller can tell, like every other.
//!
//! Timing cases use windows of about 500 ms and leave margins of tens of milliseconds on
//! the side that a slow machine cannot break (late is always safe; "still limited just
//! before `retry_after`" keeps a 100 ms margin).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed expectation is a failed test

use std::sync::Arc;
use std::time::{Duration, Instant};

use wufei_domain::ports::rate_limit::embedded::EmbeddedRateLimiter;
use wufei_domain::ports::rate_limit::redis::RedisRateLimiter;
use wufei_domain::ports::rate_limit::{Decision, Limit, RateLimiter};

const REDIS_URL_VAR: &str = "WUFEI_TEST_REDIS_URL";

fn limit(max: u32, window: Duration) -> Limit {
    Limit { max, window }
}

const LONG: Duration = Duration::from_secs(60);
const SHORT: Duration = Duration::from_millis(500);

fn allowed(remaining: u32) -> Decision {
    Decision::Allowed { remaining }
}

/// The `retry_after` of a refused hit; fails the test if the hit was allowed.
fn retry_after(decision: Decision) -> Duration {
    match decision {
        Decision::Limited { retry_after } => retry_after,
        Decision::Allowed { remaining } => panic!("expected Limited, got Allowed({remaining})"),
    }
}

async fn hit(rl: &Arc<dyn RateLimiter>, key: &str, l: Limit) -> Decision {
    rl.hit(key, l).await.expect("hit")
}

async fn sleep_until(deadline: Instant) {
    tokio::time::sleep_until(deadline.into()).await;
}

async fn exhaust(rl: &Arc<dyn RateLimiter>, key: &str, l: Limit) {
    for _ in 0..l.max {
        assert!(matches!(hit(rl, key, l).await, Decision::Allowed { .. }));
    }
}

// ---- the cases -------------------------------------------------------------------------

async fn max_hits_are_allowed_with_decreasing_remaining_then_the_next_is_limited(
    rl: Arc<dyn RateLimiter>,
) {
    let l = limit(5, LONG);
    for remaining in (0..5).rev() {
        assert_eq!(hit(&rl, "user:1", l).await, allowed(remaining));
    }
    let wait = retry_after(hit(&rl, "user:1", l).await);
    assert!(
        wait > Duration::ZERO && wait <= l.window,
        "retry_after {wait:?}"
    );
}

async fn retry_after_is_accurate(rl: Arc<dyn RateLimiter>) {
    let l = limit(2, SHORT);
    exhaust(&rl, "k", l).await;
    let refused_at = Instant::now();
    let wait = retry_after(hit(&rl, "k", l).await);
    assert!(
        wait > Duration::ZERO && wait <= l.window,
        "retry_after {wait:?}"
    );
    assert!(
        wait > Duration::from_millis(150),
        "retry_after {wait:?} is too short"
    );

    // Well before retry_after the key is still limited, and the new retry_after is shorter.
    tokio::time::sleep(wait - Duration::from_millis(100)).await;
    let still = retry_after(hit(&rl, "k", l).await);
    assert!(
        still > Duration::ZERO && still < wait,
        "{still:?} vs {wait:?}"
    );

    // Once retry_after has passed, a hit is allowed.
    sleep_until(refused_at + wait + Duration::from_millis(20)).await;
    assert!(matches!(hit(&rl, "k", l).await, Decision::Allowed { .. }));
}

async fn hits_are_allowed_again_after_the_window_passes(rl: Arc<dyn RateLimiter>) {
    let l = limit(3, SHORT);
    exhaust(&rl, "k", l).await;
    retry_after(hit(&rl, "k", l).await);

    tokio::time::sleep(l.window + Duration::from_millis(50)).await;
    for remaining in (0..3).rev() {
        assert_eq!(hit(&rl, "k", l).await, allowed(remaining));
    }
    retry_after(hit(&rl, "k", l).await);
}

async fn refused_hits_do_not_extend_the_lockout(rl: Arc<dyn RateLimiter>) {
    let l = limit(2, SHORT);
    exhaust(&rl, "k", l).await;
    let refused_at = Instant::now();
    let first_wait = retry_after(hit(&rl, "k", l).await);
    let lockout_ends = refused_at + first_wait;

    // Hammer the key while it is locked out: every hit refused, none pushing the end back.
    while Instant::now() + Duration::from_millis(80) < lockout_ends {
        let wait = retry_after(hit(&rl, "k", l).await);
        assert!(wait <= first_wait, "{wait:?} > {first_wait:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    sleep_until(lockout_ends + Duration::from_millis(20)).await;
    assert!(matches!(hit(&rl, "k", l).await, Decision::Allowed { .. }));
}

async fn keys_are_independent(rl: Arc<dyn RateLimiter>) {
    let l = limit(2, LONG);
    exhaust(&rl, "login:alice", l).await;
    retry_after(hit(&rl, "login:alice", l).await);

    assert_eq!(hit(&rl, "login:bob", l).await, allowed(1));
    retry_after(hit(&rl, "login:alice", l).await);
}

async fn keys_may_hold_any_text(rl: Arc<dyn RateLimiter>) {
    let l = limit(1, LONG);
    for key in ["", "a:b:c", "登录 13800000000", "{tag}*?[x]"] {
        assert_eq!(hit(&rl, key, l).await, allowed(0), "key {key:?}");
        retry_after(hit(&rl, key, l).await);
    }
}

async fn reset_clears_the_key(rl: Arc<dyn RateLimiter>) {
    let l = limit(3, LONG);
    exhaust(&rl, "k", l).await;
    retry_after(hit(&rl, "k", l).await);

    rl.reset("k").await.expect("reset");
    assert_eq!(hit(&rl, "k", l).await, allowed(2));

    rl.reset("never-seen")
        .await
        .expect("reset of an unknown key");
}

async fn hundred_concurrent_hits_against_max_ten_allow_exactly_ten(rl: Arc<dyn RateLimiter>) {
    let l = limit(10, LONG);
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let rl = Arc::clone(&rl);
            tokio::spawn(async move { rl.hit("burst", l).await })
        })
        .collect();

    let mut remaining = Vec::new();
    let mut refused = 0;
    for task in tasks {
        match task.await.expect("task").expect("hit") {
            Decision::Allowed { remaining: r } => remaining.push(r),
            Decision::Limited { retry_after } => {
                assert!(retry_after > Duration::ZERO && retry_after <= l.window);
                refused += 1;
            }
        }
    }
    remaining.sort_unstable();
    // Exactly ten allowed, each seeing a different count: no two hits raced on one slot.
    assert_eq!(remaining, (0..10).collect::<Vec<_>>());
    assert_eq!(refused, 90);
}

async fn a_limit_of_zero_refuses_every_hit(rl: Arc<dyn RateLimiter>) {
    let l = limit(0, LONG);
    let wait = retry_after(hit(&rl, "k", l).await);
    assert!(wait > Duration::ZERO && wait <= l.window);
}

async fn hit_all(rl: &Arc<dyn RateLimiter>, checks: &[(&str, Limit)]) -> Decision {
    rl.hit_all(checks).await.expect("hit_all")
}

async fn hit_all_counts_every_key_only_when_every_key_allows(rl: Arc<dyn RateLimiter>) {
    let (wide, narrow) = (limit(5, LONG), limit(2, LONG));
    let both = [("client", wide), ("user", narrow)];
    // The least remaining of the two.
    assert_eq!(hit_all(&rl, &both).await, allowed(1));
    assert_eq!(hit_all(&rl, &both).await, allowed(0));
    // "user" refuses, so neither key counts this one.
    let wait = retry_after(hit_all(&rl, &both).await);
    assert!(wait > Duration::ZERO && wait <= narrow.window);
    assert_eq!(hit(&rl, "client", wide).await, allowed(2));
    assert_eq!(hit_all(&rl, &[]).await, allowed(u32::MAX));
}

async fn hit_all_waits_for_the_longest_refusal(rl: Arc<dyn RateLimiter>) {
    let (long, short) = (limit(1, LONG), limit(1, SHORT));
    exhaust(&rl, "long", long).await;
    exhaust(&rl, "short", short).await;
    let wait = retry_after(hit_all(&rl, &[("short", short), ("long", long)]).await);
    assert!(wait > LONG / 2 && wait <= LONG, "waited {wait:?}");
    // A zero limit refuses without counting the others.
    let zero = limit(0, SHORT);
    let wait = retry_after(hit_all(&rl, &[("fresh", long), ("z", zero)]).await);
    assert!(wait > Duration::ZERO);
    assert_eq!(hit(&rl, "fresh", long).await, allowed(0));
}

async fn the_same_key_twice_in_one_call_counts_twice(rl: Arc<dyn RateLimiter>) {
    let l = limit(3, LONG);
    assert_eq!(hit_all(&rl, &[("k", l), ("k", l)]).await, allowed(1));
    // Two more do not fit in the one left, and neither counts.
    retry_after(hit_all(&rl, &[("k", l), ("k", l)]).await);
    assert_eq!(hit(&rl, "k", l).await, allowed(0));
}

async fn hundred_concurrent_two_key_hits_against_a_shared_max_of_ten_allow_exactly_ten(
    rl: Arc<dyn RateLimiter>,
) {
    let shared = limit(10, LONG);
    let own = limit(1_000, LONG);
    let tasks: Vec<_> = (0..100)
        .map(|n| {
            let rl = Arc::clone(&rl);
            tokio::spawn(async move {
                let mine = format!("own-{}", n % 7);
                rl.hit_all(&[(mine.as_str(), own), ("shared", shared)])
                    .await
            })
        })
        .collect();
    let mut allowed_hits = 0;
    for task in tasks {
        if let Decision::Allowed { .. } = task.await.expect("task").expect("hit_all") {
            allowed_hits += 1;
        }
    }
    assert_eq!(allowed_hits, 10);
    // Only the allowed ones counted against the per-caller keys: 10 across 7 keys.
    let mut counted = 0;
    for n in 0..7 {
        let Decision::Allowed { remaining } = hit(&rl, &format!("own-{n}"), own).await else {
            panic!("own-{n} refused");
        };
        counted += own.max - 1 - remaining;
    }
    assert_eq!(counted, 10);
}

async fn ping_answers(rl: Arc<dyn RateLimiter>) {
    rl.ping().await.expect("ping");
}

// ---- the adapters ----------------------------------------------------------------------

fn embedded_limiter() -> Arc<dyn RateLimiter> {
    Arc::new(EmbeddedRateLimiter::new())
}

/// A fresh prefix so tests never see each other's keys.
fn random_prefix() -> String {
    format!("wufei-test-{}", uuid::Uuid::new_v4().simple())
}

/// A Redis connection, or `None` (after saying so on stderr) when no Redis is configured.
async fn redis_connection() -> Option<wufei_domain::ports::redis_conn::RedisConn> {
    let Ok(url) = std::env::var(REDIS_URL_VAR) else {
        eprintln!("skipped: rate_limit redis (set {REDIS_URL_VAR} to run it)");
        return None;
    };
    let client = redis::Client::open(url).expect("a valid WUFEI_TEST_REDIS_URL");
    Some(
        wufei_domain::ports::redis_conn::RedisLink::new(client)
            .connect(std::time::Duration::from_secs(2))
            .await
            .expect("Redis at WUFEI_TEST_REDIS_URL answers"),
    )
}

async fn redis_limiter() -> Option<Arc<dyn RateLimiter>> {
    let conn = redis_connection().await?;
    Some(Arc::new(RedisRateLimiter::new(conn, random_prefix())))
}

/// Runs every case against every adapter, as `<adapter>_adapter::<case>`.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod embedded_adapter {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(super::embedded_limiter()).await;
                }
            )*
        }

        mod redis_adapter {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let Some(rl) = super::redis_limiter().await else { return };
                    super::$case(rl).await;
                }
            )*
        }
    };
}

conformance!(
    max_hits_are_allowed_with_decreasing_remaining_then_the_next_is_limited,
    retry_after_is_accurate,
    hits_are_allowed_again_after_the_window_passes,
    refused_hits_do_not_extend_the_lockout,
    keys_are_independent,
    keys_may_hold_any_text,
    reset_clears_the_key,
    hundred_concurrent_hits_against_max_ten_allow_exactly_ten,
    a_limit_of_zero_refuses_every_hit,
    hit_all_counts_every_key_only_when_every_key_allows,
    hit_all_waits_for_the_longest_refusal,
    the_same_key_twice_in_one_call_counts_twice,
    hundred_concurrent_two_key_hits_against_a_shared_max_of_ten_allow_exactly_ten,
    ping_answers,
);

// ---- Redis only: what the trait cannot show ---------------------------------------------

/// Every key carries a TTL of at most about one window, under `{prefix}:rl:`.
#[tokio::test]
async fn redis_keys_are_namespaced_and_expire() {
    let Some(mut conn) = redis_connection().await else {
        return;
    };
    let prefix = random_prefix();
    let rl = RedisRateLimiter::new(conn.clone(), prefix.clone());
    let l = limit(3, SHORT);
    for _ in 0..3 {
        rl.hit("k", l).await.expect("hit");
    }

    let key = format!("{prefix}:rl:k");
    let ttl_ms: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("PTTL");
    assert!(ttl_ms > 0 && ttl_ms <= 501, "PTTL {ttl_ms}");

    tokio::time::sleep(l.window + Duration::from_millis(50)).await;
    let exists: bool = redis::cmd("EXISTS")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("EXISTS");
    assert!(!exists, "{key} outlived its window");
}
