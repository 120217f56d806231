//! Running the catalogue: categories (with their first rate version) created and edited by
//! city-wide administrators, every write audited in its own transaction. A category's `code`
//! and `unit` never change once created: devices send codes, and rate history and the
//! recycling ledger are only comparable while the unit stays the same. Categories are
//! retired with `active: false`, never deleted.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::rates::{self, check_rate, insert_version};
use crate::{
    audit,
    auth::Principal,
    entities::{
        category::{self, Unit},
        category_rate,
    },
    error::{Error, Result},
    validate::Check,
};

/// A rate version as administrators see it beside its category.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RateView {
    /// The version's id.
    pub id: Uuid,
    /// Points per unit.
    pub points_per_unit: i32,
    /// Recycler's service fee per unit, in fen.
    pub service_fee_fen_per_unit: i32,
    /// When it takes (or took) effect.
    pub effective_from: DateTime<Utc>,
}

impl From<&category_rate::Model> for RateView {
    fn from(r: &category_rate::Model) -> Self {
        Self {
            id: r.id,
            points_per_unit: r.points_per_unit,
            service_fee_fen_per_unit: r.service_fee_fen_per_unit,
            effective_from: r.effective_from,
        }
    }
}

/// A category with its current and scheduled rates (inactive ones included).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdminCategoryView {
    /// Id.
    pub id: Uuid,
    /// Stable code; never changes.
    pub code: String,
    /// Name.
    pub name: String,
    /// `kg` or `piece`; never changes.
    pub unit: String,
    /// Whether it needs a van.
    pub needs_van: bool,
    /// How to prepare it.
    pub guidance: String,
    /// Whether residents can book it.
    pub active: bool,
    /// Display order.
    pub sort_order: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Most a smart device may credit one resident per Asia/Shanghai day (grams, or
    /// pieces).
    pub device_daily_cap: i64,
    /// The version in force now, if any.
    pub current_rate: Option<RateView>,
    /// Versions that take effect later, soonest first.
    pub scheduled_rates: Vec<RateView>,
}

fn view(
    c: category::Model,
    versions: &[category_rate::Model],
    now: DateTime<Utc>,
) -> AdminCategoryView {
    let mut scheduled: Vec<RateView> = versions
        .iter()
        .filter(|v| v.effective_from > now)
        .map(RateView::from)
        .collect();
    scheduled.sort_by_key(|v| v.effective_from);
    AdminCategoryView {
        current_rate: rates::in_force(versions, now).map(RateView::from),
        scheduled_rates: scheduled,
        id: c.id,
        code: c.code,
        name: c.name,
        unit: c.unit.as_str().into(),
        needs_van: c.needs_van,
        guidance: c.guidance,
        active: c.active,
        sort_order: c.sort_order,
        created_at: c.created_at,
        device_daily_cap: c.device_daily_cap,
    }
}

async fn versions_of(
    db: &impl ConnectionTrait,
    category_id: Option<Uuid>,
) -> Result<HashMap<Uuid, Vec<category_rate::Model>>> {
    let mut q = category_rate::Entity::find();
    if let Some(id) = category_id {
        q = q.filter(category_rate::Column::CategoryId.eq(id));
    }
    let mut by: HashMap<Uuid, Vec<category_rate::Model>> = HashMap::new();
    for r in q.all(db).await? {
        by.entry(r.category_id).or_default().push(r);
    }
    Ok(by)
}

/// Every category, inactive ones included, in display order (any administrator may read).
pub async fn list(db: &impl ConnectionTrait, who: &Principal) -> Result<Vec<AdminCategoryView>> {
    who.require_role(&[crate::auth::Role::Admin])?;
    let now = Utc::now();
    let mut versions = versions_of(db, None).await?;
    Ok(category::Entity::find()
        .order_by_asc(category::Column::SortOrder)
        .all(db)
        .await?
        .into_iter()
        .map(|c| {
            let vs = versions.remove(&c.id).unwrap_or_default();
            view(c, &vs, now)
        })
        .collect())
}

/// A new category with its first rate version.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    /// Stable code, `^[a-z][a-z0-9_]{1,31}$`, unique.
    pub code: String,
    /// Name (1–64 characters).
    pub name: String,
    /// `kg` or `piece`.
    pub unit: String,
    /// Whether it needs a van.
    #[serde(default)]
    pub needs_van: bool,
    /// How to prepare it (up to 1000 characters).
    #[serde(default)]
    pub guidance: String,
    /// Points per unit of the first rate version.
    pub points_per_unit: i64,
    /// Service fee per unit (fen) of the first rate version.
    #[serde(default)]
    pub service_fee_fen_per_unit: i64,
    /// When the first version takes effect (now or later); omitted: now.
    pub effective_from: Option<DateTime<Utc>>,
}

/// Whether `code` is a valid category code: `^[a-z][a-z0-9_]{1,31}$`.
pub fn valid_code(code: &str) -> bool {
    let b = code.as_bytes();
    (2..=32).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

const MAX_GUIDANCE: usize = 1000;

fn code_taken() -> Error {
    Error::conflict("category_code_taken", "a category with this code exists")
}

/// Creates a category and its first rate version (super administrators only).
#[tracing::instrument(skip(db, who, new), fields(actor = %who.user_id, code = %new.code))]
pub async fn create(
    db: &impl TransactionTrait,
    who: &Principal,
    new: NewCategory,
) -> Result<AdminCategoryView> {
    who.require_super_admin()?;
    let mut check = Check::new();
    check.ensure(
        valid_code(&new.code),
        "code",
        "invalid",
        "must match ^[a-z][a-z0-9_]{1,31}$",
    );
    let name = check.text("name", &new.name, 1, 64);
    let unit = Unit::parse(&new.unit);
    check.ensure(unit.is_some(), "unit", "invalid", "must be kg or piece");
    let guidance = check.text("guidance", &new.guidance, 0, MAX_GUIDANCE);
    let rate = check_rate(
        &mut check,
        new.points_per_unit,
        new.service_fee_fen_per_unit,
        new.effective_from,
        Utc::now(),
    );
    check.finish()?;
    let unit = unit.ok_or_else(|| Error::Internal(anyhow::anyhow!("unit checked above")))?;

    let txn = db.begin().await?;
    if category::Entity::find()
        .filter(category::Column::Code.eq(&new.code))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(code_taken());
    }
    let last: Option<i32> = category::Entity::find()
        .select_only()
        .column_as(category::Column::SortOrder.max(), "m")
        .into_tuple::<Option<i32>>()
        .one(&txn)
        .await?
        .flatten();
    let id = Uuid::now_v7();
    let cat = category::ActiveModel {
        id: Set(id),
        code: Set(new.code.clone()),
        name: Set(name),
        unit: Set(unit),
        needs_van: Set(new.needs_van),
        guidance: Set(guidance),
        active: Set(true),
        sort_order: Set(last.map_or(0, |m| m + 1)),
        created_at: Set(Utc::now()),
        device_daily_cap: Set(default_device_daily_cap(unit, &new.code)),
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        let e = Error::from(e);
        if e.is_unique_violation() {
            code_taken()
        } else {
            e
        }
    })?;
    let version = insert_version(&txn, id, &rate, who.user_id).await?;
    audit::record(
        &txn,
        Some(who.user_id),
        "category.create",
        "category",
        &id.to_string(),
        serde_json::json!({
            "code": cat.code,
            "name": cat.name,
            "unit": cat.unit.as_str(),
            "needs_van": cat.needs_van,
            "rate_id": version.id,
            "points_per_unit": version.points_per_unit,
            "service_fee_fen_per_unit": version.service_fee_fen_per_unit,
            "effective_from": version.effective_from,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(view(cat, &[version], Utc::now()))
}

/// Changes to a category. `code` and `unit` are not accepted (unknown fields are refused).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    /// New name.
    pub name: Option<String>,
    /// New guidance.
    pub guidance: Option<String>,
    /// Whether it needs a van (affects bookings made afterwards).
    pub needs_van: Option<bool>,
    /// `false` retires it from booking; `true` brings it back.
    pub active: Option<bool>,
    /// Most a smart device may credit one resident per day (grams, or pieces), 0 to
    /// 1000000; 0 stops device credits for the category.
    pub device_daily_cap: Option<i64>,
}

/// Largest daily device cap (a tonne, or a million pieces).
pub const MAX_DEVICE_DAILY_CAP: i64 = 1_000_000;

/// Edits a category (super administrators only).
#[tracing::instrument(skip(db, who, patch), fields(actor = %who.user_id))]
pub async fn update(
    db: &impl TransactionTrait,
    who: &Principal,
    id: Uuid,
    patch: CategoryPatch,
) -> Result<AdminCategoryView> {
    who.require_super_admin()?;
    let mut check = Check::new();
    let name = patch.name.as_deref().map(|n| check.text("name", n, 1, 64));
    let guidance = patch
        .guidance
        .as_deref()
        .map(|g| check.text("guidance", g, 0, MAX_GUIDANCE));
    if let Some(cap) = patch.device_daily_cap {
        check.ensure(
            (0..=MAX_DEVICE_DAILY_CAP).contains(&cap),
            "device_daily_cap",
            "out_of_range",
            format!("must be between 0 and {MAX_DEVICE_DAILY_CAP}"),
        );
    }
    check.finish()?;

    let txn = db.begin().await?;
    let cat = category::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound { what: "category" })?;
    let mut changed = crate::audit::Changes::default();
    let mut am: category::ActiveModel = cat.clone().into();
    if let Some(n) = changed.track("name", &cat.name, name) {
        am.name = Set(n);
    }
    if let Some(g) = changed.track("guidance", &cat.guidance, guidance) {
        am.guidance = Set(g);
    }
    if let Some(v) = changed.track("needs_van", &cat.needs_van, patch.needs_van) {
        am.needs_van = Set(v);
    }
    if let Some(a) = changed.track("active", &cat.active, patch.active) {
        am.active = Set(a);
    }
    if let Some(c) = changed.track(
        "device_daily_cap",
        &cat.device_daily_cap,
        patch.device_daily_cap,
    ) {
        am.device_daily_cap = Set(c);
    }
    let cat = if changed.is_empty() {
        cat
    } else {
        let cat = am.update(&txn).await?;
        audit::record(
            &txn,
            Some(who.user_id),
            "category.update",
            "category",
            &id.to_string(),
            changed.into_detail(),
        )
        .await?;
        cat
    };
    let versions = versions_of(&txn, Some(id))
        .await?
        .remove(&id)
        .unwrap_or_default();
    txn.commit().await?;
    Ok(view(cat, &versions, Utc::now()))
}

/// A new category's daily cap on device credits per resident: 20 kg, or 20 pieces, and 5 kg
/// of kitchen waste (a household's day, as the plan's metered incentive for kitchen waste
/// assumes).
pub fn default_device_daily_cap(unit: Unit, code: &str) -> i64 {
    match (unit, code) {
        (_, "kitchen_waste") => 5_000,
        (Unit::Piece, _) => 20,
        _ => 20_000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_short_lowercase_identifiers() {
        for ok in [
            "paper",
            "e_waste",
            "ab",
            "a1",
            "x_2_y",
            "abcdefghijklmnopqrstuvwxyz012345",
        ] {
            assert!(valid_code(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "Paper",
            "1paper",
            "_paper",
            "pa-per",
            "纸类",
            "abcdefghijklmnopqrstuvwxyz0123456",
        ] {
            assert!(!valid_code(bad), "{bad}");
        }
    }
}
