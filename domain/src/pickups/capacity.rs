//! Capacity a pickup holds: a place in its slot (and a van place when it needs one), and a
//! place in its recycler's load for that slot. Each is taken by a conditional update, so
//! it is never exceeded however many take it at once, and given back the same way.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    entities::{pickup_slot, recycler, recycler_slot_load},
    error::{Error, Result},
};

/// Gives back the slot capacity a pickup held.
pub async fn release_slot(
    txn: &impl ConnectionTrait,
    slot_id: Uuid,
    needs_van: bool,
) -> Result<()> {
    let mut update = pickup_slot::Entity::update_many()
        .col_expr(
            pickup_slot::Column::Booked,
            Expr::col(pickup_slot::Column::Booked).sub(1),
        )
        .filter(pickup_slot::Column::Id.eq(slot_id))
        .filter(pickup_slot::Column::Booked.gt(0));
    if needs_van {
        update = update
            .col_expr(
                pickup_slot::Column::VanBooked,
                Expr::col(pickup_slot::Column::VanBooked).sub(1),
            )
            .filter(pickup_slot::Column::VanBooked.gt(0));
    }
    update.exec(txn).await?;
    Ok(())
}

/// Takes one unit of a slot's capacity (and one van place when needed); 409 `slot_full`.
pub async fn take_slot(txn: &impl ConnectionTrait, slot_id: Uuid, needs_van: bool) -> Result<()> {
    let mut update = pickup_slot::Entity::update_many()
        .col_expr(
            pickup_slot::Column::Booked,
            Expr::col(pickup_slot::Column::Booked).add(1),
        )
        .filter(pickup_slot::Column::Id.eq(slot_id))
        .filter(
            Expr::col(pickup_slot::Column::Booked).lt(Expr::col(pickup_slot::Column::Capacity)),
        );
    if needs_van {
        update = update
            .col_expr(
                pickup_slot::Column::VanBooked,
                Expr::col(pickup_slot::Column::VanBooked).add(1),
            )
            .filter(
                Expr::col(pickup_slot::Column::VanBooked)
                    .lt(Expr::col(pickup_slot::Column::VanCapacity)),
            );
    }
    if update.exec(txn).await?.rows_affected == 1 {
        Ok(())
    } else {
        Err(slot_full(needs_van))
    }
}

/// 409 `slot_full`.
pub(crate) fn slot_full(needs_van: bool) -> Error {
    if needs_van {
        Error::conflict(
            "slot_full",
            "this slot has no room left (for items that need a van); choose another slot",
        )
    } else {
        Error::conflict("slot_full", "this slot is full; choose another slot")
    }
}

/// Takes one unit of a recycler's capacity in a slot; 409 `recycler_at_capacity`.
pub async fn take_recycler_load(
    txn: &impl ConnectionTrait,
    recycler_id: Uuid,
    slot_id: Uuid,
) -> Result<()> {
    let capacity = recycler::Entity::find_by_id(recycler_id)
        .one(txn)
        .await?
        .map(|r| r.slot_capacity)
        .ok_or(Error::NotFound { what: "recycler" })?;
    recycler_slot_load::Entity::insert(recycler_slot_load::ActiveModel {
        recycler_id: Set(recycler_id),
        slot_id: Set(slot_id),
        load: Set(0),
        capacity: Set(capacity),
    })
    .on_conflict_do_nothing_on([
        recycler_slot_load::Column::RecyclerId,
        recycler_slot_load::Column::SlotId,
    ])
    .exec(txn)
    .await?;
    let taken = recycler_slot_load::Entity::update_many()
        .col_expr(
            recycler_slot_load::Column::Load,
            Expr::col(recycler_slot_load::Column::Load).add(1),
        )
        .filter(recycler_slot_load::Column::RecyclerId.eq(recycler_id))
        .filter(recycler_slot_load::Column::SlotId.eq(slot_id))
        .filter(
            Expr::col(recycler_slot_load::Column::Load)
                .lt(Expr::col(recycler_slot_load::Column::Capacity)),
        )
        .exec(txn)
        .await?
        .rows_affected;
    if taken == 1 {
        Ok(())
    } else {
        Err(Error::conflict(
            "recycler_at_capacity",
            "this recycler has no capacity left in that slot",
        ))
    }
}

/// Gives back a recycler's capacity in a slot.
pub async fn release_recycler_load(
    txn: &impl ConnectionTrait,
    recycler_id: Uuid,
    slot_id: Uuid,
) -> Result<()> {
    recycler_slot_load::Entity::update_many()
        .col_expr(
            recycler_slot_load::Column::Load,
            Expr::col(recycler_slot_load::Column::Load).sub(1),
        )
        .filter(recycler_slot_load::Column::RecyclerId.eq(recycler_id))
        .filter(recycler_slot_load::Column::SlotId.eq(slot_id))
        .filter(recycler_slot_load::Column::Load.gt(0))
        .exec(txn)
        .await?;
    Ok(())
}
