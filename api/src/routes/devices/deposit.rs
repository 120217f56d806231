//! `POST /v1/devices/{device_id}/deposits`.

use actix_web::{HttpRequest, HttpResponse, http::header::ContentType, web};
use wufei_domain::{
    Platform,
    devices::deposit::{self, DepositContext, DepositInput, DepositReceipt, SignedRequest},
    ledger,
};

use crate::problem::{ApiError, Problem};

/// A deposit at a smart device. No bearer token: send `X-Wufei-Timestamp` (unix seconds)
/// and `X-Wufei-Signature` (lowercase hex HMAC-SHA256 of `timestamp + "." + body` under the
/// device's secret), checked over the raw body before it is parsed. `event_id` is unique per
/// device: a repeat credits nothing and answers the first result (header
/// `Idempotent-Replayed: true`). Credits up to the resident's daily cap for the category.
#[utoipa::path(post, path = "/v1/devices/{device_id}/deposits", tag = "devices",
    params(
        ("device_id" = uuid::Uuid, Path, description = "device id"),
        ("X-Wufei-Timestamp" = String, Header, description = "unix seconds"),
        ("X-Wufei-Signature" = String, Header, description = "hex HMAC-SHA256 of timestamp.body")),
    request_body = DepositInput, responses(
    (status = 201, body = DepositReceipt),
    (status = 400, description = "`malformed_json`", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "`device_unknown`, `device_inactive`, `signature_missing`, `signature_invalid`, `timestamp_invalid`, `timestamp_stale`", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`budget_exhausted`, `deposit_in_progress`", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`, `invalid_body`, `category_not_accepted`, `qr_token_expired`, `qr_token_invalid`", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(device_id = %path))]
pub async fn deposit(
    platform: web::Data<Platform>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let rules = ledger::Rules::from_settings(&platform.settings);
    let answer = deposit::deposit(
        DepositContext {
            db: &platform.db,
            keys: platform.auth.keys(),
            device_keys: &platform.device_keys,
            rules: &rules,
            clock_skew_secs: platform.settings.device_clock_skew_secs,
        },
        &path,
        SignedRequest {
            timestamp: header("x-wufei-timestamp"),
            signature: header("x-wufei-signature"),
            body: &body,
        },
    )
    .await?;
    let mut res = HttpResponse::Created();
    res.content_type(ContentType::json());
    if answer.replayed {
        res.insert_header(("idempotent-replayed", "true"));
    }
    Ok(res.body(answer.body))
}
