//! The event source mappings, played by the harness as the stack declares them (moto's own
//! would invoke the functions through Docker): the poller reads the source with the
//! function's role, as Lambda's does, hands batches of at most `BatchSize` records to the
//! bootstrap, honours `FilterCriteria` and `ReportBatchItemFailures`, and deletes (SQS) or
//! passes (streams) what succeeded.
//!
//! A "drain" runs batches until the source has nothing new. What a real mapping would retry
//! (failed items, a failed invocation) is reported as an error naming the function, the
//! failed records and the function's warnings and errors, rather than retried: the
//! rehearsal wants the first failure, not a retry storm.

use std::collections::BTreeMap;

use aws_sdk_dynamodbstreams::types::{AttributeValue, ShardIteratorType};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use base64::Engine;
use serde_json::{Map, Value, json};

use crate::RehearsalError;
use crate::function::FunctionProcess;
use crate::stack::{MappingSpec, Stack};

/// What one drain did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Invocations made.
    pub batches: usize,
    /// Records handed to the function.
    pub records: usize,
    /// Stream records the filter kept out.
    pub filtered_out: usize,
}

fn failure(function: &FunctionProcess, what: String) -> RehearsalError {
    RehearsalError::Step {
        step: format!("{} ({})", function.logical_id, function.spec.name),
        cause: what,
        logs: function.problems(),
        refused: Vec::new(),
    }
}

/// The item identifiers a function's `response` reports failed (`batchItemFailures`), read
/// as Lambda does only when the mapping `spec` has `ReportBatchItemFailures`.
fn reported_failures<'r>(spec: &MappingSpec, response: &'r Value) -> Vec<&'r str> {
    if !spec.reports_batch_item_failures() {
        return Vec::new();
    }
    response["batchItemFailures"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["itemIdentifier"].as_str())
        .collect()
}

/// The failure of a `batch` (its size and source) of which `function` reported the items
/// `failed`, named as `ids`.
fn reported_failed(
    function: &FunctionProcess,
    batch: &str,
    ids: &str,
    failed: &[&str],
) -> RehearsalError {
    failure(
        function,
        format!(
            "reported {} of {batch} as failed ({ids} {failed:?})",
            failed.len()
        ),
    )
}

/// A mapping of the stack to play, and the function it invokes: its poller reads the source
/// with the credentials of that function's role, as Lambda's does.
pub struct Declared<'a> {
    /// The stack that declares the mapping.
    pub stack: &'a Stack,
    /// The moto server's endpoint.
    pub endpoint: &'a str,
    /// The mapping as declared.
    pub spec: &'a MappingSpec,
    /// The function it invokes.
    pub function: &'a FunctionProcess,
}

impl Declared<'_> {
    /// The SDK configuration of the function's role.
    async fn role_config(&self) -> aws_config::SdkConfig {
        let credentials = &self.function.spec.credentials;
        self.stack.sdk_config(self.endpoint, credentials).await
    }
}

/// An SQS event source mapping.
pub struct SqsMapping {
    spec: MappingSpec,
    queue_url: String,
    region: String,
    client: aws_sdk_sqs::Client,
}

impl SqsMapping {
    /// The `declared` mapping of a queue.
    ///
    /// # Errors
    /// [`RehearsalError::Template`] when the source queue is not a queue of the stack.
    pub async fn new(declared: &Declared<'_>) -> Result<Self, RehearsalError> {
        let spec = declared.spec;
        let name = spec.source_arn.rsplit(':').next().unwrap_or_default();
        let queue_url = declared
            .stack
            .resources()
            .values()
            .filter(|r| r.kind == "AWS::SQS::Queue")
            .map(|r| r.physical_id.clone())
            .find(|url| url.rsplit('/').next() == Some(name))
            .ok_or_else(|| {
                RehearsalError::Template(format!(
                    "mapping {} reads {}, which is no queue of the stack",
                    spec.uuid, spec.source_arn
                ))
            })?;
        Ok(SqsMapping {
            spec: spec.clone(),
            queue_url,
            region: declared.stack.region.clone(),
            client: aws_sdk_sqs::Client::new(&declared.role_config().await),
        })
    }

    /// The mapping as declared.
    pub fn spec(&self) -> &MappingSpec {
        &self.spec
    }

    /// Runs batches until the queue has no visible message.
    ///
    /// # Errors
    /// [`RehearsalError::Step`] when a receive or delete is refused (the role), the
    /// invocation fails, or the function reports failed items.
    pub async fn drain(&self, function: &mut FunctionProcess) -> Result<Drained, RehearsalError> {
        let mut drained = Drained::default();
        let batch_size = self.spec.batch_size.unwrap_or(10).max(1) as usize;
        loop {
            let mut messages = Vec::new();
            while messages.len() < batch_size {
                let want = (batch_size - messages.len()).min(10) as i32;
                let received = self
                    .client
                    .receive_message()
                    .queue_url(&self.queue_url)
                    .max_number_of_messages(want)
                    .message_system_attribute_names(MessageSystemAttributeName::All)
                    .message_attribute_names("All")
                    .send()
                    .await
                    .map_err(|e| self.refused(function, "ReceiveMessage", sdk_error(&e)))?;
                let got = received.messages.unwrap_or_default();
                if got.is_empty() {
                    break;
                }
                messages.extend(got);
            }
            if messages.is_empty() {
                return Ok(drained);
            }
            let event =
                json!({"Records": messages.iter().map(|m| self.record(m)).collect::<Vec<_>>()});
            drained.batches += 1;
            drained.records += messages.len();
            let response = function
                .invoke(event, Some(&self.spec.function_arn))
                .await
                .map_err(|e| {
                    failure(
                        function,
                        format!("a batch of {} from {}: {e}", messages.len(), self.queue_url),
                    )
                })?;
            let failed = reported_failures(&self.spec, &response);
            // Lambda fails the whole batch when an identifier is not one of its messages.
            if let Some(unknown) = failed
                .iter()
                .find(|f| !messages.iter().any(|m| m.message_id() == Some(**f)))
            {
                return Err(failure(
                    function,
                    format!("reported {unknown:?} as failed, which is no message of its batch"),
                ));
            }
            let done: Vec<_> = messages
                .iter()
                .filter(|m| !failed.iter().any(|f| Some(*f) == m.message_id()))
                .collect();
            for chunk in done.chunks(10) {
                let entries = chunk
                    .iter()
                    .enumerate()
                    .filter_map(|(i, m)| {
                        DeleteMessageBatchRequestEntry::builder()
                            .id(i.to_string())
                            .receipt_handle(m.receipt_handle().unwrap_or_default())
                            .build()
                            .ok()
                    })
                    .collect();
                let deleted = self
                    .client
                    .delete_message_batch()
                    .queue_url(&self.queue_url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(|e| self.refused(function, "DeleteMessageBatch", sdk_error(&e)))?;
                if !deleted.failed().is_empty() {
                    return Err(failure(
                        function,
                        format!("the mapping could not delete {:?}", deleted.failed()),
                    ));
                }
            }
            if !failed.is_empty() {
                let batch = format!("{} messages from {}", messages.len(), self.queue_url);
                return Err(reported_failed(
                    function,
                    &batch,
                    "batchItemFailures",
                    &failed,
                ));
            }
        }
    }

    /// The failure of the mapping's `operation` on the queue, refused with `cause`.
    fn refused(
        &self,
        function: &FunctionProcess,
        operation: &str,
        cause: String,
    ) -> RehearsalError {
        failure(
            function,
            format!(
                "the mapping's {operation} on {} failed: {cause}",
                self.queue_url
            ),
        )
    }

    /// One record of the Lambda SQS event.
    fn record(&self, message: &aws_sdk_sqs::types::Message) -> Value {
        let attributes: Map<String, Value> = message
            .attributes()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str().to_owned(), Value::from(v.as_str())))
            .collect();
        let message_attributes: Map<String, Value> = message
            .message_attributes()
            .into_iter()
            .flatten()
            .map(|(name, value)| {
                (
                    name.clone(),
                    json!({
                        "stringValue": value.string_value(),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value.data_type(),
                    }),
                )
            })
            .collect();
        json!({
            "messageId": message.message_id(),
            "receiptHandle": message.receipt_handle(),
            "body": message.body(),
            "attributes": attributes,
            "messageAttributes": message_attributes,
            "md5OfBody": message.md5_of_body(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.spec.source_arn,
            "awsRegion": self.region,
        })
    }
}

/// A DynamoDB stream event source mapping.
pub struct StreamMapping {
    spec: MappingSpec,
    region: String,
    client: aws_sdk_dynamodbstreams::Client,
    /// The last sequence number handed out (or filtered out), per shard.
    positions: BTreeMap<String, String>,
    filters: Vec<Value>,
}

impl StreamMapping {
    /// The `declared` mapping of a stream.
    ///
    /// # Errors
    /// [`RehearsalError::Template`] when a filter pattern is not JSON or uses a construct the
    /// harness does not evaluate (it refuses rather than guess).
    pub async fn new(declared: &Declared<'_>) -> Result<Self, RehearsalError> {
        let filters = declared
            .spec
            .filter_patterns
            .iter()
            .map(|p| {
                let pattern: Value = serde_json::from_str(p).map_err(|e| {
                    RehearsalError::Template(format!("filter pattern {p} is not JSON: {e}"))
                })?;
                check_pattern(&pattern)?;
                Ok(pattern)
            })
            .collect::<Result<_, RehearsalError>>()?;
        Ok(StreamMapping {
            spec: declared.spec.clone(),
            region: declared.stack.region.clone(),
            client: aws_sdk_dynamodbstreams::Client::new(&declared.role_config().await),
            positions: BTreeMap::new(),
            filters,
        })
    }

    /// The mapping as declared.
    pub fn spec(&self) -> &MappingSpec {
        &self.spec
    }

    /// Runs batches until every shard has nothing new.
    ///
    /// # Errors
    /// [`RehearsalError::Step`] when reading the stream is refused, the invocation fails or
    /// the function reports failed items.
    pub async fn drain(
        &mut self,
        function: &mut FunctionProcess,
    ) -> Result<Drained, RehearsalError> {
        let mut drained = Drained::default();
        let refused = |what: &str, e: String| {
            format!(
                "the mapping's {what} on {} failed: {e}",
                self.spec.source_arn
            )
        };
        let description = self
            .client
            .describe_stream()
            .stream_arn(&self.spec.source_arn)
            .send()
            .await
            .map_err(|e| failure(function, refused("DescribeStream", sdk_error(&e))))?;
        let shards: Vec<String> = description
            .stream_description()
            .map(|d| {
                d.shards()
                    .iter()
                    .filter_map(|s| s.shard_id().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let batch_size = self.spec.batch_size.unwrap_or(100).max(1) as i32;
        for shard in shards {
            loop {
                let mut request = self
                    .client
                    .get_shard_iterator()
                    .stream_arn(&self.spec.source_arn)
                    .shard_id(&shard);
                request = match self.positions.get(&shard) {
                    Some(sequence) => request
                        .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                        .sequence_number(sequence),
                    None => {
                        request.shard_iterator_type(match self.spec.starting_position.as_deref() {
                            Some("LATEST") => ShardIteratorType::Latest,
                            _ => ShardIteratorType::TrimHorizon,
                        })
                    }
                };
                let iterator = request
                    .send()
                    .await
                    .map_err(|e| failure(function, refused("GetShardIterator", sdk_error(&e))))?
                    .shard_iterator
                    .unwrap_or_default();
                let records = self
                    .client
                    .get_records()
                    .shard_iterator(iterator)
                    .limit(batch_size)
                    .send()
                    .await
                    .map_err(|e| failure(function, refused("GetRecords", sdk_error(&e))))?
                    .records
                    .unwrap_or_default();
                let Some(last) = records.last().and_then(|r| r.dynamodb()?.sequence_number())
                else {
                    break;
                };
                let last = last.to_owned();
                let events: Vec<Value> = records.iter().map(|r| self.record(r)).collect();
                let kept: Vec<Value> = events
                    .into_iter()
                    .filter(|e| {
                        self.filters.is_empty() || self.filters.iter().any(|f| matches(f, e))
                    })
                    .collect();
                drained.filtered_out += records.len() - kept.len();
                if !kept.is_empty() {
                    drained.batches += 1;
                    drained.records += kept.len();
                    let sequences: Vec<String> = kept
                        .iter()
                        .filter_map(|e| e["dynamodb"]["SequenceNumber"].as_str().map(str::to_owned))
                        .collect();
                    let response = function
                        .invoke(json!({"Records": kept}), Some(&self.spec.function_arn))
                        .await
                        .map_err(|e| {
                            failure(
                                function,
                                format!("a batch of {} stream records: {e}", sequences.len()),
                            )
                        })?;
                    let failed = reported_failures(&self.spec, &response);
                    if !failed.is_empty() {
                        let batch = format!("{} stream records", sequences.len());
                        return Err(reported_failed(
                            function,
                            &batch,
                            "sequence numbers",
                            &failed,
                        ));
                    }
                }
                self.positions.insert(shard.clone(), last);
            }
        }
        Ok(drained)
    }

    /// One record of the Lambda DynamoDB stream event.
    fn record(&self, record: &aws_sdk_dynamodbstreams::types::Record) -> Value {
        let mut dynamodb = Map::new();
        if let Some(stream) = record.dynamodb() {
            if let Some(at) = stream.approximate_creation_date_time() {
                dynamodb.insert("ApproximateCreationDateTime".into(), json!(at.secs()));
            }
            for (name, image) in [
                ("Keys", stream.keys()),
                ("NewImage", stream.new_image()),
                ("OldImage", stream.old_image()),
            ] {
                if let Some(image) = image {
                    dynamodb.insert(name.into(), item_json(image));
                }
            }
            dynamodb.insert("SequenceNumber".into(), json!(stream.sequence_number()));
            dynamodb.insert("SizeBytes".into(), json!(stream.size_bytes()));
            dynamodb.insert(
                "StreamViewType".into(),
                json!(stream.stream_view_type().map(|v| v.as_str())),
            );
        }
        json!({
            "eventID": record.event_id(),
            "eventName": record.event_name().map(|n| n.as_str()),
            "eventVersion": record.event_version(),
            "eventSource": "aws:dynamodb",
            "awsRegion": self.region,
            "dynamodb": dynamodb,
            "eventSourceARN": self.spec.source_arn,
        })
    }
}

/// An item as DynamoDB JSON (`{"attr": {"S": ...}}`).
fn item_json(item: &std::collections::HashMap<String, AttributeValue>) -> Value {
    Value::Object(
        item.iter()
            .map(|(name, value)| (name.clone(), attribute_json(value)))
            .collect(),
    )
}

fn attribute_json(value: &AttributeValue) -> Value {
    let b64 = |b: &aws_sdk_dynamodbstreams::primitives::Blob| {
        base64::engine::general_purpose::STANDARD.encode(b.as_ref())
    };
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": b64(b) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(n) => json!({ "NULL": n }),
        AttributeValue::Ss(v) => json!({ "SS": v }),
        AttributeValue::Ns(v) => json!({ "NS": v }),
        AttributeValue::Bs(v) => json!({ "BS": v.iter().map(b64).collect::<Vec<_>>() }),
        AttributeValue::L(v) => json!({ "L": v.iter().map(attribute_json).collect::<Vec<_>>() }),
        AttributeValue::M(m) => json!({ "M": item_json(m) }),
        _ => Value::Null,
    }
}

/// Refuses pattern constructs [`matches`] does not evaluate: only value lists of literals,
/// `{"prefix": …}` and `{"exists": …}` are understood.
fn check_pattern(pattern: &Value) -> Result<(), RehearsalError> {
    match pattern {
        Value::Object(fields) => fields.values().try_for_each(check_pattern),
        Value::Array(options) => options.iter().try_for_each(|o| match o {
            Value::Object(rule)
                if rule.len() == 1
                    && (rule.contains_key("prefix") || rule.contains_key("exists")) =>
            {
                Ok(())
            }
            Value::Object(rule) => Err(RehearsalError::Template(format!(
                "filter rule {rule:?} is not one the rehearsal evaluates (prefix, exists, literals)"
            ))),
            _ => Ok(()),
        }),
        other => Err(RehearsalError::Template(format!(
            "filter pattern value {other} must be an object or a list of values"
        ))),
    }
}

/// Whether `event` matches the Lambda filter `pattern` (the subset [`check_pattern`] admits).
fn matches(pattern: &Value, event: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(key, sub)| match event.get(key) {
            Some(value) => matches(sub, value),
            None => sub.as_array().is_some_and(|options| {
                options
                    .iter()
                    .any(|o| o.get("exists") == Some(&Value::Bool(false)))
            }),
        }),
        Value::Array(options) => options.iter().any(|option| match option {
            Value::Object(rule) if rule.contains_key("prefix") => event
                .as_str()
                .zip(rule["prefix"].as_str())
                .is_some_and(|(value, prefix)| value.starts_with(prefix)),
            Value::Object(rule) if rule.contains_key("exists") => {
                rule["exists"] == Value::Bool(true)
            }
            literal => literal == event,
        }),
        _ => false,
    }
}

/// The service's error code and message (an SDK error's `Display` leaves them out), or
/// the whole error chain when the answer could not be parsed.
pub fn sdk_error<E, R>(error: &aws_sdk_sqs::error::SdkError<E, R>) -> String
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error.as_service_error() {
        Some(service) if service.code().is_some() => format!(
            "{}: {}",
            service.code().unwrap_or("?"),
            service.message().unwrap_or("(no message)")
        ),
        _ => format!("{}", aws_sdk_sqs::error::DisplayErrorContext(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTBOX: &str =
        r#"{"eventName":["INSERT"],"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"OUTBOX#"}]}}}}"#;

    fn record(event_name: &str, pk: &str) -> Value {
        json!({"eventName": event_name, "dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": "EVENT"}}}})
    }

    #[test]
    fn the_outbox_filter_keeps_inserts_of_outbox_items_only() {
        let pattern: Value = serde_json::from_str(OUTBOX).expect("pattern");
        check_pattern(&pattern).expect("evaluable");
        assert!(matches(&pattern, &record("INSERT", "OUTBOX#e-1")));
        assert!(!matches(&pattern, &record("MODIFY", "OUTBOX#e-1")));
        assert!(!matches(&pattern, &record("INSERT", "T#acme#QUOTE#q-1")));
        assert!(!matches(&pattern, &json!({"eventName": "INSERT"})));
    }

    #[test]
    fn a_pattern_the_harness_cannot_evaluate_is_refused() {
        let numeric = json!({"dynamodb": {"NewImage": {"n": {"N": [{"numeric": [">", 1]}]}}}});
        let refused = check_pattern(&numeric).expect_err("refused");
        assert!(refused.to_string().contains("numeric"), "{refused}");
    }

    #[test]
    fn attributes_become_dynamodb_json() {
        let mut item = std::collections::HashMap::new();
        item.insert("s".to_owned(), AttributeValue::S("x".into()));
        item.insert("n".to_owned(), AttributeValue::N("1.5".into()));
        item.insert(
            "l".to_owned(),
            AttributeValue::L(vec![AttributeValue::Bool(true), AttributeValue::Null(true)]),
        );
        assert_eq!(
            item_json(&item),
            json!({"s": {"S": "x"}, "n": {"N": "1.5"}, "l": {"L": [{"BOOL": true}, {"NULL": true}]}})
        );
    }
}
