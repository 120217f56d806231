//! `POST /v1/admin/communities`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    catalog::areas::{self, AdminCommunityView, NewCommunity},
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Adds a community to a district (its own administrator or a super administrator).
/// Audited.
#[utoipa::path(post, path = "/v1/admin/communities", tag = "admin", security(("bearer" = [])),
    request_body = NewCommunity, responses(
    (status = 201, body = AdminCommunityView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`community_name_taken` in that district", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %admin.0.user_id))]
pub async fn create(
    platform: web::Data<Platform>,
    admin: Admin,
    body: web::Json<NewCommunity>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created()
        .json(areas::create_community(&platform.db, &admin.0, body.into_inner()).await?))
}
