//! Reconciliation: for every district, the points its programme budget has issued equal
//! the points residents still hold from it plus those redeemed plus those expired. Each
//! side is computed from a different record (postings into the programme account, lots,
//! sink accounts), so a bug in any of them shows up as a difference.

use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult, QueryOrder};
use serde::Serialize;

use super::{AccountKind, AccountRef, find_account, views::statement};
use crate::{
    entities::{district, ledger_account},
    error::Result,
};

/// One district's books.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DistrictBooks {
    /// District code.
    pub district_code: String,
    /// District name.
    pub district_name: String,
    /// Points budgeted to the district so far.
    pub budget: i64,
    /// Budget not yet issued.
    pub budget_remaining: i64,
    /// Points issued to residents, net of reversals and negative adjustments.
    pub issued: i64,
    /// Points residents still hold from this district's lots.
    pub held: i64,
    /// Points redeemed in the mall.
    pub redeemed: i64,
    /// Points expired.
    pub expired: i64,
    /// Service fees owed to recyclers for work in the district (fen).
    pub recycler_fees_fen: i64,
    /// `issued == held + redeemed + expired`.
    pub balanced: bool,
}

/// The whole city's books.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Reconciliation {
    /// Per district.
    pub districts: Vec<DistrictBooks>,
    /// Sum of all residents' balances.
    pub resident_balances: i64,
    /// Sum of `held` over districts (must equal `resident_balances`).
    pub held: i64,
    /// Every district balanced and balances equal held lots.
    pub balanced: bool,
}

#[derive(Debug, FromQueryResult)]
struct Sum {
    total: Option<i64>,
}

async fn sum(db: &impl ConnectionTrait, sql: &str, values: Vec<sea_orm::Value>) -> Result<i64> {
    Ok(Sum::find_by_statement(statement(db, sql, values))
        .one(db)
        .await?
        .and_then(|s| s.total)
        .unwrap_or(0))
}

async fn balance(
    db: &impl ConnectionTrait,
    r: &AccountRef,
) -> Result<Option<ledger_account::Model>> {
    find_account(db, &r.key).await
}

/// Books of every district (`only`: of these districts), and the city-wide check.
pub async fn reconcile(
    db: &impl ConnectionTrait,
    only: Option<&[String]>,
) -> Result<Reconciliation> {
    let districts = district::Entity::find()
        .order_by_asc(district::Column::SortOrder)
        .all(db)
        .await?;
    let appropriation = balance(db, &AccountRef::appropriation()).await?;
    let mut out = Vec::new();
    let mut all_balanced = true;
    for d in districts {
        if only.is_some_and(|o| !o.contains(&d.code)) {
            continue;
        }
        let programme = balance(db, &AccountRef::programme(&d.code)).await?;
        let budget = match (&programme, &appropriation) {
            (Some(p), Some(a)) => {
                sum(
                    db,
                    "SELECT CAST(SUM(amount) AS BIGINT) AS total FROM ledger_postings \
                     WHERE debit_account_id = $1 AND credit_account_id = $2",
                    vec![a.id.into(), p.id.into()],
                )
                .await?
            }
            _ => 0,
        };
        let budget_remaining = programme.as_ref().map_or(0, |p| p.balance);
        let held = sum(
            db,
            "SELECT CAST(SUM(remaining) AS BIGINT) AS total FROM point_lots WHERE district_code = $1",
            vec![d.code.clone().into()],
        )
        .await?;
        let redeemed = balance(db, &AccountRef::redemption_sink(&d.code))
            .await?
            .map_or(0, |a| a.balance);
        let expired = balance(db, &AccountRef::expiry_sink(&d.code))
            .await?
            .map_or(0, |a| a.balance);
        let fees = balance(db, &AccountRef::fee_payable(&d.code))
            .await?
            .map_or(0, |a| -a.balance);
        let issued = budget - budget_remaining;
        let balanced = issued == held + redeemed + expired;
        all_balanced &= balanced;
        out.push(DistrictBooks {
            district_code: d.code,
            district_name: d.name,
            budget,
            budget_remaining,
            issued,
            held,
            redeemed,
            expired,
            recycler_fees_fen: fees,
            balanced,
        });
    }
    let resident_balances = sum(
        db,
        "SELECT CAST(SUM(balance) AS BIGINT) AS total FROM ledger_accounts WHERE kind = $1",
        vec![AccountKind::Resident.into()],
    )
    .await?;
    let held = sum(
        db,
        "SELECT CAST(SUM(remaining) AS BIGINT) AS total FROM point_lots",
        vec![],
    )
    .await?;
    Ok(Reconciliation {
        districts: out,
        resident_balances,
        held,
        balanced: all_balanced && resident_balances == held,
    })
}
