//! The worker's operations listener on `WUFEI_WORKER_BIND` (private): `/healthz` (the
//! process is alive), `/readyz` (200 when the database, the queue, the file store and search
//! answer; 503 naming those that failed, as `wufei-api`'s does) and `/metrics` (Prometheus text:
//! the job outcomes and durations this worker recorded, and the queue's depth). Nothing
//! else: the worker serves no one but its orchestrator and its scraper.

use std::{convert::Infallible, net::SocketAddr};

use http_body_util::Full;
use hyper::{
    Method, Request, Response, StatusCode,
    body::{Bytes, Incoming},
    header::CONTENT_TYPE,
    server::conn::http1,
    service::service_fn,
};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use wufei_domain::Platform;

/// Binds `WUFEI_WORKER_BIND` and serves until `stop`. Returns the bound address.
pub async fn serve(platform: Platform, stop: CancellationToken) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(&platform.settings.worker_bind).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let (stream, _) = tokio::select! {
                () = stop.cancelled() => return,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "operations listener: accept failed");
                        continue;
                    }
                },
            };
            let platform = platform.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| answer(platform.clone(), req));
                if let Err(e) = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    tracing::debug!(error = %e, "operations connection ended");
                }
            });
        }
    });
    Ok(addr)
}

fn respond(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from(body)));
    *res.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        res.headers_mut().insert(CONTENT_TYPE, v);
    }
    res
}

async fn answer(
    platform: Platform,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    const JSON: &str = "application/json";
    if req.method() != Method::GET {
        return Ok(respond(
            StatusCode::METHOD_NOT_ALLOWED,
            JSON,
            r#"{"status":"method_not_allowed"}"#.into(),
        ));
    }
    Ok(match req.uri().path() {
        "/healthz" => respond(StatusCode::OK, JSON, r#"{"status":"ok"}"#.into()),
        "/readyz" => {
            let failed = platform.readiness().await;
            let checks: Vec<_> = ["database", "queue", "blob_store", "search"]
                .into_iter()
                .map(|name| {
                    let ok = !failed.iter().any(|(n, _)| *n == name);
                    serde_json::json!({ "name": name, "status": if ok { "ok" } else { "failed" } })
                })
                .collect();
            let (status, word) = if failed.is_empty() {
                (StatusCode::OK, "ready")
            } else {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            };
            respond(
                status,
                JSON,
                serde_json::json!({ "status": word, "checks": checks }).to_string(),
            )
        }
        "/metrics" => {
            if let Ok(depth) = platform.queue.depth().await {
                platform.metrics.set_queue_depth(depth);
            }
            respond(
                StatusCode::OK,
                "text/plain; version=0.0.4",
                platform.metrics.render(),
            )
        }
        _ => respond(
            StatusCode::NOT_FOUND,
            JSON,
            r#"{"status":"not_found"}"#.into(),
        ),
    })
}
