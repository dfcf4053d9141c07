//! Loading a TMF620 export into a data directory's catalog (`q2c catalog import|diff`
//! without `--table`): the work is `q2c_service::catalog_sync` (validate, compare, write,
//! enqueue the change events on `pricing-changes` so the fan-out announces them); this module
//! reads the file, opens the store and runs it, reporting progress to a callback.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use q2c_local::{SqliteQueues, SqliteStore};
use q2c_service::catalog_sync::{
    self, CatalogFile, EntryError, ImportPorts, PlannedEntry, SyncSummary,
};
use q2c_service::ports::SystemClock;

use crate::data_dir::DATABASE_FILE;

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

/// Reads `file` (its size checked before it is read) and parses it into valid entries and
/// errors.
///
/// # Errors
/// When the file cannot be read, is too large or is not a catalog at all.
pub fn read_catalog_file(file: &Path) -> anyhow::Result<CatalogFile> {
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
    catalog_sync::parse_catalog_file(&text).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The catalog and `pricing-changes` queue of a data directory (created by import when
/// absent; diff refuses a directory without a database).
///
/// # Errors
/// When the directory or database cannot be opened.
pub fn local_ports(data_dir: &Path, mode: SyncMode) -> anyhow::Result<ImportPorts> {
    if mode == SyncMode::Diff {
        // diff writes nothing: a directory without a database is a mistake.
        crate::data_dir::existing(data_dir)?;
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let path = data_dir.join(DATABASE_FILE);
    let store = SqliteStore::open(&path).with_context(|| format!("opening {}", path.display()))?;
    Ok(ImportPorts {
        versions: store.catalog_versions(),
        offerings: store.offering_catalog_writer(),
        prices: store.price_catalog_writer(),
        queue: Arc::new(SqliteQueues::new(&store)),
        clock: Arc::new(SystemClock),
    })
}

/// Imports or diffs the parsed `file` against `ports`, calling `progress` with the number of
/// entries done so far.
///
/// # Errors
/// When the store or queue fails.
pub async fn run(
    ports: &ImportPorts,
    file: CatalogFile,
    mode: SyncMode,
    progress: &(dyn Fn(usize) + Sync),
) -> anyhow::Result<SyncReport> {
    let CatalogFile { entries, errors } = file;
    let done = match mode {
        SyncMode::Diff => catalog_sync::plan(ports.versions.as_ref(), &entries, progress).await?,
        SyncMode::Import => catalog_sync::import(ports, &entries, progress).await?,
    };
    let summary = SyncSummary::of(&done, errors.len());
    Ok(SyncReport {
        entries: done,
        errors,
        summary,
    })
}

/// Reads `file` and imports or diffs it against the catalog of `data_dir`, without progress
/// output.
///
/// # Errors
/// As [`read_catalog_file`], [`local_ports`] and [`run`].
pub async fn sync(file: &Path, data_dir: &Path, mode: SyncMode) -> anyhow::Result<SyncReport> {
    let parsed = read_catalog_file(file)?;
    let ports = local_ports(data_dir, mode)?;
    run(&ports, parsed, mode, &|_| {}).await
}
