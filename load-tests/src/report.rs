//! Results: the table on stdout and the Markdown section appended to `results.md`.

use std::{fmt::Write as _, io::Write as _, path::Path, process::Command};

use crate::{
    door::{DispatchResult, JourneyResult, Latency},
    load::LoadStats,
};

/// One measured comparison.
pub struct PairResult {
    /// Scenario id.
    pub id: String,
    /// Wufei side label.
    pub subject_label: String,
    /// Wufei side figures.
    pub subject: LoadStats,
    /// Baseline side label.
    pub baseline_label: String,
    /// Baseline side figures.
    pub baseline: LoadStats,
    /// Least acceptable ratio.
    pub goal: f64,
    /// A remark (stand-in route …).
    pub note: Option<String>,
}

impl PairResult {
    /// Throughput ratio Wufei ÷ baseline.
    pub fn ratio(&self) -> f64 {
        let base = self.baseline.rps();
        if base > 0.0 {
            self.subject.rps() / base
        } else {
            0.0
        }
    }

    /// Server CPU per request, baseline ÷ Wufei: how many times more CPU Wufei's process
    /// spends per request (as a ratio ≤ 1, comparable to the throughput ratio). Less
    /// sensitive than throughput to other load on the machine.
    pub fn cpu_ratio(&self) -> Option<f64> {
        let wufei = self.subject.server_cpu_us_per_req?;
        let base = self.baseline.server_cpu_us_per_req?;
        (wufei > 0.0).then(|| base / wufei)
    }

    /// Whether the ratio meets the goal and neither side saw errors.
    pub fn passed(&self) -> bool {
        self.ratio() >= self.goal && clean(&self.subject) && clean(&self.baseline)
    }
}

fn clean(s: &LoadStats) -> bool {
    s.errors == 0 && s.failures == 0
}

/// Memory and idle CPU of one wufei-api process.
pub struct Memory {
    /// VmRSS after start-up, one login and the idle pause, KiB.
    pub idle_rss_kib: u64,
    /// VmRSS after the load runs, KiB.
    pub after_load_rss_kib: Option<u64>,
    /// CPU used during the idle pause, seconds.
    pub idle_cpu_secs: f64,
    /// The idle pause, seconds.
    pub idle_secs: u64,
    /// Least acceptable idle RSS, KiB.
    pub goal_kib: u64,
}

/// Open-loop runs of one pair at a fraction of each side's closed-loop maximum.
pub struct OpenLoopResult {
    /// Scenario id.
    pub id: String,
    /// The fraction of the maximum rate (e.g. 0.7).
    pub fraction: f64,
    /// (label, maximum req/s measured closed-loop, open-loop figures) of Wufei, then of the baseline.
    pub sides: Vec<(String, f64, LoadStats)>,
}

/// The dispatch scenario on one footprint, with the raw Redis figure it is compared with.
pub struct DispatchReport {
    /// What was measured.
    pub result: DispatchResult,
    /// Raw Redis XADD → XREADGROUP latency, when a Redis was given: samples back to back
    /// (one a millisecond), what the goal is stated against.
    pub redis: Option<Latency>,
    /// The same, paced as the dispatch samples (a random pause before each), so that each
    /// starts from an idle machine as a dispatch sample does.
    pub redis_paced: Option<Latency>,
    /// Largest acceptable ratio dispatch p99 ÷ Redis p99.
    pub goal: f64,
}

impl DispatchReport {
    /// Dispatch p99 ÷ raw Redis p99 (back to back).
    pub fn ratio(&self) -> Option<f64> {
        self.ratio_to(self.redis.as_ref()?)
    }

    /// Dispatch p99 ÷ raw Redis p99, paced alike.
    pub fn paced_ratio(&self) -> Option<f64> {
        self.ratio_to(self.redis_paced.as_ref()?)
    }

    fn ratio_to(&self, redis: &Latency) -> Option<f64> {
        (redis.p99_us > 0).then(|| self.result.offer.p99_us as f64 / redis.p99_us as f64)
    }
}

/// The results of one wufei-api footprint.
pub struct FootprintResult {
    /// `embedded` or `redis`.
    pub footprint: String,
    /// Measured pairs.
    pub pairs: Vec<PairResult>,
    /// Open-loop runs (booking).
    pub open_loop: Vec<OpenLoopResult>,
    /// The dispatch scenario.
    pub dispatch: Option<DispatchReport>,
    /// The journey scenario.
    pub journey: Option<JourneyResult>,
    /// The green-points scenarios (`settle`, `backlog`).
    pub points: crate::points::Report,
    /// The marketplace scenarios (`market`, `fresh`, `oversell`).
    pub market: crate::market::Report,
    /// The statistics scenario (`stats`).
    pub stats: crate::disclosure::Report,
    /// Memory.
    pub memory: Memory,
}

/// Markdown tables of the open-loop, dispatch and journey results (also printed as is).
fn door_tables(results: &[FootprintResult]) -> String {
    let mut out = String::new();
    let open: Vec<_> = results
        .iter()
        .flat_map(|fp| fp.open_loop.iter().map(move |o| (fp, o)))
        .collect();
    if !open.is_empty() {
        let _ = writeln!(
            out,
            "Open loop (fixed arrival rate, latency from the scheduled send time):\n"
        );
        let _ = writeln!(
            out,
            "| scenario | request | max req/s (closed loop) | offered req/s | answered 2xx/s | p50 ms | p99 ms | max ms | errors |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
        for (fp, o) in open {
            for (i, (label, max, s)) in o.sides.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "| {} | {label} | {max:.0} | {:.0} ({:.0} %) | {:.0} | {} | {} | {} | {} |",
                    if i == 0 {
                        format!("{} ({})", o.id, fp.footprint)
                    } else {
                        String::new()
                    },
                    s.offered_rps.unwrap_or(0.0),
                    o.fraction * 100.0,
                    s.rps(),
                    ms(s.p50_us),
                    ms(s.p99_us),
                    ms(s.max_us),
                    errors(s),
                );
            }
        }
        let _ = writeln!(out);
    }
    let dispatch: Vec<_> = results
        .iter()
        .filter_map(|fp| fp.dispatch.as_ref().map(|d| (fp, d)))
        .collect();
    if !dispatch.is_empty() {
        let _ = writeln!(
            out,
            "Dispatch (booking 201 → `offer` on the recycler's WebSocket; one booking at a time):\n"
        );
        let _ = writeln!(
            out,
            "| footprint | offers (before the answer) | missed | errors | p50 ms | p99 ms | max ms | booking p50 / p99 ms | Redis XADD→XREADGROUP p50 / p99 ms | p99 ratio | goal | | Redis paced p50 / p99 ms | p99 ratio, paced | |"
        );
        let _ = writeln!(
            out,
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---|"
        );
        for (fp, d) in dispatch {
            let r = &d.result;
            let p50_p99 = |l: Option<&Latency>| {
                l.map_or_else(
                    || "not measured".to_owned(),
                    |l| {
                        format!(
                            "{:.3} / {:.3}",
                            l.p50_us as f64 / 1000.0,
                            l.p99_us as f64 / 1000.0
                        )
                    },
                )
            };
            let (redis, paced) = (p50_p99(d.redis.as_ref()), p50_p99(d.redis_paced.as_ref()));
            let judged = |ratio: Option<f64>| match ratio {
                Some(x) => (
                    format!("{x:.0}×"),
                    verdict(x <= d.goal && r.missed == 0 && r.errors == 0),
                ),
                None => ("-".into(), "-"),
            };
            let ((ratio, pass), (paced_ratio, paced_pass)) =
                (judged(d.ratio()), judged(d.paced_ratio()));
            let _ = writeln!(
                out,
                "| {} | {} ({}) | {} | {} | {} | {} | {} | {} / {} | {redis} | {ratio} | ≤ {:.0}× | {pass} | {paced} | {paced_ratio} | {paced_pass} |",
                fp.footprint,
                r.offer.n,
                r.before_answer,
                r.missed,
                r.errors,
                ms(r.offer.p50_us),
                ms(r.offer.p99_us),
                ms(r.offer.max_us),
                ms(r.booking.p50_us),
                ms(r.booking.p99_us),
                d.goal,
            );
        }
        let _ = writeln!(out);
    }
    let journeys: Vec<_> = results
        .iter()
        .filter_map(|fp| fp.journey.as_ref().map(|j| (fp, j)))
        .collect();
    if !journeys.is_empty() {
        let _ = writeln!(
            out,
            "Journeys (book → offer → accept → depart → arrive → complete):\n"
        );
        let _ = writeln!(
            out,
            "| footprint | residents at once | recyclers | journeys/s | completed in window | failed | error rate | error answers | journey p50 / p99 ms | offer p50 / p99 ms |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (fp, j) in journeys {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.1} | {} | {} | {:.2} % | {} | {} / {} | {} / {} |",
                fp.footprint,
                j.residents,
                j.recyclers,
                j.per_sec(),
                j.completed,
                j.failed,
                j.error_rate() * 100.0,
                j.error_answers,
                ms(j.journey.p50_us),
                ms(j.journey.p99_us),
                ms(j.offer.p50_us),
                ms(j.offer.p99_us),
            );
        }
        let _ = writeln!(out);
    }
    out
}

/// Where and how the run was made.
pub struct RunInfo {
    /// UTC time of the run.
    pub date: String,
    /// `git rev-parse --short HEAD`, with `+dirty` when tracked files differ.
    pub commit: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// `model name` of /proc/cpuinfo.
    pub cpu_model: String,
    /// Parameters, as `name=value` strings.
    pub params: Vec<String>,
}

impl RunInfo {
    /// Collects the machine and repository facts.
    pub fn collect(repo: &Path, params: Vec<String>) -> Self {
        let commit =
            git(repo, &["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
        let dirty = git(repo, &["status", "--porcelain", "--untracked-files=no"])
            .is_some_and(|s| !s.is_empty());
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        Self {
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            commit: if dirty {
                format!("{commit}+dirty")
            } else {
                commit
            },
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model,
            params,
        }
    }
}

fn git(repo: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .current_dir(repo)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn errors(s: &LoadStats) -> String {
    if s.failures > 0 {
        format!("{} (+{} failed)", s.errors, s.failures)
    } else {
        s.errors.to_string()
    }
}

/// `PASS` or `MISS`.
pub fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

/// The cells of a row judged on latency: req/s (and connections), p50 / p95 / p99 ms,
/// errors, and the verdict of `passed`; dashes when nothing was measured.
pub fn latency_cells(
    measured: Option<&(LoadStats, usize)>,
    passed: impl Fn(&LoadStats) -> bool,
) -> [String; 4] {
    let Some((s, conns)) = measured else {
        return ["-", "-", "-", "-"].map(String::from);
    };
    let ms = |us: u64| format!("{:.1}", us as f64 / 1000.0);
    [
        format!("{:.0} ({conns} conn.)", s.rps()),
        format!("{} / {} / {}", ms(s.p50_us), ms(s.p95_us), ms(s.p99_us)),
        (s.errors + s.failures).to_string(),
        verdict(passed(s)).to_owned(),
    ]
}

/// Rows of the throughput table: scenario, request, req/s, p50, p99, errors, server and
/// database CPU per request, other load, ratio, CPU ratio, goal, verdict.
fn rows(results: &[FootprintResult]) -> Vec<[String; COLUMNS]> {
    let opt = |v: Option<f64>, digits: usize| {
        v.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
    };
    let mut rows = Vec::new();
    for fp in results {
        for p in &fp.pairs {
            for (label, s, is_subject) in [
                (&p.subject_label, &p.subject, true),
                (&p.baseline_label, &p.baseline, false),
            ] {
                let only_subject = |text: String| if is_subject { text } else { String::new() };
                rows.push([
                    only_subject(format!("{} ({})", p.id, fp.footprint)),
                    label.clone(),
                    format!("{:.0}", s.rps()),
                    ms(s.p50_us),
                    ms(s.p99_us),
                    errors(s),
                    opt(s.server_cpu_us_per_req, 1),
                    opt(s.db_cpu_us_per_req, 1),
                    opt(s.other_load_cores, 2),
                    only_subject(format!("{:.2}", p.ratio())),
                    only_subject(opt(p.cpu_ratio(), 2)),
                    only_subject(format!("≥ {:.2}", p.goal)),
                    only_subject(verdict(p.passed()).to_owned()),
                ]);
            }
        }
    }
    rows
}

const COLUMNS: usize = 13;

const HEADERS: [&str; COLUMNS] = [
    "scenario",
    "request",
    "req/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "srv CPU µs/req",
    "store CPU µs/req",
    "other load (cores)",
    "ratio",
    "CPU ratio",
    "goal",
    "",
];

/// Columns right-aligned (numbers).
fn numeric(column: usize) -> bool {
    (2..=10).contains(&column)
}

fn memory_lines(results: &[FootprintResult]) -> Vec<String> {
    results
        .iter()
        .map(|fp| {
            let m = &fp.memory;
            format!(
                "wufei-api ({}) idle RSS after start-up, one login and {} s idle: {} (goal ≤ {}) {}; after the load runs: {}; CPU used while idle: {:.2} s",
                fp.footprint,
                m.idle_secs,
                mib(m.idle_rss_kib),
                mib(m.goal_kib),
                verdict(m.idle_rss_kib <= m.goal_kib),
                m.after_load_rss_kib.map_or_else(|| "not measured".into(), mib),
                m.idle_cpu_secs,
            )
        })
        .collect()
}

fn notes(results: &[FootprintResult]) -> Vec<String> {
    let mut notes = Vec::new();
    for fp in results {
        for p in &fp.pairs {
            if let Some(n) = &p.note {
                notes.push(format!("{} ({}): {n}", p.id, fp.footprint));
            }
            for (label, s) in [
                (&p.subject_label, &p.subject),
                (&p.baseline_label, &p.baseline),
            ] {
                if let Some(e) = &s.first_error {
                    notes.push(format!(
                        "{} ({}), {label}: first error: {e}",
                        p.id, fp.footprint
                    ));
                }
            }
        }
        for o in &fp.open_loop {
            for (label, _, s) in &o.sides {
                if let Some(e) = &s.first_error {
                    notes.push(format!(
                        "{} ({}) open loop, {label}: first error: {e}",
                        o.id, fp.footprint
                    ));
                }
            }
        }
        if let Some(e) = fp
            .dispatch
            .as_ref()
            .and_then(|d| d.result.first_error.as_ref())
        {
            notes.push(format!("dispatch ({}): first error: {e}", fp.footprint));
        }
        if let Some(e) = fp.journey.as_ref().and_then(|j| j.first_error.as_ref()) {
            notes.push(format!("journey ({}): first error: {e}", fp.footprint));
        }
    }
    notes
}

/// The plain-text report.
pub fn text(info: &RunInfo, results: &[FootprintResult]) -> String {
    let rows = rows(results);
    let mut widths = HEADERS.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths.iter()).enumerate() {
            let pad = w.saturating_sub(cell.chars().count());
            // Numbers right-aligned, text left-aligned.
            if numeric(i) {
                s.push_str(&" ".repeat(pad));
                s.push_str(cell);
            } else {
                s.push_str(cell);
                s.push_str(&" ".repeat(pad));
            }
            s.push_str("  ");
        }
        s.trim_end().to_owned()
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "wufei-bench {} — commit {} — {} × {}",
        info.date, info.commit, info.cpus, info.cpu_model
    );
    let _ = writeln!(out, "parameters: {}", info.params.join(", "));
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", line(&HEADERS.map(String::from)));
    let _ = writeln!(
        out,
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  ")
    );
    for row in &rows {
        let _ = writeln!(out, "{}", line(row));
    }
    let _ = writeln!(out);
    out.push_str(&door_tables(results));
    out.push_str(&crate::points::tables(results));
    out.push_str(&crate::market::tables(results));
    out.push_str(&crate::disclosure::tables(results));
    for m in memory_lines(results) {
        let _ = writeln!(out, "{m}");
    }
    for n in notes(results) {
        let _ = writeln!(out, "note: {n}");
    }
    out
}

/// The Markdown section for `results.md`.
pub fn markdown(info: &RunInfo, results: &[FootprintResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## {} — commit `{}`", info.date, info.commit);
    let _ = writeln!(out);
    let _ = writeln!(out, "- machine: {} × {}", info.cpus, info.cpu_model);
    let _ = writeln!(out, "- parameters: {}", info.params.join(", "));
    let _ = writeln!(out);
    let _ = writeln!(out, "| {} |", HEADERS.join(" | "));
    let _ = writeln!(
        out,
        "|{}",
        HEADERS
            .iter()
            .enumerate()
            .map(|(i, _)| if numeric(i) { "---:|" } else { "---|" })
            .collect::<String>()
    );
    for row in rows(results) {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    let _ = writeln!(out);
    out.push_str(&door_tables(results));
    out.push_str(&crate::points::tables(results));
    out.push_str(&crate::market::tables(results));
    out.push_str(&crate::disclosure::tables(results));
    for m in memory_lines(results) {
        let _ = writeln!(out, "- {m}");
    }
    for n in notes(results) {
        let _ = writeln!(out, "- note: {n}");
    }
    let _ = writeln!(out);
    out
}

/// Appends `section` to `path`, creating it with a title if it does not exist.
pub fn append(path: &Path, section: &str) -> anyhow::Result<()> {
    let new = !path.exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    if new {
        writeln!(
            file,
            "# wufei-bench results\n\nAppended by `target/release/wufei-bench` on each run; see README.md.\n"
        )?;
    }
    file.write_all(section.as_bytes())?;
    Ok(())
}
