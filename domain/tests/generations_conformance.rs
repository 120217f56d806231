//! Conformance suite for the generations port: every case is written once over
//! `Arc<dyn Generations>` and run against each adapter — the embedded one always, Redis when
//! `WUFEI_TEST_REDIS_URL` is set (each test under its own random key prefix).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed expectation is a failed test

use std::sync::Arc;

use uuid::Uuid;
use wufei_domain::ports::generations::{
    Generations, embedded::EmbeddedGenerations, redis::RedisGenerations,
};

const REDIS_URL_VAR: &str = "WUFEI_TEST_REDIS_URL";

// ---- the cases -------------------------------------------------------------------------

async fn an_unknown_name_is_at_generation_zero(g: Arc<dyn Generations>) {
    assert_eq!(g.current("never-bumped").await.unwrap(), 0);
}

async fn a_bump_moves_the_name_and_only_that_name(g: Arc<dyn Generations>) {
    let first = g.bump("public").await.unwrap();
    assert!(first > 0);
    assert_eq!(g.current("public").await.unwrap(), first);
    assert_eq!(g.current("other").await.unwrap(), 0);
    let second = g.bump("public").await.unwrap();
    assert!(second > first);
    assert_eq!(g.current("public").await.unwrap(), second);
}

async fn concurrent_bumps_all_count(g: Arc<dyn Generations>) {
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let g = g.clone();
            tokio::spawn(async move { g.bump("busy").await.unwrap() })
        })
        .collect();
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 50, "every bump gives a generation of its own");
    assert_eq!(g.current("busy").await.unwrap(), 50);
}

// ---- adapters ----------------------------------------------------------------------------

fn embedded() -> Arc<dyn Generations> {
    Arc::new(EmbeddedGenerations::new())
}

async fn redis_generations() -> Option<Arc<dyn Generations>> {
    let Ok(url) = std::env::var(REDIS_URL_VAR) else {
        eprintln!("skipped: generations redis (set {REDIS_URL_VAR} to run it)");
        return None;
    };
    let client = redis::Client::open(url).expect("a valid WUFEI_TEST_REDIS_URL");
    let conn = wufei_domain::ports::redis_conn::RedisLink::new(client)
        .connect(std::time::Duration::from_secs(2))
        .await
        .expect("Redis at WUFEI_TEST_REDIS_URL answers");
    Some(Arc::new(RedisGenerations::new(
        conn,
        format!("wufei-test-{}", Uuid::new_v4().simple()),
    )))
}

/// Runs every case against every adapter, as `<adapter>_adapter::<case>`.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod embedded_adapter {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::embedded()).await;
                }
            )*
        }

        mod redis_adapter {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(g) = super::redis_generations().await else { return };
                    super::$case(g).await;
                }
            )*
        }
    };
}

conformance!(
    an_unknown_name_is_at_generation_zero,
    a_bump_moves_the_name_and_only_that_name,
    concurrent_bumps_all_count,
);
