//! The `ledger_accounts` table. Schema owned by `wufei-migrations` (`m20261129_000007_points`).

use sea_orm::entity::prelude::*;

/// A ledger account: a resident's points, a recycler's earnings, a district's programme budget, a sink. `balance` is maintained by a database trigger from the postings; never write it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub key: String,
    pub kind: String,
    pub unit: String,
    pub user_id: Option<Uuid>,
    pub district_code: Option<String>,
    pub balance: i64,
    pub min_balance: Option<i64>,
    pub created_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
