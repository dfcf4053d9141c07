//! Request bodies are validated against the OpenAPI document we serve, so what the document
//! forbids (a wrong type, a `null`, a non-URI `@schemaLocation`, an unknown state) is a 400
//! naming the JSON path, whether or not the model types that field. Unknown properties stay
//! allowed: extensions must survive.

use std::sync::OnceLock;

use jsonschema::{Draft, Validator};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::openapi::{DOCUMENT, DOCUMENT_V5};

/// The schemas of a quote's create body and merge patch, as a document names them.
pub struct QuoteSchemas {
    create: Validator,
    update: Validator,
}

impl QuoteSchemas {
    /// Compiles the create schema `create` and the update schema `update` of a document.
    ///
    /// # Errors
    /// When a schema does not compile.
    pub fn compile(
        document: &Value,
        create: &str,
        update: &str,
    ) -> Result<Self, jsonschema::ValidationError<'static>> {
        Ok(QuoteSchemas {
            create: compile(document, create)?,
            update: compile(document, update)?,
        })
    }

    /// Checks a `POST /quote` body.
    ///
    /// # Errors
    /// `ApiError::InvalidBody` naming the path of the first violation.
    pub fn check_create(&self, body: &Value) -> Result<(), ApiError> {
        first_violation(&self.create, body)
    }

    /// Checks a merge patch of a quote. `null` means "remove" in a merge patch (RFC 7396), so
    /// object members that are `null` are not validated; everything else must match the
    /// update schema.
    ///
    /// # Errors
    /// `ApiError::InvalidBody` naming the path of the first violation.
    pub fn check_patch(&self, patch: &Value) -> Result<(), ApiError> {
        first_violation(&self.update, &without_removals(patch))
    }
}

/// The request schemas of the v4 document, compiled once.
pub struct RequestSchemas {
    /// `Quote_Create` and `Quote_Update`.
    pub quote: QuoteSchemas,
    hub_input: Validator,
    order_state_change: Validator,
}

/// The compiled schemas of the embedded document.
///
/// # Panics
/// When the embedded document is not valid JSON or a schema does not compile: both are
/// build-time facts checked by the crate's tests.
pub fn request_schemas() -> &'static RequestSchemas {
    static SCHEMAS: OnceLock<RequestSchemas> = OnceLock::new();
    compiled_once(&SCHEMAS, DOCUMENT, RequestSchemas::from_document)
}

/// The schemas `compile` builds from an embedded document, built on first use.
///
/// # Panics
/// When the document is not JSON or a schema does not compile.
fn compiled_once<T>(
    cell: &'static OnceLock<T>,
    document: &str,
    compile: impl FnOnce(&Value) -> Result<T, jsonschema::ValidationError<'static>>,
) -> &'static T {
    cell.get_or_init(|| {
        let document: Value =
            serde_json::from_str(document).expect("an embedded OpenAPI document is JSON");
        compile(&document).expect("the request schemas of an embedded document compile")
    })
}

/// Compiles the schema `name` of an OpenAPI 3.0 document (its schema objects are JSON Schema
/// draft 4 plus annotations).
fn compile(
    document: &Value,
    name: &str,
) -> Result<Validator, jsonschema::ValidationError<'static>> {
    let root = json!({
        "$ref": format!("#/components/schemas/{name}"),
        "components": document["components"].clone(),
    });
    jsonschema::options()
        .with_draft(Draft::Draft4)
        .should_validate_formats(true)
        .build(&root)
}

impl RequestSchemas {
    /// Compiles `Quote_Create`, `Quote_Update`, `EventSubscriptionInput` and
    /// `ProductOrderStateChangeEvent` of an OpenAPI 3.0 document.
    ///
    /// # Errors
    /// When a schema does not compile.
    pub fn from_document(document: &Value) -> Result<Self, jsonschema::ValidationError<'static>> {
        Ok(RequestSchemas {
            quote: QuoteSchemas::compile(document, "Quote_Create", "Quote_Update")?,
            hub_input: compile(document, "EventSubscriptionInput")?,
            order_state_change: compile(document, "ProductOrderStateChangeEvent")?,
        })
    }

    /// Checks a `POST /hub` body.
    ///
    /// # Errors
    /// `ApiError::InvalidBody` naming the path of the first violation.
    pub fn check_hub_input(&self, body: &Value) -> Result<(), ApiError> {
        first_violation(&self.hub_input, body)
    }

    /// Checks a `POST /listener/productOrderStateChangeEvent` body.
    ///
    /// # Errors
    /// `ApiError::InvalidBody` naming the path of the first violation.
    pub fn check_order_state_change(&self, body: &Value) -> Result<(), ApiError> {
        first_violation(&self.order_state_change, body)
    }
}

/// The request schemas of the TMF648 v5 document: `Quote_FVO`, `Quote_MVO`, `JsonPatch`.
pub struct V5RequestSchemas {
    /// `Quote_FVO` and `Quote_MVO`.
    pub quote: QuoteSchemas,
    json_patch: Validator,
}

/// The compiled schemas of the embedded v5 document.
///
/// # Panics
/// When the embedded document is not valid JSON or a schema does not compile (checked by the
/// crate's tests).
pub fn v5_request_schemas() -> &'static V5RequestSchemas {
    static SCHEMAS: OnceLock<V5RequestSchemas> = OnceLock::new();
    compiled_once(&SCHEMAS, DOCUMENT_V5, V5RequestSchemas::from_document)
}

impl V5RequestSchemas {
    /// Compiles `Quote_FVO`, `Quote_MVO` and `JsonPatch` of a v5 OpenAPI 3.0 document.
    ///
    /// # Errors
    /// When a schema does not compile.
    pub fn from_document(document: &Value) -> Result<Self, jsonschema::ValidationError<'static>> {
        Ok(V5RequestSchemas {
            quote: QuoteSchemas::compile(document, "Quote_FVO", "Quote_MVO")?,
            json_patch: compile(document, "JsonPatch")?,
        })
    }

    /// Checks a JSON Patch document (RFC 6902).
    ///
    /// # Errors
    /// `ApiError::InvalidBody` naming the path of the first violation.
    pub fn check_json_patch(&self, operations: &Value) -> Result<(), ApiError> {
        first_violation(&self.json_patch, operations)
    }
}

fn first_violation(validator: &Validator, instance: &Value) -> Result<(), ApiError> {
    match validator.iter_errors(instance).next() {
        None => Ok(()),
        Some(error) => {
            let path = dotted_path(&error.instance_path().to_string());
            let message = match error.kind() {
                // Every allowed value, in the document's order (jsonschema names two and
                // counts the rest).
                jsonschema::error::ValidationErrorKind::Enum { options } => format!(
                    "{} is not one of {}",
                    shortened(&error.instance().to_string()),
                    options
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(Value::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ => error.masked().to_string(),
            };
            Err(ApiError::InvalidBody(format!("{path}: {message}")))
        }
    }
}

/// `text`, cut to its first 60 characters (and `…`) when longer than 80: the value received is
/// echoed in a message, never a whole hostile string.
fn shortened(text: &str) -> String {
    if text.chars().count() <= 80 {
        return text.to_owned();
    }
    format!("{}…", text.chars().take(60).collect::<String>())
}

/// `/quoteItem/0/quantity` → `quoteItem[0].quantity` (the style of every other message).
fn dotted_path(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    if out.is_empty() { "$".to_owned() } else { out }
}

fn without_removals(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_removals(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_pointers_become_dotted_paths() {
        assert_eq!(
            dotted_path("/quoteItem/0/quantity"),
            "quoteItem[0].quantity"
        );
        assert_eq!(dotted_path("/@schemaLocation"), "@schemaLocation");
        assert_eq!(dotted_path(""), "$");
        assert_eq!(dotted_path("/a~1b/x~0y"), "a/b.x~y");
    }

    #[test]
    fn a_valid_create_body_passes_and_violations_name_their_path() {
        let schemas = request_schemas();
        let ok = json!({"quoteItem": [{"productOffering": {"id": "mobile-s"}, "quantity": 2}],
                        "salesChannel": {"anything": null}});
        schemas.quote.check_create(&ok).expect("valid");
        for (body, path) in [
            (
                json!({"quoteItem": [{"productOffering": {"id": "x"}, "quantity": 0}]}),
                "quoteItem[0].quantity",
            ),
            (
                json!({"quoteItem": [{"productOffering": {"id": "x"}}], "description": null}),
                "description",
            ),
            (
                json!({"quoteItem": [{"productOffering": {"id": "x"}}], "@schemaLocation": ""}),
                "@schemaLocation",
            ),
            (
                json!({"quoteItem": [{"productOffering": {"id": "x"}, "state": "done"}]}),
                "quoteItem[0].state",
            ),
            (json!({"quoteItem": [{}]}), "quoteItem[0]"),
        ] {
            let err = schemas.quote.check_create(&body).expect_err(path);
            let message = err.to_string();
            assert!(
                message.starts_with(&format!("{path}:")),
                "{path} -> {message}"
            );
        }
    }

    #[test]
    fn merge_patch_removals_are_not_type_errors() {
        let schemas = request_schemas();
        schemas
            .quote
            .check_patch(&json!({"description": null, "note": [{"id": "1", "text": "hi"}]}))
            .expect("null removes");
        let err = schemas
            .quote
            .check_patch(&json!({"description": 7}))
            .expect_err("wrong type");
        assert!(err.to_string().starts_with("description:"), "{err}");
    }

    #[test]
    fn hub_input_needs_a_string_callback_and_query() {
        let schemas = request_schemas();
        schemas
            .check_hub_input(&json!({"callback": "http://x/l", "query": "eventType=A"}))
            .expect("valid");
        assert!(
            schemas
                .check_hub_input(&json!({"callback": "http://x/l", "query": null}))
                .is_err()
        );
        assert!(schemas.check_hub_input(&json!({"query": "x"})).is_err());
    }
}
