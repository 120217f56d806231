//! The geo-index port: where each on-shift recycler was last seen, and who is near a
//! point. Dispatch ranks candidates with [`GeoIndex::nearby`]; the location heartbeat
//! endpoint feeds [`GeoIndex::upsert`].
//!
//! Positions are GCJ-02 as WeChat hands them out. Distances are great-circle (haversine)
//! metres computed on GCJ-02 coordinates directly: GCJ-02 is a smooth offset of WGS-84 of a
//! few hundred metres that varies slowly, so within a city the distances it distorts are
//! off by far less than a recycler's GPS error.
//!
//! The index is a cache of positions, never the source of truth for who is on shift: a
//! member whose last update is older than the caller's `fresh_within` is treated as absent,
//! so a crashed app or a lost shift-off cannot leave a ghost recycler receiving offers.
//!
//! Adapters: [`embedded::EmbeddedGeoIndex`] and [`redis::RedisGeoIndex`].

pub mod embedded;
pub mod redis;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::PortError;

/// The earth radius Redis uses for its GEO commands (`EARTH_RADIUS_IN_METERS` in
/// `geohash_helper.c`); the embedded adapter uses the same one so both adapters report
/// the same distances.
pub const EARTH_RADIUS_M: f64 = 6_372_797.560_856;

/// The latitudes Redis's geohash can store (Web Mercator's limit). No city is beyond them.
pub const MAX_LAT: f64 = 85.051_128_78;

/// A member is forgotten (removed from the index) once its last update is this old; until
/// then a stale member is only skipped by [`GeoIndex::nearby`]. Anyone on shift sends
/// heartbeats every few seconds, so a day of silence means the shift ended unannounced.
pub const FORGET_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// A point on the map, GCJ-02 degrees.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Position {
    /// Latitude, degrees north.
    pub lat: f64,
    /// Longitude, degrees east.
    pub lng: f64,
}

impl Position {
    /// A position, or `None` when a coordinate is not finite or out of range (latitude
    /// within ±[`MAX_LAT`], longitude within ±180). Parse client input through this.
    pub fn new(lat: f64, lng: f64) -> Option<Self> {
        let pos = Self { lat, lng };
        pos.is_valid().then_some(pos)
    }

    /// Whether both coordinates are finite and in range.
    pub fn is_valid(&self) -> bool {
        self.lat.is_finite()
            && self.lng.is_finite()
            && self.lat.abs() <= MAX_LAT
            && self.lng.abs() <= 180.0
    }
}

/// The great-circle distance between `a` and `b` in metres (haversine on a sphere of
/// radius [`EARTH_RADIUS_M`]).
pub fn distance_m(a: Position, b: Position) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let d_lat = (b.lat - a.lat).to_radians();
    let d_lng = (b.lng - a.lng).to_radians();
    let h = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lng / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Where a member was last seen, and when.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Located {
    /// The position (Redis stores it as a 52-bit geohash: expect ±1 m).
    pub pos: Position,
    /// When the member was there (the `at` of the update that put it there).
    pub at: DateTime<Utc>,
}

/// A member found by [`GeoIndex::nearby`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearby {
    /// The member (a recycler's user id).
    pub member: Uuid,
    /// Its last position.
    pub pos: Position,
    /// Its distance from the search centre, metres.
    pub distance_m: f64,
    /// When it was last updated.
    pub at: DateTime<Utc>,
}

/// The geo-index port.
#[async_trait]
pub trait GeoIndex: Send + Sync + 'static {
    /// Records that `member` was at `pos` at `at` (kept to the millisecond). An update older than the one already
    /// held is ignored, so heartbeats that overtake each other cannot move a member back.
    /// An invalid `pos` (see [`Position::is_valid`]) is refused with an error and stores
    /// nothing; validate client input with [`Position::new`] first.
    async fn upsert(&self, member: Uuid, pos: Position, at: DateTime<Utc>)
    -> Result<(), PortError>;

    /// Forgets `member` (shift off). Forgetting an unknown member is not an error.
    async fn remove(&self, member: Uuid) -> Result<(), PortError>;

    /// Where `member` was last seen, however long ago (until [`FORGET_AFTER`]).
    async fn position(&self, member: Uuid) -> Result<Option<Located>, PortError>;

    /// Up to `limit` members within `radius_m` metres of `center`, nearest first (ties by
    /// member id), leaving out members whose last update is older than `fresh_within`.
    /// A radius that is negative or not finite, or an invalid centre, finds nobody.
    async fn nearby(
        &self,
        center: Position,
        radius_m: f64,
        limit: usize,
        fresh_within: Duration,
    ) -> Result<Vec<Nearby>, PortError>;

    /// Whether any member, anywhere, was updated within `fresh_within`: when not,
    /// [`Self::nearby`] finds nobody wherever it looks, until the next update.
    async fn any_fresh(&self, fresh_within: Duration) -> Result<bool, PortError>;

    /// Whether the backend answers.
    async fn ping(&self) -> Result<(), PortError>;
}

/// `at` rounded down to the millisecond: what every adapter stores (Redis scores are
/// milliseconds), so both report the same times and order updates alike.
pub(crate) fn to_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

/// The refusal of an invalid position, the same from every adapter.
pub(crate) fn invalid_position(pos: Position) -> PortError {
    PortError::Corrupt {
        backend: "geo",
        message: format!("position out of range: lat {}, lng {}", pos.lat, pos.lng),
    }
}

/// The oldest `at` still fresh under `fresh_within`, as of now.
pub(crate) fn fresh_since(now: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(window)
        .ok()
        .and_then(|w| now.checked_sub_signed(w))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Whether a search with these arguments can find anybody at all.
pub(crate) fn searchable(center: Position, radius_m: f64, limit: usize) -> bool {
    limit > 0 && radius_m.is_finite() && radius_m >= 0.0 && center.is_valid()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two points in Liaocheng's Dongchangfu district, by the municipal government and by
    /// the railway station (GCJ-02). Redis 7.0's `GEODIST` puts them 4 886.33 m apart (its
    /// geohash rounds the points a little); the exact haversine is 4 886.53 m.
    const GOVERNMENT: Position = Position {
        lat: 36.456_957,
        lng: 115.985_400,
    };
    const STATION: Position = Position {
        lat: 36.440_720,
        lng: 115.934_650,
    };

    #[test]
    fn distance_between_two_liaocheng_points_matches_the_map() {
        let d = distance_m(GOVERNMENT, STATION);
        assert!((d - 4_886.53).abs() < 0.01, "distance {d}");
        assert!((distance_m(STATION, GOVERNMENT) - d).abs() < 1e-9);
    }

    #[test]
    fn distance_is_zero_to_itself_and_a_degree_of_latitude_is_about_111_km() {
        assert_eq!(distance_m(GOVERNMENT, GOVERNMENT), 0.0);
        let north = Position {
            lat: GOVERNMENT.lat + 1.0,
            ..GOVERNMENT
        };
        let d = distance_m(GOVERNMENT, north);
        assert!((d - 111_226.0).abs() < 5.0, "distance {d}");
    }

    #[test]
    fn positions_out_of_range_are_refused() {
        assert!(Position::new(36.4, 115.9).is_some());
        assert!(Position::new(f64::NAN, 115.9).is_none());
        assert!(Position::new(86.0, 115.9).is_none());
        assert!(Position::new(36.4, 180.5).is_none());
        assert!(Position::new(36.4, f64::INFINITY).is_none());
    }
}
