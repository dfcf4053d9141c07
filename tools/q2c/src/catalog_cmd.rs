//! `q2c catalog import|diff --file catalog.json`: load a TMF620 export into a `q2c local`
//! data directory's catalog, or with `--table` into the DynamoDB table of an AWS deployment
//! (its events on the SQS `pricing-changes` queue), or show what loading it would change.
//! The work is
//! `q2c_service::catalog_sync` (validate, compare, write, enqueue the change events on
//! `pricing-changes` so the fan-out announces them and flags or re-prices open quotes); this
//! module opens the store, shows progress and prints the outcome.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use indicatif::ProgressBar;
use q2c_local::{SqliteQueues, SqliteStore};
use q2c_service::catalog_sync::{
    self, Action, CatalogFile, CatalogKind, EntryError, ImportPorts, PlannedEntry, SyncSummary,
};

use q2c_service::ports::SystemClock;

use crate::local::DATABASE_FILE;

/// Import or only compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// Write the valid entries.
    Import,
    /// Show what import would do; write nothing.
    Diff,
}

/// What a run found and did.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncReport {
    /// Per valid entry: the action done (import) or planned (diff), in file order.
    pub entries: Vec<PlannedEntry>,
    /// The invalid entries, in file order.
    pub errors: Vec<EntryError>,
    /// The counts.
    pub summary: SyncSummary,
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
            SyncTarget::Local { data_dir } => {
                if mode == SyncMode::Diff {
                    // diff writes nothing: a directory without a database is a mistake.
                    crate::data_dir::existing(data_dir)?;
                }
                std::fs::create_dir_all(data_dir)
                    .with_context(|| format!("creating {}", data_dir.display()))?;
                let path = data_dir.join(DATABASE_FILE);
                let store = SqliteStore::open(&path)
                    .with_context(|| format!("opening {}", path.display()))?;
                Ok(ImportPorts {
                    versions: store.catalog_versions(),
                    offerings: store.offering_catalog_writer(),
                    prices: store.price_catalog_writer(),
                    queue: Arc::new(SqliteQueues::new(&store)),
                    clock: Arc::new(SystemClock),
                })
            }
            SyncTarget::Aws {
                table,
                endpoint_url,
                region,
                profile,
                queue_prefix,
            } => {
                let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
                if let Some(profile) = profile {
                    loader = loader.profile_name(profile);
                }
                if let Some(url) = endpoint_url {
                    loader = loader.endpoint_url(url);
                }
                if let Some(region) = region {
                    loader = loader.region(aws_config::Region::new(region.clone()));
                }
                let config = loader.load().await;
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
    // The file's size is checked before it is read (entries are then checked one by one).
    let size = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    q2c_model::limits::MAX_CATALOG_FILE_BYTES
        .check(usize::try_from(size).unwrap_or(usize::MAX), || {
            "$".to_owned()
        })
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let CatalogFile { entries, errors } =
        catalog_sync::parse_catalog_file(&text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let ports = target.ports(mode).await?;
    let progress = Progress::new(entries.len(), show_progress, mode);
    let report_progress = |done: usize| progress.at(done);
    let done = match mode {
        SyncMode::Diff => {
            catalog_sync::plan(ports.versions.as_ref(), &entries, &report_progress).await?
        }
        SyncMode::Import => catalog_sync::import(&ports, &entries, &report_progress).await?,
    };
    progress.finish();
    let summary = SyncSummary::of(&done, errors.len());
    Ok(SyncReport {
        entries: done,
        errors,
        summary,
    })
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
