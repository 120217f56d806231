//! The in-process geo index, for the embedded footprint (one `wufei-api` process).
//!
//! A `RwLock<HashMap>` scanned linearly by [`GeoIndex::nearby`]: a city has a few thousand
//! recyclers on shift at most, and a haversine over 5 000 points takes well under a
//! millisecond, so a spatial index (R-tree, geohash buckets) would buy nothing measurable
//! here. The production footprint's Redis adapter is the one that must scale.
//!
//! The lock is never held across an `.await`. Members silent for [`FORGET_AFTER`] are
//! dropped during the scan, so memory follows the recyclers active in the last day.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    FORGET_AFTER, GeoIndex, Located, Nearby, Position, distance_m, fresh_since, invalid_position,
    searchable, to_millis,
};
use crate::ports::PortError;

/// The geo-index port in process memory.
#[derive(Debug, Default)]
pub struct EmbeddedGeoIndex {
    /// Member → where and when it was last seen.
    members: RwLock<HashMap<Uuid, Located>>,
}

impl EmbeddedGeoIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl GeoIndex for EmbeddedGeoIndex {
    async fn upsert(
        &self,
        member: Uuid,
        pos: Position,
        at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        if !pos.is_valid() {
            return Err(invalid_position(pos));
        }
        let at = to_millis(at);
        // A poisoned lock is taken over: the map is only mutated by single calls.
        let mut members = self.members.write().unwrap_or_else(PoisonError::into_inner);
        match members.get_mut(&member) {
            Some(held) if held.at > at => {}
            Some(held) => *held = Located { pos, at },
            None => {
                members.insert(member, Located { pos, at });
            }
        }
        Ok(())
    }

    async fn remove(&self, member: Uuid) -> Result<(), PortError> {
        self.members
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&member);
        Ok(())
    }

    async fn position(&self, member: Uuid) -> Result<Option<Located>, PortError> {
        let members = self.members.read().unwrap_or_else(PoisonError::into_inner);
        let forget_before = fresh_since(Utc::now(), FORGET_AFTER);
        Ok(members
            .get(&member)
            .copied()
            .filter(|l| l.at >= forget_before))
    }

    async fn nearby(
        &self,
        center: Position,
        radius_m: f64,
        limit: usize,
        fresh_within: Duration,
    ) -> Result<Vec<Nearby>, PortError> {
        if !searchable(center, radius_m, limit) {
            return Ok(Vec::new());
        }
        let now = Utc::now();
        let forget_before = fresh_since(now, FORGET_AFTER);
        let fresh = fresh_since(now, fresh_within).max(forget_before);
        let mut found = Vec::new();
        let mut forgotten = false;
        {
            let members = self.members.read().unwrap_or_else(PoisonError::into_inner);
            for (&member, l) in members.iter() {
                forgotten |= l.at < forget_before;
                if l.at < fresh {
                    continue;
                }
                let d = distance_m(center, l.pos);
                if d <= radius_m {
                    found.push(Nearby {
                        member,
                        pos: l.pos,
                        distance_m: d,
                        at: l.at,
                    });
                }
            }
        }
        if forgotten {
            self.members
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|_, l| l.at >= forget_before);
        }
        found.sort_by(|a, b| {
            a.distance_m
                .total_cmp(&b.distance_m)
                .then(a.member.cmp(&b.member))
        });
        found.truncate(limit);
        Ok(found)
    }

    async fn any_fresh(&self, fresh_within: Duration) -> Result<bool, PortError> {
        let fresh = fresh_since(Utc::now(), fresh_within);
        let members = self.members.read().unwrap_or_else(PoisonError::into_inner);
        Ok(members.values().any(|l| l.at >= fresh))
    }

    async fn ping(&self) -> Result<(), PortError> {
        Ok(())
    }
}
