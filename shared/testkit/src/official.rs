//! The official TM Forum documents (verbatim copies in `fixtures/tmf/`, checked against
//! `fixtures/tmf/SHA256SUMS`; sources and licences in `fixtures/tmf/README.md`) as validators:
//! a body is checked against a named schema of the document of its API and version.
//!
//! - Swagger 2.0 documents (v4): `definitions`, validated as draft 4.
//! - OpenAPI 3.0 documents (v5): `components/schemas`, validated as draft 7 (both ignore the
//!   keywords beside a `$ref`, as OpenAPI 3.0 does); `nullable: true` adds `null` to `type`.
//!   A schema's `discriminator` mapping is resolved by the instance's `@type`: wherever such a
//!   schema is used (a property, an array's items, the body itself) an instance whose `@type`
//!   names another entry of the mapping is validated against that entry's schema (which builds
//!   on the base through `allOf`); any other instance against the base schema. The `$ref`s that
//!   are members of an `allOf` are the inheritance itself and stay on the base schema.
//!
//! Each error names the instance path, the schema path it failed at (through the `$ref`s) and
//! the reason. Validators are compiled once per (document, schema) and cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::Validator;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// An official document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Doc {
    /// TMF648 Quote Management 4.0.0 (Swagger 2.0).
    Tmf648V4,
    /// TMF648 Quote Management 5.0.0 draft (OpenAPI 3.0).
    Tmf648V5,
    /// TMF622 Product Ordering 4.0.0 (Swagger 2.0).
    Tmf622V4,
    /// TMF622 Product Ordering 5.0.0 (OpenAPI 3.0).
    Tmf622V5,
    /// TMF620 Product Catalog 4.1.0 (Swagger 2.0).
    Tmf620V4,
    /// TMF620 Product Catalog 5.0.0 (OpenAPI 3.0).
    Tmf620V5,
    /// TMF688 Event 4.0.0 (Swagger 2.0).
    Tmf688V4,
}

impl Doc {
    /// Every document.
    pub const ALL: [Doc; 7] = [
        Doc::Tmf648V4,
        Doc::Tmf648V5,
        Doc::Tmf622V4,
        Doc::Tmf622V5,
        Doc::Tmf620V4,
        Doc::Tmf620V5,
        Doc::Tmf688V4,
    ];

    /// The file name in `fixtures/tmf/`.
    pub fn file(self) -> &'static str {
        match self {
            Doc::Tmf648V4 => "TMF648-Quote-v4.0.0.swagger.json",
            Doc::Tmf648V5 => "TMF648-Quote-v5.0.0.oas.yaml",
            Doc::Tmf622V4 => "TMF622-ProductOrder-v4.0.0.swagger.json",
            Doc::Tmf622V5 => "TMF622-ProductOrdering-v5.0.0.oas.yaml",
            Doc::Tmf620V4 => "TMF620-ProductCatalog-v4.1.0.swagger.json",
            Doc::Tmf620V5 => "TMF620-Product_Catalog_Management-v5.0.0.oas.yaml",
            Doc::Tmf688V4 => "TMF688-Event-v4.0.0.swagger.json",
        }
    }

    /// The document's text, verbatim.
    pub fn text(self) -> &'static str {
        match self {
            Doc::Tmf648V4 => include_str!("../fixtures/tmf/TMF648-Quote-v4.0.0.swagger.json"),
            Doc::Tmf648V5 => include_str!("../fixtures/tmf/TMF648-Quote-v5.0.0.oas.yaml"),
            Doc::Tmf622V4 => {
                include_str!("../fixtures/tmf/TMF622-ProductOrder-v4.0.0.swagger.json")
            }
            Doc::Tmf622V5 => include_str!("../fixtures/tmf/TMF622-ProductOrdering-v5.0.0.oas.yaml"),
            Doc::Tmf620V4 => {
                include_str!("../fixtures/tmf/TMF620-ProductCatalog-v4.1.0.swagger.json")
            }
            Doc::Tmf620V5 => {
                include_str!("../fixtures/tmf/TMF620-Product_Catalog_Management-v5.0.0.oas.yaml")
            }
            Doc::Tmf688V4 => include_str!("../fixtures/tmf/TMF688-Event-v4.0.0.swagger.json"),
        }
    }

    fn is_openapi3(self) -> bool {
        matches!(self, Doc::Tmf648V5 | Doc::Tmf622V5 | Doc::Tmf620V5)
    }
}

/// The SHA-256 sums the copies were taken with.
const SHA256SUMS: &str = include_str!("../fixtures/tmf/SHA256SUMS");

/// The documents whose text does not hash to its line in `SHA256SUMS` (empty: all verbatim).
pub fn checksum_mismatches() -> Vec<String> {
    Doc::ALL
        .iter()
        .filter_map(|doc| {
            let expected = SHA256SUMS
                .lines()
                .find_map(|line| {
                    let (sum, name) = line.split_once("  ")?;
                    (name == doc.file()).then_some(sum)
                })
                .unwrap_or("<missing>");
            let actual = Sha256::digest(doc.text().as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>();
            (actual != expected).then(|| format!("{}: {actual}, expected {expected}", doc.file()))
        })
        .collect()
}

/// The named schemas of `doc`, prepared for validation (see the module documentation).
fn schemas(doc: Doc) -> Arc<Map<String, Value>> {
    type Cache = Mutex<HashMap<Doc, Arc<Map<String, Value>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(found) = cache.lock().expect("schema cache").get(&doc) {
        return found.clone();
    }
    let prepared = Arc::new(prepare(doc));
    cache
        .lock()
        .expect("schema cache")
        .insert(doc, prepared.clone());
    prepared
}

fn prepare(doc: Doc) -> Map<String, Value> {
    if !doc.is_openapi3() {
        let swagger: Value = serde_json::from_str(doc.text()).expect("a swagger is JSON");
        return swagger["definitions"]
            .as_object()
            .expect("swagger definitions")
            .clone();
    }
    let document: Value = serde_yaml_ng::from_str(doc.text()).expect("an OpenAPI document is YAML");
    let mut schemas = document["components"]["schemas"]
        .as_object()
        .expect("components/schemas")
        .clone();
    // Schemas whose discriminator maps @type values to other schemas: name -> [(value, target)].
    let mut dispatching: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (name, schema) in &schemas {
        let Some(mapping) = schema["discriminator"]["mapping"].as_object() else {
            continue;
        };
        let others: Vec<(String, String)> = mapping
            .iter()
            .filter_map(|(value, target)| {
                let target = target.as_str()?.strip_prefix("#/components/schemas/")?;
                (target != name).then(|| (value.clone(), target.to_owned()))
            })
            .collect();
        if !others.is_empty() {
            dispatching.insert(name.clone(), others);
        }
    }
    for schema in schemas.values_mut() {
        rewrite(schema, &dispatching, false);
    }
    for (name, others) in &dispatching {
        let values: Vec<&str> = others.iter().map(|(value, _)| value.as_str()).collect();
        let mut branches: Vec<Value> = others
            .iter()
            .map(|(value, target)| {
                json!({
                    "if": {"required": ["@type"], "properties": {"@type": {"const": value}}},
                    "then": {"$ref": format!("#/components/schemas/{target}")},
                })
            })
            .collect();
        branches.push(json!({
            "if": {"required": ["@type"], "properties": {"@type": {"enum": values}}},
            "else": {"$ref": format!("#/components/schemas/{name}")},
        }));
        schemas.insert(dispatch_name(name), json!({"allOf": branches}));
    }
    schemas
}

fn dispatch_name(name: &str) -> String {
    format!("{name}~by@type")
}

/// OpenAPI 3.0 to draft 7: `nullable`, and `$ref`s to a dispatching schema (outside `allOf`)
/// through its dispatcher.
fn rewrite(
    schema: &mut Value,
    dispatching: &HashMap<String, Vec<(String, String)>>,
    in_all_of: bool,
) {
    match schema {
        Value::Object(map) => {
            if !in_all_of
                && let Some(Value::String(reference)) = map.get_mut("$ref")
                && let Some(name) = reference.strip_prefix("#/components/schemas/")
                && dispatching.contains_key(name)
            {
                *reference = format!("#/components/schemas/{}", dispatch_name(name));
            }
            if map.get("nullable") == Some(&Value::Bool(true))
                && let Some(Value::String(kind)) = map.get("type").cloned()
            {
                map.insert("type".into(), json!([kind, "null"]));
            }
            for (key, value) in map.iter_mut() {
                match key.as_str() {
                    // Examples and the discriminator are data, not schemas.
                    "example" | "examples" | "discriminator" | "enum" | "default" => {}
                    "allOf" => {
                        if let Value::Array(members) = value {
                            for member in members {
                                rewrite(member, dispatching, true);
                            }
                        }
                    }
                    _ => rewrite(value, dispatching, false),
                }
            }
        }
        Value::Array(values) => {
            for value in values {
                rewrite(value, dispatching, false);
            }
        }
        _ => {}
    }
}

/// Whether `doc` defines a schema `name`.
pub fn has_schema(doc: Doc, name: &str) -> bool {
    schemas(doc).contains_key(name)
}

/// The validator of schema `name` of `doc` (through its discriminator, if it has one).
///
/// # Panics
/// When `doc` has no such schema or it does not compile.
pub fn validator(doc: Doc, name: &str) -> Arc<Validator> {
    type Cache = Mutex<HashMap<(Doc, String), Arc<Validator>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    let key = (doc, name.to_owned());
    if let Some(found) = cache.lock().expect("validator cache").get(&key) {
        return found.clone();
    }
    let schemas = schemas(doc);
    assert!(
        schemas.contains_key(name),
        "{} has no schema {name}",
        doc.file()
    );
    let built = if doc.is_openapi3() {
        let target = if schemas.contains_key(&dispatch_name(name)) {
            dispatch_name(name)
        } else {
            name.to_owned()
        };
        let root = json!({
            "allOf": [{"$ref": format!("#/components/schemas/{target}")}],
            "components": {"schemas": Value::Object((*schemas).clone())},
        });
        jsonschema::draft7::options()
            .should_validate_formats(true)
            .build(&root)
    } else {
        let root = json!({
            "allOf": [{"$ref": format!("#/definitions/{name}")}],
            "definitions": Value::Object((*schemas).clone()),
        });
        jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&root)
    };
    let validator =
        Arc::new(built.unwrap_or_else(|e| panic!("{} {name} compiles: {e}", doc.file())));
    cache
        .lock()
        .expect("validator cache")
        .insert(key, validator.clone());
    validator
}

/// The reasons `instance` is not a valid `name` of `doc` (empty when it is), each naming the
/// instance path and the schema path.
pub fn errors(doc: Doc, name: &str, instance: &Value) -> Vec<String> {
    validator(doc, name)
        .iter_errors(instance)
        .map(|e| {
            format!(
                "{} {name}: at {:?} (schema {}): {e}",
                doc.file(),
                e.instance_path().as_str(),
                e.evaluation_path().as_str()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copies_are_verbatim() {
        assert_eq!(checksum_mismatches(), Vec::<String>::new());
    }

    #[test]
    fn v5_errors_need_their_type() {
        let body = json!({"code": "NOT_FOUND", "reason": "not found", "status": "404"});
        let errors = errors(Doc::Tmf648V5, "Error", &body);
        assert!(errors.iter().any(|e| e.contains("@type")), "{errors:?}");
        let typed = json!({"@type": "Error", "code": "NOT_FOUND", "reason": "not found"});
        assert_eq!(
            super::errors(Doc::Tmf648V5, "Error", &typed),
            Vec::<String>::new()
        );
        // v4 has no @type requirement.
        assert_eq!(
            super::errors(Doc::Tmf648V4, "Error", &body),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_discriminator_picks_the_schema_of_the_type() {
        // Characteristic's mapping sends StringCharacteristic to a schema requiring `value`
        // as a string.
        let good = json!({"@type": "StringCharacteristic", "name": "colour", "value": "red"});
        assert_eq!(
            errors(Doc::Tmf648V5, "Characteristic", &good),
            Vec::<String>::new()
        );
        let bad = json!({"@type": "StringCharacteristic", "name": "colour", "value": 3});
        let found = errors(Doc::Tmf648V5, "Characteristic", &bad);
        assert!(found.iter().any(|e| e.contains("/value")), "{found:?}");
        // The same, nested: a quote item's product characteristics.
        let item = |value: Value| {
            json!({"@type": "QuoteItem", "id": "1", "action": "add", "state": "inProgress",
                   "product": {"@type": "ProductValue", "productCharacteristic": [
                       {"@type": "NumberCharacteristic", "name": "speed", "value": value}]}})
        };
        assert_eq!(
            errors(Doc::Tmf648V5, "QuoteItem", &item(json!(10))),
            Vec::<String>::new()
        );
        assert!(!errors(Doc::Tmf648V5, "QuoteItem", &item(json!("fast"))).is_empty());
        // Without @type where Extensible requires it.
        let untyped = json!({"@type": "QuoteItem", "id": "1", "action": "add",
                             "product": {"productCharacteristic": []}});
        let found = errors(Doc::Tmf648V5, "QuoteItem", &untyped);
        assert!(
            found
                .iter()
                .any(|e| e.contains("/product") && e.contains("@type")),
            "{found:?}"
        );
    }

    #[test]
    fn every_document_compiles() {
        for (doc, name) in [
            (Doc::Tmf648V4, "Quote"),
            (Doc::Tmf648V5, "Quote"),
            (Doc::Tmf622V4, "ProductOrder"),
            (Doc::Tmf622V5, "ProductOrder"),
            (Doc::Tmf620V4, "ProductOffering"),
            (Doc::Tmf620V5, "ProductOffering"),
            (Doc::Tmf688V4, "Hub"),
        ] {
            validator(doc, name);
        }
    }
}
