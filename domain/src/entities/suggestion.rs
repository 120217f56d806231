//! The `suggestions` table. Schema owned by `wufei-migrations` (`m20261207_000018_voice`).

use sea_orm::entity::prelude::*;

/// What a suggestion is about (also its Open311 service code).
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
#[schema(as = SuggestionCategory)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 上门回收服务
    #[sea_orm(string_value = "recycling_service")]
    RecyclingService,
    /// 垃圾分类
    #[sea_orm(string_value = "sorting")]
    Sorting,
    /// 绿色积分与兑换
    #[sea_orm(string_value = "points_mall")]
    PointsMall,
    /// 回收处置设施
    #[sea_orm(string_value = "facility")]
    Facility,
    /// 建筑垃圾
    #[sea_orm(string_value = "construction_waste")]
    ConstructionWaste,
    /// 其他
    #[sea_orm(string_value = "other")]
    Other,
}

impl Category {
    /// Every category, in order.
    pub const ALL: [Category; 6] = [
        Category::RecyclingService,
        Category::Sorting,
        Category::PointsMall,
        Category::Facility,
        Category::ConstructionWaste,
        Category::Other,
    ];

    /// The stored value (and the Open311 service code).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::RecyclingService => "recycling_service",
            Category::Sorting => "sorting",
            Category::PointsMall => "points_mall",
            Category::Facility => "facility",
            Category::ConstructionWaste => "construction_waste",
            Category::Other => "other",
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Category::RecyclingService => "上门回收服务",
            Category::Sorting => "垃圾分类",
            Category::PointsMall => "绿色积分与兑换",
            Category::Facility => "回收处置设施",
            Category::ConstructionWaste => "建筑垃圾",
            Category::Other => "其他",
        }
    }

    /// The code for `s`, if it is one.
    pub fn parse(s: &str) -> Option<Category> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Where a suggestion is in moderation.
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
#[schema(as = SuggestionStatus)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for a moderator.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Public (with its reply once there is one).
    #[sea_orm(string_value = "published")]
    Published,
    /// Not published (the submitter reads why).
    #[sea_orm(string_value = "rejected")]
    Rejected,
}

impl Status {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Published => "published",
            Status::Rejected => "rejected",
        }
    }
}

/// A suggestion: the text as sent (moderators only), the text the public reads (personal
/// data masked), the reply.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "suggestions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub category: Category,
    pub district_code: Option<String>,
    pub text: String,
    pub public_text: String,
    pub contact: Option<String>,
    pub submitter_id: Option<Uuid>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub address: Option<String>,
    pub status: Status,
    pub reply: Option<String>,
    pub reply_unit: Option<String>,
    pub replied_by: Option<Uuid>,
    pub replied_at: Option<DateTimeUtc>,
    pub reason: Option<String>,
    pub moderated_by: Option<Uuid>,
    pub published_at: Option<DateTimeUtc>,
    pub reminded_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
