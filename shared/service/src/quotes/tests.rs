use q2c_model::tmf::{Quote, QuoteItem, QuoteState};
use rust_decimal::Decimal;
use serde_json::json;

use crate::context::{RequestContext, Scope};
use crate::error::ServiceError;
use crate::outbox::Destination;
use crate::quotes::{QuoteService, StoredQuote};
use crate::testing::{Fixture, QUOTE_HREF_BASE, caller, item, quote_of};

const WRITER: &[Scope] = &[Scope::QuoteRead, Scope::QuoteWrite];
const APPROVER: &[Scope] = &[Scope::QuoteRead, Scope::QuoteWrite, Scope::QuoteApprove];

/// A fixture, its quote service and a writer of tenant `acme`.
fn acme_writer() -> (Fixture, QuoteService, RequestContext) {
    let fixture = Fixture::new();
    let service = fixture.quote_service();
    (fixture, service, caller("acme", WRITER))
}

/// A fixture, its quote service, a writer of tenant `acme` and a quote of one `offering` it
/// created.
async fn with_quote(offering: &str) -> (Fixture, QuoteService, RequestContext, StoredQuote) {
    let (fixture, service, ctx) = acme_writer();
    let created = create(&service, &ctx, offering).await;
    (fixture, service, ctx, created)
}

/// Creates a quote of one `offering` as `ctx`.
async fn create(service: &QuoteService, ctx: &RequestContext, offering: &str) -> StoredQuote {
    service
        .create(ctx, quote_of(vec![item(offering, 1)]))
        .await
        .expect("created")
}

/// PATCHes quote `id` as `ctx` without `If-Match`.
async fn patch(
    service: &QuoteService,
    ctx: &RequestContext,
    id: &str,
    body: &serde_json::Value,
) -> Result<StoredQuote, ServiceError> {
    service.patch(ctx, id, body, None).await
}

/// Moves quote `id` to `state` as `ctx` (a PATCH of `state` only, without `If-Match`).
async fn set_state(
    service: &QuoteService,
    ctx: &RequestContext,
    id: &str,
    state: &str,
) -> Result<StoredQuote, ServiceError> {
    patch(service, ctx, id, &json!({ "state": state })).await
}

/// Creates the quote `body` (JSON) as a writer of tenant `acme`.
async fn create_json(service: &QuoteService, body: serde_json::Value) -> StoredQuote {
    let quote = serde_json::from_value(body).expect("parses");
    service
        .create(&caller("acme", WRITER), quote)
        .await
        .expect("created")
}

fn monthly_total(quote: &Quote) -> (Decimal, Decimal) {
    let line = quote
        .quote_total_price
        .iter()
        .find(|p| {
            p.price_type == "recurring" && p.recurring_charge_period.as_deref() == Some("month")
        })
        .expect("a monthly recurring total");
    (
        line.price.duty_free_amount.expect("duty free").amount,
        line.price.tax_included_amount.expect("tax included").amount,
    )
}

#[tokio::test]
async fn creating_a_quote_prices_it_and_sets_the_server_owned_fields() {
    let (fixture, service, ctx) = acme_writer();
    let created = service
        .create(&ctx, quote_of(vec![item("mobile-s", 2)]))
        .await
        .expect("created");

    let quote = &created.quote;
    let id = quote.id.as_deref().expect("id");
    assert_eq!(
        quote.href.as_deref(),
        Some(format!("{QUOTE_HREF_BASE}/{id}").as_str())
    );
    assert_eq!(quote.state, Some(QuoteState::InProgress));
    assert_eq!(
        quote.quote_date,
        Some(fixture.clock.0.lock().expect("lock").to_owned())
    );
    assert!(quote.valid_for.expect("validFor").end_date_time.is_some());
    assert_eq!(quote.quote_item[0].id.as_deref(), Some("1"));
    assert_eq!(monthly_total(quote), (Decimal::from(30), Decimal::from(36)));
    assert_eq!(created.version, 1);
    assert!(created.price_ids.contains(&"mobile-s-monthly".to_owned()));

    let outbox = fixture.quotes.outbox.lock().expect("lock");
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].event_type, "QuoteCreateEvent");
    assert_eq!(outbox[0].destination, Destination::QuoteEvents);
    assert_eq!(outbox[0].correlation_id.as_deref(), Some("corr-1"));
    assert_eq!(outbox[0].body["event"]["quote"]["id"], json!(id));
}

#[tokio::test]
async fn every_server_owned_field_is_refused_on_create() {
    let fixture = Fixture::new();
    let service = fixture.quote_service();
    let cases = [
        ("id", json!("q-1")),
        ("href", json!("http://x/quote/q-1")),
        ("quoteDate", json!("2026-01-01T00:00:00Z")),
        (
            "quoteTotalPrice",
            json!([{"priceType": "recurring", "price": {}}]),
        ),
        ("validFor", json!({"endDateTime": "2099-01-01T00:00:00Z"})),
        (
            "authorization",
            json!([{"name": "forged", "state": "approved"}]),
        ),
        ("state", json!("approved")),
        (
            "effectiveQuoteCompletionDate",
            json!("2026-01-01T00:00:00Z"),
        ),
    ];
    for (field, value) in cases {
        let mut body = json!({"quoteItem": [{"productOffering": {"id": "mobile-s"}}]});
        body[field] = value;
        let quote: Quote = serde_json::from_value(body).expect("parses");
        let err = service
            .create(&caller("acme", WRITER), quote)
            .await
            .expect_err(field);
        assert!(
            matches!(&err, ServiceError::ForbiddenField { field: f } if f == field),
            "{field}: {err:?}"
        );
    }
    assert!(fixture.quotes.quotes.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn an_unknown_offering_is_a_business_rule_naming_the_item() {
    let (_fixture, service, ctx) = acme_writer();
    let err = service
        .create(
            &ctx,
            quote_of(vec![item("mobile-s", 1), item("no-such", 1)]),
        )
        .await
        .expect_err("unknown offering");
    match err {
        ServiceError::BusinessRule { path, .. } => {
            assert!(path.expect("path").starts_with("quoteItem[1]"))
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_zero_quantity_is_invalid_input_naming_the_item() {
    let (_fixture, service, ctx) = acme_writer();
    let err = service
        .create(&ctx, quote_of(vec![item("mobile-s", 0)]))
        .await
        .expect_err("quantity 0");
    assert!(
        matches!(err, ServiceError::InvalidInput { path: Some(p), .. } if p.starts_with("quoteItem[0]"))
    );
}

#[tokio::test]
async fn patching_items_reprices_and_announces_the_change() {
    let (fixture, service, ctx, created) = with_quote("mobile-s").await;
    let id = created.id().to_owned();

    let patched = service
        .patch(
            &ctx,
            &id,
            &json!({"quoteItem": [{"productOffering": {"id": "mobile-l"}, "quantity": 1}]}),
            Some(1),
        )
        .await
        .expect("patched");

    assert_eq!(patched.version, 2);
    assert_eq!(
        monthly_total(&patched.quote),
        (Decimal::from(30), Decimal::from(36))
    );
    let outbox = fixture.quotes.outbox.lock().expect("lock");
    assert_eq!(
        outbox.last().expect("event").event_type,
        "QuoteAttributeValueChangeEvent"
    );
}

#[tokio::test]
async fn a_stale_if_match_is_refused_and_changes_nothing() {
    let (_fixture, service, ctx, created) = with_quote("mobile-s").await;
    let id = created.id().to_owned();
    service
        .patch(&ctx, &id, &json!({"description": "first"}), Some(1))
        .await
        .expect("first");

    let err = service
        .patch(&ctx, &id, &json!({"description": "second"}), Some(1))
        .await
        .expect_err("stale");

    assert!(matches!(
        err,
        ServiceError::VersionMismatch {
            expected: 1,
            current: 2
        }
    ));
    let stored = service.get(&ctx, &id).await.expect("get");
    assert_eq!(stored.quote.description.as_deref(), Some("first"));
}

#[tokio::test]
async fn server_owned_fields_cannot_be_patched() {
    let (_fixture, service, ctx, created) = with_quote("mobile-s").await;
    for field in [
        "validFor",
        "quoteTotalPrice",
        "authorization",
        "quoteDate",
        "id",
        "href",
    ] {
        let err = patch(&service, &ctx, created.id(), &json!({ field: null }))
            .await
            .expect_err(field);
        assert!(
            matches!(&err, ServiceError::ForbiddenField { field: f } if f == field),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn the_lifecycle_runs_from_approval_to_acceptance_recording_the_approver() {
    let (fixture, service, ctx, created) = with_quote("fibre-1g").await;

    let approved = set_state(&service, &ctx, created.id(), "approved")
        .await
        .expect("approved");
    assert_eq!(approved.quote.state, Some(QuoteState::Approved));
    let approver = &approved.quote.authorization[0].approver[0];
    assert_eq!(approver.id, "acme-user");

    let err = patch(
        &service,
        &ctx,
        created.id(),
        &json!({"description": "late change"}),
    )
    .await
    .expect_err("approved is frozen");
    assert!(matches!(
        err,
        ServiceError::NotUpdatable {
            state: QuoteState::Approved
        }
    ));

    let accepted = set_state(&service, &ctx, created.id(), "accepted")
        .await
        .expect("accepted");
    assert_eq!(accepted.quote.state, Some(QuoteState::Accepted));
    assert!(accepted.quote.effective_quote_completion_date.is_some());
    let types: Vec<_> = fixture
        .quotes
        .outbox
        .lock()
        .expect("lock")
        .iter()
        .map(|e| e.event_type.clone())
        .collect();
    assert_eq!(
        types,
        [
            "QuoteCreateEvent",
            "QuoteStateChangeEvent",
            "QuoteStateChangeEvent",
            "ProductOrderCreateEvent"
        ]
    );

    let err = service
        .delete(&ctx, created.id(), None)
        .await
        .expect_err("accepted quotes stay");
    assert!(matches!(err, ServiceError::Conflict { .. }));
}

#[tokio::test]
async fn an_illegal_transition_names_both_states() {
    let (_fixture, service, ctx, created) = with_quote("mobile-s").await;
    let err = set_state(&service, &ctx, created.id(), "accepted")
        .await
        .expect_err("illegal");
    match err {
        ServiceError::IllegalTransition { from, to, allowed } => {
            assert_eq!((from.as_str(), to.as_str()), ("inProgress", "accepted"));
            assert!(allowed.contains("`approved`"), "{allowed}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn accepting_after_validity_ended_is_refused() {
    let (fixture, service, ctx, created) = with_quote("mobile-s").await;
    set_state(&service, &ctx, created.id(), "approved")
        .await
        .expect("approved");
    fixture.advance(time::Duration::days(31));
    let err = set_state(&service, &ctx, created.id(), "accepted")
        .await
        .expect_err("expired");
    assert!(matches!(err, ServiceError::QuoteExpired { .. }));
}

#[tokio::test]
async fn a_discount_above_the_threshold_needs_the_approve_scope() {
    let fixture = Fixture::new();
    let service = fixture.quote_service();
    let body = json!({"quoteItem": [{"productOffering": {"id": "mobile-l"}, "quoteItemPrice": [
        {"priceType": "recurring", "recurringChargePeriod": "month",
         "priceAlteration": [{"priceType": "discount", "name": "Retention", "price": {"percentage": 25}}]}
    ]}]});
    let created = create_json(&service, body).await;
    assert!(created.approval_required);
    let id = created.id().to_owned();

    let err = set_state(&service, &caller("acme", WRITER), &id, "approved")
        .await
        .expect_err("scope");
    assert!(matches!(
        err,
        ServiceError::MissingScope {
            scope: Scope::QuoteApprove
        }
    ));
    let approved = set_state(&service, &caller("acme", APPROVER), &id, "approved")
        .await
        .expect("approved");
    assert_eq!(approved.quote.state, Some(QuoteState::Approved));
}

#[tokio::test]
async fn another_tenant_sees_nothing_and_changes_nothing() {
    let fixture = Fixture::new();
    let service = fixture.quote_service();
    let id = service
        .create(&caller("acme", WRITER), quote_of(vec![item("mobile-s", 1)]))
        .await
        .expect("created")
        .id()
        .to_owned();
    let other = caller("globex", APPROVER);
    assert!(matches!(
        service.get(&other, &id).await,
        Err(ServiceError::NotFound { .. })
    ));
    assert!(matches!(
        set_state(&service, &other, &id, "cancelled").await,
        Err(ServiceError::NotFound { .. })
    ));
    assert!(matches!(
        service.delete(&other, &id, None).await,
        Err(ServiceError::NotFound { .. })
    ));
    assert_eq!(
        service
            .get(&caller("acme", WRITER), &id)
            .await
            .expect("still there")
            .quote
            .state,
        Some(QuoteState::InProgress)
    );
}

#[tokio::test]
async fn a_patch_that_changes_nothing_writes_nothing() {
    let (fixture, service, ctx, created) = with_quote("mobile-s").await;
    let same = service
        .patch(&ctx, created.id(), &json!({"state": "inProgress"}), Some(1))
        .await
        .expect("no-op");
    assert_eq!(same.version, 1);
    assert_eq!(fixture.quotes.outbox.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn six_stacked_discounts_of_15_percent_need_the_approve_scope() {
    let fixture = Fixture::new();
    let service = fixture.quote_service();
    let fifteen = json!({"priceType": "discount", "price": {"percentage": 15}});
    let body = json!({"quoteItem": [{"productOffering": {"id": "mobile-l"}, "quoteItemPrice": [
        {"priceType": "recurring", "recurringChargePeriod": "month",
         "priceAlteration": vec![fifteen; 6]}
    ]}]});
    let created = create_json(&service, body).await;
    assert!(created.approval_required, "90 % off");

    let err = set_state(&service, &caller("acme", WRITER), created.id(), "approved")
        .await
        .expect_err("needs quote.approve");
    assert!(matches!(
        err,
        ServiceError::MissingScope {
            scope: Scope::QuoteApprove
        }
    ));
}

#[tokio::test]
async fn a_quote_over_its_storage_budget_is_refused_and_nothing_is_written() {
    let fixture = Fixture::new();
    let service = fixture.quote_service();
    let lines: Vec<QuoteItem> = (0..300).map(|_| item("mobile-l", 1)).collect();
    let fits = service
        .create(&caller("acme", WRITER), quote_of(lines.clone()))
        .await
        .expect("the 300-line quote fits");
    assert_eq!(fits.quote.quote_item.len(), 300);

    let mut too_big = quote_of(lines);
    too_big.description = Some("d".repeat(60_000));
    let err = service
        .create(&caller("acme", WRITER), too_big)
        .await
        .expect_err("over maxQuoteBytes");
    let ServiceError::Limit(limit) = err else {
        panic!("a limit error: {err:?}");
    };
    assert_eq!(limit.limit, q2c_model::limits::MAX_QUOTE_BYTES);
    assert!(limit.received > limit.limit.value);
    assert_eq!(fixture.quotes.outbox.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn more_offerings_than_index_entries_are_refused_before_the_catalog_is_read() {
    let (_fixture, service, ctx) = acme_writer();
    let items: Vec<QuoteItem> = (0..41).map(|i| item(&format!("nope-{i}"), 1)).collect();
    let err = service
        .create(&ctx, quote_of(items))
        .await
        .expect_err("41 offerings");
    let ServiceError::Limit(limit) = err else {
        panic!("a limit error, not an unknown offering: {err:?}");
    };
    assert_eq!(limit.limit, q2c_model::limits::MAX_CATALOG_REFS);
    assert_eq!((limit.received, limit.path.as_str()), (41, "quoteItem"));
}
