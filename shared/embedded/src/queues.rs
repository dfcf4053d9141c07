//! Queues of a data directory beyond the system's own: a hub subscriber's (`q2c queue
//! create`).

use anyhow::bail;
use q2c_local::SqliteQueues;

/// Creates an embedded queue for a hub subscriber (e.g. `subscriber-acme`, then subscribed
/// as `local:subscriber-acme`) with its `<name>-dlq`; creating it again changes nothing.
///
/// # Errors
/// When the name is a system queue or not a queue name (1-80 of `A-Z a-z 0-9 - _`, as SQS),
/// or SQLite fails.
pub async fn create(queues: &SqliteQueues, name: &str) -> anyhow::Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 80
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        bail!("`{name}` is not a queue name: 1-80 characters of A-Z, a-z, 0-9, - and _");
    }
    let system = name.ends_with("-dlq") || q2c_service::messaging::queues::SYSTEM.contains(&name);
    if system {
        bail!("`{name}` is a system queue (or a dead-letter queue) of q2c local");
    }
    let dlq = q2c_service::messaging::dlq_name(name);
    let max = q2c_local::queues::DEFAULT_MAX_RECEIVE_COUNT;
    queues.configure_queue(&dlq, None, max).await?;
    queues.configure_queue(name, Some(&dlq), max).await?;
    Ok(())
}
