//! `q2c local`: its flags ([`LocalArgs`]), turned into a [`LocalConfig`] of
//! `q2c_embedded::local`, which runs the system; this module prints how to use it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use q2c_api::QUOTE_API_BASE;
use q2c_api::quota::QuotaSettings;
use q2c_downstream::fake::DownstreamConfig;
use q2c_embedded::local::{self, LocalConfig, ServerLimits};

use crate::flags::{GLOBAL, parse_duration, parse_rate};
use crate::secret::signing_secret;

/// Options of `q2c local`.
#[derive(Debug, Args)]
pub struct LocalArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "Q2C_ADDR")]
    pub addr: SocketAddr,
    /// Directory for the database, the generated signing secret and settings.
    #[arg(long, env = "Q2C_DATA_DIR", default_value_os_t = q2c_embedded::data_dir::default_dir(), help_heading = GLOBAL)]
    pub data_dir: PathBuf,
    /// Tenant settings file (TOML); default: `<data-dir>/settings.toml` when present, else
    /// built-in defaults (tax 20 %, approval threshold 15 %, 30 days validity, EUR).
    #[arg(long, env = "Q2C_SETTINGS")]
    pub settings: Option<PathBuf>,
    /// Public base URL used in hrefs and Location headers (default: `http://<addr>`).
    #[arg(long, env = "Q2C_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Verify RS256 tokens with this PEM public key (e.g. your identity provider's) instead
    /// of HS256 tokens signed with the local secret.
    #[arg(long, env = "Q2C_JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<PathBuf>,
    /// Issuer (`iss`) tokens must have.
    #[arg(long, default_value = q2c_embedded::local::LOCAL_ISSUER, env = "Q2C_JWT_ISSUER")]
    pub jwt_issuer: String,
    /// Audience (`aud`) tokens must have.
    #[arg(long, default_value = q2c_embedded::local::LOCAL_AUDIENCE, env = "Q2C_JWT_AUDIENCE")]
    pub jwt_audience: String,
    /// Serve the API and relay the outbox, but run no queue consumers (price fan-out, hub
    /// delivery, order dispatch), leaving the queues to other readers such as `q2c queue tail`.
    #[arg(long)]
    pub no_consumers: bool,
    /// Dispatch orders to this order-management TMF622 base URL instead of the in-process
    /// fake (which then does not start).
    #[arg(long, env = "Q2C_DOWNSTREAM_URL")]
    pub downstream_url: Option<String>,
    /// Schema major of the messages it publishes (4 or 5); it reads both whatever this says.
    #[arg(long, default_value = "4", env = "Q2C_EVENT_SCHEMA_VERSION")]
    pub event_schema_version: q2c_service::event_versions::SchemaMajor,
    /// Deprecated quote API versions, announced with Deprecation, Sunset and successor Link
    /// headers: `VERSION:SUNSET` or `VERSION:DEPRECATED_SINCE:SUNSET`, comma-separated, dates
    /// YYYY-MM-DD (e.g. `v4:2027-06-30`; docs/versioning.md).
    #[arg(long, env = "Q2C_DEPRECATED_API_VERSIONS", default_value = "")]
    pub deprecated_api_versions: String,
    /// Bearer token sent to order management (`Authorization: Bearer …`); none by default.
    #[arg(long, env = "Q2C_DOWNSTREAM_TOKEN", hide_env_values = true)]
    pub downstream_token: Option<String>,
    /// Address of the in-process fake order management (`GET /productOrder` lists what it
    /// received).
    #[arg(long, default_value = "127.0.0.1:8081", env = "Q2C_DOWNSTREAM_ADDR")]
    pub downstream_addr: SocketAddr,
    /// The fake's fraction (0 to 1) of POSTs answered 500.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    pub downstream_fail_rate: f64,
    /// The fake's delay before answering each POST, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub downstream_latency_ms: u64,
    /// The fake answers every POST 503 for this many seconds after start.
    #[arg(long, default_value_t = 0)]
    pub downstream_down_for_s: u64,
    /// The fake answers 400 to orders whose JSON body contains this text.
    #[arg(long)]
    pub downstream_reject_match: Option<String>,
    /// The fake completes every order it accepts this many milliseconds later (0: at once),
    /// reporting acknowledged, inProgress and completed to q2c's TMF622 listener; without it
    /// orders stay acknowledged.
    #[arg(long)]
    pub downstream_complete_after_ms: Option<u64>,
    /// Hub callbacks allowed beside each tenant's own subscriber queue, comma-separated:
    /// `local:<queue>` (any tenant may name it), `local:*`, loopback URL prefixes. System
    /// queues (quote-events, orders, pricing-changes, billing-updates, any -dlq) never.
    #[arg(long, env = "Q2C_CALLBACK_ALLOWLIST", default_value = "")]
    pub callback_allowlist: String,
    /// Tenant `t` may subscribe the embedded queue `local:<prefix>t` (create it with
    /// `q2c queue create`).
    #[arg(long, env = "Q2C_SUBSCRIBER_QUEUE_PREFIX", default_value = q2c_service::delivery::policy::DEFAULT_SUBSCRIBER_QUEUE_PREFIX)]
    pub subscriber_queue_prefix: String,
    /// Sustained requests per second per tenant (0: no rate quota); beyond it 429.
    #[arg(long, env = "Q2C_TENANT_REQUESTS_PER_SECOND", default_value_t = q2c_api::quota::DEFAULT_REQUESTS_PER_SECOND)]
    pub tenant_requests_per_second: u32,
    /// Requests a tenant may send at once (the token bucket's size).
    #[arg(long, env = "Q2C_TENANT_REQUEST_BURST", default_value_t = q2c_api::quota::DEFAULT_BURST)]
    pub tenant_request_burst: u32,
    /// Hub subscriptions per tenant on each hub (0: no quota); beyond it 422.
    #[arg(long, env = "Q2C_MAX_SUBSCRIPTIONS_PER_API", default_value_t = q2c_api::quota::DEFAULT_MAX_SUBSCRIPTIONS_PER_API)]
    pub max_subscriptions_per_api: u64,
    /// Open quotes per tenant (0: no quota; soft: counted as the relay publishes).
    #[arg(long, env = "Q2C_MAX_OPEN_QUOTES", default_value_t = q2c_api::quota::DEFAULT_MAX_OPEN_QUOTES)]
    pub max_open_quotes: u64,
    /// Time a client has to send a request header (also the idle keep-alive timeout).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: Duration,
    /// Time a client has to send a request body; beyond it 408 and the connection closes.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub body_timeout: Duration,
    /// Most HTTP connections open at once; more wait to be accepted.
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// On Ctrl-C/SIGTERM, how long open connections may finish before they are closed.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub drain_timeout: Duration,
}

impl LocalArgs {
    /// The configuration these flags and the signing secret make.
    ///
    /// # Errors
    /// When the public key file cannot be read or `--deprecated-api-versions` is invalid.
    pub fn into_config(self, jwt_secret: String) -> anyhow::Result<LocalConfig> {
        let args = self;
        let deprecated_api_versions =
            q2c_api::deprecation::parse_deprecations(&args.deprecated_api_versions)?;
        let settings_path = args
            .settings
            .unwrap_or_else(|| args.data_dir.join("settings.toml"));
        let jwt_public_key_pem = args
            .jwt_public_key
            .map(|path| std::fs::read(&path).with_context(|| format!("reading {}", path.display())))
            .transpose()?;
        Ok(LocalConfig {
            addr: args.addr,
            data_dir: args.data_dir,
            settings_path,
            public_url: args.public_url,
            jwt_secret,
            jwt_public_key_pem,
            jwt_issuer: args.jwt_issuer,
            jwt_audience: args.jwt_audience,
            consumers: !args.no_consumers,
            downstream_url: args.downstream_url,
            downstream_token: args.downstream_token,
            event_schema: args.event_schema_version,
            downstream_addr: args.downstream_addr,
            downstream: DownstreamConfig {
                fail_rate: args.downstream_fail_rate,
                latency: Duration::from_millis(args.downstream_latency_ms),
                down_for: Duration::from_secs(args.downstream_down_for_s),
                reject_match: args.downstream_reject_match,
                seed: None,
                bearer: None,
                completion: None,
            },
            complete_orders_after: args.downstream_complete_after_ms.map(Duration::from_millis),
            deprecated_api_versions,
            callback_allowlist: args.callback_allowlist,
            subscriber_queue_prefix: args.subscriber_queue_prefix,
            quotas: QuotaSettings {
                requests_per_second: args.tenant_requests_per_second,
                burst: args.tenant_request_burst,
                max_subscriptions_per_api: args.max_subscriptions_per_api,
                max_open_quotes: args.max_open_quotes,
            },
            server: ServerLimits {
                header_timeout: args.header_timeout,
                body_timeout: args.body_timeout,
                max_connections: args.max_connections,
                drain_timeout: args.drain_timeout,
            },
        })
    }
}

/// Runs `q2c local` with the data directory's signing secret (or `Q2C_JWT_SECRET`).
///
/// # Errors
/// When the secret or the configuration cannot be had, or starting or serving fails.
pub async fn run(args: LocalArgs) -> anyhow::Result<()> {
    let secret = signing_secret(std::env::var("Q2C_JWT_SECRET").ok(), &args.data_dir)?;
    let config = args.into_config(secret)?;
    run_until_signal(config).await
}

/// Starts, prints how to use it, and serves until Ctrl-C or SIGTERM.
///
/// # Errors
/// When starting or serving fails.
pub async fn run_until_signal(config: LocalConfig) -> anyhow::Result<()> {
    let started = Instant::now();
    let app = local::start(&config).await?;
    let url = app.public_url().to_owned();
    println!(
        "q2c local is ready at {url} (in {} ms)",
        started.elapsed().as_millis()
    );
    println!("  data dir:  {}", config.data_dir.display());
    println!("  API:       {url}{QUOTE_API_BASE}/quote");
    println!("  OpenAPI:   {url}{QUOTE_API_BASE}/openapi.json");
    println!(
        "  orders to: {} (GET /productOrder lists what order management received)",
        app.downstream_url()
    );
    println!("{}", local::token_help(&config)?);
    println!(
        "  try:       curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\\n             -d '{{\"quoteItem\":[{{\"productOffering\":{{\"id\":\"mobile-l\"}},\"quantity\":1}}]}}' \\\n             {url}{QUOTE_API_BASE}/quote\n"
    );
    app.serve(local::shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}
