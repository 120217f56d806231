//! The marketplace's public figures: supply (published stock), demand (open quantity) and
//! completed deals (quantity and value), by product type, district and — for deals — month.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};

use crate::{
    entities::{market_deal as deal, market_demand as demand, market_listing as listing},
    error::{Error, Result},
};

/// The period of the deals figures.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct StatsQuery {
    /// Deals completed from (default: twelve months ago).
    pub from: Option<DateTime<Utc>>,
    /// Deals completed before (default: now).
    pub to: Option<DateTime<Utc>>,
}

/// One group of supply or demand.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Volume {
    /// Product type code.
    pub product_type: String,
    /// District.
    pub district_code: String,
    /// Unit.
    pub unit: String,
    /// How many listings or demands.
    pub count: u64,
    /// Units in stock (supply) or wanted (demand).
    pub quantity: i64,
}

/// One group of completed deals.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DealVolume {
    /// Product type code.
    pub product_type: String,
    /// District of the supplying plant.
    pub district_code: String,
    /// Month completed, `YYYY-MM`.
    pub month: String,
    /// Unit.
    pub unit: String,
    /// How many deals.
    pub count: u64,
    /// Units.
    pub quantity: i64,
    /// Value, fen.
    pub amount_fen: i64,
}

/// The marketplace's figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MarketStats {
    /// Published stock now.
    pub supply: Vec<Volume>,
    /// Open demand now.
    pub demand: Vec<Volume>,
    /// Completed deals in the period.
    pub deals: Vec<DealVolume>,
    /// The period's start.
    pub from: DateTime<Utc>,
    /// The period's end.
    pub to: DateTime<Utc>,
}

type Key = (String, String, String);

/// A completed deal as the figures read it: type, district, unit, quantity, amount, when.
type DealRow = (String, String, String, i64, i64, Option<DateTime<Utc>>);

/// A deals group: type, district, month, unit.
type DealKey = (String, String, String, String);

fn volumes(rows: Vec<(String, String, String, i64)>) -> Vec<Volume> {
    let mut groups: BTreeMap<Key, (u64, i64)> = BTreeMap::new();
    for (t, d, u, q) in rows {
        let g = groups.entry((t, d, u)).or_default();
        g.0 += 1;
        g.1 = g.1.saturating_add(q);
    }
    groups
        .into_iter()
        .map(
            |((product_type, district_code, unit), (count, quantity))| Volume {
                product_type,
                district_code,
                unit,
                count,
                quantity,
            },
        )
        .collect()
}

/// The figures now, with deals completed in the query's period (at most two years).
pub async fn figures(db: &impl ConnectionTrait, q: &StatsQuery) -> Result<MarketStats> {
    let to = q.to.unwrap_or_else(Utc::now);
    let from = q.from.unwrap_or(to - chrono::Duration::days(365));
    if from >= to || to - from > chrono::Duration::days(731) {
        return Err(Error::field(
            "from",
            "out_of_range",
            "the period must be positive and at most two years",
        ));
    }
    let supply: Vec<(String, String, String, i64)> = listing::Entity::find()
        .select_only()
        .columns([
            listing::Column::ProductType,
            listing::Column::DistrictCode,
            listing::Column::Unit,
            listing::Column::Stock,
        ])
        .filter(listing::Column::Status.eq(listing::Status::Published))
        .into_tuple()
        .all(db)
        .await?;
    let demand_rows: Vec<(String, String, String, i64)> = demand::Entity::find()
        .select_only()
        .columns([
            demand::Column::ProductType,
            demand::Column::DistrictCode,
            demand::Column::Unit,
            demand::Column::Quantity,
        ])
        .filter(demand::Column::Status.eq(demand::Status::Open))
        .into_tuple()
        .all(db)
        .await?;
    let deal_rows: Vec<DealRow> = deal::Entity::find()
        .select_only()
        .columns([
            deal::Column::ProductType,
            deal::Column::DistrictCode,
            deal::Column::Unit,
            deal::Column::Quantity,
            deal::Column::AmountFen,
            deal::Column::CompletedAt,
        ])
        .filter(deal::Column::Status.eq(deal::Status::Completed))
        .filter(deal::Column::CompletedAt.gte(from))
        .filter(deal::Column::CompletedAt.lt(to))
        .into_tuple()
        .all(db)
        .await?;
    let mut groups: BTreeMap<DealKey, (u64, i64, i64)> = BTreeMap::new();
    for (t, d, u, qty, amount, at) in deal_rows {
        let month = at
            .map(|a| format!("{:04}-{:02}", a.year(), a.month()))
            .unwrap_or_default();
        let g = groups.entry((t, d, month, u)).or_default();
        g.0 += 1;
        g.1 = g.1.saturating_add(qty);
        g.2 = g.2.saturating_add(amount);
    }
    let deals = groups
        .into_iter()
        .map(
            |((product_type, district_code, month, unit), (count, quantity, amount_fen))| {
                DealVolume {
                    product_type,
                    district_code,
                    month,
                    unit,
                    count,
                    quantity,
                    amount_fen,
                }
            },
        )
        .collect();
    Ok(MarketStats {
        supply: volumes(supply),
        demand: volumes(demand_rows),
        deals,
        from,
        to,
    })
}
