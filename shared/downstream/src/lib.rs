//! The downstream order-management system over HTTP: [`HttpDownstream`] implements
//! `q2c_service::dispatch::Downstream` with reqwest (connect and total timeouts on every
//! call, `Idempotency-Key`, bearer credential fetched lazily and cached), and
//! [`TokioSleeper`] the `Sleeper` port.
//!
//! A crate of its own, not part of `q2c-local` or `q2c-aws`: the Lambda function must not
//! link SQLite, `q2c local` must not link the AWS SDK, and both dispatch over this client.
//!
//! With the `fake` feature, the `fake` module is the other end: a fake order-management system with
//! fault knobs (`q2c downstream`, the in-process one of `q2c local`, the tests of the order
//! dispatch). A feature rather than a module of `q2c-embedded`: it speaks the same TMF622
//! contract as the client, the order-dispatch tests need it without the SQLite system, and
//! the Lambda function, built without the feature, does not compile axum.
#![warn(missing_docs)]

mod credential;
#[cfg(feature = "fake")]
pub mod fake;
mod http;

pub use credential::{BoxError, Credential, DEFAULT_CREDENTIAL_TTL, LazyToken, NoCredential};
pub use http::{HttpDownstream, HttpDownstreamConfig, TokioSleeper};
