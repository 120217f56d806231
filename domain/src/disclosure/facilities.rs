//! Facilities the public can find: recycling stations, sorting centres, transfer stations,
//! kitchen-waste plants, construction-waste disposal centres and hazardous-waste collection
//! points. Administered per district (super administrators anywhere), every change audited;
//! public as a GeoJSON `FeatureCollection` (RFC 7946: `[lng, lat]`). Positions are GCJ-02,
//! as every position in Wufei; a map that draws them must use GCJ-02 tiles.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    audit,
    auth::{Principal, Role},
    catalog::areas::{check_place, known_district},
    entities::facility::{self, Kind},
    error::{Error, Result},
    validate::Check,
};

/// A facility as administrators see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FacilityView {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: Kind,
    /// District.
    pub district_code: String,
    /// Address.
    pub address: String,
    /// Latitude, GCJ-02.
    pub lat: f64,
    /// Longitude, GCJ-02.
    pub lng: f64,
    /// Capacity, tonnes a day.
    #[serde(rename = "capacity")]
    pub capacity_t_per_day: Option<f64>,
    /// Opening hours as written (`08:00–18:00`).
    pub opening_hours: String,
    /// Who runs it.
    pub operator: String,
    /// Shown to the public.
    pub active: bool,
}

impl From<facility::Model> for FacilityView {
    fn from(f: facility::Model) -> Self {
        Self {
            id: f.id,
            name: f.name,
            kind: f.kind,
            district_code: f.district_code,
            address: f.address,
            lat: f.lat,
            lng: f.lng,
            capacity_t_per_day: f.capacity_t_per_day,
            opening_hours: f.opening_hours,
            operator: f.operator,
            active: f.active,
        }
    }
}

/// A GeoJSON point.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Point {
    /// `Point`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `[lng, lat]` (RFC 7946 order), GCJ-02.
    pub coordinates: [f64; 2],
}

/// A GeoJSON feature: one facility.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Feature {
    /// `Feature`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The facility's id.
    pub id: Uuid,
    /// Where it is.
    pub geometry: Point,
    /// What it is.
    pub properties: FacilityView,
}

/// A GeoJSON `FeatureCollection` of facilities.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeatureCollection {
    /// `FeatureCollection`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The facilities.
    pub features: Vec<Feature>,
}

/// Filters of the public map.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct FacilityFilter {
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Only this district.
    pub district_code: Option<String>,
}

/// The active facilities as GeoJSON.
pub async fn map(db: &impl ConnectionTrait, filter: &FacilityFilter) -> Result<FeatureCollection> {
    let mut q = facility::Entity::find()
        .filter(facility::Column::Active.eq(true))
        .order_by_asc(facility::Column::Id);
    if let Some(k) = filter.kind {
        q = q.filter(facility::Column::Kind.eq(k));
    }
    if let Some(d) = &filter.district_code {
        q = q.filter(facility::Column::DistrictCode.eq(d.as_str()));
    }
    Ok(FeatureCollection {
        kind: "FeatureCollection",
        features: q
            .all(db)
            .await?
            .into_iter()
            .map(|f| Feature {
                kind: "Feature",
                id: f.id,
                geometry: Point {
                    kind: "Point",
                    coordinates: [f.lng, f.lat],
                },
                properties: f.into(),
            })
            .collect(),
    })
}

/// A facility to create.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacilityInput {
    /// Name, 2–128 characters.
    pub name: String,
    /// Kind.
    pub kind: Kind,
    /// District (district administrators: their own).
    pub district_code: String,
    /// Address, 1–256 characters.
    pub address: String,
    /// Latitude, GCJ-02, inside the service region.
    pub lat: f64,
    /// Longitude, GCJ-02, inside the service region.
    pub lng: f64,
    /// Capacity, tonnes a day (0 to 100 000).
    #[serde(rename = "capacity")]
    pub capacity_t_per_day: Option<f64>,
    /// Opening hours, up to 128 characters.
    #[serde(default)]
    pub opening_hours: String,
    /// Operator, up to 128 characters.
    #[serde(default)]
    pub operator: String,
    /// Shown to the public (default true).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

async fn checked(
    db: &impl ConnectionTrait,
    who: &Principal,
    f: &FacilityInput,
) -> Result<(String, String, String, String)> {
    who.require_role(&[Role::Admin])?;
    who.require_district(&f.district_code)?;
    let mut check = Check::new();
    let name = check.text("name", &f.name, 2, 128);
    let address = check.text("address", &f.address, 1, 256);
    let hours = check.text("opening_hours", &f.opening_hours, 0, 128);
    let operator = check.text("operator", &f.operator, 0, 128);
    check_place(&mut check, "location", f.lat, f.lng);
    if let Some(c) = f.capacity_t_per_day {
        check.ensure(
            c.is_finite() && (0.0..=100_000.0).contains(&c),
            "capacity",
            "out_of_range",
            "must be between 0 and 100 000",
        );
    }
    check.finish()?;
    known_district(db, "district_code", &f.district_code).await?;
    Ok((name, address, hours, operator))
}

/// Creates a facility. Audited.
pub async fn create(
    db: &impl ConnectionTrait,
    who: &Principal,
    f: FacilityInput,
) -> Result<FacilityView> {
    let (name, address, hours, operator) = checked(db, who, &f).await?;
    let now = Utc::now();
    let row = facility::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        kind: Set(f.kind),
        district_code: Set(f.district_code),
        address: Set(address),
        lat: Set(f.lat),
        lng: Set(f.lng),
        capacity_t_per_day: Set(f.capacity_t_per_day),
        opening_hours: Set(hours),
        operator: Set(operator),
        active: Set(f.active),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    audit::record(db, Some(who.user_id), "facility.create", "facility", &row.id.to_string(), serde_json::json!({ "name": row.name, "kind": row.kind, "district_code": row.district_code })).await?;
    Ok(row.into())
}

/// A change to a facility: the fields given replace the current ones.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacilityPatch {
    /// Name, 2–128 characters.
    pub name: Option<String>,
    /// Kind.
    pub kind: Option<Kind>,
    /// District (district administrators: their own).
    pub district_code: Option<String>,
    /// Address, 1–256 characters.
    pub address: Option<String>,
    /// Latitude, GCJ-02, inside the service region.
    pub lat: Option<f64>,
    /// Longitude, GCJ-02, inside the service region.
    pub lng: Option<f64>,
    /// Capacity, tonnes a day (0 to 100 000).
    pub capacity: Option<f64>,
    /// Opening hours, up to 128 characters.
    pub opening_hours: Option<String>,
    /// Operator, up to 128 characters.
    pub operator: Option<String>,
    /// Shown to the public.
    pub active: Option<bool>,
}

/// The facilities of the administrator's district (super administrators: all), hidden ones
/// too, by name.
pub async fn list_for_admin(
    db: &impl ConnectionTrait,
    who: &Principal,
) -> Result<Vec<FacilityView>> {
    who.require_role(&[Role::Admin])?;
    let mut q = facility::Entity::find().order_by_asc(facility::Column::Name);
    if !who.is_super_admin() {
        q = q.filter(facility::Column::DistrictCode.eq(who.district_code.clone()));
    }
    Ok(q.all(db).await?.into_iter().map(Into::into).collect())
}

/// Changes a facility of the administrator's district (404 for another's); the result is
/// checked as a new one would be. Audited.
pub async fn update(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: Uuid,
    patch: FacilityPatch,
) -> Result<FacilityView> {
    who.require_role(&[Role::Admin])?;
    let current = facility::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|c| who.may_administer_district(&c.district_code))
        .ok_or(Error::NotFound { what: "facility" })?;
    let f = FacilityInput {
        name: patch.name.unwrap_or_else(|| current.name.clone()),
        kind: patch.kind.unwrap_or(current.kind),
        district_code: patch
            .district_code
            .unwrap_or_else(|| current.district_code.clone()),
        address: patch.address.unwrap_or_else(|| current.address.clone()),
        lat: patch.lat.unwrap_or(current.lat),
        lng: patch.lng.unwrap_or(current.lng),
        capacity_t_per_day: patch.capacity.or(current.capacity_t_per_day),
        opening_hours: patch
            .opening_hours
            .unwrap_or_else(|| current.opening_hours.clone()),
        operator: patch.operator.unwrap_or_else(|| current.operator.clone()),
        active: patch.active.unwrap_or(current.active),
    };
    let (name, address, hours, operator) = checked(db, who, &f).await?;
    let mut row: facility::ActiveModel = current.into();
    row.name = Set(name);
    row.kind = Set(f.kind);
    row.district_code = Set(f.district_code);
    row.address = Set(address);
    row.lat = Set(f.lat);
    row.lng = Set(f.lng);
    row.capacity_t_per_day = Set(f.capacity_t_per_day);
    row.opening_hours = Set(hours);
    row.operator = Set(operator);
    row.active = Set(f.active);
    row.updated_at = Set(Utc::now());
    let row = row.update(db).await?;
    audit::record(
        db,
        Some(who.user_id),
        "facility.update",
        "facility",
        &id.to_string(),
        serde_json::json!({ "name": row.name, "active": row.active }),
    )
    .await?;
    Ok(row.into())
}
