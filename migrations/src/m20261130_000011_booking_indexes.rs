//! Two indexes every booking wrote to and nothing reads:
//!
//! - `idx_outbox_created` is dropped. The relay reads the outbox through `idx_outbox_due
//!   (run_at, id)` since the previous migration, and nothing else asks for outbox rows by
//!   their creation time; yet every staged job (a booking's dispatch, an offer's timeout,
//!   a notification's delivery) inserted an entry into it.
//! - `idx_pickups_recycler (recycler_id, slot_id)` keeps only pickups that have a recycler.
//!   Every query that uses it names a recycler (`recycler_id = …`, which implies `IS NOT
//!   NULL` to both PostgreSQL's and SQLite's planners), so the entries of pickups nobody
//!   has yet — every new booking's — were never read.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_outbox_created")
                .table(Outbox::Table)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("idx_pickups_recycler")
                .table(Pickups::Table)
                .to_owned(),
        )
        .await?;
        // The same statement on both backends; sea-query has no partial index builder.
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_pickups_recycler ON pickups (recycler_id, slot_id) \
                 WHERE recycler_id IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_pickups_recycler")
                .table(Pickups::Table)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_pickups_recycler")
                .table(Pickups::Table)
                .col(Pickups::RecyclerId)
                .col(Pickups::SlotId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_outbox_created")
                .table(Outbox::Table)
                .col(Outbox::CreatedAt)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Pickups {
    Table,
    RecyclerId,
    SlotId,
}
