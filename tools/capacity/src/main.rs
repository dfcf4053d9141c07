//! `q2c-capacity`: prices a recording by AWS's rules and prints the cost table.
//!
//! ```text
//! q2c-capacity --template infra/template.yaml --recording run.jsonl \
//!     --units 1000 --unit-name lifecycle --rate 1000 [--top 15] [--check] \
//!     [--sharded 'OUTBOX#PENDING#=32' ...]
//! ```
//! `--check` exits 1 when a partition key would pass DynamoDB's per-partition limits at the
//! rate, naming it. `--sharded PREFIX=N` declares the keys `PREFIX0` … `PREFIX<N-1>` one
//! family chosen by a uniform hash: reported and checked per shard, the family's load / N
//! (see `report::ShardedKeys`).

use anyhow::{Context, bail};
use q2c_capacity::record::parse_lines;
use q2c_capacity::replay::Replay;
use q2c_capacity::report::{
    PARTITION_RCU_PER_SECOND, PARTITION_WCU_PER_SECOND, Report, ShardedKeys,
};
use q2c_capacity::schema::TableSchema;

struct Args {
    template: String,
    recording: String,
    units: f64,
    unit_name: String,
    rate: f64,
    top: usize,
    check: bool,
    sharded: Vec<ShardedKeys>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        template: "infra/template.yaml".into(),
        recording: String::new(),
        units: 1.0,
        unit_name: "request".into(),
        rate: 1.0,
        top: 15,
        check: false,
        sharded: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--template" => args.template = value()?,
            "--recording" => args.recording = value()?,
            "--units" => args.units = value()?.parse().context("--units")?,
            "--unit-name" => args.unit_name = value()?,
            "--rate" => args.rate = value()?.parse().context("--rate")?,
            "--top" => args.top = value()?.parse().context("--top")?,
            "--check" => args.check = true,
            "--sharded" => args
                .sharded
                .push(value()?.parse().map_err(anyhow::Error::msg)?),
            "--help" | "-h" => {
                println!(
                    "q2c-capacity --recording FILE [--template infra/template.yaml] [--units N] [--unit-name NAME] [--rate PER_SECOND] [--top N] [--check] [--sharded PREFIX=N ...]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other} (try --help)"),
        }
    }
    if args.recording.is_empty() {
        bail!("--recording FILE is required (try --help)");
    }
    Ok(args)
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let template = std::fs::read_to_string(&args.template)
        .with_context(|| format!("reading {}", args.template))?;
    let schemas = TableSchema::from_template(&template)?;
    let text = std::fs::read_to_string(&args.recording)
        .with_context(|| format!("reading {}", args.recording))?;
    let records = parse_lines(&text).map_err(anyhow::Error::msg)?;
    let mut replay = Replay::new(schemas);
    replay.run(&records)?;
    let report = Report::new(&replay.charges, &replay.requests, &replay.entity_keys())
        .with_sharded(args.sharded.clone());
    print!(
        "{}",
        report.markdown(&args.unit_name, args.units, args.rate, args.top)
    );
    if args.check {
        let over: Vec<_> = report
            .key_load_at(args.units, args.rate)
            .into_iter()
            .filter(|(_, _, l)| {
                l.write_units > PARTITION_WCU_PER_SECOND || l.read_units > PARTITION_RCU_PER_SECOND
            })
            .collect();
        if !over.is_empty() {
            for (target, key, load) in &over {
                eprintln!(
                    "hot partition: {target} `{key}` takes {:.0} WCU/s, {:.0} RCU/s at {} {}s/s",
                    load.write_units, load.read_units, args.rate, args.unit_name
                );
            }
            std::process::exit(1);
        }
    }
    Ok(())
}
