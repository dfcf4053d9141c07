//! Tests of `change_quote_state` and its side effects.

use time::macros::datetime;

use super::*;

const NOW: OffsetDateTime = datetime!(2026-03-10 12:00 UTC);

fn quote_in(state: QuoteState) -> Quote {
    Quote {
        id: Some("q-1".into()),
        state: Some(state),
        valid_for: Some(TimePeriod {
            start_date_time: Some(datetime!(2026-03-01 00:00 UTC)),
            end_date_time: Some(datetime!(2026-03-31 00:00 UTC)),
        }),
        quote_item: vec![QuoteItem {
            id: Some("1".into()),
            state: Some(QuoteItemState::InProgress),
            quote_item: vec![QuoteItem {
                id: Some("1.1".into()),
                ..QuoteItem::default()
            }],
            ..QuoteItem::default()
        }],
        ..Quote::default()
    }
}

fn alice() -> Actor {
    Actor {
        id: "alice".into(),
        name: Some("Alice".into()),
    }
}

#[test]
fn approving_records_the_approver_and_when_and_approves_the_items() {
    let mut quote = quote_in(QuoteState::InProgress);

    change_quote_state(&mut quote, QuoteState::Approved, &alice(), NOW).expect("legal");

    assert_eq!(quote.state, Some(QuoteState::Approved));
    let auth = &quote.authorization[0];
    assert_eq!(auth.name.as_deref(), Some("quoteApproval"));
    assert_eq!(auth.state.as_deref(), Some("approved"));
    assert_eq!(auth.given_date, Some(NOW));
    assert_eq!(auth.approver[0].id, "alice");
    assert_eq!(auth.approver[0].name.as_deref(), Some("Alice"));
    assert_eq!(auth.approver[0].role.as_deref(), Some("approver"));
    assert_eq!(
        auth.approver[0].referred_type.as_deref(),
        Some("Individual")
    );
    assert_eq!(quote.quote_item[0].state, Some(QuoteItemState::Approved));
    assert_eq!(
        quote.quote_item[0].quote_item[0].state,
        Some(QuoteItemState::Approved)
    );
    assert_eq!(quote.effective_quote_completion_date, None);
}

#[test]
fn accepting_within_valid_for_completes_the_quote() {
    let mut quote = quote_in(QuoteState::Approved);

    change_quote_state(&mut quote, QuoteState::Accepted, &alice(), NOW).expect("valid");

    assert_eq!(quote.state, Some(QuoteState::Accepted));
    assert_eq!(quote.effective_quote_completion_date, Some(NOW));
}

#[test]
fn accepting_after_valid_for_is_refused_and_changes_nothing() {
    let mut quote = quote_in(QuoteState::Approved);
    let before = quote.clone();
    let late = datetime!(2026-03-31 00:00 UTC);

    let err =
        change_quote_state(&mut quote, QuoteState::Accepted, &alice(), late).expect_err("expired");

    assert_eq!(err, LifecycleError::Expired { valid_until: late });
    assert_eq!(quote, before);
}

#[test]
fn rejecting_an_approved_quote_rejects_its_approved_items() {
    let mut quote = quote_in(QuoteState::InProgress);
    change_quote_state(&mut quote, QuoteState::Approved, &alice(), NOW).expect("legal");

    change_quote_state(&mut quote, QuoteState::Rejected, &alice(), NOW).expect("legal");

    assert_eq!(quote.quote_item[0].state, Some(QuoteItemState::Rejected));
    assert_eq!(
        quote.quote_item[0].quote_item[0].state,
        Some(QuoteItemState::Rejected)
    );
    assert_eq!(quote.effective_quote_completion_date, Some(NOW));
}

#[test]
fn cancelling_a_pending_quote_completes_it_and_leaves_items_alone() {
    let mut quote = quote_in(QuoteState::Pending);

    change_quote_state(&mut quote, QuoteState::Cancelled, &alice(), NOW).expect("legal");

    assert_eq!(quote.state, Some(QuoteState::Cancelled));
    assert_eq!(quote.quote_item[0].state, Some(QuoteItemState::InProgress));
    assert_eq!(quote.effective_quote_completion_date, Some(NOW));
}

#[test]
fn every_illegal_quote_transition_is_a_typed_error_that_changes_nothing() {
    for &from in QuoteState::ALL {
        for &to in QuoteState::ALL {
            let mut quote = quote_in(from);
            let before = quote.clone();
            let result = change_quote_state(&mut quote, to, &alice(), NOW);
            if from.can_transition_to(to) {
                assert!(result.is_ok(), "{from:?} -> {to:?}");
                assert_eq!(quote.state, Some(to));
            } else {
                assert_eq!(
                    result,
                    Err(LifecycleError::Illegal(IllegalTransition { from, to }))
                );
                assert_eq!(quote, before);
            }
        }
    }
}

#[test]
fn a_quote_without_state_is_in_progress() {
    let mut quote = Quote::default();

    change_quote_state(&mut quote, QuoteState::Pending, &alice(), NOW).expect("legal");

    assert_eq!(quote.state, Some(QuoteState::Pending));
}

#[test]
fn only_in_progress_and_pending_quotes_are_updatable() {
    for &state in QuoteState::ALL {
        let result = ensure_updatable(&quote_in(state));
        if matches!(state, QuoteState::InProgress | QuoteState::Pending) {
            assert_eq!(result, Ok(()));
        } else {
            assert_eq!(result, Err(LifecycleError::NotUpdatable { state }));
        }
    }
}

#[test]
fn a_new_quote_is_valid_for_the_tenants_default_days() {
    let period = new_quote_validity(&TenantSettings::default(), NOW);

    assert_eq!(period.start_date_time, Some(NOW));
    assert_eq!(period.end_date_time, Some(datetime!(2026-04-09 12:00 UTC)));
}

#[test]
fn approving_moves_pending_items_to_approved_and_leaves_rejected_ones() {
    let mut quote = quote_in(QuoteState::InProgress);
    quote.quote_item[0].state = Some(QuoteItemState::Pending);
    quote.quote_item.push(QuoteItem {
        id: Some("2".into()),
        state: Some(QuoteItemState::Rejected),
        ..QuoteItem::default()
    });

    change_quote_state(&mut quote, QuoteState::Approved, &alice(), NOW).expect("legal");

    assert_eq!(quote.quote_item[0].state, Some(QuoteItemState::Approved));
    assert_eq!(quote.quote_item[1].state, Some(QuoteItemState::Rejected));
}
