//! Waiting for something a background task does (a relay, a consumer, a fake downstream).

use std::future::Future;
use std::time::{Duration, Instant};

/// How often [`eventually`] checks.
const INTERVAL: Duration = Duration::from_millis(100);

/// Polls `check` every 100 ms until it returns `Some`, and returns that value. A polling
/// loop against a deadline, not a retry of failures, so no retry crate.
///
/// # Panics
/// When `wait` passes first, naming `what` it waited for.
pub async fn eventually<T, F, Fut>(what: &str, wait: Duration, check: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + wait;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(INTERVAL).await;
    }
}
