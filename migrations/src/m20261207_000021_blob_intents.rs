//! Blob intents: a row written before a blob is, removed in the transaction that records
//! what the blob belongs to. An intent left behind names a blob whose row never committed
//! (a crash, a failed insert whose clean-up failed too); the sweep deletes such blobs.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(BlobIntents::Table)
                .col(string_len(BlobIntents::BlobKey, 255).primary_key())
                .col(timestamp_with_time_zone(BlobIntents::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_blob_intents_created")
                .table(BlobIntents::Table)
                .col(BlobIntents::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(BlobIntents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum BlobIntents {
    Table,
    BlobKey,
    CreatedAt,
}
