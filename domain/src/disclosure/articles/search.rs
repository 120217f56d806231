//! The articles index: what an article looks like to the search port. Every change bumps
//! the article's version and stages [`TOPIC`]; the shared index job ([`crate::indexing`])
//! writes it as it is now. Unpublished articles stay in the index with `published: false`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::body;
use crate::{
    entities::article::{self, Status},
    error::Result,
    indexing::{self, Projection},
    ports::search::{Document, IndexSpec, Value},
};

/// Topic of the job that writes one article to the index.
pub const TOPIC: &str = "disclosure.index_article";

/// The articles index.
pub const ARTICLES: IndexSpec = IndexSpec {
    name: "articles",
    text: &["title", "summary", "body"],
    keywords: &["category", "district_code"],
    numbers: &["published_at"],
    flags: &["published"],
    geo: false,
    synonyms: &[
        &["无废城市", "无废城市建设"],
        &["垃圾分类", "生活垃圾分类"],
        &["建筑垃圾", "建筑废弃物"],
    ],
    dictionary: &[
        "无废城市",
        "无废细胞",
        "垃圾分类",
        "建筑垃圾",
        "再生资源",
        "绿色积分",
        "固体废物",
    ],
};

/// The articles as the search index sees them.
pub struct Articles;

/// Stages the index job of article `id` in the caller's transaction.
pub(crate) async fn stage(txn: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    indexing::stage::<Articles>(txn, id).await
}

/// The document of article `a` (city-wide ones under the district code `city`).
pub fn document(a: &article::Model) -> Document {
    let mut f: BTreeMap<&'static str, Value> = BTreeMap::new();
    f.insert("title", Value::Text(a.title.clone()));
    f.insert("summary", Value::Text(a.summary.clone()));
    f.insert("body", Value::Text(body::render(&a.body_source).text));
    f.insert("category", Value::Text(a.category.as_str().into()));
    f.insert(
        "district_code",
        Value::Text(a.district_code.clone().unwrap_or_else(|| "city".into())),
    );
    f.insert(
        "published_at",
        Value::Number(a.published_at.map_or(0, |t| t.timestamp())),
    );
    f.insert("published", Value::Flag(a.status == Status::Published));
    Document {
        id: a.id.to_string(),
        version: a.version,
        fields: f,
        geo: None,
    }
}

#[async_trait]
impl Projection for Articles {
    const SPEC: IndexSpec = ARTICLES;
    const TOPIC: &'static str = TOPIC;

    async fn document(db: &DatabaseConnection, id: Uuid) -> Result<Option<Document>> {
        Ok(article::Entity::find_by_id(id)
            .one(db)
            .await?
            .as_ref()
            .map(document))
    }

    async fn version(db: &DatabaseConnection, id: Uuid) -> Result<Option<i64>> {
        Ok(article::Entity::find_by_id(id)
            .select_only()
            .column(article::Column::Version)
            .into_tuple::<i64>()
            .one(db)
            .await?)
    }

    async fn batch(
        db: &DatabaseConnection,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<Document>> {
        let mut q = article::Entity::find()
            .order_by_asc(article::Column::Id)
            .limit(limit);
        if let Some(a) = after {
            q = q.filter(article::Column::Id.gt(a));
        }
        Ok(q.all(db).await?.iter().map(document).collect())
    }

    async fn count(db: &DatabaseConnection) -> Result<u64> {
        Ok(article::Entity::find().count(db).await?)
    }
}
