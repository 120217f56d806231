//! Articles of the disclosure column (政策文件, 通知公告, 工作动态, 无废细胞风采, 科普宣传):
//! written by an editor, published by a reviewer who is another account; their PDF
//! attachments; and the reminders sent when a column is about to go stale.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Articles as A;
        m.create_table(
            Table::create()
                .table(A::Table)
                .col(pk_uuid(A::Id))
                .col(
                    string_len(A::Category, 16).check(Expr::col(A::Category).is_in([
                        "policy",
                        "notice",
                        "news",
                        "cell_showcase",
                        "science",
                    ])),
                )
                .col(string_len(A::Title, 200))
                .col(text(A::Summary))
                .col(text(A::BodySource))
                .col(text(A::BodyHtml))
                .col(string_len_null(A::DistrictCode, 12))
                .col(uuid_null(A::CoverId))
                .col(string_len(A::Status, 16).check(Expr::col(A::Status).is_in([
                    "draft",
                    "pending_review",
                    "published",
                    "withdrawn",
                ])))
                .col(uuid(A::AuthorId))
                .col(uuid(A::LastEditorId))
                .col(uuid_null(A::ReviewerId))
                .col(text_null(A::ReviewNote))
                .col(text_null(A::WithdrawReason))
                .col(timestamp_with_time_zone_null(A::PublishedAt))
                .col(big_integer(A::Version).check(Expr::col(A::Version).gte(1)))
                .col(timestamp_with_time_zone(A::CreatedAt))
                .col(timestamp_with_time_zone(A::UpdatedAt))
                // A published article has its publication time and a reviewer who is
                // neither its author nor its last editor: the database keeps the four eyes.
                .check(
                    Expr::col(A::Status)
                        .ne("published")
                        .or(Expr::col(A::PublishedAt)
                            .is_not_null()
                            .and(Expr::col(A::ReviewerId).is_not_null())
                            .and(Expr::col(A::ReviewerId).ne(Expr::col(A::AuthorId)))
                            .and(Expr::col(A::ReviewerId).ne(Expr::col(A::LastEditorId)))),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(A::Table, A::DistrictCode)
                        .to(Districts::Table, Districts::Code),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(A::Table, A::AuthorId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_articles_public")
                .table(A::Table)
                .col(A::Status)
                .col(A::Category)
                .col(A::PublishedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_articles_district")
                .table(A::Table)
                .col(A::DistrictCode)
                .col(A::Status)
                .to_owned(),
        )
        .await?;

        use ArticleAttachments as F;
        m.create_table(
            Table::create()
                .table(F::Table)
                .col(pk_uuid(F::Id))
                .col(uuid_null(F::ArticleId))
                .col(integer(F::Position).default(0))
                .col(uuid(F::OwnerId))
                .col(string_len(F::Filename, 200))
                .col(string_len(F::ContentType, 64))
                .col(big_integer(F::SizeBytes).check(Expr::col(F::SizeBytes).gt(0)))
                .col(string_len(F::Sha256, 64))
                .col(string_len(F::BlobKey, 255).unique_key())
                .col(timestamp_with_time_zone(F::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(F::Table, F::ArticleId)
                        .to(Articles::Table, Articles::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(F::Table, F::OwnerId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_article_attachments_article")
                .table(F::Table)
                .col(F::ArticleId)
                .col(F::Position)
                .to_owned(),
        )
        .await?;

        // One reminder per column and staleness episode: the key is the column and the
        // publication it has been waiting on since.
        use ArticleColumnReminders as R;
        m.create_table(
            Table::create()
                .table(R::Table)
                .col(string_len(R::Category, 16))
                .col(string_len(R::Scope, 12))
                .col(timestamp_with_time_zone(R::Since))
                .col(timestamp_with_time_zone(R::CreatedAt))
                .primary_key(Index::create().col(R::Category).col(R::Scope).col(R::Since))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "article_column_reminders",
            "article_attachments",
            "articles",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Districts {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Articles {
    Table,
    Id,
    Category,
    Title,
    Summary,
    BodySource,
    BodyHtml,
    DistrictCode,
    CoverId,
    Status,
    AuthorId,
    LastEditorId,
    ReviewerId,
    ReviewNote,
    WithdrawReason,
    PublishedAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ArticleAttachments {
    Table,
    Id,
    ArticleId,
    Position,
    OwnerId,
    Filename,
    ContentType,
    SizeBytes,
    Sha256,
    BlobKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ArticleColumnReminders {
    Table,
    Category,
    Scope,
    Since,
    CreatedAt,
}
