//! What is acknowledged stays: across drop and reopen, and across SIGKILL of the writer.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use q2c_contract::fixtures::{T0, event, offering, price, stored_quote, subscription};
use q2c_local::{OpenError, SqliteStore};
use q2c_service::TenantId;
use q2c_service::ports::{
    CatalogStore, HubApi, HubStore, IdempotencyClaim, IdempotencyStore, OutboxStore, QuoteStore,
};
use time::Duration;

fn tenant() -> TenantId {
    TenantId::parse("acme").expect("tenant")
}

#[tokio::test]
async fn everything_written_is_there_after_reopening_the_file() {
    // Arrange
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("q2c.db");
    let t = tenant();
    let quote = stored_quote("q-1", T0);
    let created = event(Some(&t), "q-1", "QuoteCreateEvent");
    {
        let store = SqliteStore::open(&path).expect("open");
        store
            .insert(&t, &quote, std::slice::from_ref(&created))
            .await
            .expect("insert");
        store
            .load_catalog(&[offering("po-1", "Fibre")], &[price("pop-1", 30.0)])
            .await
            .expect("catalog");
        HubStore::create(&store, &t, HubApi::Quote, &subscription("s-1", None))
            .await
            .expect("hub");
        let claim = store.claim(&t, "k", "h", T0, T0 + Duration::seconds(30));
        assert_eq!(claim.await.expect("claim"), IdempotencyClaim::Claimed);
    }

    // Act
    let store = SqliteStore::open(&path).expect("reopen");

    // Assert
    assert_eq!(store.get(&t, "q-1").await.expect("get"), Some(quote));
    assert_eq!(store.pending(10).await.expect("pending"), [created]);
    let ids = ["po-1".to_owned()];
    assert_eq!(store.offerings(&ids).await.expect("offerings").len(), 1);
    let subs = HubStore::list(&store, &t, HubApi::Quote)
        .await
        .expect("hubs");
    assert_eq!(subs, [subscription("s-1", None)]);
    let claim = store.claim(&t, "k", "h", T0, T0 + Duration::seconds(30));
    assert_eq!(claim.await.expect("claim"), IdempotencyClaim::InProgress);
}

#[test]
fn a_file_from_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("q2c.db");
    drop(SqliteStore::open(&path).expect("create"));
    let conn = rusqlite::Connection::open(&path).expect("raw open");
    conn.pragma_update(None, "user_version", 99)
        .expect("bump version");
    drop(conn);

    let result = SqliteStore::open(&path);

    assert!(
        matches!(result, Err(OpenError::SchemaTooNew { found: 99, .. })),
        "got {:?}",
        result.err()
    );
}

#[test]
fn reopening_keeps_the_schema_version_and_journal_mode() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("q2c.db");
    drop(SqliteStore::open(&path).expect("create"));
    drop(SqliteStore::open(&path).expect("reopen runs no migration twice"));

    let conn = rusqlite::Connection::open(&path).expect("raw open");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("mode");
    assert_eq!((version, mode.as_str()), (1, "wal"));
}

/// Child side of the SIGKILL test: inserts quotes forever, printing each id once the
/// insert returned. Runs only when the parent sets `Q2C_KILL_TEST_DB`.
#[tokio::test]
#[ignore = "helper process of acknowledged_writes_survive_sigkill"]
async fn kill_test_writer() {
    let Some(path) = std::env::var_os("Q2C_KILL_TEST_DB") else {
        return;
    };
    let store = SqliteStore::open(Path::new(&path)).expect("open");
    let t = tenant();
    for i in 0.. {
        let id = format!("q-{i}");
        let e = event(Some(&t), &id, "QuoteCreateEvent");
        store
            .insert(&t, &stored_quote(&id, T0), &[e])
            .await
            .expect("insert");
        println!("ACK {id}");
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill() {
    // Arrange: a writer process acknowledging inserts on stdout.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("q2c.db");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["kill_test_writer", "--exact", "--ignored", "--nocapture"])
        .env("Q2C_KILL_TEST_DB", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn writer");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut acked = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read line");
        if let Some(id) = line.strip_prefix("ACK ") {
            acked.push(id.to_owned());
            if acked.len() == 200 {
                break;
            }
        }
    }

    // Act: SIGKILL (std's kill) while it keeps writing.
    child.kill().expect("kill writer");
    child.wait().expect("reap writer");

    // Assert: every acknowledged quote and its event are there.
    assert_eq!(acked.len(), 200, "writer acknowledged 200 inserts");
    let store = SqliteStore::open(&path).expect("reopen after kill");
    let t = tenant();
    for id in &acked {
        assert!(store.get(&t, id).await.expect("get").is_some(), "{id} lost");
    }
    let pending = store.pending(100_000).await.expect("pending");
    assert!(
        pending.len() >= acked.len(),
        "events of acknowledged writes kept"
    );
}
