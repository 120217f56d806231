//! The in-process generations, for the embedded footprint (one process serves everything).

use std::{collections::HashMap, sync::Mutex};

use async_trait::async_trait;

use super::Generations;
use crate::ports::PortError;

/// Counters in process memory.
#[derive(Debug, Default)]
pub struct EmbeddedGenerations {
    counters: Mutex<HashMap<String, u64>>,
}

impl EmbeddedGenerations {
    /// No counter bumped yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, u64>) -> T) -> T {
        // A panic while holding the lock cannot leave a counter half-written.
        let mut guard = self
            .counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }
}

#[async_trait]
impl Generations for EmbeddedGenerations {
    async fn current(&self, name: &str) -> Result<u64, PortError> {
        Ok(self.with(|c| c.get(name).copied().unwrap_or(0)))
    }

    async fn bump(&self, name: &str) -> Result<u64, PortError> {
        Ok(self.with(|c| {
            let n = c.entry(name.to_owned()).or_insert(0);
            *n += 1;
            *n
        }))
    }
}
