//! The `notifications` table: a user's inbox, and the WeChat delivery state of each entry.
//! Schema owned by `wufei-migrations` (`m20261129_000005_notifications`). Never read it
//! without filtering on `user_id`; go through `crate::notifications`.

use sea_orm::entity::prelude::*;

/// WeChat delivery state of a notification (`notifications.wechat_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum WechatState {
    /// No WeChat message applies (no openid, no template for the kind, WeChat not
    /// configured); the reason is in `wechat_error`.
    #[sea_orm(string_value = "none")]
    None,
    /// A delivery job is staged or running.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// WeChat accepted the message.
    #[sea_orm(string_value = "sent")]
    Sent,
    /// The user has not subscribed or refused (errcode 43101); never retried.
    #[sea_orm(string_value = "refused")]
    Refused,
    /// The last attempt failed; the job retries until it is dead-lettered.
    #[sea_orm(string_value = "failed")]
    Failed,
}

impl WechatState {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }
}

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
    /// Where WeChat delivery stands.
    pub wechat_state: WechatState,
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
