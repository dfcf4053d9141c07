//! The dead-letter backend contract: what every [`DlqBackend`] adapter must do for the
//! dead-letter operations — name resolution, discovery of a DLQ with its source queue, a
//! lossless send/receive round trip (body, message attributes, system attributes), hiding
//! and releasing received messages, receive counts, deletes, purge, batch limits, and an
//! exact summary (where the backend gives one) that agrees with the counts.
//!
//! The suite needs an empty source queue and its empty DLQ (the source's redrive policy
//! pointing at it).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use q2c_service::dlq::{AttributeValue, Attributes, DlqBackend, DlqMessage, DlqOutgoing};
use q2c_service::messaging::{QueueCounts, QueueError, Receive, attributes};

use crate::fixtures::{receive_until, unique};

/// The queues the suite uses, as the backend's callers name them (resolved by the suite).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DlqNames {
    /// The source queue.
    pub source: String,
    /// Its dead-letter queue.
    pub dlq: String,
    /// Whether attributes keep their SQS types (`Number`, `Binary`); a backend that stores
    /// text keeps the text (the base64 of a binary value).
    pub typed_attributes: bool,
    /// Whether [`DlqBackend::still_queued`] can look at single messages (`Some`), or the
    /// service shows messages only to a receive (`None`, SQS).
    pub single_message_lookup: bool,
    /// The source's `maxReceiveCount`: after this many receives it moves a message to the
    /// DLQ itself.
    pub max_receive_count: u32,
}

const HIDE: Duration = Duration::from_secs(30);
const WAIT: Duration = Duration::from_millis(200);

fn message(n: usize, typed: bool) -> DlqOutgoing {
    let mut attributes = Attributes::from([
        (
            attributes::EVENT_TYPE.to_owned(),
            AttributeValue::string(format!("Type{n}")),
        ),
        (
            attributes::FAILURE_REASON.to_owned(),
            AttributeValue::string(format!("reason {}", n % 2)),
        ),
    ]);
    if typed {
        attributes.insert(
            "attempt".into(),
            AttributeValue {
                data_type: "Number".into(),
                string_value: Some(n.to_string()),
                binary_value: None,
            },
        );
        attributes.insert(
            "blob".into(),
            AttributeValue {
                data_type: "Binary".into(),
                string_value: None,
                binary_value: Some("AAEC/w==".into()),
            },
        );
    }
    DlqOutgoing {
        body: format!(r#"{{"n":{n},"id":"{}","text":"ünïcode ✓"}}"#, unique()),
        attributes,
    }
}

async fn counts(backend: &dyn DlqBackend, queue: &str) -> QueueCounts {
    backend.counts(queue).await.expect("counts")
}

/// Receives until `expected` messages arrived or a receive came back empty.
async fn receive_n(backend: &dyn DlqBackend, queue: &str, expected: usize) -> Vec<DlqMessage> {
    receive_until(expected, move || async move {
        backend
            .receive(queue, Receive::batch(HIDE).waiting(WAIT))
            .await
            .expect("receive")
    })
    .await
}

fn handles(messages: &[DlqMessage]) -> Vec<String> {
    messages.iter().map(|m| m.receipt_handle.clone()).collect()
}

/// Runs every rule.
///
/// # Panics
/// When the adapter breaks a rule (the message names it) or fails.
pub async fn dlq_backend_contract(backend: Arc<dyn DlqBackend>, names: DlqNames) {
    let b = &*backend;
    let source = b.resolve(&names.source);
    let dlq = b.resolve(&names.dlq);
    assert_eq!(
        b.resolve(&dlq),
        dlq,
        "resolving a full name changes nothing"
    );

    // Discovery: the DLQ is listed with its source.
    let listed = b.dead_letter_queues().await.expect("dead_letter_queues");
    let entry = listed
        .iter()
        .find(|q| q.name == dlq)
        .unwrap_or_else(|| panic!("{dlq} is not among the dead-letter queues: {listed:?}"));
    assert_eq!(entry.source.as_deref(), Some(source.as_str()), "{entry:?}");
    assert!(
        listed.iter().all(|q| q.name != source),
        "a source queue is not a DLQ: {listed:?}"
    );

    // Batch limits are checked before any request.
    for size in [0, 11] {
        let batch: Vec<_> = (0..size).map(|n| message(n, false)).collect();
        assert!(
            matches!(
                b.send_batch(&dlq, &batch).await,
                Err(QueueError::InvalidRequest(_))
            ),
            "a send of {size} is refused"
        );
    }

    // A lossless round trip.
    let sent: Vec<DlqOutgoing> = (0..3).map(|n| message(n, names.typed_attributes)).collect();
    let outcome = b.send_batch(&dlq, &sent).await.expect("send");
    assert!(outcome.failed.is_empty(), "{outcome:?}");
    assert_eq!(outcome.sent.len(), 3);
    assert_eq!(
        counts(b, &dlq).await,
        QueueCounts {
            visible: 3,
            in_flight: 0
        }
    );
    let received = receive_n(b, &dlq, 3).await;
    assert_eq!(received.len(), 3, "every message is received");
    for message in &received {
        let original = sent
            .iter()
            .find(|s| s.body == message.body)
            .unwrap_or_else(|| panic!("body changed on the way: {}", message.body));
        let expected: BTreeMap<_, _> = if names.typed_attributes {
            original.attributes.clone()
        } else {
            original
                .attributes
                .iter()
                .map(|(k, v)| (k.clone(), AttributeValue::string(v.text())))
                .collect()
        };
        assert_eq!(message.attributes, expected, "attributes round trip");
        assert_eq!(message.receive_count(), Some(1), "first receive");
        assert!(message.sent_at().is_some(), "the send time is known");
        assert!(!message.receipt_handle.is_empty() && !message.message_id.is_empty());
    }

    // Hidden while received; released at once; a stale release is harmless.
    assert_eq!(
        counts(b, &dlq).await,
        QueueCounts {
            visible: 0,
            in_flight: 3
        }
    );
    assert!(
        b.receive(&dlq, Receive::batch(HIDE).waiting(WAIT))
            .await
            .expect("receive")
            .is_empty(),
        "received messages stay hidden"
    );
    b.release_batch(&dlq, &handles(&received))
        .await
        .expect("release");
    assert_eq!(
        counts(b, &dlq).await,
        QueueCounts {
            visible: 3,
            in_flight: 0
        }
    );
    b.release_batch(&dlq, &handles(&received))
        .await
        .expect("releasing stale handles is not an error");

    // Receive counts rise; a delete removes only what it names.
    let again = receive_n(b, &dlq, 3).await;
    assert_eq!(again.len(), 3);
    assert!(
        again.iter().all(|m| m.receive_count() == Some(2)),
        "{again:?}"
    );
    b.delete_batch(&dlq, &handles(&again[..1]))
        .await
        .expect("delete");
    b.release_batch(&dlq, &handles(&again[1..]))
        .await
        .expect("release");
    assert_eq!(
        counts(b, &dlq).await,
        QueueCounts {
            visible: 2,
            in_flight: 0
        }
    );

    // An exact summary, where given, agrees with the counts and the reasons sent.
    if let Some(summary) = b.exact_summary(&dlq).await.expect("exact summary") {
        assert_eq!(
            summary.counts,
            QueueCounts {
                visible: 2,
                in_flight: 0
            }
        );
        assert!(summary.oldest_sent_at.is_some());
        let total: u64 = summary.reasons.iter().map(|(_, n)| n).sum();
        assert_eq!(total, 2, "{:?}", summary.reasons);
    }

    // Which sent messages are still queued: exact where the backend can tell, never by
    // receiving (counts and receive counts stay as they were).
    let probe: Vec<DlqOutgoing> = (10..13).map(|n| message(n, false)).collect();
    let outcome = b.send_batch(&source, &probe).await.expect("send to source");
    let mut ids: Vec<String> = outcome.sent.iter().map(|(_, id)| id.clone()).collect();
    ids.sort();
    let asked: Vec<String> = ids
        .iter()
        .cloned()
        .chain(["no-such-message".to_owned()])
        .collect();
    let looked = b.still_queued(&source, &asked).await.expect("still_queued");
    if names.single_message_lookup {
        let found = looked.expect("this backend looks at single messages");
        assert_eq!(
            found.into_iter().collect::<Vec<_>>(),
            ids,
            "all three queued"
        );
        let taken = receive_n(b, &source, 3).await;
        assert_eq!(taken.len(), 3);
        let in_flight = b
            .still_queued(&source, &ids)
            .await
            .expect("still_queued")
            .expect("a lookup");
        assert_eq!(in_flight.len(), 3, "in flight is still queued");
        b.delete_batch(&source, &handles(&taken[..2]))
            .await
            .expect("delete");
        let left = b
            .still_queued(&source, &ids)
            .await
            .expect("still_queued")
            .expect("a lookup");
        assert_eq!(left.len(), 1, "deleted ones are gone: {left:?}");
        assert!(
            left.contains(&taken[2].message_id),
            "the one left is the undeleted one"
        );
        assert!(
            b.still_queued(&dlq, &ids)
                .await
                .expect("still_queued")
                .expect("a lookup")
                .is_empty(),
            "a message is looked up in its own queue only"
        );
        b.delete_batch(&source, &handles(&taken[2..]))
            .await
            .expect("clean up");
    } else {
        assert!(looked.is_none(), "{looked:?}");
        assert_eq!(
            counts(b, &source).await,
            QueueCounts {
                visible: 3,
                in_flight: 0
            },
            "looking received nothing"
        );
        let taken = receive_n(b, &source, 3).await;
        b.delete_batch(&source, &handles(&taken))
            .await
            .expect("clean up");
    }
    assert_eq!(counts(b, &source).await, QueueCounts::default());

    // The source's own redrive: after maxReceiveCount receives the next receive moves the
    // message to the DLQ, with its message id, send time and content key.
    let sent = message(20, names.typed_attributes);
    let outcome = b
        .send_batch(&source, std::slice::from_ref(&sent))
        .await
        .expect("send to source");
    let id = outcome.sent[0].1.clone();
    let mut first: Option<DlqMessage> = None;
    for receive in 1..=names.max_receive_count {
        let got = b
            .receive(&source, Receive::batch(Duration::ZERO).waiting(WAIT))
            .await
            .expect("receive");
        assert_eq!(
            got.len(),
            1,
            "receive {receive} delivers it (visible at once)"
        );
        first.get_or_insert(got[0].clone());
    }
    let first = first.expect("received");
    assert!(
        b.receive(&source, Receive::batch(Duration::ZERO).waiting(WAIT))
            .await
            .expect("receive")
            .is_empty(),
        "the receive after maxReceiveCount moves it instead of delivering it"
    );
    // The DLQ also holds the 2 messages left above.
    let (moved, others): (Vec<DlqMessage>, Vec<DlqMessage>) = receive_n(b, &dlq, 3)
        .await
        .into_iter()
        .partition(|m| m.body == sent.body);
    assert_eq!((moved.len(), others.len()), (1, 2), "it is in the DLQ");
    assert_eq!(moved[0].message_id, id, "with the id it had in the source");
    assert_eq!(moved[0].sent_at(), first.sent_at(), "and its send time");
    assert_eq!(moved[0].content_key(), first.content_key());
    b.delete_batch(&dlq, &handles(&moved))
        .await
        .expect("clean up");
    b.release_batch(&dlq, &handles(&others))
        .await
        .expect("release");

    // Purge empties the queue and leaves the source alone.
    b.send_batch(&source, &[message(9, false)])
        .await
        .expect("send to source");
    b.purge(&dlq).await.expect("purge");
    assert_eq!(counts(b, &dlq).await, QueueCounts::default(), "purged");
    assert_eq!(
        counts(b, &source).await.visible,
        1,
        "the source keeps its message"
    );
    let left = receive_n(b, &source, 1).await;
    b.delete_batch(&source, &handles(&left))
        .await
        .expect("clean up");
}
