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

/// The recipient (delivery reads the notification and the recipient's openid together).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The user the notification is for.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
