//! The disclosure column's pages: indicators and their progress, the task board, the
//! zero-waste cells and the facilities (lists with filters, a map, a page each). Each
//! calls the domain function its `/v1` route calls.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;
use wufei_domain::{
    Platform, catalog,
    disclosure::{
        cells::{self, CellFilter, CellView},
        facilities::{self, FacilityFilter, FacilityView},
        indicators::{self, IndicatorFilter, IndicatorView},
        tasks::{self, TaskFilter, TaskView},
    },
    entities::{facility, zero_waste_cell},
    paging::{Page, PageQuery},
};

use super::{
    charts::Columns,
    labels::{self, CELL_KINDS, FACILITY_KINDS, TASK_STATUSES, figure, percent},
    map::Map,
    render::{Ctx, Fault, Shell, page, query},
};

/// Items on one page of a list.
pub const PAGE_SIZE: u64 = 20;

/// A choice in a filter: its value, its label, whether it is chosen.
pub struct Choice {
    /// The value sent.
    pub value: String,
    /// What people read.
    pub label: String,
    /// Chosen now.
    pub selected: bool,
}

/// The choices of `options` (value, label) with `current` chosen.
pub fn choices<'a>(
    options: impl IntoIterator<Item = (&'a str, &'a str)>,
    current: Option<&str>,
) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, label)| Choice {
            value: value.to_string(),
            label: label.to_string(),
            selected: current == Some(value),
        })
        .collect()
}

/// The districts: code and name, in the plan's order.
pub async fn districts(platform: &Platform) -> Result<Vec<(String, String)>, Fault> {
    Ok(catalog::districts(&platform.db)
        .await?
        .into_iter()
        .map(|d| (d.code, d.name))
        .collect())
}

/// The name of district `code` (the code itself when unknown).
pub fn district_name(districts: &[(String, String)], code: &str) -> String {
    districts
        .iter()
        .find(|d| d.0 == code)
        .map_or_else(|| code.to_string(), |d| d.1.clone())
}

/// The link to the next page of a list: the query string of `req` with `cursor` replaced.
pub fn next_link(req: &HttpRequest, cursor: Option<&str>) -> Option<String> {
    let cursor = cursor?;
    let mut pairs: Vec<(String, String)> =
        web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(web::Query::into_inner)
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k != "cursor" && k != "sent")
            .collect();
    pairs.push(("cursor".into(), cursor.to_string()));
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    Some(format!("{}?{query}", req.path()))
}

/// Percent-encodes a query component.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One page of a cursor-paged list: the cursor of `req`, [`PAGE_SIZE`] items.
pub fn page_query(cursor: Option<String>) -> PageQuery {
    PageQuery {
        limit: Some(PAGE_SIZE),
        cursor,
    }
}

// ---------------------------------------------------------------- indicators

/// An indicator as a row reads.
pub struct IndicatorRow {
    /// Its code (its page is `/indicators/{code}`).
    pub code: String,
    /// Its name.
    pub name: String,
    /// The target, as read (`≥ 70%`, 2025).
    pub target: String,
    /// The latest value and its year.
    pub latest: String,
    /// Progress 0–100, when known.
    pub progress: Option<u32>,
    /// Progress as read.
    pub progress_text: String,
    /// The plan section.
    pub section: String,
    /// Measured from Wufei's own ledgers.
    pub measured: bool,
}

fn target_text(i: &IndicatorView) -> String {
    let unit = &i.unit;
    let v = |x: f64| format!("{}{unit}", figure(x, 2));
    let text = match (i.direction.as_deref(), i.target) {
        (Some("at_least"), Some(t)) => format!("≥ {}", v(t)),
        (Some("at_most"), Some(t)) => format!("≤ {}", v(t)),
        (Some("range"), _) => match (i.target_low, i.target_high) {
            (Some(lo), Some(hi)) => format!("{}–{}", v(lo), v(hi)),
            _ => "—".into(),
        },
        (_, Some(t)) => v(t),
        _ => "—".into(),
    };
    match i.target_year {
        Some(y) => format!("{text}（{y} 年）"),
        None => text,
    }
}

impl IndicatorRow {
    pub fn of(i: &IndicatorView) -> Self {
        Self {
            code: i.code.clone(),
            name: i.name.clone(),
            target: target_text(i),
            latest: i.latest.as_ref().map_or_else(
                || "暂无数据".into(),
                |l| format!("{}{}（{} 年）", figure(l.value, 2), i.unit, l.year),
            ),
            progress: i
                .progress
                .map(|p| (p.clamp(0.0, 1.0) * 100.0).floor() as u32),
            progress_text: i.progress.map_or_else(|| "—".into(), percent),
            section: i.plan_section.clone(),
            measured: i.measured_by == "wufei",
        }
    }
}

#[derive(Template)]
#[template(path = "pages/indicators.html")]
struct IndicatorsPage {
    shell: Shell,
    rows: Vec<IndicatorRow>,
    measured: Vec<Choice>,
}

/// `GET /indicators`: every indicator with its target, latest value and progress.
pub async fn indicators(req: HttpRequest, platform: web::Data<Platform>) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = async {
        let filter: IndicatorFilter = query(&req)?;
        let list = indicators::list(&platform.db, &filter).await?;
        Ok(IndicatorsPage {
            shell: ctx.shell(
                "indicators",
                "指标进展",
                "聊城市“无废城市”建设指标体系：每项指标的目标值、最新值和完成进度。",
            ),
            rows: list.iter().map(IndicatorRow::of).collect(),
            measured: choices(
                [("reported", "部门报送"), ("wufei", "平台自动统计")],
                filter.measured_by.as_deref(),
            ),
        })
    }
    .await;
    page(&ctx, &req, result)
}

#[derive(Template)]
#[template(path = "pages/indicator.html")]
struct IndicatorPage {
    shell: Shell,
    row: IndicatorRow,
    unit: String,
    baseline: Option<String>,
    quote: Option<String>,
    definition: Option<String>,
    note: Option<String>,
    scope: String,
    series: Vec<(i32, String, String)>,
    chart: String,
}

/// `GET /indicators/{code}`: one indicator with its yearly series as a chart and a table.
pub async fn indicator(
    req: HttpRequest,
    platform: web::Data<Platform>,
    code: web::Path<String>,
) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = async {
        if code.len() > 100 {
            return Err(Fault::NotFound);
        }
        let i = indicators::get(&platform.db, &code).await?;
        let series = i.series.clone().unwrap_or_default();
        let chart = Columns::new(
            format!("{}：历年数值", i.name),
            series
                .iter()
                .map(|v| (v.year.to_string(), v.value, figure(v.value, 2)))
                .collect(),
            i.target.map(|t| (t, format!("目标 {}", figure(t, 2)))),
        );
        Ok(IndicatorPage {
            shell: ctx.shell(
                "indicators",
                i.name.clone(),
                format!("{}：目标 {}，历年数值和完成进度。", i.name, target_text(&i)),
            ),
            row: IndicatorRow::of(&i),
            baseline: i.baseline.map(|b| match i.baseline_year {
                Some(y) => format!("{}{}（{y} 年）", figure(b, 2), i.unit),
                None => format!("{}{}", figure(b, 2), i.unit),
            }),
            unit: i.unit.clone(),
            quote: i.quote.clone(),
            definition: i.definition.clone(),
            note: i.note.clone(),
            scope: i.scope.clone(),
            series: series
                .iter()
                .map(|v| (v.year, figure(v.value, 2), v.source.clone()))
                .collect(),
            chart: chart.svg(),
        })
    }
    .await;
    page(&ctx, &req, result)
}

// ---------------------------------------------------------------- tasks

/// A task as the board reads.
pub struct TaskRow {
    /// Its section.
    pub section: String,
    /// Its title.
    pub title: String,
    /// Its text.
    pub text: String,
    /// Lead units.
    pub lead_units: String,
    /// Responsible units.
    pub responsible_units: String,
    /// Deadline as the plan writes it.
    pub deadline: String,
    /// Status code (a style class).
    pub status: &'static str,
    /// Status name.
    pub status_name: &'static str,
}

impl TaskRow {
    fn of(t: &TaskView) -> Self {
        Self {
            section: t.section.clone(),
            title: t.title.clone(),
            text: t.text.clone(),
            lead_units: t.lead_units.join("、"),
            responsible_units: t.responsible_units.join("、"),
            deadline: t.deadline.clone().unwrap_or_else(|| "—".into()),
            status: t.status.as_str(),
            status_name: labels::task_status(t.status),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/tasks.html")]
struct TasksPage {
    shell: Shell,
    rows: Vec<TaskRow>,
    total: usize,
    sections: Vec<Choice>,
    units: Vec<Choice>,
    statuses: Vec<Choice>,
}

/// `GET /tasks`: the plan's tasks, filtered by section, lead unit and status.
pub async fn tasks(req: HttpRequest, platform: web::Data<Platform>) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = async {
        let mut filter: TaskFilter = query(&req)?;
        for f in [
            &mut filter.section,
            &mut filter.lead_unit,
            &mut filter.status,
        ] {
            if f.as_deref().is_some_and(str::is_empty) {
                *f = None;
            }
        }
        let all = tasks::list(&platform.db, &TaskFilter::default()).await?;
        let shown = tasks::list(&platform.db, &filter).await?;
        let mut sections: Vec<&str> = all.iter().map(|t| t.top_section.as_str()).collect();
        sections.dedup();
        let mut units: Vec<&str> = all
            .iter()
            .flat_map(|t| t.lead_units.iter().map(String::as_str))
            .collect();
        units.sort_unstable();
        units.dedup();
        Ok(TasksPage {
            shell: ctx.shell(
                "tasks",
                "任务清单",
                "聊城市“无废城市”建设实施方案的任务清单：牵头单位、完成时限和进展。",
            ),
            total: all.len(),
            rows: shown.iter().map(TaskRow::of).collect(),
            sections: choices(sections.iter().map(|s| (*s, *s)), filter.section.as_deref()),
            units: choices(units.iter().map(|u| (*u, *u)), filter.lead_unit.as_deref()),
            statuses: choices(TASK_STATUSES, filter.status.as_deref()),
        })
    }
    .await;
    page(&ctx, &req, result)
}

// ---------------------------------------------------------------- cells

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

pub fn cn_date(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map_or_else(String::new, |t| {
        (t + chrono::Duration::hours(8))
            .format("%Y-%m-%d")
            .to_string()
    })
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
pub async fn cells(req: HttpRequest, platform: web::Data<Platform>) -> HttpResponse {
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
            districts: choices(
                ds.iter().map(|d| (d.0.as_str(), d.1.as_str())),
                district.as_deref(),
            ),
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

/// Parses a path id; anything else is the 404 page.
pub fn parse_id(raw: &str) -> Result<Uuid, Fault> {
    Uuid::parse_str(raw).map_err(|_| Fault::NotFound)
}

/// `GET /cells/{id}`: one published cell.
pub async fn cell(
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

/// A facility as a list reads.
pub struct FacilityRow {
    /// Its page.
    pub href: String,
    /// Name.
    pub name: String,
    /// Kind name.
    pub kind: &'static str,
    /// District name.
    pub district: String,
    /// Address.
    pub address: String,
    /// Capacity, tonnes a day.
    pub capacity: Option<String>,
    /// Opening hours.
    pub opening_hours: String,
    /// Operator.
    pub operator: String,
}

impl FacilityRow {
    fn of(f: &FacilityView, districts: &[(String, String)]) -> Self {
        Self {
            href: format!("/facilities/{}", f.id),
            name: f.name.clone(),
            kind: labels::facility_kind(f.kind),
            district: district_name(districts, &f.district_code),
            address: f.address.clone(),
            capacity: f.capacity_t_per_day.map(|c| figure(c, 1)),
            opening_hours: f.opening_hours.clone(),
            operator: f.operator.clone(),
        }
    }
}

/// The query of the facilities page.
#[derive(Deserialize)]
struct FacilitiesQuery {
    kind: Option<String>,
    district_code: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/facilities.html")]
struct FacilitiesPage {
    shell: Shell,
    rows: Vec<FacilityRow>,
    map: String,
    kinds: Vec<Choice>,
    districts: Vec<Choice>,
}

/// `GET /facilities`: the facilities on a map and in a list, by kind and district.
pub async fn facilities(req: HttpRequest, platform: web::Data<Platform>) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = async {
        let q: FacilitiesQuery = query(&req)?;
        let kind = match q.kind.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(
                FACILITY_KINDS
                    .into_iter()
                    .find(|k| k.as_str() == s)
                    .ok_or(Fault::BadRequest)?,
            ),
        };
        let district = q.district_code.filter(|d| !d.is_empty());
        let ds = districts(&platform).await?;
        let collection = facilities::map(
            &platform.db,
            &FacilityFilter {
                kind,
                district_code: district.clone(),
            },
        )
        .await?;
        let list: Vec<&FacilityView> = collection.features.iter().map(|f| &f.properties).collect();
        let map = Map::new(
            "设施分布图",
            list.iter().map(|f| {
                (
                    f.name.clone(),
                    format!("/facilities/{}", f.id),
                    f.lat,
                    f.lng,
                    f.kind.as_str(),
                )
            }),
            platform.settings.map_tile_url.as_deref(),
        );
        Ok(FacilitiesPage {
            shell: ctx.shell(
                "facilities",
                "设施地图",
                "聊城市再生资源回收站点、分拣中心、转运站、餐厨和建筑垃圾处理设施的分布和信息。",
            ),
            rows: list.iter().map(|f| FacilityRow::of(f, &ds)).collect(),
            map: map.svg(),
            kinds: choices(
                FACILITY_KINDS
                    .iter()
                    .map(|k| (k.as_str(), labels::facility_kind(*k))),
                kind.map(facility::Kind::as_str),
            ),
            districts: choices(
                ds.iter().map(|d| (d.0.as_str(), d.1.as_str())),
                district.as_deref(),
            ),
        })
    }
    .await;
    page(&ctx, &req, result)
}

#[derive(Template)]
#[template(path = "pages/facility.html")]
struct FacilityPage {
    shell: Shell,
    row: FacilityRow,
    map: String,
}

/// `GET /facilities/{id}`: one facility on the public map.
pub async fn facility(
    req: HttpRequest,
    platform: web::Data<Platform>,
    id: web::Path<String>,
) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = async {
        let id = parse_id(&id)?;
        let collection = facilities::map(&platform.db, &FacilityFilter::default()).await?;
        let f = collection
            .features
            .into_iter()
            .map(|f| f.properties)
            .find(|f| f.id == id)
            .ok_or(Fault::NotFound)?;
        let ds = districts(&platform).await?;
        let map = Map::new(
            format!("{}的位置", f.name),
            [(
                f.name.clone(),
                format!("/facilities/{}", f.id),
                f.lat,
                f.lng,
                f.kind.as_str(),
            )],
            platform.settings.map_tile_url.as_deref(),
        );
        let row = FacilityRow::of(&f, &ds);
        Ok(FacilityPage {
            shell: ctx.shell(
                "facilities",
                f.name.clone(),
                format!("{}：{}，{}", row.kind, f.name, f.address),
            ),
            row,
            map: map.svg(),
        })
    }
    .await;
    page(&ctx, &req, result)
}
