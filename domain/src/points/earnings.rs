//! A recycler's earnings: the balance of their earnings account and daily statements from
//! the recycling ledger (orders, weight, pieces, points issued to residents, fees), by
//! Asia/Shanghai date. Reversals appear as negative lines on the day of the original work.

use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    error::{Error, Result},
    ledger::{AccountRef, find_account, views::statement},
};

/// One day's work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, FromQueryResult)]
pub struct DailyStatement {
    /// Local date (Asia/Shanghai), `YYYY-MM-DD`.
    pub date: String,
    /// Pickups settled.
    pub orders: i64,
    /// Grams collected.
    pub weight_g: i64,
    /// Pieces collected.
    pub pieces: i64,
    /// Points residents earned from this work.
    pub points: i64,
    /// Service fees earned (fen).
    pub fee_fen: i64,
}

/// A recycler's earnings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Earnings {
    /// Earnings not yet paid out (fen).
    pub balance_fen: i64,
    /// Daily statements, newest first.
    pub statements: Vec<DailyStatement>,
}

/// Days a statement request may cover.
pub const MAX_DAYS: u32 = 92;

/// The recycler's balance and the statements of the last `days` days that had work.
pub async fn earnings(db: &impl ConnectionTrait, recycler_id: Uuid, days: u32) -> Result<Earnings> {
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(Error::field(
            "days",
            "out_of_range",
            format!("must be between 1 and {MAX_DAYS}"),
        ));
    }
    let balance_fen = find_account(db, &AccountRef::recycler(recycler_id).key)
        .await?
        .map_or(0, |a| a.balance);
    let since = (chrono::Utc::now().with_timezone(&crate::slots::shanghai())
        - chrono::Duration::days(i64::from(days) - 1))
    .format("%Y-%m-%d")
    .to_string();
    let statements = DailyStatement::find_by_statement(statement(
        db,
        "SELECT local_date AS date, \
           CAST(COUNT(DISTINCT CASE WHEN weight_g > 0 OR count > 0 THEN pickup_id END) AS BIGINT) AS orders, \
           CAST(SUM(weight_g) AS BIGINT) AS weight_g, CAST(SUM(count) AS BIGINT) AS pieces, \
           CAST(SUM(points) AS BIGINT) AS points, CAST(SUM(fee_fen) AS BIGINT) AS fee_fen \
         FROM recycling_records WHERE recycler_id = $1 AND local_date >= $2 \
         GROUP BY local_date ORDER BY local_date DESC",
        vec![recycler_id.into(), since.into()],
    ))
    .all(db)
    .await?;
    Ok(Earnings {
        balance_fen,
        statements,
    })
}
