//! Background work: the transactional outbox, the relay that moves committed outbox rows
//! onto the queue, the runner that hands queued jobs to idempotent handlers, and the
//! scheduler that stages periodic jobs. `wufei-worker` runs these loops; `wufei-api` runs
//! them in-process when there is no Redis.

pub mod declared;
pub mod handlers;
pub mod outbox;
pub mod relay;
pub mod runner;
pub mod scheduler;

pub use declared::Jobs;
pub use runner::{JobHandler, Runner};
