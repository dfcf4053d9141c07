//! The `quote-api` Lambda function: the same axum router as `q2c local`
//! (`q2c_api::router`), over the DynamoDB adapters, behind API Gateway HTTP API with a JWT
//! authorizer. API Gateway verifies the token; [`gateway::copy_authorizer_claims`] hands
//! its claims to the router as `VerifiedClaims`, which `Authenticator::trusted_context`
//! turns into the request context.
//!
//! Every invocation counts its business metrics ([`q2c_runtime::Metric`]) and flushes one
//! EMF line.
#![warn(missing_docs)]

pub mod gateway;

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::response::Response;
use http::Method;
use q2c_api::deprecation::{VersionDeprecation, parse_deprecations};
use q2c_api::quota::{QuotaSettings, Quotas};
use q2c_api::{ApiConfig, AppState, Authenticator, QUOTE_API_BASE};
use q2c_aws::wiring::queue_prefix;
use q2c_aws::{DynamoSettings, DynamoStore, SqsQueues};
use q2c_runtime::{ConfigError, Metric, Metrics, optional, parsed_or, required};
use q2c_service::delivery::CallbackPolicy;
use q2c_service::messaging::{QueueClient, queues};
use q2c_service::ports::BoxError;
use q2c_service::ports::SystemClock;
use q2c_service::quotas::OpenQuoteCounts;
use q2c_service::{QuoteService, QuoteServiceConfig};
use tower::ServiceExt;

/// The function's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `TABLE_NAME`: the single table (required).
    pub table_name: String,
    /// `PUBLIC_BASE_URL`: base of hrefs and `Location`s; when unset it is taken from the
    /// first request (`https://<Host>[/<stage>]`).
    pub public_base_url: Option<String>,
    /// `DOCS_BASE_URL`: where `referenceError` links point (default: the repository).
    pub docs_base_url: String,
    /// `TENANT_CLAIM`: the claim holding the tenant (default `tenant`).
    pub tenant_claim: String,
    /// `PRICING_CHANGES_QUEUE_URL`: where the TMF620 listener enqueues catalog events; when
    /// unset the listener answers 503.
    pub pricing_changes_queue_url: Option<String>,
    /// `CALLBACK_ALLOWLIST`: hub callbacks subscribers may register (comma-separated).
    pub callback_allowlist: String,
    /// `SUBSCRIBER_QUEUE_PREFIX`: tenant `t`'s subscriber queue is `<prefix>t` (default:
    /// the stack's queue prefix + `subscriber-`).
    pub subscriber_queue_prefix: Option<String>,
    /// Per-tenant quotas: `TENANT_REQUESTS_PER_SECOND`, `TENANT_REQUEST_BURST`,
    /// `MAX_SUBSCRIPTIONS_PER_API`, `MAX_OPEN_QUOTES` (0 turns one off; defaults
    /// [`QuotaSettings::default`]). The request rate is per Lambda instance.
    pub quotas: QuotaSettings,
    /// `DEPRECATED_API_VERSIONS`: deprecated quote API versions, e.g. `v4:2027-06-30`
    /// (`q2c_api::deprecation::parse_deprecations`); empty by default.
    pub deprecated_api_versions: String,
}

impl Config {
    /// Reads the environment.
    ///
    /// # Errors
    /// [`ConfigError::Missing`] naming `TABLE_NAME` when it is unset;
    /// [`ConfigError::Invalid`] for a quota that is no number.
    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = QuotaSettings::default();
        Ok(Config {
            table_name: required("TABLE_NAME")?,
            public_base_url: optional("PUBLIC_BASE_URL"),
            docs_base_url: optional("DOCS_BASE_URL").unwrap_or_default(),
            tenant_claim: optional("TENANT_CLAIM").unwrap_or_else(|| "tenant".into()),
            pricing_changes_queue_url: optional("PRICING_CHANGES_QUEUE_URL")
                .filter(|url| !url.is_empty()),
            callback_allowlist: optional("CALLBACK_ALLOWLIST").unwrap_or_default(),
            subscriber_queue_prefix: optional("SUBSCRIBER_QUEUE_PREFIX"),
            quotas: QuotaSettings {
                requests_per_second: parsed_or(
                    "TENANT_REQUESTS_PER_SECOND",
                    defaults.requests_per_second,
                )?,
                burst: parsed_or("TENANT_REQUEST_BURST", defaults.burst)?,
                max_subscriptions_per_api: parsed_or(
                    "MAX_SUBSCRIPTIONS_PER_API",
                    defaults.max_subscriptions_per_api,
                )?,
                max_open_quotes: parsed_or("MAX_OPEN_QUOTES", defaults.max_open_quotes)?,
            },
            deprecated_api_versions: optional("DEPRECATED_API_VERSIONS").unwrap_or_default(),
        })
    }
}

/// The function: ports built once per container, the router built once per public URL.
pub struct QuoteApi {
    config: Config,
    store: DynamoStore,
    settings: DynamoSettings,
    pricing_queue: Option<Arc<dyn QueueClient>>,
    callback_policy: CallbackPolicy,
    deprecations: Vec<VersionDeprecation>,
    router: OnceLock<Router>,
    metrics: Arc<Metrics>,
}

impl QuoteApi {
    /// The function over its clients (build them once, from [`q2c_runtime::sdk_config`]).
    ///
    /// # Errors
    /// An invalid `CALLBACK_ALLOWLIST` entry, `PRICING_CHANGES_QUEUE_URL` or
    /// `DEPRECATED_API_VERSIONS`.
    pub fn new(
        config: Config,
        dynamo: aws_sdk_dynamodb::Client,
        sqs: aws_sdk_sqs::Client,
        metrics: Arc<Metrics>,
    ) -> Result<Self, BoxError> {
        let store = DynamoStore::new(dynamo, config.table_name.clone());
        let settings = DynamoSettings::new(store.clone());
        let pricing_queue = match &config.pricing_changes_queue_url {
            Some(url) => {
                let prefix = queue_prefix(url, queues::PRICING_CHANGES)?;
                let queues: Arc<dyn QueueClient> =
                    Arc::new(SqsQueues::new(sqs).with_prefix(prefix));
                Some(queues)
            }
            None => None,
        };
        // Tenants' callbacks: never one of the stack's own queues (the pricing queue names
        // them by prefix), their own subscriber queue by rule, or the allow-list. Billing gets
        // catalog events from hub delivery's built-in subscriber, not through this policy.
        let callback_policy = match &config.pricing_changes_queue_url {
            Some(url) => CallbackPolicy::for_deployment(
                &config.callback_allowlist,
                url,
                config.subscriber_queue_prefix.as_deref(),
            )?,
            None => CallbackPolicy::from_allowlist(&config.callback_allowlist)?,
        };
        let deprecations = parse_deprecations(&config.deprecated_api_versions)?;
        let api = QuoteApi {
            config,
            store,
            settings,
            pricing_queue,
            callback_policy,
            deprecations,
            router: OnceLock::new(),
            metrics,
        };
        if let Some(base) = api.config.public_base_url.clone() {
            let _ = api.router.set(api.build_router(&base));
        }
        Ok(api)
    }

    /// The router serving requests whose public base URL is `public_base_url`.
    pub fn build_router(&self, public_base_url: &str) -> Router {
        let ports = self
            .store
            .ports(Arc::new(self.settings.clone()), Arc::new(SystemClock));
        let base = public_base_url.trim_end_matches('/');
        let quotes = QuoteService::new(
            ports.clone(),
            QuoteServiceConfig {
                quote_href_base: format!("{base}{QUOTE_API_BASE}/quote"),
            },
        );
        let auth = Authenticator::trusted_context(self.config.tenant_claim.clone());
        let api_config = ApiConfig::new(base, self.config.docs_base_url.clone());
        let counts: Arc<dyn OpenQuoteCounts> = Arc::new(self.store.clone());
        let mut state = AppState::new(quotes, ports, auth, api_config)
            .with_callback_policy(self.callback_policy.clone())
            .with_quotas(Quotas::new(&self.config.quotas, Some(counts)))
            .with_deprecations(self.deprecations.clone());
        if let Some(queue) = &self.pricing_queue {
            state = state.with_pricing_queue(queue.clone());
        }
        q2c_api::router(state).layer(axum::middleware::from_fn(gateway::copy_authorizer_claims))
    }

    /// Serves one API Gateway request and counts its metrics (the caller flushes them).
    ///
    /// # Errors
    /// Never: failures are TMF630 responses.
    pub async fn handle(&self, mut request: lambda_http::Request) -> Result<Response, Infallible> {
        let router = self
            .router
            .get_or_init(|| self.build_router(&gateway::public_base_url(&request)))
            .clone();
        let context = request
            .extensions()
            .get::<lambda_http::request::RequestContext>();
        if let Some(uri) = gateway::strip_stage(request.uri(), gateway::stage(context)) {
            *request.uri_mut() = uri;
        }
        let counted = counted_metric(&request);
        let response = router.oneshot(request).await?;
        match counted {
            Some(Metric::QuotesCreated) if response.status().as_u16() == 201 => {
                self.metrics.add(Metric::QuotesCreated, 1);
            }
            Some(Metric::QuotesAccepted) if response.status().is_success() => {
                self.metrics.add(Metric::QuotesAccepted, 1);
            }
            _ => {}
        }
        Ok(response)
    }
}

/// The business metric a request would count if it succeeds: a `POST` of a quote, or a
/// `PATCH` of a quote that sets `state` to `accepted`.
fn counted_metric(request: &lambda_http::Request) -> Option<Metric> {
    let path = request.uri().path().trim_end_matches('/');
    let quotes = format!("{QUOTE_API_BASE}/quote");
    if request.method() == Method::POST && path == quotes {
        return Some(Metric::QuotesCreated);
    }
    if request.method() == Method::PATCH && path.starts_with(&format!("{quotes}/")) {
        let body: serde_json::Value = serde_json::from_slice(request.body().as_ref()).ok()?;
        if body.get("state").and_then(|s| s.as_str()) == Some("accepted") {
            return Some(Metric::QuotesAccepted);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use q2c_testkit::offline;

    fn config(deprecated: &str) -> Config {
        Config {
            table_name: "t".into(),
            public_base_url: Some("https://api.example.com".into()),
            docs_base_url: String::new(),
            tenant_claim: "tenant".into(),
            pricing_changes_queue_url: None,
            callback_allowlist: String::new(),
            subscriber_queue_prefix: None,
            quotas: QuotaSettings::default(),
            deprecated_api_versions: deprecated.into(),
        }
    }

    fn api(deprecated: &str) -> Result<QuoteApi, BoxError> {
        api_with(config(deprecated))
    }

    fn api_with(config: Config) -> Result<QuoteApi, BoxError> {
        // Clients that are never called: the function fails or starts before any request.
        QuoteApi::new(
            config,
            offline::dynamo_client(),
            offline::sqs_client(),
            Arc::new(Metrics::new("quote-api")),
        )
    }

    /// The reported hole: tenants could subscribe the stack's billing-updates queue. Now no
    /// queue of the stack is a callback, listed or not; a tenant's own subscriber queue is.
    #[test]
    fn tenants_may_subscribe_their_own_queue_never_the_stacks() {
        let queue = |name: &str| format!("arn:aws:sqs:eu-west-1:123456789012:{name}");
        let mut config = config("");
        config.pricing_changes_queue_url =
            Some("https://sqs.eu-west-1.amazonaws.com/123456789012/q2c-pricing-changes".into());
        let api = api_with(config.clone()).expect("starts");
        let acme = q2c_service::TenantId::parse("acme").expect("tenant");
        for name in [
            "q2c-billing-updates",
            "q2c-orders",
            "q2c-quote-events-dlq",
            "q2c-pricing-changes",
        ] {
            assert!(
                api.callback_policy.check(&acme, &queue(name)).is_err(),
                "{name}"
            );
        }
        assert!(
            api.callback_policy
                .check(&acme, &queue("q2c-subscriber-acme"))
                .is_ok()
        );
        config.callback_allowlist = queue("q2c-billing-updates");
        assert!(
            api_with(config).is_err(),
            "listing a system queue fails the start"
        );
    }

    #[test]
    fn deprecated_api_versions_are_validated_at_start() {
        assert!(api("").is_ok());
        let started = api("v4:2027-06-30").expect("a valid setting");
        assert_eq!(started.deprecations.len(), 1);
        assert!(api("v4:tomorrow").is_err());
        assert!(api("v5:2027-06-30").is_err());
    }
}
