//! A resident's saved addresses. Coordinates are GCJ-02 as WeChat gives them and must fall
//! inside the service region; the district must be one we serve. A deleted address stays in
//! the table (pickups booked from it keep a snapshot anyway) but is never shown or used.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    auth::{Principal, users::normalize_phone},
    entities::{address, community, district},
    error::{Error, FieldError, Result},
};

/// The service region (Liaocheng and its surroundings), GCJ-02 degrees.
pub const REGION_LAT: (f64, f64) = (35.6, 37.1);
/// The service region's longitudes.
pub const REGION_LNG: (f64, f64) = (115.1, 116.8);

/// The most addresses one resident may keep.
pub const MAX_ADDRESSES: u64 = 20;

/// A new or replaced address.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    /// `家`, `公司` …, up to 32 characters.
    pub label: String,
    /// Who opens the door.
    pub contact_name: String,
    /// Their mobile number.
    pub contact_phone: String,
    /// District code (see `GET /v1/districts`).
    pub district_code: String,
    /// Community (小区) name.
    pub community: String,
    /// Building, unit, room.
    pub detail: String,
    /// GCJ-02 latitude.
    pub lat: f64,
    /// GCJ-02 longitude.
    pub lng: f64,
}

/// A partial change.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressPatch {
    /// Label.
    pub label: Option<String>,
    /// Contact name.
    pub contact_name: Option<String>,
    /// Contact phone.
    pub contact_phone: Option<String>,
    /// District code.
    pub district_code: Option<String>,
    /// Community name.
    pub community: Option<String>,
    /// Detail.
    pub detail: Option<String>,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub lng: Option<f64>,
}

/// An address as clients see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AddressView {
    /// Id.
    pub id: Uuid,
    /// Label.
    pub label: String,
    /// Contact name.
    pub contact_name: String,
    /// Contact phone.
    pub contact_phone: String,
    /// District code.
    pub district_code: String,
    /// Community name.
    pub community: String,
    /// The registered community it matched, if any (its slots take precedence).
    pub community_id: Option<Uuid>,
    /// Detail.
    pub detail: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lng: f64,
}

impl From<address::Model> for AddressView {
    fn from(a: address::Model) -> Self {
        Self {
            id: a.id,
            label: a.label,
            contact_name: a.contact_name,
            contact_phone: a.contact_phone,
            district_code: a.district_code,
            community: a.community,
            community_id: a.community_id,
            detail: a.detail,
            lat: a.lat,
            lng: a.lng,
        }
    }
}

fn text(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize) {
    let n = value.trim().chars().count();
    if n == 0 || n > max {
        errors.push(FieldError::new(
            field,
            "invalid_length",
            format!("must be 1 to {max} characters"),
        ));
    }
}

async fn validate(db: &impl ConnectionTrait, a: &AddressInput) -> Result<(String, Option<Uuid>)> {
    let mut errors = Vec::new();
    text(&mut errors, "label", &a.label, 32);
    text(&mut errors, "contact_name", &a.contact_name, 64);
    text(&mut errors, "community", &a.community, 128);
    text(&mut errors, "detail", &a.detail, 256);
    let phone = match normalize_phone(&a.contact_phone) {
        Ok(p) => p,
        Err(_) => {
            errors.push(FieldError::new(
                "contact_phone",
                "invalid",
                "must be an 11-digit mainland mobile number",
            ));
            String::new()
        }
    };
    if !(a.lat.is_finite() && (REGION_LAT.0..=REGION_LAT.1).contains(&a.lat)) {
        errors.push(FieldError::new(
            "lat",
            "outside_service_region",
            "the location is outside the service region",
        ));
    }
    if !(a.lng.is_finite() && (REGION_LNG.0..=REGION_LNG.1).contains(&a.lng)) {
        errors.push(FieldError::new(
            "lng",
            "outside_service_region",
            "the location is outside the service region",
        ));
    }
    match district::Entity::find_by_id(a.district_code.clone())
        .one(db)
        .await?
    {
        Some(d) if d.served => {}
        Some(_) => errors.push(FieldError::new(
            "district_code",
            "not_served",
            "door-to-door pickups are not offered in this district yet",
        )),
        None => errors.push(FieldError::new(
            "district_code",
            "unknown",
            "no such district",
        )),
    }
    if !errors.is_empty() {
        return Err(Error::Validation {
            message: "the address is not valid".into(),
            fields: errors,
        });
    }
    let community_id = community::Entity::find()
        .filter(community::Column::DistrictCode.eq(a.district_code.as_str()))
        .filter(community::Column::Name.eq(a.community.trim()))
        .one(db)
        .await?
        .map(|c| c.id);
    Ok((phone, community_id))
}

/// The caller's addresses, newest first.
pub async fn list(db: &impl ConnectionTrait, who: &Principal) -> Result<Vec<AddressView>> {
    Ok(address::Entity::find()
        .filter(address::Column::UserId.eq(who.user_id))
        .filter(address::Column::Deleted.eq(false))
        .order_by_desc(address::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// One of the caller's addresses (404 for anyone else's).
pub async fn own(db: &impl ConnectionTrait, who: &Principal, id: Uuid) -> Result<address::Model> {
    owned(address::Entity::find_by_id(id).one(db).await?, who)
}

/// `found`, if it is the caller's and not deleted (404 otherwise: another resident's
/// address is not told apart from a missing one).
pub fn owned(found: Option<address::Model>, who: &Principal) -> Result<address::Model> {
    found
        .filter(|a| a.user_id == who.user_id && !a.deleted)
        .ok_or(Error::NotFound { what: "address" })
}

/// Saves a new address.
pub async fn create(
    db: &impl ConnectionTrait,
    who: &Principal,
    input: AddressInput,
) -> Result<AddressView> {
    use sea_orm::PaginatorTrait;
    let (phone, community_id) = validate(db, &input).await?;
    let count = address::Entity::find()
        .filter(address::Column::UserId.eq(who.user_id))
        .filter(address::Column::Deleted.eq(false))
        .count(db)
        .await?;
    if count >= MAX_ADDRESSES {
        return Err(Error::Unprocessable {
            code: "too_many_addresses",
            message: format!("at most {MAX_ADDRESSES} addresses; delete one first"),
        });
    }
    let now = Utc::now();
    let saved = address::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(who.user_id),
        label: Set(input.label.trim().into()),
        contact_name: Set(input.contact_name.trim().into()),
        contact_phone: Set(phone),
        district_code: Set(input.district_code),
        community: Set(input.community.trim().into()),
        community_id: Set(community_id),
        detail: Set(input.detail.trim().into()),
        lat: Set(input.lat),
        lng: Set(input.lng),
        deleted: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(saved.into())
}

/// Changes one of the caller's addresses.
pub async fn update(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: Uuid,
    patch: AddressPatch,
) -> Result<AddressView> {
    let current = own(db, who, id).await?;
    let merged = AddressInput {
        label: patch.label.unwrap_or(current.label.clone()),
        contact_name: patch.contact_name.unwrap_or(current.contact_name.clone()),
        contact_phone: patch.contact_phone.unwrap_or(current.contact_phone.clone()),
        district_code: patch.district_code.unwrap_or(current.district_code.clone()),
        community: patch.community.unwrap_or(current.community.clone()),
        detail: patch.detail.unwrap_or(current.detail.clone()),
        lat: patch.lat.unwrap_or(current.lat),
        lng: patch.lng.unwrap_or(current.lng),
    };
    let (phone, community_id) = validate(db, &merged).await?;
    let mut a: address::ActiveModel = current.into();
    a.label = Set(merged.label.trim().into());
    a.contact_name = Set(merged.contact_name.trim().into());
    a.contact_phone = Set(phone);
    a.district_code = Set(merged.district_code);
    a.community = Set(merged.community.trim().into());
    a.community_id = Set(community_id);
    a.detail = Set(merged.detail.trim().into());
    a.lat = Set(merged.lat);
    a.lng = Set(merged.lng);
    a.updated_at = Set(Utc::now());
    Ok(a.update(db).await?.into())
}

/// Deletes one of the caller's addresses.
pub async fn delete(db: &impl ConnectionTrait, who: &Principal, id: Uuid) -> Result<()> {
    let current = own(db, who, id).await?;
    let mut a: address::ActiveModel = current.into();
    a.deleted = Set(true);
    a.updated_at = Set(Utc::now());
    a.update(db).await?;
    Ok(())
}
