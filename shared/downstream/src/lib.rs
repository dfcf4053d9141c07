//! The downstream order-management system over HTTP: [`HttpDownstream`] implements
//! `q2c_service::dispatch::Downstream` with reqwest (connect and total timeouts on every
//! call, `Idempotency-Key`, bearer credential fetched lazily and cached), and
//! [`TokioSleeper`] the `Sleeper` port.
//!
//! A crate of its own, not part of `q2c-local` or `q2c-aws`: the Lambda function must not
//! link SQLite, `q2c local` must not link the AWS SDK, and both dispatch over this client.
#![warn(missing_docs)]

mod credential;
mod http;

pub use credential::{BoxError, Credential, LazyToken, NoCredential};
pub use http::{HttpDownstream, HttpDownstreamConfig, TokioSleeper};
