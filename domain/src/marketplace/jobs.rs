//! The marketplace's jobs: keeping the listings index in step, announcing matches, and the
//! daily pass (certificate badges and reminders, demand expiry).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::DatabaseConnection;

use super::{certificates, demands, search};
use crate::{
    indexing::IndexHandler,
    jobs::{Jobs, runner::JobHandler},
    ports::{queue::Delivery, search::SearchIndex},
};

/// Topic of the daily pass (staged every tick; cheap when there is nothing to do).
pub const DAILY: &str = "market.daily";

/// The marketplace's jobs.
pub fn jobs(db: &DatabaseConnection, search: Arc<dyn SearchIndex>) -> Jobs {
    Jobs::default()
        .handle(
            search::TOPIC,
            IndexHandler::<search::Listings>::new(db, search),
        )
        .handle(
            demands::MATCH_LISTING,
            demands::MatchHandler { db: db.clone() },
        )
        .handle(
            demands::MATCH_DEMAND,
            demands::MatchHandler { db: db.clone() },
        )
        .periodic(DAILY, DailyHandler { db: db.clone() })
}

/// Handles [`DAILY`]. Idempotent: badges follow the certificates in force, reminders are
/// claimed by a conditional update, expiry is a conditional update.
pub struct DailyHandler {
    /// The database.
    pub db: DatabaseConnection,
}

#[async_trait]
impl JobHandler for DailyHandler {
    async fn handle(&self, _job: &Delivery) -> anyhow::Result<()> {
        let today = Utc::now().date_naive();
        let (unbadged, reminded) = certificates::daily(&self.db, today).await?;
        let expired = demands::expire(&self.db, today).await?;
        if unbadged + reminded + expired > 0 {
            tracing::info!(unbadged, reminded, expired, "marketplace daily pass");
        }
        Ok(())
    }
}
