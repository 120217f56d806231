//! `wufei-worker` as a process: against PostgreSQL and Redis it relays the outbox, runs
//! jobs, and on SIGTERM finishes what it holds and exits 0. Skipped (with a line on stderr)
//! when `WUFEI_TEST_DATABASE_URL` / `WUFEI_TEST_REDIS_URL` are unset.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, Database, EntityTrait, PaginatorTrait};
use wufei_domain::{db, entities::outbox, jobs::outbox as stage};

#[tokio::test]
async fn worker_relays_runs_jobs_and_stops_cleanly_on_sigterm() {
    let (Ok(base), Ok(redis)) = (
        std::env::var("WUFEI_TEST_DATABASE_URL"),
        std::env::var("WUFEI_TEST_REDIS_URL"),
    ) else {
        eprintln!(
            "skipped: wufei-worker process test (set WUFEI_TEST_DATABASE_URL and WUFEI_TEST_REDIS_URL)"
        );
        return;
    };
    let name = format!("wufei_w_{}", uuid_like());
    let admin = Database::connect(&base).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
    let conn = db::connect(&url, 2).await.unwrap();
    db::migrate(&conn).await.unwrap();
    for i in 0..20 {
        stage::stage(
            &conn,
            "maintenance.purge_expired",
            serde_json::json!({ "n": i }),
            None,
        )
        .await
        .unwrap();
    }
    let dir = std::env::temp_dir().join(format!("wufei-worker-{}", uuid_like()));
    let ops_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wufei-worker"))
        .env("WUFEI_WORKER_BIND", format!("127.0.0.1:{ops_port}"))
        .env("DATABASE_URL", &url)
        .env("REDIS_URL", &redis)
        .env("WUFEI_REDIS_PREFIX", format!("wufei-w-{}", uuid_like()))
        .env("WUFEI_DATA_DIR", &dir)
        .env("WUFEI_JWT_SECRET", "worker-test-secret-worker-test-secret")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = outbox::Entity::find().count(&conn).await.unwrap();
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the worker did not relay the outbox ({left} left)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Its operations listener: alive, ready, and the jobs it ran are in its metrics.
    let ops = |path: &str| format!("http://127.0.0.1:{ops_port}{path}");
    let client = reqwest::Client::new();
    for path in ["/healthz", "/readyz"] {
        let res = client.get(ops(path)).send().await.unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::OK, "{path}");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = client
            .get(ops("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // The 20 staged here, and the scheduler's own.
        let purged = metrics
            .lines()
            .find_map(|l| {
                l.strip_prefix(
                    "wufei_jobs_total{outcome=\"succeeded\",topic=\"maintenance.purge_expired\"} ",
                )
            })
            .and_then(|n| n.parse::<u64>().ok());
        if purged.is_some_and(|n| n >= 20) {
            assert!(metrics.contains("wufei_queue_jobs"), "{metrics}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the worker's metrics lack its jobs: {metrics}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        client.get(ops("/nothing")).send().await.unwrap().status(),
        reqwest::StatusCode::NOT_FOUND
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the worker did not stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(exit.success(), "worker exited with {exit}");
    let _ = std::fs::remove_dir_all(dir);
}

fn uuid_like() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
