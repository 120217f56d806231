//! Pushing a round's offers to their recyclers once it has committed.

use super::dispatcher::Dispatcher;
use crate::{
    jobs::outbox,
    pickups::{round::Offered, topics::OFFERS_MADE},
    realtime,
};

impl Dispatcher {
    /// After the commit: sends each offered recycler their offer straight away (a
    /// dispatcher without pub/sub staged the `pickup.offers_made` job instead). If a push
    /// fails, that job is staged to retry it. A process that dies between the commit and
    /// the push loses that push: pushes are hints, the offer is in
    /// `GET /v1/recycler/offers`, and its timeout moves the pickup on either way. Also
    /// what a booking that wrote its first round ([`FirstRound`]) calls after its commit.
    pub(crate) async fn push_offers(&self, offered: Option<Offered>) {
        let (Some(pubsub), Some(o)) = (&self.pubsub, offered) else {
            return;
        };
        let mut failed = false;
        for (offer_id, recycler_id) in &o.offers {
            let data = serde_json::json!({
                "offer_id": offer_id,
                "pickup_id": o.pickup_id,
                "expires_at": o.expires_at,
            });
            if let Err(e) = realtime::push(&**pubsub, *recycler_id, "offer", data).await {
                tracing::warn!(error = %e, "offer push failed; staging the push job");
                failed = true;
                break;
            }
        }
        if failed
            && let Err(e) = outbox::stage(
                &self.db,
                OFFERS_MADE,
                serde_json::json!({ "pickup_id": o.pickup_id }),
                None,
            )
            .await
        {
            tracing::warn!(error = %e, "could not stage the offer push job");
        }
    }
}
