//! What a benchmark run stands up and must tear down whatever happens: a scratch
//! PostgreSQL database, a temporary directory, and server processes. Each is a guard whose
//! `Drop` cleans up, so an error, a panic or Ctrl-C (which drops the run's future) leaves
//! nothing behind.

use std::{
    fs::File,
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use redis::Commands as _;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

use crate::http::{self, RequestSpec};

/// A directory removed on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<system temp>/<prefix>-<random>`.
    pub fn new(prefix: &str) -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A scratch database `wufei_bench_<random>`, dropped (with its connections) on drop.
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    url: String,
    dropped: bool,
}

impl ScratchDatabase {
    /// Creates a fresh database on the server of `admin_url` (a database URL with the
    /// right to `CREATE DATABASE`).
    pub async fn create(admin_url: &str) -> anyhow::Result<Self> {
        let name = format!(
            "wufei_bench_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let url = with_database(admin_url, &name)?;
        let db = Database::connect(admin_options(admin_url))
            .await
            .with_context(|| format!("connecting to {admin_url}"))?;
        db.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .with_context(|| format!("CREATE DATABASE {name}"))?;
        let _ = db.close().await;
        Ok(Self {
            admin_url: admin_url.to_owned(),
            name,
            url,
            dropped: false,
        })
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database now.
    pub async fn drop_now(&mut self) -> anyhow::Result<()> {
        if self.dropped {
            return Ok(());
        }
        drop_database(&self.admin_url, &self.name).await?;
        self.dropped = true;
        Ok(())
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Drop may run inside the runtime: do the async work on a thread of its own.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let worker = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match runtime {
                Ok(rt) => rt.block_on(drop_database(&admin_url, &name)),
                Err(e) => Err(e.into()),
            }
        });
        match worker.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: could not drop database {}: {e:#}", self.name),
            Err(_) => eprintln!("warning: could not drop database {}", self.name),
        }
    }
}

fn admin_options(admin_url: &str) -> ConnectOptions {
    let mut opts = ConnectOptions::new(admin_url.to_owned());
    opts.sqlx_logging(false)
        .max_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10));
    opts
}

async fn drop_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let db = Database::connect(admin_options(admin_url)).await?;
    // WITH (FORCE) (PostgreSQL 13+) ends the connections of servers killed a moment ago.
    db.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await?;
    let _ = db.close().await;
    Ok(())
}

/// `url` with its database name replaced by `name` (query string kept).
fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let Some(scheme_end) = base.find("://") else {
        bail!("{url} is not a postgres:// URL");
    };
    let host_part = &base[scheme_end + 3..];
    let prefix = match host_part.find('/') {
        Some(slash) => &base[..scheme_end + 3 + slash],
        None => base,
    };
    Ok(match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    })
}

/// A Redis key prefix `wufei_bench_<random>` whose keys are deleted on drop.
pub struct RedisScratch {
    url: String,
    prefix: String,
}

impl RedisScratch {
    /// Checks that Redis at `url` answers and picks a fresh prefix.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let mut conn = redis::Client::open(url)?
            .get_connection_with_timeout(Duration::from_secs(5))
            .with_context(|| format!("connecting to {url}"))?;
        redis::cmd("PING").query::<String>(&mut conn)?;
        Ok(Self {
            url: url.to_owned(),
            prefix: format!(
                "wufei_bench_{}",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            ),
        })
    }

    /// The prefix (`WUFEI_REDIS_PREFIX`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The Redis URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn clean(&self) -> anyhow::Result<usize> {
        let mut conn = redis::Client::open(self.url.as_str())?
            .get_connection_with_timeout(Duration::from_secs(5))?;
        let keys: Vec<String> = conn
            .scan_match::<_, String>(format!("{}:*", self.prefix))?
            .take(1_000_000)
            .collect::<Result<_, _>>()?;
        for chunk in keys.chunks(500) {
            redis::cmd("DEL").arg(chunk).query::<i64>(&mut conn)?;
        }
        Ok(keys.len())
    }
}

impl Drop for RedisScratch {
    fn drop(&mut self) {
        if let Err(e) = self.clean() {
            eprintln!(
                "warning: could not delete Redis keys {}:*: {e:#}",
                self.prefix
            );
        }
    }
}

/// A small pool on the scratch database, for fixtures made by SQL.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .max_connections(max_connections)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10));
    Database::connect(opts)
        .await
        .context("bench: connecting to the scratch database")
}

/// An SQL expression for a UUIDv7-shaped id made from `n` (an SQL bigint expression) and
/// `base_ms`: ids made for increasing `n` are increasing, as the ids wufei writes
/// (`Uuid::now_v7`) are in insertion order, so that rows inserted by SQL lie in the table
/// in id order as real ones do (keyset scans by id then read the heap in order).
pub fn v7_sql(base_ms: i64, n: &str) -> String {
    format!(
        "(lpad(to_hex({base_ms}::bigint + {n}), 12, '0') || '7' || substr(md5({n}::text), 1, 3) \
         || '8' || substr(md5({n}::text), 4, 15))::uuid"
    )
}

/// A free TCP port on 127.0.0.1 (free when asked; the server binds it a moment later).
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A server process, killed on drop. Its stdout and stderr go to a log file.
pub struct Server {
    name: String,
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Server {
    /// Spawns `command` (stdout and stderr to `log`) serving at `addr`.
    pub fn spawn(
        name: &str,
        mut command: Command,
        addr: SocketAddr,
        log: PathBuf,
    ) -> anyhow::Result<Self> {
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("starting {name} ({:?})", command.get_program()))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            addr,
            log,
        })
    }

    /// The address it serves.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `GET path` answers 200, the process exits, or `limit` passes.
    pub async fn wait_ready(&mut self, path: &str, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        let probe = RequestSpec::get(path);
        let mut last = String::from("no answer");
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{} exited ({status}) before answering; its log:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            match tokio::time::timeout(Duration::from_secs(2), http::once(self.addr, &probe)).await
            {
                Ok(Ok((status, _))) if status.is_success() => return Ok(()),
                Ok(Ok((status, _))) => last = format!("GET {path}: {status}"),
                Ok(Err(e)) => last = format!("{e:#}"),
                Err(_) => last = "probe timed out".into(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "{} not ready after {limit:?} ({last}); its log:\n{}",
            self.name,
            self.log_tail()
        )
    }

    /// Waits until its log contains `needle` (a process with no HTTP port, such as
    /// `wufei-worker`), the process exits, or `limit` passes.
    pub async fn wait_log(&mut self, needle: &str, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{} exited ({status}); its log:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            if std::fs::read_to_string(&self.log).is_ok_and(|t| t.contains(needle)) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "{} did not log {needle:?} within {limit:?}; its log:\n{}",
            self.name,
            self.log_tail()
        )
    }

    /// Resident memory now, KiB (VmRSS of /proc/<pid>/status).
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        vm_rss_kib(self.pid())
    }

    /// CPU time used so far (user + system), seconds.
    pub fn cpu_secs(&self) -> anyhow::Result<f64> {
        cpu_secs(self.pid())
    }

    /// The last lines of its log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Kills it and waits for it.
    pub fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// VmRSS of process `pid`, KiB.
pub fn vm_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix("VmRSS:") {
            let kib = rest.trim().trim_end_matches("kB").trim();
            return Ok(kib.parse()?);
        }
    }
    bail!("no VmRSS in /proc/{pid}/status")
}

/// User + system CPU time of process `pid`, seconds (from /proc/<pid>/stat).
pub fn cpu_secs(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        bail!("unreadable /proc/{pid}/stat");
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime field 15.
    let (Some(utime), Some(stime)) = (fields.get(11), fields.get(12)) else {
        bail!("short /proc/{pid}/stat");
    };
    let ticks: f64 = utime.parse::<f64>()? + stime.parse::<f64>()?;
    Ok(ticks / clock_ticks_per_sec())
}

/// Busy CPU time of the whole machine so far (all cores; user, nice, system, irq, softirq,
/// steal), seconds, from /proc/stat.
pub fn machine_busy_secs() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        bail!("no cpu line in /proc/stat");
    };
    let fields: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse::<f64>())
        .collect::<Result<_, _>>()?;
    // user nice system idle iowait irq softirq steal …
    let busy: f64 = [0usize, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| fields.get(i))
        .sum();
    Ok(busy / clock_ticks_per_sec())
}

/// CPU time of every process named `name` (e.g. `postgres`: the server and its
/// backends), seconds. Processes that ended are not counted.
pub fn cpu_secs_named(name: &str) -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == name)
        })
        .filter_map(|pid| cpu_secs(pid).ok())
        .sum()
}

fn clock_ticks_per_sec() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_name() -> anyhow::Result<()> {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x")?,
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x")?,
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "x")?,
            "postgres://h:5432/x"
        );
        Ok(())
    }

    #[test]
    fn reads_own_memory_and_cpu() -> anyhow::Result<()> {
        let pid = std::process::id();
        assert!(super::vm_rss_kib(pid)? > 0);
        assert!(super::cpu_secs(pid)? >= 0.0);
        assert!(super::machine_busy_secs()? > 0.0);
        Ok(())
    }
}
