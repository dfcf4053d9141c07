//! The `q2c` command line as a library, so tests can start `q2c local` in-process.
//!
//! # Layout
//! - [`catalog_cmd`]: `q2c catalog import|diff`: load a TMF620 export into the local catalog.
//! - [`cli`]: the clap definition and command dispatch.
//! - [`data_dir`]: where the data directory is (`--data-dir`, `Q2C_DATA_DIR`, a per-user
//!   default) and refusing one without a database.
//! - [`dlq`]: `q2c dlq` — inspect, export, redrive and purge dead-letter queues (flags and
//!   presentation; the operations are `q2c_service::dlq`).
//! - [`human`]: rates and sizes for people, the progress-bar style.
//! - [`flags`]: flag value parsers shared by commands.
//! - [`downstream`]: `q2c downstream`, a fake order-management system with fault knobs.
//! - [`consumers`]: the queue consumers of `q2c local` (price fan-out, hub delivery, order
//!   dispatch).
//! - [`listen`]: `q2c listen`, a hub subscriber printing each event it receives.
//! - [`local`]: `q2c local` — the whole system on SQLite, served over HTTP.
//! - [`relay_loop`]: the background outbox relay of `q2c local`; [`relay_wake`] wakes it
//!   after quote writes.
//! - [`queue_cmd`]: `q2c queue tail|send` and `q2c catalog price-change` on a data
//!   directory's embedded queues.
//! - [`secret`]: the local token-signing secret.
//! - [`telemetry`]: logging setup.
#![warn(missing_docs)]

pub mod catalog_cmd;
pub mod cli;
pub mod consumers;
pub mod data_dir;
pub mod dlq;
pub mod downstream;
pub mod flags;
pub mod human;
pub mod listen;
pub mod local;
pub mod queue_cmd;
pub mod relay_loop;
pub mod relay_wake;
pub mod secret;
pub mod server;
pub mod telemetry;
