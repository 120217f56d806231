//! The outbox keeps a row until its job is done, not until it is relayed.
//!
//! Redis holds the relayed jobs of the production footprint. When it came back without its
//! data (restarted without persistence, a failover to an empty replica), the jobs on its
//! streams were gone, and so were their outbox rows, deleted when they were relayed:
//! settlements waited for the 15-minute sweep, notifications and dispatch follow-ups were
//! lost for good. Now the relay marks a row relayed (`relayed_at`, and the queue's
//! `relayed_epoch` it was written under) and the runner deletes it once the job is acked or
//! dead-lettered; a row relayed under an epoch the queue no longer has, or relayed long
//! enough ago that no job can still be on its way, is relayed again.
//!
//! `idx_outbox_due (run_at, id)` becomes `idx_outbox_unrelayed`, the same index over the rows
//! not yet relayed only, so the relay's walk never passes the rows waiting for their jobs
//! to finish; `idx_outbox_relayed (relayed_at)` finds those when they must go again.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Outbox::Table)
                .add_column(timestamp_with_time_zone_null(Outbox::RelayedAt))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Outbox::Table)
                .add_column(string_len_null(Outbox::RelayedEpoch, 64))
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("idx_outbox_due")
                .table(Outbox::Table)
                .to_owned(),
        )
        .await?;
        // The same statements on both backends; sea-query has no partial index builder.
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE INDEX idx_outbox_unrelayed ON outbox (run_at, id) WHERE relayed_at IS NULL",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_outbox_relayed ON outbox (relayed_at) WHERE relayed_at IS NOT NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in ["idx_outbox_unrelayed", "idx_outbox_relayed"] {
            m.drop_index(Index::drop().name(name).table(Outbox::Table).to_owned())
                .await?;
        }
        m.create_index(
            Index::create()
                .name("idx_outbox_due")
                .table(Outbox::Table)
                .col(Outbox::RunAt)
                .col(Outbox::Id)
                .to_owned(),
        )
        .await?;
        for col in [Outbox::RelayedEpoch, Outbox::RelayedAt] {
            m.alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    RunAt,
    Id,
    RelayedAt,
    RelayedEpoch,
}
