//! The door-to-door scenarios: booking throughput (`book`), dispatch latency (`dispatch`)
//! and whole journeys (`journey`), and the fixture they share.
//!
//! The fixture is made once per run, over HTTP wherever Wufei offers a way: residents are
//! inserted into `users` by SQL (their only login is WeChat, which the bench has not got)
//! and given access tokens signed with the run's own `WUFEI_JWT_SECRET`; everything else
//! goes through the API — addresses, the server's own slots, recycler applications with an
//! ID photo, approval by the benchmark administrator, pickup photos. Two bench-only changes
//! are made by SQL because the API bounds them: slot capacities (1 000 000) and recyclers'
//! pickups per slot (approval allows at most 20).

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use futures::StreamExt as _;
use hyper::{Method, StatusCode};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::{
    http::{self, Conn, RequestSpec},
    load::{Workload, percentile},
};

/// 东昌府区, near the city centre (GCJ-02), as in the API tests.
pub const CENTRE: (f64, f64) = (36.456, 115.985);
/// The district everything happens in.
pub const DISTRICT: &str = "371502";

/// One resident: user id, access token, address.
#[derive(Clone)]
pub struct Resident {
    /// User id.
    pub id: Uuid,
    /// Access token (signed by the bench).
    pub token: String,
    /// Their address.
    pub address: Uuid,
}

/// One approved recycler.
#[derive(Clone)]
pub struct Recycler {
    /// Access token with role `recycler` (signed by the bench).
    pub token: String,
    /// Two uploads with purpose `pickup_photo`, reused for every completion.
    pub photos: [Uuid; 2],
}

/// What the door-to-door scenarios share.
pub struct Fixture {
    /// Residents with an address each.
    pub residents: Vec<Resident>,
    /// Recyclers, approved, off shift.
    pub recyclers: Vec<Recycler>,
    /// Tomorrow's bookable slots for the residents' addresses.
    pub slots: Vec<Uuid>,
    /// The `paper` category.
    pub paper: Uuid,
}

/// Connections to the stack a fixture is built on.
pub struct Env {
    /// wufei-api.
    pub api: SocketAddr,
    /// The scratch database (SQL where the API cannot do it).
    pub db: DatabaseConnection,
    /// `WUFEI_JWT_SECRET`.
    pub secret: String,
    /// The benchmark administrator's access token.
    pub admin_token: String,
}

impl Env {
    /// Connects to the scratch database.
    pub async fn new(
        api: SocketAddr,
        db_url: &str,
        secret: &str,
        admin_token: &str,
    ) -> anyhow::Result<Self> {
        let db = crate::stack::connect(db_url, 2).await?;
        Ok(Self {
            api,
            db,
            secret: secret.to_owned(),
            admin_token: admin_token.to_owned(),
        })
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    sub: Uuid,
    iss: &'a str,
    aud: &'a str,
    exp: i64,
    iat: i64,
    nbf: i64,
    jti: Uuid,
    typ: &'a str,
    role: &'a str,
}

/// An HS256 access token for `sub` with `role`, valid six hours, as wufei-api signs them.
pub fn sign(secret: &str, sub: Uuid, role: &str) -> anyhow::Result<String> {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub,
        iss: "wufei",
        aud: "wufei-api",
        exp: now + 6 * 3600,
        iat: now,
        nbf: now,
        jti: Uuid::new_v4(),
        typ: "access",
        role,
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes())
            .context("the JWT secret is not a valid key")?,
    )
    .context("signing an access token")
}

/// Sends `spec` on a fresh connection; fails unless the status is `want`; the JSON answer.
pub async fn call(addr: SocketAddr, spec: &RequestSpec, want: StatusCode) -> anyhow::Result<Value> {
    let (status, body) = tokio::time::timeout(Duration::from_secs(30), http::once(addr, spec))
        .await
        .with_context(|| format!("{} {} timed out", spec.method, spec.path))??;
    check(spec, status, &body, want)
}

fn check(
    spec: &RequestSpec,
    status: StatusCode,
    body: &[u8],
    want: StatusCode,
) -> anyhow::Result<Value> {
    if status != want {
        bail!(
            "{} {} answered {status} (expected {want}): {}",
            spec.method,
            spec.path,
            String::from_utf8_lossy(body)
                .chars()
                .take(400)
                .collect::<String>()
        );
    }
    if body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body)
        .with_context(|| format!("{} {}: answer is not JSON", spec.method, spec.path))
}

fn uuid_at(v: &Value, pointer: &str) -> anyhow::Result<Uuid> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no uuid at {pointer} in {v}"))
}

/// `days` days from today in Asia/Shanghai, `YYYY-MM-DD`.
fn day(days: u32) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(days.into()))
        .format("%Y-%m-%d")
        .to_string()
}

impl Fixture {
    /// Builds the fixture: `residents` residents, `recyclers` recyclers, and the bookable
    /// slots of `slot_days` days from tomorrow.
    pub async fn build(
        env: &Env,
        residents: usize,
        recyclers: usize,
        slot_days: u32,
    ) -> anyhow::Result<Self> {
        let api = env.api;
        let cats = call(
            api,
            &RequestSpec::get("/v1/catalog/categories"),
            StatusCode::OK,
        )
        .await?;
        let list = cats
            .as_array()
            .or_else(|| cats.get("items").and_then(Value::as_array))
            .context("categories: no list")?;
        let paper = list
            .iter()
            .find(|c| c.get("code").and_then(Value::as_str) == Some("paper"))
            .context("no category `paper`")
            .and_then(|c| uuid_at(c, "/id"))?;

        // Residents: rows by SQL, tokens signed here, addresses over HTTP.
        let ids: Vec<Uuid> = (0..residents.max(1)).map(|_| Uuid::now_v7()).collect();
        for chunk in ids.chunks(500) {
            let values: Vec<String> = chunk
                .iter()
                .map(|id| format!("('{id}', 'resident', '', 'active', now(), now())"))
                .collect();
            env.db
                .execute_unprepared(&format!(
                    "INSERT INTO users (id, role, nickname, status, created_at, updated_at) VALUES {}",
                    values.join(", ")
                ))
                .await
                .context("inserting residents")?;
        }
        let mut out = Vec::with_capacity(ids.len());
        for (n, id) in ids.into_iter().enumerate() {
            let token = sign(&env.secret, id, "resident")?;
            let spec = RequestSpec::post_json(
                "/v1/me/addresses",
                &json!({
                    "label": "家", "contact_name": "王女士", "contact_phone": "13912345678",
                    "district_code": DISTRICT, "community": "星光花园",
                    "detail": format!("{}号楼2单元501", n + 1),
                    "lat": CENTRE.0, "lng": CENTRE.1
                }),
            )?
            .bearer(&token)?;
            let address = uuid_at(&call(api, &spec, StatusCode::CREATED).await?, "/id")?;
            out.push(Resident { id, token, address });
        }
        let Some(first) = out.first() else {
            bail!("no resident");
        };
        let mut slots: Vec<Uuid> = Vec::new();
        for d in 1..=slot_days.max(1) {
            let spec = RequestSpec::get(format!(
                "/v1/pickup-slots?address_id={}&date={}",
                first.address,
                day(d)
            ))
            .bearer(&first.token)?;
            let answer = call(api, &spec, StatusCode::OK).await?;
            let found = answer
                .as_array()
                .context("pickup-slots: not a list")?
                .iter()
                .filter(|s| s.get("bookable").and_then(Value::as_bool) == Some(true))
                .filter_map(|s| uuid_at(s, "/id").ok())
                .collect::<Vec<_>>();
            if found.is_empty() {
                bail!("no bookable slot on {}: {answer}", day(d));
            }
            slots.extend(found);
        }
        env.db
            .execute_unprepared(
                "UPDATE pickup_slots SET capacity = 1000000, van_capacity = 1000000",
            )
            .await
            .context("raising slot capacities")?;

        let mut rs = Vec::with_capacity(recyclers);
        for n in 0..recyclers {
            rs.push(
                recycler(env, n)
                    .await
                    .with_context(|| format!("recycler {n}"))?,
            );
        }
        if !rs.is_empty() {
            env.db
                .execute_unprepared("UPDATE recyclers SET slot_capacity = 1000000")
                .await
                .context("raising recyclers' pickups per slot")?;
        }
        Ok(Self {
            residents: out,
            recyclers: rs,
            slots,
            paper,
        })
    }
}

/// One recycler, the way a real one comes to be: apply signed out, upload the ID photo,
/// attach it, get approved by the administrator, upload two pickup photos.
async fn recycler(env: &Env, n: usize) -> anyhow::Result<Recycler> {
    let api = env.api;
    let phone = format!("1350000{n:04}");
    let applied = call(
        api,
        &RequestSpec::post_json(
            "/v1/recycler-applications",
            &json!({
                "name": format!("回收员{n}"), "phone": phone, "password": "recycler password 1",
                "vehicle": "tricycle", "district_codes": [DISTRICT]
            }),
        )?,
        StatusCode::CREATED,
    )
    .await?;
    let id = uuid_at(&applied, "/created_account")?;
    // The applicant's session would come from logging in with the phone and password;
    // signing it here spares an Argon2 verification per recycler.
    let applicant = sign(&env.secret, id, "resident")?;
    let photo = upload(api, &applicant, "id_photo", n as u8, 0).await?;
    call(
        api,
        &RequestSpec::json(
            Method::PATCH,
            "/v1/recycler-applications/mine",
            &json!({ "id_photo_id": photo }),
        )?
        .bearer(&applicant)?,
        StatusCode::OK,
    )
    .await?;
    call(
        api,
        &RequestSpec::post_json(
            format!("/v1/admin/recycler-applications/{id}/approve"),
            &json!({ "slot_capacity": 20 }),
        )?
        .bearer(&env.admin_token)?,
        StatusCode::OK,
    )
    .await?;
    let token = sign(&env.secret, id, "recycler")?;
    let photos = [
        upload(api, &token, "pickup_photo", n as u8, 1).await?,
        upload(api, &token, "pickup_photo", n as u8, 2).await?,
    ];
    Ok(Recycler { token, photos })
}

async fn upload(api: SocketAddr, token: &str, purpose: &str, a: u8, b: u8) -> anyhow::Result<Uuid> {
    let spec = RequestSpec::post_file(
        format!("/v1/uploads?purpose={purpose}"),
        "photo.png",
        "image/png",
        &png(16, 16, [a, b.wrapping_mul(80), 200]),
    )?
    .bearer(token)?;
    uuid_at(&call(api, &spec, StatusCode::CREATED).await?, "/id")
}

/// A valid `width`×`height` RGB PNG of one colour with a gradient (stored, uncompressed).
pub fn png(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            raw.extend_from_slice(&[
                rgb[0],
                rgb[1].wrapping_add(x as u8),
                rgb[2].wrapping_add(y as u8),
            ]);
        }
    }
    // zlib: header, stored blocks of at most 65 535 bytes, Adler-32.
    let mut z = vec![0x78, 0x01];
    let mut chunks = raw.chunks(65_535).peekable();
    while let Some(chunk) = chunks.next() {
        z.push(u8::from(chunks.peek().is_none()));
        let len = chunk.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(chunk);
    }
    let (mut s1, mut s2) = (1u32, 0u32);
    for &byte in &raw {
        s1 = (s1 + u32::from(byte)) % 65_521;
        s2 = (s2 + s1) % 65_521;
    }
    z.extend_from_slice(&((s2 << 16) | s1).to_be_bytes());
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    for (kind, data) in [(b"IHDR", ihdr), (b"IDAT", z), (b"IEND", Vec::new())] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(&data);
        out.extend_from_slice(&crc_input);
        out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Puts a recycler on shift at (lat, lng), or off shift.
pub async fn shift(api: SocketAddr, r: &Recycler, on: Option<(f64, f64)>) -> anyhow::Result<()> {
    let body = match on {
        Some((lat, lng)) => json!({ "on_shift": true, "lat": lat, "lng": lng }),
        None => json!({ "on_shift": false }),
    };
    call(
        api,
        &RequestSpec::post_json("/v1/recycler/shift", &body)?.bearer(&r.token)?,
        StatusCode::OK,
    )
    .await?;
    Ok(())
}

/// The booking request of resident `r` into `slot`.
pub fn booking(r: &Resident, slot: Uuid, paper: Uuid) -> anyhow::Result<RequestSpec> {
    RequestSpec::post_json(
        "/v1/pickups",
        &json!({
            "address_id": r.address, "slot_id": slot,
            "items": [{ "category_id": paper, "estimated_weight_g": 5000 }],
            "note": "敲门"
        }),
    )?
    .bearer(&r.token)
}

/// `POST /v1/pickups`, rotating over residents and slots.
pub struct BookWorkload {
    specs: Vec<RequestSpec>,
}

impl BookWorkload {
    /// One prepared request per (resident, slot) pair.
    pub fn new(fx: &Fixture) -> anyhow::Result<Self> {
        let mut specs = Vec::new();
        for r in &fx.residents {
            for s in &fx.slots {
                specs.push(booking(r, *s, fx.paper)?);
            }
        }
        Ok(Self { specs })
    }
}

impl Workload for BookWorkload {
    fn request(&self, conn: usize, seq: u64) -> RequestSpec {
        let n = self.specs.len().max(1);
        let i = (conn.wrapping_mul(7919) as u64).wrapping_add(seq) as usize % n;
        self.specs
            .get(i)
            .cloned()
            .unwrap_or_else(|| RequestSpec::get("/healthz"))
    }
}

/// `POST /bare/book`, rotating over the same residents and slots.
pub struct BareBookWorkload {
    specs: Vec<RequestSpec>,
}

impl BareBookWorkload {
    /// One prepared request per (resident, slot) pair.
    pub fn new(fx: &Fixture) -> anyhow::Result<Self> {
        let mut specs = Vec::new();
        for r in &fx.residents {
            for s in &fx.slots {
                specs.push(RequestSpec::post_json(
                    "/bare/book",
                    &json!({ "resident_id": r.id, "slot_id": s, "note": "敲门" }),
                )?);
            }
        }
        Ok(Self { specs })
    }
}

impl Workload for BareBookWorkload {
    fn request(&self, conn: usize, seq: u64) -> RequestSpec {
        let n = self.specs.len().max(1);
        let i = (conn.wrapping_mul(7919) as u64).wrapping_add(seq) as usize % n;
        self.specs
            .get(i)
            .cloned()
            .unwrap_or_else(|| RequestSpec::get("/bare/json"))
    }
}

/// Sends the pickups an earlier scenario left waiting for a recycler (the booking rush's,
/// made with nobody on shift; the dispatch scenario's, declined) to manual dispatch and
/// drops their scheduled retries, so that recyclers coming on shift in the next scenario
/// are not offered them and their retries do not run during it.
pub async fn retire_waiting(env: &Env) -> anyhow::Result<()> {
    env.db
        .execute_unprepared(
            "WITH w AS (UPDATE pickups SET manual_dispatch = true \
               WHERE status = 'pending_dispatch' AND NOT manual_dispatch RETURNING id) \
             DELETE FROM outbox WHERE topic = 'pickup.dispatch' AND run_at > now()",
        )
        .await
        .context("retiring waiting pickups")?;
    Ok(())
}

/// Waits until the outbox (and, on the embedded footprint, whose queue is the `jobs`
/// table, the queue) holds nothing due — the previous scenario's background work is done —
/// at most `limit`; returns whether it drained. The Redis queue is not inspected.
pub async fn drain(env: &Env, db_queue: bool, limit: Duration) -> anyhow::Result<bool> {
    let deadline = Instant::now() + limit;
    let sql = if db_queue {
        "SELECT (SELECT count(*) FROM outbox WHERE run_at <= now()) \
         + (SELECT count(*) FROM jobs WHERE NOT dead AND run_at <= now()) AS due"
    } else {
        "SELECT count(*) AS due FROM outbox WHERE run_at <= now()"
    };
    while Instant::now() < deadline {
        let row = env
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                sql,
            ))
            .await?;
        let due: i64 = match row {
            Some(r) => r.try_get("", "due")?,
            None => 0,
        };
        if due == 0 {
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(false)
}

/// A message of `GET /v1/ws` and when it arrived.
struct Pushed {
    at: Instant,
    kind: String,
    data: Value,
}

/// A recycler's open WebSocket: its messages arrive on `rx`; dropping it closes the reader.
struct Socket {
    rx: mpsc::UnboundedReceiver<Pushed>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Opens `GET /v1/ws?access_token=…` and waits for `hello`. The reader task ends when the
/// socket closes, after `lifetime`, or after a million messages.
async fn socket(api: SocketAddr, token: &str, lifetime: Duration) -> anyhow::Result<Socket> {
    let url = format!("ws://{api}/v1/ws?access_token={token}");
    let (mut ws, _) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(url),
    )
    .await
    .context("websocket connect timed out")?
    .context("websocket connect")?;
    let hello = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .context("no hello on the websocket")?;
    match hello {
        Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) if t.contains("hello") => {}
        other => bail!("websocket: expected hello, got {other:?}"),
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + lifetime;
        for _ in 0..1_000_000u32 {
            let next = tokio::time::timeout_at(deadline, ws.next()).await;
            let at = Instant::now();
            let msg = match next {
                Ok(Some(Ok(m))) => m,
                _ => break,
            };
            if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
                let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else {
                    continue;
                };
                let kind = v
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let data = v.get("data").cloned().unwrap_or(Value::Null);
                if tx.send(Pushed { at, kind, data }).is_err() {
                    break;
                }
            }
        }
    });
    Ok(Socket { rx, reader })
}

/// Latency figures, microseconds.
#[derive(Clone, Debug, Default)]
pub struct Latency {
    /// Samples.
    pub n: usize,
    /// Median.
    pub p50_us: u64,
    /// 95th percentile.
    pub p95_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// Slowest.
    pub max_us: u64,
}

impl Latency {
    /// From samples in microseconds.
    pub fn of(mut us: Vec<u32>) -> Self {
        us.sort_unstable();
        Self {
            n: us.len(),
            p50_us: percentile(&us, 0.5),
            p95_us: percentile(&us, 0.95),
            p99_us: percentile(&us, 0.99),
            max_us: us.last().copied().map_or(0, u64::from),
        }
    }
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// What the dispatch scenario measured on one footprint.
#[derive(Clone, Debug, Default)]
pub struct DispatchResult {
    /// Bookings made.
    pub attempts: usize,
    /// From the booking's 201 to the `offer` message on the recycler's socket.
    pub offer: Latency,
    /// Offers that reached the socket before the booking's answer reached the bench (the
    /// booking wrote the round, and its push overtook the answer): timed as 0 in `offer`.
    pub before_answer: usize,
    /// The booking requests themselves.
    pub booking: Latency,
    /// Offers that did not arrive within the wait.
    pub missed: usize,
    /// Requests that failed (booking, reject), with the first one described.
    pub errors: usize,
    /// The first error.
    pub first_error: Option<String>,
}

/// Books `samples` pickups one after another near one recycler on shift (all others off),
/// timing booking answer → `offer` on its socket; the recycler rejects each offer.
///
/// Before each booking the bench pauses a random 0 to `jitter` (uniform), so bookings do
/// not fall into step with the server's periodic loops (the outbox relay polls every
/// 500 ms): back-to-back samples would otherwise all land at the same phase of its cycle.
pub async fn dispatch(
    env: &Env,
    fx: &Fixture,
    samples: usize,
    offer_wait: Duration,
    jitter: Duration,
) -> anyhow::Result<DispatchResult> {
    let Some((recycler, others)) = fx.recyclers.split_first() else {
        bail!("the dispatch scenario needs a recycler");
    };
    for r in others {
        shift(env.api, r, None).await?;
    }
    shift(env.api, recycler, Some((CENTRE.0 + 0.001, CENTRE.1))).await?;
    let limit = (offer_wait + jitter).saturating_mul(samples as u32 + 2) + Duration::from_secs(60);
    let mut ws = socket(env.api, &recycler.token, limit).await?;
    let mut booking_conn = Conn::connect(env.api).await?;
    let mut recycler_conn = Conn::connect(env.api).await?;
    let mut result = DispatchResult::default();
    let (mut offer_us, mut booking_us) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + limit;
    for i in 0..samples {
        if Instant::now() >= deadline {
            break;
        }
        pause_randomly(jitter).await;
        result.attempts += 1;
        let resident = &fx.residents[i % fx.residents.len()];
        let slot = fx.slots[i % fx.slots.len()];
        let spec = booking(resident, slot, fx.paper)?;
        booking_conn.reopen_if_closed().await?;
        let sent = Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(30), booking_conn.send(&spec)).await;
        let committed = Instant::now();
        let pickup = match answer {
            Ok(Ok((status, body))) if status == StatusCode::CREATED => {
                booking_us.push(micros(committed - sent));
                serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| uuid_at(&v, "/id").ok())
            }
            Ok(Ok((status, body))) => {
                note(
                    &mut result,
                    format!(
                        "POST /v1/pickups {status}: {}",
                        String::from_utf8_lossy(&body)
                    ),
                );
                None
            }
            Ok(Err(e)) => {
                booking_conn = Conn::connect(env.api).await?;
                note(&mut result, format!("POST /v1/pickups: {e:#}"));
                None
            }
            Err(_) => {
                booking_conn = Conn::connect(env.api).await?;
                note(&mut result, "POST /v1/pickups: timed out".into());
                None
            }
        };
        let Some(pickup) = pickup else { continue };
        let wait_until = tokio::time::Instant::now() + offer_wait;
        let mut offer = None;
        while offer.is_none() {
            match tokio::time::timeout_at(wait_until, ws.rx.recv()).await {
                Ok(Some(m)) if m.kind == "offer" => {
                    let for_this = uuid_at(&m.data, "/pickup_id").ok() == Some(pickup);
                    if let (true, Ok(offer_id)) = (for_this, uuid_at(&m.data, "/offer_id")) {
                        offer = Some((m.at, offer_id));
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => bail!("the recycler's websocket closed"),
                Err(_) => break,
            }
        }
        let Some((at, offer_id)) = offer else {
            result.missed += 1;
            continue;
        };
        if at < committed {
            result.before_answer += 1;
        }
        offer_us.push(micros(at.saturating_duration_since(committed)));
        let reject = RequestSpec::post_json(
            format!("/v1/recycler/offers/{offer_id}/reject"),
            &json!({ "reason": "bench" }),
        )?
        .bearer(&recycler.token)?;
        recycler_conn.reopen_if_closed().await?;
        match tokio::time::timeout(Duration::from_secs(30), recycler_conn.send(&reject)).await {
            Ok(Ok((status, _))) if status.is_success() => {}
            Ok(Ok((status, body))) => note(
                &mut result,
                format!(
                    "POST {} {status}: {}",
                    reject.path,
                    String::from_utf8_lossy(&body)
                ),
            ),
            _ => {
                recycler_conn = Conn::connect(env.api).await?;
                note(
                    &mut result,
                    format!("POST {}: failed or timed out", reject.path),
                );
            }
        }
    }
    drop(ws);
    shift(env.api, recycler, None).await?;
    result.offer = Latency::of(offer_us);
    result.booking = Latency::of(booking_us);
    Ok(result)
}

/// Pauses for a random 0 to `jitter` (uniform, whole microseconds); not at all for 0.
async fn pause_randomly(jitter: Duration) {
    let jitter_us = u64::try_from(jitter.as_micros()).unwrap_or(u64::MAX);
    if jitter_us > 0 {
        let pause = (Uuid::new_v4().as_u128() % u128::from(jitter_us)) as u64;
        tokio::time::sleep(Duration::from_micros(pause)).await;
    }
}

fn note(result: &mut DispatchResult, what: String) {
    result.errors += 1;
    if result.first_error.is_none() {
        result.first_error = Some(what.chars().take(400).collect());
    }
}

/// Raw Redis stream latency: a consumer blocked in XREADGROUP on a fresh stream, a producer
/// XADD-ing `samples` entries stamped with the send time: one every millisecond or so, or,
/// with `jitter`, each after a random pause of 0 to `jitter` (uniform), as the dispatch
/// scenario paces its bookings. Paced, every sample starts from an idle machine, and pays
/// what waking idle processes costs on it as each dispatch sample does.
pub async fn redis_stream_latency(
    url: &str,
    key: &str,
    samples: usize,
    jitter: Option<Duration>,
) -> anyhow::Result<Latency> {
    let client = redis::Client::open(url)?;
    let config = redis::AsyncConnectionConfig::new()
        .set_response_timeout(Some(Duration::from_secs(5)))
        .set_connection_timeout(Some(Duration::from_secs(5)));
    let mut producer = client
        .get_multiplexed_async_connection_with_config(&config)
        .await?;
    let mut consumer = client
        .get_multiplexed_async_connection_with_config(&config)
        .await?;
    redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(key)
        .arg("bench")
        .arg("$")
        .arg("MKSTREAM")
        .query_async::<()>(&mut producer)
        .await?;
    let base = Instant::now();
    let key_owned = key.to_owned();
    let reader = tokio::spawn(async move {
        let mut got: Vec<u32> = Vec::with_capacity(samples);
        let deadline = Instant::now()
            + Duration::from_secs(60)
            + jitter.unwrap_or_default().saturating_mul(samples as u32);
        while got.len() < samples && Instant::now() < deadline {
            let reply: Option<redis::streams::StreamReadReply> = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg("bench")
                .arg("c1")
                .arg("COUNT")
                .arg(100)
                .arg("BLOCK")
                .arg(1000)
                .arg("STREAMS")
                .arg(&key_owned)
                .arg(">")
                .query_async(&mut consumer)
                .await?;
            let now = base.elapsed().as_nanos() as u64;
            for k in reply.map(|r| r.keys).unwrap_or_default() {
                for id in k.ids {
                    if let Some(t) = id.get::<u64>("t") {
                        got.push(u32::try_from(now.saturating_sub(t) / 1000).unwrap_or(u32::MAX));
                    }
                }
            }
        }
        Ok::<_, anyhow::Error>(got)
    });
    // Let the consumer block first.
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..samples {
        if let Some(jitter) = jitter {
            pause_randomly(jitter).await;
        }
        let t = base.elapsed().as_nanos() as u64;
        redis::cmd("XADD")
            .arg(key)
            .arg("*")
            .arg("t")
            .arg(t)
            .query_async::<String>(&mut producer)
            .await?;
        if jitter.is_none() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let got = reader.await??;
    let _ = redis::cmd("DEL")
        .arg(key)
        .query_async::<i64>(&mut producer)
        .await;
    Ok(Latency::of(got))
}

/// What the journey scenario measured on one footprint.
#[derive(Clone, Debug, Default)]
pub struct JourneyResult {
    /// Concurrent resident journeys.
    pub residents: usize,
    /// Recyclers on shift.
    pub recyclers: usize,
    /// The measured window, seconds.
    pub window_secs: f64,
    /// Journeys completed inside the window.
    pub completed: u64,
    /// Journeys started that did not complete (an error answer or a time-out).
    pub failed: u64,
    /// Journeys completed in total (warm-up and drain included).
    pub completed_total: u64,
    /// Book → complete, per journey.
    pub journey: Latency,
    /// Booking answer → `offer` on the socket.
    pub offer: Latency,
    /// Requests answered with an error status.
    pub error_answers: u64,
    /// The first error.
    pub first_error: Option<String>,
}

impl JourneyResult {
    /// Journeys per second in the window.
    pub fn per_sec(&self) -> f64 {
        if self.window_secs > 0.0 {
            self.completed as f64 / self.window_secs
        } else {
            0.0
        }
    }

    /// Failed journeys over all that ended.
    pub fn error_rate(&self) -> f64 {
        let all = self.completed_total + self.failed;
        if all > 0 {
            self.failed as f64 / all as f64
        } else {
            0.0
        }
    }
}

enum Outcome {
    Waiting(oneshot::Sender<Result<(), String>>),
    Done(Result<(), String>),
}

type Board = Arc<Mutex<HashMap<Uuid, Outcome>>>;

#[derive(Default)]
struct Tally {
    error_answers: u64,
    first_error: Option<String>,
    offer_us: Vec<u32>,
}

type SharedTally = Arc<Mutex<Tally>>;

fn tally_error(t: &SharedTally, what: String) {
    if let Ok(mut t) = t.lock() {
        t.error_answers += 1;
        if t.first_error.is_none() {
            t.first_error = Some(what.chars().take(400).collect());
        }
    }
}

fn finish(board: &Board, pickup: Uuid, result: Result<(), String>) {
    let Ok(mut map) = board.lock() else { return };
    match map.remove(&pickup) {
        Some(Outcome::Waiting(tx)) => {
            let _ = tx.send(result);
        }
        _ => {
            map.insert(pickup, Outcome::Done(result));
        }
    }
}

/// Booking answers' times, so a recycler can time booking → offer.
type Booked = Arc<Mutex<HashMap<Uuid, Instant>>>;

/// Residents book, recyclers take each offer through accept → depart → arrive → complete;
/// `journeys` residents at once, each starting a new journey when their last completes.
pub async fn journey(
    env: &Env,
    fx: &Fixture,
    journeys: usize,
    recyclers: usize,
    warmup: Duration,
    duration: Duration,
    journey_timeout: Duration,
) -> anyhow::Result<JourneyResult> {
    let recyclers = recyclers.clamp(1, fx.recyclers.len().max(1));
    let journeys = journeys.clamp(1, fx.residents.len().max(1));
    let on: Vec<Recycler> = fx.recyclers.iter().take(recyclers).cloned().collect();
    let lifetime = warmup + duration + journey_timeout + Duration::from_secs(30);
    let mut sockets = Vec::new();
    for (i, r) in on.iter().enumerate() {
        let lat = CENTRE.0 + 0.0005 * (i as f64 + 1.0);
        shift(env.api, r, Some((lat, CENTRE.1))).await?;
        sockets.push(socket(env.api, &r.token, lifetime).await?);
    }
    let board: Board = Arc::default();
    let booked: Booked = Arc::default();
    let tally: SharedTally = Arc::default();
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let stop_at = end + journey_timeout + Duration::from_secs(5);

    let mut workers = tokio::task::JoinSet::new();
    for (r, mut ws) in on.iter().cloned().zip(sockets) {
        let (api, board, booked, tally, paper) = (
            env.api,
            board.clone(),
            booked.clone(),
            tally.clone(),
            fx.paper,
        );
        workers.spawn(async move {
            let Ok(mut conn) = Conn::connect(api).await else {
                tally_error(&tally, "recycler: cannot connect".into());
                return;
            };
            for _ in 0..1_000_000u32 {
                let msg = match tokio::time::timeout_at(stop_at.into(), ws.rx.recv()).await {
                    Ok(Some(m)) => m,
                    _ => break,
                };
                if msg.kind != "offer" {
                    continue;
                }
                let (Ok(offer), Ok(pickup)) = (
                    uuid_at(&msg.data, "/offer_id"),
                    uuid_at(&msg.data, "/pickup_id"),
                ) else {
                    continue;
                };
                let t0 = booked.lock().ok().and_then(|m| m.get(&pickup).copied());
                if let (Some(t0), Ok(mut t)) = (t0, tally.lock()) {
                    t.offer_us
                        .push(micros(msg.at.saturating_duration_since(t0)));
                }
                let steps = [
                    Ok(RequestSpec::post_empty(format!(
                        "/v1/recycler/offers/{offer}/accept"
                    ))),
                    Ok(RequestSpec::post_empty(format!(
                        "/v1/recycler/pickups/{pickup}/depart"
                    ))),
                    Ok(RequestSpec::post_empty(format!(
                        "/v1/recycler/pickups/{pickup}/arrive"
                    ))),
                    RequestSpec::post_json(
                        format!("/v1/recycler/pickups/{pickup}/complete"),
                        &json!({
                            "items": [{ "category_id": paper, "weight_g": 5200 }],
                            "photo_ids": r.photos,
                        }),
                    ),
                ];
                let mut outcome = Ok(());
                for step in steps {
                    let spec = match step.and_then(|s| s.bearer(&r.token)) {
                        Ok(s) => s,
                        Err(e) => {
                            outcome = Err(format!("{e:#}"));
                            break;
                        }
                    };
                    // The recycler may have waited for this offer longer than the server
                    // keeps an idle connection open.
                    if conn.reopen_if_closed().await.is_err() {
                        tally_error(&tally, "recycler: cannot reconnect".into());
                        return;
                    }
                    match tokio::time::timeout(Duration::from_secs(30), conn.send(&spec)).await {
                        Ok(Ok((status, _))) if status.is_success() => {}
                        Ok(Ok((status, body))) => {
                            let what = format!(
                                "POST {} {status}: {}",
                                spec.path,
                                String::from_utf8_lossy(&body)
                            );
                            tally_error(&tally, what.clone());
                            outcome = Err(what);
                            break;
                        }
                        other => {
                            let what = format!(
                                "POST {}: {}",
                                spec.path,
                                match other {
                                    Ok(Err(e)) => format!("{e:#}"),
                                    _ => "timed out".into(),
                                }
                            );
                            tally_error(&tally, what.clone());
                            outcome = Err(what);
                            match Conn::connect(api).await {
                                Ok(c) => conn = c,
                                Err(_) => return,
                            }
                            break;
                        }
                    }
                }
                finish(&board, pickup, outcome);
            }
        });
    }

    let mut residents = tokio::task::JoinSet::new();
    for (j, resident) in fx.residents.iter().take(journeys).cloned().enumerate() {
        let (api, board, booked, tally, paper) = (
            env.api,
            board.clone(),
            booked.clone(),
            tally.clone(),
            fx.paper,
        );
        let slots = fx.slots.clone();
        residents.spawn(async move {
            // (completed at, journey µs) of each journey, and the failures.
            let mut done: Vec<(Instant, u32)> = Vec::new();
            let mut failed = 0u64;
            let Ok(mut conn) = Conn::connect(api).await else {
                return (done, 1);
            };
            for seq in 0..1_000_000usize {
                if Instant::now() >= end {
                    break;
                }
                let slot = slots[(j + seq) % slots.len()];
                let Ok(spec) = booking(&resident, slot, paper) else {
                    break;
                };
                if conn.reopen_if_closed().await.is_err() {
                    return (done, failed + 1);
                }
                let sent = Instant::now();
                let pickup =
                    match tokio::time::timeout(Duration::from_secs(30), conn.send(&spec)).await {
                        Ok(Ok((status, body))) if status == StatusCode::CREATED => {
                            serde_json::from_slice::<Value>(&body)
                                .ok()
                                .and_then(|v| uuid_at(&v, "/id").ok())
                        }
                        Ok(Ok((status, body))) => {
                            tally_error(
                                &tally,
                                format!(
                                    "POST /v1/pickups {status}: {}",
                                    String::from_utf8_lossy(&body)
                                ),
                            );
                            None
                        }
                        _ => {
                            tally_error(&tally, "POST /v1/pickups: failed or timed out".into());
                            match Conn::connect(api).await {
                                Ok(c) => conn = c,
                                Err(_) => return (done, failed + 1),
                            }
                            None
                        }
                    };
                let Some(pickup) = pickup else {
                    failed += 1;
                    continue;
                };
                if let Ok(mut b) = booked.lock() {
                    b.insert(pickup, Instant::now());
                }
                let rx = {
                    let Ok(mut map) = board.lock() else { break };
                    match map.remove(&pickup) {
                        Some(Outcome::Done(r)) => Err(r),
                        _ => {
                            let (tx, rx) = oneshot::channel();
                            map.insert(pickup, Outcome::Waiting(tx));
                            Ok(rx)
                        }
                    }
                };
                let result = match rx {
                    Err(r) => r,
                    Ok(rx) => match tokio::time::timeout(journey_timeout, rx).await {
                        Ok(Ok(r)) => r,
                        _ => Err(format!(
                            "pickup {pickup} not completed within {journey_timeout:?}"
                        )),
                    },
                };
                match result {
                    Ok(()) => done.push((Instant::now(), micros(sent.elapsed()))),
                    Err(e) => {
                        if e.contains("not completed within") {
                            tally_error(&tally, e);
                        }
                        failed += 1;
                    }
                }
            }
            (done, failed)
        });
    }
    let mut result = JourneyResult {
        residents: journeys,
        recyclers,
        window_secs: duration.as_secs_f64(),
        ..JourneyResult::default()
    };
    let mut journey_us = Vec::new();
    while let Some(joined) = residents.join_next().await {
        let (done, failed) = joined?;
        result.failed += failed;
        result.completed_total += done.len() as u64;
        for (at, us) in done {
            if at >= measure_from && at <= end {
                result.completed += 1;
                journey_us.push(us);
            }
        }
    }
    workers.abort_all();
    while workers.join_next().await.is_some() {}
    for r in &on {
        shift(env.api, r, None).await?;
    }
    result.journey = Latency::of(journey_us);
    if let Ok(mut t) = tally.lock() {
        result.error_answers = t.error_answers;
        result.first_error = t.first_error.take();
        result.offer = Latency::of(std::mem::take(&mut t.offer_us));
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    #[test]
    fn png_has_a_valid_crc() {
        // The CRC of "IEND" is well known.
        assert_eq!(super::crc32(b"IEND"), 0xae42_6082);
        let png = super::png(2, 2, [1, 2, 3]);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert!(png.ends_with(&[0xae, 0x42, 0x60, 0x82]));
    }
}
