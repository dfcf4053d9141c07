//! `GET /quote` on DynamoDB: Queries of the tenant's listing partitions on `gsi1` (the write
//! shards `T#<tenant>#QUOTES#<n>` and the unsharded key of older releases, sort key
//! `<quoteDate>#<id>`, read newest first and merged); the `quoteDate` range is part of the key
//! condition, the other filters are a `FilterExpression` (filtered items are still read and
//! paid for). `X-Total-Count` is a `Select=COUNT` Query of each partition with the same
//! condition and filter. Offset paging reads every entry before the offset (keys only): cost
//! grows with the offset; a cursor ([`super::cursor`]) does not.

use q2c_service::context::TenantId;
use q2c_service::ports::{Listing, Page, QuoteFilter, StoredQuote};

use q2c_service::listing::{Scan, Scanned};

use super::DynamoStore;
use super::cursor::{ScanSpec, SortKey};
use super::item::s;
use super::keys::{self, GSI1};
use super::query::QuerySpec;
use super::quotes::{EXTERNAL_ID, PARTY_IDS, STATE, decode};
use crate::error::DynamoError;

/// The query of `filter` on one of a tenant's listing partitions (`:pk`, set per
/// partition), newest first.
fn spec(filter: &QuoteFilter) -> QuerySpec {
    let mut key_condition = String::from("gsi1pk = :pk");
    let mut spec = QuerySpec::new(Some(GSI1), "");
    // `<date>#<id>` >= `<gte>` holds exactly for dates >= gte; `< <lt>` for dates < lt.
    // Undated quotes (`#<id>`) sort below "0", so any date bound excludes them, as in SQL.
    match (filter.quote_date_gte, filter.quote_date_lt) {
        (Some(gte), Some(lt)) => {
            key_condition.push_str(" AND gsi1sk BETWEEN :from AND :to");
            spec = spec
                .value(":from", s(keys::sortable_time(gte)))
                .value(":to", s(keys::sortable_time(lt)));
        }
        (Some(gte), None) => {
            key_condition.push_str(" AND gsi1sk >= :from");
            spec = spec.value(":from", s(keys::sortable_time(gte)));
        }
        (None, Some(lt)) => {
            key_condition.push_str(" AND gsi1sk BETWEEN :from AND :to");
            spec = spec
                .value(":from", s("0"))
                .value(":to", s(keys::sortable_time(lt)));
        }
        (None, None) => {}
    }
    if let Some(state) = filter.state {
        spec = spec.and_filter(
            "#state = :state",
            ("#state", STATE),
            (":state", s(state.as_str())),
        );
    }
    if let Some(external_id) = &filter.external_id {
        spec = spec.and_filter(
            "#external_id = :external_id",
            ("#external_id", EXTERNAL_ID),
            (":external_id", s(external_id.clone())),
        );
    }
    if let Some(party) = &filter.related_party_id {
        spec = spec.and_filter(
            "contains(#party_ids, :party)",
            ("#party_ids", PARTY_IDS),
            (":party", s(party.clone())),
        );
    }
    spec.key.text = key_condition;
    spec.forward = false;
    spec
}

impl DynamoStore {
    /// One page of the tenant's quotes matching `filter` and the total count.
    pub(crate) async fn list_quotes(
        &self,
        tenant: &TenantId,
        filter: &QuoteFilter,
        page: Page,
    ) -> Result<Listing<StoredQuote>, DynamoError> {
        let partitions = keys::quotes_listing_pks(tenant);
        self.offset_page_across(&spec(filter), &partitions, page, decode)
            .await
    }

    /// A cursor scan of the tenant's quotes matching `filter` ([`super::cursor`]): the date
    /// range bounds the segments' key conditions, the other filters stay filter expressions.
    pub(crate) async fn scan_quotes(
        &self,
        tenant: &TenantId,
        filter: &QuoteFilter,
        scan: &Scan,
    ) -> Result<Scanned<StoredQuote>, DynamoError> {
        let undated = QuoteFilter {
            quote_date_gte: None,
            quote_date_lt: None,
            ..filter.clone()
        };
        let table_key = |id: &str| (keys::quote_pk(tenant, id), keys::QUOTE_SK.to_owned());
        let listing = ScanSpec {
            base: spec(&undated),
            partitions: keys::quotes_listing_pks(tenant),
            sort: SortKey::Dated,
            from: filter.quote_date_gte.map(keys::sortable_time),
            to: filter.quote_date_lt.map(keys::sortable_time),
            table_key: &table_key,
        };
        self.scan_listing(&listing, scan, decode).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use q2c_model::tmf::QuoteState;
    use time::macros::datetime;

    #[test]
    fn a_date_range_is_a_key_condition_and_other_filters_a_filter_expression() {
        let filter = QuoteFilter {
            state: Some(QuoteState::Approved),
            related_party_id: Some("cust-1".into()),
            quote_date_gte: Some(datetime!(2026-01-01 0:00 UTC)),
            quote_date_lt: Some(datetime!(2026-02-01 0:00 UTC)),
            ..QuoteFilter::default()
        };
        let spec = spec(&filter);
        assert_eq!(spec.index, Some(GSI1));
        assert_eq!(
            spec.key.text,
            "gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to"
        );
        assert_eq!(
            spec.filter.as_deref(),
            Some("#state = :state AND contains(#party_ids, :party)")
        );
        assert_eq!(spec.key.values[":state"], s("approved"));
        assert!(!spec.forward);
    }

    #[test]
    fn no_filter_reads_the_whole_partition_without_a_filter_expression() {
        let spec = spec(&QuoteFilter::default());
        assert_eq!(spec.key.text, "gsi1pk = :pk");
        assert!(spec.filter.is_none());
    }
}
