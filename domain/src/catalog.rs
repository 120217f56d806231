//! Reference data residents read: service districts with their communities, and the
//! recyclable catalogue with the rate in force now. Its administration lives in the
//! submodules: [`admin`] (categories), [`rates`] (versioned rates, [`rates::rate_at`]) and
//! [`areas`] (districts and communities).

pub mod admin;
pub mod areas;
pub mod rates;

pub use rates::rate_at;

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    entities::{category, category_rate, community, district},
    error::Result,
};

/// A community inside a district.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommunityView {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
}

/// A service district.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DistrictView {
    /// Administrative (or statistical) division code.
    pub code: String,
    /// Name.
    pub name: String,
    /// `district`, `county`, `county_level_city` or `development_zone`.
    pub kind: String,
    /// Whether door-to-door pickups are offered.
    pub served: bool,
    /// Its communities.
    pub communities: Vec<CommunityView>,
}

/// Every district with its communities, in the plan's order.
pub async fn districts(db: &impl ConnectionTrait) -> Result<Vec<DistrictView>> {
    let ds = district::Entity::find()
        .order_by_asc(district::Column::SortOrder)
        .all(db)
        .await?;
    let mut by_district: HashMap<String, Vec<CommunityView>> = HashMap::new();
    for c in community::Entity::find()
        .order_by_asc(community::Column::Name)
        .all(db)
        .await?
    {
        by_district
            .entry(c.district_code)
            .or_default()
            .push(CommunityView {
                id: c.id,
                name: c.name,
            });
    }
    Ok(ds
        .into_iter()
        .map(|d| DistrictView {
            communities: by_district.remove(&d.code).unwrap_or_default(),
            code: d.code,
            name: d.name,
            kind: d.kind,
            served: d.served,
        })
        .collect())
}

/// A recyclable category with the rate in force now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CategoryView {
    /// Id.
    pub id: Uuid,
    /// Stable code (`paper`, `e_waste` …) that devices and clients use.
    pub code: String,
    /// Name.
    pub name: String,
    /// `kg` or `piece`.
    pub unit: String,
    /// Points per unit under the rate in force now.
    pub points_per_unit: i32,
    /// Whether it needs a van.
    pub needs_van: bool,
    /// How to prepare it.
    pub guidance: String,
}

/// Active categories with the rate in force now.
pub async fn categories(db: &impl ConnectionTrait) -> Result<Vec<CategoryView>> {
    let now = Utc::now();
    let cats = category::Entity::find()
        .filter(category::Column::Active.eq(true))
        .order_by_asc(category::Column::SortOrder)
        .all(db)
        .await?;
    let rates = category_rate::Entity::find()
        .filter(category_rate::Column::EffectiveFrom.lte(now))
        .order_by_asc(category_rate::Column::EffectiveFrom)
        .all(db)
        .await?;
    let mut current: HashMap<Uuid, i32> = HashMap::new();
    for r in rates {
        current.insert(r.category_id, r.points_per_unit);
    }
    Ok(cats
        .into_iter()
        .map(|c| CategoryView {
            points_per_unit: current.get(&c.id).copied().unwrap_or(0),
            id: c.id,
            code: c.code,
            name: c.name,
            unit: c.unit.as_str().into(),
            needs_van: c.needs_van,
            guidance: c.guidance,
        })
        .collect())
}
