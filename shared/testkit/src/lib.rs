//! Test machinery shared by the workspace's tests, examples and benchmarks (not published):
//!
//! - [`moto`]: the emulator's endpoint (`Q2C_TEST_AWS_ENDPOINT`) and SDK clients for it,
//!   unique names, [`require_moto!`].
//! - [`template`]: the queues and the table `infra/template.yaml` declares, read from the
//!   template itself, so that tests create what production deploys.
//! - [`sqs`]: creating queues (one, a source with its DLQ, or the template's), receiving,
//!   draining and counting them.
//! - [`dynamo`]: creating the template's table; an item as a stream image.
//! - [`lambda`]: the events Lambda builds (SQS, DynamoDB stream) and [`lambda::drain`], which
//!   plays the SQS event source mapping against a handler.
//! - [`tmf637`]: the official TMF637 v4 schemas, for validating product events and products.
//! - [`official`]: the official TM Forum documents (TMF648, TMF622, TMF620 v4 and v5, TMF688
//!   v4), verbatim and checksummed, as validators that resolve v5 discriminators by `@type`.
//! - [`recorder`]: an SDK interceptor recording every DynamoDB and SQS request (operation,
//!   table or queue, partition keys, sizes, instants) and the critical path of what it recorded.
//! - [`listener`]: a loopback HTTP listener recording the POSTs a hub subscriber receives,
//!   and [`listener::serve`] for any other axum app on loopback.
//! - [`poll`]: [`poll::eventually`], waiting for what a background task does.
//! - [`skip`]: skipping a test whose server or tool is missing with a printed reason
//!   ([`skip_unless!`]), failing instead under `Q2C_REQUIRE_AWS=1`.
//!
//! Every helper panics on failure: it fails the test that called it, with the reason.
#![warn(missing_docs)]

pub mod dynamo;
pub mod lambda;
pub mod listener;
pub mod moto;
pub mod official;
pub mod offline;
pub mod poll;
pub mod recorder;
pub mod skip;
pub mod sqs;
pub mod template;
pub mod tmf637;
