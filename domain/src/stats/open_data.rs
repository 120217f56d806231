//! Open data (开放数据): a catalogue of datasets and their downloads as CSV (UTF-8 with a
//! byte-order mark, so Excel reads the Chinese names) and JSON. A download is a stream of
//! pages read by keyset (a few thousand rows at a time), so its memory does not grow with
//! the dataset. Column names are stable: clients and spreadsheets rely on them.

use std::collections::HashMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{StreamExt, stream::BoxStream};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    entities::{category, district, facility, recycling_record, recycling_rollup, zero_waste_cell},
    error::{Error, Result},
};

/// A column of a dataset.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Column {
    /// Its name in the CSV header and the JSON objects.
    pub name: &'static str,
    /// What it holds.
    pub description: &'static str,
    /// Its unit, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<&'static str>,
}

/// A dataset in the catalogue.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Dataset {
    /// Its id, used in the download URLs.
    pub id: &'static str,
    /// Title.
    pub title: &'static str,
    /// What it holds.
    pub description: &'static str,
    /// Its columns, in order.
    pub columns: Vec<Column>,
    /// How often it changes.
    pub update_frequency: &'static str,
    /// Licence.
    pub licence: &'static str,
    /// When its data last changed (`None`: empty).
    pub last_modified: Option<DateTime<Utc>>,
    /// The CSV download.
    pub csv_url: String,
    /// The JSON download.
    pub json_url: String,
}

/// The licence of every dataset.
pub const LICENCE: &str = "CC BY 4.0 (署名 4.0 国际)";

const fn col(name: &'static str, description: &'static str, unit: Option<&'static str>) -> Column {
    Column {
        name,
        description,
        unit,
    }
}

struct Spec {
    id: &'static str,
    title: &'static str,
    description: &'static str,
    columns: &'static [Column],
    update_frequency: &'static str,
}

const SPECS: [Spec; 4] = [
    Spec {
        id: "recycling-monthly",
        title: "再生资源回收量（按月、区县、品类）",
        description: "Recyclables collected through Wufei per month (Beijing time), district, category and source (door-to-door pickup or smart device), from the recycling ledger.",
        columns: &[
            col("month", "月份 YYYY-MM", None),
            col("district_code", "区县代码", None),
            col("district_name", "区县", None),
            col("category_code", "品类代码", None),
            col("category_name", "品类", None),
            col(
                "source",
                "来源 pickup（上门回收）或 device（智能设备）",
                None,
            ),
            col("weight_kg", "重量", Some("kg")),
            col("items", "件数（按件计价的品类）", Some("件")),
            col("points", "发放积分", Some("积分")),
        ],
        update_frequency: "continuous",
    },
    Spec {
        id: "recycling-records",
        title: "再生资源回收明细",
        description: "Every line of the recycling ledger, without personal data: the day, district, category, source, weight, items and points. A reversal is a line with negative amounts.",
        columns: &[
            col("date", "日期 YYYY-MM-DD（北京时间）", None),
            col("district_code", "区县代码", None),
            col("category_code", "品类代码", None),
            col("source", "来源 pickup 或 device", None),
            col("weight_g", "重量", Some("g")),
            col("items", "件数", Some("件")),
            col("points", "积分", Some("积分")),
        ],
        update_frequency: "continuous",
    },
    Spec {
        id: "facilities",
        title: "回收处置设施",
        description: "The facilities on the public map: recycling stations, sorting centres, transfer stations, kitchen-waste and construction-waste plants, hazardous-waste points. Positions GCJ-02.",
        columns: &[
            col("id", "编号", None),
            col("name", "名称", None),
            col("kind", "类型", None),
            col("district_code", "区县代码", None),
            col("address", "地址", None),
            col("lat", "纬度（GCJ-02）", Some("°")),
            col("lng", "经度（GCJ-02）", Some("°")),
            col("capacity", "处理能力", Some("t/d")),
            col("opening_hours", "开放时间", None),
            col("operator", "运营单位", None),
        ],
        update_frequency: "on change",
    },
    Spec {
        id: "zero-waste-cells",
        title: "无废细胞名单",
        description: "Published zero-waste cells (无废细胞): organisation, kind, district, address, position (GCJ-02) and the day it was published.",
        columns: &[
            col("id", "编号", None),
            col("organisation", "单位", None),
            col("kind", "类型", None),
            col("district_code", "区县代码", None),
            col("address", "地址", None),
            col("lat", "纬度（GCJ-02）", Some("°")),
            col("lng", "经度（GCJ-02）", Some("°")),
            col("published_at", "认定时间", None),
        ],
        update_frequency: "on change",
    },
];

fn spec(id: &str) -> Result<&'static Spec> {
    SPECS
        .iter()
        .find(|s| s.id == id)
        .ok_or(Error::NotFound { what: "dataset" })
}

async fn last_modified(db: &impl ConnectionTrait, id: &str) -> Result<Option<DateTime<Utc>>> {
    let max = |col: &str| Expr::cust(format!("MAX({col})"));
    Ok(match id {
        "recycling-monthly" | "recycling-records" => recycling_record::Entity::find()
            .select_only()
            .column_as(max("created_at"), "v")
            .into_tuple::<Option<DateTime<Utc>>>()
            .one(db)
            .await?
            .flatten(),
        "facilities" => facility::Entity::find()
            .select_only()
            .column_as(max("updated_at"), "v")
            .into_tuple::<Option<DateTime<Utc>>>()
            .one(db)
            .await?
            .flatten(),
        _ => zero_waste_cell::Entity::find()
            .select_only()
            .column_as(max("reviewed_at"), "v")
            .into_tuple::<Option<DateTime<Utc>>>()
            .one(db)
            .await?
            .flatten(),
    })
}

/// The catalogue.
pub async fn catalogue(db: &impl ConnectionTrait) -> Result<Vec<Dataset>> {
    let mut out = Vec::new();
    for s in &SPECS {
        out.push(Dataset {
            id: s.id,
            title: s.title,
            description: s.description,
            columns: s.columns.to_vec(),
            update_frequency: s.update_frequency,
            licence: LICENCE,
            last_modified: last_modified(db, s.id).await?,
            csv_url: format!("/v1/open-data/{}.csv", s.id),
            json_url: format!("/v1/open-data/{}.json", s.id),
        });
    }
    Ok(out)
}

/// A download format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV, UTF-8 with a byte-order mark.
    Csv,
    /// A JSON array of objects.
    Json,
}

impl Format {
    /// The media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

/// Splits `recycling-monthly.csv` into the dataset and the format; 404 for anything else.
pub fn parse_file(file: &str) -> Result<(&'static str, Format)> {
    let (id, format) = if let Some(id) = file.strip_suffix(".csv") {
        (id, Format::Csv)
    } else if let Some(id) = file.strip_suffix(".json") {
        (id, Format::Json)
    } else {
        return Err(Error::NotFound { what: "dataset" });
    };
    Ok((spec(id)?.id, format))
}

/// Rows per page of a download.
const PAGE: u64 = 5000;

type Rows = (Vec<Vec<Value>>, Option<String>);

fn names<T>(rows: Vec<T>, key: impl Fn(&T) -> (String, String)) -> HashMap<String, String> {
    rows.iter().map(key).collect()
}

async fn page(db: &DatabaseConnection, id: &str, after: Option<String>) -> Result<Rows> {
    let after_uuid = after.as_deref().and_then(|a| a.parse::<Uuid>().ok());
    match id {
        "recycling-monthly" => {
            // Small (months × districts × categories × 2): one page.
            if after.is_some() {
                return Ok((Vec::new(), None));
            }
            let categories: HashMap<Uuid, (String, String)> = category::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|c| (c.id, (c.code, c.name)))
                .collect();
            let districts = names(district::Entity::find().all(db).await?, |d| {
                (d.code.clone(), d.name.clone())
            });
            let rows = recycling_rollup::Entity::find()
                .order_by_asc(recycling_rollup::Column::Month)
                .order_by_asc(recycling_rollup::Column::DistrictCode)
                .order_by_asc(recycling_rollup::Column::CategoryId)
                .order_by_asc(recycling_rollup::Column::Source)
                .all(db)
                .await?
                .into_iter()
                .map(|r| {
                    let (code, name) = categories.get(&r.category_id).cloned().unwrap_or_default();
                    vec![
                        json!(r.month),
                        json!(r.district_code),
                        json!(districts.get(&r.district_code)),
                        json!(code),
                        json!(name),
                        json!(r.source.as_str()),
                        json!(r.weight_g as f64 / 1000.0),
                        json!(r.items),
                        json!(r.points),
                    ]
                })
                .collect();
            Ok((rows, None))
        }
        "recycling-records" => {
            use recycling_record::Column as C;
            // Only the columns the file has: decoding all fifteen was a good part of the
            // export's time.
            let mut q = recycling_record::Entity::find()
                .select_only()
                .columns([
                    C::Id,
                    C::LocalDate,
                    C::DistrictCode,
                    C::CategoryId,
                    C::PickupId,
                    C::WeightG,
                    C::Count,
                    C::Points,
                ])
                .order_by_asc(C::Id)
                .limit(PAGE);
            if let Some(a) = after_uuid {
                q = q.filter(C::Id.gt(a));
            }
            type Line = (Uuid, String, String, Uuid, Option<Uuid>, i64, i64, i64);
            let lines: Vec<Line> = q.into_tuple().all(db).await?;
            let categories: HashMap<Uuid, String> = category::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|c| (c.id, c.code))
                .collect();
            let next = (lines.len() as u64 == PAGE)
                .then(|| lines.last().map(|l| l.0.to_string()))
                .flatten();
            let rows = lines
                .into_iter()
                .map(
                    |(_, date, district, category, pickup, weight_g, count, points)| {
                        vec![
                            json!(date),
                            json!(district),
                            json!(categories.get(&category)),
                            json!(if pickup.is_some() { "pickup" } else { "device" }),
                            json!(weight_g),
                            json!(count),
                            json!(points),
                        ]
                    },
                )
                .collect();
            Ok((rows, next))
        }
        "facilities" => {
            let mut q = facility::Entity::find()
                .filter(facility::Column::Active.eq(true))
                .order_by_asc(facility::Column::Id)
                .limit(PAGE);
            if let Some(a) = after_uuid {
                q = q.filter(facility::Column::Id.gt(a));
            }
            let found = q.all(db).await?;
            let next = (found.len() as u64 == PAGE)
                .then(|| found.last().map(|f| f.id.to_string()))
                .flatten();
            let rows = found
                .into_iter()
                .map(|f| {
                    vec![
                        json!(f.id),
                        json!(f.name),
                        json!(f.kind),
                        json!(f.district_code),
                        json!(f.address),
                        json!(f.lat),
                        json!(f.lng),
                        json!(f.capacity_t_per_day),
                        json!(f.opening_hours),
                        json!(f.operator),
                    ]
                })
                .collect();
            Ok((rows, next))
        }
        _ => {
            let mut q = zero_waste_cell::Entity::find()
                .filter(zero_waste_cell::Column::Status.eq(zero_waste_cell::Status::Published))
                .order_by_asc(zero_waste_cell::Column::Id)
                .limit(PAGE);
            if let Some(a) = after_uuid {
                q = q.filter(zero_waste_cell::Column::Id.gt(a));
            }
            let found = q.all(db).await?;
            let next = (found.len() as u64 == PAGE)
                .then(|| found.last().map(|c| c.id.to_string()))
                .flatten();
            let rows = found
                .into_iter()
                .map(|c| {
                    vec![
                        json!(c.id),
                        json!(c.organisation),
                        json!(c.kind),
                        json!(c.district_code),
                        json!(c.address),
                        json!(c.lat),
                        json!(c.lng),
                        json!(c.published_at),
                    ]
                })
                .collect();
            Ok((rows, next))
        }
    }
}

/// One CSV field: quoted when it must be; a text that a spreadsheet would run as a formula
/// (`=`, `+`, `-`, `@` first) is prefixed with `'`.
fn csv_field(v: &Value, out: &mut String) {
    let text = match v {
        Value::Null => return,
        Value::String(s) => {
            if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{s}")
            } else {
                s.clone()
            }
        }
        other => other.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&text);
    }
}

fn csv_line(values: &[Value]) -> String {
    let mut line = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        csv_field(v, &mut line);
    }
    line.push_str("\r\n");
    line
}

fn encode(spec: &Spec, format: Format, rows: &[Vec<Value>], first: bool) -> String {
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        match format {
            Format::Csv => out.push_str(&csv_line(row)),
            Format::Json => {
                if !(first && i == 0) {
                    out.push(',');
                }
                let object: serde_json::Map<String, Value> = spec
                    .columns
                    .iter()
                    .map(|c| c.name.to_string())
                    .zip(row.iter().cloned())
                    .collect();
                out.push_str(&Value::Object(object).to_string());
            }
        }
    }
    out
}

enum State {
    Start,
    After(Option<String>, bool),
    Done,
}

/// How many encoded pages wait between the reader and the client.
const AHEAD: usize = 2;

/// The download of dataset `id` as a stream of chunks (one per page). A task reads and
/// encodes the pages up to [`AHEAD`] ahead of the client, so the database and the network
/// work at the same time; memory stays bounded by those pages, and the task stops when
/// the client goes.
pub fn download(
    db: DatabaseConnection,
    id: &'static str,
    format: Format,
) -> BoxStream<'static, Result<Bytes>> {
    let (mut tx, rx) = futures::channel::mpsc::channel(AHEAD);
    let mut pages = pages(db, id, format);
    tokio::spawn(async move {
        use futures::SinkExt;
        while let Some(chunk) = pages.next().await {
            if tx.send(chunk).await.is_err() {
                break;
            }
        }
    });
    rx.boxed()
}

/// The chunks of dataset `id`, each read when asked for.
fn pages(
    db: DatabaseConnection,
    id: &'static str,
    format: Format,
) -> BoxStream<'static, Result<Bytes>> {
    let spec = SPECS.iter().find(|s| s.id == id).unwrap_or(&SPECS[0]);
    futures::stream::unfold(State::Start, move |state| {
        let db = db.clone();
        async move {
            match state {
                State::Start => {
                    let head = match format {
                        Format::Csv => {
                            let names: Vec<Value> =
                                spec.columns.iter().map(|c| json!(c.name)).collect();
                            format!("\u{feff}{}", csv_line(&names))
                        }
                        Format::Json => "[".to_string(),
                    };
                    Some((Ok(Bytes::from(head)), State::After(None, true)))
                }
                State::After(after, first) => {
                    let started = after.is_some();
                    match page(&db, spec.id, after).await {
                        Ok((rows, next)) => {
                            let body = encode(spec, format, &rows, first);
                            let more = next.is_some() && !rows.is_empty();
                            let mut chunk = body;
                            if !more && format == Format::Json {
                                chunk.push(']');
                            }
                            let next_state = if more {
                                State::After(next, first && rows.is_empty())
                            } else {
                                State::Done
                            };
                            let _ = started;
                            Some((Ok(Bytes::from(chunk)), next_state))
                        }
                        Err(e) => Some((Err(e), State::Done)),
                    }
                }
                State::Done => None,
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(
            csv_line(&[json!("a"), json!(1), Value::Null, json!(-2)]),
            "a,1,,-2\r\n"
        );
        assert_eq!(
            csv_line(&[json!("a,b"), json!("say \"hi\"")]),
            "\"a,b\",\"say \"\"hi\"\"\"\r\n"
        );
        assert_eq!(csv_line(&[json!("=HYPERLINK(1)")]), "'=HYPERLINK(1)\r\n");
        assert_eq!(
            csv_line(&[json!("第一行\n第二行")]),
            "\"第一行\n第二行\"\r\n"
        );
    }

    #[test]
    fn files_name_a_dataset_and_a_format() {
        assert_eq!(
            parse_file("facilities.csv").unwrap(),
            ("facilities", Format::Csv)
        );
        assert_eq!(
            parse_file("recycling-records.json").unwrap(),
            ("recycling-records", Format::Json)
        );
        for bad in [
            "facilities",
            "facilities.xml",
            "nope.csv",
            ".csv",
            "../x.csv",
        ] {
            assert!(parse_file(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn json_pages_join_into_one_array() {
        let spec = &SPECS[1];
        let row = vec![
            json!("2026-12-01"),
            json!("371502"),
            json!("paper"),
            json!("pickup"),
            json!(1),
            json!(0),
            json!(1),
        ];
        let a = encode(spec, Format::Json, std::slice::from_ref(&row), true);
        let b = encode(spec, Format::Json, std::slice::from_ref(&row), false);
        let all: Value = serde_json::from_str(&format!("[{a}{b}]")).unwrap();
        assert_eq!(all.as_array().unwrap().len(), 2);
        assert_eq!(all[0]["district_code"], "371502");
    }
}
