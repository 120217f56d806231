//! `/v1/auth`: WeChat and password login, refresh, logout.

pub mod logout;
pub mod password;
pub mod refresh;
pub mod session;
pub mod wechat;

use serde::Deserialize;

/// Body of refresh and logout.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    /// The refresh token from the last login or refresh.
    pub refresh_token: String,
}
