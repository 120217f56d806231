//! Moving a pickup from one state to another: ONE conditional update that checks the
//! current state (and, for recyclers, that the pickup is theirs) plus its timeline row, in
//! the caller's transaction. A move that does not apply is refused with 409 and changes
//! nothing. Nothing here decides WHEN a pickup moves; the actions and dispatch do.

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, SimpleExpr},
};
use uuid::Uuid;

use super::{
    status::{Status, can_transition},
    timeline::{Actor, record_event},
};
use crate::{
    entities::pickup,
    error::{Error, Result},
};

/// A transition to apply.
pub struct Transition<'a> {
    /// The pickup.
    pub pickup_id: Uuid,
    /// States it may be in.
    pub from: &'a [Status],
    /// The state it moves to.
    pub to: Status,
    /// Who does it.
    pub actor: Actor,
    /// Why (shown in the timeline).
    pub reason: String,
    /// Only if the pickup's recycler is this one.
    pub recycler: Option<Uuid>,
    /// Further columns to set in the same update.
    pub set: Vec<(pickup::Column, SimpleExpr)>,
}

/// Applies a transition: reads the pickup (locked on PostgreSQL; SQLite serialises
/// writers), checks the state, and moves it with a conditional update plus its event row.
/// Refuses with 404 when the pickup does not exist (or is not the given recycler's) and
/// 409 `illegal_transition` when it is not in one of `from`. Returns the row as it was
/// BEFORE the transition.
pub async fn transition(txn: &impl ConnectionTrait, t: Transition<'_>) -> Result<pickup::Model> {
    let mut find = pickup::Entity::find_by_id(t.pickup_id);
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        find = find.lock_exclusive();
    }
    let Some(before) = find.one(txn).await? else {
        return Err(Error::NotFound { what: "pickup" });
    };
    transition_locked(txn, &before, t).await?;
    Ok(before)
}

/// [`transition`] of a pickup the caller has already read, locked, in this transaction
/// (`before`), saving the second read.
pub async fn transition_locked(
    txn: &impl ConnectionTrait,
    before: &pickup::Model,
    t: Transition<'_>,
) -> Result<()> {
    for from in t.from {
        debug_assert!(
            can_transition(*from, t.to),
            "{from:?} → {:?} is not in TRANSITIONS",
            t.to
        );
    }
    if t.recycler.is_some() && before.recycler_id != t.recycler {
        return Err(Error::NotFound { what: "pickup" });
    }
    let illegal = || {
        Error::conflict(
            "illegal_transition",
            format!(
                "a pickup that is {} cannot become {}",
                before.status.as_str(),
                t.to.as_str()
            ),
        )
    };
    if !t.from.contains(&before.status) {
        return Err(illegal());
    }
    let mut update = pickup::Entity::update_many()
        .col_expr(pickup::Column::Status, Expr::value(t.to))
        .col_expr(pickup::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(pickup::Column::Id.eq(t.pickup_id))
        .filter(pickup::Column::Status.eq(before.status));
    if let Some(r) = t.recycler {
        update = update.filter(pickup::Column::RecyclerId.eq(r));
    }
    for (col, value) in t.set {
        update = update.col_expr(col, value);
    }
    if update.exec(txn).await?.rows_affected != 1 {
        return Err(illegal());
    }
    record_event(
        txn,
        t.pickup_id,
        Some(before.status),
        t.to,
        &t.actor,
        &t.reason,
    )
    .await?;
    Ok(())
}

/// Reads a pickup inside a transaction (after a transition, to show the new state).
pub async fn reload(txn: &impl ConnectionTrait, id: Uuid) -> Result<pickup::Model> {
    pickup::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound { what: "pickup" })
}
