//! The dead-letter operations, written once over [`DlqBackend`]: summaries, peek, export
//! (fsync before delete), the manual move (send, then delete only what was sent), replay,
//! purge and following SQS move tasks.
//!
//! Reading a whole queue uses [`Scan`]: messages are received with a visibility timeout so
//! that each is seen once, those left in place are made visible again at the end, and the
//! scan ends only when nothing is visible and nothing but its own messages is in flight, so
//! that messages hidden by an interrupted earlier run are waited for, not skipped.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use q2c_service::messaging::MAX_BATCH;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::backend::{
    Attributes, DeadLetterQueue, DlqBackend, DlqMessage, DlqOutgoing, MoveTask, MoveTaskError,
};
use super::filter::{Filter, matches_all};
use super::progress::{Progress, Summary};

/// How long an empty receive waits for a message (a long poll sees every SQS server).
const RECEIVE_WAIT: Duration = Duration::from_secs(1);
/// How long past its visibility timeout a scan waits for messages in flight elsewhere (an
/// interrupted run) before it gives up on them.
const IN_FLIGHT_GRACE: Duration = Duration::from_secs(5);

/// Reads every message of a queue once; see the module docs.
pub struct Scan<'a> {
    backend: &'a dyn DlqBackend,
    queue: String,
    visibility: Duration,
    /// Messages left in place: id → latest receipt handle, made visible again by `finish`.
    held: HashMap<String, String>,
    last_news: Instant,
}

impl<'a> Scan<'a> {
    /// A scan of `queue` hiding received messages for `visibility`.
    pub fn new(backend: &'a dyn DlqBackend, queue: &str, visibility: Duration) -> Self {
        Scan {
            backend,
            queue: queue.to_owned(),
            visibility,
            held: HashMap::new(),
            last_news: Instant::now(),
        }
    }

    /// The next messages not seen yet by this scan, or `None` when the queue is done.
    ///
    /// # Errors
    /// When the backend fails.
    pub async fn next_batch(&mut self) -> anyhow::Result<Option<Vec<DlqMessage>>> {
        loop {
            let batch = self
                .backend
                .receive(&self.queue, MAX_BATCH, self.visibility, RECEIVE_WAIT)
                .await?;
            if batch.is_empty() {
                let counts = self.backend.counts(&self.queue).await?;
                let ours = self.held.len() as u64;
                if counts.visible == 0 && counts.in_flight <= ours {
                    return Ok(None);
                }
                if counts.visible == 0 {
                    if self.last_news.elapsed() > self.visibility + IN_FLIGHT_GRACE {
                        eprintln!(
                            "warning: {} message(s) of {} stay in flight (another reader?); \
                             run again later for them",
                            counts.in_flight - ours,
                            self.queue
                        );
                        return Ok(None);
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                continue;
            }
            let mut fresh = Vec::with_capacity(batch.len());
            for message in batch {
                match self.held.get_mut(&message.message_id) {
                    // Seen before, visible again after our visibility timeout: hide it again.
                    Some(handle) => *handle = message.receipt_handle,
                    None => fresh.push(message),
                }
            }
            if !fresh.is_empty() {
                self.last_news = Instant::now();
                return Ok(Some(fresh));
            }
        }
    }

    /// Leaves `message` in the queue (visible again when the scan finishes).
    pub fn hold(&mut self, message: &DlqMessage) {
        self.held
            .insert(message.message_id.clone(), message.receipt_handle.clone());
    }

    /// Makes the held messages visible again.
    ///
    /// # Errors
    /// When the backend fails.
    pub async fn finish(self) -> anyhow::Result<()> {
        let handles: Vec<String> = self.held.into_values().collect();
        for chunk in handles.chunks(MAX_BATCH) {
            self.backend.release_batch(&self.queue, chunk).await?;
        }
        Ok(())
    }
}

/// One DLQ in `q2c dlq list`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueReport {
    /// The DLQ.
    #[serde(flatten)]
    pub queue: DeadLetterQueue,
    /// Visible messages.
    pub visible: u64,
    /// Messages in flight.
    pub in_flight: u64,
    /// Age of the oldest message, in seconds.
    pub oldest_age_seconds: Option<u64>,
    /// The most frequent `failureReason`s (`null`: none given) with their counts.
    pub top_reasons: Vec<(Option<String>, u64)>,
    /// How many messages the reasons and age are from, when sampled (SQS); `null`: exact.
    pub sampled: Option<u64>,
}

/// Reports every DLQ of the backend: counts, oldest age, the `top` most frequent reasons
/// (exact where the backend can, else from a sample of up to `sample` messages).
///
/// # Errors
/// When the backend fails.
pub async fn list(
    backend: &dyn DlqBackend,
    sample: usize,
    top: usize,
) -> anyhow::Result<Vec<QueueReport>> {
    let now = OffsetDateTime::now_utc();
    let mut reports = Vec::new();
    for queue in backend.dead_letter_queues().await? {
        let (counts, oldest, mut reasons, sampled) =
            match backend.exact_summary(&queue.name).await? {
                Some(exact) => (exact.counts, exact.oldest_sent_at, exact.reasons, None),
                None => {
                    let counts = backend.counts(&queue.name).await?;
                    let (oldest, reasons, seen) =
                        sample_queue(backend, &queue.name, sample).await?;
                    (counts, oldest, reasons, Some(seen))
                }
            };
        reasons.truncate(top);
        reports.push(QueueReport {
            visible: counts.visible,
            in_flight: counts.in_flight,
            oldest_age_seconds: oldest
                .map(|t| u64::try_from((now - t).whole_seconds()).unwrap_or(0)),
            top_reasons: reasons,
            sampled,
            queue,
        });
    }
    Ok(reports)
}

/// Reasons and oldest send time from up to `limit` messages (held briefly, then released).
async fn sample_queue(
    backend: &dyn DlqBackend,
    queue: &str,
    limit: usize,
) -> anyhow::Result<(Option<OffsetDateTime>, Vec<(Option<String>, u64)>, u64)> {
    let messages = peek(backend, queue, limit).await?;
    let mut counts: BTreeMap<Option<String>, u64> = BTreeMap::new();
    for message in &messages {
        *counts
            .entry(message.failure_reason().map(str::to_owned))
            .or_default() += 1;
    }
    let mut reasons: Vec<_> = counts.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let oldest = messages.iter().filter_map(DlqMessage::sent_at).min();
    Ok((oldest, reasons, messages.len() as u64))
}

/// The table of `q2c dlq list`.
pub fn list_table(reports: &[QueueReport]) -> String {
    let mut out = format!(
        "{:<40} {:<36} {:>8} {:>9} {:>10}  top failure reasons\n",
        "DLQ", "SOURCE", "VISIBLE", "IN FLIGHT", "OLDEST"
    );
    for r in reports {
        let reasons = r
            .top_reasons
            .iter()
            .map(|(reason, n)| format!("{n}× {}", reason.as_deref().unwrap_or("(none)")))
            .collect::<Vec<_>>()
            .join("; ");
        let sampled = r
            .sampled
            .map(|n| format!(" (sample of {n})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{:<40} {:<36} {:>8} {:>9} {:>10}  {reasons}{sampled}\n",
            r.queue.name,
            r.queue.source.as_deref().unwrap_or("-"),
            r.visible,
            r.in_flight,
            r.oldest_age_seconds.map_or("-".into(), age),
        ));
    }
    out
}

fn age(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// How long `peek` hides the messages it reads before releasing them.
const PEEK_VISIBILITY: Duration = Duration::from_secs(30);

/// Up to `limit` messages of `queue`, left in place: they are hidden while being read (so
/// that each is seen once) and made visible again at the end; their receive counts rise.
///
/// # Errors
/// When the backend fails.
pub async fn peek(
    backend: &dyn DlqBackend,
    queue: &str,
    limit: usize,
) -> anyhow::Result<Vec<DlqMessage>> {
    let mut scan = Scan::new(backend, queue, PEEK_VISIBILITY);
    let mut messages = Vec::new();
    while messages.len() < limit {
        let Some(batch) = scan.next_batch().await? else {
            break;
        };
        for message in batch {
            scan.hold(&message);
            if messages.len() < limit {
                messages.push(message);
            }
        }
    }
    scan.finish().await?;
    Ok(messages)
}

/// A peeked message for people: id, type, tenant, correlation id, receive count, first
/// sent, reason and the body (pretty JSON unless `raw`).
pub fn describe(message: &DlqMessage, raw: bool) -> String {
    let time = |t: Option<OffsetDateTime>| {
        t.and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| "-".into())
    };
    let text = |name: &str| message.attribute(name).unwrap_or("-").to_owned();
    let body = if raw {
        message.body.clone()
    } else {
        serde_json::from_str::<serde_json::Value>(&message.body)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .unwrap_or_else(|_| message.body.clone())
    };
    format!(
        "messageId:      {}\neventType:      {}\ntenant:         {}\ncorrelationId:  {}\n\
         receiveCount:   {}\nsentAt:         {}\nfailureReason:  {}\n{body}\n",
        message.message_id,
        text("eventType"),
        text("tenant"),
        text("correlationId"),
        message
            .receive_count()
            .map_or("-".into(), |n| n.to_string()),
        time(message.sent_at()),
        message.failure_reason().unwrap_or("-"),
    )
}

/// One line of an export file: everything about a message, losslessly (the body as is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportLine {
    /// The queue it was exported from.
    pub queue: String,
    /// Its message id there.
    pub message_id: String,
    /// The body, exactly.
    pub body: String,
    /// The message attributes, typed.
    pub attributes: Attributes,
    /// The system attributes at export time.
    pub system_attributes: BTreeMap<String, String>,
}

/// Writes every message of `queue` to `to` as JSON lines; with `delete`, deletes each batch
/// only after its lines are written and fsynced. Without `delete` the messages stay (made
/// visible again at the end). Existing files are appended to, so a re-run after an
/// interruption loses nothing (it may repeat lines of messages not yet deleted).
///
/// # Errors
/// When the file cannot be written or the backend fails.
pub async fn export(
    backend: &dyn DlqBackend,
    queue: &str,
    to: &Path,
    delete: bool,
    visibility: Duration,
    progress: &mut Progress,
) -> anyhow::Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(to)
        .with_context(|| format!("opening {}", to.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    let mut scan = Scan::new(backend, queue, visibility);
    while let Some(batch) = scan.next_batch().await? {
        for message in &batch {
            let line = ExportLine {
                queue: queue.to_owned(),
                message_id: message.message_id.clone(),
                body: message.body.clone(),
                attributes: message.attributes.clone(),
                system_attributes: message.system_attributes.clone(),
            };
            serde_json::to_writer(&mut writer, &line)?;
            writer.write_all(b"\n")?;
        }
        writer.flush()?;
        // On disk before the messages may go.
        writer.get_ref().sync_data()?;
        if delete {
            let handles: Vec<String> = batch.iter().map(|m| m.receipt_handle.clone()).collect();
            backend.delete_batch(queue, &handles).await?;
        } else {
            for message in &batch {
                scan.hold(message);
            }
        }
        progress.add(batch.len() as u64, 0, 0);
    }
    scan.finish().await
}

/// Paces sends to at most `per_second` messages per second on average.
struct RateLimit {
    per_second: Option<f64>,
    started: Instant,
    admitted: u64,
}

impl RateLimit {
    fn new(per_second: Option<f64>) -> Self {
        RateLimit {
            per_second: per_second.filter(|r| *r > 0.0),
            started: Instant::now(),
            admitted: 0,
        }
    }

    async fn admit(&mut self, messages: u64) {
        let Some(rate) = self.per_second else { return };
        let due = self.started + Duration::from_secs_f64(self.admitted as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        self.admitted += messages;
    }
}

/// Options of the manual move.
#[derive(Debug, Clone, Default)]
pub struct MoveOptions {
    /// Move only messages matching all of these.
    pub filters: Vec<Filter>,
    /// Most messages per second (none: as fast as the queues go).
    pub rate: Option<f64>,
    /// Count what would move, move nothing.
    pub dry_run: bool,
    /// How long received messages stay hidden while being moved.
    pub visibility: Duration,
}

/// Moves the matching messages of `source` to `destination` in batches of 10: receive, send,
/// then delete only the entries the destination confirmed. Interrupted between send and
/// delete, a message exists in both queues (delivered twice, dropped by the consumers'
/// eventId de-duplication), never in neither; re-running finishes the job.
///
/// # Errors
/// When the backend fails.
pub async fn move_messages(
    backend: &dyn DlqBackend,
    source: &str,
    destination: &str,
    options: &MoveOptions,
    progress: &mut Progress,
) -> anyhow::Result<Summary> {
    let mut scan = Scan::new(backend, source, options.visibility);
    let mut rate = RateLimit::new(options.rate);
    while let Some(batch) = scan.next_batch().await? {
        let now = OffsetDateTime::now_utc();
        let (matching, other): (Vec<DlqMessage>, Vec<DlqMessage>) = batch
            .into_iter()
            .partition(|m| matches_all(&options.filters, m, now));
        for message in &other {
            scan.hold(message);
        }
        if options.dry_run {
            for message in &matching {
                scan.hold(message);
            }
            progress.add(matching.len() as u64, other.len() as u64, 0);
            continue;
        }
        if matching.is_empty() {
            progress.add(0, other.len() as u64, 0);
            continue;
        }
        rate.admit(matching.len() as u64).await;
        let outgoing: Vec<DlqOutgoing> = matching.iter().map(DlqMessage::to_outgoing).collect();
        let outcome = backend.send_batch(destination, &outgoing).await?;
        let sent: Vec<String> = outcome
            .sent
            .iter()
            .filter_map(|(index, _)| matching.get(*index))
            .map(|m| m.receipt_handle.clone())
            .collect();
        if !sent.is_empty() {
            backend.delete_batch(source, &sent).await?;
        }
        for failure in &outcome.failed {
            if let Some(message) = matching.get(failure.index) {
                eprintln!(
                    "warning: {destination} refused {} ({}); it stays in {source}",
                    message.message_id, failure.code
                );
                // Not retried in this run: it would be refused again.
                scan.hold(message);
            }
        }
        progress.add(
            sent.len() as u64,
            other.len() as u64,
            outcome.failed.len() as u64,
        );
    }
    scan.finish().await?;
    Ok(*progress.summary())
}

/// Re-sends every line of an export file to `to` (body and message attributes as exported;
/// the queue assigns new ids and timestamps).
///
/// # Errors
/// When the file cannot be read or parsed, or the backend fails.
pub async fn replay(
    backend: &dyn DlqBackend,
    from: &Path,
    to: &str,
    rate: Option<f64>,
    progress: &mut Progress,
) -> anyhow::Result<Summary> {
    let file = std::fs::File::open(from).with_context(|| format!("opening {}", from.display()))?;
    let mut limit = RateLimit::new(rate);
    let mut batch: Vec<DlqOutgoing> = Vec::with_capacity(MAX_BATCH);
    let mut lines = std::io::BufReader::new(file).lines().enumerate();
    loop {
        let next = lines.next();
        if let Some((number, line)) = &next {
            let line = line.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
            if !line.trim().is_empty() {
                let parsed: ExportLine = serde_json::from_str(line)
                    .with_context(|| format!("{} line {}", from.display(), number + 1))?;
                batch.push(DlqOutgoing {
                    body: parsed.body,
                    attributes: parsed.attributes,
                });
            }
        }
        if batch.len() == MAX_BATCH || (next.is_none() && !batch.is_empty()) {
            limit.admit(batch.len() as u64).await;
            let outcome = backend.send_batch(to, &batch).await?;
            for failure in &outcome.failed {
                eprintln!("warning: {to} refused a message ({})", failure.code);
            }
            progress.add(outcome.sent.len() as u64, 0, outcome.failed.len() as u64);
            batch.clear();
        }
        if next.is_none() {
            break;
        }
    }
    Ok(*progress.summary())
}

/// Follows a move task of `source` until it ends, showing its progress; polls every
/// `poll_every`.
///
/// # Errors
/// When listing fails, the task disappears, or it ends FAILED (with its reason).
pub async fn follow_move_task(
    backend: &dyn DlqBackend,
    source: &str,
    task_handle: &str,
    poll_every: Duration,
    progress: &mut Progress,
) -> Result<MoveTask, MoveTaskError> {
    loop {
        let tasks = backend.move_tasks(source).await?;
        // SQS shows the handle only while the task runs; once it is cancelling or ended,
        // ours is the most recent entry (the list is newest first).
        let task = tasks
            .iter()
            .find(|t| t.task_handle.as_deref() == Some(task_handle))
            .or_else(|| tasks.first().filter(|t| t.status != "RUNNING"))
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("move task {task_handle} of {source} not found"))?;
        progress.set(task.moved, task.to_move);
        if task.finished() {
            if task.status == "FAILED" {
                return Err(anyhow::anyhow!(
                    "move task of {source} FAILED after moving {}: {}",
                    task.moved,
                    task.failure_reason.as_deref().unwrap_or("no reason given")
                )
                .into());
            }
            return Ok(task);
        }
        tokio::time::sleep(poll_every).await;
    }
}

/// Purge with an export first: exports every message to `to` deleting each batch only once
/// its lines are on disk, so nothing leaves the queue without being in the file (messages
/// arriving meanwhile are exported too). Without an export file, the caller purges.
///
/// # Errors
/// As [`export`].
pub async fn export_and_purge(
    backend: &dyn DlqBackend,
    queue: &str,
    to: &Path,
    visibility: Duration,
    progress: &mut Progress,
) -> anyhow::Result<()> {
    export(backend, queue, to, true, visibility, progress).await?;
    let left = backend.counts(queue).await?;
    if left.visible + left.in_flight > 0 {
        bail!(
            "{queue} still has {} visible and {} in-flight messages: run again",
            left.visible,
            left.in_flight
        );
    }
    Ok(())
}
