//! The pub/sub port: fan-out of real-time messages (offers, pickup updates) to whichever
//! API instance holds the recipient's WebSocket. Publishers never wait for subscribers.
//!
//! Delivery is **at most once and best effort**: a message published while nobody on any
//! instance listens to its channel, or while an instance is reconnecting to Redis, is gone.
//! That is the contract real-time clients are built on: the database is the truth, a push
//! is a hint to refresh, and a client that (re)connects fetches what it missed over REST.
//! Never put anything here that must not be lost; that belongs in the outbox.
//!
//! Order: what one publisher sends one after another reaches each subscriber in that
//! order. Messages of two instances have no order between them (a subscriber on one may
//! hear its own instance's message before the other's, sent a fraction of a millisecond
//! earlier and still on its way). Pushes about one pickup that come from different
//! instances follow one another at a person's pace (an offer, then its withdrawal when
//! another recycler accepts), and a client that needs the state reads it over REST.
//!
//! Both adapters deliver through one in-process [`Hub`] (channel → `tokio::sync::broadcast`
//! sender, created on first subscription, pruned when the last subscriber leaves): the
//! embedded adapter publishes into it directly, the Redis adapter directly for its own
//! process's subscribers and through one pattern subscription per process for everyone
//! else's. A subscriber that falls more than [`CHANNEL_CAPACITY`]
//! messages behind skips the oldest (and [`Subscription::missed`] counts them) rather than
//! holding anybody up.
//!
//! Adapters: [`embedded::EmbeddedPubSub`] and [`redis::RedisPubSub`].

pub mod embedded;
pub mod redis;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use tokio::sync::broadcast::{self, error::RecvError};

use super::PortError;

/// How many messages a subscriber may fall behind before it starts skipping.
pub const CHANNEL_CAPACITY: usize = 256;

/// The pub/sub port.
#[async_trait]
pub trait PubSub: Send + Sync + 'static {
    /// Sends `payload` to every current subscriber of `channel` on every instance. Succeeds
    /// when nobody listens. Channel names are any text (`user:{uuid}` by convention).
    async fn publish(&self, channel: &str, payload: String) -> Result<(), PortError>;

    /// Starts receiving what is published on `channel` from now on. Never fails: if the
    /// backend is unreachable, messages flow once it is back.
    fn subscribe(&self, channel: &str) -> Subscription;

    /// How many channels have subscribers in this process (a gauge; tests check pruning).
    fn local_channels(&self) -> usize;

    /// Whether the backend answers.
    async fn ping(&self) -> Result<(), PortError>;
}

/// A stream of the payloads published on one channel. Dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription {
    /// Always `Some` until dropped; taken in `drop` so the channel can be pruned after.
    rx: Option<broadcast::Receiver<String>>,
    /// Where to prune from.
    hub: Arc<Hub>,
    /// The channel.
    channel: String,
    /// Messages skipped because this subscriber lagged.
    missed: u64,
}

impl Subscription {
    /// The next payload, waiting as long as it takes. Lagging skips ahead to the oldest
    /// message still held (see [`Self::missed`]). `None` only once the port is gone.
    pub async fn recv(&mut self) -> Option<String> {
        let rx = self.rx.as_mut()?;
        loop {
            match rx.recv().await {
                Ok(payload) => return Some(payload),
                Err(RecvError::Lagged(skipped)) => {
                    self.missed = self.missed.saturating_add(skipped);
                    tracing::warn!(channel = %self.channel, skipped, "slow subscriber skipped messages");
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// How many messages this subscriber skipped because it fell behind.
    pub fn missed(&self) -> u64 {
        self.missed
    }

    /// The channel subscribed to.
    pub fn channel(&self) -> &str {
        &self.channel
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        drop(self.rx.take());
        self.hub.prune(&self.channel);
    }
}

/// Channel → local subscribers, shared by both adapters.
#[derive(Debug, Default)]
pub(crate) struct Hub {
    /// One broadcast sender per channel with at least one live receiver (or one that has
    /// just gone and is about to be pruned).
    channels: Mutex<HashMap<String, broadcast::Sender<String>>>,
}

impl Hub {
    /// A new hub.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The map, taking over a poisoned lock: it is only mutated by single calls.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, broadcast::Sender<String>>> {
        self.channels.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new subscription to `channel`.
    pub(crate) fn subscribe(self: &Arc<Self>, channel: &str) -> Subscription {
        let rx = {
            let mut channels = self.lock();
            match channels.get(channel) {
                Some(tx) => tx.subscribe(),
                None => {
                    let (tx, rx) = broadcast::channel(CHANNEL_CAPACITY);
                    channels.insert(channel.to_owned(), tx);
                    rx
                }
            }
        };
        Subscription {
            rx: Some(rx),
            hub: Arc::clone(self),
            channel: channel.to_owned(),
            missed: 0,
        }
    }

    /// Hands `payload` to the local subscribers of `channel`; returns how many there were.
    /// Never blocks: a full subscriber loses its oldest message instead.
    pub(crate) fn dispatch(&self, channel: &str, payload: String) -> usize {
        self.dispatch_made(channel, || payload)
    }

    /// Hands a copy of `payload` to the local subscribers of `channel`, copying only when
    /// there are some; returns how many there were.
    pub(crate) fn dispatch_copy(&self, channel: &str, payload: &str) -> usize {
        self.dispatch_made(channel, || payload.to_owned())
    }

    /// [`Self::dispatch`] of the payload `make` returns, called only when `channel` has
    /// local subscribers, under the one lock.
    fn dispatch_made(&self, channel: &str, make: impl FnOnce() -> String) -> usize {
        let mut channels = self.lock();
        let Some(tx) = channels.get(channel) else {
            return 0;
        };
        match tx.send(make()) {
            Ok(n) => n,
            Err(_) => {
                channels.remove(channel);
                0
            }
        }
    }

    /// Drops `channel` if nobody listens any more. Subscribing happens under the same lock,
    /// so a channel cannot be pruned between a subscriber's arrival and its first message.
    fn prune(&self, channel: &str) {
        let mut channels = self.lock();
        if channels
            .get(channel)
            .is_some_and(|tx| tx.receiver_count() == 0)
        {
            channels.remove(channel);
        }
    }

    /// How many channels are held.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}
