//! Unit tests of catalog import/diff over in-memory ports: file shapes and per-entry errors
//! with JSON paths, classification, idempotence, diff equals import, events enqueued.

use std::collections::BTreeMap;
use std::sync::Mutex;

use q2c_model::tmf::ProductOffering;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::fanout::{OfferingCatalogWriter, PriceCatalogWriter};
use crate::testing::{CatalogRow, SentMessages, TestClock, apply_newer};

type Row = CatalogRow<Value>;

struct Memory {
    rows: Mutex<BTreeMap<(CatalogKind, String), Row>>,
    queue: Arc<SentMessages>,
}

impl Default for Memory {
    fn default() -> Self {
        Memory {
            rows: Mutex::default(),
            queue: Arc::new(SentMessages::to("pricing-changes")),
        }
    }
}

impl Memory {
    fn apply(
        &self,
        kind: CatalogKind,
        id: &str,
        body: Value,
        at: OffsetDateTime,
        deleted: bool,
    ) -> ApplyOutcome {
        let mut rows = self.rows.lock().expect("lock");
        apply_newer(&mut rows, (kind, id.to_owned()), body, at, deleted)
    }
}

#[async_trait]
impl CatalogVersions for Memory {
    async fn stored_versions(
        &self,
        kind: CatalogKind,
        ids: &[String],
    ) -> Result<Vec<StoredVersion>, StoreError> {
        let rows = self.rows.lock().expect("lock");
        Ok(rows
            .iter()
            .filter(|((k, id), _)| *k == kind && ids.contains(id))
            .map(|((_, id), (body, at, deleted))| StoredVersion {
                id: id.clone(),
                last_update: *at,
                deleted: *deleted,
                body: body.clone(),
            })
            .collect())
    }
}

#[async_trait]
impl OfferingCatalogWriter for Memory {
    async fn apply_offering_change(
        &self,
        change: &OfferingChange,
    ) -> Result<ApplyOutcome, StoreError> {
        Ok(self.apply(
            CatalogKind::Offering,
            change.offering_id(),
            serde_json::to_value(&change.offering).expect("json"),
            change.last_update,
            change.kind == PriceChangeKind::Delete,
        ))
    }
}

#[async_trait]
impl PriceCatalogWriter for Memory {
    async fn apply_price_change(&self, change: &PriceChange) -> Result<ApplyOutcome, StoreError> {
        Ok(self.apply(
            CatalogKind::Price,
            change.price_id(),
            serde_json::to_value(&change.price).expect("json"),
            change.last_update,
            change.kind == PriceChangeKind::Delete,
        ))
    }
}

fn ports(memory: &Arc<Memory>) -> ImportPorts {
    ImportPorts {
        versions: memory.clone(),
        offerings: memory.clone(),
        prices: memory.clone(),
        queue: memory.queue.clone(),
        clock: Arc::new(TestClock(Mutex::new(datetime!(2026-11-27 12:00 UTC)))),
    }
}

fn offering(id: &str, day: u8, name: &str) -> Value {
    json!({
        "id": id, "name": name, "@type": "ProductOffering",
        "lastUpdate": format!("2026-06-{day:02}T00:00:00Z"),
        "x-unknown": {"kept": [1, 2.5]}
    })
}

fn price(id: &str, day: u8, value: i64) -> Value {
    json!({
        "id": id, "priceType": "recurring",
        "price": {"unit": "EUR", "value": value},
        "lastUpdate": format!("2026-06-{day:02}T00:00:00Z")
    })
}

fn nothing(_: usize) {}

#[test]
fn both_shapes_parse_and_bad_entries_carry_their_json_path() {
    let export = json!({
        "productOffering": [
            offering("a", 1, "A"),
            {"id": "b", "name": "no date"},
            {"id": "c", "lastUpdate": "yesterday"},
            offering("a", 2, "again"),
        ],
        "productOfferingPrice": [
            price("p", 1, 5),
            {"id": "q", "lastUpdate": "2026-06-01T00:00:00Z", "price": {"unit": "EUR", "value": -1}}
        ]
    });
    let file = parse_catalog_file(&export.to_string()).expect("shape");
    let ids: Vec<_> = file
        .entries
        .iter()
        .map(|e| (e.entry.kind(), e.entry.id().to_owned()))
        .collect();
    assert_eq!(
        ids,
        [
            (CatalogKind::Offering, "a".to_owned()),
            (CatalogKind::Price, "p".to_owned())
        ]
    );
    let paths: Vec<_> = file.errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "$.productOffering[1].lastUpdate",
            "$.productOffering[2].lastUpdate",
            "$.productOffering[3].id",
            "$.productOfferingPrice[1].price.value",
        ]
    );
    assert!(
        file.errors[2]
            .message
            .contains("first at $.productOffering[0]")
    );
    assert_eq!(file.errors[3].message, "negative");

    let array = json!([
        offering("o", 1, "O"),
        price("p", 1, 5),
        {"id": "x", "lastUpdate": "2026-06-01T00:00:00Z"},
        7
    ]);
    let file = parse_catalog_file(&array.to_string()).expect("array");
    assert_eq!(file.entries.len(), 2);
    assert_eq!(
        file.entries[1].entry.kind(),
        CatalogKind::Price,
        "told by shape"
    );
    assert_eq!(file.errors[0].path, "$[2]");
    assert!(file.errors[0].message.contains("@type"));
    assert_eq!(file.errors[1].to_string(), "$[3]: not an object");

    assert!(parse_catalog_file("{\"offerings\": []}").is_err());
    assert!(parse_catalog_file("not json").is_err());
}

#[tokio::test]
async fn import_classifies_writes_announces_and_a_rerun_changes_nothing() {
    let memory = Arc::new(Memory::default());
    let p = ports(&memory);
    // Stored before: "old" older (to update), "same" equal, "newer" newer (stale), "gone" a
    // newer tombstone (stale).
    for (v, deleted) in [
        (offering("old", 1, "old"), false),
        (offering("same", 1, "same"), false),
        (offering("newer", 9, "newer"), false),
        (offering("gone", 9, "gone"), true),
    ] {
        let o: ProductOffering = serde_json::from_value(v).expect("offering");
        memory
            .apply_offering_change(&OfferingChange {
                kind: if deleted {
                    PriceChangeKind::Delete
                } else {
                    PriceChangeKind::Upsert
                },
                last_update: o.last_update.expect("date"),
                offering: o,
            })
            .await
            .expect("seed");
    }
    let file = parse_catalog_file(
        &json!([
            offering("new", 2, "new"),
            offering("old", 2, "old v2"),
            offering("same", 1, "same"),
            offering("newer", 2, "older edit"),
            offering("gone", 2, "late"),
            price("p", 2, 5),
        ])
        .to_string(),
    )
    .expect("file");

    let diff = plan(memory.as_ref(), &file.entries, &nothing)
        .await
        .expect("plan");
    let done = import(&p, &file.entries, &nothing).await.expect("import");
    assert_eq!(diff, done, "diff shows what import does");
    let actions: Vec<_> = done.iter().map(|e| (e.id.as_str(), e.action)).collect();
    assert_eq!(
        actions,
        [
            ("new", Action::Create),
            ("old", Action::Update),
            ("same", Action::Unchanged),
            ("newer", Action::Stale),
            ("gone", Action::Stale),
            ("p", Action::Create),
        ]
    );
    assert_eq!(
        SyncSummary::of(&done, file.errors.len()),
        SyncSummary {
            created: 2,
            updated: 1,
            unchanged: 1,
            stale: 2,
            invalid: 0
        }
    );
    let rows = memory.rows.lock().expect("lock").clone();
    assert_eq!(
        rows[&(CatalogKind::Offering, "old".to_owned())].0["name"],
        "old v2"
    );
    assert_eq!(
        rows[&(CatalogKind::Offering, "newer".to_owned())].0["name"],
        "newer"
    );
    assert!(
        rows[&(CatalogKind::Offering, "gone".to_owned())].2,
        "tombstone kept"
    );
    assert_eq!(
        rows[&(CatalogKind::Offering, "new".to_owned())].0["x-unknown"],
        json!({"kept": [1, 2.5]})
    );

    let sent: Vec<OutgoingMessage> = memory
        .queue
        .sent
        .lock()
        .expect("lock")
        .iter()
        .cloned()
        .collect();
    let bodies: Vec<Value> = sent
        .iter()
        .map(|m| serde_json::from_str(&m.body).expect("json"))
        .collect();
    let types: Vec<&str> = bodies
        .iter()
        .map(|e| e["eventType"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        types,
        [
            "ProductOfferingCreateEvent",
            "ProductOfferingAttributeValueChangeEvent",
            "ProductOfferingPriceCreateEvent"
        ],
        "one event per created or updated entry"
    );
    assert_eq!(bodies[1]["event"]["productOffering"]["name"], "old v2");
    // The events are what the fan-out accepts.
    for m in &sent {
        let parsed = crate::messaging::parse_message("m", &m.body, &m.attributes, Some(1))
            .expect("envelope");
        if parsed.event_type.starts_with("ProductOfferingPrice") {
            crate::fanout::parse_price_event(&parsed).expect("price event");
        } else {
            crate::fanout::parse_offering_event(&parsed).expect("offering event");
        }
    }

    let again = import(&p, &file.entries, &nothing).await.expect("again");
    assert_eq!(
        SyncSummary::of(&again, 0).changed(),
        0,
        "a re-run changes nothing"
    );
    assert_eq!(
        memory.queue.sent.lock().expect("lock").len(),
        3,
        "and enqueues nothing"
    );
}

#[tokio::test]
async fn progress_is_reported_per_chunk_up_to_the_total() {
    let memory = Arc::new(Memory::default());
    let entries: Vec<Value> = (0..250)
        .map(|n| offering(&format!("o{n}"), 1, "x"))
        .collect();
    let file = parse_catalog_file(&Value::Array(entries).to_string()).expect("file");
    let seen = Mutex::new(Vec::new());
    let record = |n: usize| seen.lock().expect("lock").push(n);
    import(&ports(&memory), &file.entries, &record)
        .await
        .expect("import");
    assert_eq!(*seen.lock().expect("lock"), [100, 200, 250]);
}

/// A hostile export: every entry the store could not hold, mixed with good ones.
fn hostile_export() -> String {
    let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
    format!(
        r#"[
  {good_offering},
  {{"id": "precise", "priceType": "recurring", "lastUpdate": "2026-06-01T00:00:00Z",
    "price": {{"unit": "EUR", "value": 1.2345678901234567}}}},
  {{"id": "huge", "@type": "ProductOffering", "lastUpdate": "2026-06-01T00:00:00Z",
    "description": "d", "blob": "{blob}"}},
  {{"id": "deep", "@type": "ProductOffering", "lastUpdate": "2026-06-01T00:00:00Z", "x": {deep}}},
  {{"id": "{long_id}", "@type": "ProductOffering", "lastUpdate": "2026-06-01T00:00:00Z"}},
  {good_price}
]"#,
        good_offering = offering("o", 1, "O"),
        blob = "b".repeat(70_000),
        long_id = "i".repeat(257),
        good_price = price("p", 1, 5),
    )
}

#[test]
fn entries_beyond_the_limits_are_errors_at_their_path_and_the_others_parse() {
    let file = parse_catalog_file(&hostile_export()).expect("file");
    let ids: Vec<&str> = file.entries.iter().map(|e| e.entry.id()).collect();
    assert_eq!(ids, ["o", "p"]);
    let errors: Vec<String> = file.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert_eq!(
        errors[0],
        "$[1].price.value: 17 significant digits, over the limit maxSignificantDigits of 15"
    );
    assert!(
        errors[1].starts_with("$[2]: ") && errors[1].contains("maxCatalogEntryBytes of 65536"),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].starts_with("$[3].x") && errors[2].contains("maxJsonDepth of 32"),
        "{}",
        errors[2]
    );
    assert_eq!(
        errors[3],
        "$[4].id: 257 characters, over the limit maxIdLength of 256"
    );
}

#[tokio::test]
async fn an_import_with_bad_entries_imports_every_good_one() {
    let memory = Arc::new(Memory::default());
    let file = parse_catalog_file(&hostile_export()).expect("file");
    let done = import(&ports(&memory), &file.entries, &nothing)
        .await
        .expect("import does not stop on a bad entry");
    assert_eq!(SyncSummary::of(&done, file.errors.len()).created, 2);
    assert_eq!(SyncSummary::of(&done, file.errors.len()).invalid, 4);
    assert_eq!(memory.rows.lock().expect("lock").len(), 2);
}
