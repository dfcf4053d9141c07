//! Test harness: starts `q2c local` in-process on a free port with a fresh data directory
//! and talks to it over real HTTP. [`hostile`] is the hostile-input suite of issue 14, run
//! by `api/hostile.rs` and by the RSS benchmark `examples/hostile_rss.rs`.
//!
//! The suites talk to the app through [`conformance`]'s recording proxy: every JSON body they
//! get is validated against the official TM Forum document of its API and version, and a
//! [`TestApp`] that saw an invalid one fails its test when it is dropped.

pub mod conformance;
pub mod hostile;

use std::net::SocketAddr;
use std::time::Duration;

use q2c_embedded::local::{LocalConfig, dev_token, start};
use q2c_service::Scope;
use reqwest::{Client, RequestBuilder, Response};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// Base path of the quote API (v4).
pub const QUOTES: &str = "/tmf-api/quoteManagement/v4";
/// Base path of the quote API v5.
pub const QUOTES_V5: &str = "/tmf-api/quoteManagement/v5";
/// Base path of the catalog API.
pub const CATALOG: &str = "/tmf-api/productCatalogManagement/v4";
/// Base path of the product ordering API (orders, ordering hub).
pub const ORDERING: &str = "/tmf-api/productOrderingManagement/v4";

/// A running `q2c local` and a client for it. Stops when dropped.
pub struct TestApp {
    /// `http://127.0.0.1:<port>` of the recording proxy (also the app's public URL).
    pub base: String,
    /// The app's own address, behind the proxy.
    pub addr: SocketAddr,
    /// What the proxy found not valid against the official documents.
    pub conformance: conformance::Failures,
    /// The signing secret, to mint tokens.
    pub secret: String,
    /// HTTP client.
    pub client: Client,
    /// Keeps the data directory alive.
    pub data_dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        conformance::conclude(&self.conformance);
    }
}

/// Starts a fresh `q2c local` on a free port.
///
/// # Panics
/// When the app cannot start (the test cannot run then).
pub async fn spawn_app() -> TestApp {
    spawn_configured(|_| {}).await
}

/// Starts a fresh `q2c local` and mints a token of tenant `acme` with every scope: what most
/// tests begin with.
///
/// # Panics
/// When the app cannot start.
pub async fn spawn_as_admin() -> (TestApp, String) {
    let app = spawn_app().await;
    let token = app.admin("acme");
    (app, token)
}

/// Starts a fresh `q2c local` on a free port with the test defaults (the API alone, the
/// default quotas) changed by `edit`.
///
/// # Panics
/// When the app cannot start.
pub async fn spawn_configured(edit: impl FnOnce(&mut LocalConfig)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let secret = format!("test-secret-{}", std::process::id());
    // The API alone: some tests read the queues themselves, which the consumers would drain
    // (the consumers are tested in tools/q2c/tests/pipeline.rs).
    let mut config = LocalConfig {
        consumers: false,
        ..LocalConfig::with_defaults(
            "127.0.0.1:0".parse().expect("address"),
            data_dir.path().to_owned(),
            secret.clone(),
        )
    };
    edit(&mut config);
    spawn_with(config, data_dir, secret).await
}

/// Starts `q2c local` with this configuration (its data directory kept alive by `data_dir`).
///
/// # Panics
/// When the app cannot start.
pub async fn spawn_with(
    mut config: LocalConfig,
    data_dir: tempfile::TempDir,
    secret: String,
) -> TestApp {
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("proxy listener");
    let base = format!("http://{}", proxy.local_addr().expect("proxy address"));
    if config.public_url.is_none() {
        config.public_url = Some(base.clone());
    }
    let app = start(&config).await.expect("q2c local starts");
    let addr = app.local_addr().expect("bound address");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.serve(async move {
        let _ = stopped.await;
    }));
    let failures = conformance::Failures::default();
    conformance::start_proxy(proxy, format!("http://{addr}"), failures.clone());
    TestApp {
        base,
        addr,
        conformance: failures,
        secret,
        client: Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client"),
        data_dir,
        stop: Some(stop),
    }
}

impl TestApp {
    /// The running app's store (a second connection to its database file).
    pub fn store(&self) -> q2c_local::SqliteStore {
        let path = self
            .data_dir
            .path()
            .join(q2c_embedded::local::DATABASE_FILE);
        q2c_local::SqliteStore::open(&path).expect("the data directory's store")
    }

    /// A token for `tenant` with `scopes`, valid for an hour.
    pub fn token(&self, tenant: &str, scopes: &[Scope]) -> String {
        dev_token(&self.secret, tenant, scopes, Duration::from_secs(3600)).expect("token")
    }

    /// A token for `tenant` with every scope.
    pub fn admin(&self, tenant: &str) -> String {
        self.token(tenant, &Scope::ALL)
    }

    /// A request to `path` (relative to the server) with a bearer token.
    pub fn request(&self, method: reqwest::Method, path: &str, token: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
    }

    /// `POST /quote` with a JSON body.
    pub async fn create_quote(&self, token: &str, body: &Value) -> Response {
        self.post_json(&format!("{QUOTES}/quote"), token, body)
            .await
    }

    /// `POST /quote` with a JSON body and an `Idempotency-Key`.
    pub async fn create_quote_with_key(&self, token: &str, key: &str, body: &Value) -> Response {
        self.request(reqwest::Method::POST, &format!("{QUOTES}/quote"), token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .expect("POST /quote")
    }

    /// Creates a quote that must succeed; returns its JSON.
    pub async fn created_quote(&self, token: &str, offering: &str) -> Value {
        let response = self.create_quote(token, &quote_body(offering)).await;
        assert_eq!(response.status(), 201, "creating a quote of {offering}");
        response.json().await.expect("quote JSON")
    }

    /// `POST /quote` of a quote of `offering` that must be refused with this TMF630 error;
    /// returns the error body.
    pub async fn create_quote_error(
        &self,
        token: &str,
        offering: &str,
        status: u16,
        code: &str,
    ) -> Value {
        let response = self.create_quote(token, &quote_body(offering)).await;
        assert_tmf_error(response, status, code).await
    }

    /// Moves quote `id` to `state` with a merge patch that must answer 200; returns the
    /// quote, checked to be in that state.
    pub async fn move_quote(&self, token: &str, id: &str, state: &str) -> Value {
        let response = self
            .patch_quote(token, id, &json!({ "state": state }), None)
            .await;
        assert_eq!(response.status(), 200, "moving quote {id} to {state}");
        let quote: Value = response.json().await.expect("quote JSON");
        assert_eq!(quote["state"], state, "quote {id} after the move");
        quote
    }

    /// Approves and accepts quote `id` (each `PATCH` must answer 200); returns the TMF622
    /// order the acceptance created.
    pub async fn accept_quote(&self, token: &str, id: &str) -> Value {
        for state in ["approved", "accepted"] {
            self.move_quote(token, id, state).await;
        }
        let orders: Vec<Value> = self
            .get(&format!("{ORDERING}/productOrder?limit=1000"), token)
            .await
            .json()
            .await
            .expect("orders JSON");
        orders
            .into_iter()
            .find(|o| o["quote"][0]["id"] == id)
            .expect("accepting the quote created an order")
    }

    /// `GET <path>`.
    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.send(reqwest::Method::GET, path, token).await
    }

    /// `<method> <path>` without a body.
    pub async fn send(&self, method: reqwest::Method, path: &str, token: &str) -> Response {
        self.request(method.clone(), path, token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// `DELETE <path>`.
    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.send(reqwest::Method::DELETE, path, token).await
    }

    /// `GET <path>` without any token.
    pub async fn get_anonymous(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET")
    }

    /// `POST <path>` with a JSON body.
    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(reqwest::Method::POST, path, token)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// `POST <path>` of `body` as is, with this content type.
    pub async fn post_body(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.send_body(reqwest::Method::POST, path, token, content_type, body)
            .await
    }

    /// `<method> <path>` of `body` as is, with this content type.
    pub async fn send_body(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.request(method.clone(), path, token)
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// `POST /hub` of the quote API with this subscription.
    pub async fn subscribe(&self, token: &str, subscription: &Value) -> Response {
        self.post_json(&format!("{QUOTES}/hub"), token, subscription)
            .await
    }

    /// The JSON body of `GET <path>`.
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        self.get(path, token).await.json().await.expect("json")
    }

    /// Asserts that `GET <path>` is a TMF630 error with this status and code; returns the
    /// body.
    pub async fn get_error(&self, path: &str, token: &str, status: u16, code: &str) -> Value {
        assert_tmf_error(self.get(path, token).await, status, code).await
    }

    /// Creates a quote of `offering` that must succeed; returns its id.
    pub async fn created_id(&self, token: &str, offering: &str) -> String {
        self.created_quote(token, offering).await["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    /// `PATCH /quote/{id}` with a merge patch and an optional `If-Match`.
    pub async fn patch_quote(
        &self,
        token: &str,
        id: &str,
        patch: &Value,
        if_match: Option<&str>,
    ) -> Response {
        let mut request = self
            .request(
                reqwest::Method::PATCH,
                &format!("{QUOTES}/quote/{id}"),
                token,
            )
            .header("Content-Type", "application/merge-patch+json")
            .body(patch.to_string());
        if let Some(etag) = if_match {
            request = request.header("If-Match", etag);
        }
        request.send().await.expect("PATCH")
    }
}

/// A `Quote_Create` body with one item of `offering`.
pub fn quote_body(offering: &str) -> Value {
    json!({"quoteItem": [{"action": "add", "quantity": 1, "productOffering": {"id": offering}}],
           "relatedParty": [{"id": "cust-1", "role": "customer", "@referredType": "Individual"}]})
}

/// Asserts a TMF630 error body with this status and code; returns the body.
pub async fn assert_tmf_error(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status of {}",
        response.url()
    );
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "content type {content_type}"
    );
    let body: Value = response.json().await.expect("error JSON");
    assert_eq!(body["code"], json!(code), "error body {body}");
    assert_eq!(
        body["status"],
        json!(status.to_string()),
        "error body {body}"
    );
    assert!(
        body["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "reason in {body}"
    );
    let reference = body["referenceError"].as_str().unwrap_or_default();
    assert!(
        reference.contains("docs/errors.md#"),
        "referenceError in {body}"
    );
    body
}

/// Asserts the TMF630 404 `NOT_FOUND` error; returns the body.
pub async fn assert_not_found(response: Response) -> Value {
    assert_tmf_error(response, 404, "NOT_FOUND").await
}

/// The path of a hub subscription of the quote API, from its JSON.
pub fn hub_path(hub: &Value) -> String {
    format!("{QUOTES}/hub/{}", hub["id"].as_str().expect("hub id"))
}

/// Asserts that a TMF630 error body's `message` contains `part`.
pub fn assert_message_contains(body: &Value, part: &str) {
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains(part)),
        "a message containing {part:?} in {body}"
    );
}

/// Asserts that a TMF630 error body's `message` starts with `prefix`.
pub fn assert_message_starts_with(body: &Value, prefix: &str) {
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with(prefix)),
        "a message starting with {prefix:?} in {body}"
    );
}

/// Asserts a listing's 200 with its `X-Total-Count` (all that match) and `X-Result-Count`
/// (those on this page).
pub fn assert_page(response: &Response, total: u64, result: u64) {
    assert_eq!(response.status(), 200, "status of {}", response.url());
    assert_eq!(numeric_header(response, "x-total-count"), total);
    assert_eq!(numeric_header(response, "x-result-count"), result);
}

/// A header whose value is a whole number (`X-Total-Count`, `X-Result-Count`,
/// `Retry-After`), as that number.
pub fn numeric_header(response: &Response, name: &str) -> u64 {
    let value = response.headers()[name].to_str().expect("ascii");
    value
        .parse()
        .unwrap_or_else(|_| panic!("{name}: `{value}` is not a whole number"))
}
