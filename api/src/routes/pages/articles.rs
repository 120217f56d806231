//! `/articles` and `/articles/{id}`: the disclosure column's articles (政策文件, 通知公告,
//! 工作动态, 无废细胞风采, 科普宣传) by column and district, with keyword search and paging;
//! an article's own page with its attachments. The body is the disclosure capability's
//! sanitised HTML, the one article text a template puts in unescaped.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use wufei_domain::{
    Platform,
    disclosure::articles::{self, ArticleQuery, ArticleSummary, Category},
};

use super::{
    lists::{
        Choice, choices, cn_date, district_choices, district_name, districts, next_link, parse_id,
    },
    render::{Ctx, Fault, Shell, page, query},
};

/// An article as a list reads.
pub struct ArticleRow {
    /// Its page.
    pub href: String,
    /// Title.
    pub title: String,
    /// Column name.
    pub column: &'static str,
    /// District name, or 全市.
    pub district: String,
    /// Summary.
    pub summary: String,
    /// Published on (Beijing date).
    pub published: String,
}

impl ArticleRow {
    /// The row of `a`.
    pub fn of(a: &ArticleSummary, ds: &[(String, String)]) -> Self {
        Self {
            href: format!("/articles/{}", a.id),
            title: a.title.clone(),
            column: a.category.name(),
            district: a
                .district_code
                .as_deref()
                .map_or_else(|| "全市".to_string(), |d| district_name(ds, d)),
            summary: a.summary.clone(),
            published: cn_date(a.published_at),
        }
    }
}

#[derive(Deserialize)]
struct ListQuery {
    category: Option<String>,
    district_code: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
}

fn parse_category(s: Option<&str>) -> Result<Option<Category>, Fault> {
    match s.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .map(Some)
            .ok_or(Fault::BadRequest),
    }
}

#[derive(Template)]
#[template(path = "pages/articles.html")]
struct ArticlesPage {
    shell: Shell,
    rows: Vec<ArticleRow>,
    columns: Vec<Choice>,
    districts: Vec<Choice>,
    q: String,
    next: Option<String>,
}

/// `GET /articles`: published articles by column and district, newest first, or by
/// keyword.
pub async fn list(req: HttpRequest, platform: web::Data<Platform>) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = async {
        let q: ListQuery = query(&req)?;
        let category = parse_category(q.category.as_deref())?;
        let district = q.district_code.filter(|d| !d.is_empty());
        let text = q.q.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        let ds = districts(&platform).await?;
        let found = articles::list(
            &platform.db,
            platform.search.as_ref(),
            &ArticleQuery {
                category,
                district_code: district.clone(),
                q: text.clone(),
                cursor: q.cursor.filter(|c| !c.is_empty()),
                ..ArticleQuery::default()
            },
        )
        .await?;
        Ok(ArticlesPage {
            shell: ctx.shell(
                "articles",
                "信息公开",
                "聊城市“无废城市”建设的政策文件、通知公告、工作动态、无废细胞风采和科普宣传。",
            ),
            rows: found.items.iter().map(|a| ArticleRow::of(a, &ds)).collect(),
            columns: choices(
                Category::ALL.map(|c| (c.as_str(), c.name())),
                category.map(Category::as_str),
            ),
            districts: district_choices(&ds, district.as_deref()),
            q: text.unwrap_or_default(),
            next: next_link(&req, found.next_cursor.as_deref()),
        })
    }
    .await;
    page(&ctx, &req, result)
}

/// An attachment as the page lists it.
pub struct FileRow {
    /// Where to download it.
    pub href: String,
    /// Its name.
    pub name: String,
    /// Its size, kB.
    pub kb: String,
}

#[derive(Template)]
#[template(path = "pages/article.html")]
struct ArticlePage {
    shell: Shell,
    row: ArticleRow,
    body: String,
    cover: Option<String>,
    files: Vec<FileRow>,
}

/// `GET /articles/{id}`: a published article with its attachments.
pub async fn one(
    req: HttpRequest,
    platform: web::Data<Platform>,
    id: web::Path<String>,
) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = async {
        let a = articles::get(&platform.db, parse_id(&id)?).await?;
        let ds = districts(&platform).await?;
        let summary = ArticleSummary {
            id: a.id,
            category: a.category,
            title: a.title.clone(),
            summary: a.summary.clone(),
            district_code: a.district_code.clone(),
            cover_url: a.cover_url.clone(),
            published_at: a.published_at,
            status: None,
        };
        let row = ArticleRow::of(&summary, &ds);
        Ok(ArticlePage {
            shell: ctx.shell("articles", a.title.clone(), a.summary.clone()),
            row,
            body: a.body_html,
            cover: a.cover_url,
            files: a
                .attachments
                .into_iter()
                .map(|f| FileRow {
                    href: f.url,
                    name: f.filename,
                    kb: format!("{:.0}", (f.size_bytes as f64 / 1024.0).ceil()),
                })
                .collect(),
        })
    }
    .await;
    page(&ctx, &req, result)
}
