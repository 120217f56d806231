//! What people read from the ledger: a resident's balance with what expires when, ledger
//! lines page by page, a recycler's earnings with daily statements.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, Statement, Value,
};
use serde::Serialize;
use uuid::Uuid;

use super::{AccountRef, TxKind, find_account};
use crate::{
    entities::point_lot,
    error::Result,
    paging::{Page, PageRequest},
};

/// Points that expire together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Expiring {
    /// Points left of the lots expiring at this instant.
    pub points: i64,
    /// When they expire.
    pub expires_at: DateTime<Utc>,
}

/// A resident's points account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PointsAccount {
    /// Points available.
    pub balance: i64,
    /// What is left of each lot, soonest expiry first.
    pub expiring: Vec<Expiring>,
}

/// The resident's balance and what expires when.
pub async fn points_account(db: &impl ConnectionTrait, resident_id: Uuid) -> Result<PointsAccount> {
    let Some(acct) = find_account(db, &AccountRef::resident(resident_id).key).await? else {
        return Ok(PointsAccount {
            balance: 0,
            expiring: Vec::new(),
        });
    };
    let lots = point_lot::Entity::find()
        .filter(point_lot::Column::AccountId.eq(acct.id))
        .filter(point_lot::Column::Remaining.gt(0))
        .order_by_asc(point_lot::Column::ExpiresAt)
        .all(db)
        .await?;
    let mut expiring: Vec<Expiring> = Vec::new();
    for lot in lots {
        match expiring.last_mut() {
            Some(e) if e.expires_at == lot.expires_at => e.points += lot.remaining,
            _ => expiring.push(Expiring {
                points: lot.remaining,
                expires_at: lot.expires_at,
            }),
        }
    }
    Ok(PointsAccount {
        balance: acct.balance,
        expiring,
    })
}

/// One line of an account: the net effect of one transaction on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Entry {
    /// The transaction's id (the cursor of the list).
    pub id: Uuid,
    /// Signed amount: positive credits the account.
    pub points: i64,
    /// `settlement`, `device_deposit`, `redemption`, `refund`, `expiry`, `adjustment`,
    /// `reversal`.
    pub kind: String,
    /// What caused it (`pickup:<id>`, `redemption:<id>`, `device:<id>:<event>` …).
    pub source: String,
    /// Human-readable explanation.
    pub memo: String,
    /// When it was posted.
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, FromQueryResult)]
struct EntryRow {
    id: Uuid,
    kind: TxKind,
    source_key: String,
    memo: String,
    created_at: DateTime<Utc>,
    amount: i64,
}

/// Lines of the account with `key`, newest first. An account never opened has none.
pub async fn entries(
    db: &impl ConnectionTrait,
    key: &str,
    page: PageRequest,
) -> Result<Page<Entry>> {
    let Some(acct) = find_account(db, key).await? else {
        return Ok(Page {
            items: Vec::new(),
            next_cursor: None,
        });
    };
    let mut values: Vec<Value> = vec![acct.id.into()];
    let mut before = String::new();
    if let Some(b) = page.before {
        values.push(b.into());
        before = "AND t.id < $2".into();
    }
    let sql = format!(
        "SELECT t.id, t.kind, t.source_key, t.memo, t.created_at, \
           CAST(SUM(CASE WHEN p.credit_account_id = $1 THEN p.amount ELSE -p.amount END) AS BIGINT) AS amount \
         FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id \
         WHERE (p.credit_account_id = $1 OR p.debit_account_id = $1) {before} \
         GROUP BY t.id, t.kind, t.source_key, t.memo, t.created_at \
         ORDER BY t.id DESC LIMIT {}",
        page.limit + 1
    );
    let rows = EntryRow::find_by_statement(statement(db, &sql, values))
        .all(db)
        .await?;
    let more = rows.len() as u64 > page.limit;
    let items: Vec<Entry> = rows
        .into_iter()
        .take(page.limit as usize)
        .map(|r| Entry {
            id: r.id,
            points: r.amount,
            kind: r.kind.as_str().into(),
            source: r.source_key,
            memo: r.memo,
            created_at: r.created_at,
        })
        .collect();
    let next_cursor = if more {
        items.last().map(|e| e.id.to_string())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// A statement with `$n` placeholders, rewritten to `?n` for SQLite.
pub(crate) fn statement(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let sql = if backend == DatabaseBackend::Sqlite {
        sql.replace('$', "?")
    } else {
        sql.to_string()
    };
    Statement::from_sql_and_values(backend, sql, values)
}
