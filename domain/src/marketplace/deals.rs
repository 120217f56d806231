//! Deals. The buyer accepts a quote in force: in one transaction the quote becomes
//! `accepted` (a conditional update, so it is accepted once), the listing's stock is taken
//! by a conditional update that never lets it go below zero (409 `insufficient_stock`),
//! the deal is written and the inquiry marked dealt. Then `confirmed → delivered` (the
//! supplier) `→ completed` (the buyer), or `cancelled` by either party while confirmed,
//! which gives the stock back. Payment happens offline. Lock order: quote, then listing;
//! deal, then listing.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{DealView, inquiries, merchants, search};
use crate::{
    auth::Principal,
    entities::{
        market_deal::{self as deal, Entity as Deals, Status},
        market_inquiry as inquiry, market_listing as listing, market_quote as quote,
    },
    error::{Error, Result},
    paging::{Page, PageRequest},
};

/// Moves stock of listing `id` by `delta` (negative: taken) with one conditional update
/// that never lets it go below zero, bumping its version and staging the index job.
/// Returns whether it moved.
async fn move_stock(
    txn: &impl ConnectionTrait,
    id: Uuid,
    delta: i64,
    published_only: bool,
) -> Result<bool> {
    let mut q = listing::Entity::update_many()
        .col_expr(
            listing::Column::Stock,
            Expr::col(listing::Column::Stock).add(delta),
        )
        .col_expr(
            listing::Column::Version,
            Expr::col(listing::Column::Version).add(1),
        )
        .col_expr(listing::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(listing::Column::Id.eq(id))
        .filter(listing::Column::Stock.gte(Ord::min(delta, 0).saturating_neg()));
    if published_only {
        q = q.filter(listing::Column::Status.eq(listing::Status::Published));
    }
    let moved = q.exec(txn).await?.rows_affected > 0;
    if moved {
        search::stage(txn, id).await?;
    }
    Ok(moved)
}

/// The buyer accepts quote `id`: → 201 deal. 409 `insufficient_stock` if the listing no
/// longer has the quantity (nothing changes), `quote_not_open` if it was replaced,
/// accepted or expired.
#[tracing::instrument(skip(db, who), fields(user_id = %who.user_id))]
pub async fn accept(db: &impl TransactionTrait, who: &Principal, id: Uuid) -> Result<DealView> {
    let txn = db.begin().await?;
    let me = merchants::acting(&txn, who).await?;
    let q = quote::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound { what: "quote" })?;
    let i = inquiry::Entity::find_by_id(q.inquiry_id)
        .one(&txn)
        .await?
        .filter(|i| i.buyer_id == me.id || i.seller_id == me.id)
        .ok_or(Error::NotFound { what: "quote" })?;
    if i.buyer_id != me.id {
        return Err(Error::forbidden("only the buyer accepts a quote"));
    }
    let now = Utc::now();
    let took = quote::Entity::update_many()
        .col_expr(
            quote::Column::Status,
            Expr::value(quote::Status::Accepted.as_str()),
        )
        .filter(quote::Column::Id.eq(id))
        .filter(quote::Column::Status.eq(quote::Status::Open))
        .filter(quote::Column::ValidUntil.gt(now))
        .exec(&txn)
        .await?
        .rows_affected
        > 0;
    if !took {
        return Err(Error::conflict(
            "quote_not_open",
            "the quote was replaced, accepted or has expired",
        ));
    }
    if !move_stock(&txn, i.listing_id, -q.quantity, true).await? {
        return Err(Error::conflict(
            "insufficient_stock",
            "the listing no longer has that quantity in stock",
        ));
    }
    let l = listing::Entity::find_by_id(i.listing_id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound { what: "listing" })?;
    let row = deal::ActiveModel {
        id: Set(Uuid::now_v7()),
        quote_id: Set(q.id),
        inquiry_id: Set(i.id),
        listing_id: Set(l.id),
        buyer_id: Set(i.buyer_id),
        seller_id: Set(i.seller_id),
        product_type: Set(l.product_type.clone()),
        district_code: Set(l.district_code.clone()),
        unit: Set(l.unit.clone()),
        quantity: Set(q.quantity),
        price_fen: Set(q.price_fen),
        amount_fen: Set(q.price_fen.saturating_mul(q.quantity)),
        status: Set(Status::Confirmed),
        created_at: Set(now),
        delivered_at: Set(None),
        completed_at: Set(None),
        cancelled_at: Set(None),
        cancelled_by: Set(None),
    }
    .insert(&txn)
    .await?;
    inquiry::Entity::update_many()
        .col_expr(
            inquiry::Column::Status,
            Expr::value(inquiry::Status::Dealt.as_str()),
        )
        .col_expr(inquiry::Column::UpdatedAt, Expr::value(now))
        .filter(inquiry::Column::Id.eq(i.id))
        .exec(&txn)
        .await?;
    inquiries::tell(
        &txn,
        i.seller_id,
        "报价已被接受",
        format!("「{}」成交 {} {}。", l.title, row.quantity, row.unit),
        serde_json::json!({ "deal_id": row.id }),
    )
    .await?;
    txn.commit().await?;
    Ok(row.into())
}

/// The deal `id` if the caller is a party (or an administrator); 404 otherwise. Returns
/// the caller's merchant id when it is a party.
async fn visible(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: Uuid,
) -> Result<(deal::Model, Option<Uuid>)> {
    let d = Deals::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "deal" })?;
    if who.is_admin() {
        return Ok((d, None));
    }
    let me = merchants::of_user(db, who.user_id)
        .await?
        .filter(|m| m.id == d.buyer_id || m.id == d.seller_id)
        .ok_or(Error::NotFound { what: "deal" })?;
    Ok((d, Some(me.id)))
}

/// One deal, for its parties and administrators.
pub async fn get(db: &impl ConnectionTrait, who: &Principal, id: Uuid) -> Result<DealView> {
    Ok(visible(db, who, id).await?.0.into())
}

/// The caller's deals, as buyer or supplier, newest first.
pub async fn mine(
    db: &impl ConnectionTrait,
    who: &Principal,
    page: PageRequest,
) -> Result<Page<DealView>> {
    let me = merchants::acting(db, who).await?;
    let mut q = Deals::find()
        .filter(
            Condition::any()
                .add(deal::Column::BuyerId.eq(me.id))
                .add(deal::Column::SellerId.eq(me.id)),
        )
        .order_by_desc(deal::Column::Id)
        .limit(page.limit + 1);
    if let Some(before) = page.before {
        q = q.filter(deal::Column::Id.lt(before));
    }
    Ok(Page::of(
        q.all(db).await?,
        page.limit,
        |d| d.id,
        DealView::from,
    ))
}

/// A step of a deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The supplier delivered (`confirmed → delivered`).
    Deliver,
    /// The buyer confirms receipt (`delivered → completed`).
    Complete,
    /// Either party calls it off while confirmed (stock given back).
    Cancel,
}

/// Takes `step` on deal `id`, by the right party only (403 for the other, 404 for anyone
/// else); 409 `illegal_transition` from the wrong state.
#[tracing::instrument(skip(db, who), fields(user_id = %who.user_id))]
pub async fn step(
    db: &impl TransactionTrait,
    who: &Principal,
    id: Uuid,
    step: Step,
) -> Result<DealView> {
    let txn = db.begin().await?;
    let (d, me) = visible(&txn, who, id).await?;
    let me = me.ok_or_else(|| Error::forbidden("only the deal's parties move it"))?;
    let (from, to, party_ok, column) = match step {
        Step::Deliver => (
            Status::Confirmed,
            Status::Delivered,
            me == d.seller_id,
            deal::Column::DeliveredAt,
        ),
        Step::Complete => (
            Status::Delivered,
            Status::Completed,
            me == d.buyer_id,
            deal::Column::CompletedAt,
        ),
        Step::Cancel => (
            Status::Confirmed,
            Status::Cancelled,
            true,
            deal::Column::CancelledAt,
        ),
    };
    if !party_ok {
        return Err(Error::forbidden(match step {
            Step::Deliver => "only the supplier marks a deal delivered",
            _ => "only the buyer completes a deal",
        }));
    }
    let now = Utc::now();
    let mut q = Deals::update_many()
        .col_expr(deal::Column::Status, Expr::value(to.as_str()))
        .col_expr(column, Expr::value(now))
        .filter(deal::Column::Id.eq(id))
        .filter(deal::Column::Status.eq(from));
    if step == Step::Cancel {
        q = q.col_expr(deal::Column::CancelledBy, Expr::value(who.user_id));
    }
    if q.exec(&txn).await?.rows_affected == 0 {
        return Err(Error::conflict(
            "illegal_transition",
            format!(
                "the deal cannot become {} from {}",
                to.as_str(),
                d.status.as_str()
            ),
        ));
    }
    if step == Step::Cancel {
        move_stock(&txn, d.listing_id, d.quantity, false).await?;
    }
    let other = if me == d.buyer_id {
        d.seller_id
    } else {
        d.buyer_id
    };
    let title = match step {
        Step::Deliver => "订单已发货",
        Step::Complete => "订单已完成",
        Step::Cancel => "订单已取消",
    };
    inquiries::tell(
        &txn,
        other,
        title,
        format!("成交单 {} 已更新。", d.id),
        serde_json::json!({ "deal_id": d.id }),
    )
    .await?;
    let fresh = Deals::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound { what: "deal" })?;
    txn.commit().await?;
    Ok(fresh.into())
}
