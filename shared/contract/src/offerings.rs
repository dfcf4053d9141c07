//! The offering side of catalog ingestion:
//! - [`offering_catalog_writer_contract`]: offering changes apply only when newer by
//!   `lastUpdate`, deletes leave tombstones hidden from reads that refuse older updates, and
//!   `@type` plus unknown fields round-trip as JSON (through the writer and `put_offering`);
//! - [`open_quote_offering_index_contract`]: pages of open quotes by offering (nested items
//!   included) across tenants, final quotes and quotes moved off the offering excluded;
//! - [`catalog_versions_contract`]: what the import compares against: stored `lastUpdate`,
//!   tombstones and bodies of offerings and prices by id.

use std::collections::BTreeSet;
use std::sync::Arc;

use q2c_model::tmf::ProductOffering;
use q2c_service::catalog_sync::{CatalogKind, CatalogVersions};
use q2c_service::fanout::{
    ApplyOutcome, IndexKey, OfferingCatalogWriter, OfferingChange, OpenQuoteIndex,
    PriceCatalogWriter, PriceChange, PriceChangeKind,
};
use q2c_service::ports::{CatalogStore, QuoteStore};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::fanout::{
    Races, create_quote_of, drain_changes, insert_left_out, race, scenario_service, send_change,
    walk_open_quotes,
};
use crate::fixtures::{T0, price, stored_quote, tenant, unique};

/// An offering of an unknown `@type` with fields no struct models, as JSON.
fn extended_offering_json(id: &str, name: &str, at: OffsetDateTime) -> Value {
    json!({
        "id": id,
        "name": name,
        "lifecycleStatus": "Active",
        "lastUpdate": at.format(&Rfc3339).expect("time"),
        "@type": "ContractTestSliceOffering",
        "@baseType": "ProductOffering",
        "@schemaLocation": "https://example.test/schemas/slice.json",
        "prodSpecCharValueUse": [{
            "name": "x-contract-latency",
            "valueType": "number",
            "productSpecCharacteristicValue": [{"value": 5, "isDefault": true}, {"value": 12.5}]
        }],
        "x-vendor": {"nested": [1, "two", null, true, {"deep": 0.001}]},
        "productOfferingPrice": [{"id": "pop-1"}]
    })
}

fn offering_change(kind: PriceChangeKind, json: &Value) -> OfferingChange {
    let offering: ProductOffering = serde_json::from_value(json.clone()).expect("offering");
    OfferingChange {
        kind,
        last_update: offering.last_update.expect("lastUpdate"),
        offering,
    }
}

async fn visible(catalog: &dyn CatalogStore, id: &str) -> Option<Value> {
    catalog
        .offerings(&[id.to_owned()])
        .await
        .expect("offerings")
        .into_iter()
        .next()
        .map(|o| serde_json::to_value(o).expect("json"))
}

/// Runs the ordering, tombstone and round-trip rules against `writer`, reading back through
/// `catalog` (the same backend), racing changes as `races` says.
///
/// # Panics
/// When the adapter breaks a rule (the message names it) or fails.
pub async fn offering_catalog_writer_contract(
    writer: Arc<dyn OfferingCatalogWriter>,
    catalog: Arc<dyn CatalogStore>,
    races: Races,
) {
    use PriceChangeKind::{Delete, Upsert};
    let id = format!("po-{}", unique());
    let t = |ns: i64| T0 + time::Duration::nanoseconds(ns);
    let apply = |kind: PriceChangeKind, body: Value| {
        let writer = Arc::clone(&writer);
        async move {
            writer
                .apply_offering_change(&offering_change(kind, &body))
                .await
                .expect("apply")
        }
    };

    let first = extended_offering_json(&id, "first", t(10));
    assert_eq!(apply(Upsert, first.clone()).await, ApplyOutcome::Applied);
    assert_eq!(
        visible(&*catalog, &id).await,
        Some(first.clone()),
        "@type, @schemaLocation and unknown fields round-trip as JSON"
    );
    assert_eq!(
        apply(Upsert, first.clone()).await,
        ApplyOutcome::AlreadyCurrent,
        "same lastUpdate again is a redelivery"
    );
    assert_eq!(
        apply(Upsert, extended_offering_json(&id, "older", t(9))).await,
        ApplyOutcome::Stale { stored: t(10) },
        "one nanosecond older is stale"
    );
    assert_eq!(visible(&*catalog, &id).await, Some(first));

    assert_eq!(
        apply(Delete, extended_offering_json(&id, "deleted", t(20))).await,
        ApplyOutcome::Applied
    );
    assert!(
        visible(&*catalog, &id).await.is_none(),
        "a tombstone is not read"
    );
    assert_eq!(
        apply(Upsert, extended_offering_json(&id, "late", t(15))).await,
        ApplyOutcome::Stale { stored: t(20) },
        "an older update cannot resurrect a deleted offering"
    );
    let back = extended_offering_json(&id, "back", t(30));
    assert_eq!(apply(Upsert, back.clone()).await, ApplyOutcome::Applied);
    assert_eq!(
        visible(&*catalog, &id).await,
        Some(back),
        "a newer update re-creates it"
    );

    // Two changes racing: whichever lands first, the newest stays.
    for round in 0..3 {
        let racing = format!("po-{}", unique());
        let older = apply(
            Upsert,
            extended_offering_json(&racing, "older", t(100 + round)),
        );
        let newer = apply(
            Upsert,
            extended_offering_json(&racing, "newer", t(200 + round)),
        );
        let (a, b) = race(races, round, older, newer).await;
        assert_eq!(b, ApplyOutcome::Applied, "the newest always applies");
        assert!(matches!(
            a,
            ApplyOutcome::Applied | ApplyOutcome::Stale { .. }
        ));
        let seen = visible(&*catalog, &racing).await.expect("visible");
        assert_eq!(seen["name"], "newer", "ends in the newest");
    }

    // A plain put (seeding) keeps unknown fields too.
    let seeded_id = format!("po-{}", unique());
    let seeded_json = extended_offering_json(&seeded_id, "seeded", t(1));
    let seeded: ProductOffering = serde_json::from_value(seeded_json.clone()).expect("offering");
    catalog.put_offering(&seeded).await.expect("put");
    assert_eq!(visible(&*catalog, &seeded_id).await, Some(seeded_json));
}

/// Runs the open-quote index rules by offering: quotes written through `quotes` are found
/// by the offering of any of their items through `index`.
///
/// # Panics
/// When the adapter breaks a rule or fails.
pub async fn open_quote_offering_index_contract(
    quotes: Arc<dyn QuoteStore>,
    index: Arc<dyn OpenQuoteIndex>,
) {
    let offering_id = format!("po-{}", unique());
    let tenants = [tenant("poi-a"), tenant("poi-b")];
    let mut expected = BTreeSet::new();
    for (n, tenant) in tenants.iter().cycle().take(7).enumerate() {
        let id = format!("q-{n:02}-{}", unique());
        let mut quote = stored_quote(&id, T0);
        if n % 2 == 0 {
            quote.quote.quote_item[0].product_offering =
                Some(q2c_model::tmf::EntityRef::to(&offering_id));
        } else {
            // Nested under a bundle item: indexed too.
            let mut child = quote.quote.quote_item[0].clone();
            child.product_offering = Some(q2c_model::tmf::EntityRef::to(&offering_id));
            quote.quote.quote_item[0].quote_item.push(child);
        }
        quotes.insert(tenant, &quote, &[]).await.expect("insert");
        expected.insert((tenant.as_str().to_owned(), id));
    }
    // Final quotes leave the index; a quote changed to another offering leaves it too.
    insert_left_out(
        &*quotes,
        [&tenants[0], &tenants[1]],
        |quote| {
            quote.quote.quote_item[0].product_offering =
                Some(q2c_model::tmf::EntityRef::to(&offering_id));
        },
        |quote| {
            quote.quote.quote_item[0].product_offering =
                Some(q2c_model::tmf::EntityRef::to("po-1"));
        },
    )
    .await;

    walk_open_quotes(
        &*index,
        IndexKey::Offering(&offering_id),
        &[3, 7, 10],
        &expected,
        "every open quote holding the offering, nested items too",
    )
    .await;
    // The price index is unaffected by offering keys.
    let by_price = index
        .open_quotes(IndexKey::Price(&offering_id).page(None, 5))
        .await
        .expect("price index");
    assert!(by_price.quotes.is_empty(), "offering ids are not price ids");
}

/// Runs the stored-version reads the import compares with: live entries, tombstones (with
/// their `lastUpdate`) and absent ids, for offerings and prices.
///
/// # Panics
/// When the adapter breaks a rule or fails.
pub async fn catalog_versions_contract(
    versions: Arc<dyn CatalogVersions>,
    offerings: Arc<dyn OfferingCatalogWriter>,
    prices: Arc<dyn PriceCatalogWriter>,
) {
    let t = |ns: i64| T0 + time::Duration::nanoseconds(ns);
    let live = format!("po-{}", unique());
    let gone = format!("po-{}", unique());
    let absent = format!("po-{}", unique());
    let live_json = extended_offering_json(&live, "live", t(5));
    offerings
        .apply_offering_change(&offering_change(PriceChangeKind::Upsert, &live_json))
        .await
        .expect("apply");
    offerings
        .apply_offering_change(&offering_change(
            PriceChangeKind::Delete,
            &extended_offering_json(&gone, "gone", t(7)),
        ))
        .await
        .expect("delete");
    let mut found = versions
        .stored_versions(
            CatalogKind::Offering,
            &[live.clone(), gone.clone(), absent.clone(), live.clone()],
        )
        .await
        .expect("versions");
    found.sort_by(|a, b| a.id.cmp(&b.id));
    let mut expected_ids = vec![live.clone(), gone.clone()];
    expected_ids.sort();
    assert_eq!(
        found.iter().map(|v| v.id.clone()).collect::<Vec<_>>(),
        expected_ids,
        "each stored id once, absent ids left out, tombstones included"
    );
    let live_v = found.iter().find(|v| v.id == live).expect("live");
    assert_eq!(live_v.last_update, Some(t(5)));
    assert!(!live_v.deleted);
    assert_eq!(
        live_v.body, live_json,
        "the stored body, unknown fields included"
    );
    let gone_v = found.iter().find(|v| v.id == gone).expect("gone");
    assert_eq!(gone_v.last_update, Some(t(7)));
    assert!(gone_v.deleted);

    let price_id = format!("pop-{}", unique());
    let mut p = price(&price_id, 3.5);
    p.last_update = Some(t(9));
    prices
        .apply_price_change(&PriceChange {
            kind: PriceChangeKind::Upsert,
            price: p.clone(),
            last_update: t(9),
        })
        .await
        .expect("price");
    let found = versions
        .stored_versions(CatalogKind::Price, &[price_id.clone(), live.clone()])
        .await
        .expect("price versions");
    assert_eq!(found.len(), 1, "an offering id is not a price");
    assert_eq!(found[0].last_update, Some(t(9)));
    assert_eq!(found[0].body, serde_json::to_value(&p).expect("json"));
    assert!(
        versions
            .stored_versions(CatalogKind::Price, &[])
            .await
            .expect("none")
            .is_empty()
    );
}

/// A retired offering end to end on one backend: quotes created through the quote service
/// (so the adapter's own index rows are used), an `ProductOfferingDeleteEvent` on the
/// adapter's `pricing-changes` queue, pages of 2 through real continuation messages. Every
/// open quote holding the offering is flagged once (note, version + 1, not re-priced), a quote
/// of another offering is untouched, and catalog reads no longer return the offering.
///
/// # Panics
/// When a quote is missed, flagged twice or changed otherwise, or the backend fails.
pub async fn offering_retirement_scenario(
    ports: q2c_service::ports::Ports,
    writers: (Arc<dyn PriceCatalogWriter>, Arc<dyn OfferingCatalogWriter>),
    index: Arc<dyn OpenQuoteIndex>,
    queue: Arc<dyn q2c_service::messaging::QueueClient>,
) {
    use q2c_model::tmf::EntityRef;
    use q2c_service::fanout::{FanoutConfig, FanoutPorts, PriceFanout};

    let retired_id = format!("ret-po-{}", unique());
    let other_id = format!("ret-po-{}", unique());
    for id in [&retired_id, &other_id] {
        let price_id = format!("{id}-monthly");
        ports
            .catalog
            .put_price(&price(&price_id, 20.0))
            .await
            .expect("seed price");
        let offering = ProductOffering {
            id: id.clone(),
            product_offering_price: vec![EntityRef::to(price_id)],
            last_update: Some(T0),
            ..ProductOffering::default()
        };
        ports
            .catalog
            .put_offering(&offering)
            .await
            .expect("seed offering");
    }
    let service = scenario_service(&ports);
    let tenants = [tenant("ret-a"), tenant("ret-b")];
    let create = |tenant: q2c_service::context::TenantId, offering: String| {
        let service = service.clone();
        async move {
            let stored = create_quote_of(&service, &tenant, "scenario", offering).await;
            (tenant, stored)
        }
    };
    let mut holding = Vec::new();
    for n in 0..5 {
        holding.push(create(tenants[n % 2].clone(), retired_id.clone()).await);
    }
    let (other_tenant, other) = create(tenants[0].clone(), other_id.clone()).await;

    let fanout = PriceFanout::new(
        FanoutPorts {
            quotes: Arc::clone(&ports.quotes),
            catalog: Arc::clone(&ports.catalog),
            writer: writers.0,
            offerings: writers.1,
            index,
            settings: Arc::clone(&ports.settings),
            queue: Arc::clone(&queue),
            announce: Arc::new(crate::fanout::RecordingAnnounce::default()),
            clock: Arc::clone(&ports.clock),
        },
        FanoutConfig {
            page_size: 2,
            // Continuations on the queue this test drains.
            queue: "pricing-changes".to_owned(),
            // One quote at a time: moto fails concurrent transactions on one table.
            write_concurrency: 1,
            ..FanoutConfig::default()
        },
    );
    let at = T0 + time::Duration::days(1);
    let body = json!({
        "eventId": unique(),
        "eventType": "ProductOfferingDeleteEvent",
        "eventTime": at.format(&Rfc3339).expect("time"),
        "event": {"productOffering": {"id": retired_id, "lastUpdate": at.format(&Rfc3339).expect("time")}},
    });
    send_change(&*queue, &body).await;
    let handled = drain_changes(&*queue, &fanout).await;
    assert_eq!(
        handled, 3,
        "5 quotes in pages of 2: the event and 2 continuations"
    );
    let note_id = format!("OfferingRetiredNote:{retired_id}");
    for (tenant, before) in &holding {
        let after = ports
            .quotes
            .get(tenant, before.id())
            .await
            .expect("get")
            .expect("quote exists");
        assert_eq!(
            after.version,
            2,
            "{tenant}/{} flagged exactly once",
            before.id()
        );
        assert_eq!(
            after
                .quote
                .note
                .iter()
                .filter(|n| n.id.as_deref() == Some(note_id.as_str()))
                .count(),
            1
        );
        assert_eq!(
            after.quote.quote_total_price, before.quote.quote_total_price,
            "flagged, not re-priced"
        );
    }
    let untouched = ports
        .quotes
        .get(&other_tenant, other.id())
        .await
        .expect("get")
        .expect("quote exists");
    assert_eq!(
        untouched.version, 1,
        "a quote of another offering is untouched"
    );
    assert!(
        ports
            .catalog
            .offerings(std::slice::from_ref(&retired_id))
            .await
            .expect("read")
            .is_empty(),
        "the deleted offering is no longer read"
    );
}
