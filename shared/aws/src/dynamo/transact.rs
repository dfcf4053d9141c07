//! Single-item writes and reads (`GetItem`, `PutItem`, `UpdateItem`, `DeleteItem`) and
//! `TransactWriteItems`, each counted and instrumented. A failed condition is an outcome
//! (`Ok(false)` or [`TransactError::Conditions`]), not an error.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnConsumedCapacity, ReturnValue, TransactWriteItem,
};

use super::DynamoStore;
use super::item::Item;
use crate::error::DynamoError;
use crate::metrics::Operation;

/// Most items in one `TransactWriteItems` (a DynamoDB limit).
pub(crate) const TRANSACTION_MAX_ITEMS: usize = 100;

/// A condition or update expression with its placeholders.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expr {
    pub text: String,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

impl Expr {
    /// An expression without placeholders (yet).
    pub fn new(text: impl Into<String>) -> Self {
        Expr {
            text: text.into(),
            ..Expr::default()
        }
    }

    /// Adds a value placeholder.
    pub fn value(mut self, name: &str, value: AttributeValue) -> Self {
        self.values.insert(name.to_owned(), value);
        self
    }

    /// Adds a name placeholder.
    pub fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names
            .insert(placeholder.to_owned(), attribute.to_owned());
        self
    }

    /// The expression, `None` when empty (no condition).
    fn expression(&self) -> Option<String> {
        (!self.text.is_empty()).then(|| self.text.clone())
    }

    pub(crate) fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// Why a transaction did not commit.
#[derive(Debug)]
pub(crate) enum TransactError {
    /// Conditions failed (or a concurrent transaction conflicted) on the items at these
    /// positions.
    Conditions(Vec<usize>),
    /// Anything else.
    Other(DynamoError),
}

impl From<DynamoError> for TransactError {
    fn from(error: DynamoError) -> Self {
        TransactError::Other(error)
    }
}

impl DynamoStore {
    /// `GetItem` (strongly consistent when `consistent`).
    #[tracing::instrument(skip_all, fields(table = %self.table), err)]
    pub(crate) async fn get_item(
        &self,
        key: Item,
        consistent: bool,
    ) -> Result<Option<Item>, DynamoError> {
        self.requests.record(Operation::GetItem);
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .set_key(Some(key))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(|e| DynamoError::sdk(Operation::GetItem, e))?;
        self.record_capacity(Operation::GetItem, output.consumed_capacity());
        Ok(output.item)
    }

    /// `PutItem`; `Ok(false)` when `condition` failed.
    #[tracing::instrument(skip_all, fields(table = %self.table), err)]
    pub(crate) async fn put_item(
        &self,
        item: Item,
        condition: Option<Expr>,
    ) -> Result<bool, DynamoError> {
        self.requests.record(Operation::PutItem);
        let condition = condition.unwrap_or_default();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .set_item(Some(item))
            .set_condition_expression(condition.expression())
            .set_expression_attribute_names(condition.names())
            .set_expression_attribute_values(condition.values())
            .send()
            .await;
        let Some(output) = applied(Operation::PutItem, result)? else {
            return Ok(false);
        };
        self.record_capacity(Operation::PutItem, output.consumed_capacity());
        Ok(true)
    }

    /// `UpdateItem`; `Ok(false)` when `condition` failed.
    #[tracing::instrument(skip_all, fields(table = %self.table), err)]
    pub(crate) async fn update_item(
        &self,
        key: Item,
        update: Expr,
        condition: &str,
    ) -> Result<bool, DynamoError> {
        self.requests.record(Operation::UpdateItem);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .set_key(Some(key))
            .update_expression(&update.text)
            .condition_expression(condition)
            .set_expression_attribute_names(update.names())
            .set_expression_attribute_values(update.values())
            .send()
            .await;
        let Some(output) = applied(Operation::UpdateItem, result)? else {
            return Ok(false);
        };
        self.record_capacity(Operation::UpdateItem, output.consumed_capacity());
        Ok(true)
    }

    /// `DeleteItem` returning the old item; `Ok(None)` when there was none or `condition`
    /// failed.
    #[tracing::instrument(skip_all, fields(table = %self.table), err)]
    pub(crate) async fn delete_item(
        &self,
        key: Item,
        condition: Option<Expr>,
    ) -> Result<Option<Item>, DynamoError> {
        self.requests.record(Operation::DeleteItem);
        let condition = condition.unwrap_or_default();
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .set_key(Some(key))
            .return_values(ReturnValue::AllOld)
            .set_condition_expression(condition.expression())
            .set_expression_attribute_names(condition.names())
            .set_expression_attribute_values(condition.values())
            .send()
            .await;
        let Some(output) = applied(Operation::DeleteItem, result)? else {
            return Ok(None);
        };
        self.record_capacity(Operation::DeleteItem, output.consumed_capacity());
        Ok(output.attributes.filter(|a| !a.is_empty()))
    }

    /// `TransactWriteItems`: all or nothing. Checks the 100-item limit before sending; a
    /// cancellation reports the positions whose condition failed.
    #[tracing::instrument(skip_all, fields(table = %self.table, items = items.len()), err(Debug))]
    pub(crate) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<(), TransactError> {
        if items.len() > TRANSACTION_MAX_ITEMS {
            return Err(DynamoError::TransactionTooLarge { items: items.len() }.into());
        }
        self.requests.record(Operation::TransactWriteItems);
        let result = self
            .client
            .transact_write_items()
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .set_transact_items(Some(items))
            .send()
            .await;
        let error = match result {
            Ok(output) => {
                self.record_capacity(Operation::TransactWriteItems, output.consumed_capacity());
                return Ok(());
            }
            Err(error) => error,
        };
        let failed: Vec<usize> = error
            .as_service_error()
            .and_then(|s| match s {
                aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => Some(c),
                _ => None,
            })
            .map(|c| {
                c.cancellation_reasons()
                    .iter()
                    .enumerate()
                    // A concurrent transaction on the same item means a competing
                    // write of it: for versioned items that is a lost race as well.
                    .filter(|(_, r)| {
                        matches!(r.code(), Some("ConditionalCheckFailed" | "TransactionConflict"))
                    })
                    .map(|(i, _)| i)
                    .collect()
            })
            .unwrap_or_default();
        if failed.is_empty() {
            Err(DynamoError::sdk(Operation::TransactWriteItems, error).into())
        } else {
            Err(TransactError::Conditions(failed))
        }
    }
}

/// The output of a conditional write that was applied; `None` when its condition failed
/// (`ConditionalCheckFailedException`, an outcome rather than an error).
fn applied<O, E, R>(
    operation: Operation,
    result: Result<O, SdkError<E, R>>,
) -> Result<Option<O>, DynamoError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(output) => Ok(Some(output)),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.code() == Some("ConditionalCheckFailedException")) =>
        {
            Ok(None)
        }
        Err(e) => Err(DynamoError::sdk(operation, e)),
    }
}

/// A `Put` inside a transaction.
pub(crate) fn put_write(
    table: &str,
    item: Item,
    condition: Option<Expr>,
) -> Result<TransactWriteItem, DynamoError> {
    let condition = condition.unwrap_or_default();
    let put = aws_sdk_dynamodb::types::Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.expression())
        .set_expression_attribute_names(condition.names())
        .set_expression_attribute_values(condition.values())
        .build()
        .map_err(|e| DynamoError::sdk(Operation::TransactWriteItems, e))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// Waits before retrying a transaction a concurrent one cancelled: uniform in 0..=10 ms ×
/// 2^`attempt`, at most 200 ms (full jitter, so the competitors spread out).
pub(crate) async fn contention_pause(attempt: u32) {
    let ceiling = 10u64.saturating_mul(1 << attempt.min(5)).min(200);
    let wait = rand::random_range(0..=ceiling);
    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
}

/// An `Update` inside a transaction (`condition` may be empty).
pub(crate) fn update_write(
    table: &str,
    key: Item,
    update: Expr,
    condition: &str,
) -> Result<TransactWriteItem, DynamoError> {
    let built = aws_sdk_dynamodb::types::Update::builder()
        .table_name(table)
        .set_key(Some(key))
        .update_expression(&update.text)
        .set_condition_expression((!condition.is_empty()).then(|| condition.to_owned()))
        .set_expression_attribute_names(update.names())
        .set_expression_attribute_values(update.values())
        .build()
        .map_err(|e| DynamoError::sdk(Operation::TransactWriteItems, e))?;
    Ok(TransactWriteItem::builder().update(built).build())
}

/// A `Delete` inside a transaction.
pub(crate) fn delete_write(
    table: &str,
    key: Item,
    condition: Option<Expr>,
) -> Result<TransactWriteItem, DynamoError> {
    let condition = condition.unwrap_or_default();
    let delete = aws_sdk_dynamodb::types::Delete::builder()
        .table_name(table)
        .set_key(Some(key))
        .set_condition_expression(condition.expression())
        .set_expression_attribute_names(condition.names())
        .set_expression_attribute_values(condition.values())
        .build()
        .map_err(|e| DynamoError::sdk(Operation::TransactWriteItems, e))?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}
