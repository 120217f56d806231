//! Favourites and reports by signed-in users. A report of a bad listing goes to the
//! administrators' moderation queue; they take the listing down (the reports on it are
//! upheld) or dismiss the report.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
    sea_query::OnConflict,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    ListingSummary,
    demands::names,
    listings::{self, Decision},
};
use crate::{
    auth::{Principal, Role},
    entities::{
        market_favourite as favourite, market_listing as listing,
        market_report::{self as report, Status},
    },
    error::{Error, Result},
    paging::{Page, PageRequest},
    validate::Check,
};

async fn published(db: &impl ConnectionTrait, id: Uuid) -> Result<listing::Model> {
    listing::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|l| l.status == listing::Status::Published)
        .ok_or(Error::NotFound { what: "listing" })
}

/// Keeps a published listing among the caller's favourites (idempotent).
pub async fn favourite(db: &impl ConnectionTrait, who: &Principal, id: Uuid) -> Result<()> {
    published(db, id).await?;
    favourite::Entity::insert(favourite::ActiveModel {
        user_id: Set(who.user_id),
        listing_id: Set(id),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([favourite::Column::UserId, favourite::Column::ListingId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Drops a listing from the caller's favourites (idempotent).
pub async fn unfavourite(db: &impl ConnectionTrait, who: &Principal, id: Uuid) -> Result<()> {
    favourite::Entity::delete_many()
        .filter(favourite::Column::UserId.eq(who.user_id))
        .filter(favourite::Column::ListingId.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The caller's favourite listings that are still published, most recently kept first.
pub async fn favourites(db: &impl ConnectionTrait, who: &Principal) -> Result<Vec<ListingSummary>> {
    let ids: Vec<Uuid> = favourite::Entity::find()
        .select_only()
        .column(favourite::Column::ListingId)
        .filter(favourite::Column::UserId.eq(who.user_id))
        .order_by_desc(favourite::Column::CreatedAt)
        .limit(200)
        .into_tuple()
        .all(db)
        .await?;
    let rows = listing::Entity::find()
        .filter(listing::Column::Id.is_in(ids.clone()))
        .filter(listing::Column::Status.eq(listing::Status::Published))
        .all(db)
        .await?;
    let owners = names(db, rows.iter().map(|l| l.merchant_id).collect()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for id in ids {
        let found = rows
            .iter()
            .find(|l| l.id == id)
            .and_then(|l| Some((l, owners.iter().find(|m| m.id == l.merchant_id)?)));
        if let Some((l, m)) = found {
            out.push(ListingSummary::of(l.clone(), m.clone(), None));
        }
    }
    Ok(out)
}

/// A report of a bad listing.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    /// What is wrong, 5–500 characters.
    pub reason: String,
}

/// A report as administrators see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportView {
    /// Id.
    pub id: Uuid,
    /// The listing.
    pub listing_id: Uuid,
    /// `open`, `upheld` or `dismissed`.
    pub status: Status,
    /// What is wrong.
    pub reason: String,
    /// When it was sent.
    pub created_at: chrono::DateTime<Utc>,
}

impl From<report::Model> for ReportView {
    fn from(r: report::Model) -> Self {
        Self {
            id: r.id,
            listing_id: r.listing_id,
            status: r.status,
            reason: r.reason,
            created_at: r.created_at,
        }
    }
}

/// Reports a published listing; one report per user and listing (409 `already_reported`).
pub async fn report(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: Uuid,
    new: NewReport,
) -> Result<ReportView> {
    let mut check = Check::new();
    let reason = check.text("reason", &new.reason, 5, 500);
    check.finish()?;
    published(db, id).await?;
    let row = report::ActiveModel {
        id: Set(Uuid::now_v7()),
        listing_id: Set(id),
        reporter_id: Set(who.user_id),
        reason: Set(reason),
        status: Set(Status::Open),
        resolved_by: Set(None),
        resolved_at: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .map_err(|e| {
        let e = Error::from(e);
        if e.is_unique_violation() {
            Error::conflict("already_reported", "you reported this listing already")
        } else {
            e
        }
    })?;
    Ok(row.into())
}

/// Open reports on listings of the administrator's district (super: all), newest first.
pub async fn queue(
    db: &impl ConnectionTrait,
    who: &Principal,
    page: PageRequest,
) -> Result<Page<ReportView>> {
    who.require_role(&[Role::Admin])?;
    let mut q = report::Entity::find()
        .filter(report::Column::Status.eq(Status::Open))
        .order_by_desc(report::Column::Id)
        .limit(page.limit + 1);
    if !who.is_super_admin() {
        q = q.filter(
            report::Column::ListingId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(listing::Column::Id)
                    .from(listing::Entity)
                    .and_where(
                        Expr::col(listing::Column::DistrictCode).eq(who.district_code.clone()),
                    )
                    .to_owned(),
            ),
        );
    }
    if let Some(before) = page.before {
        q = q.filter(report::Column::Id.lt(before));
    }
    Ok(Page::of(
        q.all(db).await?,
        page.limit,
        |r| r.id,
        ReportView::from,
    ))
}

/// What an administrator does with a report.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    /// `true`: take the listing down with `reason` (every open report on it is upheld);
    /// `false`: dismiss this report.
    pub take_down: bool,
    /// Why (required to take down; the merchant sees it).
    pub reason: Option<String>,
}

/// Resolves a report.
pub async fn resolve(
    db: &(impl TransactionTrait + ConnectionTrait),
    who: &Principal,
    id: Uuid,
    how: Resolution,
) -> Result<ReportView> {
    who.require_role(&[Role::Admin])?;
    let r = report::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "report" })?;
    let l = listing::Entity::find_by_id(r.listing_id)
        .one(db)
        .await?
        .filter(|l| who.may_administer_district(&l.district_code))
        .ok_or(Error::NotFound { what: "report" })?;
    if r.status != Status::Open {
        return Err(Error::conflict(
            "illegal_transition",
            "the report is resolved already",
        ));
    }
    let now = Utc::now();
    let (to, filter) = if how.take_down {
        listings::decide(db, who, l.id, Decision::TakeDown, how.reason.as_deref()).await?;
        (Status::Upheld, report::Column::ListingId.eq(l.id))
    } else {
        (Status::Dismissed, report::Column::Id.eq(id))
    };
    report::Entity::update_many()
        .col_expr(report::Column::Status, Expr::value(to.as_str()))
        .col_expr(report::Column::ResolvedBy, Expr::value(who.user_id))
        .col_expr(report::Column::ResolvedAt, Expr::value(now))
        .filter(filter)
        .filter(report::Column::Status.eq(Status::Open))
        .exec(db)
        .await?;
    Ok(ReportView {
        status: to,
        ..r.into()
    })
}
