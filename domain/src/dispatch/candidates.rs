//! Who could take a pickup: the recyclers near it (the geo index) who are approved, on
//! shift, serve its district, have room in its slot and the right vehicle, read in ONE
//! query with what ranks them; and the same read made ahead of a booking, so that the
//! booking's statement can write the first round ([`Dispatcher::ahead`]).

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::ranking::Candidate;
use crate::{
    db::SqlArgs,
    entities::{district::DispatchMode, pickup, recycler},
    error::Result,
    ports::geo::{Nearby, Position},
};

/// What the first dispatch round of a pickup reads, read while the pickup was booked
/// ([`super::Dispatcher::prefetch`]).
#[derive(Debug, Clone)]
pub struct Prefetched {
    pub(super) slot_id: Uuid,
    pub(super) district_code: String,
    /// The booked address's position.
    pub(super) at: Position,
    /// The recyclers near it.
    pub(super) nearby: Vec<Nearby>,
    /// Those of them who can take a pickup of its district in the slot.
    pub(super) read: Candidates,
}

impl Prefetched {
    /// For the first round of just-booked pickup `p`: the recyclers nearby, and the
    /// shortlist [`Dispatcher::candidates`] would read among them. `None` when this was
    /// read for another pickup (slot, district or position differ) or `p` has had a round
    /// (whose recyclers the shortlist would have to leave out).
    pub(super) fn first_round(self, p: &pickup::Model) -> Option<(Vec<Nearby>, Shortlist)> {
        let same = self.slot_id == p.slot_id
            && self.district_code == p.district_code
            && self.at.lat == p.lat
            && self.at.lng == p.lng
            && p.dispatch_round == 0;
        same.then(|| (self.nearby, self.read.shortlist(p.needs_van)))
    }
}

/// What [`read_candidates`] found: the recyclers with their vehicle, and the district's
/// dispatch mode.
#[derive(Debug, Clone)]
pub(super) struct Candidates {
    /// (candidate, whether they drive a van).
    pub(super) recyclers: Vec<(Candidate, bool)>,
    pub(super) mode: DispatchMode,
}

impl Candidates {
    /// The shortlist of a pickup that does or does not need a van.
    pub(super) fn shortlist(self, needs_van: bool) -> Shortlist {
        Shortlist {
            candidates: self
                .recyclers
                .into_iter()
                .filter(|&(_, van)| van || !needs_van)
                .map(|(c, _)| c)
                .collect(),
            mode: self.mode,
        }
    }
}

/// Those of the recyclers `nearby` who could take a pickup of slot `slot` in district
/// `district`, with what ranks them, and the district's dispatch mode, in ONE query:
/// approved, on shift, serving the district, below their capacity in the slot and, with
/// `offered` (a pickup id), not offered that pickup before; with their vehicle, their load
/// in the slot and the offers made to them in the last 24 hours. Read without locks:
/// accepting takes the capacity by a conditional update, and `uq_offers_pickup_recycler`
/// refuses a second offer to one recycler.
pub(super) async fn read_candidates(
    conn: &impl ConnectionTrait,
    district: &str,
    slot: Uuid,
    nearby: &[Nearby],
    offered: Option<Uuid>,
) -> Result<Candidates> {
    let mut found = Candidates {
        recyclers: Vec::new(),
        mode: DispatchMode::Assign,
    };
    if nearby.is_empty() {
        return Ok(found);
    }
    let distance: HashMap<Uuid, f64> = nearby.iter().map(|n| (n.member, n.distance_m)).collect();
    let mut a = SqlArgs::default();
    let day_start = Utc::now() - chrono::Duration::hours(24);
    let district = a.arg(district.to_owned());
    let mut sql = format!(
        "SELECT r.user_id, r.slot_capacity, r.rating_sum, r.rating_count, r.complaints, \
           r.vehicle, COALESCE(l.load, 0) AS load, \
           (SELECT count(*) FROM offers t WHERE t.recycler_id = r.user_id \
              AND t.created_at >= {}) AS offers_today, \
           (SELECT dispatch_mode FROM districts WHERE code = {district}) AS mode \
         FROM recyclers r \
         JOIN recycler_districts d ON d.recycler_id = r.user_id \
           AND d.district_code = {district} \
         LEFT JOIN recycler_slot_loads l ON l.recycler_id = r.user_id AND l.slot_id = {} \
         WHERE r.user_id IN ({}) AND r.status = {} AND r.on_shift = {} \
           AND COALESCE(l.load, 0) < r.slot_capacity",
        a.arg(day_start),
        a.arg(slot),
        distance
            .keys()
            .map(|id| a.arg(*id))
            .collect::<Vec<_>>()
            .join(", "),
        a.arg(recycler::Status::Approved),
        a.arg(true),
    );
    if let Some(pickup_id) = offered {
        sql += &format!(
            " AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.pickup_id = {} \
               AND o.recycler_id = r.user_id)",
            a.arg(pickup_id)
        );
    }
    let rows = conn
        .query_all_raw(a.statement_for(conn.get_database_backend(), sql))
        .await?;
    for row in rows {
        let recycler_id: Uuid = row.try_get("", "user_id")?;
        let rating_sum: i32 = row.try_get("", "rating_sum")?;
        let rating_count: i32 = row.try_get("", "rating_count")?;
        let offers_today: i64 = row.try_get("", "offers_today")?;
        let vehicle: recycler::Vehicle = row.try_get("", "vehicle")?;
        if let Some(mode) = row.try_get::<Option<DispatchMode>>("", "mode")? {
            found.mode = mode;
        }
        let c = Candidate {
            recycler_id,
            distance_m: distance.get(&recycler_id).copied().unwrap_or(f64::MAX),
            load: row.try_get("", "load")?,
            capacity: row.try_get("", "slot_capacity")?,
            rating: (rating_count > 0).then(|| f64::from(rating_sum) / f64::from(rating_count)),
            complaints: row.try_get("", "complaints")?,
            offers_today: u64::try_from(offers_today).unwrap_or(0),
        };
        found.recyclers.push((c, vehicle == recycler::Vehicle::Van));
    }
    Ok(found)
}

/// The recyclers who can take a pickup, and its district's dispatch mode.
pub(super) struct Shortlist {
    pub(super) candidates: Vec<Candidate>,
    pub(super) mode: DispatchMode,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::fixtures::{c, waiting};

    #[test]
    fn a_prefetch_answers_only_for_the_first_round_of_the_pickup_it_was_read_for() {
        let slot_id = Uuid::now_v7();
        let p = waiting(0, slot_id);
        let (tricycle, van) = (c(0.3, 0, None, 0), c(0.9, 1, None, 0));
        let nearby: Vec<Nearby> = [&tricycle, &van]
            .into_iter()
            .map(|c| Nearby {
                member: c.recycler_id,
                pos: Position {
                    lat: 36.45,
                    lng: 115.98,
                },
                distance_m: c.distance_m,
                at: Utc::now(),
            })
            .collect();
        let f = Prefetched {
            slot_id,
            district_code: p.district_code.clone(),
            at: Position {
                lat: p.lat,
                lng: p.lng,
            },
            nearby: nearby.clone(),
            read: Candidates {
                recyclers: vec![(tricycle.clone(), false), (van.clone(), true)],
                mode: DispatchMode::Broadcast,
            },
        };
        let (found, shortlist) = f.clone().first_round(&p).expect("answers");
        assert_eq!(found, nearby);
        assert_eq!(shortlist.mode, DispatchMode::Broadcast);
        assert_eq!(shortlist.candidates, vec![tricycle, van.clone()]);
        // A pickup that needs a van is offered to vans only.
        let heavy = pickup::Model {
            needs_van: true,
            ..p.clone()
        };
        let (_, vans) = f.clone().first_round(&heavy).expect("answers");
        assert_eq!(vans.candidates, vec![van]);
        // Not for a pickup that has had a round, nor of another slot, district or place.
        let others = [
            waiting(1, slot_id),
            waiting(0, Uuid::now_v7()),
            pickup::Model {
                district_code: "371503".into(),
                ..p.clone()
            },
            pickup::Model {
                lat: p.lat + 0.01,
                ..p.clone()
            },
        ];
        for other in others {
            assert!(f.clone().first_round(&other).is_none(), "{other:?}");
        }
    }
}
