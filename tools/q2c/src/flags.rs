//! Flag value parsers shared by several commands (a leaf module: commands depend on it,
//! it on nothing of the CLI).

use std::time::Duration;

use q2c_service::Scope;

/// The heading of the options every command shares (the data directory, logging), shown apart
/// from each command's own.
pub const GLOBAL: &str = "Global options";

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

/// Parses a duration that may be zero (`0`, `0s`: "do not wait"), else as
/// [`parse_duration`].
///
/// # Errors
/// When the text is not a duration.
pub fn parse_wait(raw: &str) -> Result<Duration, String> {
    match humantime::parse_duration(raw) {
        Ok(duration) => Ok(duration),
        Err(_) if raw.trim() == "0" => Ok(Duration::ZERO),
        Err(e) => Err(format!("`{raw}`: {e} (e.g. 0s, 90s, 5m)")),
    }
}

/// Parses `name=value`.
///
/// # Errors
/// When there is no `=` or the name is empty.
pub fn parse_attribute(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("`{raw}`: expected name=value")),
    }
}

/// Parses `all` or a list of scope names.
///
/// # Errors
/// When a name is not a q2c scope.
pub fn parse_scopes(raw: &[String]) -> anyhow::Result<Vec<Scope>> {
    if raw.iter().any(|s| s == "all") {
        return Ok(Scope::ALL.to_vec());
    }
    raw.iter()
        .map(|s| Scope::parse(s.trim()).ok_or_else(|| anyhow::anyhow!("unknown scope `{s}`")))
        .collect()
}

/// Parses a fraction between 0 and 1.
///
/// # Errors
/// When the text is not a number in 0..=1.
pub fn parse_rate(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!(
            "`{raw}`: expected a fraction between 0 and 1, e.g. 0.3"
        )),
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

    #[test]
    fn waits_may_be_zero() {
        assert_eq!(parse_wait("0"), Ok(Duration::ZERO));
        assert_eq!(parse_wait("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_wait("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_wait("soon").is_err());
    }
}
