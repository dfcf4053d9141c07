use serde_json::json;

use super::*;

fn parse(query: &[(&str, &str)], attributes: &[Attribute]) -> Result<Filter, FilterError> {
    Filter::parse(query.iter().copied(), attributes)
}

fn quote() -> Value {
    json!({
        "id": "q-1",
        "state": "approved",
        "quoteDate": "2026-03-01T10:00:00Z",
        "category": "b2b",
        "instantSyncQuote": false,
        "relatedParty": [{"id": "p-1", "role": "customer"}, {"id": "p-2", "role": "seller"}],
        "quoteItem": [
            {"id": "1", "quantity": 2, "productOffering": {"id": "fibre-1g"},
             "quoteItem": [{"id": "1.1", "productOffering": {"id": "router"}}]},
            {"id": "2", "quantity": 1, "productOffering": {"id": "mobile-s"}}
        ]
    })
}

fn matches(query: &[(&str, &str)]) -> bool {
    parse(query, QUOTE_V4)
        .expect("valid filter")
        .matches(&quote())
}

#[test]
fn equality_holds_on_any_of_the_comma_separated_values() {
    assert!(matches(&[("state", "approved")]));
    assert!(matches(&[("state", "inProgress,approved")]));
    assert!(!matches(&[("state", "inProgress,accepted")]));
    assert!(matches(&[("state.eq", "approved")]));
}

#[test]
fn a_dotted_path_walks_into_arrays_at_every_level() {
    assert!(matches(&[("relatedParty.id", "p-2")]));
    assert!(!matches(&[("relatedParty.id", "p-3")]));
    assert!(matches(&[("quoteItem.productOffering.id", "mobile-s")]));
    // Only the top-level item list is declared; a nested bundle component is not searched
    // through `quoteItem.productOffering.id`.
    assert!(!matches(&[("quoteItem.productOffering.id", "router")]));
}

#[test]
fn not_equal_holds_only_when_no_value_has_it() {
    assert!(matches(&[("relatedParty.id.ne", "p-3")]));
    assert!(!matches(&[("relatedParty.id.ne", "p-1")]));
    assert!(!matches(&[("relatedParty.id!", "p-3,p-2")]));
    assert!(
        matches(&[("externalId.ne", "crm-1")]),
        "absent is not equal"
    );
}

#[test]
fn dates_compare_as_times_whatever_their_offset() {
    assert!(matches(&[("quoteDate.gt", "2026-03-01T09:59:59Z")]));
    assert!(matches(&[("quoteDate.gte", "2026-03-01T11:00:00+01:00")]));
    assert!(!matches(&[("quoteDate.gt", "2026-03-01T11:00:00+01:00")]));
    assert!(matches(&[("quoteDate.lte", "2026-03-01T10:00:00Z")]));
    assert!(!matches(&[("quoteDate.lt", "2026-03-01T10:00:00Z")]));
    assert!(matches(&[("quoteDate.eq", "2026-03-01T10:00:00.000Z")]));
}

#[test]
fn the_operator_forms_mean_what_the_suffixes_mean() {
    // `quoteDate>=x` decodes as the name `quoteDate>` and the value `x`.
    assert!(matches(&[("quoteDate>", "2026-03-01T10:00:00Z")]));
    assert!(!matches(&[("quoteDate<", "2026-03-01T09:00:00Z")]));
    // `quoteDate>x` decodes as the name `quoteDate>x` with no value.
    assert!(matches(&[("quoteDate>2026-02-01T00:00:00Z", "")]));
    assert!(!matches(&[("quoteDate<2026-02-01T00:00:00Z", "")]));
    assert!(matches(&[("quoteItem.quantity>1", "")]));
}

#[test]
fn numbers_compare_as_decimals() {
    assert!(matches(&[("quoteItem.quantity.gte", "2")]));
    assert!(matches(&[("quoteItem.quantity.eq", "2.0")]));
    assert!(!matches(&[("quoteItem.quantity.gt", "2")]));
}

#[test]
fn an_empty_text_is_a_value_that_matches_only_empty_texts() {
    assert!(!matches(&[("relatedParty.id", "")]));
    assert!(matches(&[("relatedParty.id", ",p-1")]));
    let empty = json!({"id": "q-2", "externalId": ""});
    let filter = parse(&[("externalId", "")], QUOTE_V4).expect("an empty value parses");
    assert!(filter.matches(&empty));
}

#[test]
fn clauses_combine_with_and() {
    assert!(matches(&[
        ("state", "approved"),
        ("relatedParty.id", "p-1")
    ]));
    assert!(!matches(&[
        ("state", "approved"),
        ("relatedParty.id", "p-9")
    ]));
    assert!(matches(&[
        ("instantSyncQuote", "false"),
        ("category", "b2b")
    ]));
}

#[test]
fn what_is_not_declared_or_not_well_formed_is_refused_naming_the_parameter() {
    for (query, expected) in [
        (("colour", "red"), "unknown query parameter `colour`"),
        (
            ("state.regex", "a.*"),
            "unknown query parameter `state.regex`",
        ),
        (("state", "sold"), "state: unknown value `sold`"),
        (("state.gt", "approved"), "compares only with = and !="),
        (("quoteDate.gte", "yesterday"), "not an RFC 3339 date-time"),
        (("quoteItem.quantity", "two"), "not a number"),
        (("instantSyncQuote", "yes"), "not true or false"),
        (("quoteDate", ""), "not an RFC 3339 date-time"),
        (("quoteItem.quantity", "1,,2"), "not a number"),
    ] {
        let err = parse(&[query], QUOTE_V4).expect_err(query.0);
        assert!(err.0.contains(expected), "{query:?}: {err}");
    }
}

#[test]
fn the_limits_are_checked_before_any_value_is_kept() {
    let many: Vec<(&str, &str)> = vec![("category", "x"); MAX_FILTER_CLAUSES.max() + 1];
    assert!(parse(&many, QUOTE_V4).unwrap_err().0.contains("at most 10"));
    assert!(parse(&many[1..], QUOTE_V4).is_ok());

    let values = vec!["p"; MAX_FILTER_VALUES.max() + 1].join(",");
    let err = parse(&[("relatedParty.id", &values)], QUOTE_V4).unwrap_err();
    assert!(err.0.contains("at most 20"), "{err}");

    let long = "x".repeat(MAX_ID_LENGTH.max() + 1);
    let err = parse(&[("relatedParty.id", &long)], QUOTE_V4).unwrap_err();
    assert!(err.0.contains("more than 256"), "{err}");
}

#[test]
fn an_index_takes_single_values_and_leaves_the_rest() {
    let mut filter = parse(
        &[
            ("state", "approved,accepted"),
            ("quoteDate.gte", "2026-01-01T00:00:00Z"),
        ],
        QUOTE_V4,
    )
    .unwrap();
    assert_eq!(filter.take_single("state", Op::Eq), None, "two values stay");
    assert!(matches!(
        filter.take_single("quoteDate", Op::Gte),
        Some(Operand::Time(_))
    ));
    assert!(!filter.is_empty());
    assert_eq!(filter.take("state", Op::Eq).map(|v| v.len()), Some(2));
    assert!(filter.is_empty());
}

#[test]
fn each_version_declares_its_own_names() {
    assert!(parse(&[("creationDate.gte", "2026-01-01T00:00:00Z")], QUOTE_V4).is_err());
    assert!(parse(&[("creationDate.gte", "2026-01-01T00:00:00Z")], QUOTE_V5).is_ok());
    assert!(parse(&[("state", "declined")], QUOTE_V5).is_ok());
    assert!(parse(&[("state", "declined")], QUOTE_V4).is_err());
    assert!(parse(&[("quote.id", "q-1")], PRODUCT_ORDER).is_ok());
    assert!(parse(&[("lifecycleStatus", "Launched")], PRODUCT_OFFERING).is_ok());
    assert!(parse(&[("price.value.lt", "10")], PRODUCT_OFFERING_PRICE).is_ok());
}

#[test]
fn an_order_is_found_by_its_quote() {
    let order = json!({"id": "o-1", "quote": [{"id": "q-1", "href": "h"}], "state": "completed"});
    let by_quote = parse(&[("quote.id", "q-1")], PRODUCT_ORDER).unwrap();
    assert!(by_quote.matches(&order));
    let other = parse(&[("quote.id", "q-2")], PRODUCT_ORDER).unwrap();
    assert!(!other.matches(&order));
}
