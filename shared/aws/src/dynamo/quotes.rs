//! [`QuoteStore`] on DynamoDB. Every write is ONE `TransactWriteItems`: the quote item
//! (conditional on its version), on acceptance the new order item (conditional on absence),
//! its outbox events (conditional on absence) and the changes
//! to the open-quote index (`POPIDX#<priceId>#<n>`, `POIDX#<offeringId>#<n>`), so an event exists exactly when its change
//! does. Updates and deletes first read the stored quote (strongly consistent) to learn
//! which index items to remove; the version condition makes that read safe. `update_from`
//! takes that previous state from the caller (who just read it, e.g. with `get_many`, one
//! `BatchGetItem` per 100 quotes) and writes without the read: the same condition proves
//! the caller's copy is what is stored.

use q2c_service::listing::{Scan, Scanned};
use std::collections::BTreeSet;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use q2c_model::tmf::{Quote, QuoteState};
use q2c_service::context::TenantId;
use q2c_service::fanout::offering_ids_of;
use q2c_service::orders::StoredOrder;
use q2c_service::ports::{
    Listing, OutboxEvent, Page, QuoteFilter, QuoteStore, StoreError, StoredQuote, write_limits,
};

use super::DynamoStore;
use super::item::{self, Item, n, s};
use super::keys::{self, GSI1PK, GSI1SK};
use super::open_quotes;
use super::orders;
use super::outbox::event_puts;
use super::transact::{Expr, TransactError, delete_write, put_write};
use crate::error::DynamoError;

/// Attributes of the quote item besides keys and body.
pub(crate) const VERSION: &str = "version";
const APPROVAL_REQUIRED: &str = "approval_required";
const PRICE_IDS: &str = "price_ids";
/// Copied out of the body for list filters.
pub(crate) const STATE: &str = "state";
pub(crate) const EXTERNAL_ID: &str = "external_id";
pub(crate) const PARTY_IDS: &str = "party_ids";

/// The wire name of a state (`inProgress`), as stored in the `state` attribute.
fn is_open(quote: &StoredQuote) -> bool {
    !quote.quote.state.is_some_and(QuoteState::is_final)
}

/// The unsharded keys of the quote's open-quote index items: `POPIDX#<priceId>` per price
/// and `POIDX#<offeringId>` per offering of its items (none once final); each item is in
/// its shard of the key (`DynamoStore::index_writes`).
fn indexed_prices(quote: &StoredQuote) -> BTreeSet<String> {
    if is_open(quote) {
        let prices = quote.price_ids.iter().map(|p| keys::open_quote_index_pk(p));
        let offerings = offering_ids_of(&quote.quote)
            .into_iter()
            .map(|o| keys::open_quote_offering_index_pk(&o));
        prices.chain(offerings).collect()
    } else {
        BTreeSet::new()
    }
}

/// The quote item.
fn encode(tenant: &TenantId, stored: &StoredQuote) -> Result<Item, DynamoError> {
    let id = stored.id();
    let pk = keys::quote_pk(tenant, id);
    let quote = &stored.quote;
    let mut item = item::item_with_key(&pk, keys::QUOTE_SK);
    let body = item::to_body(quote, &pk)?;
    write_limits::quote(stored, item::body_text(&body)).map_err(DynamoError::Limit)?;
    item.insert(keys::BODY.into(), body);
    item.insert(GSI1PK.into(), s(keys::quotes_gsi1pk(tenant, id)));
    item.insert(GSI1SK.into(), s(keys::quotes_gsi1sk(quote.quote_date, id)));
    item.insert(VERSION.into(), n(stored.version));
    item.insert(
        APPROVAL_REQUIRED.into(),
        AttributeValue::Bool(stored.approval_required),
    );
    item.insert(PRICE_IDS.into(), item::string_list(&stored.price_ids));
    if let Some(state) = quote.state {
        item.insert(STATE.into(), s(state.as_str()));
    }
    if let Some(external_id) = &quote.external_id {
        item.insert(EXTERNAL_ID.into(), s(external_id.clone()));
    }
    let parties: BTreeSet<String> = quote.related_party.iter().map(|p| p.id.clone()).collect();
    if !parties.is_empty() {
        // A string set: `contains(party_ids, :p)` filters on it; sets cannot be empty.
        item.insert(
            PARTY_IDS.into(),
            AttributeValue::Ss(parties.into_iter().collect()),
        );
    }
    Ok(item)
}

/// A stored quote from its item.
pub(crate) fn decode(item: &Item) -> Result<StoredQuote, DynamoError> {
    let quote: Quote = item::body(item)?;
    Ok(StoredQuote {
        quote,
        version: item::get_n(item, VERSION)?,
        approval_required: item::get_bool(item, APPROVAL_REQUIRED),
        price_ids: item::get_string_list(item, PRICE_IDS),
    })
}

fn version_condition(expected: u64) -> Expr {
    Expr::new("#v = :expected")
        .name("#v", VERSION)
        .value(":expected", n(expected))
}

impl DynamoStore {
    /// Writes for the index items to add and remove. `before`/`after` hold unsharded keys
    /// ([`indexed_prices`]): an item is put in its shard; a removed one is deleted under the
    /// unsharded key when it is in `legacy` (written there by an older release), else in its
    /// shard. One delete per item either way: the transaction holds no more items than before
    /// the shards.
    fn index_writes(
        &self,
        tenant: &TenantId,
        quote_id: &str,
        (before, legacy): (&BTreeSet<String>, &BTreeSet<String>),
        after: &BTreeSet<String>,
    ) -> Result<Vec<TransactWriteItem>, DynamoError> {
        let sk = keys::open_quote_index_sk(tenant, quote_id);
        let mut writes = Vec::new();
        for index_pk in after.difference(before) {
            let mut entry =
                item::item_with_key(&keys::open_quote_index_item_pk(index_pk, &sk), &sk);
            entry.insert(open_quotes::TENANT.into(), s(tenant.as_str()));
            entry.insert(open_quotes::QUOTE_ID.into(), s(quote_id));
            entry.insert(open_quotes::INDEX_KEY.into(), s(index_pk.as_str()));
            writes.push(put_write(&self.table, entry, None)?);
        }
        for index_pk in before.difference(after) {
            let pk = if legacy.contains(index_pk) {
                index_pk.clone()
            } else {
                keys::open_quote_index_item_pk(index_pk, &sk)
            };
            writes.push(delete_write(&self.table, item::key(pk, sk.clone()), None)?);
        }
        Ok(writes)
    }

    /// Which of `before`'s index items leaving for `after` are under their unsharded key
    /// ([`DynamoStore::legacy_index_items`]), for [`Self::index_writes`].
    async fn legacy_removed(
        &self,
        tenant: &TenantId,
        quote_id: &str,
        before: &BTreeSet<String>,
        after: &BTreeSet<String>,
    ) -> Result<BTreeSet<String>, DynamoError> {
        let removed = before.difference(after).cloned().collect();
        let sk = keys::open_quote_index_sk(tenant, quote_id);
        self.legacy_index_items(&removed, &sk).await
    }

    fn event_writes(&self, events: &[OutboxEvent]) -> Result<Vec<TransactWriteItem>, DynamoError> {
        event_puts(&self.table, events)
    }

    /// The stored quote, read strongly consistent (before a conditional write).
    async fn current(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<StoredQuote>, StoreError> {
        let key = item::key(keys::quote_pk(tenant, id), keys::QUOTE_SK);
        let item = self.get_item(key, true).await?;
        Ok(item.as_ref().map(decode).transpose()?)
    }

    /// The stored quote if it is at `expected_version`; else [`StoreError::VersionConflict`]
    /// (a missing quote too).
    async fn current_at(
        &self,
        tenant: &TenantId,
        id: &str,
        expected_version: u64,
    ) -> Result<StoredQuote, StoreError> {
        match self.current(tenant, id).await? {
            Some(old) if old.version == expected_version => Ok(old),
            _ => Err(StoreError::VersionConflict),
        }
    }

    /// Replaces `old` with `quote` in one transaction, conditional on the stored version
    /// being `old.version`; `old` decides which index items to remove.
    async fn replace(
        &self,
        tenant: &TenantId,
        old: &StoredQuote,
        quote: &StoredQuote,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let condition = version_condition(old.version);
        let before = indexed_prices(old);
        let legacy = self
            .legacy_removed(tenant, quote.id(), &before, &indexed_prices(quote))
            .await?;
        let writes = self.quote_writes(tenant, quote, condition, (&before, &legacy), events)?;
        self.quote_transaction(writes, StoreError::VersionConflict)
            .await
    }

    /// The writes of storing `quote` under `condition`: the quote item first, then its
    /// events and the open-quote index items moving from `old_prices` (those under their
    /// unsharded key in the second set) to its prices.
    fn quote_writes(
        &self,
        tenant: &TenantId,
        quote: &StoredQuote,
        condition: Expr,
        old_prices: (&BTreeSet<String>, &BTreeSet<String>),
        events: &[OutboxEvent],
    ) -> Result<Vec<TransactWriteItem>, DynamoError> {
        let mut writes = vec![put_write(
            &self.table,
            encode(tenant, quote)?,
            Some(condition),
        )?];
        writes.extend(self.event_writes(events)?);
        writes.extend(self.index_writes(tenant, quote.id(), old_prices, &indexed_prices(quote))?);
        Ok(writes)
    }

    /// Runs a quote transaction whose first write is the quote item.
    async fn quote_transaction(
        &self,
        writes: Vec<TransactWriteItem>,
        on_quote_condition: StoreError,
    ) -> Result<(), StoreError> {
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(TransactError::Conditions(failed)) if failed.contains(&0) => {
                Err(on_quote_condition)
            }
            Err(TransactError::Conditions(positions)) => {
                Err(DynamoError::DuplicateEvent { positions }.into())
            }
            Err(TransactError::Other(e)) => Err(e.into()),
        }
    }
}

#[async_trait]
impl QuoteStore for DynamoStore {
    #[tracing::instrument(skip_all, fields(tenant = %tenant, quote_id = quote.id()), err)]
    async fn insert(
        &self,
        tenant: &TenantId,
        quote: &StoredQuote,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let absent = Expr::new("attribute_not_exists(pk)");
        let none = BTreeSet::new();
        let writes = self.quote_writes(tenant, quote, absent, (&none, &none), events)?;
        self.quote_transaction(writes, StoreError::AlreadyExists)
            .await
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant, quote_id = id), err)]
    async fn get(&self, tenant: &TenantId, id: &str) -> Result<Option<StoredQuote>, StoreError> {
        let key = item::key(keys::quote_pk(tenant, id), keys::QUOTE_SK);
        let item = self.get_item(key, false).await?;
        Ok(item.as_ref().map(decode).transpose()?)
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant, quote_id = quote.id()), err)]
    async fn update(
        &self,
        tenant: &TenantId,
        quote: &StoredQuote,
        expected_version: u64,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let old = self
            .current_at(tenant, quote.id(), expected_version)
            .await?;
        self.replace(tenant, &old, quote, events).await
    }

    #[tracing::instrument(skip_all, fields(keys = keys.len()), err)]
    async fn get_many(
        &self,
        keys: &[(TenantId, String)],
    ) -> Result<Vec<Option<StoredQuote>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let unique: BTreeSet<String> = keys
            .iter()
            .map(|(tenant, id)| keys::quote_pk(tenant, id))
            .collect();
        let requested = unique
            .iter()
            .map(|pk| item::key(pk.clone(), keys::QUOTE_SK))
            .collect();
        // Consistent, as `update` reads before writing: the caller writes on top of these.
        let items = self.batch_get_reading(requested, true).await?;
        let mut by_pk = std::collections::HashMap::with_capacity(items.len());
        for found in &items {
            let pk = item::get_s(found, keys::PK)?;
            by_pk.insert(pk.to_owned(), decode(found)?);
        }
        Ok(keys
            .iter()
            .map(|(tenant, id)| by_pk.get(&keys::quote_pk(tenant, id)).cloned())
            .collect())
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant, quote_id = quote.id()), err)]
    async fn update_from(
        &self,
        tenant: &TenantId,
        previous: &StoredQuote,
        quote: &StoredQuote,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        if previous.id() != quote.id() {
            return Err(StoreError::VersionConflict);
        }
        // No re-read: the version condition in the transaction proves `previous` is what is
        // stored, so its index entries are the ones to remove.
        self.replace(tenant, previous, quote, events).await
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant, quote_id = quote.id(), order_id = order.id()), err)]
    async fn accept(
        &self,
        tenant: &TenantId,
        quote: &StoredQuote,
        expected_version: u64,
        order: &StoredOrder,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let old = self
            .current_at(tenant, quote.id(), expected_version)
            .await?;
        let mut writes = vec![
            put_write(
                &self.table,
                encode(tenant, quote)?,
                Some(version_condition(expected_version)),
            )?,
            put_write(
                &self.table,
                orders::encode_new(tenant, order)?,
                Some(Expr::new("attribute_not_exists(pk)")),
            )?,
        ];
        writes.extend(self.event_writes(events)?);
        let (before, after) = (indexed_prices(&old), indexed_prices(quote));
        let legacy = self
            .legacy_removed(tenant, quote.id(), &before, &after)
            .await?;
        writes.extend(self.index_writes(tenant, quote.id(), (&before, &legacy), &after)?);
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(TransactError::Conditions(failed)) if failed.contains(&0) => {
                Err(StoreError::VersionConflict)
            }
            Err(TransactError::Conditions(failed)) if failed.contains(&1) => {
                Err(StoreError::AlreadyExists)
            }
            Err(TransactError::Conditions(positions)) => {
                Err(DynamoError::DuplicateEvent { positions }.into())
            }
            Err(TransactError::Other(e)) => Err(e.into()),
        }
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant, quote_id = id), err)]
    async fn delete(
        &self,
        tenant: &TenantId,
        id: &str,
        expected_version: u64,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let old = self.current_at(tenant, id, expected_version).await?;
        let key = item::key(keys::quote_pk(tenant, id), keys::QUOTE_SK);
        let condition = version_condition(expected_version);
        let mut writes = vec![delete_write(&self.table, key, Some(condition))?];
        writes.extend(self.event_writes(events)?);
        let (before, after) = (indexed_prices(&old), BTreeSet::new());
        let legacy = self.legacy_removed(tenant, id, &before, &after).await?;
        writes.extend(self.index_writes(tenant, id, (&before, &legacy), &after)?);
        self.quote_transaction(writes, StoreError::VersionConflict)
            .await
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant), err)]
    async fn list(
        &self,
        tenant: &TenantId,
        filter: &QuoteFilter,
        page: Page,
    ) -> Result<Listing<StoredQuote>, StoreError> {
        Ok(self.list_quotes(tenant, filter, page).await?)
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant), err)]
    async fn scan(
        &self,
        tenant: &TenantId,
        filter: &QuoteFilter,
        scan: Scan,
    ) -> Result<Scanned<StoredQuote>, StoreError> {
        Ok(self.scan_quotes(tenant, filter, &scan).await?)
    }
}
