//! Errors of opening the store, and how driver and encoding failures become
//! [`StoreError::Backend`] for the ports. The causes boxed there are `rusqlite::Error`,
//! `serde_json::Error`, [`CodecError`], [`GroupFailed`] and [`WriterStopped`].

use std::path::PathBuf;
use std::sync::Arc;

use q2c_service::ports::StoreError;

/// Opening a [`SqliteStore`](crate::SqliteStore) failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// SQLite could not open, configure or migrate the database.
    #[error("cannot open SQLite database {path}")]
    Sqlite {
        /// The database file (`:memory:` for an in-memory store).
        path: PathBuf,
        /// The driver's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The writer thread could not be started.
    #[error("cannot start the SQLite writer thread for {path}")]
    WriterThread {
        /// The database file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file was written by a newer q2c with a schema this build does not know.
    #[error("database {path} has schema version {found}; this build knows up to {known}")]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// `PRAGMA user_version` of the file.
        found: i64,
        /// The newest version this build can migrate to.
        known: i64,
    },
}

/// A stored row that cannot be decoded or a record that cannot be encoded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// A quote without an id was given to the store.
    #[error("quote has no id")]
    MissingQuoteId,
    /// A stored value is not one this build writes.
    #[error("unexpected stored {column} value `{value}`")]
    UnexpectedValue {
        /// The column.
        column: &'static str,
        /// What was found.
        value: String,
    },
}

/// The transaction of a group could not begin or commit; every write in it failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("SQLite group transaction failed")]
pub struct GroupFailed(#[source] pub(crate) Arc<rusqlite::Error>);

/// The writer thread is gone (it panicked outside a write, or the store was dropped).
#[derive(Debug, thiserror::Error)]
#[error("SQLite writer thread stopped")]
pub struct WriterStopped;

/// Wraps any adapter failure as [`StoreError::Backend`].
pub(crate) fn backend<E>(error: E) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
{
    StoreError::Backend(Box::new(error))
}

/// `?`-friendly conversion of driver errors inside the blocking closures.
pub(crate) trait ResultExt<T> {
    /// Maps the error to [`StoreError::Backend`].
    fn store(self) -> Result<T, StoreError>;
}

impl<T> ResultExt<T> for Result<T, rusqlite::Error> {
    fn store(self) -> Result<T, StoreError> {
        self.map_err(backend)
    }
}

impl<T> ResultExt<T> for Result<T, serde_json::Error> {
    fn store(self) -> Result<T, StoreError> {
        self.map_err(backend)
    }
}

/// Runs `sql`, the INSERT of a new row, with `values`: a uniqueness violation (the row
/// exists) is [`StoreError::AlreadyExists`].
pub(crate) fn insert_new(
    conn: &rusqlite::Connection,
    sql: &str,
    values: &[&dyn rusqlite::ToSql],
) -> Result<(), StoreError> {
    let inserted = conn.prepare_cached(sql).map_err(backend)?.execute(values);
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists),
        Err(e) => Err(backend(e)),
    }
}

/// Runs `sql`, the UPDATE of one row guarded by its version, with `values` then
/// `expected_version` (the last parameter): no row changed is [`StoreError::VersionConflict`].
pub(crate) fn update_versioned(
    conn: &rusqlite::Connection,
    sql: &str,
    values: &[&dyn rusqlite::ToSql],
    expected_version: i64,
) -> Result<(), StoreError> {
    let mut values = values.to_vec();
    values.push(&expected_version);
    let changed = conn
        .prepare_cached(sql)
        .map_err(backend)?
        .execute(values.as_slice())
        .map_err(backend)?;
    if changed == 0 {
        return Err(StoreError::VersionConflict);
    }
    Ok(())
}

/// Whether the driver error is a uniqueness / primary-key violation.
pub(crate) fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(e, _)
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}
