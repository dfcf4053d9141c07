//! TM Forum conformance over real HTTP, on v4 and v5 (issue 20): each point of the issue as a
//! black-box check. Every body these tests receive also goes through the recording proxy of
//! `q2c_tests::conformance` (the official documents; a test fails on any invalid body), and
//! the events read from the queues through `conformance::assert_event`.

use std::time::Duration;

use q2c_service::messaging::{QueueClient, Receive, ReceivedMessage};
use q2c_tests::conformance::assert_event;
use q2c_tests::{
    QUOTES, QUOTES_V5, TestApp, assert_message_contains, assert_not_found, assert_tmf_error,
    spawn_as_admin,
};
use reqwest::Method;
use serde_json::{Value, json};

const ORDERING: &str = "/tmf-api/productOrderingManagement/v4";

/// The two quote API versions: (base, is v5).
const VERSIONS: [(&str, bool); 2] = [(QUOTES, false), (QUOTES_V5, true)];

fn create_body(v5: bool, offering: &str) -> Value {
    let mut body = json!({
        "quoteItem": [{"action": "add", "quantity": 1, "productOffering": {"id": offering}}],
        "relatedParty": [{"id": "cust-1", "role": "customer", "@referredType": "Individual"}],
    });
    if v5 {
        body["@type"] = json!("Quote");
        body["instantSyncQuote"] = json!(false);
    }
    body
}

async fn post(app: &TestApp, token: &str, base: &str, body: &Value) -> reqwest::Response {
    app.post_json(&format!("{base}/quote"), token, body).await
}

async fn merge(app: &TestApp, token: &str, path: &str, patch: &Value) -> reqwest::Response {
    app.request(Method::PATCH, path, token)
        .header("Content-Type", "application/merge-patch+json")
        .body(patch.to_string())
        .send()
        .await
        .expect("PATCH")
}

async fn body(response: reqwest::Response, status: u16) -> Value {
    let url = response.url().to_string();
    assert_eq!(response.status().as_u16(), status, "status of {url}");
    response.json().await.expect("JSON body")
}

/// Creates a quote on `base` and moves it to `approved`, then `accepted`; returns it.
async fn accepted(app: &TestApp, token: &str, base: &str, v5: bool) -> Value {
    let created = body(
        post(app, token, base, &create_body(v5, "fibre-1g")).await,
        201,
    )
    .await;
    let path = format!("{base}/quote/{}", created["id"].as_str().expect("id"));
    let mut last = Value::Null;
    for state in ["approved", "accepted"] {
        last = body(
            merge(app, token, &path, &json!({ "state": state })).await,
            200,
        )
        .await;
    }
    last
}

/// Drains `queue` (messages become visible again after 10 minutes) for up to ~10 s, until
/// `enough` holds of what was received.
async fn received(
    app: &TestApp,
    queue: &str,
    enough: impl Fn(&[ReceivedMessage]) -> bool,
) -> Vec<ReceivedMessage> {
    let store = app.store();
    let queues = q2c_local::SqliteQueues::new(&store);
    let mut all = Vec::new();
    for _ in 0..10 {
        let batch = queues
            .receive(
                queue,
                Receive::batch(Duration::from_secs(600)).waiting(Duration::from_secs(1)),
            )
            .await
            .expect("receive");
        all.extend(batch);
        if enough(&all) {
            break;
        }
    }
    all
}

fn envelope(message: &ReceivedMessage) -> Value {
    serde_json::from_str(&message.body).expect("an event envelope")
}

#[tokio::test]
async fn point_1_v5_error_bodies_carry_their_type_and_v4_bodies_stay_as_they_were() {
    let (app, token) = spawn_as_admin().await;
    for (base, v5) in VERSIONS {
        let missing = app.get(&format!("{base}/quote/nope"), &token).await;
        let error = assert_not_found(missing).await;
        if v5 {
            assert_eq!(error["@type"], "Error", "{error}");
        } else {
            assert!(error.get("@type").is_none(), "{error}");
        }
        // An error found by the edge (the body) and one of the route table.
        let invalid = post(&app, &token, base, &json!({"quoteItem": []})).await;
        let error = assert_tmf_error(invalid, 400, "INVALID_INPUT").await;
        assert_eq!(error.get("@type").is_some(), v5, "{error}");
        let route = app.get(&format!("{base}/nothing-here"), &token).await;
        let error = assert_tmf_error(route, 404, "ROUTE_NOT_FOUND").await;
        assert_eq!(error.get("@type").is_some(), v5, "{error}");
    }
}

#[tokio::test]
async fn point_2_a_v4_product_reads_through_v5_with_its_types() {
    let (app, token) = spawn_as_admin().await;
    let mut v4_body = create_body(false, "mobile-s");
    v4_body["quoteItem"][0]["product"] = json!({"productCharacteristic": [
        {"name": "colour", "value": "blue"},
        {"name": "lines", "value": 2},
        {"name": "roaming", "value": true},
    ]});
    let created = body(post(&app, &token, QUOTES, &v4_body).await, 201).await;
    let id = created["id"].as_str().expect("id");
    assert!(
        created["quoteItem"][0]["product"].get("@type").is_none(),
        "v4 reads what it wrote: {created}"
    );

    let read = body(
        app.get(&format!("{QUOTES_V5}/quote/{id}"), &token).await,
        200,
    )
    .await;
    let listed = body(app.get(&format!("{QUOTES_V5}/quote"), &token).await, 200).await;
    for quote in [&read, &listed[0]] {
        let product = &quote["quoteItem"][0]["product"];
        assert_eq!(product["@type"], "ProductValue", "{quote}");
        let types: Vec<&str> = product["productCharacteristic"]
            .as_array()
            .expect("characteristics")
            .iter()
            .map(|c| c["@type"].as_str().expect("@type"))
            .collect();
        assert_eq!(
            types,
            [
                "StringCharacteristic",
                "IntegerCharacteristic",
                "BooleanCharacteristic"
            ]
        );
    }
    // A type the client wrote is kept.
    let mut typed = create_body(true, "mobile-s");
    typed["quoteItem"][0]["product"] = json!({"@type": "ProductRef", "id": "prod-9"});
    let created = body(post(&app, &token, QUOTES_V5, &typed).await, 201).await;
    assert_eq!(created["quoteItem"][0]["product"]["@type"], "ProductRef");
}

#[tokio::test]
async fn point_4_instant_sync_quote_true_answers_200_otherwise_201() {
    let (app, token) = spawn_as_admin().await;
    for (base, v5) in VERSIONS {
        let mut instant = create_body(v5, "mobile-s");
        instant["instantSyncQuote"] = json!(true);
        let response = post(&app, &token, base, &instant).await;
        assert!(response.headers().contains_key("location"));
        let quote = body(response, 200).await;
        assert_eq!(quote["state"], "inProgress");
        assert!(
            quote["quoteTotalPrice"].is_array(),
            "priced at once: {quote}"
        );

        let mut deferred = create_body(v5, "mobile-s");
        deferred["instantSyncQuote"] = json!(false);
        body(post(&app, &token, base, &deferred).await, 201).await;
        if !v5 {
            body(
                post(&app, &token, base, &create_body(false, "mobile-s")).await,
                201,
            )
            .await;
        }
    }
}

#[tokio::test]
async fn point_5_expected_quote_completion_date_is_the_servers_on_create_and_patchable() {
    let (app, token) = spawn_as_admin().await;
    for (base, v5) in VERSIONS {
        let mut with_date = create_body(v5, "mobile-s");
        with_date["expectedQuoteCompletionDate"] = json!("2030-01-01T00:00:00Z");
        let refused = post(&app, &token, base, &with_date).await;
        let error = assert_tmf_error(refused, 400, "FORBIDDEN_FIELD").await;
        assert_message_contains(&error, "expectedQuoteCompletionDate");
        // Quote_Update / Quote_MVO carry it.
        let created = body(
            post(&app, &token, base, &create_body(v5, "mobile-s")).await,
            201,
        )
        .await;
        let path = format!("{base}/quote/{}", created["id"].as_str().expect("id"));
        let patched = body(
            merge(
                &app,
                &token,
                &path,
                &json!({"expectedQuoteCompletionDate": "2030-01-01T00:00:00Z"}),
            )
            .await,
            200,
        )
        .await;
        assert_eq!(
            patched["expectedQuoteCompletionDate"],
            "2030-01-01T00:00:00Z"
        );
    }
}

#[tokio::test]
async fn point_7_an_attribute_change_event_names_the_fields_changed() {
    let (app, token) = spawn_as_admin().await;
    let created = body(
        post(&app, &token, QUOTES, &create_body(false, "mobile-s")).await,
        201,
    )
    .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let path = format!("{QUOTES}/quote/{id}");
    body(
        merge(&app, &token, &path, &json!({"description": "two lines"})).await,
        200,
    )
    .await;
    let items = json!({"quoteItem": [
        {"action": "add", "quantity": 2, "productOffering": {"id": "mobile-s"}}]});
    body(merge(&app, &token, &path, &items).await, 200).await;

    let changes = |messages: &[ReceivedMessage]| -> Vec<Value> {
        messages
            .iter()
            .map(envelope)
            .filter(|e| e["eventType"] == "QuoteAttributeValueChangeEvent")
            .filter(|e| e["event"]["quote"]["id"] == id.as_str())
            .collect()
    };
    let messages = received(&app, "quote-events", |m| changes(m).len() >= 2).await;
    for message in &messages {
        assert_event(&envelope(message), false);
    }
    let paths: Vec<Value> = changes(&messages)
        .iter()
        .map(|e| e["fieldPath"].clone())
        .collect();
    assert_eq!(
        paths,
        [json!("description"), json!("quoteItem,quoteTotalPrice")],
        "each change names what it changed"
    );
}

#[tokio::test]
async fn point_8_and_12_an_accepted_quote_refers_to_its_absolute_order_href() {
    let (app, token) = spawn_as_admin().await;
    for (base, v5) in VERSIONS {
        let quote = accepted(&app, &token, base, v5).await;
        let reference = &quote["productOrder"][0];
        assert_eq!(reference["@referredType"], "ProductOrder", "{quote}");
        let order_id = reference["id"].as_str().expect("order id");
        let href = reference["href"].as_str().expect("order href");
        assert_eq!(
            href,
            format!("{}{ORDERING}/productOrder/{order_id}", app.base)
        );
        // The href is this server's: following it reads the order, whose own href is the same.
        let order: Value = app
            .client
            .get(href)
            .bearer_auth(&token)
            .send()
            .await
            .expect("GET the order")
            .json()
            .await
            .expect("order JSON");
        assert_eq!(order["href"], href);
        assert_eq!(order["quote"][0]["id"], quote["id"]);
        // A read of the quote shows the same reference; the client cannot set it.
        let path = format!("{base}/quote/{}", quote["id"].as_str().expect("id"));
        let read = body(app.get(&path, &token).await, 200).await;
        assert_eq!(read["productOrder"], quote["productOrder"]);
        let mut forged = create_body(v5, "mobile-s");
        forged["productOrder"] = json!([{"id": "x"}]);
        assert_tmf_error(
            post(&app, &token, base, &forged).await,
            400,
            "FORBIDDEN_FIELD",
        )
        .await;
    }
    // The acceptance's state-change event announces the order.
    let messages = received(&app, "quote-events", |m| {
        m.iter()
            .map(envelope)
            .filter(|e| {
                e["eventType"] == "QuoteStateChangeEvent"
                    && e["event"]["quote"]["state"] == "accepted"
            })
            .count()
            >= 2
    })
    .await;
    let accepted_events: Vec<Value> = messages
        .iter()
        .map(envelope)
        .filter(|e| {
            e["eventType"] == "QuoteStateChangeEvent" && e["event"]["quote"]["state"] == "accepted"
        })
        .collect();
    assert_eq!(accepted_events.len(), 2);
    for event in &accepted_events {
        assert_event(event, false);
        assert!(
            event["event"]["quote"]["productOrder"][0]["id"].is_string(),
            "{event}"
        );
    }
}

#[tokio::test]
async fn point_9_a_completed_order_has_a_completion_date_and_its_item_states() {
    let (app, token) = spawn_as_admin().await;
    let quote = accepted(&app, &token, QUOTES, false).await;
    let order_id = quote["productOrder"][0]["id"]
        .as_str()
        .expect("order id")
        .to_owned();
    let notify = |state: &str, item_state: &str| {
        json!({
            "eventId": format!("om-{state}-{item_state}"),
            "eventTime": "2026-11-27T12:00:00Z",
            "eventType": "ProductOrderStateChangeEvent",
            "event": {"productOrder": {"id": "om-1", "externalId": order_id, "state": state,
                "productOrderItem": [{"id": "1", "state": item_state}]}}
        })
    };
    let order_path = format!("{ORDERING}/productOrder/{order_id}");
    for (state, item_state) in [
        ("acknowledged", "acknowledged"),
        ("inProgress", "inProgress"),
        ("completed", "completed"),
    ] {
        let response = app
            .post_json(
                &format!("{ORDERING}/listener/productOrderStateChangeEvent"),
                &token,
                &notify(state, item_state),
            )
            .await;
        assert_eq!(response.status(), 201, "reporting {state}");
        let order = body(app.get(&order_path, &token).await, 200).await;
        assert_eq!(order["state"], state);
        assert_eq!(order["productOrderItem"][0]["state"], item_state, "{order}");
        assert_eq!(
            order["completionDate"].is_string(),
            state == "completed",
            "{order}"
        );
    }
    // An item state the item machine does not allow is refused, and changes nothing.
    let back = app
        .post_json(
            &format!("{ORDERING}/listener/productOrderStateChangeEvent"),
            &token,
            &notify("completed", "pending"),
        )
        .await;
    assert_tmf_error(back, 422, "ILLEGAL_ORDER_STATE_TRANSITION").await;
}

#[tokio::test]
async fn point_11_no_body_and_no_content_type_is_a_400_not_a_415() {
    let (app, token) = spawn_as_admin().await;
    for (base, v5) in VERSIONS {
        let empty = app
            .send(Method::POST, &format!("{base}/quote"), &token)
            .await;
        let error = assert_tmf_error(empty, 400, "MALFORMED_JSON").await;
        assert_eq!(error.get("@type").is_some(), v5);
        let created = body(
            post(&app, &token, base, &create_body(v5, "mobile-s")).await,
            201,
        )
        .await;
        let path = format!("{base}/quote/{}", created["id"].as_str().expect("id"));
        let empty_patch = app.send(Method::PATCH, &path, &token).await;
        assert_tmf_error(empty_patch, 400, "MALFORMED_JSON").await;
        // A body of another type stays 415.
        let text = app
            .post_body(&format!("{base}/quote"), &token, "text/plain", "{}")
            .await;
        assert_tmf_error(text, 415, "UNSUPPORTED_MEDIA_TYPE").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn point_2_the_v5_hub_announces_a_v4_product_with_its_types() {
    let app = q2c_tests::spawn_configured(|c| c.consumers = true).await;
    let store = app.store();
    q2c_embedded::queues::create(&q2c_local::SqliteQueues::new(&store), "subscriber-acme")
        .await
        .expect("create the subscriber queue");
    let token = app.admin("acme");
    let hub = app
        .post_json(
            &format!("{QUOTES_V5}/hub"),
            &token,
            &json!({"callback": "local:subscriber-acme", "query": "eventType=QuoteCreateEvent"}),
        )
        .await;
    body(hub, 201).await;
    let mut v4_body = create_body(false, "mobile-s");
    v4_body["quoteItem"][0]["product"] =
        json!({"productCharacteristic": [{"name": "colour", "value": "blue"}]});
    body(post(&app, &token, QUOTES, &v4_body).await, 201).await;

    let messages = received(&app, "subscriber-acme", |m| !m.is_empty()).await;
    let event = envelope(messages.first().expect("the v5 subscriber got the event"));
    assert_eq!(event["eventType"], "QuoteCreateEvent");
    assert_event(&event, true);
    let product = &event["event"]["quote"]["quoteItem"][0]["product"];
    assert_eq!(product["@type"], "ProductValue", "{event}");
    assert_eq!(
        product["productCharacteristic"][0]["@type"],
        "StringCharacteristic"
    );
}

/// The ids of a listing page and its `Link: rel="next"` target, if any.
async fn page_ids(app: &TestApp, token: &str, path: &str) -> (Vec<String>, Option<String>) {
    let response = app.get(path, token).await;
    let next = response
        .headers()
        .get("link")
        .and_then(|v| v.to_str().ok())
        .and_then(|link| link.strip_prefix('<')?.split_once(">; rel=\"next\""))
        .map(|(target, _)| target.to_owned());
    let page = body(response, 200).await;
    let ids = page
        .as_array()
        .expect("a listing is an array")
        .iter()
        .map(|item| item["id"].as_str().expect("id").to_owned())
        .collect();
    (ids, next)
}

/// Every id of a listing, following `Link: rel="next"` from `path`.
async fn all_ids(app: &TestApp, token: &str, path: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut next = Some(path.to_owned());
    while let Some(path) = next {
        let (page, link) = page_ids(app, token, &path).await;
        ids.extend(page);
        next = link;
    }
    ids
}

#[tokio::test]
async fn point_6_quote_filters_follow_tmf630_on_v4_and_v5() {
    let (app, token) = spawn_as_admin().await;
    for (base, v5) in VERSIONS {
        let (date, tag) = if v5 {
            ("creationDate", "v5")
        } else {
            ("quoteDate", "v4")
        };
        let mut ids = Vec::new();
        let mut dates = Vec::new();
        for (offering, category) in [("fibre-1g", "a"), ("mobile-s", "b"), ("mobile-l", "c")] {
            let mut quote = create_body(v5, offering);
            quote["category"] = json!(format!("{tag}-{category}"));
            let created = body(post(&app, &token, base, &quote).await, 201).await;
            ids.push(created["id"].as_str().expect("id").to_owned());
            dates.push(created[date].as_str().expect("listing date").to_owned());
        }
        let [q1, q2, q3] = [&ids[0], &ids[1], &ids[2]];
        let mine = format!("category={tag}-a,{tag}-b,{tag}-c");
        let d2 = dates[1].replace('+', "%2B");
        // (query, the quotes it lists, newest first)
        let cases: Vec<(String, Vec<&String>)> = vec![
            (format!("{mine}&{date}.gt={d2}"), vec![q3]),
            (format!("{mine}&{date}.lte={d2}"), vec![q2, q1]),
            (format!("{mine}&{date}.eq={d2}"), vec![q2]),
            (format!("{mine}&{date}.gte={d2}"), vec![q3, q2]),
            (format!("{mine}&{date}>={d2}"), vec![q3, q2]),
            (format!("{mine}&{date}.ne={d2}"), vec![q3, q1]),
            (format!("category={tag}-a"), vec![q1]),
            (format!("category={tag}-a,{tag}-c"), vec![q3, q1]),
            (
                format!("{mine}&quoteItem.productOffering.id=mobile-s"),
                vec![q2],
            ),
            (
                format!("{mine}&state=inProgress,approved"),
                vec![q3, q2, q1],
            ),
            (format!("{mine}&state=approved"), vec![]),
        ];
        for (query, want) in cases {
            let got = all_ids(&app, &token, &format!("{base}/quote?{query}&limit=2")).await;
            let want: Vec<String> = want.into_iter().cloned().collect();
            assert_eq!(got, want, "{base}/quote?{query}");
        }
        for bad in [
            "colour=red",
            "state=sold",
            "state.gt=approved",
            "category.regex=a.*",
            "quoteItem.quantity=two",
        ] {
            let response = app.get(&format!("{base}/quote?{bad}"), &token).await;
            assert_tmf_error(response, 400, "INVALID_QUERY").await;
        }
    }
}

#[tokio::test]
async fn point_6_a_filter_no_index_serves_pages_by_cursor_without_a_total() {
    let (app, token) = spawn_as_admin().await;
    for offering in ["fibre-1g", "mobile-s", "mobile-l", "tv-addon", "fibre-1g"] {
        body(
            post(&app, &token, QUOTES, &create_body(false, offering)).await,
            201,
        )
        .await;
    }
    // Served by the index: an offset page with its total and a link to read on by cursor.
    let first = app
        .get(
            &format!("{QUOTES}/quote?relatedParty.id=cust-1&limit=2"),
            &token,
        )
        .await;
    assert_eq!(first.headers()["x-total-count"], "5");
    assert!(first.headers().contains_key("link"));
    let by_offset = all_ids(&app, &token, &format!("{QUOTES}/quote?limit=100")).await;
    let by_cursor = all_ids(
        &app,
        &token,
        &format!("{QUOTES}/quote?relatedParty.id=cust-1&limit=2"),
    )
    .await;
    assert_eq!(
        by_cursor, by_offset,
        "the cursor walk is the offset listing"
    );
    // Not served by an index: cursor pages, with a result count and no total.
    let filtered = app
        .get(
            &format!("{QUOTES}/quote?quoteItem.productOffering.id=fibre-1g&limit=1"),
            &token,
        )
        .await;
    assert!(!filtered.headers().contains_key("x-total-count"));
    assert_eq!(filtered.headers()["x-result-count"], "1");
    let fibre = all_ids(
        &app,
        &token,
        &format!("{QUOTES}/quote?quoteItem.productOffering.id=fibre-1g&limit=1"),
    )
    .await;
    assert_eq!(fibre.len(), 2);
    // A cursor is this listing's only: a forged one and one beside an offset are refused.
    for bad in ["cursor=not-a-cursor", "cursor=YzEKCnEtMQ&offset=1"] {
        let response = app.get(&format!("{QUOTES}/quote?{bad}"), &token).await;
        assert_tmf_error(response, 400, "INVALID_QUERY").await;
    }
}

#[tokio::test]
async fn point_6_orders_offerings_and_prices_filter_per_tmf630() {
    let (app, token) = spawn_as_admin().await;
    let first = accepted(&app, &token, QUOTES, false).await;
    let second = accepted(&app, &token, QUOTES, false).await;
    let orders = format!("{ORDERING}/productOrder");
    for quote in [&first, &second] {
        let id = quote["id"].as_str().expect("quote id");
        let found = body(
            app.get(&format!("{orders}?quote.id={id}"), &token).await,
            200,
        )
        .await;
        let found = found.as_array().expect("orders");
        assert_eq!(found.len(), 1, "the order of quote {id}");
        assert_eq!(found[0]["id"], quote["productOrder"][0]["id"]);
        // Not dispatched yet: no state, so not `completed`.
        assert!(found[0].get("state").is_none(), "{}", found[0]);
        let done = all_ids(
            &app,
            &token,
            &format!("{orders}?state=completed&quote.id={id}"),
        )
        .await;
        assert!(done.is_empty());
        let open = all_ids(
            &app,
            &token,
            &format!("{orders}?state.ne=completed&quote.id={id}"),
        )
        .await;
        assert_eq!(open.len(), 1);
    }
    let none = body(
        app.get(&format!("{orders}?quote.id=no-such-quote"), &token)
            .await,
        200,
    )
    .await;
    assert_eq!(none, json!([]));
    assert_tmf_error(
        app.get(&format!("{orders}?state=shipped"), &token).await,
        400,
        "INVALID_QUERY",
    )
    .await;

    let catalog = "/tmf-api/productCatalogManagement/v4";
    let launched = body(
        app.get(
            &format!("{catalog}/productOffering?lifecycleStatus=Launched&limit=100"),
            &token,
        )
        .await,
        200,
    )
    .await;
    let launched = launched.as_array().expect("offerings");
    assert!(!launched.is_empty());
    assert!(launched.iter().all(|o| o["lifecycleStatus"] == "Launched"));
    let retired = all_ids(
        &app,
        &token,
        &format!("{catalog}/productOffering?lifecycleStatus=Retired"),
    )
    .await;
    assert_eq!(retired, ["mobile-legacy"]);
    let bundles = all_ids(
        &app,
        &token,
        &format!("{catalog}/productOffering?isBundle=true"),
    )
    .await;
    assert!(bundles.contains(&"home-bundle".to_owned()), "{bundles:?}");
    let cheap = body(
        app.get(
            &format!(
                "{catalog}/productOfferingPrice?priceType=recurring&price.value.lt=20&limit=100"
            ),
            &token,
        )
        .await,
        200,
    )
    .await;
    let cheap = cheap.as_array().expect("prices");
    assert!(!cheap.is_empty());
    for price in cheap {
        assert_eq!(price["priceType"], "recurring", "{price}");
        assert!(
            price["price"]["value"].as_f64().expect("value") < 20.0,
            "{price}"
        );
    }
    assert_tmf_error(
        app.get(&format!("{catalog}/productOffering?isBundle=maybe"), &token)
            .await,
        400,
        "INVALID_QUERY",
    )
    .await;
}
