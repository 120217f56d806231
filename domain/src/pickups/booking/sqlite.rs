//! A booking on SQLite (the embedded footprint): the reads, the checks and the writes in
//! one transaction, the slot's conditional update last. SQLite serialises writers, so the
//! transaction holds the database's write lock for as long as it writes.

use sea_orm::{
    ActiveModelTrait, DatabaseConnection, EntityTrait, IntoActiveModel, TransactionTrait,
};

use super::{
    checks::{Checked, check_booking},
    draft::Request,
};
use crate::{
    entities::{outbox, pickup, pickup_event, pickup_item},
    error::Result,
    pickups::capacity::take_slot,
};

/// Writes `r`'s booking; returns what it was checked against.
pub(super) async fn book(db: &DatabaseConnection, r: &Request) -> Result<Checked> {
    let txn = db.begin().await?;
    let checked = check_booking(&txn, &r.who, r.rules, &r.input).await?;
    let row = r.draft.pickup(&r.who, &checked);
    let waits = r.waits_until(&checked);
    pickup::Entity::insert(row.into_active_model().reset_all())
        .exec_without_returning(&txn)
        .await?;
    pickup_item::Entity::insert_many(
        r.draft
            .items(&r.input, &r.item_ids)
            .map(|i| i.into_active_model().reset_all()),
    )
    .exec_without_returning(&txn)
    .await?;
    pickup_event::Entity::insert(r.draft.event.clone().into_active_model().reset_all())
        .exec_without_returning(&txn)
        .await?;
    outbox::Entity::insert(
        r.draft
            .job(checked.slot.id, waits)
            .into_active_model()
            .reset_all(),
    )
    .exec_without_returning(&txn)
    .await?;
    take_slot(&txn, checked.slot.id, checked.needs_van).await?;
    txn.commit().await?;
    Ok(checked)
}
