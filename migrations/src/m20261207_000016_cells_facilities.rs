//! Zero-waste cells (无废细胞: applications reviewed by the district, published as badges,
//! revocable) and the facilities the public can find (recycling stations, sorting centres,
//! transfer stations, kitchen-waste plants, construction-waste centres, hazardous-waste
//! points). Kinds and statuses are closed sets; positions are GCJ-02.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The cell kinds the plan names (`domain/data/plan/cell_kinds.json`).
const CELL_KINDS: [&str; 8] = [
    "zero_waste_factory",
    "zero_waste_park",
    "zero_waste_group",
    "zero_waste_community",
    "zero_waste_school",
    "zero_waste_scenic_area",
    "zero_waste_farm",
    "zero_waste_village",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ZeroWasteCells as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(pk_uuid(C::Id))
                .col(uuid(C::ApplicantId))
                .col(string_len(C::Organisation, 128))
                .col(string_len(C::Kind, 32).check(Expr::col(C::Kind).is_in(CELL_KINDS)))
                .col(string_len(C::DistrictCode, 12))
                .col(string_len(C::Address, 256))
                .col(double(C::Lat))
                .col(double(C::Lng))
                .col(text(C::Description))
                .col(text(C::PhotoIds).default("[]"))
                .col(text(C::EvidenceIds).default("[]"))
                .col(string_len(C::Status, 16).check(Expr::col(C::Status).is_in([
                    "pending",
                    "published",
                    "rejected",
                    "revoked",
                ])))
                .col(text_null(C::Reason))
                .col(uuid_null(C::ReviewedBy))
                .col(timestamp_with_time_zone_null(C::ReviewedAt))
                .col(timestamp_with_time_zone_null(C::PublishedAt))
                .col(timestamp_with_time_zone_null(C::RevokedAt))
                .col(timestamp_with_time_zone(C::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(C::Table, C::ApplicantId)
                        .to(Users::Table, Users::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(C::Table, C::DistrictCode)
                        .to(Districts::Table, Districts::Code),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_zero_waste_cells_status")
                .table(C::Table)
                .col(C::Status)
                .col(C::DistrictCode)
                .to_owned(),
        )
        .await?;

        use Facilities as F;
        m.create_table(
            Table::create()
                .table(F::Table)
                .col(pk_uuid(F::Id))
                .col(string_len(F::Name, 128))
                .col(string_len(F::Kind, 32).check(Expr::col(F::Kind).is_in([
                    "recycling_station",
                    "sorting_centre",
                    "transfer_station",
                    "kitchen_waste_plant",
                    "construction_waste_plant",
                    "hazardous_waste_point",
                ])))
                .col(string_len(F::DistrictCode, 12))
                .col(string_len(F::Address, 256))
                .col(double(F::Lat))
                .col(double(F::Lng))
                .col(double_null(F::CapacityTPerDay))
                .col(string_len(F::OpeningHours, 128).default(""))
                .col(string_len(F::Operator, 128).default(""))
                .col(boolean(F::Active).default(true))
                .col(timestamp_with_time_zone(F::CreatedAt))
                .col(timestamp_with_time_zone(F::UpdatedAt))
                .check((
                    "ck_facilities_capacity",
                    Expr::col(F::CapacityTPerDay)
                        .is_null()
                        .or(Expr::col(F::CapacityTPerDay).gte(0)),
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(F::Table, F::DistrictCode)
                        .to(Districts::Table, Districts::Code),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["facilities", "zero_waste_cells"] {
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
enum ZeroWasteCells {
    Table,
    Id,
    ApplicantId,
    Organisation,
    Kind,
    DistrictCode,
    Address,
    Lat,
    Lng,
    Description,
    PhotoIds,
    EvidenceIds,
    Status,
    Reason,
    ReviewedBy,
    ReviewedAt,
    PublishedAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Facilities {
    Table,
    Id,
    Name,
    Kind,
    DistrictCode,
    Address,
    Lat,
    Lng,
    CapacityTPerDay,
    OpeningHours,
    Operator,
    Active,
    CreatedAt,
    UpdatedAt,
}
