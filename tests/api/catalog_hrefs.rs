//! Catalog hrefs on this server (issue 20, point 10): every href q2c serves — the TMF620
//! offerings and prices with their nested references, and the catalog references of quotes
//! in v4 and v5 reads, lists and hub events — starts with the server's public URL and answers
//! `GET` with the resource it names. Every body also goes through the official-schema proxy.

use std::time::Duration;

use q2c_service::TenantId;
use q2c_service::quotes::QuoteStore;
use q2c_service::testing::drain;
use q2c_tests::conformance::assert_event;
use q2c_tests::{CATALOG, QUOTES, QUOTES_V5, TestApp, spawn_as_admin, spawn_configured};
use serde_json::{Value, json};

/// The two quote API versions: (base, is v5).
const VERSIONS: [(&str, bool); 2] = [(QUOTES, false), (QUOTES_V5, true)];

/// A quote of fibre (a promotion: a price alteration with its own catalog price), referred
/// to with the catalog of record's href, and of the bundle, referred to by id alone: every
/// kind of catalog reference a quote holds.
fn quote_body(v5: bool) -> Value {
    let theirs = "https://q2c.example/tmf-api/productCatalogManagement/v4/productOffering/fibre-1g";
    let mut body = json!({"quoteItem": [
        {"action": "add", "quantity": 1, "productOffering": {"id": "fibre-1g", "href": theirs}},
        {"action": "add", "quantity": 1, "productOffering": {"id": "home-bundle"}},
    ]});
    if v5 {
        body["@type"] = json!("Quote");
        body["instantSyncQuote"] = json!(false);
    }
    body
}

/// Every object with an `href` in `value`, with its JSON path.
fn linked<'a>(value: &'a Value, path: &str, found: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(members) => {
            if members.contains_key("href") {
                found.push((path.to_owned(), value));
            }
            for (name, member) in members {
                linked(member, &format!("{path}.{name}"), found);
            }
        }
        Value::Array(elements) => {
            for (i, element) in elements.iter().enumerate() {
                linked(element, &format!("{path}[{i}]"), found);
            }
        }
        _ => {}
    }
}

/// Asserts that every href in `body` (`what` names it) is this server's and that `GET` on
/// it answers 200 with the id of the object holding it; returns how many catalog hrefs
/// (`productOffering`, `productOfferingPrice`) it checked.
async fn assert_served(app: &TestApp, token: &str, what: &str, body: &Value) -> usize {
    let mut found = Vec::new();
    linked(body, "$", &mut found);
    let ours = format!("{}/", app.base);
    let mut catalog = 0;
    for (path, object) in found {
        let href = object["href"].as_str().unwrap_or_default();
        assert!(
            href.starts_with(&ours),
            "{what} {path}: `{href}` is not on this server ({ours})"
        );
        let response = app
            .client
            .get(href)
            .bearer_auth(token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {href}: {e}"));
        assert_eq!(response.status(), 200, "{what} {path}: GET {href}");
        let target: Value = response.json().await.expect("JSON");
        assert_eq!(target["id"], object["id"], "{what} {path}: GET {href}");
        if href.starts_with(&format!("{}{CATALOG}/", app.base)) {
            catalog += 1;
        }
    }
    catalog
}

#[tokio::test]
async fn offerings_and_prices_are_served_with_this_servers_hrefs() {
    let (app, token) = spawn_as_admin().await;
    let offerings = app
        .get_json(&format!("{CATALOG}/productOffering?limit=1000"), &token)
        .await;
    let prices = app
        .get_json(
            &format!("{CATALOG}/productOfferingPrice?limit=1000"),
            &token,
        )
        .await;
    for (resource, listing) in [
        ("productOffering", &offerings),
        ("productOfferingPrice", &prices),
    ] {
        let items = listing.as_array().expect("a listing");
        assert!(!items.is_empty(), "{resource}: the sample catalog");
        for item in items {
            let id = item["id"].as_str().expect("id");
            let expected = format!("{}{CATALOG}/{resource}/{id}", app.base);
            assert_eq!(
                item["href"],
                expected.as_str(),
                "{resource} {id} in the list"
            );
            // The same href from a read of the item alone.
            let one = app
                .get_json(&format!("{CATALOG}/{resource}/{id}"), &token)
                .await;
            assert_eq!(one["href"], expected.as_str(), "{resource} {id}");
        }
    }
    // The lists' nested references (the offerings' prices and bundled offerings, the prices'
    // related prices) answer too.
    let nested = assert_served(&app, &token, "productOffering list", &offerings).await;
    assert!(
        nested > offerings.as_array().map_or(0, Vec::len),
        "nested refs: {nested}"
    );
    assert_served(&app, &token, "productOfferingPrice list", &prices).await;
    let bundle = app
        .get_json(&format!("{CATALOG}/productOffering/home-bundle"), &token)
        .await;
    assert!(
        !bundle["bundledProductOffering"]
            .as_array()
            .expect("bundled offerings")
            .is_empty()
    );
    // q2c serves no productSpecification: the reference keeps its id, without an href.
    let fibre = app
        .get_json(&format!("{CATALOG}/productOffering/fibre-1g"), &token)
        .await;
    let specification = &fibre["productSpecification"];
    assert_eq!(specification["id"], "fibre-access", "{fibre}");
    assert!(specification.get("href").is_none(), "{fibre}");
}

#[tokio::test]
async fn quotes_refer_to_this_servers_catalog_in_every_read_of_both_versions() {
    let (app, token) = spawn_as_admin().await;
    for (base, v5) in VERSIONS {
        let created = app
            .post_json(&format!("{base}/quote"), &token, &quote_body(v5))
            .await;
        assert_eq!(created.status(), 201, "{base}");
        let created: Value = created.json().await.expect("JSON");
        // Items with their offerings and children, price lines, a promotion's alteration.
        let catalog = assert_served(&app, &token, &format!("{base} create"), &created).await;
        assert!(
            catalog >= 5,
            "{base}: catalog hrefs of the created quote: {catalog}"
        );
        let promotion = created["quoteItem"][0]["quoteItemPrice"]
            .as_array()
            .expect("fibre's price lines")
            .iter()
            .flat_map(|line| line["priceAlteration"].as_array().into_iter().flatten())
            .find_map(|alteration| alteration["productOfferingPrice"]["href"].as_str());
        assert!(
            promotion.is_some(),
            "the promotion's price is referred to: {created}"
        );

        // The href the client wrote is ours now; a reference without one stays so.
        assert_eq!(
            created["quoteItem"][0]["productOffering"]["href"],
            format!("{}{CATALOG}/productOffering/fibre-1g", app.base).as_str()
        );
        assert_eq!(
            created["quoteItem"][1]["productOffering"],
            json!({"id": "home-bundle"})
        );

        let id = created["id"].as_str().expect("id");
        let read = app.get_json(&format!("{base}/quote/{id}"), &token).await;
        assert_eq!(read["quoteItem"], created["quoteItem"], "{base}: read");
        let listed = app
            .get_json(&format!("{base}/quote?limit=1000"), &token)
            .await;
        assert_served(&app, &token, &format!("{base} list"), &listed).await;
    }
}

#[tokio::test]
async fn a_quote_stored_with_the_catalogs_hrefs_reads_back_with_this_servers() {
    let (app, token) = spawn_as_admin().await;
    let created: Value = app
        .post_json(&format!("{QUOTES}/quote"), &token, &quote_body(false))
        .await
        .json()
        .await
        .expect("JSON");
    let id = created["id"].as_str().expect("id");
    // As a quote priced before the fix was stored: the catalog of record's hrefs.
    let store = app.store();
    let tenant = TenantId::parse("acme").expect("tenant");
    let mut stored = store.get(&tenant, id).await.expect("get").expect("stored");
    let old = "https://q2c.example/tmf-api/productCatalogManagement/v4/productOfferingPrice/old";
    for line in &mut stored.quote.quote_item[0].quote_item_price {
        if let Some(price) = &mut line.product_offering_price {
            price.href = Some(old.to_owned());
        }
    }
    stored.version += 1;
    store
        .update(&tenant, &stored, stored.version - 1, &[])
        .await
        .expect("update");

    for (base, _) in VERSIONS {
        let read = app.get_json(&format!("{base}/quote/{id}"), &token).await;
        assert!(!read.to_string().contains(old), "{base}: {read}");
        assert_served(&app, &token, &format!("{base} read"), &read).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_events_of_both_versions_carry_this_servers_catalog_hrefs() {
    let app = spawn_configured(|c| c.consumers = true).await;
    let store = app.store();
    let queues = q2c_local::SqliteQueues::new(&store);
    // One tenant per version: a tenant's subscriber queue is `subscriber-<tenant>`.
    for ((base, v5), tenant) in VERSIONS.into_iter().zip(["acme", "beta"]) {
        let token = app.admin(tenant);
        let queue = format!("subscriber-{tenant}");
        q2c_embedded::queues::create(&queues, &queue)
            .await
            .expect("create the subscriber queue");
        let hub = app
            .post_json(
                &format!("{base}/hub"),
                &token,
                &json!({"callback": format!("local:{queue}"), "query": "eventType=QuoteCreateEvent"}),
            )
            .await;
        assert_eq!(hub.status(), 201, "{base}/hub");
        // Created through v4: the v5 subscriber reads it in v5 all the same.
        let created = app
            .post_json(&format!("{QUOTES}/quote"), &token, &quote_body(false))
            .await;
        assert_eq!(created.status(), 201);

        let mut messages = Vec::new();
        // Hub delivery runs beside the API: wait (up to ~30 s) for it to deliver.
        for _ in 0..60 {
            messages = drain(&queues, &queue).await;
            if !messages.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let message = messages
            .first()
            .unwrap_or_else(|| panic!("{queue}: no event"));
        let event: Value = serde_json::from_str(&message.body).expect("an event envelope");
        assert_event(&event, v5);
        let catalog = assert_served(&app, &token, &queue, &event["event"]["quote"]).await;
        assert!(
            catalog >= 5,
            "{queue}: catalog hrefs of the event: {catalog}"
        );
    }
}
