//! `POST /v1/recycler-applications`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    recyclers::{self, ApplicationInput, Applied},
};

use crate::{
    extract::MaybeAuth,
    problem::{ApiError, Problem},
};

/// Applies to become a recycler. Signed in as a resident: the application is for that
/// account, which gains the phone and password. Signed out: a fresh account is created;
/// log in with the phone and password to upload the ID photo and add it with PATCH.
/// Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/recycler-applications", tag = "applications", request_body = ApplicationInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    responses(
        (status = 201, body = Applied),
        (status = 401, description = "bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not a resident", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`phone_taken` or `already_applied`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn create(
    platform: web::Data<Platform>,
    auth: MaybeAuth,
    body: web::Json<ApplicationInput>,
) -> Result<HttpResponse, ApiError> {
    let applied = recyclers::apply(&platform.db, auth.0.as_ref(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(applied))
}
