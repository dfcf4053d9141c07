//! Our OpenAPI document is a superset of the official TMF648 v4 swagger: every property of
//! the official Quote, QuoteItem, QuotePrice and Error is in our schema with a compatible type.

use serde_json::Value;

const OFFICIAL: &str = include_str!("fixtures/TMF648-Quote-v4.0.0.swagger.json");

/// A comparable shape: `ref:<Name>`, `array<...>` or the JSON type (with format when given).
fn shape(schema: &Value) -> String {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        return format!("ref:{}", target.rsplit('/').next().unwrap_or_default());
    }
    if let Some([only]) = schema
        .get("allOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        return shape(only);
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => format!("array<{}>", shape(&schema["items"])),
        Some(t) => t.to_owned(),
        None => "any".to_owned(),
    }
}

#[test]
fn official_quote_schemas_are_contained_in_ours() {
    let official: Value = serde_json::from_str(OFFICIAL).expect("the official swagger");
    let ours: Value = serde_json::from_str(q2c_api::openapi::DOCUMENT).expect("our document");
    assert!(
        ours["openapi"]
            .as_str()
            .expect("a version")
            .starts_with("3.0")
    );
    for name in ["Quote", "QuoteItem", "QuotePrice", "Error"] {
        let theirs = official["definitions"][name]["properties"]
            .as_object()
            .expect("properties");
        let mine = &ours["components"]["schemas"][name]["properties"];
        for (property, schema) in theirs {
            let expected = shape(schema);
            assert_eq!(shape(&mine[property]), expected, "{name}.{property}");
        }
    }
}

#[test]
fn money_value_is_a_number_and_create_requires_items() {
    let ours: Value = serde_json::from_str(q2c_api::openapi::DOCUMENT).expect("our document");
    let schemas = &ours["components"]["schemas"];
    assert_eq!(schemas["Money"]["properties"]["value"]["type"], "number");
    assert_eq!(
        schemas["Quote_Create"]["required"],
        serde_json::json!(["quoteItem"])
    );
    assert_eq!(
        schemas["Quote"]["properties"]["quoteTotalPrice"]["readOnly"],
        true
    );
}

/// Asserts that every `#/components/...` reference of a document names a component of it.
fn assert_every_reference_defined(text: &str) {
    let document: Value = serde_json::from_str(text).expect("our document");
    for piece in text.split("\"#/components/").skip(1) {
        let target = piece.split('"').next().unwrap_or_default();
        let mut node = &document["components"];
        for part in target.split('/') {
            node = &node[part];
        }
        assert!(!node.is_null(), "dangling reference #/components/{target}");
    }
}

#[test]
fn every_referenced_schema_is_defined() {
    assert_every_reference_defined(q2c_api::openapi::DOCUMENT);
}

/// The statuses the edge can return for any request are declared on every operation.
#[test]
fn edge_statuses_are_declared_on_every_operation() {
    let ours: Value = serde_json::from_str(q2c_api::openapi::DOCUMENT).expect("our document");
    for (path, item) in ours["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("operations") {
            let responses = op["responses"].as_object().expect("responses");
            let mut needed = vec![];
            if op.get("security").is_some() {
                needed.extend(["400", "401", "403", "500", "503"]);
            }
            if op.get("requestBody").is_some() {
                needed.extend(["413", "415"]);
            }
            if op.to_string().contains("Idempotency-Key") {
                needed.extend(["409", "422"]);
            }
            if op.to_string().contains("If-Match") {
                needed.push("412");
            }
            for status in needed {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} lacks {status}"
                );
            }
        }
    }
}

const DRAFT_V5: &str = include_str!("fixtures/TMF648-Quote-v5.0.0.oas.yaml");

/// The properties of a draft schema: its own and those of its `allOf` members (one level of
/// `$ref`, as the draft composes them).
fn draft_properties(draft: &Value, name: &str) -> Vec<String> {
    let schemas = &draft["components"]["schemas"];
    let schema = &schemas[name];
    let mut parts = vec![schema.clone()];
    if let Some(all) = schema["allOf"].as_array() {
        for member in all {
            match member["$ref"].as_str() {
                Some(target) => {
                    parts.push(schemas[target.rsplit('/').next().unwrap_or_default()].clone())
                }
                None => parts.push(member.clone()),
            }
        }
    }
    parts
        .iter()
        .filter_map(|p| p["properties"].as_object())
        .flat_map(|p| p.keys().cloned())
        .collect()
}

#[test]
fn the_v5_document_covers_the_draft_quote_and_fvo() {
    let draft: Value = serde_yaml_ng::from_str(DRAFT_V5).expect("the v5 draft");
    let ours: Value = serde_json::from_str(q2c_api::openapi::DOCUMENT_V5).expect("our v5 document");
    let schemas = &ours["components"]["schemas"];
    for name in ["Quote", "QuoteItem", "Quote_FVO"] {
        for property in draft_properties(&draft, name) {
            assert!(
                !schemas[name]["properties"][&property].is_null(),
                "{name}.{property} of the draft is missing from our v5 document"
            );
        }
    }
    assert_eq!(
        schemas["Quote_FVO"]["required"],
        serde_json::json!(["@type", "quoteItem", "instantSyncQuote"])
    );
    assert_eq!(
        schemas["ItemActionType"]["enum"],
        draft["components"]["schemas"]["ItemActionType"]["enum"]
    );
    assert_eq!(
        schemas["QuoteStateType"]["enum"],
        draft["components"]["schemas"]["QuoteStateType"]["enum"]
    );
    assert!(schemas["Quote"]["properties"].get("quoteDate").is_none());
    assert_every_reference_defined(q2c_api::openapi::DOCUMENT_V5);
}
