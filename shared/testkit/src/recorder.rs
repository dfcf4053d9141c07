//! The request recorder: an AWS SDK interceptor that records every DynamoDB and SQS request a
//! client sends (each attempt: operation, table/index or queue, partition keys, item sizes,
//! request bytes, status, start and end instants), and the analysis a test needs of them:
//! which requests were in flight together, the serial time (every request one after the
//! other) and the critical path (the longest chain of requests that did not overlap, i.e.
//! the most a chain of dependent requests can have cost).
//!
//! Attach it through the client config builders the tests already use:
//!
//! ```no_run
//! let recorder = q2c_testkit::recorder::Recorder::new();
//! let dynamo = recorder.dynamo_client(); // moto, with the interceptor
//! let sqs = aws_sdk_sqs::Client::from_conf(
//!     q2c_testkit::moto::sqs_config().to_builder().interceptor(recorder.interceptor()).build(),
//! );
//! ```
//!
//! The critical path is conservative: requests that did not overlap in time *may* depend on
//! each other, so the longest non-overlapping chain bounds every real chain of dependent
//! requests from above. Requests a test makes itself (setup, the event source mapping it
//! plays) go through clients without the interceptor and are not recorded.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::interceptors::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use serde_json::Value;

use crate::{moto, template};

/// The AWS service a request went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// DynamoDB (`X-Amz-Target: DynamoDB_20120810.<Operation>`).
    DynamoDb,
    /// SQS (`X-Amz-Target: AmazonSQS.<Operation>`, or a query-protocol `Action=`).
    Sqs,
    /// Anything else the client was pointed at.
    Other,
}

/// One attempt of one request, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The service.
    pub service: Service,
    /// The operation, e.g. `TransactWriteItems`, `SendMessageBatch`.
    pub operation: String,
    /// Tables (`table` or `table/index`) or queue names the request names, sorted, unique.
    pub targets: Vec<String>,
    /// Partition key values the request names (keys, items, a Query's key condition),
    /// sorted, unique.
    pub partition_keys: Vec<String>,
    /// Approximate DynamoDB item size of every item written (attribute names plus values),
    /// or the body size of every SQS message sent, in bytes, in request order.
    pub item_sizes: Vec<usize>,
    /// Bytes of the request body.
    pub request_bytes: usize,
    /// The attempt (1 for the first; retries by the SDK's retry config count up).
    pub attempt: u32,
    /// The HTTP status answered; `None` when no response came.
    pub status: Option<u16>,
    /// When it was handed to the HTTP client, since the recorder was created.
    pub start: Duration,
    /// When the attempt ended (response read or failed), since the recorder was created.
    pub end: Duration,
}

impl RecordedRequest {
    /// How long the attempt took.
    pub fn duration(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }

    /// Whether the two were in flight at the same time (one started before the other ended).
    pub fn overlaps(&self, other: &RecordedRequest) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// The longest chain of requests that did not overlap in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CriticalPath {
    /// The chain's total request time.
    pub duration: Duration,
    /// How many requests the chain holds.
    pub requests: usize,
}

/// Records requests; cheap to clone (clones share the record).
#[derive(Debug, Clone)]
pub struct Recorder {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    origin: Instant,
    partition_key_names: Vec<String>,
    requests: Mutex<Vec<RecordedRequest>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// A recorder knowing the partition key attributes of the template's table and indexes.
    pub fn new() -> Self {
        let table = template::table();
        let mut names: Vec<String> = std::iter::once(table.key.hash.clone())
            .chain(table.indexes.values().map(|k| k.hash.clone()))
            .collect();
        names.sort();
        names.dedup();
        Self::with_partition_keys(names)
    }

    /// A recorder reading the partition key values of the attributes `names`.
    pub fn with_partition_keys(names: Vec<String>) -> Self {
        Recorder {
            inner: Arc::new(Inner {
                origin: Instant::now(),
                partition_key_names: names,
                requests: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The interceptor to attach to a client config builder (`.interceptor(…)`).
    pub fn interceptor(&self) -> RecordingInterceptor {
        RecordingInterceptor {
            recorder: self.clone(),
        }
    }

    /// A DynamoDB client for moto recording into this recorder.
    pub fn dynamo_client(&self) -> aws_sdk_dynamodb::Client {
        let config = moto::dynamo_config()
            .to_builder()
            .interceptor(self.interceptor())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// An SQS client for moto recording into this recorder.
    pub fn sqs_client(&self) -> aws_sdk_sqs::Client {
        let config = moto::sqs_config()
            .to_builder()
            .interceptor(self.interceptor())
            .build();
        aws_sdk_sqs::Client::from_conf(config)
    }

    /// Every request recorded so far, by start.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        let mut all = self
            .inner
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default();
        all.sort_by_key(|r| (r.start, r.end));
        all
    }

    /// Forgets what was recorded (e.g. the setup before the part a test measures).
    pub fn clear(&self) {
        if let Ok(mut requests) = self.inner.requests.lock() {
            requests.clear();
        }
    }

    fn now(&self) -> Duration {
        self.inner.origin.elapsed()
    }

    fn push(&self, request: RecordedRequest) {
        if let Ok(mut requests) = self.inner.requests.lock() {
            requests.push(request);
        }
    }
}

/// The sum of the requests' durations: what they cost one after the other.
pub fn serial(requests: &[RecordedRequest]) -> Duration {
    requests.iter().map(RecordedRequest::duration).sum()
}

/// The longest (by total duration) chain of requests of which no two overlapped in time
/// (weighted interval scheduling: O(n log n)).
pub fn critical_path(requests: &[RecordedRequest]) -> CriticalPath {
    let mut by_end: Vec<&RecordedRequest> = requests.iter().collect();
    by_end.sort_by_key(|r| (r.end, r.start));
    // best[i]: the longest chain among the first i requests by end.
    let mut best = vec![CriticalPath::default(); by_end.len() + 1];
    for (i, request) in by_end.iter().enumerate() {
        // Requests that ended no later than this one started can precede it.
        let before = by_end[..i].partition_point(|r| r.end <= request.start);
        let with = CriticalPath {
            duration: best[before].duration + request.duration(),
            requests: best[before].requests + 1,
        };
        best[i + 1] = if with.duration >= best[i].duration {
            with
        } else {
            best[i]
        };
    }
    best.last().copied().unwrap_or_default()
}

/// For each request (in the given order), how many others were in flight with it.
pub fn concurrent_with(requests: &[RecordedRequest]) -> Vec<usize> {
    requests
        .iter()
        .enumerate()
        .map(|(i, r)| {
            requests
                .iter()
                .enumerate()
                .filter(|(j, o)| *j != i && r.overlaps(o))
                .count()
        })
        .collect()
}

/// The most requests in flight at one instant.
pub fn max_in_flight(requests: &[RecordedRequest]) -> usize {
    let mut edges: Vec<(Duration, i64)> = requests
        .iter()
        .flat_map(|r| [(r.start, 1), (r.end, -1)])
        .collect();
    // Ends before starts at the same instant: touching is not overlapping.
    edges.sort();
    let (mut now, mut most) = (0i64, 0i64);
    for (_, delta) in edges {
        now += delta;
        most = most.max(now);
    }
    usize::try_from(most).unwrap_or(0)
}

/// The SDK interceptor of a [`Recorder`].
#[derive(Debug, Clone)]
pub struct RecordingInterceptor {
    recorder: Recorder,
}

/// What [`RecordingInterceptor`] keeps between sending an attempt and its end.
#[derive(Debug, Clone)]
struct InFlight(RecordedRequest);

impl Storable for InFlight {
    type Storer = StoreReplace<Self>;
}

impl Intercept for RecordingInterceptor {
    fn name(&self) -> &'static str {
        "q2c-testkit-request-recorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let request = context.request();
        let body = request.body().bytes().unwrap_or_default();
        let target = request.headers().get("x-amz-target").map(str::to_owned);
        let attempt = request
            .headers()
            .get("amz-sdk-request")
            .and_then(|v| {
                v.split(';')
                    .find_map(|part| part.trim().strip_prefix("attempt="))
                    .and_then(|n| n.parse().ok())
            })
            .unwrap_or(1);
        let mut recorded = describe(
            target.as_deref(),
            body,
            &self.recorder.inner.partition_key_names,
        );
        recorded.attempt = attempt;
        recorded.start = self.recorder.now();
        cfg.interceptor_state().store_put(InFlight(recorded));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let end = self.recorder.now();
        // Absent when the attempt failed before it was sent (nothing went out).
        if let Some(InFlight(mut recorded)) = cfg.load::<InFlight>().cloned() {
            recorded.end = end;
            recorded.status = context.response().map(|r| r.status().as_u16());
            self.recorder.push(recorded);
            cfg.interceptor_state().unset::<InFlight>();
        }
        Ok(())
    }
}

/// What the request body says: service, operation, targets, keys, item sizes.
fn describe(target: Option<&str>, body: &[u8], pk_names: &[String]) -> RecordedRequest {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (service, operation) = match target.and_then(|t| t.split_once('.')) {
        Some((prefix, op)) if prefix.starts_with("DynamoDB") => (Service::DynamoDb, op.to_owned()),
        Some((prefix, op)) if prefix.starts_with("AmazonSQS") => (Service::Sqs, op.to_owned()),
        _ => match form_action(body) {
            Some(action) => (Service::Sqs, action),
            None => (Service::Other, target.unwrap_or_default().to_owned()),
        },
    };
    let mut recorded = RecordedRequest {
        service,
        operation,
        targets: Vec::new(),
        partition_keys: Vec::new(),
        item_sizes: Vec::new(),
        request_bytes: body.len(),
        attempt: 1,
        status: None,
        start: Duration::ZERO,
        end: Duration::ZERO,
    };
    match service {
        Service::DynamoDb => dynamo_details(&json, pk_names, &mut recorded),
        Service::Sqs => sqs_details(&json, &mut recorded),
        Service::Other => {}
    }
    recorded.targets.sort();
    recorded.targets.dedup();
    recorded.partition_keys.sort();
    recorded.partition_keys.dedup();
    recorded
}

/// `Action=<name>` of a query-protocol body.
fn form_action(body: &[u8]) -> Option<String> {
    std::str::from_utf8(body)
        .ok()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .map(str::to_owned)
}

fn dynamo_details(json: &Value, pk_names: &[String], out: &mut RecordedRequest) {
    // Tables: TableName (+ IndexName) at the top or inside transaction items; RequestItems keys.
    let index = json.get("IndexName").and_then(Value::as_str);
    if let Some(items) = json.get("RequestItems").and_then(Value::as_object) {
        out.targets.extend(items.keys().cloned());
    }
    walk(json, &mut |key, value| match key {
        "TableName" => {
            if let Some(table) = value.as_str() {
                match index {
                    Some(index) => out.targets.push(format!("{table}/{index}")),
                    None => out.targets.push(table.to_owned()),
                }
            }
        }
        "Key" | "Item" | "Keys" => {
            let objects: Vec<&Value> = match value {
                Value::Array(keys) => keys.iter().collect(),
                other => vec![other],
            };
            for object in objects {
                for name in pk_names {
                    if let Some(v) = object.get(name).and_then(scalar) {
                        out.partition_keys.push(v);
                    }
                }
                if key == "Item" {
                    out.item_sizes.push(item_size(object));
                }
            }
        }
        _ => {}
    });
    // A Query names its partition in the key condition: `<pk> = :value`.
    if let Some(condition) = json.get("KeyConditionExpression").and_then(Value::as_str) {
        let names = json.get("ExpressionAttributeNames");
        let values = json.get("ExpressionAttributeValues");
        for clause in condition.split(" AND ").chain(condition.split(" and ")) {
            let Some((left, right)) = clause.split_once('=') else {
                continue;
            };
            let (left, right) = (left.trim().trim_start_matches('('), right.trim());
            let attribute = match names.and_then(|n| n.get(left)).and_then(Value::as_str) {
                Some(name) => name,
                None => left,
            };
            if pk_names.iter().any(|n| n == attribute)
                && let Some(value) = values
                    .and_then(|v| v.get(right.trim_end_matches(')')))
                    .and_then(scalar)
            {
                out.partition_keys.push(value);
            }
        }
    }
}

fn sqs_details(json: &Value, out: &mut RecordedRequest) {
    if let Some(url) = json.get("QueueUrl").and_then(Value::as_str) {
        out.targets
            .push(url.rsplit('/').next().unwrap_or(url).to_owned());
    }
    if let Some(name) = json.get("QueueName").and_then(Value::as_str) {
        out.targets.push(name.to_owned());
    }
    if let Some(body) = json.get("MessageBody").and_then(Value::as_str) {
        out.item_sizes.push(body.len());
    }
    for entry in json
        .get("Entries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(body) = entry.get("MessageBody").and_then(Value::as_str) {
            out.item_sizes.push(body.len());
        }
    }
}

/// Calls `f` with every (key, value) pair of every object inside `json`.
fn walk(json: &Value, f: &mut impl FnMut(&str, &Value)) {
    match json {
        Value::Object(map) => {
            for (key, value) in map {
                f(key, value);
                walk(value, f);
            }
        }
        Value::Array(values) => {
            for value in values {
                walk(value, f);
            }
        }
        _ => {}
    }
}

/// The text of a DynamoDB `{"S": …}` / `{"N": …}` / `{"B": …}` value.
fn scalar(value: &Value) -> Option<String> {
    ["S", "N", "B"]
        .iter()
        .find_map(|t| value.get(*t).and_then(Value::as_str))
        .map(str::to_owned)
}

/// An item's approximate DynamoDB size: attribute names plus value sizes (strings and
/// binaries by length, numbers by digits / 2 + 1, containers by their contents + 3).
fn item_size(item: &Value) -> usize {
    item.as_object()
        .map(|attributes| {
            attributes
                .iter()
                .map(|(name, value)| name.len() + value_size(value))
                .sum()
        })
        .unwrap_or(0)
}

fn value_size(value: &Value) -> usize {
    let Some((kind, inner)) = value.as_object().and_then(|m| m.iter().next()) else {
        return 0;
    };
    match (kind.as_str(), inner) {
        ("S" | "B", Value::String(s)) => s.len(),
        ("N", Value::String(n)) => n.trim_start_matches('-').len() / 2 + 1,
        ("BOOL" | "NULL", _) => 1,
        ("M", map) => item_size(map) + 3,
        ("L", Value::Array(values)) => {
            values.iter().map(value_size).sum::<usize>() + 3 + values.len()
        }
        ("SS" | "NS" | "BS", Value::Array(values)) => {
            values.iter().filter_map(Value::as_str).map(str::len).sum()
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start_ms: u64, end_ms: u64) -> RecordedRequest {
        RecordedRequest {
            service: Service::DynamoDb,
            operation: "GetItem".into(),
            targets: vec![],
            partition_keys: vec![],
            item_sizes: vec![],
            request_bytes: 0,
            attempt: 1,
            status: Some(200),
            start: Duration::from_millis(start_ms),
            end: Duration::from_millis(end_ms),
        }
    }

    #[test]
    fn a_sequential_chain_is_its_own_critical_path() {
        let requests = [at(0, 10), at(10, 30), at(30, 35)];
        assert_eq!(serial(&requests), Duration::from_millis(35));
        let path = critical_path(&requests);
        assert_eq!(path.duration, Duration::from_millis(35));
        assert_eq!(path.requests, 3);
        assert_eq!(max_in_flight(&requests), 1);
        assert_eq!(concurrent_with(&requests), vec![0, 0, 0]);
    }

    #[test]
    fn overlapping_requests_count_once_on_the_critical_path() {
        // Four at once, then two at once: the longest of each wave.
        let requests = [
            at(0, 10),
            at(1, 12),
            at(2, 9),
            at(3, 11),
            at(12, 20),
            at(13, 25),
        ];
        assert_eq!(
            serial(&requests),
            Duration::from_millis(10 + 11 + 7 + 8 + 8 + 12)
        );
        let path = critical_path(&requests);
        // 1..12 (11 ms) then 13..25 (12 ms) beats 0..10 then 12..20 etc.
        assert_eq!(path.duration, Duration::from_millis(23));
        assert_eq!(path.requests, 2);
        assert_eq!(max_in_flight(&requests), 4);
        assert_eq!(concurrent_with(&requests), vec![3, 3, 3, 3, 1, 1]);
    }

    #[test]
    fn a_long_request_beside_a_chain_of_short_ones_is_chosen_when_longer() {
        let requests = [at(0, 100), at(0, 10), at(10, 20), at(20, 30)];
        assert_eq!(
            critical_path(&requests).duration,
            Duration::from_millis(100)
        );
        let requests = [at(0, 25), at(0, 10), at(10, 20), at(20, 30)];
        let path = critical_path(&requests);
        assert_eq!(path.duration, Duration::from_millis(30));
        assert_eq!(path.requests, 3);
    }

    #[test]
    fn a_transaction_names_its_tables_partitions_and_item_sizes() {
        let body = serde_json::json!({
            "TransactItems": [
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "Q#1"}, "sk": {"S": "A"}, "n": {"N": "12"}}}},
                {"Update": {"TableName": "t", "Key": {"pk": {"S": "Q#2"}, "sk": {"S": "B"}}}},
                {"ConditionCheck": {"TableName": "u", "Key": {"pk": {"S": "Q#1"}, "sk": {"S": "C"}}}}
            ]
        })
        .to_string();
        let recorded = describe(
            Some("DynamoDB_20120810.TransactWriteItems"),
            body.as_bytes(),
            &["pk".to_owned()],
        );
        assert_eq!(recorded.service, Service::DynamoDb);
        assert_eq!(recorded.operation, "TransactWriteItems");
        assert_eq!(recorded.targets, vec!["t", "u"]);
        assert_eq!(recorded.partition_keys, vec!["Q#1", "Q#2"]);
        // pk(2)+3, sk(2)+1, n(1)+2
        assert_eq!(recorded.item_sizes, vec![5 + 3 + 3]);
        assert_eq!(recorded.request_bytes, body.len());
    }

    #[test]
    fn a_query_names_its_index_and_partition() {
        let body = serde_json::json!({
            "TableName": "t", "IndexName": "gsi1",
            "KeyConditionExpression": "#p = :p AND begins_with(sk, :s)",
            "ExpressionAttributeNames": {"#p": "gsi1pk"},
            "ExpressionAttributeValues": {":p": {"S": "POPIDX#x"}, ":s": {"S": "a"}}
        })
        .to_string();
        let recorded = describe(
            Some("DynamoDB_20120810.Query"),
            body.as_bytes(),
            &["pk".to_owned(), "gsi1pk".to_owned()],
        );
        assert_eq!(recorded.targets, vec!["t/gsi1"]);
        assert_eq!(recorded.partition_keys, vec!["POPIDX#x"]);
    }

    #[test]
    fn an_sqs_batch_names_its_queue_and_message_sizes() {
        let body = serde_json::json!({
            "QueueUrl": "http://localhost:5000/123456789012/p-pricing-continuations",
            "Entries": [{"Id": "0", "MessageBody": "abc"}, {"Id": "1", "MessageBody": "de"}]
        })
        .to_string();
        let recorded = describe(Some("AmazonSQS.SendMessageBatch"), body.as_bytes(), &[]);
        assert_eq!(recorded.service, Service::Sqs);
        assert_eq!(recorded.operation, "SendMessageBatch");
        assert_eq!(recorded.targets, vec!["p-pricing-continuations"]);
        assert_eq!(recorded.item_sizes, vec![3, 2]);
    }
}
