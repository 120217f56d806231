//! Catalogue administration: the weekdays a slot template applies on. The column is new and
//! has a default, so rows written before it (the seeded default template) keep meaning
//! "every day", and nothing in migrations 0001–0004 changes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // JSON array of ISO weekdays (1 = Monday … 7 = Sunday) in Asia/Shanghai time.
        m.alter_table(
            Table::alter()
                .table(SlotTemplates::Table)
                .add_column(text(SlotTemplates::Weekdays).default("[1,2,3,4,5,6,7]"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(SlotTemplates::Table)
                .drop_column(SlotTemplates::Weekdays)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum SlotTemplates {
    Table,
    Weekdays,
}
