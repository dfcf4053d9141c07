//! The official TMF637 v4 schemas (the Product Inventory swagger of TM Forum, a verbatim copy
//! in `fixtures/`, source and licence in `shared/specs/tmf/README.md` of the reference set):
//! validating product events and products against the definitions as published.

use jsonschema::Validator;
use serde_json::{Value, json};

/// The TMF637 v4.0.0 swagger, verbatim.
const SWAGGER: &str = include_str!("../fixtures/TMF637-ProductInventory-v4.0.0.swagger.json");

/// A validator of the swagger definition `definition` (e.g. `ProductCreateEvent`,
/// `Product`), its `$ref`s resolved within the swagger (draft 4, as Swagger 2.0 is).
///
/// # Panics
/// When the definition is unknown or the schema does not compile.
pub fn validator(definition: &str) -> Validator {
    let swagger: Value = serde_json::from_str(SWAGGER).expect("the TMF637 swagger is JSON");
    let definitions = swagger["definitions"].clone();
    assert!(
        definitions.get(definition).is_some(),
        "TMF637 v4 has no definition {definition}"
    );
    let schema = json!({
        "$ref": format!("#/definitions/{definition}"),
        "definitions": definitions,
    });
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("TMF637 {definition} compiles: {e}"))
}

/// The reasons `instance` is not a valid `definition` (empty when valid).
pub fn errors(definition: &str, instance: &Value) -> Vec<String> {
    validator(definition)
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}
