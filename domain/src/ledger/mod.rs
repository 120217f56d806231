//! The double-entry ledger of green points and recycler earnings.
//!
//! Shape (schema in `m20261129_000007_points`, which enforces the rules below):
//! - **accounts** ([`AccountRef`]): one per resident (points, floor 0), per recycler (fen,
//!   floor 0), per district programme budget (points, floor 0: issuance can never outrun the
//!   budget), per district redemption and expiry sink, the city's appropriation (the
//!   unbounded source budgets come from) and each district's fee payable (fen, unbounded:
//!   what the programme owes recyclers).
//! - **transactions** carry a unique `source_key` (`pickup:<id>`, `device:<id>:<event>`,
//!   `redemption:<id>` …): posting the same business event twice fails on the key, so a
//!   retried job credits once.
//! - **postings** move a positive amount from one account to another, so every
//!   transaction sums to zero by construction; a trigger applies each posting to both
//!   balances and the floor check refuses an overdraft in the same statement.
//! - **lots** ([`lots`]): every credit to a resident is a lot funded by one district and
//!   expiring together; every debit draws lots oldest-expiry first. Per district, issued =
//!   held + redeemed + expired ([`reconcile`]).
//!
//! Nothing here commits: every function takes the caller's transaction.

pub mod lots;
pub mod reconcile;
pub mod views;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

pub use crate::entities::{
    ledger_account::{AccountKind, Unit},
    ledger_transaction::TxKind,
};
use crate::{
    entities::{ledger_account, ledger_posting, ledger_transaction, point_lot},
    error::{Error, Result},
};

/// Name of the floor check; a violation means an overdraft.
const FLOOR_CHECK: &str = "ck_ledger_accounts_floor";

/// An account, named by what it is; [`account`] finds or opens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRef {
    /// Unique key (`resident:<user>`, `programme:<district>` …).
    pub key: String,
    /// Kind.
    pub kind: AccountKind,
    /// Unit.
    pub unit: Unit,
    /// The owning user, for personal accounts.
    pub user_id: Option<Uuid>,
    /// The district, for district accounts.
    pub district_code: Option<String>,
    /// The floor its balance may not go below (`None`: unbounded).
    pub min_balance: Option<i64>,
}

impl AccountRef {
    /// A resident's points.
    pub fn resident(user_id: Uuid) -> Self {
        Self::personal(AccountKind::Resident, Unit::Points, user_id)
    }

    /// A recycler's earnings.
    pub fn recycler(user_id: Uuid) -> Self {
        Self::personal(AccountKind::Recycler, Unit::Fen, user_id)
    }

    /// The city's appropriation of points.
    pub fn appropriation() -> Self {
        Self {
            key: "appropriation:points".into(),
            kind: AccountKind::Appropriation,
            unit: Unit::Points,
            user_id: None,
            district_code: None,
            min_balance: None,
        }
    }

    /// A district's points budget.
    pub fn programme(district: &str) -> Self {
        Self::district(AccountKind::Programme, Unit::Points, district, Some(0))
    }

    /// What a district owes recyclers.
    pub fn fee_payable(district: &str) -> Self {
        Self::district(AccountKind::FeePayable, Unit::Fen, district, None)
    }

    /// Points redeemed from a district's lots.
    pub fn redemption_sink(district: &str) -> Self {
        Self::district(AccountKind::RedemptionSink, Unit::Points, district, Some(0))
    }

    /// Points expired from a district's lots.
    pub fn expiry_sink(district: &str) -> Self {
        Self::district(AccountKind::ExpirySink, Unit::Points, district, Some(0))
    }

    fn personal(kind: AccountKind, unit: Unit, user_id: Uuid) -> Self {
        Self {
            key: format!("{}:{user_id}", kind.as_str()),
            kind,
            unit,
            user_id: Some(user_id),
            district_code: None,
            min_balance: Some(0),
        }
    }

    fn district(kind: AccountKind, unit: Unit, district: &str, min: Option<i64>) -> Self {
        Self {
            key: format!("{}:{district}", kind.as_str()),
            kind,
            unit,
            user_id: None,
            district_code: Some(district.to_string()),
            min_balance: min,
        }
    }
}

/// Finds the account, opening it on first use (concurrent openers agree on one row).
pub async fn account(txn: &impl ConnectionTrait, r: &AccountRef) -> Result<ledger_account::Model> {
    Ok(open(txn, r).await?.0)
}

/// Finds or opens the account; `true` when this call opened it. A concurrent opener on
/// PostgreSQL waits for the first one's commit and then finds its row.
async fn open(txn: &impl ConnectionTrait, r: &AccountRef) -> Result<(ledger_account::Model, bool)> {
    if let Some(a) = find_account(txn, &r.key).await? {
        return Ok((a, false));
    }
    let inserted = ledger_account::Entity::insert(ledger_account::ActiveModel {
        id: Set(Uuid::now_v7()),
        key: Set(r.key.clone()),
        kind: Set(r.kind),
        unit: Set(r.unit),
        user_id: Set(r.user_id),
        district_code: Set(r.district_code.clone()),
        balance: Set(0),
        min_balance: Set(r.min_balance),
        created_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([ledger_account::Column::Key])
    .exec(txn)
    .await?;
    let created = matches!(inserted, sea_orm::TryInsertResult::Inserted(_));
    let a = find_account(txn, &r.key)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("account {} vanished", r.key)))?;
    Ok((a, created))
}

/// The account with this key, if it was ever opened.
pub async fn find_account(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<ledger_account::Model>> {
    Ok(ledger_account::Entity::find()
        .filter(ledger_account::Column::Key.eq(key))
        .one(db)
        .await?)
}

/// A district's programme account, given its initial budget from the appropriation the
/// first time it is opened (`budget:initial:<district>`, so this happens once).
pub async fn programme(
    txn: &impl ConnectionTrait,
    district: &str,
    initial_budget: i64,
) -> Result<ledger_account::Model> {
    let r = AccountRef::programme(district);
    let (acct, created) = open(txn, &r).await?;
    if !created || initial_budget <= 0 {
        return Ok(acct);
    }
    let source = account(txn, &AccountRef::appropriation()).await?;
    post(
        txn,
        NewTransaction::new(
            format!("budget:initial:{district}"),
            TxKind::Budget,
            "initial programme budget",
        ),
        &[Leg::new(source.id, acct.id, initial_budget)],
    )
    .await?;
    Ok(find_account(txn, &r.key).await?.unwrap_or(acct))
}

/// The header of a transaction to post.
#[derive(Debug, Clone)]
pub struct NewTransaction {
    /// Unique key of the business event.
    pub source_key: String,
    /// Kind.
    pub kind: TxKind,
    /// Shown to people reading the ledger.
    pub memo: String,
    /// Who caused it (`None`: the system).
    pub actor_id: Option<Uuid>,
    /// The transaction this one reverses.
    pub reverses_id: Option<Uuid>,
    /// The id to give it (a fresh UUIDv7 when `None`), for rows written before it that
    /// refer to it.
    pub id: Option<Uuid>,
}

impl NewTransaction {
    /// A system transaction.
    pub fn new(source_key: impl Into<String>, kind: TxKind, memo: impl Into<String>) -> Self {
        Self {
            source_key: source_key.into(),
            kind,
            memo: memo.into(),
            actor_id: None,
            reverses_id: None,
            id: None,
        }
    }

    /// Caused by this user.
    pub fn by(mut self, actor: Option<Uuid>) -> Self {
        self.actor_id = actor;
        self
    }
}

/// One posting: `amount` (> 0) from `from` to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leg {
    /// Debited account.
    pub from: Uuid,
    /// Credited account.
    pub to: Uuid,
    /// Amount, positive.
    pub amount: i64,
}

impl Leg {
    /// A posting.
    pub fn new(from: Uuid, to: Uuid, amount: i64) -> Self {
        Self { from, to, amount }
    }
}

/// The transaction with this source key, if posted.
pub async fn find_transaction(
    db: &impl ConnectionTrait,
    source_key: &str,
) -> Result<Option<ledger_transaction::Model>> {
    Ok(ledger_transaction::Entity::find()
        .filter(ledger_transaction::Column::SourceKey.eq(source_key))
        .one(db)
        .await?)
}

/// Posts a transaction. Legs of zero are dropped; a transaction with no legs left is
/// still recorded (it marks the source as handled). Refuses with 409 `already_posted` when
/// the source key was used and 409 `insufficient_balance` when a floor would be crossed.
pub async fn post(
    txn: &impl ConnectionTrait,
    t: NewTransaction,
    legs: &[Leg],
) -> Result<ledger_transaction::Model> {
    if legs.iter().any(|l| l.amount < 0 || l.from == l.to) {
        return Err(Error::Internal(anyhow::anyhow!(
            "malformed ledger legs: {legs:?}"
        )));
    }
    let accounts = lock_accounts(txn, legs.iter().flat_map(|l| [l.from, l.to])).await?;
    let now = Utc::now();
    let header = ledger_transaction::ActiveModel {
        id: Set(t.id.unwrap_or_else(Uuid::now_v7)),
        source_key: Set(t.source_key.clone()),
        kind: Set(t.kind),
        memo: Set(t.memo),
        reverses_id: Set(t.reverses_id),
        actor_id: Set(t.actor_id),
        created_at: Set(now),
    }
    .insert(txn)
    .await
    .map_err(|e| {
        let e = Error::from(e);
        if e.is_unique_violation() {
            Error::conflict(
                "already_posted",
                format!("{} has already been posted", t.source_key),
            )
        } else {
            e
        }
    })?;
    let rows: Vec<ledger_posting::Model> = legs
        .iter()
        .filter(|l| l.amount > 0)
        .map(|l| ledger_posting::Model {
            id: Uuid::now_v7(),
            transaction_id: header.id,
            debit_account_id: l.from,
            credit_account_id: l.to,
            amount: l.amount,
            created_at: now,
        })
        .collect();
    if !rows.is_empty() {
        ledger_posting::Entity::insert_many(
            rows.iter().cloned().map(ledger_posting::ActiveModel::from),
        )
        .exec_without_returning(txn)
        .await
        .map_err(overdraft)?;
        crate::stats::rollups::add_postings(txn, &rows, &accounts).await?;
    }
    Ok(header)
}

/// Reads the accounts of a transaction's legs (the statistics rollups classify postings
/// by them) and, on PostgreSQL, locks them in id order in the same statement, so two
/// transactions touching the same accounts in different leg orders queue instead of
/// deadlocking. Callers lock the residents' accounts first ([`lock_resident`]); re-locking a
/// row this transaction holds is free.
async fn lock_accounts(
    txn: &impl ConnectionTrait,
    ids: impl Iterator<Item = Uuid>,
) -> Result<Vec<ledger_account::Model>> {
    let ids: std::collections::BTreeSet<Uuid> = ids.collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = ledger_account::Entity::find()
        .filter(ledger_account::Column::Id.is_in(ids.clone()))
        .order_by_asc(ledger_account::Column::Id);
    if is_postgres(txn) && ids.len() >= 2 {
        q = q.lock_exclusive();
    }
    Ok(q.all(txn).await?)
}

/// Maps a floor-check violation (an account or a lot) to 409 `insufficient_balance`.
pub fn overdraft(e: DbErr) -> Error {
    let text = e.to_string();
    if text.contains(FLOOR_CHECK) || text.contains(lots::REMAINING_CHECK) {
        Error::conflict("insufficient_balance", "the balance does not cover this")
    } else {
        Error::from(e)
    }
}

/// Whether this error is an overdraft refused by the database.
pub fn is_overdraft(e: &Error) -> bool {
    matches!(
        e,
        Error::Conflict {
            code: "insufficient_balance",
            ..
        }
    )
}

/// Points credited to a resident, funded by a district's programme budget.
#[derive(Debug, Clone)]
pub struct Credit {
    /// The resident.
    pub resident_id: Uuid,
    /// The district whose budget pays.
    pub district_code: String,
    /// Points, ≥ 0.
    pub points: i64,
    /// When they were earned (lots expire from here).
    pub earned_at: DateTime<Utc>,
}

/// Rules the ledger applies that come from configuration.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Points expire this long after they were earned.
    pub expiry: chrono::Duration,
    /// A district's programme account starts with this many points.
    pub initial_budget: i64,
}

impl Rules {
    /// From the settings.
    pub fn from_settings(s: &crate::config::Settings) -> Self {
        Self {
            expiry: chrono::Duration::days(i64::from(s.points_expiry_days)),
            initial_budget: s.points_district_budget,
        }
    }
}

/// Posts `t` with the resident credits (programme → resident, one lot each) and the extra
/// legs (a recycler's fee …). Refuses with 409 `budget_exhausted` when a district's budget
/// does not cover its points.
pub async fn post_credits(
    txn: &impl ConnectionTrait,
    rules: &Rules,
    t: NewTransaction,
    credits: &[Credit],
    extra: &[Leg],
) -> Result<ledger_transaction::Model> {
    let mut residents: Vec<Uuid> = credits.iter().map(|c| c.resident_id).collect();
    residents.sort();
    residents.dedup();
    for r in residents {
        lock_resident(txn, r).await?;
    }
    let mut legs = extra.to_vec();
    let mut lots = Vec::new();
    for c in credits.iter().filter(|c| c.points > 0) {
        let from = programme(txn, &c.district_code, rules.initial_budget).await?;
        let to = account(txn, &AccountRef::resident(c.resident_id)).await?;
        if from.balance < c.points {
            return Err(budget_exhausted(&c.district_code));
        }
        legs.push(Leg::new(from.id, to.id, c.points));
        lots.push((to.id, c));
    }
    let header = post(txn, t, &legs).await.map_err(|e| {
        if is_overdraft(&e) {
            Error::conflict(
                "budget_exhausted",
                "a programme budget does not cover these points",
            )
        } else {
            e
        }
    })?;
    for (account_id, c) in lots {
        point_lot::ActiveModel {
            id: Set(Uuid::now_v7()),
            account_id: Set(account_id),
            transaction_id: Set(header.id),
            district_code: Set(c.district_code.clone()),
            points: Set(c.points),
            remaining: Set(c.points),
            earned_at: Set(c.earned_at),
            expires_at: Set(c.earned_at + rules.expiry),
        }
        .insert(txn)
        .await?;
    }
    Ok(header)
}

fn budget_exhausted(district: &str) -> Error {
    Error::conflict(
        "budget_exhausted",
        format!("the points budget of district {district} is exhausted"),
    )
}

/// Where points drawn from a resident go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    /// Spent in the mall.
    Redemption,
    /// Expired.
    Expiry,
    /// Back to the funding district's budget (a reversal or a negative adjustment).
    Programme,
}

/// Posts `t` taking `points` from a resident into `sink`, drawing lots oldest-expiry first
/// (`only_lot` restricts the draw to one lot, for expiry; `prefer_lots` are drawn first, for
/// reversals). Refuses with 409 `insufficient_points` when the lots do not cover it.
#[allow(clippy::too_many_arguments)]
pub async fn post_debit(
    txn: &impl ConnectionTrait,
    rules: &Rules,
    t: NewTransaction,
    resident_id: Uuid,
    points: i64,
    sink: Sink,
    draw: lots::Draw,
    extra: &[Leg],
) -> Result<ledger_transaction::Model> {
    let resident = lock_resident(txn, resident_id).await?;
    if resident.balance < points {
        return Err(insufficient_points());
    }
    let planned = lots::plan(txn, resident.id, points, &draw).await?;
    let header_key = t.source_key.clone();
    let mut per_district: BTreeMap<String, i64> = BTreeMap::new();
    for (lot, take) in &planned {
        *per_district.entry(lot.district_code.clone()).or_default() += take;
    }
    let mut legs = extra.to_vec();
    for (district, amount) in &per_district {
        let to = match sink {
            Sink::Redemption => account(txn, &AccountRef::redemption_sink(district)).await?,
            Sink::Expiry => account(txn, &AccountRef::expiry_sink(district)).await?,
            Sink::Programme => programme(txn, district, rules.initial_budget).await?,
        };
        legs.push(Leg::new(resident.id, to.id, *amount));
    }
    let header = post(txn, t, &legs).await.map_err(|e| {
        if is_overdraft(&e) {
            insufficient_points()
        } else {
            e
        }
    })?;
    lots::record_draws(txn, header.id, &planned).await?;
    tracing::debug!(source_key = %header_key, points, "drew points");
    Ok(header)
}

/// 409 `insufficient_points`.
pub fn insufficient_points() -> Error {
    Error::conflict(
        "insufficient_points",
        "the points balance does not cover this",
    )
}

/// Reverses `original` with a new transaction of `kind` under `source_key`: every posting
/// swapped, resident lots restored or drawn back. A transaction is reversed at most once
/// (the database refuses a second reversal). Used for cancelled redemptions (kind
/// `refund`) and resolved disputes (kind `reversal`).
pub async fn reverse(
    txn: &impl ConnectionTrait,
    rules: &Rules,
    original: &ledger_transaction::Model,
    mut t: NewTransaction,
) -> Result<ledger_transaction::Model> {
    t.reverses_id = Some(original.id);
    let postings = ledger_posting::Entity::find()
        .filter(ledger_posting::Column::TransactionId.eq(original.id))
        .all(txn)
        .await?;
    // Points the original credited to residents come back out of the lots it created
    // (then the oldest others: the resident may have spent them); points it drew go back
    // into the lots they came from.
    let created = lots::created_by(txn, original.id).await?;
    let restored = lots::draws_of(txn, original.id).await?;
    // Residents first, as everywhere: the accounts whose lots this touches.
    let mut residents: std::collections::BTreeSet<Uuid> =
        created.iter().map(|l| l.account_id).collect();
    if !restored.is_empty() {
        let lot_ids: Vec<Uuid> = restored.iter().map(|d| d.lot_id).collect();
        residents.extend(
            point_lot::Entity::find()
                .filter(point_lot::Column::Id.is_in(lot_ids))
                .all(txn)
                .await?
                .into_iter()
                .map(|l| l.account_id),
        );
    }
    if is_postgres(txn) {
        for id in &residents {
            ledger_account::Entity::find_by_id(*id)
                .lock_exclusive()
                .one(txn)
                .await?;
        }
    }
    let created_accounts: Vec<Uuid> = created.iter().map(|l| l.account_id).collect();
    let mut legs = Vec::new();
    let mut to_draw: BTreeMap<Uuid, i64> = BTreeMap::new();
    for p in &postings {
        if created_accounts.contains(&p.credit_account_id) {
            *to_draw.entry(p.credit_account_id).or_default() += p.amount;
        } else {
            legs.push(Leg::new(p.credit_account_id, p.debit_account_id, p.amount));
        }
    }
    let mut planned = Vec::new();
    for (account_id, points) in &to_draw {
        let prefer: Vec<Uuid> = created
            .iter()
            .filter(|l| l.account_id == *account_id)
            .map(|l| l.id)
            .collect();
        let plan = lots::plan(txn, *account_id, *points, &lots::Draw::Prefer(prefer)).await?;
        let mut per_district: BTreeMap<String, i64> = BTreeMap::new();
        for (lot, take) in &plan {
            *per_district.entry(lot.district_code.clone()).or_default() += take;
        }
        for (district, amount) in per_district {
            let to = programme(txn, &district, rules.initial_budget).await?;
            legs.push(Leg::new(*account_id, to.id, amount));
        }
        planned.extend(plan);
    }
    let header = post(txn, t, &legs).await.map_err(|e| {
        if is_overdraft(&e) {
            Error::conflict(
                "insufficient_balance",
                "the points or earnings to take back have been spent",
            )
        } else {
            e
        }
    })?;
    lots::record_draws(txn, header.id, &planned).await?;
    lots::restore(txn, header.id, &restored).await?;
    Ok(header)
}

/// Whether the connection is PostgreSQL (row locks are taken there; SQLite serialises
/// writers).
pub(crate) fn is_postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DatabaseBackend::Postgres
}

/// Locks a resident's account row for the rest of the transaction (PostgreSQL), so
/// concurrent spenders of one balance queue instead of racing on its lots.
pub async fn lock_resident(
    txn: &impl ConnectionTrait,
    resident_id: Uuid,
) -> Result<ledger_account::Model> {
    let a = account(txn, &AccountRef::resident(resident_id)).await?;
    if !is_postgres(txn) {
        return Ok(a);
    }
    Ok(ledger_account::Entity::find_by_id(a.id)
        .lock_exclusive()
        .one(txn)
        .await?
        .unwrap_or(a))
}
