//! `q2c dlq` against moto through the real AWS SDK (scenarios in `dlq_common`): each test
//! creates its own `<prefix>orders` queue with a redrive policy to `<prefix>orders-dlq`.
//!
//! Needs moto: `Q2C_TEST_AWS_ENDPOINT=http://127.0.0.1:5055 AWS_ACCESS_KEY_ID=testing
//! AWS_SECRET_ACCESS_KEY=testing AWS_REGION=eu-west-1`.

mod dlq_common;

use dlq_common::Fixture;
use q2c_aws::SqsDlqBackend;
use q2c_testkit::{moto, sqs};

async fn fixture() -> Fixture {
    let client = moto::sqs_client();
    let prefix = moto::queue_prefix("t");
    let (source, dlq) = (format!("{prefix}orders"), format!("{prefix}orders-dlq"));
    sqs::queue_with_dlq(&client, &source, 5, 30).await;
    Fixture {
        backend: Box::new(SqsDlqBackend::new(client, &prefix, None)),
        target: vec![
            "--endpoint-url".into(),
            moto::endpoint(),
            "--region".into(),
            moto::region(),
            "--queue-prefix".into(),
            prefix,
        ],
        source,
        dlq,
        dlq_arg: "orders-dlq".into(),
        source_arg: "orders".into(),
        typed_attributes: true,
        interrupted_messages: 200,
        _dir: None,
    }
}

dlq_common::scenario_tests! {
    fixture = fixture().await, guard = { q2c_testkit::require_moto!(); };
    moto_list_shows_counts_and_reasons_of_1000_messages => list_shows_counts_and_reasons();
    moto_filtered_redrive_moves_exactly_the_matching =>
        filtered_redrive_moves_exactly_the_matching();
    moto_interrupted_redrive_loses_nothing => interrupted_redrive_loses_nothing();
    moto_export_purge_replay_restores_everything => export_purge_replay_restores_everything();
    moto_redrive_reports_the_refused_again_and_ends =>
        redrive_reports_the_refused_again_and_ends("empty-queue");
    moto_without_a_consumer_the_wait_ends_at_the_settle_timeout =>
        without_a_consumer_the_wait_ends_at_the_settle_timeout();
    moto_max_messages_bounds_the_move => max_messages_bounds_the_move();
    moto_dry_run_changes_nothing => dry_run_changes_nothing();
}

/// Moto has no StartMessageMoveTask: `--move-task` says so and moves the messages itself,
/// to the source queue found from the redrive policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_move_task_redrive_falls_back_to_the_manual_move() {
    q2c_testkit::require_moto!();
    let f = fixture().await;
    f.seed(25).await;
    let output = f.run(&f.redrive_unsettled(&["--move-task"]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("moving messages manually"), "{stderr}");
    assert_eq!(f.total(&f.source).await, 25);
    assert_eq!(f.total(&f.dlq).await, 0);
}
