//! Building blocks for pickup scenarios: residents with addresses, slots, approved
//! recyclers on shift at a position, bookings.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};
use uuid::Uuid;
use wufei_domain::{
    auth::{AdminScope, Role, users},
    entities::{category, pickup_slot, recycler, recycler_district},
    ports::geo::Position,
};

use crate::helpers::TestApp;

/// 东昌府区, near the city centre (GCJ-02).
pub const CENTRE: (f64, f64) = (36.4560, 115.9850);
pub const DISTRICT: &str = "371502";

pub async fn resident(app: &TestApp, openid: &str) -> (String, Uuid) {
    let pair = app.wechat_login(openid).await;
    (
        pair["access_token"].as_str().unwrap().to_string(),
        pair["user"]["id"].as_str().unwrap().parse().unwrap(),
    )
}

pub async fn address(app: &TestApp, token: &str) -> Uuid {
    let res = app
        .post_json(
            "/v1/me/addresses",
            Some(token),
            &json!({
                "label": "家", "contact_name": "王女士", "contact_phone": "13912345678",
                "district_code": DISTRICT, "community": "星光花园", "detail": "3号楼2单元501",
                "lat": CENTRE.0, "lng": CENTRE.1
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// A district-wide slot starting `hours` from now.
pub async fn slot(app: &TestApp, hours: i64, capacity: i32, van_capacity: i32) -> Uuid {
    let starts = Utc::now() + Duration::hours(hours) + Duration::seconds(rand_secs());
    slot_at(app, starts, capacity, van_capacity).await
}

/// A slot of the test district starting at `starts`.
pub async fn slot_at(
    app: &TestApp,
    starts: chrono::DateTime<Utc>,
    capacity: i32,
    van_capacity: i32,
) -> Uuid {
    let id = Uuid::now_v7();
    pickup_slot::ActiveModel {
        id: Set(id),
        district_code: Set(DISTRICT.into()),
        community_id: Set(None),
        scope_key: Set(format!("d:{DISTRICT}")),
        local_date: Set((starts + Duration::hours(8)).format("%Y-%m-%d").to_string()),
        starts_at: Set(starts),
        ends_at: Set(starts + Duration::hours(2)),
        capacity: Set(capacity),
        booked: Set(0),
        van_capacity: Set(van_capacity),
        van_booked: Set(0),
        template_id: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(&app.platform.db)
    .await
    .unwrap();
    id
}

fn rand_secs() -> i64 {
    (Uuid::new_v4().as_u128() % 3000) as i64
}

pub async fn category(app: &TestApp, code: &str) -> Uuid {
    use sea_orm::{ColumnTrait, QueryFilter};
    category::Entity::find()
        .filter(category::Column::Code.eq(code))
        .one(&app.platform.db)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// An approved recycler on shift at (lat, lng); returns its token and id.
pub async fn recycler_at(
    app: &TestApp,
    phone: &str,
    vehicle: &str,
    lat: f64,
    lng: f64,
) -> (String, Uuid) {
    let u = users::create_staff(
        &app.platform.db,
        users::NewStaff {
            phone: phone.into(),
            password: "recycler password".into(),
            role: Role::Recycler,
            admin_scope: None,
            district_code: None,
            nickname: String::new(),
        },
    )
    .await
    .unwrap();
    let now = Utc::now();
    recycler::ActiveModel {
        user_id: Set(u.id),
        name: Set(format!("回收员{phone}")),
        phone: Set(phone.into()),
        id_photo_id: Set(None),
        vehicle: Set(recycler::Vehicle::parse(vehicle).expect("a vehicle")),
        status: Set(recycler::Status::Approved),
        review_reason: Set(None),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        on_shift: Set(true),
        slot_capacity: Set(4),
        rating_sum: Set(0),
        rating_count: Set(0),
        complaints: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.platform.db)
    .await
    .unwrap();
    recycler_district::ActiveModel {
        recycler_id: Set(u.id),
        district_code: Set(DISTRICT.into()),
    }
    .insert(&app.platform.db)
    .await
    .unwrap();
    // The request path's Redis timeout is short; on a loaded CI machine one command can
    // miss it, which is the platform's answer to a slow Redis, not this setup's concern.
    let mut tries = 0;
    while let Err(e) = app
        .platform
        .geo
        .upsert(u.id, Position { lat, lng }, Utc::now())
        .await
    {
        tries += 1;
        assert!(tries < 5, "geo upsert: {e}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let pair = app.login(phone, "recycler password").await;
    (pair["access_token"].as_str().unwrap().to_string(), u.id)
}

pub async fn book(
    app: &TestApp,
    token: &str,
    address: Uuid,
    slot: Uuid,
    paper: Uuid,
) -> reqwest::Response {
    app.post_json(
        "/v1/pickups",
        Some(token),
        &json!({ "address_id": address, "slot_id": slot, "items": [{ "category_id": paper, "estimated_weight_g": 5000 }], "note": "敲门" }),
    )
    .await
}

/// Polls `f` until it returns Some, for at most `secs` seconds. A timeout names the line
/// that waited.
#[track_caller]
pub fn eventually<T, F, Fut>(secs: u64, mut f: F) -> impl std::future::Future<Output = T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let waiter = std::panic::Location::caller();
    async move {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            if let Some(v) = f().await {
                return v;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "condition not reached within {secs} s (waited at {waiter})"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

pub async fn pickup(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(&format!("/v1/pickups/{id}"), Some(token))
        .await
        .json()
        .await
        .unwrap()
}

/// The caller's inbox (`GET /v1/notifications`).
/// How many rows of pickup `p`'s timeline lead to status `to`.
pub fn transitions_to(p: &Value, to: &str) -> usize {
    p["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["to"] == to)
        .count()
}

pub async fn inbox(app: &TestApp, token: &str) -> Value {
    app.get("/v1/notifications", Some(token))
        .await
        .json()
        .await
        .unwrap()
}

/// The recycler's `POST /v1/recycler/offers/{id}/accept`, answered as it is.
pub async fn accept(app: &TestApp, token: &str, offer_id: &str) -> reqwest::Response {
    app.post_json(
        &format!("/v1/recycler/offers/{offer_id}/accept"),
        Some(token),
        &json!({}),
    )
    .await
}

pub async fn offers(app: &TestApp, token: &str) -> Vec<Value> {
    app.get("/v1/recycler/offers", Some(token))
        .await
        .json()
        .await
        .unwrap()
}

/// A district other than [`DISTRICT`].
pub const OTHER_DISTRICT: &str = "371521";

/// Signed-in administrators: city-wide, of [`DISTRICT`], of [`OTHER_DISTRICT`].
pub struct Admins {
    pub sup: String,
    pub local: String,
    pub other: String,
}

/// Creates and signs in the three administrators of [`Admins`].
pub async fn admins(app: &TestApp) -> Admins {
    let people = [
        (
            "13700000001",
            "super admin password",
            AdminScope::SuperAdmin,
            None,
        ),
        (
            "13700000002",
            "district admin password",
            AdminScope::District,
            Some(DISTRICT),
        ),
        (
            "13700000003",
            "other district admin",
            AdminScope::District,
            Some(OTHER_DISTRICT),
        ),
    ];
    let mut tokens = Vec::new();
    for (phone, password, scope, district) in people {
        app.create_user(phone, password, Role::Admin, Some(scope), district)
            .await;
        tokens.push(
            app.login(phone, password).await["access_token"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let [sup, local, other] = <[String; 3]>::try_from(tokens).unwrap();
    Admins { sup, local, other }
}
