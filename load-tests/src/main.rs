//! `wufei-bench`: measures wufei-api against a bare actix-web baseline on this machine, in
//! one run, and reports throughput ratios, latencies and resident memory. See README.md.
//!
//! The run: create a scratch PostgreSQL database → start wufei-api on it → create the
//! benchmark account (`wufei-api admin create`) and log in → idle, read VmRSS → start
//! `wufei-baseline` on the same database → for each scenario, load Wufei's request then the
//! baseline's, back to back → read VmRSS again → report → kill both, drop the database
//! (guards do the last step on any error and on Ctrl-C too).

mod disclosure;
mod door;
mod http;
mod load;
mod market;
mod points;
mod redeem;
mod report;
mod scenarios;
mod stack;

use std::{
    net::{Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::Parser;
use serde::Deserialize;

use crate::{
    http::RequestSpec,
    load::LoadParams,
    report::{DispatchReport, FootprintResult, Memory, OpenLoopResult, PairResult, RunInfo},
    stack::{RedisScratch, ScratchDatabase, Server, TempDir, free_port},
};

/// Benchmarks wufei-api against a bare actix-web baseline (throughput ratios, latency, RSS).
#[derive(Debug, Parser)]
#[command(name = "wufei-bench", version, about)]
struct Args {
    /// Concurrent keep-alive connections per run.
    #[arg(short = 'c', long, default_value_t = 32)]
    concurrency: usize,
    /// Measured seconds per run.
    #[arg(short = 'd', long, default_value_t = 10)]
    duration: u64,
    /// Unmeasured warm-up seconds before each run.
    #[arg(short = 'w', long, default_value_t = 2)]
    warmup: u64,
    /// Seconds wufei-api idles after start-up and one login before its RSS is read.
    #[arg(long, default_value_t = 5)]
    idle: u64,
    /// Upper bound on requests of one run (all connections together).
    #[arg(long, default_value_t = 50_000_000)]
    max_requests: u64,
    /// Per-request timeout, milliseconds.
    #[arg(long, default_value_t = 5_000)]
    timeout_ms: u64,
    /// Scenarios to run, comma-separated (`me`, `session`).
    #[arg(long, value_delimiter = ',', default_value = "me,session")]
    scenarios: Vec<String>,
    /// PostgreSQL URL allowed to CREATE and DROP DATABASE; the scratch database is made there.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres_url: String,
    /// Also measure the Redis footprint (REDIS_URL set, worker loops not in-process) with
    /// this Redis, after the embedded one.
    #[arg(long)]
    redis_url: Option<String>,
    /// With `--redis-url`: measure the Redis footprint only.
    #[arg(long)]
    redis_only: bool,
    /// HTTP worker threads of both servers; 0 = actix-web's default (one per core).
    #[arg(long, default_value_t = 0)]
    workers: usize,
    /// Database pool size of both servers (wufei-api's default is 20).
    #[arg(long, default_value_t = 20)]
    pool: u32,
    /// RUST_LOG of wufei-api.
    #[arg(long, default_value = "warn")]
    rust_log: String,
    /// Idle RSS goal of wufei-api, MiB.
    #[arg(long, default_value_t = 40)]
    rss_goal_mib: u64,
    /// The wufei-api binary (default: next to this one).
    #[arg(long)]
    api_bin: Option<PathBuf>,
    /// The wufei-baseline binary (default: next to this one).
    #[arg(long)]
    baseline_bin: Option<PathBuf>,
    /// Markdown file the results are appended to.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/results.md"))]
    results: PathBuf,
    /// Do not append to the results file.
    #[arg(long)]
    no_results: bool,
    /// Measure each pair this many times (alternating which side goes first) and report
    /// the round with the median ratio; helps on a machine with other load.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Exit with status 2 when a goal is missed.
    #[arg(long)]
    fail_on_miss: bool,
    /// List the scenarios and exit.
    #[arg(long)]
    list: bool,
    /// The wufei-worker binary, run beside wufei-api on the Redis footprint for the
    /// door-to-door scenarios (default: next to this one).
    #[arg(long)]
    worker_bin: Option<PathBuf>,
    /// Door-to-door scenarios: residents created (each with an address).
    #[arg(long, default_value_t = 64)]
    residents: usize,
    /// Door-to-door scenarios: recyclers created (approved over HTTP).
    #[arg(long, default_value_t = 8)]
    recyclers: usize,
    /// Door-to-door scenarios: book into the slots of this many days from tomorrow (three
    /// a day). 1 (the default) is a rush on three slots, whose rows every booking of the
    /// slot updates in turn; more days spread it.
    #[arg(long, default_value_t = 1)]
    slot_days: u32,
    /// `book`: the open-loop rate as a fraction of each side's closed-loop maximum.
    #[arg(long, default_value_t = 0.7)]
    rate_fraction: f64,
    /// `dispatch`: bookings timed (one at a time).
    #[arg(long, default_value_t = 200)]
    dispatch_samples: usize,
    /// `dispatch`: how long to wait for an offer, milliseconds.
    #[arg(long, default_value_t = 10_000)]
    offer_wait_ms: u64,
    /// `dispatch`: a random pause of 0 to this many milliseconds before each booking, so
    /// samples do not fall into step with the server's 500 ms outbox poll; 0 = none.
    #[arg(long, default_value_t = 500)]
    dispatch_jitter_ms: u64,
    /// `dispatch`: XADD → XREADGROUP samples of the raw Redis measurement.
    #[arg(long, default_value_t = 1_000)]
    redis_samples: usize,
    /// `journey`: residents running journeys at once.
    #[arg(long, default_value_t = 16)]
    journey_residents: usize,
    /// `journey`: a journey not completed within this many seconds fails.
    #[arg(long, default_value_t = 60)]
    journey_timeout: u64,
    /// Seconds to wait, before each door-to-door scenario, for the previous one's
    /// background work (outbox, database queue) to drain.
    #[arg(long, default_value_t = 120)]
    drain_secs: u64,
    /// `settle`: completed pickups settled by each side.
    #[arg(long, default_value_t = 2000)]
    settle_pickups: usize,
    /// `settle`, `backlog`: residents each fixture group spreads its pickups over.
    #[arg(long, default_value_t = 100)]
    points_residents: usize,
    /// `settle`, `backlog`: wufei-worker processes.
    #[arg(long, default_value_t = 2)]
    points_workers: usize,
    /// `backlog`: seconds with no worker running while completions arrive.
    #[arg(long, default_value_t = 60)]
    outage_secs: u64,
    /// `backlog`: completions staged per second (before, during and after the outage).
    #[arg(long, default_value_t = 20.0)]
    arrival_rate: f64,
    /// `backlog`: give up waiting for the backlog to drain after this many seconds.
    #[arg(long, default_value_t = 600)]
    drain_limit_secs: u64,
    /// `redeem`: residents redeeming the one item (each given points by an adjustment).
    #[arg(long, default_value_t = 200)]
    redeem_residents: usize,
    /// Meilisearch's `run` script (shared/tools/meilisearch/run): with `--redis-url`, the
    /// bench starts a Meilisearch and the Redis footprint uses it (`MEILI_URL`); the
    /// marketplace scenarios need it on that footprint.
    #[arg(long)]
    meili_bin: Option<PathBuf>,
    /// `market`, `fresh`, `oversell`: listings the fixture inserts (SQL).
    #[arg(long, default_value_t = 100_000)]
    listings: u64,
    /// `oversell`: buyers accepting quotes on one listing at once.
    #[arg(long, default_value_t = 50)]
    buyers: usize,
    /// `fresh`: listing edits timed (one at a time).
    #[arg(long, default_value_t = 50)]
    fresh_samples: usize,
    /// `fresh`: seconds after which an edit not yet searchable counts as missed.
    #[arg(long, default_value_t = 10)]
    fresh_wait_secs: u64,
    /// `stats`: recycling-ledger lines the fixture inserts (SQL).
    #[arg(long, default_value_t = 1_000_000)]
    stats_lines: u64,
    /// `stats`: open-data dataset downloaded as CSV.
    #[arg(long, default_value = "recycling-records")]
    dataset: String,
    /// `stats`: CSV downloads per footprint.
    #[arg(long, default_value_t = 3)]
    exports: usize,
}

impl Args {
    fn load_params(&self) -> LoadParams {
        LoadParams {
            concurrency: self.concurrency,
            warmup: Duration::from_secs(self.warmup),
            duration: Duration::from_secs(self.duration),
            max_requests: self.max_requests,
            timeout: Duration::from_millis(self.timeout_ms),
        }
    }

    fn describe(&self) -> Vec<String> {
        vec![
            format!("connections={}", self.concurrency),
            format!("duration={}s", self.duration),
            format!("warmup={}s", self.warmup),
            format!("rounds={}", self.rounds.max(1)),
            format!("idle={}s", self.idle),
            format!(
                "http workers={}",
                if self.workers == 0 {
                    "default (one per core)".to_owned()
                } else {
                    self.workers.to_string()
                }
            ),
            format!("pool={}", self.pool),
            format!("scenarios={}", self.scenarios.join(",")),
            format!("profile={}", profile()),
            format!("RUST_LOG={}", self.rust_log),
            "WUFEI_LOG_FORMAT=json".to_owned(),
            "database=PostgreSQL (local)".to_owned(),
            format!(
                "footprints={}",
                if self.points_only() {
                    "redis (points scenarios, with their own wufei-worker processes)"
                } else if self.redis_url.is_some() {
                    "embedded, redis (with wufei-worker for book, dispatch, journey, settle, backlog, fresh)"
                } else {
                    "embedded"
                }
            ),
        ]
        .into_iter()
        .chain(self.door_params())
        .collect()
    }

    fn points(&self) -> bool {
        self.scenarios
            .iter()
            .any(|s| points::SCENARIOS.contains(&s.as_str()))
    }

    fn points_only(&self) -> bool {
        self.scenarios
            .iter()
            .all(|s| points::SCENARIOS.contains(&s.as_str()))
    }

    fn points_params(&self) -> points::Params {
        points::Params {
            settle_pickups: self.settle_pickups,
            residents: self.points_residents,
            outage_secs: self.outage_secs,
            arrival_rate: self.arrival_rate,
            drain_limit_secs: self.drain_limit_secs,
            workers: self.points_workers.max(1),
        }
    }

    fn market(&self) -> bool {
        self.scenarios
            .iter()
            .any(|s| market::SCENARIOS.contains(&s.as_str()))
    }

    fn door(&self) -> bool {
        self.scenarios
            .iter()
            .any(|s| scenarios::DOOR.contains(&s.as_str()))
    }

    fn door_params(&self) -> Vec<String> {
        let has = |id: &str| self.scenarios.iter().any(|s| s == id);
        let mut out = Vec::new();
        if self.door() {
            out.push(format!("residents={}", self.residents));
        }
        if has("dispatch") || has("journey") {
            out.push(format!("recyclers={}", self.recyclers));
        }
        if has("book") {
            out.push(format!(
                "open-loop rate={:.0} % of max",
                self.rate_fraction * 100.0
            ));
        }
        if has("dispatch") {
            out.push(format!(
                "dispatch samples={}, jitter 0-{} ms",
                self.dispatch_samples, self.dispatch_jitter_ms
            ));
            out.push(format!("redis samples={}", self.redis_samples));
        }
        if has("journey") {
            out.push(format!(
                "journey residents at once={}, journey timeout={}s",
                self.journey_residents, self.journey_timeout
            ));
        }
        if has("settle") {
            out.push(format!(
                "settle pickups={} per side, {} workers",
                self.settle_pickups, self.points_workers
            ));
        }
        if has("backlog") {
            out.push(format!(
                "backlog: {}/s arrivals, {} s outage, {} workers",
                self.arrival_rate, self.outage_secs, self.points_workers
            ));
        }
        if has("redeem") {
            out.push(format!("redeem residents={}", self.redeem_residents));
        }
        if self.market() {
            out.push(format!(
                "listings={}, search engines: embedded tantivy{}",
                self.listings,
                if self.meili_bin.is_some() && self.redis_url.is_some() {
                    ", Meilisearch 1.50 on the redis footprint (with wufei-worker)"
                } else {
                    ""
                }
            ));
        }
        if has("fresh") {
            out.push(format!(
                "fresh samples={}, wait {} s",
                self.fresh_samples, self.fresh_wait_secs
            ));
        }
        if has("oversell") {
            out.push(format!("oversell buyers={}", self.buyers));
        }
        if has("stats") {
            out.push(format!(
                "ledger lines={}, {} CSV downloads of {}",
                self.stats_lines, self.exports, self.dataset
            ));
        }
        out
    }
}

/// The cargo profile the bench was built with: the name of the folder it runs from
/// (`release`, `bench-fast`, `debug`).
fn profile() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| Some(p.parent()?.file_name()?.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Secret of the scratch stack (random per run, 64 characters).
fn jwt_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

const PHONE: &str = "13700000001";
const PASSWORD: &str = "bench password 1";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.list {
        for (id, what) in scenarios::CATALOGUE {
            println!("{id:10} {what}");
        }
        return Ok(());
    }
    // Ctrl-C drops the run's future, and with it the guards: servers are killed and the
    // database dropped.
    let results = tokio::select! {
        r = run(&args) => r?,
        _ = tokio::signal::ctrl_c() => bail!("interrupted"),
    };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."));
    let info = RunInfo::collect(repo, args.describe());
    print!("\n{}", report::text(&info, &results));
    if !args.no_results {
        report::append(&args.results, &report::markdown(&info, &results))
            .with_context(|| format!("appending to {}", args.results.display()))?;
        println!("appended to {}", args.results.display());
    }
    let missed = results.iter().any(|fp| {
        fp.pairs.iter().any(|p| !p.passed())
            || fp.memory.idle_rss_kib > fp.memory.goal_kib
            || fp.points.missed()
            || fp.market.missed()
            || fp.stats.missed()
    });
    if missed && args.fail_on_miss {
        std::process::exit(2);
    }
    Ok(())
}

fn binary(given: &Option<PathBuf>, name: &str) -> anyhow::Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path.clone());
    }
    let exe = std::env::current_exe()?;
    let path = exe.with_file_name(name);
    if !path.exists() {
        bail!(
            "{} not found; build it: cargo build --release -p wufei-api -p wufei-load-tests",
            path.display()
        );
    }
    Ok(path)
}

/// A command with no Wufei settings inherited from the caller's environment, run in `dir`
/// (so no stray `wufei.toml` is read).
fn clean_command(program: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if key.starts_with("WUFEI_")
            || key.starts_with("WECHAT_")
            || key.starts_with("MEILI_")
            || matches!(key, "DATABASE_URL" | "REDIS_URL" | "RUST_LOG")
        {
            cmd.env_remove(key);
        }
    }
    cmd
}

#[derive(Deserialize)]
struct TokenPair {
    access_token: String,
    user: TokenUser,
}

#[derive(Deserialize)]
struct TokenUser {
    id: uuid::Uuid,
}

/// The environment of one wufei-api footprint.
struct ApiEnv {
    vars: Vec<(String, String)>,
}

impl ApiEnv {
    fn new(
        args: &Args,
        db: &ScratchDatabase,
        data_dir: &Path,
        bind: SocketAddr,
        secret: &str,
    ) -> Self {
        let mut vars = vec![
            ("DATABASE_URL".to_owned(), db.url().to_owned()),
            ("WUFEI_DATA_DIR".to_owned(), data_dir.display().to_string()),
            ("WUFEI_BIND".to_owned(), bind.to_string()),
            // Several wufei-worker processes run side by side: each takes a free port.
            ("WUFEI_WORKER_BIND".to_owned(), "127.0.0.1:0".to_owned()),
            ("WUFEI_JWT_SECRET".to_owned(), secret.to_owned()),
            ("WUFEI_LOG_FORMAT".to_owned(), "json".to_owned()),
            ("RUST_LOG".to_owned(), args.rust_log.clone()),
            (
                "WUFEI_RATE_LIMIT_PER_CLIENT".to_owned(),
                "100000000".to_owned(),
            ),
            (
                "WUFEI_RATE_LIMIT_PER_USER".to_owned(),
                "100000000".to_owned(),
            ),
            // The token must outlive the run.
            ("WUFEI_ACCESS_TOKEN_TTL_SECS".to_owned(), "3600".to_owned()),
            (
                "WUFEI_DATABASE_MAX_CONNECTIONS".to_owned(),
                args.pool.to_string(),
            ),
        ];
        if args.workers > 0 {
            vars.push(("WUFEI_WORKERS".to_owned(), args.workers.to_string()));
        }
        Self { vars }
    }

    fn command(&self, bin: &Path, dir: &Path) -> Command {
        let mut cmd = clean_command(bin, dir);
        cmd.envs(self.vars.iter().map(|(k, v)| (k, v)));
        cmd
    }
}

async fn run(args: &Args) -> anyhow::Result<Vec<FootprintResult>> {
    for id in &args.scenarios {
        if !scenarios::CATALOGUE.iter().any(|(known, _)| known == id) {
            bail!("unknown scenario {id:?} (see --list)");
        }
    }
    let api_bin = binary(&args.api_bin, "wufei-api")?;
    let baseline_bin = binary(&args.baseline_bin, "wufei-baseline")?;
    if args.points() && args.redis_url.is_none() {
        bail!("the points scenarios (settle, backlog, redeem) need --redis-url");
    }
    let worker_bin = if (args.door() || args.points() || args.market()) && args.redis_url.is_some()
    {
        Some(binary(&args.worker_bin, "wufei-worker")?)
    } else {
        None
    };
    let tmp = TempDir::new("wufei-bench")?;
    let mut db = ScratchDatabase::create(&args.postgres_url).await?;
    println!(
        "scratch database {}, work dir {}",
        db.name(),
        tmp.path().display()
    );
    let secret = jwt_secret();
    let redis = args
        .redis_url
        .as_deref()
        .map(RedisScratch::new)
        .transpose()?;
    // Meilisearch for the Redis footprint, started by the bench (killed on drop).
    let meili = match (&args.meili_bin, &redis) {
        (Some(bin), Some(_)) => Some(start_meili(bin, tmp.path()).await?),
        _ => None,
    };
    let mut footprints: Vec<(&str, Vec<(String, String)>)> = vec![("embedded", Vec::new())];
    if let Some(redis) = &redis {
        let mut vars = vec![
            ("REDIS_URL".to_owned(), redis.url().to_owned()),
            ("WUFEI_REDIS_PREFIX".to_owned(), redis.prefix().to_owned()),
        ];
        if let Some(m) = &meili {
            vars.extend([
                (
                    "MEILI_URL".to_owned(),
                    format!("http://{}", m.server.addr()),
                ),
                ("MEILI_MASTER_KEY".to_owned(), m.key.clone()),
                ("WUFEI_MEILI_INDEX_PREFIX".to_owned(), m.prefix.clone()),
            ]);
        }
        footprints.push(("redis", vars));
    }
    let mut market_fixture: Option<market::Fixture> = None;
    let mut disclosure_fixture = false;
    let mut ledger_done = false;

    let mut baseline: Option<Server> = None;
    let mut account_created = false;
    let mut fixture: Option<door::Fixture> = None;
    // Raw Redis XADD → XREADGROUP: back to back, then paced as the dispatch samples are.
    let mut redis_stream: Option<(door::Latency, door::Latency)> = None;
    let mut results = Vec::new();
    for (footprint, extra_env) in footprints {
        if footprint == "embedded" && args.redis_only && redis.is_some() {
            println!("[embedded] skipped (--redis-only)");
            continue;
        }
        if footprint == "embedded" && args.points_only() {
            println!("[embedded] skipped: the points scenarios run on the Redis footprint");
            continue;
        }
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()?));
        let data_dir = tmp.path().join(format!("data-{footprint}"));
        std::fs::create_dir_all(&data_dir)?;
        let mut env = ApiEnv::new(args, &db, &data_dir, addr, &secret);
        env.vars.extend(extra_env);
        let mut market_report = market::Report::default();
        let meili_here = footprint == "redis" && meili.is_some();
        let market_here = args.market() && (footprint == "embedded" || meili_here);
        if args.market() && !market_here {
            println!("[{footprint}] marketplace scenarios skipped: they need --meili-bin here");
        }
        if market_here {
            if market_fixture.is_none() {
                let out = env
                    .command(&api_bin, tmp.path())
                    .arg("migrate")
                    .output()
                    .context("running wufei-api migrate")?;
                if !out.status.success() {
                    bail!(
                        "wufei-api migrate failed ({}): {}",
                        out.status,
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                println!(
                    "[{footprint}] market: inserting {} listings and their merchants …",
                    args.listings
                );
                let conn = stack::connect(db.url(), 2).await?;
                let fx = market::fixture(&conn, &secret, args.listings, args.buyers).await?;
                println!("[{footprint}] market: fixture in {:.1} s", fx.insert_secs);
                market_report.fixture = Some((fx.listings, fx.insert_secs));
                market_fixture = Some(fx);
            }
            println!("[{footprint}] market: wufei-api search reindex …");
            let r = market::reindex(env.command(&api_bin, tmp.path()))?;
            println!(
                "[{footprint}] market: reindexed {} listings on {} in {:.1} s ({:.1} s the whole command)",
                r.written, r.engine, r.rebuild_secs, r.command_secs
            );
            market_report.reindex = Some(r);
        }
        println!("[{footprint}] starting wufei-api on {addr}");
        let mut api = Server::spawn(
            "wufei-api",
            env.command(&api_bin, tmp.path()),
            addr,
            tmp.path().join(format!("api-{footprint}.log")),
        )?;
        api.wait_ready("/healthz", Duration::from_secs(180)).await?;

        if !account_created {
            let out = env
                .command(&api_bin, tmp.path())
                .args(["admin", "create", "--phone", PHONE, "--password", PASSWORD])
                .output()
                .context("running wufei-api admin create")?;
            if !out.status.success() {
                bail!(
                    "wufei-api admin create failed ({}): {}{}",
                    out.status,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            account_created = true;
        }
        let login = RequestSpec::post_json(
            "/v1/auth/password",
            &serde_json::json!({ "phone": PHONE, "password": PASSWORD }),
        )?;
        let (status, body) = http::once(addr, &login).await?;
        if !status.is_success() {
            bail!(
                "login answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        let pair: TokenPair = serde_json::from_slice(&body).context("reading the login answer")?;

        let cpu_before = api.cpu_secs()?;
        println!("[{footprint}] signed in; idling {} s", args.idle);
        tokio::time::sleep(Duration::from_secs(args.idle)).await;
        let idle_cpu_secs = api.cpu_secs()? - cpu_before;
        let idle_rss_kib = api.rss_kib()?;
        println!(
            "[{footprint}] idle RSS {:.1} MiB",
            idle_rss_kib as f64 / 1024.0
        );

        if baseline.is_none() {
            let baddr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()?));
            let mut cmd = clean_command(&baseline_bin, tmp.path());
            cmd.args([
                "--bind",
                &baddr.to_string(),
                "--database-url",
                db.url(),
                "--user-id",
                &pair.user.id.to_string(),
                "--pool",
                &args.pool.to_string(),
                "--workers",
                &args.workers.to_string(),
            ]);
            let mut server = Server::spawn(
                "wufei-baseline",
                cmd,
                baddr,
                tmp.path().join("baseline.log"),
            )?;
            server
                .wait_ready("/bare/json", Duration::from_secs(60))
                .await?;
            baseline = Some(server);
        }
        let Some(base) = baseline.as_ref() else {
            bail!("baseline not running");
        };

        let ctx = scenarios::Ctx {
            api: addr,
            baseline: base.addr(),
            token: pair.access_token.clone(),
        };
        let params = args.load_params();
        let mut pids = vec![(addr, api.pid()), (base.addr(), base.pid())];
        if let Some(m) = &meili {
            pids.push((m.server.addr(), m.server.pid()));
        }
        let mut stats_report = disclosure::Report::default();
        let mut pairs = Vec::new();
        let mut open_loop = Vec::new();
        let mut dispatch = None;
        let mut journey = None;
        let mut worker: Option<Server> = None;
        let mut points_report = points::Report::default();
        let door_env = if args.door() {
            Some(door::Env::new(addr, db.url(), &secret, &pair.access_token).await?)
        } else {
            None
        };
        for id in &args.scenarios {
            if points::SCENARIOS.contains(&id.as_str()) {
                if footprint != "redis" {
                    println!("[{footprint}] {id}: runs on the Redis footprint only");
                    continue;
                }
                // Only this scenario's workers may run.
                if let Some(mut w) = worker.take() {
                    w.stop();
                }
                let Some(bin) = &worker_bin else {
                    bail!("{id}: no wufei-worker binary");
                };
                let pctx = points::Ctx {
                    api: addr,
                    db_url: db.url().to_owned(),
                    worker_bin: bin.clone(),
                    worker_env: env.vars.clone(),
                    rust_log: args.rust_log.clone(),
                    work_dir: tmp.path().to_path_buf(),
                    admin_token: pair.access_token.clone(),
                    secret: secret.clone(),
                };
                match id.as_str() {
                    "settle" => {
                        points_report.settle =
                            Some(points::settle(&pctx, &args.points_params()).await?);
                    }
                    "backlog" => {
                        points_report.backlog =
                            Some(points::backlog(&pctx, &args.points_params()).await?);
                    }
                    _ => {
                        println!(
                            "[{footprint}] redeem: {} residents, fixture over HTTP …",
                            args.redeem_residents
                        );
                        let cmp =
                            redeem::prepare(&pctx, base.addr(), args.redeem_residents).await?;
                        pairs
                            .push(compare(footprint, id, &cmp, &pids, &params, args.rounds).await?);
                    }
                }
                continue;
            }
            if market::SCENARIOS.contains(&id.as_str()) {
                let Some(fx) = market_fixture.as_ref().filter(|_| market_here) else {
                    continue;
                };
                match id.as_str() {
                    "market" => {
                        let wufei = market::wufei_searches()?;
                        let empty = market::check_searches(addr, &wufei).await?;
                        market_report.empty_searches = empty;
                        let subject = scenarios::Side {
                            label: "GET /v1/market/listings (q + filters + radius, by distance)"
                                .to_owned(),
                            addr,
                            workload: Arc::new(wufei),
                        };
                        if let (true, Some(m)) = (meili_here, &meili) {
                            let direct =
                                market::meili_searches(&format!("{}listings", m.prefix), &m.key)?;
                            market::check_searches(m.server.addr(), &direct).await?;
                            let cmp = scenarios::Comparison {
                                id: "market",
                                subject,
                                baseline: scenarios::Side {
                                    label: "POST /indexes/…/search straight to Meilisearch"
                                        .to_owned(),
                                    addr: m.server.addr(),
                                    workload: Arc::new(direct),
                                },
                                goal: 0.5,
                                note: Some(format!(
                                    "{} listings; the same searches, Wufei (engine, then the rows from PostgreSQL) against Meilisearch alone",
                                    fx.listings
                                )),
                            };
                            let measured =
                                compare(footprint, id, &cmp, &pids, &params, args.rounds).await?;
                            market_report.search =
                                Some((measured.subject.clone(), params.concurrency));
                            pairs.push(measured);
                        } else {
                            println!("[{footprint}] market: {} …", subject.label);
                            let stats = measure(&subject, &pids, &params).await?;
                            println!(
                                "[{footprint}] market: {:.0} req/s, p95 {:.1} ms",
                                stats.rps(),
                                stats.p95_us as f64 / 1000.0
                            );
                            settle().await;
                            market_report.search = Some((stats, params.concurrency));
                        }
                    }
                    "fresh" => {
                        if let (Some(bin), true, None) =
                            (&worker_bin, footprint == "redis", &worker)
                        {
                            worker = Some(
                                start_worker(&env, bin, tmp.path(), &args.rust_log, addr).await?,
                            );
                        }
                        println!(
                            "[{footprint}] fresh: {} listing edits, one at a time …",
                            args.fresh_samples
                        );
                        let conn = stack::connect(db.url(), 2).await?;
                        let f = market::fresh(
                            addr,
                            &conn,
                            fx,
                            args.fresh_samples,
                            Duration::from_secs(args.fresh_wait_secs),
                            Duration::from_millis(500),
                        )
                        .await?;
                        println!(
                            "[{footprint}] fresh: p50 {:.0} ms, p99 {:.0} ms, {} missed",
                            f.latency.p50_us as f64 / 1000.0,
                            f.latency.p99_us as f64 / 1000.0,
                            f.missed
                        );
                        market_report.fresh = Some(f);
                    }
                    _ => {
                        println!(
                            "[{footprint}] oversell: {} buyers accepting at once …",
                            fx.buyers.len()
                        );
                        let conn = stack::connect(db.url(), 2).await?;
                        let o = market::oversell(addr, &conn, fx).await?;
                        println!(
                            "[{footprint}] oversell: {} made, {} refused, {} other; stock {} → {}",
                            o.made, o.refused, o.other, o.stock, o.stock_after
                        );
                        market_report.oversell = Some(o);
                    }
                }
                continue;
            }
            if id == "disclosure" {
                if !disclosure_fixture {
                    let conn = stack::connect(db.url(), 2).await?;
                    disclosure::fixture(&conn, pair.user.id).await?;
                    disclosure_fixture = true;
                }
                for cmp in disclosure::comparisons(addr, base.addr()).await? {
                    pairs.push(compare(footprint, id, &cmp, &pids, &params, args.rounds).await?);
                }
                continue;
            }
            if id == "pages" {
                if !disclosure_fixture {
                    let conn = stack::connect(db.url(), 2).await?;
                    disclosure::fixture(&conn, pair.user.id).await?;
                    disclosure_fixture = true;
                }
                for cmp in disclosure::page_comparisons(addr) {
                    pairs.push(compare(footprint, id, &cmp, &pids, &params, args.rounds).await?);
                }
                continue;
            }
            if id == "stats" {
                if !ledger_done {
                    println!(
                        "[{footprint}] stats: inserting {} ledger lines …",
                        args.stats_lines
                    );
                    let conn = stack::connect(db.url(), 2).await?;
                    let secs = disclosure::ledger(&conn, args.stats_lines).await?;
                    println!(
                        "[{footprint}] stats: ledger in {secs:.1} s; rebuilding the rollups …"
                    );
                    stats_report.ledger = Some((args.stats_lines, secs));
                    let rebuild = RequestSpec::post_empty("/v1/admin/stats/rebuild")
                        .bearer(&pair.access_token)?;
                    let started = Instant::now();
                    let (status, body) =
                        tokio::time::timeout(Duration::from_secs(1800), http::once(addr, &rebuild))
                            .await
                            .context("the stats rebuild timed out")??;
                    if !status.is_success() {
                        bail!(
                            "POST /v1/admin/stats/rebuild answered {status}: {}",
                            String::from_utf8_lossy(&body)
                        );
                    }
                    let secs = started.elapsed().as_secs_f64();
                    println!("[{footprint}] stats: rebuilt in {secs:.1} s");
                    stats_report.rebuild = Some((serde_json::from_slice(&body)?, secs));
                    ledger_done = true;
                }
                stats_report.lines = args.stats_lines;
                // The downloads first, while wufei-api's memory is what the earlier
                // scenarios left, before the statistics load adds to it.
                stats_report.dataset = args.dataset.clone();
                let path = format!("/v1/open-data/{}.csv", args.dataset);
                for _ in 0..args.exports.max(1) {
                    let e = disclosure::export(addr, api.pid(), &path).await?;
                    println!(
                        "[{footprint}] stats: {path}: {:.1} MB in {:.2} s ({:.1} MB/s), RSS max {:.1} MiB",
                        e.bytes as f64 / 1e6,
                        e.secs,
                        e.mb_per_sec(),
                        e.rss_max_kib as f64 / 1024.0
                    );
                    stats_report.exports.push(e);
                }
                // At the run's connections, then at one (the latency of a lone request).
                for conns in [params.concurrency, 1] {
                    println!("[{footprint}] stats: GET /v1/stats/recycling, {conns} connections …");
                    let p = LoadParams {
                        concurrency: conns,
                        ..params.clone()
                    };
                    let s = disclosure::stats_load(addr, &p).await?;
                    println!(
                        "[{footprint}] stats: {:.0} req/s, p95 {:.1} ms",
                        s.rps(),
                        s.p95_us as f64 / 1000.0
                    );
                    stats_report.stats.push((s, conns));
                    settle().await;
                }
                continue;
            }
            let door_env = match (&door_env, scenarios::DOOR.contains(&id.as_str())) {
                (Some(env), true) => Some(env),
                _ => None,
            };
            if let Some(de) = door_env {
                if fixture.is_none() {
                    let needs_recyclers = args
                        .scenarios
                        .iter()
                        .any(|s| s == "dispatch" || s == "journey");
                    let recyclers = if needs_recyclers {
                        args.recyclers.max(1)
                    } else {
                        0
                    };
                    println!(
                        "[{footprint}] creating {} residents and {recyclers} recyclers",
                        args.residents
                    );
                    fixture = Some(
                        door::Fixture::build(de, args.residents, recyclers, args.slot_days).await?,
                    );
                }
                if let (Some(bin), true, None) = (&worker_bin, footprint == "redis", &worker) {
                    worker = Some(start_worker(&env, bin, tmp.path(), &args.rust_log, addr).await?);
                }
                door::retire_waiting(de).await?;
                let started = Instant::now();
                let drained = door::drain(
                    de,
                    footprint == "embedded",
                    Duration::from_secs(args.drain_secs),
                )
                .await?;
                if started.elapsed() > Duration::from_secs(1) {
                    println!(
                        "[{footprint}] waited {:.1} s for background jobs to drain",
                        started.elapsed().as_secs_f64()
                    );
                }
                if !drained {
                    println!(
                        "[{footprint}] warning: background jobs still due after {} s",
                        args.drain_secs
                    );
                }
            }
            let (Some(de), Some(fx)) = (door_env, fixture.as_ref()) else {
                if scenarios::DOOR.contains(&id.as_str()) {
                    bail!("{id}: no fixture");
                }
                let cmp = scenarios::build(id, &ctx).await?;
                pairs.push(compare(footprint, id, &cmp, &pids, &params, args.rounds).await?);
                continue;
            };
            match id.as_str() {
                "book" => {
                    let cmp = scenarios::book(&ctx, fx).await?;
                    let pair = compare(footprint, id, &cmp, &pids, &params, args.rounds).await?;
                    let mut sides = Vec::new();
                    for (side, max) in [
                        (&cmp.subject, pair.subject.rps()),
                        (&cmp.baseline, pair.baseline.rps()),
                    ] {
                        let rate = (max * args.rate_fraction).max(1.0);
                        println!(
                            "[{footprint}] {id} open loop: {} at {rate:.0} req/s …",
                            side.label
                        );
                        let stats =
                            load::run_rate(side.addr, side.workload.clone(), &params, rate).await?;
                        println!(
                            "[{footprint}] {id} open loop: {} p99 {:.2} ms",
                            side.label,
                            stats.p99_us as f64 / 1000.0
                        );
                        settle().await;
                        sides.push((side.label.clone(), max, stats));
                    }
                    open_loop.push(OpenLoopResult {
                        id: id.clone(),
                        fraction: args.rate_fraction,
                        sides,
                    });
                    pairs.push(pair);
                }
                "dispatch" => {
                    if let (Some(redis), None) = (&redis, &redis_stream) {
                        println!("[{footprint}] raw Redis XADD → XREADGROUP latency …");
                        let key = format!("{}:bench:stream", redis.prefix());
                        let back_to_back =
                            door::redis_stream_latency(redis.url(), &key, args.redis_samples, None)
                                .await?;
                        println!(
                            "[{footprint}] raw Redis XADD → XREADGROUP latency, paced as dispatch …"
                        );
                        let paced = door::redis_stream_latency(
                            redis.url(),
                            &key,
                            args.dispatch_samples,
                            Some(Duration::from_millis(args.dispatch_jitter_ms)),
                        )
                        .await?;
                        redis_stream = Some((back_to_back, paced));
                    }
                    println!(
                        "[{footprint}] dispatch: {} bookings, one at a time …",
                        args.dispatch_samples
                    );
                    let result = door::dispatch(
                        de,
                        fx,
                        args.dispatch_samples,
                        Duration::from_millis(args.offer_wait_ms),
                        Duration::from_millis(args.dispatch_jitter_ms),
                    )
                    .await?;
                    println!(
                        "[{footprint}] dispatch: p50 {:.1} ms, p99 {:.1} ms ({} offers, {} of them before the booking's answer, {} missed)",
                        result.offer.p50_us as f64 / 1000.0,
                        result.offer.p99_us as f64 / 1000.0,
                        result.offer.n,
                        result.before_answer,
                        result.missed
                    );
                    dispatch = Some(DispatchReport {
                        result,
                        redis: redis_stream.as_ref().map(|(b, _)| b.clone()),
                        redis_paced: redis_stream.as_ref().map(|(_, p)| p.clone()),
                        goal: 5.0,
                    });
                }
                "journey" => {
                    println!(
                        "[{footprint}] journey: {} residents, {} recyclers, {} s …",
                        args.journey_residents, args.recyclers, args.duration
                    );
                    let result = door::journey(
                        de,
                        fx,
                        args.journey_residents,
                        args.recyclers,
                        Duration::from_secs(args.warmup),
                        Duration::from_secs(args.duration),
                        Duration::from_secs(args.journey_timeout),
                    )
                    .await?;
                    println!(
                        "[{footprint}] journey: {:.1} journeys/s, {} failed",
                        result.per_sec(),
                        result.failed
                    );
                    journey = Some(result);
                }
                other => bail!("{other}: not a door-to-door scenario"),
            }
        }
        if let Some(mut w) = worker.take() {
            w.stop();
        }
        let after_load_rss_kib = api.rss_kib().ok();
        api.stop();
        results.push(FootprintResult {
            footprint: footprint.to_owned(),
            pairs,
            open_loop,
            dispatch,
            journey,
            points: points_report,
            market: market_report,
            stats: stats_report,
            memory: Memory {
                idle_rss_kib,
                after_load_rss_kib,
                idle_cpu_secs,
                idle_secs: args.idle,
                goal_kib: args.rss_goal_mib * 1024,
            },
        });
    }
    if let Some(mut b) = baseline.take() {
        b.stop();
    }
    db.drop_now().await?;
    Ok(results)
}

/// Measures a comparison `rounds` times (alternating which side goes first) and keeps the
/// round with the median ratio.
async fn compare(
    footprint: &str,
    id: &str,
    cmp: &scenarios::Comparison,
    pids: &[(SocketAddr, u32)],
    params: &LoadParams,
    rounds: usize,
) -> anyhow::Result<PairResult> {
    let rounds = rounds.max(1);
    let mut measured = Vec::new();
    for round in 0..rounds {
        // Odd rounds measure the baseline first, so drift favours neither side.
        let order = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        let (mut subject, mut base_stats) = (None, None);
        for is_subject in order {
            let side = if is_subject {
                &cmp.subject
            } else {
                &cmp.baseline
            };
            println!(
                "[{footprint}] {id} round {}/{rounds}: {} …",
                round + 1,
                side.label
            );
            let stats = measure(side, pids, params).await?;
            println!(
                "[{footprint}] {id} round {}/{rounds}: {} {:.0} req/s",
                round + 1,
                side.label,
                stats.rps()
            );
            settle().await;
            if is_subject {
                subject = Some(stats);
            } else {
                base_stats = Some(stats);
            }
        }
        let (Some(subject), Some(baseline)) = (subject, base_stats) else {
            bail!("a side of {id} was not measured");
        };
        measured.push(PairResult {
            id: cmp.id.to_owned(),
            subject_label: cmp.subject.label.clone(),
            subject,
            baseline_label: cmp.baseline.label.clone(),
            baseline,
            goal: cmp.goal,
            note: cmp.note.clone(),
        });
    }
    median_round(measured)
}

/// The round with the median throughput ratio; with several rounds, its note lists them all.
fn median_round(mut rounds: Vec<PairResult>) -> anyhow::Result<PairResult> {
    let all: Vec<String> = rounds.iter().map(|r| format!("{:.2}", r.ratio())).collect();
    rounds.sort_by(|a, b| a.ratio().total_cmp(&b.ratio()));
    let count = rounds.len();
    let Some(mut median) = rounds.into_iter().nth(count / 2) else {
        bail!("no round measured");
    };
    if count > 1 {
        let text = format!("median of {count} rounds (ratios {})", all.join(", "));
        median.note = Some(match median.note.take() {
            Some(n) => format!("{n}; {text}"),
            None => text,
        });
    }
    Ok(median)
}

/// Runs one side's load and adds the CPU figures: the server's CPU per request, the data
/// stores' (PostgreSQL and Redis processes), and how busy the machine was with anything else.
async fn measure(
    side: &scenarios::Side,
    pids: &[(SocketAddr, u32)],
    params: &LoadParams,
) -> anyhow::Result<load::LoadStats> {
    let Some(&(_, server_pid)) = pids.iter().find(|(a, _)| *a == side.addr) else {
        bail!("no server process serves {}", side.addr);
    };
    let own_pid = std::process::id();
    let sample = || -> anyhow::Result<[f64; 4]> {
        Ok([
            stack::cpu_secs(server_pid)?,
            stack::cpu_secs(own_pid)?,
            stack::cpu_secs_named("postgres") + stack::cpu_secs_named("redis-server"),
            stack::machine_busy_secs()?,
        ])
    };
    let before = sample()?;
    let started = Instant::now();
    let mut stats = load::run(side.addr, side.workload.clone(), params).await?;
    let wall = started.elapsed().as_secs_f64();
    let after = sample()?;
    let [server, own, db, machine] = [0, 1, 2, 3].map(|i| after[i] - before[i]);
    if stats.completed_total > 0 {
        let n = stats.completed_total as f64;
        stats.server_cpu_us_per_req = Some(server * 1e6 / n);
        stats.db_cpu_us_per_req = Some(db * 1e6 / n);
    }
    if wall > 0.0 {
        stats.other_load_cores = Some(((machine - server - own - db) / wall).max(0.0));
    }
    Ok(stats)
}

/// Starts `wufei-worker` with the footprint's environment and waits until it runs.
async fn start_worker(
    env: &ApiEnv,
    bin: &Path,
    dir: &Path,
    rust_log: &str,
    api: SocketAddr,
) -> anyhow::Result<Server> {
    println!("[redis] starting wufei-worker");
    let mut cmd = env.command(bin, dir);
    cmd.env("RUST_LOG", format!("{rust_log},wufei_worker=info"));
    let mut w = Server::spawn("wufei-worker", cmd, api, dir.join("worker-redis.log"))?;
    w.wait_log("wufei-worker running", Duration::from_secs(60))
        .await?;
    Ok(w)
}

/// A Meilisearch the bench started: the server, its master key, the index prefix.
struct Meili {
    server: Server,
    key: String,
    prefix: String,
}

/// Starts Meilisearch (`bin` is its `run` script) on a free port with a fresh database in
/// `dir` and a random master key.
async fn start_meili(bin: &Path, dir: &Path) -> anyhow::Result<Meili> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()?));
    let home = dir.join("meili");
    std::fs::create_dir_all(&home)?;
    let key = jwt_secret();
    let mut cmd = clean_command(bin, &home);
    let path = |p: &str| home.join(p).display().to_string();
    cmd.args([
        "--http-addr",
        &addr.to_string(),
        "--db-path",
        &path("data.ms"),
        "--dump-dir",
        &path("dumps"),
        "--snapshot-dir",
        &path("snapshots"),
        "--master-key",
        &key,
        "--no-analytics",
        "--env",
        "development",
    ]);
    println!("starting Meilisearch on {addr}");
    let mut server = Server::spawn("meilisearch", cmd, addr, dir.join("meili.log"))?;
    server
        .wait_ready("/health", Duration::from_secs(120))
        .await?;
    Ok(Meili {
        server,
        key,
        prefix: format!(
            "wufei_bench_{}_",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ),
    })
}

/// A pause between runs so the previous run's connections close.
async fn settle() {
    tokio::time::sleep(Duration::from_secs(1)).await;
}
