//! Benchmark of the price fan-out on SQLite: how the cost of one price change grows with the
//! open quotes it affects (10 … 10,000) and whether it stays flat as unaffected quotes grow
//! (100 affected among 1,000 vs 100,000). `PriceFanout` over a file `SqliteStore` and the
//! embedded `pricing-changes` queue, every message handled as the poller would (receive,
//! handle, delete); store calls counted by wrappers around the fan-out's ports. Results go to
//! docs/benchmarks.md. Run `cargo run --release -p q2c-local --example fanout_scaling`
//! (optional argument: the total of the large "flat" run, default 100000).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use q2c_contract::fanout::{
    DefaultSettings, RecordingAnnounce, create_quote_of, price_change_event, run_fanout_queue,
    seed_bench_offering, send_change_to,
};
use q2c_contract::fixtures::unique;
use q2c_contract::wrapper::{BeforeQuoteCall, QuoteCall};
use q2c_local::{SqliteQueues, SqliteStore};
use q2c_model::tmf::{ProductOffering, ProductOfferingPrice};
use q2c_service::context::TenantId;
use q2c_service::fanout::{
    FanoutConfig, FanoutPorts, IndexPage, OpenQuoteIndex, OpenQuotePage, PageReport, PriceFanout,
};
use q2c_service::ports::{CatalogStore, Listing, Page, QuoteStore, StoreError, SystemClock};
use q2c_service::quotes::{QuoteService, QuoteServiceConfig};

/// Quotes created at once while seeding (the SQLite writer groups their commits).
const CREATE_CONCURRENCY: usize = 64;
const PAGE_SIZE: usize = 200;
const QUEUE: &str = "pricing-changes";

/// Calls the fan-out makes to its store ports (the ones it uses; the rest are not counted).
#[derive(Default)]
struct Calls {
    quote_get: AtomicU64,
    quote_update: AtomicU64,
    catalog_offerings: AtomicU64,
    catalog_prices: AtomicU64,
    index_pages: AtomicU64,
}

impl Calls {
    /// Each counter now, in the order of the fields.
    fn counts(&self) -> [u64; 5] {
        [
            &self.quote_get,
            &self.quote_update,
            &self.catalog_offerings,
            &self.catalog_prices,
            &self.index_pages,
        ]
        .map(|c| c.load(Ordering::Relaxed))
    }

    fn total(&self) -> u64 {
        self.counts().iter().sum()
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The store's ports, counting the fan-out's calls.
struct Counting {
    store: SqliteStore,
    quotes: Arc<dyn QuoteStore>,
    catalog: Arc<dyn CatalogStore>,
    index: Arc<dyn OpenQuoteIndex>,
    calls: Arc<Calls>,
}

q2c_contract::quote_store_wrapper!(Counting, quotes);

#[async_trait]
impl BeforeQuoteCall for Counting {
    async fn before(&self, call: QuoteCall<'_>) {
        match call {
            QuoteCall::Get { .. } => bump(&self.calls.quote_get),
            QuoteCall::Update { .. } => bump(&self.calls.quote_update),
        }
    }
}

#[async_trait]
impl CatalogStore for Counting {
    async fn offerings(&self, ids: &[String]) -> Result<Vec<ProductOffering>, StoreError> {
        bump(&self.calls.catalog_offerings);
        self.catalog.offerings(ids).await
    }
    async fn prices(&self, ids: &[String]) -> Result<Vec<ProductOfferingPrice>, StoreError> {
        bump(&self.calls.catalog_prices);
        self.catalog.prices(ids).await
    }
    async fn list_offerings(&self, page: Page) -> Result<Listing<ProductOffering>, StoreError> {
        self.catalog.list_offerings(page).await
    }
    async fn list_prices(&self, page: Page) -> Result<Listing<ProductOfferingPrice>, StoreError> {
        self.catalog.list_prices(page).await
    }
    async fn put_offering(&self, offering: &ProductOffering) -> Result<(), StoreError> {
        self.catalog.put_offering(offering).await
    }
    async fn put_price(&self, price: &ProductOfferingPrice) -> Result<(), StoreError> {
        self.catalog.put_price(price).await
    }
}

#[async_trait]
impl OpenQuoteIndex for Counting {
    async fn open_quotes(&self, page: IndexPage<'_>) -> Result<OpenQuotePage, StoreError> {
        bump(&self.calls.index_pages);
        self.index.open_quotes(page).await
    }
}

struct Bench {
    counting: Arc<Counting>,
    queues: Arc<SqliteQueues>,
    service: QuoteService,
    _dir: tempfile::TempDir,
}

fn bench() -> Bench {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("q2c.db")).expect("open");
    let ports = store.ports(Arc::new(DefaultSettings), Arc::new(SystemClock));
    let service = QuoteService::new(
        ports,
        QuoteServiceConfig {
            quote_href_base: "/tmf-api/quoteManagement/v4/quote".to_owned(),
        },
    );
    let counting = Arc::new(Counting {
        quotes: store.quote_store(),
        catalog: store.catalog_store(),
        index: store.open_quote_index(),
        calls: Arc::default(),
        store: store.clone(),
    });
    Bench {
        queues: Arc::new(SqliteQueues::new(&store)),
        counting,
        service,
        _dir: dir,
    }
}

/// A fresh offering with one monthly price of 40.00; returns (offering id, price).
async fn seed_offering(bench: &Bench) -> (String, ProductOfferingPrice) {
    seed_bench_offering(&*bench.counting.store.catalog_store()).await
}

/// Creates `count` priced quotes of `offering_id` through the quote service, spread over
/// three tenants, `CREATE_CONCURRENCY` at a time.
async fn create_quotes(bench: &Bench, offering_id: &str, count: usize) {
    let tenants = ["bench-x", "bench-y", "bench-z"].map(|t| TenantId::parse(t).expect("tenant"));
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..count {
        let service = bench.service.clone();
        let tenant = tenants[n % 3].clone();
        let offering_id = offering_id.to_owned();
        tasks.spawn(async move {
            create_quote_of(&service, &tenant, "bench", offering_id).await;
        });
        if tasks.len() >= CREATE_CONCURRENCY {
            tasks.join_next().await.expect("task").expect("join");
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("join");
    }
}

/// What one price change cost.
struct Run {
    elapsed: Duration,
    messages: u64,
    report: PageReport,
    calls: u64,
    gets: u64,
    updates: u64,
    catalog_reads: u64,
    index_pages: u64,
}

/// Sends a change of `monthly` to `amount` (`days` after T0) and handles every `pricing-changes` message
/// until the queue is empty (continuations are sent before their message is deleted, so an
/// empty receive after a handled message means the walk is over).
async fn change_price(
    bench: &Bench,
    monthly: &ProductOfferingPrice,
    amount: u32,
    days: i64,
) -> Run {
    let before = bench.counting.calls.counts();
    let total_before = bench.counting.calls.total();
    let counting: Arc<Counting> = Arc::clone(&bench.counting);
    let fanout = PriceFanout::new(
        FanoutPorts {
            quotes: counting.clone(),
            catalog: counting.clone(),
            writer: bench.counting.store.price_catalog_writer(),
            offerings: bench.counting.store.offering_catalog_writer(),
            index: counting,
            settings: Arc::new(DefaultSettings),
            queue: bench.queues.clone(),
            announce: Arc::new(RecordingAnnounce::default()),
            clock: Arc::new(SystemClock),
        },
        FanoutConfig {
            page_size: PAGE_SIZE,
            // Continuations on the one queue this example drains.
            queue: QUEUE.to_owned(),
            ..FanoutConfig::default()
        },
    );
    let body = price_change_event(&unique(), monthly, amount, days);

    let started = Instant::now();
    send_change_to(&*bench.queues, QUEUE, &body).await;
    let mut messages = 0;
    let mut report = PageReport::default();
    let polls = (Duration::from_secs(60), Duration::ZERO);
    run_fanout_queue(&*bench.queues, QUEUE, &fanout, polls, 1, |outcome| {
        report.repriced += outcome.page.repriced;
        report.unchanged += outcome.page.unchanged;
        report.failed += outcome.page.failed;
        report.untouched += outcome.page.untouched;
        messages += 1;
    })
    .await;
    let elapsed = started.elapsed();
    let after = bench.counting.calls.counts();
    Run {
        elapsed,
        messages,
        report,
        calls: bench.counting.calls.total() - total_before,
        gets: after[0] - before[0],
        updates: after[1] - before[1],
        catalog_reads: (after[2] - before[2]) + (after[3] - before[3]),
        index_pages: after[4] - before[4],
    }
}

fn print_header() {
    println!(
        "| affected | total open quotes | repriced | messages | time (ms) | µs per affected quote \
         | store calls | calls per affected quote | get / update / catalog reads / index pages |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
}

fn print_row(affected: usize, total: usize, run: &Run) {
    let ms = run.elapsed.as_secs_f64() * 1e3;
    println!(
        "| {affected} | {total} | {} | {} | {ms:.1} | {:.0} | {} | {:.2} | {} / {} / {} / {} |",
        run.report.repriced,
        run.messages,
        ms * 1e3 / affected as f64,
        run.calls,
        run.calls as f64 / affected as f64,
        run.gets,
        run.updates,
        run.catalog_reads,
        run.index_pages,
    );
    assert_eq!(
        run.report.repriced, affected as u64,
        "every affected quote re-priced once"
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let large_total: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("total quotes of the flat run"))
        .unwrap_or(100_000);

    println!("## Growth with affected quotes (one store, page size {PAGE_SIZE})\n");
    print_header();
    let growth = bench();
    let mut total = 0;
    for affected in [10, 100, 1_000, 10_000] {
        let (offering, monthly) = seed_offering(&growth).await;
        let setup = Instant::now();
        create_quotes(&growth, &offering, affected).await;
        total += affected;
        eprintln!("seeded {affected} quotes in {:?}", setup.elapsed());
        let run = change_price(&growth, &monthly, 45, 30).await;
        print_row(affected, total, &run);
    }

    println!("\n## 100 affected quotes among more unaffected ones (fresh store each)\n");
    print_header();
    for total in [1_000, large_total] {
        let flat = bench();
        let (filler, _) = seed_offering(&flat).await;
        let (offering, monthly) = seed_offering(&flat).await;
        let setup = Instant::now();
        create_quotes(&flat, &filler, total - 100).await;
        create_quotes(&flat, &offering, 100).await;
        eprintln!("seeded {total} quotes in {:?}", setup.elapsed());
        // Five changes of the same quotes: the time is mostly fsync'd commits, which other
        // work on the machine disturbs, so one run alone says little.
        for (amount, days) in [(45, 30), (50, 60), (55, 90), (60, 120), (65, 150)] {
            let run = change_price(&flat, &monthly, amount, days).await;
            print_row(100, total, &run);
        }
    }
}
