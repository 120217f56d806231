//! Inquiries: a merchant (the buyer) asks about another merchant's published listing; the
//! two exchange messages; the supplier quotes (a newer quote replaces the open one). Only
//! the two parties and administrators ever see an inquiry; to anyone else it is 404.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait, sea_query::Expr,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    InquirySite, InquiryView, MessageView, QuoteView,
    demands::names,
    listings::{MAX_PRICE_FEN, MAX_QUANTITY},
    merchants,
};
use crate::{
    auth::Principal,
    catalog::areas::check_place,
    entities::{
        market_inquiry::{self as inquiry, Entity as Inquiries, Status},
        market_listing as listing, market_message as message, market_quote as quote, merchant,
    },
    error::{Error, Result},
    notifications::{self, NewNotification},
    paging::{Page, PageRequest},
    validate::Check,
};

/// The longest a quote may stay in force.
pub const MAX_QUOTE_DAYS: i64 = 90;

/// An inquiry to open.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInquiry {
    /// Units wanted, at least the listing's minimum order.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub quantity: i64,
    /// The first message, 1–1000 characters.
    pub message: String,
    /// Where to deliver.
    pub site: Option<InquirySite>,
    /// When it is needed (today or later).
    pub needed_by: Option<NaiveDate>,
}

/// Tells a merchant's account something about an inquiry or deal, in `txn`.
pub(crate) async fn tell(
    txn: &impl ConnectionTrait,
    merchant_id: Uuid,
    title: &str,
    body: String,
    data: serde_json::Value,
) -> Result<()> {
    if let Some(m) = merchant::Entity::find_by_id(merchant_id).one(txn).await? {
        notifications::notify(
            txn,
            NewNotification {
                user_id: m.user_id,
                kind: "market".into(),
                title: title.into(),
                body,
                data,
            },
        )
        .await?;
    }
    Ok(())
}

/// Opens an inquiry on a published listing of another merchant.
#[tracing::instrument(skip(db, who, new), fields(user_id = %who.user_id))]
pub async fn open(
    db: &impl TransactionTrait,
    who: &Principal,
    listing_id: Uuid,
    new: NewInquiry,
) -> Result<InquiryView> {
    let txn = db.begin().await?;
    let me = merchants::acting(&txn, who).await?;
    let l = listing::Entity::find_by_id(listing_id)
        .one(&txn)
        .await?
        .filter(|l| l.status == listing::Status::Published)
        .ok_or(Error::NotFound { what: "listing" })?;
    if l.merchant_id == me.id {
        return Err(Error::Unprocessable {
            code: "own_listing",
            message: "a merchant cannot inquire about its own listing".into(),
        });
    }
    let mut check = Check::new();
    check.range("quantity", new.quantity, 1, MAX_QUANTITY);
    check.ensure(
        new.quantity >= l.min_order,
        "quantity",
        "out_of_range",
        format!("the smallest order is {} {}", l.min_order, l.unit),
    );
    let text = check.text("message", &new.message, 1, 1000);
    let site_address = new.site.as_ref().map(|s| {
        check_place(&mut check, "site", s.lat, s.lng);
        check.text("site.address", &s.address, 1, 256)
    });
    if let Some(d) = new.needed_by {
        check.ensure(
            d >= Utc::now().date_naive(),
            "needed_by",
            "invalid",
            "must not be in the past",
        );
    }
    check.finish()?;
    let now = Utc::now();
    let row = inquiry::ActiveModel {
        id: Set(Uuid::now_v7()),
        listing_id: Set(l.id),
        buyer_id: Set(me.id),
        seller_id: Set(l.merchant_id),
        quantity: Set(new.quantity),
        message: Set(text),
        site_lat: Set(new.site.as_ref().map(|s| s.lat)),
        site_lng: Set(new.site.as_ref().map(|s| s.lng)),
        site_address: Set(site_address),
        needed_by: Set(new.needed_by),
        status: Set(Status::Open),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    tell(
        &txn,
        l.merchant_id,
        "新的询价",
        format!(
            "{} 询价「{}」{} {}。",
            me.company_name, l.title, row.quantity, l.unit
        ),
        serde_json::json!({ "inquiry_id": row.id }),
    )
    .await?;
    let view = view(&txn, row, false).await?;
    txn.commit().await?;
    Ok(view)
}

/// The inquiry `id` if the caller is one of its parties (or an administrator); 404
/// otherwise.
pub(crate) async fn visible(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: Uuid,
) -> Result<(inquiry::Model, Option<merchant::Model>)> {
    let i = Inquiries::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "inquiry" })?;
    if who.is_admin() {
        return Ok((i, None));
    }
    let me = merchants::of_user(db, who.user_id)
        .await?
        .filter(|m| m.id == i.buyer_id || m.id == i.seller_id)
        .ok_or(Error::NotFound { what: "inquiry" })?;
    Ok((i, Some(me)))
}

async fn view(db: &impl ConnectionTrait, i: inquiry::Model, full: bool) -> Result<InquiryView> {
    let parties = names(db, vec![i.buyer_id, i.seller_id]).await?;
    let find = |id: Uuid| {
        parties
            .iter()
            .find(|p| p.id == id)
            .cloned()
            .unwrap_or(super::MerchantRef {
                id,
                name: String::new(),
            })
    };
    let title = listing::Entity::find_by_id(i.listing_id)
        .one(db)
        .await?
        .map(|l| l.title)
        .unwrap_or_default();
    let (messages, quotes) = if full {
        let messages = message::Entity::find()
            .filter(message::Column::InquiryId.eq(i.id))
            .order_by_asc(message::Column::Id)
            .limit(500)
            .all(db)
            .await?
            .into_iter()
            .map(MessageView::from)
            .collect();
        let quotes = quote::Entity::find()
            .filter(quote::Column::InquiryId.eq(i.id))
            .order_by_desc(quote::Column::Id)
            .limit(100)
            .all(db)
            .await?
            .into_iter()
            .map(QuoteView::from)
            .collect();
        (Some(messages), Some(quotes))
    } else {
        (None, None)
    };
    let site = match (i.site_lat, i.site_lng, i.site_address) {
        (Some(lat), Some(lng), Some(address)) => Some(InquirySite { lat, lng, address }),
        _ => None,
    };
    Ok(InquiryView {
        id: i.id,
        status: i.status,
        listing_id: i.listing_id,
        listing_title: title,
        buyer: find(i.buyer_id),
        seller: find(i.seller_id),
        quantity: i.quantity,
        message: i.message,
        site,
        needed_by: i.needed_by,
        messages,
        quotes,
        created_at: i.created_at,
        updated_at: i.updated_at,
    })
}

/// One inquiry with its messages and quotes, for its parties and administrators.
pub async fn get(db: &impl ConnectionTrait, who: &Principal, id: Uuid) -> Result<InquiryView> {
    let (i, _) = visible(db, who, id).await?;
    view(db, i, true).await
}

/// The caller's inquiries, as buyer or supplier, newest first.
pub async fn mine(
    db: &impl ConnectionTrait,
    who: &Principal,
    page: PageRequest,
) -> Result<Page<InquiryView>> {
    let me = merchants::acting(db, who).await?;
    let mut q = Inquiries::find()
        .filter(
            Condition::any()
                .add(inquiry::Column::BuyerId.eq(me.id))
                .add(inquiry::Column::SellerId.eq(me.id)),
        )
        .order_by_desc(inquiry::Column::Id)
        .limit(page.limit + 1);
    if let Some(before) = page.before {
        q = q.filter(inquiry::Column::Id.lt(before));
    }
    let page = Page::of(q.all(db).await?, page.limit, |i| i.id, |i| i);
    let mut items = Vec::with_capacity(page.items.len());
    for i in page.items {
        items.push(view(db, i, false).await?);
    }
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

/// A message to send.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// Text, 1–1000 characters.
    pub body: String,
}

/// Sends a message on an open inquiry (its parties only); the other party is told.
pub async fn send(
    db: &impl TransactionTrait,
    who: &Principal,
    id: Uuid,
    new: NewMessage,
) -> Result<MessageView> {
    let mut check = Check::new();
    let body = check.text("body", &new.body, 1, 1000);
    check.finish()?;
    let txn = db.begin().await?;
    let (i, me) = visible(&txn, who, id).await?;
    let me = me.ok_or_else(|| Error::forbidden("only the inquiry's parties write in it"))?;
    if i.status == Status::Closed {
        return Err(Error::conflict("inquiry_closed", "the inquiry is closed"));
    }
    let row = message::ActiveModel {
        id: Set(Uuid::now_v7()),
        inquiry_id: Set(i.id),
        author_id: Set(me.id),
        body: Set(body),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    touch(&txn, i.id).await?;
    let other = if me.id == i.buyer_id {
        i.seller_id
    } else {
        i.buyer_id
    };
    tell(
        &txn,
        other,
        "询价有新消息",
        format!(
            "{}：{}",
            me.company_name,
            row.body.chars().take(40).collect::<String>()
        ),
        serde_json::json!({ "inquiry_id": i.id }),
    )
    .await?;
    txn.commit().await?;
    Ok(row.into())
}

async fn touch(txn: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    Inquiries::update_many()
        .col_expr(inquiry::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(inquiry::Column::Id.eq(id))
        .exec(txn)
        .await?;
    Ok(())
}

/// A quote to make.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewQuote {
    /// Price per unit, fen.
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub price_fen: i64,
    /// Units.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub quantity: i64,
    /// In force until (in the future, at most 90 days ahead).
    pub valid_until: DateTime<Utc>,
    /// A note, up to 500 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// The supplier quotes on an open inquiry; an earlier open quote is withdrawn. The buyer is
/// told.
#[tracing::instrument(skip(db, who, new), fields(user_id = %who.user_id))]
pub async fn quote(
    db: &impl TransactionTrait,
    who: &Principal,
    id: Uuid,
    new: NewQuote,
) -> Result<QuoteView> {
    let now = Utc::now();
    let mut check = Check::new();
    check.range("price_fen", new.price_fen, 1, MAX_PRICE_FEN);
    check.range("quantity", new.quantity, 1, MAX_QUANTITY);
    check.ensure(
        new.valid_until > now,
        "valid_until",
        "invalid",
        "must be in the future",
    );
    check.ensure(
        new.valid_until <= now + Duration::days(MAX_QUOTE_DAYS),
        "valid_until",
        "out_of_range",
        "at most 90 days ahead",
    );
    let note = check.text("note", new.note.as_deref().unwrap_or_default(), 0, 500);
    check.finish()?;
    let txn = db.begin().await?;
    let (i, me) = visible(&txn, who, id).await?;
    if me.as_ref().is_none_or(|m| m.id != i.seller_id) {
        return Err(Error::forbidden("only the supplier quotes"));
    }
    if i.status != Status::Open {
        return Err(Error::conflict("inquiry_closed", "the inquiry is not open"));
    }
    quote::Entity::update_many()
        .col_expr(
            quote::Column::Status,
            Expr::value(quote::Status::Withdrawn.as_str()),
        )
        .filter(quote::Column::InquiryId.eq(i.id))
        .filter(quote::Column::Status.eq(quote::Status::Open))
        .exec(&txn)
        .await?;
    let row = quote::ActiveModel {
        id: Set(Uuid::now_v7()),
        inquiry_id: Set(i.id),
        price_fen: Set(new.price_fen),
        quantity: Set(new.quantity),
        valid_until: Set(new.valid_until),
        note: Set(note),
        status: Set(quote::Status::Open),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    touch(&txn, i.id).await?;
    tell(
        &txn,
        i.buyer_id,
        "收到报价",
        format!(
            "单价 {:.2} 元，数量 {}。",
            row.price_fen as f64 / 100.0,
            row.quantity
        ),
        serde_json::json!({ "inquiry_id": i.id, "quote_id": row.id }),
    )
    .await?;
    txn.commit().await?;
    Ok(row.into())
}
