//! `GET /v1/ws`: the real-time channel. After authenticating the upgrade request it
//! forwards every push for the caller (pub/sub channel `user:{user_id}`, see
//! `wufei_domain::realtime`) as a text frame, keeps the connection alive with pings, and
//! answers the client's application-level pings.
//!
//! The socket only carries hints: it never accepts commands that change anything (those
//! go over REST, with idempotency keys), and it never replays what was pushed while the
//! client was away.

use std::time::Duration;

use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, http::StatusCode, web};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use wufei_domain::{
    Platform,
    auth::Principal,
    ports::pubsub::Subscription,
    realtime::{Envelope, user_channel},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// How often the server pings an idle client.
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// A connection from which nothing (pong, ping, message) arrives for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest message a client may send; clients only send small pings.
const MAX_CLIENT_MESSAGE: usize = 16 * 1024;

/// Cancelled when the server begins shutting down, so open sockets close with 1001
/// ("going away") instead of being cut when the grace period ends.
#[derive(Debug, Clone, Default)]
pub struct Closing(pub CancellationToken);

/// Query of `GET /v1/ws`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WsQuery {
    /// The access token, for clients that cannot set headers on a WebSocket upgrade
    /// (browsers, WeChat mini-programs). `Authorization: Bearer` works too.
    pub access_token: Option<String>,
}

/// Opens the real-time WebSocket.
///
/// Authenticate with the query parameter `access_token` or `Authorization: Bearer`; a
/// missing, expired or forged token is refused with 401 before the upgrade.
///
/// Every server message is a JSON text frame `{ "type": "...", "data": {...}, "at":
/// "<RFC 3339>" }`. The first is `hello` with `data: { user_id, role }`; then, as they
/// happen, `offer`, `offer_withdrawn`, `pickup_updated` and others (new types may appear;
/// ignore those you do not know). A client may send `{"type":"ping"}` and gets
/// `{"type":"pong"}`; other client messages are ignored. The server pings every 20 s and
/// closes a connection that has sent nothing (not even a pong) for 60 s; on shutdown it
/// closes with code 1001.
///
/// Pushes are not stored: a client that reconnects must refetch what it shows (its
/// pickups, offers, notifications) over REST to catch up on what it missed.
#[utoipa::path(get, path = "/v1/ws", tag = "realtime", operation_id = "connect_websocket", params(WsQuery),
    security(("bearer" = [])),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol; messages as described above"),
        (status = 400, body = Problem, content_type = "application/problem+json",
            description = "Not a WebSocket upgrade request"),
        (status = 401, body = Problem, content_type = "application/problem+json",
            description = "No valid access token")))]
#[tracing::instrument(skip_all)]
pub async fn connect(
    req: HttpRequest,
    body: web::Payload,
    query: web::Query<WsQuery>,
    platform: web::Data<Platform>,
    closing: Option<web::Data<Closing>>,
) -> Result<HttpResponse, ApiError> {
    let principal = match query.into_inner().access_token {
        Some(token) => platform.auth.authenticate(&token)?,
        None => Auth::from_request(&req, &mut Payload::None).await?.0,
    };
    let (response, session, stream) = actix_ws::handle(&req, body).map_err(|_| {
        ApiError::edge(
            StatusCode::BAD_REQUEST,
            "websocket_upgrade_required",
            "this endpoint speaks WebSocket only; send an upgrade request",
        )
    })?;
    tracing::info!(user_id = %principal.user_id, "websocket opened");
    let pushes = platform.pubsub.subscribe(&user_channel(principal.user_id));
    let stream = stream
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .aggregate_continuations()
        .max_continuation_size(MAX_CLIENT_MESSAGE);
    let closing = closing.map(|c| c.0.clone()).unwrap_or_default();
    actix_web::rt::spawn(serve(principal, session, stream, pushes, closing));
    Ok(response)
}

/// Why the server ends a connection.
enum End {
    /// The client closed, or the connection broke: nothing more to send.
    Gone,
    /// Close with this reason.
    Close(CloseReason),
}

fn close(code: CloseCode, description: &str) -> End {
    End::Close(CloseReason {
        code,
        description: Some(description.to_string()),
    })
}

/// Runs one connection until it ends.
async fn serve(
    principal: Principal,
    mut session: Session,
    mut stream: actix_ws::AggregatedMessageStream,
    mut pushes: Subscription,
    closing: CancellationToken,
) {
    let user_id = principal.user_id;
    let hello = Envelope::new(
        "hello",
        json!({ "user_id": principal.user_id, "role": principal.role }),
    );
    let end = if session.text(hello.to_json()).await.is_err() {
        End::Gone
    } else {
        run(&mut session, &mut stream, &mut pushes, &closing).await
    };
    if let End::Close(reason) = end {
        tracing::info!(%user_id, code = ?reason.code, "websocket closed by the server");
        let _ = session.close(Some(reason)).await;
    } else {
        tracing::info!(%user_id, "websocket closed by the client");
    }
}

/// The connection's loop: pushes out, client messages in, pings, the idle deadline.
async fn run(
    session: &mut Session,
    stream: &mut actix_ws::AggregatedMessageStream,
    pushes: &mut Subscription,
    closing: &CancellationToken,
) -> End {
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            () = closing.cancelled() => return close(CloseCode::Away, "server shutting down"),
            () = tokio::time::sleep_until(last_heard + IDLE_TIMEOUT) => {
                return close(CloseCode::Policy, "no traffic for 60 s");
            }
            _ = ping.tick() => {
                if session.ping(b"").await.is_err() {
                    return End::Gone;
                }
            }
            push = pushes.recv() => match push {
                Some(text) => {
                    if session.text(text).await.is_err() {
                        return End::Gone;
                    }
                }
                None => return close(CloseCode::Away, "server shutting down"),
            },
            msg = stream.recv() => {
                last_heard = Instant::now();
                match msg {
                    None => return End::Gone,
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "websocket protocol error");
                        return close(CloseCode::Protocol, "protocol error");
                    }
                    Some(Ok(AggregatedMessage::Close(reason))) => {
                        let _ = session.clone().close(reason).await;
                        return End::Gone;
                    }
                    Some(Ok(AggregatedMessage::Ping(bytes))) => {
                        if session.pong(&bytes).await.is_err() {
                            return End::Gone;
                        }
                    }
                    Some(Ok(AggregatedMessage::Text(text))) => {
                        if is_ping(&text) {
                            let pong = Envelope::new("pong", json!({})).to_json();
                            if session.text(pong).await.is_err() {
                                return End::Gone;
                            }
                        }
                    }
                    Some(Ok(AggregatedMessage::Pong(_) | AggregatedMessage::Binary(_))) => {}
                }
            }
        }
    }
}

/// Whether a client's text frame is `{"type":"ping"}` (with any other fields).
fn is_ping(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .is_ok_and(|v| v.get("type").and_then(|t| t.as_str()) == Some("ping"))
}

#[cfg(test)]
mod tests {
    use super::is_ping;

    #[test]
    fn only_a_json_object_of_type_ping_is_a_ping() {
        assert!(is_ping(r#"{"type":"ping"}"#));
        assert!(is_ping(r#"{ "type": "ping", "id": 3 }"#));
        assert!(!is_ping("ping"));
        assert!(!is_ping(r#"{"type":"pong"}"#));
        assert!(!is_ping("[1,2]"));
    }
}

/// Registers the WebSocket route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/ws").route(web::get().to(connect)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(connect,))]
pub struct Api;
