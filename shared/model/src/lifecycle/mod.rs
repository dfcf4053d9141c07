//! Lifecycles as state machines: quote and quote item (TMF648 v4), product order and product
//! order item (TMF622 v4), and the quote state change with its side effects.

mod machine;

pub use machine::{IllegalTransition, PRODUCT_ORDER_ENTRY_STATES};

use time::{Duration, OffsetDateTime};

use crate::settings::TenantSettings;
use crate::tmf::{
    Authorization, Quote, QuoteItem, QuoteItemState, QuoteState, RelatedParty, TimePeriod,
};

/// Who performs a state change (the token subject).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// Subject identifier.
    pub id: String,
    /// Display name, when the token carries one.
    pub name: Option<String>,
}

/// Why a quote cannot change as asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LifecycleError {
    /// The quote state machine does not allow the move.
    #[error(transparent)]
    Illegal(IllegalTransition<QuoteState>),
    /// The quote can no longer be accepted: its `validFor` ended.
    #[error("the quote expired at {valid_until}")]
    Expired {
        /// End of the quote's validity.
        valid_until: OffsetDateTime,
    },
    /// The quote is approved or final, so only its state may change.
    #[error("a quote in state `{state}` cannot be updated")]
    NotUpdatable {
        /// The quote's state.
        state: QuoteState,
    },
}

/// The `validFor` of a quote created at `now`: `[now, now + default_validity_days)`.
pub fn new_quote_validity(settings: &TenantSettings, now: OffsetDateTime) -> TimePeriod {
    TimePeriod {
        start_date_time: Some(now),
        end_date_time: Some(now + Duration::days(i64::from(settings.default_validity_days))),
    }
}

/// Checks that the quote's content may be changed (a PATCH other than of `state`).
///
/// # Errors
/// [`LifecycleError::NotUpdatable`] when the quote is approved or final.
pub fn ensure_updatable(quote: &Quote) -> Result<(), LifecycleError> {
    let state = quote.state.unwrap_or(QuoteState::INITIAL);
    if state.is_updatable() {
        Ok(())
    } else {
        Err(LifecycleError::NotUpdatable { state })
    }
}

/// Moves the quote to `to`.
///
/// Validates the transition (a quote without a state is `inProgress`). On `approved` it pushes an
/// [`Authorization`] (name `quoteApproval`, state `approved`, `givenDate` now, the actor as
/// `approver`) and moves the `inProgress` and `pending` items to `approved` (a pending item
/// passes through `inProgress`, as the TMF648 item machine requires); on `accepted` it
/// requires `now` before the end of `validFor`; on `rejected` approved items become `rejected`;
/// on a final state it sets `effectiveQuoteCompletionDate` to `now`. Nothing changes on error.
///
/// # Errors
/// [`LifecycleError::Illegal`] for a move the TMF648 machine does not allow,
/// [`LifecycleError::Expired`] when accepting after `validFor` ended.
pub fn change_quote_state(
    quote: &mut Quote,
    to: QuoteState,
    actor: &Actor,
    now: OffsetDateTime,
) -> Result<(), LifecycleError> {
    let from = quote.state.unwrap_or(QuoteState::INITIAL);
    from.transition(to).map_err(LifecycleError::Illegal)?;
    if to == QuoteState::Accepted
        && let Some(valid_until) = quote.valid_for.and_then(|period| period.end_date_time)
        && now >= valid_until
    {
        return Err(LifecycleError::Expired { valid_until });
    }
    match to {
        QuoteState::Approved => {
            quote.authorization.push(approval(actor, now));
            for_each_item(&mut quote.quote_item, &mut |item| {
                let state = item.state.unwrap_or(QuoteItemState::INITIAL);
                if matches!(state, QuoteItemState::InProgress | QuoteItemState::Pending) {
                    item.state = Some(QuoteItemState::Approved);
                }
            });
        }
        QuoteState::Rejected => for_each_item(&mut quote.quote_item, &mut |item| {
            if item.state == Some(QuoteItemState::Approved) {
                item.state = Some(QuoteItemState::Rejected);
            }
        }),
        _ => {}
    }
    if to.is_final() {
        quote.effective_quote_completion_date = Some(now);
    }
    quote.state = Some(to);
    Ok(())
}

fn approval(actor: &Actor, now: OffsetDateTime) -> Authorization {
    Authorization {
        given_date: Some(now),
        name: Some("quoteApproval".to_owned()),
        state: Some("approved".to_owned()),
        approver: vec![RelatedParty {
            id: actor.id.clone(),
            name: actor.name.clone(),
            role: Some("approver".to_owned()),
            referred_type: Some("Individual".to_owned()),
            ..RelatedParty::default()
        }],
        ..Authorization::default()
    }
}

fn for_each_item(items: &mut [QuoteItem], f: &mut impl FnMut(&mut QuoteItem)) {
    for item in items {
        f(item);
        for_each_item(&mut item.quote_item, f);
    }
}

#[cfg(test)]
mod tests;
