//! Bookings of one slot written together: a booking rush as a few statements instead of
//! one per booking. Each process has one queue, owned by its platform's `Bookings`.
//!
//! Every booking of a slot updates that slot's row (its capacity is taken by a conditional
//! update), so PostgreSQL writes them one after another whatever the application does.
//! Sent one statement each, a rush queues them in the database, which is the expensive
//! place: each waits on the row's lock in a backend of its own (the backend holding the
//! lock competes for the CPU with those waiting behind it), each that waited re-checks its
//! whole statement against the row's new version (PostgreSQL's `EvalPlanQual`), and each
//! pays a statement's set-up, its triggers and its commit for a handful of rows.
//!
//! So bookings of a slot queue here instead. The first to find the slot's writer free
//! takes every booking of that slot queued at that moment (at most [`MAX_BATCH`]) and
//! writes them in one statement, on a task of its own so that a client hanging up cannot
//! cancel the others' write; the bookings that arrive meanwhile form the next batch. A
//! booking that arrives alone is written alone, with no wait. Capacity is still taken by
//! the database, for the whole batch at once; what the batch could not write (a booking
//! that fails a check, or a batch that no longer fits) goes through the one-booking path,
//! which says why.
//!
//! Each process (API instance) queues its own bookings; slots are hashed onto [`STRIPES`]
//! writers, so two slots that share a stripe take turns.

use std::{
    future::Future,
    sync::{Arc, Mutex},
};

use tokio::sync::oneshot;
use uuid::Uuid;

/// The most bookings one statement writes.
pub const MAX_BATCH: usize = 32;

/// Writers slots are hashed onto.
pub const STRIPES: usize = 256;

/// One stripe: the bookings waiting and the lock held while a batch is written.
struct Stripe<R, O> {
    waiting: Mutex<Vec<Waiting<R, O>>>,
    writer: Arc<tokio::sync::Mutex<()>>,
}

struct Waiting<R, O> {
    slot: Uuid,
    ticket: u64,
    request: R,
    reply: oneshot::Sender<O>,
}

/// Requests of type `R` queued by slot, answered with `O`.
pub struct SlotQueue<R, O> {
    stripes: Vec<Stripe<R, O>>,
    tickets: std::sync::atomic::AtomicU64,
}

impl<R: Send + 'static, O: Send + 'static> Default for SlotQueue<R, O> {
    fn default() -> Self {
        Self {
            stripes: (0..STRIPES)
                .map(|_| Stripe {
                    waiting: Mutex::new(Vec::new()),
                    writer: Arc::new(tokio::sync::Mutex::new(())),
                })
                .collect(),
            tickets: 0.into(),
        }
    }
}

/// The stripe of `slot`: its last bits, which are random in every version of UUID the
/// platform writes (v4 and v7).
fn stripe(slot: Uuid) -> usize {
    (slot.as_u128() % STRIPES as u128) as usize
}

impl<R: Send + 'static, O: Send + 'static> SlotQueue<R, O> {
    /// Queues `request` for `slot` and waits for its answer. Whoever finds the slot's
    /// writer free calls `write` with every request of that slot then waiting (its own
    /// first, in arrival order), on a task of its own; `write` answers them in the same
    /// order. `None` when the task writing it failed (panicked) before answering.
    pub async fn submit<F, Fut>(&self, slot: Uuid, request: R, write: F) -> Option<O>
    where
        F: FnOnce(Vec<R>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<O>> + Send + 'static,
    {
        let stripe = &self.stripes[stripe(slot)];
        let ticket = self
            .tickets
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (reply, mut answer) = oneshot::channel();
        lock(&stripe.waiting).push(Waiting {
            slot,
            ticket,
            request,
            reply,
        });
        // If this call is dropped (its client went away) before a writer took the
        // request, the request leaves the queue with it rather than being written later.
        let _queued = Queued { stripe, ticket };
        let guard = tokio::select! {
            biased;
            answered = &mut answer => return answered.ok(),
            guard = stripe.writer.clone().lock_owned() => guard,
        };
        let Some(batch) = take(stripe, slot, ticket) else {
            // Another writer took it while this one waited for the lock.
            drop(guard);
            return answer.await.ok();
        };
        tokio::spawn(async move {
            let (requests, replies): (Vec<R>, Vec<oneshot::Sender<O>>) =
                batch.into_iter().map(|w| (w.request, w.reply)).unzip();
            let answers = write(requests).await;
            for (reply, answer) in replies.into_iter().zip(answers) {
                // A booking whose client went away is not waiting: nothing to tell.
                let _ = reply.send(answer);
            }
            drop(guard);
        });
        answer.await.ok()
    }
}

/// Request `ticket` and the others of `slot` waiting in `stripe` (at most [`MAX_BATCH`] in
/// all; the others in arrival order), taken out of it; `None` if `ticket` is no longer
/// there.
fn take<R, O>(stripe: &Stripe<R, O>, slot: Uuid, ticket: u64) -> Option<Vec<Waiting<R, O>>> {
    let mut waiting = lock(&stripe.waiting);
    let own = waiting.iter().position(|w| w.ticket == ticket)?;
    let mut batch = vec![waiting.remove(own)];
    let mut rest = Vec::with_capacity(waiting.len());
    for w in waiting.drain(..) {
        if w.slot == slot && batch.len() < MAX_BATCH {
            batch.push(w);
        } else {
            rest.push(w);
        }
    }
    *waiting = rest;
    Some(batch)
}

/// Takes a request out of the queue when its caller is dropped before a writer took it.
struct Queued<'a, R, O> {
    stripe: &'a Stripe<R, O>,
    ticket: u64,
}

impl<R, O> Drop for Queued<'_, R, O> {
    fn drop(&mut self) {
        lock(&self.stripe.waiting).retain(|w| w.ticket != self.ticket);
    }
}

/// The waiting list, even if a thread panicked holding it (it holds only plain values).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{sync::LazyLock, time::Duration};

    static QUEUE: LazyLock<SlotQueue<u32, (u32, usize)>> = LazyLock::new(SlotQueue::default);

    /// A writer that answers each request with itself and the size of its batch, slowly
    /// enough that requests pile up behind it.
    async fn write(rs: Vec<u32>) -> Vec<(u32, usize)> {
        tokio::time::sleep(Duration::from_millis(30)).await;
        let n = rs.len();
        rs.into_iter().map(|r| (r, n)).collect()
    }

    #[tokio::test]
    async fn requests_of_a_slot_that_arrive_together_are_written_together_and_each_gets_its_answer()
    {
        let slot = Uuid::now_v7();
        let alone = QUEUE.submit(slot, 0, write).await;
        assert_eq!(alone, Some((0, 1)), "a request alone is written alone");

        let rush: Vec<_> = (1..=10)
            .map(|r| tokio::spawn(QUEUE.submit(slot, r, write)))
            .collect();
        let mut sizes = Vec::new();
        for (r, task) in (1..=10).zip(rush) {
            let (answered, size) = task.await.unwrap().unwrap();
            assert_eq!(answered, r, "each request gets its own answer");
            sizes.push(size);
        }
        assert!(
            sizes.iter().any(|&n| n > 1),
            "a rush is written in batches: {sizes:?}"
        );
    }

    #[tokio::test]
    async fn other_slots_are_not_batched_with_it_and_a_dropped_caller_does_not_lose_the_others() {
        let slot = Uuid::now_v7();
        let other = (0..)
            .map(|_| Uuid::now_v7())
            .find(|s| stripe(*s) == stripe(slot) && *s != slot)
            .unwrap();
        let first = tokio::spawn(QUEUE.submit(slot, 1, write));
        tokio::time::sleep(Duration::from_millis(5)).await;
        // Queued behind the first batch: one of the same slot whose caller goes away,
        // one of the same slot that waits, and one of another slot on the same stripe.
        let dropped = tokio::spawn(QUEUE.submit(slot, 2, write));
        let same = tokio::spawn(QUEUE.submit(slot, 3, write));
        let elsewhere = tokio::spawn(QUEUE.submit(other, 4, write));
        tokio::time::sleep(Duration::from_millis(5)).await;
        dropped.abort();
        assert_eq!(first.await.unwrap(), Some((1, 1)));
        let (three, n) = same.await.unwrap().unwrap();
        assert_eq!(three, 3);
        assert!(n <= 2, "batched with its own slot only");
        assert_eq!(elsewhere.await.unwrap(), Some((4, 1)));
    }
}
