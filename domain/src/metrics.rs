//! Prometheus metrics: request latency by route and status, job outcomes, queue depth.
//! One registry per process, passed down; no global statics.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::ports::queue::QueueDepth;

/// The process's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    http_requests: HistogramVec,
    jobs: IntCounterVec,
    job_seconds: HistogramVec,
    queue_depth: IntGaugeVec,
}

impl Metrics {
    /// A fresh registry with Wufei's metrics.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("wufei".into()), None)?;
        let buckets = vec![
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let http_requests = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency")
                .buckets(buckets.clone()),
            &["method", "route", "status"],
        )?;
        let jobs = IntCounterVec::new(
            Opts::new("jobs_total", "Jobs finished, by topic and outcome"),
            &["topic", "outcome"],
        )?;
        let job_seconds = HistogramVec::new(
            HistogramOpts::new("job_duration_seconds", "Job run time").buckets(buckets),
            &["topic"],
        )?;
        let queue_depth = IntGaugeVec::new(
            Opts::new("queue_jobs", "Jobs in the queue, by state"),
            &["state"],
        )?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(jobs.clone()))?;
        registry.register(Box::new(job_seconds.clone()))?;
        registry.register(Box::new(queue_depth.clone()))?;
        Ok(Self {
            registry,
            http_requests,
            jobs,
            job_seconds,
            queue_depth,
        })
    }

    /// Records one HTTP request. `route` is the route pattern, never the raw path.
    pub fn http_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.http_requests
            .with_label_values(&[method, route, &status.to_string()])
            .observe(elapsed.as_secs_f64());
    }

    /// Records a finished job.
    pub fn job_finished(&self, topic: &str, outcome: &str, elapsed: Duration) {
        self.jobs.with_label_values(&[topic, outcome]).inc();
        self.job_seconds
            .with_label_values(&[topic])
            .observe(elapsed.as_secs_f64());
    }

    /// Sets the queue depth gauges.
    pub fn set_queue_depth(&self, depth: QueueDepth) {
        for (state, n) in [
            ("ready", depth.ready),
            ("delayed", depth.delayed),
            ("in_flight", depth.in_flight),
            ("dead", depth.dead),
        ] {
            self.queue_depth
                .with_label_values(&[state])
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::warn!(error = %e, "metrics encoding failed");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}
