//! Versioned rates. A category's points and service fee change only by adding a version with
//! an `effective_from`; a version is in force from its `effective_from` until the next
//! version's (half-open: at the exact instant of a change the new version applies). Versions
//! that have taken effect are history: they are never updated or deleted, and a new version
//! may not start in the past, so "the rate in force when an order was completed" never
//! changes after the fact.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    audit,
    auth::Principal,
    entities::{category, category_rate},
    error::{Error, Result},
    validate::Check,
};

/// How far in the past a requested `effective_from` may lie and still be taken as "now"
/// (client clocks drift; a minute cannot have settled anything worth protecting, and the
/// version is stored from the server's now, not the client's instant).
pub const CLOCK_SKEW: TimeDelta = TimeDelta::seconds(60);

/// Largest points per unit a rate may award.
pub const MAX_POINTS_PER_UNIT: i64 = 100_000;
/// Largest service fee per unit, in fen (¥100,000).
pub const MAX_FEE_FEN_PER_UNIT: i64 = 10_000_000;

/// The version in force at `at` among `versions` of one category, in any order: the one with
/// the latest `effective_from` not after `at`.
pub fn in_force(
    versions: &[category_rate::Model],
    at: DateTime<Utc>,
) -> Option<&category_rate::Model> {
    versions
        .iter()
        .filter(|v| v.effective_from <= at)
        .max_by_key(|v| v.effective_from)
}

/// The rate version of `category_id` in force at `at`, if the category had one then.
/// Settlement calls this with the order's completion time.
pub async fn rate_at(
    db: &impl ConnectionTrait,
    category_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<category_rate::Model>> {
    Ok(category_rate::Entity::find()
        .filter(category_rate::Column::CategoryId.eq(category_id))
        .filter(category_rate::Column::EffectiveFrom.lte(at))
        .order_by_desc(category_rate::Column::EffectiveFrom)
        .one(db)
        .await?)
}

/// Where a version stands relative to now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RateState {
    /// Takes effect later.
    Scheduled,
    /// In force now.
    Current,
    /// Superseded; history.
    Past,
}

/// One version of a category's rate, with the instant it stopped (or will stop) applying.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RateVersionView {
    /// The version's id.
    pub id: Uuid,
    /// The category.
    pub category_id: Uuid,
    /// The category's stable code.
    pub category_code: String,
    /// Points per unit (kg or piece) while in force.
    pub points_per_unit: i32,
    /// Recycler's service fee per unit, in fen, while in force.
    pub service_fee_fen_per_unit: i32,
    /// When it takes effect (inclusive).
    pub effective_from: DateTime<Utc>,
    /// When the next version takes effect (exclusive); `null` while open-ended.
    pub effective_until: Option<DateTime<Utc>>,
    /// Scheduled, current or past, as of the answer.
    pub state: RateState,
}

/// Every version of one category (or of all when `None`), newest `effective_from` first
/// (scheduled versions included; ties between categories by category order). An unknown
/// category is a 404.
pub async fn history(
    db: &impl ConnectionTrait,
    category_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Vec<RateVersionView>> {
    let mut cats = category::Entity::find();
    let mut rates = category_rate::Entity::find();
    if let Some(id) = category_id {
        cats = cats.filter(category::Column::Id.eq(id));
        rates = rates.filter(category_rate::Column::CategoryId.eq(id));
    }
    let cats: HashMap<Uuid, category::Model> =
        cats.all(db).await?.into_iter().map(|c| (c.id, c)).collect();
    if category_id.is_some() && cats.is_empty() {
        return Err(Error::NotFound { what: "category" });
    }
    let rates = rates
        .order_by_asc(category_rate::Column::CategoryId)
        .order_by_asc(category_rate::Column::EffectiveFrom)
        .all(db)
        .await?;
    let mut views = versions_with_until(&rates, now, |id| {
        cats.get(&id).map(|c| c.code.clone()).unwrap_or_default()
    });
    let order = |id: &Uuid| cats.get(id).map(|c| c.sort_order).unwrap_or(i32::MAX);
    views.sort_by(|a, b| {
        b.effective_from
            .cmp(&a.effective_from)
            .then_with(|| order(&a.category_id).cmp(&order(&b.category_id)))
    });
    Ok(views)
}

/// Views of `rates` (sorted by category, then `effective_from`), each closed by the next
/// version of its category.
fn versions_with_until(
    rates: &[category_rate::Model],
    now: DateTime<Utc>,
    code_of: impl Fn(Uuid) -> String,
) -> Vec<RateVersionView> {
    rates
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let until = rates
                .get(i + 1)
                .filter(|next| next.category_id == r.category_id)
                .map(|next| next.effective_from);
            let state = if r.effective_from > now {
                RateState::Scheduled
            } else if until.is_some_and(|u| u <= now) {
                RateState::Past
            } else {
                RateState::Current
            };
            RateVersionView {
                id: r.id,
                category_id: r.category_id,
                category_code: code_of(r.category_id),
                points_per_unit: r.points_per_unit,
                service_fee_fen_per_unit: r.service_fee_fen_per_unit,
                effective_from: r.effective_from,
                effective_until: until,
                state,
            }
        })
        .collect()
}

/// A new rate version.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRate {
    /// Points per unit, 0..=100000.
    pub points_per_unit: i64,
    /// Recycler's service fee per unit in fen, 0..=10000000.
    #[serde(default)]
    pub service_fee_fen_per_unit: i64,
    /// When it takes effect: now or later (whole seconds; up to a minute in the past is
    /// taken as now). Omitted: now.
    pub effective_from: Option<DateTime<Utc>>,
}

/// A checked rate: points, fee, effective instant.
pub(crate) struct CheckedRate {
    pub points: i32,
    pub fee: i32,
    pub effective_from: DateTime<Utc>,
}

/// Checks a new version's values into `check` (field names prefixed with `prefix`).
pub(crate) fn check_rate(
    check: &mut Check,
    points: i64,
    fee: i64,
    effective_from: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> CheckedRate {
    let points = check.range("points_per_unit", points, 0, MAX_POINTS_PER_UNIT);
    let fee = check.range("service_fee_fen_per_unit", fee, 0, MAX_FEE_FEN_PER_UNIT);
    let now = now.trunc_subsecs(0);
    let effective_from = match effective_from.map(|t| t.trunc_subsecs(0)) {
        None => now,
        Some(t) if t >= now => t,
        Some(t) if now - t <= CLOCK_SKEW => now,
        Some(_) => {
            check.fail(
                "effective_from",
                "in_the_past",
                "rates in the past are history and cannot be added; use now or a later time",
            );
            now
        }
    };
    CheckedRate {
        points,
        fee,
        effective_from,
    }
}

/// Inserts a checked version inside `txn`; a version of the same category at the same
/// instant is a 409 `rate_version_exists`.
pub(crate) async fn insert_version(
    txn: &impl ConnectionTrait,
    category_id: Uuid,
    rate: &CheckedRate,
    actor: Uuid,
) -> Result<category_rate::Model> {
    let clash = category_rate::Entity::find()
        .filter(category_rate::Column::CategoryId.eq(category_id))
        .filter(category_rate::Column::EffectiveFrom.eq(rate.effective_from))
        .one(txn)
        .await?;
    if clash.is_some() {
        return Err(rate_exists());
    }
    category_rate::ActiveModel {
        id: Set(Uuid::now_v7()),
        category_id: Set(category_id),
        points_per_unit: Set(rate.points),
        service_fee_fen_per_unit: Set(rate.fee),
        effective_from: Set(rate.effective_from),
        created_by: Set(Some(actor)),
        created_at: Set(Utc::now()),
    }
    .insert(txn)
    .await
    .map_err(|e| {
        let e = Error::from(e);
        if e.is_unique_violation() {
            rate_exists()
        } else {
            e
        }
    })
}

fn rate_exists() -> Error {
    Error::conflict(
        "rate_version_exists",
        "this category already has a rate version starting at that instant",
    )
}

/// Adds a rate version to a category (super administrators only), audited in the same
/// transaction.
#[tracing::instrument(skip(db, who, new), fields(actor = %who.user_id))]
pub async fn add_version(
    db: &impl TransactionTrait,
    who: &Principal,
    category_id: Uuid,
    new: NewRate,
) -> Result<RateVersionView> {
    who.require_super_admin()?;
    let mut check = Check::new();
    let rate = check_rate(
        &mut check,
        new.points_per_unit,
        new.service_fee_fen_per_unit,
        new.effective_from,
        Utc::now(),
    );
    check.finish()?;
    let txn = db.begin().await?;
    let cat = category::Entity::find_by_id(category_id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound { what: "category" })?;
    let version = insert_version(&txn, category_id, &rate, who.user_id).await?;
    audit::record(
        &txn,
        Some(who.user_id),
        "category_rate.create",
        "category",
        &category_id.to_string(),
        serde_json::json!({
            "rate_id": version.id,
            "points_per_unit": version.points_per_unit,
            "service_fee_fen_per_unit": version.service_fee_fen_per_unit,
            "effective_from": version.effective_from,
        }),
    )
    .await?;
    let next = category_rate::Entity::find()
        .filter(category_rate::Column::CategoryId.eq(category_id))
        .filter(category_rate::Column::EffectiveFrom.gt(version.effective_from))
        .order_by_asc(category_rate::Column::EffectiveFrom)
        .one(&txn)
        .await?;
    txn.commit().await?;
    let now = Utc::now();
    Ok(RateVersionView {
        id: version.id,
        category_id,
        category_code: cat.code,
        points_per_unit: version.points_per_unit,
        service_fee_fen_per_unit: version.service_fee_fen_per_unit,
        effective_from: version.effective_from,
        effective_until: next.as_ref().map(|n| n.effective_from),
        state: if version.effective_from > now {
            RateState::Scheduled
        } else {
            RateState::Current
        },
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
    }

    fn version(category: Uuid, points: i32, from: DateTime<Utc>) -> category_rate::Model {
        category_rate::Model {
            id: Uuid::now_v7(),
            category_id: category,
            points_per_unit: points,
            service_fee_fen_per_unit: 0,
            effective_from: from,
            created_by: None,
            created_at: from,
        }
    }

    #[test]
    fn the_latest_version_not_after_the_instant_is_in_force() {
        let c = Uuid::now_v7();
        // Deliberately unsorted.
        let vs = vec![
            version(c, 30, at(20, 0)),
            version(c, 10, at(1, 0)),
            version(c, 20, at(10, 0)),
        ];
        assert!(in_force(&vs, at(1, 0) - TimeDelta::seconds(1)).is_none());
        assert_eq!(in_force(&vs, at(1, 0)).unwrap().points_per_unit, 10);
        assert_eq!(in_force(&vs, at(9, 23)).unwrap().points_per_unit, 10);
        // At the exact instant of a change the new version applies.
        assert_eq!(in_force(&vs, at(10, 0)).unwrap().points_per_unit, 20);
        assert_eq!(in_force(&vs, at(25, 0)).unwrap().points_per_unit, 30);
    }

    #[test]
    fn each_version_ends_where_the_next_of_its_category_begins() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let rates = vec![
            version(a, 1, at(1, 0)),
            version(a, 2, at(10, 0)),
            version(a, 3, at(20, 0)),
            version(b, 9, at(5, 0)),
        ];
        let views = versions_with_until(&rates, at(15, 0), |_| "x".into());
        assert_eq!(views[0].effective_until, Some(at(10, 0)));
        assert_eq!(views[0].state, RateState::Past);
        assert_eq!(views[1].effective_until, Some(at(20, 0)));
        assert_eq!(views[1].state, RateState::Current);
        assert_eq!(views[2].effective_until, None);
        assert_eq!(views[2].state, RateState::Scheduled);
        assert_eq!(views[3].effective_until, None, "no bleed across categories");
        assert_eq!(views[3].state, RateState::Current);
    }

    #[test]
    fn a_new_version_may_not_start_in_the_past() {
        let now = at(15, 12);
        let mut c = Check::new();
        let r = check_rate(&mut c, 5, 0, Some(now - TimeDelta::seconds(30)), now);
        assert!(c.is_ok(), "a little clock skew is taken as now");
        assert_eq!(r.effective_from, now);
        let r = check_rate(&mut c, 5, 0, None, now);
        assert_eq!(r.effective_from, now);
        check_rate(&mut c, 5, 0, Some(now - TimeDelta::hours(1)), now);
        check_rate(
            &mut c,
            -1,
            MAX_FEE_FEN_PER_UNIT + 1,
            Some(now + TimeDelta::days(1)),
            now,
        );
        match c.finish() {
            Err(Error::Validation { fields, .. }) => {
                let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
                assert_eq!(
                    names,
                    [
                        "effective_from",
                        "points_per_unit",
                        "service_fee_fen_per_unit"
                    ]
                );
            }
            other => panic!("expected validation, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn rate_at_reads_the_version_in_force_from_the_database() {
        let db = crate::db::connect("sqlite::memory:", 1).await.unwrap();
        crate::db::migrate(&db).await.unwrap();
        crate::seed::reference(&db).await.unwrap();
        let paper = category::Entity::find()
            .filter(category::Column::Code.eq("paper"))
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        let seeded = rate_at(&db, paper.id, Utc::now()).await.unwrap().unwrap();
        let later = Utc::now().trunc_subsecs(0) + TimeDelta::days(3);
        let checked = CheckedRate {
            points: seeded.points_per_unit + 5,
            fee: 0,
            effective_from: later,
        };
        insert_version(&db, paper.id, &checked, Uuid::nil())
            .await
            .unwrap();
        let before = rate_at(&db, paper.id, later - TimeDelta::seconds(1))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(before.id, seeded.id);
        let from = rate_at(&db, paper.id, later).await.unwrap().unwrap();
        assert_eq!(from.points_per_unit, seeded.points_per_unit + 5);
        assert!(
            rate_at(&db, paper.id, seeded.effective_from - TimeDelta::seconds(1))
                .await
                .unwrap()
                .is_none()
        );
        let again = insert_version(&db, paper.id, &checked, Uuid::nil()).await;
        assert!(matches!(
            again,
            Err(Error::Conflict {
                code: "rate_version_exists",
                ..
            })
        ));
    }
}
