//! `/sitemap.xml` and `/robots.txt`: every public page a search engine should know, at the
//! site's canonical address; the JSON API is left to programs.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use wufei_domain::{
    Platform,
    disclosure::{cells, facilities, indicators},
    marketplace::search::{self, SearchParams},
    paging::PageQuery,
};

use super::render::{Ctx, Fault, NAV, fail};
use crate::cache;

/// Pages of a list read for the sitemap, at most (of 50 cells or 50 listings each).
const MAX_PAGES: usize = 20;

#[derive(Template)]
#[template(path = "pages/sitemap.xml")]
struct Sitemap {
    urls: Vec<String>,
}

async fn urls(ctx: &Ctx, platform: &Platform) -> Result<Vec<String>, Fault> {
    let mut paths: Vec<String> = NAV.iter().map(|n| n.1.to_string()).collect();
    paths.push("/market/demands".into());
    let mut query = wufei_domain::disclosure::articles::ArticleQuery {
        limit: Some(100),
        ..Default::default()
    };
    for _ in 0..MAX_PAGES {
        let found = wufei_domain::disclosure::articles::list(
            &platform.db,
            platform.search.as_ref(),
            &query,
        )
        .await?;
        paths.extend(found.items.iter().map(|a| format!("/articles/{}", a.id)));
        query.cursor = found.next_cursor;
        if query.cursor.is_none() {
            break;
        }
    }
    for i in indicators::list(&platform.db, &Default::default()).await? {
        paths.push(format!("/indicators/{}", super::lists::encode(&i.code)));
    }
    for f in facilities::map(&platform.db, &Default::default())
        .await?
        .features
    {
        paths.push(format!("/facilities/{}", f.id));
    }
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let page = PageQuery {
            limit: Some(50),
            cursor,
        }
        .parse()?;
        let list = cells::list(&platform.db, &Default::default(), page).await?;
        paths.extend(list.items.iter().map(|c| format!("/cells/{}", c.id)));
        cursor = list.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let mut params = SearchParams {
        sort: Some("newest".into()),
        limit: Some(50),
        ..Default::default()
    };
    for _ in 0..MAX_PAGES {
        let found = search::search(&platform.db, platform.search.as_ref(), &params).await?;
        for l in &found.items {
            paths.push(format!("/market/listings/{}", l.id));
            paths.push(format!("/market/merchants/{}", l.merchant.id));
        }
        params.cursor = found.next_cursor;
        if params.cursor.is_none() {
            break;
        }
    }
    let mut seen = std::collections::HashSet::new();
    paths.retain(|p| seen.insert(p.clone()));
    Ok(paths
        .into_iter()
        .map(|p| format!("{}{p}", ctx.base))
        .collect())
}

/// `GET /sitemap.xml`.
pub async fn sitemap(req: HttpRequest, platform: web::Data<Platform>) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let rendered = match urls(&ctx, &platform).await {
        Ok(urls) => Sitemap { urls }.render(),
        Err(f) => return fail(&ctx, f),
    };
    match rendered {
        Ok(xml) => cache::public_body(
            &req,
            xml.into_bytes(),
            "application/xml; charset=utf-8",
            cache::PUBLIC_MAX_AGE,
        ),
        Err(e) => fail(&ctx, Fault::Domain(wufei_domain::Error::Internal(e.into()))),
    }
}

/// `GET /robots.txt`.
pub async fn robots(req: HttpRequest) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let body = format!(
        "User-agent: *\nAllow: /\nDisallow: /v1/\nDisallow: /open311/\nDisallow: /docs/\n\nSitemap: {}/sitemap.xml\n",
        ctx.base
    );
    cache::public_body(
        &req,
        body.into_bytes(),
        "text/plain; charset=utf-8",
        cache::PUBLIC_MAX_AGE,
    )
}
