//! The audit log: who did what to which object, written in the same transaction as the act.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    auth::Principal,
    entities::{audit_log, user},
    error::Result,
    paging::{Page, PageRequest},
    validate::Check,
};

/// Records an administrative act.
pub async fn record(
    txn: &impl ConnectionTrait,
    actor: Option<Uuid>,
    action: &str,
    object_type: &str,
    object_id: &str,
    detail: serde_json::Value,
) -> Result<()> {
    audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        actor_id: Set(actor),
        action: Set(action.into()),
        object_type: Set(object_type.into()),
        object_id: Set(object_id.into()),
        detail: Set(detail.to_string()),
        created_at: Set(Utc::now()),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// The field changes of an administrative edit, as the audit log records them
/// (`{ field: { from, to } }`).
#[derive(Debug, Default)]
pub struct Changes(serde_json::Map<String, serde_json::Value>);

impl Changes {
    /// Records `field` going from `current` to `new` when `new` is given and differs;
    /// returns the value to set, if any.
    pub fn track<T: PartialEq + serde::Serialize>(
        &mut self,
        field: &str,
        current: &T,
        new: Option<T>,
    ) -> Option<T> {
        let new = new.filter(|n| n != current)?;
        self.0.insert(
            field.into(),
            serde_json::json!({ "from": current, "to": &new }),
        );
        Some(new)
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The recorded changes as the audit detail.
    pub fn into_detail(self) -> serde_json::Value {
        serde_json::Value::Object(self.0)
    }
}

/// Filters of the audit log.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct AuditFilter {
    /// Only acts of this account.
    pub actor_id: Option<Uuid>,
    /// Only this action (`facility.create`, `zero_waste_cell.publish` …).
    pub action: Option<String>,
    /// Only acts on this kind of object (`facility`, `suggestion` …).
    pub object_type: Option<String>,
    /// Only acts on this object (with `object_type`).
    pub object_id: Option<String>,
    /// Acts at or after.
    pub from: Option<DateTime<Utc>>,
    /// Acts before.
    pub to: Option<DateTime<Utc>>,
    /// Only acts of the accounts of this district (district administrators read their
    /// own district's and no other).
    #[param(max_length = 12)]
    pub district_code: Option<String>,
}

/// One act.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Id.
    pub id: Uuid,
    /// Who (`None`: the system).
    pub actor_id: Option<Uuid>,
    /// What.
    pub action: String,
    /// On what kind of object.
    pub object_type: String,
    /// On which.
    pub object_id: String,
    /// The act's details as recorded (never secrets).
    pub detail: serde_json::Value,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// The audit log, newest first: every act for city-wide administrators; the acts of their
/// district's accounts for district administrators.
pub async fn list(
    db: &impl ConnectionTrait,
    who: &Principal,
    filter: &AuditFilter,
    page: PageRequest,
) -> Result<Page<AuditEntry>> {
    who.require_role(&[crate::auth::Role::Admin])?;
    let district = if who.is_super_admin() {
        filter.district_code.clone()
    } else {
        if filter
            .district_code
            .as_ref()
            .is_some_and(|d| Some(d) != who.district_code.as_ref())
        {
            return Err(crate::error::Error::forbidden(
                "district administrators read their own district's acts",
            ));
        }
        who.district_code.clone()
    };
    let mut check = Check::new();
    for (field, value) in [
        ("action", &filter.action),
        ("object_type", &filter.object_type),
        ("object_id", &filter.object_id),
    ] {
        if let Some(v) = value {
            check.text(field, v, 1, 64);
        }
    }
    if let (Some(f), Some(t)) = (filter.from, filter.to) {
        check.ensure(f < t, "from", "invalid", "must be before `to`");
    }
    check.finish()?;
    let mut q = audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Id)
        .limit(page.limit + 1);
    if let Some(a) = filter.actor_id {
        q = q.filter(audit_log::Column::ActorId.eq(a));
    }
    if let Some(a) = &filter.action {
        q = q.filter(audit_log::Column::Action.eq(a.as_str()));
    }
    if let Some(t) = &filter.object_type {
        q = q.filter(audit_log::Column::ObjectType.eq(t.as_str()));
    }
    if let Some(o) = &filter.object_id {
        q = q.filter(audit_log::Column::ObjectId.eq(o.as_str()));
    }
    if let Some(f) = filter.from {
        q = q.filter(audit_log::Column::CreatedAt.gte(f));
    }
    if let Some(t) = filter.to {
        q = q.filter(audit_log::Column::CreatedAt.lt(t));
    }
    if let Some(d) = district {
        q = q.filter(
            audit_log::Column::ActorId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(user::Column::Id)
                    .from(user::Entity)
                    .and_where(user::Column::DistrictCode.eq(d))
                    .to_owned(),
            ),
        );
    }
    if let Some(before) = page.before {
        q = q.filter(audit_log::Column::Id.lt(before));
    }
    Ok(Page::of(
        q.all(db).await?,
        page.limit,
        |e| e.id,
        |e| AuditEntry {
            id: e.id,
            actor_id: e.actor_id,
            action: e.action,
            object_type: e.object_type,
            object_id: e.object_id,
            detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::Null),
            created_at: e.created_at,
        },
    ))
}
