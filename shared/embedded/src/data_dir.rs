//! The data directory of `q2c local` (database, signing secret, settings), found the same way
//! by every command: `--data-dir`, then `Q2C_DATA_DIR` (clap reads both), then
//! [`default_dir`] — one per user, not relative to the current directory, so `q2c token` run
//! anywhere signs with the secret of the `q2c local` started anywhere.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use q2c_local::SqliteStore;

/// The database file in the data directory.
pub const DATABASE_FILE: &str = "q2c.sqlite3";

/// The environment variable naming the data directory.
pub const VARIABLE: &str = "Q2C_DATA_DIR";

/// The default data directory: `$XDG_DATA_HOME/q2c`, else `$HOME/.local/share/q2c`, else
/// `.q2c` (no home directory at all).
pub fn default_dir() -> PathBuf {
    let non_empty = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(data_home) = non_empty("XDG_DATA_HOME") {
        return PathBuf::from(data_home).join("q2c");
    }
    match non_empty("HOME") {
        Some(home) => PathBuf::from(home).join(".local/share/q2c"),
        None => PathBuf::from(".q2c"),
    }
}

/// `dir` when it holds a `q2c local` database; else an error saying where that was looked
/// for and how the directory is chosen. Commands that only read (or use a running system's
/// queues) call it first, so a typo never creates an empty database.
///
/// # Errors
/// When `dir` has no database.
pub fn existing(dir: &Path) -> anyhow::Result<&Path> {
    let database = dir.join(DATABASE_FILE);
    if !database.exists() {
        bail!(
            "no q2c database in {}: start `q2c local --data-dir {}` once first, or name the \
             directory `q2c local` printed at start (\"data dir:\") with --data-dir or {VARIABLE}",
            shown(dir),
            dir.display()
        );
    }
    Ok(dir)
}

/// Opens the database of a `q2c local` data directory (it must exist: run `q2c local` once).
///
/// # Errors
/// When the directory has no database or SQLite cannot open it.
pub fn open_store(data_dir: &Path) -> anyhow::Result<SqliteStore> {
    let path = existing(data_dir)?.join(DATABASE_FILE);
    SqliteStore::open(&path).with_context(|| format!("opening {}", path.display()))
}

/// `dir` as an absolute path when it can be made one (for messages).
pub fn shown(dir: &Path) -> String {
    std::path::absolute(dir)
        .unwrap_or_else(|_| dir.to_path_buf())
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_without_a_database_is_refused_with_how_to_choose_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let error = existing(dir.path()).expect_err("no database").to_string();
        assert!(error.contains("no q2c database in"), "{error}");
        assert!(error.contains("--data-dir"), "{error}");
        assert!(error.contains(VARIABLE), "{error}");
        std::fs::write(dir.path().join(DATABASE_FILE), b"").expect("write");
        assert_eq!(existing(dir.path()).expect("a database"), dir.path());
    }

    #[test]
    fn the_default_is_absolute_when_there_is_a_home() {
        if std::env::var_os("HOME").is_some() || std::env::var_os("XDG_DATA_HOME").is_some() {
            assert!(default_dir().is_absolute(), "{}", default_dir().display());
            assert!(default_dir().ends_with("q2c"));
        }
    }
}
