//! The redrive of `q2c dlq redrive`: moves the messages a dead-letter queue held when the run
//! started, waits for them to settle in their destination, reports those that came back, and
//! ends — however often the consumer refuses them.
//!
//! - **Snapshot.** A message is identified by its content key ([`DlqMessage::content_key`]:
//!   the `eventId`, which a re-send keeps, not the message id, which it does not). A run
//!   moves each key at most once. A DLQ message is part of the run's snapshot when it was
//!   sent before the run started (`SentTimestamp`; a queue's own redrive keeps it, so a
//!   message that reached the DLQ by `maxReceiveCount` counts from its first send). Sent
//!   later, it is a **return** if its key was moved in this run (refused again: held, never
//!   moved twice), else it **arrived** during the run and is left for the next one.
//! - **Settled.** A moved message has settled when it has left the destination queue:
//!   deleted by its consumer (settled ok) or moved back to this DLQ, by the consumer
//!   dead-lettering it or by the queue's `maxReceiveCount` (refused again: its key is in the
//!   DLQ again, sent after the start). Where the backend can look at single messages
//!   ([`DlqBackend::still_queued`]: the local engine) that is checked per message; on SQS,
//!   which shows messages only to a receive, every moved message counts as settled once the
//!   destination reads empty (visible and in flight) [`EMPTY_READINGS`] times in a row. The
//!   wait ends when every moved message has settled or come back, or after
//!   [`RedriveOptions::settle_timeout`]; what has not settled then is reported unsettled
//!   (still in the destination: retrying, or no consumer running). Nothing is lost either
//!   way: a moved message is in the destination or the DLQ.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::Serialize;
use time::OffsetDateTime;

use super::filter::{Filter, matches_all};
use super::ops::{Progress, RateLimit, Scan};
use super::ports::{DlqBackend, DlqMessage, DlqOutgoing};
use crate::messaging::QueueError;

/// How long one look at the DLQ for returns waits while the run waits for settling.
const WATCH_WAIT: Duration = Duration::from_secs(1);
/// Consecutive empty readings of the destination (about a second apart) after which every
/// moved message counts as settled where the backend cannot look at single messages: SQS's
/// counts are approximate, so one empty reading is not trusted.
pub const EMPTY_READINGS: u32 = 3;
/// Most refused-again messages a report lists one by one (all are counted).
pub const LISTED_REFUSALS: usize = 100;

/// Options of [`redrive`].
#[derive(Debug, Clone)]
pub struct RedriveOptions {
    /// Move only messages matching all of these.
    pub filters: Vec<Filter>,
    /// Most messages per second (none: as fast as the queues go).
    pub rate: Option<f64>,
    /// Count what would move, move nothing (and wait for nothing).
    pub dry_run: bool,
    /// How long received messages stay hidden while the run holds them.
    pub visibility: Duration,
    /// Move at most this many messages.
    pub max_messages: Option<u64>,
    /// How long to wait for the moved messages to settle (zero: do not wait).
    pub settle_timeout: Duration,
}

impl Default for RedriveOptions {
    fn default() -> Self {
        RedriveOptions {
            filters: Vec::new(),
            rate: None,
            dry_run: false,
            visibility: Duration::from_secs(30),
            max_messages: None,
            settle_timeout: Duration::from_secs(120),
        }
    }
}

/// How the run decided that moved messages had settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SettleCheck {
    /// It did not wait (a dry run, nothing moved, or a zero settle timeout), or every moved
    /// message came back before it needed to look.
    None,
    /// The backend said which moved messages were still in the destination.
    MessageIds,
    /// The destination's counts (SQS cannot show single messages): all settled once it read
    /// empty [`EMPTY_READINGS`] times in a row.
    EmptyQueue,
}

/// A moved message that came back to the DLQ during the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    /// Its `eventId`, when it has one.
    pub event_id: Option<String>,
    /// Its `eventType` attribute.
    pub event_type: Option<String>,
    /// Its message id in the DLQ now.
    pub message_id: String,
    /// The `failureReason` it came back with. A message the destination's own redrive moved
    /// back keeps the reason it had before this run.
    pub failure_reason: Option<String>,
    /// The destination queue moved it back after `maxReceiveCount` receives (it kept the
    /// message id it got in the destination), instead of its consumer dead-lettering it:
    /// the consumer kept failing transiently or never finished.
    pub by_max_receive_count: bool,
}

/// What a redrive did. `moved = settled_ok + refused_again + unsettled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedriveReport {
    /// The DLQ.
    pub queue: String,
    /// Where the messages went.
    pub destination: String,
    /// Nothing was changed: `moved` is what would have moved.
    pub dry_run: bool,
    /// Sent to the destination and deleted from the DLQ.
    pub moved: u64,
    /// Moved, then consumed: gone from the destination without coming back.
    pub settled_ok: u64,
    /// Moved, then back in the DLQ during the run (left there).
    pub refused_again: u64,
    /// Moved, still in the destination when the wait ended (or no wait).
    pub unsettled: u64,
    /// Left in the DLQ: not matching the filters.
    pub skipped: u64,
    /// Left in the DLQ: the same content key as a message moved in this run (read during
    /// the run).
    pub duplicates: u64,
    /// Left in the DLQ: sent to it after the run started, not a return (read during the
    /// run; not in its snapshot).
    pub arrived: u64,
    /// Refused by the destination when sent; left in the DLQ.
    pub failed: u64,
    /// The run stopped moving at `max_messages`.
    pub max_messages_reached: bool,
    /// How settling was decided.
    pub settle_check: SettleCheck,
    /// Time spent waiting for settling, in milliseconds.
    pub settle_ms: u64,
    /// The whole run, in milliseconds.
    pub elapsed_ms: u64,
    /// Messages in the DLQ (visible and in flight) when the run ended (approximate on SQS).
    pub left_in_queue: u64,
    /// The refused-again messages, up to [`LISTED_REFUSALS`], in the order they came back.
    pub refused: Vec<Refusal>,
}

impl RedriveReport {
    fn new(queue: &str, destination: &str, dry_run: bool) -> Self {
        RedriveReport {
            queue: queue.to_owned(),
            destination: destination.to_owned(),
            dry_run,
            moved: 0,
            settled_ok: 0,
            refused_again: 0,
            unsettled: 0,
            skipped: 0,
            duplicates: 0,
            arrived: 0,
            failed: 0,
            max_messages_reached: false,
            settle_check: SettleCheck::None,
            settle_ms: 0,
            elapsed_ms: 0,
            left_in_queue: 0,
            refused: Vec::new(),
        }
    }
}

/// What a run does with a message it reads from the DLQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Move,
    Skip,
    Return,
    Duplicate,
    Arrived,
}

/// A moved message: its id in the destination, and whether it has left it.
struct Moved {
    destination_id: String,
    settled: bool,
}

/// The run's memory: what it moved (by content key) and what came back.
struct Ledger {
    started_at: OffsetDateTime,
    moved: HashMap<String, Moved>,
    returned: HashSet<String>,
    refusals: Vec<Refusal>,
}

impl Ledger {
    fn classify(
        &self,
        key: &str,
        message: &DlqMessage,
        filters: &[Filter],
        now: OffsetDateTime,
    ) -> Kind {
        let sent_after_start = message.sent_at().is_some_and(|t| t > self.started_at);
        if self.moved.contains_key(key) {
            if sent_after_start {
                Kind::Return
            } else {
                Kind::Duplicate
            }
        } else if sent_after_start {
            Kind::Arrived
        } else if matches_all(filters, message, now) {
            Kind::Move
        } else {
            Kind::Skip
        }
    }

    fn record_return(&mut self, key: String, message: &DlqMessage) {
        let by_max_receive_count = self
            .moved
            .get(&key)
            .is_some_and(|m| m.destination_id == message.message_id);
        if self.returned.insert(key) && self.refusals.len() < LISTED_REFUSALS {
            self.refusals.push(Refusal {
                event_id: message.event_id(),
                event_type: message.event_type().map(str::to_owned),
                message_id: message.message_id.clone(),
                failure_reason: message.failure_reason().map(str::to_owned),
                by_max_receive_count,
            });
        }
    }

    /// Notes a message read while waiting (each is read once): a return is recorded, an
    /// arrival or a duplicate counted; every message is held.
    fn watch(&mut self, message: &DlqMessage, scan: &mut Scan<'_>, report: &mut RedriveReport) {
        let key = message.content_key();
        match self.classify(&key, message, &[], OffsetDateTime::now_utc()) {
            Kind::Return => self.record_return(key, message),
            Kind::Arrived => report.arrived += 1,
            Kind::Duplicate => report.duplicates += 1,
            // Not read before the run stopped moving (--max-messages): left as it is.
            Kind::Move | Kind::Skip => {}
        }
        scan.hold(message);
    }

    /// Destination ids of moved messages neither settled nor back.
    fn waiting(&self) -> Vec<String> {
        self.moved
            .iter()
            .filter(|(key, m)| !m.settled && !self.returned.contains(*key))
            .map(|(_, m)| m.destination_id.clone())
            .collect()
    }

    /// Whether some settled message has not been seen back yet (it may still be: the DLQ
    /// is read to the end before the run says it was consumed).
    fn settled_unseen(&self) -> bool {
        self.moved
            .iter()
            .any(|(key, m)| m.settled && !self.returned.contains(key))
    }
}

/// Moves the messages `queue` holds when the run starts (those matching `options.filters`,
/// at most `options.max_messages`) to `destination` in batches of 10 — receive, send, then
/// delete only what the destination confirmed — then waits up to `options.settle_timeout`
/// for them to settle (see the module docs), and reports. Messages it leaves in the DLQ
/// (not matching, returned, arrived, duplicates) are hidden while it runs and visible again
/// when it ends; interrupted, they are visible again after `options.visibility`.
///
/// # Errors
/// When the backend fails. What was moved so far stays moved; a message sent but not yet
/// deleted is in both queues (delivered twice, dropped by the consumers' `eventId`
/// de-duplication), never in neither; re-running finishes the job.
pub async fn redrive(
    backend: &dyn DlqBackend,
    queue: &str,
    destination: &str,
    options: &RedriveOptions,
    progress: &mut dyn Progress,
) -> Result<RedriveReport, QueueError> {
    let clock = Instant::now();
    let mut ledger = Ledger {
        started_at: OffsetDateTime::now_utc(),
        moved: HashMap::new(),
        returned: HashSet::new(),
        refusals: Vec::new(),
    };
    let mut report = RedriveReport::new(queue, destination, options.dry_run);
    let mut scan = Scan::new(backend, queue, options.visibility);
    let mut rate = RateLimit::new(options.rate);
    let limit = options.max_messages.unwrap_or(u64::MAX);
    // Keys moved by a dry run (which records nothing in the ledger).
    let mut would_move: HashSet<String> = HashSet::new();

    while report.moved < limit {
        let Some(batch) = scan.next_batch().await? else {
            break;
        };
        let now = OffsetDateTime::now_utc();
        let mut to_move: Vec<(String, DlqMessage)> = Vec::new();
        let mut skipped = 0;
        for message in batch {
            let key = message.content_key();
            let mut kind = ledger.classify(&key, &message, &options.filters, now);
            if kind == Kind::Move
                && (would_move.contains(&key) || to_move.iter().any(|(k, _)| *k == key))
            {
                kind = Kind::Duplicate;
            }
            match kind {
                Kind::Move if report.moved + (to_move.len() as u64) < limit => {
                    to_move.push((key, message));
                    continue;
                }
                Kind::Move => report.max_messages_reached = true,
                Kind::Return => ledger.record_return(key, &message),
                Kind::Duplicate => report.duplicates += 1,
                Kind::Arrived => report.arrived += 1,
                Kind::Skip => {
                    report.skipped += 1;
                    skipped += 1;
                }
            }
            scan.hold(&message);
        }
        if options.dry_run {
            let would = to_move.len() as u64;
            for (key, message) in to_move.drain(..) {
                scan.hold(&message);
                would_move.insert(key);
            }
            report.moved += would;
            progress.add(would, skipped, 0);
            continue;
        }
        if to_move.is_empty() {
            progress.add(0, skipped, 0);
            continue;
        }
        rate.admit(to_move.len() as u64).await;
        let outgoing: Vec<DlqOutgoing> = to_move.iter().map(|(_, m)| m.to_outgoing()).collect();
        let outcome = backend.send_batch(destination, &outgoing).await?;
        let mut sent_handles = Vec::with_capacity(outcome.sent.len());
        for (index, destination_id) in &outcome.sent {
            if let Some((key, message)) = to_move.get(*index) {
                ledger.moved.insert(
                    key.clone(),
                    Moved {
                        destination_id: destination_id.clone(),
                        settled: false,
                    },
                );
                sent_handles.push(message.receipt_handle.clone());
            }
        }
        if !sent_handles.is_empty() {
            backend.delete_batch(queue, &sent_handles).await?;
        }
        for failure in &outcome.failed {
            if let Some((_, message)) = to_move.get(failure.index) {
                progress.warn(&format!(
                    "{destination} refused {} ({}); it stays in {queue}",
                    message.message_id, failure.code
                ));
                // Not retried in this run: it would be refused again.
                scan.hold(message);
            }
        }
        let (moved, failed) = (sent_handles.len() as u64, outcome.failed.len() as u64);
        report.moved += moved;
        report.failed += failed;
        progress.add(moved, skipped, failed);
    }
    if report.moved >= limit {
        report.max_messages_reached = true;
    }

    let waiting = ledger.waiting().len();
    if !options.dry_run && waiting > 0 && !options.settle_timeout.is_zero() {
        let settle_started = Instant::now();
        progress.note(&format!(
            "waiting up to {} for {waiting} moved message(s) to leave {destination} \
             (consumed, or refused again into {queue})",
            humantime::format_duration(options.settle_timeout)
        ));
        settle(
            backend,
            destination,
            options,
            &mut ledger,
            &mut scan,
            &mut report,
        )
        .await?;
        if ledger.settled_unseen() {
            // A consumer dead-letters before it deletes, and a queue's redrive moves: the
            // returns of everything settled are in the DLQ now. Read it to the end for them.
            while let Some(batch) = scan.next_batch().await? {
                for message in &batch {
                    ledger.watch(message, &mut scan, &mut report);
                }
            }
        }
        report.settle_ms = duration_ms(settle_started.elapsed());
    }
    scan.finish(progress).await?;

    report.refused_again = ledger.returned.len() as u64;
    report.settled_ok = ledger
        .moved
        .iter()
        .filter(|(key, m)| m.settled && !ledger.returned.contains(*key))
        .count() as u64;
    report.unsettled = report.moved - report.refused_again - report.settled_ok;
    if options.dry_run {
        report.unsettled = 0;
    }
    report.refused = ledger.refusals;
    let left = backend.counts(queue).await?;
    report.left_in_queue = left.visible + left.in_flight;
    report.elapsed_ms = duration_ms(clock.elapsed());
    Ok(report)
}

/// Waits until every moved message has settled or come back, or the settle timeout.
async fn settle(
    backend: &dyn DlqBackend,
    destination: &str,
    options: &RedriveOptions,
    ledger: &mut Ledger,
    scan: &mut Scan<'_>,
    report: &mut RedriveReport,
) -> Result<(), QueueError> {
    let deadline = Instant::now() + options.settle_timeout;
    let mut empty_readings = 0;
    loop {
        for message in scan.poll(WATCH_WAIT).await? {
            ledger.watch(&message, scan, report);
        }
        let waiting = ledger.waiting();
        if waiting.is_empty() {
            return Ok(());
        }
        match backend.still_queued(destination, &waiting).await? {
            Some(still) => {
                report.settle_check = SettleCheck::MessageIds;
                for moved in ledger.moved.values_mut() {
                    if !still.contains(&moved.destination_id) {
                        moved.settled = true;
                    }
                }
            }
            None => {
                report.settle_check = SettleCheck::EmptyQueue;
                let counts = backend.counts(destination).await?;
                if counts.visible + counts.in_flight == 0 {
                    empty_readings += 1;
                } else {
                    empty_readings = 0;
                }
                if empty_readings >= EMPTY_READINGS {
                    for moved in ledger.moved.values_mut() {
                        moved.settled = true;
                    }
                }
            }
        }
        if ledger.waiting().is_empty() || Instant::now() >= deadline {
            return Ok(());
        }
    }
}

fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A summary line: `moved 3 / settled ok 0 / refused again 3 / unsettled 0 / skipped 0 /
/// failed 0`.
impl std::fmt::Display for RedriveReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "moved {} / settled ok {} / refused again {} / unsettled {} / skipped {} / failed {}",
            self.moved,
            self.settled_ok,
            self.refused_again,
            self.unsettled,
            self.skipped,
            self.failed
        )
    }
}
