//! The [`QuoteStore`] contract: round trip, uniqueness, optimistic locking, tenant
//! isolation, bulk reads (`get_many`) and updates from a known previous state
//! (`update_from`).

use std::sync::Arc;

use q2c_service::context::TenantId;
use q2c_service::ports::{Page, QuoteFilter, QuoteStore, StoreError, StoredQuote};
use time::Duration;

use crate::fixtures::{
    T0, assert_conflict, extensible_item, extensible_quote, stored_quote, tenant,
};

/// Runs every quote-store rule against `store`.
///
/// # Panics
/// When the store breaks a rule (the message names it) or fails.
pub async fn quote_store_contract(store: Arc<dyn QuoteStore>) {
    round_trip_keeps_the_whole_quote(&*store).await;
    unknown_fields_of_an_item_round_trip_as_json(&*store).await;
    duplicate_insert_is_refused(&*store).await;
    update_is_conditional_on_the_version(&*store).await;
    delete_is_conditional_on_the_version(&*store).await;
    tenants_cannot_see_each_others_quotes(&*store).await;
    get_many_answers_every_key_in_order(&*store).await;
    update_from_is_conditional_on_the_previous_version(&*store).await;
}

async fn round_trip_keeps_the_whole_quote(store: &dyn QuoteStore) {
    let t = tenant("qs-rt");
    let mut quote = stored_quote("q-1", T0);
    quote.price_ids = vec!["pop-1".to_owned(), "pop-2".to_owned()];
    assert_eq!(
        store.get(&t, "q-1").await.expect("get"),
        None,
        "no quote yet"
    );

    store.insert(&t, &quote, &[]).await.expect("insert");

    let read = store
        .get(&t, "q-1")
        .await
        .expect("get")
        .expect("quote stored");
    assert_eq!(
        read, quote,
        "quote, version, approval flag and price ids survive"
    );
    assert_eq!(
        read.quote.extensions.get("x-crm"),
        quote.quote.extensions.get("x-crm"),
        "unmodelled fields survive"
    );
    assert!(read.quote.extensions.contains_key("agreement"));
}

async fn unknown_fields_of_an_item_round_trip_as_json(store: &dyn QuoteStore) {
    let t = tenant("qs-ext");
    store
        .insert(&t, &extensible_quote("q-ext"), &[])
        .await
        .expect("insert");

    let read = store.get(&t, "q-ext").await.expect("get").expect("quote");
    let item = serde_json::to_value(&read.quote.quote_item[0]).expect("serialises");
    assert_eq!(
        item,
        extensible_item(),
        "an item's unknown fields, subtypes, characteristics and price types survive the store"
    );
}

async fn duplicate_insert_is_refused(store: &dyn QuoteStore) {
    let t = tenant("qs-dup");
    let first = stored_quote("q-1", T0);
    store.insert(&t, &first, &[]).await.expect("insert");
    let mut second = stored_quote("q-1", T0 + Duration::hours(1));
    second.quote.description = Some("second".to_owned());

    let result = store.insert(&t, &second, &[]).await;

    assert!(
        matches!(result, Err(StoreError::AlreadyExists)),
        "duplicate insert must be AlreadyExists, got {result:?}"
    );
    let kept = store.get(&t, "q-1").await.expect("get").expect("quote");
    assert_eq!(kept, first, "a refused insert changes nothing");
}

async fn update_is_conditional_on_the_version(store: &dyn QuoteStore) {
    let t = tenant("qs-upd");
    store
        .insert(&t, &stored_quote("q-1", T0), &[])
        .await
        .expect("insert");
    let v2 = with_version(stored_quote("q-1", T0), 2, "second");

    store.update(&t, &v2, 1, &[]).await.expect("update from v1");
    let stale = with_version(stored_quote("q-1", T0), 2, "stale writer");
    let conflict = store.update(&t, &stale, 1, &[]).await;

    assert_conflict(&conflict, "update with a stale version must conflict");
    let read = store.get(&t, "q-1").await.expect("get").expect("quote");
    assert_eq!(read, v2, "a conflicting update changes nothing");
    let missing = store
        .update(&t, &with_version(stored_quote("q-9", T0), 2, "x"), 1, &[])
        .await;
    assert_conflict(&missing, "updating a missing quote must conflict");
    assert_eq!(store.get(&t, "q-9").await.expect("get"), None, "no upsert");
}

async fn delete_is_conditional_on_the_version(store: &dyn QuoteStore) {
    let t = tenant("qs-del");
    store
        .insert(&t, &stored_quote("q-1", T0), &[])
        .await
        .expect("insert");
    store
        .update(&t, &with_version(stored_quote("q-1", T0), 2, "v2"), 1, &[])
        .await
        .expect("update");

    let stale = store.delete(&t, "q-1", 1, &[]).await;

    assert_conflict(&stale, "delete with a stale version must conflict");
    assert!(
        store.get(&t, "q-1").await.expect("get").is_some(),
        "still there"
    );
    store.delete(&t, "q-1", 2, &[]).await.expect("delete v2");
    assert_eq!(store.get(&t, "q-1").await.expect("get"), None, "gone");
    let again = store.delete(&t, "q-1", 2, &[]).await;
    assert_conflict(&again, "deleting a missing quote must conflict");
    let listed = store.list(&t, &QuoteFilter::default(), page()).await;
    assert_eq!(
        listed.expect("list").total,
        0,
        "a deleted quote is not listed"
    );
}

async fn tenants_cannot_see_each_others_quotes(store: &dyn QuoteStore) {
    let (a, b) = (tenant("qs-iso-a"), tenant("qs-iso-b"));
    let quote = stored_quote("q-1", T0);
    store.insert(&a, &quote, &[]).await.expect("insert in A");

    assert_eq!(
        store.get(&b, "q-1").await.expect("get"),
        None,
        "B cannot get A's quote"
    );
    let update = store
        .update(&b, &with_version(stored_quote("q-1", T0), 2, "B"), 1, &[])
        .await;
    assert_conflict(&update, "B cannot update A's quote");
    let delete = store.delete(&b, "q-1", 1, &[]).await;
    assert_conflict(&delete, "B cannot delete A's quote");
    let listed = store
        .list(&b, &QuoteFilter::default(), page())
        .await
        .expect("list B");
    assert_eq!(
        (listed.items.len(), listed.total),
        (0, 0),
        "B lists nothing of A"
    );
    assert_eq!(
        store.get(&a, "q-1").await.expect("get").as_ref(),
        Some(&quote),
        "A's quote is untouched"
    );

    let mut own = stored_quote("q-1", T0);
    own.quote.description = Some("B's own".to_owned());
    store
        .insert(&b, &own, &[])
        .await
        .expect("ids are per tenant");
    assert_eq!(store.get(&b, "q-1").await.expect("get"), Some(own));
    assert_eq!(store.get(&a, "q-1").await.expect("get"), Some(quote));
}

fn with_version(mut quote: StoredQuote, version: u64, description: &str) -> StoredQuote {
    quote.version = version;
    quote.quote.description = Some(description.to_owned());
    quote.approval_required = false;
    quote.price_ids = vec!["pop-3".to_owned()];
    quote
}

fn page() -> Page {
    Page {
        offset: 0,
        limit: 100,
    }
}

async fn get_many_answers_every_key_in_order(store: &dyn QuoteStore) {
    let (a, b) = (tenant("qs-many-a"), tenant("qs-many-b"));
    let first = stored_quote("q-1", T0);
    let second = with_version(stored_quote("q-2", T0), 1, "second");
    let mut other_tenant = stored_quote("q-1", T0);
    other_tenant.quote.description = Some("B's q-1".to_owned());
    store.insert(&a, &first, &[]).await.expect("insert");
    store.insert(&a, &second, &[]).await.expect("insert");
    store.insert(&b, &other_tenant, &[]).await.expect("insert");
    // More keys than one DynamoDB BatchGetItem takes (100), mostly missing, found ones
    // on both sides of the 100th, one key twice.
    let mut keys: Vec<(TenantId, String)> = (0..150)
        .map(|n| (a.clone(), format!("missing-{n}")))
        .collect();
    keys[3] = (a.clone(), "q-2".to_owned());
    keys[60] = (b.clone(), "q-1".to_owned());
    keys[61] = (b.clone(), "q-2".to_owned());
    keys[140] = (a.clone(), "q-1".to_owned());
    keys[149] = (a.clone(), "q-2".to_owned());

    let found = store.get_many(&keys).await.expect("get_many");

    assert_eq!(found.len(), keys.len(), "one answer per key");
    for (n, answer) in found.iter().enumerate() {
        let expected = match n {
            3 | 149 => Some(&second),
            60 => Some(&other_tenant),
            140 => Some(&first),
            _ => None,
        };
        assert_eq!(answer.as_ref(), expected, "answer {n} is for key {n}");
    }
    assert!(
        store.get_many(&[]).await.expect("no keys").is_empty(),
        "no keys, no answers"
    );
}

async fn update_from_is_conditional_on_the_previous_version(store: &dyn QuoteStore) {
    let t = tenant("qs-from");
    let v1 = stored_quote("q-1", T0);
    store.insert(&t, &v1, &[]).await.expect("insert");
    let v2 = with_version(stored_quote("q-1", T0), 2, "second");

    store
        .update_from(&t, &v1, &v2, &[])
        .await
        .expect("update from v1");
    assert_eq!(store.get(&t, "q-1").await.expect("get"), Some(v2.clone()));

    let stale = store
        .update_from(
            &t,
            &v1,
            &with_version(stored_quote("q-1", T0), 2, "stale"),
            &[],
        )
        .await;
    assert_conflict(&stale, "update from a stale previous must conflict");
    assert_eq!(
        store.get(&t, "q-1").await.expect("get"),
        Some(v2.clone()),
        "a conflicting update_from changes nothing"
    );

    let mut v3 = v2.clone();
    v3.version = 3;
    v3.quote.description = Some("third".to_owned());
    store
        .update_from(&t, &v2, &v3, &[])
        .await
        .expect("update from v2");
    assert_eq!(store.get(&t, "q-1").await.expect("get"), Some(v3));

    let gone = stored_quote("q-9", T0);
    let missing = store
        .update_from(
            &t,
            &gone,
            &with_version(stored_quote("q-9", T0), 2, "x"),
            &[],
        )
        .await;
    assert_conflict(&missing, "updating a missing quote must conflict");
    assert_eq!(store.get(&t, "q-9").await.expect("get"), None, "no upsert");
    let elsewhere = store
        .update_from(
            &tenant("qs-from-b"),
            &v2,
            &with_version(v2.clone(), 3, "B"),
            &[],
        )
        .await;
    assert_conflict(&elsewhere, "another tenant cannot update the quote");
}
