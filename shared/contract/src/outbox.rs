//! The outbox contract: the events of a quote write are pending exactly when the write
//! happened, in write order; the relay marks them published and purges them later.
//!
//! The outbox is global, so this suite needs that nothing else writes to or publishes from
//! the outbox while it runs. Events already pending are marked published first.

use std::sync::Arc;

use q2c_service::ports::{OutboxEvent, OutboxStore, QuoteStore, StoreError};
use time::Duration;

use crate::fixtures::{T0, assert_conflict, drain_outbox, event, stored_quote, tenant};

/// Runs every outbox rule against a store that implements both ports.
///
/// # Panics
/// When the store breaks a rule (the message names it) or fails.
pub async fn quote_outbox_contract(quotes: Arc<dyn QuoteStore>, outbox: Arc<dyn OutboxStore>) {
    let earlier = T0 - Duration::days(1);
    drain_outbox(&*outbox, earlier).await;
    outbox.purge_published(T0).await.expect("purge drained");
    let t = tenant("ob");

    let created = [
        event(Some(&t), "q-1", "QuoteCreateEvent"),
        event(None, "q-1", "QuoteAttributeValueChangeEvent"),
    ];
    quotes
        .insert(&t, &stored_quote("q-1", T0), &created)
        .await
        .expect("insert");
    assert_eq!(
        pending(&*outbox).await,
        created,
        "events of an insert are pending, in order"
    );

    let lost_insert = event(Some(&t), "q-1", "QuoteCreateEvent");
    let dup = quotes
        .insert(&t, &stored_quote("q-1", T0), &[lost_insert])
        .await;
    assert!(matches!(dup, Err(StoreError::AlreadyExists)), "got {dup:?}");
    let mut v2 = stored_quote("q-1", T0);
    v2.version = 2;
    let lost_update = event(Some(&t), "q-1", "QuoteStateChangeEvent");
    let stale = quotes.update(&t, &v2, 7, &[lost_update]).await;
    assert_conflict(&stale, "an update at a stale version must conflict");
    let lost_delete = event(Some(&t), "q-1", "QuoteDeleteEvent");
    let stale = quotes.delete(&t, "q-1", 7, &[lost_delete]).await;
    assert_conflict(&stale, "a delete at a stale version must conflict");
    assert_eq!(
        pending(&*outbox).await,
        created,
        "failed writes leave no events"
    );

    let updated = event(Some(&t), "q-1", "QuoteStateChangeEvent");
    quotes
        .update(&t, &v2, 1, std::slice::from_ref(&updated))
        .await
        .expect("update");
    let deleted = event(Some(&t), "q-1", "QuoteDeleteEvent");
    quotes
        .delete(&t, "q-1", 2, std::slice::from_ref(&deleted))
        .await
        .expect("delete");
    let all = [created.to_vec(), vec![updated.clone(), deleted.clone()]].concat();
    assert_eq!(pending(&*outbox).await, all, "oldest first across writes");
    let first_two = outbox.pending(2).await.expect("pending(2)");
    assert_eq!(first_two, created, "limit takes the oldest");

    let published = T0 + Duration::minutes(5);
    outbox
        .mark_published(&created, published)
        .await
        .expect("mark");
    outbox
        .mark_published(&created, published + Duration::minutes(1))
        .await
        .expect("marking again is harmless");
    assert_eq!(
        pending(&*outbox).await,
        [updated.clone(), deleted.clone()],
        "published leave"
    );

    let kept = outbox.purge_published(published).await.expect("purge");
    assert_eq!(
        kept, 0,
        "purge deletes only events published strictly before `before`"
    );
    let purged = outbox
        .purge_published(published + Duration::seconds(1))
        .await
        .expect("purge");
    assert_eq!(purged, 2, "both published events are purged");
    assert_eq!(
        pending(&*outbox).await,
        [updated, deleted],
        "pending events are never purged"
    );
}

/// Every pending event (the suite keeps the outbox small).
async fn pending(outbox: &dyn OutboxStore) -> Vec<OutboxEvent> {
    outbox.pending(1000).await.expect("pending")
}
