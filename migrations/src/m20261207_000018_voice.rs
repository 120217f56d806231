//! The public's voice (五(三)): suggestions (意见建议) sent signed in or anonymously,
//! moderated, published with the department's reply; and the satisfaction survey (满意度),
//! one answer per account per quarter.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The suggestion categories (also the Open311 service codes).
const CATEGORIES: [&str; 6] = [
    "recycling_service",
    "sorting",
    "points_mall",
    "facility",
    "construction_waste",
    "other",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Suggestions as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(pk_uuid(S::Id))
                .col(string_len(S::Category, 32).check(Expr::col(S::Category).is_in(CATEGORIES)))
                .col(string_len_null(S::DistrictCode, 12))
                .col(text(S::Text))
                .col(text(S::PublicText))
                .col(string_len_null(S::Contact, 128))
                .col(uuid_null(S::SubmitterId))
                .col(double_null(S::Lat))
                .col(double_null(S::Lng))
                .col(string_len_null(S::Address, 256))
                .col(string_len(S::Status, 16).check(Expr::col(S::Status).is_in([
                    "pending",
                    "published",
                    "rejected",
                ])))
                .col(text_null(S::Reply))
                .col(string_len_null(S::ReplyUnit, 64))
                .col(uuid_null(S::RepliedBy))
                .col(timestamp_with_time_zone_null(S::RepliedAt))
                .col(text_null(S::Reason))
                .col(uuid_null(S::ModeratedBy))
                .col(timestamp_with_time_zone_null(S::PublishedAt))
                .col(timestamp_with_time_zone_null(S::RemindedAt))
                .col(timestamp_with_time_zone(S::CreatedAt))
                .col(timestamp_with_time_zone(S::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(S::Table, S::DistrictCode)
                        .to(Districts::Table, Districts::Code),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(S::Table, S::SubmitterId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_suggestions_status")
                .table(S::Table)
                .col(S::Status)
                .col(S::DistrictCode)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_suggestions_submitter")
                .table(S::Table)
                .col(S::SubmitterId)
                .to_owned(),
        )
        .await?;

        use SatisfactionAnswers as A;
        let score = |c: A| {
            integer(c)
                .check(Expr::col(c).gte(1).and(Expr::col(c).lte(5)))
                .to_owned()
        };
        m.create_table(
            Table::create()
                .table(A::Table)
                .col(pk_uuid(A::Id))
                .col(uuid(A::UserId))
                .col(string_len(A::Period, 8))
                .col(string_len(A::DistrictCode, 12))
                .col(score(A::Overall))
                .col(score(A::Pickup))
                .col(score(A::Points))
                .col(score(A::Facilities))
                .col(score(A::Disclosure))
                .col(text(A::Comment).default(""))
                .col(timestamp_with_time_zone(A::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(A::Table, A::UserId)
                        .to(Users::Table, Users::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(A::Table, A::DistrictCode)
                        .to(Districts::Table, Districts::Code),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_satisfaction_user_period")
                .table(A::Table)
                .col(A::UserId)
                .col(A::Period)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["satisfaction_answers", "suggestions"] {
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
enum Suggestions {
    Table,
    Id,
    Category,
    DistrictCode,
    Text,
    PublicText,
    Contact,
    SubmitterId,
    Lat,
    Lng,
    Address,
    Status,
    Reply,
    ReplyUnit,
    RepliedBy,
    RepliedAt,
    Reason,
    ModeratedBy,
    PublishedAt,
    RemindedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SatisfactionAnswers {
    Table,
    Id,
    UserId,
    Period,
    DistrictCode,
    Overall,
    Pickup,
    Points,
    Facilities,
    Disclosure,
    Comment,
    CreatedAt,
}
