//! The public's voice's jobs: the daily reminder of suggestions about to be overdue.

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::DatabaseConnection;

use super::suggestions;
use crate::{
    jobs::{Jobs, runner::JobHandler},
    ports::queue::Delivery,
};

/// Topic of the daily pass (staged every tick; cheap when there is nothing to do).
pub const DAILY: &str = "voice.daily";

/// The jobs of the public's voice.
pub fn jobs(db: &DatabaseConnection) -> Jobs {
    Jobs::default().periodic(DAILY, DailyHandler { db: db.clone() })
}

/// Handles [`DAILY`]. Idempotent: each suggestion is reminded of once, claimed by a
/// conditional update.
pub struct DailyHandler {
    /// The database.
    pub db: DatabaseConnection,
}

#[async_trait]
impl JobHandler for DailyHandler {
    async fn handle(&self, _job: &Delivery) -> anyhow::Result<()> {
        let reminded = suggestions::remind_overdue(&self.db, Utc::now()).await?;
        if reminded > 0 {
            tracing::info!(
                reminded,
                "suggestions about to be overdue: districts reminded"
            );
        }
        Ok(())
    }
}
