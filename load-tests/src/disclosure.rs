//! Disclosure's performance (issue 21): `disclosure` (public list and detail GETs against
//! a bare handler doing one indexed query on the same pool, and a 304 revalidation against
//! bare JSON) and `stats` (statistics over a large recycling ledger, and the open-data CSV
//! export of that ledger: its speed and wufei-api's memory meanwhile).
//!
//! Fixtures by SQL: published zero-waste cells and facilities across Liaocheng's districts
//! (the plan's indicators and tasks are seeded reference data); for `stats`, `--stats-lines`
//! recycling-ledger lines made with `generate_series` (device deposits spread over the last
//! twelve months, every district and category), then `POST /v1/admin/stats/rebuild` so the
//! rollups the statistics read match the ledger.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use hyper::{StatusCode, header::IF_NONE_MATCH};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    door,
    http::{self, Conn, RequestSpec},
    load::{self, Fixed, LoadParams, LoadStats, Rotate},
    report::{FootprintResult, latency_cells, verdict},
    scenarios::{Comparison, Side},
    stack,
};

/// Cells and facilities the fixture publishes.
const CELLS: usize = 300;
const FACILITIES: usize = 120;

/// Publishes cells and facilities (SQL), once per database; `applicant` is an existing user.
pub async fn fixture(db: &DatabaseConnection, applicant: Uuid) -> anyhow::Result<()> {
    db.execute_unprepared(&format!(
        "INSERT INTO zero_waste_cells (id, applicant_id, organisation, kind, district_code, address, lat, lng, \
           description, status, reviewed_by, reviewed_at, published_at, created_at) \
         SELECT gen_random_uuid(), '{applicant}', d.name || (ARRAY['实验小学','社区居委会','工业园','人民医院','商场','景区','村委会','机关'])[1 + i % 8] || i, \
           (ARRAY['zero_waste_school','zero_waste_community','zero_waste_park','zero_waste_factory','zero_waste_group','zero_waste_scenic_area','zero_waste_village','zero_waste_farm'])[1 + i % 8], \
           d.code, d.name || '建设路' || i || '号', 36.2 + (i % 60) / 100.0, 115.6 + (i % 80) / 100.0, \
           '垃圾分类覆盖率 100%，建立可回收物回收台账，开展无废宣传活动。', 'published', '{applicant}', now(), now() - make_interval(days => i % 300), now() \
         FROM generate_series(1, {CELLS}) AS i \
         JOIN LATERAL (SELECT code, name FROM districts ORDER BY code OFFSET (i % 8) LIMIT 1) d ON true"
    ))
    .await
    .context("inserting cells")?;
    db.execute_unprepared(&format!(
        "INSERT INTO facilities (id, name, kind, district_code, address, lat, lng, capacity_t_per_day, opening_hours, operator, active, created_at, updated_at) \
         SELECT gen_random_uuid(), d.name || (ARRAY['再生资源回收站','分拣中心','垃圾转运站','餐厨垃圾处理厂','建筑垃圾资源化利用厂','有害垃圾收集点'])[1 + i % 6] || i, \
           (ARRAY['recycling_station','sorting_centre','transfer_station','kitchen_waste_plant','construction_waste_plant','hazardous_waste_point'])[1 + i % 6], \
           d.code, d.name || '环卫路' || i || '号', 36.2 + (i % 60) / 100.0, 115.6 + (i % 80) / 100.0, 50 + i % 200, '08:00-18:00', '聊城市环卫集团', true, now(), now() \
         FROM generate_series(1, {FACILITIES}) AS i \
         JOIN LATERAL (SELECT code, name FROM districts ORDER BY code OFFSET (i % 8) LIMIT 1) d ON true"
    ))
    .await
    .context("inserting facilities")?;
    Ok(())
}

/// How many things a public answer lists (`items`, GeoJSON `features`, or a bare array).
fn count(answer: &Value) -> usize {
    answer
        .as_array()
        .or_else(|| answer.get("items").and_then(Value::as_array))
        .or_else(|| answer.get("features").and_then(Value::as_array))
        .map_or(1, Vec::len)
}

fn first_id(answer: &Value, key: &str) -> anyhow::Result<String> {
    let list = answer
        .as_array()
        .or_else(|| answer.get("items").and_then(Value::as_array))
        .with_context(|| format!("no list in {answer}"))?;
    list.first()
        .and_then(|v| v.get(key))
        .and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_i64().map(|n| n.to_string()))
        })
        .with_context(|| format!("no {key} in the first item of {answer}"))
}

/// The comparisons: each public GET against `GET /bare/list?limit=N` (one indexed query
/// returning as many rows as Wufei's answer lists), and `GET /v1/cells` with its ETag in
/// `If-None-Match` (answered 304) against `GET /bare/json`.
pub async fn comparisons(api: SocketAddr, baseline: SocketAddr) -> anyhow::Result<Vec<Comparison>> {
    let cells = door::call(api, &RequestSpec::get("/v1/cells"), StatusCode::OK).await?;
    let tasks = door::call(api, &RequestSpec::get("/v1/plan/tasks"), StatusCode::OK).await?;
    let indicators = door::call(api, &RequestSpec::get("/v1/indicators"), StatusCode::OK).await?;
    let paths = [
        "/v1/cells".to_owned(),
        format!("/v1/cells/{}", first_id(&cells, "id")?),
        "/v1/facilities".to_owned(),
        "/v1/indicators".to_owned(),
        format!("/v1/indicators/{}", first_id(&indicators, "code")?),
        "/v1/plan/tasks".to_owned(),
        format!("/v1/plan/tasks/{}", first_id(&tasks, "id")?),
    ];
    let mut out = Vec::new();
    for path in paths {
        let spec = RequestSpec::get(path.as_str());
        let (answer, size) = json_of(api, &spec).await?;
        let rows = count(&answer);
        let bare = RequestSpec::get(format!("/bare/list?limit={rows}"));
        let (_, bare_size) = json_of(baseline, &bare).await?;
        out.push(Comparison {
            id: "disclosure",
            subject: side(
                &format!("GET {path} ({rows} items, {size:.1} kB)"),
                api,
                spec,
            ),
            baseline: side(
                &format!("GET /bare/list ({rows} rows, {bare_size:.1} kB)"),
                baseline,
                bare,
            ),
            goal: 0.6,
            note: None,
        });
    }
    let (status, etag) = etag_of(api, "/v1/cells").await?;
    if status != StatusCode::OK {
        bail!("GET /v1/cells answered {status}");
    }
    let revalidate = RequestSpec::get("/v1/cells").header(IF_NONE_MATCH, &etag)?;
    let (status, _) = http::once(api, &revalidate).await?;
    if status != StatusCode::NOT_MODIFIED {
        bail!("GET /v1/cells with If-None-Match {etag} answered {status}, not 304");
    }
    out.push(Comparison {
        id: "disclosure",
        subject: side("GET /v1/cells, If-None-Match → 304", api, revalidate),
        baseline: side("GET /bare/json", baseline, RequestSpec::get("/bare/json")),
        goal: 0.9,
        note: None,
    });
    Ok(out)
}

/// The public pages (issue 22) against the same data as JSON from the API, on the same
/// server: each page type's GET against its `/v1` counterpart (goal: the page at ≥ 0.5 of
/// the JSON's throughput).
pub fn page_comparisons(api: SocketAddr) -> Vec<Comparison> {
    [
        ("/", "/v1/stats/overview"),
        ("/articles", "/v1/articles"),
        ("/cells", "/v1/cells"),
        ("/facilities", "/v1/facilities"),
        ("/indicators", "/v1/indicators"),
        ("/tasks", "/v1/plan/tasks"),
        ("/market/demands", "/v1/market/demands"),
    ]
    .into_iter()
    .map(|(page, json)| Comparison {
        id: "pages",
        subject: side(&format!("GET {page} (HTML)"), api, RequestSpec::get(page)),
        baseline: side(&format!("GET {json} (JSON)"), api, RequestSpec::get(json)),
        goal: 0.5,
        note: None,
    })
    .collect()
}

/// The JSON answer of `spec` (which must be 200) and its size, kB.
async fn json_of(addr: SocketAddr, spec: &RequestSpec) -> anyhow::Result<(Value, f64)> {
    let (status, body) = http::once(addr, spec).await?;
    if status != StatusCode::OK {
        bail!("GET {} answered {status}", spec.path);
    }
    let value =
        serde_json::from_slice(&body).with_context(|| format!("GET {}: not JSON", spec.path))?;
    Ok((value, body.len() as f64 / 1000.0))
}

fn side(label: &str, addr: SocketAddr, spec: RequestSpec) -> Side {
    Side {
        label: label.to_owned(),
        addr,
        workload: Arc::new(Fixed(spec)),
    }
}

/// Status and `ETag` of `GET path` (the bench's client does not return headers, so it is
/// read from the head of a raw request).
async fn etag_of(api: SocketAddr, path: &str) -> anyhow::Result<(StatusCode, String)> {
    let raw = raw_get(api, path).await?;
    let etag = raw
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("etag")
                .then(|| value.trim().to_owned())
        })
        .with_context(|| format!("GET {path}: no ETag"))?;
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::BAD_GATEWAY);
    Ok((status, etag))
}

/// The head of `GET path` over a plain socket.
async fn raw_get(api: SocketAddr, path: &str) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(api).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {api}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut buf))
        .await
        .context("reading a raw answer")??;
    let text = String::from_utf8_lossy(&buf);
    Ok(text.split("\r\n\r\n").next().unwrap_or_default().to_owned())
}

/// Inserts `lines` recycling-ledger lines (device deposits over the last twelve months,
/// every district and category).
pub async fn ledger(db: &DatabaseConnection, lines: u64) -> anyhow::Result<f64> {
    let started = Instant::now();
    let chunk = 250_000u64;
    let mut from = 1u64;
    // Ids in insertion order, as Wufei's own (UUIDv7) are.
    let id = stack::v7_sql(
        chrono::Utc::now().timestamp_millis() - lines as i64 - 1000,
        "i",
    );
    while from <= lines {
        let to = (from + chunk - 1).min(lines);
        db.execute_unprepared(&format!(
            "WITH c AS (SELECT array_agg(id ORDER BY code) AS ids FROM categories), \
                  d AS (SELECT array_agg(code ORDER BY code) AS codes FROM districts) \
             INSERT INTO recycling_records (id, source_key, transaction_id, pickup_id, device_event_id, category_id, \
               weight_g, count, points, fee_fen, district_code, community_id, recycler_id, local_date, created_at) \
             SELECT {id}, 'bench:' || i, gen_random_uuid(), NULL, NULL, \
               c.ids[1 + i % array_length(c.ids, 1)], 200 + (i * 7919) % 20000, 0, (i * 31) % 50, 0, \
               d.codes[1 + (i / 7) % array_length(d.codes, 1)], NULL, NULL, \
               to_char((now() - make_interval(days => (i % 360)::int)) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'), \
               now() - make_interval(days => (i % 360)::int) \
             FROM generate_series({from}::bigint, {to}::bigint) AS i, c, d"
        ))
        .await
        .with_context(|| format!("inserting ledger lines {from}..={to}"))?;
        from = to + 1;
    }
    db.execute_unprepared("ANALYZE recycling_records").await?;
    Ok(started.elapsed().as_secs_f64())
}

/// A CSV download: its size, time and wufei-api's memory meanwhile.
#[derive(Clone, Debug, Default)]
pub struct Export {
    /// Bytes of the body.
    pub bytes: u64,
    /// Seconds from the request to the last byte.
    pub secs: f64,
    /// wufei-api's VmRSS before, KiB.
    pub rss_before_kib: u64,
    /// The largest VmRSS seen while it ran (sampled every 10 ms), KiB.
    pub rss_max_kib: u64,
}

impl Export {
    /// Megabytes (10^6 bytes) per second.
    pub fn mb_per_sec(&self) -> f64 {
        if self.secs > 0.0 {
            self.bytes as f64 / 1e6 / self.secs
        } else {
            0.0
        }
    }

    /// ≥ 50 MB/s with wufei-api under 100 MiB.
    pub fn passed(&self) -> bool {
        self.bytes > 0 && self.mb_per_sec() >= 50.0 && self.rss_max_kib < 100 * 1024
    }
}

/// Downloads `path` on one connection while sampling the VmRSS of `pid`.
pub async fn export(api: SocketAddr, pid: u32, path: &str) -> anyhow::Result<Export> {
    let rss_before_kib = stack::vm_rss_kib(pid)?;
    let max = Arc::new(AtomicU64::new(rss_before_kib));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (max, done) = (Arc::clone(&max), Arc::clone(&done));
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                if let Ok(kib) = stack::vm_rss_kib(pid) {
                    max.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let mut conn = Conn::connect(api).await?;
    let started = Instant::now();
    let answer = conn.download(&RequestSpec::get(path)).await;
    let secs = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    sampler.await?;
    let (status, bytes) = answer?;
    if status != StatusCode::OK {
        bail!("GET {path} answered {status}");
    }
    Ok(Export {
        bytes,
        secs,
        rss_before_kib,
        rss_max_kib: max.load(Ordering::Relaxed),
    })
}

/// The statistics requests: `group_by` of each useful kind over the last twelve months.
pub fn stats_requests() -> anyhow::Result<Rotate> {
    Rotate::new(
        [
            "category,district,month",
            "district,month",
            "category,month",
            "month",
            "category,district",
            "district",
            "category",
            "source,month",
        ]
        .iter()
        .map(|g| RequestSpec::get(format!("/v1/stats/recycling?group_by={g}")))
        .collect(),
    )
}

/// Runs the statistics load (closed loop, `params`).
pub async fn stats_load(api: SocketAddr, params: &LoadParams) -> anyhow::Result<LoadStats> {
    let workload = Arc::new(stats_requests()?);
    for spec in workload.specs() {
        door::call(api, spec, StatusCode::OK).await?;
    }
    load::run(api, workload, params).await
}

/// What `stats` measured on one footprint.
#[derive(Default)]
pub struct Report {
    /// Ledger lines inserted by this footprint's run of the scenario, and the seconds it took.
    pub ledger: Option<(u64, f64)>,
    /// Ledger lines in the database (the fixture's, made once per run).
    pub lines: u64,
    /// The rebuild's answer (lines read, rows written) and its seconds.
    pub rebuild: Option<(Value, f64)>,
    /// `GET /v1/stats/recycling` loads, each with its connections.
    pub stats: Vec<(LoadStats, usize)>,
    /// CSV downloads.
    pub exports: Vec<Export>,
    /// The dataset downloaded.
    pub dataset: String,
}

/// p95 goal of the statistics, microseconds.
const STATS_P95_US: u64 = 20_000;

fn stats_passed(s: &LoadStats) -> bool {
    s.ok > 0 && s.errors == 0 && s.failures == 0 && s.p95_us <= STATS_P95_US
}

impl Report {
    /// Whether a goal was missed.
    pub fn missed(&self) -> bool {
        self.stats.iter().any(|(s, _)| !stats_passed(s)) || self.exports.iter().any(|e| !e.passed())
    }
}

/// The Markdown table of `stats` (also printed as is).
pub fn tables(results: &[FootprintResult]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let with: Vec<_> = results
        .iter()
        .filter(|fp| !fp.stats.stats.is_empty() || !fp.stats.exports.is_empty())
        .collect();
    if with.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "Statistics (issue 21): `GET /v1/stats/recycling?group_by=…`, eight groupings in turn, \
         closed loop:\n"
    );
    let _ = writeln!(
        out,
        "| footprint | ledger lines | req/s | p50 / p95 / p99 ms | errors | goal | |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---|---|");
    for fp in &with {
        let r = &fp.stats;
        let lines = r.lines;
        for measured in &r.stats {
            let [rps, lat, errs, pass] = latency_cells(Some(measured), stats_passed);
            let _ = writeln!(
                out,
                "| {} | {lines} | {rps} | {lat} | {errs} | p95 ≤ 20 ms | {pass} |",
                fp.footprint
            );
        }
    }
    let _ = writeln!(
        out,
        "\nOpen data (issue 21): `GET /v1/open-data/<dataset>.csv` on one connection, \
         wufei-api's VmRSS sampled every 10 ms:\n"
    );
    let _ = writeln!(
        out,
        "| footprint | dataset | MB | s | MB/s | RSS before / max MiB | goal | |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---|---|");
    for fp in &with {
        let r = &fp.stats;
        for e in &r.exports {
            let _ = writeln!(
                out,
                "| {} | {} | {:.1} | {:.2} | **{:.1}** | {:.1} / {:.1} | ≥ 50 MB/s, < 100 MiB | {} |",
                fp.footprint,
                r.dataset,
                e.bytes as f64 / 1e6,
                e.secs,
                e.mb_per_sec(),
                e.rss_before_kib as f64 / 1024.0,
                e.rss_max_kib as f64 / 1024.0,
                verdict(e.passed())
            );
        }
    }
    let _ = writeln!(out);
    for fp in results {
        let r = &fp.stats;
        if let Some((n, secs)) = r.ledger {
            let _ = writeln!(
                out,
                "- stats fixture: {n} ledger lines inserted by SQL in {secs:.1} s"
            );
        }
        if let Some((v, secs)) = &r.rebuild {
            let _ = writeln!(
                out,
                "- stats ({}): POST /v1/admin/stats/rebuild took {secs:.1} s: {v}",
                fp.footprint
            );
        }
        if let Some(e) = r.stats.iter().find_map(|(s, _)| s.first_error.as_ref()) {
            let _ = writeln!(out, "- stats ({}): first error: {e}", fp.footprint);
        }
    }
    out
}
