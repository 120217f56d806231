//! What a capability asks of the worker, declared in one place of its own (its `jobs()`):
//! a handler for each topic it consumes, and which of those topics the scheduler stages
//! on every tick. `Platform::jobs` joins every capability's, the runner registers the
//! handlers and the scheduler stages the periodic topics.

use std::sync::Arc;

use super::runner::JobHandler;

/// The jobs of one capability, or of several joined with [`Jobs::and`].
#[derive(Default, Clone)]
pub struct Jobs {
    handlers: Vec<(&'static str, Arc<dyn JobHandler>)>,
    periodic: Vec<&'static str>,
}

impl Jobs {
    /// Jobs of `topic` are handled by `handler`.
    pub fn handle(mut self, topic: &'static str, handler: impl JobHandler + 'static) -> Self {
        self.handlers.push((topic, Arc::new(handler)));
        self
    }

    /// Jobs of `topic` are handled by `handler`, and the scheduler stages one on every
    /// tick (its payload names the tick's time bucket, so duplicates from several
    /// schedulers are harmless to idempotent handlers).
    pub fn periodic(mut self, topic: &'static str, handler: impl JobHandler + 'static) -> Self {
        self.periodic.push(topic);
        self.handle(topic, handler)
    }

    /// These jobs and `other`'s.
    pub fn and(mut self, other: Jobs) -> Self {
        self.handlers.extend(other.handlers);
        self.periodic.extend(other.periodic);
        self
    }

    /// Every topic with its handler.
    pub fn handlers(&self) -> impl Iterator<Item = (&'static str, Arc<dyn JobHandler>)> + '_ {
        self.handlers.iter().map(|(t, h)| (*t, h.clone()))
    }

    /// The topics staged on every tick, in the order they were declared.
    pub fn periodic_topics(&self) -> Vec<&'static str> {
        self.periodic.clone()
    }
}
