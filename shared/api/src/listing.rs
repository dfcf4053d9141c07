//! Every TMF630 listing but the inventory's: the query (`offset`/`limit`, `fields=`,
//! `cursor=` and the attribute filters of `q2c_model::filter`), and the two ways a page is
//! read.
//!
//! - **Offset pages** when every filter is one an index serves and no cursor is given: the
//!   store's `list`, with `X-Total-Count`.
//! - **Cursor pages** otherwise: the store's cursor scan after `cursor=`, each resource
//!   rendered as this version shows it and kept when the remaining filters match it, at most
//!   `maxFilterRead` resources read per request (`q2c_service::listing::filtered`); no
//!   `X-Total-Count`, since counting would read the whole tenant.
//!
//! Both answer `Link: <…&cursor=…>; rel="next"` while the listing goes on, so a client can
//! always page by cursor at the cost of what it reads.

use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use q2c_model::filter::{Attribute, Filter};
use q2c_service::listing::{CursorPage, ListCursor, Listed, Scan, Scanned, filtered};
use q2c_service::ports::{Listing, Page, StoreError};
use serde_json::Value;
use std::future::Future;

use crate::ApiConfig;
use crate::error::ApiError;
use crate::paging::{Fields, Params, count_headers, select};
use crate::response::json;

/// The parsed query of a listing.
#[derive(Debug)]
pub struct ListQuery {
    /// `offset` and `limit`.
    pub page: Page,
    /// `fields=`.
    pub fields: Option<Fields>,
    /// `cursor=`.
    pub cursor: Option<ListCursor>,
    /// The attribute filters; an index takes those it serves out of it.
    pub filter: Filter,
}

impl ListQuery {
    /// Parses a listing's query against the resource's filterable `attributes`.
    ///
    /// # Errors
    /// `INVALID_QUERY` naming the parameter: paging, `fields=`, a cursor this listing did not
    /// hand out, a `cursor=` beside an `offset`, or a filter ([`Filter::parse`]).
    pub fn parse(
        uri: &Uri,
        config: &ApiConfig,
        attributes: &[Attribute],
    ) -> Result<ListQuery, ApiError> {
        Self::parse_params(Params::from_uri(uri)?, config, attributes)
    }

    /// As [`ListQuery::parse`], from parameters a version has already mapped.
    ///
    /// # Errors
    /// As [`ListQuery::parse`].
    pub fn parse_params(
        mut params: Params,
        config: &ApiConfig,
        attributes: &[Attribute],
    ) -> Result<ListQuery, ApiError> {
        let page = params.page(config)?;
        let fields = params.fields()?;
        let cursor = params
            .take("cursor")?
            .map(|raw| ListCursor::decode(&raw))
            .transpose()
            .map_err(ApiError::InvalidQuery)?;
        if cursor.is_some() && page.offset > 0 {
            return Err(ApiError::InvalidQuery(
                "cursor: give either `cursor` or `offset`, not both".to_owned(),
            ));
        }
        let filter =
            Filter::parse(params.pairs(), attributes).map_err(|e| ApiError::InvalidQuery(e.0))?;
        Ok(ListQuery {
            page,
            fields,
            cursor,
            filter,
        })
    }

    /// Whether the page is an offset page: no cursor and no filter left for the scan.
    pub fn by_offset(&self) -> bool {
        self.cursor.is_none() && self.filter.is_empty()
    }
}

/// A listing's response: the offset page `list` reads when the query is
/// [`ListQuery::by_offset`], else the cursor page `scan` reads, kept by the filter on what
/// `render` makes of each resource; `fields=` applies after the filter.
///
/// # Errors
/// The first error of `list`, `scan` or `render`.
pub async fn respond<T, L, S, SFut>(
    uri: &Uri,
    query: ListQuery,
    list: L,
    scan: S,
    render: impl Fn(&T) -> Result<Value, ApiError>,
) -> Result<Response, ApiError>
where
    T: Listed,
    L: Future<Output = Result<Listing<T>, ApiError>>,
    S: FnMut(Scan) -> SFut,
    SFut: Future<Output = Result<Scanned<T>, StoreError>>,
{
    let ListQuery {
        page,
        fields,
        cursor,
        filter,
    } = query;
    let limit = page.limit;
    if cursor.is_none() && filter.is_empty() {
        let listing = list.await?;
        let items = listing
            .items
            .iter()
            .map(|item| render(item).map(|v| select(fields.as_ref(), v)))
            .collect::<Result<Vec<_>, _>>()?;
        let read = page.offset.saturating_add(items.len() as u64);
        let next = listing
            .items
            .last()
            .filter(|_| read < listing.total)
            .map(Listed::position);
        let mut headers = count_headers(listing.total, items.len());
        link_next(&mut headers, uri, next.as_ref(), limit);
        return Ok((headers, json(&items)).into_response());
    }
    let page: CursorPage<Value> = filtered(scan, cursor, limit, |item: &T| {
        let value = render(item)?;
        if !filter.matches(&value) {
            return Ok(None);
        }
        let value = select(fields.as_ref(), value);
        let size = serde_json::to_vec(&value).map_or(0, |b| b.len());
        Ok::<_, ApiError>(Some((value, size)))
    })
    .await?;
    let mut headers = HeaderMap::new();
    headers.insert("x-result-count", HeaderValue::from(page.items.len() as u64));
    link_next(&mut headers, uri, page.next.as_ref(), limit);
    Ok((headers, json(&page.items)).into_response())
}

/// `Link: <path?…&cursor=…>; rel="next"`: the request's own query without `offset` and
/// `cursor`, plus the next cursor (and `limit` when it was implied). Relative, as RFC 8288
/// allows: it resolves against the request's URL wherever the API is mounted.
fn link_next(headers: &mut HeaderMap, uri: &Uri, next: Option<&ListCursor>, limit: u64) {
    let Some(next) = next else { return };
    let mut query: Vec<String> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("offset=") && !p.starts_with("cursor="))
        .map(str::to_owned)
        .collect();
    if limit > 0 && !query.iter().any(|p| p.starts_with("limit=")) {
        query.push(format!("limit={limit}"));
    }
    query.push(format!("cursor={}", next.encode()));
    let link = format!("<{}?{}>; rel=\"next\"", uri.path(), query.join("&"));
    if let Ok(value) = HeaderValue::try_from(link) {
        headers.insert(header::LINK, value);
    }
}

#[cfg(test)]
mod tests {
    use q2c_model::filter::{
        Attribute, PRODUCT_OFFERING, PRODUCT_OFFERING_PRICE, PRODUCT_ORDER, QUOTE_V4, QUOTE_V5,
    };
    use serde_json::Value;

    /// The filters an operation's description lists: (name, ordered).
    fn described(document: &str, path: &str) -> Vec<(String, bool)> {
        let doc: Value = serde_json::from_str(document).expect("document");
        let text = doc["paths"][path]["get"]["description"]
            .as_str()
            .unwrap_or_else(|| panic!("{path} describes its filters"));
        let list = text
            .strip_prefix("Filters (TMF630 Part 1): ")
            .and_then(|rest| rest.split_once(". `attr=a,b`"))
            .map(|(list, _)| list)
            .expect("the filter list");
        list.split(", ")
            .map(|entry| {
                let ordered = entry.ends_with(" (ordered)");
                let name = entry.trim_end_matches(" (ordered)").trim_matches('`');
                (name.to_owned(), ordered)
            })
            .collect()
    }

    fn declared(attributes: &[Attribute]) -> Vec<(String, bool)> {
        attributes
            .iter()
            .map(|a| (a.name.to_owned(), a.kind.is_ordered()))
            .collect()
    }

    #[test]
    fn the_documents_list_the_filters_the_engine_takes() {
        use crate::openapi::{DOCUMENT, DOCUMENT_V5};
        let catalog = "/tmf-api/productCatalogManagement/v4";
        for (document, path, attributes) in [
            (
                DOCUMENT,
                "/tmf-api/quoteManagement/v4/quote".to_owned(),
                QUOTE_V4,
            ),
            (
                DOCUMENT_V5,
                "/tmf-api/quoteManagement/v5/quote".to_owned(),
                QUOTE_V5,
            ),
            (
                DOCUMENT,
                "/tmf-api/productOrderingManagement/v4/productOrder".to_owned(),
                PRODUCT_ORDER,
            ),
            (
                DOCUMENT,
                format!("{catalog}/productOffering"),
                PRODUCT_OFFERING,
            ),
            (
                DOCUMENT,
                format!("{catalog}/productOfferingPrice"),
                PRODUCT_OFFERING_PRICE,
            ),
        ] {
            let mut doc = described(document, &path);
            let mut model = declared(attributes);
            doc.sort();
            model.sort();
            assert_eq!(
                doc, model,
                "{path}: gen.py's list and q2c_model::filter's table"
            );
        }
    }
}
