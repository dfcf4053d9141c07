//! The sample events in `events/` parse into their `aws_lambda_events` types, their message
//! bodies validate against the schemas in `events/schemas/`, and so does a message built by
//! `q2c_service::events::quote_event` or `q2c_service::orders::order_event`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::sqs::SqsEvent;
use jsonschema::{Retrieve, Uri, Validator};
use q2c_model::tmf::{EntityRef, Quote, QuoteItem, QuoteState};
use q2c_service::context::{RequestContext, Scope, TenantId};
use q2c_service::events::{QuoteEventType, quote_event};
use serde_json::Value;

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events")
}

fn read(relative: &str) -> String {
    let path = events_dir().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn json(relative: &str) -> Value {
    serde_json::from_str(&read(relative)).unwrap_or_else(|e| panic!("{relative} is JSON: {e}"))
}

/// Resolves `https://q2c.dev/schemas/<file>` to `events/schemas/<file>`, nothing else.
struct LocalSchemas;

impl Retrieve for LocalSchemas {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let file = uri
            .as_str()
            .strip_prefix("https://q2c.dev/schemas/")
            .ok_or_else(|| format!("refusing to retrieve {}", uri.as_str()))?;
        Ok(json(&format!("schemas/{file}")))
    }
}

fn validator(schema: &str) -> Validator {
    jsonschema::options()
        .with_retriever(LocalSchemas)
        .build(&json(&format!("schemas/{schema}")))
        .unwrap_or_else(|e| panic!("{schema} is a valid schema: {e}"))
}

fn assert_valid(validator: &Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what} does not validate: {errors:#?}");
}

#[test]
fn api_gateway_samples_parse_as_http_api_v2_requests_with_claims() {
    for file in ["apigw/create-quote.json", "apigw/get-quote.json"] {
        let request: ApiGatewayV2httpRequest = serde_json::from_str(&read(file))
            .unwrap_or_else(|e| panic!("{file} is an ApiGatewayV2httpRequest: {e}"));
        let claims = &request
            .request_context
            .authorizer
            .and_then(|a| a.jwt)
            .expect("JWT authorizer claims")
            .claims;
        for claim in ["sub", "tenant", "scope"] {
            assert!(claims.contains_key(claim), "{file} has claim {claim}");
        }
        // lambda_http accepts it too (the runtime's own parsing).
        let _: lambda_http::request::LambdaRequest =
            serde_json::from_str(&read(file)).expect("lambda_http parses the sample");
    }
}

#[test]
fn the_create_sample_posts_a_quote_of_a_sample_catalog_offering() {
    let request = json("apigw/create-quote.json");
    let body: Value = serde_json::from_str(request["body"].as_str().expect("body")).expect("JSON");
    let offering = &body["quoteItem"][0]["productOffering"]["id"];
    let catalog = q2c_model::sample_catalog::sample_catalog();
    assert!(
        catalog
            .offerings()
            .any(|o| Some(o.id.as_str()) == offering.as_str())
    );
}

#[test]
fn the_outbox_sample_parses_as_a_stream_insert_of_an_outbox_item() {
    let event: DynamoDbEvent = serde_json::from_str(&read("dynamodb/outbox-insert.json"))
        .expect("a DynamoDB stream event");
    let record = event.records.first().expect("one record");
    assert_eq!(record.event_name, "INSERT");
    let outbox = q2c_fn_outbox_relay::record::outbox_event(record).expect("an outbox item");
    assert_eq!(outbox.event_type, "QuoteCreateEvent");
    assert_valid(
        &validator("quote-event.schema.json"),
        &outbox.body,
        "the outbox item's body",
    );
}

#[test]
fn sqs_sample_bodies_and_attributes_validate() {
    let event: SqsEvent =
        serde_json::from_str(&read("sqs/quote-events-batch.json")).expect("an SqsEvent");
    assert_eq!(event.records.len(), 2);
    let bodies = validator("quote-event.schema.json");
    let attributes = validator("message-attributes.schema.json");
    let raw = json("sqs/quote-events-batch.json");
    let mut types = BTreeSet::new();
    for (index, record) in event.records.iter().enumerate() {
        let body: Value =
            serde_json::from_str(record.body.as_deref().expect("body")).expect("JSON");
        assert_valid(&bodies, &body, &format!("record {index}'s body"));
        let attrs = &raw["Records"][index]["messageAttributes"];
        assert_valid(&attributes, attrs, &format!("record {index}'s attributes"));
        assert_eq!(attrs["eventType"]["stringValue"], body["eventType"]);
        types.insert(body["eventType"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(types.len(), 2, "two different event types");
}

#[test]
fn a_message_built_by_quote_event_validates() {
    let context = RequestContext {
        tenant: TenantId::parse("acme").expect("tenant"),
        subject: "user-7".into(),
        subject_name: None,
        scopes: BTreeSet::from([Scope::QuoteWrite]),
        correlation_id: "corr-1".into(),
    };
    let quote = Quote {
        id: Some("q-1".into()),
        href: Some("https://api.example.com/tmf-api/quoteManagement/v4/quote/q-1".into()),
        state: Some(QuoteState::InProgress),
        quote_item: vec![QuoteItem {
            id: Some("1".into()),
            action: Some("add".into()),
            quantity: Some(1),
            product_offering: Some(EntityRef {
                id: "mobile-l".into(),
                ..EntityRef::default()
            }),
            ..QuoteItem::default()
        }],
        ..Quote::default()
    };
    let validator = validator("quote-event.schema.json");
    let now = time::OffsetDateTime::now_utc();
    for kind in [
        QuoteEventType::Create,
        QuoteEventType::StateChange,
        QuoteEventType::AttributeValueChange,
        QuoteEventType::Delete,
    ] {
        let event = quote_event(kind, &quote, &context, now).expect("event");
        assert_valid(&validator, &event.body, kind.name());
    }
}

#[test]
fn the_schema_refuses_a_body_without_its_quote_or_with_an_unknown_event_type() {
    let validator = validator("quote-event.schema.json");
    let event: SqsEvent =
        serde_json::from_str(&read("sqs/quote-events-batch.json")).expect("an SqsEvent");
    let body: Value =
        serde_json::from_str(event.records[0].body.as_deref().expect("body")).expect("JSON");
    let mut without_quote = body.clone();
    without_quote["event"] = serde_json::json!({});
    assert!(!validator.is_valid(&without_quote));
    let mut unknown_type = body.clone();
    unknown_type["eventType"] = "QuoteTeleportEvent".into();
    assert!(!validator.is_valid(&unknown_type));
    let mut bad_state = body;
    bad_state["event"]["quote"]["state"] = "approvedish".into();
    assert!(
        !validator.is_valid(&bad_state),
        "the Quote schema is applied"
    );
}

#[test]
fn messages_built_by_order_event_validate_with_their_attributes() {
    use q2c_service::orders::{Dispatch, OrderEventType, StoredOrder, order_event};
    let quote = Quote {
        id: Some("q-1".into()),
        href: Some("https://api.example.com/tmf-api/quoteManagement/v4/quote/q-1".into()),
        state: Some(QuoteState::Accepted),
        quote_item: vec![QuoteItem {
            id: Some("1".into()),
            action: Some("add".into()),
            quantity: Some(1),
            product_offering: Some(EntityRef {
                id: "mobile-l".into(),
                ..EntityRef::default()
            }),
            ..QuoteItem::default()
        }],
        ..Quote::default()
    };
    let now = time::OffsetDateTime::now_utc();
    let mut order = q2c_model::ordering::order_from_quote(&quote, "o-1", now);
    order.href = Some("/tmf-api/productOrderingManagement/v4/productOrder/o-1".into());
    let order = StoredOrder {
        order,
        version: 1,
        dispatch: Dispatch::new_order(),
    };
    let tenant = TenantId::parse("acme").expect("tenant");
    let bodies = validator("product-order-event.schema.json");
    let attributes = validator("message-attributes.schema.json");
    for kind in [OrderEventType::Create, OrderEventType::StateChange] {
        let event = order_event(kind, &order, &tenant, Some("corr-1"), now).expect("event");
        assert_valid(&bodies, &event.body, kind.name());
        let message = q2c_service::relay::outgoing(&event).expect("message");
        let as_lambda: serde_json::Map<String, Value> = message
            .attributes
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    serde_json::json!({"dataType": "String", "stringValue": v}),
                )
            })
            .collect();
        assert_valid(&attributes, &Value::Object(as_lambda), "the attributes");
        assert_eq!(
            message.attributes.get("hubApi").map(String::as_str),
            (kind == OrderEventType::StateChange).then_some("ordering"),
            "only state changes are for the ordering hub"
        );

        let mut mislabelled = event.body.clone();
        mislabelled["eventType"] = match kind {
            OrderEventType::Create => "ProductOrderStateChangeEvent",
            OrderEventType::StateChange => "ProductOrderCreateEvent",
        }
        .into();
        assert!(
            !bodies.is_valid(&mislabelled),
            "hubApi and dispatch go with state changes only"
        );
    }
}
