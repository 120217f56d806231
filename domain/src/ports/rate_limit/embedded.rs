//! The in-process rate limiter, for the embedded footprint (one `wufei-api` process).
//!
//! **Algorithm: GCRA** (the generic cell rate algorithm, as in `redis-cell` and the
//! `governor` crate), chosen over a sliding-window counter because:
//! - its state is one number per key (the *theoretical arrival time*, TAT), so the Redis
//!   adapter stores one string with a TTL and the two adapters run the same few lines;
//! - it is exact: `retry_after` is computed, not estimated, whereas a sliding-window
//!   counter approximates the previous window's hits as evenly spread and can only guess
//!   when the weighted count drops below the limit;
//! - a refused hit writes nothing, so refused hits cannot count or extend a lockout.
//!
//! What a caller sees for `Limit { max, window }`: a fresh key allows a burst of `max`
//! hits; after that one hit is earned back every `window / max`, and after a whole quiet
//! `window` the full burst is available again. The sustained rate never exceeds `max` per
//! `window`, and a refused hit's `retry_after` is exact and at most `window / max`. (Unlike
//! a fixed window there is no boundary at which `2 × max` hits pass at once, and unlike a
//! sliding log nobody waits a whole window for a single hit; the price is that one span of
//! length `window` can see up to `2 × max − 1` hits: a full burst, then those earned back
//! during it.) `max = 0` refuses every hit. A key is meant to be used with one `Limit`;
//! if its limit shrinks, the first `retry_after` may be longer than the new window.
//!
//! [`Gcra`] holds the arithmetic in whole microseconds; the Redis adapter's Lua script is a
//! line-for-line copy of [`Gcra::decide`], which is what keeps the two adapters observably
//! identical. Change both or neither.
//!
//! This adapter must never be used by more than one process for a shared limit (each
//! process would count on its own), and must never hold a lock across an `.await`.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{Decision, Limit, RateLimiter};
use crate::ports::PortError;

/// Windows longer than this (about 8.9 years) are treated as this long, so that every
/// microsecond count, plus Redis's clock, stays exact in Lua's doubles (2^53).
const MAX_WINDOW_US: u64 = 1 << 48;

/// Number of independently locked shards; spreads contention across cores.
const SHARDS: usize = 16;

/// A shard prunes expired keys after at least this many hits (see [`Shard::prune`]).
const PRUNE_EVERY: usize = 1024;

/// GCRA parameters of one [`Limit`], in whole microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Gcra {
    /// The emission interval `T`: one hit is earned back every `T`. `ceil(window / max)`,
    /// at least 1, so the sustained rate never exceeds the limit.
    pub(super) interval_us: u64,
    /// `max × T`: how far ahead of now the TAT may run; this is what allows a burst of
    /// exactly `max`.
    pub(super) burst_us: u64,
}

impl Gcra {
    /// The parameters of `limit`, or `None` when `limit.max` is zero (every hit refused,
    /// see [`refuse_all`]).
    pub(super) fn new(limit: Limit) -> Option<Self> {
        let max = u64::from(limit.max);
        if max == 0 {
            return None;
        }
        let window_us = u64::try_from(limit.window.as_micros())
            .unwrap_or(MAX_WINDOW_US)
            .min(MAX_WINDOW_US);
        let interval_us = window_us.div_ceil(max).max(1);
        Some(Self {
            interval_us,
            burst_us: interval_us.saturating_mul(max),
        })
    }

    /// Decides one hit at `now_us` for a key whose stored TAT is `tat_us` (`None` when the
    /// key is unknown or expired). Returns the decision and, when the hit is allowed, the
    /// TAT to store; a refused hit stores nothing.
    pub(super) fn decide(self, tat_us: Option<u64>, now_us: u64) -> (Decision, Option<u64>) {
        let tat = tat_us.unwrap_or(now_us).max(now_us);
        let new_tat = tat.saturating_add(self.interval_us);
        let ahead = new_tat - now_us;
        if ahead > self.burst_us {
            let retry_after = Duration::from_micros(ahead - self.burst_us);
            return (Decision::Limited { retry_after }, None);
        }
        let remaining = (self.burst_us - ahead) / self.interval_us;
        let remaining = u32::try_from(remaining).unwrap_or(u32::MAX);
        (Decision::Allowed { remaining }, Some(new_tat))
    }
}

/// The answer to every hit when one of its limits has `max = 0`: refused, retry after the
/// longest such window (or a millisecond if the window is zero, since `retry_after` is
/// never zero), without looking at any key. `None` when every limit allows hits.
pub(super) fn refuse_any_zero(checks: &[(&str, Limit)]) -> Option<Decision> {
    checks
        .iter()
        .filter(|(_, l)| l.max == 0)
        .map(|(_, l)| l.window.max(Duration::from_millis(1)))
        .max()
        .map(|retry_after| Decision::Limited { retry_after })
}

/// One lock's worth of keys.
#[derive(Debug, Default)]
struct Shard {
    /// Key → TAT in microseconds since [`EmbeddedRateLimiter::epoch`].
    tats: HashMap<String, u64>,
    /// Hits left before the next prune.
    ops_until_prune: usize,
}

impl Shard {
    /// Drops keys whose TAT has passed: they are indistinguishable from unknown keys.
    /// The next prune waits for as many hits as there are keys left (at least
    /// [`PRUNE_EVERY`]), so pruning costs O(1) per hit however many keys are live, and a
    /// shard holding `L` live keys after a prune holds at most `2L + PRUNE_EVERY` before
    /// the next.
    fn prune(&mut self, now_us: u64) {
        self.tats.retain(|_, tat| *tat > now_us);
        self.ops_until_prune = self.tats.len().max(PRUNE_EVERY);
        if self.tats.capacity() > 4 * self.ops_until_prune {
            self.tats.shrink_to_fit();
        }
    }
}

/// The rate-limit port in process memory: a GCRA per key in sharded `Mutex<HashMap>`s.
/// Expired keys are pruned as hits arrive, so memory follows the number of keys active
/// within one window, not the number ever seen.
#[derive(Debug)]
pub struct EmbeddedRateLimiter {
    /// The monotonic origin of every stored TAT (immune to wall-clock jumps).
    epoch: Instant,
    /// Picks a key's shard; randomly seeded so keys cannot be chosen to pile onto one.
    hasher: RandomState,
    /// The state, split to spread contention.
    shards: Vec<Mutex<Shard>>,
}

impl EmbeddedRateLimiter {
    /// An empty limiter.
    pub fn new() -> Self {
        Self {
            epoch: Instant::now(),
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// Microseconds since `epoch`.
    fn now_us(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Which shard holds `key`.
    fn shard_index(&self, key: &str) -> usize {
        usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0)
    }

    /// Locks shard `index`. A poisoned lock is taken over: the map is only ever mutated by
    /// single `insert`/`remove`/`retain` calls, so it is never left half-done.
    fn lock(&self, index: usize) -> std::sync::MutexGuard<'_, Shard> {
        self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// [`RateLimiter::hit_all`] at the instant `now` reads; separated so unit tests can
    /// drive the clock. Every shard the keys live in is locked, in ascending order (so two
    /// calls cannot deadlock), for the whole decision: it is atomic, as the Redis script
    /// is. The clock is read once the locks are held, as the script reads Redis's: read
    /// before, a hit could be decided after another that read a later instant, and count
    /// from a TAT already ahead of its own now — two concurrent hits then saw the same
    /// `remaining` (the conformance suite's hundred-hit burst caught it).
    fn hit_all_at(&self, checks: &[(&str, Limit)], now: impl FnOnce() -> u64) -> Decision {
        if let Some(refused) = refuse_any_zero(checks) {
            return refused;
        }
        let indices: Vec<usize> = checks.iter().map(|(k, _)| self.shard_index(k)).collect();
        let mut order = indices.clone();
        order.sort_unstable();
        order.dedup();
        let mut guards: Vec<(usize, std::sync::MutexGuard<'_, Shard>)> =
            order.into_iter().map(|i| (i, self.lock(i))).collect();
        let now_us = now();
        for (_, shard) in &mut guards {
            shard.ops_until_prune = shard.ops_until_prune.saturating_sub(1);
            if shard.ops_until_prune == 0 {
                shard.prune(now_us);
            }
        }
        let slot = |i: usize| guards.binary_search_by_key(&i, |(j, _)| *j).unwrap_or(0);
        // (guard slot, key, TAT to store): written only if every key allows the hit.
        let mut pending: Vec<(usize, &str, u64)> = Vec::with_capacity(checks.len());
        let mut remaining = u32::MAX;
        let mut wait: Option<Duration> = None;
        for ((key, limit), &index) in checks.iter().zip(&indices) {
            let Some(gcra) = Gcra::new(*limit) else {
                continue;
            };
            let at = slot(index);
            // The same key twice in one call counts twice.
            let stored = pending
                .iter()
                .rev()
                .find(|(_, k, _)| k == key)
                .map(|&(_, _, tat)| tat)
                .or_else(|| guards[at].1.tats.get(*key).copied());
            match gcra.decide(stored, now_us) {
                (Decision::Allowed { remaining: left }, Some(tat)) => {
                    remaining = remaining.min(left);
                    pending.push((at, key, tat));
                }
                (Decision::Limited { retry_after }, _) => {
                    wait = Some(wait.map_or(retry_after, |w| w.max(retry_after)));
                }
                (Decision::Allowed { .. }, None) => {}
            }
        }
        if let Some(retry_after) = wait {
            return Decision::Limited { retry_after };
        }
        for (at, key, tat) in pending {
            let tats = &mut guards[at].1.tats;
            match tats.get_mut(key) {
                Some(stored) => *stored = tat,
                None => {
                    tats.insert(key.to_owned(), tat);
                }
            }
        }
        Decision::Allowed { remaining }
    }

    /// [`RateLimiter::hit`] at a given instant.
    #[cfg(test)]
    fn hit_at(&self, key: &str, limit: Limit, now_us: u64) -> Decision {
        self.hit_all_at(&[(key, limit)], || now_us)
    }

    /// How many keys are held, expired or not.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).tats.len())
            .sum()
    }
}

impl Default for EmbeddedRateLimiter {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl RateLimiter for EmbeddedRateLimiter {
    async fn hit_all(&self, checks: &[(&str, Limit)]) -> Result<Decision, PortError> {
        Ok(self.hit_all_at(checks, || self.now_us()))
    }

    async fn reset(&self, key: &str) -> Result<(), PortError> {
        self.lock(self.shard_index(key)).tats.remove(key);
        Ok(())
    }

    async fn ping(&self) -> Result<(), PortError> {
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)] // a failed expectation is a failed test
mod tests {
    use super::*;

    fn limit(max: u32, window_ms: u64) -> Limit {
        Limit {
            max,
            window: Duration::from_millis(window_ms),
        }
    }

    #[test]
    fn gcra_allows_a_burst_of_max_then_one_hit_per_interval() {
        let rl = EmbeddedRateLimiter::new();
        let l = limit(4, 1000); // T = 250 ms
        for remaining in (0..4).rev() {
            assert_eq!(rl.hit_at("k", l, 0), Decision::Allowed { remaining });
        }
        assert_eq!(
            rl.hit_at("k", l, 0),
            Decision::Limited {
                retry_after: Duration::from_millis(250)
            }
        );
        assert_eq!(
            rl.hit_at("k", l, 249_999),
            Decision::Limited {
                retry_after: Duration::from_micros(1)
            }
        );
        assert_eq!(
            rl.hit_at("k", l, 250_000),
            Decision::Allowed { remaining: 0 }
        );
        // A whole quiet window restores the whole burst.
        assert_eq!(
            rl.hit_at("k", l, 1_250_000),
            Decision::Allowed { remaining: 3 }
        );
    }

    #[test]
    fn gcra_never_exceeds_the_rate_when_the_window_does_not_divide_evenly() {
        let g = Gcra::new(limit(3, 1)).expect("max is not zero"); // 1000 µs / 3
        assert_eq!(g.interval_us, 334);
        assert_eq!(g.burst_us, 1002);
    }

    #[test]
    fn zero_window_and_zero_max_are_not_divisions_by_zero() {
        let rl = EmbeddedRateLimiter::new();
        assert_eq!(
            rl.hit_at("k", limit(2, 0), 0),
            Decision::Allowed { remaining: 1 }
        );
        assert!(matches!(
            rl.hit_at("z", limit(0, 0), 0),
            Decision::Limited { retry_after } if retry_after > Duration::ZERO
        ));
    }

    #[test]
    fn expired_keys_are_pruned_so_memory_stays_bounded() {
        let rl = EmbeddedRateLimiter::new();
        let l = limit(5, 1); // a key hit once matters for T = 200 µs
        for i in 0..200_000_u64 {
            // One new key every 10 µs: about 20 keys are live at any instant.
            rl.hit_at(&format!("key-{i}"), l, i * 10);
        }
        let held = rl.len();
        assert!(held <= SHARDS * PRUNE_EVERY + 200, "held {held} keys");
    }

    #[test]
    fn pruning_keeps_keys_that_are_still_limited() {
        let rl = EmbeddedRateLimiter::new();
        let long = limit(1, 60_000);
        assert_eq!(
            rl.hit_at("locked", long, 0),
            Decision::Allowed { remaining: 0 }
        );
        for i in 0..100_000_u64 {
            rl.hit_at(&format!("key-{i}"), limit(5, 1), i * 10);
        }
        assert!(matches!(
            rl.hit_at("locked", long, 1_000_000),
            Decision::Limited { .. }
        ));
    }
}
