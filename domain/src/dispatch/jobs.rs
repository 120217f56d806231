//! The dispatcher's jobs: a round for a pickup (`pickup.dispatch`), a round for each
//! pickup waiting in the districts of a recycler who came on shift (`recycler.on_shift`),
//! and an offer's timeout (`pickup.offer_timeout`), each handled by the dispatcher.

use async_trait::async_trait;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    dispatcher::Dispatcher,
    tries::{After, IfNobody},
};
use crate::{
    jobs::{JobHandler, Jobs},
    pickups::topics::{DISPATCH, OFFER_TIMEOUT, ON_SHIFT},
    ports::queue::Delivery,
};

/// The dispatcher's jobs, handled by `dispatcher`.
pub fn jobs(dispatcher: Dispatcher) -> Jobs {
    Jobs::default()
        .handle(DISPATCH, DispatchHandler(dispatcher.clone()))
        .handle(ON_SHIFT, OnShiftHandler(dispatcher.clone()))
        .handle(OFFER_TIMEOUT, OfferTimeoutHandler(dispatcher))
}

#[derive(Deserialize)]
struct PickupJob {
    pickup_id: Uuid,
    #[serde(default)]
    round: Option<i32>,
    #[serde(default)]
    slot_id: Option<Uuid>,
}

impl PickupJob {
    /// The round a scheduled try follows, if this job is one.
    fn after(&self) -> Option<After> {
        self.round.map(|round| After {
            round,
            slot_id: self.slot_id,
        })
    }
}

#[derive(Deserialize)]
struct RecyclerJob {
    recycler_id: Uuid,
}

/// `pickup.dispatch`.
pub struct DispatchHandler(pub Dispatcher);

#[async_trait]
impl JobHandler for DispatchHandler {
    async fn handle(&self, job: &Delivery) -> anyhow::Result<()> {
        let j: PickupJob = serde_json::from_value(job.payload.clone())?;
        Ok(self
            .0
            .dispatch_as(j.pickup_id, j.after(), IfNobody::Retry(Some(job.id)))
            .await?)
    }
}

/// `recycler.on_shift`.
pub struct OnShiftHandler(pub Dispatcher);

#[async_trait]
impl JobHandler for OnShiftHandler {
    async fn handle(&self, job: &Delivery) -> anyhow::Result<()> {
        let j: RecyclerJob = serde_json::from_value(job.payload.clone())?;
        self.0.recycler_on_shift(j.recycler_id).await?;
        Ok(())
    }
}

/// `pickup.offer_timeout`.
pub struct OfferTimeoutHandler(pub Dispatcher);

#[async_trait]
impl JobHandler for OfferTimeoutHandler {
    async fn handle(&self, job: &Delivery) -> anyhow::Result<()> {
        let j: PickupJob = serde_json::from_value(job.payload.clone())?;
        Ok(self
            .0
            .offer_timeout(j.pickup_id, j.round.unwrap_or(0))
            .await?)
    }
}
