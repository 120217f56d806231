//! A pickup's timeline: one `pickup_events` row per transition, with who did it and why.
//! Rows are only ever inserted.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use super::{status::Status, transition::Actor};
use crate::{entities::pickup_event, error::Result};

/// Writes a timeline row.
pub async fn record_event(
    txn: &impl ConnectionTrait,
    pickup_id: Uuid,
    from: Option<Status>,
    to: Status,
    actor: &Actor,
    reason: &str,
) -> Result<()> {
    record_event_at(txn, pickup_id, from, to, actor, reason, Utc::now()).await
}

/// Writes a timeline row dated `at`.
pub async fn record_event_at(
    txn: &impl ConnectionTrait,
    pickup_id: Uuid,
    from: Option<Status>,
    to: Status,
    actor: &Actor,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    pickup_event::Entity::insert(pickup_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        pickup_id: Set(pickup_id),
        from_status: Set(from),
        to_status: Set(to),
        actor_id: Set(actor.user_id),
        actor_role: Set(actor.role.into()),
        reason: Set(reason.into()),
        created_at: Set(at),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}
