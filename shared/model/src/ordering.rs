//! Turning an accepted quote into a TMF622 product order, and the order's state changes as
//! order management reports them. Pure: the caller supplies ids and `now`.
//!
//! What carries over from the quote: items (recursively, action `add`, each with a
//! `quoteItem` reference and its agreed `itemPrice`), `relatedParty`, the first
//! `billingAccount` (TMF622 has one), notes, totals, and the quote's unmodelled fields.
//! Nested values (products, offerings, prices, parties, accounts) are copied whole, so their
//! extensions and `@type` subtypes reach order management unchanged. The order and its items
//! get their own `@type` (`ProductOrder`, `ProductOrderItem`): a quote subtype is not an
//! order subtype.

use time::OffsetDateTime;

use crate::lifecycle::{IllegalTransition, PRODUCT_ORDER_ENTRY_STATES};
use crate::tmf::{
    EntityRef, Extensions, ProductOrder, ProductOrderItem, ProductOrderItemState,
    ProductOrderState, Quote, QuoteItem, QuoteItemRef, TypeInfo,
};

/// Fields `ProductOrder` models: a quote extension with one of these names is dropped, since
/// it would collide with the order's own field on the wire.
const ORDER_FIELDS: &[&str] = &[
    "id",
    "href",
    "externalId",
    "category",
    "description",
    "orderDate",
    "quote",
    "productOrderItem",
    "relatedParty",
    "billingAccount",
    "note",
    "orderTotalPrice",
    "state",
    "completionDate",
    "@type",
    "@baseType",
    "@schemaLocation",
];

/// Fields `ProductOrderItem` models (same reason as [`ORDER_FIELDS`]).
const ORDER_ITEM_FIELDS: &[&str] = &[
    "id",
    "action",
    "quantity",
    "product",
    "productOffering",
    "quoteItem",
    "itemPrice",
    "productOrderItem",
    "state",
    "@type",
    "@baseType",
    "@schemaLocation",
];

/// The product order realising `quote` (which should be accepted), with id `order_id` and
/// `orderDate` `now`. `externalId` is `order_id` too: it is what order management sees of
/// ours, so a repeated submission can be recognised. No `state`: order management assigns it.
pub fn order_from_quote(quote: &Quote, order_id: &str, now: OffsetDateTime) -> ProductOrder {
    let quote_id = quote.id.clone().unwrap_or_default();
    let items = quote
        .quote_item
        .iter()
        .enumerate()
        .map(|(i, item)| order_item(item, i, &quote_id, quote.href.as_deref()))
        .collect();
    ProductOrder {
        id: Some(order_id.to_owned()),
        href: None,
        external_id: Some(order_id.to_owned()),
        category: quote.category.clone(),
        description: quote.description.clone(),
        order_date: Some(now),
        quote: vec![EntityRef {
            id: quote_id,
            href: quote.href.clone(),
            referred_type: Some("Quote".to_owned()),
            ..EntityRef::default()
        }],
        product_order_item: items,
        related_party: quote.related_party.clone(),
        billing_account: quote.billing_account.first().cloned(),
        note: quote.note.clone(),
        order_total_price: quote.quote_total_price.clone(),
        state: None,
        completion_date: None,
        type_info: TypeInfo::of("ProductOrder"),
        extensions: without(&quote.extensions, ORDER_FIELDS),
    }
}

fn order_item(
    item: &QuoteItem,
    position: usize,
    quote_id: &str,
    quote_href: Option<&str>,
) -> ProductOrderItem {
    // Stored quotes always have item ids (the service assigns them); the position is a
    // fallback that keeps ids unique within one level.
    let item_id = item
        .id
        .clone()
        .unwrap_or_else(|| (position + 1).to_string());
    ProductOrderItem {
        id: item_id.clone(),
        action: "add".to_owned(),
        quantity: item.quantity,
        product: item.product.clone(),
        product_offering: item.product_offering.clone(),
        quote_item: Some(QuoteItemRef {
            id: item_id,
            quote_id: quote_id.to_owned(),
            quote_href: quote_href.map(str::to_owned),
            referred_type: Some("QuoteItem".to_owned()),
            ..QuoteItemRef::default()
        }),
        item_price: item.quote_item_price.clone(),
        product_order_item: item
            .quote_item
            .iter()
            .enumerate()
            .map(|(i, child)| order_item(child, i, quote_id, quote_href))
            .collect(),
        state: None,
        type_info: TypeInfo::of("ProductOrderItem"),
        extensions: without(&item.extensions, ORDER_ITEM_FIELDS),
    }
}

fn without(extensions: &Extensions, modelled: &[&str]) -> Extensions {
    extensions
        .iter()
        .filter(|(k, _)| !modelled.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// What a reported order state did to the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStateChange {
    /// The order moved to the new state.
    Changed {
        /// The state before (`None`: order management had not reported one yet).
        from: Option<ProductOrderState>,
    },
    /// The order already was in that state (a redelivered notification): nothing changed.
    Unchanged,
}

/// Applies a state reported by order management to `order`, following the TMF622 order
/// state machine. An order without a state enters it through `acknowledged` or `rejected`.
/// Reporting the current state again is [`OrderStateChange::Unchanged`], since notifications
/// arrive at least once.
///
/// # Errors
/// [`IllegalTransition`] (with `from` the current state, `acknowledged` standing in for "no
/// state yet") when the machine does not allow the move; the order is left unchanged.
pub fn change_order_state(
    order: &mut ProductOrder,
    to: ProductOrderState,
) -> Result<OrderStateChange, IllegalTransition<ProductOrderState>> {
    let from = order.state;
    match from {
        Some(current) if current == to => return Ok(OrderStateChange::Unchanged),
        Some(current) => {
            current.transition(to)?;
        }
        None if PRODUCT_ORDER_ENTRY_STATES.contains(&to) => {}
        None => {
            return Err(IllegalTransition {
                from: ProductOrderState::INITIAL,
                to,
            });
        }
    }
    order.state = Some(to);
    Ok(OrderStateChange::Changed { from })
}

/// Records that order management reported `order` in state `to` at `now`: the state change
/// ([`change_order_state`]), and `completionDate` (TMF622) when it is `completed`.
///
/// # Errors
/// As [`change_order_state`].
pub fn report_order_state(
    order: &mut ProductOrder,
    to: ProductOrderState,
    now: OffsetDateTime,
) -> Result<OrderStateChange, IllegalTransition<ProductOrderState>> {
    let change = change_order_state(order, to)?;
    if matches!(change, OrderStateChange::Changed { .. }) && to == ProductOrderState::Completed {
        order.completion_date = Some(now);
    }
    Ok(change)
}

/// An item state order management reported that the item machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("product order item {item}: {transition}")]
pub struct IllegalItemTransition {
    /// The item's id.
    pub item: String,
    /// The move refused.
    pub transition: IllegalTransition<ProductOrderItemState>,
}

/// Records the item states order management reported (`(item id, state)`, items at any
/// depth): an item without a state takes any reported state (order management may report an
/// item first when it is already done); an item with one moves through the TMF622 item
/// machine. Ids the order does not have are ignored (order management's own items). Returns
/// whether any item changed; on error nothing is changed.
///
/// # Errors
/// [`IllegalItemTransition`] for the first move the item machine does not allow.
pub fn report_item_states(
    order: &mut ProductOrder,
    reported: &[(String, ProductOrderItemState)],
) -> Result<bool, IllegalItemTransition> {
    let mut next = order.product_order_item.clone();
    let mut changed = false;
    for (id, to) in reported {
        if let Some(item) = find_item(&mut next, id) {
            match item.state {
                Some(current) if current == *to => {}
                Some(current) => {
                    current
                        .transition(*to)
                        .map_err(|transition| IllegalItemTransition {
                            item: id.clone(),
                            transition,
                        })?;
                    item.state = Some(*to);
                    changed = true;
                }
                None => {
                    item.state = Some(*to);
                    changed = true;
                }
            }
        }
    }
    order.product_order_item = next;
    Ok(changed)
}

fn find_item<'a>(items: &'a mut [ProductOrderItem], id: &str) -> Option<&'a mut ProductOrderItem> {
    for item in items {
        if item.id == id {
            return Some(item);
        }
        if let Some(found) = find_item(&mut item.product_order_item, id) {
            return Some(found);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-27 12:00 UTC);

    fn accepted_quote() -> (Value, Quote) {
        let doc = json!({
            "id": "q-1",
            "href": "/tmf-api/quoteManagement/v4/quote/q-1",
            "@type": "EnterpriseQuote",
            "@baseType": "Quote",
            "category": "business",
            "description": "HQ connectivity",
            "externalId": "crm-42",
            "state": "accepted",
            "relatedParty": [{"id": "cust-1", "role": "customer", "@referredType": "Organization",
                              "@type": "PartyRefExt", "x-segment": "gold"}],
            "billingAccount": [{"id": "ba-1", "@referredType": "BillingAccount"},
                               {"id": "ba-2"}],
            "note": [{"text": "deliver on Monday", "x-note-kind": "logistics"}],
            "quoteTotalPrice": [{"priceType": "recurring", "recurringChargePeriod": "month",
                                 "price": {"dutyFreeAmount": {"unit": "EUR", "value": 41},
                                           "taxIncludedAmount": {"unit": "EUR", "value": 49.2}}}],
            "quoteItem": [{
                "id": "1",
                "action": "add",
                "quantity": 2,
                "state": "approved",
                "@type": "FibreQuoteItem",
                "productOffering": {"id": "fibre-1g", "name": "Fibre 1G", "@type": "ProductOfferingRef"},
                "product": {"@type": "FibreProduct", "productCharacteristic":
                            [{"name": "speed", "value": {"down": 1000, "up": 500}, "valueType": "object"}],
                            "x-install": {"slot": "am"}},
                "quoteItemPrice": [{"priceType": "recurring", "recurringChargePeriod": "month",
                                    "price": {"dutyFreeAmount": {"unit": "EUR", "value": 20.5},
                                              "taxIncludedAmount": {"unit": "EUR", "value": 24.6},
                                              "taxRate": 20},
                                    "priceAlteration": [{"priceType": "recurring", "applicationDuration": 3,
                                        "price": {"percentage": 50}, "x-campaign": "winter"}],
                                    "productOfferingPrice": {"id": "pop-1"}}],
                "quoteItem": [{"id": "1.1", "action": "add", "quantity": 1,
                               "productOffering": {"id": "router"}, "x-child": true}],
                "appointment": {"id": "ap-1"},
                "productOrderItem": "collides and is dropped"
            }],
            "agreement": [{"id": "ag-1", "name": "Frame agreement"}],
            "x-crm": {"opportunity": "OPP-1", "tags": ["a", 2, 3.25, null, true]},
            "orderDate": "collides and is dropped"
        });
        let quote = serde_json::from_value(doc.clone()).expect("fixture quote parses");
        (doc, quote)
    }

    fn to_json<T: serde::Serialize>(value: &T) -> Value {
        serde_json::to_value(value).expect("serialisable")
    }

    #[test]
    fn the_order_refers_to_the_quote_and_its_items() {
        let (_, quote) = accepted_quote();
        let order = order_from_quote(&quote, "o-1", NOW);
        let wire = to_json(&order);
        assert_eq!(wire["id"], "o-1");
        assert_eq!(wire["externalId"], "o-1");
        assert_eq!(wire["@type"], "ProductOrder");
        assert_eq!(wire["orderDate"], "2026-11-27T12:00:00Z");
        assert!(
            wire.get("state").is_none(),
            "order management assigns state"
        );
        assert_eq!(
            wire["quote"],
            json!([{"id": "q-1", "href": "/tmf-api/quoteManagement/v4/quote/q-1",
                    "@referredType": "Quote"}])
        );
        let item = &wire["productOrderItem"][0];
        assert_eq!(item["id"], "1");
        assert_eq!(item["action"], "add");
        assert_eq!(item["quantity"], 2);
        assert_eq!(item["@type"], "ProductOrderItem");
        assert!(item.get("state").is_none());
        assert_eq!(
            item["quoteItem"],
            json!({"id": "1", "quoteId": "q-1",
                   "quoteHref": "/tmf-api/quoteManagement/v4/quote/q-1",
                   "@referredType": "QuoteItem"})
        );
        let child = &item["productOrderItem"][0];
        assert_eq!(child["id"], "1.1");
        assert_eq!(child["action"], "add");
        assert_eq!(child["quoteItem"]["id"], "1.1");
        assert_eq!(child["x-child"], true);
    }

    #[test]
    fn nested_values_and_extensions_carry_over_byte_for_byte() {
        let (doc, quote) = accepted_quote();
        let wire = to_json(&order_from_quote(&quote, "o-1", NOW));
        let same = |order_value: &Value, quote_value: &Value, what: &str| {
            assert_eq!(
                serde_json::to_string(order_value).expect("text"),
                serde_json::to_string(quote_value).expect("text"),
                "{what} must be carried verbatim"
            );
        };
        let (item, quote_item) = (&wire["productOrderItem"][0], &doc["quoteItem"][0]);
        same(
            &item["product"],
            &quote_item["product"],
            "product (@type subtype)",
        );
        same(
            &item["productOffering"],
            &quote_item["productOffering"],
            "offering",
        );
        same(
            &item["itemPrice"],
            &quote_item["quoteItemPrice"],
            "agreed prices",
        );
        same(
            &item["appointment"],
            &quote_item["appointment"],
            "item extension",
        );
        same(&wire["relatedParty"], &doc["relatedParty"], "parties");
        same(&wire["note"], &doc["note"], "notes");
        same(&wire["orderTotalPrice"], &doc["quoteTotalPrice"], "totals");
        same(&wire["agreement"], &doc["agreement"], "quote extension");
        same(&wire["x-crm"], &doc["x-crm"], "quote extension");
        same(
            &wire["billingAccount"],
            &doc["billingAccount"][0],
            "first account",
        );
    }

    #[test]
    fn quote_extensions_that_collide_with_order_fields_are_dropped() {
        let (_, quote) = accepted_quote();
        let order = order_from_quote(&quote, "o-1", NOW);
        assert!(!order.extensions.contains_key("orderDate"));
        assert!(
            !order.product_order_item[0]
                .extensions
                .contains_key("productOrderItem")
        );
        let text = serde_json::to_string(&order).expect("text");
        let back: ProductOrder = serde_json::from_str(&text).expect("the order parses back");
        assert_eq!(back, order, "the order round-trips");
    }

    #[test]
    fn an_order_enters_its_lifecycle_acknowledged_or_rejected() {
        let (_, quote) = accepted_quote();
        let mut order = order_from_quote(&quote, "o-1", NOW);
        let refused = change_order_state(&mut order, ProductOrderState::InProgress);
        assert!(refused.is_err());
        assert_eq!(order.state, None, "a refused change leaves the order alone");
        assert_eq!(
            change_order_state(&mut order, ProductOrderState::Acknowledged),
            Ok(OrderStateChange::Changed { from: None })
        );
        assert_eq!(order.state, Some(ProductOrderState::Acknowledged));
    }

    #[test]
    fn order_states_follow_the_tmf622_machine_and_repeats_are_no_ops() {
        let mut order = ProductOrder {
            state: Some(ProductOrderState::Acknowledged),
            ..ProductOrder::default()
        };
        use ProductOrderState as S;
        let changed = |from| Ok(OrderStateChange::Changed { from: Some(from) });
        for (step, (to, expected)) in [
            (S::InProgress, changed(S::Acknowledged)),
            (S::InProgress, Ok(OrderStateChange::Unchanged)),
            (S::Completed, changed(S::InProgress)),
            // Completed is final.
            (
                S::InProgress,
                Err(IllegalTransition {
                    from: S::Completed,
                    to: S::InProgress,
                }),
            ),
        ]
        .into_iter()
        .enumerate()
        {
            assert_eq!(change_order_state(&mut order, to), expected, "step {step}");
        }
        assert_eq!(order.state, Some(ProductOrderState::Completed));
    }

    #[test]
    fn completion_sets_the_completion_date_once() {
        let (_, quote) = accepted_quote();
        let mut order = order_from_quote(&quote, "o-1", NOW);
        let later = datetime!(2026-11-28 09:30 UTC);
        report_order_state(&mut order, ProductOrderState::Acknowledged, NOW).unwrap();
        report_order_state(&mut order, ProductOrderState::InProgress, NOW).unwrap();
        assert_eq!(order.completion_date, None);
        report_order_state(&mut order, ProductOrderState::Completed, later).unwrap();
        assert_eq!(order.completion_date, Some(later));
        // Reported again: unchanged, the date stays.
        let again = report_order_state(&mut order, ProductOrderState::Completed, NOW).unwrap();
        assert_eq!(again, OrderStateChange::Unchanged);
        assert_eq!(order.completion_date, Some(later));
        assert_eq!(to_json(&order)["completionDate"], "2026-11-28T09:30:00Z");
    }

    #[test]
    fn item_states_follow_the_item_machine_at_any_depth() {
        use ProductOrderItemState as I;
        let (_, quote) = accepted_quote();
        let mut order = order_from_quote(&quote, "o-1", NOW);
        let top = order.product_order_item[0].id.clone();
        let child = order.product_order_item[0].product_order_item[0].id.clone();
        // From no state, any reported state; unknown ids are ignored.
        let changed = report_item_states(
            &mut order,
            &[
                (top.clone(), I::InProgress),
                (child.clone(), I::Completed),
                ("om-9".into(), I::Held),
            ],
        )
        .unwrap();
        assert!(changed);
        assert_eq!(order.product_order_item[0].state, Some(I::InProgress));
        assert_eq!(
            order.product_order_item[0].product_order_item[0].state,
            Some(I::Completed)
        );
        assert!(!report_item_states(&mut order, &[(top.clone(), I::InProgress)]).unwrap());
        // Completed is final: nothing changes, the refusal names the item.
        let before = order.clone();
        let refused = report_item_states(
            &mut order,
            &[(top.clone(), I::Completed), (child.clone(), I::Pending)],
        )
        .unwrap_err();
        assert_eq!(refused.item, child);
        assert_eq!(order, before);
    }
}
