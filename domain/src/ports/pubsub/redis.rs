//! Redis pub/sub, for the production footprint: a message published on any instance
//! reaches the subscribers on every instance.
//!
//! Publishing is `PUBLISH {prefix}:ps:{origin}/{channel}` (below) over a reconnecting
//! connection (one per HTTP worker thread in wufei-api, see
//! [`crate::Platform::on_this_thread`]).
//! Receiving is **one** dedicated connection per process holding `PSUBSCRIBE
//! {prefix}:ps:*`, whose messages a background task hands to the local [`Hub`]; so ten
//! thousand WebSockets on an instance cost one Redis connection, and subscribing or
//! unsubscribing a socket never talks to Redis. Every instance receives every message of
//! the deployment and drops those nobody local listens to — a few hundred small messages a
//! second at city scale, far below what one connection carries. (Per-channel
//! `SUBSCRIBE`s would cut that traffic at the price of a Redis round trip per socket and
//! resubscribing thousands of channels after each reconnect.)
//!
//! A publish is handed to this process's own subscribers at once, then sent to Redis for
//! the other instances: a recycler whose socket is on the instance that made their offer
//! gets it without a round trip to Redis and back (a third of a millisecond of a dispatch's
//! p50, measured in `load-tests/`). Each message travels on
//! `{prefix}:ps:{origin}/{channel}`, where `origin` is a random id of the publishing port
//! (one per process; its clones share it), and the listener drops the messages of its own
//! origin, so a local subscriber gets each message once. Messages one publisher sends one
//! after another reach every subscriber in that order; two instances' messages have no
//! order between them (see the port). A message on `{prefix}:ps:{channel}` (a
//! publisher without an origin, such as an instance of an earlier version during a rolling
//! deploy) is delivered as before; an earlier version's listener drops ours, as the port's
//! at-most-once contract allows.
//!
//! When the subscription connection drops (or stops answering the periodic `PING`), the
//! task logs it, backs off (100 ms doubling to 5 s) and subscribes again; messages
//! published in the gap are lost, as the port's contract allows. The task stops when the
//! [`RedisPubSub`] is dropped.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use redis::aio::PubSub as RedisConnection;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::{Hub, PubSub, Subscription};
use crate::ports::{PortError, redis_conn::RedisConn};

/// How often the subscription connection is checked with a `PING`.
const PING_EVERY: Duration = Duration::from_secs(15);
/// How long a `PING` may take before the connection is presumed dead.
const PING_TIMEOUT: Duration = Duration::from_secs(5);
/// First wait before resubscribing; doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between resubscription attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The pub/sub port on Redis. Its clones share the subscription and the local subscribers.
#[derive(Clone)]
pub struct RedisPubSub {
    /// Publishes.
    conn: RedisConn,
    /// The local subscribers, fed by the listener task and by local publishes.
    hub: Arc<Hub>,
    /// `{prefix}:ps:{origin}/`: what this process's messages are published under.
    publish_prefix: Arc<str>,
    /// Stops the listener task when the last clone is dropped.
    _stop: Arc<DropGuard>,
}

impl std::fmt::Debug for RedisPubSub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisPubSub")
            .field("publish_prefix", &self.publish_prefix)
            .finish_non_exhaustive()
    }
}

impl RedisPubSub {
    /// Publishes over `conn`, subscribes to the pattern on a connection of its own, and
    /// starts the listener. Fails if Redis cannot be reached now; later outages are ridden
    /// out.
    pub async fn connect(
        client: redis::Client,
        conn: RedisConn,
        prefix: String,
    ) -> Result<Self, PortError> {
        let channel_prefix = format!("{prefix}:ps:");
        let origin = uuid::Uuid::new_v4().simple().to_string();
        let publish_prefix: Arc<str> = format!("{channel_prefix}{origin}/").into();
        let pattern = format!("{}*", glob_escape(&channel_prefix));
        let first = subscribe(&client, &pattern).await?;
        let hub = Hub::new();
        let stop = CancellationToken::new();
        tokio::spawn(listen(
            Listener {
                client,
                pattern,
                channel_prefix,
                origin,
                hub: Arc::clone(&hub),
                stop: stop.clone(),
            },
            first,
        ));
        Ok(Self {
            conn,
            hub,
            publish_prefix,
            _stop: Arc::new(stop.drop_guard()),
        })
    }

    /// This port publishing over another connection to the same Redis (see
    /// [`crate::Platform::on_this_thread`]); it shares the subscription and the local
    /// subscribers.
    pub fn publishing_over(&self, conn: RedisConn) -> Self {
        Self {
            conn,
            ..self.clone()
        }
    }
}

/// `s` with the glob characters of `PSUBSCRIBE` escaped, so a prefix matches literally.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `{origin}/{channel}` split in two, or `None` when `rest` does not start with an origin
/// (32 lowercase hex digits and a slash): a message from a publisher without one.
fn split_origin(rest: &str) -> Option<(&str, &str)> {
    let (origin, channel) = rest.split_at_checked(32)?;
    let channel = channel.strip_prefix('/')?;
    origin
        .bytes()
        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        .then_some((origin, channel))
}

/// A fresh connection subscribed to `pattern`.
async fn subscribe(client: &redis::Client, pattern: &str) -> redis::RedisResult<RedisConnection> {
    let mut conn = client.get_async_pubsub().await?;
    conn.psubscribe(pattern).await?;
    Ok(conn)
}

/// What the listener task needs.
struct Listener {
    client: redis::Client,
    pattern: String,
    channel_prefix: String,
    /// This process's origin id; its messages were delivered locally when published.
    origin: String,
    hub: Arc<Hub>,
    stop: CancellationToken,
}

impl Listener {
    /// Hands one Redis message to the local subscribers.
    fn dispatch(&self, msg: &redis::Msg) {
        let Some(rest) = msg.get_channel_name().strip_prefix(&self.channel_prefix) else {
            return;
        };
        let channel = match split_origin(rest) {
            Some((origin, _)) if origin == self.origin => return,
            Some((_, channel)) => channel,
            None => rest,
        };
        match msg.get_payload::<String>() {
            Ok(payload) => {
                self.hub.dispatch(channel, payload);
            }
            Err(e) => tracing::warn!(%channel, error = %e, "pub/sub payload is not text; dropped"),
        }
    }

    /// Waits `d`, or returns `false` at once if the port is being dropped.
    async fn pause(&self, d: Duration) -> bool {
        tokio::select! {
            () = self.stop.cancelled() => false,
            () = tokio::time::sleep(d) => true,
        }
    }

    /// Serves one connection until it fails (`Some(reason)`) or the port is dropped.
    async fn serve(&self, conn: RedisConnection) -> Option<String> {
        let (mut sink, mut stream) = conn.split();
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = self.stop.cancelled() => return None,
                msg = stream.next() => match msg {
                    Some(msg) => self.dispatch(&msg),
                    None => return Some("connection closed".into()),
                },
                _ = ping.tick() => {
                    match tokio::time::timeout(PING_TIMEOUT, sink.ping::<redis::Value>()).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => return Some(format!("ping failed: {e}")),
                        Err(_) => return Some("ping timed out".into()),
                    }
                }
            }
        }
    }
}

/// The listener task: serve the connection, and on failure resubscribe with back-off.
async fn listen(listener: Listener, first: RedisConnection) {
    let mut conn = Some(first);
    let mut backoff = MIN_BACKOFF;
    loop {
        let current = match conn.take() {
            Some(c) => c,
            None => {
                let attempt = tokio::select! {
                    () = listener.stop.cancelled() => return,
                    r = subscribe(&listener.client, &listener.pattern) => r,
                };
                match attempt {
                    Ok(c) => {
                        tracing::info!(pattern = %listener.pattern, "redis pub/sub resubscribed");
                        backoff = MIN_BACKOFF;
                        c
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, retry_in_ms = backoff.as_millis(), "redis pub/sub reconnect failed");
                        if !listener.pause(backoff).await {
                            return;
                        }
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        continue;
                    }
                }
            }
        };
        let Some(reason) = listener.serve(current).await else {
            return;
        };
        tracing::warn!(%reason, retry_in_ms = backoff.as_millis(), "redis pub/sub connection lost; resubscribing");
        if !listener.pause(backoff).await {
            return;
        }
    }
}

#[async_trait]
impl PubSub for RedisPubSub {
    async fn publish(&self, channel: &str, payload: String) -> Result<(), PortError> {
        self.hub.dispatch_copy(channel, &payload);
        let mut conn = self.conn.clone();
        redis::cmd("PUBLISH")
            .arg(format!("{}{channel}", self.publish_prefix))
            .arg(payload)
            .query_async::<i64>(&mut conn)
            .await?;
        Ok(())
    }

    fn subscribe(&self, channel: &str) -> Subscription {
        self.hub.subscribe(channel)
    }

    fn local_channels(&self) -> usize {
        self.hub.len()
    }

    async fn ping(&self) -> Result<(), PortError> {
        let mut conn = self.conn.clone();
        redis::cmd("PING").query_async::<()>(&mut conn).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{glob_escape, split_origin};

    #[test]
    fn a_channel_is_split_from_its_origin() {
        let origin = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            split_origin(&format!("{origin}/user:1")),
            Some((origin, "user:1"))
        );
        assert_eq!(
            split_origin(&format!("{origin}/a/b")),
            Some((origin, "a/b"))
        );
        assert_eq!(split_origin(&format!("{origin}/")), Some((origin, "")));
        // Publishers without an origin: the whole rest is the channel.
        assert_eq!(split_origin("user:1"), None);
        assert_eq!(split_origin(&format!("{origin}user:1")), None);
        assert_eq!(split_origin(&format!("{}/x", origin.to_uppercase())), None);
        assert_eq!(
            split_origin("城市/城市/城市/城市/城市/城市/城市/城市/城市/x"),
            None
        );
    }

    #[test]
    fn glob_characters_in_a_prefix_are_escaped() {
        assert_eq!(glob_escape("wufei:ps:"), "wufei:ps:");
        assert_eq!(glob_escape(r"a*b?[c]\d"), r"a\*b\?\[c\]\\d");
    }
}
