//! The writer thread: owns the only write connection and commits writes in groups.
//!
//! With `synchronous=FULL` every COMMIT waits for an fsync of the WAL, which costs a few
//! milliseconds on a busy disk; one fsync per request caps writes at a few hundred to a
//! couple of thousand a second. So the thread takes every write waiting in its queue, runs
//! each in its own SAVEPOINT inside one transaction (a write that fails rolls back to its
//! savepoint and leaves the others alone), commits once, and only then answers each
//! caller. A write is therefore still atomic and acknowledged only once it is on disk; a
//! failed COMMIT fails every write of the group.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};

use q2c_service::ports::StoreError;
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::{GroupFailed, ResultExt, WriterStopped, backend};

/// Most writes committed together; bounds the latency a group adds to its first write.
const MAX_GROUP: usize = 512;

/// Answers a write's caller once its group's fate is known (`Some` when the COMMIT failed).
type Answer = Box<dyn FnOnce(Option<&GroupFailed>)>;

/// A queued write: run it inside the group, or fail it when the group cannot start.
trait Job: Send {
    /// Runs the write in a savepoint and returns how to answer its caller.
    fn run(self: Box<Self>, conn: &mut Connection) -> Answer;
    /// Answers the caller with the group's failure.
    fn fail(self: Box<Self>, error: &GroupFailed);
}

struct Write<T, F> {
    work: F,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Write<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
{
    fn run(self: Box<Self>, conn: &mut Connection) -> Answer {
        let Write { work, reply } = *self;
        let outcome = in_savepoint(conn, work);
        Box::new(move |group: Option<&GroupFailed>| {
            let result = match (outcome, group) {
                (Ok(_), Some(failed)) => Err(backend(failed.clone())),
                (outcome, _) => outcome,
            };
            // The caller may have given up waiting (cancelled); nothing to do then.
            let _ = reply.send(result);
        })
    }

    fn fail(self: Box<Self>, error: &GroupFailed) {
        let _ = self.reply.send(Err(backend(error.clone())));
    }
}

/// Runs `work` in a savepoint: released on success, rolled back on error (or panic).
fn in_savepoint<T>(
    conn: &mut Connection,
    work: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let savepoint = conn.savepoint().store()?;
    let value = work(&savepoint)?;
    savepoint.commit().store()?;
    Ok(value)
}

/// The handle async callers use to queue writes.
pub(crate) struct Writer {
    queue: Sender<Box<dyn Job>>,
}

impl Writer {
    /// Starts the writer thread on `conn`. The thread ends when the last handle drops.
    pub(crate) fn start(conn: Connection) -> std::io::Result<Writer> {
        let (queue, jobs) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("q2c-sqlite-writer".to_owned())
            .spawn(move || run(conn, &jobs))?;
        Ok(Writer { queue })
    }

    /// Queues `work` and waits until its group is committed.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Box::new(Write { work, reply }))
            .map_err(|_| backend(WriterStopped))?;
        // A dropped reply means the write panicked (its savepoint rolled back).
        answer.await.map_err(|_| backend(WriterStopped))?
    }
}

fn run(mut conn: Connection, jobs: &Receiver<Box<dyn Job>>) {
    while let Ok(first) = jobs.recv() {
        let group: Vec<Box<dyn Job>> = std::iter::once(first)
            .chain(jobs.try_iter().take(MAX_GROUP - 1))
            .collect();
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            let failed = GroupFailed(Arc::new(e));
            group.into_iter().for_each(|job| job.fail(&failed));
            continue;
        }
        let mut answers = Vec::with_capacity(group.len());
        for job in group {
            // A panicking write drops its reply (the caller gets an error) and its
            // savepoint rolls back while unwinding; the rest of the group goes on.
            if let Ok(answer) = std::panic::catch_unwind(AssertUnwindSafe(|| job.run(&mut conn))) {
                answers.push(answer);
            }
        }
        let committed = conn.execute_batch("COMMIT").map_err(|e| {
            // Leave no transaction open for the next group.
            let _ = conn.execute_batch("ROLLBACK");
            GroupFailed(Arc::new(e))
        });
        tracing::trace!(
            writes = answers.len(),
            ok = committed.is_ok(),
            "group commit"
        );
        answers
            .into_iter()
            .for_each(|answer| answer(committed.as_ref().err()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CodecError;

    fn writer() -> Writer {
        let conn = Connection::open_in_memory().expect("connection");
        conn.execute_batch("CREATE TABLE t (v INTEGER)")
            .expect("table");
        Writer::start(conn).expect("writer thread")
    }

    fn insert(v: i64) -> impl FnOnce(&Connection) -> Result<(), StoreError> + Send + 'static {
        move |conn| {
            conn.execute("INSERT INTO t (v) VALUES (?1)", [v]).store()?;
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_failing_or_panicking_write_leaves_the_rest_of_its_group_alone() {
        let writer = writer();

        let (ok, failed, panicked, after) = tokio::join!(
            writer.write(insert(1)),
            writer.write(|conn: &Connection| {
                insert(2)(conn)?;
                Err::<(), _>(backend(CodecError::MissingQuoteId))
            }),
            writer.write(|conn: &Connection| -> Result<(), StoreError> {
                insert(3)(conn)?;
                panic!("write panics after inserting")
            }),
            writer.write(insert(4)),
        );

        assert!(ok.is_ok() && after.is_ok(), "{ok:?} {after:?}");
        assert!(matches!(failed, Err(StoreError::Backend(_))));
        assert!(matches!(panicked, Err(StoreError::Backend(_))));
        let values = writer
            .write(|conn: &Connection| {
                let mut statement = conn.prepare("SELECT v FROM t ORDER BY v").store()?;
                let values = statement.query_map([], |row| row.get::<_, i64>(0));
                values.store()?.collect::<Result<Vec<_>, _>>().store()
            })
            .await
            .expect("read back");
        assert_eq!(values, [1, 4], "only the successful writes stay");
    }
}
