//! The points mall: items (goods and coupons) residents redeem green points for, the
//! redemptions that reserve them with a pickup code, and their fulfilment at a station.
//!
//! - [`items`]: administrators run the catalogue (super administrators everywhere, district
//!   administrators in their district; every change audited, nothing deleted); anyone
//!   browses what is on sale.
//! - [`redemptions`]: a resident redeems (stock, per-person limit and points taken in one
//!   database transaction, a unique pickup code handed out), lists and cancels (points,
//!   stock and limit given back).
//! - [`fulfilment`]: a station manager or administrator of the item's district looks a
//!   pickup code up and hands the goods out, once.
//!
//! Races are settled by the database, never by reading then writing: stock and holdings
//! move by conditional updates, statuses change only from `reserved`, the ledger refuses an
//! overdraft. Lock order on PostgreSQL, on every path: the redemption row (cancel, fulfil),
//! then the item row, then the resident's holding, then the resident's points account.

pub mod fulfilment;
pub mod items;
pub mod redemptions;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::entities::{mall_item, mall_redemption};

pub use crate::entities::{mall_item::Kind, mall_redemption::Status};

/// An item as residents and administrators see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// `goods` or `coupon`.
    #[schema(value_type = Kind)]
    pub kind: String,
    /// Description.
    pub description: String,
    /// Points per unit.
    pub points: i64,
    /// Units left.
    pub stock: i32,
    /// How many one person may hold (reserved or collected); absent: no limit.
    pub per_person_limit: Option<i32>,
    /// On sale from (absent: since it was created).
    pub sale_starts_at: Option<DateTime<Utc>>,
    /// On sale until, exclusive (absent: open-ended).
    pub sale_ends_at: Option<DateTime<Utc>>,
    /// The district whose stations hand it out (absent: city-wide, any station).
    pub district_code: Option<String>,
    /// Where to collect it.
    pub station: String,
    /// The image (a public upload), if any.
    pub image_url: Option<String>,
    /// The image's upload id, if any.
    pub image_upload_id: Option<Uuid>,
    /// Whether it can be redeemed (inside its sale window).
    pub active: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When an administrator last changed it.
    pub updated_at: DateTime<Utc>,
}

impl From<mall_item::Model> for ItemView {
    fn from(i: mall_item::Model) -> Self {
        Self {
            image_url: i.image_upload_id.map(image_url),
            id: i.id,
            name: i.name,
            kind: i.kind.as_str().into(),
            description: i.description,
            points: i.points,
            stock: i.stock,
            per_person_limit: i.per_person_limit,
            sale_starts_at: i.sale_starts_at,
            sale_ends_at: i.sale_ends_at,
            district_code: i.district_code,
            station: i.station,
            image_upload_id: i.image_upload_id,
            active: i.active,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// Where an upload's content is served (as `uploads` hands it out).
fn image_url(id: Uuid) -> String {
    format!("/v1/uploads/{id}/content")
}

/// A redemption as its resident and the fulfilling station see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RedemptionView {
    /// Id.
    pub id: Uuid,
    /// The code shown at the station (8 digits).
    pub pickup_code: String,
    /// `reserved`, `fulfilled` or `cancelled`.
    #[schema(value_type = Status)]
    pub status: String,
    /// The item.
    pub item_id: Uuid,
    /// The item's name.
    pub item_name: String,
    /// `goods` or `coupon`.
    #[schema(value_type = Kind)]
    pub kind: String,
    /// Units.
    pub quantity: i32,
    /// Points paid (refunded when cancelled).
    pub points: i64,
    /// The district whose stations hand it out (absent: any).
    pub district_code: Option<String>,
    /// Where to collect it.
    pub station: String,
    /// The ledger transaction that took the points.
    pub transaction_id: Uuid,
    /// The refund's ledger transaction, once cancelled.
    pub refund_transaction_id: Option<Uuid>,
    /// When it was redeemed.
    pub created_at: DateTime<Utc>,
    /// When it was handed out.
    pub fulfilled_at: Option<DateTime<Utc>>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
}

fn redemption_view(r: mall_redemption::Model, item: &mall_item::Model) -> RedemptionView {
    RedemptionView {
        id: r.id,
        pickup_code: r.pickup_code,
        status: r.status.as_str().into(),
        item_id: r.item_id,
        item_name: item.name.clone(),
        kind: item.kind.as_str().into(),
        quantity: r.quantity,
        points: r.points,
        district_code: item.district_code.clone(),
        station: item.station.clone(),
        transaction_id: r.transaction_id,
        refund_transaction_id: r.refund_transaction_id,
        created_at: r.created_at,
        fulfilled_at: r.fulfilled_at,
        cancelled_at: r.cancelled_at,
    }
}

/// The ledger source key of a redemption's debit.
pub fn source_key(redemption_id: Uuid) -> String {
    format!("redemption:{redemption_id}")
}

/// The ledger source key of a cancelled redemption's refund.
pub fn refund_key(redemption_id: Uuid) -> String {
    format!("refund:redemption:{redemption_id}")
}
