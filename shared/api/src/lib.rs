//! q2c's HTTP surface: TMF648 Quote Management (v4 and v5 side by side), its hub, and the read-only TMF620
//! catalog, as one axum [`Router`]. The same router serves Lambda (behind API Gateway) and
//! the local runner.
//!
//! # Layout
//! - [`auth`]: bearer-token verification (local JWT or API Gateway's verified claims) and
//!   the [`auth::Caller`] extractor that yields the `RequestContext`.
//! - [`correlation`]: `X-Correlation-Id` handling and the per-request span.
//! - [`error`]: [`ApiError`], the single mapping of failures to TMF630 bodies.
//! - [`idempotency`]: `Idempotency-Key` claim, replay and completion.
//! - [`paging`]: `offset`/`limit`, `fields=` and quote filters.
//! - [`preconditions`]: `If-Match` (strong comparison) on quote writes.
//! - [`quota`]: per-tenant quotas: request rate (token buckets), subscriptions, open quotes.
//! - [`body`]: content-type checks and JSON parsing that names the path at fault.
//! - [`openapi`]: the served OpenAPI 3.0 documents (v4, v5).
//! - [`schema`]: request bodies checked against those documents' schemas.
//! - [`response`]: the response helpers (JSON body, listing page, `Location`).
//! - [`routes`]: the handlers (quotes, hub, catalog, health) and the route table.
//! - [`version`]: the served TMF648 versions ([`version::V4`], [`version::V5`]) the quote and
//!   hub handlers are generic over.
//! - [`deprecation`]: `Deprecation`/`Sunset`/`Link` headers on a deprecated version.
//!
//! # Layering
//! The modules form no cycle; each names only modules of a lower layer or of its own (and the
//! root's `AppState`, `ApiConfig` and base paths):
//! 1. `error`, `openapi` (the documents as constants), `correlation`: the leaves.
//! 2. `paging`, `body`, `schema`, `auth`, `quota`, `preconditions`, `deprecation`, and
//!    `response` (the response helpers every handler and version uses).
//! 3. `version` (the wire mapping per version) and `idempotency`.
//! 4. `routes`: the handlers and the route table, over all of the above; only the crate root
//!    names it, to wrap its routes in the layers.
#![warn(missing_docs)]

pub mod auth;
pub mod body;
pub mod correlation;
pub mod deprecation;
pub mod error;
pub mod idempotency;
pub mod listing;
pub mod openapi;
pub mod paging;
pub mod preconditions;
pub mod quota;
pub mod response;
pub mod routes;
pub mod schema;
pub mod version;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use q2c_service::catalog::ServedCatalog;
use q2c_service::delivery::CallbackPolicy;
use q2c_service::hrefs::CatalogHrefs;
use q2c_service::messaging::QueueClient;
use q2c_service::{Ports, QuoteService};
use tower_http::catch_panic::CatchPanicLayer;

pub use auth::{
    Authenticator, JwtKey, JwtVerifier, VerifiedClaims, issue_dev_token, issue_rs256_token,
};
pub use error::ApiError;

/// Base path of TMF648 v4.
pub const QUOTE_API_BASE: &str = "/tmf-api/quoteManagement/v4";
/// Base path of TMF648 v5.
pub const QUOTE_API_V5_BASE: &str = "/tmf-api/quoteManagement/v5";
/// Base path of TMF620 v4.
pub const CATALOG_API_BASE: &str = q2c_service::hrefs::CATALOG_API_PATH;
/// Base path of the TMF622 product ordering API (product orders, listener, ordering hub).
pub const ORDERING_API_BASE: &str = "/tmf-api/productOrderingManagement/v4";
/// Base path of the TMF637 product inventory API (read-only).
pub const INVENTORY_API_BASE: &str = "/tmf-api/productInventory/v4";

/// Documentation base used when none is configured, so `referenceError` is always an
/// absolute URI.
pub const DEFAULT_DOCS_BASE_URL: &str = "https://github.com/q2c-dev/q2c/blob/main";

/// Settings of the HTTP surface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// Public base URL (scheme, host, optional stage path; no trailing slash) prefixed to
    /// `Location` headers, e.g. `https://api.example.com`. May be empty for relative URLs.
    pub public_base_url: String,
    /// Base URL of the documentation: `referenceError` is `<docs>/docs/errors.md#<code>`;
    /// [`DEFAULT_DOCS_BASE_URL`] when given empty.
    pub docs_base_url: String,
    /// Largest request body accepted, in bytes (default `maxRequestBytes`, 256 KiB:
    /// `q2c_model::limits::MAX_REQUEST_BYTES`).
    pub body_limit: usize,
    /// Page size when `limit` is absent (default 50).
    pub default_page_limit: u64,
    /// Largest `limit` accepted (default 1000).
    pub max_page_limit: u64,
    /// How long a completed idempotent response is replayed (default 24 h).
    pub idempotency_ttl: time::Duration,
    /// How long an idempotency claim in progress blocks others (default 60 s).
    pub idempotency_lease: time::Duration,
}

impl ApiConfig {
    /// Settings with the defaults: 256 KiB bodies, pages of 50 (max 1000, and at most
    /// `maxPageBytes` of stored resources), 24 h replay.
    pub fn new(public_base_url: impl Into<String>, docs_base_url: impl Into<String>) -> Self {
        let docs = trim_slash(docs_base_url.into());
        ApiConfig {
            public_base_url: trim_slash(public_base_url.into()),
            docs_base_url: if docs.is_empty() {
                DEFAULT_DOCS_BASE_URL.to_owned()
            } else {
                docs
            },
            body_limit: q2c_model::limits::MAX_REQUEST_BYTES.max(),
            default_page_limit: 50,
            max_page_limit: 1000,
            idempotency_ttl: time::Duration::hours(24),
            idempotency_lease: time::Duration::seconds(60),
        }
    }
}

fn trim_slash(mut url: String) -> String {
    while url.ends_with('/') {
        url.pop();
    }
    url
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The quote use-cases.
    pub quotes: QuoteService,
    /// The ports (hubs, catalog and idempotency are used directly by the edge).
    pub ports: Ports,
    /// How callers are authenticated.
    pub auth: Arc<Authenticator>,
    /// Settings.
    pub config: Arc<ApiConfig>,
    /// Where the TMF620 listener enqueues catalog events (`pricing-changes`); without it the
    /// listener answers 503.
    pub pricing_queue: Option<Arc<dyn QueueClient>>,
    /// Which hub callbacks may be registered; allows nothing unless set
    /// ([`AppState::with_callback_policy`]).
    pub callback_policy: Arc<CallbackPolicy>,
    /// Deprecated API versions, announced on their every response; none unless set
    /// ([`AppState::with_deprecations`]).
    pub deprecations: Arc<Vec<deprecation::VersionDeprecation>>,
    /// Per-tenant quotas; none unless set ([`AppState::with_quotas`]).
    pub quotas: Arc<quota::Quotas>,
}

/// Tokio's timer as the use-cases' [`q2c_service::contention::Sleeper`]: the pauses between
/// the attempts of a write that lost a version race.
struct TokioSleeper;

#[async_trait::async_trait]
impl q2c_service::contention::Sleeper for TokioSleeper {
    async fn sleep(&self, duration: std::time::Duration) {
        tokio::time::sleep(duration).await;
    }
}

impl AppState {
    /// Bundles the state. The quote use-cases pause between the attempts of a write that
    /// lost a race on the Tokio timer, unless given a sleeper of their own. The catalog is
    /// served with this server's hrefs (`config.public_base_url`).
    pub fn new(
        quotes: QuoteService,
        mut ports: Ports,
        auth: Authenticator,
        config: ApiConfig,
    ) -> Self {
        let quotes = if quotes.has_sleeper() {
            quotes
        } else {
            quotes.with_sleeper(Arc::new(TokioSleeper))
        };
        ports.catalog = Arc::new(ServedCatalog::new(
            ports.catalog,
            CatalogHrefs::new(&config.public_base_url),
        ));
        AppState {
            quotes,
            ports,
            auth: Arc::new(auth),
            config: Arc::new(config),
            pricing_queue: None,
            callback_policy: Arc::new(CallbackPolicy::deny_all()),
            deprecations: Arc::new(Vec::new()),
            quotas: Arc::new(quota::Quotas::default()),
        }
    }

    /// Sets the per-tenant quotas ([`quota::Quotas::new`]).
    #[must_use]
    pub fn with_quotas(mut self, quotas: quota::Quotas) -> Self {
        self.quotas = Arc::new(quotas);
        self
    }

    /// Sets the deprecated versions ([`deprecation::parse_deprecations`]).
    #[must_use]
    pub fn with_deprecations(mut self, deprecations: Vec<deprecation::VersionDeprecation>) -> Self {
        self.deprecations = Arc::new(deprecations);
        self
    }

    /// The state with the queue client the TMF620 listener enqueues on.
    #[must_use]
    pub fn with_pricing_queue(mut self, queue: Arc<dyn QueueClient>) -> Self {
        self.pricing_queue = Some(queue);
        self
    }

    /// Sets the hub callback policy (deploy-time allow-list; `CallbackPolicy::local()` for
    /// `q2c local`).
    #[must_use]
    pub fn with_callback_policy(mut self, policy: CallbackPolicy) -> Self {
        self.callback_policy = Arc::new(policy);
        self
    }
}

/// The whole HTTP surface. Layers, outermost first: deprecation headers, correlation id and
/// trace span, TMF630 error rendering, panic catching, body limit.
pub fn router(state: AppState) -> Router {
    layered(routes::routes(), state)
}

/// Wraps routes in the layers of [`router`] (tests add routes of their own).
pub(crate) fn layered(routes: Router<AppState>, state: AppState) -> Router {
    let body_limit = state.config.body_limit;
    routes
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(routes::panic_response))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            error::render_errors,
        ))
        .layer(correlation::trace_layer())
        .layer(middleware::from_fn(correlation::correlate))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            deprecation::announce,
        ))
        .with_state(state)
}
