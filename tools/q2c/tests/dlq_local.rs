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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_list_shows_counts_and_reasons_of_1000_messages() {
    dlq_common::list_shows_counts_and_reasons(&fixture()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_filtered_redrive_moves_exactly_the_matching() {
    dlq_common::filtered_redrive_moves_exactly_the_matching(&fixture()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_interrupted_redrive_loses_nothing() {
    dlq_common::interrupted_redrive_loses_nothing(&fixture()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_export_purge_replay_restores_everything() {
    dlq_common::export_purge_replay_restores_everything(&fixture()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_redrive_reports_the_refused_again_and_ends() {
    dlq_common::redrive_reports_the_refused_again_and_ends(&fixture(), "message-ids").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_without_a_consumer_the_wait_ends_at_the_settle_timeout() {
    dlq_common::without_a_consumer_the_wait_ends_at_the_settle_timeout(&fixture()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_max_messages_bounds_the_move() {
    dlq_common::max_messages_bounds_the_move(&fixture()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_dry_run_changes_nothing() {
    dlq_common::dry_run_changes_nothing(&fixture()).await;
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
