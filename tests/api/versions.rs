//! TMF648 v4 and v5 side by side: the same lifecycle suite against both versions, quotes
//! crossing versions, JSON Patch (RFC 6902) on v5, and the v5 specifics (required `@type` and
//! `instantSyncQuote`, `ExternalIdentifier[]`, `ItemActionType`, `declined`, `Hub`).

use q2c_tests::{
    QUOTES, QUOTES_V5, TestApp, assert_message_contains, assert_message_starts_with,
    assert_tmf_error, quote_body, spawn_app, spawn_as_admin,
};
use reqwest::Method;
use serde_json::{Value, json};

/// A served version as a client sees it.
#[derive(Clone, Copy)]
struct Version {
    base: &'static str,
    v5: bool,
}

const V4: Version = Version {
    base: QUOTES,
    v5: false,
};
const V5: Version = Version {
    base: QUOTES_V5,
    v5: true,
};

impl Version {
    /// A create body of this version with one item of `offering`.
    fn create_body(self, offering: &str) -> Value {
        let mut body = quote_body(offering);
        if self.v5 {
            body["@type"] = json!("Quote");
            body["instantSyncQuote"] = json!(false);
            body["externalId"] = json!([{"id": "crm-9", "owner": "CRM"}]);
        } else {
            body["externalId"] = json!("crm-9");
        }
        body
    }

    fn quote(self, id: &str) -> String {
        format!("{}/quote/{id}", self.base)
    }
}

async fn create(app: &TestApp, token: &str, version: Version, body: &Value) -> reqwest::Response {
    app.post_json(&format!("{}/quote", version.base), token, body)
        .await
}

async fn patch(
    app: &TestApp,
    token: &str,
    path: &str,
    content_type: &str,
    body: &Value,
    if_match: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .request(Method::PATCH, path, token)
        .header("Content-Type", content_type)
        .body(body.to_string());
    if let Some(etag) = if_match {
        request = request.header("If-Match", etag);
    }
    request.send().await.expect("PATCH")
}

async fn merge_if_match(
    app: &TestApp,
    token: &str,
    path: &str,
    body: &Value,
    etag: &str,
) -> reqwest::Response {
    patch(
        app,
        token,
        path,
        "application/merge-patch+json",
        body,
        Some(etag),
    )
    .await
}

async fn merge(app: &TestApp, token: &str, path: &str, body: &Value) -> reqwest::Response {
    patch(app, token, path, "application/merge-patch+json", body, None).await
}

async fn json_patch(app: &TestApp, token: &str, path: &str, ops: &Value) -> reqwest::Response {
    patch(app, token, path, "application/json-patch+json", ops, None).await
}

async fn body(response: reqwest::Response, status: u16) -> Value {
    let url = response.url().clone();
    let got = response.status().as_u16();
    let text = response.text().await.expect("body");
    assert_eq!(got, status, "{url}: {text}");
    serde_json::from_str(&text).expect("JSON body")
}

/// Creates a quote of `offering` through `version`, which must answer 201; returns it.
async fn created_quote(app: &TestApp, token: &str, version: Version, offering: &str) -> Value {
    body(
        create(app, token, version, &version.create_body(offering)).await,
        201,
    )
    .await
}

/// Merge-patches `path`, which must answer 200; returns the patched quote.
async fn merged(app: &TestApp, token: &str, path: &str, patch: &Value) -> Value {
    body(merge(app, token, path, patch).await, 200).await
}

/// Reads `path`, which must answer 200.
async fn read_ok(app: &TestApp, token: &str, path: &str) -> Value {
    body(app.get(path, token).await, 200).await
}

/// Asserts that creating `body` through `version` is a TMF630 error of this status and code;
/// returns the error.
async fn create_refused(
    app: &TestApp,
    token: &str,
    version: Version,
    body: &Value,
    status: u16,
    code: &str,
) -> Value {
    assert_tmf_error(create(app, token, version, body).await, status, code).await
}

/// Asserts that the JSON Patch `ops` of `path` is a TMF630 error of this status and code;
/// returns the error.
async fn json_patch_refused(
    app: &TestApp,
    token: &str,
    path: &str,
    ops: &Value,
    status: u16,
    code: &str,
) -> Value {
    assert_tmf_error(json_patch(app, token, path, ops).await, status, code).await
}

/// Asserts that the merge patch `patch` of `path` is a TMF630 error of this status and code;
/// returns the error.
async fn merge_refused(
    app: &TestApp,
    token: &str,
    path: &str,
    patch: &Value,
    status: u16,
    code: &str,
) -> Value {
    assert_tmf_error(merge(app, token, path, patch).await, status, code).await
}

/// A fresh app, an admin token, and a quote of `mobile-s` created through v5 with its v5
/// path: what the v5 patch tests begin with.
async fn with_a_v5_quote() -> (TestApp, String, Value, String) {
    let (app, token) = spawn_as_admin().await;
    let created = created_quote(&app, &token, V5, "mobile-s").await;
    let path = V5.quote(id_of(&created));
    (app, token, created, path)
}

/// The `id` of a resource.
fn id_of(resource: &Value) -> &str {
    resource["id"].as_str().expect("id")
}

/// The lifecycle suite, run against each version.
async fn lifecycle(version: Version) {
    let (app, token) = spawn_as_admin().await;
    let response = create(&app, &token, version, &version.create_body("fibre-1g")).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let created = body(response, 201).await;
    let id = id_of(&created).to_owned();
    let path = version.quote(&id);
    assert_eq!(location, format!("{}{path}", app.base));
    assert_eq!(created["href"], json!(location));
    assert_eq!(created["state"], "inProgress");
    assert_eq!(created["@type"], "Quote");
    if version.v5 {
        assert!(created["creationDate"].is_string(), "{created}");
        assert!(created.get("quoteDate").is_none(), "{created}");
        assert_eq!(
            created["externalId"],
            json!([{"id": "crm-9", "owner": "CRM"}])
        );
    } else {
        assert!(created["quoteDate"].is_string(), "{created}");
        assert_eq!(created["externalId"], "crm-9");
    }

    let read = app.get(&path, &token).await;
    assert_eq!(read.headers()["etag"], "\"1\"");
    assert_eq!(body(read, 200).await, created);

    let listed = read_ok(
        &app,
        &token,
        &format!("{}/quote?externalId=crm-9&fields=state", version.base),
    )
    .await;
    assert_eq!(
        listed,
        json!([{"id": id, "href": location, "@type": "Quote", "state": "inProgress"}])
    );

    let patched = merge_if_match(
        &app,
        &token,
        &path,
        &json!({"description": "Home fibre"}),
        "\"1\"",
    )
    .await;
    assert_eq!(patched.headers()["etag"], "\"2\"");
    assert_eq!(body(patched, 200).await["description"], "Home fibre");
    let stale = merge_if_match(&app, &token, &path, &json!({"description": "x"}), "\"1\"").await;
    assert_tmf_error(stale, 412, "VERSION_MISMATCH").await;

    let approved = merged(&app, &token, &path, &json!({"state": "approved"})).await;
    assert_eq!(approved["state"], "approved");
    assert_eq!(approved["authorization"][0]["approver"][0]["id"], "dev");
    let accepted = merged(&app, &token, &path, &json!({"state": "accepted"})).await;
    assert_eq!(accepted["state"], "accepted");
    let delete = app.delete(&path, &token).await;
    assert_tmf_error(delete, 409, "CONFLICT").await;

    let other = created_quote(&app, &token, version, "mobile-s").await;
    let other = version.quote(id_of(&other));
    let delete = app.delete(&other, &token).await;
    assert_eq!(delete.status(), 204);
    app.get_error(&other, &token, 404, "NOT_FOUND").await;

    let subscription =
        json!({"callback": "local:subscriber-acme", "query": "eventType=QuoteStateChangeEvent"});
    let hub = app
        .post_json(&format!("{}/hub", version.base), &token, &subscription)
        .await;
    let hub_location = hub.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let hub = body(hub, 201).await;
    assert_eq!(hub["callback"], "local:subscriber-acme");
    if version.v5 {
        assert_eq!(hub["@type"], "Hub");
        assert_eq!(hub["href"], json!(hub_location));
    }
    let removed = app
        .delete(&format!("{}/hub/{}", version.base, id_of(&hub)), &token)
        .await;
    assert_eq!(removed.status(), 204);
}

#[tokio::test]
async fn the_lifecycle_suite_passes_on_v4() {
    lifecycle(V4).await;
}

#[tokio::test]
async fn the_lifecycle_suite_passes_on_v5() {
    lifecycle(V5).await;
}

#[tokio::test]
async fn a_quote_created_on_v4_is_patched_on_v5_and_read_on_v4() {
    let (app, token) = spawn_as_admin().await;
    let created = created_quote(&app, &token, V4, "fibre-1g").await;
    let id = id_of(&created);

    let on_v5 = read_ok(&app, &token, &V5.quote(id)).await;
    assert_eq!(on_v5["externalId"], json!([{"id": "crm-9"}]));
    assert_eq!(on_v5["creationDate"], created["quoteDate"]);

    let patched = merge(
        &app,
        &token,
        &V5.quote(id),
        &json!({"externalId": [{"id": "crm-10", "owner": "CRM"}], "description": "via v5"}),
    )
    .await;
    assert_eq!(
        body(patched, 200).await["externalId"],
        json!([{"id": "crm-10", "owner": "CRM"}])
    );
    let ops = json!([{"op": "add", "path": "/note", "value": [{"id": "n1", "text": "from v5"}]}]);
    body(json_patch(&app, &token, &V5.quote(id), &ops).await, 200).await;

    let on_v4 = read_ok(&app, &token, &V4.quote(id)).await;
    assert_eq!(on_v4["externalId"], "crm-10");
    assert_eq!(on_v4["description"], "via v5");
    assert_eq!(on_v4["note"], json!([{"id": "n1", "text": "from v5"}]));
    assert!(on_v4.get("creationDate").is_none(), "{on_v4}");
    assert!(
        on_v4
            .as_object()
            .expect("object")
            .keys()
            .all(|k| !k.starts_with("x-q2c")),
        "{on_v4}"
    );
    assert_eq!(
        on_v4["href"],
        json!(format!("{}{}", app.base, V4.quote(id)))
    );
}

#[tokio::test]
async fn a_quote_created_on_v5_is_patched_on_v4_and_read_on_v5() {
    let (app, token) = spawn_as_admin().await;
    let created = created_quote(&app, &token, V5, "mobile-l").await;
    let id = id_of(&created);
    assert_eq!(
        read_ok(&app, &token, &V4.quote(id)).await["externalId"],
        "crm-9"
    );

    let patched = merged(
        &app,
        &token,
        &V4.quote(id),
        &json!({"externalId": "crm-11"}),
    )
    .await;
    assert_eq!(patched["externalId"], "crm-11");
    let on_v5 = read_ok(&app, &token, &V5.quote(id)).await;
    assert_eq!(
        on_v5["externalId"],
        json!([{"id": "crm-11"}]),
        "the v5 details no longer describe it"
    );
    let cancelled = merged(&app, &token, &V4.quote(id), &json!({"state": "cancelled"})).await;
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(
        read_ok(&app, &token, &V5.quote(id)).await["state"],
        "cancelled"
    );
}

#[tokio::test]
async fn json_patch_adds_replaces_removes_and_tests_items_and_notes() {
    let (app, token, created, path) = with_a_v5_quote().await;
    let total = created["quoteTotalPrice"].clone();

    let ops = json!([
        {"op": "test", "path": "/state", "value": "inProgress"},
        {"op": "add", "path": "/note", "value": [{"id": "n1", "text": "first"}]},
        {"op": "add", "path": "/note/-", "value": {"id": "n2", "text": "second"}},
        {"op": "replace", "path": "/quoteItem/0/quantity", "value": 3},
        {"op": "add", "path": "/quoteItem/0/note", "value": [{"id": "i1", "text": "three lines"}]}
    ]);
    let patched = body(json_patch(&app, &token, &path, &ops).await, 200).await;
    assert_eq!(
        patched["note"],
        json!([{"id": "n1", "text": "first"}, {"id": "n2", "text": "second"}])
    );
    assert_eq!(patched["quoteItem"][0]["quantity"], 3);
    assert_eq!(patched["quoteItem"][0]["note"][0]["text"], "three lines");
    assert_ne!(
        patched["quoteTotalPrice"], total,
        "changing items re-prices"
    );

    let ops = json!([
        {"op": "remove", "path": "/note/0"},
        {"op": "remove", "path": "/quoteItem/0/note"},
        {"op": "add", "path": "/quoteItem/-", "value": {"action": "add", "quantity": 1, "productOffering": {"id": "fibre-1g"}}}
    ]);
    let patched = body(json_patch(&app, &token, &path, &ops).await, 200).await;
    assert_eq!(patched["note"], json!([{"id": "n2", "text": "second"}]));
    assert!(patched["quoteItem"][0].get("note").is_none(), "{patched}");
    assert_eq!(patched["quoteItem"].as_array().expect("items").len(), 2);
    assert_eq!(patched["quoteItem"][1]["productOffering"]["id"], "fibre-1g");

    let state = json_patch(
        &app,
        &token,
        &path,
        &json!([{"op": "replace", "path": "/state", "value": "declined"}]),
    )
    .await;
    assert_eq!(
        body(state, 200).await["state"],
        "declined",
        "declined reads back as declined on v5"
    );
}

#[tokio::test]
async fn a_failing_json_patch_test_changes_nothing() {
    let (app, token, created, path) = with_a_v5_quote().await;
    let ops = json!([
        {"op": "add", "path": "/description", "value": "changed"},
        {"op": "add", "path": "/note", "value": [{"id": "n1", "text": "x"}]},
        {"op": "test", "path": "/state", "value": "approved"}
    ]);
    json_patch_refused(&app, &token, &path, &ops, 409, "PATCH_TEST_FAILED").await;
    let read = app.get(&path, &token).await;
    assert_eq!(read.headers()["etag"], "\"1\"");
    assert_eq!(body(read, 200).await, created);
}

#[tokio::test]
async fn an_invalid_json_patch_is_a_400_tmf_error() {
    let (app, token, created, path) = with_a_v5_quote().await;
    for ops in [
        json!({"op": "add", "path": "/note", "value": []}),
        json!([{"op": "frobnicate", "path": "/note"}]),
        json!([{"op": "add", "value": 1}]),
        json!([{"op": "add", "path": "no-pointer", "value": 1}]),
    ] {
        json_patch_refused(&app, &token, &path, &ops, 400, "INVALID_PATCH").await;
    }
    // Well-formed, but not applicable to this quote (RFC 5789): 409, or 422 for an invalid result.
    let missing = json!([{"op": "remove", "path": "/nothing/here"}]);
    json_patch_refused(&app, &token, &path, &missing, 409, "PATCH_CONFLICT").await;
    let forbidden =
        json!([{"op": "replace", "path": "/creationDate", "value": "2020-01-01T00:00:00Z"}]);
    let error =
        json_patch_refused(&app, &token, &path, &forbidden, 422, "PATCH_RESULT_INVALID").await;
    assert_message_contains(&error, "creationDate");
    let bad_action = json!([{"op": "replace", "path": "/quoteItem/0/action", "value": "change"}]);
    json_patch_refused(
        &app,
        &token,
        &path,
        &bad_action,
        422,
        "PATCH_RESULT_INVALID",
    )
    .await;
    let read = app.get(&path, &token).await;
    assert_eq!(read.headers()["etag"], "\"1\"", "nothing changed");
    // v4 does not take JSON Patch.
    let v4 = json_patch(&app, &token, &V4.quote(id_of(&created)), &json!([])).await;
    assert_tmf_error(v4, 415, "UNSUPPORTED_MEDIA_TYPE").await;
}

#[tokio::test]
async fn v5_create_requires_type_and_instant_sync_quote_and_item_action_type() {
    let (app, token) = spawn_as_admin().await;
    for field in ["@type", "instantSyncQuote"] {
        let mut create_body = V5.create_body("mobile-s");
        create_body.as_object_mut().expect("object").remove(field);
        let error = create_refused(&app, &token, V5, &create_body, 400, "INVALID_INPUT").await;
        assert_message_starts_with(&error, field);
    }
    let mut wrong_action = V5.create_body("mobile-s");
    wrong_action["quoteItem"][0]["action"] = json!("change");
    create_refused(&app, &token, V5, &wrong_action, 400, "INVALID_INPUT").await;
    let mut external = V5.create_body("mobile-s");
    external["externalId"] = json!("crm-1");
    create_refused(&app, &token, V5, &external, 400, "INVALID_INPUT").await;
    let mut owned = V5.create_body("mobile-s");
    owned["creationDate"] = json!("2026-01-01T00:00:00Z");
    create_refused(&app, &token, V5, &owned, 400, "FORBIDDEN_FIELD").await;
    // v4 is unchanged: neither is required there.
    assert_eq!(
        create(&app, &token, V4, &quote_body("mobile-s"))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn v5_states_map_onto_the_lifecycle_and_filters_use_v5_names() {
    let (app, token, created, path) = with_a_v5_quote().await;
    merge_refused(
        &app,
        &token,
        &path,
        &json!({"state": "acknowledged"}),
        400,
        "INVALID_INPUT",
    )
    .await;
    let declined = merged(&app, &token, &path, &json!({"state": "declined"})).await;
    // v5 has both states: declined reads back as declined (issue 20, point 3); v4, which has
    // no declined, reads the same quote as cancelled.
    assert_eq!(declined["state"], "declined");
    let read = read_ok(&app, &token, &path).await;
    assert_eq!(read["state"], "declined");
    let v4 = read_ok(&app, &token, &V4.quote(id_of(&created))).await;
    assert_eq!(v4["state"], "cancelled");
    assert!(
        v4.as_object()
            .expect("object")
            .keys()
            .all(|k| !k.starts_with("x-q2c")),
        "{v4}"
    );

    let declined_since_2000 = format!(
        "{QUOTES_V5}/quote?state=declined&creationDate.gte=2000-01-01T00:00:00Z&fields=creationDate"
    );
    let listed = read_ok(&app, &token, &declined_since_2000).await;
    assert_eq!(listed.as_array().expect("array").len(), 1, "{listed}");
    assert!(listed[0]["creationDate"].is_string(), "{listed}");
    let v4_name = app
        .get(
            &format!("{QUOTES_V5}/quote?quoteDate.gte=2000-01-01T00:00:00Z"),
            &token,
        )
        .await;
    assert_tmf_error(v4_name, 400, "INVALID_QUERY").await;
    let bad_date = app
        .get(
            &format!("{QUOTES_V5}/quote?creationDate.lt=yesterday"),
            &token,
        )
        .await;
    let error = assert_tmf_error(bad_date, 400, "INVALID_QUERY").await;
    assert_message_starts_with(&error, "creationDate.lt");
}

#[tokio::test]
async fn each_version_serves_its_openapi_document() {
    let app = spawn_app().await;
    for (base, version) in [(QUOTES, "4"), (QUOTES_V5, "5")] {
        let response = app.get_anonymous(&format!("{base}/openapi.json")).await;
        let document = body(response, 200).await;
        assert!(
            document["info"]["version"]
                .as_str()
                .expect("version")
                .starts_with(version),
            "{base}"
        );
        assert!(
            document["paths"].get(format!("{base}/quote")).is_some(),
            "{base}"
        );
    }
}

#[tokio::test]
async fn a_hub_subscription_remembers_the_version_it_was_made_through() {
    use q2c_service::event_versions::SchemaMajor;
    use q2c_service::ports::{HubApi, HubStore};
    let (app, token) = spawn_as_admin().await;
    let mut ids = Vec::new();
    for version in [V4, V5] {
        let hub = app
            .post_json(
                &format!("{}/hub", version.base),
                &token,
                &json!({"callback": "local:subscriber-acme"}),
            )
            .await;
        ids.push(id_of(&body(hub, 201).await).to_owned());
    }
    let path = app.data_dir.path().join(q2c_embedded::local::DATABASE_FILE);
    let store = q2c_local::SqliteStore::open(&path).expect("open the data directory's store");
    let tenant = q2c_service::TenantId::parse("acme").expect("tenant");
    let stored = store
        .list_versioned(&tenant, HubApi::Quote)
        .await
        .expect("list");
    let major = |id: &str| {
        stored
            .iter()
            .find(|s| s.subscription.id == id)
            .map(|s| s.version)
    };
    assert_eq!(major(&ids[0]), Some(SchemaMajor::V4));
    assert_eq!(major(&ids[1]), Some(SchemaMajor::V5));
}
