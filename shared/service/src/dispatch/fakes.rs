//! In-memory ports of the order dispatch, a manual clock and a sleeper that advances it (no
//! real time passes), and [`harness`], the use-case over them: for the dispatch's own tests
//! and the end-to-end extensibility test.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::clock::Clock;
use crate::messaging::ParsedMessage;
use crate::store::StoreError;
pub use crate::testing::MemorySink;

pub struct ManualClock(pub Mutex<OffsetDateTime>);

impl ManualClock {
    pub fn new() -> Arc<Self> {
        Arc::new(ManualClock(Mutex::new(datetime!(2026-11-27 12:00 UTC))))
    }
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

/// Sleeping advances the manual clock and is recorded.
pub struct ClockSleeper {
    pub clock: Arc<ManualClock>,
    pub slept: Mutex<Vec<Duration>>,
}

#[async_trait]
impl Sleeper for ClockSleeper {
    async fn sleep(&self, duration: Duration) {
        self.slept.lock().unwrap().push(duration);
        self.clock.advance(duration);
    }
}

/// Jitter that always picks this fraction (in per mille) of the ceiling.
pub struct FixedJitter(pub u32);

impl JitterSource for FixedJitter {
    fn pick(&self, upper: Duration) -> Duration {
        upper * self.0 / 1000
    }
}

pub type Responder = Box<dyn Fn(&Value, u32, OffsetDateTime) -> DownstreamAnswer + Send + Sync>;

/// A downstream answering by a function of (body, call number, now); every call takes
/// `latency` of manual time and is recorded with its idempotency key.
pub struct FakeDownstream {
    pub clock: Arc<ManualClock>,
    pub latency: Duration,
    pub calls: Mutex<Vec<(String, Value)>>,
    pub respond: Responder,
}

impl FakeDownstream {
    pub fn new(clock: Arc<ManualClock>, respond: Responder) -> Arc<Self> {
        Arc::new(FakeDownstream {
            clock,
            latency: Duration::from_millis(100),
            calls: Mutex::new(Vec::new()),
            respond,
        })
    }
    pub fn call_count(&self) -> usize {
        self.calls.lock().unwrap().len()
    }
}

#[async_trait]
impl Downstream for FakeDownstream {
    fn name(&self) -> &str {
        "fake-oms"
    }
    fn call_timeout(&self) -> Duration {
        Duration::from_secs(2)
    }
    async fn post_order(&self, order: &Value, key: &str) -> DownstreamAnswer {
        let n = {
            let mut calls = self.calls.lock().unwrap();
            calls.push((key.to_owned(), order.clone()));
            u32::try_from(calls.len()).unwrap()
        };
        self.clock.advance(self.latency);
        (self.respond)(order, n, self.clock.now())
    }
}

#[derive(Debug, Clone)]
pub struct LogRecord {
    pub attempts: u32,
    pub dispatched: bool,
    pub downstream_id: Option<String>,
    pub lease_until: OffsetDateTime,
}

#[derive(Default)]
pub struct MemoryLog(pub Mutex<BTreeMap<(String, String), LogRecord>>);

#[async_trait]
impl DispatchLog for MemoryLog {
    async fn claim(&self, order: OrderKey<'_>, lease: Lease) -> Result<DispatchClaim, StoreError> {
        let mut records = self.0.lock().unwrap();
        let record = records
            .entry((order.tenant.to_string(), order.order_id.to_owned()))
            .or_insert(LogRecord {
                attempts: 0,
                dispatched: false,
                downstream_id: None,
                lease_until: OffsetDateTime::UNIX_EPOCH,
            });
        if record.dispatched {
            return Ok(DispatchClaim::AlreadyDispatched {
                downstream_id: record.downstream_id.clone(),
                attempts: record.attempts,
            });
        }
        if record.lease_until > lease.now {
            return Ok(DispatchClaim::InProgress {
                lease_until: record.lease_until,
            });
        }
        record.attempts += 1;
        record.lease_until = lease.until;
        Ok(DispatchClaim::Claimed {
            attempt: record.attempts,
        })
    }
    async fn complete(&self, order: OrderKey<'_>, done: Dispatched<'_>) -> Result<(), StoreError> {
        let mut records = self.0.lock().unwrap();
        let record = records
            .get_mut(&(order.tenant.to_string(), order.order_id.to_owned()))
            .expect("completed a claimed order");
        record.dispatched = true;
        record.downstream_id = done.downstream_id.map(str::to_owned);
        Ok(())
    }
    async fn release(&self, order: OrderKey<'_>, attempt: u32) -> Result<(), StoreError> {
        let mut records = self.0.lock().unwrap();
        let key = (order.tenant.to_string(), order.order_id.to_owned());
        if let Some(record) = records.get_mut(&key)
            && !record.dispatched
            && record.attempts == attempt
        {
            record.lease_until = OffsetDateTime::UNIX_EPOCH;
        }
        Ok(())
    }
}

/// The dispatch use-case over the fakes, with each fake for the tests to inspect.
pub struct Harness {
    pub(super) clock: Arc<ManualClock>,
    pub(super) sleeper: Arc<ClockSleeper>,
    pub(crate) downstream: Arc<FakeDownstream>,
    pub(super) log: Arc<MemoryLog>,
    pub(super) sink: Arc<MemorySink>,
    pub(super) transitions: Arc<Mutex<Vec<(BreakerState, BreakerState)>>>,
    pub(crate) dispatch: OrderDispatch,
}

pub const THRESHOLD: u32 = 5;
pub const OPEN_FOR: Duration = Duration::from_secs(10);

pub fn harness(respond: Responder) -> Harness {
    let clock = ManualClock::new();
    let sleeper = Arc::new(ClockSleeper {
        clock: clock.clone(),
        slept: Mutex::new(Vec::new()),
    });
    let downstream = FakeDownstream::new(clock.clone(), respond);
    let log = Arc::new(MemoryLog::default());
    let sink = Arc::new(MemorySink::default());
    let transitions = Arc::new(Mutex::new(Vec::new()));
    let seen = transitions.clone();
    let breaker = CircuitBreaker::new("fake-oms", THRESHOLD, OPEN_FOR, clock.clone())
        .on_state_change(Arc::new(move |_, from, to| {
            seen.lock().unwrap().push((from, to))
        }));
    let schedule = RetrySchedule::new(Duration::from_millis(200), Duration::from_secs(5), 4)
        .with_jitter(Arc::new(FixedJitter(1000)));
    let dispatch = OrderDispatch::new(
        downstream.clone(),
        log.clone(),
        sink.clone(),
        Arc::new(breaker),
        schedule,
        clock.clone(),
        sleeper.clone(),
    );
    Harness {
        clock,
        sleeper,
        downstream,
        log,
        sink,
        transitions,
        dispatch,
    }
}

impl Harness {
    /// Another use-case over `downstream` and `log`, with the harness's sink, clock and
    /// sleeper, a breaker of its own and the default schedule.
    pub fn dispatch_over(
        &self,
        downstream: Arc<dyn Downstream>,
        log: Arc<dyn DispatchLog>,
    ) -> OrderDispatch {
        let breaker = CircuitBreaker::new("fake-oms", THRESHOLD, OPEN_FOR, self.clock.clone());
        OrderDispatch::new(
            downstream,
            log,
            self.sink.clone(),
            Arc::new(breaker),
            RetrySchedule::default(),
            self.clock.clone(),
            self.sleeper.clone(),
        )
    }
}

/// The outcome of a dispatched order.
pub fn dispatched(downstream_id: &str, calls: u32) -> DispatchOutcome {
    DispatchOutcome::Dispatched {
        downstream_id: Some(downstream_id.into()),
        calls,
    }
}

pub fn message(order_id: &str) -> ParsedMessage {
    let order = json!({
        "id": order_id,
        "href": format!("/productOrder/{order_id}"),
        "state": "acknowledged",
        "productOrderItem": [{"id": "1", "action": "add", "state": "acknowledged"}]
    });
    ParsedMessage {
        message_id: format!("m-{order_id}"),
        event_id: format!("e-{order_id}"),
        event_type: "ProductOrderCreateEvent".into(),
        schema_version: Some("1.0".into()),
        tenant: Some("acme".into()),
        correlation_id: None,
        receive_count: Some(1),
        event: json!({"productOrder": order}),
        envelope: Value::Null,
    }
}

pub fn http(status: u16, body: Value) -> DownstreamAnswer {
    DownstreamAnswer::Http {
        status,
        body: body.to_string(),
    }
}

pub fn deadline(h: &Harness) -> OffsetDateTime {
    h.clock.now() + Duration::from_secs(30)
}
