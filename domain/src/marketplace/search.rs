//! The listings index: what a listing looks like to the search port, the job that keeps the
//! index in step with the database, and the public search.
//!
//! Every change to a listing bumps its version and stages [`TOPIC`] in its transaction; the
//! shared index job ([`crate::indexing`]) writes the listing as it is now (hidden listings
//! stay in the index with `published: false`, so versions only go up).

use std::collections::BTreeMap;

use async_trait::async_trait;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ListingSummary, listings::reference};
use crate::{
    entities::{market_listing as listing, market_product_type, merchant},
    error::{Error, Result},
    indexing::{self, Projection},
    ports::{
        geo::Position,
        search::{self as port, Document, Filter, IndexSpec, Near, SearchIndex, Sort, Value},
    },
};

/// Topic of the job that writes one listing to the index.
pub const TOPIC: &str = "market.index_listing";

/// The listings index.
pub const LISTINGS: IndexSpec = IndexSpec {
    name: "listings",
    text: &[
        "title",
        "spec",
        "product_name",
        "merchant_name",
        "description",
    ],
    keywords: &["product_type", "district_code", "merchant_id"],
    numbers: &["price_fen", "stock", "published_at"],
    flags: &["published", "certified", "procurement_ready"],
    geo: true,
    synonyms: &[
        &["再生骨料", "再生集料"],
        &["再生粗骨料", "再生粗集料"],
        &["再生细骨料", "再生细集料", "再生砂"],
        &["路基材料", "路基料", "道路基层材料"],
        &["再生砖", "再生混凝土砖"],
    ],
    dictionary: &[
        "再生骨料",
        "再生粗骨料",
        "再生细骨料",
        "再生集料",
        "透水砖",
        "再生砖",
        "路基",
        "路基材料",
        "砌块",
        "再生混凝土",
        "建筑垃圾",
    ],
};

/// The listings as the search index sees them.
pub struct Listings;

/// Stages the index job of listing `id` in the caller's transaction.
pub(crate) async fn stage(txn: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    indexing::stage::<Listings>(txn, id).await
}

/// The document of listing `l`.
pub fn document(l: &listing::Model, merchant_name: &str, product_name: &str) -> Document {
    let mut f: BTreeMap<&'static str, Value> = BTreeMap::new();
    f.insert("title", Value::Text(l.title.clone()));
    f.insert("spec", Value::Text(l.spec.clone()));
    f.insert("product_name", Value::Text(product_name.into()));
    f.insert("merchant_name", Value::Text(merchant_name.into()));
    f.insert("description", Value::Text(l.description.clone()));
    f.insert("product_type", Value::Text(l.product_type.clone()));
    f.insert("district_code", Value::Text(l.district_code.clone()));
    f.insert("merchant_id", Value::Text(l.merchant_id.to_string()));
    f.insert("price_fen", Value::Number(l.price_fen));
    f.insert("stock", Value::Number(l.stock));
    f.insert(
        "published_at",
        Value::Number(l.published_at.map_or(0, |t| t.timestamp())),
    );
    f.insert(
        "published",
        Value::Flag(l.status == listing::Status::Published),
    );
    f.insert("certified", Value::Flag(l.certified));
    f.insert("procurement_ready", Value::Flag(l.procurement_ready));
    Document {
        id: l.id.to_string(),
        version: l.version,
        fields: f,
        geo: Position::new(l.lat, l.lng),
    }
}

/// The document of listing `id` as it is now, or `None` if it does not exist.
pub async fn current(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Document>> {
    let Some(l) = listing::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let m = merchant::Entity::find_by_id(l.merchant_id).one(db).await?;
    let p = market_product_type::Entity::find_by_id(l.product_type.clone())
        .one(db)
        .await?;
    Ok(Some(document(
        &l,
        m.as_ref().map_or("", |m| m.company_name.as_str()),
        p.as_ref().map_or("", |p| p.name.as_str()),
    )))
}

/// The public search's query parameters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct SearchParams {
    /// Words to look for (Chinese or not), up to 100 characters.
    pub q: Option<String>,
    /// Only this product type.
    pub product_type: Option<String>,
    /// Only plants in this district.
    pub district_code: Option<String>,
    /// Lowest price per unit, fen.
    #[param(minimum = 0, maximum = 100_000_000)]
    pub min_price_fen: Option<i64>,
    /// Highest price per unit, fen.
    #[param(minimum = 0, maximum = 100_000_000)]
    pub max_price_fen: Option<i64>,
    /// Only listings holding a certificate in force.
    pub certified: Option<bool>,
    /// Only listings fit for green procurement (a green-building certification or a valid
    /// test report).
    pub procurement_ready: Option<bool>,
    /// Latitude of the point to measure distance from (GCJ-02); with `lng`.
    #[param(minimum = -85, maximum = 85)]
    pub lat: Option<f64>,
    /// Longitude of that point; with `lat`.
    #[param(minimum = -180, maximum = 180)]
    pub lng: Option<f64>,
    /// Only plants within this many km of the point (needs `lat`, `lng`), 1–500.
    #[param(minimum = 1, maximum = 500)]
    pub radius_km: Option<f64>,
    /// `relevance` (default), `price_asc`, `price_desc`, `distance` (needs `lat`, `lng`)
    /// or `newest`.
    pub sort: Option<String>,
    /// Results per page, 1–50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The longest query text, characters.
pub const MAX_Q: usize = 100;
/// How deep paging goes (Meilisearch's default `maxTotalHits`).
pub const MAX_OFFSET: usize = 1000;

/// A page of search results.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchPage {
    /// The listings, best first.
    pub items: Vec<ListingSummary>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
    /// How many listings match (an estimate on large results).
    pub estimated_total: u64,
    /// Matching listings per product type and per district.
    pub facets: BTreeMap<String, BTreeMap<String, u64>>,
}

/// Turns the parameters into a port query, refusing what is out of bounds with a 422.
pub fn query(p: &SearchParams) -> Result<port::Query> {
    let mut check = crate::validate::Check::new();
    let text = p.q.clone().unwrap_or_default();
    check.ensure(
        text.chars().count() <= MAX_Q,
        "q",
        "too_long",
        format!("at most {MAX_Q} characters"),
    );
    let mut filters = vec![Filter::Flag("published", true)];
    if let Some(t) = &p.product_type {
        filters.push(Filter::Is("product_type", t.clone()));
    }
    if let Some(d) = &p.district_code {
        filters.push(Filter::Is("district_code", d.clone()));
    }
    for (field, v) in [
        ("min_price_fen", p.min_price_fen),
        ("max_price_fen", p.max_price_fen),
    ] {
        if let Some(v) = v {
            check.range(field, v, 0, super::listings::MAX_PRICE_FEN);
        }
    }
    if p.min_price_fen.is_some() || p.max_price_fen.is_some() {
        filters.push(Filter::Between(
            "price_fen",
            p.min_price_fen,
            p.max_price_fen,
        ));
    }
    if let Some(c) = p.certified {
        filters.push(Filter::Flag("certified", c));
    }
    if let Some(c) = p.procurement_ready {
        filters.push(Filter::Flag("procurement_ready", c));
    }
    let at = match (p.lat, p.lng) {
        (Some(lat), Some(lng)) => {
            let pos = Position::new(lat, lng);
            check.ensure(
                pos.is_some(),
                "lat",
                "out_of_range",
                "not a point on the map",
            );
            pos
        }
        (None, None) => None,
        _ => {
            check.fail("lat", "required", "lat and lng go together");
            None
        }
    };
    if let Some(r) = p.radius_km {
        check.ensure(
            r.is_finite() && (1.0..=500.0).contains(&r),
            "radius_km",
            "out_of_range",
            "must be between 1 and 500",
        );
        check.ensure(
            at.is_some() || p.lat.is_some(),
            "radius_km",
            "required",
            "needs lat and lng",
        );
    }
    let sort = match p.sort.as_deref().unwrap_or("relevance") {
        "relevance" => Sort::Relevance,
        "price_asc" => Sort::Asc("price_fen"),
        "price_desc" => Sort::Desc("price_fen"),
        "newest" => Sort::Desc("published_at"),
        "distance" => {
            check.ensure(
                at.is_some() || p.lat.is_some(),
                "sort",
                "required",
                "distance needs lat and lng",
            );
            Sort::Distance
        }
        _ => {
            check.fail(
                "sort",
                "invalid",
                "must be relevance, price_asc, price_desc, distance or newest",
            );
            Sort::Relevance
        }
    };
    let limit = p.limit.unwrap_or(20);
    check.ensure(
        (1..=50).contains(&limit),
        "limit",
        "out_of_range",
        "must be between 1 and 50",
    );
    let offset = match p.cursor.as_deref() {
        None | Some("") => 0,
        Some(c) => match c.strip_prefix('o').and_then(|n| n.parse::<usize>().ok()) {
            Some(n) if n <= MAX_OFFSET => n,
            _ => {
                check.fail("cursor", "invalid", "not a cursor this search gave out");
                0
            }
        },
    };
    check.finish()?;
    Ok(port::Query {
        text,
        filters,
        near: at.map(|at| Near {
            at,
            within_m: p.radius_km.map(|km| km * 1000.0),
        }),
        sort,
        offset,
        limit: usize::try_from(limit).unwrap_or(20),
        facets: vec!["product_type", "district_code"],
    })
}

/// The public search: published listings only, answered from the index and read back
/// from the database (a listing unpublished since it was indexed is left out).
pub async fn search(
    db: &impl ConnectionTrait,
    engine: &dyn SearchIndex,
    params: &SearchParams,
) -> Result<SearchPage> {
    let q = query(params)?;
    let hits = engine.search(&LISTINGS, &q).await.map_err(Error::search)?;
    let ids: Vec<Uuid> = hits
        .hits
        .iter()
        .filter_map(|h| Uuid::parse_str(&h.id).ok())
        .collect();
    let rows = listing::Entity::find()
        .filter(listing::Column::Id.is_in(ids.clone()))
        .filter(listing::Column::Status.eq(listing::Status::Published))
        .all(db)
        .await?;
    let merchant_ids: Vec<Uuid> = rows.iter().map(|l| l.merchant_id).collect();
    let merchants: BTreeMap<Uuid, merchant::Model> = merchant::Entity::find()
        .filter(merchant::Column::Id.is_in(merchant_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let mut by_id: BTreeMap<Uuid, listing::Model> = rows.into_iter().map(|l| (l.id, l)).collect();
    let mut items = Vec::with_capacity(ids.len());
    for hit in &hits.hits {
        let Some(l) = Uuid::parse_str(&hit.id)
            .ok()
            .and_then(|id| by_id.remove(&id))
        else {
            continue;
        };
        let Some(m) = merchants.get(&l.merchant_id) else {
            continue;
        };
        let km = hit.distance_m.map(|m| (m / 100.0).round() / 10.0);
        items.push(ListingSummary::of(l, reference(m), km));
    }
    let next = q.offset + hits.hits.len();
    let next_cursor =
        (hits.hits.len() == q.limit && (next as u64) < hits.estimated_total && next < MAX_OFFSET)
            .then(|| format!("o{next}"));
    Ok(SearchPage {
        items,
        next_cursor,
        estimated_total: hits.estimated_total,
        facets: hits.facets,
    })
}

#[async_trait]
impl Projection for Listings {
    const SPEC: IndexSpec = LISTINGS;
    const TOPIC: &'static str = TOPIC;

    async fn document(db: &DatabaseConnection, id: Uuid) -> Result<Option<Document>> {
        current(db, id).await
    }

    async fn version(db: &DatabaseConnection, id: Uuid) -> Result<Option<i64>> {
        Ok(listing::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|l| l.version))
    }

    async fn batch(
        db: &DatabaseConnection,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<Document>> {
        use sea_orm::{QueryOrder, QuerySelect};

        let names: BTreeMap<String, String> = market_product_type::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.code, p.name))
            .collect();
        let mut q = listing::Entity::find()
            .order_by_asc(listing::Column::Id)
            .limit(limit);
        if let Some(a) = after {
            q = q.filter(listing::Column::Id.gt(a));
        }
        let rows = q.all(db).await?;
        let owners: BTreeMap<Uuid, String> = merchant::Entity::find()
            .filter(merchant::Column::Id.is_in(rows.iter().map(|l| l.merchant_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.id, m.company_name))
            .collect();
        Ok(rows
            .iter()
            .map(|l| {
                document(
                    l,
                    owners.get(&l.merchant_id).map_or("", String::as_str),
                    names.get(&l.product_type).map_or("", String::as_str),
                )
            })
            .collect())
    }

    async fn count(db: &DatabaseConnection) -> Result<u64> {
        use sea_orm::PaginatorTrait;
        Ok(listing::Entity::find().count(db).await?)
    }
}
