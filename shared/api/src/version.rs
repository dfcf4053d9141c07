//! The TMF648 versions served side by side. The quote and hub handlers are generic over an
//! [`ApiVersion`]: the version decides the base path, the wire mapping (q2c-wire's `v4`/`v5`
//! modules), the PATCH media types, the query names and the OpenAPI document; the use-cases
//! and the store are the same for every version. Adding a version = one impl here, one wire
//! module, one document, one line in the route table (docs/versioning.md).

use q2c_model::filter::{Attribute, Filter, Op, Operand};
use q2c_model::tmf::{EventSubscription, Quote, QuoteState};
use q2c_service::event_versions::SchemaMajor;
use q2c_service::hrefs;
use q2c_service::ports::QuoteFilter;
use q2c_wire::{v4, v5};
use serde_json::{Map, Value};

use crate::body::{Accepts, reject_forbidden};
use crate::error::ApiError;
use crate::response::json;
use crate::schema::v5_request_schemas;
use axum::response::Response;

/// One served version of the quote API.
pub trait ApiVersion: Send + Sync + 'static {
    /// `v4`, `v5`: the path segment and the name used in configuration.
    const NAME: &'static str;
    /// Base path, e.g. `/tmf-api/quoteManagement/v5`.
    const BASE: &'static str;
    /// The served OpenAPI document.
    const OPENAPI: &'static str;
    /// The media types `PATCH /quote/{id}` accepts.
    const PATCH_ACCEPTS: Accepts;
    /// The event schema major a hub subscription made through this version receives.
    const EVENT_MAJOR: SchemaMajor;

    /// The body of a quote in this version.
    ///
    /// # Errors
    /// `Internal` when the quote cannot be serialised.
    fn quote_body(quote: &Quote) -> Result<Value, ApiError>;

    /// A create body of this version as the model's JSON representation (server-owned
    /// fields refused by this version's names).
    ///
    /// # Errors
    /// `FORBIDDEN_FIELD` or `INVALID_INPUT`.
    fn create_fields(body: Map<String, Value>) -> Result<Map<String, Value>, ApiError>;

    /// A merge patch of this version as a merge patch of the model's JSON representation.
    ///
    /// # Errors
    /// `FORBIDDEN_FIELD` or `INVALID_INPUT`.
    fn patch_fields(patch: Value) -> Result<Value, ApiError>;

    /// The (200) response of a hub subscription; `href` is its URL.
    fn hub_response(subscription: &EventSubscription, href: &str) -> Response;

    /// Checks a JSON Patch document against this version's `JsonPatch` schema.
    ///
    /// # Errors
    /// `INVALID_PATCH` naming the first violation.
    fn check_json_patch(operations: &Value) -> Result<(), ApiError>;

    /// What `GET /quote` filters on, by this version's names (TMF630, `q2c_model::filter`).
    const FILTERS: &'static [Attribute];

    /// Takes out of `filter` the clauses the stores' quote indexes serve (one `state`,
    /// `relatedParty.id` and `externalId` each, the listing date from `.gte` and below `.lt`)
    /// as the model's [`QuoteFilter`]; the rest is evaluated on what the stores read.
    fn index_filter(filter: &mut Filter) -> QuoteFilter;
}

/// `quote` with its catalog references on this server, whenever it was stored.
fn served(quote: &Quote) -> Quote {
    let mut quote = quote.clone();
    hrefs::serve_quote(&mut quote);
    quote
}

fn object(value: Value) -> Result<Map<String, Value>, ApiError> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::InvalidBody(
            "$: expected a JSON object".to_owned(),
        )),
    }
}

/// TMF648 v4 (`/tmf-api/quoteManagement/v4`): the model's own representation.
#[derive(Debug, Clone, Copy)]
pub struct V4;

impl ApiVersion for V4 {
    const NAME: &'static str = "v4";
    const BASE: &'static str = crate::QUOTE_API_BASE;
    const OPENAPI: &'static str = crate::openapi::DOCUMENT;
    const PATCH_ACCEPTS: Accepts = Accepts::JsonOrMergePatch;
    const EVENT_MAJOR: SchemaMajor = SchemaMajor::V4;

    fn quote_body(quote: &Quote) -> Result<Value, ApiError> {
        v4::quote_to_v4(&served(quote)).map_err(|_| ApiError::Internal)
    }

    fn create_fields(body: Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
        reject_forbidden(&body)?;
        object(v4::quote_from_v4_create(Value::Object(body)))
    }

    fn patch_fields(patch: Value) -> Result<Value, ApiError> {
        Ok(v4::quote_patch_from_v4(patch))
    }

    fn hub_response(subscription: &EventSubscription, _href: &str) -> Response {
        // The model's EventSubscription as serialised, field order included.
        json(subscription)
    }

    fn check_json_patch(_operations: &Value) -> Result<(), ApiError> {
        Err(ApiError::InvalidPatch(
            "v4 takes JSON merge patches only".to_owned(),
        ))
    }

    const FILTERS: &'static [Attribute] = q2c_model::filter::QUOTE_V4;

    fn index_filter(filter: &mut Filter) -> QuoteFilter {
        let state = take_state(filter, |s| {
            serde_json::from_value::<QuoteState>(Value::String(s.to_owned())).ok()
        });
        index_filter(filter, "quoteDate", state)
    }
}

/// TMF648 v5 (`/tmf-api/quoteManagement/v5`): q2c-wire's `v5` mapping; PATCH also takes
/// JSON Patch (RFC 6902).
#[derive(Debug, Clone, Copy)]
pub struct V5;

impl ApiVersion for V5 {
    const NAME: &'static str = "v5";
    const BASE: &'static str = crate::QUOTE_API_V5_BASE;
    const OPENAPI: &'static str = crate::openapi::DOCUMENT_V5;
    const PATCH_ACCEPTS: Accepts = Accepts::MergeOrJsonPatch;
    const EVENT_MAJOR: SchemaMajor = SchemaMajor::V5;

    fn quote_body(quote: &Quote) -> Result<Value, ApiError> {
        v5::quote_to_v5(&served(quote)).map_err(|_| ApiError::Internal)
    }

    fn create_fields(body: Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
        let body = Value::Object(body);
        // The mapping first: it names a missing @type or instantSyncQuote plainly.
        let fields = v5::quote_from_v5_create(body.clone())?;
        v5_request_schemas().quote.check_create(&body)?;
        object(fields)
    }

    fn patch_fields(patch: Value) -> Result<Value, ApiError> {
        let fields = v5::quote_patch_from_v5(patch.clone())?;
        v5_request_schemas().quote.check_patch(&patch)?;
        Ok(fields)
    }

    fn check_json_patch(operations: &Value) -> Result<(), ApiError> {
        check_operations(operations)?;
        v5_request_schemas()
            .check_json_patch(operations)
            .map_err(|e| ApiError::InvalidPatch(e.to_string()))
    }

    fn hub_response(subscription: &EventSubscription, href: &str) -> Response {
        json(&v5::hub_to_v5(subscription, href))
    }

    const FILTERS: &'static [Attribute] = q2c_model::filter::QUOTE_V5;

    fn index_filter(filter: &mut Filter) -> QuoteFilter {
        // `declined` is stored as `cancelled` marked declined, so neither is an index
        // lookup: both stay clauses on the rendered state.
        let state = take_state(filter, |s| match s {
            "cancelled" | "declined" => None,
            s => v5::state_from_v5(s).ok(),
        });
        index_filter(filter, "creationDate", state)
    }
}

/// Takes one `state=` value an index serves (`to_model` answers the stored state), leaving
/// any other state clause in `filter`.
fn take_state(
    filter: &mut Filter,
    to_model: impl Fn(&str) -> Option<QuoteState>,
) -> Option<QuoteState> {
    let Some(Operand::Text(value)) = filter.single("state", Op::Eq) else {
        return None;
    };
    let state = to_model(value)?;
    filter.take_single("state", Op::Eq);
    Some(state)
}

/// The index-served clauses besides the state: one `relatedParty.id` and `externalId` each,
/// and the listing date `date` from `.gte` and below `.lt`.
fn index_filter(filter: &mut Filter, date: &str, state: Option<QuoteState>) -> QuoteFilter {
    let text = |filter: &mut Filter, name| match filter.take_single(name, Op::Eq) {
        Some(Operand::Text(v)) => Some(v),
        _ => None,
    };
    let time = |filter: &mut Filter, op| match filter.take_single(date, op) {
        Some(Operand::Time(t)) => Some(t),
        _ => None,
    };
    QuoteFilter {
        state,
        related_party_id: text(filter, "relatedParty.id"),
        external_id: text(filter, "externalId"),
        quote_date_gte: time(filter, Op::Gte),
        quote_date_lt: time(filter, Op::Lt),
    }
}

/// The RFC 6902 operations and the members each needs besides `op`.
const PATCH_OPERATIONS: [(&str, &[&str]); 6] = [
    ("add", &["path", "value"]),
    ("remove", &["path"]),
    ("replace", &["path", "value"]),
    ("move", &["from", "path"]),
    ("copy", &["from", "path"]),
    ("test", &["path", "value"]),
];

/// Names what is wrong with an operation in words a person can act on (the schema's `oneOf`
/// says only that none of its branches matched): an unknown or missing `op`, listing the
/// six, or a member the operation needs. Anything else is left to the schema.
fn check_operations(operations: &Value) -> Result<(), ApiError> {
    let Some(operations) = operations.as_array() else {
        return Ok(());
    };
    let names = || {
        PATCH_OPERATIONS
            .iter()
            .map(|(name, _)| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (i, operation) in operations.iter().enumerate() {
        let Some(operation) = operation.as_object() else {
            continue;
        };
        let Some(op) = operation.get("op").and_then(Value::as_str) else {
            return Err(ApiError::InvalidPatch(format!(
                "[{i}].op: missing; an operation is one of {}",
                names()
            )));
        };
        let Some((_, needs)) = PATCH_OPERATIONS.iter().find(|(name, _)| *name == op) else {
            return Err(ApiError::InvalidPatch(format!(
                "[{i}].op: `{op}` is not one of {}",
                names()
            )));
        };
        if let Some(missing) = needs
            .iter()
            .find(|member| !operation.contains_key(**member))
        {
            return Err(ApiError::InvalidPatch(format!(
                "[{i}]: operation `{op}` needs `{missing}`"
            )));
        }
    }
    Ok(())
}
