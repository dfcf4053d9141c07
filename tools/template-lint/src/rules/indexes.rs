//! Rule `index-projections`: the single table's indexes have the keys and projections the
//! code's design needs. What each index must project is a cost decision (an index copies what
//! it projects with every write that touches it), made in the code and checked here so that
//! a template edit cannot undo it silently: the outbox's index holds keys only (every event
//! writes it three times; the relay fetches the items it needs, see "Decision: the outbox" in
//! `docs/architecture.md`).
//!
//! The single table is the `AWS::DynamoDB::Table` keyed `pk` / `sk`.

use serde_yaml_ng::Value;

use crate::template::{Resource, Template, items};
use crate::{Rule, Violation};

/// An index the design needs: its name, hash and range key attributes, projection type.
struct Needed {
    name: &'static str,
    hash: &'static str,
    range: &'static str,
    projection: &'static str,
    why: &'static str,
}

/// The indexes whose shape the code depends on (`shared/aws/src/dynamo/keys.rs`).
const NEEDED: [Needed; 1] = [Needed {
    name: "outbox",
    hash: "obpk",
    range: "obsk",
    projection: "KEYS_ONLY",
    why: "every outbox event writes it three times; a projected event costs its size each time",
}];

/// Checks the indexes of every table keyed `pk` / `sk`.
pub fn check(template: &Template) -> Vec<Violation> {
    let mut violations = Vec::new();
    for table in template.resources_of("AWS::DynamoDB::Table") {
        if key_of(table.prop("KeySchema")) != (Some("pk"), Some("sk")) {
            continue;
        }
        for needed in &NEEDED {
            if let Some(problem) = problem(&table, needed) {
                violations.push(Violation::new(
                    Rule::IndexProjections,
                    format!("{} (index {})", table.name, needed.name),
                    problem,
                ));
            }
        }
    }
    violations
}

/// What is wrong with `needed` in `table`, if anything.
fn problem(table: &Resource<'_>, needed: &Needed) -> Option<String> {
    let indexes = table
        .prop("GlobalSecondaryIndexes")
        .map(items)
        .unwrap_or_default();
    let Some(index) = indexes
        .into_iter()
        .find(|i| i.get("IndexName").and_then(Value::as_str) == Some(needed.name))
    else {
        return Some(format!(
            "the table has no global secondary index `{}` ({} / {}, {})",
            needed.name, needed.hash, needed.range, needed.projection
        ));
    };
    let key = key_of(index.get("KeySchema"));
    if key != (Some(needed.hash), Some(needed.range)) {
        return Some(format!(
            "keyed {} / {}, expected {} / {}",
            key.0.unwrap_or("-"),
            key.1.unwrap_or("-"),
            needed.hash,
            needed.range
        ));
    }
    let projection = index
        .get("Projection")
        .and_then(|p| p.get("ProjectionType"))
        .and_then(Value::as_str);
    (projection != Some(needed.projection)).then(|| {
        format!(
            "projects {}, expected {}: {}",
            projection.unwrap_or("nothing"),
            needed.projection,
            needed.why
        )
    })
}

/// The (hash, range) attribute names of a `KeySchema`.
fn key_of(schema: Option<&Value>) -> (Option<&str>, Option<&str>) {
    let elements = schema.map(items).unwrap_or_default();
    let attribute = |kind: &str| {
        elements
            .iter()
            .find(|e| e.get("KeyType").and_then(Value::as_str) == Some(kind))
            .and_then(|e| e.get("AttributeName"))
            .and_then(Value::as_str)
    };
    (attribute("HASH"), attribute("RANGE"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_passes, assert_single, flagged};

    fn table(outbox: &str) -> String {
        format!(
            "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      KeySchema: [{{AttributeName: pk, KeyType: HASH}}, {{AttributeName: sk, KeyType: RANGE}}]\n      GlobalSecondaryIndexes:\n        - {{IndexName: gsi1, KeySchema: [{{AttributeName: gsi1pk, KeyType: HASH}}], Projection: {{ProjectionType: ALL}}}}\n{outbox}"
        )
    }

    #[test]
    fn the_outbox_index_must_exist_keyed_obpk_obsk_and_keys_only() {
        let good = "        - {IndexName: outbox, KeySchema: [{AttributeName: obpk, KeyType: HASH}, {AttributeName: obsk, KeyType: RANGE}], Projection: {ProjectionType: KEYS_ONLY}}\n";
        assert_passes(check, &table(good));

        let all = good.replace("KEYS_ONLY", "ALL");
        let projection = "projects ALL, expected KEYS_ONLY";
        assert_single(check, &table(&all), Rule::IndexProjections, projection);
        assert_eq!(flagged(check, &table(&all)), ["T (index outbox)"]);

        let rekeyed = good.replace("obsk", "gsi2sk");
        let keyed = "keyed obpk / gsi2sk";
        assert_single(check, &table(&rekeyed), Rule::IndexProjections, keyed);

        let missing = "no global secondary index `outbox`";
        assert_single(check, &table(""), Rule::IndexProjections, missing);
    }

    #[test]
    fn tables_not_keyed_pk_sk_are_not_the_single_table() {
        assert_passes(
            check,
            "Resources:\n  Other:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      KeySchema: [{AttributeName: id, KeyType: HASH}]\n",
        );
    }
}
