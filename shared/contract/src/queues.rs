//! The queue contract: SQS semantics every [`QueueClient`] adapter must have — send, receive
//! and delete; attributes round trip; visibility timeout expiry and changes; receive counts;
//! redrive to the DLQ after `maxReceiveCount`; batch limits; counts.
//!
//! The suite needs its own empty source queue and DLQ (the source's redrive policy pointing
//! at the DLQ), and sleeps about 1.5 s once (a 1 s visibility timeout expiring).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use q2c_service::messaging::{
    OutgoingMessage, QueueClient, QueueCounts, QueueError, Receive, ReceivedMessage,
};

use crate::fixtures::{receive_until, unique};

/// The queues the suite may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueNames {
    /// An empty source queue.
    pub queue: String,
    /// Its empty dead-letter queue.
    pub dlq: String,
    /// The source's `maxReceiveCount` (at least 3: the visibility rules receive a message
    /// three times).
    pub max_receive_count: u32,
}

const LONG: Duration = Duration::from_secs(30);

/// A message with a unique body and two attributes.
pub fn message(n: usize) -> OutgoingMessage {
    OutgoingMessage {
        body: format!(r#"{{"n":{n},"id":"{}"}}"#, unique()),
        attributes: BTreeMap::from([
            ("eventType".to_owned(), format!("Type{n}")),
            ("tenant".to_owned(), "acme".to_owned()),
        ]),
    }
}

/// Receives until `expected` messages arrived or a receive came back empty.
pub async fn receive_n(
    queues: &dyn QueueClient,
    queue: &str,
    expected: usize,
    visibility: Duration,
) -> Vec<ReceivedMessage> {
    receive_until(expected, move || async move {
        queues
            .receive(
                queue,
                Receive::batch(visibility).waiting(Duration::from_millis(200)),
            )
            .await
            .expect("receive")
    })
    .await
}

async fn counts(queues: &dyn QueueClient, queue: &str) -> QueueCounts {
    queues.counts(queue).await.expect("counts")
}

/// Runs every queue rule.
///
/// # Panics
/// When the adapter breaks a rule (the message names it) or fails.
pub async fn queue_contract(queues: Arc<dyn QueueClient>, names: QueueNames) {
    let q = &*queues;
    batch_limits(q, &names.queue).await;
    send_receive_delete(q, &names.queue).await;
    visibility(q, &names.queue).await;
    zero_visibility_receive(q, &names.queue).await;
    redrive(q, &names).await;
}

/// A receive with a zero visibility timeout (a peek) returns each message at most once,
/// even though they stay visible.
async fn zero_visibility_receive(q: &dyn QueueClient, queue: &str) {
    let sent: Vec<_> = (0..3).map(|n| message(20 + n)).collect();
    q.send_batch(queue, &sent).await.expect("send");
    let peek = q
        .receive(
            queue,
            Receive::batch(Duration::ZERO).waiting(Duration::from_millis(200)),
        )
        .await
        .expect("peek");
    let mut ids: Vec<_> = peek.iter().map(|m| m.message_id.clone()).collect();
    let received = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), received, "no message twice in one receive");
    assert!(!peek.is_empty() && received <= 3, "peeked {received}");
    let all = receive_n(q, queue, 3, LONG).await;
    assert_eq!(all.len(), 3, "still there after the peek");
    let handles: Vec<_> = all.iter().map(|m| m.receipt_handle.clone()).collect();
    q.delete_batch(queue, &handles).await.expect("delete");
}

async fn batch_limits(q: &dyn QueueClient, queue: &str) {
    let eleven: Vec<_> = (0..11).map(message).collect();
    let invalid = |r: &Result<_, QueueError>| matches!(r, Err(QueueError::InvalidRequest(_)));
    assert!(
        invalid(&q.send_batch(queue, &eleven).await.map(|_| ())),
        "11 sends refused"
    );
    assert!(
        invalid(&q.send_batch(queue, &[]).await.map(|_| ())),
        "empty send refused"
    );
    for max in [0, 11] {
        let r = q
            .receive(
                queue,
                Receive {
                    max,
                    ..Receive::batch(LONG)
                },
            )
            .await
            .map(|_| ());
        assert!(invalid(&r), "receive of {max} refused");
    }
    let handles: Vec<String> = (0..11).map(|i| format!("h{i}")).collect();
    assert!(
        invalid(&q.delete_batch(queue, &handles).await),
        "11 deletes refused"
    );
    assert_eq!(
        counts(q, queue).await,
        QueueCounts::default(),
        "refused sends sent nothing"
    );
}

async fn send_receive_delete(q: &dyn QueueClient, queue: &str) {
    let sent: Vec<_> = (0..3).map(message).collect();
    let outcome = q.send_batch(queue, &sent).await.expect("send");
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    let mut positions: Vec<usize> = outcome.sent.iter().map(|(i, _)| *i).collect();
    positions.sort_unstable();
    assert_eq!(positions, [0, 1, 2], "every entry accepted");
    let visible = QueueCounts {
        visible: 3,
        in_flight: 0,
    };
    assert_eq!(counts(q, queue).await, visible, "sent messages are visible");

    let received = receive_n(q, queue, 3, LONG).await;
    assert_eq!(received.len(), 3, "all three received");
    for m in &received {
        let original = sent
            .iter()
            .position(|s| s.body == m.body)
            .expect("a sent body");
        assert_eq!(
            m.attributes, sent[original].attributes,
            "attributes round trip"
        );
        let id = outcome
            .sent
            .iter()
            .find(|(i, _)| *i == original)
            .map(|(_, id)| id);
        assert_eq!(
            Some(&m.message_id),
            id,
            "message id as answered by the send"
        );
        assert_eq!(m.receive_count, 1, "first receive counts 1");
        let age = time::OffsetDateTime::now_utc() - m.sent_at;
        assert!(
            age < time::Duration::minutes(1) && age > -time::Duration::minutes(1),
            "sent_at is now"
        );
    }
    let in_flight = QueueCounts {
        visible: 0,
        in_flight: 3,
    };
    assert_eq!(
        counts(q, queue).await,
        in_flight,
        "received messages are in flight"
    );
    let none = q
        .receive(queue, Receive::batch(LONG))
        .await
        .expect("receive");
    assert!(none.is_empty(), "in-flight messages are not received again");

    let handles: Vec<String> = received.iter().map(|m| m.receipt_handle.clone()).collect();
    q.delete_batch(queue, &handles).await.expect("delete");
    assert_eq!(
        counts(q, queue).await,
        QueueCounts::default(),
        "deleted messages are gone"
    );
    let gone = q
        .change_visibility(queue, &handles[0], Duration::ZERO)
        .await;
    assert!(
        matches!(gone, Err(QueueError::NotInFlight)),
        "deleted: {gone:?}"
    );
}

async fn visibility(q: &dyn QueueClient, queue: &str) {
    q.send_batch(queue, &[message(7)]).await.expect("send");
    let first = receive_n(q, queue, 1, Duration::from_secs(1)).await;
    assert_eq!(first.len(), 1);
    let early = q
        .receive(
            queue,
            Receive {
                max: 1,
                ..Receive::batch(LONG)
            },
        )
        .await
        .expect("receive");
    assert!(early.is_empty(), "hidden during the visibility timeout");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let second = receive_n(q, queue, 1, LONG).await;
    assert_eq!(second.len(), 1, "visible again after the timeout");
    assert_eq!(second[0].message_id, first[0].message_id);
    assert_eq!(second[0].receive_count, 2, "each receive counts");
    assert_ne!(
        second[0].receipt_handle, first[0].receipt_handle,
        "new receipt per receive"
    );

    q.change_visibility(queue, &second[0].receipt_handle, Duration::ZERO)
        .await
        .expect("change visibility to 0");
    let third = receive_n(q, queue, 1, LONG).await;
    assert_eq!(third.len(), 1, "visibility 0 makes it visible at once");
    assert_eq!(third[0].receive_count, 3);
    q.delete_batch(queue, &[third[0].receipt_handle.clone()])
        .await
        .expect("delete");
}

async fn redrive(q: &dyn QueueClient, names: &QueueNames) {
    let sent = message(9);
    q.send_batch(&names.queue, std::slice::from_ref(&sent))
        .await
        .expect("send");
    for count in 1..=names.max_receive_count {
        let got = receive_n(q, &names.queue, 1, LONG).await;
        assert_eq!(
            got.len(),
            1,
            "receive {count} of {}",
            names.max_receive_count
        );
        assert_eq!(got[0].receive_count, count);
        q.change_visibility(&names.queue, &got[0].receipt_handle, Duration::ZERO)
            .await
            .expect("return to the queue");
    }
    let after = q
        .receive(&names.queue, Receive::batch(LONG))
        .await
        .expect("receive");
    assert!(
        after.is_empty(),
        "not delivered past maxReceiveCount: {after:?}"
    );
    assert_eq!(
        counts(q, &names.queue).await,
        QueueCounts::default(),
        "moved out of the source"
    );
    let dead = receive_n(q, &names.dlq, 1, LONG).await;
    assert_eq!(dead.len(), 1, "redriven to the DLQ");
    assert_eq!(dead[0].body, sent.body);
    assert_eq!(
        dead[0].attributes, sent.attributes,
        "attributes kept by the redrive"
    );
    q.delete_batch(&names.dlq, &[dead[0].receipt_handle.clone()])
        .await
        .expect("delete");
}
