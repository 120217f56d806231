//! Conformance suite for the pub/sub port: every case is written once over
//! `Arc<dyn PubSub>` and run against each adapter — the embedded one always, Redis when
//! `WUFEI_TEST_REDIS_URL` is set (each test under its own random prefix). Then the Redis
//! cases the trait cannot show: fan-out across instances, and resubscription after the
//! subscription connection is killed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed expectation is a failed test

use std::sync::Arc;
use std::time::Duration;

use wufei_domain::ports::pubsub::embedded::EmbeddedPubSub;
use wufei_domain::ports::pubsub::redis::RedisPubSub;
use wufei_domain::ports::pubsub::{CHANNEL_CAPACITY, PubSub, Subscription};

const REDIS_URL_VAR: &str = "WUFEI_TEST_REDIS_URL";

/// Long enough for a loaded CI machine; a passing test never waits this long.
const PATIENCE: Duration = Duration::from_secs(5);

/// The next payload, failing the test if none comes within [`PATIENCE`].
async fn next(sub: &mut Subscription) -> String {
    tokio::time::timeout(PATIENCE, sub.recv())
        .await
        .unwrap_or_else(|_| panic!("nothing arrived on {}", sub.channel()))
        .expect("subscription open")
}

/// Asserts that nothing arrives on `sub` for a little while.
async fn assert_quiet(sub: &mut Subscription) {
    let got = tokio::time::timeout(Duration::from_millis(200), sub.recv()).await;
    assert!(got.is_err(), "unexpected {got:?} on {}", sub.channel());
}

async fn publish(ps: &Arc<dyn PubSub>, channel: &str, payload: &str) {
    ps.publish(channel, payload.to_string())
        .await
        .expect("publish");
}

// ---- the cases -------------------------------------------------------------------------

async fn a_subscriber_receives_what_is_published_after_it_subscribed_in_order(ps: Arc<dyn PubSub>) {
    let mut sub = ps.subscribe("user:1");
    for i in 0..100 {
        publish(&ps, "user:1", &format!("m{i}")).await;
    }
    for i in 0..100 {
        assert_eq!(next(&mut sub).await, format!("m{i}"));
    }
    assert_eq!(sub.missed(), 0);
}

async fn every_subscriber_of_a_channel_receives_each_message(ps: Arc<dyn PubSub>) {
    let mut a = ps.subscribe("user:2");
    let mut b = ps.subscribe("user:2");
    publish(&ps, "user:2", "hello").await;
    assert_eq!(next(&mut a).await, "hello");
    assert_eq!(next(&mut b).await, "hello");
}

async fn channels_are_independent(ps: Arc<dyn PubSub>) {
    let mut alice = ps.subscribe("user:alice");
    let mut bob = ps.subscribe("user:bob");
    publish(&ps, "user:alice", "for alice").await;
    publish(&ps, "user:bob", "for bob").await;
    publish(&ps, "user:alice*", "for a pattern-looking channel").await;
    assert_eq!(next(&mut alice).await, "for alice");
    assert_eq!(next(&mut bob).await, "for bob");
    assert_quiet(&mut alice).await;
    assert_quiet(&mut bob).await;
}

async fn channels_and_payloads_may_hold_any_text(ps: Arc<dyn PubSub>) {
    let channels = ["", "a:b:c", "回收员 7", "{tag}*?[x]\\"];
    let mut subs: Vec<_> = channels.iter().map(|c| ps.subscribe(c)).collect();
    for c in channels {
        publish(&ps, c, &format!(r#"{{"to":"{c}","text":"订单已接单 ✓"}}"#)).await;
    }
    for (sub, c) in subs.iter_mut().zip(channels) {
        assert_eq!(
            next(sub).await,
            format!(r#"{{"to":"{c}","text":"订单已接单 ✓"}}"#)
        );
    }
}

async fn publishing_to_a_channel_nobody_listens_to_succeeds(ps: Arc<dyn PubSub>) {
    publish(&ps, "nobody", "lost").await;
    assert_eq!(ps.local_channels(), 0);
}

async fn dropping_the_last_subscriber_prunes_the_channel(ps: Arc<dyn PubSub>) {
    let a = ps.subscribe("user:3");
    let b = ps.subscribe("user:3");
    let other = ps.subscribe("user:4");
    assert_eq!(ps.local_channels(), 2);
    drop(a);
    assert_eq!(ps.local_channels(), 2);
    drop(b);
    assert_eq!(ps.local_channels(), 1);
    drop(other);
    assert_eq!(ps.local_channels(), 0);

    // A channel subscribed again after pruning works as new.
    let mut again = ps.subscribe("user:3");
    publish(&ps, "user:3", "back").await;
    assert_eq!(next(&mut again).await, "back");
}

async fn a_lagging_subscriber_skips_and_never_blocks_publishers(ps: Arc<dyn PubSub>) {
    let mut slow = ps.subscribe("busy");
    let mut fast = ps.subscribe("busy");
    let total = CHANNEL_CAPACITY * 3;
    let publishing = async {
        for i in 0..total {
            publish(&ps, "busy", &i.to_string()).await;
        }
        publish(&ps, "busy", "last").await;
    };
    let reading = async {
        loop {
            if next(&mut fast).await == "last" {
                break;
            }
        }
    };
    // The fast reader keeps up while the slow one reads nothing.
    tokio::time::timeout(PATIENCE * 2, async { tokio::join!(publishing, reading) })
        .await
        .expect("publishing was held up");

    let mut received = 0;
    while next(&mut slow).await != "last" {
        received += 1;
    }
    assert!(slow.missed() > 0, "the slow subscriber missed nothing");
    assert_eq!(received + slow.missed(), total as u64);
}

/// A subscriber on the publishing instance gets each message once (the Redis adapter hands
/// it over locally at once and must not deliver its own echo from Redis again).
async fn each_message_arrives_once(ps: Arc<dyn PubSub>) {
    let mut sub = ps.subscribe("user:once");
    publish(&ps, "user:once", "one").await;
    publish(&ps, "user:once", "two").await;
    assert_eq!(next(&mut sub).await, "one");
    assert_eq!(next(&mut sub).await, "two");
    assert_quiet(&mut sub).await;
}

async fn ping_answers(ps: Arc<dyn PubSub>) {
    ps.ping().await.expect("ping");
}

// ---- the adapters ----------------------------------------------------------------------

fn embedded_pubsub() -> Arc<dyn PubSub> {
    Arc::new(EmbeddedPubSub::new())
}

/// A fresh prefix so tests never see each other's messages.
fn random_prefix() -> String {
    format!("wufei-test-{}", uuid::Uuid::new_v4().simple())
}

/// The Redis URL, or `None` (after saying so on stderr) when no Redis is configured.
fn redis_url() -> Option<String> {
    let url = std::env::var(REDIS_URL_VAR).ok();
    if url.is_none() {
        eprintln!("skipped: pubsub redis (set {REDIS_URL_VAR} to run it)");
    }
    url
}

async fn redis_instance(url: &str, prefix: &str) -> RedisPubSub {
    let link = wufei_domain::ports::redis_conn::RedisLink::new(
        redis::Client::open(url).expect("a valid WUFEI_TEST_REDIS_URL"),
    );
    let conn = link
        .connect(std::time::Duration::from_secs(2))
        .await
        .expect("Redis at WUFEI_TEST_REDIS_URL answers");
    RedisPubSub::connect(link.client().clone(), conn, prefix.to_string())
        .await
        .expect("Redis at WUFEI_TEST_REDIS_URL answers")
}

async fn redis_pubsub() -> Option<Arc<dyn PubSub>> {
    let url = redis_url()?;
    Some(Arc::new(redis_instance(&url, &random_prefix()).await))
}

/// Runs every case against every adapter, as `<adapter>_adapter::<case>`.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod embedded_adapter {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::embedded_pubsub()).await;
                }
            )*
        }

        mod redis_adapter {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(ps) = super::redis_pubsub().await else { return };
                    super::$case(ps).await;
                }
            )*
        }
    };
}

conformance!(
    a_subscriber_receives_what_is_published_after_it_subscribed_in_order,
    every_subscriber_of_a_channel_receives_each_message,
    channels_are_independent,
    channels_and_payloads_may_hold_any_text,
    publishing_to_a_channel_nobody_listens_to_succeeds,
    dropping_the_last_subscriber_prunes_the_channel,
    a_lagging_subscriber_skips_and_never_blocks_publishers,
    each_message_arrives_once,
    ping_answers,
);

// ---- Redis only: what one instance cannot show -----------------------------------------

/// Two instances with one prefix are two API processes: a message published on one reaches
/// the subscribers of both, each once, and each publisher's messages in the order it sent
/// them. A third instance under another prefix (another deployment) hears nothing. (Between
/// two publishers there is no order: a's subscriber may hear b's message, still on its way
/// through Redis, after a's own later one, which it was handed at once.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_a_message_published_on_one_instance_reaches_subscribers_on_another() {
    let Some(url) = redis_url() else { return };
    let prefix = random_prefix();
    let a = redis_instance(&url, &prefix).await;
    let b = redis_instance(&url, &prefix).await;
    let elsewhere = redis_instance(&url, &random_prefix()).await;
    let mut on_a = a.subscribe("user:9");
    let mut on_b = b.subscribe("user:9");
    let mut on_elsewhere = elsewhere.subscribe("user:9");

    for i in 0..3 {
        a.publish("user:9", format!("a{i}")).await.unwrap();
        b.publish("user:9", format!("b{i}")).await.unwrap();
    }

    for sub in [&mut on_a, &mut on_b] {
        let mut got = Vec::new();
        for _ in 0..6 {
            got.push(next(sub).await);
        }
        for from in ["a", "b"] {
            let theirs: Vec<&String> = got.iter().filter(|m| m.starts_with(from)).collect();
            assert_eq!(
                theirs,
                [
                    &format!("{from}0"),
                    &format!("{from}1"),
                    &format!("{from}2")
                ]
            );
        }
        assert_quiet(sub).await;
    }
    assert_quiet(&mut on_elsewhere).await;
}

/// A message published on `{prefix}:ps:{channel}`, without the publisher's origin (an
/// instance of an earlier version during a rolling deploy), still reaches the subscribers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_a_message_without_an_origin_is_delivered() {
    let Some(url) = redis_url() else { return };
    let prefix = random_prefix();
    let ps = redis_instance(&url, &prefix).await;
    let mut sub = ps.subscribe("user:8");
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: i64 = redis::cmd("PUBLISH")
        .arg(format!("{prefix}:ps:user:8"))
        .arg("from an earlier version")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(next(&mut sub).await, "from an earlier version");
    assert_quiet(&mut sub).await;
}

/// Kills the subscription connection server-side (it belongs to an ACL user made for this
/// test, so `CLIENT KILL USER` touches nothing else on a shared Redis): the instance
/// resubscribes by itself and its subscribers, untouched, receive again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_subscribers_receive_again_after_the_connection_is_killed() {
    let Some(url) = redis_url() else { return };
    let Some(rest) = url.strip_prefix("redis://").filter(|r| !r.contains('@')) else {
        eprintln!("skipped: resubscription test needs a redis:// URL without credentials");
        return;
    };
    let user = format!("wufei-test-{}", uuid::Uuid::new_v4().simple());
    let admin = redis::Client::open(url.as_str()).unwrap();
    let mut admin = admin.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("ACL")
        .arg("SETUSER")
        .arg(&user)
        .arg("on")
        .arg("nopass")
        .arg("~*")
        .arg("&*")
        .arg("+@all")
        .query_async::<()>(&mut admin)
        .await
        .unwrap();

    let prefix = random_prefix();
    let victim = redis_instance(&format!("redis://{user}:x@{rest}"), &prefix).await;
    let publisher = redis_instance(&url, &prefix).await;
    let mut sub = victim.subscribe("user:7");
    publisher.publish("user:7", "before".into()).await.unwrap();
    assert_eq!(next(&mut sub).await, "before");

    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("USER")
        .arg(&user)
        .query_async(&mut admin)
        .await
        .unwrap();
    assert!(killed >= 1, "killed {killed} connections");

    // Messages in the gap may be lost; keep publishing until one gets through.
    let arrived = tokio::time::timeout(PATIENCE * 2, async {
        let mut i = 0;
        loop {
            publisher
                .publish("user:7", format!("after {i}"))
                .await
                .unwrap();
            if let Ok(Some(got)) =
                tokio::time::timeout(Duration::from_millis(100), sub.recv()).await
            {
                break got;
            }
            i += 1;
        }
    })
    .await;
    redis::cmd("ACL")
        .arg("DELUSER")
        .arg(&user)
        .query_async::<()>(&mut admin)
        .await
        .unwrap();
    let got = arrived.expect("no message arrived after the connection was killed");
    assert!(got.starts_with("after"), "{got}");
}
