//! The `notifications` table: a user's inbox, and the WeChat delivery state of each entry.
//! Schema owned by `wufei-migrations` (`m20261129_000005_notifications`). Never read it
//! without filtering on `user_id`; go through `crate::notifications`.

use sea_orm::entity::prelude::*;

/// One notification to one user.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    /// Notification id (UUIDv7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The recipient.
    pub user_id: Uuid,
    /// `pickup_status`, `offer`, `manual_dispatch`, `points` …
    pub kind: String,
    /// Short headline.
    pub title: String,
    /// The message.
    pub body: String,
    /// JSON object with the ids a client needs to open the subject (`{"pickup_id": …}`).
    pub data: String,
    /// When the recipient read it.
    pub read_at: Option<DateTimeUtc>,
    /// When it was created (truncated to microseconds, so it round-trips through cursors).
    pub created_at: DateTimeUtc,
    /// `none`, `pending`, `sent`, `refused` or `failed`.
    pub wechat_state: String,
    /// WeChat's error for `failed`/`refused`, or why nothing was sent for `none`.
    pub wechat_error: Option<String>,
    /// When `wechat_state` last changed.
    pub wechat_updated_at: Option<DateTimeUtc>,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
