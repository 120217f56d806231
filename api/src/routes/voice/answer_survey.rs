//! `POST /v1/surveys/satisfaction`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    voice::satisfaction::{self, AnswerView, NewAnswer},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Answers this quarter's satisfaction survey (满意度): five scores 1–5 for the caller's
/// district. Once per account per quarter.
#[utoipa::path(post, path = "/v1/surveys/satisfaction", tag = "disclosure", security(("bearer" = [])), request_body = NewAnswer,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 201, body = AnswerView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn answer_survey(
    platform: web::Data<Platform>,
    auth: Auth,
    body: web::Json<NewAnswer>,
) -> Result<HttpResponse, ApiError> {
    let value = satisfaction::answer(&platform.db, &auth.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(value))
}
