//! `devices.secret` holds the device's secret sealed (`v1:<key id>:<nonce>:<ciphertext>`,
//! about 150 characters; see `wufei_domain::devices::sealing`) instead of the 64 hex digits
//! themselves, so it becomes `text`. SQLite does not enforce a `varchar` length; only
//! PostgreSQL's column changes. The secrets are sealed at start, not here: the key is
//! configuration, which migrations do not read.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        m.get_connection()
            .execute_unprepared("ALTER TABLE devices ALTER COLUMN secret TYPE text")
            .await
            .map(drop)
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        m.get_connection()
            .execute_unprepared("ALTER TABLE devices ALTER COLUMN secret TYPE varchar(128)")
            .await
            .map(drop)
    }
}
