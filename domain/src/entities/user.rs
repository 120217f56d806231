//! The `users` table, with the typed values of its `role`, `admin_scope` and `status`
//! columns.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A user's role.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A resident booking pickups and earning points.
    #[sea_orm(string_value = "resident")]
    Resident,
    /// A verified recycler doing pickups.
    #[sea_orm(string_value = "recycler")]
    Recycler,
    /// A supplier or buyer enterprise on the marketplace.
    #[sea_orm(string_value = "merchant")]
    Merchant,
    /// Runs a station: hands out redeemed goods, dispatches by hand.
    #[sea_orm(string_value = "station_manager")]
    StationManager,
    /// Administrator (see [`AdminScope`]).
    #[sea_orm(string_value = "admin")]
    Admin,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Resident => "resident",
            Role::Recycler => "recycler",
            Role::Merchant => "merchant",
            Role::StationManager => "station_manager",
            Role::Admin => "admin",
        }
    }

    /// Parses a stored or typed name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "resident" => Role::Resident,
            "recycler" => Role::Recycler,
            "merchant" => Role::Merchant,
            "station_manager" => Role::StationManager,
            "admin" => Role::Admin,
            _ => return None,
        })
    }
}

/// How far an administrator's authority reaches.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum AdminScope {
    /// The whole city.
    #[sea_orm(string_value = "super_admin")]
    SuperAdmin,
    /// One district (the account's `district_code`).
    #[sea_orm(string_value = "district")]
    District,
}

impl AdminScope {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AdminScope::SuperAdmin => "super_admin",
            AdminScope::District => "district",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "super_admin" => Some(AdminScope::SuperAdmin),
            "district" => Some(AdminScope::District),
            _ => None,
        }
    }
}

/// Whether an account may sign in.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[schema(as = AccountStatus)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Signs in and acts as usual.
    #[sea_orm(string_value = "active")]
    Active,
    /// Refused at sign-in and at token refresh.
    #[sea_orm(string_value = "disabled")]
    Disabled,
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Disabled => "disabled",
        }
    }
}

/// One row of `users`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub role: Role,
    pub admin_scope: Option<AdminScope>,
    pub district_code: Option<String>,
    pub phone: Option<String>,
    pub password_hash: Option<String>,
    pub wechat_openid: Option<String>,
    pub wechat_unionid: Option<String>,
    pub nickname: String,
    pub avatar_url: Option<String>,
    pub status: Status,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Access tokens issued before this are refused (suspension, role change, sign-out
    /// everywhere); `None`: never revoked.
    pub tokens_valid_after: Option<DateTimeUtc>,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
