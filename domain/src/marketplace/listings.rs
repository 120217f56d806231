//! Listings (supply). A merchant writes a draft, submits it for review; an administrator of
//! the plant's district publishes or rejects it (with a reason); the merchant withdraws it;
//! an administrator takes a published one down with a reason the merchant sees. Price,
//! stock and minimum order of a published listing change at once; any other edit sends it
//! back to review. Every change bumps `version` and stages the index job in the same
//! transaction ([`super::search`]).

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    ListingSummary, ListingView, MerchantRef, Place, merchants,
    product_types::{self, ProductType},
    reasons, search,
};
use crate::{
    audit,
    auth::{Principal, Role},
    catalog::areas::{check_place, known_district},
    entities::{
        market_certificate,
        market_listing::{self as listing, Entity as Listings, Status},
        merchant,
    },
    error::{Error, Result},
    notifications::{self, NewNotification},
    paging::{Page, PageRequest},
    uploads::{self, Purpose},
    validate::Check,
};

/// Highest price per unit, fen (one million yuan).
pub const MAX_PRICE_FEN: i64 = 100_000_000;
/// Highest stock or quantity, units.
pub const MAX_QUANTITY: i64 = 1_000_000_000;
/// Widest delivery radius, km.
pub const MAX_RADIUS_KM: i64 = 500;
/// Most photos on a listing.
pub const MAX_PHOTOS: usize = 9;

/// A new listing (a draft until submitted).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewListing {
    /// Product type code.
    pub product_type: String,
    /// Title, 2–64 characters.
    pub title: String,
    /// Description, up to 2000 characters.
    #[serde(default)]
    pub description: String,
    /// Specification, up to 128 characters (`C30`, `5-31.5mm`).
    #[serde(default)]
    pub spec: String,
    /// The standard it meets, up to 64 characters (default: the product type's first).
    pub standard: Option<String>,
    /// One of the product type's units.
    pub unit: String,
    /// Price per unit, fen, 1 to 100 000 000.
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub price_fen: i64,
    /// Units in stock, 0 to 1 000 000 000.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub stock: i64,
    /// Smallest order, units (default 1).
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub min_order: Option<i64>,
    /// The plant.
    pub plant: Place,
    /// How far it delivers, 0–500 km.
    #[schema(minimum = 0, maximum = 500)]
    pub delivery_radius_km: i64,
    /// Up to 9 of the caller's uploads with purpose `listing_photo`.
    #[serde(default)]
    pub photo_ids: Vec<Uuid>,
}

/// Changes to a listing; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListingPatch {
    /// New title (back to review if published).
    pub title: Option<String>,
    /// New description (back to review if published).
    pub description: Option<String>,
    /// New specification (back to review if published).
    pub spec: Option<String>,
    /// New standard (back to review if published).
    pub standard: Option<String>,
    /// New unit (back to review if published).
    pub unit: Option<String>,
    /// New photos (back to review if published).
    pub photo_ids: Option<Vec<Uuid>>,
    /// New plant (back to review if published).
    pub plant: Option<Place>,
    /// New delivery radius (back to review if published).
    #[schema(minimum = 0, maximum = 500)]
    pub delivery_radius_km: Option<i64>,
    /// New price per unit, fen (at once).
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub price_fen: Option<i64>,
    /// New stock (at once).
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub stock: Option<i64>,
    /// New smallest order (at once).
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub min_order: Option<i64>,
}

impl ListingPatch {
    /// Whether it changes what an administrator reviewed.
    fn needs_review(&self) -> bool {
        self.title.is_some()
            || self.description.is_some()
            || self.spec.is_some()
            || self.standard.is_some()
            || self.unit.is_some()
            || self.photo_ids.is_some()
            || self.plant.is_some()
            || self.delivery_radius_km.is_some()
    }
}

async fn check_photos(db: &impl ConnectionTrait, owner: Uuid, photos: &[Uuid]) -> Result<()> {
    for (i, id) in photos.iter().enumerate() {
        if !uploads::is_own(db, *id, owner, Purpose::ListingPhoto).await? {
            return Err(Error::field(
                &format!("photo_ids[{i}]"),
                "invalid",
                "must be your own upload with purpose listing_photo",
            ));
        }
    }
    Ok(())
}

fn check_photo_count(check: &mut Check, photos: &[Uuid]) {
    check.ensure(
        photos.len() <= MAX_PHOTOS,
        "photo_ids",
        "too_long",
        format!("at most {MAX_PHOTOS} photos"),
    );
    let mut seen = photos.to_vec();
    seen.sort();
    seen.dedup();
    check.ensure(
        seen.len() == photos.len(),
        "photo_ids",
        "invalid",
        "a photo is listed twice",
    );
}

/// Creates a draft. Verified merchants only.
#[tracing::instrument(skip_all, fields(user_id = %who.user_id))]
pub async fn create(
    db: &impl TransactionTrait,
    who: &Principal,
    new: NewListing,
) -> Result<ListingView> {
    let txn = db.begin().await?;
    let me = merchants::acting(&txn, who).await?;
    let ty = product_types::known(&txn, "product_type", &new.product_type).await?;
    let mut check = Check::new();
    let title = check.text("title", &new.title, 2, 64);
    let description = check.text("description", &new.description, 0, 2000);
    let spec = check.text("spec", &new.spec, 0, 128);
    let standard = match &new.standard {
        Some(s) => check.text("standard", s, 0, 64),
        None => ty.standards.first().cloned().unwrap_or_default(),
    };
    product_types::check_unit(&mut check, "unit", &ty, &new.unit);
    check.range("price_fen", new.price_fen, 1, MAX_PRICE_FEN);
    check.range("stock", new.stock, 0, MAX_QUANTITY);
    let min_order = new.min_order.unwrap_or(1);
    check.range("min_order", min_order, 1, MAX_QUANTITY);
    check.range(
        "delivery_radius_km",
        new.delivery_radius_km,
        0,
        MAX_RADIUS_KM,
    );
    check_place(&mut check, "plant", new.plant.lat, new.plant.lng);
    let address = check.text("plant.address", &new.plant.address, 1, 256);
    check_photo_count(&mut check, &new.photo_ids);
    check.finish()?;
    known_district(&txn, "plant.district_code", &new.plant.district_code).await?;
    check_photos(&txn, who.user_id, &new.photo_ids).await?;
    let now = Utc::now();
    let row = listing::ActiveModel {
        id: Set(Uuid::now_v7()),
        merchant_id: Set(me.id),
        product_type: Set(ty.code),
        title: Set(title),
        description: Set(description),
        spec: Set(spec),
        standard: Set(standard),
        unit: Set(new.unit),
        price_fen: Set(new.price_fen),
        stock: Set(new.stock),
        min_order: Set(min_order),
        lat: Set(new.plant.lat),
        lng: Set(new.plant.lng),
        address: Set(address),
        district_code: Set(new.plant.district_code),
        delivery_radius_km: Set(i32::try_from(new.delivery_radius_km).unwrap_or_default()),
        photo_ids: Set(serde_json::to_string(&new.photo_ids).unwrap_or_else(|_| "[]".into())),
        status: Set(Status::Draft),
        reason: Set(None),
        taken_down: Set(false),
        certified: Set(false),
        procurement_ready: Set(false),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        published_at: Set(None),
    }
    .insert(&txn)
    .await?;
    search::stage(&txn, row.id).await?;
    txn.commit().await?;
    Ok(ListingView::of(row, reference(&me), Vec::new(), true))
}

/// A merchant as listings name it.
pub(crate) fn reference(m: &merchant::Model) -> MerchantRef {
    MerchantRef {
        id: m.id,
        name: m.company_name.clone(),
    }
}

/// The listing `id` of the caller's own merchant (404 for anyone else's).
pub(crate) async fn own(
    db: &impl ConnectionTrait,
    me: &merchant::Model,
    id: Uuid,
) -> Result<listing::Model> {
    Listings::find_by_id(id)
        .filter(listing::Column::MerchantId.eq(me.id))
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "listing" })
}

/// The full view of `l` for a viewer allowed to see it.
pub(crate) async fn view(
    db: &impl ConnectionTrait,
    l: listing::Model,
    private: bool,
) -> Result<ListingView> {
    let m = merchant::Entity::find_by_id(l.merchant_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "listing" })?;
    let certs = market_certificate::Entity::find()
        .filter(market_certificate::Column::ListingId.eq(l.id))
        .order_by_asc(market_certificate::Column::Id)
        .all(db)
        .await?;
    Ok(ListingView::of(l, reference(&m), certs, private))
}

/// Edits the caller's listing. Price, stock and minimum order take effect at once; other
/// changes to a published (or pending) listing send it (back) to review, which the answer
/// says in `review_required`.
#[tracing::instrument(skip(db, who, patch), fields(user_id = %who.user_id))]
pub async fn update(
    db: &impl TransactionTrait,
    who: &Principal,
    id: Uuid,
    patch: ListingPatch,
) -> Result<ListingView> {
    let txn = db.begin().await?;
    let me = merchants::acting(&txn, who).await?;
    let current = own(&txn, &me, id).await?;
    let ty = product_types::known(&txn, "product_type", &current.product_type).await?;
    let mut check = Check::new();
    let mut row: listing::ActiveModel = current.clone().into();
    apply_patch(&mut check, &ty, &patch, &mut row);
    check.finish()?;
    if let Some(place) = &patch.plant {
        known_district(&txn, "plant.district_code", &place.district_code).await?;
    }
    if let Some(photos) = &patch.photo_ids {
        check_photos(&txn, who.user_id, photos).await?;
    }
    let review =
        patch.needs_review() && matches!(current.status, Status::Published | Status::PendingReview);
    if review {
        row.status = Set(Status::PendingReview);
    }
    row.version = Set(current.version + 1);
    row.updated_at = Set(Utc::now());
    // The row is written only if nobody moved it since it was read (an accept taking stock,
    // a review): the version is the condition.
    let saved = Listings::update_many()
        .set(row)
        .filter(listing::Column::Id.eq(id))
        .filter(listing::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if saved.rows_affected == 0 {
        return Err(Error::conflict(
            "edit_conflict",
            "the listing changed meanwhile; read it again",
        ));
    }
    search::stage(&txn, id).await?;
    let fresh = own(&txn, &me, id).await?;
    let mut answer = view(&txn, fresh, true).await?;
    txn.commit().await?;
    answer.review_required = Some(review);
    Ok(answer)
}

fn apply_patch(
    check: &mut Check,
    ty: &ProductType,
    p: &ListingPatch,
    row: &mut listing::ActiveModel,
) {
    if let Some(t) = &p.title {
        row.title = Set(check.text("title", t, 2, 64));
    }
    if let Some(d) = &p.description {
        row.description = Set(check.text("description", d, 0, 2000));
    }
    if let Some(s) = &p.spec {
        row.spec = Set(check.text("spec", s, 0, 128));
    }
    if let Some(s) = &p.standard {
        row.standard = Set(check.text("standard", s, 0, 64));
    }
    if let Some(u) = &p.unit {
        product_types::check_unit(check, "unit", ty, u);
        row.unit = Set(u.clone());
    }
    if let Some(photos) = &p.photo_ids {
        check_photo_count(check, photos);
        row.photo_ids = Set(serde_json::to_string(photos).unwrap_or_else(|_| "[]".into()));
    }
    if let Some(place) = &p.plant {
        check_place(check, "plant", place.lat, place.lng);
        row.address = Set(check.text("plant.address", &place.address, 1, 256));
        row.lat = Set(place.lat);
        row.lng = Set(place.lng);
        row.district_code = Set(place.district_code.clone());
    }
    if let Some(r) = p.delivery_radius_km {
        row.delivery_radius_km = Set(check.range("delivery_radius_km", r, 0, MAX_RADIUS_KM));
    }
    if let Some(price) = p.price_fen {
        check.range("price_fen", price, 1, MAX_PRICE_FEN);
        row.price_fen = Set(price);
    }
    if let Some(stock) = p.stock {
        check.range("stock", stock, 0, MAX_QUANTITY);
        row.stock = Set(stock);
    }
    if let Some(min) = p.min_order {
        check.range("min_order", min, 1, MAX_QUANTITY);
        row.min_order = Set(min);
    }
}

/// Moves listing `id` from one of `from` to `to` with one conditional update (bumping its
/// version, staging the index job); 409 `illegal_transition` if it is in no state of
/// `from`. `extra` sets more columns in the same statement.
async fn transition(
    txn: &impl ConnectionTrait,
    id: Uuid,
    from: &[Status],
    to: Status,
    extra: impl FnOnce(sea_orm::UpdateMany<Listings>) -> sea_orm::UpdateMany<Listings>,
) -> Result<()> {
    let q = Listings::update_many()
        .col_expr(listing::Column::Status, Expr::value(to.as_str()))
        .col_expr(
            listing::Column::Version,
            Expr::col(listing::Column::Version).add(1),
        )
        .col_expr(listing::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(listing::Column::Id.eq(id))
        .filter(listing::Column::Status.is_in(from.iter().map(|s| s.as_str())));
    if extra(q).exec(txn).await?.rows_affected == 0 {
        return Err(Error::conflict(
            "illegal_transition",
            format!("the listing cannot become {} from its state", to.as_str()),
        ));
    }
    search::stage(txn, id).await
}

/// Submits a draft (or a rejected or withdrawn listing, after edits) for review.
pub async fn submit(db: &impl TransactionTrait, who: &Principal, id: Uuid) -> Result<ListingView> {
    let txn = db.begin().await?;
    let me = merchants::acting(&txn, who).await?;
    let current = own(&txn, &me, id).await?;
    if current.taken_down {
        return Err(Error::conflict(
            "taken_down",
            "an administrator took this listing down; create a new one",
        ));
    }
    transition(
        &txn,
        id,
        &[Status::Draft, Status::Rejected, Status::Withdrawn],
        Status::PendingReview,
        |q| q.col_expr(listing::Column::Reason, Expr::value(Option::<String>::None)),
    )
    .await?;
    let answer = view(&txn, own(&txn, &me, id).await?, true).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Withdraws the caller's listing from sale (or from review).
pub async fn withdraw(
    db: &impl TransactionTrait,
    who: &Principal,
    id: Uuid,
) -> Result<ListingView> {
    let txn = db.begin().await?;
    let me = merchants::acting(&txn, who).await?;
    own(&txn, &me, id).await?;
    transition(
        &txn,
        id,
        &[Status::Draft, Status::PendingReview, Status::Published],
        Status::Withdrawn,
        |q| q,
    )
    .await?;
    let answer = view(&txn, own(&txn, &me, id).await?, true).await?;
    txn.commit().await?;
    Ok(answer)
}

/// One listing: anyone sees a published one; its merchant and administrators see it in any
/// state (404 for everyone else).
pub async fn get(
    db: &impl ConnectionTrait,
    viewer: Option<&Principal>,
    id: Uuid,
) -> Result<ListingView> {
    let l = Listings::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "listing" })?;
    let private = match viewer {
        Some(p) if p.is_admin() => true,
        Some(p) if p.role == Role::Merchant => merchants::of_user(db, p.user_id)
            .await?
            .is_some_and(|m| m.id == l.merchant_id),
        _ => false,
    };
    if !private && l.status != Status::Published {
        return Err(Error::NotFound { what: "listing" });
    }
    view(db, l, private).await
}

/// The caller's listings, newest first.
pub async fn mine(
    db: &impl ConnectionTrait,
    who: &Principal,
    page: PageRequest,
) -> Result<Page<ListingView>> {
    let me = merchants::acting(db, who).await?;
    let mut q = Listings::find()
        .filter(listing::Column::MerchantId.eq(me.id))
        .order_by_desc(listing::Column::Id)
        .limit(page.limit + 1);
    if let Some(before) = page.before {
        q = q.filter(listing::Column::Id.lt(before));
    }
    let rows = q.all(db).await?;
    let page = Page::of(rows, page.limit, |l| l.id, |l| l);
    let mut items = Vec::with_capacity(page.items.len());
    for l in page.items {
        items.push(view(db, l, true).await?);
    }
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

/// The newest `limit` published listings of merchant `id`.
pub async fn published_of(
    db: &impl ConnectionTrait,
    id: Uuid,
    limit: u64,
) -> Result<Vec<ListingSummary>> {
    let Some(m) = merchant::Entity::find_by_id(id).one(db).await? else {
        return Ok(Vec::new());
    };
    Ok(Listings::find()
        .filter(listing::Column::MerchantId.eq(id))
        .filter(listing::Column::Status.eq(Status::Published))
        .order_by_desc(listing::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|l| ListingSummary::of(l, reference(&m), None))
        .collect())
}

/// Filters of the administrators' list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ReviewFilter {
    /// `pending_review` (default), `published`, `rejected`, `withdrawn` or `draft`.
    #[param(value_type = Option<Status>)]
    pub status: Option<String>,
}

fn parse_status(s: &str) -> Option<Status> {
    [
        Status::Draft,
        Status::PendingReview,
        Status::Published,
        Status::Withdrawn,
        Status::Rejected,
    ]
    .into_iter()
    .find(|x| x.as_str() == s)
}

/// Listings in the administrator's district (super administrators: all), newest first.
pub async fn list_for_review(
    db: &impl ConnectionTrait,
    who: &Principal,
    filter: &ReviewFilter,
    page: PageRequest,
) -> Result<Page<ListingView>> {
    who.require_role(&[Role::Admin])?;
    let status =
        parse_status(filter.status.as_deref().unwrap_or("pending_review")).ok_or_else(|| {
            Error::field(
                "status",
                "invalid",
                "must be draft, pending_review, published, withdrawn or rejected",
            )
        })?;
    let mut cond = Condition::all().add(listing::Column::Status.eq(status));
    if !who.is_super_admin() {
        cond = cond.add(listing::Column::DistrictCode.eq(who.district_code.clone()));
    }
    if let Some(before) = page.before {
        cond = cond.add(listing::Column::Id.lt(before));
    }
    let rows = Listings::find()
        .filter(cond)
        .order_by_desc(listing::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?;
    let page = Page::of(rows, page.limit, |l| l.id, |l| l);
    let mut items = Vec::with_capacity(page.items.len());
    for l in page.items {
        items.push(view(db, l, true).await?);
    }
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

/// A listing the administrator may act on (404 outside their district).
async fn administered(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: Uuid,
) -> Result<listing::Model> {
    who.require_role(&[Role::Admin])?;
    Listings::find_by_id(id)
        .one(db)
        .await?
        .filter(|l| who.may_administer_district(&l.district_code))
        .ok_or(Error::NotFound { what: "listing" })
}

/// What an administrator decides about a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Publish a listing pending review.
    Approve,
    /// Refuse a listing pending review.
    Reject,
    /// Take a published listing down.
    TakeDown,
}

impl Decision {
    fn action(self) -> &'static str {
        match self {
            Decision::Approve => "market_listing.approve",
            Decision::Reject => "market_listing.reject",
            Decision::TakeDown => "market_listing.take_down",
        }
    }
}

/// Approves, rejects or takes a listing down (a reason for the last two, which the merchant
/// sees and is told). Audited.
#[tracing::instrument(skip(db, who, reason), fields(actor = %who.user_id))]
pub async fn decide(
    db: &impl TransactionTrait,
    who: &Principal,
    id: Uuid,
    decision: Decision,
    reason: Option<&str>,
) -> Result<ListingView> {
    let reason = match decision {
        Decision::Approve => None,
        _ => Some(reasons::check(reason.unwrap_or_default())?),
    };
    let txn = db.begin().await?;
    let l = administered(&txn, who, id).await?;
    let now = Utc::now();
    match decision {
        Decision::Approve => {
            transition(&txn, id, &[Status::PendingReview], Status::Published, |q| {
                q.col_expr(listing::Column::PublishedAt, Expr::value(now))
            })
            .await?
        }
        Decision::Reject => {
            let r = reason.clone();
            transition(&txn, id, &[Status::PendingReview], Status::Rejected, |q| {
                q.col_expr(listing::Column::Reason, Expr::value(r))
            })
            .await?
        }
        Decision::TakeDown => {
            let r = reason.clone();
            transition(&txn, id, &[Status::Published], Status::Withdrawn, |q| {
                q.col_expr(listing::Column::Reason, Expr::value(r))
                    .col_expr(listing::Column::TakenDown, Expr::value(true))
            })
            .await?
        }
    }
    audit::record(
        &txn,
        Some(who.user_id),
        decision.action(),
        "market_listing",
        &id.to_string(),
        serde_json::json!({ "reason": reason }),
    )
    .await?;
    if let Some(owner) = merchant::Entity::find_by_id(l.merchant_id)
        .one(&txn)
        .await?
    {
        let (title, body) = match decision {
            Decision::Approve => ("产品已发布", format!("「{}」已通过审核并发布。", l.title)),
            Decision::Reject => ("产品未通过审核", reason.clone().unwrap_or_default()),
            Decision::TakeDown => ("产品已被下架", reason.clone().unwrap_or_default()),
        };
        notifications::notify(
            &txn,
            NewNotification {
                user_id: owner.user_id,
                kind: "market".into(),
                title: title.into(),
                body,
                data: serde_json::json!({ "listing_id": id }),
            },
        )
        .await?;
    }
    if decision == Decision::Approve {
        super::demands::stage_matching_for_listing(&txn, id).await?;
    }
    let answer = view(&txn, administered(&txn, who, id).await?, true).await?;
    txn.commit().await?;
    Ok(answer)
}
