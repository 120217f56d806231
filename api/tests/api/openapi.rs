//! The checked-in OpenAPI document must match the code. Regenerate with
//! `cargo run -p wufei-api -- openapi > openapi/openapi.json`.

#[test]
fn checked_in_openapi_matches_the_code() {
    let generated = wufei_api::openapi::document();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    if generated != checked_in {
        if std::env::var("UPDATE_OPENAPI").is_ok() {
            std::fs::write(path, &generated).unwrap();
            return;
        }
        panic!(
            "openapi/openapi.json is out of date with the code; run `cargo run -p wufei-api -- openapi > openapi/openapi.json` (or UPDATE_OPENAPI=1 cargo test) and commit it"
        );
    }
}

#[test]
fn every_operation_documents_its_errors() {
    let doc: serde_json::Value = serde_json::from_str(&wufei_api::openapi::document()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let public_read = method == "get" && op.get("security").is_none();
            if !public_read {
                assert!(
                    responses.keys().any(|k| k.starts_with('4')),
                    "{method} {path} documents no 4xx"
                );
            }
        }
    }
}
