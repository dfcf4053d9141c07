//! Errors of the AWS adapters. Store errors reach callers as
//! [`StoreError::Backend`] with one of these as the
//! source; SDK errors stay as `#[source]`, never flattened into strings.

use q2c_service::ports::{BoxError, StoreError};

/// Why a DynamoDB adapter call failed.
#[derive(Debug, thiserror::Error)]
pub enum DynamoError {
    /// The SDK call failed (network, throttling after retries, validation, ...).
    #[error("DynamoDB {operation} failed")]
    Sdk {
        /// The API operation.
        operation: &'static str,
        /// The SDK error.
        #[source]
        source: BoxError,
    },
    /// A stored item lacks an attribute or has it with the wrong type.
    #[error("item `{key}` has no valid `{attribute}` attribute")]
    Attribute {
        /// The item's partition key.
        key: String,
        /// The attribute.
        attribute: &'static str,
    },
    /// A `body` attribute is not the JSON of the expected resource.
    #[error("cannot encode or decode the body of item `{key}`")]
    Body {
        /// The item's partition key.
        key: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A write needs more items than one `TransactWriteItems` may hold.
    #[error("the write needs {items} items; one DynamoDB transaction holds at most 100")]
    TransactionTooLarge {
        /// Items the write needed.
        items: usize,
    },
    /// An outbox event id of the write already exists (ids are unique per change, so this
    /// is a bug upstream); nothing of the write was stored.
    #[error("an outbox event of the write already exists (transaction items {positions:?})")]
    DuplicateEvent {
        /// Positions of the refused items in the transaction.
        positions: Vec<usize>,
    },
    /// A write exceeds a stated limit (checked before any request; see
    /// `q2c_service::ports::write_limits`).
    #[error(transparent)]
    Limit(q2c_model::limits::LimitError),
    /// `BatchGetItem` kept returning unprocessed keys.
    #[error("{keys} keys still unprocessed after {attempts} BatchGetItem attempts")]
    Unprocessed {
        /// Keys left.
        keys: usize,
        /// Attempts made.
        attempts: u32,
    },
}

impl DynamoError {
    /// Wraps an SDK error of `operation`.
    pub(crate) fn sdk(
        operation: crate::metrics::Operation,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        DynamoError::Sdk {
            operation: operation.as_str(),
            source: Box::new(source),
        }
    }
}

impl From<DynamoError> for StoreError {
    fn from(error: DynamoError) -> Self {
        match error {
            DynamoError::Limit(limit) => StoreError::Limit(limit),
            // Permanent as well (a quote written before the limits with more index entries
            // than one transaction holds): refused, never "retry later".
            DynamoError::TransactionTooLarge { items } => {
                let transaction = q2c_model::limits::Limit {
                    name: "dynamodbTransactionItems",
                    value: q2c_model::limits::backend::DYNAMODB_TRANSACTION_ITEMS as u64,
                    unit: "items",
                    class: q2c_model::limits::LimitClass::Stored,
                };
                StoreError::Limit(q2c_model::limits::LimitError::new(transaction, items, "$"))
            }
            other => StoreError::Backend(Box::new(other)),
        }
    }
}

/// Why an SQS call of the publisher or the dead-letter sender failed.
#[derive(Debug, thiserror::Error)]
pub enum SqsError {
    /// The SDK call failed.
    #[error("SQS {operation} failed")]
    Sdk {
        /// The API operation.
        operation: &'static str,
        /// The SDK error.
        #[source]
        source: BoxError,
    },
    /// `GetQueueUrl` answered without a URL.
    #[error("SQS returned no URL for queue `{queue}`")]
    NoQueueUrl {
        /// The queue name asked for.
        queue: String,
    },
    /// An event body could not be serialised.
    #[error("cannot serialise the body of event `{event_id}`")]
    Body {
        /// The event.
        event_id: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
}

impl SqsError {
    /// Wraps an SDK error of `operation`.
    pub(crate) fn sdk(
        operation: crate::metrics::Operation,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        SqsError::Sdk {
            operation: operation.as_str(),
            source: Box::new(source),
        }
    }
}
