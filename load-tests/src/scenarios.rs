//! The comparisons: each pairs a Wufei request with the baseline request doing the least
//! work of the same kind, measured back to back, and states the least acceptable ratio of
//! throughputs (Wufei ÷ baseline).
//!
//! To add one (booking throughput, dispatch latency, settlement …): add an entry to
//! [`CATALOGUE`], a match arm in [`build`] that prepares its data through `ctx` and returns
//! a [`Comparison`] whose sides carry a [`Workload`] (which may vary each request by
//! connection and sequence number), and — if its baseline needs a new bare route — a route
//! in `src/bin/baseline.rs`.

use std::{net::SocketAddr, sync::Arc};

use anyhow::bail;
use hyper::StatusCode;

use crate::{
    http::{self, RequestSpec},
    load::{Fixed, Workload},
};

/// Every scenario: id (for `--scenarios`) and what it measures.
pub const CATALOGUE: &[(&str, &str)] = &[
    (
        "me",
        "GET /v1/me (bearer token; JWT check, middleware, one user read from PostgreSQL) vs GET /bare/pk (one primary-key SELECT through a sea-orm pool)",
    ),
    (
        "session",
        "GET /v1/auth/session (bearer token; the full middleware stack, answered from the token alone) vs GET /bare/json (constant JSON, no middleware)",
    ),
    (
        "book",
        "POST /v1/pickups by many residents into tomorrow's slots (--slot-days: more days') vs POST /bare/book (one INSERT and one SELECT, same pool); then both in open loop at 70 % of their maximum (p99 from the scheduled send time)",
    ),
    (
        "dispatch",
        "booking 201 -> {\"type\":\"offer\"} on an on-shift recycler's GET /v1/ws, one booking at a time (the recycler rejects each offer); p50/p99 against raw Redis XADD->XREADGROUP p99 (needs --redis-url for the comparison)",
    ),
    (
        "journey",
        "residents and recyclers running book -> offer -> accept -> depart -> arrive -> complete concurrently; journeys per second and error rate",
    ),
    (
        "settle",
        "N completed pickups (SQL) with their pickup.completed outbox rows, settled by two wufei-worker processes (pickups/s) vs a bare loop doing the same rows in plain SQL on one connection (needs --redis-url)",
    ),
    (
        "backlog",
        "completions arriving at a steady rate, no worker for the outage, then two workers drain the backlog while arrivals go on; net drain rate vs arrival rate (needs --redis-url)",
    ),
    (
        "redeem",
        "many residents POST /v1/mall/redemptions for ONE item vs POST /bare/redeem (conditional stock UPDATE + debit INSERT in one transaction) (needs --redis-url)",
    ),
    (
        "market",
        "--listings generated listings (SQL): full reindex with `wufei-api search reindex` on each engine, timed; GET /v1/market/listings keyword + filters + radius sorted by distance, p50/p95/p99 (goal p95 <= 50 ms), and on the Meilisearch footprint against the same searches sent straight to Meilisearch (goal ratio >= 0.5; needs --meili-bin)",
    ),
    (
        "fresh",
        "a listing's price edited (PATCH, one at a time) -> the edit found by GET /v1/market/listings; p99 goal <= 2 s (with wufei-worker on the Meilisearch footprint)",
    ),
    (
        "oversell",
        "--buyers merchants accepting quotes on ONE listing at the same moment; the stock covers about two thirds: exactly that many deals, the rest 409 insufficient_stock, stock never below zero",
    ),
    (
        "disclosure",
        "public GETs (/v1/cells, /v1/cells/{id}, /v1/facilities, /v1/indicators, /v1/indicators/{code}, /v1/plan/tasks, /v1/plan/tasks/{id}) vs GET /bare/list (one indexed query, as many rows; goal >= 0.6); GET /v1/cells with If-None-Match -> 304 vs GET /bare/json (goal >= 0.9)",
    ),
    (
        "pages",
        "the public pages (/, /articles, /cells, /facilities, /indicators, /tasks, /market/demands) vs the same data as JSON from the API on the same server (goal: page >= 0.5 of the JSON)",
    ),
    (
        "stats",
        "--stats-lines recycling-ledger lines (SQL) + POST /v1/admin/stats/rebuild; GET /v1/stats/recycling?group_by=... p95 (goal <= 20 ms); GET /v1/open-data/<dataset>.csv MB/s (goal >= 50) with wufei-api's RSS (goal < 100 MiB)",
    ),
];

/// Scenarios that use the door-to-door fixture (residents, recyclers, slots), and on the
/// Redis footprint a `wufei-worker` process.
pub const DOOR: &[&str] = &["book", "dispatch", "journey"];

/// What scenarios may use: the two servers and a signed-in account.
pub struct Ctx {
    /// wufei-api.
    pub api: SocketAddr,
    /// wufei-baseline.
    pub baseline: SocketAddr,
    /// An access token of the benchmark account (a super administrator).
    pub token: String,
}

/// One side of a comparison.
pub struct Side {
    /// What is requested, for the table (e.g. `GET /v1/me`).
    pub label: String,
    /// The server.
    pub addr: SocketAddr,
    /// The requests.
    pub workload: Arc<dyn Workload>,
}

/// A Wufei request and its baseline.
pub struct Comparison {
    /// Scenario id.
    pub id: &'static str,
    /// The Wufei side.
    pub subject: Side,
    /// The baseline side.
    pub baseline: Side,
    /// The least acceptable throughput ratio subject ÷ baseline.
    pub goal: f64,
    /// Anything the reader must know (e.g. a stand-in route).
    pub note: Option<String>,
}

/// Prepares scenario `id`.
pub async fn build(id: &str, ctx: &Ctx) -> anyhow::Result<Comparison> {
    match id {
        "me" => {
            let me = RequestSpec::get("/v1/me").bearer(&ctx.token)?;
            expect_ok(ctx.api, &me).await?;
            let pk = RequestSpec::get("/bare/pk");
            expect_ok(ctx.baseline, &pk).await?;
            Ok(Comparison {
                id: "me",
                subject: side("GET /v1/me", ctx.api, me),
                baseline: side("GET /bare/pk", ctx.baseline, pk),
                goal: 0.6,
                note: None,
            })
        }
        "session" => {
            let session = RequestSpec::get("/v1/auth/session").bearer(&ctx.token)?;
            let (status, _) = http::once(ctx.api, &session).await?;
            let (subject, note) = if status == StatusCode::NOT_FOUND {
                // The route is new; until it is deployed, /healthz (no token, no auth
                // check) stands in, which flatters Wufei.
                let health = RequestSpec::get("/healthz").bearer(&ctx.token)?;
                expect_ok(ctx.api, &health).await?;
                (
                    side("GET /healthz (stand-in)", ctx.api, health),
                    Some("GET /v1/auth/session answered 404; GET /healthz stood in".to_owned()),
                )
            } else {
                expect_ok(ctx.api, &session).await?;
                (side("GET /v1/auth/session", ctx.api, session), None)
            };
            let bare = RequestSpec::get("/bare/json");
            expect_ok(ctx.baseline, &bare).await?;
            Ok(Comparison {
                id: "session",
                subject,
                baseline: side("GET /bare/json", ctx.baseline, bare),
                goal: 0.7,
                note,
            })
        }
        other => bail!(
            "unknown scenario {other:?}; known: {}",
            CATALOGUE
                .iter()
                .map(|(id, _)| *id)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The booking comparison over a fixture's residents and slots.
pub async fn book(ctx: &Ctx, fx: &crate::door::Fixture) -> anyhow::Result<Comparison> {
    let wufei = crate::door::BookWorkload::new(fx)?;
    expect_ok(ctx.api, &wufei.request(0, 0)).await?;
    let bare = crate::door::BareBookWorkload::new(fx)?;
    expect_ok(ctx.baseline, &bare.request(0, 0)).await?;
    Ok(Comparison {
        id: "book",
        subject: Side {
            label: "POST /v1/pickups".to_owned(),
            addr: ctx.api,
            workload: Arc::new(wufei),
        },
        baseline: Side {
            label: "POST /bare/book".to_owned(),
            addr: ctx.baseline,
            workload: Arc::new(bare),
        },
        goal: 0.4,
        note: Some(format!(
            "{} residents booking into {} slots from tomorrow on (capacity raised by SQL)",
            fx.residents.len(),
            fx.slots.len()
        )),
    })
}

fn side(label: &str, addr: SocketAddr, spec: RequestSpec) -> Side {
    Side {
        label: label.to_owned(),
        addr,
        workload: Arc::new(Fixed(spec)),
    }
}

/// Sends `spec` once and fails unless it answers 2xx (a scenario must not measure errors).
async fn expect_ok(addr: SocketAddr, spec: &RequestSpec) -> anyhow::Result<()> {
    let (status, body) = http::once(addr, spec).await?;
    if !status.is_success() {
        bail!(
            "{} {} answered {status}: {}",
            spec.method,
            spec.path,
            String::from_utf8_lossy(&body)
        );
    }
    Ok(())
}
