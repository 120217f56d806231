//! Zero-waste cells (无废细胞, the plan's 五(二) and 三(七)): any signed-in account applies
//! for its organisation (kind, district, address and location, description, photos,
//! evidence); an administrator of the district publishes it as a badge or rejects it with a
//! reason, and may later revoke it with a reason. The public sees published cells and the
//! counts per district and field against the plan's targets.

use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    audit,
    auth::{Principal, Role},
    catalog::areas::{check_place, known_district},
    entities::zero_waste_cell::{self as cell, Kind, Status},
    error::{Error, Result},
    notifications::{self, NewNotification},
    paging::{Page, PageRequest},
    uploads::{self, Purpose},
    validate::Check,
};

const CELL_KINDS_JSON: &str = include_str!("../../data/plan/cell_kinds.json");

/// A cell.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CellView {
    /// Id.
    pub id: Uuid,
    /// The organisation.
    pub organisation: String,
    /// Kind.
    pub kind: Kind,
    /// District.
    pub district_code: String,
    /// Address.
    pub address: String,
    /// Latitude, GCJ-02.
    pub lat: f64,
    /// Longitude, GCJ-02.
    pub lng: f64,
    /// What it does.
    pub description: String,
    /// Photo uploads (public).
    pub photo_urls: Vec<String>,
    /// `pending`, `published`, `rejected` or `revoked`.
    pub status: Status,
    /// Why it was rejected or revoked (its applicant and administrators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Evidence uploads (its applicant and administrators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence_ids: Option<Vec<Uuid>>,
    /// When it was published.
    pub published_at: Option<chrono::DateTime<Utc>>,
    /// When it was applied for.
    pub created_at: chrono::DateTime<Utc>,
}

fn ids(raw: &str) -> Vec<Uuid> {
    serde_json::from_str(raw).unwrap_or_default()
}

fn view(c: cell::Model, private: bool) -> CellView {
    CellView {
        id: c.id,
        organisation: c.organisation,
        kind: c.kind,
        district_code: c.district_code,
        address: c.address,
        lat: c.lat,
        lng: c.lng,
        description: c.description,
        photo_urls: ids(&c.photo_ids)
            .into_iter()
            .map(|id| format!("/v1/uploads/{id}/content"))
            .collect(),
        status: c.status,
        reason: if private { c.reason } else { None },
        evidence_ids: private.then(|| ids(&c.evidence_ids)),
        published_at: c.published_at,
        created_at: c.created_at,
    }
}

/// An application.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCell {
    /// The organisation, 2–128 characters.
    pub organisation: String,
    /// Kind.
    pub kind: Kind,
    /// District (one Wufei serves).
    pub district_code: String,
    /// Address, 1–256 characters.
    pub address: String,
    /// Latitude, GCJ-02, inside the service region.
    pub lat: f64,
    /// Longitude, GCJ-02, inside the service region.
    pub lng: f64,
    /// What it does, 10–2000 characters.
    pub description: String,
    /// Up to 9 of the caller's `listing_photo` uploads (public once published).
    #[serde(default)]
    pub photo_ids: Vec<Uuid>,
    /// Up to 9 of the caller's `certificate` uploads (private: administrators read them).
    #[serde(default)]
    pub evidence_ids: Vec<Uuid>,
}

async fn check_uploads(
    db: &impl ConnectionTrait,
    owner: Uuid,
    field: &str,
    list: &[Uuid],
    purpose: Purpose,
) -> Result<()> {
    if list.len() > 9 {
        return Err(Error::field(field, "too_long", "at most 9"));
    }
    for (i, id) in list.iter().enumerate() {
        if !uploads::is_own(db, *id, owner, purpose).await? {
            return Err(Error::field(
                &format!("{field}[{i}]"),
                "invalid",
                format!("must be your own upload with purpose {}", purpose.as_str()),
            ));
        }
    }
    Ok(())
}

/// Applies for a cell. Any signed-in account.
#[tracing::instrument(skip_all, fields(user_id = %who.user_id))]
pub async fn apply(db: &impl ConnectionTrait, who: &Principal, new: NewCell) -> Result<CellView> {
    let mut check = Check::new();
    let organisation = check.text("organisation", &new.organisation, 2, 128);
    let address = check.text("address", &new.address, 1, 256);
    let description = check.text("description", &new.description, 10, 2000);
    check_place(&mut check, "location", new.lat, new.lng);
    check.finish()?;
    known_district(db, "district_code", &new.district_code).await?;
    check_uploads(
        db,
        who.user_id,
        "photo_ids",
        &new.photo_ids,
        Purpose::ListingPhoto,
    )
    .await?;
    check_uploads(
        db,
        who.user_id,
        "evidence_ids",
        &new.evidence_ids,
        Purpose::Certificate,
    )
    .await?;
    let row = cell::ActiveModel {
        id: Set(Uuid::now_v7()),
        applicant_id: Set(who.user_id),
        organisation: Set(organisation),
        kind: Set(new.kind),
        district_code: Set(new.district_code),
        address: Set(address),
        lat: Set(new.lat),
        lng: Set(new.lng),
        description: Set(description),
        photo_ids: Set(serde_json::to_string(&new.photo_ids).unwrap_or_else(|_| "[]".into())),
        evidence_ids: Set(serde_json::to_string(&new.evidence_ids).unwrap_or_else(|_| "[]".into())),
        status: Set(Status::Pending),
        reason: Set(None),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        published_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(view(row, true))
}

/// The caller's applications, newest first.
pub async fn mine(db: &impl ConnectionTrait, who: &Principal) -> Result<Vec<CellView>> {
    Ok(cell::Entity::find()
        .filter(cell::Column::ApplicantId.eq(who.user_id))
        .order_by_desc(cell::Column::Id)
        .limit(100)
        .all(db)
        .await?
        .into_iter()
        .map(|c| view(c, true))
        .collect())
}

/// Filters of the public list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct CellFilter {
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Only this district.
    pub district_code: Option<String>,
}

/// Published cells, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &CellFilter,
    page: PageRequest,
) -> Result<Page<CellView>> {
    let mut q = cell::Entity::find()
        .filter(cell::Column::Status.eq(Status::Published))
        .order_by_desc(cell::Column::Id)
        .limit(page.limit + 1);
    if let Some(k) = filter.kind {
        q = q.filter(cell::Column::Kind.eq(k));
    }
    if let Some(d) = &filter.district_code {
        q = q.filter(cell::Column::DistrictCode.eq(d.as_str()));
    }
    if let Some(before) = page.before {
        q = q.filter(cell::Column::Id.lt(before));
    }
    Ok(Page::of(
        q.all(db).await?,
        page.limit,
        |c| c.id,
        |c| view(c, false),
    ))
}

/// One cell: a published one for anyone; its applicant and administrators see it in any
/// state.
pub async fn get(
    db: &impl ConnectionTrait,
    viewer: Option<&Principal>,
    id: Uuid,
) -> Result<CellView> {
    let c = cell::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "cell" })?;
    let private = viewer.is_some_and(|p| {
        p.user_id == c.applicant_id || (p.is_admin() && p.may_administer_district(&c.district_code))
    });
    if c.status != Status::Published && !private {
        return Err(Error::NotFound { what: "cell" });
    }
    Ok(view(c, private))
}

/// Applications in the administrator's district (super: all) by status (default
/// `pending`), newest first.
pub async fn list_for_review(
    db: &impl ConnectionTrait,
    who: &Principal,
    status: Option<Status>,
    page: PageRequest,
) -> Result<Page<CellView>> {
    who.require_role(&[Role::Admin])?;
    let mut q = cell::Entity::find()
        .filter(cell::Column::Status.eq(status.unwrap_or(Status::Pending)))
        .order_by_desc(cell::Column::Id)
        .limit(page.limit + 1);
    if !who.is_super_admin() {
        q = q.filter(cell::Column::DistrictCode.eq(who.district_code.clone()));
    }
    if let Some(before) = page.before {
        q = q.filter(cell::Column::Id.lt(before));
    }
    Ok(Page::of(
        q.all(db).await?,
        page.limit,
        |c| c.id,
        |c| view(c, true),
    ))
}

/// What an administrator decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Publish a pending application.
    Publish,
    /// Refuse a pending application (with a reason).
    Reject,
    /// Withdraw a published badge (with a reason).
    Revoke,
}

/// Decides on a cell of the administrator's district (404 for another's); 409 from the
/// wrong state. Audited; the applicant is told.
#[tracing::instrument(skip(db, who, reason), fields(actor = %who.user_id))]
pub async fn decide(
    db: &impl TransactionTrait,
    who: &Principal,
    id: Uuid,
    decision: Decision,
    reason: Option<&str>,
) -> Result<CellView> {
    who.require_role(&[Role::Admin])?;
    let reason = match decision {
        Decision::Publish => None,
        _ => {
            let mut check = Check::new();
            let r = check.text("reason", reason.unwrap_or_default(), 1, 500);
            check.finish()?;
            Some(r)
        }
    };
    let txn = db.begin().await?;
    let c = cell::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|c| who.may_administer_district(&c.district_code))
        .ok_or(Error::NotFound { what: "cell" })?;
    let now = Utc::now();
    let (from, to, action) = match decision {
        Decision::Publish => (
            Status::Pending,
            Status::Published,
            "zero_waste_cell.publish",
        ),
        Decision::Reject => (Status::Pending, Status::Rejected, "zero_waste_cell.reject"),
        Decision::Revoke => (Status::Published, Status::Revoked, "zero_waste_cell.revoke"),
    };
    let mut q = cell::Entity::update_many()
        .col_expr(cell::Column::Status, Expr::value(to.as_str()))
        .col_expr(cell::Column::Reason, Expr::value(reason.clone()))
        .col_expr(cell::Column::ReviewedBy, Expr::value(who.user_id))
        .col_expr(cell::Column::ReviewedAt, Expr::value(now))
        .filter(cell::Column::Id.eq(id))
        .filter(cell::Column::Status.eq(from));
    q = match decision {
        Decision::Publish => q.col_expr(cell::Column::PublishedAt, Expr::value(now)),
        Decision::Revoke => q.col_expr(cell::Column::RevokedAt, Expr::value(now)),
        Decision::Reject => q,
    };
    if q.exec(&txn).await?.rows_affected == 0 {
        return Err(Error::conflict(
            "illegal_transition",
            format!(
                "the cell cannot become {} from {}",
                to.as_str(),
                c.status.as_str()
            ),
        ));
    }
    audit::record(
        &txn,
        Some(who.user_id),
        action,
        "zero_waste_cell",
        &id.to_string(),
        serde_json::json!({ "reason": reason }),
    )
    .await?;
    let (title, body) = match decision {
        Decision::Publish => (
            "无废细胞已认定",
            format!("{} 已被认定为无废细胞。", c.organisation),
        ),
        Decision::Reject => ("无废细胞申请未通过", reason.clone().unwrap_or_default()),
        Decision::Revoke => ("无废细胞称号已撤销", reason.clone().unwrap_or_default()),
    };
    notifications::notify(
        &txn,
        NewNotification {
            user_id: c.applicant_id,
            kind: "cell".into(),
            title: title.into(),
            body,
            data: serde_json::json!({ "cell_id": id }),
        },
    )
    .await?;
    let fresh = cell::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound { what: "cell" })?;
    txn.commit().await?;
    Ok(view(fresh, true))
}

#[derive(Deserialize)]
struct Plan {
    total_target: Total,
    domains: Vec<Domain>,
    kinds: Vec<KindInfo>,
}

#[derive(Deserialize)]
struct Total {
    target: u64,
    plan_section: String,
}

#[derive(Deserialize)]
struct Domain {
    code: String,
    name: String,
    targets: Vec<Target>,
}

#[derive(Deserialize)]
struct Target {
    target: u64,
    plan_section: String,
    scope: Scope,
}

#[derive(Deserialize)]
struct Scope {
    #[serde(default)]
    district_codes: Vec<String>,
}

#[derive(Deserialize)]
struct KindInfo {
    code: String,
    domain: String,
}

/// Published cells of one field (领域) in one district, against the plan's target.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldCount {
    /// `industrial`, `living` or `agricultural_rural`.
    pub field: String,
    /// Its name (工业领域 …).
    pub name: String,
    /// Published cells.
    pub published: u64,
    /// The plan's target for this district by 2025, if it sets one.
    pub target: Option<u64>,
    /// The section that sets it.
    pub plan_section: Option<String>,
}

/// One district's cells.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DistrictCells {
    /// District.
    pub district_code: String,
    /// Published cells per kind.
    pub by_kind: BTreeMap<String, u64>,
    /// Published cells per field, with targets.
    pub by_field: Vec<FieldCount>,
}

/// The counts against the plan's targets.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CellSummary {
    /// Published cells in the whole city.
    pub published: u64,
    /// The plan's city-wide target (300 by 2025).
    pub target: u64,
    /// The section that sets it.
    pub plan_section: String,
    /// Per district.
    pub districts: Vec<DistrictCells>,
}

/// Published cells per district, kind and field against the plan's targets.
pub async fn summary(db: &impl ConnectionTrait) -> Result<CellSummary> {
    let plan: Plan = serde_json::from_str(CELL_KINDS_JSON)
        .map_err(|e| Error::Internal(anyhow::anyhow!("cell_kinds.json: {e}")))?;
    let rows: Vec<(String, Kind)> = cell::Entity::find()
        .select_only()
        .column(cell::Column::DistrictCode)
        .column(cell::Column::Kind)
        .filter(cell::Column::Status.eq(Status::Published))
        .into_tuple()
        .all(db)
        .await?;
    let mut codes: Vec<String> = plan
        .domains
        .iter()
        .flat_map(|d| {
            d.targets
                .iter()
                .flat_map(|t| t.scope.district_codes.clone())
        })
        .chain(rows.iter().map(|(d, _)| d.clone()))
        .collect();
    codes.sort();
    codes.dedup();
    let field_of = |k: Kind| {
        plan.kinds
            .iter()
            .find(|i| i.code == k.as_str())
            .map(|i| i.domain.clone())
            .unwrap_or_default()
    };
    let districts = codes
        .into_iter()
        .map(|code| {
            let mine: Vec<Kind> = rows
                .iter()
                .filter(|(d, _)| *d == code)
                .map(|(_, k)| *k)
                .collect();
            let mut by_kind = BTreeMap::new();
            for k in &mine {
                *by_kind.entry(k.as_str().to_string()).or_insert(0) += 1;
            }
            let by_field = plan
                .domains
                .iter()
                .map(|f| {
                    let t = f
                        .targets
                        .iter()
                        .find(|t| t.scope.district_codes.contains(&code));
                    FieldCount {
                        field: f.code.clone(),
                        name: f.name.clone(),
                        published: mine.iter().filter(|k| field_of(**k) == f.code).count() as u64,
                        target: t.map(|t| t.target),
                        plan_section: t.map(|t| t.plan_section.clone()),
                    }
                })
                .collect();
            DistrictCells {
                district_code: code,
                by_kind,
                by_field,
            }
        })
        .collect();
    Ok(CellSummary {
        published: rows.len() as u64,
        target: plan.total_target.target,
        plan_section: plan.total_target.plan_section,
        districts,
    })
}

/// Cells published at the end of `year` and not revoked by then (the measured indicator).
pub async fn active_at_year_end(db: &impl ConnectionTrait, year: i32) -> Result<Option<f64>> {
    use sea_orm::PaginatorTrait;
    let Some(end) = chrono::NaiveDate::from_ymd_opt(year + 1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
    else {
        return Ok(None);
    };
    let n = cell::Entity::find()
        .filter(cell::Column::PublishedAt.lt(end))
        .filter(
            cell::Column::RevokedAt
                .is_null()
                .or(cell::Column::RevokedAt.gte(end)),
        )
        .count(db)
        .await?;
    Ok(Some(n as f64))
}
