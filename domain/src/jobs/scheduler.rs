//! Periodic jobs. Each tick stages a job whose payload names its time bucket, so several
//! schedulers (one per worker process) stage duplicates at worst, and the handlers are
//! idempotent. Staging goes through the outbox like any other job. Every tick stages the
//! housekeeping purge, pickup-slot generation (today and 14 days ahead; a no-op when
//! nothing is missing), pickup expiry, points expiry and the settlement sweep.

use std::time::Duration;

use chrono::Utc;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use super::{
    handlers::PURGE_EXPIRED,
    outbox::{self, OutboxSignal},
};

/// Stages periodic jobs until `stop`.
pub async fn run(db: DatabaseConnection, signal: OutboxSignal, stop: CancellationToken) {
    let every = Duration::from_secs(15 * 60);
    let topics = [
        PURGE_EXPIRED,
        crate::slots::GENERATE_TOPIC,
        crate::pickups::topics::EXPIRE,
        crate::points::expiry::TOPIC,
        crate::points::settlement::SWEEP_TOPIC,
    ];
    loop {
        let bucket = Utc::now().timestamp() / every.as_secs() as i64;
        for topic in topics {
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
