//! TMF648 v5 (the 2022 pre-release draft, conventions of the official TMF620/TMF622 v5 where it
//! is ambiguous; every choice is recorded in docs/versioning.md).
//!
//! Differences from the model's (v4) representation:
//! - `creationDate` (v5) is the model's `quoteDate`;
//! - `externalId` is an `ExternalIdentifier[]`; the model keeps one string, the first
//!   identifier's `id`, and the whole array in its extensions ([`V5_EXTERNAL_IDENTIFIERS_KEY`])
//!   so a v5 client reads back what it wrote;
//! - item `action` is the `ItemActionType` enum (`add`, `modify`, `delete`, `noChange`): other
//!   values are refused on input and not written on output (v4 allowed any string);
//! - states: the v4 states are v5 states too; `declined` (the provider will not quote) is
//!   recorded as `cancelled` marked declined ([`V5_DECLINED_KEY`]) and read back as
//!   `declined`; `acknowledged` is a state q2c passes while creating the quote, so a
//!   client cannot ask for it;
//! - `Quote_FVO` requires `@type` and `instantSyncQuote` on create;
//! - the hub answers a `Hub` (`id`, `href`, `callback`, `query`, `@type`);
//! - hrefs point at `/quoteManagement/v5/`.

use q2c_model::tmf::{EventSubscription, Quote, QuoteState};
use serde_json::{Map, Value};

use crate::{V5_DECLINED_KEY, V5_EXTERNAL_IDENTIFIERS_KEY, WireError};

/// The `ItemActionType` values.
pub const ITEM_ACTIONS: [&str; 4] = ["add", "modify", "delete", "noChange"];

/// The v5 `QuoteStateType` values.
pub const QUOTE_STATES: [&str; 8] = q2c_model::filter::QUOTE_V5_STATES;

/// Fields of a v5 quote only the server sets (the model's list, with `creationDate` for
/// `quoteDate`).
pub const SERVER_OWNED_FIELDS: [&str; 9] = [
    "id",
    "href",
    "creationDate",
    "quoteTotalPrice",
    "validFor",
    "authorization",
    "state",
    "effectiveQuoteCompletionDate",
    "productOrder",
];

/// Fields `Quote_FVO` leaves out that `Quote_MVO` has: set by the server on create, changeable
/// by PATCH (`expectedQuoteCompletionDate`).
pub const SERVER_SET_ON_CREATE: [&str; 1] = ["expectedQuoteCompletionDate"];

/// The v5 name of a model state: every model state is a v5 state, of the same name.
pub fn state_to_v5(state: QuoteState) -> &'static str {
    state.as_str()
}

/// The model state a v5 client asks for: `declined` is recorded as `cancelled`.
///
/// # Errors
/// `Invalid` for `acknowledged` (assigned by the server) and for unknown states.
pub fn state_from_v5(state: &str) -> Result<QuoteState, WireError> {
    Ok(match state {
        "inProgress" => QuoteState::InProgress,
        "pending" => QuoteState::Pending,
        "approved" => QuoteState::Approved,
        "accepted" => QuoteState::Accepted,
        "rejected" => QuoteState::Rejected,
        "cancelled" | "declined" => QuoteState::Cancelled,
        "acknowledged" => {
            return Err(WireError::invalid(
                "state",
                "acknowledged is assigned by the server (q2c acknowledges a quote while creating it)",
            ));
        }
        other => {
            return Err(WireError::invalid(
                "state",
                format!("`{other}` is not a quote state"),
            ));
        }
    })
}

/// The v5 body of a quote.
///
/// # Errors
/// When the quote cannot be serialised (an amount beyond JSON numbers).
pub fn quote_to_v5(quote: &Quote) -> Result<Value, serde_json::Error> {
    let mut value = serde_json::to_value(quote)?;
    let Value::Object(map) = &mut value else {
        return Ok(value);
    };
    if let Some(date) = map.remove("quoteDate") {
        map.insert("creationDate".to_owned(), date);
    }
    let kept = map.remove(V5_EXTERNAL_IDENTIFIERS_KEY);
    if let Some(Value::String(id)) = map.remove("externalId") {
        let identifiers = match kept {
            Some(Value::Array(list))
                if list.first().and_then(|f| f.get("id")) == Some(&Value::String(id.clone())) =>
            {
                Value::Array(list)
            }
            // Set through v4 (or changed there since): the one identifier the model knows.
            _ => serde_json::json!([{ "id": id }]),
        };
        map.insert("externalId".to_owned(), identifiers);
    }
    let declined = map.remove(V5_DECLINED_KEY) == Some(Value::Bool(true));
    if declined && map.get("state") == Some(&Value::String("cancelled".to_owned())) {
        map.insert("state".to_owned(), Value::String("declined".to_owned()));
    }
    if let Some(Value::String(href)) = map.get_mut("href") {
        *href = href.replacen("/quoteManagement/v4/", "/quoteManagement/v5/", 1);
    }
    if let Some(Value::Array(items)) = map.get_mut("quoteItem") {
        items.iter_mut().for_each(item_to_v5);
    }
    Ok(value)
}

fn item_to_v5(item: &mut Value) {
    let Value::Object(map) = item else { return };
    let known = map
        .get("action")
        .and_then(Value::as_str)
        .is_some_and(|a| ITEM_ACTIONS.contains(&a));
    if !known {
        // A v4 client may have written any action; v5 only has ItemActionType.
        map.remove("action");
    }
    if let Some(Value::Object(product)) = map.get_mut("product") {
        product_to_v5(product);
    }
    if let Some(Value::Array(children)) = map.get_mut("quoteItem") {
        children.iter_mut().for_each(item_to_v5);
    }
}

/// v5's `ProductRefOrValue` and `Characteristic` build on `Extensible`, which requires
/// `@type`; a product written through v4 may have none. The discriminator values of the v5
/// document are filled in where missing: `ProductValue` (a product described by value; q2c's
/// quote items never reference an existing product by id alone) and, for each characteristic,
/// the `Characteristic` subtype of its value's JSON type.
fn product_to_v5(product: &mut Map<String, Value>) {
    if !product.contains_key("@type") {
        product.insert("@type".to_owned(), Value::String("ProductValue".to_owned()));
    }
    if let Some(Value::Array(characteristics)) = product.get_mut("productCharacteristic") {
        for characteristic in characteristics {
            if let Value::Object(characteristic) = characteristic
                && !characteristic.contains_key("@type")
            {
                let subtype = characteristic_type(characteristic.get("value"));
                characteristic.insert("@type".to_owned(), Value::String(subtype.to_owned()));
            }
        }
    }
}

/// The v5 `Characteristic` subtype of a characteristic value (`Characteristic` itself when
/// there is none).
pub fn characteristic_type(value: Option<&Value>) -> &'static str {
    match value {
        Some(Value::String(_)) => "StringCharacteristic",
        Some(Value::Bool(_)) => "BooleanCharacteristic",
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => "IntegerCharacteristic",
        Some(Value::Number(_)) => "NumberCharacteristic",
        Some(Value::Object(_)) => "ObjectCharacteristic",
        Some(Value::Array(list)) => match list.first() {
            Some(Value::String(_)) => "StringArrayCharacteristic",
            Some(Value::Bool(_)) => "BooleanArrayCharacteristic",
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => "IntegerArrayCharacteristic",
            Some(Value::Number(_)) => "NumberArrayCharacteristic",
            _ => "ObjectArrayCharacteristic",
        },
        Some(Value::Null) | None => "Characteristic",
    }
}

/// A v5 `Quote_FVO` body as the model's JSON representation (to be typed and checked by the
/// use-case like any create): `@type` and `instantSyncQuote` are required, server-owned fields
/// are refused.
///
/// # Errors
/// `Invalid` (not an object, a required field missing, a value the v5 schema does not allow)
/// or `ForbiddenField`.
pub fn quote_from_v5_create(body: Value) -> Result<Value, WireError> {
    let Value::Object(map) = body else {
        return Err(WireError::invalid("$", "expected a JSON object"));
    };
    if let Some(field) = SERVER_OWNED_FIELDS
        .iter()
        .chain(SERVER_SET_ON_CREATE.iter())
        .find(|f| map.contains_key(**f))
    {
        return Err(WireError::ForbiddenField((*field).to_owned()));
    }
    match map.get("@type") {
        Some(Value::String(t)) if !t.is_empty() => {}
        Some(_) => return Err(WireError::invalid("@type", "must be a non-empty string")),
        None => {
            return Err(WireError::invalid(
                "@type",
                "missing required field (Quote_FVO requires @type, e.g. \"Quote\")",
            ));
        }
    }
    match map.get("instantSyncQuote") {
        Some(Value::Bool(_)) => {}
        Some(_) => return Err(WireError::invalid("instantSyncQuote", "must be a boolean")),
        None => {
            return Err(WireError::invalid(
                "instantSyncQuote",
                "missing required field (Quote_FVO requires instantSyncQuote)",
            ));
        }
    }
    let mut fields = fields_from_v5(map)?;
    // An empty `externalId` on create means none: there is nothing to remove yet.
    for key in ["externalId", V5_EXTERNAL_IDENTIFIERS_KEY] {
        if fields.get(key).is_some_and(Value::is_null) {
            fields.remove(key);
        }
    }
    Ok(Value::Object(fields))
}

/// A v5 merge patch (RFC 7396, v5 field names) as a merge patch of the model's JSON
/// representation. `state` is mapped (`declined` → `cancelled`); other server-owned fields
/// are refused.
///
/// # Errors
/// `Invalid` or `ForbiddenField`.
pub fn quote_patch_from_v5(patch: Value) -> Result<Value, WireError> {
    let Value::Object(map) = patch else {
        return Err(WireError::invalid(
            "$",
            "a merge patch must be a JSON object",
        ));
    };
    if let Some(field) = SERVER_OWNED_FIELDS
        .iter()
        .find(|f| **f != "state" && map.contains_key(**f))
    {
        return Err(WireError::ForbiddenField((*field).to_owned()));
    }
    fields_from_v5(map).map(Value::Object)
}

/// A whole v5 quote body (for instance an event's) as a model quote.
///
/// # Errors
/// `Invalid` when it does not map or does not fit the model.
pub fn quote_from_v5(body: Value) -> Result<Quote, WireError> {
    let Value::Object(map) = body else {
        return Err(WireError::invalid("$", "expected a JSON object"));
    };
    let fields = fields_from_v5(map)?;
    serde_json::from_value(Value::Object(fields))
        .map_err(|e| WireError::invalid("$", e.to_string()))
}

fn fields_from_v5(map: Map<String, Value>) -> Result<Map<String, Value>, WireError> {
    let mut out = Map::with_capacity(map.len() + 1);
    for (key, value) in map {
        match key.as_str() {
            "creationDate" => {
                out.insert("quoteDate".to_owned(), value);
            }
            "externalId" => {
                let (id, kept) = external_id_from_v5(value)?;
                out.insert("externalId".to_owned(), id);
                out.insert(V5_EXTERNAL_IDENTIFIERS_KEY.to_owned(), kept);
            }
            "state" => {
                let state = match &value {
                    Value::String(s) => state_from_v5(s)?,
                    _ => return Err(WireError::invalid("state", "must be a string")),
                };
                if value.as_str() == Some("declined") {
                    out.insert(V5_DECLINED_KEY.to_owned(), Value::Bool(true));
                }
                out.insert(
                    "state".to_owned(),
                    Value::String(state_to_v5(state).to_owned()),
                );
            }
            "quoteItem" => {
                if let Value::Array(items) = &value {
                    for (i, item) in items.iter().enumerate() {
                        check_item(item, &format!("quoteItem[{i}]"))?;
                    }
                }
                out.insert(key, value);
            }
            V5_EXTERNAL_IDENTIFIERS_KEY | V5_DECLINED_KEY => {
                return Err(WireError::invalid(key, "is reserved by the server"));
            }
            _ => {
                out.insert(key, value);
            }
        }
    }
    Ok(out)
}

/// `(externalId, kept identifiers)` of a v5 `externalId`: `null` or `[]` clear both.
fn external_id_from_v5(value: Value) -> Result<(Value, Value), WireError> {
    let list = match value {
        Value::Null => return Ok((Value::Null, Value::Null)),
        Value::Array(list) => list,
        _ => {
            return Err(WireError::invalid(
                "externalId",
                "must be an array of ExternalIdentifier",
            ));
        }
    };
    for (i, identifier) in list.iter().enumerate() {
        match identifier.get("id") {
            Some(Value::String(id)) if !id.is_empty() => {}
            _ if !identifier.is_object() => {
                return Err(WireError::invalid(
                    format!("externalId[{i}]"),
                    "must be an ExternalIdentifier object",
                ));
            }
            _ => {
                return Err(WireError::invalid(
                    format!("externalId[{i}].id"),
                    "a non-empty string is required",
                ));
            }
        }
    }
    match list.first().and_then(|f| f.get("id")).cloned() {
        Some(id) => Ok((id, Value::Array(list))),
        None => Ok((Value::Null, Value::Null)),
    }
}

fn check_item(item: &Value, path: &str) -> Result<(), WireError> {
    let Value::Object(map) = item else {
        return Ok(()); // typed later, with its path
    };
    match map.get("action") {
        None | Some(Value::Null) => {}
        Some(Value::String(a)) if ITEM_ACTIONS.contains(&a.as_str()) => {}
        Some(other) => {
            return Err(WireError::invalid(
                format!("{path}.action"),
                format!("{other} is not an ItemActionType (add, modify, delete, noChange)"),
            ));
        }
    }
    if let Some(Value::Array(children)) = map.get("quoteItem") {
        for (i, child) in children.iter().enumerate() {
            check_item(child, &format!("{path}.quoteItem[{i}]"))?;
        }
    }
    Ok(())
}

/// The v5 `Hub` body of a hub subscription; `href` is where it can be deleted.
pub fn hub_to_v5(subscription: &EventSubscription, href: &str) -> Value {
    let mut map = Map::new();
    map.insert("id".to_owned(), Value::String(subscription.id.clone()));
    map.insert("href".to_owned(), Value::String(href.to_owned()));
    map.insert(
        "callback".to_owned(),
        Value::String(subscription.callback.clone()),
    );
    if let Some(query) = &subscription.query {
        map.insert("query".to_owned(), Value::String(query.clone()));
    }
    map.insert("@type".to_owned(), Value::String("Hub".to_owned()));
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model(value: Value) -> Quote {
        serde_json::from_value(value).expect("a quote")
    }

    fn stored() -> Quote {
        model(json!({
            "id": "q1",
            "href": "https://api.example.com/tmf-api/quoteManagement/v4/quote/q1",
            "quoteDate": "2026-11-27T10:00:00Z",
            "externalId": "crm-1",
            "state": "inProgress",
            "@type": "Quote",
            "colour": "red",
            "quoteItem": [{"id": "1", "action": "add", "quantity": 1,
                           "quoteItem": [{"id": "1.1", "action": "change"}]}]
        }))
    }

    #[test]
    fn a_quote_is_written_with_v5_names() {
        let body = quote_to_v5(&stored()).unwrap();
        assert_eq!(body["creationDate"], "2026-11-27T10:00:00Z");
        assert!(body.get("quoteDate").is_none(), "{body}");
        assert_eq!(body["externalId"], json!([{"id": "crm-1"}]));
        assert_eq!(
            body["href"],
            "https://api.example.com/tmf-api/quoteManagement/v5/quote/q1"
        );
        assert_eq!(body["state"], "inProgress");
        assert_eq!(body["colour"], "red", "extensions are kept");
        assert_eq!(body["quoteItem"][0]["action"], "add");
        assert!(
            body["quoteItem"][0]["quoteItem"][0].get("action").is_none(),
            "a v4-only action is not written: {body}"
        );
    }

    #[test]
    fn a_v5_create_maps_onto_the_model_and_reads_back_the_same() {
        let create = json!({
            "@type": "Quote",
            "instantSyncQuote": false,
            "externalId": [{"id": "crm-7", "owner": "CRM", "externalIdentifierType": "Opportunity"},
                           {"id": "shop-3", "owner": "Shop"}],
            "quoteItem": [{"action": "add", "productOffering": {"id": "fibre-1g"}}],
            "colour": "blue"
        });
        let fields = quote_from_v5_create(create.clone()).unwrap();
        assert_eq!(fields["externalId"], "crm-7");
        let quote = model(fields);
        assert_eq!(quote.external_id.as_deref(), Some("crm-7"));
        assert_eq!(quote.instant_sync_quote, Some(false));
        let body = quote_to_v5(&quote).unwrap();
        assert_eq!(body["externalId"], create["externalId"]);
        assert_eq!(body["colour"], "blue");
        assert!(body.get(V5_EXTERNAL_IDENTIFIERS_KEY).is_none());
        let v4 = crate::v4::quote_to_v4(&quote).unwrap();
        assert_eq!(v4["externalId"], "crm-7");
    }

    #[test]
    fn a_create_needs_type_and_instant_sync_quote() {
        let base = json!({"@type": "Quote", "instantSyncQuote": true, "quoteItem": []});
        assert!(quote_from_v5_create(base.clone()).is_ok());
        for (field, path) in [("@type", "@type"), ("instantSyncQuote", "instantSyncQuote")] {
            let mut body = base.clone();
            body.as_object_mut().unwrap().remove(field);
            match quote_from_v5_create(body) {
                Err(WireError::Invalid { path: p, .. }) => assert_eq!(p, path),
                other => panic!("{field}: {other:?}"),
            }
        }
        let mut wrong = base.clone();
        wrong["instantSyncQuote"] = json!("yes");
        assert!(quote_from_v5_create(wrong).is_err());
    }

    #[test]
    fn server_owned_fields_are_refused_by_their_v5_names() {
        let body = json!({"@type": "Quote", "instantSyncQuote": true, "creationDate": "2026-01-01T00:00:00Z"});
        assert_eq!(
            quote_from_v5_create(body),
            Err(WireError::ForbiddenField("creationDate".into()))
        );
        assert_eq!(
            quote_patch_from_v5(json!({"validFor": null})),
            Err(WireError::ForbiddenField("validFor".into()))
        );
    }

    #[test]
    fn an_item_action_outside_item_action_type_is_refused_with_its_path() {
        let body = json!({"quoteItem": [{"action": "add", "quoteItem": [{"action": "change"}]}]});
        match quote_patch_from_v5(body) {
            Err(WireError::Invalid { path, .. }) => {
                assert_eq!(path, "quoteItem[0].quoteItem[0].action")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn states_map_onto_the_lifecycle() {
        assert_eq!(state_from_v5("declined"), Ok(QuoteState::Cancelled));
        assert_eq!(state_from_v5("approved"), Ok(QuoteState::Approved));
        assert!(state_from_v5("acknowledged").is_err());
        assert!(state_from_v5("sleeping").is_err());
        let patch = quote_patch_from_v5(json!({"state": "declined"})).unwrap();
        assert_eq!(
            patch,
            json!({"state": "cancelled", V5_DECLINED_KEY: true}),
            "recorded as cancelled, marked declined"
        );
        for state in [
            QuoteState::InProgress,
            QuoteState::Pending,
            QuoteState::Approved,
            QuoteState::Accepted,
            QuoteState::Rejected,
            QuoteState::Cancelled,
        ] {
            let name = state_to_v5(state);
            assert!(QUOTE_STATES.contains(&name));
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                json!(name),
                "v4 and v5 agree"
            );
        }
    }

    #[test]
    fn a_patch_clearing_external_id_clears_the_kept_identifiers() {
        let patch = quote_patch_from_v5(json!({"externalId": null, "description": "d"})).unwrap();
        assert_eq!(patch["externalId"], Value::Null);
        assert_eq!(patch[V5_EXTERNAL_IDENTIFIERS_KEY], Value::Null);
        assert_eq!(patch["description"], "d");
        let empty = quote_patch_from_v5(json!({"externalId": []})).unwrap();
        assert_eq!(empty["externalId"], Value::Null);
        assert!(quote_patch_from_v5(json!({"externalId": "crm-1"})).is_err());
        assert!(quote_patch_from_v5(json!({"externalId": [{"owner": "x"}]})).is_err());
    }

    #[test]
    fn an_empty_external_id_on_create_is_none() {
        let fields = quote_from_v5_create(
            json!({"@type": "Quote", "instantSyncQuote": true, "externalId": []}),
        )
        .unwrap();
        assert_eq!(fields, json!({"@type": "Quote", "instantSyncQuote": true}));
    }

    #[test]
    fn an_external_id_changed_through_v4_is_written_from_the_model() {
        let mut quote = model(
            quote_from_v5_create(json!({
            "@type": "Quote", "instantSyncQuote": true,
            "externalId": [{"id": "crm-1", "owner": "CRM"}]}))
            .unwrap(),
        );
        quote.external_id = Some("crm-2".into());
        assert_eq!(
            quote_to_v5(&quote).unwrap()["externalId"],
            json!([{"id": "crm-2"}])
        );
    }

    #[test]
    fn a_whole_v5_body_reads_back_into_the_model() {
        let original = stored();
        let body = quote_to_v5(&original).unwrap();
        let back = quote_from_v5(body).unwrap();
        assert_eq!(back.quote_date, original.quote_date);
        assert_eq!(back.external_id, original.external_id);
        assert_eq!(back.state, original.state);
    }

    #[test]
    fn a_hub_is_written_as_a_v5_hub() {
        let s = EventSubscription {
            id: "h1".into(),
            callback: "local:q".into(),
            query: Some("eventType=QuoteStateChangeEvent".into()),
        };
        assert_eq!(
            hub_to_v5(&s, "/tmf-api/quoteManagement/v5/hub/h1"),
            json!({"id": "h1", "href": "/tmf-api/quoteManagement/v5/hub/h1", "callback": "local:q",
                   "query": "eventType=QuoteStateChangeEvent", "@type": "Hub"})
        );
    }

    #[test]
    fn a_declined_quote_reads_back_declined_on_v5_and_cancelled_on_v4() {
        let stored: Quote = serde_json::from_value(json!({
            "id": "q-1", "state": "cancelled", V5_DECLINED_KEY: true,
            "quoteItem": [{"id": "1", "action": "add"}]}))
        .expect("a quote");
        assert_eq!(quote_to_v5(&stored).unwrap()["state"], "declined");
        let v4 = crate::v4::quote_to_v4(&stored).unwrap();
        assert_eq!(v4["state"], "cancelled");
        assert!(v4.get(V5_DECLINED_KEY).is_none(), "{v4}");
        // Only a cancelled quote reads as declined.
        let mut open = stored.clone();
        open.state = Some(QuoteState::InProgress);
        assert_eq!(quote_to_v5(&open).unwrap()["state"], "inProgress");
        assert!(quote_patch_from_v5(json!({ V5_DECLINED_KEY: true })).is_err());
    }

    #[test]
    fn products_without_a_type_get_the_v5_discriminator_values() {
        let stored: Quote = serde_json::from_value(json!({
            "id": "q-1",
            "quoteItem": [{"id": "1", "action": "add", "product": {"productCharacteristic": [
                {"name": "a", "value": "x"}, {"name": "b", "value": 2}, {"name": "c", "value": 2.5},
                {"name": "d", "value": false}, {"name": "e", "value": {"k": 1}},
                {"name": "f", "value": ["x"]}, {"name": "g"},
                {"name": "h", "value": 1, "@type": "SpeedCharacteristic"}]}}]}))
        .expect("a quote");
        let v5 = quote_to_v5(&stored).unwrap();
        let product = &v5["quoteItem"][0]["product"];
        assert_eq!(product["@type"], "ProductValue");
        let types: Vec<&str> = product["productCharacteristic"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["@type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "StringCharacteristic",
                "IntegerCharacteristic",
                "NumberCharacteristic",
                "BooleanCharacteristic",
                "ObjectCharacteristic",
                "StringArrayCharacteristic",
                "Characteristic",
                "SpeedCharacteristic"
            ]
        );
    }

    #[test]
    fn expected_quote_completion_date_is_refused_on_create_only() {
        let body = json!({"@type": "Quote", "instantSyncQuote": false, "quoteItem": [{"action": "add"}],
                          "expectedQuoteCompletionDate": "2030-01-01T00:00:00Z"});
        assert_eq!(
            quote_from_v5_create(body),
            Err(WireError::ForbiddenField(
                "expectedQuoteCompletionDate".to_owned()
            ))
        );
        assert!(
            quote_patch_from_v5(json!({"expectedQuoteCompletionDate": "2030-01-01T00:00:00Z"}))
                .is_ok()
        );
    }
}
