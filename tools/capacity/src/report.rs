//! Turns priced requests into the cost table and the partition-key load.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::pricing::{
    DYNAMODB_READ_PER_MILLION, DYNAMODB_WRITE_PER_MILLION, LAMBDA_REQUESTS_PER_MILLION,
    SQS_STANDARD_PER_MILLION, dollars,
};
use crate::record::Service;
use crate::replay::{Charge, RequestCharge};

/// The cost of one workload step, summed over the recording.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepCost {
    pub write_units: f64,
    pub read_units: f64,
    pub sqs_requests: u64,
    pub lambda_invocations: u64,
    pub estimated: bool,
}

impl StepCost {
    /// Dollars at the published on-demand prices.
    pub fn dollars(&self) -> f64 {
        dollars(self.write_units, DYNAMODB_WRITE_PER_MILLION)
            + dollars(self.read_units, DYNAMODB_READ_PER_MILLION)
            + dollars(self.sqs_requests as f64, SQS_STANDARD_PER_MILLION)
            + dollars(self.lambda_invocations as f64, LAMBDA_REQUESTS_PER_MILLION)
    }
}

/// Units one partition key took over the recording.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyLoad {
    pub write_units: f64,
    pub read_units: f64,
}

/// A family of partition keys `<prefix><n>`, `n` in `0..shards`, that writers choose by a
/// uniform hash of something new with each unit of work (the outbox's
/// `OUTBOX#PENDING#<n>`: a hash of the event id). At a high rate the hash spreads the units
/// evenly, so each shard takes the family's load divided by `shards`; a small recording
/// holds only a few ids per shard, and the busiest shard of that sample says how the sample
/// fell, not what a shard takes at the rate. Declared, never guessed from the key's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardedKeys {
    pub prefix: String,
    pub shards: u32,
}

impl ShardedKeys {
    /// The shard number of `key` when it belongs to this family.
    fn shard_of(&self, key: &str) -> Option<u32> {
        let n = key.strip_prefix(&self.prefix)?;
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        n.parse().ok().filter(|n| *n < self.shards)
    }

    /// How the family is shown: `OUTBOX#PENDING#<n>`.
    pub fn label(&self) -> String {
        format!("{}<n>", self.prefix)
    }
}

impl std::str::FromStr for ShardedKeys {
    type Err = String;

    /// `PREFIX=N`, e.g. `OUTBOX#PENDING#=32`.
    fn from_str(text: &str) -> Result<Self, String> {
        let (prefix, shards) = text
            .rsplit_once('=')
            .ok_or_else(|| format!("{text}: expected PREFIX=SHARDS"))?;
        let shards: u32 = shards
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{text}: SHARDS must be a positive number"))?;
        if prefix.is_empty() {
            return Err(format!("{text}: empty PREFIX"));
        }
        Ok(ShardedKeys {
            prefix: prefix.to_owned(),
            shards,
        })
    }
}

/// A sharded family's load at the rate: per shard (the family's over `shards`), and the
/// busiest shard of the recording, with how many shards it used.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyLoad {
    pub target: String,
    pub family: ShardedKeys,
    pub per_shard: KeyLoad,
    pub busiest_in_sample: KeyLoad,
    pub shards_seen: usize,
}

/// The model's result.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub steps: BTreeMap<String, StepCost>,
    /// (`table` or `table/index`, partition key) → units, for keys shared by units of work.
    pub keys: BTreeMap<(String, String), KeyLoad>,
    /// Keys of one entity each (see `Replay::entity_keys`) → units over the recording.
    pub entity_keys: BTreeMap<(String, String), KeyLoad>,
    /// Declared hash-sharded key families: their keys are reported and checked per family.
    pub sharded: Vec<ShardedKeys>,
}

/// Per-second partition limits DynamoDB documents.
pub const PARTITION_WCU_PER_SECOND: f64 = 1_000.0;
pub const PARTITION_RCU_PER_SECOND: f64 = 3_000.0;

impl Report {
    /// The report of priced requests; `entities` (from `Replay::entity_keys`) are kept out of
    /// the per-key extrapolation.
    pub fn new(
        charges: &[Charge],
        requests: &[RequestCharge],
        entities: &BTreeSet<(String, String)>,
    ) -> Self {
        let mut report = Report::default();
        for charge in charges {
            let step = report.steps.entry(charge.step.clone()).or_default();
            step.write_units += charge.write_units;
            step.read_units += charge.read_units;
            step.estimated |= charge.estimated;
            let id = (charge.target.clone(), charge.partition_key.clone());
            let key = if entities.contains(&id) {
                report.entity_keys.entry(id).or_default()
            } else {
                report.keys.entry(id).or_default()
            };
            key.write_units += charge.write_units;
            key.read_units += charge.read_units;
        }
        for request in requests {
            let step = report.steps.entry(request.step.clone()).or_default();
            match request.service {
                Service::Sqs => step.sqs_requests += request.requests,
                Service::Lambda => step.lambda_invocations += request.requests,
                Service::Dynamodb => {}
            }
        }
        report
    }

    /// The sum over every step.
    pub fn total(&self) -> StepCost {
        self.steps.values().fold(StepCost::default(), |mut sum, s| {
            sum.write_units += s.write_units;
            sum.read_units += s.read_units;
            sum.sqs_requests += s.sqs_requests;
            sum.lambda_invocations += s.lambda_invocations;
            sum.estimated |= s.estimated;
            sum
        })
    }

    /// Declares hash-sharded key families (see [`ShardedKeys`]).
    pub fn with_sharded(mut self, families: impl IntoIterator<Item = ShardedKeys>) -> Self {
        self.sharded.extend(families);
        self
    }

    /// The declared family `key` belongs to.
    fn family_of(&self, key: &str) -> Option<&ShardedKeys> {
        self.sharded.iter().find(|f| f.shard_of(key).is_some())
    }

    /// Each declared family's load per shard at `rate` (per table or index it was seen on).
    pub fn family_loads(&self, units: f64, rate: f64) -> Vec<FamilyLoad> {
        let at = |l: &KeyLoad| KeyLoad {
            write_units: l.write_units / units * rate,
            read_units: l.read_units / units * rate,
        };
        let mut families: BTreeMap<(String, String), FamilyLoad> = BTreeMap::new();
        for ((target, key), load) in &self.keys {
            let Some(family) = self.family_of(key) else {
                continue;
            };
            let entry = families
                .entry((target.clone(), family.prefix.clone()))
                .or_insert_with(|| FamilyLoad {
                    target: target.clone(),
                    family: family.clone(),
                    per_shard: KeyLoad::default(),
                    busiest_in_sample: KeyLoad::default(),
                    shards_seen: 0,
                });
            let shards = f64::from(family.shards);
            let load = at(load);
            entry.per_shard.write_units += load.write_units / shards;
            entry.per_shard.read_units += load.read_units / shards;
            if load.write_units > entry.busiest_in_sample.write_units {
                entry.busiest_in_sample = load;
            }
            entry.shards_seen += 1;
        }
        families.into_values().collect()
    }

    /// Partition keys by load per second when the workload's `units` (e.g. lifecycles) run at
    /// `rate` per second, hottest first by the larger share of its partition limit. The keys
    /// of a declared sharded family are one row, `<prefix><n>`, with the load of each shard.
    pub fn key_load_at(&self, units: f64, rate: f64) -> Vec<(String, String, KeyLoad)> {
        let mut loads: Vec<(String, String, KeyLoad)> = self
            .keys
            .iter()
            .filter(|((_, key), _)| self.family_of(key).is_none())
            .map(|((target, key), load)| {
                (
                    target.clone(),
                    key.clone(),
                    KeyLoad {
                        write_units: load.write_units / units * rate,
                        read_units: load.read_units / units * rate,
                    },
                )
            })
            .collect();
        loads.extend(
            self.family_loads(units, rate)
                .into_iter()
                .map(|f| (f.target, f.family.label(), f.per_shard)),
        );
        let share = |l: &KeyLoad| {
            (l.write_units / PARTITION_WCU_PER_SECOND).max(l.read_units / PARTITION_RCU_PER_SECOND)
        };
        loads.sort_by(|a, b| share(&b.2).total_cmp(&share(&a.2)));
        loads
    }

    /// The cost table (per `units` of work) and the hottest keys at `rate`, as Markdown.
    pub fn markdown(&self, unit_name: &str, units: f64, rate: f64, top: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| step | WCU / {unit_name} | RCU / {unit_name} | SQS requests / {unit_name} | Lambda invocations / {unit_name} | $ per 1 M {unit_name}s |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        let row = |out: &mut String, name: &str, cost: &StepCost| {
            let _ = writeln!(
                out,
                "| {name}{} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
                if cost.estimated { " (est.)" } else { "" },
                cost.write_units / units,
                cost.read_units / units,
                cost.sqs_requests as f64 / units,
                cost.lambda_invocations as f64 / units,
                cost.dollars() / units * 1e6,
            );
        };
        for (name, cost) in &self.steps {
            row(&mut out, name, cost);
        }
        row(&mut out, "**total**", &self.total());
        let _ = writeln!(
            out,
            "\nHottest partition keys at {rate} {unit_name}s/s (limits: {PARTITION_WCU_PER_SECOND} WCU/s, {PARTITION_RCU_PER_SECOND} RCU/s per partition):\n"
        );
        let _ = writeln!(out, "| table / index | partition key | WCU/s | RCU/s |");
        let _ = writeln!(out, "|---|---|---:|---:|");
        for (target, key, load) in self.key_load_at(units, rate).into_iter().take(top) {
            let _ = writeln!(
                out,
                "| {target} | `{key}` | {:.0} | {:.0} |",
                load.write_units, load.read_units
            );
        }
        for f in self.family_loads(units, rate) {
            let _ = writeln!(
                out,
                "\n{} `{}` is {} hash shards: each takes the family's load / {} ({:.0} WCU/s, {:.0} RCU/s); in this recording {} of them were used and the busiest took {:.0} WCU/s, {:.0} RCU/s (how the sample's ids fell).",
                f.target,
                f.family.label(),
                f.family.shards,
                f.family.shards,
                f.per_shard.write_units,
                f.per_shard.read_units,
                f.shards_seen,
                f.busiest_in_sample.write_units,
                f.busiest_in_sample.read_units
            );
        }
        if let Some(((target, key), load)) = self
            .entity_keys
            .iter()
            .max_by(|a, b| a.1.write_units.total_cmp(&b.1.write_units))
        {
            let _ = writeln!(
                out,
                "\n{} keys of one entity each (a quote, an order, an event: new with each {unit_name}, so their load does not grow with the rate) are left out; the busiest, {target} `{key}`, took {:.0} WCU and {:.0} RCU over the whole run.",
                self.entity_keys.len(),
                load.write_units,
                load.read_units
            );
        }
        out
    }
}
