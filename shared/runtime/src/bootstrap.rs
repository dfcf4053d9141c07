//! What every function's `main` does around its handler: [`init`] once per container, an
//! [`Invocation`] around each event, and the deadline the event gives ([`deadline_before`]).

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use time::OffsetDateTime;

use crate::{ConfigError, LambdaEnv, Metrics, init_tracing, sdk_config};

/// Starts tracing, reads the function's configuration with `read_config` (before any AWS
/// call, so a missing variable fails the init first), then loads the SDK configuration its
/// clients are built from ([`sdk_config`]); returns both with the function's [`Metrics`].
///
/// # Errors
/// The [`ConfigError`] of `read_config`.
pub async fn init<C>(
    read_config: impl FnOnce() -> Result<C, ConfigError>,
) -> Result<(C, SdkConfig, Arc<Metrics>), ConfigError> {
    init_tracing();
    let config = read_config()?;
    let sdk = sdk_config().await;
    let metrics = Arc::new(Metrics::new(LambdaEnv::from_env().function_name));
    Ok((config, sdk, metrics))
}

/// One invocation's metrics: [`Invocation::start`] counts the cold start,
/// [`Invocation::end`] flushes what the invocation counted.
#[must_use = "end the invocation to flush its metrics"]
pub struct Invocation {
    metrics: Arc<Metrics>,
}

impl Invocation {
    /// Starts an invocation (counting the process's cold start on the first).
    pub fn start(metrics: &Arc<Metrics>) -> Self {
        metrics.record_cold_start();
        Invocation {
            metrics: Arc::clone(metrics),
        }
    }

    /// Flushes the invocation's metrics; returns `response` unchanged.
    pub fn end<T>(self, response: T) -> T {
        self.metrics.flush();
        response
    }
}

/// The invocation deadline (Lambda gives it in epoch milliseconds) minus `margin`, kept for
/// settling the batch; now less `margin` when the value is out of range.
pub fn deadline_before(deadline_ms: u64, margin: Duration) -> OffsetDateTime {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(deadline_ms) * 1_000_000)
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
    at - margin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_keeps_the_margin_back() {
        let deadline = deadline_before(1_800_000_000_000, Duration::from_secs(2));
        assert_eq!(deadline.unix_timestamp(), 1_799_999_998);
    }
}
