//! `/cells` and `/cells/{id}`: the published zero-waste cells (无废细胞), with filters, a
//! map and paging; a cell's own page.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use wufei_domain::{
    Platform,
    disclosure::cells::{self, CellFilter, CellView},
    entities::zero_waste_cell,
    paging::Page,
};

use super::{
    labels::{self, CELL_KINDS},
    lists::{
        Choice, choices, cn_date, district_choices, district_name, districts, next_link,
        page_query, parse_id,
    },
    map::Map,
    render::{Ctx, Fault, Shell, page, query},
};

/// A cell as a list reads.
pub struct CellRow {
    /// Its page.
    pub href: String,
    /// The organisation.
    pub organisation: String,
    /// Kind name.
    pub kind: &'static str,
    /// District name.
    pub district: String,
    /// Address.
    pub address: String,
    /// Published on (Beijing date).
    pub published: String,
}

impl CellRow {
    fn of(c: &CellView, districts: &[(String, String)]) -> Self {
        Self {
            href: format!("/cells/{}", c.id),
            organisation: c.organisation.clone(),
            kind: labels::cell_kind(c.kind),
            district: district_name(districts, &c.district_code),
            address: c.address.clone(),
            published: cn_date(c.published_at),
        }
    }
}

/// The query of the cells page.
#[derive(Deserialize)]
struct CellsQuery {
    kind: Option<String>,
    district_code: Option<String>,
    cursor: Option<String>,
}

fn parse_cell_kind(s: Option<&str>) -> Result<Option<zero_waste_cell::Kind>, Fault> {
    match s.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => CELL_KINDS
            .into_iter()
            .find(|k| k.as_str() == s)
            .map(Some)
            .ok_or(Fault::BadRequest),
    }
}

#[derive(Template)]
#[template(path = "pages/cells.html")]
struct CellsPage {
    shell: Shell,
    rows: Vec<CellRow>,
    map: String,
    kinds: Vec<Choice>,
    districts: Vec<Choice>,
    next: Option<String>,
    published: u64,
    target: u64,
}

/// `GET /cells`: published zero-waste cells with filters, a map and paging.
pub async fn list(req: HttpRequest, platform: web::Data<Platform>) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = async {
        let q: CellsQuery = query(&req)?;
        let kind = parse_cell_kind(q.kind.as_deref())?;
        let district = q.district_code.filter(|d| !d.is_empty());
        let ds = districts(&platform).await?;
        let filter = CellFilter {
            kind,
            district_code: district.clone(),
        };
        let list: Page<CellView> =
            cells::list(&platform.db, &filter, page_query(q.cursor).parse()?).await?;
        let summary = cells::summary(&platform.db).await?;
        let map = Map::new(
            "无废细胞分布图",
            list.items.iter().map(|c| {
                (
                    c.organisation.clone(),
                    format!("/cells/{}", c.id),
                    c.lat,
                    c.lng,
                    "cell",
                )
            }),
            platform.settings.map_tile_url.as_deref(),
        );
        Ok(CellsPage {
            shell: ctx.shell(
                "cells",
                "无废细胞",
                "聊城市已建成的“无废工厂”“无废社区”“无废学校”等无废细胞名录和分布图。",
            ),
            rows: list.items.iter().map(|c| CellRow::of(c, &ds)).collect(),
            map: map.svg(),
            kinds: choices(
                CELL_KINDS
                    .iter()
                    .map(|k| (k.as_str(), labels::cell_kind(*k))),
                kind.map(zero_waste_cell::Kind::as_str),
            ),
            districts: district_choices(&ds, district.as_deref()),
            next: next_link(&req, list.next_cursor.as_deref()),
            published: summary.published,
            target: summary.target,
        })
    }
    .await;
    page(&ctx, &req, result)
}

#[derive(Template)]
#[template(path = "pages/cell.html")]
struct CellPage {
    shell: Shell,
    row: CellRow,
    description: String,
    photos: Vec<String>,
    map: String,
}

/// `GET /cells/{id}`: one published cell.
pub async fn one(
    req: HttpRequest,
    platform: web::Data<Platform>,
    id: web::Path<String>,
) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = async {
        let c = cells::get(&platform.db, None, parse_id(&id)?).await?;
        let ds = districts(&platform).await?;
        let map = Map::new(
            format!("{}的位置", c.organisation),
            [(
                c.organisation.clone(),
                format!("/cells/{}", c.id),
                c.lat,
                c.lng,
                "cell",
            )],
            platform.settings.map_tile_url.as_deref(),
        );
        let row = CellRow::of(&c, &ds);
        Ok(CellPage {
            shell: ctx.shell(
                "cells",
                c.organisation.clone(),
                format!("{}：{}（{}）", row.kind, c.organisation, row.district),
            ),
            row,
            description: c.description.clone(),
            photos: c.photo_urls.clone(),
            map: map.svg(),
        })
    }
    .await;
    page(&ctx, &req, result)
}

// ---------------------------------------------------------------- facilities
