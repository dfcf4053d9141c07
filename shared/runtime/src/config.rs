//! Typed configuration from the environment, read once at init.
//!
//! Functions declare a `Config` struct and fill it with [`required`] and [`optional`]; the
//! first missing variable fails the init with a [`ConfigError`] that names it, which
//! Lambda reports as an init error (and the function never takes traffic).

use std::fmt::Display;
use std::str::FromStr;

/// A variable is missing or malformed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("environment variable {0} is required but not set")]
    Missing(&'static str),
    /// A variable is set but does not parse.
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Why it does not parse.
        reason: String,
    },
}

/// The value of `name`, which must be set and non-empty.
///
/// # Errors
/// [`ConfigError::Missing`] naming the variable.
pub fn required(name: &'static str) -> Result<String, ConfigError> {
    optional(name).ok_or(ConfigError::Missing(name))
}

/// The value of `name` when set and non-empty.
pub fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The value of `name` parsed as `T`, or `default` when unset.
///
/// # Errors
/// [`ConfigError::Invalid`] when it is set but does not parse.
pub fn parsed_or<T>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    match optional(name) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse()
            .map_err(|e: T::Err| ConfigError::Invalid {
                name,
                reason: e.to_string(),
            }),
    }
}

/// What Lambda tells every function about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaEnv {
    /// `AWS_LAMBDA_FUNCTION_NAME` (`local` outside Lambda): the metrics' `function` dimension.
    pub function_name: String,
    /// `AWS_LAMBDA_FUNCTION_VERSION`, e.g. `$LATEST`.
    pub function_version: Option<String>,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` in MB.
    pub memory_mb: Option<u32>,
}

impl LambdaEnv {
    /// Reads the variables Lambda sets; none is required, so unit tests work without them.
    pub fn from_env() -> Self {
        LambdaEnv {
            function_name: optional("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|| "local".into()),
            function_version: optional("AWS_LAMBDA_FUNCTION_VERSION"),
            memory_mb: optional("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").and_then(|m| m.parse().ok()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_is_named() {
        let error = required("Q2C_RUNTIME_TEST_SURELY_UNSET").unwrap_err();
        assert_eq!(error, ConfigError::Missing("Q2C_RUNTIME_TEST_SURELY_UNSET"));
        assert!(error.to_string().contains("Q2C_RUNTIME_TEST_SURELY_UNSET"));
    }

    #[test]
    fn unset_parsed_values_take_the_default() {
        assert_eq!(parsed_or("Q2C_RUNTIME_TEST_SURELY_UNSET", 7u32), Ok(7));
    }
}
