//! Backends for the queue conformance suite: each test gets its own store (a temp SQLite
//! file, a fresh PostgreSQL database, or a random Redis key prefix) and can open several
//! queue instances on it, as several processes would. Backends whose environment variable is
//! unset are skipped with a line on stderr, never failed.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use tempfile::TempDir;
use wufei_domain::ports::queue::embedded::EmbeddedQueue;
use wufei_domain::ports::queue::redis::RedisQueue;
use wufei_domain::ports::queue::{Queue, QueuePolicy};
use wufei_migrations::{Migrator, MigratorTrait};

/// Which adapter and store a test runs against.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
    Redis,
}

enum Store {
    Sqlite {
        _dir: TempDir,
        db: DatabaseConnection,
    },
    Postgres {
        admin: DatabaseConnection,
        name: String,
        db: DatabaseConnection,
    },
    Redis {
        client: redis::Client,
        prefix: String,
    },
}

/// One test's store.
pub struct Harness {
    store: Store,
}

/// A short policy so the suite runs in seconds.
pub fn policy() -> QueuePolicy {
    QueuePolicy {
        visibility_timeout: Duration::from_secs(1),
        max_attempts: 3,
        backoff_base: Duration::from_millis(200),
        backoff_max: Duration::from_secs(2),
    }
}

fn suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Harness {
    /// A fresh store for `backend`, or `None` (and a line on stderr) when its environment
    /// variable is unset.
    pub async fn open(backend: Backend, test: &str) -> Option<Self> {
        let store = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("q.db").display());
                let db = Database::connect(url).await.unwrap();
                db.execute_unprepared("PRAGMA journal_mode=WAL")
                    .await
                    .unwrap();
                db.execute_unprepared("PRAGMA busy_timeout=5000")
                    .await
                    .unwrap();
                Migrator::up(&db, None).await.unwrap();
                Store::Sqlite { _dir: dir, db }
            }
            Backend::Postgres => {
                let Ok(url) = std::env::var("WUFEI_TEST_DATABASE_URL") else {
                    eprintln!("skipped: postgres::{test} (set WUFEI_TEST_DATABASE_URL to run it)");
                    return None;
                };
                let admin = Database::connect(url.as_str()).await.unwrap();
                let name = format!("wufei_q_{}", suffix());
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                let db = Database::connect(with_database(&url, &name)).await.unwrap();
                Migrator::up(&db, None).await.unwrap();
                Store::Postgres { admin, name, db }
            }
            Backend::Redis => {
                let Ok(url) = std::env::var("WUFEI_TEST_REDIS_URL") else {
                    eprintln!("skipped: redis::{test} (set WUFEI_TEST_REDIS_URL to run it)");
                    return None;
                };
                let client = redis::Client::open(url).unwrap();
                Store::Redis {
                    client,
                    prefix: format!("wufei-test-{}", suffix()),
                }
            }
        };
        Some(Self { store })
    }

    /// A new queue instance on this test's store with the short test policy — a separate
    /// "process" from every other instance.
    pub async fn queue(&self) -> Arc<dyn Queue> {
        self.queue_with(policy()).await
    }

    /// A new queue instance on this test's store with `policy`.
    pub async fn queue_with(&self, policy: QueuePolicy) -> Arc<dyn Queue> {
        match &self.store {
            Store::Sqlite { db, .. } | Store::Postgres { db, .. } => {
                Arc::new(EmbeddedQueue::new(db.clone(), policy))
            }
            Store::Redis { client, prefix } => Arc::new(
                RedisQueue::connect(
                    &wufei_domain::ports::redis_conn::RedisLink::new(client.clone()),
                    prefix.clone(),
                    policy,
                )
                .await
                .unwrap(),
            ),
        }
    }

    /// An embedded queue on this test's database store (SQLite or PostgreSQL only).
    pub fn embedded_with(&self, policy: QueuePolicy) -> EmbeddedQueue {
        match &self.store {
            Store::Sqlite { db, .. } | Store::Postgres { db, .. } => {
                EmbeddedQueue::new(db.clone(), policy)
            }
            Store::Redis { .. } => panic!("not a database store"),
        }
    }

    /// The Redis client and key prefix, when this store is Redis.
    pub fn redis(&self) -> Option<(&redis::Client, &str)> {
        match &self.store {
            Store::Redis { client, prefix } => Some((client, prefix)),
            _ => None,
        }
    }

    /// Deletes every key of this store, as a Redis that restarts without its data loses
    /// them (Redis only).
    pub async fn lose_redis_data(&self) {
        let (client, prefix) = self.redis().expect("a Redis store");
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}:*"))
            .query_async(&mut conn)
            .await
            .unwrap();
        if !keys.is_empty() {
            redis::cmd("DEL")
                .arg(keys)
                .query_async::<()>(&mut conn)
                .await
                .unwrap();
        }
    }

    /// Removes the store, best effort.
    pub async fn cleanup(self) {
        match self.store {
            Store::Sqlite { db, .. } => {
                let _ = db.close().await;
            }
            Store::Postgres { admin, name, db } => {
                let _ = db.close().await;
                let _ = admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
                let _ = admin.close().await;
            }
            Store::Redis { client, prefix } => {
                let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
                    return;
                };
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(format!("{prefix}:*"))
                    .query_async(&mut conn)
                    .await
                    .unwrap_or_default();
                if !keys.is_empty() {
                    let _: Result<i64, _> =
                        redis::cmd("DEL").arg(keys).query_async(&mut conn).await;
                }
            }
        }
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let base = match base.rsplit_once('/') {
        Some((host, _)) if host.contains("://") && !host.ends_with('/') => host,
        _ => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}
