//! Runs every rule on the real `infra/template.yaml` (which must pass) and on the broken
//! fixtures made from it by `fixtures/regenerate.sh` (each of which must break exactly its
//! own rule).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

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
    let cli = env!("CARGO_BIN_EXE_q2c-template-lint");

    let good = Command::new(cli)
        .arg(real_template())
        .output()
        .expect("cli runs");
    let bad = Command::new(cli)
        .arg(fixture(Rule::SqsMaxReceiveCount))
        .output()
        .expect("cli runs");

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
        stdout.starts_with("sqs-max-receive-count: QuoteEventsQueue: "),
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
