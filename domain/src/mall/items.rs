//! Mall items: administered by super administrators (any item, city-wide ones included) and
//! district administrators (items of their district), every create and edit audited in the
//! same transaction; never deleted (`active: false` withdraws one). Anyone browses what is
//! on sale: active items inside their sale window.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Set, TransactionSession, TransactionTrait,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{ItemView, Kind};
use crate::{
    audit,
    auth::{Principal, Role},
    entities::{district, mall_item, upload},
    error::{Error, Result},
    ledger::is_postgres,
    paging::{Page, PageRequest},
    validate::Check,
};

/// Highest points price of one unit.
pub const MAX_POINTS: i64 = 1_000_000;
/// Highest stock an item may be given.
pub const MAX_STOCK: i64 = 1_000_000;
/// Highest per-person limit (beyond it, leave the limit out).
pub const MAX_LIMIT: i64 = 1_000;
const MAX_NAME: usize = 128;
const MAX_DESCRIPTION: usize = 2_000;
const MAX_STATION: usize = 128;

/// Items on sale at `now`: active, inside their window.
pub(crate) fn on_sale(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(mall_item::Column::Active.eq(true))
        .add(
            Condition::any()
                .add(mall_item::Column::SaleStartsAt.is_null())
                .add(mall_item::Column::SaleStartsAt.lte(now)),
        )
        .add(
            Condition::any()
                .add(mall_item::Column::SaleEndsAt.is_null())
                .add(mall_item::Column::SaleEndsAt.gt(now)),
        )
}

/// Whether `item` is on sale at `now` (the same rule as [`on_sale`]).
pub(crate) fn is_on_sale(item: &mall_item::Model, now: DateTime<Utc>) -> bool {
    item.active
        && item.sale_starts_at.is_none_or(|s| s <= now)
        && item.sale_ends_at.is_none_or(|e| e > now)
}

/// Filters of the public list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ItemFilter {
    /// Items handed out in this district (city-wide items included).
    pub district_code: Option<String>,
    /// `goods` or `coupon`.
    pub kind: Option<String>,
}

async fn page_of(
    db: &impl ConnectionTrait,
    q: Select<mall_item::Entity>,
    page: PageRequest,
) -> Result<Page<ItemView>> {
    let mut q = q.order_by_desc(mall_item::Column::Id).limit(page.limit + 1);
    if let Some(before) = page.before {
        q = q.filter(mall_item::Column::Id.lt(before));
    }
    let mut rows = q.all(db).await?;
    let next_cursor = if rows.len() as u64 > page.limit {
        rows.truncate(page.limit as usize);
        rows.last().map(|r| r.id.to_string())
    } else {
        None
    };
    Ok(Page {
        items: rows.into_iter().map(ItemView::from).collect(),
        next_cursor,
    })
}

/// What is on sale now, newest first (no sign-in needed).
pub async fn list_on_sale(
    db: &impl ConnectionTrait,
    filter: &ItemFilter,
    page: PageRequest,
) -> Result<Page<ItemView>> {
    let mut q = mall_item::Entity::find().filter(on_sale(Utc::now()));
    if let Some(d) = filter.district_code.as_deref() {
        q = q.filter(
            Condition::any()
                .add(mall_item::Column::DistrictCode.eq(d))
                .add(mall_item::Column::DistrictCode.is_null()),
        );
    }
    if let Some(k) = filter.kind.as_deref() {
        let kind = parse_kind(k).ok_or_else(|| Error::field("kind", "invalid", KIND_MESSAGE))?;
        q = q.filter(mall_item::Column::Kind.eq(kind));
    }
    page_of(db, q, page).await
}

/// One item on sale now; anything else (withdrawn, not yet or no longer on sale) is 404.
pub async fn get_on_sale(db: &impl ConnectionTrait, id: Uuid) -> Result<ItemView> {
    mall_item::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|i| is_on_sale(i, Utc::now()))
        .map(ItemView::from)
        .ok_or(Error::NotFound { what: "item" })
}

/// Every item the administrator runs (super: all; district: their district's), withdrawn
/// ones included, newest first.
pub async fn list_admin(
    db: &impl ConnectionTrait,
    who: &Principal,
    page: PageRequest,
) -> Result<Page<ItemView>> {
    who.require_role(&[Role::Admin])?;
    let mut q = mall_item::Entity::find();
    if !who.is_super_admin() {
        q = q.filter(mall_item::Column::DistrictCode.eq(who.district_code.clone()));
    }
    page_of(db, q, page).await
}

/// A new item.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    /// Name, 1–128 characters.
    pub name: String,
    /// `goods` or `coupon`.
    #[schema(value_type = Kind)]
    pub kind: String,
    /// Description, up to 2000 characters.
    #[serde(default)]
    pub description: String,
    /// Points per unit, 1 to 1 000 000.
    pub points: i64,
    /// Units available, 0 to 1 000 000.
    pub stock: i64,
    /// How many one person may hold, 1 to 1000; absent: no limit.
    pub per_person_limit: Option<i64>,
    /// On sale from (absent: now).
    pub sale_starts_at: Option<DateTime<Utc>>,
    /// On sale until, exclusive (absent: open-ended).
    pub sale_ends_at: Option<DateTime<Utc>>,
    /// The district whose stations hand it out. District administrators: their own (the
    /// default); super administrators may leave it out for a city-wide item.
    pub district_code: Option<String>,
    /// Where to collect it, up to 128 characters.
    #[serde(default)]
    pub station: String,
    /// A public image: an upload with purpose `listing_photo`.
    pub image_upload_id: Option<Uuid>,
    /// Whether it can be redeemed (default true).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

fn parse_kind(s: &str) -> Option<Kind> {
    match s {
        "goods" => Some(Kind::Goods),
        "coupon" => Some(Kind::Coupon),
        _ => None,
    }
}

const KIND_MESSAGE: &str = "must be goods or coupon";

fn check_window(check: &mut Check, starts: Option<DateTime<Utc>>, ends: Option<DateTime<Utc>>) {
    if let (Some(s), Some(e)) = (starts, ends) {
        check.ensure(
            e > s,
            "sale_ends_at",
            "invalid",
            "must be after sale_starts_at",
        );
    }
}

async fn check_image(db: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    let ok = upload::Entity::find_by_id(id)
        .one(db)
        .await?
        .is_some_and(|u| !u.purpose.is_private());
    if ok {
        Ok(())
    } else {
        Err(Error::field(
            "image_upload_id",
            "invalid",
            "must be an upload with purpose listing_photo (public)",
        ))
    }
}

/// Creates an item. Audited.
#[tracing::instrument(skip(db, who, new), fields(actor = %who.user_id))]
pub async fn create(db: &impl TransactionTrait, who: &Principal, new: NewItem) -> Result<ItemView> {
    who.require_role(&[Role::Admin])?;
    let district_code = match (&new.district_code, who.is_super_admin()) {
        (Some(d), _) => Some(d.clone()),
        (None, true) => None,
        (None, false) => who.district_code.clone(),
    };
    match &district_code {
        Some(d) => who.require_district(d)?,
        None => who.require_super_admin()?,
    }
    let mut check = Check::new();
    let name = check.text("name", &new.name, 1, MAX_NAME);
    let kind = parse_kind(&new.kind);
    check.ensure(kind.is_some(), "kind", "invalid", KIND_MESSAGE);
    let description = check.text("description", &new.description, 0, MAX_DESCRIPTION);
    let station = check.text("station", &new.station, 0, MAX_STATION);
    check.range("points", new.points, 1, MAX_POINTS);
    let stock = check.range("stock", new.stock, 0, MAX_STOCK);
    let limit = new
        .per_person_limit
        .map(|l| check.range("per_person_limit", l, 1, MAX_LIMIT));
    check_window(&mut check, new.sale_starts_at, new.sale_ends_at);
    check.finish()?;
    let kind = kind.ok_or_else(|| Error::Internal(anyhow::anyhow!("kind checked above")))?;

    let txn = db.begin().await?;
    if let Some(d) = &district_code {
        known_district(&txn, d).await?;
    }
    if let Some(img) = new.image_upload_id {
        check_image(&txn, img).await?;
    }
    let now = Utc::now();
    let item = mall_item::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        kind: Set(kind),
        description: Set(description),
        points: Set(new.points),
        stock: Set(stock),
        per_person_limit: Set(limit),
        sale_starts_at: Set(new.sale_starts_at),
        sale_ends_at: Set(new.sale_ends_at),
        district_code: Set(district_code),
        station: Set(station),
        image_upload_id: Set(new.image_upload_id),
        active: Set(new.active),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Some(who.user_id),
        "mall_item.create",
        "mall_item",
        &item.id.to_string(),
        serde_json::json!({
            "name": item.name,
            "kind": item.kind,
            "points": item.points,
            "stock": item.stock,
            "per_person_limit": item.per_person_limit,
            "sale_starts_at": item.sale_starts_at,
            "sale_ends_at": item.sale_ends_at,
            "district_code": item.district_code,
            "station": item.station,
            "image_upload_id": item.image_upload_id,
            "active": item.active,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(item.into())
}

async fn known_district(db: &impl ConnectionTrait, code: &str) -> Result<()> {
    if district::Entity::find_by_id(code.to_string())
        .one(db)
        .await?
        .is_none()
    {
        return Err(Error::field("district_code", "unknown", "no such district"));
    }
    Ok(())
}

/// Changes to an item; absent fields stay, `null` clears the nullable ones. The district
/// never changes (withdraw the item and create another).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemPatch {
    /// New name.
    pub name: Option<String>,
    /// `goods` or `coupon`.
    #[schema(value_type = Option<Kind>)]
    pub kind: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New points price (redemptions already made keep theirs).
    pub points: Option<i64>,
    /// Units available from now on (set, not added).
    pub stock: Option<i64>,
    /// New per-person limit, or `null` for none. Holdings above a lowered limit stay.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>)]
    pub per_person_limit: Option<Option<i64>>,
    /// New start of the sale window, or `null`.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub sale_starts_at: Option<Option<DateTime<Utc>>>,
    /// New end of the sale window, or `null`.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub sale_ends_at: Option<Option<DateTime<Utc>>>,
    /// New collection point.
    pub station: Option<String>,
    /// New image (an upload with purpose `listing_photo`), or `null`.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub image_upload_id: Option<Option<Uuid>>,
    /// `false` withdraws it from sale; `true` brings it back.
    pub active: Option<bool>,
}

/// Edits an item (its district's administrators and super administrators). Audited with
/// every field's from and to.
#[tracing::instrument(skip(db, who, patch), fields(actor = %who.user_id, item_id = %id))]
pub async fn update(
    db: &impl TransactionTrait,
    who: &Principal,
    id: Uuid,
    patch: ItemPatch,
) -> Result<ItemView> {
    who.require_role(&[Role::Admin])?;
    let mut check = Check::new();
    let name = patch
        .name
        .as_deref()
        .map(|n| check.text("name", n, 1, MAX_NAME));
    let kind = patch.kind.as_deref().map(parse_kind);
    check.ensure(kind != Some(None), "kind", "invalid", KIND_MESSAGE);
    let kind = kind.flatten();
    let description = patch
        .description
        .as_deref()
        .map(|d| check.text("description", d, 0, MAX_DESCRIPTION));
    let station = patch
        .station
        .as_deref()
        .map(|s| check.text("station", s, 0, MAX_STATION));
    if let Some(p) = patch.points {
        check.range("points", p, 1, MAX_POINTS);
    }
    let stock = patch.stock.map(|s| check.range("stock", s, 0, MAX_STOCK));
    let limit = patch
        .per_person_limit
        .map(|l| l.map(|l| check.range("per_person_limit", l, 1, MAX_LIMIT)));
    check.finish()?;

    let txn = db.begin().await?;
    let mut find = mall_item::Entity::find_by_id(id);
    if is_postgres(&txn) {
        // Redemptions move the stock meanwhile: the audit's "from" is what was replaced.
        find = find.lock_exclusive();
    }
    let item = find
        .one(&txn)
        .await?
        .ok_or(Error::NotFound { what: "item" })?;
    match &item.district_code {
        Some(d) => who.require_district(d)?,
        None => who.require_super_admin()?,
    }
    let mut check = Check::new();
    check_window(
        &mut check,
        patch.sale_starts_at.unwrap_or(item.sale_starts_at),
        patch.sale_ends_at.unwrap_or(item.sale_ends_at),
    );
    check.finish()?;
    if let Some(Some(img)) = patch.image_upload_id {
        check_image(&txn, img).await?;
    }
    let mut changed = audit::Changes::default();
    let mut am: mall_item::ActiveModel = item.clone().into();
    if let Some(v) = changed.track("name", &item.name, name) {
        am.name = Set(v);
    }
    if let Some(v) = changed.track("kind", &item.kind, kind) {
        am.kind = Set(v);
    }
    if let Some(v) = changed.track("description", &item.description, description) {
        am.description = Set(v);
    }
    if let Some(v) = changed.track("points", &item.points, patch.points) {
        am.points = Set(v);
    }
    if let Some(v) = changed.track("stock", &item.stock, stock) {
        am.stock = Set(v);
    }
    if let Some(v) = changed.track("per_person_limit", &item.per_person_limit, limit) {
        am.per_person_limit = Set(v);
    }
    if let Some(v) = changed.track("sale_starts_at", &item.sale_starts_at, patch.sale_starts_at) {
        am.sale_starts_at = Set(v);
    }
    if let Some(v) = changed.track("sale_ends_at", &item.sale_ends_at, patch.sale_ends_at) {
        am.sale_ends_at = Set(v);
    }
    if let Some(v) = changed.track("station", &item.station, station) {
        am.station = Set(v);
    }
    if let Some(v) = changed.track(
        "image_upload_id",
        &item.image_upload_id,
        patch.image_upload_id,
    ) {
        am.image_upload_id = Set(v);
    }
    if let Some(v) = changed.track("active", &item.active, patch.active) {
        am.active = Set(v);
    }
    let item = if changed.is_empty() {
        item
    } else {
        am.updated_at = Set(Utc::now());
        let item = am.update(&txn).await?;
        audit::record(
            &txn,
            Some(who.user_id),
            "mall_item.update",
            "mall_item",
            &id.to_string(),
            changed.into_detail(),
        )
        .await?;
        item
    };
    txn.commit().await?;
    Ok(item.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn item(active: bool, starts: Option<i64>, ends: Option<i64>) -> mall_item::Model {
        let now = Utc::now();
        mall_item::Model {
            id: Uuid::nil(),
            name: "布袋".into(),
            kind: Kind::Goods,
            description: String::new(),
            points: 100,
            stock: 1,
            per_person_limit: None,
            sale_starts_at: starts.map(|h| now + Duration::hours(h)),
            sale_ends_at: ends.map(|h| now + Duration::hours(h)),
            district_code: None,
            station: String::new(),
            image_upload_id: None,
            active,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn on_sale_means_active_and_inside_the_window() {
        let now = Utc::now();
        assert!(is_on_sale(&item(true, None, None), now));
        assert!(is_on_sale(&item(true, Some(-1), Some(1)), now));
        assert!(!is_on_sale(&item(false, None, None), now));
        assert!(!is_on_sale(&item(true, Some(1), None), now));
        assert!(!is_on_sale(&item(true, None, Some(-1)), now));
    }

    #[test]
    fn patch_tells_null_from_absent() {
        let p: ItemPatch = serde_json::from_str(r#"{"per_person_limit": null}"#).unwrap();
        assert_eq!(p.per_person_limit, Some(None));
        assert_eq!(p.sale_ends_at, None);
        let p: ItemPatch = serde_json::from_str(r#"{"per_person_limit": 3}"#).unwrap();
        assert_eq!(p.per_person_limit, Some(Some(3)));
    }
}
