//! `q2c local`: the whole system in one process on an embedded SQLite store — the same
//! router and use-cases the Lambda functions run, with local adapters.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use q2c_api::auth::{Authenticator, JwtKey, JwtVerifier, issue_dev_token};
use q2c_api::quota::{QuotaSettings, Quotas};
use q2c_api::{ApiConfig, AppState, QUOTE_API_BASE};
use q2c_local::{FileSettings, SqliteQueues, SqliteStore};
use q2c_model::sample_catalog::sample_catalog;
use q2c_service::delivery::CallbackPolicy;
use q2c_service::delivery::policy::DEFAULT_SUBSCRIBER_QUEUE_PREFIX;
use q2c_service::event_versions::SchemaMajor;
use q2c_service::ports::{Clock, Page, Ports, SystemClock};
use q2c_service::quotas::OpenQuoteCounts;
use q2c_service::{QuoteService, QuoteServiceConfig, Scope};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use q2c_downstream::fake::{self, DownstreamConfig};

use crate::consumers::{Consumers, ConsumersConfig};
pub use crate::data_dir::DATABASE_FILE;
use crate::relay_loop::RelayLoop;
use crate::relay_wake::WakingQuotes;
pub use crate::server::ServerLimits;

/// Issuer of local development tokens.
pub const LOCAL_ISSUER: &str = "q2c-local";
/// Audience of local development tokens.
pub const LOCAL_AUDIENCE: &str = "q2c";
/// Where the documentation (and so `referenceError` links) lives.
pub const DOCS_BASE_URL: &str = "https://github.com/q2c-dev/q2c/blob/main";
/// How often expired idempotency records and published outbox rows are removed.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(60);

/// Everything `q2c local` needs to start.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// Address to listen on (port 0 picks a free port).
    pub addr: SocketAddr,
    /// Data directory (database, settings).
    pub data_dir: PathBuf,
    /// Tenant settings file.
    pub settings_path: PathBuf,
    /// Public base URL for hrefs; default `http://<bound address>`.
    pub public_url: Option<String>,
    /// HS256 secret local tokens are signed with.
    pub jwt_secret: String,
    /// When set, tokens are RS256 and verified with this PEM public key instead.
    pub jwt_public_key_pem: Option<Vec<u8>>,
    /// Required `iss`.
    pub jwt_issuer: String,
    /// Required `aud`.
    pub jwt_audience: String,
    /// Run the queue consumers (price fan-out, hub delivery, order dispatch).
    pub consumers: bool,
    /// Order management's TMF622 base URL; `None`: the in-process fake on
    /// `downstream_addr`.
    pub downstream_url: Option<String>,
    /// Bearer token for order management (locally from configuration; on AWS from SSM).
    pub downstream_token: Option<String>,
    /// The schema major the relay and the consumers publish in.
    pub event_schema: SchemaMajor,
    /// Where the in-process fake order management listens (port 0: any free port).
    pub downstream_addr: SocketAddr,
    /// Fault knobs of the in-process fake.
    pub downstream: DownstreamConfig,
    /// The in-process fake completes every order it accepts this long after
    /// (`--downstream-complete-after-ms`; `None`: orders stay acknowledged).
    pub complete_orders_after: Option<Duration>,
    /// Deprecated quote API versions (`--deprecated-api-versions`).
    pub deprecated_api_versions: Vec<q2c_api::deprecation::VersionDeprecation>,
    /// Hub callbacks allowed beside the tenants' own subscriber queues
    /// (`--callback-allowlist`: `local:<queue>`, `local:*`, loopback URL prefixes).
    pub callback_allowlist: String,
    /// Tenant `t`'s subscriber queue is `local:<prefix>t` (`--subscriber-queue-prefix`).
    pub subscriber_queue_prefix: String,
    /// Per-tenant quotas.
    pub quotas: QuotaSettings,
    /// Slow- and idle-client limits of the HTTP server.
    pub server: ServerLimits,
}

impl LocalConfig {
    /// The defaults of `q2c local`: HS256 tokens signed with `jwt_secret`, settings in the
    /// data directory, hrefs on the bound address.
    pub fn with_defaults(addr: SocketAddr, data_dir: PathBuf, jwt_secret: String) -> Self {
        LocalConfig {
            addr,
            settings_path: data_dir.join("settings.toml"),
            data_dir,
            public_url: None,
            jwt_secret,
            jwt_public_key_pem: None,
            jwt_issuer: LOCAL_ISSUER.to_owned(),
            jwt_audience: LOCAL_AUDIENCE.to_owned(),
            consumers: true,
            downstream_url: None,
            downstream_token: None,
            event_schema: SchemaMajor::DEFAULT_EMIT,
            downstream_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            downstream: DownstreamConfig::default(),
            complete_orders_after: None,
            deprecated_api_versions: Vec::new(),
            callback_allowlist: String::new(),
            subscriber_queue_prefix: DEFAULT_SUBSCRIBER_QUEUE_PREFIX.to_owned(),
            quotas: QuotaSettings::default(),
            server: ServerLimits::default(),
        }
    }

    /// How the in-process fake completes orders: q2c's TMF622 listener on the bound address,
    /// with HS256 tokens it signs per tenant (`None` when completion is off, or tokens are
    /// RS256, which q2c cannot sign).
    fn fake_completion(&self, bound: SocketAddr) -> Option<fake::Completion> {
        let complete_after = self.complete_orders_after?;
        if self.jwt_public_key_pem.is_some() {
            tracing::warn!(
                "--downstream-complete-after-ms needs HS256 tokens; orders stay acknowledged"
            );
            return None;
        }
        let (secret, issuer, audience) = (
            self.jwt_secret.clone(),
            self.jwt_issuer.clone(),
            self.jwt_audience.clone(),
        );
        Some(fake::Completion {
            listener_url: format!(
                "http://{bound}/tmf-api/productOrderingManagement/v4/listener/productOrderStateChangeEvent"
            ),
            complete_after,
            token_for: Arc::new(move |tenant: &str| {
                q2c_service::TenantId::parse(tenant).ok()?;
                Some(issue_dev_token(
                    secret.as_bytes(),
                    tenant,
                    &[Scope::OrderWrite],
                    Duration::from_secs(3600),
                    &issuer,
                    &audience,
                ))
            }),
        })
    }

    /// The hub callback policy: loopback listeners, `local:<prefix><tenant>` subscriber
    /// queues, the allow-list; never a system queue.
    ///
    /// # Errors
    /// An allow-list entry that is invalid or names a system queue.
    pub fn callback_policy(&self) -> anyhow::Result<CallbackPolicy> {
        CallbackPolicy::local()
            .with_subscriber_queues(&self.subscriber_queue_prefix)
            .allow_all(&self.callback_allowlist)
            .context("--callback-allowlist")
    }

    fn verifier(&self) -> anyhow::Result<JwtVerifier> {
        let key = match &self.jwt_public_key_pem {
            Some(pem) => JwtKey::Rs256PublicPem(pem.clone()),
            None => JwtKey::Hs256Secret(self.jwt_secret.as_bytes().to_vec()),
        };
        let hint = match &self.jwt_public_key_pem {
            Some(_) => "mint one with the private key matching --jwt-public-key: `q2c token \
                        --private-key <private-key.pem>`"
                .to_owned(),
            None => format!(
                "mint one this server accepts with `q2c token --data-dir {}` (and the same \
                 Q2C_JWT_SECRET, if this server was started with one)",
                crate::data_dir::shown(&self.data_dir)
            ),
        };
        Ok(JwtVerifier::new(key, &self.jwt_issuer, &self.jwt_audience)
            .context("loading the token verification key")?
            .with_hint(hint))
    }
}

/// A started (bound, seeded) local system, ready to serve.
pub struct LocalApp {
    listener: TcpListener,
    router: axum::Router,
    store: SqliteStore,
    ports: Ports,
    public_url: String,
    relay_wake: Arc<Notify>,
    downstream_url: String,
    fake_downstream: Option<(TcpListener, DownstreamConfig)>,
    downstream_token: Option<String>,
    event_schema: SchemaMajor,
    consumers: bool,
    callback_policy: CallbackPolicy,
    limits: ServerLimits,
}

/// Opens the store, seeds the sample catalog into an empty catalog, builds the router and
/// binds the listener.
///
/// # Errors
/// When the data directory, database or settings cannot be opened, or the address is taken.
pub async fn start(config: &LocalConfig) -> anyhow::Result<LocalApp> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let db_path = config.data_dir.join(DATABASE_FILE);
    let store = SqliteStore::open(&db_path)
        .with_context(|| format!("opening database {}", db_path.display()))?;
    let settings = FileSettings::load(&config.settings_path)
        .with_context(|| format!("loading settings {}", config.settings_path.display()))?;
    seed_catalog_if_empty(&store).await?;

    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|e| bind_error(e, config.addr, "the API", "--addr (or Q2C_ADDR)"))?;
    let bound = listener.local_addr()?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{bound}"));

    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut ports = store.ports(Arc::new(settings), clock);
    let relay_wake = Arc::new(Notify::new());
    ports.quotes = Arc::new(WakingQuotes::new(ports.quotes, relay_wake.clone()));
    let quotes = QuoteService::new(
        ports.clone(),
        QuoteServiceConfig {
            quote_href_base: format!("{public_url}{QUOTE_API_BASE}/quote"),
        },
    );
    let verifier = config.verifier()?;
    let callback_policy = config.callback_policy()?;
    let counts: Arc<dyn OpenQuoteCounts> = Arc::new(store.clone());
    let api_config = ApiConfig::new(public_url.clone(), DOCS_BASE_URL);
    let (downstream_url, fake_downstream) = match &config.downstream_url {
        Some(url) => (url.clone(), None),
        None if !config.consumers => (String::new(), None),
        None => {
            let listener = bind_fake_downstream(config.downstream_addr).await?;
            let url = format!("http://{}", listener.local_addr()?);
            let mut fake = config.downstream.clone();
            fake.completion = config.fake_completion(bound);
            (url, Some((listener, fake)))
        }
    };
    let router = q2c_api::router(
        AppState::new(
            quotes,
            ports.clone(),
            Authenticator::jwt(verifier),
            api_config,
        )
        .with_pricing_queue(SqliteQueues::new(&store).queue_client())
        .with_callback_policy(callback_policy.clone())
        .with_quotas(Quotas::new(&config.quotas, Some(counts)))
        .with_deprecations(config.deprecated_api_versions.clone()),
    );
    Ok(LocalApp {
        listener,
        router,
        store,
        ports,
        public_url,
        relay_wake,
        downstream_url,
        fake_downstream,
        downstream_token: config.downstream_token.clone(),
        event_schema: config.event_schema,
        consumers: config.consumers,
        callback_policy,
        limits: config.server,
    })
}

/// An error for a failed bind that names the flag to change when the address is taken.
pub fn bind_error(
    error: std::io::Error,
    addr: SocketAddr,
    what: &str,
    flag: &str,
) -> anyhow::Error {
    if error.kind() == std::io::ErrorKind::AddrInUse {
        anyhow::anyhow!(
            "cannot serve {what} on {addr}: the address is already in use (another q2c local?). \
             Stop that process or choose another address with {flag}"
        )
    } else {
        anyhow::Error::new(error).context(format!("binding {what} on {addr}"))
    }
}

/// The in-process fake order management's listener: on `addr`, or, when that port is taken
/// (a second `q2c local`, a `q2c downstream` beside it), on a free port of the same host,
/// said in the log and in the banner ("orders to:"). Orders are dispatched to wherever it
/// listens, so nothing else depends on the port.
async fn bind_fake_downstream(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    match TcpListener::bind(addr).await {
        Ok(listener) => Ok(listener),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let fallback = SocketAddr::new(addr.ip(), 0);
            let listener = TcpListener::bind(fallback).await.map_err(|e| {
                bind_error(
                    e,
                    fallback,
                    "the fake order management",
                    "--downstream-addr",
                )
            })?;
            let bound = listener.local_addr()?;
            tracing::warn!(
                wanted = %addr,
                %bound,
                "{addr} is in use: the fake order management listens on {bound} instead \
                 (--downstream-addr chooses)"
            );
            Ok(listener)
        }
        Err(e) => Err(bind_error(
            e,
            addr,
            "the fake order management",
            "--downstream-addr",
        )),
    }
}

async fn seed_catalog_if_empty(store: &SqliteStore) -> anyhow::Result<()> {
    let existing = store
        .catalog_store()
        .list_offerings(Page {
            offset: 0,
            limit: 1,
        })
        .await?;
    if existing.total == 0 {
        let catalog = sample_catalog();
        let offerings: Vec<_> = catalog.offerings().cloned().collect();
        let prices: Vec<_> = catalog.prices().cloned().collect();
        store.load_catalog(&offerings, &prices).await?;
        tracing::info!(
            offerings = offerings.len(),
            prices = prices.len(),
            "seeded the sample catalog"
        );
    }
    Ok(())
}

impl LocalApp {
    /// The address the server listens on.
    ///
    /// # Errors
    /// When the socket has no local address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The public base URL (hrefs, Location headers).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Where orders are dispatched: order management's TMF622 base URL (the in-process fake's
    /// unless `--downstream-url` was given).
    pub fn downstream_url(&self) -> &str {
        &self.downstream_url
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests (for at most the
    /// drain bound, [`ServerLimits::drain_timeout`]), relays the events they wrote, and
    /// returns. Housekeeping and the outbox relay (to the embedded queues of the same
    /// database) run in the background meanwhile.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let store = self.store.clone();
        let housekeeping = tokio::spawn(async move {
            let mut every = tokio::time::interval(HOUSEKEEPING_EVERY);
            loop {
                every.tick().await;
                match store.housekeeping(time::OffsetDateTime::now_utc()).await {
                    Ok(report) => tracing::debug!(?report, "housekeeping"),
                    Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
                }
            }
        });
        let relay = RelayLoop::start(&self.store, self.relay_wake, self.event_schema);
        let (fake_stop, fake_stopped) = tokio::sync::oneshot::channel::<()>();
        let fake = self.fake_downstream.map(|(listener, config)| {
            tokio::spawn(fake::serve(config, listener, async move {
                let _ = fake_stopped.await;
            }))
        });
        let consumers = if self.consumers {
            crate::consumers::ensure_continuation_queue(&self.store).await?;
            let config = ConsumersConfig {
                downstream_token: self.downstream_token.clone(),
                emit: self.event_schema,
                policy: self.callback_policy,
                ..ConsumersConfig::new(&self.downstream_url)
            };
            Some(Consumers::start(&self.store, &self.ports, config)?)
        } else {
            None
        };
        crate::server::serve(self.listener, self.router, self.limits, shutdown).await;
        housekeeping.abort();
        relay.stop().await;
        if let Some(consumers) = consumers {
            consumers.stop().await;
        }
        let _ = fake_stop.send(());
        if let Some(fake) = fake {
            let _ = fake.await;
        }
        Ok(())
    }
}

/// A [`LocalApp`] serving on a task of its own ([`LocalApp::spawn`]) until [`Serving::stop`].
pub struct Serving {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl LocalApp {
    /// Serves on a task of its own — the system embedded in another program (a test) —
    /// until [`Serving::stop`].
    pub fn spawn(self) -> Serving {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(self.serve(async {
            let _ = stopped.await;
        }));
        Serving { stop, task }
    }
}

impl Serving {
    /// Stops as on a shutdown signal (in-flight requests finish, their events are relayed)
    /// and waits until it has.
    ///
    /// # Errors
    /// When serving failed, its task panicked, or it had stopped before.
    pub async fn stop(self) -> anyhow::Result<()> {
        let running = self.stop.send(()).is_ok();
        self.task.await??;
        anyhow::ensure!(running, "the server had stopped before it was told to");
        Ok(())
    }
}

/// How to get a token this server accepts: with the local HS256 secret, a development token
/// (tenant demo, all scopes, 12 h); with `--jwt-public-key` (RS256) none can be minted here,
/// so how to mint one with the matching private key.
///
/// # Errors
/// When the token cannot be issued.
pub fn token_help(config: &LocalConfig) -> anyhow::Result<String> {
    if config.jwt_public_key_pem.is_some() {
        let (issuer, audience) = (&config.jwt_issuer, &config.jwt_audience);
        return Ok([
            "  tokens:    RS256, verified with the public key given (--jwt-public-key). This server"
                .to_owned(),
            "             has no private key, so it prints no token; mint one with the matching"
                .to_owned(),
            "             private key:".to_owned(),
            String::new(),
            format!(
                "    export TOKEN=$(q2c token --private-key <private-key.pem> --issuer '{issuer}' --audience '{audience}' --tenant demo)"
            ),
            String::new(),
            format!(
                "             or have your identity provider issue one with iss {issuer}, aud {audience},"
            ),
            "             sub, exp, tenant (the tenant id) and scope (space-separated q2c scopes)."
                .to_owned(),
            String::new(),
        ]
        .join("\n"));
    }
    let token = dev_token(
        &config.jwt_secret,
        "demo",
        &Scope::ALL,
        Duration::from_secs(12 * 3600),
    )?;
    Ok(format!(
        "  dev token (tenant demo, all scopes, 12 h):\n\n    export TOKEN={token}\n"
    ))
}

/// A development token `q2c local` accepts.
///
/// # Errors
/// When the tenant is not a valid tenant id.
pub fn dev_token(
    secret: &str,
    tenant: &str,
    scopes: &[Scope],
    ttl: Duration,
) -> anyhow::Result<String> {
    q2c_service::TenantId::parse(tenant)?;
    Ok(issue_dev_token(
        secret.as_bytes(),
        tenant,
        scopes,
        ttl,
        LOCAL_ISSUER,
        LOCAL_AUDIENCE,
    ))
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
