//! The whole q2c system in one process on the embedded SQLite store — the same router and
//! use-cases the Lambda functions run, with local adapters (`q2c-local`): what `q2c local`
//! serves, as a library, so tests start it in-process without the command line (no clap,
//! no AWS SDK here; the `q2c` crate parses the flags into a [`local::LocalConfig`]).
//!
//! # Layout
//! - [`local`]: the wiring: [`local::LocalConfig`], [`local::start`] (store, seeded catalog,
//!   router, bound listener) and [`local::LocalApp::serve`]; development tokens.
//! - [`consumers`]: the queue consumers (price fan-out, hub delivery, order dispatch).
//! - [`relay_loop`]: the background outbox relay; [`relay_wake`] wakes it after quote writes.
//! - [`server`]: the HTTP/1.1 server with slow- and idle-client limits.
//! - [`catalog`]: loading a TMF620 export into a data directory's catalog.
//! - [`data_dir`]: the data directory (where it is, its database, refusing one without).
//! - [`queues`]: a hub subscriber's queue in a data directory.
//!
//! The fake order management the consumers dispatch to by default is
//! `q2c_downstream::fake` (feature `fake`).
#![warn(missing_docs)]

pub mod catalog;
pub mod consumers;
pub mod data_dir;
pub mod local;
pub mod queues;
pub mod relay_loop;
pub mod relay_wake;
pub mod server;
