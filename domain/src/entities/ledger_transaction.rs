//! The `ledger_transactions` table. Schema owned by `wufei-migrations` (`m20261129_000007_points`).

use sea_orm::entity::prelude::*;

/// A ledger transaction: the postings of one business event, identified by its unique source key. Immutable.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_transactions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub source_key: String,
    pub kind: String,
    pub memo: String,
    pub reverses_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
