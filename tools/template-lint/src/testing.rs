//! What the rules' unit tests share: parsing a test template and running one check over it.

use crate::template::Template;
use crate::{Rule, Violation};

/// The violations `check` finds in the template `text`.
pub(crate) fn lint_with(check: impl Fn(&Template) -> Vec<Violation>, text: &str) -> Vec<Violation> {
    check(&Template::parse(text).expect("test template parses"))
}

/// Asserts that `check` finds nothing in `text`, listing what it found if it does.
pub(crate) fn assert_passes(check: impl Fn(&Template) -> Vec<Violation>, text: &str) {
    let violations = lint_with(check, text);
    assert!(violations.is_empty(), "{violations:?}");
}

/// The resources `check` names in `text`, in the order it reports them.
pub(crate) fn flagged(check: impl Fn(&Template) -> Vec<Violation>, text: &str) -> Vec<String> {
    lint_with(check, text)
        .into_iter()
        .map(|v| v.resource)
        .collect()
}

/// Asserts that the first violation `check` finds in `text` mentions `needle`.
pub(crate) fn assert_first_reports(
    check: impl Fn(&Template) -> Vec<Violation>,
    text: &str,
    needle: &str,
) {
    let violations = lint_with(check, text);
    assert!(
        violations
            .first()
            .is_some_and(|v| v.message.contains(needle)),
        "{needle:?} is not in the first of {violations:?}"
    );
}

/// Asserts that `check` finds exactly one violation in `text`: of `rule`, mentioning `needle`.
pub(crate) fn assert_single(
    check: impl Fn(&Template) -> Vec<Violation>,
    text: &str,
    rule: Rule,
    needle: &str,
) {
    let violations = lint_with(check, text);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].rule, rule);
    assert!(violations[0].message.contains(needle), "{violations:?}");
}
