//! The SQLite-only extras: the open-quote-by-price index, catalog seeding, housekeeping.

use q2c_contract::fixtures::{T0, event, offering, price, stored_quote};
use q2c_local::{HousekeepingReport, SqliteStore};
use q2c_model::tmf::QuoteState;
use q2c_service::TenantId;
use q2c_service::fanout::{IndexKey, OpenQuote, OpenQuoteIndex};
use q2c_service::ports::{
    CatalogStore, IdempotencyClaim, IdempotencyStore, OutboxStore, Page, QuoteStore,
};
use time::Duration;

fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).expect("tenant")
}

fn open_ref(tenant_id: &str, quote_id: &str) -> OpenQuote {
    OpenQuote {
        tenant: tenant(tenant_id),
        quote_id: quote_id.to_owned(),
    }
}

async fn open(store: &SqliteStore, price_id: &str) -> Vec<OpenQuote> {
    store
        .open_quotes(IndexKey::Price(price_id).page(None, 100))
        .await
        .expect("open quotes")
        .quotes
}

#[tokio::test]
async fn open_quotes_are_indexed_by_price_across_tenants_until_final() {
    // Arrange
    let store = SqliteStore::open_in_memory().expect("store");
    for (t, id, prices) in [
        ("beta", "q-2", vec!["pop-1", "pop-2"]),
        ("acme", "q-9", vec!["pop-1"]),
        ("acme", "q-1", vec!["pop-2"]),
    ] {
        let mut q = stored_quote(id, T0);
        q.price_ids = prices.into_iter().map(str::to_owned).collect();
        store.insert(&tenant(t), &q, &[]).await.expect("insert");
    }
    assert_eq!(
        open(&store, "pop-1").await,
        [open_ref("acme", "q-9"), open_ref("beta", "q-2")]
    );

    // Act: q-9 is accepted (final), q-2 moves to another price, q-1 is deleted.
    let mut accepted = stored_quote("q-9", T0);
    accepted.version = 2;
    accepted.price_ids = vec!["pop-1".to_owned()];
    accepted.quote.state = Some(QuoteState::Accepted);
    store
        .update(&tenant("acme"), &accepted, 1, &[])
        .await
        .expect("accept");
    let mut moved = stored_quote("q-2", T0);
    moved.version = 2;
    moved.price_ids = vec!["pop-3".to_owned()];
    store
        .update(&tenant("beta"), &moved, 1, &[])
        .await
        .expect("reprice");
    store
        .delete(&tenant("acme"), "q-1", 1, &[])
        .await
        .expect("delete");

    // Assert
    assert_eq!(open(&store, "pop-1").await, []);
    assert_eq!(open(&store, "pop-2").await, []);
    assert_eq!(open(&store, "pop-3").await, [open_ref("beta", "q-2")]);
}

#[tokio::test]
async fn open_quotes_page_with_the_cursor_after_the_last_item() {
    let store = SqliteStore::open_in_memory().expect("store");
    let mut expected = Vec::new();
    for t in ["acme", "beta"] {
        for i in 0..5 {
            let id = format!("q-{i}");
            store
                .insert(&tenant(t), &stored_quote(&id, T0), &[])
                .await
                .expect("insert");
            expected.push(open_ref(t, &id));
        }
    }

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .open_quotes(IndexKey::Price("pop-1").page(after.as_ref(), 3))
            .await
            .expect("page");
        assert!(page.quotes.len() <= 3);
        seen.extend(page.quotes);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }

    assert_eq!(seen, expected, "every open quote once, by tenant then id");
}

#[tokio::test]
async fn loading_the_catalog_twice_leaves_the_same_catalog() {
    let store = SqliteStore::open_in_memory().expect("store");
    let offerings = [offering("po-1", "Fibre"), offering("po-2", "Mobile")];
    let prices = [price("pop-1", 30.0)];

    store.load_catalog(&offerings, &prices).await.expect("load");
    store
        .load_catalog(&offerings, &prices)
        .await
        .expect("reload");

    let all = Page {
        offset: 0,
        limit: 10,
    };
    let listed = store.list_offerings(all).await.expect("list");
    assert_eq!((listed.items, listed.total), (offerings.to_vec(), 2));
    assert_eq!(store.list_prices(all).await.expect("list").total, 1);
}

#[tokio::test]
async fn housekeeping_drops_expired_records_and_old_published_events() {
    // Arrange
    let store = SqliteStore::open_in_memory().expect("store");
    let t = tenant("acme");
    for (key, ttl) in [("short", 60), ("long", 7200)] {
        let claim = store.claim(&t, key, "h", T0, T0 + Duration::seconds(30));
        assert_eq!(claim.await.expect("claim"), IdempotencyClaim::Claimed);
        let response = q2c_service::ports::StoredResponse {
            status: 201,
            headers: vec![],
            body: String::new(),
        };
        let expiry = T0 + Duration::seconds(ttl);
        store
            .complete(&t, key, &response, expiry)
            .await
            .expect("complete");
    }
    let (old, recent) = (event(Some(&t), "q-1", "A"), event(Some(&t), "q-1", "B"));
    store
        .insert(&t, &stored_quote("q-1", T0), &[old.clone(), recent.clone()])
        .await
        .expect("insert");
    let ids = |e: &q2c_service::ports::OutboxEvent| vec![e.clone()];
    store.mark_published(&ids(&old), T0).await.expect("mark");
    let now = T0 + Duration::minutes(90);
    store
        .mark_published(&ids(&recent), now - Duration::minutes(10))
        .await
        .expect("mark");

    // Act
    let report = store.housekeeping(now).await.expect("housekeeping");

    // Assert
    let expected = HousekeepingReport {
        idempotency_records: 1,
        outbox_events: 1,
        queue_messages: 0,
        delivery_records: 0,
    };
    assert_eq!(report, expected);
    let again = store.housekeeping(now).await.expect("housekeeping");
    assert_eq!(again, HousekeepingReport::default(), "nothing left to drop");
}
