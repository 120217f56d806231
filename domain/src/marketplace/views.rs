//! What the marketplace answers with.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::entities::{
    market_certificate, market_deal, market_demand, market_inquiry, market_listing, market_message,
    market_quote, merchant_application,
};

/// Where an upload's content is served (as `uploads` hands it out).
pub(crate) fn upload_url(id: Uuid) -> String {
    format!("/v1/uploads/{id}/content")
}

/// An application as its applicant and the reviewing administrators see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApplicationView {
    /// Id.
    pub id: Uuid,
    /// `pending`, `approved` or `rejected`.
    pub status: merchant_application::Status,
    /// The company's registered name.
    pub company_name: String,
    /// Its unified social credit code.
    pub credit_code: String,
    /// Who to talk to.
    pub contact_name: String,
    /// Their phone.
    pub contact_phone: String,
    /// The company's district.
    pub district_code: String,
    /// The company's address.
    pub address: String,
    /// The business licence upload (private: the applicant and administrators read it).
    pub licence_id: Uuid,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// When it was decided.
    pub reviewed_at: Option<DateTime<Utc>>,
}

impl From<merchant_application::Model> for ApplicationView {
    fn from(a: merchant_application::Model) -> Self {
        Self {
            id: a.id,
            status: a.status,
            company_name: a.company_name,
            credit_code: a.credit_code,
            contact_name: a.contact_name,
            contact_phone: a.contact_phone,
            district_code: a.district_code,
            address: a.address,
            licence_id: a.licence_id,
            reason: a.reason,
            created_at: a.created_at,
            reviewed_at: a.reviewed_at,
        }
    }
}

/// A merchant named on a listing, demand, inquiry or deal.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MerchantRef {
    /// The merchant's id (its public profile is `/v1/market/merchants/{id}`).
    pub id: Uuid,
    /// The company's name.
    pub name: String,
}

/// A merchant's public profile.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MerchantProfile {
    /// Id.
    pub id: Uuid,
    /// The company's name.
    pub name: String,
    /// Its district.
    pub district_code: String,
    /// When it was verified.
    pub verified_since: DateTime<Utc>,
    /// How many listings it has published now.
    pub published_listings: u64,
    /// How many deals it completed, as buyer or supplier.
    pub completed_deals: u64,
    /// Its newest published listings (up to 20).
    pub listings: Vec<ListingSummary>,
}

/// A listing in a list or search result.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListingSummary {
    /// Id.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// Product type code.
    pub product_type: String,
    /// Unit of price, stock and quantities.
    pub unit: String,
    /// Price per unit, fen.
    pub price_fen: i64,
    /// Units in stock.
    pub stock: i64,
    /// Holds a certificate in force.
    pub certified: bool,
    /// Holds a green-building certification or a valid test report (green procurement).
    pub procurement_ready: bool,
    /// The plant's district.
    pub district_code: String,
    /// The supplier.
    pub merchant: MerchantRef,
    /// Distance from the point searched around, kilometres.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    /// The first photo.
    pub photo_url: Option<String>,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
}

/// Where a listing's plant is, or a demand's delivery site.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Place {
    /// Latitude, GCJ-02, inside the service region.
    pub lat: f64,
    /// Longitude, GCJ-02, inside the service region.
    pub lng: f64,
    /// Address, 1–256 characters.
    pub address: String,
    /// The district (one Wufei serves).
    pub district_code: String,
}

/// A certificate: the public sees kind, star level, number, issuer and validity; the
/// listing's merchant and administrators also see the upload.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CertificateView {
    /// Id.
    pub id: Uuid,
    /// What it attests.
    pub kind: market_certificate::Kind,
    /// Star level 1–3 (green building material certification).
    pub star_level: Option<i32>,
    /// Certificate or report number.
    pub number: String,
    /// Who issued it.
    pub issuer: String,
    /// Issued on.
    pub issued_on: NaiveDate,
    /// Valid until, inclusive.
    pub expires_on: NaiveDate,
    /// Whether it is in force today.
    pub in_force: bool,
    /// The scanned certificate (private upload); only for the merchant and administrators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<Uuid>,
}

impl CertificateView {
    /// The view of `c` on `today`, with the upload when `private` may be shown.
    pub fn of(c: market_certificate::Model, today: NaiveDate, private: bool) -> Self {
        Self {
            id: c.id,
            kind: c.kind,
            star_level: c.star_level,
            in_force: c.issued_on <= today && today <= c.expires_on,
            number: c.number,
            issuer: c.issuer,
            issued_on: c.issued_on,
            expires_on: c.expires_on,
            upload_id: private.then_some(c.upload_id),
        }
    }
}

/// A listing in full.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListingView {
    /// Id.
    pub id: Uuid,
    /// `draft`, `pending_review`, `published`, `withdrawn` or `rejected`.
    pub status: market_listing::Status,
    /// Why it was rejected or taken down (its merchant and administrators only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether an administrator took it down.
    pub taken_down: bool,
    /// Product type code.
    pub product_type: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Specification (`C30`, `5-31.5mm` …).
    pub spec: String,
    /// The standard it meets (`GB/T 25177` …).
    pub standard: String,
    /// Unit of price, stock and quantities.
    pub unit: String,
    /// Price per unit, fen.
    pub price_fen: i64,
    /// Units in stock.
    pub stock: i64,
    /// Smallest order, units.
    pub min_order: i64,
    /// The plant.
    pub plant: Place,
    /// How far it delivers, km.
    pub delivery_radius_km: i32,
    /// Photo uploads (public).
    pub photo_ids: Vec<Uuid>,
    /// Where each photo is served.
    pub photo_urls: Vec<String>,
    /// Holds a certificate in force.
    pub certified: bool,
    /// Holds a green-building certification or a valid test report (green procurement).
    pub procurement_ready: bool,
    /// Its certificates.
    pub certificates: Vec<CertificateView>,
    /// The supplier.
    pub merchant: MerchantRef,
    /// Goes up with every change.
    pub version: i64,
    /// On an edit: whether it went back to review (text or photos of a published listing
    /// changed); price, stock and minimum order take effect at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_required: Option<bool>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was (last) published.
    pub published_at: Option<DateTime<Utc>>,
}

/// The photo ids stored on a listing (a JSON array).
pub(crate) fn photo_ids(raw: &str) -> Vec<Uuid> {
    serde_json::from_str(raw).unwrap_or_default()
}

impl ListingView {
    /// The view of `l` with its supplier and certificates; `private` shows the reason and
    /// the certificates' uploads.
    pub fn of(
        l: market_listing::Model,
        merchant: MerchantRef,
        certificates: Vec<market_certificate::Model>,
        private: bool,
    ) -> Self {
        let today = Utc::now().date_naive();
        let photos = photo_ids(&l.photo_ids);
        Self {
            id: l.id,
            status: l.status,
            reason: if private { l.reason } else { None },
            taken_down: l.taken_down,
            product_type: l.product_type,
            title: l.title,
            description: l.description,
            spec: l.spec,
            standard: l.standard,
            unit: l.unit,
            price_fen: l.price_fen,
            stock: l.stock,
            min_order: l.min_order,
            plant: Place {
                lat: l.lat,
                lng: l.lng,
                address: l.address,
                district_code: l.district_code,
            },
            delivery_radius_km: l.delivery_radius_km,
            photo_urls: photos.iter().copied().map(upload_url).collect(),
            photo_ids: photos,
            certified: l.certified,
            procurement_ready: l.procurement_ready,
            certificates: certificates
                .into_iter()
                .map(|c| CertificateView::of(c, today, private))
                .collect(),
            merchant,
            version: l.version,
            review_required: None,
            created_at: l.created_at,
            updated_at: l.updated_at,
            published_at: l.published_at,
        }
    }
}

impl ListingSummary {
    /// The summary of `l`.
    pub fn of(l: market_listing::Model, merchant: MerchantRef, distance_km: Option<f64>) -> Self {
        Self {
            photo_url: photo_ids(&l.photo_ids).first().copied().map(upload_url),
            id: l.id,
            title: l.title,
            product_type: l.product_type,
            unit: l.unit,
            price_fen: l.price_fen,
            stock: l.stock,
            certified: l.certified,
            procurement_ready: l.procurement_ready,
            district_code: l.district_code,
            merchant,
            distance_km,
            published_at: l.published_at,
        }
    }
}

/// A demand (求购).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DemandView {
    /// Id.
    pub id: Uuid,
    /// `open`, `fulfilled`, `closed` or `expired`.
    pub status: market_demand::Status,
    /// Product type code.
    pub product_type: String,
    /// Title.
    pub title: String,
    /// How much is wanted.
    pub quantity: i64,
    /// In which unit.
    pub unit: String,
    /// Highest price per unit, fen.
    pub max_price_fen: Option<i64>,
    /// The delivery site.
    pub site: Place,
    /// Needed by (inclusive); the demand expires after it.
    pub needed_by: NaiveDate,
    /// The buyer.
    pub merchant: MerchantRef,
    /// When it was posted.
    pub created_at: DateTime<Utc>,
}

impl DemandView {
    /// The view of `d`.
    pub fn of(d: market_demand::Model, merchant: MerchantRef) -> Self {
        Self {
            id: d.id,
            status: d.status,
            product_type: d.product_type,
            title: d.title,
            quantity: d.quantity,
            unit: d.unit,
            max_price_fen: d.max_price_fen,
            site: Place {
                lat: d.lat,
                lng: d.lng,
                address: d.address,
                district_code: d.district_code,
            },
            needed_by: d.needed_by,
            merchant,
            created_at: d.created_at,
        }
    }
}

/// A message of an inquiry.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    /// Id.
    pub id: Uuid,
    /// The merchant who wrote it.
    pub author_id: Uuid,
    /// Text.
    pub body: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<market_message::Model> for MessageView {
    fn from(m: market_message::Model) -> Self {
        Self {
            id: m.id,
            author_id: m.author_id,
            body: m.body,
            created_at: m.created_at,
        }
    }
}

/// A quote.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuoteView {
    /// Id.
    pub id: Uuid,
    /// The inquiry.
    pub inquiry_id: Uuid,
    /// `open`, `accepted` or `withdrawn`.
    pub status: market_quote::Status,
    /// Price per unit, fen.
    pub price_fen: i64,
    /// Units.
    pub quantity: i64,
    /// May be accepted until then.
    pub valid_until: DateTime<Utc>,
    /// A note.
    pub note: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl From<market_quote::Model> for QuoteView {
    fn from(q: market_quote::Model) -> Self {
        Self {
            id: q.id,
            inquiry_id: q.inquiry_id,
            status: q.status,
            price_fen: q.price_fen,
            quantity: q.quantity,
            valid_until: q.valid_until,
            note: q.note,
            created_at: q.created_at,
        }
    }
}

/// An inquiry, as its two parties see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InquiryView {
    /// Id.
    pub id: Uuid,
    /// `open`, `dealt` or `closed`.
    pub status: market_inquiry::Status,
    /// The listing.
    pub listing_id: Uuid,
    /// The listing's title.
    pub listing_title: String,
    /// The buyer.
    pub buyer: MerchantRef,
    /// The supplier.
    pub seller: MerchantRef,
    /// Units wanted.
    pub quantity: i64,
    /// The buyer's first message.
    pub message: String,
    /// Where to deliver.
    pub site: Option<InquirySite>,
    /// When it is needed.
    pub needed_by: Option<NaiveDate>,
    /// The messages since, oldest first (on the single inquiry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<MessageView>>,
    /// The quotes, newest first (on the single inquiry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quotes: Option<Vec<QuoteView>>,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The delivery site of an inquiry.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InquirySite {
    /// Latitude, GCJ-02.
    pub lat: f64,
    /// Longitude, GCJ-02.
    pub lng: f64,
    /// Address, 1–256 characters.
    pub address: String,
}

/// A deal, as its two parties see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DealView {
    /// Id.
    pub id: Uuid,
    /// `confirmed`, `delivered`, `completed` or `cancelled`.
    pub status: market_deal::Status,
    /// The accepted quote.
    pub quote_id: Uuid,
    /// The inquiry.
    pub inquiry_id: Uuid,
    /// The listing.
    pub listing_id: Uuid,
    /// The buyer's merchant id.
    pub buyer_id: Uuid,
    /// The supplier's merchant id.
    pub seller_id: Uuid,
    /// Product type code.
    pub product_type: String,
    /// Units.
    pub quantity: i64,
    /// In which unit.
    pub unit: String,
    /// Price per unit, fen.
    pub price_fen: i64,
    /// Quantity × price, fen (paid offline).
    pub amount_fen: i64,
    /// When it was agreed.
    pub created_at: DateTime<Utc>,
    /// When the supplier delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When the buyer confirmed receipt.
    pub completed_at: Option<DateTime<Utc>>,
    /// When it was called off.
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl From<market_deal::Model> for DealView {
    fn from(d: market_deal::Model) -> Self {
        Self {
            id: d.id,
            status: d.status,
            quote_id: d.quote_id,
            inquiry_id: d.inquiry_id,
            listing_id: d.listing_id,
            buyer_id: d.buyer_id,
            seller_id: d.seller_id,
            product_type: d.product_type,
            quantity: d.quantity,
            unit: d.unit,
            price_fen: d.price_fen,
            amount_fen: d.amount_fen,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
            completed_at: d.completed_at,
            cancelled_at: d.cancelled_at,
        }
    }
}
