//! `q2c dlq`: see, export, redrive and purge dead-letter queues without losing a message,
//! the same against AWS, an emulator (`--endpoint-url`) and a `q2c local` data directory.
//! The operations are `q2c_service::dlq` over the backend the flags select
//! (`q2c_aws::SqsDlqBackend` or `q2c_local::LocalDlqBackend`); this module parses flags
//! and presents.
//!
//! - [`cmd`]: the clap definition, the backend the flags select, the dispatch and the
//!   tables and lines printed.
//! - [`progress`]: progress bars and summaries.

pub mod cmd;
pub mod progress;
