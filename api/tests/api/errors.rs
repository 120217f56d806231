//! Every bad input gets a clear 4xx problem+json and changes nothing; nothing gets a 5xx.

use reqwest::StatusCode;

use crate::{
    helpers::{Footprint, TestApp, assert_problem},
    on_both,
};

async fn malformed_requests_get_problem_json(fp: Footprint) {
    let app = TestApp::spawn(fp).await;
    assert_problem(
        app.get("/v2/nothing", None).await,
        StatusCode::NOT_FOUND,
        "route_not_found",
    )
    .await;
    let res = app
        .client
        .delete(app.url("/v1/auth/password"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let post = |body: &'static str, ct: &'static str| {
        app.client
            .post(app.url("/v1/auth/password"))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    assert_problem(
        post("{not json", "application/json").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    assert_problem(
        post("{\"phone\": 5}", "application/json").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    assert_problem(
        post("phone=1", "application/x-www-form-urlencoded")
            .await
            .unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    assert_problem(
        post("", "application/json").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    let huge = format!(
        "{{\"phone\":\"{}\",\"password\":\"x\"}}",
        "1".repeat(400_000)
    );
    let res = app
        .client
        .post(app.url("/v1/auth/password"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    let res = app
        .post_json(
            "/v1/auth/password",
            None,
            &serde_json::json!({"phone": "abc", "password": "whatever1"}),
        )
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "phone");
    // Bad query strings and path parameters.
    let pair = app.wechat_login("openid-errors").await;
    let token = pair["access_token"].as_str().unwrap();
    let res = app
        .client
        .post(app.url("/v1/uploads?purpose="))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error());
    let res = app.get("/v1/uploads/not-a-uuid/content", Some(token)).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .get(
            "/v1/uploads/00000000-0000-0000-0000-000000000000/content?variant=huge",
            Some(token),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}
on_both!(
    malformed_requests_get_problem_json_tests,
    super::malformed_requests_get_problem_json
);

/// A fuzz-ish sweep: odd methods, paths, headers and bodies against every route never
/// produce a 5xx.
#[tokio::test]
async fn no_input_produces_a_5xx() {
    let app = TestApp::spawn(Footprint::Embedded).await;
    let paths = [
        "/v1/auth/wechat",
        "/v1/auth/password",
        "/v1/auth/refresh",
        "/v1/auth/logout",
        "/v1/auth/session",
        "/v1/me",
        "/v1/districts",
        "/v1/catalog/categories",
        "/v1/uploads",
        "/v1/uploads/x/content",
        "/v1/uploads/00000000-0000-0000-0000-000000000000/content",
        "/healthz",
        "/v1/%ff%fe",
        "/v1/me?%zz=1",
    ];
    let bodies: [&[u8]; 6] = [
        b"",
        b"null",
        b"[]",
        b"{\"code\": null}",
        b"\xff\xfe\x00",
        b"{\"refresh_token\": \"\\u0000\"}",
    ];
    let methods = [
        reqwest::Method::GET,
        reqwest::Method::POST,
        reqwest::Method::PATCH,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ];
    for path in paths {
        for method in &methods {
            for body in bodies {
                for ct in [
                    "application/json",
                    "multipart/form-data; boundary=x",
                    "text/plain",
                ] {
                    let res = app
                        .client
                        .request(method.clone(), app.url(path))
                        .header("content-type", ct)
                        .header("authorization", "Bearer garbage.garbage.garbage")
                        .body(body.to_vec())
                        .send()
                        .await
                        .unwrap();
                    assert!(
                        !res.status().is_server_error(),
                        "{method} {path} {ct} {body:?} answered {}",
                        res.status()
                    );
                }
            }
        }
    }
}
