//! The recycler's day: open offers, accept (exactly one recycler wins a pickup: the pickup
//! row is locked and moved by a conditional update, and the recycler's slot capacity is
//! taken by another), reject, depart, arrive, no-show with proof, and completion with the
//! weigh ticket, which stages the event settlement consumes. Also manual dispatch by
//! administrators and station managers.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Actor, PickupView, Status, Transition,
    booking::{
        ItemInput,
        checks::{validate_items, validate_photos},
    },
    locks::lock_pickup,
    notices::announce,
    offers::{after_offer_closed, withdraw_offers},
    reload, take_recycler_load,
    topics::COMPLETED,
    transition, view,
};
use crate::{
    auth::{Principal, Role},
    entities::{offer, pickup, pickup_item, pickup_slot, recycler, recycler_district},
    error::{Error, Result},
    jobs::outbox,
    paging::{Page, PageRequest},
};

/// The caller as an approved recycler (403 otherwise).
pub async fn approved_recycler(
    db: &impl ConnectionTrait,
    who: &Principal,
) -> Result<recycler::Model> {
    who.require_role(&[Role::Recycler])?;
    recycler::Entity::find_by_id(who.user_id)
        .one(db)
        .await?
        .filter(|r| r.status == "approved")
        .ok_or_else(|| Error::forbidden("this needs an approved recycler"))
}

/// An open offer as the recycler sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OfferView {
    /// Offer id.
    pub id: Uuid,
    /// The pickup.
    pub pickup_id: Uuid,
    /// Answer before this instant.
    pub expires_at: DateTime<Utc>,
    /// District code.
    pub district_code: String,
    /// Where (GCJ-02).
    pub lat: f64,
    /// Where (GCJ-02).
    pub lng: f64,
    /// Slot start.
    pub slot_starts_at: Option<DateTime<Utc>>,
    /// Slot end.
    pub slot_ends_at: Option<DateTime<Utc>>,
    /// Whether a van is needed.
    pub needs_van: bool,
    /// The items with estimates.
    pub items: Vec<super::ItemView>,
}

/// The caller's open offers.
pub async fn open_offers(db: &impl ConnectionTrait, who: &Principal) -> Result<Vec<OfferView>> {
    approved_recycler(db, who).await?;
    let offers = offer::Entity::find()
        .filter(offer::Column::RecyclerId.eq(who.user_id))
        .filter(offer::Column::Status.eq("open"))
        .filter(offer::Column::ExpiresAt.gt(Utc::now()))
        .order_by_asc(offer::Column::ExpiresAt)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(offers.len());
    for o in offers {
        let Some(p) = pickup::Entity::find_by_id(o.pickup_id).one(db).await? else {
            continue;
        };
        let v = view(db, p).await?;
        out.push(OfferView {
            id: o.id,
            pickup_id: o.pickup_id,
            expires_at: o.expires_at,
            district_code: v.district_code,
            lat: v.address["lat"].as_f64().unwrap_or_default(),
            lng: v.address["lng"].as_f64().unwrap_or_default(),
            slot_starts_at: v.slot_starts_at,
            slot_ends_at: v.slot_ends_at,
            needs_van: v.needs_van,
            items: v.items,
        });
    }
    Ok(out)
}

/// Accepts an offer. 200 with the pickup, or 409 `pickup_taken` when someone else has it
/// (or the offer expired or was withdrawn), 409 `recycler_at_capacity` when the caller's
/// slot is full.
#[tracing::instrument(skip_all, fields(user_id = %who.user_id, offer_id = %offer_id))]
pub async fn accept(
    db: &DatabaseConnection,
    who: &Principal,
    offer_id: Uuid,
) -> Result<PickupView> {
    let txn = db.begin().await?;
    approved_recycler(&txn, who).await?;
    let o = offer::Entity::find_by_id(offer_id)
        .one(&txn)
        .await?
        .filter(|o| o.recycler_id == who.user_id)
        .ok_or(Error::NotFound { what: "offer" })?;
    let taken = || {
        Error::conflict(
            "pickup_taken",
            "this offer is no longer open; someone else has the pickup or it expired",
        )
    };
    if o.status != "open" || o.expires_at <= Utc::now() {
        return Err(taken());
    }
    // The pickup is locked before any offer row is touched, on every path (accept,
    // reject, timeouts, cancel): concurrent accepts queue on one row instead of
    // deadlocking on each other's offers.
    let moved = transition(
        &txn,
        Transition {
            pickup_id: o.pickup_id,
            from: &[Status::Offered],
            to: Status::Accepted,
            actor: Actor::of(who),
            reason: "offer accepted".into(),
            recycler: None,
            set: vec![
                (pickup::Column::RecyclerId, Expr::value(who.user_id)),
                (pickup::Column::ManualDispatch, Expr::value(false)),
            ],
        },
    )
    .await;
    let before = match moved {
        Ok(b) => b,
        Err(Error::Conflict { .. }) => return Err(taken()),
        Err(e) => return Err(e),
    };
    let closed = offer::Entity::update_many()
        .col_expr(offer::Column::Status, Expr::value("accepted"))
        .col_expr(offer::Column::RespondedAt, Expr::value(Utc::now()))
        .filter(offer::Column::Id.eq(offer_id))
        .filter(offer::Column::Status.eq("open"))
        .exec(&txn)
        .await?
        .rows_affected;
    if closed != 1 {
        return Err(taken());
    }
    take_recycler_load(&txn, who.user_id, before.slot_id).await?;
    let withdrawn = withdraw_offers(&txn, o.pickup_id, Some(offer_id)).await?;
    announce(&txn, o.pickup_id, Status::Accepted, &withdrawn).await?;
    let v = view(&txn, reload(&txn, o.pickup_id).await?).await?;
    txn.commit().await?;
    Ok(v)
}

/// Body of reject.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectInput {
    /// Why (too far, vehicle full …).
    pub reason: Option<String>,
}

/// Declines an offer; the pickup goes on to the next candidate at once.
pub async fn reject(
    db: &DatabaseConnection,
    who: &Principal,
    offer_id: Uuid,
    input: RejectInput,
) -> Result<()> {
    let txn = db.begin().await?;
    approved_recycler(&txn, who).await?;
    let o = offer::Entity::find_by_id(offer_id)
        .one(&txn)
        .await?
        .filter(|o| o.recycler_id == who.user_id)
        .ok_or(Error::NotFound { what: "offer" })?;
    lock_pickup(&txn, o.pickup_id).await?;
    let reason = input
        .reason
        .map(|r| r.chars().take(200).collect::<String>());
    let closed = offer::Entity::update_many()
        .col_expr(offer::Column::Status, Expr::value("rejected"))
        .col_expr(offer::Column::Reason, Expr::value(reason))
        .col_expr(offer::Column::RespondedAt, Expr::value(Utc::now()))
        .filter(offer::Column::Id.eq(offer_id))
        .filter(offer::Column::Status.eq("open"))
        .exec(&txn)
        .await?
        .rows_affected;
    if closed != 1 {
        return Err(Error::conflict(
            "offer_not_open",
            "this offer is no longer open",
        ));
    }
    after_offer_closed(&txn, o.pickup_id).await?;
    txn.commit().await?;
    Ok(())
}

/// The caller's assigned work: pickups in hand and those done today, by slot.
pub async fn assigned(
    db: &impl ConnectionTrait,
    who: &Principal,
    page: PageRequest,
) -> Result<Page<PickupView>> {
    approved_recycler(db, who).await?;
    let mut q = pickup::Entity::find()
        .filter(pickup::Column::RecyclerId.eq(who.user_id))
        .order_by_desc(pickup::Column::Id)
        .limit(page.limit + 1);
    if let Some(b) = page.before {
        q = q.filter(pickup::Column::Id.lt(b));
    }
    super::page_of_views(db, q.all(db).await?, page.limit).await
}

async fn step(
    db: &DatabaseConnection,
    who: &Principal,
    id: Uuid,
    from: Status,
    to: Status,
    reason: &str,
) -> Result<PickupView> {
    let txn = db.begin().await?;
    approved_recycler(&txn, who).await?;
    transition(
        &txn,
        Transition {
            pickup_id: id,
            from: &[from],
            to,
            actor: Actor::of(who),
            reason: reason.into(),
            recycler: Some(who.user_id),
            set: vec![],
        },
    )
    .await?;
    announce(&txn, id, to, &[]).await?;
    let v = view(&txn, reload(&txn, id).await?).await?;
    txn.commit().await?;
    Ok(v)
}

/// On the way.
pub async fn depart(db: &DatabaseConnection, who: &Principal, id: Uuid) -> Result<PickupView> {
    step(db, who, id, Status::Accepted, Status::EnRoute, "on the way").await
}

/// At the door.
pub async fn arrive(db: &DatabaseConnection, who: &Principal, id: Uuid) -> Result<PickupView> {
    step(db, who, id, Status::EnRoute, Status::Arrived, "at the door").await
}

/// Body of no-show.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoShowInput {
    /// Proof: photos (purpose `pickup_photo`) of the door, the building …, at least one.
    pub photo_ids: Vec<Uuid>,
    /// What happened.
    pub reason: Option<String>,
}

/// Nobody answered: needs photo proof.
pub async fn no_show(
    db: &DatabaseConnection,
    who: &Principal,
    id: Uuid,
    input: NoShowInput,
) -> Result<PickupView> {
    let txn = db.begin().await?;
    approved_recycler(&txn, who).await?;
    validate_photos(&txn, who.user_id, &input.photo_ids, "photo_ids", 1).await?;
    transition(
        &txn,
        Transition {
            pickup_id: id,
            from: &[Status::Arrived],
            to: Status::NoShow,
            actor: Actor::of(who),
            reason: input
                .reason
                .unwrap_or_else(|| "nobody answered".into())
                .chars()
                .take(200)
                .collect(),
            recycler: Some(who.user_id),
            set: vec![(
                pickup::Column::CompletionPhotoIds,
                Expr::value(
                    serde_json::to_string(&input.photo_ids).unwrap_or_else(|_| "[]".into()),
                ),
            )],
        },
    )
    .await?;
    announce(&txn, id, Status::NoShow, &[]).await?;
    let v = view(&txn, reload(&txn, id).await?).await?;
    txn.commit().await?;
    Ok(v)
}

/// One weighed or counted item.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeighedItem {
    /// Category id.
    pub category_id: Uuid,
    /// Weight in grams (categories by the kg).
    pub weight_g: Option<i32>,
    /// Count (categories by the piece).
    pub count: Option<i32>,
}

/// Body of complete: the weigh ticket.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteInput {
    /// What was collected, one entry per category.
    pub items: Vec<WeighedItem>,
    /// Photos (purpose `pickup_photo`) of the items and of the scale's reading: at least two.
    pub photo_ids: Vec<Uuid>,
}

/// Records actual weights and photos and completes the pickup; stages `pickup.completed`
/// for settlement in the same transaction.
#[tracing::instrument(skip_all, fields(user_id = %who.user_id, pickup_id = %id))]
pub async fn complete(
    db: &DatabaseConnection,
    who: &Principal,
    id: Uuid,
    input: CompleteInput,
) -> Result<PickupView> {
    let txn = db.begin().await?;
    approved_recycler(&txn, who).await?;
    validate_weighed(&txn, &input.items).await?;
    validate_photos(&txn, who.user_id, &input.photo_ids, "photo_ids", 2).await?;
    let now = Utc::now();
    transition(
        &txn,
        Transition {
            pickup_id: id,
            from: &[Status::Arrived],
            to: Status::Completed,
            actor: Actor::of(who),
            reason: "weighed and collected".into(),
            recycler: Some(who.user_id),
            set: vec![
                (pickup::Column::CompletedAt, Expr::value(now)),
                (
                    pickup::Column::CompletionPhotoIds,
                    Expr::value(
                        serde_json::to_string(&input.photo_ids).unwrap_or_else(|_| "[]".into()),
                    ),
                ),
            ],
        },
    )
    .await?;
    record_weighed(&txn, id, &input.items).await?;
    outbox::stage(
        &txn,
        COMPLETED,
        serde_json::json!({ "pickup_id": id }),
        None,
    )
    .await?;
    announce(&txn, id, Status::Completed, &[]).await?;
    let v = view(&txn, reload(&txn, id).await?).await?;
    txn.commit().await?;
    Ok(v)
}

/// Body of a manual assignment.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// The recycler to give the pickup to.
    pub recycler_id: Uuid,
}

/// An administrator or station manager of the pickup's district gives it to a recycler by
/// hand. The recycler must be approved, serve the district, have the right vehicle and
/// capacity left in the slot.
#[tracing::instrument(skip_all, fields(user_id = %who.user_id, pickup_id = %id))]
pub async fn assign_manually(
    db: &DatabaseConnection,
    who: &Principal,
    id: Uuid,
    input: AssignInput,
) -> Result<PickupView> {
    who.require_role(&[Role::Admin, Role::StationManager])?;
    let txn = db.begin().await?;
    let p = super::load_visible(&txn, who, id).await?;
    let r = recycler::Entity::find_by_id(input.recycler_id)
        .one(&txn)
        .await?
        .filter(|r| r.status == "approved")
        .ok_or_else(|| Error::field("recycler_id", "unknown", "no such approved recycler"))?;
    let serves = recycler_district::Entity::find()
        .filter(recycler_district::Column::RecyclerId.eq(r.user_id))
        .filter(recycler_district::Column::DistrictCode.eq(p.district_code.as_str()))
        .one(&txn)
        .await?
        .is_some();
    if !serves {
        return Err(Error::field(
            "recycler_id",
            "wrong_district",
            "this recycler does not serve the pickup's district",
        ));
    }
    if p.needs_van && r.vehicle != "van" {
        return Err(Error::field(
            "recycler_id",
            "needs_van",
            "this pickup needs a van",
        ));
    }
    transition(
        &txn,
        Transition {
            pickup_id: id,
            from: &[Status::PendingDispatch, Status::Offered],
            to: Status::Accepted,
            actor: Actor::of(who),
            reason: "dispatched by hand".into(),
            recycler: None,
            set: vec![
                (pickup::Column::RecyclerId, Expr::value(r.user_id)),
                (pickup::Column::ManualDispatch, Expr::value(false)),
            ],
        },
    )
    .await?;
    take_recycler_load(&txn, r.user_id, p.slot_id).await?;
    let withdrawn = withdraw_offers(&txn, id, None).await?;
    crate::audit::record(
        &txn,
        Some(who.user_id),
        "pickup.assign",
        "pickup",
        &id.to_string(),
        serde_json::json!({ "recycler_id": r.user_id }),
    )
    .await?;
    announce(&txn, id, Status::Accepted, &withdrawn).await?;
    let v = view(&txn, reload(&txn, id).await?).await?;
    txn.commit().await?;
    Ok(v)
}

/// Filters of the administrators' pickup monitor.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct MonitorQuery {
    /// Only this state.
    pub status: Option<String>,
    /// Only this district (district administrators: always theirs).
    pub district_code: Option<String>,
    /// Only pickups waiting for manual dispatch.
    pub manual: Option<bool>,
    /// Items per page.
    pub limit: Option<u64>,
    /// Cursor.
    pub cursor: Option<String>,
}

/// The monitor: pickups of the districts the caller administers, newest first.
pub async fn monitor(
    db: &impl ConnectionTrait,
    who: &Principal,
    q: MonitorQuery,
) -> Result<Page<PickupView>> {
    who.require_role(&[Role::Admin, Role::StationManager])?;
    let page = crate::paging::PageQuery {
        limit: q.limit,
        cursor: q.cursor.clone(),
    }
    .parse()?;
    let mut find = pickup::Entity::find()
        .order_by_desc(pickup::Column::Id)
        .limit(page.limit + 1);
    if !who.is_super_admin() {
        let own = who.district_code.clone().unwrap_or_default();
        if q.district_code.as_ref().is_some_and(|d| *d != own) {
            return Err(Error::forbidden("you administer another district"));
        }
        find = find.filter(pickup::Column::DistrictCode.eq(own));
    } else if let Some(d) = &q.district_code {
        find = find.filter(pickup::Column::DistrictCode.eq(d.as_str()));
    }
    if let Some(s) = &q.status {
        let status: Status = s
            .parse()
            .map_err(|_| Error::field("status", "invalid", "not a pickup state"))?;
        find = find.filter(pickup::Column::Status.eq(status.as_str()));
    }
    if let Some(m) = q.manual {
        find = find.filter(pickup::Column::ManualDispatch.eq(m));
    }
    if let Some(b) = page.before {
        find = find.filter(pickup::Column::Id.lt(b));
    }
    super::page_of_views(db, find.all(db).await?, page.limit).await
}

/// Used by booking to check a slot still exists; re-exported for the dispatcher.
pub async fn slot_of(db: &impl ConnectionTrait, p: &pickup::Model) -> Result<pickup_slot::Model> {
    pickup_slot::Entity::find_by_id(p.slot_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("pickup {} has no slot", p.id)))
}

/// Validates a weigh ticket's items (the booking rules, with `weight_g`/`count` names).
pub(crate) async fn validate_weighed(
    txn: &impl ConnectionTrait,
    items: &[WeighedItem],
) -> Result<()> {
    let as_items: Vec<ItemInput> = items
        .iter()
        .map(|i| ItemInput {
            category_id: i.category_id,
            estimated_weight_g: i.weight_g,
            estimated_count: i.count,
        })
        .collect();
    validate_items(txn, &as_items, "weight_g")
        .await
        .map_err(|e| match e {
            Error::Validation { message, fields } => Error::Validation {
                message,
                fields: fields
                    .into_iter()
                    .map(|mut f| {
                        f.field = f.field.replace("estimated_count", "count");
                        f
                    })
                    .collect(),
            },
            other => other,
        })?;
    Ok(())
}

/// Records a weigh ticket's actual amounts on the pickup's items.
pub(crate) async fn record_weighed(
    txn: &impl ConnectionTrait,
    id: Uuid,
    items: &[WeighedItem],
) -> Result<()> {
    // The weigh ticket replaces the estimates' actual columns: categories not collected
    // keep their estimate with no actual amount; new ones are added.
    for item in items {
        let updated = pickup_item::Entity::update_many()
            .col_expr(
                pickup_item::Column::ActualWeightG,
                Expr::value(item.weight_g),
            )
            .col_expr(pickup_item::Column::ActualCount, Expr::value(item.count))
            .filter(pickup_item::Column::PickupId.eq(id))
            .filter(pickup_item::Column::CategoryId.eq(item.category_id))
            .exec(txn)
            .await?
            .rows_affected;
        if updated == 0 {
            use sea_orm::{ActiveModelTrait, Set};
            pickup_item::ActiveModel {
                id: Set(Uuid::now_v7()),
                pickup_id: Set(id),
                category_id: Set(item.category_id),
                estimated_weight_g: Set(None),
                estimated_count: Set(None),
                actual_weight_g: Set(item.weight_g),
                actual_count: Set(item.count),
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}
