use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    helpers::{Footprint, TestApp},
    on_both,
};

async fn health_ready_and_metrics_answer(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let res = app.get("/healthz", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().contains_key("x-request-id"));

    let res = app.get("/readyz", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let names: Vec<&str> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["database", "queue", "blob_store", "search"]);

    app.get("/v1/districts", None).await;
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("wufei_http_request_duration_seconds_bucket"),
        "{metrics}"
    );
    assert!(metrics.contains("route=\"/v1/districts\""), "{metrics}");
    assert!(metrics.contains("wufei_queue_jobs"), "{metrics}");
}
on_both!(
    health_ready_and_metrics_answer_tests,
    super::health_ready_and_metrics_answer
);

async fn readyz_names_the_failed_dependency(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    // Close the pool under the app: the database stops answering.
    app.platform.db.clone().close().await.unwrap();
    let res = app.get("/readyz", None).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = res.json().await.unwrap();
    let db = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "database")
        .unwrap()
        .clone();
    assert_eq!(db["status"], "failed", "{body}");
}
on_both!(
    readyz_names_the_failed_dependency_tests,
    super::readyz_names_the_failed_dependency
);

/// Search is a dependency of readiness: the embedded engine's directory gone, or a
/// Meilisearch that does not answer, is a 503 that names `search`, and the others stay `ok`.
async fn readyz_names_search_when_it_fails(fp: Footprint) {
    let app = TestApp::spawn_with(fp, |s| {
        if s.meili_url.is_some() {
            // A port nothing listens on: the listener is dropped at once.
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .unwrap()
                .port();
            s.meili_url = Some(format!("http://127.0.0.1:{port}"));
        }
    })
    .await;
    if app.platform.search.backend() == "embedded" {
        std::fs::remove_dir_all(app.platform.settings.data_dir.join("search")).unwrap();
    }
    let res = app.get("/readyz", None).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = res.json().await.unwrap();
    for check in body["checks"].as_array().unwrap() {
        let want = if check["name"] == "search" {
            "failed"
        } else {
            "ok"
        };
        assert_eq!(check["status"], want, "{body}");
    }
}
on_both!(
    readyz_names_search_when_it_fails_tests,
    super::readyz_names_search_when_it_fails
);

async fn request_id_is_echoed(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "bad id with spaces");
}
on_both!(request_id_is_echoed_tests, super::request_id_is_echoed);

async fn reference_data_is_seeded(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    let districts: Vec<Value> = app.get("/v1/districts", None).await.json().await.unwrap();
    assert_eq!(districts.len(), 11);
    assert!(
        districts
            .iter()
            .any(|d| d["code"] == "371502" && d["name"] == "东昌府区")
    );
    assert!(
        districts
            .iter()
            .any(|d| d["code"] == "371573" && d["kind"] == "development_zone")
    );
    let cats: Vec<Value> = app
        .get("/v1/catalog/categories", None)
        .await
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = cats.iter().map(|c| c["code"].as_str().unwrap()).collect();
    for code in [
        "paper",
        "plastic",
        "metal",
        "glass",
        "textile",
        "e_waste",
        "furniture",
        "kitchen_waste",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    assert!(
        cats.iter()
            .all(|c| c["points_per_unit"].as_i64().unwrap() > 0)
    );
}
on_both!(
    reference_data_is_seeded_tests,
    super::reference_data_is_seeded
);

#[tokio::test]
async fn docs_are_served_offline() {
    let app = TestApp::spawn(Footprint::Embedded).await;
    let res = app.get("/docs/", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().to_lowercase().contains("swagger"));
    let doc: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    assert!(doc["paths"]["/v1/me"].is_object());
}
