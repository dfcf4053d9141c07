//! Skipping a test whose server or tool is missing, loudly: a plain `cargo test` on a fresh
//! clone passes, printing one line per skipped test, while `tools/test.sh` (which provides
//! everything) sets [`REQUIRE_VARIABLE`] so that a skip fails the run instead.

use std::io::Write;

/// Set to `1` (as `tools/test.sh` does), a test that would be skipped fails instead.
pub const REQUIRE_VARIABLE: &str = "Q2C_REQUIRE_AWS";

/// Whether skips fail ([`REQUIRE_VARIABLE`] is `1`).
pub fn required() -> bool {
    std::env::var(REQUIRE_VARIABLE).is_ok_and(|value| value == "1")
}

/// Skips the calling test for `reason`: prints `skipped <test>: <reason>` on the process's
/// standard error, past the test harness's capture, so `cargo test` shows it; panics with
/// the reason instead when [`required`].
pub fn skip(reason: &str) {
    if required() {
        panic!("{REQUIRE_VARIABLE}=1 and this test would be skipped: {reason}");
    }
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    // `std::io::stderr()` directly (not `eprintln!`): the harness captures only the macros.
    let _ = writeln!(std::io::stderr(), "skipped {test}: {reason}");
}

/// Returns from the calling test (skipping it, [`skip`]) unless `condition` holds.
#[macro_export]
macro_rules! skip_unless {
    ($condition:expr, $reason:expr) => {
        if !$condition {
            $crate::skip::skip(&$reason);
            return;
        }
    };
}
