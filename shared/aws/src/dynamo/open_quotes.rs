//! The open-quote index items: which non-final quotes, in any tenant, use a catalog price
//! (`POPIDX#<priceId>`) or hold an offering (`POIDX#<offeringId>`), sort key
//! `<tenant>#<quoteId>`. The quote transactions write and remove them; the fan-out pages
//! through one partition instead of scanning quotes ([`OpenQuoteIndex`] in `fanout.rs`).
//!
//! [`OpenQuoteIndex`]: q2c_service::fanout::OpenQuoteIndex

use q2c_service::context::TenantId;
use q2c_service::fanout::OpenQuote;

use super::item::{self, Item};
use crate::error::DynamoError;

/// Attributes of an index item.
pub(crate) const TENANT: &str = "tenant";
pub(crate) const QUOTE_ID: &str = "quote_id";

/// The open quote an index item names.
pub(crate) fn decode(entry: &Item) -> Result<OpenQuote, DynamoError> {
    let tenant = item::get_s(entry, TENANT)?;
    let tenant = TenantId::parse(tenant).map_err(|_| DynamoError::Attribute {
        key: item::pk_of(entry),
        attribute: TENANT,
    })?;
    Ok(OpenQuote {
        tenant,
        quote_id: item::get_s(entry, QUOTE_ID)?.to_owned(),
    })
}
