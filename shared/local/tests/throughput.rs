//! A rough throughput probe, not a benchmark suite: many concurrent inserts (each with one
//! outbox event, one transaction, fsync'd) and gets on a file store. Ignored by default; run
//! `cargo test --release -p q2c-local --test throughput -- --ignored --nocapture`.

use std::sync::Arc;
use std::time::Instant;

use q2c_contract::fixtures::{T0, event, stored_quote};
use q2c_local::SqliteStore;
use q2c_service::TenantId;
use q2c_service::ports::{Page, QuoteFilter, QuoteStore};

const TASKS: usize = 64;
const PER_TASK: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "throughput probe; run in release with --ignored --nocapture"]
async fn insert_get_and_list_rates() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("q2c.db")).expect("open");
    let quotes: Arc<dyn QuoteStore> = store.quote_store();
    let t = TenantId::parse("acme").expect("tenant");

    let started = Instant::now();
    let writers: Vec<_> = (0..TASKS)
        .map(|task| {
            let (quotes, t) = (Arc::clone(&quotes), t.clone());
            tokio::spawn(async move {
                for i in 0..PER_TASK {
                    let id = format!("q-{task}-{i}");
                    let e = event(Some(&t), &id, "QuoteCreateEvent");
                    let q = stored_quote(&id, T0);
                    quotes.insert(&t, &q, &[e]).await.expect("insert");
                }
            })
        })
        .collect();
    for w in writers {
        w.await.expect("writer");
    }
    let n = (TASKS * PER_TASK) as f64;
    println!("inserts: {:.0}/s", n / started.elapsed().as_secs_f64());

    let started = Instant::now();
    let readers: Vec<_> = (0..TASKS)
        .map(|task| {
            let (quotes, t) = (Arc::clone(&quotes), t.clone());
            tokio::spawn(async move {
                for i in 0..PER_TASK {
                    let id = format!("q-{task}-{i}");
                    assert!(quotes.get(&t, &id).await.expect("get").is_some());
                }
            })
        })
        .collect();
    for r in readers {
        r.await.expect("reader");
    }
    println!("gets: {:.0}/s", n / started.elapsed().as_secs_f64());

    let started = Instant::now();
    let page = Page {
        offset: 0,
        limit: 20,
    };
    for _ in 0..200 {
        let listing = quotes
            .list(&t, &QuoteFilter::default(), page)
            .await
            .expect("list");
        assert_eq!(listing.total, n as u64);
    }
    println!(
        "list (20 of {n}, with total): {:.0}/s",
        200.0 / started.elapsed().as_secs_f64()
    );
}
