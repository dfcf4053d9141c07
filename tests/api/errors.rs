//! Every error status the API documents, each as a TMF630 body, none changing stored data.

use q2c_service::Scope;
use q2c_tests::{
    QUOTES, TestApp, assert_message_contains, assert_tmf_error, numeric_header, quote_body,
    spawn_app, spawn_as_admin,
};
use serde_json::{Value, json};

async fn quote_count(app: &TestApp, token: &str) -> u64 {
    let response = app.get(&format!("{QUOTES}/quote"), token).await;
    numeric_header(&response, "x-total-count")
}

/// `POST /quote` of `body` as is, with this content type.
async fn post_raw(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.post_body(&format!("{QUOTES}/quote"), token, content_type, body)
        .await
}

#[tokio::test]
async fn malformed_json_is_400() {
    let (app, token) = spawn_as_admin().await;
    let response = post_raw(&app, &token, "application/json", "{\"quoteItem\": [").await;
    assert_tmf_error(response, 400, "MALFORMED_JSON").await;
    assert_eq!(quote_count(&app, &token).await, 0);
}

#[tokio::test]
async fn a_wrongly_typed_field_is_400_naming_its_path() {
    let (app, token) = spawn_as_admin().await;
    let body = json!({"quoteItem": [{"productOffering": {"id": "mobile-s"}, "quantity": "two"}]});
    let error = assert_tmf_error(app.create_quote(&token, &body).await, 400, "INVALID_INPUT").await;
    assert_message_contains(&error, "quoteItem[0].quantity");
}

#[tokio::test]
async fn every_server_owned_field_is_refused_with_400_naming_it() {
    let (app, token) = spawn_as_admin().await;
    // The service's own list, so a field added to it is tested too.
    for field in q2c_service::quotes::SERVER_OWNED_FIELDS {
        let mut body = quote_body("mobile-s");
        body[field] = json!(null);
        let error = assert_tmf_error(
            app.create_quote(&token, &body).await,
            400,
            "FORBIDDEN_FIELD",
        )
        .await;
        assert!(
            error["message"].as_str().expect("message").contains(field),
            "{field}: {error}"
        );
    }
    assert_eq!(quote_count(&app, &token).await, 0);
}

#[tokio::test]
async fn a_missing_or_garbage_token_is_401() {
    let app = spawn_app().await;
    let no_token = app.get_anonymous(&format!("{QUOTES}/quote")).await;
    assert_eq!(no_token.headers()["www-authenticate"], "Bearer");
    assert_tmf_error(no_token, 401, "UNAUTHORIZED").await;
    app.get_error(&format!("{QUOTES}/quote"), "not-a-jwt", 401, "UNAUTHORIZED")
        .await;
}

#[tokio::test]
async fn a_missing_scope_is_403() {
    let app = spawn_app().await;
    let reader = app.token("acme", &[Scope::QuoteRead]);
    let response = app.create_quote(&reader, &quote_body("mobile-s")).await;
    assert_tmf_error(response, 403, "MISSING_SCOPE").await;
    let writer_only = app.token("acme", &[Scope::QuoteWrite]);
    app.get_error(
        &format!("{QUOTES}/quote"),
        &writer_only,
        403,
        "MISSING_SCOPE",
    )
    .await;
    assert_eq!(quote_count(&app, &app.admin("acme")).await, 0);
}

#[tokio::test]
async fn unknown_ids_and_routes_are_404() {
    let (app, token) = spawn_as_admin().await;
    app.get_error(
        &format!("{QUOTES}/quote/no-such-id"),
        &token,
        404,
        "NOT_FOUND",
    )
    .await;
    app.get_error(&format!("{QUOTES}/nowhere"), &token, 404, "ROUTE_NOT_FOUND")
        .await;
}

#[tokio::test]
async fn an_illegal_transition_is_409_and_changes_nothing() {
    let (app, token) = spawn_as_admin().await;
    let id = app.created_id(&token, "mobile-s").await;
    let error = assert_tmf_error(
        app.patch_quote(&token, &id, &json!({"state": "accepted"}), None)
            .await,
        409,
        "ILLEGAL_TRANSITION",
    )
    .await;
    assert_message_contains(&error, "inProgress");
    let quote: Value = app.get_json(&format!("{QUOTES}/quote/{id}"), &token).await;
    assert_eq!(quote["state"], "inProgress");
}

#[tokio::test]
async fn a_stale_if_match_is_412() {
    let (app, token) = spawn_as_admin().await;
    let id = app.created_id(&token, "mobile-s").await;
    assert_eq!(
        app.patch_quote(&token, &id, &json!({"description": "v2"}), Some("\"1\""))
            .await
            .status(),
        200
    );
    assert_tmf_error(
        app.patch_quote(&token, &id, &json!({"description": "v3"}), Some("\"1\""))
            .await,
        412,
        "VERSION_MISMATCH",
    )
    .await;
    let quote: Value = app.get_json(&format!("{QUOTES}/quote/{id}"), &token).await;
    assert_eq!(quote["description"], "v2");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let (app, token) = spawn_as_admin().await;
    let big = format!(
        "{{\"description\": \"{}\", \"quoteItem\": []}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let response = post_raw(&app, &token, "application/json", big).await;
    assert_tmf_error(response, 413, "PAYLOAD_TOO_LARGE").await;
    assert_eq!(quote_count(&app, &token).await, 0);
}

#[tokio::test]
async fn a_wrong_content_type_is_415() {
    let (app, token) = spawn_as_admin().await;
    let body = quote_body("mobile-s").to_string();
    assert_tmf_error(
        post_raw(&app, &token, "text/plain", body).await,
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    let id = app.created_id(&token, "mobile-s").await;
    let patch = app
        .send_body(
            reqwest::Method::PATCH,
            &format!("{QUOTES}/quote/{id}"),
            &token,
            "application/xml",
            "<quote/>",
        )
        .await;
    assert_tmf_error(patch, 415, "UNSUPPORTED_MEDIA_TYPE").await;
}

#[tokio::test]
async fn business_rules_are_422_naming_the_item() {
    let (app, token) = spawn_as_admin().await;
    let unknown = json!({"quoteItem": [{"productOffering": {"id": "mobile-s"}}, {"productOffering": {"id": "no-such"}}]});
    let error = assert_tmf_error(
        app.create_quote(&token, &unknown).await,
        422,
        "UNKNOWN_OFFERING",
    )
    .await;
    assert_message_contains(&error, "quoteItem[1]");
    let retired = app
        .create_quote_error(&token, "mobile-legacy", 422, "OFFERING_NOT_SELLABLE")
        .await;
    assert_message_contains(&retired, "mobile-legacy");
    assert_eq!(quote_count(&app, &token).await, 0);
}

#[tokio::test]
async fn invalid_query_parameters_are_400() {
    let (app, token) = spawn_as_admin().await;
    for query in [
        "limit=-1",
        "limit=abc",
        "offset=x",
        "limit=100000",
        "quoteDate.gte=yesterday",
        "state=unknown",
        "color=blue",
    ] {
        let response = app.get(&format!("{QUOTES}/quote?{query}"), &token).await;
        assert_tmf_error(response, 400, "INVALID_QUERY").await;
    }
}

#[tokio::test]
async fn null_values_in_a_create_body_are_400_naming_the_path() {
    let (app, token) = spawn_as_admin().await;
    let mut body = quote_body("mobile-s");
    body["quoteItem"][0]["note"] = json!([{"id": "n1", "text": null}]);
    let error = assert_tmf_error(app.create_quote(&token, &body).await, 400, "INVALID_INPUT").await;
    assert_message_contains(&error, "quoteItem[0].note[0].text");
    let hub = app
        .subscribe(
            &token,
            &json!({"callback": "http://127.0.0.1:9/listener", "query": null}),
        )
        .await;
    assert_tmf_error(hub, 400, "INVALID_INPUT").await;
    assert_eq!(quote_count(&app, &token).await, 0);
}
