//! Unit tests of the dispatch with in-memory ports, a manual clock and a sleeper that
//! advances it: no real time passes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

use super::fakes::*;
use super::*;
use crate::clock::Clock;
use crate::context::TenantId;
use crate::messaging::HandlerError;
use crate::store::StoreError;
use crate::testing::{CrashAfterFirstAnswer, assert_opened_then_closed};

fn assert_retry_later(outcome: &DispatchOutcome) {
    assert!(
        matches!(outcome, DispatchOutcome::RetryLater { .. }),
        "{outcome:?}"
    );
}

// ---------------------------------------------------------------- classify

#[test]
fn classification_of_answers() {
    let id = "o-1";
    assert_eq!(
        classify(201, r#"{"id":"D-9","externalId":"o-1"}"#, id),
        Classification::Dispatched {
            downstream_id: Some("D-9".into())
        }
    );
    assert_eq!(
        classify(409, r#"{"id":"D-9"}"#, id),
        Classification::Duplicate {
            downstream_id: Some("D-9".into())
        }
    );
    assert_eq!(
        classify(422, r#"{"code":"DUP","externalId":"o-1","id":"D-3"}"#, id),
        Classification::Duplicate {
            downstream_id: Some("D-3".into())
        }
    );
    assert_eq!(
        classify(
            400,
            r#"{"code":"400","reason":"Bad item","message":"no offering"}"#,
            id
        ),
        Classification::Permanent {
            reason: "order management refused the order: 400 Bad item: no offering".into()
        }
    );
    for status in [401, 403] {
        assert!(
            matches!(
                classify(status, r#"{"reason":"bad token"}"#, id),
                Classification::Unauthorized { ref reason } if reason.contains("credential")
            ),
            "{status} is a refused credential"
        );
    }
    // Another order's externalId is no duplicate of ours.
    assert!(matches!(
        classify(422, r#"{"externalId":"o-2"}"#, id),
        Classification::Permanent { .. }
    ));
    for status in [429, 500, 502, 503, 504, 301] {
        assert!(
            matches!(classify(status, "", id), Classification::Transient { .. }),
            "{status} is transient"
        );
    }
    assert!(matches!(
        classify_answer(&DownstreamAnswer::Timeout("total 5s".into()), id),
        Classification::Transient { .. }
    ));
    assert!(matches!(
        classify_answer(&DownstreamAnswer::Unreachable("refused".into()), id),
        Classification::Transient { .. }
    ));
}

// ---------------------------------------------------------------- retry schedule

#[test]
fn retry_ceilings_double_up_to_the_cap() {
    let schedule = RetrySchedule::new(Duration::from_millis(200), Duration::from_secs(1), 10);
    let ceilings: Vec<_> = (0..5).map(|n| schedule.ceiling(n).as_millis()).collect();
    assert_eq!(ceilings, [200, 400, 800, 1000, 1000]);
    assert_eq!(schedule.ceiling(200), Duration::from_secs(1), "no overflow");
}

#[test]
fn retry_delays_are_full_jitter_of_the_ceiling() {
    let long = Duration::from_secs(60);
    let call = Duration::from_secs(2);
    let schedule = |per_mille| {
        RetrySchedule::new(Duration::from_millis(200), Duration::from_secs(5), 4)
            .with_jitter(Arc::new(FixedJitter(per_mille)))
    };
    let delays = |s: &RetrySchedule| -> Vec<_> {
        (1..=4)
            .map(|calls| s.next_delay(calls, long, call))
            .collect()
    };
    let ms = Duration::from_millis;
    for (per_mille, expected) in [
        (1000, [Some(ms(200)), Some(ms(400)), Some(ms(800)), None]),
        (500, [Some(ms(100)), Some(ms(200)), Some(ms(400)), None]),
        (0, [Some(ms(0)), Some(ms(0)), Some(ms(0)), None]),
    ] {
        assert_eq!(delays(&schedule(per_mille)), expected, "{per_mille} ‰");
    }
    assert_eq!(
        schedule(1000).next_delay(0, long, call),
        None,
        "no retry before a call"
    );
}

#[test]
fn retry_delays_respect_the_remaining_time() {
    let schedule = RetrySchedule::new(Duration::from_millis(200), Duration::from_secs(5), 4)
        .with_jitter(Arc::new(FixedJitter(1000)));
    let call = Duration::from_secs(2);
    // Not enough left for one more call: stop.
    assert_eq!(
        schedule.next_delay(1, Duration::from_millis(1999), call),
        None
    );
    // Enough for the call but not the whole delay: the wait is shortened.
    assert_eq!(
        schedule.next_delay(3, Duration::from_millis(2300), call),
        Some(Duration::from_millis(300))
    );
    assert_eq!(
        schedule.next_delay(3, Duration::from_secs(2), call),
        Some(Duration::ZERO)
    );
}

#[test]
fn random_jitter_stays_within_the_ceiling() {
    let upper = Duration::from_millis(800);
    for _ in 0..1000 {
        assert!(RandomJitter.pick(upper) <= upper);
    }
    assert_eq!(RandomJitter.pick(Duration::ZERO), Duration::ZERO);
}

#[test]
fn redelivery_delays_grow_to_their_cap() {
    let schedule = RetrySchedule::new(Duration::from_millis(200), Duration::from_secs(5), 4);
    let secs: Vec<_> = (1..=6)
        .map(|d| schedule.redelivery_delay(d).as_millis())
        .collect();
    assert_eq!(secs, [30_000, 60_000, 120_000, 240_000, 480_000, 900_000]);
    assert_eq!(schedule.redelivery_delay(0), Duration::from_secs(30));
    assert_eq!(
        schedule.redelivery_delay(u32::MAX),
        Duration::from_secs(900)
    );
}

// ---------------------------------------------------------------- circuit breaker

#[test]
fn breaker_opens_after_threshold_and_probes_once_per_window() {
    let clock = ManualClock::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hook_seen = seen.clone();
    let breaker = CircuitBreaker::new("oms", 3, Duration::from_secs(10), clock.clone())
        .on_state_change(Arc::new(move |name, from, to| {
            assert_eq!(name, "oms");
            hook_seen.lock().unwrap().push((from, to));
        }));
    for _ in 0..2 {
        assert_eq!(breaker.permit(), Permit::Call);
        breaker.record_failure();
    }
    // A success in between resets the count.
    breaker.record_success();
    for _ in 0..2 {
        breaker.record_failure();
    }
    assert_eq!(breaker.state(), BreakerState::Closed);
    breaker.record_failure();
    assert_eq!(breaker.state(), BreakerState::Open);
    assert_eq!(
        breaker.permit(),
        Permit::Refused {
            retry_after: Duration::from_secs(10)
        }
    );
    clock.advance(Duration::from_secs(4));
    assert_eq!(
        breaker.permit(),
        Permit::Refused {
            retry_after: Duration::from_secs(6)
        }
    );
    assert_eq!(breaker.refusing(), Some(Duration::from_secs(6)));
    clock.advance(Duration::from_secs(6));
    assert_eq!(breaker.refusing(), None, "the window ended");
    assert_eq!(
        breaker.state(),
        BreakerState::Open,
        "peeking takes no probe"
    );
    assert_eq!(breaker.permit(), Permit::Probe);
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    assert!(
        matches!(breaker.permit(), Permit::Refused { .. }),
        "one probe at a time"
    );
    breaker.record_failure();
    assert_eq!(
        breaker.state(),
        BreakerState::Open,
        "a failed probe reopens"
    );
    clock.advance(Duration::from_secs(10));
    assert_eq!(breaker.permit(), Permit::Probe);
    // The probe's caller vanished: another probe only after the probe window.
    clock.advance(Duration::from_secs(9));
    assert!(matches!(breaker.permit(), Permit::Refused { .. }));
    clock.advance(Duration::from_secs(1));
    assert_eq!(breaker.permit(), Permit::Probe);
    breaker.record_success();
    assert_eq!(breaker.state(), BreakerState::Closed);
    assert_eq!(breaker.permit(), Permit::Call);
    use BreakerState::*;
    assert_eq!(
        *seen.lock().unwrap(),
        [
            (Closed, Open),
            (Open, HalfOpen),
            (HalfOpen, Open),
            (Open, HalfOpen),
            (HalfOpen, Closed)
        ]
    );
}

// ---------------------------------------------------------------- the use-case

#[tokio::test]
async fn a_created_order_is_posted_without_state_and_recorded_dispatched() {
    let h = harness(Box::new(|_, _, _| {
        http(201, json!({"id": "D-1", "state": "acknowledged"}))
    }));
    let outcome = h.dispatch.dispatch(message("o-1"), deadline(&h)).await;
    assert_eq!(outcome, dispatched("D-1", 1));
    let calls = h.downstream.calls.lock().unwrap().clone();
    let (key, body) = &calls[0];
    assert_eq!(key, "q2c-order-acme-o-1");
    assert_eq!(body["externalId"], "o-1");
    for absent in ["id", "href", "state"] {
        assert!(body.get(absent).is_none(), "{absent} is not sent: {body}");
    }
    assert!(body["productOrderItem"][0].get("state").is_none());
    assert_eq!(
        h.sink.last("o-1"),
        DispatchUpdate {
            status: DispatchStatus::Dispatched,
            attempts: 1,
            last_error: None,
            downstream_id: Some("D-1".into())
        }
    );
    // A redelivered copy calls nothing.
    let again = h.dispatch.dispatch(message("o-1"), deadline(&h)).await;
    assert_eq!(again, DispatchOutcome::AlreadyDispatched);
    assert_eq!(h.downstream.call_count(), 1);
    assert_eq!(h.sink.last("o-1").status, DispatchStatus::Dispatched);
}

#[tokio::test]
async fn a_refused_order_is_dead_lettered_with_the_downstreams_reason() {
    let h = harness(Box::new(|_, _, _| {
        http(
            400,
            json!({"code": "INVALID", "reason": "Unknown offering", "message": "PO-9 does not exist"}),
        )
    }));
    let result = h.dispatch.handle(message("o-2"), deadline(&h)).await;
    let Err(HandlerError::Poison { reason }) = result else {
        panic!("a 400 is poison, got {result:?}")
    };
    assert!(
        reason.contains("Unknown offering: PO-9 does not exist"),
        "{reason}"
    );
    assert_eq!(h.downstream.call_count(), 1, "a refusal is not retried");
    let update = h.sink.last("o-2");
    assert_eq!(update.status, DispatchStatus::Failed);
    assert_eq!(update.last_error.as_deref(), Some(reason.as_str()));
    assert_eq!(h.dispatch.breaker().state(), BreakerState::Closed);
}

#[tokio::test]
async fn duplicates_count_as_dispatched() {
    for answer in [
        http(409, json!({"id": "D-7"})),
        http(422, json!({"id": "D-7", "externalId": "o-3"})),
    ] {
        let h = harness(Box::new(move |_, _, _| answer.clone()));
        let result = h.dispatch.dispatch(message("o-3"), deadline(&h)).await;
        assert_eq!(result, dispatched("D-7", 1));
        assert_eq!(h.sink.last("o-3").status, DispatchStatus::Dispatched);
    }
}

#[tokio::test]
async fn unparseable_orders_are_poison_without_a_call() {
    let h = harness(Box::new(|_, _, _| http(201, json!({}))));
    let mut no_tenant = message("o-4");
    no_tenant.tenant = None;
    let mut no_order = message("o-4");
    no_order.event = json!({"quote": {}});
    let mut no_id = message("o-4");
    no_id.event = json!({"productOrder": {"productOrderItem": []}});
    let mut not_an_order = message("o-4");
    not_an_order.event = json!({"productOrder": {"id": "o-4", "productOrderItem": "x"}});
    for bad in [no_tenant, no_order, no_id, not_an_order] {
        let result = h.dispatch.handle(bad, deadline(&h)).await;
        assert!(
            matches!(result, Err(HandlerError::Poison { .. })),
            "{result:?}"
        );
    }
    assert_eq!(h.downstream.call_count(), 0);
}

#[tokio::test]
async fn transient_failures_retry_with_backoff_then_return_the_message() {
    // 503 twice, then accepted.
    let h = harness(Box::new(|_, n, _| {
        if n <= 2 {
            http(503, json!({}))
        } else {
            http(201, json!({"id": "D-5"}))
        }
    }));
    let outcome = h.dispatch.dispatch(message("o-5"), deadline(&h)).await;
    assert_eq!(outcome, dispatched("D-5", 3));
    assert_eq!(
        *h.sleeper.slept.lock().unwrap(),
        [Duration::from_millis(200), Duration::from_millis(400)]
    );
    let keys: Vec<_> = h
        .downstream
        .calls
        .lock()
        .unwrap()
        .iter()
        .map(|c| c.0.clone())
        .collect();
    assert!(
        keys.iter().all(|k| k == "q2c-order-acme-o-5"),
        "one key for all retries"
    );

    // Always 500: four calls, then returned with a redelivery delay and Pending recorded.
    let h = harness(Box::new(|_, _, _| http(500, json!({"reason": "db down"}))));
    let outcome = h.dispatch.dispatch(message("o-6"), deadline(&h)).await;
    let DispatchOutcome::RetryLater { after, reason } = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(h.downstream.call_count(), 4);
    assert_eq!(
        *after,
        Duration::from_secs(30),
        "redelivery backoff of delivery 1"
    );
    assert!(reason.contains("db down"), "{reason}");
    let update = h.sink.last("o-6");
    assert_eq!(update.status, DispatchStatus::Pending);
    assert_eq!(update.attempts, 1);
    assert!(matches!(
        outcome.into_result(),
        Err(HandlerError::Transient(_))
    ));
    // The claim was released: the next copy may try at once.
    let next = h.dispatch.dispatch(message("o-6"), deadline(&h)).await;
    assert_retry_later(&next);
    assert_eq!(
        h.downstream.call_count(),
        5,
        "threshold 5 reached: the breaker opened"
    );
    assert_eq!(h.sink.last("o-6").attempts, 2);
}

#[tokio::test]
async fn retries_stop_before_the_deadline() {
    let h = harness(Box::new(|_, _, _| {
        DownstreamAnswer::Timeout("total".into())
    }));
    // 3 s left, calls take 0.1 s but may take 2 s (their timeout), 0.5 s kept for
    // bookkeeping. Call 1 ends at 0.1 s: 2.4 s usable, wait 0.2 s. Call 2 ends at 0.4 s:
    // 2.1 s usable, so the 0.4 s draw is cut to 0.1 s. Call 3 ends at 0.6 s: 1.9 s usable,
    // less than a call: stop.
    let deadline = h.clock.now() + Duration::from_secs(3);
    let outcome = h.dispatch.dispatch(message("o-7"), deadline).await;
    assert_retry_later(&outcome);
    assert_eq!(h.downstream.call_count(), 3);
    assert_eq!(
        *h.sleeper.slept.lock().unwrap(),
        [Duration::from_millis(200), Duration::from_millis(100)]
    );
    assert!(h.clock.now() <= deadline, "finished before the deadline");
}

#[tokio::test]
async fn without_time_for_one_call_the_message_is_returned_unclaimed() {
    let h = harness(Box::new(|_, _, _| http(201, json!({"id": "D"}))));
    // The call may take 2 s, bookkeeping 0.5 s: 2.4 s are not enough.
    let deadline = h.clock.now() + Duration::from_millis(2_400);
    let outcome = h.dispatch.dispatch(message("o-late"), deadline).await;
    assert_retry_later(&outcome);
    assert_eq!(h.downstream.call_count(), 0);
    assert!(h.log.0.lock().unwrap().is_empty(), "not claimed");
    let deadline = h.clock.now() + Duration::from_millis(2_500);
    let outcome = h.dispatch.dispatch(message("o-late"), deadline).await;
    assert!(
        matches!(outcome, DispatchOutcome::Dispatched { .. }),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_second_copy_in_flight_does_not_call() {
    let h = harness(Box::new(|_, _, _| http(201, json!({"id": "D-8"}))));
    let tenant = TenantId::parse("acme").unwrap();
    let now = h.clock.now();
    let claim = h
        .log
        .claim(
            OrderKey::new(&tenant, "o-8"),
            Lease {
                now,
                until: now + Duration::from_secs(40),
            },
        )
        .await
        .unwrap();
    assert_eq!(claim, DispatchClaim::Claimed { attempt: 1 });
    let outcome = h.dispatch.dispatch(message("o-8"), deadline(&h)).await;
    assert_eq!(
        outcome,
        DispatchOutcome::RetryLater {
            after: Duration::from_secs(40),
            reason: "another delivery of this order is being dispatched".into()
        }
    );
    assert_eq!(h.downstream.call_count(), 0);
}

#[tokio::test]
async fn while_the_breaker_is_open_messages_return_without_touching_the_stores() {
    let h = harness(Box::new(|_, _, _| http(503, json!({}))));
    // Two deliveries of 4 calls each: the 5th failure opens the breaker.
    for order_id in ["o-a", "o-b"] {
        let outcome = h.dispatch.dispatch(message(order_id), deadline(&h)).await;
        assert_retry_later(&outcome);
    }
    assert_eq!(h.dispatch.breaker().state(), BreakerState::Open);
    let calls = h.downstream.call_count();
    let outcome = h.dispatch.dispatch(message("o-c"), deadline(&h)).await;
    let DispatchOutcome::RetryLater { after, reason } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(reason, "circuit breaker of fake-oms is open");
    assert_eq!(
        after,
        Duration::from_secs(30),
        "the longer of window rest and backoff"
    );
    assert_eq!(h.downstream.call_count(), calls);
    assert!(
        !h.log.0.lock().unwrap().keys().any(|(_, id)| id == "o-c"),
        "not claimed"
    );
    assert!(
        !h.sink.0.lock().unwrap().iter().any(|(id, _)| id == "o-c"),
        "no status write"
    );
    assert_eq!(
        h.dispatch.breaker().state(),
        BreakerState::Open,
        "no probe taken"
    );
}

/// A dispatch log that is down.
struct BrokenLog;

#[async_trait]
impl DispatchLog for BrokenLog {
    async fn claim(&self, _: OrderKey<'_>, _: Lease) -> Result<DispatchClaim, StoreError> {
        Err(StoreError::Backend("table unavailable".into()))
    }
    async fn complete(&self, _: OrderKey<'_>, _: Dispatched<'_>) -> Result<(), StoreError> {
        Err(StoreError::Backend("table unavailable".into()))
    }
    async fn release(&self, _: OrderKey<'_>, _: u32) -> Result<(), StoreError> {
        Err(StoreError::Backend("table unavailable".into()))
    }
}

#[tokio::test]
async fn a_failing_dispatch_log_returns_the_message_without_a_call() {
    let h = harness(Box::new(|_, _, _| http(201, json!({"id": "D"}))));
    let dispatch = h.dispatch_over(h.downstream.clone(), Arc::new(BrokenLog));
    let result = dispatch.handle(message("o-x"), deadline(&h)).await;
    assert!(
        matches!(result, Err(HandlerError::Transient(_))),
        "{result:?}"
    );
    assert_eq!(h.downstream.call_count(), 0);
}

/// A 60 s outage with a backlog of 40 orders, redelivered whenever their visibility ends:
/// order management sees at most threshold + one probe per open window calls.
#[tokio::test]
async fn an_outage_costs_the_downstream_threshold_plus_one_probe_per_window() {
    let outage_ends = datetime!(2026-11-27 12:01 UTC);
    let h = harness(Box::new(move |_, _, now| {
        if now < outage_ends {
            DownstreamAnswer::Unreachable("connection refused".into())
        } else {
            http(201, json!({"id": "D"}))
        }
    }));
    // Each order's next visibility time.
    let mut visible: Vec<(OffsetDateTime, String, u32)> = (0..40)
        .map(|i| (h.clock.now(), format!("o-{i}"), 1))
        .collect();
    let mut dispatched = 0;
    let mut calls_during_outage = 0;
    while dispatched < 40 {
        visible.sort();
        let (at, order_id, deliveries) = visible.remove(0);
        if at > h.clock.now() {
            h.clock
                .advance(Duration::try_from(at - h.clock.now()).unwrap());
        }
        let before = h.downstream.call_count();
        let started = h.clock.now();
        let mut msg = message(&order_id);
        msg.receive_count = Some(deliveries);
        let outcome = h.dispatch.dispatch(msg, deadline(&h)).await;
        if started < outage_ends {
            calls_during_outage += h.downstream.call_count() - before;
        }
        match outcome {
            DispatchOutcome::Dispatched { .. } => dispatched += 1,
            DispatchOutcome::RetryLater { after, .. } => {
                visible.push((h.clock.now() + after, order_id, deliveries + 1));
            }
            other => panic!("{other:?}"),
        }
    }
    let windows = 60 / OPEN_FOR.as_secs() as usize;
    let bound = THRESHOLD as usize + windows + 1;
    assert!(
        calls_during_outage <= bound,
        "{calls_during_outage} calls during the outage, bound {bound}"
    );
    assert!(
        calls_during_outage >= THRESHOLD as usize,
        "the breaker needed failures to open"
    );
    assert_eq!(h.dispatch.breaker().state(), BreakerState::Closed);
    let transitions = h.transitions.lock().unwrap();
    assert_opened_then_closed(&transitions);
    // Every order dispatched exactly once after the outage.
    let accepted = h.downstream.call_count() - calls_during_outage;
    assert_eq!(accepted, 40);
}

/// Order management accepted the order but we died before recording it: the redelivery
/// POSTs once more with the same key, and one dispatched record results.
#[tokio::test]
async fn a_crash_after_the_downstream_accepted_costs_at_most_one_duplicate_post() {
    // The fake de-duplicates by key like a real order system: first POST 201, then 409.
    let h = harness(Box::new(|_, n, _| {
        if n == 1 {
            http(201, json!({"id": "D-1"}))
        } else {
            http(409, json!({"id": "D-1"}))
        }
    }));
    // The failpoint: the first invocation is dropped right after the downstream answered,
    // before the log or the order status is written.
    let hold = Arc::new(CrashAfterFirstAnswer::new(h.downstream.clone()));
    let crashing = h.dispatch_over(hold.clone(), h.log.clone());
    let first = crashing
        .dispatch(message("o-9"), deadline(&h))
        .now_or_never();
    assert!(first.is_none(), "the invocation died mid-flight");
    assert!(
        hold.first_answer.lock().unwrap().is_some(),
        "it died after the answer"
    );
    assert_eq!(h.downstream.call_count(), 1);
    assert!(h.sink.0.lock().unwrap().is_empty(), "nothing recorded");

    // Redelivered while the dead invocation's lease runs: no call.
    let early = h.dispatch.dispatch(message("o-9"), deadline(&h)).await;
    assert_retry_later(&early);
    assert_eq!(h.downstream.call_count(), 1);
    // Redelivered after the lease: one duplicate POST, answered 409, recorded dispatched.
    h.clock.advance(Duration::from_secs(60));
    let late = h.dispatch.dispatch(message("o-9"), deadline(&h)).await;
    assert_eq!(late, dispatched("D-1", 1));
    let again = h.dispatch.dispatch(message("o-9"), deadline(&h)).await;
    assert_eq!(again, DispatchOutcome::AlreadyDispatched);
    let calls = h.downstream.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2, "at most one duplicate POST");
    assert_eq!(calls[0].0, calls[1].0, "de-duplicable by key");
    let records = h.log.0.lock().unwrap();
    assert_eq!(records.len(), 1);
    let record = records.values().next().unwrap();
    assert!(record.dispatched);
    assert_eq!(h.sink.last("o-9").status, DispatchStatus::Dispatched);
}

#[tokio::test]
async fn a_refused_credential_is_retried_on_redelivery_then_counts_as_permanent() {
    let h = harness(Box::new(|_, _, _| {
        http(401, json!({"reason": "bad token"}))
    }));
    for delivery in 1..AUTH_REFUSALS_BEFORE_PERMANENT {
        let mut m = message("o-auth");
        m.receive_count = Some(delivery);
        let outcome = h.dispatch.dispatch(m, deadline(&h)).await;
        assert!(
            matches!(outcome, DispatchOutcome::RetryLater { ref reason, .. } if reason.contains("credential")),
            "delivery {delivery}: {outcome:?}"
        );
    }
    // One call per delivery: a refusal is not retried within the invocation.
    assert_eq!(
        h.downstream.call_count(),
        AUTH_REFUSALS_BEFORE_PERMANENT as usize - 1
    );
    assert_eq!(
        h.transitions.lock().unwrap().len(),
        0,
        "the breaker stays closed"
    );
    let mut last = message("o-auth");
    last.receive_count = Some(AUTH_REFUSALS_BEFORE_PERMANENT);
    let outcome = h.dispatch.dispatch(last, deadline(&h)).await;
    assert!(
        matches!(outcome, DispatchOutcome::Rejected { .. }),
        "{outcome:?}"
    );
}
