//! Replaces `idx_pickups_status (status, district_code)` with
//! `idx_pickups_district_status (district_code, status)`.
//!
//! Every transition updates one pickup `WHERE id = $1 AND status = $2 …`. On a table that
//! has not been analysed yet (a new deployment, its first minute) PostgreSQL costs the
//! primary key and an index led by `status` the same and may take the latter; a prepared
//! statement keeps that plan for the connection's life, and each transition then scans
//! every pickup in that status (seen in the booking benchmark: 55 million index entries
//! read for 13 000 bookings). An index led by the district cannot serve `status = $2`, so
//! the primary key is the only way in. The district's administrators' lists (district and
//! status) use the new index as they used the old one.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_pickups_status")
                .table(Pickups::Table)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_pickups_district_status")
                .table(Pickups::Table)
                .col(Pickups::DistrictCode)
                .col(Pickups::Status)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_pickups_district_status")
                .table(Pickups::Table)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_pickups_status")
                .table(Pickups::Table)
                .col(Pickups::Status)
                .col(Pickups::DistrictCode)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Pickups {
    Table,
    Status,
    DistrictCode,
}
