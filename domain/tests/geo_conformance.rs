//! Conformance suite for the geo-index port: every case is written once over
//! `Arc<dyn GeoIndex>` and run against each adapter — the embedded one always, Redis when
//! `WUFEI_TEST_REDIS_URL` is set (each test under its own random key prefix).
//!
//! Redis stores positions as 52-bit geohashes, so positions compare within 1e-5 degrees
//! (about a metre) and distances within a metre.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed expectation is a failed test

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;
use wufei_domain::ports::geo::embedded::EmbeddedGeoIndex;
use wufei_domain::ports::geo::redis::RedisGeoIndex;
use wufei_domain::ports::geo::{GeoIndex, Nearby, Position, distance_m};

const REDIS_URL_VAR: &str = "WUFEI_TEST_REDIS_URL";

/// By Liaocheng's municipal government (GCJ-02).
const CENTER: Position = Position {
    lat: 36.456_957,
    lng: 115.985_400,
};

const FRESH: Duration = Duration::from_secs(5 * 60);

/// A point `north_m` metres north and `east_m` metres east of [`CENTER`].
fn offset(north_m: f64, east_m: f64) -> Position {
    let m_per_deg_lat = 111_226.3;
    let m_per_deg_lng = m_per_deg_lat * CENTER.lat.to_radians().cos();
    Position {
        lat: CENTER.lat + north_m / m_per_deg_lat,
        lng: CENTER.lng + east_m / m_per_deg_lng,
    }
}

fn ago(secs: i64) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::seconds(secs)
}

fn assert_near(a: Position, b: Position) {
    assert!(
        (a.lat - b.lat).abs() < 1e-5 && (a.lng - b.lng).abs() < 1e-5,
        "{a:?} is not {b:?}"
    );
}

fn members(found: &[Nearby]) -> Vec<Uuid> {
    found.iter().map(|n| n.member).collect()
}

async fn upsert(geo: &Arc<dyn GeoIndex>, member: Uuid, pos: Position, at: DateTime<Utc>) {
    geo.upsert(member, pos, at).await.expect("upsert");
}

async fn nearby(geo: &Arc<dyn GeoIndex>, radius_m: f64, limit: usize) -> Vec<Nearby> {
    geo.nearby(CENTER, radius_m, limit, FRESH)
        .await
        .expect("nearby")
}

// ---- the cases -------------------------------------------------------------------------

async fn upsert_then_position_round_trips(geo: Arc<dyn GeoIndex>) {
    let (member, at) = (Uuid::new_v4(), ago(3));
    upsert(&geo, member, offset(120.0, -40.0), at).await;
    let got = geo.position(member).await.expect("position").expect("held");
    assert_near(got.pos, offset(120.0, -40.0));
    assert_eq!(got.at.timestamp_millis(), at.timestamp_millis());

    assert_eq!(geo.position(Uuid::new_v4()).await.expect("position"), None);
}

async fn nearby_is_sorted_nearest_first_and_stays_within_the_radius(geo: Arc<dyn GeoIndex>) {
    let ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    // Inserted out of order; 10 km and 5.5 km are outside a 5 km radius.
    let spots = [
        (ids[2], offset(0.0, 3_000.0)),
        (ids[4], offset(10_000.0, 0.0)),
        (ids[0], offset(100.0, 0.0)),
        (ids[3], offset(-5_500.0, 0.0)),
        (ids[1], offset(-700.0, 700.0)),
    ];
    for (id, pos) in spots {
        upsert(&geo, id, pos, ago(1)).await;
    }

    let found = nearby(&geo, 5_000.0, 10).await;
    assert_eq!(members(&found), ids[..3].to_vec());
    for n in &found {
        let (_, pos) = spots.iter().find(|(id, _)| *id == n.member).unwrap();
        assert_near(n.pos, *pos);
        let expected = distance_m(CENTER, *pos);
        assert!(
            (n.distance_m - expected).abs() < 1.0,
            "{} vs {expected}",
            n.distance_m
        );
    }

    assert_eq!(members(&nearby(&geo, 50.0, 10).await), Vec::<Uuid>::new());
    assert_eq!(members(&nearby(&geo, 20_000.0, 10).await).len(), 5);
}

async fn nearby_returns_at_most_limit(geo: Arc<dyn GeoIndex>) {
    let mut ids = Vec::new();
    for i in 0..8 {
        let id = Uuid::new_v4();
        upsert(&geo, id, offset(100.0 * f64::from(i + 1), 0.0), ago(1)).await;
        ids.push(id);
    }
    assert_eq!(members(&nearby(&geo, 5_000.0, 3).await), ids[..3].to_vec());
    assert_eq!(members(&nearby(&geo, 5_000.0, 1).await), ids[..1].to_vec());
    assert!(nearby(&geo, 5_000.0, 0).await.is_empty());
}

async fn stale_members_are_left_out_of_nearby_but_keep_their_position(geo: Arc<dyn GeoIndex>) {
    let (stale, fresh) = (Uuid::new_v4(), Uuid::new_v4());
    upsert(&geo, stale, offset(50.0, 0.0), ago(10 * 60)).await;
    upsert(&geo, fresh, offset(900.0, 0.0), ago(1)).await;

    assert_eq!(members(&nearby(&geo, 5_000.0, 10).await), vec![fresh]);
    // A wider freshness window includes it again.
    let wide = geo
        .nearby(CENTER, 5_000.0, 10, Duration::from_secs(3600))
        .await
        .expect("nearby");
    assert_eq!(members(&wide), vec![stale, fresh]);
    assert!(geo.position(stale).await.expect("position").is_some());
}

async fn many_stale_neighbours_do_not_hide_a_fresh_member_further_away(geo: Arc<dyn GeoIndex>) {
    for i in 0..60 {
        upsert(
            &geo,
            Uuid::new_v4(),
            offset(10.0 + f64::from(i), 0.0),
            ago(3600),
        )
        .await;
    }
    let fresh = Uuid::new_v4();
    upsert(&geo, fresh, offset(2_000.0, 0.0), ago(1)).await;
    assert_eq!(members(&nearby(&geo, 5_000.0, 1).await), vec![fresh]);
}

async fn members_silent_for_a_day_are_forgotten(geo: Arc<dyn GeoIndex>) {
    let gone = Uuid::new_v4();
    upsert(&geo, gone, offset(10.0, 0.0), ago(25 * 3600)).await;
    let long_window = Duration::from_secs(7 * 24 * 3600);
    let found = geo
        .nearby(CENTER, 1_000.0, 10, long_window)
        .await
        .expect("nearby");
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(geo.position(gone).await.expect("position"), None);
}

async fn any_fresh_is_whether_anyone_was_seen_within_the_window(geo: Arc<dyn GeoIndex>) {
    assert!(!geo.any_fresh(FRESH).await.expect("any_fresh"), "empty");
    let far_away = Position {
        lat: 39.9,
        lng: 116.4,
    };
    let (stale, fresh) = (Uuid::new_v4(), Uuid::new_v4());
    upsert(&geo, stale, offset(10.0, 0.0), ago(10 * 60)).await;
    assert!(
        !geo.any_fresh(FRESH).await.expect("any_fresh"),
        "only stale"
    );
    assert!(
        geo.any_fresh(Duration::from_secs(3600))
            .await
            .expect("any_fresh"),
        "a wider window sees the stale one"
    );
    // However far from anywhere a search would look.
    upsert(&geo, fresh, far_away, ago(1)).await;
    assert!(geo.any_fresh(FRESH).await.expect("any_fresh"), "one fresh");
    geo.remove(fresh).await.expect("remove");
    assert!(!geo.any_fresh(FRESH).await.expect("any_fresh"), "removed");
}

async fn remove_forgets_the_member(geo: Arc<dyn GeoIndex>) {
    let (gone, kept) = (Uuid::new_v4(), Uuid::new_v4());
    upsert(&geo, gone, offset(10.0, 0.0), ago(1)).await;
    upsert(&geo, kept, offset(20.0, 0.0), ago(1)).await;
    geo.remove(gone).await.expect("remove");

    assert_eq!(geo.position(gone).await.expect("position"), None);
    assert_eq!(members(&nearby(&geo, 1_000.0, 10).await), vec![kept]);
    geo.remove(Uuid::new_v4())
        .await
        .expect("removing an unknown member");
}

async fn an_update_moves_the_member(geo: Arc<dyn GeoIndex>) {
    let member = Uuid::new_v4();
    upsert(&geo, member, offset(8_000.0, 0.0), ago(30)).await;
    assert!(nearby(&geo, 1_000.0, 10).await.is_empty());

    upsert(&geo, member, offset(300.0, 0.0), ago(1)).await;
    let found = nearby(&geo, 1_000.0, 10).await;
    assert_eq!(members(&found), vec![member]);
    assert!((found[0].distance_m - 300.0).abs() < 2.0);
    assert_near(
        geo.position(member).await.unwrap().unwrap().pos,
        offset(300.0, 0.0),
    );
}

async fn an_older_update_does_not_overwrite_a_newer_one(geo: Arc<dyn GeoIndex>) {
    let member = Uuid::new_v4();
    let newer = ago(5);
    upsert(&geo, member, offset(100.0, 0.0), newer).await;
    upsert(&geo, member, offset(4_000.0, 0.0), ago(20)).await;
    let held = geo.position(member).await.unwrap().unwrap();
    assert_near(held.pos, offset(100.0, 0.0));
    assert_eq!(held.at.timestamp_millis(), newer.timestamp_millis());
}

async fn invalid_positions_are_refused_and_store_nothing(geo: Arc<dyn GeoIndex>) {
    let member = Uuid::new_v4();
    for (lat, lng) in [(f64::NAN, 115.0), (89.0, 115.0), (36.0, 181.0)] {
        let refused = geo.upsert(member, Position { lat, lng }, ago(1)).await;
        assert!(refused.is_err(), "({lat}, {lng}) was accepted");
    }
    assert_eq!(geo.position(member).await.expect("position"), None);
}

async fn searches_that_cannot_match_find_nobody(geo: Arc<dyn GeoIndex>) {
    upsert(&geo, Uuid::new_v4(), CENTER, ago(1)).await;
    assert!(nearby(&geo, -1.0, 10).await.is_empty());
    assert!(nearby(&geo, f64::NAN, 10).await.is_empty());
    let bad_center = Position {
        lat: 95.0,
        lng: 0.0,
    };
    let found = geo.nearby(bad_center, 1_000.0, 10, FRESH).await.unwrap();
    assert!(found.is_empty());
    assert_eq!(
        nearby(&geo, 5.0, 10).await.len(),
        1,
        "a 5 m radius at the spot"
    );
}

async fn ping_answers(geo: Arc<dyn GeoIndex>) {
    geo.ping().await.expect("ping");
}

// ---- the adapters ----------------------------------------------------------------------

fn embedded_index() -> Arc<dyn GeoIndex> {
    Arc::new(EmbeddedGeoIndex::new())
}

/// A fresh prefix so tests never see each other's keys.
fn random_prefix() -> String {
    format!("wufei-test-{}", Uuid::new_v4().simple())
}

/// A Redis connection, or `None` (after saying so on stderr) when no Redis is configured.
async fn redis_connection() -> Option<wufei_domain::ports::redis_conn::RedisConn> {
    let Ok(url) = std::env::var(REDIS_URL_VAR) else {
        eprintln!("skipped: geo redis (set {REDIS_URL_VAR} to run it)");
        return None;
    };
    let client = redis::Client::open(url).expect("a valid WUFEI_TEST_REDIS_URL");
    Some(
        wufei_domain::ports::redis_conn::RedisLink::new(client)
            .connect(std::time::Duration::from_secs(2))
            .await
            .expect("Redis at WUFEI_TEST_REDIS_URL answers"),
    )
}

async fn redis_index() -> Option<Arc<dyn GeoIndex>> {
    let conn = redis_connection().await?;
    Some(Arc::new(RedisGeoIndex::new(conn, random_prefix())))
}

/// Runs every case against every adapter, as `<adapter>_adapter::<case>`.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod embedded_adapter {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::embedded_index()).await;
                }
            )*
        }

        mod redis_adapter {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(geo) = super::redis_index().await else { return };
                    super::$case(geo).await;
                }
            )*
        }
    };
}

conformance!(
    upsert_then_position_round_trips,
    nearby_is_sorted_nearest_first_and_stays_within_the_radius,
    nearby_returns_at_most_limit,
    stale_members_are_left_out_of_nearby_but_keep_their_position,
    many_stale_neighbours_do_not_hide_a_fresh_member_further_away,
    members_silent_for_a_day_are_forgotten,
    any_fresh_is_whether_anyone_was_seen_within_the_window,
    remove_forgets_the_member,
    an_update_moves_the_member,
    an_older_update_does_not_overwrite_a_newer_one,
    invalid_positions_are_refused_and_store_nothing,
    searches_that_cannot_match_find_nobody,
    ping_answers,
);

// ---- Redis only: what the trait cannot show ---------------------------------------------

/// Both keys live under `{prefix}:geo:`, and Redis's own `GEODIST` agrees with
/// [`distance_m`].
#[tokio::test]
async fn redis_keys_are_namespaced_and_distances_agree_with_geodist() {
    let Some(mut conn) = redis_connection().await else {
        return;
    };
    let prefix = random_prefix();
    let geo = RedisGeoIndex::new(conn.clone(), prefix.clone());
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let far = offset(3_000.0, 4_000.0);
    geo.upsert(a, CENTER, ago(1)).await.unwrap();
    geo.upsert(b, far, ago(1)).await.unwrap();

    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut keys = keys;
    keys.sort();
    assert_eq!(
        keys,
        vec![format!("{prefix}:geo:pos"), format!("{prefix}:geo:seen")]
    );
    let redis_m: f64 = redis::cmd("GEODIST")
        .arg(format!("{prefix}:geo:pos"))
        .arg(a.to_string())
        .arg(b.to_string())
        .arg("m")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((redis_m - distance_m(CENTER, far)).abs() < 1.0, "{redis_m}");
}
