//! The products a completed product order creates (TMF637 inventory). Pure: the caller
//! supplies product ids and `now`.
//!
//! One product per order item, nested items too: a bundle item becomes a bundle product
//! (`isBundle: true`) related to a product per component (`relationshipType: bundles`).
//! Each product carries what was agreed, copied from its order item, never re-read from the
//! catalog: `productPrice[]` from the item's `itemPrice[]` (the quoted prices, alterations
//! with their `applicationDuration` included), `productOffering`, the product's
//! characteristics, specification and name; the order's `billingAccount` and `relatedParty`;
//! `productOrderItem` naming the order and item. Unknown fields of the ordered product and of
//! the order item are carried in the product's extensions, as the catalog evolution work
//! carries them (a field `Product` models is not overwritten by an extension).

use time::OffsetDateTime;

use crate::tmf::{
    EntityRef, Extensions, OrderPrice, Product, ProductOrder, ProductOrderItem, ProductPrice,
    ProductRelationship, ProductStatus, RelatedProductOrderItem, TypeInfo,
};

/// Path of inventory products (hrefs are `<base>/<id>`).
pub const PRODUCT_HREF_BASE: &str = "/tmf-api/productInventory/v4/product";

/// The relationship from a bundle product to each of its components.
pub const BUNDLES: &str = "bundles";

/// Fields `Product` models: an extension with one of these names is not carried.
const PRODUCT_FIELDS: &[&str] = &[
    "id",
    "href",
    "description",
    "isBundle",
    "name",
    "orderDate",
    "startDate",
    "terminationDate",
    "billingAccount",
    "productCharacteristic",
    "productOffering",
    "productOrderItem",
    "productPrice",
    "productRelationship",
    "productSpecification",
    "relatedParty",
    "status",
    "@type",
    "@baseType",
    "@schemaLocation",
    "@referredType",
    // Order item fields that are not product fields.
    "action",
    "quantity",
    "quoteItem",
    "itemPrice",
    "state",
];

/// Every order item of `order` (nested ones too), depth first, parents before children.
pub fn all_items(order: &ProductOrder) -> Vec<&ProductOrderItem> {
    fn walk<'a>(items: &'a [ProductOrderItem], out: &mut Vec<&'a ProductOrderItem>) {
        for item in items {
            out.push(item);
            walk(&item.product_order_item, out);
        }
    }
    let mut out = Vec::new();
    walk(&order.product_order_item, &mut out);
    out
}

/// How many products completing `order` creates (its `add` items, nested ones too).
pub fn product_count(order: &ProductOrder) -> usize {
    all_items(order)
        .into_iter()
        .filter(|item| item.action == "add")
        .count()
}

/// The products the customer holds once `order` is completed: one per `add` item (nested
/// ones too), parents before their components, `status: active`, `startDate` `now`.
/// `new_id` names each product (called once per product, in that order).
pub fn products_from_order(
    order: &ProductOrder,
    mut new_id: impl FnMut() -> String,
    now: OffsetDateTime,
) -> Vec<Product> {
    let mut products = Vec::new();
    for item in &order.product_order_item {
        add_products(order, item, &mut new_id, now, &mut products);
    }
    products
}

/// Appends the product of `item` (if it is an `add`) and its components'; the index of the
/// item's product, if any.
fn add_products(
    order: &ProductOrder,
    item: &ProductOrderItem,
    new_id: &mut impl FnMut() -> String,
    now: OffsetDateTime,
    out: &mut Vec<Product>,
) -> Option<usize> {
    let position = (item.action == "add").then(|| {
        out.push(product_of(order, item, new_id(), now));
        out.len() - 1
    });
    let mut components = Vec::new();
    for child in &item.product_order_item {
        if let Some(index) = add_products(order, child, new_id, now, out) {
            components.push(reference(&out[index]));
        }
    }
    if let Some(index) = position
        && !components.is_empty()
    {
        let bundle = &mut out[index];
        bundle.is_bundle = Some(true);
        bundle
            .product_relationship
            .extend(components.into_iter().map(|product| ProductRelationship {
                relationship_type: BUNDLES.to_owned(),
                product,
                type_info: TypeInfo::default(),
            }));
    }
    position
}

fn reference(product: &Product) -> EntityRef {
    EntityRef {
        id: product.id().to_owned(),
        href: product.href.clone(),
        name: product.name.clone(),
        referred_type: Some("Product".to_owned()),
        ..EntityRef::default()
    }
}

fn product_of(
    order: &ProductOrder,
    item: &ProductOrderItem,
    id: String,
    now: OffsetDateTime,
) -> Product {
    let ordered = item.product.clone().unwrap_or_default();
    let mut extensions = carried(&item.extensions);
    extensions.extend(carried(&ordered.extensions));
    let name = ordered
        .name
        .clone()
        .or_else(|| item.product_offering.as_ref().and_then(|o| o.name.clone()));
    Product {
        href: Some(format!("{PRODUCT_HREF_BASE}/{id}")),
        id: Some(id),
        description: None,
        is_bundle: ordered.is_bundle,
        name,
        order_date: order.order_date,
        start_date: Some(now),
        termination_date: None,
        billing_account: order.billing_account.as_ref().map(|account| EntityRef {
            referred_type: account
                .referred_type
                .clone()
                .or_else(|| Some("BillingAccount".to_owned())),
            ..account.clone()
        }),
        product_characteristic: ordered.product_characteristic,
        product_offering: item.product_offering.clone(),
        product_order_item: vec![RelatedProductOrderItem {
            order_item_action: Some(item.action.clone()),
            order_item_id: item.id.clone(),
            product_order_href: order.href.clone(),
            product_order_id: order.id.clone().unwrap_or_default(),
            role: None,
            referred_type: Some("ProductOrderItem".to_owned()),
            type_info: TypeInfo::default(),
        }],
        product_price: item.item_price.iter().map(product_price).collect(),
        product_relationship: Vec::new(),
        product_specification: ordered.product_specification,
        related_party: order.related_party.clone(),
        status: Some(ProductStatus::Active),
        type_info: TypeInfo::of("Product"),
        extensions,
    }
}

/// A quoted (order) price as a product price: the same line, alterations included.
pub fn product_price(price: &OrderPrice) -> ProductPrice {
    ProductPrice {
        description: price.description.clone(),
        name: price.name.clone(),
        price_type: price.price_type.clone(),
        recurring_charge_period: price.recurring_charge_period.clone(),
        unit_of_measure: price.unit_of_measure.clone(),
        price: price.price.clone(),
        product_offering_price: price.product_offering_price.clone(),
        product_price_alteration: price.price_alteration.clone(),
        type_info: price.type_info.clone(),
        extensions: price.extensions.clone(),
    }
}

fn carried(extensions: &Extensions) -> Extensions {
    extensions
        .iter()
        .filter(|(k, _)| !PRODUCT_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests;
