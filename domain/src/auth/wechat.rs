//! WeChat's server API: `jscode2session` turns a `wx.login` code into the user's openid;
//! `cgi-bin/token` issues the app's access token; `message/subscribe/send` sends a
//! subscription message. The `session_key`, the app secret and access tokens never leave
//! this module in a log line: they are wrapped in [`Secret`], and reqwest errors are
//! printed without their URL (which carries them as query parameters).

use std::{collections::BTreeMap, time::Duration};

use serde::{Deserialize, Serialize};

use crate::{
    config::{Secret, Settings},
    error::{Error, Result},
};

/// The identity WeChat vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WechatIdentity {
    /// The user's id within this mini-program.
    pub openid: String,
    /// The user's id across the developer's apps, when bound.
    pub unionid: Option<String>,
}

/// Calls WeChat's server API at a configurable base URL.
#[derive(Clone)]
pub struct WechatClient {
    http: reqwest::Client,
    base: String,
    appid: Option<String>,
    secret: Option<Secret>,
}

impl std::fmt::Debug for WechatClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatClient")
            .field("base", &self.base)
            .field("appid", &self.appid)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct SessionResponse {
    #[serde(default)]
    openid: Option<String>,
    #[serde(default)]
    unionid: Option<String>,
    // Present on success; deliberately never read or kept.
    #[serde(default, rename = "session_key")]
    _session_key: Option<Secret>,
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
}

impl WechatClient {
    /// A client from the settings (`WECHAT_APPID`, `WECHAT_SECRET`, `WECHAT_API_BASE`).
    pub fn new(settings: &Settings) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| Error::Internal(anyhow::anyhow!("http client: {e}")))?;
        Ok(Self {
            http,
            base: settings.wechat_api_base.trim_end_matches('/').to_string(),
            appid: settings.wechat_appid.clone(),
            secret: settings.wechat_secret.clone(),
        })
    }

    /// Exchanges a `wx.login` code for the user's identity.
    #[tracing::instrument(skip_all)]
    pub async fn code_to_session(&self, code: &str) -> Result<WechatIdentity> {
        let (Some(appid), Some(secret)) = (&self.appid, &self.secret) else {
            return Err(Error::Upstream {
                service: "wechat",
                code: "wechat_not_configured",
                message: "WeChat login is not configured on this server".into(),
            });
        };
        let url = format!("{}/sns/jscode2session", self.base);
        let response = self
            .http
            .get(&url)
            .query(&[
                ("appid", appid.as_str()),
                ("secret", secret.expose()),
                ("js_code", code),
                ("grant_type", "authorization_code"),
            ])
            .send()
            .await
            .map_err(|e| unavailable(&format!("request failed: {}", e.without_url())))?;
        if !response.status().is_success() {
            return Err(unavailable(&format!("HTTP {}", response.status())));
        }
        let body: SessionResponse = response
            .json()
            .await
            .map_err(|e| unavailable(&format!("unreadable answer: {}", e.without_url())))?;
        match (body.errcode.unwrap_or(0), body.openid) {
            (0, Some(openid)) if !openid.is_empty() => Ok(WechatIdentity {
                openid,
                unionid: body.unionid.filter(|u| !u.is_empty()),
            }),
            (0, _) => Err(unavailable("answer carried no openid")),
            (code, _) => Err(map_errcode(code, body.errmsg.as_deref().unwrap_or(""))),
        }
    }
}

/// An access token for WeChat's server API, as issued.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The token (never printed).
    pub token: Secret,
    /// Its lifetime as WeChat stated it.
    pub expires_in: Duration,
}

/// A subscription message (`message/subscribe/send`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscribeMessage {
    /// The recipient's openid.
    pub touser: String,
    /// The template the user subscribed to.
    pub template_id: String,
    /// The mini-program page opened from the message.
    pub page: String,
    /// The template's keywords (`thing1`, `time2` …) and their values.
    pub data: BTreeMap<String, KeywordValue>,
}

/// One keyword's value in a subscription message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeywordValue {
    /// The text shown.
    pub value: String,
}

/// Why a call to WeChat's server API (other than login) did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum WechatApiError {
    /// `WECHAT_APPID`/`WECHAT_SECRET` are unset.
    #[error("WeChat is not configured (WECHAT_APPID, WECHAT_SECRET)")]
    NotConfigured,
    /// No usable answer: network error, HTTP error status, unreadable body.
    #[error("WeChat did not answer: {0}")]
    Transport(String),
    /// WeChat answered with an `errcode`.
    #[error("WeChat errcode {errcode}: {errmsg}")]
    Api {
        /// WeChat's code.
        errcode: i64,
        /// WeChat's message.
        errmsg: String,
    },
}

impl WechatApiError {
    /// The access token was invalid or expired (40001, 42001, 40014): refresh and retry.
    pub fn is_token_invalid(&self) -> bool {
        matches!(
            self,
            Self::Api {
                errcode: 40001 | 42001 | 40014,
                ..
            }
        )
    }

    /// The user has not subscribed to (or has refused) the template (43101): do not retry.
    pub fn is_refused(&self) -> bool {
        matches!(self, Self::Api { errcode: 43101, .. })
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    access_token: Option<Secret>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
}

#[derive(Deserialize)]
struct ErrResponse {
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
}

impl WechatClient {
    /// Whether the app id and secret are configured.
    pub fn is_configured(&self) -> bool {
        self.appid.is_some() && self.secret.is_some()
    }

    /// Fetches a new access token (`GET /cgi-bin/token`). Callers share tokens through a
    /// cache (`crate::notifications::access_token`); WeChat limits how often this is called
    /// and each call invalidates older tokens after a few minutes.
    #[tracing::instrument(skip_all)]
    pub async fn fetch_access_token(&self) -> Result<IssuedToken, WechatApiError> {
        let (Some(appid), Some(secret)) = (&self.appid, &self.secret) else {
            return Err(WechatApiError::NotConfigured);
        };
        let response = self
            .http
            .get(format!("{}/cgi-bin/token", self.base))
            .query(&[
                ("grant_type", "client_credential"),
                ("appid", appid.as_str()),
                ("secret", secret.expose()),
            ])
            .send()
            .await
            .map_err(transport)?;
        let body: TokenResponse = read_json(response).await?;
        match (body.errcode.unwrap_or(0), body.access_token) {
            (0, Some(token)) if !token.expose().is_empty() => Ok(IssuedToken {
                token,
                expires_in: Duration::from_secs(body.expires_in.unwrap_or(7200)),
            }),
            (0, _) => Err(WechatApiError::Transport(
                "token answer carried no access_token".into(),
            )),
            (errcode, _) => Err(WechatApiError::Api {
                errcode,
                errmsg: body.errmsg.unwrap_or_default(),
            }),
        }
    }

    /// Sends a subscription message with `token` (`POST /cgi-bin/message/subscribe/send`).
    #[tracing::instrument(skip_all, fields(template_id = %message.template_id))]
    pub async fn send_subscribe_message(
        &self,
        token: &Secret,
        message: &SubscribeMessage,
    ) -> Result<(), WechatApiError> {
        let response = self
            .http
            .post(format!("{}/cgi-bin/message/subscribe/send", self.base))
            .query(&[("access_token", token.expose())])
            .json(message)
            .send()
            .await
            .map_err(transport)?;
        let body: ErrResponse = read_json(response).await?;
        match body.errcode.unwrap_or(0) {
            0 => Ok(()),
            errcode => Err(WechatApiError::Api {
                errcode,
                errmsg: body.errmsg.unwrap_or_default(),
            }),
        }
    }
}

fn transport(e: reqwest::Error) -> WechatApiError {
    WechatApiError::Transport(format!("request failed: {}", e.without_url()))
}

async fn read_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, WechatApiError> {
    if !response.status().is_success() {
        return Err(WechatApiError::Transport(format!(
            "HTTP {}",
            response.status()
        )));
    }
    response
        .json()
        .await
        .map_err(|e| WechatApiError::Transport(format!("unreadable answer: {}", e.without_url())))
}

fn unavailable(detail: &str) -> Error {
    tracing::warn!(detail, "wechat jscode2session failed");
    Error::Upstream {
        service: "wechat",
        code: "wechat_unavailable",
        message: "WeChat did not answer; try again".into(),
    }
}

/// WeChat's documented `errcode`s for jscode2session, mapped to our errors.
fn map_errcode(code: i64, errmsg: &str) -> Error {
    tracing::info!(code, errmsg, "wechat refused the login code");
    match code {
        40029 | 40163 => Error::unauthenticated(
            "wechat_code_invalid",
            "the WeChat login code is invalid or already used; call wx.login again",
        ),
        45011 => Error::RateLimited {
            retry_after: Duration::from_secs(60),
        },
        40226 => Error::forbidden("WeChat has blocked this user as high-risk"),
        -1 => unavailable("system busy"),
        _ => Error::Upstream {
            service: "wechat",
            code: "wechat_error",
            message: format!("WeChat refused the login (errcode {code})"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errcodes_map_to_stable_errors() {
        assert!(matches!(
            map_errcode(40029, ""),
            Error::Unauthenticated {
                code: "wechat_code_invalid",
                ..
            }
        ));
        assert!(matches!(map_errcode(45011, ""), Error::RateLimited { .. }));
        assert!(matches!(map_errcode(40226, ""), Error::Forbidden { .. }));
        assert!(matches!(
            map_errcode(-1, ""),
            Error::Upstream {
                code: "wechat_unavailable",
                ..
            }
        ));
    }
}
