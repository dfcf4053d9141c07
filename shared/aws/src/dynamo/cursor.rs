//! Cursor scans on DynamoDB ([`q2c_service::listing`]): the items of a `gsi1` listing after a
//! position, each read a Query that starts at the position (an `ExclusiveStartKey` or a key
//! condition), never reading what comes before it.
//!
//! A newest-first listing's sort key is `<date>#<id>` (undated `#<id>`, below every date).
//! The index orders a date's ties by id descending and the port by id ascending, so after a
//! position `(D, X)` the rest is three segments: the rest of `D` (`begins_with D#`, ascending,
//! from `D#X`), the older dates (descending, each date's ties read whole and sorted), then the
//! undated items (ascending). A catalog listing's sort key is the id: one ascending segment.

use futures::future::try_join_all;
use q2c_service::listing::{ListCursor, Scan, Scanned};

use super::DynamoStore;
use super::item::{Item, s};
use super::keys::{self, GSI1PK, GSI1SK, PK, SK};
use super::page;
use super::query::{QuerySpec, enough};
use crate::error::DynamoError;

/// How a listing's `gsi1` sort key is made.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortKey {
    /// `<date>#<id>`, newest first (quotes, orders).
    Dated,
    /// `<id>`, ascending (the catalog).
    Id,
}

/// One listing to scan.
pub(crate) struct ScanSpec<'a> {
    /// The query of the whole listing: `gsi1pk = :pk` (`:pk` unset) and any filter
    /// expression.
    pub base: QuerySpec,
    /// The listing's partitions (its write shards, [`keys::LISTING_SHARDS`]): each segment
    /// reads every one and merges.
    pub partitions: Vec<String>,
    /// The sort key's shape.
    pub sort: SortKey,
    /// A date range (sortable times) the listing is limited to: from (inclusive), to
    /// (exclusive).
    pub from: Option<String>,
    /// See `from`.
    pub to: Option<String>,
    /// The table key (`pk`, `sk`) of the item with an id.
    pub table_key: &'a (dyn Fn(&str) -> (String, String) + Sync),
}

/// One Query of a scan, on each partition.
struct Segment {
    spec: QuerySpec,
    /// Where it starts: the sort key and id of the position it continues after.
    start: Option<(String, String)>,
    /// Read newest first, so a date's ties come by id descending and are sorted.
    descending: bool,
}

impl ScanSpec<'_> {
    fn segment(&self, condition: &str, values: &[(&str, String)]) -> QuerySpec {
        let mut spec = self.base.clone();
        spec.key.text = format!("gsi1pk = :pk AND {condition}");
        spec.forward = true;
        for (name, value) in values {
            spec = spec.value(name, s(value.clone()));
        }
        spec
    }

    /// The `ExclusiveStartKey` of a position in `partition`.
    fn start_at(&self, partition: &str, (sort_key, id): &(String, String)) -> Item {
        let (pk, sk) = (self.table_key)(id);
        Item::from([
            (GSI1PK.to_owned(), s(partition.to_owned())),
            (GSI1SK.to_owned(), s(sort_key.clone())),
            (PK.to_owned(), s(pk)),
            (SK.to_owned(), s(sk)),
        ])
    }

    /// The dated items, newest first, below `below` (a sort key bound) and in the range.
    fn older(&self, below: Option<String>) -> Segment {
        let hi = match (below, self.to.clone()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let lo = self.from.clone().unwrap_or_else(|| "0".to_owned());
        let mut spec = match hi {
            Some(hi) => self.segment("gsi1sk BETWEEN :lo AND :hi", &[(":lo", lo), (":hi", hi)]),
            None => self.segment("gsi1sk >= :lo", &[(":lo", lo)]),
        };
        spec.forward = false;
        Segment {
            spec,
            start: None,
            descending: true,
        }
    }

    /// The undated items by id (after `after`), when no date range excludes them.
    fn undated(&self, after: Option<&str>) -> Option<Segment> {
        if self.from.is_some() || self.to.is_some() {
            return None;
        }
        Some(Segment {
            spec: self.segment("begins_with(gsi1sk, :undated)", &[(":undated", "#".into())]),
            start: after.map(|id| (keys::quotes_gsi1sk(None, id), id.to_owned())),
            descending: false,
        })
    }

    fn segments(&self, after: Option<&ListCursor>) -> Vec<Segment> {
        if self.sort == SortKey::Id {
            let mut spec = self.base.clone();
            spec.forward = true;
            return vec![Segment {
                spec,
                start: after.map(|c| (c.id.clone(), c.id.clone())),
                descending: false,
            }];
        }
        match after {
            None => [Some(self.older(None)), self.undated(None)]
                .into_iter()
                .flatten()
                .collect(),
            Some(ListCursor { date: None, id }) => self.undated(Some(id)).into_iter().collect(),
            Some(ListCursor { date: Some(at), id }) => {
                let group = format!("{}#", keys::sortable_time(*at));
                let in_range = self.from.as_ref().is_none_or(|f| group >= *f)
                    && self.to.as_ref().is_none_or(|t| group < *t);
                let same_date = in_range.then(|| Segment {
                    spec: self.segment("begins_with(gsi1sk, :group)", &[(":group", group.clone())]),
                    start: Some((keys::quotes_gsi1sk(Some(*at), id), id.clone())),
                    descending: false,
                });
                [same_date, Some(self.older(Some(group))), self.undated(None)]
                    .into_iter()
                    .flatten()
                    .collect()
            }
        }
    }
}

impl DynamoStore {
    /// At most `scan.max` items of `listing` after `scan.after`, decoded, and whether more
    /// follow.
    pub(crate) async fn scan_listing<T>(
        &self,
        listing: &ScanSpec<'_>,
        scan: &Scan,
        decode: impl Fn(&Item) -> Result<T, DynamoError>,
    ) -> Result<Scanned<T>, DynamoError> {
        let wanted = usize::try_from(scan.max.saturating_add(1)).unwrap_or(usize::MAX);
        let mut found: Vec<Item> = Vec::new();
        for segment in listing.segments(scan.after.as_ref()) {
            let need = wanted - found.len();
            if need == 0 {
                break;
            }
            let evaluate = i32::try_from(need).unwrap_or(i32::MAX);
            // Each partition's first `need` (and, newest first, the rest of the date at their
            // edge) hold the segment's first `need` of all partitions.
            let reads = listing.partitions.iter().map(|partition| {
                let start = segment
                    .start
                    .as_ref()
                    .map(|p| listing.start_at(partition, p));
                let spec = segment.spec.on(partition);
                let descending = segment.descending;
                async move {
                    self.query_from(&spec, start, Some(evaluate), |items| {
                        if descending {
                            !enough(items, need)
                        } else {
                            items.len() < need
                        }
                    })
                    .await
                }
            });
            // The partitions are read concurrently.
            let mut items: Vec<Item> = try_join_all(reads).await?.into_iter().flatten().collect();
            if segment.descending {
                page::sort_for_listing(&mut items);
            } else {
                items.sort_by(|a, b| sort_key(a).cmp(sort_key(b)));
            }
            items.truncate(need);
            found.extend(items);
        }
        let decoded = found.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        Ok(Scanned::from_overfetch(decoded, scan.max))
    }
}

fn sort_key(item: &Item) -> &str {
    item.get(GSI1SK)
        .and_then(|v| v.as_s().ok())
        .map_or("", String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;
    use time::macros::datetime;

    fn text(value: &AttributeValue) -> &str {
        value.as_s().map(String::as_str).unwrap_or_default()
    }

    fn listing(from: Option<&str>, to: Option<&str>) -> ScanSpec<'static> {
        ScanSpec {
            base: QuerySpec::new(Some(keys::GSI1), "gsi1pk = :pk"),
            partitions: vec!["T#a#QUOTES#0".into()],
            sort: SortKey::Dated,
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
            table_key: &|id| (format!("T#a#QUOTE#{id}"), "QUOTE".into()),
        }
    }

    #[test]
    fn after_a_position_come_its_date_the_older_dates_and_the_undated() {
        let at = datetime!(2026-03-01 10:00 UTC);
        let cursor = ListCursor::after(Some(at), "q-5");
        let segments = listing(None, None).segments(Some(&cursor));
        let keys: Vec<&str> = segments.iter().map(|s| s.spec.key.text.as_str()).collect();
        assert_eq!(
            keys,
            [
                "gsi1pk = :pk AND begins_with(gsi1sk, :group)",
                "gsi1pk = :pk AND gsi1sk BETWEEN :lo AND :hi",
                "gsi1pk = :pk AND begins_with(gsi1sk, :undated)",
            ]
        );
        let position = segments[0].start.as_ref().expect("starts at the cursor");
        let start = listing(None, None).start_at("T#a#QUOTES#3", position);
        assert_eq!(text(&start[GSI1SK]), "2026-03-01T10:00:00.000000000Z#q-5");
        assert_eq!(text(&start[GSI1PK]), "T#a#QUOTES#3");
        assert_eq!(text(&start[PK]), "T#a#QUOTE#q-5");
        assert_eq!(
            text(&segments[1].spec.key.values[":hi"]),
            "2026-03-01T10:00:00.000000000Z#"
        );
        assert!(segments[1].descending && !segments[1].spec.forward);
    }

    #[test]
    fn a_date_range_bounds_the_older_dates_and_leaves_out_the_undated() {
        let at = datetime!(2026-03-01 10:00 UTC);
        let cursor = ListCursor::after(Some(at), "q-5");
        let from = "2026-02-01T00:00:00.000000000Z";
        let segments = listing(Some(from), None).segments(Some(&cursor));
        assert_eq!(segments.len(), 2, "no undated segment under a date bound");
        assert_eq!(text(&segments[1].spec.key.values[":lo"]), from);
        // A cursor outside the range (forged) reads no rest of its date.
        let to = "2026-02-15T00:00:00.000000000Z";
        let segments = listing(Some(from), Some(to)).segments(Some(&cursor));
        assert_eq!(segments.len(), 1);
        assert_eq!(text(&segments[0].spec.key.values[":hi"]), to);
    }
}
