//! Flag value parsers shared by several commands (a leaf module: commands depend on it,
//! it on nothing of the CLI).

use std::time::Duration;

/// Parses a positive duration in humantime's notation: `90s`, `30m`, `1h`, `2d`, `1h 30m`.
///
/// # Errors
/// When the text is not a duration, or is zero.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    match humantime::parse_duration(raw) {
        Ok(duration) if duration.is_zero() => Err(format!("`{raw}`: must be positive")),
        Ok(duration) => Ok(duration),
        Err(e) => Err(format!("`{raw}`: {e} (e.g. 30m, 1h, 2d)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_must_be_positive() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("0h").is_err());
        assert!(parse_duration("1x").is_err());
        assert!(parse_duration("h").is_err());
    }
}
