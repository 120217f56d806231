//! The indicators Wufei measures itself, from its own ledgers, per calendar year (Beijing
//! time for the recycling ledger's local dates, UTC instants for postings):
//! - `wufei_household_recyclables_collected` (t): the weight credited for door-to-door
//!   pickups in the recycling ledger;
//! - `wufei_participating_households` (户): residents with at least one such pickup;
//! - `wufei_green_points_issued` / `_redeemed` (积分): points paid to residents from the
//!   districts' programme budgets, and points spent in the mall net of refunds;
//! - `wufei_active_zero_waste_cells` (个): cells published by the end of the year and not
//!   revoked by then.

use chrono::{NaiveDate, TimeZone, Utc};
use sea_orm::ConnectionTrait;

use crate::{db::SqlArgs, error::Result};

/// Whether Wufei computes `code` itself.
pub fn is_measured(code: &str) -> bool {
    code.starts_with("wufei_")
}

async fn one(db: &impl ConnectionTrait, a: SqlArgs, sql: String) -> Result<f64> {
    let row = db
        .query_one_raw(a.statement_for(crate::db::backend(db), sql))
        .await?;
    Ok(match row {
        Some(r) => r.try_get::<Option<i64>>("", "v")?.unwrap_or(0) as f64,
        None => 0.0,
    })
}

/// The value of measured indicator `code` for `year`; `None` when Wufei cannot measure it
/// (yet).
pub async fn value(db: &impl ConnectionTrait, code: &str, year: i32) -> Result<Option<f64>> {
    let (first, last) = (format!("{year:04}-01-01"), format!("{year:04}-12-31"));
    let start = NaiveDate::from_ymd_opt(year, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
    let end = NaiveDate::from_ymd_opt(year + 1, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
    let (Some(start), Some(end)) = (start, end) else {
        return Ok(None);
    };
    let (start, end) = (Utc.from_utc_datetime(&start), Utc.from_utc_datetime(&end));
    let mut a = SqlArgs::default();
    let v = match code {
        "wufei_household_recyclables_collected" => {
            let sql = format!(
                "SELECT CAST(COALESCE(SUM(weight_g), 0) AS BIGINT) AS v FROM recycling_records \
                 WHERE pickup_id IS NOT NULL AND local_date >= {} AND local_date <= {}",
                a.arg(first),
                a.arg(last)
            );
            one(db, a, sql).await? / 1_000_000.0
        }
        "wufei_participating_households" => {
            let sql = format!(
                "SELECT COUNT(DISTINCT p.resident_id) AS v FROM recycling_records r \
                 JOIN pickups p ON p.id = r.pickup_id \
                 WHERE r.local_date >= {} AND r.local_date <= {}",
                a.arg(first),
                a.arg(last)
            );
            one(db, a, sql).await?
        }
        "wufei_green_points_issued" => {
            let sql = format!(
                "SELECT CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) AS v FROM ledger_postings p \
                 JOIN ledger_accounts c ON c.id = p.credit_account_id \
                 JOIN ledger_accounts d ON d.id = p.debit_account_id \
                 WHERE c.kind = 'resident' AND d.kind = 'programme' \
                   AND p.created_at >= {} AND p.created_at < {}",
                a.arg(start),
                a.arg(end)
            );
            one(db, a, sql).await?
        }
        "wufei_green_points_redeemed" => {
            let sql = format!(
                "SELECT CAST(COALESCE(SUM(CASE WHEN c.kind = 'redemption_sink' THEN p.amount ELSE -p.amount END), 0) AS BIGINT) AS v \
                 FROM ledger_postings p \
                 JOIN ledger_accounts c ON c.id = p.credit_account_id \
                 JOIN ledger_accounts d ON d.id = p.debit_account_id \
                 WHERE (c.kind = 'redemption_sink' OR d.kind = 'redemption_sink') \
                   AND p.created_at >= {} AND p.created_at < {}",
                a.arg(start),
                a.arg(end)
            );
            one(db, a, sql).await?
        }
        "wufei_active_zero_waste_cells" => {
            return super::cells::active_at_year_end(db, year).await;
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}
