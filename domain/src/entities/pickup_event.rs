//! The `pickup_events` table, with the typed value of its `actor_role` column.

use sea_orm::entity::prelude::*;

use super::{pickup::Status, user::Role};

/// Who caused a transition: a user's role, or the system itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum ActorRole {
    /// A resident.
    #[sea_orm(string_value = "resident")]
    Resident,
    /// A recycler.
    #[sea_orm(string_value = "recycler")]
    Recycler,
    /// A merchant.
    #[sea_orm(string_value = "merchant")]
    Merchant,
    /// A station manager.
    #[sea_orm(string_value = "station_manager")]
    StationManager,
    /// An administrator.
    #[sea_orm(string_value = "admin")]
    Admin,
    /// The system (dispatch, timeouts, settlement).
    #[sea_orm(string_value = "system")]
    System,
}

impl ActorRole {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActorRole::System => "system",
            ActorRole::Resident => Role::Resident.as_str(),
            ActorRole::Recycler => Role::Recycler.as_str(),
            ActorRole::Merchant => Role::Merchant.as_str(),
            ActorRole::StationManager => Role::StationManager.as_str(),
            ActorRole::Admin => Role::Admin.as_str(),
        }
    }
}

impl From<Role> for ActorRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Resident => ActorRole::Resident,
            Role::Recycler => ActorRole::Recycler,
            Role::Merchant => ActorRole::Merchant,
            Role::StationManager => ActorRole::StationManager,
            Role::Admin => ActorRole::Admin,
        }
    }
}

/// One row of `pickup_events`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pickup_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub pickup_id: Uuid,
    pub from_status: Option<Status>,
    pub to_status: Status,
    pub actor_id: Option<Uuid>,
    pub actor_role: ActorRole,
    pub reason: String,
    pub created_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
