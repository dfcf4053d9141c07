//! `q2c dlq …`: the clap definition of the dead-letter commands, their dispatch to
//! `q2c_service::dlq::ops` over the backend the flags select (AWS when any AWS flag is
//! given, else the local data directory), and what they print.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::{Args, Subcommand};
use q2c_aws::SqsDlqBackend;
use q2c_local::LocalDlqBackend;
use q2c_service::dlq::ops::{self, QueueReport};
use q2c_service::dlq::{
    DlqBackend, DlqError, DlqMessage, Filter, MoveTask, MoveTaskError, RedriveOptions,
    RedriveReport, SettleCheck, Summary,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::progress::Progress;
use crate::flags::{parse_duration, parse_wait};

/// The queue-name prefix of a stack deployed with the template's default `Prefix` (`q2c`).
pub const DEFAULT_QUEUE_PREFIX: &str = "q2c-";

/// `q2c dlq`: where the queues are, and what to do.
#[derive(Debug, Args)]
pub struct DlqArgs {
    /// Where the queues are.
    #[command(flatten)]
    pub target: TargetArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: DlqCommand,
}

/// The heading of the flags choosing the queues, shown apart from each command's own.
const TARGET: &str = "Where the queues are (AWS with any of these, else the local data directory)";

/// Which queues: AWS (or an emulator) when `--aws`, `--endpoint-url`, `--region`,
/// `--profile` or `--queue-prefix` is given, else a `q2c local` data directory.
#[derive(Debug, Args, Clone)]
pub struct TargetArgs {
    /// Use SQS with the default credential chain (implied by the other AWS flags).
    #[arg(long, global = true, help_heading = TARGET)]
    pub aws: bool,
    /// SQS endpoint to use instead of AWS's (e.g. moto: http://127.0.0.1:5055).
    #[arg(long, global = true, help_heading = TARGET, env = "AWS_ENDPOINT_URL_SQS")]
    pub endpoint_url: Option<String>,
    /// AWS region (default: AWS_REGION, then the profile's).
    #[arg(long, global = true, help_heading = TARGET)]
    pub region: Option<String>,
    /// Named profile of the AWS config files.
    #[arg(long, global = true, help_heading = TARGET)]
    pub profile: Option<String>,
    /// Queue-name prefix of the deployment: the stack's `Prefix` parameter plus `-` (default
    /// `q2c-`, the template's default); names without it get it prepended.
    #[arg(long, global = true, help_heading = TARGET, env = "Q2C_QUEUE_PREFIX")]
    pub queue_prefix: Option<String>,
    /// The DLQs to list instead of discovering them (comma-separated).
    #[arg(long, global = true, help_heading = TARGET, value_delimiter = ',')]
    pub queues: Option<Vec<String>>,
    /// Data directory of the `q2c local` whose queues to use (without AWS flags).
    #[arg(long, global = true, help_heading = TARGET, env = "Q2C_DATA_DIR", default_value_os_t = q2c_embedded::data_dir::default_dir())]
    pub data_dir: PathBuf,
}

/// The dead-letter commands.
#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Every dead-letter queue with its source queue, visible and in-flight counts, age of the
    /// oldest message and the most common failureReasons (on SQS from a sample of messages,
    /// which are hidden for a moment while read).
    List(ListArgs),
    /// Show messages without deleting them: id, event type, tenant, correlation id, receive
    /// count, first-sent time, failure reason and body. Messages are hidden while being read
    /// and visible again when peek ends; their receive counts rise.
    Peek(PeekArgs),
    /// Write every message (body, message attributes, system attributes) to a JSON-lines
    /// file, losslessly; with --delete each batch is deleted only after its lines are
    /// written and fsynced.
    Export(ExportArgs),
    /// Move the messages the DLQ holds when the run starts back to their source queue (or
    /// --to another), each eventId at most once, then wait for them to settle and report
    /// those that came back as "refused again" (they stay in the DLQ), and end. Messages
    /// are sent to the destination and deleted from the DLQ only once the send is
    /// confirmed: safe to interrupt and re-run (a message may then arrive twice, never zero
    /// times). --move-task uses an SQS message-move task instead (AWS).
    Redrive(RedriveArgs),
    /// Send the messages of an export file to a queue (same bodies and message attributes).
    Replay(ReplayArgs),
    /// Empty a DLQ: with --export-to, every message is first written (and fsynced) to the
    /// file, then deleted; without it, refuses unless --force.
    Purge(PurgeArgs),
    /// List the SQS message-move tasks of the DLQs (AWS only).
    Tasks(TasksArgs),
    /// Cancel a running SQS message-move task (AWS only).
    Cancel(CancelArgs),
}

/// Options of `q2c dlq list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON (one array) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// On SQS, how many messages per queue to read for the reasons and oldest age.
    #[arg(long, default_value_t = 100)]
    pub sample: usize,
    /// How many failure reasons to show per queue.
    #[arg(long, default_value_t = 3)]
    pub top: usize,
}

/// Options of `q2c dlq peek`.
#[derive(Debug, Args)]
pub struct PeekArgs {
    /// The DLQ.
    pub queue: String,
    /// Most messages to show.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Print bodies as they are instead of pretty JSON.
    #[arg(long)]
    pub raw: bool,
}

/// Options of `q2c dlq export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The DLQ.
    pub queue: String,
    /// The JSON-lines file to write (appended to when it exists).
    #[arg(long)]
    pub to: PathBuf,
    /// Delete each message once its line is on disk.
    #[arg(long)]
    pub delete: bool,
    /// How long messages are hidden while being exported (e.g. 30s, 5m).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub visibility: Duration,
}

/// Options of `q2c dlq redrive`.
#[derive(Debug, Args)]
pub struct RedriveArgs {
    /// The DLQ.
    pub queue: String,
    /// Destination queue (default: the DLQ's source queue).
    #[arg(long)]
    pub to: Option<String>,
    /// Move only matching messages (repeatable, all must match): event-type=NAME,
    /// older-than=DURATION (e.g. 2h), reason~=TEXT.
    #[arg(long = "filter")]
    pub filters: Vec<Filter>,
    /// Most messages per second, e.g. 50 or 50/s.
    #[arg(long, value_parser = parse_per_second)]
    pub rate: Option<f64>,
    /// Count what would move; move nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Move at most this many messages (with --move-task: cancel the task after this many).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_messages: Option<u64>,
    /// How long to wait for the moved messages to settle: consumed, or back in the DLQ
    /// ("refused again"); those still in the destination then are reported unsettled.
    /// 0s: do not wait.
    #[arg(long, default_value = "2m", value_parser = parse_wait)]
    pub settle_timeout: Duration,
    /// Print the report as JSON instead of lines.
    #[arg(long)]
    pub json: bool,
    /// AWS: let an SQS message-move task move everything instead (server-side; no filters,
    /// no refused-again report; cancelled once it has moved the count SQS found when it
    /// started). Falls back to the default move where the API is missing (moto, local).
    #[arg(long, conflicts_with_all = ["filters", "dry_run", "manual"])]
    pub move_task: bool,
    /// Move messages with receive/send/delete: the default (kept for scripts that name it).
    #[arg(long)]
    pub manual: bool,
    /// With --move-task, print its handle and return without following it.
    #[arg(long, requires = "move_task")]
    pub no_wait: bool,
    /// How long messages are hidden while being moved or held by the run; an interrupted
    /// run's messages are visible again after this.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub visibility: Duration,
    /// With --move-task, how often to look at its progress.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub poll_every: Duration,
}

/// Options of `q2c dlq replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The export file.
    #[arg(long)]
    pub from: PathBuf,
    /// The queue to send to.
    #[arg(long)]
    pub to: String,
    /// Most messages per second, e.g. 50 or 50/s.
    #[arg(long, value_parser = parse_per_second)]
    pub rate: Option<f64>,
}

/// Options of `q2c dlq purge`.
#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// The DLQ.
    pub queue: String,
    /// Export every message to this JSON-lines file first.
    #[arg(long)]
    pub export_to: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Purge without an export (the messages are lost).
    #[arg(long)]
    pub force: bool,
}

/// Options of `q2c dlq tasks`.
#[derive(Debug, Args)]
pub struct TasksArgs {
    /// Print JSON instead of lines.
    #[arg(long)]
    pub json: bool,
}

/// Options of `q2c dlq cancel`.
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The task handle (from `redrive --no-wait` or `tasks`).
    pub task_handle: String,
}

/// Parses `50` or `50/s`.
///
/// # Errors
/// When it is not a positive number.
pub fn parse_per_second(raw: &str) -> Result<f64, String> {
    let number = raw.strip_suffix("/s").unwrap_or(raw);
    match number.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate.is_finite() => Ok(rate),
        _ => Err(format!("`{raw}`: expected messages per second, e.g. 50/s")),
    }
}

impl TargetArgs {
    fn is_aws(&self) -> bool {
        self.aws
            || self.endpoint_url.is_some()
            || self.region.is_some()
            || self.profile.is_some()
            || self.queue_prefix.is_some()
    }

    /// The backend these flags select.
    ///
    /// # Errors
    /// When the local data directory has no database.
    pub async fn backend(&self) -> anyhow::Result<Box<dyn DlqBackend>> {
        if self.is_aws() {
            Ok(Box::new(SqsDlqBackend::new(
                self.sqs_client().await,
                self.queue_prefix.as_deref().unwrap_or(DEFAULT_QUEUE_PREFIX),
                self.queues.clone(),
            )))
        } else {
            let store = crate::queue_cmd::open_store(&self.data_dir)?;
            Ok(Box::new(LocalDlqBackend::new(
                q2c_local::SqliteQueues::new(&store),
                self.queues.clone(),
            )))
        }
    }

    /// An SQS client from the default credential chain and the flags (as the aws CLI
    /// names them).
    async fn sqs_client(&self) -> aws_sdk_sqs::Client {
        let config = crate::aws::sdk_config(
            self.endpoint_url.as_deref(),
            self.region.as_deref(),
            self.profile.as_deref(),
        )
        .await;
        aws_sdk_sqs::Client::new(&config)
    }
}

/// Runs a `q2c dlq` command.
///
/// # Errors
/// Whatever the operation fails with.
pub async fn run(args: DlqArgs) -> anyhow::Result<()> {
    let backend = args.target.backend().await?;
    run_on(backend.as_ref(), args.command).await
}

/// Runs a `q2c dlq` command on `backend`.
///
/// # Errors
/// Whatever the operation fails with.
pub async fn run_on(backend: &dyn DlqBackend, command: DlqCommand) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout();
    match command {
        DlqCommand::List(args) => {
            let reports = ops::list(backend, args.sample, args.top).await?;
            if args.json {
                writeln!(stdout, "{}", serde_json::to_string_pretty(&reports)?)?;
            } else {
                write!(stdout, "{}", list_table(&reports))?;
            }
        }
        DlqCommand::Peek(args) => {
            let queue = backend.resolve(&args.queue);
            let messages = ops::peek(backend, &queue, args.limit).await?;
            if messages.is_empty() {
                // On stderr, as the progress lines: stdout holds messages only.
                eprintln!("{queue}: no messages");
            }
            for message in messages {
                writeln!(stdout, "{}", describe(&message, args.raw))?;
            }
        }
        DlqCommand::Export(args) => {
            let queue = backend.resolve(&args.queue);
            let moved = exported(backend, &queue, async |progress| {
                ops::export(
                    backend,
                    &queue,
                    &args.to,
                    args.delete,
                    args.visibility,
                    progress,
                )
                .await
            })
            .await?;
            writeln!(
                stdout,
                "exported {moved} message(s) of {queue} to {}{}",
                args.to.display(),
                if args.delete { " and deleted them" } else { "" }
            )?;
        }
        DlqCommand::Redrive(args) => drop(redrive(backend, args).await?),
        DlqCommand::Replay(args) => {
            let to = backend.resolve(&args.to);
            let mut progress = Progress::new("replayed", None);
            ops::replay(backend, &args.from, &to, args.rate, &mut progress).await?;
            writeln!(stdout, "replayed to {to}: {}", progress.finish())?;
        }
        DlqCommand::Purge(args) => {
            let queue = backend.resolve(&args.queue);
            if args.export_to.is_none() && !args.force {
                bail!(
                    "refusing to purge {queue} without --export-to FILE (or --force to lose \
                     its messages)"
                );
            }
            if !args.yes && !confirm(&queue)? {
                bail!("not confirmed: nothing purged");
            }
            match &args.export_to {
                Some(file) => {
                    let visibility = Duration::from_secs(60);
                    let moved = exported(backend, &queue, async |progress| {
                        ops::export_and_purge(backend, &queue, file, visibility, progress).await
                    })
                    .await?;
                    writeln!(
                        stdout,
                        "purged {queue}: {moved} message(s) exported to {} first",
                        file.display()
                    )?;
                }
                None => {
                    backend.purge(&queue).await?;
                    writeln!(stdout, "purged {queue}")?;
                }
            }
        }
        DlqCommand::Tasks(args) => {
            let mut all = Vec::new();
            for queue in backend.dead_letter_queues().await? {
                all.extend(backend.move_tasks(&queue.name).await?);
            }
            if args.json {
                writeln!(stdout, "{}", serde_json::to_string_pretty(&all)?)?;
            } else {
                for task in &all {
                    writeln!(
                        stdout,
                        "{}  {}  moved {}/{}  {}  {}",
                        task.status,
                        task.source_arn.as_deref().unwrap_or("-"),
                        task.moved,
                        task.to_move.map_or("?".into(), |n| n.to_string()),
                        task.task_handle.as_deref().unwrap_or("-"),
                        task.failure_reason.as_deref().unwrap_or(""),
                    )?;
                }
            }
        }
        DlqCommand::Cancel(args) => {
            let moved = backend.cancel_move_task(&args.task_handle).await?;
            writeln!(stdout, "cancelled; {moved} message(s) had been moved")?;
        }
    }
    Ok(())
}

/// Runs `export` (an export of `queue` to a file, reporting to the progress it is given)
/// behind a progress display sized by the queue's count; how many messages it wrote.
async fn exported(
    backend: &dyn DlqBackend,
    queue: &str,
    export: impl AsyncFnOnce(&mut Progress) -> Result<Summary, DlqError>,
) -> anyhow::Result<u64> {
    let mut progress = Progress::new("exported", total(backend, queue).await);
    export(&mut progress).await?;
    Ok(progress.finish().moved)
}

/// Visible plus in-flight messages, for a progress bar's length.
async fn total(backend: &dyn DlqBackend, queue: &str) -> Option<u64> {
    backend
        .counts(queue)
        .await
        .ok()
        .map(|c| c.visible + c.in_flight)
}

/// The DLQ and destination of a redrive, resolved; refuses a DLQ redriven into itself.
async fn redrive_queues(
    backend: &dyn DlqBackend,
    args: &RedriveArgs,
) -> anyhow::Result<(String, String)> {
    let queue = backend.resolve(&args.queue);
    let destination = match &args.to {
        Some(to) => backend.resolve(to),
        None => backend
            .dead_letter_queues()
            .await?
            .into_iter()
            .find(|q| q.name == queue)
            .and_then(|q| q.source)
            .ok_or_else(|| anyhow::anyhow!("no source queue known for {queue}: give --to QUEUE"))?,
    };
    if destination == queue {
        bail!("{queue} cannot be redriven into itself: give another --to");
    }
    Ok((queue, destination))
}

/// What `q2c dlq redrive` did: the report of the move (none when an SQS move task did it).
#[derive(Debug)]
pub enum RedriveOutcome {
    /// The messages were moved by this process (`q2c_service::dlq::redrive`).
    Moved(RedriveReport),
    /// An SQS move task moved them (or was started, with `--no-wait`).
    MoveTask(Option<MoveTask>),
}

/// Runs `q2c dlq redrive` on `backend`, printing as the command does; returns what it did.
///
/// # Errors
/// When the queues cannot be resolved or the operation fails.
pub async fn redrive(
    backend: &dyn DlqBackend,
    args: RedriveArgs,
) -> anyhow::Result<RedriveOutcome> {
    let (queue, destination) = redrive_queues(backend, &args).await?;
    let mut stdout = std::io::stdout();
    if args.move_task {
        let rate = args.rate.map(|r| r.round().max(1.0) as u32);
        match backend
            .start_move_task(&queue, args.to.as_ref().map(|_| destination.as_str()), rate)
            .await
        {
            Ok(handle) => {
                if args.no_wait {
                    writeln!(stdout, "{handle}")?;
                    return Ok(RedriveOutcome::MoveTask(None));
                }
                let mut progress = Progress::new("moved", total(backend, &queue).await);
                let task = ops::follow_move_task_capped(
                    backend,
                    &queue,
                    &handle,
                    args.poll_every,
                    args.max_messages,
                    &mut progress,
                )
                .await?;
                progress.finish();
                if args.json {
                    writeln!(stdout, "{}", serde_json::to_string_pretty(&task)?)?;
                } else {
                    writeln!(
                        stdout,
                        "move task {}: moved {} message(s) from {queue}; no refused-again \
                         report with a move task: `q2c dlq list` shows what came back",
                        task.status, task.moved,
                    )?;
                }
                return Ok(RedriveOutcome::MoveTask(Some(task)));
            }
            Err(MoveTaskError::Unsupported(why)) => {
                eprintln!("move tasks unavailable ({why}); moving messages manually");
            }
            Err(other) => return Err(other.into()),
        }
    }
    let options = RedriveOptions {
        filters: args.filters,
        rate: args.rate,
        dry_run: args.dry_run,
        visibility: args.visibility,
        max_messages: args.max_messages,
        settle_timeout: args.settle_timeout,
    };
    let mut progress = Progress::new(
        if args.dry_run { "would move" } else { "moved" },
        total(backend, &queue).await,
    );
    let report =
        q2c_service::dlq::redrive(backend, &queue, &destination, &options, &mut progress).await?;
    progress.finish();
    if args.json {
        writeln!(stdout, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        write!(stdout, "{}", redrive_text(&report))?;
    }
    Ok(RedriveOutcome::Moved(report))
}

/// The lines `q2c dlq redrive` prints.
pub fn redrive_text(report: &RedriveReport) -> String {
    let (queue, destination) = (&report.queue, &report.destination);
    if report.dry_run {
        let mut out = format!(
            "dry run, {queue} → {destination}: would move {} / skip {} (nothing changed)\n",
            report.moved, report.skipped
        );
        out.push_str(&left_line(report));
        return out;
    }
    let mut out = format!(
        "{queue} → {destination}: {report} in {:.1} s\n",
        report.elapsed_ms as f64 / 1000.0
    );
    if !report.refused.is_empty() {
        out.push_str(&format!(
            "refused again (left in {queue}; see `q2c dlq peek {queue}` and the runbook, \
             docs/operations.md):\n"
        ));
        for refusal in &report.refused {
            let reason = refusal.failure_reason.as_deref().unwrap_or("(no reason)");
            let reason = if refusal.by_max_receive_count {
                format!(
                    "moved back by {destination} after maxReceiveCount receives (the consumer \
                     kept failing or never finished); reason before: {reason}"
                )
            } else {
                reason.to_owned()
            };
            out.push_str(&format!(
                "  {}  {}  {reason}\n",
                refusal.event_id.as_deref().unwrap_or(&refusal.message_id),
                refusal.event_type.as_deref().unwrap_or("-"),
            ));
        }
        let unlisted = report.refused_again - report.refused.len() as u64;
        if unlisted > 0 {
            out.push_str(&format!("  … and {unlisted} more\n"));
        }
    }
    if report.unsettled > 0 {
        let how = match report.settle_check {
            SettleCheck::EmptyQueue => format!(
                " (SQS shows no single messages: they count as settled only once {destination} \
                 is empty)"
            ),
            _ => String::new(),
        };
        out.push_str(&format!(
            "unsettled: {} moved message(s) still in {destination} when the wait ended{how}; \
             a longer --settle-timeout waits for them\n",
            report.unsettled
        ));
    }
    out.push_str(&left_line(report));
    out
}

/// What the run left in the DLQ and why, when it left anything.
fn left_line(report: &RedriveReport) -> String {
    let mut why = Vec::new();
    if report.arrived > 0 {
        why.push(format!(
            "{} sent to it after the run started",
            report.arrived
        ));
    }
    if report.duplicates > 0 {
        why.push(format!(
            "{} with the eventId of a message moved in this run",
            report.duplicates
        ));
    }
    if report.max_messages_reached {
        why.push("the rest beyond --max-messages".to_owned());
    }
    let mut out = String::new();
    if !why.is_empty() {
        out.push_str(&format!("not moved in this run: {}\n", why.join("; ")));
    }
    out.push_str(&format!(
        "{} now holds {} message(s)\n",
        report.queue, report.left_in_queue
    ));
    out
}

/// Asks on the terminal to type the queue's name; refuses when stdin is not a terminal.
fn confirm(queue: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("purging {queue} needs confirmation: run in a terminal or pass --yes");
    }
    eprint!("Type the queue name ({queue}) to purge it: ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == queue)
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
