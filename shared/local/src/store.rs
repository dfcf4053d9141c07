//! [`SqliteStore`]: one SQLite database behind every store port.
//!
//! Connections: `rusqlite::Connection` is `!Sync`, so the one write connection lives on a
//! writer thread that commits queued writes in groups (see `writer`; SQLite serialises
//! writers anyway), and reads use a small pool of reader connections, which WAL mode lets
//! read concurrently with the writer, on the blocking thread pool via `spawn_blocking`.
//! Async callers never block the runtime's workers. An in-memory store has one connection,
//! so its reads are queued on the writer thread too.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use q2c_service::orders::OrderStore;
use q2c_service::ports::{
    CatalogStore, Clock, HubStore, IdempotencyStore, Listing, OutboxStore, Ports, QuoteStore,
    SettingsSource, StoreError,
};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;

use crate::error::{OpenError, backend};
use crate::schema::{self, Migration};
use crate::writer::Writer;

/// How long a connection waits for a lock held by another process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements kept per connection (the dynamic list queries have 32 shapes).
const STATEMENT_CACHE: usize = 64;
/// Reads running at once, each on its own connection. More would not go faster on a few
/// cores; the bound keeps every reader connection reused instead of opened per burst.
const MAX_READERS: usize = 8;

/// Every store port on one SQLite database. Cheap to clone: clones share the connections.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Writer,
    /// `None` for in-memory stores, whose single connection serves reads too.
    readers: Option<Arc<ReaderPool>>,
}

struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// One permit per connection; taken before entering the blocking pool, so waiting
    /// readers park as tasks, not as blocking threads.
    permits: Arc<Semaphore>,
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
        SqliteStore::from_parts(
            path,
            writer,
            Some(Arc::new(ReaderPool {
                path: path.to_owned(),
                idle: Mutex::new(Vec::new()),
                permits: Arc::new(Semaphore::new(MAX_READERS)),
            })),
        )
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
        SqliteStore::from_parts(path, writer, None)
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

    fn from_parts(
        path: &Path,
        writer: Connection,
        readers: Option<Arc<ReaderPool>>,
    ) -> Result<SqliteStore, OpenError> {
        let writer = Writer::start(writer).map_err(|source| OpenError::WriterThread {
            path: path.to_owned(),
            source,
        })?;
        Ok(SqliteStore {
            inner: Arc::new(Inner { writer, readers }),
        })
    }

    /// The quote store port.
    pub fn quote_store(&self) -> Arc<dyn QuoteStore> {
        Arc::new(self.clone())
    }

    /// The product order port.
    pub fn order_store(&self) -> Arc<dyn OrderStore> {
        Arc::new(self.clone())
    }

    /// The product inventory port.
    pub fn product_store(&self) -> Arc<dyn q2c_service::inventory::ProductStore> {
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

    /// The price fan-out's catalog writer (ordered by `lastUpdate`, with tombstones).
    pub fn price_catalog_writer(&self) -> Arc<dyn q2c_service::fanout::PriceCatalogWriter> {
        Arc::new(self.clone())
    }

    /// The fan-out's offering writer (offering events, catalog import).
    pub fn offering_catalog_writer(&self) -> Arc<dyn q2c_service::fanout::OfferingCatalogWriter> {
        Arc::new(self.clone())
    }

    /// What the catalog copy holds, tombstones included (catalog import and diff).
    pub fn catalog_versions(&self) -> Arc<dyn q2c_service::catalog_sync::CatalogVersions> {
        Arc::new(self.clone())
    }

    /// The price fan-out's open-quote index.
    pub fn open_quote_index(&self) -> Arc<dyn q2c_service::fanout::OpenQuoteIndex> {
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
            orders: self.order_store(),
            products: self.product_store(),
            catalog: self.catalog_store(),
            hubs: self.hub_store(),
            idempotency: self.idempotency_store(),
            settings,
            clock,
        }
    }

    /// Runs `work` as one atomic write: in its own savepoint of the writer thread's group
    /// transaction; answered once the group is committed. Returning an error rolls back
    /// just this write.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.inner.writer.write(work).await
    }

    /// Runs `work` on a reader connection, on the blocking pool (on the writer thread for
    /// in-memory stores). Use [`snapshot`] when it runs more than one query.
    pub(crate) async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let Some(pool) = &self.inner.readers else {
            return self.inner.writer.write(work).await;
        };
        let permit = Arc::clone(&pool.permits)
            .acquire_owned()
            .await
            .map_err(backend)?;
        let pool = Arc::clone(pool);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = pool.checkout()?;
            let result = work(&conn);
            pool.checkin(conn);
            result
        })
        .await
        .map_err(backend)?
    }
}

/// Holds one read snapshot across several queries (a savepoint, so that it also nests
/// inside the writer's group transaction for in-memory stores). Released on drop.
pub(crate) struct Snapshot<'c>(&'c Connection);

/// Starts a [`Snapshot`].
pub(crate) fn snapshot(conn: &Connection) -> Result<Snapshot<'_>, StoreError> {
    conn.execute_batch("SAVEPOINT q2c_read").map_err(backend)?;
    Ok(Snapshot(conn))
}

impl Drop for Snapshot<'_> {
    fn drop(&mut self) {
        // Nothing was written under it; a failed release leaves at most an open read.
        if let Err(e) = self.0.execute_batch("RELEASE q2c_read") {
            tracing::warn!(error.message = %e, "releasing a read snapshot failed");
        }
    }
}

impl ReaderPool {
    fn checkout(&self) -> Result<Connection, StoreError> {
        if let Some(conn) = lock(&self.idle).pop() {
            return Ok(conn);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(backend)?;
        configure(&conn).map_err(backend)?;
        // Read-write so it can use the WAL index; query_only guards against writes by mistake.
        conn.pragma_update(None, "query_only", true)
            .map_err(backend)?;
        Ok(conn)
    }

    fn checkin(&self, conn: Connection) {
        let mut idle = lock(&self.idle);
        if idle.len() < MAX_READERS {
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

/// Locks a mutex, recovering from poisoning: the pool's list of connections stays valid
/// whatever panicked while it was held.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The byte budget of one listing page (`maxPageBytes`, `q2c_model::limits::MAX_PAGE_BYTES`):
/// rows are taken while their bodies fit, and always the first, so a page of large quotes or
/// orders holds fewer than `limit` items instead of hundreds of megabytes. The body's size is
/// read from the row before it is decoded.
#[derive(Debug, Default)]
struct PageBudget {
    bytes: usize,
    taken: usize,
}

/// One listing page, read in one snapshot: the total that `count_sql` counts and the rows of
/// `page_sql` that fit a [`PageBudget`] (the body is column `body_column`), decoded.
pub(crate) fn listing<T>(
    conn: &Connection,
    (count_sql, count_params): (&str, impl rusqlite::Params),
    (page_sql, page_params): (&str, impl rusqlite::Params),
    body_column: usize,
    decode: impl Fn(&rusqlite::Row<'_>) -> Result<T, StoreError>,
) -> Result<Listing<T>, StoreError> {
    let _snapshot = snapshot(conn)?;
    let total: i64 = conn
        .prepare_cached(count_sql)
        .map_err(backend)?
        .query_row(count_params, |row| row.get(0))
        .map_err(backend)?;
    let mut statement = conn.prepare_cached(page_sql).map_err(backend)?;
    let mut rows = statement.query(page_params).map_err(backend)?;
    let mut items = Vec::new();
    let mut budget = PageBudget::default();
    while let Some(row) = rows.next().map_err(backend)? {
        if !budget.admits(row, body_column)? {
            break;
        }
        items.push(decode(row)?);
    }
    Ok(Listing {
        items,
        total: u64::try_from(total).unwrap_or_default(),
    })
}

impl PageBudget {
    /// Whether the row whose body is column `column` still fits; counts it when it does.
    fn admits(&mut self, row: &rusqlite::Row<'_>, column: usize) -> Result<bool, StoreError> {
        let size = match row.get_ref(column).map_err(backend)? {
            rusqlite::types::ValueRef::Text(text) | rusqlite::types::ValueRef::Blob(text) => {
                text.len()
            }
            _ => 0,
        };
        if self.taken > 0 && self.bytes + size > q2c_model::limits::MAX_PAGE_BYTES.max() {
            return Ok(false);
        }
        self.bytes += size;
        self.taken += 1;
        Ok(true)
    }
}
