//! `wufei-worker`: runs the outbox relay, the job runner and the scheduler against the
//! shared database and Redis, until SIGINT/SIGTERM; then finishes the jobs in hand. Probes
//! and Prometheus reach it on `WUFEI_WORKER_BIND` ([`wufei_worker::ops`]).

use tokio_util::sync::CancellationToken;
use wufei_domain::{Platform, config::Settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let settings = Settings::load()?;
    wufei_worker::init_logging(settings.log_format);
    if settings.embedded() {
        tracing::warn!(
            "REDIS_URL is unset: this worker shares only the database with wufei-api, which already runs the embedded loops"
        );
    }
    let platform = Platform::build(settings).await?;
    let stop = CancellationToken::new();
    let consumer = format!("worker-{}-{}", hostname(), std::process::id());
    let mut loops = platform.spawn_background(&consumer, stop.clone());
    let ops = wufei_worker::ops::serve(platform.clone(), stop.clone()).await?;
    tracing::info!(%consumer, operations = %ops, "wufei-worker running");
    wufei_worker::shutdown_signal().await;
    tracing::info!("stopping: finishing jobs in hand");
    stop.cancel();
    while loops.join_next().await.is_some() {}
    tracing::info!("stopped");
    Ok(())
}

fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into())
}
