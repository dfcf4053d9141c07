//! Cursor paging and filtered pages: the foundation of every listing beside [`Page`]'s
//! offset.
//!
//! A listing is ordered newest first by its date (quotes by `quoteDate`, orders by
//! `orderDate`), ties by id ascending, undated resources last by id; the catalog, which has no
//! listing date, is ordered by id. A [`ListCursor`] is a position in that order (the date and
//! id of the last resource read), so both stores continue from it with an index seek: a page
//! after a cursor costs what it reads, however deep it is, and stays right when resources are
//! inserted before it (no resource twice, none missed that existed when the first page was
//! read and was not deleted since).
//!
//! [`filtered`] reads a bounded number of stored resources ([`MAX_FILTER_READ`]) after a
//! cursor and keeps those a filter no index serves matches: a page can come back short, even
//! empty, with the cursor to read on.
//!
//! [`Page`]: crate::store::Page

use std::cmp::Ordering;
use std::future::Future;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use q2c_model::limits::{MAX_FILTER_READ, MAX_PAGE_BYTES};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::store::StoreError;

/// A position in a listing: the listing date (`None` when undated, and always in the
/// catalog) and the id of the last resource read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCursor {
    /// The listing date of the resource.
    pub date: Option<OffsetDateTime>,
    /// Its id.
    pub id: String,
}

const CURSOR_VERSION: &str = "c1";

impl ListCursor {
    /// The cursor after a resource.
    pub fn after(date: Option<OffsetDateTime>, id: &str) -> ListCursor {
        ListCursor {
            date,
            id: id.to_owned(),
        }
    }

    /// The opaque text a client sends back (`cursor=`): URL-safe base64.
    pub fn encode(&self) -> String {
        let date = self
            .date
            .and_then(|d| d.format(&Rfc3339).ok())
            .unwrap_or_default();
        URL_SAFE_NO_PAD.encode(format!("{CURSOR_VERSION}\n{date}\n{}", self.id))
    }

    /// Reads back a cursor from [`ListCursor::encode`].
    ///
    /// # Errors
    /// A message when the text is not such a cursor.
    pub fn decode(text: &str) -> Result<ListCursor, String> {
        let invalid = || format!("cursor: `{text}` is not a cursor this listing handed out");
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let plain = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = plain.splitn(3, '\n');
        let (Some(CURSOR_VERSION), Some(date), Some(id)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        if id.is_empty() || id.chars().count() > q2c_model::limits::MAX_ID_LENGTH.max() {
            return Err(invalid());
        }
        let date = match date {
            "" => None,
            d => Some(OffsetDateTime::parse(d, &Rfc3339).map_err(|_| invalid())?),
        };
        Ok(ListCursor {
            date,
            id: id.to_owned(),
        })
    }
}

/// A resource's place in its listing.
pub trait Listed {
    /// The cursor just after this resource.
    fn position(&self) -> ListCursor;
}

/// A read of at most `max` resources in listing order after `after` (from the start without
/// one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// Where to continue.
    pub after: Option<ListCursor>,
    /// Most resources to return.
    pub max: u64,
}

/// What a [`Scan`] read, in listing order; `more` when resources follow the last one.
#[derive(Debug, Clone, PartialEq)]
pub struct Scanned<T> {
    /// The resources.
    pub items: Vec<T>,
    /// Whether the listing goes on after them.
    pub more: bool,
}

impl<T> Scanned<T> {
    /// The result of a read that asked for `max + 1` rows and found `rows`: at most `max`,
    /// and `more` when the extra one was there.
    pub fn from_overfetch(mut rows: Vec<T>, max: u64) -> Scanned<T> {
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        let more = rows.len() > max;
        rows.truncate(max);
        Scanned { items: rows, more }
    }
}

/// Listing order of two positions: the newer date first, undated last, then by id.
pub fn listing_order(a: &ListCursor, b: &ListCursor) -> Ordering {
    match (a.date, b.date) {
        (Some(x), Some(y)) => y.cmp(&x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
    .then_with(|| a.id.cmp(&b.id))
}

/// The [`Scan`] of a whole listing held in memory (any order): what follows the cursor, in
/// listing order.
pub fn scan_in_memory<T: Listed>(mut all: Vec<T>, scan: &Scan) -> Scanned<T> {
    all.sort_by(|a, b| listing_order(&a.position(), &b.position()));
    let rest: Vec<T> = all
        .into_iter()
        .filter(|item| {
            scan.after
                .as_ref()
                .is_none_or(|after| listing_order(&item.position(), after) == Ordering::Greater)
        })
        .collect();
    Scanned::from_overfetch(rest, scan.max)
}

/// A page of a cursor listing: the kept resources (rendered) and the cursor to read on, if
/// the listing goes on.
#[derive(Debug, Clone, PartialEq)]
pub struct CursorPage<V> {
    /// The page.
    pub items: Vec<V>,
    /// The position after the last resource read, when more may follow.
    pub next: Option<ListCursor>,
}

/// How many resources one read of [`filtered`] asks a store for: small enough that a read of
/// the largest resources stays within a few `maxPageBytes`, large enough that a selective
/// filter does not cost a round trip per match.
const SCAN_CHUNK: u64 = 50;

/// One page of a listing after `after`: reads resources in listing order with `read`, at most
/// [`MAX_FILTER_READ`] of them, and keeps what `keep` renders (`Some((value, bytes))`) until
/// `limit` are kept or they reach [`MAX_PAGE_BYTES`] (always at least one). The page's
/// cursor is the position after the last resource read (kept or not), or `None` at the end.
///
/// # Errors
/// The first error of `read` or `keep`.
pub async fn filtered<T, V, E, R, Fut>(
    mut read: R,
    after: Option<ListCursor>,
    limit: u64,
    mut keep: impl FnMut(&T) -> Result<Option<(V, usize)>, E>,
) -> Result<CursorPage<V>, E>
where
    T: Listed,
    E: From<StoreError>,
    R: FnMut(Scan) -> Fut,
    Fut: Future<Output = Result<Scanned<T>, StoreError>>,
{
    let limit = usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
    let mut budget = MAX_FILTER_READ.max() as u64;
    let mut position = after;
    let mut items = Vec::new();
    let mut bytes = 0usize;
    // The first read asks for a page; each further one for twice as many (a selective filter),
    // up to `SCAN_CHUNK`: what is read past the page's end is read again by the next page.
    let mut chunk = (limit as u64).clamp(1, SCAN_CHUNK);
    loop {
        let scanned = read(Scan {
            after: position.clone(),
            max: budget.min(chunk),
        })
        .await?;
        chunk = (chunk * 2).min(SCAN_CHUNK);
        budget = budget.saturating_sub(scanned.items.len() as u64);
        let read_all = scanned.items.len();
        for (at, item) in scanned.items.iter().enumerate() {
            if let Some((value, size)) = keep(item)? {
                if !items.is_empty() && bytes + size > MAX_PAGE_BYTES.max() {
                    // It does not fit: the next page starts with it.
                    return Ok(CursorPage {
                        items,
                        next: position,
                    });
                }
                bytes += size;
                items.push(value);
            }
            position = Some(item.position());
            let last = at + 1 == read_all && !scanned.more;
            if items.len() == limit {
                let next = if last { None } else { position };
                return Ok(CursorPage { items, next });
            }
        }
        if !scanned.more {
            return Ok(CursorPage { items, next: None });
        }
        if budget == 0 || read_all == 0 {
            return Ok(CursorPage {
                items,
                next: position,
            });
        }
    }
}

#[cfg(test)]
mod tests;
