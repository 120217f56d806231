//! The rules a booking is held to: the address is the caller's, every item names an
//! active category once with an estimate in range for its unit, every photo is the
//! caller's `pickup_photo` upload, and the slot serves the address and is still open. The
//! SQLite path checks them before writing; the PostgreSQL statement checks the same rules
//! in SQL (`batch.sql`) and, when it refuses, these reads say which one failed.

use std::collections::HashSet;

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::input::{BookingInput, ItemInput};
use crate::{
    auth::Principal,
    entities::{address, category, pickup_slot, upload},
    error::{Error, FieldError, Result},
    pickups::{addresses, rules::Rules},
};

/// The largest weight one item may claim: 2 tonnes.
pub const MAX_WEIGHT_G: i32 = 2_000_000;
/// The largest count one item may claim.
pub const MAX_COUNT: i32 = 100;
/// The most items (categories) one booking may name.
pub const MAX_ITEMS: usize = 20;
/// The most photos one booking (or completion) may carry.
pub const MAX_PHOTOS: usize = 9;

/// What a booking has checked: the caller's address, the items' categories (and whether
/// any needs a van), and the open slot.
pub(crate) struct Checked {
    pub(crate) addr: address::Model,
    pub(crate) needs_van: bool,
    pub(crate) cats: Vec<category::Model>,
    pub(crate) slot: pickup_slot::Model,
}

/// Checks booking `input` by `who` against the rows it names, read in one statement.
pub(crate) async fn check_booking(
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
    addr: Option<address::Model>,
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
    prefixed::<address::Column>(&mut q, &a, "a_");
    prefixed::<pickup_slot::Column>(&mut q, &s, "s_");
    prefixed::<category::Column>(&mut q, &c, "c_");
    q.join_as(
        JoinType::LeftJoin,
        address::Entity,
        a.clone(),
        Expr::col((a, address::Column::Id)).eq(input.address_id),
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

/// The model under prefix `pre` in `row`, if its id is not NULL (a left join found it).
pub(crate) fn found<M: sea_orm::FromQueryResult>(
    row: &sea_orm::QueryResult,
    pre: &str,
) -> Result<Option<M>> {
    match row.try_get::<Option<Uuid>>(pre, "id")? {
        Some(_) => Ok(Some(M::from_query_result(row, pre)?)),
        None => Ok(None),
    }
}

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
pub(crate) fn check_items(
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
        match cat.unit {
            category::Unit::Kg => match item.estimated_weight_g {
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
        .filter(upload::Column::Purpose.eq(upload::Purpose::PickupPhoto))
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
fn slot_serves(slot: &pickup_slot::Model, addr: &address::Model) -> bool {
    slot.district_code == addr.district_code
        && (slot.community_id.is_none() || slot.community_id == addr.community_id)
}

/// The slot a resident asked for, if it serves the address and is still open for booking.
pub(crate) async fn bookable_slot(
    txn: &impl ConnectionTrait,
    slot_id: Uuid,
    addr: &address::Model,
    rules: Rules,
) -> Result<pickup_slot::Model> {
    let slot = pickup_slot::Entity::find_by_id(slot_id).one(txn).await?;
    open_slot(slot, addr, rules)
}

/// `slot`, if there is one, it serves the address and it is still open for booking.
pub(crate) fn open_slot(
    slot: Option<pickup_slot::Model>,
    addr: &address::Model,
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
