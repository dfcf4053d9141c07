//! Load script for the SQLite store: many concurrent inserts (each with one outbox event,
//! grouped commits, fsync'd), gets and first-page listings on a file store. Results go to
//! docs/benchmarks.md. Run `cargo run --release -p q2c-local --example store_throughput`.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use q2c_contract::fixtures::{T0, event, stored_quote};
use q2c_local::SqliteStore;
use q2c_service::TenantId;
use q2c_service::ports::{Page, QuoteFilter, QuoteStore};

const TASKS: usize = 64;
const PER_TASK: usize = 100;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("q2c.db")).expect("open");
    let quotes: Arc<dyn QuoteStore> = store.quote_store();
    let t = TenantId::parse("acme").expect("tenant");

    let n = (TASKS * PER_TASK) as f64;
    let started = Instant::now();
    on_every_quote(&quotes, &t, |quotes, t, id| async move {
        let e = event(Some(&t), &id, "QuoteCreateEvent");
        let q = stored_quote(&id, T0);
        quotes.insert(&t, &q, &[e]).await.expect("insert");
    })
    .await;
    println!("inserts: {:.0}/s", n / started.elapsed().as_secs_f64());

    let started = Instant::now();
    on_every_quote(&quotes, &t, |quotes, t, id| async move {
        assert!(quotes.get(&t, &id).await.expect("get").is_some());
    })
    .await;
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

/// Runs `op` on every quote id `q-<task>-<i>`: `TASKS` tasks at once, each going through its
/// `PER_TASK` ids one after another.
async fn on_every_quote<F, Fut>(quotes: &Arc<dyn QuoteStore>, t: &TenantId, op: F)
where
    F: Fn(Arc<dyn QuoteStore>, TenantId, String) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let (quotes, t) = (Arc::clone(quotes), t.clone());
            tokio::spawn(async move {
                for i in 0..PER_TASK {
                    op(Arc::clone(&quotes), t.clone(), format!("q-{task}-{i}")).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
}
