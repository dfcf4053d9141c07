//! [`ProductStore`] on DynamoDB. A product is the item `T#<tenant>#PRODUCT#<id>` / `PRODUCT`
//! holding the TMF637 product as JSON (`body`), `version`, `status`, `billing_account`,
//! `party_id` (its owner party, [`q2c_model::tmf::Product::owner_party_id`]) and
//! `offering_id`. It is listed (sparse indexes: only when it has the key) on
//! - `gsi1` under its billing account, `T#<tenant>#PRODUCTS#BA#<billingAccountId>`, and
//! - `gsi2` under its owner party, `T#<tenant>#PRODUCTS#PARTY#<partyId>`,
//!
//! both with sort key `<startDate>#<id>`. These are the listing's access patterns ("what does
//! this account hold", "what does this customer hold"): a partition per account and per
//! party, so no tenant's completion rate meets in one key (one product is one write to each
//! index). `status` and `productOffering.id` are filters on the partition read. Products are
//! written by the order completion's transaction (`orders`), each `Put` conditional on the id
//! being new.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;
use q2c_service::context::TenantId;
use q2c_service::inventory::{ProductFilter, ProductStore, StoredProduct};
use q2c_service::ports::{Listing, Page, StoreError};

use super::DynamoStore;
use super::item::{self, Item, n, s};
use super::keys::{self, GSI1, GSI1PK, GSI1SK, GSI2, GSI2PK, GSI2SK};
use super::query::QuerySpec;
use super::transact::{Expr, put_write};
use crate::error::DynamoError;

const VERSION: &str = "version";
const STATUS: &str = "status";
const BILLING_ACCOUNT: &str = "billing_account";
const PARTY_ID: &str = "party_id";
const OFFERING_ID: &str = "offering_id";

/// The product item.
pub(crate) fn encode(tenant: &TenantId, stored: &StoredProduct) -> Result<Item, DynamoError> {
    let product = &stored.product;
    let id = stored.id();
    let pk = keys::product_pk(tenant, id);
    let mut item = item::item_with_key(&pk, keys::PRODUCT_SK);
    item.insert(keys::BODY.into(), item::to_body(product, &pk)?);
    item.insert(VERSION.into(), n(stored.version));
    if let Some(status) = product.status {
        item.insert(STATUS.into(), s(status.as_str()));
    }
    if let Some(offering) = &product.product_offering {
        item.insert(OFFERING_ID.into(), s(offering.id.clone()));
    }
    let sort_key = keys::quotes_gsi1sk(product.start_date, id);
    // Listing pages sort on `gsi1sk` whichever index they read, so every product has it.
    item.insert(GSI1SK.into(), s(sort_key.clone()));
    if let Some(account) = product.billing_account_id().filter(|a| !a.is_empty()) {
        item.insert(BILLING_ACCOUNT.into(), s(account));
        item.insert(GSI1PK.into(), s(keys::products_gsi1pk(tenant, account)));
    }
    if let Some(party) = product.owner_party_id().filter(|p| !p.is_empty()) {
        item.insert(PARTY_ID.into(), s(party));
        item.insert(GSI2PK.into(), s(keys::products_party_gsi2pk(tenant, party)));
        item.insert(GSI2SK.into(), s(sort_key));
    }
    Ok(item)
}

fn decode(item: &Item) -> Result<StoredProduct, DynamoError> {
    Ok(StoredProduct {
        product: item::body(item)?,
        version: item::get_n(item, VERSION)?,
    })
}

/// The transactional `Put`s of new products (each fails if its id exists).
pub(crate) fn product_puts(
    table: &str,
    tenant: &TenantId,
    products: &[StoredProduct],
) -> Result<Vec<TransactWriteItem>, DynamoError> {
    products
        .iter()
        .map(|p| {
            put_write(
                table,
                encode(tenant, p)?,
                Some(Expr::new("attribute_not_exists(pk)")),
            )
        })
        .collect()
}

/// The query of a keyed `filter`, newest first: the billing account's partition of `gsi1`
/// if it names one, else the party's partition of `gsi2`; the other filters filter.
fn spec(tenant: &TenantId, filter: &ProductFilter) -> Option<QuerySpec> {
    let mut spec = match (&filter.billing_account_id, &filter.related_party_id) {
        (Some(account), _) => QuerySpec::new(Some(GSI1), "gsi1pk = :pk")
            .value(":pk", s(keys::products_gsi1pk(tenant, account))),
        (None, Some(party)) => QuerySpec::new(Some(GSI2), "gsi2pk = :pk")
            .value(":pk", s(keys::products_party_gsi2pk(tenant, party))),
        (None, None) => return None,
    };
    if filter.billing_account_id.is_some()
        && let Some(party) = &filter.related_party_id
    {
        spec = spec.and_filter(
            "#party = :party",
            ("#party", PARTY_ID),
            (":party", s(party.clone())),
        );
    }
    if let Some(status) = filter.status {
        spec = spec.and_filter(
            "#status = :status",
            ("#status", STATUS),
            (":status", s(status.as_str())),
        );
    }
    if let Some(offering) = &filter.offering_id {
        spec = spec.and_filter(
            "#offering = :offering",
            ("#offering", OFFERING_ID),
            (":offering", s(offering.clone())),
        );
    }
    spec.forward = false;
    Some(spec)
}

#[async_trait]
impl ProductStore for DynamoStore {
    #[tracing::instrument(skip_all, fields(tenant = %tenant, product_id = id), err)]
    async fn get(&self, tenant: &TenantId, id: &str) -> Result<Option<StoredProduct>, StoreError> {
        let key = item::key(keys::product_pk(tenant, id), keys::PRODUCT_SK);
        let item = self.get_item(key, false).await?;
        Ok(item.as_ref().map(decode).transpose()?)
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant), err)]
    async fn list(
        &self,
        tenant: &TenantId,
        filter: &ProductFilter,
        page: Page,
    ) -> Result<Listing<StoredProduct>, StoreError> {
        let Some(spec) = spec(tenant, filter) else {
            return Ok(Listing {
                items: Vec::new(),
                total: 0,
            });
        };
        Ok(self.offset_page(&spec, page, decode).await?)
    }
}
