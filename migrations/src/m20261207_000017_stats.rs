//! Statistics rollups, kept in the transaction that writes the ledger lines they sum, so
//! public statistics never scan the raw ledgers: recycled weight per month, district,
//! category and source; the households served per month, district and source; points
//! issued, redeemed and expired per month and district. An administrator's rebuild
//! recomputes them from the ledgers.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use RecyclingRollups as R;
        m.create_table(
            Table::create()
                .table(R::Table)
                .col(string_len(R::Month, 7))
                .col(string_len(R::DistrictCode, 12))
                .col(uuid(R::CategoryId))
                .col(
                    string_len(R::Source, 8)
                        .check(Expr::col(R::Source).is_in(["pickup", "device"])),
                )
                .col(big_integer(R::WeightG).default(0))
                .col(big_integer(R::Items).default(0))
                .col(big_integer(R::Points).default(0))
                .col(big_integer(R::Lines).default(0))
                .primary_key(
                    Index::create()
                        .col(R::Month)
                        .col(R::DistrictCode)
                        .col(R::CategoryId)
                        .col(R::Source),
                )
                .to_owned(),
        )
        .await?;

        use RecyclingHouseholds as H;
        m.create_table(
            Table::create()
                .table(H::Table)
                .col(string_len(H::Month, 7))
                .col(string_len(H::DistrictCode, 12))
                .col(
                    string_len(H::Source, 8)
                        .check(Expr::col(H::Source).is_in(["pickup", "device"])),
                )
                .col(uuid(H::ResidentId))
                .primary_key(
                    Index::create()
                        .col(H::Month)
                        .col(H::DistrictCode)
                        .col(H::Source)
                        .col(H::ResidentId),
                )
                .to_owned(),
        )
        .await?;

        use PointsRollups as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(string_len(P::Month, 7))
                .col(string_len(P::DistrictCode, 12))
                .col(
                    string_len(P::Flow, 8)
                        .check(Expr::col(P::Flow).is_in(["issued", "redeemed", "expired"])),
                )
                .col(big_integer(P::Amount).default(0))
                .primary_key(
                    Index::create()
                        .col(P::Month)
                        .col(P::DistrictCode)
                        .col(P::Flow),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "points_rollups",
            "recycling_households",
            "recycling_rollups",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum RecyclingRollups {
    Table,
    Month,
    DistrictCode,
    CategoryId,
    Source,
    WeightG,
    Items,
    Points,
    Lines,
}

#[derive(DeriveIden)]
enum RecyclingHouseholds {
    Table,
    Month,
    DistrictCode,
    Source,
    ResidentId,
}

#[derive(DeriveIden)]
enum PointsRollups {
    Table,
    Month,
    DistrictCode,
    Flow,
    Amount,
}
