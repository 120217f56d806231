//! The one way the Redis adapters talk to Redis: a reconnecting connection whose every
//! command has a deadline, behind a circuit breaker shared by the whole process.
//!
//! Without it, a request that touched Redis while Redis was down waited for the client's
//! reconnect attempts (seconds; 9 s measured for `GET /v1/me`), although the rate limiter
//! fails open. With it:
//! - every command gives up after its deadline ([`RedisLink::connect`]'s `timeout`: short
//!   on the request path, `WUFEI_REDIS_TIMEOUT_MS`; longer for the queue's scripts);
//! - a command that fails because Redis is unreachable (a refused connection, a missed
//!   deadline, a server still loading its data; see [`is_outage`]) opens the breaker, and
//!   while it is open every command fails at once, without touching the network;
//! - after [`COOLDOWN`] the breaker lets commands through again; the first success closes
//!   it, a failure opens it for another cooldown.
//!
//! So while Redis is down a request waits at most one deadline, once per cooldown, and
//! otherwise not at all; within about a cooldown of Redis's return everything flows again.
//! Errors that say nothing about reachability (a script's own error, a wrong type) pass
//! through and leave the breaker alone. This module must never retry a command: callers
//! decide whether a failure is worth retrying (the queue's loops back off, the request path
//! degrades or answers 503).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::FutureExt;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{
    Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, RedisResult, ServerErrorKind, Value,
};

use super::PortError;

/// How long an open breaker refuses commands before it lets them try again.
pub const COOLDOWN: Duration = Duration::from_secs(1);
/// How long establishing a connection may take before it counts as a failure.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// The state every connection of one process shares: whether Redis is reachable.
#[derive(Debug, Default)]
pub struct Breaker {
    /// `Some(until)` while open.
    open_until: Mutex<Option<Instant>>,
}

impl Breaker {
    /// A closed breaker.
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.open_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a command may go out now.
    fn admits(&self) -> bool {
        self.state().is_none_or(|until| Instant::now() >= until)
    }

    fn succeeded(&self) {
        let mut state = self.state();
        if state.take().is_some() {
            tracing::info!("redis answers again; circuit closed");
        }
    }

    fn failed(&self, why: &RedisError) {
        let mut state = self.state();
        let was_closed = state.is_none();
        *state = Some(Instant::now() + COOLDOWN);
        if was_closed {
            tracing::warn!(error = %why, cooldown_ms = COOLDOWN.as_millis() as u64, "redis unreachable; circuit open");
        }
    }

    /// Whether the breaker is open now (for `/readyz` and tests).
    pub fn is_open(&self) -> bool {
        !self.admits()
    }
}

/// A Redis client with the process's breaker: makes [`RedisConn`]s.
#[derive(Debug, Clone)]
pub struct RedisLink {
    client: redis::Client,
    breaker: Arc<Breaker>,
}

impl RedisLink {
    /// A link over `client` with a breaker of its own.
    pub fn new(client: redis::Client) -> Self {
        Self {
            client,
            breaker: Breaker::new(),
        }
    }

    /// The client, for connections this module does not manage (blocking reads, the
    /// pub/sub subscription).
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// The breaker every connection of this link shares.
    pub fn breaker(&self) -> &Arc<Breaker> {
        &self.breaker
    }

    /// A new reconnecting connection whose commands time out after `timeout`. Fails when
    /// Redis cannot be reached now.
    pub async fn connect(&self, timeout: Duration) -> Result<RedisConn, PortError> {
        // One quick reconnect attempt per failure: the breaker, not the client, paces the
        // attempts while Redis is away, so its return is noticed within a cooldown rather
        // than after the client's exponential back-off has run its course.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(200))
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(timeout.max(CONNECT_TIMEOUT)));
        let manager = self
            .client
            .get_connection_manager_with_config(config)
            .await?;
        Ok(RedisConn {
            manager,
            breaker: self.breaker.clone(),
            timeout,
        })
    }
}

/// A reconnecting, multiplexed connection (cheap to clone; clones share it) whose commands
/// have a deadline and go through the process's breaker. Use it wherever a
/// `ConnectionManager` would go: it implements [`ConnectionLike`].
#[derive(Clone)]
pub struct RedisConn {
    manager: ConnectionManager,
    breaker: Arc<Breaker>,
    timeout: Duration,
}

impl std::fmt::Debug for RedisConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConn")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Whether `err` says Redis cannot be reached: a connection refused, a deadline missed, a
/// server still loading or without a primary. A socket that broke under a command (a
/// broken pipe, a reset) is not: it says that connection is dead, and the connection
/// reconnects by itself — after Redis restarts, every connection of the process meets its
/// dead socket once, and counting those would keep the breaker flapping for seconds after
/// Redis is back.
pub fn is_outage(err: &RedisError) -> bool {
    err.is_timeout()
        || err.is_connection_refusal()
        || matches!(
            err.kind(),
            ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::TryAgain
            )
        )
}

fn circuit_open() -> RedisError {
    RedisError::from((ErrorKind::Io, "redis unreachable (circuit open)"))
}

fn timed_out() -> RedisError {
    RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "redis command timed out",
    ))
}

impl RedisConn {
    /// Runs `call` under the deadline and the breaker.
    async fn guarded<T>(
        breaker: &Breaker,
        timeout: Duration,
        call: impl Future<Output = RedisResult<T>>,
    ) -> RedisResult<T> {
        if !breaker.admits() {
            return Err(circuit_open());
        }
        match tokio::time::timeout(timeout, call).await {
            Ok(Ok(v)) => {
                breaker.succeeded();
                Ok(v)
            }
            Ok(Err(e)) => {
                if is_outage(&e) {
                    breaker.failed(&e);
                } else if !e.is_io_error() {
                    // Redis answered, if only with an error.
                    breaker.succeeded();
                }
                Err(e)
            }
            Err(_) => {
                let e = timed_out();
                breaker.failed(&e);
                Err(e)
            }
        }
    }
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        let (breaker, timeout) = (self.breaker.clone(), self.timeout);
        async move { Self::guarded(&breaker, timeout, self.manager.req_packed_command(cmd)).await }
            .boxed()
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        let (breaker, timeout) = (self.breaker.clone(), self.timeout);
        async move {
            Self::guarded(
                &breaker,
                timeout,
                self.manager.req_packed_commands(pipeline, offset, count),
            )
            .await
        }
        .boxed()
    }

    fn get_db(&self) -> i64 {
        self.manager.get_db()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_opens_the_breaker_and_a_success_closes_it() {
        let b = Breaker::new();
        assert!(b.admits());
        b.failed(&timed_out());
        assert!(b.is_open());
        b.succeeded();
        assert!(!b.is_open());
    }

    #[test]
    fn unreachability_is_told_from_a_wrong_command() {
        assert!(is_outage(&timed_out()));
        assert!(is_outage(&RedisError::from(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused
        ))));
        assert!(!is_outage(&RedisError::from(std::io::Error::from(
            std::io::ErrorKind::BrokenPipe
        ))));
        assert!(!is_outage(&RedisError::from((
            ErrorKind::UnexpectedReturnType,
            "wrong type"
        ))));
    }
}
