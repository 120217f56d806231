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

/// The summary when none is given: the body's first 120 characters.
fn default_summary(text: &str) -> String {
    text.chars().take(120).collect()
}

/// Checks the cover (a public image `who` uploaded, unless it is the one already there).
async fn check_cover(
    db: &impl ConnectionTrait,
    who: &Principal,
    cover: Option<Uuid>,
    current: Option<Uuid>,
) -> Result<()> {
    match cover {
        Some(id) if Some(id) != current => {
            if !uploads::is_own(db, id, who.user_id, Purpose::ListingPhoto).await? {
                return Err(Error::field(
                    "cover_id",
                    "invalid",
                    "must be your own upload with purpose listing_photo",
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Attaches `ids` to article `article_id` in that order, detaching the ones it held before
/// and no longer lists. Each must be an attachment `who` uploaded that no other article
/// holds, or one this article already holds.
async fn set_attachments(
    db: &impl ConnectionTrait,
    who: &Principal,
    article_id: Uuid,
    ids: &[Uuid],
) -> Result<()> {
    if ids.len() > MAX_ATTACHMENTS {
        return Err(Error::field(
            "attachment_ids",
            "too_long",
            format!("at most {MAX_ATTACHMENTS}"),
        ));
    }
    let rows: BTreeMap<Uuid, attachment::Model> = attachment::Entity::find()
        .filter(attachment::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        let usable = rows.get(id).is_some_and(|f| match f.article_id {
            Some(a) => a == article_id,
            None => f.owner_id == who.user_id,
        });
        if !usable || !seen.insert(*id) {
            return Err(Error::field(
                &format!("attachment_ids[{i}]"),
                "invalid",
                "must be a PDF you uploaded that no other article holds, listed once",
            ));
        }
    }
    attachment::Entity::update_many()
        .col_expr(attachment::Column::ArticleId, Expr::value(None::<Uuid>))
        .filter(attachment::Column::ArticleId.eq(article_id))
        .filter(attachment::Column::Id.is_not_in(ids.iter().copied()))
        .exec(db)
        .await?;
    for (position, id) in ids.iter().enumerate() {
        // Conditional: another article's transaction may have taken it since the check.
        let taken = attachment::Entity::update_many()
            .col_expr(attachment::Column::ArticleId, Expr::value(article_id))
            .col_expr(
                attachment::Column::Position,
                Expr::value(i32::try_from(position).unwrap_or(0)),
            )
            .filter(attachment::Column::Id.eq(*id))
            .filter(
                attachment::Column::ArticleId
                    .is_null()
                    .or(attachment::Column::ArticleId.eq(article_id)),
            )
            .exec(db)
            .await?
            .rows_affected;
        if taken == 0 {
            return Err(Error::conflict(
                "attachment_taken",
                "another article took this attachment meanwhile",
            ));
        }
    }
    Ok(())
}

/// Writes an article (draft). Administrators; a district administrator writes for their
/// district only, city-wide articles are the city-wide administrators'. Audited.
#[tracing::instrument(skip_all, fields(actor = %who.user_id))]
pub async fn create(
    db: &impl TransactionTrait,
    who: &Principal,
    new: NewArticle,
) -> Result<ArticleView> {
    who.require_role(&[Role::Admin])?;
    let mut check = Check::new();
    let title = check.text("title", &new.title, 2, 200);
    let summary = check.text("summary", &new.summary, 0, 500);
    check.ensure(
        !new.body.trim().is_empty() && new.body.chars().count() <= MAX_BODY_CHARS,
        "body",
        "invalid",
        format!("between 1 and {MAX_BODY_CHARS} characters"),
    );
    check.finish()?;
    match &new.district_code {
        Some(d) if !who.may_administer_district(d) => {
            return Err(Error::forbidden("you cannot publish for another district"));
        }
        None if !who.is_super_admin() => {
            return Err(Error::forbidden(
                "city-wide articles are the city-wide administrators'; give your district_code",
            ));
        }
        _ => {}
    }
    let txn = db.begin().await?;
    if let Some(d) = &new.district_code {
        known_district(&txn, "district_code", d).await?;
    }
    check_cover(&txn, who, new.cover_id, None).await?;
    let body = body::render(&new.body);
    let now = Utc::now();
    let row = article::ActiveModel {
        id: Set(Uuid::now_v7()),
        category: Set(new.category),
        title: Set(title),
        summary: Set(if summary.is_empty() {
            default_summary(&body.text)
        } else {
            summary
        }),
        body_source: Set(new.body),
        body_html: Set(body.html),
        district_code: Set(new.district_code),
        cover_id: Set(new.cover_id),
        status: Set(Status::Draft),
        author_id: Set(who.user_id),
        last_editor_id: Set(who.user_id),
        reviewer_id: Set(None),
        review_note: Set(None),
        withdraw_reason: Set(None),
        published_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    set_attachments(&txn, who, row.id, &new.attachment_ids).await?;
    audit::record(
        &txn,
        Some(who.user_id),
        "article.create",
        "article",
        &row.id.to_string(),
        serde_json::json!({ "title": row.title, "category": row.category.as_str() }),
    )
    .await?;
    search::stage(&txn, row.id).await?;
    let files = files_of(&txn, row.id).await?;
    txn.commit().await?;
    Ok(view(row, files, true))
}

/// Changes a draft, an article pending review or a withdrawn one (which becomes a draft
/// again); a published one must be withdrawn first (409). The caller becomes its last
/// editor, so cannot publish it. Audited.
#[tracing::instrument(skip_all, fields(actor = %who.user_id, article_id = %id))]
pub async fn update(
    db: &impl TransactionTrait,
    who: &Principal,
    id: Uuid,
    patch: ArticlePatch,
) -> Result<ArticleView> {
    let mut check = Check::new();
    let title = patch
        .title
        .as_deref()
        .map(|t| check.text("title", t, 2, 200));
    let summary = patch
        .summary
        .as_deref()
        .map(|s| check.text("summary", s, 0, 500));
    if let Some(b) = &patch.body {
        check.ensure(
            !b.trim().is_empty() && b.chars().count() <= MAX_BODY_CHARS,
            "body",
            "invalid",
            format!("between 1 and {MAX_BODY_CHARS} characters"),
        );
    }
    check.finish()?;
    let txn = db.begin().await?;
    let a = administered(&txn, who, id).await?;
    if a.status == Status::Published {
        return Err(Error::conflict(
            "withdraw_first",
            "a published article is changed by withdrawing it, editing it and publishing it again",
        ));
    }
    if let Some(cover) = patch.cover_id {
        check_cover(&txn, who, cover, a.cover_id).await?;
    }
    let mut row: article::ActiveModel = a.clone().into();
    let mut changes = audit::Changes::default();
    if let Some(t) = changes.track("title", &a.title, title) {
        row.title = Set(t);
    }
    if let Some(c) = changes.track("category", &a.category, patch.category) {
        row.category = Set(c);
    }
    if let Some(s) = changes.track("summary", &a.summary, summary) {
        row.summary = Set(s);
    }
    if let Some(source) = patch.body.filter(|b| *b != a.body_source) {
        changes.track(
            "body_chars",
            &a.body_source.chars().count(),
            Some(source.chars().count()),
        );
        row.body_html = Set(body::render(&source).html);
        row.body_source = Set(source);
    }
    if let Some(cover) = changes.track("cover_id", &a.cover_id, patch.cover_id) {
        row.cover_id = Set(cover);
    }
    if let Some(ids) = patch.attachment_ids {
        let current: Vec<Uuid> = files_of(&txn, id).await?.iter().map(|f| f.id).collect();
        set_attachments(&txn, who, id, &ids).await?;
        changes.track("attachment_ids", &current, Some(ids));
    }
    if a.status == Status::Withdrawn {
        row.status = Set(Status::Draft);
    }
    row.last_editor_id = Set(who.user_id);
    row.version = Set(a.version + 1);
    row.updated_at = Set(Utc::now());
    // Optimistic: a concurrent change to the same version loses with a 409.
    let written = article::Entity::update_many()
        .set(row)
        .filter(article::Column::Id.eq(id))
        .filter(article::Column::Version.eq(a.version))
        .exec(&txn)
        .await?
        .rows_affected;
    if written == 0 {
        return Err(Error::conflict(
            "edit_conflict",
            "the article changed meanwhile; read it again",
        ));
    }
    audit::record(
        &txn,
        Some(who.user_id),
        "article.update",
        "article",
        &id.to_string(),
        changes.into_detail(),
    )
    .await?;
    search::stage(&txn, id).await?;
    let fresh = administered(&txn, who, id).await?;
    let files = files_of(&txn, id).await?;
    txn.commit().await?;
    Ok(view(fresh, files, true))
}

/// A step in an article's review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `draft → pending_review`.
    Submit,
    /// `pending_review → published`, by an administrator who is neither its author nor its
    /// last editor.
    Publish,
    /// `pending_review → draft`, with a note.
    SendBack,
    /// `published → withdrawn`, with a reason or without.
    Withdraw,
}

/// Takes article `id` one step (409 from the wrong state, 403 when the reviewer wrote or
/// last edited it). Audited; the author hears of a publication or a return, the district's
/// administrators of a submission.
#[tracing::instrument(skip(db, who, note), fields(actor = %who.user_id))]
pub async fn step(
    db: &impl TransactionTrait,
    who: &Principal,
    id: Uuid,
    step: Step,
    note: Option<&str>,
) -> Result<ArticleView> {
    let note = match step {
        Step::Submit | Step::Publish => None,
        Step::SendBack => {
            let mut check = Check::new();
            let n = check.text("note", note.unwrap_or_default(), 1, 500);
            check.finish()?;
            Some(n)
        }
        Step::Withdraw => {
            let mut check = Check::new();
            let n = check.text("reason", note.unwrap_or_default(), 0, 500);
            check.finish()?;
            (!n.is_empty()).then_some(n)
        }
    };
    let txn = db.begin().await?;
    let a = administered(&txn, who, id).await?;
    if step == Step::Publish && (a.author_id == who.user_id || a.last_editor_id == who.user_id) {
        return Err(Error::forbidden(
            "an article is published by another administrator than the one who wrote or last edited it",
        ));
    }
    let now = Utc::now();
    let (from, to, action) = match step {
        Step::Submit => (Status::Draft, Status::PendingReview, "article.submit"),
        Step::Publish => (Status::PendingReview, Status::Published, "article.publish"),
        Step::SendBack => (Status::PendingReview, Status::Draft, "article.send_back"),
        Step::Withdraw => (Status::Published, Status::Withdrawn, "article.withdraw"),
    };
    let mut q = article::Entity::update_many()
        .col_expr(article::Column::Status, Expr::value(to.as_str()))
        .col_expr(
            article::Column::Version,
            Expr::col(article::Column::Version).add(1),
        )
        .col_expr(article::Column::UpdatedAt, Expr::value(now))
        .filter(article::Column::Id.eq(id))
        .filter(article::Column::Status.eq(from));
    q = match step {
        Step::Submit => q.col_expr(article::Column::ReviewNote, Expr::value(None::<String>)),
        Step::Publish => q
            .col_expr(article::Column::ReviewerId, Expr::value(who.user_id))
            .col_expr(article::Column::PublishedAt, Expr::value(now))
            .col_expr(article::Column::WithdrawReason, Expr::value(None::<String>))
            // The editors are checked again in the statement: an edit that landed since
            // the read above makes this one refuse.
            .filter(article::Column::AuthorId.ne(who.user_id))
            .filter(article::Column::LastEditorId.ne(who.user_id)),
        Step::SendBack => q
            .col_expr(article::Column::ReviewerId, Expr::value(who.user_id))
            .col_expr(article::Column::ReviewNote, Expr::value(note.clone())),
        Step::Withdraw => q.col_expr(article::Column::WithdrawReason, Expr::value(note.clone())),
    };
    if q.exec(&txn).await?.rows_affected == 0 {
        return Err(Error::conflict(
            "illegal_transition",
            format!(
                "the article cannot become {} from {}",
                to.as_str(),
                a.status.as_str()
            ),
        ));
    }
    audit::record(
        &txn,
        Some(who.user_id),
        action,
        "article",
        &id.to_string(),
        serde_json::json!({ "note": note }),
    )
    .await?;
    let tell: Vec<Uuid> = match step {
        Step::Submit => users::administrators_of(&txn, a.district_code.as_deref())
            .await?
            .into_iter()
            .filter(|u| *u != who.user_id)
            .collect(),
        Step::Publish | Step::SendBack => vec![a.author_id],
        Step::Withdraw => vec![],
    };
    let (title, body) = match step {
        Step::Submit => ("文章待审核", format!("《{}》已提交审核。", a.title)),
        Step::Publish => ("文章已发布", format!("《{}》已发布。", a.title)),
        _ => (
            "文章已退回",
            format!(
                "《{}》已退回：{}",
                a.title,
                note.clone().unwrap_or_default()
            ),
        ),
    };
    for user_id in tell {
        notifications::notify(
            &txn,
            NewNotification {
                user_id,
                kind: "article".into(),
                title: title.into(),
                body: body.clone(),
                data: serde_json::json!({ "article_id": id }),
            },
        )
        .await?;
    }
    search::stage(&txn, id).await?;
    let fresh = administered(&txn, who, id).await?;
    let files = files_of(&txn, id).await?;
    txn.commit().await?;
    Ok(view(fresh, files, true))
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

/// The public list's and the administrators' list's parameters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ArticleQuery {
    /// Only this column.
    pub category: Option<Category>,
    /// Only this district's articles (`city`: only city-wide ones).
    #[param(max_length = 12)]
    pub district_code: Option<String>,
    /// Words to look for (Chinese or not), up to 100 characters; results by relevance.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// Only this state (administrators' list; default every state).
    pub status: Option<Status>,
    /// Results per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of articles.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticlePage {
    /// Newest publication first, or best match first with `q`.
    pub items: Vec<ArticleSummary>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Where a page starts: after a (publication time, id) for the newest-first lists, or at
/// an offset for a search.
enum Cursor {
    Start,
    After(DateTime<Utc>, Uuid),
    Offset(usize),
}

fn parse_query(p: &ArticleQuery, check: &mut Check) -> (u64, Cursor) {
    let limit = p.limit.unwrap_or(20);
    check.ensure(
        (1..=100).contains(&limit),
        "limit",
        "out_of_range",
        "must be between 1 and 100",
    );
    if let Some(q) = &p.q {
        check.ensure(
            q.chars().count() <= MAX_Q,
            "q",
            "too_long",
            format!("at most {MAX_Q} characters"),
        );
    }
    if let Some(d) = &p.district_code {
        check.ensure(
            d.len() <= 12 && d.chars().all(|c| c.is_ascii_alphanumeric()),
            "district_code",
            "invalid",
            "a district code or `city`",
        );
    }
    let cursor = match p.cursor.as_deref() {
        None | Some("") => Cursor::Start,
        Some(c) => {
            let parsed = if let Some(n) = c.strip_prefix('o') {
                n.parse::<usize>()
                    .ok()
                    .filter(|n| *n <= MAX_OFFSET)
                    .map(Cursor::Offset)
            } else {
                c.strip_prefix('p')
                    .and_then(|rest| rest.split_once('.'))
                    .and_then(|(micros, id)| {
                        Some(Cursor::After(
                            DateTime::from_timestamp_micros(micros.parse().ok()?)?,
                            Uuid::parse_str(id).ok()?,
                        ))
                    })
            };
            parsed.unwrap_or_else(|| {
                check.fail("cursor", "invalid", "not a cursor this list gave out");
                Cursor::Start
            })
        }
    };
    (limit, cursor)
}

/// Published articles: newest first, or by relevance to `q` through the search port. A
/// failing engine is a 503 `search_unavailable`; the list without `q` never needs it.
pub async fn list(
    db: &DatabaseConnection,
    engine: &dyn SearchIndex,
    p: &ArticleQuery,
) -> Result<ArticlePage> {
    let mut check = Check::new();
    let (limit, cursor) = parse_query(p, &mut check);
    check.ensure(
        p.status.is_none(),
        "status",
        "invalid",
        "not a public filter",
    );
    check.finish()?;
    let text = p.q.as_deref().map(str::trim).unwrap_or_default();
    if !text.is_empty() {
        return search_page(db, engine, p, text, limit, cursor).await;
    }
    newest(db, None, Some(Status::Published), p, limit, cursor, false).await
}

/// Articles administered by `who`, newest change first, by state, column and district.
pub async fn list_for_admin(
    db: &DatabaseConnection,
    who: &Principal,
    p: &ArticleQuery,
) -> Result<ArticlePage> {
    who.require_role(&[Role::Admin])?;
    let mut check = Check::new();
    let (limit, cursor) = parse_query(p, &mut check);
    check.ensure(
        p.q.is_none(),
        "q",
        "invalid",
        "search the public list instead",
    );
    check.finish()?;
    newest(db, Some(who), p.status, p, limit, cursor, true).await
}

/// A page newest first: by publication for the public, by last change for administrators.
async fn newest(
    db: &DatabaseConnection,
    admin: Option<&Principal>,
    status: Option<Status>,
    p: &ArticleQuery,
    limit: u64,
    cursor: Cursor,
    show_status: bool,
) -> Result<ArticlePage> {
    let time = if admin.is_some() {
        article::Column::UpdatedAt
    } else {
        article::Column::PublishedAt
    };
    let mut q = article::Entity::find()
        .order_by_desc(time)
        .order_by_desc(article::Column::Id)
        .limit(limit + 1);
    if let Some(s) = status {
        q = q.filter(article::Column::Status.eq(s));
    }
    if let Some(c) = p.category {
        q = q.filter(article::Column::Category.eq(c));
    }
    match p.district_code.as_deref() {
        Some("city") => q = q.filter(article::Column::DistrictCode.is_null()),
        Some(d) => q = q.filter(article::Column::DistrictCode.eq(d)),
        None => {}
    }
    if let Some(who) = admin.filter(|w| !w.is_super_admin()) {
        q = q.filter(article::Column::DistrictCode.eq(who.district_code.clone()));
    }
    match cursor {
        Cursor::After(t, id) => {
            q = q.filter(
                Expr::col(time)
                    .lt(t)
                    .or(Expr::col(time).eq(t).and(article::Column::Id.lt(id))),
            );
        }
        Cursor::Offset(_) => {
            return Err(Error::field(
                "cursor",
                "invalid",
                "not a cursor this list gave out",
            ));
        }
        Cursor::Start => {}
    }
    let mut rows = q.all(db).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(20));
    let next_cursor = more.then(|| rows.last()).flatten().and_then(|a| {
        let t = if admin.is_some() {
            Some(a.updated_at)
        } else {
            a.published_at
        };
        t.map(|t| format!("p{}.{}", t.timestamp_micros(), a.id))
    });
    Ok(ArticlePage {
        items: rows
            .into_iter()
            .map(|a| summary_of(a, show_status))
            .collect(),
        next_cursor,
    })
}

/// A page of search hits, read back from the database in the engine's order (an article
/// withdrawn since it was indexed is left out).
async fn search_page(
    db: &DatabaseConnection,
    engine: &dyn SearchIndex,
    p: &ArticleQuery,
    text: &str,
    limit: u64,
    cursor: Cursor,
) -> Result<ArticlePage> {
    let offset = match cursor {
        Cursor::Start => 0,
        Cursor::Offset(n) => n,
        Cursor::After(..) => {
            return Err(Error::field(
                "cursor",
                "invalid",
                "not a cursor this search gave out",
            ));
        }
    };
    let mut filters = vec![Filter::Flag("published", true)];
    if let Some(c) = p.category {
        filters.push(Filter::Is("category", c.as_str().into()));
    }
    if let Some(d) = &p.district_code {
        filters.push(Filter::Is("district_code", d.clone()));
    }
    let limit = usize::try_from(limit).unwrap_or(20);
    let hits = engine
        .search(
            &search::ARTICLES,
            &Query {
                text: text.into(),
                filters,
                near: None,
                sort: Sort::Relevance,
                offset,
                limit,
                facets: vec![],
            },
        )
        .await
        .map_err(Error::search)?;
    let ids: Vec<Uuid> = hits
        .hits
        .iter()
        .filter_map(|h| Uuid::parse_str(&h.id).ok())
        .collect();
    let mut rows: BTreeMap<Uuid, article::Model> = article::Entity::find()
        .filter(article::Column::Id.is_in(ids.clone()))
        .filter(article::Column::Status.eq(Status::Published))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let next = offset + hits.hits.len();
    Ok(ArticlePage {
        items: ids
            .iter()
            .filter_map(|id| rows.remove(id))
            .map(|a| summary_of(a, false))
            .collect(),
        next_cursor: (hits.hits.len() == limit
            && (next as u64) < hits.estimated_total
            && next < MAX_OFFSET)
            .then(|| format!("o{next}")),
    })
}
