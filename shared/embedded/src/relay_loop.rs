//! The outbox relay of `q2c local`: right after each quote write (see `relay_wake`), else
//! every 200 ms (and at once again while a round finds a full batch), pending outbox events
//! move to the embedded queues in the same database, a batch in one transaction
//! ([`SqliteStore::relay_batch`]: enqueued and marked published together). If the process
//! dies before that commit, the events stay pending in the outbox and the next start's first
//! round sends them. What cannot be published is parked in the destination's `-dlq` (as
//! `q2c_service::relay` parks); every [`AGE_EVERY`] the loop logs the oldest pending event's
//! age (`OutboxOldestPendingAge` on AWS), as a warning past [`AGE_WARNING`].

use std::sync::Arc;
use std::time::Duration;

use q2c_local::SqliteStore;
use q2c_service::event_versions::SchemaMajor;
use q2c_service::ports::OutboxStore;
use q2c_service::relay::oldest_pending_age;
use time::OffsetDateTime;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// Pause between relay rounds when the outbox was drained.
pub const RELAY_EVERY: Duration = Duration::from_millis(200);
/// Most events one round reads (and enqueues in one write): large enough that a round keeps
/// up with thousands of writes a second, small enough that its write (~10 µs an event) does
/// not hold the writer thread long ahead of the requests' writes.
pub const RELAY_BATCH: usize = 256;
/// How often the loop logs the oldest pending event's age.
pub const AGE_EVERY: Duration = Duration::from_secs(10);
/// Age of the oldest pending event past which it is logged as a warning.
pub const AGE_WARNING: time::Duration = time::Duration::minutes(1);

/// A running relay loop; [`RelayLoop::stop`] ends it after a last round.
pub struct RelayLoop {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RelayLoop {
    /// Starts relaying the outbox of `store` to its embedded queues in schema major `emit`;
    /// `wake` starts a round early.
    pub fn start(store: &SqliteStore, wake: Arc<Notify>, emit: SchemaMajor) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(store.clone(), wake, stopped, emit));
        RelayLoop { stop, task }
    }

    /// Stops the loop after one last round (so events of the last requests go out too).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.task.await {
            tracing::warn!(error = %error, "the relay loop ended abnormally");
        }
    }
}

async fn run(
    store: SqliteStore,
    wake: Arc<Notify>,
    mut stopped: watch::Receiver<bool>,
    emit: SchemaMajor,
) {
    let mut age_checked = tokio::time::Instant::now();
    loop {
        if age_checked.elapsed() >= AGE_EVERY {
            age_checked = tokio::time::Instant::now();
            log_age(&store).await;
        }
        if *stopped.borrow() {
            // Stop came after the HTTP server drained: this round sees its last writes.
            round(&store, emit).await;
            return;
        }
        if round(&store, emit).await {
            continue;
        }
        tokio::select! {
            changed = stopped.changed() => if changed.is_err() {
                return; // The handle was dropped without `stop`.
            },
            () = wake.notified() => {}
            () = tokio::time::sleep(RELAY_EVERY) => {}
        }
    }
}

/// One relay round; whether a full batch was read (more may be waiting).
async fn round(store: &SqliteStore, emit: SchemaMajor) -> bool {
    match store.relay_batch(RELAY_BATCH, emit).await {
        Ok(report) => {
            if report.read() > 0 {
                tracing::debug!(
                    published = report.published,
                    failed = report.failed,
                    parked = report.parked,
                    "relayed outbox events"
                );
            }
            report.read() == RELAY_BATCH && report.failed == 0
        }
        Err(error) => {
            tracing::warn!(error.message = %error, error.cause_chain = ?error, "outbox relay round failed");
            false
        }
    }
}

/// Logs the oldest pending event's age: a warning past [`AGE_WARNING`], else at debug.
async fn log_age(outbox: &dyn OutboxStore) {
    match oldest_pending_age(outbox, OffsetDateTime::now_utc()).await {
        Ok(age) if age > AGE_WARNING => tracing::warn!(
            oldest_pending_age_seconds = age.whole_seconds(),
            "an outbox event has been pending a long time"
        ),
        Ok(age) => tracing::debug!(
            oldest_pending_age_seconds = age.whole_seconds(),
            "outbox pending age"
        ),
        Err(error) => {
            tracing::warn!(error.message = %error, "reading the outbox's oldest pending event failed");
        }
    }
}
