//! The `ledger_accounts` table. Schema owned by `wufei-migrations` (`m20261129_000007_points`).

use sea_orm::entity::prelude::*;

/// What kind of account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum AccountKind {
    /// A resident's points.
    #[sea_orm(string_value = "resident")]
    Resident,
    /// A recycler's earnings (fen).
    #[sea_orm(string_value = "recycler")]
    Recycler,
    /// The city's appropriation: where district budgets come from.
    #[sea_orm(string_value = "appropriation")]
    Appropriation,
    /// A district's points budget.
    #[sea_orm(string_value = "programme")]
    Programme,
    /// What a district owes recyclers in service fees (fen).
    #[sea_orm(string_value = "fee_payable")]
    FeePayable,
    /// Points spent in the mall, per district of the lots drawn.
    #[sea_orm(string_value = "redemption_sink")]
    RedemptionSink,
    /// Points expired, per district of the lots.
    #[sea_orm(string_value = "expiry_sink")]
    ExpirySink,
}

impl AccountKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Resident => "resident",
            AccountKind::Recycler => "recycler",
            AccountKind::Appropriation => "appropriation",
            AccountKind::Programme => "programme",
            AccountKind::FeePayable => "fee_payable",
            AccountKind::RedemptionSink => "redemption_sink",
            AccountKind::ExpirySink => "expiry_sink",
        }
    }
}

/// Points or money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum Unit {
    /// Green points.
    #[sea_orm(string_value = "points")]
    Points,
    /// Money in fen.
    #[sea_orm(string_value = "fen")]
    Fen,
}

impl Unit {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Points => "points",
            Unit::Fen => "fen",
        }
    }
}

/// A ledger account: a resident's points, a recycler's earnings, a district's programme budget, a sink. `balance` is maintained by a database trigger from the postings; never write it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub key: String,
    pub kind: AccountKind,
    pub unit: Unit,
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
