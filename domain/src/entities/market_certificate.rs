//! The `market_certificates` table. Schema owned by `wufei-migrations` (`m20261207_000014_marketplace`).

use sea_orm::entity::prelude::*;

/// What a certificate attests.
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
#[schema(as = CertificateKind)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Green building material product certification (绿色建材产品认证), star level 1–3.
    #[sea_orm(string_value = "green_building_material")]
    GreenBuildingMaterial,
    /// A third-party test report against the product's standard.
    #[sea_orm(string_value = "test_report")]
    TestReport,
    /// Inclusion in a provincial promotion catalogue (推广应用目录).
    #[sea_orm(string_value = "promotion_catalogue")]
    PromotionCatalogue,
}

impl Kind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::GreenBuildingMaterial => "green_building_material",
            Kind::TestReport => "test_report",
            Kind::PromotionCatalogue => "promotion_catalogue",
        }
    }
}

/// A quality certificate of a listing.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "market_certificates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub listing_id: Uuid,
    pub kind: Kind,
    pub star_level: Option<i32>,
    pub number: String,
    pub issuer: String,
    pub issued_on: Date,
    pub expires_on: Date,
    pub upload_id: Uuid,
    pub reminded_30_at: Option<DateTimeUtc>,
    pub reminded_7_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
