//! Errors of the use-cases, one variant per case a caller acts on. The HTTP edge maps each
//! to a TMF630 body and status in one place (`q2c-api`).

use q2c_model::limits::LimitError;
use q2c_model::tmf::QuoteState;
use time::OffsetDateTime;

use crate::context::Scope;
use crate::store::StoreError;

/// What can go wrong in a use-case.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input is malformed or a field is invalid (HTTP 400).
    #[error("invalid input{}: {message}", path.as_deref().map(|p| format!(" at {p}")).unwrap_or_default())]
    InvalidInput {
        /// JSON path of the field at fault, e.g. `quoteItem[0].quantity`.
        path: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A quote item's requested product does not fit its offering, e.g. a characteristic the
    /// offering does not define or a value it does not allow (HTTP 400, with the rule's own
    /// code such as `UNKNOWN_CHARACTERISTIC`).
    #[error("{message}")]
    InvalidConfiguration {
        /// Stable machine code, e.g. `CHARACTERISTIC_VALUE_NOT_ALLOWED`.
        code: &'static str,
        /// Explanation naming the offering and the characteristic.
        message: String,
        /// JSON path at fault, e.g. `quoteItem[0].product.productCharacteristic[1].value`.
        path: String,
    },
    /// A server-owned field was sent by the client (HTTP 400).
    #[error("field `{field}` is set by the server and may not be sent")]
    ForbiddenField {
        /// The field, e.g. `quoteTotalPrice`.
        field: String,
    },
    /// The token lacks a scope this action needs (HTTP 403).
    #[error("missing scope {scope}")]
    MissingScope {
        /// The scope needed.
        scope: Scope,
    },
    /// No such resource for this tenant (HTTP 404). Another tenant's ids look the same.
    #[error("{resource} {id} not found")]
    NotFound {
        /// Resource kind, e.g. `Quote`.
        resource: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The requested state change is not allowed from the current state (HTTP 409).
    #[error(
        "illegal state transition from `{from}` to `{to}`: from `{from}` a quote moves to {allowed}"
    )]
    IllegalTransition {
        /// Current state (wire name).
        from: String,
        /// Requested state (wire name).
        to: String,
        /// The states allowed next, for the message: `` `approved`, `cancelled` `` (or
        /// `none: it is final`).
        allowed: String,
    },
    /// The quote's validity ended before acceptance (HTTP 409).
    #[error(
        "quote expired at {} (its validFor.endDateTime): it can no longer be accepted; \
         create a new quote",
        rfc3339(.valid_until)
    )]
    QuoteExpired {
        /// End of the quote's validFor.
        valid_until: OffsetDateTime,
    },
    /// The quote cannot be changed in its state, except for its state (HTTP 409).
    #[error(
        "quote in state `{state}` can no longer be updated: only its state may change (to {})",
        .state.next_states_text()
    )]
    NotUpdatable {
        /// Its state.
        state: QuoteState,
    },
    /// Another conflict with the current state, e.g. deleting an accepted quote (HTTP 409).
    #[error("{message}")]
    Conflict {
        /// Explanation.
        message: String,
    },
    /// `If-Match` named a version that is no longer current (HTTP 412).
    #[error(
        "quote was modified: If-Match names version {expected}, the current version is {current} (ETag \"{current}\")"
    )]
    VersionMismatch {
        /// Version the client sent.
        expected: u64,
        /// The current version.
        current: u64,
    },
    /// A write without `If-Match` lost the version race on every attempt (HTTP 503): the
    /// resource is being changed faster than a read-modify-write completes.
    #[error(
        "{resource} {id} kept changing while this request applied its change ({attempts} attempts lost to concurrent writers); retry, or send If-Match"
    )]
    Contended {
        /// Resource kind, e.g. `Quote`.
        resource: &'static str,
        /// Its id.
        id: String,
        /// Attempts made.
        attempts: u32,
    },
    /// A business rule refused the request, e.g. an unsellable offering (HTTP 422).
    #[error("{message}")]
    BusinessRule {
        /// Stable machine code, e.g. `OFFERING_NOT_SELLABLE`.
        code: &'static str,
        /// Explanation naming what is at fault.
        message: String,
        /// JSON path at fault, where there is one.
        path: Option<String>,
    },
    /// A stated limit is exceeded (`q2c_model::limits`): 413 for a payload, 400 for the shape
    /// of a request, 422 for what it would store. The error names the limit, its value, what
    /// was received and the JSON path.
    #[error(transparent)]
    Limit(LimitError),
    /// The store failed (HTTP 503); the details are logged, not shown to the client.
    #[error("store unavailable")]
    Unavailable(#[source] StoreError),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Limit(limit) => ServiceError::Limit(limit),
            other => ServiceError::Unavailable(other),
        }
    }
}

impl From<LimitError> for ServiceError {
    fn from(e: LimitError) -> Self {
        ServiceError::Limit(e)
    }
}

/// `at` as the wire writes it (RFC 3339), for messages.
fn rfc3339(at: &OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

/// What a store `found` for `id`, or `NotFound` of `resource` (also for another tenant's id:
/// stores only look in the caller's tenant).
pub(crate) fn found<T>(
    found: Option<T>,
    resource: &'static str,
    id: &str,
) -> Result<T, ServiceError> {
    found.ok_or_else(|| ServiceError::NotFound {
        resource,
        id: id.to_owned(),
    })
}

/// A quote or order that cannot be serialised (an amount beyond 15 significant digits):
/// `AMOUNT_PRECISION` (HTTP 422).
pub(crate) fn serialisation_error(e: serde_json::Error) -> ServiceError {
    ServiceError::BusinessRule {
        code: "AMOUNT_PRECISION",
        message: format!("the quote cannot be represented: {e}"),
        path: None,
    }
}

/// `error` and its causes on one line, `: `-separated, for logs and reports of adapters
/// whose errors hide their cause in `source()` (reqwest's message alone names no cause).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}
