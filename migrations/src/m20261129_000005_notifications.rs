//! Notifications: the in-app inbox, one row per message to one user, carrying also the
//! state of its WeChat subscription-message delivery so an operator can see what happened
//! (`none` — not applicable, with the reason in `wechat_error`; `pending`; `sent`;
//! `refused` by the user; `failed`, with WeChat's error). Rows are never shared between
//! users: every read filters on `user_id`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(pk_uuid(Notifications::Id))
                    .col(uuid(Notifications::UserId))
                    .col(string_len(Notifications::Kind, 32))
                    .col(text(Notifications::Title))
                    .col(text(Notifications::Body))
                    .col(text(Notifications::Data).default("{}"))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(
                        string_len(Notifications::WechatState, 16)
                            .default("pending")
                            .check(
                                Expr::col(Notifications::WechatState)
                                    .is_in(["none", "pending", "sent", "refused", "failed"]),
                            ),
                    )
                    .col(text_null(Notifications::WechatError))
                    .col(timestamp_with_time_zone_null(
                        Notifications::WechatUpdatedAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Notifications::Table, Notifications::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_user_created")
                    .table(Notifications::Table)
                    .col(Notifications::UserId)
                    .col(Notifications::CreatedAt)
                    .col(Notifications::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Notifications::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    Kind,
    Title,
    Body,
    Data,
    ReadAt,
    CreatedAt,
    WechatState,
    WechatError,
    WechatUpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
