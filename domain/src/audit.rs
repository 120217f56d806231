//! The audit log: who did what to which object, written in the same transaction as the act.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use crate::{entities::audit_log, error::Result};

/// Records an administrative act.
pub async fn record(
    txn: &impl ConnectionTrait,
    actor: Option<Uuid>,
    action: &str,
    object_type: &str,
    object_id: &str,
    detail: serde_json::Value,
) -> Result<()> {
    audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        actor_id: Set(actor),
        action: Set(action.into()),
        object_type: Set(object_type.into()),
        object_id: Set(object_id.into()),
        detail: Set(detail.to_string()),
        created_at: Set(Utc::now()),
    }
    .insert(txn)
    .await?;
    Ok(())
}
