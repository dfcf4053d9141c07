//! The hostile suite of issue 14: hostile input of every kind the issue names (deep JSON,
//! oversized bodies and descriptions, large quotes, JSON Patch amplification, huge item
//! counts, stacked discounts, overflowing quantities, hostile TMF620 listener events, a
//! hostile catalog file for `q2c catalog import`) sent over real HTTP while another tenant
//! keeps working normally.
//!
//! [`run`] drives a running `q2c local` (in-process for `tests/api/hostile.rs`, the release
//! binary for the RSS measurement of `examples/hostile_rss.rs`) and returns a
//! [`HostileReport`]: every response with its status and code, the expectations that did not
//! hold, and the ids of the quotes accepted on the way (a later check of event delivery
//! starts from them). [`HostileReport::assert_sound`] checks the rules: every answer is a
//! 2xx or a 4xx TMF630 body, never a 5xx; every normal request of the other tenant
//! succeeds; every accepted large quote was approved and accepted.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use q2c_embedded::catalog::{SyncMode, sync};
use q2c_embedded::local::dev_token;
use q2c_service::Scope;
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::{CATALOG, QUOTES, QUOTES_V5};

/// Base path of the TMF622 API.
const ORDERING: &str = "/tmf-api/productOrderingManagement/v4";

/// A running `q2c local` to attack.
#[derive(Clone)]
pub struct Target {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The HS256 secret its tokens are signed with.
    pub secret: String,
    /// Its data directory (the catalog file is imported into it).
    pub data_dir: PathBuf,
    /// HTTP client.
    pub client: Client,
}

/// One answer.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What was sent.
    pub label: String,
    /// HTTP status.
    pub status: u16,
    /// TMF630 `code` of an error body.
    pub code: Option<String>,
    /// What is wrong with the answer (not a TMF630 body, a 5xx, an unexpected status).
    pub problem: Option<String>,
}

/// What the suite saw.
#[derive(Debug, Default)]
pub struct HostileReport {
    /// The hostile tenant's requests.
    pub hostile: Vec<Outcome>,
    /// The other tenant's normal requests, sent meanwhile.
    pub normal: Vec<Outcome>,
    /// `(tenant, quote id)` of the quotes accepted (large ones and normal ones).
    pub accepted_quotes: Vec<(String, String)>,
    /// How many large quotes were created (each must have been approved and accepted).
    pub large_quotes: usize,
    /// What `q2c catalog import` of the hostile file reported: (imported, invalid).
    pub import: (u64, u64),
}

impl HostileReport {
    /// Every problem found: a 5xx, an error that is not a TMF630 body, a status other than
    /// the expected one, a normal request that failed.
    pub fn problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = self
            .hostile
            .iter()
            .chain(&self.normal)
            .filter_map(|o| o.problem.as_ref().map(|p| format!("{}: {p}", o.label)))
            .collect();
        problems.extend(
            self.normal
                .iter()
                .filter(|o| !(200..300).contains(&o.status))
                .map(|o| format!("normal traffic failed: {} answered {}", o.label, o.status)),
        );
        problems
    }

    /// Panics naming every problem.
    ///
    /// # Panics
    /// When [`HostileReport::problems`] is not empty, or the suite saw no normal traffic.
    pub fn assert_sound(&self) {
        let problems = self.problems();
        assert!(
            problems.is_empty(),
            "{} problems:\n{}",
            problems.len(),
            problems.join("\n")
        );
        assert!(
            self.normal.len() >= 10,
            "the other tenant kept working: {}",
            self.normal.len()
        );
        assert!(self.large_quotes > 0 && self.hostile.len() > 100);
    }
}

/// Who sends what.
struct Session {
    target: Target,
    writer: String,
    approver: String,
    catalog: String,
    outcomes: Mutex<Vec<Outcome>>,
}

impl Session {
    fn request(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.target
            .client
            .request(method, format!("{}{path}", self.target.base))
            .bearer_auth(token)
    }

    /// Sends and records; `expected` is the status (and TMF630 code) the limits promise.
    async fn send(
        &self,
        label: &str,
        request: RequestBuilder,
        expected: Option<(u16, &str)>,
    ) -> (u16, Value) {
        let outcome = match request.send().await {
            Ok(response) => judge(label, response, expected).await,
            Err(e) => (
                Outcome {
                    label: label.to_owned(),
                    status: 0,
                    code: None,
                    problem: Some(format!("no answer: {e}")),
                },
                Value::Null,
            ),
        };
        let (outcome, body) = outcome;
        let status = outcome.status;
        self.outcomes.lock().await.push(outcome);
        (status, body)
    }

    async fn post(
        &self,
        label: &str,
        path: &str,
        token: &str,
        body: String,
        expected: Option<(u16, &str)>,
    ) -> (u16, Value) {
        let request = self
            .request(Method::POST, path, token)
            .header("content-type", "application/json")
            .body(body);
        self.send(label, request, expected).await
    }

    async fn patch(
        &self,
        label: &str,
        path: &str,
        token: &str,
        content_type: &str,
        body: String,
        expected: Option<(u16, &str)>,
    ) -> (u16, Value) {
        let request = self
            .request(Method::PATCH, path, token)
            .header("content-type", content_type)
            .body(body);
        self.send(label, request, expected).await
    }
}

/// Reads the answer and says what is wrong with it, if anything.
async fn judge(label: &str, response: Response, expected: Option<(u16, &str)>) -> (Outcome, Value) {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let code = body["code"].as_str().map(str::to_owned);
    let mut problem = None;
    if status >= 500 {
        problem = Some(format!("{status} {}", String::from_utf8_lossy(&bytes)));
    } else if status >= 400 {
        let tmf630 = code.is_some()
            && body["reason"].is_string()
            && body["status"] == json!(status.to_string())
            && body["referenceError"]
                .as_str()
                .is_some_and(|r| r.contains("docs/errors.md#"));
        if !tmf630 {
            problem = Some(format!("{status} without a TMF630 body: {body}"));
        }
    }
    if problem.is_none()
        && let Some((want, want_code)) = expected
        && (status != want || (status >= 400 && code.as_deref() != Some(want_code)))
    {
        problem = Some(format!(
            "expected {want} {want_code}, got {status} {}",
            code.as_deref().unwrap_or("")
        ));
    }
    (
        Outcome {
            label: label.to_owned(),
            status,
            code,
            problem,
        },
        body,
    )
}

fn item(offering: &str) -> Value {
    json!({"action": "add", "quantity": 1, "productOffering": {"id": offering}})
}

fn quote_of(items: Vec<Value>) -> Value {
    json!({"quoteItem": items,
           "relatedParty": [{"id": "cust-1", "role": "customer", "@referredType": "Individual"}]})
}

fn nested(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

/// The hostile catalog file: good entries (a price of 1e16, a bundle bomb of valid entries)
/// among entries the store could not hold.
fn hostile_catalog() -> String {
    let at = "2026-01-01T00:00:00Z";
    let mut entries = vec![
        json!({"id": "hostile-big", "@type": "ProductOffering", "lastUpdate": at,
               "isSellable": true, "lifecycleStatus": "Launched",
               "productOfferingPrice": [{"id": "hostile-big-monthly"}]}),
        json!({"id": "hostile-big-monthly", "@type": "ProductOfferingPrice", "lastUpdate": at,
               "priceType": "recurring", "recurringChargePeriodType": "month",
               "price": {"unit": "EUR", "value": 1e16}}),
    ];
    // A bundle of 20 bundles of 20 bundles ... 7 levels: each entry valid, the whole an
    // expansion of 20^7 components that pricing must refuse at once.
    for level in 0..7 {
        entries.push(
            json!({"id": format!("bomb-{level}"), "@type": "ProductOffering",
            "lastUpdate": at, "isSellable": true, "isBundle": true,
            "bundledProductOffering": vec![json!({"id": format!("bomb-{}", level + 1)}); 20]}),
        );
    }
    entries.push(json!({"id": "bomb-7", "@type": "ProductOffering", "lastUpdate": at,
                        "isSellable": true, "productOfferingPrice": [{"id": "hostile-big-monthly"}]}));
    let good = entries.len();
    let mut text = serde_json::to_string(&entries).expect("JSON");
    text.pop();
    text.push_str(&format!(
        r#",{{"id":"precise","@type":"ProductOfferingPrice","lastUpdate":"{at}","priceType":"oneTime","price":{{"unit":"EUR","value":1.2345678901234567}}}}"#
    ));
    text.push_str(&format!(
        r#",{{"id":"fat","@type":"ProductOffering","lastUpdate":"{at}","blob":"{}"}}"#,
        "f".repeat(300_000)
    ));
    text.push_str(&format!(
        r#",{{"id":"deep","@type":"ProductOffering","lastUpdate":"{at}","x":{}}}"#,
        nested(120)
    ));
    text.push_str(&format!(
        r#",{{"id":"{}","@type":"ProductOffering","lastUpdate":"{at}"}}]"#,
        "i".repeat(300)
    ));
    debug_assert_eq!(good, 10);
    text
}

/// Runs the suite against `target`.
///
/// # Panics
/// When a token cannot be minted or the catalog file cannot be written (setup, not findings).
pub async fn run(target: &Target, large_quotes: usize) -> HostileReport {
    let token = |tenant: &str, scopes: &[Scope]| {
        dev_token(&target.secret, tenant, scopes, Duration::from_secs(3600)).expect("token")
    };
    let writer_scopes = [
        Scope::QuoteRead,
        Scope::QuoteWrite,
        Scope::HubWrite,
        Scope::OrderRead,
        Scope::OrderWrite,
    ];
    let session = Arc::new(Session {
        target: target.clone(),
        writer: token("mallory", &writer_scopes),
        approver: token("mallory", &Scope::ALL),
        catalog: token("mallory", &[Scope::CatalogRead, Scope::CatalogWrite]),
        outcomes: Mutex::new(Vec::new()),
    });
    let done = Arc::new(AtomicBool::new(false));
    let normal = tokio::spawn(normal_traffic(
        target.clone(),
        token("alice", &Scope::ALL),
        done.clone(),
    ));

    let import = import_hostile_catalog(target).await;
    let accepted = hostile(&session, large_quotes).await;
    let mut report = HostileReport {
        import,
        large_quotes,
        accepted_quotes: accepted
            .into_iter()
            .map(|id| ("mallory".to_owned(), id))
            .collect(),
        ..HostileReport::default()
    };

    done.store(true, Ordering::Relaxed);
    let (normal_outcomes, normal_accepted) = normal.await.expect("normal traffic task");
    report.normal = normal_outcomes;
    report.accepted_quotes.extend(
        normal_accepted
            .into_iter()
            .map(|id| ("alice".to_owned(), id)),
    );
    report.hostile = std::mem::take(&mut *session.outcomes.lock().await);
    report
}

async fn import_hostile_catalog(target: &Target) -> (u64, u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("hostile-catalog.json");
    std::fs::write(&file, hostile_catalog()).expect("catalog file");
    let report = sync(&file, &target.data_dir, SyncMode::Import)
        .await
        .expect("the import runs to the end");
    (
        report.summary.changed() + report.summary.unchanged,
        report.summary.invalid,
    )
}

/// The hostile tenant's requests; returns the ids of the large quotes it accepted.
#[allow(clippy::too_many_lines)] // one list of attacks, in the order of the issue
async fn hostile(s: &Session, large_quotes: usize) -> Vec<String> {
    let quotes = format!("{QUOTES}/quote");
    let quotes_v5 = format!("{QUOTES_V5}/quote");
    let w = &s.writer;

    // Deep JSON: before parsing, on every body the API parses.
    let deep = format!(
        r#"{{"quoteItem":[{{"productOffering":{{"id":"mobile-l"}}}}],"ext":{}}}"#,
        nested(126)
    );
    s.post(
        "deep create",
        &quotes,
        w,
        deep.clone(),
        Some((400, "LIMIT_EXCEEDED")),
    )
    .await;
    s.post(
        "deep v5 create",
        &quotes_v5,
        w,
        deep.clone(),
        Some((400, "LIMIT_EXCEEDED")),
    )
    .await;
    s.post(
        "deep hub",
        &format!("{QUOTES}/hub"),
        w,
        format!(
            r#"{{"callback":"http://127.0.0.1:9/l","x":{}}}"#,
            nested(126)
        ),
        Some((400, "LIMIT_EXCEEDED")),
    )
    .await;
    s.post(
        "deep order listener",
        &format!("{ORDERING}/listener/productOrderStateChangeEvent"),
        w,
        format!(
            r#"{{"eventType":"ProductOrderStateChangeEvent","event":{}}}"#,
            nested(126)
        ),
        Some((400, "LIMIT_EXCEEDED")),
    )
    .await;

    // Oversized descriptions: 100 bodies of 270 KB (refused while they stream in), and
    // descriptions over the text limit inside a small body.
    for i in 0..100 {
        let mut body = quote_of(vec![item("mobile-l")]);
        body["description"] = json!("d".repeat(270_000));
        s.post(
            &format!("270 KB description #{i}"),
            &quotes,
            w,
            body.to_string(),
            Some((413, "PAYLOAD_TOO_LARGE")),
        )
        .await;
    }
    let mut body = quote_of(vec![item("mobile-l")]);
    body["description"] = json!("d".repeat(20_000));
    s.post(
        "20 KB description",
        &quotes,
        w,
        body.to_string(),
        Some((400, "LIMIT_EXCEEDED")),
    )
    .await;

    // Huge item counts.
    let bundles = quote_of(vec![item("home-bundle"); 15_000]);
    s.post(
        "15,000 bundle items",
        &quotes,
        w,
        bundles.to_string(),
        Some((413, "PAYLOAD_TOO_LARGE")),
    )
    .await;
    s.post(
        "501 items",
        &quotes,
        w,
        quote_of(vec![item("mobile-s"); 501]).to_string(),
        Some((400, "LIMIT_EXCEEDED")),
    )
    .await;
    s.post(
        "500 bundle items",
        &quotes,
        w,
        quote_of(vec![item("home-bundle"); 500]).to_string(),
        Some((422, "QUOTE_TOO_LARGE")),
    )
    .await;
    let mut nine = item("mobile-s");
    for _ in 0..8 {
        nine = json!({"productOffering": {"id": "mobile-s"}, "quoteItem": [nine]});
    }
    s.post(
        "items nested 9 deep",
        &quotes,
        w,
        quote_of(vec![nine]).to_string(),
        Some((400, "LIMIT_EXCEEDED")),
    )
    .await;
    let distinct: Vec<Value> = (0..41).map(|i| item(&format!("unknown-{i}"))).collect();
    s.post(
        "41 distinct offerings",
        &quotes,
        w,
        quote_of(distinct).to_string(),
        Some((422, "QUOTE_TOO_LARGE")),
    )
    .await;
    s.post(
        "bundle bomb",
        &quotes,
        w,
        quote_of(vec![item("bomb-0")]).to_string(),
        Some((422, "QUOTE_TOO_LARGE")),
    )
    .await;

    // Overflowing quantities: 1e6 × 1e6 × 1e6 units of a 1e16 price.
    let mut chain = json!({"quantity": 1_000_000, "productOffering": {"id": "hostile-big"}});
    for _ in 0..2 {
        chain = json!({"quantity": 1_000_000, "productOffering": {"id": "hostile-big"}, "quoteItem": [chain]});
    }
    s.post(
        "quantity chain × 1e16",
        &quotes,
        w,
        quote_of(vec![chain]).to_string(),
        Some((422, "AMOUNT_OUT_OF_RANGE")),
    )
    .await;
    let mut too_many = item("mobile-s");
    too_many["quantity"] = json!(1_000_001);
    s.post(
        "quantity over the limit",
        &quotes,
        w,
        quote_of(vec![too_many]).to_string(),
        Some((400, "INVALID_INPUT")),
    )
    .await;

    // Stacked discounts: six requested 15 % discounts are 90 % off: approval needs the scope.
    let mut stacked = item("mobile-l");
    stacked["quoteItemPrice"] = json!([{"priceType": "recurring", "recurringChargePeriod": "month",
        "priceAlteration": vec![json!({"priceType": "discount", "price": {"percentage": 15}}); 6]}]);
    let (status, created) = s
        .post(
            "six stacked 15 % discounts",
            &quotes,
            w,
            quote_of(vec![stacked]).to_string(),
            Some((201, "")),
        )
        .await;
    if status == 201 {
        let id = created["id"].as_str().unwrap_or_default();
        s.patch(
            "approving 90 % off without quote.approve",
            &format!("{quotes}/{id}"),
            w,
            "application/merge-patch+json",
            json!({"state": "approved"}).to_string(),
            Some((403, "MISSING_SCOPE")),
        )
        .await;
    }

    // Large quotes: 300 lines each (the issue's legitimate 17 KB request, ~280 KB priced),
    // each approved and accepted; one over the budget.
    let mut accepted = Vec::new();
    let lines = || quote_of(vec![item("mobile-l"); 300]);
    for i in 0..large_quotes {
        let (status, created) = s
            .post(
                &format!("300-line quote #{i}"),
                &quotes,
                w,
                lines().to_string(),
                Some((201, "")),
            )
            .await;
        let Some(id) = created["id"]
            .as_str()
            .filter(|_| status == 201)
            .map(str::to_owned)
        else {
            continue;
        };
        for state in ["approved", "accepted"] {
            s.patch(
                &format!("300-line quote #{i} {state}"),
                &format!("{quotes}/{id}"),
                &s.approver,
                "application/merge-patch+json",
                json!({"state": state}).to_string(),
                Some((200, "")),
            )
            .await;
        }
        accepted.push(id);
    }
    let mut over = lines();
    over["note"] = Value::Array(
        (0..10)
            .map(|n| json!({"id": n.to_string(), "text": "n".repeat(9_000)}))
            .collect(),
    );
    s.post(
        "300 lines and 90 KB of notes",
        &quotes,
        w,
        over.to_string(),
        Some((422, "QUOTE_TOO_LARGE")),
    )
    .await;

    // A listing of large quotes: a page within its byte budget, never 500 MB.
    let (status, page) = {
        let request = s.request(Method::GET, &format!("{quotes}?limit=1000"), w);
        s.send("GET /quote?limit=1000", request, Some((200, "")))
            .await
    };
    if status == 200 && large_quotes > 14 {
        let n = page.as_array().map_or(0, Vec::len);
        if n >= large_quotes {
            s.outcomes.lock().await.push(Outcome {
                label: "page byte budget".to_owned(),
                status,
                code: None,
                problem: Some(format!("{n} large quotes in one page")),
            });
        }
    }

    // JSON Patch amplification: 18 copies of the quote into itself.
    let (status, created) = s
        .post(
            "quote to patch",
            &quotes,
            w,
            quote_of(vec![item("mobile-l"); 20]).to_string(),
            Some((201, "")),
        )
        .await;
    if status == 201 {
        let id = created["id"].as_str().unwrap_or_default();
        let mut ops = vec![json!({"op": "add", "path": "/c0", "value": {}})];
        ops.extend((1..=18).map(|i| json!({"op": "copy", "from": "", "path": format!("/c{i}")})));
        s.patch(
            "18 copy operations",
            &format!("{quotes_v5}/{id}"),
            w,
            "application/json-patch+json",
            Value::Array(ops).to_string(),
            Some((422, "QUOTE_TOO_LARGE")),
        )
        .await;
        let ops: Vec<Value> = (0..101)
            .map(|_| json!({"op": "test", "path": "/id", "value": id}))
            .collect();
        s.patch(
            "101 operations",
            &format!("{quotes_v5}/{id}"),
            w,
            "application/json-patch+json",
            Value::Array(ops).to_string(),
            Some((400, "LIMIT_EXCEEDED")),
        )
        .await;
        let request = s.request(Method::GET, &format!("{quotes}/{id}"), w);
        let (_, after) = s
            .send("the patched quote is unchanged", request, Some((200, "")))
            .await;
        if after
            .as_object()
            .is_some_and(|q| q.keys().any(|k| k.starts_with('c')))
        {
            s.outcomes.lock().await.push(Outcome {
                label: "JSON Patch atomicity".to_owned(),
                status: 200,
                code: None,
                problem: Some("a refused patch changed the quote".to_owned()),
            });
        }
    }

    // Hostile TMF620 listener events.
    let listener = format!("{CATALOG}/listener/productOfferingPriceAttributeValueChangeEvent");
    let event = |price: Value| {
        json!({"eventId": format!("hostile-{}", uuid_like()), "eventType": "ProductOfferingPriceAttributeValueChangeEvent",
        "event": {"productOfferingPrice": price}}).to_string()
    };
    let price = |extra: (&str, Value)| {
        let mut p = json!({"id": "hostile-listener-price", "lastUpdate": "2026-02-01T00:00:00Z", "priceType": "oneTime",
                           "price": {"unit": "EUR", "value": 10}});
        p[extra.0] = extra.1;
        p
    };
    let c = &s.catalog;
    s.post(
        "300 KB listener event",
        &listener,
        c,
        event(price(("blob", json!("b".repeat(300_000))))),
        Some((413, "PAYLOAD_TOO_LARGE")),
    )
    .await;
    s.post(
        "100 KB listener event",
        &listener,
        c,
        event(price(("blob", json!("b".repeat(100_000))))),
        Some((413, "PAYLOAD_TOO_LARGE")),
    )
    .await;
    s.post(
        "70 KB catalog entry",
        &listener,
        c,
        event(price(("blob", json!("b".repeat(70_000))))),
        Some((413, "PAYLOAD_TOO_LARGE")),
    )
    .await;
    s.post(
        "price of 17 digits",
        &listener,
        c,
        event(price((
            "price",
            json!({"unit": "EUR", "value": 1.2345678901234567}),
        ))),
        Some((400, "LIMIT_EXCEEDED")),
    )
    .await;
    s.post(
        "deep listener event",
        &listener,
        c,
        event(price((
            "x",
            serde_json::from_str(&nested(60)).expect("json"),
        ))),
        Some((400, "LIMIT_EXCEEDED")),
    )
    .await;
    s.post(
        "listener event with a 300-character id",
        &listener,
        c,
        event(price(("id", json!("p".repeat(300))))),
        Some((400, "LIMIT_EXCEEDED")),
    )
    .await;
    s.post(
        "valid listener event",
        &listener,
        c,
        event(price(("name", json!("fine")))),
        Some((201, "")),
    )
    .await;

    accepted
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    )
}

/// The other tenant: create, read, change, approve and accept quotes until told to stop.
async fn normal_traffic(
    target: Target,
    token: String,
    done: Arc<AtomicBool>,
) -> (Vec<Outcome>, Vec<String>) {
    let session = Session {
        target,
        writer: token.clone(),
        approver: token.clone(),
        catalog: token,
        outcomes: Mutex::new(Vec::new()),
    };
    let quotes = format!("{QUOTES}/quote");
    let mut accepted = Vec::new();
    let mut round = 0;
    while !done.load(Ordering::Relaxed) || round < 3 {
        round += 1;
        let body = quote_of(vec![item("mobile-s"), item("fibre-1g")]);
        let (status, created) = session
            .post(
                &format!("normal create #{round}"),
                &quotes,
                &session.writer,
                body.to_string(),
                Some((201, "")),
            )
            .await;
        if status == 201
            && let Some(id) = created["id"].as_str()
        {
            let path = format!("{quotes}/{id}");
            let request = session.request(Method::GET, &path, &session.writer);
            session
                .send(&format!("normal get #{round}"), request, Some((200, "")))
                .await;
            for (what, patch) in [
                ("describe", json!({"description": "normal"})),
                ("approve", json!({"state": "approved"})),
                ("accept", json!({"state": "accepted"})),
            ] {
                session
                    .patch(
                        &format!("normal {what} #{round}"),
                        &path,
                        &session.approver,
                        "application/merge-patch+json",
                        patch.to_string(),
                        Some((200, "")),
                    )
                    .await;
            }
            accepted.push(id.to_owned());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (
        std::mem::take(&mut *session.outcomes.lock().await),
        accepted,
    )
}

/// An outbox row as [`pipeline_problems`] reads it: id, type, created, published, parked.
type OutboxRow = (String, String, i64, Option<i64>, Option<String>);

/// Most time between an event's commit and its publication on its queue that the pipeline
/// allows for the other tenant's events while the hostile input runs (issue 14).
pub const MAX_NORMAL_EVENT_LAG: Duration = Duration::from_secs(5);

/// What the pipeline did with the suite's events, read from `q2c local`'s database once the
/// suite is over: every problem found (an event of `tenant` not published, parked, or
/// published more than [`MAX_NORMAL_EVENT_LAG`] after its commit; an accepted quote of
/// `orders_of` whose order has not reached order management), waiting up to `wait` for the
/// orders still on their way. Commit time is the event's `created_at` (written in the
/// quote's transaction), publication its `published_at` (set once the queue took it).
///
/// # Panics
/// When the database cannot be read.
pub async fn pipeline_problems(
    data_dir: &std::path::Path,
    tenant: &str,
    orders_of: &[(String, String)],
    wait: Duration,
) -> Vec<String> {
    let conn = rusqlite::Connection::open(data_dir.join(q2c_embedded::local::DATABASE_FILE))
        .expect("the data directory's database");
    let mut problems = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let mut dispatched = conn
            .prepare("SELECT tenant, quote_id FROM orders WHERE dispatch_status = 'dispatched'")
            .expect("orders query");
        let done: std::collections::BTreeSet<(String, String)> = dispatched
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("orders")
            .collect::<Result<_, _>>()
            .expect("orders rows");
        let missing: Vec<&(String, String)> =
            orders_of.iter().filter(|q| !done.contains(*q)).collect();
        if missing.is_empty() {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            problems.extend(missing.into_iter().map(|(t, q)| {
                format!("the order of accepted quote {t}/{q} never reached order management")
            }));
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let mut events = conn
        .prepare(
            "SELECT event_id, event_type, created_at, published_at, parked_reason
             FROM outbox WHERE tenant = ?1",
        )
        .expect("outbox query");
    let rows: Vec<OutboxRow> = events
        .query_map([tenant], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .expect("outbox")
        .collect::<Result<_, _>>()
        .expect("outbox rows");
    assert!(!rows.is_empty(), "{tenant} wrote events");
    let max_lag = i64::try_from(MAX_NORMAL_EVENT_LAG.as_nanos()).unwrap_or(i64::MAX);
    for (id, event_type, created, published, parked) in rows {
        match (published, parked) {
            (_, Some(reason)) => problems.push(format!("{event_type} {id} parked: {reason}")),
            (None, None) => problems.push(format!("{event_type} {id} never published")),
            (Some(at), None) if at - created > max_lag => problems.push(format!(
                "{event_type} {id} published {} ms after its commit",
                (at - created) / 1_000_000
            )),
            _ => {}
        }
    }
    problems
}
