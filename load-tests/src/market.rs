//! The marketplace's performance (issue 20): `market` (a full reindex of N generated
//! listings on the footprint's engine, timed, then keyword + filter + geo-sort searches),
//! `fresh` (how long a listing edit takes to become searchable) and `oversell` (many
//! buyers accepting quotes on one listing at once).
//!
//! The fixture is made by SQL once per run, before wufei-api first starts: seller and
//! buyer merchants (`users`, an approved `merchant_applications` row and `merchants`, with
//! access tokens the bench signs) and `--listings` published listings with realistic
//! Chinese titles spread over Liaocheng's districts. Each footprint's index is then rebuilt
//! with `wufei-api search reindex` while wufei-api is stopped (the embedded index admits one
//! process), which is what the reindex figure times.

use std::{
    net::SocketAddr,
    process::Command,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use hyper::{Method, StatusCode};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    door::{self, Latency},
    http::{Conn, RequestSpec},
    load::{LoadStats, Rotate},
    report::{FootprintResult, latency_cells, verdict},
};

/// The scenarios of this module.
pub const SCENARIOS: &[&str] = &["market", "fresh", "oversell"];

/// Liaocheng's districts (codes seeded with the reference data) with a point in each.
const DISTRICTS: &[(&str, &str, f64, f64)] = &[
    ("371502", "东昌府区", 36.456, 115.985),
    ("371503", "茌平区", 36.580, 116.255),
    ("371521", "阳谷县", 36.114, 115.791),
    ("371522", "莘县", 36.234, 115.671),
    ("371524", "东阿县", 36.335, 116.248),
    ("371525", "冠县", 36.484, 115.442),
    ("371526", "高唐县", 36.846, 116.230),
    ("371581", "临清市", 36.838, 115.705),
];

/// A product type (seeded code), the word a title uses, specifications, standard, unit.
type Product = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
);

/// The product types of the fixture.
const PRODUCTS: &[Product] = &[
    (
        "recycled_coarse_aggregate",
        "再生粗骨料",
        &["5-31.5mm", "5-25mm", "10-20mm", "C30 5-31.5mm"],
        "GB/T 25177",
        "t",
    ),
    (
        "recycled_fine_aggregate",
        "再生细骨料",
        &["0-5mm", "II类 0-4.75mm", "机制再生砂 0-5mm"],
        "GB/T 25176",
        "t",
    ),
    (
        "recycled_brick",
        "再生砖",
        &["MU10 240×115×53", "MU15 240×115×90", "多孔砖 MU10"],
        "JC/T 2533",
        "piece",
    ),
    (
        "permeable_brick",
        "透水砖",
        &["200×100×60", "300×150×60", "250×250×60 彩色"],
        "GB/T 25993",
        "m2",
    ),
    (
        "road_base_mixture",
        "再生路基材料",
        &["水稳层 0-31.5mm", "二灰碎石", "级配碎石 0-40mm"],
        "JTG/T F20",
        "t",
    ),
    (
        "recycled_concrete_block",
        "再生混凝土砌块",
        &["390×190×190", "390×190×90 空心", "MU7.5"],
        "GB/T 8239",
        "piece",
    ),
];

/// Words a title starts or ends with.
const LEADS: &[&str] = &["优质", "现货", "厂家直销", "大量供应", "环保", "检测合格"];
const TAILS: &[&str] = &[
    "可送货",
    "量大从优",
    "长期供应",
    "支持自提",
    "含税价",
    "质量稳定",
];

/// A merchant of the fixture.
pub struct Merchant {
    /// `merchants.id`.
    pub merchant_id: Uuid,
    /// Its access token (role `merchant`), signed by the bench.
    pub token: String,
}

/// What `fresh` and `oversell` need of the fixture.
pub struct Fixture {
    /// Merchants owning the listings.
    pub sellers: Vec<Merchant>,
    /// Merchants that only buy (`oversell`).
    pub buyers: Vec<Merchant>,
    /// Listings made.
    pub listings: u64,
    /// Seconds the SQL took.
    pub insert_secs: f64,
}

/// How many sellers the listings are spread over.
const SELLERS: usize = 200;

/// Makes the fixture (PostgreSQL; the reference data must be seeded: `wufei-api migrate`).
pub async fn fixture(
    db: &DatabaseConnection,
    secret: &str,
    listings: u64,
    buyers: usize,
) -> anyhow::Result<Fixture> {
    let started = Instant::now();
    let mut sellers = Vec::with_capacity(SELLERS);
    let mut buyer_list = Vec::with_capacity(buyers);
    let (mut users, mut applications, mut merchants) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..SELLERS + buyers {
        let (user, application, merchant) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let (code, district, _, _) = DISTRICTS[i % DISTRICTS.len()];
        let (kind, name) = if i < SELLERS {
            ("建材", format!("聊城{district}第{}再生建材有限公司", i + 1))
        } else {
            ("建设", format!("聊城{district}第{}建设工程有限公司", i + 1))
        };
        let credit = format!("91371500MA{i:08}");
        let phone = format!("139{i:08}");
        users.push(format!(
            "('{user}', 'merchant', 'bench:{kind}', 'active', now(), now())"
        ));
        let common = format!(
            "'{user}', '{name}', '{credit}', '张经理', '{phone}', '{code}', '{district}工业园区{}号'",
            i + 1
        );
        applications.push(format!(
            "('{application}', {common}, '{}', 'approved', now(), now())",
            Uuid::now_v7()
        ));
        merchants.push(format!("('{merchant}', {common}, '{application}', now())"));
        let m = Merchant {
            merchant_id: merchant,
            token: door::sign(secret, user, "merchant")?,
        };
        if i < SELLERS {
            sellers.push(m);
        } else {
            buyer_list.push(m);
        }
    }
    let cols =
        "user_id, company_name, credit_code, contact_name, contact_phone, district_code, address";
    for sql in [
        format!(
            "INSERT INTO users (id, role, nickname, status, created_at, updated_at) VALUES {}",
            users.join(", ")
        ),
        format!(
            "INSERT INTO merchant_applications (id, {cols}, licence_id, status, reviewed_at, created_at) VALUES {}",
            applications.join(", ")
        ),
        format!(
            "INSERT INTO merchants (id, {cols}, application_id, verified_at) VALUES {}",
            merchants.join(", ")
        ),
    ] {
        db.execute_unprepared(&sql)
            .await
            .context("inserting the merchants")?;
    }
    let array = |items: Vec<String>| format!("ARRAY[{}]", items.join(", "));
    let seller_ids = array(
        sellers
            .iter()
            .map(|m| format!("'{}'::uuid", m.merchant_id))
            .collect(),
    );
    let p = |f: fn(&Product) -> String| array(PRODUCTS.iter().map(f).collect());
    let codes = p(|p| quoted(p.0));
    let names = p(|p| quoted(p.1));
    let standards = p(|p| quoted(p.3));
    let units = p(|p| quoted(p.4));
    // Each product type's specifications, padded to three (a 2-D array must be square).
    let specs = format!(
        "ARRAY[{}]",
        PRODUCTS
            .iter()
            .map(|p| array(p.2.iter().take(3).map(|s| quoted(s)).collect()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let d = |f: fn(&(&str, &str, f64, f64)) -> String| array(DISTRICTS.iter().map(f).collect());
    let dcodes = d(|d| quoted(d.0));
    let dnames = d(|d| quoted(d.1));
    let dlat = d(|d| format!("{}::float8", d.2));
    let dlng = d(|d| format!("{}::float8", d.3));
    let leads = array(LEADS.iter().map(|s| quoted(s)).collect());
    let tails = array(TAILS.iter().map(|s| quoted(s)).collect());
    let (np, nd, ns) = (PRODUCTS.len(), DISTRICTS.len(), SELLERS);
    let (nl, nt) = (LEADS.len(), TAILS.len());
    // One statement per 20 000 listings; a listing's product type, district, seller, words,
    // price and position all follow from its number.
    let chunk = 20_000u64;
    let mut from = 1u64;
    let id = crate::stack::v7_sql(
        chrono::Utc::now().timestamp_millis() - listings as i64 - 1000,
        "i",
    );
    while from <= listings {
        let to = (from + chunk - 1).min(listings);
        let sql = format!(
            "INSERT INTO market_listings (id, merchant_id, product_type, title, description, spec, standard, unit, \
               price_fen, stock, min_order, lat, lng, address, district_code, delivery_radius_km, photo_ids, status, \
               certified, procurement_ready, version, created_at, updated_at, published_at) \
             SELECT {id}, ({seller_ids})[1 + (i * 7) % {ns}], ({codes})[1 + pt], \
               left(({leads})[1 + (i / 7) % {nl}] || ' ' || ({dnames})[1 + dt] || ' ' || ({names})[1 + pt] || ' ' \
                 || ({specs})[1 + pt][1 + (i / 11) % 3] || ' ' || ({tails})[1 + (i / 13) % {nt}], 64), \
               ({dnames})[1 + dt] || '生产的' || ({names})[1 + pt] || '，由建筑垃圾经破碎、筛分、除杂制成，符合 ' \
                 || ({standards})[1 + pt] || ' 标准，' || ({tails})[1 + (i / 5) % {nt}] || '。', \
               ({specs})[1 + pt][1 + (i / 11) % 3], ({standards})[1 + pt], ({units})[1 + pt], \
               3000 + (i * 7919 % 171) * 100, 1000 + i % 9000, 1, \
               ({dlat})[1 + dt] + ((i * 37 % 1000) - 500) / 2500.0, ({dlng})[1 + dt] + ((i * 53 % 1000) - 500) / 2500.0, \
               ({dnames})[1 + dt] || '再生资源产业园' || (1 + i % 50) || '号', ({dcodes})[1 + dt], 50, '[]', 'published', \
               (i / 7) % 3 = 0, (i / 5) % 5 = 0, 1, now() - make_interval(secs => i), now() - make_interval(secs => i), \
               now() - make_interval(secs => i) \
             FROM generate_series({from}::bigint, {to}::bigint) AS i, \
               LATERAL (SELECT (i % {np})::int AS pt, ((i / {np}) % {nd})::int AS dt) AS k"
        );
        db.execute_unprepared(&sql)
            .await
            .with_context(|| format!("inserting listings {from}..={to}"))?;
        from = to + 1;
    }
    db.execute_unprepared("ANALYZE market_listings").await?;
    Ok(Fixture {
        sellers,
        buyers: buyer_list,
        listings,
        insert_secs: started.elapsed().as_secs_f64(),
    })
}

/// `s` as an SQL string literal (the fixture's own constants; none holds a quote).
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A full reindex with the CLI.
#[derive(Clone, Debug)]
pub struct Reindex {
    /// The engine it reported (`embedded` or `meilisearch`).
    pub engine: String,
    /// Listings written.
    pub written: u64,
    /// The rebuild as the CLI timed it (reading the database, writing, swapping), seconds.
    pub rebuild_secs: f64,
    /// The whole command (process start, connecting, the rebuild), seconds.
    pub command_secs: f64,
}

/// Runs `wufei-api search reindex` (`cmd`, with the footprint's environment) and times it.
pub fn reindex(mut cmd: Command) -> anyhow::Result<Reindex> {
    let started = Instant::now();
    let out = cmd
        .args(["search", "reindex"])
        .output()
        .context("running wufei-api search reindex")?;
    let command_secs = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "wufei-api search reindex failed ({}): {stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
                .chars()
                .rev()
                .take(2000)
                .collect::<String>()
                .chars()
                .rev()
                .collect::<String>()
        );
    }
    // "reindexed 100000 listings on embedded in 12.3 s"
    let line = stdout
        .lines()
        .find(|l| l.starts_with("reindexed ") && l.contains(" listings "))
        .with_context(|| format!("no summary in {stdout:?}"))?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let (Some(written), Some(engine), Some(secs)) = (words.get(1), words.get(4), words.get(6))
    else {
        bail!("unreadable summary {line:?}");
    };
    Ok(Reindex {
        engine: (*engine).to_owned(),
        written: written.parse()?,
        rebuild_secs: secs.parse()?,
        command_secs,
    })
}

/// One search: keyword, filters, a point and a radius, sorted by distance.
struct Search {
    q: &'static str,
    product_type: &'static str,
    district: Option<&'static str>,
    certified: Option<bool>,
    at: (f64, f64),
    radius_km: u32,
}

/// The searches the load rotates over: every product type's word, some with a district or
/// certification filter, from points across the city, radius 20–80 km, nearest first.
fn searches() -> Vec<Search> {
    let words = [
        ("骨料", "recycled_coarse_aggregate"),
        ("再生细骨料", "recycled_fine_aggregate"),
        ("再生砖", "recycled_brick"),
        ("透水砖", "permeable_brick"),
        ("路基", "road_base_mixture"),
        ("砌块", "recycled_concrete_block"),
        ("现货 骨料", "recycled_coarse_aggregate"),
        ("MU10", "recycled_brick"),
    ];
    let mut out = Vec::new();
    for (i, (q, product_type)) in words.iter().enumerate() {
        for (j, (code, _, lat, lng)) in DISTRICTS.iter().enumerate() {
            out.push(Search {
                q,
                product_type,
                district: (j % 3 == 0).then_some(*code),
                certified: ((i + j) % 4 == 0).then_some(true),
                at: (*lat, *lng),
                radius_km: [20, 50, 80][(i + j) % 3],
            });
        }
    }
    out
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Search {
    /// `GET /v1/market/listings?…`.
    fn wufei(&self) -> RequestSpec {
        let mut path = format!(
            "/v1/market/listings?q={}&product_type={}&lat={}&lng={}&radius_km={}&sort=distance&limit=20",
            encode(self.q),
            self.product_type,
            self.at.0,
            self.at.1,
            self.radius_km
        );
        if let Some(d) = self.district {
            path.push_str(&format!("&district_code={d}"));
        }
        if let Some(c) = self.certified {
            path.push_str(&format!("&certified={c}"));
        }
        RequestSpec::get(path)
    }

    /// The same search as wufei-api's Meilisearch adapter sends it (filter, sort, facets,
    /// attributes; see `domain/src/ports/search/meili.rs`).
    fn meili(&self, index: &str, key: &str) -> anyhow::Result<RequestSpec> {
        let mut filter = vec![
            "published = true".to_owned(),
            format!("product_type = \"{}\"", self.product_type),
        ];
        if let Some(d) = self.district {
            filter.push(format!("district_code = \"{d}\""));
        }
        if let Some(c) = self.certified {
            filter.push(format!("certified = {c}"));
        }
        filter.push(format!(
            "_geoRadius({:.7}, {:.7}, {:.3})",
            self.at.0,
            self.at.1,
            f64::from(self.radius_km) * 1000.0
        ));
        RequestSpec::post_json(
            format!("/indexes/{index}/search"),
            &json!({
                "q": self.q,
                "offset": 0,
                "limit": 20,
                "matchingStrategy": "all",
                "locales": ["cmn"],
                "attributesToRetrieve": ["id", "_geo"],
                "filter": filter.join(" AND "),
                "sort": [format!("_geoPoint({:.7}, {:.7}):asc", self.at.0, self.at.1), "id:asc"],
                "facets": ["product_type", "district_code"],
            }),
        )?
        .bearer(key)
    }
}

/// The searches as sent to wufei-api.
pub fn wufei_searches() -> anyhow::Result<Rotate> {
    Rotate::new(searches().iter().map(Search::wufei).collect())
}

/// The same searches sent straight to Meilisearch's index `index`.
pub fn meili_searches(index: &str, key: &str) -> anyhow::Result<Rotate> {
    Rotate::new(
        searches()
            .iter()
            .map(|s| s.meili(index, key))
            .collect::<anyhow::Result<_>>()?,
    )
}

/// Checks that every search finds something (a load of empty answers would flatter both).
pub async fn check_searches(addr: SocketAddr, workload: &Rotate) -> anyhow::Result<usize> {
    let mut empty = 0;
    for spec in workload.specs() {
        let answer = door::call(addr, spec, StatusCode::OK).await?;
        let hits = answer
            .get("items")
            .or_else(|| answer.get("hits"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if hits == 0 {
            empty += 1;
        }
    }
    Ok(empty)
}

/// `fresh`: listing edits until they are searchable.
#[derive(Clone, Debug, Default)]
pub struct Fresh {
    /// From the PATCH's 200 to the first search answer holding the edit.
    pub latency: Latency,
    /// Edits not found within the wait.
    pub missed: usize,
    /// Failed edits or searches.
    pub errors: usize,
    /// The first of them.
    pub first_error: Option<String>,
    /// The wait, seconds.
    pub wait_secs: u64,
}

impl Fresh {
    /// The goal: p99 ≤ 2 s, nothing missed.
    pub fn passed(&self) -> bool {
        self.latency.n > 0
            && self.missed == 0
            && self.errors == 0
            && self.latency.p99_us <= 2_000_000
    }
}

/// Edits the price of `samples` listings (one at a time, each after a random pause of up
/// to `jitter`) to a price no other listing has, and after each polls
/// `GET /v1/market/listings?min_price_fen=P&max_price_fen=P` every 10 ms until the listing
/// is in the answer, or `wait` passes. A price edit needs no review, so the listing stays
/// published; the index job of the edit is what is timed.
pub async fn fresh(
    api: SocketAddr,
    db: &DatabaseConnection,
    fx: &Fixture,
    samples: usize,
    wait: Duration,
    jitter: Duration,
) -> anyhow::Result<Fresh> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT id, merchant_id FROM market_listings WHERE status = 'published' ORDER BY random() LIMIT {}",
                samples.max(1)
            ),
        ))
        .await?;
    let mut out = Fresh {
        wait_secs: wait.as_secs(),
        ..Fresh::default()
    };
    let mut us = Vec::new();
    let mut editor = Conn::connect(api).await?;
    let mut searcher = Conn::connect(api).await?;
    // Prices above any the fixture makes (≤ 20 000 fen), one per edit and run.
    let base = 1_000_000 + (Uuid::new_v4().as_u128() % 1_000_000) as i64 * 10;
    for (i, row) in rows.iter().enumerate() {
        let id: Uuid = row.try_get("", "id")?;
        let merchant: Uuid = row.try_get("", "merchant_id")?;
        let Some(seller) = fx.sellers.iter().find(|m| m.merchant_id == merchant) else {
            bail!("listing {id} has no seller of the fixture");
        };
        let pause = jitter.mul_f64(f64::from(Uuid::new_v4().as_u128() as u16) / 65_535.0);
        tokio::time::sleep(pause).await;
        let price = base + i as i64;
        let edit = RequestSpec::json(
            Method::PATCH,
            format!("/v1/market/listings/{id}"),
            &json!({ "price_fen": price }),
        )?
        .bearer(&seller.token)?;
        editor.reopen_if_closed().await?;
        let (status, body) = editor.send(&edit).await?;
        if status != StatusCode::OK {
            out.errors += 1;
            out.first_error.get_or_insert_with(|| {
                format!(
                    "PATCH answered {status}: {}",
                    String::from_utf8_lossy(&body)
                )
            });
            continue;
        }
        let edited = Instant::now();
        let probe = RequestSpec::get(format!(
            "/v1/market/listings?min_price_fen={price}&max_price_fen={price}&limit=5"
        ));
        let needle = id.to_string();
        let mut found = false;
        while edited.elapsed() < wait {
            searcher.reopen_if_closed().await?;
            let (status, body) = searcher.send(&probe).await?;
            if status != StatusCode::OK {
                out.errors += 1;
                out.first_error.get_or_insert_with(|| {
                    format!(
                        "search answered {status}: {}",
                        String::from_utf8_lossy(&body)
                    )
                });
                break;
            }
            if String::from_utf8_lossy(&body).contains(&needle) {
                found = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if found {
            us.push(u32::try_from(edited.elapsed().as_micros()).unwrap_or(u32::MAX));
        } else {
            out.missed += 1;
        }
    }
    out.latency = Latency::of(us);
    Ok(out)
}

/// `oversell`: buyers accepting quotes on one listing at once.
#[derive(Clone, Debug, Default)]
pub struct Oversell {
    /// Buyers, each accepting one quote.
    pub buyers: usize,
    /// The listing's stock before.
    pub stock: i64,
    /// Quantity of each quote.
    pub quantity: i64,
    /// 201 answers.
    pub made: usize,
    /// 409 `insufficient_stock` answers.
    pub refused: usize,
    /// Any other answer (or failure), with the first.
    pub other: usize,
    /// The first other answer.
    pub first_error: Option<String>,
    /// Stock afterwards (the database).
    pub stock_after: i64,
    /// Deals on the listing and their quantity (the database).
    pub deals: i64,
    /// Their total quantity.
    pub dealt: i64,
    /// Latency of the accepts (all answers).
    pub latency: Latency,
}

impl Oversell {
    /// As many deals as the stock covers, and no more; the stock what is left.
    pub fn passed(&self) -> bool {
        let fits = usize::try_from(self.stock / self.quantity.max(1)).unwrap_or(0);
        self.other == 0
            && self.made == fits.min(self.buyers)
            && self.refused == self.buyers - self.made
            && self.deals == self.made as i64
            && self.dealt == self.made as i64 * self.quantity
            && self.stock_after == self.stock - self.dealt
            && self.stock_after >= 0
    }
}

/// Each buyer sends an inquiry on one listing, the seller quotes `quantity` to each; then
/// every buyer accepts at the same moment (connections opened beforehand) — the stock
/// covers about two thirds of them.
pub async fn oversell(
    api: SocketAddr,
    db: &DatabaseConnection,
    fx: &Fixture,
) -> anyhow::Result<Oversell> {
    let buyers = fx.buyers.len();
    let quantity = 3i64;
    let stock = quantity * (buyers as i64 * 2 / 3) + 1;
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT id, merchant_id FROM market_listings WHERE status = 'published' ORDER BY random() LIMIT 1",
        ))
        .await?
        .context("no listing")?;
    let id: Uuid = row.try_get("", "id")?;
    let merchant: Uuid = row.try_get("", "merchant_id")?;
    let Some(seller) = fx.sellers.iter().find(|m| m.merchant_id == merchant) else {
        bail!("listing {id} has no seller of the fixture");
    };
    let set = RequestSpec::json(
        Method::PATCH,
        format!("/v1/market/listings/{id}"),
        &json!({ "stock": stock, "min_order": 1 }),
    )?
    .bearer(&seller.token)?;
    door::call(api, &set, StatusCode::OK).await?;
    let until = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let mut accepts = Vec::with_capacity(buyers);
    for buyer in &fx.buyers {
        let inquiry = RequestSpec::post_json(
            format!("/v1/market/listings/{id}/inquiries"),
            &json!({ "quantity": quantity, "message": format!("需要 {quantity} 吨，请报价") }),
        )?
        .bearer(&buyer.token)?;
        let inquiry = door::call(api, &inquiry, StatusCode::CREATED).await?;
        let inquiry_id = inquiry
            .get("id")
            .and_then(Value::as_str)
            .with_context(|| format!("no inquiry id in {inquiry}"))?;
        let quote = RequestSpec::post_json(
            format!("/v1/market/inquiries/{inquiry_id}/quotes"),
            &json!({ "price_fen": 4200, "quantity": quantity, "valid_until": until }),
        )?
        .bearer(&seller.token)?;
        let quote = door::call(api, &quote, StatusCode::CREATED).await?;
        let quote_id = quote
            .get("id")
            .and_then(Value::as_str)
            .with_context(|| format!("no quote id in {quote}"))?;
        accepts.push(
            RequestSpec::post_json(format!("/v1/market/quotes/{quote_id}/accept"), &json!({}))?
                .bearer(&buyer.token)?,
        );
    }
    let gate = Arc::new(tokio::sync::Barrier::new(accepts.len()));
    let mut tasks = tokio::task::JoinSet::new();
    for spec in accepts {
        let mut conn = Conn::connect(api).await?;
        let gate = Arc::clone(&gate);
        tasks.spawn(async move {
            gate.wait().await;
            let sent = Instant::now();
            let answer = conn.send(&spec).await;
            (answer, sent.elapsed())
        });
    }
    let mut out = Oversell {
        buyers,
        stock,
        quantity,
        ..Oversell::default()
    };
    let mut us = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (answer, took) = joined?;
        us.push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
        match answer {
            Ok((StatusCode::CREATED, _)) => out.made += 1,
            Ok((StatusCode::CONFLICT, body))
                if String::from_utf8_lossy(&body).contains("insufficient_stock") =>
            {
                out.refused += 1;
            }
            Ok((status, body)) => {
                out.other += 1;
                out.first_error.get_or_insert_with(|| {
                    format!(
                        "accept answered {status}: {}",
                        String::from_utf8_lossy(&body)
                    )
                });
            }
            Err(e) => {
                out.other += 1;
                out.first_error
                    .get_or_insert_with(|| format!("accept: {e:#}"));
            }
        }
    }
    out.latency = Latency::of(us);
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT l.stock, (SELECT count(*) FROM market_deals d WHERE d.listing_id = l.id) AS deals, \
               (SELECT coalesce(sum(d.quantity), 0)::bigint FROM market_deals d WHERE d.listing_id = l.id) AS dealt \
             FROM market_listings l WHERE l.id = $1",
            [id.into()],
        ))
        .await?
        .context("the listing is gone")?;
    out.stock_after = row.try_get("", "stock")?;
    out.deals = row.try_get("", "deals")?;
    out.dealt = row.try_get("", "dealt")?;
    Ok(out)
}

/// What the marketplace scenarios measured on one footprint.
#[derive(Default)]
pub struct Report {
    /// Listings in the fixture and the seconds their SQL took.
    pub fixture: Option<(u64, f64)>,
    /// The reindex.
    pub reindex: Option<Reindex>,
    /// Wufei's search load (keyword + filter + geo sort), and the connections.
    pub search: Option<(LoadStats, usize)>,
    /// Searches of the rotation that found nothing.
    pub empty_searches: usize,
    /// Edits until searchable.
    pub fresh: Option<Fresh>,
    /// Concurrent accepts.
    pub oversell: Option<Oversell>,
}

/// The search latency goal: p95 ≤ 50 ms.
const SEARCH_P95_US: u64 = 50_000;

impl Report {
    /// Whether a goal was missed.
    pub fn missed(&self) -> bool {
        self.search.as_ref().is_some_and(|(s, _)| !search_passed(s))
            || self.fresh.as_ref().is_some_and(|f| !f.passed())
            || self.oversell.as_ref().is_some_and(|o| !o.passed())
    }
}

fn search_passed(s: &LoadStats) -> bool {
    s.ok > 0 && s.errors == 0 && s.failures == 0 && s.p95_us <= SEARCH_P95_US
}

fn ms(us: u64) -> String {
    format!("{:.1}", us as f64 / 1000.0)
}

/// The Markdown tables of the marketplace scenarios (also printed as is).
pub fn tables(results: &[FootprintResult]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let with: Vec<_> = results
        .iter()
        .filter(|fp| {
            let m = &fp.market;
            m.reindex.is_some() || m.search.is_some() || m.fresh.is_some() || m.oversell.is_some()
        })
        .collect();
    if with.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "Marketplace (issue 20): full reindex with `wufei-api search reindex` (server stopped); \
         `GET /v1/market/listings` keyword + product type (+ district, certified) + radius, \
         sorted by distance, closed loop; price edits until searchable; concurrent accepts:\n"
    );
    let _ = writeln!(
        out,
        "| footprint | engine | listings | reindex s (rebuild / command) | search req/s | p50 / p95 / p99 ms | errors | p95 goal ≤ 50 ms | | edit → searchable p50 / p95 / p99 ms (n, missed) | goal p99 ≤ 2 s | | accepts: buyers, stock, made / refused / other, stock after, deals | | accept p50 / max ms |"
    );
    let _ = writeln!(
        out,
        "|---|---|---:|---:|---:|---:|---:|---|---|---:|---|---|---|---|---:|"
    );
    for fp in with {
        let m = &fp.market;
        let (engine, listings, reindex) = m.reindex.as_ref().map_or_else(
            || ("-".to_owned(), "-".to_owned(), "-".to_owned()),
            |r| {
                (
                    r.engine.clone(),
                    r.written.to_string(),
                    format!("{:.1} / {:.1}", r.rebuild_secs, r.command_secs),
                )
            },
        );
        let [rps, lat, errs, pass] = latency_cells(m.search.as_ref(), search_passed);
        let (fresh, fresh_pass) = m.fresh.as_ref().map_or_else(
            || ("-".into(), "-"),
            |f| {
                (
                    format!(
                        "{} / {} / {} ({}, {} missed after {} s{})",
                        ms(f.latency.p50_us),
                        ms(f.latency.p95_us),
                        ms(f.latency.p99_us),
                        f.latency.n,
                        f.missed,
                        f.wait_secs,
                        if f.errors > 0 {
                            format!(", {} errors", f.errors)
                        } else {
                            String::new()
                        }
                    ),
                    verdict(f.passed()),
                )
            },
        );
        let (accepts, accept_pass, accept_lat) = m.oversell.as_ref().map_or_else(
            || ("-".into(), "-", "-".into()),
            |o| {
                (
                    format!(
                        "{} buyers × {}, stock {}: {} / {} / {}, stock after {}, {} deals ({} dealt)",
                        o.buyers,
                        o.quantity,
                        o.stock,
                        o.made,
                        o.refused,
                        o.other,
                        o.stock_after,
                        o.deals,
                        o.dealt
                    ),
                    verdict(o.passed()),
                    format!("{} / {}", ms(o.latency.p50_us), ms(o.latency.max_us)),
                )
            },
        );
        let _ = writeln!(
            out,
            "| {} | {engine} | {listings} | {reindex} | {rps} | {lat} | {errs} | p95 | {pass} | {fresh} | ≤ 2000 ms | {fresh_pass} | {accepts} | {accept_pass} | {accept_lat} |",
            fp.footprint
        );
    }
    let _ = writeln!(out);
    for fp in results {
        let m = &fp.market;
        if let Some((n, secs)) = m.fixture {
            let _ = writeln!(
                out,
                "- market fixture: {n} listings and {} merchants inserted by SQL in {secs:.1} s",
                SELLERS
            );
        }
        if m.empty_searches > 0 {
            let _ = writeln!(
                out,
                "- market ({}): {} of the rotation's searches found nothing",
                fp.footprint, m.empty_searches
            );
        }
        if let Some(e) = m.fresh.as_ref().and_then(|f| f.first_error.as_ref()) {
            let _ = writeln!(out, "- fresh ({}): first error: {e}", fp.footprint);
        }
        if let Some(e) = m.oversell.as_ref().and_then(|o| o.first_error.as_ref()) {
            let _ = writeln!(out, "- oversell ({}): first error: {e}", fp.footprint);
        }
        if let Some(e) = m.search.as_ref().and_then(|(s, _)| s.first_error.as_ref()) {
            let _ = writeln!(out, "- market search ({}): first error: {e}", fp.footprint);
        }
    }
    out
}
