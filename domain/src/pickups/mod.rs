//! Door-to-door pickups: addresses, booking, the state machine with its timeline, and the
//! recycler's day. Every transition is ONE conditional update that checks the current state
//! (and, for recyclers, that the pickup is theirs) and writes an event row in the same
//! transaction; a transition that does not apply is refused with 409 and changes nothing.

pub mod addresses;
pub mod booking;
pub mod events;
pub mod expiry;
mod slot_gate;
pub mod work;

use std::str::FromStr;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
    sea_query::{Expr, ExprTrait, SimpleExpr},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    auth::{Principal, Role},
    entities::{
        category, pickup, pickup_event, pickup_item, pickup_slot, recycler, recycler_slot_load,
    },
    error::{Error, Result},
    paging::Page,
};

/// A pickup's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Booked; waiting for a recycler.
    PendingDispatch,
    /// Offered to one or more recyclers.
    Offered,
    /// A recycler took it.
    Accepted,
    /// The recycler is on the way.
    EnRoute,
    /// The recycler is at the door.
    Arrived,
    /// Weighed and collected; points not yet posted.
    Completed,
    /// Points and earnings posted.
    Settled,
    /// Cancelled by the resident (or an administrator).
    Cancelled,
    /// Nobody answered the door.
    NoShow,
    /// The slot passed without a recycler.
    Expired,
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::PendingDispatch => "pending_dispatch",
            Status::Offered => "offered",
            Status::Accepted => "accepted",
            Status::EnRoute => "en_route",
            Status::Arrived => "arrived",
            Status::Completed => "completed",
            Status::Settled => "settled",
            Status::Cancelled => "cancelled",
            Status::NoShow => "no_show",
            Status::Expired => "expired",
        }
    }

    /// States in which a recycler holds the pickup.
    pub const WITH_RECYCLER: [Status; 3] = [Status::Accepted, Status::EnRoute, Status::Arrived];

    /// States before a recycler holds it.
    pub const UNASSIGNED: [Status; 2] = [Status::PendingDispatch, Status::Offered];

    /// Whether the pickup is over.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Settled | Status::Cancelled | Status::NoShow | Status::Expired
        )
    }
}

impl FromStr for Status {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "pending_dispatch" => Status::PendingDispatch,
            "offered" => Status::Offered,
            "accepted" => Status::Accepted,
            "en_route" => Status::EnRoute,
            "arrived" => Status::Arrived,
            "completed" => Status::Completed,
            "settled" => Status::Settled,
            "cancelled" => Status::Cancelled,
            "no_show" => Status::NoShow,
            "expired" => Status::Expired,
            other => {
                return Err(Error::Internal(anyhow::anyhow!(
                    "unknown pickup status {other}"
                )));
            }
        })
    }
}

/// The legal transitions: (from, to). Anything else is refused.
pub const TRANSITIONS: &[(Status, Status)] = {
    use Status::*;
    &[
        (PendingDispatch, Offered),
        (PendingDispatch, PendingDispatch),
        (Offered, PendingDispatch),
        (Offered, Accepted),
        (PendingDispatch, Accepted),
        (Offered, Offered),
        (Accepted, PendingDispatch),
        (Accepted, EnRoute),
        (EnRoute, Arrived),
        (Arrived, Completed),
        (Arrived, NoShow),
        (Completed, Settled),
        (PendingDispatch, Cancelled),
        (Offered, Cancelled),
        (Accepted, Cancelled),
        (EnRoute, Cancelled),
        (PendingDispatch, Expired),
        (Offered, Expired),
    ]
};

/// Whether `from → to` is a legal transition.
pub fn can_transition(from: Status, to: Status) -> bool {
    TRANSITIONS.contains(&(from, to))
}

/// Who caused a transition, for the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user, or `None` for the system (dispatch, timeouts).
    pub user_id: Option<Uuid>,
    /// `resident`, `recycler`, `admin`, `station_manager` or `system`.
    pub role: &'static str,
}

impl Actor {
    /// The system itself.
    pub const SYSTEM: Actor = Actor {
        user_id: None,
        role: "system",
    };

    /// A signed-in user.
    pub fn of(p: &Principal) -> Self {
        Actor {
            user_id: Some(p.user_id),
            role: p.role.as_str(),
        }
    }
}

/// A transition to apply.
pub struct Transition<'a> {
    /// The pickup.
    pub pickup_id: Uuid,
    /// States it may be in.
    pub from: &'a [Status],
    /// The state it moves to.
    pub to: Status,
    /// Who does it.
    pub actor: Actor,
    /// Why (shown in the timeline).
    pub reason: String,
    /// Only if the pickup's recycler is this one.
    pub recycler: Option<Uuid>,
    /// Further columns to set in the same update.
    pub set: Vec<(pickup::Column, SimpleExpr)>,
}

/// Applies a transition: reads the pickup (locked on PostgreSQL; SQLite serialises
/// writers), checks the state, and moves it with a conditional update plus its event row.
/// Refuses with 404 when the pickup does not exist (or is not the given recycler's) and
/// 409 `illegal_transition` when it is not in one of `from`. Returns the row as it was
/// BEFORE the transition.
pub async fn transition(txn: &impl ConnectionTrait, t: Transition<'_>) -> Result<pickup::Model> {
    let mut find = pickup::Entity::find_by_id(t.pickup_id);
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        find = find.lock_exclusive();
    }
    let Some(before) = find.one(txn).await? else {
        return Err(Error::NotFound { what: "pickup" });
    };
    transition_locked(txn, &before, t).await?;
    Ok(before)
}

/// [`transition`] of a pickup the caller has already read, locked, in this transaction
/// (`before`), saving the second read.
pub async fn transition_locked(
    txn: &impl ConnectionTrait,
    before: &pickup::Model,
    t: Transition<'_>,
) -> Result<()> {
    for from in t.from {
        debug_assert!(
            can_transition(*from, t.to),
            "{from:?} → {:?} is not in TRANSITIONS",
            t.to
        );
    }
    if t.recycler.is_some() && before.recycler_id != t.recycler {
        return Err(Error::NotFound { what: "pickup" });
    }
    let illegal = || {
        Error::conflict(
            "illegal_transition",
            format!(
                "a pickup that is {} cannot become {}",
                before.status,
                t.to.as_str()
            ),
        )
    };
    if !t.from.iter().any(|s| s.as_str() == before.status) {
        return Err(illegal());
    }
    let mut update = pickup::Entity::update_many()
        .col_expr(pickup::Column::Status, Expr::value(t.to.as_str()))
        .col_expr(pickup::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(pickup::Column::Id.eq(t.pickup_id))
        .filter(pickup::Column::Status.eq(before.status.as_str()));
    if let Some(r) = t.recycler {
        update = update.filter(pickup::Column::RecyclerId.eq(r));
    }
    for (col, value) in t.set {
        update = update.col_expr(col, value);
    }
    if update.exec(txn).await?.rows_affected != 1 {
        return Err(illegal());
    }
    record_event(
        txn,
        t.pickup_id,
        Some(before.status.clone()),
        t.to,
        &t.actor,
        &t.reason,
    )
    .await?;
    Ok(())
}

/// Reads a pickup inside a transaction (after a transition, to show the new state).
pub async fn reload(txn: &impl ConnectionTrait, id: Uuid) -> Result<pickup::Model> {
    pickup::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound { what: "pickup" })
}

/// Writes a timeline row.
pub async fn record_event(
    txn: &impl ConnectionTrait,
    pickup_id: Uuid,
    from: Option<String>,
    to: Status,
    actor: &Actor,
    reason: &str,
) -> Result<()> {
    record_event_at(txn, pickup_id, from, to, actor, reason, Utc::now()).await
}

/// Writes a timeline row dated `at`.
pub async fn record_event_at(
    txn: &impl ConnectionTrait,
    pickup_id: Uuid,
    from: Option<String>,
    to: Status,
    actor: &Actor,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    pickup_event::Entity::insert(pickup_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        pickup_id: Set(pickup_id),
        from_status: Set(from),
        to_status: Set(to.as_str().into()),
        actor_id: Set(actor.user_id),
        actor_role: Set(actor.role.into()),
        reason: Set(reason.into()),
        created_at: Set(at),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Withdraws every open offer of a pickup; returns the recyclers told.
pub(crate) async fn withdraw_offers_of(
    txn: &impl ConnectionTrait,
    pickup_id: Uuid,
) -> Result<Vec<Uuid>> {
    booking::withdraw_offers(txn, pickup_id, None).await
}

/// Gives back the slot capacity a pickup held.
pub async fn release_slot(
    txn: &impl ConnectionTrait,
    slot_id: Uuid,
    needs_van: bool,
) -> Result<()> {
    let mut update = pickup_slot::Entity::update_many()
        .col_expr(
            pickup_slot::Column::Booked,
            Expr::col(pickup_slot::Column::Booked).sub(1),
        )
        .filter(pickup_slot::Column::Id.eq(slot_id))
        .filter(pickup_slot::Column::Booked.gt(0));
    if needs_van {
        update = update
            .col_expr(
                pickup_slot::Column::VanBooked,
                Expr::col(pickup_slot::Column::VanBooked).sub(1),
            )
            .filter(pickup_slot::Column::VanBooked.gt(0));
    }
    update.exec(txn).await?;
    Ok(())
}

/// Takes one unit of a slot's capacity (and one van place when needed); 409 `slot_full`.
pub async fn take_slot(txn: &impl ConnectionTrait, slot_id: Uuid, needs_van: bool) -> Result<()> {
    let mut update = pickup_slot::Entity::update_many()
        .col_expr(
            pickup_slot::Column::Booked,
            Expr::col(pickup_slot::Column::Booked).add(1),
        )
        .filter(pickup_slot::Column::Id.eq(slot_id))
        .filter(
            Expr::col(pickup_slot::Column::Booked).lt(Expr::col(pickup_slot::Column::Capacity)),
        );
    if needs_van {
        update = update
            .col_expr(
                pickup_slot::Column::VanBooked,
                Expr::col(pickup_slot::Column::VanBooked).add(1),
            )
            .filter(
                Expr::col(pickup_slot::Column::VanBooked)
                    .lt(Expr::col(pickup_slot::Column::VanCapacity)),
            );
    }
    if update.exec(txn).await?.rows_affected == 1 {
        Ok(())
    } else {
        Err(slot_full(needs_van))
    }
}

/// 409 `slot_full`.
pub(crate) fn slot_full(needs_van: bool) -> Error {
    if needs_van {
        Error::conflict(
            "slot_full",
            "this slot has no room left (for items that need a van); choose another slot",
        )
    } else {
        Error::conflict("slot_full", "this slot is full; choose another slot")
    }
}

/// Takes one unit of a recycler's capacity in a slot; 409 `recycler_at_capacity`.
pub async fn take_recycler_load(
    txn: &impl ConnectionTrait,
    recycler_id: Uuid,
    slot_id: Uuid,
) -> Result<()> {
    let capacity = recycler::Entity::find_by_id(recycler_id)
        .one(txn)
        .await?
        .map(|r| r.slot_capacity)
        .ok_or(Error::NotFound { what: "recycler" })?;
    recycler_slot_load::Entity::insert(recycler_slot_load::ActiveModel {
        recycler_id: Set(recycler_id),
        slot_id: Set(slot_id),
        load: Set(0),
        capacity: Set(capacity),
    })
    .on_conflict_do_nothing_on([
        recycler_slot_load::Column::RecyclerId,
        recycler_slot_load::Column::SlotId,
    ])
    .exec(txn)
    .await?;
    let taken = recycler_slot_load::Entity::update_many()
        .col_expr(
            recycler_slot_load::Column::Load,
            Expr::col(recycler_slot_load::Column::Load).add(1),
        )
        .filter(recycler_slot_load::Column::RecyclerId.eq(recycler_id))
        .filter(recycler_slot_load::Column::SlotId.eq(slot_id))
        .filter(
            Expr::col(recycler_slot_load::Column::Load)
                .lt(Expr::col(recycler_slot_load::Column::Capacity)),
        )
        .exec(txn)
        .await?
        .rows_affected;
    if taken == 1 {
        Ok(())
    } else {
        Err(Error::conflict(
            "recycler_at_capacity",
            "this recycler has no capacity left in that slot",
        ))
    }
}

/// Gives back a recycler's capacity in a slot.
pub async fn release_recycler_load(
    txn: &impl ConnectionTrait,
    recycler_id: Uuid,
    slot_id: Uuid,
) -> Result<()> {
    recycler_slot_load::Entity::update_many()
        .col_expr(
            recycler_slot_load::Column::Load,
            Expr::col(recycler_slot_load::Column::Load).sub(1),
        )
        .filter(recycler_slot_load::Column::RecyclerId.eq(recycler_id))
        .filter(recycler_slot_load::Column::SlotId.eq(slot_id))
        .filter(recycler_slot_load::Column::Load.gt(0))
        .exec(txn)
        .await?;
    Ok(())
}

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
    // In category order: the order of the (pickup, category) index both databases read
    // them through, made explicit so that it holds whatever the plan.
    let items = pickup_item::Entity::find()
        .filter(pickup_item::Column::PickupId.eq(p.id))
        .order_by_asc(pickup_item::Column::CategoryId)
        .all(db)
        .await?;
    let cats = category::Entity::find()
        .filter(category::Column::Id.is_in(items.iter().map(|i| i.category_id)))
        .all(db)
        .await?;
    let items = items
        .into_iter()
        .map(|i| {
            let c = cats.iter().find(|c| c.id == i.category_id);
            ItemView {
                category_id: i.category_id,
                category_code: c.map(|c| c.code.clone()).unwrap_or_default(),
                category_name: c.map(|c| c.name.clone()).unwrap_or_default(),
                unit: c.map(|c| c.unit.clone()).unwrap_or_default(),
                estimated_weight_g: i.estimated_weight_g,
                estimated_count: i.estimated_count,
                actual_weight_g: i.actual_weight_g,
                actual_count: i.actual_count,
            }
        })
        .collect();
    let timeline = pickup_event::Entity::find()
        .filter(pickup_event::Column::PickupId.eq(p.id))
        .order_by_asc(pickup_event::Column::CreatedAt)
        .order_by_asc(pickup_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|e| EventView {
            from: e.from_status,
            to: e.to_status,
            actor_role: e.actor_role,
            actor_id: e.actor_id,
            reason: e.reason,
            at: e.created_at,
        })
        .collect();
    let recycler = match p.recycler_id {
        Some(id) => recycler::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|r| RecyclerBrief {
                id: r.user_id,
                name: r.name,
                phone: r.phone,
                vehicle: r.vehicle,
                rating: (r.rating_count > 0)
                    .then(|| f64::from(r.rating_sum) / f64::from(r.rating_count)),
            }),
        None => None,
    };
    let slot = pickup_slot::Entity::find_by_id(p.slot_id).one(db).await?;
    Ok(PickupView {
        status: p.status.parse()?,
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
        dispute_state: p.dispute_state,
        completed_at: p.completed_at,
        timeline,
        created_at: p.created_at,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_states_have_no_way_out() {
        for (from, _) in TRANSITIONS {
            assert!(
                !from.is_final(),
                "{from:?} is final but has a transition out"
            );
        }
    }

    #[test]
    fn the_happy_path_is_legal_and_skipping_is_not() {
        use Status::*;
        let path = [
            PendingDispatch,
            Offered,
            Accepted,
            EnRoute,
            Arrived,
            Completed,
            Settled,
        ];
        for w in path.windows(2) {
            assert!(can_transition(w[0], w[1]), "{:?} → {:?}", w[0], w[1]);
        }
        assert!(!can_transition(PendingDispatch, Completed));
        assert!(!can_transition(Accepted, Arrived));
        assert!(!can_transition(Completed, Cancelled));
        assert!(!can_transition(Arrived, Cancelled));
    }

    #[test]
    fn names_round_trip() {
        for (a, b) in TRANSITIONS {
            assert_eq!(a.as_str().parse::<Status>().unwrap(), *a);
            assert_eq!(b.as_str().parse::<Status>().unwrap(), *b);
        }
    }
}
