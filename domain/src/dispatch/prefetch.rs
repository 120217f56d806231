//! Who could take a pickup, as the dispatcher reads it: for a round, and ahead of a
//! booking, so that the booking's statement can write the first round
//! ([`Dispatcher::ahead`]).

use sea_orm::{ConnectionTrait, DatabaseBackend, EntityTrait};
use uuid::Uuid;

use super::{
    candidates::{Prefetched, Shortlist, read_candidates},
    dispatcher::Dispatcher,
};
use crate::{
    entities::{address, pickup},
    error::{Error, Result},
    pickups::booking::Ahead,
    ports::geo::{Nearby, Position},
};

impl Dispatcher {
    /// Those of the recyclers `nearby` who can take `p`, with what ranks them, and the
    /// district's dispatch mode (one query): in a van if it needs one and not
    /// offered it before.
    pub(super) async fn candidates(
        &self,
        conn: &impl ConnectionTrait,
        p: &pickup::Model,
        nearby: &[Nearby],
    ) -> Result<Shortlist> {
        // Offers are only ever made by a dispatch round, which counts itself on the pickup.
        let offered = (p.dispatch_round > 0).then_some(p.id);
        let read = read_candidates(conn, &p.district_code, p.slot_id, nearby, offered).await?;
        Ok(read.shortlist(p.needs_van))
    }

    /// Reads, for a booking of address `address_id` into slot `slot_id` about to be
    /// written, what its pickup's first dispatch round reads: the recyclers near the
    /// address ([`crate::ports::geo::GeoIndex::nearby`]) and those of them who can take a pickup of its
    /// district in that slot (one query). From it [`Self::ahead`] makes the round
    /// the booking's own statement writes. `None` on SQLite (the round follows the commit,
    /// in its own transaction) and when the read fails (logged; the round after the commit
    /// reads for itself).
    pub async fn prefetch(&self, address_id: Uuid, slot_id: Uuid) -> Option<Prefetched> {
        if self.db.get_database_backend() != DatabaseBackend::Postgres {
            return None;
        }
        let read = async {
            let Some(address) = address::Entity::find_by_id(address_id)
                .one(&self.db)
                .await?
            else {
                return Ok(None);
            };
            let at = Position {
                lat: address.lat,
                lng: address.lng,
            };
            let nearby = self.search(at).await?;
            let read =
                read_candidates(&self.db, &address.district_code, slot_id, &nearby, None).await?;
            Ok::<_, Error>(Some(Prefetched {
                slot_id,
                district_code: address.district_code,
                at,
                nearby,
                read,
            }))
        };
        read.await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, %slot_id, "prefetching dispatch candidates failed; the round reads them");
            None
        })
    }

    /// What a booking needs to write its pickup's first round in its own statement, from
    /// what [`Self::prefetch`] read for it: `None` when that round would make no offer
    /// (nobody nearby can take a pickup of that slot, or the policy allows no round), and
    /// the booking leaves the round to the dispatch after its commit.
    pub fn ahead(&self, read: &Prefetched) -> Option<Ahead> {
        (!read.read.recyclers.is_empty() && self.policy.max_rounds >= 1).then(|| {
            let choice = |needs_van: bool| {
                let shortlist = read.read.clone().shortlist(needs_van);
                (!shortlist.candidates.is_empty()).then(|| self.choose(shortlist))
            };
            Ahead {
                slot_id: read.slot_id,
                district_code: read.district_code.clone(),
                at: read.at,
                manual_before: self.policy.manual_before_delta(),
                choices: [choice(false), choice(true)],
            }
        })
    }
}
