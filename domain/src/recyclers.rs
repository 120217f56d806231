//! Recyclers: applications with a private ID photo, review by administrators, shifts and
//! location heartbeats (kept in the geo index, never in the database: they are many and
//! only the latest matters).

use std::time::Duration;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    audit,
    auth::{
        Principal, Role, passwords,
        users::{self, NewStaff},
    },
    entities::{
        district,
        recycler::{self, Status, Vehicle},
        recycler_district, upload, user,
    },
    error::{Error, FieldError, Result},
    paging::{Page, PageRequest},
    ports::geo::{GeoIndex, Position},
};

/// An application to become a recycler.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationInput {
    /// Full name as on the ID card.
    pub name: String,
    /// Mobile number; becomes the login name.
    pub phone: String,
    /// Password for the recycler app.
    pub password: String,
    /// The caller's upload with purpose `id_photo` (may be added later with PATCH).
    pub id_photo_id: Option<Uuid>,
    /// `tricycle` or `van`.
    pub vehicle: String,
    /// Districts the applicant will serve.
    pub district_codes: Vec<String>,
}

/// Changes to a pending application.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationPatch {
    /// Name.
    pub name: Option<String>,
    /// ID photo upload.
    pub id_photo_id: Option<Uuid>,
    /// Vehicle.
    pub vehicle: Option<String>,
    /// Districts.
    pub district_codes: Option<Vec<String>>,
}

/// An application or recycler profile.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecyclerView {
    /// The recycler's user id (also the application id).
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// `pending`, `approved`, `rejected` or `suspended`.
    pub status: String,
    /// Why rejected or suspended.
    pub review_reason: Option<String>,
    /// ID photo upload (private: owner and administrators).
    pub id_photo_id: Option<Uuid>,
    /// Vehicle.
    pub vehicle: String,
    /// Districts served.
    pub district_codes: Vec<String>,
    /// On shift now.
    pub on_shift: bool,
    /// Pickups per slot.
    pub slot_capacity: i32,
    /// Average rating.
    pub rating: Option<f64>,
    /// Ratings received.
    pub rating_count: i32,
    /// Complaints received.
    pub complaints: i32,
    /// Applied at.
    pub created_at: chrono::DateTime<Utc>,
}

async fn view(db: &impl ConnectionTrait, r: recycler::Model) -> Result<RecyclerView> {
    let districts = recycler_district::Entity::find()
        .filter(recycler_district::Column::RecyclerId.eq(r.user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.district_code)
        .collect();
    Ok(RecyclerView {
        id: r.user_id,
        name: r.name,
        phone: r.phone,
        status: r.status.as_str().into(),
        review_reason: r.review_reason,
        id_photo_id: r.id_photo_id,
        vehicle: r.vehicle.as_str().into(),
        district_codes: districts,
        on_shift: r.on_shift,
        slot_capacity: r.slot_capacity,
        rating: (r.rating_count > 0).then(|| f64::from(r.rating_sum) / f64::from(r.rating_count)),
        rating_count: r.rating_count,
        complaints: r.complaints,
        created_at: r.created_at,
    })
}

/// Checks an application; answers its vehicle (`None`: a name that is not a vehicle).
async fn validate(
    db: &impl ConnectionTrait,
    owner: Uuid,
    name: &str,
    vehicle: Option<Vehicle>,
    districts: &[String],
    photo: Option<Uuid>,
) -> Result<Vehicle> {
    let mut errors = Vec::new();
    let n = name.trim().chars().count();
    if n == 0 || n > 32 {
        errors.push(FieldError::new(
            "name",
            "invalid_length",
            "must be 1 to 32 characters",
        ));
    }
    if vehicle.is_none() {
        errors.push(FieldError::new(
            "vehicle",
            "invalid",
            "must be tricycle or van",
        ));
    }
    if districts.is_empty() || districts.len() > 11 {
        errors.push(FieldError::new(
            "district_codes",
            "invalid",
            "name 1 to 11 districts",
        ));
    } else {
        let known = district::Entity::find()
            .filter(district::Column::Code.is_in(districts.iter().cloned()))
            .all(db)
            .await?
            .len();
        let unique: std::collections::HashSet<_> = districts.iter().collect();
        if known != unique.len() {
            errors.push(FieldError::new(
                "district_codes",
                "unknown",
                "every code must be a district",
            ));
        }
    }
    if let Some(id) = photo {
        let ok = upload::Entity::find_by_id(id)
            .one(db)
            .await?
            .is_some_and(|u| u.owner_id == owner && u.purpose == upload::Purpose::IdPhoto);
        if !ok {
            errors.push(FieldError::new(
                "id_photo_id",
                "unknown",
                "must be your own upload with purpose id_photo",
            ));
        }
    }
    match vehicle {
        Some(v) if errors.is_empty() => Ok(v),
        _ => Err(Error::Validation {
            message: "the application is not valid".into(),
            fields: errors,
        }),
    }
}

async fn set_districts(
    db: &impl ConnectionTrait,
    recycler_id: Uuid,
    codes: &[String],
) -> Result<()> {
    recycler_district::Entity::delete_many()
        .filter(recycler_district::Column::RecyclerId.eq(recycler_id))
        .exec(db)
        .await?;
    let unique: std::collections::BTreeSet<_> = codes.iter().collect();
    for code in unique {
        recycler_district::ActiveModel {
            recycler_id: Set(recycler_id),
            district_code: Set(code.clone()),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// What applying answers: the application, and a session when a fresh account was created.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Applied {
    /// The application.
    pub application: RecyclerView,
    /// The new account's user id when the application created one (log in with the phone
    /// and password to upload the ID photo).
    pub created_account: Option<Uuid>,
}

/// Applies to become a recycler: a signed-in resident applies for their own account (which
/// gains the phone and password), or, signed out, a fresh account is created.
#[tracing::instrument(skip_all)]
pub async fn apply(
    db: &DatabaseConnection,
    who: Option<&Principal>,
    input: ApplicationInput,
) -> Result<Applied> {
    let phone = users::normalize_phone(&input.phone)?;
    passwords::validate_new(&input.password)?;
    let txn = db.begin().await?;
    let (user_id, created) = match who {
        Some(p) => {
            p.require_role(&[Role::Resident])?;
            if recycler::Entity::find_by_id(p.user_id)
                .one(&txn)
                .await?
                .is_some_and(|r| r.status != Status::Rejected)
            {
                return Err(Error::conflict(
                    "already_applied",
                    "you have applied already",
                ));
            }
            if let Some(other) = users::find_by_phone(&txn, &phone).await?
                && other.id != p.user_id
            {
                return Err(Error::conflict(
                    "phone_taken",
                    "an account with this phone already exists",
                ));
            }
            let hash = passwords::hash(input.password.clone()).await?;
            let u = user::Entity::find_by_id(p.user_id)
                .one(&txn)
                .await?
                .ok_or(Error::NotFound { what: "user" })?;
            let mut u: user::ActiveModel = u.into();
            u.phone = Set(Some(phone.clone()));
            u.password_hash = Set(Some(hash));
            u.updated_at = Set(Utc::now());
            u.update(&txn).await.map_err(|e| {
                if crate::db::is_unique_violation(&e) {
                    Error::conflict("phone_taken", "an account with this phone already exists")
                } else {
                    e.into()
                }
            })?;
            (p.user_id, None)
        }
        None => {
            let u = users::create_staff(
                &txn,
                NewStaff {
                    phone: phone.clone(),
                    password: input.password.clone(),
                    role: Role::Resident,
                    admin_scope: None,
                    district_code: None,
                    nickname: input.name.trim().into(),
                },
            )
            .await?;
            (u.id, Some(u.id))
        }
    };
    let vehicle = validate(
        &txn,
        user_id,
        &input.name,
        Vehicle::parse(&input.vehicle),
        &input.district_codes,
        input.id_photo_id,
    )
    .await?;
    recycler::Entity::delete_many()
        .filter(recycler::Column::UserId.eq(user_id))
        .filter(recycler::Column::Status.eq(Status::Rejected))
        .exec(&txn)
        .await?;
    let now = Utc::now();
    let r = recycler::ActiveModel {
        user_id: Set(user_id),
        name: Set(input.name.trim().into()),
        phone: Set(phone),
        id_photo_id: Set(input.id_photo_id),
        vehicle: Set(vehicle),
        status: Set(Status::Pending),
        review_reason: Set(None),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        on_shift: Set(false),
        slot_capacity: Set(4),
        rating_sum: Set(0),
        rating_count: Set(0),
        complaints: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    set_districts(&txn, user_id, &input.district_codes).await?;
    let application = view(&txn, r).await?;
    txn.commit().await?;
    Ok(Applied {
        application,
        created_account: created,
    })
}

/// The caller's application or recycler profile.
pub async fn mine(db: &impl ConnectionTrait, who: &Principal) -> Result<RecyclerView> {
    let r = recycler::Entity::find_by_id(who.user_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            what: "application",
        })?;
    view(db, r).await
}

/// Changes the caller's pending application.
pub async fn amend(
    db: &DatabaseConnection,
    who: &Principal,
    patch: ApplicationPatch,
) -> Result<RecyclerView> {
    let txn = db.begin().await?;
    let r = recycler::Entity::find_by_id(who.user_id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound {
            what: "application",
        })?;
    if r.status != Status::Pending {
        return Err(Error::conflict(
            "application_closed",
            "only a pending application can be changed",
        ));
    }
    let current = view(&txn, r.clone()).await?;
    let name = patch.name.unwrap_or(r.name.clone());
    let vehicle = patch
        .vehicle
        .as_deref()
        .map_or(Some(r.vehicle), Vehicle::parse);
    let districts = patch.district_codes.unwrap_or(current.district_codes);
    let photo = patch.id_photo_id.or(r.id_photo_id);
    let vehicle = validate(&txn, who.user_id, &name, vehicle, &districts, photo).await?;
    let mut a: recycler::ActiveModel = r.into();
    a.name = Set(name.trim().into());
    a.vehicle = Set(vehicle);
    a.id_photo_id = Set(photo);
    a.updated_at = Set(Utc::now());
    let r = a.update(&txn).await?;
    set_districts(&txn, who.user_id, &districts).await?;
    let v = view(&txn, r).await?;
    txn.commit().await?;
    Ok(v)
}

/// Applications for administrators, newest first; district administrators see those
/// naming their district.
pub async fn list_for_admin(
    db: &impl ConnectionTrait,
    who: &Principal,
    status: Option<&str>,
    page: PageRequest,
) -> Result<Page<RecyclerView>> {
    who.require_role(&[Role::Admin])?;
    let mut q = recycler::Entity::find()
        .order_by_desc(recycler::Column::UserId)
        .limit(page.limit + 1);
    if let Some(s) = status {
        let s = Status::parse(s).ok_or_else(|| {
            Error::field(
                "status",
                "invalid",
                "pending, approved, rejected or suspended",
            )
        })?;
        q = q.filter(recycler::Column::Status.eq(s));
    }
    if !who.is_super_admin() {
        let own = who.district_code.clone().unwrap_or_default();
        let ids: Vec<Uuid> = recycler_district::Entity::find()
            .filter(recycler_district::Column::DistrictCode.eq(own))
            .all(db)
            .await?
            .into_iter()
            .map(|d| d.recycler_id)
            .collect();
        q = q.filter(recycler::Column::UserId.is_in(ids));
    }
    if let Some(b) = page.before {
        q = q.filter(recycler::Column::UserId.lt(b));
    }
    let rows = q.all(db).await?;
    let more = rows.len() as u64 > page.limit;
    let mut items = Vec::new();
    for r in rows.into_iter().take(page.limit as usize) {
        items.push(view(db, r).await?);
    }
    let next_cursor = if more {
        items.last().map(|v| v.id.to_string())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// An administrator's decision.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// Why (required to reject).
    pub reason: Option<String>,
    /// Pickups per slot (approval; default 4).
    pub slot_capacity: Option<i32>,
}

/// Approves or rejects a pending application. Approval makes the account a recycler (its
/// next token refresh carries the role) and needs the ID photo.
#[tracing::instrument(skip_all, fields(user_id = %who.user_id, recycler_id = %id, approve))]
pub async fn review(
    db: &DatabaseConnection,
    who: &Principal,
    id: Uuid,
    approve: bool,
    input: ReviewInput,
) -> Result<RecyclerView> {
    who.require_role(&[Role::Admin])?;
    let txn = db.begin().await?;
    let r = recycler::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound {
            what: "application",
        })?;
    if !who.is_super_admin() {
        let districts = view(&txn, r.clone()).await?.district_codes;
        if !districts.iter().any(|d| who.may_administer_district(d)) {
            return Err(Error::NotFound {
                what: "application",
            });
        }
    }
    let reason = input
        .reason
        .map(|r| r.trim().chars().take(200).collect::<String>())
        .filter(|r| !r.is_empty());
    if !approve && reason.is_none() {
        return Err(Error::field(
            "reason",
            "required",
            "say why the application is rejected",
        ));
    }
    if approve && r.id_photo_id.is_none() {
        return Err(Error::Unprocessable {
            code: "id_photo_missing",
            message: "the applicant has not uploaded an ID photo".into(),
        });
    }
    let capacity = input.slot_capacity.unwrap_or(4);
    if !(1..=20).contains(&capacity) {
        return Err(Error::field(
            "slot_capacity",
            "out_of_range",
            "must be 1 to 20",
        ));
    }
    let status = if approve {
        Status::Approved
    } else {
        Status::Rejected
    };
    let done = recycler::Entity::update_many()
        .col_expr(recycler::Column::Status, Expr::value(status))
        .col_expr(recycler::Column::ReviewReason, Expr::value(reason.clone()))
        .col_expr(recycler::Column::ReviewedBy, Expr::value(who.user_id))
        .col_expr(recycler::Column::ReviewedAt, Expr::value(Utc::now()))
        .col_expr(recycler::Column::SlotCapacity, Expr::value(capacity))
        .filter(recycler::Column::UserId.eq(id))
        .filter(recycler::Column::Status.eq(Status::Pending))
        .exec(&txn)
        .await?
        .rows_affected;
    if done != 1 {
        return Err(Error::conflict(
            "application_closed",
            "this application was already decided",
        ));
    }
    if approve {
        user::Entity::update_many()
            .col_expr(user::Column::Role, Expr::value(Role::Recycler))
            .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(user::Column::Id.eq(id))
            .exec(&txn)
            .await?;
    }
    audit::record(
        &txn,
        Some(who.user_id),
        if approve {
            "recycler.approve"
        } else {
            "recycler.reject"
        },
        "recycler",
        &id.to_string(),
        serde_json::json!({ "reason": reason }),
    )
    .await?;
    let r = recycler::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound {
            what: "application",
        })?;
    let v = view(&txn, r).await?;
    txn.commit().await?;
    Ok(v)
}

fn position(lat: f64, lng: f64) -> Result<Position> {
    use crate::pickups::addresses::{REGION_LAT, REGION_LNG};
    if lat.is_finite()
        && lng.is_finite()
        && (REGION_LAT.0..=REGION_LAT.1).contains(&lat)
        && (REGION_LNG.0..=REGION_LNG.1).contains(&lng)
    {
        Ok(Position { lat, lng })
    } else {
        Err(Error::field(
            "lat",
            "outside_service_region",
            "the position is outside the service region",
        ))
    }
}

/// Body of shift.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftInput {
    /// Going on (true) or off (false) shift.
    pub on_shift: bool,
    /// Where, when going on shift.
    pub lat: Option<f64>,
    /// Where, when going on shift.
    pub lng: Option<f64>,
}

/// Goes on or off shift. Off shift, the recycler leaves the geo index and gets no offers.
/// Coming on shift stages [`crate::pickups::topics::ON_SHIFT`], which offers them the pickups
/// waiting in their districts.
pub async fn shift(
    db: &DatabaseConnection,
    geo: &dyn GeoIndex,
    who: &Principal,
    input: ShiftInput,
) -> Result<RecyclerView> {
    let r = crate::pickups::work::approved_recycler(db, who).await?;
    if input.on_shift {
        if let (Some(lat), Some(lng)) = (input.lat, input.lng) {
            geo.upsert(who.user_id, position(lat, lng)?, Utc::now())
                .await?;
        }
    } else {
        geo.remove(who.user_id).await?;
    }
    let txn = db.begin().await?;
    let changed = recycler::Entity::update_many()
        .col_expr(recycler::Column::OnShift, Expr::value(input.on_shift))
        .col_expr(recycler::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(recycler::Column::UserId.eq(r.user_id))
        .filter(recycler::Column::OnShift.ne(input.on_shift))
        .exec(&txn)
        .await?
        .rows_affected;
    if changed == 1 && input.on_shift {
        crate::jobs::outbox::stage(
            &txn,
            crate::pickups::topics::ON_SHIFT,
            serde_json::json!({ "recycler_id": r.user_id }),
            None,
        )
        .await?;
    }
    txn.commit().await?;
    mine(db, who).await
}

/// Body of a location heartbeat.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    /// GCJ-02 latitude.
    pub lat: f64,
    /// GCJ-02 longitude.
    pub lng: f64,
}

/// Records where an on-shift recycler is. Returns the pickups of theirs that are en route,
/// whose residents are shown the position.
///
/// A heartbeat that puts the recycler back on the map — they had no position younger than
/// `fresh_within`: they went on shift without one, or their phone was silent — stages
/// [`crate::pickups::topics::ON_SHIFT`] as coming on shift does, so the pickups waiting in their
/// districts are offered now rather than at their next try.
pub async fn heartbeat(
    db: &DatabaseConnection,
    geo: &dyn GeoIndex,
    who: &Principal,
    input: LocationInput,
    fresh_within: Duration,
) -> Result<Vec<crate::entities::pickup::Model>> {
    let r = crate::pickups::work::approved_recycler(db, who).await?;
    if !r.on_shift {
        return Err(Error::conflict(
            "not_on_shift",
            "go on shift before sending your location",
        ));
    }
    let at = position(input.lat, input.lng)?;
    let now = Utc::now();
    let fresh_since = crate::ports::geo::fresh_since(now, fresh_within);
    let was_on_the_map = geo
        .position(who.user_id)
        .await?
        .is_some_and(|l| l.at >= fresh_since);
    geo.upsert(who.user_id, at, now).await?;
    if !was_on_the_map {
        crate::jobs::outbox::stage(
            db,
            crate::pickups::topics::ON_SHIFT,
            serde_json::json!({ "recycler_id": r.user_id }),
            None,
        )
        .await?;
    }
    use crate::entities::pickup;
    Ok(pickup::Entity::find()
        .filter(pickup::Column::RecyclerId.eq(who.user_id))
        .filter(pickup::Column::Status.eq(crate::pickups::Status::EnRoute))
        .all(db)
        .await?)
}

/// How long a heartbeat counts as current.
pub fn freshness(settings: &crate::config::Settings) -> Duration {
    Duration::from_secs(u64::from(settings.location_fresh_secs))
}
