//! Prices a 20-item quote (see `support`) against the sample catalog with the default settings.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use q2c_model::pricing::price_quote;
use q2c_model::sample_catalog::sample_catalog;
use q2c_model::settings::TenantSettings;
use time::macros::datetime;

mod support;
use support::twenty_items;

fn pricing(c: &mut Criterion) {
    let catalog = sample_catalog();
    let settings = TenantSettings::default();
    let items = twenty_items();
    let now = datetime!(2026-03-10 12:00 UTC);
    c.bench_function("price_quote/20 items", |b| {
        b.iter(|| price_quote(black_box(&items), &catalog, &settings, now).expect("prices"))
    });
}

criterion_group!(benches, pricing);
criterion_main!(benches);
