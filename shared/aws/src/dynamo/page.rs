//! Listing pages within `maxPageBytes` (`q2c_model::limits::MAX_PAGE_BYTES`): a page holds
//! `limit` items or as many as fit in the budget (at least one), so that a page of large
//! quotes or orders stays far below Lambda's 6 MB response and the function's memory. The
//! items read only to be skipped by an offset lose their body as soon as they are known to be
//! skipped, so an offset does not hold their bodies either.

use std::cmp::Reverse;

use aws_sdk_dynamodb::types::AttributeValue;
use q2c_model::limits::MAX_PAGE_BYTES;

use super::item::Item;
use super::keys::{self, GSI1SK};

/// Bytes of an item's `body`.
pub(crate) fn body_len(item: &Item) -> usize {
    item.get(keys::BODY)
        .and_then(|v| v.as_s().ok())
        .map_or(0, String::len)
}

/// How many of `items` (in page order) a page returns: at most `limit`, and only as many as
/// fit in the byte budget, but always the first.
pub(crate) fn fitting(items: &[Item], limit: usize) -> usize {
    let mut bytes = 0usize;
    let mut count = 0;
    for item in items.iter().take(limit) {
        let size = body_len(item);
        if count > 0 && bytes + size > MAX_PAGE_BYTES.max() {
            break;
        }
        bytes += size;
        count += 1;
    }
    count
}

/// The items (in index order) a page after `offset` needs read: `offset + limit`, or fewer
/// once the items read past the offset exceed the byte budget.
pub(crate) fn needed(items: &[Item], offset: usize, limit: usize) -> usize {
    let past: &[Item] = items.get(offset..).unwrap_or_default();
    let fits = fitting(past, limit);
    if fits < past.len().min(limit) {
        offset + fits
    } else {
        offset.saturating_add(limit)
    }
}

/// `<date>#<id>` of a listing item: the date (empty when undated) and the id.
fn sort_parts(item: &Item) -> (&str, &str) {
    item.get(GSI1SK)
        .and_then(|v| v.as_s().ok())
        .and_then(|sk| sk.split_once('#'))
        .unwrap_or(("", ""))
}

/// Drops the bodies of items that an offset certainly skips: those of an index listing
/// ordered by date descending (ties by id, in any order) whose date is newer than the date of
/// the item at `offset` (or of the last item read, while fewer have been read): fewer than
/// `offset` items can be that new, and they come first whatever the order of ties.
pub(crate) fn drop_skipped_bodies(items: &mut [Item], offset: usize) {
    if offset == 0 || items.is_empty() {
        return;
    }
    let pivot_at = offset.min(items.len() - 1);
    let pivot = sort_parts(&items[pivot_at]).0.to_owned();
    for item in items.iter_mut().take(offset) {
        if sort_parts(item).0 > pivot.as_str() && item.contains_key(keys::BODY) {
            item.insert(keys::BODY.into(), AttributeValue::S(String::new()));
        }
    }
}

/// Sorts listing items as the port orders them: date descending, then id ascending.
pub(crate) fn sort_for_listing(items: &mut [Item]) {
    items.sort_by(|a, b| {
        let (date_a, id_a) = sort_parts(a);
        let (date_b, id_b) = sort_parts(b);
        (Reverse(date_a), id_a).cmp(&(Reverse(date_b), id_b))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo::item::s;

    fn item(sk: &str, body_bytes: usize) -> Item {
        Item::from([
            (GSI1SK.to_owned(), s(sk)),
            (keys::BODY.to_owned(), s("b".repeat(body_bytes))),
        ])
    }

    #[test]
    fn a_page_stops_at_the_byte_budget_but_holds_at_least_one_item() {
        let third = MAX_PAGE_BYTES.max() / 3;
        let items: Vec<Item> = (0..10).map(|i| item(&format!("d{i}#x"), third)).collect();
        assert_eq!(fitting(&items, 100), 3);
        assert_eq!(fitting(&items, 2), 2);
        let huge = vec![item("d#x", MAX_PAGE_BYTES.max() * 2)];
        assert_eq!(fitting(&huge, 10), 1);
        assert_eq!(needed(&items, 4, 100), 7, "3 fit after an offset of 4");
        assert_eq!(needed(&items[..5], 4, 100), 104, "not bound yet");
    }

    #[test]
    fn bodies_an_offset_skips_are_dropped_and_ties_keep_theirs() {
        let mut items = vec![
            item("2026-03#a", 10),
            item("2026-02#b", 10),
            item("2026-01#d", 10),
            item("2026-01#c", 10),
        ];
        drop_skipped_bodies(&mut items, 3);
        let lengths: Vec<usize> = items.iter().map(body_len).collect();
        assert_eq!(
            lengths,
            [0, 0, 10, 10],
            "ties with the pivot keep their body"
        );
        sort_for_listing(&mut items);
        let order: Vec<&str> = items.iter().map(|i| sort_parts(i).1).collect();
        assert_eq!(order, ["a", "b", "c", "d"]);
    }
}
