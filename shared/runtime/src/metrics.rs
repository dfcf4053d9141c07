//! Business and runtime counters as CloudWatch Embedded Metric Format (EMF): counters are
//! collected during an invocation and [`Metrics::flush`] prints one JSON line to stdout,
//! which CloudWatch Logs turns into metrics in namespace [`NAMESPACE`] with the dimension
//! `function` — no `PutMetricData` calls, no extra permissions.
//!
//! Counts are summed per invocation ([`Metrics::add`]); ages keep the largest value
//! ([`Metrics::observe`]). Line shape (see the EMF specification):
//! `{"_aws":{"Timestamp":<ms>,"CloudWatchMetrics":[{"Namespace":"q2c","Dimensions":[["function"]],
//! "Metrics":[{"Name":"QuotesCreated","Unit":"Count"}]}]},"function":"q2c-quote-api","QuotesCreated":1}`

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// The CloudWatch namespace of every q2c metric.
pub const NAMESPACE: &str = "q2c";
/// The dimension naming the function.
pub const DIMENSION: &str = "function";

/// The unit CloudWatch records a metric in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unit {
    /// A count of things (summed per invocation).
    Count,
    /// A duration or age in seconds (the largest of an invocation).
    Seconds,
}

impl Unit {
    /// The EMF / CloudWatch unit name.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Seconds => "Seconds",
        }
    }
}

/// Every metric q2c publishes (namespace [`NAMESPACE`], dimension [`DIMENSION`]): the one
/// list of names the template's alarms and dashboard may use from namespace `q2c`
/// (`q2c-template-lint` reads [`Metric::ALL`]; docs/operations.md lists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// Quotes created (`POST /quote` answered 201).
    QuotesCreated,
    /// Quotes accepted by the customer (`PATCH` to state `accepted` answered 200).
    QuotesAccepted,
    /// Events published to SQS by the outbox relay.
    EventsPublished,
    /// Outbox events the relay could not publish and left pending (their stream records are
    /// returned as batch item failures when the queue could not be reached; refusals are left
    /// to the next sweep).
    EventsPublishFailed,
    /// Age of the oldest outbox event still pending, in seconds (the relay's sweep; 0 when
    /// none is pending). Alarmed on by `OutboxPendingAgeAlarm`.
    OutboxOldestPendingAge,
    /// Queue messages a consumer handled (SQS deletes them).
    MessagesProcessed,
    /// Queue messages a consumer returned for redelivery: a transient failure, a panic, or
    /// a delay it asked for. Invocations still succeed, so `Errors` stays 0 meanwhile.
    MessagesRetried,
    /// Messages moved to a dead-letter queue by the consumer (poison, with a reason), and
    /// outbox events the relay parked in their destination's dead-letter queue.
    MessagesDeadLettered,
    /// Invocations that were the first of their container.
    ColdStarts,
    /// Orders handed to order management (order dispatch).
    OrdersDispatched,
    /// Order messages returned for a later delivery (order management failing or the
    /// circuit breaker open).
    OrderDispatchRetries,
    /// Circuit breaker of a downstream opened (from closed or half-open).
    CircuitOpened,
    /// Circuit breaker of a downstream closed again (its half-open probe succeeded).
    CircuitClosed,
    /// Price events acknowledged without effect: older (`lastUpdate`) than the stored price.
    StalePriceEventsSkipped,
}

impl Metric {
    /// Every metric, in declaration order.
    pub const ALL: [Metric; 14] = [
        Metric::QuotesCreated,
        Metric::QuotesAccepted,
        Metric::EventsPublished,
        Metric::EventsPublishFailed,
        Metric::OutboxOldestPendingAge,
        Metric::MessagesProcessed,
        Metric::MessagesRetried,
        Metric::MessagesDeadLettered,
        Metric::ColdStarts,
        Metric::OrdersDispatched,
        Metric::OrderDispatchRetries,
        Metric::CircuitOpened,
        Metric::CircuitClosed,
        Metric::StalePriceEventsSkipped,
    ];

    /// The metric name in CloudWatch.
    pub fn name(self) -> &'static str {
        match self {
            Metric::QuotesCreated => "QuotesCreated",
            Metric::QuotesAccepted => "QuotesAccepted",
            Metric::EventsPublished => "EventsPublished",
            Metric::EventsPublishFailed => "EventsPublishFailed",
            Metric::OutboxOldestPendingAge => "OutboxOldestPendingAge",
            Metric::MessagesProcessed => "MessagesProcessed",
            Metric::MessagesRetried => "MessagesRetried",
            Metric::MessagesDeadLettered => "MessagesDeadLettered",
            Metric::ColdStarts => "ColdStarts",
            Metric::OrdersDispatched => "OrdersDispatched",
            Metric::OrderDispatchRetries => "OrderDispatchRetries",
            Metric::CircuitOpened => "CircuitOpened",
            Metric::CircuitClosed => "CircuitClosed",
            Metric::StalePriceEventsSkipped => "StalePriceEventsSkipped",
        }
    }

    /// The metric's unit: counts are summed over an invocation, ages keep their largest
    /// value ([`Metrics::observe`]).
    pub fn unit(self) -> Unit {
        match self {
            Metric::OutboxOldestPendingAge => Unit::Seconds,
            _ => Unit::Count,
        }
    }
}

static COLD: AtomicBool = AtomicBool::new(true);

/// Counters of one function, flushed once per invocation. Share it (`Arc`) between the
/// handler and its helpers; adding is cheap and thread-safe.
#[derive(Debug)]
pub struct Metrics {
    function: String,
    counts: Mutex<BTreeMap<Metric, u64>>,
}

impl Metrics {
    /// Counters for the function called `function` (the `function` dimension).
    pub fn new(function: impl Into<String>) -> Self {
        Metrics {
            function: function.into(),
            counts: Mutex::new(BTreeMap::new()),
        }
    }

    /// Adds `n` to the count `metric` (nothing when `n` is 0, so idle metrics print no line).
    pub fn add(&self, metric: Metric, n: u64) {
        if n == 0 {
            return;
        }
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(metric).or_insert(0) += n;
        }
    }

    /// Records `value` of the gauge `metric` (an age): the invocation's line carries the
    /// largest value observed, and a 0 is recorded (an empty backlog is news too).
    pub fn observe(&self, metric: Metric, value: u64) {
        if let Ok(mut counts) = self.counts.lock() {
            let current = counts.entry(metric).or_insert(0);
            *current = (*current).max(value);
        }
    }

    /// Counts a cold start on the first call in this process, nothing afterwards; returns
    /// whether this was the cold start.
    pub fn record_cold_start(&self) -> bool {
        let cold = COLD.swap(false, Ordering::SeqCst);
        if cold {
            self.add(Metric::ColdStarts, 1);
        }
        cold
    }

    /// The EMF document of the current counters at `timestamp_ms`, and resets them; `None`
    /// when nothing was counted (no line is printed for an idle invocation).
    pub fn take_document(&self, timestamp_ms: u64) -> Option<Value> {
        let counts = std::mem::take(&mut *self.counts.lock().ok()?);
        if counts.is_empty() {
            return None;
        }
        let definitions: Vec<Value> = counts
            .keys()
            .map(|m| json!({"Name": m.name(), "Unit": m.unit().name()}))
            .collect();
        let mut document = Map::new();
        document.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [[DIMENSION]],
                    "Metrics": definitions,
                }],
            }),
        );
        document.insert(DIMENSION.into(), Value::from(self.function.clone()));
        for (metric, count) in counts {
            document.insert(metric.name().into(), Value::from(count));
        }
        Some(Value::Object(document))
    }

    /// Prints the EMF line of the counters to stdout and resets them (nothing when empty).
    pub fn flush(&self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        if let Some(document) = self.take_document(now) {
            println!("{document}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_has_the_documented_emf_structure() {
        let metrics = Metrics::new("q2c-quote-api");
        for (metric, n) in [
            (Metric::QuotesCreated, 1),
            (Metric::QuotesCreated, 2),
            (Metric::EventsPublished, 4),
            (Metric::MessagesDeadLettered, 0),
        ] {
            metrics.add(metric, n);
        }
        let line = metrics.take_document(1_764_250_000_000).expect("counted");
        assert_eq!(
            line,
            json!({
                "_aws": {
                    "Timestamp": 1_764_250_000_000_u64,
                    "CloudWatchMetrics": [{
                        "Namespace": "q2c",
                        "Dimensions": [["function"]],
                        "Metrics": [
                            {"Name": "QuotesCreated", "Unit": "Count"},
                            {"Name": "EventsPublished", "Unit": "Count"}
                        ]
                    }]
                },
                "function": "q2c-quote-api",
                "QuotesCreated": 3,
                "EventsPublished": 4
            })
        );
        // Every metric and dimension named in the directive has a top-level member.
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        for definition in directive["Metrics"].as_array().into_iter().flatten() {
            let name = definition["Name"].as_str().unwrap_or_default();
            assert!(line[name].is_number(), "{name} has a value");
        }
        assert!(line["function"].is_string());
        assert!(metrics.take_document(0).is_none(), "counters reset");
    }

    #[test]
    fn a_gauge_keeps_its_largest_value_and_its_unit() {
        let metrics = Metrics::new("q2c-outbox-relay");
        metrics.observe(Metric::OutboxOldestPendingAge, 40);
        metrics.observe(Metric::OutboxOldestPendingAge, 7);
        metrics.add(Metric::EventsPublished, 1);
        let line = metrics.take_document(0).expect("observed");
        assert_eq!(line["OutboxOldestPendingAge"], 40);
        let units: Vec<(&str, &str)> = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .expect("definitions")
            .iter()
            .map(|d| {
                (
                    d["Name"].as_str().unwrap_or(""),
                    d["Unit"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            units,
            [
                ("EventsPublished", "Count"),
                ("OutboxOldestPendingAge", "Seconds")
            ]
        );

        let idle = Metrics::new("q2c-outbox-relay");
        idle.observe(Metric::OutboxOldestPendingAge, 0);
        let line = idle.take_document(0).expect("a zero age is reported");
        assert_eq!(line["OutboxOldestPendingAge"], 0);
    }

    #[test]
    fn every_metric_is_listed_once_with_a_distinct_name() {
        let names: std::collections::BTreeSet<&str> =
            Metric::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(names.len(), Metric::ALL.len());
        assert!(
            names
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_alphanumeric()))
        );
    }

    #[test]
    fn a_cold_start_is_counted_once_per_process() {
        let metrics = Metrics::new("f");
        let first = metrics.record_cold_start();
        let second = metrics.record_cold_start();
        assert!(!second);
        if first {
            assert_eq!(metrics.take_document(0).expect("counted")["ColdStarts"], 1);
        }
    }
}
