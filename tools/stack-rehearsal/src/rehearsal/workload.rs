//! Many quote lifecycles on one stack, for the capacity model (`tools/capacity`): tenants
//! with hub subscribers on their own subscriber queues, one tenant taking half of the
//! traffic, each lifecycle created, approved and accepted through the API function, its
//! order dispatched to the fake order management by `order-dispatch`, every event relayed by
//! `outbox-relay` from the table's stream and delivered by `hub-delivery` — the five
//! functions as the stack runs them. Run on a moto server started with
//! [`MotoServer::start_recording`](crate::MotoServer::start_recording), the recording holds
//! every DynamoDB and SQS request they (and the event source mappings the harness plays)
//! made, signed with each function's own credentials ([`Principals`]).

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::json;

use super::{QUOTES, Rehearsal, Report, SCOPES, expect_status, step};
use crate::RehearsalError;

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    /// Quote lifecycles (create → approve → accept → order dispatched).
    pub lifecycles: usize,
    /// Tenants; the first takes every other lifecycle, the rest share the others in turn.
    pub tenants: usize,
    /// Tenants (the first ones) with a hub subscriber for their quote state changes.
    pub hub_tenants: usize,
    /// Lifecycles between two settlings of the pipeline (what the mappings would do
    /// continuously).
    pub settle_every: usize,
}

impl Workload {
    /// The tenant of lifecycle `n`: `t000` every other one, the others in turn.
    pub fn tenant_of(&self, n: usize) -> String {
        let others = self.tenants.saturating_sub(1).max(1);
        let index = if n.is_multiple_of(2) || self.tenants < 2 {
            0
        } else {
            1 + (n / 2) % others
        };
        format!("t{index:03}")
    }
}

/// Who signed a recorded request: access key id → function name (`operator` for the harness,
/// which also plays the event source mappings).
pub type Principals = BTreeMap<String, String>;

/// What a workload did.
#[derive(Debug, Clone)]
pub struct WorkloadReport {
    /// The rehearsal's report (invocations per function, metric sums, time).
    pub report: Report,
    /// Access key id → function name.
    pub principals: Principals,
    /// Orders order management received.
    pub orders_received: usize,
}

impl Rehearsal {
    /// Runs `workload` and stops the functions.
    ///
    /// # Errors
    /// [`RehearsalError::Step`] at the first step that fails; also when order management did
    /// not receive exactly one order per lifecycle.
    pub async fn run_workload(
        mut self,
        workload: &Workload,
    ) -> Result<WorkloadReport, RehearsalError> {
        let started = Instant::now();
        let mut principals: Principals = self
            .stack
            .functions()
            .values()
            .map(|f| (f.credentials.access_key_id.clone(), f.name.clone()))
            .collect();
        principals.insert(self.stack.operator.access_key_id.clone(), "operator".into());
        let result = self.workload(workload).await;
        let orders_received = self.oms.received().len();
        let report = self.finish(started, result).await?;
        Ok(WorkloadReport {
            report,
            principals,
            orders_received,
        })
    }

    async fn workload(&mut self, workload: &Workload) -> Result<(), RehearsalError> {
        self.seed_catalog().await?;
        let billing_url = self.stack.output("BillingUpdatesQueueUrl")?.to_owned();
        for n in 0..workload.hub_tenants.min(workload.tenants) {
            self.subscribe_by_rule(&billing_url, &format!("t{n:03}"))
                .await?;
        }
        for n in 0..workload.lifecycles {
            let tenant = workload.tenant_of(n);
            let created = self
                .api_as(
                    &tenant,
                    "POST",
                    &format!("{QUOTES}/quote"),
                    Some(json!({
                        "relatedParty": [{"id": format!("cust-{n}"), "role": "customer", "@referredType": "Individual"}],
                        "billingAccount": [{"id": format!("ba-{n}")}],
                        "quoteItem": [{"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "mobile-l"}}],
                    })),
                    Some(SCOPES),
                )
                .await?;
            expect_status(&format!("lifecycle {n}: create"), &created, 201)?;
            let id = created.body["id"].as_str().unwrap_or_default().to_owned();
            for state in ["approved", "accepted"] {
                let answer = self
                    .api_as(
                        &tenant,
                        "PATCH",
                        &format!("{QUOTES}/quote/{id}"),
                        Some(json!({ "state": state })),
                        Some(SCOPES),
                    )
                    .await?;
                expect_status(&format!("lifecycle {n}: {state}"), &answer, 200)?;
            }
            if (n + 1) % workload.settle_every.max(1) == 0 {
                self.settle("the workload's pipeline").await?;
            }
        }
        self.settle("the workload's pipeline").await?;
        let received = self.oms.received().len();
        if received != workload.lifecycles {
            return Err(step(
                "every order dispatched once",
                format!(
                    "order management received {received} orders for {} lifecycles",
                    workload.lifecycles
                ),
            ));
        }
        self.note(format!("{} lifecycles dispatched", workload.lifecycles));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_tenant_takes_half_and_the_others_share_the_rest() {
        let workload = Workload {
            lifecycles: 400,
            tenants: 100,
            hub_tenants: 10,
            settle_every: 20,
        };
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for n in 0..workload.lifecycles {
            *counts.entry(workload.tenant_of(n)).or_default() += 1;
        }
        assert_eq!(counts["t000"], 200);
        assert_eq!(counts.len(), 100);
        assert!(
            counts
                .iter()
                .filter(|(t, _)| *t != "t000")
                .all(|(_, c)| (2..=3).contains(c))
        );
    }
}
