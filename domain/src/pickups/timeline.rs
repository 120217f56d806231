//! A pickup's timeline: one `pickup_events` row per transition, with who did it and why.
//! Rows are only ever inserted.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use super::status::Status;
use crate::{
    auth::Principal,
    entities::pickup_event::{self, ActorRole},
    error::Result,
};

/// Who caused a transition, for the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user, or `None` for the system (dispatch, timeouts).
    pub user_id: Option<Uuid>,
    /// The user's role, or the system.
    pub role: ActorRole,
}

impl Actor {
    /// The system itself.
    pub const SYSTEM: Actor = Actor {
        user_id: None,
        role: ActorRole::System,
    };

    /// A signed-in user.
    pub fn of(p: &Principal) -> Self {
        Actor {
            user_id: Some(p.user_id),
            role: p.role.into(),
        }
    }
}

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
        actor_role: Set(actor.role),
        reason: Set(reason.into()),
        created_at: Set(at),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}
