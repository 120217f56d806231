//! `/indicators` and `/indicators/{code}`: every indicator of the plan with its target,
//! latest value and progress; one indicator with its yearly series as a chart and a table.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use wufei_domain::{
    Platform,
    disclosure::indicators::{self, IndicatorFilter, IndicatorView},
};

use super::{
    charts::Columns,
    labels::{figure, percent},
    lists::{Choice, choices},
    render::{Ctx, Fault, Shell, page, query},
};

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
pub async fn list(req: HttpRequest, platform: web::Data<Platform>) -> HttpResponse {
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
pub async fn one(
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
