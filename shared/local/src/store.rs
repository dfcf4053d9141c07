//! [`SqliteStore`]: one SQLite database behind every store port.
//!
//! Connections: `rusqlite::Connection` is `!Sync`, so there is one writer connection behind a
//! mutex (SQLite serialises writers anyway; holding our own lock avoids `SQLITE_BUSY`
//! retries between our own threads) and a small pool of reader connections, which WAL mode
//! lets read concurrently with the writer. Every call runs on the blocking thread pool via
//! `spawn_blocking`, so async callers never block the runtime's workers.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use q2c_service::ports::{
    CatalogStore, Clock, HubStore, IdempotencyStore, OutboxStore, Ports, QuoteStore,
    SettingsSource, StoreError,
};
use rusqlite::{Connection, OpenFlags};
use time::OffsetDateTime;

use crate::error::{OpenError, backend};
use crate::schema::{self, Migration};

/// How long a connection waits for a lock held by another process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements kept per connection (the dynamic list queries have 32 shapes).
const STATEMENT_CACHE: usize = 64;
/// Idle reader connections kept open; more are opened under load and closed after.
const MAX_IDLE_READERS: usize = 8;
/// Published outbox rows are kept this long for inspection before housekeeping drops them.
const PUBLISHED_RETENTION: time::Duration = time::Duration::hours(1);

/// Every store port on one SQLite database. Cheap to clone: clones share the connections.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    /// `None` for in-memory stores, whose single connection serves reads too.
    readers: Option<ReaderPool>,
}

struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// What [`SqliteStore::housekeeping`] deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HousekeepingReport {
    /// Expired idempotency records (completed past expiry, abandoned claims).
    pub idempotency_records: u64,
    /// Outbox rows published more than an hour before `now`.
    pub outbox_events: u64,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and migrates its schema.
    ///
    /// The file uses WAL journaling with `synchronous=FULL`: a write is on disk before the
    /// call returns, so an acknowledged change survives SIGKILL and power loss.
    ///
    /// # Errors
    /// [`OpenError::Sqlite`] when the file cannot be opened or migrated,
    /// [`OpenError::SchemaTooNew`] when a newer q2c wrote it.
    pub fn open(path: &Path) -> Result<SqliteStore, OpenError> {
        let sqlite = |source| OpenError::Sqlite {
            path: path.to_owned(),
            source,
        };
        let mut writer = Connection::open(path).map_err(sqlite)?;
        configure(&writer).map_err(sqlite)?;
        // WAL is a property of the file (persistent); `synchronous` is per connection.
        let mode: String = writer
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(sqlite)?;
        tracing::debug!(path = %path.display(), journal_mode = %mode, "opened SQLite store");
        writer
            .pragma_update(None, "synchronous", "FULL")
            .map_err(sqlite)?;
        Self::migrate(&mut writer, path)?;
        Ok(SqliteStore::from_parts(
            writer,
            Some(ReaderPool {
                path: path.to_owned(),
                idle: Mutex::new(Vec::new()),
            }),
        ))
    }

    /// A fresh private in-memory database (for tests): one connection, nothing persisted.
    ///
    /// # Errors
    /// [`OpenError::Sqlite`] when SQLite cannot allocate or migrate it.
    pub fn open_in_memory() -> Result<SqliteStore, OpenError> {
        let path = Path::new(":memory:");
        let sqlite = |source| OpenError::Sqlite {
            path: path.to_owned(),
            source,
        };
        let mut writer = Connection::open_in_memory().map_err(sqlite)?;
        configure(&writer).map_err(sqlite)?;
        Self::migrate(&mut writer, path)?;
        Ok(SqliteStore::from_parts(writer, None))
    }

    fn migrate(conn: &mut Connection, path: &Path) -> Result<(), OpenError> {
        match schema::migrate(conn) {
            Ok(Migration::Current) => Ok(()),
            Ok(Migration::TooNew(found)) => Err(OpenError::SchemaTooNew {
                path: path.to_owned(),
                found,
                known: schema::latest_version(),
            }),
            Err(source) => Err(OpenError::Sqlite {
                path: path.to_owned(),
                source,
            }),
        }
    }

    fn from_parts(writer: Connection, readers: Option<ReaderPool>) -> SqliteStore {
        SqliteStore {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                readers,
            }),
        }
    }

    /// The quote store port.
    pub fn quote_store(&self) -> Arc<dyn QuoteStore> {
        Arc::new(self.clone())
    }

    /// The catalog port.
    pub fn catalog_store(&self) -> Arc<dyn CatalogStore> {
        Arc::new(self.clone())
    }

    /// The hub subscription port.
    pub fn hub_store(&self) -> Arc<dyn HubStore> {
        Arc::new(self.clone())
    }

    /// The idempotency port.
    pub fn idempotency_store(&self) -> Arc<dyn IdempotencyStore> {
        Arc::new(self.clone())
    }

    /// The outbox port (the relay's side).
    pub fn outbox_store(&self) -> Arc<dyn OutboxStore> {
        Arc::new(self.clone())
    }

    /// The use-cases' [`Ports`] over this store, with the given settings and clock.
    pub fn ports(&self, settings: Arc<dyn SettingsSource>, clock: Arc<dyn Clock>) -> Ports {
        Ports {
            quotes: self.quote_store(),
            catalog: self.catalog_store(),
            hubs: self.hub_store(),
            idempotency: self.idempotency_store(),
            settings,
            clock,
        }
    }

    /// Deletes expired idempotency records and outbox rows published more than an hour
    /// before `now`. Run it periodically; correctness never depends on it.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when SQLite fails.
    pub async fn housekeeping(
        &self,
        now: OffsetDateTime,
    ) -> Result<HousekeepingReport, StoreError> {
        let idempotency_records = IdempotencyStore::purge_expired(self, now).await?;
        let outbox_events = OutboxStore::purge_published(self, now - PUBLISHED_RETENTION).await?;
        Ok(HousekeepingReport {
            idempotency_records,
            outbox_events,
        })
    }

    /// Runs `work` on the writer connection, on the blocking pool. `work` opens its own
    /// transaction; returning an error drops (rolls back) it.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&mut lock(&inner.writer)))
            .await
            .map_err(backend)?
    }

    /// Runs `work` on a reader connection (the writer for in-memory stores), on the
    /// blocking pool.
    pub(crate) async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || match &inner.readers {
            None => work(&mut lock(&inner.writer)),
            Some(pool) => {
                let mut conn = pool.checkout()?;
                let result = work(&mut conn);
                pool.checkin(conn);
                result
            }
        })
        .await
        .map_err(backend)?
    }
}

impl ReaderPool {
    fn checkout(&self) -> Result<Connection, StoreError> {
        if let Some(conn) = lock(&self.idle).pop() {
            return Ok(conn);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(backend)?;
        configure(&conn).map_err(backend)?;
        // Read-write so it can use the WAL index; query_only guards against writes by mistake.
        conn.pragma_update(None, "query_only", true)
            .map_err(backend)?;
        Ok(conn)
    }

    fn checkin(&self, conn: Connection) {
        let mut idle = lock(&self.idle);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
    }
}

/// Settings every connection gets.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

/// Locks a mutex, recovering from poisoning: a panic inside a closure drops its
/// `Transaction`, which rolls back, so the connection is still consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
