//! Paginated `Query` (items and `Select=COUNT`) and `BatchGetItem`, each SDK call counted and
//! instrumented. Listings never `Scan`: every read names a partition.

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnConsumedCapacity, Select};
use futures::future::try_join_all;

use q2c_service::ports::{Listing, Page};

use super::DynamoStore;
use super::item;
use super::item::Item;
use super::keys::{GSI1SK, PK, SK};
use super::page;
use super::transact::Expr;
use crate::error::DynamoError;
use crate::metrics::Operation;

/// One query shape: an index (or the table), a key condition, an optional filter.
#[derive(Debug, Clone, Default)]
pub(crate) struct QuerySpec {
    /// `None` for the table itself.
    pub index: Option<&'static str>,
    /// `KeyConditionExpression` with the placeholders of it and of the filter.
    pub key: Expr,
    /// `FilterExpression`: applied after the read, so filtered-out items still cost reads.
    pub filter: Option<String>,
    /// Ascending sort key order.
    pub forward: bool,
    /// Strongly consistent read (tables only, not GSIs).
    pub consistent: bool,
    /// `ProjectionExpression`: the attributes to return (all when `None`). Read units are
    /// the same either way; it saves transfer and memory.
    pub projection: Option<&'static str>,
}

impl QuerySpec {
    /// A query of `index` for `key_condition` with its values.
    pub fn new(index: Option<&'static str>, key_condition: impl Into<String>) -> Self {
        QuerySpec {
            index,
            key: Expr::new(key_condition),
            forward: true,
            ..QuerySpec::default()
        }
    }

    /// This query on the partition `pk` (its `:pk`).
    pub fn on(&self, pk: &str) -> Self {
        self.clone().value(":pk", AttributeValue::S(pk.to_owned()))
    }

    /// Adds an expression value.
    pub fn value(mut self, name: &str, value: AttributeValue) -> Self {
        self.key = self.key.value(name, value);
        self
    }

    /// Adds an expression attribute name.
    pub fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.key = self.key.name(placeholder, attribute);
        self
    }

    /// Adds `condition` to the filter expression (joined with `AND`), with the attribute name
    /// and the value it uses.
    pub fn and_filter(
        mut self,
        condition: &str,
        (placeholder, attribute): (&str, &str),
        (name, value): (&str, AttributeValue),
    ) -> Self {
        self.filter = Some(match self.filter.take() {
            Some(filter) => format!("{filter} AND {condition}"),
            None => condition.to_owned(),
        });
        self.name(placeholder, attribute).value(name, value)
    }
}

/// One page of a query.
pub(crate) struct QueryPage {
    pub items: Vec<Item>,
    pub count: u64,
    pub last_key: Option<Item>,
}

/// Most keys one `BatchGetItem` may ask for.
const BATCH_GET_MAX: usize = 100;
/// Rounds of `BatchGetItem` for unprocessed keys before giving up.
const BATCH_GET_ATTEMPTS: u32 = 5;

impl DynamoStore {
    /// One page of `spec`; `count_only` asks for `Select=COUNT`.
    #[tracing::instrument(skip_all, fields(table = %self.table, index = spec.index), err)]
    pub(crate) async fn query_page(
        &self,
        spec: &QuerySpec,
        start: Option<Item>,
        limit: Option<i32>,
        count_only: bool,
    ) -> Result<QueryPage, DynamoError> {
        self.requests.record(Operation::Query);
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .set_index_name(spec.index.map(str::to_owned))
            .key_condition_expression(&spec.key.text)
            .set_filter_expression(spec.filter.clone())
            .set_expression_attribute_values(Some(spec.key.values.clone()))
            .set_expression_attribute_names(spec.key.names())
            .scan_index_forward(spec.forward)
            .consistent_read(spec.consistent)
            .set_exclusive_start_key(start)
            .set_projection_expression(spec.projection.map(str::to_owned))
            .set_limit(limit);
        if count_only {
            request = request.select(Select::Count);
        }
        let output = request
            .send()
            .await
            .map_err(|e| DynamoError::sdk(Operation::Query, e))?;
        self.record_capacity(Operation::Query, output.consumed_capacity());
        Ok(QueryPage {
            count: u64::try_from(output.count()).unwrap_or_default(),
            last_key: output
                .last_evaluated_key()
                .cloned()
                .filter(|k| !k.is_empty()),
            items: output.items.unwrap_or_default(),
        })
    }

    /// Items of `spec`, page after page, while `more(&mut items_so_far)` says so (and pages
    /// remain; it may also trim what it no longer needs). `page_limit` bounds the items each
    /// page evaluates.
    pub(crate) async fn query_while(
        &self,
        spec: &QuerySpec,
        page_limit: Option<i32>,
        more: impl FnMut(&mut Vec<Item>) -> bool,
    ) -> Result<Vec<Item>, DynamoError> {
        self.query_from(spec, None, page_limit, more).await
    }

    /// [`Self::query_while`] from just after the item with the key `start` (a position: the
    /// item need not exist).
    pub(crate) async fn query_from(
        &self,
        spec: &QuerySpec,
        mut start: Option<Item>,
        page_limit: Option<i32>,
        mut more: impl FnMut(&mut Vec<Item>) -> bool,
    ) -> Result<Vec<Item>, DynamoError> {
        let mut items = Vec::new();
        loop {
            let page = self.query_page(spec, start, page_limit, false).await?;
            items.extend(page.items);
            match page.last_key {
                Some(key) if more(&mut items) => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// One offset page of a newest-first listing (quotes, orders) on `gsi1`, whose sort key
    /// is `<date>#<id>`, and the total count: counts the matches (`Select=COUNT`), reads the
    /// first `offset + limit` items plus the whole group sharing a date at the page edge (see
    /// [`enough`]; the index orders ties by id descending, the port by id ascending), sorts
    /// them as the port does and cuts the page within `maxPageBytes` ([`page`]). Offset
    /// paging reads what it skips, but drops the skipped bodies while reading.
    pub(crate) async fn offset_page<T>(
        &self,
        spec: &QuerySpec,
        page: Page,
        decode: impl Fn(&Item) -> Result<T, DynamoError>,
    ) -> Result<Listing<T>, DynamoError> {
        let total = self.count(spec).await?;
        let offset = usize::try_from(page.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
        let total_items = usize::try_from(total).unwrap_or(usize::MAX);
        if offset.saturating_add(limit).min(total_items) == 0 {
            return Ok(Listing {
                items: Vec::new(),
                total,
            });
        }
        let evaluate = page.offset.saturating_add(page.limit).saturating_add(1);
        let evaluate = i32::try_from(evaluate.max(MIN_PAGE_EVALUATE)).unwrap_or(i32::MAX);
        let mut items = self
            .query_while(spec, Some(evaluate), |items| {
                page::drop_skipped_bodies(items, offset);
                let needed = page::needed(items, offset, limit).min(total_items);
                !enough(items, needed)
            })
            .await?;
        page::sort_for_listing(&mut items);
        let mut items: Vec<Item> = items.into_iter().skip(offset).take(limit).collect();
        items.truncate(page::fitting(&items, limit));
        let items = items.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        Ok(Listing { items, total })
    }

    /// [`Self::offset_page`] of a listing spread over several `gsi1` partitions (the write
    /// shards of a tenant's listing, `keys::LISTING_SHARDS`): `spec` on each of
    /// `partitions`. The total sums a `Select=COUNT` of each. The page is found from the keys
    /// alone: each partition's first `offset + limit` entries and the tie group at their edge
    /// (`ProjectionExpression` of the keys, so an offset holds no bodies), merged in listing
    /// order; then the page's items are read by key (`BatchGetItem`) and held to
    /// `maxPageBytes`. Cost: every partition's entries up to the page's end, plus the page
    /// itself once more, plus the counts.
    pub(crate) async fn offset_page_across<T>(
        &self,
        spec: &QuerySpec,
        partitions: &[String],
        page: Page,
        decode: impl Fn(&Item) -> Result<T, DynamoError>,
    ) -> Result<Listing<T>, DynamoError> {
        let specs: Vec<QuerySpec> = partitions.iter().map(|pk| spec.on(pk)).collect();
        // The partitions are read concurrently: a page costs the round trips of one.
        let counts = try_join_all(specs.iter().map(|spec| self.count(spec))).await?;
        let total: u64 = counts.iter().sum();
        let offset = usize::try_from(page.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
        let needed = offset
            .saturating_add(limit)
            .min(usize::try_from(total).unwrap_or(usize::MAX));
        if needed <= offset {
            return Ok(Listing {
                items: Vec::new(),
                total,
            });
        }
        let evaluate = u64::try_from(needed.saturating_add(1)).unwrap_or(u64::MAX);
        let evaluate = i32::try_from(evaluate.max(MIN_PAGE_EVALUATE)).unwrap_or(i32::MAX);
        let keys_only: Vec<QuerySpec> = specs
            .into_iter()
            .map(|spec| QuerySpec {
                projection: Some("pk, sk, gsi1sk"),
                ..spec
            })
            .collect();
        let found =
            try_join_all(keys_only.iter().map(|spec| {
                self.query_while(spec, Some(evaluate), |items| !enough(items, needed))
            }))
            .await?;
        let mut keys: Vec<Item> = found.into_iter().flatten().collect();
        page::sort_for_listing(&mut keys);
        let order: Vec<Item> = keys.into_iter().skip(offset).take(limit).collect();
        let wanted = order
            .iter()
            .map(|k| Ok(item::key(item::get_s(k, PK)?, item::get_s(k, SK)?)))
            .collect::<Result<Vec<_>, DynamoError>>()?;
        let mut found = self.batch_get(wanted).await?;
        // In the page's order; an item deleted since its key was read is left out.
        let rank: std::collections::HashMap<&str, usize> = order
            .iter()
            .enumerate()
            .filter_map(|(at, k)| Some((k.get(PK)?.as_s().ok()?.as_str(), at)))
            .collect();
        let position = |item: &Item| {
            item.get(PK)
                .and_then(|pk| pk.as_s().ok())
                .and_then(|pk| rank.get(pk.as_str()).copied())
                .unwrap_or(usize::MAX)
        };
        found.sort_by_key(position);
        found.truncate(page::fitting(&found, limit));
        let items = found.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        Ok(Listing { items, total })
    }

    /// Every item of `spec`.
    pub(crate) async fn query_all(&self, spec: &QuerySpec) -> Result<Vec<Item>, DynamoError> {
        self.query_while(spec, None, |_| true).await
    }

    /// How many items match `spec` (key condition and filter): `Select=COUNT`, paginated.
    /// A count costs the same read capacity as reading the items; it only saves transfer.
    pub(crate) async fn count(&self, spec: &QuerySpec) -> Result<u64, DynamoError> {
        let mut total = 0;
        let mut start = None;
        loop {
            let page = self.query_page(spec, start, None, true).await?;
            total += page.count;
            match page.last_key {
                Some(key) => start = Some(key),
                None => return Ok(total),
            }
        }
    }

    /// The items with these keys that exist, in any order: `BatchGetItem` in chunks of 100,
    /// asking again for unprocessed keys a bounded number of times.
    pub(crate) async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, DynamoError> {
        self.batch_get_reading(keys, false).await
    }

    /// [`Self::batch_get`], strongly consistent when `consistent`. Retried by hand rather
    /// than with a retry crate: each round asks only for the keys the last one left
    /// unprocessed, keeping what it found.
    pub(crate) async fn batch_get_reading(
        &self,
        keys: Vec<Item>,
        consistent: bool,
    ) -> Result<Vec<Item>, DynamoError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(BATCH_GET_MAX) {
            let mut pending = chunk.to_vec();
            let mut attempts = 0;
            while !pending.is_empty() {
                if attempts == BATCH_GET_ATTEMPTS {
                    return Err(DynamoError::Unprocessed {
                        keys: pending.len(),
                        attempts,
                    });
                }
                if attempts > 0 {
                    let backoff = 20u64 << attempts;
                    tokio::time::sleep(std::time::Duration::from_millis(backoff)).await;
                }
                attempts += 1;
                let (items, unprocessed) = self.batch_get_once(pending, consistent).await?;
                found.extend(items);
                pending = unprocessed;
            }
        }
        Ok(found)
    }

    /// One `BatchGetItem`: the items found and the keys left unprocessed.
    #[tracing::instrument(skip_all, fields(table = %self.table, keys = keys.len()), err)]
    async fn batch_get_once(
        &self,
        keys: Vec<Item>,
        consistent: bool,
    ) -> Result<(Vec<Item>, Vec<Item>), DynamoError> {
        self.requests.record(Operation::BatchGetItem);
        let request = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(consistent)
            .build()
            .map_err(|e| DynamoError::sdk(Operation::BatchGetItem, e))?;
        let mut output = self
            .client
            .batch_get_item()
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .request_items(&self.table, request)
            .send()
            .await
            .map_err(|e| DynamoError::sdk(Operation::BatchGetItem, e))?;
        self.record_capacity(Operation::BatchGetItem, output.consumed_capacity());
        let items = output
            .responses
            .as_mut()
            .and_then(|r| r.remove(&self.table))
            .unwrap_or_default();
        let unprocessed = output
            .unprocessed_keys
            .as_mut()
            .and_then(|u| u.remove(&self.table))
            .map(|k| k.keys)
            .unwrap_or_default();
        Ok((items, unprocessed))
    }
}

/// Items a listing page asks DynamoDB to evaluate, at least: small pages still read in
/// reasonable chunks when a filter drops items.
const MIN_PAGE_EVALUATE: u64 = 25;

/// The date part of a listing sort key (`<date>#<id>` → `<date>`; undated → ``).
fn date_part(item: &Item) -> &str {
    item.get(GSI1SK)
        .and_then(|v| v.as_s().ok())
        .and_then(|sk| sk.split('#').next())
        .unwrap_or_default()
}

/// Whether `items` hold the first `needed` items and the whole group of items sharing the
/// date of the last of them: the index orders ties by id descending, the ports by id
/// ascending, so a tie group at the page edge is read in full and re-sorted.
pub(crate) fn enough(items: &[Item], needed: usize) -> bool {
    needed == 0
        || (items.len() > needed
            && items
                .last()
                .is_some_and(|last| date_part(last) != date_part(&items[needed - 1])))
}

#[cfg(test)]
mod paging_tests {
    use super::*;
    use crate::dynamo::item::s;

    #[test]
    fn a_page_is_complete_only_past_the_tie_group_at_its_edge() {
        let at = |sk: &str| Item::from([(GSI1SK.to_owned(), s(sk))]);
        let items = vec![at("2026-01-02#a"), at("2026-01-01#c"), at("2026-01-01#b")];
        assert!(!enough(&items, 2));
        let mut more = items.clone();
        more.push(at("2025-12-31#z"));
        assert!(enough(&more, 2));
        assert!(enough(&items, 1));
    }
}
