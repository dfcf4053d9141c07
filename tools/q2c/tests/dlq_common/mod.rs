//! The `q2c dlq` scenarios of the issue's "Done when", run against one target (the local
//! engine of a data directory, or moto): the real binary does the work, the library's
//! backends seed and inspect the queues.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use q2c_service::dlq::ops;
use q2c_service::dlq::{AttributeValue, Attributes, DlqBackend, DlqOutgoing};
use q2c_service::messaging::Receive;
use serde_json::Value;

/// The scenarios below as the tests of one target: each `test => scenario(args…)` is a
/// multi-threaded `#[tokio::test]` named `test` that runs `guard` (which may return early: a
/// skip), then `scenario(&fixture, args…)`, `fixture` evaluated in the test.
macro_rules! scenario_tests {
    (fixture = $fixture:expr; $($tests:tt)*) => {
        dlq_common::scenario_tests!(fixture = $fixture, guard = {}; $($tests)*);
    };
    (
        fixture = $fixture:expr, guard = $guard:block;
        $($test:ident => $scenario:ident($($arg:expr),*);)*
    ) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                $guard
                dlq_common::$scenario(&$fixture, $($arg),*).await;
            }
        )*
    };
}
pub(crate) use scenario_tests;

/// The event types of the seeded messages (one in three each).
pub const TYPES: [&str; 3] = [
    "QuoteStateChangeEvent",
    "ProductOrderCreateEvent",
    "ProductOfferingPriceAttributeValueChangeEvent",
];
/// The failure reasons: 5, 3 and 2 in every 10 messages.
pub const REASONS: [&str; 3] = [
    "order management refused the order: 400 invalid",
    "transient failure: timeout",
    "unsupported schema version 2.0",
];

/// What the test consumer of the source queue does with message `e-{i}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Handled: deleted.
    Consume,
    /// Refused, as the consumers dead-letter: a copy with a new `failureReason` sent to the
    /// DLQ (a new message id), then the message deleted.
    Refuse,
    /// Fails transiently: never deleted, so the queue's `maxReceiveCount` moves it back.
    Fail,
}

/// The `failureReason` of the test consumer's refusals.
pub const REFUSED_BY_TEST: &str = "refused by the test consumer";

/// The index `i` of an `e-{i}` event id.
pub fn index(event_id: &str) -> Option<usize> {
    event_id.strip_prefix("e-")?.parse().ok()
}

/// A queue pair (source and its DLQ) on one target, and how to run `q2c dlq` against it.
pub struct Fixture {
    /// Seeds and inspects the queues.
    pub backend: Box<dyn DlqBackend>,
    /// Flags selecting the target (`--data-dir …` or `--endpoint-url … --queue-prefix …`).
    pub target: Vec<String>,
    /// The source queue's full name.
    pub source: String,
    /// The DLQ's full name.
    pub dlq: String,
    /// The DLQ's name as typed on the command line.
    pub dlq_arg: String,
    /// The source's name as typed on the command line.
    pub source_arg: String,
    /// Whether attributes keep their SQS types (Number, Binary) on this target.
    pub typed_attributes: bool,
    /// How many messages the interrupted-redrive scenario moves (moto, shared by every
    /// test run on the machine, takes about a second per receive under load).
    pub interrupted_messages: usize,
    /// Keeps the data directory alive.
    pub _dir: Option<tempfile::TempDir>,
}

/// The body of seeded message `i`.
pub fn body(i: usize) -> String {
    format!(
        r#"{{"eventId":"e-{i}","eventType":"{}","event":{{"n":{i},"note":"ünïcode ✓"}}}}"#,
        TYPES[i % 3]
    )
}

/// The attributes of seeded message `i`.
pub fn attributes(i: usize, typed: bool) -> Attributes {
    let reason = match i % 10 {
        0..=4 => REASONS[0],
        5..=7 => REASONS[1],
        _ => REASONS[2],
    };
    let mut attributes: Attributes = [
        ("eventType", TYPES[i % 3].to_owned()),
        ("eventId", format!("e-{i}")),
        ("tenant", format!("tenant-{}", i % 4)),
        ("correlationId", format!("c-{i}")),
        ("failureReason", reason.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), AttributeValue::string(v)))
    .collect();
    if typed {
        attributes.insert(
            "attempt".into(),
            AttributeValue {
                data_type: "Number".into(),
                string_value: Some(format!("{}", i % 7)),
                binary_value: None,
            },
        );
        attributes.insert(
            "blob".into(),
            AttributeValue {
                data_type: "Binary".into(),
                string_value: None,
                binary_value: Some("AAEC/w==".into()),
            },
        );
    }
    attributes
}

impl Fixture {
    /// Sends messages `0..n` to the DLQ.
    pub async fn seed(&self, n: usize) {
        let all: Vec<DlqOutgoing> = (0..n)
            .map(|i| DlqOutgoing {
                body: body(i),
                attributes: attributes(i, self.typed_attributes),
            })
            .collect();
        for chunk in all.chunks(10) {
            let outcome = self
                .backend
                .send_batch(&self.dlq, chunk)
                .await
                .expect("seed");
            assert!(outcome.failed.is_empty(), "seeding refused: {outcome:?}");
        }
    }

    /// One round of a consumer of the source queue: receives up to 10 (visible again at once,
    /// so a failing message is redelivered on the next round), does with each what `fate`
    /// says, and returns the event ids received.
    pub async fn consume_once(&self, fate: &dyn Fn(&str) -> Fate) -> Vec<String> {
        let batch = self
            .backend
            .receive(
                &self.source,
                Receive::batch(Duration::ZERO).waiting(Duration::from_millis(200)),
            )
            .await
            .expect("consumer receive");
        let (mut done, mut refused, mut ids) = (Vec::new(), Vec::new(), Vec::new());
        for message in &batch {
            let id = message.attribute("eventId").unwrap_or("?").to_owned();
            match fate(&id) {
                Fate::Consume => done.push(message.receipt_handle.clone()),
                Fate::Refuse => {
                    let mut copy = message.to_outgoing();
                    copy.attributes.insert(
                        "failureReason".into(),
                        AttributeValue::string(REFUSED_BY_TEST),
                    );
                    refused.push(copy);
                    done.push(message.receipt_handle.clone());
                }
                Fate::Fail => {}
            }
            ids.push(id);
        }
        if !refused.is_empty() {
            let outcome = self
                .backend
                .send_batch(&self.dlq, &refused)
                .await
                .expect("dead-letter");
            assert!(outcome.failed.is_empty(), "{outcome:?}");
        }
        if !done.is_empty() {
            self.backend
                .delete_batch(&self.source, &done)
                .await
                .expect("consumer delete");
        }
        ids
    }

    /// Sends a copy of seeded message `i` (the same eventId) to the DLQ.
    pub async fn seed_copy(&self, i: usize) {
        let copy = DlqOutgoing {
            body: body(i),
            attributes: attributes(i, self.typed_attributes),
        };
        let outcome = self
            .backend
            .send_batch(&self.dlq, &[copy])
            .await
            .expect("seed copy");
        assert!(outcome.failed.is_empty());
    }

    /// `q2c dlq <args> <target flags>`, not yet started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_q2c"));
        command.arg("dlq").args(args).args(&self.target);
        command.stdin(Stdio::null());
        command
    }

    /// Runs `q2c dlq <args>`; returns the output whatever the exit status.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run q2c")
    }

    /// `q2c dlq` arguments redriving the DLQ with `flags` and not waiting for the moved
    /// messages to settle (`--settle-timeout 0s`): for runs without a consumer behind the
    /// destination, where nothing would settle.
    pub fn redrive_unsettled<'a>(&'a self, flags: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["redrive", self.dlq_arg.as_str()];
        args.extend_from_slice(flags);
        args.extend(["--settle-timeout", "0s"]);
        args
    }

    /// Runs `q2c dlq <args>`, which must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "q2c dlq {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    }

    /// Every message of `queue` (left in place) as `eventId → count`, plus the messages.
    pub async fn contents(
        &self,
        queue: &str,
    ) -> (BTreeMap<String, usize>, Vec<(String, Attributes)>) {
        let messages = ops::peek(self.backend.as_ref(), queue, usize::MAX)
            .await
            .expect("read queue");
        let mut ids = BTreeMap::new();
        let mut all = Vec::new();
        for m in messages {
            *ids.entry(m.attribute("eventId").unwrap_or("?").to_owned())
                .or_insert(0) += 1;
            all.push((m.body, m.attributes));
        }
        (ids, all)
    }

    /// Visible plus in-flight messages of `queue`.
    pub async fn total(&self, queue: &str) -> u64 {
        let counts = self.backend.counts(queue).await.expect("counts");
        counts.visible + counts.in_flight
    }
}

/// The ids `e-0 … e-{n-1}` whose index passes `keep`.
pub fn ids(n: usize, keep: impl Fn(usize) -> bool) -> BTreeSet<String> {
    (0..n)
        .filter(|i| keep(*i))
        .map(|i| format!("e-{i}"))
        .collect()
}

/// 1,000 mixed messages are listed with exact counts, their source and the top reasons.
pub async fn list_shows_counts_and_reasons(f: &Fixture) {
    f.seed(1000).await;
    let json: serde_json::Value =
        serde_json::from_str(&f.ok(&["list", "--json"])).expect("list --json is JSON");
    let entry = json
        .as_array()
        .expect("an array")
        .iter()
        .find(|q| q["name"] == f.dlq.as_str())
        .unwrap_or_else(|| panic!("{} not listed in {json}", f.dlq));
    assert_eq!(entry["visible"], 1000, "{entry}");
    assert_eq!(entry["inFlight"], 0, "{entry}");
    assert_eq!(entry["source"], f.source.as_str(), "{entry}");
    assert!(entry["oldestAgeSeconds"].as_u64().is_some(), "{entry}");
    let reasons: Vec<&str> = entry["topReasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r[0].as_str().expect("a reason"))
        .collect();
    assert_eq!(reasons, REASONS.to_vec(), "most common first: {entry}");
    if entry["sampled"].is_null() {
        let counts: Vec<u64> = entry["topReasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .map(|r| r[1].as_u64().expect("count"))
            .collect();
        assert_eq!(counts, vec![500, 300, 200]);
    }
    let table = f.ok(&["list"]);
    assert!(table.contains(&f.dlq) && table.contains("1000"), "{table}");
    // Listing reads messages but leaves them all visible.
    let counts = f.backend.counts(&f.dlq).await.expect("counts");
    assert_eq!((counts.visible, counts.in_flight), (1000, 0));
}

/// A filtered redrive moves exactly the matching messages and leaves the rest.
pub async fn filtered_redrive_moves_exactly_the_matching(f: &Fixture) {
    f.seed(300).await;
    // No consumer behind the destination here: nothing would settle, so no wait.
    let out = f.ok(&f.redrive_unsettled(&[
        "--filter",
        "event-type=ProductOrderCreateEvent",
        "--filter",
        "reason~=refused",
    ]));
    let matching = |i: usize| i % 3 == 1 && i % 10 < 5;
    let (moved, _) = f.contents(&f.source).await;
    let (left, _) = f.contents(&f.dlq).await;
    assert_eq!(
        moved.keys().cloned().collect::<BTreeSet<_>>(),
        ids(300, matching),
        "{out}"
    );
    assert!(moved.values().all(|n| *n == 1), "each moved once");
    assert_eq!(
        left.keys().cloned().collect::<BTreeSet<_>>(),
        ids(300, |i| !matching(i))
    );
    assert!(
        out.contains(&format!("moved {}", ids(300, matching).len())),
        "{out}"
    );
}

/// A redrive killed halfway and re-run delivers every message at least once, loses none.
pub async fn interrupted_redrive_loses_nothing(f: &Fixture) {
    let n = f.interrupted_messages;
    f.seed(n).await;
    let mut child = f
        .command(&[
            "redrive",
            &f.dlq_arg,
            "--manual",
            "--rate",
            "150/s",
            "--visibility",
            "3s",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redrive");
    let started = Instant::now();
    while f.total(&f.source).await < (n as u64) * 3 / 10 {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "redrive made no progress"
        );
        assert!(
            child.try_wait().expect("child").is_none(),
            "redrive ended early"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("kill the redrive");
    child.wait().expect("reap");
    let halfway = f.total(&f.source).await;
    assert!(halfway < n as u64, "killed before the end ({halfway})");
    f.ok(&f.redrive_unsettled(&["--manual", "--visibility", "3s"]));
    let (delivered, _) = f.contents(&f.source).await;
    assert_eq!(
        delivered.keys().cloned().collect::<BTreeSet<_>>(),
        ids(n, |_| true),
        "every message delivered at least once"
    );
    assert!(delivered.values().sum::<usize>() >= n);
    assert_eq!(f.total(&f.dlq).await, 0, "the DLQ is empty");
}

/// export → purge → replay restores every body and message attribute exactly.
pub async fn export_purge_replay_restores_everything(f: &Fixture) {
    let n = 60;
    f.seed(n).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("export.jsonl");
    let before = f.contents(&f.dlq).await.1;
    f.ok(&[
        "export",
        &f.dlq_arg,
        "--to",
        export.to_str().expect("utf-8"),
    ]);
    let lines = std::fs::read_to_string(&export).expect("export file");
    assert_eq!(lines.lines().count(), n);
    assert_eq!(
        f.total(&f.dlq).await,
        n as u64,
        "export without --delete keeps them"
    );
    let refused = f.run(&["purge", &f.dlq_arg, "--yes"]);
    assert!(
        !refused.status.success(),
        "purge without --export-to or --force refuses"
    );
    assert_eq!(f.total(&f.dlq).await, n as u64);
    let saved = dir.path().join("purged.jsonl");
    let saved_arg = saved.to_str().expect("utf-8");
    let unconfirmed = f.run(&["purge", &f.dlq_arg, "--export-to", saved_arg]);
    assert!(
        !unconfirmed.status.success(),
        "purge asks for confirmation, which a non-terminal cannot give"
    );
    assert_eq!(f.total(&f.dlq).await, n as u64);
    f.ok(&[
        "purge",
        &f.dlq_arg,
        "--export-to",
        saved.to_str().expect("utf-8"),
        "--yes",
    ]);
    assert_eq!(f.total(&f.dlq).await, 0, "purged");
    f.ok(&[
        "replay",
        "--from",
        saved.to_str().expect("utf-8"),
        "--to",
        &f.dlq_arg,
    ]);
    let mut after = f.contents(&f.dlq).await.1;
    let mut before = before;
    before.sort();
    after.sort();
    assert_eq!(after.len(), n);
    assert_eq!(after, before, "bodies and attributes restored exactly");
}

/// `--dry-run` counts but changes nothing.
pub async fn dry_run_changes_nothing(f: &Fixture) {
    f.seed(90).await;
    let before = f.contents(&f.dlq).await.0;
    let out = f.ok(&[
        "redrive",
        &f.dlq_arg,
        "--dry-run",
        "--filter",
        "event-type=QuoteStateChangeEvent",
    ]);
    assert!(out.contains("would move 30 / skip 60"), "{out}");
    let out = f.ok(&["redrive", &f.dlq_arg, "--dry-run"]);
    assert!(out.contains("would move 90 / skip 0"), "{out}");
    assert_eq!(f.contents(&f.dlq).await.0, before);
    assert_eq!(f.total(&f.source).await, 0, "nothing moved");
    let counts = f.backend.counts(&f.dlq).await.expect("counts");
    assert_eq!((counts.visible, counts.in_flight), (90, 0));
}

/// Runs `q2c dlq <args>` while a consumer of the source does what `fate` says, until the
/// command ends; sends `late` (a new event) to the DLQ once the consumer first receives
/// (the run has started then). Returns the command's output and the deliveries per event id.
pub async fn run_with_consumer(
    f: &Fixture,
    args: &[&str],
    fate: &dyn Fn(&str) -> Fate,
    late: Option<usize>,
) -> (Output, BTreeMap<String, usize>) {
    let mut child = f
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start q2c dlq");
    let mut deliveries: BTreeMap<String, usize> = BTreeMap::new();
    let mut late = late;
    let started = Instant::now();
    loop {
        let ids = f.consume_once(fate).await;
        if !ids.is_empty()
            && let Some(i) = late.take()
        {
            f.seed_copy(i).await;
        }
        for id in ids {
            *deliveries.entry(id).or_default() += 1;
        }
        if child.try_wait().expect("child").is_some() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "q2c dlq {args:?} did not end"
        );
    }
    (child.wait_with_output().expect("output"), deliveries)
}

/// The JSON report a `--json` run printed.
pub fn report(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not a JSON report ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The issue's redrive with a consumer behind the destination that consumes most messages,
/// refuses every third (dead-letters a copy: a new message id) and fails on two until the
/// queue's own `maxReceiveCount` moves them back. The run moves each message once — none of
/// those coming back is moved again — waits until all have settled, reports exactly the
/// refused ones as refused again, and ends. A second copy of a moved eventId and a message
/// sent to the DLQ during the run are left there.
pub async fn redrive_reports_the_refused_again_and_ends(f: &Fixture, settle_check: &str) {
    let n = 30;
    f.seed(n).await;
    f.seed_copy(1).await;
    let transient = [2, 5];
    let fate = move |id: &str| match index(id) {
        Some(i) if i % 3 == 0 => Fate::Refuse,
        Some(i) if transient.contains(&i) => Fate::Fail,
        _ => Fate::Consume,
    };
    let late = 1000;
    let (output, deliveries) = run_with_consumer(
        f,
        &["redrive", &f.dlq_arg, "--json", "--settle-timeout", "10m"],
        &fate,
        Some(late),
    )
    .await;
    let report = report(&output);
    let refused_ids = ids(n, |i| i % 3 == 0 || transient.contains(&i));
    assert_eq!(report["moved"], n, "{report}");
    assert_eq!(report["refusedAgain"], refused_ids.len(), "{report}");
    assert_eq!(report["settledOk"], n - refused_ids.len(), "{report}");
    assert_eq!(report["unsettled"], 0, "{report}");
    assert_eq!(
        (&report["skipped"], &report["failed"]),
        (&Value::from(0), &Value::from(0))
    );
    assert_eq!(report["duplicates"], 1, "the second copy of e-1: {report}");
    assert_eq!(
        report["arrived"], 1,
        "e-{late}, sent during the run: {report}"
    );
    assert_eq!(report["settleCheck"], settle_check, "{report}");
    let listed: BTreeMap<String, (bool, Option<String>)> = report["refused"]
        .as_array()
        .expect("refused")
        .iter()
        .map(|r| {
            (
                r["eventId"].as_str().expect("eventId").to_owned(),
                (
                    r["byMaxReceiveCount"].as_bool().expect("bool"),
                    r["failureReason"].as_str().map(str::to_owned),
                ),
            )
        })
        .collect();
    assert_eq!(
        listed.keys().cloned().collect::<BTreeSet<_>>(),
        refused_ids,
        "{report}"
    );
    for (id, (by_queue, reason)) in &listed {
        let i = index(id).expect("index");
        if transient.contains(&i) {
            assert!(*by_queue, "{id} came back by maxReceiveCount");
        } else {
            assert!(!*by_queue, "{id} was dead-lettered by the consumer");
            assert_eq!(reason.as_deref(), Some(REFUSED_BY_TEST), "{id}");
        }
    }
    // Every message reached the consumer, each refused one exactly once: never moved twice.
    for i in 0..n {
        let expected = if transient.contains(&i) { 5 } else { 1 };
        assert_eq!(
            deliveries.get(&format!("e-{i}")).copied(),
            Some(expected),
            "deliveries of e-{i}: {deliveries:?}"
        );
    }
    let (left, _) = f.contents(&f.dlq).await;
    let mut expected: BTreeMap<String, usize> =
        refused_ids.iter().map(|id| (id.clone(), 1)).collect();
    expected.insert("e-1".into(), 1);
    expected.insert(format!("e-{late}"), 1);
    assert_eq!(
        left, expected,
        "the DLQ holds the refused, the duplicate, the late one"
    );
    assert_eq!(report["leftInQueue"], 14, "{report}");
    assert_eq!(f.total(&f.source).await, 0);
}

/// Without a consumer nothing settles: the wait ends at `--settle-timeout`, the moved
/// messages are reported unsettled, and they are in the destination.
pub async fn without_a_consumer_the_wait_ends_at_the_settle_timeout(f: &Fixture) {
    f.seed(5).await;
    let out = f.ok(&["redrive", &f.dlq_arg, "--settle-timeout", "2s"]);
    assert!(
        out.contains(
            "moved 5 / settled ok 0 / refused again 0 / unsettled 5 / skipped 0 / failed 0"
        ),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "unsettled: 5 moved message(s) still in {} when the wait ended",
            f.source
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("{} now holds 0 message(s)", f.dlq)),
        "{out}"
    );
    assert_eq!(f.total(&f.source).await, 5);
}

/// `--max-messages` bounds the move; the rest stays in the DLQ.
pub async fn max_messages_bounds_the_move(f: &Fixture) {
    f.seed(25).await;
    let report = report(&f.run(&f.redrive_unsettled(&["--max-messages", "10", "--json"])));
    assert_eq!(report["moved"], 10, "{report}");
    assert_eq!(report["maxMessagesReached"], true, "{report}");
    assert_eq!(report["unsettled"], 10, "not waited for: {report}");
    assert_eq!(report["settleCheck"], "none", "{report}");
    assert_eq!(report["leftInQueue"], 15, "{report}");
    assert_eq!(f.total(&f.source).await, 10);
    assert_eq!(f.total(&f.dlq).await, 15);
    let (moved, _) = f.contents(&f.source).await;
    assert!(
        moved.values().all(|n| *n == 1),
        "each moved once: {moved:?}"
    );
}
