//! The green-points scenarios, on the Redis footprint only (they need `--redis-url`):
//!
//! - `settle`: N completed pickups are staged by SQL with their `pickup.completed` outbox
//!   rows while no worker runs; two `wufei-worker` processes are started and timed until
//!   every one is `settled`. The baseline settles a second set of N pickups in a loop on one
//!   connection, doing the same database work per pickup in one transaction with plain SQL.
//! - `backlog`: completions arrive at a steady rate with no worker running for the outage;
//!   then two workers start while arrivals go on, and the backlog is watched until it is
//!   back near zero.
//! - `redeem`: see [`crate::redeem`] (a pair of request streams, in the main table).
//!
//! The fixture is made by SQL: the API has no way to make a completed pickup without a
//! whole journey (see `door::journey` for that), and the point here is the settlement.

use std::{
    fmt::Write as _,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    Statement, TransactionTrait, Value,
};
use uuid::Uuid;

use crate::{
    door::{CENTRE, DISTRICT},
    report::FootprintResult,
    stack::{self, Server},
};

/// The green-points scenarios.
pub const SCENARIOS: &[&str] = &["settle", "backlog", "redeem"];

/// What the scenarios need of the run.
pub struct Ctx {
    /// wufei-api (Redis footprint).
    pub api: std::net::SocketAddr,
    /// The scratch database's URL.
    pub db_url: String,
    /// The `wufei-worker` binary.
    pub worker_bin: PathBuf,
    /// wufei-api's environment on the Redis footprint (the workers get the same).
    pub worker_env: Vec<(String, String)>,
    /// `RUST_LOG` of the servers.
    pub rust_log: String,
    /// Where logs go.
    pub work_dir: PathBuf,
    /// The benchmark administrator's access token.
    pub admin_token: String,
    /// The run's JWT secret (residents' tokens are signed with it).
    pub secret: String,
}

/// Flags of the points scenarios.
#[derive(Clone, Debug)]
pub struct Params {
    /// `settle`: pickups per side.
    pub settle_pickups: usize,
    /// Residents each fixture group spreads its pickups over.
    pub residents: usize,
    /// `backlog`: worker outage, seconds.
    pub outage_secs: u64,
    /// `backlog`: completions per second.
    pub arrival_rate: f64,
    /// `backlog`: give up draining after this many seconds.
    pub drain_limit_secs: u64,
    /// Worker processes.
    pub workers: usize,
}

/// What the points scenarios measured on one footprint.
#[derive(Default)]
pub struct Report {
    /// `settle`.
    pub settle: Option<SettleResult>,
    /// `backlog`.
    pub backlog: Option<BacklogResult>,
}

impl Report {
    /// Whether a goal was missed.
    pub fn missed(&self) -> bool {
        self.settle.as_ref().is_some_and(|s| !s.passed())
            || self.backlog.as_ref().is_some_and(|b| !b.passed())
    }
}

/// CPU figures of one timed side.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu {
    /// CPU seconds of the process(es) doing the work (the workers, or the bench itself).
    pub doer_secs: f64,
    /// CPU seconds of PostgreSQL and Redis.
    pub store_secs: f64,
    /// Cores busy on average with anything else.
    pub other_cores: f64,
}

struct CpuProbe {
    pids: Vec<u32>,
    start: [f64; 4],
    at: Instant,
}

impl CpuProbe {
    fn sample(pids: &[u32]) -> [f64; 4] {
        let doer: f64 = pids.iter().filter_map(|p| stack::cpu_secs(*p).ok()).sum();
        let own = stack::cpu_secs(std::process::id()).unwrap_or(0.0);
        let store = stack::cpu_secs_named("postgres") + stack::cpu_secs_named("redis-server");
        let machine = stack::machine_busy_secs().unwrap_or(0.0);
        [doer, own, store, machine]
    }

    fn start(pids: Vec<u32>) -> Self {
        let start = Self::sample(&pids);
        Self {
            pids,
            start,
            at: Instant::now(),
        }
    }

    /// `own_is_doer`: the bench process is the side doing the work (the baseline).
    fn stop(&self, own_is_doer: bool) -> Cpu {
        let end = Self::sample(&self.pids);
        let [doer, own, store, machine] = [0, 1, 2, 3].map(|i| end[i] - self.start[i]);
        let wall = self.at.elapsed().as_secs_f64().max(1e-9);
        let doer = if own_is_doer { own } else { doer };
        let own_other = if own_is_doer { 0.0 } else { own };
        Cpu {
            doer_secs: doer,
            store_secs: store,
            other_cores: ((machine - doer - own_other - store) / wall).max(0.0),
        }
    }
}

/// The settlement comparison.
#[derive(Clone, Debug)]
pub struct SettleResult {
    /// Pickups per side.
    pub pickups: usize,
    /// Worker processes.
    pub workers: usize,
    /// Wufei: pickups settled in the timed window.
    pub wufei_settled: usize,
    /// Wufei: seconds from both workers running to the last pickup settled.
    pub wufei_secs: f64,
    /// Wufei: CPU.
    pub wufei_cpu: Cpu,
    /// Baseline: seconds for its loop.
    pub baseline_secs: f64,
    /// Baseline: CPU.
    pub baseline_cpu: Cpu,
    /// Least acceptable ratio.
    pub goal: f64,
    /// What the scratch database's active backends were doing while the workers settled:
    /// (wait event or `running`, backends seen) over `wait_samples` samples.
    pub waits: Vec<(String, u64)>,
    /// Samples of `pg_stat_activity` taken.
    pub wait_samples: u64,
}

impl SettleResult {
    /// Wufei's pickups settled per second.
    pub fn wufei_rate(&self) -> f64 {
        rate(self.wufei_settled, self.wufei_secs)
    }

    /// The baseline's pickups settled per second.
    pub fn baseline_rate(&self) -> f64 {
        rate(self.pickups, self.baseline_secs)
    }

    /// Wufei ÷ baseline.
    pub fn ratio(&self) -> f64 {
        let b = self.baseline_rate();
        if b > 0.0 { self.wufei_rate() / b } else { 0.0 }
    }

    /// Whether the goal is met.
    pub fn passed(&self) -> bool {
        self.ratio() >= self.goal
    }
}

fn rate(n: usize, secs: f64) -> f64 {
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

/// The backlog scenario.
#[derive(Clone, Debug, Default)]
pub struct BacklogResult {
    /// Worker processes.
    pub workers: usize,
    /// The asked arrival rate, per second.
    pub arrival_rate: f64,
    /// The arrival rate achieved over the whole scenario.
    pub arrival_actual: f64,
    /// The outage, seconds.
    pub outage_secs: u64,
    /// Unsettled pickups when both workers were running.
    pub backlog_at_restart: u64,
    /// Unsettled pickups when the drain ended.
    pub backlog_at_end: u64,
    /// What counts as drained (one second of arrivals).
    pub threshold: u64,
    /// Seconds from both workers running to the backlog at or below the threshold.
    pub drain_secs: f64,
    /// Whether it drained within the limit.
    pub drained: bool,
    /// Pickups settled during the drain.
    pub settled_during_drain: u64,
    /// (seconds since the workers were running, backlog), about once a second.
    pub series: Vec<(f64, u64)>,
    /// CPU during the drain.
    pub cpu: Cpu,
    /// Least acceptable net drain rate ÷ arrival rate.
    pub goal: f64,
}

impl BacklogResult {
    /// How fast the backlog shrank: (backlog at restart − at end) ÷ drain time.
    pub fn net_drain_rate(&self) -> f64 {
        if self.drain_secs > 0.0 {
            (self.backlog_at_restart as f64 - self.backlog_at_end as f64) / self.drain_secs
        } else {
            0.0
        }
    }

    /// Pickups settled per second during the drain (net drain + arrivals).
    pub fn settle_rate(&self) -> f64 {
        if self.drain_secs > 0.0 {
            self.settled_during_drain as f64 / self.drain_secs
        } else {
            0.0
        }
    }

    /// Net drain rate ÷ achieved arrival rate.
    pub fn ratio(&self) -> f64 {
        if self.arrival_actual > 0.0 {
            self.net_drain_rate() / self.arrival_actual
        } else {
            0.0
        }
    }

    /// Whether the goal is met.
    pub fn passed(&self) -> bool {
        self.drained && self.ratio() >= self.goal
    }
}

fn stmt(sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

async fn connect(url: &str, max: u32) -> anyhow::Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .max_connections(max)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30));
    Database::connect(opts)
        .await
        .context("bench: connecting to the scratch database")
}

async fn scalar_i64(db: &impl ConnectionTrait, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?
        .context("no row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// Residents (each with an address), one approved recycler, a slot and two categories, all
/// made by SQL; the pickups of a group carry its tag in `note`.
pub struct Group {
    tag: String,
    residents: Vec<(Uuid, Uuid)>,
    recycler: Uuid,
    slot: Uuid,
    paper: Uuid,
    plastic: Uuid,
}

impl Group {
    /// Creates `residents` residents with an address each and one approved recycler.
    pub async fn create(
        db: &DatabaseConnection,
        tag: &str,
        residents: usize,
    ) -> anyhow::Result<Self> {
        let residents: Vec<(Uuid, Uuid)> = (0..residents.max(1))
            .map(|_| (Uuid::now_v7(), Uuid::now_v7()))
            .collect();
        let users: Vec<String> = residents
            .iter()
            .map(|(u, _)| format!("('{u}', 'resident', '{tag}', 'active', now(), now())"))
            .collect();
        let addresses: Vec<String> = residents
            .iter()
            .enumerate()
            .map(|(n, (u, a))| {
                format!(
                    "('{a}', '{u}', '家', '王女士', '13912345678', '{DISTRICT}', '星光花园', \
                     '{}号楼2单元501', {}, {}, now(), now())",
                    n + 1,
                    CENTRE.0,
                    CENTRE.1
                )
            })
            .collect();
        let recycler = Uuid::now_v7();
        let txn = db.begin().await?;
        txn.execute_unprepared(&format!(
            "INSERT INTO users (id, role, nickname, status, created_at, updated_at) VALUES {}",
            users.join(", ")
        ))
        .await
        .context("inserting residents")?;
        txn.execute_unprepared(&format!(
            "INSERT INTO addresses (id, user_id, label, contact_name, contact_phone, \
             district_code, community, detail, lat, lng, created_at, updated_at) VALUES {}",
            addresses.join(", ")
        ))
        .await
        .context("inserting addresses")?;
        txn.execute_unprepared(&format!(
            "INSERT INTO users (id, role, nickname, status, created_at, updated_at) \
             VALUES ('{recycler}', 'recycler', '{tag}', 'active', now(), now());
             INSERT INTO recyclers (user_id, name, phone, vehicle, status, reviewed_at, \
             slot_capacity, created_at, updated_at) VALUES ('{recycler}', '回收员', \
             '13500009999', 'tricycle', 'approved', now(), 1000000, now(), now())"
        ))
        .await
        .context("inserting the recycler")?;
        txn.commit().await?;
        let slot_row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT id FROM pickup_slots WHERE district_code = '{DISTRICT}' \
                     ORDER BY starts_at LIMIT 1"
                ),
            ))
            .await?
            .context("no pickup slot in the district (the server generates them at start-up)")?;
        let slot: Uuid = slot_row.try_get("", "id")?;
        let mut paper = None;
        let mut plastic = None;
        for row in db
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT id, code FROM categories WHERE code IN ('paper', 'plastic')",
            ))
            .await?
        {
            let code: String = row.try_get("", "code")?;
            let id: Uuid = row.try_get("", "id")?;
            match code.as_str() {
                "paper" => paper = Some(id),
                _ => plastic = Some(id),
            }
        }
        let (Some(paper), Some(plastic)) = (paper, plastic) else {
            bail!("categories paper and plastic not seeded");
        };
        Ok(Self {
            tag: tag.to_owned(),
            residents,
            recycler,
            slot,
            paper,
            plastic,
        })
    }

    /// One statement (so atomic) inserting `k` completed pickups (paper 5.2 kg, and for
    /// about half also plastic 1.8 kg), spread over the residents from `offset`, and — with
    /// `outbox` — their `pickup.completed` outbox rows, as `complete` stages them.
    fn stage_sql(&self, k: usize, offset: usize, outbox: bool) -> String {
        let n = self.residents.len();
        let ids: Vec<String> = self
            .residents
            .iter()
            .map(|(u, _)| format!("'{u}'"))
            .collect();
        let addrs: Vec<String> = self
            .residents
            .iter()
            .map(|(_, a)| format!("'{a}'"))
            .collect();
        let last = if outbox {
            "INSERT INTO outbox (id, topic, payload, run_at, created_at) \
             SELECT gen_random_uuid(), 'pickup.completed', \
             json_build_object('pickup_id', id)::text, now(), now() FROM p"
        } else {
            "SELECT count(*) FROM p"
        };
        format!(
            "WITH r AS (SELECT ARRAY[{ids}]::uuid[] AS ids, ARRAY[{addrs}]::uuid[] AS addrs), \
             p AS (INSERT INTO pickups (id, resident_id, address_id, address_snapshot, \
               district_code, lat, lng, slot_id, status, recycler_id, note, completed_at, \
               created_at, updated_at) \
               SELECT gen_random_uuid(), r.ids[1 + (g + {offset}) % {n}], \
               r.addrs[1 + (g + {offset}) % {n}], '{{}}', '{DISTRICT}', {lat}, {lng}, \
               '{slot}', 'completed', '{recycler}', '{tag}', now(), now(), now() \
               FROM generate_series(0, {k} - 1) g, r RETURNING id), \
             i1 AS (INSERT INTO pickup_items (id, pickup_id, category_id, estimated_weight_g, \
               actual_weight_g) SELECT gen_random_uuid(), id, '{paper}', 5000, 5200 FROM p), \
             i2 AS (INSERT INTO pickup_items (id, pickup_id, category_id, estimated_weight_g, \
               actual_weight_g) SELECT gen_random_uuid(), id, '{plastic}', 2000, 1800 FROM p \
               WHERE get_byte(uuid_send(id), 15) % 2 = 0) \
             {last}",
            ids = ids.join(","),
            addrs = addrs.join(","),
            lat = CENTRE.0,
            lng = CENTRE.1,
            slot = self.slot,
            recycler = self.recycler,
            tag = self.tag,
            paper = self.paper,
            plastic = self.plastic,
        )
    }

    /// Inserts `k` completed pickups (see [`Self::stage_sql`]).
    async fn stage(
        &self,
        db: &impl ConnectionTrait,
        k: usize,
        offset: usize,
        outbox: bool,
    ) -> anyhow::Result<()> {
        if k == 0 {
            return Ok(());
        }
        db.execute_unprepared(&self.stage_sql(k, offset, outbox))
            .await
            .context("staging completed pickups")?;
        Ok(())
    }

    /// (settled, still completed) pickups of the group.
    async fn counts(&self, db: &impl ConnectionTrait) -> anyhow::Result<(u64, u64)> {
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT count(*) FILTER (WHERE status = 'settled') AS settled, \
                     count(*) FILTER (WHERE status = 'completed') AS waiting \
                     FROM pickups WHERE note = '{}'",
                    self.tag
                ),
            ))
            .await?
            .context("no count")?;
        let settled: i64 = row.try_get("", "settled")?;
        let waiting: i64 = row.try_get("", "waiting")?;
        Ok((settled.max(0) as u64, waiting.max(0) as u64))
    }

    async fn pickup_ids(&self, db: &impl ConnectionTrait) -> anyhow::Result<Vec<Uuid>> {
        let rows = db
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT id FROM pickups WHERE note = '{}' AND status = 'completed' ORDER BY id",
                    self.tag
                ),
            ))
            .await?;
        rows.iter()
            .map(|r| r.try_get::<Uuid>("", "id").map_err(Into::into))
            .collect()
    }
}

/// Starts `n` `wufei-worker` processes with the Redis footprint's environment and waits
/// until each runs. They are killed when dropped.
pub async fn start_workers(ctx: &Ctx, n: usize, label: &str) -> anyhow::Result<Vec<Server>> {
    let mut workers = Vec::with_capacity(n);
    for i in 0..n {
        let mut cmd = crate::clean_command(&ctx.worker_bin, &ctx.work_dir);
        cmd.envs(ctx.worker_env.iter().map(|(k, v)| (k, v)));
        cmd.env("RUST_LOG", format!("{},wufei_worker=info", ctx.rust_log));
        workers.push(Server::spawn(
            "wufei-worker",
            cmd,
            ctx.api,
            ctx.work_dir.join(format!("worker-{label}-{i}.log")),
        )?);
    }
    for w in &mut workers {
        w.wait_log("wufei-worker running", Duration::from_secs(60))
            .await?;
    }
    Ok(workers)
}

fn stop_all(workers: &mut Vec<Server>) {
    for w in workers.iter_mut() {
        w.stop();
    }
    workers.clear();
}

/// Waits until the workers' follow-up jobs are done — nothing due in the outbox and no
/// notification still waiting for its `notify.deliver` job — then a little longer for the
/// rest of the queue; at most `limit`. Workers are killed, not stopped gracefully, so
/// whatever is left in the Redis queue would be the next scenario's workers' first work.
async fn quiesce(db: &impl ConnectionTrait, limit: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        let due = scalar_i64(
            db,
            "SELECT (SELECT count(*) FROM outbox WHERE run_at <= now()) \
             + (SELECT count(*) FROM notifications WHERE wechat_state = 'pending')",
        )
        .await?;
        if due == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(())
}

/// Opens the district's programme account (with its budget) through the API, so both
/// sides find it: `POST /v1/admin/points/budgets`.
async fn open_budget(ctx: &Ctx) -> anyhow::Result<()> {
    let spec = crate::http::RequestSpec::post_json(
        "/v1/admin/points/budgets",
        &serde_json::json!({
            "district_code": DISTRICT, "points": 1_000_000,
            "reason": "wufei-bench points scenarios"
        }),
    )?
    .bearer(&ctx.admin_token)?;
    crate::door::call(ctx.api, &spec, hyper::StatusCode::CREATED).await?;
    Ok(())
}

/// `settle`: Wufei's two workers against the bare loop, N pickups each.
pub async fn settle(ctx: &Ctx, p: &Params) -> anyhow::Result<SettleResult> {
    let db = connect(&ctx.db_url, 2).await?;
    open_budget(ctx).await?;
    let n = p.settle_pickups.max(1);

    // Wufei: stage N completions with no worker running, then start the workers.
    let wufei = Group::create(&db, "bench:settle:wufei", p.residents).await?;
    wufei.stage(&db, n, 0, true).await?;
    println!(
        "[redis] settle: {n} completed pickups staged; starting {} workers",
        p.workers
    );
    let mut workers = start_workers(ctx, p.workers, "settle").await?;
    let probe = CpuProbe::start(workers.iter().map(Server::pid).collect());
    let t0 = Instant::now();
    let (settled0, _) = wufei.counts(&db).await?;
    let limit = Duration::from_secs(600);
    let mut waits: Vec<(String, u64)> = Vec::new();
    let mut wait_samples = 0u64;
    let t_end = loop {
        let (settled, _) = wufei.counts(&db).await?;
        if settled >= n as u64 {
            break Instant::now();
        }
        sample_waits(&db, &mut waits).await?;
        wait_samples += 1;
        if t0.elapsed() > limit {
            bail!("settle: only {settled} of {n} pickups settled after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let wufei_cpu = probe.stop(false);
    let wufei_secs = (t_end - t0).as_secs_f64();
    let wufei_settled = n - settled0 as usize;
    println!(
        "[redis] settle: Wufei {wufei_settled} pickups in {wufei_secs:.2} s ({:.1}/s)",
        rate(wufei_settled, wufei_secs)
    );
    quiesce(&db, Duration::from_secs(60)).await?;
    stop_all(&mut workers);

    // Baseline: the same work in a bare loop on one connection.
    let bare = Group::create(&db, "bench:settle:bare", p.residents).await?;
    bare.stage(&db, n, 0, false).await?;
    let ids = bare.pickup_ids(&db).await?;
    let one = connect(&ctx.db_url, 1).await?;
    let accounts = BareAccounts::load(&one).await?;
    println!("[redis] settle: baseline loop over {} pickups …", ids.len());
    let probe = CpuProbe::start(Vec::new());
    let started = Instant::now();
    let mut outbox_ids = Vec::with_capacity(ids.len() * 2);
    for id in &ids {
        let txn = one.begin().await?;
        bare_settle(&txn, &accounts, *id, &mut outbox_ids).await?;
        txn.commit().await?;
    }
    let baseline_secs = started.elapsed().as_secs_f64();
    let baseline_cpu = probe.stop(true);
    println!(
        "[redis] settle: baseline {} pickups in {baseline_secs:.2} s ({:.1}/s)",
        ids.len(),
        rate(ids.len(), baseline_secs)
    );
    let (bare_settled, _) = bare.counts(&db).await?;
    if bare_settled != n as u64 {
        bail!("settle: the baseline settled {bare_settled} of {n}");
    }
    // Its follow-up outbox rows would be picked up by the next scenario's workers; its
    // notifications would wait for a delivery that never comes.
    db.execute_unprepared(
        "UPDATE notifications SET wechat_state = 'none' WHERE wechat_state = 'pending' \
         AND user_id IN (SELECT id FROM users WHERE nickname = 'bench:settle:bare')",
    )
    .await?;
    for chunk in outbox_ids.chunks(1000) {
        let list: Vec<String> = chunk.iter().map(|u| format!("'{u}'")).collect();
        db.execute_unprepared(&format!(
            "DELETE FROM outbox WHERE id IN ({})",
            list.join(",")
        ))
        .await?;
    }
    let _ = one.close().await;
    let _ = db.close().await;
    Ok(SettleResult {
        pickups: n,
        workers: p.workers,
        wufei_settled,
        wufei_secs,
        wufei_cpu,
        baseline_secs,
        baseline_cpu,
        goal: 0.3,
        waits,
        wait_samples,
    })
}

/// Adds what the database's other active backends are doing now to `waits`.
async fn sample_waits(
    db: &impl ConnectionTrait,
    waits: &mut Vec<(String, u64)>,
) -> anyhow::Result<()> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT coalesce(wait_event_type || ':' || wait_event, 'running') AS what, \
             count(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
             AND state = 'active' AND pid <> pg_backend_pid() GROUP BY 1",
        ))
        .await?;
    for row in rows {
        let what: String = row.try_get("", "what")?;
        let n: i64 = row.try_get("", "n")?;
        match waits.iter_mut().find(|(w, _)| *w == what) {
            Some((_, total)) => *total += n.max(0) as u64,
            None => waits.push((what, n.max(0) as u64)),
        }
    }
    Ok(())
}

/// Account ids the bare loop looks up once (district accounts); residents' and recyclers'
/// accounts it finds or opens per pickup.
struct BareAccounts {
    programme: Uuid,
    fee_payable: Uuid,
}

impl BareAccounts {
    async fn load(db: &impl ConnectionTrait) -> anyhow::Result<Self> {
        db.execute_unprepared(&format!(
            "INSERT INTO ledger_accounts (id, key, kind, unit, district_code, balance, \
             min_balance, created_at) VALUES ('{}', 'fee_payable:{DISTRICT}', 'fee_payable', \
             'fen', '{DISTRICT}', 0, NULL, now()) ON CONFLICT (key) DO NOTHING",
            Uuid::now_v7()
        ))
        .await?;
        let mut programme = None;
        let mut fee_payable = None;
        for row in db
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT key, id FROM ledger_accounts WHERE key IN \
                     ('programme:{DISTRICT}', 'fee_payable:{DISTRICT}')"
                ),
            ))
            .await?
        {
            let key: String = row.try_get("", "key")?;
            let id: Uuid = row.try_get("", "id")?;
            if key.starts_with("programme:") {
                programme = Some(id);
            } else {
                fee_payable = Some(id);
            }
        }
        let (Some(programme), Some(fee_payable)) = (programme, fee_payable) else {
            bail!("the district's programme account is missing");
        };
        Ok(Self {
            programme,
            fee_payable,
        })
    }
}

const ITEMS_SQL: &str = "SELECT i.category_id, c.unit, i.actual_weight_g, i.actual_count, \
     r.points_per_unit, r.service_fee_fen_per_unit \
     FROM pickup_items i JOIN categories c ON c.id = i.category_id \
     LEFT JOIN LATERAL (SELECT points_per_unit, service_fee_fen_per_unit FROM category_rates \
       WHERE category_id = i.category_id AND effective_from <= $2 \
       ORDER BY effective_from DESC LIMIT 1) r ON true \
     WHERE i.pickup_id = $1";

fn price(unit: &str, weight_g: i64, count: i64, per_unit: i64) -> i64 {
    if unit == "kg" {
        weight_g.saturating_mul(per_unit) / 1000
    } else {
        count.saturating_mul(per_unit)
    }
}

/// Finds the account with `key`, or opens it.
async fn bare_account(
    txn: &DatabaseTransaction,
    found: &[(String, Uuid)],
    key: &str,
    kind: &str,
    unit: &str,
    user: Uuid,
) -> anyhow::Result<Uuid> {
    if let Some((_, id)) = found.iter().find(|(k, _)| k == key) {
        return Ok(*id);
    }
    let id = Uuid::now_v7();
    txn.execute_raw(stmt(
        "INSERT INTO ledger_accounts (id, key, kind, unit, user_id, balance, min_balance, \
         created_at) VALUES ($1, $2, $3, $4, $5, 0, 0, now())",
        vec![id.into(), key.into(), kind.into(), unit.into(), user.into()],
    ))
    .await?;
    Ok(id)
}

/// The bare settlement of one pickup: the same rows as Wufei's, in plain SQL.
async fn bare_settle(
    txn: &DatabaseTransaction,
    acct: &BareAccounts,
    id: Uuid,
    outbox_ids: &mut Vec<Uuid>,
) -> anyhow::Result<()> {
    let Some(p) = txn
        .query_one_raw(stmt(
            "SELECT resident_id, recycler_id, completed_at, district_code, community_id, status \
             FROM pickups WHERE id = $1 FOR UPDATE",
            vec![id.into()],
        ))
        .await?
    else {
        bail!("pickup {id} vanished");
    };
    let status: String = p.try_get("", "status")?;
    if status != "completed" {
        return Ok(());
    }
    let resident: Uuid = p.try_get("", "resident_id")?;
    let recycler: Uuid = p.try_get("", "recycler_id")?;
    let completed_at: DateTime<Utc> = p.try_get("", "completed_at")?;
    let district: String = p.try_get("", "district_code")?;
    let community: Option<Uuid> = p.try_get("", "community_id")?;

    let mut lines: Vec<(Uuid, i64, i64, i64, i64)> = Vec::new();
    for row in txn
        .query_all_raw(stmt(ITEMS_SQL, vec![id.into(), completed_at.into()]))
        .await?
    {
        let category: Uuid = row.try_get("", "category_id")?;
        let unit: String = row.try_get("", "unit")?;
        let w = i64::from(
            row.try_get::<Option<i32>>("", "actual_weight_g")?
                .unwrap_or(0),
        );
        let c = i64::from(row.try_get::<Option<i32>>("", "actual_count")?.unwrap_or(0));
        if w <= 0 && c <= 0 {
            continue;
        }
        let ppu = i64::from(
            row.try_get::<Option<i32>>("", "points_per_unit")?
                .unwrap_or(0),
        );
        let fee = i64::from(
            row.try_get::<Option<i32>>("", "service_fee_fen_per_unit")?
                .unwrap_or(0),
        );
        lines.push((
            category,
            w,
            c,
            price(&unit, w, c, ppu),
            price(&unit, w, c, fee),
        ));
    }
    let points: i64 = lines.iter().map(|l| l.3).sum();
    let fee_fen: i64 = lines.iter().map(|l| l.4).sum();

    let resident_key = format!("resident:{resident}");
    let recycler_key = format!("recycler:{recycler}");
    let found: Vec<(String, Uuid)> = txn
        .query_all_raw(stmt(
            "SELECT key, id FROM ledger_accounts WHERE key IN ($1, $2)",
            vec![resident_key.clone().into(), recycler_key.clone().into()],
        ))
        .await?
        .iter()
        .map(|r| Ok((r.try_get("", "key")?, r.try_get("", "id")?)))
        .collect::<anyhow::Result<_>>()?;
    let resident_acct =
        bare_account(txn, &found, &resident_key, "resident", "points", resident).await?;
    let recycler_acct =
        bare_account(txn, &found, &recycler_key, "recycler", "fen", recycler).await?;

    let tx_id = Uuid::now_v7();
    txn.execute_raw(stmt(
        "INSERT INTO ledger_transactions (id, source_key, kind, memo, created_at) \
         VALUES ($1, $2, 'settlement', $3, now())",
        vec![
            tx_id.into(),
            format!("pickup:{id}").into(),
            format!("上门回收积分 {points}").into(),
        ],
    ))
    .await?;
    // Postings: the triggers apply them to the balances (and the floors refuse overdrafts).
    let mut legs = Vec::new();
    if fee_fen > 0 {
        legs.push((acct.fee_payable, recycler_acct, fee_fen));
    }
    if points > 0 {
        legs.push((acct.programme, resident_acct, points));
    }
    if !legs.is_empty() {
        let mut sql = String::from(
            "INSERT INTO ledger_postings (id, transaction_id, debit_account_id, \
             credit_account_id, amount, created_at) VALUES ",
        );
        let mut values: Vec<Value> = Vec::new();
        for (i, (from, to, amount)) in legs.iter().enumerate() {
            let b = i * 5;
            if i > 0 {
                sql.push_str(", ");
            }
            let _ = write!(
                sql,
                "(${}, ${}, ${}, ${}, ${}, now())",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5
            );
            values.extend([
                Uuid::now_v7().into(),
                tx_id.into(),
                (*from).into(),
                (*to).into(),
                (*amount).into(),
            ]);
        }
        txn.execute_raw(stmt(&sql, values)).await?;
    }
    if points > 0 {
        txn.execute_raw(stmt(
            "INSERT INTO point_lots (id, account_id, transaction_id, district_code, points, \
             remaining, earned_at, expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6, \
             $6 + interval '365 days')",
            vec![
                Uuid::now_v7().into(),
                resident_acct.into(),
                tx_id.into(),
                district.clone().into(),
                points.into(),
                completed_at.into(),
            ],
        ))
        .await?;
    }
    if !lines.is_empty() {
        let local_date = (completed_at + chrono::Duration::hours(8))
            .format("%Y-%m-%d")
            .to_string();
        let mut sql = String::from(
            "INSERT INTO recycling_records (id, source_key, transaction_id, pickup_id, \
             category_id, weight_g, count, points, fee_fen, district_code, community_id, \
             recycler_id, local_date, created_at) VALUES ",
        );
        let mut values: Vec<Value> = Vec::new();
        for (i, (category, w, c, pts, fee)) in lines.iter().enumerate() {
            let b = i * 13;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for j in 1..=13 {
                let _ = write!(sql, "${}, ", b + j);
            }
            sql.push_str("now())");
            values.extend([
                Uuid::now_v7().into(),
                format!("pickup:{id}:{category}").into(),
                tx_id.into(),
                id.into(),
                (*category).into(),
                (*w).into(),
                (*c).into(),
                (*pts).into(),
                (*fee).into(),
                district.clone().into(),
                community.into(),
                recycler.into(),
                local_date.clone().into(),
            ]);
        }
        txn.execute_raw(stmt(&sql, values)).await?;
    }
    let updated = txn
        .execute_raw(stmt(
            "UPDATE pickups SET status = 'settled', updated_at = now() \
             WHERE id = $1 AND status = 'completed'",
            vec![id.into()],
        ))
        .await?;
    if updated.rows_affected() != 1 {
        bail!("pickup {id}: not completed any more");
    }
    txn.execute_raw(stmt(
        "INSERT INTO pickup_events (id, pickup_id, from_status, to_status, actor_id, \
         actor_role, reason, created_at) VALUES ($1, $2, 'completed', 'settled', NULL, \
         'system', $3, now())",
        vec![
            Uuid::now_v7().into(),
            id.into(),
            format!("{points} points posted").into(),
        ],
    ))
    .await?;
    // Wufei stages `pickup.status_changed` and, with points, a notification and its
    // delivery job: the same rows here.
    let changed = Uuid::now_v7();
    outbox_ids.push(changed);
    let changed_payload = serde_json::json!({
        "pickup_id": id, "status": "settled", "resident_id": resident,
        "recycler_id": recycler, "withdrawn_from": [],
    })
    .to_string();
    if points > 0 {
        let note = Uuid::now_v7();
        let deliver = Uuid::now_v7();
        outbox_ids.push(deliver);
        txn.execute_raw(stmt(
            "INSERT INTO notifications (id, user_id, kind, title, body, data, created_at, \
             wechat_state) VALUES ($1, $2, 'points', '积分已到账', $3, $4, now(), 'pending')",
            vec![
                note.into(),
                resident.into(),
                format!("本次上门回收获得 {points} 绿色积分。").into(),
                serde_json::json!({ "pickup_id": id, "points": points })
                    .to_string()
                    .into(),
            ],
        ))
        .await?;
        txn.execute_raw(stmt(
            "INSERT INTO outbox (id, topic, payload, run_at, created_at) VALUES \
             ($1, 'pickup.status_changed', $2, now(), now()), \
             ($3, 'notify.deliver', $4, now(), now())",
            vec![
                changed.into(),
                changed_payload.into(),
                deliver.into(),
                serde_json::json!({ "notification_id": note })
                    .to_string()
                    .into(),
            ],
        ))
        .await?;
    } else {
        txn.execute_raw(stmt(
            "INSERT INTO outbox (id, topic, payload, run_at, created_at) VALUES \
             ($1, 'pickup.status_changed', $2, now(), now())",
            vec![changed.into(), changed_payload.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Stops its task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<anyhow::Result<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `backlog`: a worker outage under steady completions, then the drain.
pub async fn backlog(ctx: &Ctx, p: &Params) -> anyhow::Result<BacklogResult> {
    let db = connect(&ctx.db_url, 2).await?;
    open_budget(ctx).await?;
    let group = Arc::new(Group::create(&db, "bench:backlog", p.residents).await?);
    let arrival_rate = p.arrival_rate.max(0.1);
    let staged = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let arrivals_db = connect(&ctx.db_url, 1).await?;
    let arrivals_started = Instant::now();
    let arrivals = AbortOnDrop(tokio::spawn({
        let (group, staged, stop) = (group.clone(), staged.clone(), stop.clone());
        async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let due = (arrivals_started.elapsed().as_secs_f64() * arrival_rate).floor() as u64;
                let done = staged.load(Ordering::Relaxed);
                if due > done {
                    let k = (due - done) as usize;
                    group.stage(&arrivals_db, k, done as usize, true).await?;
                    staged.store(due, Ordering::Relaxed);
                }
            }
            Ok::<(), anyhow::Error>(())
        }
    }));
    println!(
        "[redis] backlog: completions at {arrival_rate}/s, no worker for {} s …",
        p.outage_secs
    );
    tokio::time::sleep(Duration::from_secs(p.outage_secs)).await;
    if arrivals.0.is_finished() {
        bail!("backlog: the arrival task stopped");
    }
    println!("[redis] backlog: starting {} workers", p.workers);
    let mut workers = start_workers(ctx, p.workers, "backlog").await?;
    let probe = CpuProbe::start(workers.iter().map(Server::pid).collect());
    let t0 = Instant::now();
    let (settled0, backlog0) = group.counts(&db).await?;
    let threshold = (arrival_rate.ceil() as u64).max(1);
    let limit = Duration::from_secs(p.drain_limit_secs);
    let mut series = vec![(0.0, backlog0)];
    let mut last_sample = t0;
    let (drained, t_end, settled_end, backlog_end) = loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (settled, waiting) = group.counts(&db).await?;
        let now = Instant::now();
        if now - last_sample >= Duration::from_secs(1) {
            series.push(((now - t0).as_secs_f64(), waiting));
            last_sample = now;
        }
        if waiting <= threshold {
            break (true, now, settled, waiting);
        }
        if now - t0 > limit {
            break (false, now, settled, waiting);
        }
        if arrivals.0.is_finished() {
            bail!("backlog: the arrival task stopped");
        }
    };
    let cpu = probe.stop(false);
    let drain_secs = (t_end - t0).as_secs_f64();
    series.push((drain_secs, backlog_end));
    stop.store(true, Ordering::Relaxed);
    let arrivals_secs = arrivals_started.elapsed().as_secs_f64();
    let arrived = staged.load(Ordering::Relaxed);
    drop(arrivals);
    println!(
        "[redis] backlog: {backlog0} waiting at restart, {backlog_end} after {drain_secs:.1} s{}",
        if drained { "" } else { " (gave up)" }
    );
    // Let the workers finish what is left, so the next scenario starts clean.
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline && group.counts(&db).await?.1 > 0 {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    quiesce(&db, Duration::from_secs(30)).await?;
    stop_all(&mut workers);
    let _ = db.close().await;
    Ok(BacklogResult {
        workers: p.workers,
        arrival_rate,
        arrival_actual: rate(arrived as usize, arrivals_secs),
        outage_secs: p.outage_secs,
        backlog_at_restart: backlog0,
        backlog_at_end: backlog_end,
        threshold,
        drain_secs,
        drained,
        settled_during_drain: settled_end.saturating_sub(settled0),
        series,
        cpu,
        goal: 3.0,
    })
}

/// Markdown tables of the points scenarios (also printed as is).
pub fn tables(results: &[FootprintResult]) -> String {
    let mut out = String::new();
    let settle: Vec<_> = results
        .iter()
        .filter_map(|fp| fp.points.settle.as_ref().map(|s| (fp, s)))
        .collect();
    if !settle.is_empty() {
        let _ = writeln!(
            out,
            "Settlement (`settle`: pickups settled per second; Wufei = wufei-worker processes \
             from the outbox, baseline = the same rows in plain SQL, one connection):\n"
        );
        let _ = writeln!(
            out,
            "| footprint | pickups | Wufei /s | worker CPU µs/pickup | store CPU µs/pickup | other load (cores) | baseline /s | bench CPU µs/pickup | store CPU µs/pickup | other load (cores) | ratio | goal | |"
        );
        let _ = writeln!(
            out,
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
        );
        for (fp, s) in settle {
            let per = |secs: f64, n: usize| {
                if n > 0 {
                    format!("{:.0}", secs * 1e6 / n as f64)
                } else {
                    "—".into()
                }
            };
            let _ = writeln!(
                out,
                "| {} ({} workers) | {} | {:.1} | {} | {} | {:.2} | {:.1} | {} | {} | {:.2} | **{:.2}** | ≥ {:.2} | {} |",
                fp.footprint,
                s.workers,
                s.pickups,
                s.wufei_rate(),
                per(s.wufei_cpu.doer_secs, s.wufei_settled),
                per(s.wufei_cpu.store_secs, s.wufei_settled),
                s.wufei_cpu.other_cores,
                s.baseline_rate(),
                per(s.baseline_cpu.doer_secs, s.pickups),
                per(s.baseline_cpu.store_secs, s.pickups),
                s.baseline_cpu.other_cores,
                s.ratio(),
                s.goal,
                if s.passed() { "PASS" } else { "MISS" }
            );
        }
        let _ = writeln!(out);
        for (fp, s) in results
            .iter()
            .filter_map(|fp| fp.points.settle.as_ref().map(|s| (fp, s)))
        {
            let mut waits = s.waits.clone();
            waits.sort_by_key(|w| std::cmp::Reverse(w.1));
            let total: u64 = waits.iter().map(|w| w.1).sum();
            let shown: Vec<String> = waits
                .iter()
                .take(6)
                .map(|(w, n)| {
                    format!(
                        "{w} {:.1} ({:.0} %)",
                        *n as f64 / s.wait_samples.max(1) as f64,
                        100.0 * *n as f64 / total.max(1) as f64
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "Settlement ({}): active PostgreSQL backends while the workers settled, on average over {} samples: {}.\n",
                fp.footprint,
                s.wait_samples,
                shown.join(", ")
            );
        }
    }
    let backlog: Vec<_> = results
        .iter()
        .filter_map(|fp| fp.points.backlog.as_ref().map(|b| (fp, b)))
        .collect();
    if !backlog.is_empty() {
        let _ = writeln!(
            out,
            "Backlog (`backlog`: completions arrive steadily, no worker for the outage, then the workers drain it while arrivals go on; drained = at most one second of arrivals waiting):\n"
        );
        let _ = writeln!(
            out,
            "| footprint | arrivals /s (asked, achieved) | outage s | backlog at restart | time to drain s | settled /s while draining | net drain /s | net drain ÷ arrivals | goal | |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---|---|");
        for (fp, b) in &backlog {
            let _ = writeln!(
                out,
                "| {} ({} workers) | {:.1}, {:.1} | {} | {} | {} | {:.1} | {:.1} | **{:.1}×** | ≥ {:.0}× | {} |",
                fp.footprint,
                b.workers,
                b.arrival_rate,
                b.arrival_actual,
                b.outage_secs,
                b.backlog_at_restart,
                if b.drained {
                    format!("{:.1}", b.drain_secs)
                } else {
                    format!("> {:.0} (gave up, {} left)", b.drain_secs, b.backlog_at_end)
                },
                b.settle_rate(),
                b.net_drain_rate(),
                b.ratio(),
                b.goal,
                if b.passed() { "PASS" } else { "MISS" }
            );
        }
        let _ = writeln!(out);
        for (fp, b) in backlog {
            let series: Vec<String> = b
                .series
                .iter()
                .map(|(t, n)| format!("{t:.0} s: {n}"))
                .collect();
            let _ = writeln!(
                out,
                "Backlog over time ({}, drained at ≤ {} waiting): {}; worker CPU {:.1} s, store CPU {:.1} s, other load {:.2} cores during the drain.\n",
                fp.footprint,
                b.threshold,
                series.join(", "),
                b.cpu.doer_secs,
                b.cpu.store_secs,
                b.cpu.other_cores
            );
        }
    }
    out
}
