//! The `plan_indicators` table. Schema owned by `wufei-migrations` (`m20261207_000015_plan`).

use sea_orm::entity::prelude::*;

/// One of the plan's indicators (reference data from `domain/data/plan/indicators.json`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_indicators")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    pub unit: String,
    pub direction: Option<String>,
    pub target: Option<f64>,
    pub target_low: Option<f64>,
    pub target_high: Option<f64>,
    pub target_year: Option<i32>,
    pub baseline: Option<f64>,
    pub baseline_year: Option<i32>,
    pub scope: String,
    pub plan_section: String,
    pub quote: Option<String>,
    pub definition: Option<String>,
    pub note: Option<String>,
    pub measured_by: String,
    pub position: i32,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
