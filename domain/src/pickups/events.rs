//! Real-time pushes after pickup changes, run by the worker: residents and recyclers hear
//! of status changes, recyclers of new and withdrawn offers, over the WebSocket (fanned out
//! across API instances by pub/sub). Pushes are best effort and may repeat; a client that
//! reconnects reads the current state over REST.

use std::sync::Arc;

use async_trait::async_trait;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    entities::offer,
    jobs::JobHandler,
    ports::{pubsub::PubSub, queue::Delivery},
    realtime,
};

#[derive(Deserialize)]
struct StatusChanged {
    pickup_id: Uuid,
    status: String,
    resident_id: Uuid,
    recycler_id: Option<Uuid>,
    #[serde(default)]
    withdrawn_from: Vec<Uuid>,
}

/// `pickup.status_changed`: tells the resident, the recycler and recyclers whose offers
/// were withdrawn.
pub struct StatusChangedHandler {
    /// Where pushes go.
    pub pubsub: Arc<dyn PubSub>,
}

#[async_trait]
impl JobHandler for StatusChangedHandler {
    async fn handle(&self, job: &Delivery) -> anyhow::Result<()> {
        push_status(&*self.pubsub, job.payload.clone()).await
    }
}

/// Sends the pushes a `pickup.status_changed` payload describes (see
/// [`super::notices::status_push`]).
pub(crate) async fn push_status(
    pubsub: &dyn PubSub,
    payload: serde_json::Value,
) -> anyhow::Result<()> {
    let e: StatusChanged = serde_json::from_value(payload)?;
    let data = serde_json::json!({ "pickup_id": e.pickup_id, "status": e.status });
    realtime::push(pubsub, e.resident_id, "pickup_updated", data.clone()).await?;
    if let Some(r) = e.recycler_id {
        realtime::push(pubsub, r, "pickup_updated", data).await?;
    }
    for r in e.withdrawn_from {
        realtime::push(
            pubsub,
            r,
            "offer_withdrawn",
            serde_json::json!({ "pickup_id": e.pickup_id }),
        )
        .await?;
    }
    Ok(())
}

#[derive(Deserialize)]
struct OffersMade {
    pickup_id: Uuid,
}

/// `pickup.offers_made`: sends each offered recycler their offer.
pub struct OffersMadeHandler {
    /// The database.
    pub db: DatabaseConnection,
    /// Where pushes go.
    pub pubsub: Arc<dyn PubSub>,
}

#[async_trait]
impl JobHandler for OffersMadeHandler {
    async fn handle(&self, job: &Delivery) -> anyhow::Result<()> {
        let e: OffersMade = serde_json::from_value(job.payload.clone())?;
        let open = offer::Entity::find()
            .filter(offer::Column::PickupId.eq(e.pickup_id))
            .filter(offer::Column::Status.eq(offer::Status::Open))
            .all(&self.db)
            .await?;
        for o in open {
            let data = serde_json::json!({
                "offer_id": o.id,
                "pickup_id": o.pickup_id,
                "expires_at": o.expires_at,
            });
            realtime::push(&*self.pubsub, o.recycler_id, "offer", data).await?;
        }
        Ok(())
    }
}
