//! Prices the benchmark's 20-item quote N times (default 100 000), for measuring CPU time with
//! `perf stat -e task-clock` when the machine is shared and wall-clock benchmarks are noisy.
//!
//! `cargo build --release -p q2c-model --example price_loop &&
//!  perf stat -e task-clock target/release/examples/price_loop 100000`

use std::hint::black_box;

use q2c_model::pricing::price_quote;
use q2c_model::sample_catalog::sample_catalog;
use q2c_model::settings::TenantSettings;
use time::macros::datetime;

#[path = "../benches/support/mod.rs"]
mod support;

fn main() {
    let iterations: u32 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let items = support::twenty_items();
    let catalog = sample_catalog();
    let settings = TenantSettings::default();
    let now = datetime!(2026-03-10 12:00 UTC);
    let mut lines = 0;
    for _ in 0..iterations {
        let priced =
            price_quote(black_box(&items), &catalog, &settings, now).expect("the quote prices");
        lines += black_box(priced).total.len();
    }
    println!("priced {iterations} quotes ({lines} totals)");
}
