//! The `q2c` command line: argument parsing and presentation. What the commands run lives in
//! the library crates: `q2c local` is `q2c_embedded` (the whole system in one process on the
//! embedded store), `q2c downstream` is `q2c_downstream::fake`, `q2c dlq` is
//! `q2c_service::dlq` over `q2c_local` or `q2c_aws`.
//!
//! # Layout
//! - [`cli`]: the top: the clap definition and the dispatch to each command; each command's
//!   module defines its own flags and never names `cli`.
//! - [`catalog_cmd`]: `q2c catalog import|diff|price-change`: load a TMF620 export into the
//!   local catalog (or a DynamoDB table), change a price.
//! - [`dlq`]: `q2c dlq` — inspect, export, redrive and purge dead-letter queues (flags and
//!   presentation; the operations are `q2c_service::dlq`).
//! - [`downstream_cmd`]: `q2c downstream`, the fake order-management system with fault knobs.
//! - [`listen`]: `q2c listen`, a hub subscriber printing each event it receives.
//! - [`local_cmd`]: `q2c local`: its flags, turned into a `q2c_embedded::local::LocalConfig`,
//!   and the banner.
//! - [`queue_cmd`]: `q2c queue tail|send|create` on a data directory's embedded queues, and
//!   the price change of `q2c catalog price-change`.
//! - [`token_cmd`]: `q2c token`, a development bearer token.
//! - Leaves every command may use: [`aws`] (the SDK configuration from the AWS flags),
//!   [`flags`] (flag value parsers, the shared heading), [`human`] (rates, sizes, the
//!   progress-bar style, broken pipes), [`secret`] (the local token-signing secret),
//!   [`telemetry`] (logging setup).
#![warn(missing_docs)]

pub mod aws;
pub mod catalog_cmd;
pub mod cli;
pub mod dlq;
pub mod downstream_cmd;
pub mod flags;
pub mod human;
pub mod listen;
pub mod local_cmd;
pub mod queue_cmd;
pub mod secret;
pub mod telemetry;
pub mod token_cmd;
