//! The [`DispatchLog`] contract: exclusive claims with leases, release by the holder only,
//! takeover of expired leases, final dispatched records, tenant scope.

use std::sync::Arc;

use q2c_service::context::TenantId;
use q2c_service::dispatch::{DispatchClaim, DispatchLog, Dispatched, Lease, OrderKey};
use time::{Duration, OffsetDateTime};

use crate::fixtures::{T0, tenant, unique};

const LEASE: Duration = Duration::seconds(30);

/// Runs every dispatch-log rule against `log`.
///
/// # Panics
/// When the log breaks a rule (the message names it) or fails.
pub async fn dispatch_log_contract(log: Arc<dyn DispatchLog>) {
    let log = &*log;
    claims_are_exclusive_until_released_or_expired(log).await;
    a_stale_holder_cannot_release_a_newer_claim(log).await;
    dispatched_is_final(log).await;
    orders_are_per_tenant(log).await;
}

/// Eight concurrent claims of one order: exactly one wins. Run it against every backend
/// that serializes conditional writes of one item (SQLite; DynamoDB does, but moto does not:
/// it evaluates a condition and applies the update without a lock, so two racing claims can
/// both succeed on the emulator).
///
/// # Panics
/// When more or fewer than one claim wins, or a claim fails.
pub async fn dispatch_log_concurrency_contract(log: Arc<dyn DispatchLog>) {
    concurrent_claims_have_one_winner(&*log).await;
}

async fn claims_are_exclusive_until_released_or_expired(log: &dyn DispatchLog) {
    let (t, order) = (tenant("dl-claim"), unique());
    let s = Duration::seconds(1);
    let claim = |now| {
        log.claim(
            OrderKey::new(&t, &order),
            Lease {
                now,
                until: now + LEASE,
            },
        )
    };
    assert_eq!(
        claim(T0).await.expect("claim"),
        DispatchClaim::Claimed { attempt: 1 },
        "first claim"
    );
    assert_eq!(
        claim(T0 + s).await.expect("claim"),
        DispatchClaim::InProgress {
            lease_until: T0 + LEASE
        },
        "a second copy waits for the lease"
    );
    log.release(OrderKey::new(&t, &order), 1)
        .await
        .expect("release");
    assert_eq!(
        claim(T0 + s).await.expect("claim"),
        DispatchClaim::Claimed { attempt: 2 },
        "released: claimable at once, attempts counted"
    );
    assert_eq!(
        claim(T0 + LEASE).await.expect("claim"),
        DispatchClaim::InProgress {
            lease_until: T0 + s + LEASE
        }
    );
    assert_eq!(
        claim(T0 + s + LEASE).await.expect("claim"),
        DispatchClaim::Claimed { attempt: 3 },
        "an expired lease is taken over"
    );
}

async fn a_stale_holder_cannot_release_a_newer_claim(log: &dyn DispatchLog) {
    let (t, order) = (tenant("dl-fence"), unique());
    claim_at(log, &t, &order, T0).await;
    let later = T0 + LEASE;
    assert_eq!(
        claim_at(log, &t, &order, later).await,
        DispatchClaim::Claimed { attempt: 2 }
    );
    log.release(OrderKey::new(&t, &order), 1)
        .await
        .expect("stale release");
    assert!(
        matches!(
            claim_at(log, &t, &order, later).await,
            DispatchClaim::InProgress { .. }
        ),
        "the release of claim 1 must not end claim 2"
    );
}

async fn dispatched_is_final(log: &dyn DispatchLog) {
    let (t, order) = (tenant("dl-done"), unique());
    claim_at(log, &t, &order, T0).await;
    complete_at(log, &t, &order, Some("D-1"), T0)
        .await
        .expect("complete");
    let dispatched = DispatchClaim::AlreadyDispatched {
        downstream_id: Some("D-1".into()),
        attempts: 1,
    };
    let much_later = T0 + Duration::days(1);
    assert_eq!(
        claim_at(log, &t, &order, much_later).await,
        dispatched,
        "a dispatched order is never claimed again"
    );
    log.release(OrderKey::new(&t, &order), 1)
        .await
        .expect("release");
    complete_at(log, &t, &order, Some("D-2"), much_later)
        .await
        .expect("second complete is accepted");
    assert_eq!(
        claim_at(log, &t, &order, much_later).await,
        dispatched,
        "neither release nor a second completion changes a dispatched record"
    );
    // Completing without a claim (a crash lost it) still records the dispatch.
    let other = unique();
    complete_at(log, &t, &other, None, T0)
        .await
        .expect("complete");
    assert!(matches!(
        claim_at(log, &t, &other, T0).await,
        DispatchClaim::AlreadyDispatched {
            downstream_id: None,
            ..
        }
    ));
}

async fn orders_are_per_tenant(log: &dyn DispatchLog) {
    let (a, b, order) = (tenant("dl-a"), tenant("dl-b"), unique());
    claim_at(log, &a, &order, T0).await;
    complete_at(log, &a, &order, Some("D"), T0)
        .await
        .expect("complete");
    assert_eq!(
        claim_at(log, &b, &order, T0).await,
        DispatchClaim::Claimed { attempt: 1 },
        "another tenant's order with the same id is another order"
    );
}

async fn concurrent_claims_have_one_winner(log: &dyn DispatchLog) {
    let (t, order) = (tenant("dl-race"), unique());
    let claims = futures::future::join_all((0..8).map(|_| {
        log.claim(
            OrderKey::new(&t, &order),
            Lease {
                now: T0,
                until: T0 + LEASE,
            },
        )
    }))
    .await;
    let winners = claims
        .iter()
        .filter(|c| matches!(c, Ok(DispatchClaim::Claimed { .. })))
        .count();
    assert_eq!(
        winners, 1,
        "exactly one of 8 concurrent claims wins: {claims:?}"
    );
    assert!(
        claims.iter().all(|c| matches!(
            c,
            Ok(DispatchClaim::Claimed { .. } | DispatchClaim::InProgress { .. })
        )),
        "the others see it in progress: {claims:?}"
    );
}

/// Claims `order` of `t` at `now`, leased for [`LEASE`].
async fn claim_at(
    log: &dyn DispatchLog,
    t: &TenantId,
    order: &str,
    now: OffsetDateTime,
) -> DispatchClaim {
    log.claim(
        OrderKey::new(t, order),
        Lease {
            now,
            until: now + LEASE,
        },
    )
    .await
    .expect("claim")
}

/// `complete` of `order` (dispatched as `downstream_id`) at `at`.
async fn complete_at(
    log: &dyn DispatchLog,
    t: &TenantId,
    order: &str,
    downstream_id: Option<&str>,
    at: OffsetDateTime,
) -> Result<(), q2c_service::ports::StoreError> {
    log.complete(OrderKey::new(t, order), Dispatched { downstream_id, at })
        .await
}
