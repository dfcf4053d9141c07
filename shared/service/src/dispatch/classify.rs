//! What a downstream answer means for the order: dispatched, a duplicate of an earlier
//! dispatch (also dispatched), a permanent refusal (dead-letter) or a transient failure
//! (retry).

use serde_json::Value;

use super::ports::DownstreamAnswer;

/// The meaning of one downstream answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classification {
    /// 2xx: order management has the order.
    Dispatched {
        /// The downstream's id of the order, when its body named one.
        downstream_id: Option<String>,
    },
    /// 409, or a refusal naming our `externalId`: an earlier POST of ours got through.
    Duplicate {
        /// The downstream's id of the order, when its body named one.
        downstream_id: Option<String>,
    },
    /// 401/403: the credential was refused. It may have been rotated (the downstream
    /// already refetched it once): retried a few deliveries
    /// ([`AUTH_REFUSALS_BEFORE_PERMANENT`]) before it counts as permanent.
    Unauthorized {
        /// The downstream's error.
        reason: String,
    },
    /// Any other 4xx: retrying the same request cannot help.
    Permanent {
        /// The downstream's error, for `failureReason`.
        reason: String,
    },
    /// 429, 5xx, timeouts, connection failures, anything unexpected: retrying may help.
    Transient {
        /// What happened, for logs and the order's `last_error`.
        reason: String,
    },
}

impl Classification {
    /// Whether the downstream answered as a healthy service would (for the circuit breaker):
    /// everything except transient failures.
    pub fn downstream_healthy(&self) -> bool {
        !matches!(self, Classification::Transient { .. })
    }
}

/// The delivery of an order message on which a refused credential (401/403) counts as a
/// permanent refusal; before it the message is retried on the redelivery schedule (a
/// credential rotated in SSM while the downstream already refuses the old one).
pub const AUTH_REFUSALS_BEFORE_PERMANENT: u32 = 3;

/// Most characters of a downstream body kept in a reason (DLQ attributes are small).
const REASON_BODY_CHARS: usize = 512;

/// Classifies an HTTP answer of the downstream to a POST of the order whose `externalId` is
/// `external_id`.
pub fn classify(status: u16, body: &str, external_id: &str) -> Classification {
    let json: Option<Value> = serde_json::from_str(body).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|j| j.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let downstream_id = field("id");
    match status {
        200..=299 => Classification::Dispatched { downstream_id },
        409 => Classification::Duplicate { downstream_id },
        401 | 403 => Classification::Unauthorized {
            reason: format!(
                "order management refused the credential: {status} {}",
                reason_text(body)
            ),
        },
        // Some order systems refuse a repeated externalId with a 400/422 that echoes it.
        400..=499 if status != 429 && field("externalId").as_deref() == Some(external_id) => {
            Classification::Duplicate { downstream_id }
        }
        400..=499 if status != 429 => Classification::Permanent {
            reason: format!(
                "order management refused the order: {status} {}",
                reason_text(body)
            ),
        },
        _ => Classification::Transient {
            reason: format!("order management answered {status} {}", reason_text(body)),
        },
    }
}

/// Classifies any answer, including the ones without an HTTP status.
pub fn classify_answer(answer: &DownstreamAnswer, external_id: &str) -> Classification {
    match answer {
        DownstreamAnswer::Http { status, body } => classify(*status, body, external_id),
        DownstreamAnswer::Timeout(what) => Classification::Transient {
            reason: format!("order management timed out: {what}"),
        },
        DownstreamAnswer::Unreachable(what) => Classification::Transient {
            reason: format!("order management unreachable: {what}"),
        },
    }
}

/// The TMF630 `reason`/`message` of an error body when present, else the body, shortened.
fn reason_text(body: &str) -> String {
    let json: Option<Value> = serde_json::from_str(body).ok();
    let text = json
        .as_ref()
        .and_then(|j| {
            let reason = j.get("reason").and_then(Value::as_str);
            let message = j.get("message").and_then(Value::as_str);
            match (reason, message) {
                (Some(r), Some(m)) => Some(format!("{r}: {m}")),
                (Some(r), None) => Some(r.to_owned()),
                (None, Some(m)) => Some(m.to_owned()),
                (None, None) => None,
            }
        })
        .unwrap_or_else(|| body.to_owned());
    text.chars().take(REASON_BODY_CHARS).collect()
}
