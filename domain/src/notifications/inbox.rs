//! The inbox: a user's notifications, newest first, paged by an opaque cursor; marking
//! read; the unread count. Every query filters on the owner: another user's notification
//! is indistinguishable from one that does not exist.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    entities::notification::{self, Column},
    error::{Error, Result},
};

/// Items per page when the client does not say.
pub const DEFAULT_LIMIT: u32 = 20;
/// The most items a page may hold.
pub const MAX_LIMIT: u32 = 100;

/// One notification as its owner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    /// Notification id.
    pub id: Uuid,
    /// `pickup_status`, `offer`, `manual_dispatch`, `points` …
    pub kind: String,
    /// Short headline.
    pub title: String,
    /// The message.
    pub body: String,
    /// Ids and details for opening the subject (a JSON object).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// Whether the owner has read it.
    pub read: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A page of the inbox.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct InboxPage {
    /// Newest first.
    pub items: Vec<NotificationView>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// Unread notifications in the whole inbox.
    pub unread: u64,
}

/// A position in the inbox: the last item shown, by (created_at, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    at: DateTime<Utc>,
    id: Uuid,
}

impl Cursor {
    /// Parses a cursor a client sent back; `None` when it is not one we made.
    pub fn parse(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (micros, id) = text.split_once(':')?;
        Some(Self {
            at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: Uuid::parse_str(id).ok()?,
        })
    }

    /// The opaque form handed to clients.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{}:{}",
            self.at.timestamp_micros(),
            self.id.simple()
        ))
    }
}

/// Checks a client's `limit`: absent means [`DEFAULT_LIMIT`], otherwise 1..=[`MAX_LIMIT`].
pub fn parse_limit(limit: Option<u32>) -> Result<u32> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(l) if (1..=MAX_LIMIT).contains(&l) => Ok(l),
        Some(_) => Err(Error::field(
            "limit",
            "out_of_range",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// Checks a client's `cursor` (400 `invalid_cursor` when it is not one we handed out).
pub fn parse_cursor(cursor: Option<&str>) -> Result<Option<Cursor>> {
    cursor
        .filter(|c| !c.is_empty())
        .map(|c| {
            Cursor::parse(c).ok_or_else(|| Error::BadRequest {
                code: "invalid_cursor",
                message: "the cursor is not one this server handed out; start without one".into(),
            })
        })
        .transpose()
}

/// One page of `user_id`'s notifications, newest first, after `cursor`.
#[tracing::instrument(skip(db, cursor))]
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    limit: u32,
    cursor: Option<Cursor>,
) -> Result<InboxPage> {
    let limit = limit.clamp(1, MAX_LIMIT);
    let mut query = notification::Entity::find()
        .filter(Column::UserId.eq(user_id))
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id)
        .limit(u64::from(limit) + 1);
    if let Some(c) = cursor {
        query = query.filter(
            Condition::any().add(Column::CreatedAt.lt(c.at)).add(
                Condition::all()
                    .add(Column::CreatedAt.eq(c.at))
                    .add(Column::Id.lt(c.id)),
            ),
        );
    }
    let mut rows = query.all(db).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| rows.last())
        .flatten()
        .map(|last| Cursor {
            at: last.created_at,
            id: last.id,
        })
        .map(|c| c.encode());
    Ok(InboxPage {
        items: rows.into_iter().map(view).collect(),
        next_cursor,
        unread: unread_count(db, user_id).await?,
    })
}

/// How many of `user_id`'s notifications are unread.
pub async fn unread_count(db: &impl ConnectionTrait, user_id: Uuid) -> Result<u64> {
    Ok(notification::Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// Marks one of `user_id`'s notifications read (again is fine); 404 when it is not theirs.
#[tracing::instrument(skip(db))]
pub async fn mark_read(db: &impl ConnectionTrait, user_id: Uuid, id: Uuid) -> Result<()> {
    let updated = notification::Entity::update_many()
        .col_expr(Column::ReadAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::ReadAt.is_null())
        .exec(db)
        .await?
        .rows_affected;
    if updated == 0 {
        let exists = notification::Entity::find()
            .filter(Column::Id.eq(id))
            .filter(Column::UserId.eq(user_id))
            .count(db)
            .await?;
        if exists == 0 {
            return Err(Error::NotFound {
                what: "notification",
            });
        }
    }
    Ok(())
}

/// Marks every unread notification of `user_id` read; returns how many changed.
#[tracing::instrument(skip(db))]
pub async fn mark_all_read(db: &impl ConnectionTrait, user_id: Uuid) -> Result<u64> {
    Ok(notification::Entity::update_many()
        .col_expr(Column::ReadAt, Expr::value(Utc::now()))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::ReadAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

fn view(row: notification::Model) -> NotificationView {
    NotificationView {
        data: serde_json::from_str(&row.data).unwrap_or_else(|_| serde_json::json!({})),
        read: row.read_at.is_some(),
        id: row.id,
        kind: row.kind,
        title: row.title,
        body: row.body,
        created_at: row.created_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = Cursor {
            at: DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap(),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::parse(&c.encode()), Some(c));
        assert_eq!(Cursor::parse("not a cursor"), None);
        assert_eq!(Cursor::parse(&URL_SAFE_NO_PAD.encode("12:nope")), None);
        assert!(matches!(
            parse_cursor(Some("%%%")),
            Err(Error::BadRequest {
                code: "invalid_cursor",
                ..
            })
        ));
    }

    #[test]
    fn limit_is_bounded() {
        assert_eq!(parse_limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(parse_limit(Some(100)).unwrap(), 100);
        assert!(parse_limit(Some(0)).is_err());
        assert!(parse_limit(Some(101)).is_err());
    }
}
