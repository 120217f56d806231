//! The only place Wufei's schema changes. Every migration runs unchanged on SQLite (the
//! embedded footprint) and PostgreSQL (production); invariants that must never break are
//! written here as keys and checks, not left to application code.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_foundation;
mod m20261129_000002_jobs;
mod m20261129_000003_uploads;
mod m20261129_000004_pickups;
mod m20261129_000005_notifications;
mod m20261129_000006_catalog_admin;
mod m20261129_000007_points;
mod m20261130_000008_pickups_district_status;
mod m20261130_000009_jobs_due;
mod m20261130_000010_outbox_due;
mod m20261130_000011_booking_indexes;
mod m20261207_000012_outbox_until_done;
mod m20261207_000013_device_secrets_sealed;
mod m20261207_000014_marketplace;
mod m20261207_000015_plan;
mod m20261207_000016_cells_facilities;
mod m20261207_000017_stats;
mod m20261207_000018_voice;
mod m20261207_000019_articles;
mod m20261207_000020_user_admin;
mod m20261207_000021_blob_intents;

/// Applies Wufei's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_foundation::Migration),
            Box::new(m20261129_000002_jobs::Migration),
            Box::new(m20261129_000003_uploads::Migration),
            Box::new(m20261129_000004_pickups::Migration),
            Box::new(m20261129_000005_notifications::Migration),
            Box::new(m20261129_000006_catalog_admin::Migration),
            Box::new(m20261129_000007_points::Migration),
            Box::new(m20261130_000008_pickups_district_status::Migration),
            Box::new(m20261130_000009_jobs_due::Migration),
            Box::new(m20261130_000010_outbox_due::Migration),
            Box::new(m20261130_000011_booking_indexes::Migration),
            Box::new(m20261207_000012_outbox_until_done::Migration),
            Box::new(m20261207_000013_device_secrets_sealed::Migration),
            Box::new(m20261207_000014_marketplace::Migration),
            Box::new(m20261207_000015_plan::Migration),
            Box::new(m20261207_000016_cells_facilities::Migration),
            Box::new(m20261207_000017_stats::Migration),
            Box::new(m20261207_000018_voice::Migration),
            Box::new(m20261207_000019_articles::Migration),
            Box::new(m20261207_000020_user_admin::Migration),
            Box::new(m20261207_000021_blob_intents::Migration),
        ]
    }
}
