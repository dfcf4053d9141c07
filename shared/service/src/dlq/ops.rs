//! The dead-letter operations, written once over [`DlqBackend`]: summaries, peek, export
//! (fsync before delete), replay, purge and following SQS move tasks (the redrive itself is
//! [`super::redrive()`]). They report counts and warnings through a
//! [`Progress`]; presenting them is the caller's business.
//!
//! Reading a whole queue uses [`Scan`]: messages are received with a visibility timeout so
//! that each is seen once, those left in place are made visible again at the end, and the
//! scan ends only when nothing is visible and nothing but its own messages is in flight, so
//! that messages hidden by an interrupted earlier run are waited for, not skipped.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ports::{
    Attributes, DeadLetterQueue, DlqBackend, DlqMessage, DlqOutgoing, MoveTask, MoveTaskError,
};
use crate::messaging::{MAX_BATCH, QueueError, Receive};

/// How long an empty receive waits for a message (a long poll sees every SQS server).
const RECEIVE_WAIT: Duration = Duration::from_secs(1);
/// How long past its visibility timeout a scan waits for messages in flight elsewhere (an
/// interrupted run) before it gives up on them.
const IN_FLIGHT_GRACE: Duration = Duration::from_secs(5);
/// How long `peek` hides the messages it reads before releasing them.
const PEEK_VISIBILITY: Duration = Duration::from_secs(30);

/// Why a dead-letter operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DlqError {
    /// The queue service failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// A move task could not be started, followed or cancelled.
    #[error(transparent)]
    MoveTask(#[from] MoveTaskError),
    /// An export file could not be opened, written or read.
    #[error("{}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A line of an export file is not an [`ExportLine`].
    #[error("{} line {line}", path.display())]
    ExportLine {
        /// The file.
        path: PathBuf,
        /// The line number (from 1).
        line: usize,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A purge after export found messages left (they arrived or were in flight meanwhile).
    #[error("{queue} still has {visible} visible and {in_flight} in-flight messages: run again")]
    NotEmpty {
        /// The queue.
        queue: String,
        /// Visible messages left.
        visible: u64,
        /// In-flight messages left.
        in_flight: u64,
    },
}

/// What an operation did with each message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Moved (or exported, replayed, would move in a dry run).
    pub moved: u64,
    /// Left where they were (not matching the filters).
    pub skipped: u64,
    /// Refused by the destination; left in the source.
    pub failed: u64,
}

impl Summary {
    fn add(&mut self, moved: u64, skipped: u64, failed: u64) {
        self.moved += moved;
        self.skipped += skipped;
        self.failed += failed;
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "moved {} / skipped {} / failed {}",
            self.moved, self.skipped, self.failed
        )
    }
}

/// Where an operation reports as it goes (a progress bar, a log, nothing).
pub trait Progress: Send {
    /// A batch's outcome: messages moved, skipped (not matching) and refused.
    fn add(&mut self, moved: u64, skipped: u64, failed: u64);
    /// The position of a move task (tasks report totals, not increments).
    fn set(&mut self, moved: u64, total: Option<u64>);
    /// Something the operator should know (a refused message, messages left in flight).
    fn warn(&mut self, message: &str);
    /// What the operation is doing now (e.g. waiting for moved messages to settle).
    fn note(&mut self, message: &str) {
        tracing::info!("{message}");
    }
}

/// No reporting (library callers such as the benchmark); warnings go to the log.
impl Progress for () {
    fn add(&mut self, _: u64, _: u64, _: u64) {}
    fn set(&mut self, _: u64, _: Option<u64>) {}
    fn warn(&mut self, message: &str) {
        tracing::warn!("{message}");
    }
}

/// Reads every message of a queue once; see the module docs.
pub struct Scan<'a> {
    backend: &'a dyn DlqBackend,
    queue: String,
    visibility: Duration,
    /// Messages left in place: id → latest receipt handle, made visible again by `finish`.
    held: HashMap<String, String>,
    last_news: Instant,
    /// Messages in flight elsewhere that the scan gave up waiting for.
    stranded: u64,
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
            stranded: 0,
        }
    }

    /// The next messages not seen yet by this scan, or `None` when the queue is done.
    ///
    /// # Errors
    /// When the backend fails.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<DlqMessage>>, QueueError> {
        loop {
            let batch = self
                .backend
                .receive(
                    &self.queue,
                    Receive::batch(self.visibility).waiting(RECEIVE_WAIT),
                )
                .await?;
            if batch.is_empty() {
                let counts = self.backend.counts(&self.queue).await?;
                let ours = self.held.len() as u64;
                if counts.visible == 0 && counts.in_flight <= ours {
                    return Ok(None);
                }
                if counts.visible == 0 {
                    if self.last_news.elapsed() > self.visibility + IN_FLIGHT_GRACE {
                        self.stranded = counts.in_flight - ours;
                        return Ok(None);
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                continue;
            }
            let fresh = self.fresh(batch);
            if !fresh.is_empty() {
                return Ok(Some(fresh));
            }
        }
    }

    /// One receive waiting up to `wait`: the messages not seen yet by this scan (often
    /// none). Unlike [`Scan::next_batch`] it never decides that the queue is done: for
    /// watching a queue that messages may still arrive in.
    ///
    /// # Errors
    /// When the backend fails.
    pub async fn poll(&mut self, wait: Duration) -> Result<Vec<DlqMessage>, QueueError> {
        let batch = self
            .backend
            .receive(&self.queue, Receive::batch(self.visibility).waiting(wait))
            .await?;
        Ok(self.fresh(batch))
    }

    /// The messages of `batch` this scan has not seen yet; any resets the time since news.
    fn fresh(&mut self, batch: Vec<DlqMessage>) -> Vec<DlqMessage> {
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
        }
        fresh
    }

    /// Leaves `message` in the queue (visible again when the scan finishes).
    pub fn hold(&mut self, message: &DlqMessage) {
        self.held
            .insert(message.message_id.clone(), message.receipt_handle.clone());
    }

    /// Makes the held messages visible again; warns through `progress` about messages that
    /// stayed in flight elsewhere (another reader, an interrupted run).
    ///
    /// # Errors
    /// When the backend fails.
    pub async fn finish(self, progress: &mut dyn Progress) -> Result<(), QueueError> {
        if self.stranded > 0 {
            progress.warn(&format!(
                "{} message(s) of {} stay in flight (another reader?); run again later for them",
                self.stranded, self.queue
            ));
        }
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
) -> Result<Vec<QueueReport>, QueueError> {
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
) -> Result<(Option<OffsetDateTime>, Vec<(Option<String>, u64)>, u64), QueueError> {
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

/// Up to `limit` messages of `queue`, left in place: they are hidden while being read (so
/// that each is seen once) and made visible again at the end; their receive counts rise.
///
/// # Errors
/// When the backend fails.
pub async fn peek(
    backend: &dyn DlqBackend,
    queue: &str,
    limit: usize,
) -> Result<Vec<DlqMessage>, QueueError> {
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
    scan.finish(&mut ()).await?;
    Ok(messages)
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
    progress: &mut dyn Progress,
) -> Result<Summary, DlqError> {
    let file_error = |source| DlqError::File {
        path: to.to_owned(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(to)
        .map_err(file_error)?;
    let mut writer = std::io::BufWriter::new(file);
    let mut scan = Scan::new(backend, queue, visibility);
    let mut summary = Summary::default();
    while let Some(batch) = scan.next_batch().await? {
        for message in &batch {
            let line = ExportLine {
                queue: queue.to_owned(),
                message_id: message.message_id.clone(),
                body: message.body.clone(),
                attributes: message.attributes.clone(),
                system_attributes: message.system_attributes.clone(),
            };
            serde_json::to_writer(&mut writer, &line).map_err(|e| file_error(e.into()))?;
            writer.write_all(b"\n").map_err(file_error)?;
        }
        writer.flush().map_err(file_error)?;
        // On disk before the messages may go.
        writer.get_ref().sync_data().map_err(file_error)?;
        if delete {
            let handles: Vec<String> = batch.iter().map(|m| m.receipt_handle.clone()).collect();
            backend.delete_batch(queue, &handles).await?;
        } else {
            for message in &batch {
                scan.hold(message);
            }
        }
        summary.add(batch.len() as u64, 0, 0);
        progress.add(batch.len() as u64, 0, 0);
    }
    scan.finish(progress).await?;
    Ok(summary)
}

/// Paces sends to at most `per_second` messages per second on average.
pub(super) struct RateLimit {
    per_second: Option<f64>,
    started: Instant,
    admitted: u64,
}

impl RateLimit {
    pub(super) fn new(per_second: Option<f64>) -> Self {
        RateLimit {
            per_second: per_second.filter(|r| *r > 0.0),
            started: Instant::now(),
            admitted: 0,
        }
    }

    pub(super) async fn admit(&mut self, messages: u64) {
        let Some(rate) = self.per_second else { return };
        let due = self.started + Duration::from_secs_f64(self.admitted as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        self.admitted += messages;
    }
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
    progress: &mut dyn Progress,
) -> Result<Summary, DlqError> {
    let file_error = |source| DlqError::File {
        path: from.to_owned(),
        source,
    };
    let file = std::fs::File::open(from).map_err(file_error)?;
    let mut limit = RateLimit::new(rate);
    let mut summary = Summary::default();
    let mut batch: Vec<DlqOutgoing> = Vec::with_capacity(MAX_BATCH);
    let mut lines = std::io::BufReader::new(file).lines().enumerate();
    loop {
        let next = lines.next();
        if let Some((number, line)) = next.as_ref() {
            let line = line
                .as_ref()
                .map_err(|e| file_error(std::io::Error::new(e.kind(), e.to_string())))?;
            if !line.trim().is_empty() {
                let parsed: ExportLine =
                    serde_json::from_str(line).map_err(|source| DlqError::ExportLine {
                        path: from.to_owned(),
                        line: number + 1,
                        source,
                    })?;
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
                progress.warn(&format!("{to} refused a message ({})", failure.code));
            }
            let (sent, failed) = (outcome.sent.len() as u64, outcome.failed.len() as u64);
            summary.add(sent, 0, failed);
            progress.add(sent, 0, failed);
            batch.clear();
        }
        if next.is_none() {
            break;
        }
    }
    Ok(summary)
}

/// Follows a move task of `source` until it ends, reporting its position; polls every
/// `poll_every`.
///
/// # Errors
/// When listing fails, the task disappears, or it ends FAILED (with its reason).
pub async fn follow_move_task(
    backend: &dyn DlqBackend,
    source: &str,
    task_handle: &str,
    poll_every: Duration,
    progress: &mut dyn Progress,
) -> Result<MoveTask, MoveTaskError> {
    follow_move_task_capped(backend, source, task_handle, poll_every, None, progress).await
}

/// [`follow_move_task`], cancelling the task once it has moved as many messages as SQS
/// counted to move when it started (`ApproximateNumberOfMessagesToMove`) or `cap`, whichever
/// is fewer. A move task takes what is in the queue while it runs; capping it at the count
/// of its start keeps it from moving on through messages that arrive or come back meanwhile:
/// a snapshot by count (approximate: SQS's counts are, and a cancel stops the task a moment
/// later).
///
/// # Errors
/// As [`follow_move_task`].
pub async fn follow_move_task_capped(
    backend: &dyn DlqBackend,
    source: &str,
    task_handle: &str,
    poll_every: Duration,
    cap: Option<u64>,
    progress: &mut dyn Progress,
) -> Result<MoveTask, MoveTaskError> {
    let mut cancelled = false;
    let mut snapshot: Option<u64> = None;
    loop {
        let tasks = backend.move_tasks(source).await?;
        // SQS shows the handle only while the task runs; once it is cancelling or ended,
        // ours is the most recent entry (the list is newest first).
        let task = tasks
            .iter()
            .find(|t| t.task_handle.as_deref() == Some(task_handle))
            .or_else(|| tasks.first().filter(|t| t.status != "RUNNING"))
            .cloned()
            .ok_or_else(|| MoveTaskError::NotFound {
                task_handle: task_handle.to_owned(),
                queue: source.to_owned(),
            })?;
        progress.set(task.moved, task.to_move);
        if task.finished() {
            if task.status == "FAILED" {
                return Err(MoveTaskError::Failed {
                    queue: source.to_owned(),
                    moved: task.moved,
                    reason: task
                        .failure_reason
                        .unwrap_or_else(|| "no reason given".to_owned()),
                });
            }
            return Ok(task);
        }
        if snapshot.is_none() {
            snapshot = task.to_move;
        }
        let limit = match (snapshot, cap) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(cap) = limit.filter(|limit| !cancelled && task.moved >= *limit) {
            cancelled = true;
            match backend.cancel_move_task(task_handle).await {
                Ok(_) => progress.note(&format!(
                    "move task of {source} reached {cap} message(s): cancelled"
                )),
                // It may have ended meanwhile; the next listing says how.
                Err(e) => progress.warn(&format!(
                    "cancelling the move task of {source} at {cap} message(s) failed: {e}"
                )),
            }
            continue;
        }
        tokio::time::sleep(poll_every).await;
    }
}

/// Purge with an export first: exports every message to `to` deleting each batch only once
/// its lines are on disk, so nothing leaves the queue without being in the file (messages
/// arriving meanwhile are exported too). Without an export file, the caller purges.
///
/// # Errors
/// As [`export`], and [`DlqError::NotEmpty`] when messages are left.
pub async fn export_and_purge(
    backend: &dyn DlqBackend,
    queue: &str,
    to: &Path,
    visibility: Duration,
    progress: &mut dyn Progress,
) -> Result<Summary, DlqError> {
    let summary = export(backend, queue, to, true, visibility, progress).await?;
    let left = backend.counts(queue).await?;
    if left.visible + left.in_flight > 0 {
        return Err(DlqError::NotEmpty {
            queue: queue.to_owned(),
            visible: left.visible,
            in_flight: left.in_flight,
        });
    }
    Ok(summary)
}
