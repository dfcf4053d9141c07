//! q2c-template-lint: checks q2c's SAM template (`infra/template.yaml`) for the rules that keep
//! messages safe, data encrypted and the stack operable, which cfn-lint and `sam validate
//! --lint` do not know: dead-letter queues, receive counts, visibility timeouts against
//! consumer timeouts, partial batch failures, encryption with the customer-managed key, IAM
//! actions without wildcards, retain policies, alarm coverage with runbook links, metric names
//! that exist (the code's [`q2c_runtime::Metric::ALL`] or AWS's), CORS headers, and safe
//! deployments, `RecursiveLoop` only on functions that loop through a queue, continuation
//! queues mapped without a batching window, and the single table's index projections the
//! design needs (the outbox's `KEYS_ONLY`). It also covers what the stack rehearsal cannot
//! create in moto (queue policies, alarms, the HTTP API, CodeDeploy).
//!
//! Short-form (`!Ref`, `!GetAtt`, `!Sub`, ...) and long-form (`Ref`, `Fn::GetAtt`, ...)
//! intrinsics are both understood; numbers given as `!Ref Parameter` resolve to the
//! parameter's `Default`.
//!
//! # Layout
//! - [`template`]: loading and normalising a template, resolving refs and parameter defaults.
//! - `rules`: one module per family of rules; [`Rule`] names each rule, [`lint`] runs them all.
//!
//! # Examples
//! ```
//! let template = q2c_template_lint::Template::parse(
//!     "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {}\n",
//! )?;
//! let violations = q2c_template_lint::lint(&template);
//! assert!(violations.iter().any(|v| v.rule == q2c_template_lint::Rule::SqsRedrivePolicy));
//! # Ok::<(), q2c_template_lint::LoadTemplateError>(())
//! ```

mod rules;
pub mod template;
#[cfg(test)]
mod testing;

use std::fmt;

pub use rules::alarms::runbook_anchor;
pub use template::{LoadTemplateError, Template};

/// A rule of the checker. Its [`Rule::name`] is what the CLI prints and what the broken
/// fixtures in `tests/fixtures/broken-<name>.yaml` are named after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// Every SQS queue that is not itself a DLQ or failure destination redrives to a DLQ.
    SqsRedrivePolicy,
    /// Every `RedrivePolicy.maxReceiveCount` is at least [`MIN_RECEIVE_COUNT`].
    SqsMaxReceiveCount,
    /// Every SQS-triggered function's queue has `VisibilityTimeout >= 6 x Timeout`.
    SqsVisibilityTimeout,
    /// A consumer's `MAX_RECEIVE_COUNT` is its queue's `maxReceiveCount`.
    ConsumerMaxReceiveCount,
    /// Every SQS/DynamoDB/Kinesis event source mapping reports partial batch failures.
    EsmReportBatchItemFailures,
    /// Queues, tables and topics are encrypted with a customer-managed KMS key.
    EncryptionAtRest,
    /// No IAM statement allows `*` or `service:*` (nor uses `NotAction`).
    IamNoWildcardAction,
    /// Queues, DLQs and log groups are retained on delete and replacement; tables are too,
    /// and have deletion protection.
    RetainPolicies,
    /// Every queue, function, table index and HTTP API has its alarms.
    AlarmCoverage,
    /// Every alarm links its runbook step and notifies someone.
    AlarmRunbook,
    /// Every alarm and dashboard metric is one the code emits or AWS publishes.
    MetricNames,
    /// HTTP APIs allow the request headers and expose the response headers browsers need,
    /// and no origin unless configured.
    CorsHeaders,
    /// Every function deploys through an alias with a canary rolled back by alarms.
    SafeDeployment,
    /// The outbox relay (a DynamoDB-stream-fed function) may send to the dead-letter queue of
    /// every queue it may send to: it parks there what it cannot publish.
    OutboxParking,
    /// A function consuming a queue it also sends to sets `RecursiveLoop: Allow`; no other
    /// function does.
    RecursiveLoop,
    /// Every continuation queue (`…-continuations`) is mapped, without a batching window.
    ContinuationQueueMapped,
    /// The single table's indexes have the keys and projections the design needs (the
    /// outbox's index `KEYS_ONLY`).
    IndexProjections,
}

/// The smallest `maxReceiveCount` accepted: fewer receives lets a transient failure of a good
/// message (a throttle, a cold dependency) push it into the DLQ.
pub const MIN_RECEIVE_COUNT: f64 = 5.0;

/// How many consumer timeouts a queue's visibility timeout must cover, as AWS recommends for
/// Lambda event sources, so retries of a slow batch do not redeliver messages still in flight.
pub const VISIBILITY_TIMEOUT_FACTOR: f64 = 6.0;

impl Rule {
    /// Every rule, in the order [`lint`] runs them.
    pub const ALL: [Rule; 17] = [
        Rule::SqsRedrivePolicy,
        Rule::SqsMaxReceiveCount,
        Rule::SqsVisibilityTimeout,
        Rule::ConsumerMaxReceiveCount,
        Rule::EsmReportBatchItemFailures,
        Rule::EncryptionAtRest,
        Rule::IamNoWildcardAction,
        Rule::RetainPolicies,
        Rule::AlarmCoverage,
        Rule::AlarmRunbook,
        Rule::MetricNames,
        Rule::CorsHeaders,
        Rule::SafeDeployment,
        Rule::OutboxParking,
        Rule::RecursiveLoop,
        Rule::ContinuationQueueMapped,
        Rule::IndexProjections,
    ];

    /// The rule's stable kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Rule::SqsRedrivePolicy => "sqs-redrive-policy",
            Rule::SqsMaxReceiveCount => "sqs-max-receive-count",
            Rule::SqsVisibilityTimeout => "sqs-visibility-timeout",
            Rule::ConsumerMaxReceiveCount => "consumer-max-receive-count",
            Rule::EsmReportBatchItemFailures => "esm-report-batch-item-failures",
            Rule::EncryptionAtRest => "encryption-at-rest",
            Rule::IamNoWildcardAction => "iam-no-wildcard-action",
            Rule::RetainPolicies => "retain-policies",
            Rule::AlarmCoverage => "alarm-coverage",
            Rule::AlarmRunbook => "alarm-runbook",
            Rule::MetricNames => "metric-names",
            Rule::CorsHeaders => "cors-headers",
            Rule::SafeDeployment => "safe-deployment",
            Rule::OutboxParking => "outbox-parking",
            Rule::RecursiveLoop => "recursive-loop",
            Rule::ContinuationQueueMapped => "continuation-queue-mapped",
            Rule::IndexProjections => "index-projections",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One broken rule, naming the resource that breaks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule broken.
    pub rule: Rule,
    /// The logical id of the offending resource (with the event or statement where useful).
    pub resource: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl Violation {
    fn new(rule: Rule, resource: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            rule,
            resource: resource.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.rule, self.resource, self.message)
    }
}

/// Runs every rule over `template`; an empty result means the template passes.
pub fn lint(template: &Template) -> Vec<Violation> {
    let mut violations = Vec::new();
    violations.extend(rules::redrive::check(template));
    violations.extend(rules::visibility::check(template));
    violations.extend(rules::receives::check(template));
    violations.extend(rules::batch::check(template));
    violations.extend(rules::encryption::check(template));
    violations.extend(rules::iam::check(template));
    violations.extend(rules::retain::check(template));
    violations.extend(rules::alarms::check_coverage(template));
    violations.extend(rules::alarms::check_runbooks(template));
    violations.extend(rules::metrics::check(template));
    violations.extend(rules::cors::check(template));
    violations.extend(rules::deploy::check(template));
    violations.extend(rules::parking::check(template));
    violations.extend(rules::loops::check_recursive_loop(template));
    violations.extend(rules::loops::check_continuations_mapped(template));
    violations.extend(rules::indexes::check(template));
    violations.sort_by_key(|v| v.rule);
    violations
}
