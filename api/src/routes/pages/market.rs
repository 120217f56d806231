//! The marketplace's public pages (再生产品供求, plan 四(二)4): listing search with the
//! API's query parameters, a listing's page (photos, specification, standard,
//! certificates and their validity, the merchant, how to inquire), a merchant's page and
//! the open demand. Inquiring needs a signed-in merchant, so a listing's page points to
//! the mini-program rather than offering a form.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use wufei_domain::{
    Platform,
    marketplace::{
        DemandView, ListingSummary, demands, listings, merchants, product_types,
        search::{self, SearchParams},
    },
};

use super::{
    labels::{self, yuan},
    lists::{
        Choice, choices, cn_date, district_choices, district_name, districts, encode, next_link,
        page_query, parse_id,
    },
    map::Map,
    render::{Ctx, Fault, Shell, page, query},
};

/// A listing as a result reads.
pub struct ListingRow {
    /// Its page.
    pub href: String,
    /// Title.
    pub title: String,
    /// Product type name.
    pub product_type: String,
    /// Price per unit.
    pub price: String,
    /// Stock with its unit.
    pub stock: String,
    /// Holds a certificate in force.
    pub certified: bool,
    /// District name.
    pub district: String,
    /// The merchant's page and name.
    pub merchant: (String, String),
    /// First photo.
    pub photo: Option<String>,
}

fn type_name(types: &[product_types::ProductType], code: &str) -> String {
    types
        .iter()
        .find(|t| t.code == code)
        .map_or_else(|| code.to_string(), |t| t.name.clone())
}

impl ListingRow {
    fn of(
        l: &ListingSummary,
        types: &[product_types::ProductType],
        ds: &[(String, String)],
    ) -> Self {
        let unit = labels::unit(&l.unit);
        Self {
            href: format!("/market/listings/{}", l.id),
            title: l.title.clone(),
            product_type: type_name(types, &l.product_type),
            price: format!("{}/{unit}", yuan(l.price_fen)),
            stock: format!("{} {unit}", labels::grouped(l.stock.max(0) as u64)),
            certified: l.certified,
            district: district_name(ds, &l.district_code),
            merchant: (
                format!("/market/merchants/{}", l.merchant.id),
                l.merchant.name.clone(),
            ),
            photo: l.photo_url.clone(),
        }
    }
}

/// The search form's fields as sent: the API's parameters, blanks allowed, and prices in
/// yuan as people type them (`min_price`, `max_price`) beside the API's fen.
#[derive(Default, Deserialize)]
struct SearchForm {
    q: Option<String>,
    product_type: Option<String>,
    district_code: Option<String>,
    min_price_fen: Option<String>,
    max_price_fen: Option<String>,
    min_price: Option<String>,
    max_price: Option<String>,
    certified: Option<String>,
    procurement_ready: Option<String>,
    lat: Option<String>,
    lng: Option<String>,
    radius_km: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn number<T: std::str::FromStr>(s: &Option<String>) -> Result<Option<T>, Fault> {
    blank(s)
        .map(|v| v.parse().map_err(|_| Fault::BadRequest))
        .transpose()
}

fn fen(fen: &Option<String>, yuan: &Option<String>) -> Result<Option<i64>, Fault> {
    if let Some(f) = number::<i64>(fen)? {
        return Ok(Some(f));
    }
    Ok(number::<f64>(yuan)?
        .filter(|y| y.is_finite() && (0.0..=1_000_000.0).contains(y))
        .map(|y| (y * 100.0).round() as i64))
}

fn flag(s: &Option<String>) -> Result<Option<bool>, Fault> {
    match blank(s) {
        None => Ok(None),
        Some("true" | "1" | "on") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(_) => Err(Fault::BadRequest),
    }
}

impl SearchForm {
    fn params(&self) -> Result<SearchParams, Fault> {
        Ok(SearchParams {
            q: blank(&self.q).map(str::to_string),
            product_type: blank(&self.product_type).map(str::to_string),
            district_code: blank(&self.district_code).map(str::to_string),
            min_price_fen: fen(&self.min_price_fen, &self.min_price)?,
            max_price_fen: fen(&self.max_price_fen, &self.max_price)?,
            certified: flag(&self.certified)?,
            procurement_ready: flag(&self.procurement_ready)?,
            lat: number(&self.lat)?,
            lng: number(&self.lng)?,
            radius_km: number(&self.radius_km)?,
            sort: blank(&self.sort).map(str::to_string),
            limit: Some(20),
            cursor: blank(&self.cursor).map(str::to_string),
        })
    }
}

/// The sort orders people can pick (distance needs a position, which a page has not).
const SORTS: [(&str, &str); 4] = [
    ("relevance", "相关度"),
    ("price_asc", "价格从低到高"),
    ("price_desc", "价格从高到低"),
    ("newest", "最新发布"),
];

#[derive(Template)]
#[template(path = "pages/market.html")]
struct MarketPage {
    shell: Shell,
    q: String,
    min_price: String,
    max_price: String,
    certified: bool,
    types: Vec<Choice>,
    districts: Vec<Choice>,
    sorts: Vec<Choice>,
    rows: Vec<ListingRow>,
    total: u64,
    next: Option<String>,
}

fn yuan_field(fen: Option<i64>) -> String {
    fen.map_or_else(String::new, |f| format!("{}.{:02}", f / 100, f % 100))
}

/// `GET /market`: listing search (keyword, product type, district, price, certified,
/// sort), the same parameters as `GET /v1/market/listings`.
pub async fn search(req: HttpRequest, platform: web::Data<Platform>) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = async {
        let form: SearchForm = query(&req)?;
        let params = form.params()?;
        let found = search::search(&platform.db, platform.search.as_ref(), &params).await?;
        let types = product_types::list(&platform.db).await?;
        let ds = districts(&platform).await?;
        Ok(MarketPage {
            shell: ctx.shell(
                "market",
                "再生产品供求",
                "聊城市建筑垃圾再生产品供求信息：再生骨料、再生砖、透水砖等产品的价格、规格、标准和质量证书。",
            ),
            q: params.q.clone().unwrap_or_default(),
            min_price: yuan_field(params.min_price_fen),
            max_price: yuan_field(params.max_price_fen),
            certified: params.certified == Some(true),
            types: choices(
                types.iter().map(|t| (t.code.as_str(), t.name.as_str())),
                params.product_type.as_deref(),
            ),
            districts: district_choices(&ds, params.district_code.as_deref()),
            sorts: choices(SORTS, Some(params.sort.as_deref().unwrap_or("relevance"))),
            rows: found
                .items
                .iter()
                .map(|l| ListingRow::of(l, &types, &ds))
                .collect(),
            total: found.estimated_total,
            next: next_link(&req, found.next_cursor.as_deref()),
        })
    }
    .await;
    page(&ctx, &req, result)
}

/// A certificate as the listing's page reads.
pub struct CertificateRow {
    /// Kind name (with the star level of a green building material certification).
    pub kind: String,
    /// Number.
    pub number: String,
    /// Issuer.
    pub issuer: String,
    /// Issued on.
    pub issued_on: String,
    /// Expires on.
    pub expires_on: String,
    /// In force today.
    pub in_force: bool,
}

#[derive(Template)]
#[template(path = "pages/listing.html")]
struct ListingPage {
    shell: Shell,
    title: String,
    product_type: String,
    description: String,
    spec: String,
    standard: String,
    price: String,
    stock: String,
    min_order: String,
    address: String,
    district: String,
    delivery_radius_km: i32,
    photos: Vec<String>,
    certified: bool,
    certificates: Vec<CertificateRow>,
    merchant: (String, String),
    published: String,
    inquire: Option<String>,
    id: String,
    map: String,
}

/// The link that opens the mini-program on this listing (WeChat's plain URL scheme), when
/// the mini-program's app id is configured.
fn mini_program_link(platform: &Platform, id: &str) -> Option<String> {
    let appid = platform.settings.wechat_appid.as_deref()?;
    Some(format!(
        "weixin://dl/business/?appid={}&path={}&query={}",
        encode(appid),
        encode(&platform.settings.wechat_page),
        encode(&format!("listing={id}"))
    ))
}

/// `GET /market/listings/{id}`: a published listing.
pub async fn listing(
    req: HttpRequest,
    platform: web::Data<Platform>,
    id: web::Path<String>,
) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = async {
        let l = listings::get(&platform.db, None, parse_id(&id)?).await?;
        let types = product_types::list(&platform.db).await?;
        let ds = districts(&platform).await?;
        let unit = labels::unit(&l.unit).to_string();
        let map = Map::new(
            format!("{}的生产厂址", l.title),
            [(
                l.plant.address.clone(),
                format!("/market/listings/{}", l.id),
                l.plant.lat,
                l.plant.lng,
                "plant",
            )],
            platform.settings.map_tile_url.as_deref(),
        );
        let product_type = type_name(&types, &l.product_type);
        Ok(ListingPage {
            shell: ctx.shell(
                "market",
                l.title.clone(),
                format!(
                    "{product_type}，{}/{unit}，{}供应。",
                    yuan(l.price_fen),
                    l.merchant.name
                ),
            ),
            title: l.title.clone(),
            product_type,
            description: l.description.clone(),
            spec: l.spec.clone(),
            standard: l.standard.clone(),
            price: format!("{}/{unit}", yuan(l.price_fen)),
            stock: format!("{} {unit}", labels::grouped(l.stock.max(0) as u64)),
            min_order: format!("{} {unit}", labels::grouped(l.min_order.max(0) as u64)),
            address: l.plant.address.clone(),
            district: district_name(&ds, &l.plant.district_code),
            delivery_radius_km: l.delivery_radius_km,
            photos: l.photo_urls.clone(),
            certified: l.certified,
            certificates: l
                .certificates
                .iter()
                .map(|c| CertificateRow {
                    kind: match c.star_level {
                        Some(s) => format!("{}（{s} 星级）", labels::certificate(c.kind.as_str())),
                        None => labels::certificate(c.kind.as_str()).to_string(),
                    },
                    number: c.number.clone(),
                    issuer: c.issuer.clone(),
                    issued_on: c.issued_on.to_string(),
                    expires_on: c.expires_on.to_string(),
                    in_force: c.in_force,
                })
                .collect(),
            merchant: (
                format!("/market/merchants/{}", l.merchant.id),
                l.merchant.name.clone(),
            ),
            published: cn_date(l.published_at),
            inquire: mini_program_link(&platform, &l.id.to_string()),
            id: l.id.to_string(),
            map: map.svg(),
        })
    }
    .await;
    page(&ctx, &req, result)
}

#[derive(Template)]
#[template(path = "pages/merchant.html")]
struct MerchantPage {
    shell: Shell,
    name: String,
    district: String,
    verified_since: String,
    published_listings: u64,
    completed_deals: u64,
    rows: Vec<ListingRow>,
}

/// `GET /market/merchants/{id}`: a verified merchant and their published listings.
pub async fn merchant(
    req: HttpRequest,
    platform: web::Data<Platform>,
    id: web::Path<String>,
) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = async {
        let m = merchants::profile(&platform.db, parse_id(&id)?).await?;
        let types = product_types::list(&platform.db).await?;
        let ds = districts(&platform).await?;
        let district = district_name(&ds, &m.district_code);
        Ok(MerchantPage {
            shell: ctx.shell(
                "market",
                m.name.clone(),
                format!(
                    "{}（{district}）：经审核的再生产品供应商，在售产品和成交情况。",
                    m.name
                ),
            ),
            name: m.name.clone(),
            verified_since: cn_date(Some(m.verified_since)),
            published_listings: m.published_listings,
            completed_deals: m.completed_deals,
            rows: m
                .listings
                .iter()
                .map(|l| ListingRow::of(l, &types, &ds))
                .collect(),
            district,
        })
    }
    .await;
    page(&ctx, &req, result)
}

/// A demand as the list reads.
pub struct DemandRow {
    /// Title.
    pub title: String,
    /// Product type name.
    pub product_type: String,
    /// Quantity with its unit.
    pub quantity: String,
    /// Highest price, if stated.
    pub max_price: Option<String>,
    /// District name.
    pub district: String,
    /// Needed by.
    pub needed_by: String,
    /// The buyer's page and name.
    pub merchant: (String, String),
}

impl DemandRow {
    fn of(d: &DemandView, types: &[product_types::ProductType], ds: &[(String, String)]) -> Self {
        let unit = labels::unit(&d.unit);
        Self {
            title: d.title.clone(),
            product_type: type_name(types, &d.product_type),
            quantity: format!("{} {unit}", labels::grouped(d.quantity.max(0) as u64)),
            max_price: d.max_price_fen.map(|p| format!("{}/{unit}", yuan(p))),
            district: district_name(ds, &d.site.district_code),
            needed_by: d.needed_by.to_string(),
            merchant: (
                format!("/market/merchants/{}", d.merchant.id),
                d.merchant.name.clone(),
            ),
        }
    }
}

/// The query of the demand list.
#[derive(Deserialize)]
struct DemandQuery {
    product_type: Option<String>,
    district_code: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/demands.html")]
struct DemandsPage {
    shell: Shell,
    rows: Vec<DemandRow>,
    types: Vec<Choice>,
    districts: Vec<Choice>,
    next: Option<String>,
}

/// `GET /market/demands`: open demand (求购), newest first, by product type and district.
pub async fn demands(req: HttpRequest, platform: web::Data<Platform>) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = async {
        let q: DemandQuery = query(&req)?;
        let filter = demands::DemandFilter {
            product_type: blank(&q.product_type).map(str::to_string),
            district_code: blank(&q.district_code).map(str::to_string),
        };
        let list = demands::list_open(&platform.db, &filter, page_query(q.cursor).parse()?).await?;
        let types = product_types::list(&platform.db).await?;
        let ds = districts(&platform).await?;
        Ok(DemandsPage {
            shell: ctx.shell(
                "market",
                "求购信息",
                "建筑垃圾再生产品求购信息：需要的产品、数量、地点和时间。",
            ),
            rows: list
                .items
                .iter()
                .map(|d| DemandRow::of(d, &types, &ds))
                .collect(),
            types: choices(
                types.iter().map(|t| (t.code.as_str(), t.name.as_str())),
                filter.product_type.as_deref(),
            ),
            districts: district_choices(&ds, filter.district_code.as_deref()),
            next: next_link(&req, list.next_cursor.as_deref()),
        })
    }
    .await;
    page(&ctx, &req, result)
}
