//! What clients see of a pickup: the view with its items, recycler and timeline, pages of
//! views, and who may see which pickup. Read-only.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

use super::status::Status;
use crate::{
    auth::{Principal, Role},
    entities::{category, pickup, pickup_event, pickup_item, pickup_slot, recycler},
    error::{Error, Result},
    paging::{Page, PageRequest},
};

/// An item of a pickup.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    /// Category id.
    pub category_id: Uuid,
    /// Category code.
    pub category_code: String,
    /// Category name.
    pub category_name: String,
    /// `kg` or `piece`.
    pub unit: String,
    /// Resident's estimate, grams.
    pub estimated_weight_g: Option<i32>,
    /// Resident's estimate, pieces.
    pub estimated_count: Option<i32>,
    /// Weighed by the recycler, grams.
    pub actual_weight_g: Option<i32>,
    /// Counted by the recycler.
    pub actual_count: Option<i32>,
}

/// A timeline entry.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    /// Previous state (none for the booking itself).
    pub from: Option<String>,
    /// New state.
    pub to: String,
    /// Who: `resident`, `recycler`, `admin`, `station_manager` or `system`.
    pub actor_role: String,
    /// The acting user, when a person acted.
    pub actor_id: Option<Uuid>,
    /// Why.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The recycler as a resident sees them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecyclerBrief {
    /// Recycler's user id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Phone, to call at the door.
    pub phone: String,
    /// `tricycle` or `van`.
    pub vehicle: String,
    /// Average rating, 1–5, when rated.
    pub rating: Option<f64>,
}

/// A pickup with everything a client shows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PickupView {
    /// Id.
    pub id: Uuid,
    /// State.
    pub status: Status,
    /// The resident.
    pub resident_id: Uuid,
    /// The address as booked.
    #[schema(value_type = Object)]
    pub address: serde_json::Value,
    /// District code.
    pub district_code: String,
    /// The slot.
    pub slot_id: Uuid,
    /// Slot start.
    pub slot_starts_at: Option<DateTime<Utc>>,
    /// Slot end.
    pub slot_ends_at: Option<DateTime<Utc>>,
    /// Whether a van is needed.
    pub needs_van: bool,
    /// Note to the recycler.
    pub note: String,
    /// Resident's photos.
    pub photo_ids: Vec<Uuid>,
    /// Recycler's completion photos (items and scale): the weigh ticket.
    pub completion_photo_ids: Vec<Uuid>,
    /// Items with estimates and, once weighed, actual amounts.
    pub items: Vec<ItemView>,
    /// The recycler, once assigned.
    pub recycler: Option<RecyclerBrief>,
    /// Waiting for a person to dispatch it.
    pub manual_dispatch: bool,
    /// Cancelled after the free cut-off.
    pub late_cancellation: bool,
    /// Resident's rating, 1–5.
    pub rating: Option<i16>,
    /// Dispute state: `open`, `upheld`, `rejected`.
    pub dispute_state: Option<String>,
    /// When weighed and collected.
    pub completed_at: Option<DateTime<Utc>>,
    /// Every transition, oldest first.
    pub timeline: Vec<EventView>,
    /// Booked at.
    pub created_at: DateTime<Utc>,
}

pub(crate) fn uuids(json: &str) -> Vec<Uuid> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Builds the full view of a pickup.
pub async fn view(db: &impl ConnectionTrait, p: pickup::Model) -> Result<PickupView> {
    let items = items_of(db, p.id).await?;
    let timeline = timeline_of(db, p.id).await?;
    let recycler = match p.recycler_id {
        Some(id) => recycler_brief(db, id).await?,
        None => None,
    };
    let slot = pickup_slot::Entity::find_by_id(p.slot_id).one(db).await?;
    Ok(PickupView {
        status: p.status,
        id: p.id,
        resident_id: p.resident_id,
        address: serde_json::from_str(&p.address_snapshot).unwrap_or(serde_json::Value::Null),
        district_code: p.district_code,
        slot_id: p.slot_id,
        slot_starts_at: slot.as_ref().map(|s| s.starts_at),
        slot_ends_at: slot.as_ref().map(|s| s.ends_at),
        needs_van: p.needs_van,
        note: p.note,
        photo_ids: uuids(&p.photo_ids),
        completion_photo_ids: uuids(&p.completion_photo_ids),
        items,
        recycler,
        manual_dispatch: p.manual_dispatch,
        late_cancellation: p.late_cancellation,
        rating: p.rating,
        dispute_state: p.dispute_state.map(|s| s.as_str().into()),
        completed_at: p.completed_at,
        timeline,
        created_at: p.created_at,
    })
}

/// The items of pickup `pickup_id` with their categories.
async fn items_of(db: &impl ConnectionTrait, pickup_id: Uuid) -> Result<Vec<ItemView>> {
    // In category order: the order of the (pickup, category) index both databases read
    // them through, made explicit so that it holds whatever the plan.
    let items = pickup_item::Entity::find()
        .filter(pickup_item::Column::PickupId.eq(pickup_id))
        .order_by_asc(pickup_item::Column::CategoryId)
        .all(db)
        .await?;
    let cats = category::Entity::find()
        .filter(category::Column::Id.is_in(items.iter().map(|i| i.category_id)))
        .all(db)
        .await?;
    Ok(items
        .into_iter()
        .map(|i| {
            let c = cats.iter().find(|c| c.id == i.category_id);
            ItemView {
                category_id: i.category_id,
                category_code: c.map(|c| c.code.clone()).unwrap_or_default(),
                category_name: c.map(|c| c.name.clone()).unwrap_or_default(),
                unit: c.map(|c| c.unit.as_str().into()).unwrap_or_default(),
                estimated_weight_g: i.estimated_weight_g,
                estimated_count: i.estimated_count,
                actual_weight_g: i.actual_weight_g,
                actual_count: i.actual_count,
            }
        })
        .collect())
}

/// The timeline of pickup `pickup_id`, oldest first.
async fn timeline_of(db: &impl ConnectionTrait, pickup_id: Uuid) -> Result<Vec<EventView>> {
    Ok(pickup_event::Entity::find()
        .filter(pickup_event::Column::PickupId.eq(pickup_id))
        .order_by_asc(pickup_event::Column::CreatedAt)
        .order_by_asc(pickup_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|e| EventView {
            from: e.from_status.map(|s| s.as_str().into()),
            to: e.to_status.as_str().into(),
            actor_role: e.actor_role.as_str().into(),
            actor_id: e.actor_id,
            reason: e.reason,
            at: e.created_at,
        })
        .collect())
}

/// Recycler `id` as a resident sees them, if there is one.
async fn recycler_brief(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<RecyclerBrief>> {
    Ok(recycler::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|r| RecyclerBrief {
            id: r.user_id,
            name: r.name,
            phone: r.phone,
            vehicle: r.vehicle.as_str().into(),
            rating: (r.rating_count > 0)
                .then(|| f64::from(r.rating_sum) / f64::from(r.rating_count)),
        }))
}

/// A page of views from up to `limit + 1` rows fetched newest first.
pub async fn page_of_views(
    db: &impl ConnectionTrait,
    rows: Vec<pickup::Model>,
    limit: u64,
) -> Result<Page<PickupView>> {
    let more = rows.len() as u64 > limit;
    let mut items = Vec::with_capacity(rows.len());
    for p in rows.into_iter().take(limit as usize) {
        items.push(view(db, p).await?);
    }
    let next_cursor = if more {
        items.last().map(|v| v.id.to_string())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// Loads a pickup the caller may see: the resident who booked it, its recycler, or an
/// administrator / station manager of its district. Anyone else gets 404, so existence
/// does not leak.
pub async fn load_visible(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: Uuid,
) -> Result<pickup::Model> {
    let p = pickup::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "pickup" })?;
    let allowed = match who.role {
        Role::Resident => p.resident_id == who.user_id,
        Role::Recycler => p.recycler_id == Some(who.user_id) || p.resident_id == who.user_id,
        Role::Admin | Role::StationManager => who.may_administer_district(&p.district_code),
        Role::Merchant => p.resident_id == who.user_id,
    };
    if allowed {
        Ok(p)
    } else {
        Err(Error::NotFound { what: "pickup" })
    }
}

/// The caller's pickups, newest first.
pub async fn list_mine(
    db: &impl ConnectionTrait,
    who: &Principal,
    page: PageRequest,
) -> Result<Page<PickupView>> {
    let mut q = pickup::Entity::find()
        .filter(pickup::Column::ResidentId.eq(who.user_id))
        .order_by_desc(pickup::Column::Id)
        .limit(page.limit + 1);
    if let Some(before) = page.before {
        q = q.filter(pickup::Column::Id.lt(before));
    }
    page_of_views(db, q.all(db).await?, page.limit).await
}

/// One pickup the caller may see.
pub async fn get(db: &impl ConnectionTrait, who: &Principal, id: Uuid) -> Result<PickupView> {
    let p = load_visible(db, who, id).await?;
    view(db, p).await
}

/// The caller's own pickup (404 for anyone else's, so existence does not leak).
pub(crate) async fn own_pickup(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: Uuid,
) -> Result<pickup::Model> {
    pickup::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|p| p.resident_id == who.user_id)
        .ok_or(Error::NotFound { what: "pickup" })
}
