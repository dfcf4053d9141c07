//! Clients for moto, per-test tables and queues (from `q2c-testkit`), and fixtures.

use aws_sdk_dynamodb::types::AttributeValue;
use q2c_aws::DynamoStore;
use q2c_contract::fixtures::new_order;
use q2c_model::tmf::{Quote, QuoteState, RelatedParty};
use q2c_service::context::TenantId;
use q2c_service::orders::StoredOrder;
use q2c_service::ports::QuoteStore;
use q2c_service::ports::{Destination, OutboxEvent, StoredQuote};
use time::OffsetDateTime;
use time::macros::datetime;

pub use q2c_testkit::moto::{dynamo_client, endpoint, sqs_client, unique};
pub use q2c_testkit::sqs::{create_queue, queue_with_dlq};

/// A fresh table with the key schema and GSIs of the SAM template, and a store over it.
pub async fn store() -> DynamoStore {
    let client = dynamo_client();
    let table = q2c_testkit::dynamo::unique_table(&client, "q2c-test").await;
    DynamoStore::new(client, table)
}

/// A tenant.
pub fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).expect("valid tenant")
}

/// A stored quote, version 1, in progress, using `prices`.
pub fn quote(id: &str, date: OffsetDateTime, prices: &[&str]) -> StoredQuote {
    StoredQuote {
        quote: Quote {
            id: Some(id.into()),
            quote_date: Some(date),
            state: Some(QuoteState::InProgress),
            external_id: Some(format!("ext-{id}")),
            related_party: vec![RelatedParty {
                id: "cust-1".into(),
                role: Some("customer".into()),
                ..RelatedParty::default()
            }],
            ..Quote::default()
        },
        version: 1,
        approval_required: false,
        price_ids: prices.iter().map(|p| (*p).to_owned()).collect(),
    }
}

/// An outbox event about `aggregate`.
pub fn event(aggregate: &str, destination: Destination) -> OutboxEvent {
    let event_id = uuid::Uuid::new_v4().to_string();
    OutboxEvent {
        event_id: event_id.clone(),
        event_type: "QuoteCreateEvent".into(),
        tenant: Some("acme".into()),
        aggregate_id: aggregate.into(),
        correlation_id: Some("corr-1".into()),
        schema_version: "1.0".into(),
        destination,
        body: serde_json::json!({
            "eventId": event_id,
            "eventType": "QuoteCreateEvent",
            "eventTime": "2026-11-27T14:00:00Z",
            "event": {"quote": {"id": aggregate}}
        }),
        created_at: OffsetDateTime::now_utc(),
    }
}

/// `stored` accepted (version 2) and the order `o-1` its acceptance creates at `now`, as the
/// quote service builds them for `QuoteStore::accept`.
pub fn accepted(stored: &StoredQuote, now: OffsetDateTime) -> (StoredQuote, StoredOrder) {
    let mut accepted = stored.clone();
    accepted.version = 2;
    accepted.quote.state = Some(QuoteState::Accepted);
    let order = new_order(&accepted, "o-1", now);
    (accepted, order)
}

/// What most tests start from: a fresh store, the tenant `acme` and 2026-01-01 10:00 UTC.
pub async fn setup() -> (DynamoStore, TenantId, OffsetDateTime) {
    (
        store().await,
        tenant("acme"),
        datetime!(2026-01-01 10:00 UTC),
    )
}

/// `stored` inserted for `tenant` and accepted (without events) into the order `o-1` at
/// `now`; the accepted quote and the order.
pub async fn insert_accepted(
    store: &DynamoStore,
    tenant: &TenantId,
    stored: &StoredQuote,
    now: OffsetDateTime,
) -> (StoredQuote, StoredOrder) {
    store.insert(tenant, stored, &[]).await.expect("insert");
    let (accepted, order) = accepted(stored, now);
    store
        .accept(tenant, &accepted, 1, &order, &[])
        .await
        .expect("accept");
    (accepted, order)
}

/// The item `pk` / `sk` of `table` as stored (a consistent `GetItem`), if there is one.
pub async fn raw_item(
    table: &str,
    pk: &str,
    sk: &str,
) -> Option<std::collections::HashMap<String, AttributeValue>> {
    dynamo_client()
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.to_owned()))
        .key("sk", AttributeValue::S(sk.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
}

/// A first page of `price`'s open quotes: the store finds the unsharded `POPIDX#<price>` of
/// older releases empty and, for a while, stops checking it before removing an index item
/// (tests that count a write's requests count them as they are once that is known).
pub async fn note_no_legacy_index(store: &DynamoStore, price: &str) {
    use q2c_service::fanout::{IndexKey, OpenQuoteIndex};
    store
        .open_quotes(IndexKey::Price(price).page(None, 1))
        .await
        .expect("index page");
}
