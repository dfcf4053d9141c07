//! [`ProductStore`] on DynamoDB. A product is the item `T#<tenant>#PRODUCT#<id>` / `PRODUCT`
//! holding the TMF637 product as JSON (`body`), `version`, `status`, `billing_account` and
//! `offering_id`. It is listed on `gsi1` under its billing account,
//! `T#<tenant>#PRODUCTS#BA#<billingAccountId>`, sort key `<startDate>#<id>`: billing's
//! access pattern ("what does this account hold"), a partition per account, so no tenant's
//! completion rate meets in one key. Products are written by the order completion's
//! transaction (`orders`), each `Put` conditional on the id being new.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;
use q2c_service::context::TenantId;
use q2c_service::inventory::{ProductStore, StoredProduct};
use q2c_service::ports::StoreError;

use super::DynamoStore;
use super::item::{self, Item, n, s};
use super::keys::{self, GSI1PK, GSI1SK};
use super::transact::{Expr, put_write};
use crate::error::DynamoError;

const VERSION: &str = "version";
const STATUS: &str = "status";
const BILLING_ACCOUNT: &str = "billing_account";
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
    let account = product.billing_account_id().unwrap_or_default();
    if !account.is_empty() {
        item.insert(BILLING_ACCOUNT.into(), s(account));
    }
    if let Some(offering) = &product.product_offering {
        item.insert(OFFERING_ID.into(), s(offering.id.clone()));
    }
    item.insert(GSI1PK.into(), s(keys::products_gsi1pk(tenant, account)));
    item.insert(
        GSI1SK.into(),
        s(keys::quotes_gsi1sk(product.start_date, id)),
    );
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

#[async_trait]
impl ProductStore for DynamoStore {
    #[tracing::instrument(skip_all, fields(tenant = %tenant, product_id = id), err)]
    async fn get(&self, tenant: &TenantId, id: &str) -> Result<Option<StoredProduct>, StoreError> {
        let key = item::key(keys::product_pk(tenant, id), keys::PRODUCT_SK);
        let item = self.get_item(key, false).await?;
        Ok(item.as_ref().map(decode).transpose()?)
    }
}
