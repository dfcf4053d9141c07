//! What the per-tenant rate quota costs a request: `Quotas::admit` (one governor keyed-GCRA
//! check) for one busy tenant, for 10,000 tenants in turn, and when it refuses (the 429
//! path builds its message). Results in docs/benchmarks.md.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use q2c_api::quota::{QuotaSettings, Quotas};
use q2c_service::TenantId;

fn quotas(per_second: u32, burst: u32) -> Quotas {
    Quotas::new(
        &QuotaSettings {
            requests_per_second: per_second,
            burst,
            ..QuotaSettings::unlimited()
        },
        None,
    )
}

fn admit(c: &mut Criterion) {
    let mut group = c.benchmark_group("rate quota");
    // A bucket no benchmark loop can empty (a token per nanosecond): every check admits.
    let open = quotas(1_000_000_000, 1_000_000_000);
    let acme = TenantId::parse("acme").expect("tenant");
    group.bench_function("admit, one tenant", |b| {
        b.iter(|| black_box(open.admit(black_box(&acme))).is_ok())
    });
    let tenants: Vec<TenantId> = (0..10_000)
        .map(|i| TenantId::parse(&format!("tenant-{i}")).expect("tenant"))
        .collect();
    let mut next = 0;
    group.bench_function("admit, 10,000 tenants in turn", |b| {
        b.iter(|| {
            next = (next + 1) % tenants.len();
            black_box(open.admit(black_box(&tenants[next]))).is_ok()
        })
    });
    let closed = quotas(1, 1);
    let _ = closed.admit(&acme);
    group.bench_function("refuse (429 path)", |b| {
        b.iter(|| black_box(closed.admit(black_box(&acme))).is_err())
    });
    let none = Quotas::default();
    group.bench_function("no rate quota", |b| {
        b.iter(|| black_box(none.admit(black_box(&acme))).is_ok())
    });
    group.finish();
}

criterion_group!(benches, admit);
criterion_main!(benches);
