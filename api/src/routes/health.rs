//! Operations endpoints: liveness, readiness (names the failing dependency), metrics.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use wufei_domain::Platform;

/// Liveness.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// One dependency's state.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Check {
    /// `database`, `queue`, `blob_store` or `search`.
    pub name: &'static str,
    /// `ok` or `failed`.
    pub status: &'static str,
}

/// Readiness.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// `ready` or `unavailable`.
    pub status: &'static str,
    /// Each dependency.
    pub checks: Vec<Check>,
}

/// 200 only when the database, the queue, the file store and search answer; 503 naming the failed.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(platform: web::Data<Platform>) -> HttpResponse {
    let failed = platform.readiness().await;
    let checks = ["database", "queue", "blob_store", "search"]
        .into_iter()
        .map(|name| Check {
            name,
            status: if failed.iter().any(|(n, _)| *n == name) {
                "failed"
            } else {
                "ok"
            },
        })
        .collect();
    for (name, why) in &failed {
        tracing::warn!(dependency = name, reason = %why, "not ready");
    }
    if failed.is_empty() {
        HttpResponse::Ok().json(Readiness {
            status: "ready",
            checks,
        })
    } else {
        HttpResponse::ServiceUnavailable().json(Readiness {
            status: "unavailable",
            checks,
        })
    }
}

/// Prometheus text format. Bind privately or keep behind the proxy.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics(platform: web::Data<Platform>) -> HttpResponse {
    if let Ok(depth) = platform.queue.depth().await {
        platform.metrics.set_queue_depth(depth);
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(platform.metrics.render())
}

/// Registers the operations routes (outside `/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").route(web::get().to(healthz)))
        .service(web::resource("/readyz").route(web::get().to(readyz)))
        .service(web::resource("/metrics").route(web::get().to(metrics)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(healthz, readyz, metrics,))]
pub struct Api;
