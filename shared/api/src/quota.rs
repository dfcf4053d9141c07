//! Per-tenant quotas at the edge ([`Quotas`], set with `AppState::with_quotas`):
//!
//! - **request rate**: one token bucket per tenant (governor's keyed GCRA limiter), checked
//!   when the caller is authenticated, before any work on the request: beyond the rate and
//!   burst a request is answered 429 `RATE_LIMITED` with `Retry-After`. The bucket lives in
//!   the process: in `q2c local` that is the limit; on AWS every Lambda instance has its own
//!   (an instance serves one request at a time and the HTTP API has no per-client usage
//!   plans), so a tenant's effective cap is the rate × the quote-api's concurrency.
//! - **subscriptions per tenant and hub**: checked by the hub store in the same atomic step
//!   as the insert (`HubStore::create_within`): 422 `SUBSCRIPTION_QUOTA_EXCEEDED`.
//! - **open quotes per tenant**: a soft quota over the relay-maintained count
//!   (`q2c_service::quotas`): 422 `OPEN_QUOTE_QUOTA_EXCEEDED` on `POST /quote`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use q2c_service::TenantId;
use q2c_service::quotas::OpenQuoteCounts;

use crate::error::ApiError;

/// Default sustained requests per second per tenant.
pub const DEFAULT_REQUESTS_PER_SECOND: u32 = 50;
/// Default burst (requests a tenant may send at once after being idle).
pub const DEFAULT_BURST: u32 = 100;
/// Default subscriptions per tenant on each hub (quote, catalog, ordering).
pub const DEFAULT_MAX_SUBSCRIPTIONS_PER_API: u64 = 20;
/// Default open quotes per tenant.
pub const DEFAULT_MAX_OPEN_QUOTES: u64 = 10_000;

/// The quota numbers of a deployment; 0 turns a quota off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaSettings {
    /// Sustained requests per second per tenant (the bucket's refill rate).
    pub requests_per_second: u32,
    /// Bucket size: requests a tenant may send at once.
    pub burst: u32,
    /// Subscriptions per tenant on each hub.
    pub max_subscriptions_per_api: u64,
    /// Open quotes per tenant (soft).
    pub max_open_quotes: u64,
}

impl Default for QuotaSettings {
    fn default() -> Self {
        QuotaSettings {
            requests_per_second: DEFAULT_REQUESTS_PER_SECOND,
            burst: DEFAULT_BURST,
            max_subscriptions_per_api: DEFAULT_MAX_SUBSCRIPTIONS_PER_API,
            max_open_quotes: DEFAULT_MAX_OPEN_QUOTES,
        }
    }
}

impl QuotaSettings {
    /// No quota at all.
    pub fn unlimited() -> Self {
        QuotaSettings {
            requests_per_second: 0,
            burst: 0,
            max_subscriptions_per_api: 0,
            max_open_quotes: 0,
        }
    }
}

/// How often the limiter forgets tenants whose bucket is full again (its map would
/// otherwise keep every tenant ever seen).
const FORGET_EVERY: u64 = 4096;

/// Token buckets per tenant.
pub struct TenantRateLimiter {
    limiter: DefaultKeyedRateLimiter<TenantId>,
    clock: DefaultClock,
    per_second: u32,
    burst: u32,
    checks: AtomicU64,
}

impl TenantRateLimiter {
    /// `per_second` sustained, bursts of up to `burst` (at least 1 each).
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        let quota = Quota::per_second(per_second).allow_burst(burst);
        TenantRateLimiter {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
            per_second: per_second.get(),
            burst: burst.get(),
            checks: AtomicU64::new(0),
        }
    }

    /// Takes a token of `tenant`'s bucket; `Err(wait)` when it is empty (the time until
    /// the next token).
    ///
    /// # Errors
    /// The wait, when the bucket is empty.
    pub fn check(&self, tenant: &TenantId) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter
            .check_key(tenant)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// The quotas a router enforces; [`Quotas::default`] enforces none.
#[derive(Clone, Default)]
pub struct Quotas {
    rate: Option<Arc<TenantRateLimiter>>,
    max_subscriptions_per_api: Option<u64>,
    open_quotes: Option<(u64, Arc<dyn OpenQuoteCounts>)>,
}

impl Quotas {
    /// The quotas of `settings`; the open-quote quota needs the count (`open_quotes`) and
    /// is off without it.
    pub fn new(settings: &QuotaSettings, open_quotes: Option<Arc<dyn OpenQuoteCounts>>) -> Self {
        let rate = NonZeroU32::new(settings.requests_per_second).map(|rate| {
            let burst = NonZeroU32::new(settings.burst).unwrap_or(rate);
            Arc::new(TenantRateLimiter::new(rate, burst))
        });
        Quotas {
            rate,
            max_subscriptions_per_api: (settings.max_subscriptions_per_api > 0)
                .then_some(settings.max_subscriptions_per_api),
            open_quotes: open_quotes
                .filter(|_| settings.max_open_quotes > 0)
                .map(|counts| (settings.max_open_quotes, counts)),
        }
    }

    /// The subscription quota per tenant and hub, if any.
    pub fn max_subscriptions_per_api(&self) -> Option<u64> {
        self.max_subscriptions_per_api
    }

    /// Admits one request of `tenant` under the rate quota.
    ///
    /// # Errors
    /// [`ApiError::RateLimited`] when the tenant's bucket is empty.
    pub fn admit(&self, tenant: &TenantId) -> Result<(), ApiError> {
        let Some(rate) = &self.rate else {
            return Ok(());
        };
        rate.check(tenant).map_err(|wait| ApiError::RateLimited {
            message: format!(
                "tenant {tenant} exceeded {} requests per second (bursts of {}); retry in {} ms",
                rate.per_second,
                rate.burst,
                wait.as_millis().max(1)
            ),
            retry_after: wait,
        })
    }

    /// Whether `tenant` may open one more quote.
    ///
    /// # Errors
    /// [`ApiError::QuotaExceeded`] at the quota; `Service(Unavailable)` when the count
    /// cannot be read.
    pub async fn admit_open_quote(&self, tenant: &TenantId) -> Result<(), ApiError> {
        let Some((max, counts)) = &self.open_quotes else {
            return Ok(());
        };
        let open = counts
            .open_quotes(tenant)
            .await
            .map_err(|e| ApiError::Service(e.into()))?;
        if open >= *max {
            return Err(ApiError::QuotaExceeded {
                code: "OPEN_QUOTE_QUOTA_EXCEEDED",
                message: format!(
                    "tenant {tenant} has {open} open quotes, the most this deployment allows \
                     is {max}: accept, reject, cancel or delete some first"
                ),
            });
        }
        Ok(())
    }
}
