//! The price fan-out contracts:
//! - [`price_catalog_writer_contract`]: changes are applied only when newer by `lastUpdate`
//!   (equal → `AlreadyCurrent`, older → `Stale`), deletes leave a tombstone hidden from
//!   catalog reads that still refuses older updates, concurrent changes end in the newest;
//! - [`open_quote_index_contract`]: pages of open quotes by price across tenants, in
//!   (tenant, id) order, final quotes excluded, the last page without a cursor;
//! - [`fanout_continuation_scenario`]: a price change affecting many quotes, processed page
//!   by page through real continuation messages on the adapter's queue; every quote is
//!   re-priced exactly once.
//!
//! Ids are fresh (UUID based), so the suites can share a backend with others.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use q2c_model::tmf::{
    EntityRef, ProductOffering, ProductOfferingPrice, Quote, QuoteItem, QuoteState,
};
use q2c_service::context::{RequestContext, Scope, TenantId};
use q2c_service::fanout::{
    ApplyOutcome, FanoutConfig, FanoutOutcome, FanoutPorts, IndexKey, OfferingCatalogWriter,
    OpenQuoteIndex, PriceCatalogWriter, PriceChange, PriceChangeKind, PriceFanout,
};
use q2c_service::messaging::{OutgoingMessage, QueueClient, Receive, parse_message};
use q2c_service::ports::{CatalogStore, Ports, QuoteStore, StoredQuote};
use q2c_service::quotes::{QuoteService, QuoteServiceConfig};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::fixtures::{T0, price, stored_quote, tenant, unique};

/// Default tenant settings and an [`Announce`] that records event ids: the service's own
/// test doubles, here where the scenarios have always named them.
pub use q2c_service::testing::{DefaultSettings, RecordingAnnounce};

fn change(kind: PriceChangeKind, id: &str, amount: f64, at: OffsetDateTime) -> PriceChange {
    let mut price = price(id, amount);
    price.last_update = Some(at);
    PriceChange {
        kind,
        price,
        last_update: at,
    }
}

async fn visible(catalog: &dyn CatalogStore, id: &str) -> Option<ProductOfferingPrice> {
    catalog
        .prices(&[id.to_owned()])
        .await
        .expect("prices")
        .into_iter()
        .next()
}

/// How a writer contract races two changes of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Races {
    /// At once: for a backend whose conditional writes are atomic under concurrency (SQLite;
    /// DynamoDB itself).
    Concurrent,
    /// One after the other, the older first in even rounds and last in odd ones: for moto,
    /// whose conditional writes are not atomic when two requests overlap (DynamoDB's are), so
    /// a real race there tests moto, not the adapter.
    OneAfterTheOther,
}

/// The outcomes of `older` and `newer`, raced as `races` says in round `round`.
pub(crate) async fn race<A: Future, B: Future>(
    races: Races,
    round: i64,
    older: A,
    newer: B,
) -> (A::Output, B::Output) {
    match races {
        Races::Concurrent => tokio::join!(older, newer),
        Races::OneAfterTheOther if round % 2 == 0 => {
            let a = older.await;
            (a, newer.await)
        }
        Races::OneAfterTheOther => {
            let b = newer.await;
            (older.await, b)
        }
    }
}

/// Runs the ordering and tombstone rules against `writer`, reading back through `catalog`
/// (the same backend), racing changes as `races` says.
///
/// # Panics
/// When the adapter breaks a rule (the message names it) or fails.
pub async fn price_catalog_writer_contract(
    writer: Arc<dyn PriceCatalogWriter>,
    catalog: Arc<dyn CatalogStore>,
    races: Races,
) {
    use PriceChangeKind::{Delete, Upsert};
    let id = format!("fan-{}", unique());
    let t = |ns: i64| T0 + time::Duration::nanoseconds(ns);
    let apply = |c: PriceChange| {
        let writer = Arc::clone(&writer);
        async move { writer.apply_price_change(&c).await.expect("apply") }
    };

    assert_eq!(
        apply(change(Upsert, &id, 10.0, t(10))).await,
        ApplyOutcome::Applied
    );
    assert_eq!(
        apply(change(Upsert, &id, 10.0, t(10))).await,
        ApplyOutcome::AlreadyCurrent,
        "same lastUpdate again is a redelivery"
    );
    assert_eq!(
        apply(change(Upsert, &id, 9.0, t(9))).await,
        ApplyOutcome::Stale { stored: t(10) },
        "one nanosecond older is stale"
    );
    let seen = visible(&*catalog, &id).await.expect("price visible");
    assert_eq!(
        seen.price.map(|m| m.amount.normalize().to_string()),
        Some("10".to_owned())
    );

    assert_eq!(
        apply(change(Upsert, &id, 11.0, t(11))).await,
        ApplyOutcome::Applied
    );
    assert_eq!(
        apply(change(Delete, &id, 11.0, t(20))).await,
        ApplyOutcome::Applied
    );
    assert!(
        visible(&*catalog, &id).await.is_none(),
        "a tombstone is not read"
    );
    assert_eq!(
        apply(change(Upsert, &id, 12.0, t(15))).await,
        ApplyOutcome::Stale { stored: t(20) },
        "an older update cannot resurrect a deleted price"
    );
    assert!(visible(&*catalog, &id).await.is_none(), "still deleted");
    assert_eq!(
        apply(change(Upsert, &id, 13.0, t(30))).await,
        ApplyOutcome::Applied,
        "a newer update re-creates it"
    );
    let seen = visible(&*catalog, &id).await.expect("re-created");
    assert_eq!(
        seen.price.map(|m| m.amount.normalize().to_string()),
        Some("13".to_owned())
    );

    // Delete of a price never seen: a tombstone all the same.
    let never = format!("fan-{}", unique());
    assert_eq!(
        apply(change(Delete, &never, 1.0, t(5))).await,
        ApplyOutcome::Applied
    );
    assert!(matches!(
        apply(change(Upsert, &never, 1.0, t(4))).await,
        ApplyOutcome::Stale { .. }
    ));

    // Two changes racing: whichever lands first, the newest stays.
    for round in 0..3 {
        let racing = format!("fan-{}", unique());
        let older = apply(change(Upsert, &racing, 1.0, t(100 + round)));
        let newer = apply(change(Upsert, &racing, 2.0, t(200 + round)));
        let (a, b) = race(races, round, older, newer).await;
        assert_eq!(b, ApplyOutcome::Applied, "the newest always applies");
        assert!(matches!(
            a,
            ApplyOutcome::Applied | ApplyOutcome::Stale { .. }
        ));
        let seen = visible(&*catalog, &racing).await.expect("visible");
        assert_eq!(seen.last_update, Some(t(200 + round)), "ends in the newest");
    }
}

/// Runs the open-quote index rules: quotes written through `quotes` are found by price
/// through `index`.
///
/// # Panics
/// When the adapter breaks a rule or fails.
pub async fn open_quote_index_contract(
    quotes: Arc<dyn QuoteStore>,
    index: Arc<dyn OpenQuoteIndex>,
) {
    let price_id = format!("fan-{}", unique());
    let tenants = [tenant("fan-a"), tenant("fan-b"), tenant("fan-c")];
    let mut expected = BTreeSet::new();
    for (n, tenant) in tenants.iter().cycle().take(11).enumerate() {
        let id = format!("q-{n:02}-{}", unique());
        let mut quote = stored_quote(&id, T0);
        quote.price_ids = vec![price_id.clone(), "other".to_owned()];
        quotes.insert(tenant, &quote, &[]).await.expect("insert");
        expected.insert((tenant.as_str().to_owned(), id));
    }
    // A final quote leaves the index; a quote moved to another price leaves this price's
    // index (a quote on another price is not in this one).
    insert_left_out(
        &*quotes,
        [&tenants[0], &tenants[1]],
        |quote| quote.price_ids = vec![price_id.clone()],
        |quote| quote.price_ids = vec!["other".to_owned()],
    )
    .await;

    walk_open_quotes(
        &*index,
        IndexKey::Price(&price_id),
        &[4, 11, 20],
        &expected,
        "every open quote, no final one",
    )
    .await;
    let none = index
        .open_quotes(IndexKey::Price(&format!("fan-{}", unique())).page(None, 5))
        .await
        .expect("empty");
    assert!(none.quotes.is_empty() && none.next.is_none());
}

/// Walks every page of `key`'s open quotes at each page size of `limits`, checking what
/// every walk holds: pages of at most the size, an end (under 20 pages), no quote twice,
/// (tenant, quote id) order, exactly the `expected` quotes (`what` says which those are),
/// and as many pages as those fill (the last full page ends the walk).
pub(crate) async fn walk_open_quotes(
    index: &dyn OpenQuoteIndex,
    key: IndexKey<'_>,
    limits: &[usize],
    expected: &BTreeSet<(String, String)>,
    what: &str,
) {
    for &limit in limits {
        let pages = walk_open_quotes_once(index, key, limit, expected, what).await;
        assert_eq!(
            pages,
            expected.len().div_ceil(limit),
            "the last full page ends the walk (limit {limit})"
        );
    }
}

/// One walk of [`walk_open_quotes`], `limit` at a time: the number of pages.
async fn walk_open_quotes_once(
    index: &dyn OpenQuoteIndex,
    key: IndexKey<'_>,
    limit: usize,
    expected: &BTreeSet<(String, String)>,
    what: &str,
) -> usize {
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = index
            .open_quotes(key.page(cursor.as_ref(), limit))
            .await
            .expect("page");
        pages += 1;
        assert!(page.quotes.len() <= limit, "a page holds at most `limit`");
        seen.extend(
            page.quotes
                .iter()
                .map(|q| (q.tenant.as_str().to_owned(), q.quote_id.clone())),
        );
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages < 20, "paging must end");
    }
    let as_set: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(as_set.len(), seen.len(), "no quote twice (limit {limit})");
    assert_eq!(&as_set, expected, "{what} (limit {limit})");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "ordered by tenant, then quote id");
    pages
}

/// Writes the two quotes an open-quote index must leave out, each first put on the indexed
/// key by `on_key`: a final one of `tenants[0]` (inserted, then accepted: version 2), and
/// one of `tenants[1]` inserted, then moved off the key by `off_key` (version 2) through
/// `update_from`, as the fan-out writes.
pub(crate) async fn insert_left_out(
    quotes: &dyn QuoteStore,
    tenants: [&TenantId; 2],
    on_key: impl Fn(&mut StoredQuote),
    off_key: impl Fn(&mut StoredQuote),
) {
    let mut accepted = stored_quote(&format!("q-final-{}", unique()), T0);
    on_key(&mut accepted);
    quotes
        .insert(tenants[0], &accepted, &[])
        .await
        .expect("insert");
    let mut next = accepted.clone();
    next.quote.state = Some(QuoteState::Accepted);
    next.version = 2;
    quotes
        .update(tenants[0], &next, 1, &[])
        .await
        .expect("accept");

    let mut moved = stored_quote(&format!("q-moved-{}", unique()), T0);
    on_key(&mut moved);
    quotes
        .insert(tenants[1], &moved, &[])
        .await
        .expect("insert");
    let mut elsewhere = moved.clone();
    off_key(&mut elsewhere);
    elsewhere.version = 2;
    quotes
        .update_from(tenants[1], &moved, &elsewhere, &[])
        .await
        .expect("move elsewhere");
}

/// The quote service of the scenarios, over `ports`.
pub(crate) fn scenario_service(ports: &Ports) -> QuoteService {
    QuoteService::new(
        ports.clone(),
        QuoteServiceConfig {
            quote_href_base: "/tmf-api/quoteManagement/v4/quote".to_owned(),
        },
    )
}

/// Creates, through `service`, a quote of `tenant` with one item of `offering_id`, as the
/// caller `subject` (also the correlation id).
pub async fn create_quote_of(
    service: &QuoteService,
    tenant: &TenantId,
    subject: &str,
    offering_id: String,
) -> StoredQuote {
    let ctx = RequestContext {
        tenant: tenant.clone(),
        subject: subject.to_owned(),
        subject_name: None,
        scopes: [Scope::QuoteWrite].into_iter().collect(),
        correlation_id: subject.to_owned(),
    };
    let quote = Quote {
        quote_item: vec![QuoteItem {
            quantity: Some(1),
            product_offering: Some(EntityRef::to(offering_id)),
            ..QuoteItem::default()
        }],
        ..Quote::default()
    };
    service.create(&ctx, quote).await.expect("create quote")
}

/// Puts into `catalog` a fresh benchmark offering (`bench-po-<unique>`) with one monthly
/// price of 40.00 (`<offering id>-monthly`); returns (offering id, price).
///
/// # Panics
/// When the catalog fails.
pub async fn seed_bench_offering(catalog: &dyn CatalogStore) -> (String, ProductOfferingPrice) {
    let offering_id = format!("bench-po-{}", unique());
    let price_id = format!("{offering_id}-monthly");
    let monthly = price(&price_id, 40.0);
    catalog.put_price(&monthly).await.expect("seed price");
    let offering = ProductOffering {
        id: offering_id.clone(),
        name: Some("Benchmark offering".to_owned()),
        product_offering_price: vec![EntityRef::to(price_id)],
        ..ProductOffering::default()
    };
    catalog
        .put_offering(&offering)
        .await
        .expect("seed offering");
    (offering_id, monthly)
}

/// The catalog's change event (with the fresh id `event_id`) of `monthly` repriced to
/// `amount`, `days` after [`T0`].
///
/// # Panics
/// Never (the instant formats).
pub fn price_change_event(
    event_id: &str,
    monthly: &ProductOfferingPrice,
    amount: u32,
    days: i64,
) -> serde_json::Value {
    let mut changed = monthly.clone();
    changed.price = changed.price.map(|mut m| {
        m.amount = amount.into();
        m
    });
    let at = T0 + time::Duration::days(days);
    changed.last_update = Some(at);
    json!({
        "eventId": event_id,
        "eventType": "ProductOfferingPriceAttributeValueChangeEvent",
        "eventTime": at.format(&Rfc3339).expect("time"),
        "event": {"productOfferingPrice": changed},
    })
}

/// Sends the change event `body` to the queue `queue_name`.
pub async fn send_change_to(queue: &dyn QueueClient, queue_name: &str, body: &serde_json::Value) {
    let sent = queue
        .send_batch(
            queue_name,
            &[OutgoingMessage {
                body: body.to_string(),
                attributes: Default::default(),
            }],
        )
        .await
        .expect("send event");
    assert!(sent.failed.is_empty());
}

/// Sends the change event `body` to `pricing-changes`.
pub(crate) async fn send_change(queue: &dyn QueueClient, body: &serde_json::Value) {
    send_change_to(queue, "pricing-changes", body).await;
}

/// Plays a fan-out consumer: handles the messages of `queue_name` with `fanout`, deleting
/// each only after it was handled (its continuation sent), until `empty_receives` receives
/// in a row (each hiding what it takes for `visibility` and waiting up to `wait`) come back
/// empty. `seen` gets each message's outcome; returns how many messages were handled.
pub async fn run_fanout_queue(
    queue: &dyn QueueClient,
    queue_name: &str,
    fanout: &PriceFanout,
    (visibility, wait): (Duration, Duration),
    empty_receives: usize,
    mut seen: impl FnMut(FanoutOutcome),
) -> usize {
    let mut handled = 0;
    let mut empty_polls = 0;
    while empty_polls < empty_receives {
        let received = queue
            .receive(queue_name, Receive::batch(visibility).waiting(wait))
            .await
            .expect("receive");
        if received.is_empty() {
            empty_polls += 1;
            continue;
        }
        empty_polls = 0;
        for message in received {
            let parsed = parse_message(
                &message.message_id,
                &message.body,
                &message.attributes,
                Some(message.receive_count),
            )
            .expect("envelope");
            seen(fanout.handle(parsed).await.expect("handled"));
            // Acknowledged only after the continuation was sent, as a consumer does.
            queue
                .delete_batch(queue_name, &[message.receipt_handle])
                .await
                .expect("delete");
            handled += 1;
        }
    }
    handled
}

/// Handles every message of `pricing-changes` with `fanout` until three receives in a row
/// come back empty; how many it handled.
pub(crate) async fn drain_changes(queue: &dyn QueueClient, fanout: &PriceFanout) -> usize {
    let polls = (Duration::from_secs(60), Duration::from_secs(1));
    run_fanout_queue(queue, "pricing-changes", fanout, polls, 3, |_| {}).await
}

/// `quote_count` open quotes of one offering (price 40.00 a month) in three tenants; the
/// price changes to 45.00; the event goes through `queue` (`pricing-changes`) and every
/// message on it is handled by one [`PriceFanout`] with `page_size` until the queue is
/// empty. Every quote must end re-priced (45.00 / 54.00) exactly once (version 2), the
/// change applied once and announced once, and the queue drained.
///
/// `ports` must be the backend's (quotes, catalog, settings, clock); the queue needs
/// `pricing-changes` to itself. Quotes are created `parallel_creates` at a time (moto
/// answers 500 to concurrent transactions: use 1 there).
///
/// # Panics
/// When a quote is missed or re-priced twice, or the backend fails.
#[allow(clippy::too_many_arguments)]
pub async fn fanout_continuation_scenario(
    ports: Ports,
    writer: Arc<dyn PriceCatalogWriter>,
    offerings: Arc<dyn OfferingCatalogWriter>,
    index: Arc<dyn OpenQuoteIndex>,
    queue: Arc<dyn QueueClient>,
    quote_count: usize,
    page_size: usize,
    parallel_creates: usize,
) {
    let offering_id = format!("fan-po-{}", unique());
    let price_id = format!("{offering_id}-monthly");
    let mut monthly = price(&price_id, 40.0);
    monthly.name = Some("Scenario monthly fee".to_owned());
    ports.catalog.put_price(&monthly).await.expect("seed price");
    let offering = ProductOffering {
        id: offering_id.clone(),
        name: Some("Scenario offering".to_owned()),
        product_offering_price: vec![EntityRef::to(price_id.clone())],
        ..ProductOffering::default()
    };
    ports
        .catalog
        .put_offering(&offering)
        .await
        .expect("seed offering");

    let service = scenario_service(&ports);
    let tenants = [tenant("fan-x"), tenant("fan-y"), tenant("fan-z")];
    let mut created = Vec::with_capacity(quote_count);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..quote_count {
        let service = service.clone();
        let tenant = tenants[n % 3].clone();
        let offering_id = offering_id.clone();
        tasks.spawn(async move {
            let stored = create_quote_of(&service, &tenant, "scenario", offering_id).await;
            (tenant, stored.id().to_owned())
        });
        if tasks.len() >= parallel_creates.max(1) {
            created.push(tasks.join_next().await.expect("task").expect("join"));
        }
    }
    while let Some(done) = tasks.join_next().await {
        created.push(done.expect("join"));
    }

    let announce = Arc::new(RecordingAnnounce::default());
    let fanout = PriceFanout::new(
        FanoutPorts {
            quotes: Arc::clone(&ports.quotes),
            catalog: Arc::clone(&ports.catalog),
            writer,
            offerings,
            index,
            settings: Arc::clone(&ports.settings),
            queue: Arc::clone(&queue),
            announce: announce.clone(),
            clock: Arc::clone(&ports.clock),
        },
        FanoutConfig {
            page_size,
            // Continuations on the queue the contract drains (it has `pricing-changes` to
            // itself; the deployment gives them `pricing-continuations`).
            queue: "pricing-changes".to_owned(),
            // One quote at a time: moto fails concurrent transactions on one table (a 500);
            // the concurrent writes are tested in price-fanout's scale test and `q2c local`'s.
            write_concurrency: 1,
            ..FanoutConfig::default()
        },
    );
    let event_id = unique();
    let body = price_change_event(&event_id, &monthly, 45, 30);
    send_change(&*queue, &body).await;

    let handled = drain_changes(&*queue, &fanout).await;

    assert_eq!(
        handled,
        quote_count.div_ceil(page_size).max(1),
        "one message per page"
    );
    assert_eq!(
        *announce.0.lock().expect("lock"),
        [event_id],
        "announced once"
    );
    for (tenant, id) in &created {
        let stored = ports
            .quotes
            .get(tenant, id)
            .await
            .expect("get")
            .expect("quote exists");
        assert_eq!(stored.version, 2, "{tenant}/{id} re-priced exactly once");
        let line = &stored.quote.quote_item[0].quote_item_price[0];
        assert_eq!(
            (
                line.price
                    .duty_free_amount
                    .map(|m| m.amount.normalize().to_string()),
                line.price
                    .tax_included_amount
                    .map(|m| m.amount.normalize().to_string()),
            ),
            (Some("45".to_owned()), Some("54".to_owned())),
            "{tenant}/{id} at the new price"
        );
    }
}
