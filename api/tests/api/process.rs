//! `wufei-api` as a process: refuses bad configuration with a clear message, serves on the
//! embedded defaults, and stops cleanly on SIGTERM.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

#[test]
fn bad_configuration_is_refused_with_the_variable_named() {
    let out = Command::new(env!("CARGO_BIN_EXE_wufei-api"))
        .env("WUFEI_BIND", "not-an-address")
        .env("WUFEI_DATA_DIR", std::env::temp_dir().join("wufei-badconf"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("WUFEI_BIND"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_wufei-api"))
        .env("REDIS_URL", "http://wrong")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("REDIS_URL"));
}

#[tokio::test]
async fn serves_on_embedded_defaults_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wufei-api"))
        .current_dir(dir.path())
        .env("WUFEI_BIND", format!("127.0.0.1:{port}"))
        .env_remove("WUFEI_DATA_DIR")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            && r.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < deadline, "server did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        dir.path().join("data/wufei.db").exists(),
        "SQLite file in ./data"
    );
    assert!(
        dir.path().join("data/jwt.secret").exists(),
        "generated JWT secret kept"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status}");
}

#[test]
fn search_reindex_rebuilds_the_indexes_named() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_wufei-api"))
            .args(args)
            .env("WUFEI_DATA_DIR", dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .env_remove("MEILI_URL")
            .output()
            .unwrap()
    };
    let all = run(&["search", "reindex"]);
    let out = String::from_utf8_lossy(&all.stdout);
    assert!(
        all.status.success(),
        "{}",
        String::from_utf8_lossy(&all.stderr)
    );
    assert!(out.contains("reindexed 0 listings on embedded"), "{out}");
    assert!(out.contains("reindexed 0 articles on embedded"), "{out}");
    let one = run(&["search", "reindex", "articles"]);
    let out = String::from_utf8_lossy(&one.stdout);
    assert!(one.status.success() && !out.contains("listings"), "{out}");
    let bad = run(&["search", "reindex", "gossip"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown index"));
}
