//! `wufei-baseline`: the bare actix-web server that `wufei-bench` measures Wufei against.
//!
//! It does the least work that still answers the same kind of request, so that a ratio
//! "Wufei ÷ baseline" shows what Wufei's own layers cost on this machine:
//!
//! - `GET /bare/json`: a small constant JSON object; no middleware, no state.
//! - `GET /bare/pk`: one primary-key `SELECT` through a sea-orm PostgreSQL pool configured
//!   like Wufei's (same pool size, same acquire timeout), serialised as JSON.
//! - `POST /bare/book`: the least work of a booking: parse a small JSON body, one `INSERT`
//!   into its own table `bare_bookings` (created at start-up) and one `SELECT` of the row
//!   back, answered 201 as JSON; through the same pool.
//! - `POST /bare/redeem`: the least work of a redemption, in one transaction: the
//!   conditional stock update of a `mall_items` row (`stock >= 1`, which takes the item's
//!   row lock, as Wufei's does) and the insert of a points debit into its own table
//!   `bare_point_debits`; 201 with the debit as JSON, 409 when out of stock.
//!
//! - `GET /bare/list?limit=N`: the least work of a public list: one indexed query
//!   (`zero_waste_cells` by status in primary-key order, N rows, N ≤ 500) through the same
//!   pool, serialised as a JSON array.
//!
//! It prints `listening on <addr>` once bound and serves until killed.

use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use clap::Parser;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Bare actix-web baseline for wufei-bench.
#[derive(Debug, Parser)]
#[command(name = "wufei-baseline", version, about)]
struct Args {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:8090")]
    bind: String,
    /// PostgreSQL URL of the database holding the `users` row read by `/bare/pk`.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Id of the `users` row read by `/bare/pk`.
    #[arg(long)]
    user_id: Uuid,
    /// Pool size (wufei-api's default is 20).
    #[arg(long, default_value_t = 20)]
    pool: u32,
    /// HTTP worker threads; 0 = actix-web's default (one per core), as in wufei-api.
    #[arg(long, default_value_t = 0)]
    workers: usize,
}

struct State {
    db: DatabaseConnection,
    user_id: Uuid,
}

#[derive(Serialize)]
struct Bare {
    status: &'static str,
    service: &'static str,
}

#[derive(Serialize)]
struct UserRow {
    id: Uuid,
    role: String,
    nickname: String,
}

#[derive(Deserialize)]
struct BookInput {
    resident_id: Uuid,
    slot_id: Uuid,
    #[serde(default)]
    note: String,
}

#[derive(Serialize)]
struct BookRow {
    id: Uuid,
    resident_id: Uuid,
    slot_id: Uuid,
    note: String,
    status: String,
    created_at: chrono::DateTime<chrono::Utc>,
}

const CREATE_BOOKINGS: &str = "CREATE TABLE IF NOT EXISTS bare_bookings (
    id uuid PRIMARY KEY,
    resident_id uuid NOT NULL,
    slot_id uuid NOT NULL,
    note text NOT NULL,
    status varchar(32) NOT NULL,
    created_at timestamptz NOT NULL
)";

async fn bare_book(state: web::Data<State>, body: web::Json<BookInput>) -> HttpResponse {
    let input = body.into_inner();
    let id = Uuid::now_v7();
    let insert = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO bare_bookings (id, resident_id, slot_id, note, status, created_at) \
         VALUES ($1, $2, $3, $4, 'pending_dispatch', now())",
        [
            id.into(),
            input.resident_id.into(),
            input.slot_id.into(),
            input.note.into(),
        ],
    );
    if let Err(e) = state.db.execute_raw(insert).await {
        return HttpResponse::ServiceUnavailable().body(e.to_string());
    }
    let select = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT id, resident_id, slot_id, note, status, created_at FROM bare_bookings WHERE id = $1",
        [id.into()],
    );
    let row = match state.db.query_one_raw(select).await {
        Ok(Some(row)) => row,
        Ok(None) => return HttpResponse::NotFound().finish(),
        Err(e) => return HttpResponse::ServiceUnavailable().body(e.to_string()),
    };
    let booking = (|| {
        Ok::<_, sea_orm::DbErr>(BookRow {
            id: row.try_get("", "id")?,
            resident_id: row.try_get("", "resident_id")?,
            slot_id: row.try_get("", "slot_id")?,
            note: row.try_get("", "note")?,
            status: row.try_get("", "status")?,
            created_at: row.try_get("", "created_at")?,
        })
    })();
    match booking {
        Ok(b) => HttpResponse::Created().json(b),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

#[derive(Deserialize)]
struct RedeemInput {
    resident_id: Uuid,
    item_id: Uuid,
}

#[derive(Serialize)]
struct Debit {
    id: Uuid,
    resident_id: Uuid,
    item_id: Uuid,
    points: i64,
}

const CREATE_DEBITS: &str = "CREATE TABLE IF NOT EXISTS bare_point_debits (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    item_id uuid NOT NULL,
    points bigint NOT NULL,
    created_at timestamptz NOT NULL
)";

async fn bare_redeem(state: web::Data<State>, body: web::Json<RedeemInput>) -> HttpResponse {
    let input = body.into_inner();
    let id = Uuid::now_v7();
    let result = async {
        let txn = state.db.begin().await?;
        let taken = txn
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "UPDATE mall_items SET stock = stock - 1 WHERE id = $1 AND stock >= 1 \
                 RETURNING points",
                [input.item_id.into()],
            ))
            .await?;
        let Some(row) = taken else {
            return Ok::<_, sea_orm::DbErr>(None);
        };
        let points: i64 = row.try_get("", "points")?;
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO bare_point_debits (id, user_id, item_id, points, created_at) \
             VALUES ($1, $2, $3, $4, now())",
            [
                id.into(),
                input.resident_id.into(),
                input.item_id.into(),
                points.into(),
            ],
        ))
        .await?;
        txn.commit().await?;
        Ok(Some(points))
    }
    .await;
    match result {
        Ok(Some(points)) => HttpResponse::Created().json(Debit {
            id,
            resident_id: input.resident_id,
            item_id: input.item_id,
            points,
        }),
        Ok(None) => HttpResponse::Conflict().body("out of stock"),
        Err(e) => HttpResponse::ServiceUnavailable().body(e.to_string()),
    }
}

#[derive(Deserialize)]
struct ListInput {
    limit: Option<i64>,
}

#[derive(Serialize)]
struct CellRow {
    id: Uuid,
    organisation: String,
    kind: String,
    district_code: String,
    address: String,
    lat: f64,
    lng: f64,
    published_at: Option<chrono::DateTime<chrono::Utc>>,
}

async fn bare_list(state: web::Data<State>, query: web::Query<ListInput>) -> HttpResponse {
    let limit = query.limit.unwrap_or(20).clamp(1, 500);
    let stmt = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT id, organisation, kind, district_code, address, lat, lng, published_at \
         FROM zero_waste_cells WHERE status = 'published' ORDER BY id LIMIT $1",
        [limit.into()],
    );
    let rows = match state.db.query_all_raw(stmt).await {
        Ok(rows) => rows,
        Err(e) => return HttpResponse::ServiceUnavailable().body(e.to_string()),
    };
    let cells = rows
        .iter()
        .map(|row| {
            Ok::<_, sea_orm::DbErr>(CellRow {
                id: row.try_get("", "id")?,
                organisation: row.try_get("", "organisation")?,
                kind: row.try_get("", "kind")?,
                district_code: row.try_get("", "district_code")?,
                address: row.try_get("", "address")?,
                lat: row.try_get("", "lat")?,
                lng: row.try_get("", "lng")?,
                published_at: row.try_get("", "published_at")?,
            })
        })
        .collect::<Result<Vec<_>, _>>();
    match cells {
        Ok(cells) => HttpResponse::Ok().json(cells),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

async fn bare_json() -> HttpResponse {
    HttpResponse::Ok().json(Bare {
        status: "ok",
        service: "baseline",
    })
}

async fn bare_pk(state: web::Data<State>) -> HttpResponse {
    let stmt = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT id, role, nickname FROM users WHERE id = $1",
        [state.user_id.into()],
    );
    let row = match state.db.query_one_raw(stmt).await {
        Ok(Some(row)) => row,
        Ok(None) => return HttpResponse::NotFound().finish(),
        Err(e) => return HttpResponse::ServiceUnavailable().body(e.to_string()),
    };
    let user = (|| {
        Ok::<_, sea_orm::DbErr>(UserRow {
            id: row.try_get("", "id")?,
            role: row.try_get("", "role")?,
            nickname: row.try_get("", "nickname")?,
        })
    })();
    match user {
        Ok(user) => HttpResponse::Ok().json(user),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut opts = ConnectOptions::new(args.database_url.clone());
    // The same options as wufei_domain::db::connect gives PostgreSQL.
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(10))
        .test_before_acquire_if_idle_for(Duration::from_millis(500)) // wufei_domain::db::PING_IF_IDLE_FOR
        .max_connections(args.pool)
        .min_connections(1);
    let db = Database::connect(opts)
        .await
        .context("baseline: connecting to the database")?;
    db.execute_unprepared(CREATE_BOOKINGS)
        .await
        .context("baseline: creating bare_bookings")?;
    db.execute_unprepared(CREATE_DEBITS)
        .await
        .context("baseline: creating bare_point_debits")?;
    let state = web::Data::new(State {
        db,
        user_id: args.user_id,
    });
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/bare/json", web::get().to(bare_json))
            .route("/bare/pk", web::get().to(bare_pk))
            .route("/bare/book", web::post().to(bare_book))
            .route("/bare/redeem", web::post().to(bare_redeem))
            .route("/bare/list", web::get().to(bare_list))
    })
    .bind(&args.bind)
    .with_context(|| format!("baseline: binding {}", args.bind))?;
    if args.workers > 0 {
        server = server.workers(args.workers);
    }
    println!("listening on {}", args.bind);
    server.run().await?;
    Ok(())
}
