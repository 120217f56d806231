//! Adds `idx_outbox_due (run_at, id)`: the relay takes the outbox rows that are due, in
//! that order.
//!
//! The outbox holds rows that are not due for a while: offer timeouts (a minute), and the
//! next try of every pickup nobody can take yet (`WUFEI_DISPATCH_RETRY_SECS`, ten minutes by
//! default; after a night's bookings, thousands). With only `idx_outbox_created`, the
//! relay's `WHERE run_at <= now` read every one of them on each pass: 2 ms a pass with
//! 20 000 waiting, measured under the booking benchmark, where the relay passes after
//! nearly every commit. The relay asks in this index's order, so PostgreSQL walks it and
//! stops at the batch: it reads only rows that are due, with or without statistics (on a
//! table not yet analysed, `WHERE run_at <= now LIMIT 1` alone was a sequential scan).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("idx_outbox_due")
                .table(Outbox::Table)
                .col(Outbox::RunAt)
                .col(Outbox::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_outbox_due")
                .table(Outbox::Table)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    RunAt,
    Id,
}
