//! Authentication: WeChat and password login, access and refresh tokens, the principal.

pub mod admin;
pub mod passwords;
pub mod principal;
pub mod revocations;
pub mod service;
pub mod tokens;
pub mod users;
pub mod wechat;

pub use principal::{AdminScope, Principal, Role};
pub use service::{AuthService, TokenPair};
pub use tokens::TokenKeys;
