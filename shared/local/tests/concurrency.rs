//! Races between writers: optimistic locking and idempotency claims have one winner.

use std::sync::Arc;

use q2c_contract::fixtures::{T0, stored_quote};
use q2c_local::SqliteStore;
use q2c_service::TenantId;
use q2c_service::ports::{IdempotencyClaim, QuoteStore, StoreError};
use time::Duration;

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("q2c.db")).expect("open");
    (dir, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_updates_from_the_same_version_have_exactly_one_winner() {
    let (_dir, store) = store();
    let quotes: Arc<dyn QuoteStore> = store.quote_store();
    let t = TenantId::parse("acme").expect("tenant");
    quotes
        .insert(&t, &stored_quote("q-1", T0), &[])
        .await
        .expect("insert");

    for version in 1..=25_u64 {
        // Arrange: two writers that both read `version`.
        let writers = ["left", "right"].map(|who| {
            let (quotes, t) = (Arc::clone(&quotes), t.clone());
            let mut next = stored_quote("q-1", T0);
            next.version = version + 1;
            next.quote.description = Some(who.to_owned());
            tokio::spawn(async move { quotes.update(&t, &next, version, &[]).await })
        });

        // Act
        let mut results = Vec::new();
        for writer in writers {
            results.push(writer.await.expect("task"));
        }

        // Assert
        let wins = results.iter().filter(|r| r.is_ok()).count();
        let conflicts = results
            .iter()
            .filter(|r| matches!(r, Err(StoreError::VersionConflict)))
            .count();
        assert_eq!((wins, conflicts), (1, 1), "round {version}: {results:?}");
        let stored = quotes.get(&t, "q-1").await.expect("get").expect("quote");
        assert_eq!(stored.version, version + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_of_one_key_have_exactly_one_winner() {
    let (_dir, store) = store();
    let idempotency = store.idempotency_store();
    let t = TenantId::parse("acme").expect("tenant");

    let claims: Vec<_> = (0..16)
        .map(|_| {
            let (idempotency, t) = (Arc::clone(&idempotency), t.clone());
            tokio::spawn(async move {
                idempotency
                    .claim(&t, "key", "hash", T0, T0 + Duration::seconds(30))
                    .await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for claim in claims {
        outcomes.push(claim.await.expect("task").expect("claim"));
    }

    let claimed = outcomes
        .iter()
        .filter(|o| **o == IdempotencyClaim::Claimed)
        .count();
    let in_progress = outcomes
        .iter()
        .filter(|o| **o == IdempotencyClaim::InProgress)
        .count();
    assert_eq!((claimed, in_progress), (1, 15), "{outcomes:?}");
}
