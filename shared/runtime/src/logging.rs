//! Tracing for the functions: one subscriber per process, set up before anything else.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber: JSON lines (with the current span) when
/// `AWS_LAMBDA_LOG_FORMAT` is `json` (any case), plain text otherwise; the filter is
/// `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else `info`. No timestamps (CloudWatch adds
/// them) and no ANSI colours. Calling it twice, or from tests that installed their own
/// subscriber, is harmless.
pub fn init_tracing() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| std::env::var("AWS_LAMBDA_LOG_LEVEL").ok())
        .and_then(|f| EnvFilter::try_new(f.to_ascii_lowercase()).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .without_time()
        .with_target(false);
    let _already_set = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.try_init()
    };
}
