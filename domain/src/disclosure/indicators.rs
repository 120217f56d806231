//! The plan's indicators: every quantified target the plan states (`reported`: values
//! entered year by year by city-wide administrators, with their source and optional
//! evidence) and the ones Wufei measures from its own ledgers (`wufei`, see
//! [`super::measured`]), with progress towards the target. The plan says it has 49
//! indicators but does not list them; these are the targets its text names.

use chrono::{Datelike, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionSession,
    TransactionTrait, sea_query::OnConflict,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::measured;
use crate::{
    audit,
    auth::Principal,
    entities::{indicator_value as value, plan_indicator as indicator, upload},
    error::{Error, Result},
    validate::Check,
};

/// The first year Wufei reports its own indicators for (the plan's first full year).
pub const FIRST_YEAR: i32 = 2023;

/// One year's value.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct YearValue {
    /// Calendar year.
    pub year: i32,
    /// The value, in the indicator's unit.
    pub value: f64,
    /// Where it comes from (a report, a department's statistics; `Wufei` for measured ones).
    pub source: String,
    /// An upload backing it, if any (administrators read it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence_id: Option<Uuid>,
}

/// An indicator as the public sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndicatorView {
    /// Stable code.
    pub code: String,
    /// Name as the plan words it.
    pub name: String,
    /// Unit (`%`, `个`, `t/d` …).
    pub unit: String,
    /// `at_least`, `at_most`, `equal` or `range`; absent for what Wufei only counts.
    pub direction: Option<String>,
    /// The target (absent for a range, or where the plan sets none).
    pub target: Option<f64>,
    /// A range target's lower end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_low: Option<f64>,
    /// A range target's upper end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_high: Option<f64>,
    /// The year the target is for.
    pub target_year: Option<i32>,
    /// The baseline, where the plan gives one.
    pub baseline: Option<f64>,
    /// The baseline's year.
    pub baseline_year: Option<i32>,
    /// The latest value.
    pub latest: Option<YearValue>,
    /// Progress towards the target, 0 to 1, from the latest value.
    pub progress: Option<f64>,
    /// Where it applies (`全市` …).
    pub scope: String,
    /// The plan section that states it (`二(一)`).
    pub plan_section: String,
    /// The plan's words.
    pub quote: Option<String>,
    /// How Wufei measures it (measured ones).
    pub definition: Option<String>,
    /// A note.
    pub note: Option<String>,
    /// `reported` (entered by administrators) or `wufei` (computed from Wufei's ledgers).
    pub measured_by: String,
    /// Every year's value, oldest first (on the single indicator).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<Vec<YearValue>>,
}

/// Progress from `v` towards the target, 0 to 1.
pub fn progress(i: &indicator::Model, v: f64) -> Option<f64> {
    let clamp = |x: f64| x.is_finite().then(|| x.clamp(0.0, 1.0));
    match (i.direction.as_deref(), i.target) {
        (Some("at_least"), Some(t)) => match i.baseline {
            Some(b) if t > b => clamp((v - b) / (t - b)),
            _ if t > 0.0 => clamp(v / t),
            _ => Some(1.0),
        },
        (Some("at_most"), Some(t)) => {
            if v <= t {
                Some(1.0)
            } else {
                match i.baseline {
                    Some(b) if b > t => clamp((b - v) / (b - t)),
                    _ => clamp(t / v),
                }
            }
        }
        (Some("equal"), Some(t)) if t != 0.0 => clamp(v / t),
        (Some("equal"), Some(_)) => Some(if v == 0.0 { 1.0 } else { 0.0 }),
        (Some("range"), _) => match (i.target_low, i.target_high) {
            (Some(lo), Some(hi)) if (lo..=hi).contains(&v) => Some(1.0),
            (Some(lo), Some(_)) if v < lo => clamp(v / lo),
            (Some(_), Some(hi)) => clamp(hi / v),
            _ => None,
        },
        _ => None,
    }
}

async fn series(db: &impl ConnectionTrait, i: &indicator::Model) -> Result<Vec<YearValue>> {
    if i.measured_by == "wufei" {
        let mut out = Vec::new();
        for year in FIRST_YEAR..=Utc::now().year() {
            if let Some(v) = measured::value(db, &i.code, year).await? {
                out.push(YearValue {
                    year,
                    value: v,
                    source: "Wufei".into(),
                    evidence_id: None,
                });
            }
        }
        return Ok(out);
    }
    Ok(value::Entity::find()
        .filter(value::Column::IndicatorCode.eq(i.code.as_str()))
        .order_by_asc(value::Column::Year)
        .all(db)
        .await?
        .into_iter()
        .map(|v| YearValue {
            year: v.year,
            value: v.value,
            source: v.source,
            evidence_id: v.evidence_id,
        })
        .collect())
}

async fn view(
    db: &impl ConnectionTrait,
    i: indicator::Model,
    with_series: bool,
) -> Result<IndicatorView> {
    let all = series(db, &i).await?;
    let latest = all.last().cloned();
    Ok(view_of(i, latest, with_series.then_some(all)))
}

/// The latest value of a measured indicator: the last year that has one, counting back
/// from this year (what the last entry of [`series`] is, without computing the others).
async fn latest_measured(
    db: &impl ConnectionTrait,
    i: &indicator::Model,
) -> Result<Option<YearValue>> {
    for year in (FIRST_YEAR..=Utc::now().year()).rev() {
        if let Some(v) = measured::value(db, &i.code, year).await? {
            return Ok(Some(YearValue {
                year,
                value: v,
                source: "Wufei".into(),
                evidence_id: None,
            }));
        }
    }
    Ok(None)
}

fn view_of(
    i: indicator::Model,
    latest: Option<YearValue>,
    series: Option<Vec<YearValue>>,
) -> IndicatorView {
    IndicatorView {
        progress: latest.as_ref().and_then(|l| progress(&i, l.value)),
        latest,
        series,
        code: i.code,
        name: i.name,
        unit: i.unit,
        direction: i.direction,
        target: i.target,
        target_low: i.target_low,
        target_high: i.target_high,
        target_year: i.target_year,
        baseline: i.baseline,
        baseline_year: i.baseline_year,
        scope: i.scope,
        plan_section: i.plan_section,
        quote: i.quote,
        definition: i.definition,
        note: i.note,
        measured_by: i.measured_by,
    }
}

/// Filters of the public list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct IndicatorFilter {
    /// `reported` or `wufei`.
    pub measured_by: Option<String>,
    /// Only those stated in this plan section or below it (`二(一)`, `三(三)`).
    pub plan_section: Option<String>,
}

/// Every indicator, in the plan's order.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &IndicatorFilter,
) -> Result<Vec<IndicatorView>> {
    if filter
        .measured_by
        .as_deref()
        .is_some_and(|m| m != "reported" && m != "wufei")
    {
        return Err(Error::field(
            "measured_by",
            "invalid",
            "must be reported or wufei",
        ));
    }
    let rows = indicator::Entity::find()
        .order_by_asc(indicator::Column::Position)
        .all(db)
        .await?;
    // Every reported value in one query (latest last per indicator), instead of one query
    // per indicator; a measured indicator computes only its latest year.
    let mut reported: std::collections::HashMap<String, value::Model> =
        std::collections::HashMap::new();
    for v in value::Entity::find()
        .order_by_asc(value::Column::Year)
        .all(db)
        .await?
    {
        reported.insert(v.indicator_code.clone(), v);
    }
    let mut out = Vec::with_capacity(rows.len());
    for i in rows {
        if filter
            .measured_by
            .as_deref()
            .is_some_and(|m| m != i.measured_by)
            || filter
                .plan_section
                .as_deref()
                .is_some_and(|s| !i.plan_section.starts_with(s))
        {
            continue;
        }
        let latest = if i.measured_by == "wufei" {
            latest_measured(db, &i).await?
        } else {
            reported.remove(&i.code).map(|v| YearValue {
                year: v.year,
                value: v.value,
                source: v.source,
                evidence_id: v.evidence_id,
            })
        };
        out.push(view_of(i, latest, None));
    }
    Ok(out)
}

/// One indicator with its yearly series.
pub async fn get(db: &impl ConnectionTrait, code: &str) -> Result<IndicatorView> {
    let i = indicator::Entity::find_by_id(code.to_string())
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "indicator" })?;
    view(db, i, true).await
}

/// A year's value to record.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewValue {
    /// Calendar year, 2021 (the baseline year) to this year.
    #[schema(minimum = 2021, maximum = 2100)]
    pub year: i32,
    /// The value in the indicator's unit (0 to 1 000 000 000).
    pub value: f64,
    /// Where it comes from, 2–256 characters.
    pub source: String,
    /// An upload of the caller's backing it.
    pub evidence_id: Option<Uuid>,
}

/// Records (or corrects) a reported indicator's value for a year. City-wide administrators
/// only; audited with the value it replaced.
#[tracing::instrument(skip(db, who, new), fields(actor = %who.user_id))]
pub async fn record(
    db: &impl TransactionTrait,
    who: &Principal,
    code: &str,
    new: NewValue,
) -> Result<IndicatorView> {
    who.require_super_admin()?;
    let mut check = Check::new();
    let this_year = Utc::now().year();
    check.ensure(
        (2021..=this_year).contains(&new.year),
        "year",
        "out_of_range",
        format!("must be between 2021 and {this_year}"),
    );
    check.ensure(
        new.value.is_finite() && (0.0..=1e9).contains(&new.value),
        "value",
        "out_of_range",
        "must be between 0 and 1 000 000 000",
    );
    let source = check.text("source", &new.source, 2, 256);
    check.finish()?;
    let txn = db.begin().await?;
    let i = indicator::Entity::find_by_id(code.to_string())
        .one(&txn)
        .await?
        .ok_or(Error::NotFound { what: "indicator" })?;
    if i.measured_by != "reported" {
        return Err(Error::conflict(
            "measured_by_wufei",
            "Wufei computes this indicator from its own ledgers",
        ));
    }
    if let Some(e) = new.evidence_id {
        let owned = upload::Entity::find_by_id(e)
            .filter(upload::Column::OwnerId.eq(who.user_id))
            .one(&txn)
            .await?
            .is_some();
        if !owned {
            return Err(Error::field(
                "evidence_id",
                "invalid",
                "must be your own upload",
            ));
        }
    }
    let before = value::Entity::find_by_id((i.code.clone(), new.year))
        .one(&txn)
        .await?;
    value::Entity::insert(value::ActiveModel {
        indicator_code: Set(i.code.clone()),
        year: Set(new.year),
        value: Set(new.value),
        source: Set(source.clone()),
        evidence_id: Set(new.evidence_id),
        entered_by: Set(who.user_id),
        entered_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([value::Column::IndicatorCode, value::Column::Year])
            .update_columns([
                value::Column::Value,
                value::Column::Source,
                value::Column::EvidenceId,
                value::Column::EnteredBy,
                value::Column::EnteredAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    audit::record(
        &txn,
        Some(who.user_id),
        "indicator_value.record",
        "plan_indicator",
        &i.code,
        serde_json::json!({
            "year": new.year,
            "from": before.map(|b| b.value),
            "to": new.value,
            "source": source,
        }),
    )
    .await?;
    let answer = view(&txn, i, true).await?;
    txn.commit().await?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ind(direction: &str, target: Option<f64>, baseline: Option<f64>) -> indicator::Model {
        indicator::Model {
            code: "x".into(),
            name: "x".into(),
            unit: "%".into(),
            direction: Some(direction.into()),
            target,
            target_low: Some(200.0),
            target_high: Some(300.0),
            target_year: Some(2025),
            baseline,
            baseline_year: None,
            scope: "全市".into(),
            plan_section: "二(一)".into(),
            quote: None,
            definition: None,
            note: None,
            measured_by: "reported".into(),
            position: 0,
        }
    }

    #[test]
    fn progress_by_direction() {
        assert_eq!(
            progress(&ind("at_least", Some(75.0), None), 60.0),
            Some(0.8)
        );
        assert_eq!(
            progress(&ind("at_least", Some(75.0), None), 90.0),
            Some(1.0)
        );
        assert_eq!(
            progress(&ind("at_least", Some(35.0), Some(25.0)), 30.0),
            Some(0.5)
        );
        assert_eq!(
            progress(&ind("at_least", Some(35.0), Some(25.0)), 20.0),
            Some(0.0)
        );
        assert_eq!(progress(&ind("at_most", Some(10.0), None), 8.0), Some(1.0));
        assert_eq!(
            progress(&ind("at_most", Some(10.0), Some(20.0)), 15.0),
            Some(0.5)
        );
        assert_eq!(progress(&ind("equal", Some(100.0), None), 98.0), Some(0.98));
        assert_eq!(progress(&ind("range", None, None), 250.0), Some(1.0));
        assert_eq!(progress(&ind("range", None, None), 100.0), Some(0.5));
        assert_eq!(progress(&ind("range", None, None), 600.0), Some(0.5));
        let mut counted = ind("at_least", None, None);
        counted.direction = None;
        assert_eq!(progress(&counted, 5.0), None);
    }
}
