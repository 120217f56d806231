//! Concrete pickup slots: generated from templates, looked up for an address.
//!
//! Times: templates are written in Asia/Shanghai wall-clock time; slots are stored in UTC.
//! China has observed no daylight saving time since 1991, so a fixed UTC+8 offset
//! ([`shanghai`]) converts exactly and needs no time-zone database.
//!
//! Scopes: a slot belongs to `c:<community_id>` (from a community template) or
//! `d:<district_code>` (from a district template, or from a city-wide template, which yields
//! district slots for every served district that has no district template of its own that
//! weekday). A resident's address sees its community's slots when that community has any that
//! day, otherwise its district's.
//!
//! Generation ([`generate`]) only inserts, keyed by `(scope_key, starts_at)` with ON CONFLICT
//! DO NOTHING, and skips any scope-day that already has slots: it is idempotent, never
//! touches booked counts, and a template change affects only days not generated yet (slots
//! already generated, booked or not, stay as they were). This module never books; capacity is
//! taken by the pickups service with conditional updates.

pub mod templates;

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Offset, TimeDelta, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    entities::{address, community, district, pickup_slot, slot_template},
    error::{Error, Result},
    jobs::JobHandler,
    ports::queue::Delivery,
};

/// How many days ahead residents may look up and book (today + 14).
pub const HORIZON_DAYS: u32 = 14;
/// How many days [`generate`] covers from today: today and the [`HORIZON_DAYS`] after it.
pub const GENERATE_DAYS: u32 = HORIZON_DAYS + 1;
/// Topic of the scheduled generation job.
pub const GENERATE_TOPIC: &str = "slots.generate";
/// Rows per INSERT statement (whole scope-days only, so a day is never half-generated).
const INSERT_BATCH: usize = 200;

/// Asia/Shanghai: UTC+8 all year (no DST), so a fixed offset is exact.
pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or(Utc.fix())
}

/// The Asia/Shanghai calendar date at `now`.
pub fn local_today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&shanghai()).date_naive()
}

/// Scope key of a community's slots.
pub fn community_scope(id: Uuid) -> String {
    format!("c:{id}")
}

/// Scope key of a district's slots.
pub fn district_scope(code: &str) -> String {
    format!("d:{code}")
}

/// Parses a `YYYY-MM-DD` date (422 on the field `date` otherwise).
pub fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|_| s.len() == 10)
        .ok_or_else(|| Error::field("date", "invalid", "must be a date YYYY-MM-DD"))
}

struct PlannedScope {
    district_code: String,
    community_id: Option<Uuid>,
    windows: Vec<(Uuid, templates::Window)>,
}

/// Inserts the slots missing for `days` days from `from` (Asia/Shanghai dates) and returns
/// how many rows it inserted. Safe to run concurrently and repeatedly.
#[tracing::instrument(skip(db))]
pub async fn generate(db: &impl ConnectionTrait, from: NaiveDate, days: u32) -> Result<u64> {
    if days == 0 {
        return Ok(0);
    }
    let until = from + TimeDelta::days(i64::from(days) - 1);
    let served: Vec<String> = district::Entity::find()
        .filter(district::Column::Served.eq(true))
        .order_by_asc(district::Column::SortOrder)
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.code)
        .collect();
    let served_set: HashSet<&str> = served.iter().map(String::as_str).collect();
    let tpls = slot_template::Entity::find()
        .filter(slot_template::Column::Active.eq(true))
        .order_by_asc(slot_template::Column::CreatedAt)
        .all(db)
        .await?;
    let community_district: HashMap<Uuid, String> = community::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.district_code))
        .collect();
    let mut parsed = Vec::with_capacity(tpls.len());
    for t in &tpls {
        match (templates::stored_windows(t), templates::stored_weekdays(t)) {
            (Ok(w), Ok(d)) => parsed.push((t, w, d)),
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(template = %t.id, error = %e, "slot template skipped");
            }
        }
    }
    let existing: HashSet<(String, String)> = pickup_slot::Entity::find()
        .select_only()
        .column(pickup_slot::Column::ScopeKey)
        .column(pickup_slot::Column::LocalDate)
        .distinct()
        .filter(pickup_slot::Column::LocalDate.gte(from.format("%Y-%m-%d").to_string()))
        .filter(pickup_slot::Column::LocalDate.lte(until.format("%Y-%m-%d").to_string()))
        .into_tuple::<(String, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();

    let tz = shanghai();
    let now = Utc::now();
    let mut inserted = 0u64;
    let mut batch: Vec<pickup_slot::ActiveModel> = Vec::new();
    for offset in 0..days {
        let date = from + TimeDelta::days(i64::from(offset));
        let local_date = date.format("%Y-%m-%d").to_string();
        let weekday = date.weekday().number_from_monday() as u8;
        let mut plan: HashMap<String, PlannedScope> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        let mut add = |key: String,
                       district: &str,
                       community: Option<Uuid>,
                       tid: Uuid,
                       ws: &[templates::Window]| {
            let entry = plan.entry(key.clone()).or_insert_with(|| {
                order.push(key);
                PlannedScope {
                    district_code: district.to_string(),
                    community_id: community,
                    windows: Vec::new(),
                }
            });
            entry.windows.extend(ws.iter().map(|w| (tid, *w)));
        };
        let today: Vec<_> = parsed
            .iter()
            .filter(|(_, _, d)| d.contains(&weekday))
            .collect();
        let mut has_own: HashSet<&str> = HashSet::new();
        for (t, ws, _) in &today {
            match (&t.district_code, t.community_id) {
                (_, Some(cid)) => {
                    let Some(d) = community_district.get(&cid) else {
                        continue;
                    };
                    if served_set.contains(d.as_str()) {
                        add(community_scope(cid), d, Some(cid), t.id, ws);
                    }
                }
                (Some(d), None) => {
                    if served_set.contains(d.as_str()) {
                        has_own.insert(d.as_str());
                        add(district_scope(d), d, None, t.id, ws);
                    }
                }
                (None, None) => {}
            }
        }
        for (t, ws, _) in &today {
            if t.district_code.is_none() && t.community_id.is_none() {
                for d in served.iter().filter(|d| !has_own.contains(d.as_str())) {
                    add(district_scope(d), d, None, t.id, ws);
                }
            }
        }
        for key in order {
            if existing.contains(&(key.clone(), local_date.clone())) {
                continue;
            }
            let Some(scope) = plan.remove(&key) else {
                continue;
            };
            let mut starts = HashSet::new();
            let mut rows = Vec::new();
            for (tid, w) in scope.windows {
                let (Some(starts_at), Some(ends_at)) = (
                    date.and_time(w.start).and_local_timezone(tz).single(),
                    date.and_time(w.end).and_local_timezone(tz).single(),
                ) else {
                    continue;
                };
                if !starts.insert(starts_at) {
                    continue;
                }
                rows.push(pickup_slot::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    district_code: Set(scope.district_code.clone()),
                    community_id: Set(scope.community_id),
                    scope_key: Set(key.clone()),
                    local_date: Set(local_date.clone()),
                    starts_at: Set(starts_at.with_timezone(&Utc)),
                    ends_at: Set(ends_at.with_timezone(&Utc)),
                    capacity: Set(w.capacity),
                    booked: Set(0),
                    van_capacity: Set(w.van_capacity),
                    van_booked: Set(0),
                    template_id: Set(Some(tid)),
                    created_at: Set(now),
                });
            }
            if batch.len() + rows.len() > INSERT_BATCH {
                inserted += insert(db, std::mem::take(&mut batch)).await?;
            }
            batch.extend(rows);
        }
    }
    inserted += insert(db, batch).await?;
    if inserted > 0 {
        tracing::info!(inserted, %from, days, "pickup slots generated");
    }
    Ok(inserted)
}

async fn insert(db: &impl ConnectionTrait, rows: Vec<pickup_slot::ActiveModel>) -> Result<u64> {
    use sea_orm::TryInsertResult;
    if rows.is_empty() {
        return Ok(0);
    }
    let res = pickup_slot::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([pickup_slot::Column::ScopeKey, pickup_slot::Column::StartsAt])
        .exec_without_returning(db)
        .await?;
    Ok(match res {
        TryInsertResult::Inserted(n) => n,
        TryInsertResult::Empty | TryInsertResult::Conflicted => 0,
    })
}

/// A slot as residents see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SlotView {
    /// The slot's id (book with it).
    pub id: Uuid,
    /// Start (UTC).
    pub starts_at: DateTime<Utc>,
    /// End (UTC).
    pub ends_at: DateTime<Utc>,
    /// Pickups it takes.
    pub capacity: i32,
    /// Pickups still free.
    pub remaining: i32,
    /// Van pickups still free.
    pub van_remaining: i32,
    /// Whether it can be booked now: it starts later than now plus the booking lead time,
    /// and has room.
    pub bookable: bool,
}

impl SlotView {
    /// The view of `slot` at `now` with booking lead time `lead`.
    pub fn of(slot: &pickup_slot::Model, now: DateTime<Utc>, lead: TimeDelta) -> Self {
        let remaining = (slot.capacity - slot.booked).max(0);
        Self {
            id: slot.id,
            starts_at: slot.starts_at,
            ends_at: slot.ends_at,
            capacity: slot.capacity,
            remaining,
            van_remaining: (slot.van_capacity - slot.van_booked).max(0),
            bookable: slot.starts_at - lead > now && remaining > 0,
        }
    }
}

/// The slots an address can choose from on `date` (Asia/Shanghai), earliest first: its
/// community's if that community has any that day, otherwise its district's. Empty when the
/// district is not served or `date` is beyond the booking horizon.
pub async fn for_address(
    db: &impl ConnectionTrait,
    address: &address::Model,
    date: NaiveDate,
    now: DateTime<Utc>,
    lead: TimeDelta,
) -> Result<Vec<SlotView>> {
    if date > local_today(now) + TimeDelta::days(i64::from(HORIZON_DAYS)) {
        return Ok(vec![]);
    }
    let served = district::Entity::find_by_id(address.district_code.clone())
        .one(db)
        .await?
        .is_some_and(|d| d.served);
    if !served {
        return Ok(vec![]);
    }
    let local_date = date.format("%Y-%m-%d").to_string();
    let find = |scope: String| {
        pickup_slot::Entity::find()
            .filter(pickup_slot::Column::ScopeKey.eq(scope))
            .filter(pickup_slot::Column::LocalDate.eq(local_date.clone()))
            .order_by_asc(pickup_slot::Column::StartsAt)
            .all(db)
    };
    let mut slots = match address.community_id {
        Some(c) => find(community_scope(c)).await?,
        None => vec![],
    };
    if slots.is_empty() {
        slots = find(district_scope(&address.district_code)).await?;
    }
    Ok(slots.iter().map(|s| SlotView::of(s, now, lead)).collect())
}

/// [`for_address`] for one of `resident`'s own addresses; anyone else's (or a deleted one)
/// is a 404.
#[tracing::instrument(skip(db))]
pub async fn for_resident(
    db: &impl ConnectionTrait,
    resident: Uuid,
    address_id: Uuid,
    date: NaiveDate,
    now: DateTime<Utc>,
    lead: TimeDelta,
) -> Result<Vec<SlotView>> {
    let address = address::Entity::find_by_id(address_id)
        .filter(address::Column::UserId.eq(resident))
        .filter(address::Column::Deleted.eq(false))
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "address" })?;
    for_address(db, &address, date, now, lead).await
}

/// The slots' jobs: generating slots, every tick.
pub fn jobs(db: &DatabaseConnection) -> crate::jobs::Jobs {
    crate::jobs::Jobs::default().periodic(GENERATE_TOPIC, GenerateSlots { db: db.clone() })
}

/// The scheduled job: generates today and the next [`HORIZON_DAYS`] days. Idempotent.
pub struct GenerateSlots {
    /// The database.
    pub db: DatabaseConnection,
}

#[async_trait]
impl JobHandler for GenerateSlots {
    async fn handle(&self, _job: &Delivery) -> anyhow::Result<()> {
        generate(&self.db, local_today(Utc::now()), GENERATE_DAYS).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveTime, TimeZone};

    use super::*;

    #[test]
    fn shanghai_wall_clock_maps_to_utc_minus_eight_hours() {
        let date = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        let local = date
            .and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap())
            .and_local_timezone(shanghai())
            .single()
            .unwrap();
        assert_eq!(
            local.with_timezone(&Utc),
            Utc.with_ymd_and_hms(2026, 7, 1, 1, 0, 0).unwrap()
        );
        // 23:30 UTC is already the next day in Shanghai.
        let late = Utc.with_ymd_and_hms(2026, 7, 1, 23, 30, 0).unwrap();
        assert_eq!(
            local_today(late),
            NaiveDate::from_ymd_opt(2026, 7, 2).unwrap()
        );
    }

    #[test]
    fn a_slot_closes_at_the_lead_time_or_when_full() {
        let starts = Utc.with_ymd_and_hms(2026, 7, 1, 1, 0, 0).unwrap();
        let slot = pickup_slot::Model {
            id: Uuid::nil(),
            district_code: "371502".into(),
            community_id: None,
            scope_key: "d:371502".into(),
            local_date: "2026-07-01".into(),
            starts_at: starts,
            ends_at: starts + TimeDelta::hours(2),
            capacity: 10,
            booked: 9,
            van_capacity: 2,
            van_booked: 2,
            template_id: None,
            created_at: starts,
        };
        let lead = TimeDelta::minutes(60);
        let v = SlotView::of(&slot, starts - TimeDelta::minutes(61), lead);
        assert!(v.bookable);
        assert_eq!((v.remaining, v.van_remaining), (1, 0));
        assert!(!SlotView::of(&slot, starts - TimeDelta::minutes(60), lead).bookable);
        let full = pickup_slot::Model { booked: 10, ..slot };
        assert!(!SlotView::of(&full, starts - TimeDelta::days(1), lead).bookable);
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2026-07-01").is_ok());
        for bad in ["2026-7-1", "2026-02-30", "tomorrow", "", "2026-07-01T00:00"] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }
}
