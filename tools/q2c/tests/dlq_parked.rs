//! Parked outbox events are dead letters like any other: after the relay of a `q2c local`
//! data directory parks a poison entry (a row whose body serde cannot parse, ahead of a
//! normal event), `q2c dlq list` shows it in `orders-dlq` with its reason and `q2c dlq
//! export` writes it whole, while the normal event behind it reached its queue.

use std::process::{Command, Stdio};

use q2c_local::{SqliteQueues, SqliteStore};
use q2c_service::relay::relay_once;

fn dlq(dir: &std::path::Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_q2c"))
        .arg("dlq")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run q2c");
    assert!(
        output.status.success(),
        "q2c dlq {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn q2c_dlq_lists_and_exports_a_parked_outbox_event() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(q2c_embedded::local::DATABASE_FILE);
    let store = SqliteStore::open(&path).expect("store");
    let deep = format!("{}{}", "[".repeat(130), "]".repeat(130));
    let conn = rusqlite::Connection::open(&path).expect("raw open");
    for (id, destination, body) in [
        ("poison-1", "orders", deep.as_str()),
        (
            "normal-1",
            "quote-events",
            r#"{"eventId":"normal-1","event":{}}"#,
        ),
    ] {
        conn.execute(
            "INSERT INTO outbox (event_id, destination, tenant, event_type, aggregate_id,
                 schema_version, body, created_at)
             VALUES (?1, ?2, 'acme', 'QuoteCreateEvent', 'q-1', '1.0', ?3, 0)",
            [id, destination, body],
        )
        .expect("insert");
    }
    drop(conn);
    let queues = SqliteQueues::new(&store).queue_client();
    let report = relay_once(&*store.outbox_store(), &*queues, 100)
        .await
        .expect("relay");
    assert_eq!((report.published, report.parked), (1, 1));

    let list: serde_json::Value =
        serde_json::from_str(&dlq(dir.path(), &["list", "--json"])).expect("JSON");
    let entry = list
        .as_array()
        .expect("array")
        .iter()
        .find(|q| q["name"] == "orders-dlq")
        .expect("orders-dlq listed");
    assert_eq!(entry["visible"], 1, "{entry}");
    let reason = entry["topReasons"][0][0].as_str().expect("a reason");
    assert!(reason.contains("cannot be decoded"), "{reason}");

    let export = dir.path().join("parked.jsonl");
    dlq(
        dir.path(),
        &[
            "export",
            "orders-dlq",
            "--to",
            export.to_str().expect("utf-8"),
        ],
    );
    let lines = std::fs::read_to_string(&export).expect("export file");
    assert_eq!(lines.lines().count(), 1);
    let line: serde_json::Value = serde_json::from_str(lines.trim()).expect("a JSON line");
    assert_eq!(line["body"], deep.as_str(), "exported whole: {line}");
}
