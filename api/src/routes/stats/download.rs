//! `GET /v1/open-data/{dataset}.csv` and `GET /v1/open-data/{dataset}.json`.

use actix_web::{
    HttpResponse,
    http::header::{self, HeaderValue},
    web,
};
use futures::StreamExt;
use wufei_domain::{Platform, stats::open_data};

use crate::{
    cache::PUBLIC_MAX_AGE,
    problem::{ApiError, Problem},
};

/// A dataset as CSV (UTF-8 with a byte-order mark; `\r\n` line ends; the catalogue's column
/// names as the header) or as a JSON array of objects, streamed page by page.
#[utoipa::path(get, path = "/v1/open-data/{file}", tag = "disclosure",
    params(("file" = String, Path, description = "`<dataset>.csv` or `<dataset>.json`, e.g. `recycling-records.csv`")),
    responses(
    (status = 200, description = "the dataset", content((String = "text/csv"), (Vec<serde_json::Value> = "application/json"))),
    (status = 404, description = "no such dataset or format", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn download(
    platform: web::Data<Platform>,
    file: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (id, format) = open_data::parse_file(&file)?;
    let body = open_data::download(platform.db.clone(), id, format).map(move |chunk| {
        chunk.map_err(|e| {
            tracing::error!(dataset = id, error = %e, "open-data download failed mid-stream");
            actix_web::error::ErrorInternalServerError("download failed")
        })
    });
    let mut res = HttpResponse::Ok()
        .content_type(format.content_type())
        .streaming(body);
    let extension = if format == open_data::Format::Csv {
        "csv"
    } else {
        "json"
    };
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{id}.{extension}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={PUBLIC_MAX_AGE}")) {
        res.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    Ok(res)
}
