//! The satisfaction survey (满意度): each signed-in account answers once a quarter (Beijing
//! time), scoring five dimensions 1–5 for its district; the public reads the averages per
//! dimension, city-wide and per district. A group of fewer than [`MIN_ANSWERS`] answers
//! shows its count but no averages, so no one's scores can be read off a small group.

use std::collections::BTreeMap;

use chrono::{Datelike, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    auth::Principal,
    catalog::areas::known_district,
    entities::satisfaction_answer as answer,
    error::{Error, Result},
    validate::Check,
};

/// Answers a group needs before its averages are shown.
pub const MIN_ANSWERS: u64 = 3;

/// The current quarter, `2026Q4` (Beijing time).
pub fn current_period() -> String {
    let now = Utc::now().with_timezone(&crate::slots::shanghai());
    format!("{}Q{}", now.year(), (now.month() - 1) / 3 + 1)
}

fn valid_period(p: &str) -> bool {
    p.len() == 6
        && p[..4].chars().all(|c| c.is_ascii_digit())
        && matches!(&p[4..], "Q1" | "Q2" | "Q3" | "Q4")
}

/// An answer.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAnswer {
    /// The district the answer is about (the caller's).
    pub district_code: String,
    /// Overall, 1–5.
    pub overall: i64,
    /// Door-to-door pickups, 1–5.
    pub pickup: i64,
    /// Green points and the mall, 1–5.
    pub points: i64,
    /// Recycling facilities near home, 1–5.
    pub facilities: i64,
    /// Information disclosure, 1–5.
    pub disclosure: i64,
    /// Anything to add (not published), up to 500 characters.
    #[serde(default)]
    pub comment: String,
}

/// The answer as stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AnswerView {
    /// Id.
    pub id: Uuid,
    /// The quarter.
    pub period: String,
    /// District.
    pub district_code: String,
}

/// Records the caller's answer for the current quarter; 409 `already_answered` for a
/// second one (the database's unique key decides under a race).
pub async fn answer(
    db: &impl ConnectionTrait,
    who: &Principal,
    a: NewAnswer,
) -> Result<AnswerView> {
    let mut check = Check::new();
    let scores = [
        ("overall", a.overall),
        ("pickup", a.pickup),
        ("points", a.points),
        ("facilities", a.facilities),
        ("disclosure", a.disclosure),
    ]
    .map(|(f, v)| check.range(f, v, 1, 5));
    let comment = check.text("comment", &a.comment, 0, 500);
    check.finish()?;
    known_district(db, "district_code", &a.district_code).await?;
    let period = current_period();
    let row = answer::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(who.user_id),
        period: Set(period.clone()),
        district_code: Set(a.district_code.clone()),
        overall: Set(scores[0]),
        pickup: Set(scores[1]),
        points: Set(scores[2]),
        facilities: Set(scores[3]),
        disclosure: Set(scores[4]),
        comment: Set(comment),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .map_err(|e| {
        let e = Error::from(e);
        if e.is_unique_violation() {
            Error::conflict(
                "already_answered",
                format!("you have answered the survey of {period}"),
            )
        } else {
            e
        }
    })?;
    Ok(AnswerView {
        id: row.id,
        period: row.period,
        district_code: row.district_code,
    })
}

/// Averages per dimension (absent below [`MIN_ANSWERS`] answers).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Averages {
    /// Answers.
    pub answers: u64,
    /// Overall.
    pub overall: Option<f64>,
    /// Door-to-door pickups.
    pub pickup: Option<f64>,
    /// Green points and the mall.
    pub points: Option<f64>,
    /// Recycling facilities.
    pub facilities: Option<f64>,
    /// Information disclosure.
    pub disclosure: Option<f64>,
}

#[derive(Default)]
struct Sums {
    n: u64,
    s: [i64; 5],
}

impl Sums {
    fn add(&mut self, a: &answer::Model) {
        self.n += 1;
        for (i, v) in [a.overall, a.pickup, a.points, a.facilities, a.disclosure]
            .into_iter()
            .enumerate()
        {
            self.s[i] += i64::from(v);
        }
    }

    fn averages(&self) -> Averages {
        let avg = |i: usize| {
            (self.n >= MIN_ANSWERS)
                .then(|| (self.s[i] as f64 / self.n as f64 * 100.0).round() / 100.0)
        };
        Averages {
            answers: self.n,
            overall: avg(0),
            pickup: avg(1),
            points: avg(2),
            facilities: avg(3),
            disclosure: avg(4),
        }
    }
}

/// One district's results.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DistrictResults {
    /// District.
    pub district_code: String,
    /// Its averages.
    #[serde(flatten)]
    pub averages: Averages,
}

/// A quarter's results.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Results {
    /// The quarter.
    pub period: String,
    /// City-wide.
    pub city: Averages,
    /// Per district with answers.
    pub districts: Vec<DistrictResults>,
}

/// Which quarter.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ResultsQuery {
    /// The quarter, `2026Q4` (default: the current one).
    pub period: Option<String>,
}

/// The results of a quarter.
pub async fn results(db: &impl ConnectionTrait, q: &ResultsQuery) -> Result<Results> {
    let period = q.period.clone().unwrap_or_else(current_period);
    let mut check = Check::new();
    check.ensure(
        valid_period(&period),
        "period",
        "invalid",
        "a quarter such as 2026Q4",
    );
    check.finish()?;
    let rows = answer::Entity::find()
        .filter(answer::Column::Period.eq(period.as_str()))
        .all(db)
        .await?;
    let mut city = Sums::default();
    let mut by_district: BTreeMap<String, Sums> = BTreeMap::new();
    for a in &rows {
        city.add(a);
        by_district
            .entry(a.district_code.clone())
            .or_default()
            .add(a);
    }
    Ok(Results {
        period,
        city: city.averages(),
        districts: by_district
            .into_iter()
            .map(|(district_code, s)| DistrictResults {
                district_code,
                averages: s.averages(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_quarters() {
        assert!(valid_period(&current_period()));
        for bad in ["2026Q5", "2026q1", "26Q1", "2026-Q1", ""] {
            assert!(!valid_period(bad), "{bad}");
        }
    }
}
