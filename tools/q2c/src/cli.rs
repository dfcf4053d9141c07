//! The command-line definition (clap derive: the `///` comments are the help text) and the
//! dispatch to each command.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use q2c_service::Scope;

use anyhow::Context;

use crate::catalog_cmd;
use crate::flags::parse_duration;
use crate::local::{self, LocalConfig};
use crate::queue_cmd;
use crate::secret::signing_secret;

/// The heading of the options every command shares (the data directory, logging), shown apart
/// from each command's own.
pub const GLOBAL: &str = "Global options";

/// q2c: TM Forum quote-to-cash integration. Run the whole system locally, issue development
/// tokens, and operate it.
#[derive(Debug, Parser)]
#[command(name = "q2c", version, about, propagate_version = true)]
pub struct Cli {
    /// More logging: -v debug, -vv trace (RUST_LOG overrides).
    #[arg(short, long, action = clap::ArgAction::Count, global = true, help_heading = GLOBAL)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the TMF648 quote API (and everything behind it) on this machine, on an embedded
    /// SQLite store. Seeds the sample catalog on first start; stops cleanly on Ctrl-C/SIGTERM.
    Local(Box<LocalArgs>),
    /// Print a development bearer token that `q2c local` (same --data-dir) accepts.
    Token(TokenArgs),
    /// Read and write the embedded queues of a `q2c local` data directory (works while it
    /// runs).
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Dead-letter queues: list, peek, export, redrive, replay and purge them, on AWS
    /// (--endpoint-url, --region, --profile, --queue-prefix) or a `q2c local` data directory.
    Dlq(crate::dlq::cmd::DlqArgs),
    /// Change the local product catalog the way the operator's catalog would.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Serve a fake TMF622 order-management system (POST/GET /productOrder) with fault
    /// knobs, for tests and demos of the order dispatch.
    Downstream(DownstreamArgs),
    /// Receive hub callbacks and print each event, pretty, with its delivery headers: a
    /// subscriber to try `POST /hub` with (`"callback": "http://127.0.0.1:9000/listener"`).
    /// Answers 204 to every POST, on any path.
    Listen(ListenArgs),
}

/// Options of `q2c listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Address to listen on (port 0: any free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:9000")]
    pub addr: SocketAddr,
    /// Exit (status 0) once this many events were printed.
    #[arg(long)]
    pub exit_after: Option<u64>,
    /// Exit with status 1 when --exit-after events have not arrived within this time (e.g.
    /// 60s).
    #[arg(long, value_parser = parse_duration, requires = "exit_after")]
    pub timeout: Option<Duration>,
}

/// `q2c queue …`.
#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Print a queue's messages as JSON lines (messageId, receiveCount, sentAt, attributes,
    /// body) and DELETE them once printed (--keep leaves them): tail is the queue's consumer
    /// (e.g. of billing-updates, which nothing else consumes locally). Says how many it
    /// printed and deleted, on stderr.
    Tail(TailArgs),
    /// Send one message (a TMF event envelope read from a file) to a queue; its eventType,
    /// eventId and schemaVersion become message attributes.
    Send(SendArgs),
    /// Create a queue (and its -dlq) for a hub subscriber, e.g. `subscriber-acme`, which
    /// tenant acme then subscribes as `local:subscriber-acme`.
    Create(CreateArgs),
}

/// Options of `q2c queue create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Queue name (not a system queue).
    pub queue: String,
    /// Data directory of the `q2c local` whose queues to extend.
    #[arg(long, env = "Q2C_DATA_DIR", default_value_os_t = crate::data_dir::default_dir(), help_heading = GLOBAL)]
    pub data_dir: PathBuf,
}

/// Options of `q2c queue tail`.
#[derive(Debug, Args)]
pub struct TailArgs {
    /// Queue name: pricing-changes, orders, quote-events, billing-updates or `<name>-dlq`.
    pub queue: String,
    /// Print what is there now and exit (default: follow until Ctrl-C).
    #[arg(long)]
    pub once: bool,
    /// Leave the messages on the queue (received with a zero visibility timeout, which
    /// raises their receive count: after maxReceiveCount receives they move to the DLQ).
    #[arg(long)]
    pub keep: bool,
    /// Data directory of the `q2c local` whose queues to read.
    #[arg(long, env = "Q2C_DATA_DIR", default_value_os_t = crate::data_dir::default_dir(), help_heading = GLOBAL)]
    pub data_dir: PathBuf,
}

/// Options of `q2c queue send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// Queue name.
    pub queue: String,
    /// File holding the message body (a TMF event envelope: eventId, eventType, event).
    #[arg(long)]
    pub body_file: PathBuf,
    /// Extra message attribute, `name=value` (repeatable), e.g. `tenant=acme`.
    #[arg(long = "attribute", value_parser = parse_attribute)]
    pub attributes: Vec<(String, String)>,
    /// Data directory of the `q2c local` whose queues to write.
    #[arg(long, env = "Q2C_DATA_DIR", default_value_os_t = crate::data_dir::default_dir(), help_heading = GLOBAL)]
    pub data_dir: PathBuf,
}

/// `q2c catalog …`.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Change a price's amount: enqueues a ProductOfferingPriceAttributeValueChangeEvent
    /// (lastUpdate = now) on pricing-changes, as the catalog's event would; `q2c local`'s
    /// price fan-out applies it. Prints the old and new amount and the event id.
    PriceChange(PriceChangeArgs),
    /// Load a TMF620 export (a JSON array of offerings and prices, or an object with
    /// productOffering / productOfferingPrice arrays) into the local catalog: validates every
    /// entry (errors name the entry's JSON path), stores the valid ones that are new or newer
    /// than what is stored (by lastUpdate), and enqueues their change events on
    /// pricing-changes so subscribers hear of them. Re-running changes nothing. Exits 1 when
    /// some entries were invalid.
    Import(CatalogSyncArgs),
    /// Show what `import` would do with the file (same classification), writing nothing.
    Diff(CatalogSyncArgs),
}

/// Options of `q2c catalog import` and `q2c catalog diff`.
#[derive(Debug, Args)]
pub struct CatalogSyncArgs {
    /// The TMF620 catalog export (JSON).
    #[arg(long)]
    pub file: PathBuf,
    /// Data directory of the `q2c local` whose catalog to load or compare (import creates
    /// it when absent; diff refuses a directory without a database).
    #[arg(long, env = "Q2C_DATA_DIR", default_value_os_t = crate::data_dir::default_dir(), help_heading = GLOBAL)]
    pub data_dir: PathBuf,
    /// Use this DynamoDB table (an AWS deployment) instead of the data directory; import's
    /// events go to the SQS queue `<queue-prefix>pricing-changes`. Credentials and region
    /// from the AWS environment.
    #[arg(long)]
    pub table: Option<String>,
    /// Endpoint of DynamoDB and SQS (e.g. moto's http://127.0.0.1:5055); with --table.
    #[arg(long, requires = "table")]
    pub endpoint_url: Option<String>,
    /// AWS region (default: from the environment); with --table.
    #[arg(long, requires = "table")]
    pub region: Option<String>,
    /// Named profile of the AWS config files; with --table.
    #[arg(long, requires = "table")]
    pub profile: Option<String>,
    /// Prefix of the SQS queue names; with --table.
    #[arg(long, default_value = "", requires = "table")]
    pub queue_prefix: String,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

impl CatalogSyncArgs {
    /// Where the catalog goes.
    pub fn target(&self) -> catalog_cmd::SyncTarget {
        match &self.table {
            Some(table) => catalog_cmd::SyncTarget::Aws {
                table: table.clone(),
                endpoint_url: self.endpoint_url.clone(),
                region: self.region.clone(),
                profile: self.profile.clone(),
                queue_prefix: self.queue_prefix.clone(),
            },
            None => catalog_cmd::SyncTarget::Local {
                data_dir: self.data_dir.clone(),
            },
        }
    }
}

/// Options of `q2c catalog price-change`.
#[derive(Debug, Args)]
pub struct PriceChangeArgs {
    /// ProductOfferingPrice id (e.g. mobile-l-monthly).
    #[arg(long)]
    pub price: String,
    /// New amount, a decimal (e.g. 24.99).
    #[arg(long)]
    pub value: String,
    /// ISO 4217 currency (default: the price's current currency).
    #[arg(long)]
    pub currency: Option<String>,
    /// Data directory of the `q2c local` whose catalog changes.
    #[arg(long, env = "Q2C_DATA_DIR", default_value_os_t = crate::data_dir::default_dir(), help_heading = GLOBAL)]
    pub data_dir: PathBuf,
}

/// Options of `q2c downstream`.
#[derive(Debug, Args)]
pub struct DownstreamArgs {
    /// Address to listen on (port 0: any free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub addr: SocketAddr,
    /// Fraction (0 to 1) of POSTs answered 500; half of them after storing the order.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    pub fail_rate: f64,
    /// Delay before answering each POST, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Answer every POST 503 for this many seconds after start.
    #[arg(long, default_value_t = 0)]
    pub down_for_s: u64,
    /// Answer 400 (TMF630 error) to orders whose JSON body contains this text.
    #[arg(long)]
    pub reject_match: Option<String>,
    /// Seed of the random failures (reproducible runs).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Require `Authorization: Bearer <token>` on every POST (401 otherwise).
    #[arg(long)]
    pub require_token: Option<String>,
}

/// Options of `q2c local`.
#[derive(Debug, Args)]
pub struct LocalArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "Q2C_ADDR")]
    pub addr: SocketAddr,
    /// Directory for the database, the generated signing secret and settings.
    #[arg(long, env = "Q2C_DATA_DIR", default_value_os_t = crate::data_dir::default_dir(), help_heading = GLOBAL)]
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
    #[arg(long, default_value = crate::local::LOCAL_ISSUER, env = "Q2C_JWT_ISSUER")]
    pub jwt_issuer: String,
    /// Audience (`aud`) tokens must have.
    #[arg(long, default_value = crate::local::LOCAL_AUDIENCE, env = "Q2C_JWT_AUDIENCE")]
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

/// Options of `q2c token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Tenant the token is for.
    #[arg(long, default_value = "demo")]
    pub tenant: String,
    /// Comma-separated scopes (quote.read, quote.write, quote.approve, hub.write,
    /// catalog.read, catalog.write, order.read, order.write, inventory.read) or `all`.
    #[arg(long, default_value = "all", value_delimiter = ',')]
    pub scopes: Vec<String>,
    /// Lifetime, e.g. 30m, 1h, 2d.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub ttl: Duration,
    /// Data directory of the `q2c local` that must accept the token.
    #[arg(long, env = "Q2C_DATA_DIR", default_value_os_t = crate::data_dir::default_dir(), help_heading = GLOBAL)]
    pub data_dir: PathBuf,
    /// Sign RS256 with this RSA private key (PEM), for a `q2c local --jwt-public-key` with
    /// the matching public key, instead of HS256 with the data directory's secret.
    #[arg(long)]
    pub private_key: Option<PathBuf>,
    /// Issuer (`iss`) of the token.
    #[arg(long, default_value = crate::local::LOCAL_ISSUER)]
    pub issuer: String,
    /// Audience (`aud`) of the token.
    #[arg(long, default_value = crate::local::LOCAL_AUDIENCE)]
    pub audience: String,
}

/// Runs the parsed command.
///
/// # Errors
/// Whatever the command fails with, with context.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Local(args) => {
            let secret = signing_secret(std::env::var("Q2C_JWT_SECRET").ok(), &args.data_dir)?;
            let config = LocalConfig::new(*args, secret)?;
            local::run_until_signal(config).await
        }
        Command::Downstream(args) => {
            let config = crate::downstream::DownstreamConfig {
                fail_rate: args.fail_rate,
                latency: Duration::from_millis(args.latency_ms),
                down_for: Duration::from_secs(args.down_for_s),
                reject_match: args.reject_match,
                seed: args.seed,
                bearer: args
                    .require_token
                    .as_deref()
                    .map(crate::downstream::BearerToken::new),
                completion: None,
            };
            let listener = tokio::net::TcpListener::bind(args.addr)
                .await
                .map_err(|e| local::bind_error(e, args.addr, "order management", "--addr"))?;
            // Printed (and flushed) so that scripts and tests using port 0 find the server.
            println!(
                "q2c downstream listening on http://{}",
                listener.local_addr()?
            );
            std::io::Write::flush(&mut std::io::stdout())?;
            crate::downstream::serve(config, listener, local::shutdown_signal()).await?;
            Ok(())
        }
        Command::Listen(args) => listen_command(args).await,
        Command::Token(args) => {
            let scopes = parse_scopes(&args.scopes)?;
            q2c_service::TenantId::parse(&args.tenant)?;
            let token = match &args.private_key {
                Some(path) => {
                    let pem = std::fs::read(path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    q2c_api::issue_rs256_token(
                        &pem,
                        &args.tenant,
                        &scopes,
                        args.ttl,
                        &args.issuer,
                        &args.audience,
                    )
                    .with_context(|| format!("{} is not an RSA private key", path.display()))?
                }
                None => {
                    let secret = crate::secret::existing_signing_secret(
                        std::env::var("Q2C_JWT_SECRET").ok(),
                        &args.data_dir,
                    )?;
                    q2c_api::issue_dev_token(
                        secret.as_bytes(),
                        &args.tenant,
                        &scopes,
                        args.ttl,
                        &args.issuer,
                        &args.audience,
                    )
                }
            };
            println!("{token}");
            Ok(())
        }
        Command::Queue(QueueCommand::Tail(args)) => {
            let store = queue_cmd::open_store(&args.data_dir)?;
            let queues = q2c_local::SqliteQueues::new(&store);
            let mut out = std::io::stdout();
            let tail = queue_cmd::tail(&queues, &args.queue, args.once, args.keep, &mut out);
            let printed = tokio::select! {
                printed = tail => match printed {
                    Ok(printed) => printed,
                    // `q2c queue tail … | head`: the reader is gone, end quietly.
                    Err(e) if is_broken_pipe(&e) => return Ok(()),
                    Err(e) => return Err(e),
                },
                () = local::shutdown_signal() => return Ok(()),
            };
            // On stderr: stdout carries the messages only.
            match (printed, args.keep) {
                (0, _) => eprintln!("{}: no messages", args.queue),
                (n, false) => eprintln!(
                    "{}: {n} message(s) printed and deleted (--keep leaves them)",
                    args.queue
                ),
                (n, true) => eprintln!("{}: {n} message(s) printed, left on the queue", args.queue),
            }
            Ok(())
        }
        Command::Queue(QueueCommand::Create(args)) => {
            let store = queue_cmd::open_store(&args.data_dir)?;
            queue_cmd::create(&q2c_local::SqliteQueues::new(&store), &args.queue).await?;
            println!("local:{}", args.queue);
            Ok(())
        }
        Command::Queue(QueueCommand::Send(args)) => {
            let store = queue_cmd::open_store(&args.data_dir)?;
            let body = std::fs::read_to_string(&args.body_file)
                .with_context(|| format!("reading {}", args.body_file.display()))?;
            let queues = q2c_local::SqliteQueues::new(&store);
            let attributes = args.attributes.into_iter().collect();
            let id = queue_cmd::send(&queues, &args.queue, &body, &attributes).await?;
            println!("{id}");
            Ok(())
        }
        Command::Dlq(args) => crate::dlq::cmd::run(args).await,
        Command::Catalog(CatalogCommand::Import(args)) => {
            catalog_sync_command(&args, catalog_cmd::SyncMode::Import).await
        }
        Command::Catalog(CatalogCommand::Diff(args)) => {
            catalog_sync_command(&args, catalog_cmd::SyncMode::Diff).await
        }
        Command::Catalog(CatalogCommand::PriceChange(args)) => {
            let changed = queue_cmd::price_change(
                &args.data_dir,
                &args.price,
                &args.value,
                args.currency.as_deref(),
            )
            .await?;
            println!("{}", changed.describe(&args.price));
            Ok(())
        }
    }
}

/// Whether `error` is a write to a closed pipe (the reader of stdout went away).
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Runs `q2c listen` until its events arrived (or the timeout, or Ctrl-C).
async fn listen_command(args: ListenArgs) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| local::bind_error(e, args.addr, "the listener", "--addr"))?;
    let bound = listener.local_addr()?;
    // On stderr: stdout carries the events only (`q2c listen | tee events.log`).
    eprintln!(
        "q2c listen: printing the events POSTed to http://{bound}/<any path> (e.g. \
         http://{bound}/listener), answering 204"
    );
    let sink: crate::listen::Sink = std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let timeout = args.timeout;
    let stop = async move {
        match timeout {
            Some(limit) => {
                tokio::select! {
                    () = local::shutdown_signal() => {}
                    () = tokio::time::sleep(limit) => {}
                }
            }
            None => local::shutdown_signal().await,
        }
    };
    let printed = crate::listen::serve(listener, sink, args.exit_after, stop).await?;
    match args.exit_after {
        Some(wanted) if printed < wanted => anyhow::bail!(
            "q2c listen: {printed} of {wanted} events arrived within {}",
            humantime::format_duration(args.timeout.unwrap_or_default())
        ),
        _ => Ok(()),
    }
}

/// Runs `q2c catalog import|diff` and prints its report; exit status 1 when entries were
/// invalid (the valid ones are imported all the same).
async fn catalog_sync_command(
    args: &CatalogSyncArgs,
    mode: catalog_cmd::SyncMode,
) -> anyhow::Result<()> {
    let report = catalog_cmd::sync(&args.file, &args.target(), mode, !args.quiet).await?;
    catalog_cmd::print_report(&report, mode);
    if report.summary.invalid > 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// Parses `name=value`.
///
/// # Errors
/// When there is no `=` or the name is empty.
pub fn parse_attribute(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("`{raw}`: expected name=value")),
    }
}

/// Parses `all` or a list of scope names.
///
/// # Errors
/// When a name is not a q2c scope.
pub fn parse_scopes(raw: &[String]) -> anyhow::Result<Vec<Scope>> {
    if raw.iter().any(|s| s == "all") {
        return Ok(Scope::ALL.to_vec());
    }
    raw.iter()
        .map(|s| Scope::parse(s.trim()).ok_or_else(|| anyhow::anyhow!("unknown scope `{s}`")))
        .collect()
}

/// Parses a fraction between 0 and 1.
///
/// # Errors
/// When the text is not a number in 0..=1.
pub fn parse_rate(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!(
            "`{raw}`: expected a fraction between 0 and 1, e.g. 0.3"
        )),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// The help of `q2c <path…>`, as `--help` prints it.
    fn help(path: &[&str]) -> String {
        let mut command = Cli::command();
        command.build();
        let mut current = &mut command;
        for name in path {
            current = current
                .find_subcommand_mut(name)
                .unwrap_or_else(|| panic!("no subcommand {name}"));
        }
        current.render_long_help().to_string()
    }

    #[test]
    fn shared_options_are_shown_under_their_own_heading_after_the_command_s_own() {
        let token = help(&["token"]);
        let (own, global) = token
            .split_once("Global options:")
            .expect("a Global options heading");
        assert!(own.contains("--tenant"), "{token}");
        assert!(global.contains("--data-dir <DATA_DIR>"), "{token}");
        assert!(!own.contains("--data-dir <DATA_DIR>"), "{token}");
        assert!(global.contains("Q2C_DATA_DIR"), "{token}");

        let peek = help(&["dlq", "peek"]);
        let (own, target) = peek
            .split_once("Where the queues are")
            .expect("the heading of the queue-choosing flags");
        assert!(own.contains("--limit"), "{peek}");
        for shared in [
            "--queues <",
            "--endpoint-url <",
            "--profile <",
            "--queue-prefix <",
        ] {
            assert!(!own.contains(shared), "{shared} among peek's own: {peek}");
            assert!(target.contains(shared), "{peek}");
        }
    }

    #[test]
    fn rates_are_fractions() {
        assert_eq!(parse_rate("0.3"), Ok(0.3));
        assert_eq!(parse_rate("0"), Ok(0.0));
        assert_eq!(parse_rate("1"), Ok(1.0));
        assert!(parse_rate("1.5").is_err());
        assert!(parse_rate("-0.1").is_err());
        assert!(parse_rate("30%").is_err());
    }

    #[test]
    fn downstream_flags_parse() {
        let cli = Cli::try_parse_from([
            "q2c",
            "downstream",
            "--fail-rate",
            "0.3",
            "--latency-ms",
            "20",
            "--down-for-s",
            "60",
            "--reject-match",
            "bad",
            "--seed",
            "7",
        ])
        .expect("valid flags");
        let Command::Downstream(args) = cli.command else {
            panic!("not the downstream command")
        };
        assert_eq!(args.fail_rate, 0.3);
        assert_eq!(
            (args.latency_ms, args.down_for_s, args.seed),
            (20, 60, Some(7))
        );
        assert_eq!(args.reject_match.as_deref(), Some("bad"));
        assert_eq!(args.addr.to_string(), "127.0.0.1:8081");
    }

    #[test]
    fn quota_and_server_flags_reach_the_local_config_with_documented_defaults() {
        let local = |flags: &[&str]| {
            let cli = Cli::try_parse_from([&["q2c", "local"], flags].concat()).expect("valid");
            let Command::Local(args) = cli.command else {
                panic!("not the local command")
            };
            crate::local::LocalConfig::new(*args, "secret".into()).expect("config")
        };
        let defaults = local(&[]);
        assert_eq!(defaults.quotas, q2c_api::quota::QuotaSettings::default());
        assert_eq!(defaults.server, crate::server::ServerLimits::default());
        assert_eq!(defaults.subscriber_queue_prefix, "subscriber-");
        assert_eq!(
            (defaults.quotas.requests_per_second, defaults.quotas.burst),
            (50, 100)
        );
        let set = local(&[
            "--tenant-requests-per-second",
            "0",
            "--tenant-request-burst",
            "7",
            "--max-subscriptions-per-api",
            "3",
            "--max-open-quotes",
            "9",
            "--header-timeout",
            "2s",
            "--body-timeout",
            "1m",
            "--max-connections",
            "16",
            "--drain-timeout",
            "5s",
            "--callback-allowlist",
            "local:crm",
            "--subscriber-queue-prefix",
            "sub-",
        ]);
        assert_eq!(set.quotas.requests_per_second, 0);
        assert_eq!(set.quotas.burst, 7);
        assert_eq!(set.quotas.max_subscriptions_per_api, 3);
        assert_eq!(set.quotas.max_open_quotes, 9);
        assert_eq!(set.server.header_timeout, Duration::from_secs(2));
        assert_eq!(set.server.body_timeout, Duration::from_secs(60));
        assert_eq!(set.server.max_connections, 16);
        assert_eq!(set.server.drain_timeout, Duration::from_secs(5));
        let policy = set.callback_policy().expect("valid allow-list");
        let acme = q2c_service::TenantId::parse("acme").expect("tenant");
        assert!(policy.check(&acme, "local:crm").is_ok());
        assert!(policy.check(&acme, "local:sub-acme").is_ok());
        assert!(policy.check(&acme, "local:subscriber-acme").is_err());
        let system = local(&["--callback-allowlist", "local:orders"]);
        assert!(system.callback_policy().is_err(), "a system queue listed");
    }

    #[test]
    fn the_deprecated_versions_flag_reaches_the_local_config() {
        let local = |flag: &str| {
            let cli = Cli::try_parse_from(["q2c", "local", "--deprecated-api-versions", flag])
                .expect("valid flags");
            let Command::Local(args) = cli.command else {
                panic!("not the local command")
            };
            crate::local::LocalConfig::new(*args, "secret".into())
        };
        let config = local("v4:2027-06-30").expect("a valid setting");
        assert_eq!(config.deprecated_api_versions.len(), 1);
        assert_eq!(
            config.deprecated_api_versions[0].base,
            q2c_api::QUOTE_API_BASE
        );
        assert!(local("v5:2027-06-30").is_err(), "v5 has no successor");
    }

    #[test]
    fn scopes_parse_by_name_or_all() {
        let some = parse_scopes(&["quote.read".into(), "hub.write".into()]).expect("known");
        assert_eq!(some, vec![Scope::QuoteRead, Scope::HubWrite]);
        assert_eq!(
            parse_scopes(&["all".into()]).expect("all").len(),
            Scope::ALL.len()
        );
        assert!(parse_scopes(&["quote.delete".into()]).is_err());
    }
}
