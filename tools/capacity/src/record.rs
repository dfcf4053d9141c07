//! The recording: one JSON object per line, one per request a workload made.
//!
//! ```json
//! {"service":"dynamodb","operation":"PutItem","label":"create quote",
//!  "request":{"TableName":"q2c-data","Item":{…}},"response":{}}
//! {"service":"sqs","operation":"SendMessageBatch","label":"relay","request":{…},"response":{…}}
//! {"service":"lambda","operation":"Invoke","label":"quote-api"}
//! ```
//!
//! `request` and `response` are the bodies DynamoDB's and SQS's JSON protocols carry on the
//! wire (what an SDK interceptor sees); `label` names the workload step the request belongs to
//! (the cost table groups by it; without one, by operation). A response holding `__type` is an
//! error answer.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The AWS service a request went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Dynamodb,
    Sqs,
    Lambda,
}

/// One recorded request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub service: Service,
    pub operation: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub request: Value,
    #[serde(default)]
    pub response: Value,
}

impl Record {
    /// The workload step, or the operation when the recording names none.
    pub fn step(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.operation)
    }

    /// Whether the service answered with an error.
    pub fn failed(&self) -> bool {
        self.response.get("__type").is_some()
    }
}

/// Reads a recording (JSON lines; blank lines skipped), naming the line that is not a record.
pub fn parse_lines(text: &str) -> Result<Vec<Record>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1)))
        .collect()
}
