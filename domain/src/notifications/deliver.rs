//! The `notify.deliver` job: sends a notification's WeChat subscription message and
//! records the outcome on the notification (`wechat_state`, `wechat_error`).
//!
//! Idempotent: a notification already `sent`, `refused` or `none` is left alone, and state
//! changes are conditional on not being settled. A crash (or a lost ack) between WeChat
//! accepting the message and the state update sends it twice: WeChat offers no
//! idempotency key, so delivery is at least once. This handler must never fail because of
//! the user (no openid, refusal); it fails — and the runner retries with backoff, then
//! dead-letters — only when WeChat or our infrastructure did.

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    WechatState,
    access_token::{AccessTokens, TokenError},
};
use crate::{
    auth::wechat::{KeywordValue, SubscribeMessage},
    entities::{notification, user},
    jobs::JobHandler,
    ports::queue::Delivery,
};

/// Topic of the delivery job staged by [`super::notify`].
pub const DELIVER: &str = "notify.deliver";

/// WeChat's limit on a `thing` keyword, the kind the default fields use.
const THING_MAX_CHARS: usize = 20;

#[derive(Deserialize)]
struct Payload {
    notification_id: Uuid,
}

/// The notifications' jobs: delivering each to WeChat, by `deliver`.
pub fn jobs(deliver: Deliver) -> crate::jobs::Jobs {
    crate::jobs::Jobs::default().handle(DELIVER, deliver)
}

/// Delivers notifications over WeChat subscription messages.
pub struct Deliver {
    /// The database.
    pub db: DatabaseConnection,
    /// The shared access token (and the WeChat client).
    pub tokens: Arc<AccessTokens>,
    /// Template id per notification kind (`Settings::wechat_templates`).
    pub templates: BTreeMap<String, String>,
    /// Page opened when the notification names none (`Settings::wechat_page`).
    pub default_page: String,
}

#[async_trait]
impl JobHandler for Deliver {
    async fn handle(&self, job: &Delivery) -> anyhow::Result<()> {
        let payload: Payload = serde_json::from_value(job.payload.clone())?;
        self.deliver(payload.notification_id).await
    }
}

impl Deliver {
    /// Delivers one notification; see the module documentation.
    #[tracing::instrument(skip(self))]
    pub async fn deliver(&self, id: Uuid) -> anyhow::Result<()> {
        let Some((n, recipient)) = notification::Entity::find_by_id(id)
            .find_also_related(user::Entity)
            .one(&self.db)
            .await?
        else {
            tracing::info!("notification is gone; nothing to deliver");
            return Ok(());
        };
        if n.wechat_state.is_final() {
            return Ok(());
        }
        let openid = recipient
            .and_then(|u| u.wechat_openid)
            .filter(|o| !o.is_empty());
        let Some(openid) = openid else {
            return self.settle(id, WechatState::None, Some("no_openid")).await;
        };
        let Some(template_id) = self.templates.get(&n.kind) else {
            return self
                .settle(id, WechatState::None, Some("no_template"))
                .await;
        };
        if !self.tokens.client().is_configured() {
            return self
                .settle(id, WechatState::None, Some("wechat_not_configured"))
                .await;
        }
        let message = message(&n, openid, template_id.clone(), &self.default_page);
        match self.send(&message).await {
            Ok(()) => self.settle(id, WechatState::Sent, None).await,
            Err(TokenError::Wechat(e)) if e.is_refused() => {
                tracing::info!(error = %e, "the user has not subscribed to this template");
                self.settle(id, WechatState::Refused, Some(&e.to_string()))
                    .await
            }
            Err(e) => {
                let error = e.to_string();
                self.settle(id, WechatState::Failed, Some(&error)).await?;
                Err(anyhow::anyhow!("WeChat delivery failed: {error}"))
            }
        }
    }

    /// Sends with the shared token; on an invalid-token answer, drops it and retries once.
    async fn send(&self, message: &SubscribeMessage) -> Result<(), TokenError> {
        let client = self.tokens.client();
        let token = self.tokens.get().await?;
        match client.send_subscribe_message(&token, message).await {
            Err(e) if e.is_token_invalid() => {
                tracing::info!(error = %e, "WeChat called the access token invalid; refreshing");
                self.tokens.invalidate(&token).await?;
                let token = self.tokens.get().await?;
                Ok(client.send_subscribe_message(&token, message).await?)
            }
            other => Ok(other?),
        }
    }

    /// Records the outcome unless the notification is already settled.
    async fn settle(
        &self,
        id: Uuid,
        state: WechatState,
        error: Option<&str>,
    ) -> anyhow::Result<()> {
        use notification::Column as C;
        notification::Entity::update_many()
            .col_expr(C::WechatState, Expr::value(state))
            .col_expr(C::WechatError, Expr::value(error.map(str::to_string)))
            .col_expr(C::WechatUpdatedAt, Expr::value(Utc::now()))
            .filter(C::Id.eq(id))
            .filter(C::WechatState.is_in([WechatState::Pending, WechatState::Failed]))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

/// The subscription message for `n`, shaped by its `data.wechat` (see `NewNotification`).
fn message(
    n: &notification::Model,
    openid: String,
    template_id: String,
    default_page: &str,
) -> SubscribeMessage {
    let data: serde_json::Value = serde_json::from_str(&n.data).unwrap_or_default();
    let wechat = data.get("wechat");
    let page = wechat
        .and_then(|w| w.get("page"))
        .and_then(|p| p.as_str())
        .filter(|p| !p.is_empty())
        .unwrap_or(default_page)
        .to_string();
    let fields: BTreeMap<String, KeywordValue> = match wechat
        .and_then(|w| w.get("fields"))
        .and_then(|f| f.as_object())
    {
        Some(fields) => fields
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), KeywordValue { value })
            })
            .collect(),
        None => BTreeMap::from([
            ("thing1".to_string(), thing(&n.title)),
            ("thing2".to_string(), thing(&n.body)),
        ]),
    };
    SubscribeMessage {
        touser: openid,
        template_id,
        page,
        data: fields,
    }
}

/// A `thing` keyword: at most 20 characters, cut with an ellipsis.
fn thing(text: &str) -> KeywordValue {
    let value = if text.chars().count() > THING_MAX_CHARS {
        let mut cut: String = text.chars().take(THING_MAX_CHARS - 1).collect();
        cut.push('…');
        cut
    } else {
        text.to_string()
    };
    KeywordValue { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(data: &str) -> notification::Model {
        notification::Model {
            id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            kind: "pickup_status".into(),
            title: "回收员已出发".into(),
            body: "您预约的上门回收订单，回收员已出发，预计二十分钟内到达，请保持电话畅通".into(),
            data: data.into(),
            read_at: None,
            created_at: Utc::now(),
            wechat_state: WechatState::Pending,
            wechat_error: None,
            wechat_updated_at: None,
        }
    }

    #[test]
    fn default_fields_are_title_and_body_cut_to_twenty_characters() {
        let m = message(&model("{}"), "o1".into(), "t1".into(), "pages/index/index");
        assert_eq!(m.page, "pages/index/index");
        assert_eq!(m.data["thing1"].value, "回收员已出发");
        assert_eq!(m.data["thing2"].value.chars().count(), 20);
        assert!(m.data["thing2"].value.ends_with('…'));
    }

    #[test]
    fn data_wechat_shapes_page_and_fields() {
        let m = message(
            &model(
                r#"{"wechat":{"page":"pages/pickup/detail?id=1","fields":{"phrase1":"已出发","number2":3}}}"#,
            ),
            "o1".into(),
            "t1".into(),
            "pages/index/index",
        );
        assert_eq!(m.page, "pages/pickup/detail?id=1");
        assert_eq!(m.data.len(), 2);
        assert_eq!(m.data["phrase1"].value, "已出发");
        assert_eq!(m.data["number2"].value, "3");
    }
}
