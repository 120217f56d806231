//! The runner: receives jobs from the queue and hands each to the handler registered for its
//! topic, up to a concurrency bound. Success acks; an error fails the delivery (retry with
//! backoff, then dead-letter); a handler that panics fails its delivery the same way. On
//! shutdown it stops receiving and waits for the jobs in hand. With a queue outside the
//! database it reports every job that is done to [`Done`], which deletes its outbox row.

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use futures::FutureExt;

use super::outbox::{Done, OutboxSignal};
use crate::{
    metrics::Metrics,
    ports::queue::{Delivery, FailOutcome, Queue},
};

/// Runs jobs of one topic. Must be idempotent: a job may be delivered more than once.
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// Does the job. An error means "try again later".
    async fn handle(&self, job: &Delivery) -> anyhow::Result<()>;
}

/// Receives and runs jobs.
pub struct Runner {
    queue: Arc<dyn Queue>,
    handlers: HashMap<String, Arc<dyn JobHandler>>,
    consumer: String,
    concurrency: usize,
    metrics: Metrics,
    wake: Option<OutboxSignal>,
    done: Option<Done>,
}

impl Runner {
    /// A runner identified as `consumer` (unique per process).
    pub fn new(
        queue: Arc<dyn Queue>,
        consumer: String,
        concurrency: usize,
        metrics: Metrics,
    ) -> Self {
        Self {
            queue,
            handlers: HashMap::new(),
            consumer,
            concurrency: concurrency.max(1),
            metrics,
            wake: None,
            done: None,
        }
    }

    /// Reports every job that is done (acked or dead-lettered) to `done`, which deletes its
    /// outbox row; for a queue that keeps its jobs outside the database.
    pub fn reporting_done(mut self, done: Done) -> Self {
        self.done = Some(done);
        self
    }

    /// Wakes this process's relay after every successful job (handlers stage jobs too).
    pub fn wake_after_jobs(mut self, signal: OutboxSignal) -> Self {
        self.wake = Some(signal);
        self
    }

    /// Registers the handler for `topic`.
    pub fn register(mut self, topic: &str, handler: Arc<dyn JobHandler>) -> Self {
        self.handlers.insert(topic.to_string(), handler);
        self
    }

    /// Registers every handler of `jobs`.
    pub fn register_jobs(self, jobs: &super::Jobs) -> Self {
        jobs.handlers().fold(self, |runner, (topic, handler)| {
            runner.register(topic, handler)
        })
    }

    /// Runs until `stop`, then waits for the jobs in hand.
    pub async fn run(self, stop: CancellationToken) {
        let topics: Vec<String> = self.handlers.keys().cloned().collect();
        let mut running: JoinSet<()> = JoinSet::new();
        let flushing = CancellationToken::new();
        let flusher = self
            .done
            .clone()
            .map(|d| tokio::spawn(d.run(flushing.clone())));
        while !stop.is_cancelled() {
            while running.try_join_next().is_some() {}
            let free = self.concurrency.saturating_sub(running.len());
            if free == 0 {
                tokio::select! {
                    _ = running.join_next() => {}
                    _ = stop.cancelled() => break,
                }
                continue;
            }
            let received = tokio::select! {
                r = self.queue.receive(&self.consumer, &topics, free, Duration::from_secs(1)) => r,
                _ = stop.cancelled() => break,
            };
            let deliveries = match received {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(error = %e, "queue receive failed; backing off");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = stop.cancelled() => break,
                    }
                    continue;
                }
            };
            for delivery in deliveries {
                let Some(handler) = self.handlers.get(&delivery.topic).cloned() else {
                    continue;
                };
                let queue = self.queue.clone();
                let metrics = self.metrics.clone();
                let wake = self.wake.clone();
                let done = self.done.clone();
                running.spawn(async move {
                    let id = delivery.id;
                    let outcome = run_one(queue, handler, delivery, metrics).await;
                    if matches!(outcome, "succeeded" | "dead_lettered")
                        && let Some(d) = done
                    {
                        d.report(id);
                    }
                    if outcome == "succeeded"
                        && let Some(w) = wake
                    {
                        w.committed();
                    }
                });
            }
        }
        while running.join_next().await.is_some() {}
        flushing.cancel();
        if let Some(f) = flusher {
            let _ = f.await;
        }
    }
}

#[tracing::instrument(skip_all, fields(job_id = %delivery.id, topic = %delivery.topic, attempt = delivery.attempt))]
async fn run_one(
    queue: Arc<dyn Queue>,
    handler: Arc<dyn JobHandler>,
    delivery: Delivery,
    metrics: Metrics,
) -> &'static str {
    let started = std::time::Instant::now();
    let handled = std::panic::AssertUnwindSafe(handler.handle(&delivery))
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(anyhow::anyhow!("the handler panicked: {what}"))
        });
    let outcome = match handled {
        Ok(()) => match persist(|| queue.ack(&delivery)).await {
            Ok(()) => "succeeded",
            Err(e) => {
                tracing::warn!(error = %e, "ack failed; the job will be delivered again");
                "ack_failed"
            }
        },
        Err(err) => {
            let message = format!("{err:#}");
            match persist(|| queue.fail(&delivery, &message)).await {
                Ok(FailOutcome::Retrying { after }) => {
                    tracing::warn!(error = %message, retry_in_ms = after.as_millis() as u64, "job failed; will retry");
                    "retried"
                }
                Ok(FailOutcome::DeadLettered) => {
                    tracing::error!(error = %message, "job failed for the last time; dead-lettered");
                    "dead_lettered"
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not record the failure; the job will be delivered again");
                    "fail_failed"
                }
            }
        }
    };
    metrics.job_finished(&delivery.topic, outcome, started.elapsed());
    outcome
}

/// How long [`persist`] waits before each retry.
const SETTLE_RETRIES: [Duration; 3] = [
    Duration::from_millis(100),
    Duration::from_millis(300),
    Duration::from_millis(900),
];

/// Records a job's outcome (ack or fail, both safe to repeat: they act only on a lease
/// still held), retrying a few times over about a second and a half. A blip of the queue
/// (a connection meeting its socket dead after Redis restarted) would otherwise leave the
/// job to be delivered again only after the whole visibility timeout.
async fn persist<T, F, Fut>(mut op: F) -> Result<T, crate::ports::PortError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::ports::PortError>>,
{
    let mut last = op().await;
    for wait in SETTLE_RETRIES {
        if last.is_ok() {
            break;
        }
        tokio::time::sleep(wait).await;
        last = op().await;
    }
    last
}
