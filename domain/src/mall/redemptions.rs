//! Redeeming points for mall items, and cancelling. A redemption is one database
//! transaction that either does everything or nothing:
//!
//! 1. the stock, by a conditional update that also requires the item on sale (this takes
//!    the item's row lock first, so concurrent redemptions of one item queue on it);
//! 2. the per-person limit, by an upsert of the resident's holding whose update only
//!    applies while it stays within the limit;
//! 3. the points, by a ledger debit under `redemption:<id>` drawing the oldest lots (it
//!    locks the resident's points account; the database refuses an overdraft);
//! 4. the redemption row with a random 8-digit pickup code (unique in the database; a
//!    collision draws another), and a points notification.
//!
//! Cancelling moves the status from `reserved` only (a conditional update, so it happens
//! once), gives stock and holding back and reverses the debit under
//! `refund:redemption:<id>`. This module must never change a stock, a holding or a
//! status by writing a value read earlier.

use chrono::Utc;
use rand::Rng;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionSession, TransactionTrait,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{RedemptionView, Status, items, redemption_view, refund_key, source_key};
use crate::{
    auth::{Principal, Role},
    entities::{ledger_transaction, mall_holding, mall_item, mall_redemption},
    error::{Error, Result},
    ledger::{self, NewTransaction, Sink, TxKind, lots::Draw},
    notifications::{self, NewNotification},
    paging::{Page, PageRequest},
};

/// Most units of one item in one redemption.
pub const MAX_QUANTITY: i64 = 99;
/// Pickup codes drawn before giving up (a collision is one in a hundred million per
/// redemption ever made).
const CODE_ATTEMPTS: usize = 8;

/// Body of a redemption.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemInput {
    /// The item.
    pub item_id: Uuid,
    /// Units, 1 to 99.
    pub quantity: i64,
}

fn conflict_out_of_stock() -> Error {
    Error::conflict("out_of_stock", "not enough of this item is left")
}

fn conflict_limit_reached(limit: i32) -> Error {
    Error::conflict(
        "limit_reached",
        format!("one person may hold at most {limit} of this item"),
    )
}

/// Redeems `quantity` of an item for the calling resident (see the module documentation).
/// 404 for an unknown item; 409 `not_on_sale`, `out_of_stock`, `limit_reached`,
/// `insufficient_points`.
#[tracing::instrument(skip(db, rules, who, input), fields(user_id = %who.user_id, item_id = %input.item_id, quantity = input.quantity))]
pub async fn redeem(
    db: &impl TransactionTrait,
    rules: &ledger::Rules,
    who: &Principal,
    input: RedeemInput,
) -> Result<RedemptionView> {
    who.require_role(&[Role::Resident])?;
    if !(1..=MAX_QUANTITY).contains(&input.quantity) {
        return Err(Error::field(
            "quantity",
            "out_of_range",
            format!("must be between 1 and {MAX_QUANTITY}"),
        ));
    }
    let quantity = i32::try_from(input.quantity).unwrap_or(1);
    let now = Utc::now();
    let txn = db.begin().await?;

    // Returning the row saves a read while the item is locked: every redemption of this
    // item waits for this transaction.
    let taken = mall_item::Entity::update_many()
        .col_expr(
            mall_item::Column::Stock,
            Expr::col(mall_item::Column::Stock).sub(quantity),
        )
        .filter(mall_item::Column::Id.eq(input.item_id))
        .filter(items::on_sale(now))
        .filter(mall_item::Column::Stock.gte(quantity))
        .exec_with_returning(&txn)
        .await?;
    let Some(item) = taken.into_iter().next() else {
        let item = mall_item::Entity::find_by_id(input.item_id)
            .one(&txn)
            .await?
            .ok_or(Error::NotFound { what: "item" })?;
        return Err(if items::is_on_sale(&item, now) {
            conflict_out_of_stock()
        } else {
            Error::conflict("not_on_sale", "this item is not on sale now")
        });
    };

    hold(&txn, who.user_id, &item, quantity).await?;

    let points = item
        .points
        .checked_mul(i64::from(quantity))
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("points of item {} overflow", item.id)))?;
    let id = Uuid::now_v7();
    let debit = ledger::post_debit(
        &txn,
        rules,
        NewTransaction::new(
            source_key(id),
            TxKind::Redemption,
            format!("兑换 {} ×{quantity}", item.name),
        )
        .by(Some(who.user_id)),
        who.user_id,
        points,
        Sink::Redemption,
        Draw::Oldest,
        &[],
    )
    .await?;

    let redemption = insert_with_code(
        &txn,
        mall_redemption::Model {
            id,
            user_id: who.user_id,
            item_id: item.id,
            quantity,
            points,
            status: Status::Reserved,
            pickup_code: String::new(),
            transaction_id: debit.id,
            refund_transaction_id: None,
            created_at: now,
            fulfilled_at: None,
            fulfilled_by: None,
            cancelled_at: None,
        },
    )
    .await?;
    notifications::notify(
        &txn,
        NewNotification {
            user_id: who.user_id,
            kind: notifications::kinds::POINTS.into(),
            title: "积分兑换成功".into(),
            body: format!(
                "已兑换 {} ×{quantity}，使用 {points} 积分；取货码 {}",
                item.name, redemption.pickup_code
            ),
            data: serde_json::json!({
                "redemption_id": id,
                "pickup_code": redemption.pickup_code,
                "points": -points,
            }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(redemption_view(redemption, &item))
}

/// Raises the resident's holding of `item` by `quantity` within its per-person limit
/// (holdings are kept for unlimited items too, so a limit added later counts them).
async fn hold(
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    item: &mall_item::Model,
    quantity: i32,
) -> Result<()> {
    let held = Expr::col((mall_holding::Entity, mall_holding::Column::Quantity));
    let mut upsert =
        OnConflict::columns([mall_holding::Column::UserId, mall_holding::Column::ItemId]);
    upsert.value(mall_holding::Column::Quantity, held.clone().add(quantity));
    if let Some(limit) = item.per_person_limit {
        if quantity > limit {
            return Err(conflict_limit_reached(limit));
        }
        upsert.action_and_where(held.add(quantity).lte(limit));
    }
    let written = mall_holding::Entity::insert(mall_holding::ActiveModel {
        user_id: Set(user_id),
        item_id: Set(item.id),
        quantity: Set(quantity),
    })
    .on_conflict(upsert)
    .exec_without_returning(txn)
    .await?;
    match (written, item.per_person_limit) {
        (0, Some(limit)) => Err(conflict_limit_reached(limit)),
        (0, None) => Err(Error::Internal(anyhow::anyhow!(
            "holding of item {} not written",
            item.id
        ))),
        _ => Ok(()),
    }
}

/// A random 8-digit code.
fn pickup_code() -> String {
    format!("{:08}", rand::rng().random_range(0..100_000_000u32))
}

/// Inserts the redemption with a fresh pickup code, drawing again on a collision (the
/// insert skips a taken code rather than failing, so the transaction stays usable).
async fn insert_with_code(
    txn: &impl ConnectionTrait,
    mut r: mall_redemption::Model,
) -> Result<mall_redemption::Model> {
    for _ in 0..CODE_ATTEMPTS {
        r.pickup_code = pickup_code();
        let am = mall_redemption::ActiveModel {
            id: Set(r.id),
            user_id: Set(r.user_id),
            item_id: Set(r.item_id),
            quantity: Set(r.quantity),
            points: Set(r.points),
            status: Set(r.status),
            pickup_code: Set(r.pickup_code.clone()),
            transaction_id: Set(r.transaction_id),
            refund_transaction_id: Set(None),
            created_at: Set(r.created_at),
            fulfilled_at: Set(None),
            fulfilled_by: Set(None),
            cancelled_at: Set(None),
        };
        let inserted = mall_redemption::Entity::insert(am)
            .on_conflict(
                OnConflict::column(mall_redemption::Column::PickupCode)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
        if inserted == 1 {
            return Ok(r);
        }
        tracing::warn!(redemption_id = %r.id, "pickup code collision; drawing another");
    }
    Err(Error::Internal(anyhow::anyhow!(
        "no free pickup code after {CODE_ATTEMPTS} draws"
    )))
}

/// The caller's redemptions, newest first.
pub async fn list_mine(
    db: &impl ConnectionTrait,
    who: &Principal,
    page: PageRequest,
) -> Result<Page<RedemptionView>> {
    let mut q = mall_redemption::Entity::find()
        .filter(mall_redemption::Column::UserId.eq(who.user_id))
        .order_by_desc(mall_redemption::Column::Id)
        .limit(page.limit + 1);
    if let Some(before) = page.before {
        q = q.filter(mall_redemption::Column::Id.lt(before));
    }
    let mut rows = q.all(db).await?;
    let next_cursor = if rows.len() as u64 > page.limit {
        rows.truncate(page.limit as usize);
        rows.last().map(|r| r.id.to_string())
    } else {
        None
    };
    let mut ids: Vec<Uuid> = rows.iter().map(|r| r.item_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let items: std::collections::HashMap<Uuid, mall_item::Model> = mall_item::Entity::find()
        .filter(mall_item::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let item = items
            .get(&r.item_id)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("redemption {} has no item", r.id)))?;
        out.push(redemption_view(r, item));
    }
    Ok(Page {
        items: out,
        next_cursor,
    })
}

/// One of the caller's redemptions (anyone else's is 404).
pub async fn get_mine(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: Uuid,
) -> Result<RedemptionView> {
    let r = own(db, who, id).await?;
    let item = item_of(db, &r).await?;
    Ok(redemption_view(r, &item))
}

async fn own(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: Uuid,
) -> Result<mall_redemption::Model> {
    mall_redemption::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|r| r.user_id == who.user_id)
        .ok_or(Error::NotFound { what: "redemption" })
}

pub(super) async fn item_of(
    db: &impl ConnectionTrait,
    r: &mall_redemption::Model,
) -> Result<mall_item::Model> {
    mall_item::Entity::find_by_id(r.item_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("redemption {} has no item", r.id)))
}

/// 409 for a redemption that is no longer `reserved`.
pub(super) fn not_reserved(status: &str, action: &str) -> Error {
    match status {
        "fulfilled" => Error::conflict(
            "already_fulfilled",
            format!("this redemption was already handed out; it cannot be {action}"),
        ),
        "cancelled" => Error::conflict(
            "already_cancelled",
            format!("this redemption was cancelled; it cannot be {action}"),
        ),
        other => Error::conflict(
            "illegal_transition",
            format!("a {other} redemption cannot be {action}"),
        ),
    }
}

/// Cancels one of the caller's reserved redemptions: points refunded (`refund:redemption:<id>`),
/// stock and per-person holding given back. 409 once it is no longer reserved.
#[tracing::instrument(skip(db, rules, who), fields(user_id = %who.user_id, redemption_id = %id))]
pub async fn cancel(
    db: &impl TransactionTrait,
    rules: &ledger::Rules,
    who: &Principal,
    id: Uuid,
) -> Result<RedemptionView> {
    let now = Utc::now();
    let txn = db.begin().await?;
    let r = own(&txn, who, id).await?;
    let moved = mall_redemption::Entity::update_many()
        .col_expr(
            mall_redemption::Column::Status,
            Expr::value(Status::Cancelled),
        )
        .col_expr(mall_redemption::Column::CancelledAt, Expr::value(now))
        .filter(mall_redemption::Column::Id.eq(id))
        .filter(mall_redemption::Column::Status.eq(Status::Reserved))
        .exec(&txn)
        .await?
        .rows_affected;
    if moved == 0 {
        let status = mall_redemption::Entity::find_by_id(id)
            .select_only()
            .column(mall_redemption::Column::Status)
            .into_tuple::<String>()
            .one(&txn)
            .await?
            .unwrap_or_default();
        return Err(not_reserved(&status, "cancelled"));
    }
    mall_item::Entity::update_many()
        .col_expr(
            mall_item::Column::Stock,
            Expr::col(mall_item::Column::Stock).add(r.quantity),
        )
        .filter(mall_item::Column::Id.eq(r.item_id))
        .exec(&txn)
        .await?;
    mall_holding::Entity::update_many()
        .col_expr(
            mall_holding::Column::Quantity,
            Expr::col(mall_holding::Column::Quantity).sub(r.quantity),
        )
        .filter(mall_holding::Column::UserId.eq(r.user_id))
        .filter(mall_holding::Column::ItemId.eq(r.item_id))
        .filter(mall_holding::Column::Quantity.gte(r.quantity))
        .exec(&txn)
        .await?;
    // The account before the sink the refund credits from, as a redemption locks them.
    ledger::lock_resident(&txn, r.user_id).await?;
    let original = ledger_transaction::Entity::find_by_id(r.transaction_id)
        .one(&txn)
        .await?
        .ok_or_else(|| {
            Error::Internal(anyhow::anyhow!("redemption {id} has no ledger transaction"))
        })?;
    let refund = ledger::reverse(
        &txn,
        rules,
        &original,
        NewTransaction::new(refund_key(id), TxKind::Refund, "取消兑换，积分退回")
            .by(Some(who.user_id)),
    )
    .await?;
    mall_redemption::Entity::update_many()
        .col_expr(
            mall_redemption::Column::RefundTransactionId,
            Expr::value(refund.id),
        )
        .filter(mall_redemption::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let item = item_of(&txn, &r).await?;
    notifications::notify(
        &txn,
        NewNotification {
            user_id: r.user_id,
            kind: notifications::kinds::POINTS.into(),
            title: "兑换已取消".into(),
            body: format!(
                "已取消兑换 {} ×{}，退回 {} 积分",
                item.name, r.quantity, r.points
            ),
            data: serde_json::json!({ "redemption_id": id, "points": r.points }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(redemption_view(
        mall_redemption::Model {
            status: Status::Cancelled,
            cancelled_at: Some(now),
            refund_transaction_id: Some(refund.id),
            ..r
        },
        &item,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pickup_codes_are_eight_digits() {
        for _ in 0..1000 {
            let c = pickup_code();
            assert_eq!(c.len(), 8, "{c}");
            assert!(c.bytes().all(|b| b.is_ascii_digit()), "{c}");
        }
    }
}
