use time::macros::datetime;

use super::*;

#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: String,
    date: Option<OffsetDateTime>,
    size: usize,
}

impl Listed for Row {
    fn position(&self) -> ListCursor {
        ListCursor::after(self.date, &self.id)
    }
}

/// `n` rows in listing order (one per day, newest first), every third "red".
fn rows(n: usize) -> Vec<Row> {
    (0..n)
        .map(|i| Row {
            id: format!("r{i:04}"),
            date: Some(datetime!(2026-01-01 0:00 UTC) - time::Duration::days(i as i64)),
            size: 10,
        })
        .collect()
}

/// A store read over `rows`: after the cursor's row (found by id), `max` rows; counts reads.
fn read<'a>(
    rows: &'a [Row],
    reads: &'a std::cell::Cell<u64>,
) -> impl FnMut(Scan) -> std::future::Ready<Result<Scanned<Row>, StoreError>> + 'a {
    move |scan: Scan| {
        let start = scan.after.map_or(0, |c| {
            rows.iter().position(|r| r.id == c.id).expect("known") + 1
        });
        let rest: Vec<Row> = rows[start..]
            .iter()
            .take(scan.max as usize + 1)
            .cloned()
            .collect();
        let scanned = Scanned::from_overfetch(rest, scan.max);
        reads.set(reads.get() + scanned.items.len() as u64);
        std::future::ready(Ok(scanned))
    }
}

fn red(row: &Row) -> Result<Option<(String, usize)>, StoreError> {
    let n: usize = row.id[1..].parse().expect("number");
    Ok(n.is_multiple_of(3).then(|| (row.id.clone(), row.size)))
}

#[tokio::test]
async fn pages_follow_each_other_with_no_row_twice_or_missed() {
    let all = rows(100);
    let reads = std::cell::Cell::new(0);
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = filtered(read(&all, &reads), after, 7, red).await.unwrap();
        assert!(page.items.len() <= 7);
        seen.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let expected: Vec<String> = (0..100).step_by(3).map(|i| format!("r{i:04}")).collect();
    assert_eq!(seen, expected);
    // Each page re-reads at most what the previous one read past its end.
    assert!(reads.get() <= 2 * 100, "read {} rows", reads.get());
}

#[tokio::test]
async fn a_selective_filter_reads_at_most_the_budget_and_hands_back_a_cursor() {
    let all = rows(2_500);
    let reads = std::cell::Cell::new(0);
    let none = |_: &Row| Ok::<_, StoreError>(None::<(String, usize)>);

    let page = filtered(read(&all, &reads), None, 10, none).await.unwrap();

    assert!(page.items.is_empty());
    assert_eq!(reads.get(), MAX_FILTER_READ.max() as u64);
    assert_eq!(page.next.map(|c| c.id), Some("r0999".to_owned()));
}

#[tokio::test]
async fn the_last_page_has_no_cursor() {
    let all = rows(6);
    let reads = std::cell::Cell::new(0);
    let page = filtered(read(&all, &reads), None, 2, red).await.unwrap();
    assert_eq!(page.items, ["r0000", "r0003"]);
    assert_eq!(page.next.as_ref().map(|c| c.id.as_str()), Some("r0003"));
    let last = filtered(read(&all, &reads), page.next, 2, red)
        .await
        .unwrap();
    assert!(last.items.is_empty());
    assert_eq!(last.next, None);
}

#[tokio::test]
async fn a_page_stops_at_the_byte_budget_and_the_next_starts_with_what_did_not_fit() {
    let mut all = rows(4);
    for row in &mut all {
        row.size = MAX_PAGE_BYTES.max() / 2 + 1;
    }
    let reads = std::cell::Cell::new(0);
    let every = |row: &Row| Ok::<_, StoreError>(Some((row.id.clone(), row.size)));

    let first = filtered(read(&all, &reads), None, 10, every).await.unwrap();
    assert_eq!(first.items, ["r0000"]);
    let second = filtered(read(&all, &reads), first.next, 10, every)
        .await
        .unwrap();
    assert_eq!(second.items, ["r0001"]);
}

#[test]
fn a_cursor_reads_back_and_a_forged_one_is_refused() {
    for cursor in [
        ListCursor::after(Some(datetime!(2026-03-01 10:00:00.123456789 UTC)), "q-1"),
        ListCursor::after(None, "id with spaces,and\ncommas"),
    ] {
        assert_eq!(ListCursor::decode(&cursor.encode()), Ok(cursor));
    }
    for forged in [
        "",
        "!!",
        "YWJj",
        &URL_SAFE_NO_PAD.encode("c1\nyesterday\nq-1"),
    ] {
        assert!(ListCursor::decode(forged).is_err(), "{forged}");
    }
    let long = URL_SAFE_NO_PAD.encode(format!("c1\n\n{}", "x".repeat(257)));
    assert!(ListCursor::decode(&long).is_err());
}
