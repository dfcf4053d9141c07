//! The request limits at the edge (`q2c_model::limits`): each violation is a TMF630 body with
//! its status, naming the limit, its value, what was received and the JSON path, before the
//! use-cases run.

use serde_json::{Value, json};

use super::{Reply, app, app_with, assert_error, req, send, send_post};
use crate::ApiConfig;
use crate::routes::quotes::apply_within_limits;

const QUOTES: &str = "/tmf-api/quoteManagement/v4/quote";

fn item() -> Value {
    json!({"productOffering": {"id": "mobile-l"}})
}

fn assert_limit(reply: &Reply, status: u16, code: &str, name: &str, received: u64, path: &str) {
    assert_error(reply, status, code);
    let limit = &reply.body["limit"];
    assert_eq!(limit["name"], name, "{}", reply.body);
    assert_eq!(limit["received"], received, "{}", reply.body);
    assert_eq!(limit["path"], path, "{}", reply.body);
    assert!(limit["value"].as_u64().is_some_and(|v| v < received));
    let message = reply.message();
    assert!(
        message.starts_with(&format!("{path}: {received} ")) && message.contains(name),
        "the message says the same: {message}"
    );
}

#[tokio::test]
async fn a_body_too_deep_is_refused_before_it_is_parsed() {
    let (app, _) = app();
    let deep = format!("{}1{}", "[".repeat(126), "]".repeat(126));
    let body = format!(r#"{{"quoteItem": [{{"productOffering": {{"id": "x"}}}}], "ext": {deep}}}"#);
    let reply = send_post(&app, QUOTES, &body).await;
    let path = format!("ext{}", "[0]".repeat(31));
    assert_limit(&reply, 400, "LIMIT_EXCEEDED", "maxJsonDepth", 33, &path);
}

#[tokio::test]
async fn too_many_items_and_too_long_strings_are_400_with_their_path() {
    let (app, _) = app();
    let body = json!({"quoteItem": vec![item(); 501]}).to_string();
    let reply = send_post(&app, QUOTES, &body).await;
    assert_limit(
        &reply,
        400,
        "LIMIT_EXCEEDED",
        "maxQuoteItems",
        501,
        "quoteItem",
    );

    let body = json!({"quoteItem": [item()], "description": "d".repeat(10_001)}).to_string();
    let reply = send_post(&app, QUOTES, &body).await;
    assert_limit(
        &reply,
        400,
        "LIMIT_EXCEEDED",
        "maxTextLength",
        10_001,
        "description",
    );

    // A merge patch is held to the same limits.
    let patch = json!({"note": vec![json!({"text": "n"}); 101]}).to_string();
    let reply = send(
        &app,
        req("PATCH", &format!("{QUOTES}/q-1"))
            .header("content-type", "application/merge-patch+json")
            .body(axum::body::Body::from(patch))
            .expect("request"),
    )
    .await;
    assert_limit(&reply, 400, "LIMIT_EXCEEDED", "maxArrayItems", 101, "note");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_naming_its_content_length() {
    let config = ApiConfig {
        body_limit: 1_024,
        ..ApiConfig::new("https://api.test", "https://docs.test")
    };
    let verifier = crate::JwtVerifier::new(
        crate::JwtKey::Hs256Secret(super::SECRET.to_vec()),
        super::ISSUER,
        super::AUDIENCE,
    )
    .expect("verifier");
    let (app, _) = app_with(crate::Authenticator::jwt(verifier), config);
    let body = json!({"quoteItem": [item()], "description": "d".repeat(2_000)}).to_string();
    let length = body.len();
    let request = req("POST", QUOTES)
        .header("content-type", "application/json")
        .header("content-length", length)
        .body(axum::body::Body::from(body))
        .expect("request");
    let reply = send(&app, request).await;
    assert_limit(
        &reply,
        413,
        "PAYLOAD_TOO_LARGE",
        "maxRequestBytes",
        length as u64,
        "$",
    );
    assert_eq!(reply.body["limit"]["value"], 1_024);
}

#[tokio::test]
async fn too_many_json_patch_operations_are_refused_before_the_quote_is_read() {
    let (app, _) = app();
    let ops: Vec<Value> = (0..101)
        .map(|_| json!({"op": "test", "path": "/state", "value": "inProgress"}))
        .collect();
    let reply = send(
        &app,
        req("PATCH", "/tmf-api/quoteManagement/v5/quote/q-1")
            .header("content-type", "application/json-patch+json")
            .body(axum::body::Body::from(Value::Array(ops).to_string()))
            .expect("request"),
    )
    .await;
    assert_limit(
        &reply,
        400,
        "LIMIT_EXCEEDED",
        "maxPatchOperations",
        101,
        "$",
    );
}

#[test]
fn copy_amplification_stops_at_the_operation_that_crosses_the_limit() {
    // A quote of ~20 KB; each copy of /quoteItem into a new member doubles the document.
    let quote = json!({"id": "q", "quoteItem": vec![json!({"productOffering": {"id": "x"}, "note": [{"text": "n".repeat(500)}]}); 40]});
    let mut ops = vec![json!({"op": "add", "path": "/c0", "value": {}})];
    for i in 1..18 {
        ops.push(json!({"op": "copy", "from": "", "path": format!("/c{i}")}));
    }
    let patch: json_patch::Patch = serde_json::from_value(Value::Array(ops)).expect("patch");
    let err = apply_within_limits(&quote, &patch).expect_err("amplification");
    let crate::ApiError::Service(q2c_service::ServiceError::Limit(limit)) = err else {
        panic!("a limit error: {err:?}");
    };
    assert_eq!(limit.limit, q2c_model::limits::MAX_QUOTE_BYTES);
    // ~22 KB doubles past 320 KiB at the fourth copy (operation 4: 352 KB).
    assert_eq!(limit.path, "$[4]");
    assert!(limit.received > limit.limit.value && limit.received < 2 * limit.limit.value);

    // Depth: copying a deep member into itself doubles its depth.
    let mut deep = json!(1);
    for _ in 0..20 {
        deep = json!([deep]);
    }
    let quote = json!({"id": "q", "d": deep});
    let patch: json_patch::Patch = serde_json::from_value(json!([
        {"op": "copy", "from": "/d", "path": "/d/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0"}
    ]))
    .expect("patch");
    let err = apply_within_limits(&quote, &patch).expect_err("too deep");
    let crate::ApiError::Service(q2c_service::ServiceError::Limit(limit)) = err else {
        panic!("a limit error: {err:?}");
    };
    assert_eq!(limit.limit, q2c_model::limits::MAX_JSON_DEPTH);
    assert_eq!(limit.path, "$[0]");
}

/// Every string and array of a schema (walking `properties`, `items`, `allOf`): the limit of
/// each must equal what the server enforces (`q2c_model::limits`).
fn walk_limits(node: &Value, name: &str, found: &mut Vec<(String, &'static str, u64)>) {
    let Some(object) = node.as_object() else {
        return;
    };
    match object.get("type").and_then(Value::as_str) {
        Some("string") if !object.contains_key("enum") => {
            let max = object
                .get("maxLength")
                .and_then(Value::as_u64)
                .unwrap_or(u64::MAX);
            found.push((name.to_owned(), "maxLength", max));
        }
        Some("array") => {
            let max = object
                .get("maxItems")
                .and_then(Value::as_u64)
                .unwrap_or(u64::MAX);
            found.push((name.to_owned(), "maxItems", max));
        }
        _ => {}
    }
    if let Some(items) = object.get("items") {
        walk_limits(items, name, found);
    }
    if let Some(properties) = object.get("properties").and_then(Value::as_object) {
        for (key, value) in properties {
            walk_limits(value, key, found);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for value in object
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            walk_limits(value, name, found);
        }
    }
}

#[test]
fn the_served_documents_state_the_limits_the_server_enforces() {
    use q2c_model::limits::{
        MAX_ALTERATIONS_PER_PRICE, MAX_ARRAY_ITEMS, MAX_ID_LENGTH, MAX_PATCH_OPERATIONS,
        MAX_PRICES_PER_ITEM, MAX_QUOTE_ITEMS, MAX_STRING_LENGTH, MAX_TEXT_LENGTH,
    };
    let expected_length = |name: &str| match name {
        "id" => MAX_ID_LENGTH.value,
        "description" | "text" => MAX_TEXT_LENGTH.value,
        "query" => 1_024, // the hub's own, stricter bound
        _ => MAX_STRING_LENGTH.value,
    };
    let expected_items = |name: &str| match name {
        "quoteItem" => MAX_QUOTE_ITEMS.value,
        "quoteItemPrice" => MAX_PRICES_PER_ITEM.value,
        "priceAlteration" => MAX_ALTERATIONS_PER_PRICE.value,
        _ => MAX_ARRAY_ITEMS.value,
    };
    for (document, requests) in [
        (
            crate::openapi::DOCUMENT,
            &["Quote_Create", "Quote_Update"][..],
        ),
        (
            crate::openapi::DOCUMENT_V5,
            &["Quote_FVO", "Quote_MVO", "JsonPatch"][..],
        ),
    ] {
        let doc: Value = serde_json::from_str(document).expect("JSON");
        let schemas = &doc["components"]["schemas"];
        let mut names: Vec<&str> = requests.to_vec();
        names.extend([
            "QuoteItem",
            "QuotePrice",
            "PriceAlteration",
            "Note",
            "ProductRefOrValue",
        ]);
        for schema in names {
            let mut found = Vec::new();
            walk_limits(&schemas[schema], "", &mut found);
            assert!(!found.is_empty(), "{schema} has strings and arrays");
            for (name, keyword, value) in found {
                let expected = if keyword == "maxLength" {
                    expected_length(&name)
                } else if schema == "JsonPatch" && name.is_empty() {
                    MAX_PATCH_OPERATIONS.value
                } else {
                    expected_items(&name)
                };
                assert_eq!(value, expected, "{schema}: {name} {keyword}");
            }
        }
    }
}
