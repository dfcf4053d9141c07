//! Lambda glue shared by the q2c functions, so each `main` stays a few lines of wiring:
//!
//! - [`config`]: read the environment once into typed structs; a missing variable fails
//!   init and names the variable ([`ConfigError`]).
//! - [`logging`]: [`init_tracing`] (JSON when `AWS_LAMBDA_LOG_FORMAT=json`, `RUST_LOG`
//!   first).
//! - [`sdk`]: the shared AWS SDK configuration, loaded once per container
//!   ([`sdk_config`]); it honours `AWS_ENDPOINT_URL`, so tests point the functions at moto.
//! - [`secret`]: [`LazySecret`], fetched on first use and cached (SSM `GetParameter` with
//!   decryption behind the `ssm` feature), never during init.
//! - [`metrics`]: [`Metrics`], CloudWatch Embedded Metric Format counters flushed as one
//!   JSON line per invocation.
//! - [`bootstrap`]: the above put together by every `main` ([`init`]), an [`Invocation`]
//!   around each event, and the deadline of a batch ([`deadline_before`]).
#![warn(missing_docs)]

pub mod bootstrap;
pub mod config;
pub mod logging;
pub mod metrics;
pub mod sdk;
pub mod secret;

pub use bootstrap::{Invocation, deadline_before, init};
pub use config::{ConfigError, LambdaEnv, optional, parsed_or, required};
pub use logging::init_tracing;
pub use metrics::{Metric, Metrics, Unit};
pub use sdk::sdk_config;
pub use secret::{LazySecret, SecretError};
