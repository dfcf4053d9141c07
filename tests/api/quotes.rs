//! The quote lifecycle and the read side (paging, filters, fields).

use q2c_tests::{QUOTES, assert_page, assert_tmf_error, quote_body, spawn_as_admin};
use serde_json::{Value, json};

#[tokio::test]
async fn a_quote_goes_from_creation_to_acceptance() {
    let (app, token) = spawn_as_admin().await;

    let response = app.create_quote(&token, &quote_body("fibre-1g")).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let etag = response.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_owned();
    let created: Value = response.json().await.expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(location, format!("{}{QUOTES}/quote/{id}", app.base));
    assert_eq!(created["href"], json!(location));
    assert_eq!(created["state"], "inProgress");
    assert_eq!(etag, "\"1\"");
    assert!(
        created["quoteTotalPrice"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );

    let read = app.get(&format!("{QUOTES}/quote/{id}"), &token).await;
    assert_eq!(read.status(), 200);
    assert_eq!(read.headers()["etag"], "\"1\"");
    let read: Value = read.json().await.expect("json");
    assert_eq!(read, created);

    let patched = app
        .patch_quote(
            &token,
            &id,
            &json!({"description": "Home fibre"}),
            Some(&etag),
        )
        .await;
    assert_eq!(patched.status(), 200);
    assert_eq!(patched.headers()["etag"], "\"2\"");

    let approved = app.move_quote(&token, &id, "approved").await;
    assert_eq!(approved["authorization"][0]["approver"][0]["id"], "dev");

    app.move_quote(&token, &id, "accepted").await;

    let delete = app.delete(&format!("{QUOTES}/quote/{id}"), &token).await;
    assert_tmf_error(delete, 409, "CONFLICT").await;
}

#[tokio::test]
async fn a_quote_can_be_deleted_and_is_gone_after() {
    let (app, token) = spawn_as_admin().await;
    let id = app.created_id(&token, "mobile-s").await;

    let delete = app.delete(&format!("{QUOTES}/quote/{id}"), &token).await;
    assert_eq!(delete.status(), 204);
    app.get_error(&format!("{QUOTES}/quote/{id}"), &token, 404, "NOT_FOUND")
        .await;
}

#[tokio::test]
async fn listing_pages_filters_and_selects_fields() {
    let (app, token) = spawn_as_admin().await;
    for offering in ["mobile-s", "mobile-l", "fibre-1g", "tv-addon", "handset-x1"] {
        app.created_quote(&token, offering).await;
    }
    let mut tagged = quote_body("mobile-s");
    tagged["externalId"] = json!("crm-42");
    assert_eq!(app.create_quote(&token, &tagged).await.status(), 201);

    let page = app
        .get(&format!("{QUOTES}/quote?offset=1&limit=2"), &token)
        .await;
    assert_page(&page, 6, 2);
    assert_eq!(
        page.json::<Value>()
            .await
            .expect("json")
            .as_array()
            .expect("array")
            .len(),
        2
    );

    let by_external: Value = app
        .get_json(&format!("{QUOTES}/quote?externalId=crm-42"), &token)
        .await;
    assert_eq!(by_external.as_array().expect("array").len(), 1);
    assert_eq!(by_external[0]["externalId"], "crm-42");

    // Each filter and how many of the six quotes it matches.
    for (filter, total) in [
        ("state=approved", "0"),
        ("relatedParty.id=cust-1", "6"),
        ("quoteDate.gte=2999-01-01T00:00:00Z", "0"),
        ("quoteDate.lt=2999-01-01T00:00:00Z", "6"),
    ] {
        let listing = app.get(&format!("{QUOTES}/quote?{filter}"), &token).await;
        assert_eq!(listing.headers()["x-total-count"], total, "{filter}");
    }

    let slim: Value = app
        .get_json(&format!("{QUOTES}/quote?fields=state&limit=1"), &token)
        .await;
    let keys: Vec<&str> = slim[0]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert!(keys.contains(&"state") && keys.contains(&"id"), "{keys:?}");
    assert!(!keys.contains(&"quoteItem"), "{keys:?}");
}

#[tokio::test]
async fn prices_follow_the_worked_example_of_the_docs() {
    let (app, token) = spawn_as_admin().await;
    let quote = app
        .create_quote(
            &token,
            &json!({"quoteItem": [{"productOffering": {"id": "mobile-l"}, "quantity": 2}]}),
        )
        .await
        .json::<Value>()
        .await
        .expect("json");
    let monthly = quote["quoteTotalPrice"]
        .as_array()
        .expect("totals")
        .iter()
        .find(|p| p["priceType"] == "recurring")
        .expect("recurring total")
        .clone();
    assert_eq!(monthly["recurringChargePeriod"], "month");
    assert_eq!(
        monthly["price"]["dutyFreeAmount"],
        json!({"unit": "EUR", "value": 60})
    );
    assert_eq!(
        monthly["price"]["taxIncludedAmount"],
        json!({"unit": "EUR", "value": 72})
    );
}

#[tokio::test]
async fn unknown_fields_and_types_survive_the_round_trip() {
    let (app, token) = spawn_as_admin().await;
    let mut body = quote_body("mobile-s");
    body["@type"] = json!("SmbQuote");
    body["@schemaLocation"] = json!("https://schemas.example.com/SmbQuote.json");
    body["salesChannel"] = json!({"id": "shop-7", "nested": [1, 2.5, "x", null]});
    body["legacyFlag"] = json!(null);
    body["quoteItem"][0]["product"] = json!({"@type": "FiveGSlice", "productCharacteristic": [{"name": "latencyMs", "value": 5}]});
    let created = app
        .create_quote(&token, &body)
        .await
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(created["@type"], "SmbQuote");
    assert_eq!(created["salesChannel"], body["salesChannel"]);
    assert!(
        created
            .as_object()
            .expect("object")
            .contains_key("legacyFlag"),
        "{created}"
    );
    assert_eq!(
        created["quoteItem"][0]["product"],
        body["quoteItem"][0]["product"]
    );
}
