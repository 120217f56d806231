//! Uploads: one row per stored file (photo, ID image, licence, certificate). The bytes live
//! in the blob store under `blob_key` and `thumb_key`; this table says who owns them, what
//! they are for (which decides who may read them) and what they measure.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Uploads::Table)
                    .col(pk_uuid(Uploads::Id))
                    .col(uuid(Uploads::OwnerId))
                    .col(
                        string_len(Uploads::Purpose, 32).check(Expr::col(Uploads::Purpose).is_in(
                            [
                                "pickup_photo",
                                "id_photo",
                                "licence",
                                "listing_photo",
                                "certificate",
                            ],
                        )),
                    )
                    .col(string_len(Uploads::ContentType, 64))
                    .col(integer(Uploads::Width).check(Expr::col(Uploads::Width).gt(0)))
                    .col(integer(Uploads::Height).check(Expr::col(Uploads::Height).gt(0)))
                    .col(
                        big_integer(Uploads::SizeBytes).check(Expr::col(Uploads::SizeBytes).gte(0)),
                    )
                    .col(string_len(Uploads::BlobKey, 255).unique_key())
                    .col(string_len(Uploads::ThumbKey, 255).unique_key())
                    .col(timestamp_with_time_zone(Uploads::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_uploads_owner")
                    .table(Uploads::Table)
                    .col(Uploads::OwnerId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Uploads::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Uploads {
    Table,
    Id,
    OwnerId,
    Purpose,
    ContentType,
    Width,
    Height,
    SizeBytes,
    BlobKey,
    ThumbKey,
    CreatedAt,
}
