//! The `jobs` table: the embedded footprint's durable job queue (`EmbeddedQueue` in
//! `wufei-domain`). One row per job that is waiting, in flight, or dead-lettered; acked jobs
//! are deleted. Production uses Redis Streams instead and never reads this table.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(pk_uuid(Jobs::Id))
                    .col(string_len(Jobs::Topic, 64))
                    .col(text(Jobs::Payload))
                    .col(
                        integer(Jobs::Attempts)
                            .default(0)
                            .check(Expr::col(Jobs::Attempts).gte(0)),
                    )
                    .col(timestamp_with_time_zone(Jobs::RunAt))
                    .col(string_len_null(Jobs::LockedBy, 128))
                    .col(timestamp_with_time_zone_null(Jobs::LockedUntil))
                    .col(text_null(Jobs::LastError))
                    .col(boolean(Jobs::Dead).default(false))
                    .col(timestamp_with_time_zone(Jobs::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // The receive query: live jobs of some topics whose run_at has come, oldest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_jobs_receive")
                    .table(Jobs::Table)
                    .col(Jobs::Dead)
                    .col(Jobs::Topic)
                    .col(Jobs::RunAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Jobs::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Topic,
    Payload,
    Attempts,
    RunAt,
    LockedBy,
    LockedUntil,
    LastError,
    Dead,
    CreatedAt,
}
