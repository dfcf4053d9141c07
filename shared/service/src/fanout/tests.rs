//! Unit tests of the price fan-out over in-memory fakes: ordering, tombstones, duplicates,
//! the per-state rules, the approval guard, and continuation across invocations.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use q2c_model::sample_catalog::sample_catalog;
use q2c_model::tmf::{EntityRef, Quote, QuoteItem, QuoteState};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use super::fakes::*;
use super::*;
use crate::catalog::CatalogStore;
use crate::configure::load_catalog_for;
use crate::context::Scope;
use crate::error::ServiceError;
use crate::messaging::{HandlerError, ParsedMessage, parse_message};
use crate::quotes::QuoteService;
use crate::quotes::{Ports, StoredQuote};
use crate::store::StoreError;
use crate::testing::{
    DefaultSettings, MemoryQuotes, ReadOnlyHubs, RecordingAnnounce, SentMessages, TestClock,
    Unused, caller, item, quote_of, quote_service,
};

const ALL: &[Scope] = &[Scope::QuoteRead, Scope::QuoteWrite, Scope::QuoteApprove];

struct World {
    quotes: Arc<MemoryQuotes>,
    catalog: Arc<MemoryPriceCatalog>,
    queue: Arc<SentMessages>,
    announce: Arc<RecordingAnnounce>,
    service: QuoteService,
    fanout: PriceFanout,
}

fn world(page_size: usize) -> World {
    let quotes = Arc::new(MemoryQuotes::default());
    let catalog = Arc::new(MemoryPriceCatalog::default());
    let queue = Arc::new(SentMessages::to("pricing-continuations"));
    let announce = Arc::new(RecordingAnnounce::default());
    let clock = Arc::new(TestClock(Mutex::new(datetime!(2026-11-27 12:00 UTC))));
    let ports = Ports {
        quotes: quotes.clone(),
        orders: quotes.clone(),
        products: quotes.clone(),
        catalog: catalog.clone(),
        hubs: Arc::new(ReadOnlyHubs(Vec::new())),
        idempotency: Arc::new(Unused),
        settings: Arc::new(DefaultSettings),
        clock: clock.clone(),
    };
    let service = quote_service(ports);
    let fanout = PriceFanout::new(
        FanoutPorts {
            quotes: quotes.clone(),
            catalog: catalog.clone(),
            writer: catalog.clone(),
            offerings: catalog.clone(),
            index: Arc::new(MemoryIndex(quotes.clone())),
            settings: Arc::new(DefaultSettings),
            queue: queue.clone(),
            announce: announce.clone(),
            clock,
        },
        FanoutConfig {
            page_size,
            ..FanoutConfig::default()
        },
    );
    World {
        quotes,
        catalog,
        queue,
        announce,
        service,
        fanout,
    }
}

/// A world of `page_size` and one open `acme` quote of fibre-1g.
async fn with_fibre_quote(page_size: usize) -> (World, StoredQuote) {
    let w = world(page_size);
    let q = w.quote("acme", &["fibre-1g"]).await;
    (w, q)
}

impl World {
    async fn quote(&self, tenant: &str, offerings: &[&str]) -> StoredQuote {
        let items = offerings.iter().map(|o| item(o, 1)).collect();
        self.service
            .create(&caller(tenant, ALL), quote_of(items))
            .await
            .expect("created")
    }

    /// Handles `message` with the fan-out, which must succeed.
    async fn handled(&self, message: ParsedMessage) -> FanoutOutcome {
        self.fanout.handle(message).await.expect("handled")
    }

    /// Handles the offering event `event_type` carrying `offering`, which must succeed.
    async fn offering_event(
        &self,
        event_id: &str,
        event_type: &str,
        offering: Value,
    ) -> FanoutOutcome {
        self.handled(offering_message(event_id, event_type, offering))
            .await
    }

    /// Tries to approve quote `id` of tenant `acme`.
    async fn approve(&self, id: &str) -> Result<StoredQuote, ServiceError> {
        let body = json!({"state": "approved"});
        self.service
            .patch(&caller("acme", ALL), id, &body, None)
            .await
    }

    async fn set_state(&self, tenant: &str, id: &str, state: &str) -> StoredQuote {
        self.service
            .patch(&caller(tenant, ALL), id, &json!({ "state": state }), None)
            .await
            .expect("state changed")
    }

    fn stored(&self, tenant: &str, id: &str) -> StoredQuote {
        self.quotes
            .quotes
            .lock()
            .expect("lock")
            .get(&(tenant.to_owned(), id.to_owned()))
            .cloned()
            .expect("quote exists")
    }

    fn events_of(&self, id: &str) -> Vec<String> {
        self.quotes
            .outbox
            .lock()
            .expect("lock")
            .iter()
            .filter(|e| e.aggregate_id == id)
            .map(|e| e.event_type.clone())
            .collect()
    }
}

/// `entry` (a sample-catalog record) as JSON changed by `edit`, stamped `last_update`.
fn stamped(
    entry: impl serde::Serialize,
    last_update: OffsetDateTime,
    edit: impl FnOnce(&mut Value),
) -> Value {
    let mut value = serde_json::to_value(entry).expect("json");
    value["lastUpdate"] = json!(
        last_update
            .format(&time::format_description::well_known::Rfc3339)
            .expect("format")
    );
    edit(&mut value);
    value
}

/// A catalog event of `event_type` carrying `entry` as `event.<field>`.
fn catalog_message(event_id: &str, event_type: &str, field: &str, entry: Value) -> ParsedMessage {
    let body = json!({
        "eventId": event_id,
        "eventType": event_type,
        "eventTime": "2026-11-27T12:00:00Z",
        "event": { field: entry },
    });
    parse_message("m-1", &body.to_string(), &BTreeMap::new(), Some(1)).expect("envelope")
}

/// A sample-catalog price changed by `edit`, stamped `last_update`.
fn price_json(id: &str, last_update: OffsetDateTime, edit: impl FnOnce(&mut Value)) -> Value {
    let price = sample_catalog().prices().find(|p| p.id == id).cloned();
    stamped(price.expect("sample price"), last_update, edit)
}

fn message(event_id: &str, event_type: &str, price: Value) -> ParsedMessage {
    catalog_message(event_id, event_type, "productOfferingPrice", price)
}

/// The quote write was refused because a price it uses is retired.
fn assert_price_retired(result: &Result<StoredQuote, ServiceError>) {
    assert!(
        matches!(
            result,
            Err(ServiceError::BusinessRule {
                code: PRICE_RETIRED,
                ..
            })
        ),
        "{result:?}"
    );
}

/// The fibre monthly price raised to 45, as of 2026-06-01.
fn fibre_monthly_to_45() -> ParsedMessage {
    change_event("e-1", fibre_monthly_at(45, datetime!(2026-06-01 0:00 UTC)))
}

fn change_event(event_id: &str, price: Value) -> ParsedMessage {
    message(
        event_id,
        "ProductOfferingPriceAttributeValueChangeEvent",
        price,
    )
}

fn fibre_monthly_at(amount: i64, last_update: OffsetDateTime) -> Value {
    price_json("fibre-1g-monthly", last_update, |p| {
        p["price"]["value"] = json!(amount);
    })
}

fn money(v: &str) -> Decimal {
    v.parse().expect("decimal")
}

/// (duty free, tax included) of the fibre monthly line, and of its promotion alteration.
fn fibre_line(quote: &StoredQuote) -> ((Decimal, Decimal), (Decimal, Decimal)) {
    let line = quote.quote.quote_item[0]
        .quote_item_price
        .iter()
        .find(|p| {
            p.product_offering_price.as_ref().map(|r| r.id.as_str()) == Some("fibre-1g-monthly")
        })
        .expect("monthly line");
    let amounts = |p: &q2c_model::tmf::Price| {
        (
            p.duty_free_amount.expect("duty free").amount,
            p.tax_included_amount.expect("tax included").amount,
        )
    };
    (
        amounts(&line.price),
        amounts(&line.price_alteration[0].price),
    )
}

fn monthly_total(quote: &StoredQuote) -> (Decimal, Decimal) {
    let total = quote
        .quote
        .quote_total_price
        .iter()
        .find(|p| p.price_type == "recurring")
        .expect("recurring total");
    (
        total.price.duty_free_amount.expect("df").amount,
        total.price.tax_included_amount.expect("ti").amount,
    )
}

#[tokio::test]
async fn a_price_change_reprices_open_quotes_with_the_active_promotion() {
    let (w, q) = with_fibre_quote(200).await;
    // Example 2 of docs/pricing.md before the change: 40.00 / 48.00, promotion 20.00 / 24.00.
    assert_eq!(
        fibre_line(&q),
        ((money("40"), money("48")), (money("20"), money("24")))
    );

    let outcome = w.handled(fibre_monthly_to_45()).await;

    assert_eq!(outcome.applied, Some(ApplyOutcome::Applied));
    assert_eq!(outcome.page.repriced, 1);
    let after = w.stored("acme", q.id());
    // 45.00 × 1.2 = 54.00; the 50 % promotion for 3 months: 22.50 / 27.00.
    assert_eq!(
        fibre_line(&after),
        ((money("45"), money("54")), (money("22.50"), money("27.00")))
    );
    assert_eq!(monthly_total(&after), (money("45"), money("54")));
    assert_eq!(after.version, 2);
    assert_eq!(
        w.events_of(q.id()),
        ["QuoteCreateEvent", "QuoteAttributeValueChangeEvent"]
    );
    assert_eq!(*w.announce.0.lock().expect("lock"), ["e-1"]);
}

#[tokio::test]
async fn a_promotion_change_reprices_its_alteration() {
    let (w, q) = with_fibre_quote(200).await;
    let promo = price_json("fibre-1g-promo-50", datetime!(2026-06-01 0:00 UTC), |p| {
        p["percentage"] = json!(40);
    });

    w.handled(change_event("e-1", promo)).await;

    // 40 % of 40.00 = 16.00; × 1.2 = 19.20. The line's own price is unchanged.
    assert_eq!(
        fibre_line(&w.stored("acme", q.id())),
        ((money("40"), money("48")), (money("16.00"), money("19.20")))
    );
}

#[tokio::test]
async fn two_changes_end_in_the_newest_in_either_order() {
    for newest_first in [false, true] {
        let w = world(200);
        let q = w.quote("acme", &["fibre-1g"]).await;
        let older = change_event(
            "e-old",
            fibre_monthly_at(42, datetime!(2026-05-01 0:00 UTC)),
        );
        let newer = change_event(
            "e-new",
            fibre_monthly_at(45, datetime!(2026-06-01 0:00 UTC)),
        );
        let (first, second) = if newest_first {
            (newer, older)
        } else {
            (older, newer)
        };
        w.fanout.handle(first).await.expect("first");
        let outcome = w.fanout.handle(second).await.expect("second");

        assert_eq!(
            fibre_line(&w.stored("acme", q.id())).0,
            (money("45"), money("54"))
        );
        if newest_first {
            assert!(matches!(outcome.applied, Some(ApplyOutcome::Stale { .. })));
            assert_eq!(outcome.page, PageReport::default());
            assert_eq!(w.fanout.stale_events_skipped(), 1);
            assert_eq!(*w.announce.0.lock().expect("lock"), ["e-new"]);
        } else {
            assert_eq!(w.fanout.stale_events_skipped(), 0);
        }
    }
}

#[tokio::test]
async fn a_delete_leaves_a_tombstone_that_an_older_update_cannot_resurrect() {
    let w = world(200);
    let deleted = message(
        "e-del",
        "ProductOfferingPriceDeleteEvent",
        json!({"id": "tv-addon-monthly", "lastUpdate": "2026-06-01T00:00:00Z"}),
    );
    w.fanout.handle(deleted).await.expect("delete");
    let late = change_event(
        "e-late",
        price_json("tv-addon-monthly", datetime!(2026-05-01 0:00 UTC), |p| {
            p["price"]["value"] = json!(11);
        }),
    );

    let outcome = w.fanout.handle(late).await.expect("late update");

    assert!(matches!(outcome.applied, Some(ApplyOutcome::Stale { .. })));
    let visible = w
        .catalog
        .prices(&["tv-addon-monthly".to_owned()])
        .await
        .expect("read");
    assert!(
        visible.is_empty(),
        "the tombstone hides the price: {visible:?}"
    );
}

#[tokio::test]
async fn the_same_event_twice_reprices_once() {
    let (w, q) = with_fibre_quote(200).await;
    let event = fibre_monthly_to_45();

    w.fanout.handle(event.clone()).await.expect("first");
    let again = w.fanout.handle(event).await.expect("second");

    assert_eq!(again.applied, Some(ApplyOutcome::AlreadyCurrent));
    assert_eq!(again.page.repriced, 0);
    assert_eq!(again.page.unchanged, 1);
    assert_eq!(w.stored("acme", q.id()).version, 2);
    assert_eq!(w.events_of(q.id()).len(), 2, "create + one re-price");
}

#[tokio::test]
async fn approved_quotes_keep_their_price_and_get_a_note_once() {
    let (w, q) = with_fibre_quote(200).await;
    let approved = w.set_state("acme", q.id(), "approved").await;
    let event = fibre_monthly_to_45();

    let outcome = w.fanout.handle(event.clone()).await.expect("handled");
    w.fanout.handle(event).await.expect("redelivered");

    assert_eq!(outcome.page.noted, 1);
    let after = w.stored("acme", q.id());
    assert_eq!(
        after.quote.quote_item, approved.quote.quote_item,
        "price protected"
    );
    assert_eq!(after.quote.state, Some(QuoteState::Approved));
    assert_eq!(after.quote.note.len(), 1);
    let note = &after.quote.note[0];
    assert!(
        note.text.contains("newer price fibre-1g-monthly"),
        "{}",
        note.text
    );
    assert!(
        note.text.contains("2026-12-27"),
        "protected until validFor end: {}",
        note.text
    );
    assert_eq!(after.version, approved.version + 1, "one note, once");
}

#[tokio::test]
async fn an_approved_quote_is_told_when_its_price_is_retired() {
    let (w, q) = with_fibre_quote(200).await;
    let approved = w.set_state("acme", q.id(), "approved").await;
    let retired = price_json("fibre-1g-install", datetime!(2026-06-01 0:00 UTC), |p| {
        p["lifecycleStatus"] = json!("Retired");
    });

    w.handled(change_event("e-1", retired)).await;

    let after = w.stored("acme", q.id());
    assert!(
        after.quote.note[0]
            .text
            .contains("fibre-1g-install was retired")
    );
    assert_eq!(after.quote.quote_item, approved.quote.quote_item);
}

#[tokio::test]
async fn a_retired_price_flags_open_quotes_and_blocks_approval_until_the_item_changes() {
    let (w, q) = with_fibre_quote(200).await;
    let retired = price_json("fibre-1g-install", datetime!(2026-06-01 0:00 UTC), |p| {
        p["lifecycleStatus"] = json!("Retired");
    });

    let outcome = w.handled(change_event("e-1", retired)).await;

    assert_eq!(outcome.page.flagged, 1);
    let flagged = w.stored("acme", q.id());
    assert_eq!(
        flagged.quote.quote_item, q.quote.quote_item,
        "not re-priced"
    );
    assert_eq!(
        flagged.quote.note[0].type_info.type_name.as_deref(),
        Some("PriceRetiredNote")
    );
    let refused = w.approve(q.id()).await;
    match refused {
        Err(ServiceError::BusinessRule { code, message, .. }) => {
            assert_eq!(code, PRICE_RETIRED);
            assert!(message.contains("fibre-1g-install"), "{message}");
        }
        other => panic!("expected PRICE_RETIRED, got {other:?}"),
    }
    // Removing the note does not lift the guard: it checks the catalog.
    let unnoted = w
        .service
        .patch(&caller("acme", ALL), q.id(), &json!({"note": []}), None)
        .await
        .expect("notes are client-editable");
    let still = w.approve(unnoted.id()).await;
    assert_price_retired(&still);

    // Changing the item (re-priced without the retired price) lifts it.
    w.service
        .patch(
            &caller("acme", ALL),
            q.id(),
            &json!({"quoteItem": [{"productOffering": {"id": "mobile-l"}, "quantity": 1}]}),
            None,
        )
        .await
        .expect("items changed");
    let approved = w.set_state("acme", q.id(), "approved").await;
    assert_eq!(approved.quote.state, Some(QuoteState::Approved));
}

#[tokio::test]
async fn final_quotes_are_untouched() {
    let (w, accepted) = with_fibre_quote(200).await;
    w.set_state("acme", accepted.id(), "approved").await;
    let accepted = w.set_state("acme", accepted.id(), "accepted").await;
    let cancelled = w.quote("acme", &["fibre-1g"]).await;
    let cancelled = w.set_state("acme", cancelled.id(), "cancelled").await;

    let outcome = w.handled(fibre_monthly_to_45()).await;

    assert_eq!(outcome.page.untouched, 2);
    assert_eq!(w.stored("acme", accepted.id()), accepted);
    assert_eq!(w.stored("acme", cancelled.id()), cancelled);
}

#[tokio::test]
async fn invalid_messages_are_poison_with_a_precise_reason() {
    let w = world(200);
    let cases = [
        (
            message("e", "CatalogCreateEvent", json!({"id": "x"})),
            "unsupported event type `CatalogCreateEvent`",
        ),
        (
            change_event("e", json!({"lastUpdate": "2026-06-01T00:00:00Z"})),
            "event.productOfferingPrice: missing field `id`",
        ),
        (
            change_event(
                "e",
                json!({"id": " ", "lastUpdate": "2026-06-01T00:00:00Z"}),
            ),
            "event.productOfferingPrice.id: empty",
        ),
        (
            change_event("e", json!({"id": "p"})),
            "event.productOfferingPrice.lastUpdate: missing",
        ),
        (
            change_event(
                "e",
                json!({"id": "p", "lastUpdate": "2026-06-01T00:00:00Z",
                       "price": {"unit": "EUR", "value": "abc"}}),
            ),
            "event.productOfferingPrice.price.value: ",
        ),
        (
            change_event(
                "e",
                json!({"id": "p", "lastUpdate": "2026-06-01T00:00:00Z",
                       "price": {"unit": "EUR", "value": -1}}),
            ),
            "price.value: negative",
        ),
        (
            // A value the store cannot write exactly: poison at once, never retried.
            change_event(
                "e",
                json!({"id": "p", "lastUpdate": "2026-06-01T00:00:00Z",
                       "price": {"unit": "EUR", "value": 1.2345678901234567}}),
            ),
            "event.productOfferingPrice.price.value: 17 significant digits, over the limit maxSignificantDigits of 15",
        ),
        (
            change_event(
                "e",
                json!({"id": "p", "lastUpdate": "2026-06-01T00:00:00Z",
                       "description": "d".repeat(70_000)}),
            ),
            "event.productOfferingPrice: ",
        ),
    ];
    for (message, expected) in cases {
        match w.fanout.handle(message).await {
            Err(HandlerError::Poison { reason }) => {
                assert!(reason.contains(expected), "`{reason}` lacks `{expected}`");
            }
            other => panic!("expected poison `{expected}`, got {other:?}"),
        }
    }
    assert!(w.announce.0.lock().expect("lock").is_empty());
}

/// Handles the queued continuation messages until none is left; returns how many.
async fn drain(w: &World) -> usize {
    let mut handled = 0;
    loop {
        let next = w.queue.sent.lock().expect("lock").pop_front();
        let Some(outgoing) = next else {
            return handled;
        };
        // Continuations are sent in the configured major (the default: the current one).
        let version = crate::event_versions::SchemaMajor::DEFAULT_EMIT.version();
        assert_eq!(outgoing.attributes["schemaVersion"], version);
        let body: serde_json::Value = serde_json::from_str(&outgoing.body).expect("JSON");
        assert_eq!(body["schemaVersion"], version);
        let parsed = parse_message("m", &outgoing.body, &outgoing.attributes, Some(1))
            .expect("continuation envelope");
        let outcome = w.fanout.handle(parsed).await.expect("continuation");
        assert_eq!(outcome.applied, None, "a continuation never re-applies");
        handled += 1;
    }
}

#[tokio::test]
async fn a_thousand_quotes_are_repriced_once_each_across_continuations() {
    let w = world(7);
    let mut ids = Vec::new();
    for n in 0..1000 {
        let tenant = ["acme", "globex", "initech"][n % 3];
        let offerings: &[&str] = if n % 2 == 0 {
            &["fibre-1g"]
        } else {
            &["home-bundle"]
        };
        ids.push((tenant, w.quote(tenant, offerings).await.id().to_owned()));
    }
    let event = fibre_monthly_to_45();

    let first = w.fanout.handle(event).await.expect("first page");
    let continuations = drain(&w).await;

    assert_eq!(first.page.repriced, 7);
    assert!(first.continued_after.is_some());
    assert_eq!(continuations, 1000usize.div_ceil(7) - 1);
    for (tenant, id) in &ids {
        let stored = w.stored(tenant, id);
        assert_eq!(stored.version, 2, "{tenant}/{id} re-priced exactly once");
        assert_eq!(fibre_line(&stored).0, (money("45"), money("54")));
        assert_eq!(
            w.events_of(id)
                .iter()
                .filter(|t| *t == "QuoteAttributeValueChangeEvent")
                .count(),
            1
        );
    }
    assert_eq!(
        *w.announce.0.lock().expect("lock"),
        ["e-1"],
        "announced once"
    );
}

#[tokio::test]
async fn a_failed_continuation_send_fails_the_message_and_the_retry_loses_nothing() {
    let w = world(3);
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(w.quote("acme", &["fibre-1g"]).await.id().to_owned());
    }
    let event = fibre_monthly_to_45();
    *w.queue.refuse.lock().expect("lock") = true;

    let failed = w.fanout.handle(event.clone()).await;
    assert!(matches!(failed, Err(HandlerError::Transient(_))));
    assert_eq!(
        w.stored("acme", &ids[0]).version,
        1,
        "the second segment's start is sent before the first page is processed"
    );

    *w.queue.refuse.lock().expect("lock") = false;
    let retried = w.fanout.handle(event).await.expect("redelivered");
    assert_eq!(retried.applied, Some(ApplyOutcome::AlreadyCurrent));
    assert_eq!(retried.page.repriced, 3, "the first page, on the retry");
    drain(&w).await;
    for id in &ids {
        assert_eq!(w.stored("acme", id).version, 2);
    }
}

#[tokio::test]
async fn a_deleted_price_flags_open_quotes_like_a_retired_one() {
    let w = world(200);
    let q = w.quote("acme", &["tv-addon"]).await;
    let deleted = message(
        "e-del",
        "ProductOfferingPriceDeleteEvent",
        json!({"id": "tv-addon-monthly", "lastUpdate": "2026-06-01T00:00:00Z"}),
    );

    let outcome = w.fanout.handle(deleted).await.expect("handled");

    assert_eq!(outcome.page.flagged, 1);
    let refused = w.approve(q.id()).await;
    assert_price_retired(&refused);
}

#[tokio::test]
async fn a_continuation_with_a_bad_cursor_is_poison_and_never_applies() {
    let w = world(200);
    let body = json!({
        "eventId": "c-1",
        "eventType": CONTINUATION_EVENT_TYPE,
        "event": {"priceFanout": {"priceId": "fibre-1g-monthly", "cursor": "no-separator",
                  "retired": false, "lastUpdate": "2026-06-01T00:00:00Z",
                  "sourceEventId": "e-1"}},
    });
    let parsed = parse_message("m", &body.to_string(), &BTreeMap::new(), Some(1)).expect("env");

    match w.fanout.handle(parsed).await {
        Err(HandlerError::Poison { reason }) => assert!(reason.contains("cursor"), "{reason}"),
        other => panic!("expected poison, got {other:?}"),
    }
    assert!(w.announce.0.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_page_reads_the_catalog_once_for_all_its_quotes() {
    let w = world(200);
    let mut ids = Vec::new();
    for n in 0..10 {
        let offerings: &[&str] = if n % 2 == 0 {
            &["fibre-1g"]
        } else {
            &["home-bundle"]
        };
        ids.push(w.quote("acme", offerings).await.id().to_owned());
    }
    // What pricing the richest single quote reads: the page must read no more than that.
    let single = MemoryPriceCatalog::default();
    let bundle = w.stored("acme", &ids[1]);
    load_catalog_for(&single, &bundle.quote.quote_item)
        .await
        .expect("catalog");
    let one_quote_reads = *single.reads.lock().expect("lock");
    *w.catalog.reads.lock().expect("lock") = (0, 0);

    let outcome = w.handled(fibre_monthly_to_45()).await;

    assert_eq!(outcome.page.repriced, 10);
    assert_eq!(
        *w.catalog.reads.lock().expect("lock"),
        one_quote_reads,
        "offerings and prices read once per page, not once per quote"
    );
    for id in &ids {
        assert_eq!(
            fibre_line(&w.stored("acme", id)).0,
            (money("45"), money("54"))
        );
    }
}

#[tokio::test]
async fn a_quote_changed_after_the_page_read_is_read_again_and_repriced() {
    let (w, q) = with_fibre_quote(200).await;
    // Another writer changes each quote once between the fan-out's read and its write.
    *w.quotes.raced.lock().expect("lock") = Some(Vec::new());

    let outcome = w.handled(fibre_monthly_to_45()).await;

    assert_eq!(outcome.page.repriced, 1);
    let after = w.stored("acme", q.id());
    assert_eq!(
        after.quote.description.as_deref(),
        Some("edited meanwhile"),
        "the concurrent change is kept, not overwritten by the page's stale read"
    );
    assert_eq!(fibre_line(&after).0, (money("45"), money("54")));
    assert_eq!(after.version, 3);
    assert_eq!(
        w.events_of(q.id()),
        ["QuoteCreateEvent", "QuoteAttributeValueChangeEvent"]
    );
}

// ---- offering events ----

/// A sample-catalog offering changed by `edit`, stamped `last_update`.
fn offering_json(id: &str, last_update: OffsetDateTime, edit: impl FnOnce(&mut Value)) -> Value {
    let offering = sample_catalog().offerings().find(|o| o.id == id).cloned();
    stamped(offering.expect("sample offering"), last_update, edit)
}

fn offering_message(event_id: &str, event_type: &str, offering: Value) -> ParsedMessage {
    catalog_message(event_id, event_type, "productOffering", offering)
}

fn stored_offering(w: &World, id: &str) -> (Value, bool) {
    let offerings = w.catalog.offerings.lock().expect("lock");
    let (offering, _, deleted) = offerings.get(id).expect("offering row");
    (serde_json::to_value(offering).expect("json"), *deleted)
}

#[tokio::test]
async fn offering_events_in_any_order_end_in_the_newest_and_keep_unknown_fields() {
    for newest_first in [false, true] {
        let w = world(200);
        let older = offering_json("fibre-1g", datetime!(2026-06-01 0:00 UTC), |o| {
            o["name"] = json!("older");
        });
        let newer = offering_json("fibre-1g", datetime!(2026-06-02 0:00 UTC), |o| {
            o["name"] = json!("newer");
            o["@type"] = json!("FibreOfferingV2");
            o["channel"] = json!([{ "id": "web", "x-weight": 1.25 }]);
        });
        let mut events = vec![
            offering_message("e-old", "ProductOfferingAttributeValueChangeEvent", older),
            offering_message(
                "e-new",
                "ProductOfferingAttributeValueChangeEvent",
                newer.clone(),
            ),
        ];
        if newest_first {
            events.reverse();
        }
        let mut outcomes = Vec::new();
        for event in events {
            outcomes.push(w.fanout.handle(event).await.expect("handled").applied);
        }

        let (stored, deleted) = stored_offering(&w, "fibre-1g");
        assert_eq!(stored, newer, "newest_first={newest_first}");
        assert!(!deleted);
        if newest_first {
            assert!(matches!(outcomes[1], Some(ApplyOutcome::Stale { .. })));
            assert_eq!(w.fanout.stale_events_skipped(), 1);
            assert_eq!(*w.announce.0.lock().expect("lock"), ["e-new"]);
        } else {
            assert_eq!(outcomes, [Some(ApplyOutcome::Applied); 2]);
        }
    }
}

#[tokio::test]
async fn an_offering_delete_leaves_a_tombstone_an_older_update_cannot_resurrect() {
    let w = world(200);
    let gone = offering_json("tv-addon", datetime!(2026-06-02 0:00 UTC), |_| {});
    let late = offering_json("tv-addon", datetime!(2026-06-01 0:00 UTC), |o| {
        o["name"] = json!("late update");
    });
    w.offering_event("e-del", "ProductOfferingDeleteEvent", gone)
        .await;
    let late_outcome = w
        .offering_event("e-late", "ProductOfferingAttributeValueChangeEvent", late)
        .await;

    assert!(matches!(
        late_outcome.applied,
        Some(ApplyOutcome::Stale { .. })
    ));
    assert!(stored_offering(&w, "tv-addon").1, "still a tombstone");
    assert!(
        w.catalog
            .offerings(&["tv-addon".to_owned()])
            .await
            .expect("read")
            .is_empty(),
        "reads skip the tombstone"
    );
}

#[tokio::test]
async fn a_retired_offering_flags_open_quotes_holding_it_and_leaves_the_rest() {
    let (w, open) = with_fibre_quote(2).await;
    let other_tenant = w.quote("globex", &["fibre-1g", "mobile-l"]).await;
    let pending = w.quote("acme", &["fibre-1g"]).await;
    w.set_state("acme", pending.id(), "pending").await;
    let unrelated = w.quote("acme", &["mobile-l"]).await;
    let accepted = w.quote("acme", &["fibre-1g"]).await;
    w.set_state("acme", accepted.id(), "approved").await;
    w.set_state("acme", accepted.id(), "accepted").await;
    let before_prices = w.stored("acme", open.id()).quote.quote_total_price;

    let retired = offering_json("fibre-1g", datetime!(2026-06-01 0:00 UTC), |o| {
        o["lifecycleStatus"] = json!("Retired");
    });
    let first = w
        .offering_event(
            "e-retire",
            "ProductOfferingStateChangeEvent",
            retired.clone(),
        )
        .await;
    let continued = drain(&w).await;

    assert_eq!(first.page.flagged, 2, "page of two: open, then globex's");
    assert!(continued >= 1, "the rest continue in a follow-up message");
    for (tenant, id) in [
        ("acme", open.id()),
        ("globex", other_tenant.id()),
        ("acme", pending.id()),
    ] {
        let stored = w.stored(tenant, id);
        let note = stored
            .quote
            .note
            .iter()
            .find(|n| n.id.as_deref() == Some("OfferingRetiredNote:fibre-1g"))
            .unwrap_or_else(|| panic!("{tenant}/{id} flagged"));
        assert!(note.text.contains("Offering fibre-1g was retired"));
        assert_eq!(
            w.events_of(id).last().map(String::as_str),
            Some("QuoteAttributeValueChangeEvent")
        );
    }
    assert_eq!(
        w.stored("acme", open.id()).quote.quote_total_price,
        before_prices,
        "flagged, not re-priced"
    );
    assert!(w.stored("acme", unrelated.id()).quote.note.is_empty());
    assert_eq!(w.stored("acme", unrelated.id()).version, 1);
    assert!(w.stored("acme", accepted.id()).quote.note.is_empty());

    // A redelivery flags nobody twice.
    let again = w
        .offering_event("e-retire", "ProductOfferingStateChangeEvent", retired)
        .await;
    drain(&w).await;
    assert_eq!(again.applied, Some(ApplyOutcome::AlreadyCurrent));
    assert_eq!(again.page.flagged, 0);
    assert_eq!(
        w.events_of(open.id())
            .iter()
            .filter(|t| *t == "QuoteAttributeValueChangeEvent")
            .count(),
        1
    );
}

#[tokio::test]
async fn an_offering_change_that_does_not_retire_walks_no_quotes() {
    let (w, q) = with_fibre_quote(200).await;
    let renamed = offering_json("fibre-1g", datetime!(2026-06-01 0:00 UTC), |o| {
        o["name"] = json!("Fibre 1 Gbit/s");
    });
    let outcome = w
        .offering_event("e-1", "ProductOfferingAttributeValueChangeEvent", renamed)
        .await;
    assert_eq!(outcome.applied, Some(ApplyOutcome::Applied));
    assert_eq!(outcome.page, PageReport::default());
    assert_eq!(w.stored("acme", q.id()).version, 1);
    assert_eq!(*w.announce.0.lock().expect("lock"), ["e-1"]);
}

#[tokio::test]
async fn invalid_offering_events_are_poison_naming_the_field() {
    let w = world(200);
    let cases = [
        (
            offering_json("fibre-1g", datetime!(2026-06-01 0:00 UTC), |o| {
                o.as_object_mut().expect("object").remove("lastUpdate");
            }),
            "event.productOffering.lastUpdate: missing",
        ),
        (
            offering_json("fibre-1g", datetime!(2026-06-01 0:00 UTC), |o| {
                o["lastUpdate"] = json!("yesterday");
            }),
            "event.productOffering.lastUpdate",
        ),
        (
            offering_json("fibre-1g", datetime!(2026-06-01 0:00 UTC), |o| {
                o["id"] = json!(" ");
            }),
            "event.productOffering.id: empty",
        ),
    ];
    for (offering, expected) in cases {
        match w
            .fanout
            .handle(offering_message(
                "e",
                "ProductOfferingCreateEvent",
                offering,
            ))
            .await
        {
            Err(HandlerError::Poison { reason }) => {
                assert!(reason.contains(expected), "`{reason}` lacks `{expected}`");
            }
            other => panic!("expected poison `{expected}`, got {other:?}"),
        }
    }
    assert!(w.announce.0.lock().expect("lock").is_empty());
}

#[test]
fn offering_ids_of_a_quote_include_nested_items_once() {
    let quote = Quote {
        quote_item: vec![QuoteItem {
            product_offering: Some(EntityRef::to("home-bundle")),
            quote_item: vec![
                QuoteItem {
                    product_offering: Some(EntityRef::to("fibre-1g")),
                    ..QuoteItem::default()
                },
                QuoteItem {
                    product_offering: Some(EntityRef::to("home-bundle")),
                    ..QuoteItem::default()
                },
            ],
            ..QuoteItem::default()
        }],
        ..Quote::default()
    };
    assert_eq!(offering_ids_of(&quote), ["fibre-1g", "home-bundle"]);
}

/// Refuses every price write by a stated limit, as a store would refuse a value it cannot hold.
struct RefusingWriter;

#[async_trait::async_trait]
impl PriceCatalogWriter for RefusingWriter {
    async fn apply_price_change(&self, _: &PriceChange) -> Result<ApplyOutcome, StoreError> {
        Err(StoreError::Limit(q2c_model::limits::LimitError::new(
            q2c_model::limits::MAX_CATALOG_ENTRY_BYTES,
            70_000,
            "$",
        )))
    }
}

#[tokio::test]
async fn a_change_the_store_refuses_by_a_limit_is_poison_with_its_reason() {
    let quotes = Arc::new(MemoryQuotes::default());
    let catalog = Arc::new(MemoryPriceCatalog::default());
    let announce = Arc::new(RecordingAnnounce::default());
    let fanout = PriceFanout::new(
        FanoutPorts {
            quotes: quotes.clone(),
            catalog: catalog.clone(),
            writer: Arc::new(RefusingWriter),
            offerings: catalog,
            index: Arc::new(MemoryIndex(quotes)),
            settings: Arc::new(DefaultSettings),
            queue: Arc::new(SentMessages::to("pricing-continuations")),
            announce: announce.clone(),
            clock: Arc::new(TestClock(Mutex::new(datetime!(2026-11-27 12:00 UTC)))),
        },
        FanoutConfig::default(),
    );
    let message = change_event("e", fibre_monthly_at(45, datetime!(2026-11-27 11:00 UTC)));

    match fanout.handle(message).await {
        Err(HandlerError::Poison { reason }) => {
            assert!(reason.contains("maxCatalogEntryBytes"), "{reason}");
        }
        other => panic!("a limit is permanent, not transient: {other:?}"),
    }
    assert!(
        announce.0.lock().expect("lock").is_empty(),
        "nothing announced"
    );
}

/// `event.priceFanout` of every queued continuation, in send order (left queued).
fn queued_continuations(w: &World) -> Vec<Value> {
    w.queue
        .sent
        .lock()
        .expect("lock")
        .iter()
        .map(|m| {
            let body: Value = serde_json::from_str(&m.body).expect("JSON");
            body["event"]["priceFanout"].clone()
        })
        .collect()
}

#[tokio::test]
async fn a_change_is_split_into_segments_of_whole_pages_each_with_its_hop_bound() {
    // 100 quotes, pages of 5: 20 pages in 8 segments of 2 or 3 pages.
    let w = world(5);
    for n in 0..100 {
        let tenant = ["acme", "globex"][n % 2];
        w.quote(tenant, &["fibre-1g"]).await;
    }
    let event = fibre_monthly_to_45();

    let first = w.fanout.handle(event).await.expect("first page");

    assert_eq!(first.page.repriced, 5);
    let starts = queued_continuations(&w);
    // Segments 1..7 started at once (hop 1), then the first segment's own continuation.
    let segments: Vec<u64> = starts
        .iter()
        .map(|c| c["segment"].as_u64().expect("n"))
        .collect();
    assert_eq!(segments, [1, 2, 3, 4, 5, 6, 7, 0]);
    let pages = |c: &Value| (c["maxHops"].as_u64().expect("bound") - 1) / 2;
    assert_eq!(
        starts.iter().map(pages).sum::<u64>(),
        20,
        "every page in one segment"
    );
    for c in &starts[..7] {
        assert_eq!(c["hop"], 1, "{c}");
        assert!((2..=3).contains(&pages(c)), "{c}");
    }
    assert_eq!(starts[7]["hop"], 1);
    assert!(
        starts[6].get("until").is_none(),
        "the last segment runs to the end"
    );
    // Each segment starts where the one before it ends.
    for pair in starts[..7].windows(2) {
        assert_eq!(pair[0]["until"], pair[1]["cursor"], "{pair:?}");
    }
    assert_eq!(starts[7]["until"], starts[0]["cursor"]);

    let handled = drain(&w).await;
    assert_eq!(handled, 19, "one message a page but the first");
    let mut versions: Vec<u64> = w
        .quotes
        .quotes
        .lock()
        .expect("lock")
        .values()
        .map(|q| q.version)
        .collect();
    versions.dedup();
    assert_eq!(versions, [2], "every quote re-priced exactly once");
}

/// A continuation of the fibre monthly price's walk after `acme#0`, with the `extra` fields
/// of its `priceFanout` (segment, hop, bound).
fn monthly_continuation(extra: Value) -> ParsedMessage {
    let mut work = json!({
        "priceId": "fibre-1g-monthly",
        "cursor": "acme#0",
        "retired": false,
        "lastUpdate": "2026-06-01T00:00:00Z",
        "sourceEventId": "e-1",
    });
    if let (Some(work), Value::Object(extra)) = (work.as_object_mut(), extra) {
        work.extend(extra);
    }
    let body = json!({
        "eventId": "c-1",
        "eventType": CONTINUATION_EVENT_TYPE,
        "eventTime": "2026-06-01T00:00:00Z",
        "event": {"priceFanout": work},
    });
    parse_message("m", &body.to_string(), &BTreeMap::new(), Some(1)).expect("envelope")
}

#[tokio::test]
async fn a_continuation_over_its_hop_bound_is_poison_naming_the_bound() {
    let w = world(5);
    w.quote("acme", &["fibre-1g"]).await;
    let continuation =
        |hop: u32| monthly_continuation(json!({"segment": 2, "hop": hop, "maxHops": 7}));

    match w.fanout.handle(continuation(8)).await {
        Err(HandlerError::Poison { reason }) => assert!(
            reason.contains("hop 8 of segment 2 is over its bound of 7 hops"),
            "{reason}"
        ),
        other => panic!("expected poison, got {other:?}"),
    }
    let within = w
        .fanout
        .handle(continuation(7))
        .await
        .expect("within its bound");
    assert_eq!(within.page.unchanged, 1);
}

#[tokio::test]
async fn a_continuation_without_a_hop_bound_takes_the_legacy_one() {
    let w = world(5);
    let parsed = monthly_continuation(json!({}));
    assert!(
        w.fanout.handle(parsed).await.is_ok(),
        "sent before hops existed"
    );
    const { assert!(LEGACY_MAX_HOPS >= 1_000_000 / 200) };
}
