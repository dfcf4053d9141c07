//! The batch consumer on moto: poison to the DLQ with a reason, transient failures and
//! panics reported per message, redrive after maxReceiveCount.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_lambda_events::event::sqs::SqsMessageAttribute;
use q2c_aws::sqs::FAILURE_REASON;
use q2c_aws::{
    DeadLetter, HandlerError, ParsedMessage, SqsPublisher, process_batch, process_batch_report,
};
use q2c_service::ports::Destination;
use q2c_testkit::lambda::sqs_event;

use crate::common::{event, queue_with_dlq, sqs_client, unique};
use crate::publisher::receive_all;

/// A source queue with its DLQ, `count` events published to it; returns the received
/// messages, the client, and the (source, dlq) URLs.
async fn setup(
    count: usize,
    max_receive: u32,
    visibility: u32,
) -> (
    Vec<aws_sdk_sqs::types::Message>,
    aws_sdk_sqs::Client,
    String,
    String,
) {
    let client = sqs_client();
    let prefix = format!("{}-", unique("con"));
    let (url, dlq) =
        queue_with_dlq(&client, &format!("{prefix}orders"), max_receive, visibility).await;
    let publisher = SqsPublisher::new(client.clone()).with_prefix(&prefix);
    let events: Vec<_> = (0..count)
        .map(|i| event(&format!("q-{i}"), Destination::Orders))
        .collect();
    let outcome = publisher.publish(&events).await.expect("publish");
    assert_eq!(outcome.published.len(), count);
    let messages = receive_all(&client, &url, count).await;
    assert_eq!(messages.len(), count);
    (messages, client, url, dlq)
}

fn aggregate(message: &ParsedMessage) -> String {
    message.event["quote"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_poison_message_goes_to_the_dlq_with_a_reason_while_the_others_succeed() {
    q2c_testkit::require_moto!();
    let (messages, client, _, dlq_url) = setup(5, 5, 30).await;
    let dlq = DeadLetter::new(client.clone(), &dlq_url);
    let handled = Arc::new(AtomicUsize::new(0));

    let report = process_batch_report(sqs_event(&messages), &dlq, |m| {
        let handled = handled.clone();
        async move {
            if aggregate(&m) == "q-2" {
                return Err(HandlerError::Poison {
                    reason: "quote q-2 is invalid".into(),
                });
            }
            handled.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    })
    .await;
    assert_eq!(
        (report.done, report.dead_lettered, report.retried),
        (4, 1, 0)
    );
    let response = report.response;

    assert!(
        response.batch_item_failures.is_empty(),
        "{:?}",
        response.batch_item_failures
    );
    assert_eq!(handled.load(Ordering::SeqCst), 4);
    let dead = receive_all(&client, &dlq_url, 1).await;
    assert_eq!(dead.len(), 1);
    let attrs = dead[0].message_attributes().expect("attributes");
    let attr = |name: &str| {
        attrs
            .get(name)
            .and_then(|a| a.string_value())
            .map(str::to_owned)
    };
    assert_eq!(
        attr(FAILURE_REASON).as_deref(),
        Some("quote q-2 is invalid")
    );
    assert_eq!(attr("eventType").as_deref(), Some("QuoteCreateEvent"));
    assert_eq!(attr("tenant").as_deref(), Some("acme"));
    assert!(dead[0].body().is_some_and(|b| b.contains("\"q-2\"")));
}

#[tokio::test]
async fn transient_failures_and_panics_are_reported_per_message() {
    q2c_testkit::require_moto!();
    let (messages, client, _, dlq_url) = setup(3, 5, 30).await;
    let dlq = DeadLetter::new(client, &dlq_url);
    let id_of = |aggregate_id: &str| {
        messages
            .iter()
            .find(|m| {
                m.body()
                    .is_some_and(|b| b.contains(&format!("\"{aggregate_id}\"")))
            })
            .and_then(|m| m.message_id.clone())
            .expect("message present")
    };

    let response = process_batch(sqs_event(&messages), &dlq, |m| async move {
        match aggregate(&m).as_str() {
            "q-0" => Err(HandlerError::Transient("downstream unavailable".into())),
            "q-1" => panic!("handler bug"),
            _ => Ok(()),
        }
    })
    .await;

    let mut failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    failed.sort();
    let mut expected = vec![id_of("q-0"), id_of("q-1")];
    expected.sort();
    assert_eq!(failed, expected);
}

#[tokio::test]
async fn unparseable_and_unsupported_messages_are_poison_and_dlq_failures_are_retried() {
    q2c_testkit::require_moto!();
    let (messages, client, _, dlq_url) = setup(2, 5, 30).await;
    let mut event = sqs_event(&messages);
    event.records[0].body = Some("not json".into());
    let mut version = SqsMessageAttribute::default();
    version.string_value = Some("2.0".into());
    version.data_type = Some("String".into());
    event.records[1]
        .message_attributes
        .insert("schemaVersion".into(), version);
    let never = |_m: ParsedMessage| async { Ok::<(), HandlerError>(()) };

    let response = process_batch(
        event.clone(),
        &DeadLetter::new(client.clone(), &dlq_url),
        never,
    )
    .await;
    assert!(response.batch_item_failures.is_empty());
    let dead = receive_all(&client, &dlq_url, 2).await;
    let mut reasons: Vec<_> = dead
        .iter()
        .filter_map(|m| {
            m.message_attributes()?
                .get(FAILURE_REASON)?
                .string_value()
                .map(str::to_owned)
        })
        .collect();
    reasons.sort();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].starts_with("unparseable body: "), "{reasons:?}");
    assert_eq!(
        reasons[1],
        "unsupported schema version 2.0 (accepted: 4, 5)"
    );

    let missing_dlq = DeadLetter::new(
        client,
        format!("{}/000000000000/no-such-queue", crate::common::endpoint()),
    );
    let response = process_batch(event, &missing_dlq, never).await;
    assert_eq!(
        response.batch_item_failures.len(),
        2,
        "nothing is lost when the DLQ is unreachable"
    );
}

#[tokio::test]
async fn a_message_that_keeps_failing_reaches_the_dlq_after_max_receive_count() {
    q2c_testkit::require_moto!();
    let (first, client, url, dlq_url) = setup(2, 5, 0).await;
    let dlq = DeadLetter::new(client.clone(), &dlq_url);
    let attempts = Arc::new(AtomicUsize::new(0));
    let handler = |m: ParsedMessage| {
        let attempts = attempts.clone();
        async move {
            if aggregate(&m) == "q-0" {
                attempts.fetch_add(1, Ordering::SeqCst);
                return Err(HandlerError::Transient("still down".into()));
            }
            Ok(())
        }
    };

    // A tiny event source mapping: invoke, delete the successes, leave the failures.
    let mut received = first;
    for _ in 0..20 {
        if received.is_empty() {
            break;
        }
        let response = process_batch(sqs_event(&received), &dlq, handler).await;
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        for m in received
            .iter()
            .filter(|m| !failed.contains(&m.message_id.clone().unwrap_or_default()))
        {
            let handle = m.receipt_handle.clone().expect("receipt handle");
            client
                .delete_message()
                .queue_url(&url)
                .receipt_handle(handle)
                .send()
                .await
                .expect("delete");
        }
        received = receive_all(&client, &url, 1).await;
    }

    assert_eq!(
        attempts.load(Ordering::SeqCst),
        5,
        "tried maxReceiveCount times"
    );
    let dead = receive_all(&client, &dlq_url, 1).await;
    assert_eq!(dead.len(), 1);
    assert!(dead[0].body().is_some_and(|b| b.contains("\"q-0\"")));
    assert!(
        receive_all(&client, &url, 1).await.is_empty(),
        "source queue drained"
    );
}

#[tokio::test]
async fn a_whole_batch_handler_decides_each_message_of_one_call() {
    q2c_testkit::require_moto!();
    let (messages, client, _, dlq_url) = setup(4, 5, 30).await;
    let dlq = DeadLetter::new(client.clone(), &dlq_url);
    let calls = Arc::new(AtomicUsize::new(0));
    let report = q2c_aws::process_whole_batch(sqs_event(&messages), &dlq, |batch| {
        let calls = calls.clone();
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            batch
                .iter()
                .map(|m| match aggregate(m).as_str() {
                    "q-1" => Err(HandlerError::Poison {
                        reason: "quote q-1 is invalid".into(),
                    }),
                    "q-3" => Err(HandlerError::Transient("subscriber down".into())),
                    _ => Ok(()),
                })
                .collect()
        }
    })
    .await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        (report.done, report.dead_lettered, report.retried),
        (2, 1, 1)
    );
    assert_eq!(report.response.batch_item_failures.len(), 1);
    let dead = receive_all(&client, &dlq_url, 1).await;
    assert_eq!(dead.len(), 1);
    assert!(dead[0].body().is_some_and(|b| b.contains("\"q-1\"")));
}
