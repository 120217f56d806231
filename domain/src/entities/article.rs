//! The `articles` table. Schema owned by `wufei-migrations` (`m20261207_000019_articles`).

use sea_orm::entity::prelude::*;

/// The column an article belongs to.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    serde::Deserialize,
    serde::Serialize,
    utoipa::ToSchema,
)]
#[schema(as = ArticleCategory)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 政策文件
    #[sea_orm(string_value = "policy")]
    Policy,
    /// 通知公告
    #[sea_orm(string_value = "notice")]
    Notice,
    /// 工作动态
    #[sea_orm(string_value = "news")]
    News,
    /// 无废细胞风采
    #[sea_orm(string_value = "cell_showcase")]
    CellShowcase,
    /// 科普宣传
    #[sea_orm(string_value = "science")]
    Science,
}

impl Category {
    /// Every category, in the column order of the disclosure page.
    pub const ALL: [Category; 5] = [
        Category::Policy,
        Category::Notice,
        Category::News,
        Category::CellShowcase,
        Category::Science,
    ];

    /// The wire and database form.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Policy => "policy",
            Category::Notice => "notice",
            Category::News => "news",
            Category::CellShowcase => "cell_showcase",
            Category::Science => "science",
        }
    }

    /// The column's Chinese name.
    pub fn name(self) -> &'static str {
        match self {
            Category::Policy => "政策文件",
            Category::Notice => "通知公告",
            Category::News => "工作动态",
            Category::CellShowcase => "无废细胞风采",
            Category::Science => "科普宣传",
        }
    }
}

/// Where an article is in its review.
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
#[schema(as = ArticleStatus)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being written; only administrators see it.
    #[sea_orm(string_value = "draft")]
    Draft,
    /// Submitted; waiting for a reviewer who is not its author or last editor.
    #[sea_orm(string_value = "pending_review")]
    PendingReview,
    /// Public.
    #[sea_orm(string_value = "published")]
    Published,
    /// Taken down with a reason; editing it makes it a draft again.
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
}

impl Status {
    /// The wire and database form.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::PendingReview => "pending_review",
            Status::Published => "published",
            Status::Withdrawn => "withdrawn",
        }
    }
}

/// One article.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "articles")]
pub struct Model {
    /// Id (UUIDv7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Its column.
    pub category: Category,
    /// Title.
    pub title: String,
    /// Summary (plain text).
    pub summary: String,
    /// The body as the editor sent it (Markdown, which may hold HTML); never served publicly.
    pub body_source: String,
    /// The body as sanitised HTML: what the public reads.
    pub body_html: String,
    /// The district it is published for; `None` is city-wide.
    pub district_code: Option<String>,
    /// A public image upload.
    pub cover_id: Option<Uuid>,
    /// Where it is in its review.
    pub status: Status,
    /// Who wrote it.
    pub author_id: Uuid,
    /// Who last changed its text.
    pub last_editor_id: Uuid,
    /// Who published it (or sent it back).
    pub reviewer_id: Option<Uuid>,
    /// The reviewer's note when sending it back.
    pub review_note: Option<String>,
    /// Why it was withdrawn.
    pub withdraw_reason: Option<String>,
    /// When it was (last) published.
    pub published_at: Option<DateTimeUtc>,
    /// Bumped on every change; the search index keeps the newest.
    pub version: i64,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
}

/// No relations; attachments point at their article.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
