//! Extractors: the authenticated principal, the client's address, and role guards.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};
use wufei_domain::{
    Error,
    auth::{Principal, Role},
};

use crate::{middleware::AuthState, problem::ApiError};

/// The caller, who must be signed in (401 otherwise).
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.extensions().get::<AuthState>() {
            Some(AuthState::Valid(p)) => Ok(Auth(p.clone())),
            Some(AuthState::Invalid(code, message)) => {
                Err(Error::unauthenticated(code, message.clone()).into())
            }
            None => Err(Error::unauthenticated(
                "unauthenticated",
                "sign in and send Authorization: Bearer <access_token>",
            )
            .into()),
        })
    }
}

/// The caller if signed in; an invalid token is still refused (401), so a client learns
/// that its token expired instead of silently acting anonymously.
#[derive(Debug, Clone)]
pub struct MaybeAuth(pub Option<Principal>);

impl FromRequest for MaybeAuth {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.extensions().get::<AuthState>() {
            Some(AuthState::Valid(p)) => Ok(MaybeAuth(Some(p.clone()))),
            Some(AuthState::Invalid(code, message)) => {
                Err(Error::unauthenticated(code, message.clone()).into())
            }
            None => Ok(MaybeAuth(None)),
        })
    }
}

/// An administrator of any scope (403 otherwise).
#[derive(Debug, Clone)]
pub struct Admin(pub Principal);

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(
            Auth::from_request(req, payload)
                .into_inner()
                .and_then(|Auth(p)| {
                    p.require_role(&[Role::Admin])?;
                    Ok(Admin(p))
                }),
        )
    }
}

/// The client's address as the rate limiter and login throttle see it.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl FromRequest for ClientAddr {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trust = req
            .app_data::<actix_web::web::Data<wufei_domain::Platform>>()
            .is_some_and(|p| p.settings.trust_forwarded_for);
        let addr = crate::middleware::client_addr(req, trust);
        ready(Ok(ClientAddr(addr)))
    }
}

/// An optional JSON body: an empty (or blank) body is `T::default()`; malformed JSON is a
/// 400 `malformed_json`, JSON of the wrong shape a 422 `invalid_body`.
pub fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        let (status, code) = if e.is_data() {
            (
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
            )
        } else {
            (actix_web::http::StatusCode::BAD_REQUEST, "malformed_json")
        };
        ApiError::edge(status, code, format!("the body could not be read: {e}"))
    })
}
