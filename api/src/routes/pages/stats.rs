//! The home page (the headline figures, progress on the plan's main targets) and the
//! statistics pages (tonnage by category, district and month; the open-data catalogue).
//! The figures are `stats::overview` and `stats::recycling`, as on `/v1/stats/*`.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use wufei_domain::{
    Platform,
    disclosure::{cells, indicators},
    stats::{self, RecyclingQuery, RecyclingRow, open_data},
};

use super::{
    charts::{Bars, Columns},
    indicators::IndicatorRow,
    labels::{figure, grouped},
    lists::{Choice, district_choices, districts},
    render::{Ctx, Fault, Shell, page, query},
};

/// A headline figure: its label, the figure as read, its unit, and the raw value (in a
/// `data-value` attribute, which the browser test compares with `/v1/stats/overview`).
pub struct Figure {
    /// Its id in the page.
    pub id: &'static str,
    /// What it is.
    pub label: &'static str,
    /// As read.
    pub text: String,
    /// Its unit.
    pub unit: &'static str,
    /// The value as the API states it.
    pub raw: String,
}

fn tonnes(id: &'static str, label: &'static str, t: f64) -> Figure {
    Figure {
        id,
        label,
        text: figure(t, 2),
        unit: "吨",
        raw: t.to_string(),
    }
}

fn count(id: &'static str, label: &'static str, n: u64, unit: &'static str) -> Figure {
    Figure {
        id,
        label,
        text: grouped(n),
        unit,
        raw: n.to_string(),
    }
}

#[derive(Template)]
#[template(path = "pages/home.html")]
struct HomePage {
    shell: Shell,
    month: String,
    year: i32,
    figures: Vec<Figure>,
    targets: Vec<IndicatorRow>,
    cells: u64,
    cells_target: u64,
    latest: Vec<super::articles::ArticleRow>,
}

/// The indicators the home page shows first: the plan's headline targets, when present.
const HEADLINE: usize = 6;

/// `GET /`: the headline figures, progress on the plan's main targets, and the way in.
pub async fn home(req: HttpRequest, platform: web::Data<Platform>) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = async {
        let o = stats::overview(&platform.db).await?;
        let summary = cells::summary(&platform.db).await?;
        let list = indicators::list(&platform.db, &Default::default()).await?;
        let news = wufei_domain::disclosure::articles::list(
            &platform.db,
            platform.search.as_ref(),
            &wufei_domain::disclosure::articles::ArticleQuery {
                limit: Some(5),
                ..Default::default()
            },
        )
        .await?;
        let ds = super::lists::districts(&platform).await?;
        let mut targets: Vec<IndicatorRow> = list
            .iter()
            .filter(|i| i.progress.is_some())
            .map(IndicatorRow::of)
            .collect();
        if targets.len() < HEADLINE {
            targets.extend(
                list.iter()
                    .filter(|i| i.progress.is_none() && i.target.is_some())
                    .map(IndicatorRow::of),
            );
        }
        targets.truncate(HEADLINE);
        Ok(HomePage {
            shell: ctx.shell(
                "home",
                "首页",
                "聊城市“无废城市”建设信息公开：回收量、服务户数、无废细胞、指标进展、任务清单和再生产品供求。",
            ),
            figures: vec![
                tonnes("month-weight", "本月回收量", o.this_month.weight_t),
                tonnes("year-weight", "本年回收量", o.this_year.weight_t),
                count("year-households", "本年服务户数", o.this_year.households, "户"),
                count("all-households", "累计服务户数", o.all_time.households, "户"),
                count("cells", "已建成无废细胞", o.cells, "个"),
                count("facilities", "公开设施", o.facilities, "处"),
                count("listings", "在售再生产品", o.market.listings, "条"),
                count("demands", "求购信息", o.market.open_demands, "条"),
            ],
            month: o.month,
            year: o.year,
            targets,
            cells: summary.published,
            cells_target: summary.target,
            latest: news
                .items
                .iter()
                .map(|a| super::articles::ArticleRow::of(a, &ds))
                .collect(),
        })
    }
    .await;
    page(&ctx, &req, result)
}

/// A row of a statistics table.
pub struct StatRow {
    /// What it is.
    pub label: String,
    /// Weight, kg, as read.
    pub weight: String,
    /// Items.
    pub items: String,
    /// Points.
    pub points: String,
}

impl StatRow {
    fn of(label: String, r: &RecyclingRow) -> Self {
        Self {
            label,
            weight: figure(r.weight_kg, 1),
            items: grouped(r.items.max(0) as u64),
            points: grouped(r.points.max(0) as u64),
        }
    }
}

/// The query of the statistics page.
#[derive(Deserialize)]
struct StatsQuery {
    from: Option<String>,
    to: Option<String>,
    district_code: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/stats.html")]
struct StatsPage {
    shell: Shell,
    from: String,
    to: String,
    districts: Vec<Choice>,
    total: StatRow,
    by_category: Vec<StatRow>,
    by_district: Vec<StatRow>,
    by_month: Vec<StatRow>,
    category_chart: String,
    district_chart: String,
    month_chart: String,
}

/// The months from `from` to `to` (`YYYY-MM`), at most 120.
fn months(from: &str, to: &str) -> Vec<String> {
    let parse = |m: &str| -> Option<i32> {
        Some(m.get(..4)?.parse::<i32>().ok()? * 12 + m.get(5..7)?.parse::<i32>().ok()? - 1)
    };
    let (Some(a), Some(b)) = (parse(from), parse(to)) else {
        return vec![];
    };
    (a..=b)
        .take(120)
        .map(|i| format!("{:04}-{:02}", i.div_euclid(12), i.rem_euclid(12) + 1))
        .collect()
}

/// `GET /stats`: tonnage by category, district and month as charts, with the numbers in
/// tables beside them.
pub async fn stats(req: HttpRequest, platform: web::Data<Platform>) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = async {
        let q: StatsQuery = query(&req)?;
        let blank = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        let ask = |group_by: &str| RecyclingQuery {
            group_by: Some(group_by.into()),
            from: blank(q.from.clone()),
            to: blank(q.to.clone()),
            district_code: blank(q.district_code.clone()),
            source: None,
        };
        let cat = stats::recycling(&platform.db, &ask("category")).await?;
        let dis = stats::recycling(&platform.db, &ask("district")).await?;
        let mon = stats::recycling(&platform.db, &ask("month")).await?;
        let ds = districts(&platform).await?;
        let kg = |r: &RecyclingRow| (r.weight_kg, format!("{} 千克", figure(r.weight_kg, 1)));
        let label_cat = |r: &RecyclingRow| {
            r.category_name
                .clone()
                .or_else(|| r.category_code.clone())
                .unwrap_or_default()
        };
        let label_dis = |r: &RecyclingRow| {
            r.district_name
                .clone()
                .or_else(|| r.district_code.clone())
                .unwrap_or_default()
        };
        let month_rows: Vec<(String, RecyclingRow)> = months(&mon.from, &mon.to)
            .into_iter()
            .map(|m| {
                let row = mon
                    .rows
                    .iter()
                    .find(|r| r.month.as_deref() == Some(m.as_str()))
                    .cloned()
                    .unwrap_or_default();
                (m, row)
            })
            .collect();
        let bars = |title: &str, rows: &[RecyclingRow], label: &dyn Fn(&RecyclingRow) -> String| {
            Bars::new(
                title,
                rows.iter()
                    .map(|r| {
                        let (v, t) = kg(r);
                        (label(r), v, t)
                    })
                    .collect(),
            )
            .svg()
        };
        Ok(StatsPage {
            shell: ctx.shell(
                "stats",
                "数据统计",
                "通过无废平台回收的再生资源：按品类、区县和月份统计的重量、件数和积分。",
            ),
            category_chart: bars("按品类的回收量", &cat.rows, &label_cat),
            district_chart: bars("按区县的回收量", &dis.rows, &label_dis),
            month_chart: Columns::new(
                "按月份的回收量",
                month_rows
                    .iter()
                    .map(|(m, r)| {
                        (
                            m[5..].trim_start_matches('0').to_string() + "月",
                            r.weight_kg,
                            figure(r.weight_kg, 0),
                        )
                    })
                    .collect(),
                None,
            )
            .svg(),
            total: StatRow::of("合计".into(), &cat.total),
            by_category: cat
                .rows
                .iter()
                .map(|r| StatRow::of(label_cat(r), r))
                .collect(),
            by_district: dis
                .rows
                .iter()
                .map(|r| StatRow::of(label_dis(r), r))
                .collect(),
            by_month: month_rows
                .iter()
                .map(|(m, r)| StatRow::of(m.clone(), r))
                .collect(),
            districts: district_choices(&ds, q.district_code.as_deref()),
            from: cat.from,
            to: cat.to,
        })
    }
    .await;
    page(&ctx, &req, result)
}

/// A dataset as the catalogue reads.
pub struct DatasetRow {
    /// Its id.
    pub id: &'static str,
    /// Title.
    pub title: &'static str,
    /// Description.
    pub description: &'static str,
    /// Its columns: name, description, unit.
    pub columns: Vec<(&'static str, &'static str, &'static str)>,
    /// How often it changes.
    pub update_frequency: &'static str,
    /// Licence.
    pub licence: &'static str,
    /// Last change (Beijing time).
    pub last_modified: String,
    /// CSV download.
    pub csv_url: String,
    /// JSON download.
    pub json_url: String,
}

#[derive(Template)]
#[template(path = "pages/open_data.html")]
struct OpenDataPage {
    shell: Shell,
    datasets: Vec<DatasetRow>,
}

/// `GET /open-data`: the open-data catalogue with its download links.
pub async fn open_data(req: HttpRequest, platform: web::Data<Platform>) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result: Result<_, Fault> = async {
        let list = open_data::catalogue(&platform.db).await?;
        Ok(OpenDataPage {
            shell: ctx.shell(
                "open-data",
                "开放数据",
                "无废城市开放数据目录：回收台账、月度统计、设施和无废细胞，CSV 和 JSON 下载。",
            ),
            datasets: list
                .into_iter()
                .map(|d| DatasetRow {
                    id: d.id,
                    title: d.title,
                    description: d.description,
                    columns: d
                        .columns
                        .iter()
                        .map(|c| (c.name, c.description, c.unit.unwrap_or("")))
                        .collect(),
                    update_frequency: d.update_frequency,
                    licence: d.licence,
                    last_modified: d.last_modified.map_or_else(
                        || "—".into(),
                        |t| {
                            (t + chrono::Duration::hours(8))
                                .format("%Y-%m-%d %H:%M")
                                .to_string()
                        },
                    ),
                    csv_url: d.csv_url,
                    json_url: d.json_url,
                })
                .collect(),
        })
    }
    .await;
    page(&ctx, &req, result)
}
