//! [`slow_subscriber_scenario`]: a hub subscriber that does not answer (for 30 s, or until
//! released) delays no other subscriber, and what was delivered before the batch's deadline
//! is not sent again when the message is retried. Run on SQLite with the embedded queues and
//! on DynamoDB + SQS (moto) with a real HTTP listener on loopback.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use q2c_model::tmf::EventSubscription;
use q2c_service::delivery::HubDelivery;
use q2c_service::messaging::{
    HandlerError, OutgoingMessage, QueueClient, Receive, RetryAfter, attributes, parse_message,
};
use q2c_service::ports::{HubApi, HubStore};
use serde_json::json;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

use crate::fixtures::tenant;

/// What the scenario needs of a backend. `delivery` must use the system clock, admit
/// loopback HTTP callbacks (`http://127.0.0.1`) and `subscriber_callback`, and read its
/// subscriptions from `hubs`.
pub struct SlowSubscriberWorld {
    /// Where the scenario registers its subscriptions.
    pub hubs: Arc<dyn HubStore>,
    /// The use-case under test.
    pub delivery: HubDelivery,
    /// The queues: `source` (the quote-events queue the batch comes from) and the subscriber
    /// queue.
    pub queues: Arc<dyn QueueClient>,
    /// The source queue's name for `queues`.
    pub source: String,
    /// The subscriber queue's name for `queues`.
    pub subscriber_queue: String,
    /// The same queue as a subscription's callback (an SQS ARN, or `local:<name>`).
    pub subscriber_callback: String,
}

/// An HTTP listener on loopback recording the `eventId` of every POST; when `held`, it
/// answers only once released (at most after 30 s).
struct Listener {
    url: String,
    /// `(eventId, when it arrived)` of every POST, in arrival order.
    arrivals: Arc<Mutex<Vec<(String, Instant)>>>,
    release: watch::Sender<bool>,
}

/// How long the slow listener holds a POST at most.
const SLOW_ANSWER: Duration = Duration::from_secs(30);

impl Listener {
    async fn start(held: bool) -> Listener {
        let socket = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = socket.local_addr().expect("addr");
        let arrivals: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
        let (release, released) = watch::channel(!held);
        let seen = Arc::clone(&arrivals);
        tokio::spawn(async move {
            while let Ok((stream, _)) = socket.accept().await {
                let seen = Arc::clone(&seen);
                let released = released.clone();
                tokio::spawn(serve(stream, seen, released));
            }
        });
        Listener {
            url: format!("http://{addr}/listener"),
            arrivals,
            release,
        }
    }

    fn event_ids(&self) -> Vec<String> {
        let arrivals = self.arrivals.lock().expect("lock");
        arrivals.iter().map(|(id, _)| id.clone()).collect()
    }

    fn arrival_of(&self, event_id: &str) -> Option<Instant> {
        let arrivals = self.arrivals.lock().expect("lock");
        arrivals
            .iter()
            .find(|(id, _)| id == event_id)
            .map(|(_, at)| *at)
    }
}

/// One HTTP/1.1 exchange (a tiny server: the contract crate has no HTTP server dependency
/// and needs nothing but "read a POST, maybe wait, answer 204").
async fn serve(
    mut stream: tokio::net::TcpStream,
    seen: Arc<Mutex<Vec<(String, Instant)>>>,
    mut released: watch::Receiver<bool>,
) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let body = loop {
        let Ok(n) = stream.read(&mut chunk).await else {
            return;
        };
        if n == 0 {
            return;
        }
        buffer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buffer).to_string();
        let Some(end) = text.find("\r\n\r\n") else {
            continue;
        };
        let length = text[..end]
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        if buffer.len() >= end + 4 + length {
            break String::from_utf8_lossy(&buffer[end + 4..end + 4 + length]).to_string();
        }
    };
    let envelope: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
    let id = envelope["eventId"].as_str().expect("eventId").to_owned();
    seen.lock().expect("lock").push((id, Instant::now()));
    let _ = tokio::time::timeout(SLOW_ANSWER, released.wait_for(|r| *r)).await;
    let _ = stream
        .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .await;
}

fn quote_event(tenant: &str, event_id: &str) -> OutgoingMessage {
    let body = json!({"eventId": event_id, "eventType": "QuoteStateChangeEvent",
        "eventTime": "2026-12-07T04:00:00Z", "schemaVersion": "4.0",
        "event": {"quote": {"id": "Q-1", "state": "approved"}}});
    OutgoingMessage {
        body: body.to_string(),
        attributes: BTreeMap::from([
            (
                attributes::EVENT_TYPE.to_owned(),
                "QuoteStateChangeEvent".to_owned(),
            ),
            (attributes::EVENT_ID.to_owned(), event_id.to_owned()),
            (attributes::SCHEMA_VERSION.to_owned(), "4.0".to_owned()),
            (attributes::TENANT.to_owned(), tenant.to_owned()),
        ]),
    }
}

/// Receives from `queue` until `want` messages are in hand (bounded).
async fn receive(
    w: &SlowSubscriberWorld,
    queue: &str,
    want: usize,
) -> Vec<q2c_service::messaging::ReceivedMessage> {
    let mut got = Vec::new();
    for _ in 0..20 {
        if got.len() >= want {
            break;
        }
        got.extend(
            w.queues
                .receive(
                    queue,
                    Receive::batch(Duration::from_secs(60)).waiting(Duration::from_millis(200)),
                )
                .await
                .expect("receive"),
        );
    }
    got
}

/// The scenario. Tenant A subscribes a queue and a listener that holds every POST; tenant B a
/// listener that answers at once. One batch carries an event of each tenant, with 3 s left
/// before the invocation's deadline:
/// - B's listener and A's queue get their event while A's listener still holds its POST (the
///   batch returns only after the deadline cut that POST short);
/// - B's event is done; A's fails for A's listener only, with a [`RetryAfter`] backoff;
/// - the retry (second receive) goes to A's listener alone, which now answers: A's queue
///   and B's listener got each event exactly once.
///
/// Returns how long B's listener waited for its event after the batch started.
pub async fn slow_subscriber_scenario(w: SlowSubscriberWorld) -> Duration {
    let slow = Listener::start(true).await;
    let fast = Listener::start(false).await;
    let a = tenant("slow-a");
    let b = tenant("slow-b");
    let subscriptions = [
        (&a, "queue", w.subscriber_callback.clone()),
        (&a, "slow", slow.url.clone()),
        (&b, "fast", fast.url.clone()),
    ];
    for (t, id, callback) in subscriptions {
        let subscription = EventSubscription {
            id: id.into(),
            callback,
            query: None,
        };
        w.hubs
            .create(t, HubApi::Quote, &subscription)
            .await
            .expect("subscribe");
    }
    let (e_a, e_b) = (
        format!("ev-a-{}", uuid::Uuid::new_v4()),
        format!("ev-b-{}", uuid::Uuid::new_v4()),
    );
    let sent = w
        .queues
        .send_batch(
            &w.source,
            &[quote_event(a.as_str(), &e_a), quote_event(b.as_str(), &e_b)],
        )
        .await
        .expect("publish");
    assert!(sent.failed.is_empty());

    let received = receive(&w, &w.source, 2).await;
    assert_eq!(received.len(), 2, "both events in one batch");
    let parse = |m: &q2c_service::messaging::ReceivedMessage| {
        parse_message(&m.message_id, &m.body, &m.attributes, Some(m.receive_count)).expect("parses")
    };
    let batch: Vec<_> = received.iter().map(parse).collect();
    let started = Instant::now();
    let deadline = OffsetDateTime::now_utc() + Duration::from_secs(3);
    let results = w
        .delivery
        .deliver_mixed_batch_by(batch.clone(), Some(deadline))
        .await;
    let returned = Instant::now();

    let fast_at = fast.arrival_of(&e_b).expect("B's listener got its event");
    assert!(
        fast_at < returned,
        "B's listener was served while A's listener held its POST"
    );
    assert_eq!(
        slow.event_ids(),
        std::slice::from_ref(&e_a),
        "A's listener got its POST"
    );
    let queued = receive(&w, &w.subscriber_queue, 1).await;
    let queued_ids: Vec<String> = queued
        .iter()
        .filter_map(|m| m.attributes.get(attributes::EVENT_ID).cloned())
        .collect();
    assert_eq!(
        queued_ids,
        std::slice::from_ref(&e_a),
        "A's queue got its event"
    );

    let mut retry_handles = Vec::new();
    let mut done_handles = Vec::new();
    for ((message, parsed), result) in received.iter().zip(&batch).zip(&results) {
        if parsed.event_id == e_b {
            assert!(result.is_ok(), "B's event is done: {result:?}");
            done_handles.push(message.receipt_handle.clone());
            continue;
        }
        let Err(HandlerError::Transient(error)) = result else {
            panic!("A's event retried later, got {result:?}")
        };
        let retry = error
            .downcast_ref::<RetryAfter>()
            .expect("a retry with its backoff");
        assert!(retry.after > Duration::ZERO, "{retry:?}");
        assert!(
            retry.reason.contains("/quote/slow") && !retry.reason.contains("/quote/queue"),
            "only the slow listener missed it: {}",
            retry.reason
        );
        retry_handles.push(message.receipt_handle.clone());
    }
    w.queues
        .delete_batch(&w.source, &done_handles)
        .await
        .expect("delete");
    // The backoff has passed (the queue would show the message again then).
    for handle in &retry_handles {
        w.queues
            .change_visibility(&w.source, handle, Duration::ZERO)
            .await
            .expect("retry now");
    }
    slow.release.send(true).expect("release");

    let again = receive(&w, &w.source, 1).await;
    assert_eq!(again.len(), 1, "A's event is back");
    assert_eq!(again[0].receive_count, 2);
    let retried = vec![parse(&again[0])];
    let deadline = OffsetDateTime::now_utc() + Duration::from_secs(20);
    let results = w
        .delivery
        .deliver_mixed_batch_by(retried, Some(deadline))
        .await;
    assert!(results[0].is_ok(), "delivered on retry: {results:?}");
    w.queues
        .delete_batch(&w.source, &[again[0].receipt_handle.clone()])
        .await
        .expect("delete");

    assert_eq!(slow.event_ids(), [e_a.clone(), e_a.clone()], "POSTed again");
    assert_eq!(fast.event_ids(), [e_b], "B's listener got it once");
    let requeued = receive(&w, &w.subscriber_queue, 1).await;
    assert!(
        requeued.is_empty(),
        "A's queue did not get it again: {requeued:?}"
    );
    fast_at - started
}
