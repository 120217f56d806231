//! The `mall_items` table. Schema owned by `wufei-migrations` (`m20261129_000007_points`).

use sea_orm::entity::prelude::*;

/// What an item is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    serde::Deserialize,
    serde::Serialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Goods collected at a station.
    #[sea_orm(string_value = "goods")]
    Goods,
    /// A coupon (the pickup code is shown where it is honoured).
    #[sea_orm(string_value = "coupon")]
    Coupon,
}

impl Kind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Goods => "goods",
            Kind::Coupon => "coupon",
        }
    }
}

/// An item of the points mall.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mall_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub kind: Kind,
    pub description: String,
    pub points: i64,
    pub stock: i32,
    pub per_person_limit: Option<i32>,
    pub sale_starts_at: Option<DateTimeUtc>,
    pub sale_ends_at: Option<DateTimeUtc>,
    pub district_code: Option<String>,
    pub station: String,
    pub image_upload_id: Option<Uuid>,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
