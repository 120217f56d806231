//! The indicators Wufei measures itself, from its own ledgers (through the statistics
//! rollups, [`crate::stats`]), per calendar year in Beijing time:
//! - `wufei_household_recyclables_collected` (t): the weight credited for door-to-door
//!   pickups in the recycling ledger;
//! - `wufei_participating_households` (户): residents with at least one such pickup;
//! - `wufei_green_points_issued` / `_redeemed` (积分): points paid to residents from the
//!   districts' programme budgets net of reversals, and points spent in the mall net of
//!   refunds;
//! - `wufei_active_zero_waste_cells` (个): cells published by the end of the year and not
//!   revoked by then.

use sea_orm::ConnectionTrait;

use crate::{
    entities::recycling_rollup::Source,
    error::Result,
    stats::{points, served},
};

/// Whether Wufei computes `code` itself.
pub fn is_measured(code: &str) -> bool {
    code.starts_with("wufei_")
}

/// The value of measured indicator `code` for `year` (Beijing months), from the statistics
/// rollups; `None` when Wufei cannot measure it.
pub async fn value(db: &impl ConnectionTrait, code: &str, year: i32) -> Result<Option<f64>> {
    let (jan, dec) = (format!("{year:04}-01"), format!("{year:04}-12"));
    let v = match code {
        "wufei_household_recyclables_collected" => {
            served(db, &jan, &dec, Some(Source::Pickup)).await?.weight_t
        }
        "wufei_participating_households" => {
            served(db, &jan, &dec, Some(Source::Pickup))
                .await?
                .households as f64
        }
        "wufei_green_points_issued" => points(db, &jan, &dec).await?.issued as f64,
        "wufei_green_points_redeemed" => points(db, &jan, &dec).await?.redeemed as f64,
        "wufei_active_zero_waste_cells" => {
            return super::cells::active_at_year_end(db, year).await;
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}
