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

/// The model's result.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub steps: BTreeMap<String, StepCost>,
    /// (`table` or `table/index`, partition key) → units, for keys shared by units of work.
    pub keys: BTreeMap<(String, String), KeyLoad>,
    /// Keys of one entity each (see `Replay::entity_keys`) → units over the recording.
    pub entity_keys: BTreeMap<(String, String), KeyLoad>,
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

    /// Partition keys by load per second when the workload's `units` (e.g. lifecycles) run at
    /// `rate` per second, hottest first by the larger share of its partition limit.
    pub fn key_load_at(&self, units: f64, rate: f64) -> Vec<(String, String, KeyLoad)> {
        let mut loads: Vec<(String, String, KeyLoad)> = self
            .keys
            .iter()
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
