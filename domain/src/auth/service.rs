//! Logins and sessions. A session is a family of refresh tokens: each refresh spends the
//! presented token and issues the next one in the family; presenting a spent token again
//! (a stolen copy, or a replay) revokes the whole family, logging out thief and owner alike.
//! Spending is a conditional update, so of two concurrent refreshes exactly one wins.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    sea_query::Expr,
};
use serde::Serialize;
use uuid::Uuid;

use super::{
    passwords,
    principal::{Principal, Role},
    tokens::{self, TokenKeys},
    users,
    wechat::WechatClient,
};
use crate::{
    entities::{refresh_token, user},
    error::{Error, Result},
    ports::rate_limit::{Decision, Limit, RateLimiter},
};

/// What a successful login or refresh answers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    /// Bearer token for `Authorization`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Single-use token for `POST /v1/auth/refresh`.
    pub refresh_token: String,
    /// Who logged in.
    pub user: SessionUser,
}

/// The user a token pair belongs to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionUser {
    /// User id.
    pub id: Uuid,
    /// Role.
    pub role: Role,
}

/// Logins, refreshes and logouts.
#[derive(Clone)]
pub struct AuthService {
    db: DatabaseConnection,
    keys: TokenKeys,
    wechat: WechatClient,
    limiter: Arc<dyn RateLimiter>,
    login_attempts: u32,
}

/// The window in which failed password logins are counted.
const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);

impl AuthService {
    /// The service.
    pub fn new(
        db: DatabaseConnection,
        keys: TokenKeys,
        wechat: WechatClient,
        limiter: Arc<dyn RateLimiter>,
        login_attempts: u32,
    ) -> Self {
        Self {
            db,
            keys,
            wechat,
            limiter,
            login_attempts,
        }
    }

    /// This service counting login attempts with `limiter`.
    pub fn with_limiter(&self, limiter: Arc<dyn RateLimiter>) -> Self {
        Self {
            limiter,
            ..self.clone()
        }
    }

    /// The token keys (for the HTTP edge's extractor).
    pub fn keys(&self) -> &TokenKeys {
        &self.keys
    }

    /// Logs in with a `wx.login` code, creating the resident on first login.
    #[tracing::instrument(skip_all)]
    pub async fn login_wechat(&self, code: &str) -> Result<TokenPair> {
        let code = code.trim();
        if code.is_empty() || code.len() > 128 {
            return Err(Error::field("code", "invalid", "must be a wx.login code"));
        }
        let identity = self.wechat.code_to_session(code).await?;
        let user = users::find_or_create_wechat(&self.db, &identity).await?;
        ensure_active(&user)?;
        tracing::info!(user_id = %user.id, "wechat login");
        self.open_session(&user).await
    }

    /// Logs in with phone and password. Attempts are throttled per phone and per client
    /// address; the throttle resets on success.
    #[tracing::instrument(skip_all, fields(client = %client))]
    pub async fn login_password(
        &self,
        phone: &str,
        password: &str,
        client: &str,
    ) -> Result<TokenPair> {
        let phone = users::normalize_phone(phone)?;
        let limit = Limit {
            max: self.login_attempts,
            window: LOGIN_WINDOW,
        };
        // Per phone: a handful of attempts (reset on success). Per client address: twenty
        // times that, so people behind one NAT can still log in while a client spraying
        // guesses across many phones is stopped.
        let phone_key = format!("login:phone:{phone}");
        let client_key = format!("login:client:{client}");
        let client_limit = Limit {
            max: self.login_attempts.saturating_mul(20),
            ..limit
        };
        for (key, limit) in [(&phone_key, limit), (&client_key, client_limit)] {
            if let Decision::Limited { retry_after } = self.limiter.hit(key, limit).await? {
                return Err(Error::RateLimited { retry_after });
            }
        }
        let user = users::find_by_phone(&self.db, &phone).await?;
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        if !passwords::verify(password.to_string(), stored).await? {
            return Err(Error::unauthenticated(
                "invalid_credentials",
                "phone or password is wrong",
            ));
        }
        let Some(user) = user else {
            return Err(Error::unauthenticated(
                "invalid_credentials",
                "phone or password is wrong",
            ));
        };
        ensure_active(&user)?;
        self.limiter.reset(&phone_key).await?;
        tracing::info!(user_id = %user.id, "password login");
        self.open_session(&user).await
    }

    /// Spends a refresh token and issues the next pair of its family.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, presented: &str) -> Result<TokenPair> {
        let hash = tokens::hash_refresh_token(presented);
        let Some(row) = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(hash))
            .one(&self.db)
            .await?
        else {
            return Err(invalid_refresh());
        };
        let now = Utc::now();
        if row.revoked_at.is_some() {
            return Err(invalid_refresh());
        }
        if row.used_at.is_some() {
            self.revoke_family(row.family_id).await?;
            tracing::warn!(user_id = %row.user_id, family = %row.family_id, "refresh token reused; family revoked");
            return Err(Error::unauthenticated(
                "refresh_token_reused",
                "this refresh token was already used; the session has been ended",
            ));
        }
        if row.expires_at <= now {
            return Err(Error::unauthenticated(
                "refresh_token_expired",
                "the refresh token has expired; log in again",
            ));
        }
        let spent = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
            .filter(refresh_token::Column::Id.eq(row.id))
            .filter(refresh_token::Column::UsedAt.is_null())
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?;
        if spent.rows_affected != 1 {
            // Someone spent it between our read and our update: that is a reuse.
            self.revoke_family(row.family_id).await?;
            return Err(Error::unauthenticated(
                "refresh_token_reused",
                "this refresh token was already used; the session has been ended",
            ));
        }
        let user = user::Entity::find_by_id(row.user_id)
            .one(&self.db)
            .await?
            .ok_or_else(invalid_refresh)?;
        ensure_active(&user)?;
        self.issue_pair(&user, row.family_id).await
    }

    /// Ends the session the refresh token belongs to. Unknown tokens are ignored.
    #[tracing::instrument(skip_all)]
    pub async fn logout(&self, presented: &str) -> Result<()> {
        let hash = tokens::hash_refresh_token(presented);
        if let Some(row) = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(hash))
            .one(&self.db)
            .await?
        {
            self.revoke_family(row.family_id).await?;
        }
        Ok(())
    }

    /// Verifies an access token.
    pub fn authenticate(&self, access_token: &str) -> Result<Principal> {
        self.keys.verify_access(access_token)
    }

    /// [`Self::authenticate`], with when the token was issued (unix milliseconds), for the
    /// revocation check ([`super::revocations`]).
    pub fn authenticate_issued(&self, access_token: &str) -> Result<(Principal, i64)> {
        self.keys.verify_access_issued(access_token)
    }

    /// The access-token lifetime, seconds.
    pub fn access_ttl_secs(&self) -> u64 {
        self.keys.access_ttl_secs
    }

    async fn open_session(&self, user: &user::Model) -> Result<TokenPair> {
        self.issue_pair(user, Uuid::now_v7()).await
    }

    async fn issue_pair(&self, user: &user::Model, family: Uuid) -> Result<TokenPair> {
        let principal = users::principal_of(user)?;
        let access_token = self.keys.issue_access(&principal)?;
        let refresh = tokens::new_refresh_token();
        let now = Utc::now();
        refresh_token::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user.id),
            family_id: Set(family),
            token_hash: Set(tokens::hash_refresh_token(&refresh)),
            expires_at: Set(now + chrono::Duration::seconds(self.keys.refresh_ttl_secs as i64)),
            used_at: Set(None),
            revoked_at: Set(None),
            created_at: Set(now),
        }
        .insert(&self.db)
        .await?;
        Ok(TokenPair {
            access_token,
            token_type: "Bearer",
            expires_in: self.keys.access_ttl_secs,
            refresh_token: refresh,
            user: SessionUser {
                id: user.id,
                role: principal.role,
            },
        })
    }

    async fn revoke_family(&self, family: Uuid) -> Result<()> {
        refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
            .filter(refresh_token::Column::FamilyId.eq(family))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

fn invalid_refresh() -> Error {
    Error::unauthenticated("refresh_token_invalid", "the refresh token is not valid")
}

fn ensure_active(user: &user::Model) -> Result<()> {
    if user.status == user::Status::Active {
        Ok(())
    } else {
        Err(Error::forbidden("this account is disabled"))
    }
}
