//! The BUILT `quote-api` bootstrap against a fake Lambda Runtime API and moto: a create
//! event gets a 201 with a priced quote, the quote is in the table with its
//! QuoteCreateEvent pending in the outbox; the outbox item, fed to the outbox-relay as a
//! DynamoDB stream event, arrives on the quote-events queue with its attributes.
//!
//! A second test points the built bootstrap at DynamoDB through a TLS front (moto behind a
//! certificate of a test CA): it works when the bootstrap trusts the CA and fails when it
//! does not, so the SDK's HTTPS client of the functions (rustls on ring, with the platform's
//! roots) is exercised over real TLS.
//!
//! Needs moto (`Q2C_TEST_AWS_ENDPOINT`); skipped with instructions without it
//! (failed under `Q2C_REQUIRE_AWS=1`).

mod moto;
mod tls_front;

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use q2c_aws::SqsPublisher;
use q2c_fn_outbox_relay::Relay;
use q2c_runtime::Metrics;
use q2c_service::context::TenantId;
use q2c_service::ports::{OutboxStore, QuoteStore};
use q2c_stack_rehearsal::runtime_api::{FakeRuntimeApi, Reported};
use serde_json::{Value, json};

/// The bootstrap cargo built for these tests.
const BOOTSTRAP: &str = env!("CARGO_BIN_EXE_quote-api");
const WAIT: Duration = Duration::from_secs(60);

fn sample(relative: &str) -> Value {
    let path = format!("{}/../../events/{relative}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).expect("sample JSON")
}

/// The API Gateway response of `request_id`: (status, parsed body).
async fn api_response(runtime: &mut FakeRuntimeApi, request_id: &str) -> (u64, Value) {
    match runtime.reported(WAIT).await {
        Reported::Response(id, response) => {
            assert_eq!(id, request_id);
            let status = response["statusCode"].as_u64().expect("statusCode");
            let body = response["body"].as_str().unwrap_or("null");
            (status, serde_json::from_str(body).unwrap_or(Value::Null))
        }
        other => panic!("expected a response to {request_id}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_bootstrap_serves_api_gateway_events_and_the_relay_publishes_the_outbox() {
    q2c_testkit::require_moto!();
    let endpoint = moto::endpoint();
    let sdk = moto::sdk_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let store = moto::seeded_store(dynamo.clone()).await;
    let mut runtime = FakeRuntimeApi::start().await;

    let started = Instant::now();
    // Q2C_QUOTE_API_BOOTSTRAP points at another build (e.g. the lambda profile's) to measure it.
    let binary = std::env::var("Q2C_QUOTE_API_BOOTSTRAP").unwrap_or_else(|_| BOOTSTRAP.to_owned());
    let mut bootstrap = spawn_bootstrap(&binary, &runtime, store.table(), &endpoint, None);

    runtime.invoke("req-create", sample("apigw/create-quote.json"));
    let (status, quote) = api_response(&mut runtime, "req-create").await;
    let to_first_next = runtime
        .first_next()
        .map(|at| at.duration_since(started))
        .expect("the bootstrap polled /next");
    eprintln!(
        "quote-api bootstrap {binary}: spawn to first /next {:.1} ms",
        to_first_next.as_secs_f64() * 1000.0
    );
    assert_eq!(status, 201, "create answered {quote}");
    assert_eq!(quote["state"], "inProgress");
    let id = quote["id"].as_str().expect("quote id").to_owned();
    let href = quote["href"].as_str().expect("href");
    assert!(
        href.starts_with("https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/tmf-api/"),
        "href from the request's host: {href}"
    );
    let price = &quote["quoteItem"][0]["quoteItemPrice"][0]["price"];
    assert!(
        price["taxIncludedAmount"]["value"].is_number()
            || price["taxIncludedAmount"]["value"].is_string(),
        "priced: {quote}"
    );
    assert!(
        !quote["quoteTotalPrice"]
            .as_array()
            .expect("totals")
            .is_empty()
    );

    // The same container serves a GET of the new quote.
    let mut get = sample("apigw/get-quote.json");
    let path = format!("/tmf-api/quoteManagement/v4/quote/{id}");
    get["rawPath"] = json!(path);
    get["requestContext"]["http"]["path"] = json!(path);
    runtime.invoke("req-get", get);
    let (status, fetched) = api_response(&mut runtime, "req-get").await;
    assert_eq!(status, 200, "get answered {fetched}");
    assert_eq!(fetched["id"], json!(id));

    // Without claims the router refuses the caller.
    let mut anonymous = sample("apigw/get-quote.json");
    anonymous["requestContext"]["authorizer"] = Value::Null;
    runtime.invoke("req-anonymous", anonymous);
    let (status, _) = api_response(&mut runtime, "req-anonymous").await;
    assert_eq!(status, 401);

    bootstrap.start_kill().expect("stop the bootstrap");
    let output = bootstrap
        .wait_with_output()
        .await
        .expect("bootstrap output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let emf: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l.get("_aws").is_some())
        .collect();
    assert!(
        emf.iter()
            .any(|l| l["QuotesCreated"] == 1 && l["ColdStarts"] == 1),
        "an EMF line with the created quote and the cold start: {stdout}"
    );

    // In the table, with its event pending in the outbox.
    let tenant = TenantId::parse("acme").expect("tenant");
    let stored = store.get(&tenant, &id).await.expect("get").expect("stored");
    assert_eq!(stored.version, 1);
    let pending = store.pending(10).await.expect("pending");
    let created = pending
        .iter()
        .find(|e| e.aggregate_id == id && e.event_type == "QuoteCreateEvent")
        .expect("the QuoteCreateEvent is pending");

    // The outbox item as the stream delivers it, through the relay, onto the queue.
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let prefix = format!("{}-", moto::unique("q2c"));
    let queue_url =
        q2c_testkit::sqs::create_queue(&sqs, &format!("{prefix}quote-events"), HashMap::new())
            .await;
    let pk = format!("OUTBOX#{}", created.event_id);
    let image = moto::item_json(&dynamo, store.table(), &pk, "EVENT").await;
    let stream = q2c_testkit::lambda::stream_insert(&pk, "EVENT", image);
    let publisher = SqsPublisher::new(sqs.clone()).with_prefix(prefix);
    let relay = Relay::new(
        store.clone(),
        publisher,
        Arc::new(Metrics::new("q2c-outbox-relay")),
    );
    let response = relay.handle(stream).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");

    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .message_attribute_names("All")
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .expect("ReceiveMessage");
    let message = received.messages().first().expect("the event arrived");
    let body: Value = serde_json::from_str(message.body().expect("body")).expect("JSON body");
    assert_eq!(body["eventType"], "QuoteCreateEvent");
    assert_eq!(body["event"]["quote"]["id"], json!(id));
    let attribute = |name: &str| {
        message
            .message_attributes()
            .and_then(|a| a.get(name))
            .and_then(|v| v.string_value())
            .map(str::to_owned)
    };
    assert_eq!(attribute("eventType").as_deref(), Some("QuoteCreateEvent"));
    assert_eq!(attribute("schemaVersion").as_deref(), Some("4.0"));
    assert_eq!(attribute("tenant").as_deref(), Some("acme"));
    assert!(attribute("correlationId").is_some());
    let still_pending = store.pending(10).await.expect("pending");
    assert!(
        still_pending.iter().all(|e| e.event_id != created.event_id),
        "marked published"
    );
}

/// Spawns the bootstrap `binary` polling `runtime`, over `table` at the AWS endpoint
/// `endpoint`, trusting only the CA in `ca_file` when given (else the platform's roots);
/// stdout piped.
fn spawn_bootstrap(
    binary: &str,
    runtime: &FakeRuntimeApi,
    table: &str,
    endpoint: &str,
    ca_file: Option<&Path>,
) -> tokio::process::Child {
    let mut command = tokio::process::Command::new(binary);
    command
        .env("AWS_LAMBDA_RUNTIME_API", &runtime.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "q2c-quote-api")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("RUST_LOG", "warn")
        .env("TABLE_NAME", table)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", moto::region())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .env_remove("PUBLIC_BASE_URL")
        .env_remove("SSL_CERT_DIR")
        .env_remove("SSL_CERT_FILE")
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    if let Some(ca_file) = ca_file {
        command.env("SSL_CERT_FILE", ca_file);
    }
    command
        .spawn()
        .expect("spawn the built quote-api bootstrap")
}

/// What the bootstrap printed until now (it is killed).
async fn output_of(mut bootstrap: tokio::process::Child) -> String {
    bootstrap.start_kill().expect("stop the bootstrap");
    let output = bootstrap
        .wait_with_output()
        .await
        .expect("bootstrap output");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_bootstrap_reaches_dynamodb_over_tls_and_checks_the_certificate() {
    q2c_testkit::require_moto!();
    let sdk = moto::sdk_config().await;
    let store = moto::seeded_store(aws_sdk_dynamodb::Client::new(&sdk)).await;
    let front = tls_front::start(&moto::endpoint()).await;
    let tenant = TenantId::parse("acme").expect("tenant");

    // Trusting the test CA: the quote is priced from the table and stored, through TLS.
    let mut runtime = FakeRuntimeApi::start().await;
    let trusting = spawn_bootstrap(
        BOOTSTRAP,
        &runtime,
        store.table(),
        &front.url,
        Some(&front.ca_file),
    );
    runtime.invoke("req-trusted", sample("apigw/create-quote.json"));
    let (status, quote) = api_response(&mut runtime, "req-trusted").await;
    assert_eq!(status, 201, "create over TLS answered {quote}");
    let id = quote["id"].as_str().expect("quote id");
    assert!(
        store.get(&tenant, id).await.expect("get").is_some(),
        "stored through the TLS front"
    );
    drop(output_of(trusting).await);

    // Trusting only the platform's roots: the handshake fails on the unknown issuer, the
    // create answers 503 (the store is unreachable: docs/errors.md, Unavailable) and the log
    // says why.
    let mut runtime = FakeRuntimeApi::start().await;
    let refusing = spawn_bootstrap(BOOTSTRAP, &runtime, store.table(), &front.url, None);
    runtime.invoke("req-untrusted", sample("apigw/create-quote.json"));
    let (status, body) = api_response(&mut runtime, "req-untrusted").await;
    assert_eq!(
        status, 503,
        "create with an untrusted certificate answered {body}"
    );
    let log = output_of(refusing).await;
    assert!(
        log.contains("UnknownIssuer"),
        "the failure names the certificate problem: {log}"
    );
}
