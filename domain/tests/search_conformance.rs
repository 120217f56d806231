//! Conformance suite for the search port: every case is written once over
//! `Arc<dyn SearchIndex>` and run against each adapter — the embedded engine (tantivy in a
//! temporary directory) always, Meilisearch when `WUFEI_TEST_MEILI_URL` is set (with
//! `WUFEI_TEST_MEILI_KEY`; each test under its own random index prefix).
//!
//! The documents are listings of recycled construction materials, as the marketplace will
//! index them: Chinese titles mixed with specifications (`C30`, `5-31.5mm`, `GB/T 25177`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed expectation is a failed test

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use wufei_domain::ports::PortError;
use wufei_domain::ports::geo::{Position, distance_m};
use wufei_domain::ports::search::embedded::EmbeddedSearch;
use wufei_domain::ports::search::meili::{MeiliConfig, MeiliSearch, REBUILD_CLOCK_SLACK};
use wufei_domain::ports::search::{
    Document, Filter, Hits, IndexSpec, MAX_QUERY_CHARS, Near, Query, SearchIndex, Sort, Value,
};

const MEILI_URL_VAR: &str = "WUFEI_TEST_MEILI_URL";
const MEILI_KEY_VAR: &str = "WUFEI_TEST_MEILI_KEY";

/// The marketplace's listings, as the port sees them.
const LISTINGS: IndexSpec = IndexSpec {
    name: "listings",
    text: &["title", "description", "spec"],
    keywords: &["product_type", "district_code", "merchant_id"],
    numbers: &["price_fen", "stock", "published_at"],
    flags: &["published", "certified"],
    geo: true,
    synonyms: &[&["再生骨料", "再生集料"], &["透水砖", "渗水砖"]],
    dictionary: &["再生粗骨料", "再生细骨料", "透水砖", "路基材料"],
};

/// By Liaocheng's municipal government (GCJ-02).
const CENTER: Position = Position {
    lat: 36.456_957,
    lng: 115.985_400,
};

/// A point `north_m` metres north and `east_m` metres east of [`CENTER`].
fn offset(north_m: f64, east_m: f64) -> Position {
    let m_per_deg_lat = 111_226.3;
    let m_per_deg_lng = m_per_deg_lat * CENTER.lat.to_radians().cos();
    Position {
        lat: CENTER.lat + north_m / m_per_deg_lat,
        lng: CENTER.lng + east_m / m_per_deg_lng,
    }
}

/// A listing; unset fields are absent from the document.
#[derive(Clone, Default)]
struct Listing {
    id: &'static str,
    version: i64,
    title: &'static str,
    description: &'static str,
    spec: &'static str,
    product_type: &'static str,
    district_code: &'static str,
    merchant_id: &'static str,
    price_fen: Option<i64>,
    stock: Option<i64>,
    published: bool,
    certified: bool,
    at: Option<Position>,
}

impl Listing {
    fn doc(&self) -> Document {
        let mut fields = BTreeMap::new();
        for (name, text) in [
            ("title", self.title),
            ("description", self.description),
            ("spec", self.spec),
            ("product_type", self.product_type),
            ("district_code", self.district_code),
            ("merchant_id", self.merchant_id),
        ] {
            if !text.is_empty() {
                fields.insert(name, Value::Text(text.into()));
            }
        }
        if let Some(p) = self.price_fen {
            fields.insert("price_fen", Value::Number(p));
        }
        if let Some(s) = self.stock {
            fields.insert("stock", Value::Number(s));
        }
        fields.insert("published_at", Value::Number(1_790_000_000 + self.version));
        fields.insert("published", Value::Flag(self.published));
        fields.insert("certified", Value::Flag(self.certified));
        Document {
            id: self.id.into(),
            version: self.version.max(1),
            fields,
            geo: self.at,
        }
    }
}

/// Six listings around Liaocheng.
fn catalogue() -> Vec<Listing> {
    vec![
        Listing {
            id: "a-coarse",
            title: "再生粗骨料 C30 5-31.5mm",
            description: "建筑垃圾再生粗骨料，适用于C30混凝土",
            spec: "粒径 5-31.5mm，符合 GB/T 25177",
            product_type: "coarse_aggregate",
            district_code: "371502",
            merchant_id: "m-1",
            price_fen: Some(4500),
            stock: Some(1000),
            published: true,
            certified: true,
            at: Some(offset(500.0, 0.0)),
            ..Listing::default()
        },
        Listing {
            id: "b-fine",
            title: "再生细骨料",
            description: "机制砂替代品，再生细骨料 0-5mm",
            spec: "GB/T 25176",
            product_type: "fine_aggregate",
            district_code: "371502",
            merchant_id: "m-2",
            price_fen: Some(3800),
            stock: Some(500),
            published: true,
            at: Some(offset(2000.0, 1000.0)),
            ..Listing::default()
        },
        Listing {
            id: "c-permeable",
            title: "透水砖 再生砖",
            description: "人行道透水砖，孔隙率高",
            spec: "200×100×60mm",
            product_type: "permeable_brick",
            district_code: "371521",
            merchant_id: "m-1",
            price_fen: Some(120),
            stock: Some(20_000),
            published: true,
            certified: true,
            at: Some(offset(-8000.0, 0.0)),
            ..Listing::default()
        },
        Listing {
            id: "d-roadbase",
            title: "路基材料 再生级配碎石",
            description: "道路基层用再生骨料",
            spec: "0-31.5mm 级配",
            product_type: "road_base",
            district_code: "371502",
            merchant_id: "m-3",
            price_fen: Some(2600),
            published: false,
            at: Some(offset(0.0, -3000.0)),
            ..Listing::default()
        },
        Listing {
            id: "e-c35",
            title: "再生集料 C35",
            description: "再生集料，质量稳定",
            spec: "5-25mm",
            product_type: "coarse_aggregate",
            district_code: "371581",
            merchant_id: "m-2",
            price_fen: Some(4200),
            published: true,
            ..Listing::default()
        },
        Listing {
            id: "f-brick",
            title: "再生砖",
            description: "标准砖 240×115×53mm",
            product_type: "recycled_brick",
            district_code: "371521",
            merchant_id: "m-3",
            price_fen: Some(35),
            published: true,
            certified: true,
            at: Some(offset(12_000.0, 0.0)),
            ..Listing::default()
        },
    ]
}

fn query(text: &str) -> Query {
    Query {
        text: text.into(),
        filters: Vec::new(),
        near: None,
        sort: Sort::Relevance,
        offset: 0,
        limit: 100,
        facets: Vec::new(),
    }
}

async fn run(search: &Arc<dyn SearchIndex>, q: &Query) -> Hits {
    search
        .search(&LISTINGS, q)
        .await
        .unwrap_or_else(|e| panic!("{q:?}: {e}"))
}

async fn ids(search: &Arc<dyn SearchIndex>, q: &Query) -> Vec<String> {
    run(search, q)
        .await
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect()
}

async fn ids_of(search: &Arc<dyn SearchIndex>, text: &str) -> Vec<String> {
    ids(search, &query(text)).await
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

async fn load(search: &Arc<dyn SearchIndex>) {
    search.prepare(&LISTINGS).await.expect("prepare");
    let docs = catalogue().iter().map(Listing::doc).collect();
    search.upsert(&LISTINGS, docs).await.expect("upsert");
}

// ---- the cases -------------------------------------------------------------------------

async fn chinese_words_are_found_inside_longer_words(search: Arc<dyn SearchIndex>) {
    load(&search).await;
    let found = ids_of(&search, "骨料").await;
    for id in ["a-coarse", "b-fine", "d-roadbase"] {
        assert!(found.contains(&id.to_string()), "骨料 → {found:?}");
    }
    for id in ["c-permeable", "f-brick"] {
        assert!(!found.contains(&id.to_string()), "骨料 → {found:?}");
    }
    assert!(
        ids_of(&search, "透水")
            .await
            .contains(&"c-permeable".into())
    );
    assert!(ids_of(&search, "路基").await.contains(&"d-roadbase".into()));
    let bricks = ids_of(&search, "再生砖").await;
    assert!(bricks.contains(&"f-brick".into()), "{bricks:?}");
    assert!(bricks.contains(&"c-permeable".into()), "{bricks:?}");
}

async fn dictionary_words_are_kept_whole(search: Arc<dyn SearchIndex>) {
    load(&search).await;
    // One word: only the listing that has the whole word, not those with 再生 … 骨料.
    assert_eq!(ids_of(&search, "再生粗骨料").await, strings(&["a-coarse"]));
    assert_eq!(ids_of(&search, "再生细骨料").await, strings(&["b-fine"]));
    // No infix beyond the dictionary words' parts.
    assert!(ids_of(&search, "粗骨").await.is_empty());
}

async fn synonyms_find_each_other(search: Arc<dyn SearchIndex>) {
    load(&search).await;
    let found = ids_of(&search, "再生集料").await;
    assert!(found.contains(&"e-c35".into()), "{found:?}");
    assert!(
        found.contains(&"d-roadbase".into()),
        "再生集料 finds 再生骨料: {found:?}"
    );
    let found = ids_of(&search, "再生骨料").await;
    assert!(found.contains(&"d-roadbase".into()), "{found:?}");
    assert!(
        found.contains(&"e-c35".into()),
        "再生骨料 finds 再生集料: {found:?}"
    );
    let found = ids_of(&search, "渗水砖").await;
    assert_eq!(found, strings(&["c-permeable"]));
}

async fn specifications_with_letters_and_digits_are_found(search: Arc<dyn SearchIndex>) {
    load(&search).await;
    for q in ["C30", "c30", "5-31.5mm", "C30 5-31.5mm", "GB/T 25177"] {
        let found = ids_of(&search, q).await;
        assert!(found.contains(&"a-coarse".into()), "{q} → {found:?}");
        assert!(!found.contains(&"e-c35".into()), "{q} → {found:?}");
    }
    assert_eq!(ids_of(&search, "C35").await, strings(&["e-c35"]));
    assert_eq!(ids_of(&search, "5-25mm").await, strings(&["e-c35"]));
    assert_eq!(ids_of(&search, "C40").await, Vec::<String>::new());
    // `.` separates: 31.5mm is `31` and `5mm`.
    assert!(ids_of(&search, "31").await.contains(&"a-coarse".into()));
}

async fn every_word_must_match(search: Arc<dyn SearchIndex>) {
    load(&search).await;
    assert_eq!(ids_of(&search, "透水砖 C30").await, Vec::<String>::new());
    assert_eq!(
        ids_of(&search, "再生粗骨料 C30").await,
        strings(&["a-coarse"])
    );
}

async fn filters_combine(search: Arc<dyn SearchIndex>) {
    load(&search).await;
    let mut q = query("");
    q.filters = vec![
        Filter::Is("product_type", "coarse_aggregate".into()),
        Filter::Flag("published", true),
    ];
    assert_eq!(
        sorted(ids(&search, &q).await),
        strings(&["a-coarse", "e-c35"])
    );
    q.filters
        .push(Filter::Between("price_fen", None, Some(4300)));
    assert_eq!(ids(&search, &q).await, strings(&["e-c35"]));
    q.filters.push(Filter::Flag("certified", true));
    assert_eq!(ids(&search, &q).await, Vec::<String>::new());

    let mut q = query("");
    q.filters = vec![Filter::Between("stock", Some(1000), None)];
    assert_eq!(
        sorted(ids(&search, &q).await),
        strings(&["a-coarse", "c-permeable"])
    );
    q.filters = vec![Filter::Between("price_fen", Some(120), Some(2600))];
    assert_eq!(
        sorted(ids(&search, &q).await),
        strings(&["c-permeable", "d-roadbase"])
    );
    q.filters = vec![Filter::Flag("published", false)];
    assert_eq!(ids(&search, &q).await, strings(&["d-roadbase"]));
    q.filters = vec![Filter::Is("district_code", "371502".into())];
    q.text = "骨料".into();
    assert_eq!(
        sorted(ids(&search, &q).await),
        strings(&["a-coarse", "b-fine", "d-roadbase"])
    );
    // A keyword value full of filter syntax is a value, nothing else.
    q.filters = vec![Filter::Is("merchant_id", "m-1\" OR id != \"x".into())];
    assert_eq!(ids(&search, &q).await, Vec::<String>::new());
}

async fn facets_count_the_matching_documents(search: Arc<dyn SearchIndex>) {
    load(&search).await;
    let mut q = query("");
    q.filters = vec![Filter::Flag("published", true)];
    q.facets = vec!["product_type", "district_code"];
    let hits = run(&search, &q).await;
    assert_eq!(hits.estimated_total, 5);
    let counts = |pairs: &[(&str, u64)]| -> BTreeMap<String, u64> {
        pairs.iter().map(|(k, v)| ((*k).to_string(), *v)).collect()
    };
    assert_eq!(
        hits.facets["product_type"],
        counts(&[
            ("coarse_aggregate", 2),
            ("fine_aggregate", 1),
            ("permeable_brick", 1),
            ("recycled_brick", 1)
        ])
    );
    assert_eq!(
        hits.facets["district_code"],
        counts(&[("371502", 2), ("371521", 2), ("371581", 1)])
    );
    q.text = "砖".into();
    let hits = run(&search, &q).await;
    assert_eq!(
        hits.facets["product_type"],
        counts(&[("permeable_brick", 1), ("recycled_brick", 1)])
    );
}

async fn a_radius_filters_and_distance_sorts(search: Arc<dyn SearchIndex>) {
    load(&search).await;
    let mut q = query("");
    q.near = Some(Near {
        at: CENTER,
        within_m: Some(5_000.0),
    });
    q.sort = Sort::Distance;
    let hits = run(&search, &q).await;
    let found: Vec<&str> = hits.hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(found, ["a-coarse", "b-fine", "d-roadbase"]);
    assert_eq!(hits.estimated_total, 3);
    let all = catalogue();
    for hit in &hits.hits {
        let at = all.iter().find(|l| l.id == hit.id).unwrap().at.unwrap();
        let d = hit.distance_m.expect("distance reported");
        assert!((d - distance_m(CENTER, at)).abs() < 1.0, "{hit:?}");
    }

    // Without a radius: every listing, nearest first, the one without a position last.
    q.near = Some(Near {
        at: CENTER,
        within_m: None,
    });
    let hits = run(&search, &q).await;
    let found: Vec<&str> = hits.hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(
        found,
        [
            "a-coarse",
            "b-fine",
            "d-roadbase",
            "c-permeable",
            "f-brick",
            "e-c35"
        ]
    );
    assert_eq!(hits.hits[5].distance_m, None);

    // Text, a filter and a radius together.
    let mut q = query("骨料");
    q.filters = vec![Filter::Flag("published", true)];
    q.near = Some(Near {
        at: CENTER,
        within_m: Some(1_000.0),
    });
    assert_eq!(ids(&search, &q).await, strings(&["a-coarse"]));

    // A radius that cannot match finds nothing, without an error.
    q.near = Some(Near {
        at: CENTER,
        within_m: Some(-1.0),
    });
    assert_eq!(ids(&search, &q).await, Vec::<String>::new());
}

/// Nine listings, four at the same price: the order is (price, id) and pages of two cover
/// it exactly once.
async fn price_sort_pages_stably(search: Arc<dyn SearchIndex>) {
    search.prepare(&LISTINGS).await.unwrap();
    let prices = [
        ("p-7", 900),
        ("p-3", 500),
        ("p-9", 500),
        ("p-1", 500),
        ("p-5", 2_000),
        ("p-2", 100),
        ("p-8", 500),
        ("p-4", 7_000),
        ("p-6", 1_500),
    ];
    let docs = prices
        .iter()
        .map(|(id, price)| {
            Listing {
                id,
                title: "再生砖",
                price_fen: Some(*price),
                published: true,
                ..Listing::default()
            }
            .doc()
        })
        .collect();
    search.upsert(&LISTINGS, docs).await.unwrap();
    let mut expected: Vec<(i64, &str)> = prices.iter().map(|(id, p)| (*p, *id)).collect();
    expected.sort();
    let asc: Vec<String> = expected.iter().map(|(_, id)| (*id).to_string()).collect();
    let mut desc_order: Vec<(i64, &str)> = expected.clone();
    desc_order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let desc: Vec<String> = desc_order.iter().map(|(_, id)| (*id).to_string()).collect();

    for (sort, want) in [
        (Sort::Asc("price_fen"), &asc),
        (Sort::Desc("price_fen"), &desc),
    ] {
        for text in ["", "再生砖"] {
            let mut paged = Vec::new();
            for page in 0..5 {
                let mut q = query(text);
                q.sort = sort;
                q.offset = page * 2;
                q.limit = 2;
                let hits = run(&search, &q).await;
                assert_eq!(hits.estimated_total, 9, "{sort:?}");
                paged.extend(hits.hits.into_iter().map(|h| h.id));
            }
            assert_eq!(&paged, want, "{sort:?} {text:?}");
        }
    }
    // Relevance with equal matches: a stable order too.
    let mut q = query("再生砖");
    let first = ids(&search, &q).await;
    q.limit = 4;
    q.offset = 4;
    let tail = ids(&search, &q).await;
    assert_eq!(&first[4..8], tail.as_slice());
}

async fn an_older_version_never_replaces_a_newer_one(search: Arc<dyn SearchIndex>) {
    search.prepare(&LISTINGS).await.unwrap();
    let v = |version, title| {
        Listing {
            id: "v-1",
            version,
            title,
            published: true,
            ..Listing::default()
        }
        .doc()
    };
    search
        .upsert(&LISTINGS, vec![v(2, "透水砖 新")])
        .await
        .unwrap();
    search
        .upsert(&LISTINGS, vec![v(1, "再生砖 旧")])
        .await
        .unwrap();
    assert_eq!(search.version_of(&LISTINGS, "v-1").await.unwrap(), Some(2));
    assert_eq!(ids_of(&search, "透水砖").await, strings(&["v-1"]));
    assert!(ids_of(&search, "再生砖").await.is_empty());

    // The same version again is written (idempotent); a newer one replaces.
    search
        .upsert(&LISTINGS, vec![v(2, "透水砖 新")])
        .await
        .unwrap();
    search
        .upsert(&LISTINGS, vec![v(4, "再生砖 最新"), v(3, "透水砖 中")])
        .await
        .unwrap();
    assert_eq!(search.version_of(&LISTINGS, "v-1").await.unwrap(), Some(4));
    assert_eq!(ids_of(&search, "再生砖").await, strings(&["v-1"]));
    assert!(ids_of(&search, "透水砖").await.is_empty());
    assert_eq!(search.version_of(&LISTINGS, "nobody").await.unwrap(), None);
}

async fn delete_removes_documents(search: Arc<dyn SearchIndex>) {
    load(&search).await;
    search
        .delete(&LISTINGS, vec!["a-coarse".into(), "never-was".into()])
        .await
        .unwrap();
    assert_eq!(
        search.version_of(&LISTINGS, "a-coarse").await.unwrap(),
        None
    );
    assert!(ids_of(&search, "C30").await.is_empty());
    assert_eq!(run(&search, &query("")).await.estimated_total, 5);
    search.delete(&LISTINGS, Vec::new()).await.unwrap();
}

/// The catalogue, written long enough before a rebuild that the rebuild does not take it
/// for writes made while it ran (Meilisearch's clock allowance).
async fn load_before_rebuild(search: &Arc<dyn SearchIndex>) {
    load(search).await;
    tokio::time::sleep(REBUILD_CLOCK_SLACK + Duration::from_millis(100)).await;
}

/// The rebuild reads a stream the test feeds by hand: between two batches the old index
/// still answers, a write made meanwhile survives the swap, and afterwards only the new
/// documents (and that write) are there.
async fn rebuild_swaps_and_search_answers_meanwhile(search: Arc<dyn SearchIndex>) {
    load_before_rebuild(&search).await;
    let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Vec<Document>, PortError>>();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let told = seen.clone();
    let progress = move |n: u64| told.lock().unwrap().push(n);
    let fresh = |id: &'static str, version: i64, title: &'static str| {
        Listing {
            id,
            version,
            title,
            published: true,
            ..Listing::default()
        }
        .doc()
    };
    let driver = async {
        tx.unbounded_send(Ok(vec![
            fresh("r-1", 7, "再生粗骨料 新货"),
            fresh("r-2", 7, "透水砖 新货"),
        ]))
        .unwrap();
        // Wait until the first batch is written, then look: the old index answers.
        let deadline = Instant::now() + Duration::from_secs(30);
        while seen.lock().unwrap().is_empty() {
            assert!(
                Instant::now() < deadline,
                "the first batch was never written"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(ids_of(&search, "C30").await.contains(&"a-coarse".into()));
        assert!(!ids_of(&search, "新货").await.contains(&"r-1".into()));
        // A write while the rebuild runs.
        search
            .upsert(&LISTINGS, vec![fresh("w-1", 1, "路基材料 期间写入")])
            .await
            .unwrap();
        // r-1 again, older: the stream's own older copy is skipped.
        tx.unbounded_send(Ok(vec![
            fresh("r-3", 7, "再生砖 新货"),
            fresh("r-1", 6, "旧版本 不该出现"),
        ]))
        .unwrap();
        tx.close_channel();
    };
    let (written, ()) = tokio::join!(search.rebuild(&LISTINGS, rx.boxed(), &progress), driver);
    let written = written.expect("rebuild");
    assert_eq!(written, 3, "r-1's older second copy is not written");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.last(), Some(&3), "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");

    assert_eq!(
        sorted(ids_of(&search, "新货").await),
        strings(&["r-1", "r-2", "r-3"])
    );
    assert!(
        ids_of(&search, "C30").await.is_empty(),
        "the old documents are gone"
    );
    assert_eq!(ids_of(&search, "期间写入").await, strings(&["w-1"]));
    assert_eq!(run(&search, &query("")).await.estimated_total, 4);
    assert!(ids_of(&search, "旧版本").await.is_empty());
}

async fn a_failed_rebuild_leaves_the_live_index(search: Arc<dyn SearchIndex>) {
    load_before_rebuild(&search).await;
    let batches: Vec<Result<Vec<Document>, PortError>> = vec![
        Ok(vec![catalogue()[0].doc()]),
        Err(PortError::backend("database", "gone")),
    ];
    let result = search
        .rebuild(&LISTINGS, futures::stream::iter(batches).boxed(), &|_| {})
        .await;
    assert!(result.is_err());
    assert_eq!(run(&search, &query("")).await.estimated_total, 6);
    // And the next rebuild works.
    let batches: Vec<Result<Vec<Document>, PortError>> = vec![Ok(vec![catalogue()[1].doc()])];
    let written = search
        .rebuild(&LISTINGS, futures::stream::iter(batches).boxed(), &|_| {})
        .await
        .unwrap();
    assert_eq!(written, 1);
    assert_eq!(ids_of(&search, "").await, strings(&["b-fine"]));
}

/// Query text is words, never syntax: none of these errs, and those with no word of the
/// catalogue find nothing.
async fn hostile_query_text_is_only_words(search: Arc<dyn SearchIndex>) {
    load(&search).await;
    let long = "再生骨料 ".repeat(2_000);
    let very_long = "x".repeat(10_000);
    let hostile = [
        "\"",
        "\\",
        "\"再生",
        "再生\"",
        "AND OR NOT",
        "title:x",
        "title:再生",
        "*",
        "?",
        "(",
        ")",
        "[1 TO 5]",
        "+骨料 -砖",
        "-砖",
        "price_fen > 0",
        "_geoRadius(0, 0, 1)",
        "id = 1",
        "😀",
        "🧱再生砖🧱",
        "\u{0}",
        "\u{202e}",
        "'; DROP TABLE listings; --",
        "~",
        "^2",
        "{}",
        "a\nb\tc",
        long.as_str(),
        very_long.as_str(),
    ];
    for text in hostile {
        let mut q = query(text);
        q.filters = vec![Filter::Flag("published", true)];
        let result = search.search(&LISTINGS, &q).await;
        let short: String = text.chars().take(30).collect();
        assert!(result.is_ok(), "{short:?}: {result:?}");
    }
    for text in ["AND OR NOT", "title:x", "😀", "price_fen > 0", "id = 1"] {
        assert_eq!(ids_of(&search, text).await, Vec::<String>::new(), "{text}");
    }
    // Words beyond MAX_QUERY_CHARS do not count: the first 200 characters find it.
    let padded = format!("{}透水砖", " ".repeat(MAX_QUERY_CHARS));
    assert!(
        ids_of(&search, &padded).await.len() == 6,
        "only spaces were read"
    );
    // Quotes are no phrase: the words match apart.
    assert!(
        ids_of(&search, "\"C30 GB/T\"")
            .await
            .contains(&"a-coarse".into())
    );
    assert!(
        ids_of(&search, "-砖").await.contains(&"c-permeable".into()),
        "- is no negation"
    );
}

async fn empty_text_matches_everything_and_pages_are_bounded(search: Arc<dyn SearchIndex>) {
    load(&search).await;
    let hits = run(&search, &query("")).await;
    assert_eq!(hits.estimated_total, 6);
    assert_eq!(hits.hits.len(), 6);
    assert!(hits.hits.iter().all(|h| h.distance_m.is_none()));
    assert_eq!(
        ids_of(&search, "，。！").await.len(),
        6,
        "punctuation only: no words"
    );
    let mut q = query("");
    q.limit = 0;
    let hits = run(&search, &q).await;
    assert!(hits.hits.is_empty());
    assert_eq!(hits.estimated_total, 6);
    q.limit = 1_000;
    q.offset = 4;
    assert_eq!(run(&search, &q).await.hits.len(), 2);
    q.offset = 50_000;
    assert!(run(&search, &q).await.hits.is_empty());
}

async fn a_title_match_ranks_first(search: Arc<dyn SearchIndex>) {
    search.prepare(&LISTINGS).await.unwrap();
    let docs = vec![
        Listing {
            id: "z-in-title",
            title: "透水砖",
            description: "人行道铺装",
            ..Listing::default()
        }
        .doc(),
        Listing {
            id: "a-in-description",
            title: "路面砖",
            description: "也可做透水砖使用",
            ..Listing::default()
        }
        .doc(),
    ];
    search.upsert(&LISTINGS, docs).await.unwrap();
    assert_eq!(
        ids_of(&search, "透水砖").await,
        strings(&["z-in-title", "a-in-description"])
    );
}

async fn undeclared_fields_are_refused(search: Arc<dyn SearchIndex>) {
    load(&search).await;
    let mut q = query("");
    q.filters = vec![Filter::Is("title", "x".into())];
    assert!(search.search(&LISTINGS, &q).await.is_err());
    let mut q = query("");
    q.sort = Sort::Asc("title");
    assert!(search.search(&LISTINGS, &q).await.is_err());
    let mut q = query("");
    q.facets = vec!["price_fen"];
    assert!(search.search(&LISTINGS, &q).await.is_err());
    let mut bad = catalogue()[0].doc();
    bad.fields.insert("colour", Value::Text("grey".into()));
    assert!(search.upsert(&LISTINGS, vec![bad]).await.is_err());
    let mut bad = catalogue()[0].doc();
    bad.id = "a b".into();
    assert!(search.upsert(&LISTINGS, vec![bad]).await.is_err());
}

async fn prepare_is_idempotent_and_ready_answers(search: Arc<dyn SearchIndex>) {
    search.prepare(&LISTINGS).await.unwrap();
    load(&search).await;
    search.prepare(&LISTINGS).await.unwrap();
    assert_eq!(run(&search, &query("")).await.estimated_total, 6);
    search.ready().await.unwrap();
}

// ---- the adapters ----------------------------------------------------------------------

/// An engine and what must live as long as it.
struct Engine {
    search: Arc<dyn SearchIndex>,
    _dir: Option<tempfile::TempDir>,
}

fn embedded_engine() -> Engine {
    let dir = tempfile::tempdir().unwrap();
    Engine {
        search: Arc::new(EmbeddedSearch::new(dir.path().join("search")).unwrap()),
        _dir: Some(dir),
    }
}

fn meili_config() -> Option<MeiliConfig> {
    let Ok(url) = std::env::var(MEILI_URL_VAR) else {
        eprintln!(
            "SKIPPED: search meilisearch suite (set {MEILI_URL_VAR} and {MEILI_KEY_VAR} to run it)"
        );
        return None;
    };
    Some(MeiliConfig {
        url,
        key: std::env::var(MEILI_KEY_VAR).ok(),
        index_prefix: format!("t{}_", uuid::Uuid::new_v4().simple()),
    })
}

fn meili_engine() -> Option<Engine> {
    let config = meili_config()?;
    Some(Engine {
        search: Arc::new(MeiliSearch::new(&config).expect("a valid WUFEI_TEST_MEILI_URL")),
        _dir: None,
    })
}

/// Runs every case against every adapter, as `<adapter>_adapter::<case>`.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod embedded_adapter {
            $(
                #[tokio::test]
                async fn $case() {
                    let engine = super::embedded_engine();
                    super::$case(engine.search.clone()).await;
                }
            )*
        }

        mod meilisearch_adapter {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(engine) = super::meili_engine() else { return };
                    super::$case(engine.search.clone()).await;
                }
            )*
        }
    };
}

conformance!(
    chinese_words_are_found_inside_longer_words,
    dictionary_words_are_kept_whole,
    synonyms_find_each_other,
    specifications_with_letters_and_digits_are_found,
    every_word_must_match,
    filters_combine,
    facets_count_the_matching_documents,
    a_radius_filters_and_distance_sorts,
    price_sort_pages_stably,
    an_older_version_never_replaces_a_newer_one,
    delete_removes_documents,
    rebuild_swaps_and_search_answers_meanwhile,
    a_failed_rebuild_leaves_the_live_index,
    hostile_query_text_is_only_words,
    empty_text_matches_everything_and_pages_are_bounded,
    a_title_match_ranks_first,
    undeclared_fields_are_refused,
    prepare_is_idempotent_and_ready_answers,
);

// ---- what the trait cannot show ---------------------------------------------------------

/// A Meilisearch that is not there fails fast: a closed port, and a server that accepts
/// connections but never answers.
#[tokio::test]
async fn meilisearch_unreachable_or_hung_fails_within_seconds() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let hung = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hung_at = hung.local_addr().unwrap();
    let _accepting = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hung.accept().await {
            held.push(socket);
        }
    });
    for at in [closed, hung_at] {
        let search = MeiliSearch::new(&MeiliConfig {
            url: format!("http://{at}"),
            key: Some("test-master-key-0123456789".into()),
            index_prefix: "t_".into(),
        })
        .unwrap();
        let started = Instant::now();
        assert!(search.ready().await.is_err());
        assert!(search.search(&LISTINGS, &query("砖")).await.is_err());
        let upsert = search.upsert(&LISTINGS, vec![catalogue()[0].doc()]).await;
        assert!(upsert.is_err());
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{at}: {:?} for three calls",
            started.elapsed()
        );
    }
}

#[test]
fn meilisearch_refuses_a_key_it_could_not_send() {
    let bad = MeiliSearch::new(&MeiliConfig {
        url: "http://127.0.0.1:7700".into(),
        key: Some("bad key\n".into()),
        index_prefix: "t_".into(),
    });
    assert!(bad.is_err());
}

#[tokio::test]
async fn embedded_ready_fails_when_its_directory_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("search");
    let search = EmbeddedSearch::new(&root).unwrap();
    search.ready().await.unwrap();
    std::fs::remove_dir_all(&root).unwrap();
    assert!(search.ready().await.is_err());
}

/// The index survives a restart, and a second engine on the same directory (another
/// process, in the embedded footprint's rule) is refused while the first holds it.
#[tokio::test]
async fn embedded_index_persists_and_is_owned_by_one_engine() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("search");
    {
        let first: Arc<dyn SearchIndex> = Arc::new(EmbeddedSearch::new(&root).unwrap());
        load(&first).await;
        let second = EmbeddedSearch::new(&root).unwrap();
        let refused = second.prepare(&LISTINGS).await.unwrap_err().to_string();
        assert!(refused.contains("another process"), "{refused}");
    }
    let again: Arc<dyn SearchIndex> = Arc::new(EmbeddedSearch::new(&root).unwrap());
    again.prepare(&LISTINGS).await.unwrap();
    assert_eq!(run(&again, &query("")).await.estimated_total, 6);
    assert_eq!(ids_of(&again, "C30").await, strings(&["a-coarse"]));
}

/// A spec whose fields change starts empty (the capability rebuilds it); the old
/// generation's directory is gone.
#[tokio::test]
async fn embedded_index_starts_empty_when_its_spec_changes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("search");
    {
        let first: Arc<dyn SearchIndex> = Arc::new(EmbeddedSearch::new(&root).unwrap());
        load(&first).await;
    }
    let changed = IndexSpec {
        numbers: &["price_fen", "stock", "published_at", "weight_kg"],
        ..LISTINGS
    };
    let again = EmbeddedSearch::new(&root).unwrap();
    again.prepare(&changed).await.unwrap();
    let hits = again.search(&changed, &query("")).await.unwrap();
    assert_eq!(hits.estimated_total, 0);
    let generations = std::fs::read_dir(root.join("listings"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("g-")
        })
        .count();
    assert_eq!(generations, 1);
}
