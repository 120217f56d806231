//! The `zero_waste_cells` table. Schema owned by `wufei-migrations` (`m20261207_000016_cells_facilities`).

use sea_orm::entity::prelude::*;

/// The cell kinds the plan names.
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
#[schema(as = CellKind)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 无废工厂
    #[sea_orm(string_value = "zero_waste_factory")]
    ZeroWasteFactory,
    /// 无废园区
    #[sea_orm(string_value = "zero_waste_park")]
    ZeroWastePark,
    /// 无废集团
    #[sea_orm(string_value = "zero_waste_group")]
    ZeroWasteGroup,
    /// 无废社区
    #[sea_orm(string_value = "zero_waste_community")]
    ZeroWasteCommunity,
    /// 无废学校
    #[sea_orm(string_value = "zero_waste_school")]
    ZeroWasteSchool,
    /// 无废景区
    #[sea_orm(string_value = "zero_waste_scenic_area")]
    ZeroWasteScenicArea,
    /// 无废农场
    #[sea_orm(string_value = "zero_waste_farm")]
    ZeroWasteFarm,
    /// 无废农村
    #[sea_orm(string_value = "zero_waste_village")]
    ZeroWasteVillage,
}

impl Kind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ZeroWasteFactory => "zero_waste_factory",
            Kind::ZeroWastePark => "zero_waste_park",
            Kind::ZeroWasteGroup => "zero_waste_group",
            Kind::ZeroWasteCommunity => "zero_waste_community",
            Kind::ZeroWasteSchool => "zero_waste_school",
            Kind::ZeroWasteScenicArea => "zero_waste_scenic_area",
            Kind::ZeroWasteFarm => "zero_waste_farm",
            Kind::ZeroWasteVillage => "zero_waste_village",
        }
    }
}

/// Where a cell stands.
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
#[schema(as = CellStatus)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Applied; the district reviews it.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// A zero-waste cell, shown to the public.
    #[sea_orm(string_value = "published")]
    Published,
    /// Refused with a reason.
    #[sea_orm(string_value = "rejected")]
    Rejected,
    /// Its badge was withdrawn with a reason.
    #[sea_orm(string_value = "revoked")]
    Revoked,
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Published => "published",
            Status::Rejected => "rejected",
            Status::Revoked => "revoked",
        }
    }
}

/// A zero-waste cell (无废细胞): an application, then a published badge.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "zero_waste_cells")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub applicant_id: Uuid,
    pub organisation: String,
    pub kind: Kind,
    pub district_code: String,
    pub address: String,
    pub lat: f64,
    pub lng: f64,
    pub description: String,
    pub photo_ids: String,
    pub evidence_ids: String,
    pub status: Status,
    pub reason: Option<String>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub published_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
