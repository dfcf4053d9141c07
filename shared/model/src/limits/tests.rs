//! Tests of the limits: the byte scanner, the quote and catalog checks, the stored-quote budget
//! (with the 300-line quote of issue 14), and that `docs/limits.md` states every limit.

use rust_decimal_macros::dec;
use serde_json::{Value, json};
use time::macros::datetime;

use super::*;
use crate::money::{Currency, Money};
use crate::pricing::price_quote;
use crate::sample_catalog::sample_catalog;
use crate::settings::TenantSettings;
use crate::tmf::{EntityRef, ProductOfferingPrice, Quote, QuoteItem, QuoteState};

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn depth_is_checked_before_parsing_with_the_path_of_the_container_too_deep() {
    assert_eq!(
        check_json_text(nested(32).as_bytes(), MAX_JSON_DEPTH),
        Ok(32)
    );
    let err = check_json_text(nested(33).as_bytes(), MAX_JSON_DEPTH).unwrap_err();
    assert_eq!(err.limit, MAX_JSON_DEPTH);
    assert_eq!(err.received, 33);
    assert_eq!(err.path, format!("{}", "[0]".repeat(32)));

    let body = format!(
        r#"{{"quoteItem":[{{"id":"1"}},{{"note":"x"}}],"ext\"ra":{{"a":[1,{}]}}}}"#,
        nested(30)
    );
    let err = check_json_text(body.as_bytes(), MAX_JSON_DEPTH).unwrap_err();
    assert!(
        err.path.starts_with("ext\"ra.a[1]"),
        "the path names the member: {}",
        err.path
    );
}

#[test]
fn brackets_and_quotes_inside_strings_do_not_count() {
    let text = r#"{"a":"[[[[{{{{\"]]]]","b":["\\",{"c":"}"}]}"#;
    assert_eq!(check_json_text(text.as_bytes(), MAX_JSON_DEPTH), Ok(3));
    // The same text fed in chunks of every size gives the same answer.
    for chunk in 1..text.len() {
        let mut scanner = JsonScanner::new(MAX_JSON_DEPTH, None);
        for part in text.as_bytes().chunks(chunk) {
            scanner.feed(part).expect("within limits");
        }
        assert_eq!(scanner.depth(), 3, "chunks of {chunk}");
    }
}

#[test]
fn an_entry_is_measured_as_compact_json_before_parsing() {
    let pretty = "{\n    \"id\": \"a b\",\n    \"x\": [ 1, 2 ]\n}";
    let compact = r#"{"id":"a b","x":[1,2]}"#;
    let exact = Limit {
        value: compact.len() as u64,
        ..MAX_CATALOG_ENTRY_BYTES
    };
    check_json_entry(pretty.as_bytes(), exact, MAX_JSON_DEPTH).expect("compact size fits");
    let smaller = Limit {
        value: compact.len() as u64 - 1,
        ..exact
    };
    let err = check_json_entry(pretty.as_bytes(), smaller, MAX_JSON_DEPTH).unwrap_err();
    assert_eq!(err.received, compact.len() as u64);
}

#[test]
fn measuring_stops_at_the_first_byte_past_the_limit() {
    let big: Vec<String> = (0..100_000).map(|i| format!("entry {i}")).collect();
    let small = Limit {
        value: 1_000,
        ..MAX_QUOTE_BYTES
    };
    match measure(&big, small, MAX_JSON_DEPTH) {
        Err(MeasureError::Limit(e)) => {
            assert_eq!(e.limit, small);
            assert!(
                e.received > 1_000 && e.received < 2_000,
                "stopped early: {}",
                e.received
            );
        }
        other => panic!("expected a limit error, got {other:?}"),
    }
    let measured = measure(&json!({"a": [1, 2]}), small, MAX_JSON_DEPTH).expect("small");
    assert_eq!(
        measured,
        Measured {
            bytes: 11,
            depth: 2
        }
    );
}

#[test]
fn a_value_deeper_than_any_parser_allows_is_measured_without_recursion() {
    let mut value = Value::Null;
    for _ in 0..10_000 {
        value = Value::Array(vec![value]);
    }
    assert_eq!(value_depth(&value), 10_000);
    // Not `json!`: it would serialise the value, recursively.
    let mut doc = Value::Object(serde_json::Map::from_iter([("x".to_owned(), value)]));
    let err = check_quote_json(&doc).unwrap_err();
    assert_eq!(err.limit, MAX_JSON_DEPTH);
    // Dropping a value this deep recurses in serde_json: take it apart level by level.
    let mut current = doc["x"].take();
    while let Value::Array(mut inner) = current {
        current = inner.pop().unwrap_or(Value::Null);
    }
}

#[test]
fn the_top_level_of_a_catalog_file_splits_into_entries_without_parsing_them() {
    let text = br#" [ {"id":"a","x":"]}"} , {"id":"b","y":[[1],[2]]} ,3 ] "#;
    let TopLevel::Array(ranges) = split_top_level(text).expect("array") else {
        panic!("an array");
    };
    let entries: Vec<&str> = ranges
        .iter()
        .map(|r| std::str::from_utf8(&text[r.clone()]).expect("utf8"))
        .collect();
    assert_eq!(
        entries,
        [r#"{"id":"a","x":"]}"}"#, r#"{"id":"b","y":[[1],[2]]}"#, "3"]
    );

    let text =
        br#"{"productOffering":[{"id":"o"}],"produ\u0063tOfferingPrice":[],"other":{"a":1}}"#;
    let TopLevel::Object(members) = split_top_level(text).expect("object") else {
        panic!("an object");
    };
    assert_eq!(members.len(), 3);
    assert_eq!(members[0].0, "productOffering");
    assert_eq!(members[0].1.as_ref().map(Vec::len), Some(1));
    assert_eq!(members[1].0, "productOfferingPrice", "escapes decoded");
    assert_eq!(members[2].1, None);

    for broken in [&b"[1,2"[..], b"[1 2]", b"{\"a\" 1}", b"[\"x]", b"[] x", b""] {
        assert!(split_top_level(broken).is_err(), "{broken:?}");
    }
    assert_eq!(split_top_level(b" 42 "), Ok(TopLevel::Other));
}

fn items(n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|_| json!({"productOffering": {"id": "mobile-l"}}))
            .collect(),
    )
}

#[test]
fn quote_items_are_counted_across_nesting() {
    check_quote_json(&json!({ "quoteItem": items(500) })).expect("500 items");
    let err = check_quote_json(&json!({ "quoteItem": items(501) })).unwrap_err();
    assert_eq!(
        (err.limit, err.received, err.path.as_str()),
        (MAX_QUOTE_ITEMS, 501, "quoteItem")
    );

    // 300 top-level items with 201 children in all: 501.
    let mut top = items(300);
    top[0]["quoteItem"] = items(150);
    top[1]["quoteItem"] = items(51);
    let err = check_quote_json(&json!({ "quoteItem": top })).unwrap_err();
    assert_eq!(err.limit, MAX_QUOTE_ITEMS);
    assert_eq!(err.path, "quoteItem[1].quoteItem");
}

#[test]
fn item_nesting_is_limited() {
    let mut item = json!({"productOffering": {"id": "x"}});
    for _ in 0..7 {
        item = json!({"productOffering": {"id": "x"}, "quoteItem": [item]});
    }
    check_quote_json(&json!({ "quoteItem": [item.clone()] })).expect("8 levels");
    let err = check_quote_json(&json!({"quoteItem": [{"quoteItem": [item]}]})).unwrap_err();
    assert_eq!((err.limit, err.received), (MAX_ITEM_NESTING, 9));
}

#[test]
fn arrays_strings_and_member_names_have_their_limits() {
    let cases = [
        (
            json!({"note": vec![json!({"text": "n"}); 101]}),
            MAX_ARRAY_ITEMS,
            "note",
        ),
        (
            json!({"quoteItem": [{"quoteItemPrice": vec![json!({}); 51]}]}),
            MAX_PRICES_PER_ITEM,
            "quoteItem[0].quoteItemPrice",
        ),
        (
            json!({"quoteItem": [{"quoteItemPrice": [{"priceAlteration": vec![json!({}); 21]}]}]}),
            MAX_ALTERATIONS_PER_PRICE,
            "quoteItem[0].quoteItemPrice[0].priceAlteration",
        ),
        (
            json!({"quoteItem": [{"id": "i".repeat(257)}]}),
            MAX_ID_LENGTH,
            "quoteItem[0].id",
        ),
        (
            json!({"description": "é".repeat(10_001)}),
            MAX_TEXT_LENGTH,
            "description",
        ),
        (
            json!({"note": [{"text": "t".repeat(10_001)}]}),
            MAX_TEXT_LENGTH,
            "note[0].text",
        ),
        (
            json!({"salesChannel": {"name": "s".repeat(2_049)}}),
            MAX_STRING_LENGTH,
            "salesChannel.name",
        ),
        (
            json!({"extension": {"k".repeat(2_049): 1}}),
            MAX_STRING_LENGTH,
            "extension",
        ),
    ];
    for (body, limit, path) in cases {
        let err = check_quote_json(&body).expect_err(path);
        assert_eq!((err.limit, err.path.as_str()), (limit, path));
        assert_eq!(err.received, limit.value + 1, "{path}");
    }
    // At the limits: accepted; characters, not bytes, are counted.
    check_quote_json(&json!({
        "description": "é".repeat(10_000),
        "note": vec![json!({"text": "t".repeat(10_000)}); 100],
        "quoteItem": [{"id": "i".repeat(256),
                       "quoteItemPrice": vec![json!({"priceAlteration": vec![json!({}); 20]}); 50]}],
    }))
    .expect("at the limits");
}

#[test]
fn a_limit_error_says_what_where_and_how_much() {
    let err = LimitError::new(MAX_QUOTE_ITEMS, 501, "quoteItem");
    assert_eq!(
        err.to_string(),
        "quoteItem: 501 items, over the limit maxQuoteItems of 500"
    );
    assert_eq!(
        err.clone().under("event.quote").path,
        "event.quote.quoteItem"
    );
    assert_eq!(
        LimitError::new(MAX_ID_LENGTH, 300, ".id")
            .under("$.productOffering[3]")
            .path,
        "$.productOffering[3].id"
    );
    assert_eq!(
        LimitError::new(MAX_ID_LENGTH, 300, "$").under("x").path,
        "x"
    );
}

const NOW: time::OffsetDateTime = datetime!(2026-03-10 12:00 UTC);

/// The 300-line quote of issue 14, priced against the sample catalog, as stored.
fn three_hundred_lines() -> (Quote, Vec<String>) {
    let items: Vec<QuoteItem> = (0..300)
        .map(|i| QuoteItem {
            id: Some((i + 1).to_string()),
            action: Some("add".into()),
            quantity: Some(1),
            product_offering: Some(EntityRef::to("mobile-l")),
            ..QuoteItem::default()
        })
        .collect();
    let priced =
        price_quote(&items, &sample_catalog(), &TenantSettings::default(), NOW).expect("priced");
    let quote = Quote {
        id: Some("01a24dd4-0ba8-7546-b476-a2f432a0006a".into()),
        href: Some(
            "https://api.example.com/tmf-api/quoteManagement/v4/quote/01a24dd4-0ba8-7546-b476-a2f432a0006a"
                .into(),
        ),
        quote_date: Some(NOW),
        state: Some(QuoteState::InProgress),
        quote_item: priced.items,
        quote_total_price: priced.total,
        ..Quote::default()
    };
    (quote, priced.price_ids)
}

#[test]
fn the_300_line_quote_of_issue_14_fits_with_its_order() {
    let (quote, price_ids) = three_hundred_lines();
    let footprint = check_stored_quote(&quote, &price_ids).expect("fits");
    // ~930 bytes per line: two price lines, each repeating the catalog price's href and names.
    assert!(
        (270_000..300_000).contains(&footprint.quote_bytes),
        "{footprint:?}"
    );
    let order = footprint.order_bytes.expect("open: order projected");
    assert!(
        order > footprint.quote_bytes && order < MAX_ORDER_BYTES.max(),
        "{footprint:?}"
    );
    assert_eq!(footprint.catalog_refs, 3, "mobile-l and its two prices");
    assert!(footprint.depth <= MAX_JSON_DEPTH.max());
}

#[test]
fn a_quote_over_the_budget_is_refused_naming_the_limit() {
    let (mut quote, price_ids) = three_hundred_lines();
    // Room left for the quote, less the reserve an open quote keeps: fill it, then one byte more.
    let footprint = check_stored_quote(&quote, &price_ids).expect("fits");
    let room = MAX_QUOTE_BYTES.max() - APPROVAL_RESERVE_BYTES - footprint.quote_bytes;
    let empty_note = r#","note":[{"text":""}]"#.len();
    quote.note = vec![crate::tmf::Note {
        text: "n".repeat(room - empty_note),
        ..crate::tmf::Note::default()
    }];
    // The order has the notes too: measure the quote's own limit with a small order.
    let order_free = quote.clone();
    let footprint = check_stored_quote(&order_free, &price_ids);
    match footprint {
        Ok(f) => assert_eq!(
            f.quote_bytes,
            MAX_QUOTE_BYTES.max() - APPROVAL_RESERVE_BYTES
        ),
        Err(e) => assert_eq!(e.limit, MAX_ORDER_BYTES, "{e}"),
    }
    quote.note[0].text.push('n');
    let err = check_stored_quote(&quote, &price_ids).unwrap_err();
    assert!(
        err.limit == MAX_QUOTE_BYTES || err.limit == MAX_ORDER_BYTES,
        "{err}"
    );
    assert!(err.received > err.limit.value, "{err}");
    assert_eq!(err.path, "$");
}

#[test]
fn an_accepted_quote_keeps_no_reserve_and_has_no_order_projected() {
    let (mut quote, price_ids) = three_hundred_lines();
    let open = check_stored_quote(&quote, &price_ids).expect("fits");
    quote.state = Some(QuoteState::Accepted);
    let accepted = check_stored_quote(&quote, &price_ids).expect("fits");
    assert_eq!(accepted.order_bytes, None);
    assert!(open.order_bytes.is_some());
}

#[test]
fn the_largest_open_quote_can_be_approved_and_accepted() {
    let (mut quote, price_ids) = three_hundred_lines();
    // Fill to the last byte an inProgress quote may have.
    let fits = |quote: &mut Quote, padding: usize| {
        quote.description = Some("d".repeat(padding));
        check_stored_quote(quote, &price_ids).is_ok()
    };
    let (mut low, mut high) = (0, MAX_QUOTE_BYTES.max());
    while low + 1 < high {
        let mid = (low + high) / 2;
        if fits(&mut quote, mid) {
            low = mid;
        } else {
            high = mid;
        }
    }
    assert!(fits(&mut quote, low) && low > 10_000, "padded by {low}");
    let actor = crate::lifecycle::Actor {
        id: "an-approver-with-a-long-subject-claim-0123456789".into(),
        name: Some("An Approver With A Long Display Name".into()),
    };
    crate::lifecycle::change_quote_state(&mut quote, QuoteState::Approved, &actor, NOW)
        .expect("approvable");
    check_stored_quote(&quote, &price_ids).expect("approving fits the reserve");
    crate::lifecycle::change_quote_state(&mut quote, QuoteState::Accepted, &actor, NOW)
        .expect("acceptable");
    check_stored_quote(&quote, &price_ids).expect("accepting fits the reserve");
}

#[test]
fn more_catalog_references_than_index_entries_allow_are_refused() {
    let quote = Quote {
        quote_item: (0..30)
            .map(|i| QuoteItem {
                product_offering: Some(EntityRef::to(format!("offering-{i}"))),
                ..QuoteItem::default()
            })
            .collect(),
        ..Quote::default()
    };
    let ten: Vec<String> = (0..10).map(|i| format!("price-{i}")).collect();
    assert_eq!(
        check_stored_quote(&quote, &ten).expect("40").catalog_refs,
        40
    );
    let eleven: Vec<String> = (0..11).map(|i| format!("price-{i}")).collect();
    let err = check_stored_quote(&quote, &eleven).unwrap_err();
    assert_eq!((err.limit, err.received), (MAX_CATALOG_REFS, 41));
}

#[test]
fn catalog_entries_are_checked_for_size_strings_and_counted_arrays() {
    let ok = json!({"id": "p", "name": "n", "price": {"unit": "EUR", "value": 1}});
    check_catalog_entry(&ok).expect("valid");
    let too_big = json!({"id": "p", "blob": vec!["x".repeat(1_000); 70]});
    let err = check_catalog_entry(&too_big).unwrap_err();
    assert_eq!(
        (err.limit, err.path.as_str()),
        (MAX_CATALOG_ENTRY_BYTES, "$")
    );
    let long_id = json!({"id": "p".repeat(257)});
    let err = check_catalog_entry(&long_id).unwrap_err();
    assert_eq!((err.limit, err.path.as_str()), (MAX_ID_LENGTH, ".id"));
    let prices = json!({"id": "o", "productOfferingPrice": vec![json!({"id": "p"}); 51]});
    let err = check_catalog_entry(&prices).unwrap_err();
    assert_eq!(
        (err.limit, err.path.as_str()),
        (MAX_LINES_PER_ITEM, ".productOfferingPrice")
    );
    let deep = serde_json::from_str::<Value>(&format!(r#"{{"id":"o","x":{}}}"#, nested(32)))
        .expect("json");
    let err = check_catalog_entry(&deep).unwrap_err();
    assert_eq!(err.limit, MAX_JSON_DEPTH);
    assert!(err.path.starts_with(".x"), "{}", err.path);
}

#[test]
fn a_price_the_store_cannot_write_exactly_is_refused_with_its_path() {
    let mut price = ProductOfferingPrice {
        id: "p".into(),
        price: Some(Money::new(dec!(1.2345678901234567), Currency::EUR)),
        ..ProductOfferingPrice::default()
    };
    let err = check_representable(&price).unwrap_err();
    assert_eq!(
        (err.limit, err.received, err.path.as_str()),
        (MAX_SIGNIFICANT_DIGITS, 17, ".price.value")
    );
    price.price = Some(Money::new(dec!(123456789012.345), Currency::EUR));
    check_representable(&price).expect("15 digits");
    price.price = Some(Money::new(dec!(1000000000000000000), Currency::EUR));
    check_representable(&price).expect("an integer of i64 is exact");
    price.percentage = Some(dec!(33.3333333333333333));
    assert_eq!(check_representable(&price).unwrap_err().path, ".percentage");
}

#[test]
fn docs_limits_md_states_every_limit_with_its_value() {
    let doc = include_str!("../../../../docs/limits.md");
    for limit in ALL {
        let row = doc
            .lines()
            .find(|line| line.starts_with(&format!("| `{}` ", limit.name)))
            .unwrap_or_else(|| panic!("docs/limits.md has no row for {}", limit.name));
        let value = limit.value.to_string();
        let grouped = group_thousands(&value);
        assert!(
            row.contains(&format!("| {grouped} ")),
            "docs/limits.md states {} as in: {row}",
            limit.name
        );
    }
}

/// `262144` → `262,144`.
fn group_thousands(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
