//! The [`IdempotencyStore`] contract: claim, in-progress, replay, mismatch, expiry of
//! completed records, takeover of abandoned claims, release, tenant scope, purge.

use std::sync::Arc;

use q2c_service::ports::IdempotencyClaim::{Claimed, InProgress, Mismatch, Replay};
use q2c_service::ports::{IdempotencyClaim, IdempotencyStore, StoredResponse};
use time::{Duration, OffsetDateTime};

use crate::fixtures::{T0, tenant, unique};

const HOLD: Duration = Duration::seconds(30);

/// Runs every idempotency rule against `store`.
///
/// # Panics
/// When the store breaks a rule (the message names it) or fails.
pub async fn idempotency_contract(store: Arc<dyn IdempotencyStore>) {
    let store = &*store;
    claim_progress_replay_and_mismatch(store).await;
    completed_records_expire(store).await;
    abandoned_claims_can_be_taken_over(store).await;
    released_keys_can_be_claimed_again(store).await;
    keys_are_per_tenant(store).await;
    purge_deletes_only_expired_records(store).await;
}

async fn claim(
    store: &dyn IdempotencyStore,
    t: &q2c_service::TenantId,
    key: &str,
    hash: &str,
    now: OffsetDateTime,
) -> IdempotencyClaim {
    store
        .claim(t, key, hash, now, now + HOLD)
        .await
        .expect("claim")
}

/// Claims `key` of `t` with each (body hash, instant) of `steps` in turn, expecting each
/// step's outcome (the message names the rule).
async fn claims<const N: usize>(
    store: &dyn IdempotencyStore,
    t: &q2c_service::TenantId,
    key: &str,
    steps: [(&str, OffsetDateTime, IdempotencyClaim, &str); N],
) {
    for (hash, now, expected, rule) in steps {
        assert_eq!(claim(store, t, key, hash, now).await, expected, "{rule}");
    }
}

fn response(marker: &str) -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![
            ("Location".to_owned(), format!("/quote/{marker}")),
            ("ETag".to_owned(), "\"1\"".to_owned()),
        ],
        body: format!("{{\"id\":\"{marker}\",\"note\":\"ünïcode\"}}"),
    }
}

async fn claim_progress_replay_and_mismatch(store: &dyn IdempotencyStore) {
    let (t, key) = (tenant("id-basic"), unique());
    let s = Duration::seconds(1);
    let steps = [
        ("h1", T0, Claimed, "first use"),
        ("h1", T0 + s, InProgress, "retry while running"),
        ("h2", T0 + s, Mismatch, "other body while running"),
    ];
    claims(store, &t, &key, steps).await;

    let stored = response("q-1");
    store
        .complete(&t, &key, &stored, T0 + Duration::hours(24))
        .await
        .expect("complete");

    // Replay well after the claim's hold time too: completion ends the hold.
    let later = T0 + Duration::hours(2);
    let steps = [
        (
            "h1",
            T0 + 2 * s,
            Replay(stored.clone()),
            "replay after completion",
        ),
        ("h2", T0 + 2 * s, Mismatch, "other body after completion"),
        ("h1", later, Replay(stored), "replay until expiry"),
    ];
    claims(store, &t, &key, steps).await;
}

async fn completed_records_expire(store: &dyn IdempotencyStore) {
    let (t, key) = (tenant("id-exp"), unique());
    assert_eq!(claim(store, &t, &key, "h1", T0).await, Claimed);
    let expires = T0 + Duration::hours(1);
    store
        .complete(&t, &key, &response("old"), expires)
        .await
        .expect("complete");

    let after = expires + Duration::seconds(1);
    let steps = [
        (
            "h2",
            after,
            Claimed,
            "an expired record counts as absent, whatever the body",
        ),
        (
            "h2",
            after + Duration::seconds(1),
            InProgress,
            "the new claim holds",
        ),
    ];
    claims(store, &t, &key, steps).await;
    let fresh = response("new");
    store
        .complete(&t, &key, &fresh, after + Duration::hours(1))
        .await
        .expect("complete");
    assert_eq!(
        claim(store, &t, &key, "h2", after + Duration::seconds(2)).await,
        Replay(fresh),
        "the new response replays"
    );
}

async fn abandoned_claims_can_be_taken_over(store: &dyn IdempotencyStore) {
    let (t, key) = (tenant("id-take"), unique());
    let within = T0 + HOLD - Duration::seconds(1);
    let past = T0 + HOLD + Duration::seconds(1);
    let steps = [
        ("h1", T0, Claimed, "first use"),
        ("h1", within, InProgress, "held until in_progress_until"),
        ("h1", past, Claimed, "taken over after in_progress_until"),
        (
            "h1",
            past + Duration::seconds(1),
            InProgress,
            "the takeover holds with its own deadline",
        ),
    ];
    claims(store, &t, &key, steps).await;
}

async fn released_keys_can_be_claimed_again(store: &dyn IdempotencyStore) {
    let (t, key) = (tenant("id-rel"), unique());
    assert_eq!(claim(store, &t, &key, "h1", T0).await, Claimed);
    store.release(&t, &key).await.expect("release");
    assert_eq!(
        claim(store, &t, &key, "h2", T0 + Duration::seconds(1)).await,
        Claimed,
        "a released key is free, even for another body"
    );
    store
        .release(&t, &unique())
        .await
        .expect("releasing an unknown key is harmless");
}

async fn keys_are_per_tenant(store: &dyn IdempotencyStore) {
    let (a, b, key) = (tenant("id-ten-a"), tenant("id-ten-b"), unique());
    assert_eq!(claim(store, &a, &key, "h1", T0).await, Claimed);
    store
        .complete(&a, &key, &response("a"), T0 + Duration::hours(1))
        .await
        .expect("complete");
    assert_eq!(
        claim(store, &b, &key, "h2", T0).await,
        Claimed,
        "B's key is not A's"
    );
    assert_eq!(
        claim(store, &a, &key, "h1", T0).await,
        Replay(response("a")),
        "A still replays"
    );
}

async fn purge_deletes_only_expired_records(store: &dyn IdempotencyStore) {
    let t = tenant("id-purge");
    let (short, long) = (unique(), unique());
    for (key, ttl) in [(&short, Duration::seconds(10)), (&long, Duration::hours(1))] {
        assert_eq!(claim(store, &t, key, "h1", T0).await, Claimed);
        store
            .complete(&t, key, &response(key), T0 + ttl)
            .await
            .expect("complete");
    }
    let now = T0 + Duration::seconds(11);

    let purged = store.purge_expired(now).await.expect("purge");

    assert!(
        purged >= 1,
        "the expired record is purged (purged {purged})"
    );
    assert_eq!(
        claim(store, &t, &long, "h1", now).await,
        Replay(response(&long)),
        "an unexpired record survives the purge"
    );
    assert_eq!(
        claim(store, &t, &short, "h2", now).await,
        Claimed,
        "the purged key is free"
    );
}
