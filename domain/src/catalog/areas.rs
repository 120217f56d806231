//! Service areas: a district's dispatch mode and whether it is served, and its communities.
//! Super administrators act on every district, district administrators on their own; every
//! write is audited in its transaction. Districts themselves are reference data (seeded from
//! the city plan) and are never created or deleted here.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionSession,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    audit,
    auth::{Principal, Role},
    entities::{
        community,
        district::{self, DispatchMode},
    },
    error::{Error, Result},
    validate::Check,
};

/// 422 on `field` unless `code` is a district Wufei serves.
pub(crate) async fn known_district(
    db: &impl sea_orm::ConnectionTrait,
    field: &str,
    code: &str,
) -> Result<()> {
    match district::Entity::find_by_id(code.to_string())
        .one(db)
        .await?
    {
        Some(d) if d.served => Ok(()),
        _ => Err(Error::field(
            field,
            "unknown",
            "not a district Wufei serves",
        )),
    }
}

/// Checks that (`lat`, `lng`) lies in the service region, naming `field.lat` and
/// `field.lng` (the district is checked with the database, by [`known_district`]).
pub(crate) fn check_place(check: &mut Check, field: &str, lat: f64, lng: f64) {
    use crate::pickups::addresses::{REGION_LAT, REGION_LNG};
    check.ensure(
        lat.is_finite() && (REGION_LAT.0..=REGION_LAT.1).contains(&lat),
        format!("{field}.lat"),
        "outside_service_region",
        "the location is outside the service region",
    );
    check.ensure(
        lng.is_finite() && (REGION_LNG.0..=REGION_LNG.1).contains(&lng),
        format!("{field}.lng"),
        "outside_service_region",
        "the location is outside the service region",
    );
}

/// A district as administrators see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdminDistrictView {
    /// Administrative (or statistical) division code.
    pub code: String,
    /// Name.
    pub name: String,
    /// `district`, `county`, `county_level_city` or `development_zone`.
    pub kind: String,
    /// `assign` (offer to the best recycler, then the next) or `broadcast` (offer to the top
    /// few; first accept wins).
    pub dispatch_mode: String,
    /// Whether door-to-door pickups are offered (no slots are generated or shown otherwise).
    pub served: bool,
}

impl From<district::Model> for AdminDistrictView {
    fn from(d: district::Model) -> Self {
        Self {
            code: d.code,
            name: d.name,
            kind: d.kind,
            dispatch_mode: d.dispatch_mode.as_str().into(),
            served: d.served,
        }
    }
}

/// Changes to a district.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DistrictPatch {
    /// `assign` or `broadcast`.
    pub dispatch_mode: Option<String>,
    /// Whether door-to-door pickups are offered.
    pub served: Option<bool>,
}

/// Changes a district's dispatch mode or service (its own administrator or a super
/// administrator).
#[tracing::instrument(skip(db, who, patch), fields(actor = %who.user_id))]
pub async fn update_district(
    db: &impl TransactionTrait,
    who: &Principal,
    code: &str,
    patch: DistrictPatch,
) -> Result<AdminDistrictView> {
    who.require_role(&[Role::Admin])?;
    who.require_district(code)?;
    let mut check = Check::new();
    let mode = patch.dispatch_mode.as_deref().map(DispatchMode::parse);
    if let Some(mode) = mode {
        check.ensure(
            mode.is_some(),
            "dispatch_mode",
            "invalid",
            "must be assign or broadcast",
        );
    }
    check.finish()?;
    let txn = db.begin().await?;
    let d = district::Entity::find_by_id(code.to_string())
        .one(&txn)
        .await?
        .ok_or(Error::NotFound { what: "district" })?;
    let mut changed = crate::audit::Changes::default();
    let mut am: district::ActiveModel = d.clone().into();
    if let Some(m) = changed.track("dispatch_mode", &d.dispatch_mode, mode.flatten()) {
        am.dispatch_mode = Set(m);
    }
    if let Some(s) = changed.track("served", &d.served, patch.served) {
        am.served = Set(s);
    }
    let d = if changed.is_empty() {
        d
    } else {
        let d = am.update(&txn).await?;
        audit::record(
            &txn,
            Some(who.user_id),
            "district.update",
            "district",
            code,
            changed.into_detail(),
        )
        .await?;
        d
    };
    txn.commit().await?;
    Ok(d.into())
}

/// A community as administrators see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdminCommunityView {
    /// Id.
    pub id: Uuid,
    /// Its district.
    pub district_code: String,
    /// Name, unique within the district.
    pub name: String,
    /// Latitude (GCJ-02), if known.
    pub lat: Option<f64>,
    /// Longitude (GCJ-02), if known.
    pub lng: Option<f64>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// A new community.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommunity {
    /// The district it belongs to.
    pub district_code: String,
    /// Name (1–128 characters), unique within the district.
    pub name: String,
    /// Latitude (GCJ-02); give both or neither.
    pub lat: Option<f64>,
    /// Longitude (GCJ-02); give both or neither.
    pub lng: Option<f64>,
}

fn community_taken() -> Error {
    Error::conflict(
        "community_name_taken",
        "the district already has a community with this name",
    )
}

/// Adds a community to a district (its own administrator or a super administrator).
#[tracing::instrument(skip(db, who, new), fields(actor = %who.user_id, district = %new.district_code))]
pub async fn create_community(
    db: &impl TransactionTrait,
    who: &Principal,
    new: NewCommunity,
) -> Result<AdminCommunityView> {
    who.require_role(&[Role::Admin])?;
    who.require_district(&new.district_code)?;
    let mut check = Check::new();
    let name = check.text("name", &new.name, 1, 128);
    check.ensure(
        new.lat.is_some() == new.lng.is_some(),
        "lat",
        "invalid",
        "give lat and lng together",
    );
    if let Some(lat) = new.lat {
        check.ensure(
            (-90.0..=90.0).contains(&lat),
            "lat",
            "out_of_range",
            "must be within ±90",
        );
    }
    if let Some(lng) = new.lng {
        check.ensure(
            (-180.0..=180.0).contains(&lng),
            "lng",
            "out_of_range",
            "must be within ±180",
        );
    }
    check.finish()?;
    let txn = db.begin().await?;
    if district::Entity::find_by_id(new.district_code.clone())
        .one(&txn)
        .await?
        .is_none()
    {
        return Err(Error::field("district_code", "unknown", "no such district"));
    }
    if community::Entity::find()
        .filter(community::Column::DistrictCode.eq(&new.district_code))
        .filter(community::Column::Name.eq(&name))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(community_taken());
    }
    let c = community::ActiveModel {
        id: Set(Uuid::now_v7()),
        district_code: Set(new.district_code.clone()),
        name: Set(name),
        lat: Set(new.lat),
        lng: Set(new.lng),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        let e = Error::from(e);
        if e.is_unique_violation() {
            community_taken()
        } else {
            e
        }
    })?;
    audit::record(
        &txn,
        Some(who.user_id),
        "community.create",
        "community",
        &c.id.to_string(),
        serde_json::json!({ "district_code": c.district_code, "name": c.name, "lat": c.lat, "lng": c.lng }),
    )
    .await?;
    txn.commit().await?;
    Ok(AdminCommunityView {
        id: c.id,
        district_code: c.district_code,
        name: c.name,
        lat: c.lat,
        lng: c.lng,
        created_at: c.created_at,
    })
}
