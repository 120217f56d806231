//! sea-orm entities, one file per table. The schema itself is owned by `wufei-migrations`.

pub mod job;
pub mod upload;
