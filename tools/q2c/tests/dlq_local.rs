//! `q2c dlq` against the embedded queue engine of a `q2c local` data directory: the real
//! binary on a temporary data directory (scenarios in `dlq_common`).

mod dlq_common;

use dlq_common::Fixture;
use q2c_local::{LocalDlqBackend, SqliteQueues, SqliteStore};

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store =
        SqliteStore::open(&dir.path().join(q2c_embedded::local::DATABASE_FILE)).expect("store");
    Fixture {
        backend: Box::new(LocalDlqBackend::new(SqliteQueues::new(&store), None)),
        target: vec![
            "--data-dir".into(),
            dir.path().to_str().expect("utf-8").into(),
        ],
        source: "orders".into(),
        dlq: "orders-dlq".into(),
        dlq_arg: "orders-dlq".into(),
        source_arg: "orders".into(),
        typed_attributes: false,
        interrupted_messages: 1000,
        _dir: Some(dir),
    }
}

dlq_common::scenario_tests! {
    fixture = fixture();
    local_list_shows_counts_and_reasons_of_1000_messages => list_shows_counts_and_reasons();
    local_filtered_redrive_moves_exactly_the_matching =>
        filtered_redrive_moves_exactly_the_matching();
    local_interrupted_redrive_loses_nothing => interrupted_redrive_loses_nothing();
    local_export_purge_replay_restores_everything => export_purge_replay_restores_everything();
    local_redrive_reports_the_refused_again_and_ends =>
        redrive_reports_the_refused_again_and_ends("message-ids");
    local_without_a_consumer_the_wait_ends_at_the_settle_timeout =>
        without_a_consumer_the_wait_ends_at_the_settle_timeout();
    local_max_messages_bounds_the_move => max_messages_bounds_the_move();
    local_dry_run_changes_nothing => dry_run_changes_nothing();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_list_discovers_every_template_dlq_or_only_the_named_ones() {
    let f = fixture();
    let names = |json: &str| -> Vec<String> {
        let parsed: serde_json::Value = serde_json::from_str(json).expect("JSON");
        parsed
            .as_array()
            .expect("array")
            .iter()
            .map(|q| q["name"].as_str().expect("name").to_owned())
            .collect()
    };
    assert_eq!(
        names(&f.ok(&["list", "--json"])),
        [
            "billing-updates-dlq",
            "orders-dlq",
            "pricing-changes-dlq",
            "quote-events-dlq"
        ]
    );
    assert_eq!(
        names(&f.ok(&["list", "--json", "--queues", "orders-dlq,quote-events-dlq"])),
        ["orders-dlq", "quote-events-dlq"]
    );
}
