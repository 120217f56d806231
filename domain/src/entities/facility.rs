//! The `facilities` table. Schema owned by `wufei-migrations` (`m20261207_000016_cells_facilities`).

use sea_orm::entity::prelude::*;

/// What a facility is.
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
#[schema(as = FacilityKind)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 回收站点
    #[sea_orm(string_value = "recycling_station")]
    RecyclingStation,
    /// 分拣中心
    #[sea_orm(string_value = "sorting_centre")]
    SortingCentre,
    /// 中转站
    #[sea_orm(string_value = "transfer_station")]
    TransferStation,
    /// 厨余垃圾处理厂
    #[sea_orm(string_value = "kitchen_waste_plant")]
    KitchenWastePlant,
    /// 建筑垃圾消纳处置中心
    #[sea_orm(string_value = "construction_waste_plant")]
    ConstructionWastePlant,
    /// 有害垃圾收集点
    #[sea_orm(string_value = "hazardous_waste_point")]
    HazardousWastePoint,
}

impl Kind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::RecyclingStation => "recycling_station",
            Kind::SortingCentre => "sorting_centre",
            Kind::TransferStation => "transfer_station",
            Kind::KitchenWastePlant => "kitchen_waste_plant",
            Kind::ConstructionWastePlant => "construction_waste_plant",
            Kind::HazardousWastePoint => "hazardous_waste_point",
        }
    }
}

/// A facility the public can find.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "facilities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub kind: Kind,
    pub district_code: String,
    pub address: String,
    pub lat: f64,
    pub lng: f64,
    pub capacity_t_per_day: Option<f64>,
    pub opening_hours: String,
    pub operator: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
