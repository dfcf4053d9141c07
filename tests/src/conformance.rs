//! Official-schema conformance of everything the black-box suites see.
//!
//! `Recorder` sits between the suites and `q2c local` as a recording HTTP proxy: each
//! request is forwarded as is, and each JSON response is validated against the schema the
//! official document of its API and version gives it ([`response_schema`]; the documents are
//! `q2c_testkit::official`'s verbatim copies, v5 discriminators resolved by `@type`). Events
//! the suites read from queues go through [`event_problems`]. Every failure names the request,
//! the document, the schema and the schema path; a [`crate::TestApp`] that recorded any fails
//! its test when it is dropped.
//!
//! Not validated: responses narrowed by `fields=` (a selection omits what the document
//! requires, as TMF630 intends), the OpenAPI documents themselves and `/health` (no official
//! schema), and the routes of APIs with their own suites (TMF637 product inventory:
//! `q2c_testkit::tmf637`).
//!
//! `Q2C_CONFORMANCE=report` prints the failures instead of failing (to count them).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use q2c_testkit::official::{self, Doc};
use serde_json::Value;

/// What the proxy found so far, shared by the proxy and the app.
pub type Failures = Arc<Mutex<Record>>;

/// The responses checked and the problems found.
#[derive(Debug, Default)]
pub struct Record {
    /// Responses validated against a schema.
    pub checked: usize,
    /// What was not valid, one line each.
    pub problems: Vec<String>,
}

/// Largest request body the proxy forwards (the API refuses far smaller ones itself).
const MAX_FORWARDED_BODY: usize = 16 * 1024 * 1024;

/// Where a response body's schema comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The official document.
    pub doc: Doc,
    /// The schema's name in it.
    pub schema: &'static str,
    /// The body is an array of that schema (a list).
    pub list: bool,
}

const QUOTE_V4: &str = "/tmf-api/quoteManagement/v4";
const QUOTE_V5: &str = "/tmf-api/quoteManagement/v5";
const CATALOG_V4: &str = "/tmf-api/productCatalogManagement/v4";
const ORDERING_V4: &str = "/tmf-api/productOrderingManagement/v4";

/// The schema of the response to `method path` with `status` (`None`: not validated).
pub fn response_schema(method: &str, path: &str, status: u16) -> Option<Expected> {
    let (doc, rest) = if let Some(rest) = path.strip_prefix(QUOTE_V4) {
        (Doc::Tmf648V4, rest)
    } else if let Some(rest) = path.strip_prefix(QUOTE_V5) {
        (Doc::Tmf648V5, rest)
    } else if let Some(rest) = path.strip_prefix(CATALOG_V4) {
        (Doc::Tmf620V4, rest)
    } else if let Some(rest) = path.strip_prefix(ORDERING_V4) {
        (Doc::Tmf622V4, rest)
    } else if path == "/health" || path.starts_with("/tmf-api/productInventory") {
        return None;
    } else {
        // Any other path is an unknown route: a TMF630 error of the quote API.
        (Doc::Tmf648V4, "")
    };
    let one = |schema| {
        Some(Expected {
            doc,
            schema,
            list: false,
        })
    };
    if status >= 400 {
        return one("Error");
    }
    if rest == "/openapi.json" || rest.starts_with("/listener") {
        return None;
    }
    let mut segments = rest.trim_start_matches('/').split('/');
    let collection = segments.next().unwrap_or_default();
    let single = segments.next().is_some();
    let schema = match (doc, collection) {
        (Doc::Tmf648V4 | Doc::Tmf648V5, "quote") => "Quote",
        (Doc::Tmf648V5, "hub") => "Hub",
        (_, "hub") => "EventSubscription",
        (Doc::Tmf620V4, "productOffering") => "ProductOffering",
        (Doc::Tmf620V4, "productOfferingPrice") => "ProductOfferingPrice",
        (Doc::Tmf622V4, "productOrder") => "ProductOrder",
        _ => return None,
    };
    Some(Expected {
        doc,
        schema,
        list: method == "GET" && !single,
    })
}

/// The problems of `body` against `expected` (empty: valid).
pub fn problems(expected: &Expected, body: &Value) -> Vec<String> {
    if expected.list {
        let Some(items) = body.as_array() else {
            return vec![format!(
                "{} {}: a list is a JSON array",
                expected.doc.file(),
                expected.schema
            )];
        };
        items
            .iter()
            .enumerate()
            .flat_map(|(i, item)| {
                official::errors(expected.doc, expected.schema, item)
                    .into_iter()
                    .map(move |e| format!("[{i}] {e}"))
            })
            .collect()
    } else {
        official::errors(expected.doc, expected.schema, body)
    }
}

/// The problems of an event envelope as a subscriber or queue receives it, against the
/// official schema its `eventType` names: TMF648 v4 or v5 (`v5`) for quote events, TMF622 v4
/// for order events, TMF620 v4 for catalog events. Unknown event types are a problem.
pub fn event_problems(envelope: &Value, v5: bool) -> Vec<String> {
    let Some(event_type) = envelope["eventType"].as_str() else {
        return vec![format!("an event without eventType: {envelope}")];
    };
    let doc = if event_type.starts_with("Quote") {
        if v5 { Doc::Tmf648V5 } else { Doc::Tmf648V4 }
    } else if event_type.starts_with("ProductOrder") {
        Doc::Tmf622V4
    } else if event_type.starts_with("ProductOffering") {
        Doc::Tmf620V4
    } else {
        return Vec::new();
    };
    if official::has_schema(doc, event_type) {
        official::errors(doc, event_type, envelope)
    } else {
        vec![format!("{} has no event {event_type}", doc.file())]
    }
}

/// Panics with every problem of `envelope` (see [`event_problems`]).
pub fn assert_event(envelope: &Value, v5: bool) {
    let problems = event_problems(envelope, v5);
    assert!(
        problems.is_empty(),
        "event not valid against the official schema:\n{}\n{envelope}",
        problems.join("\n")
    );
}

/// Whether failures are only printed (`Q2C_CONFORMANCE=report`).
pub fn report_only() -> bool {
    std::env::var("Q2C_CONFORMANCE").is_ok_and(|v| v == "report")
}

/// The recording proxy in front of `upstream`.
#[derive(Clone)]
struct Recorder {
    upstream: String,
    client: reqwest::Client,
    failures: Failures,
}

/// Starts the recording proxy on `listener` in front of `upstream` (`http://host:port`).
pub fn start_proxy(listener: tokio::net::TcpListener, upstream: String, failures: Failures) {
    let recorder = Recorder {
        upstream,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("proxy client"),
        failures,
    };
    let app = axum::Router::new()
        .fallback(forward)
        .with_state(recorder)
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
}

fn hop_by_hop(name: &header::HeaderName) -> bool {
    [
        header::HOST,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::CONNECTION,
    ]
    .contains(name)
}

async fn forward(State(recorder): State<Recorder>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let method = parts.method.clone();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), ToString::to_string);
    let bytes = match axum::body::to_bytes(body, MAX_FORWARDED_BODY).await {
        Ok(bytes) => bytes,
        Err(e) => {
            return failed(
                &recorder,
                &method,
                &path_and_query,
                &format!("reading the request: {e}"),
            );
        }
    };
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            headers.append(name.clone(), value.clone());
        }
    }
    let sent = recorder
        .client
        .request(
            method.clone(),
            format!("{}{path_and_query}", recorder.upstream),
        )
        .headers(headers)
        .body(bytes)
        .send()
        .await;
    let upstream = match sent {
        Ok(response) => response,
        Err(e) => {
            return failed(
                &recorder,
                &method,
                &path_and_query,
                &format!("forwarding: {e}"),
            );
        }
    };
    let status = upstream.status();
    let mut response_headers = HeaderMap::new();
    for (name, value) in upstream.headers() {
        if !hop_by_hop(name) {
            response_headers.append(name.clone(), value.clone());
        }
    }
    let body = match upstream.bytes().await {
        Ok(body) => body,
        Err(e) => {
            return failed(
                &recorder,
                &method,
                &path_and_query,
                &format!("reading the response: {e}"),
            );
        }
    };
    check(
        &recorder.failures,
        method.as_str(),
        &path_and_query,
        status.as_u16(),
        &response_headers,
        &body,
    );
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = response_headers;
    response
}

fn failed(recorder: &Recorder, method: &axum::http::Method, path: &str, why: &str) -> Response {
    let message = format!("{method} {path}: proxy: {why}");
    recorder
        .failures
        .lock()
        .expect("failures")
        .problems
        .push(message.clone());
    let mut response = Response::new(Body::from(message));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}

/// Validates one response and records what is wrong with it.
fn check(
    failures: &Failures,
    method: &str,
    path_and_query: &str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    if body.is_empty() || query.split('&').any(|pair| pair.starts_with("fields=")) {
        return;
    }
    let Some(expected) = response_schema(method, path, status) else {
        return;
    };
    let json_typed = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let found = match serde_json::from_slice::<Value>(body) {
        Ok(value) if json_typed => problems(&expected, &value),
        Ok(_) => vec![format!(
            "a {status} JSON body is not typed application/json"
        )],
        Err(_) if status >= 400 || json_typed => {
            vec![format!(
                "a {status} body is not JSON: {}",
                String::from_utf8_lossy(body)
            )]
        }
        Err(_) => Vec::new(),
    };
    let mut record = failures.lock().expect("failures");
    record.checked += 1;
    for problem in found {
        record
            .problems
            .push(format!("{method} {path_and_query} -> {status}: {problem}"));
    }
}

/// Fails (or, in report mode, prints) the failures recorded for one app.
pub fn conclude(failures: &Failures) {
    let record = std::mem::take(&mut *failures.lock().expect("failures"));
    if report_only() {
        eprintln!(
            "CONFORMANCE checked {} response(s), {} problem(s)",
            record.checked,
            record.problems.len()
        );
    }
    let failures = record.problems;
    if failures.is_empty() {
        return;
    }
    let text = format!(
        "{} response(s) not valid against the official documents:\n{}",
        failures.len(),
        failures.join("\n")
    );
    if report_only() {
        eprintln!("CONFORMANCE {text}");
    } else if !std::thread::panicking() {
        panic!("{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_map_to_the_schema_of_their_api_and_version() {
        let quote = response_schema("GET", "/tmf-api/quoteManagement/v5/quote", 200).unwrap();
        assert_eq!(
            (quote.doc, quote.schema, quote.list),
            (Doc::Tmf648V5, "Quote", true)
        );
        let one = response_schema("PATCH", "/tmf-api/quoteManagement/v4/quote/x", 200).unwrap();
        assert_eq!(
            (one.doc, one.schema, one.list),
            (Doc::Tmf648V4, "Quote", false)
        );
        let error = response_schema(
            "GET",
            "/tmf-api/productOrderingManagement/v4/productOrder",
            404,
        );
        assert_eq!(
            error.map(|e| (e.doc, e.schema)),
            Some((Doc::Tmf622V4, "Error"))
        );
        assert_eq!(response_schema("GET", "/health", 200), None);
        assert_eq!(
            response_schema("POST", "/tmf-api/quoteManagement/v5/hub", 201).map(|e| e.schema),
            Some("Hub")
        );
    }
}
