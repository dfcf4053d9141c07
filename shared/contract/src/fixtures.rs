//! Test data for the suites: unique ids, quotes carrying extensions and catalog price
//! references, outbox events, catalog entries.

use q2c_model::ordering::order_from_quote;
use q2c_model::tmf::{EventSubscription, ProductOffering, ProductOfferingPrice, Quote};
use q2c_service::context::TenantId;
use q2c_service::orders::{Dispatch, StoredOrder};
use q2c_service::ports::{Destination, OutboxEvent, OutboxStore, StoreError, StoredQuote};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;

/// A fixed instant the suites count from (whole seconds, which every backend keeps).
pub const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

/// A short unique string (32 hex digits).
pub fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A tenant id no other run uses: `<prefix>-<uuid>` (prefix up to 31 characters).
///
/// # Panics
/// When `prefix` is too long or has characters a tenant id may not have.
pub fn tenant(prefix: &str) -> TenantId {
    TenantId::parse(&format!("{prefix}-{}", unique())).expect("valid tenant id prefix")
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).expect("formattable fixture time")
}

/// A quote as the service would store it: state `inProgress`, one party `party-1`, one
/// item using catalog price `pop-1`, unmodelled fields at every level, version 1.
///
/// # Panics
/// Never for valid ids (the JSON is fixed).
pub fn stored_quote(id: &str, quote_date: OffsetDateTime) -> StoredQuote {
    let quote: Quote = serde_json::from_value(json!({
        "id": id,
        "href": format!("/tmf-api/quoteManagement/v4/quote/{id}"),
        "@type": "Quote",
        "description": "contract fixture",
        "quoteDate": rfc3339(quote_date),
        "state": "inProgress",
        "relatedParty": [{"id": "party-1", "role": "customer", "@referredType": "Individual"}],
        "quoteItem": [{
            "id": "1",
            "action": "add",
            "quantity": 2,
            "productOffering": {"id": "po-1", "name": "Fibre 1G"},
            "quoteItemPrice": [{
                "priceType": "recurring",
                "recurringChargePeriod": "month",
                "price": {
                    "dutyFreeAmount": {"unit": "EUR", "value": 20.5},
                    "taxIncludedAmount": {"unit": "EUR", "value": 24.6},
                    "taxRate": 20
                },
                "productOfferingPrice": {"id": "pop-1"}
            }],
            "x-item-note": {"channel": "web"}
        }],
        "agreement": [{"id": "ag-1", "name": "Frame agreement"}],
        "x-crm": {"opportunity": "OPP-1", "tags": ["a", 2, 3.25, null, true]}
    }))
    .expect("fixture quote parses");
    StoredQuote {
        quote,
        version: 1,
        approval_required: true,
        price_ids: vec!["pop-1".to_owned()],
    }
}

/// A quote item as a client of a newly launched product sends it, already priced: unknown
/// fields and `@type` subtypes on the item, its product, its characteristics (unknown names,
/// value types and object values) and its offering reference, and a price line of a type the
/// engine does not know (`penalty`). The stores must give it back equal as JSON.
pub fn extensible_item() -> serde_json::Value {
    // The service's rich item, and beyond it: a null in an unknown array, a fraction only an
    // exact round trip keeps, an offering of its own, and the prices already on it.
    let mut item = q2c_service::testing::rich_item();
    for (field, value) in [
        ("id", json!("1")),
        ("action", json!("add")),
        ("quantity", json!(1)),
        ("state", json!("inProgress")),
    ] {
        item[field] = value;
    }
    item["x-channelHint"]["flags"] = json!([true, null]);
    item["productOffering"]["id"] = json!("slice-5g");
    item["product"]["productCharacteristic"][1]["value"][2]["three"] = json!(3.75);
    item["quoteItemPrice"] = json!([
        {"priceType": "recurring", "recurringChargePeriod": "month",
         "price": {"taxRate": 20, "dutyFreeAmount": {"unit": "EUR", "value": 100},
                   "taxIncludedAmount": {"unit": "EUR", "value": 120}},
         "productOfferingPrice": {"id": "slice-monthly"}},
        {"priceType": "penalty", "name": "Early exit",
         "price": {"taxRate": 20, "dutyFreeAmount": {"unit": "EUR", "value": 500},
                   "taxIncludedAmount": {"unit": "EUR", "value": 600}},
         "productOfferingPrice": {"id": "slice-exit-penalty", "x-penaltyClause": "7.2"}}
    ]);
    item
}

/// [`stored_quote`] whose only item is [`extensible_item`].
///
/// # Panics
/// Never (the JSON is fixed).
pub fn extensible_quote(id: &str) -> StoredQuote {
    let mut stored = stored_quote(id, T0);
    stored.quote.quote_item =
        vec![serde_json::from_value(extensible_item()).expect("fixture item parses")];
    stored.price_ids = vec!["slice-monthly".to_owned(), "slice-exit-penalty".to_owned()];
    stored
}

/// An outbox event about `aggregate_id` in `tenant` (`None`: a catalog event).
pub fn event(tenant: Option<&TenantId>, aggregate_id: &str, event_type: &str) -> OutboxEvent {
    let event_id = unique();
    OutboxEvent {
        event_id: event_id.clone(),
        event_type: event_type.to_owned(),
        tenant: tenant.map(|t| t.as_str().to_owned()),
        aggregate_id: aggregate_id.to_owned(),
        correlation_id: tenant.map(|_| format!("corr-{event_id}")),
        schema_version: "1.0".to_owned(),
        destination: if tenant.is_some() {
            Destination::QuoteEvents
        } else {
            Destination::PricingChanges
        },
        body: json!({
            "eventId": event_id,
            "eventType": event_type,
            "event": {"quote": {"id": aggregate_id, "price": 12.75}}
        }),
        created_at: T0,
    }
}

/// The order `order_id` the acceptance of `quote` creates at `at`: version 1, not dispatched
/// yet, no `href`.
pub fn new_order(quote: &StoredQuote, order_id: &str, at: OffsetDateTime) -> StoredOrder {
    StoredOrder {
        order: order_from_quote(&quote.quote, order_id, at),
        version: 1,
        dispatch: Dispatch::new_order(),
    }
}

/// A catalog offering with an unmodelled field and a last update.
///
/// # Panics
/// Never (the JSON is fixed).
pub fn offering(id: &str, name: &str) -> ProductOffering {
    serde_json::from_value(json!({
        "id": id,
        "name": name,
        "isSellable": true,
        "lifecycleStatus": "Active",
        "lastUpdate": rfc3339(T0),
        "productOfferingPrice": [{"id": format!("{id}-price")}],
        "channel": [{"id": "web"}]
    }))
    .expect("fixture offering parses")
}

/// A catalog price with an unmodelled field.
///
/// # Panics
/// Never (the JSON is fixed).
pub fn price(id: &str, amount: f64) -> ProductOfferingPrice {
    serde_json::from_value(json!({
        "id": id,
        "priceType": "recurring",
        "recurringChargePeriodType": "month",
        "recurringChargePeriodLength": 1,
        "price": {"unit": "EUR", "value": amount},
        "lastUpdate": rfc3339(T0),
        "tax": [{"taxCategory": "VAT", "taxRate": 20}]
    }))
    .expect("fixture price parses")
}

/// A hub subscription.
pub fn subscription(id: &str, query: Option<&str>) -> EventSubscription {
    EventSubscription {
        id: id.to_owned(),
        callback: format!("https://listener.example/{id}"),
        query: query.map(str::to_owned),
    }
}

/// The ids of every pending outbox event (up to 10,000), oldest first.
pub(crate) async fn pending_ids(outbox: &dyn OutboxStore) -> Vec<String> {
    outbox
        .pending(10_000)
        .await
        .expect("pending")
        .into_iter()
        .map(|e| e.event_id)
        .collect()
}

/// Marks everything already pending in `outbox` as published at `at`.
pub(crate) async fn drain_outbox(outbox: &dyn OutboxStore, at: OffsetDateTime) {
    loop {
        let batch = outbox.pending(500).await.expect("pending");
        if batch.is_empty() {
            return;
        }
        outbox
            .mark_published(&batch, at)
            .await
            .expect("mark drained");
    }
}

/// Receives batches with `receive` until `expected` messages arrived or a batch came back
/// empty.
pub(crate) async fn receive_until<M, Fut>(
    expected: usize,
    mut receive: impl FnMut() -> Fut,
) -> Vec<M>
where
    Fut: std::future::Future<Output = Vec<M>>,
{
    let mut received = Vec::new();
    while received.len() < expected {
        let batch = receive().await;
        if batch.is_empty() {
            break;
        }
        received.extend(batch);
    }
    received
}

/// Asserts that a write was refused with [`StoreError::VersionConflict`]; `rule` says which
/// rule requires it.
#[track_caller]
pub(crate) fn assert_conflict<T: std::fmt::Debug>(result: &Result<T, StoreError>, rule: &str) {
    assert!(
        matches!(result, Err(StoreError::VersionConflict)),
        "{rule}: got {result:?}"
    );
}
