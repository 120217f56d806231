//! Suggestions (意见建议): anyone sends one (signed in or not, throttled per client and per
//! account); the district's administrators publish it (the public reads the text with
//! personal data masked, never the contact), reply to it, or reject it with a reason; the
//! submitter follows their own. Every moderation step is audited and the submitter, when
//! signed in, is told.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::redact::redact;
use crate::{
    audit,
    auth::{Principal, Role, users},
    catalog::areas::{check_place, known_district},
    entities::suggestion::{self, Category, Status},
    error::{Error, Result},
    notifications::{self, NewNotification},
    paging::{Page, PageRequest},
    ports::rate_limit::{Decision, Limit, RateLimiter},
    validate::Check,
};

/// Suggestions one client address may send anonymously per hour.
pub const ANONYMOUS_PER_HOUR: u32 = 5;
/// Suggestions one account may send per hour.
pub const SIGNED_IN_PER_HOUR: u32 = 20;
/// Days after which an unanswered suggestion is overdue (the government-website rules:
/// messages unanswered over three months).
pub const ANSWER_WITHIN_DAYS: i64 = 90;
/// Days after which the district's administrators are reminded of an unanswered suggestion,
/// a month before it is overdue.
pub const REMIND_AFTER_DAYS: i64 = 60;

/// A suggestion to send.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSuggestion {
    /// What it is about.
    pub category: Category,
    /// The district it concerns, if one.
    pub district_code: Option<String>,
    /// The suggestion, 5–2000 characters.
    pub text: String,
    /// How to reach the sender (phone or e-mail, up to 128 characters); never public.
    pub contact: Option<String>,
    /// Where, latitude (GCJ-02), with `lng`.
    pub lat: Option<f64>,
    /// Where, longitude (GCJ-02), with `lat`.
    pub lng: Option<f64>,
    /// Where, as written, up to 256 characters.
    pub address: Option<String>,
}

/// A suggestion. The public reads the masked text and the reply; its submitter and the
/// moderators also read the state, the text as sent, the contact and the reason.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SuggestionView {
    /// Id (also the Open311 `service_request_id`).
    pub id: Uuid,
    /// Category.
    pub category: Category,
    /// Its name.
    pub category_name: &'static str,
    /// District.
    pub district_code: Option<String>,
    /// The text, personal data masked.
    pub text: String,
    /// `pending`, `published` or `rejected`.
    pub status: Status,
    /// The department's reply.
    pub reply: Option<String>,
    /// Who replied (the unit).
    pub reply_unit: Option<String>,
    /// When it was replied to.
    pub replied_at: Option<DateTime<Utc>>,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// Latitude, GCJ-02.
    pub lat: Option<f64>,
    /// Longitude, GCJ-02.
    pub lng: Option<f64>,
    /// Where, as written.
    pub address: Option<String>,
    /// The text as sent (submitter and moderators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_text: Option<String>,
    /// The contact (submitter and moderators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// Why it was not published (submitter and moderators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Days since it was sent while it has no reply (moderators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_days: Option<i64>,
    /// Unanswered for longer than the rules allow (moderators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue: Option<bool>,
}

/// Who reads a suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    Public,
    Submitter,
    Moderator,
}

fn view(s: suggestion::Model, reader: Reader) -> SuggestionView {
    let private = reader != Reader::Public;
    let waiting =
        (reader == Reader::Moderator && s.reply.is_none() && s.status != Status::Rejected)
            .then(|| (Utc::now() - s.created_at).num_days());
    SuggestionView {
        id: s.id,
        category: s.category,
        category_name: s.category.name(),
        district_code: s.district_code,
        text: s.public_text,
        status: s.status,
        reply: s.reply,
        reply_unit: s.reply_unit,
        replied_at: s.replied_at,
        published_at: s.published_at,
        created_at: s.created_at,
        lat: s.lat,
        lng: s.lng,
        address: s.address,
        original_text: private.then_some(s.text),
        contact: if private { s.contact } else { None },
        reason: if private { s.reason } else { None },
        waiting_days: waiting,
        overdue: waiting.map(|d| d > ANSWER_WITHIN_DAYS),
    }
}

/// Counts one suggestion against the sender's hourly budget (per account when signed in,
/// per client address otherwise). A limiter that does not answer lets it through.
async fn throttle(limiter: &dyn RateLimiter, who: Option<&Principal>, client: &str) -> Result<()> {
    let hour = Duration::from_secs(3600);
    let (key, max) = match who {
        Some(p) => (format!("suggest:user:{}", p.user_id), SIGNED_IN_PER_HOUR),
        None => (format!("suggest:client:{client}"), ANONYMOUS_PER_HOUR),
    };
    match limiter.hit(&key, Limit { max, window: hour }).await {
        Ok(Decision::Limited { retry_after }) => Err(Error::RateLimited { retry_after }),
        Ok(Decision::Allowed { .. }) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, "suggestion throttle unavailable; letting it through");
            Ok(())
        }
    }
}

/// Sends a suggestion: checked, throttled, stored `pending` with its masked text.
#[tracing::instrument(skip_all)]
pub async fn submit(
    db: &impl ConnectionTrait,
    limiter: &dyn RateLimiter,
    who: Option<&Principal>,
    client: &str,
    new: NewSuggestion,
) -> Result<SuggestionView> {
    let mut check = Check::new();
    let text = check.text("text", &new.text, 5, 2000);
    let contact = new
        .contact
        .as_deref()
        .map(|c| check.text("contact", c, 1, 128));
    let address = new
        .address
        .as_deref()
        .map(|a| check.text("address", a, 1, 256));
    match (new.lat, new.lng) {
        (Some(lat), Some(lng)) => check_place(&mut check, "location", lat, lng),
        (None, None) => {}
        _ => check.fail("lat", "invalid", "give both lat and lng, or neither"),
    }
    check.finish()?;
    if let Some(d) = &new.district_code {
        known_district(db, "district_code", d).await?;
    }
    throttle(limiter, who, client).await?;
    let now = Utc::now();
    let row = suggestion::ActiveModel {
        id: Set(Uuid::now_v7()),
        category: Set(new.category),
        district_code: Set(new.district_code),
        public_text: Set(redact(&text)),
        text: Set(text),
        contact: Set(contact),
        submitter_id: Set(who.map(|p| p.user_id)),
        lat: Set(new.lat),
        lng: Set(new.lng),
        address: Set(address),
        status: Set(Status::Pending),
        reply: Set(None),
        reply_unit: Set(None),
        replied_by: Set(None),
        replied_at: Set(None),
        reason: Set(None),
        moderated_by: Set(None),
        published_at: Set(None),
        reminded_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(view(row, Reader::Submitter))
}

/// Filters of the public list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct SuggestionFilter {
    /// Only this category.
    pub category: Option<Category>,
    /// Only this district.
    pub district_code: Option<String>,
    /// Only answered (`true`) or unanswered (`false`) ones.
    pub replied: Option<bool>,
}

/// Published suggestions, newest first.
pub async fn list_public(
    db: &impl ConnectionTrait,
    filter: &SuggestionFilter,
    page: PageRequest,
) -> Result<Page<SuggestionView>> {
    let mut q = suggestion::Entity::find()
        .filter(suggestion::Column::Status.eq(Status::Published))
        .order_by_desc(suggestion::Column::Id)
        .limit(page.limit + 1);
    if let Some(c) = filter.category {
        q = q.filter(suggestion::Column::Category.eq(c));
    }
    if let Some(d) = &filter.district_code {
        q = q.filter(suggestion::Column::DistrictCode.eq(d.as_str()));
    }
    match filter.replied {
        Some(true) => q = q.filter(suggestion::Column::Reply.is_not_null()),
        Some(false) => q = q.filter(suggestion::Column::Reply.is_null()),
        None => {}
    }
    if let Some(before) = page.before {
        q = q.filter(suggestion::Column::Id.lt(before));
    }
    Ok(Page::of(
        q.all(db).await?,
        page.limit,
        |s| s.id,
        |s| view(s, Reader::Public),
    ))
}

fn may_moderate(p: &Principal, s: &suggestion::Model) -> bool {
    p.role == Role::Admin
        && match &s.district_code {
            Some(d) => p.may_administer_district(d),
            None => p.is_super_admin(),
        }
}

/// One suggestion: a published one for anyone; its submitter and its moderators read it
/// in any state.
pub async fn get(
    db: &impl ConnectionTrait,
    viewer: Option<&Principal>,
    id: Uuid,
) -> Result<SuggestionView> {
    let s = suggestion::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "suggestion" })?;
    let reader = match viewer {
        Some(p) if may_moderate(p, &s) => Reader::Moderator,
        Some(p) if s.submitter_id == Some(p.user_id) => Reader::Submitter,
        _ if s.status == Status::Published => Reader::Public,
        _ => return Err(Error::NotFound { what: "suggestion" }),
    };
    Ok(view(s, reader))
}

/// The caller's suggestions, newest first.
pub async fn mine(db: &impl ConnectionTrait, who: &Principal) -> Result<Vec<SuggestionView>> {
    Ok(suggestion::Entity::find()
        .filter(suggestion::Column::SubmitterId.eq(who.user_id))
        .order_by_desc(suggestion::Column::Id)
        .limit(100)
        .all(db)
        .await?
        .into_iter()
        .map(|s| view(s, Reader::Submitter))
        .collect())
}

/// Which suggestions a moderator lists.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ModerationFilter {
    /// Only this state (default `pending`).
    pub status: Option<Status>,
    /// Only unanswered ones.
    pub unanswered: Option<bool>,
}

/// Suggestions of the administrator's district (super administrators: all, and those of no
/// district), oldest first, so the longest-waiting come first; with their waiting time.
pub async fn list_for_moderation(
    db: &impl ConnectionTrait,
    who: &Principal,
    filter: &ModerationFilter,
    page: PageRequest,
) -> Result<Page<SuggestionView>> {
    who.require_role(&[Role::Admin])?;
    let mut q = suggestion::Entity::find()
        .filter(suggestion::Column::Status.eq(filter.status.unwrap_or(Status::Pending)))
        .order_by_asc(suggestion::Column::Id)
        .limit(page.limit + 1);
    if !who.is_super_admin() {
        q = q.filter(suggestion::Column::DistrictCode.eq(who.district_code.clone()));
    }
    if filter.unanswered == Some(true) {
        q = q.filter(suggestion::Column::Reply.is_null());
    }
    if let Some(after) = page.before {
        q = q.filter(suggestion::Column::Id.gt(after));
    }
    Ok(Page::of(
        q.all(db).await?,
        page.limit,
        |s| s.id,
        |s| view(s, Reader::Moderator),
    ))
}

/// What a moderator does.
#[derive(Debug, Clone)]
pub enum Moderation {
    /// Publish a pending suggestion, optionally with the public text edited further.
    Publish {
        /// Replaces the masked text the public reads (masked again).
        public_text: Option<String>,
    },
    /// Reply to a published suggestion (or replace the reply).
    Reply {
        /// The reply, 1–2000 characters.
        text: String,
        /// The replying unit, up to 64 characters.
        unit: Option<String>,
    },
    /// Refuse a pending suggestion with a reason the submitter reads.
    Reject {
        /// Why, 1–500 characters.
        reason: String,
    },
}

/// Moderates suggestion `id` of the administrator's district (404 otherwise); 409 from the
/// wrong state. Audited; a signed-in submitter is told.
#[tracing::instrument(skip(db, who, action), fields(actor = %who.user_id))]
pub async fn moderate(
    db: &impl TransactionTrait,
    who: &Principal,
    id: Uuid,
    action: Moderation,
) -> Result<SuggestionView> {
    who.require_role(&[Role::Admin])?;
    let mut check = Check::new();
    let (from, name) = match &action {
        Moderation::Publish { public_text } => {
            if let Some(t) = public_text {
                check.text("public_text", t, 5, 2000);
            }
            (Status::Pending, "publish")
        }
        Moderation::Reply { text, unit } => {
            check.text("text", text, 1, 2000);
            if let Some(u) = unit {
                check.text("unit", u, 1, 64);
            }
            (Status::Published, "reply")
        }
        Moderation::Reject { reason } => {
            check.text("reason", reason, 1, 500);
            (Status::Pending, "reject")
        }
    };
    check.finish()?;
    let txn = db.begin().await?;
    let s = suggestion::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|s| may_moderate(who, s))
        .ok_or(Error::NotFound { what: "suggestion" })?;
    let now = Utc::now();
    let mut q = suggestion::Entity::update_many()
        .col_expr(suggestion::Column::UpdatedAt, Expr::value(now))
        .filter(suggestion::Column::Id.eq(id))
        .filter(suggestion::Column::Status.eq(from));
    let (title, body) = match &action {
        Moderation::Publish { public_text } => {
            q = q
                .col_expr(
                    suggestion::Column::Status,
                    Expr::value(Status::Published.as_str()),
                )
                .col_expr(suggestion::Column::PublishedAt, Expr::value(now))
                .col_expr(suggestion::Column::ModeratedBy, Expr::value(who.user_id));
            if let Some(t) = public_text {
                q = q.col_expr(
                    suggestion::Column::PublicText,
                    Expr::value(redact(t.trim())),
                );
            }
            (
                "您的建议已公开",
                "您提交的意见建议已在信息公开栏目公开。".to_string(),
            )
        }
        Moderation::Reply { text, unit } => {
            q = q
                .col_expr(suggestion::Column::Reply, Expr::value(text.trim()))
                .col_expr(
                    suggestion::Column::ReplyUnit,
                    Expr::value(unit.as_deref().map(str::trim)),
                )
                .col_expr(suggestion::Column::RepliedBy, Expr::value(who.user_id))
                .col_expr(suggestion::Column::RepliedAt, Expr::value(now));
            ("您的建议已答复", text.trim().to_string())
        }
        Moderation::Reject { reason } => {
            q = q
                .col_expr(
                    suggestion::Column::Status,
                    Expr::value(Status::Rejected.as_str()),
                )
                .col_expr(suggestion::Column::Reason, Expr::value(reason.trim()))
                .col_expr(suggestion::Column::ModeratedBy, Expr::value(who.user_id));
            ("您的建议未予公开", reason.trim().to_string())
        }
    };
    if q.exec(&txn).await?.rows_affected == 0 {
        return Err(Error::conflict(
            "illegal_transition",
            format!("a {} suggestion cannot be {name}ed", s.status.as_str()),
        ));
    }
    audit::record(
        &txn,
        Some(who.user_id),
        &format!("suggestion.{name}"),
        "suggestion",
        &id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    if let Some(user_id) = s.submitter_id {
        notifications::notify(
            &txn,
            NewNotification {
                user_id,
                kind: "suggestion".into(),
                title: title.into(),
                body,
                data: serde_json::json!({ "suggestion_id": id }),
            },
        )
        .await?;
    }
    let updated = suggestion::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound { what: "suggestion" })?;
    txn.commit().await?;
    Ok(view(updated, Reader::Moderator))
}

/// Reminds the responsible administrators, once, of each suggestion still unanswered
/// [`REMIND_AFTER_DAYS`] after it was sent (a month before it is overdue). Idempotent: a
/// suggestion is claimed by a conditional update of `reminded_at` in the transaction that
/// writes the reminders. Returns how many suggestions were reminded of.
pub async fn remind_overdue(db: &impl TransactionTrait, now: DateTime<Utc>) -> Result<u64> {
    let due = now - chrono::Duration::days(REMIND_AFTER_DAYS);
    let txn = db.begin().await?;
    let waiting = suggestion::Entity::find()
        .filter(suggestion::Column::Status.is_in([Status::Pending, Status::Published]))
        .filter(suggestion::Column::Reply.is_null())
        .filter(suggestion::Column::RemindedAt.is_null())
        .filter(suggestion::Column::CreatedAt.lte(due))
        .order_by_asc(suggestion::Column::Id)
        .limit(500)
        .all(&txn)
        .await?;
    let mut reminded = 0;
    for s in waiting {
        let claimed = suggestion::Entity::update_many()
            .col_expr(suggestion::Column::RemindedAt, Expr::value(now))
            .filter(suggestion::Column::Id.eq(s.id))
            .filter(suggestion::Column::RemindedAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
        if claimed == 0 {
            continue;
        }
        reminded += 1;
        let days = (now - s.created_at).num_days();
        for user_id in users::administrators_of(&txn, s.district_code.as_deref()).await? {
            notifications::notify(
                &txn,
                NewNotification {
                    user_id,
                    kind: "suggestion".into(),
                    title: "意见建议即将超期".into(),
                    body: format!(
                        "一条{}的意见建议已等待 {days} 天未答复，请在 {ANSWER_WITHIN_DAYS} 天内答复。",
                        s.category.name()
                    ),
                    data: serde_json::json!({ "suggestion_id": s.id, "waiting_days": days }),
                },
            )
            .await?;
        }
    }
    txn.commit().await?;
    Ok(reminded)
}
