//! Point lots: every credit to a resident is a lot (one funding district, one expiry);
//! every debit draws lots, oldest expiry first. A draw is an immutable row; a trigger keeps
//! `point_lots.remaining` and the database refuses a lot below zero or above its points.

use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::{insufficient_points, overdraft};
use crate::{
    entities::{lot_draw, point_lot},
    error::Result,
};

/// Name of the lot bounds check.
pub const REMAINING_CHECK: &str = "ck_point_lots_remaining";

/// Which lots a debit draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Draw {
    /// Unexpired lots, oldest expiry first.
    Oldest,
    /// Only this lot (expiry), expired or not.
    Only(Uuid),
    /// These lots first (expired or not), then unexpired lots oldest expiry first.
    Prefer(Vec<Uuid>),
}

/// Plans taking `points` from `account_id`'s lots: `(lot, points taken)` in draw order.
/// Refuses with 409 `insufficient_points` when the lots do not cover it.
pub async fn plan(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    points: i64,
    draw: &Draw,
) -> Result<Vec<(point_lot::Model, i64)>> {
    let now = Utc::now();
    let open = point_lot::Entity::find()
        .filter(point_lot::Column::AccountId.eq(account_id))
        .filter(point_lot::Column::Remaining.gt(0))
        .order_by_asc(point_lot::Column::ExpiresAt)
        .order_by_asc(point_lot::Column::Id)
        .all(db)
        .await?;
    let ordered: Vec<point_lot::Model> = match draw {
        Draw::Oldest => open.into_iter().filter(|l| l.expires_at > now).collect(),
        Draw::Only(id) => open.into_iter().filter(|l| l.id == *id).collect(),
        Draw::Prefer(ids) => {
            let (first, rest): (Vec<_>, Vec<_>) =
                open.into_iter().partition(|l| ids.contains(&l.id));
            first
                .into_iter()
                .chain(rest.into_iter().filter(|l| l.expires_at > now))
                .collect()
        }
    };
    let mut left = points;
    let mut out = Vec::new();
    for lot in ordered {
        if left == 0 {
            break;
        }
        let take = left.min(lot.remaining);
        left -= take;
        out.push((lot, take));
    }
    if left > 0 {
        return Err(insufficient_points());
    }
    Ok(out)
}

/// Records the planned draws under transaction `tx_id`.
pub async fn record_draws(
    db: &impl ConnectionTrait,
    tx_id: Uuid,
    planned: &[(point_lot::Model, i64)],
) -> Result<()> {
    let rows: Vec<_> = planned
        .iter()
        .filter(|(_, take)| *take > 0)
        .map(|(lot, take)| draw_row(lot.id, tx_id, *take))
        .collect();
    insert(db, rows).await
}

/// Puts back what `draws` took, under transaction `tx_id`.
pub async fn restore(
    db: &impl ConnectionTrait,
    tx_id: Uuid,
    draws: &[lot_draw::Model],
) -> Result<()> {
    let rows: Vec<_> = draws
        .iter()
        .map(|d| draw_row(d.lot_id, tx_id, -d.points))
        .collect();
    insert(db, rows).await
}

/// The lots a transaction created.
pub async fn created_by(db: &impl ConnectionTrait, tx_id: Uuid) -> Result<Vec<point_lot::Model>> {
    Ok(point_lot::Entity::find()
        .filter(point_lot::Column::TransactionId.eq(tx_id))
        .all(db)
        .await?)
}

/// The draws a transaction made.
pub async fn draws_of(db: &impl ConnectionTrait, tx_id: Uuid) -> Result<Vec<lot_draw::Model>> {
    Ok(lot_draw::Entity::find()
        .filter(lot_draw::Column::TransactionId.eq(tx_id))
        .all(db)
        .await?)
}

fn draw_row(lot_id: Uuid, tx_id: Uuid, points: i64) -> lot_draw::ActiveModel {
    lot_draw::ActiveModel {
        id: Set(Uuid::now_v7()),
        lot_id: Set(lot_id),
        transaction_id: Set(tx_id),
        points: Set(points),
        created_at: Set(Utc::now()),
    }
}

async fn insert(db: &impl ConnectionTrait, rows: Vec<lot_draw::ActiveModel>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    lot_draw::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await
        .map_err(overdraft)?;
    Ok(())
}
