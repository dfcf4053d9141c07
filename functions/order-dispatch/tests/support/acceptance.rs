//! A quote accepted into an order as the quote API accepts it, for the moto tests and the
//! dispatch benchmark (`#[path]`-included by both; the store each writes it to differs).

use q2c_model::ordering::order_from_quote;
use q2c_model::tmf::{Quote, QuoteState, RelatedParty};
use q2c_service::context::TenantId;
use q2c_service::orders::{Dispatch, OrderEventType, StoredOrder, order_event};
use q2c_service::ports::{OutboxEvent, StoredQuote};
use time::OffsetDateTime;

/// What accepting quote `q-<order_id>` writes: the quote as first stored (in progress,
/// version 1), the same quote accepted (version 2), order `order_id` and its
/// `ProductOrderCreateEvent`.
pub struct Acceptance {
    pub quote: StoredQuote,
    pub accepted: StoredQuote,
    pub order: StoredOrder,
    pub created: OutboxEvent,
}

/// [`Acceptance`] of a fresh quote of customer `cust-1`: `quote` with its id, date, state and
/// party set.
pub fn acceptance(tenant: &TenantId, order_id: &str, quote: Quote) -> Acceptance {
    let now = OffsetDateTime::now_utc();
    let stored = StoredQuote {
        quote: Quote {
            id: Some(format!("q-{order_id}")),
            quote_date: Some(now),
            state: Some(QuoteState::InProgress),
            related_party: vec![RelatedParty {
                id: "cust-1".into(),
                role: Some("customer".into()),
                ..RelatedParty::default()
            }],
            ..quote
        },
        version: 1,
        approval_required: false,
        price_ids: Vec::new(),
    };
    let mut accepted = stored.clone();
    accepted.version = 2;
    accepted.quote.state = Some(QuoteState::Accepted);
    let order = StoredOrder {
        order: order_from_quote(&accepted.quote, order_id, now),
        version: 1,
        dispatch: Dispatch::new_order(),
    };
    let created = order_event(OrderEventType::Create, &order, tenant, None, now).expect("event");
    Acceptance {
        quote: stored,
        accepted,
        order,
        created,
    }
}
