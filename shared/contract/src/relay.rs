//! The relay contract: every outbox event reaches its queue, with its attributes, exactly once
//! after de-duplication by `eventId`, even when the relay "dies" in the middle of a round
//! (a [`CrashAfter`] queue client delivers a batch but answers with an error, as if the
//! process died before marking it, then fails every later send); the re-run sends only what
//! was not marked, so the only duplicates are that batch's re-sends.
//!
//! Needs the store's outbox to itself, and empty `quote-events` and `pricing-changes` queues.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use q2c_service::event_versions::{SchemaMajor, render_envelope};
use q2c_service::messaging::SendFailure;
use q2c_service::messaging::{
    OutgoingMessage, QueueClient, QueueCounts, QueueError, Receive, ReceivedMessage, SendOutcome,
};
use q2c_service::ports::{OutboxEvent, OutboxStore, QuoteStore};
use q2c_service::relay::{MAX_PUBLISH_ATTEMPTS, relay_once};

use crate::fixtures::{T0, drain_outbox, event, stored_quote, tenant};
use crate::queues::receive_n;

/// `impl QueueClient for $wrapper` with the given `send_batch`; every other method is passed
/// on to the wrapper's `inner` client.
macro_rules! queue_wrapper {
    ($wrapper:ty, $($send_batch:tt)*) => {
        #[async_trait]
        impl QueueClient for $wrapper {
            $($send_batch)*

            async fn receive(
                &self,
                queue: &str,
                request: Receive,
            ) -> Result<Vec<ReceivedMessage>, QueueError> {
                self.inner.receive(queue, request).await
            }

            async fn delete_batch(&self, queue: &str, handles: &[String]) -> Result<(), QueueError> {
                self.inner.delete_batch(queue, handles).await
            }

            async fn change_visibility(
                &self,
                queue: &str,
                handle: &str,
                timeout: Duration,
            ) -> Result<(), QueueError> {
                self.inner.change_visibility(queue, handle, timeout).await
            }

            async fn counts(&self, queue: &str) -> Result<QueueCounts, QueueError> {
                self.inner.counts(queue).await
            }
        }
    };
}

/// A queue client that forwards `ok_sends` send batches, then delivers one more but answers
/// with an error (the relay "died" before it could mark it), then refuses every send.
pub struct CrashAfter {
    inner: Arc<dyn QueueClient>,
    ok_sends: usize,
    sends: AtomicUsize,
}

impl CrashAfter {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn QueueClient>, ok_sends: usize) -> Self {
        CrashAfter {
            inner,
            ok_sends,
            sends: AtomicUsize::new(0),
        }
    }
}

fn crashed() -> QueueError {
    QueueError::Backend("relay process died (simulated)".into())
}

queue_wrapper! {
    CrashAfter,
    async fn send_batch(
        &self,
        queue: &str,
        messages: &[OutgoingMessage],
    ) -> Result<SendOutcome, QueueError> {
        let n = self.sends.fetch_add(1, Ordering::SeqCst);
        if n > self.ok_sends {
            return Err(crashed());
        }
        let outcome = self.inner.send_batch(queue, messages).await?;
        if n == self.ok_sends {
            Err(crashed())
        } else {
            Ok(outcome)
        }
    }
}

/// Runs the relay rules: 25 quote events (3 batches) and 3 catalog events, a crash during the
/// second batch, a re-run, then every event received from `quote-events` / `pricing-changes`.
///
/// # Panics
/// When a rule is broken (the message names it) or a port fails.
pub async fn relay_contract(
    quotes: Arc<dyn QuoteStore>,
    outbox: Arc<dyn OutboxStore>,
    queues: Arc<dyn QueueClient>,
) {
    drain_outbox(&*outbox, T0).await;
    let t = tenant("relay");
    let quote_events: Vec<OutboxEvent> = (0..25)
        .map(|i| event(Some(&t), &format!("q-{i}"), "QuoteCreateEvent"))
        .collect();
    let pricing: Vec<OutboxEvent> = (0..3)
        .map(|i| {
            event(
                None,
                &format!("p-{i}"),
                "ProductOfferingPriceAttributeValueChangeEvent",
            )
        })
        .collect();
    quotes
        .insert(&t, &stored_quote("q-a", T0), &quote_events[..12])
        .await
        .expect("insert a");
    quotes
        .insert(&t, &stored_quote("q-b", T0), &quote_events[12..])
        .await
        .expect("insert b");
    quotes
        .insert(&t, &stored_quote("q-c", T0), &pricing)
        .await
        .expect("insert c");

    let crashing = CrashAfter::new(queues.clone(), 1);
    let report = relay_once(&*outbox, &crashing, 100)
        .await
        .expect("relay round");
    assert_eq!(
        report.published, 10,
        "the first batch is sent and marked: {report:?}"
    );
    assert_eq!(report.failed, 18, "the rest stays pending: {report:?}");
    assert_eq!(outbox.pending(100).await.expect("pending").len(), 18);

    let report = relay_once(&*outbox, &*queues, 100).await.expect("re-run");
    assert_eq!(
        (report.published, report.failed),
        (18, 0),
        "the re-run sends what was left"
    );
    assert!(
        outbox.pending(100).await.expect("pending").is_empty(),
        "nothing pending"
    );
    let idle = relay_once(&*outbox, &*queues, 100)
        .await
        .expect("idle round");
    assert_eq!(idle.published, 0, "published events are not sent again");

    let received = take_all(&*queues, "quote-events", 35).await;
    let by_event = by_event_id(&received);
    let expected: BTreeSet<&str> = quote_events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(
        by_event.keys().copied().collect::<BTreeSet<_>>(),
        expected,
        "every quote event arrived"
    );
    let resent: BTreeSet<&str> = quote_events[10..20]
        .iter()
        .map(|e| e.event_id.as_str())
        .collect();
    for (id, copies) in &by_event {
        let want = if resent.contains(id) { 2 } else { 1 };
        assert_eq!(
            *copies, want,
            "event {id}: only the batch in flight at the crash is re-sent"
        );
    }
    check_attributes(&received, &quote_events[0]);

    let received = take_all(&*queues, "pricing-changes", 3).await;
    let ids: BTreeSet<&str> = by_event_id(&received).keys().copied().collect();
    let expected: BTreeSet<&str> = pricing.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(
        ids, expected,
        "catalog events reach pricing-changes, once each"
    );
    assert_eq!(received.len(), 3);
}

/// Receives and deletes everything (up to `at_most`) on `queue`.
async fn take_all(queues: &dyn QueueClient, queue: &str, at_most: usize) -> Vec<ReceivedMessage> {
    let received = receive_n(queues, queue, at_most, Duration::from_secs(60)).await;
    for chunk in received.chunks(10) {
        let handles: Vec<String> = chunk.iter().map(|m| m.receipt_handle.clone()).collect();
        queues.delete_batch(queue, &handles).await.expect("delete");
    }
    received
}

fn by_event_id(received: &[ReceivedMessage]) -> BTreeMap<&str, usize> {
    let mut copies = BTreeMap::new();
    for m in received {
        let id = m.attributes.get("eventId").expect("eventId attribute");
        *copies.entry(id.as_str()).or_insert(0) += 1;
    }
    copies
}

fn check_attributes(received: &[ReceivedMessage], event: &OutboxEvent) {
    let m = received
        .iter()
        .find(|m| m.attributes.get("eventId") == Some(&event.event_id))
        .expect("the event arrived");
    let body: serde_json::Value = serde_json::from_str(&m.body).expect("JSON body");
    assert_eq!(
        body,
        render_envelope(&event.body, SchemaMajor::DEFAULT_EMIT),
        "body is the envelope in the current major"
    );
    let attr = |name: &str| m.attributes.get(name).map(String::as_str);
    assert_eq!(attr("eventType"), Some(event.event_type.as_str()));
    assert_eq!(
        attr("schemaVersion"),
        Some(SchemaMajor::DEFAULT_EMIT.version())
    );
    assert_eq!(attr("tenant"), event.tenant.as_deref());
    assert_eq!(attr("correlationId"), event.correlation_id.as_deref());
}

/// The body member that makes a [`Refusing`] queue refuse an event: `"permanent"` with a
/// sender fault (`MessageTooLong`, as a queue answers an oversized message), `"transient"`
/// without (`InternalError`).
pub const REFUSAL_MARK: &str = "q2cTestRefusal";

/// A queue client that refuses, on the source queues (never on a `-dlq`), every message whose
/// body carries [`REFUSAL_MARK`], and forwards everything else to `inner`.
pub struct Refusing {
    inner: Arc<dyn QueueClient>,
}

impl Refusing {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn QueueClient>) -> Self {
        Refusing { inner }
    }
}

queue_wrapper! {
    Refusing,
    async fn send_batch(
        &self,
        queue: &str,
        messages: &[OutgoingMessage],
    ) -> Result<SendOutcome, QueueError> {
        let mut refused = Vec::new();
        let mut forwarded = Vec::new();
        for (index, message) in messages.iter().enumerate() {
            let body: serde_json::Value =
                serde_json::from_str(&message.body).unwrap_or(serde_json::Value::Null);
            match body.get(REFUSAL_MARK).and_then(serde_json::Value::as_str) {
                Some(kind) if !queue.ends_with("-dlq") => refused.push(SendFailure {
                    index,
                    code: if kind == "permanent" {
                        "MessageTooLong".into()
                    } else {
                        "InternalError".into()
                    },
                    sender_fault: kind == "permanent",
                }),
                _ => forwarded.push(index),
            }
        }
        let mut outcome = SendOutcome {
            failed: refused,
            ..SendOutcome::default()
        };
        if forwarded.is_empty() {
            return Ok(outcome);
        }
        let batch: Vec<OutgoingMessage> = forwarded.iter().map(|i| messages[*i].clone()).collect();
        let inner = self.inner.send_batch(queue, &batch).await?;
        outcome
            .sent
            .extend(inner.sent.into_iter().map(|(i, id)| (forwarded[i], id)));
        outcome
            .failed
            .extend(inner.failed.into_iter().map(|f| SendFailure {
                index: forwarded[f.index],
                ..f
            }));
        Ok(outcome)
    }
}

/// A JSON body 130 arrays deep: past serde_json's recursion limit (128), so the entry
/// holding it cannot be decoded (the issue-14 poison).
pub fn too_deep_body() -> String {
    format!("{}{}", "[".repeat(130), "]".repeat(130))
}

/// Runs the parking rules: the outbox holds only `poison_id`, an entry for `orders` that
/// cannot be decoded (written by the caller straight into the backend, its body
/// [`too_deep_body`], ahead of everything else), when three normal quote events, one the
/// queue refuses for good and one it refuses every time are written. Through a [`Refusing`]
/// queue over `queues`:
/// - the first round publishes the normal events behind the poison (no head-of-line
///   blocking), parks the poison in `orders-dlq` with its body exactly as stored and its
///   reason, parks the permanent refusal in `quote-events-dlq` at once, and counts one
///   attempt of the transient one, which stays pending (the oldest pending entry);
/// - the [`MAX_PUBLISH_ATTEMPTS`]th round parks the transient one too, with its reason;
/// - then nothing is pending, and a further round sends nothing.
///
/// Needs empty `quote-events`, `quote-events-dlq` and `orders-dlq` queues.
///
/// # Panics
/// When a rule is broken (the message names it) or a port fails.
pub async fn parking_contract(
    quotes: Arc<dyn QuoteStore>,
    outbox: Arc<dyn OutboxStore>,
    queues: Arc<dyn QueueClient>,
    poison_id: &str,
) {
    let t = tenant("park");
    let normal: Vec<OutboxEvent> = (0..3)
        .map(|i| event(Some(&t), &format!("q-n{i}"), "QuoteCreateEvent"))
        .collect();
    let mut permanent = event(Some(&t), "q-perm", "QuoteStateChangeEvent");
    permanent.body[REFUSAL_MARK] = "permanent".into();
    let mut transient = event(Some(&t), "q-trans", "QuoteStateChangeEvent");
    transient.body[REFUSAL_MARK] = "transient".into();
    let mut events = normal.clone();
    events.push(permanent.clone());
    events.push(transient.clone());
    quotes
        .insert(&t, &stored_quote("q-park", T0), &events)
        .await
        .expect("insert events");
    let entries = outbox.pending_entries(100).await.expect("pending entries");
    assert_eq!(entries.len(), 6, "the poison and five events are pending");
    assert_eq!(
        entries[0].event_id(),
        poison_id,
        "the poison is at the head"
    );
    assert!(
        matches!(entries[0], q2c_service::ports::PendingEvent::Undecodable(_)),
        "the poison is read as undecodable, not as an error of the whole read"
    );
    assert!(outbox.oldest_pending().await.expect("oldest").is_some());
    let refusing = Refusing::new(queues.clone());

    let first = relay_once(&*outbox, &refusing, 100).await.expect("round 1");
    assert_eq!(
        (first.published, first.parked, first.failed),
        (3, 2, 1),
        "round 1: the normal events go out, poison and permanent refusal parked, the transient one pending"
    );
    let published = receive_n(&*queues, "quote-events", 3, Duration::from_secs(60)).await;
    let mut got: Vec<&str> = published
        .iter()
        .filter_map(|m| m.attributes.get("eventId").map(String::as_str))
        .collect();
    got.sort_unstable();
    let mut want: Vec<&str> = normal.iter().map(|e| e.event_id.as_str()).collect();
    want.sort_unstable();
    assert_eq!(
        got, want,
        "every normal event behind the poison was published"
    );

    let poison = receive_n(&*queues, "orders-dlq", 1, Duration::from_secs(60)).await;
    assert_eq!(poison.len(), 1, "the poison is parked in orders-dlq");
    assert_eq!(
        poison[0].body,
        too_deep_body(),
        "parked whole: the body as stored"
    );
    assert_eq!(
        poison[0].attributes.get("eventId").map(String::as_str),
        Some(poison_id)
    );
    let reason = poison[0].attributes.get("failureReason").expect("a reason");
    assert!(reason.contains("cannot be decoded"), "{reason}");

    let parked = receive_n(&*queues, "quote-events-dlq", 1, Duration::from_secs(60)).await;
    assert_eq!(parked.len(), 1);
    assert_eq!(
        parked[0].attributes.get("eventId"),
        Some(&permanent.event_id),
        "the permanent refusal is parked at once"
    );
    let reason = parked[0].attributes.get("failureReason").expect("a reason");
    assert!(reason.contains("MessageTooLong"), "{reason}");
    check_attributes(&parked, &permanent);

    let left = outbox.pending(100).await.expect("pending");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].event_id, transient.event_id);
    let entries = outbox.pending_entries(100).await.expect("pending entries");
    assert!(
        matches!(
            entries[0],
            q2c_service::ports::PendingEvent::Ready { attempts: 1, .. }
        ),
        "one refusal counted: {entries:?}"
    );

    for round in 2..MAX_PUBLISH_ATTEMPTS {
        let report = relay_once(&*outbox, &refusing, 100).await.expect("round");
        assert_eq!(
            (report.published, report.parked, report.failed),
            (0, 0, 1),
            "round {round}: the transient refusal stays pending"
        );
    }
    let last = relay_once(&*outbox, &refusing, 100)
        .await
        .expect("last round");
    assert_eq!((last.published, last.parked, last.failed), (0, 1, 0));
    let parked = receive_n(&*queues, "quote-events-dlq", 1, Duration::from_secs(60)).await;
    assert_eq!(parked.len(), 1);
    assert_eq!(
        parked[0].attributes.get("eventId"),
        Some(&transient.event_id)
    );
    let reason = parked[0].attributes.get("failureReason").expect("a reason");
    assert!(
        reason.contains(&format!("after {MAX_PUBLISH_ATTEMPTS} attempt(s)")),
        "{reason}"
    );

    assert!(
        outbox
            .pending_entries(100)
            .await
            .expect("pending")
            .is_empty()
    );
    assert_eq!(outbox.oldest_pending().await.expect("oldest"), None);
    let idle = relay_once(&*outbox, &refusing, 100)
        .await
        .expect("idle round");
    assert_eq!(idle.read(), 0, "nothing is sent again");
}
