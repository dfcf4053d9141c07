//! Errors a person can act on, through the real API: messages use wire names and values only
//! (never Rust `Debug` such as `Some("Retired")` or `Accepted`), name the JSON path once, list
//! the allowed values or next states, and say how to get a token that works.

use std::time::Duration;

use q2c_service::Scope;
use q2c_tests::{QUOTES, TestApp, assert_tmf_error, quote_body, spawn_app};
use serde_json::{Value, json};

/// The Rust names of the quote and order states: never in a message (the wire says
/// `inProgress`, `accepted`, ...).
const RUST_STATE_NAMES: [&str; 9] = [
    "InProgress",
    "Pending",
    "Approved",
    "Accepted",
    "Rejected",
    "Cancelled",
    "Acknowledged",
    "Completed",
    "Held",
];

/// Checks the rules every message follows; returns the message.
fn readable(body: &Value) -> String {
    let message = body["message"].as_str().expect("a message").to_owned();
    for debug in ["Some(", "None", " { ", "\\\""] {
        assert!(
            !message.contains(debug),
            "Rust Debug {debug:?} in {message:?}"
        );
    }
    for name in RUST_STATE_NAMES {
        let as_word = message
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| word == name);
        assert!(!as_word, "the Rust state name {name} in {message:?}");
    }
    if let Some((path, rest)) = message.split_once(": ")
        && (path.contains('[') || path.contains('.'))
    {
        assert!(
            !rest.contains(&format!("{path}:")),
            "the path {path} twice in {message:?}"
        );
    }
    message
}

async fn created(app: &TestApp, token: &str) -> String {
    app.created_quote(token, "mobile-s").await["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

#[tokio::test]
async fn a_retired_offering_is_named_with_its_lifecycle_status_as_sent() {
    let app = spawn_app().await;
    let token = app.admin("acme");
    let response = app.create_quote(&token, &quote_body("mobile-legacy")).await;
    let body = assert_tmf_error(response, 422, "OFFERING_NOT_SELLABLE").await;
    let message = readable(&body);
    assert_eq!(
        message,
        "quoteItem[0].productOffering.id: product offering mobile-legacy is not sellable \
         (lifecycleStatus `Retired`)"
    );
}

#[tokio::test]
async fn a_value_outside_an_enumeration_lists_every_allowed_value() {
    let app = spawn_app().await;
    let token = app.admin("acme");
    let mut body = quote_body("mobile-s");
    body["quoteItem"][0]["state"] = json!("bogus");
    let error = assert_tmf_error(app.create_quote(&token, &body).await, 400, "INVALID_INPUT").await;
    let message = readable(&error);
    assert!(
        message.starts_with("quoteItem[0].state: \"bogus\" is not one of "),
        "{message}"
    );
    assert!(!message.contains("other candidates"), "{message}");
    for state in ["inProgress", "approved", "rejected"] {
        assert!(message.contains(&format!("\"{state}\"")), "{message}");
    }
}

#[tokio::test]
async fn an_illegal_transition_lists_the_next_states_and_a_final_quote_says_what_may_change() {
    let app = spawn_app().await;
    let token = app.admin("acme");
    let id = created(&app, &token).await;
    let response = app
        .patch_quote(&token, &id, &json!({"state": "accepted"}), None)
        .await;
    let error = assert_tmf_error(response, 409, "ILLEGAL_TRANSITION").await;
    let message = readable(&error);
    assert!(
        message.contains("from `inProgress` to `accepted`"),
        "{message}"
    );
    assert!(message.contains("`approved`"), "{message}");
    assert!(message.contains("`cancelled`"), "{message}");

    let approved = app
        .patch_quote(&token, &id, &json!({"state": "approved"}), None)
        .await;
    assert_eq!(approved.status(), 200);
    let response = app
        .patch_quote(&token, &id, &json!({"description": "late"}), None)
        .await;
    let error = assert_tmf_error(response, 409, "NOT_UPDATABLE").await;
    let message = readable(&error);
    assert!(message.contains("state `approved`"), "{message}");
    assert!(message.contains("`accepted`"), "{message}");
}

#[tokio::test]
async fn a_token_signed_with_another_secret_says_so_and_how_to_mint_one() {
    let app = spawn_app().await;
    let foreign = q2c::local::dev_token(
        "not-the-server-secret",
        "acme",
        &Scope::ALL,
        Duration::from_secs(600),
    )
    .expect("token");
    let response = app.get(&format!("{QUOTES}/quote"), &foreign).await;
    let error = assert_tmf_error(response, 401, "UNAUTHORIZED").await;
    let message = readable(&error);
    assert!(message.contains("signed with another secret"), "{message}");
    assert!(message.contains("q2c token --data-dir "), "{message}");
}

#[tokio::test]
async fn field_errors_name_the_path_once() {
    let app = spawn_app().await;
    let token = app.admin("acme");
    for (body, status, code, path) in [
        (
            json!({"quoteItem": [{"productOffering": {"id": "mobile-s"}, "quantity": "two"}]}),
            400,
            "INVALID_INPUT",
            "quoteItem[0].quantity",
        ),
        (
            quote_body("no-such-offering"),
            422,
            "UNKNOWN_OFFERING",
            "quoteItem[0].productOffering.id",
        ),
    ] {
        let error = assert_tmf_error(app.create_quote(&token, &body).await, status, code).await;
        let message = readable(&error);
        assert!(message.starts_with(&format!("{path}: ")), "{message}");
        assert_eq!(message.matches(path).count(), 1, "{message}");
    }
}
