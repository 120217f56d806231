//! Demand (求购): verified merchants post what they need, where and by when; the public
//! reads open demand; a demand expires the day after its date. Matching pairs a demand
//! with published listings of its product type whose delivery radius reaches its site:
//! [`matches`] ranks them, and when a listing is published or a demand posted the worker
//! tells both sides of each new pair, once per pair (`market_matches` is keyed by it).

use std::cmp::Ordering;

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait, sea_query::Expr,
    sea_query::OnConflict,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    DemandView, ListingSummary, MerchantRef,
    listings::{MAX_PRICE_FEN, MAX_QUANTITY, reference},
    merchants, product_types,
};
use crate::{
    auth::Principal,
    catalog::areas::{check_place, known_district},
    entities::{
        market_demand::{self as demand, Entity as Demands, Status},
        market_listing as listing, market_match, merchant,
    },
    error::{Error, Result},
    jobs::{outbox, runner::JobHandler},
    notifications::{self, NewNotification},
    paging::{Page, PageRequest},
    ports::{
        geo::{Position, distance_m},
        queue::Delivery,
    },
    validate::Check,
};

/// Topic of the job that announces a newly published listing to matching demands.
pub const MATCH_LISTING: &str = "market.match_listing";
/// Topic of the job that announces a new demand to matching listings.
pub const MATCH_DEMAND: &str = "market.match_demand";
/// The most pairs one job announces (the rest are found by `GET …/matches`).
const ANNOUNCE_AT_MOST: usize = 50;

/// A new demand.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDemand {
    /// Product type code.
    pub product_type: String,
    /// Title, 2–64 characters.
    pub title: String,
    /// How much, 1 to 1 000 000 000 units.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub quantity: i64,
    /// One of the product type's units.
    pub unit: String,
    /// Highest price per unit, fen.
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub max_price_fen: Option<i64>,
    /// The district of the delivery site.
    pub district_code: String,
    /// The delivery site.
    pub site: Site,
    /// Needed by (today or later, within two years).
    pub needed_by: NaiveDate,
}

/// A delivery site.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Latitude, GCJ-02, inside the service region.
    pub lat: f64,
    /// Longitude, GCJ-02, inside the service region.
    pub lng: f64,
    /// Address, 1–256 characters.
    pub address: String,
}

/// Posts a demand. Verified merchants only.
#[tracing::instrument(skip_all, fields(user_id = %who.user_id))]
pub async fn create(
    db: &impl TransactionTrait,
    who: &Principal,
    new: NewDemand,
) -> Result<DemandView> {
    let txn = db.begin().await?;
    let me = merchants::acting(&txn, who).await?;
    let ty = product_types::known(&txn, "product_type", &new.product_type).await?;
    let today = Utc::now().date_naive();
    let mut check = Check::new();
    let title = check.text("title", &new.title, 2, 64);
    check.range("quantity", new.quantity, 1, MAX_QUANTITY);
    product_types::check_unit(&mut check, "unit", &ty, &new.unit);
    if let Some(p) = new.max_price_fen {
        check.range("max_price_fen", p, 1, MAX_PRICE_FEN);
    }
    check_place(&mut check, "site", new.site.lat, new.site.lng);
    let address = check.text("site.address", &new.site.address, 1, 256);
    check.ensure(
        new.needed_by >= today,
        "needed_by",
        "invalid",
        "must not be in the past",
    );
    check.ensure(
        new.needed_by <= today + chrono::Days::new(730),
        "needed_by",
        "out_of_range",
        "must be within two years",
    );
    check.finish()?;
    known_district(&txn, "district_code", &new.district_code).await?;
    let now = Utc::now();
    let row = demand::ActiveModel {
        id: Set(Uuid::now_v7()),
        merchant_id: Set(me.id),
        product_type: Set(ty.code),
        title: Set(title),
        quantity: Set(new.quantity),
        unit: Set(new.unit),
        max_price_fen: Set(new.max_price_fen),
        district_code: Set(new.district_code),
        lat: Set(new.site.lat),
        lng: Set(new.site.lng),
        address: Set(address),
        needed_by: Set(new.needed_by),
        status: Set(Status::Open),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    outbox::stage(
        &txn,
        MATCH_DEMAND,
        serde_json::json!({ "demand_id": row.id }),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(DemandView::of(row, reference(&me)))
}

/// Filters of the public demand list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct DemandFilter {
    /// Only this product type.
    pub product_type: Option<String>,
    /// Only sites in this district.
    pub district_code: Option<String>,
}

async fn page_of(
    db: &impl ConnectionTrait,
    mut q: sea_orm::Select<Demands>,
    page: PageRequest,
) -> Result<Page<DemandView>> {
    q = q.order_by_desc(demand::Column::Id).limit(page.limit + 1);
    if let Some(before) = page.before {
        q = q.filter(demand::Column::Id.lt(before));
    }
    let rows = q.all(db).await?;
    let ids: Vec<Uuid> = rows.iter().map(|d| d.merchant_id).collect();
    let names = names(db, ids).await?;
    Ok(Page::of(
        rows,
        page.limit,
        |d| d.id,
        |d| {
            let m = names
                .iter()
                .find(|m| m.id == d.merchant_id)
                .cloned()
                .unwrap_or(MerchantRef {
                    id: d.merchant_id,
                    name: String::new(),
                });
            DemandView::of(d, m)
        },
    ))
}

/// The merchants `ids` as references.
pub(crate) async fn names(db: &impl ConnectionTrait, ids: Vec<Uuid>) -> Result<Vec<MerchantRef>> {
    Ok(merchant::Entity::find()
        .filter(merchant::Column::Id.is_in(ids))
        .all(db)
        .await?
        .iter()
        .map(reference)
        .collect())
}

/// Open demand, newest first (no sign-in needed).
pub async fn list_open(
    db: &impl ConnectionTrait,
    filter: &DemandFilter,
    page: PageRequest,
) -> Result<Page<DemandView>> {
    let mut q = Demands::find().filter(demand::Column::Status.eq(Status::Open));
    if let Some(t) = &filter.product_type {
        q = q.filter(demand::Column::ProductType.eq(t.as_str()));
    }
    if let Some(d) = &filter.district_code {
        q = q.filter(demand::Column::DistrictCode.eq(d.as_str()));
    }
    page_of(db, q, page).await
}

/// The caller's demands, newest first.
pub async fn mine(
    db: &impl ConnectionTrait,
    who: &Principal,
    page: PageRequest,
) -> Result<Page<DemandView>> {
    let me = merchants::acting(db, who).await?;
    page_of(
        db,
        Demands::find().filter(demand::Column::MerchantId.eq(me.id)),
        page,
    )
    .await
}

/// One demand: an open one for anyone; its merchant and administrators see it in any state.
pub async fn get(
    db: &impl ConnectionTrait,
    viewer: Option<&Principal>,
    id: Uuid,
) -> Result<DemandView> {
    let d = Demands::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "demand" })?;
    let owner = merchant::Entity::find_by_id(d.merchant_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "demand" })?;
    let private = viewer.is_some_and(|p| p.is_admin() || p.user_id == owner.user_id);
    if d.status != Status::Open && !private {
        return Err(Error::NotFound { what: "demand" });
    }
    Ok(DemandView::of(d, reference(&owner)))
}

/// How a demand ends by its merchant's hand.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseDemand {
    /// `true`: it was fulfilled; `false` (default): it is no longer needed.
    #[serde(default)]
    pub fulfilled: bool,
}

/// Closes the caller's open demand.
pub async fn close(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: Uuid,
    how: CloseDemand,
) -> Result<DemandView> {
    let me = merchants::acting(db, who).await?;
    let to = if how.fulfilled {
        Status::Fulfilled
    } else {
        Status::Closed
    };
    let moved = Demands::update_many()
        .col_expr(demand::Column::Status, Expr::value(to.as_str()))
        .col_expr(demand::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(demand::Column::Id.eq(id))
        .filter(demand::Column::MerchantId.eq(me.id))
        .filter(demand::Column::Status.eq(Status::Open))
        .exec(db)
        .await?;
    let d = Demands::find_by_id(id)
        .filter(demand::Column::MerchantId.eq(me.id))
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "demand" })?;
    if moved.rows_affected == 0 {
        return Err(Error::conflict(
            "illegal_transition",
            "the demand is not open",
        ));
    }
    Ok(DemandView::of(d, reference(&me)))
}

/// Expires open demands whose date passed before `today`. Idempotent.
pub async fn expire(db: &impl ConnectionTrait, today: NaiveDate) -> Result<u64> {
    Ok(Demands::update_many()
        .col_expr(
            demand::Column::Status,
            Expr::value(Status::Expired.as_str()),
        )
        .col_expr(demand::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(demand::Column::Status.eq(Status::Open))
        .filter(demand::Column::NeededBy.lt(today))
        .exec(db)
        .await?
        .rows_affected)
}

/// A listing that can serve a demand, with how well.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Match {
    /// The listing.
    pub listing: ListingSummary,
    /// Distance from the plant to the site, km.
    pub distance_km: f64,
    /// Its price is at or under the demand's highest price (or the demand named none).
    pub within_price: bool,
    /// Its stock covers the demanded quantity.
    pub enough_stock: bool,
}

/// Whether listing `l` can serve demand `d`: same product type and unit, published, with
/// stock, and its delivery radius reaches the site. Returns the distance in metres.
fn reaches(l: &listing::Model, d: &demand::Model) -> Option<f64> {
    if l.product_type != d.product_type
        || l.unit != d.unit
        || l.status != listing::Status::Published
        || l.stock <= 0
        || l.merchant_id == d.merchant_id
    {
        return None;
    }
    let m = distance_m(
        Position {
            lat: l.lat,
            lng: l.lng,
        },
        Position {
            lat: d.lat,
            lng: d.lng,
        },
    );
    (m <= f64::from(l.delivery_radius_km) * 1000.0).then_some(m)
}

/// Orders candidates: within the price first, then enough stock, then certified, then
/// cheaper, then nearer.
fn rank(a: &Match, b: &Match) -> Ordering {
    b.within_price
        .cmp(&a.within_price)
        .then(b.enough_stock.cmp(&a.enough_stock))
        .then(b.listing.certified.cmp(&a.listing.certified))
        .then(a.listing.price_fen.cmp(&b.listing.price_fen))
        .then(a.distance_km.total_cmp(&b.distance_km))
        .then(a.listing.id.cmp(&b.listing.id))
}

/// The published listings that can serve demand `d`, best first (at most `limit`).
async fn candidates(
    db: &impl ConnectionTrait,
    d: &demand::Model,
    limit: usize,
) -> Result<Vec<Match>> {
    let rows = listing::Entity::find()
        .filter(listing::Column::ProductType.eq(d.product_type.as_str()))
        .filter(listing::Column::Unit.eq(d.unit.as_str()))
        .filter(listing::Column::Status.eq(listing::Status::Published))
        .filter(listing::Column::Stock.gt(0))
        .all(db)
        .await?;
    let ids = rows.iter().map(|l| l.merchant_id).collect();
    let names = names(db, ids).await?;
    let mut out: Vec<Match> = rows
        .into_iter()
        .filter_map(|l| {
            let m = reaches(&l, d)?;
            let merchant = names.iter().find(|n| n.id == l.merchant_id)?.clone();
            let within_price = d.max_price_fen.is_none_or(|p| l.price_fen <= p);
            let enough_stock = l.stock >= d.quantity;
            let km = (m / 100.0).round() / 10.0;
            Some(Match {
                listing: ListingSummary::of(l, merchant, Some(km)),
                distance_km: km,
                within_price,
                enough_stock,
            })
        })
        .collect();
    out.sort_by(rank);
    out.truncate(limit);
    Ok(out)
}

/// The listings that can serve demand `id`, best first (public, like the demand).
pub async fn matches(
    db: &impl ConnectionTrait,
    viewer: Option<&Principal>,
    id: Uuid,
) -> Result<Vec<Match>> {
    get(db, viewer, id).await?;
    let d = Demands::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "demand" })?;
    candidates(db, &d, 50).await
}

/// Stages the announcement of listing `id` to matching demands (it was just published).
pub(crate) async fn stage_matching_for_listing(txn: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    outbox::stage(
        txn,
        MATCH_LISTING,
        serde_json::json!({ "listing_id": id }),
        None,
    )
    .await?;
    Ok(())
}

/// A published listing as a match announcement names it.
struct Offer<'a> {
    id: Uuid,
    title: &'a str,
    merchant_id: Uuid,
}

/// Records the pair (demand `d`, listing `offer`) and, if it is new, tells both sides in
/// the same transaction: the buyer of the product that can serve the demand, the seller of
/// the demand its product can serve. Whichever job finds the pair first tells both, so the
/// order in which the listing and the demand jobs run does not matter.
async fn announce(db: &DatabaseConnection, d: &demand::Model, offer: Offer<'_>) -> Result<bool> {
    let txn = db.begin().await?;
    let inserted = market_match::Entity::insert(market_match::ActiveModel {
        demand_id: Set(d.id),
        listing_id: Set(offer.id),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            market_match::Column::DemandId,
            market_match::Column::ListingId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?
        > 0;
    if inserted {
        let data = serde_json::json!({ "demand_id": d.id, "listing_id": offer.id });
        let told = [
            (
                d.merchant_id,
                "有新的匹配产品",
                format!("新产品「{}」可供应您的求购「{}」。", offer.title, d.title),
            ),
            (
                offer.merchant_id,
                "有新的求购",
                format!("新的求购「{}」与您的产品「{}」匹配。", d.title, offer.title),
            ),
        ];
        for (merchant_id, title, body) in told {
            let Some(user_id) = user_of(&txn, merchant_id).await? else {
                continue;
            };
            notifications::notify(
                &txn,
                NewNotification {
                    user_id,
                    kind: "market".into(),
                    title: title.into(),
                    body,
                    data: data.clone(),
                },
            )
            .await?;
        }
    }
    txn.commit().await?;
    Ok(inserted)
}

async fn user_of(db: &impl ConnectionTrait, merchant_id: Uuid) -> Result<Option<Uuid>> {
    Ok(merchant::Entity::find_by_id(merchant_id)
        .one(db)
        .await?
        .map(|m| m.user_id))
}

/// Announces the new pairs of listing `id` (just published) with the open demands it can
/// serve.
pub async fn announce_listing(db: &DatabaseConnection, id: Uuid) -> Result<usize> {
    let Some(l) = listing::Entity::find_by_id(id).one(db).await? else {
        return Ok(0);
    };
    let open = Demands::find()
        .filter(demand::Column::Status.eq(Status::Open))
        .filter(demand::Column::ProductType.eq(l.product_type.as_str()))
        .filter(demand::Column::Unit.eq(l.unit.as_str()))
        .order_by_desc(demand::Column::Id)
        .all(db)
        .await?;
    let mut told = 0;
    for d in open
        .iter()
        .filter(|d| reaches(&l, d).is_some())
        .take(ANNOUNCE_AT_MOST)
    {
        let offer = Offer {
            id: l.id,
            title: &l.title,
            merchant_id: l.merchant_id,
        };
        told += usize::from(announce(db, d, offer).await?);
    }
    Ok(told)
}

/// Announces the new pairs of demand `id` (just posted) with the listings that can serve it.
pub async fn announce_demand(db: &DatabaseConnection, id: Uuid) -> Result<usize> {
    let Some(d) = Demands::find_by_id(id).one(db).await? else {
        return Ok(0);
    };
    if d.status != Status::Open {
        return Ok(0);
    }
    let mut told = 0;
    for m in candidates(db, &d, ANNOUNCE_AT_MOST).await? {
        let offer = Offer {
            id: m.listing.id,
            title: &m.listing.title,
            merchant_id: m.listing.merchant.id,
        };
        told += usize::from(announce(db, &d, offer).await?);
    }
    Ok(told)
}

#[derive(Deserialize)]
struct ListingJob {
    listing_id: Uuid,
}

#[derive(Deserialize)]
struct DemandJob {
    demand_id: Uuid,
}

/// Handles [`MATCH_LISTING`] and [`MATCH_DEMAND`]. Idempotent: a pair is announced once.
pub struct MatchHandler {
    /// The database.
    pub db: DatabaseConnection,
}

#[async_trait]
impl JobHandler for MatchHandler {
    async fn handle(&self, job: &Delivery) -> anyhow::Result<()> {
        let told = if job.topic == MATCH_LISTING {
            let j: ListingJob = serde_json::from_value(job.payload.clone())?;
            announce_listing(&self.db, j.listing_id).await?
        } else {
            let j: DemandJob = serde_json::from_value(job.payload.clone())?;
            announce_demand(&self.db, j.demand_id).await?
        };
        tracing::debug!(told, "matches announced");
        Ok(())
    }
}
