//! The pickup's row lock. Every path that changes a pickup and its offers takes the
//! pickup's row first (on PostgreSQL; SQLite serialises writers anyway), so concurrent
//! accepts, rejects, timeouts, cancels and settlements queue on one row instead of
//! deadlocking on each other's offers.

use sea_orm::{
    ConnectionTrait, DatabaseBackend, EntityTrait, QuerySelect, QueryTrait, sea_query::LockType,
};
use uuid::Uuid;

use crate::{
    entities::{pickup, pickup_slot},
    error::Result,
};

/// Reads a pickup locked for update, and its slot (not locked), in one query.
pub(crate) async fn lock_pickup_with_slot(
    txn: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<(pickup::Model, Option<pickup_slot::Model>)>> {
    let mut q = pickup::Entity::find_by_id(id).find_also_related(pickup_slot::Entity);
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        QueryTrait::query(&mut q).lock_with_tables(LockType::Update, [pickup::Entity]);
    }
    Ok(q.one(txn).await?)
}

/// Reads a pickup locked for update (PostgreSQL; SQLite serialises writers anyway).
pub(crate) async fn lock_pickup(
    txn: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<pickup::Model>> {
    let mut q = pickup::Entity::find_by_id(id);
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        q = q.lock_exclusive();
    }
    Ok(q.one(txn).await?)
}
