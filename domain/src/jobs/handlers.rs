//! Job handlers of the foundation. Capabilities add their own beside their services.

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{declared::Jobs, runner::JobHandler};
use crate::{entities::refresh_token, idempotency, ports::queue::Delivery};

/// The foundation's jobs: the housekeeping purge, every tick.
pub fn jobs(db: &DatabaseConnection) -> Jobs {
    Jobs::default().periodic(PURGE_EXPIRED, PurgeExpired { db: db.clone() })
}

/// Topic of the housekeeping job.
pub const PURGE_EXPIRED: &str = "maintenance.purge_expired";

/// Deletes expired idempotency keys and refresh tokens. Idempotent by nature.
pub struct PurgeExpired {
    /// The database.
    pub db: DatabaseConnection,
}

#[async_trait]
impl JobHandler for PurgeExpired {
    async fn handle(&self, _job: &Delivery) -> anyhow::Result<()> {
        let keys = idempotency::purge_expired(&self.db).await?;
        let tokens = refresh_token::Entity::delete_many()
            .filter(refresh_token::Column::ExpiresAt.lte(Utc::now()))
            .exec(&self.db)
            .await?
            .rows_affected;
        tracing::info!(keys, tokens, "purged expired records");
        Ok(())
    }
}
