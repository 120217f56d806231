//! The disclosure column's jobs: keeping the articles index in step, and the daily
//! reminder of columns about to go stale.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::DatabaseConnection;

use super::articles::{
    columns,
    search::{Articles, TOPIC},
};
use crate::{
    indexing::IndexHandler,
    jobs::{Jobs, runner::JobHandler},
    ports::{queue::Delivery, search::SearchIndex},
};

/// Topic of the daily pass (staged every tick; cheap when there is nothing to do).
pub const DAILY: &str = "disclosure.daily";

/// The disclosure column's jobs.
pub fn jobs(db: &DatabaseConnection, search: Arc<dyn SearchIndex>) -> Jobs {
    Jobs::default()
        .handle(TOPIC, IndexHandler::<Articles>::new(db, search))
        .periodic(DAILY, DailyHandler { db: db.clone() })
}

/// Handles [`DAILY`]. Idempotent: each column's staleness episode is reminded of once,
/// claimed by a row keyed on it.
pub struct DailyHandler {
    /// The database.
    pub db: DatabaseConnection,
}

#[async_trait]
impl JobHandler for DailyHandler {
    async fn handle(&self, _job: &Delivery) -> anyhow::Result<()> {
        let reminded = columns::remind(&self.db, Utc::now()).await?;
        if reminded > 0 {
            tracing::info!(
                reminded,
                "columns about to go stale: administrators reminded"
            );
        }
        Ok(())
    }
}
