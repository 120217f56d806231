//! Foundation schema: accounts and sessions, idempotency records, the transactional outbox,
//! audit log, and the reference tables (districts, communities, catalogue, rates, slot
//! templates) that every capability reads.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(
                        string_len(Users::Role, 32).check(Expr::col(Users::Role).is_in([
                            "resident",
                            "recycler",
                            "merchant",
                            "station_manager",
                            "admin",
                        ])),
                    )
                    .col(
                        string_len_null(Users::AdminScope, 32)
                            .check(Expr::col(Users::AdminScope).is_in(["super_admin", "district"])),
                    )
                    .col(string_len_null(Users::DistrictCode, 12))
                    .col(string_len_null(Users::Phone, 20).unique_key())
                    .col(text_null(Users::PasswordHash))
                    .col(string_len_null(Users::WechatOpenid, 64).unique_key())
                    .col(string_len_null(Users::WechatUnionid, 64))
                    .col(string_len(Users::Nickname, 64).default(""))
                    .col(text_null(Users::AvatarUrl))
                    .col(
                        string_len(Users::Status, 16)
                            .default("active")
                            .check(Expr::col(Users::Status).is_in(["active", "disabled"])),
                    )
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(pk_uuid(RefreshTokens::Id))
                    .col(uuid(RefreshTokens::UserId))
                    .col(uuid(RefreshTokens::FamilyId))
                    .col(string_len(RefreshTokens::TokenHash, 64).unique_key())
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RefreshTokens::Table, RefreshTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_family")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::FamilyId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(string_len(IdempotencyKeys::Caller, 64))
                    .col(string_len(IdempotencyKeys::Key, 255))
                    .col(string_len(IdempotencyKeys::RequestHash, 64))
                    .col(
                        string_len(IdempotencyKeys::State, 16).check(
                            Expr::col(IdempotencyKeys::State).is_in(["in_flight", "completed"]),
                        ),
                    )
                    .col(small_integer_null(IdempotencyKeys::ResponseStatus))
                    .col(text_null(IdempotencyKeys::ResponseContentType))
                    .col(blob_null(IdempotencyKeys::ResponseBody))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .col(timestamp_with_time_zone(IdempotencyKeys::ExpiresAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::Caller)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(pk_uuid(Outbox::Id))
                    .col(string_len(Outbox::Topic, 64))
                    .col(text(Outbox::Payload))
                    .col(timestamp_with_time_zone(Outbox::RunAt))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_created")
                    .table(Outbox::Table)
                    .col(Outbox::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(pk_uuid(AuditLog::Id))
                    .col(uuid_null(AuditLog::ActorId))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string_len(AuditLog::ObjectType, 64))
                    .col(string_len(AuditLog::ObjectId, 64))
                    .col(text(AuditLog::Detail))
                    .col(timestamp_with_time_zone(AuditLog::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Districts::Table)
                    .col(string_len(Districts::Code, 12).primary_key())
                    .col(string_len(Districts::Name, 64).unique_key())
                    .col(string_len(Districts::Kind, 32))
                    .col(text(Districts::Note).default(""))
                    .col(integer(Districts::SortOrder))
                    .col(
                        string_len(Districts::DispatchMode, 16)
                            .default("assign")
                            .check(
                                Expr::col(Districts::DispatchMode).is_in(["assign", "broadcast"]),
                            ),
                    )
                    .col(boolean(Districts::Served).default(true))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Communities::Table)
                    .col(pk_uuid(Communities::Id))
                    .col(string_len(Communities::DistrictCode, 12))
                    .col(string_len(Communities::Name, 128))
                    .col(double_null(Communities::Lat))
                    .col(double_null(Communities::Lng))
                    .col(timestamp_with_time_zone(Communities::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Communities::Table, Communities::DistrictCode)
                            .to(Districts::Table, Districts::Code),
                    )
                    .index(
                        Index::create()
                            .unique()
                            .name("uq_communities_district_name")
                            .col(Communities::DistrictCode)
                            .col(Communities::Name),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Categories::Table)
                    .col(pk_uuid(Categories::Id))
                    .col(string_len(Categories::Code, 32).unique_key())
                    .col(string_len(Categories::Name, 64))
                    .col(
                        string_len(Categories::Unit, 8)
                            .check(Expr::col(Categories::Unit).is_in(["kg", "piece"])),
                    )
                    .col(boolean(Categories::NeedsVan).default(false))
                    .col(text(Categories::Guidance).default(""))
                    .col(boolean(Categories::Active).default(true))
                    .col(integer(Categories::SortOrder))
                    .col(timestamp_with_time_zone(Categories::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CategoryRates::Table)
                    .col(pk_uuid(CategoryRates::Id))
                    .col(uuid(CategoryRates::CategoryId))
                    .col(
                        integer(CategoryRates::PointsPerUnit)
                            .check(Expr::col(CategoryRates::PointsPerUnit).gte(0)),
                    )
                    .col(
                        integer(CategoryRates::ServiceFeeFenPerUnit)
                            .default(0)
                            .check(Expr::col(CategoryRates::ServiceFeeFenPerUnit).gte(0)),
                    )
                    .col(timestamp_with_time_zone(CategoryRates::EffectiveFrom))
                    .col(uuid_null(CategoryRates::CreatedBy))
                    .col(timestamp_with_time_zone(CategoryRates::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CategoryRates::Table, CategoryRates::CategoryId)
                            .to(Categories::Table, Categories::Id),
                    )
                    .index(
                        Index::create()
                            .unique()
                            .name("uq_category_rates_effective")
                            .col(CategoryRates::CategoryId)
                            .col(CategoryRates::EffectiveFrom),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SlotTemplates::Table)
                    .col(pk_uuid(SlotTemplates::Id))
                    .col(string_len(SlotTemplates::Name, 64))
                    .col(string_len_null(SlotTemplates::DistrictCode, 12))
                    .col(uuid_null(SlotTemplates::CommunityId))
                    .col(text(SlotTemplates::Windows))
                    .col(boolean(SlotTemplates::Active).default(true))
                    .col(timestamp_with_time_zone(SlotTemplates::CreatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SlotTemplates::Table.into_iden(),
            CategoryRates::Table.into_iden(),
            Categories::Table.into_iden(),
            Communities::Table.into_iden(),
            Districts::Table.into_iden(),
            AuditLog::Table.into_iden(),
            Outbox::Table.into_iden(),
            IdempotencyKeys::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Role,
    AdminScope,
    DistrictCode,
    Phone,
    PasswordHash,
    WechatOpenid,
    WechatUnionid,
    Nickname,
    AvatarUrl,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    UserId,
    FamilyId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Caller,
    Key,
    RequestHash,
    State,
    ResponseStatus,
    ResponseContentType,
    ResponseBody,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Topic,
    Payload,
    RunAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    ActorId,
    Action,
    ObjectType,
    ObjectId,
    Detail,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Districts {
    Table,
    Code,
    Name,
    Kind,
    Note,
    SortOrder,
    DispatchMode,
    Served,
}

#[derive(DeriveIden)]
enum Communities {
    Table,
    Id,
    DistrictCode,
    Name,
    Lat,
    Lng,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
    Code,
    Name,
    Unit,
    NeedsVan,
    Guidance,
    Active,
    SortOrder,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CategoryRates {
    Table,
    Id,
    CategoryId,
    PointsPerUnit,
    ServiceFeeFenPerUnit,
    EffectiveFrom,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SlotTemplates {
    Table,
    Id,
    Name,
    DistrictCode,
    CommunityId,
    Windows,
    Active,
    CreatedAt,
}
