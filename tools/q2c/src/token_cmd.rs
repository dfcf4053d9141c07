//! `q2c token`: a development bearer token that `q2c local` accepts (HS256 with the data
//! directory's secret, or RS256 with a private key).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::flags::{GLOBAL, parse_duration, parse_scopes};

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
    #[arg(long, env = "Q2C_DATA_DIR", default_value_os_t = q2c_embedded::data_dir::default_dir(), help_heading = GLOBAL)]
    pub data_dir: PathBuf,
    /// Sign RS256 with this RSA private key (PEM), for a `q2c local --jwt-public-key` with
    /// the matching public key, instead of HS256 with the data directory's secret.
    #[arg(long)]
    pub private_key: Option<PathBuf>,
    /// Issuer (`iss`) of the token.
    #[arg(long, default_value = q2c_embedded::local::LOCAL_ISSUER)]
    pub issuer: String,
    /// Audience (`aud`) of the token.
    #[arg(long, default_value = q2c_embedded::local::LOCAL_AUDIENCE)]
    pub audience: String,
}

/// Prints the token.
///
/// # Errors
/// When the scopes, tenant or key are invalid, or the data directory has no secret.
pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    let scopes = parse_scopes(&args.scopes)?;
    q2c_service::TenantId::parse(&args.tenant)?;
    let token = match &args.private_key {
        Some(path) => {
            let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
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
