//! The stack rehearsal: `infra/template.yaml` is transformed offline (aws-sam-translator)
//! and created as a CloudFormation stack in a moto server of its own; the five built
//! bootstraps run under fake Lambda Runtime APIs against **that stack's** resources,
//! configured only from the stack's outputs and the functions' environment as the stack
//! sets it, with their roles' credentials while moto enforces IAM; the harness plays the
//! event source mappings as the stack declares them and drives a quote lifecycle, a price
//! change and an order dispatch end to end. Any name, ARN, environment variable or
//! permission the code needs and the template does not give fails it, naming the cause.
//!
//! # Layout
//! - [`stack`]: the template as a stack ([`Stack::deploy`], [`transform`]): the module that
//!   reads the template, for any test that wants the template's resources.
//! - [`moto`]: the rehearsal's moto server (`moto_stack.py serve`).
//! - [`runtime_api`]: the fake Lambda Runtime API.
//! - [`function`]: a bootstrap run as Lambda runs it ([`FunctionProcess`]).
//! - [`mappings`]: the SQS and stream event source mappings, played.
//! - [`oms`]: a fake TMF622 order management on HTTPS.
//! - [`rehearsal`]: the scenario ([`Rehearsal`]).
//! - [`workload`]: many quote lifecycles across tenants on the same stack, for the capacity
//!   model (`tools/capacity`).
//!
//! `moto_stack.py` (next to this crate) does the AWS side: the transform, moto's patches
//! (IAM by resource for DynamoDB, Streams and SSM), the deploy and its manifest.

mod freshness;
pub mod function;
pub mod mappings;
pub mod moto;
pub mod oms;
pub mod rehearsal;
pub mod runtime_api;
pub mod stack;

pub use function::{Bootstraps, FunctionProcess, HarnessEnv, InvokeError};
pub use moto::MotoServer;
pub use rehearsal::workload;
pub use rehearsal::{Rehearsal, Report};
pub use stack::{DeployOptions, Edit, FunctionSpec, MappingSpec, Stack, transform};

/// Why the rehearsal (or its setup) failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RehearsalError {
    /// The harness's own prerequisites (Python, moto, the built bootstraps, ports).
    #[error("setup: {0}")]
    Setup(String),
    /// The template did not transform or the stack was not created.
    #[error("deploy: {0}")]
    Deploy(String),
    /// The stack lacks something the harness looks up (an output, a function, a queue).
    #[error("the stack does not have what is needed: {0}")]
    Template(String),
    /// A step of the scenario failed.
    #[error(
        "{step}: {cause}{}{}",
        lines("its warnings and errors", logs),
        lines("moto refused or did not find", refused)
    )]
    Step {
        /// What was being done (or which function failed).
        step: String,
        /// What went wrong.
        cause: String,
        /// The failing function's warnings and errors, if a function failed.
        logs: Vec<String>,
        /// What moto refused (IAM) or did not find since the rehearsal started.
        refused: Vec<String>,
    },
}

fn lines(title: &str, lines: &[String]) -> String {
    if lines.is_empty() {
        String::new()
    } else {
        format!("\n  {title}:\n    {}", lines.join("\n    "))
    }
}
