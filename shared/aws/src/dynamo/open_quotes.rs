//! The open-quote index items: which non-final quotes, in any tenant, use a catalog price
//! (`POPIDX#<priceId>#<shard>`) or hold an offering (`POIDX#<offeringId>#<shard>`), sort key
//! `<tenant>#<quoteId>` (shards: [`OPEN_QUOTE_INDEX_SHARDS`]; older releases wrote the
//! unsharded keys, still read and deleted). The quote transactions write and remove them; the
//! fan-out pages through the shards, merged, instead of scanning quotes ([`OpenQuoteIndex`]
//! in `fanout.rs`).
//!
//! [`OPEN_QUOTE_INDEX_SHARDS`]: super::keys::OPEN_QUOTE_INDEX_SHARDS
//!
//! [`OpenQuoteIndex`]: q2c_service::fanout::OpenQuoteIndex

use std::collections::{BTreeSet, HashMap};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use q2c_service::context::TenantId;
use q2c_service::fanout::OpenQuote;

use super::DynamoStore;
use super::item::{self, Item, s};
use super::keys;
use super::query::QuerySpec;
use crate::error::DynamoError;

/// Attributes of an index item.
pub(crate) const TENANT: &str = "tenant";
pub(crate) const QUOTE_ID: &str = "quote_id";
/// The unsharded key of a sharded item (`POPIDX#<priceId>`), absent on older releases' items.
/// Ids are the catalog's and may hold `#`: the unsharded key of price `x#3` is the name of
/// shard 3 of price `x`, and only this tells their items apart.
pub(crate) const INDEX_KEY: &str = "index_key";
/// Keeps an unsharded key's own items (older releases'), not a shard's sharing its name.
pub(crate) const LEGACY_ONLY: &str = "attribute_not_exists(index_key)";

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

/// An index item's sort key, `<tenant>#<quoteId>`: the order of the index.
pub(crate) fn sort_key(entry: &Item) -> &str {
    item::get_s(entry, keys::SK).unwrap_or_default()
}

/// Unsharded (legacy) index partitions this process found empty, with when. Nothing of this
/// release writes them, so an empty one stays empty, except for an older release's call still
/// running during an upgrade: the finding is trusted for [`RECHECK`] only (the longest a
/// function runs). Per process, since the store has no state of its own: a finding is the
/// same for every store over the table.
static LEGACY_EMPTY: LazyLock<Mutex<HashMap<(String, String), Instant>>> =
    LazyLock::new(Mutex::default);
const RECHECK: Duration = Duration::from_secs(15 * 60);

impl DynamoStore {
    /// Whether the unsharded partition `pk` was found empty within [`RECHECK`].
    pub(crate) fn legacy_known_empty(&self, pk: &str) -> bool {
        let found = LEGACY_EMPTY.lock().ok().and_then(|empty| {
            empty
                .get(&(self.table.clone(), pk.to_owned()))
                .map(Instant::elapsed)
        });
        found.is_some_and(|age| age < RECHECK)
    }

    /// Notes the unsharded partition `pk` empty (a read of it from its start found nothing).
    pub(crate) fn note_legacy_empty(&self, pk: &str) {
        if let Ok(mut empty) = LEGACY_EMPTY.lock() {
            empty.insert((self.table.clone(), pk.to_owned()), Instant::now());
        }
    }

    /// Which of the unsharded keys `removed` still hold this quote's item (sort key `sk`)
    /// as an older release wrote it: those are deleted there, the others in their shard. Per
    /// key not known empty, one strongly consistent `Query` (`Limit` 1) of the partition and,
    /// only when it holds older releases' items, one `GetItem` of the quote's; nothing once
    /// known empty.
    pub(crate) async fn legacy_index_items(
        &self,
        removed: &BTreeSet<String>,
        sk: &str,
    ) -> Result<BTreeSet<String>, DynamoError> {
        let checks = removed
            .iter()
            .filter(|pk| !self.legacy_known_empty(pk))
            .map(|pk| async move {
                let mut spec = QuerySpec::new(None, "pk = :pk").value(":pk", s(pk.as_str()));
                spec.consistent = true;
                spec.filter = Some(LEGACY_ONLY.to_owned());
                let first = self.query_page(&spec, None, Some(1), false).await?;
                if first.items.is_empty() && first.last_key.is_none() {
                    self.note_legacy_empty(pk);
                    return Ok::<_, DynamoError>(None);
                }
                let found = self.get_item(item::key(pk.as_str(), sk), true).await?;
                let legacy = found.is_some_and(|entry| !entry.contains_key(INDEX_KEY));
                Ok(legacy.then(|| pk.clone()))
            });
        let found = futures::future::try_join_all(checks).await?;
        Ok(found.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::{INDEX_KEY, LEGACY_ONLY};

    #[test]
    fn the_legacy_filter_names_the_index_key_attribute() {
        assert_eq!(LEGACY_ONLY, format!("attribute_not_exists({INDEX_KEY})"));
    }
}
