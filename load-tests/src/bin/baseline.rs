//! `wufei-baseline`: the bare actix-web server that `wufei-bench` measures Wufei against.
//!
//! It does the least work that still answers the same kind of request, so that a ratio
//! "Wufei ÷ baseline" shows what Wufei's own layers cost on this machine:
//!
//! - `GET /bare/json`: a small constant JSON object; no middleware, no state.
//! - `GET /bare/pk`: one primary-key `SELECT` through a sea-orm PostgreSQL pool configured
//!   like Wufei's (same pool size, same acquire timeout), serialised as JSON.
//!
//! It prints `listening on <addr>` once bound and serves until killed.

use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use clap::Parser;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};
use serde::Serialize;
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
        .max_connections(args.pool)
        .min_connections(1);
    let db = Database::connect(opts)
        .await
        .context("baseline: connecting to the database")?;
    let state = web::Data::new(State {
        db,
        user_id: args.user_id,
    });
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/bare/json", web::get().to(bare_json))
            .route("/bare/pk", web::get().to(bare_pk))
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
