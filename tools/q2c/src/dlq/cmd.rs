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
use q2c_service::dlq::ops::{self, MoveOptions, QueueReport};
use q2c_service::dlq::{DlqBackend, DlqMessage, Filter, MoveTaskError};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::progress::Progress;
use crate::flags::parse_duration;

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

/// Which queues: AWS (or an emulator) when `--aws`, `--endpoint-url`, `--region`,
/// `--profile` or `--queue-prefix` is given, else a `q2c local` data directory.
#[derive(Debug, Args, Clone)]
pub struct TargetArgs {
    /// Use SQS with the default credential chain (implied by the other AWS flags).
    #[arg(long, global = true)]
    pub aws: bool,
    /// SQS endpoint to use instead of AWS's (e.g. moto: http://127.0.0.1:5055).
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL_SQS")]
    pub endpoint_url: Option<String>,
    /// AWS region (default: AWS_REGION, then the profile's).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Named profile of the AWS config files.
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Queue-name prefix of the deployment: the stack's `Prefix` parameter plus `-` (default
    /// `q2c-`, the template's default); names without it get it prepended.
    #[arg(long, global = true, env = "Q2C_QUEUE_PREFIX")]
    pub queue_prefix: Option<String>,
    /// The DLQs to list instead of discovering them (comma-separated).
    #[arg(long, global = true, value_delimiter = ',')]
    pub queues: Option<Vec<String>>,
    /// Data directory of the `q2c local` whose queues to use (without AWS flags).
    #[arg(long, global = true, default_value = ".q2c", env = "Q2C_DATA_DIR")]
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
    /// Move messages back to their source queue (or --to another). On AWS without filters
    /// this starts an SQS message-move task and follows it; with filters, --manual, or where
    /// move tasks are unavailable (moto, local), messages are sent to the destination and
    /// deleted from the DLQ only once the send is confirmed: safe to interrupt and re-run
    /// (a message may then arrive twice, never zero times).
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
    /// Move messages with receive/send/delete even where SQS move tasks are available.
    #[arg(long)]
    pub manual: bool,
    /// With a move task, print its handle and return without following it.
    #[arg(long)]
    pub no_wait: bool,
    /// How long messages are hidden while being moved manually; an interrupted run's
    /// messages are visible again after this.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub visibility: Duration,
    /// How often to look at a move task's progress.
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
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(region) = &self.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(endpoint) = &self.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        aws_sdk_sqs::Client::new(&loader.load().await)
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
            for message in ops::peek(backend, &queue, args.limit).await? {
                writeln!(stdout, "{}", describe(&message, args.raw))?;
            }
        }
        DlqCommand::Export(args) => {
            let queue = backend.resolve(&args.queue);
            let mut progress = Progress::new("exported", total(backend, &queue).await);
            ops::export(
                backend,
                &queue,
                &args.to,
                args.delete,
                args.visibility,
                &mut progress,
            )
            .await?;
            let summary = progress.finish();
            writeln!(
                stdout,
                "exported {} message(s) of {queue} to {}{}",
                summary.moved,
                args.to.display(),
                if args.delete { " and deleted them" } else { "" }
            )?;
        }
        DlqCommand::Redrive(args) => redrive(backend, args).await?,
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
                    let mut progress = Progress::new("exported", total(backend, &queue).await);
                    ops::export_and_purge(
                        backend,
                        &queue,
                        file,
                        Duration::from_secs(60),
                        &mut progress,
                    )
                    .await?;
                    let summary = progress.finish();
                    writeln!(
                        stdout,
                        "purged {queue}: {} message(s) exported to {} first",
                        summary.moved,
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

/// Visible plus in-flight messages, for a progress bar's length.
async fn total(backend: &dyn DlqBackend, queue: &str) -> Option<u64> {
    backend
        .counts(queue)
        .await
        .ok()
        .map(|c| c.visible + c.in_flight)
}

async fn redrive(backend: &dyn DlqBackend, args: RedriveArgs) -> anyhow::Result<()> {
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
    let mut stdout = std::io::stdout();
    if args.filters.is_empty() && !args.manual && !args.dry_run {
        let rate = args.rate.map(|r| r.round().max(1.0) as u32);
        match backend
            .start_move_task(&queue, args.to.as_ref().map(|_| destination.as_str()), rate)
            .await
        {
            Ok(handle) => {
                if args.no_wait {
                    writeln!(stdout, "{handle}")?;
                    return Ok(());
                }
                let mut progress = Progress::new("moved", total(backend, &queue).await);
                let task =
                    ops::follow_move_task(backend, &queue, &handle, args.poll_every, &mut progress)
                        .await?;
                progress.finish();
                writeln!(
                    stdout,
                    "move task {}: moved {} message(s) from {queue}",
                    task.status, task.moved
                )?;
                return Ok(());
            }
            Err(MoveTaskError::Unsupported(why)) => {
                eprintln!("move tasks unavailable ({why}); moving messages manually");
            }
            Err(other) => return Err(other.into()),
        }
    }
    let options = MoveOptions {
        filters: args.filters,
        rate: args.rate,
        dry_run: args.dry_run,
        visibility: args.visibility,
    };
    let mut progress = Progress::new(
        if args.dry_run { "would move" } else { "moved" },
        total(backend, &queue).await,
    );
    ops::move_messages(backend, &queue, &destination, &options, &mut progress).await?;
    let summary = progress.finish();
    if args.dry_run {
        writeln!(
            stdout,
            "dry run, {queue} → {destination}: would move {} / skip {} (nothing changed)",
            summary.moved, summary.skipped
        )?;
    } else {
        writeln!(stdout, "{queue} → {destination}: {summary}")?;
    }
    Ok(())
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
