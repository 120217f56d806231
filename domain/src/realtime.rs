//! Real-time pushes to signed-in clients: what services call when something a user is
//! watching changes (an offer for a recycler, a status change for a resident). The API's
//! `GET /v1/ws` forwards each push on channel `user:{user_id}` to that user's sockets, on
//! whichever instance holds them.
//!
//! A push is a hint, not a record: it is delivered at most once, only to sockets open at
//! that moment (see [`crate::ports::pubsub`]). Anything the user must eventually see is in
//! the database first and readable over REST; a reconnecting client refetches from there.
//! Push after the transaction that made the change has committed, never inside it, so a
//! client that refetches on a push sees the change.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::ports::{PortError, pubsub::PubSub};

/// The JSON every WebSocket message has: `{ "type", "data", "at" }`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Envelope<'a> {
    /// What happened: `hello`, `pong`, `offer`, `offer_withdrawn`, `pickup_updated` …
    #[serde(rename = "type")]
    pub kind: &'a str,
    /// The details; their shape depends on `type`.
    pub data: serde_json::Value,
    /// When the message was made, RFC 3339 UTC with milliseconds.
    pub at: String,
}

impl<'a> Envelope<'a> {
    /// A message of `kind` made now.
    pub fn new(kind: &'a str, data: serde_json::Value) -> Self {
        Self::made_at(kind, data, Utc::now())
    }

    /// A message of `kind` made at `at`.
    pub fn made_at(kind: &'a str, data: serde_json::Value, at: DateTime<Utc>) -> Self {
        Self {
            kind,
            data,
            at: at.to_rfc3339_opts(SecondsFormat::Millis, true),
        }
    }

    /// The message as JSON text, ready for a text frame.
    pub fn to_json(&self) -> String {
        // Serialising a struct of a str, a `Value` and a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The pub/sub channel a user's sockets listen on.
pub fn user_channel(user_id: Uuid) -> String {
    format!("user:{user_id}")
}

/// Sends `{ "type": kind, "data": data, "at": now }` to every socket `user_id` has open,
/// on any API instance. Succeeds when the user has none.
#[tracing::instrument(skip(pubsub, data), fields(%user_id, kind))]
pub async fn push(
    pubsub: &dyn PubSub,
    user_id: Uuid,
    kind: &str,
    data: serde_json::Value,
) -> Result<(), PortError> {
    let message = Envelope::new(kind, data).to_json();
    pubsub.publish(&user_channel(user_id), message).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // a failed expectation is a failed test
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ports::pubsub::embedded::EmbeddedPubSub;

    #[test]
    fn the_envelope_is_type_data_and_an_rfc3339_time() {
        let at = DateTime::parse_from_rfc3339("2025-03-01T08:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let text =
            Envelope::made_at("pickup_updated", json!({ "status": "accepted" }), at).to_json();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            json!({
                "type": "pickup_updated",
                "data": { "status": "accepted" },
                "at": "2025-03-01T08:30:00.000Z"
            })
        );
    }

    #[tokio::test]
    async fn push_reaches_only_that_users_channel() {
        let ps = EmbeddedPubSub::new();
        let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let mut to_alice = ps.subscribe(&user_channel(alice));
        let mut to_bob = ps.subscribe(&user_channel(bob));

        push(&ps, alice, "offer", json!({ "pickup_id": 1 }))
            .await
            .unwrap();

        let got: serde_json::Value = serde_json::from_str(&to_alice.recv().await.unwrap()).unwrap();
        assert_eq!(got["type"], "offer");
        assert_eq!(got["data"], json!({ "pickup_id": 1 }));
        assert!(DateTime::parse_from_rfc3339(got["at"].as_str().unwrap()).is_ok());
        let nothing =
            tokio::time::timeout(std::time::Duration::from_millis(50), to_bob.recv()).await;
        assert!(nothing.is_err());
    }
}
