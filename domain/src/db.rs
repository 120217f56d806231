//! Database connections for both footprints and the central reading of database errors.
//!
//! SQLite is opened in WAL mode with a busy timeout and a pool of ONE connection: every
//! statement and transaction is serialised inside the process, so a booking rush queues for
//! a few microseconds each instead of failing with "database is locked" (SQLite has one
//! writer at a time anyway, and a deferred transaction that upgrades from read to write
//! fails with SQLITE_BUSY without waiting). Code inside a transaction must use the
//! transaction, never the pool, or it waits for itself. PostgreSQL gets a normal pool.

use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr, SqlErr,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};
use wufei_migrations::{Migrator, MigratorTrait};

/// A pooled connection idle for this long is pinged before it is handed out; a busier one
/// is not. Pinging on every checkout (sqlx's default) made a round trip to the database
/// per statement outside a transaction, doubling a one-statement request's. A connection
/// in use within the last half second is very likely alive (HikariCP's default bypass
/// window is the same); one the server dropped while it was busy fails its next statement
/// once, and the pool replaces it.
pub const PING_IF_IDLE_FOR: Duration = Duration::from_millis(500);

/// Opens the database at `url` with the settings each backend needs.
#[tracing::instrument(skip(url), fields(backend))]
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(10))
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR);
    if url.starts_with("sqlite:") {
        tracing::Span::current().record("backend", "sqlite");
        if let Some(dir) = sqlite_file(url).and_then(|p| p.parent().map(|d| d.to_path_buf()))
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(&dir)
                .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
        }
        opts.max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .idle_timeout(None::<Duration>)
            .max_lifetime(None::<Duration>)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    .create_if_missing(true)
            });
    } else {
        tracing::Span::current().record("backend", "postgres");
        opts.max_connections(max_connections).min_connections(1);
    }
    Database::connect(opts).await
}

/// The file behind a `sqlite://path?…` URL.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or(url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| path.into())
}

/// Applies every pending migration. Processes that may start together (several
/// `wufei-api` and `wufei-worker` on one PostgreSQL database) hold a [`StartupLock`] around
/// it.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Serialises the start of processes that share one PostgreSQL database: the migrations and
/// the reference data are written by one process at a time, so any number may start at
/// once (a compose file, a rollout). Without it, two processes ran the same `CREATE TABLE`
/// at once and one died on `pg_type_typname_nsp_index`, or both seeded an empty catalogue.
///
/// A transaction-scoped advisory lock on a connection of its own (not the pool's, which
/// the work under the lock needs): held until [`Self::release`], or until the process dies
/// and PostgreSQL closes the connection. SQLite has one process: no lock.
pub struct StartupLock(Option<(DatabaseConnection, sea_orm::DatabaseTransaction)>);

/// The advisory lock's key: "wufei" in ASCII, a number no other application picks by chance.
const STARTUP_LOCK_KEY: i64 = 0x77_75_66_65_69;

impl StartupLock {
    /// Waits for the lock (PostgreSQL) or returns at once (SQLite).
    pub async fn acquire(url: &str) -> Result<Self, DbErr> {
        if url.starts_with("sqlite:") {
            return Ok(Self(None));
        }
        let conn = connect(url, 1).await?;
        let txn = sea_orm::TransactionTrait::begin(&conn).await?;
        let started = std::time::Instant::now();
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({STARTUP_LOCK_KEY})"))
            .await?;
        tracing::debug!(
            waited_ms = started.elapsed().as_millis() as u64,
            "start-up lock held"
        );
        Ok(Self(Some((conn, txn))))
    }

    /// Lets the next process start.
    pub async fn release(self) -> Result<(), DbErr> {
        if let Some((conn, txn)) = self.0 {
            txn.commit().await?;
            conn.close().await?;
        }
        Ok(())
    }
}

/// Whether the connection answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// Whether `err` is a unique-key violation (a duplicate that the schema refused).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Whether `err` means the database could not do the work now, though the same request may
/// well succeed in a moment: no connection could be had (pool exhausted, database down or
/// restarting), the connection was lost or terminated under the statement (PostgreSQL's
/// class 08 and `57P01`–`57P03`, an I/O error), the server is out of connections, or the
/// statement lost a deadlock or serialisation race (`40P01`, `40001`; SQLite's busy and
/// locked). The caller answers 503 with `Retry-After`, never 500.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error as Sqlx};
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e.as_ref()),
        DbErr::Conn(_) => return true,
        _ => None,
    };
    match sqlx {
        Some(
            Sqlx::Io(_)
            | Sqlx::Tls(_)
            | Sqlx::PoolTimedOut
            | Sqlx::PoolClosed
            | Sqlx::WorkerCrashed,
        ) => true,
        Some(Sqlx::Protocol(_)) => true,
        Some(Sqlx::Database(db)) => db.code().is_some_and(|code| unavailable_code(&code)),
        _ => {
            let text = err.to_string();
            text.contains("database is locked")
                || text.contains("pool timed out")
                || text.contains("Connection refused")
                || text.contains("connection closed")
        }
    }
}

/// Whether a database error code (PostgreSQL's SQLSTATE, SQLite's result code) says "try
/// again", not "this is wrong".
fn unavailable_code(code: &str) -> bool {
    code.starts_with("08") // connection exception
        || matches!(
            code,
            "57P01" // admin_shutdown: pg_terminate_backend, a restart
            | "57P02" // crash_shutdown
            | "57P03" // cannot_connect_now: starting up or in recovery
            | "53300" // too_many_connections
            | "40001" // serialization_failure
            | "40P01" // deadlock_detected
            | "5" | "6" | "261" | "262" | "517" // SQLITE_BUSY, SQLITE_LOCKED and their variants
        )
}

/// The backend behind a connection, for the few places SQL differs.
pub fn backend(db: &impl ConnectionTrait) -> DatabaseBackend {
    db.get_database_backend()
}

/// The positional parameters of a hand-written statement: each [`Self::arg`] binds a value
/// and returns its placeholder (`$1`, `$2` …), so SQL and values are built side by side.
/// For the few statements whose round trips are their cost (one statement of
/// data-modifying `WITH` clauses instead of a transaction, one read instead of several).
/// `$N` is PostgreSQL's placeholder, and SQLite reads it as parameter N too, so
/// [`Self::statement_for`] serves a statement written in SQL both understand.
#[derive(Debug, Default)]
pub(crate) struct SqlArgs(Vec<sea_orm::Value>);

impl SqlArgs {
    /// Binds `v`; returns its placeholder.
    pub(crate) fn arg(&mut self, v: impl Into<sea_orm::Value>) -> String {
        self.0.push(v.into());
        format!("${}", self.0.len())
    }

    /// The statement `sql` with the values bound so far.
    pub(crate) fn statement(self, sql: String) -> sea_orm::Statement {
        self.statement_for(DatabaseBackend::Postgres, sql)
    }

    /// The statement `sql`, for `backend`, with the values bound so far.
    pub(crate) fn statement_for(self, backend: DatabaseBackend, sql: String) -> sea_orm::Statement {
        sea_orm::Statement::from_sql_and_values(backend, sql, self.0)
    }
}
