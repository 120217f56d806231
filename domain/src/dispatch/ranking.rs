//! Ranking the recyclers who could take a pickup: a score in kilometres of distance, with
//! load, fairness across the day, complaints and rating weighed in. Pure: no reads.

use uuid::Uuid;

/// A recycler who could take a pickup.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Recycler id.
    pub recycler_id: Uuid,
    /// Metres from the pickup.
    pub distance_m: f64,
    /// Pickups already held in this slot.
    pub load: i32,
    /// Pickups allowed per slot.
    pub capacity: i32,
    /// Average rating (1–5), if rated.
    pub rating: Option<f64>,
    /// Complaints received.
    pub complaints: i32,
    /// Offers made to them today.
    pub offers_today: u64,
}

impl Candidate {
    /// Lower is better: a kilometre of distance is the unit; a full slot costs 2 km, each
    /// offer already made today 0.2 km (fairness), each complaint 0.3 km, and each rating
    /// star above 4 (unrated counts as 4) is worth 0.5 km.
    pub fn score(&self) -> f64 {
        let load = if self.capacity > 0 {
            f64::from(self.load) / f64::from(self.capacity)
        } else {
            1.0
        };
        self.distance_m / 1000.0
            + 2.0 * load
            + 0.2 * self.offers_today as f64
            + 0.3 * f64::from(self.complaints)
            - 0.5 * (self.rating.unwrap_or(4.0) - 4.0)
    }
}

/// Orders candidates best first; ties go to the nearer.
pub fn rank(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.sort_by(|a, b| {
        a.score()
            .total_cmp(&b.score())
            .then(a.distance_m.total_cmp(&b.distance_m))
    });
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::fixtures::c;

    #[test]
    fn nearer_wins_all_else_equal() {
        let near = c(500.0, 0, None, 0);
        let far = c(3000.0, 0, None, 0);
        assert_eq!(rank(vec![far.clone(), near.clone()])[0], near);
    }

    #[test]
    fn a_busy_recycler_yields_to_a_free_one_nearby() {
        let busy = c(500.0, 3, None, 0);
        let free = c(1500.0, 0, None, 0);
        assert_eq!(rank(vec![busy, free.clone()])[0], free);
    }

    #[test]
    fn fairness_spreads_offers_across_the_day() {
        let tired = c(1000.0, 0, None, 20);
        let fresh = c(2000.0, 0, None, 0);
        assert_eq!(rank(vec![tired, fresh.clone()])[0], fresh);
    }

    #[test]
    fn rating_and_complaints_count() {
        let good = c(1500.0, 0, Some(5.0), 0);
        let mut poor = c(1200.0, 0, Some(2.0), 0);
        poor.complaints = 2;
        assert_eq!(rank(vec![poor, good.clone()])[0], good);
    }
}
