//! `Idempotency-Key` for any POST: wrap the resource with [`idempotent`]. The first request
//! with a key runs and its response is recorded against the caller and the key; a repeat
//! with the same body replays it (with `Idempotent-Replayed: true`); the same key with
//! another body is 422; a repeat while the first still runs is 409. Without the header
//! requests pass through untouched.

use actix_web::{
    Error, HttpMessage,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{StatusCode, header},
    middleware::Next,
    web,
};
use futures::StreamExt;
use wufei_domain::{
    Platform,
    idempotency::{self, Begin, StoredResponse},
};

use crate::{
    middleware::{AuthState, client_addr},
    problem::ApiError,
};

/// The header clients send.
pub const HEADER: &str = "idempotency-key";

/// Middleware for resources whose POSTs create or move value.
pub async fn idempotent(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let key = match req.headers().get(HEADER).map(|v| v.to_str()) {
        None => return Ok(next.call(req).await?.map_into_boxed_body()),
        Some(Ok(v)) => v.to_string(),
        Some(Err(_)) => {
            return Ok(
                req.error_response(ApiError::from(wufei_domain::Error::BadRequest {
                    code: "invalid_idempotency_key",
                    message: "Idempotency-Key must be visible ASCII".into(),
                })),
            );
        }
    };
    let Some(platform) = req.app_data::<web::Data<Platform>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let caller = match req.extensions().get::<AuthState>() {
        Some(AuthState::Valid(p)) => format!("user:{}", p.user_id),
        _ => format!(
            "client:{}",
            client_addr(req.request(), platform.settings.trust_forwarded_for)
        ),
    };
    // Buffer the body (bounded) to fingerprint it, then hand it on.
    let limit = platform.settings.max_upload_bytes + 64 * 1024;
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return Ok(req.error_response(ApiError::edge(
                StatusCode::BAD_REQUEST,
                "malformed_body",
                "the request body could not be read",
            )));
        };
        if body.len() + chunk.len() > limit {
            return Ok(req.error_response(ApiError::edge(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the request body is too large",
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let hash = idempotency::fingerprint(req.method().as_str(), &path, &body);
    match idempotency::begin(&platform.db, &caller, &key, &hash).await {
        Err(e) => return Ok(req.error_response(ApiError::from(e))),
        Ok(Begin::Replay(stored)) => {
            let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
            let res = actix_web::HttpResponse::build(status)
                .insert_header((header::CONTENT_TYPE, stored.content_type))
                .insert_header(("idempotent-replayed", "true"))
                .body(stored.body);
            return Ok(req.into_response(res));
        }
        Ok(Begin::Proceed) => {}
    }
    req.set_payload(actix_http::Payload::from(body));
    let res = match next.call(req).await {
        Ok(res) => res,
        Err(err) => {
            let _ = idempotency::abandon(&platform.db, &caller, &key).await;
            return Err(err);
        }
    };
    let status = res.status();
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let (http_req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let Ok(bytes) = actix_web::body::to_bytes(body).await else {
        let _ = idempotency::abandon(&platform.db, &caller, &key).await;
        let failure = ApiError::edge(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the response could not be produced",
        );
        return Ok(ServiceResponse::new(
            http_req,
            actix_web::ResponseError::error_response(&failure),
        ));
    };
    if status.is_server_error() {
        let _ = idempotency::abandon(&platform.db, &caller, &key).await;
    } else if let Err(e) = idempotency::complete(
        &platform.db,
        &caller,
        &key,
        StoredResponse {
            status: status.as_u16(),
            content_type,
            body: bytes.to_vec(),
        },
    )
    .await
    {
        // The work is done and answered; failing to record it only costs replay protection.
        tracing::error!(error = %e, "could not record the idempotent response");
    }
    Ok(ServiceResponse::new(
        http_req,
        head.set_body(bytes).map_into_boxed_body(),
    ))
}
