//! The jobs of the pickup lifecycle: the real-time pushes of status changes and offers,
//! and the periodic expiry of pickups whose slot ended without a recycler. (Dispatch
//! declares its own, `dispatch::jobs`; settlement is the points capability's.)

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use super::{
    events::{OffersMadeHandler, StatusChangedHandler},
    expiry::ExpireHandler,
    topics::{EXPIRE, OFFERS_MADE, STATUS_CHANGED},
};
use crate::{jobs::Jobs, ports::pubsub::PubSub};

/// The lifecycle's jobs: pushes go through `pubsub`.
pub fn jobs(db: &DatabaseConnection, pubsub: &Arc<dyn PubSub>) -> Jobs {
    Jobs::default()
        .handle(
            OFFERS_MADE,
            OffersMadeHandler {
                db: db.clone(),
                pubsub: pubsub.clone(),
            },
        )
        .handle(
            STATUS_CHANGED,
            StatusChangedHandler {
                pubsub: pubsub.clone(),
            },
        )
        .periodic(EXPIRE, ExpireHandler { db: db.clone() })
}
