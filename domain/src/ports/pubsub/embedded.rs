//! In-process pub/sub, for the embedded footprint: one `wufei-api` process holds every
//! WebSocket, so publishing is handing the payload to the local [`Hub`]. It must never be
//! used where several API processes serve clients (each would only reach its own).

use std::sync::Arc;

use async_trait::async_trait;

use super::{Hub, PubSub, Subscription};
use crate::ports::PortError;

/// The pub/sub port in process memory.
#[derive(Debug)]
pub struct EmbeddedPubSub {
    /// The local subscribers.
    hub: Arc<Hub>,
}

impl EmbeddedPubSub {
    /// A pub/sub with no channels.
    pub fn new() -> Self {
        Self { hub: Hub::new() }
    }
}

impl Default for EmbeddedPubSub {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl PubSub for EmbeddedPubSub {
    async fn publish(&self, channel: &str, payload: String) -> Result<(), PortError> {
        self.hub.dispatch(channel, payload);
        Ok(())
    }

    fn subscribe(&self, channel: &str) -> Subscription {
        self.hub.subscribe(channel)
    }

    fn local_channels(&self) -> usize {
        self.hub.len()
    }

    async fn ping(&self) -> Result<(), PortError> {
        Ok(())
    }
}
