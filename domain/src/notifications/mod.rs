//! Notifications: the in-app inbox and WeChat subscription messages.
//!
//! Every status change that a user should hear about calls [`notify`] inside its own
//! transaction: the inbox row and a `notify.deliver` job are written together, so a
//! notification exists if and only if the change committed, and its delivery happens later
//! in a worker ([`deliver::Deliver`]) — a WeChat failure never fails the user's request. A
//! recipient with no openid gets no job: the row is written already settled (`no_openid`).
//! The inbox ([`inbox`]) only ever shows a user their own notifications.
//!
//! This module never sends anything to WeChat from inside a caller's transaction.

pub mod access_token;
pub mod deliver;
pub mod inbox;

use chrono::{SubsecRound, Utc};
use sea_orm::ConnectionTrait;
use serde_json::json;
use uuid::Uuid;

pub use crate::entities::notification::WechatState;
use crate::{
    db::SqlArgs,
    entities::notification,
    error::{Error, Result},
    jobs::outbox,
};

pub use deliver::{DELIVER, Deliver, jobs};

/// Notification kinds used by the capabilities (a kind is free text; these are the ones
/// WeChat templates are usually configured for).
pub mod kinds {
    /// A pickup changed status.
    pub const PICKUP_STATUS: &str = "pickup_status";
    /// A recycler received a dispatch offer.
    pub const OFFER: &str = "offer";
    /// A pickup went to the manual-dispatch queue.
    pub const MANUAL_DISPATCH: &str = "manual_dispatch";
    /// Points were credited, debited or are about to expire.
    pub const POINTS: &str = "points";
}

impl WechatState {
    /// Whether the state is settled: a delivery job finding it does nothing.
    pub fn is_final(self) -> bool {
        matches!(self, Self::None | Self::Sent | Self::Refused)
    }
}

/// A notification to create.
///
/// `data` is a JSON object handed to clients as is (ids to open the subject, e.g.
/// `{"pickup_id": "…"}`). It may carry a `wechat` object shaping the subscription message:
/// `{"wechat": {"page": "pages/pickup/detail?id=…", "fields": {"thing1": "…", "time2":
/// "…"}}}`; the keys of `fields` are those of the kind's template. Without `fields` the
/// message carries `thing1` = title and `thing2` = body (cut to WeChat's 20 characters);
/// without `page` it opens `Settings::wechat_page`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    /// The recipient.
    pub user_id: Uuid,
    /// `pickup_status`, `offer`, `manual_dispatch`, `points` … (lowercase snake_case, at
    /// most 32 characters); picks the WeChat template.
    pub kind: String,
    /// Short headline.
    pub title: String,
    /// The message.
    pub body: String,
    /// A JSON object (or null) for clients.
    pub data: serde_json::Value,
}

/// Writes `n` to the recipient's inbox and stages its delivery (`notify.deliver`), both in
/// the caller's transaction `txn`; returns the notification's id. Nothing is sent if the
/// transaction rolls back. Call `OutboxSignal::committed` after committing, as for any
/// staged job.
///
/// A recipient with no WeChat account linked (no openid: accounts made by phone or by an
/// administrator) gets no delivery job: the row is settled `none` (`no_openid`) as it is
/// written, in the same statement that reads the openid.
pub async fn notify(txn: &impl ConnectionTrait, n: NewNotification) -> Result<Uuid> {
    notify_staging(txn, n, Vec::new()).await
}

/// [`notify`], staging `jobs` after the delivery job in the same insert.
#[tracing::instrument(skip_all, fields(user_id = %n.user_id, kind = %n.kind))]
pub async fn notify_staging(
    txn: &impl ConnectionTrait,
    n: NewNotification,
    jobs: Vec<(&str, serde_json::Value, Option<chrono::DateTime<Utc>>)>,
) -> Result<Uuid> {
    let row = inbox_row(n)?;
    let id = row.id;
    let mut a = SqlArgs::default();
    let sql = format!(
        "{} RETURNING wechat_state",
        insert_sql(&mut a, row, "(SELECT 1) AS one")
    );
    let state: WechatState = txn
        .query_one_raw(a.statement_for(crate::db::backend(txn), sql))
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("notification insert returned no row")))?
        .try_get("", "wechat_state")?;
    let mut staged = Vec::with_capacity(jobs.len() + 1);
    if state == WechatState::Pending {
        staged.push(delivery_job(id));
    }
    staged.extend(jobs);
    outbox::stage_all(txn, staged).await?;
    Ok(id)
}

/// `INSERT INTO notifications … SELECT … FROM {from}` of `row`: one row per row of `from`
/// (a one-row source, or a `WITH` clause that holds a row only if a change took). Its WeChat
/// state is `pending` if the recipient has an openid, else `none` with reason `no_openid`
/// (see [`notify`]). SQL both backends read; a statement may add `RETURNING`.
pub(crate) fn insert_sql(a: &mut SqlArgs, row: notification::Model, from: &str) -> String {
    let created = a.arg(row.created_at);
    format!(
        "INSERT INTO notifications (id, user_id, kind, title, body, data, read_at, created_at, \
           wechat_state, wechat_error, wechat_updated_at) \
         SELECT {}, {}, {}, {}, {}, {}, NULL, {created}, \
           CASE WHEN w.linked THEN '{}' ELSE '{}' END, \
           CASE WHEN w.linked THEN NULL ELSE 'no_openid' END, \
           CASE WHEN w.linked THEN NULL ELSE {created} END \
         FROM {from}, (SELECT EXISTS (SELECT 1 FROM users \
           WHERE id = {} AND wechat_openid <> '') AS linked) AS w",
        a.arg(row.id),
        a.arg(row.user_id),
        a.arg(row.kind),
        a.arg(row.title),
        a.arg(row.body),
        a.arg(row.data),
        WechatState::Pending.as_str(),
        WechatState::None.as_str(),
        a.arg(row.user_id),
    )
}

/// The `notify.deliver` job of notification `id`, to stage with it.
pub(crate) fn delivery_job(
    id: Uuid,
) -> (
    &'static str,
    serde_json::Value,
    Option<chrono::DateTime<Utc>>,
) {
    (DELIVER, json!({ "notification_id": id }), None)
}

/// The inbox row of `n`, awaiting WeChat delivery; refuses a malformed kind or data.
pub(crate) fn inbox_row(n: NewNotification) -> Result<notification::Model> {
    if n.kind.is_empty()
        || n.kind.len() > 32
        || !n
            .kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(Error::Internal(anyhow::anyhow!(
            "notification kind {:?} is not lowercase snake_case of at most 32 characters",
            n.kind
        )));
    }
    let data = match n.data {
        serde_json::Value::Null => json!({}),
        v @ serde_json::Value::Object(_) => v,
        other => {
            return Err(Error::Internal(anyhow::anyhow!(
                "notification data must be a JSON object, got {other}"
            )));
        }
    };
    Ok(notification::Model {
        id: Uuid::now_v7(),
        user_id: n.user_id,
        kind: n.kind,
        title: n.title,
        body: n.body,
        data: data.to_string(),
        read_at: None,
        // Microseconds: what PostgreSQL keeps, so a cursor built from a read row matches.
        created_at: Utc::now().trunc_subsecs(6),
        wechat_state: WechatState::Pending,
        wechat_error: None,
        wechat_updated_at: None,
    })
}
