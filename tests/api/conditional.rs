//! Conditional writes done right: a PATCH without `If-Match` is re-read and re-applied when it
//! loses a race (48 concurrent ones all land), one `If-Match` shared by 48 lets exactly one
//! through, and `If-Match` compares strongly (a weak or foreign tag is 412, RFC 9110).

use q2c_tests::{
    QUOTES, QUOTES_V5, TestApp, assert_message_contains, assert_tmf_error, spawn_as_admin,
};
use reqwest::Method;
use serde_json::{Value, json};

const CONCURRENT: usize = 48;

async fn new_quote(app: &TestApp, token: &str) -> String {
    app.created_id(token, "mobile-s").await
}

async fn read(app: &TestApp, token: &str, base: &str, id: &str) -> (Value, String) {
    let response = app.get(&format!("{base}/quote/{id}"), token).await;
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"]
        .to_str()
        .expect("ascii")
        .to_owned();
    (response.json().await.expect("json"), etag)
}

/// [`CONCURRENT`] merge patches of quote `id` at once, patch `i` adding `x-field-<i>`, all
/// with this `If-Match`.
async fn concurrent_merge_patches(
    app: &TestApp,
    token: &str,
    id: &str,
    if_match: Option<&str>,
) -> Vec<reqwest::Response> {
    let patches = (0..CONCURRENT).map(|i| {
        let patch = json!({format!("x-field-{i}"): i});
        async move { app.patch_quote(token, id, &patch, if_match).await }
    });
    futures::future::join_all(patches).await
}

/// `DELETE` of quote `id` with this `If-Match`.
async fn delete_if_match(app: &TestApp, token: &str, id: &str, etag: &str) -> reqwest::Response {
    app.request(Method::DELETE, &format!("{QUOTES}/quote/{id}"), token)
        .header("If-Match", etag)
        .send()
        .await
        .expect("DELETE")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_unconditional_merge_patches_of_one_quote_all_land() {
    let (app, token) = spawn_as_admin().await;
    let id = new_quote(&app, &token).await;
    let statuses: Vec<_> = concurrent_merge_patches(&app, &token, &id, None)
        .await
        .iter()
        .map(reqwest::Response::status)
        .collect();
    assert!(
        statuses.iter().all(|s| *s == 200),
        "every unconditional PATCH lands: {statuses:?}"
    );
    let (quote, etag) = read(&app, &token, QUOTES, &id).await;
    for i in 0..CONCURRENT {
        assert_eq!(quote[format!("x-field-{i}")], json!(i), "change {i} kept");
    }
    assert_eq!(
        etag,
        format!("\"{}\"", CONCURRENT + 1),
        "one version per change"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_unconditional_json_patches_of_one_quote_all_land() {
    let (app, token) = spawn_as_admin().await;
    let id = new_quote(&app, &token).await;
    let patches = (0..CONCURRENT).map(|i| {
        let ops = json!([{"op": "add", "path": format!("/x-field-{i}"), "value": i}]);
        let (app, token, id) = (&app, &token, &id);
        async move {
            app.request(Method::PATCH, &format!("{QUOTES_V5}/quote/{id}"), token)
                .header("Content-Type", "application/json-patch+json")
                .body(ops.to_string())
                .send()
                .await
                .expect("PATCH")
                .status()
        }
    });
    let statuses = futures::future::join_all(patches).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let (quote, _) = read(&app, &token, QUOTES_V5, &id).await;
    for i in 0..CONCURRENT {
        assert_eq!(quote[format!("x-field-{i}")], json!(i), "change {i} kept");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_if_match_shared_by_concurrent_patches_lets_exactly_one_through() {
    let (app, token) = spawn_as_admin().await;
    let id = new_quote(&app, &token).await;
    let responses = concurrent_merge_patches(&app, &token, &id, Some("\"1\"")).await;
    let mut refused = Vec::new();
    let mut winners = 0;
    for response in responses {
        match response.status().as_u16() {
            200 => winners += 1,
            412 => refused.push(response),
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(winners, 1, "exactly one PATCH holds the current version");
    assert_eq!(refused.len(), CONCURRENT - 1);
    for response in refused {
        let body = assert_tmf_error(response, 412, "VERSION_MISMATCH").await;
        assert_eq!(
            body["message"],
            "quote was modified: If-Match names version 1, the current version is 2 (ETag \"2\")",
            "the real versions are named"
        );
    }
    let (quote, etag) = read(&app, &token, QUOTES, &id).await;
    assert_eq!(etag, "\"2\"");
    let kept = (0..CONCURRENT)
        .filter(|i| quote.get(format!("x-field-{i}")).is_some())
        .count();
    assert_eq!(kept, 1, "only the winner's change");
}

#[tokio::test]
async fn if_match_compares_strongly_and_malformed_values_are_400() {
    let (app, token) = spawn_as_admin().await;
    let id = new_quote(&app, &token).await;
    let patch = json!({"description": "changed"});
    for tag in ["W/\"1\"", "\"stale-0\"", "\"\"", "\"0\", W/\"1\""] {
        let body = assert_tmf_error(
            app.patch_quote(&token, &id, &patch, Some(tag)).await,
            412,
            "VERSION_MISMATCH",
        )
        .await;
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("the current ETag \"1\"")),
            "{tag}: {body}"
        );
    }
    let weak = app.patch_quote(&token, &id, &patch, Some("W/\"1\"")).await;
    let body = assert_tmf_error(weak, 412, "VERSION_MISMATCH").await;
    assert_message_contains(&body, "a weak W/ tag never matches");
    for malformed in ["\"1", "version-1", "W/1", "*, \"1\""] {
        assert_tmf_error(
            app.patch_quote(&token, &id, &patch, Some(malformed)).await,
            400,
            "INVALID_HEADER",
        )
        .await;
    }
    let (_, etag) = read(&app, &token, QUOTES, &id).await;
    assert_eq!(etag, "\"1\"", "no refused PATCH changed the quote");
    // A list holding the current tag matches; so does a delete with it.
    let listed = app
        .patch_quote(&token, &id, &patch, Some("\"7\", \"1\""))
        .await;
    assert_eq!(listed.status(), 200);
    let stale_delete = delete_if_match(&app, &token, &id, "\"stale-0\"").await;
    assert_tmf_error(stale_delete, 412, "VERSION_MISMATCH").await;
    let delete = delete_if_match(&app, &token, &id, "\"2\"").await;
    assert_eq!(delete.status(), 204);
}
