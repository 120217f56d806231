//! Claiming a booking's own dispatch job: the round made right after a booking deletes
//! the job's outbox row in its own write, so that either it or the queued job does the
//! work.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    sea_query::{LockBehavior, LockType, Query},
};
use uuid::Uuid;

use crate::{entities::outbox as outbox_row, error::Result};

/// Deletes outbox row `id` unless a relay has it or has relayed it (its job is then on the
/// queue, which does the work); returns whether it did. On PostgreSQL it never waits for a
/// relay holding the row (`SKIP LOCKED`).
pub(super) async fn claim_outbox_row(conn: &impl ConnectionTrait, id: Uuid) -> Result<bool> {
    let delete = outbox_row::Entity::delete_many();
    let delete = if conn.get_database_backend() == DatabaseBackend::Postgres {
        delete.filter(
            outbox_row::Column::Id.in_subquery(
                Query::select()
                    .column(outbox_row::Column::Id)
                    .from(outbox_row::Entity)
                    .and_where(outbox_row::Column::Id.eq(id))
                    .and_where(outbox_row::Column::RelayedAt.is_null())
                    .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                    .to_owned(),
            ),
        )
    } else {
        delete
            .filter(outbox_row::Column::Id.eq(id))
            .filter(outbox_row::Column::RelayedAt.is_null())
    };
    Ok(delete.exec(conn).await?.rows_affected == 1)
}
