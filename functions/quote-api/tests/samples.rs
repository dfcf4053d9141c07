//! The sample events in `events/` parse into their `aws_lambda_events` types, their message
//! bodies validate against the schemas of their schema major in `events/schemas/v4|v5/`, and so
//! does a message built by `q2c_service::events::quote_event` or
//! `q2c_service::orders::order_event` rendered in either major.

use std::collections::BTreeSet;
use std::path::PathBuf;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::sqs::SqsEvent;
use jsonschema::{Retrieve, Uri, Validator};
use q2c_model::tmf::{Quote, QuoteState};
use q2c_service::context::{RequestContext, Scope, TenantId};
use q2c_service::events::{QuoteEventType, quote_event};
use q2c_service::testing::added_item;
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

/// Message attributes as a Lambda SQS record carries them (`dataType` `String`) validate.
fn assert_attributes_valid<'a>(
    validator: &Validator,
    attributes: impl IntoIterator<Item = (&'a String, &'a String)>,
) {
    let as_lambda: serde_json::Map<String, Value> = attributes
        .into_iter()
        .map(|(k, v)| {
            (
                k.clone(),
                serde_json::json!({"dataType": "String", "stringValue": v}),
            )
        })
        .collect();
    assert_valid(validator, &Value::Object(as_lambda), "the attributes");
}

/// A quote writer of tenant `acme`.
fn writer_context() -> RequestContext {
    RequestContext {
        tenant: TenantId::parse("acme").expect("tenant"),
        subject: "user-7".into(),
        subject_name: None,
        scopes: BTreeSet::from([Scope::QuoteWrite]),
        correlation_id: "corr-1".into(),
    }
}

/// Quote `q-1` in `state`, one item adding `mobile-l`.
fn one_item_quote(state: QuoteState) -> Quote {
    Quote {
        id: Some("q-1".into()),
        href: Some("https://api.example.com/tmf-api/quoteManagement/v4/quote/q-1".into()),
        state: Some(state),
        quote_item: vec![added_item("mobile-l")],
        ..Quote::default()
    }
}

/// Order `o-1` made from `quote`, stored at version 1 awaiting its first dispatch.
fn stored_order(quote: &Quote, now: time::OffsetDateTime) -> q2c_service::orders::StoredOrder {
    use q2c_service::orders::{Dispatch, StoredOrder};
    let mut order = q2c_model::ordering::order_from_quote(quote, "o-1", now);
    order.href = Some("/tmf-api/productOrderingManagement/v4/productOrder/o-1".into());
    StoredOrder {
        order,
        version: 1,
        dispatch: Dispatch::new_order(),
    }
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
        &validator("v4/quote-event.schema.json"),
        &outbox.body,
        "the outbox item's body",
    );
}

#[test]
fn sqs_sample_bodies_and_attributes_validate() {
    let event: SqsEvent =
        serde_json::from_str(&read("sqs/quote-events-batch.json")).expect("an SqsEvent");
    assert_eq!(event.records.len(), 2);
    let bodies = validator("v4/quote-event.schema.json");
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
    let context = writer_context();
    let quote = one_item_quote(QuoteState::InProgress);
    let validator = validator("v4/quote-event.schema.json");
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
    let validator = validator("v4/quote-event.schema.json");
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
    use q2c_service::orders::{OrderEventType, order_event};
    let quote = one_item_quote(QuoteState::Accepted);
    let now = time::OffsetDateTime::now_utc();
    let order = stored_order(&quote, now);
    let tenant = TenantId::parse("acme").expect("tenant");
    let bodies = validator("v4/product-order-event.schema.json");
    let attributes = validator("message-attributes.schema.json");
    for kind in [OrderEventType::Create, OrderEventType::StateChange] {
        let event = order_event(kind, &order, &tenant, Some("corr-1"), now).expect("event");
        assert_valid(&bodies, &event.body, kind.name());
        let message = q2c_service::relay::outgoing(&event).expect("message");
        assert_attributes_valid(&attributes, &message.attributes);
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

/// The string message attributes of a sample record.
fn record_attributes(raw_record: &Value) -> std::collections::BTreeMap<String, String> {
    raw_record["messageAttributes"]
        .as_object()
        .expect("messageAttributes")
        .iter()
        .map(|(name, a)| {
            let value = a["stringValue"].as_str().expect("a string attribute");
            (name.clone(), value.to_owned())
        })
        .collect()
}

/// A sample record parsed as the consumers parse it.
fn parse_record(raw_record: &Value) -> Result<q2c_service::messaging::ParsedMessage, String> {
    q2c_service::messaging::parse_message(
        raw_record["messageId"].as_str().expect("messageId"),
        raw_record["body"].as_str().expect("body"),
        &record_attributes(raw_record),
        Some(1),
    )
}

#[test]
fn v5_samples_validate_and_carry_the_same_events_as_the_v4_samples() {
    use q2c_service::event_versions::{SchemaMajor, render_envelope};
    let v5 = json("sqs/quote-events-v5-batch.json");
    let legacy = json("sqs/quote-events-batch.json");
    let _: SqsEvent = serde_json::from_value(v5.clone()).expect("the v5 sample is an SqsEvent");
    let bodies = validator("v5/quote-event.schema.json");
    let attributes = validator("message-attributes.schema.json");
    let records = v5["Records"].as_array().expect("records");
    assert_eq!(records.len(), 2);
    for (index, record) in records.iter().enumerate() {
        let body: Value =
            serde_json::from_str(record["body"].as_str().expect("body")).expect("JSON");
        assert_valid(&bodies, &body, &format!("v5 record {index}'s body"));
        assert_valid(
            &attributes,
            &record["messageAttributes"],
            &format!("v5 record {index}'s attributes"),
        );
        assert_eq!(
            record["messageAttributes"]["schemaVersion"]["stringValue"],
            "5.0"
        );
        let from_v5 = parse_record(record).expect("the v5 record parses");
        let from_legacy = parse_record(&legacy["Records"][index]).expect("the 1.0 record parses");
        assert_eq!(from_v5.schema_major(), SchemaMajor::V5);
        assert_eq!(from_legacy.schema_major(), SchemaMajor::V4);
        assert_eq!(
            render_envelope(&from_v5.envelope, SchemaMajor::V4),
            render_envelope(&from_legacy.envelope, SchemaMajor::V4),
            "record {index}: the same event in both majors"
        );
    }
}

#[test]
fn each_major_s_schema_refuses_the_other_major_s_body() {
    let legacy = json("sqs/quote-events-batch.json");
    let v5 = json("sqs/quote-events-v5-batch.json");
    let body = |sample: &Value| -> Value {
        serde_json::from_str(sample["Records"][0]["body"].as_str().expect("body")).expect("JSON")
    };
    assert!(!validator("v5/quote-event.schema.json").is_valid(&body(&legacy)));
    assert!(!validator("v4/quote-event.schema.json").is_valid(&body(&v5)));
    let mut mistyped = body(&v5);
    mistyped["@type"] = "QuoteDeleteEvent".into();
    assert!(
        !validator("v5/quote-event.schema.json").is_valid(&mistyped),
        "@type must name the event type"
    );
}

#[test]
fn the_mixed_sample_parses_v4_and_v5_alike_and_refuses_the_unknown_major() {
    let mixed = json("sqs/quote-events-mixed-batch.json");
    let records = mixed["Records"].as_array().expect("records");
    assert_eq!(records.len(), 3);
    let schemas = [
        validator("v4/quote-event.schema.json"),
        validator("v5/quote-event.schema.json"),
    ];
    for (index, schema) in schemas.iter().enumerate() {
        let body: Value =
            serde_json::from_str(records[index]["body"].as_str().expect("body")).expect("JSON");
        assert_valid(schema, &body, &format!("mixed record {index}"));
        let parsed = parse_record(&records[index]).expect("accepted");
        assert_eq!(parsed.event_type, body["eventType"]);
        assert!(
            parsed.event["quote"]["quoteDate"].is_string(),
            "internal form: quoteDate"
        );
    }
    assert_eq!(
        parse_record(&records[2]).map(|p| p.event_id),
        Err("unsupported schema version 9.0 (accepted: 4, 5)".to_owned())
    );
}

#[test]
fn quote_and_order_events_rendered_in_each_major_validate_against_its_schemas() {
    use q2c_service::event_versions::SchemaMajor;
    use q2c_service::orders::{OrderEventType, order_event};
    use q2c_service::relay::outgoing_as;
    let context = writer_context();
    let quote = Quote {
        external_id: Some("crm-7".into()),
        quote_date: Some(time::OffsetDateTime::now_utc()),
        ..one_item_quote(QuoteState::Accepted)
    };
    let now = time::OffsetDateTime::now_utc();
    let order = stored_order(&quote, now);
    let tenant = TenantId::parse("acme").expect("tenant");
    let attributes = validator("message-attributes.schema.json");
    for (major, dir) in [(SchemaMajor::V4, "v4"), (SchemaMajor::V5, "v5")] {
        let quotes = validator(&format!("{dir}/quote-event.schema.json"));
        let orders = validator(&format!("{dir}/product-order-event.schema.json"));
        let mut events = vec![(
            &quotes,
            quote_event(QuoteEventType::StateChange, &quote, &context, now).expect("event"),
        )];
        for kind in [OrderEventType::Create, OrderEventType::StateChange] {
            events.push((
                &orders,
                order_event(kind, &order, &tenant, Some("corr-1"), now).expect("event"),
            ));
        }
        for (schema, event) in events {
            let message = outgoing_as(&event, major).expect("message");
            let body: Value = serde_json::from_str(&message.body).expect("JSON");
            assert_valid(schema, &body, &format!("{} in {dir}", event.event_type));
            assert_eq!(message.attributes["schemaVersion"], major.version());
            assert_attributes_valid(&attributes, &message.attributes);
        }
    }
}

#[test]
fn the_billing_sample_and_built_product_events_validate_against_ours_and_the_official_schema() {
    use q2c_service::event_versions::SchemaMajor;
    use q2c_service::inventory::{ProductEventType, StoredProduct, product_event};
    use q2c_service::relay::outgoing_as;

    let official = q2c_testkit::tmf637::validator("ProductCreateEvent");
    let attributes = validator("message-attributes.schema.json");
    let v4 = validator("v4/product-event.schema.json");
    let sample: SqsEvent =
        serde_json::from_str(&read("sqs/billing-updates-batch.json")).expect("an SqsEvent");
    let raw = json("sqs/billing-updates-batch.json");
    for (record, raw_record) in sample
        .records
        .iter()
        .zip(raw["Records"].as_array().expect("records"))
    {
        let body: Value =
            serde_json::from_str(record.body.as_deref().expect("body")).expect("JSON");
        assert_valid(&v4, &body, "the billing sample");
        assert_valid(&official, &body, "the billing sample (official TMF637 v4)");
        assert_valid(
            &attributes,
            &raw_record["messageAttributes"],
            "the sample's attributes",
        );
    }

    // What the service builds, in both majors.
    let order: q2c_model::tmf::ProductOrder = serde_json::from_value(serde_json::json!({
        "id": "o-1", "href": "/o/o-1", "billingAccount": {"id": "ba-1"},
        "productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": "mobile-s"},
            "itemPrice": [{"priceType": "recurring", "recurringChargePeriod": "month",
                "price": {"dutyFreeAmount": {"unit": "EUR", "value": 10.5}},
                "priceAlteration": [{"priceType": "discount", "applicationDuration": 3,
                                     "price": {"percentage": 50}}]}]}]
    }))
    .expect("order");
    let now = time::OffsetDateTime::now_utc();
    let product = q2c_model::inventory::products_from_order(&order, || "p-1".into(), now)
        .pop()
        .expect("a product");
    let stored = StoredProduct {
        product,
        version: 1,
    };
    let tenant = TenantId::parse("acme").expect("tenant");
    let event =
        product_event(ProductEventType::Create, &stored, &tenant, Some("c-1"), now).expect("event");
    for (major, dir) in [(SchemaMajor::V4, "v4"), (SchemaMajor::V5, "v5")] {
        let message = outgoing_as(&event, major).expect("message");
        let body: Value = serde_json::from_str(&message.body).expect("JSON");
        assert_valid(
            &validator(&format!("{dir}/product-event.schema.json")),
            &body,
            dir,
        );
        if major == SchemaMajor::V4 {
            assert_valid(&official, &body, "official TMF637 v4");
        }
        assert_eq!(message.attributes["billingAccount"], "ba-1");
        assert_eq!(message.attributes["sequence"], "1");
        assert_attributes_valid(&attributes, &message.attributes);
    }
}
