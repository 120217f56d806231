//! Administering accounts: `users.tokens_valid_after`, the moment before which an account's
//! access tokens stop being accepted (a suspension, a role change, "sign out everywhere").

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(timestamp_with_time_zone_null(Users::TokensValidAfter))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_users_tokens_valid_after")
                .table(Users::Table)
                .col(Users::TokensValidAfter)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_users_tokens_valid_after")
                .table(Users::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .drop_column(Users::TokensValidAfter)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    TokensValidAfter,
}
