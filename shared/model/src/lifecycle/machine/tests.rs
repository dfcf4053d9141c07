//! Every legal and every illegal transition of each machine, checked against tables written
//! out here independently of the macro input.

use super::*;

fn check_all<S>(
    all: &[S],
    legal: &[(S, S)],
    can: impl Fn(S, S) -> bool,
    transition: impl Fn(S, S) -> Result<S, IllegalTransition<S>>,
) where
    S: Copy + PartialEq + std::fmt::Debug + std::fmt::Display,
{
    for &from in all {
        for &to in all {
            let expected = legal.contains(&(from, to));
            assert_eq!(can(from, to), expected, "{from:?} -> {to:?}");
            match transition(from, to) {
                Ok(state) => {
                    assert!(expected, "{from:?} -> {to:?} should be illegal");
                    assert_eq!(state, to);
                }
                Err(err) => {
                    assert!(!expected, "{from:?} -> {to:?} should be legal");
                    assert_eq!(err, IllegalTransition { from, to });
                }
            }
        }
    }
}

#[test]
fn quote_transitions_are_exactly_those_of_tmf648_v4() {
    use QuoteState::*;
    let legal = [
        (InProgress, Pending),
        (Pending, InProgress),
        (InProgress, Cancelled),
        (Pending, Cancelled),
        (InProgress, Approved),
        (Approved, Accepted),
        (Approved, Rejected),
    ];
    assert_eq!(QuoteState::ALL.len(), 6);
    check_all(
        QuoteState::ALL,
        &legal,
        QuoteState::can_transition_to,
        QuoteState::transition,
    );
}

#[test]
fn quote_final_and_updatable_states_follow_tmf648() {
    use QuoteState::*;
    assert_eq!(QuoteState::INITIAL, InProgress);
    for state in QuoteState::ALL {
        assert_eq!(
            state.is_final(),
            matches!(state, Accepted | Rejected | Cancelled)
        );
        assert_eq!(state.is_updatable(), matches!(state, InProgress | Pending));
        assert_eq!(
            state.is_final(),
            state.next_states().is_empty(),
            "{state:?}"
        );
    }
}

#[test]
fn quote_item_transitions_are_exactly_those_of_tmf648_v4() {
    use QuoteItemState::*;
    let legal = [
        (InProgress, Pending),
        (Pending, InProgress),
        (InProgress, Approved),
        (Approved, Rejected),
    ];
    check_all(
        QuoteItemState::ALL,
        &legal,
        QuoteItemState::can_transition_to,
        QuoteItemState::transition,
    );
    assert_eq!(QuoteItemState::INITIAL, InProgress);
    for state in QuoteItemState::ALL {
        assert_eq!(state.is_final(), *state == Rejected);
        assert_eq!(state.is_updatable(), matches!(state, InProgress | Pending));
    }
}

fn order_legal() -> Vec<(ProductOrderState, ProductOrderState)> {
    use ProductOrderState::*;
    vec![
        (Acknowledged, InProgress),
        (Acknowledged, Pending),
        (InProgress, Pending),
        (Pending, InProgress),
        (Pending, Cancelled),
        (InProgress, AssessingCancellation),
        (Pending, AssessingCancellation),
        (Held, AssessingCancellation),
        (AssessingCancellation, InProgress),
        (AssessingCancellation, Pending),
        (AssessingCancellation, Held),
        (AssessingCancellation, PendingCancellation),
        (PendingCancellation, Cancelled),
        (InProgress, Held),
        (Held, InProgress),
        (Held, Cancelled),
        (InProgress, Completed),
        (InProgress, Failed),
        (InProgress, Partial),
    ]
}

#[test]
fn product_order_transitions_are_exactly_those_of_the_tmf622_diagram() {
    check_all(
        ProductOrderState::ALL,
        &order_legal(),
        ProductOrderState::can_transition_to,
        ProductOrderState::transition,
    );
    use ProductOrderState::*;
    assert_eq!(ProductOrderState::ALL.len(), 11);
    assert_eq!(ProductOrderState::INITIAL, Acknowledged);
    assert_eq!(PRODUCT_ORDER_ENTRY_STATES, [Acknowledged, Rejected]);
    for state in ProductOrderState::ALL {
        let fin = matches!(state, Completed | Failed | Partial | Cancelled | Rejected);
        assert_eq!(state.is_final(), fin, "{state:?}");
        assert_eq!(state.is_updatable(), !fin, "{state:?}");
        assert_eq!(
            state.is_final(),
            state.next_states().is_empty(),
            "{state:?}"
        );
    }
}

#[test]
fn product_order_item_transitions_are_the_order_ones_without_partial() {
    use ProductOrderItemState as I;
    use ProductOrderState as O;
    let map = |s: O| -> Option<I> {
        Some(match s {
            O::Acknowledged => I::Acknowledged,
            O::Rejected => I::Rejected,
            O::Pending => I::Pending,
            O::Held => I::Held,
            O::InProgress => I::InProgress,
            O::Cancelled => I::Cancelled,
            O::Completed => I::Completed,
            O::Failed => I::Failed,
            O::Partial => return None,
            O::AssessingCancellation => I::AssessingCancellation,
            O::PendingCancellation => I::PendingCancellation,
        })
    };
    let legal: Vec<(I, I)> = order_legal()
        .into_iter()
        .filter_map(|(a, b)| Some((map(a)?, map(b)?)))
        .collect();
    assert_eq!(I::ALL.len(), 10);
    check_all(I::ALL, &legal, I::can_transition_to, I::transition);
    for state in I::ALL {
        assert_eq!(
            state.is_final(),
            state.next_states().is_empty(),
            "{state:?}"
        );
    }
}

#[test]
fn an_illegal_transition_names_both_states_in_its_message_by_their_wire_names() {
    let err = QuoteState::Accepted
        .transition(QuoteState::InProgress)
        .expect_err("accepted is final");
    assert_eq!(
        err.to_string(),
        "illegal transition from accepted to inProgress"
    );
    assert_eq!(QuoteState::Accepted.next_states_text(), "none: it is final");
    assert_eq!(
        QuoteState::InProgress.next_states_text(),
        QuoteState::InProgress
            .next_states()
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert_eq!(ProductOrderState::InProgress.to_string(), "inProgress");
}

/// `serde_json`'s name of `state`: what the TMF enums' `rename_all` makes of the variant.
fn serde_name<S: serde::Serialize>(state: S) -> String {
    serde_json::to_value(state)
        .expect("a state serializes")
        .as_str()
        .expect("as a string")
        .to_owned()
}

#[test]
fn every_state_name_is_the_one_serde_writes() {
    for &state in QuoteState::ALL {
        assert_eq!(state.as_str(), serde_name(state));
    }
    for &state in QuoteItemState::ALL {
        assert_eq!(state.as_str(), serde_name(state));
    }
    for &state in ProductOrderState::ALL {
        assert_eq!(state.as_str(), serde_name(state));
    }
    for &state in ProductOrderItemState::ALL {
        assert_eq!(state.as_str(), serde_name(state));
    }
}
