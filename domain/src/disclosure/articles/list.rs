//! The article lists: the public one (newest first, or by relevance through the search
//! port) and the administrators' one, with their cursors.

use super::*;

/// The public list's and the administrators' list's parameters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ArticleQuery {
    /// Only this column.
    pub category: Option<Category>,
    /// Only this district's articles (`city`: only city-wide ones).
    #[param(max_length = 12)]
    pub district_code: Option<String>,
    /// Words to look for (Chinese or not), up to 100 characters; results by relevance.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// Only this state (administrators' list; default every state).
    pub status: Option<Status>,
    /// Results per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of articles.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticlePage {
    /// Newest publication first, or best match first with `q`.
    pub items: Vec<ArticleSummary>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Where a page starts: after a (publication time, id) for the newest-first lists, or at
/// an offset for a search.
enum Cursor {
    Start,
    After(DateTime<Utc>, Uuid),
    Offset(usize),
}

fn parse_query(p: &ArticleQuery, check: &mut Check) -> (u64, Cursor) {
    let limit = p.limit.unwrap_or(20);
    check.ensure(
        (1..=100).contains(&limit),
        "limit",
        "out_of_range",
        "must be between 1 and 100",
    );
    if let Some(q) = &p.q {
        check.ensure(
            q.chars().count() <= MAX_Q,
            "q",
            "too_long",
            format!("at most {MAX_Q} characters"),
        );
    }
    if let Some(d) = &p.district_code {
        check.ensure(
            d.len() <= 12 && d.chars().all(|c| c.is_ascii_alphanumeric()),
            "district_code",
            "invalid",
            "a district code or `city`",
        );
    }
    let cursor = match p.cursor.as_deref() {
        None | Some("") => Cursor::Start,
        Some(c) => {
            let parsed = if let Some(n) = c.strip_prefix('o') {
                n.parse::<usize>()
                    .ok()
                    .filter(|n| *n <= MAX_OFFSET)
                    .map(Cursor::Offset)
            } else {
                c.strip_prefix('p')
                    .and_then(|rest| rest.split_once('.'))
                    .and_then(|(micros, id)| {
                        Some(Cursor::After(
                            DateTime::from_timestamp_micros(micros.parse().ok()?)?,
                            Uuid::parse_str(id).ok()?,
                        ))
                    })
            };
            parsed.unwrap_or_else(|| {
                check.fail("cursor", "invalid", "not a cursor this list gave out");
                Cursor::Start
            })
        }
    };
    (limit, cursor)
}

/// Published articles: newest first, or by relevance to `q` through the search port. A
/// failing engine is a 503 `search_unavailable`; the list without `q` never needs it.
pub async fn list(
    db: &DatabaseConnection,
    engine: &dyn SearchIndex,
    p: &ArticleQuery,
) -> Result<ArticlePage> {
    let mut check = Check::new();
    let (limit, cursor) = parse_query(p, &mut check);
    check.ensure(
        p.status.is_none(),
        "status",
        "invalid",
        "not a public filter",
    );
    check.finish()?;
    let text = p.q.as_deref().map(str::trim).unwrap_or_default();
    if !text.is_empty() {
        return search_page(db, engine, p, text, limit, cursor).await;
    }
    newest(db, None, Some(Status::Published), p, limit, cursor, false).await
}

/// Articles administered by `who`, newest change first, by state, column and district.
pub async fn list_for_admin(
    db: &DatabaseConnection,
    who: &Principal,
    p: &ArticleQuery,
) -> Result<ArticlePage> {
    who.require_role(&[Role::Admin])?;
    let mut check = Check::new();
    let (limit, cursor) = parse_query(p, &mut check);
    check.ensure(
        p.q.is_none(),
        "q",
        "invalid",
        "search the public list instead",
    );
    check.finish()?;
    newest(db, Some(who), p.status, p, limit, cursor, true).await
}

/// A page newest first: by publication for the public, by last change for administrators.
async fn newest(
    db: &DatabaseConnection,
    admin: Option<&Principal>,
    status: Option<Status>,
    p: &ArticleQuery,
    limit: u64,
    cursor: Cursor,
    show_status: bool,
) -> Result<ArticlePage> {
    let time = if admin.is_some() {
        article::Column::UpdatedAt
    } else {
        article::Column::PublishedAt
    };
    let mut q = article::Entity::find()
        .order_by_desc(time)
        .order_by_desc(article::Column::Id)
        .limit(limit + 1);
    if let Some(s) = status {
        q = q.filter(article::Column::Status.eq(s));
    }
    if let Some(c) = p.category {
        q = q.filter(article::Column::Category.eq(c));
    }
    match p.district_code.as_deref() {
        Some("city") => q = q.filter(article::Column::DistrictCode.is_null()),
        Some(d) => q = q.filter(article::Column::DistrictCode.eq(d)),
        None => {}
    }
    if let Some(who) = admin.filter(|w| !w.is_super_admin()) {
        q = q.filter(article::Column::DistrictCode.eq(who.district_code.clone()));
    }
    match cursor {
        Cursor::After(t, id) => {
            q = q.filter(
                Expr::col(time)
                    .lt(t)
                    .or(Expr::col(time).eq(t).and(article::Column::Id.lt(id))),
            );
        }
        Cursor::Offset(_) => {
            return Err(Error::field(
                "cursor",
                "invalid",
                "not a cursor this list gave out",
            ));
        }
        Cursor::Start => {}
    }
    let mut rows = q.all(db).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(20));
    let next_cursor = more.then(|| rows.last()).flatten().and_then(|a| {
        let t = if admin.is_some() {
            Some(a.updated_at)
        } else {
            a.published_at
        };
        t.map(|t| format!("p{}.{}", t.timestamp_micros(), a.id))
    });
    Ok(ArticlePage {
        items: rows
            .into_iter()
            .map(|a| summary_of(a, show_status))
            .collect(),
        next_cursor,
    })
}

/// A page of search hits, read back from the database in the engine's order (an article
/// withdrawn since it was indexed is left out).
async fn search_page(
    db: &DatabaseConnection,
    engine: &dyn SearchIndex,
    p: &ArticleQuery,
    text: &str,
    limit: u64,
    cursor: Cursor,
) -> Result<ArticlePage> {
    let offset = match cursor {
        Cursor::Start => 0,
        Cursor::Offset(n) => n,
        Cursor::After(..) => {
            return Err(Error::field(
                "cursor",
                "invalid",
                "not a cursor this search gave out",
            ));
        }
    };
    let mut filters = vec![Filter::Flag("published", true)];
    if let Some(c) = p.category {
        filters.push(Filter::Is("category", c.as_str().into()));
    }
    if let Some(d) = &p.district_code {
        filters.push(Filter::Is("district_code", d.clone()));
    }
    let limit = usize::try_from(limit).unwrap_or(20);
    let hits = engine
        .search(
            &search::ARTICLES,
            &Query {
                text: text.into(),
                filters,
                near: None,
                sort: Sort::Relevance,
                offset,
                limit,
                facets: vec![],
            },
        )
        .await
        .map_err(Error::search)?;
    let ids: Vec<Uuid> = hits
        .hits
        .iter()
        .filter_map(|h| Uuid::parse_str(&h.id).ok())
        .collect();
    let mut rows: BTreeMap<Uuid, article::Model> = article::Entity::find()
        .filter(article::Column::Id.is_in(ids.clone()))
        .filter(article::Column::Status.eq(Status::Published))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let next = offset + hits.hits.len();
    Ok(ArticlePage {
        items: ids
            .iter()
            .filter_map(|id| rows.remove(id))
            .map(|a| summary_of(a, false))
            .collect(),
        next_cursor: (hits.hits.len() == limit
            && (next as u64) < hits.estimated_total
            && next < MAX_OFFSET)
            .then(|| format!("o{next}")),
    })
}
