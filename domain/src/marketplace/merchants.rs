//! Merchants: an account applies with its company's credit code and business licence; an
//! administrator of the district approves (the account becomes a `merchant`, with its new
//! role in the next access token) or rejects with a reason. One credit code, one merchant.
//! The public sees a merchant's profile.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{ApplicationView, MerchantProfile, credit_code, listings, reasons};
use crate::catalog::areas::known_district;
use crate::{
    audit,
    auth::{Principal, Role, users::normalize_phone},
    entities::{
        market_deal, market_listing,
        merchant::{self, Entity as Merchants},
        merchant_application::{self as application, Status},
        user,
    },
    error::{Error, Result},
    notifications::{self, NewNotification},
    paging::{Page, PageRequest},
    uploads::{self, Purpose},
    validate::Check,
};

/// An application to trade on the marketplace.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    /// The company's registered name, 2–128 characters.
    pub company_name: String,
    /// The 18-character unified social credit code (GB 32100-2015, check character verified).
    #[schema(pattern = "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")]
    pub credit_code: String,
    /// Who to talk to, 1–64 characters.
    pub contact_name: String,
    /// Their 11-digit mainland mobile number.
    pub contact_phone: String,
    /// The district the company is in (one Wufei serves).
    pub district_code: String,
    /// The company's address, 1–256 characters.
    pub address: String,
    /// The business licence: the caller's own upload with purpose `licence` (private).
    pub licence_id: Uuid,
}

/// The merchant behind the caller, or 403: a verified merchant's account (role `merchant`
/// in the token) with its merchants row.
pub async fn acting(db: &impl ConnectionTrait, who: &Principal) -> Result<merchant::Model> {
    who.require_role(&[Role::Merchant])?;
    Merchants::find()
        .filter(merchant::Column::UserId.eq(who.user_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::forbidden("this needs a verified merchant"))
}

/// The merchant of account `user_id`, if it is one.
pub async fn of_user(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Option<merchant::Model>> {
    Ok(Merchants::find()
        .filter(merchant::Column::UserId.eq(user_id))
        .one(db)
        .await?)
}

/// Applies. Residents only (staff accounts keep their role); one pending application per
/// account and per credit code; a code that already has a merchant is 409.
#[tracing::instrument(skip_all, fields(user_id = %who.user_id))]
pub async fn apply(
    db: &impl TransactionTrait,
    who: &Principal,
    new: NewApplication,
) -> Result<ApplicationView> {
    if who.role == Role::Merchant {
        return Err(Error::conflict(
            "already_merchant",
            "this account is a merchant already",
        ));
    }
    who.require_role(&[Role::Resident])?;
    let mut check = Check::new();
    let company_name = check.text("company_name", &new.company_name, 2, 128);
    let contact_name = check.text("contact_name", &new.contact_name, 1, 64);
    let address = check.text("address", &new.address, 1, 256);
    let code = match credit_code::verify(&new.credit_code) {
        Ok(code) => code,
        Err(why) => {
            check.fail("credit_code", "invalid", why.message());
            String::new()
        }
    };
    let phone = normalize_phone(&new.contact_phone).unwrap_or_else(|_| {
        check.fail(
            "contact_phone",
            "invalid",
            "must be an 11-digit mainland mobile number",
        );
        String::new()
    });
    check.finish()?;

    let txn = db.begin().await?;
    known_district(&txn, "district_code", &new.district_code).await?;
    if !uploads::is_own(&txn, new.licence_id, who.user_id, Purpose::Licence).await? {
        return Err(Error::field(
            "licence_id",
            "invalid",
            "must be your own upload with purpose licence",
        ));
    }
    if Merchants::find()
        .filter(merchant::Column::CreditCode.eq(&code))
        .count(&txn)
        .await?
        > 0
    {
        return Err(Error::conflict(
            "credit_code_taken",
            "a merchant with this credit code exists",
        ));
    }
    let row = application::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(who.user_id),
        company_name: Set(company_name),
        credit_code: Set(code),
        contact_name: Set(contact_name),
        contact_phone: Set(phone),
        district_code: Set(new.district_code),
        address: Set(address),
        licence_id: Set(new.licence_id),
        status: Set(Status::Pending),
        reason: Set(None),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        let e = Error::from(e);
        if e.is_unique_violation() {
            Error::conflict(
                "application_pending",
                "an application for this account or credit code is already pending",
            )
        } else {
            e
        }
    })?;
    txn.commit().await?;
    Ok(row.into())
}

/// The caller's applications, newest first.
pub async fn mine(db: &impl ConnectionTrait, who: &Principal) -> Result<Vec<ApplicationView>> {
    Ok(application::Entity::find()
        .filter(application::Column::UserId.eq(who.user_id))
        .order_by_desc(application::Column::Id)
        .limit(50)
        .all(db)
        .await?
        .into_iter()
        .map(ApplicationView::from)
        .collect())
}

/// Filters of the administrators' list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ApplicationFilter {
    /// `pending` (default), `approved` or `rejected`.
    #[param(value_type = Option<application::Status>)]
    pub status: Option<String>,
}

fn parse_status(s: Option<&str>) -> Result<Status> {
    match s.unwrap_or("pending") {
        "pending" => Ok(Status::Pending),
        "approved" => Ok(Status::Approved),
        "rejected" => Ok(Status::Rejected),
        _ => Err(Error::field(
            "status",
            "invalid",
            "must be pending, approved or rejected",
        )),
    }
}

/// Applications in the administrator's districts (super administrators: all), newest first.
pub async fn list_for_review(
    db: &impl ConnectionTrait,
    who: &Principal,
    filter: &ApplicationFilter,
    page: PageRequest,
) -> Result<Page<ApplicationView>> {
    who.require_role(&[Role::Admin])?;
    let status = parse_status(filter.status.as_deref())?;
    let mut q = application::Entity::find()
        .filter(application::Column::Status.eq(status))
        .order_by_desc(application::Column::Id)
        .limit(page.limit + 1);
    if !who.is_super_admin() {
        q = q.filter(application::Column::DistrictCode.eq(who.district_code.clone()));
    }
    if let Some(before) = page.before {
        q = q.filter(application::Column::Id.lt(before));
    }
    Ok(Page::of(
        q.all(db).await?,
        page.limit,
        |a| a.id,
        ApplicationView::from,
    ))
}

/// Loads an application the administrator may review (404 outside their district).
async fn reviewable(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: Uuid,
) -> Result<application::Model> {
    who.require_role(&[Role::Admin])?;
    application::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|a| who.may_administer_district(&a.district_code))
        .ok_or(Error::NotFound {
            what: "application",
        })
}

/// Moves a pending application to `to`; 409 if it is not pending any more.
async fn decide(
    txn: &impl ConnectionTrait,
    who: &Principal,
    app: &application::Model,
    to: Status,
    reason: Option<String>,
) -> Result<()> {
    let moved = application::Entity::update_many()
        .col_expr(application::Column::Status, Expr::value(to.as_str()))
        .col_expr(application::Column::Reason, Expr::value(reason))
        .col_expr(application::Column::ReviewedBy, Expr::value(who.user_id))
        .col_expr(application::Column::ReviewedAt, Expr::value(Utc::now()))
        .filter(application::Column::Id.eq(app.id))
        .filter(application::Column::Status.eq(Status::Pending))
        .exec(txn)
        .await?;
    if moved.rows_affected == 0 {
        return Err(Error::conflict(
            "illegal_transition",
            "the application is no longer pending",
        ));
    }
    Ok(())
}

/// Approves: the merchant is created and the account becomes a `merchant` (its next access
/// token carries the role). Audited; the applicant is told.
#[tracing::instrument(skip(db, who), fields(actor = %who.user_id))]
pub async fn approve(
    db: &impl TransactionTrait,
    who: &Principal,
    id: Uuid,
) -> Result<ApplicationView> {
    let txn = db.begin().await?;
    let app = reviewable(&txn, who, id).await?;
    decide(&txn, who, &app, Status::Approved, None).await?;
    let now = Utc::now();
    merchant::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(app.user_id),
        company_name: Set(app.company_name.clone()),
        credit_code: Set(app.credit_code.clone()),
        contact_name: Set(app.contact_name.clone()),
        contact_phone: Set(app.contact_phone.clone()),
        district_code: Set(app.district_code.clone()),
        address: Set(app.address.clone()),
        application_id: Set(app.id),
        verified_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        let e = Error::from(e);
        if e.is_unique_violation() {
            Error::conflict(
                "credit_code_taken",
                "a merchant with this credit code or account exists",
            )
        } else {
            e
        }
    })?;
    user::Entity::update_many()
        .col_expr(user::Column::Role, Expr::value(Role::Merchant.as_str()))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(app.user_id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        Some(who.user_id),
        "merchant_application.approve",
        "merchant_application",
        &app.id.to_string(),
        serde_json::json!({ "credit_code": app.credit_code, "company_name": app.company_name }),
    )
    .await?;
    notifications::notify(
        &txn,
        NewNotification {
            user_id: app.user_id,
            kind: "market".into(),
            title: "商户认证已通过".into(),
            body: format!("{} 已通过审核，重新登录后即可发布产品。", app.company_name),
            data: serde_json::json!({ "application_id": app.id }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(ApplicationView {
        status: Status::Approved,
        reviewed_at: Some(now),
        ..ApplicationView::from(app)
    })
}

/// Rejects with a reason the applicant sees. Audited; the applicant is told.
#[tracing::instrument(skip(db, who, reason), fields(actor = %who.user_id))]
pub async fn reject(
    db: &impl TransactionTrait,
    who: &Principal,
    id: Uuid,
    reason: &str,
) -> Result<ApplicationView> {
    let reason = reasons::check(reason)?;
    let txn = db.begin().await?;
    let app = reviewable(&txn, who, id).await?;
    decide(&txn, who, &app, Status::Rejected, Some(reason.clone())).await?;
    audit::record(
        &txn,
        Some(who.user_id),
        "merchant_application.reject",
        "merchant_application",
        &app.id.to_string(),
        serde_json::json!({ "reason": reason }),
    )
    .await?;
    notifications::notify(
        &txn,
        NewNotification {
            user_id: app.user_id,
            kind: "market".into(),
            title: "商户认证未通过".into(),
            body: reason.clone(),
            data: serde_json::json!({ "application_id": app.id }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(ApplicationView {
        status: Status::Rejected,
        reason: Some(reason),
        reviewed_at: Some(Utc::now()),
        ..ApplicationView::from(app)
    })
}

/// A merchant's public profile: name, district, verified since, published listings,
/// completed deals.
pub async fn profile(db: &impl ConnectionTrait, id: Uuid) -> Result<MerchantProfile> {
    let m = Merchants::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { what: "merchant" })?;
    let published = market_listing::Entity::find()
        .filter(market_listing::Column::MerchantId.eq(id))
        .filter(market_listing::Column::Status.eq(market_listing::Status::Published))
        .count(db)
        .await?;
    let completed = market_deal::Entity::find()
        .filter(
            market_deal::Column::SellerId
                .eq(id)
                .or(market_deal::Column::BuyerId.eq(id)),
        )
        .filter(market_deal::Column::Status.eq(market_deal::Status::Completed))
        .count(db)
        .await?;
    let listings = listings::published_of(db, id, 20).await?;
    Ok(MerchantProfile {
        id: m.id,
        name: m.company_name,
        district_code: m.district_code,
        verified_since: m.verified_at,
        published_listings: published,
        completed_deals: completed,
        listings,
    })
}
