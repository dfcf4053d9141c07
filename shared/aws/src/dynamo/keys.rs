//! Every key and index value of the single table, in one place (see "DynamoDB single-table
//! design" in `docs/architecture.md`). Times inside sort keys are UTC with nine fractional
//! digits, so byte order is time order.

use q2c_service::context::TenantId;
use q2c_service::ports::HubApi;
use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

/// Partition key attribute.
pub(crate) const PK: &str = "pk";
/// Sort key attribute.
pub(crate) const SK: &str = "sk";
/// First global secondary index (listings) and its key attributes.
pub(crate) const GSI1: &str = "gsi1";
pub(crate) const GSI1PK: &str = "gsi1pk";
pub(crate) const GSI1SK: &str = "gsi1sk";
/// Second global secondary index (products by party, idempotency expiry; the outbox of
/// releases before its own index, still read: [`OUTBOX_PENDING_GSI2`]).
pub(crate) const GSI2: &str = "gsi2";
pub(crate) const GSI2PK: &str = "gsi2pk";
pub(crate) const GSI2SK: &str = "gsi2sk";
/// The table's TTL attribute (epoch seconds). TTL only reclaims space, hours late: every
/// expiry that matters is also checked in a condition or filter.
pub(crate) const EXPIRES_AT: &str = "expires_at";
/// The resource as JSON text.
pub(crate) const BODY: &str = "body";

/// Sort-key-safe time: `2026-11-27T14:00:00.000000000Z`.
const SORTABLE: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z");

/// A time as a sortable string (UTC, fixed width for years 0000-9999).
pub(crate) fn sortable_time(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    // Formatting with a fixed description only fails for years outside 0..=9999, which no
    // quote or event has; the fallback still sorts correctly within the year 9999.
    utc.format(SORTABLE)
        .unwrap_or_else(|_| String::from("9999-12-31T23:59:59.999999999Z"))
}

/// Epoch seconds, as DynamoDB TTL wants them.
pub(crate) fn epoch_seconds(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

/// Epoch nanoseconds, for exact comparisons in conditions.
pub(crate) fn epoch_nanos(at: OffsetDateTime) -> i128 {
    at.unix_timestamp_nanos()
}

/// The quote item: `T#<tenant>#QUOTE#<id>` / `QUOTE`.
pub(crate) fn quote_pk(tenant: &TenantId, id: &str) -> String {
    format!("T#{tenant}#QUOTE#{id}")
}
pub(crate) const QUOTE_SK: &str = "QUOTE";

/// Write shards of a tenant's quote and order listings on `gsi1`: a quote's (or order's)
/// listing entry goes to shard `FNV-1a(id) mod 8`. Unsharded, a tenant taking half of 1,000
/// quote lifecycles/s wrote 4,500 WCU/s on `T#<tenant>#QUOTES` and 3,000 on
/// `T#<tenant>#ORDERS` (capacity model, `docs/capacity.md`), against 1,000 WCU/s per GSI
/// partition: 8 shards bring those to ~560 and ~375, room for one tenant to write 1,000
/// quotes/s. Readers pay: a listing page queries every shard and merges
/// ([`super::cursor`], `DynamoStore::offset_page_across`).
///
/// Changing the number re-homes entries, so readers would have to read the old shards too:
/// do not change it without that.
pub(crate) const LISTING_SHARDS: u32 = 8;

fn listing_shard(id: &str) -> u32 {
    u32::try_from(fnv1a(id) % u64::from(LISTING_SHARDS)).unwrap_or(0)
}

/// The `gsi1` listing partition of quote `id`: `T#<tenant>#QUOTES#<shard>`.
pub(crate) fn quotes_gsi1pk(tenant: &TenantId, id: &str) -> String {
    format!("T#{tenant}#QUOTES#{}", listing_shard(id))
}

/// Every `gsi1` partition a tenant's quote listing reads: the shards, and the unsharded
/// `T#<tenant>#QUOTES` of releases before them (an entry moves to its shard at the quote's
/// next write; the legacy partition can be dropped from this list once a `Select=COUNT`
/// Query of it returns 0 in every tenant).
pub(crate) fn quotes_listing_pks(tenant: &TenantId) -> Vec<String> {
    listing_pks(&format!("T#{tenant}#QUOTES"))
}

fn listing_pks(legacy: &str) -> Vec<String> {
    std::iter::once(legacy.to_owned())
        .chain((0..LISTING_SHARDS).map(|n| format!("{legacy}#{n}")))
        .collect()
}

/// A quote's listing sort key: `<quoteDate>#<id>`; quotes without a date get `#<id>`,
/// which sorts below every date (last when newest first, like SQL NULLs in DESC order).
pub(crate) fn quotes_gsi1sk(quote_date: Option<OffsetDateTime>, id: &str) -> String {
    match quote_date {
        Some(at) => format!("{}#{id}", sortable_time(at)),
        None => format!("#{id}"),
    }
}

/// The product order item: `T#<tenant>#ORDER#<id>` / `ORDER`.
pub(crate) fn order_pk(tenant: &TenantId, id: &str) -> String {
    format!("T#{tenant}#ORDER#{id}")
}
pub(crate) const ORDER_SK: &str = "ORDER";

/// The `gsi1` listing partition of order `id`: `T#<tenant>#ORDERS#<shard>`, sharded as
/// quotes are ([`LISTING_SHARDS`]; sort key as quotes: `<orderDate>#<id>`).
pub(crate) fn orders_gsi1pk(tenant: &TenantId, id: &str) -> String {
    format!("T#{tenant}#ORDERS#{}", listing_shard(id))
}

/// Every `gsi1` partition a tenant's order listing reads (as [`quotes_listing_pks`]).
pub(crate) fn orders_listing_pks(tenant: &TenantId) -> Vec<String> {
    listing_pks(&format!("T#{tenant}#ORDERS"))
}

/// The inventory product item: `T#<tenant>#PRODUCT#<id>` / `PRODUCT`.
pub(crate) fn product_pk(tenant: &TenantId, id: &str) -> String {
    format!("T#{tenant}#PRODUCT#{id}")
}
pub(crate) const PRODUCT_SK: &str = "PRODUCT";

/// The `gsi1` partition of one billing account's products (sort key `<startDate>#<id>`);
/// a product without an account is not on `gsi1`.
pub(crate) fn products_gsi1pk(tenant: &TenantId, billing_account: &str) -> String {
    format!("T#{tenant}#PRODUCTS#BA#{billing_account}")
}

/// The `gsi2` partition of one party's products (sort key `<startDate>#<id>`); a product
/// without a related party is not on `gsi2`.
pub(crate) fn products_party_gsi2pk(tenant: &TenantId, party: &str) -> String {
    format!("T#{tenant}#PRODUCTS#PARTY#{party}")
}

/// One open (non-final) quote using a price: `POPIDX#<priceId>` / `<tenant>#<quoteId>`.
pub(crate) fn open_quote_index_pk(price_id: &str) -> String {
    format!("POPIDX#{price_id}")
}
/// One open (non-final) quote holding an offering (an item, nested ones too):
/// `POIDX#<offeringId>` / `<tenant>#<quoteId>`, the same item shape as `POPIDX`.
pub(crate) fn open_quote_offering_index_pk(offering_id: &str) -> String {
    format!("POIDX#{offering_id}")
}
pub(crate) fn open_quote_index_sk(tenant: &TenantId, quote_id: &str) -> String {
    format!("{tenant}#{quote_id}")
}

/// Write shards of each open-quote index partition (`POPIDX#<priceId>`, `POIDX#<offeringId>`
/// above: the unsharded keys, now only read and deleted). Every open quote of a popular price
/// or offering writes its index item in (2 WCU, transactional) and out (2 WCU) of one key, so
/// unsharded they were hot: measured by the capacity model (`docs/capacity.md`, 2026-12-08)
/// at 1,000 quote lifecycles/s, 4,000 WCU/s on `POIDX#mobile-l` and on each popular
/// `POPIDX#…`, against 1,000 WCU/s per partition. 8 shards put ~500 WCU/s on each: half the
/// limit, headroom for the hash's unevenness and for a price twice as popular. Readers pay
/// for it: a page queries every shard (and the legacy key), `Limit` = page + 1 each.
///
/// Changing the number re-homes items (an item's shard is its sort key's hash modulo this),
/// so readers and deletes would then also need the old shards: do not change it without that.
pub(crate) const OPEN_QUOTE_INDEX_SHARDS: u32 = 8;

/// The partition of one index item: `<unsharded key>#<shard>` (`POPIDX#<priceId>#<n>`,
/// `POIDX#<offeringId>#<n>`), the shard FNV-1a of its sort key, so every price's and
/// offering's items of one quote spread alike and a quote's item never moves.
pub(crate) fn open_quote_index_item_pk(unsharded: &str, sk: &str) -> String {
    let shard = fnv1a(sk) % u64::from(OPEN_QUOTE_INDEX_SHARDS);
    open_quote_index_shard_pk(unsharded, u32::try_from(shard).unwrap_or(0))
}

/// One shard of an open-quote index partition: `<unsharded key>#<shard>`.
pub(crate) fn open_quote_index_shard_pk(unsharded: &str, shard: u32) -> String {
    format!("{unsharded}#{shard}")
}

/// Outbox event item: `OUTBOX#<eventId>` / `EVENT` (keyed by event id alone, so
/// `mark_published` needs nothing but the ids).
pub(crate) fn outbox_pk(event_id: &str) -> String {
    format!("OUTBOX#{event_id}")
}
pub(crate) const OUTBOX_SK: &str = "EVENT";

/// The outbox's own index: sparse (only outbox event items carry its keys) and `KEYS_ONLY`,
/// so an event entering it, moving from pending to published and leaving it writes an index
/// entry of its keys plus 100 bytes (one write unit) instead of a copy of the whole event (the
/// quote, up to ~400 KB; ~3 KB in the capacity workload). Pending keys [`outbox_pending_pk`] /
/// [`outbox_pending_sk`], published keys [`outbox_published_pk`] / [`outbox_published_sk`].
/// Readers fetch the items by key. Its projection must stay `KEYS_ONLY` (template-lint's
/// `index-projections` rule), and nothing else may use it.
pub(crate) const OUTBOX_INDEX: &str = "outbox";
/// Partition and sort key attributes of [`OUTBOX_INDEX`] (short: they are in every event item).
pub(crate) const OUTBOX_INDEX_PK: &str = "obpk";
pub(crate) const OUTBOX_INDEX_SK: &str = "obsk";

/// Write shards of the outbox's two index partitions (pending, published): every event
/// writes the pending key twice (into the index, out of it) and the published key once, so
/// unsharded they were the hottest keys of the design. Measured by the capacity model
/// (`docs/capacity.md`, 2026-12-07) at 1,000 quote lifecycles/s: 24,000 WCU/s on
/// `OUTBOX#PENDING`, 12,000 on `OUTBOX#PUBLISHED`, against 1,000 WCU/s per GSI partition
/// (and a throttled GSI back-pressures the base table's writes). 32 shards put
/// 24,000 / 32 = 750 WCU/s on each pending shard and 375 on each published one at that
/// rate: 25 % headroom below the partition limit for the hash's unevenness and bursts
/// (re-measured with the shards: 783 and 406 WCU/s per key, the longer key pushing some
/// events past a write unit). Since the entries are keys only ([`OUTBOX_INDEX`]) an event
/// writes one unit per entry whatever its size (~8,000 WCU/s on the pending family at that
/// rate, 250 per shard): the shards stay, for headroom and because re-homing is costly.
/// Readers pay for it: the relay's sweep queries every shard (plus the `gsi2` partitions of
/// older releases, below), a small Query each, every few minutes.
///
/// Changing the number re-homes events (an event's shard is its id's hash modulo this), so
/// a reader must then also read the old shards until they are empty: do not change it
/// without that.
pub(crate) const OUTBOX_SHARDS: u32 = 32;

/// The [`OUTBOX_INDEX`] partition of a pending event: `OUTBOX#PENDING#<shard>`.
pub(crate) fn outbox_pending_pk(shard: u32) -> String {
    format!("OUTBOX#PENDING#{shard}")
}

/// The [`OUTBOX_INDEX`] partition of a published (or parked) event:
/// `OUTBOX#PUBLISHED#<shard>`, for `purge_published`; the same shard as when it was pending.
pub(crate) fn outbox_published_pk(shard: u32) -> String {
    format!("OUTBOX#PUBLISHED#{shard}")
}

/// The outbox shard of an event (FNV-1a of its id, as [`open_quote_shard`]: stable across
/// processes and releases, spread evenly).
pub(crate) fn outbox_shard(event_id: &str) -> u32 {
    u32::try_from(fnv1a(event_id) % u64::from(OUTBOX_SHARDS)).unwrap_or(0)
}

// Releases before [`OUTBOX_INDEX`] wrote the same pending and published keys (sharded, and
// before that the unsharded ones below) on `gsi2` (`ALL` projection: the whole event copied
// into it and moved). Nothing writes them there any more; readers still read those
// partitions (one Query each) and a mark moves such an event to [`OUTBOX_INDEX`]'s published
// key, so that events an older release left pending are relayed after an upgrade. The `gsi2`
// reads can go once every deployment has run this release, `gsi2pk = OUTBOX#PENDING#<n>`
// and `OUTBOX#PENDING` are empty (a `Select=COUNT` Query of each; nothing refills them) and
// 7 days (the TTL) have passed for the published ones.

/// The unsharded pending partition on `gsi2` of releases before the outbox was sharded
/// (read as the comment above says).
pub(crate) const OUTBOX_PENDING_LEGACY: &str = "OUTBOX#PENDING";
/// The unsharded published partition on `gsi2` of those releases, still purged.
pub(crate) const OUTBOX_PUBLISHED_LEGACY: &str = "OUTBOX#PUBLISHED";

/// Sort key of a pending event: `<written>#<position in the write>#<eventId>`.
pub(crate) fn outbox_pending_sk(
    written: OffsetDateTime,
    position: usize,
    event_id: &str,
) -> String {
    format!("{}#{position:03}#{event_id}", sortable_time(written))
}

/// Sort key of a published event: `<published>#<eventId>`.
pub(crate) fn outbox_published_sk(published: OffsetDateTime, event_id: &str) -> String {
    format!("{}#{event_id}", sortable_time(published))
}

/// Catalog items: `PO#<id>` / `PO` and `POP#<id>` / `POP`.
pub(crate) fn offering_pk(id: &str) -> String {
    format!("PO#{id}")
}
pub(crate) const OFFERING_SK: &str = "PO";
pub(crate) const OFFERINGS_GSI1PK: &str = "CATALOG#PO";
pub(crate) fn price_pk(id: &str) -> String {
    format!("POP#{id}")
}
pub(crate) const PRICE_SK: &str = "POP";
pub(crate) const PRICES_GSI1PK: &str = "CATALOG#POP";
/// A price's `lastUpdate` in epoch nanoseconds (N): the order of fan-out changes.
pub(crate) const LAST_UPDATE_NS: &str = "last_update_ns";
/// `true` on a price tombstone (deleted by a catalog event; hidden from reads).
pub(crate) const DELETED: &str = "deleted";

/// Shards of a tenant's open-quote count (`q2c_service::quotas`): the relay moves one of
/// them per event, chosen by the event id, so a busy tenant's updates spread over this many
/// items (and partitions) and rarely meet in one transaction.
pub(crate) const OPEN_QUOTE_SHARDS: u32 = 8;

/// One shard of a tenant's open-quote count: `T#<tenant>#OPENQ#<shard>` / `COUNT`, number
/// attribute [`COUNT_N`].
pub(crate) fn open_quote_count_pk(tenant: &str, shard: u32) -> String {
    format!("T#{tenant}#OPENQ#{shard}")
}

/// The shard an event's count change goes to (FNV-1a of its id: stable, spread evenly).
pub(crate) fn open_quote_shard(event_id: &str) -> u32 {
    u32::try_from(fnv1a(event_id) % u64::from(OPEN_QUOTE_SHARDS)).unwrap_or(0)
}

/// 64-bit FNV-1a: stable across processes and releases, unlike `DefaultHasher`.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A tenant's subscription count on one hub: `T#<tenant>#HUBCOUNT#<api>` / `COUNT`, moved
/// in the transaction of every subscription create and delete (registrations are rare: no
/// hot key).
pub(crate) fn hub_count_pk(tenant: &TenantId, api: HubApi) -> String {
    format!("T#{tenant}#HUBCOUNT#{}", api.as_str())
}

/// The sort key of count items.
pub(crate) const COUNT_SK: &str = "COUNT";
/// The number attribute of count items.
pub(crate) const COUNT_N: &str = "n";

/// Hub subscriptions: `T#<tenant>#HUB#<api>` / `<id>`.
pub(crate) fn hub_pk(tenant: &TenantId, api: HubApi) -> String {
    format!("T#{tenant}#HUB#{}", api.as_str())
}

/// The `gsi1` partition of one API's subscriptions across tenants: `HUBS#<api>`, sort key
/// `<tenant>#<id>` (delivery of catalog events reads every tenant's).
pub(crate) fn hubs_gsi1pk(api: HubApi) -> String {
    format!("HUBS#{}", api.as_str())
}
pub(crate) fn hubs_gsi1sk(tenant: &TenantId, id: &str) -> String {
    format!("{tenant}#{id}")
}

/// Hub delivery record: `DELIVERY#<eventId>` / `<subscriber key>`; all subscribers of an
/// event are one partition, read with one Query.
pub(crate) fn delivery_pk(event_id: &str) -> String {
    format!("DELIVERY#{event_id}")
}

/// Idempotency record: `T#<tenant>#IDEM#<key>` / `IDEM`.
pub(crate) fn idempotency_pk(tenant: &TenantId, key: &str) -> String {
    format!("T#{tenant}#IDEM#{key}")
}
pub(crate) const IDEMPOTENCY_SK: &str = "IDEM";

/// Write shards of the idempotency expiry partition on `gsi2`: every API write touches it,
/// so it is spread over this many partition keys; purging queries each of them.
pub(crate) const IDEMPOTENCY_SHARDS: u32 = 8;

/// The `gsi2` expiry partition of one idempotency record.
pub(crate) fn idempotency_gsi2pk(tenant: &TenantId, key: &str) -> String {
    // FNV-1a: stable across processes and releases, unlike `DefaultHasher`.
    let hash = tenant
        .as_str()
        .bytes()
        .chain([b'#'])
        .chain(key.bytes())
        .fold(0x811c_9dc5_u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
    idempotency_shard_pk(hash % IDEMPOTENCY_SHARDS)
}

/// The `gsi2` partition key of one expiry shard.
pub(crate) fn idempotency_shard_pk(shard: u32) -> String {
    format!("IDEM#EXPIRY#{shard}")
}

/// Order dispatch record: `T#<tenant>#DISPATCH#<orderId>` / `DISPATCH`.
pub(crate) fn dispatch_pk(tenant: &TenantId, order_id: &str) -> String {
    format!("T#{tenant}#DISPATCH#{order_id}")
}
pub(crate) const DISPATCH_SK: &str = "DISPATCH";

/// Settings item: `SETTINGS#<tenant>` (or `SETTINGS#default`) / `SETTINGS`.
pub(crate) fn settings_pk(tenant: Option<&TenantId>) -> String {
    match tenant {
        Some(t) => format!("SETTINGS#{t}"),
        None => String::from("SETTINGS#default"),
    }
}
pub(crate) const SETTINGS_SK: &str = "SETTINGS";

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn sortable_times_are_utc_fixed_width_and_order_like_the_times() {
        let a = datetime!(2026-01-02 03:04:05.5 +02:00);
        let b = datetime!(2026-01-02 01:04:05.6 UTC);
        assert_eq!(sortable_time(a), "2026-01-02T01:04:05.500000000Z");
        assert!(sortable_time(a) < sortable_time(b));
    }

    #[test]
    fn undated_quotes_sort_below_every_dated_one() {
        let dated = quotes_gsi1sk(Some(datetime!(0001-01-01 0:00 UTC)), "a");
        assert!(quotes_gsi1sk(None, "zzz") < dated);
    }

    #[test]
    fn idempotency_shards_are_stable_and_in_range() {
        let tenant = TenantId::parse("acme").expect("valid tenant");
        let first = idempotency_gsi2pk(&tenant, "key-1");
        assert_eq!(first, idempotency_gsi2pk(&tenant, "key-1"));
        let shard: u32 = first
            .trim_start_matches("IDEM#EXPIRY#")
            .parse()
            .expect("numeric shard");
        assert!(shard < IDEMPOTENCY_SHARDS);
    }

    #[test]
    fn outbox_shards_are_stable_in_range_and_spread() {
        // Stable: pinned values (a change of hash would re-home every pending event).
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
        let id = "0b6f3d9e-2c1a-4f7e-9d35-6a8e2b1c4d70";
        assert_eq!(outbox_shard(id), outbox_shard(id));
        assert_eq!(
            outbox_shard(id),
            u32::try_from(fnv1a(id) % 32).expect("small")
        );
        assert_eq!(outbox_pending_pk(7), "OUTBOX#PENDING#7");
        assert_eq!(outbox_published_pk(7), "OUTBOX#PUBLISHED#7");
        // In range and spread: 3,200 ids fill every shard, none with more than twice its
        // share (100).
        let mut counts = [0u32; OUTBOX_SHARDS as usize];
        for i in 0..3_200 {
            let shard = outbox_shard(&format!("event-{i}"));
            assert!(shard < OUTBOX_SHARDS);
            counts[shard as usize] += 1;
        }
        assert!(counts.iter().all(|&c| c > 0 && c < 200), "{counts:?}");
        // The sharded keys never equal the legacy ones.
        assert!((0..OUTBOX_SHARDS).all(|s| outbox_pending_pk(s) != OUTBOX_PENDING_LEGACY));
    }

    #[test]
    fn open_quote_index_items_shard_by_their_sort_key() {
        let tenant = TenantId::parse("t1").expect("tenant");
        let sk = open_quote_index_sk(&tenant, "q-1");
        let price = open_quote_index_pk("p");
        let pk = open_quote_index_item_pk(&price, &sk);
        let shard = fnv1a("t1#q-1") % u64::from(OPEN_QUOTE_INDEX_SHARDS);
        assert_eq!(pk, format!("POPIDX#p#{shard}"));
        // The same quote lands in the same shard of every price and offering.
        let offering = open_quote_offering_index_pk("o");
        assert_eq!(
            open_quote_index_item_pk(&offering, &sk),
            format!("POIDX#o#{shard}")
        );
        // Spread: 800 quotes fill every shard, none with more than twice its share.
        let mut counts = [0_u32; OPEN_QUOTE_INDEX_SHARDS as usize];
        for i in 0..800 {
            let pk =
                open_quote_index_item_pk(&price, &open_quote_index_sk(&tenant, &format!("q-{i}")));
            let n: usize = pk
                .rsplit('#')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("shard");
            counts[n] += 1;
        }
        assert!(counts.iter().all(|&c| c > 0 && c <= 200), "{counts:?}");
    }
}
