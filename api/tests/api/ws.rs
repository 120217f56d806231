//! `GET /v1/ws`: authentication before the upgrade, the hello message, pushes reaching
//! exactly their user, application-level ping/pong, and (PostgreSQL/Redis) a push made on
//! one instance reaching a socket held by another.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};
use uuid::Uuid;
use wufei_domain::realtime;

use crate::{
    helpers::{Footprint, TestApp, assert_problem},
    on_both,
};

pub type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// The headers of a WebSocket upgrade, for plain HTTP requests that test the refusals.
fn upgrade(req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    req.header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
}

/// A socket authenticated by the `access_token` query parameter.
pub async fn open(app: &TestApp, token: &str) -> Socket {
    let (socket, res) = connect_async(app.ws_url(&format!("/v1/ws?access_token={token}")))
        .await
        .expect("websocket upgrade");
    assert_eq!(res.status().as_u16(), 101);
    socket
}

/// The next JSON text message, skipping control frames; fails after five seconds.
pub async fn next_json(socket: &mut Socket) -> Value {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await.expect("socket open").expect("frame") {
                Message::Text(text) => return serde_json::from_str(text.as_str()).expect("json"),
                Message::Ping(_) | Message::Pong(_) => {}
                other => panic!("unexpected frame {other:?}"),
            }
        }
    })
    .await
    .expect("a message within 5 s")
}

/// Asserts that no text message arrives for a little while.
async fn assert_quiet(socket: &mut Socket) {
    let got = tokio::time::timeout(Duration::from_millis(300), socket.next()).await;
    assert!(got.is_err(), "unexpected {got:?}");
}

/// Logs a resident in; returns the access token and user id.
async fn resident(app: &TestApp, openid: &str) -> (String, Uuid) {
    let pair = app.wechat_login(openid).await;
    let token = pair["access_token"].as_str().unwrap().to_string();
    let id = pair["user"]["id"].as_str().unwrap().parse().unwrap();
    (token, id)
}

async fn upgrades_without_a_valid_token_are_refused_with_401(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let res = upgrade(app.client.get(app.url("/v1/ws")))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;

    let res = upgrade(app.client.get(app.url("/v1/ws?access_token=forged")))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNAUTHORIZED, "token_invalid").await;

    let res = upgrade(app.client.get(app.url("/v1/ws")).bearer_auth("forged"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNAUTHORIZED, "token_invalid").await;

    // A real client sees the refusal as a failed handshake.
    let refused = connect_async(app.ws_url("/v1/ws")).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status().as_u16(), 401)
        }
        other => panic!("expected a 401 handshake failure, got {other:?}"),
    }
}
on_both!(
    ws_refuses_missing_tokens,
    super::upgrades_without_a_valid_token_are_refused_with_401
);

async fn a_plain_get_with_a_token_is_told_to_upgrade(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let (token, _) = resident(&app, "openid-ws-plain").await;
    let res = app.get("/v1/ws", Some(&token)).await;
    assert_problem(res, StatusCode::BAD_REQUEST, "websocket_upgrade_required").await;
}
on_both!(
    ws_needs_an_upgrade,
    super::a_plain_get_with_a_token_is_told_to_upgrade
);

async fn a_connected_client_is_greeted_with_hello(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let (token, id) = resident(&app, "openid-ws-hello").await;

    let mut socket = open(&app, &token).await;
    let hello = next_json(&mut socket).await;
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["data"], json!({ "user_id": id, "role": "resident" }));
    assert!(chrono::DateTime::parse_from_rfc3339(hello["at"].as_str().unwrap()).is_ok());

    // The Authorization header works as well as the query parameter.
    let mut req = app.ws_url("/v1/ws").into_client_request().unwrap();
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    let (mut by_header, _) = connect_async(req).await.expect("upgrade");
    assert_eq!(next_json(&mut by_header).await["type"], "hello");
}
on_both!(
    ws_says_hello,
    super::a_connected_client_is_greeted_with_hello
);

async fn a_push_reaches_its_users_sockets_and_nobody_elses(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let (alice_token, alice) = resident(&app, "openid-ws-alice").await;
    let (bob_token, bob) = resident(&app, "openid-ws-bob").await;
    let mut alice_phone = open(&app, &alice_token).await;
    let mut alice_tablet = open(&app, &alice_token).await;
    let mut bob_phone = open(&app, &bob_token).await;
    for socket in [&mut alice_phone, &mut alice_tablet, &mut bob_phone] {
        assert_eq!(next_json(socket).await["type"], "hello");
    }

    let data = json!({ "pickup_id": Uuid::nil(), "status": "accepted" });
    realtime::push(&*app.platform.pubsub, alice, "pickup_updated", data.clone())
        .await
        .unwrap();

    for socket in [&mut alice_phone, &mut alice_tablet] {
        let msg = next_json(socket).await;
        assert_eq!(msg["type"], "pickup_updated");
        assert_eq!(msg["data"], data);
        assert!(msg["at"].is_string());
    }
    assert_quiet(&mut bob_phone).await;

    // Bob's socket works; it just was not his message.
    realtime::push(&*app.platform.pubsub, bob, "offer", json!({ "n": 1 }))
        .await
        .unwrap();
    assert_eq!(next_json(&mut bob_phone).await["type"], "offer");
    assert_quiet(&mut alice_phone).await;
}
on_both!(
    ws_pushes_reach_only_their_user,
    super::a_push_reaches_its_users_sockets_and_nobody_elses
);

async fn a_client_ping_is_answered_with_pong(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let (token, _) = resident(&app, "openid-ws-ping").await;
    let mut socket = open(&app, &token).await;
    assert_eq!(next_json(&mut socket).await["type"], "hello");

    socket
        .send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    let pong = next_json(&mut socket).await;
    assert_eq!(pong["type"], "pong");

    // Anything else is ignored, and the connection stays up.
    socket.send(Message::text("hello?")).await.unwrap();
    socket
        .send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    assert_eq!(next_json(&mut socket).await["type"], "pong");

    // A protocol-level ping is answered too, and a close is returned.
    socket
        .send(Message::Ping(b"hi".to_vec().into()))
        .await
        .unwrap();
    let pong = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(pong, Message::Pong(b"hi".to_vec().into()));
    socket.close(None).await.unwrap();
    let after = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .expect("the server answers the close");
    assert!(
        matches!(after, None | Some(Ok(Message::Close(_)))),
        "{after:?}"
    );
}
on_both!(ws_ping_pong, super::a_client_ping_is_answered_with_pong);

/// Two API instances of one deployment: a socket held by B receives what a service on A
/// pushes — the fan-out through Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_on_one_instance_reaches_a_socket_on_another() {
    if crate::helpers::production_env().is_none() {
        eprintln!(
            "skipped: ws cross-instance on PostgreSQL/Redis (set WUFEI_TEST_DATABASE_URL and WUFEI_TEST_REDIS_URL)"
        );
        return;
    }
    let a = TestApp::spawn(Footprint::Production).await;
    let b = a.spawn_beside().await;
    let (token, id) = resident(&a, "openid-ws-cross").await;

    let mut on_b = open(&b, &token).await;
    assert_eq!(next_json(&mut on_b).await["type"], "hello");
    realtime::push(&*a.platform.pubsub, id, "offer", json!({ "from": "a" }))
        .await
        .unwrap();
    let msg = next_json(&mut on_b).await;
    assert_eq!(msg["type"], "offer");
    assert_eq!(msg["data"], json!({ "from": "a" }));
}
