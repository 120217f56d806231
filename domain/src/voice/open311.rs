//! Open311 GeoReport v2 over the suggestions, so civic-reporting clients that speak it work
//! against Wufei: the service list (the suggestion categories), creating a request (a
//! suggestion, moderated like any other), and reading published ones. A request is `open`
//! until the department replies, then `closed` with the reply as its `status_notes`.
//! Errors stay problem+json like the rest of the API.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::suggestions::NewSuggestion;
use crate::{
    entities::suggestion::{self, Category, Status},
    error::{Error, Result},
    validate::Check,
};

/// A service (a suggestion category).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Service {
    /// The category code.
    pub service_code: &'static str,
    /// Its name.
    pub service_name: &'static str,
    /// What to report under it.
    pub description: &'static str,
    /// No extra attributes.
    pub metadata: bool,
    /// `realtime`: requests are stored at once.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Keywords.
    pub keywords: &'static str,
    /// The group.
    pub group: &'static str,
}

/// The services.
pub fn services() -> Vec<Service> {
    Category::ALL
        .into_iter()
        .map(|c| Service {
            service_code: c.as_str(),
            service_name: c.name(),
            description: match c {
                Category::RecyclingService => "预约上门回收的服务质量、时效与态度",
                Category::Sorting => "生活垃圾分类投放、收运与宣传",
                Category::PointsMall => "绿色积分的发放、兑换与商城",
                Category::Facility => "回收站点、分拣中心等设施的位置、开放与维护",
                Category::ConstructionWaste => "建筑垃圾的清运、消纳与再生产品",
                Category::Other => "其他意见建议",
            },
            metadata: false,
            kind: "realtime",
            keywords: "无废城市,意见建议",
            group: "无废城市",
        })
        .collect()
}

/// A request as a GeoReport v2 client sends it (form-encoded). Unknown fields (such as
/// `attribute[…]`, `api_key`, `jurisdiction_id`) are ignored.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewRequest {
    /// A service code from the service list.
    pub service_code: String,
    /// Latitude (GCJ-02).
    pub lat: Option<f64>,
    /// Longitude (GCJ-02).
    pub long: Option<f64>,
    /// Where, as written.
    pub address_string: Option<String>,
    /// The request, 5–2000 characters.
    pub description: Option<String>,
    /// The sender's e-mail (never public).
    pub email: Option<String>,
    /// The sender's phone (never public).
    pub phone: Option<String>,
    /// The sender's first name (not stored).
    pub first_name: Option<String>,
    /// The sender's last name (not stored).
    pub last_name: Option<String>,
}

impl NewRequest {
    /// The suggestion it makes; 422 naming `service_code` for an unknown one.
    pub fn into_suggestion(self) -> Result<NewSuggestion> {
        let Some(category) = Category::parse(&self.service_code) else {
            let mut check = Check::new();
            check.fail(
                "service_code",
                "invalid",
                "not a service of /open311/v2/services.json",
            );
            return Err(check
                .finish()
                .err()
                .unwrap_or(Error::NotFound { what: "service" }));
        };
        Ok(NewSuggestion {
            category,
            district_code: None,
            text: self.description.unwrap_or_default(),
            contact: self.phone.or(self.email).filter(|c| !c.trim().is_empty()),
            lat: self.lat,
            lng: self.long,
            address: self.address_string.filter(|a| !a.trim().is_empty()),
        })
    }
}

/// The answer to a created request.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Created {
    /// The request's id.
    pub service_request_id: Uuid,
    /// What happens next.
    pub service_notice: &'static str,
    /// Not used.
    pub account_id: Option<String>,
}

/// The notice on every created request.
pub const NOTICE: &str = "已收到，审核后公开；答复后状态为 closed。";

/// A request as GeoReport v2 shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Request {
    /// Id.
    pub service_request_id: Uuid,
    /// `open` until replied to, then `closed`.
    pub status: &'static str,
    /// The reply.
    pub status_notes: Option<String>,
    /// The service's name.
    pub service_name: &'static str,
    /// The service code.
    pub service_code: &'static str,
    /// The text, personal data masked.
    pub description: String,
    /// The replying unit.
    pub agency_responsible: Option<String>,
    /// Not used.
    pub service_notice: Option<String>,
    /// When it was sent.
    pub requested_datetime: DateTime<Utc>,
    /// When it last changed.
    pub updated_datetime: DateTime<Utc>,
    /// Not used.
    pub expected_datetime: Option<DateTime<Utc>>,
    /// Where, as written.
    pub address: Option<String>,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub long: Option<f64>,
    /// Not used.
    pub media_url: Option<String>,
}

fn request(s: suggestion::Model) -> Request {
    Request {
        service_request_id: s.id,
        status: if s.reply.is_some() { "closed" } else { "open" },
        status_notes: s.reply,
        service_name: s.category.name(),
        service_code: s.category.as_str(),
        description: s.public_text,
        agency_responsible: s.reply_unit,
        service_notice: None,
        requested_datetime: s.created_at,
        updated_datetime: s.updated_at,
        expected_datetime: None,
        address: s.address,
        lat: s.lat,
        long: s.lng,
        media_url: None,
    }
}

/// Filters of the request list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct RequestQuery {
    /// Comma-separated ids.
    pub service_request_id: Option<String>,
    /// Comma-separated service codes.
    pub service_code: Option<String>,
    /// Sent at or after.
    pub start_date: Option<DateTime<Utc>>,
    /// Sent before.
    pub end_date: Option<DateTime<Utc>>,
    /// `open` or `closed`.
    pub status: Option<String>,
}

/// Requests shown at most per list.
pub const MAX_REQUESTS: u64 = 1000;

/// Published requests, newest first, filtered as GeoReport v2 asks.
pub async fn list(db: &impl ConnectionTrait, q: &RequestQuery) -> Result<Vec<Request>> {
    let mut check = Check::new();
    let ids: Vec<Uuid> = q
        .service_request_id
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .filter_map(|s| {
            let id = s.trim().parse().ok();
            check.ensure(
                id.is_some(),
                "service_request_id",
                "invalid",
                "ids are UUIDs",
            );
            id
        })
        .collect();
    let codes: Vec<Category> = q
        .service_code
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .filter_map(|s| {
            let c = Category::parse(s.trim());
            check.ensure(c.is_some(), "service_code", "invalid", "not a service code");
            c
        })
        .collect();
    if let Some(s) = &q.status {
        check.ensure(
            s == "open" || s == "closed",
            "status",
            "invalid",
            "open or closed",
        );
    }
    check.finish()?;
    let mut select = suggestion::Entity::find()
        .filter(suggestion::Column::Status.eq(Status::Published))
        .order_by_desc(suggestion::Column::Id)
        .limit(MAX_REQUESTS);
    if !ids.is_empty() {
        select = select.filter(suggestion::Column::Id.is_in(ids));
    }
    if !codes.is_empty() {
        select = select.filter(suggestion::Column::Category.is_in(codes));
    }
    if let Some(from) = q.start_date {
        select = select.filter(suggestion::Column::CreatedAt.gte(from));
    }
    if let Some(to) = q.end_date {
        select = select.filter(suggestion::Column::CreatedAt.lt(to));
    }
    match q.status.as_deref() {
        Some("open") => select = select.filter(suggestion::Column::Reply.is_null()),
        Some("closed") => select = select.filter(suggestion::Column::Reply.is_not_null()),
        _ => {}
    }
    Ok(select.all(db).await?.into_iter().map(request).collect())
}

/// One published request (as a list of one, as GeoReport v2 answers).
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Vec<Request>> {
    let s = suggestion::Entity::find_by_id(id)
        .filter(suggestion::Column::Status.eq(Status::Published))
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "request" })?;
    Ok(vec![request(s)])
}
