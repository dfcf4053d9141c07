//! Runs every rule on the real `infra/template.yaml` (which must pass) and on the broken
//! fixtures made from it by `fixtures/regenerate.sh` (each of which must break exactly its
//! own rule).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use q2c_template_lint::{Rule, Template, Violation, lint};

/// At most this many lines (removed plus added) separate a fixture from the real template.
const MAX_CHANGED_LINES: usize = 6;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn real_template() -> PathBuf {
    manifest_dir().join("../../infra/template.yaml")
}

fn fixture(rule: Rule) -> PathBuf {
    manifest_dir().join(format!("tests/fixtures/broken-{}.yaml", rule.name()))
}

fn lint_file(path: &Path) -> Vec<Violation> {
    let template = Template::load(path).unwrap_or_else(|e| panic!("{} loads: {e}", path.display()));
    lint(&template)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{} is readable: {e}", path.display()))
}

/// What the CLI does with the template at `path`.
fn cli(path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_q2c-template-lint"))
        .arg(path)
        .output()
        .expect("cli runs")
}

#[test]
fn the_real_template_has_no_violations() {
    let violations = lint_file(&real_template());

    assert!(violations.is_empty(), "violations:\n{}", lines(&violations));
}

#[test]
fn each_broken_fixture_fires_exactly_its_own_rule() {
    for rule in Rule::ALL {
        let violations = lint_file(&fixture(rule));

        assert!(!violations.is_empty(), "{rule}: its fixture raised nothing");
        assert!(
            violations.iter().all(|v| v.rule == rule),
            "{rule}: other rules fired too:\n{}",
            lines(&violations)
        );
    }
}

#[test]
fn each_fixture_is_a_small_edit_of_the_real_template() {
    let real = read(&real_template());

    for rule in Rule::ALL {
        let broken = read(&fixture(rule));
        let header = format!("# broken-{}: ", rule.name());
        assert!(
            broken.starts_with(&header),
            "{rule}: fixture lacks its header"
        );

        let body: String = broken.lines().skip(2).map(|l| format!("{l}\n")).collect();
        let changed = changed_lines(&real, &body);

        assert!(changed > 0, "{rule}: fixture equals the real template");
        assert!(
            changed <= MAX_CHANGED_LINES,
            "{rule}: fixture differs in {changed} lines; run tests/fixtures/regenerate.sh"
        );
    }
}

#[test]
fn the_cli_exits_zero_on_the_template_and_one_per_violation_line_on_a_fixture() {
    let good = cli(&real_template());
    let bad = cli(&fixture(Rule::SqsMaxReceiveCount));

    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stdout)
    );
    assert!(good.stdout.is_empty());
    assert_eq!(bad.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with("sqs-max-receive-count: OrdersQueue: "),
        "{stdout}"
    );
}

/// Lines in one text but not the other, counted as a multiset (a changed line counts twice).
fn changed_lines(a: &str, b: &str) -> usize {
    let mut counts: HashMap<&str, i64> = HashMap::new();
    a.lines().for_each(|l| *counts.entry(l).or_default() += 1);
    b.lines().for_each(|l| *counts.entry(l).or_default() -= 1);
    counts.values().map(|n| n.unsigned_abs() as usize).sum()
}

fn lines(violations: &[Violation]) -> String {
    violations.iter().map(|v| format!("{v}\n")).collect()
}

/// GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn operations_doc() -> String {
    read(&manifest_dir().join("../../docs/operations.md"))
}

#[test]
fn every_alarm_links_a_runbook_step_that_docs_operations_md_has() {
    let doc = operations_doc();
    let anchors: Vec<String> = doc
        .lines()
        .filter_map(|l| {
            l.trim_start_matches('#')
                .strip_prefix(' ')
                .filter(|_| l.starts_with('#'))
        })
        .map(anchor)
        .collect();
    let template = Template::load(&real_template()).expect("template loads");
    let mut checked = 0;
    for alarm in template
        .resources()
        .filter(|r| r.kind == "AWS::CloudWatch::Alarm")
    {
        let link = q2c_template_lint::runbook_anchor(&alarm)
            .unwrap_or_else(|| panic!("{} links no runbook step", alarm.name));
        assert!(
            anchors.iter().any(|a| a == link),
            "{}: docs/operations.md has no heading for #{link} (headings: {anchors:?})",
            alarm.name
        );
        assert!(
            doc.contains(&format!("](#{link})")),
            "{}: the alarm table of docs/operations.md does not link #{link}",
            alarm.name
        );
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} alarms found");
}

#[test]
fn docs_operations_md_lists_every_metric_the_code_emits() {
    let doc = operations_doc();
    for metric in q2c_runtime::Metric::ALL {
        assert!(
            doc.contains(&format!("`{}`", metric.name())),
            "docs/operations.md does not list {}",
            metric.name()
        );
    }
}

#[test]
fn anchors_follow_github() {
    assert_eq!(anchor("API 5xx"), "api-5xx");
    assert_eq!(
        anchor("Runbook: from a DLQ alarm to an empty DLQ (`q2c dlq`)"),
        "runbook-from-a-dlq-alarm-to-an-empty-dlq-q2c-dlq"
    );
}
