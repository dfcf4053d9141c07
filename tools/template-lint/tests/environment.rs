//! The template gives every function the environment its code cannot start without: each
//! `required("NAME")` in `functions/<binary>/src/` must be a variable of the function whose
//! binary is `<binary>` (or of `Globals`). The binary of `<Name>Function` is `<name>` in kebab
//! case (QuoteApiFunction -> quote-api): infra/Makefile builds it so, the template names the
//! function `${Prefix}-<binary>` (checked here), and the stack rehearsal runs it so. Functions
//! whose crate is not in the workspace yet are skipped; the five that exist must be found.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The variable names of an `Environment` property.
fn variables(environment: Option<&Value>) -> BTreeSet<String> {
    environment
        .and_then(|e| e.get("Variables"))
        .and_then(Value::as_mapping)
        .map(|vars| {
            vars.keys()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The names passed as string literals to `required(...)` in `source` (environment variable
/// names only: upper case, digits and `_`).
fn required_names(source: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find("required(") {
        rest = &rest[at + "required(".len()..];
        let Some(literal) = rest.trim_start().strip_prefix('"') else {
            continue;
        };
        let Some(end) = literal.find('"') else {
            continue;
        };
        let name = &literal[..end];
        if !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            names.insert(name.to_owned());
        }
    }
    names
}

/// `QuoteApiFunction` -> `quote-api`, as infra/Makefile derives it.
fn binary_of(logical_id: &str) -> String {
    let stem = logical_id.strip_suffix("Function").unwrap_or(logical_id);
    let mut binary = String::new();
    for (i, c) in stem.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            binary.push('-');
        }
        binary.push(c.to_ascii_lowercase());
    }
    binary
}

/// Every `.rs` file under `dir`, concatenated.
fn sources(dir: &Path) -> String {
    let mut text = String::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            text.push_str(&sources(&path));
        } else if path.extension().is_some_and(|x| x == "rs") {
            text.push_str(&std::fs::read_to_string(&path).expect("readable source"));
        }
    }
    text
}

#[test]
fn binaries_are_the_kebab_case_of_the_logical_ids() {
    assert_eq!(binary_of("QuoteApiFunction"), "quote-api");
    assert_eq!(binary_of("OutboxRelayFunction"), "outbox-relay");
    assert_eq!(binary_of("HubDeliveryFunction"), "hub-delivery");
}

#[test]
fn required_names_finds_literal_variable_names_only() {
    let source = r#"required("TABLE_NAME")?, required(
        "ORDERS_DLQ_URL")?, required(name), optional("PUBLIC_BASE_URL"), required("tenant")"#;

    let names: Vec<String> = required_names(source).into_iter().collect();

    assert_eq!(names, ["ORDERS_DLQ_URL", "TABLE_NAME"]);
}

#[test]
fn every_variable_a_function_requires_is_set_by_the_template() {
    let root = repository_root();
    let text = std::fs::read_to_string(root.join("infra/template.yaml")).expect("template");
    // Plain YAML: intrinsic tags only appear in values, and only keys are read here.
    let template: Value = serde_yaml_ng::from_str(&text).expect("template parses");
    let globals = variables(
        template
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(|f| f.get("Environment")),
    );
    let resources = template
        .get("Resources")
        .and_then(Value::as_mapping)
        .expect("Resources");
    let mut checked = Vec::new();
    let mut missing = Vec::new();
    for (name, function) in resources
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some("AWS::Serverless::Function"))
    {
        let name = name.as_str().unwrap_or("?");
        let binary = binary_of(name);
        let binary = binary.as_str();
        assert_eq!(
            function
                .get("Metadata")
                .and_then(|m| m.get("BuildMethod"))
                .and_then(Value::as_str),
            Some("makefile"),
            "{name} is built by infra/Makefile"
        );
        let function_name = function
            .get("Properties")
            .and_then(|p| p.get("FunctionName"))
            .and_then(|n| match n {
                Value::Tagged(tagged) => tagged.value.as_str(),
                other => other.as_str(),
            })
            .unwrap_or_else(|| panic!("{name} has a FunctionName"));
        assert!(
            function_name.ends_with(&format!("-{binary}")),
            "{name}: FunctionName {function_name} does not end with its binary {binary}"
        );
        let crate_src = root.join("functions").join(binary).join("src");
        if !crate_src.is_dir() {
            continue;
        }
        let set: BTreeSet<String> = variables(
            function
                .get("Properties")
                .and_then(|p| p.get("Environment")),
        )
        .union(&globals)
        .cloned()
        .collect();
        for variable in required_names(&sources(&crate_src)) {
            if !set.contains(&variable) {
                missing.push(format!("{name} ({binary}) lacks {variable}"));
            }
        }
        checked.push(binary.to_owned());
    }

    assert!(
        missing.is_empty(),
        "missing variables:\n{}",
        missing.join("\n")
    );
    for present in [
        "quote-api",
        "outbox-relay",
        "order-dispatch",
        "price-fanout",
        "hub-delivery",
    ] {
        assert!(
            checked.iter().any(|b| b == present),
            "{present} was not checked (checked: {checked:?})"
        );
    }
}
