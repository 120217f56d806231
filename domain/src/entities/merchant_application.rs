//! The `merchant_applications` table. Schema owned by `wufei-migrations` (`m20261207_000014_marketplace`).

use sea_orm::entity::prelude::*;

/// Where an application stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Deserialize,
    serde::Serialize,
    utoipa::ToSchema,
)]
#[schema(as = MerchantApplicationStatus)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for an administrator of its district.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Approved: the account is a merchant.
    #[sea_orm(string_value = "approved")]
    Approved,
    /// Rejected, with a reason.
    #[sea_orm(string_value = "rejected")]
    Rejected,
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
        }
    }
}

/// An application to trade on the marketplace.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "merchant_applications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub company_name: String,
    pub credit_code: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub district_code: String,
    pub address: String,
    pub licence_id: Uuid,
    pub status: Status,
    pub reason: Option<String>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
