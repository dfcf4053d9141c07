//! The stack rehearsal on `infra/template.yaml` as written: created as a stack in moto with
//! IAM enforced, its five built bootstraps run a quote lifecycle, an order dispatch and a
//! price change end to end.
//!
//! Needs the Python of `tools/test.sh` (`.venv`, or `Q2C_PYTHON`) and the functions' debug
//! bootstraps (`cargo test --workspace` builds them); skipped with
//! instructions otherwise (failed under `Q2C_REQUIRE_AWS=1`, as `tools/test.sh` sets).

use std::collections::BTreeSet;

use q2c_stack_rehearsal::rehearsal::MOTO_SKIPS;
use q2c_stack_rehearsal::{DeployOptions, MotoServer, Rehearsal};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_template_as_written_runs_a_quote_lifecycle_an_order_dispatch_and_a_price_change() {
    let unavailable = q2c_stack_rehearsal::moto::unavailable();
    q2c_testkit::skip_unless!(unavailable.is_none(), unavailable.unwrap_or_default());
    let moto = MotoServer::start().await.unwrap_or_else(|e| panic!("{e}"));
    let workdir = tempfile::tempdir().expect("a temporary directory");
    let rehearsal = Rehearsal::start(&moto, DeployOptions::new("q2c"), workdir.path())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let functions: Vec<String> = rehearsal
        .stack()
        .functions()
        .values()
        .map(|f| f.name.clone())
        .collect();
    let report = rehearsal.run().await.unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "stack rehearsal: deploy {:.1} s, scenario {:.1} s; invocations {:?}",
        report.deploy.as_secs_f64(),
        report.scenario.as_secs_f64(),
        report.invocations
    );
    for step in &report.steps {
        eprintln!("  {step}");
    }

    assert_eq!(
        functions,
        [
            "q2c-hub-delivery",
            "q2c-order-dispatch",
            "q2c-outbox-relay",
            "q2c-price-fanout",
            "q2c-quote-api"
        ],
        "the five functions, by logical id"
    );
    for function in &functions {
        assert!(
            report.invocations.get(function).copied().unwrap_or(0) > 0,
            "{function} was never invoked: {:?}",
            report.invocations
        );
    }
    let metric = |function: &str, name: &str| {
        report
            .metrics
            .get(function)
            .and_then(|m| m.get(name))
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(
        metric("q2c-quote-api", "QuotesCreated"),
        2,
        "{:?}",
        report.metrics
    );
    assert_eq!(metric("q2c-quote-api", "QuotesAccepted"), 1);
    assert_eq!(metric("q2c-order-dispatch", "OrdersDispatched"), 1);
    assert!(
        metric("q2c-outbox-relay", "EventsPublished") >= 6,
        "{:?}",
        report.metrics
    );
    for consumer in ["q2c-order-dispatch", "q2c-hub-delivery", "q2c-price-fanout"] {
        assert!(
            metric(consumer, "MessagesProcessed") > 0,
            "{consumer} emitted no MessagesProcessed: {:?}",
            report.metrics
        );
        assert_eq!(metric(consumer, "MessagesRetried"), 0, "{consumer}");
        assert_eq!(metric(consumer, "MessagesDeadLettered"), 0, "{consumer}");
    }
    for function in &functions {
        assert_eq!(metric(function, "ColdStarts"), 1, "{function}");
    }

    // What moto does not create is exactly the documented list that template-lint covers.
    let skipped: BTreeSet<&str> = report.skipped.values().map(String::as_str).collect();
    assert_eq!(skipped, MOTO_SKIPS.iter().copied().collect::<BTreeSet<_>>());

    moto.stop().await;
}
