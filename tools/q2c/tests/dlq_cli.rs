//! The `q2c dlq` command line: the clap definition is consistent, and every flag of every
//! subcommand (taken from clap's own definition, not a list kept here) is documented in the
//! `--help` the real binary prints.

use std::process::Command;

use clap::CommandFactory;
use q2c::cli::Cli;

#[test]
fn the_command_line_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn every_dlq_subcommand_help_documents_every_flag() {
    let mut cli = Cli::command();
    cli.build();
    let dlq = cli.find_subcommand("dlq").expect("a dlq command").clone();
    let mut checked = 0;
    for sub in dlq.get_subcommands().filter(|s| s.get_name() != "help") {
        let output = Command::new(env!("CARGO_BIN_EXE_q2c"))
            .args(["dlq", sub.get_name(), "--help"])
            .output()
            .expect("run q2c");
        assert!(output.status.success());
        let help = String::from_utf8(output.stdout).expect("utf-8");
        for arg in sub.get_arguments() {
            let documented = match (arg.get_long(), arg.get_help()) {
                (Some(long), Some(text)) => {
                    help.contains(&format!("--{long}")) && !text.to_string().is_empty()
                }
                (None, Some(_)) => help.contains(&arg.get_id().to_string().to_uppercase()),
                (_, None) => false,
            };
            assert!(
                documented,
                "`q2c dlq {} --help` does not document {:?}:\n{help}",
                sub.get_name(),
                arg.get_id()
            );
            checked += 1;
        }
    }
    // Eight subcommands, each with its own flags and the global target flags.
    assert!(checked > 8 * 7, "only {checked} flags checked");
    let output = Command::new(env!("CARGO_BIN_EXE_q2c"))
        .args(["dlq", "--help"])
        .output()
        .expect("run q2c");
    let help = String::from_utf8(output.stdout).expect("utf-8");
    for sub in dlq.get_subcommands() {
        assert!(help.contains(sub.get_name()), "{help}");
    }
}

#[test]
fn redrive_flags_parse() {
    use clap::Parser;
    let cli = Cli::try_parse_from([
        "q2c",
        "dlq",
        "redrive",
        "orders-dlq",
        "--filter",
        "event-type=ProductOrderCreateEvent",
        "--filter",
        "older-than=2h",
        "--rate",
        "50/s",
        "--dry-run",
        "--endpoint-url",
        "http://127.0.0.1:5055",
    ])
    .expect("valid flags");
    let q2c::cli::Command::Dlq(args) = cli.command else {
        panic!("not dlq")
    };
    assert_eq!(
        args.target.endpoint_url.as_deref(),
        Some("http://127.0.0.1:5055")
    );
    let q2c::dlq::cmd::DlqCommand::Redrive(redrive) = args.command else {
        panic!("not redrive")
    };
    assert_eq!(redrive.filters.len(), 2);
    assert_eq!(redrive.rate, Some(50.0));
    assert!(redrive.dry_run);
    assert!(Cli::try_parse_from(["q2c", "dlq", "redrive", "x", "--filter", "colour=red"]).is_err());
    assert!(Cli::try_parse_from(["q2c", "dlq", "redrive", "x", "--rate", "fast"]).is_err());
}
