//! TMF648 v4: the model's own serde representation. The only difference is that the v5
//! client's full `ExternalIdentifier[]` (kept in the model's extensions) is never written, so a
//! v4 client sees exactly what it always saw. The v4 hub body is the model's
//! `EventSubscription` as serialised (no mapping).

use q2c_model::tmf::Quote;
use serde_json::Value;

use crate::{V5_DECLINED_KEY, V5_EXTERNAL_IDENTIFIERS_KEY};

/// The v4 body of a quote.
///
/// # Errors
/// When the quote cannot be serialised (an amount beyond JSON numbers).
pub fn quote_to_v4(quote: &Quote) -> Result<Value, serde_json::Error> {
    let mut value = serde_json::to_value(quote)?;
    if let Value::Object(map) = &mut value {
        map.remove(V5_EXTERNAL_IDENTIFIERS_KEY);
        map.remove(V5_DECLINED_KEY);
    }
    Ok(value)
}

/// A v4 `Quote_Create` body as the model's JSON representation: the identity, without the
/// server's own v5 marker.
pub fn quote_from_v4_create(mut body: Value) -> Value {
    if let Value::Object(map) = &mut body {
        map.remove(V5_DECLINED_KEY);
    }
    body
}

/// A v4 merge patch as a merge patch of the model's JSON representation. Changing `externalId`
/// through v4 also drops the v5 identifiers kept beside it, which no longer describe it.
pub fn quote_patch_from_v4(mut patch: Value) -> Value {
    if let Value::Object(map) = &mut patch {
        map.remove(V5_DECLINED_KEY);
        if map.contains_key("externalId") {
            map.insert(V5_EXTERNAL_IDENTIFIERS_KEY.to_owned(), Value::Null);
        }
    }
    patch
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn quote(value: Value) -> Quote {
        serde_json::from_value(value).expect("a quote")
    }

    #[test]
    fn a_v4_quote_is_written_as_the_model_serialises_it() {
        let q = quote(
            json!({"id": "q1", "externalId": "crm-1", "state": "inProgress",
                             "quoteItem": [{"id": "1", "action": "change"}], "colour": "red"}),
        );
        assert_eq!(quote_to_v4(&q).unwrap(), serde_json::to_value(&q).unwrap());
    }

    #[test]
    fn the_v5_identifiers_are_not_written_in_v4() {
        let q = quote(json!({"externalId": "crm-1", "quoteItem": [],
                             V5_EXTERNAL_IDENTIFIERS_KEY: [{"id": "crm-1", "owner": "CRM"}]}));
        let body = quote_to_v4(&q).unwrap();
        assert_eq!(body["externalId"], "crm-1");
        assert!(body.get(V5_EXTERNAL_IDENTIFIERS_KEY).is_none(), "{body}");
    }

    #[test]
    fn a_v4_patch_of_external_id_drops_the_v5_identifiers() {
        let patch = quote_patch_from_v4(json!({"externalId": "crm-2"}));
        assert_eq!(patch[V5_EXTERNAL_IDENTIFIERS_KEY], Value::Null);
        assert!(
            patch
                .as_object()
                .unwrap()
                .contains_key(V5_EXTERNAL_IDENTIFIERS_KEY)
        );
        let untouched = quote_patch_from_v4(json!({"description": "x"}));
        assert_eq!(untouched, json!({"description": "x"}));
    }
}
