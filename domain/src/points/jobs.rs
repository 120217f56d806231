//! The points capability's jobs: settling a completed pickup, and every tick the sweep of
//! completed pickups whose settlement was lost and the expiry of points by lot.

use sea_orm::DatabaseConnection;

use super::{
    expiry::{self, ExpireHandler},
    settlement::{self, SettleHandler, SweepHandler},
};
use crate::{jobs::Jobs, ledger};

/// The points jobs, under the ledger's `rules`.
pub fn jobs(db: &DatabaseConnection, rules: ledger::Rules) -> Jobs {
    Jobs::default()
        .handle(
            settlement::TOPIC,
            SettleHandler {
                db: db.clone(),
                rules,
            },
        )
        .periodic(
            expiry::TOPIC,
            ExpireHandler {
                db: db.clone(),
                rules,
            },
        )
        .periodic(
            settlement::SWEEP_TOPIC,
            SweepHandler {
                db: db.clone(),
                rules,
            },
        )
}
