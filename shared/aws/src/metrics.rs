//! Counting AWS requests per operation: every adapter call goes through
//! [`RequestCounter::record`], so a benchmark can report requests (and so cost) per business
//! operation by taking a [`RequestCounter::snapshot`] before and after. DynamoDB calls also
//! add the capacity units DynamoDB reports (`ReturnConsumedCapacity=TOTAL`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The AWS API operations the adapters call (one counter each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// DynamoDB `GetItem`.
    GetItem,
    /// DynamoDB `PutItem`.
    PutItem,
    /// DynamoDB `UpdateItem`.
    UpdateItem,
    /// DynamoDB `DeleteItem`.
    DeleteItem,
    /// DynamoDB `Query` (items or `Select=COUNT`).
    Query,
    /// DynamoDB `BatchGetItem`.
    BatchGetItem,
    /// DynamoDB `TransactWriteItems`.
    TransactWriteItems,
    /// SQS `GetQueueUrl`.
    GetQueueUrl,
    /// SQS `SendMessage`.
    SendMessage,
    /// SQS `SendMessageBatch`.
    SendMessageBatch,
    /// SQS `ChangeMessageVisibility`.
    ChangeMessageVisibility,
}

impl Operation {
    /// Every operation, in counter order.
    pub const ALL: [Operation; 11] = [
        Operation::GetItem,
        Operation::PutItem,
        Operation::UpdateItem,
        Operation::DeleteItem,
        Operation::Query,
        Operation::BatchGetItem,
        Operation::TransactWriteItems,
        Operation::GetQueueUrl,
        Operation::SendMessage,
        Operation::SendMessageBatch,
        Operation::ChangeMessageVisibility,
    ];

    /// The AWS API name, e.g. `TransactWriteItems`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::GetItem => "GetItem",
            Operation::PutItem => "PutItem",
            Operation::UpdateItem => "UpdateItem",
            Operation::DeleteItem => "DeleteItem",
            Operation::Query => "Query",
            Operation::BatchGetItem => "BatchGetItem",
            Operation::TransactWriteItems => "TransactWriteItems",
            Operation::GetQueueUrl => "GetQueueUrl",
            Operation::SendMessage => "SendMessage",
            Operation::SendMessageBatch => "SendMessageBatch",
            Operation::ChangeMessageVisibility => "ChangeMessageVisibility",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Lock-free request counters, one per [`Operation`]. Cheap to clone: clones share counts.
///
/// Counts requests the adapter issues (one per SDK `send`); the SDK's own retries of a
/// throttled request are not seen here.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    counts: Arc<[AtomicU64; Operation::ALL.len()]>,
    /// Consumed capacity in thousandths of a unit.
    capacity_milli: Arc<[AtomicU64; Operation::ALL.len()]>,
}

impl RequestCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one request of `operation`.
    pub fn record(&self, operation: Operation) {
        self.counts[operation.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Adds capacity units DynamoDB reported for a request of `operation`.
    pub fn record_capacity(&self, operation: Operation, units: f64) {
        if units.is_finite() && units > 0.0 {
            // Thousandths keep the sum in an atomic integer; DynamoDB reports halves at most.
            let milli = (units * 1000.0).round() as u64;
            self.capacity_milli[operation.index()].fetch_add(milli, Ordering::Relaxed);
        }
    }

    /// Requests of `operation` so far.
    pub fn get(&self, operation: Operation) -> u64 {
        self.counts[operation.index()].load(Ordering::Relaxed)
    }

    /// The non-zero counts by operation name.
    pub fn snapshot(&self) -> RequestSnapshot {
        let counts = Operation::ALL
            .into_iter()
            .map(|op| (op.as_str(), self.get(op)))
            .filter(|(_, n)| *n > 0)
            .collect();
        let capacity_milli = Operation::ALL
            .into_iter()
            .map(|op| {
                let milli = self.capacity_milli[op.index()].load(Ordering::Relaxed);
                (op.as_str(), milli)
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        RequestSnapshot {
            counts,
            capacity_milli,
        }
    }
}

/// Request counts at one moment, by operation name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestSnapshot {
    /// Operation name → requests.
    pub counts: BTreeMap<&'static str, u64>,
    /// Operation name → consumed DynamoDB capacity units, in thousandths.
    pub capacity_milli: BTreeMap<&'static str, u64>,
}

impl RequestSnapshot {
    /// All requests.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Each operation with its requests, for a report: `GetItem 2, Query 1`.
    pub fn breakdown(&self) -> String {
        self.counts
            .iter()
            .map(|(op, n)| format!("{op} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Requests of one operation (0 when none).
    pub fn of(&self, operation: Operation) -> u64 {
        self.counts.get(operation.as_str()).copied().unwrap_or(0)
    }

    /// Consumed capacity units of one operation (read and write units together).
    pub fn capacity_units(&self, operation: Operation) -> f64 {
        milli_to_units(self.capacity_milli.get(operation.as_str()).copied())
    }

    /// All consumed capacity units.
    pub fn total_capacity_units(&self) -> f64 {
        milli_to_units(Some(self.capacity_milli.values().sum()))
    }

    /// The requests made between `earlier` and this snapshot.
    pub fn since(&self, earlier: &RequestSnapshot) -> RequestSnapshot {
        RequestSnapshot {
            counts: difference(&self.counts, &earlier.counts),
            capacity_milli: difference(&self.capacity_milli, &earlier.capacity_milli),
        }
    }
}

fn milli_to_units(milli: Option<u64>) -> f64 {
    // Exact for any realistic total (below 2^53 thousandths).
    milli.unwrap_or(0) as f64 / 1000.0
}

/// `later - earlier` per key, dropping zeros.
fn difference(
    later: &BTreeMap<&'static str, u64>,
    earlier: &BTreeMap<&'static str, u64>,
) -> BTreeMap<&'static str, u64> {
    later
        .iter()
        .map(|(op, n)| (*op, n.saturating_sub(earlier.get(op).copied().unwrap_or(0))))
        .filter(|(_, n)| *n > 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_kept_per_operation_and_shared_by_clones() {
        let counter = RequestCounter::new();
        let clone = counter.clone();
        counter.record(Operation::Query);
        clone.record(Operation::Query);
        counter.record(Operation::TransactWriteItems);
        let snapshot = counter.snapshot();
        assert_eq!(snapshot.of(Operation::Query), 2);
        assert_eq!(snapshot.of(Operation::TransactWriteItems), 1);
        assert_eq!(snapshot.of(Operation::GetItem), 0);
        assert_eq!(snapshot.total(), 3);
    }

    #[test]
    fn a_difference_of_snapshots_gives_the_requests_in_between() {
        let counter = RequestCounter::new();
        counter.record(Operation::GetItem);
        let before = counter.snapshot();
        counter.record(Operation::GetItem);
        counter.record(Operation::PutItem);
        counter.record_capacity(Operation::PutItem, 1.5);
        let delta = counter.snapshot().since(&before);
        assert_eq!(delta.capacity_units(Operation::PutItem), 1.5);
        assert_eq!(delta.total_capacity_units(), 1.5);
        assert_eq!(delta.of(Operation::GetItem), 1);
        assert_eq!(delta.of(Operation::PutItem), 1);
        assert_eq!(delta.total(), 2);
    }
}
