//! Every `q2c-contract` suite against [`DynamoStore`] on moto, each on a fresh table.

use std::sync::Arc;

use q2c_aws::DynamoStore;

use crate::common::store;

async fn fresh() -> Arc<DynamoStore> {
    Arc::new(store().await)
}

/// A test running a `q2c_contract` suite on a fresh table (`store`, an `Arc<DynamoStore>`).
macro_rules! on_fresh_table {
    ($(#[$doc:meta])* $name:ident, |$store:ident| $run:expr) => {
        $(#[$doc])*
        #[tokio::test]
        async fn $name() {
            q2c_testkit::require_moto!();
            let $store = fresh().await;
            $run.await;
        }
    };
}

on_fresh_table!(quote_store_contract, |store| {
    q2c_contract::quote_store_contract(store)
});

on_fresh_table!(quote_list_contract, |store| {
    q2c_contract::quote_list_contract(store)
});

on_fresh_table!(cursor_paging_contract, |store| {
    q2c_contract::cursor_paging_contract(store.clone(), store.clone(), store)
});

on_fresh_table!(quote_limits_contract, |store| {
    q2c_contract::quote_limits_contract(store.clone(), store)
});

/// "Refused before any store call": a write beyond the budget makes no DynamoDB request.
#[tokio::test]
async fn a_write_beyond_the_limits_sends_no_request() {
    q2c_testkit::require_moto!();
    let store = fresh().await;
    let t = q2c_contract::fixtures::tenant("lim-req");
    let mut quote = q2c_contract::fixtures::stored_quote("q-over", q2c_contract::fixtures::T0);
    quote.quote.description = Some("d".repeat(q2c_model::limits::MAX_QUOTE_BYTES.max()));
    let before = store.requests().snapshot().total();
    let refused = q2c_service::ports::QuoteStore::insert(store.as_ref(), &t, &quote, &[]).await;
    assert!(
        matches!(refused, Err(q2c_service::ports::StoreError::Limit(_))),
        "{refused:?}"
    );
    assert_eq!(
        store.requests().snapshot().total(),
        before,
        "no request was sent"
    );
}

on_fresh_table!(quote_outbox_contract, |store| {
    q2c_contract::quote_outbox_contract(store.clone(), store)
});

on_fresh_table!(order_store_contract, |store| {
    q2c_contract::order_store_contract(store.clone(), store.clone(), store)
});

on_fresh_table!(product_store_contract, |store| {
    q2c_contract::product_store_contract(store.clone(), store.clone(), store.clone(), store)
});

on_fresh_table!(idempotency_contract, |store| {
    q2c_contract::idempotency_contract(store)
});

on_fresh_table!(
    hub_store_contract,
    |store| q2c_contract::hub_store_contract(store)
);

on_fresh_table!(
    /// Without `hub_store_quota_race_contract`: moto does not serialize conditional writes of
    /// one item (DynamoDB does), so racing registrations could both pass on the emulator.
    hub_store_quota_contract,
    |store| q2c_contract::hub_store_quota_contract(store)
);

on_fresh_table!(open_quote_count_contract, |store| {
    q2c_contract::open_quote_count_contract(store.clone(), store.clone(), store)
});

on_fresh_table!(hub_store_version_contract, |store| {
    q2c_contract::hub_store_version_contract(store)
});

on_fresh_table!(delivery_log_contract, |store| {
    q2c_contract::delivery_log_contract(store.delivery_log())
});

on_fresh_table!(catalog_store_contract, |store| {
    q2c_contract::catalog_store_contract(store)
});

on_fresh_table!(
    /// Without `dispatch_log_concurrency_contract`: moto does not serialize conditional writes of
    /// one item (DynamoDB does), so racing claims can both win on the emulator.
    dispatch_log_contract,
    |store| q2c_contract::dispatch_log_contract(store)
);

/// Requests per dispatch-log operation (documented in docs/architecture.md).
#[tokio::test]
async fn dispatch_log_request_counts() {
    q2c_testkit::require_moto!();
    use q2c_aws::metrics::Operation;
    use q2c_service::dispatch::{DispatchLog, Dispatched, Lease, OrderKey};

    let store = fresh().await;
    let tenant = q2c_service::TenantId::parse("dl-requests").unwrap();
    let now = time::OffsetDateTime::now_utc();
    let lease = now + std::time::Duration::from_secs(30);
    let count = |before: &q2c_aws::metrics::RequestSnapshot, op| {
        store.requests().snapshot().since(before).of(op)
    };
    let before = store.requests().snapshot();
    store
        .claim(OrderKey::new(&tenant, "o-1"), Lease { now, until: lease })
        .await
        .unwrap();
    assert_eq!(
        store.requests().snapshot().since(&before).total(),
        1,
        "claim: 1 UpdateItem"
    );
    assert_eq!(count(&before, Operation::UpdateItem), 1);
    let before = store.requests().snapshot();
    store
        .claim(OrderKey::new(&tenant, "o-1"), Lease { now, until: lease })
        .await
        .unwrap();
    assert_eq!(count(&before, Operation::UpdateItem), 1, "refused claim");
    assert_eq!(
        count(&before, Operation::GetItem),
        1,
        "refused claim: 1 consistent read"
    );
    let before = store.requests().snapshot();
    store
        .complete(
            OrderKey::new(&tenant, "o-1"),
            Dispatched {
                downstream_id: Some("D"),
                at: now,
            },
        )
        .await
        .unwrap();
    store
        .release(OrderKey::new(&tenant, "o-1"), 1)
        .await
        .unwrap();
    assert_eq!(
        store.requests().snapshot().since(&before).total(),
        2,
        "complete, release: 1 each"
    );
}

#[tokio::test]
async fn all_suites_share_one_table() {
    q2c_testkit::require_moto!();
    // The suites use unique tenants and ids, so they can share a table (as in production);
    // the outbox suite is left out because it needs the outbox to itself.
    let store = fresh().await;
    tokio::join!(
        q2c_contract::quote_store_contract(store.clone()),
        q2c_contract::quote_list_contract(store.clone()),
        q2c_contract::cursor_paging_contract(store.clone(), store.clone(), store.clone()),
        q2c_contract::order_store_contract(store.clone(), store.clone(), store.clone()),
        q2c_contract::idempotency_contract(store.clone()),
        q2c_contract::hub_store_contract(store.clone()),
        q2c_contract::delivery_log_contract(store.delivery_log()),
        q2c_contract::catalog_store_contract(store.clone()),
        q2c_contract::dispatch_log_contract(store),
    );
}

on_fresh_table!(price_catalog_writer_contract, |store| {
    // moto's conditional writes are not atomic when requests overlap; DynamoDB's are.
    q2c_contract::price_catalog_writer_contract(
        store.clone(),
        store,
        q2c_contract::Races::OneAfterTheOther,
    )
});

on_fresh_table!(offering_catalog_writer_contract, |store| {
    // moto's conditional writes are not atomic when requests overlap; DynamoDB's are.
    q2c_contract::offering_catalog_writer_contract(
        store.clone(),
        store,
        q2c_contract::Races::OneAfterTheOther,
    )
});

on_fresh_table!(open_quote_offering_index_contract, |store| {
    q2c_contract::open_quote_offering_index_contract(store.clone(), store)
});

on_fresh_table!(catalog_versions_contract, |store| {
    q2c_contract::catalog_versions_contract(store.clone(), store.clone(), store)
});

on_fresh_table!(open_quote_index_contract, |store| {
    q2c_contract::open_quote_index_contract(store.clone(), store)
});
