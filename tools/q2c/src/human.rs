//! Numbers for people: rates and sizes as the commands print them (`1054/s`, `3.2 MiB`), and
//! the progress-bar style whose `{rate}` uses them (indicatif's `{per_sec}` prints
//! `1,054.4702/s`).

use indicatif::{ProgressState, ProgressStyle};

/// A rate per second: whole numbers from 100 up, one decimal below (`1054/s`, `12.5/s`).
pub fn rate(per_second: f64) -> String {
    if !per_second.is_finite() || per_second <= 0.0 {
        return "0/s".to_owned();
    }
    if per_second >= 100.0 {
        format!("{per_second:.0}/s")
    } else {
        format!("{per_second:.1}/s")
    }
}

/// A size in bytes with a binary unit (`512 B`, `64.0 KiB`, `3.2 MiB`, `1.4 GiB`).
pub fn bytes(count: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if count < 1024 {
        return format!("{count} B");
    }
    #[allow(clippy::cast_precision_loss)] // a display value
    let mut value = count as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A progress style from `template`, where `{rate}` is [`rate`] of the bar's speed.
pub fn progress_style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "rate",
            |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&rate(state.per_sec()));
            },
        )
}

/// Whether `error` is a write to a closed pipe (the reader of stdout went away: `q2c … |
/// head`), which ends a command quietly.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_whole_from_a_hundred_and_never_grouped() {
        assert_eq!(rate(1054.4702), "1054/s");
        assert_eq!(rate(12.46), "12.5/s");
        assert_eq!(rate(0.0), "0/s");
        assert_eq!(rate(f64::NAN), "0/s");
    }

    #[test]
    fn sizes_take_a_binary_unit() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(64 * 1024), "64.0 KiB");
        assert_eq!(bytes(3_355_443), "3.2 MiB");
        assert_eq!(bytes(1_503_238_554), "1.4 GiB");
    }
}
