//! The `ledger_transactions` table. Schema owned by `wufei-migrations` (`m20261129_000007_points`).

use sea_orm::entity::prelude::*;

/// What a transaction records.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum TxKind {
    /// Points (and the recycler's fee) for a completed pickup.
    #[sea_orm(string_value = "settlement")]
    Settlement,
    /// Points for a smart-device deposit.
    #[sea_orm(string_value = "device_deposit")]
    DeviceDeposit,
    /// Points spent in the mall.
    #[sea_orm(string_value = "redemption")]
    Redemption,
    /// A cancelled redemption's points given back.
    #[sea_orm(string_value = "refund")]
    Refund,
    /// Points expired from a lot.
    #[sea_orm(string_value = "expiry")]
    Expiry,
    /// An administrator's correction.
    #[sea_orm(string_value = "adjustment")]
    Adjustment,
    /// The reversal of an earlier transaction (a resolved dispute).
    #[sea_orm(string_value = "reversal")]
    Reversal,
    /// Budget moved to a district's programme account.
    #[sea_orm(string_value = "budget")]
    Budget,
}

impl TxKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TxKind::Settlement => "settlement",
            TxKind::DeviceDeposit => "device_deposit",
            TxKind::Redemption => "redemption",
            TxKind::Refund => "refund",
            TxKind::Expiry => "expiry",
            TxKind::Adjustment => "adjustment",
            TxKind::Reversal => "reversal",
            TxKind::Budget => "budget",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "settlement" => TxKind::Settlement,
            "device_deposit" => TxKind::DeviceDeposit,
            "redemption" => TxKind::Redemption,
            "refund" => TxKind::Refund,
            "expiry" => TxKind::Expiry,
            "adjustment" => TxKind::Adjustment,
            "reversal" => TxKind::Reversal,
            "budget" => TxKind::Budget,
            _ => return None,
        })
    }
}

/// A ledger transaction: the postings of one business event, identified by its unique source key. Immutable.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_transactions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub source_key: String,
    pub kind: TxKind,
    pub memo: String,
    pub reverses_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
