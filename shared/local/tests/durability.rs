//! What is acknowledged stays across drop and reopen. SIGKILL of a live `q2c local` in the
//! middle of writes is tested with the real binary in `tools/q2c/tests/kill_restart.rs`.

use q2c_contract::fixtures::{T0, event, offering, price, stored_quote, subscription};
use q2c_local::{OpenError, SqliteStore};
use q2c_service::TenantId;
use q2c_service::ports::{
    CatalogStore, HubApi, HubStore, IdempotencyClaim, IdempotencyStore, OutboxStore, QuoteStore,
};
use time::Duration;

fn tenant() -> TenantId {
    TenantId::parse("acme").expect("tenant")
}

#[tokio::test]
async fn everything_written_is_there_after_reopening_the_file() {
    // Arrange
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("q2c.db");
    let t = tenant();
    let quote = stored_quote("q-1", T0);
    let created = event(Some(&t), "q-1", "QuoteCreateEvent");
    {
        let store = SqliteStore::open(&path).expect("open");
        store
            .insert(&t, &quote, std::slice::from_ref(&created))
            .await
            .expect("insert");
        store
            .load_catalog(&[offering("po-1", "Fibre")], &[price("pop-1", 30.0)])
            .await
            .expect("catalog");
        HubStore::create(&store, &t, HubApi::Quote, &subscription("s-1", None))
            .await
            .expect("hub");
        let claim = store.claim(&t, "k", "h", T0, T0 + Duration::seconds(30));
        assert_eq!(claim.await.expect("claim"), IdempotencyClaim::Claimed);
    }

    // Act
    let store = SqliteStore::open(&path).expect("reopen");

    // Assert
    assert_eq!(store.get(&t, "q-1").await.expect("get"), Some(quote));
    assert_eq!(store.pending(10).await.expect("pending"), [created]);
    let ids = ["po-1".to_owned()];
    assert_eq!(store.offerings(&ids).await.expect("offerings").len(), 1);
    let subs = HubStore::list(&store, &t, HubApi::Quote)
        .await
        .expect("hubs");
    assert_eq!(subs, [subscription("s-1", None)]);
    let claim = store.claim(&t, "k", "h", T0, T0 + Duration::seconds(30));
    assert_eq!(claim.await.expect("claim"), IdempotencyClaim::InProgress);
}

#[test]
fn a_file_from_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("q2c.db");
    drop(SqliteStore::open(&path).expect("create"));
    let conn = rusqlite::Connection::open(&path).expect("raw open");
    conn.pragma_update(None, "user_version", 99)
        .expect("bump version");
    drop(conn);

    let result = SqliteStore::open(&path);

    assert!(
        matches!(result, Err(OpenError::SchemaTooNew { found: 99, .. })),
        "got {:?}",
        result.err()
    );
}

#[test]
fn reopening_keeps_the_schema_version_and_journal_mode() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("q2c.db");
    drop(SqliteStore::open(&path).expect("create"));
    drop(SqliteStore::open(&path).expect("reopen runs no migration twice"));

    let conn = rusqlite::Connection::open(&path).expect("raw open");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("mode");
    assert_eq!((version, mode.as_str()), (11, "wal"));
}

/// Migration 7 fills the open-quote index by offering from the quotes stored before it:
/// retiring an offering finds the open quotes written by an older version too.
#[tokio::test]
async fn the_offering_index_migration_indexes_quotes_stored_before_it() {
    use q2c_service::fanout::{IndexKey, OpenQuoteIndex};
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("q2c.sqlite3");
    let tenant = q2c_contract::fixtures::tenant("mig");
    let open_id = q2c_contract::fixtures::unique();
    let final_id = q2c_contract::fixtures::unique();
    {
        let store = SqliteStore::open(&path).expect("create");
        let open = q2c_contract::fixtures::stored_quote(&open_id, q2c_contract::fixtures::T0);
        let mut accepted =
            q2c_contract::fixtures::stored_quote(&final_id, q2c_contract::fixtures::T0);
        accepted.quote.state = Some(q2c_model::tmf::QuoteState::Accepted);
        store.insert(&tenant, &open, &[]).await.expect("open quote");
        store
            .insert(&tenant, &accepted, &[])
            .await
            .expect("final quote");
    }
    // Back to the version 6 schema, as a database written before migration 7.
    {
        let conn = rusqlite::Connection::open(&path).expect("raw open");
        conn.execute_batch(
            "DROP TABLE products;
             ALTER TABLE outbox DROP COLUMN attempts;
             ALTER TABLE outbox DROP COLUMN parked_reason;
             DROP TABLE open_quote_counts;
             DROP TABLE open_quote_offerings;
             ALTER TABLE offerings DROP COLUMN deleted;
             PRAGMA user_version = 6;",
        )
        .expect("downgrade");
    }
    let store = SqliteStore::open(&path).expect("migrate");
    let page = store
        .open_quotes(IndexKey::Offering("po-1").page(None, 10))
        .await
        .expect("index");
    let found: Vec<_> = page.quotes.iter().map(|q| q.quote_id.clone()).collect();
    assert_eq!(found, [open_id], "the open quote, not the accepted one");
}

/// Migration 8 seeds the open-quote counts from the quotes stored before it, less the
/// effect of the events still pending (which the relay adds when it marks them), so the
/// count is right once they are published: nothing counted twice, nothing missed.
#[tokio::test]
async fn the_open_quote_count_migration_counts_quotes_stored_before_it_once() {
    use q2c_service::quotas::OpenQuoteCounts;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("q2c.sqlite3");
    let t = tenant();
    let with_state = |id: &str, state: q2c_model::tmf::QuoteState| {
        let mut quote = stored_quote(id, T0);
        quote.quote.state = Some(state);
        quote
    };
    let state_event = |quote: &q2c_service::ports::StoredQuote, event_type: &str| {
        let mut e = event(Some(&t), quote.id(), event_type);
        e.body["event"]["quote"] = serde_json::to_value(&quote.quote).expect("quote JSON");
        e
    };
    let pending = {
        let store = SqliteStore::open(&path).expect("create");
        let open = with_state("q-open", q2c_model::tmf::QuoteState::InProgress);
        let relayed = with_state("q-relayed", q2c_model::tmf::QuoteState::InProgress);
        let created = state_event(&relayed, "QuoteCreateEvent");
        store.insert(&t, &open, &[]).await.expect("insert");
        store
            .insert(&t, &relayed, std::slice::from_ref(&created))
            .await
            .expect("insert");
        // Published before the upgrade (its count change is the seed's business).
        store
            .mark_published(std::slice::from_ref(&created), T0)
            .await
            .expect("mark");
        // Still pending at the upgrade: a create and two closes.
        let fresh = with_state("q-fresh", q2c_model::tmf::QuoteState::InProgress);
        let fresh_created = state_event(&fresh, "QuoteCreateEvent");
        store
            .insert(&t, &fresh, std::slice::from_ref(&fresh_created))
            .await
            .expect("insert");
        let mut pending = vec![fresh_created];
        for id in ["q-closing-1", "q-closing-2"] {
            let closing = with_state(id, q2c_model::tmf::QuoteState::Cancelled);
            let closed = state_event(&closing, "QuoteStateChangeEvent");
            store
                .insert(&t, &closing, std::slice::from_ref(&closed))
                .await
                .expect("insert");
            pending.push(closed);
        }
        pending
    };
    // Back to the version 7 schema, as a database written before migration 8.
    {
        let conn = rusqlite::Connection::open(&path).expect("raw open");
        conn.execute_batch(
            "DROP TABLE products;
             ALTER TABLE outbox DROP COLUMN attempts;
             ALTER TABLE outbox DROP COLUMN parked_reason;
             DROP TABLE open_quote_counts; PRAGMA user_version = 7;",
        )
        .expect("downgrade");
    }
    let store = SqliteStore::open(&path).expect("migrate");
    // Open now: q-open, q-relayed, q-fresh (the closing ones are cancelled). The seed
    // leaves out the pending create (+1 when marked) and adds back the pending closes (-1
    // each when marked).
    assert_eq!(store.open_quotes(&t).await.expect("count"), 3 - 1 + 2);
    store.mark_published(&pending, T0).await.expect("mark");
    assert_eq!(
        store.open_quotes(&t).await.expect("count"),
        3,
        "exact once the pending events are published"
    );
}

/// Migration 11 fills the owner party of the products stored before it from their bodies
/// (the related party with role `customer`, any case, else the first), so listing by
/// `relatedParty.id` finds them.
#[tokio::test]
async fn the_party_migration_indexes_products_stored_before_it() {
    use q2c_service::inventory::{ProductFilter, ProductStore};
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("q2c.sqlite3");
    drop(SqliteStore::open(&path).expect("create"));
    // Back to the version 10 schema, with two products written by it.
    {
        let conn = rusqlite::Connection::open(&path).expect("raw open");
        conn.execute_batch(
            r#"DROP INDEX products_by_party;
             ALTER TABLE products DROP COLUMN party_id;
             PRAGMA user_version = 10;
             INSERT INTO products (tenant, id, version, status, start_date, body) VALUES
               ('acme', 'pr-1', 1, 'active', 1, '{"id": "pr-1", "status": "active",
                 "relatedParty": [{"id": "seller-1", "role": "seller"}, {"id": "cust-9", "role": "CUSTOMER"}]}'),
               ('acme', 'pr-2', 1, 'active', 2, '{"id": "pr-2", "status": "active",
                 "relatedParty": [{"id": "p-first"}, {"id": "p-second"}]}');"#,
        )
        .expect("downgrade");
    }
    let store = SqliteStore::open(&path).expect("migrate");
    for (party, expected) in [
        ("cust-9", vec!["pr-1"]),
        ("p-first", vec!["pr-2"]),
        ("seller-1", vec![]),
        ("p-second", vec![]),
    ] {
        let filter = ProductFilter {
            related_party_id: Some(party.to_owned()),
            ..ProductFilter::default()
        };
        let page = q2c_service::ports::Page {
            offset: 0,
            limit: 10,
        };
        let listing = ProductStore::list(&store, &tenant(), &filter, page)
            .await
            .expect("list");
        let ids: Vec<&str> = listing.items.iter().map(|p| p.id()).collect();
        assert_eq!(ids, expected, "products of {party}");
    }
}
