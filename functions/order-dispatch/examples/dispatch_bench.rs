//! Order dispatch throughput on the local engine: `OrderDispatch` over SQLite (dispatch log,
//! order status) and the embedded `orders` queue driven by `q2c_local::Poller`, against the
//! fake order management (`q2c_downstream::fake`) on a loopback port, at 0 % and 30 % failed
//! POSTs. Prints orders dispatched per second and downstream calls per delivered order.
//!
//! ```sh
//! cargo run --release -p q2c-fn-order-dispatch --example dispatch_bench -- [orders]
//! ```
//!
//! Orders are created as the quote API creates them (`QuoteStore::accept` with their
//! `ProductOrderCreateEvent`) and relayed from the outbox before the clock starts; the
//! measured time is from the first receive until the queue is empty (nothing visible or in
//! flight). Redeliveries are hidden 1 s and the breaker opens for 1 s (instead of 30 s) so
//! that a rare return does not dominate a short run; both are reported.

use std::sync::Arc;
use std::time::{Duration, Instant};

use q2c_downstream::fake::{DownstreamConfig, serve};
use q2c_downstream::{HttpDownstream, HttpDownstreamConfig, NoCredential, TokioSleeper};
use q2c_local::{Poller, SqliteQueues, SqliteStore};
use q2c_model::tmf::Quote;
use q2c_service::context::TenantId;
use q2c_service::dispatch::{
    CircuitBreaker, DEFAULT_THRESHOLD, OrderDispatch, OrderStatusSink, RetrySchedule,
};
use q2c_service::messaging::{ParsedMessage, queues};
use q2c_service::orders::DispatchStatus;
use q2c_service::ports::{QuoteStore, SystemClock};
use q2c_service::relay::relay_once;
use time::OffsetDateTime;

#[path = "../tests/support/acceptance.rs"]
mod acceptance;
use acceptance::acceptance;

/// The order-dispatch function's visibility timeout locally (the poller's deadline).
const VISIBILITY: Duration = Duration::from_secs(30);

struct Run {
    orders: usize,
    elapsed: Duration,
    posts: u64,
    redeliveries: usize,
    dead_lettered: usize,
}

#[tokio::main]
async fn main() {
    let orders: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("orders: a number"))
        .unwrap_or(1000);
    println!(
        "orders,fail_rate,seconds,orders_per_second,posts,calls_per_order,redeliveries,dead_lettered"
    );
    for fail_rate in [0.0, 0.3] {
        let run = run(orders, fail_rate).await;
        println!(
            "{},{fail_rate},{:.2},{:.0},{},{:.3},{},{}",
            run.orders,
            run.elapsed.as_secs_f64(),
            run.orders as f64 / run.elapsed.as_secs_f64(),
            run.posts,
            run.posts as f64 / run.orders as f64,
            run.redeliveries,
            run.dead_lettered,
        );
    }
}

async fn run(count: usize, fail_rate: f64) -> Run {
    let path = std::env::temp_dir().join(format!(
        "q2c-dispatch-bench-{}.db",
        uuid::Uuid::new_v4().simple()
    ));
    let store = SqliteStore::open(&path).expect("open SQLite");
    let tenant = TenantId::parse("acme").expect("tenant");
    for i in 0..count {
        accept_quote(&store, &tenant, &format!("o-{i:06}")).await;
    }
    let queue = SqliteQueues::new(&store).queue_client();
    while relay_once(&store, queue.as_ref(), 500)
        .await
        .expect("relay")
        .published
        > 0
    {}

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let fake = DownstreamConfig {
        fail_rate,
        ..DownstreamConfig::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(fake, listener, async {
        let _ = stopped.await;
    }));

    let downstream = Arc::new(
        HttpDownstream::new(
            HttpDownstreamConfig::new(url.clone()),
            Arc::new(NoCredential),
        )
        .expect("http client"),
    );
    let mut schedule = RetrySchedule::default();
    schedule.redelivery_base = Duration::from_secs(1);
    schedule.redelivery_cap = Duration::from_secs(2);
    let clock = Arc::new(SystemClock);
    let dispatch = OrderDispatch::new(
        downstream,
        store.dispatch_log(),
        Arc::new(OrderStatusSink(store.order_store())),
        Arc::new(CircuitBreaker::new(
            "order-management",
            DEFAULT_THRESHOLD,
            Duration::from_secs(1),
            clock.clone(),
        )),
        schedule,
        clock,
        Arc::new(TokioSleeper),
    );
    let poller = Poller::new(queue.clone(), queues::ORDERS)
        .with_visibility_timeout(VISIBILITY)
        .with_wait(Duration::from_millis(100));
    let handler =
        |message: ParsedMessage| dispatch.handle(message, OffsetDateTime::now_utc() + VISIBILITY);

    let started = Instant::now();
    let (mut redeliveries, mut dead_lettered) = (0, 0);
    loop {
        let report = poller.poll_once(&handler).await.expect("poll");
        redeliveries += report.retried;
        dead_lettered += report.dead_lettered;
        if report.received == 0 {
            let counts = queue.counts(queues::ORDERS).await.expect("counts");
            if counts.visible + counts.in_flight == 0 {
                break;
            }
        }
    }
    let elapsed = started.elapsed();

    let response = reqwest::get(format!("{url}/productOrder"))
        .await
        .expect("GET /productOrder");
    let posts: u64 = response.headers()["x-total-posts"]
        .to_str()
        .expect("header")
        .parse()
        .expect("number");
    let received: Vec<serde_json::Value> = response.json().await.expect("json");
    let accepted = received.iter().filter(|e| e["accepted"] == true).count();
    assert_eq!(accepted, count, "every order received once");
    let order_store = store.order_store();
    for i in (0..count).step_by(count.div_ceil(20).max(1)) {
        let order = order_store
            .get(&tenant, &format!("o-{i:06}"))
            .await
            .expect("get")
            .expect("order");
        assert_eq!(order.dispatch.status, DispatchStatus::Dispatched);
    }
    let _ = stop.send(());
    let _ = server.await;
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Run {
        orders: count,
        elapsed,
        posts,
        redeliveries,
        dead_lettered,
    }
}

/// Accepts a fresh quote, creating order `order_id` and its create event, as the API does.
async fn accept_quote(store: &SqliteStore, tenant: &TenantId, order_id: &str) {
    let acceptance = acceptance(tenant, order_id, Quote::default());
    store
        .insert(tenant, &acceptance.quote, &[])
        .await
        .expect("insert quote");
    store
        .accept(
            tenant,
            &acceptance.accepted,
            1,
            &acceptance.order,
            &[acceptance.created],
        )
        .await
        .expect("accept");
}
