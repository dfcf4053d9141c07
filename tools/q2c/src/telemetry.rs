//! Logging setup: human-readable by default, JSON when `Q2C_LOG_FORMAT=json` (or
//! `AWS_LAMBDA_LOG_FORMAT=json`), filtered by `RUST_LOG` or the `-v` count.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `verbosity` 0 = info, 1 = debug, 2+ = trace, unless
/// `RUST_LOG` says otherwise. Logs go to stderr so stdout stays clean for command output.
pub fn init_tracing(verbosity: u8) {
    let default_level = match verbosity {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let json = ["Q2C_LOG_FORMAT", "AWS_LAMBDA_LOG_FORMAT"]
        .iter()
        .any(|var| std::env::var(var).is_ok_and(|v| v.eq_ignore_ascii_case("json")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    // `try_init`: tests may install a subscriber first.
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}
