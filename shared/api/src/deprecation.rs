//! Deprecation of a served API version (docs/versioning.md, "Deprecation policy"): every
//! response under a deprecated version's base path carries
//! - `Deprecation: @<unix seconds>` (RFC 9745): since when the version is deprecated;
//! - `Sunset: <HTTP-date>` (RFC 8594): from when it may stop answering;
//! - `Link: <successor URL>; rel="successor-version"` (RFC 5829): the same resource in the
//!   successor version.
//!
//! Configured as `VERSION:SUNSET` or `VERSION:DEPRECATED_SINCE:SUNSET`, comma-separated, dates
//! `YYYY-MM-DD` (UTC midnight), e.g. `v4:2027-06-30` (the `DEPRECATED_API_VERSIONS` variable of
//! the quote-api function, `--deprecated-api-versions` of `q2c local`). Without
//! `DEPRECATED_SINCE` the version counts as deprecated since its successor was first served.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use time::macros::{date, format_description};
use time::{Date, OffsetDateTime};

use crate::AppState;

/// The quote API versions q2c serves, oldest first: `(version, base path, successor,
/// date the version was first served)`.
pub const SERVED_VERSIONS: [(&str, &str, Option<&str>, Date); 2] = [
    (
        "v4",
        crate::QUOTE_API_BASE,
        Some("v5"),
        date!(2025 - 01 - 01),
    ),
    ("v5", crate::QUOTE_API_V5_BASE, None, date!(2026 - 11 - 27)),
];

/// One deprecated version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionDeprecation {
    /// Base path of the deprecated version, e.g. `/tmf-api/quoteManagement/v4`.
    pub base: &'static str,
    /// Base path of its successor.
    pub successor_base: &'static str,
    /// Since when it is deprecated.
    pub since: OffsetDateTime,
    /// From when it may stop answering.
    pub sunset: OffsetDateTime,
}

/// A deprecation setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("deprecated API versions `{entry}`: {problem}")]
pub struct DeprecationConfigError {
    entry: String,
    problem: String,
}

/// Parses `v4:2027-06-30` or `v4:2026-12-01:2027-06-30`, comma-separated; empty → none.
///
/// # Errors
/// An unknown version, one without a successor, a bad date, a sunset before the
/// deprecation, or a version given twice.
pub fn parse_deprecations(spec: &str) -> Result<Vec<VersionDeprecation>, DeprecationConfigError> {
    let mut out: Vec<VersionDeprecation> = Vec::new();
    for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let fail = |problem: &str| DeprecationConfigError {
            entry: entry.to_owned(),
            problem: problem.to_owned(),
        };
        let parts: Vec<&str> = entry.split(':').map(str::trim).collect();
        let (version, since, sunset) = match parts.as_slice() {
            [v, sunset] => (*v, None, *sunset),
            [v, since, sunset] => (*v, Some(*since), *sunset),
            _ => {
                return Err(fail(
                    "expected VERSION:SUNSET or VERSION:DEPRECATED_SINCE:SUNSET",
                ));
            }
        };
        let Some(index) = SERVED_VERSIONS
            .iter()
            .position(|(name, ..)| *name == version)
        else {
            return Err(fail("not a served version (v4, v5)"));
        };
        let (_, base, successor, _) = SERVED_VERSIONS[index];
        let Some(successor) = successor else {
            return Err(fail("the latest version has no successor to point to"));
        };
        let (_, successor_base, _, successor_released) = SERVED_VERSIONS
            .iter()
            .find(|(name, ..)| *name == successor)
            .copied()
            .ok_or_else(|| fail("unknown successor"))?;
        let day = |text: &str| {
            Date::parse(text, format_description!("[year]-[month]-[day]"))
                .map(|d| d.midnight().assume_utc())
                .map_err(|_| fail("dates are YYYY-MM-DD"))
        };
        let sunset = day(sunset)?;
        let since = match since {
            Some(text) => day(text)?,
            None => successor_released.midnight().assume_utc(),
        };
        if sunset < since {
            return Err(fail("the sunset is before the deprecation"));
        }
        if out.iter().any(|d| d.base == base) {
            return Err(fail("the version is given twice"));
        }
        out.push(VersionDeprecation {
            base,
            successor_base,
            since,
            sunset,
        });
    }
    Ok(out)
}

/// `Sunset`'s HTTP-date (IMF-fixdate), e.g. `Wed, 30 Jun 2027 00:00:00 GMT`.
fn http_date(at: OffsetDateTime) -> String {
    at.format(format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    ))
    .unwrap_or_default()
}

/// Middleware: adds the deprecation headers to every response of a deprecated version.
pub async fn announce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let deprecation = state.deprecations.iter().find(|d| {
        path.strip_prefix(d.base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    });
    let mut response = next.run(request).await;
    if let Some(d) = deprecation {
        let rest = &path[d.base.len()..];
        let successor = format!(
            "<{}{}{rest}>; rel=\"successor-version\"",
            state.config.public_base_url, d.successor_base
        );
        let headers = response.headers_mut();
        let values = [
            ("deprecation", format!("@{}", d.since.unix_timestamp())),
            ("sunset", http_date(d.sunset)),
            ("link", successor),
        ];
        for (name, value) in values {
            if let Ok(value) = HeaderValue::try_from(value) {
                headers.append(name, value);
            }
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_sunset_alone_counts_from_the_successor_release() {
        let parsed = parse_deprecations("v4:2027-06-30").unwrap();
        assert_eq!(
            parsed,
            vec![VersionDeprecation {
                base: crate::QUOTE_API_BASE,
                successor_base: crate::QUOTE_API_V5_BASE,
                since: datetime!(2026-11-27 00:00 UTC),
                sunset: datetime!(2027-06-30 00:00 UTC),
            }]
        );
        assert_eq!(http_date(parsed[0].sunset), "Wed, 30 Jun 2027 00:00:00 GMT");
    }

    #[test]
    fn both_dates_and_an_empty_setting_are_read() {
        let parsed = parse_deprecations(" v4:2026-12-01:2027-06-30 ").unwrap();
        assert_eq!(parsed[0].since, datetime!(2026-12-01 00:00 UTC));
        assert!(parse_deprecations("").unwrap().is_empty());
    }

    #[test]
    fn unusable_settings_are_refused() {
        for bad in [
            "v3:2027-06-30",
            "v5:2027-06-30",
            "v4",
            "v4:30/06/2027",
            "v4:2027-06-30:2026-01-01",
            "v4:2027-06-30,v4:2028-01-01",
        ] {
            assert!(parse_deprecations(bad).is_err(), "{bad}");
        }
    }
}
