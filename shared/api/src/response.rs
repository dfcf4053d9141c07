//! The response helpers every handler shares: a JSON body with our content type, a listing
//! page with its count headers, a `Location` URL. Low in the crate's module graph (it names
//! only `error`, `paging` and the root's `AppState`), so that `routes`, `version` and any other
//! module can use it.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use q2c_service::ports::Listing;
use serde::Serialize;
use serde_json::Value;

use crate::AppState;
use crate::error::{ApiError, JSON_UTF8};
use crate::paging::count_headers;

/// A 200 JSON response with our content type.
pub fn json<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8))],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error.message = %e, "response serialisation failed");
            ApiError::Internal.into_response()
        }
    }
}

/// A listing's 200: its page, each item rendered by `render`, with `X-Total-Count` and
/// `X-Result-Count` (every list endpoint answers this way).
pub fn listing_response<T>(
    listing: &Listing<T>,
    render: impl FnMut(&T) -> Result<Value, ApiError>,
) -> Result<Response, ApiError> {
    let items = listing
        .items
        .iter()
        .map(render)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((count_headers(listing.total, items.len()), json(&items)).into_response())
}

/// A 200 response with a JSON text as is.
pub fn json_text(text: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8))],
        text,
    )
        .into_response()
}

/// An absolute (or, with an empty base, root-relative) URL for a path of ours.
pub fn location(state: &AppState, path: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::try_from(format!("{}{path}", state.config.public_base_url))
        .map_err(|_| ApiError::Internal)
}
