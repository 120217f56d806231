//! Seeds the plan's indicators and tasks from the checked-in data files. Idempotent: rows
//! already there are left alone (their values and updates are the administrators'), so a
//! start never overwrites what was entered.

use sea_orm::{ConnectionTrait, EntityTrait, Set, sea_query::OnConflict};
use serde::Deserialize;

use crate::{
    entities::{plan_indicator, plan_task},
    error::{Error, Result},
};

const INDICATORS_JSON: &str = include_str!("../../data/plan/indicators.json");
const TASKS_JSON: &str = include_str!("../../data/plan/tasks.json");

#[derive(Deserialize)]
struct Indicators {
    indicators: Vec<Indicator>,
}

#[derive(Deserialize)]
struct Scope {
    name: String,
}

#[derive(Deserialize)]
struct Indicator {
    code: String,
    name: String,
    unit: String,
    direction: Option<String>,
    target: Option<f64>,
    target_low: Option<f64>,
    target_high: Option<f64>,
    target_year: Option<i32>,
    baseline: Option<f64>,
    baseline_year: Option<i32>,
    scope: Scope,
    plan_section: String,
    quote: Option<String>,
    definition: Option<String>,
    note: Option<String>,
    measured_by: String,
}

#[derive(Deserialize)]
struct Tasks {
    tasks: Vec<Task>,
}

#[derive(Deserialize)]
struct Task {
    section: String,
    top_section: String,
    title: String,
    text: String,
    lead_units: Vec<String>,
    responsible_units: Vec<String>,
    deadline: Option<String>,
    deadline_date: Option<chrono::NaiveDate>,
}

fn corrupt(what: &str, e: serde_json::Error) -> Error {
    Error::Internal(anyhow::anyhow!("domain/data/plan/{what}: {e}"))
}

/// Inserts the indicators and tasks that are missing.
pub async fn plan(db: &impl ConnectionTrait) -> Result<()> {
    let data: Indicators =
        serde_json::from_str(INDICATORS_JSON).map_err(|e| corrupt("indicators.json", e))?;
    let rows = data
        .indicators
        .into_iter()
        .enumerate()
        .map(|(i, x)| plan_indicator::ActiveModel {
            code: Set(x.code),
            name: Set(x.name),
            unit: Set(x.unit),
            direction: Set(x.direction),
            target: Set(x.target),
            target_low: Set(x.target_low),
            target_high: Set(x.target_high),
            target_year: Set(x.target_year),
            baseline: Set(x.baseline),
            baseline_year: Set(x.baseline_year),
            scope: Set(x.scope.name),
            plan_section: Set(x.plan_section),
            quote: Set(x.quote),
            definition: Set(x.definition),
            note: Set(x.note),
            measured_by: Set(x.measured_by),
            position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
        });
    plan_indicator::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(plan_indicator::Column::Code)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let data: Tasks = serde_json::from_str(TASKS_JSON).map_err(|e| corrupt("tasks.json", e))?;
    let rows = data
        .tasks
        .into_iter()
        .enumerate()
        .map(|(i, t)| plan_task::ActiveModel {
            id: Set(i32::try_from(i + 1).unwrap_or(i32::MAX)),
            section: Set(t.section),
            top_section: Set(t.top_section),
            title: Set(t.title),
            text: Set(t.text),
            lead_units: Set(serde_json::to_string(&t.lead_units).unwrap_or_default()),
            responsible_units: Set(serde_json::to_string(&t.responsible_units).unwrap_or_default()),
            deadline: Set(t.deadline),
            deadline_date: Set(t.deadline_date),
            status: Set(plan_task::Status::NotReported),
            updated_at: Set(None),
        });
    plan_task::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(plan_task::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_files_parse() {
        let i: Indicators =
            serde_json::from_str(INDICATORS_JSON).unwrap_or(Indicators { indicators: vec![] });
        assert_eq!(i.indicators.len(), 66);
        assert_eq!(
            i.indicators
                .iter()
                .filter(|x| x.measured_by == "wufei")
                .count(),
            5
        );
        let t: Tasks = serde_json::from_str(TASKS_JSON).unwrap_or(Tasks { tasks: vec![] });
        assert_eq!(t.tasks.len(), 95);
    }
}
