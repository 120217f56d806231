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

/// The field changes of an administrative edit, as the audit log records them
/// (`{ field: { from, to } }`).
#[derive(Debug, Default)]
pub struct Changes(serde_json::Map<String, serde_json::Value>);

impl Changes {
    /// Records `field` going from `current` to `new` when `new` is given and differs;
    /// returns the value to set, if any.
    pub fn track<T: PartialEq + serde::Serialize>(
        &mut self,
        field: &str,
        current: &T,
        new: Option<T>,
    ) -> Option<T> {
        let new = new.filter(|n| n != current)?;
        self.0.insert(
            field.into(),
            serde_json::json!({ "from": current, "to": &new }),
        );
        Some(new)
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The recorded changes as the audit detail.
    pub fn into_detail(self) -> serde_json::Value {
        serde_json::Value::Object(self.0)
    }
}
