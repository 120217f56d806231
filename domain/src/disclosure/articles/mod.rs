//! Articles of the disclosure column (五(三), 五(一)): policies (政策文件), notices (通知公告),
//! news (工作动态), cell showcases (无废细胞风采) and science (科普宣传), city-wide or for one
//! district.
//!
//! An administrator writes one (`draft`), submits it (`pending_review`), and another
//! administrator of the same district — never its author or its last editor — publishes
//! it (or sends it back with a note); a published article can be withdrawn with a reason,
//! and editing a withdrawn one makes it a draft again. The database refuses a published row
//! whose reviewer is its author or last editor. Bodies are Markdown (HTML allowed) cleaned
//! on the way in ([`body`]); attachments are PDFs ([`attachments`]); the public list searches
//! through the search port ([`search`]); [`columns`] watches each column's age.

pub mod attachments;
pub mod body;
pub mod columns;
mod list;
mod review;
pub mod search;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::entities::article::{Category, Status};
use crate::{
    audit,
    auth::{Principal, Role, users},
    catalog::areas::known_district,
    entities::{article, article_attachment as attachment},
    error::{Error, Result},
    notifications::{self, NewNotification},
    ports::search::{Filter, Query, SearchIndex, Sort},
    uploads::{self, Purpose},
    validate::Check,
};
use attachments::AttachmentView;
pub use list::{ArticlePage, ArticleQuery, list, list_for_admin};
pub use review::{Step, create, step, update};

/// Most attachments on one article.
pub const MAX_ATTACHMENTS: usize = 10;
/// Longest body source, characters.
pub const MAX_BODY_CHARS: usize = 100_000;
/// Longest search text, characters.
pub const MAX_Q: usize = 100;
/// How deep a search pages.
pub const MAX_OFFSET: usize = 1000;

/// An article in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticleSummary {
    /// Id.
    pub id: Uuid,
    /// Its column.
    pub category: Category,
    /// Title.
    pub title: String,
    /// Summary (plain text).
    pub summary: String,
    /// The district it is for; absent when city-wide.
    pub district_code: Option<String>,
    /// The cover image, if any.
    pub cover_url: Option<String>,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
    /// `draft`, `pending_review`, `published` or `withdrawn` (administrators only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// One article.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticleView {
    /// Id.
    pub id: Uuid,
    /// Its column.
    pub category: Category,
    /// Title.
    pub title: String,
    /// Summary (plain text).
    pub summary: String,
    /// The body as sanitised HTML, safe to put in a page as it is.
    pub body_html: String,
    /// The district it is for; absent when city-wide.
    pub district_code: Option<String>,
    /// The cover image, if any.
    pub cover_url: Option<String>,
    /// The PDF attachments, in order.
    pub attachments: Vec<AttachmentView>,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// What administrators see besides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<Review>,
}

/// An article's editorial state (administrators only).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Review {
    /// `draft`, `pending_review`, `published` or `withdrawn`.
    pub status: Status,
    /// The body as the editor sent it.
    pub body_source: String,
    /// Its cover upload.
    pub cover_id: Option<Uuid>,
    /// Who wrote it.
    pub author_id: Uuid,
    /// Who last changed its text.
    pub last_editor_id: Uuid,
    /// Who published it or sent it back.
    pub reviewer_id: Option<Uuid>,
    /// The reviewer's note when sending it back.
    pub review_note: Option<String>,
    /// Why it was withdrawn.
    pub withdraw_reason: Option<String>,
    /// Bumped on every change.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
}

fn cover_url(a: &article::Model) -> Option<String> {
    a.cover_id.map(|id| format!("/v1/uploads/{id}/content"))
}

fn summary_of(a: article::Model, admin: bool) -> ArticleSummary {
    ArticleSummary {
        cover_url: cover_url(&a),
        id: a.id,
        category: a.category,
        title: a.title,
        summary: a.summary,
        district_code: a.district_code,
        published_at: a.published_at,
        status: admin.then_some(a.status),
    }
}

fn view(a: article::Model, files: Vec<attachment::Model>, admin: bool) -> ArticleView {
    let review = admin.then(|| Review {
        status: a.status,
        body_source: a.body_source.clone(),
        cover_id: a.cover_id,
        author_id: a.author_id,
        last_editor_id: a.last_editor_id,
        reviewer_id: a.reviewer_id,
        review_note: a.review_note.clone(),
        withdraw_reason: a.withdraw_reason.clone(),
        version: a.version,
        created_at: a.created_at,
    });
    ArticleView {
        cover_url: cover_url(&a),
        id: a.id,
        category: a.category,
        title: a.title,
        summary: a.summary,
        body_html: a.body_html,
        district_code: a.district_code,
        attachments: files.into_iter().map(AttachmentView::of).collect(),
        published_at: a.published_at,
        updated_at: a.updated_at,
        review,
    }
}

/// A new article.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewArticle {
    /// 2–200 characters.
    #[schema(min_length = 2, max_length = 200)]
    pub title: String,
    /// Its column.
    pub category: Category,
    /// Plain text, up to 500 characters; empty: the body's first 120 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub summary: String,
    /// Markdown (HTML allowed), cleaned to a safe subset; up to 100 000 characters.
    #[schema(min_length = 1, max_length = 100000)]
    pub body: String,
    /// The district it is for; absent: city-wide (city-wide administrators only).
    pub district_code: Option<String>,
    /// A public image you uploaded (purpose `listing_photo`).
    pub cover_id: Option<Uuid>,
    /// Up to 10 PDF attachments (`POST /v1/admin/articles/attachments`), in order.
    #[serde(default)]
    pub attachment_ids: Vec<Uuid>,
}

/// Changes to an article (draft, pending review or withdrawn); absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticlePatch {
    /// 2–200 characters.
    #[schema(min_length = 2, max_length = 200)]
    pub title: Option<String>,
    /// Its column.
    pub category: Option<Category>,
    /// Plain text, up to 500 characters.
    #[schema(max_length = 500)]
    pub summary: Option<String>,
    /// Markdown (HTML allowed), cleaned.
    #[schema(min_length = 1, max_length = 100000)]
    pub body: Option<String>,
    /// A public image you uploaded; `null` removes it.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub cover_id: Option<Option<Uuid>>,
    /// The attachments, replacing the list.
    pub attachment_ids: Option<Vec<Uuid>>,
}

/// Whether `who` administers article `a`: city-wide administrators every article, district
/// administrators their district's.
fn administers(who: &Principal, a: &article::Model) -> bool {
    match &a.district_code {
        Some(d) => who.may_administer_district(d),
        None => who.is_super_admin(),
    }
}

/// Article `id` if `who` administers it (404 otherwise, as if it did not exist).
async fn administered(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: Uuid,
) -> Result<article::Model> {
    who.require_role(&[Role::Admin])?;
    article::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|a| administers(who, a))
        .ok_or(Error::NotFound { what: "article" })
}

async fn files_of(db: &impl ConnectionTrait, id: Uuid) -> Result<Vec<attachment::Model>> {
    Ok(attachment::Entity::find()
        .filter(attachment::Column::ArticleId.eq(id))
        .order_by_asc(attachment::Column::Position)
        .all(db)
        .await?)
}

/// One article as an administrator sees it (any state; 404 outside their district).
pub async fn get_for_admin(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: Uuid,
) -> Result<ArticleView> {
    let a = administered(db, who, id).await?;
    let files = files_of(db, id).await?;
    Ok(view(a, files, true))
}

/// A published article.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<ArticleView> {
    let a = article::Entity::find_by_id(id)
        .filter(article::Column::Status.eq(Status::Published))
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "article" })?;
    let files = files_of(db, id).await?;
    Ok(view(a, files, false))
}
