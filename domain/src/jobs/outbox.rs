//! The transactional outbox. [`stage`] is called with the business transaction, so a job
//! exists if and only if the state change that caused it committed. Never enqueue directly
//! from a service.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::{entities::outbox, error::Result};

/// Stages a job inside the caller's transaction; returns the job's stable id.
pub async fn stage(
    txn: &impl ConnectionTrait,
    topic: &str,
    payload: serde_json::Value,
    run_at: Option<DateTime<Utc>>,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    let now = Utc::now();
    outbox::ActiveModel {
        id: Set(id),
        topic: Set(topic.to_string()),
        payload: Set(payload.to_string()),
        run_at: Set(run_at.unwrap_or(now)),
        created_at: Set(now),
    }
    .insert(txn)
    .await?;
    Ok(id)
}

/// Wakes the in-process relay right after a commit that staged jobs, so the embedded
/// footprint does not wait for the next poll.
#[derive(Debug, Clone, Default)]
pub struct OutboxSignal(Arc<Notify>);

impl OutboxSignal {
    /// Call after committing a transaction that staged jobs.
    pub fn committed(&self) {
        self.0.notify_one();
    }

    /// Waits for [`Self::committed`].
    pub async fn wait(&self) {
        self.0.notified().await;
    }
}
