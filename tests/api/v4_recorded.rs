//! The v4 contract, recorded: a v4 client's requests and the responses of the code as it was
//! before v5 existed (`tests/fixtures/v4-recorded/*.json`), replayed against today's server and
//! compared byte for byte after normalising the dynamic parts.
//!
//! Normalisation rule (applied to the recorded and the replayed exchange alike):
//! - every UUID becomes `<uuid:N>`, N numbering distinct UUIDs in order of first appearance in
//!   the scenario (so "the same id as before" is still checked);
//! - every RFC 3339 date-time becomes `<date>`;
//! - the server's `http://127.0.0.1:<port>` becomes `<base>`;
//! - the response headers `date`, `content-length` and `x-correlation-id` are dropped (the
//!   correlation id is random; the length follows the port's digits). Every other header is kept,
//!   `ETag` included: versions are deterministic.
//!
//! Re-record only on purpose (the point is that v4 does not change):
//! `Q2C_RECORD_V4=1 cargo test -p q2c-tests --test api v4_recorded`.

use std::collections::HashMap;
use std::path::PathBuf;

use q2c_service::Scope;
use q2c_tests::{QUOTES, TestApp, quote_body, spawn_app};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One request and its response, normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Exchange {
    name: String,
    method: String,
    path: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    request_headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request_body: Option<String>,
    status: u16,
    response_headers: Vec<(String, String)>,
    response_body: String,
}

/// Runs requests and normalises what goes in and out.
struct Recorder {
    app: TestApp,
    uuids: HashMap<String, usize>,
    exchanges: Vec<Exchange>,
}

/// Which token a request carries.
#[derive(Clone, Copy)]
enum Token {
    Admin,
    ReadOnly,
    None,
}

impl Recorder {
    /// Starts a fresh app to record against.
    async fn start() -> Self {
        Recorder {
            app: spawn_app().await,
            uuids: HashMap::new(),
            exchanges: Vec::new(),
        }
    }

    /// Sends a request; returns the response body as JSON (`Null` when empty).
    async fn send(
        &mut self,
        name: &str,
        method: reqwest::Method,
        path: &str,
        token: Token,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Value {
        let url = format!("{}{path}", self.app.base);
        let mut request = self.app.client.request(method.clone(), url);
        match token {
            Token::Admin => request = request.bearer_auth(self.app.admin("acme")),
            Token::ReadOnly => {
                request = request.bearer_auth(self.app.token("acme", &[Scope::QuoteRead]));
            }
            Token::None => {}
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        if let Some(body) = body {
            request = request.body(body.to_owned());
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let mut response_headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter(|(k, _)| !["date", "content-length", "x-correlation-id"].contains(&k.as_str()))
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or("<binary>").to_owned(),
                )
            })
            .collect();
        response_headers.sort();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        let exchange = Exchange {
            name: name.to_owned(),
            method: method.to_string(),
            path: self.normalise(path),
            request_headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), self.normalise(v)))
                .collect(),
            request_body: body.map(|b| self.normalise(b)),
            status,
            response_headers: response_headers
                .into_iter()
                .map(|(k, v)| {
                    let v = if k == "link" {
                        self.normalise_link(&v)
                    } else {
                        self.normalise(&v)
                    };
                    (k, v)
                })
                .collect(),
            response_body: self.normalise(&text),
        };
        self.exchanges.push(exchange);
        json
    }

    /// `GET <path>` with the admin token.
    async fn get(&mut self, name: &str, path: &str) -> Value {
        let get = reqwest::Method::GET;
        self.send(name, get, path, Token::Admin, &[], None).await
    }

    /// `DELETE <path>` with the admin token.
    async fn delete(&mut self, name: &str, path: &str) -> Value {
        let delete = reqwest::Method::DELETE;
        self.send(name, delete, path, Token::Admin, &[], None).await
    }

    /// `POST <path>` of a JSON body with the admin token.
    async fn post(&mut self, name: &str, path: &str, body: &Value) -> Value {
        let text = body.to_string();
        self.send(
            name,
            reqwest::Method::POST,
            path,
            Token::Admin,
            &[("content-type", "application/json")],
            Some(&text),
        )
        .await
    }

    /// `POST <collection>` of a JSON body with the admin token; returns the path of what it
    /// created (`<collection>/<id>`).
    async fn created(&mut self, name: &str, collection: &str, body: &Value) -> String {
        let created = self.post(name, collection, body).await;
        format!("{collection}/{}", created["id"].as_str().expect("id"))
    }

    /// `PATCH <path>` of a JSON merge patch with the admin token.
    async fn merge_patch(&mut self, name: &str, path: &str, body: &Value) -> Value {
        self.send_merge_patch(name, path, body, None).await
    }

    /// `PATCH <path>` of a JSON merge patch with the admin token and `If-Match: <etag>`.
    async fn merge_patch_if_match(
        &mut self,
        name: &str,
        path: &str,
        body: &Value,
        etag: &str,
    ) -> Value {
        self.send_merge_patch(name, path, body, Some(etag)).await
    }

    async fn send_merge_patch(
        &mut self,
        name: &str,
        path: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Value {
        let text = body.to_string();
        let mut headers = vec![("content-type", "application/merge-patch+json")];
        if let Some(etag) = if_match {
            headers.push(("if-match", etag));
        }
        self.send(
            name,
            reqwest::Method::PATCH,
            path,
            Token::Admin,
            &headers,
            Some(&text),
        )
        .await
    }

    /// A `Link` header with its opaque cursor shown as what it encodes, normalised.
    fn normalise_link(&mut self, link: &str) -> String {
        let Some((head, rest)) = link.split_once("cursor=") else {
            return self.normalise(link);
        };
        let (cursor, tail) = rest.split_once('>').unwrap_or((rest, ""));
        let decoded = match q2c_service::listing::ListCursor::decode(cursor) {
            Ok(c) => format!(
                "{}|{}",
                c.date
                    .and_then(|d| d
                        .format(&time::format_description::well_known::Rfc3339)
                        .ok())
                    .unwrap_or_default(),
                c.id
            ),
            Err(e) => e,
        };
        let decoded = self.normalise(&decoded);
        format!("{}cursor=<{decoded}>>{tail}", self.normalise(head))
    }

    fn normalise(&mut self, text: &str) -> String {
        let text = text.replace(&self.app.base, "<base>");
        let text = replace_dates(&text);
        self.replace_uuids(&text)
    }

    fn replace_uuids(&mut self, text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < bytes.len() {
            if i + 36 <= bytes.len() && is_uuid(&bytes[i..i + 36]) {
                let uuid = &text[i..i + 36];
                let next = self.uuids.len() + 1;
                let n = *self.uuids.entry(uuid.to_owned()).or_insert(next);
                out.push_str(&format!("<uuid:{n}>"));
                i += 36;
            } else {
                let c = text[i..].chars().next().expect("a char");
                out.push(c);
                i += c.len_utf8();
            }
        }
        out
    }
}

fn is_uuid(b: &[u8]) -> bool {
    b.iter().enumerate().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => *c == b'-',
        _ => c.is_ascii_hexdigit(),
    })
}

/// Replaces `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` with `<date>`.
fn replace_dates(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if let Some(len) = date_at(&bytes[i..]) {
            out.push_str("<date>");
            i += len;
        } else {
            let c = text[i..].chars().next().expect("a char");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn date_at(b: &[u8]) -> Option<usize> {
    let shape = b"dddd-dd-ddTdd:dd:dd";
    if b.len() < shape.len() {
        return None;
    }
    let fixed = shape.iter().zip(b).all(|(s, c)| match s {
        b'd' => c.is_ascii_digit(),
        s => s == c,
    });
    if !fixed {
        return None;
    }
    let mut i = shape.len();
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    match b.get(i) {
        Some(b'Z') => Some(i + 1),
        Some(b'+' | b'-') if b.len() >= i + 6 => Some(i + 6),
        _ => Some(i),
    }
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/v4-recorded")
}

impl Recorder {
    /// Writes the scenario (when recording) or compares it with the recording.
    fn check(&self, scenario: &str) {
        let exchanges = &self.exchanges;
        let file = fixtures_dir().join(format!("{scenario}.json"));
        if std::env::var_os("Q2C_RECORD_V4").is_some() {
            std::fs::create_dir_all(fixtures_dir()).expect("fixtures dir");
            let text = serde_json::to_string_pretty(exchanges).expect("fixture JSON");
            std::fs::write(&file, text + "\n").expect("write fixture");
            return;
        }
        let text = std::fs::read_to_string(&file).expect("the recorded fixture");
        let recorded: Vec<Exchange> = serde_json::from_str(&text).expect("fixture JSON");
        assert_eq!(
            recorded.len(),
            exchanges.len(),
            "{scenario}: number of exchanges"
        );
        for (want, got) in recorded.iter().zip(exchanges) {
            assert_eq!(want, got, "{scenario}: exchange {}", want.name);
        }
    }
}

#[tokio::test]
async fn v4_quote_lifecycle_replays_as_recorded() {
    let mut r = Recorder::start().await;
    let q = QUOTES;
    let body = json!({
        "externalId": "crm-opportunity-42",
        "description": "Home fibre and two lines",
        "relatedParty": [{"id": "cust-1", "role": "customer", "@referredType": "Individual"}],
        "note": [{"id": "n1", "text": "call after 6pm"}],
        "quoteItem": [
            {"action": "add", "quantity": 1, "productOffering": {"id": "fibre-1g"}},
            {"action": "add", "quantity": 2, "productOffering": {"id": "mobile-l"}}
        ]
    });
    let path = r.created("create", &format!("{q}/quote"), &body).await;
    r.get("get", &path).await;
    r.get(
        "get with fields",
        &format!("{path}?fields=state,quoteTotalPrice"),
    )
    .await;
    let described =
        json!({"description": "Fibre and lines", "note": [{"id": "n1", "text": "call after 7pm"}]});
    r.merge_patch_if_match(
        "patch description with If-Match",
        &path,
        &described,
        "\"1\"",
    )
    .await;
    let items = json!({"quoteItem": [
        {"action": "add", "quantity": 1, "productOffering": {"id": "mobile-l"}}
    ]});
    r.merge_patch("patch items re-prices", &path, &items).await;
    r.merge_patch("to pending", &path, &json!({"state": "pending"}))
        .await;
    r.merge_patch("back to inProgress", &path, &json!({"state": "inProgress"}))
        .await;
    r.merge_patch("approve", &path, &json!({"state": "approved"}))
        .await;
    r.merge_patch("accept", &path, &json!({"state": "accepted"}))
        .await;
    r.delete("delete accepted is 409", &path).await;

    let second = r
        .created(
            "create second",
            &format!("{q}/quote"),
            &quote_body("mobile-s"),
        )
        .await;
    r.merge_patch("cancel", &second, &json!({"state": "cancelled"}))
        .await;
    let third = r
        .created(
            "create third",
            &format!("{q}/quote"),
            &quote_body("mobile-s"),
        )
        .await;
    r.send(
        "delete",
        reqwest::Method::DELETE,
        &third,
        Token::Admin,
        &[("if-match", "\"1\"")],
        None,
    )
    .await;
    r.get("get deleted is 404", &third).await;
    r.check("lifecycle");
}

#[tokio::test]
async fn v4_listing_replays_as_recorded() {
    let mut r = Recorder::start().await;
    let q = QUOTES;
    for (external, offering) in [
        ("crm-1", "fibre-1g"),
        ("crm-2", "mobile-l"),
        ("crm-3", "mobile-s"),
    ] {
        let mut body = quote_body(offering);
        body["externalId"] = json!(external);
        r.post("create", &format!("{q}/quote"), &body).await;
    }
    for (name, query) in [
        ("list all", ""),
        ("list page", "?offset=1&limit=1"),
        ("list fields", "?fields=externalId,state"),
        ("filter externalId", "?externalId=crm-2"),
        ("filter state", "?state=inProgress&fields=state"),
        ("filter relatedParty", "?relatedParty.id=cust-1&fields=id"),
        ("filter nothing", "?state=accepted"),
        ("unknown parameter is 400", "?colour=red"),
        ("bad limit is 400", "?limit=0"),
    ] {
        r.get(name, &format!("{q}/quote{query}")).await;
    }
    r.check("listing");
}

#[tokio::test]
async fn v4_hub_replays_as_recorded() {
    let mut r = Recorder::start().await;
    let q = QUOTES;
    let subscription =
        json!({"callback": "local:subscriber-acme", "query": "eventType=QuoteStateChangeEvent"});
    let hub = r
        .created("hub create", &format!("{q}/hub"), &subscription)
        .await;
    r.delete("hub delete", &hub).await;
    r.delete("hub delete again is 404", &hub).await;
    r.post(
        "hub without callback is 400",
        &format!("{q}/hub"),
        &json!({"query": "eventType=QuoteStateChangeEvent"}),
    )
    .await;
    r.check("hub");
}

#[tokio::test]
async fn v4_errors_replay_as_recorded() {
    let mut r = Recorder::start().await;
    let q = QUOTES;
    let quotes = format!("{q}/quote");
    let json_type = [("content-type", "application/json")];
    r.send(
        "malformed JSON is 400",
        reqwest::Method::POST,
        &quotes,
        Token::Admin,
        &json_type,
        Some("{\"quoteItem\": ["),
    )
    .await;
    r.post(
        "forbidden field is 400",
        &quotes,
        &json!({"state": "approved", "quoteItem": []}),
    )
    .await;
    r.post("no items is 400", &quotes, &json!({"quoteItem": []}))
        .await;
    r.send(
        "no token is 401",
        reqwest::Method::GET,
        &quotes,
        Token::None,
        &[],
        None,
    )
    .await;
    r.send(
        "read-only token cannot create: 403",
        reqwest::Method::POST,
        &quotes,
        Token::ReadOnly,
        &json_type,
        Some(&quote_body("mobile-s").to_string()),
    )
    .await;
    r.get("unknown quote is 404", &format!("{quotes}/nope"))
        .await;
    r.post(
        "unknown offering is 422",
        &quotes,
        &json!({"quoteItem": [{"productOffering": {"id": "no-such"}}]}),
    )
    .await;
    let path = r.created("create", &quotes, &quote_body("mobile-s")).await;
    r.merge_patch_if_match(
        "stale If-Match is 412",
        &path,
        &json!({"description": "x"}),
        "\"7\"",
    )
    .await;
    r.merge_patch(
        "illegal transition is 409",
        &path,
        &json!({"state": "accepted"}),
    )
    .await;
    r.merge_patch("not a state is 400", &path, &json!({"state": "sleeping"}))
        .await;
    r.send(
        "wrong content type is 415",
        reqwest::Method::PATCH,
        &path,
        Token::Admin,
        &[("content-type", "text/plain")],
        Some("{}"),
    )
    .await;
    r.get("unknown route is 404", &format!("{q}/nothing")).await;
    r.check("errors");
}
