//! WeChat's server API: `jscode2session` turns a `wx.login` code into the user's openid.
//! The `session_key` it also returns never leaves this module: it is not stored, not
//! returned, and not printed (the response type's `Debug` hides it).

use std::time::Duration;

use serde::Deserialize;

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
