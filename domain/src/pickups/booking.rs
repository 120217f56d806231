//! The resident's side: book a pickup into a slot (capacity taken by a conditional update,
//! so it is never exceeded however many book at once), list and read pickups, cancel,
//! reschedule atomically into another slot, rate, complain, and dispute recorded weights.
//! Booking, rescheduling and releasing stage `pickup.dispatch` in the same transaction.

use std::collections::HashSet;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    Actor, EventView, ItemView, PickupView, Status, addresses, take_slot, topics::DISPATCH,
};
use crate::{
    auth::{Principal, Role},
    dispatch::{Ahead, FirstRound, FirstTry, Offered},
    entities::{category, pickup, pickup_event, pickup_item, pickup_slot, upload},
    error::{Error, FieldError, Result},
    jobs::outbox,
};

/// How long a booking's dispatch job waits in the outbox for the booking process to
/// claim it (and dispatch inline) before any relay hands it to the queue.
pub const INLINE_DISPATCH_GRACE: Duration = Duration::seconds(2);

pub use super::rules::Rules;

/// One item to collect.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    /// Category id.
    pub category_id: Uuid,
    /// Estimated weight in grams (categories sold by the kg).
    pub estimated_weight_g: Option<i32>,
    /// Estimated count (categories sold by the piece).
    pub estimated_count: Option<i32>,
}

/// A booking.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingInput {
    /// One of the caller's addresses.
    pub address_id: Uuid,
    /// A slot from `GET /v1/pickup-slots` for that address.
    pub slot_id: Uuid,
    /// What to collect, one entry per category.
    pub items: Vec<ItemInput>,
    /// The caller's uploads (purpose `pickup_photo`) showing the items.
    #[serde(default)]
    pub photo_ids: Vec<Uuid>,
    /// Note to the recycler (floor, where to knock …), up to 200 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// The largest weight one item may claim: 2 tonnes.
pub const MAX_WEIGHT_G: i32 = 2_000_000;
/// The largest count one item may claim.
pub const MAX_COUNT: i32 = 100;
/// The most items (categories) one booking may name.
pub const MAX_ITEMS: usize = 20;
/// The most photos one booking (or completion) may carry.
pub const MAX_PHOTOS: usize = 9;

/// Checks items against the catalogue; returns whether any needs a van.
pub(crate) async fn validate_items(
    db: &impl ConnectionTrait,
    items: &[ItemInput],
    weights_field: &str,
) -> Result<(bool, Vec<category::Model>)> {
    let cats = category::Entity::find()
        .filter(category::Column::Id.is_in(items.iter().map(|i| i.category_id)))
        .filter(category::Column::Active.eq(true))
        .all(db)
        .await?;
    check_items(items, cats, weights_field)
}

/// Checks items against `cats`, the active categories among theirs; returns whether any
/// needs a van, and `cats`.
fn check_items(
    items: &[ItemInput],
    cats: Vec<category::Model>,
    weights_field: &str,
) -> Result<(bool, Vec<category::Model>)> {
    let mut errors = Vec::new();
    if items.is_empty() {
        errors.push(FieldError::new(
            "items",
            "required",
            "name at least one item",
        ));
    }
    if items.len() > MAX_ITEMS {
        errors.push(FieldError::new(
            "items",
            "too_many",
            format!("at most {MAX_ITEMS} items"),
        ));
    }
    let mut seen = HashSet::new();
    let mut needs_van = false;
    for (n, item) in items.iter().enumerate() {
        let field = |f: &str| format!("items[{n}].{f}");
        if !seen.insert(item.category_id) {
            errors.push(FieldError::new(
                field("category_id"),
                "duplicate",
                "each category once",
            ));
            continue;
        }
        let Some(cat) = cats.iter().find(|c| c.id == item.category_id) else {
            errors.push(FieldError::new(
                field("category_id"),
                "unknown",
                "no such active category",
            ));
            continue;
        };
        needs_van |= cat.needs_van;
        match cat.unit.as_str() {
            "kg" => match item.estimated_weight_g {
                Some(w) if (1..=MAX_WEIGHT_G).contains(&w) => {}
                Some(_) => errors.push(FieldError::new(
                    field(weights_field),
                    "out_of_range",
                    format!("must be between 1 and {MAX_WEIGHT_G} grams"),
                )),
                None => errors.push(FieldError::new(
                    field(weights_field),
                    "required",
                    "this category is weighed in grams",
                )),
            },
            _ => match item.estimated_count {
                Some(c) if (1..=MAX_COUNT).contains(&c) => {}
                Some(_) => errors.push(FieldError::new(
                    field("estimated_count"),
                    "out_of_range",
                    format!("must be between 1 and {MAX_COUNT}"),
                )),
                None => errors.push(FieldError::new(
                    field("estimated_count"),
                    "required",
                    "this category is counted in pieces",
                )),
            },
        }
    }
    if errors.is_empty() {
        Ok((needs_van, cats))
    } else {
        Err(Error::Validation {
            message: "the items are not valid".into(),
            fields: errors,
        })
    }
}

/// Checks that every photo is the caller's upload for `purpose`.
pub(crate) async fn validate_photos(
    db: &impl ConnectionTrait,
    owner: Uuid,
    ids: &[Uuid],
    field: &str,
    min: usize,
) -> Result<()> {
    if ids.len() < min || ids.len() > MAX_PHOTOS {
        return Err(Error::field(
            field,
            "count",
            format!("give {min} to {MAX_PHOTOS} photos"),
        ));
    }
    let found = upload::Entity::find()
        .filter(upload::Column::Id.is_in(ids.iter().copied()))
        .filter(upload::Column::OwnerId.eq(owner))
        .filter(upload::Column::Purpose.eq("pickup_photo"))
        .all(db)
        .await?;
    if found.len() != ids.iter().collect::<HashSet<_>>().len() {
        return Err(Error::field(
            field,
            "unknown",
            "each photo must be your own upload with purpose pickup_photo",
        ));
    }
    Ok(())
}

/// Whether a slot serves an address: same district, and a community slot only for
/// addresses of that community.
fn slot_serves(slot: &pickup_slot::Model, addr: &crate::entities::address::Model) -> bool {
    slot.district_code == addr.district_code
        && (slot.community_id.is_none() || slot.community_id == addr.community_id)
}

/// The slot a resident asked for, if it serves the address and is still open for booking.
pub(crate) async fn bookable_slot(
    txn: &impl ConnectionTrait,
    slot_id: Uuid,
    addr: &crate::entities::address::Model,
    rules: Rules,
) -> Result<pickup_slot::Model> {
    let slot = pickup_slot::Entity::find_by_id(slot_id).one(txn).await?;
    open_slot(slot, addr, rules)
}

/// `slot`, if there is one, it serves the address and it is still open for booking.
fn open_slot(
    slot: Option<pickup_slot::Model>,
    addr: &crate::entities::address::Model,
    rules: Rules,
) -> Result<pickup_slot::Model> {
    let slot = slot.ok_or_else(|| Error::field("slot_id", "unknown", "no such slot"))?;
    if !slot_serves(&slot, addr) {
        return Err(Error::field(
            "slot_id",
            "not_for_address",
            "this slot does not serve that address",
        ));
    }
    if slot.starts_at - rules.booking_lead <= Utc::now() {
        return Err(Error::Unprocessable {
            code: "slot_closed",
            message: "booking for this slot has closed; choose a later one".into(),
        });
    }
    Ok(slot)
}

/// A booking just committed: what the resident is answered, and the id of the dispatch
/// job it staged (see [`crate::dispatch::Dispatcher::dispatch_staged`]).
#[derive(Debug, Clone)]
pub struct Booked {
    /// The pickup as booked.
    pub view: PickupView,
    /// The outbox row of its `pickup.dispatch` job.
    pub dispatch_job: Uuid,
    /// When that job runs, if it was written as the pickup's next try (nobody was on
    /// shift): no round is made after the commit. `None`: a round is due at once.
    pub waits_until: Option<DateTime<Utc>>,
    /// The pickup's row as written.
    pub pickup: pickup::Model,
    /// When its slot starts.
    pub slot_starts_at: DateTime<Utc>,
    /// The offers of the first round, when the booking wrote it itself (see
    /// [`crate::dispatch::FirstRound`]): to push now. Its dispatch job was not written.
    pub offered: Option<Offered>,
}

/// What a booking has checked: the caller's address, the items' categories (and whether
/// any needs a van), and the open slot.
struct Checked {
    addr: crate::entities::address::Model,
    needs_van: bool,
    cats: Vec<category::Model>,
    slot: pickup_slot::Model,
}

async fn check_booking(
    conn: &impl ConnectionTrait,
    who: &Principal,
    rules: Rules,
    input: &BookingInput,
) -> Result<Checked> {
    let read = read_booking(conn, input).await?;
    let addr = addresses::owned(read.addr, who)?;
    let (needs_van, cats) = check_items(&input.items, read.cats, "estimated_weight_g")?;
    if !input.photo_ids.is_empty() {
        validate_photos(conn, who.user_id, &input.photo_ids, "photo_ids", 0).await?;
    }
    let slot = open_slot(read.slot, &addr, rules)?;
    Ok(Checked {
        addr,
        needs_van,
        cats,
        slot,
    })
}

/// The rows a booking names, as found: its address, its slot, and the active categories
/// among its items'.
struct Named {
    addr: Option<crate::entities::address::Model>,
    slot: Option<pickup_slot::Model>,
    cats: Vec<category::Model>,
}

/// Reads the rows a booking names in ONE statement (a round trip is most of what a read
/// costs): a one-row table left-joined to the address, the slot and the categories, one
/// result row per category found (or a single row when none is). Each table's columns
/// come back under its own prefix.
async fn read_booking(conn: &impl ConnectionTrait, input: &BookingInput) -> Result<Named> {
    use sea_orm::{
        IdenStatic, Iterable,
        sea_query::{Alias, Condition, JoinType, Query, SelectStatement},
    };
    let (a, s, c) = (Alias::new("a"), Alias::new("s"), Alias::new("c"));
    let mut q = Query::select();
    q.from_subquery(
        Query::select()
            .expr_as(Expr::val(1), Alias::new("x"))
            .to_owned(),
        Alias::new("one"),
    );
    /// Selects every column of `C` from `table` as `{pre}{column}`.
    fn prefixed<C: IdenStatic + Iterable>(q: &mut SelectStatement, table: &Alias, pre: &str) {
        for col in C::iter() {
            q.expr_as(
                Expr::col((table.clone(), col)),
                Alias::new(format!("{pre}{}", col.as_str())),
            );
        }
    }
    prefixed::<crate::entities::address::Column>(&mut q, &a, "a_");
    prefixed::<pickup_slot::Column>(&mut q, &s, "s_");
    prefixed::<category::Column>(&mut q, &c, "c_");
    q.join_as(
        JoinType::LeftJoin,
        crate::entities::address::Entity,
        a.clone(),
        Expr::col((a, crate::entities::address::Column::Id)).eq(input.address_id),
    )
    .join_as(
        JoinType::LeftJoin,
        pickup_slot::Entity,
        s.clone(),
        Expr::col((s, pickup_slot::Column::Id)).eq(input.slot_id),
    )
    .join_as(
        JoinType::LeftJoin,
        category::Entity,
        c.clone(),
        Condition::all()
            .add(
                Expr::col((c.clone(), category::Column::Id))
                    .is_in(input.items.iter().map(|i| i.category_id)),
            )
            .add(Expr::col((c, category::Column::Active)).eq(true)),
    );
    let rows = conn
        .query_all_raw(conn.get_database_backend().build(&q))
        .await?;
    let mut named = Named {
        addr: None,
        slot: None,
        cats: Vec::with_capacity(rows.len()),
    };
    for (n, row) in rows.iter().enumerate() {
        if n == 0 {
            named.addr = found(row, "a_")?;
            named.slot = found(row, "s_")?;
        }
        named.cats.extend(found::<category::Model>(row, "c_")?);
    }
    Ok(named)
}

/// Books a pickup.
///
/// Round trips are what a booking costs, so it makes few. On PostgreSQL a booking that
/// is valid costs ONE statement ([`insert_batch_pg`]), shared with the other bookings of
/// its slot waiting at the same moment ([`BOOKINGS`]): it checks the address, the items
/// and the slot, takes the slot's capacity by a conditional update and, only if all of
/// that held, inserts the pickup, its items, its timeline row and its dispatch job
/// (data-modifying `WITH` clauses; the statement is its own transaction, so the slot row
/// that every booking of that slot updates is locked for one statement). Only when it
/// refuses does the booking read the rows it names ([`read_booking`]) to say why, with
/// the same rules the SQLite path checks. On SQLite: the reads, the checks and the writes
/// in one transaction, the slot's update last. The answer is built from what was written
/// rather than read back.
///
/// `first` is when the dispatch job first runs ([`crate::dispatch::Dispatcher::first_try`]):
/// when it waits and the slot is not near, the job is written as the pickup's next try
/// ([`Booked::waits_until`]) and the booking makes no round after its commit.
///
/// `ahead` (PostgreSQL; [`crate::dispatch::Dispatcher::ahead`]): the booking's statement
/// also writes the pickup's first round, in place of its dispatch job, when the pickup is
/// where its candidates were read for ([`FirstRound`]); the answer is then the pickup as
/// offered, and [`Booked::offered`] what to push.
#[tracing::instrument(skip_all, fields(user_id = %who.user_id))]
pub async fn book(
    db: &DatabaseConnection,
    who: &Principal,
    rules: Rules,
    first: FirstTry,
    ahead: Option<Ahead>,
    input: BookingInput,
) -> Result<Booked> {
    who.require_role(&[Role::Resident])?;
    let note = input.note.clone().unwrap_or_default();
    if note.chars().count() > 200 {
        return Err(Error::field("note", "too_long", "at most 200 characters"));
    }
    // What the database will hand back when the row is read: PostgreSQL keeps microseconds.
    let pg = db.get_database_backend() == DatabaseBackend::Postgres;
    let now = if pg {
        Utc::now().trunc_subsecs(6)
    } else {
        Utc::now()
    };
    let actor = Actor::of(who);
    let id = Uuid::now_v7();
    let draft = Draft {
        id,
        now,
        note,
        photo_ids: serde_json::to_string(&input.photo_ids).unwrap_or_else(|_| "[]".into()),
        event: pickup_event::Model {
            id: Uuid::now_v7(),
            pickup_id: id,
            from_status: None,
            to_status: Status::PendingDispatch.as_str().into(),
            actor_id: actor.user_id,
            actor_role: actor.role.into(),
            reason: "booked".into(),
            created_at: now,
        },
        job: crate::entities::outbox::Model {
            id: Uuid::now_v7(),
            topic: DISPATCH.into(),
            payload: serde_json::json!({ "pickup_id": id }).to_string(),
            // The booking process dispatches the pickup itself right after the commit (see
            // `Platform::dispatch_after_commit`); the queue does it only if that has not
            // claimed the job within the grace.
            run_at: now + INLINE_DISPATCH_GRACE,
            created_at: now,
            relayed_at: None,
            relayed_epoch: None,
        },
    };
    let item_ids: Vec<Uuid> = input.items.iter().map(|_| Uuid::now_v7()).collect();
    let first_round = ahead
        .filter(|_| pg)
        .map(|a| std::sync::Arc::new(a.first_round(id, now)));
    // The round the statement wrote: (reason, offers to push).
    let mut offered: Option<(String, Offered)> = None;
    let (checked, mut row, waits_until) = if pg {
        let (checked, with_round) = book_pg(
            db,
            who,
            rules,
            first,
            &first_round,
            &input,
            &draft,
            &item_ids,
        )
        .await?;
        let row = draft.pickup(who, &checked);
        offered = first_round
            .as_deref()
            .filter(|_| with_round)
            .and_then(|r| r.round(checked.needs_van))
            .map(|r| (r.reason.clone(), r.offered(id)));
        let waits = first.waits_until(checked.slot.starts_at, now);
        (checked, row, waits)
    } else {
        let txn = db.begin().await?;
        let checked = check_booking(&txn, who, rules, &input).await?;
        let row = draft.pickup(who, &checked);
        let waits = first.waits_until(checked.slot.starts_at, now);
        pickup::Entity::insert(row.clone().into_active_model().reset_all())
            .exec_without_returning(&txn)
            .await?;
        pickup_item::Entity::insert_many(
            draft
                .items(&input, &item_ids)
                .map(|i| i.into_active_model().reset_all()),
        )
        .exec_without_returning(&txn)
        .await?;
        pickup_event::Entity::insert(draft.event.clone().into_active_model().reset_all())
            .exec_without_returning(&txn)
            .await?;
        crate::entities::outbox::Entity::insert(
            draft
                .job(checked.slot.id, waits)
                .into_active_model()
                .reset_all(),
        )
        .exec_without_returning(&txn)
        .await?;
        take_slot(&txn, checked.slot.id, checked.needs_van).await?;
        txn.commit().await?;
        (checked, row, waits)
    };
    if let Some(at) = waits_until {
        crate::dispatch::log_waiting(&row, at);
    }
    let mut timeline = vec![EventView {
        from: None,
        to: draft.event.to_status.clone(),
        actor_role: draft.event.actor_role.clone(),
        actor_id: draft.event.actor_id,
        reason: draft.event.reason.clone(),
        at: now,
    }];
    if let Some((reason, o)) = &offered {
        row.status = Status::Offered.as_str().into();
        row.dispatch_round = 1;
        timeline.push(EventView {
            from: Some(Status::PendingDispatch.as_str().into()),
            to: Status::Offered.as_str().into(),
            actor_role: Actor::SYSTEM.role.into(),
            actor_id: Actor::SYSTEM.user_id,
            reason: reason.clone(),
            at: now,
        });
        tracing::info!(pickup_id = %id, round = 1, offered = o.offers.len(), "pickup offered with its booking");
    }
    let Checked {
        addr,
        needs_van,
        cats,
        slot,
    } = checked;
    // In the order `view` reads them back.
    let mut ordered: Vec<&ItemInput> = input.items.iter().collect();
    ordered.sort_by_key(|i| i.category_id);
    let items = ordered
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
                actual_weight_g: None,
                actual_count: None,
            }
        })
        .collect();
    let view = PickupView {
        id: draft.id,
        status: row.status.parse()?,
        resident_id: who.user_id,
        address: serde_json::from_str(&row.address_snapshot).unwrap_or(serde_json::Value::Null),
        district_code: addr.district_code,
        slot_id: slot.id,
        slot_starts_at: Some(slot.starts_at),
        slot_ends_at: Some(slot.ends_at),
        needs_van,
        note: draft.note.clone(),
        photo_ids: super::views::uuids(&draft.photo_ids),
        completion_photo_ids: Vec::new(),
        items,
        recycler: None,
        manual_dispatch: false,
        late_cancellation: false,
        rating: None,
        dispute_state: None,
        completed_at: None,
        timeline,
        created_at: now,
    };
    Ok(Booked {
        view,
        dispatch_job: draft.job.id,
        waits_until,
        pickup: row,
        slot_starts_at: slot.starts_at,
        offered: offered.map(|(_, o)| o),
    })
}

/// What a booking writes that does not depend on the rows it names: the pickup's id and
/// time, its note and photos, its timeline row and its dispatch job (as a job due at
/// once; see [`Draft::job`]).
#[derive(Clone)]
struct Draft {
    id: Uuid,
    now: DateTime<Utc>,
    note: String,
    photo_ids: String,
    event: pickup_event::Model,
    job: crate::entities::outbox::Model,
}

impl Draft {
    /// The pickup's row, given what the booking was checked against.
    fn pickup(&self, who: &Principal, c: &Checked) -> pickup::Model {
        pickup::Model {
            id: self.id,
            resident_id: who.user_id,
            address_id: c.addr.id,
            address_snapshot: serde_json::to_string(&addresses::AddressView::from(c.addr.clone()))
                .unwrap_or_default(),
            district_code: c.addr.district_code.clone(),
            community_id: c.addr.community_id,
            lat: c.addr.lat,
            lng: c.addr.lng,
            slot_id: c.slot.id,
            status: Status::PendingDispatch.as_str().into(),
            recycler_id: None,
            needs_van: c.needs_van,
            note: self.note.clone(),
            photo_ids: self.photo_ids.clone(),
            completion_photo_ids: "[]".into(),
            manual_dispatch: false,
            dispatch_round: 0,
            late_cancellation: false,
            rating: None,
            rating_comment: None,
            complaint: None,
            dispute: None,
            dispute_state: None,
            completed_at: None,
            created_at: self.now,
            updated_at: self.now,
        }
    }

    /// The dispatch job, or, when it `waits` ([`FirstTry::waits_until`]), the pickup's
    /// next try at that time, after round 0 in slot `slot_id`.
    fn job(&self, slot_id: Uuid, waits: Option<DateTime<Utc>>) -> crate::entities::outbox::Model {
        let mut job = self.job.clone();
        if let Some(at) = waits {
            job.run_at = at;
            job.payload = crate::dispatch::try_payload(self.id, 0, slot_id).to_string();
        }
        job
    }

    /// The pickup's item rows, `ids[n]` for `input.items[n]`.
    fn items<'a>(
        &'a self,
        input: &'a BookingInput,
        ids: &'a [Uuid],
    ) -> impl Iterator<Item = pickup_item::Model> + 'a {
        input
            .items
            .iter()
            .zip(ids)
            .map(|(item, &id)| pickup_item::Model {
                id,
                pickup_id: self.id,
                category_id: item.category_id,
                estimated_weight_g: item.estimated_weight_g,
                estimated_count: item.estimated_count,
                actual_weight_g: None,
                actual_count: None,
            })
    }
}

/// A booking on PostgreSQL: the one statement that checks and writes it (with
/// `first_round`, if it applies); if that refuses, the reads that say why
/// ([`check_booking`]). When they find nothing wrong, what the statement found and they
/// cannot see is the slot's room: 409 `slot_full`. Returns what was checked and whether
/// the first round was written.
#[allow(clippy::too_many_arguments)]
async fn book_pg(
    db: &DatabaseConnection,
    who: &Principal,
    rules: Rules,
    first: FirstTry,
    first_round: &Option<std::sync::Arc<FirstRound>>,
    input: &BookingInput,
    draft: &Draft,
    item_ids: &[Uuid],
) -> Result<(Checked, bool)> {
    // The checks that need no row are left to the diagnosis, which states them all.
    let distinct: HashSet<Uuid> = input.items.iter().map(|i| i.category_id).collect();
    let shaped = (1..=MAX_ITEMS).contains(&input.items.len())
        && distinct.len() == input.items.len()
        && input.photo_ids.len() <= MAX_PHOTOS;
    if shaped {
        let pending = || Pending {
            who: who.clone(),
            rules,
            first,
            first_round: first_round.clone(),
            input: input.clone(),
            draft: draft.clone(),
            item_ids: item_ids.to_vec(),
        };
        let conn = db.clone();
        let written = BOOKINGS
            .submit(input.slot_id, pending(), move |batch| async move {
                insert_bookings_pg(&conn, batch).await
            })
            .await;
        match written {
            Some(Outcome::Written(written)) => return Ok(*written),
            Some(Outcome::Failed(e)) => return Err(e),
            Some(Outcome::Refused) => {}
            // Not written with the others (or the writer failed): on its own.
            Some(Outcome::Alone) | None => {
                if let Some(written) = insert_one_pg(db, &pending()).await? {
                    return Ok(written);
                }
            }
        }
    }
    let checked = check_booking(db, who, rules, input).await?;
    Err(super::capacity::slot_full(checked.needs_van))
}

/// `table.column AS "{pre}column"` for every column of `C`, comma-separated.
fn prefixed_columns<C: sea_orm::IdenStatic + sea_orm::Iterable>(table: &str, pre: &str) -> String {
    C::iter()
        .map(|col| format!("{table}.\"{0}\" AS \"{pre}{0}\"", col.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The model under prefix `pre` in `row`, if its id is not NULL (a left join found it).
fn found<M: sea_orm::FromQueryResult>(row: &sea_orm::QueryResult, pre: &str) -> Result<Option<M>> {
    match row.try_get::<Option<Uuid>>(pre, "id")? {
        Some(_) => Ok(Some(M::from_query_result(row, pre)?)),
        None => Ok(None),
    }
}

/// The process's queue of bookings on PostgreSQL, by slot ([`super::slot_gate`]).
static BOOKINGS: std::sync::LazyLock<super::slot_gate::SlotQueue<Pending, Outcome>> =
    std::sync::LazyLock::new(Default::default);

/// A booking waiting in [`BOOKINGS`], with what its statement needs, owned.
struct Pending {
    who: Principal,
    rules: Rules,
    first: FirstTry,
    first_round: Option<std::sync::Arc<FirstRound>>,
    input: BookingInput,
    draft: Draft,
    item_ids: Vec<Uuid>,
}

/// What became of a booking in [`BOOKINGS`].
enum Outcome {
    /// Written; what it was checked against, and whether with its first round.
    Written(Box<(Checked, bool)>),
    /// Written alone and refused: a check failed (the caller finds out which).
    Refused,
    /// Not written with the batch it was in: it goes on its own.
    Alone,
    /// Written alone, and its statement failed.
    Failed(Error),
}

/// Writes the bookings of one slot ([`BOOKINGS`] hands over those waiting together) with
/// [`insert_batch_pg`], at most [`BATCH_BYTES`] of them a statement. Answers each, in
/// order. What a batch of several did not write (a booking that failed a check; all, when
/// they did not fit or the statement failed, which is logged) goes on its own, which
/// takes the room left and reports what is wrong.
async fn insert_bookings_pg(db: &DatabaseConnection, batch: Vec<Pending>) -> Vec<Outcome> {
    if let [p] = batch.as_slice() {
        return vec![match insert_one_pg(db, p).await {
            Ok(Some(written)) => Outcome::Written(Box::new(written)),
            Ok(None) => Outcome::Refused,
            Err(e) => Outcome::Failed(e),
        }];
    }
    let records: Vec<BatchRecord> = batch
        .iter()
        .enumerate()
        .map(|(k, p)| BatchRecord::of(k, p))
        .collect();
    let mut written: Vec<Outcome> = batch.iter().map(|_| Outcome::Alone).collect();
    let lead = batch
        .iter()
        .map(|p| p.rules.booking_lead)
        .max()
        .unwrap_or_default();
    let slot = batch[0].input.slot_id;
    for chunk in chunks_within(&records, BATCH_BYTES) {
        match insert_batch_pg(db, slot, lead, chunk).await {
            Ok(done) => {
                for (k, checked, with_round) in done {
                    if let Some(w) = written.get_mut(k) {
                        *w = Outcome::Written(Box::new((checked, with_round)));
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, bookings = chunk.len(), "booking batch failed; writing each alone");
            }
        }
    }
    written
}

/// The most bytes of JSON one batch statement carries. The statement's values travel in
/// one message; over TLS a message larger than a TLS record (16 KiB) is written in two
/// parts, and the driver's socket (no `TCP_NODELAY`) then holds the second part until the
/// first is acknowledged, which the server delays by 40 ms: measured, batches of 17
/// bookings took 47 ms where 16 took 4. So a batch stays well under one record.
const BATCH_BYTES: usize = 12 * 1024;

/// One booking of a batch as [`insert_batch_pg`]'s JSON rows: the booking, its items, its
/// photos and its first rounds ([`FirstRound`]: one if it needs no van, one if it does),
/// each tagged with `k`, the booking's place in the batch.
struct BatchRecord {
    booking: String,
    items: Vec<String>,
    photos: Vec<String>,
    rounds: Vec<String>,
    bytes: usize,
}

impl BatchRecord {
    fn of(k: usize, p: &Pending) -> Self {
        let (d, e, j) = (&p.draft, &p.draft.event, &p.draft.job);
        let slot = p.input.slot_id;
        // When the job waits: what `Draft::job` makes of it, decided on the slot's start
        // inside the statement.
        let wait = match p.first {
            FirstTry::AtOnce => serde_json::Value::Null,
            FirstTry::Wait(policy) => serde_json::json!({
                "payload": crate::dispatch::try_payload(d.id, 0, slot).to_string(),
                "far": d.now + policy.manual_before_delta(),
                "retry_at": d.now + policy.retry_every_delta(),
                "manual_before_secs": policy.manual_before.as_secs_f64(),
            }),
        };
        let photo_ids: HashSet<&Uuid> = p.input.photo_ids.iter().collect();
        let booking = serde_json::json!({
            "k": k, "id": d.id, "user_id": p.who.user_id, "address_id": p.input.address_id,
            "note": d.note, "photo_ids": d.photo_ids, "at": d.now,
            "event_id": e.id, "from_status": e.from_status, "to_status": e.to_status,
            "actor_id": e.actor_id, "actor_role": e.actor_role, "reason": e.reason,
            "job_id": j.id, "topic": j.topic, "payload": j.payload, "run_at": j.run_at,
            "wait_payload": wait["payload"], "far": wait["far"], "retry_at": wait["retry_at"],
            "manual_before_secs": wait["manual_before_secs"],
            "n_items": p.input.items.len(),
            "n_photos": photo_ids.len(),
        });
        let items: Vec<_> = p
            .input
            .items
            .iter()
            .zip(&p.item_ids)
            .map(|(i, &id)| {
                serde_json::json!({
                    "k": k, "item_id": id, "category_id": i.category_id,
                    "weight": i.estimated_weight_g, "count": i.estimated_count,
                })
            })
            .collect();
        let photos: Vec<_> = photo_ids
            .into_iter()
            .map(|id| serde_json::json!({ "k": k, "upload_id": id }))
            .collect();
        let rounds: Vec<_> = p
            .first_round
            .as_deref()
            .map(|f| first_round_rows(k, f))
            .unwrap_or_default();
        // Serialised once: the size decides the batch, the text is what is sent.
        let text = |v: &serde_json::Value| v.to_string();
        let (booking, items, photos, rounds) = (
            text(&booking),
            items.iter().map(text).collect::<Vec<_>>(),
            photos.iter().map(text).collect::<Vec<_>>(),
            rounds.iter().map(text).collect::<Vec<_>>(),
        );
        let bytes = std::iter::once(&booking)
            .chain(&items)
            .chain(&photos)
            .chain(&rounds)
            .map(|t| t.len() + 1)
            .sum();
        Self {
            booking,
            items,
            photos,
            rounds,
            bytes,
        }
    }
}

/// The JSON rows of booking `k`'s first round `f` for [`insert_batch_pg`]: one for each
/// answer to whether the pickup needs a van that has a round, with where it was read for,
/// its timeline row (from pending to offered, by the system), its offers and its jobs.
fn first_round_rows(k: usize, f: &FirstRound) -> Vec<serde_json::Value> {
    [false, true]
        .into_iter()
        .filter_map(|van| f.round(van).map(|r| (van, r)))
        .map(|(van, r)| {
            let offers: Vec<_> = r
                .offers
                .iter()
                .map(|o| {
                    serde_json::json!({
                        "id": o.id, "recycler_id": o.recycler_id, "round": o.round,
                        "status": o.status, "expires_at": o.expires_at, "created_at": o.created_at,
                    })
                })
                .collect();
            let jobs: Vec<_> = outbox::rows(r.jobs.clone())
                .into_iter()
                .map(|j| {
                    serde_json::json!({
                        "id": j.id, "topic": j.topic, "payload": j.payload,
                        "run_at": j.run_at, "created_at": j.created_at,
                    })
                })
                .collect();
            serde_json::json!({
                "k": k, "van": van, "slot_id": f.slot_id, "district_code": f.district_code,
                "lat": f.at.lat, "lng": f.at.lng, "far": f.far,
                "round": r.number, "event_id": Uuid::now_v7(),
                "from_status": Status::PendingDispatch.as_str(),
                "to_status": Status::Offered.as_str(),
                "actor_id": Actor::SYSTEM.user_id, "actor_role": Actor::SYSTEM.role,
                "reason": r.reason, "at": r.now, "offers": offers, "jobs": jobs,
            })
        })
        .collect()
}

/// `records` in order, cut into runs of at most `budget` bytes (a record larger than that
/// alone is a run of one).
fn chunks_within(records: &[BatchRecord], budget: usize) -> Vec<&[BatchRecord]> {
    let mut chunks = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (n, r) in records.iter().enumerate() {
        if n > start && bytes + r.bytes > budget {
            chunks.push(&records[start..n]);
            (start, bytes) = (n, 0);
        }
        bytes += r.bytes;
    }
    if start < records.len() {
        chunks.push(&records[start..]);
    }
    chunks
}

/// One booking alone: [`insert_batch_pg`] with a batch of one. `None` when it failed a
/// check or the slot had no room.
async fn insert_one_pg(db: &DatabaseConnection, p: &Pending) -> Result<Option<(Checked, bool)>> {
    let records = [BatchRecord::of(0, p)];
    let written = insert_batch_pg(db, p.input.slot_id, p.rules.booking_lead, &records).await?;
    Ok(written
        .into_iter()
        .next()
        .map(|(_, checked, with_round)| (checked, with_round)))
}

/// Bookings of ONE slot as one statement. A booking passes only when every check holds:
///
/// - the address is the caller's and not deleted;
/// - every item's category is active and its estimate is in range for its unit (weight
///   for `kg`, count otherwise), and every photo is the caller's `pickup_photo` upload;
/// - the slot serves the address (same district; a community slot only its community) and
///   is still open (`starts_at` after now plus the booking lead).
///
/// The slot's capacity (and van capacity) is then taken for all that passed by one
/// conditional update, which holds only if they all fit, and the pickups (each address
/// snapshot made from the address row, as [`addresses::AddressView`] serialises it), their
/// items, timeline rows and dispatch jobs are inserted from its result: all of it is
/// written or none. A booking with a first round ([`FirstRound`]) whose pickup is where
/// that round was read for (slot, district, position; the pickup's need of a van picks
/// the round) and whose slot is not near is written offered instead: with the round's
/// timeline row, offers and jobs, and without its dispatch job. The bookings, their items,
/// their photos and their rounds travel as four JSON arrays, so the statement's text is
/// the same for every batch and stays prepared. Returns `(place in the batch, what it was
/// checked against, whether with its first round)` for each booking written, in order:
/// none when they did not fit. Items must be 1 to [`MAX_ITEMS`] distinct
/// categories and photos at most [`MAX_PHOTOS`], checked by the caller: the statement
/// counts matches against them.
async fn insert_batch_pg(
    db: &DatabaseConnection,
    slot: Uuid,
    lead: Duration,
    records: &[BatchRecord],
) -> Result<Vec<(usize, Checked, bool)>> {
    let array = |rows: Vec<&str>| format!("[{}]", rows.join(","));
    let bookings = array(records.iter().map(|r| r.booking.as_str()).collect());
    // Every record's rows of one kind, as one array.
    let all = |rows: fn(&BatchRecord) -> &[String]| {
        array(records.iter().flat_map(rows).map(String::as_str).collect())
    };
    let (items, photos, rounds) = (all(|r| &r.items), all(|r| &r.photos), all(|r| &r.rounds));
    let sql = BATCH_SQL.get_or_init(|| {
        let a_cols = prefixed_columns::<crate::entities::address::Column>("(ok.addr)", "a_");
        let s_cols = prefixed_columns::<pickup_slot::Column>("s", "s_");
        let c_cols = prefixed_columns::<category::Column>("c", "c_");
        format!(
            "WITH b AS (\
               SELECT * FROM json_to_recordset($1::json) AS b (k int, id uuid, user_id uuid, \
                 address_id uuid, note text, photo_ids text, at timestamptz, event_id uuid, \
                 from_status text, to_status text, actor_id uuid, actor_role text, reason text, \
                 job_id uuid, topic text, payload text, run_at timestamptz, wait_payload text, \
                 far timestamptz, retry_at timestamptz, manual_before_secs float8, n_items int, \
                 n_photos int)), \
             it AS (SELECT * FROM json_to_recordset($2::json) AS i (k int, item_id uuid, \
               category_id uuid, weight int4, count int4)), \
             ph AS (SELECT * FROM json_to_recordset($3::json) AS f (k int, upload_id uuid)), \
             sl AS (SELECT * FROM pickup_slots WHERE id = $4 AND starts_at > $5), \
             c AS (\
               SELECT cat.*, it.k AS bk, it.item_id, it.weight, it.count \
               FROM it JOIN categories cat ON cat.id = it.category_id \
               WHERE cat.active AND CASE WHEN cat.unit = 'kg' \
                 THEN it.weight BETWEEN 1 AND {MAX_WEIGHT_G} \
                 ELSE it.count BETWEEN 1 AND {MAX_COUNT} END), \
             ok AS (\
               SELECT b.*, a AS addr, v.van FROM b \
               JOIN addresses a ON a.id = b.address_id AND a.user_id = b.user_id \
                 AND NOT a.deleted \
               JOIN sl ON sl.district_code = a.district_code \
                 AND (sl.community_id IS NULL OR sl.community_id = a.community_id) \
               CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(bool_or(c.needs_van), false) \
                 AS van FROM c WHERE c.bk = b.k) v \
               WHERE v.n = b.n_items AND (b.n_photos = 0 OR (SELECT count(*) FROM ph \
                 JOIN uploads u ON u.id = ph.upload_id WHERE ph.k = b.k \
                 AND u.owner_id = b.user_id AND u.purpose = 'pickup_photo') = b.n_photos)), \
             n AS (SELECT count(*) AS n, count(*) FILTER (WHERE van) AS vans FROM ok), \
             s AS (\
               UPDATE pickup_slots AS t SET booked = t.booked + n.n, \
                 van_booked = t.van_booked + n.vans \
               FROM n \
               WHERE t.id = $4 AND n.n > 0 AND t.starts_at > $5 \
                 AND t.booked + n.n <= t.capacity AND t.van_booked + n.vans <= t.van_capacity \
               RETURNING t.*), \
             r AS (SELECT * FROM json_to_recordset($6::json) AS r (k int, van bool, \
               slot_id uuid, district_code text, lat float8, lng float8, far timestamptz, \
               round int, event_id uuid, from_status text, to_status text, actor_id uuid, \
               actor_role text, reason text, at timestamptz, offers json, jobs json)), \
             ro AS (\
               SELECT r.*, ok.id AS pickup_id FROM ok \
               JOIN r ON r.k = ok.k AND r.van = ok.van \
                 AND r.district_code = (ok.addr).district_code \
                 AND r.lat = (ok.addr).lat AND r.lng = (ok.addr).lng \
               JOIN s ON s.id = r.slot_id AND s.starts_at > r.far), \
             p AS (\
               INSERT INTO pickups (id, resident_id, address_id, address_snapshot, \
                 district_code, community_id, lat, lng, slot_id, status, needs_van, note, \
                 photo_ids, completion_photo_ids, manual_dispatch, dispatch_round, \
                 late_cancellation, created_at, updated_at) \
               SELECT ok.id, ok.user_id, (ok.addr).id, \
                 (SELECT row_to_json(v)::text FROM (SELECT (ok.addr).id, (ok.addr).label, \
                   (ok.addr).contact_name, (ok.addr).contact_phone, (ok.addr).district_code, \
                   (ok.addr).community, (ok.addr).community_id, (ok.addr).detail, \
                   (ok.addr).lat, (ok.addr).lng) v), \
                 (ok.addr).district_code, (ok.addr).community_id, (ok.addr).lat, \
                 (ok.addr).lng, s.id, coalesce(ro.to_status, ok.to_status), ok.van, ok.note, \
                 ok.photo_ids, '[]', false, coalesce(ro.round, 0), false, ok.at, ok.at \
               FROM ok CROSS JOIN s LEFT JOIN ro ON ro.k = ok.k RETURNING id), \
             i AS (\
               INSERT INTO pickup_items (id, pickup_id, category_id, estimated_weight_g, \
                 estimated_count) \
               SELECT c.item_id, p.id, c.id, c.weight, c.count \
               FROM c JOIN ok ON ok.k = c.bk JOIN p ON p.id = ok.id), \
             e AS (\
               INSERT INTO pickup_events (id, pickup_id, from_status, to_status, actor_id, \
                 actor_role, reason, created_at) \
               SELECT ok.event_id, p.id, ok.from_status, ok.to_status, ok.actor_id, \
                 ok.actor_role, ok.reason, ok.at \
               FROM ok JOIN p ON p.id = ok.id \
               UNION ALL \
               SELECT ro.event_id, p.id, ro.from_status, ro.to_status, ro.actor_id, \
                 ro.actor_role, ro.reason, ro.at \
               FROM ro JOIN p ON p.id = ro.pickup_id), \
             rf AS (\
               INSERT INTO offers (id, pickup_id, recycler_id, round, status, expires_at, \
                 created_at) \
               SELECT x.id, p.id, x.recycler_id, x.round, x.status, x.expires_at, x.created_at \
               FROM ro JOIN p ON p.id = ro.pickup_id CROSS JOIN LATERAL \
                 json_to_recordset(ro.offers) AS x (id uuid, recycler_id uuid, round int, \
                 status text, expires_at timestamptz, created_at timestamptz)), \
             rj AS (\
               INSERT INTO outbox (id, topic, payload, run_at, created_at) \
               SELECT x.id, x.topic, x.payload, x.run_at, x.created_at \
               FROM ro JOIN p ON p.id = ro.pickup_id CROSS JOIN LATERAL \
                 json_to_recordset(ro.jobs) AS x (id uuid, topic text, payload text, \
                 run_at timestamptz, created_at timestamptz)), \
             o AS (\
               INSERT INTO outbox (id, topic, payload, run_at, created_at) \
               SELECT ok.job_id, ok.topic, \
                 CASE WHEN ok.far IS NOT NULL AND s.starts_at > ok.far \
                   THEN ok.wait_payload ELSE ok.payload END, \
                 CASE WHEN ok.far IS NOT NULL AND s.starts_at > ok.far \
                   THEN least(ok.retry_at, \
                     s.starts_at - make_interval(secs => ok.manual_before_secs)) \
                   ELSE ok.run_at END, \
                 ok.at \
               FROM ok JOIN p ON p.id = ok.id CROSS JOIN s LEFT JOIN ro ON ro.k = ok.k \
               WHERE ro.k IS NULL) \
             SELECT ok.k, ok.van AS needs_van, ro.k IS NOT NULL AS with_round, {a_cols}, \
               {s_cols}, {c_cols} \
             FROM ok CROSS JOIN s JOIN c ON c.bk = ok.k LEFT JOIN ro ON ro.k = ok.k \
             ORDER BY ok.k"
        )
    });
    let mut args = crate::db::SqlArgs::default();
    args.arg(bookings);
    args.arg(items);
    args.arg(photos);
    args.arg(slot);
    args.arg(Utc::now() + lead);
    args.arg(rounds);
    let rows = db.query_all_raw(args.statement(sql.clone())).await?;
    let mut written: Vec<(usize, Checked, bool)> = Vec::with_capacity(records.len());
    for row in &rows {
        let k = usize::try_from(row.try_get::<i32>("", "k")?)
            .map_err(|e| Error::Internal(anyhow::anyhow!("booking batch row: {e}")))?;
        let cats = found::<category::Model>(row, "c_")?;
        match written.last_mut() {
            // Rows come ordered by booking, one per item.
            Some((last, checked, _)) if *last == k => checked.cats.extend(cats),
            _ => {
                let (Some(addr), Some(slot)) = (found(row, "a_")?, found(row, "s_")?) else {
                    continue;
                };
                written.push((
                    k,
                    Checked {
                        addr,
                        needs_van: row.try_get("", "needs_van")?,
                        cats: cats.into_iter().collect(),
                        slot,
                    },
                    row.try_get("", "with_round")?,
                ));
            }
        }
    }
    Ok(written)
}

/// [`insert_batch_pg`]'s statement, made once.
static BATCH_SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
