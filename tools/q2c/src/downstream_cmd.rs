//! `q2c downstream`: serves the fake TMF622 order management (`q2c_downstream::fake`) with
//! the fault knobs given as flags.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use q2c_downstream::fake;
use q2c_embedded::local::{bind_error, shutdown_signal};

use crate::flags::parse_rate;

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

/// Serves until Ctrl-C or SIGTERM, after printing the address.
///
/// # Errors
/// When the address is taken or serving fails.
pub async fn run(args: DownstreamArgs) -> anyhow::Result<()> {
    let config = fake::DownstreamConfig {
        fail_rate: args.fail_rate,
        latency: Duration::from_millis(args.latency_ms),
        down_for: Duration::from_secs(args.down_for_s),
        reject_match: args.reject_match,
        seed: args.seed,
        bearer: args.require_token.as_deref().map(fake::BearerToken::new),
        completion: None,
    };
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| bind_error(e, args.addr, "order management", "--addr"))?;
    // Printed (and flushed) so that scripts and tests using port 0 find the server.
    println!(
        "q2c downstream listening on http://{}",
        listener.local_addr()?
    );
    std::io::Write::flush(&mut std::io::stdout())?;
    fake::serve(config, listener, shutdown_signal()).await?;
    Ok(())
}
