//! The outbox relay of `q2c local`: right after each quote write (see `relay_wake`), else
//! every 200 ms (and at once again while a round finds a full batch), pending outbox events move to the embedded queues in the same database. If the
//! process dies between a write and its publish, the event stays pending in the outbox and
//! the next start's first round sends it. What cannot be published is parked in the
//! destination's `-dlq` (see `q2c_service::relay`); every [`AGE_EVERY`] the loop logs the
//! oldest pending event's age (`OutboxOldestPendingAge` on AWS), as a warning past
//! [`AGE_WARNING`].

use std::sync::Arc;
use std::time::Duration;

use q2c_local::{SqliteQueues, SqliteStore};
use q2c_service::event_versions::SchemaMajor;
use q2c_service::messaging::QueueClient;
use q2c_service::ports::OutboxStore;
use q2c_service::relay::{oldest_pending_age, relay_once_as};
use time::OffsetDateTime;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// Pause between relay rounds when the outbox was drained.
pub const RELAY_EVERY: Duration = Duration::from_millis(200);
/// Most events one round reads.
pub const RELAY_BATCH: usize = 100;
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
        let outbox = store.outbox_store();
        let queues = SqliteQueues::new(store).queue_client();
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(outbox, queues, wake, stopped, emit));
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
    outbox: Arc<dyn OutboxStore>,
    queues: Arc<dyn QueueClient>,
    wake: Arc<Notify>,
    mut stopped: watch::Receiver<bool>,
    emit: SchemaMajor,
) {
    let mut age_checked = tokio::time::Instant::now();
    loop {
        if age_checked.elapsed() >= AGE_EVERY {
            age_checked = tokio::time::Instant::now();
            log_age(&*outbox).await;
        }
        if *stopped.borrow() {
            // Stop came after the HTTP server drained: this round sees its last writes.
            round(&*outbox, &*queues, emit).await;
            return;
        }
        if round(&*outbox, &*queues, emit).await {
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
async fn round(outbox: &dyn OutboxStore, queues: &dyn QueueClient, emit: SchemaMajor) -> bool {
    match relay_once_as(outbox, queues, RELAY_BATCH, emit).await {
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
