//! The top of the command line: [`Cli`] (clap derive: the `///` comments are the help text)
//! and the dispatch to each command, whose module defines its own flags.

use clap::{Parser, Subcommand};

use crate::catalog_cmd::{self, CatalogCommand};
use crate::downstream_cmd::{self, DownstreamArgs};
use crate::listen::{self, ListenArgs};
use crate::local_cmd::{self, LocalArgs};
use crate::queue_cmd::{self, QueueCommand};
use crate::token_cmd::{self, TokenArgs};

pub use crate::flags::GLOBAL;
pub use crate::human::is_broken_pipe;

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

/// Runs the parsed command.
///
/// # Errors
/// Whatever the command fails with, with context.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Local(args) => local_cmd::run(*args).await,
        Command::Downstream(args) => downstream_cmd::run(args).await,
        Command::Listen(args) => listen::run(args).await,
        Command::Token(args) => token_cmd::run(args),
        Command::Queue(command) => queue_cmd::run(command).await,
        Command::Dlq(args) => crate::dlq::cmd::run(args).await,
        Command::Catalog(command) => catalog_cmd::run(command).await,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::CommandFactory;
    use q2c_service::Scope;

    use super::*;
    use crate::flags::{parse_rate, parse_scopes};

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
            args.into_config("secret".into()).expect("config")
        };
        let defaults = local(&[]);
        assert_eq!(defaults.quotas, q2c_api::quota::QuotaSettings::default());
        assert_eq!(
            defaults.server,
            q2c_embedded::server::ServerLimits::default()
        );
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
            args.into_config("secret".into())
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
