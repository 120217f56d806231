//! The load generator. Closed loop ([`run`]): C tasks, each with its own keep-alive
//! connection, send requests back to back for a warm-up and then a measured window.
//! Requests completing inside the window are counted; requests per second is that count
//! over the window. Open loop ([`run_rate`]): requests are scheduled at a fixed arrival
//! rate, whatever the answers' speed, and sent on the first free one of C connections;
//! latency runs from the scheduled send time, so time spent waiting for a free connection
//! (the server falling behind) counts (no coordinated omission).
//! Every loop is bounded by time and by a request count. A 2xx answer, or a 304 to a
//! conditional request, counts as served; anything else as an error.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use crate::http::{Conn, RequestSpec};

/// What a scenario sends: asked for each request, so a workload may vary bodies, ids or
/// idempotency keys per connection and sequence number (bookings, dispatch, settlement).
pub trait Workload: Send + Sync {
    /// The request number `seq` of connection `conn`.
    fn request(&self, conn: usize, seq: u64) -> RequestSpec;
}

/// The same request every time.
pub struct Fixed(pub RequestSpec);

impl Workload for Fixed {
    fn request(&self, _conn: usize, _seq: u64) -> RequestSpec {
        self.0.clone()
    }
}

/// Requests taken in turn from a list, each connection starting at a different place.
pub struct Rotate(Vec<RequestSpec>);

impl Rotate {
    /// Fails on an empty list.
    pub fn new(specs: Vec<RequestSpec>) -> anyhow::Result<Self> {
        anyhow::ensure!(!specs.is_empty(), "a workload needs at least one request");
        Ok(Self(specs))
    }

    /// The requests.
    pub fn specs(&self) -> &[RequestSpec] {
        &self.0
    }
}

impl Workload for Rotate {
    fn request(&self, conn: usize, seq: u64) -> RequestSpec {
        let i = (conn.wrapping_mul(7919) as u64).wrapping_add(seq) % self.0.len() as u64;
        self.0[usize::try_from(i).unwrap_or(0)].clone()
    }
}

/// How hard and how long.
#[derive(Clone, Debug)]
pub struct LoadParams {
    /// Concurrent connections (one request in flight on each).
    pub concurrency: usize,
    /// Unmeasured time before the window (connections, pools and caches warm up).
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
    /// Upper bound on requests of one run, all connections together.
    pub max_requests: u64,
    /// Per-request timeout; a timed-out request counts as a failure and reconnects.
    pub timeout: Duration,
}

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct LoadStats {
    /// 2xx answers completed in the window.
    pub ok: u64,
    /// Non-2xx answers completed in the window.
    pub errors: u64,
    /// Transport failures and timeouts in the window.
    pub failures: u64,
    /// The window actually measured, seconds.
    pub window_secs: f64,
    /// Median latency of the 2xx answers, microseconds.
    pub p50_us: u64,
    /// 95th percentile latency of the 2xx answers, microseconds.
    pub p95_us: u64,
    /// 99th percentile latency of the 2xx answers, microseconds.
    pub p99_us: u64,
    /// Slowest 2xx answer, microseconds.
    pub max_us: u64,
    /// The first non-2xx answer or failure seen (status and the start of the body).
    pub first_error: Option<String>,
    /// Every answer of the run, warm-up included (for CPU per request).
    pub completed_total: u64,
    /// CPU time of the server under test per request (warm-up included), microseconds.
    pub server_cpu_us_per_req: Option<f64>,
    /// CPU time of the data stores (PostgreSQL and Redis processes) per request (warm-up included), microseconds.
    pub db_cpu_us_per_req: Option<f64>,
    /// Average number of cores busy with processes other than this one and the server
    /// under test during the run: other load on the machine, which makes figures noisy.
    pub other_load_cores: Option<f64>,
    /// Open loop: the arrival rate asked for, requests per second.
    pub offered_rps: Option<f64>,
}

impl LoadStats {
    /// 2xx answers per second.
    pub fn rps(&self) -> f64 {
        if self.window_secs > 0.0 {
            self.ok as f64 / self.window_secs
        } else {
            0.0
        }
    }
}

#[derive(Default)]
struct TaskStats {
    completed: u64,
    ok: u64,
    errors: u64,
    failures: u64,
    latencies_us: Vec<u32>,
    first_error: Option<String>,
}

/// Whether an answer counts as served: any 2xx, and `304 Not Modified` (a conditional
/// request's answer, what a revalidation scenario asks for).
fn answered(status: hyper::StatusCode) -> bool {
    status.is_success() || status == hyper::StatusCode::NOT_MODIFIED
}

/// Reconnections one connection task may make before it gives up.
const MAX_RECONNECTS: u32 = 100;

/// Runs `workload` against `addr` with `params`.
pub async fn run(
    addr: SocketAddr,
    workload: Arc<dyn Workload>,
    params: &LoadParams,
) -> anyhow::Result<LoadStats> {
    let concurrency = params.concurrency.max(1);
    let per_conn = (params.max_requests / concurrency as u64).max(1);
    let start = Instant::now();
    let measure_from = start + params.warmup;
    let end = measure_from + params.duration;
    let mut tasks = tokio::task::JoinSet::new();
    for conn_index in 0..concurrency {
        let workload = Arc::clone(&workload);
        let timeout = params.timeout;
        tasks.spawn(async move {
            connection_loop(
                addr,
                workload,
                conn_index,
                per_conn,
                timeout,
                measure_from,
                end,
            )
            .await
        });
    }
    let mut stats = LoadStats::default();
    let mut latencies: Vec<u32> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let task = joined?;
        stats.ok += task.ok;
        stats.errors += task.errors;
        stats.failures += task.failures;
        stats.completed_total += task.completed;
        if stats.first_error.is_none() {
            stats.first_error = task.first_error;
        }
        latencies.extend_from_slice(&task.latencies_us);
    }
    // The window is shortened if every connection stopped early (request bound reached).
    let finished = Instant::now().min(end);
    stats.window_secs = finished
        .saturating_duration_since(measure_from)
        .as_secs_f64();
    latencies.sort_unstable();
    stats.p50_us = percentile(&latencies, 0.50);
    stats.p95_us = percentile(&latencies, 0.95);
    stats.p99_us = percentile(&latencies, 0.99);
    stats.max_us = latencies.last().copied().map_or(0, u64::from);
    Ok(stats)
}

async fn connection_loop(
    addr: SocketAddr,
    workload: Arc<dyn Workload>,
    conn_index: usize,
    max_requests: u64,
    timeout: Duration,
    measure_from: Instant,
    end: Instant,
) -> TaskStats {
    let mut stats = TaskStats {
        latencies_us: Vec::with_capacity(16 * 1024),
        ..TaskStats::default()
    };
    let mut conn: Option<Conn> = None;
    let mut reconnects = 0u32;
    let mut seq = 0u64;
    while seq < max_requests && Instant::now() < end {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => {
                if reconnects >= MAX_RECONNECTS {
                    break;
                }
                reconnects += 1;
                match tokio::time::timeout(timeout, Conn::connect(addr)).await {
                    Ok(Ok(c)) => conn.insert(c),
                    Ok(Err(e)) => {
                        note_failure(&mut stats, measure_from, end, format!("connect: {e:#}"));
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                    Err(_) => {
                        note_failure(&mut stats, measure_from, end, "connect: timed out".into());
                        continue;
                    }
                }
            }
        };
        let spec = workload.request(conn_index, seq);
        seq += 1;
        let sent = Instant::now();
        let result = tokio::time::timeout(timeout, c.send(&spec)).await;
        let done = Instant::now();
        let in_window = done >= measure_from && done <= end;
        match result {
            Ok(Ok((status, body))) => {
                stats.completed += 1;
                if !in_window {
                    continue;
                }
                if answered(status) {
                    stats.ok += 1;
                    let us = done.duration_since(sent).as_micros();
                    stats
                        .latencies_us
                        .push(u32::try_from(us).unwrap_or(u32::MAX));
                } else {
                    stats.errors += 1;
                    if stats.first_error.is_none() {
                        let text = String::from_utf8_lossy(&body);
                        let snippet: String = text.chars().take(160).collect();
                        stats.first_error = Some(format!("{} {}: {snippet}", spec.path, status));
                    }
                }
            }
            Ok(Err(e)) => {
                conn = None;
                note_failure(
                    &mut stats,
                    measure_from,
                    end,
                    format!("{}: {e:#}", spec.path),
                );
            }
            Err(_) => {
                conn = None;
                note_failure(
                    &mut stats,
                    measure_from,
                    end,
                    format!("{}: timed out", spec.path),
                );
            }
        }
    }
    stats
}

fn note_failure(stats: &mut TaskStats, measure_from: Instant, end: Instant, what: String) {
    let now = Instant::now();
    if now >= measure_from && now <= end {
        stats.failures += 1;
        if stats.first_error.is_none() {
            stats.first_error = Some(what);
        }
    }
}

/// Runs `workload` against `addr` in open loop: request `i` is due at `start + i / rate`,
/// sent on the first free one of `params.concurrency` connections; its latency is measured
/// from the due time. Requests due inside the window (after the warm-up) are counted.
pub async fn run_rate(
    addr: SocketAddr,
    workload: Arc<dyn Workload>,
    params: &LoadParams,
    rate: f64,
) -> anyhow::Result<LoadStats> {
    anyhow::ensure!(
        rate.is_finite() && rate > 0.0,
        "the arrival rate must be positive"
    );
    let concurrency = params.concurrency.max(1);
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let measure_from = start + params.warmup;
    let end = measure_from + params.duration;
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for conn_index in 0..concurrency {
        let workload = Arc::clone(&workload);
        let next = Arc::clone(&next);
        let timeout = params.timeout;
        let max_requests = params.max_requests;
        tasks.spawn(async move {
            let mut stats = TaskStats::default();
            let mut conn: Option<Conn> = None;
            let mut reconnects = 0u32;
            loop {
                let seq = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let due = start + Duration::from_secs_f64(seq as f64 / rate);
                if seq >= max_requests || due >= end {
                    break;
                }
                tokio::time::sleep_until(due).await;
                let in_window = due >= measure_from;
                let c = match conn.as_mut() {
                    Some(c) => c,
                    None => {
                        if reconnects >= MAX_RECONNECTS {
                            break;
                        }
                        reconnects += 1;
                        match tokio::time::timeout(timeout, Conn::connect(addr)).await {
                            Ok(Ok(c)) => conn.insert(c),
                            Ok(Err(e)) => {
                                count_failure(&mut stats, in_window, format!("connect: {e:#}"));
                                continue;
                            }
                            Err(_) => {
                                count_failure(&mut stats, in_window, "connect: timed out".into());
                                continue;
                            }
                        }
                    }
                };
                let spec = workload.request(conn_index, seq);
                let result = tokio::time::timeout(timeout, c.send(&spec)).await;
                let done = tokio::time::Instant::now();
                match result {
                    Ok(Ok((status, body))) => {
                        stats.completed += 1;
                        if !in_window {
                            continue;
                        }
                        if answered(status) {
                            stats.ok += 1;
                            let us = done.duration_since(due).as_micros();
                            stats
                                .latencies_us
                                .push(u32::try_from(us).unwrap_or(u32::MAX));
                        } else {
                            stats.errors += 1;
                            if stats.first_error.is_none() {
                                let text = String::from_utf8_lossy(&body);
                                let snippet: String = text.chars().take(160).collect();
                                stats.first_error =
                                    Some(format!("{} {}: {snippet}", spec.path, status));
                            }
                        }
                    }
                    Ok(Err(e)) => {
                        conn = None;
                        count_failure(&mut stats, in_window, format!("{}: {e:#}", spec.path));
                    }
                    Err(_) => {
                        conn = None;
                        count_failure(&mut stats, in_window, format!("{}: timed out", spec.path));
                    }
                }
            }
            stats
        });
    }
    let mut stats = LoadStats {
        offered_rps: Some(rate),
        window_secs: params.duration.as_secs_f64(),
        ..LoadStats::default()
    };
    let mut latencies: Vec<u32> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let task = joined?;
        stats.ok += task.ok;
        stats.errors += task.errors;
        stats.failures += task.failures;
        stats.completed_total += task.completed;
        if stats.first_error.is_none() {
            stats.first_error = task.first_error;
        }
        latencies.extend_from_slice(&task.latencies_us);
    }
    latencies.sort_unstable();
    stats.p50_us = percentile(&latencies, 0.50);
    stats.p95_us = percentile(&latencies, 0.95);
    stats.p99_us = percentile(&latencies, 0.99);
    stats.max_us = latencies.last().copied().map_or(0, u64::from);
    Ok(stats)
}

fn count_failure(stats: &mut TaskStats, in_window: bool, what: String) {
    if in_window {
        stats.failures += 1;
        if stats.first_error.is_none() {
            stats.first_error = Some(what);
        }
    }
}

/// The `q` quantile (nearest rank) of sorted `values`.
pub fn percentile(sorted: &[u32], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted.get(index).copied().map_or(0, u64::from)
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&values, 0.50), 50);
        assert_eq!(percentile(&values, 0.99), 99);
        assert_eq!(percentile(&values, 1.0), 100);
        assert_eq!(percentile(&[7], 0.99), 7);
        assert_eq!(percentile(&[], 0.5), 0);
    }
}
