//! The [`DeliveryLog`] contract: a delivery of an event to a subscriber is recorded once
//! (a conditional insert), and asking which subscribers have an event names exactly those.

use std::collections::BTreeSet;
use std::sync::Arc;

use q2c_service::delivery::DeliveryLog;
use time::{Duration, OffsetDateTime};

/// Runs every delivery-log rule against `log`.
///
/// # Panics
/// When the log breaks a rule (the message names it) or fails.
pub async fn delivery_log_contract(log: Arc<dyn DeliveryLog>) {
    let log = &*log;
    let unique = uuid::Uuid::new_v4();
    let (e1, e2) = (format!("evt-1-{unique}"), format!("evt-2-{unique}"));
    let subscribers: Vec<String> = [
        "t-a/catalog/s-1",
        "t-b/catalog/s-1",
        "builtin:billing-updates",
    ]
    .iter()
    .map(|s| format!("{s}-{unique}"))
    .collect();
    let expires = OffsetDateTime::now_utc() + Duration::days(15);

    assert_eq!(
        log.delivered(&e1, &subscribers).await.expect("delivered"),
        BTreeSet::new(),
        "nothing delivered yet"
    );
    assert!(
        recorded(log, &e1, &subscribers[0], expires).await,
        "first record is new"
    );
    assert!(
        !recorded(log, &e1, &subscribers[0], expires).await,
        "the same delivery again is not new"
    );
    assert!(
        recorded(log, &e1, &subscribers[2], expires).await,
        "another subscriber of the same event is new"
    );
    assert!(
        recorded(log, &e2, &subscribers[1], expires).await,
        "another event is new"
    );

    assert_eq!(
        log.delivered(&e1, &subscribers).await.expect("delivered"),
        BTreeSet::from([subscribers[0].clone(), subscribers[2].clone()]),
        "e1 went to the first and third"
    );
    assert_eq!(
        log.delivered(&e1, &subscribers[1..2])
            .await
            .expect("delivered"),
        BTreeSet::new(),
        "only the asked subscribers are answered"
    );
    assert_eq!(
        log.delivered(&e2, &subscribers).await.expect("delivered"),
        BTreeSet::from([subscribers[1].clone()]),
        "e2 went to the second only"
    );
    assert_eq!(
        log.delivered(&e2, &[]).await.expect("delivered"),
        BTreeSet::new(),
        "asking for no subscriber answers none"
    );
}

/// Whether recording the delivery of `event_id` to `subscriber` was new.
async fn recorded(
    log: &dyn DeliveryLog,
    event_id: &str,
    subscriber: &str,
    expires_at: OffsetDateTime,
) -> bool {
    log.record(event_id, subscriber, expires_at)
        .await
        .expect("record")
}
