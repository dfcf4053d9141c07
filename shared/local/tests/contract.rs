//! Every `q2c-contract` suite against SQLite, in memory and on a file.

use q2c_local::SqliteStore;
use tempfile::TempDir;

fn memory() -> SqliteStore {
    SqliteStore::open_in_memory().expect("in-memory store")
}

/// A store on a fresh file; keep the directory alive while the store is used.
fn file() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("q2c.db")).expect("file store");
    (dir, store)
}

macro_rules! on_both {
    ($memory:ident, $file:ident, |$store:ident| $run:expr) => {
        #[tokio::test]
        async fn $memory() {
            let $store = memory();
            $run.await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $file() {
            let (_dir, $store) = file();
            $run.await;
        }
    };
}

on_both!(quote_store_in_memory, quote_store_on_file, |s| {
    q2c_contract::quote_store_contract(s.quote_store())
});
on_both!(quote_list_in_memory, quote_list_on_file, |s| {
    q2c_contract::quote_list_contract(s.quote_store())
});
on_both!(cursor_paging_in_memory, cursor_paging_on_file, |s| {
    q2c_contract::cursor_paging_contract(s.quote_store(), s.order_store(), s.catalog_store())
});
on_both!(quote_limits_in_memory, quote_limits_on_file, |s| {
    q2c_contract::quote_limits_contract(s.quote_store(), s.order_store())
});
on_both!(outbox_in_memory, outbox_on_file, |s| {
    q2c_contract::quote_outbox_contract(s.quote_store(), s.outbox_store())
});
on_both!(orders_in_memory, orders_on_file, |s| {
    q2c_contract::order_store_contract(s.quote_store(), s.order_store(), s.outbox_store())
});
on_both!(products_in_memory, products_on_file, |s| {
    q2c_contract::product_store_contract(
        s.quote_store(),
        s.order_store(),
        s.product_store(),
        s.outbox_store(),
    )
});
on_both!(idempotency_in_memory, idempotency_on_file, |s| {
    q2c_contract::idempotency_contract(s.idempotency_store())
});
on_both!(hubs_in_memory, hubs_on_file, |s| {
    q2c_contract::hub_store_contract(s.hub_store())
});
on_both!(hub_quota_in_memory, hub_quota_on_file, |s| {
    q2c_contract::hub_store_quota_contract(s.hub_store())
});
on_both!(hub_quota_races_in_memory, hub_quota_races_on_file, |s| {
    q2c_contract::hub_store_quota_race_contract(s.hub_store())
});
on_both!(
    open_quote_counts_in_memory,
    open_quote_counts_on_file,
    |s| {
        q2c_contract::open_quote_count_contract(
            s.quote_store(),
            s.outbox_store(),
            std::sync::Arc::new(s.clone()),
        )
    }
);
on_both!(hub_versions_in_memory, hub_versions_on_file, |s| {
    q2c_contract::hub_store_version_contract(s.hub_store())
});
on_both!(deliveries_in_memory, deliveries_on_file, |s| {
    q2c_contract::delivery_log_contract(s.delivery_log())
});
on_both!(catalog_in_memory, catalog_on_file, |s| {
    q2c_contract::catalog_store_contract(s.catalog_store())
});
on_both!(dispatch_log_in_memory, dispatch_log_on_file, |s| {
    q2c_contract::dispatch_log_contract(s.dispatch_log())
});
on_both!(
    dispatch_log_races_in_memory,
    dispatch_log_races_on_file,
    |s| { q2c_contract::dispatch_log_concurrency_contract(s.dispatch_log()) }
);

/// The suites isolate themselves by tenant and id prefix, so they can share one store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suites_can_share_one_store() {
    let (_dir, s) = file();
    tokio::join!(
        q2c_contract::quote_store_contract(s.quote_store()),
        q2c_contract::quote_list_contract(s.quote_store()),
        q2c_contract::order_store_contract(s.quote_store(), s.order_store(), s.outbox_store()),
        q2c_contract::idempotency_contract(s.idempotency_store()),
        q2c_contract::hub_store_contract(s.hub_store()),
        q2c_contract::catalog_store_contract(s.catalog_store()),
        q2c_contract::delivery_log_contract(s.delivery_log()),
    );
}

on_both!(price_writer_in_memory, price_writer_on_file, |s| {
    q2c_contract::price_catalog_writer_contract(
        s.price_catalog_writer(),
        s.catalog_store(),
        q2c_contract::Races::Concurrent,
    )
});
on_both!(open_quote_index_in_memory, open_quote_index_on_file, |s| {
    q2c_contract::open_quote_index_contract(s.quote_store(), s.open_quote_index())
});

on_both!(offering_writer_in_memory, offering_writer_on_file, |s| {
    q2c_contract::offering_catalog_writer_contract(
        s.offering_catalog_writer(),
        s.catalog_store(),
        q2c_contract::Races::Concurrent,
    )
});
on_both!(
    open_quote_offering_index_in_memory,
    open_quote_offering_index_on_file,
    |s| { q2c_contract::open_quote_offering_index_contract(s.quote_store(), s.open_quote_index()) }
);
on_both!(catalog_versions_in_memory, catalog_versions_on_file, |s| {
    q2c_contract::catalog_versions_contract(
        s.catalog_versions(),
        s.offering_catalog_writer(),
        s.price_catalog_writer(),
    )
});

/// 1,000 open quotes, pages of 7: the change continues through 143 messages of the embedded
/// `pricing-changes` queue, and every quote is re-priced exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fanout_continuation_over_the_embedded_queue() {
    use std::sync::Arc;
    let (_dir, s) = file();
    let ports = s.ports(
        Arc::new(q2c_contract::fanout::DefaultSettings),
        Arc::new(q2c_service::ports::SystemClock),
    );
    q2c_contract::fanout_continuation_scenario(
        ports,
        s.price_catalog_writer(),
        s.offering_catalog_writer(),
        s.open_quote_index(),
        Arc::new(q2c_local::SqliteQueues::new(&s)),
        1000,
        7,
        16,
    )
    .await;
}

/// A deleted offering flags its open quotes through the embedded queue, pages of 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offering_retirement_over_the_embedded_queue() {
    use std::sync::Arc;
    let (_dir, s) = file();
    let ports = s.ports(
        Arc::new(q2c_contract::fanout::DefaultSettings),
        Arc::new(q2c_service::ports::SystemClock),
    );
    q2c_contract::offering_retirement_scenario(
        ports,
        (s.price_catalog_writer(), s.offering_catalog_writer()),
        s.open_quote_index(),
        Arc::new(q2c_local::SqliteQueues::new(&s)),
    )
    .await;
}
