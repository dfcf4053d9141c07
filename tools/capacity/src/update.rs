//! Applies an `UpdateItem` update expression to a shadow copy of the item, so the size after
//! the update (and whether an index key changed) is known. Covers the grammar the adapters use:
//! `SET` with values, attributes, `if_not_exists`, `list_append` and `+`/`-`; `REMOVE`; `ADD`
//! on numbers and sets; `DELETE` on sets — on top-level attributes.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::item::Item;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("update expression {expression:?}: {reason}")]
pub struct UpdateError {
    pub expression: String,
    pub reason: String,
}

/// Names (`#n`) and values (`:v`) the expression refers to.
pub struct Placeholders<'a> {
    pub names: Option<&'a Map<String, Value>>,
    pub values: Option<&'a Map<String, Value>>,
}

/// Applies `expression` to `item`.
pub fn apply(
    item: &mut Item,
    expression: &str,
    placeholders: &Placeholders,
) -> Result<(), UpdateError> {
    let fail = |reason: String| UpdateError {
        expression: expression.to_owned(),
        reason,
    };
    for (action, body) in split_actions(expression) {
        for clause in split_top_level(body, ',') {
            let clause = clause.trim();
            if clause.is_empty() {
                continue;
            }
            match action {
                "SET" => {
                    let (path, value) = clause
                        .split_once('=')
                        .ok_or_else(|| fail(format!("SET clause without '=': {clause}")))?;
                    let name = attribute(path.trim(), placeholders).map_err(fail)?;
                    let value = evaluate(value.trim(), item, placeholders).map_err(fail)?;
                    item.insert(name, value);
                }
                "REMOVE" => {
                    let name = attribute(clause, placeholders).map_err(fail)?;
                    item.remove(&name);
                }
                "ADD" | "DELETE" => {
                    let (path, value) =
                        clause.split_once(char::is_whitespace).ok_or_else(|| {
                            fail(format!("{action} clause without a value: {clause}"))
                        })?;
                    let name = attribute(path.trim(), placeholders).map_err(fail)?;
                    let operand = evaluate(value.trim(), item, placeholders).map_err(fail)?;
                    let updated = if action == "ADD" {
                        match item.get(&name) {
                            None => operand,
                            Some(current) => add(current, &operand, true).map_err(fail)?,
                        }
                    } else {
                        match item.get(&name) {
                            None => continue,
                            Some(current) => set_minus(current, &operand),
                        }
                    };
                    item.insert(name, updated);
                }
                other => return Err(fail(format!("unknown action {other}"))),
            }
        }
    }
    Ok(())
}

fn split_actions(expression: &str) -> Vec<(&'static str, &str)> {
    const ACTIONS: [&str; 4] = ["SET", "REMOVE", "ADD", "DELETE"];
    let mut starts: Vec<(usize, &'static str)> = Vec::new();
    let bytes = expression.as_bytes();
    for action in ACTIONS {
        let mut from = 0;
        while let Some(at) = expression[from..].find(action) {
            let at = from + at;
            let before_ok = at == 0 || bytes[at - 1].is_ascii_whitespace();
            let after = at + action.len();
            let after_ok = after < bytes.len() && bytes[after].is_ascii_whitespace();
            if before_ok && after_ok {
                starts.push((at, action));
            }
            from = after;
        }
    }
    starts.sort();
    starts
        .iter()
        .enumerate()
        .map(|(i, &(at, action))| {
            let end = starts.get(i + 1).map_or(expression.len(), |next| next.0);
            (action, &expression[at + action.len()..end])
        })
        .collect()
}

fn split_top_level(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if c == separator && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn attribute(path: &str, placeholders: &Placeholders) -> Result<String, String> {
    if path.contains(['.', '[']) {
        return Err(format!(
            "nested path {path} (only top-level attributes are modelled)"
        ));
    }
    if let Some(alias) = path.strip_prefix('#') {
        return placeholders
            .names
            .and_then(|names| names.get(&format!("#{alias}")))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("name placeholder {path} is not defined"));
    }
    Ok(path.to_owned())
}

fn evaluate(text: &str, item: &Item, placeholders: &Placeholders) -> Result<Value, String> {
    let text = text.trim();
    // a + b / a - b at the top level (left to right)
    let mut depth = 0usize;
    for (i, c) in text.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => depth = depth.saturating_sub(1),
            '+' | '-' if depth == 0 && i > 0 => {
                let left = evaluate(&text[..i], item, placeholders)?;
                let right = evaluate(&text[i + 1..], item, placeholders)?;
                return add(&left, &right, c == '+');
            }
            _ => {}
        }
    }
    if let Some(args) = function_args(text, "if_not_exists") {
        let [path, fallback] = args[..] else {
            return Err(format!("if_not_exists takes two operands: {text}"));
        };
        let name = attribute(path.trim(), placeholders)?;
        return match item.get(&name) {
            Some(value) => Ok(value.clone()),
            None => evaluate(fallback, item, placeholders),
        };
    }
    if let Some(args) = function_args(text, "list_append") {
        let [a, b] = args[..] else {
            return Err(format!("list_append takes two operands: {text}"));
        };
        let mut list = list_of(&evaluate(a, item, placeholders)?)?;
        list.extend(list_of(&evaluate(b, item, placeholders)?)?);
        return Ok(json!({ "L": list }));
    }
    if text.starts_with(':') {
        return placeholders
            .values
            .and_then(|values| values.get(text))
            .cloned()
            .ok_or_else(|| format!("value placeholder {text} is not defined"));
    }
    let name = attribute(text, placeholders)?;
    item.get(&name)
        .cloned()
        .ok_or_else(|| format!("attribute {name} is read but absent"))
}

fn function_args<'a>(text: &'a str, function: &str) -> Option<Vec<&'a str>> {
    let inner = text
        .strip_prefix(function)?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')?;
    Some(split_top_level(inner, ','))
}

fn list_of(value: &Value) -> Result<Vec<Value>, String> {
    value
        .get("L")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| format!("list_append on a non-list {value}"))
}

fn add(left: &Value, right: &Value, plus: bool) -> Result<Value, String> {
    if let (Some(a), Some(b)) = (number(left), number(right)) {
        let sum = if plus { a + b } else { a - b };
        return Ok(json!({ "N": sum.normalize().to_string() }));
    }
    for kind in ["SS", "NS", "BS"] {
        if let (Some(a), Some(b)) = (
            left.get(kind).and_then(Value::as_array),
            right.get(kind).and_then(Value::as_array),
        ) {
            let mut union = a.clone();
            union.extend(b.iter().filter(|m| !a.contains(m)).cloned());
            return Ok(json!({ kind: union }));
        }
    }
    Err(format!("cannot add {left} and {right}"))
}

fn set_minus(current: &Value, removed: &Value) -> Value {
    for kind in ["SS", "NS", "BS"] {
        if let (Some(a), Some(b)) = (
            current.get(kind).and_then(Value::as_array),
            removed.get(kind).and_then(Value::as_array),
        ) {
            let rest: Vec<Value> = a.iter().filter(|m| !b.contains(m)).cloned().collect();
            return json!({ kind: rest });
        }
    }
    current.clone()
}

fn number(value: &Value) -> Option<Decimal> {
    let text = value.get("N")?.as_str()?;
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        item: Value,
        expression: &str,
        names: Value,
        values: Value,
    ) -> Result<Item, UpdateError> {
        let mut item = item.as_object().unwrap().clone();
        apply(
            &mut item,
            expression,
            &Placeholders {
                names: names.as_object(),
                values: values.as_object(),
            },
        )?;
        Ok(item)
    }

    /// The error of `expression`, setting `:v` on an empty item without name placeholders.
    fn refusal(expression: &str) -> UpdateError {
        run(json!({}), expression, json!({}), json!({":v": {"S": "a"}})).unwrap_err()
    }

    #[test]
    fn set_remove_and_add_as_the_outbox_relay_writes_them() {
        let item = run(
            json!({"gsi2pk": {"S": "OUTBOX#PENDING"}, "attempts": {"N": "1"}, "old": {"S": "x"}}),
            "SET #p = :published, #at = :now REMOVE old ADD #attempts :one",
            json!({"#p": "gsi2pk", "#at": "published_at", "#attempts": "attempts"}),
            json!({":published": {"S": "OUTBOX#PUBLISHED"}, ":now": {"N": "17"}, ":one": {"N": "1"}}),
        )
        .unwrap();
        assert_eq!(item["gsi2pk"], json!({"S": "OUTBOX#PUBLISHED"}));
        assert_eq!(item["published_at"], json!({"N": "17"}));
        assert_eq!(item["attempts"], json!({"N": "2"}));
        assert!(!item.contains_key("old"));
    }

    #[test]
    fn if_not_exists_plus_one_counts_from_the_fallback() {
        let expression = "SET #a = if_not_exists(#a, :zero) + :one";
        let names = json!({"#a": "attempts"});
        let values = json!({":zero": {"N": "0"}, ":one": {"N": "1"}});
        let first = run(json!({}), expression, names.clone(), values.clone()).unwrap();
        assert_eq!(first["attempts"], json!({"N": "1"}));
        let second = run(Value::Object(first), expression, names, values).unwrap();
        assert_eq!(second["attempts"], json!({"N": "2"}));
    }

    #[test]
    fn a_counter_decrements() {
        let item = run(
            json!({"n": {"N": "5"}}),
            "SET #n = #n - :one",
            json!({"#n": "n"}),
            json!({":one": {"N": "1"}}),
        )
        .unwrap();
        assert_eq!(item["n"], json!({"N": "4"}));
    }

    #[test]
    fn an_undefined_placeholder_is_an_error_not_a_guess() {
        let error = refusal("SET #x = :v");
        assert!(error.reason.contains("#x"), "{error}");
    }

    #[test]
    fn nested_paths_are_refused_by_name() {
        let error = refusal("SET a.b = :v");
        assert!(error.reason.contains("nested path a.b"), "{error}");
    }
}
