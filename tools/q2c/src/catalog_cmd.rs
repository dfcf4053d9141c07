//! `q2c catalog import|diff --file catalog.json`: load a TMF620 export into a `q2c local`
//! data directory's catalog, or with `--table` into the DynamoDB table of an AWS deployment
//! (its events on the SQS `pricing-changes` queue), or show what loading it would change.
//! The work is `q2c_service::catalog_sync` (validate, compare, write, enqueue the change
//! events on `pricing-changes` so the fan-out announces them and flags or re-prices open
//! quotes), run by `q2c_embedded::catalog`; this module parses the flags, builds the AWS
//! clients for `--table`, shows progress and prints the outcome.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use indicatif::ProgressBar;
use q2c_service::catalog_sync::{self, Action, CatalogKind, ImportPorts};
use q2c_service::ports::SystemClock;

use crate::flags::GLOBAL;

pub use q2c_embedded::catalog::{SyncMode, SyncReport};

/// `q2c catalog …`.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Change a price's amount: enqueues a ProductOfferingPriceAttributeValueChangeEvent
    /// (lastUpdate = now) on pricing-changes, as the catalog's event would; `q2c local`'s
    /// price fan-out applies it. Prints the old and new amount and the event id.
    PriceChange(PriceChangeArgs),
    /// Load a TMF620 export (a JSON array of offerings and prices, or an object with
    /// productOffering / productOfferingPrice arrays) into the local catalog: validates every
    /// entry (errors name the entry's JSON path), stores the valid ones that are new or newer
    /// than what is stored (by lastUpdate), and enqueues their change events on
    /// pricing-changes so subscribers hear of them. Re-running changes nothing. Exits 1 when
    /// some entries were invalid.
    Import(CatalogSyncArgs),
    /// Show what `import` would do with the file (same classification), writing nothing.
    Diff(CatalogSyncArgs),
}

/// Options of `q2c catalog import` and `q2c catalog diff`.
#[derive(Debug, Args)]
pub struct CatalogSyncArgs {
    /// The TMF620 catalog export (JSON).
    #[arg(long)]
    pub file: PathBuf,
    /// Data directory of the `q2c local` whose catalog to load or compare (import creates
    /// it when absent; diff refuses a directory without a database).
    #[arg(long, env = "Q2C_DATA_DIR", default_value_os_t = q2c_embedded::data_dir::default_dir(), help_heading = GLOBAL)]
    pub data_dir: PathBuf,
    /// Use this DynamoDB table (an AWS deployment) instead of the data directory; import's
    /// events go to the SQS queue `<queue-prefix>pricing-changes`. Credentials and region
    /// from the AWS environment.
    #[arg(long)]
    pub table: Option<String>,
    /// Endpoint of DynamoDB and SQS (e.g. moto's http://127.0.0.1:5055); with --table.
    #[arg(long, requires = "table")]
    pub endpoint_url: Option<String>,
    /// AWS region (default: from the environment); with --table.
    #[arg(long, requires = "table")]
    pub region: Option<String>,
    /// Named profile of the AWS config files; with --table.
    #[arg(long, requires = "table")]
    pub profile: Option<String>,
    /// Prefix of the SQS queue names; with --table.
    #[arg(long, default_value = "", requires = "table")]
    pub queue_prefix: String,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

impl CatalogSyncArgs {
    /// Where the catalog goes.
    pub fn target(&self) -> SyncTarget {
        match &self.table {
            Some(table) => SyncTarget::Aws {
                table: table.clone(),
                endpoint_url: self.endpoint_url.clone(),
                region: self.region.clone(),
                profile: self.profile.clone(),
                queue_prefix: self.queue_prefix.clone(),
            },
            None => SyncTarget::Local {
                data_dir: self.data_dir.clone(),
            },
        }
    }
}

/// Options of `q2c catalog price-change`.
#[derive(Debug, Args)]
pub struct PriceChangeArgs {
    /// ProductOfferingPrice id (e.g. mobile-l-monthly).
    #[arg(long)]
    pub price: String,
    /// New amount, a decimal (e.g. 24.99).
    #[arg(long)]
    pub value: String,
    /// ISO 4217 currency (default: the price's current currency).
    #[arg(long)]
    pub currency: Option<String>,
    /// Data directory of the `q2c local` whose catalog changes.
    #[arg(long, env = "Q2C_DATA_DIR", default_value_os_t = q2c_embedded::data_dir::default_dir(), help_heading = GLOBAL)]
    pub data_dir: PathBuf,
}

/// Runs `q2c catalog …`.
///
/// # Errors
/// When the file, store or queue fails.
pub async fn run(command: CatalogCommand) -> anyhow::Result<()> {
    match command {
        CatalogCommand::Import(args) => catalog_sync_command(&args, SyncMode::Import).await,
        CatalogCommand::Diff(args) => catalog_sync_command(&args, SyncMode::Diff).await,
        CatalogCommand::PriceChange(args) => {
            let changed = crate::queue_cmd::price_change(
                &args.data_dir,
                &args.price,
                &args.value,
                args.currency.as_deref(),
            )
            .await?;
            println!("{}", changed.describe(&args.price));
            Ok(())
        }
    }
}

/// Runs `q2c catalog import|diff` and prints its report; exit status 1 when entries were
/// invalid (the valid ones are imported all the same).
async fn catalog_sync_command(args: &CatalogSyncArgs, mode: SyncMode) -> anyhow::Result<()> {
    let report = sync(&args.file, &args.target(), mode, !args.quiet).await?;
    print_report(&report, mode);
    if report.summary.invalid > 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// Where the catalog goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncTarget {
    /// The SQLite store of a `q2c local` data directory (created by import when absent; diff
    /// refuses a directory without a database); events on its
    /// embedded `pricing-changes` queue.
    Local {
        /// The data directory.
        data_dir: std::path::PathBuf,
    },
    /// A DynamoDB table of the single-table design, through the DynamoDB adapter; events on
    /// the SQS queue `<queue_prefix>pricing-changes`. Credentials and region come from the
    /// usual AWS environment unless given.
    Aws {
        /// Table name.
        table: String,
        /// Endpoint override for DynamoDB and SQS (moto: `http://127.0.0.1:5055`).
        endpoint_url: Option<String>,
        /// Region override.
        region: Option<String>,
        /// Named profile of the AWS config files.
        profile: Option<String>,
        /// Prefix of the SQS queue names (stack-specific names).
        queue_prefix: String,
    },
}

impl SyncTarget {
    async fn ports(&self, mode: SyncMode) -> anyhow::Result<ImportPorts> {
        match self {
            SyncTarget::Local { data_dir } => q2c_embedded::catalog::local_ports(data_dir, mode),
            SyncTarget::Aws {
                table,
                endpoint_url,
                region,
                profile,
                queue_prefix,
            } => {
                let config = crate::aws::sdk_config(
                    endpoint_url.as_deref(),
                    region.as_deref(),
                    profile.as_deref(),
                )
                .await;
                let store = Arc::new(q2c_aws::DynamoStore::new(
                    aws_sdk_dynamodb::Client::new(&config),
                    table.clone(),
                ));
                let queues = q2c_aws::SqsQueues::new(aws_sdk_sqs::Client::new(&config))
                    .with_prefix(queue_prefix.clone());
                Ok(ImportPorts {
                    versions: store.clone(),
                    offerings: store.clone(),
                    prices: store,
                    queue: Arc::new(queues),
                    clock: Arc::new(SystemClock),
                })
            }
        }
    }
}

/// Reads and validates `file`, then imports or diffs it against `target`. `show_progress`
/// draws a bar on a terminal, plain lines otherwise.
///
/// # Errors
/// When the file cannot be read or is not a catalog at all, or the store or queue fails.
pub async fn sync(
    file: &Path,
    target: &SyncTarget,
    mode: SyncMode,
    show_progress: bool,
) -> anyhow::Result<SyncReport> {
    let parsed = q2c_embedded::catalog::read_catalog_file(file)?;
    let ports = target.ports(mode).await?;
    let progress = Progress::new(parsed.entries.len(), show_progress, mode);
    let report =
        q2c_embedded::catalog::run(&ports, parsed, mode, &|done| progress.at(done)).await?;
    progress.finish();
    Ok(report)
}

/// Prints the report: invalid entries and (for diff) each change on stdout, then the summary.
pub fn print_report(report: &SyncReport, mode: SyncMode) {
    for error in &report.errors {
        println!("invalid {error}");
    }
    if mode == SyncMode::Diff {
        for entry in &report.entries {
            let verb = match entry.action {
                Action::Create => "create",
                Action::Update => "update",
                Action::Stale => "stale",
                Action::Unchanged => continue,
            };
            let kind = match entry.kind {
                CatalogKind::Offering => "offering",
                CatalogKind::Price => "price",
            };
            println!("{verb} {kind} {} ({})", entry.id, entry.path);
        }
    }
    let s = report.summary;
    let prefix = match mode {
        SyncMode::Import => "imported:",
        SyncMode::Diff => "would import:",
    };
    println!(
        "{prefix} created {}, updated {}, unchanged {}, stale {}, invalid {}",
        s.created, s.updated, s.unchanged, s.stale, s.invalid
    );
}

/// A bar on a terminal; otherwise a plain line per 1,000 entries and at the end.
struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    plain: bool,
    verb: &'static str,
}

impl Progress {
    fn new(total: usize, show: bool, mode: SyncMode) -> Self {
        let verb = match mode {
            SyncMode::Import => "imported",
            SyncMode::Diff => "compared",
        };
        let terminal = std::io::stderr().is_terminal();
        let bar = (show && terminal).then(|| {
            let bar = ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX));
            bar.set_style(crate::human::progress_style(
                "{bar:40} {pos}/{len} entries {rate} {eta}",
            ));
            bar
        });
        Progress {
            bar,
            total,
            plain: show && !terminal,
            verb,
        }
    }

    fn at(&self, done: usize) {
        if let Some(bar) = &self.bar {
            bar.set_position(u64::try_from(done).unwrap_or(u64::MAX));
        } else if self.plain && (done % 1000 < catalog_sync::CHUNK || done == self.total) {
            eprintln!("{} {done}/{} entries", self.verb, self.total);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
