//! `q2c catalog import|diff` on a local data directory: a generated 5,000-offering export
//! with bad entries imports the valid ones and names each bad one by JSON path; a second
//! run changes nothing; after edits, `diff` plans exactly what `import` then does; and the
//! binary prints the same.

use std::path::Path;

use q2c::catalog_cmd::{SyncMode, SyncTarget, sync};
use q2c_local::{SqliteQueues, SqliteStore};
use q2c_service::catalog_sync::{Action, SyncSummary};
use q2c_service::messaging::QueueClient;
use q2c_service::ports::CatalogStore;
use serde_json::{Value, json};

mod catalog_common;

const OFFERINGS: usize = 5_000;
const PRICES: usize = 200;

fn at(day: u32) -> String {
    format!("2026-07-{day:02}T10:00:00Z")
}

fn offering(n: usize, day: u32, name: &str) -> Value {
    json!({
        "id": format!("gen-po-{n:05}"),
        "name": name,
        "@type": if n.is_multiple_of(10) { "GeneratedSliceOffering" } else { "ProductOffering" },
        "@baseType": "ProductOffering",
        "lifecycleStatus": "Active",
        "lastUpdate": at(day),
        "isSellable": true,
        "productOfferingPrice": [{"id": format!("gen-pop-{:05}", n % PRICES)}],
        "x-generated": {"n": n, "tags": ["a", 1.5, null]}
    })
}

fn price(n: usize, day: u32) -> Value {
    json!({
        "id": format!("gen-pop-{n:05}"),
        "priceType": "recurring",
        "recurringChargePeriodType": "month",
        "price": {"unit": "EUR", "value": 10 + n},
        "lastUpdate": at(day)
    })
}

/// The export with seven bad entries among the offerings and one among the prices.
fn export() -> Value {
    let mut offerings: Vec<Value> = (0..OFFERINGS).map(|n| offering(n, 1, "v1")).collect();
    offerings[17]
        .as_object_mut()
        .expect("object")
        .remove("lastUpdate");
    offerings[100]["lastUpdate"] = json!("last tuesday");
    offerings[2_000]["id"] = json!("");
    offerings[3_000]["isSellable"] = json!("yes");
    offerings[4_000] = json!(42);
    offerings[4_001]["id"] = json!("gen-po-00000");
    offerings[4_999]["productOfferingPrice"] = json!({"id": "not-a-list"});
    let mut prices: Vec<Value> = (0..PRICES).map(|n| price(n, 1)).collect();
    prices[5]["price"]["value"] = json!(-3);
    json!({"productOffering": offerings, "productOfferingPrice": prices})
}

fn write(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec(value).expect("json")).expect("write file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5000_offering_export_imports_once_and_diff_matches_import() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let file = dir.path().join("catalog.json");
    let mut catalog = export();
    write(&file, &catalog);
    let target = SyncTarget::Local {
        data_dir: data.clone(),
    };

    let first = sync(&file, &target, SyncMode::Import, false)
        .await
        .expect("import");

    let paths: Vec<&str> = first.errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "$.productOffering[17].lastUpdate",
            "$.productOffering[100].lastUpdate",
            "$.productOffering[2000].id",
            "$.productOffering[3000].isSellable",
            "$.productOffering[4000]",
            "$.productOffering[4001].id",
            "$.productOffering[4999].productOfferingPrice",
            "$.productOfferingPrice[5].price.value",
        ]
    );
    let valid = u64::try_from(OFFERINGS + PRICES - 8).expect("count");
    assert_eq!(
        first.summary,
        SyncSummary {
            created: valid,
            updated: 0,
            unchanged: 0,
            stale: 0,
            invalid: 8
        }
    );

    let store = SqliteStore::open(&data.join("q2c.sqlite3")).expect("open");
    let stored = store
        .offerings(&["gen-po-00010".to_owned(), "gen-po-00017".to_owned()])
        .await
        .expect("read");
    assert_eq!(stored.len(), 1, "the bad entry is not stored");
    assert_eq!(
        serde_json::to_value(&stored[0]).expect("json"),
        catalog["productOffering"][10],
        "stored as exported: @type and unknown fields kept"
    );
    let queues = SqliteQueues::new(&store);
    let pending = queues.counts("pricing-changes").await.expect("counts");
    assert_eq!(
        pending.visible, valid,
        "one change event per imported entry for the fan-out to announce"
    );

    let second = sync(&file, &target, SyncMode::Import, false)
        .await
        .expect("re-run");
    assert_eq!(second.summary.changed(), 0, "a second run changes nothing");
    assert_eq!(second.summary.unchanged, valid);
    assert_eq!(
        queues
            .counts("pricing-changes")
            .await
            .expect("counts")
            .visible,
        valid,
        "and enqueues nothing"
    );

    // Edits: 10 offerings newer, 5 older with other content (stale), 3 new, one price newer.
    for n in 1..=10 {
        catalog["productOffering"][n] = offering(n, 2, "v2");
    }
    for n in 20..25 {
        catalog["productOffering"][n] = json!({
            "id": format!("gen-po-{n:05}"), "name": "from the past", "isSellable": true,
            "lastUpdate": "2026-06-01T00:00:00Z"
        });
    }
    for n in 0..3 {
        let mut extra = offering(OFFERINGS + n, 1, "new");
        extra["id"] = json!(format!("gen-po-new-{n}"));
        catalog["productOffering"]
            .as_array_mut()
            .expect("array")
            .push(extra);
    }
    catalog["productOfferingPrice"][7] = price(7, 3);
    write(&file, &catalog);

    let done = catalog_common::diff_then_import(&file, &target).await;
    assert_eq!(
        (
            done.summary.created,
            done.summary.updated,
            done.summary.stale
        ),
        (3, 11, 5)
    );
    let stale: Vec<&str> = done
        .entries
        .iter()
        .filter(|e| e.action == Action::Stale)
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(
        stale,
        [
            "gen-po-00020",
            "gen-po-00021",
            "gen-po-00022",
            "gen-po-00023",
            "gen-po-00024"
        ]
    );
    let kept = store
        .offerings(&["gen-po-00020".to_owned(), "gen-po-00001".to_owned()])
        .await
        .expect("read");
    for offering in kept {
        let name = offering.name.as_deref();
        match offering.id.as_str() {
            "gen-po-00020" => assert_eq!(name, Some("v1"), "an older entry never overwrites"),
            _ => assert_eq!(name, Some("v2")),
        }
    }
    let after = sync(&file, &target, SyncMode::Diff, false)
        .await
        .expect("diff again");
    assert_eq!(after.summary.changed(), 0);
}

#[test]
fn the_binary_prints_errors_changes_and_the_summary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let file = dir.path().join("catalog.json");
    write(
        &file,
        &json!([offering(1, 1, "one"), price(1, 1), {"id": "x", "lastUpdate": at(1), "isSellable": 3}]),
    );
    let run = |command: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_q2c"))
            .args(["catalog", command, "--file"])
            .arg(&file)
            .arg("--data-dir")
            .arg(&data)
            .output()
            .expect("run q2c")
    };
    // diff writes nothing: a directory where q2c local never ran is refused, not created.
    let refused = run("diff");
    assert_eq!(refused.status.code(), Some(1));
    let error = String::from_utf8_lossy(&refused.stderr);
    assert!(error.contains("no q2c database in"), "{error}");
    assert!(!data.exists(), "diff created {}", data.display());
    std::fs::create_dir_all(&data).expect("mkdir");
    q2c_local::SqliteStore::open(&data.join(q2c_embedded::local::DATABASE_FILE))
        .expect("an empty store");

    let diff = run("diff");
    let text = String::from_utf8_lossy(&diff.stdout);
    assert_eq!(diff.status.code(), Some(1), "invalid entries: exit 1");
    assert!(text.contains("invalid $[2].isSellable: "), "{text}");
    assert!(
        text.contains("create offering gen-po-00001 ($[0])"),
        "{text}"
    );
    assert!(text.contains("create price gen-pop-00001 ($[1])"), "{text}");
    assert!(
        text.contains("would import: created 2, updated 0, unchanged 0, stale 0, invalid 1"),
        "{text}"
    );
    let import = run("import");
    let text = String::from_utf8_lossy(&import.stdout);
    assert!(
        text.contains("imported: created 2, updated 0, unchanged 0, stale 0, invalid 1"),
        "{text}"
    );
    let again = run("import");
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(
        text.contains("imported: created 0, updated 0, unchanged 2, stale 0, invalid 1"),
        "{text}"
    );
}
