//! Errors a person can act on, through the real API: messages use wire names and values only
//! (never Rust `Debug` such as `Some("Retired")` or `Accepted`), name the JSON path once, list
//! the allowed values, limits or next states, and say how to get a token that works.
//!
//! Every code of `docs/errors.md` (its sections, summary table and rule tables) is produced
//! here and its TMF630 body checked: one case per code or situation, all run by
//! [`every_documented_code_is_answered_with_a_message_a_person_can_act_on`], which compares the
//! codes the cases actually received with the codes the document lists. Over HTTP against a
//! fresh `q2c local`, except the codes of [`NOT_OVER_HTTP`] (checked at the layer that renders
//! them, with the reason).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use q2c_service::Scope;
use q2c_service::TenantId;
use q2c_service::ports::IdempotencyStore;
use q2c_service::quotas::OpenQuoteCounts;
use q2c_tests::{
    ORDERING, QUOTES, QUOTES_V5, TestApp, assert_tmf_error, numeric_header, quote_body, spawn_app,
    spawn_as_admin, spawn_configured,
};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

/// Asserts a TMF630 error of this status and code ([`assert_tmf_error`]) whose message follows
/// the rules ([`readable`]); returns the body and the message.
async fn refused(response: reqwest::Response, status: u16, code: &str) -> (Value, String) {
    let error = assert_tmf_error(response, status, code).await;
    let message = readable(&error);
    (error, message)
}

/// A case: provokes one or more errors through the API, checks them and returns their bodies.
type Case = (&'static str, BoxFuture<'static, Vec<Value>>);

/// Every case; each returns the error bodies it received.
fn cases() -> Vec<Case> {
    vec![
        (
            "retired offering",
            a_retired_offering_is_named_with_its_lifecycle_status_as_sent().boxed(),
        ),
        (
            "enumeration",
            a_value_outside_an_enumeration_lists_every_allowed_value().boxed(),
        ),
        (
            "transition",
            an_illegal_transition_lists_the_next_states_and_a_final_quote_says_what_may_change()
                .boxed(),
        ),
        (
            "foreign token",
            a_token_signed_with_another_secret_says_so_and_how_to_mint_one().boxed(),
        ),
        ("field paths", field_errors_name_the_path_once().boxed()),
        (
            "malformed JSON",
            malformed_json_says_where_the_parser_stopped().boxed(),
        ),
        ("forbidden field", a_server_owned_field_is_named().boxed()),
        (
            "invalid query",
            an_invalid_query_parameter_names_the_allowed_range().boxed(),
        ),
        (
            "invalid header",
            an_invalid_if_match_shows_the_expected_form().boxed(),
        ),
        ("missing scope", a_missing_scope_is_named().boxed()),
        ("not found", an_unknown_quote_is_named().boxed()),
        ("route not found", an_unknown_route_is_named().boxed()),
        (
            "method not allowed",
            a_method_not_allowed_names_the_method_and_points_at_allow().boxed(),
        ),
        (
            "quote expired",
            an_expired_quote_says_when_it_expired().boxed(),
        ),
        (
            "conflict",
            deleting_an_accepted_quote_says_why_not().boxed(),
        ),
        (
            "idempotency in progress",
            a_key_in_progress_says_to_retry_after_it().boxed(),
        ),
        (
            "request timeout",
            a_body_that_does_not_arrive_is_a_408().boxed(),
        ),
        (
            "version mismatch",
            a_stale_if_match_names_both_versions().boxed(),
        ),
        (
            "payload too large",
            an_oversized_body_names_the_limit().boxed(),
        ),
        ("limit exceeded", too_many_items_names_the_limit().boxed()),
        (
            "quote too large",
            too_many_catalog_refs_names_the_budget().boxed(),
        ),
        (
            "amount out of range",
            an_overflowing_amount_names_the_item().boxed(),
        ),
        (
            "unsupported media type",
            an_unsupported_content_type_says_what_to_send().boxed(),
        ),
        (
            "json patch",
            json_patch_errors_say_what_did_not_apply().boxed(),
        ),
        (
            "idempotency key reused",
            a_reused_idempotency_key_says_so().boxed(),
        ),
        (
            "subscription quota",
            the_subscription_quota_names_the_hub_and_the_limit().boxed(),
        ),
        (
            "open quote quota",
            the_open_quote_quota_says_how_to_free_a_place().boxed(),
        ),
        ("rate limited", the_rate_limit_names_the_rate().boxed()),
        (
            "catalog rules",
            catalog_rules_name_the_offering_or_price().boxed(),
        ),
        (
            "characteristics",
            characteristic_codes_name_the_characteristic_and_the_offering().boxed(),
        ),
        ("item rules", requested_item_rules_name_the_item().boxed()),
        (
            "order rules",
            order_rules_name_the_states_and_the_limit().boxed(),
        ),
        (
            "retired price",
            approving_with_a_retired_price_names_the_price().boxed(),
        ),
        (
            "unavailable",
            a_failing_store_is_a_503_that_hides_its_details().boxed(),
        ),
        (
            "write contention",
            losing_every_race_is_a_503_with_retry_after().boxed(),
        ),
    ]
}

/// The codes no healthy local server can be made to answer over HTTP, each checked at the
/// lowest layer that renders it:
/// - `INTERNAL_ERROR` is a panic of a handler (a bug): there is none to provoke. Checked on the
///   response the router's `CatchPanicLayer` gives a panic.
/// - `AMOUNT_PRECISION` answers a quote whose JSON cannot be written; pricing refuses every
///   amount that could not be written first (`AMOUNT_OUT_OF_RANGE`, produced over HTTP). Checked
///   as the API renders the service's error.
const NOT_OVER_HTTP: [&str; 2] = ["INTERNAL_ERROR", "AMOUNT_PRECISION"];

/// The cases of [`NOT_OVER_HTTP`].
fn lower_layer_cases() -> Vec<Case> {
    vec![
        (
            "internal error",
            a_panic_is_a_500_pointing_at_the_logs().boxed(),
        ),
        (
            "amount precision",
            an_unrepresentable_quote_is_a_422().boxed(),
        ),
    ]
}

/// The codes `docs/errors.md` documents with a section of their own (`### CODE`) or a row of
/// its summary table (`[`CODE`](#code)`).
fn documented_codes() -> BTreeSet<String> {
    const DOC: &str = include_str!("../../docs/errors.md");
    let is_code =
        |word: &str| word.len() > 2 && word.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
    let mut codes = BTreeSet::new();
    for line in DOC.lines() {
        if let Some(code) = line.strip_prefix("### ")
            && is_code(code.trim())
        {
            codes.insert(code.trim().to_owned());
        }
        for link in line.split("[`").skip(1) {
            if let Some((code, rest)) = link.split_once("`](#")
                && is_code(code)
                && rest.starts_with(&code.to_ascii_lowercase())
            {
                codes.insert(code.to_owned());
            }
        }
    }
    codes
}

/// The codes of the document's rule tables (characteristic and business-rule codes): a code
/// received here must be documented at least there.
fn tabled_codes() -> BTreeSet<String> {
    const DOC: &str = include_str!("../../docs/errors.md");
    DOC.split("></a>`")
        .skip(1)
        .filter_map(|rest| rest.split_once('`').map(|(code, _)| code.to_owned()))
        .collect()
}

/// Runs `cases` (6 at a time, each with its own app); returns the codes of the bodies they
/// received, or the failures.
async fn run(cases: Vec<Case>) -> Result<BTreeSet<String>, Vec<String>> {
    let results: Vec<_> = futures::stream::iter(cases)
        .map(|(name, case)| async move { (name, tokio::spawn(case).await) })
        .buffer_unordered(6)
        .collect()
        .await;
    let mut observed = BTreeSet::new();
    let mut failures = Vec::new();
    for (name, result) in results {
        match result {
            Ok(bodies) if bodies.is_empty() => failures.push(format!("{name}: no error body")),
            Ok(bodies) => {
                for body in bodies {
                    observed.insert(body["code"].as_str().expect("a code").to_owned());
                }
            }
            Err(error) => {
                let detail = error.try_into_panic().map_or_else(
                    |e| e.to_string(),
                    |panic| {
                        panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                            .unwrap_or_default()
                    },
                );
                failures.push(format!("{name}: {detail}"));
            }
        }
    }
    if failures.is_empty() {
        Ok(observed)
    } else {
        Err(failures)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_documented_code_is_answered_with_a_message_a_person_can_act_on() {
    let documented = documented_codes();
    let tabled = tabled_codes();
    assert!(
        documented.len() >= 33 && tabled.len() >= 16,
        "codes found in docs/errors.md: {documented:?} {tabled:?}"
    );
    let over_http = run(cases())
        .await
        .unwrap_or_else(|failures| panic!("failed cases:\n{}", failures.join("\n")));
    let lower = run(lower_layer_cases())
        .await
        .unwrap_or_else(|failures| panic!("failed cases:\n{}", failures.join("\n")));
    let not_over_http: BTreeSet<String> = NOT_OVER_HTTP.iter().map(|c| (*c).to_owned()).collect();
    assert_eq!(
        lower, not_over_http,
        "the lower-layer cases produce exactly NOT_OVER_HTTP"
    );
    let reached_anyway: Vec<_> = over_http.intersection(&not_over_http).collect();
    assert!(
        reached_anyway.is_empty(),
        "produced over HTTP after all (take them out of NOT_OVER_HTTP): {reached_anyway:?}"
    );
    let observed: BTreeSet<&String> = over_http.iter().chain(&lower).collect();
    let missing: Vec<_> = documented
        .iter()
        .chain(&tabled)
        .filter(|code| !observed.contains(code))
        .collect();
    assert!(
        missing.is_empty(),
        "documented codes no case produced: {missing:?}"
    );
    let undocumented: Vec<_> = observed
        .iter()
        .filter(|code| !documented.contains(**code) && !tabled.contains(**code))
        .collect();
    assert!(
        undocumented.is_empty(),
        "codes not in docs/errors.md: {undocumented:?}"
    );
}

async fn a_retired_offering_is_named_with_its_lifecycle_status_as_sent() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let response = app.create_quote(&token, &quote_body("mobile-legacy")).await;
    let (body, message) = refused(response, 422, "OFFERING_NOT_SELLABLE").await;
    assert_eq!(
        message,
        "quoteItem[0].productOffering.id: product offering mobile-legacy is not sellable \
         (lifecycleStatus `Retired`)"
    );
    vec![body]
}

async fn a_value_outside_an_enumeration_lists_every_allowed_value() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let mut body = quote_body("mobile-s");
    body["quoteItem"][0]["state"] = json!("bogus");
    let (error, message) =
        refused(app.create_quote(&token, &body).await, 400, "INVALID_INPUT").await;
    assert!(
        message.starts_with("quoteItem[0].state: \"bogus\" is not one of "),
        "{message}"
    );
    assert!(!message.contains("other candidates"), "{message}");
    for state in ["inProgress", "approved", "rejected"] {
        assert!(message.contains(&format!("\"{state}\"")), "{message}");
    }
    vec![error]
}

async fn an_illegal_transition_lists_the_next_states_and_a_final_quote_says_what_may_change()
-> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let id = app.created_id(&token, "mobile-s").await;
    let response = app
        .patch_quote(&token, &id, &json!({"state": "accepted"}), None)
        .await;
    let (illegal, message) = refused(response, 409, "ILLEGAL_TRANSITION").await;
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
    let (not_updatable, message) = refused(response, 409, "NOT_UPDATABLE").await;
    assert!(message.contains("state `approved`"), "{message}");
    assert!(message.contains("`accepted`"), "{message}");
    vec![illegal, not_updatable]
}

async fn a_token_signed_with_another_secret_says_so_and_how_to_mint_one() -> Vec<Value> {
    let app = spawn_app().await;
    let foreign = q2c_embedded::local::dev_token(
        "not-the-server-secret",
        "acme",
        &Scope::ALL,
        Duration::from_secs(600),
    )
    .expect("token");
    let response = app.get(&format!("{QUOTES}/quote"), &foreign).await;
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .map(|v| v.as_bytes()),
        Some(&b"Bearer"[..])
    );
    let (error, message) = refused(response, 401, "UNAUTHORIZED").await;
    assert!(message.contains("signed with another secret"), "{message}");
    assert!(message.contains("q2c token --data-dir "), "{message}");
    vec![error]
}

async fn field_errors_name_the_path_once() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let mut bodies = Vec::new();
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
        bodies.push(error);
    }
    bodies
}

async fn malformed_json_says_where_the_parser_stopped() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let response = app
        .post_body(
            &format!("{QUOTES}/quote"),
            &token,
            "application/json",
            r#"{"quoteItem": ["#.to_owned(),
        )
        .await;
    let (error, message) = refused(response, 400, "MALFORMED_JSON").await;
    assert!(message.starts_with("malformed JSON: "), "{message}");
    assert!(message.contains("line 1 column"), "{message}");
    vec![error]
}

async fn a_server_owned_field_is_named() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let mut body = quote_body("mobile-s");
    body["quoteTotalPrice"] = Value::Null;
    let (error, message) = refused(
        app.create_quote(&token, &body).await,
        400,
        "FORBIDDEN_FIELD",
    )
    .await;
    assert_eq!(
        message,
        "field `quoteTotalPrice` is set by the server and may not be sent"
    );
    vec![error]
}

async fn an_invalid_query_parameter_names_the_allowed_range() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let mut bodies = Vec::new();
    let response = app.get(&format!("{QUOTES}/quote?limit=0"), &token).await;
    let (error, message) = refused(response, 400, "INVALID_QUERY").await;
    assert!(message.starts_with("limit: "), "{message}");
    assert!(message.contains("1 to 1000"), "{message}");
    bodies.push(error);
    let response = app.get(&format!("{QUOTES}/quote?colour=red"), &token).await;
    let (error, message) = refused(response, 400, "INVALID_QUERY").await;
    assert!(
        message.contains("colour"),
        "names the unknown parameter: {message}"
    );
    bodies.push(error);
    bodies
}

async fn an_invalid_if_match_shows_the_expected_form() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let id = app.created_id(&token, "mobile-s").await;
    let response = app
        .patch_quote(&token, &id, &json!({"description": "x"}), Some("version-3"))
        .await;
    let (error, message) = refused(response, 400, "INVALID_HEADER").await;
    assert!(message.starts_with("If-Match "), "{message}");
    assert!(message.contains("ETag"), "{message}");
    let too_long = "k".repeat(256);
    let response = app
        .create_quote_with_key(&token, &too_long, &quote_body("mobile-s"))
        .await;
    let (key, message) = refused(response, 400, "INVALID_HEADER").await;
    assert!(message.contains("Idempotency-Key"), "{message}");
    assert!(message.contains("1-255"), "{message}");
    vec![error, key]
}

async fn a_missing_scope_is_named() -> Vec<Value> {
    let app = spawn_app().await;
    let reader = app.token("acme", &[Scope::QuoteRead]);
    let response = app.create_quote(&reader, &quote_body("mobile-s")).await;
    let error = assert_tmf_error(response, 403, "MISSING_SCOPE").await;
    assert_eq!(readable(&error), "missing scope quote.write");
    vec![error]
}

async fn an_unknown_quote_is_named() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let response = app.get(&format!("{QUOTES}/quote/q-nope"), &token).await;
    let (error, message) = refused(response, 404, "NOT_FOUND").await;
    assert!(message.contains("q-nope"), "{message}");
    assert!(message.contains("Quote"), "{message}");
    vec![error]
}

async fn an_unknown_route_is_named() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let response = app.get(&format!("{QUOTES}/quotes"), &token).await;
    let error = assert_tmf_error(response, 404, "ROUTE_NOT_FOUND").await;
    assert_eq!(readable(&error), format!("no route for {QUOTES}/quotes"));
    vec![error]
}

async fn a_method_not_allowed_names_the_method_and_points_at_allow() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let response = app.delete(&format!("{QUOTES}/quote"), &token).await;
    let allow = response.headers()["allow"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(allow.contains("POST"), "Allow: {allow}");
    let error = assert_tmf_error(response, 405, "METHOD_NOT_ALLOWED").await;
    assert_eq!(
        readable(&error),
        "method DELETE is not allowed on this path; its Allow header lists the methods it has"
    );
    vec![error]
}

async fn an_expired_quote_says_when_it_expired() -> Vec<Value> {
    // Quotes valid for 0 days: each has expired by the time it is accepted.
    let app = spawn_configured(|c| {
        std::fs::write(&c.settings_path, "[default]\ndefault_validity_days = 0\n")
            .expect("settings file");
    })
    .await;
    let token = app.admin("acme");
    let quote = app.created_quote(&token, "mobile-s").await;
    let id = quote["id"].as_str().expect("id");
    let until = quote["validFor"]["endDateTime"]
        .as_str()
        .expect("endDateTime");
    let approved = app
        .patch_quote(&token, id, &json!({"state": "approved"}), None)
        .await;
    assert_eq!(approved.status(), 200);
    let response = app
        .patch_quote(&token, id, &json!({"state": "accepted"}), None)
        .await;
    let (error, message) = refused(response, 409, "QUOTE_EXPIRED").await;
    assert!(
        message.contains(until),
        "names validFor.endDateTime {until} as sent: {message}"
    );
    vec![error]
}

async fn deleting_an_accepted_quote_says_why_not() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let id = app.created_id(&token, "mobile-s").await;
    for state in ["approved", "accepted"] {
        let response = app
            .patch_quote(&token, &id, &json!({"state": state}), None)
            .await;
        assert_eq!(response.status(), 200, "to {state}");
    }
    let response = app.delete(&format!("{QUOTES}/quote/{id}"), &token).await;
    let (error, message) = refused(response, 409, "CONFLICT").await;
    assert_eq!(
        message,
        format!("quote {id} is accepted and cannot be deleted")
    );
    vec![error]
}

async fn a_key_in_progress_says_to_retry_after_it() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let path = format!("{QUOTES}/quote");
    let body = quote_body("mobile-s").to_string();
    // Another request with this key holds its claim: taken on the app's store, as a request
    // of another instance (or one still running here) would hold it.
    let now = time::OffsetDateTime::now_utc();
    let claim = app
        .store()
        .claim(
            &TenantId::parse("acme").expect("tenant"),
            "order-42",
            &q2c_api::idempotency::request_hash(&Method::POST, &path, body.as_bytes()),
            now,
            now + time::Duration::hours(1),
        )
        .await
        .expect("claim");
    assert_eq!(claim, q2c_service::ports::IdempotencyClaim::Claimed);
    let response = app
        .request(Method::POST, &path, &token)
        .header("Idempotency-Key", "order-42")
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("POST");
    let (error, message) = refused(response, 409, "IDEMPOTENCY_IN_PROGRESS").await;
    assert!(message.contains("Idempotency-Key"), "{message}");
    assert!(message.contains("still being processed"), "{message}");
    vec![error]
}

/// The JSON body of a raw HTTP/1.1 response (`Content-Length` framed).
fn raw_body(response: &str) -> (u16, Value) {
    let (head, body) = response.split_once("\r\n\r\n").expect("a response head");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    (status, serde_json::from_str(body).expect("a JSON body"))
}

async fn a_body_that_does_not_arrive_is_a_408() -> Vec<Value> {
    let app = spawn_configured(|c| c.server.body_timeout = Duration::from_millis(300)).await;
    let token = app.admin("acme");
    // Straight to the app (not through the recording proxy, which would wait for the body).
    let mut stream = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connect");
    let head = format!(
        "POST {QUOTES}/quote HTTP/1.1\r\nHost: q2c\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"quoteItem\":"
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("the response, then the close");
    let (status, body) = raw_body(&response);
    assert_eq!(status, 408, "{response}");
    assert_eq!(body["code"], "REQUEST_TIMEOUT", "{body}");
    assert_eq!(body["status"], "408", "{body}");
    assert!(
        body["referenceError"]
            .as_str()
            .is_some_and(|r| r.ends_with("docs/errors.md#request_timeout")),
        "{body}"
    );
    let message = readable(&body);
    assert!(message.contains("did not arrive"), "{message}");
    vec![body]
}

async fn a_stale_if_match_names_both_versions() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let id = app.created_id(&token, "mobile-s").await;
    let changed = app
        .patch_quote(&token, &id, &json!({"description": "v2"}), None)
        .await;
    let etag = changed.headers()["etag"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let response = app
        .patch_quote(&token, &id, &json!({"description": "v3"}), Some("\"1\""))
        .await;
    let (error, message) = refused(response, 412, "VERSION_MISMATCH").await;
    assert!(
        message.contains("version 1"),
        "names the version sent: {message}"
    );
    assert!(
        message.contains(&format!("ETag {etag}")),
        "names the current ETag {etag}: {message}"
    );
    vec![error]
}

/// Checks the `limit` member against the message, which says the same.
fn limit_of(body: &Value, name: &str, value: u64) -> Value {
    let limit = body["limit"].clone();
    assert_eq!(limit["name"], name, "{body}");
    assert_eq!(limit["value"], value, "{body}");
    let message = readable(body);
    assert!(message.contains(name), "names {name}: {message}");
    assert!(
        message.contains(&value.to_string()),
        "names {value}: {message}"
    );
    let received = limit["received"].as_u64().expect("received");
    assert!(received > value, "{body}");
    assert!(
        message.contains(&received.to_string()),
        "says what came: {message}"
    );
    limit
}

async fn an_oversized_body_names_the_limit() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let mut body = quote_body("mobile-s");
    body["description"] = json!("d".repeat(270_000));
    let error = assert_tmf_error(
        app.create_quote(&token, &body).await,
        413,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    let limit = limit_of(&error, "maxRequestBytes", 262_144);
    assert_eq!(limit["path"], "$");
    vec![error]
}

async fn too_many_items_names_the_limit() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let item = quote_body("mobile-s")["quoteItem"][0].clone();
    let body = json!({"quoteItem": vec![item; 501]});
    let error =
        assert_tmf_error(app.create_quote(&token, &body).await, 400, "LIMIT_EXCEEDED").await;
    let limit = limit_of(&error, "maxQuoteItems", 500);
    assert_eq!(limit["path"], "quoteItem");
    assert!(readable(&error).starts_with("quoteItem: "), "{error}");
    vec![error]
}

async fn too_many_catalog_refs_names_the_budget() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let items: Vec<Value> = (0..41)
        .map(|i| json!({"action": "add", "quantity": 1, "productOffering": {"id": format!("unknown-{i}")}}))
        .collect();
    let body = json!({"quoteItem": items});
    let error = assert_tmf_error(
        app.create_quote(&token, &body).await,
        422,
        "QUOTE_TOO_LARGE",
    )
    .await;
    let limit = &error["limit"];
    let name = limit["name"].as_str().expect("limit name");
    let value = limit["value"].as_u64().expect("limit value");
    limit_of(&error, name, value);
    vec![error]
}

async fn an_overflowing_amount_names_the_item() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    // Quantities of 1e6 nested `levels` deep: each in range, their product is not.
    let chain = |levels: usize| {
        let mut chain =
            json!({"action": "add", "quantity": 1_000_000, "productOffering": {"id": "mobile-s"}});
        for _ in 1..levels {
            chain = json!({"action": "add", "quantity": 1_000_000,
                           "productOffering": {"id": "mobile-s"}, "quoteItem": [chain]});
        }
        json!({"quoteItem": [chain]})
    };
    let mut bodies = Vec::new();
    // 1e18 units of a 15 EUR price: an amount beyond what a JSON number carries exactly.
    // 1e24 units: the quantity itself overflows.
    for (levels, path, what) in [
        (
            3,
            "quoteItem[0].quoteItem[0].quoteItem[0]",
            "15000000000000000000, 20 significant digits (at most maxSignificantDigits = 15",
        ),
        (
            4,
            "quoteItem[0].quoteItem[0].quoteItem[0].quoteItem[0]",
            "quantity 1000000 × 1000000000000000000",
        ),
    ] {
        let (error, message) = refused(
            app.create_quote(&token, &chain(levels)).await,
            422,
            "AMOUNT_OUT_OF_RANGE",
        )
        .await;
        assert!(
            message.starts_with(&format!("{path}: amount out of range: ")),
            "starts with the item's path: {message}"
        );
        assert!(message.contains(what), "names {what}: {message}");
        bodies.push(error);
    }
    bodies
}

async fn an_unsupported_content_type_says_what_to_send() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let response = app
        .post_body(
            &format!("{QUOTES}/quote"),
            &token,
            "text/plain",
            quote_body("mobile-s").to_string(),
        )
        .await;
    let (error, message) = refused(response, 415, "UNSUPPORTED_MEDIA_TYPE").await;
    assert!(
        message.contains("text/plain"),
        "names what was sent: {message}"
    );
    assert!(
        message.contains("application/json"),
        "says what to send: {message}"
    );
    vec![error]
}

async fn json_patch_errors_say_what_did_not_apply() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let id = app.created_id(&token, "mobile-s").await;
    let path = format!("{QUOTES_V5}/quote/{id}");
    let patch = |ops: Value| {
        app.request(Method::PATCH, &path, &token)
            .header("Content-Type", "application/json-patch+json")
            .body(ops.to_string())
            .send()
    };
    let mut bodies = Vec::new();

    for (ops, expected) in [
        (
            json!([{"op": "frobnicate", "path": "/note"}]),
            "invalid JSON patch: [0].op: `frobnicate` is not one of `add`, `remove`, `replace`, \
             `move`, `copy`, `test`",
        ),
        (
            json!([{"op": "test", "path": "/state", "value": "inProgress"},
                   {"op": "move", "path": "/description"}]),
            "invalid JSON patch: [1]: operation `move` needs `from`",
        ),
    ] {
        let response = patch(ops).await.expect("PATCH");
        let error = assert_tmf_error(response, 400, "INVALID_PATCH").await;
        assert_eq!(readable(&error), expected);
        bodies.push(error);
    }

    let response = patch(json!([{"op": "test", "path": "/state", "value": "approved"}]))
        .await
        .expect("PATCH");
    let (error, message) = refused(response, 409, "PATCH_TEST_FAILED").await;
    assert!(
        message.contains("/state"),
        "names the path tested: {message}"
    );
    bodies.push(error);

    let response = patch(json!([{"op": "remove", "path": "/nothing/here"}]))
        .await
        .expect("PATCH");
    let (error, message) = refused(response, 409, "PATCH_CONFLICT").await;
    assert!(
        message.contains("/nothing/here"),
        "names the path: {message}"
    );
    bodies.push(error);

    let response =
        patch(json!([{"op": "replace", "path": "/quoteItem/0/action", "value": "change"}]))
            .await
            .expect("PATCH");
    let (error, message) = refused(response, 422, "PATCH_RESULT_INVALID").await;
    assert!(
        message.starts_with("the patched quote is not valid: "),
        "{message}"
    );
    assert!(message.contains("action"), "names the field: {message}");
    bodies.push(error);
    bodies
}

async fn a_reused_idempotency_key_says_so() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let post = |offering: &str| {
        app.request(Method::POST, &format!("{QUOTES}/quote"), &token)
            .header("Idempotency-Key", "order-7")
            .json(&quote_body(offering))
            .send()
    };
    assert_eq!(post("mobile-s").await.expect("POST").status(), 201);
    let response = post("mobile-l").await.expect("POST");
    let (error, message) = refused(response, 422, "IDEMPOTENCY_KEY_REUSED").await;
    assert!(message.contains("Idempotency-Key"), "{message}");
    assert!(message.contains("different request"), "{message}");
    vec![error]
}

async fn the_subscription_quota_names_the_hub_and_the_limit() -> Vec<Value> {
    let app = spawn_configured(|c| c.quotas.max_subscriptions_per_api = 1).await;
    let token = app.admin("acme");
    let subscribe = |i: usize| {
        app.request(Method::POST, &format!("{QUOTES}/hub"), &token)
            .json(&json!({"callback": format!("http://127.0.0.1:9/listener-{i}")}))
            .send()
    };
    assert_eq!(subscribe(0).await.expect("POST").status(), 201);
    let (error, message) = refused(
        subscribe(1).await.expect("POST"),
        422,
        "SUBSCRIPTION_QUOTA_EXCEEDED",
    )
    .await;
    assert!(
        message.contains("tenant acme already has 1 subscriptions on the quote hub"),
        "{message}"
    );
    assert!(message.contains("delete one first"), "{message}");
    vec![error]
}

async fn the_open_quote_quota_says_how_to_free_a_place() -> Vec<Value> {
    let app = spawn_configured(|c| c.quotas.max_open_quotes = 1).await;
    let token = app.admin("acme");
    app.created_id(&token, "mobile-s").await;
    // The quota is soft: it counts the quotes the relay has published.
    let store = app.store();
    let tenant = TenantId::parse("acme").expect("tenant");
    let deadline = Instant::now() + Duration::from_secs(20);
    while store.open_quotes(&tenant).await.expect("count") < 1 {
        assert!(Instant::now() < deadline, "the relay counts the open quote");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let response = app.create_quote(&token, &quote_body("mobile-s")).await;
    let (error, message) = refused(response, 422, "OPEN_QUOTE_QUOTA_EXCEEDED").await;
    assert!(
        message.contains("tenant acme has 1 open quotes"),
        "{message}"
    );
    assert!(
        message.contains("accept, reject, cancel or delete"),
        "{message}"
    );
    vec![error]
}

async fn the_rate_limit_names_the_rate() -> Vec<Value> {
    let app = spawn_configured(|c| {
        c.quotas.requests_per_second = 1;
        c.quotas.burst = 1;
    })
    .await;
    let token = app.admin("acme");
    // One request a second: of 20 sent one after the other, some are refused.
    for _ in 0..20 {
        let response = app.get(&format!("{QUOTES}/quote"), &token).await;
        if response.status() == 429 {
            let retry_after = numeric_header(&response, "retry-after");
            assert!(retry_after >= 1, "Retry-After {retry_after}");
            let (error, message) = refused(response, 429, "RATE_LIMITED").await;
            assert!(
                message.contains("tenant acme exceeded 1 requests per second"),
                "{message}"
            );
            assert!(message.contains("retry in"), "{message}");
            return vec![error];
        }
        assert_eq!(response.status(), 200);
    }
    panic!("20 requests in a row at one a second were all admitted");
}

/// Not reachable over HTTP: a 500 is a panic of a handler, and a healthy server has none to
/// provoke. Checked on the response the router's `CatchPanicLayer` answers a panic with.
async fn a_panic_is_a_500_pointing_at_the_logs() -> Vec<Value> {
    let response =
        q2c_api::routes::panic_response(Box::new("index out of bounds: the secret is 42"));
    assert_eq!(response.status(), 500);
    assert_eq!(
        response.headers()["content-type"],
        q2c_api::error::JSON_UTF8
    );
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let body: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(body["code"], "INTERNAL_ERROR", "{body}");
    assert_eq!(body["status"], "500", "{body}");
    assert!(
        body["referenceError"]
            .as_str()
            .is_some_and(|r| r.ends_with("docs/errors.md#internal_error")),
        "{body}"
    );
    let message = readable(&body);
    assert!(
        !message.contains("secret"),
        "the panic stays in the logs: {message}"
    );
    assert!(
        message.contains("X-Correlation-Id"),
        "says where the details are: {message}"
    );
    vec![body]
}

/// A second connection to the app's database, to make its store fail.
fn database(app: &TestApp) -> rusqlite::Connection {
    let connection =
        rusqlite::Connection::open(app.data_dir.path().join(q2c_embedded::local::DATABASE_FILE))
            .expect("the app's database");
    connection
        .busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    connection
}

async fn a_failing_store_is_a_503_that_hides_its_details() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    database(&app)
        .execute_batch(
            "CREATE TRIGGER store_fails BEFORE INSERT ON quotes
             BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;",
        )
        .expect("trigger");
    let response = app.create_quote(&token, &quote_body("mobile-s")).await;
    assert!(response.headers().contains_key("x-correlation-id"));
    let (error, message) = refused(response, 503, "UNAVAILABLE").await;
    assert!(
        !message.contains("disk on fire"),
        "store details stay in the logs: {message}"
    );
    assert!(message.contains("retry"), "{message}");
    vec![error]
}

async fn losing_every_race_is_a_503_with_retry_after() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let id = app.created_id(&token, "mobile-s").await;
    // Every write of this quote finds it changed (its update is skipped): each attempt loses
    // the version race as it would to a concurrent writer.
    database(&app)
        .execute_batch(&format!(
            "CREATE TRIGGER always_changed BEFORE UPDATE ON quotes WHEN OLD.id = '{id}'
             BEGIN SELECT RAISE(IGNORE); END;"
        ))
        .expect("trigger");
    let response = app
        .patch_quote(&token, &id, &json!({"description": "mine"}), None)
        .await;
    assert_eq!(
        response.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    let (error, message) = refused(response, 503, "WRITE_CONTENTION").await;
    assert!(message.contains(&id), "names the quote: {message}");
    assert!(message.contains("64 attempts"), "{message}");
    assert!(message.contains("If-Match"), "says what to do: {message}");
    vec![error]
}

/// Imports `entries` (TMF620 offerings and prices, `@type` each) into the app's catalog with
/// `q2c catalog sync`; returns how many were refused as invalid.
async fn import(app: &TestApp, entries: &[Value]) -> u64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("catalog.json");
    std::fs::write(&file, serde_json::to_string(entries).expect("JSON")).expect("catalog file");
    let data_dir = app.data_dir.path().to_owned();
    // The import's future is not `Send` (a higher-ranked closure inside), so it runs on a
    // blocking thread of its own, not in the spawned case.
    let runtime = tokio::runtime::Handle::current();
    let report = tokio::task::spawn_blocking(move || {
        runtime.block_on(q2c_embedded::catalog::sync(
            &file,
            &data_dir,
            q2c_embedded::catalog::SyncMode::Import,
        ))
    })
    .await
    .expect("the import thread")
    .expect("the import runs");
    report.summary.invalid
}

/// An offering of the test catalog, sellable, with `extra` members.
fn offering(id: &str, extra: &Value) -> Value {
    let mut offering = json!({"id": id, "@type": "ProductOffering",
        "lastUpdate": "2026-01-01T00:00:00Z", "isSellable": true, "lifecycleStatus": "Launched"});
    for (name, value) in extra.as_object().expect("members") {
        offering[name] = value.clone();
    }
    offering
}

/// A monthly recurring price of `value` `unit`, with `extra` members.
fn monthly(id: &str, unit: &str, value: f64, extra: &Value) -> Value {
    let mut price = json!({"id": id, "@type": "ProductOfferingPrice",
        "lastUpdate": "2026-01-01T00:00:00Z", "priceType": "recurring",
        "recurringChargePeriodType": "month", "price": {"unit": unit, "value": value}});
    for (name, value) in extra.as_object().expect("members") {
        price[name] = value.clone();
    }
    price
}

/// A create body with these items.
fn quote_of(items: Vec<Value>) -> Value {
    let mut body = quote_body("mobile-s");
    body["quoteItem"] = Value::Array(items);
    body
}

fn item(offering: &str) -> Value {
    quote_body(offering)["quoteItem"][0].clone()
}

async fn catalog_rules_name_the_offering_or_price() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let refused = import(
        &app,
        &[
            monthly("usd-addon-monthly", "USD", 5.0, &json!({})),
            offering(
                "usd-addon",
                &json!({"productOfferingPrice": [{"id": "usd-addon-monthly"}]}),
            ),
            offering(
                "past-offer",
                &json!({"productOfferingPrice": [{"id": "mobile-s-monthly"}],
                        "validFor": {"startDateTime": "2020-01-01T00:00:00Z",
                                     "endDateTime": "2021-01-01T00:00:00Z"}}),
            ),
            offering(
                "ghost-price-offer",
                &json!({"productOfferingPrice": [{"id": "no-such-price"}]}),
            ),
            offering(
                "loop-bundle",
                &json!({"isBundle": true, "bundledProductOffering": [{"id": "loop-bundle"}]}),
            ),
        ],
    )
    .await;
    assert_eq!(refused, 0, "every entry is imported");
    let mut bodies = Vec::new();
    for (items, code, path, names) in [
        (
            vec![item("mobile-s"), item("usd-addon")],
            "CURRENCY_MISMATCH",
            "quoteItem[1]",
            &["USD", "EUR"][..],
        ),
        (
            vec![item("past-offer")],
            "OFFERING_NOT_VALID",
            "quoteItem[0].productOffering.id",
            &["past-offer"][..],
        ),
        (
            vec![item("ghost-price-offer")],
            "UNKNOWN_PRICE",
            "quoteItem[0]",
            &["no-such-price"][..],
        ),
        (
            vec![item("loop-bundle")],
            "BUNDLE_CYCLE",
            "quoteItem[0]",
            &["loop-bundle"][..],
        ),
    ] {
        let response = app.create_quote(&token, &quote_of(items)).await;
        let error = assert_tmf_error(response, 422, code).await;
        let message = readable(&error);
        assert!(
            message.starts_with(path),
            "{code} starts with {path}: {message}"
        );
        for name in names {
            assert!(message.contains(name), "{code} names {name}: {message}");
        }
        bodies.push(error);
    }
    bodies
}

async fn characteristic_codes_name_the_characteristic_and_the_offering() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let refused = import(
        &app,
        &[offering(
            "slice-5g",
            &json!({"productOfferingPrice": [{"id": "mobile-s-monthly"}],
                "prodSpecCharValueUse": [{"name": "sliceType", "minCardinality": 1,
                    "maxCardinality": 1, "productSpecCharacteristicValue": [
                        {"value": "eMBB"}, {"value": "URLLC"}]}]}),
        )],
    )
    .await;
    assert_eq!(refused, 0, "the offering is imported");
    let slice = |characteristics: Value| {
        let mut item = item("slice-5g");
        item["product"] = json!({"productCharacteristic": characteristics});
        quote_of(vec![item])
    };
    let at = "quoteItem[0].product.productCharacteristic";
    let mut bodies = Vec::new();
    for (body, code, path, names) in [
        (
            slice(json!([{"name": "sliceType", "value": "mMTC"}])),
            "CHARACTERISTIC_VALUE_NOT_ALLOWED",
            format!("{at}[0].value"),
            &["mMTC", "sliceType", "slice-5g"][..],
        ),
        (
            slice(
                json!([{"name": "sliceType", "value": "eMBB"}, {"name": "colour", "value": "red"}]),
            ),
            "UNKNOWN_CHARACTERISTIC",
            format!("{at}[1].name"),
            &["colour", "slice-5g"][..],
        ),
        (
            slice(json!([])),
            "MISSING_CHARACTERISTIC",
            at.to_owned(),
            &["sliceType", "slice-5g", "1"][..],
        ),
        (
            slice(json!([{"name": "sliceType", "value": ["eMBB", "URLLC"]}])),
            "TOO_MANY_CHARACTERISTIC_VALUES",
            at.to_owned(),
            &["sliceType", "slice-5g", "2", "1"][..],
        ),
    ] {
        let error = assert_tmf_error(app.create_quote(&token, &body).await, 400, code).await;
        let message = readable(&error);
        assert!(
            message.starts_with(&format!("{path}: ")),
            "{code} starts with {path}: {message}"
        );
        for name in names {
            assert!(message.contains(name), "{code} names {name}: {message}");
        }
        bodies.push(error);
    }
    bodies
}

async fn requested_item_rules_name_the_item() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let mut bodies = Vec::new();
    let mut twins = vec![item("mobile-s"), item("mobile-l")];
    for twin in &mut twins {
        twin["id"] = json!("line-1");
    }
    let (error, message) = refused(
        app.create_quote(&token, &quote_of(twins)).await,
        422,
        "DUPLICATE_ITEM_ID",
    )
    .await;
    assert!(message.contains("line-1"), "names the id: {message}");
    bodies.push(error);

    let mut discounted = item("mobile-s");
    discounted["quoteItemPrice"] = json!([{"priceType": "recurring", "recurringChargePeriod": "month",
        "priceAlteration": [{"priceType": "discount", "name": "Loyalty", "price": {"dutyFreeAmount": {"unit": "EUR", "value": 50}}}]}]);
    let (error, message) = refused(
        app.create_quote(&token, &quote_of(vec![discounted])).await,
        422,
        "INVALID_DISCOUNT",
    )
    .await;
    assert_eq!(
        message,
        "quoteItem[0].quoteItemPrice[0].priceAlteration[0]: invalid discount: 50 EUR is more \
         than the price of 15 EUR"
    );
    bodies.push(error);
    bodies
}

/// Accepts a new quote of `items`; returns the id of its order.
async fn ordered(app: &TestApp, token: &str, items: Vec<Value>) -> String {
    let response = app.create_quote(token, &quote_of(items)).await;
    assert_eq!(response.status(), 201);
    let quote: Value = response.json().await.expect("quote");
    let id = quote["id"].as_str().expect("id");
    let order = app.accept_quote(token, id).await;
    order["id"].as_str().expect("the order's id").to_owned()
}

async fn notify_order(
    app: &TestApp,
    token: &str,
    order_id: &str,
    state: &str,
) -> reqwest::Response {
    app.post_json(
        &format!("{ORDERING}/listener/productOrderStateChangeEvent"),
        token,
        &json!({
            "eventId": format!("om-{order_id}-{state}"),
            "eventTime": "2026-11-27T12:00:00Z",
            "eventType": "ProductOrderStateChangeEvent",
            "event": {"productOrder": {"id": "om-1", "externalId": order_id, "state": state}}
        }),
    )
    .await
}

async fn order_rules_name_the_states_and_the_limit() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let order = ordered(&app, &token, vec![item("mobile-s")]).await;
    let (error, message) = refused(
        notify_order(&app, &token, &order, "completed").await,
        422,
        "ILLEGAL_ORDER_STATE_TRANSITION",
    )
    .await;
    assert!(
        message.contains("completed"),
        "names the state reported: {message}"
    );
    assert!(
        message.contains("acknowledged"),
        "names what is allowed: {message}"
    );

    let large = ordered(&app, &token, vec![item("mobile-s"); 49]).await;
    for state in ["acknowledged", "inProgress"] {
        let response = notify_order(&app, &token, &large, state).await;
        assert_eq!(response.status(), 201, "reporting {state}");
    }
    let (too_large, message) = refused(
        notify_order(&app, &token, &large, "completed").await,
        422,
        "ORDER_TOO_LARGE_TO_COMPLETE",
    )
    .await;
    assert!(message.contains(&large), "names the order: {message}");
    assert!(
        message.contains("maxProductsPerOrder"),
        "names the limit: {message}"
    );
    assert!(message.contains("48"), "{message}");
    vec![error, too_large]
}

async fn approving_with_a_retired_price_names_the_price() -> Vec<Value> {
    let (app, token) = spawn_as_admin().await;
    let price = |status: &str, at: &str| {
        monthly(
            "fading-monthly",
            "EUR",
            9.0,
            &json!({"lifecycleStatus": status, "lastUpdate": at}),
        )
    };
    let fading = offering(
        "fading",
        &json!({"productOfferingPrice": [{"id": "fading-monthly"}]}),
    );
    assert_eq!(
        import(&app, &[price("Launched", "2026-01-01T00:00:00Z"), fading]).await,
        0
    );
    let id = app.created_id(&token, "fading").await;
    assert_eq!(
        import(&app, &[price("Retired", "2026-02-01T00:00:00Z")]).await,
        0
    );
    let response = app
        .patch_quote(&token, &id, &json!({"state": "approved"}), None)
        .await;
    let (error, message) = refused(response, 422, "PRICE_RETIRED").await;
    assert!(message.starts_with("quoteItem: "), "{message}");
    assert!(
        message.contains("fading-monthly"),
        "names the price: {message}"
    );
    vec![error]
}

/// Not reachable over HTTP: `AMOUNT_PRECISION` answers a quote whose JSON cannot be written,
/// which pricing prevents by answering `AMOUNT_OUT_OF_RANGE` for every amount it computes
/// (the case above). Checked as the API renders the service's error.
async fn an_unrepresentable_quote_is_a_422() -> Vec<Value> {
    let error = q2c_api::ApiError::Service(q2c_service::ServiceError::BusinessRule {
        code: "AMOUNT_PRECISION",
        message: "the quote cannot be represented: number out of range".to_owned(),
        path: None,
    });
    let response = axum::response::IntoResponse::into_response(error);
    assert_eq!(response.status(), 422);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let body: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(body["code"], "AMOUNT_PRECISION", "{body}");
    assert_eq!(body["status"], "422", "{body}");
    readable(&body);
    vec![body]
}
