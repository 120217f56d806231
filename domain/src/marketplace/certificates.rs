//! Quality certificates and the badges they give a listing. A listing is `certified` while
//! it holds a certificate in force (issued on or before today, expiring on or after today);
//! it is `procurement_ready` while that certificate is a green building material
//! certification or a third-party test report, which is what green procurement accepts
//! (the plan, 三(四)3(2)). The daily job takes badges off the day a certificate expires and
//! tells the merchant 30 and 7 days before.

use chrono::{Months, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set, TransactionSession, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{CertificateView, listings, merchants, search};
use crate::{
    auth::Principal,
    entities::{
        market_certificate::{self as certificate, Kind},
        market_listing as listing, merchant,
    },
    error::{Error, Result},
    notifications::{self, NewNotification},
    uploads::{self, Purpose},
    validate::Check,
};

/// How long a green building material certification is valid.
pub const GREEN_VALIDITY_YEARS: u32 = 5;

/// A certificate to attach.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCertificate {
    /// What it attests.
    pub kind: Kind,
    /// Star level 1–3: required for a green building material certification, absent
    /// otherwise.
    #[schema(minimum = 1, maximum = 3)]
    pub star_level: Option<i64>,
    /// Certificate or report number, 1–64 characters.
    pub number: String,
    /// Who issued it, 1–128 characters.
    pub issuer: String,
    /// Issued on (not in the future).
    pub issued_on: NaiveDate,
    /// Valid until, inclusive (not past; a green building certification at most five years
    /// after issue).
    pub expires_on: NaiveDate,
    /// The scanned certificate: the caller's own upload with purpose `certificate`.
    pub upload_id: Uuid,
}

fn check_new(c: &NewCertificate, today: NaiveDate) -> Result<(String, String)> {
    let mut check = Check::new();
    let number = check.text("number", &c.number, 1, 64);
    let issuer = check.text("issuer", &c.issuer, 1, 128);
    match (c.kind, c.star_level) {
        (Kind::GreenBuildingMaterial, Some(s)) => {
            check.range("star_level", s, 1, 3);
        }
        (Kind::GreenBuildingMaterial, None) => check.fail(
            "star_level",
            "required",
            "a green building certification has a star level",
        ),
        (_, Some(_)) => check.fail(
            "star_level",
            "invalid",
            "only green building certifications have one",
        ),
        (_, None) => {}
    }
    check.ensure(
        c.issued_on <= today,
        "issued_on",
        "invalid",
        "must not be in the future",
    );
    check.ensure(
        c.expires_on > c.issued_on,
        "expires_on",
        "invalid",
        "must be after issued_on",
    );
    check.ensure(
        c.expires_on >= today,
        "expires_on",
        "expired",
        "the certificate has expired",
    );
    if c.kind == Kind::GreenBuildingMaterial {
        let limit = c
            .issued_on
            .checked_add_months(Months::new(12 * GREEN_VALIDITY_YEARS));
        check.ensure(
            limit.is_some_and(|l| c.expires_on <= l),
            "expires_on",
            "invalid",
            "a green building certification is valid at most five years",
        );
    }
    check.finish()?;
    Ok((number, issuer))
}

/// Attaches a certificate to the caller's listing; its badges follow at once.
#[tracing::instrument(skip(db, who, new), fields(user_id = %who.user_id))]
pub async fn add(
    db: &impl TransactionTrait,
    who: &Principal,
    listing_id: Uuid,
    new: NewCertificate,
) -> Result<CertificateView> {
    let today = Utc::now().date_naive();
    let (number, issuer) = check_new(&new, today)?;
    let txn = db.begin().await?;
    let me = merchants::acting(&txn, who).await?;
    listings::own(&txn, &me, listing_id).await?;
    if !uploads::is_own(&txn, new.upload_id, who.user_id, Purpose::Certificate).await? {
        return Err(Error::field(
            "upload_id",
            "invalid",
            "must be your own upload with purpose certificate",
        ));
    }
    let row = certificate::ActiveModel {
        id: Set(Uuid::now_v7()),
        listing_id: Set(listing_id),
        kind: Set(new.kind),
        star_level: Set(new.star_level.and_then(|s| i32::try_from(s).ok())),
        number: Set(number),
        issuer: Set(issuer),
        issued_on: Set(new.issued_on),
        expires_on: Set(new.expires_on),
        upload_id: Set(new.upload_id),
        reminded_30_at: Set(None),
        reminded_7_at: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        let e = Error::from(e);
        if e.is_unique_violation() {
            Error::conflict("already_exists", "this certificate is attached already")
        } else {
            e
        }
    })?;
    refresh_badges(&txn, listing_id, today).await?;
    txn.commit().await?;
    Ok(CertificateView::of(row, today, true))
}

/// Sets listing `id`'s badges from its certificates in force on `today`; when they change,
/// bumps its version and stages the index job. Returns whether they changed.
pub async fn refresh_badges(
    txn: &impl ConnectionTrait,
    id: Uuid,
    today: NaiveDate,
) -> Result<bool> {
    let in_force: Vec<Kind> = certificate::Entity::find()
        .select_only()
        .column(certificate::Column::Kind)
        .filter(certificate::Column::ListingId.eq(id))
        .filter(certificate::Column::IssuedOn.lte(today))
        .filter(certificate::Column::ExpiresOn.gte(today))
        .into_tuple()
        .all(txn)
        .await?;
    let certified = !in_force.is_empty();
    let ready = in_force
        .iter()
        .any(|k| matches!(k, Kind::GreenBuildingMaterial | Kind::TestReport));
    let changed = listing::Entity::update_many()
        .col_expr(listing::Column::Certified, Expr::value(certified))
        .col_expr(listing::Column::ProcurementReady, Expr::value(ready))
        .col_expr(
            listing::Column::Version,
            Expr::col(listing::Column::Version).add(1),
        )
        .col_expr(listing::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(listing::Column::Id.eq(id))
        .filter(
            listing::Column::Certified
                .ne(certified)
                .or(listing::Column::ProcurementReady.ne(ready)),
        )
        .exec(txn)
        .await?
        .rows_affected
        > 0;
    if changed {
        search::stage(txn, id).await?;
    }
    Ok(changed)
}

/// The daily pass on `today`: badges of listings whose certificates expired come off; the
/// merchants of certificates expiring in 30 and in 7 days are told, once each. Idempotent.
pub async fn daily(db: &DatabaseConnection, today: NaiveDate) -> Result<(u64, u64)> {
    let expired: Vec<Uuid> = certificate::Entity::find()
        .select_only()
        .column(certificate::Column::ListingId)
        .distinct()
        .filter(certificate::Column::ExpiresOn.lt(today))
        .filter(
            certificate::Column::ListingId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(listing::Column::Id)
                    .from(listing::Entity)
                    .and_where(
                        Expr::col(listing::Column::Certified)
                            .eq(true)
                            .or(Expr::col(listing::Column::ProcurementReady).eq(true)),
                    )
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(db)
        .await?;
    let mut unbadged = 0;
    for id in expired {
        let txn = db.begin().await?;
        unbadged += u64::from(refresh_badges(&txn, id, today).await?);
        txn.commit().await?;
    }
    let mut reminded = 0;
    for days in [30, 7] {
        reminded += remind(db, today, days).await?;
    }
    Ok((unbadged, reminded))
}

/// Tells the merchants of certificates expiring within `days` (and not yet told at that
/// mark) once.
async fn remind(db: &DatabaseConnection, today: NaiveDate, days: u64) -> Result<u64> {
    let column = if days == 30 {
        certificate::Column::Reminded30At
    } else {
        certificate::Column::Reminded7At
    };
    let until = today + chrono::Days::new(days);
    let due = certificate::Entity::find()
        .filter(certificate::Column::ExpiresOn.gte(today))
        .filter(certificate::Column::ExpiresOn.lte(until))
        .filter(column.is_null())
        .all(db)
        .await?;
    let mut told = 0;
    for c in due {
        let txn = db.begin().await?;
        let claimed = certificate::Entity::update_many()
            .col_expr(column, Expr::value(Utc::now()))
            .filter(certificate::Column::Id.eq(c.id))
            .filter(column.is_null())
            .exec(&txn)
            .await?
            .rows_affected
            > 0;
        let owner = listing::Entity::find_by_id(c.listing_id)
            .one(&txn)
            .await?
            .map(|l| (l.merchant_id, l.title));
        let merchant = match owner {
            Some((merchant_id, title)) if claimed => merchant::Entity::find_by_id(merchant_id)
                .one(&txn)
                .await?
                .map(|m| (m, title)),
            _ => None,
        };
        if let Some((m, title)) = merchant {
            notifications::notify(
                &txn,
                NewNotification {
                    user_id: m.user_id,
                    kind: "market".into(),
                    title: "证书即将到期".into(),
                    body: format!(
                        "「{title}」的证书 {} 将于 {} 到期，请及时更新。",
                        c.number, c.expires_on
                    ),
                    data: serde_json::json!({ "listing_id": c.listing_id, "certificate_id": c.id }),
                },
            )
            .await?;
            told += 1;
        }
        txn.commit().await?;
    }
    Ok(told)
}
