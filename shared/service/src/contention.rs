//! Writes the client did not make conditional (no `If-Match`) that lose an optimistic
//! version race are re-read, re-applied and written again, up to [`UNCONDITIONAL_ATTEMPTS`]
//! times, pausing a random [`pause`] between attempts so that the competitors spread out
//! (full jitter). This is per request and per quote: nothing is serialised globally, and a
//! quote under no contention pays nothing. When every attempt loses, the write fails with
//! `ServiceError::Contended` (503 `WRITE_CONTENTION`, retry later).

use std::sync::Arc;
use std::time::Duration;

pub use crate::clock::Sleeper;

/// Attempts of an unconditional write: at least the concurrency a single quote is expected
/// to see (48 concurrent PATCHes of one quote all succeed, tests/api/conditional.rs), since
/// each round lets at least one writer through.
pub const UNCONDITIONAL_ATTEMPTS: u32 = 64;

/// The longest pause between two attempts.
pub const MAX_PAUSE: Duration = Duration::from_millis(50);

/// The pause before attempt `attempt + 1` (after `attempt` lost races): uniform in
/// `0..=min(MAX_PAUSE, 1 ms × 2^attempt)`.
pub fn pause(attempt: u32) -> Duration {
    let ceiling = (1u64 << attempt.min(16)).min(MAX_PAUSE.as_millis() as u64);
    Duration::from_micros(rand::random_range(0..=ceiling * 1000))
}

/// Waits [`pause`]`(attempt)` with `sleeper`; without one (unit tests of the use-cases)
/// the next attempt follows at once.
pub(crate) async fn wait(sleeper: Option<&Arc<dyn Sleeper>>, attempt: u32) {
    if let Some(sleeper) = sleeper {
        sleeper.sleep(pause(attempt)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_to_their_cap_and_stay_random() {
        for attempt in 0..80 {
            let ceiling = Duration::from_millis((1u64 << attempt.min(16)).min(50));
            assert!(pause(attempt) <= ceiling, "attempt {attempt}");
        }
        let spread: std::collections::BTreeSet<_> = (0..32).map(|_| pause(20)).collect();
        assert!(spread.len() > 1, "jitter, not a fixed delay");
    }
}
