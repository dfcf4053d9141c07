//! The open-quote index: which non-final quotes, in any tenant, use a catalog price. Items
//! `POPIDX#<priceId>` / `<tenant>#<quoteId>` are written and removed by the quote
//! transactions; the price-change fan-out pages through one partition instead of scanning
//! quotes.

use q2c_service::context::TenantId;
use q2c_service::ports::StoreError;

use super::DynamoStore;
use super::item::{self, Item, s};
use super::keys;
use super::query::QuerySpec;
use crate::error::DynamoError;

/// An open quote that uses a catalog price (one item of the open-quote index).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OpenQuoteRef {
    /// The quote's tenant.
    pub tenant: TenantId,
    /// The quote id.
    pub quote_id: String,
}

/// Attributes of an index item.
pub(crate) const TENANT: &str = "tenant";
pub(crate) const QUOTE_ID: &str = "quote_id";

pub(crate) fn decode(entry: &Item) -> Result<OpenQuoteRef, DynamoError> {
    let tenant = item::get_s(entry, TENANT)?;
    let tenant = TenantId::parse(tenant).map_err(|_| DynamoError::Attribute {
        key: item::pk_of(entry),
        attribute: TENANT,
    })?;
    Ok(OpenQuoteRef {
        tenant,
        quote_id: item::get_s(entry, QUOTE_ID)?.to_owned(),
    })
}

impl DynamoStore {
    /// Open (not accepted, rejected or cancelled) quotes of any tenant that use the catalog
    /// price `price_id`, ordered by tenant then quote id, at most `limit`, starting after
    /// `after` (the last item of the previous page). One Query per page of the
    /// `POPIDX#<priceId>` partition (same signature as the SQLite adapter's).
    ///
    /// The sort key `<tenant>#<quoteId>` orders like the pair: `#` sorts below every
    /// character a tenant id may contain.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when DynamoDB fails or an index item is malformed.
    #[tracing::instrument(skip_all, fields(price_id, limit), err)]
    pub async fn open_quotes_by_price(
        &self,
        price_id: &str,
        after: Option<OpenQuoteRef>,
        limit: usize,
    ) -> Result<Vec<OpenQuoteRef>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let pk = s(keys::open_quote_index_pk(price_id));
        let spec = match after {
            Some(after) => QuerySpec::new(None, "pk = :pk AND sk > :after").value(
                ":after",
                s(keys::open_quote_index_sk(&after.tenant, &after.quote_id)),
            ),
            None => QuerySpec::new(None, "pk = :pk"),
        }
        .value(":pk", pk);
        let page = i32::try_from(limit).unwrap_or(i32::MAX);
        let items = self
            .query_while(&spec, Some(page), |items| items.len() < limit)
            .await?;
        let found = items
            .iter()
            .take(limit)
            .map(decode)
            .collect::<Result<_, _>>()?;
        Ok(found)
    }
}
