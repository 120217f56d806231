//! Public statistics (数据可视) from the recycling and points ledgers, with the
//! marketplace's and the cells' counts: tonnage by category, district, month and source;
//! households served; points issued, redeemed and expired. Answers read the rollups
//! ([`rollups`]), never the raw ledgers, so their cost does not grow with the ledger.

pub mod open_data;
pub mod rollups;

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    entities::{
        category, district, facility, market_deal, market_demand, market_listing,
        points_rollup::{self, Flow},
        recycling_household,
        recycling_rollup::{self, Source},
        zero_waste_cell,
    },
    error::{Error, Result},
    validate::Check,
};

/// A month as `YYYY-MM`, checked.
pub fn parse_month(check: &mut Check, field: &str, raw: &str) -> Option<String> {
    let ok = NaiveDate::parse_from_str(&format!("{raw}-01"), "%Y-%m-%d").is_ok() && raw.len() == 7;
    check.ensure(ok, field, "invalid", "must be a month as YYYY-MM");
    ok.then(|| raw.to_string())
}

/// The current Beijing month.
pub fn this_month() -> String {
    rollups::month_of(Utc::now())
}

/// What the recycling figures are grouped by, and their period.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecyclingQuery {
    /// Comma-separated dimensions out of `category`, `district`, `month`, `source` (default
    /// `month`); none of them sums the whole period.
    pub group_by: Option<String>,
    /// First month, `YYYY-MM` (default: eleven months before `to`).
    pub from: Option<String>,
    /// Last month, `YYYY-MM` (default: this month, Beijing time).
    pub to: Option<String>,
    /// Only this district.
    pub district_code: Option<String>,
    /// Only this source (`pickup` or `device`).
    pub source: Option<Source>,
}

/// One group of the recycling figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RecyclingRow {
    /// Month, when grouped by it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    /// District code, when grouped by it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub district_code: Option<String>,
    /// District name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub district_name: Option<String>,
    /// Category code, when grouped by it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_code: Option<String>,
    /// Category name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_name: Option<String>,
    /// Source, when grouped by it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// Weight collected, kilograms.
    pub weight_kg: f64,
    /// Items counted (piece-priced categories).
    pub items: i64,
    /// Points paid for it.
    pub points: i64,
}

/// The recycling figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecyclingStats {
    /// First month.
    pub from: String,
    /// Last month.
    pub to: String,
    /// The dimensions of the rows.
    pub group_by: Vec<String>,
    /// One row per group, in order of the dimensions.
    pub rows: Vec<RecyclingRow>,
    /// The whole period.
    pub total: RecyclingRow,
}

/// A group of the recycling figures: month, district, category, source (each when grouped by).
type GroupKey = (Option<String>, Option<String>, Option<Uuid>, Option<Source>);

const DIMENSIONS: [&str; 4] = ["category", "district", "month", "source"];

fn months_back(month: &str, n: i32) -> String {
    let y: i32 = month[..4].parse().unwrap_or(2000);
    let m: i32 = month[5..7].parse().unwrap_or(1);
    let index = y * 12 + (m - 1) - n;
    format!(
        "{:04}-{:02}",
        index.div_euclid(12),
        index.rem_euclid(12) + 1
    )
}

fn kg(g: i64) -> f64 {
    g as f64 / 1000.0
}

/// Tonnage (in kg), items and points from the recycling rollups, grouped as asked.
pub async fn recycling(db: &impl ConnectionTrait, q: &RecyclingQuery) -> Result<RecyclingStats> {
    let mut check = Check::new();
    let mut group_by: Vec<String> = Vec::new();
    for d in q
        .group_by
        .as_deref()
        .unwrap_or("month")
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        check.ensure(
            DIMENSIONS.contains(&d),
            "group_by",
            "invalid",
            "dimensions are category, district, month and source",
        );
        if !group_by.iter().any(|g| g == d) {
            group_by.push(d.to_string());
        }
    }
    let to = match &q.to {
        Some(t) => parse_month(&mut check, "to", t),
        None => Some(this_month()),
    };
    let from = match &q.from {
        Some(f) => parse_month(&mut check, "from", f),
        None => to.as_deref().map(|t| months_back(t, 11)),
    };
    if let (Some(f), Some(t)) = (&from, &to) {
        check.ensure(f <= t, "from", "invalid", "must not be after `to`");
    }
    check.finish()?;
    let (from, to) = (from.unwrap_or_default(), to.unwrap_or_default());
    let mut select = recycling_rollup::Entity::find()
        .filter(recycling_rollup::Column::Month.gte(from.as_str()))
        .filter(recycling_rollup::Column::Month.lte(to.as_str()));
    if let Some(d) = &q.district_code {
        select = select.filter(recycling_rollup::Column::DistrictCode.eq(d.as_str()));
    }
    if let Some(s) = q.source {
        select = select.filter(recycling_rollup::Column::Source.eq(s));
    }
    let lines = select.all(db).await?;
    let by = |d: &str| group_by.iter().any(|g| g == d);
    let mut groups: BTreeMap<GroupKey, RecyclingRow> = BTreeMap::new();
    let mut total = RecyclingRow::default();
    for l in &lines {
        let key = (
            by("month").then(|| l.month.clone()),
            by("district").then(|| l.district_code.clone()),
            by("category").then_some(l.category_id),
            by("source").then_some(l.source),
        );
        let row = groups.entry(key).or_default();
        row.weight_kg += kg(l.weight_g);
        row.items += l.items;
        row.points += l.points;
        total.weight_kg += kg(l.weight_g);
        total.items += l.items;
        total.points += l.points;
    }
    let categories: HashMap<Uuid, category::Model> = category::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let districts: HashMap<String, String> = district::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.code, d.name))
        .collect();
    let rows = groups
        .into_iter()
        .map(|((month, district_code, category_id, source), mut row)| {
            row.district_name = district_code
                .as_ref()
                .and_then(|d| districts.get(d).cloned());
            row.month = month;
            row.district_code = district_code;
            if let Some(c) = category_id.and_then(|id| categories.get(&id)) {
                row.category_code = Some(c.code.clone());
                row.category_name = Some(c.name.clone());
            }
            row.source = source;
            row
        })
        .collect();
    Ok(RecyclingStats {
        from,
        to,
        group_by,
        rows,
        total,
    })
}

/// Weight and households over a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Served {
    /// Weight collected, tonnes.
    pub weight_t: f64,
    /// Distinct households (resident accounts) served.
    pub households: u64,
}

/// Points over a period.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct PointsFlows {
    /// Paid to residents, net of reversals.
    pub issued: i64,
    /// Spent in the mall, net of refunds.
    pub redeemed: i64,
    /// Expired.
    pub expired: i64,
}

/// The marketplace now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MarketCounts {
    /// Published listings.
    pub listings: u64,
    /// Open demands.
    pub open_demands: u64,
    /// Completed deals, all time.
    pub completed_deals: u64,
}

/// The headline figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Overview {
    /// This month, `YYYY-MM` (Beijing).
    pub month: String,
    /// This year.
    pub year: i32,
    /// Recycling this month.
    pub this_month: Served,
    /// Recycling this year.
    pub this_year: Served,
    /// Recycling since Wufei began.
    pub all_time: Served,
    /// Points this year.
    pub points_this_year: PointsFlows,
    /// Published zero-waste cells.
    pub cells: u64,
    /// Facilities on the public map.
    pub facilities: u64,
    /// The marketplace.
    pub market: MarketCounts,
}

/// Weight and distinct households from `from` to `to` (months, inclusive), optionally of
/// one source.
pub async fn served(
    db: &impl ConnectionTrait,
    from: &str,
    to: &str,
    source: Option<Source>,
) -> Result<Served> {
    let mut weight = recycling_rollup::Entity::find()
        .select_only()
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(weight_g), 0) AS BIGINT)"),
            "v",
        )
        .filter(recycling_rollup::Column::Month.gte(from))
        .filter(recycling_rollup::Column::Month.lte(to));
    let mut households = recycling_household::Entity::find()
        .select_only()
        .column_as(Expr::cust("COUNT(DISTINCT resident_id)"), "v")
        .filter(recycling_household::Column::Month.gte(from))
        .filter(recycling_household::Column::Month.lte(to));
    if let Some(s) = source {
        weight = weight.filter(recycling_rollup::Column::Source.eq(s));
        households = households.filter(recycling_household::Column::Source.eq(s));
    }
    let g: Option<i64> = weight.into_tuple().one(db).await?;
    let h: Option<i64> = households.into_tuple().one(db).await?;
    Ok(Served {
        weight_t: g.unwrap_or(0) as f64 / 1_000_000.0,
        households: h.unwrap_or(0).max(0) as u64,
    })
}

/// Points per flow from `from` to `to` (months, inclusive).
pub async fn points(db: &impl ConnectionTrait, from: &str, to: &str) -> Result<PointsFlows> {
    let rows: Vec<(Flow, i64)> = points_rollup::Entity::find()
        .select_only()
        .column(points_rollup::Column::Flow)
        .column_as(Expr::cust("CAST(COALESCE(SUM(amount), 0) AS BIGINT)"), "v")
        .filter(points_rollup::Column::Month.gte(from))
        .filter(points_rollup::Column::Month.lte(to))
        .group_by(points_rollup::Column::Flow)
        .into_tuple()
        .all(db)
        .await?;
    let mut out = PointsFlows::default();
    for (flow, v) in rows {
        match flow {
            Flow::Issued => out.issued = v,
            Flow::Redeemed => out.redeemed = v,
            Flow::Expired => out.expired = v,
        }
    }
    Ok(out)
}

/// The headline figures for the disclosure column's home.
pub async fn overview(db: &impl ConnectionTrait) -> Result<Overview> {
    let month = this_month();
    let year: i32 = month[..4]
        .parse()
        .map_err(|_| Error::Internal(anyhow::anyhow!("month {month}")))?;
    let (jan, dec) = (format!("{year:04}-01"), format!("{year:04}-12"));
    Ok(Overview {
        this_month: served(db, &month, &month, None).await?,
        this_year: served(db, &jan, &dec, None).await?,
        all_time: served(db, "0000-01", "9999-12", None).await?,
        points_this_year: points(db, &jan, &dec).await?,
        cells: zero_waste_cell::Entity::find()
            .filter(zero_waste_cell::Column::Status.eq(zero_waste_cell::Status::Published))
            .count(db)
            .await?,
        facilities: facility::Entity::find()
            .filter(facility::Column::Active.eq(true))
            .count(db)
            .await?,
        market: MarketCounts {
            listings: market_listing::Entity::find()
                .filter(market_listing::Column::Status.eq(market_listing::Status::Published))
                .filter(market_listing::Column::TakenDown.eq(false))
                .count(db)
                .await?,
            open_demands: market_demand::Entity::find()
                .filter(market_demand::Column::Status.eq(market_demand::Status::Open))
                .count(db)
                .await?,
            completed_deals: market_deal::Entity::find()
                .filter(market_deal::Column::Status.eq(market_deal::Status::Completed))
                .count(db)
                .await?,
        },
        month,
        year,
    })
}

/// The year of a `YYYY-MM` month.
pub fn year_of(month: &str) -> Option<i32> {
    month.get(..4)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_back_crosses_years() {
        assert_eq!(months_back("2026-03", 11), "2025-04");
        assert_eq!(months_back("2026-12", 0), "2026-12");
        assert_eq!(months_back("2026-01", 1), "2025-12");
        assert_eq!(year_of("2026-07"), Some(2026));
    }

    #[test]
    fn months_are_checked() {
        let mut c = Check::new();
        assert_eq!(
            parse_month(&mut c, "from", "2026-02"),
            Some("2026-02".into())
        );
        assert!(c.finish().is_ok());
        for bad in ["2026-13", "2026-2", "26-01", "2026-01-01", ""] {
            let mut c = Check::new();
            assert!(parse_month(&mut c, "from", bad).is_none(), "{bad}");
            assert!(c.finish().is_err());
        }
    }

    #[test]
    fn flows_are_signed() {
        use crate::entities::ledger_account::AccountKind as K;
        assert_eq!(
            rollups::flow_of(K::Programme, K::Resident),
            Some((Flow::Issued, 1, false))
        );
        assert_eq!(
            rollups::flow_of(K::RedemptionSink, K::Resident),
            Some((Flow::Redeemed, -1, false))
        );
        assert_eq!(rollups::flow_of(K::Appropriation, K::Programme), None);
        assert_eq!(rollups::flow_of(K::FeePayable, K::Recycler), None);
    }
}
