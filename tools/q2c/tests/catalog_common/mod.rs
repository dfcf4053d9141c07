//! What the catalog import tests share, whatever the target.

use std::path::Path;

use q2c::catalog_cmd::{SyncMode, SyncReport, SyncTarget, sync};

/// Diffs `file` against `target`, then imports it: the import's report, once checked that
/// the diff planned exactly what the import did.
pub async fn diff_then_import(file: &Path, target: &SyncTarget) -> SyncReport {
    let planned = sync(file, target, SyncMode::Diff, false)
        .await
        .expect("diff");
    let done = sync(file, target, SyncMode::Import, false)
        .await
        .expect("import edits");
    assert_eq!(planned.entries, done.entries, "diff plans what import does");
    done
}
