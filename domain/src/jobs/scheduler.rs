//! Periodic jobs. Each tick stages a job whose payload names its time bucket, so several
//! schedulers (one per worker process) stage duplicates at worst, and the handlers are
//! idempotent. Staging goes through the outbox like any other job. Which topics are
//! periodic, each capability declares in its `jobs()` ([`super::Jobs::periodic`]); today:
//! the housekeeping purge, pickup-slot generation (today and 14 days ahead; a no-op when
//! nothing is missing), pickup expiry, points expiry and the settlement sweep.

use std::time::Duration;

use chrono::Utc;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use super::outbox::{self, OutboxSignal};

/// Stages a job of each of `topics` every tick until `stop`.
pub async fn run(
    db: DatabaseConnection,
    signal: OutboxSignal,
    topics: Vec<&'static str>,
    stop: CancellationToken,
) {
    let every = Duration::from_secs(15 * 60);
    loop {
        let bucket = Utc::now().timestamp() / every.as_secs() as i64;
        for &topic in &topics {
            match outbox::stage(&db, topic, serde_json::json!({ "bucket": bucket }), None).await {
                Ok(_) => signal.committed(),
                Err(e) => tracing::warn!(error = %e, topic, "could not stage a periodic job"),
            }
        }
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
