//! A circuit breaker per downstream: after `threshold` consecutive transient failures it
//! opens for `open_for`; then (half-open) one probe call per `open_for` window goes
//! through; the probe's success closes it, its failure opens it again. While open, callers
//! return their messages for later instead of calling. Time comes from the [`Clock`] port,
//! so tests step through an outage without sleeping.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;

use crate::clock::Clock;

/// The breaker's state, as reported to the state-change callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are refused until the window ends.
    Open,
    /// One probe call is allowed per window.
    HalfOpen,
}

impl BreakerState {
    /// A stable lower-case name for logs and metric dimensions.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half-open",
        }
    }
}

/// May a call go out now?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Yes (closed).
    Call,
    /// Yes, as the probe of a half-open breaker: report its result.
    Probe,
    /// No: the breaker is open (or half-open with its probe out); try again after this.
    Refused {
        /// Until the window ends.
        retry_after: Duration,
    },
}

/// Consecutive transient failures that open a breaker, unless configured otherwise.
pub const DEFAULT_THRESHOLD: u32 = 5;
/// How long a breaker stays open (and the half-open probe window), unless configured otherwise.
pub const DEFAULT_OPEN_FOR: Duration = Duration::from_secs(30);

/// Called with `(downstream, from, to)` on every state change (logs, metrics).
pub type StateChangeHook = Arc<dyn Fn(&str, BreakerState, BreakerState) + Send + Sync>;

#[derive(Debug, Clone, Copy)]
enum Inner {
    Closed { consecutive_failures: u32 },
    Open { until: OffsetDateTime },
    HalfOpen { window_ends: OffsetDateTime },
}

/// A circuit breaker for one downstream, shared by every message a process handles.
pub struct CircuitBreaker {
    name: String,
    threshold: u32,
    open_for: Duration,
    clock: Arc<dyn Clock>,
    on_change: StateChangeHook,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.name)
            .field("threshold", &self.threshold)
            .field("open_for", &self.open_for)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl CircuitBreaker {
    /// A closed breaker for the downstream `name` that opens after `threshold` (at least 1)
    /// consecutive failures, for `open_for`; state changes are logged.
    pub fn new(
        name: impl Into<String>,
        threshold: u32,
        open_for: Duration,
        clock: Arc<dyn Clock>,
    ) -> Self {
        CircuitBreaker {
            name: name.into(),
            threshold: threshold.max(1),
            open_for,
            clock,
            on_change: Arc::new(|_, _, _| {}),
            inner: Mutex::new(Inner::Closed {
                consecutive_failures: 0,
            }),
        }
    }

    /// Also calls `hook` on every state change (after logging it), e.g. to count a metric.
    pub fn on_state_change(mut self, hook: StateChangeHook) -> Self {
        self.on_change = hook;
        self
    }

    /// The downstream's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The failures that open the breaker.
    pub fn threshold(&self) -> u32 {
        self.threshold
    }

    /// The open window (and the half-open probe window).
    pub fn open_for(&self) -> Duration {
        self.open_for
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        match *self.lock() {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { .. } => BreakerState::Open,
            Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Whether a call now would be refused, without changing the state (no probe is taken):
    /// the time until the breaker's window ends, if so.
    pub fn refusing(&self) -> Option<Duration> {
        let now = self.clock.now();
        match *self.lock() {
            Inner::Open { until } | Inner::HalfOpen { window_ends: until } if now < until => {
                Some(duration_between(now, until))
            }
            _ => None,
        }
    }

    /// Asks to make a call now. An open breaker whose window ended turns half-open and lets
    /// this call through as its probe; a half-open breaker whose probe never reported (its
    /// caller died) lets another probe through once the probe's window ended.
    pub fn permit(&self) -> Permit {
        let now = self.clock.now();
        let mut inner = self.lock();
        match *inner {
            Inner::Closed { .. } => Permit::Call,
            Inner::Open { until } | Inner::HalfOpen { window_ends: until } if now < until => {
                Permit::Refused {
                    retry_after: duration_between(now, until),
                }
            }
            Inner::Open { .. } | Inner::HalfOpen { .. } => {
                let was_open = matches!(*inner, Inner::Open { .. });
                *inner = Inner::HalfOpen {
                    window_ends: now + self.open_for,
                };
                drop(inner);
                if was_open {
                    self.changed(BreakerState::Open, BreakerState::HalfOpen);
                }
                Permit::Probe
            }
        }
    }

    /// Reports a call whose answer showed a healthy downstream: closes the breaker.
    pub fn record_success(&self) {
        let mut inner = self.lock();
        let before = *inner;
        *inner = Inner::Closed {
            consecutive_failures: 0,
        };
        drop(inner);
        match before {
            Inner::Closed { .. } => {}
            Inner::Open { .. } => self.changed(BreakerState::Open, BreakerState::Closed),
            Inner::HalfOpen { .. } => self.changed(BreakerState::HalfOpen, BreakerState::Closed),
        }
    }

    /// Reports a transient failure: the `threshold`-th in a row, or a failed probe, opens
    /// the breaker for `open_for`.
    pub fn record_failure(&self) {
        let now = self.clock.now();
        let mut inner = self.lock();
        let from = match *inner {
            Inner::Closed {
                consecutive_failures,
            } if consecutive_failures + 1 < self.threshold => {
                *inner = Inner::Closed {
                    consecutive_failures: consecutive_failures + 1,
                };
                return;
            }
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::HalfOpen { .. } => BreakerState::HalfOpen,
            // A call let through before the breaker opened failed too: stay open as is.
            Inner::Open { .. } => return,
        };
        *inner = Inner::Open {
            until: now + self.open_for,
        };
        drop(inner);
        self.changed(from, BreakerState::Open);
    }

    fn changed(&self, from: BreakerState, to: BreakerState) {
        tracing::warn!(
            downstream = %self.name,
            from = from.as_str(),
            to = to.as_str(),
            "circuit breaker state change"
        );
        (self.on_change)(&self.name, from, to);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The state is a plain value, valid even if a holder panicked.
        self.inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

/// `to - from` as a std duration (zero when `to` is not after `from`).
pub(crate) fn duration_between(from: OffsetDateTime, to: OffsetDateTime) -> Duration {
    Duration::try_from(to - from).unwrap_or(Duration::ZERO)
}
