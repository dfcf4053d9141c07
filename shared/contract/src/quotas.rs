//! The [`OpenQuoteCounts`] contract: a tenant's open-quote count follows the quote events as
//! the relay marks them published ([`OutboxStore::mark_published`]), once per event.

use std::sync::Arc;

use q2c_model::tmf::QuoteState;
use q2c_service::context::TenantId;
use q2c_service::ports::{OutboxEvent, OutboxStore, QuoteStore, StoredQuote};
use q2c_service::quotas::OpenQuoteCounts;
use serde_json::json;

use crate::fixtures::{T0, event, stored_quote, tenant, unique};

/// A quote event whose body carries the quote's `state`, as the service writes them.
fn quote_event(t: &TenantId, quote: &StoredQuote, event_type: &str) -> OutboxEvent {
    let mut e = event(Some(t), quote.id(), event_type);
    e.body = json!({
        "eventId": e.event_id,
        "eventType": event_type,
        "event": {"quote": serde_json::to_value(&quote.quote).expect("quote JSON")}
    });
    e
}

fn with_state(quote: &StoredQuote, state: QuoteState) -> StoredQuote {
    let mut next = quote.clone();
    next.quote.state = Some(state);
    next.version += 1;
    next
}

async fn count(counts: &dyn OpenQuoteCounts, t: &TenantId) -> u64 {
    counts.open_quotes(t).await.expect("open quotes")
}

/// Runs every open-quote count rule against the stores.
///
/// # Panics
/// When a store breaks a rule (the message names it) or fails.
pub async fn open_quote_count_contract(
    quotes: Arc<dyn QuoteStore>,
    outbox: Arc<dyn OutboxStore>,
    counts: Arc<dyn OpenQuoteCounts>,
) {
    let (t, u) = (tenant("oqc-t"), tenant("oqc-u"));
    let (quotes, outbox, counts) = (&*quotes, &*outbox, &*counts);
    let mut created = Vec::new();
    let mut stored = Vec::new();
    for (tenant, n) in [(&t, 3), (&u, 1)] {
        for _ in 0..n {
            let quote = stored_quote(&format!("q-{}", unique()), T0);
            let e = quote_event(tenant, &quote, "QuoteCreateEvent");
            quotes
                .insert(tenant, &quote, std::slice::from_ref(&e))
                .await
                .expect("insert");
            created.push(e);
            stored.push(quote);
        }
    }
    assert_eq!(
        count(counts, &t).await,
        0,
        "nothing counted before the relay"
    );

    outbox
        .mark_published(&created[..2], T0)
        .await
        .expect("mark");
    assert_eq!(count(counts, &t).await, 2, "two creates published");
    outbox
        .mark_published(&created[..2], T0)
        .await
        .expect("mark again");
    assert_eq!(count(counts, &t).await, 2, "a repeated mark counts nothing");

    // q1 accepted (final), q2 approved (still open), q3 deleted while open.
    let accepted = with_state(&stored[0], QuoteState::Accepted);
    let closing = quote_event(&t, &accepted, "QuoteStateChangeEvent");
    quotes
        .update(&t, &accepted, 1, std::slice::from_ref(&closing))
        .await
        .expect("accept");
    let approved = with_state(&stored[1], QuoteState::Approved);
    let approving = quote_event(&t, &approved, "QuoteStateChangeEvent");
    let changing = quote_event(&t, &approved, "QuoteAttributeValueChangeEvent");
    quotes
        .update(&t, &approved, 1, &[changing.clone(), approving.clone()])
        .await
        .expect("approve");
    let deleting = quote_event(&t, &stored[2], "QuoteDeleteEvent");
    quotes
        .delete(&t, stored[2].id(), 1, std::slice::from_ref(&deleting))
        .await
        .expect("delete");
    let batch = [
        created[2].clone(),
        closing.clone(),
        changing,
        approving,
        deleting,
        created[3].clone(),
    ];
    outbox.mark_published(&batch, T0).await.expect("mark");
    assert_eq!(
        count(counts, &t).await,
        1,
        "3 created, 1 accepted, 1 deleted while open: the approved one is open"
    );
    assert_eq!(count(counts, &u).await, 1, "counts are per tenant");
    outbox.mark_published(&batch, T0).await.expect("mark again");
    assert_eq!(count(counts, &t).await, 1, "once per event");

    // Deleting a final quote closes nothing more.
    let gone = quote_event(&t, &accepted, "QuoteDeleteEvent");
    quotes
        .delete(&t, accepted.id(), 2, std::slice::from_ref(&gone))
        .await
        .expect("delete the accepted quote");
    outbox
        .mark_published(std::slice::from_ref(&gone), T0)
        .await
        .expect("mark");
    assert_eq!(count(counts, &t).await, 1, "a final quote was not counted");

    // A tenant nothing was counted for reads 0, also after closing a quote it never saw
    // open (opened before counts existed): never below 0.
    let w = tenant("oqc-w");
    assert_eq!(count(counts, &w).await, 0);
    let old = with_state(
        &stored_quote(&format!("q-{}", unique()), T0),
        QuoteState::Cancelled,
    );
    let orphan = quote_event(&w, &old, "QuoteStateChangeEvent");
    quotes
        .insert(&w, &old, std::slice::from_ref(&orphan))
        .await
        .expect("insert");
    outbox
        .mark_published(std::slice::from_ref(&orphan), T0)
        .await
        .expect("mark");
    assert_eq!(count(counts, &w).await, 0, "clamped at 0");
    let mut unknown = created[0].clone();
    unknown.event_id = unique();
    outbox
        .mark_published(std::slice::from_ref(&unknown), T0)
        .await
        .expect("mark an event the outbox does not have");
    assert_eq!(
        count(counts, &t).await,
        1,
        "an unknown event counts nothing"
    );
}
